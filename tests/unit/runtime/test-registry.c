/* The registry client's parsers: WWW-Authenticate challenges, the node's
 * credentials file, and the choice of a platform manifest from an index. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "runtime/image-internal.h"

static void test_challenge_bearer(void **state)
{
	(void)state;
	rt__challenge_t c;
	assert_int_equal(rt__challenge_parse("Bearer realm=\"https://auth.docker.io/token\","
					     "service=\"registry.docker.io\",scope=\"repository:"
					     "library/busybox:pull\"",
					     &c),
			 0);
	assert_int_equal(c.scheme, RT__AUTH_BEARER);
	assert_string_equal(c.realm, "https://auth.docker.io/token");
	assert_string_equal(c.service, "registry.docker.io");
	assert_string_equal(c.scope, "repository:library/busybox:pull");
	rt__challenge_clear(&c);
	assert_null(c.realm);

	/* case, spaces, unquoted values, unknown keys, escapes, a scope with commas */
	assert_int_equal(rt__challenge_parse("bearer  realm=http://127.0.0.1:1/t , error=\"x\", "
					     "scope=\"repository:a/b:pull,push\", "
					     "service=\"s\\\"q\"",
					     &c),
			 0);
	assert_string_equal(c.realm, "http://127.0.0.1:1/t");
	assert_string_equal(c.scope, "repository:a/b:pull,push");
	assert_string_equal(c.service, "s\"q");
	rt__challenge_clear(&c);

	/* no scope, no service */
	assert_int_equal(rt__challenge_parse("Bearer realm=\"https://r/t\"", &c), 0);
	assert_null(c.scope);
	assert_null(c.service);
	rt__challenge_clear(&c);
}

static void test_challenge_basic_and_bad(void **state)
{
	(void)state;
	rt__challenge_t c;
	assert_int_equal(rt__challenge_parse("Basic realm=\"Registry Realm\"", &c), 0);
	assert_int_equal(c.scheme, RT__AUTH_BASIC);
	assert_string_equal(c.realm, "Registry Realm");
	rt__challenge_clear(&c);
	assert_int_equal(rt__challenge_parse("Basic", &c), 0);
	rt__challenge_clear(&c);
	assert_int_equal(rt__challenge_parse("Bearer service=\"x\"", &c), -1); /* no realm */
	assert_null(c.service);
	assert_int_equal(rt__challenge_parse("Negotiate abc", &c), -1);
	assert_int_equal(rt__challenge_parse("Bearerx realm=a", &c), -1);
	assert_int_equal(rt__challenge_parse("", &c), -1);
	assert_int_equal(rt__challenge_parse("Bearer realm=\"unterminated", &c), 0);
	assert_string_equal(c.realm, "unterminated");
	rt__challenge_clear(&c);
}

static char *write_tmp(const char *content)
{
	char *path = strdup("/tmp/test-registry-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	close(fd);
	return path;
}

static void test_creds(void **state)
{
	(void)state;
	/* "dXNlcjpwYXNz" is base64 of "user:pass"; "YTpi" of "a:b" */
	char *f =
	    write_tmp("{\"auths\": {"
		      "\"https://index.docker.io/v1/\": {\"auth\": \"dXNlcjpwYXNz\"},"
		      "\"http://127.0.0.1:5000/v2/\": {\"username\": \"a\", \"password\": \"b\"},"
		      "\"registry.local\": {\"auth\": \"YTpi\"},"
		      "\"empty.local\": {}"
		      "}}");
	char *basic = NULL;
	rt_error_t err = {0};
	assert_int_equal(rt__creds_lookup(f, "docker.io", &basic, &err), 0);
	assert_string_equal(basic, "dXNlcjpwYXNz");
	free(basic);
	assert_int_equal(rt__creds_lookup(f, "127.0.0.1:5000", &basic, &err), 0);
	assert_string_equal(basic, "YTpi");
	free(basic);
	assert_int_equal(rt__creds_lookup(f, "registry.local", &basic, &err), 0);
	assert_string_equal(basic, "YTpi");
	free(basic);
	assert_int_equal(rt__creds_lookup(f, "registry.local:5000", &basic, &err), 0);
	assert_null(basic);
	assert_int_equal(rt__creds_lookup(f, "empty.local", &basic, &err), 0);
	assert_null(basic);
	unlink(f);
	free(f);

	f = write_tmp("{\"auths\": {\"h\": {\"auth\": \"bm9jb2xvbg==\"}}}"); /* "nocolon" */
	assert_int_equal(rt__creds_lookup(f, "h", &basic, &err), -1);
	assert_non_null(strstr(err.msg, "not base64 of user:password"));
	unlink(f);
	free(f);

	f = write_tmp("{\"auths\": [1]}");
	assert_int_equal(rt__creds_lookup(f, "h", &basic, &err), -1);
	assert_non_null(strstr(err.msg, "not an object"));
	unlink(f);
	free(f);

	f = write_tmp("{not json");
	assert_int_equal(rt__creds_lookup(f, "h", &basic, &err), -1);
	assert_non_null(strstr(err.msg, "reading registry credentials"));
	unlink(f);
	free(f);

	assert_int_equal(rt__creds_lookup("/nonexistent/creds.json", "h", &basic, &err), -1);
	assert_non_null(strstr(err.msg, "/nonexistent/creds.json"));
}

static const char *picked(const char *index_json, const char *arch)
{
	static char digest[80];
	json_t *idx = json_loads(index_json, 0, NULL);
	assert_non_null(idx);
	json_t *d = rt__index_pick(idx, arch);
	digest[0] = '\0';
	if (d != NULL)
		snprintf(digest, sizeof(digest), "%s",
			 json_string_value(json_object_get(d, "digest")));
	json_decref(idx);
	return d ? digest : NULL;
}

static void test_index_pick(void **state)
{
	(void)state;
	const char *idx = "{\"manifests\": ["
			  "{\"digest\": \"sha256:aa\", \"platform\": {\"os\": \"windows\", "
			  "\"architecture\": \"amd64\"}},"
			  "{\"digest\": \"sha256:bb\", \"platform\": {\"os\": \"linux\", "
			  "\"architecture\": \"arm64\", \"variant\": \"v8\"}},"
			  "{\"digest\": \"sha256:cc\", \"platform\": {\"os\": \"linux\", "
			  "\"architecture\": \"amd64\"}},"
			  "{\"digest\": \"sha256:dd\", \"platform\": {\"os\": \"unknown\", "
			  "\"architecture\": \"unknown\"}},"
			  "{\"digest\": \"sha256:ee\"}"
			  "]}";
	assert_string_equal(picked(idx, "amd64"), "sha256:cc");
	assert_string_equal(picked(idx, "arm64"), "sha256:bb");
	assert_null(picked(idx, "s390x"));
	assert_null(picked("{\"manifests\": []}", "amd64"));
	assert_null(picked("{}", "amd64"));
	/* NULL: the host's own architecture */
	char one[256];
	snprintf(one, sizeof(one),
		 "{\"manifests\": [{\"digest\": \"sha256:ff\", \"platform\": {\"os\": \"linux\", "
		 "\"architecture\": \"%s\"}}]}",
		 rt__host_arch());
	assert_string_equal(picked(one, NULL), "sha256:ff");
}

static void test_host_ok(void **state)
{
	(void)state;
	const char *good[] = {"docker.io",
			      "localhost",
			      "a",
			      "127.0.0.1:5000",
			      "[::1]",
			      "[::1]:5000",
			      "my-reg.example.com:443",
			      "A.B"};
	const char *bad[] = {"",	 "-a",	 "a-",	 "a..b", "a.",	   ":5000", "a:",
			     "a:123456", "a:5x", "[::1", "[]",	 "[::1]x", "a_b",   "https://a"};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (rt__registry_host_ok(good[i], strlen(good[i])) != 0)
			fail_msg("`%s` refused", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (rt__registry_host_ok(bad[i], strlen(bad[i])) == 0)
			fail_msg("`%s` accepted", bad[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_challenge_bearer),
	    cmocka_unit_test(test_challenge_basic_and_bad),
	    cmocka_unit_test(test_creds),
	    cmocka_unit_test(test_index_pick),
	    cmocka_unit_test(test_host_ok),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
