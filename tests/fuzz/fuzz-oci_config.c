/* Fuzz target: an OCI runtime-spec config.json as ocirun and the shim read it
 * from a bundle. */
#include "runtime/runtime.h"
#include "tests/fuzz/fuzz.h"

int FUZZ_ENTRY(oci_config)(const uint8_t *data, size_t size)
{
	rt_config_t *cfg = NULL;
	rt_error_t err;
	if (rt_config_parse((const char *)data, size, &cfg, &err) == 0) {
		FUZZ_CHECK(cfg != NULL, "rt_config_parse returned 0 without a config");
		rt_config_free(cfg);
	}
	return 0;
}
