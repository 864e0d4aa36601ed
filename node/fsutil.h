/* Small file helpers shared by the nodelet and the shim. */
#ifndef NODELET_NODE_FSUTIL_H
#define NODELET_NODE_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

#include "runtime/runtime.h"

/* mkdir -p, with mode for the directories it creates. */
int node__mkdir_p(const char *path, mode_t mode, rt_error_t *err);

/* Writes path atomically: a temporary file beside it, then rename. With
 * durable, the data is fsync'd first (the shim's exit records); without, it
 * only guards against a killed process, not a lost machine (state the nodelet
 * writes on its event loop). */
int node__write_file(const char *path, const char *data, size_t len, mode_t mode, int durable,
		     rt_error_t *err);

/* node__write_file, durable. */
int node__write_atomic(const char *path, const char *data, size_t len, mode_t mode,
		       rt_error_t *err);

/* Copies src to dst atomically (a temporary file beside dst, then rename), so
 * a process running the old dst is not disturbed; dst gets mode. */
int node__copy_file(const char *src, const char *dst, mode_t mode, rt_error_t *err);

#endif
