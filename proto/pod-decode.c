/* Pod decoding and validation: Kubernetes v1 Pod JSON -> api_pod_t.
 *
 * Every object is first checked against the fields nodelet knows, so an
 * unsupported field is refused with its path ("spec.containers[1].lifecycle:
 * not supported") before anything else is read. Paths are written as
 * Kubernetes writes them: ".field", "[index]", and "[key]" for map keys that
 * are not plain identifiers ("resources.limits[example.com/dongle]"). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/api-internal.h"

#define PATH_MAX_LEN 384

struct dctx {
	int flags;
	api_error_t *err;
};

static bool is_ident(const char *k)
{
	if (!*k)
		return false;
	for (const char *p = k; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
			return false;
	return true;
}

/* buf = a + b + c + d, cut short at n - 1 bytes (paths are only shown). */
static void join(char *buf, size_t n, const char *a, const char *b, const char *c, const char *d)
{
	const char *parts[] = {a, b, c, d};
	size_t len = 0;
	for (size_t i = 0; i < 4; i++) {
		size_t l = strlen(parts[i]);
		if (l > n - 1 - len)
			l = n - 1 - len;
		memmove(buf + len, parts[i], l);
		len += l;
	}
	buf[len] = '\0';
}

/* buf = path + "." + key (or "[key]" when key is not an identifier). */
static const char *child(char *buf, size_t n, const char *path, const char *key)
{
	if (!is_ident(key))
		join(buf, n, path, "[", key, "]");
	else
		join(buf, n, path, *path ? "." : "", key, "");
	return buf;
}

static const char *index_path(char *buf, size_t n, const char *path, size_t i)
{
	char idx[24];
	snprintf(idx, sizeof(idx), "%zu", i);
	join(buf, n, path, "[", idx, "]");
	return buf;
}

static int fail(struct dctx *c, const char *path, const char *what)
{
	return api__errorf(c->err, "%s: %s", path, what);
}

/* Refuses the first key of obj that is neither in known nor in ignored. */
static int check_keys(struct dctx *c, const json_t *obj, const char *path, const char *const *known)
{
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)obj, key, v)
	{
		bool ok = false;
		for (const char *const *k = known; *k; k++)
			if (strcmp(*k, key) == 0)
				ok = true;
		if (!ok) {
			char p[PATH_MAX_LEN];
			return fail(c, child(p, sizeof(p), path, key), "not supported");
		}
	}
	return 0;
}

/* Optional string field: absent or null -> *out NULL. */
static int get_str(struct dctx *c, const json_t *obj, const char *key, const char *path,
		   bool required, char **out)
{
	char p[PATH_MAX_LEN];
	json_t *v = json_object_get(obj, key);
	*out = NULL;
	if (!v || json_is_null(v) || (json_is_string(v) && required && !*json_string_value(v))) {
		if (required)
			return fail(c, child(p, sizeof(p), path, key), "required");
		return 0;
	}
	if (!json_is_string(v))
		return fail(c, child(p, sizeof(p), path, key), "expected string");
	*out = api__xstrdup(json_string_value(v));
	return 0;
}

static int get_strv(struct dctx *c, const json_t *obj, const char *key, const char *path,
		    char ***out)
{
	char p[PATH_MAX_LEN];
	json_t *v = json_object_get(obj, key), *e;
	size_t i;
	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return fail(c, child(p, sizeof(p), path, key), "expected array of strings");
	json_array_foreach(v, i, e)
	{
		if (!json_is_string(e))
			return fail(c, child(p, sizeof(p), path, key), "expected array of strings");
	}
	char **sv = api__xcalloc(json_array_size(v) + 1, sizeof(char *));
	json_array_foreach(v, i, e) sv[i] = api__xstrdup(json_string_value(e));
	*out = sv;
	return 0;
}

static int get_int(struct dctx *c, const json_t *obj, const char *key, const char *path,
		   int64_t *out)
{
	char p[PATH_MAX_LEN];
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v))
		return fail(c, child(p, sizeof(p), path, key), "expected integer");
	*out = json_integer_value(v);
	return 0;
}

/* A label key: [prefix/]name, prefix a DNS subdomain, name 1-63 of
 * [A-Za-z0-9-_.] starting and ending alphanumeric. Values: the same
 * alphabet, 0-63 characters. */
static bool label_name_ok(const char *s, size_t n, bool allow_empty)
{
	if (n == 0)
		return allow_empty;
	if (n > 63)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		bool an = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			  (ch >= '0' && ch <= '9');
		if (!an && ((i == 0 || i == n - 1) || (ch != '-' && ch != '_' && ch != '.')))
			return false;
	}
	return true;
}

static bool label_key_ok(const char *k)
{
	const char *slash = strchr(k, '/');
	if (!slash)
		return label_name_ok(k, strlen(k), false);
	char prefix[256];
	size_t pl = (size_t)(slash - k);
	if (pl == 0 || pl >= sizeof(prefix))
		return false;
	memcpy(prefix, k, pl);
	prefix[pl] = '\0';
	return api_is_dns1123_subdomain(prefix) &&
	       label_name_ok(slash + 1, strlen(slash + 1), false);
}

enum map_kind { MAP_PLAIN, MAP_LABELS };

static int get_map(struct dctx *c, const json_t *obj, const char *key, const char *path,
		   enum map_kind kind, api_kvlist_t *out)
{
	char p[PATH_MAX_LEN], q[PATH_MAX_LEN];
	json_t *v = json_object_get(obj, key), *e;
	const char *k;
	if (!v || json_is_null(v))
		return 0;
	child(p, sizeof(p), path, key);
	if (!json_is_object(v))
		return fail(c, p, "expected object");
	json_object_foreach(v, k, e)
	{
		child(q, sizeof(q), p, k);
		if (!json_is_string(e))
			return fail(c, q, "expected string");
		if (kind == MAP_LABELS && !label_key_ok(k))
			return api__errorf(
			    c->err,
			    "%s: invalid label key \"%s\": must be [prefix/]name, name "
			    "1-63 of letters, digits, '-', '_' and '.'",
			    q, k);
		const char *s = json_string_value(e);
		if (kind == MAP_LABELS && !label_name_ok(s, strlen(s), true))
			return api__errorf(
			    c->err,
			    "%s: invalid label value \"%s\": at most 63 of letters, "
			    "digits, '-', '_' and '.', starting and ending alphanumeric",
			    q, s);
		api_kv_set(out, k, s);
	}
	return 0;
}

static int get_obj(struct dctx *c, const json_t *obj, const char *key, const char *path,
		   bool required, json_t **out)
{
	char p[PATH_MAX_LEN];
	json_t *v = json_object_get(obj, key);
	*out = NULL;
	if (!v || json_is_null(v)) {
		if (required)
			return fail(c, child(p, sizeof(p), path, key), "required");
		return 0;
	}
	if (!json_is_object(v))
		return fail(c, child(p, sizeof(p), path, key), "expected object");
	*out = v;
	return 0;
}

static int get_time(struct dctx *c, const json_t *obj, const char *key, const char *path,
		    int64_t *out)
{
	char p[PATH_MAX_LEN];
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v) || api_parse_time(json_string_value(v), out) < 0)
		return fail(c, child(p, sizeof(p), path, key), "expected an RFC 3339 time");
	return 0;
}

/* ---- metadata ---------------------------------------------------------- */

static int decode_metadata(struct dctx *c, const json_t *m, api_pod_t *pod)
{
	static const char *const known[] = {"name",
					    "namespace",
					    "labels",
					    "annotations",
					    "uid",
					    "creationTimestamp",
					    "deletionTimestamp",
					    "generation",
					    "resourceVersion",
					    NULL};
	int r;
	bool stored = c->flags & API_DECODE_STORED;

	if ((r = check_keys(c, m, "metadata", known)) < 0)
		return r;
	if ((r = get_str(c, m, "name", "metadata", true, &pod->name)) < 0)
		return r;
	if (!api_is_dns1123_subdomain(pod->name))
		return api__errorf(
		    c->err,
		    "metadata.name: invalid name \"%s\": must be a DNS-1123 subdomain "
		    "(lowercase letters, digits, '-' and '.', at most 253 characters)",
		    pod->name);
	if ((r = get_str(c, m, "namespace", "metadata", false, &pod->namespace_)) < 0)
		return r;
	if (!pod->namespace_)
		pod->namespace_ = api__xstrdup("default");
	else if (!api_is_dns1123_label(pod->namespace_))
		return api__errorf(
		    c->err,
		    "metadata.namespace: invalid namespace \"%s\": must be a DNS-1123 "
		    "label (lowercase letters, digits and '-', at most 63 characters)",
		    pod->namespace_);
	if ((r = get_map(c, m, "labels", "metadata", MAP_LABELS, &pod->labels)) < 0)
		return r;
	if ((r = get_map(c, m, "annotations", "metadata", MAP_PLAIN, &pod->annotations)) < 0)
		return r;
	if (!stored)
		return 0; /* system metadata is the server's to set */

	if ((r = get_str(c, m, "uid", "metadata", false, &pod->uid)) < 0)
		return r;
	if ((r = get_time(c, m, "creationTimestamp", "metadata", &pod->creation_timestamp)) < 0)
		return r;
	if ((r = get_time(c, m, "deletionTimestamp", "metadata", &pod->deletion_timestamp)) < 0)
		return r;
	if ((r = get_int(c, m, "generation", "metadata", &pod->generation)) < 0)
		return r;
	json_t *rv = json_object_get(m, "resourceVersion");
	if (json_is_string(rv)) {
		char *end;
		pod->resource_version = strtoll(json_string_value(rv), &end, 10);
		if (*end || end == json_string_value(rv))
			return fail(c, "metadata.resourceVersion", "expected a decimal string");
	} else if (json_is_integer(rv)) {
		pod->resource_version = json_integer_value(rv);
	} else if (rv && !json_is_null(rv)) {
		return fail(c, "metadata.resourceVersion", "expected string");
	}
	return 0;
}

/* ---- containers -------------------------------------------------------- */

static int decode_quantities(struct dctx *c, const json_t *res, const char *key, const char *path,
			     api_resource_list_t *out)
{
	char p[PATH_MAX_LEN], q[PATH_MAX_LEN], tmp[64];
	json_t *obj, *v;
	const char *k;
	int r;
	out->cpu_millis = -1;
	out->memory_bytes = -1;
	if ((r = get_obj(c, res, key, path, false, &obj)) < 0 || !obj)
		return r;
	child(p, sizeof(p), path, key);
	json_object_foreach(obj, k, v)
	{
		bool cpu = strcmp(k, "cpu") == 0;
		child(q, sizeof(q), p, k);
		if (!cpu && strcmp(k, "memory") != 0)
			return fail(c, q, "not supported");
		const char *s;
		if (json_is_string(v)) {
			s = json_string_value(v);
		} else if (json_is_integer(v)) {
			snprintf(tmp, sizeof(tmp), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
			s = tmp;
		} else if (json_is_real(v)) {
			snprintf(tmp, sizeof(tmp), "%.9f", json_real_value(v));
			s = tmp;
		} else {
			return fail(c, q, "expected a quantity string");
		}
		r = cpu ? api_quantity_parse_cpu(s, &out->cpu_millis)
			: api_quantity_parse_memory(s, &out->memory_bytes);
		if (r < 0)
			return api__errorf(c->err, "%s: invalid quantity \"%s\"", q, s);
	}
	return 0;
}

static int decode_resources(struct dctx *c, const json_t *ct, const char *path,
			    api_resources_t *res)
{
	static const char *const known[] = {"requests", "limits", NULL};
	char p[PATH_MAX_LEN];
	json_t *r_obj;
	int r;
	res->requests.cpu_millis = res->requests.memory_bytes = -1;
	res->limits.cpu_millis = res->limits.memory_bytes = -1;
	if ((r = get_obj(c, ct, "resources", path, false, &r_obj)) < 0 || !r_obj)
		return r;
	child(p, sizeof(p), path, "resources");
	if ((r = check_keys(c, r_obj, p, known)) < 0)
		return r;
	if ((r = decode_quantities(c, r_obj, "requests", p, &res->requests)) < 0)
		return r;
	if ((r = decode_quantities(c, r_obj, "limits", p, &res->limits)) < 0)
		return r;
	if (res->limits.cpu_millis >= 0 && res->requests.cpu_millis > res->limits.cpu_millis)
		return api__errorf(c->err,
				   "%s.requests.cpu: must be less than or equal to cpu limit", p);
	if (res->limits.memory_bytes >= 0 && res->requests.memory_bytes > res->limits.memory_bytes)
		return api__errorf(
		    c->err, "%s.requests.memory: must be less than or equal to memory limit", p);
	return 0;
}

static bool port_name_ok(const char *s)
{
	size_t n = strlen(s);
	bool letter = false;
	if (n == 0 || n > 15 || s[0] == '-' || s[n - 1] == '-' || strstr(s, "--"))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] >= 'a' && s[i] <= 'z')
			letter = true;
		else if (!(s[i] >= '0' && s[i] <= '9') && s[i] != '-')
			return false;
	}
	return letter;
}

static int decode_ports(struct dctx *c, const json_t *ct, const char *path, api_container_t *out)
{
	static const char *const known[] = {"name", "containerPort", "protocol", NULL};
	char p[PATH_MAX_LEN], q[PATH_MAX_LEN], f[PATH_MAX_LEN];
	json_t *v = json_object_get(ct, "ports"), *e;
	size_t i;
	int r;
	if (!v || json_is_null(v))
		return 0;
	child(p, sizeof(p), path, "ports");
	if (!json_is_array(v))
		return fail(c, p, "expected array");
	out->ports = api__xcalloc(json_array_size(v), sizeof(api_port_t));
	json_array_foreach(v, i, e)
	{
		api_port_t *port = &out->ports[i];
		index_path(q, sizeof(q), p, i);
		if (!json_is_object(e))
			return fail(c, q, "expected object");
		out->nports = i + 1;
		if ((r = check_keys(c, e, q, known)) < 0)
			return r;
		if ((r = get_str(c, e, "name", q, false, &port->name)) < 0)
			return r;
		if (port->name && !port_name_ok(port->name))
			return api__errorf(c->err,
					   "%s.name: invalid port name \"%s\": 1-15 of lowercase "
					   "letters, digits and '-', with at least one letter",
					   q, port->name);
		json_t *cp = json_object_get(e, "containerPort");
		child(f, sizeof(f), q, "containerPort");
		if (!cp || json_is_null(cp))
			return fail(c, f, "required");
		if (!json_is_integer(cp))
			return fail(c, f, "expected integer");
		if (json_integer_value(cp) < 1 || json_integer_value(cp) > 65535)
			return fail(c, f, "must be between 1 and 65535");
		port->container_port = (int32_t)json_integer_value(cp);
		if ((r = get_str(c, e, "protocol", q, false, &port->protocol)) < 0)
			return r;
		if (!port->protocol)
			port->protocol = api__xstrdup("TCP");
		else if (strcmp(port->protocol, "TCP") && strcmp(port->protocol, "UDP") &&
			 strcmp(port->protocol, "SCTP"))
			return api__errorf(
			    c->err,
			    "%s.protocol: unsupported value \"%s\": must be TCP, UDP or "
			    "SCTP",
			    q, port->protocol);
	}
	return 0;
}

static int decode_env(struct dctx *c, const json_t *ct, const char *path, api_kvlist_t *env)
{
	static const char *const known[] = {"name", "value", NULL};
	char p[PATH_MAX_LEN], q[PATH_MAX_LEN];
	json_t *v = json_object_get(ct, "env"), *e;
	size_t i;
	int r;
	if (!v || json_is_null(v))
		return 0;
	child(p, sizeof(p), path, "env");
	if (!json_is_array(v))
		return fail(c, p, "expected array");
	json_array_foreach(v, i, e)
	{
		char *name = NULL, *value = NULL;
		index_path(q, sizeof(q), p, i);
		if (!json_is_object(e))
			return fail(c, q, "expected object");
		if ((r = check_keys(c, e, q, known)) < 0)
			return r;
		if ((r = get_str(c, e, "name", q, true, &name)) < 0)
			return r;
		if (strchr(name, '=')) {
			r = api__errorf(
			    c->err, "%s.name: invalid name \"%s\": must not contain '='", q, name);
			free(name);
			return r;
		}
		if ((r = get_str(c, e, "value", q, false, &value)) < 0) {
			free(name);
			return r;
		}
		api_kv_set(env, name, value ? value : "");
		free(name);
		free(value);
	}
	return 0;
}

static int decode_container(struct dctx *c, const json_t *ct, const char *path,
			    api_container_t *out)
{
	static const char *const known[] = {
	    "name",	  "image", "imagePullPolicy", "command",   "args",
	    "workingDir", "env",   "ports",	      "resources", NULL};
	int r;
	if ((r = check_keys(c, ct, path, known)) < 0)
		return r;
	if ((r = get_str(c, ct, "name", path, true, &out->name)) < 0)
		return r;
	if (!api_is_dns1123_label(out->name))
		return api__errorf(
		    c->err,
		    "%s.name: invalid name \"%s\": must be a DNS-1123 label (lowercase "
		    "letters, digits and '-', at most 63 characters)",
		    path, out->name);
	if ((r = get_str(c, ct, "image", path, true, &out->image)) < 0)
		return r;
	if ((r = get_str(c, ct, "imagePullPolicy", path, false, &out->image_pull_policy)) < 0)
		return r;
	if (out->image_pull_policy && strcmp(out->image_pull_policy, "Always") &&
	    strcmp(out->image_pull_policy, "IfNotPresent") &&
	    strcmp(out->image_pull_policy, "Never"))
		return api__errorf(c->err,
				   "%s.imagePullPolicy: unsupported value \"%s\": must be Always, "
				   "IfNotPresent or Never",
				   path, out->image_pull_policy);
	if ((r = get_strv(c, ct, "command", path, &out->command)) < 0)
		return r;
	if ((r = get_strv(c, ct, "args", path, &out->args)) < 0)
		return r;
	if ((r = get_str(c, ct, "workingDir", path, false, &out->working_dir)) < 0)
		return r;
	if (out->working_dir && out->working_dir[0] != '/')
		return api__errorf(c->err, "%s.workingDir: must be an absolute path", path);
	if ((r = decode_env(c, ct, path, &out->env)) < 0)
		return r;
	if ((r = decode_ports(c, ct, path, out)) < 0)
		return r;
	return decode_resources(c, ct, path, &out->resources);
}

/* ---- spec -------------------------------------------------------------- */

static int decode_spec(struct dctx *c, const json_t *s, api_pod_t *pod)
{
	static const char *const known[] = {"containers",
					    "restartPolicy",
					    "nodeSelector",
					    "nodeName",
					    "terminationGracePeriodSeconds",
					    NULL};
	api_pod_spec_t *spec = &pod->spec;
	char q[PATH_MAX_LEN];
	json_t *cts, *ct;
	size_t i;
	int r;
	if ((r = check_keys(c, s, "spec", known)) < 0)
		return r;
	spec->termination_grace_period_seconds = 30;

	cts = json_object_get(s, "containers");
	if (!cts || json_is_null(cts) || (json_is_array(cts) && json_array_size(cts) == 0))
		return fail(c, "spec.containers", "required");
	if (!json_is_array(cts))
		return fail(c, "spec.containers", "expected array");
	spec->containers = api__xcalloc(json_array_size(cts), sizeof(api_container_t));
	json_array_foreach(cts, i, ct)
	{
		index_path(q, sizeof(q), "spec.containers", i);
		if (!json_is_object(ct))
			return fail(c, q, "expected object");
		spec->ncontainers = i + 1;
		if ((r = decode_container(c, ct, q, &spec->containers[i])) < 0)
			return r;
		for (size_t k = 0; k < i; k++)
			if (strcmp(spec->containers[k].name, spec->containers[i].name) == 0)
				return api__errorf(c->err,
						   "%s.name: duplicate name \"%s\" (also "
						   "spec.containers[%zu])",
						   q, spec->containers[i].name, k);
	}

	if ((r = get_str(c, s, "restartPolicy", "spec", false, &spec->restart_policy)) < 0)
		return r;
	if (!spec->restart_policy)
		spec->restart_policy = api__xstrdup("Always");
	else if (strcmp(spec->restart_policy, "Always") &&
		 strcmp(spec->restart_policy, "OnFailure") && strcmp(spec->restart_policy, "Never"))
		return api__errorf(c->err,
				   "spec.restartPolicy: unsupported value \"%s\": must be Always, "
				   "OnFailure or Never",
				   spec->restart_policy);
	if ((r = get_map(c, s, "nodeSelector", "spec", MAP_PLAIN, &spec->node_selector)) < 0)
		return r;
	if ((r = get_str(c, s, "nodeName", "spec", false, &spec->node_name)) < 0)
		return r;
	if (spec->node_name && !api_is_dns1123_subdomain(spec->node_name))
		return api__errorf(
		    c->err, "spec.nodeName: invalid name \"%s\": must be a DNS-1123 subdomain",
		    spec->node_name);
	if ((r = get_int(c, s, "terminationGracePeriodSeconds", "spec",
			 &spec->termination_grace_period_seconds)) < 0)
		return r;
	if (spec->termination_grace_period_seconds < 0)
		return fail(c, "spec.terminationGracePeriodSeconds",
			    "must be greater than or equal to 0");
	return 0;
}

/* ---- status (stored form only) ----------------------------------------- */

static int decode_cstate(struct dctx *c, const json_t *obj, const char *key, const char *path,
			 api_container_state_t *st)
{
	char p[PATH_MAX_LEN], q[PATH_MAX_LEN];
	json_t *s, *w;
	int r;
	if ((r = get_obj(c, obj, key, path, false, &s)) < 0 || !s)
		return r;
	child(p, sizeof(p), path, key);
	static const struct {
		const char *key;
		api_cstate_kind_t kind;
	} kinds[] = {{"waiting", API_CSTATE_WAITING},
		     {"running", API_CSTATE_RUNNING},
		     {"terminated", API_CSTATE_TERMINATED}};
	w = NULL;
	for (size_t i = 0; i < 3 && !w; i++) {
		if ((w = json_object_get(s, kinds[i].key))) {
			st->kind = kinds[i].kind;
			child(q, sizeof(q), p, kinds[i].key);
		}
	}
	if (!w)
		return 0;
	if (!json_is_object(w))
		return fail(c, q, "expected object");
	int64_t code = 0, sig = 0;
	if ((r = get_str(c, w, "reason", q, false, &st->reason)) < 0 ||
	    (r = get_str(c, w, "message", q, false, &st->message)) < 0 ||
	    (r = get_int(c, w, "exitCode", q, &code)) < 0 ||
	    (r = get_int(c, w, "signal", q, &sig)) < 0 ||
	    (r = get_time(c, w, "startedAt", q, &st->started_at)) < 0 ||
	    (r = get_time(c, w, "finishedAt", q, &st->finished_at)) < 0)
		return r;
	st->exit_code = (int32_t)code;
	st->signal = (int32_t)sig;
	return 0;
}

static int decode_usage(struct dctx *c, const json_t *obj, const char *path,
			api_container_status_t *cs)
{
	char p[PATH_MAX_LEN];
	json_t *u, *v;
	int r;
	cs->usage_cpu_millis = cs->usage_memory_bytes = -1;
	if ((r = get_obj(c, obj, "usage", path, false, &u)) < 0 || !u)
		return r;
	child(p, sizeof(p), path, "usage");
	if ((v = json_object_get(u, "cpu")) &&
	    (!json_is_string(v) ||
	     api_quantity_parse_cpu(json_string_value(v), &cs->usage_cpu_millis)))
		return fail(c, p, "invalid cpu quantity");
	if ((v = json_object_get(u, "memory")) &&
	    (!json_is_string(v) ||
	     api_quantity_parse_memory(json_string_value(v), &cs->usage_memory_bytes)))
		return fail(c, p, "invalid memory quantity");
	return 0;
}

static int decode_status(struct dctx *c, const json_t *s, api_pod_status_t *st)
{
	char q[PATH_MAX_LEN];
	json_t *css, *e;
	size_t i;
	int r;
	if ((r = get_str(c, s, "phase", "status", false, &st->phase)) < 0 ||
	    (r = get_str(c, s, "reason", "status", false, &st->reason)) < 0 ||
	    (r = get_str(c, s, "message", "status", false, &st->message)) < 0 ||
	    (r = get_str(c, s, "podIP", "status", false, &st->pod_ip)) < 0 ||
	    (r = get_str(c, s, "hostIP", "status", false, &st->host_ip)) < 0 ||
	    (r = get_time(c, s, "startTime", "status", &st->start_time)) < 0)
		return r;
	css = json_object_get(s, "containerStatuses");
	if (!css || json_is_null(css))
		return 0;
	if (!json_is_array(css))
		return fail(c, "status.containerStatuses", "expected array");
	st->container_statuses = api__xcalloc(json_array_size(css), sizeof(api_container_status_t));
	json_array_foreach(css, i, e)
	{
		api_container_status_t *cs = &st->container_statuses[i];
		int64_t restarts = 0;
		index_path(q, sizeof(q), "status.containerStatuses", i);
		if (!json_is_object(e))
			return fail(c, q, "expected object");
		st->ncontainer_statuses = i + 1;
		cs->usage_cpu_millis = cs->usage_memory_bytes = -1;
		if ((r = get_str(c, e, "name", q, true, &cs->name)) < 0 ||
		    (r = get_str(c, e, "image", q, false, &cs->image)) < 0 ||
		    (r = get_int(c, e, "restartCount", q, &restarts)) < 0 ||
		    (r = decode_cstate(c, e, "state", q, &cs->state)) < 0 ||
		    (r = decode_cstate(c, e, "lastState", q, &cs->last_state)) < 0 ||
		    (r = decode_usage(c, e, q, cs)) < 0)
			return r;
		cs->restart_count = (int32_t)restarts;
		cs->ready = json_is_true(json_object_get(e, "ready"));
	}
	return 0;
}

/* ---- entry points ------------------------------------------------------ */

static int decode_pod(struct dctx *c, const json_t *j, api_pod_t *pod)
{
	static const char *const known[] = {"apiVersion", "kind",   "metadata",
					    "spec",	  "status", NULL};
	json_t *v, *m, *s;
	int r;
	if (!json_is_object(j))
		return api__errorf(c->err, "expected a JSON object (a v1 Pod)");
	if ((r = check_keys(c, j, "", known)) < 0)
		return r;
	v = json_object_get(j, "apiVersion");
	if (!v)
		return fail(c, "apiVersion", "required");
	if (!json_is_string(v) || strcmp(json_string_value(v), "v1") != 0)
		return fail(c, "apiVersion", "must be \"v1\"");
	v = json_object_get(j, "kind");
	if (!v)
		return fail(c, "kind", "required");
	if (!json_is_string(v) || strcmp(json_string_value(v), "Pod") != 0)
		return fail(c, "kind", "must be \"Pod\"");
	if ((r = get_obj(c, j, "metadata", "", true, &m)) < 0)
		return r;
	if ((r = decode_metadata(c, m, pod)) < 0)
		return r;
	if ((r = get_obj(c, j, "spec", "", true, &s)) < 0)
		return r;
	if ((r = decode_spec(c, s, pod)) < 0)
		return r;
	if (c->flags & API_DECODE_STORED) {
		if ((r = get_obj(c, j, "status", "", false, &s)) < 0)
			return r;
		if (s && (r = decode_status(c, s, &pod->status)) < 0)
			return r;
	}
	return 0;
}

/* On error: -EINVAL, err filled, *pod zeroed. On success pod owns everything. */
int api_pod_from_json(const json_t *j, int flags, api_pod_t *pod, api_error_t *err)
{
	struct dctx c = {.flags = flags, .err = err};
	memset(pod, 0, sizeof(*pod));
	int r = decode_pod(&c, j, pod);
	if (r < 0)
		api_pod_free(pod);
	return r;
}

/* Parses text (not necessarily NUL-terminated), then api_pod_from_json. */
int api_pod_from_text(const char *text, size_t len, int flags, api_pod_t *pod, api_error_t *err)
{
	json_error_t jerr;
	memset(pod, 0, sizeof(*pod));
	json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!j)
		return api__errorf(err, "line %d column %d: %s", jerr.line, jerr.column, jerr.text);
	int r = api_pod_from_json(j, flags, pod, err);
	json_decref(j);
	return r;
}
