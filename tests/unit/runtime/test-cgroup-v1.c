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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_hierarchies_deduplicated, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_create_and_limits, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stats_and_enter, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
