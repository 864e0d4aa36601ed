/* RFC 3339 timestamps and DNS-1123 name validators. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "proto/api-internal.h"

/* "2026-11-29T09:10:11Z" (seconds precision, UTC); 0 -> "". */
void api_format_time(int64_t unix_ms, char *buf, size_t len)
{
	if (len == 0)
		return;
	buf[0] = '\0';
	if (unix_ms == 0)
		return;
	time_t t = (time_t)(unix_ms >= 0 ? unix_ms / 1000 : (unix_ms - 999) / 1000);
	struct tm tm;
	if (!gmtime_r(&t, &tm))
		return;
	/* Four-digit years always (strftime's %Y gives "999" for year 999, which
	 * is not RFC 3339); years past 9999 cannot be written, so none is. */
	int year = tm.tm_year + 1900;
	if (year < 0 || year > 9999)
		return;
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02dZ", year, tm.tm_mon + 1, tm.tm_mday,
		 tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static int digits(const char **p, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		char c = (*p)[i];
		if (c < '0' || c > '9')
			return -1;
		v = v * 10 + (c - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

/* YYYY-MM-DD[Tt ]hh:mm:ss[.frac](Z|z|+hh:mm|-hh:mm). */
int api_parse_time(const char *s, int64_t *unix_ms)
{
	int Y, M, D, h, m, sec, ms = 0;
	const char *p = s;
	if (!s)
		return -EINVAL;
	if (digits(&p, 4, &Y) || *p++ != '-' || digits(&p, 2, &M) || *p++ != '-' ||
	    digits(&p, 2, &D))
		return -EINVAL;
	if (*p != 'T' && *p != 't' && *p != ' ')
		return -EINVAL;
	p++;
	if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &m) || *p++ != ':' ||
	    digits(&p, 2, &sec))
		return -EINVAL;
	if (*p == '.') {
		p++;
		int n = 0;
		for (; *p >= '0' && *p <= '9'; p++, n++)
			if (n < 3)
				ms = ms * 10 + (*p - '0');
		if (n == 0)
			return -EINVAL;
		for (; n < 3; n++)
			ms *= 10;
	}
	int off = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1, oh, om;
		if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om) || oh > 23 || om > 59)
			return -EINVAL;
		off = sign * (oh * 3600 + om * 60);
	} else {
		return -EINVAL;
	}
	if (*p || M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60)
		return -EINVAL;
	struct tm tm = {.tm_year = Y - 1900,
			.tm_mon = M - 1,
			.tm_mday = D,
			.tm_hour = h,
			.tm_min = m,
			.tm_sec = sec};
	time_t t = timegm(&tm);
	*unix_ms = ((int64_t)t - off) * 1000 + ms;
	return 0;
}

static bool alnum_lower(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool label_n(const char *s, size_t n)
{
	if (n == 0 || n > 63 || !alnum_lower(s[0]) || !alnum_lower(s[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!alnum_lower(s[i]) && s[i] != '-')
			return false;
	return true;
}

/* 1-63 of [a-z0-9-], starting and ending alphanumeric. */
bool api_is_dns1123_label(const char *s)
{
	return s && label_n(s, strlen(s));
}

/* At most 253 characters: DNS-1123 labels joined by dots. */
bool api_is_dns1123_subdomain(const char *s)
{
	if (!s)
		return false;
	size_t len = strlen(s);
	if (len == 0 || len > 253)
		return false;
	const char *p = s;
	for (;;) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		if (!label_n(p, n))
			return false;
		if (!dot)
			return true;
		p = dot + 1;
	}
}
