/* rt_imageref_parse: references as Docker reads them. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "runtime/image-internal.h"

#define D64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

struct good {
	const char *in, *defreg;
	const char *registry, *repository, *tag, *digest, *name;
};

static const struct good goods[] = {
    {"busybox", NULL, "docker.io", "library/busybox", "latest", NULL,
     "docker.io/library/busybox:latest"},
    {"busybox:1.36", NULL, "docker.io", "library/busybox", "1.36", NULL,
     "docker.io/library/busybox:1.36"},
    {"library/busybox", NULL, "docker.io", "library/busybox", "latest", NULL,
     "docker.io/library/busybox:latest"},
    {"docker.io/busybox", NULL, "docker.io", "library/busybox", "latest", NULL,
     "docker.io/library/busybox:latest"},
    {"index.docker.io/busybox", NULL, "docker.io", "library/busybox", "latest", NULL,
     "docker.io/library/busybox:latest"},
    {"team/app:v1", NULL, "docker.io", "team/app", "v1", NULL, "docker.io/team/app:v1"},
    {"registry.local:5000/app:1.4", NULL, "registry.local:5000", "app", "1.4", NULL,
     "registry.local:5000/app:1.4"},
    {"registry.local/app", NULL, "registry.local", "app", "latest", NULL,
     "registry.local/app:latest"},
    {"localhost/app", NULL, "localhost", "app", "latest", NULL, "localhost/app:latest"},
    {"localhost:5000/a/b/c:t", NULL, "localhost:5000", "a/b/c", "t", NULL,
     "localhost:5000/a/b/c:t"},
    {"127.0.0.1:5000/library/busybox:latest", NULL, "127.0.0.1:5000", "library/busybox", "latest",
     NULL, "127.0.0.1:5000/library/busybox:latest"},
    {"[::1]:5000/app", NULL, "[::1]:5000", "app", "latest", NULL, "[::1]:5000/app:latest"},
    {"Registry/app", NULL, "Registry", "app", "latest", NULL, "Registry/app:latest"},
    {"busybox@sha256:" D64, NULL, "docker.io", "library/busybox", NULL, "sha256:" D64,
     "docker.io/library/busybox@sha256:" D64},
    {"busybox:1.36@sha256:" D64, NULL, "docker.io", "library/busybox", "1.36", "sha256:" D64,
     "docker.io/library/busybox@sha256:" D64},
    {"host:5000/app@sha256:" D64, NULL, "host:5000", "app", NULL, "sha256:" D64,
     "host:5000/app@sha256:" D64},
    {"ab-c__d/e--f.g_h:Tag_1.-x", NULL, "docker.io", "ab-c__d/e--f.g_h", "Tag_1.-x", NULL,
     "docker.io/ab-c__d/e--f.g_h:Tag_1.-x"},
    /* a configurable default registry; one-component paths get library/ there too */
    {"busybox", "127.0.0.1:5000", "127.0.0.1:5000", "library/busybox", "latest", NULL,
     "127.0.0.1:5000/library/busybox:latest"},
    {"team/app", "mirror.local", "mirror.local", "team/app", "latest", NULL,
     "mirror.local/team/app:latest"},
    /* an explicit non-docker.io host keeps a one-component path as it is */
    {"other.io/busybox", "mirror.local", "other.io", "busybox", "latest", NULL,
     "other.io/busybox:latest"},
    {"docker.io/busybox", "mirror.local", "docker.io", "library/busybox", "latest", NULL,
     "docker.io/library/busybox:latest"},
    {"a:b", NULL, "docker.io", "library/a", "b", NULL, "docker.io/library/a:b"},
    {"0/1", NULL, "docker.io", "0/1", "latest", NULL, "docker.io/0/1:latest"},
};

static void assert_str_or_null(const char *want, const char *got, const char *in)
{
	if (want == NULL) {
		if (got != NULL)
			fail_msg("%s: expected NULL, got `%s`", in, got);
		return;
	}
	if (got == NULL || strcmp(want, got) != 0)
		fail_msg("%s: expected `%s`, got `%s`", in, want, got ? got : "(null)");
}

static void test_good(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(goods) / sizeof(goods[0]); i++) {
		const struct good *g = &goods[i];
		rt_imageref_t r;
		rt_error_t err = {0};
		if (rt_imageref_parse(g->in, g->defreg, &r, &err) < 0)
			fail_msg("%s: %s", g->in, err.msg);
		assert_str_or_null(g->registry, r.registry, g->in);
		assert_str_or_null(g->repository, r.repository, g->in);
		assert_str_or_null(g->tag, r.tag, g->in);
		assert_str_or_null(g->digest, r.digest, g->in);
		assert_str_or_null(g->name, r.name, g->in);
		rt_imageref_clear(&r);
		assert_null(r.name);
	}
}

struct bad {
	const char *in;
	const char *msg_part;
};

static const struct bad bads[] = {
    {"", "empty image reference"},
    {":latest", "empty name"},
    {"@sha256:" D64, "empty name"},
    {"BusyBox", "must be lowercase"},
    {"docker.io/Library/busybox", "must be lowercase"},
    {"busybox:", "invalid tag"},
    {"busybox:-x", "invalid tag"},
    {"busybox:a/b", "invalid registry host"}, /* "busybox:a" reads as a host */
    {"busybox@sha256:abc", "invalid digest"},
    {"busybox@sha256:" D64 "00", "invalid digest"},
    {"busybox@sha512:" D64 D64, "unsupported digest algorithm"},
    {"busybox@", "invalid digest"},
    {"host:5000/", "empty repository path"},
    {"host:99999999/app", "invalid registry host"},
    {"host:/app", "invalid registry host"},
    {"-host.io/app", "invalid registry host"},
    {"a//b", "invalid repository path component"},
    {"a/b/", "invalid repository path component"},
    {"a_/b", "invalid repository path component"},
    {"a___b", "invalid repository path component"},
    {"a..b", "invalid repository path component"},
    {"a b", "invalid repository path component"},
    {"host.io/../etc", "invalid repository path component"},
};

static void test_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		rt_imageref_t r;
		rt_error_t err = {0};
		if (rt_imageref_parse(bads[i].in, NULL, &r, &err) == 0)
			fail_msg("`%s`: accepted as %s", bads[i].in, r.name);
		assert_int_equal(err.errnum, EINVAL);
		if (strstr(err.msg, bads[i].msg_part) == NULL)
			fail_msg("`%s`: message `%s` lacks `%s`", bads[i].in, err.msg,
				 bads[i].msg_part);
		assert_null(r.registry);
		assert_null(r.name);
	}
}

static void test_long_name(void **state)
{
	(void)state;
	char ref[400];
	memset(ref, 'a', 256);
	ref[256] = '\0';
	rt_imageref_t r;
	rt_error_t err = {0};
	assert_int_equal(rt_imageref_parse(ref, NULL, &r, &err), -1);
	assert_non_null(strstr(err.msg, "longer than 255"));
	/* The limit counts the canonical name, "docker.io/library/" included
	 * (18 characters), so that a canonical name always parses again. */
	ref[238] = '\0';
	assert_int_equal(rt_imageref_parse(ref, NULL, &r, &err), -1);
	assert_non_null(strstr(err.msg, "longer than 255"));
	ref[237] = '\0';
	assert_int_equal(rt_imageref_parse(ref, NULL, &r, &err), 0);
	assert_int_equal(strlen(r.registry) + 1 + strlen(r.repository), 255);
	rt_imageref_clear(&r);
	/* a tag of 129 characters */
	memset(ref, 0, sizeof(ref));
	strcpy(ref, "app:");
	memset(ref + 4, 't', 129);
	assert_int_equal(rt_imageref_parse(ref, NULL, &r, &err), -1);
	ref[4 + 128] = '\0';
	assert_int_equal(rt_imageref_parse(ref, NULL, &r, &err), 0);
	rt_imageref_clear(&r);
}

static void test_bad_default_registry(void **state)
{
	(void)state;
	rt_imageref_t r;
	rt_error_t err = {0};
	assert_int_equal(rt_imageref_parse("busybox", "https://x", &r, &err), -1);
	assert_non_null(strstr(err.msg, "invalid default registry"));
	assert_int_equal(rt_imageref_parse("busybox", "", &r, &err), 0);
	assert_string_equal(r.registry, "docker.io");
	rt_imageref_clear(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good),
	    cmocka_unit_test(test_bad),
	    cmocka_unit_test(test_long_name),
	    cmocka_unit_test(test_bad_default_registry),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
