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

static char tmp[64];

static void put(const char *rel, const char *content)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", tmp, rel);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

static void dir(const char *rel)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", tmp, rel);
	assert_int_equal(mkdir(p, 0755), 0);
}

static char *get(const char *rel)
{
	static char buf[256];
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", tmp, rel);
	FILE *f = fopen(p, "r");
	assert_non_null(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
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
	    cmocka_unit_test(test_real_unified),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
