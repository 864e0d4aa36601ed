/* rt_image_resolve over OCI image layouts written here blob by blob. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cmocka.h>

#include "runtime/image-internal.h"

static char tmpdir[64];

static int setup(void **state)
{
	(void)state;
	strcpy(tmpdir, "/tmp/test-image-XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/blobs", tmpdir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/blobs/sha256", tmpdir);
	return mkdir(p, 0755);
}

static int teardown(void **state)
{
	(void)state;
	rt_error_t err;
	return rt__remove_tree(tmpdir, &err);
}

static void write_file(const char *path, const char *data)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(data, f);
	fclose(f);
}

/* Stores data as a blob; returns its digest (static buffer rotated). */
static const char *blob(const char *data)
{
	static char digests[8][72];
	static int next;
	char *d = digests[next++ % 8];
	rt__sha256_t *h = rt__sha256_new();
	rt__sha256_update(h, data, strlen(data));
	rt__sha256_final(h, d);
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/blobs/sha256/%s", tmpdir, d + 7);
	write_file(p, data);
	return d;
}

static void write_index(const char *manifests)
{
	char p[PATH_MAX], *doc;
	snprintf(p, sizeof(p), "%s/index.json", tmpdir);
	assert_true(asprintf(&doc, "{\"schemaVersion\":2,\"manifests\":[%s]}", manifests) > 0);
	write_file(p, doc);
	free(doc);
}

static char *desc(const char *mt, const char *digest, const char *data_for_size, const char *extra)
{
	char *s;
	assert_true(asprintf(&s, "{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu%s%s}", mt,
			     digest, strlen(data_for_size), extra ? "," : "",
			     extra ? extra : "") > 0);
	return s;
}

#define OCI_MAN "application/vnd.oci.image.manifest.v1+json"
#define LAYER_GZ "application/vnd.oci.image.layer.v1.tar+gzip"

/* A manifest document (with a config) for the given layer media type. */
static char *make_manifest(const char *mt, const char *layer_mt, const char *cfg_json)
{
	const char *cd = blob(cfg_json);
	char *m;
	assert_true(
	    asprintf(&m,
		     "{\"schemaVersion\":2,\"mediaType\":\"%s\","
		     "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
		     "\"digest\":\"%s\",\"size\":%zu},"
		     "\"layers\":[{\"mediaType\":\"%s\",\"digest\":\"sha256:%064d\","
		     "\"size\":100},{\"mediaType\":\"%s\",\"digest\":\"sha256:%064d\","
		     "\"size\":23}]}",
		     mt, cd, strlen(cfg_json), layer_mt, 1, layer_mt, 2) > 0);
	return m;
}

static const char *CONFIG =
    "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{"
    "\"Entrypoint\":[\"/bin/entry\"],\"Cmd\":[\"serve\",\"-v\"],"
    "\"Env\":[\"PATH=/bin\",\"A=b\"],\"WorkingDir\":\"/srv\",\"User\":\"65534:65534\"}}";

/* index.json with a few names for one manifest. */
static const char *setup_simple(void)
{
	char *m = make_manifest(OCI_MAN, LAYER_GZ, CONFIG);
	const char *md = blob(m);
	char *a =
	    desc(OCI_MAN, md, m,
		 "\"annotations\":{\"org.opencontainers.image.ref.name\":\"busybox:latest\"}");
	char *b = desc(OCI_MAN, md, m,
		       "\"annotations\":{\"org.opencontainers.image.ref.name\":"
		       "\"registry.example:5000/team/app:v1\"}");
	char *c = desc(OCI_MAN, md, m,
		       "\"annotations\":{\"org.opencontainers.image.ref.name\":\"stable\"}");
	char *all;
	assert_true(asprintf(&all, "%s,%s,%s", a, b, c) > 0);
	write_index(all);
	free(a);
	free(b);
	free(c);
	free(all);
	free(m);
	return md;
}

static void test_resolve_names_and_config(void **state)
{
	(void)state;
	const char *md = setup_simple();
	char want[72];
	strcpy(want, md);
	const char *refs[] = {"busybox",
			      "busybox:latest",
			      "docker.io/library/busybox",
			      "docker.io/busybox:latest",
			      "registry.example:5000/team/app:v1",
			      "other:stable"};
	for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]); i++) {
		rt_image_t *img = NULL;
		rt_error_t err = {0};
		if (rt_image_resolve(tmpdir, refs[i], &img, &err) != 0)
			fail_msg("%s: %s", refs[i], err.msg);
		assert_string_equal(img->manifest_digest, want);
		assert_int_equal(img->nlayers, 2);
		assert_string_equal(img->layers[0], "sha256:"
						    "000000000000000000000000000000000000000000000"
						    "0000000000000000001");
		assert_null(img->layers[2]);
		assert_int_equal(img->size, 123);
		assert_string_equal(img->entrypoint[0], "/bin/entry");
		assert_null(img->entrypoint[1]);
		assert_string_equal(img->cmd[1], "-v");
		assert_string_equal(img->env[1], "A=b");
		assert_string_equal(img->working_dir, "/srv");
		assert_string_equal(img->user, "65534:65534");
		if (i < 4)
			assert_string_equal(img->ref, "busybox:latest");
		rt_image_free(img);
	}
}

static void test_missing_image_is_enoent(void **state)
{
	(void)state;
	setup_simple();
	rt_image_t *img = NULL;
	rt_error_t err = {0};
	assert_int_equal(rt_image_resolve(tmpdir, "busybox:1.36", &img, &err), -1);
	assert_int_equal(err.errnum, ENOENT);
	assert_non_null(strstr(err.msg, "image `busybox:1.36` not found"));
	assert_int_equal(rt_image_resolve(tmpdir, "team/app:v1", &img, &err), -1);
	assert_int_equal(err.errnum, ENOENT);
	assert_int_equal(rt_image_resolve("/nonexistent-layout", "busybox", &img, &err), -1);
	assert_int_equal(err.errnum, ENOENT);
	assert_non_null(strstr(err.msg, "has no index.json"));
}

static void test_corrupt_blob_refused(void **state)
{
	(void)state;
	const char *md = setup_simple();
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/blobs/sha256/%s", tmpdir, md + 7);
	/* same size, one byte changed */
	int fd = open(p, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, " ", 1, 1), 1);
	close(fd);
	rt_image_t *img = NULL;
	rt_error_t err = {0};
	assert_int_equal(rt_image_resolve(tmpdir, "busybox", &img, &err), -1);
	assert_non_null(strstr(err.msg, "digest mismatch: expected"));
}

static const char *host_goarch(void)
{
	struct utsname u;
	uname(&u);
	return strcmp(u.machine, "aarch64") == 0 ? "arm64" : "amd64";
}

static void test_index_picks_linux_host_arch_docker_types(void **state)
{
	(void)state;
	const char *dm = "application/vnd.docker.distribution.manifest.v2+json";
	const char *dl = "application/vnd.docker.image.rootfs.diff.tar.gzip";
	char *mine = make_manifest(dm, dl, CONFIG);
	char *other = make_manifest(dm, dl, "{\"os\":\"linux\",\"config\":{\"Cmd\":[\"wrong\"]}}");
	char mine_d[72], other_d[72];
	strcpy(mine_d, blob(mine));
	strcpy(other_d, blob(other));
	const char *arch = host_goarch();
	const char *not_arch = strcmp(arch, "amd64") == 0 ? "arm64" : "amd64";
	char *list;
	assert_true(asprintf(&list,
			     "{\"schemaVersion\":2,\"mediaType\":\"application/"
			     "vnd.docker.distribution.manifest.list.v2+json\",\"manifests\":["
			     "{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu,"
			     "\"platform\":{\"architecture\":\"%s\",\"os\":\"linux\"}},"
			     "{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu,"
			     "\"platform\":{\"architecture\":\"%s\",\"os\":\"windows\"}},"
			     "{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu,"
			     "\"platform\":{\"architecture\":\"%s\",\"os\":\"linux\"}}]}",
			     dm, other_d, strlen(other), not_arch, dm, other_d, strlen(other), arch,
			     dm, mine_d, strlen(mine), arch) > 0);
	const char *ld = blob(list);
	char *d = desc("application/vnd.docker.distribution.manifest.list.v2+json", ld, list,
		       "\"annotations\":{\"org.opencontainers.image.ref.name\":\"multi:1\"}");
	write_index(d);
	rt_image_t *img = NULL;
	rt_error_t err = {0};
	if (rt_image_resolve(tmpdir, "multi:1", &img, &err) != 0)
		fail_msg("%s", err.msg);
	assert_string_equal(img->manifest_digest, mine_d);
	assert_string_equal(img->cmd[0], "serve");
	rt_image_free(img);
	free(d);
	free(list);
	free(mine);
	free(other);
}

static void test_unsupported_layer_type(void **state)
{
	(void)state;
	char *m = make_manifest(OCI_MAN, "application/vnd.example.weird", CONFIG);
	const char *md = blob(m);
	char *d = desc(OCI_MAN, md, m,
		       "\"annotations\":{\"org.opencontainers.image.ref.name\":\"w:latest\"}");
	write_index(d);
	rt_image_t *img = NULL;
	rt_error_t err = {0};
	assert_int_equal(rt_image_resolve(tmpdir, "w", &img, &err), -1);
	assert_non_null(strstr(err.msg, "unsupported media type `application/vnd.example.weird`"));
	assert_non_null(strstr(err.msg, "image `w:latest`"));
	free(d);
	free(m);
}

static void test_bad_config_field(void **state)
{
	(void)state;
	char *m = make_manifest(OCI_MAN, LAYER_GZ, "{\"config\":{\"Cmd\":\"sh\"}}");
	const char *md = blob(m);
	char *d = desc(OCI_MAN, md, m,
		       "\"annotations\":{\"org.opencontainers.image.ref.name\":\"c:latest\"}");
	write_index(d);
	rt_image_t *img = NULL;
	rt_error_t err = {0};
	assert_int_equal(rt_image_resolve(tmpdir, "c", &img, &err), -1);
	assert_non_null(strstr(err.msg, "config.Cmd: expected an array of strings"));
	free(d);
	free(m);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_resolve_names_and_config), T(test_missing_image_is_enoent),
	    T(test_corrupt_blob_refused),     T(test_index_picks_linux_host_arch_docker_types),
	    T(test_unsupported_layer_type),   T(test_bad_config_field),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
