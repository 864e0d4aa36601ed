/* RFC 3339 format/parse and DNS-1123 validators. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "proto/api.h"

static void test_format(void **state)
{
	(void)state;
	char buf[40];
	api_format_time(0, buf, sizeof(buf));
	assert_string_equal(buf, "");
	api_format_time(1795856400000LL, buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-28T09:00:00Z");
	api_format_time(1795856400999LL, buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-28T09:00:00Z");
	api_format_time(1000, buf, sizeof(buf));
	assert_string_equal(buf, "1970-01-01T00:00:01Z");
}

static void test_parse(void **state)
{
	(void)state;
	int64_t ms;
	assert_int_equal(api_parse_time("2026-11-28T09:00:00Z", &ms), 0);
	assert_int_equal(ms, 1795856400000LL);
	assert_int_equal(api_parse_time("2026-11-28T09:00:00.5Z", &ms), 0);
	assert_int_equal(ms, 1795856400500LL);
	assert_int_equal(api_parse_time("2026-11-28T09:00:00.123456789Z", &ms), 0);
	assert_int_equal(ms, 1795856400123LL);
	assert_int_equal(api_parse_time("2026-11-28T10:30:00+01:30", &ms), 0);
	assert_int_equal(ms, 1795856400000LL);
	assert_int_equal(api_parse_time("2026-11-28t04:00:00-05:00", &ms), 0);
	assert_int_equal(ms, 1795856400000LL);
	static const char *bad[] = {"",
				    "2026-11-28",
				    "2026-11-28T09:00:00",
				    "junk",
				    "2026-13-01T00:00:00Z",
				    "2026-11-28T09:00:00.Z",
				    "2026-11-28T25:00:00Z",
				    "2026-11-28T09:00:00Zx",
				    "2026-11-28T09:00:00+0100"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (api_parse_time(bad[i], &ms) != -EINVAL)
			fail_msg("\"%s\" accepted", bad[i]);
	assert_int_equal(api_parse_time(NULL, &ms), -EINVAL);
	/* round trip */
	char buf[40];
	for (int64_t t = 0; t < 4000000000000LL; t += 123456789000LL) {
		api_format_time(t ? t : 1000, buf, sizeof(buf));
		assert_int_equal(api_parse_time(buf, &ms), 0);
		assert_int_equal(ms, t ? t : 1000);
	}
}

static void test_dns(void **state)
{
	(void)state;
	static const char *labels[] = {
	    "a",    "web",   "web-1",
	    "0abc", "a-b-c", "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij123"};
	static const char *not_labels[] = {
	    "",	    "-a",  "a-",
	    "A",    "a_b", "a.b",
	    "ab c", "é",   "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij1234"};
	for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++)
		if (!api_is_dns1123_label(labels[i]))
			fail_msg("label \"%s\" refused", labels[i]);
	for (size_t i = 0; i < sizeof(not_labels) / sizeof(not_labels[0]); i++)
		if (api_is_dns1123_label(not_labels[i]))
			fail_msg("label \"%s\" accepted", not_labels[i]);
	assert_false(api_is_dns1123_label(NULL));

	assert_true(api_is_dns1123_subdomain("nginx"));
	assert_true(api_is_dns1123_subdomain("my.pod-1.example"));
	assert_false(api_is_dns1123_subdomain("my..pod"));
	assert_false(api_is_dns1123_subdomain(".pod"));
	assert_false(api_is_dns1123_subdomain("pod."));
	assert_false(api_is_dns1123_subdomain("Pod"));
	assert_false(api_is_dns1123_subdomain(""));
	assert_false(api_is_dns1123_subdomain(NULL));
	char big[300];
	memset(big, 'a', sizeof(big));
	for (size_t i = 50; i < sizeof(big); i += 51)
		big[i] = '.';
	big[253] = '\0';
	assert_true(api_is_dns1123_subdomain(big));
	big[253] = 'a';
	big[254] = '\0';
	assert_false(api_is_dns1123_subdomain(big));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_format),
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_dns),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
