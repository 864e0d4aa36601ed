/* nodelet's flags: defaults, overrides, refusals; labels, durations, URLs. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "node/nodelet-internal.h"

static int parse(node_config_t *cfg, char *err, int argc, ...)
{
	char *argv[32];
	va_list ap;
	va_start(ap, argc);
	argv[0] = "nodelet";
	for (int i = 1; i < argc; i++)
		argv[i] = va_arg(ap, char *);
	va_end(ap);
	argv[argc] = NULL;
	return node_config_parse(argc, argv, cfg, err, 256);
}

static void test_defaults(void **state)
{
	(void)state;
	node_config_t cfg;
	char err[256] = "";
	assert_int_equal(parse(&cfg, err, 3, "--name", "n1"), 0);
	assert_string_equal(cfg.server_host, "127.0.0.1");
	assert_int_equal(cfg.server_port, 7080);
	assert_string_equal(cfg.name, "n1");
	assert_string_equal(cfg.root, "/var/lib/nodelet");
	assert_string_equal(cfg.cgroup_parent, "nodelet");
	assert_string_equal(cfg.bridge, "nodelet0");
	assert_string_equal(cfg.image_dir, "/var/lib/nodelet/images");
	assert_string_equal(cfg.log_dir, "/var/log/pods");
	assert_int_equal(cfg.max_pods, 110);
	assert_int_equal(cfg.crash_backoff_ms, 10000);
	assert_null(cfg.address);
	assert_non_null(strstr(cfg.shim_path, "nodelet-shim"));
	assert_non_null(strstr(cfg.pause_path, "nodelet-pause"));
	node_config_free(&cfg);
}

static void test_overrides(void **state)
{
	(void)state;
	node_config_t cfg;
	char err[256] = "";
	assert_int_equal(parse(&cfg, err, 25, "--server", "ws://10.250.0.1:17080", "--name",
			       "node-a", "--root", "/tmp/r", "--cgroup-parent", "t/nl1", "--bridge",
			       "nlt0", "--labels", "zone=a,disk=ssd", "--max-pods", "5", "--cpu",
			       "1500m", "--memory", "2Gi", "--crash-backoff", "1s", "--address",
			       "10.250.0.2", "--shim", "/x/shim"),
			 0);
	assert_string_equal(cfg.server_host, "10.250.0.1");
	assert_int_equal(cfg.server_port, 17080);
	assert_string_equal(cfg.cgroup_parent, "t/nl1");
	assert_int_equal(cfg.labels.n, 2);
	assert_string_equal(api_kv_get(&cfg.labels, "disk"), "ssd");
	assert_int_equal(cfg.max_pods, 5);
	assert_int_equal(cfg.cpu_millis, 1500);
	assert_int_equal(cfg.memory_bytes, 2LL << 30);
	assert_int_equal(cfg.crash_backoff_ms, 1000);
	assert_string_equal(cfg.address, "10.250.0.2");
	assert_string_equal(cfg.shim_path, "/x/shim");
	node_config_free(&cfg);
}

static void test_refusals(void **state)
{
	(void)state;
	node_config_t cfg;
	char err[256];
	assert_int_equal(parse(&cfg, err, 2, "--bogus"), -1);
	assert_non_null(strstr(err, "unknown flag --bogus"));
	node_config_free(&cfg);
	assert_int_equal(parse(&cfg, err, 2, "--server"), -1);
	assert_non_null(strstr(err, "needs a value"));
	node_config_free(&cfg);
	assert_int_equal(parse(&cfg, err, 3, "--server", "http://x:1"), -1);
	assert_non_null(strstr(err, "--server"));
	node_config_free(&cfg);
	assert_int_equal(parse(&cfg, err, 3, "--memory", "12XB"), -1);
	assert_non_null(strstr(err, "--memory"));
	node_config_free(&cfg);
	assert_int_equal(parse(&cfg, err, 3, "--crash-backoff", "soon"), -1);
	node_config_free(&cfg);
	assert_int_equal(parse(&cfg, err, 3, "--bridge", "a-very-long-bridge-name"), -1);
	node_config_free(&cfg);
	assert_int_equal(parse(&cfg, err, 3, "--labels", "novalue"), -1);
	assert_non_null(strstr(err, "novalue"));
	node_config_free(&cfg);
	assert_int_equal(parse(&cfg, err, 3, "--cpu", "0"), -1);
	node_config_free(&cfg);
	assert_int_equal(parse(&cfg, err, 3, "--cpu", "fast"), -1);
	node_config_free(&cfg);
	assert_int_equal(parse(&cfg, err, 3, "--max-pods", "0"), -1);
	node_config_free(&cfg);
	assert_int_equal(parse(&cfg, err, 3, "--name", "Bad_Name"), -1);
	node_config_free(&cfg);
	assert_int_equal(parse(&cfg, err, 2, "extra"), -1);
	node_config_free(&cfg);
}

static void test_durations(void **state)
{
	(void)state;
	int64_t ms;
	node_config_t cfg;
	char err[256];
	assert_int_equal(parse(&cfg, err, 3, "--cpu", "2000"), 0);
	assert_int_equal(cfg.cpu_millis, 2000);
	node_config_free(&cfg);
	assert_int_equal(parse(&cfg, err, 3, "--cpu", "1.5"), 0);
	assert_int_equal(cfg.cpu_millis, 1500);
	node_config_free(&cfg);
	assert_int_equal(node_parse_duration("10s", &ms), 0);
	assert_int_equal(ms, 10000);
	assert_int_equal(node_parse_duration("1.5s", &ms), 0);
	assert_int_equal(ms, 1500);
	assert_int_equal(node_parse_duration("250ms", &ms), 0);
	assert_int_equal(ms, 250);
	assert_int_equal(node_parse_duration("5m", &ms), 0);
	assert_int_equal(ms, 300000);
	assert_int_equal(node_parse_duration("2", &ms), 0);
	assert_int_equal(ms, 2000);
	assert_int_equal(node_parse_duration("-1s", &ms), -EINVAL);
	assert_int_equal(node_parse_duration("1d", &ms), -EINVAL);
	assert_int_equal(node_parse_duration("", &ms), -EINVAL);
}

static void test_ws_url(void **state)
{
	(void)state;
	char *host;
	int port;
	assert_int_equal(node_parse_ws_url("ws://localhost", &host, &port), 0);
	assert_string_equal(host, "localhost");
	assert_int_equal(port, 80);
	free(host);
	assert_int_equal(node_parse_ws_url("ws://1.2.3.4:99/", &host, &port), 0);
	assert_int_equal(port, 99);
	free(host);
	assert_int_equal(node_parse_ws_url("wss://x:1", &host, &port), -EINVAL);
	assert_int_equal(node_parse_ws_url("ws://:1", &host, &port), -EINVAL);
	assert_int_equal(node_parse_ws_url("ws://x:0", &host, &port), -EINVAL);
	assert_int_equal(node_parse_ws_url("ws://x:12a", &host, &port), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults), cmocka_unit_test(test_overrides),
	    cmocka_unit_test(test_refusals), cmocka_unit_test(test_durations),
	    cmocka_unit_test(test_ws_url),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
