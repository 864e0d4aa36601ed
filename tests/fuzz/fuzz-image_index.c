/* Fuzz target: image index / manifest JSON (index.json of an OCI layout, an
 * OCI index or Docker manifest list from a registry) through what libruntime
 * exposes for it: rt__index_pick, then the digest checks and blob path of the
 * picked descriptor. (load_manifest and the config parse are static in image.c
 * and read blobs from a layout; see tests/fuzz/README.) */
#include <string.h>

#include "runtime/image-internal.h"
#include "tests/fuzz/fuzz.h"

int FUZZ_ENTRY(image_index)(const uint8_t *data, size_t size)
{
	json_error_t jerr;
	json_t *doc = json_loadb((const char *)data, size, 0, &jerr);
	if (doc == NULL)
		return 0;
	static const char *arches[] = {NULL, "arm64", "amd64"};
	for (size_t i = 0; i < sizeof(arches) / sizeof(arches[0]); i++) {
		json_t *d = rt__index_pick(doc, arches[i]);
		if (d == NULL)
			continue;
		const char *digest = json_string_value(json_object_get(d, "digest"));
		const char *hex = NULL;
		if (digest != NULL && rt__digest_hex(digest, &hex) == 0) {
			FUZZ_CHECK(hex != NULL && strlen(hex) == 64, "digest %s", digest);
			char *path = rt__blob_path("/layout", digest);
			FUZZ_CHECK(path != NULL, "no blob path for valid digest %s", digest);
			free(path);
		}
	}
	json_decref(doc);
	return 0;
}
