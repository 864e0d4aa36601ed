/* store-sqlite.c: put/get/list/delete of pods and nodes in a temporary
 * directory; data survives closing and reopening. */
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

#include "scheduler/sched.h"
#include "scheduler/store.h"

struct seen {
	int n;
	char names[8][64];
	char json[8][128];
	char pinned[8][32];
	int64_t gen[8];
};

static int collect_pod(const sched_store_pod_t *p, void *arg)
{
	struct seen *s = arg;

	if (s->n < 8) {
		snprintf(s->names[s->n], 64, "%s/%s", p->namespace_, p->name);
		snprintf(s->json[s->n], 128, "%s", p->json);
		snprintf(s->pinned[s->n], 32, "%s", p->pinned ? p->pinned : "-");
		s->gen[s->n] = p->generation;
	}
	s->n++;
	return 0;
}

static int collect_node(const sched_store_node_t *n, void *arg)
{
	struct seen *s = arg;

	if (s->n < 8) {
		snprintf(s->names[s->n], 64, "%s %s %d", n->name, n->pod_cidr, n->cidr_index);
		snprintf(s->json[s->n], 128, "%s", n->json);
	}
	s->n++;
	return 0;
}

static int stop_early(const sched_store_pod_t *p, void *arg)
{
	(void)p;
	(*(int *)arg)++;
	return 42;
}

static char dir[256];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test-store-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	char cmd[600];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf --one-file-system '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static sched_store_t *open_store(const char *sub)
{
	char path[400], err[256] = "";
	sched_store_t *s;

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	s = sched_store_sqlite_open(path, err, sizeof(err));
	if (!s)
		fail_msg("open %s: %s", path, err);
	return s;
}

static void test_pods(void **state)
{
	(void)state;
	sched_store_t *s = open_store("a/b/data");
	sched_store_pod_t p1 = {"default", "web", "uid-1", 1, NULL, "{\"v\":1}"};
	sched_store_pod_t p2 = {"team", "db", "uid-2", 0, "n7", "{\"v\":2}"};
	struct seen seen = {0};
	int calls = 0;

	assert_int_equal(s->ops->pod_put(s, &p1), 0);
	assert_int_equal(s->ops->pod_put(s, &p2), 0);
	/* put replaces */
	p1.json = "{\"v\":3}";
	p1.generation = 2;
	assert_int_equal(s->ops->pod_put(s, &p1), 0);

	assert_int_equal(s->ops->pod_get(s, "default", "web", collect_pod, &seen), 0);
	assert_int_equal(seen.n, 1);
	assert_string_equal(seen.json[0], "{\"v\":3}");
	assert_int_equal(seen.gen[0], 2);
	assert_string_equal(seen.pinned[0], "-");
	assert_int_equal(s->ops->pod_get(s, "default", "nope", collect_pod, &seen), -ENOENT);

	memset(&seen, 0, sizeof(seen));
	assert_int_equal(s->ops->pod_list(s, collect_pod, &seen), 0);
	assert_int_equal(seen.n, 2);
	assert_string_equal(seen.names[0], "default/web");
	assert_string_equal(seen.names[1], "team/db");
	assert_string_equal(seen.pinned[1], "n7");

	assert_int_equal(s->ops->pod_list(s, stop_early, &calls), 42);
	assert_int_equal(calls, 1);

	assert_int_equal(s->ops->pod_delete(s, "default", "web"), 0);
	assert_int_equal(s->ops->pod_delete(s, "default", "web"), -ENOENT);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(s->ops->pod_list(s, collect_pod, &seen), 0);
	assert_int_equal(seen.n, 1);
	s->ops->close(s);
}

static void test_reopen_keeps_data(void **state)
{
	(void)state;
	sched_store_t *s = open_store("reopen");
	sched_store_pod_t p = {"default", "web", "uid-1", 5, NULL, "{}"};
	sched_store_node_t n = {"n1", "10.244.1.0/24", 1, "{\"labels\":{}}"};
	struct seen seen = {0};
	char path[400];
	struct stat st;

	assert_int_equal(s->ops->pod_put(s, &p), 0);
	assert_int_equal(s->ops->node_put(s, &n), 0);
	s->ops->close(s);

	snprintf(path, sizeof(path), "%s/reopen/schedd.db", dir);
	assert_int_equal(stat(path, &st), 0);

	s = open_store("reopen");
	assert_int_equal(s->ops->pod_list(s, collect_pod, &seen), 0);
	assert_int_equal(seen.n, 1);
	assert_int_equal(seen.gen[0], 5);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(s->ops->node_list(s, collect_node, &seen), 0);
	assert_int_equal(seen.n, 1);
	assert_string_equal(seen.names[0], "n1 10.244.1.0/24 1");
	s->ops->close(s);
}

static void test_open_errors(void **state)
{
	(void)state;
	char path[400], err[256] = "";
	FILE *f;

	/* a file where the directory should be */
	snprintf(path, sizeof(path), "%s/file", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/file/data", dir);
	assert_null(sched_store_sqlite_open(path, err, sizeof(err)));
	assert_non_null(strstr(err, "cannot create data directory"));
	assert_non_null(strstr(err, "Not a directory"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pods),
	    cmocka_unit_test(test_reopen_keeps_data),
	    cmocka_unit_test(test_open_errors),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
