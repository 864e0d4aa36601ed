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
	/* Freezes (frozen true) or thaws the cgroup and waits until the kernel
	 * says it is done (v1: freezer.state FROZEN / THAWED in the freezer
	 * hierarchy; v2: cgroup.freeze, then cgroup.events `frozen 1` / `0`).
	 * A freeze that does not complete in time is undone (thawed). */
	int (*freeze)(const rt__cgroup_driver_t *d, const char *path, bool frozen, rt_error_t *err);
	/* *frozen: whether the cgroup is frozen or being frozen. */
	int (*frozen)(const rt__cgroup_driver_t *d, const char *path, bool *frozen,
		      rt_error_t *err);
} rt__cgroup_ops_t;

struct rt__cgroup_driver {
	const rt__cgroup_ops_t *ops;
	char root[512]; /* "/sys/fs/cgroup" (v1: parent of the controller dirs) */
	/* v1: every mounted hierarchy, deduplicated by mount ("memory", "cpu",
	 * "blkio", "cpuset", "systemd" for name=systemd...): each container's
	 * cgroup is made, entered and removed in all of them, as runc and crun
	 * do. hier[0] is the one whose cgroup.procs lists a cgroup's processes
	 * (memory when mounted). */
	char hier[16][32];
	int nhier;
	/* v1: the names under root that are mounted controllers (symlinks
	 * included: "net_prio" -> "net_cls,net_prio"), to know what a config
	 * may ask for. */
	char avail[24][32];
	int navail;
	/* v1: trees entered and removed only where the cgroup's directory
	 * exists: the hybrid cgroup2 tree ("unified"). */
	char opt[4][32];
	int nopt;
	/* v1 on a hybrid host: a cgroup2 tree at root/unified (also in opt[]
	 * as "unified"), where hugepageLimits and linux.resources.unified go
	 * for the controllers it holds. */
	bool hybrid;
};

/* Marks a v1 driver hybrid: its cgroup2 tree at root/unified takes what
 * only it can apply, and is entered and removed like the optional
 * hierarchies. */
void rt__cgroup_v1_set_hybrid(rt__cgroup_driver_t *d);

/* v1 driver internals shared by cgroup-v1.c and cgroup-v1-extra.c: the
 * directory of path in hierarchy ctl; writing a number to one of its files;
 * whether hierarchy ctl is mounted; and the resources cgroup-v1-extra.c
 * applies (called last by the driver's set_extra). */
int rt__cgroup_v1_dir(const rt__cgroup_driver_t *d, const char *ctl, const char *path, char *out,
		      size_t n, rt_error_t *err);
int rt__cgroup_v1_write(const rt__cgroup_driver_t *d, const char *ctl, const char *path,
			const char *file, int64_t v, rt_error_t *err);
bool rt__cgroup_v1_has(const rt__cgroup_driver_t *d, const char *ctl);
int rt__cgroup_v1_set_more(const rt__cgroup_driver_t *d, const char *path,
			   const struct rt__cgroup_extra *x, rt_error_t *err);

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

/* The drivers' freeze and frozen ops (cgroup-freeze.c). */
int rt__cgroup_v1_freeze(const rt__cgroup_driver_t *d, const char *path, bool frozen,
			 rt_error_t *err);
int rt__cgroup_v1_frozen(const rt__cgroup_driver_t *d, const char *path, bool *frozen,
			 rt_error_t *err);
int rt__cgroup_v2_freeze(const rt__cgroup_driver_t *d, const char *path, bool frozen,
			 rt_error_t *err);
int rt__cgroup_v2_frozen(const rt__cgroup_driver_t *d, const char *path, bool *frozen,
			 rt_error_t *err);
/* The host driver's freeze and frozen (above). */
int rt__cgroup_freeze(const char *path, bool frozen, rt_error_t *err);
int rt__cgroup_frozen(const char *path, bool *frozen, rt_error_t *err);

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

/* ---- cgroup2 files shared by the v2 driver and the hybrid v1 driver ---- */

/* Whether controller ctl is listed in root/cgroup.controllers ("cgroup":
 * always, those files need no controller). */
bool rt__cgroup2_available(const char *root, const char *ctl);
/* Enables the controllers ctls (space-separated, "" for none) in the
 * subtree_control of root and of every ancestor of clean (a cleaned
 * path below root), top down; with create, makes the missing directories
 * on the way (mode 0755), clean itself included. */
int rt__cgroup2_prepare(const char *root, const char *clean, const char *ctls, bool create,
			rt_error_t *err);
/* hugepageLimits into dir: hugetlb.<size>.<limit_file> ("max" on cgroup2,
 * "limit_in_bytes" on v1), and hugetlb.<size>.rsvd.<limit_file> where the
 * kernel has reservation accounting. Errors name the field. */
int rt__cgroup_hugetlb(const char *dir, const struct rt__cgroup_extra *x, const char *limit_file,
		       rt_error_t *err);
/* linux.resources.unified into dir, one file per key. Errors name the key. */
int rt__cgroup2_unified(const char *dir, const struct rt__cgroup_extra *x, rt_error_t *err);
/* linux.resources.rdma into dir/rdma.max ("dev hca_handle=N hca_object=M"),
 * the same on v1 and v2. Errors name the device. */
int rt__cgroup_rdma(const char *dir, const struct rt__cgroup_extra *x, rt_error_t *err);
/* The controllers (space-separated, deduplicated, "cgroup" left out) the
 * unified keys of x and, with hugetlb, its hugepageLimits need. When
 * root lacks one, fails naming the key. */
int rt__cgroup2_needs(const char *root, const struct rt__cgroup_extra *x, bool hugetlb, char *out,
		      size_t n, rt_error_t *err);

#endif
