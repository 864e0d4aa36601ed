/* The on-disk pod record: state.json round trip, atomic writes, rm -rf. */
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

#include "node/nodelet-internal.h"

static void test_state_round_trip(void **state)
{
	(void)state;
	char dir[] = "/tmp/nodelet-unit-XXXXXX";
	assert_non_null(mkdtemp(dir));
	node_podstate_ctr_t ctrs[2];
	memset(ctrs, 0, sizeof ctrs);
	strcpy(ctrs[0].name, "web");
	ctrs[0].restart_count = 3;
	ctrs[0].backoff_count = 2;
	ctrs[0].handled = 3;
	ctrs[0].restart_at = 1700000000123;
	ctrs[0].state.kind = API_CSTATE_WAITING;
	strcpy(ctrs[0].state.reason, "CrashLoopBackOff");
	ctrs[0].last.kind = API_CSTATE_TERMINATED;
	strcpy(ctrs[0].last.reason, "OOMKilled");
	ctrs[0].last.exit_code = 137;
	ctrs[0].last.finished_at = 1700000000000;
	strcpy(ctrs[1].name, "db");
	ctrs[1].handled = -1;
	ctrs[1].done = true;
	node_podstate_t st = {.generation = 7, .stopping = true, .ctrs = ctrs, .nctrs = 2};
	strcpy(st.uid, "u-1");
	strcpy(st.pod_ip, "10.244.1.5");
	rt_error_t err = {0};
	assert_int_equal(node_podstate_save(dir, &st, &err), 0);
	node_podstate_t back;
	assert_int_equal(node_podstate_load(dir, &back, &err), 0);
	assert_string_equal(back.uid, "u-1");
	assert_int_equal(back.generation, 7);
	assert_string_equal(back.pod_ip, "10.244.1.5");
	assert_true(back.stopping);
	assert_int_equal(back.nctrs, 2);
	assert_string_equal(back.ctrs[0].name, "web");
	assert_int_equal(back.ctrs[0].restart_count, 3);
	assert_int_equal(back.ctrs[0].backoff_count, 2);
	assert_int_equal(back.ctrs[0].handled, 3);
	assert_false(back.ctrs[0].done);
	assert_int_equal(back.ctrs[0].restart_at, 1700000000123);
	assert_int_equal(back.ctrs[0].state.kind, API_CSTATE_WAITING);
	assert_string_equal(back.ctrs[0].state.reason, "CrashLoopBackOff");
	assert_int_equal(back.ctrs[0].last.kind, API_CSTATE_TERMINATED);
	assert_string_equal(back.ctrs[0].last.reason, "OOMKilled");
	assert_int_equal(back.ctrs[0].last.exit_code, 137);
	assert_int_equal(back.ctrs[0].last.finished_at, 1700000000000);
	assert_int_equal(back.ctrs[1].handled, -1);
	assert_true(back.ctrs[1].done);
	node_podstate_free(&back);

	/* Missing and corrupt files are errors that name the file. */
	char sub[128];
	snprintf(sub, sizeof sub, "%s/none", dir);
	assert_true(node_podstate_load(sub, &back, &err) < 0);
	assert_non_null(strstr(err.msg, "state.json"));
	char path[160];
	snprintf(path, sizeof path, "%s/state.json", dir);
	assert_int_equal(node__write_file(path, "{\"uid\":1}", 9, 0644, 0, &err), 0);
	assert_true(node_podstate_load(dir, &back, &err) < 0);

	/* rm -rf of a tree. */
	snprintf(sub, sizeof sub, "%s/a/b/c", dir);
	assert_int_equal(node__mkdir_p(sub, 0700, &err), 0);
	snprintf(path, sizeof path, "%s/a/b/file", dir);
	assert_int_equal(node__write_file(path, "x", 1, 0644, 0, &err), 0);
	assert_int_equal(node_rm_rf(dir, &err), 0);
	struct stat sb;
	assert_int_equal(stat(dir, &sb), -1);
	assert_int_equal(node_rm_rf(dir, &err), 0); /* missing is fine */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_state_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
