/* libapi internals shared between the proto/ sources; not for other components. */
#ifndef NODELET_API_INTERNAL_H
#define NODELET_API_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>

#include "proto/api.h"

/* Allocation failure aborts (CONVENTIONS.md: one xmalloc-style helper). */
void *api__xmalloc(size_t n);
void *api__xcalloc(size_t n, size_t size);
void *api__xrealloc(void *p, size_t n);
/* strdup that aborts on failure; NULL in -> NULL out. */
char *api__xstrdup(const char *s);

/* Deep copy / free of NULL-terminated string vectors. */
char **api__strv_copy(char *const *v);
void api__strv_free(char **v);
size_t api__strv_len(char *const *v);

void api__kvlist_copy(api_kvlist_t *dst, const api_kvlist_t *src);
/* Deep copy of a status; d is overwritten. */
void api__pod_status_copy(api_pod_status_t *d, const api_pod_status_t *s);

/* Fills err->msg with printf-style text; returns -EINVAL for convenience. */
int api__errorf(api_error_t *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* True when s is valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
bool api__utf8_valid(const char *s, size_t len);

#endif
