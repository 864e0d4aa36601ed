/* Kubernetes resource quantities: "100m", "0.5", "64Mi", "1G", "129e6".
 *
 * A quantity is <sign><digits>[.<digits>]<suffix>, the suffix one of the
 * binary-SI (Ki Mi Gi Ti Pi Ei), decimal-SI (n u m "" k M G T P E) or
 * decimal-exponent (e3, E-2) forms. Values are computed exactly in 128-bit
 * integers and rounded up to the unit asked for, as Kubernetes rounds. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "proto/api-internal.h"

typedef __int128 i128;

struct suffix {
	const char *s;
	int pow10;
	int pow2;
};

static const struct suffix suffixes[] = {
    {"Ki", 0, 10}, {"Mi", 0, 20}, {"Gi", 0, 30}, {"Ti", 0, 40}, {"Pi", 0, 50}, {"Ei", 0, 60},
    {"n", -9, 0},  {"u", -6, 0},  {"m", -3, 0},	 {"", 0, 0},	{"k", 3, 0},   {"M", 6, 0},
    {"G", 9, 0},   {"T", 12, 0},  {"P", 15, 0},	 {"E", 18, 0},
};

/* Parses s into value * 10^scale (rounded up); 0 or -EINVAL. */
static int parse_scaled(const char *s, int scale, int64_t *out)
{
	const char *p = s;
	if (!s || !*s)
		return -EINVAL;
	if (*p == '+')
		p++;
	else if (*p == '-')
		return -EINVAL; /* resources are never negative */

	i128 mant = 0;
	int ndigits = 0, frac = 0, sig = 0;
	bool dot = false;
	for (; (*p >= '0' && *p <= '9') || *p == '.'; p++) {
		if (*p == '.') {
			if (dot)
				return -EINVAL;
			dot = true;
			continue;
		}
		ndigits++;
		if (mant == 0 && *p == '0') {
			if (dot)
				frac++;
			continue;
		}
		if (++sig > 30)
			return -EINVAL; /* absurd precision */
		mant = mant * 10 + (*p - '0');
		if (dot)
			frac++;
	}
	if (ndigits == 0)
		return -EINVAL;

	int pow10 = -frac + scale, pow2 = 0;
	const struct suffix *sf = NULL;
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++)
		if (strcmp(p, suffixes[i].s) == 0)
			sf = &suffixes[i];
	if (sf) {
		pow10 += sf->pow10;
		pow2 = sf->pow2;
	} else if (*p == 'e' || *p == 'E') {
		const char *q = p + 1;
		int neg = 0, e = 0, ed = 0;
		if (*q == '+' || *q == '-')
			neg = *q++ == '-';
		for (; *q >= '0' && *q <= '9'; q++, ed++) {
			e = e * 10 + (*q - '0');
			if (e > 1000)
				return -EINVAL;
		}
		if (ed == 0 || *q)
			return -EINVAL;
		pow10 += neg ? -e : e;
	} else {
		return -EINVAL;
	}

	const i128 max = INT64_MAX;
	if (mant == 0) {
		*out = 0;
		return 0;
	}
	for (int i = 0; i < pow2; i++) {
		mant *= 2;
		if (mant > max)
			return -EINVAL;
	}
	if (pow10 >= 0) {
		for (int i = 0; i < pow10; i++) {
			mant *= 10;
			if (mant > max)
				return -EINVAL;
		}
	} else {
		/* Divide rounding up; once the divisor exceeds the value the
		 * result is 1 (the smallest unit), as Kubernetes rounds up. */
		i128 div = 1;
		for (int i = 0; i < -pow10; i++) {
			div *= 10;
			if (div > mant) {
				mant = 1;
				div = 1;
				break;
			}
		}
		mant = (mant + div - 1) / div;
	}
	if (mant > max)
		return -EINVAL;
	*out = (int64_t)mant;
	return 0;
}

int api_quantity_parse_cpu(const char *s, int64_t *millis)
{
	return parse_scaled(s, 3, millis);
}

int api_quantity_parse_memory(const char *s, int64_t *bytes)
{
	return parse_scaled(s, 0, bytes);
}

/* 1500 -> "1500m", 2000 -> "2", 0 -> "0". */
void api_quantity_format_cpu(int64_t millis, char *buf, size_t len)
{
	if (millis % 1000 == 0)
		snprintf(buf, len, "%" PRId64, millis / 1000);
	else
		snprintf(buf, len, "%" PRId64 "m", millis);
}

/* Exact binary suffix first (64Mi), then exact decimal (1M), else bytes. */
void api_quantity_format_memory(int64_t bytes, char *buf, size_t len)
{
	static const char *bin[] = {"Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
	static const char *dec[] = {"k", "M", "G", "T", "P", "E"};
	if (bytes <= 0) {
		snprintf(buf, len, "%" PRId64, bytes);
		return;
	}
	int b = -1, d = -1;
	int64_t vb = bytes, vd = bytes;
	while (b < 5 && vb % 1024 == 0) {
		vb /= 1024;
		b++;
	}
	while (d < 5 && vd % 1000 == 0) {
		vd /= 1000;
		d++;
	}
	if (b >= 0 && b >= d)
		snprintf(buf, len, "%" PRId64 "%s", vb, bin[b]);
	else if (d >= 0)
		snprintf(buf, len, "%" PRId64 "%s", vd, dec[d]);
	else
		snprintf(buf, len, "%" PRId64, bytes);
}
