/* schedctl's HTTP client: one libcurl easy request per call. */
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "scheduler/schedctl.h"

struct buf {
	char *p;
	size_t len;
};

static size_t on_data(char *data, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;
	size_t add = size * n;
	char *np = realloc(b->p, b->len + add + 1);
	if (!np)
		return 0; /* curl reports a write error */
	memcpy(np + b->len, data, add);
	b->p = np;
	b->len += add;
	b->p[b->len] = '\0';
	return add;
}

int sc_http(const char *server, const char *method, const char *path, const char *body,
	    sc_response_t *resp, char *err, size_t errlen)
{
	static bool inited;
	char url[2048], cerr[CURL_ERROR_SIZE] = "";
	struct buf b = {NULL, 0};
	struct curl_slist *hdrs = NULL;
	const char *token = getenv("NODELET_TOKEN");
	size_t sl = strlen(server);

	memset(resp, 0, sizeof(*resp));
	if (!inited) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		inited = true;
	}
	while (sl > 0 && server[sl - 1] == '/')
		sl--;
	snprintf(url, sizeof(url), "%.*s%s", (int)sl, server, path);

	CURL *c = curl_easy_init();
	if (!c) {
		snprintf(err, errlen, "cannot reach schedd at %s: curl_easy_init failed", server);
		return -1;
	}
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	hdrs = curl_slist_append(hdrs, "Expect:"); /* schedd does not answer 100-continue */
	if (body)
		hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	if (token && *token) {
		char auth[1024];
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
		hdrs = curl_slist_append(hdrs, auth);
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "schedctl/0.1");
	if (body) {
		/* POSTFIELDS sends Content-Length, never chunked (PITFALLS.md). */
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);

	CURLcode rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		long oserr = 0;
		curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &oserr);
		const char *why =
		    oserr ? strerror((int)oserr) : (*cerr ? cerr : curl_easy_strerror(rc));
		snprintf(err, errlen, "cannot reach schedd at %.*s: %s", (int)sl, server, why);
		free(b.p);
		curl_slist_free_all(hdrs);
		curl_easy_cleanup(c);
		return -1;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->code);
	if (!b.p) {
		b.p = calloc(1, 1);
		if (!b.p)
			abort();
	}
	resp->body = b.p;
	resp->len = b.len;
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	return 0;
}

void sc_response_free(sc_response_t *resp)
{
	free(resp->body);
	memset(resp, 0, sizeof(*resp));
}

static json_t *status_body(const sc_response_t *resp)
{
	json_t *j = json_loadb(resp->body ? resp->body : "", resp->len, 0, NULL);
	if (j && !json_is_object(j)) {
		json_decref(j);
		return NULL;
	}
	return j;
}

void sc_response_message(const sc_response_t *resp, char *buf, size_t len)
{
	json_t *j = status_body(resp);
	const char *m = json_string_value(json_object_get(j, "message"));
	if (m && *m) {
		snprintf(buf, len, "%s", m);
	} else if (resp->len) {
		size_t n = resp->len;
		while (n > 0 && (resp->body[n - 1] == '\n' || resp->body[n - 1] == '\r'))
			n--;
		snprintf(buf, len, "HTTP %ld: %.*s", resp->code, (int)n, resp->body);
	} else {
		snprintf(buf, len, "HTTP %ld", resp->code);
	}
	json_decref(j);
}

const char *sc_response_reason(const sc_response_t *resp, char *buf, size_t len)
{
	json_t *j = status_body(resp);
	const char *r = json_string_value(json_object_get(j, "reason"));
	snprintf(buf, len, "%s", r ? r : "");
	json_decref(j);
	return buf;
}
