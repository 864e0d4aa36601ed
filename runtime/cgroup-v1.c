/* The cgroup v1 driver: one directory per controller hierarchy
 * (root/memory/<path>, root/cpu/<path>, ...). Used on legacy and hybrid hosts.
 * A container's cgroup is made, entered and removed in every mounted
 * hierarchy (memory, pids, cpu, cpuacct, devices, blkio, cpuset, freezer,
 * name=systemd...), as runc and crun do; what a config asks of an unmounted
 * controller is refused before anything is written. On
 * a hybrid host, hugepageLimits (without a v1 hugetlb hierarchy) and
 * linux.resources.unified go to the cgroup2 tree at root/unified. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>

#include "runtime/cgroup-internal.h"
#include "runtime/rt-internal.h"

/* memory first: its cgroup.procs is the one read for the process list;
 * then every other hierarchy mounted under the root. */
static const char *const controllers[] = {"memory", "pids", "cpu", "cpuacct"};

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

int rt__cgroup_v1_dir(const rt__cgroup_driver_t *d, const char *ctl, const char *path, char *out,
		      size_t n, rt_error_t *err)
{
	char clean[1024];
	if (rt__cgroup_clean_path(path, clean, sizeof(clean), err) < 0)
		return -1;
	if ((size_t)snprintf(out, n, "%s/%s/%s", d->root, ctl, clean) >= n)
		return rt_error_set(err, ENAMETOOLONG, "cgroup path `%s`", path);
	return 0;
}

static bool has_hier(const rt__cgroup_driver_t *d, const char *ctl)
{
	for (int i = 0; i < d->nhier; i++)
		if (strcmp(d->hier[i], ctl) == 0)
			return true;
	return false;
}

static int v1_file(const rt__cgroup_driver_t *d, const char *ctl, const char *path,
		   const char *file, char *out, size_t n, rt_error_t *err)
{
	char dir[3072];
	if (rt__cgroup_v1_dir(d, ctl, path, dir, sizeof(dir), err) < 0)
		return -1;
	if ((size_t)snprintf(out, n, "%s/%s", dir, file) >= n)
		return rt_error_set(err, ENAMETOOLONG, "cgroup file `%s/%s`", dir, file);
	return 0;
}

int rt__cgroup_v1_write(const rt__cgroup_driver_t *d, const char *ctl, const char *path,
			const char *file, int64_t v, rt_error_t *err)
{
	char f[4096];
	if (v1_file(d, ctl, path, file, f, sizeof(f), err) < 0)
		return -1;
	return rt__write_filef(f, err, "%" PRId64, v);
}

static int v1_set_memory(const rt__cgroup_driver_t *d, const char *path,
			 const rt_cgroup_limits_t *l, rt_error_t *err)
{
	char memsw[4096];
	if (v1_file(d, "memory", path, "memory.memsw.limit_in_bytes", memsw, sizeof(memsw), err) <
	    0)
		return -1;
	bool has_memsw = access(memsw, F_OK) == 0;
	int64_t swap = l->memory_swap;
	if (swap == 0)
		swap = l->memory_bytes; /* no swap beyond the memory limit */
	if (l->memory_bytes > 0) {
		rt_error_t e1;
		if (rt__cgroup_v1_write(d, "memory", path, "memory.limit_in_bytes", l->memory_bytes,
					&e1) < 0) {
			/* Lowering memsw below a current memory limit fails, and the
			 * reverse too: when memory is refused, raise memsw first. */
			if (e1.errnum != EINVAL || !has_memsw || swap <= 0) {
				if (err)
					*err = e1;
				return -1;
			}
			if (rt__cgroup_v1_write(d, "memory", path, "memory.memsw.limit_in_bytes",
						swap, err) < 0 ||
			    rt__cgroup_v1_write(d, "memory", path, "memory.limit_in_bytes",
						l->memory_bytes, err) < 0)
				return -1;
		}
	}
	if (has_memsw && (swap > 0 || (swap == -1 && l->memory_bytes > 0)))
		return rt__cgroup_v1_write(d, "memory", path, "memory.memsw.limit_in_bytes", swap,
					   err);
	return 0;
}

static int v1_set_limits(const rt__cgroup_driver_t *d, const char *path,
			 const rt_cgroup_limits_t *l, rt_error_t *err)
{
	if (l == NULL)
		return 0;
	if ((l->memory_bytes > 0 || l->memory_swap > 0) && v1_set_memory(d, path, l, err) < 0)
		return -1;
	if (l->cpu_shares > 0 &&
	    rt__cgroup_v1_write(d, "cpu", path, "cpu.shares", l->cpu_shares, err) < 0)
		return -1;
	if (l->cpu_period_us > 0 &&
	    rt__cgroup_v1_write(d, "cpu", path, "cpu.cfs_period_us", l->cpu_period_us, err) < 0)
		return -1;
	if (l->cpu_quota_us > 0 &&
	    rt__cgroup_v1_write(d, "cpu", path, "cpu.cfs_quota_us", l->cpu_quota_us, err) < 0)
		return -1;
	if (l->pids_max > 0 &&
	    rt__cgroup_v1_write(d, "pids", path, "pids.max", l->pids_max, err) < 0)
		return -1;
	return 0;
}

static bool is_cpuset(const char *hier)
{
	return strcmp(hier, "cpuset") == 0 || strncmp(hier, "cpuset,", 7) == 0 ||
	       strstr(hier, ",cpuset") != NULL;
}

static int v1_cpuset_create(const rt__cgroup_driver_t *d, const char *hier, const char *path,
			    rt_error_t *err);

static int v1_create(const rt__cgroup_driver_t *d, const char *path, const rt_cgroup_limits_t *l,
		     rt_error_t *err)
{
	for (int i = 0; i < d->nhier; i++) {
		char dir[3072];
		/* a new cpuset takes no process before it has cpus and mems */
		if (is_cpuset(d->hier[i])) {
			if (v1_cpuset_create(d, d->hier[i], path, err) < 0)
				return rt_error_wrap(err, "creating cgroup `%s`", path);
			continue;
		}
		if (rt__cgroup_v1_dir(d, d->hier[i], path, dir, sizeof(dir), err) < 0 ||
		    rt__mkdir_p(dir, 0755, err) < 0)
			return rt_error_wrap(err, "creating cgroup `%s`", path);
	}
	if (v1_set_limits(d, path, l, err) < 0)
		return rt_error_wrap(err, "setting limits of cgroup `%s`", path);
	return 0;
}

/* The hybrid cgroup2 tree where path has a directory (set_extra made it). */
static int v1_enter_opt(const rt__cgroup_driver_t *d, const char *path, const char *file,
			const char *what, rt_error_t *err)
{
	for (int i = 0; i < d->nopt; i++) {
		char f[4096];
		/* cgroup2 has no `tasks`; "0" into cgroup.procs moves the writer */
		const char *fl = strcmp(d->opt[i], "unified") == 0 ? "cgroup.procs" : file;
		if (v1_file(d, d->opt[i], path, fl, f, sizeof(f), err) < 0)
			return -1;
		if (access(f, F_OK) == 0 && rt__write_file(f, what, err) < 0)
			return rt_error_wrap(err, "moving into cgroup `%s`", path);
	}
	return 0;
}

static int v1_enter(const rt__cgroup_driver_t *d, const char *path, pid_t pid, rt_error_t *err)
{
	for (int i = 0; i < d->nhier; i++) {
		char f[4096];
		if (v1_file(d, d->hier[i], path, "cgroup.procs", f, sizeof(f), err) < 0 ||
		    rt__write_filef(f, err, "%d", (int)pid) < 0)
			return rt_error_wrap(err, "moving pid %d into cgroup `%s`", (int)pid, path);
	}
	char p[32];
	snprintf(p, sizeof(p), "%d", (int)pid);
	return v1_enter_opt(d, path, "cgroup.procs", p, err);
}

static int v1_enter_self(const rt__cgroup_driver_t *d, const char *path, rt_error_t *err)
{
	for (int i = 0; i < d->nhier; i++) {
		char f[4096];
		if (v1_file(d, d->hier[i], path, "tasks", f, sizeof(f), err) < 0 ||
		    rt__write_file(f, "0", err) < 0)
			return rt_error_wrap(err, "moving into cgroup `%s`", path);
	}
	return v1_enter_opt(d, path, "tasks", "0", err);
}

/* ---- cpuset, devices, blkio, memory reservation (set_extra) ------------- */

/* Creates path in the cpuset hierarchy hier: a new v1 cpuset starts with
 * empty cpus and mems and takes no process until they are set, so each
 * level gets its parent's first (as runc does). */
static int v1_cpuset_create(const rt__cgroup_driver_t *d, const char *hier, const char *path,
			    rt_error_t *err)
{
	char clean[1024], dir[3072], parent[3072];
	if (rt__cgroup_clean_path(path, clean, sizeof(clean), err) < 0)
		return -1;
	/* Usually the parent exists and hands its cpus and mems down
	 * (clone_children, set below on the levels made here): one mkdir and
	 * two reads. */
	snprintf(dir, sizeof(dir), "%s/%s/%s", d->root, hier, clean);
	if (mkdir(dir, 0755) == 0 || errno == EEXIST) {
		bool full = true;
		static const char *const fs[] = {"cpuset.cpus", "cpuset.mems"};
		for (int i = 0; i < 2 && full; i++) {
			char f[4096];
			snprintf(f, sizeof(f), "%s/%s", dir, fs[i]);
			cleanup_free char *cur = rt__read_file(f, NULL, NULL);
			full = cur != NULL && cur[0] != '\n' && cur[0] != '\0';
		}
		if (full)
			return 0;
	}
	snprintf(parent, sizeof(parent), "%s/%s", d->root, hier);
	for (char *p = clean;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		snprintf(dir, sizeof(dir), "%s/%s/%s", d->root, hier, clean);
		*p = c;
		bool made = mkdir(dir, 0755) == 0;
		if (!made && errno != EEXIST)
			return rt_error_set(err, errno, "creating cgroup `%s`", dir);
		static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
		for (int i = 0; i < 2; i++) {
			char f[4096], pf[4096];
			snprintf(f, sizeof(f), "%s/%s", dir, files[i]);
			snprintf(pf, sizeof(pf), "%s/%s", parent, files[i]);
			cleanup_free char *cur = rt__read_file(f, NULL, err);
			if (cur == NULL)
				return -1;
			if (cur[0] != '\n' && cur[0] != '\0')
				continue;
			cleanup_free char *up = rt__read_file(pf, NULL, err);
			if (up == NULL || rt__write_file(f, up, err) < 0)
				return -1;
		}
		/* A level made here above the leaf hands cpus and mems to the
		 * children the kernel makes (clone_children): the leaf then
		 * needs no write (each cpuset write costs ~0.07 ms). */
		if (made && c != '\0') {
			char f[4096];
			snprintf(f, sizeof(f), "%s/cgroup.clone_children", dir);
			(void)rt__write_file(f, "1", NULL);
		}
		snprintf(parent, sizeof(parent), "%s", dir);
		if (c == '\0')
			break;
	}
	return 0;
}

static int v1_devices(const rt__cgroup_driver_t *d, const char *path, const rt__cgroup_extra_t *x,
		      rt_error_t *err)
{
	char dir[3072];
	if (rt__cgroup_v1_dir(d, "devices", path, dir, sizeof(dir), err) < 0 ||
	    rt__mkdir_p(dir, 0755, err) < 0)
		return -1;
	/* What every container gets besides its rules (runc's and crun's list):
	 * the default nodes, ptys, and mknod of any device (useless without an
	 * allow rule for using it). */
	static const char *const defaults[] = {
	    "c *:* m",	 "b *:* m",   "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm",   "c 1:8 rwm",
	    "c 1:9 rwm", "c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm", "c 136:* rwm", "c 10:200 rwm",
	};
	/* One open file each for allow and deny; one write per rule, as the
	 * kernel parses one rule per write. */
	char fa[4096], fd_[4096];
	snprintf(fa, sizeof(fa), "%s/devices.allow", dir);
	snprintf(fd_, sizeof(fd_), "%s/devices.deny", dir);
	cleanup_close int allow = open(fa, O_WRONLY | O_CLOEXEC);
	cleanup_close int deny = open(fd_, O_WRONLY | O_CLOEXEC);
	if (allow < 0 || deny < 0)
		return rt_error_set(err, errno, "opening `%s`", allow < 0 ? fa : fd_);
	for (size_t i = 0; i < x->ndevices + sizeof(defaults) / sizeof(defaults[0]); i++) {
		char rule[128];
		bool allowed = true;
		if (i < x->ndevices) {
			const rt__dev_rule_t *r = &x->devices[i];
			char maj[24], min[24];
			snprintf(maj, sizeof(maj), r->major < 0 ? "*" : "%lld",
				 (long long)r->major);
			snprintf(min, sizeof(min), r->minor < 0 ? "*" : "%lld",
				 (long long)r->minor);
			if (r->type == 'a')
				snprintf(rule, sizeof(rule), "a");
			else
				snprintf(rule, sizeof(rule), "%c %s:%s %s", r->type, maj, min,
					 r->access[0] ? r->access : "rwm");
			allowed = r->allow;
		} else {
			snprintf(rule, sizeof(rule), "%s", defaults[i - x->ndevices]);
		}
		if (write(allowed ? allow : deny, rule, strlen(rule)) < 0) {
			rt_error_set(err, errno, "writing `%s` to `%s`", rule, allowed ? fa : fd_);
			if (i < x->ndevices)
				return rt_error_wrap(err, "linux.resources.devices[%zu]", i);
			return rt_error_wrap(err, "allowing the default devices");
		}
	}
	return 0;
}

/* Whether controller ctl is mounted (under its own name or as a link). */
bool rt__cgroup_v1_has(const rt__cgroup_driver_t *d, const char *ctl)
{
	for (int i = 0; i < d->navail; i++)
		if (strcmp(d->avail[i], ctl) == 0)
			return true;
	return false;
}

/* What this host cannot apply, refused before anything is written. */
static int v1_refuse(const rt__cgroup_driver_t *d, const rt__cgroup_extra_t *x, rt_error_t *err)
{
	const char *field = NULL, *ctl = NULL;
	size_t nthr = 0;
	for (int k = 0; k < RT_THROTTLE_NKINDS; k++)
		nthr += x->nthrottle[k];
	if (x->has_class_id && !rt__cgroup_v1_has(d, "net_cls"))
		field = "network.classID", ctl = "net_cls";
	else if (x->nnet_prios && !rt__cgroup_v1_has(d, "net_prio"))
		field = "network.priorities", ctl = "net_prio";
	else if (x->rdma && !rt__cgroup_v1_has(d, "rdma"))
		field = "rdma", ctl = "rdma";
	else if ((x->blkio_weight > 0 || x->blkio_leaf_weight > 0 || x->nweight_devices || nthr) &&
		 !rt__cgroup_v1_has(d, "blkio"))
		field = "blockIO", ctl = "blkio";
	else if (x->nhugepages && !rt__cgroup_v1_has(d, "hugetlb") && !d->hybrid)
		field = "hugepageLimits", ctl = "hugetlb";
	else if ((x->cpus || x->mems) && !rt__cgroup_v1_has(d, "cpuset"))
		field = "cpu.cpus", ctl = "cpuset";
	if (field)
		return rt__error_plain(err, ENOTSUP,
				       "linux.resources.%s: the %s cgroup controller is not "
				       "available on this host (no hierarchy at `%s/%s`)",
				       field, ctl, d->root, ctl);
	if (x->unified && !d->hybrid)
		return rt__error_plain(err, ENOTSUP,
				       "linux.resources.unified: this host has no cgroup2 tree "
				       "(cgroup v1 only)");
	return 0;
}

static int v1_set_extra(const rt__cgroup_driver_t *d, const char *path,
			const struct rt__cgroup_extra *x, rt_error_t *err)
{
	if (v1_refuse(d, x, err) < 0)
		return -1;
	if (x->memory_reservation > 0 &&
	    rt__cgroup_v1_write(d, "memory", path, "memory.soft_limit_in_bytes",
				x->memory_reservation, err) < 0)
		return rt_error_wrap(err, "linux.resources.memory.reservation");
	if (x->blkio_weight > 0) {
		char dir[3072], f[4096];
		if (rt__cgroup_v1_dir(d, "blkio", path, dir, sizeof(dir), err) < 0 ||
		    rt__mkdir_p(dir, 0755, err) < 0)
			return rt_error_wrap(err, "linux.resources.blockIO.weight");
		snprintf(f, sizeof(f), "%s/blkio.weight", dir);
		if (access(f, F_OK) < 0)
			snprintf(f, sizeof(f), "%s/blkio.bfq.weight", dir);
		if (access(f, F_OK) < 0)
			return rt__error_plain(err, ENOTSUP,
					       "linux.resources.blockIO.weight: this host's blkio "
					       "controller has no weight (no CFQ or BFQ I/O "
					       "scheduler)");
		if (rt__write_filef(f, err, "%lld", (long long)x->blkio_weight) < 0)
			return rt_error_wrap(err, "linux.resources.blockIO.weight");
	}
	if (x->cpus || x->mems) {
		char f[4096];
		if (v1_cpuset_create(d, "cpuset", path, err) < 0)
			return rt_error_wrap(err, "linux.resources.cpu");
		if (x->cpus && (v1_file(d, "cpuset", path, "cpuset.cpus", f, sizeof(f), err) < 0 ||
				rt__write_file(f, x->cpus, err) < 0))
			return rt_error_wrap(err, "linux.resources.cpu.cpus");
		if (x->mems && (v1_file(d, "cpuset", path, "cpuset.mems", f, sizeof(f), err) < 0 ||
				rt__write_file(f, x->mems, err) < 0))
			return rt_error_wrap(err, "linux.resources.cpu.mems");
	}
	if (x->ndevices && v1_devices(d, path, x, err) < 0)
		return -1;
	return rt__cgroup_v1_set_more(d, path, x, err);
}

static int v1_stats(const rt__cgroup_driver_t *d, const char *path, rt_cgroup_stats_t *st,
		    rt_error_t *err)
{
	memset(st, 0, sizeof(*st));
	char f[4096];
	/* cpuacct may be mounted together with cpu (deduplicated to "cpu"). */
	const char *acct = has_hier(d, "cpuacct") ? "cpuacct" : "cpu";
	if (v1_file(d, acct, path, "cpuacct.usage", f, sizeof(f), err) < 0)
		return -1;
	if (access(f, F_OK) == 0 && rt__cgroup_read_u64(f, &st->cpu_usage_ns, err) < 0)
		return rt_error_wrap(err, "reading stats of cgroup `%s`", path);
	if (has_hier(d, "memory")) {
		if (v1_file(d, "memory", path, "memory.usage_in_bytes", f, sizeof(f), err) < 0 ||
		    rt__cgroup_read_u64(f, &st->memory_bytes, err) < 0 ||
		    v1_file(d, "memory", path, "memory.max_usage_in_bytes", f, sizeof(f), err) <
			0 ||
		    rt__cgroup_read_u64(f, &st->memory_peak, err) < 0 ||
		    v1_file(d, "memory", path, "memory.oom_control", f, sizeof(f), err) < 0 ||
		    rt__cgroup_read_keyed(f, "oom_kill", &st->oom_kills, err) < 0)
			return rt_error_wrap(err, "reading stats of cgroup `%s`", path);
	}
	if (has_hier(d, "pids") &&
	    (v1_file(d, "pids", path, "pids.current", f, sizeof(f), err) < 0 ||
	     rt__cgroup_read_u64(f, &st->pids, err) < 0))
		return rt_error_wrap(err, "reading stats of cgroup `%s`", path);
	return 0;
}

/* Collects the pids of dir and every cgroup below it. */
static int collect(const char *dir, pid_t **pids, size_t *n, rt_error_t *err)
{
	char f[4096];
	snprintf(f, sizeof(f), "%s/cgroup.procs", dir);
	if (rt__cgroup_read_pids(f, pids, n, err) < 0)
		return -1;
	DIR *dd = opendir(dir);
	if (dd == NULL)
		return 0;
	struct dirent *de;
	int rc = 0;
	while (rc == 0 && (de = readdir(dd)) != NULL) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		snprintf(f, sizeof(f), "%s/%s", dir, de->d_name);
		rc = collect(f, pids, n, err);
	}
	closedir(dd);
	return rc;
}

static int v1_pids(const rt__cgroup_driver_t *d, const char *path, pid_t **pids, size_t *n,
		   rt_error_t *err)
{
	if (d->nhier == 0)
		return 0;
	char dir[3072];
	if (rt__cgroup_v1_dir(d, d->hier[0], path, dir, sizeof(dir), err) < 0)
		return -1;
	return collect(dir, pids, n, err);
}

static int v1_kill(const rt__cgroup_driver_t *d, const char *path, int sig, rt_error_t *err)
{
	pid_t *pids = NULL;
	size_t n = 0;
	if (v1_pids(d, path, &pids, &n, err) < 0) {
		free(pids);
		return rt_error_wrap(err, "signalling cgroup `%s`", path);
	}
	for (size_t i = 0; i < n; i++)
		if (kill(pids[i], sig) < 0 && errno != ESRCH) {
			int e = errno;
			free(pids);
			return rt_error_set(err, e, "sending signal %d to pid %d of cgroup `%s`",
					    sig, (int)pids[i], path);
		}
	free(pids);
	return 0;
}

static int v1_destroy(const rt__cgroup_driver_t *d, const char *path, int timeout_ms,
		      rt_error_t *err)
{
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		pid_t *pids = NULL;
		size_t n = 0;
		if (v1_pids(d, path, &pids, &n, err) < 0) {
			free(pids);
			return rt_error_wrap(err, "destroying cgroup `%s`", path);
		}
		for (size_t i = 0; i < n; i++)
			kill(pids[i], SIGKILL);
		free(pids);
		if (n == 0)
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		long ms = (now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000;
		if (ms >= timeout_ms)
			return rt__error_plain(
			    err, EBUSY,
			    "destroying cgroup `%s`: %zu processes still there after "
			    "%d ms",
			    path, n, timeout_ms);
		usleep(ms < 20 ? 500 : 5000);
	}
	for (int i = 0; i < d->nhier + d->nopt; i++) {
		char dir[3072];
		const char *h = i < d->nhier ? d->hier[i] : d->opt[i - d->nhier];
		if (rt__cgroup_v1_dir(d, h, path, dir, sizeof(dir), err) < 0 ||
		    rt__cgroup_rmdir_tree(dir, err) < 0)
			return rt_error_wrap(err, "destroying cgroup `%s`", path);
	}
	return 0;
}

static const rt__cgroup_ops_t v1_ops = {
    .name = "v1",
    .create = v1_create,
    .set_limits = v1_set_limits,
    .enter = v1_enter,
    .stats = v1_stats,
    .kill = v1_kill,
    .destroy = v1_destroy,
    .pids = v1_pids,
    .enter_self = v1_enter_self,
    .set_extra = v1_set_extra,
    .freeze = rt__cgroup_v1_freeze,
    .frozen = rt__cgroup_v1_frozen,
};

void rt__cgroup_v1_driver(const char *root, rt__cgroup_driver_t *d)
{
	memset(d, 0, sizeof(*d));
	d->ops = &v1_ops;
	snprintf(d->root, sizeof(d->root), "%s", root);
	/* cpu and cpuacct are often one hierarchy under two names (symlinks to
	 * cpu,cpuacct): use each mounted hierarchy once, the names above first,
	 * then the others in directory order. The cgroup2 tree of a hybrid host
	 * ("unified") is not one of them. */
	struct {
		dev_t dev;
		ino_t ino;
	} seen[16];
	int nseen = 0;
	DIR *dd = opendir(root);
	struct dirent *de = NULL;
	for (size_t i = 0;; i++) {
		const char *name;
		if (i < sizeof(controllers) / sizeof(controllers[0])) {
			name = controllers[i];
		} else {
			if (dd == NULL || (de = readdir(dd)) == NULL)
				break;
			name = de->d_name;
			if (name[0] == '.' || strcmp(name, "unified") == 0 ||
			    strlen(name) >= sizeof(d->hier[0]))
				continue;
		}
		char p[1024];
		struct stat st;
		struct statfs sf;
		snprintf(p, sizeof(p), "%s/%s", root, name);
		if (stat(p, &st) < 0 || !S_ISDIR(st.st_mode) ||
		    (statfs(p, &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC))
			continue;
		/* Each mounted hierarchy is its own filesystem (one device);
		 * links to it (cpu -> cpu,cpuacct) stat the same. */
		if (i >= sizeof(controllers) / sizeof(controllers[0])) {
			bool known = false;
			for (int j = 0; j < d->navail; j++)
				known = known || strcmp(d->avail[j], name) == 0;
			if (!known && d->navail < 24)
				snprintf(d->avail[d->navail++], sizeof(d->avail[0]), "%s", name);
		} else {
			snprintf(d->avail[d->navail++], sizeof(d->avail[0]), "%s", name);
		}
		bool dup = false;
		for (int j = 0; j < nseen; j++)
			dup = dup || (seen[j].dev == st.st_dev && seen[j].ino == st.st_ino);
		if (dup || nseen >= 16)
			continue;
		seen[nseen].dev = st.st_dev;
		seen[nseen++].ino = st.st_ino;
		snprintf(d->hier[d->nhier++], sizeof(d->hier[0]), "%s", name);
	}
	if (dd)
		closedir(dd);
}

void rt__cgroup_v1_set_hybrid(rt__cgroup_driver_t *d)
{
	d->hybrid = true;
	snprintf(d->opt[d->nopt++], sizeof(d->opt[0]), "unified");
}
