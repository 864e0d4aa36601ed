/* schedctl internals: the HTTP client and the kubectl-style printers.
 * Not part of libsched; only scheduler/schedctl*.c and their tests use it. */
#ifndef NODELET_SCHEDCTL_H
#define NODELET_SCHEDCTL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- printing (schedctl-print.c): pure functions over the API's JSON ---- */

/* kubectl's HumanDuration: "45s", "3m12s", "15m", "5h", "7h30m", "2d", "3d4h", "1y20d". */
void sc_format_age(int64_t seconds, char *buf, size_t len);
/* AGE of an object: now - metadata.creationTimestamp, "<unknown>" if absent. */
void sc_object_age(const json_t *obj, int64_t now_ms, char *buf, size_t len);
/* The STATUS column of `get pods`, as kubectl derives it: the phase, or a
 * container's waiting/terminated reason (CrashLoopBackOff, OOMKilled,
 * Completed, ErrImagePull...), "Terminating" when deletionTimestamp is set. */
void sc_pod_status(const json_t *pod, char *buf, size_t len);
/* READY column: "ready/total" (total from spec.containers). */
void sc_pod_ready(const json_t *pod, char *buf, size_t len);
/* RESTARTS column: "0", or "3 (2m ago)" when the last termination is known. */
void sc_pod_restarts(const json_t *pod, int64_t now_ms, char *buf, size_t len);
/* Node STATUS column: "Ready"/"NotReady", plus ",SchedulingDisabled". */
void sc_node_status(const json_t *node, char *buf, size_t len);
/* Node ROLES column from node-role.kubernetes.io/<role> labels, or "<none>". */
void sc_node_roles(const json_t *node, char *buf, size_t len);

/* Tables. items: a JSON array of Pods/Nodes. */
void sc_print_pods(FILE *out, const json_t *items, bool wide, bool all_namespaces, int64_t now_ms);
void sc_print_nodes(FILE *out, const json_t *items, bool wide, int64_t now_ms);
/* `describe pod`, kubectl's layout. */
void sc_describe_pod(FILE *out, const json_t *pod, int64_t now_ms);

/* ---- HTTP (schedctl-http.c) --------------------------------------------- */

typedef struct sc_response {
	long code;  /* HTTP status */
	char *body; /* NUL-terminated, malloc'd; free with sc_response_free */
	size_t len;
} sc_response_t;

/* One request to server + path. body may be NULL. Returns 0 with *resp
 * filled for any HTTP answer, or -1 with err "cannot reach schedd at URL:
 * Connection refused" when no answer came. */
int sc_http(const char *server, const char *method, const char *path, const char *body,
	    sc_response_t *resp, char *err, size_t errlen);
void sc_response_free(sc_response_t *resp);
/* The message of a Kubernetes Status body, or the raw body / "HTTP <code>". */
void sc_response_message(const sc_response_t *resp, char *buf, size_t len);
/* The reason of a Status body ("NotFound"), or "" */
const char *sc_response_reason(const sc_response_t *resp, char *buf, size_t len);

/* ---- YAML (schedctl-yaml.c) ---------------------------------------------- */

/* Converts a YAML manifest to JSON (*out, a new reference; several documents
 * become a v1 List). -1 with err "line L column C: ..." on bad YAML, or
 * "YAML input is not supported yet; convert to JSON" without libyaml. */
int sc_yaml_to_json(const char *text, size_t len, json_t **out, char *err, size_t errlen);

#endif
