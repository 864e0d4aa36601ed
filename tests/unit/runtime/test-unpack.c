/* Layer unpacking: tar files crafted here with libarchive's writer. */
#include <archive.h>
#include <archive_entry.h>
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
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cmocka.h>

#include "runtime/image-internal.h"

static char tmpdir[64];

struct ent {
	const char *path;
	mode_t type; /* AE_IFREG, AE_IFDIR, AE_IFLNK, AE_IFCHR, AE_IFBLK; 0 = hard link */
	mode_t perm;
	const char *data; /* file content, or link target */
	dev_t rdev;
	const char *xattr; /* name, value "x" */
};

static int setup(void **state)
{
	(void)state;
	strcpy(tmpdir, "/tmp/test-unpack-XXXXXX");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	rt_error_t err;
	return rt__remove_tree(tmpdir, &err);
}

static void path_in(char *out, const char *rel)
{
	if (snprintf(out, PATH_MAX, "%s/%s", tmpdir, rel) >= PATH_MAX)
		fail_msg("path too long");
}

/* Writes a tar (gzip'd when gz) of ents to tmpdir/name; returns its digest. */
static void make_tar(const char *name, bool gz, const struct ent *ents, size_t n, char digest[72])
{
	char path[PATH_MAX];
	path_in(path, name);
	struct archive *a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	if (gz)
		archive_write_add_filter_gzip(a);
	assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname(e, ents[i].path);
		archive_entry_set_uid(e, 1000);
		archive_entry_set_gid(e, 1001);
		archive_entry_set_mtime(e, 1000000, 0);
		size_t len = 0;
		if (ents[i].type == 0) {
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_hardlink(e, ents[i].data);
		} else {
			archive_entry_set_filetype(e, ents[i].type);
			archive_entry_set_perm(e, ents[i].perm);
		}
		if (ents[i].type == AE_IFREG && ents[i].data != NULL)
			len = strlen(ents[i].data);
		if (ents[i].type == AE_IFLNK)
			archive_entry_set_symlink(e, ents[i].data);
		if (ents[i].type == AE_IFCHR || ents[i].type == AE_IFBLK)
			archive_entry_set_rdev(e, ents[i].rdev);
		if (ents[i].xattr != NULL)
			archive_entry_xattr_add_entry(e, ents[i].xattr, "x", 1);
		archive_entry_set_size(e, (la_int64_t)len);
		assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
		if (len)
			assert_int_equal(archive_write_data(a, ents[i].data, len), (la_ssize_t)len);
		archive_entry_free(e);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);

	rt__sha256_t *h = rt__sha256_new();
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	char buf[4096];
	ssize_t r;
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		rt__sha256_update(h, buf, (size_t)r);
	close(fd);
	rt__sha256_final(h, digest);
}

/* Unpacks tmpdir/name into a fresh tmpdir/<dest>. */
static int unpack(const char *name, const char *digest, const char *dest, int64_t max,
		  rt_error_t *err)
{
	char blob[PATH_MAX], d[PATH_MAX];
	path_in(blob, name);
	path_in(d, dest);
	assert_int_equal(mkdir(d, 0755), 0);
	return rt__unpack_layer(blob, digest, d, max, err);
}

static bool exists(const char *rel)
{
	char p[PATH_MAX];
	struct stat st;
	path_in(p, rel);
	return lstat(p, &st) == 0;
}

static void test_regular_layer_keeps_modes_and_owners(void **state)
{
	(void)state;
	const struct ent ents[] = {
	    {"./", AE_IFDIR, 0755, NULL, 0, NULL},
	    {"./etc/", AE_IFDIR, 0751, NULL, 0, NULL},
	    {"./etc/conf", AE_IFREG, 0640, "hello\n", 0, NULL},
	    {"./etc/link", AE_IFLNK, 0777, "conf", 0, NULL},
	    {"./etc/hard", 0, 0, "./etc/conf", 0, NULL},
	    {"usr/bin/tool", AE_IFREG, 04755, "#!/bin/sh\n", 0, NULL},
	};
	char digest[72];
	make_tar("l.tgz", true, ents, sizeof(ents) / sizeof(ents[0]), digest);
	rt_error_t err = {0};
	int r = unpack("l.tgz", digest, "out", RT_LAYER_MAX_BYTES, &err);
	if (r != 0)
		fail_msg("%s", err.msg);
	char p[PATH_MAX];
	struct stat st;
	path_in(p, "out/etc/conf");
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(st.st_size, 6);
	assert_int_equal(st.st_nlink, 2);
	if (geteuid() == 0) {
		assert_int_equal(st.st_uid, 1000);
		assert_int_equal(st.st_gid, 1001);
	}
	path_in(p, "out/etc");
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0751);
	assert_int_equal(st.st_mtime, 1000000);
	path_in(p, "out/usr/bin/tool");
	assert_int_equal(stat(p, &st), 0);
	if (geteuid() == 0)
		assert_int_equal(st.st_mode & 07777, 04755);
	char target[64] = "";
	path_in(p, "out/etc/link");
	assert_int_equal(readlink(p, target, sizeof(target) - 1), 4);
	assert_string_equal(target, "conf");
}

static void test_dotdot_and_absolute_refused(void **state)
{
	(void)state;
	const struct ent up[] = {{"a/../../escape", AE_IFREG, 0644, "x", 0, NULL}};
	const struct ent abs[] = {{"/tmp/abs-escape-unpack-test", AE_IFREG, 0644, "x", 0, NULL}};
	const struct ent hl[] = {{"h", 0, 0, "../../etc/passwd", 0, NULL}};
	char digest[72];
	rt_error_t err = {0};
	make_tar("up.tar", false, up, 1, digest);
	assert_int_equal(unpack("up.tar", digest, "o1", RT_LAYER_MAX_BYTES, &err), -1);
	assert_non_null(strstr(err.msg, "entry `a/../../escape`: absolute path or `..` refused"));
	assert_false(exists("escape"));
	make_tar("abs.tar", false, abs, 1, digest);
	assert_int_equal(unpack("abs.tar", digest, "o2", RT_LAYER_MAX_BYTES, &err), -1);
	assert_non_null(strstr(err.msg, "refused"));
	assert_int_equal(access("/tmp/abs-escape-unpack-test", F_OK), -1);
	make_tar("hl.tar", false, hl, 1, digest);
	assert_int_equal(unpack("hl.tar", digest, "o3", RT_LAYER_MAX_BYTES, &err), -1);
	assert_non_null(strstr(err.msg, "hard link to `../../etc/passwd` refused"));
}

static void test_absolute_symlink_kept_never_followed(void **state)
{
	(void)state;
	char outside[PATH_MAX];
	path_in(outside, "outside");
	assert_int_equal(mkdir(outside, 0755), 0);
	struct ent ents[] = {
	    {"evil", AE_IFLNK, 0777, outside, 0, NULL},
	    {"evil/payload", AE_IFREG, 0644, "pwned", 0, NULL},
	};
	char digest[72];
	rt_error_t err = {0};
	make_tar("sym.tar", false, ents, 2, digest);
	assert_int_equal(unpack("sym.tar", digest, "o", RT_LAYER_MAX_BYTES, &err), -1);
	assert_false(exists("outside/payload"));
	char p[PATH_MAX], target[PATH_MAX] = "";
	path_in(p, "o/evil");
	assert_true(readlink(p, target, sizeof(target) - 1) > 0);
	assert_string_equal(target, outside);

	/* a whiteout below the symlink is refused too */
	struct ent wh[] = {
	    {"evil", AE_IFLNK, 0777, outside, 0, NULL},
	    {"evil/.wh.x", AE_IFREG, 0644, "", 0, NULL},
	};
	make_tar("symwh.tar", false, wh, 2, digest);
	assert_int_equal(unpack("symwh.tar", digest, "o2", RT_LAYER_MAX_BYTES, &err), -1);
	assert_non_null(strstr(err.msg, "whiteout `evil/.wh.x`"));
	assert_false(exists("outside/x"));
}

static void test_devices_refused(void **state)
{
	(void)state;
	const struct ent chr[] = {{"dev/null", AE_IFCHR, 0666, NULL, makedev(1, 3), NULL}};
	const struct ent blk[] = {{"dev/sda", AE_IFBLK, 0660, NULL, makedev(8, 0), NULL}};
	char digest[72];
	rt_error_t err = {0};
	make_tar("chr.tar", false, chr, 1, digest);
	assert_int_equal(unpack("chr.tar", digest, "o1", RT_LAYER_MAX_BYTES, &err), -1);
	assert_non_null(strstr(err.msg, "entry `dev/null`: device nodes are not allowed"));
	assert_false(exists("o1/dev/null"));
	make_tar("blk.tar", false, blk, 1, digest);
	assert_int_equal(unpack("blk.tar", digest, "o2", RT_LAYER_MAX_BYTES, &err), -1);
	assert_non_null(strstr(err.msg, "device nodes"));
}

static void test_whiteouts_become_overlay_whiteouts(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip(); /* mknod and trusted.* xattrs need root */
	const struct ent ents[] = {
	    {"etc/", AE_IFDIR, 0755, NULL, 0, NULL},
	    {"etc/.wh.gone", AE_IFREG, 0644, "", 0, NULL},
	    {"var/lib/.wh..wh..opq", AE_IFREG, 0644, "", 0, NULL},
	    {"var/lib/kept", AE_IFREG, 0644, "k", 0, "trusted.overlay.redirect"},
	    {"old", AE_IFCHR, 0000, NULL, makedev(0, 0), NULL}, /* already overlay form */
	    {".wh..wh.plnk", AE_IFDIR, 0700, NULL, 0, NULL},
	};
	char digest[72];
	rt_error_t err = {0};
	make_tar("wh.tgz", true, ents, sizeof(ents) / sizeof(ents[0]), digest);
	int r = unpack("wh.tgz", digest, "o", RT_LAYER_MAX_BYTES, &err);
	if (r != 0)
		fail_msg("%s", err.msg);
	char p[PATH_MAX];
	struct stat st;
	path_in(p, "o/etc/gone");
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISCHR(st.st_mode));
	assert_int_equal(st.st_rdev, makedev(0, 0));
	assert_false(exists("o/etc/.wh.gone"));
	path_in(p, "o/old");
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISCHR(st.st_mode));
	char v[8] = "";
	path_in(p, "o/var/lib");
	assert_int_equal(getxattr(p, "trusted.overlay.opaque", v, sizeof(v)), 1);
	assert_int_equal(v[0], 'y');
	assert_false(exists("o/var/lib/.wh..wh..opq"));
	assert_false(exists("o/.wh..wh.plnk"));
	path_in(p, "o/var/lib/kept");
	assert_int_equal(getxattr(p, "trusted.overlay.redirect", v, sizeof(v)), -1);
}

static void test_digest_and_size_checked(void **state)
{
	(void)state;
	const struct ent ents[] = {{"f", AE_IFREG, 0644, "0123456789abcdef", 0, NULL}};
	char digest[72];
	rt_error_t err = {0};
	make_tar("d.tgz", true, ents, 1, digest);
	char wrong[72];
	strcpy(wrong, digest);
	wrong[10] = wrong[10] == '0' ? '1' : '0';
	assert_int_equal(unpack("d.tgz", wrong, "o1", RT_LAYER_MAX_BYTES, &err), -1);
	assert_non_null(strstr(err.msg, "digest mismatch"));
	assert_int_equal(unpack("d.tgz", digest, "o2", 10, &err), -1);
	assert_non_null(strstr(err.msg, "over the 10 byte limit"));
}

/* rt_image_unpack: layers_dir/<hex>, atomically, skipped when present. */
static void test_image_unpack_atomic_and_skips(void **state)
{
	(void)state;
	const struct ent ents[] = {{"hello", AE_IFREG, 0644, "world", 0, NULL}};
	char digest[72], p[PATH_MAX], q[PATH_MAX];
	make_tar("layer", true, ents, 1, digest);
	path_in(p, "layout");
	assert_int_equal(mkdir(p, 0755), 0);
	path_in(p, "layout/blobs");
	assert_int_equal(mkdir(p, 0755), 0);
	path_in(p, "layout/blobs/sha256");
	assert_int_equal(mkdir(p, 0755), 0);
	path_in(p, "layer");
	snprintf(q, sizeof(q), "%s/layout/blobs/sha256/%s", tmpdir, digest + 7);
	assert_int_equal(rename(p, q), 0);

	char *layers[] = {digest, NULL};
	rt_image_t img = {.ref = "t:latest", .layers = layers, .nlayers = 1};
	char layout[PATH_MAX], ldir[PATH_MAX];
	path_in(layout, "layout");
	path_in(ldir, "layers");
	rt_error_t err = {0};
	if (rt_image_unpack(&img, layout, ldir, &err) != 0)
		fail_msg("%s", err.msg);
	snprintf(p, sizeof(p), "layers/%s/hello", digest + 7);
	assert_true(exists(p));
	snprintf(p, sizeof(p), "layers/%s/marker", digest + 7);
	char full[PATH_MAX];
	path_in(full, p);
	assert_int_equal(close(open(full, O_CREAT | O_WRONLY, 0644)), 0);
	assert_int_equal(rt_image_unpack(&img, layout, ldir, &err), 0);
	assert_true(exists(p)); /* not unpacked again */

	/* a corrupt blob: error, and no temporary directory left */
	char bad[72];
	strcpy(bad, digest);
	bad[20] = bad[20] == 'a' ? 'b' : 'a';
	snprintf(p, sizeof(p), "%s/layout/blobs/sha256/%s", tmpdir, bad + 7);
	assert_int_equal(link(q, p), 0);
	layers[0] = bad;
	assert_int_equal(rt_image_unpack(&img, layout, ldir, &err), -1);
	assert_non_null(strstr(err.msg, "digest mismatch"));
	assert_non_null(strstr(err.msg, "image `t:latest`"));
	int n = 0;
	char cmd[PATH_MAX + 64];
	snprintf(cmd, sizeof(cmd), "ls -A %s | grep -c tmp", ldir);
	FILE *f = popen(cmd, "r");
	assert_int_equal(fscanf(f, "%d", &n), 1);
	pclose(f);
	assert_int_equal(n, 0);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_regular_layer_keeps_modes_and_owners), T(test_dotdot_and_absolute_refused),
	    T(test_absolute_symlink_kept_never_followed), T(test_devices_refused),
	    T(test_whiteouts_become_overlay_whiteouts),	  T(test_digest_and_size_checked),
	    T(test_image_unpack_atomic_and_skips),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
