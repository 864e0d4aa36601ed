/* schedctl output: kubectl-style tables and `describe`, computed from the
 * API's JSON (so whatever schedd adds or omits, printing stays tolerant). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proto/api.h"
#include "scheduler/schedctl.h"

#define CELL 128

/* ---- a table printed like kubectl's tabwriter (3 spaces between columns) */

struct table {
	size_t ncols, nrows;
	char (*cells)[CELL];
};

static void table_row(struct table *t, ...)
{
	va_list ap;
	t->cells = realloc(t->cells, (t->nrows + 1) * t->ncols * sizeof(*t->cells));
	if (!t->cells)
		abort();
	va_start(ap, t);
	for (size_t c = 0; c < t->ncols; c++) {
		const char *s = va_arg(ap, const char *);
		snprintf(t->cells[t->nrows * t->ncols + c], CELL, "%s", s ? s : "");
	}
	va_end(ap);
	t->nrows++;
}

static void table_print(FILE *out, struct table *t)
{
	size_t w[32] = {0};
	for (size_t r = 0; r < t->nrows; r++)
		for (size_t c = 0; c < t->ncols && c < 32; c++) {
			size_t l = strlen(t->cells[r * t->ncols + c]);
			if (l > w[c])
				w[c] = l;
		}
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * t->ncols + c];
			if (c + 1 < t->ncols)
				fprintf(out, "%-*s", (int)(w[c] + 3), s);
			else
				fprintf(out, "%s\n", s);
		}
	}
	free(t->cells);
	t->cells = NULL;
	t->nrows = 0;
}

/* ---- small JSON accessors ---------------------------------------------- */

static const json_t *jget(const json_t *o, const char *path)
{
	char key[128];
	while (o && *path) {
		const char *dot = strchr(path, '.');
		size_t n = dot ? (size_t)(dot - path) : strlen(path);
		if (n >= sizeof(key))
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		o = json_object_get(o, key);
		path += n + (dot ? 1 : 0);
	}
	return o;
}

static const char *jstr(const json_t *o, const char *path)
{
	return json_string_value(jget(o, path));
}

static const char *jstr_or(const json_t *o, const char *path, const char *dflt)
{
	const char *s = jstr(o, path);
	return s && *s ? s : dflt;
}

static int64_t jtime(const json_t *o, const char *path)
{
	int64_t ms = 0;
	const char *s = jstr(o, path);
	if (!s || api_parse_time(s, &ms) < 0)
		return 0;
	return ms;
}

/* ---- columns ----------------------------------------------------------- */

void sc_format_age(int64_t s, char *buf, size_t len)
{
	if (s < -1) {
		snprintf(buf, len, "<invalid>");
		return;
	}
	if (s < 0)
		s = 0;
	int64_t m = s / 60, h = s / 3600, d = h / 24;
	if (s < 120)
		snprintf(buf, len, "%" PRId64 "s", s);
	else if (m < 10 && s % 60)
		snprintf(buf, len, "%" PRId64 "m%" PRId64 "s", m, s % 60);
	else if (m < 180)
		snprintf(buf, len, "%" PRId64 "m", m);
	else if (h < 8 && m % 60)
		snprintf(buf, len, "%" PRId64 "h%" PRId64 "m", h, m % 60);
	else if (h < 48)
		snprintf(buf, len, "%" PRId64 "h", h);
	else if (h < 24 * 8 && h % 24)
		snprintf(buf, len, "%" PRId64 "d%" PRId64 "h", d, h % 24);
	else if (h < 24 * 365 * 2)
		snprintf(buf, len, "%" PRId64 "d", d);
	else if (h < 24 * 365 * 8 && d % 365)
		snprintf(buf, len, "%" PRId64 "y%" PRId64 "d", d / 365, d % 365);
	else
		snprintf(buf, len, "%" PRId64 "y", d / 365);
}

void sc_object_age(const json_t *obj, int64_t now_ms, char *buf, size_t len)
{
	int64_t t = jtime(obj, "metadata.creationTimestamp");
	if (!t) {
		snprintf(buf, len, "<unknown>");
		return;
	}
	int64_t d = now_ms - t;
	sc_format_age(d >= 0 ? d / 1000 : -((-d + 999) / 1000), buf, len);
}

void sc_pod_status(const json_t *pod, char *buf, size_t len)
{
	const char *phase = jstr_or(pod, "status.phase", "Pending");
	const char *preason = jstr(pod, "status.reason");
	char reason[96];
	bool has_running = false;

	/* Unschedulable lives in a condition in Kubernetes: kubectl shows Pending. */
	if (preason && *preason && strcmp(preason, "Unschedulable") != 0)
		snprintf(reason, sizeof(reason), "%s", preason);
	else
		snprintf(reason, sizeof(reason), "%s", phase);

	const json_t *css = jget(pod, "status.containerStatuses");
	for (size_t i = json_array_size(css); i-- > 0;) {
		const json_t *cs = json_array_get(css, i);
		const json_t *w = jget(cs, "state.waiting"), *t = jget(cs, "state.terminated");
		const char *wr = jstr(w, "reason"), *tr = jstr(t, "reason");
		if (w && wr && *wr) {
			snprintf(reason, sizeof(reason), "%s", wr);
		} else if (t && tr && *tr) {
			snprintf(reason, sizeof(reason), "%s", tr);
		} else if (t) {
			json_int_t sig = json_integer_value(json_object_get(t, "signal"));
			if (sig)
				snprintf(reason, sizeof(reason), "Signal:%" JSON_INTEGER_FORMAT,
					 sig);
			else
				snprintf(reason, sizeof(reason), "ExitCode:%" JSON_INTEGER_FORMAT,
					 json_integer_value(json_object_get(t, "exitCode")));
		} else if (json_is_true(json_object_get(cs, "ready")) &&
			   jget(cs, "state.running")) {
			has_running = true;
		}
	}
	if (strcmp(reason, "Completed") == 0 && has_running)
		snprintf(reason, sizeof(reason), "NotReady");
	if (jstr(pod, "metadata.deletionTimestamp")) {
		if (preason && strcmp(preason, "NodeLost") == 0)
			snprintf(reason, sizeof(reason), "Unknown");
		else
			snprintf(reason, sizeof(reason), "Terminating");
	}
	snprintf(buf, len, "%s", reason);
}

void sc_pod_ready(const json_t *pod, char *buf, size_t len)
{
	const json_t *css = jget(pod, "status.containerStatuses");
	size_t ready = 0, total = json_array_size(jget(pod, "spec.containers"));
	for (size_t i = 0; i < json_array_size(css); i++) {
		const json_t *cs = json_array_get(css, i);
		if (json_is_true(json_object_get(cs, "ready")) && jget(cs, "state.running"))
			ready++;
	}
	if (total == 0)
		total = json_array_size(css);
	snprintf(buf, len, "%zu/%zu", ready, total);
}

void sc_pod_restarts(const json_t *pod, int64_t now_ms, char *buf, size_t len)
{
	const json_t *css = jget(pod, "status.containerStatuses");
	json_int_t restarts = 0;
	int64_t last = 0;
	for (size_t i = 0; i < json_array_size(css); i++) {
		const json_t *cs = json_array_get(css, i);
		restarts += json_integer_value(json_object_get(cs, "restartCount"));
		int64_t f = jtime(cs, "lastState.terminated.finishedAt");
		if (f > last)
			last = f;
	}
	if (restarts && last) {
		char age[32];
		sc_format_age((now_ms - last) / 1000, age, sizeof(age));
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT " (%s ago)", restarts, age);
	} else {
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT, restarts);
	}
}

void sc_node_status(const json_t *node, char *buf, size_t len)
{
	const char *ready = "NotReady";
	const json_t *conds = jget(node, "status.conditions");
	for (size_t i = 0; i < json_array_size(conds); i++) {
		const json_t *c = json_array_get(conds, i);
		if (strcmp(jstr_or(c, "type", ""), "Ready") == 0 &&
		    strcmp(jstr_or(c, "status", ""), "True") == 0)
			ready = "Ready";
	}
	snprintf(buf, len, "%s%s", ready,
		 json_is_true(jget(node, "spec.unschedulable")) ? ",SchedulingDisabled" : "");
}

void sc_node_roles(const json_t *node, char *buf, size_t len)
{
	static const char prefix[] = "node-role.kubernetes.io/";
	const json_t *labels = jget(node, "metadata.labels");
	const char *k;
	json_t *v;
	size_t used = 0;
	buf[0] = '\0';
	json_object_foreach((json_t *)labels, k, v)
	{
		if (strncmp(k, prefix, sizeof(prefix) - 1) != 0 || !k[sizeof(prefix) - 1])
			continue;
		int n = snprintf(buf + used, len - used, "%s%s", used ? "," : "",
				 k + sizeof(prefix) - 1);
		if (n < 0 || (size_t)n >= len - used)
			break;
		used += (size_t)n;
	}
	if (!used)
		snprintf(buf, len, "<none>");
}

/* ---- tables ------------------------------------------------------------ */

void sc_print_pods(FILE *out, const json_t *items, bool wide, bool all_ns, int64_t now_ms)
{
	struct table t = {.ncols = (all_ns ? 1u : 0u) + (wide ? 7u : 5u)};
	const char *hdr[] = {"NAMESPACE", "NAME", "READY", "STATUS",
			     "RESTARTS",  "AGE",  "IP",	   "NODE"};
	const char *const *h = all_ns ? hdr : hdr + 1;
	table_row(&t, h[0], h[1], h[2], h[3], h[4], h[5], h[6], all_ns ? h[7] : NULL);
	for (size_t i = 0; i < json_array_size(items); i++) {
		const json_t *p = json_array_get(items, i);
		char ready[32], status[96], restarts[64], age[32];
		sc_pod_ready(p, ready, sizeof(ready));
		sc_pod_status(p, status, sizeof(status));
		sc_pod_restarts(p, now_ms, restarts, sizeof(restarts));
		sc_object_age(p, now_ms, age, sizeof(age));
		const char *cols[] = {jstr_or(p, "metadata.namespace", "default"),
				      jstr_or(p, "metadata.name", "?"),
				      ready,
				      status,
				      restarts,
				      age,
				      jstr_or(p, "status.podIP", "<none>"),
				      jstr_or(p, "spec.nodeName", "<none>")};
		const char *const *c = all_ns ? cols : cols + 1;
		table_row(&t, c[0], c[1], c[2], c[3], c[4], c[5], c[6], all_ns ? c[7] : NULL);
	}
	table_print(out, &t);
}

static void usage_cols(const json_t *n, const char *res, bool cpu, char *val, char *pct, size_t len)
{
	char key[64];
	snprintf(key, sizeof(key), "status.usage.%s", res);
	const char *u = jstr(n, key);
	snprintf(key, sizeof(key), "status.allocatable.%s", res);
	const char *a = jstr(n, key);
	int64_t uv, av;
	if (!u || (cpu ? api_quantity_parse_cpu(u, &uv) : api_quantity_parse_memory(u, &uv)) < 0) {
		snprintf(val, len, "<unknown>");
		snprintf(pct, len, "<unknown>");
		return;
	}
	if (cpu)
		snprintf(val, len, "%" PRId64 "m", uv);
	else
		snprintf(val, len, "%" PRId64 "Mi", uv / (1024 * 1024));
	if (a && (cpu ? api_quantity_parse_cpu(a, &av) : api_quantity_parse_memory(a, &av)) == 0 &&
	    av > 0)
		snprintf(pct, len, "%" PRId64 "%%", uv * 100 / av);
	else
		snprintf(pct, len, "<unknown>");
}

static const char *node_address(const json_t *n, const char *type)
{
	const json_t *addrs = jget(n, "status.addresses");
	for (size_t i = 0; i < json_array_size(addrs); i++) {
		const json_t *a = json_array_get(addrs, i);
		if (strcmp(jstr_or(a, "type", ""), type) == 0)
			return jstr(a, "address");
	}
	return NULL;
}

void sc_print_nodes(FILE *out, const json_t *items, bool wide, int64_t now_ms)
{
	struct table t = {.ncols = wide ? 11 : 9};
	table_row(&t, "NAME", "STATUS", "ROLES", "AGE", "VERSION", "CPU(cores)", "CPU%",
		  "MEMORY(bytes)", "MEMORY%", "INTERNAL-IP", "POD-CIDR");
	for (size_t i = 0; i < json_array_size(items); i++) {
		const json_t *n = json_array_get(items, i);
		char status[64], roles[96], age[32], cpu[32], cpup[32], mem[32], memp[32];
		sc_node_status(n, status, sizeof(status));
		sc_node_roles(n, roles, sizeof(roles));
		sc_object_age(n, now_ms, age, sizeof(age));
		usage_cols(n, "cpu", true, cpu, cpup, sizeof(cpu));
		usage_cols(n, "memory", false, mem, memp, sizeof(mem));
		const char *ip = node_address(n, "InternalIP");
		table_row(&t, jstr_or(n, "metadata.name", "?"), status, roles, age,
			  jstr_or(n, "status.nodeInfo.kubeletVersion", ""), cpu, cpup, mem, memp,
			  ip ? ip : "<none>", jstr_or(n, "spec.podCIDR", "<none>"));
	}
	table_print(out, &t);
}

/* ---- describe ---------------------------------------------------------- */

/* kubectl's describe time: "Sun, 29 Nov 2026 09:10:11 +0000" (local zone). */
static void describe_time(int64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	if (!ms || !localtime_r(&t, &tm) || !strftime(buf, len, "%a, %d %b %Y %H:%M:%S %z", &tm))
		snprintf(buf, len, "<unknown>");
}

static void field(FILE *out, int indent, int width, const char *label, const char *value)
{
	char l[64];
	snprintf(l, sizeof(l), "%s%s", label, *label ? ":" : "");
	fprintf(out, "%*s%-*s%s\n", indent, "", width, l, value ? value : "");
}

static void describe_map(FILE *out, const char *label, const json_t *m)
{
	const char *k;
	json_t *v;
	bool first = true;
	char line[512];
	json_object_foreach((json_t *)m, k, v)
	{
		snprintf(line, sizeof(line), "%s=%s", k,
			 json_string_value(v) ? json_string_value(v) : "");
		field(out, 0, 18, first ? label : "", line); /* continuation lines align */
		first = false;
	}
	if (first)
		field(out, 0, 18, label, "<none>");
}

static void describe_state(FILE *out, const char *label, const json_t *st)
{
	const json_t *w = json_object_get(st, "waiting"), *r = json_object_get(st, "running"),
		     *t = json_object_get(st, "terminated");
	char buf[64], num[32];
	if (w) {
		field(out, 4, 16, label, "Waiting");
		if (jstr(w, "reason"))
			field(out, 6, 14, "Reason", jstr(w, "reason"));
		if (jstr(w, "message"))
			field(out, 6, 14, "Message", jstr(w, "message"));
	} else if (r) {
		field(out, 4, 16, label, "Running");
		describe_time(jtime(r, "startedAt"), buf, sizeof(buf));
		field(out, 6, 14, "Started", buf);
	} else if (t) {
		field(out, 4, 16, label, "Terminated");
		if (jstr(t, "reason"))
			field(out, 6, 14, "Reason", jstr(t, "reason"));
		if (jstr(t, "message"))
			field(out, 6, 14, "Message", jstr(t, "message"));
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
			 json_integer_value(json_object_get(t, "exitCode")));
		field(out, 6, 14, "Exit Code", num);
		if (json_integer_value(json_object_get(t, "signal"))) {
			snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
				 json_integer_value(json_object_get(t, "signal")));
			field(out, 6, 14, "Signal", num);
		}
		describe_time(jtime(t, "startedAt"), buf, sizeof(buf));
		field(out, 6, 14, "Started", buf);
		describe_time(jtime(t, "finishedAt"), buf, sizeof(buf));
		field(out, 6, 14, "Finished", buf);
	} else {
		field(out, 4, 16, label, strcmp(label, "State") == 0 ? "Waiting" : "");
	}
}

static void describe_resources(FILE *out, const char *label, const json_t *rl)
{
	if (!json_object_size(rl))
		return;
	fprintf(out, "    %s:\n", label);
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)rl, k, v) field(out, 6, 8, k, json_string_value(v));
}

static void describe_container(FILE *out, const json_t *c, const json_t *cs)
{
	char buf[256];
	fprintf(out, "  %s:\n", jstr_or(c, "name", "?"));
	field(out, 4, 16, "Image", jstr_or(c, "image", ""));
	const json_t *ports = json_object_get(c, "ports");
	for (size_t i = 0; i < json_array_size(ports); i++) {
		const json_t *p = json_array_get(ports, i);
		snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT "/%s",
			 json_integer_value(json_object_get(p, "containerPort")),
			 jstr_or(p, "protocol", "TCP"));
		field(out, 4, 16, i ? "" : "Port", buf);
	}
	const char *lists[] = {"command", "args"}, *labels[] = {"Command", "Args"};
	for (size_t l = 0; l < 2; l++) {
		const json_t *a = json_object_get(c, lists[l]);
		if (!json_array_size(a))
			continue;
		fprintf(out, "    %s:\n", labels[l]);
		for (size_t i = 0; i < json_array_size(a); i++)
			fprintf(out, "      %s\n", json_string_value(json_array_get(a, i)));
	}
	describe_state(out, "State", json_object_get(cs, "state"));
	if (json_object_size(json_object_get(cs, "lastState")))
		describe_state(out, "Last State", json_object_get(cs, "lastState"));
	field(out, 4, 16, "Ready", json_is_true(json_object_get(cs, "ready")) ? "True" : "False");
	snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT,
		 json_integer_value(json_object_get(cs, "restartCount")));
	field(out, 4, 16, "Restart Count", buf);
	describe_resources(out, "Limits", jget(c, "resources.limits"));
	describe_resources(out, "Requests", jget(c, "resources.requests"));
	const json_t *u = json_object_get(cs, "usage");
	if (json_object_size(u)) {
		fprintf(out, "    Usage:\n");
		field(out, 6, 8, "cpu", jstr_or(u, "cpu", "<unknown>"));
		field(out, 6, 8, "memory", jstr_or(u, "memory", "<unknown>"));
	}
	const json_t *env = json_object_get(c, "env");
	if (!json_array_size(env)) {
		field(out, 4, 16, "Environment", "<none>");
	} else {
		fprintf(out, "    Environment:\n");
		for (size_t i = 0; i < json_array_size(env); i++) {
			const json_t *e = json_array_get(env, i);
			field(out, 6, 14, jstr_or(e, "name", "?"), jstr_or(e, "value", ""));
		}
	}
}

void sc_describe_pod(FILE *out, const json_t *pod, int64_t now_ms)
{
	char buf[512], status[96];
	(void)now_ms;
	field(out, 0, 18, "Name", jstr_or(pod, "metadata.name", "?"));
	field(out, 0, 18, "Namespace", jstr_or(pod, "metadata.namespace", "default"));
	const char *node = jstr(pod, "spec.nodeName"), *host = jstr(pod, "status.hostIP");
	if (node && host)
		snprintf(buf, sizeof(buf), "%s/%s", node, host);
	else
		snprintf(buf, sizeof(buf), "%s", node ? node : "<none>");
	field(out, 0, 18, "Node", buf);
	if (jtime(pod, "status.startTime")) {
		describe_time(jtime(pod, "status.startTime"), buf, sizeof(buf));
		field(out, 0, 18, "Start Time", buf);
	}
	describe_map(out, "Labels", jget(pod, "metadata.labels"));
	describe_map(out, "Annotations", jget(pod, "metadata.annotations"));
	const char *phase = jstr_or(pod, "status.phase", "Pending");
	if (jstr(pod, "metadata.deletionTimestamp")) {
		sc_pod_status(pod, status, sizeof(status));
		describe_time(jtime(pod, "metadata.deletionTimestamp"), buf, sizeof(buf));
		char line[640];
		snprintf(line, sizeof(line), "Terminating (lasts since %s)", buf);
		field(out, 0, 18, "Status", line);
	} else {
		field(out, 0, 18, "Status", phase);
	}
	if (jstr(pod, "status.reason"))
		field(out, 0, 18, "Reason", jstr(pod, "status.reason"));
	if (jstr(pod, "status.message"))
		field(out, 0, 18, "Message", jstr(pod, "status.message"));
	field(out, 0, 18, "IP", jstr_or(pod, "status.podIP", ""));
	fprintf(out, "Containers:\n");
	const json_t *cts = jget(pod, "spec.containers"),
		     *css = jget(pod, "status.containerStatuses");
	for (size_t i = 0; i < json_array_size(cts); i++) {
		const json_t *c = json_array_get(cts, i), *cs = NULL;
		const char *name = jstr_or(c, "name", "");
		for (size_t k = 0; k < json_array_size(css); k++)
			if (strcmp(jstr_or(json_array_get(css, k), "name", ""), name) == 0)
				cs = json_array_get(css, k);
		describe_container(out, c, cs);
	}
	field(out, 0, 18, "Restart Policy", jstr_or(pod, "spec.restartPolicy", "Always"));
	const json_t *ns = jget(pod, "spec.nodeSelector");
	describe_map(out, "Node-Selectors", ns);
}
