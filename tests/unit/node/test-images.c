/* node_image_pull_policy: Kubernetes' defaults for imagePullPolicy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_explicit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
