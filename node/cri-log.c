/* CRI log records (see cri-log.h), and the small file helpers shared by the
 * container-side code of the node. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "node/cri-log.h"

static const char *const stream_names[2] = {"stdout", "stderr"};

size_t node_cri_format_time(const struct timespec *ts, char *buf)
{
	struct tm tm;
	time_t sec = ts->tv_sec;
	gmtime_r(&sec, &tm);
	int n = snprintf(buf, NODE_CRI_TIME_LEN + 1, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			 tm.tm_sec, (long)ts->tv_nsec);
	if (n < 0)
		n = 0;
	return (size_t)n > NODE_CRI_TIME_LEN ? NODE_CRI_TIME_LEN : (size_t)n;
}

static int open_log(const char *path, rt_error_t *err)
{
	char dir[4096];
	if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir)
		return rt_error_set(err, ENAMETOOLONG, "opening log `%s`", path);
	char *slash = strrchr(dir, '/');
	if (slash != NULL && slash != dir) {
		*slash = '\0';
		if (node__mkdir_p(dir, 0755, err) < 0)
			return rt_error_wrap(err, "opening log `%s`", path);
	}
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
	if (fd < 0)
		return rt_error_set(err, errno, "opening log `%s`", path);
	return fd;
}

int node_cri_log_open(node_cri_log_t *l, const char *path, rt_error_t *err)
{
	l->fd = -1;
	l->path = NULL;
	l->len[0] = l->len[1] = 0;
	if (path == NULL)
		return 0;
	int fd = open_log(path, err);
	if (fd < 0)
		return -1;
	l->path = strdup(path);
	if (l->path == NULL) {
		close(fd);
		return rt_error_set(err, ENOMEM, "opening log `%s`", path);
	}
	l->fd = fd;
	return 0;
}

int node_cri_log_reopen(node_cri_log_t *l, rt_error_t *err)
{
	if (l->path == NULL)
		return 0;
	int fd = open_log(l->path, err);
	if (fd < 0)
		return -1;
	if (l->fd >= 0)
		close(l->fd);
	l->fd = fd;
	return 0;
}

/* One record, one write: the reader never sees half a record. */
static int emit(node_cri_log_t *l, int stream, bool partial, const char *msg, size_t len,
		rt_error_t *err)
{
	if (l->fd < 0)
		return 0;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	char head[NODE_CRI_TIME_LEN + 16];
	size_t hl = node_cri_format_time(&ts, head);
	hl += (size_t)snprintf(head + hl, sizeof head - hl, " %s %c ", stream_names[stream],
			       partial ? 'P' : 'F');
	struct iovec iov[3] = {
	    {head, hl},
	    {(void *)msg, len},
	    {"\n", 1},
	};
	size_t total = hl + len + 1;
	ssize_t w;
	do
		w = writev(l->fd, iov, 3);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		return rt_error_set(err, errno, "writing log `%s`", l->path ? l->path : "?");
	if ((size_t)w != total)
		return rt_error_set(err, ENOSPC, "writing log `%s`: short write", l->path);
	return 0;
}

int node_cri_log_write(node_cri_log_t *l, int stream, const char *data, size_t len, rt_error_t *err)
{
	int rc = 0;
	char *buf = l->buf[stream];
	while (len > 0) {
		const char *nl = memchr(data, '\n', len);
		size_t take = nl != NULL ? (size_t)(nl - data) : len;
		size_t room = NODE_CRI_MAX_LINE - l->len[stream];
		if (take > room) {
			/* The line is too long: out goes a full buffer as a partial. A
			 * line of exactly the limit stays whole. */
			memcpy(buf + l->len[stream], data, room);
			if (emit(l, stream, true, buf, NODE_CRI_MAX_LINE, err) < 0)
				rc = -1;
			l->len[stream] = 0;
			data += room;
			len -= room;
			continue;
		}
		if (nl == NULL) {
			memcpy(buf + l->len[stream], data, take);
			l->len[stream] += take;
			break;
		}
		if (l->len[stream] == 0) {
			if (emit(l, stream, false, data, take, err) < 0)
				rc = -1;
		} else {
			memcpy(buf + l->len[stream], data, take);
			if (emit(l, stream, false, buf, l->len[stream] + take, err) < 0)
				rc = -1;
			l->len[stream] = 0;
		}
		data += take + 1;
		len -= take + 1;
	}
	return rc;
}

int node_cri_log_flush(node_cri_log_t *l, int stream, rt_error_t *err)
{
	if (l->len[stream] == 0)
		return 0;
	int rc = emit(l, stream, true, l->buf[stream], l->len[stream], err);
	l->len[stream] = 0;
	return rc;
}

void node_cri_log_close(node_cri_log_t *l)
{
	node_cri_log_flush(l, NODE_CRI_STDOUT, NULL);
	node_cri_log_flush(l, NODE_CRI_STDERR, NULL);
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	free(l->path);
	l->path = NULL;
}

static int digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* RFC 3339: YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM). Returns the length. */
static size_t parse_time(const char *s, size_t len, struct timespec *ts)
{
	int y, mo, d, h, mi, sec;
	if (len < 20 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
	    digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') || digits(s + 11, 2, &h) ||
	    s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' || digits(s + 17, 2, &sec))
		return 0;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return 0;
	size_t i = 19;
	long nsec = 0;
	if (i < len && s[i] == '.') {
		i++;
		int nd = 0;
		while (i < len && s[i] >= '0' && s[i] <= '9') {
			if (nd < 9) {
				nsec = nsec * 10 + (s[i] - '0');
				nd++;
			}
			i++;
		}
		if (nd == 0)
			return 0;
		for (; nd < 9; nd++)
			nsec *= 10;
	}
	long off = 0;
	if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
		i++;
	} else if (i + 6 <= len && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
		int oh, om;
		if (digits(s + i + 1, 2, &oh) || digits(s + i + 4, 2, &om))
			return 0;
		off = (oh * 3600L + om * 60L) * (s[i] == '-' ? -1 : 1);
		i += 6;
	} else {
		return 0;
	}
	struct tm tm = {.tm_year = y - 1900,
			.tm_mon = mo - 1,
			.tm_mday = d,
			.tm_hour = h,
			.tm_min = mi,
			.tm_sec = sec};
	ts->tv_sec = timegm(&tm) - off;
	ts->tv_nsec = nsec;
	return i;
}

int node_cri_parse_line(const char *line, size_t len, struct timespec *ts, int *stream,
			bool *partial, const char **msg, size_t *msg_len)
{
	size_t i = parse_time(line, len, ts);
	if (i == 0 || i >= len || line[i] != ' ')
		return -1;
	i++;
	if (len - i >= 7 && memcmp(line + i, "stdout ", 7) == 0)
		*stream = NODE_CRI_STDOUT;
	else if (len - i >= 7 && memcmp(line + i, "stderr ", 7) == 0)
		*stream = NODE_CRI_STDERR;
	else
		return -1;
	i += 7;
	if (len - i < 1 || (line[i] != 'P' && line[i] != 'F'))
		return -1;
	*partial = line[i] == 'P';
	i++;
	/* The message follows one space; an empty full line may omit it. */
	if (i < len) {
		if (line[i] != ' ')
			return -1;
		i++;
	}
	*msg = line + i;
	*msg_len = len - i;
	return 0;
}
