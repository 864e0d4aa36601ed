/* The HTTP/JSON API (the README's "HTTP API" section): routing and handlers,
 * over the cluster state. No lws here: server.c feeds requests in and writes
 * answers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scheduler/sched.h"
#include "scheduler/server.h"

static void set_json(sched_http_resp_t *r, int code, json_t *j)
{
	r->code = code;
	r->content_type = "application/json";
	r->body = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!r->body)
		abort();
	r->len = strlen(r->body);
}

static void set_text(sched_http_resp_t *r, int code, const char *ctype, char *text)
{
	r->code = code;
	r->content_type = ctype;
	r->body = text;
	r->len = strlen(text);
}

/* A JSON string of msg. Messages quote what the client sent (a name from the
 * path), which need not be UTF-8, and a truncated quote may end mid-character:
 * then every non-ASCII byte is shown as '?', rather than failing the answer. */
static json_t *message_string(const char *msg)
{
	json_t *s = json_string(msg);
	if (s)
		return s;
	char *copy = strdup(msg);
	if (!copy)
		abort();
	for (char *p = copy; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	s = json_string(copy);
	free(copy);
	return s;
}

void sched_http_status(sched_http_resp_t *resp, int code, const char *reason, const char *msg)
{
	set_json(resp, code,
		 json_pack("{s:s, s:s, s:{}, s:s, s:o, s:s, s:i}", "kind", "Status", "apiVersion",
			   "v1", "metadata", "status", "Failure", "message", message_string(msg),
			   "reason", reason, "code", code));
}

static void not_found_pod(sched_http_resp_t *r, const char *name)
{
	char msg[400];

	snprintf(msg, sizeof(msg), "pods \"%.300s\" not found", name);
	sched_http_status(r, 404, "NotFound", msg);
}

static int cmp_pods(const void *a, const void *b)
{
	const sched_pod_t *x = *(sched_pod_t *const *)a, *y = *(sched_pod_t *const *)b;
	int c = strcmp(x->pod.namespace_, y->pod.namespace_);

	return c ? c : strcmp(x->pod.name, y->pod.name);
}

static void list_pods(sched_cluster_t *c, const char *ns, sched_http_resp_t *r)
{
	sched_pod_t **sorted = malloc((c->npods + 1) * sizeof(*sorted));
	json_t *items = json_array();

	if (!sorted)
		abort();
	if (c->npods)
		memcpy(sorted, c->pods, c->npods * sizeof(*sorted));
	qsort(sorted, c->npods, sizeof(*sorted), cmp_pods);
	for (size_t i = 0; i < c->npods; i++)
		if (!ns || !strcmp(sorted[i]->pod.namespace_, ns))
			json_array_append_new(items, api_pod_to_json(&sorted[i]->pod));
	free(sorted);
	set_json(r, 200,
		 json_pack("{s:s, s:s, s:{}, s:o}", "apiVersion", "v1", "kind", "PodList",
			   "metadata", "items", items));
}

static void list_nodes(sched_cluster_t *c, sched_http_resp_t *r)
{
	json_t *items = json_array();

	/* nodes are few; registration order is stable, sort by name for humans */
	sched_node_t **sorted = malloc((c->nnodes + 1) * sizeof(*sorted));
	if (!sorted)
		abort();
	if (c->nnodes)
		memcpy(sorted, c->nodes, c->nnodes * sizeof(*sorted));
	for (size_t i = 1; i < c->nnodes; i++)
		for (size_t k = i; k > 0 && strcmp(sorted[k - 1]->name, sorted[k]->name) > 0; k--) {
			sched_node_t *t = sorted[k];
			sorted[k] = sorted[k - 1];
			sorted[k - 1] = t;
		}
	for (size_t i = 0; i < c->nnodes; i++)
		json_array_append_new(items, sched_node_to_json(sorted[i]));
	free(sorted);
	set_json(r, 200,
		 json_pack("{s:s, s:s, s:{}, s:o}", "apiVersion", "v1", "kind", "NodeList",
			   "metadata", "items", items));
}

/* spec (without nodeName) and labels as JSON, for "unchanged" checks. */
static json_t *comparable(const api_pod_t *pod)
{
	json_t *j = api_pod_to_json(pod);
	json_t *spec = json_deep_copy(json_object_get(j, "spec"));
	json_t *labels = json_deep_copy(json_object_get(json_object_get(j, "metadata"), "labels"));

	json_decref(j);
	if (!spec)
		spec = json_object();
	json_object_del(spec, "nodeName");
	if (!labels)
		labels = json_object();
	return json_pack("{s:o, s:o}", "spec", spec, "labels", labels);
}

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static void create_pod(sched_cluster_t *c, const char *ns, const char *body, size_t len,
		       sched_http_resp_t *r)
{
	json_error_t jerr;
	json_t *j, *mns;
	api_pod_t pod;
	api_error_t err;
	sched_pod_t *old, *p;
	char msg[700];

	if (!api_is_dns1123_label(ns)) {
		snprintf(
		    msg, sizeof(msg),
		    "metadata.namespace: invalid namespace \"%.200s\": must be a DNS-1123 label",
		    ns);
		sched_http_status(r, 422, "Invalid", msg);
		return;
	}
	j = json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES, &jerr);
	if (!j) {
		snprintf(msg, sizeof(msg), "line %d column %d: %s", jerr.line, jerr.column,
			 jerr.text);
		sched_http_status(r, 400, "BadRequest", msg);
		return;
	}
	mns = json_object_get(json_object_get(j, "metadata"), "namespace");
	if (json_is_string(mns) && strcmp(json_string_value(mns), ns)) {
		snprintf(msg, sizeof(msg),
			 "metadata.namespace: \"%.200s\" does not match the namespace of the "
			 "request (\"%.200s\")",
			 json_string_value(mns), ns);
		json_decref(j);
		sched_http_status(r, 400, "BadRequest", msg);
		return;
	}
	memset(&pod, 0, sizeof(pod));
	if (api_pod_from_json(j, API_DECODE_USER, &pod, &err) < 0) {
		json_decref(j);
		sched_http_status(r, 422, "Invalid", err.msg);
		return;
	}
	json_decref(j);
	free(pod.namespace_);
	pod.namespace_ = sched_strdup(ns);

	old = sched_cluster_find_pod(c, ns, pod.name);
	if (old) {
		json_t *a = comparable(&pod), *b = comparable(&old->pod);
		bool same = json_equal(a, b) && same_str(pod.spec.node_name, old->pinned);

		json_decref(a);
		json_decref(b);
		if (same) {
			set_json(r, 200, api_pod_to_json(&old->pod));
		} else {
			snprintf(msg, sizeof(msg),
				 "pod \"%.300s\" already exists with a different spec; delete it "
				 "first",
				 pod.name);
			sched_http_status(r, 409, "AlreadyExists", msg);
		}
		api_pod_free(&pod);
		return;
	}
	p = sched_cluster_create_pod(c, &pod);
	if (!p) {
		sched_http_status(r, 500, "InternalError",
				  "the pod could not be stored (see the schedd log)");
		return;
	}
	set_json(r, 201, api_pod_to_json(&p->pod));
}

static char *metrics_text(sched_cluster_t *c)
{
	static const char *const phases[] = {"Pending", "Running", "Succeeded", "Failed",
					     "Unknown"};
	size_t pc[5] = {0}, nc[3] = {0};
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		abort();
	for (size_t i = 0; i < c->npods; i++) {
		const char *ph = c->pods[i]->pod.status.phase;
		size_t k;

		for (k = 0; k < 4; k++)
			if (ph && !strcmp(ph, phases[k]))
				break;
		pc[k]++;
	}
	for (size_t i = 0; i < c->nnodes; i++)
		nc[c->nodes[i]->ready == SCHED_READY_TRUE    ? 0
		   : c->nodes[i]->ready == SCHED_READY_FALSE ? 1
							     : 2]++;
	fputs("# HELP schedd_pods Pods by phase.\n# TYPE schedd_pods gauge\n", f);
	for (size_t k = 0; k < 5; k++)
		fprintf(f, "schedd_pods{phase=\"%s\"} %zu\n", phases[k], pc[k]);
	fputs("# HELP schedd_nodes Nodes by Ready condition.\n# TYPE schedd_nodes gauge\n", f);
	fprintf(f, "schedd_nodes{ready=\"true\"} %zu\n", nc[0]);
	fprintf(f, "schedd_nodes{ready=\"false\"} %zu\n", nc[1]);
	fprintf(f, "schedd_nodes{ready=\"unknown\"} %zu\n", nc[2]);
	fputs("# HELP schedd_http_requests_total HTTP requests served.\n"
	      "# TYPE schedd_http_requests_total counter\n",
	      f);
	fprintf(f, "schedd_http_requests_total %llu\n", (unsigned long long)c->http_requests);
	fclose(f);
	return buf;
}

/* Splits path into at most max segments (in place); returns how many, or -1. */
static int split(char *path, char **seg, int max)
{
	int n = 0;
	char *save = NULL;

	for (char *t = strtok_r(path, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
		if (n == max)
			return -1;
		seg[n++] = t;
	}
	return n;
}

static void method_not_allowed(sched_http_resp_t *r, const char *method, const char *path)
{
	char msg[400];

	snprintf(msg, sizeof(msg), "%s is not allowed on %.300s", method, path);
	sched_http_status(r, 405, "MethodNotAllowed", msg);
}

void sched_http_handle(sched_cluster_t *c, const char *method, const char *path, const char *body,
		       size_t len, sched_http_resp_t *r)
{
	char buf[1024];
	char *seg[8];
	int n;
	bool get = !strcmp(method, "GET"), post = !strcmp(method, "POST"),
	     del = !strcmp(method, "DELETE");

	memset(r, 0, sizeof(*r));
	c->http_requests++;
	if (strlen(path) >= sizeof(buf)) {
		sched_http_status(r, 414, "RequestURITooLong", "the request path is too long");
		return;
	}
	snprintf(buf, sizeof(buf), "%s", path);
	n = split(buf, seg, 8);
	if (n == 1 && !strcmp(seg[0], "healthz")) {
		if (!get)
			return method_not_allowed(r, method, path);
		return set_text(r, 200, "text/plain", sched_strdup("ok"));
	}
	if (n == 1 && !strcmp(seg[0], "metrics")) {
		if (!get)
			return method_not_allowed(r, method, path);
		return set_text(r, 200, "text/plain; version=0.0.4", metrics_text(c));
	}
	if (n < 3 || strcmp(seg[0], "api") || strcmp(seg[1], "v1"))
		goto not_found;
	if (n == 3 && !strcmp(seg[2], "pods")) {
		if (!get)
			return method_not_allowed(r, method, path);
		return list_pods(c, NULL, r);
	}
	if (!strcmp(seg[2], "nodes") && n <= 4) {
		sched_node_t *nd;

		if (!get)
			return method_not_allowed(r, method, path);
		if (n == 3)
			return list_nodes(c, r);
		nd = sched_cluster_find_node(c, seg[3]);
		if (!nd) {
			char msg[400];
			snprintf(msg, sizeof(msg), "nodes \"%.300s\" not found", seg[3]);
			return sched_http_status(r, 404, "NotFound", msg);
		}
		return set_json(r, 200, sched_node_to_json(nd));
	}
	if (!strcmp(seg[2], "namespaces") && n >= 5 && n <= 6 && !strcmp(seg[4], "pods")) {
		const char *ns = seg[3];
		sched_pod_t *p;

		if (n == 5) {
			if (get)
				return list_pods(c, ns, r);
			if (post)
				return create_pod(c, ns, body, len, r);
			return method_not_allowed(r, method, path);
		}
		if (!get && !del)
			return method_not_allowed(r, method, path);
		p = sched_cluster_find_pod(c, ns, seg[5]);
		if (!p)
			return not_found_pod(r, seg[5]);
		if (get)
			return set_json(r, 200, api_pod_to_json(&p->pod));
		return set_json(r, 200, sched_cluster_delete_pod(c, p));
	}
not_found:
	sched_http_status(r, 404, "NotFound", "the server could not find the requested resource");
}
