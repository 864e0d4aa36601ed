/* Kubernetes quantities: parsing (cpu, memory), rounding, canonical format. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "proto/api.h"

struct qcase {
	const char *in;
	int64_t want;
};

static void test_cpu_valid(void **state)
{
	(void)state;
	static const struct qcase cases[] = {
	    {"100m", 100},    {"0.5", 500},  {"2", 2000},     {"1.25", 1250}, {"0", 0},
	    {"0m", 0},	      {"1", 1000},   {"+1", 1000},    {"250m", 250},  {"0.1", 100},
	    {"1e3", 1000000}, {"1E-3", 1},   {"1k", 1000000}, {"1u", 1},      {"1n", 1},
	    {"0.0001", 1},    {"1.5m", 2},   {".5", 500},     {"5.", 5000},   {"1000000u", 1000},
	    {"0.25", 250},    {"16", 16000}, {"3500m", 3500}, {"2e0", 2000},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t v = -7;
		if (api_quantity_parse_cpu(cases[i].in, &v) != 0)
			fail_msg("cpu \"%s\" refused", cases[i].in);
		if (v != cases[i].want)
			fail_msg("cpu \"%s\" -> %lld, want %lld", cases[i].in, (long long)v,
				 (long long)cases[i].want);
	}
}

static void test_memory_valid(void **state)
{
	(void)state;
	static const struct qcase cases[] = {
	    {"64Mi", 67108864},
	    {"1G", 1000000000},
	    {"128974848", 128974848},
	    {"129e6", 129000000},
	    {"129M", 129000000},
	    {"123Mi", 128974848},
	    {"0.5Gi", 536870912},
	    {"100m", 1},
	    {"1Ki", 1024},
	    {"1k", 1000},
	    {"1Ti", 1099511627776LL},
	    {"1Ei", 1152921504606846976LL},
	    {"8E", 8000000000000000000LL},
	    {"0", 0},
	    {"1.5Ki", 1536},
	    {"1500m", 2},
	    {"1E3", 1000},
	    {"2e+2", 200},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t v = -7;
		if (api_quantity_parse_memory(cases[i].in, &v) != 0)
			fail_msg("memory \"%s\" refused", cases[i].in);
		if (v != cases[i].want)
			fail_msg("memory \"%s\" -> %lld, want %lld", cases[i].in, (long long)v,
				 (long long)cases[i].want);
	}
}

static void test_invalid(void **state)
{
	(void)state;
	static const char *bad[] = {
	    "",	    "12XB",
	    "-1",   "-100m",
	    "abc",  "1.2.3",
	    "Mi",   "1 Mi",
	    " 1",   "1K",
	    "1mi",  "1e",
	    "1e+",  "1ee3",
	    "1Gi ", "0x10",
	    ".",    "1.5.Mi",
	    "16Ei", "10E",
	    "1e40", "99999999999999999999",
	    "1MiB", "m",
	    "1b",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int64_t v;
		if (api_quantity_parse_memory(bad[i], &v) != -EINVAL)
			fail_msg("memory \"%s\" accepted as %lld", bad[i], (long long)v);
	}
	int64_t v;
	assert_int_equal(api_quantity_parse_cpu("1e16", &v), -EINVAL); /* overflow in millis */
	assert_int_equal(api_quantity_parse_cpu("-0.5", &v), -EINVAL);
	assert_int_equal(api_quantity_parse_cpu("1Gb", &v), -EINVAL);
	assert_int_equal(api_quantity_parse_cpu(NULL, &v), -EINVAL);
}

static void test_format(void **state)
{
	(void)state;
	char buf[32];
	api_quantity_format_cpu(1500, buf, sizeof(buf));
	assert_string_equal(buf, "1500m");
	api_quantity_format_cpu(2000, buf, sizeof(buf));
	assert_string_equal(buf, "2");
	api_quantity_format_cpu(0, buf, sizeof(buf));
	assert_string_equal(buf, "0");
	api_quantity_format_cpu(1, buf, sizeof(buf));
	assert_string_equal(buf, "1m");
	api_quantity_format_memory(67108864, buf, sizeof(buf));
	assert_string_equal(buf, "64Mi");
	api_quantity_format_memory(1000000, buf, sizeof(buf));
	assert_string_equal(buf, "1M");
	api_quantity_format_memory(1234, buf, sizeof(buf));
	assert_string_equal(buf, "1234");
	api_quantity_format_memory(0, buf, sizeof(buf));
	assert_string_equal(buf, "0");
	api_quantity_format_memory(1536, buf, sizeof(buf));
	assert_string_equal(buf, "1536"); /* 1.5Ki is not an integer form: stays bytes */
	api_quantity_format_memory(25769803776LL, buf, sizeof(buf));
	assert_string_equal(buf, "24Gi");
	api_quantity_format_memory(1024000, buf, sizeof(buf));
	assert_string_equal(buf, "1000Ki");
	api_quantity_format_memory(129000000, buf, sizeof(buf));
	assert_string_equal(buf, "129M");
	api_quantity_format_memory(1LL << 60, buf, sizeof(buf));
	assert_string_equal(buf, "1Ei");
	/* short buffer: truncated, still NUL-terminated */
	char small[3];
	api_quantity_format_memory(67108864, small, sizeof(small));
	assert_string_equal(small, "64");
}

/* format(parse(x)) parses back to the same value, for a sweep of values. */
static void test_round_trip(void **state)
{
	(void)state;
	char buf[32];
	int64_t mem[] = {1,	    999,	  1000,
			 1024,	    4096,	  65536,
			 1000000,   1048576,	  3 * 1048576 + 1,
			 1LL << 30, 5000000000LL, 1LL << 40,
			 INT64_MAX};
	for (size_t i = 0; i < sizeof(mem) / sizeof(mem[0]); i++) {
		int64_t back;
		api_quantity_format_memory(mem[i], buf, sizeof(buf));
		assert_int_equal(api_quantity_parse_memory(buf, &back), 0);
		assert_int_equal(back, mem[i]);
	}
	for (int64_t m = 0; m < 5000; m += 37) {
		int64_t back;
		api_quantity_format_cpu(m, buf, sizeof(buf));
		assert_int_equal(api_quantity_parse_cpu(buf, &back), 0);
		assert_int_equal(back, m);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cpu_valid),  cmocka_unit_test(test_memory_valid),
	    cmocka_unit_test(test_invalid),    cmocka_unit_test(test_format),
	    cmocka_unit_test(test_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
