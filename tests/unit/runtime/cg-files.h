/* Shared by the cgroup driver unit tests: a temporary directory laid out like
 * a cgroup tree (tmp), and writing and reading its files. Include after
 * <cmocka.h>. */
#ifndef NODELET_TESTS_CG_FILES_H
#define NODELET_TESTS_CG_FILES_H

#include <stdio.h>

static char tmp[64];

/* Writes content to tmp/rel (created or truncated). */
static inline void put(const char *rel, const char *content)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", tmp, rel);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

/* The content of tmp/rel (at most 255 bytes), in a static buffer. */
static inline char *get(const char *rel)
{
	static char buf[256];
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", tmp, rel);
	FILE *f = fopen(p, "r");
	assert_non_null(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

#endif
