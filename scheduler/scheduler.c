/* Scheduling decisions, as pure functions over candidates: filter, score
 * (least allocated), pick, and the Kubernetes-style "no fit" message. */
#include <stdio.h>
#include <string.h>

#include "scheduler/sched.h"

/* Pods a node takes when it did not say (the Kubernetes default). */
#define DEFAULT_MAX_PODS 110

static const char *const reason_text[SCHED_R_COUNT] = {
    [SCHED_R_CPU] = "insufficient cpu",
    [SCHED_R_MEMORY] = "insufficient memory",
    [SCHED_R_SELECTOR] = "did not match nodeSelector",
    [SCHED_R_NOT_READY] = "node(s) were not ready",
    [SCHED_R_UNSCHEDULABLE] = "node(s) were unschedulable",
    [SCHED_R_PODS] = "too many pods",
};

static bool selector_matches(const api_kvlist_t *labels, const api_kvlist_t *sel)
{
	for (size_t i = 0; i < sel->n; i++) {
		const char *v = labels ? api_kv_get(labels, sel->items[i].key) : NULL;
		if (!v || strcmp(v, sel->items[i].value))
			return false;
	}
	return true;
}

unsigned sched_filter(const sched_candidate_t *c, const api_pod_t *pod, api_resource_list_t req)
{
	unsigned r = 0;
	int64_t max_pods = c->alloc_pods > 0 ? c->alloc_pods : DEFAULT_MAX_PODS;
	int64_t cpu = req.cpu_millis > 0 ? req.cpu_millis : 0;
	int64_t mem = req.memory_bytes > 0 ? req.memory_bytes : 0;

	if (!c->ready)
		return 1u << SCHED_R_NOT_READY;
	if (c->unschedulable)
		return 1u << SCHED_R_UNSCHEDULABLE;
	if (!selector_matches(c->labels, &pod->spec.node_selector))
		return 1u << SCHED_R_SELECTOR;
	if (c->npods + 1 > max_pods)
		r |= 1u << SCHED_R_PODS;
	if (cpu > 0 && c->req_cpu_millis + cpu > c->alloc_cpu_millis)
		r |= 1u << SCHED_R_CPU;
	if (mem > 0 && c->req_memory_bytes + mem > c->alloc_memory_bytes)
		r |= 1u << SCHED_R_MEMORY;
	return r;
}

static double free_fraction(int64_t alloc, int64_t used)
{
	if (alloc <= 0)
		return 0;
	if (used >= alloc)
		return 0;
	return (double)(alloc - used) / (double)alloc;
}

double sched_score(const sched_candidate_t *c, api_resource_list_t req)
{
	int64_t cpu = req.cpu_millis > 0 ? req.cpu_millis : 0;
	int64_t mem = req.memory_bytes > 0 ? req.memory_bytes : 0;

	return (free_fraction(c->alloc_cpu_millis, c->req_cpu_millis + cpu) +
		free_fraction(c->alloc_memory_bytes, c->req_memory_bytes + mem)) /
	       2.0;
}

void sched_unschedulable_message(size_t total, const unsigned counts[SCHED_R_COUNT], char *buf,
				 size_t len)
{
	size_t off;
	bool first = true;
	int n;

	n = snprintf(buf, len, "0/%zu nodes available", total);
	off = n < 0 ? 0 : (size_t)n;
	for (int i = 0; i < SCHED_R_COUNT && off < len; i++) {
		if (!counts[i])
			continue;
		n = snprintf(buf + off, len - off, "%s%u %s", first ? ": " : ", ", counts[i],
			     reason_text[i]);
		if (n < 0)
			break;
		off += (size_t)n;
		first = false;
	}
}

int sched_pick(const sched_candidate_t *c, size_t n, const api_pod_t *pod, char *msg, size_t len)
{
	api_resource_list_t req = api_pod_requests(pod);
	unsigned counts[SCHED_R_COUNT] = {0};
	int best = -1;
	double best_score = -1;

	for (size_t i = 0; i < n; i++) {
		unsigned r = sched_filter(&c[i], pod, req);
		double s;

		if (r) {
			for (int k = 0; k < SCHED_R_COUNT; k++)
				if (r & (1u << k))
					counts[k]++;
			continue;
		}
		s = sched_score(&c[i], req);
		if (best < 0 || s > best_score ||
		    (s == best_score && strcmp(c[i].name, c[best].name) < 0)) {
			best = (int)i;
			best_score = s;
		}
	}
	if (best < 0 && msg)
		sched_unschedulable_message(n, counts, msg, len);
	return best;
}
