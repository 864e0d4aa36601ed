/* rt_ipam: leases in a temporary directory over a small /29. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "runtime/runtime.h"

static char tmpdir[64];

static int setup(void **state)
{
	(void)state;
	strcpy(tmpdir, "/tmp/test-ipam-XXXXXX");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf --one-file-system %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static rt_ipam_t *open_ipam(const char *cidr)
{
	char dir[128];
	snprintf(dir, sizeof(dir), "%s/leases", tmpdir);
	rt_ipam_t *ipam = NULL;
	rt_error_t err = {0};
	int r = rt_ipam_open(dir, cidr, &ipam, &err);
	if (r != 0)
		fail_msg("rt_ipam_open: %s", err.msg);
	return ipam;
}

static void test_allocate_skips_reserved_and_fills_up(void **state)
{
	(void)state;
	rt_ipam_t *ipam = open_ipam("10.244.1.0/29");
	rt_error_t err = {0};
	char ip[64], gw[64];
	int prefix = 0;
	rt_ipam_gateway(ipam, gw, &prefix);
	assert_string_equal(gw, "10.244.1.1");
	assert_int_equal(prefix, 29);
	/* .0 network, .1 gateway, .7 broadcast: .2 .. .6 are handed out */
	const char *want[] = {"10.244.1.2", "10.244.1.3", "10.244.1.4", "10.244.1.5", "10.244.1.6"};
	for (int i = 0; i < 5; i++) {
		char owner[32];
		snprintf(owner, sizeof(owner), "pod-%d", i);
		assert_int_equal(rt_ipam_allocate(ipam, owner, ip, &err), 0);
		assert_string_equal(ip, want[i]);
	}
	assert_int_equal(rt_ipam_allocate(ipam, "pod-x", ip, &err), -1);
	assert_string_equal(err.msg, "no free address in 10.244.1.0/29");
	/* release one, the next owner gets it */
	assert_int_equal(rt_ipam_release(ipam, "pod-2", &err), 0);
	assert_int_equal(rt_ipam_allocate(ipam, "pod-x", ip, &err), 0);
	assert_string_equal(ip, "10.244.1.4");
	rt_ipam_close(ipam);
}

static void test_same_owner_same_address_across_reopen(void **state)
{
	(void)state;
	rt_ipam_t *ipam = open_ipam("10.244.1.9/29"); /* host bits are cleared */
	rt_error_t err = {0};
	char a[64], b[64], c[64];
	assert_int_equal(rt_ipam_allocate(ipam, "uid-a", a, &err), 0);
	assert_int_equal(rt_ipam_allocate(ipam, "uid-b", b, &err), 0);
	assert_string_equal(a, "10.244.1.10");
	assert_string_not_equal(a, b);
	rt_ipam_close(ipam);
	ipam = open_ipam("10.244.1.8/29");
	assert_int_equal(rt_ipam_allocate(ipam, "uid-b", c, &err), 0);
	assert_string_equal(b, c);
	/* releasing an unknown owner is fine */
	assert_int_equal(rt_ipam_release(ipam, "nobody", &err), 0);
	rt_ipam_close(ipam);
}

static void test_concurrent_processes_never_share(void **state)
{
	(void)state;
	char dir[128];
	snprintf(dir, sizeof(dir), "%s/leases", tmpdir);
	enum { N = 6 };
	int pipes[N][2];
	for (int i = 0; i < N; i++) {
		assert_int_equal(pipe(pipes[i]), 0);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			rt_ipam_t *ipam = NULL;
			rt_error_t err = {0};
			char owner[32], ip[64] = "";
			snprintf(owner, sizeof(owner), "proc-%d", i);
			if (rt_ipam_open(dir, "10.244.2.0/29", &ipam, &err) < 0 ||
			    rt_ipam_allocate(ipam, owner, ip, &err) < 0)
				snprintf(ip, sizeof(ip), "none");
			ssize_t w = write(pipes[i][1], ip, strlen(ip) + 1);
			_exit(w > 0 ? 0 : 1);
		}
		close(pipes[i][1]);
	}
	char got[N][64];
	int none = 0;
	for (int i = 0; i < N; i++) {
		memset(got[i], 0, sizeof(got[i]));
		assert_true(read(pipes[i][0], got[i], sizeof(got[i]) - 1) > 0);
		close(pipes[i][0]);
		int status;
		wait(&status);
		if (strcmp(got[i], "none") == 0)
			none++;
	}
	/* 5 addresses, 6 processes: exactly one goes without, none share */
	assert_int_equal(none, 1);
	for (int i = 0; i < N; i++)
		for (int j = i + 1; j < N; j++)
			if (strcmp(got[i], "none") != 0)
				assert_string_not_equal(got[i], got[j]);
}

static void test_bad_cidr(void **state)
{
	(void)state;
	rt_ipam_t *ipam = NULL;
	rt_error_t err = {0};
	assert_int_equal(rt_ipam_open(tmpdir, "10.244.1.0", &ipam, &err), -1);
	assert_non_null(strstr(err.msg, "invalid IPv4 CIDR `10.244.1.0`"));
	assert_int_equal(rt_ipam_open(tmpdir, "10.244.1.0/31", &ipam, &err), -1);
	assert_non_null(strstr(err.msg, "too small"));
	assert_int_equal(rt_ipam_open(tmpdir, "300.1.1.0/24", &ipam, &err), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_allocate_skips_reserved_and_fills_up, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_same_owner_same_address_across_reopen, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_concurrent_processes_never_share, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_cidr, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
