/* Host usage parsing: /proc/stat deltas and /proc/meminfo, from fixtures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "node/nodelet-internal.h"

static void write_tmp(char *path, const char *text)
{
	strcpy(path, "/tmp/nodelet-unit-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void test_proc_stat(void **state)
{
	(void)state;
	char a[64], b[64];
	write_tmp(a, "cpu  100 0 100 700 100 0 0 0 0 0\ncpu0 1 2 3 4\n");
	write_tmp(b, "cpu  200 0 200 1300 300 0 0 0 0 0\n");
	node_host_sample_t sa, sb;
	assert_int_equal(node_read_proc_stat(a, &sa), 0);
	assert_int_equal(node_read_proc_stat(b, &sb), 0);
	assert_int_equal(sa.total, 1000);
	assert_int_equal(sa.busy, 200);
	/* delta: 1000 jiffies, 200 busy -> 20% of 2 CPUs = 400m */
	assert_int_equal(node_host_cpu_millis(&sa, &sb, 2), 400);
	assert_int_equal(node_host_cpu_millis(&sb, &sa, 2), 0);
	unlink(a);
	unlink(b);
	assert_true(node_read_proc_stat("/nonexistent/stat", &sa) < 0);
}

static void test_meminfo(void **state)
{
	(void)state;
	char p[64];
	write_tmp(p, "MemTotal:        2048000 kB\nMemFree:  10 kB\nMemAvailable:    1024000 kB\n");
	int64_t total, used;
	assert_int_equal(node_read_meminfo(p, &total, &used), 0);
	assert_int_equal(total, 2048000LL * 1024);
	assert_int_equal(used, 1024000LL * 1024);
	unlink(p);
	write_tmp(p, "Nothing: 1 kB\n");
	assert_true(node_read_meminfo(p, &total, &used) < 0);
	unlink(p);
}

static void test_real_proc(void **state)
{
	(void)state;
	node_host_sample_t s;
	int64_t total, used;
	assert_int_equal(node_read_proc_stat("/proc/stat", &s), 0);
	assert_true(s.total > 0);
	assert_int_equal(node_read_meminfo("/proc/meminfo", &total, &used), 0);
	assert_true(total > 0 && used >= 0 && used <= total);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_proc_stat),
	    cmocka_unit_test(test_meminfo),
	    cmocka_unit_test(test_real_proc),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
