/* libwebsockets 4.1.6 on schedd's libuv loop (foreign loop): one explicit
 * vhost listening on --listen, protocol "http" for the API and protocol
 * "nodelet.v1" for the node WebSocket at /v1/node. See PITFALLS.md for why
 * each option below is there. */
#include <arpa/inet.h>
#include <errno.h>
#include <libwebsockets.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "scheduler/sched.h"
#include "scheduler/server.h"

/* Largest request body accepted (a Pod is a few kB). */
#define MAX_BODY (1u << 20)

struct sched_server {
	struct lws_context *ctx;
	struct lws_vhost *vh;
	sched_cluster_t *cluster;
	char *token;
	void *loops[1];
	bool stopped;
};

/* Per HTTP connection. */
struct http_pss {
	char method[8];
	char path[1024];
	char *body;
	size_t len, expect;
	int deferred_code; /* answer this once the body has been read (e.g. 401) */
};

/* Per WebSocket connection. */
struct ws_pss {
	struct sched_session *session;
};

/* Nodes ping after 10 s of silence and are hung up on after 30 s without a
 * pong, so a frozen peer's socket goes away (the grace timer decides
 * readiness independently). */
static const lws_retry_bo_t idle_policy = {
    .secs_since_valid_ping = 10,
    .secs_since_valid_hangup = 30,
};

static sched_server_t *server_of(struct lws *wsi)
{
	return lws_context_user(lws_get_context(wsi));
}

/* Writes a whole response (headers and body) and finishes the transaction.
 * Returns what the callback must return. */
static int respond(struct lws *wsi, int code, const char *ctype, const char *body, size_t len)
{
	size_t hdr = 1024;
	unsigned char *buf = malloc(LWS_PRE + (len > hdr ? len : hdr));
	unsigned char *start, *p, *end;
	int rc = 0;

	if (!buf)
		abort();
	start = p = buf + LWS_PRE;
	end = start + hdr - 1;
	if (lws_add_http_common_headers(wsi, (unsigned int)code, ctype, len, &p, end) ||
	    lws_finalize_write_http_header(wsi, start, &p, end)) {
		free(buf);
		return -1;
	}
	if (len) {
		memcpy(start, body, len);
		if (lws_write(wsi, start, len, LWS_WRITE_HTTP_FINAL) != (int)len)
			rc = -1;
	}
	free(buf);
	if (rc || lws_http_transaction_completed(wsi))
		return -1;
	return 0;
}

static int respond_status(struct lws *wsi, int code, const char *reason, const char *msg)
{
	sched_http_resp_t r;
	int rc;

	sched_http_status(&r, code, reason, msg);
	rc = respond(wsi, r.code, r.content_type, r.body, r.len);
	free(r.body);
	return rc;
}

static bool authorized(sched_server_t *srv, struct lws *wsi, const char *path)
{
	char hdr[512];
	int n;

	if (!srv->token || strncmp(path, "/api/", 5))
		return true;
	n = lws_hdr_copy(wsi, hdr, sizeof(hdr), WSI_TOKEN_HTTP_AUTHORIZATION);
	if (n <= 7 || strncasecmp(hdr, "Bearer ", 7))
		return false;
	return !strcmp(hdr + 7, srv->token);
}

static int answer(struct lws *wsi, struct http_pss *pss)
{
	sched_server_t *srv = server_of(wsi);
	sched_http_resp_t r;
	int rc;

	if (pss->deferred_code == 401) {
		srv->cluster->http_requests++;
		return respond_status(wsi, 401, "Unauthorized",
				      "missing or wrong bearer token (Authorization: Bearer ...)");
	}
	sched_http_handle(srv->cluster, pss->method, pss->path, pss->body, pss->len, &r);
	/* Changes and failures are events worth a line; reads are not. */
	if (strcmp(pss->method, "GET") || r.code >= 400)
		sched_info("%s %s -> %d", pss->method, pss->path, r.code);
	rc = respond(wsi, r.code, r.content_type, r.body, r.len);
	free(r.body);
	return rc;
}

static void reset_pss(struct http_pss *pss)
{
	free(pss->body);
	memset(pss, 0, sizeof(*pss));
}

static int on_http(struct lws *wsi, struct http_pss *pss)
{
	static const char *const names[] = {
	    [LWSHUMETH_GET] = "GET", [LWSHUMETH_POST] = "POST",	  [LWSHUMETH_OPTIONS] = "OPTIONS",
	    [LWSHUMETH_PUT] = "PUT", [LWSHUMETH_PATCH] = "PATCH", [LWSHUMETH_DELETE] = "DELETE",
	};
	sched_server_t *srv = server_of(wsi);
	char *uri = NULL, cl[32];
	int ulen = 0, m;
	char *q;

	reset_pss(pss);
	m = lws_http_get_uri_and_method(wsi, &uri, &ulen);
	if (m < 0 || m > LWSHUMETH_DELETE || !uri || ulen <= 0)
		return respond_status(wsi, 405, "MethodNotAllowed", "method not supported");
	snprintf(pss->method, sizeof(pss->method), "%s", names[m]);
	snprintf(pss->path, sizeof(pss->path), "%.*s", ulen, uri);
	q = strchr(pss->path, '?');
	if (q)
		*q = '\0';
	if (!authorized(srv, wsi, pss->path))
		pss->deferred_code = 401;
	if (m != LWSHUMETH_POST && m != LWSHUMETH_PUT && m != LWSHUMETH_PATCH)
		return answer(wsi, pss);

	/* A body: only with Content-Length (lws never completes a chunked one). */
	if (lws_hdr_copy(wsi, cl, sizeof(cl), WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0) {
		srv->cluster->http_requests++;
		sched_info("%s %s -> 411 (no Content-Length)", pss->method, pss->path);
		respond_status(wsi, 411, "LengthRequired",
			       "a request body needs a Content-Length header");
		return -1; /* the body that may follow cannot be framed: drop the connection */
	}
	pss->expect = strtoull(cl, NULL, 10);
	if (pss->expect > MAX_BODY) {
		char msg[128];

		srv->cluster->http_requests++;
		snprintf(msg, sizeof(msg), "request body of %zu bytes is larger than %u",
			 pss->expect, MAX_BODY);
		sched_info("%s %s -> 413 (%s)", pss->method, pss->path, msg);
		respond_status(wsi, 413, "RequestEntityTooLarge", msg);
		return -1;
	}
	if (pss->expect == 0)
		return answer(wsi, pss);
	pss->body = malloc(pss->expect + 1);
	if (!pss->body)
		abort();
	return 0;
}

static int http_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		   size_t len)
{
	struct http_pss *pss = user;

	switch (reason) {
	case LWS_CALLBACK_HTTP:
		return on_http(wsi, pss);
	case LWS_CALLBACK_HTTP_BODY:
		if (!pss->body || pss->len + len > pss->expect)
			return -1;
		memcpy(pss->body + pss->len, in, len);
		pss->len += len;
		return 0;
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		if (!pss->body)
			return -1;
		pss->body[pss->len] = '\0';
		return answer(wsi, pss);
	case LWS_CALLBACK_CLOSED_HTTP:
	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
		reset_pss(pss);
		return 0;
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		/* A WebSocket upgrade without our subprotocol lands here: refuse. */
		return -1;
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static int ws_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		 size_t len)
{
	struct ws_pss *pss = user;
	sched_server_t *srv;
	char path[64];

	switch (reason) {
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		if (lws_hdr_copy(wsi, path, sizeof(path), WSI_TOKEN_GET_URI) <= 0 ||
		    strcmp(path, API_WS_PATH))
			return -1;
		return 0;
	case LWS_CALLBACK_ESTABLISHED:
		srv = server_of(wsi);
		pss->session = sched_session_new(srv->cluster, wsi);
		return 0;
	case LWS_CALLBACK_RECEIVE:
		if (!pss->session)
			return -1;
		return sched_session_receive(pss->session, in, len);
	case LWS_CALLBACK_SERVER_WRITEABLE:
		if (!pss->session)
			return 0;
		return sched_session_writable(pss->session);
	case LWS_CALLBACK_CLOSED:
		sched_session_closed(pss->session);
		pss->session = NULL;
		return 0;
	default:
		break;
	}
	return 0;
}

static const struct lws_protocols protocols[] = {
    {"http", http_cb, sizeof(struct http_pss), 0, 0, NULL, 0},
    {API_WS_SUBPROTOCOL, ws_cb, sizeof(struct ws_pss), 64 * 1024, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* Finds why a bind failed, since lws does not say: tries it ourselves. */
static const char *bind_error(const char *host, int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	const char *why = "the listener could not be created";

	if (fd < 0)
		return strerror(errno);
	inet_pton(AF_INET, host, &sa.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 1) < 0)
		why = strerror(errno);
	close(fd);
	return why;
}

static void lws_log_emit(int level, const char *line)
{
	size_t n = strlen(line);

	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	sched_log(level == LLL_ERR ? 'E' : 'W', "lws: %.*s", (int)n, line);
}

sched_server_t *sched_server_start(uv_loop_t *loop, sched_cluster_t *c, const sched_config_t *cfg,
				   const char *token, char *err, size_t errlen)
{
	struct lws_context_creation_info info;
	sched_server_t *s = calloc(1, sizeof(*s));

	if (!s)
		abort();
	s->cluster = c;
	s->token = sched_strdup(token);
	s->loops[0] = loop;

	lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_emit);
	memset(&info, 0, sizeof(info));
	info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_EXPLICIT_VHOSTS |
		       LWS_SERVER_OPTION_DISABLE_IPV6;
	info.foreign_loops = s->loops;
	info.user = s;
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	s->ctx = lws_create_context(&info);
	if (!s->ctx) {
		snprintf(err, errlen,
			 "cannot create the libwebsockets context (is the libuv plugin, package "
			 "libwebsockets-evlib-uv, installed?)");
		free(s->token);
		free(s);
		return NULL;
	}

	memset(&info, 0, sizeof(info));
	info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_DISABLE_IPV6;
	info.port = cfg->listen_port;
	info.iface = strcmp(cfg->listen_host, "0.0.0.0") ? cfg->listen_host : NULL;
	info.protocols = protocols;
	info.vhost_name = "schedd";
	info.retry_and_idle_policy = &idle_policy;
	info.timeout_secs = 10;
	s->vh = lws_create_vhost(s->ctx, &info);
	if (!s->vh) {
		snprintf(err, errlen, "cannot listen on %s:%d: %s", cfg->listen_host,
			 cfg->listen_port, bind_error(cfg->listen_host, cfg->listen_port));
		/* The context never served anything; one destroy plus a loop turn is
		 * enough before the caller exits. */
		lws_context_destroy(s->ctx);
		uv_run(loop, UV_RUN_NOWAIT);
		lws_context_destroy(s->ctx);
		free(s->token);
		free(s);
		return NULL;
	}
	sched_info("listening on %s:%d (HTTP API, node WebSocket at %s)", cfg->listen_host,
		   cfg->listen_port, API_WS_PATH);
	return s;
}

void sched_server_stop(sched_server_t *s)
{
	if (s->stopped)
		return;
	s->stopped = true;
	lws_context_destroy(s->ctx);
}

void sched_server_free(sched_server_t *s)
{
	if (!s)
		return;
	lws_context_destroy(s->ctx);
	free(s->token);
	free(s);
}
