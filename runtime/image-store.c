/* The content store seen from outside a pull: listing what it holds, and
 * importing an OCI image layout packed as a tar (`skopeo copy ...
 * oci-archive:FILE`, or `tar -C layout -c .`).
 *
 * An import is as careful as a pull: the tar is read entry by entry, only
 * oci-layout, index.json and blobs/sha256/<hex> regular files are taken
 * (anything else is refused), every blob is hashed as it is written to a
 * staging directory and must match its name, every named image must resolve
 * in the staging layout with all its layers present, and only then are blobs
 * renamed into the store and names added to its index.json.
 */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/image-internal.h"

#define REF_NAME_ANNOTATION "org.opencontainers.image.ref.name"

void rt_image_list_free(rt_image_info_t *v, size_t n)
{
	for (size_t i = 0; v != NULL && i < n; i++) {
		free(v[i].name);
		free(v[i].digest);
	}
	free(v);
}

/* Lists the named images of layout; see runtime.h. */
int rt_image_list(const char *layout, rt_image_info_t **out, size_t *n, rt_error_t *err)
{
	*out = NULL;
	*n = 0;
	char path[PATH_MAX];
	if (snprintf(path, sizeof(path), "%s/index.json", layout) >= (int)sizeof(path))
		return rt_error_set(err, ENAMETOOLONG, "image layout `%s`", layout);
	json_error_t jerr;
	json_t *index = json_load_file(path, 0, &jerr);
	if (index == NULL) {
		if (access(path, F_OK) < 0 && errno == ENOENT)
			return 0; /* nothing pulled yet */
		return rt_error_set(err, EINVAL, "reading `%s`: %s", path, jerr.text);
	}
	json_t *mans = json_object_get(index, "manifests");
	rt_image_info_t *v = calloc(json_array_size(mans) + 1, sizeof(*v));
	if (v == NULL)
		abort();
	size_t i, k = 0;
	json_t *d;
	json_array_foreach(mans, i, d)
	{
		const char *name = json_string_value(
		    json_object_get(json_object_get(d, "annotations"), REF_NAME_ANNOTATION));
		const char *digest = json_string_value(json_object_get(d, "digest"));
		if (name == NULL || digest == NULL)
			continue;
		rt_image_info_t *e = &v[k++];
		if ((e->name = strdup(name)) == NULL || (e->digest = strdup(digest)) == NULL)
			abort();
		rt_image_t *img = NULL;
		rt_error_t ign;
		e->size = -1;
		if (rt_image_resolve(layout, name, &img, &ign) == 0) {
			e->size = img->size;
			rt_image_free(img);
		}
	}
	json_decref(index);
	*out = v;
	*n = k;
	return 0;
}

/* "./blobs/sha256/x" -> "blobs/sha256/x"; trailing slashes dropped. */
static void clean_name(const char *in, char *out, size_t size)
{
	while (in[0] == '.' && in[1] == '/')
		in += 2;
	snprintf(out, size, "%s", in);
	size_t n = strlen(out);
	while (n > 0 && out[n - 1] == '/')
		out[--n] = '\0';
}

/* Copies the entry's data into fd, hashing it; bounded by max bytes. */
static int copy_entry(struct archive *a, int fd, rt__sha256_t *h, int64_t max, const char *what,
		      rt_error_t *err)
{
	int64_t total = 0;
	for (;;) {
		const void *buf;
		size_t len;
		la_int64_t off;
		int r = archive_read_data_block(a, &buf, &len, &off);
		if (r == ARCHIVE_EOF)
			return 0;
		if (r < ARCHIVE_OK)
			return rt_error_set(err, EINVAL, "reading `%s` from the archive: %s", what,
					    archive_error_string(a));
		if (off != total) /* a sparse entry: blobs are never sparse */
			return rt_error_set(err, EINVAL, "`%s` in the archive is sparse", what);
		total += (int64_t)len;
		if (total > max)
			return rt_error_set(err, EFBIG, "`%s` in the archive is over %lld bytes",
					    what, (long long)max);
		if (h != NULL)
			rt__sha256_update(h, buf, len);
		const char *p = buf;
		while (len > 0) {
			ssize_t n = write(fd, p, len);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return rt_error_set(err, errno, "writing `%s`", what);
			p += n;
			len -= (size_t)n;
		}
	}
}

/* Extracts the layout in tar into dir (an empty directory), verifying blobs. */
static int extract_layout(const char *tar, const char *dir, rt_error_t *err)
{
	struct archive *a = archive_read_new();
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	if (archive_read_open_filename(a, tar, 64 * 1024) != ARCHIVE_OK) {
		rt_error_set(err, 0, "opening `%s`: %s", tar, archive_error_string(a));
		if (err != NULL)
			err->errnum = EINVAL;
		archive_read_free(a);
		return -1;
	}
	char blobs[PATH_MAX];
	rt__pathf(blobs, "%s/blobs", dir);
	mkdir(blobs, 0755);
	rt__pathf(blobs, "%s/blobs/sha256", dir);
	mkdir(blobs, 0755);
	int ret = 0;
	struct archive_entry *e;
	while (ret == 0) {
		int r = archive_read_next_header(a, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			ret = rt_error_set(err, EINVAL, "reading `%s`: %s", tar,
					   archive_error_string(a));
			break;
		}
		char name[PATH_MAX];
		clean_name(archive_entry_pathname(e), name, sizeof(name));
		mode_t type = archive_entry_filetype(e);
		if (name[0] == '\0' || strcmp(name, ".") == 0 || strcmp(name, "blobs") == 0 ||
		    strcmp(name, "blobs/sha256") == 0) {
			if (type != AE_IFDIR)
				ret = rt_error_set(err, EINVAL, "`%s` in `%s` is not a directory",
						   name, tar);
			continue;
		}
		bool is_blob = strncmp(name, "blobs/sha256/", 13) == 0;
		char digest[80];
		snprintf(digest, sizeof(digest), "sha256:%.70s", is_blob ? name + 13 : "");
		if (!(is_blob && rt__digest_hex(digest, NULL) == 0) &&
		    strcmp(name, "index.json") != 0 && strcmp(name, "oci-layout") != 0) {
			ret = rt_error_set(err, EINVAL,
					   "`%s` in `%s`: an OCI image layout archive holds only "
					   "oci-layout, index.json and blobs/sha256/<hex>",
					   name, tar);
			break;
		}
		if (type != AE_IFREG) {
			ret = rt_error_set(err, EINVAL, "`%s` in `%s` is not a regular file", name,
					   tar);
			break;
		}
		char path[PATH_MAX];
		if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path)) {
			ret = rt_error_set(err, ENAMETOOLONG, "extracting `%s`", name);
			break;
		}
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (fd < 0) {
			ret = rt_error_set(err, errno, "creating `%s`", path);
			break;
		}
		rt__sha256_t *h = is_blob ? rt__sha256_new() : NULL;
		ret = copy_entry(a, fd, h, is_blob ? RT_LAYER_MAX_BYTES : RT_JSON_BLOB_MAX, name,
				 err);
		if (close(fd) < 0 && ret == 0)
			ret = rt_error_set(err, errno, "writing `%s`", path);
		if (h != NULL) {
			char actual[72];
			rt__sha256_final(h, actual);
			if (ret == 0 && strcmp(actual, digest) != 0)
				ret = rt_error_set(
				    err, 0, "blob %s in `%s`: digest mismatch: its content is %s",
				    digest, tar, actual);
		}
	}
	archive_read_free(a);
	return ret;
}

/* Moves every blob of staging into store (already present ones stay). */
static int move_blobs(const char *staging, const char *store, rt_error_t *err)
{
	char sdir[PATH_MAX], ddir[PATH_MAX];
	rt__pathf(sdir, "%s/blobs/sha256", staging);
	rt__pathf(ddir, "%s/blobs/sha256", store);
	DIR *d = opendir(sdir);
	if (d == NULL)
		return rt_error_set(err, errno, "opening `%s`", sdir);
	struct dirent *e;
	int ret = 0;
	while (ret == 0 && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char from[PATH_MAX], to[PATH_MAX];
		if (snprintf(from, sizeof(from), "%s/%s", sdir, e->d_name) >= (int)sizeof(from) ||
		    snprintf(to, sizeof(to), "%s/%s", ddir, e->d_name) >= (int)sizeof(to)) {
			ret = rt_error_set(err, ENAMETOOLONG, "moving blob `%s`", e->d_name);
			break;
		}
		if (rename(from, to) < 0)
			ret = rt_error_set(err, errno, "moving blob `%s` to `%s`", from, to);
	}
	closedir(d);
	return ret;
}

/* Imports the OCI layout tar into opts->store_dir; see runtime.h. */
int rt_image_import(const rt_pull_opts_t *opts, const char *tar, char ***names, size_t *nnames,
		    rt_error_t *err)
{
	*names = NULL;
	*nnames = 0;
	const char *store = opts->store_dir;
	char p[PATH_MAX], staging[PATH_MAX];
	if (strlen(store) > PATH_MAX - 256)
		return rt_error_set(err, ENAMETOOLONG, "content store path too long");
	if (rt__store_init(store, err) < 0)
		return -1;
	rt__pathf(staging, "%s/tmp/import-XXXXXX", store);
	if (mkdtemp(staging) == NULL)
		return rt_error_set(err, errno, "creating `%s`", staging);

	int ret = extract_layout(tar, staging, err);
	json_t *index = NULL;
	if (ret == 0) {
		rt__pathf(p, "%s/index.json", staging);
		json_error_t jerr;
		index = json_load_file(p, 0, &jerr);
		if (index == NULL || !json_is_array(json_object_get(index, "manifests")))
			ret = rt_error_set(err, EINVAL, "`%s`: no valid index.json: %s", tar,
					   index == NULL ? jerr.text : "manifests is not an array");
	}
	/* every named image must resolve in the staging layout, layers present */
	size_t i, count = 0;
	json_t *d;
	char **out = NULL;
	if (ret == 0) {
		out = calloc(json_array_size(json_object_get(index, "manifests")) + 1,
			     sizeof(char *));
		if (out == NULL)
			abort();
	}
	json_array_foreach(ret == 0 ? json_object_get(index, "manifests") : NULL, i, d)
	{
		const char *name = json_string_value(
		    json_object_get(json_object_get(d, "annotations"), REF_NAME_ANNOTATION));
		if (name == NULL)
			continue;
		rt_imageref_t ref;
		rt_image_t *img = NULL;
		if (rt_imageref_parse(name, opts->default_registry, &ref, err) < 0) {
			ret = rt_error_wrap(err, "`%s`", tar);
			break;
		}
		if (rt_image_resolve(staging, name, &img, err) < 0) {
			rt_imageref_clear(&ref);
			ret = rt_error_wrap(err, "`%s`", tar);
			break;
		}
		for (size_t k = 0; ret == 0 && k < img->nlayers; k++) {
			char *blob = rt__blob_path(staging, img->layers[k]);
			struct stat st;
			if (stat(blob, &st) < 0)
				ret = rt_error_set(err, ENOENT,
						   "`%s`: image `%s`: layer %s is missing", tar,
						   name, img->layers[k]);
			free(blob);
		}
		rt_image_free(img);
		if (ret == 0)
			out[count++] = ref.name; /* canonical; d's digest follows */
		else
			free(ref.name);
		ref.name = NULL;
		rt_imageref_clear(&ref);
		if (ret < 0)
			break;
	}
	if (ret == 0 && count == 0)
		ret =
		    rt_error_set(err, EINVAL, "`%s`: index.json names no image (no %s annotation)",
				 tar, REF_NAME_ANNOTATION);
	if (ret == 0)
		ret = move_blobs(staging, store, err);
	if (ret == 0) {
		size_t k = 0;
		json_array_foreach(json_object_get(index, "manifests"), i, d)
		{
			const char *name = json_string_value(json_object_get(
			    json_object_get(d, "annotations"), REF_NAME_ANNOTATION));
			if (name == NULL)
				continue;
			const char *mt = json_string_value(json_object_get(d, "mediaType"));
			json_t *size = json_object_get(d, "size");
			if (rt__index_update(store, out[k++],
					     mt ? mt : "application/vnd.oci.image.manifest.v1+json",
					     json_string_value(json_object_get(d, "digest")),
					     json_integer_value(size), err) < 0) {
				ret = -1;
				break;
			}
		}
	}
	json_decref(index);
	rt_error_t ign;
	rt__remove_tree(staging, &ign);
	if (ret < 0) {
		for (size_t k = 0; out != NULL && k < count; k++)
			free(out[k]);
		free(out);
		return ret;
	}
	*names = out;
	*nnames = count;
	return 0;
}
