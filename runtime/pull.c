/* Pulling an image into the content store, which is an OCI image layout:
 * blobs/sha256/<hex> plus index.json, whose entries carry the canonical name
 * in the org.opencontainers.image.ref.name annotation. So what a pull leaves
 * is read by rt_image_resolve and rt_image_unpack like any other layout.
 *
 * A pull downloads into its own staging directory (<store>/tmp/pull-XXXXXX),
 * every blob hashed and counted as it streams; only when every blob of the
 * image has been verified are they renamed into blobs/sha256 (layers and
 * config first, manifests last) and index.json rewritten (under flock, written
 * to a temporary file and renamed). A failure removes the staging directory,
 * so the store keeps nothing of it.
 *
 * Pulls of one name in one process are joined: the first does the work, the
 * others wait for its result (the in-flight table below).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "runtime/image-internal.h"

#define REF_NAME_ANNOTATION "org.opencontainers.image.ref.name"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define DEFAULT_MAX_BLOB (10LL * 1024 * 1024 * 1024)
#define PROGRESS_STEP (1024 * 1024)
#define STALE_SECS (24 * 3600)

/* ---- in-flight pulls ----------------------------------------------------------- */

struct inflight {
	struct inflight *next;
	char *key; /* "<store>\n<name>" */
	pthread_cond_t cond;
	bool done;
	int refs; /* the puller and its waiters */
	int ret;
	rt_error_t err;
};

static pthread_mutex_t inflight_mu = PTHREAD_MUTEX_INITIALIZER;
static struct inflight *inflight_head;

/* Returns the entry for key. *leader is true when the caller must pull. */
static struct inflight *inflight_join(const char *key, bool *leader)
{
	pthread_mutex_lock(&inflight_mu);
	struct inflight *f;
	for (f = inflight_head; f != NULL; f = f->next)
		if (strcmp(f->key, key) == 0)
			break;
	*leader = f == NULL;
	if (f == NULL) {
		f = calloc(1, sizeof(*f));
		if (f == NULL || (f->key = strdup(key)) == NULL)
			abort();
		pthread_cond_init(&f->cond, NULL);
		f->next = inflight_head;
		inflight_head = f;
	}
	f->refs++;
	pthread_mutex_unlock(&inflight_mu);
	return f;
}

static void inflight_unref_locked(struct inflight *f)
{
	if (--f->refs > 0)
		return;
	pthread_cond_destroy(&f->cond);
	free(f->key);
	free(f);
}

/* The leader publishes its result and leaves the table. */
static void inflight_finish(struct inflight *f, int ret, const rt_error_t *err)
{
	pthread_mutex_lock(&inflight_mu);
	for (struct inflight **p = &inflight_head; *p != NULL; p = &(*p)->next)
		if (*p == f) {
			*p = f->next;
			break;
		}
	f->done = true;
	f->ret = ret;
	if (err != NULL)
		f->err = *err;
	pthread_cond_broadcast(&f->cond);
	inflight_unref_locked(f);
	pthread_mutex_unlock(&inflight_mu);
}

/* A waiter gets the leader's result. */
static int inflight_wait(struct inflight *f, rt_error_t *err)
{
	pthread_mutex_lock(&inflight_mu);
	while (!f->done)
		pthread_cond_wait(&f->cond, &inflight_mu);
	int ret = f->ret;
	if (ret < 0 && err != NULL)
		*err = f->err;
	inflight_unref_locked(f);
	pthread_mutex_unlock(&inflight_mu);
	return ret;
}

/* ---- the pull ----------------------------------------------------------------------- */

struct blob {
	char digest[72];
	int64_t size;
	bool have; /* already in the store */
};

struct pull {
	const rt_pull_opts_t *opts;
	rt_imageref_t ref;
	rt__registry_t *reg;
	char staging[PATH_MAX];
	int64_t max_blob;
	int64_t done, total, last_report;
	/* blobs to move in, in order: config and layers, then manifests */
	struct blob *blobs;
	size_t nblobs;
	char *staged_manifests[2];
	size_t nstaged_manifests;
};

static int mkdir_p(const char *path, rt_error_t *err)
{
	if (mkdir(path, 0755) == 0 || errno == EEXIST)
		return 0;
	if (errno != ENOENT)
		return rt_error_set(err, errno, "creating `%s`", path);
	char *parent = strdup(path), *slash = parent ? strrchr(parent, '/') : NULL;
	if (parent == NULL)
		abort();
	int r = 0;
	if (slash != NULL && slash != parent) {
		*slash = '\0';
		r = mkdir_p(parent, err);
	}
	free(parent);
	if (r == 0 && mkdir(path, 0755) < 0 && errno != EEXIST)
		r = rt_error_set(err, errno, "creating `%s`", path);
	return r;
}

/* Removes staging directories a crashed pull left in store/tmp (a day old). */
static void sweep_stale(const char *tmpdir)
{
	DIR *d = opendir(tmpdir);
	if (d == NULL)
		return;
	time_t now = time(NULL);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		struct stat st;
		char p[PATH_MAX];
		if (strncmp(e->d_name, "pull-", 5) != 0)
			continue;
		rt__pathf(p, "%s/%s", tmpdir, e->d_name);
		if (lstat(p, &st) == 0 && now - st.st_mtime > STALE_SECS) {
			rt_error_t ign;
			rt__remove_tree(p, &ign);
		}
	}
	closedir(d);
}

/* Creates store/{blobs/sha256,tmp} and oci-layout; see image-internal.h. */
int rt__store_init(const char *store, rt_error_t *err)
{
	char p[PATH_MAX];
	rt__pathf(p, "%s/blobs/sha256", store);
	if (mkdir_p(p, err) < 0)
		return rt_error_wrap(err, "content store `%s`", store);
	rt__pathf(p, "%s/tmp", store);
	if (mkdir(p, 0700) < 0 && errno != EEXIST)
		return rt_error_set(err, errno, "creating `%s`", p);
	sweep_stale(p);
	rt__pathf(p, "%s/oci-layout", store);
	if (access(p, F_OK) < 0) {
		char tmp[PATH_MAX];
		rt__pathf(tmp, "%s/.oci-layout.%d", store, (int)getpid());
		FILE *f = fopen(tmp, "we");
		if (f == NULL)
			return rt_error_set(err, errno, "creating `%s`", tmp);
		fputs("{\"imageLayoutVersion\":\"1.0.0\"}", f);
		if (fclose(f) != 0 || rename(tmp, p) < 0) {
			unlink(tmp);
			return rt_error_set(err, errno, "writing `%s`", p);
		}
	}
	return 0;
}

static void progress(struct pull *pl, bool force)
{
	if (pl->opts->progress == NULL)
		return;
	if (!force && pl->done - pl->last_report < PROGRESS_STEP)
		return;
	pl->last_report = pl->done;
	pl->opts->progress(pl->opts->progress_arg, pl->done, pl->total);
}

/* Streams one blob into the staging directory. */
struct blob_sink {
	struct pull *pl;
	const struct blob *b;
	int fd;
	rt__sha256_t *hash;
	int64_t got;
	rt_error_t *err;
};

static int blob_sink(void *arg, const void *data, size_t len)
{
	struct blob_sink *s = arg;
	if (s->got + (int64_t)len > s->b->size)
		return rt_error_set(s->err, 0,
				    "blob %s: the registry sent more than the %lld bytes its "
				    "descriptor says",
				    s->b->digest, (long long)s->b->size);
	const char *p = data;
	size_t left = len;
	while (left > 0) {
		ssize_t n = write(s->fd, p, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return rt_error_set(s->err, errno, "writing blob %s", s->b->digest);
		p += n;
		left -= (size_t)n;
	}
	rt__sha256_update(s->hash, data, len);
	s->got += (int64_t)len;
	s->pl->done += (int64_t)len;
	progress(s->pl, false);
	return 0;
}

static int fetch_blob(struct pull *pl, const struct blob *b, rt_error_t *err)
{
	char path[PATH_MAX];
	rt__pathf(path, "%s/%s", pl->staging, b->digest + 7);
	struct blob_sink s = {.pl = pl, .b = b, .err = err};
	s.fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (s.fd < 0)
		return rt_error_set(err, errno, "creating `%s`", path);
	s.hash = rt__sha256_new();
	int ret = rt__registry_get_blob(pl->reg, b->digest, blob_sink, &s, err);
	char actual[72];
	rt__sha256_final(s.hash, actual);
	if (ret == 0 && s.got != b->size)
		ret = rt_error_set(err, 0, "blob %s: got %lld bytes, its descriptor says %lld",
				   b->digest, (long long)s.got, (long long)b->size);
	if (ret == 0 && strcmp(actual, b->digest) != 0)
		ret = rt_error_set(err, 0, "blob %s: digest mismatch: the registry sent %s",
				   b->digest, actual);
	if (ret == 0 && fsync(s.fd) < 0)
		ret = rt_error_set(err, errno, "writing `%s`", path);
	close(s.fd);
	return ret;
}

/* Checks a manifest body against the digest it must have; writes it to staging. */
static int stage_manifest(struct pull *pl, const char *body, size_t len, const char *want,
			  char out_digest[72], rt_error_t *err)
{
	rt__sha256_t *h = rt__sha256_new();
	rt__sha256_update(h, body, len);
	rt__sha256_final(h, out_digest);
	if (want != NULL && strcmp(want, out_digest) != 0)
		return rt_error_set(err, 0,
				    "manifest digest mismatch: expected %s, the registry sent %s",
				    want, out_digest);
	char path[PATH_MAX];
	rt__pathf(path, "%s/%s", pl->staging, out_digest + 7);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return rt_error_set(err, errno, "creating `%s`", path);
	ssize_t n = write(fd, body, len);
	int e = errno;
	close(fd);
	if (n != (ssize_t)len)
		return rt_error_set(err, n < 0 ? e : EIO, "writing `%s`", path);
	if (pl->nstaged_manifests < 2)
		if ((pl->staged_manifests[pl->nstaged_manifests++] = strdup(out_digest)) == NULL)
			abort();
	return 0;
}

static const char *jstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static bool is_index_type(const char *mt)
{
	return mt != NULL && (strcmp(mt, MT_OCI_INDEX) == 0 || strcmp(mt, MT_DOCKER_LIST) == 0);
}

/* The media type of a manifest: its own mediaType field, else the header. */
static const char *doc_type(json_t *doc, const char *header)
{
	const char *mt = jstr(doc, "mediaType");
	if (mt != NULL)
		return mt;
	if (header != NULL && strcmp(header, "application/json") != 0)
		return header;
	if (json_is_array(json_object_get(doc, "manifests")))
		return MT_OCI_INDEX;
	return MT_OCI_MANIFEST;
}

/* Adds a descriptor's blob to the list, checking what can be checked before download. */
static int add_blob(struct pull *pl, json_t *desc, const char *what, rt_error_t *err)
{
	const char *d = jstr(desc, "digest");
	json_t *size = json_object_get(desc, "size");
	if (rt__digest_hex(d, NULL) < 0 || !json_is_integer(size) || json_integer_value(size) < 0)
		return rt_error_set(err, EINVAL, "%s: missing or unsupported digest or size", what);
	int64_t sz = json_integer_value(size);
	if (sz > pl->max_blob)
		return rt_error_set(err, EFBIG, "%s %s is %lld bytes, over the %lld byte limit",
				    what, d, (long long)sz, (long long)pl->max_blob);
	for (size_t i = 0; i < pl->nblobs; i++)
		if (strcmp(pl->blobs[i].digest, d) == 0)
			return 0; /* the same layer twice */
	pl->blobs = realloc(pl->blobs, (pl->nblobs + 1) * sizeof(*pl->blobs));
	if (pl->blobs == NULL)
		abort();
	struct blob *b = &pl->blobs[pl->nblobs++];
	memset(b, 0, sizeof(*b));
	snprintf(b->digest, sizeof(b->digest), "%s", d);
	b->size = sz;
	char path[PATH_MAX];
	rt__pathf(path, "%s/blobs/sha256/%s", pl->opts->store_dir, d + 7);
	struct stat st;
	/* what is in blobs/ was verified before it was renamed there */
	b->have = stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == sz;
	pl->total += sz;
	return 0;
}

/* Moves staged blobs into blobs/sha256: config and layers, then manifests. */
static int commit_blobs(struct pull *pl, rt_error_t *err)
{
	char from[PATH_MAX], to[PATH_MAX];
	for (size_t i = 0; i < pl->nblobs + pl->nstaged_manifests; i++) {
		const char *d;
		if (i < pl->nblobs) {
			if (pl->blobs[i].have)
				continue;
			d = pl->blobs[i].digest;
		} else {
			/* the platform manifest before the index that names it */
			d = pl->staged_manifests[pl->nstaged_manifests - 1 - (i - pl->nblobs)];
		}
		rt__pathf(from, "%s/%s", pl->staging, d + 7);
		rt__pathf(to, "%s/blobs/sha256/%s", pl->opts->store_dir, d + 7);
		if (rename(from, to) < 0)
			return rt_error_set(err, errno, "moving blob `%s` to `%s`", from, to);
	}
	return 0;
}

/* Points name at desc in store/index.json; see image-internal.h. */
int rt__index_update(const char *store, const char *name, const char *mt, const char *digest,
		     int64_t size, rt_error_t *err)
{
	char lock[PATH_MAX], path[PATH_MAX], tmp[PATH_MAX];
	rt__pathf(lock, "%s/index.lock", store);
	rt__pathf(path, "%s/index.json", store);
	rt__pathf(tmp, "%s/.index.json.%d.%lx", store, (int)getpid(),
		  (unsigned long)pthread_self());
	int lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (lfd < 0)
		return rt_error_set(err, errno, "opening `%s`", lock);
	while (flock(lfd, LOCK_EX) < 0)
		if (errno != EINTR) {
			int e = errno;
			close(lfd);
			return rt_error_set(err, e, "locking `%s`", lock);
		}
	int ret = -1;
	json_error_t jerr;
	json_t *index = json_load_file(path, 0, &jerr);
	if (index == NULL && access(path, F_OK) == 0) {
		rt_error_set(err, EINVAL, "reading `%s`: %s", path, jerr.text);
		goto out;
	}
	if (index == NULL)
		index = json_pack("{s:i, s:s, s:[]}", "schemaVersion", 2, "mediaType", MT_OCI_INDEX,
				  "manifests");
	json_t *mans = json_object_get(index, "manifests");
	if (!json_is_array(mans)) {
		rt_error_set(err, EINVAL, "`%s`: manifests is not an array", path);
		goto out;
	}
	for (size_t i = json_array_size(mans); i-- > 0;) {
		const char *n = jstr(json_object_get(json_array_get(mans, i), "annotations"),
				     REF_NAME_ANNOTATION);
		if (n != NULL && strcmp(n, name) == 0)
			json_array_remove(mans, i);
	}
	char added[32];
	snprintf(added, sizeof(added), "%lld", (long long)time(NULL));
	json_array_append_new(mans, json_pack("{s:s, s:s, s:I, s:{s:s, s:s}}", "mediaType", mt,
					      "digest", digest, "size", (json_int_t)size,
					      "annotations", REF_NAME_ANNOTATION, name,
					      RT_IMAGE_ADDED_ANNOTATION, added));
	if (json_dump_file(index, tmp, JSON_INDENT(2) | JSON_SORT_KEYS) < 0) {
		rt_error_set(err, errno ? errno : EIO, "writing `%s`", tmp);
		unlink(tmp);
		goto out;
	}
	if (rename(tmp, path) < 0) {
		rt_error_set(err, errno, "renaming `%s` to `%s`", tmp, path);
		unlink(tmp);
		goto out;
	}
	ret = 0;
out:
	json_decref(index);
	close(lfd); /* drops the lock */
	return ret;
}

static bool insecure(const rt_pull_opts_t *opts, const char *registry)
{
	for (size_t i = 0; opts->insecure_registries && opts->insecure_registries[i]; i++)
		if (strcmp(opts->insecure_registries[i], registry) == 0)
			return true;
	return false;
}

static int do_pull(struct pull *pl, rt_error_t *err)
{
	const rt_pull_opts_t *o = pl->opts;
	char *basic = NULL;
	if (o->credentials_file != NULL &&
	    rt__creds_lookup(o->credentials_file, pl->ref.registry, &basic, err) < 0)
		return -1;
	pl->reg = rt__registry_new(pl->ref.registry, pl->ref.repository,
				   insecure(o, pl->ref.registry), o->ca_file, basic);
	free(basic);

	char *body = NULL, *hdr_mt = NULL, *hdr_digest = NULL;
	size_t len = 0;
	json_t *doc = NULL;
	int ret = -1;
	const char *want = pl->ref.digest;
	if (rt__registry_get_manifest(pl->reg, want ? want : pl->ref.tag, &body, &len, &hdr_mt,
				      &hdr_digest, err) < 0)
		goto out;
	/* by tag, the registry's Docker-Content-Digest (when sent) must agree */
	if (want == NULL && hdr_digest != NULL && rt__digest_hex(hdr_digest, NULL) == 0)
		want = hdr_digest;
	char top_digest[72], top_mt[128];
	int64_t top_size = (int64_t)len;
	if (stage_manifest(pl, body, len, want, top_digest, err) < 0)
		goto out;
	json_error_t jerr;
	doc = json_loadb(body, len, 0, &jerr);
	if (!json_is_object(doc)) {
		rt_error_set(err, EINVAL, "manifest: invalid JSON: %s",
			     doc ? "not an object" : jerr.text);
		goto out;
	}
	snprintf(top_mt, sizeof(top_mt), "%s", doc_type(doc, hdr_mt));
	if (is_index_type(top_mt)) {
		json_t *d = rt__index_pick(doc, NULL);
		const char *dg = jstr(d, "digest");
		json_t *dsz = json_object_get(d, "size");
		if (d == NULL || rt__digest_hex(dg, NULL) < 0) {
			rt_error_set(err, ENOENT, "the index has no manifest for linux/%s",
				     rt__host_arch());
			goto out;
		}
		char pdigest[72];
		snprintf(pdigest, sizeof(pdigest), "%s", dg);
		free(body);
		free(hdr_mt);
		free(hdr_digest);
		body = hdr_mt = hdr_digest = NULL;
		if (rt__registry_get_manifest(pl->reg, pdigest, &body, &len, &hdr_mt, &hdr_digest,
					      err) < 0)
			goto out;
		if (json_is_integer(dsz) && json_integer_value(dsz) != (json_int_t)len) {
			rt_error_set(err, 0, "manifest %s: %zu bytes, the index says %lld", pdigest,
				     len, (long long)json_integer_value(dsz));
			goto out;
		}
		char got[72];
		if (stage_manifest(pl, body, len, pdigest, got, err) < 0)
			goto out;
		json_decref(doc);
		doc = json_loadb(body, len, 0, &jerr);
		if (!json_is_object(doc)) {
			rt_error_set(err, EINVAL, "manifest %s: invalid JSON", pdigest);
			goto out;
		}
	}
	const char *mt = doc_type(doc, is_index_type(top_mt) ? hdr_mt : top_mt);
	if (strcmp(mt, MT_OCI_MANIFEST) != 0 && strcmp(mt, MT_DOCKER_MANIFEST) != 0) {
		rt_error_set(err, ENOTSUP, "unsupported manifest type `%s`%s", mt,
			     strstr(mt, "manifest.v1") ? " (Docker schema 1 is not supported)"
						       : "");
		goto out;
	}
	if (add_blob(pl, json_object_get(doc, "config"), "config", err) < 0)
		goto out;
	json_t *layers = json_object_get(doc, "layers");
	if (!json_is_array(layers)) {
		rt_error_set(err, EINVAL, "manifest has no layers");
		goto out;
	}
	size_t i;
	json_t *l;
	json_array_foreach(layers, i, l)
	{
		char what[32];
		snprintf(what, sizeof(what), "layers[%zu]", i);
		if (add_blob(pl, l, what, err) < 0)
			goto out;
	}
	progress(pl, true);
	for (size_t k = 0; k < pl->nblobs; k++) {
		if (pl->blobs[k].have) {
			pl->done += pl->blobs[k].size;
			continue;
		}
		if (fetch_blob(pl, &pl->blobs[k], err) < 0)
			goto out;
	}
	progress(pl, true);
	if (commit_blobs(pl, err) < 0 ||
	    rt__index_update(o->store_dir, pl->ref.name, top_mt, top_digest, top_size, err) < 0)
		goto out;
	ret = 0;
out:
	json_decref(doc);
	free(body);
	free(hdr_mt);
	free(hdr_digest);
	return ret;
}

/* Pulls ref into opts->store_dir; see runtime.h. */
int rt_image_pull(const rt_pull_opts_t *opts, const char *ref, rt_image_t **out, rt_error_t *err)
{
	struct pull pl = {.opts = opts};
	if (opts == NULL || opts->store_dir == NULL)
		return rt_error_set(err, EINVAL, "pulling `%s`: no content store directory", ref);
	if (strlen(opts->store_dir) > PATH_MAX - 256)
		return rt_error_set(err, ENAMETOOLONG, "pulling `%s`: content store path too long",
				    ref);
	if (rt_imageref_parse(ref, opts->default_registry, &pl.ref, err) < 0)
		return -1;
	pl.max_blob = opts->max_blob_bytes > 0 ? opts->max_blob_bytes : DEFAULT_MAX_BLOB;
	char *key = NULL;
	if (asprintf(&key, "%s\n%s", opts->store_dir, pl.ref.name) < 0)
		abort();
	bool leader;
	struct inflight *f = inflight_join(key, &leader);
	free(key);
	int ret;
	if (!leader) {
		ret = inflight_wait(f, err);
	} else {
		ret = rt__store_init(opts->store_dir, err);
		if (ret == 0) {
			rt__pathf(pl.staging, "%s/tmp/pull-XXXXXX", opts->store_dir);
			if (mkdtemp(pl.staging) == NULL) {
				ret = rt_error_set(err, errno, "creating `%s`", pl.staging);
				pl.staging[0] = '\0';
			}
		}
		if (ret == 0)
			ret = do_pull(&pl, err);
		if (ret < 0)
			rt_error_wrap(err, "pulling `%s`", pl.ref.name);
		if (pl.staging[0] != '\0') {
			rt_error_t rmerr;
			rt__remove_tree(pl.staging, &rmerr);
		}
		inflight_finish(f, ret, err);
	}
	if (ret == 0) {
		ret = rt_image_resolve(opts->store_dir, pl.ref.name, out, err);
		if (ret < 0)
			rt_error_wrap(err, "pulled `%s`", pl.ref.name);
	}
	rt__registry_free(pl.reg);
	for (size_t i = 0; i < pl.nstaged_manifests; i++)
		free(pl.staged_manifests[i]);
	free(pl.blobs);
	rt_imageref_clear(&pl.ref);
	return ret;
}

/* Resolves ref in the store without any network; see runtime.h. */
int rt_image_lookup(const rt_pull_opts_t *opts, const char *ref, rt_image_t **out, rt_error_t *err)
{
	rt_imageref_t r;
	if (rt_imageref_parse(ref, opts->default_registry, &r, err) < 0)
		return -1;
	int ret = rt_image_resolve(opts->store_dir, r.name, out, err);
	rt_imageref_clear(&r);
	return ret;
}
