/* node.c: the Node's API JSON shape and the stored record round trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "scheduler/sched.h"

static sched_node_t *sample(void)
{
	sched_node_t *n = sched_node_new("n1");

	api_kv_set(&n->labels, "disk", "ssd");
	n->created_ms = 1795942800000LL; /* 2026-11-29T09:00:00Z */
	n->pod_cidr = strdup("10.244.1.0/24");
	n->cidr_index = 1;
	n->cap_cpu_millis = n->alloc_cpu_millis = 2000;
	n->cap_memory_bytes = n->alloc_memory_bytes = 24LL << 30;
	n->cap_pods = n->alloc_pods = 110;
	n->use_cpu_millis = 120;
	n->use_memory_bytes = 300LL << 20;
	n->addresses = calloc(2, sizeof(char *));
	n->addresses[0] = strdup("10.250.0.2");
	n->version = strdup("nodelet-0.1");
	sched_node_set_ready(n, SCHED_READY_TRUE, "NodeletReady", "ok");
	return n;
}

static const char *str_at(json_t *j, const char *path)
{
	char buf[256], *save = NULL;

	strcpy(buf, path);
	for (char *t = strtok_r(buf, ".", &save); t && j; t = strtok_r(NULL, ".", &save)) {
		if (*t >= '0' && *t <= '9')
			j = json_array_get(j, (size_t)atoi(t));
		else
			j = json_object_get(j, t);
	}
	return json_string_value(j);
}

static void test_api_shape(void **state)
{
	(void)state;
	sched_node_t *n = sample();
	json_t *j = sched_node_to_json(n);

	assert_string_equal(str_at(j, "apiVersion"), "v1");
	assert_string_equal(str_at(j, "kind"), "Node");
	assert_string_equal(str_at(j, "metadata.name"), "n1");
	assert_string_equal(str_at(j, "metadata.labels.disk"), "ssd");
	assert_string_equal(str_at(j, "metadata.creationTimestamp"), "2026-11-29T09:00:00Z");
	assert_string_equal(str_at(j, "spec.podCIDR"), "10.244.1.0/24");
	assert_true(json_is_false(json_object_get(json_object_get(j, "spec"), "unschedulable")));
	assert_string_equal(str_at(j, "status.capacity.cpu"), "2");
	assert_string_equal(str_at(j, "status.capacity.memory"), "24Gi");
	assert_string_equal(str_at(j, "status.capacity.pods"), "110");
	assert_string_equal(str_at(j, "status.allocatable.memory"), "24Gi");
	assert_string_equal(str_at(j, "status.usage.cpu"), "120m");
	assert_string_equal(str_at(j, "status.usage.memory"), "300Mi");
	assert_string_equal(str_at(j, "status.conditions.0.type"), "Ready");
	assert_string_equal(str_at(j, "status.conditions.0.status"), "True");
	assert_string_equal(str_at(j, "status.conditions.0.reason"), "NodeletReady");
	assert_non_null(str_at(j, "status.conditions.0.lastTransitionTime"));
	assert_string_equal(str_at(j, "status.addresses.0.type"), "InternalIP");
	assert_string_equal(str_at(j, "status.addresses.0.address"), "10.250.0.2");
	assert_string_equal(str_at(j, "status.addresses.1.type"), "Hostname");
	assert_string_equal(str_at(j, "status.nodeInfo.kubeletVersion"), "nodelet-0.1");
	json_decref(j);

	sched_node_set_ready(n, SCHED_READY_UNKNOWN, "NodeStatusUnknown", "gone");
	j = sched_node_to_json(n);
	assert_string_equal(str_at(j, "status.conditions.0.status"), "Unknown");
	assert_string_equal(str_at(j, "status.conditions.0.reason"), "NodeStatusUnknown");
	json_decref(j);
	sched_node_free(n);
}

static void test_stored_round_trip(void **state)
{
	(void)state;
	sched_node_t *n = sample(), *back;
	json_t *j = sched_node_to_stored(n);
	char *text = json_dumps(j, JSON_COMPACT);

	back = sched_node_from_stored("n1", text);
	assert_non_null(back);
	assert_string_equal(api_kv_get(&back->labels, "disk"), "ssd");
	assert_int_equal(back->created_ms, n->created_ms);
	assert_int_equal(back->cap_memory_bytes, 24LL << 30);
	assert_int_equal(back->alloc_pods, 110);
	assert_string_equal(back->addresses[0], "10.250.0.2");
	assert_null(back->addresses[1]);
	assert_string_equal(back->version, "nodelet-0.1");
	assert_int_equal(back->ready, SCHED_READY_UNKNOWN);
	assert_null(sched_node_from_stored("n1", "not json"));
	assert_null(sched_node_from_stored("n1", "[1]"));

	free(text);
	json_decref(j);
	sched_node_free(back);
	sched_node_free(n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_api_shape),
	    cmocka_unit_test(test_stored_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
