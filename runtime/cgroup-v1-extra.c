/* The cgroup v1 driver's linux.resources beyond limits, cpuset, devices and
 * the blkio weight (cgroup-v1.c): memory swappiness, OOM killer and
 * hierarchy, cpu real-time, idle and burst, per-device blkio weights and
 * throttling, hugetlb (the v1 hierarchy, else a hybrid host's cgroup2 tree),
 * net_cls, net_prio, rdma and unified keys. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <sys/stat.h>

#include "runtime/cgroup-internal.h"
#include "runtime/rt-internal.h"

/* The directory of path in hierarchy ctl, created. */
static int opt_dir(const rt__cgroup_driver_t *d, const char *ctl, const char *path, char *dir,
		   size_t n, rt_error_t *err)
{
	if (rt__cgroup_v1_dir(d, ctl, path, dir, n, err) < 0)
		return -1;
	return rt__mkdir_p(dir, 0755, err);
}

/* Writes s to dir/file; a missing file is ENOTSUP saying why (what). */
static int put(const char *dir, const char *file, const char *s, const char *what, rt_error_t *err)
{
	char f[4096];
	snprintf(f, sizeof(f), "%s/%s", dir, file);
	if (access(f, F_OK) < 0)
		return rt__error_plain(err, ENOTSUP, "%s (no `%s`)", what, f);
	return rt__write_file(f, s, err);
}

/* cpu.rt_runtime_us: a cgroup gets no more real-time share than its
 * parent, whose default is 0: each ancestor below the root is raised to
 * the share asked for (as crun does), then the cgroup's own. */
static int v1_cpu_rt(const rt__cgroup_driver_t *d, const char *path, const rt__cgroup_extra_t *x,
		     rt_error_t *err)
{
	char dir[3072], f[4096], clean[1024];
	if (rt__cgroup_v1_dir(d, "cpu", path, dir, sizeof(dir), err) < 0 ||
	    rt__cgroup_clean_path(path, clean, sizeof(clean), err) < 0)
		return -1;
	const char *nort = "the kernel has no real-time group scheduling (CONFIG_RT_GROUP_SCHED)";
	if (x->cpu_realtime_period > 0) {
		snprintf(f, sizeof(f), "%lld", (long long)x->cpu_realtime_period);
		if (put(dir, "cpu.rt_period_us", f, nort, err) < 0)
			return rt_error_wrap(err, "linux.resources.cpu.realtimePeriod");
	}
	if (x->cpu_realtime_runtime <= 0)
		return 0;
	uint64_t period = 1000000;
	snprintf(f, sizeof(f), "%s/cpu.rt_period_us", dir);
	if (access(f, F_OK) < 0)
		return rt__error_plain(err, ENOTSUP, "linux.resources.cpu.realtimeRuntime: %s",
				       nort);
	if (rt__cgroup_read_u64(f, &period, err) < 0 || period == 0)
		return rt_error_wrap(err, "linux.resources.cpu.realtimeRuntime");
	for (char *p = strchr(clean, '/'); p; p = strchr(p + 1, '/')) {
		char adir[3072];
		uint64_t ap = 0, ar = 0;
		*p = '\0';
		snprintf(adir, sizeof(adir), "%s/cpu/%s", d->root, clean);
		*p = '/';
		snprintf(f, sizeof(f), "%s/cpu.rt_period_us", adir);
		if (rt__cgroup_read_u64(f, &ap, err) < 0)
			return rt_error_wrap(err, "linux.resources.cpu.realtimeRuntime");
		snprintf(f, sizeof(f), "%s/cpu.rt_runtime_us", adir);
		cleanup_free char *cur = rt__read_file(f, NULL, err);
		if (cur == NULL)
			return rt_error_wrap(err, "linux.resources.cpu.realtimeRuntime");
		ar = cur[0] == '-' ? UINT64_MAX : strtoull(cur, NULL, 10);
		uint64_t need = ((uint64_t)x->cpu_realtime_runtime * ap + period - 1) / period;
		if (ar < need && rt__write_filef(f, err, "%" PRIu64, need) < 0)
			return rt_error_wrap(err, "linux.resources.cpu.realtimeRuntime: raising "
						  "the parent's share");
	}
	snprintf(f, sizeof(f), "%lld", (long long)x->cpu_realtime_runtime);
	if (put(dir, "cpu.rt_runtime_us", f, nort, err) < 0)
		return rt_error_wrap(err, "linux.resources.cpu.realtimeRuntime");
	return 0;
}

static int v1_blkio(const rt__cgroup_driver_t *d, const char *path, const rt__cgroup_extra_t *x,
		    rt_error_t *err)
{
	static const char *const thr_file[] = {
	    "blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device",
	    "blkio.throttle.read_iops_device", "blkio.throttle.write_iops_device"};
	static const char *const thr_field[] = {"throttleReadBpsDevice", "throttleWriteBpsDevice",
						"throttleReadIOPSDevice",
						"throttleWriteIOPSDevice"};
	char dir[3072], v[64], f[4096];
	if (opt_dir(d, "blkio", path, dir, sizeof(dir), err) < 0)
		return rt_error_wrap(err, "linux.resources.blockIO");
	if (x->blkio_leaf_weight > 0) {
		snprintf(v, sizeof(v), "%lld", (long long)x->blkio_leaf_weight);
		if (put(dir, "blkio.leaf_weight", v,
			"this host's blkio controller has no leaf weight (CFQ only)", err) < 0)
			return rt_error_wrap(err, "linux.resources.blockIO.leafWeight");
	}
	for (size_t i = 0; i < x->nweight_devices; i++) {
		const rt__blkio_dev_t *w = &x->weight_devices[i];
		const char *file = "blkio.weight_device";
		snprintf(f, sizeof(f), "%s/%s", dir, file);
		if (access(f, F_OK) < 0)
			file = "blkio.bfq.weight_device";
		int rc = 0;
		if (w->weight > 0) {
			snprintf(v, sizeof(v), "%lld:%lld %lld", (long long)w->major,
				 (long long)w->minor, (long long)w->weight);
			rc = put(dir, file, v,
				 "this host's blkio controller has no per-device weight (no CFQ "
				 "or BFQ I/O scheduler)",
				 err);
		}
		if (rc == 0 && w->leaf_weight > 0) {
			snprintf(v, sizeof(v), "%lld:%lld %lld", (long long)w->major,
				 (long long)w->minor, (long long)w->leaf_weight);
			rc = put(dir, "blkio.leaf_weight_device", v,
				 "this host's blkio controller has no leaf weight (CFQ only)", err);
		}
		if (rc < 0)
			return rt_error_wrap(err, "linux.resources.blockIO.weightDevice[%zu]", i);
	}
	for (int k = 0; k < RT_THROTTLE_NKINDS; k++)
		for (size_t i = 0; i < x->nthrottle[k]; i++) {
			const rt__blkio_dev_t *t = &x->throttle[k][i];
			snprintf(v, sizeof(v), "%lld:%lld %lld", (long long)t->major,
				 (long long)t->minor, (long long)t->weight);
			if (put(dir, thr_file[k], v,
				"this host's blkio controller has no throttling", err) < 0)
				return rt_error_wrap(err, "linux.resources.blockIO.%s[%zu]",
						     thr_field[k], i);
		}
	return 0;
}

static int v1_hugetlb(const rt__cgroup_driver_t *d, const char *path, const rt__cgroup_extra_t *x,
		      rt_error_t *err)
{
	char dir[3072];
	if (opt_dir(d, "hugetlb", path, dir, sizeof(dir), err) < 0)
		return rt_error_wrap(err, "linux.resources.hugepageLimits");
	return rt__cgroup_hugetlb(dir, x, "limit_in_bytes", err);
}

/* hugepageLimits (when no v1 hugetlb hierarchy) and unified keys go to the
 * hybrid host's cgroup2 tree: the cgroup is made there too, with the
 * controllers they need enabled above it. */
static int v1_unified(const rt__cgroup_driver_t *d, const char *path, const rt__cgroup_extra_t *x,
		      bool hugetlb, rt_error_t *err)
{
	char root[1024], clean[1024], dir[2048], ctls[256];
	snprintf(root, sizeof(root), "%s/unified", d->root);
	if (rt__cgroup_clean_path(path, clean, sizeof(clean), err) < 0 ||
	    rt__cgroup2_needs(root, x, hugetlb, ctls, sizeof(ctls), err) < 0)
		return -1;
	if (rt__cgroup2_prepare(root, clean, ctls, true, err) < 0)
		return rt_error_wrap(err, "linux.resources: creating cgroup `%s` in `%s`", clean,
				     root);
	snprintf(dir, sizeof(dir), "%s/%s", root, clean);
	if ((hugetlb && rt__cgroup_hugetlb(dir, x, "max", err) < 0) ||
	    rt__cgroup2_unified(dir, x, err) < 0)
		return -1;
	return 0;
}

int rt__cgroup_v1_set_more(const rt__cgroup_driver_t *d, const char *path,
			   const rt__cgroup_extra_t *x, rt_error_t *err)
{
	char dir[3072], v[128];
	/* memory */
	if (x->memory_swappiness >= 0 && rt__cgroup_v1_write(d, "memory", path, "memory.swappiness",
							     x->memory_swappiness, err) < 0)
		return rt_error_wrap(err, "linux.resources.memory.swappiness");
	if (x->disable_oom_killer &&
	    rt__cgroup_v1_write(d, "memory", path, "memory.oom_control", 1, err) < 0)
		return rt_error_wrap(err, "linux.resources.memory.disableOOMKiller");
	if (x->memory_use_hierarchy &&
	    rt__cgroup_v1_write(d, "memory", path, "memory.use_hierarchy", 1, err) < 0)
		return rt_error_wrap(err, "linux.resources.memory.useHierarchy");
	/* cpu */
	if ((x->cpu_realtime_period > 0 || x->cpu_realtime_runtime > 0) &&
	    v1_cpu_rt(d, path, x, err) < 0)
		return -1;
	if (x->has_cpu_idle || x->has_cpu_burst) {
		if (rt__cgroup_v1_dir(d, "cpu", path, dir, sizeof(dir), err) < 0)
			return -1;
		snprintf(v, sizeof(v), "%lld", (long long)x->cpu_idle);
		if (x->has_cpu_idle && put(dir, "cpu.idle", v,
					   "the kernel has no SCHED_IDLE cgroups (5.15+)", err) < 0)
			return rt_error_wrap(err, "linux.resources.cpu.idle");
		snprintf(v, sizeof(v), "%lld", (long long)x->cpu_burst);
		if (x->has_cpu_burst &&
		    put(dir, "cpu.cfs_burst_us", v, "the kernel has no CFS burst (5.14+)", err) < 0)
			return rt_error_wrap(err, "linux.resources.cpu.burst");
	}
	/* blkio (weight: v1_set_extra) */
	size_t nthr = 0;
	for (int k = 0; k < RT_THROTTLE_NKINDS; k++)
		nthr += x->nthrottle[k];
	if ((x->blkio_leaf_weight > 0 || x->nweight_devices || nthr) &&
	    v1_blkio(d, path, x, err) < 0)
		return -1;
	/* hugetlb: the v1 hierarchy, else the hybrid cgroup2 tree */
	bool v1_huge = x->nhugepages && rt__cgroup_v1_has(d, "hugetlb");
	if (v1_huge && v1_hugetlb(d, path, x, err) < 0)
		return -1;
	if (((x->nhugepages && !v1_huge) || x->unified) &&
	    v1_unified(d, path, x, x->nhugepages && !v1_huge, err) < 0)
		return -1;
	/* network, rdma */
	if (x->has_class_id) {
		snprintf(v, sizeof(v), "%u", x->class_id);
		if (opt_dir(d, "net_cls", path, dir, sizeof(dir), err) < 0 ||
		    put(dir, "net_cls.classid", v, "no net_cls.classid", err) < 0)
			return rt_error_wrap(err, "linux.resources.network.classID");
	}
	if (x->nnet_prios && opt_dir(d, "net_prio", path, dir, sizeof(dir), err) < 0)
		return rt_error_wrap(err, "linux.resources.network.priorities");
	for (size_t i = 0; i < x->nnet_prios; i++) {
		snprintf(v, sizeof(v), "%s %u", x->net_prios[i].name, x->net_prios[i].priority);
		if (put(dir, "net_prio.ifpriomap", v, "no net_prio.ifpriomap", err) < 0)
			return rt_error_wrap(err, "linux.resources.network.priorities[%zu]", i);
	}
	if (x->rdma) {
		if (opt_dir(d, "rdma", path, dir, sizeof(dir), err) < 0)
			return rt_error_wrap(err, "linux.resources.rdma");
		if (rt__cgroup_rdma(dir, x, err) < 0)
			return -1;
	}
	return 0;
}
