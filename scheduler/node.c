/* The Node model: its API JSON shape and the record the store keeps. */
#include <stdlib.h>
#include <string.h>

#include "scheduler/sched.h"

static char *xstrdup(const char *s)
{
	char *d = strdup(s ? s : "");
	if (!d)
		abort();
	return d;
}

sched_node_t *sched_node_new(const char *name)
{
	sched_node_t *n = calloc(1, sizeof(*n));

	if (!n)
		abort();
	n->name = xstrdup(name);
	n->use_cpu_millis = n->use_memory_bytes = n->use_pods = -1;
	n->ready = SCHED_READY_UNKNOWN;
	n->ready_reason = xstrdup("NodeStatusUnknown");
	n->ready_message = xstrdup("Nodelet has not registered yet.");
	return n;
}

void sched_node_free(sched_node_t *n)
{
	if (!n)
		return;
	free(n->name);
	api_kvlist_free(&n->labels);
	free(n->pod_cidr);
	if (n->addresses)
		for (char **a = n->addresses; *a; a++)
			free(*a);
	free(n->addresses);
	free(n->version);
	free(n->ready_reason);
	free(n->ready_message);
	free(n);
}

void sched_node_set_ready(sched_node_t *n, sched_ready_t r, const char *reason, const char *msg)
{
	if (n->ready != r)
		n->ready_transition_ms = sched_now_ms();
	n->ready = r;
	free(n->ready_reason);
	free(n->ready_message);
	n->ready_reason = xstrdup(reason);
	n->ready_message = xstrdup(msg);
}

static json_t *time_json(int64_t ms)
{
	char buf[64];

	if (!ms)
		return json_null();
	api_format_time(ms, buf, sizeof(buf));
	return json_string(buf);
}

static json_t *resources_json(int64_t cpu, int64_t mem, int64_t pods)
{
	char buf[64];
	json_t *o = json_object();

	if (cpu >= 0) {
		api_quantity_format_cpu(cpu, buf, sizeof(buf));
		json_object_set_new(o, "cpu", json_string(buf));
	}
	if (mem >= 0) {
		api_quantity_format_memory(mem, buf, sizeof(buf));
		json_object_set_new(o, "memory", json_string(buf));
	}
	if (pods >= 0)
		json_object_set_new(o, "pods", json_sprintf("%lld", (long long)pods));
	return o;
}

static json_t *labels_json(const api_kvlist_t *l)
{
	json_t *o = json_object();

	for (size_t i = 0; i < l->n; i++)
		json_object_set_new(o, l->items[i].key, json_string(l->items[i].value));
	return o;
}

static const char *ready_text(sched_ready_t r)
{
	return r == SCHED_READY_TRUE ? "True" : r == SCHED_READY_FALSE ? "False" : "Unknown";
}

json_t *sched_node_to_json(const sched_node_t *n)
{
	json_t *meta, *spec, *status, *cond, *addrs;

	meta = json_pack("{s:s, s:o, s:o}", "name", n->name, "labels", labels_json(&n->labels),
			 "creationTimestamp", time_json(n->created_ms));
	spec = json_pack("{s:b}", "unschedulable", n->unschedulable);
	if (n->pod_cidr)
		json_object_set_new(spec, "podCIDR", json_string(n->pod_cidr));
	cond = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o}", "type", "Ready", "status",
			 ready_text(n->ready), "reason", n->ready_reason ? n->ready_reason : "",
			 "message", n->ready_message ? n->ready_message : "", "lastHeartbeatTime",
			 time_json(n->last_heartbeat_ms), "lastTransitionTime",
			 time_json(n->ready_transition_ms));
	addrs = json_array();
	if (n->addresses)
		for (char **a = n->addresses; *a; a++)
			json_array_append_new(
			    addrs, json_pack("{s:s, s:s}", "type", "InternalIP", "address", *a));
	json_array_append_new(addrs,
			      json_pack("{s:s, s:s}", "type", "Hostname", "address", n->name));
	status = json_pack(
	    "{s:o, s:o, s:[o], s:o, s:o, s:{s:s}}", "capacity",
	    resources_json(n->cap_cpu_millis, n->cap_memory_bytes, n->cap_pods), "allocatable",
	    resources_json(n->alloc_cpu_millis, n->alloc_memory_bytes, n->alloc_pods), "conditions",
	    cond, "addresses", addrs, "usage",
	    resources_json(n->use_cpu_millis, n->use_memory_bytes, -1), "nodeInfo",
	    "kubeletVersion", n->version && *n->version ? n->version : "unknown");
	return json_pack("{s:s, s:s, s:o, s:o, s:o}", "apiVersion", "v1", "kind", "Node",
			 "metadata", meta, "spec", spec, "status", status);
}

json_t *sched_node_to_stored(const sched_node_t *n)
{
	json_t *addrs = json_array();

	if (n->addresses)
		for (char **a = n->addresses; *a; a++)
			json_array_append_new(addrs, json_string(*a));
	return json_pack(
	    "{s:o, s:I, s:b, s:{s:I, s:I, s:I}, s:{s:I, s:I, s:I}, s:o, s:s}", "labels",
	    labels_json(&n->labels), "created", (json_int_t)n->created_ms, "unschedulable",
	    n->unschedulable, "capacity", "cpu", (json_int_t)n->cap_cpu_millis, "memory",
	    (json_int_t)n->cap_memory_bytes, "pods", (json_int_t)n->cap_pods, "allocatable", "cpu",
	    (json_int_t)n->alloc_cpu_millis, "memory", (json_int_t)n->alloc_memory_bytes, "pods",
	    (json_int_t)n->alloc_pods, "addresses", addrs, "version", n->version ? n->version : "");
}

static int64_t int_at(json_t *o, const char *k1, const char *k2)
{
	json_t *v = json_object_get(o, k1);

	if (k2)
		v = json_object_get(v, k2);
	return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

sched_node_t *sched_node_from_stored(const char *name, const char *json_text)
{
	json_t *j = json_loads(json_text, 0, NULL);
	json_t *labels, *addrs, *v;
	sched_node_t *n;
	size_t i;

	if (!json_is_object(j)) {
		json_decref(j);
		return NULL;
	}
	n = sched_node_new(name);
	labels = json_object_get(j, "labels");
	for (void *it = json_object_iter(labels); it; it = json_object_iter_next(labels, it)) {
		v = json_object_iter_value(it);
		if (json_is_string(v))
			api_kv_set(&n->labels, json_object_iter_key(it), json_string_value(v));
	}
	n->created_ms = int_at(j, "created", NULL);
	n->unschedulable = json_is_true(json_object_get(j, "unschedulable"));
	n->cap_cpu_millis = int_at(j, "capacity", "cpu");
	n->cap_memory_bytes = int_at(j, "capacity", "memory");
	n->cap_pods = int_at(j, "capacity", "pods");
	n->alloc_cpu_millis = int_at(j, "allocatable", "cpu");
	n->alloc_memory_bytes = int_at(j, "allocatable", "memory");
	n->alloc_pods = int_at(j, "allocatable", "pods");
	addrs = json_object_get(j, "addresses");
	n->addresses = calloc(json_array_size(addrs) + 1, sizeof(char *));
	if (!n->addresses)
		abort();
	for (i = 0; i < json_array_size(addrs); i++)
		n->addresses[i] = xstrdup(json_string_value(json_array_get(addrs, i)));
	n->version = xstrdup(json_string_value(json_object_get(j, "version")));
	json_decref(j);
	return n;
}
