/* What image.c, unpack.c and rootfs.c share inside libruntime. */
#ifndef NODELET_RUNTIME_IMAGE_INTERNAL_H
#define NODELET_RUNTIME_IMAGE_INTERNAL_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "runtime/runtime.h"

/* Upper bound of what one layer may unpack to (sum of entry sizes). */
#define RT_LAYER_MAX_BYTES (10LL * 1024 * 1024 * 1024)
/* Upper bound of a manifest, index or config blob read into memory. */
#define RT_JSON_BLOB_MAX (4 * 1024 * 1024)

/* Checks "sha256:<64 lowercase hex>"; 0 and *hex pointing into digest, or -1. */
int rt__digest_hex(const char *digest, const char **hex);

/* Path of the blob of digest in an OCI layout: layout/blobs/sha256/<hex>.
 * Returns a malloc'd string, NULL for a malformed digest. */
char *rt__blob_path(const char *layout_dir, const char *digest);

/* Incremental sha256 (OpenSSL EVP). */
typedef struct rt__sha256 rt__sha256_t;
rt__sha256_t *rt__sha256_new(void);
void rt__sha256_update(rt__sha256_t *h, const void *data, size_t len);
/* Finishes into "sha256:<hex>" (72 bytes incl. NUL) and frees h. */
void rt__sha256_final(rt__sha256_t *h, char out[72]);

/* Unpacks one layer blob (tar, optionally compressed) into dest, which must be
 * an empty directory, verifying the blob against digest while reading it. */
int rt__unpack_layer(const char *blob, const char *digest, const char *dest, int64_t max_bytes,
		     rt_error_t *err);

/* Removes path recursively without crossing into other mounts (a mount left
 * below makes it fail with EBUSY/ENOTEMPTY naming the path). Missing is fine. */
int rt__remove_tree(const char *path, rt_error_t *err);

/* 0 when d[0..n) is a registry host[:port] (dotted labels or [IPv6]). */
int rt__registry_host_ok(const char *d, size_t n);

/* ---- registry client (registry.c) ---- */

typedef enum { RT__AUTH_NONE, RT__AUTH_BASIC, RT__AUTH_BEARER } rt__auth_scheme_t;
typedef struct rt__challenge {
	rt__auth_scheme_t scheme;
	char *realm, *service, *scope; /* malloc'd or NULL */
} rt__challenge_t;
/* Parses a WWW-Authenticate value (Bearer needs a realm). 0, or -1 for an
 * unsupported scheme. Free with rt__challenge_clear. */
int rt__challenge_parse(const char *header, rt__challenge_t *c);
void rt__challenge_clear(rt__challenge_t *c);

/* Finds registry ("host:port", "docker.io") in a Docker config.json-style file
 * ({"auths": {"host:port": {"auth": base64("user:pass")} or {"username",
 * "password"}}}; keys may be URLs). 0 with *basic a malloc'd base64
 * "user:pass", or NULL when the file has none for it; -1 for a bad file. */
int rt__creds_lookup(const char *file, const char *registry, char **basic, rt_error_t *err);

/* A client for one repository of one registry. Not thread-safe; one per pull. */
typedef struct rt__registry rt__registry_t;
/* insecure: HTTPS without certificate verification, falling back to plain
 * HTTP when HTTPS fails before the registry first answered (Docker's
 * --insecure-registry); otherwise HTTPS verified against ca_file or the
 * system's CAs. */
rt__registry_t *rt__registry_new(const char *registry, const char *repository, bool insecure,
				 const char *ca_file, const char *basic);
void rt__registry_free(rt__registry_t *r);
/* GETs manifests/<ref> (tag or digest) accepting OCI index/manifest and Docker
 * list/schema2. *body (NUL-terminated), *media_type (Content-Type without
 * parameters, or NULL) and *digest (Docker-Content-Digest, or NULL) are
 * malloc'd. Errors carry the registry's message; errnum ENOENT for a 404,
 * EACCES for auth failures. */
int rt__registry_get_manifest(rt__registry_t *r, const char *ref, char **body, size_t *len,
			      char **media_type, char **digest, rt_error_t *err);
/* Receives a blob's bytes; < 0 (with the error set) aborts the transfer. */
typedef int (*rt__sink_fn)(void *arg, const void *data, size_t len);
/* GETs blobs/<digest>, handing the body to sink. */
int rt__registry_get_blob(rt__registry_t *r, const char *digest, rt__sink_fn sink, void *arg,
			  rt_error_t *err);

/* Creates a content store (parents too): blobs/sha256, tmp (sweeping staging
 * directories a crashed pull left there over a day ago) and oci-layout. */
int rt__store_init(const char *store, rt_error_t *err);

/* Points name at the manifest (or index) digest in store/index.json: entries
 * already annotated with name are replaced. The entry is annotated with
 * RT_IMAGE_ADDED_ANNOTATION (now), which marks it as the garbage collector's. Under
 * flock(store/index.lock); written to a temporary file and renamed. */
int rt__index_update(const char *store, const char *name, const char *mt, const char *digest,
		     int64_t size, rt_error_t *err);

/* The linux/<arch> entry of an OCI index or Docker manifest list (a borrowed
 * reference into index), NULL when there is none. arch NULL: the host's. */
json_t *rt__index_pick(json_t *index, const char *arch);
/* Go's GOARCH for this machine ("amd64"). */
const char *rt__host_arch(void);

/* snprintf of a path under the image store into a PATH_MAX buffer. The
 * store path's length is checked when the store is set up (at most
 * PATH_MAX - 256), so a path made from it cannot overflow: abort() if it does. */
void rt__pathf(char out[PATH_MAX], const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
