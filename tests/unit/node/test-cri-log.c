/* The CRI log writer: full and partial records, long lines, streams kept
 * apart, timestamps, the record parser. */
#include <errno.h>
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

#include "node/cri-log.h"

typedef struct rec {
	int stream;
	bool partial;
	char *msg;
	size_t len;
	struct timespec ts;
} rec_t;

typedef struct fixture {
	char dir[256];
	char path[320];
	node_cri_log_t log;
	rec_t recs[64];
	size_t nrecs;
} fixture_t;

static int setup(void **state)
{
	fixture_t *f = calloc(1, sizeof *f);
	snprintf(f->dir, sizeof f->dir, "/tmp/test-cri-log.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof f->path, "%s/pods/ns_pod_uid/web/0.log", f->dir);
	rt_error_t err;
	if (node_cri_log_open(&f->log, f->path, &err) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture_t *f = *state;
	node_cri_log_close(&f->log);
	for (size_t i = 0; i < f->nrecs; i++)
		free(f->recs[i].msg);
	char cmd[400];
	snprintf(cmd, sizeof cmd, "rm -rf --one-file-system '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

/* Reads the file back into f->recs; every line must parse. */
static void load(fixture_t *f)
{
	for (size_t i = 0; i < f->nrecs; i++)
		free(f->recs[i].msg);
	f->nrecs = 0;
	FILE *fp = fopen(f->path, "r");
	assert_non_null(fp);
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	while ((n = getline(&line, &cap, fp)) > 0) {
		assert_int_equal(line[n - 1], '\n');
		rec_t *r = &f->recs[f->nrecs++];
		const char *msg;
		assert_int_equal(node_cri_parse_line(line, (size_t)n - 1, &r->ts, &r->stream,
						     &r->partial, &msg, &r->len),
				 0);
		r->msg = strndup(msg, r->len);
	}
	free(line);
	fclose(fp);
}

static void feed(fixture_t *f, int stream, const char *s)
{
	rt_error_t err;
	assert_int_equal(node_cri_log_write(&f->log, stream, s, strlen(s), &err), 0);
}

static void expect(const rec_t *r, int stream, bool partial, const char *msg)
{
	assert_int_equal(r->stream, stream);
	assert_int_equal(r->partial, partial);
	assert_string_equal(r->msg, msg);
}

static void test_lines(void **state)
{
	fixture_t *f = *state;
	feed(f, NODE_CRI_STDOUT, "hello\nwor");
	feed(f, NODE_CRI_STDERR, "oops\n");
	feed(f, NODE_CRI_STDOUT, "ld\n\nlast");
	rt_error_t err;
	assert_int_equal(node_cri_log_flush(&f->log, NODE_CRI_STDOUT, &err), 0);
	load(f);
	assert_int_equal(f->nrecs, 5);
	expect(&f->recs[0], NODE_CRI_STDOUT, false, "hello");
	expect(&f->recs[1], NODE_CRI_STDERR, false, "oops");
	expect(&f->recs[2], NODE_CRI_STDOUT, false, "world");
	expect(&f->recs[3], NODE_CRI_STDOUT, false, "");
	expect(&f->recs[4], NODE_CRI_STDOUT, true, "last");
	struct stat st;
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
}

static void test_long_line(void **state)
{
	fixture_t *f = *state;
	size_t n = NODE_CRI_MAX_LINE * 2 + 100;
	char *big = malloc(n + 2);
	for (size_t i = 0; i < n; i++)
		big[i] = (char)('a' + i % 26);
	big[n] = '\n';
	big[n + 1] = '\0';
	/* In pieces that do not line up with the limit. */
	rt_error_t err;
	for (size_t off = 0; off < n + 1; off += 1000) {
		size_t len = n + 1 - off < 1000 ? n + 1 - off : 1000;
		assert_int_equal(node_cri_log_write(&f->log, NODE_CRI_STDOUT, big + off, len, &err),
				 0);
	}
	load(f);
	assert_int_equal(f->nrecs, 3);
	assert_true(f->recs[0].partial);
	assert_true(f->recs[1].partial);
	assert_false(f->recs[2].partial);
	assert_int_equal(f->recs[0].len, NODE_CRI_MAX_LINE);
	assert_int_equal(f->recs[1].len, NODE_CRI_MAX_LINE);
	assert_int_equal(f->recs[2].len, 100);
	char *joined = malloc(n + 1);
	size_t off = 0;
	for (size_t i = 0; i < 3; i++) {
		memcpy(joined + off, f->recs[i].msg, f->recs[i].len);
		off += f->recs[i].len;
	}
	assert_memory_equal(joined, big, n);
	free(joined);
	free(big);
}

static void test_exact_limit(void **state)
{
	fixture_t *f = *state;
	char *line = malloc(NODE_CRI_MAX_LINE + 2);
	memset(line, 'x', NODE_CRI_MAX_LINE);
	line[NODE_CRI_MAX_LINE] = '\n';
	line[NODE_CRI_MAX_LINE + 1] = '\0';
	feed(f, NODE_CRI_STDERR, line);
	load(f);
	/* A line of exactly 16 KiB stays one F record; one byte more splits. */
	assert_int_equal(f->nrecs, 1);
	assert_false(f->recs[0].partial);
	assert_int_equal(f->recs[0].len, NODE_CRI_MAX_LINE);
	line[NODE_CRI_MAX_LINE] = 'y';
	feed(f, NODE_CRI_STDERR, line);
	feed(f, NODE_CRI_STDERR, "\n");
	load(f);
	assert_int_equal(f->nrecs, 3);
	assert_true(f->recs[1].partial);
	assert_int_equal(f->recs[1].len, NODE_CRI_MAX_LINE);
	expect(&f->recs[2], NODE_CRI_STDERR, false, "y");
	free(line);
}

static void test_append_and_times(void **state)
{
	fixture_t *f = *state;
	feed(f, NODE_CRI_STDOUT, "one\n");
	node_cri_log_close(&f->log);
	rt_error_t err;
	assert_int_equal(node_cri_log_open(&f->log, f->path, &err), 0);
	feed(f, NODE_CRI_STDOUT, "two\n");
	load(f);
	assert_int_equal(f->nrecs, 2);
	expect(&f->recs[0], NODE_CRI_STDOUT, false, "one");
	expect(&f->recs[1], NODE_CRI_STDOUT, false, "two");
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	for (size_t i = 0; i < 2; i++)
		assert_true(llabs((long long)(now.tv_sec - f->recs[i].ts.tv_sec)) < 5);
	assert_true(f->recs[0].ts.tv_sec < f->recs[1].ts.tv_sec ||
		    (f->recs[0].ts.tv_sec == f->recs[1].ts.tv_sec &&
		     f->recs[0].ts.tv_nsec <= f->recs[1].ts.tv_nsec));
}

static void test_format_and_parse(void **state)
{
	(void)state;
	char buf[NODE_CRI_TIME_LEN + 1];
	struct timespec ts = {.tv_sec = 1795943411, .tv_nsec = 5000};
	assert_int_equal(node_cri_format_time(&ts, buf), NODE_CRI_TIME_LEN);
	assert_string_equal(buf, "2026-11-29T09:10:11.000005000Z");

	struct timespec got;
	int stream;
	bool partial;
	const char *msg;
	size_t len;
	const char *l1 = "2026-11-29T09:10:11.000005Z stderr P part";
	assert_int_equal(node_cri_parse_line(l1, strlen(l1), &got, &stream, &partial, &msg, &len),
			 0);
	assert_int_equal(got.tv_sec, 1795943411);
	assert_int_equal(got.tv_nsec, 5000);
	assert_int_equal(stream, NODE_CRI_STDERR);
	assert_true(partial);
	assert_int_equal(len, 4);
	assert_memory_equal(msg, "part", 4);
	const char *l2 = "2026-11-29T10:10:11+01:00 stdout F";
	assert_int_equal(node_cri_parse_line(l2, strlen(l2), &got, &stream, &partial, &msg, &len),
			 0);
	assert_int_equal(got.tv_sec, 1795943411);
	assert_int_equal(len, 0);
	const char *bad[] = {"",
			     "hello",
			     "2026-11-29T09:10:11Z stdin F x",
			     "2026-11-29T09:10:11Z stdout X x",
			     "2026-13-29T09:10:11Z stdout F x",
			     "2026-11-29 09:10:11Z stdout F x",
			     "2026-11-29T09:10:11Z stdout Fx"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(node_cri_parse_line(bad[i], strlen(bad[i]), &got, &stream,
						     &partial, &msg, &len),
				 -1);
}

static void test_discard(void **state)
{
	(void)state;
	node_cri_log_t *l = malloc(sizeof *l);
	rt_error_t err;
	assert_int_equal(node_cri_log_open(l, NULL, &err), 0);
	assert_int_equal(node_cri_log_write(l, NODE_CRI_STDOUT, "x\ny", 3, &err), 0);
	assert_int_equal(node_cri_log_reopen(l, &err), 0);
	node_cri_log_close(l);
	free(l);
}

static void test_helpers(void **state)
{
	fixture_t *f = *state;
	char dir[400], file[450];
	snprintf(dir, sizeof dir, "%s/a/b/c", f->dir);
	rt_error_t err;
	assert_int_equal(node__mkdir_p(dir, 0755, &err), 0);
	assert_int_equal(node__mkdir_p(dir, 0755, &err), 0);
	snprintf(file, sizeof file, "%s/x.json", dir);
	assert_int_equal(node__write_atomic(file, "{}", 2, 0644, &err), 0);
	assert_int_equal(node__write_atomic(file, "[1]", 3, 0644, &err), 0);
	FILE *fp = fopen(file, "r");
	char buf[8] = "";
	assert_non_null(fgets(buf, sizeof buf, fp));
	fclose(fp);
	assert_string_equal(buf, "[1]");
	snprintf(file, sizeof file, "%s/nope/x.json", dir);
	assert_int_equal(node__write_atomic(file, "{}", 2, 0644, &err), -1);
	assert_int_equal(err.errnum, ENOENT);
	assert_non_null(strstr(err.msg, "nope"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_lines, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_long_line, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_exact_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_append_and_times, setup, teardown),
	    cmocka_unit_test(test_format_and_parse),
	    cmocka_unit_test(test_discard),
	    cmocka_unit_test_setup_teardown(test_helpers, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
