/* libsched — the parts of schedd: configuration, logging, the node model, the
 * pure scheduling functions (filter, score, the "0/3 nodes available" message),
 * the cluster state (pods, nodes, bindings, node lifecycle), the HTTP API
 * handlers and the node WebSocket sessions.
 *
 * Everything here runs on schedd's one libuv loop thread; nothing is locked.
 * Ownership is said above each function.
 */
#ifndef NODELET_SCHED_H
#define NODELET_SCHED_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/api.h"

#define SCHED_VERSION "0.1.0"

/* ---- logging ----------------------------------------------------------- */

/* One line to stderr: "<level> HH:MM:SS.mmm <message>" (level I, W or E). */
void sched_log(char level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define sched_info(...) sched_log('I', __VA_ARGS__)
#define sched_warn(...) sched_log('W', __VA_ARGS__)
#define sched_error(...) sched_log('E', __VA_ARGS__)

/* Wall clock in Unix ms, and a monotonic clock in ms. */
int64_t sched_now_ms(void);
int64_t sched_mono_ms(void);

/* ---- configuration (config.c) ------------------------------------------ */

typedef struct sched_config {
	char listen_host[64];
	int listen_port;
	const char *data_dir;
	int64_t node_grace_ms;
	int64_t eviction_timeout_ms;
	int64_t heartbeat_interval_ms;
	uint32_t cidr_base; /* host order */
	int cidr_prefix;
	const char *token_file;
} sched_config_t;

/* Parses "40s", "5m", "1500ms", "1h", "2" (seconds) into ms. 0 or -EINVAL. */
int sched_parse_duration(const char *s, int64_t *ms);
/* Parses "10.244.0.0/16" (prefix 8..24). 0 or -EINVAL. */
int sched_parse_cidr(const char *s, uint32_t *base, int *prefix);
/* Formats the index-th /24 of the cluster CIDR ("10.244.<index>.0/24").
 * Returns 0, or -ERANGE when index is outside the cluster CIDR (or < 1). */
int sched_pod_cidr(uint32_t base, int prefix, int index, char *buf, size_t len);
/* Parses the command line into cfg (defaults first). Returns 0 to run, 1 when
 * --help or --version was printed to stdout, -EINVAL with a message in err. */
int sched_config_parse(sched_config_t *cfg, int argc, char **argv, char *err, size_t errlen);

/* ---- node model (node.c) ----------------------------------------------- */

typedef enum sched_ready {
	SCHED_READY_UNKNOWN = 0,
	SCHED_READY_TRUE,
	SCHED_READY_FALSE,
} sched_ready_t;

struct sched_session;

typedef struct sched_node {
	char *name;
	api_kvlist_t labels;
	int64_t created_ms;
	char *pod_cidr;
	int cidr_index;
	bool unschedulable;
	int64_t cap_cpu_millis, cap_memory_bytes, cap_pods;
	int64_t alloc_cpu_millis, alloc_memory_bytes, alloc_pods;
	int64_t use_cpu_millis, use_memory_bytes, use_pods; /* -1 unknown */
	char **addresses;				    /* NULL-terminated, may be NULL */
	char *version;
	sched_ready_t ready;
	char *ready_reason;
	char *ready_message;
	int64_t last_heartbeat_ms; /* wall clock, for display */
	int64_t ready_transition_ms;
	int64_t last_seen_mono;	       /* grace clock */
	int64_t not_ready_since_mono;  /* eviction clock */
	bool evicted;		       /* pods already re-placed for this outage */
	struct sched_session *session; /* connected session or NULL */
} sched_node_t;

/* A new empty node named name (copied); free with sched_node_free. */
sched_node_t *sched_node_new(const char *name);
void sched_node_free(sched_node_t *n);
/* Sets the Ready condition (copies strings); records a transition time when
 * the status changes. */
void sched_node_set_ready(sched_node_t *n, sched_ready_t r, const char *reason, const char *msg);
/* The Node in the API shape (apiVersion v1, kind Node). New reference. */
json_t *sched_node_to_json(const sched_node_t *n);
/* What the store keeps (labels, capacity, addresses, creation time, version)
 * and back. from_stored returns a new node (Ready Unknown) or NULL on junk. */
json_t *sched_node_to_stored(const sched_node_t *n);
sched_node_t *sched_node_from_stored(const char *name, const char *json_text);

/* ---- scheduling (scheduler.c, pure) ------------------------------------ */

/* Why a node was filtered out, in the order the message lists them. */
enum sched_reason {
	SCHED_R_CPU = 0,
	SCHED_R_MEMORY,
	SCHED_R_SELECTOR,
	SCHED_R_NOT_READY,
	SCHED_R_UNSCHEDULABLE,
	SCHED_R_PODS,
	SCHED_R_COUNT
};

/* A node as the scheduler sees it: what it offers and what pods bound there
 * already request. Pointers are borrowed. */
typedef struct sched_candidate {
	const char *name;
	bool ready;
	bool unschedulable;
	const api_kvlist_t *labels;
	int64_t alloc_cpu_millis, alloc_memory_bytes, alloc_pods;
	int64_t req_cpu_millis, req_memory_bytes, npods;
} sched_candidate_t;

/* Bitmask of (1 << enum sched_reason) the node fails for pod (whose summed
 * requests are req); 0 when the pod fits. A not-ready, unschedulable or
 * selector-mismatched node reports only that reason; resource shortfalls are
 * all reported. */
unsigned sched_filter(const sched_candidate_t *c, const api_pod_t *pod, api_resource_list_t req);
/* Least-allocated score in [0,1]: the average of the cpu and memory fractions
 * left free after placing req. */
double sched_score(const sched_candidate_t *c, api_resource_list_t req);
/* "0/3 nodes available: 2 insufficient memory, 1 did not match nodeSelector"
 * from per-reason counts (total = number of nodes considered). */
void sched_unschedulable_message(size_t total, const unsigned counts[SCHED_R_COUNT], char *buf,
				 size_t len);
/* Filters and scores n candidates for pod; returns the index of the best (ties
 * broken by name), or -1 with the unschedulable message in msg. */
int sched_pick(const sched_candidate_t *c, size_t n, const api_pod_t *pod, char *msg, size_t len);

/* ---- cluster state (cluster.c) ----------------------------------------- */

struct sched_store;

/* A pod as schedd holds it: the model plus the node the user pinned it to
 * (spec.nodeName given at apply), which survives unbinding. */
typedef struct sched_pod {
	api_pod_t pod;
	char *pinned;
} sched_pod_t;

typedef struct sched_cluster {
	const sched_config_t *cfg;
	struct sched_store *store;
	sched_pod_t **pods;
	size_t npods, podcap;
	sched_node_t **nodes;
	size_t nnodes, nodecap;
	int64_t resource_version;
	uint64_t http_requests;
	unsigned ticks;
} sched_cluster_t;

/* strdup that aborts on allocation failure; NULL stays NULL. */
char *sched_strdup(const char *s);

/* Loads every pod and node from store (nodes come back NotReady until they
 * reconnect; grace and eviction clocks start now). Returns 0 or -errno with
 * err filled. The cluster borrows cfg and store. */
int sched_cluster_init(sched_cluster_t *c, const sched_config_t *cfg, struct sched_store *store,
		       char *err, size_t errlen);
void sched_cluster_free(sched_cluster_t *c);

sched_pod_t *sched_cluster_find_pod(sched_cluster_t *c, const char *ns, const char *name);
sched_pod_t *sched_cluster_find_uid(sched_cluster_t *c, const char *uid);
sched_node_t *sched_cluster_find_node(sched_cluster_t *c, const char *name);

/* Takes ownership of *pod (a validated user pod; it is zeroed): gives it a uid,
 * creation time and Pending status, stores it and tries to schedule it.
 * Returns the held pod, or NULL if the store refused (pod freed). */
sched_pod_t *sched_cluster_create_pod(sched_cluster_t *c, api_pod_t *pod);
/* Starts deleting p: sets deletionTimestamp, and either removes it at once
 * (unbound, or its node is not Ready/connected) or sends StopPod to its node.
 * Returns the pod's JSON as it was answered (new reference); p may be freed. */
json_t *sched_cluster_delete_pod(sched_cluster_t *c, sched_pod_t *p);
/* Writes p through to the store (bumping resourceVersion). 0 or -errno. */
int sched_cluster_save_pod(sched_cluster_t *c, sched_pod_t *p);
/* Tries to bind every unbound pod; records why when a pod fits nowhere. */
void sched_cluster_schedule(sched_cluster_t *c);
/* The 1-second node lifecycle tick: grace -> NotReady, eviction -> re-place. */
void sched_cluster_tick(sched_cluster_t *c);

/* Node session events (from session.c). s is the session the event came on;
 * an event on a session that is no longer the node's current one is ignored. */
/* Accepts a validated Register: assigns or recalls the pod CIDR, sends the
 * RegisterReply, reconciles the pods the node reports. Returns the node, or
 * NULL with a message in msg (the session then refuses and closes). */
sched_node_t *sched_cluster_register(sched_cluster_t *c, struct sched_session *s,
				     const Nodelet__V1__Register *r, char *msg, size_t len);
void sched_cluster_heartbeat(sched_cluster_t *c, struct sched_session *s, sched_node_t *n,
			     const Nodelet__V1__Heartbeat *hb);
void sched_cluster_pod_status(sched_cluster_t *c, struct sched_session *s, sched_node_t *n,
			      const Nodelet__V1__PodStatus *ps);
void sched_cluster_disconnected(sched_cluster_t *c, struct sched_session *s, sched_node_t *n);

/* ---- node sessions (session.c) ------------------------------------------ */

/* Queues one Envelope for the node (packed now). 0 or -errno. */
int sched_session_send(struct sched_session *s, const Nodelet__V1__Envelope *env);
/* Asks the session to close once its queue is written, with reason. */
void sched_session_close(struct sched_session *s, const char *reason);

#endif
