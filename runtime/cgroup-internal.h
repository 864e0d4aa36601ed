/* The cgroup drivers behind rt_cgroup_*: one ops table per cgroup version,
 * chosen once from the host's mode (cgroup.c). A driver carries the root of
 * its hierarchies so tests can run the v2 file writes against a temporary
 * directory laid out like a cgroup2 tree. */
#ifndef NODELET_RUNTIME_CGROUP_INTERNAL_H
#define NODELET_RUNTIME_CGROUP_INTERNAL_H

#include <stdbool.h>
#include <sys/types.h>

#include "runtime/runtime.h"

typedef struct rt__cgroup_driver rt__cgroup_driver_t;
struct rt__cgroup_extra; /* rt-internal.h */

typedef struct rt__cgroup_ops {
	const char *name; /* "v1", "v2" */
	int (*create)(const rt__cgroup_driver_t *d, const char *path, const rt_cgroup_limits_t *l,
		      rt_error_t *err);
	int (*set_limits)(const rt__cgroup_driver_t *d, const char *path,
			  const rt_cgroup_limits_t *l, rt_error_t *err);
	int (*enter)(const rt__cgroup_driver_t *d, const char *path, pid_t pid, rt_error_t *err);
	int (*stats)(const rt__cgroup_driver_t *d, const char *path, rt_cgroup_stats_t *st,
		     rt_error_t *err);
	int (*kill)(const rt__cgroup_driver_t *d, const char *path, int sig, rt_error_t *err);
	int (*destroy)(const rt__cgroup_driver_t *d, const char *path, int timeout_ms,
		       rt_error_t *err);
	int (*pids)(const rt__cgroup_driver_t *d, const char *path, pid_t **pids, size_t *n,
		    rt_error_t *err);
	/* Moves the calling thread of a single-threaded process into path
	 * without the global threadgroup lock (v1: "0" into `tasks`, which
	 * skips the RCU grace period a cgroup.procs write waits for). NULL
	 * when the driver has no such cheap path. */
	int (*enter_self)(const rt__cgroup_driver_t *d, const char *path, rt_error_t *err);
	/* linux.resources beyond the public limits (rt-internal.h). */
	int (*set_extra)(const rt__cgroup_driver_t *d, const char *path,
			 const struct rt__cgroup_extra *x, rt_error_t *err);
} rt__cgroup_ops_t;

struct rt__cgroup_driver {
	const rt__cgroup_ops_t *ops;
	char root[512]; /* "/sys/fs/cgroup" (v1: parent of the controller dirs) */
	/* v1: the controller hierarchies in use, deduplicated ("memory", "cpu"...);
	 * hier[0] is the one whose cgroup.procs lists a cgroup's processes. */
	char hier[6][32];
	int nhier;
	/* v1: hierarchies used only by the cgroups that ask for them (cpuset,
	 * devices, blkio): entered and removed where the directory exists. */
	char opt[4][32];
	int nopt;
};

/* Fills d with the v1 driver over controller hierarchies at root/<controller>. */
void rt__cgroup_v1_driver(const char *root, rt__cgroup_driver_t *d);
/* Fills d with the v2 driver over the cgroup2 tree at root. */
void rt__cgroup_v2_driver(const char *root, rt__cgroup_driver_t *d);

/* The host's driver (chosen once by rt_cgroup_mode). */
int rt__cgroup_driver(const rt__cgroup_driver_t **d, rt_error_t *err);

/* Checks a cgroup path (no "..", not empty) and strips leading slashes. */
int rt__cgroup_clean_path(const char *path, char *out, size_t n, rt_error_t *err);

/* Whether the host driver has enter_self; and calling it. */
bool rt__cgroup_can_enter_self(void);
int rt__cgroup_enter_self(const char *path, rt_error_t *err);

/* Removes the cgroup directory in every hierarchy if it is empty (no
 * processes, no children); errors are ignored. */
void rt__cgroup_rmdir_if_empty(const char *path);

/* Shared helpers for both drivers (cgroup.c). */
/* Reads the pids listed in file (cgroup.procs); appends to *pids. Missing file: 0. */
int rt__cgroup_read_pids(const char *file, pid_t **pids, size_t *n, rt_error_t *err);
/* Reads "key value" lines and returns the value of key (0 when absent). */
int rt__cgroup_read_keyed(const char *file, const char *key, uint64_t *out, rt_error_t *err);
/* Reads a file holding one unsigned number ("max" -> UINT64_MAX). */
int rt__cgroup_read_u64(const char *file, uint64_t *out, rt_error_t *err);
/* Removes dir and every directory below it, deepest first (rmdir only). */
int rt__cgroup_rmdir_tree(const char *dir, rt_error_t *err);

#endif
