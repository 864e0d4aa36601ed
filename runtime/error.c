/* rt_error_t: an errno and a message that says what failed, on what, and why. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "runtime/runtime.h"

int rt_error_set(rt_error_t *err, int errnum, const char *fmt, ...)
{
	if (err == NULL)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		err->msg[0] = '\0';
	size_t len = strlen(err->msg);
	if (errnum != 0 && len < sizeof(err->msg))
		snprintf(err->msg + len, sizeof(err->msg) - len, ": %s", strerror(errnum));
	err->errnum = errnum;
	return -1;
}

int rt_error_wrap(rt_error_t *err, const char *fmt, ...)
{
	if (err == NULL)
		return -1;
	char prefix[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	if (n < 0)
		prefix[0] = '\0';
	char old[sizeof(err->msg)];
	memcpy(old, err->msg, sizeof(old));
	old[sizeof(old) - 1] = '\0';
	if (snprintf(err->msg, sizeof(err->msg), "%s: %s", prefix, old) < 0)
		err->msg[0] = '\0';
	return -1;
}
