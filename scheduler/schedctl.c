/* schedctl: the kubectl-like command-line client of schedd.
 *
 *   schedctl [--server URL] [-n NS] apply -f FILE|-
 *   schedctl get pods|nodes [NAME] [-o wide|json|name] [-A]
 *   schedctl describe pod NAME
 *   schedctl delete pod NAME [--wait=true|false] [--timeout=60s]
 *
 * Exit status 0 on success, 1 on any error (with a message on stderr). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "proto/api.h"
#include "scheduler/schedctl.h"

#define DEFAULT_SERVER "http://127.0.0.1:7080"

struct opts {
	const char *server;
	const char *ns;
	bool ns_given;
	bool all_ns;
	const char *output; /* NULL, "wide", "json", "name" */
	const char *file;
	bool wait;
	int64_t timeout_ms;
	bool help;
	const char *pos[8];
	int npos;
};

static const char usage_main[] =
    "schedctl controls a nodelet cluster through schedd's API (kubectl-like).\n"
    "\n"
    "Usage: schedctl [global flags] COMMAND [args] [flags]\n"
    "\n"
    "Commands:\n"
    "  apply -f FILE|-                     create pods from a JSON manifest (a Pod or a v1 List)\n"
    "  get pods|nodes [NAME] [-o FORMAT]   list or show pods or nodes\n"
    "  describe pod NAME                   show a pod in detail\n"
    "  delete pod NAME                     delete a pod and wait until it is gone\n"
    "\n"
    "Global flags:\n"
    "  --server URL          schedd address (env NODELET_SERVER, default " DEFAULT_SERVER ")\n"
    "  -n, --namespace NS    namespace (default \"default\")\n"
    "  -h, --help            help; `schedctl COMMAND --help` for a command\n"
    "Environment: NODELET_SERVER, NODELET_TOKEN (sent as a bearer token).\n";

static const char usage_apply[] =
    "Usage: schedctl apply -f FILE|- [-n NS]\n"
    "\n"
    "Creates the Pod (or each Pod of a v1 List) in FILE ('-' reads stdin). The manifest\n"
    "is validated locally first; nothing is sent if it is invalid. A pod that already\n"
    "exists with the same spec is reported \"unchanged\".\n"
    "  -f, --filename FILE   the manifest (JSON; YAML when schedctl is built with libyaml)\n";

static const char usage_get[] =
    "Usage: schedctl get pods [NAME] [-o wide|json|name] [-n NS | -A]\n"
    "       schedctl get nodes [NAME] [-o wide|json]\n"
    "\n"
    "  -o, --output FORMAT   wide: more columns; json: the API objects; name: resource/name\n"
    "  -A, --all-namespaces  pods of every namespace\n";

static const char usage_describe[] =
    "Usage: schedctl describe pod NAME [-n NS]\n"
    "\n"
    "Shows the pod, its containers' states, restarts, resources and "
    "usage.\n";

static const char usage_delete[] =
    "Usage: schedctl delete pod NAME [-n NS] [--wait=true|false] [--timeout=60s]\n"
    "\n"
    "Deletes the pod: its containers get SIGTERM, then SIGKILL after the grace period.\n"
    "  --wait=BOOL       wait until the pod is gone (default true)\n"
    "  --timeout=DUR     how long to wait (default 60s; units s, m, h)\n";

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

/* "60s", "2m", "1h30m", "90" (seconds), "500ms" -> ms; -1 on junk. */
static int64_t parse_duration(const char *s)
{
	int64_t total = 0;
	if (!*s)
		return -1;
	while (*s) {
		char *end;
		errno = 0;
		long long v = strtoll(s, &end, 10);
		if (end == s || errno || v < 0)
			return -1;
		s = end;
		static const struct {
			const char *unit;
			int64_t ms;
		} units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"", 1000}};
		size_t u = 0, n = sizeof(units) / sizeof(units[0]);
		for (; u < n; u++) {
			size_t ul = strlen(units[u].unit);
			/* "ms" is tried before "m"; a bare number is seconds */
			if (strncmp(s, units[u].unit, ul) == 0 && (ul || !*s))
				break;
		}
		if (u == n)
			return -1;
		total += v * units[u].ms;
		s += strlen(units[u].unit);
	}
	return total;
}

static int parse_bool(const char *s, bool *out)
{
	if (!strcmp(s, "true") || !strcmp(s, "1") || !strcmp(s, "yes"))
		*out = true;
	else if (!strcmp(s, "false") || !strcmp(s, "0") || !strcmp(s, "no"))
		*out = false;
	else
		return -1;
	return 0;
}

/* Matches "--name VALUE", "--name=VALUE", "-x VALUE", "-xVALUE". */
static int flag_value(int argc, char **argv, int *i, const char *lng, const char *shrt,
		      const char **val)
{
	const char *a = argv[*i];
	size_t ll = strlen(lng);
	if (strcmp(a, lng) == 0 || (shrt && strcmp(a, shrt) == 0)) {
		if (*i + 1 >= argc)
			return -1;
		*val = argv[++*i];
		return 1;
	}
	if (strncmp(a, lng, ll) == 0 && a[ll] == '=') {
		*val = a + ll + 1;
		return 1;
	}
	if (shrt && strncmp(a, shrt, 2) == 0 && a[2]) {
		*val = a + 2;
		return 1;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	const char *env = getenv("NODELET_SERVER");
	o->server = env && *env ? env : DEFAULT_SERVER;
	o->ns = "default";
	o->wait = true;
	o->timeout_ms = 60000;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v;
		int r;
		if (a[0] != '-' || strcmp(a, "-") == 0) {
			if (o->npos >= (int)(sizeof(o->pos) / sizeof(o->pos[0])))
				return die("error: too many arguments");
			o->pos[o->npos++] = a;
			continue;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			o->help = true;
		} else if (!strcmp(a, "-A") || !strcmp(a, "--all-namespaces")) {
			o->all_ns = true;
		} else if (!strcmp(a, "--wait")) {
			o->wait = true;
		} else if ((r = flag_value(argc, argv, &i, "--server", NULL, &v))) {
			if (r < 0)
				return die("error: flag needs an argument: --server");
			o->server = v;
		} else if ((r = flag_value(argc, argv, &i, "--namespace", "-n", &v))) {
			if (r < 0)
				return die("error: flag needs an argument: -n/--namespace");
			o->ns = v;
			o->ns_given = true;
		} else if ((r = flag_value(argc, argv, &i, "--output", "-o", &v))) {
			if (r < 0)
				return die("error: flag needs an argument: -o/--output");
			if (strcmp(v, "wide") && strcmp(v, "json") && strcmp(v, "name"))
				return die(
				    "error: unable to match a printer suitable for the output "
				    "format \"%s\", allowed formats are: json, name, wide",
				    v);
			o->output = v;
		} else if ((r = flag_value(argc, argv, &i, "--filename", "-f", &v))) {
			if (r < 0)
				return die("error: flag needs an argument: -f/--filename");
			o->file = v;
		} else if (!strncmp(a, "--wait=", 7)) {
			if (parse_bool(a + 7, &o->wait) < 0)
				return die(
				    "error: invalid argument \"%s\" for --wait: expected true or "
				    "false",
				    a + 7);
		} else if ((r = flag_value(argc, argv, &i, "--timeout", NULL, &v))) {
			if (r < 0 || (o->timeout_ms = parse_duration(v)) < 0)
				return die(
				    "error: invalid --timeout \"%s\": expected a duration such as "
				    "60s or 2m",
				    r < 0 ? "" : v);
		} else {
			return die("error: unknown flag: %s\nSee 'schedctl --help'.", a);
		}
	}
	if (!api_is_dns1123_label(o->ns))
		return die("error: invalid namespace \"%s\": must be a DNS-1123 label", o->ns);
	return 0;
}

/* ---- requests ---------------------------------------------------------- */

/* GET path; returns the parsed body (a new reference) or NULL after printing
 * the error. *code gets the HTTP status (0 if unreachable). */
static json_t *get_json(const struct opts *o, const char *path, long *code, bool quiet_404)
{
	sc_response_t resp;
	char err[512];
	*code = 0;
	if (sc_http(o->server, "GET", path, NULL, &resp, err, sizeof(err)) < 0) {
		die("%s", err);
		return NULL;
	}
	*code = resp.code;
	if (resp.code != 200) {
		char msg[1024], reason[64];
		if (!(quiet_404 && resp.code == 404)) {
			sc_response_message(&resp, msg, sizeof(msg));
			sc_response_reason(&resp, reason, sizeof(reason));
			die("Error from server (%s): %s", *reason ? reason : "Unknown", msg);
		}
		sc_response_free(&resp);
		return NULL;
	}
	json_error_t jerr;
	json_t *j = json_loadb(resp.body, resp.len, 0, &jerr);
	if (!j)
		die("error: schedd answered %s with invalid JSON: %s", path, jerr.text);
	sc_response_free(&resp);
	return j;
}

/* ---- apply ------------------------------------------------------------- */

static char *read_all(const char *file, size_t *len)
{
	FILE *f = strcmp(file, "-") == 0 ? stdin : fopen(file, "rb");
	if (!f)
		return NULL;
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	for (;;) {
		if (!buf)
			abort();
		size_t r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
		if (r == 0)
			break;
		if (n + 1 == cap)
			buf = realloc(buf, cap *= 2);
	}
	bool bad = ferror(f);
	if (f != stdin)
		fclose(f);
	if (bad) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t l = strlen(s), n = strlen(suffix);
	return l > n && strcmp(s + l - n, suffix) == 0;
}

/* .yaml/.yml is YAML, .json is JSON; anything else (stdin included) is
 * YAML unless it starts like JSON, as kubectl guesses. */
static bool is_yaml(const char *file, const char *text)
{
	if (has_suffix(file, ".yaml") || has_suffix(file, ".yml"))
		return true;
	if (has_suffix(file, ".json"))
		return false;
	text += strspn(text, " \t\r\n");
	return *text && *text != '{' && *text != '[';
}

static int apply_one(const struct opts *o, const char *file, json_t *item, const char *prefix)
{
	api_pod_t pod;
	api_error_t aerr;
	if (api_pod_from_json(item, API_DECODE_USER, &pod, &aerr) < 0)
		return die("%s: %s%s", file, prefix, aerr.msg);
	const char *ns =
	    json_string_value(json_object_get(json_object_get(item, "metadata"), "namespace"));
	if (ns && o->ns_given && strcmp(ns, o->ns) != 0) {
		api_pod_free(&pod);
		return die("%s: the namespace from the provided object \"%s\" does not match the "
			   "namespace \"%s\". You must pass '--namespace=%s' to perform this "
			   "operation.",
			   file, ns, o->ns, ns);
	}
	if (!ns)
		ns = o->ns;

	char path[512], err[512];
	snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods", ns);
	char *body = json_dumps(item, JSON_COMPACT);
	sc_response_t resp;
	int r = sc_http(o->server, "POST", path, body, &resp, err, sizeof(err));
	free(body);
	if (r < 0) {
		api_pod_free(&pod);
		return die("%s", err);
	}
	if (resp.code == 201) {
		printf("pod/%s created\n", pod.name);
	} else if (resp.code == 200) {
		printf("pod/%s unchanged\n", pod.name);
	} else {
		char msg[1024];
		sc_response_message(&resp, msg, sizeof(msg));
		r = die("%s: %s", file, msg);
	}
	fflush(stdout);
	sc_response_free(&resp);
	api_pod_free(&pod);
	return r ? 1 : 0;
}

static int cmd_apply(const struct opts *o)
{
	if (o->help) {
		fputs(usage_apply, stdout);
		return 0;
	}
	if (!o->file)
		return die("error: must specify -f FILE (or -f - for stdin)\nSee 'schedctl apply "
			   "--help'.");
	if (o->npos > 1)
		return die("error: unexpected argument \"%s\"", o->pos[1]);
	const char *file = o->file;
	size_t len;
	char *text = read_all(file, &len);
	if (!text)
		return die("error: cannot read %s: %s", file, strerror(errno));

	json_t *j = NULL;
	char err[512];
	if (is_yaml(file, text)) {
		int r = sc_yaml_to_json(text, len, &j, err, sizeof(err));
		free(text);
		if (r < 0)
			return die("%s: %s", file, err);
	} else {
		json_error_t jerr;
		j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
		free(text);
		if (!j)
			return die("%s: line %d column %d: %s", file, jerr.line, jerr.column,
				   jerr.text);
	}

	int rc = 0;
	const char *kind = json_string_value(json_object_get(j, "kind"));
	if (kind && !strcmp(kind, "List")) {
		json_t *items = json_object_get(j, "items");
		if (!json_is_array(items)) {
			json_decref(j);
			return die("%s: items: expected array", file);
		}
		/* Validate everything before sending anything. */
		for (size_t i = 0; i < json_array_size(items); i++) {
			api_pod_t pod;
			api_error_t aerr;
			if (api_pod_from_json(json_array_get(items, i), API_DECODE_USER, &pod,
					      &aerr)) {
				rc = die("%s: items[%zu].%s", file, i, aerr.msg);
				break;
			}
			api_pod_free(&pod);
		}
		for (size_t i = 0; !rc && i < json_array_size(items); i++) {
			char prefix[32];
			snprintf(prefix, sizeof(prefix), "items[%zu].", i);
			rc |= apply_one(o, file, json_array_get(items, i), prefix);
		}
	} else {
		rc = apply_one(o, file, j, "");
	}
	json_decref(j);
	return rc;
}

/* ---- get / describe / delete ------------------------------------------- */

enum resource { RES_NONE, RES_PODS, RES_NODES };

static enum resource parse_resource(const char *s, const char **name)
{
	static char buf[64];
	const char *slash = strchr(s, '/');
	*name = NULL;
	if (slash) {
		snprintf(buf, sizeof(buf), "%.*s", (int)(slash - s), s);
		*name = slash + 1;
		s = buf;
	}
	if (!strcmp(s, "pods") || !strcmp(s, "pod") || !strcmp(s, "po"))
		return RES_PODS;
	if (!strcmp(s, "nodes") || !strcmp(s, "node") || !strcmp(s, "no"))
		return RES_NODES;
	return RES_NONE;
}

static int cmd_get(const struct opts *o)
{
	if (o->help) {
		fputs(usage_get, stdout);
		return 0;
	}
	if (o->npos < 2)
		return die("error: you must specify the type of resource to get: pods or nodes\n"
			   "See 'schedctl get --help'.");
	const char *name;
	enum resource res = parse_resource(o->pos[1], &name);
	if (res == RES_NONE)
		return die("error: the server doesn't have a resource type \"%s\" (schedctl knows "
			   "pods and nodes)",
			   o->pos[1]);
	if (!name && o->npos > 2)
		name = o->pos[2];
	if ((name && o->npos > 3) || (!name && o->npos > 2))
		return die("error: too many arguments");

	char path[512];
	if (res == RES_PODS) {
		if (name)
			snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods/%s", o->ns, name);
		else if (o->all_ns)
			snprintf(path, sizeof(path), "/api/v1/pods");
		else
			snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods", o->ns);
	} else {
		if (name)
			snprintf(path, sizeof(path), "/api/v1/nodes/%s", name);
		else
			snprintf(path, sizeof(path), "/api/v1/nodes");
	}
	long code;
	json_t *j = get_json(o, path, &code, false);
	if (!j)
		return 1;

	if (o->output && !strcmp(o->output, "json")) {
		char *s = json_dumps(j, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
		printf("%s\n", s);
		free(s);
		json_decref(j);
		return 0;
	}
	json_t *items;
	if (name) {
		items = json_array();
		json_array_append(items, j);
	} else {
		items = json_incref(json_object_get(j, "items"));
		if (!json_is_array(items)) {
			json_decref(items);
			items = json_array();
		}
	}
	if (json_array_size(items) == 0 && !name) {
		if (res == RES_PODS && !o->all_ns)
			fprintf(stderr, "No resources found in %s namespace.\n", o->ns);
		else
			fprintf(stderr, "No resources found\n");
	} else if (o->output && !strcmp(o->output, "name")) {
		for (size_t i = 0; i < json_array_size(items); i++)
			printf("%s/%s\n", res == RES_PODS ? "pod" : "node",
			       json_string_value(json_object_get(
				   json_object_get(json_array_get(items, i), "metadata"), "name")));
	} else if (res == RES_PODS) {
		sc_print_pods(stdout, items, o->output && !strcmp(o->output, "wide"),
			      o->all_ns && !name, now_ms());
	} else {
		sc_print_nodes(stdout, items, o->output && !strcmp(o->output, "wide"), now_ms());
	}
	json_decref(items);
	json_decref(j);
	return 0;
}

static int pod_name_arg(const struct opts *o, const char *verb, const char **name)
{
	if (o->npos < 2)
		return die("error: you must specify a pod: schedctl %s pod NAME", verb);
	enum resource res = parse_resource(o->pos[1], name);
	if (res != RES_PODS)
		return die("error: schedctl %s knows only pods (got \"%s\")", verb, o->pos[1]);
	if (!*name && o->npos > 2)
		*name = o->pos[2];
	if (!*name)
		return die("error: you must specify a pod name: schedctl %s pod NAME", verb);
	if ((o->npos > 3) || (o->npos > 2 && strchr(o->pos[1], '/')))
		return die("error: too many arguments");
	return 0;
}

static int cmd_describe(const struct opts *o)
{
	const char *name;
	if (o->help) {
		fputs(usage_describe, stdout);
		return 0;
	}
	if (pod_name_arg(o, "describe", &name))
		return 1;
	char path[512];
	snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods/%s", o->ns, name);
	long code;
	json_t *j = get_json(o, path, &code, false);
	if (!j)
		return 1;
	sc_describe_pod(stdout, j, now_ms());
	json_decref(j);
	return 0;
}

static int cmd_delete(const struct opts *o)
{
	const char *name;
	if (o->help) {
		fputs(usage_delete, stdout);
		return 0;
	}
	if (pod_name_arg(o, "delete", &name))
		return 1;
	char path[512], err[512], msg[1024], reason[64];
	snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods/%s", o->ns, name);
	sc_response_t resp;
	if (sc_http(o->server, "DELETE", path, NULL, &resp, err, sizeof(err)) < 0)
		return die("%s", err);
	if (resp.code != 200 && resp.code != 202) {
		sc_response_message(&resp, msg, sizeof(msg));
		sc_response_reason(&resp, reason, sizeof(reason));
		sc_response_free(&resp);
		return die("Error from server (%s): %s", *reason ? reason : "Unknown", msg);
	}
	sc_response_free(&resp);
	if (!o->wait) {
		printf("pod \"%s\" deleted\n", name);
		return 0;
	}
	int64_t deadline = now_ms() + o->timeout_ms;
	for (;;) {
		long code;
		json_t *j = get_json(o, path, &code, true);
		if (!j && code == 404) {
			printf("pod \"%s\" deleted\n", name);
			return 0;
		}
		if (!j && code == 0)
			return 1; /* unreachable: already reported */
		json_decref(j);
		if (now_ms() >= deadline)
			return die("error: timed out waiting for pod \"%s\" to be deleted (still "
				   "present after %lld s)",
				   name, (long long)(o->timeout_ms / 1000));
		usleep(250 * 1000);
	}
}

int main(int argc, char **argv)
{
	struct opts o;
	memset(&o, 0, sizeof(o));
	if (parse_args(argc, argv, &o))
		return 1;
	if (o.npos == 0) {
		fputs(usage_main, o.help ? stdout : stderr);
		return o.help ? 0 : 1;
	}
	const char *verb = o.pos[0];
	if (!strcmp(verb, "apply"))
		return cmd_apply(&o);
	if (!strcmp(verb, "get"))
		return cmd_get(&o);
	if (!strcmp(verb, "describe"))
		return cmd_describe(&o);
	if (!strcmp(verb, "delete"))
		return cmd_delete(&o);
	if (!strcmp(verb, "help")) {
		fputs(usage_main, stdout);
		return 0;
	}
	return die("error: unknown command \"%s\" for \"schedctl\"\nSee 'schedctl --help'.", verb);
}
