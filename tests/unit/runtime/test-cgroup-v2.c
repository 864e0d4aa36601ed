/* The cgroup v2 driver: its file writes against a temporary directory laid
 * out like a cgroup2 tree, and (as root, where the host has one) the real
 * cgroup2 tree at /sys/fs/cgroup/unified: create, move, cpu.stat,
 * cgroup.kill, destroy. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <linux/magic.h>
#include <unistd.h>

#include <cmocka.h>

#include "runtime/cgroup-internal.h"
#include "runtime/rt-internal.h"

#include "runtime/cg-files.h"

static void dir(const char *rel)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", tmp, rel);
	assert_int_equal(mkdir(p, 0755), 0);
}

static const char *leaf_files[] = {"cgroup.procs", "memory.max", "memory.swap.max",
				   "cpu.max",	   "cpu.weight", "pids.max"};

/* root (cpuset cpu io memory pids) / a (cpu memory pids) / b (leaf files) */
static int setup(void **state)
{
	(void)state;
	strcpy(tmp, "/tmp/test-cgroup-v2-XXXXXX");
	if (mkdtemp(tmp) == NULL)
		return -1;
	put("cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
	put("cgroup.subtree_control", "");
	dir("a");
	put("a/cgroup.controllers", "cpu memory pids\n");
	put("a/cgroup.subtree_control", "");
	dir("a/b");
	for (size_t i = 0; i < sizeof(leaf_files) / sizeof(leaf_files[0]); i++) {
		char p[64];
		snprintf(p, sizeof(p), "a/b/%s", leaf_files[i]);
		put(p, "");
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf --one-file-system %s", tmp);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_create_enables_and_limits(void **state)
{
	(void)state;
	rt__cgroup_driver_t d;
	rt__cgroup_v2_driver(tmp, &d);
	rt_cgroup_limits_t l = {.memory_bytes = 16 << 20,
				.cpu_quota_us = 50000,
				.cpu_period_us = 100000,
				.cpu_shares = 512,
				.pids_max = 64};
	rt_error_t err = {0};
	if (d.ops->create(&d, "/a/b", &l, &err) != 0)
		fail_msg("%s", err.msg);
	assert_string_equal(get("cgroup.subtree_control"), "+cpu +memory +pids");
	assert_string_equal(get("a/cgroup.subtree_control"), "+cpu +memory +pids");
	assert_string_equal(get("a/b/memory.max"), "16777216");
	assert_string_equal(get("a/b/memory.swap.max"), "0"); /* swap 0: none beyond memory */
	assert_string_equal(get("a/b/cpu.max"), "50000 100000");
	assert_string_equal(get("a/b/cpu.weight"), "20"); /* crun: 1 + (512-2)*9999/262142 */
	assert_string_equal(get("a/b/pids.max"), "64");
}

static void test_limits_swap_and_weight(void **state)
{
	(void)state;
	rt__cgroup_driver_t d;
	rt__cgroup_v2_driver(tmp, &d);
	rt_error_t err = {0};
	rt_cgroup_limits_t l = {.memory_bytes = 1000, .memory_swap = 3000, .cpu_shares = 2};
	assert_int_equal(d.ops->set_limits(&d, "a/b", &l, &err), 0);
	assert_string_equal(get("a/b/memory.swap.max"), "2000");
	assert_string_equal(get("a/b/cpu.weight"), "1");
	l = (rt_cgroup_limits_t){
	    .memory_bytes = 1000, .memory_swap = -1, .cpu_shares = 262144, .cpu_period_us = 20000};
	assert_int_equal(d.ops->set_limits(&d, "a/b", &l, &err), 0);
	assert_string_equal(get("a/b/memory.swap.max"), "max");
	assert_string_equal(get("a/b/cpu.weight"), "10000");
	assert_string_equal(get("a/b/cpu.max"), "max 20000");
	l = (rt_cgroup_limits_t){.memory_bytes = 1000, .memory_swap = 500};
	assert_int_equal(d.ops->set_limits(&d, "a/b", &l, &err), -1);
	assert_non_null(strstr(err.msg, "below the memory limit"));
}

static void test_no_controllers_no_write(void **state)
{
	(void)state;
	put("a/cgroup.controllers", "\n");
	rt__cgroup_driver_t d;
	rt__cgroup_v2_driver(tmp, &d);
	rt_error_t err = {0};
	assert_int_equal(d.ops->create(&d, "a/b", NULL, &err), 0);
	assert_string_equal(get("a/cgroup.subtree_control"), "");
	/* a limit whose file is missing fails and names it */
	rt_cgroup_limits_t l = {.pids_max = 5};
	put("a/b/cgroup.procs", "");
	char p[256];
	snprintf(p, sizeof(p), "%s/a/b/pids.max", tmp);
	unlink(p);
	assert_int_equal(d.ops->set_limits(&d, "a/b", &l, &err), -1);
	assert_non_null(strstr(err.msg, "pids.max"));
	assert_int_equal(err.errnum, ENOENT);
}

static void test_stats_enter_pids(void **state)
{
	(void)state;
	put("a/b/cpu.stat", "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n");
	put("a/b/memory.current", "4096\n");
	put("a/b/memory.peak", "8192\n");
	put("a/b/memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 2\n");
	put("a/b/pids.current", "3\n");
	rt__cgroup_driver_t d;
	rt__cgroup_v2_driver(tmp, &d);
	rt_error_t err = {0};
	rt_cgroup_stats_t st;
	assert_int_equal(d.ops->stats(&d, "a/b", &st, &err), 0);
	assert_int_equal(st.cpu_usage_ns, 1500000);
	assert_int_equal(st.memory_bytes, 4096);
	assert_int_equal(st.memory_peak, 8192);
	assert_int_equal(st.oom_kills, 2);
	assert_int_equal(st.pids, 3);
	assert_int_equal(d.ops->enter(&d, "a/b", 4242, &err), 0);
	assert_string_equal(get("a/b/cgroup.procs"), "4242");
	dir("a/b/c");
	put("a/b/c/cgroup.procs", "7\n8\n");
	pid_t *pids = NULL;
	size_t n = 0;
	assert_int_equal(d.ops->pids(&d, "a/b", &pids, &n, &err), 0);
	assert_int_equal(n, 3);
	free(pids);
}

static void test_bad_paths(void **state)
{
	(void)state;
	rt__cgroup_driver_t d;
	rt__cgroup_v2_driver(tmp, &d);
	rt_error_t err = {0};
	assert_int_equal(d.ops->create(&d, "a/../../etc", NULL, &err), -1);
	assert_non_null(strstr(err.msg, "not allowed"));
	assert_int_equal(d.ops->create(&d, "/", NULL, &err), -1);
	char out[64];
	assert_int_equal(rt__cgroup_clean_path("//x/y/", out, sizeof(out), &err), 0);
	assert_string_equal(out, "x/y");
}

/* linux.resources beyond the limits: the files each field writes, the
 * controllers enabled above the cgroup, and what v2 refuses. */
static void test_extra_files(void **state)
{
	(void)state;
	static const char *const files[] = {"cpu.idle", "cpu.max.burst",   "io.weight",
					    "io.max",	"hugetlb.2MB.max", "hugetlb.2MB.rsvd.max",
					    "rdma.max", "memory.high",	   "cpuset.cpus"};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char p[64];
		snprintf(p, sizeof(p), "a/b/%s", files[i]);
		put(p, "");
	}
	rt__cgroup_driver_t d;
	rt__cgroup_v2_driver(tmp, &d);
	rt_error_t err = {0};
	rt__blkio_dev_t wd = {.major = 8, .minor = 0, .weight = 500};
	rt__blkio_dev_t thr = {.major = 8, .minor = 16, .weight = 600};
	rt__hugepage_limit_t hp = {.page_size = (char *)"2MB", .limit = 4194304};
	json_t *rdma = json_pack("{s:{s:i}}", "mlx5_1", "hcaHandles", 3);
	json_t *uni = json_pack("{s:s}", "memory.high", "1000000");
	rt__cgroup_extra_t x = {.memory_swappiness = -1,
				.has_cpu_idle = true,
				.cpu_idle = 1,
				.has_cpu_burst = true,
				.cpu_burst = 1000,
				.weight_devices = &wd,
				.nweight_devices = 1,
				.hugepages = &hp,
				.nhugepages = 1,
				.rdma = rdma,
				.unified = uni};
	x.throttle[RT_THROTTLE_WRITE_IOPS] = &thr;
	x.nthrottle[RT_THROTTLE_WRITE_IOPS] = 1;
	if (d.ops->set_extra(&d, "a/b", &x, &err) != 0)
		fail_msg("%s", err.msg);
	assert_string_equal(get("cgroup.subtree_control"), "+io +rdma +hugetlb +memory");
	assert_string_equal(get("a/cgroup.subtree_control"), "+io +rdma +hugetlb +memory");
	assert_string_equal(get("a/b/cpu.idle"), "1");
	assert_string_equal(get("a/b/cpu.max.burst"), "1000");
	assert_string_equal(get("a/b/io.weight"), "8:0 4950"); /* 1 + (500-10)*9999/990 */
	assert_string_equal(get("a/b/io.max"), "8:16 wiops=600");
	assert_string_equal(get("a/b/hugetlb.2MB.max"), "4194304");
	assert_string_equal(get("a/b/hugetlb.2MB.rsvd.max"), "4194304");
	assert_string_equal(get("a/b/rdma.max"), "mlx5_1 hca_handle=3");
	assert_string_equal(get("a/b/memory.high"), "1000000");

	/* only cpu, memory, pids asked for: no subtree_control write at all */
	put("cgroup.subtree_control", "");
	rt__cgroup_extra_t y = {.memory_swappiness = -1, .has_cpu_idle = true};
	assert_int_equal(d.ops->set_extra(&d, "a/b", &y, &err), 0);
	assert_string_equal(get("cgroup.subtree_control"), "");

	/* what v2 cannot apply is refused before any write, naming the field */
	struct {
		rt__cgroup_extra_t x;
		const char *msg;
	} bad[] = {
	    {{.memory_swappiness = 10},
	     "linux.resources.memory.swappiness: cgroup v2 has no per-cgroup swappiness"},
	    {{.memory_swappiness = -1, .disable_oom_killer = true},
	     "linux.resources.memory.disableOOMKiller: cgroup v2 cannot disable the OOM killer"},
	    {{.memory_swappiness = -1, .cpu_realtime_runtime = 1000},
	     "linux.resources.cpu.realtimeRuntime: cgroup v2 has no real-time CPU controller"},
	    {{.memory_swappiness = -1, .blkio_leaf_weight = 100},
	     "linux.resources.blockIO.leafWeight: cgroup v2 has no leaf weight"},
	    {{.memory_swappiness = -1, .has_class_id = true},
	     "linux.resources.network.classID: the net_cls controller does not exist"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(d.ops->set_extra(&d, "a/b", &bad[i].x, &err), -1);
		if (strncmp(err.msg, bad[i].msg, strlen(bad[i].msg)) != 0)
			fail_msg("case %zu: %s", i, err.msg);
		assert_int_equal(err.errnum, ENOTSUP);
	}
	/* a unified key of a controller the tree lacks; a page size it lacks */
	json_decref(uni);
	uni = json_pack("{s:s}", "nosuch.max", "1");
	rt__cgroup_extra_t u = {.memory_swappiness = -1, .unified = uni};
	assert_int_equal(d.ops->set_extra(&d, "a/b", &u, &err), -1);
	assert_non_null(strstr(err.msg, "linux.resources.unified.nosuch.max: controller `nosuch` "
					"is not available"));
	hp.page_size = (char *)"1GB";
	rt__cgroup_extra_t h = {.memory_swappiness = -1, .hugepages = &hp, .nhugepages = 1};
	assert_int_equal(d.ops->set_extra(&d, "a/b", &h, &err), -1);
	assert_non_null(strstr(err.msg, "linux.resources.hugepageLimits[0].pageSize: huge page "
					"size `1GB` is not supported"));
	json_decref(uni);
	json_decref(rdma);
}

/* The real cgroup2 tree of a hybrid host (or the v2 root): needs root. */
static void test_real_unified(void **state)
{
	(void)state;
	const char *root = "/sys/fs/cgroup/unified";
	struct statfs fs;
	if (geteuid() != 0 || statfs(root, &fs) < 0 || fs.f_type != CGROUP2_SUPER_MAGIC)
		skip();
	rt__cgroup_driver_t d;
	rt__cgroup_v2_driver(root, &d);
	char path[64];
	snprintf(path, sizeof(path), "ocirun-unit-%d/c", (int)getpid());
	rt_error_t err = {0};
	if (d.ops->create(&d, path, NULL, &err) != 0)
		fail_msg("%s", err.msg);
	int pfd[2];
	assert_int_equal(pipe(pfd), 0);
	pid_t pid = fork();
	if (pid == 0) {
		char c;
		close(pfd[1]);
		(void)!read(pfd[0], &c, 1); /* wait to be moved, then burn a little CPU */
		for (volatile long i = 0; i < 3000000; i++)
			;
		pause();
		_exit(0);
	}
	close(pfd[0]);
	assert_int_equal(d.ops->enter(&d, path, pid, &err), 0);
	close(pfd[1]);
	pid_t *pids = NULL;
	size_t n = 0;
	assert_int_equal(d.ops->pids(&d, path, &pids, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(pids[0], pid);
	free(pids);
	rt_cgroup_stats_t st = {0};
	for (int i = 0; i < 200 && st.cpu_usage_ns == 0; i++) {
		usleep(5000);
		assert_int_equal(d.ops->stats(&d, path, &st, &err), 0);
	}
	assert_true(st.cpu_usage_ns > 0);
	assert_int_equal(d.ops->kill(&d, path, SIGKILL, &err), 0); /* cgroup.kill */
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	char top[64];
	snprintf(top, sizeof(top), "ocirun-unit-%d", (int)getpid());
	if (d.ops->destroy(&d, top, 2000, &err) != 0)
		fail_msg("%s", err.msg);
	char full[128];
	snprintf(full, sizeof(full), "%s/%s", root, top);
	assert_int_equal(access(full, F_OK), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_create_enables_and_limits, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_limits_swap_and_weight, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_controllers_no_write, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stats_enter_pids, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_paths, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_extra_files, setup, teardown),
	    cmocka_unit_test(test_real_unified),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
