/* libapi helpers: allocation, string vectors, ordered string maps, errors. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/api-internal.h"

static void oom(size_t n)
{
	fprintf(stderr, "libapi: out of memory allocating %zu bytes\n", n);
	abort();
}

void *api__xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

void *api__xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom(n * size);
	return p;
}

void *api__xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		oom(n);
	return q;
}

char *api__xstrdup(const char *s)
{
	if (!s)
		return NULL;
	size_t n = strlen(s) + 1;
	char *d = api__xmalloc(n);
	memcpy(d, s, n);
	return d;
}

size_t api__strv_len(char *const *v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	return n;
}

char **api__strv_copy(char *const *v)
{
	if (!v)
		return NULL;
	size_t n = api__strv_len(v);
	char **d = api__xcalloc(n + 1, sizeof(*d));
	for (size_t i = 0; i < n; i++)
		d[i] = api__xstrdup(v[i]);
	return d;
}

void api__strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

int api__errorf(api_error_t *err, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* Returns the value for key, or NULL (also for a NULL list). */
const char *api_kv_get(const api_kvlist_t *l, const char *key)
{
	for (size_t i = 0; l && i < l->n; i++)
		if (strcmp(l->items[i].key, key) == 0)
			return l->items[i].value;
	return NULL;
}

/* Copies key and value; an existing key keeps its position, new keys go last. */
void api_kv_set(api_kvlist_t *l, const char *key, const char *value)
{
	for (size_t i = 0; i < l->n; i++) {
		if (strcmp(l->items[i].key, key) == 0) {
			char *v = api__xstrdup(value);
			free(l->items[i].value);
			l->items[i].value = v;
			return;
		}
	}
	l->items = api__xrealloc(l->items, (l->n + 1) * sizeof(*l->items));
	l->items[l->n].key = api__xstrdup(key);
	l->items[l->n].value = api__xstrdup(value);
	l->n++;
}

/* Frees every entry and leaves the list empty (reusable). */
void api_kvlist_free(api_kvlist_t *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++) {
		free(l->items[i].key);
		free(l->items[i].value);
	}
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

void api__kvlist_copy(api_kvlist_t *dst, const api_kvlist_t *src)
{
	dst->items = NULL;
	dst->n = 0;
	if (!src || src->n == 0)
		return;
	dst->items = api__xcalloc(src->n, sizeof(*dst->items));
	for (size_t i = 0; i < src->n; i++) {
		dst->items[i].key = api__xstrdup(src->items[i].key);
		dst->items[i].value = api__xstrdup(src->items[i].value);
	}
	dst->n = src->n;
}

bool api__utf8_valid(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;
	while (i < len) {
		unsigned c = s[i];
		size_t n;
		unsigned cp;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			n = 1;
			cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			n = 2;
			cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			n = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (i + n >= len)
			return false;
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000))
			return false; /* overlong */
		if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n + 1;
	}
	return true;
}
