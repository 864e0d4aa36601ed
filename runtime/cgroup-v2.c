/* The cgroup v2 driver: one tree at root (/sys/fs/cgroup on unified hosts).
 * Controllers are enabled in the subtree_control of every ancestor of a new
 * cgroup; limits go to memory.max, memory.swap.max, cpu.max, cpu.weight and
 * pids.max. The rest of linux.resources: io.weight, io.max, cpu.idle,
 * cpu.max.burst, hugetlb.<size>.max, rdma.max, cpuset.*, unified keys (their
 * controllers enabled above the cgroup only when asked for); what v2 has no
 * file for (swappiness, disableOOMKiller, real-time cpu, leaf weights,
 * net_cls/net_prio) is refused naming the field. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>

#include "runtime/cgroup-internal.h"
#include "runtime/rt-internal.h"

static int v2_dir(const rt__cgroup_driver_t *d, const char *path, char *out, size_t n,
		  rt_error_t *err)
{
	char clean[1024];
	if (rt__cgroup_clean_path(path, clean, sizeof(clean), err) < 0)
		return -1;
	if ((size_t)snprintf(out, n, "%s/%s", d->root, clean) >= n)
		return rt_error_set(err, ENAMETOOLONG, "cgroup path `%s`", path);
	return 0;
}

static int v2_write(const char *dir, const char *file, rt_error_t *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int v2_write(const char *dir, const char *file, rt_error_t *err, const char *fmt, ...)
{
	char f[4096], buf[256];
	snprintf(f, sizeof(f), "%s/%s", dir, file);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return rt__write_file(f, buf, err);
}

/* blkio 10..1000 onto io 1..10000, as crun maps it */
static int64_t blkio_to_io_weight(int64_t w)
{
	return 1 + (w - 10) * 9999 / 990;
}

/* shares (2..262144) to weight (1..10000), as crun converts them. */
static uint64_t shares_to_weight(int64_t shares)
{
	if (shares < 2)
		shares = 2;
	if (shares > 262144)
		shares = 262144;
	return 1 + ((uint64_t)(shares - 2) * 9999) / 262142;
}

static int v2_set_limits(const rt__cgroup_driver_t *d, const char *path,
			 const rt_cgroup_limits_t *l, rt_error_t *err)
{
	if (l == NULL)
		return 0;
	char dir[2048];
	if (v2_dir(d, path, dir, sizeof(dir), err) < 0)
		return -1;
	if (l->memory_bytes > 0 &&
	    v2_write(dir, "memory.max", err, "%" PRId64, l->memory_bytes) < 0)
		return -1;
	if (l->memory_bytes > 0 || l->memory_swap > 0) {
		/* OCI swap is memory+swap; v2's swap.max is the swap alone. */
		char f[4096];
		snprintf(f, sizeof(f), "%s/memory.swap.max", dir);
		bool has_swap = access(f, F_OK) == 0;
		if (l->memory_swap == -1) {
			if (has_swap && rt__write_file(f, "max", err) < 0)
				return -1;
		} else {
			int64_t total = l->memory_swap > 0 ? l->memory_swap : l->memory_bytes;
			int64_t swap = total - (l->memory_bytes > 0 ? l->memory_bytes : 0);
			if (swap < 0)
				return rt__error_plain(err, EINVAL,
						       "memory+swap limit %" PRId64
						       " is below the memory limit %" PRId64,
						       total, l->memory_bytes);
			if (has_swap && rt__write_filef(f, err, "%" PRId64, swap) < 0)
				return -1;
		}
	}
	if (l->cpu_quota_us > 0 || l->cpu_period_us > 0) {
		int64_t period = l->cpu_period_us > 0 ? l->cpu_period_us : 100000;
		if (l->cpu_quota_us > 0) {
			if (v2_write(dir, "cpu.max", err, "%" PRId64 " %" PRId64, l->cpu_quota_us,
				     period) < 0)
				return -1;
		} else if (v2_write(dir, "cpu.max", err, "max %" PRId64, period) < 0) {
			return -1;
		}
	}
	if (l->cpu_shares > 0 &&
	    v2_write(dir, "cpu.weight", err, "%" PRIu64, shares_to_weight(l->cpu_shares)) < 0)
		return -1;
	if (l->pids_max > 0 && v2_write(dir, "pids.max", err, "%" PRId64, l->pids_max) < 0)
		return -1;
	return 0;
}

/* Enables in dir's subtree_control those of cpu, memory, pids that dir has. */
static int enable_controllers(const char *dir, rt_error_t *err)
{
	char f[4096];
	snprintf(f, sizeof(f), "%s/cgroup.controllers", dir);
	rt_error_t e2;
	cleanup_free char *have = rt__read_file(f, NULL, &e2);
	if (have == NULL)
		return 0; /* nothing to enable */
	char want[64] = "";
	static const char *const ctls[] = {"cpu", "memory", "pids"};
	for (size_t i = 0; i < 3; i++) {
		const char *p = have;
		size_t l = strlen(ctls[i]);
		bool found = false;
		while ((p = strstr(p, ctls[i])) != NULL) {
			bool start = p == have || p[-1] == ' ' || p[-1] == '\n';
			bool end = p[l] == '\0' || p[l] == ' ' || p[l] == '\n';
			if (start && end) {
				found = true;
				break;
			}
			p += l;
		}
		if (found) {
			strcat(want, want[0] ? " +" : "+");
			strcat(want, ctls[i]);
		}
	}
	if (want[0] == '\0')
		return 0;
	snprintf(f, sizeof(f), "%s/cgroup.subtree_control", dir);
	return rt__write_file(f, want, err);
}

static int v2_create(const rt__cgroup_driver_t *d, const char *path, const rt_cgroup_limits_t *l,
		     rt_error_t *err)
{
	char dir[2048];
	if (v2_dir(d, path, dir, sizeof(dir), err) < 0)
		return rt_error_wrap(err, "creating cgroup `%s`", path);
	/* Walk from the root down: enable controllers in each existing level,
	 * then create the next one. */
	size_t rl = strlen(d->root);
	char *p = dir + rl;
	for (;;) {
		char c = *p;
		*p = '\0';
		if (p != dir + rl && mkdir(dir, 0755) < 0 && errno != EEXIST) {
			rt_error_set(err, errno, "creating directory `%s`", dir);
			return rt_error_wrap(err, "creating cgroup `%s`", path);
		}
		*p = c;
		if (c == '\0')
			break;
		/* dir up to p is an ancestor of the new cgroup. */
		*p = '\0';
		int rc = enable_controllers(dir, err);
		*p = c;
		if (rc < 0)
			return rt_error_wrap(err, "creating cgroup `%s`", path);
		p = strchrnul(p + 1, '/');
	}
	if (v2_set_limits(d, path, l, err) < 0)
		return rt_error_wrap(err, "setting limits of cgroup `%s`", path);
	return 0;
}

static int v2_enter(const rt__cgroup_driver_t *d, const char *path, pid_t pid, rt_error_t *err)
{
	char dir[2048];
	if (v2_dir(d, path, dir, sizeof(dir), err) < 0 ||
	    v2_write(dir, "cgroup.procs", err, "%d", (int)pid) < 0)
		return rt_error_wrap(err, "moving pid %d into cgroup `%s`", (int)pid, path);
	return 0;
}

static int read_opt_u64(const char *dir, const char *file, uint64_t *out, rt_error_t *err)
{
	char f[4096];
	snprintf(f, sizeof(f), "%s/%s", dir, file);
	if (access(f, F_OK) < 0)
		return 0; /* controller not enabled here */
	return rt__cgroup_read_u64(f, out, err);
}

static int read_opt_keyed(const char *dir, const char *file, const char *key, uint64_t *out,
			  rt_error_t *err)
{
	char f[4096];
	snprintf(f, sizeof(f), "%s/%s", dir, file);
	if (access(f, F_OK) < 0)
		return 0;
	return rt__cgroup_read_keyed(f, key, out, err);
}

static int v2_stats(const rt__cgroup_driver_t *d, const char *path, rt_cgroup_stats_t *st,
		    rt_error_t *err)
{
	memset(st, 0, sizeof(*st));
	char dir[2048];
	uint64_t usec = 0;
	if (v2_dir(d, path, dir, sizeof(dir), err) < 0 ||
	    read_opt_keyed(dir, "cpu.stat", "usage_usec", &usec, err) < 0 ||
	    read_opt_u64(dir, "memory.current", &st->memory_bytes, err) < 0 ||
	    read_opt_u64(dir, "memory.peak", &st->memory_peak, err) < 0 ||
	    read_opt_keyed(dir, "memory.events", "oom_kill", &st->oom_kills, err) < 0 ||
	    read_opt_u64(dir, "pids.current", &st->pids, err) < 0)
		return rt_error_wrap(err, "reading stats of cgroup `%s`", path);
	st->cpu_usage_ns = usec * 1000;
	return 0;
}

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

static int v2_pids(const rt__cgroup_driver_t *d, const char *path, pid_t **pids, size_t *n,
		   rt_error_t *err)
{
	char dir[2048];
	if (v2_dir(d, path, dir, sizeof(dir), err) < 0)
		return -1;
	return collect(dir, pids, n, err);
}

static int v2_kill(const rt__cgroup_driver_t *d, const char *path, int sig, rt_error_t *err)
{
	char dir[2048], f[4096];
	if (v2_dir(d, path, dir, sizeof(dir), err) < 0)
		return -1;
	snprintf(f, sizeof(f), "%s/cgroup.kill", dir);
	/* cgroup.kill (5.14+) kills the whole subtree atomically, SIGKILL only. */
	if (sig == SIGKILL && access(f, F_OK) == 0)
		return rt__write_file(f, "1", err) < 0
			   ? rt_error_wrap(err, "killing cgroup `%s`", path)
			   : 0;
	pid_t *pids = NULL;
	size_t n = 0;
	if (collect(dir, &pids, &n, err) < 0) {
		free(pids);
		return rt_error_wrap(err, "signalling cgroup `%s`", path);
	}
	for (size_t i = 0; i < n; i++)
		kill(pids[i], sig);
	free(pids);
	return 0;
}

static int v2_destroy(const rt__cgroup_driver_t *d, const char *path, int timeout_ms,
		      rt_error_t *err)
{
	char dir[2048];
	if (v2_dir(d, path, dir, sizeof(dir), err) < 0)
		return -1;
	if (access(dir, F_OK) < 0)
		return 0;
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	bool killed = false;
	for (;;) {
		pid_t *pids = NULL;
		size_t n = 0;
		if (collect(dir, &pids, &n, err) < 0) {
			free(pids);
			return rt_error_wrap(err, "destroying cgroup `%s`", path);
		}
		free(pids);
		if (n == 0)
			break;
		if (!killed || n > 0) {
			if (v2_kill(d, path, SIGKILL, err) < 0)
				return rt_error_wrap(err, "destroying cgroup `%s`", path);
			killed = true;
		}
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
	if (rt__cgroup_rmdir_tree(dir, err) < 0)
		return rt_error_wrap(err, "destroying cgroup `%s`", path);
	return 0;
}

/* What cgroup v2 has no file for, refused before anything is written. */
static int v2_refuse(const rt__cgroup_extra_t *x, rt_error_t *err)
{
	const char *field = NULL, *why = NULL;
	bool leaf = x->blkio_leaf_weight > 0;
	for (size_t i = 0; i < x->nweight_devices; i++)
		leaf = leaf || x->weight_devices[i].leaf_weight > 0;
	if (x->memory_swappiness >= 0)
		field = "memory.swappiness", why = "cgroup v2 has no per-cgroup swappiness";
	else if (x->disable_oom_killer)
		field = "memory.disableOOMKiller", why = "cgroup v2 cannot disable the OOM killer";
	else if (x->cpu_realtime_runtime > 0 || x->cpu_realtime_period > 0)
		field = x->cpu_realtime_runtime > 0 ? "cpu.realtimeRuntime" : "cpu.realtimePeriod",
		why = "cgroup v2 has no real-time CPU controller";
	else if (leaf)
		field = "blockIO.leafWeight", why = "cgroup v2 has no leaf weight";
	else if (x->has_class_id)
		field = "network.classID",
		why = "the net_cls controller does not exist on cgroup v2";
	else if (x->nnet_prios)
		field = "network.priorities",
		why = "the net_prio controller does not exist on cgroup v2";
	if (field)
		return rt__error_plain(err, ENOTSUP, "linux.resources.%s: %s", field, why);
	return 0;
}

/* The controllers x needs beyond cpu, memory, pids (which create enables). */
static void v2_extra_ctls(const rt__cgroup_extra_t *x, const char *unified_ctls, char *out,
			  size_t n)
{
	size_t nthr = 0;
	for (int k = 0; k < RT_THROTTLE_NKINDS; k++)
		nthr += x->nthrottle[k];
	snprintf(out, n, "%s%s%s %s",
		 x->blkio_weight > 0 || x->nweight_devices || nthr ? " io" : "",
		 x->cpus || x->mems ? " cpuset" : "", x->rdma ? " rdma" : "", unified_ctls);
}

/* memory, cpu idle and burst, io per device, hugetlb, rdma, unified. */
static int v2_set_more(const char *dir, const rt__cgroup_extra_t *x, rt_error_t *err)
{
	static const char *const thr_key[] = {"rbps", "wbps", "riops", "wiops"};
	static const char *const thr_field[] = {"throttleReadBpsDevice", "throttleWriteBpsDevice",
						"throttleReadIOPSDevice",
						"throttleWriteIOPSDevice"};
	/* memory.useHierarchy: always so on v2; checkBeforeUpdate: nothing to
	 * check at creation. */
	if (x->has_cpu_idle && v2_write(dir, "cpu.idle", err, "%lld", (long long)x->cpu_idle) < 0)
		return rt_error_wrap(err, "linux.resources.cpu.idle");
	if (x->has_cpu_burst &&
	    v2_write(dir, "cpu.max.burst", err, "%lld", (long long)x->cpu_burst) < 0)
		return rt_error_wrap(err, "linux.resources.cpu.burst");
	for (size_t i = 0; i < x->nweight_devices; i++) {
		const rt__blkio_dev_t *w = &x->weight_devices[i];
		if (v2_write(dir, "io.weight", err, "%lld:%lld %lld", (long long)w->major,
			     (long long)w->minor, (long long)blkio_to_io_weight(w->weight)) < 0)
			return rt_error_wrap(err, "linux.resources.blockIO.weightDevice[%zu]", i);
	}
	for (int k = 0; k < RT_THROTTLE_NKINDS; k++)
		for (size_t i = 0; i < x->nthrottle[k]; i++) {
			const rt__blkio_dev_t *t = &x->throttle[k][i];
			if (v2_write(dir, "io.max", err, "%lld:%lld %s=%lld", (long long)t->major,
				     (long long)t->minor, thr_key[k], (long long)t->weight) < 0)
				return rt_error_wrap(err, "linux.resources.blockIO.%s[%zu]",
						     thr_field[k], i);
		}
	if (x->nhugepages && rt__cgroup_hugetlb(dir, x, "max", err) < 0)
		return -1;
	if (x->rdma && rt__cgroup_rdma(dir, x, err) < 0)
		return -1;
	return rt__cgroup2_unified(dir, x, err);
}

static int v2_set_extra(const rt__cgroup_driver_t *d, const char *path,
			const struct rt__cgroup_extra *x, rt_error_t *err)
{
	char dir[2048], clean[1024], ctls[256], more[320];
	if (v2_dir(d, path, dir, sizeof(dir), err) < 0 ||
	    rt__cgroup_clean_path(path, clean, sizeof(clean), err) < 0 || v2_refuse(x, err) < 0)
		return -1;
	/* controllers beyond cpu, memory, pids: enabled above the cgroup only
	 * when asked for (hugetlb, unified keys, io, cpuset, rdma) */
	ctls[0] = '\0';
	if ((x->nhugepages || x->unified) &&
	    rt__cgroup2_needs(d->root, x, true, ctls, sizeof(ctls), err) < 0)
		return -1;
	v2_extra_ctls(x, ctls, more, sizeof(more));
	if (strspn(more, " ") != strlen(more) &&
	    rt__cgroup2_prepare(d->root, clean, more + strspn(more, " "), false, err) < 0)
		return rt_error_wrap(err, "linux.resources: enabling controllers for cgroup `%s`",
				     path);
	if (x->ndevices) {
		/* the container's rules, then the defaults (which win, as on v1) */
		size_t n = x->ndevices + rt__ndev_defaults;
		rt__dev_rule_t *all = rt__xmalloc(n * sizeof(*all));
		memcpy(all, x->devices, x->ndevices * sizeof(*all));
		memcpy(all + x->ndevices, rt__dev_defaults, rt__ndev_defaults * sizeof(*all));
		int rc = rt__ebpf_dev_attach(dir, all, n, err);
		free(all);
		if (rc < 0)
			return rt_error_wrap(err, "linux.resources.devices");
	}
	if (x->memory_reservation > 0 &&
	    v2_write(dir, "memory.low", err, "%lld", (long long)x->memory_reservation) < 0)
		return rt_error_wrap(err, "linux.resources.memory.reservation");
	if (x->blkio_weight > 0 && v2_write(dir, "io.weight", err, "default %lld",
					    (long long)blkio_to_io_weight(x->blkio_weight)) < 0)
		return rt_error_wrap(err, "linux.resources.blockIO.weight");
	if (x->cpus && v2_write(dir, "cpuset.cpus", err, "%s", x->cpus) < 0)
		return rt_error_wrap(err, "linux.resources.cpu.cpus");
	if (x->mems && v2_write(dir, "cpuset.mems", err, "%s", x->mems) < 0)
		return rt_error_wrap(err, "linux.resources.cpu.mems");
	return v2_set_more(dir, x, err);
}

static const rt__cgroup_ops_t v2_ops = {
    .name = "v2",
    .create = v2_create,
    .set_limits = v2_set_limits,
    .enter = v2_enter,
    .stats = v2_stats,
    .kill = v2_kill,
    .destroy = v2_destroy,
    .pids = v2_pids,
    .set_extra = v2_set_extra,
    .freeze = rt__cgroup_v2_freeze,
    .frozen = rt__cgroup_v2_frozen,
};

void rt__cgroup_v2_driver(const char *root, rt__cgroup_driver_t *d)
{
	memset(d, 0, sizeof(*d));
	d->ops = &v2_ops;
	snprintf(d->root, sizeof(d->root), "%s", root);
}
