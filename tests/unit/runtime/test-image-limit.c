/* rt_image_unpack_limit: a layer over the configured limit fails naming the
 * limit and leaves nothing in the layers directory; under it, it unpacks. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
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

static char tmpdir[64], layers[128];
static char digest[72];

/* A tar holding one 2000-byte file, stored as a blob of the layout tmpdir. */
static void make_layer(void)
{
	static char tar[16384], data[2000];
	size_t used = 0;
	memset(data, 'x', sizeof(data));
	struct archive *a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	assert_int_equal(archive_write_open_memory(a, tar, sizeof(tar), &used), ARCHIVE_OK);
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, "big");
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, sizeof(data));
	assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
	assert_int_equal(archive_write_data(a, data, sizeof(data)), (la_ssize_t)sizeof(data));
	archive_entry_free(e);
	archive_write_close(a);
	archive_write_free(a);
	rt__sha256_t *h = rt__sha256_new();
	rt__sha256_update(h, tar, used);
	rt__sha256_final(h, digest);
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/blobs/sha256/%s", tmpdir, digest + 7);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(tar, 1, used, f), used);
	fclose(f);
}

static int setup(void **state)
{
	(void)state;
	strcpy(tmpdir, "/tmp/test-image-limit-XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/blobs", tmpdir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/blobs/sha256", tmpdir);
	mkdir(p, 0755);
	snprintf(layers, sizeof(layers), "%s/layers", tmpdir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	rt_error_t err;
	return rt__remove_tree(tmpdir, &err);
}

static size_t entries(const char *dir)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n;
}

static void test_layer_over_limit_keeps_nothing(void **state)
{
	(void)state;
	make_layer();
	char *lv[] = {digest, NULL};
	rt_image_t img = {.ref = "big:1", .layers = lv, .nlayers = 1};
	rt_error_t err = {0};
	assert_int_equal(rt_image_unpack_limit(&img, tmpdir, layers, 1000, &err), -1);
	assert_int_equal(err.errnum, EFBIG);
	assert_non_null(strstr(err.msg, "1000 byte limit"));
	assert_non_null(strstr(err.msg, "big:1"));
	assert_int_equal(entries(layers), 0);

	/* the default (10 GiB) and a roomier limit both take it */
	assert_int_equal(rt_image_unpack_limit(&img, tmpdir, layers, 4096, &err), 0);
	assert_int_equal(entries(layers), 1);
	char p[PATH_MAX];
	struct stat st;
	snprintf(p, sizeof(p), "%s/%s/big", layers, digest + 7);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_size, 2000);
	rt__remove_tree(layers, &err);
	assert_int_equal(rt_image_unpack(&img, tmpdir, layers, &err), 0);
	assert_int_equal(entries(layers), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_layer_over_limit_keeps_nothing, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
