/* Fuzz target: Kubernetes quantities (resources.requests/limits). A memory
 * quantity that parses must format and parse back to the same byte count; a
 * cpu quantity must format and parse back (it may have been rounded up to a
 * millicore by the first parse, never after). */
#include <inttypes.h>
#include <string.h>

#include "proto/api.h"
#include "tests/fuzz/fuzz.h"

int FUZZ_ENTRY(quantity)(const uint8_t *data, size_t size)
{
	if (size > 256)
		return 0;
	char *s = fuzz_strndup(data, size);
	char buf[64];
	int64_t v, v2;
	if (api_quantity_parse_memory(s, &v) == 0) {
		FUZZ_CHECK(v >= 0, "memory \"%s\" parsed negative: %" PRId64, s, v);
		api_quantity_format_memory(v, buf, sizeof(buf));
		FUZZ_CHECK(api_quantity_parse_memory(buf, &v2) == 0,
			   "memory \"%s\" -> %" PRId64 " -> \"%s\" does not parse", s, v, buf);
		FUZZ_CHECK(v == v2, "memory \"%s\" -> %" PRId64 " -> \"%s\" -> %" PRId64, s, v, buf,
			   v2);
	}
	if (api_quantity_parse_cpu(s, &v) == 0) {
		FUZZ_CHECK(v >= 0, "cpu \"%s\" parsed negative: %" PRId64, s, v);
		api_quantity_format_cpu(v, buf, sizeof(buf));
		FUZZ_CHECK(api_quantity_parse_cpu(buf, &v2) == 0,
			   "cpu \"%s\" -> %" PRId64 " -> \"%s\" does not parse", s, v, buf);
		FUZZ_CHECK(v == v2, "cpu \"%s\" -> %" PRId64 " -> \"%s\" -> %" PRId64, s, v, buf,
			   v2);
	}
	free(s);
	return 0;
}
