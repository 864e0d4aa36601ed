/* Images from an OCI image layout directory (index.json, blobs/sha256/...):
 * resolving a reference to a manifest, its config and its layers, with every
 * blob read checked against its digest and size.
 *
 * References match the org.opencontainers.image.ref.name annotation, which
 * `skopeo copy ... oci:DIR:NAME:TAG` writes as "NAME:TAG". Both sides are
 * normalised: a "docker.io/library/" or "docker.io/" prefix is dropped and a
 * missing tag means "latest". An annotation that is a bare tag ("latest", as
 * some tools write it) matches any reference with that tag when no annotation
 * matches the full name.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "runtime/image-internal.h"

void rt__pathf(char out[PATH_MAX], const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(out, PATH_MAX, fmt, ap);
	va_end(ap);
	if (n < 0 || n >= PATH_MAX)
		abort();
}

#define REF_NAME_ANNOTATION "org.opencontainers.image.ref.name"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"

/* ---- digests ------------------------------------------------------------ */

struct rt__sha256 {
	EVP_MD_CTX *ctx;
};

rt__sha256_t *rt__sha256_new(void)
{
	rt__sha256_t *h = malloc(sizeof(*h));
	if (h == NULL || (h->ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1)
		abort();
	return h;
}

void rt__sha256_update(rt__sha256_t *h, const void *data, size_t len)
{
	if (len > 0 && EVP_DigestUpdate(h->ctx, data, len) != 1)
		abort();
}

void rt__sha256_final(rt__sha256_t *h, char out[72])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	if (EVP_DigestFinal_ex(h->ctx, md, &n) != 1 || n != 32)
		abort();
	EVP_MD_CTX_free(h->ctx);
	free(h);
	memcpy(out, "sha256:", 7);
	for (unsigned int i = 0; i < n; i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
}

int rt__digest_hex(const char *digest, const char **hex)
{
	if (digest == NULL || strncmp(digest, "sha256:", 7) != 0)
		return -1;
	const char *h = digest + 7;
	if (strlen(h) != 64 || strspn(h, "0123456789abcdef") != 64)
		return -1;
	if (hex != NULL)
		*hex = h;
	return 0;
}

char *rt__blob_path(const char *layout_dir, const char *digest)
{
	const char *hex;
	if (rt__digest_hex(digest, &hex) < 0)
		return NULL;
	char *p = NULL;
	if (asprintf(&p, "%s/blobs/sha256/%s", layout_dir, hex) < 0)
		abort();
	return p;
}

/* Reads a small blob whole, checking its size (when expect_size >= 0) and
 * digest. *out is malloc'd and NUL-terminated; the caller frees it. */
static int read_blob(const char *layout, const char *digest, int64_t expect_size, char **out,
		     size_t *len, rt_error_t *err)
{
	if (rt__digest_hex(digest, NULL) < 0)
		return rt_error_set(err, EINVAL, "unsupported or malformed digest `%s`", digest);
	char *path = rt__blob_path(layout, digest);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rt_error_set(err, errno, "reading blob `%s`", path);
		free(path);
		return -1;
	}
	struct stat st;
	char *buf = NULL;
	int ret = -1;
	if (fstat(fd, &st) < 0) {
		rt_error_set(err, errno, "reading blob `%s`", path);
		goto out;
	}
	if (st.st_size > RT_JSON_BLOB_MAX) {
		rt_error_set(err, EFBIG, "blob `%s` is %lld bytes, over the %d byte limit", path,
			     (long long)st.st_size, RT_JSON_BLOB_MAX);
		goto out;
	}
	if (expect_size >= 0 && st.st_size != expect_size) {
		rt_error_set(err, 0, "blob `%s` is %lld bytes, its descriptor says %lld", path,
			     (long long)st.st_size, (long long)expect_size);
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL)
		abort();
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rt_error_set(err, n < 0 ? errno : EIO, "reading blob `%s`", path);
			goto out;
		}
		got += (size_t)n;
	}
	buf[got] = '\0';
	rt__sha256_t *h = rt__sha256_new();
	rt__sha256_update(h, buf, got);
	char actual[72];
	rt__sha256_final(h, actual);
	if (strcmp(actual, digest) != 0) {
		rt_error_set(err, 0, "blob `%s`: digest mismatch: expected %s, got %s", path,
			     digest, actual);
		goto out;
	}
	*out = buf;
	*len = got;
	buf = NULL;
	ret = 0;
out:
	free(buf);
	free(path);
	close(fd);
	return ret;
}

static json_t *read_json_blob(const char *layout, const char *digest, int64_t size,
			      const char *what, rt_error_t *err)
{
	char *buf = NULL;
	size_t len = 0;
	if (read_blob(layout, digest, size, &buf, &len, err) < 0)
		return NULL;
	json_error_t jerr;
	json_t *j = json_loadb(buf, len, 0, &jerr);
	free(buf);
	if (j == NULL || !json_is_object(j)) {
		rt_error_set(err, EINVAL, "%s %s: invalid JSON: %s", what, digest,
			     j == NULL ? jerr.text : "not an object");
		json_decref(j);
		return NULL;
	}
	return j;
}

/* Sets err to ENOENT with a message that needs no strerror suffix. */
__attribute__((format(printf, 2, 3))) static void not_found(rt_error_t *err, const char *fmt, ...)
{
	if (err == NULL)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	err->errnum = ENOENT;
}

/* ---- references ---------------------------------------------------------- */

/* Normalised reference as a malloc'd string: prefixes dropped, ":latest" added
 * when there is neither tag nor digest. */
static char *normalize_ref(const char *ref)
{
	static const char *prefixes[] = {"docker.io/library/", "index.docker.io/library/",
					 "docker.io/", "index.docker.io/"};
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t n = strlen(prefixes[i]);
		if (strncmp(ref, prefixes[i], n) == 0) {
			ref += n;
			break;
		}
	}
	const char *last = strrchr(ref, '/');
	last = last ? last + 1 : ref;
	char *out;
	if (strchr(last, ':') == NULL && strchr(last, '@') == NULL) {
		if (asprintf(&out, "%s:latest", ref) < 0)
			abort();
	} else if ((out = strdup(ref)) == NULL) {
		abort();
	}
	return out;
}

/* The tag of a normalised reference ("latest"), or NULL for a digest ref. */
static const char *ref_tag(const char *norm)
{
	const char *last = strrchr(norm, '/');
	last = last ? last + 1 : norm;
	if (strchr(last, '@') != NULL)
		return NULL;
	const char *colon = strrchr(last, ':');
	return colon ? colon + 1 : NULL;
}

/* Go's GOARCH for this machine, as image platforms name it. */
const char *rt__host_arch(void)
{
	static const struct {
		const char *uname, *go;
	} map[] = {{"x86_64", "amd64"}, {"aarch64", "arm64"},  {"i686", "386"},
		   {"i386", "386"},	{"armv7l", "arm"},     {"ppc64le", "ppc64le"},
		   {"s390x", "s390x"},	{"riscv64", "riscv64"}};
	struct utsname u;
	if (uname(&u) == 0)
		for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
			if (strcmp(u.machine, map[i].uname) == 0)
				return map[i].go;
	return "amd64";
}

/* ---- manifests ----------------------------------------------------------- */

static const char *jstr(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

static bool is_index(const char *mt, json_t *doc)
{
	if (mt != NULL)
		return strcmp(mt, MT_OCI_INDEX) == 0 || strcmp(mt, MT_DOCKER_LIST) == 0;
	return doc != NULL && json_is_array(json_object_get(doc, "manifests"));
}

/* Picks the linux/<arch> entry of an index; see image-internal.h. */
json_t *rt__index_pick(json_t *index, const char *arch)
{
	if (arch == NULL)
		arch = rt__host_arch();
	size_t i;
	json_t *d;
	json_array_foreach(json_object_get(index, "manifests"), i, d)
	{
		json_t *p = json_object_get(d, "platform");
		const char *os = jstr(p, "os"), *a = jstr(p, "architecture");
		if (os && a && strcmp(os, "linux") == 0 && strcmp(a, arch) == 0)
			return d;
	}
	return NULL;
}

static char **json_strv(json_t *arr, const char *field, rt_error_t *err, int *bad)
{
	if (arr == NULL || json_is_null(arr))
		return NULL;
	if (!json_is_array(arr)) {
		*bad = rt_error_set(err, EINVAL, "image config: %s: expected an array of strings",
				    field);
		return NULL;
	}
	char **v = calloc(json_array_size(arr) + 1, sizeof(char *));
	if (v == NULL)
		abort();
	size_t i;
	json_t *s;
	json_array_foreach(arr, i, s)
	{
		if (!json_is_string(s)) {
			*bad = rt_error_set(err, EINVAL, "image config: %s[%zu]: expected a string",
					    field, i);
			for (size_t k = 0; k < i; k++)
				free(v[k]);
			free(v);
			return NULL;
		}
		if ((v[i] = strdup(json_string_value(s))) == NULL)
			abort();
	}
	return v;
}

static char *dup_or_null(const char *s)
{
	if (s == NULL || *s == '\0')
		return NULL;
	char *d = strdup(s);
	if (d == NULL)
		abort();
	return d;
}

static bool layer_type_ok(const char *mt)
{
	static const char *ok[] = {
	    "application/vnd.oci.image.layer.v1.tar",
	    "application/vnd.oci.image.layer.v1.tar+gzip",
	    "application/vnd.oci.image.layer.v1.tar+zstd",
	    "application/vnd.oci.image.layer.nondistributable.v1.tar",
	    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
	    "application/vnd.docker.image.rootfs.diff.tar.gzip",
	    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
	    "application/vnd.docker.image.rootfs.diff.tar",
	};
	if (mt == NULL)
		return true;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strcmp(mt, ok[i]) == 0)
			return true;
	return false;
}

/* Fills img from a manifest document (layers, config). */
static int load_manifest(const char *layout, json_t *man, rt_image_t *img, rt_error_t *err)
{
	json_t *layers = json_object_get(man, "layers");
	json_t *cdesc = json_object_get(man, "config");
	const char *cdigest = jstr(cdesc, "digest");
	if (!json_is_array(layers) || cdigest == NULL)
		return rt_error_set(err, EINVAL, "manifest %s: missing config or layers",
				    img->manifest_digest);
	img->layers = calloc(json_array_size(layers) + 1, sizeof(char *));
	if (img->layers == NULL)
		abort();
	size_t i;
	json_t *l;
	json_array_foreach(layers, i, l)
	{
		const char *d = jstr(l, "digest"), *mt = jstr(l, "mediaType");
		json_t *size = json_object_get(l, "size");
		if (rt__digest_hex(d, NULL) < 0 || !json_is_integer(size))
			return rt_error_set(err, EINVAL,
					    "manifest %s: layers[%zu]: missing or unsupported "
					    "digest or size",
					    img->manifest_digest, i);
		if (!layer_type_ok(mt))
			return rt_error_set(err, ENOTSUP,
					    "manifest %s: layers[%zu]: unsupported "
					    "media type `%s`",
					    img->manifest_digest, i, mt);
		json_int_t sz = json_integer_value(size);
		if (sz < 0 || img->size > INT64_MAX - sz)
			return rt_error_set(err, EINVAL,
					    "manifest %s: layers[%zu]: size %lld out of range",
					    img->manifest_digest, i, (long long)sz);
		if ((img->layers[i] = strdup(d)) == NULL)
			abort();
		img->nlayers++;
		img->size += sz;
	}
	json_t *csize = json_object_get(cdesc, "size");
	json_t *cfg =
	    read_json_blob(layout, cdigest, json_is_integer(csize) ? json_integer_value(csize) : -1,
			   "image config", err);
	if (cfg == NULL)
		return -1;
	const char *os = jstr(cfg, "os");
	int bad = 0;
	if (os != NULL && strcmp(os, "linux") != 0) {
		bad = rt_error_set(err, ENOTSUP, "image config %s: os `%s` is not linux", cdigest,
				   os);
	} else {
		json_t *c = json_object_get(cfg, "config");
		img->entrypoint =
		    json_strv(json_object_get(c, "Entrypoint"), "config.Entrypoint", err, &bad);
		if (!bad)
			img->cmd = json_strv(json_object_get(c, "Cmd"), "config.Cmd", err, &bad);
		if (!bad)
			img->env = json_strv(json_object_get(c, "Env"), "config.Env", err, &bad);
		img->working_dir = dup_or_null(jstr(c, "WorkingDir"));
		img->user = dup_or_null(jstr(c, "User"));
	}
	json_decref(cfg);
	return bad;
}

/* Finds the descriptor of ref in index.json; NULL with err set when absent. */
static json_t *find_in_index(json_t *index, const char *norm, const char *layout, rt_error_t *err)
{
	json_t *tag_match = NULL;
	const char *tag = ref_tag(norm);
	const char *at = strchr(norm, '@');
	size_t i;
	json_t *d;
	json_array_foreach(json_object_get(index, "manifests"), i, d)
	{
		const char *name = jstr(json_object_get(d, "annotations"), REF_NAME_ANNOTATION);
		if (at != NULL) { /* name@sha256:... */
			const char *dig = jstr(d, "digest");
			if (dig != NULL && strcmp(dig, at + 1) == 0)
				return d;
			continue;
		}
		if (name == NULL)
			continue;
		char *n = normalize_ref(name);
		bool same = strcmp(n, norm) == 0;
		free(n);
		if (same)
			return d;
		if (tag_match == NULL && tag != NULL && strchr(name, ':') == NULL &&
		    strchr(name, '/') == NULL && strcmp(name, tag) == 0)
			tag_match = d;
	}
	if (tag_match == NULL)
		not_found(err, "image `%s` not found in image layout `%s`", norm, layout);
	return tag_match;
}

/* Resolves ref in the layout at layout_dir; see runtime.h. */
int rt_image_resolve(const char *layout_dir, const char *ref, rt_image_t **out, rt_error_t *err)
{
	if (ref == NULL || *ref == '\0')
		return rt_error_set(err, EINVAL, "empty image reference");
	char *path = NULL;
	if (asprintf(&path, "%s/index.json", layout_dir) < 0)
		abort();
	json_error_t jerr;
	json_t *index = json_load_file(path, 0, &jerr);
	if (index == NULL) {
		int e = access(path, R_OK) < 0 ? errno : EINVAL;
		if (e == ENOENT)
			not_found(err, "image layout `%s` has no index.json", layout_dir);
		else
			rt_error_set(err, e, "reading `%s`: %s", path, jerr.text);
		free(path);
		return -1;
	}
	free(path);

	rt_image_t *img = calloc(1, sizeof(*img));
	if (img == NULL)
		abort();
	img->ref = normalize_ref(ref);
	int ret = -1;
	json_t *doc = NULL;
	json_t *desc = find_in_index(index, img->ref, layout_dir, err);
	if (desc == NULL)
		goto out;
	/* An index (or manifest list) resolves to linux/<host arch>, at most a
	 * couple of levels deep. */
	for (int depth = 0;; depth++) {
		/* desc may point into doc, which is replaced below: copy first. */
		char digest[80], mtbuf[128];
		const char *dg = jstr(desc, "digest"), *dmt = jstr(desc, "mediaType");
		json_t *size = json_object_get(desc, "size");
		int64_t sz = json_is_integer(size) ? json_integer_value(size) : -1;
		if (dg == NULL || strlen(dg) >= sizeof(digest)) {
			rt_error_set(err, EINVAL, "image `%s`: descriptor without a valid digest",
				     img->ref);
			goto out;
		}
		snprintf(digest, sizeof(digest), "%s", dg);
		snprintf(mtbuf, sizeof(mtbuf), "%s", dmt ? dmt : "");
		json_t *next = read_json_blob(layout_dir, digest, sz, "manifest", err);
		if (next == NULL)
			goto out;
		json_decref(doc);
		doc = next;
		const char *mt = mtbuf[0] ? mtbuf : jstr(doc, "mediaType");
		if (!is_index(mt, doc)) {
			if (mt != NULL && strcmp(mt, MT_OCI_MANIFEST) != 0 &&
			    strcmp(mt, MT_DOCKER_MANIFEST) != 0) {
				rt_error_set(err, ENOTSUP,
					     "image `%s`: unsupported manifest type `%s`", img->ref,
					     mt);
				goto out;
			}
			if ((img->manifest_digest = strdup(digest)) == NULL)
				abort();
			break;
		}
		if (depth >= 3 || (desc = rt__index_pick(doc, NULL)) == NULL) {
			not_found(err, "image `%s`: no manifest for linux/%s in index %s", img->ref,
				  rt__host_arch(), digest);
			goto out;
		}
	}
	if (load_manifest(layout_dir, doc, img, err) < 0) {
		rt_error_wrap(err, "image `%s`", img->ref);
		goto out;
	}
	*out = img;
	img = NULL;
	ret = 0;
out:
	json_decref(doc);
	json_decref(index);
	rt_image_free(img);
	return ret;
}

static void free_strv(char **v)
{
	for (size_t i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

void rt_image_free(rt_image_t *img)
{
	if (img == NULL)
		return;
	free(img->ref);
	free(img->manifest_digest);
	free_strv(img->layers);
	free_strv(img->entrypoint);
	free_strv(img->cmd);
	free_strv(img->env);
	free(img->working_dir);
	free(img->user);
	free(img);
}
