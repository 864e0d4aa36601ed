/* Layer unpacking with libarchive: tar layers (gzip'd or plain; libarchive
 * detects the compression), verified against their digest while they are
 * read, written into a fresh directory that is renamed into place.
 *
 * Safety: entries with absolute paths, ".." components, or a path through a
 * symlink are refused (our own checks, plus libarchive's SECURE_* flags), as
 * are block and character devices other than overlay whiteouts (char 0/0);
 * trusted.* xattrs from the archive are dropped (they would steer overlayfs).
 * Extraction runs on a helper thread that unshare(CLONE_FS)es and chdir()s into
 * the layer directory, so relative paths resolve there without moving the
 * working directory of any other thread.
 *
 * Whiteouts are converted to overlayfs form: ".wh.NAME" becomes a character
 * device 0/0 named NAME, ".wh..wh..opq" sets trusted.overlay.opaque="y" on its
 * directory. Other ".wh..wh.*" entries (aufs metadata) are skipped.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "runtime/image-internal.h"

#define READ_CHUNK (128 * 1024)

/* The blob, hashed as libarchive reads it. */
struct blob_reader {
	int fd;
	rt__sha256_t *hash;
	char buf[READ_CHUNK];
	int64_t total;
};

static la_ssize_t blob_read(struct archive *a, void *data, const void **out)
{
	struct blob_reader *r = data;
	ssize_t n;
	do
		n = read(r->fd, r->buf, sizeof(r->buf));
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		archive_set_error(a, errno, "reading layer blob");
		return -1;
	}
	rt__sha256_update(r->hash, r->buf, (size_t)n);
	r->total += n;
	*out = r->buf;
	return n;
}

/* Reads what libarchive left unread (tar padding, gzip trailer) into the hash. */
static int blob_drain(struct blob_reader *r)
{
	for (;;) {
		ssize_t n = read(r->fd, r->buf, sizeof(r->buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		rt__sha256_update(r->hash, r->buf, (size_t)n);
		r->total += n;
	}
}

/* 0 when path is relative and has no ".." component. */
static int check_path(const char *path)
{
	if (path == NULL || path[0] == '/')
		return -1;
	const char *p = path;
	while (*p) {
		size_t len = strcspn(p, "/");
		if (len == 2 && p[0] == '.' && p[1] == '.')
			return -1;
		p += len;
		while (*p == '/')
			p++;
	}
	return 0;
}

/* Opens directory rel (relative to the cwd, the layer root) one component
 * at a time without following symlinks, creating missing directories 0755.
 * Returns an O_RDONLY directory fd, or -errno (ELOOP/ENOTDIR for symlinks). */
static int open_dir_nofollow(const char *rel)
{
	int fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	char *copy = strdup(rel), *save = NULL;
	if (copy == NULL)
		abort();
	for (char *c = strtok_r(copy, "/", &save); c != NULL; c = strtok_r(NULL, "/", &save)) {
		if (strcmp(c, ".") == 0)
			continue;
		if (mkdirat(fd, c, 0755) < 0 && errno != EEXIST) {
			int e = errno;
			close(fd);
			free(copy);
			return -e;
		}
		int next = openat(fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int e = errno;
		close(fd);
		if (next < 0) {
			free(copy);
			return -e;
		}
		fd = next;
	}
	free(copy);
	return fd;
}

/* Applies a whiteout entry at path (whose basename starts with ".wh."). */
static int apply_whiteout(const char *path, rt_error_t *err)
{
	char *dir = strdup(path);
	if (dir == NULL)
		abort();
	char *slash = strrchr(dir, '/');
	const char *base = slash ? slash + 1 : dir;
	if (slash)
		*slash = '\0';
	const char *parent = slash ? dir : ".";
	int ret = 0;
	int fd = open_dir_nofollow(parent);
	if (fd < 0) {
		ret = rt_error_set(err, -fd, "whiteout `%s`: opening its directory", path);
		goto out;
	}
	if (strcmp(base, ".wh..wh..opq") == 0) {
		if (fsetxattr(fd, "trusted.overlay.opaque", "y", 1, 0) < 0)
			ret = rt_error_set(err, errno,
					   "opaque whiteout `%s`: setting "
					   "trusted.overlay.opaque",
					   path);
	} else {
		const char *name = base + 4;
		if (*name == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
			ret = rt_error_set(err, EINVAL, "invalid whiteout `%s`", path);
		} else if (mknodat(fd, name, S_IFCHR | 0, makedev(0, 0)) < 0) {
			struct stat st;
			if (errno != EEXIST || fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
			    !S_ISCHR(st.st_mode) || st.st_rdev != makedev(0, 0))
				ret = rt_error_set(err, errno,
						   "whiteout `%s`: creating overlay "
						   "whiteout",
						   path);
		}
	}
	close(fd);
out:
	free(dir);
	return ret;
}

/* Drops trusted.* xattrs (overlayfs reads trusted.overlay.*) from an entry. */
static void filter_xattrs(struct archive_entry *e)
{
	if (archive_entry_xattr_reset(e) == 0)
		return;
	struct kept {
		char *name;
		void *value;
		size_t size;
	} kept[64];
	int n = 0;
	bool dropped = false;
	const char *name;
	const void *value;
	size_t size;
	while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
		if (strncmp(name, "trusted.", 8) == 0 || n == 64) {
			dropped = true;
			continue;
		}
		kept[n].name = strdup(name);
		kept[n].value = malloc(size ? size : 1);
		if (kept[n].name == NULL || kept[n].value == NULL)
			abort();
		memcpy(kept[n].value, value, size);
		kept[n].size = size;
		n++;
	}
	if (dropped) {
		archive_entry_xattr_clear(e);
		for (int i = 0; i < n; i++)
			archive_entry_xattr_add_entry(e, kept[i].name, kept[i].value, kept[i].size);
	}
	for (int i = 0; i < n; i++) {
		free(kept[i].name);
		free(kept[i].value);
	}
}

/* Decides what to do with one entry: 1 write it, 0 handled/skipped, -1 error. */
static int vet_entry(struct archive_entry *e, rt_error_t *err)
{
	const char *path = archive_entry_pathname(e);
	if (check_path(path) < 0)
		return rt_error_set(err, EPERM, "entry `%s`: absolute path or `..` refused",
				    path ? path : "");
	const char *hl = archive_entry_hardlink(e);
	if (hl != NULL && check_path(hl) < 0)
		return rt_error_set(err, EPERM, "entry `%s`: hard link to `%s` refused", path, hl);
	/* aufs metadata (".wh..wh.plnk/...") anywhere in the path: skipped */
	if (strncmp(path, ".wh..wh.", 8) == 0 || strstr(path, "/.wh..wh.") != NULL) {
		const char *opq = strstr(path, ".wh..wh..opq");
		if (opq == NULL || opq[12] != '\0')
			return 0;
	}
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	if (strncmp(base, ".wh.", 4) == 0)
		return apply_whiteout(path, err) < 0 ? -1 : 0;
	mode_t type = archive_entry_filetype(e);
	if (type == AE_IFBLK || (type == AE_IFCHR && archive_entry_rdev(e) != makedev(0, 0)))
		return rt_error_set(err, EPERM,
				    "entry `%s`: device nodes are not allowed in layers", path);
	if (type == AE_IFSOCK)
		return 0;
	filter_xattrs(e);
	return 1;
}

struct unpack_job {
	const char *blob, *digest, *dest;
	int64_t max_bytes;
	rt_error_t err;
	int ret;
};

static int copy_data(struct archive *in, struct archive *out, const char *path, rt_error_t *err)
{
	for (;;) {
		const void *buf;
		size_t size;
		la_int64_t off;
		int r = archive_read_data_block(in, &buf, &size, &off);
		if (r == ARCHIVE_EOF)
			return 0;
		if (r < ARCHIVE_WARN)
			return rt_error_set(err, archive_errno(in), "entry `%s`: reading: %s", path,
					    archive_error_string(in));
		if (archive_write_data_block(out, buf, size, off) < ARCHIVE_WARN)
			return rt_error_set(err, archive_errno(out), "entry `%s`: writing: %s",
					    path, archive_error_string(out));
	}
}

static int extract(struct unpack_job *job, struct blob_reader *rd)
{
	rt_error_t *err = &job->err;
	struct archive *in = archive_read_new(), *out = archive_write_disk_new();
	if (in == NULL || out == NULL)
		abort();
	archive_read_support_filter_all(in);
	archive_read_support_format_tar(in);
	archive_write_disk_set_options(
	    out, ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME |
		     ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
		     ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS);
	int ret = -1;
	if (archive_read_open(in, rd, NULL, blob_read, NULL) != ARCHIVE_OK) {
		rt_error_set(err, archive_errno(in), "opening: %s", archive_error_string(in));
		goto out;
	}
	int64_t total = 0;
	for (;;) {
		struct archive_entry *e;
		int r = archive_read_next_header(in, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			rt_error_set(err, archive_errno(in), "reading: %s",
				     archive_error_string(in));
			goto out;
		}
		const char *path = archive_entry_pathname(e);
		/* "./" or "." is the layer root itself: nothing to write */
		if (path != NULL && (strcmp(path, ".") == 0 || strcmp(path, "./") == 0))
			continue;
		int v = vet_entry(e, err);
		if (v < 0)
			goto out;
		if (v == 0)
			continue;
		total += archive_entry_size(e) > 0 ? archive_entry_size(e) : 0;
		if (total > job->max_bytes) {
			rt_error_set(err, EFBIG,
				     "unpacked size over the %lld byte limit (the maximum layer "
				     "size)",
				     (long long)job->max_bytes);
			goto out;
		}
		r = archive_write_header(out, e);
		if (r < ARCHIVE_WARN) {
			rt_error_set(err, archive_errno(out), "entry `%s`: %s", path,
				     archive_error_string(out));
			goto out;
		}
		if (archive_entry_size(e) > 0 && copy_data(in, out, path, err) < 0)
			goto out;
		if (archive_write_finish_entry(out) < ARCHIVE_WARN) {
			rt_error_set(err, archive_errno(out), "entry `%s`: %s", path,
				     archive_error_string(out));
			goto out;
		}
	}
	/* Deferred directory modes and times are applied on close. */
	if (archive_write_close(out) < ARCHIVE_WARN) {
		rt_error_set(err, archive_errno(out), "finishing: %s", archive_error_string(out));
		goto out;
	}
	ret = 0;
out:
	archive_read_free(in);
	archive_write_free(out);
	return ret;
}

static void *unpack_thread(void *arg)
{
	struct unpack_job *job = arg;
	job->ret = -1;
	/* Own cwd for this thread only, then work relative to the layer root. */
	if (unshare(CLONE_FS) < 0) {
		rt_error_set(&job->err, errno, "unshare(CLONE_FS)");
		return NULL;
	}
	if (chdir(job->dest) < 0) {
		rt_error_set(&job->err, errno, "entering `%s`", job->dest);
		return NULL;
	}
	umask(022);
	struct blob_reader *rd = malloc(sizeof(*rd));
	if (rd == NULL)
		abort();
	rd->total = 0;
	rd->fd = open(job->blob, O_RDONLY | O_CLOEXEC);
	if (rd->fd < 0) {
		rt_error_set(&job->err, errno, "opening blob `%s`", job->blob);
		free(rd);
		return NULL;
	}
	rd->hash = rt__sha256_new();
	int r = extract(job, rd);
	int d = r == 0 ? blob_drain(rd) : 0;
	char actual[72];
	rt__sha256_final(rd->hash, actual);
	close(rd->fd);
	free(rd);
	if (r == 0 && d < 0)
		r = rt_error_set(&job->err, -d, "reading blob `%s`", job->blob);
	/* A digest mismatch wins over whatever else went wrong: it says why. */
	if (d == 0 && r == 0 && strcmp(actual, job->digest) != 0)
		r = rt_error_set(&job->err, 0, "digest mismatch: expected %s, got %s", job->digest,
				 actual);
	job->ret = r;
	return NULL;
}

int rt__unpack_layer(const char *blob, const char *digest, const char *dest, int64_t max_bytes,
		     rt_error_t *err)
{
	struct unpack_job job = {
	    .blob = blob, .digest = digest, .dest = dest, .max_bytes = max_bytes, .ret = -1};
	pthread_t th;
	int r = pthread_create(&th, NULL, unpack_thread, &job);
	if (r != 0)
		return rt_error_set(err, r, "layer %s: starting the unpack thread", digest);
	pthread_join(th, NULL);
	if (job.ret < 0) {
		if (err != NULL)
			*err = job.err;
		return rt_error_wrap(err, "unpacking layer %s", digest);
	}
	return 0;
}

/* Unpacks each missing layer of img into layers_dir/<hex>; see runtime.h. */
int rt_image_unpack(const rt_image_t *img, const char *layout_dir, const char *layers_dir,
		    rt_error_t *err)
{
	return rt_image_unpack_limit(img, layout_dir, layers_dir, 0, err);
}

/* rt_image_unpack with a per-layer limit; see runtime.h. */
int rt_image_unpack_limit(const rt_image_t *img, const char *layout_dir, const char *layers_dir,
			  int64_t max_layer_bytes, rt_error_t *err)
{
	if (max_layer_bytes <= 0)
		max_layer_bytes = RT_LAYER_MAX_BYTES;
	if (mkdir(layers_dir, 0755) < 0 && errno != EEXIST)
		return rt_error_set(err, errno, "creating layers directory `%s`", layers_dir);
	for (size_t i = 0; i < img->nlayers; i++) {
		const char *digest = img->layers[i], *hex;
		if (rt__digest_hex(digest, &hex) < 0)
			return rt_error_set(err, EINVAL,
					    "image `%s`: unsupported layer digest `%s`", img->ref,
					    digest);
		char final[PATH_MAX], tmp[PATH_MAX];
		snprintf(final, sizeof(final), "%s/%s", layers_dir, hex);
		struct stat st;
		if (stat(final, &st) == 0 && S_ISDIR(st.st_mode))
			continue;
		snprintf(tmp, sizeof(tmp), "%s/.tmp-%s-XXXXXX", layers_dir, hex);
		if (mkdtemp(tmp) == NULL)
			return rt_error_set(err, errno, "creating `%s`", tmp);
		chmod(tmp, 0755);
		char *blob = rt__blob_path(layout_dir, digest);
		int r = rt__unpack_layer(blob, digest, tmp, max_layer_bytes, err);
		free(blob);
		if (r == 0 && rename(tmp, final) < 0) {
			if (errno != EEXIST && errno != ENOTEMPTY)
				r = rt_error_set(err, errno, "renaming `%s` to `%s`", tmp, final);
			/* else another unpacker finished first: keep theirs */
		}
		rt_error_t rmerr;
		if (access(tmp, F_OK) == 0)
			rt__remove_tree(tmp, &rmerr);
		if (r < 0)
			return rt_error_wrap(err, "image `%s`", img->ref);
	}
	return 0;
}
