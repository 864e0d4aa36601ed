/* schedd's log: one line per event on stderr, "I 09:12:01.123 message". */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "scheduler/sched.h"

int64_t sched_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t sched_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sched_log(char level, const char *fmt, ...)
{
	char line[1024];
	int64_t now = sched_now_ms();
	time_t secs = (time_t)(now / 1000);
	struct tm tm;
	va_list ap;
	int n;

	gmtime_r(&secs, &tm);
	n = snprintf(line, sizeof(line), "%c %02d:%02d:%02d.%03d ", level, tm.tm_hour, tm.tm_min,
		     tm.tm_sec, (int)(now % 1000));
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	/* One call per line: stderr is unbuffered and glibc writes it at once. */
	fprintf(stderr, "%s\n", line);
}
