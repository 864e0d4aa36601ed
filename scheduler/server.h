/* schedd's network side: libwebsockets on schedd's own libuv loop, serving
 * the HTTP/JSON API and the node WebSocket on one listener. */
#ifndef NODELET_SCHED_SERVER_H
#define NODELET_SCHED_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "scheduler/sched.h"

struct lws;
typedef struct sched_server sched_server_t;

/* Creates the lws context on loop and the listener at cfg->listen_host:port.
 * token, if not NULL, is required as "Authorization: Bearer <token>" on /api
 * (copied). Returns NULL with a message in err ("cannot listen on
 * 127.0.0.1:7080: Address already in use"). The server borrows c and cfg. */
sched_server_t *sched_server_start(uv_loop_t *loop, sched_cluster_t *c, const sched_config_t *cfg,
				   const char *token, char *err, size_t errlen);
/* First half of shutdown: starts closing every connection and lws's handles.
 * Let uv_run drain, then call sched_server_free. */
void sched_server_stop(sched_server_t *s);
/* Second half: finishes the lws context and frees s. */
void sched_server_free(sched_server_t *s);

/* ---- node WebSocket sessions (session.c), driven by server.c ---------- */

struct sched_session;
/* A new session for a WebSocket that just opened; free with _closed. */
struct sched_session *sched_session_new(sched_cluster_t *c, struct lws *wsi);
/* Feeds one received fragment; returns -1 when the connection must close
 * (close reason already set). */
int sched_session_receive(struct sched_session *s, const void *in, size_t len);
/* Writes the next queued frame; returns -1 when the connection must close. */
int sched_session_writable(struct sched_session *s);
/* The connection is gone: detaches from its node and frees s. */
void sched_session_closed(struct sched_session *s);

/* ---- HTTP API (http-api.c), pure over the cluster ---------------------- */

typedef struct sched_http_resp {
	int code;
	const char *content_type;
	char *body; /* malloc'd, owned by the caller after the call */
	size_t len;
} sched_http_resp_t;

/* Answers one request (path without query; body may be NULL for GET and
 * DELETE). Always fills resp. */
void sched_http_handle(sched_cluster_t *c, const char *method, const char *path, const char *body,
		       size_t len, sched_http_resp_t *resp);
/* A Kubernetes Status error body in resp. */
void sched_http_status(sched_http_resp_t *resp, int code, const char *reason, const char *msg);

#endif
