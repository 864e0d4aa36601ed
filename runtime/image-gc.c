/* Image garbage collection in the content store, the way kubelet does it:
 * when the filesystem holding the store is at or above a high-water mark,
 * images no pod uses are removed, least recently used first, until the bytes
 * freed bring it down to the low-water mark.
 *
 * Removing an image drops its index.json entry (the index rewritten under
 * flock(index.lock), through a temporary file and a rename), then every blob
 * it reaches (manifest, index children, config, layers) that no remaining
 * image reaches, and the unpacked directory of each such layer unless another
 * layout the caller names (--image-dir) still uses that layer.
 *
 * Only entries a pull or an import added (RT_IMAGE_ADDED_ANNOTATION) are
 * candidates. Last use is an annotation on the index entry
 * (RT_IMAGE_LAST_USED_ANNOTATION, seconds since the epoch) that rt_image_touch
 * sets and every collection refreshes for images in use; without it, the
 * time it was added (or the manifest blob's mtime) stands in.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "runtime/image-internal.h"

#define REF_NAME_ANNOTATION "org.opencontainers.image.ref.name"

/* A growable set of digest strings (linear: images have few blobs). */
typedef struct dset {
	char **v;
	size_t n, cap;
} dset_t;

static bool dset_has(const dset_t *s, const char *d)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i], d) == 0)
			return true;
	return false;
}

static void dset_add(dset_t *s, const char *d)
{
	if (d == NULL || dset_has(s, d))
		return;
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->v = realloc(s->v, s->cap * sizeof(char *));
		if (s->v == NULL)
			abort();
	}
	if ((s->v[s->n++] = strdup(d)) == NULL)
		abort();
}

static void dset_clear(dset_t *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* Adds digest and everything its blob reaches in layout to s. */
static void reach(const char *layout, const char *digest, int depth, dset_t *s)
{
	if (digest == NULL || rt__digest_hex(digest, NULL) < 0 || depth > 4)
		return;
	dset_add(s, digest);
	char *path = rt__blob_path(layout, digest);
	struct stat st;
	if (path == NULL || stat(path, &st) < 0 || st.st_size > RT_JSON_BLOB_MAX) {
		free(path);
		return;
	}
	json_t *doc = json_load_file(path, 0, NULL);
	free(path);
	if (doc == NULL)
		return;
	size_t i;
	json_t *d;
	json_array_foreach(json_object_get(doc, "manifests"), i, d)
	    reach(layout, json_string_value(json_object_get(d, "digest")), depth + 1, s);
	dset_add(s, json_string_value(json_object_get(json_object_get(doc, "config"), "digest")));
	json_array_foreach(json_object_get(doc, "layers"), i, d)
	    dset_add(s, json_string_value(json_object_get(d, "digest")));
	json_decref(doc);
}

/* Every digest reachable from the entries of layout's index.json. */
static void reach_layout(const char *layout, dset_t *s)
{
	char path[PATH_MAX];
	if (snprintf(path, sizeof(path), "%s/index.json", layout) >= (int)sizeof(path))
		return;
	json_t *index = json_load_file(path, 0, NULL);
	size_t i;
	json_t *d;
	json_array_foreach(json_object_get(index, "manifests"), i, d)
	    reach(layout, json_string_value(json_object_get(d, "digest")), 0, s);
	json_decref(index);
}

static _Thread_local int64_t tree_bytes;
static int add_size(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)p, (void)flag, (void)f;
	tree_bytes += (int64_t)st->st_blocks * 512;
	return 0;
}

/* Bytes a path occupies on disk (a tree is walked without crossing mounts). */
static int64_t disk_bytes(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return 0;
	if (!S_ISDIR(st.st_mode))
		return (int64_t)st.st_blocks * 512;
	tree_bytes = 0;
	nftw(path, add_size, 16, FTW_PHYS | FTW_MOUNT);
	return tree_bytes;
}

static int statvfs_usage(void *arg, const char *path, uint64_t *used, uint64_t *total)
{
	(void)arg;
	struct statvfs sv;
	if (statvfs(path, &sv) < 0)
		return -1;
	*total = (uint64_t)sv.f_blocks * sv.f_frsize;
	*used = *total - (uint64_t)sv.f_bavail * sv.f_frsize;
	return 0;
}

typedef struct entry {
	json_t *desc; /* borrowed from the index */
	const char *name;
	int64_t last_used;
	bool in_use;
	bool removed;
	dset_t reach;
} entry_t;

static int cmp_lru(const void *a, const void *b)
{
	const entry_t *x = *(entry_t *const *)a, *y = *(entry_t *const *)b;
	if (x->last_used != y->last_used)
		return x->last_used < y->last_used ? -1 : 1;
	return strcmp(x->name, y->name);
}

static bool name_in_use(const rt_image_gc_opts_t *o, const char *name)
{
	for (size_t i = 0; o->in_use != NULL && o->in_use[i] != NULL; i++) {
		if (strcmp(o->in_use[i], name) == 0)
			return true;
		rt_imageref_t r;
		rt_error_t ign;
		if (rt_imageref_parse(o->in_use[i], o->default_registry, &r, &ign) < 0)
			continue;
		bool same = strcmp(r.name, name) == 0;
		rt_imageref_clear(&r);
		if (same)
			return true;
	}
	return false;
}

static int write_index(const char *store, json_t *index, rt_error_t *err)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	if (snprintf(path, sizeof(path), "%s/index.json", store) >= (int)sizeof(path) ||
	    snprintf(tmp, sizeof(tmp), "%s/.index.json.gc.%d", store, (int)getpid()) >=
		(int)sizeof(tmp))
		return rt_error_set(err, ENAMETOOLONG, "content store `%s`", store);
	if (json_dump_file(index, tmp, JSON_INDENT(2) | JSON_SORT_KEYS) < 0) {
		unlink(tmp);
		return rt_error_set(err, errno ? errno : EIO, "writing `%s`", tmp);
	}
	if (rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		return rt_error_set(err, e, "renaming `%s` to `%s`", tmp, path);
	}
	return 0;
}

static int lock_store(const char *store, rt_error_t *err)
{
	char lock[PATH_MAX];
	if (snprintf(lock, sizeof(lock), "%s/index.lock", store) >= (int)sizeof(lock))
		return rt_error_set(err, ENAMETOOLONG, "content store `%s`", store);
	int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return rt_error_set(err, errno, "opening `%s`", lock);
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR) {
			int e = errno;
			close(fd);
			return rt_error_set(err, e, "locking `%s`", lock);
		}
	return fd;
}

static int64_t entry_last_used(const char *store, json_t *desc)
{
	const char *s = json_string_value(
	    json_object_get(json_object_get(desc, "annotations"), RT_IMAGE_LAST_USED_ANNOTATION));
	for (int k = 0; k < 2; k++) {
		if (k == 1)
			s = json_string_value(json_object_get(json_object_get(desc, "annotations"),
							      RT_IMAGE_ADDED_ANNOTATION));
		if (s == NULL)
			continue;
		char *end;
		long long v = strtoll(s, &end, 10);
		if (end != s && *end == '\0')
			return v;
	}
	char *path = rt__blob_path(store, json_string_value(json_object_get(desc, "digest")));
	struct stat st;
	int64_t t = 0;
	if (path != NULL && stat(path, &st) == 0)
		t = st.st_mtime;
	free(path);
	return t;
}

static void set_last_used(json_t *desc, int64_t t)
{
	json_t *ann = json_object_get(desc, "annotations");
	if (!json_is_object(ann)) {
		ann = json_object();
		json_object_set_new(desc, "annotations", ann);
	}
	char buf[32];
	snprintf(buf, sizeof(buf), "%lld", (long long)t);
	json_object_set_new(ann, RT_IMAGE_LAST_USED_ANNOTATION, json_string(buf));
}

/* Removes the blobs (and unpacked layers) e reaches that nothing left keeps. */
static int64_t remove_unshared(const rt_image_gc_opts_t *o, entry_t *ents, size_t n, entry_t *e,
			       const dset_t *other_layouts)
{
	int64_t freed = 0;
	for (size_t k = 0; k < e->reach.n; k++) {
		const char *d = e->reach.v[k];
		bool kept = false;
		for (size_t i = 0; i < n && !kept; i++)
			kept = !ents[i].removed && dset_has(&ents[i].reach, d);
		if (kept)
			continue;
		char *blob = rt__blob_path(o->store_dir, d);
		if (blob != NULL) {
			freed += disk_bytes(blob);
			unlink(blob);
			free(blob);
		}
		const char *hex;
		if (o->layers_dir == NULL || dset_has(other_layouts, d) ||
		    rt__digest_hex(d, &hex) < 0)
			continue;
		char dir[PATH_MAX];
		if (snprintf(dir, sizeof(dir), "%s/%s", o->layers_dir, hex) >= (int)sizeof(dir))
			continue;
		int64_t b = disk_bytes(dir);
		rt_error_t ign;
		if (rt__remove_tree(dir, &ign) == 0)
			freed += b;
	}
	return freed;
}

static void add_removed(rt_image_gc_result_t *res, const char *name)
{
	res->removed = realloc(res->removed, (res->nremoved + 2) * sizeof(char *));
	if (res->removed == NULL || (res->removed[res->nremoved] = strdup(name)) == NULL)
		abort();
	res->removed[++res->nremoved] = NULL;
}

void rt_image_gc_result_clear(rt_image_gc_result_t *res)
{
	for (size_t i = 0; res != NULL && i < res->nremoved; i++)
		free(res->removed[i]);
	if (res != NULL) {
		free(res->removed);
		memset(res, 0, sizeof(*res));
	}
}

/* Collects unused images of o->store_dir; see runtime.h. */
int rt_image_gc(const rt_image_gc_opts_t *o, rt_image_gc_result_t *res, rt_error_t *err)
{
	memset(res, 0, sizeof(*res));
	if (strlen(o->store_dir) > PATH_MAX - 256)
		return rt_error_set(err, ENAMETOOLONG, "content store path too long");
	/* Nothing pulled yet: nothing to collect, and the store directory (whose
	 * filesystem would be measured) may not exist. */
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/index.json", o->store_dir);
	if (access(path, F_OK) < 0)
		return 0;
	int64_t now = o->now ? o->now : (int64_t)time(NULL);
	int64_t target = INT64_MAX;
	if (!o->all) {
		if (o->high_pct >= 100 || o->high_pct < 0 || o->low_pct < 0 ||
		    o->low_pct > o->high_pct)
			return 0; /* disabled (or nonsense, refused by the caller's flags) */
		int (*usage)(void *, const char *, uint64_t *, uint64_t *) =
		    o->usage ? o->usage : statvfs_usage;
		if (usage(o->usage_arg, o->store_dir, &res->used, &res->total) < 0)
			return rt_error_set(err, errno, "measuring the filesystem of `%s`",
					    o->store_dir);
		if (res->total == 0 || res->used * 100 < (uint64_t)o->high_pct * res->total)
			target = 0;
		else
			target = (int64_t)(res->used - (uint64_t)o->low_pct * res->total / 100);
	}
	int lfd = lock_store(o->store_dir, err);
	if (lfd < 0)
		return -1;
	int ret = -1;
	json_error_t jerr;
	json_t *index = json_load_file(path, 0, &jerr);
	entry_t *ents = NULL, **order = NULL;
	size_t n = 0;
	dset_t others = {0};
	if (index == NULL || !json_is_array(json_object_get(index, "manifests"))) {
		rt_error_set(err, EINVAL, "reading `%s`: %s", path,
			     index ? "manifests is not an array" : jerr.text);
		goto out;
	}
	json_t *mans = json_object_get(index, "manifests");
	ents = calloc(json_array_size(mans) + 1, sizeof(*ents));
	order = calloc(json_array_size(mans) + 1, sizeof(*order));
	if (ents == NULL || order == NULL)
		abort();
	size_t i;
	json_t *d;
	bool dirty = false;
	json_array_foreach(mans, i, d)
	{
		entry_t *e = &ents[n++];
		e->desc = d;
		e->name = json_string_value(
		    json_object_get(json_object_get(d, "annotations"), REF_NAME_ANNOTATION));
		if (e->name == NULL)
			e->name = "";
		/* entries no pull or import added are kept: we do not know who put
		 * them there (an operator's images when --image-dir is the store) */
		bool ours = json_object_get(json_object_get(d, "annotations"),
					    RT_IMAGE_ADDED_ANNOTATION) != NULL;
		e->in_use = e->name[0] == '\0' || !ours || name_in_use(o, e->name);
		e->last_used = entry_last_used(o->store_dir, d);
		if (e->in_use && e->name[0] != '\0') {
			e->last_used = now;
			set_last_used(d, now);
			dirty = true;
		}
		reach(o->store_dir, json_string_value(json_object_get(d, "digest")), 0, &e->reach);
		order[i] = e;
	}
	for (size_t k = 0; o->keep_layouts != NULL && o->keep_layouts[k] != NULL; k++)
		if (strcmp(o->keep_layouts[k], o->store_dir) != 0)
			reach_layout(o->keep_layouts[k], &others);
	qsort(order, n, sizeof(*order), cmp_lru);
	if (dirty && write_index(o->store_dir, index, err) < 0)
		goto out;
	for (size_t k = 0; k < n && res->freed < target; k++) {
		entry_t *e = order[k];
		if (e->in_use)
			continue;
		/* drop the entry (by identity: names may repeat) and write the index
		 * first, so a crash leaves blobs without an image, never the reverse */
		for (size_t j = 0; j < json_array_size(mans); j++)
			if (json_array_get(mans, j) == e->desc) {
				json_incref(e->desc);
				json_array_remove(mans, j);
				break;
			}
		e->removed = true;
		if (write_index(o->store_dir, index, err) < 0) {
			json_decref(e->desc);
			e->desc = NULL;
			goto out;
		}
		res->freed += remove_unshared(o, ents, n, e, &others);
		add_removed(res, e->name);
		json_decref(e->desc);
		e->desc = NULL;
	}
	ret = 0;
out:
	for (size_t k = 0; k < n; k++)
		dset_clear(&ents[k].reach);
	dset_clear(&others);
	free(ents);
	free(order);
	json_decref(index);
	close(lfd);
	return ret;
}

/* Records that name was used now; see runtime.h. */
int rt_image_touch(const char *store, const char *name, rt_error_t *err)
{
	char path[PATH_MAX];
	if (snprintf(path, sizeof(path), "%s/index.json", store) >= (int)sizeof(path))
		return rt_error_set(err, ENAMETOOLONG, "content store `%s`", store);
	int lfd = lock_store(store, err);
	if (lfd < 0)
		return -1;
	int ret = 0;
	json_error_t jerr;
	json_t *index = json_load_file(path, 0, &jerr);
	if (index == NULL) {
		ret = rt_error_set(err, EINVAL, "reading `%s`: %s", path, jerr.text);
	} else {
		bool found = false;
		size_t i;
		json_t *d;
		json_array_foreach(json_object_get(index, "manifests"), i, d)
		{
			const char *n = json_string_value(json_object_get(
			    json_object_get(d, "annotations"), REF_NAME_ANNOTATION));
			if (n != NULL && strcmp(n, name) == 0) {
				set_last_used(d, (int64_t)time(NULL));
				found = true;
			}
		}
		if (!found)
			ret = rt_error_set(err, ENOENT, "no image `%s` in `%s`", name, store);
		else
			ret = write_index(store, index, err);
	}
	json_decref(index);
	close(lfd);
	return ret;
}
