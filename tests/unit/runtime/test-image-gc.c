/* rt_image_gc's choice of images: least recently used first, layers shared
 * with a kept image (or a --image-dir image) stay, it stops at the low mark.
 * The store is written here with made-up digests; usage is a fake. */
#include <errno.h>
#include <limits.h>
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

#include "runtime/image-internal.h"

static char tmp[64], store[128], layers[128], imgdir[128];

/* "sha256:" + 64 times the hex digit c. */
static const char *dg(char c)
{
	static char buf[16][80];
	static int k;
	char *b = buf[k++ % 16];
	memcpy(b, "sha256:", 7);
	memset(b + 7, c, 64);
	b[71] = '\0';
	return b;
}

static void put(const char *layout, const char *digest, const char *content)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/blobs/sha256/%s", layout, digest + 7);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

static bool blob_exists(const char *layout, char c)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/blobs/sha256/%s", layout, dg(c) + 7);
	return access(p, F_OK) == 0;
}

static bool layer_exists(char c)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/%s/file", layers, dg(c) + 7);
	return access(p, F_OK) == 0;
}

static void unpacked(char c)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/%s", layers, dg(c) + 7);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/%s/file", layers, dg(c) + 7);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs("x", f);
	fclose(f);
}

/* A manifest m with config c and the given layers (all blobs written). */
static void manifest(const char *layout, char m, char c, const char *ls)
{
	char body[2048];
	int n = snprintf(body, sizeof(body),
			 "{\"schemaVersion\":2,\"config\":{\"digest\":\"%s\"},\"layers\":[", dg(c));
	for (const char *l = ls; *l; l++) {
		n += snprintf(body + n, sizeof(body) - (size_t)n, "%s{\"digest\":\"%s\"}",
			      l == ls ? "" : ",", dg(*l));
		put(layout, dg(*l), "layer");
	}
	snprintf(body + n, sizeof(body) - (size_t)n, "]}");
	put(layout, dg(m), body);
	put(layout, dg(c), "{}");
}

static void index_json(const char *layout, const char *entries)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/index.json", layout);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fprintf(f, "{\"schemaVersion\":2,\"manifests\":[%s]}", entries);
	fclose(f);
}

static char entry_buf[8][512];
static const char *entry(int k, const char *name, char m, const char *last_used)
{
	snprintf(entry_buf[k], sizeof(entry_buf[k]),
		 "{\"digest\":\"%s\",\"size\":1,\"annotations\":{"
		 "\"org.opencontainers.image.ref.name\":\"%s\",\"" RT_IMAGE_ADDED_ANNOTATION
		 "\":\"50\"%s%s%s}}",
		 dg(m), name, last_used ? ",\"" RT_IMAGE_LAST_USED_ANNOTATION "\":\"" : "",
		 last_used ? last_used : "", last_used ? "\"" : "");
	return entry_buf[k];
}

static void mklayout(const char *dir)
{
	char p[PATH_MAX];
	mkdir(dir, 0755);
	snprintf(p, sizeof(p), "%s/blobs", dir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/blobs/sha256", dir);
	mkdir(p, 0755);
}

/* Images: a (used at 100; layers 1 shared with b, and a), b (300; 1 and b),
 * c (200; layer c, also used by image d of the image dir). */
static int setup(void **state)
{
	(void)state;
	strcpy(tmp, "/tmp/test-image-gc-XXXXXX");
	if (mkdtemp(tmp) == NULL)
		return -1;
	snprintf(store, sizeof(store), "%s/images", tmp);
	snprintf(layers, sizeof(layers), "%s/layers", tmp);
	snprintf(imgdir, sizeof(imgdir), "%s/image-dir", tmp);
	mklayout(store);
	mklayout(imgdir);
	mkdir(layers, 0755);
	manifest(store, '2', '3', "1a"); /* image a: manifest 2, config 3 */
	manifest(store, '4', '5', "1b"); /* image b */
	manifest(store, '6', '7', "c");	 /* image c */
	char all[2048];
	snprintf(all, sizeof(all), "%s,%s,%s", entry(0, "docker.io/library/a:1", '2', "100"),
		 entry(1, "docker.io/library/b:1", '4', "300"),
		 entry(2, "docker.io/library/c:1", '6', "200"));
	index_json(store, all);
	unpacked('1');
	unpacked('a');
	unpacked('b');
	unpacked('c');
	manifest(imgdir, '8', '9', "c");
	index_json(imgdir, entry(3, "d:1", '8', NULL));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	rt_error_t err;
	return rt__remove_tree(tmp, &err);
}

struct fake {
	uint64_t used, total;
	int calls;
};

static int fake_usage(void *arg, const char *path, uint64_t *used, uint64_t *total)
{
	struct fake *f = arg;
	assert_string_equal(path, store);
	f->calls++;
	*used = f->used;
	*total = f->total;
	return 0;
}

static bool in_index(const char *name)
{
	rt_image_info_t *v;
	size_t n;
	rt_error_t err;
	assert_int_equal(rt_image_list(store, &v, &n, &err), 0);
	bool found = false;
	for (size_t i = 0; i < n; i++)
		found = found || strcmp(v[i].name, name) == 0;
	rt_image_list_free(v, n);
	return found;
}

static const char *const keep[] = {imgdir, NULL};

static rt_image_gc_opts_t opts(struct fake *f, const char *const *in_use)
{
	rt_image_gc_opts_t o = {
	    .store_dir = store,
	    .layers_dir = layers,
	    .keep_layouts = keep,
	    .in_use = in_use,
	    .high_pct = 85,
	    .low_pct = 80,
	    .usage = fake_usage,
	    .usage_arg = f,
	    .now = 1000,
	};
	return o;
}

/* Above the high mark, the least recently used unused image goes first and
 * one image frees enough to reach the low mark: c (200) stays. */
static void test_lru_stops_at_low_mark(void **state)
{
	(void)state;
	struct fake f = {.used = 9000, .total = 10000}; /* 90%: free 1000 bytes */
	const char *const none[] = {NULL};
	rt_image_gc_opts_t o = opts(&f, none);
	rt_image_gc_result_t res;
	rt_error_t err;
	assert_int_equal(rt_image_gc(&o, &res, &err), 0);
	assert_int_equal(f.calls, 1);
	assert_int_equal(res.nremoved, 1);
	assert_string_equal(res.removed[0], "docker.io/library/a:1");
	assert_true(res.freed >= 1000);
	rt_image_gc_result_clear(&res);
	assert_false(in_index("docker.io/library/a:1"));
	assert_true(in_index("docker.io/library/b:1"));
	assert_true(in_index("docker.io/library/c:1"));
	/* a's own blobs and layer went; the layer shared with b stayed */
	assert_false(blob_exists(store, '2'));
	assert_false(blob_exists(store, '3'));
	assert_false(blob_exists(store, 'a'));
	assert_false(layer_exists('a'));
	assert_true(blob_exists(store, '1'));
	assert_true(layer_exists('1'));
	assert_true(blob_exists(store, 'c'));
}

/* Images in use are never chosen, however old; ordering follows last use. */
static void test_in_use_kept_and_order(void **state)
{
	(void)state;
	struct fake f = {.used = 1000000000, .total = 1000000000};
	/* a is used (named the short way); a lot must go: b and c both */
	const char *const used[] = {"a:1", NULL};
	rt_image_gc_opts_t o = opts(&f, used);
	o.low_pct = 0;
	rt_image_gc_result_t res;
	rt_error_t err;
	assert_int_equal(rt_image_gc(&o, &res, &err), 0);
	assert_int_equal(res.nremoved, 2);
	assert_string_equal(res.removed[0], "docker.io/library/c:1"); /* 200 before 300 */
	assert_string_equal(res.removed[1], "docker.io/library/b:1");
	rt_image_gc_result_clear(&res);
	assert_true(in_index("docker.io/library/a:1"));
	assert_true(blob_exists(store, '1'));
	assert_true(layer_exists('1'));
	assert_false(layer_exists('b'));
	/* c's blob went, but its unpacked layer is d's too (the image dir) */
	assert_false(blob_exists(store, 'c'));
	assert_true(layer_exists('c'));
	assert_true(blob_exists(imgdir, 'c'));
}

/* Below the high mark nothing goes; a prune (all) takes every unused image. */
static void test_below_mark_and_prune(void **state)
{
	(void)state;
	struct fake f = {.used = 8400, .total = 10000};
	const char *const used[] = {"docker.io/library/b:1", NULL};
	rt_image_gc_opts_t o = opts(&f, used);
	rt_image_gc_result_t res;
	rt_error_t err;
	assert_int_equal(rt_image_gc(&o, &res, &err), 0);
	assert_int_equal(res.nremoved, 0);
	rt_image_gc_result_clear(&res);
	o.high_pct = 100; /* disabled */
	f.used = f.total;
	assert_int_equal(rt_image_gc(&o, &res, &err), 0);
	assert_int_equal(res.nremoved, 0);
	o.all = true;
	o.usage = NULL;
	assert_int_equal(rt_image_gc(&o, &res, &err), 0);
	assert_int_equal(res.nremoved, 2);
	rt_image_gc_result_clear(&res);
	assert_true(in_index("docker.io/library/b:1"));
	assert_false(in_index("docker.io/library/a:1"));
	assert_false(in_index("docker.io/library/c:1"));
	assert_true(layer_exists('1'));
	assert_true(layer_exists('b'));
}

/* rt_image_touch makes an image the most recently used. */
static void test_touch(void **state)
{
	(void)state;
	rt_error_t err;
	assert_int_equal(rt_image_touch(store, "docker.io/library/a:1", &err), 0);
	assert_int_equal(rt_image_touch(store, "docker.io/library/zz:1", &err), -1);
	assert_int_equal(err.errnum, ENOENT);
	struct fake f = {.used = 9000, .total = 10000};
	rt_image_gc_opts_t o = opts(&f, NULL);
	o.now = 0;
	rt_image_gc_result_t res;
	assert_int_equal(rt_image_gc(&o, &res, &err), 0);
	assert_int_equal(res.nremoved, 1);
	assert_string_equal(res.removed[0], "docker.io/library/c:1");
	rt_image_gc_result_clear(&res);
}

/* An entry no pull or import added (an operator's image when --image-dir is
 * the store itself) is never collected, even by a prune. */
static void test_foreign_entry_kept(void **state)
{
	(void)state;
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/index.json", store);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fprintf(f,
		"{\"schemaVersion\":2,\"manifests\":[{\"digest\":\"%s\",\"size\":1,"
		"\"annotations\":{\"org.opencontainers.image.ref.name\":\"op:1\"}}]}",
		dg('2'));
	fclose(f);
	struct fake f2 = {.used = 1, .total = 1};
	rt_image_gc_opts_t o = opts(&f2, NULL);
	o.all = true;
	rt_image_gc_result_t res;
	rt_error_t err;
	assert_int_equal(rt_image_gc(&o, &res, &err), 0);
	assert_int_equal(res.nremoved, 0);
	assert_true(in_index("op:1"));
	assert_true(blob_exists(store, 'a'));
}

/* An empty store (never pulled to) is not an error. */
static void test_empty_store(void **state)
{
	(void)state;
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/none", tmp);
	struct fake f = {.used = 1, .total = 1};
	rt_image_gc_opts_t o = opts(&f, NULL);
	o.store_dir = p;
	o.usage = NULL;
	o.all = true;
	rt_image_gc_result_t res;
	rt_error_t err;
	assert_int_equal(rt_image_gc(&o, &res, &err), 0);
	assert_int_equal(res.nremoved, 0);
	/* The periodic run on a node that never pulled: the store directory
	 * does not exist, which is not an error. */
	o.all = false;
	o.high_pct = 0;
	o.low_pct = 0;
	assert_int_equal(rt_image_gc(&o, &res, &err), 0);
	assert_int_equal(res.nremoved, 0);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_lru_stops_at_low_mark), T(test_in_use_kept_and_order),
	    T(test_below_mark_and_prune),  T(test_touch),
	    T(test_empty_store),	   T(test_foreign_entry_kept),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
