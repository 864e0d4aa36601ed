/* Shared by every fuzz target (tests/fuzz/fuzz-<target>.c) and the corpus
 * replay driver (replay.c).
 *
 * Built with clang -fsanitize=fuzzer, a target defines LLVMFuzzerTestOneInput.
 * Built with -DFUZZ_NO_MAIN (the gcc replay binary that `make test` runs), each
 * target's entry point is renamed fuzz_<target>_one_input so that all of them
 * link into one program. FUZZ_TARGETS lists them for replay.c: a new target is
 * a new fuzz-<name>.c plus one line here.
 */
#ifndef NODELET_FUZZ_H
#define NODELET_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define FUZZ_TARGETS(X)                                                                            \
	X(pod)                                                                                     \
	X(envelope)                                                                                \
	X(oci_config)                                                                              \
	X(quantity)                                                                                \
	X(imageref)                                                                                \
	X(image_index)                                                                             \
	X(challenge)                                                                               \
	X(yaml)                                                                                    \
	X(http)

#ifdef FUZZ_NO_MAIN
#define FUZZ_ENTRY(name) fuzz_##name##_one_input
#define FUZZ_DECLARE(name) int fuzz_##name##_one_input(const uint8_t *data, size_t size);
FUZZ_TARGETS(FUZZ_DECLARE)
#else
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
#define FUZZ_ENTRY(name) LLVMFuzzerTestOneInput
#endif

/* A property the code under test promised did not hold: report and abort, so
 * libFuzzer keeps the input and the replay fails. */
#define FUZZ_CHECK(cond, ...)                                                                      \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz: property failed: %s: ", #cond);                     \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* A malloc'd NUL-terminated copy of data (aborts on allocation failure). */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (s == NULL)
		abort();
	for (size_t i = 0; i < size; i++)
		s[i] = (char)data[i];
	s[size] = '\0';
	return s;
}

#endif
