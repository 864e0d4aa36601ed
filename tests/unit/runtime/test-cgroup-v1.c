/* The cgroup v1 driver against a temporary directory laid out like
 * /sys/fs/cgroup (memory, pids, cpu with cpuacct as a link to it): paths,
 * limits (memsw follows memory), stats, pids. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "runtime/cgroup-internal.h"
#include "runtime/rt-internal.h"

#include "runtime/cg-files.h"

static int setup(void **state)
{
	(void)state;
	strcpy(tmp, "/tmp/test-cgroup-v1-XXXXXX");
	if (mkdtemp(tmp) == NULL)
		return -1;
	static const char *dirs[] = {"memory",	    "memory/x",	     "memory/x/y",
				     "pids",	    "pids/x",	     "pids/x/y",
				     "cpu,cpuacct", "cpu,cpuacct/x", "cpu,cpuacct/x/y"};
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		char p[256];
		snprintf(p, sizeof(p), "%s/%s", tmp, dirs[i]);
		if (mkdir(p, 0755) < 0)
			return -1;
	}
	char a[256], b[256];
	snprintf(a, sizeof(a), "%s/cpu", tmp);
	snprintf(b, sizeof(b), "%s/cpuacct", tmp);
	if (symlink("cpu,cpuacct", a) < 0 || symlink("cpu,cpuacct", b) < 0)
		return -1;
	static const char *files[] = {"memory/x/y/memory.limit_in_bytes",
				      "memory/x/y/memory.memsw.limit_in_bytes",
				      "memory/x/y/cgroup.procs",
				      "pids/x/y/pids.max",
				      "pids/x/y/cgroup.procs",
				      "cpu,cpuacct/x/y/cpu.shares",
				      "cpu,cpuacct/x/y/cpu.cfs_quota_us",
				      "cpu,cpuacct/x/y/cpu.cfs_period_us",
				      "cpu,cpuacct/x/y/cgroup.procs"};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		put(files[i], "");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf --one-file-system %s", tmp);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_hierarchies_deduplicated(void **state)
{
	(void)state;
	rt__cgroup_driver_t d;
	rt__cgroup_v1_driver(tmp, &d);
	assert_int_equal(d.nhier, 3);
	assert_string_equal(d.hier[0], "memory");
	assert_string_equal(d.hier[1], "pids");
	assert_string_equal(d.hier[2], "cpu");
}

static void test_create_and_limits(void **state)
{
	(void)state;
	rt__cgroup_driver_t d;
	rt__cgroup_v1_driver(tmp, &d);
	rt_cgroup_limits_t l = {.memory_bytes = 16 << 20,
				.cpu_quota_us = 50000,
				.cpu_period_us = 100000,
				.cpu_shares = 512,
				.pids_max = 64};
	rt_error_t err = {0};
	if (d.ops->create(&d, "/x/y", &l, &err) != 0)
		fail_msg("%s", err.msg);
	assert_string_equal(get("memory/x/y/memory.limit_in_bytes"), "16777216");
	assert_string_equal(get("memory/x/y/memory.memsw.limit_in_bytes"), "16777216");
	assert_string_equal(get("cpu/x/y/cpu.shares"), "512");
	assert_string_equal(get("cpu/x/y/cpu.cfs_quota_us"), "50000");
	assert_string_equal(get("cpu/x/y/cpu.cfs_period_us"), "100000");
	assert_string_equal(get("pids/x/y/pids.max"), "64");
	l = (rt_cgroup_limits_t){.memory_bytes = 1000, .memory_swap = -1};
	assert_int_equal(d.ops->set_limits(&d, "x/y", &l, &err), 0);
	assert_string_equal(get("memory/x/y/memory.memsw.limit_in_bytes"), "-1");
	l = (rt_cgroup_limits_t){.memory_bytes = 1000, .memory_swap = 3000};
	assert_int_equal(d.ops->set_limits(&d, "x/y", &l, &err), 0);
	assert_string_equal(get("memory/x/y/memory.memsw.limit_in_bytes"), "3000");
	/* a new cgroup's directories are made in each hierarchy */
	assert_int_equal(d.ops->create(&d, "x/z", NULL, &err), 0);
	char p[256];
	snprintf(p, sizeof(p), "%s/cpu,cpuacct/x/z", tmp);
	assert_int_equal(access(p, F_OK), 0);
}

static void test_stats_and_enter(void **state)
{
	(void)state;
	put("cpu/x/y/cpuacct.usage", "123456789\n");
	put("memory/x/y/memory.usage_in_bytes", "4096\n");
	put("memory/x/y/memory.max_usage_in_bytes", "8192\n");
	put("memory/x/y/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 4\n");
	put("pids/x/y/pids.current", "2\n");
	rt__cgroup_driver_t d;
	rt__cgroup_v1_driver(tmp, &d);
	rt_error_t err = {0};
	rt_cgroup_stats_t st;
	if (d.ops->stats(&d, "x/y", &st, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(st.cpu_usage_ns, 123456789);
	assert_int_equal(st.memory_bytes, 4096);
	assert_int_equal(st.memory_peak, 8192);
	assert_int_equal(st.oom_kills, 4);
	assert_int_equal(st.pids, 2);
	assert_int_equal(d.ops->enter(&d, "x/y", 77, &err), 0);
	assert_string_equal(get("memory/x/y/cgroup.procs"), "77");
	assert_string_equal(get("pids/x/y/cgroup.procs"), "77");
	pid_t *pids = NULL;
	size_t n = 0;
	assert_int_equal(d.ops->pids(&d, "x", &pids, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(pids[0], 77);
	free(pids);
	/* a missing cgroup: its stats fail, naming the file */
	assert_int_equal(d.ops->stats(&d, "nope", &st, &err), -1);
	assert_non_null(strstr(err.msg, "nope"));
}

/* Every mounted hierarchy is used (named ones like systemd too), each
 * mount once; a new cpuset gets its parent's cpus and mems at each level
 * before anything enters it; destroy removes the cgroup everywhere. */
static void test_all_hierarchies(void **state)
{
	(void)state;
	static const char *const dirs[] = {"cpuset", "systemd", "freezer", "net_cls,net_prio",
					   "unified"};
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		char p[256];
		snprintf(p, sizeof(p), "%s/%s", tmp, dirs[i]);
		assert_int_equal(mkdir(p, 0755), 0);
	}
	char a[256];
	snprintf(a, sizeof(a), "%s/net_cls", tmp);
	assert_int_equal(symlink("net_cls,net_prio", a), 0);
	put("cpuset/cpuset.cpus", "0-1\n");
	put("cpuset/cpuset.mems", "0\n");
	rt__cgroup_driver_t d;
	rt__cgroup_v1_driver(tmp, &d);
	/* memory pids cpu + cpuset systemd freezer net_cls(,net_prio) */
	assert_int_equal(d.nhier, 7);
	assert_string_equal(d.hier[0], "memory");
	bool cs = false, sd = false, fr = false;
	for (int i = 0; i < d.nhier; i++) {
		assert_string_not_equal(d.hier[i], "unified");
		cs = cs || strcmp(d.hier[i], "cpuset") == 0;
		sd = sd || strcmp(d.hier[i], "systemd") == 0;
		fr = fr || strcmp(d.hier[i], "freezer") == 0;
	}
	assert_true(cs && sd && fr);
	/* a cgroupfs would make these files with the directory: a regular
	 * directory needs them first, so pre-create the levels */
	static const char *const mk[] = {"cpuset/a", "cpuset/a/b"};
	for (size_t i = 0; i < 2; i++) {
		char p[256];
		snprintf(p, sizeof(p), "%s/%s", tmp, mk[i]);
		assert_int_equal(mkdir(p, 0755), 0);
	}
	put("cpuset/a/cpuset.cpus", "\n");
	put("cpuset/a/cpuset.mems", "\n");
	put("cpuset/a/b/cpuset.cpus", "\n");
	put("cpuset/a/b/cpuset.mems", "\n");
	rt_error_t err = {0};
	if (d.ops->create(&d, "a/b", NULL, &err) != 0)
		fail_msg("%s", err.msg);
	assert_string_equal(get("cpuset/a/cpuset.cpus"), "0-1\n");
	assert_string_equal(get("cpuset/a/b/cpuset.cpus"), "0-1\n");
	assert_string_equal(get("cpuset/a/b/cpuset.mems"), "0\n");
	char p[256];
	snprintf(p, sizeof(p), "%s/systemd/a/b", tmp);
	assert_int_equal(access(p, F_OK), 0);
	snprintf(p, sizeof(p), "%s/freezer/a/b", tmp);
	assert_int_equal(access(p, F_OK), 0);
	snprintf(p, sizeof(p), "%s/unified/a/b", tmp);
	assert_int_equal(access(p, F_OK), -1);
	/* net_cls is mounted (a link): a classID is not refused for want of it */
	rt__cgroup_extra_t n = {.memory_swappiness = -1, .has_class_id = true, .class_id = 7};
	put("net_cls,net_prio/a/b/net_cls.classid", "");
	if (d.ops->set_extra(&d, "a/b", &n, &err) != 0)
		fail_msg("%s", err.msg);
	assert_string_equal(get("net_cls/a/b/net_cls.classid"), "7");
}

/* linux.resources beyond the limits on v1, with a hybrid cgroup2 tree
 * beside the hierarchies: the files written, and what is refused. */
static void test_extra_hybrid(void **state)
{
	(void)state;
	static const char *const dirs[] = {"blkio",   "blkio/x",   "blkio/x/y",
					   "unified", "unified/x", "unified/x/y"};
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		char p[256];
		snprintf(p, sizeof(p), "%s/%s", tmp, dirs[i]);
		assert_int_equal(mkdir(p, 0755), 0);
	}
	static const char *const files[] = {
	    "memory/x/y/memory.swappiness",	"memory/x/y/memory.oom_control",
	    "memory/x/y/memory.use_hierarchy",	"cpu,cpuacct/x/y/cpu.idle",
	    "cpu,cpuacct/x/y/cpu.cfs_burst_us", "blkio/x/y/blkio.throttle.read_bps_device",
	    "blkio/x/y/blkio.weight_device",	"unified/cgroup.subtree_control",
	    "unified/x/cgroup.subtree_control", "unified/x/y/hugetlb.2MB.max",
	    "unified/x/y/cgroup.procs",		"blkio/x/y/cgroup.procs"};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		put(files[i], "");
	put("unified/cgroup.controllers", "hugetlb\n");
	rt__cgroup_driver_t d;
	rt__cgroup_v1_driver(tmp, &d);
	rt__cgroup_v1_set_hybrid(&d);
	rt_error_t err = {0};
	rt__blkio_dev_t thr = {.major = 8, .minor = 0, .weight = 1048576};
	rt__blkio_dev_t wd = {.major = 8, .minor = 0, .weight = 300};
	rt__hugepage_limit_t hp = {.page_size = (char *)"2MB", .limit = 2097152};
	rt__cgroup_extra_t x = {.memory_swappiness = 5,
				.disable_oom_killer = true,
				.memory_use_hierarchy = true,
				.has_cpu_idle = true,
				.cpu_idle = 1,
				.has_cpu_burst = true,
				.cpu_burst = 700,
				.weight_devices = &wd,
				.nweight_devices = 1,
				.hugepages = &hp,
				.nhugepages = 1};
	x.throttle[RT_THROTTLE_READ_BPS] = &thr;
	x.nthrottle[RT_THROTTLE_READ_BPS] = 1;
	if (d.ops->set_extra(&d, "x/y", &x, &err) != 0)
		fail_msg("%s", err.msg);
	assert_string_equal(get("memory/x/y/memory.swappiness"), "5");
	assert_string_equal(get("memory/x/y/memory.oom_control"), "1");
	assert_string_equal(get("memory/x/y/memory.use_hierarchy"), "1");
	assert_string_equal(get("cpu,cpuacct/x/y/cpu.idle"), "1");
	assert_string_equal(get("cpu,cpuacct/x/y/cpu.cfs_burst_us"), "700");
	assert_string_equal(get("blkio/x/y/blkio.throttle.read_bps_device"), "8:0 1048576");
	assert_string_equal(get("blkio/x/y/blkio.weight_device"), "8:0 300");
	/* no v1 hugetlb: the hybrid tree, hugetlb enabled above the cgroup */
	assert_string_equal(get("unified/x/y/hugetlb.2MB.max"), "2097152");
	assert_string_equal(get("unified/cgroup.subtree_control"), "+hugetlb");
	assert_string_equal(get("unified/x/cgroup.subtree_control"), "+hugetlb");
	/* the hybrid tree is entered like the optional hierarchies */
	assert_int_equal(d.ops->enter(&d, "x/y", 4242, &err), 0);
	assert_string_equal(get("unified/x/y/cgroup.procs"), "4242");

	/* refused, naming the field: controllers not mounted, a unified key of
	 * a controller the cgroup2 tree lacks, a missing file */
	rt__cgroup_extra_t n = {.memory_swappiness = -1, .has_class_id = true};
	assert_int_equal(d.ops->set_extra(&d, "x/y", &n, &err), -1);
	assert_non_null(strstr(err.msg, "linux.resources.network.classID: the net_cls cgroup "
					"controller is not available on this host"));
	json_t *rdma = json_pack("{s:{s:i}}", "mlx5_1", "hcaObjects", 3);
	n = (rt__cgroup_extra_t){.memory_swappiness = -1, .rdma = rdma};
	assert_int_equal(d.ops->set_extra(&d, "x/y", &n, &err), -1);
	assert_non_null(strstr(err.msg, "linux.resources.rdma: the rdma cgroup controller"));
	json_decref(rdma);
	json_t *uni = json_pack("{s:s}", "memory.max", "1");
	n = (rt__cgroup_extra_t){.memory_swappiness = -1, .unified = uni};
	assert_int_equal(d.ops->set_extra(&d, "x/y", &n, &err), -1);
	assert_non_null(strstr(err.msg, "linux.resources.unified.memory.max: controller `memory` "
					"is not available in the cgroup2 tree"));
	assert_non_null(strstr(err.msg, "(it has: hugetlb)"));
	json_decref(uni);
	n = (rt__cgroup_extra_t){.memory_swappiness = -1, .cpu_realtime_runtime = 1000};
	assert_int_equal(d.ops->set_extra(&d, "x/y", &n, &err), -1);
	assert_non_null(strstr(err.msg, "linux.resources.cpu.realtimeRuntime"));
	n = (rt__cgroup_extra_t){.memory_swappiness = -1, .blkio_leaf_weight = 100};
	assert_int_equal(d.ops->set_extra(&d, "x/y", &n, &err), -1);
	assert_non_null(strstr(err.msg, "linux.resources.blockIO.leafWeight: this host's blkio "
					"controller has no leaf weight"));
	assert_int_equal(err.errnum, ENOTSUP);

	/* a legacy host (no cgroup2 tree) refuses unified keys */
	rt__cgroup_driver_t l;
	rt__cgroup_v1_driver(tmp, &l);
	uni = json_pack("{s:s}", "hugetlb.2MB.max", "1");
	n = (rt__cgroup_extra_t){.memory_swappiness = -1, .unified = uni};
	assert_int_equal(l.ops->set_extra(&l, "x/y", &n, &err), -1);
	assert_non_null(strstr(err.msg, "linux.resources.unified: this host has no cgroup2 tree"));
	json_decref(uni);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_hierarchies_deduplicated, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_create_and_limits, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stats_and_enter, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_extra_hybrid, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_all_hierarchies, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
