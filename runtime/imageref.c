/* Image references as Docker reads them (github.com/distribution/reference):
 *
 *   reference := name [ ":" tag ] [ "@" digest ]
 *   name      := [ domain "/" ] path-component ( "/" path-component )*
 *
 * The first component is a domain only when it looks like one ('.' or ':' in
 * it, "localhost", or an upper-case letter, which a path may not have);
 * otherwise the whole name is a path on the default registry. The canonical
 * name always carries the registry and a tag or digest, so two spellings of
 * one image ("busybox", "docker.io/library/busybox:latest") compare equal.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/image-internal.h"

#define NAME_MAX_LEN 255
#define TAG_MAX_LEN 128

static char *xstrndup(const char *s, size_t n)
{
	char *d = strndup(s, n);
	if (d == NULL)
		abort();
	return d;
}

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)* over s[0..n). */
static bool path_component_ok(const char *s, size_t n)
{
	size_t i = 0;
	if (n == 0 || !is_lower_alnum(s[0]))
		return false;
	while (i < n) {
		while (i < n && is_lower_alnum(s[i]))
			i++;
		if (i == n)
			return true;
		/* a separator, then at least one alnum */
		if (s[i] == '.') {
			i++;
		} else if (s[i] == '_') {
			i++;
			if (i < n && s[i] == '_')
				i++;
		} else if (s[i] == '-') {
			while (i < n && s[i] == '-')
				i++;
		} else {
			return false;
		}
		if (i == n || !is_lower_alnum(s[i]))
			return false;
	}
	return true;
}

/* host label: [A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])? */
static bool label_ok(const char *s, size_t n)
{
	if (n == 0 || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-')
			return false;
	return true;
}

/* host[:port], host being dotted labels or a bracketed IPv6 address. */
int rt__registry_host_ok(const char *d, size_t n)
{
	size_t hostlen = n;
	const char *colon = NULL;
	if (n > 0 && d[0] == '[') {
		const char *close = memchr(d, ']', n);
		if (close == NULL || close == d + 1)
			return -1;
		for (const char *p = d + 1; p < close; p++)
			if (!isxdigit((unsigned char)*p) && *p != ':' && *p != '.')
				return -1;
		hostlen = (size_t)(close - d) + 1;
		if (hostlen < n) {
			if (d[hostlen] != ':')
				return -1;
			colon = d + hostlen;
		}
	} else {
		colon = memchr(d, ':', n);
		if (colon != NULL)
			hostlen = (size_t)(colon - d);
		size_t i = 0;
		if (hostlen == 0)
			return -1;
		while (i < hostlen) {
			const char *dot = memchr(d + i, '.', hostlen - i);
			size_t len = dot ? (size_t)(dot - (d + i)) : hostlen - i;
			if (!label_ok(d + i, len))
				return -1;
			i += len + (dot ? 1 : 0);
			if (dot && i == hostlen)
				return -1; /* trailing dot */
		}
	}
	if (colon != NULL) {
		size_t plen = n - (size_t)(colon - d) - 1;
		if (plen == 0 || plen > 5)
			return -1;
		for (size_t i = 1; i <= plen; i++)
			if (!isdigit((unsigned char)colon[i]))
				return -1;
	}
	return 0;
}

static bool tag_ok(const char *t)
{
	size_t n = strlen(t);
	if (n == 0 || n > TAG_MAX_LEN)
		return false;
	if (!isalnum((unsigned char)t[0]) && t[0] != '_')
		return false;
	for (size_t i = 1; i < n; i++)
		if (!isalnum((unsigned char)t[i]) && t[i] != '_' && t[i] != '.' && t[i] != '-')
			return false;
	return true;
}

static bool looks_like_domain(const char *s, size_t n)
{
	if (n == 9 && memcmp(s, "localhost", 9) == 0)
		return true;
	for (size_t i = 0; i < n; i++)
		if (s[i] == '.' || s[i] == ':' || isupper((unsigned char)s[i]))
			return true;
	return false;
}

void rt_imageref_clear(rt_imageref_t *ref)
{
	if (ref == NULL)
		return;
	free(ref->registry);
	free(ref->repository);
	free(ref->tag);
	free(ref->digest);
	free(ref->name);
	memset(ref, 0, sizeof(*ref));
}

/* Parses ref; see runtime.h. */
int rt_imageref_parse(const char *ref, const char *default_registry, rt_imageref_t *out,
		      rt_error_t *err)
{
	memset(out, 0, sizeof(*out));
	if (default_registry == NULL || *default_registry == '\0')
		default_registry = RT_DEFAULT_REGISTRY;
	if (rt__registry_host_ok(default_registry, strlen(default_registry)) < 0)
		return rt_error_set(err, EINVAL, "invalid default registry `%s`", default_registry);
	if (ref == NULL || *ref == '\0')
		return rt_error_set(err, EINVAL, "empty image reference");

	const char *at = strchr(ref, '@');
	size_t namelen = at ? (size_t)(at - ref) : strlen(ref);
	/* The tag: a ':' after the last '/' of the part before '@'. */
	const char *slash = memrchr(ref, '/', namelen);
	const char *colon =
	    memchr(slash ? slash : ref, ':', namelen - (size_t)((slash ? slash : ref) - ref));
	if (colon != NULL) {
		out->tag = xstrndup(colon + 1, namelen - (size_t)(colon + 1 - ref));
		namelen = (size_t)(colon - ref);
	}
	if (at != NULL)
		out->digest = xstrndup(at + 1, strlen(at + 1));

	if (namelen == 0) {
		rt_error_set(err, EINVAL, "image reference `%s`: empty name", ref);
		goto bad;
	}
	if (namelen > NAME_MAX_LEN) {
		rt_error_set(err, EINVAL,
			     "image reference `%.40s...`: name longer than %d characters", ref,
			     NAME_MAX_LEN);
		goto bad;
	}
	if (out->tag != NULL && !tag_ok(out->tag)) {
		rt_error_set(
		    err, EINVAL,
		    "image reference `%s`: invalid tag `%s` (want [A-Za-z0-9_][A-Za-z0-9_.-]"
		    ", at most %d characters)",
		    ref, out->tag, TAG_MAX_LEN);
		goto bad;
	}
	if (out->digest != NULL) {
		if (strncmp(out->digest, "sha256:", 7) != 0 && strchr(out->digest, ':') != NULL) {
			rt_error_set(err, EINVAL,
				     "image reference `%s`: unsupported digest algorithm in `%s` "
				     "(only sha256)",
				     ref, out->digest);
			goto bad;
		}
		if (rt__digest_hex(out->digest, NULL) < 0) {
			rt_error_set(err, EINVAL,
				     "image reference `%s`: invalid digest `%s` (want sha256:<64 "
				     "lowercase hex digits>)",
				     ref, out->digest);
			goto bad;
		}
	}

	/* Domain or not. */
	const char *path = ref;
	size_t pathlen = namelen;
	bool implicit = true;
	const char *first_slash = memchr(ref, '/', namelen);
	if (first_slash != NULL && looks_like_domain(ref, (size_t)(first_slash - ref))) {
		size_t dlen = (size_t)(first_slash - ref);
		if (rt__registry_host_ok(ref, dlen) < 0) {
			rt_error_set(err, EINVAL,
				     "image reference `%s`: invalid registry host `%.*s`", ref,
				     (int)dlen, ref);
			goto bad;
		}
		out->registry = xstrndup(ref, dlen);
		path = first_slash + 1;
		pathlen = namelen - dlen - 1;
		implicit = false;
	} else {
		out->registry = xstrndup(default_registry, strlen(default_registry));
	}
	if (strcmp(out->registry, "index.docker.io") == 0) {
		free(out->registry);
		out->registry = xstrndup("docker.io", 9);
	}

	/* Path components. */
	if (pathlen == 0) {
		rt_error_set(err, EINVAL, "image reference `%s`: empty repository path", ref);
		goto bad;
	}
	for (size_t i = 0; i <= pathlen;) {
		const char *c = path + i;
		const char *end = memchr(c, '/', pathlen - i);
		size_t len = end ? (size_t)(end - c) : pathlen - i;
		if (!path_component_ok(c, len)) {
			bool upper = false;
			for (size_t k = 0; k < len; k++)
				upper |= isupper((unsigned char)c[k]) != 0;
			rt_error_set(err, EINVAL,
				     "image reference `%s`: invalid repository path component "
				     "`%.*s`%s",
				     ref, (int)len, c,
				     upper ? " (repository names must be lowercase)"
					   : " (want lowercase letters and digits joined by '.', "
					     "'_', '__' or '-')");
			goto bad;
		}
		i += len + 1;
		if (end == NULL)
			break;
	}
	bool one = memchr(path, '/', pathlen) == NULL;
	if (one && (implicit || strcmp(out->registry, "docker.io") == 0)) {
		if (asprintf(&out->repository, "library/%.*s", (int)pathlen, path) < 0)
			abort();
	} else {
		out->repository = xstrndup(path, pathlen);
	}

	/* The limit holds for the full name the registry sees (Docker's rule), so
	 * that a canonical name always parses again. */
	if (strlen(out->registry) + 1 + strlen(out->repository) > NAME_MAX_LEN) {
		rt_error_set(err, EINVAL,
			     "image reference `%.40s...`: name longer than %d characters with "
			     "its registry `%s`",
			     ref, NAME_MAX_LEN, out->registry);
		goto bad;
	}
	if (out->tag == NULL && out->digest == NULL)
		out->tag = xstrndup("latest", 6);
	int n;
	if (out->digest != NULL)
		n = asprintf(&out->name, "%s/%s@%s", out->registry, out->repository, out->digest);
	else
		n = asprintf(&out->name, "%s/%s:%s", out->registry, out->repository, out->tag);
	if (n < 0)
		abort();
	return 0;
bad:
	rt_imageref_clear(out);
	return -1;
}
