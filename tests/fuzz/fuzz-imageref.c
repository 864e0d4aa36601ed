/* Fuzz target: image references (spec.containers[].image, ocirun and
 * rt-image-tool arguments). A reference that parses has a canonical name that
 * must parse again to the same parts (a tag given next to a digest is kept
 * by the first parse but is not part of the canonical name). */
#include <string.h>

#include "runtime/runtime.h"
#include "tests/fuzz/fuzz.h"

static bool same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

int FUZZ_ENTRY(imageref)(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	char *s = fuzz_strndup(data, size);
	rt_imageref_t ref, again;
	rt_error_t err;
	memset(&ref, 0, sizeof(ref));
	memset(&again, 0, sizeof(again));
	/* The first byte picks the default registry (as the caller would pass it). */
	static const char *defaults[] = {NULL, "registry.local:5000", "docker.io", "localhost"};
	const char *def = size > 0 ? defaults[s[0] & 3] : NULL;
	const char *text = size > 0 ? s + 1 : s;
	if (rt_imageref_parse(text, def, &ref, &err) == 0) {
		FUZZ_CHECK(ref.registry && ref.repository && ref.name, "incomplete parse of \"%s\"",
			   text);
		FUZZ_CHECK(rt_imageref_parse(ref.name, def, &again, &err) == 0,
			   "canonical name \"%s\" of \"%s\" does not parse: %s", ref.name, text,
			   err.msg);
		FUZZ_CHECK(same(ref.registry, again.registry) &&
			       same(ref.repository, again.repository) &&
			       (ref.digest != NULL || same(ref.tag, again.tag)) &&
			       same(ref.digest, again.digest) && same(ref.name, again.name),
			   "\"%s\" -> \"%s\" -> \"%s\"", text, ref.name, again.name);
	}
	rt_imageref_clear(&again);
	rt_imageref_clear(&ref);
	free(s);
	return 0;
}
