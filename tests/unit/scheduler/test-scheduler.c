/* scheduler.c: filter reasons, least-allocated score, tie-break by name, and
 * the "0/N nodes available: ..." message, over hand-built nodes and pods. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "scheduler/sched.h"

#define MI (1024LL * 1024)
#define GI (1024LL * MI)

/* A pod of one container requesting cpu millicores and mem bytes (-1: none). */
static api_pod_t make_pod(int64_t cpu, int64_t mem)
{
	api_pod_t p;

	memset(&p, 0, sizeof(p));
	p.name = strdup("web");
	p.namespace_ = strdup("default");
	p.spec.containers = calloc(1, sizeof(api_container_t));
	p.spec.ncontainers = 1;
	p.spec.containers[0].name = strdup("c");
	p.spec.containers[0].image = strdup("busybox");
	p.spec.containers[0].resources.requests.cpu_millis = cpu;
	p.spec.containers[0].resources.requests.memory_bytes = mem;
	p.spec.containers[0].resources.limits.cpu_millis = -1;
	p.spec.containers[0].resources.limits.memory_bytes = -1;
	return p;
}

static sched_candidate_t node(const char *name, int64_t cpu, int64_t mem)
{
	sched_candidate_t c;

	memset(&c, 0, sizeof(c));
	c.name = name;
	c.ready = true;
	c.alloc_cpu_millis = cpu;
	c.alloc_memory_bytes = mem;
	c.alloc_pods = 110;
	return c;
}

static void test_filter_reasons(void **state)
{
	(void)state;
	api_pod_t pod = make_pod(500, 256 * MI);
	api_resource_list_t req = api_pod_requests(&pod);
	api_kvlist_t labels = {0};
	sched_candidate_t c = node("n1", 2000, 1 * GI);

	assert_int_equal(sched_filter(&c, &pod, req), 0);

	c.ready = false;
	assert_int_equal(sched_filter(&c, &pod, req), 1u << SCHED_R_NOT_READY);
	c.ready = true;
	c.unschedulable = true;
	assert_int_equal(sched_filter(&c, &pod, req), 1u << SCHED_R_UNSCHEDULABLE);
	c.unschedulable = false;

	/* requests of pods already bound count */
	c.req_cpu_millis = 1600;
	assert_int_equal(sched_filter(&c, &pod, req), 1u << SCHED_R_CPU);
	c.req_memory_bytes = 900 * MI;
	assert_int_equal(sched_filter(&c, &pod, req), (1u << SCHED_R_CPU) | (1u << SCHED_R_MEMORY));
	c.req_cpu_millis = c.req_memory_bytes = 0;

	/* exactly full still fits */
	c.req_cpu_millis = 1500;
	c.req_memory_bytes = 1 * GI - 256 * MI;
	assert_int_equal(sched_filter(&c, &pod, req), 0);
	c.req_cpu_millis = c.req_memory_bytes = 0;

	c.npods = 110;
	assert_int_equal(sched_filter(&c, &pod, req), 1u << SCHED_R_PODS);
	c.npods = 0;

	/* nodeSelector: every key must match */
	api_kv_set(&pod.spec.node_selector, "disk", "ssd");
	assert_int_equal(sched_filter(&c, &pod, req), 1u << SCHED_R_SELECTOR);
	api_kv_set(&labels, "disk", "hdd");
	c.labels = &labels;
	assert_int_equal(sched_filter(&c, &pod, req), 1u << SCHED_R_SELECTOR);
	api_kv_set(&labels, "disk", "ssd");
	api_kv_set(&labels, "zone", "a");
	assert_int_equal(sched_filter(&c, &pod, req), 0);

	api_kvlist_free(&labels);
	api_pod_free(&pod);
}

static void test_no_requests_fit_anywhere_ready(void **state)
{
	(void)state;
	api_pod_t pod = make_pod(-1, -1);
	sched_candidate_t c = node("n1", 0, 0);

	assert_int_equal(sched_filter(&c, &pod, api_pod_requests(&pod)), 0);
	api_pod_free(&pod);
}

static void test_score_least_allocated(void **state)
{
	(void)state;
	api_resource_list_t req = {.cpu_millis = 1000, .memory_bytes = 1 * GI};
	sched_candidate_t a = node("a", 2000, 4 * GI);
	sched_candidate_t b = node("b", 4000, 4 * GI);

	/* a: cpu 1/2 free, mem 3/4 free -> 0.625; b: 3/4 and 3/4 -> 0.75 */
	assert_true(sched_score(&a, req) > 0.624 && sched_score(&a, req) < 0.626);
	assert_true(sched_score(&b, req) > 0.749 && sched_score(&b, req) < 0.751);
	b.req_cpu_millis = 3000;
	assert_true(sched_score(&b, req) < sched_score(&a, req));
}

static void test_pick_best_and_tie_break(void **state)
{
	(void)state;
	api_pod_t pod = make_pod(100, 64 * MI);
	sched_candidate_t c[3] = {node("n3", 2000, 2 * GI), node("n1", 2000, 2 * GI),
				  node("n2", 1000, 2 * GI)};
	char msg[256] = "";

	/* n3 and n1 score the same; n1 wins by name; n2 has less free cpu */
	assert_int_equal(sched_pick(c, 3, &pod, msg, sizeof(msg)), 1);
	c[1].req_memory_bytes = 1 * GI;
	assert_int_equal(sched_pick(c, 3, &pod, msg, sizeof(msg)), 0);
	api_pod_free(&pod);
}

static void test_message(void **state)
{
	(void)state;
	api_pod_t pod = make_pod(100, 2 * GI);
	api_kvlist_t lab = {0};
	sched_candidate_t c[3] = {node("n1", 4000, 1 * GI), node("n2", 4000, 1 * GI),
				  node("n3", 4000, 8 * GI)};
	char msg[256];

	api_kv_set(&pod.spec.node_selector, "gpu", "yes");
	api_kv_set(&lab, "gpu", "yes");
	c[0].labels = c[1].labels = &lab;
	assert_int_equal(sched_pick(c, 3, &pod, msg, sizeof(msg)), -1);
	assert_string_equal(
	    msg, "0/3 nodes available: 2 insufficient memory, 1 did not match nodeSelector");

	c[2].ready = false;
	c[1].unschedulable = true;
	c[0].req_cpu_millis = 3950;
	assert_int_equal(sched_pick(c, 3, &pod, msg, sizeof(msg)), -1);
	assert_string_equal(msg, "0/3 nodes available: 1 insufficient cpu, 1 insufficient memory, "
				 "1 node(s) were not ready, 1 node(s) were unschedulable");

	assert_int_equal(sched_pick(c, 0, &pod, msg, sizeof(msg)), -1);
	assert_string_equal(msg, "0/0 nodes available");

	unsigned counts[SCHED_R_COUNT] = {[SCHED_R_PODS] = 2, [SCHED_R_SELECTOR] = 1};
	sched_unschedulable_message(3, counts, msg, sizeof(msg));
	assert_string_equal(msg,
			    "0/3 nodes available: 1 did not match nodeSelector, 2 too many pods");

	/* a short buffer truncates, never overflows */
	char tiny[12];
	sched_unschedulable_message(3, counts, tiny, sizeof(tiny));
	assert_int_equal(strlen(tiny), sizeof(tiny) - 1);

	api_kvlist_free(&lab);
	api_pod_free(&pod);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_filter_reasons),
	    cmocka_unit_test(test_no_requests_fit_anywhere_ready),
	    cmocka_unit_test(test_score_least_allocated),
	    cmocka_unit_test(test_pick_best_and_tie_break),
	    cmocka_unit_test(test_message),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
