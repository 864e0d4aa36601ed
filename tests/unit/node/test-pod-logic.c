/* The pod worker's pure decisions: backoff, restart policy, phase, names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "node/nodelet-internal.h"

static void test_backoff(void **state)
{
	(void)state;
	assert_int_equal(node_backoff_delay_ms(10000, 0), 0);
	assert_int_equal(node_backoff_delay_ms(10000, 1), 10000);
	assert_int_equal(node_backoff_delay_ms(10000, 2), 20000);
	assert_int_equal(node_backoff_delay_ms(10000, 3), 40000);
	assert_int_equal(node_backoff_delay_ms(10000, 5), 160000);
	assert_int_equal(node_backoff_delay_ms(10000, 6), 300000); /* capped at 5m */
	assert_int_equal(node_backoff_delay_ms(10000, 1000), 300000);
	assert_int_equal(node_backoff_delay_ms(1000, 3), 4000);
}

static void test_restart_policy(void **state)
{
	(void)state;
	assert_true(node_should_restart(NULL, 0));
	assert_true(node_should_restart("Always", 0));
	assert_true(node_should_restart("Always", 1));
	assert_false(node_should_restart("OnFailure", 0));
	assert_true(node_should_restart("OnFailure", 137));
	assert_false(node_should_restart("Never", 1));
	assert_false(node_should_restart("Never", 0));
}

static void test_phase(void **state)
{
	(void)state;
	node_phase_input_t c[2];
	memset(c, 0, sizeof c);
	assert_string_equal(node_pod_phase(c, 0), "Pending");
	assert_string_equal(node_pod_phase(c, 2), "Pending");
	c[0].started_once = c[0].running = true;
	assert_string_equal(node_pod_phase(c, 2), "Pending"); /* one not started yet */
	c[1].started_once = c[1].running = true;
	assert_string_equal(node_pod_phase(c, 2), "Running");
	/* One ended for good with 0, the other restarts: Running. */
	c[0].running = false;
	c[0].terminated = true;
	c[1].running = false;
	c[1].will_restart = true;
	c[1].exit_code = 1;
	assert_string_equal(node_pod_phase(c, 2), "Running");
	/* Both ended, all 0: Succeeded. */
	c[1].will_restart = false;
	c[1].terminated = true;
	c[1].exit_code = 0;
	assert_string_equal(node_pod_phase(c, 2), "Succeeded");
	c[1].exit_code = 2;
	assert_string_equal(node_pod_phase(c, 2), "Failed");
	/* A container that ended without ever starting counts as ended. */
	memset(c, 0, sizeof c);
	c[0].terminated = true;
	c[0].exit_code = 1;
	assert_string_equal(node_pod_phase(c, 1), "Failed");
}

static void test_ifname(void **state)
{
	(void)state;
	char a[16], b[16], c[16];
	node_host_ifname("6f1c0e3e-8c1a-4d2b-9a53-0c4c9b1e2f11", a);
	node_host_ifname("6f1c0e3e-8c1a-4d2b-9a53-0c4c9b1e2f11", b);
	node_host_ifname("6f1c0e3e-8c1a-4d2b-9a53-0c4c9b1e2f12", c);
	assert_int_equal(strlen(a), 12);
	assert_true(strlen(a) < 16); /* IFNAMSIZ */
	assert_memory_equal(a, "nl", 2);
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	for (const char *p = a + 2; *p; p++)
		assert_true((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'));
}

static void test_container_id(void **state)
{
	(void)state;
	char id[160];
	node_container_id("6F1C0E3E-8c1a-4d2b-9a53-0c4c9b1e2f11", "web", id, sizeof id);
	assert_string_equal(id, "6f1c0e3e8c1a-web");
	node_container_id("ab", "_sandbox", id, sizeof id);
	assert_string_equal(id, "ab-_sandbox");
}

static void test_cpu_millis(void **state)
{
	(void)state;
	/* 0.5 s of CPU over 1 s of wall time: 500m. */
	assert_int_equal(node_cpu_millis(1000000000ULL, 1500000000ULL, 1000000000ULL), 500);
	assert_int_equal(node_cpu_millis(0, 4000000000ULL, 2000000000ULL), 2000);
	assert_int_equal(node_cpu_millis(5, 4, 1000), 0); /* counter reset */
	assert_int_equal(node_cpu_millis(0, 10, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_backoff),	 cmocka_unit_test(test_restart_policy),
	    cmocka_unit_test(test_phase),	 cmocka_unit_test(test_ifname),
	    cmocka_unit_test(test_container_id), cmocka_unit_test(test_cpu_millis),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
