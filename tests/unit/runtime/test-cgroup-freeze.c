/* The freeze ops of both cgroup drivers (cgroup-freeze.c), against a
 * temporary directory laid out like the cgroup trees: what is written to
 * freezer.state / cgroup.freeze, what is read back, and the errors. */
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
	snprintf(tmp, sizeof(tmp), "/tmp/test-cgroup-freeze-XXXXXX");
	assert_non_null(mkdtemp(tmp));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static void mk(const char *rel)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", tmp, rel);
	rt_error_t err;
	assert_int_equal(rt__mkdir_p(p, 0755, &err), 0);
}

static void test_v1_freeze_and_thaw(void **state)
{
	(void)state;
	rt__cgroup_driver_t d;
	memset(&d, 0, sizeof(d));
	snprintf(d.root, sizeof(d.root), "%s", tmp);
	snprintf(d.hier[0], sizeof(d.hier[0]), "memory");
	snprintf(d.hier[1], sizeof(d.hier[1]), "freezer");
	d.nhier = 2;
	mk("freezer/pod/c1");
	put("freezer/pod/c1/freezer.state", "THAWED\n");
	rt_error_t err;
	bool frozen = true;
	assert_int_equal(rt__cgroup_v1_frozen(&d, "/pod/c1", &frozen, &err), 0);
	assert_false(frozen);
	/* a plain file "reaches" the state at once, as the kernel soon does */
	assert_int_equal(rt__cgroup_v1_freeze(&d, "pod/c1", true, &err), 0);
	assert_string_equal(get("freezer/pod/c1/freezer.state"), "FROZEN");
	assert_int_equal(rt__cgroup_v1_frozen(&d, "pod/c1", &frozen, &err), 0);
	assert_true(frozen);
	put("freezer/pod/c1/freezer.state", "FREEZING\n");
	assert_int_equal(rt__cgroup_v1_frozen(&d, "pod/c1", &frozen, &err), 0);
	assert_true(frozen);
	assert_int_equal(rt__cgroup_v1_freeze(&d, "pod/c1", false, &err), 0);
	assert_string_equal(get("freezer/pod/c1/freezer.state"), "THAWED");
	/* a path escaping the hierarchy is refused */
	assert_int_equal(rt__cgroup_v1_freeze(&d, "../x", true, &err), -1);
	/* no freezer hierarchy: an error naming it */
	d.nhier = 1;
	assert_int_equal(rt__cgroup_v1_freeze(&d, "pod/c1", true, &err), -1);
	assert_non_null(strstr(err.msg, "no freezer hierarchy"));
	assert_int_equal(rt__cgroup_v1_frozen(&d, "pod/c1", &frozen, &err), -1);
}

static void test_v2_freeze_and_thaw(void **state)
{
	(void)state;
	rt__cgroup_driver_t d;
	rt__cgroup_v2_driver(tmp, &d);
	assert_ptr_equal(d.ops->freeze, rt__cgroup_v2_freeze);
	assert_ptr_equal(d.ops->frozen, rt__cgroup_v2_frozen);
	mk("pod/c2");
	put("pod/c2/cgroup.freeze", "0\n");
	put("pod/c2/cgroup.events", "populated 1\nfrozen 1\n");
	rt_error_t err;
	bool frozen = true;
	assert_int_equal(d.ops->frozen(&d, "pod/c2", &frozen, &err), 0);
	assert_false(frozen);
	assert_int_equal(d.ops->freeze(&d, "pod/c2", true, &err), 0);
	assert_string_equal(get("pod/c2/cgroup.freeze"), "1");
	assert_int_equal(d.ops->frozen(&d, "pod/c2", &frozen, &err), 0);
	assert_true(frozen);
	put("pod/c2/cgroup.events", "populated 1\nfrozen 0\n");
	assert_int_equal(d.ops->freeze(&d, "pod/c2", false, &err), 0);
	assert_string_equal(get("pod/c2/cgroup.freeze"), "0");
	/* a missing cgroup names the file */
	assert_int_equal(d.ops->freeze(&d, "pod/none", true, &err), -1);
	assert_non_null(strstr(err.msg, "pod/none"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_v1_freeze_and_thaw, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_v2_freeze_and_thaw, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
