/* Every Pod example of the Kubernetes documentation is either accepted, or
 * refused with a message that starts with the JSON path of a field that is
 * really in that manifest. Directory: $NODELET_K8S_EXAMPLES, default
 * ../shared/examples/k8s-docs/json (relative to the repo root). */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto/api.h"

static const char *examples_dir(void)
{
	const char *d = getenv("NODELET_K8S_EXAMPLES");
	return d && *d ? d : "../shared/examples/k8s-docs/json";
}

/* Follows a Kubernetes field path ("spec.containers[1].resources.limits[a/b]")
 * through j; returns the value there or NULL. */
static json_t *walk(json_t *j, const char *path, size_t len)
{
	size_t i = 0;
	char seg[256];
	while (i < len && j) {
		size_t n = 0;
		if (path[i] == '.') {
			i++;
			continue;
		}
		if (path[i] == '[') {
			const char *end = memchr(path + i, ']', len - i);
			if (!end)
				return NULL;
			n = (size_t)(end - (path + i + 1));
			if (n >= sizeof(seg))
				return NULL;
			memcpy(seg, path + i + 1, n);
			seg[n] = '\0';
			i = (size_t)(end - path) + 1;
			if (json_is_array(j)) {
				char *e;
				long idx = strtol(seg, &e, 10);
				if (*e || idx < 0)
					return NULL;
				j = json_array_get(j, (size_t)idx);
			} else {
				j = json_object_get(j, seg);
			}
			continue;
		}
		while (i + n < len && path[i + n] != '.' && path[i + n] != '[')
			n++;
		if (n >= sizeof(seg))
			return NULL;
		memcpy(seg, path + i, n);
		seg[n] = '\0';
		i += n;
		j = json_is_object(j) ? json_object_get(j, seg) : NULL;
	}
	return j;
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_examples(void **state)
{
	(void)state;
	const char *dir = examples_dir();
	DIR *d = opendir(dir);
	if (!d) {
		fprintf(stderr, "k8s examples: %s: %s (skipped)\n", dir, strerror(errno));
		skip();
	}
	char *names[512];
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)) && n < 512) {
		size_t l = strlen(de->d_name);
		if (l > 5 && strcmp(de->d_name + l - 5, ".json") == 0)
			names[n++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp);

	size_t accepted = 0, bad = 0;
	for (size_t i = 0; i < n; i++) {
		char path[1024];
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		json_error_t jerr;
		json_t *j = json_load_file(path, 0, &jerr);
		if (!j) {
			fprintf(stderr, "%s: cannot read: %s\n", names[i], jerr.text);
			bad++;
			continue;
		}
		api_pod_t pod;
		api_error_t err = {{0}};
		if (api_pod_from_json(j, API_DECODE_USER, &pod, &err) == 0) {
			accepted++;
			/* the encoded form must decode again */
			json_t *enc = api_pod_to_json(&pod);
			api_pod_t again;
			api_error_t err2 = {{0}};
			if (api_pod_from_json(enc, API_DECODE_STORED, &again, &err2) != 0) {
				fprintf(stderr, "%s: re-decode failed: %s\n", names[i], err2.msg);
				bad++;
			}
			api_pod_free(&again);
			json_decref(enc);
			api_pod_free(&pod);
			fprintf(stderr, "  accepted %s\n", names[i]);
		} else {
			const char *colon = strstr(err.msg, ": ");
			if (!colon || !walk(j, err.msg, (size_t)(colon - err.msg))) {
				fprintf(stderr,
					"%s: refusal does not name a field of the manifest: %s\n",
					names[i], err.msg);
				bad++;
			} else {
				fprintf(stderr, "  refused  %s: %s\n", names[i], err.msg);
			}
		}
		json_decref(j);
		free(names[i]);
	}
	fprintf(stderr, "k8s examples: %zu/%zu accepted\n", accepted, n);
	assert_int_equal(bad, 0);
	assert_true(n > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_examples),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
