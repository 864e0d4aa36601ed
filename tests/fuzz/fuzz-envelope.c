/* Fuzz target: wire frames (one protobuf Envelope each) as schedd and nodelet
 * receive them. A frame api_envelope_unpack accepts must pack again, unpack
 * again, and pack to the same bytes the second time. */
#include <string.h>

#include "proto/api.h"
#include "tests/fuzz/fuzz.h"

int FUZZ_ENTRY(envelope)(const uint8_t *data, size_t size)
{
	api_error_t err;
	Nodelet__V1__Envelope *env = api_envelope_unpack(data, size, &err);
	if (env == NULL)
		return 0;
	uint8_t *buf = NULL, *buf2 = NULL;
	size_t len = 0, len2 = 0;
	FUZZ_CHECK(api_envelope_pack(env, &buf, &len) == 0, "packing an unpacked envelope failed");
	Nodelet__V1__Envelope *env2 = api_envelope_unpack(buf, len, &err);
	FUZZ_CHECK(env2 != NULL, "unpacking a repacked envelope failed: %s", err.msg);
	FUZZ_CHECK(env2->msg_case == env->msg_case, "oneof changed in a round trip: %d -> %d",
		   (int)env->msg_case, (int)env2->msg_case);
	FUZZ_CHECK(api_envelope_pack(env2, &buf2, &len2) == 0, "second pack failed");
	FUZZ_CHECK(len == len2 && memcmp(buf, buf2, len) == 0,
		   "pack(unpack(pack(x))) differs from pack(x) (%zu vs %zu bytes)", len, len2);
	free(buf);
	free(buf2);
	nodelet__v1__envelope__free_unpacked(env2, NULL);
	nodelet__v1__envelope__free_unpacked(env, NULL);
	return 0;
}
