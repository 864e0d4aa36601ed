/* The pod worker's pure decisions: restart policy, CrashLoopBackOff delays,
 * the pod phase, and the names derived from a pod's uid. No I/O. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "node/nodelet-internal.h"

int64_t node_backoff_delay_ms(int64_t base_ms, int count)
{
	if (count <= 0)
		return 0;
	int64_t d = base_ms;
	for (int i = 1; i < count && d < NODE_BACKOFF_MAX_MS; i++)
		d *= 2;
	return d > NODE_BACKOFF_MAX_MS ? NODE_BACKOFF_MAX_MS : d;
}

bool node_should_restart(const char *policy, int exit_code)
{
	if (!policy || strcmp(policy, "Always") == 0)
		return true;
	if (strcmp(policy, "OnFailure") == 0)
		return exit_code != 0;
	return false;
}

const char *node_pod_phase(const node_phase_input_t *c, size_t n)
{
	if (n == 0)
		return "Pending";
	for (size_t i = 0; i < n; i++)
		if (!c[i].started_once && !c[i].terminated)
			return "Pending";
	bool all_ok = true;
	for (size_t i = 0; i < n; i++) {
		if (c[i].running || c[i].will_restart)
			return "Running";
		if (c[i].exit_code != 0)
			all_ok = false;
	}
	return all_ok ? "Succeeded" : "Failed";
}

void node_host_ifname(const char *uid, char out[16])
{
	/* FNV-1a 64: stable across nodelet restarts and builds. */
	uint64_t h = 1469598103934665603ULL;
	for (const unsigned char *p = (const unsigned char *)uid; *p; p++) {
		h ^= *p;
		h *= 1099511628211ULL;
	}
	snprintf(out, 16, "nl%010llx", (unsigned long long)(h & 0xffffffffffULL));
}

void node_container_id(const char *uid, const char *name, char *out, size_t len)
{
	char shortid[13];
	size_t k = 0;
	for (const char *p = uid; *p && k < 12; p++)
		if (isalnum((unsigned char)*p))
			shortid[k++] = (char)tolower((unsigned char)*p);
	shortid[k] = '\0';
	snprintf(out, len, "%s-%s", shortid, name);
}

int64_t node_cpu_millis(uint64_t prev_ns, uint64_t cur_ns, uint64_t wall_ns)
{
	if (wall_ns == 0 || cur_ns < prev_ns)
		return 0;
	long double m = (long double)(cur_ns - prev_ns) * 1000.0L / (long double)wall_ns;
	return (int64_t)(m + 0.5L);
}
