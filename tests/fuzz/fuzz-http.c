/* Fuzz target: schedd's HTTP API as a client drives it (request path, method
 * and body), through sched_http_handle on a fresh cluster with an in-memory
 * store that keeps nothing. The input is up to four requests separated by NUL
 * bytes, each "METHOD PATH\n" followed by its body, so that a create can be
 * followed by a get, a list or a delete of what it made. */
#include <errno.h>
#include <string.h>

#include "scheduler/server.h"
#include "scheduler/store.h"
#include "tests/fuzz/fuzz.h"

static int null_pod_put(sched_store_t *s, const sched_store_pod_t *p)
{
	(void)s;
	(void)p;
	return 0;
}
static int null_pod_get(sched_store_t *s, const char *ns, const char *name, sched_store_pod_cb cb,
			void *arg)
{
	(void)s, (void)ns, (void)name, (void)cb, (void)arg;
	return -ENOENT;
}
static int null_pod_delete(sched_store_t *s, const char *ns, const char *name)
{
	(void)s, (void)ns, (void)name;
	return 0;
}
static int null_pod_list(sched_store_t *s, sched_store_pod_cb cb, void *arg)
{
	(void)s, (void)cb, (void)arg;
	return 0;
}
static int null_node_put(sched_store_t *s, const sched_store_node_t *n)
{
	(void)s, (void)n;
	return 0;
}
static int null_node_list(sched_store_t *s, sched_store_node_cb cb, void *arg)
{
	(void)s, (void)cb, (void)arg;
	return 0;
}
static void null_close(sched_store_t *s)
{
	(void)s;
}

static const sched_store_ops_t null_ops = {
    .pod_put = null_pod_put,
    .pod_get = null_pod_get,
    .pod_delete = null_pod_delete,
    .pod_list = null_pod_list,
    .node_put = null_node_put,
    .node_list = null_node_list,
    .close = null_close,
};

static void one_request(sched_cluster_t *c, const char *req, size_t len)
{
	const char *end = req + len;
	const char *nl = memchr(req, '\n', len);
	const char *line_end = nl ? nl : end;
	const char *sp = memchr(req, ' ', (size_t)(line_end - req));
	if (sp == NULL)
		return;
	char *method = fuzz_strndup((const uint8_t *)req, (size_t)(sp - req));
	char *path = fuzz_strndup((const uint8_t *)sp + 1, (size_t)(line_end - sp - 1));
	const char *body = nl ? nl + 1 : NULL;
	size_t blen = nl ? (size_t)(end - body) : 0;
	/* The server hands a body that is not NUL-terminated; copy it exactly. */
	char *b = NULL;
	if (body != NULL) {
		b = malloc(blen ? blen : 1);
		if (b == NULL)
			abort();
		memcpy(b, body, blen);
	}
	sched_http_resp_t resp;
	sched_http_handle(c, method, path, b, blen, &resp);
	FUZZ_CHECK(resp.code >= 200 && resp.code < 600, "status %d for %s %s", resp.code, method,
		   path);
	FUZZ_CHECK(resp.body != NULL || resp.len == 0, "a length without a body");
	if (resp.code >= 400 && resp.body != NULL) {
		json_error_t jerr;
		json_t *j = json_loadb(resp.body, resp.len, 0, &jerr);
		FUZZ_CHECK(j != NULL, "error %d is not JSON (%s): %.*s", resp.code, jerr.text,
			   (int)resp.len, resp.body);
		json_decref(j);
	}
	free(resp.body);
	free(b);
	free(path);
	free(method);
}

int FUZZ_ENTRY(http)(const uint8_t *data, size_t size)
{
	static sched_config_t cfg;
	static bool have_cfg;
	if (!have_cfg) {
		char arg0[] = "schedd", *argv[] = {arg0, NULL};
		char msg[256];
		FUZZ_CHECK(sched_config_parse(&cfg, 1, argv, msg, sizeof(msg)) == 0, "%s", msg);
		have_cfg = true;
	}
	if (size > 65536)
		return 0;
	sched_store_t store = {.ops = &null_ops};
	sched_cluster_t c;
	char msg[256];
	memset(&c, 0, sizeof(c));
	FUZZ_CHECK(sched_cluster_init(&c, &cfg, &store, msg, sizeof(msg)) == 0, "%s", msg);
	const char *p = (const char *)data, *end = p + size;
	for (int i = 0; i < 4 && p < end; i++) {
		const char *z = memchr(p, '\0', (size_t)(end - p));
		size_t n = z ? (size_t)(z - p) : (size_t)(end - p);
		one_request(&c, p, n);
		p += n + 1;
	}
	sched_cluster_free(&c);
	return 0;
}
