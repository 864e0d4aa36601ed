/* Fuzz target: Pod JSON, as a user applies it (API_DECODE_USER) and as the
 * store reads it back (API_DECODE_STORED). A pod that decodes must survive
 * api_pod_to_json -> text -> API_DECODE_STORED, and encode to the same JSON the
 * second time (the store's round trip). */
#include <string.h>

#include "proto/api.h"
#include "tests/fuzz/fuzz.h"

static char *dump(const api_pod_t *pod)
{
	json_t *j = api_pod_to_json(pod);
	FUZZ_CHECK(j != NULL, "api_pod_to_json returned NULL");
	char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	FUZZ_CHECK(text != NULL, "json_dumps of an encoded pod failed");
	json_decref(j);
	return text;
}

static void round_trip(const api_pod_t *pod)
{
	char *text = dump(pod);
	api_pod_t again;
	api_error_t err;
	memset(&again, 0, sizeof(again));
	int rc = api_pod_from_text(text, strlen(text), API_DECODE_STORED, &again, &err);
	FUZZ_CHECK(rc == 0, "re-decoding an encoded pod (STORED) failed: %s\n%s", err.msg, text);
	char *text2 = dump(&again);
	FUZZ_CHECK(strcmp(text, text2) == 0, "encode(decode(encode(pod))) differs:\n%s\n%s", text,
		   text2);
	free(text2);
	free(text);
	api_pod_free(&again);
}

int FUZZ_ENTRY(pod)(const uint8_t *data, size_t size)
{
	static const int flags[] = {API_DECODE_USER, API_DECODE_STORED};
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		api_pod_t pod;
		api_error_t err;
		memset(&pod, 0, sizeof(pod));
		if (api_pod_from_text((const char *)data, size, flags[i], &pod, &err) == 0) {
			round_trip(&pod);
			api_pod_t copy;
			api_pod_copy(&copy, &pod);
			api_pod_free(&copy);
			api_pod_free(&pod);
		} else {
			FUZZ_CHECK(memchr(err.msg, '\0', sizeof(err.msg)) != NULL,
				   "error message not terminated");
		}
	}
	return 0;
}
