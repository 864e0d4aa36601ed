/* Host usage sampling (/proc/stat, /proc/meminfo), the node's address, clocks,
 * and the one-line-per-event log. */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "node/nodelet-internal.h"

void node_log(char level, const char *fmt, ...)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	struct tm tm;
	localtime_r(&tv.tv_sec, &tm);
	char line[2048];
	int n = snprintf(line, sizeof line, "%c %02d:%02d:%02d.%03ld ", level, tm.tm_hour,
			 tm.tm_min, tm.tm_sec, (long)(tv.tv_usec / 1000));
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s\n", line);
	fflush(stderr);
}

int64_t node_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t node_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int node_read_proc_stat(const char *path, node_host_sample_t *s)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	char line[512];
	int rc = -EINVAL;
	if (fgets(line, sizeof line, f) && strncmp(line, "cpu ", 4) == 0) {
		unsigned long long v[10] = {0};
		int k = sscanf(line + 4, "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
			       &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]);
		if (k >= 4) {
			/* user nice system idle iowait irq softirq steal (guest is in user). */
			uint64_t total = 0;
			for (int i = 0; i < k && i < 8; i++)
				total += v[i];
			uint64_t idle = v[3] + (k > 4 ? v[4] : 0);
			s->total = total;
			s->busy = total - idle;
			rc = 0;
		}
	}
	fclose(f);
	return rc;
}

int64_t node_host_cpu_millis(const node_host_sample_t *a, const node_host_sample_t *b, int ncpu)
{
	if (b->total <= a->total || b->busy < a->busy)
		return 0;
	long double frac = (long double)(b->busy - a->busy) / (long double)(b->total - a->total);
	return (int64_t)(frac * ncpu * 1000 + 0.5L);
}

int node_read_meminfo(const char *path, int64_t *total, int64_t *used)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	char line[256];
	long long t = -1, avail = -1;
	while (fgets(line, sizeof line, f)) {
		long long v;
		if (sscanf(line, "MemTotal: %lld kB", &v) == 1)
			t = v;
		else if (sscanf(line, "MemAvailable: %lld kB", &v) == 1)
			avail = v;
	}
	fclose(f);
	if (t < 0)
		return -EINVAL;
	if (avail < 0)
		avail = t;
	*total = t * 1024;
	*used = (t - avail) * 1024;
	return 0;
}

int node_first_ipv4(const char *skip, char out[64])
{
	struct ifaddrs *ifa = NULL;
	if (getifaddrs(&ifa) < 0)
		return -errno;
	int rc = -ENOENT;
	for (struct ifaddrs *p = ifa; p; p = p->ifa_next) {
		if (!p->ifa_addr || p->ifa_addr->sa_family != AF_INET ||
		    (p->ifa_flags & IFF_LOOPBACK))
			continue;
		if (skip && strcmp(p->ifa_name, skip) == 0)
			continue;
		const struct sockaddr_in *sin = (const struct sockaddr_in *)p->ifa_addr;
		if (inet_ntop(AF_INET, &sin->sin_addr, out, 64)) {
			rc = 0;
			break;
		}
	}
	freeifaddrs(ifa);
	return rc;
}

/* Per-container CPU (delta of cumulative CPU time over wall time) and memory,
 * from each running container's cgroup. */
void node_pods_sample_usage(node_t *n)
{
	int64_t now = node_mono_ms();
	for (node_pod_t *p = n->pods; p; p = p->next) {
		for (size_t i = 0; i < p->nctrs; i++) {
			node_ctr_t *c = &p->ctrs[i];
			if (c->state.kind != API_CSTATE_RUNNING)
				continue;
			rt_cgroup_stats_t st;
			rt_error_t err = {0};
			if (rt_cgroup_stats(c->cgroup, &st, &err) < 0)
				continue;
			if (c->prev_sample_mono && now > c->prev_sample_mono)
				c->cpu_millis = node_cpu_millis(
				    c->prev_cpu_ns, st.cpu_usage_ns,
				    (uint64_t)(now - c->prev_sample_mono) * 1000000ULL);
			else if (c->cpu_millis < 0)
				c->cpu_millis = 0;
			c->prev_cpu_ns = st.cpu_usage_ns;
			c->prev_sample_mono = now;
			c->memory_bytes = (int64_t)st.memory_bytes;
		}
	}
}
