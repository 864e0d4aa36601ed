/* A blocking client of the OCI distribution protocol (registry v2) for one
 * repository: manifests into memory, blobs streamed to a caller's sink, over
 * HTTP or HTTPS with libcurl.
 *
 * Auth follows the registry's lead: a request goes out anonymously (or with a
 * token got earlier); a 401 carries a WWW-Authenticate challenge, either
 * `Bearer realm=..,service=..,scope=..` (a token is fetched from the realm,
 * with the node's basic credentials when it has some, and the request is
 * retried with it) or `Basic` (retried with the credentials). Credentials and
 * tokens go in an Authorization header that curl drops when a redirect leaves
 * the host (blob storage often lives elsewhere).
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "runtime/image-internal.h"

#define ERR_BODY_MAX (64 * 1024)
#define TOKEN_BODY_MAX (1024 * 1024)

struct rt__registry {
	CURL *curl;
	char *base;	  /* "https://host:port/v2/<repository>" */
	char *registry;	  /* "host:port" */
	char *repository; /* "library/busybox" */
	char *ca_file;
	char *basic;  /* base64 "user:pass", or NULL */
	char *bearer; /* token, or NULL */
	bool use_basic;
	/* An insecure registry (Docker's --insecure-registry): HTTPS without
	 * certificate verification first, plain HTTP when HTTPS fails before any
	 * answer; once something answered, the scheme stays. */
	bool insecure;
	bool answered;
	char errbuf[CURL_ERROR_SIZE];
};

/* What one response left behind. */
struct response {
	long status;
	char *body; /* when not streamed (errors, manifests, tokens) */
	size_t len, max;
	bool too_big;
	char *www_auth, *content_type, *digest;
	rt__sink_fn sink; /* 200 bodies go here when set */
	void *sink_arg;
	bool sink_failed;
	CURL *curl;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		abort();
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s);
	if (d == NULL)
		abort();
	return d;
}

static void response_reset(struct response *r)
{
	free(r->body);
	free(r->www_auth);
	free(r->content_type);
	free(r->digest);
	r->body = r->www_auth = r->content_type = r->digest = NULL;
	r->len = 0;
	r->too_big = false;
	r->status = 0;
}

static size_t on_header(char *buf, size_t size, size_t n, void *arg)
{
	struct response *r = arg;
	size_t len = size * n;
	if (len >= 5 && strncmp(buf, "HTTP/", 5) == 0) {
		/* a new response (redirect, 100): forget the previous one's headers */
		free(r->www_auth);
		free(r->content_type);
		free(r->digest);
		r->www_auth = r->content_type = r->digest = NULL;
		return len;
	}
	const char *colon = memchr(buf, ':', len);
	if (colon == NULL)
		return len;
	size_t klen = (size_t)(colon - buf);
	const char *v = colon + 1;
	const char *end = buf + len;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
		end--;
	char **slot = NULL;
	if (klen == 16 && strncasecmp(buf, "www-authenticate", 16) == 0)
		slot = &r->www_auth;
	else if (klen == 12 && strncasecmp(buf, "content-type", 12) == 0)
		slot = &r->content_type;
	else if (klen == 21 && strncasecmp(buf, "docker-content-digest", 21) == 0)
		slot = &r->digest;
	if (slot != NULL && *slot == NULL) /* the first Bearer/Basic challenge wins */
		if ((*slot = strndup(v, (size_t)(end - v))) == NULL)
			abort();
	return len;
}

static size_t on_body(char *buf, size_t size, size_t n, void *arg)
{
	struct response *r = arg;
	size_t len = size * n;
	long status = 0;
	curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status == 200 && r->sink != NULL) {
		if (r->sink(r->sink_arg, buf, len) < 0) {
			r->sink_failed = true;
			return 0; /* aborts the transfer */
		}
		return len;
	}
	if (r->len + len > r->max) {
		r->too_big = true;
		return 0;
	}
	char *nb = realloc(r->body, r->len + len + 1);
	if (nb == NULL)
		abort();
	r->body = nb;
	memcpy(r->body + r->len, buf, len);
	r->len += len;
	r->body[r->len] = '\0';
	return len;
}

/* ---- challenges and credentials -------------------------------------------- */

void rt__challenge_clear(rt__challenge_t *c)
{
	free(c->realm);
	free(c->service);
	free(c->scope);
	memset(c, 0, sizeof(*c));
}

/* Parses `Bearer realm="...",service="...",scope="..."` or `Basic realm=".."`. */
int rt__challenge_parse(const char *header, rt__challenge_t *c)
{
	memset(c, 0, sizeof(*c));
	const char *p = header;
	while (*p == ' ')
		p++;
	if (strncasecmp(p, "bearer", 6) == 0 && (p[6] == ' ' || p[6] == '\0'))
		c->scheme = RT__AUTH_BEARER, p += 6;
	else if (strncasecmp(p, "basic", 5) == 0 && (p[5] == ' ' || p[5] == '\0'))
		c->scheme = RT__AUTH_BASIC, p += 5;
	else
		return -1;
	while (*p) {
		while (*p == ' ' || *p == ',')
			p++;
		const char *k = p;
		while (*p && *p != '=' && *p != ',' && *p != ' ')
			p++;
		size_t klen = (size_t)(p - k);
		if (*p != '=')
			continue;
		p++;
		char *val;
		if (*p == '"') {
			p++;
			val = malloc(strlen(p) + 1);
			if (val == NULL)
				abort();
			size_t n = 0;
			while (*p && *p != '"') {
				if (*p == '\\' && p[1])
					p++;
				val[n++] = *p++;
			}
			val[n] = '\0';
			if (*p == '"')
				p++;
		} else {
			const char *v = p;
			while (*p && *p != ',' && *p != ' ')
				p++;
			if ((val = strndup(v, (size_t)(p - v))) == NULL)
				abort();
		}
		char **slot = NULL;
		if (klen == 5 && strncasecmp(k, "realm", 5) == 0)
			slot = &c->realm;
		else if (klen == 7 && strncasecmp(k, "service", 7) == 0)
			slot = &c->service;
		else if (klen == 5 && strncasecmp(k, "scope", 5) == 0)
			slot = &c->scope;
		if (slot != NULL && *slot == NULL)
			*slot = val;
		else
			free(val);
	}
	if (c->scheme == RT__AUTH_BEARER && (c->realm == NULL || *c->realm == '\0')) {
		rt__challenge_clear(c);
		return -1;
	}
	return 0;
}

/* "https://index.docker.io/v1/" -> "docker.io"; "http://h:5000/x" -> "h:5000". */
static char *auth_key_host(const char *key)
{
	if (strncmp(key, "https://", 8) == 0)
		key += 8;
	else if (strncmp(key, "http://", 7) == 0)
		key += 7;
	char *h = strndup(key, strcspn(key, "/"));
	if (h == NULL)
		abort();
	if (strcmp(h, "index.docker.io") == 0 || strcmp(h, "registry-1.docker.io") == 0) {
		free(h);
		h = xstrdup("docker.io");
	}
	return h;
}

static char *b64_encode(const char *s)
{
	size_t n = strlen(s);
	char *out = malloc(4 * ((n + 2) / 3) + 1);
	if (out == NULL)
		abort();
	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)n);
	return out;
}

/* Looks registry up in a Docker config.json-style file; see image-internal.h. */
int rt__creds_lookup(const char *file, const char *registry, char **basic, rt_error_t *err)
{
	*basic = NULL;
	json_error_t jerr;
	json_t *root = json_load_file(file, 0, &jerr);
	if (root == NULL)
		return rt_error_set(err, EINVAL, "reading registry credentials `%s`: %s (line %d)",
				    file, jerr.text, jerr.line);
	json_t *auths = json_object_get(root, "auths");
	int ret = 0;
	if (auths != NULL && !json_is_object(auths)) {
		ret = rt_error_set(err, EINVAL,
				   "registry credentials `%s`: `auths` is not an object", file);
		goto out;
	}
	const char *key;
	json_t *ent;
	json_object_foreach(auths, key, ent)
	{
		char *h = auth_key_host(key);
		bool match = strcmp(h, registry) == 0;
		free(h);
		if (!match || !json_is_object(ent))
			continue;
		const char *auth = json_string_value(json_object_get(ent, "auth"));
		const char *user = json_string_value(json_object_get(ent, "username"));
		const char *pass = json_string_value(json_object_get(ent, "password"));
		if (auth != NULL && *auth != '\0') {
			/* check it decodes to "user:pass" */
			size_t n = strlen(auth);
			unsigned char *dec = malloc(n + 1);
			if (dec == NULL)
				abort();
			int dn = EVP_DecodeBlock(dec, (const unsigned char *)auth, (int)n);
			bool ok = dn > 0 && memchr(dec, ':', (size_t)dn) != NULL;
			free(dec);
			if (!ok) {
				ret =
				    rt_error_set(err, EINVAL,
						 "registry credentials `%s`: auths.%s.auth is not "
						 "base64 of user:password",
						 file, key);
				goto out;
			}
			*basic = xstrdup(auth);
		} else if (user != NULL && pass != NULL) {
			char *up = NULL;
			if (asprintf(&up, "%s:%s", user, pass) < 0)
				abort();
			*basic = b64_encode(up);
			free(up);
		} else {
			continue;
		}
		break;
	}
out:
	json_decref(root);
	return ret;
}

/* ---- requests ---------------------------------------------------------------- */

rt__registry_t *rt__registry_new(const char *registry, const char *repository, bool insecure,
				 const char *ca_file, const char *basic)
{
	pthread_once(&curl_once, curl_init_once);
	rt__registry_t *r = calloc(1, sizeof(*r));
	if (r == NULL || (r->curl = curl_easy_init()) == NULL)
		abort();
	/* docker.io's API lives on registry-1.docker.io */
	const char *host = strcmp(registry, "docker.io") == 0 ? "registry-1.docker.io" : registry;
	if (asprintf(&r->base, "https://%s/v2/%s", host, repository) < 0)
		abort();
	r->insecure = insecure;
	r->registry = xstrdup(registry);
	r->repository = xstrdup(repository);
	r->ca_file = ca_file ? xstrdup(ca_file) : NULL;
	r->basic = basic ? xstrdup(basic) : NULL;
	return r;
}

void rt__registry_free(rt__registry_t *r)
{
	if (r == NULL)
		return;
	curl_easy_cleanup(r->curl);
	free(r->base);
	free(r->registry);
	free(r->repository);
	free(r->ca_file);
	free(r->basic);
	free(r->bearer);
	free(r);
}

/* "UNAUTHORIZED: authentication required; ..." from a registry error body,
 * or the start of the body when it is not the registry's JSON. */
static void error_text(const struct response *resp, char *out, size_t size)
{
	out[0] = '\0';
	if (resp->body == NULL || resp->len == 0)
		return;
	json_t *j = json_loadb(resp->body, resp->len, 0, NULL);
	json_t *errs = json_object_get(j, "errors");
	size_t i, off = 0;
	json_t *e;
	json_array_foreach(errs, i, e)
	{
		const char *code = json_string_value(json_object_get(e, "code"));
		const char *msg = json_string_value(json_object_get(e, "message"));
		int n = snprintf(out + off, size - off, "%s%s%s%s", off ? "; " : "",
				 code ? code : "", code && msg ? ": " : "", msg ? msg : "");
		if (n < 0 || (size_t)n >= size - off)
			break;
		off += (size_t)n;
	}
	if (off == 0) {
		size_t n = resp->len < 200 ? resp->len : 200;
		size_t k = 0;
		for (size_t c = 0; c < n && k + 1 < size; c++)
			out[k++] = isprint((unsigned char)resp->body[c]) ? resp->body[c] : ' ';
		out[k] = '\0';
	}
	json_decref(j);
}

/* One GET of url; resp is filled. Adds the auth header this client has. */
static int perform(rt__registry_t *r, const char *url, const char *accept, const char *auth,
		   struct response *resp, rt_error_t *err)
{
	CURL *c = r->curl;
	curl_easy_reset(c);
	struct curl_slist *hdrs = NULL;
	char *h = NULL;
	if (accept != NULL) {
		if (asprintf(&h, "Accept: %s", accept) < 0)
			abort();
		hdrs = curl_slist_append(hdrs, h);
		free(h);
	}
	if (auth != NULL) {
		if (asprintf(&h, "Authorization: %s", auth) < 0)
			abort();
		hdrs = curl_slist_append(hdrs, h);
		free(h);
	}
	resp->curl = c;
	r->errbuf[0] = '\0';
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "nodelet/0.1");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, resp);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
	if (r->ca_file != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, r->ca_file);
	if (r->insecure) {
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	CURLcode rc = curl_easy_perform(c);
	curl_slist_free_all(hdrs);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
	if (resp->sink_failed)
		return -1; /* the sink set err */
	if (resp->too_big)
		return rt_error_set(err, EFBIG, "GET %s: response over %zu bytes", url, resp->max);
	if (rc != CURLE_OK) {
		rt_error_set(err, 0, "GET %s: %s", url,
			     r->errbuf[0] ? r->errbuf : curl_easy_strerror(rc));
		if (err != NULL)
			err->errnum = EIO;
		return -1;
	}
	return 0;
}

static char *url_escape(CURL *c, const char *s)
{
	char *e = curl_easy_escape(c, s, 0);
	if (e == NULL)
		abort();
	char *d = xstrdup(e);
	curl_free(e);
	return d;
}

/* Fetches a bearer token for the challenge; replaces r->bearer. */
static int fetch_token(rt__registry_t *r, const rt__challenge_t *ch, rt_error_t *err)
{
	char *scope = NULL;
	if (ch->scope != NULL)
		scope = xstrdup(ch->scope);
	else if (asprintf(&scope, "repository:%s:pull", r->repository) < 0)
		abort();
	if (strncmp(ch->realm, "https://", 8) != 0 && strncmp(ch->realm, "http://", 7) != 0) {
		free(scope);
		return rt_error_set(err, EINVAL,
				    "registry %s: token realm `%s` is not an http(s) URL",
				    r->registry, ch->realm);
	}
	char *es = url_escape(r->curl, scope), *url = NULL;
	char *esv = ch->service ? url_escape(r->curl, ch->service) : NULL;
	if (asprintf(&url, "%s%cscope=%s%s%s", ch->realm, strchr(ch->realm, '?') ? '&' : '?', es,
		     esv ? "&service=" : "", esv ? esv : "") < 0)
		abort();
	free(es);
	free(esv);
	free(scope);
	char *auth = NULL;
	if (r->basic != NULL && asprintf(&auth, "Basic %s", r->basic) < 0)
		abort();
	struct response resp = {.max = TOKEN_BODY_MAX};
	int ret = perform(r, url, "application/json", auth, &resp, err);
	free(auth);
	if (ret == 0 && resp.status != 200) {
		char text[512];
		error_text(&resp, text, sizeof(text));
		ret = rt_error_set(err, EACCES, "registry %s: token request to %s: HTTP %ld%s%s",
				   r->registry, ch->realm, resp.status, text[0] ? ": " : "", text);
	}
	if (ret == 0) {
		json_t *j = json_loadb(resp.body ? resp.body : "", resp.len, 0, NULL);
		const char *tok = json_string_value(json_object_get(j, "token"));
		if (tok == NULL || *tok == '\0')
			tok = json_string_value(json_object_get(j, "access_token"));
		if (tok == NULL || *tok == '\0' || strpbrk(tok, "\r\n") != NULL) {
			ret = rt_error_set(err, EACCES,
					   "registry %s: token response from %s has no token",
					   r->registry, ch->realm);
		} else {
			free(r->bearer);
			r->bearer = xstrdup(tok);
			r->use_basic = false;
		}
		json_decref(j);
	}
	response_reset(&resp);
	free(url);
	return ret;
}

/* GET path (relative to base) with auth handling; resp has the final answer,
 * which is a 200 on success. */
static int get(rt__registry_t *r, const char *path, const char *accept, struct response *resp,
	       rt_error_t *err)
{
	char *url = NULL;
	if (asprintf(&url, "%s/%s", r->base, path) < 0)
		abort();
	int ret = -1;
	for (int attempt = 0; attempt < 3; attempt++) {
		char *auth = NULL;
		if (r->bearer != NULL) {
			if (asprintf(&auth, "Bearer %s", r->bearer) < 0)
				abort();
		} else if (r->use_basic && asprintf(&auth, "Basic %s", r->basic) < 0) {
			abort();
		}
		response_reset(resp);
		ret = perform(r, url, accept, auth, resp, err);
		if (ret < 0 && resp->status == 0 && r->insecure && !r->answered &&
		    strncmp(r->base, "https://", 8) == 0 && err != NULL && err->errnum == EIO) {
			/* insecure registry without HTTPS: plain HTTP, as Docker does */
			char first[sizeof(err->msg)];
			snprintf(first, sizeof(first), "%s", err->msg);
			char *base = NULL, *u = NULL;
			if (asprintf(&base, "http://%s", r->base + 8) < 0 ||
			    asprintf(&u, "%s/%s", base, path) < 0)
				abort();
			free(r->base);
			r->base = base;
			free(url);
			url = u;
			response_reset(resp);
			ret = perform(r, url, accept, auth, resp, err);
			if (ret < 0)
				rt_error_wrap(err,
					      "insecure registry %s: HTTPS failed (%s), then HTTP",
					      r->registry, first);
		}
		free(auth);
		if (ret < 0)
			break;
		r->answered = true;
		if (resp->status == 200)
			break;
		if (resp->status == 401 && resp->www_auth != NULL && attempt < 2) {
			rt__challenge_t ch;
			if (rt__challenge_parse(resp->www_auth, &ch) < 0) {
				ret = rt_error_set(err, EACCES,
						   "GET %s: unsupported authentication challenge "
						   "`%s`",
						   url, resp->www_auth);
				break;
			}
			if (ch.scheme == RT__AUTH_BEARER) {
				ret = fetch_token(r, &ch, err);
				rt__challenge_clear(&ch);
				if (ret < 0)
					break;
				continue;
			}
			rt__challenge_clear(&ch);
			if (r->basic != NULL && !r->use_basic) {
				r->use_basic = true;
				continue;
			}
		}
		char text[512];
		error_text(resp, text, sizeof(text));
		int e = resp->status == 404			     ? ENOENT
			: resp->status == 401 || resp->status == 403 ? EACCES
								     : EIO;
		ret = rt_error_set(
		    err, 0, "GET %s: HTTP %ld%s%s%s", url, resp->status, text[0] ? ": " : "", text,
		    resp->status == 401 && r->basic == NULL ? " (no credentials for this registry)"
							    : "");
		if (err != NULL)
			err->errnum = e;
		break;
	}
	free(url);
	return ret;
}

#define MANIFEST_ACCEPT                                                                            \
	"application/vnd.oci.image.index.v1+json, "                                                \
	"application/vnd.oci.image.manifest.v1+json, "                                             \
	"application/vnd.docker.distribution.manifest.list.v2+json, "                              \
	"application/vnd.docker.distribution.manifest.v2+json"

/* GETs a manifest by tag or digest; see image-internal.h. */
int rt__registry_get_manifest(rt__registry_t *r, const char *ref, char **body, size_t *len,
			      char **media_type, char **digest, rt_error_t *err)
{
	struct response resp = {.max = RT_JSON_BLOB_MAX};
	char *path = NULL;
	if (asprintf(&path, "manifests/%s", ref) < 0)
		abort();
	int ret = get(r, path, MANIFEST_ACCEPT, &resp, err);
	free(path);
	if (ret == 0) {
		*body = resp.body ? resp.body : xstrdup("");
		*len = resp.len;
		resp.body = NULL;
		*media_type = NULL;
		if (resp.content_type != NULL) {
			size_t n = strcspn(resp.content_type, "; ");
			if ((*media_type = strndup(resp.content_type, n)) == NULL)
				abort();
		}
		*digest = resp.digest;
		resp.digest = NULL;
	}
	response_reset(&resp);
	return ret;
}

/* GETs a blob, streaming its body to sink; see image-internal.h. */
int rt__registry_get_blob(rt__registry_t *r, const char *digest, rt__sink_fn sink, void *arg,
			  rt_error_t *err)
{
	struct response resp = {.max = ERR_BODY_MAX, .sink = sink, .sink_arg = arg};
	char *path = NULL;
	if (asprintf(&path, "blobs/%s", digest) < 0)
		abort();
	int ret = get(r, path, NULL, &resp, err);
	free(path);
	response_reset(&resp);
	return ret;
}
