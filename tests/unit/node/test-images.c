/* node_image_pull_policy: Kubernetes' defaults for imagePullPolicy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "node/nodelet-internal.h"

static const char *policy(const char *image, const char *explicit_policy)
{
	api_container_t c = {0};
	c.image = (char *)image;
	c.image_pull_policy = (char *)explicit_policy;
	return node_image_pull_policy(&c);
}

#define D64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void test_defaults(void **state)
{
	(void)state;
	assert_string_equal(policy("busybox", NULL), "Always");
	assert_string_equal(policy("busybox:latest", NULL), "Always");
	assert_string_equal(policy("127.0.0.1:5000/library/busybox", NULL), "Always");
	assert_string_equal(policy("registry.local:5000/app:1.4", NULL), "IfNotPresent");
	assert_string_equal(policy("busybox@sha256:" D64, NULL), "IfNotPresent");
	assert_string_equal(policy("busybox:latest@sha256:" D64, NULL), "IfNotPresent");
	assert_string_equal(policy("Not A Ref", NULL), "IfNotPresent");
	assert_string_equal(policy("", NULL), "IfNotPresent");
}

static void test_explicit(void **state)
{
	(void)state;
	assert_string_equal(policy("busybox", "Never"), "Never");
	assert_string_equal(policy("busybox", "IfNotPresent"), "IfNotPresent");
	assert_string_equal(policy("app:1.0", "Always"), "Always");
	assert_string_equal(policy("busybox", ""), "Always");
}

static int parse(int argc, char **argv, node_config_t *cfg, char *errbuf)
{
	int rc = node_config_parse(argc, argv, cfg, errbuf, 256);
	return rc;
}

/* The image garbage collection flags: kubelet's defaults, checked values. */
static void test_gc_flags(void **state)
{
	(void)state;
	node_config_t cfg;
	char errbuf[256];
	char *a0[] = {"nodelet", NULL};
	assert_int_equal(parse(1, a0, &cfg, errbuf), 0);
	assert_int_equal(cfg.image_gc_high, 85);
	assert_int_equal(cfg.image_gc_low, 80);
	assert_int_equal(cfg.image_gc_period_ms, 300000);
	assert_int_equal(cfg.max_layer_bytes, 10LL << 30);
	assert_int_equal(cfg.max_pull_blob_bytes, 10LL << 30);
	node_config_free(&cfg);
	char *a5[] = {"nodelet", "--max-layer-size", "512Mi", "--max-image-pull-size", "1G", NULL};
	assert_int_equal(parse(5, a5, &cfg, errbuf), 0);
	assert_int_equal(cfg.max_layer_bytes, 512LL << 20);
	assert_int_equal(cfg.max_pull_blob_bytes, 1000000000LL);
	node_config_free(&cfg);
	char *a6[] = {"nodelet", "--max-layer-size", "lots", NULL};
	assert_int_equal(parse(3, a6, &cfg, errbuf), -1);
	assert_non_null(strstr(errbuf, "--max-layer-size"));
	node_config_free(&cfg);
	char *a1[] = {"nodelet", "--image-gc-high-threshold", "0",  "--image-gc-low-threshold",
		      "0",	 "--image-gc-period",	      "2s", NULL};
	assert_int_equal(parse(7, a1, &cfg, errbuf), 0);
	assert_int_equal(cfg.image_gc_high, 0);
	assert_int_equal(cfg.image_gc_low, 0);
	assert_int_equal(cfg.image_gc_period_ms, 2000);
	node_config_free(&cfg);
	char *a2[] = {"nodelet", "--image-gc-high-threshold", "101", NULL};
	assert_int_equal(parse(3, a2, &cfg, errbuf), -1);
	assert_non_null(strstr(errbuf, "--image-gc-high-threshold"));
	node_config_free(&cfg);
	char *a3[] = {"nodelet", "--image-gc-high-threshold", "50", NULL};
	assert_int_equal(parse(3, a3, &cfg, errbuf), -1);
	assert_non_null(strstr(errbuf, "must not be above"));
	node_config_free(&cfg);
	char *a4[] = {"nodelet", "--image-gc-period", "0", NULL};
	assert_int_equal(parse(3, a4, &cfg, errbuf), -1);
	node_config_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_explicit),
	    cmocka_unit_test(test_gc_flags),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
