/* schedd's store: desired state and last-known status of pods, and the nodes
 * that registered (with their pod CIDR), behind a small table of functions so
 * another backend (etcd, for HA) can replace SQLite without touching callers.
 *
 * Records are plain strings: the pod as api_pod_to_json text, the node as
 * sched_node_to_stored text. Every write is durable when the call returns
 * (for the SQLite backend: committed to the WAL, which survives kill -9).
 */
#ifndef NODELET_SCHED_STORE_H
#define NODELET_SCHED_STORE_H

#include <stdint.h>

typedef struct sched_store sched_store_t;

/* A stored pod. Strings are borrowed in calls to put and in list callbacks. */
typedef struct sched_store_pod {
	const char *namespace_;
	const char *name;
	const char *uid;
	int64_t generation;
	const char *pinned; /* node the user pinned it to, or NULL */
	const char *json;
} sched_store_pod_t;

typedef struct sched_store_node {
	const char *name;
	const char *pod_cidr;
	int cidr_index;
	const char *json;
} sched_store_node_t;

/* Callbacks for list; a non-zero return stops the listing and is returned. */
typedef int (*sched_store_pod_cb)(const sched_store_pod_t *p, void *arg);
typedef int (*sched_store_node_cb)(const sched_store_node_t *n, void *arg);

/* All functions return 0 or a negative errno (-ENOENT when not found); errors
 * are logged with what failed. */
typedef struct sched_store_ops {
	int (*pod_put)(sched_store_t *s, const sched_store_pod_t *p);
	/* Calls cb once with the pod, or returns -ENOENT. */
	int (*pod_get)(sched_store_t *s, const char *ns, const char *name, sched_store_pod_cb cb,
		       void *arg);
	int (*pod_delete)(sched_store_t *s, const char *ns, const char *name);
	int (*pod_list)(sched_store_t *s, sched_store_pod_cb cb, void *arg);
	int (*node_put)(sched_store_t *s, const sched_store_node_t *n);
	int (*node_list)(sched_store_t *s, sched_store_node_cb cb, void *arg);
	void (*close)(sched_store_t *s);
} sched_store_ops_t;

struct sched_store {
	const sched_store_ops_t *ops;
};

/* Opens (creating dir and the database) DIR/schedd.db in WAL mode. Returns a
 * store to close with s->ops->close, or NULL with a message in err. */
sched_store_t *sched_store_sqlite_open(const char *dir, char *err, size_t errlen);

#endif
