/* The CRI container log format, as kubelet and containerd write it: one record
 * per line, `<RFC3339Nano UTC> <stdout|stderr> <P|F> <message>\n`. F ends a
 * full line (its newline is the record's); P is a partial chunk: a line longer
 * than NODE_CRI_MAX_LINE, or the tail of a stream that ended without a newline.
 *
 * Used by nodelet-shim (the writer) and by anything that reads such a log.
 * Also the two small file helpers the container-side code shares.
 */
#ifndef NODELET_NODE_CRI_LOG_H
#define NODELET_NODE_CRI_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "node/fsutil.h"
#include "runtime/runtime.h"

#define NODE_CRI_MAX_LINE 16384 /* containerd's max_container_log_line_size */
#define NODE_CRI_TIME_LEN 30	/* "2026-11-29T09:10:11.123456789Z" */

enum { NODE_CRI_STDOUT = 0, NODE_CRI_STDERR = 1 };

/* One log file and, per stream, the part of a line not yet terminated. The
 * struct is big (2 x 16 KiB): embed it or allocate it, do not put it on a
 * small stack. */
typedef struct node_cri_log {
	int fd; /* -1: output is discarded */
	char *path;
	size_t len[2];
	char buf[2][NODE_CRI_MAX_LINE];
} node_cri_log_t;

/* Opens (creates 0640, parent directories 0755) path for appending. path
 * NULL: a log that discards everything. Free with node_cri_log_close. */
int node_cri_log_open(node_cri_log_t *l, const char *path, rt_error_t *err);
/* Reopens the same path (after the file was rotated away). The old fd is
 * closed only when the new one is open. */
int node_cri_log_reopen(node_cri_log_t *l, rt_error_t *err);
/* Feeds bytes read from a stream: writes a F record per complete line and a
 * P record per NODE_CRI_MAX_LINE bytes of a line that has no end yet; keeps the
 * rest for later. Each record is one write(2). */
int node_cri_log_write(node_cri_log_t *l, int stream, const char *data, size_t len,
		       rt_error_t *err);
/* The stream ended: writes what is left of its last line as a P record. */
int node_cri_log_flush(node_cri_log_t *l, int stream, rt_error_t *err);
/* Flushes both streams and closes the file. */
void node_cri_log_close(node_cri_log_t *l);

/* Formats ts (UTC) as RFC 3339 with nine fractional digits into buf, which
 * holds at least NODE_CRI_TIME_LEN + 1 bytes. Returns the length. */
size_t node_cri_format_time(const struct timespec *ts, char *buf);

/* Parses one record (a line without its newline). On success points msg into
 * line, and returns 0; -1 when the line is not a CRI record. */
int node_cri_parse_line(const char *line, size_t len, struct timespec *ts, int *stream,
			bool *partial, const char **msg, size_t *msg_len);

#endif
