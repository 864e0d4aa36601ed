/* Fuzz target: a registry's WWW-Authenticate header (rt__challenge_parse),
 * outside input on every pull from a registry. */
#include <string.h>

#include "runtime/image-internal.h"
#include "tests/fuzz/fuzz.h"

int FUZZ_ENTRY(challenge)(const uint8_t *data, size_t size)
{
	if (size > 8192)
		return 0;
	char *s = fuzz_strndup(data, size);
	rt__challenge_t c;
	if (rt__challenge_parse(s, &c) == 0) {
		FUZZ_CHECK(c.scheme == RT__AUTH_BEARER || c.scheme == RT__AUTH_BASIC, "scheme %d",
			   (int)c.scheme);
		FUZZ_CHECK(c.scheme != RT__AUTH_BEARER || (c.realm && *c.realm),
			   "bearer without realm accepted: %s", s);
		rt__challenge_clear(&c);
	}
	free(s);
	return 0;
}
