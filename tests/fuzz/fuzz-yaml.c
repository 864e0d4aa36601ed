/* Fuzz target: a YAML manifest as `schedctl apply -f pod.yaml` reads it
 * (sc_yaml_to_json), then, when it converts, the pod decoder on the result as
 * the API would see it. */
#include <string.h>

#include "proto/api.h"
#include "scheduler/schedctl.h"
#include "tests/fuzz/fuzz.h"

int FUZZ_ENTRY(yaml)(const uint8_t *data, size_t size)
{
	if (size > 65536)
		return 0;
	json_t *j = NULL;
	char err[512];
	if (sc_yaml_to_json((const char *)data, size, &j, err, sizeof(err)) != 0) {
		FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL, "error not terminated");
		return 0;
	}
	FUZZ_CHECK(j != NULL, "sc_yaml_to_json returned 0 without a document");
	char *text = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
	FUZZ_CHECK(text != NULL, "converted YAML does not dump as JSON");
	api_pod_t pod;
	api_error_t perr;
	memset(&pod, 0, sizeof(pod));
	if (api_pod_from_json(j, API_DECODE_USER, &pod, &perr) == 0)
		api_pod_free(&pod);
	free(text);
	json_decref(j);
	return 0;
}
