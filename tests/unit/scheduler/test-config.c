/* config.c: durations, the cluster CIDR and pod CIDRs, and flag parsing. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "scheduler/sched.h"

static void test_durations(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		int64_t ms;
	} ok[] = {{"40s", 40000}, {"5m", 300000},  {"1500ms", 1500}, {"2", 2000},
		  {"0.5s", 500},  {"1h", 3600000}, {"0", 0}};
	static const char *const bad[] = {"", "s", "-1s", "5x", "5 s", "ms", "1d", "abc"};
	int64_t v;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(sched_parse_duration(ok[i].in, &v), 0);
		assert_int_equal(v, ok[i].ms);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(sched_parse_duration(bad[i], &v), -EINVAL);
}

static void test_cidr(void **state)
{
	(void)state;
	uint32_t base;
	int prefix;
	char buf[32];

	assert_int_equal(sched_parse_cidr("10.244.0.0/16", &base, &prefix), 0);
	assert_int_equal(prefix, 16);
	assert_int_equal(sched_pod_cidr(base, prefix, 1, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "10.244.1.0/24");
	assert_int_equal(sched_pod_cidr(base, prefix, 255, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "10.244.255.0/24");
	assert_int_equal(sched_pod_cidr(base, prefix, 256, buf, sizeof(buf)), -ERANGE);
	assert_int_equal(sched_pod_cidr(base, prefix, 0, buf, sizeof(buf)), -ERANGE);

	assert_int_equal(sched_parse_cidr("10.8.0.0/14", &base, &prefix), 0);
	assert_int_equal(sched_pod_cidr(base, prefix, 300, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "10.9.44.0/24");

	assert_int_equal(sched_parse_cidr("10.244.0.0/24", &base, &prefix), -EINVAL);
	assert_int_equal(sched_parse_cidr("10.244.0.0", &base, &prefix), -EINVAL);
	assert_int_equal(sched_parse_cidr("10.244.0/16", &base, &prefix), -EINVAL);
}

static void test_flags(void **state)
{
	(void)state;
	sched_config_t cfg;
	char err[256];
	char *argv1[] = {"schedd", NULL};
	char *argv2[] = {"schedd",
			 "--listen",
			 "0.0.0.0:9000",
			 "--node-grace",
			 "3s",
			 "--eviction-timeout=10s",
			 "--heartbeat-interval",
			 "1s",
			 "--data",
			 "/x",
			 NULL};
	char *argv3[] = {"schedd", "--node-grace", "soon", NULL};
	char *argv4[] = {"schedd", "--listen", "localhost:99999", NULL};
	char *argv5[] = {"schedd", "--frobnicate", NULL};
	char *argv6[] = {"schedd", "--data", NULL};

	assert_int_equal(sched_config_parse(&cfg, 1, argv1, err, sizeof(err)), 0);
	assert_string_equal(cfg.listen_host, "127.0.0.1");
	assert_int_equal(cfg.listen_port, 7080);
	assert_string_equal(cfg.data_dir, "/var/lib/schedd");
	assert_int_equal(cfg.node_grace_ms, 40000);
	assert_int_equal(cfg.eviction_timeout_ms, 300000);
	assert_int_equal(cfg.heartbeat_interval_ms, 5000);

	assert_int_equal(sched_config_parse(&cfg, 10, argv2, err, sizeof(err)), 0);
	assert_string_equal(cfg.listen_host, "0.0.0.0");
	assert_int_equal(cfg.listen_port, 9000);
	assert_int_equal(cfg.node_grace_ms, 3000);
	assert_int_equal(cfg.eviction_timeout_ms, 10000);
	assert_int_equal(cfg.heartbeat_interval_ms, 1000);
	assert_string_equal(cfg.data_dir, "/x");

	assert_int_equal(sched_config_parse(&cfg, 3, argv3, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--node-grace soon: invalid duration"));
	assert_int_equal(sched_config_parse(&cfg, 3, argv4, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "invalid port"));
	assert_int_equal(sched_config_parse(&cfg, 2, argv5, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "unknown flag --frobnicate"));
	assert_int_equal(sched_config_parse(&cfg, 2, argv6, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--data: missing value"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_durations),
	    cmocka_unit_test(test_cidr),
	    cmocka_unit_test(test_flags),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
