/* libapi — the contract between schedctl, schedd and nodelet.
 *
 * The Kubernetes v1 Pod model (the subset nodelet supports) with its JSON codec
 * and validation, Kubernetes resource quantities, and the framing of the wire
 * Envelope (proto/nodelet.proto, compiled by protoc-c at build time).
 *
 * Ownership: every api_*_t filled by a decode function owns all of its strings
 * and arrays; release it with the matching *_free (which accepts a zeroed
 * struct). Strings are NUL-terminated UTF-8. Nothing here does I/O.
 */
#ifndef NODELET_API_H
#define NODELET_API_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/nodelet.pb-c.h"

#define API_PROTOCOL_VERSION 1
#define API_WS_SUBPROTOCOL "nodelet.v1"
#define API_WS_PATH "/v1/node"

/* An error message meant for a user: "spec.containers[1].resources.limits.memory:
 * invalid quantity \"12XB\"" — the JSON path of the field, then what is wrong. */
typedef struct api_error {
	char msg[512];
} api_error_t;

/* ---- quantities -------------------------------------------------------- */

/* CPU: "100m", "0.5", "2", "1.25" -> millicores. Returns 0, or -EINVAL for
 * anything Kubernetes would refuse (negative, junk suffix, sub-milli precision
 * is rounded up as Kubernetes does). */
int api_quantity_parse_cpu(const char *s, int64_t *millis);
/* Memory: "64Mi", "1G", "128974848", "129e6", "0.5Gi", "100m" (millibytes,
 * rounded up) -> bytes. Returns 0 or -EINVAL (also on overflow). */
int api_quantity_parse_memory(const char *s, int64_t *bytes);
/* Canonical short forms: 1500 -> "1500m", 2000 -> "2"; 67108864 -> "64Mi",
 * 1000000 -> "1M", 1234 -> "1234". Writes at most len bytes (NUL included). */
void api_quantity_format_cpu(int64_t millis, char *buf, size_t len);
void api_quantity_format_memory(int64_t bytes, char *buf, size_t len);

/* ---- the Pod model ----------------------------------------------------- */

typedef struct api_kv {
	char *key;
	char *value;
} api_kv_t;

/* An ordered string map (labels, annotations, nodeSelector, env). */
typedef struct api_kvlist {
	api_kv_t *items;
	size_t n;
} api_kvlist_t;

/* Returns the value for key, or NULL. */
const char *api_kv_get(const api_kvlist_t *l, const char *key);
/* Sets key to value (copies both), replacing an existing entry. */
void api_kv_set(api_kvlist_t *l, const char *key, const char *value);
void api_kvlist_free(api_kvlist_t *l);

/* cpu_millis / memory_bytes are -1 when not given. */
typedef struct api_resource_list {
	int64_t cpu_millis;
	int64_t memory_bytes;
} api_resource_list_t;

typedef struct api_resources {
	api_resource_list_t requests;
	api_resource_list_t limits;
} api_resources_t;

typedef struct api_port {
	char *name; /* may be NULL */
	int32_t container_port;
	char *protocol; /* "TCP" (default), "UDP", "SCTP" */
} api_port_t;

typedef struct api_container {
	char *name;
	char *image;
	char *image_pull_policy; /* NULL when not given */
	char **command;		 /* NULL-terminated, NULL when not given */
	char **args;		 /* NULL-terminated, NULL when not given */
	char *working_dir;	 /* NULL when not given */
	api_kvlist_t env;	 /* plain name/value env only */
	api_port_t *ports;
	size_t nports;
	api_resources_t resources;
} api_container_t;

typedef struct api_pod_spec {
	api_container_t *containers;
	size_t ncontainers;
	char *restart_policy; /* "Always" (default), "OnFailure", "Never" */
	api_kvlist_t node_selector;
	char *node_name;			  /* NULL until bound (or when the user pins it) */
	int64_t termination_grace_period_seconds; /* default 30 */
} api_pod_spec_t;

typedef enum api_cstate_kind {
	API_CSTATE_NONE = 0, /* no state (lastState when never terminated) */
	API_CSTATE_WAITING,
	API_CSTATE_RUNNING,
	API_CSTATE_TERMINATED,
} api_cstate_kind_t;

/* Times are Unix milliseconds, 0 when unknown. */
typedef struct api_container_state {
	api_cstate_kind_t kind;
	char *reason; /* Waiting: ContainerCreating, ErrImagePull, CrashLoopBackOff...;
			 Terminated: Completed, Error, OOMKilled */
	char *message;
	int32_t exit_code;
	int32_t signal;
	int64_t started_at;
	int64_t finished_at;
} api_container_state_t;

typedef struct api_container_status {
	char *name;
	char *image;
	api_container_state_t state;
	api_container_state_t last_state;
	int32_t restart_count;
	bool ready;
	/* Usage, an extension to the Kubernetes shape (status.containerStatuses[].usage):
	 * cpu in millicores averaged over the last sample, memory in bytes; -1 unknown. */
	int64_t usage_cpu_millis;
	int64_t usage_memory_bytes;
} api_container_status_t;

typedef struct api_pod_status {
	char *phase;   /* Pending, Running, Succeeded, Failed, Unknown */
	char *reason;  /* e.g. "Unschedulable", "NodeLost" */
	char *message; /* e.g. "0/3 nodes available: 2 insufficient memory, ..." */
	char *pod_ip;
	char *host_ip;
	int64_t start_time;
	api_container_status_t *container_statuses;
	size_t ncontainer_statuses;
} api_pod_status_t;

typedef struct api_pod {
	char *name;
	char *namespace_; /* "default" when not given */
	char *uid;
	api_kvlist_t labels;
	api_kvlist_t annotations;
	int64_t creation_timestamp; /* Unix ms */
	int64_t deletion_timestamp; /* Unix ms; 0 unless being deleted */
	int64_t generation;	    /* bumped each time the pod is (re)bound to a node */
	int64_t resource_version;
	api_pod_spec_t spec;
	api_pod_status_t status;
} api_pod_t;

/* Decoding flags. */
enum {
	/* User input (apply): status is ignored, uid/creationTimestamp/generation
	 * are ignored, unknown and unsupported fields are refused with their path. */
	API_DECODE_USER = 0,
	/* Stored or internal form (as written by api_pod_to_json): read everything,
	 * status and system metadata included. */
	API_DECODE_STORED = 1,
};

/* Decodes and validates a Pod (apiVersion "v1", kind "Pod"). On error returns
 * -EINVAL, fills err with "<json path>: <what is wrong>" and leaves *pod zeroed.
 * Rules: metadata.name a DNS-1123 subdomain; namespace a DNS-1123 label;
 * container names DNS-1123 labels and unique; image required; quantities valid;
 * limits >= requests; restartPolicy one of Always/OnFailure/Never; ports 1-65535;
 * any field nodelet does not support: "<path>: not supported". */
int api_pod_from_json(const json_t *j, int flags, api_pod_t *pod, api_error_t *err);
/* Same, from text. A syntax error reads "line L column C: <jansson message>". */
int api_pod_from_text(const char *text, size_t len, int flags, api_pod_t *pod, api_error_t *err);

/* Encodes a Pod in the Kubernetes API shape (apiVersion, kind, metadata with
 * RFC 3339 timestamps, spec, status with containerStatuses[].state/lastState/
 * restartCount/ready and the usage extension). Returns a new reference. */
json_t *api_pod_to_json(const api_pod_t *pod);

/* Deep copy; dst must not hold anything (it is overwritten). */
void api_pod_copy(api_pod_t *dst, const api_pod_t *src);
void api_pod_free(api_pod_t *pod);
void api_container_status_free(api_container_status_t *cs);

/* Sum of container requests (a container with only a limit requests its
 * limit, as Kubernetes defaults it); -1 fields count as 0. */
api_resource_list_t api_pod_requests(const api_pod_t *pod);

/* RFC 3339 with seconds ("2026-11-29T09:10:11Z") into buf; 0 ms -> "". */
void api_format_time(int64_t unix_ms, char *buf, size_t len);
/* Parses RFC 3339 (fractional seconds and offsets allowed). -EINVAL on junk. */
int api_parse_time(const char *s, int64_t *unix_ms);
/* Validators, exposed for schedctl and tests. */
bool api_is_dns1123_label(const char *s);
bool api_is_dns1123_subdomain(const char *s);

/* ---- wire envelope ----------------------------------------------------- */

/* Packs env into a new malloc'd buffer (*buf, *len); caller frees *buf. */
int api_envelope_pack(const Nodelet__V1__Envelope *env, uint8_t **buf, size_t *len);
/* Unpacks one frame. Refuses (returns NULL, fills err) an undecodable frame,
 * one whose oneof is NOT_SET, and one with invalid UTF-8 in any string.
 * Free the result with nodelet__v1__envelope__free_unpacked(env, NULL). */
Nodelet__V1__Envelope *api_envelope_unpack(const uint8_t *buf, size_t len, api_error_t *err);

/* Conversions between the model and the wire. */
/* Fills a heap-allocated wire PodStatus from the model (free with
 * api_wire_pod_status_free). */
Nodelet__V1__PodStatus *api_wire_pod_status_new(const char *uid, int64_t generation,
						const api_pod_status_t *st);
void api_wire_pod_status_free(Nodelet__V1__PodStatus *ws);
/* Replaces pod->status with what the wire message says (containers matched by name). */
void api_pod_status_from_wire(api_pod_status_t *st, const Nodelet__V1__PodStatus *ws);

#endif
