/* Pod decoding/validation, encoding, copy, requests. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "proto/api.h"

/* From the Kubernetes documentation (pods/simple-pod.yaml). */
static const char simple_pod[] =
    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":"
    "\"nginx\"},\"spec\":{\"containers\":[{\"name\":\"nginx\","
    "\"image\":\"nginx:1.14.2\",\"ports\":[{\"containerPort\":80}]}]}}";

/* pods/resource/memory-request-limit.yaml */
static const char memory_demo[] =
    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"memory-demo\","
    "\"namespace\":\"mem-example\"},\"spec\":{\"containers\":[{\"name\":\"memory-demo-ctr\","
    "\"image\":\"polinux/stress\",\"resources\":{\"requests\":{\"memory\":\"100Mi\"},"
    "\"limits\":{\"memory\":\"200Mi\"}},\"command\":[\"stress\"],\"args\":[\"--vm\",\"1\","
    "\"--vm-bytes\",\"150M\",\"--vm-hang\",\"1\"]}]}}";

/* pods/inject/envars.yaml */
static const char envars[] =
    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"envar-demo\",\"labels\":"
    "{\"purpose\":\"demonstrate-envars\"}},\"spec\":{\"containers\":[{\"name\":"
    "\"envar-demo-container\",\"image\":\"gcr.io/google-samples/hello-app:2.0\",\"env\":[{"
    "\"name\":\"DEMO_GREETING\",\"value\":\"Hello from the environment\"},{\"name\":"
    "\"DEMO_FAREWELL\",\"value\":\"Such a sweet sorrow\"}]}]}}";

/* A two-container pod with everything nodelet supports, plus ignored fields. */
static const char web_db[] =
    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web-db\","
    "\"creationTimestamp\":null,\"labels\":{\"app\":\"web\",\"app.kubernetes.io/name\":\"x\"},"
    "\"annotations\":{\"note\":\"anything: goes\"}},"
    "\"spec\":{\"restartPolicy\":\"OnFailure\",\"terminationGracePeriodSeconds\":5,"
    "\"nodeSelector\":{\"disktype\":\"ssd\"},\"containers\":["
    "{\"name\":\"web\",\"image\":\"busybox\",\"imagePullPolicy\":\"IfNotPresent\","
    "\"command\":[\"httpd\",\"-f\"],\"workingDir\":\"/www\",\"ports\":[{\"name\":\"http\","
    "\"containerPort\":8080,\"protocol\":\"TCP\"}],\"resources\":{\"requests\":{\"cpu\":"
    "\"100m\",\"memory\":\"32Mi\"},\"limits\":{\"cpu\":\"0.5\",\"memory\":\"64Mi\"}}},"
    "{\"name\":\"db\",\"image\":\"busybox:latest\",\"args\":[\"nc\",\"-lk\",\"-p\",\"6379\"],"
    "\"resources\":{\"limits\":{\"memory\":\"1G\"}}}]},"
    "\"status\":{\"phase\":\"Running\",\"podIP\":\"1.2.3.4\"}}";

static int decode(const char *text, api_pod_t *pod, api_error_t *err)
{
	return api_pod_from_text(text, strlen(text), API_DECODE_USER, pod, err);
}

static void test_valid_simple(void **state)
{
	(void)state;
	api_pod_t pod;
	api_error_t err = {{0}};
	assert_int_equal(decode(simple_pod, &pod, &err), 0);
	assert_string_equal(pod.name, "nginx");
	assert_string_equal(pod.namespace_, "default");
	assert_int_equal(pod.spec.ncontainers, 1);
	assert_string_equal(pod.spec.containers[0].image, "nginx:1.14.2");
	assert_int_equal(pod.spec.containers[0].nports, 1);
	assert_int_equal(pod.spec.containers[0].ports[0].container_port, 80);
	assert_string_equal(pod.spec.containers[0].ports[0].protocol, "TCP");
	assert_null(pod.spec.containers[0].ports[0].name);
	assert_string_equal(pod.spec.restart_policy, "Always");
	assert_int_equal(pod.spec.termination_grace_period_seconds, 30);
	assert_int_equal(pod.spec.containers[0].resources.limits.memory_bytes, -1);
	assert_int_equal(pod.spec.containers[0].resources.requests.cpu_millis, -1);
	assert_null(pod.spec.containers[0].command);
	assert_null(pod.spec.node_name);
	api_pod_free(&pod);
}

static void test_valid_docs(void **state)
{
	(void)state;
	api_pod_t pod;
	api_error_t err = {{0}};
	assert_int_equal(decode(memory_demo, &pod, &err), 0);
	assert_string_equal(pod.namespace_, "mem-example");
	assert_int_equal(pod.spec.containers[0].resources.requests.memory_bytes, 100 << 20);
	assert_int_equal(pod.spec.containers[0].resources.limits.memory_bytes, 200 << 20);
	assert_string_equal(pod.spec.containers[0].command[0], "stress");
	assert_null(pod.spec.containers[0].command[1]);
	assert_string_equal(pod.spec.containers[0].args[5], "1");
	assert_null(pod.spec.containers[0].args[6]);
	api_pod_free(&pod);

	assert_int_equal(decode(envars, &pod, &err), 0);
	assert_int_equal(pod.spec.containers[0].env.n, 2);
	assert_string_equal(api_kv_get(&pod.spec.containers[0].env, "DEMO_FAREWELL"),
			    "Such a sweet sorrow");
	assert_string_equal(api_kv_get(&pod.labels, "purpose"), "demonstrate-envars");
	assert_null(api_kv_get(&pod.labels, "nope"));
	api_pod_free(&pod);
}

static void test_valid_full(void **state)
{
	(void)state;
	api_pod_t pod;
	api_error_t err = {{0}};
	assert_int_equal(decode(web_db, &pod, &err), 0);
	assert_int_equal(pod.spec.ncontainers, 2);
	assert_string_equal(pod.spec.restart_policy, "OnFailure");
	assert_int_equal(pod.spec.termination_grace_period_seconds, 5);
	assert_string_equal(api_kv_get(&pod.spec.node_selector, "disktype"), "ssd");
	assert_string_equal(api_kv_get(&pod.annotations, "note"), "anything: goes");
	const api_container_t *web = &pod.spec.containers[0];
	assert_string_equal(web->image_pull_policy, "IfNotPresent");
	assert_string_equal(web->working_dir, "/www");
	assert_string_equal(web->ports[0].name, "http");
	assert_int_equal(web->resources.requests.cpu_millis, 100);
	assert_int_equal(web->resources.limits.cpu_millis, 500);
	/* user input: status is ignored */
	assert_null(pod.status.phase);
	assert_null(pod.status.pod_ip);
	api_resource_list_t req = api_pod_requests(&pod);
	assert_int_equal(req.cpu_millis, 100);			     /* db has no cpu */
	assert_int_equal(req.memory_bytes, (32 << 20) + 1000000000); /* db: limit */
	api_pod_free(&pod);
}

struct bad {
	const char *json;
	const char *msg;
};

#define POD(spec)                                                                                  \
	"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},\"spec\":" spec "}"
#define C0 "{\"name\":\"a\",\"image\":\"busybox\"}"

static void test_invalid(void **state)
{
	(void)state;
	static const struct bad cases[] = {
	    {POD("{\"containers\":[" C0 ",{\"name\":\"b\",\"image\":\"x\",\"lifecycle\":{}}]}"),
	     "spec.containers[1].lifecycle: not supported"},
	    {POD("{\"containers\":[{\"name\":\"a\",\"image\":\"x\",\"args\":\"-c\"}]}"),
	     "spec.containers[0].args: expected array of strings"},
	    {POD("{\"containers\":[{\"name\":\"a\",\"image\":\"x\",\"command\":[\"sh\",1]}]}"),
	     "spec.containers[0].command: expected array of strings"},
	    {POD("{\"containers\":[{\"name\":\"a\"}]}"), "spec.containers[0].image: required"},
	    {POD("{\"containers\":[{\"name\":\"a\",\"image\":\"\"}]}"),
	     "spec.containers[0].image: required"},
	    {POD("{\"containers\":[{\"image\":\"x\"}]}"), "spec.containers[0].name: required"},
	    {POD("{\"containers\":[{\"name\":\"a\",\"image\":\"x\",\"resources\":{\"requests\":{"
		 "\"memory\":\"128Mi\"},\"limits\":{\"memory\":\"64Mi\"}}}]}"),
	     "spec.containers[0].resources.requests.memory: must be less than or equal to memory "
	     "limit"},
	    {POD("{\"containers\":[{\"name\":\"a\",\"image\":\"x\",\"resources\":{\"requests\":{"
		 "\"cpu\":\"2\"},\"limits\":{\"cpu\":\"1\"}}}]}"),
	     "spec.containers[0].resources.requests.cpu: must be less than or equal to cpu limit"},
	    {POD("{\"containers\":[" C0 ",{\"name\":\"b\",\"image\":\"x\",\"resources\":{"
		 "\"limits\":{\"memory\":\"12XB\"}}}]}"),
	     "spec.containers[1].resources.limits.memory: invalid quantity \"12XB\""},
	    {POD("{\"containers\":[{\"name\":\"a\",\"image\":\"x\",\"resources\":{\"limits\":{"
		 "\"example.com/dongle\":\"1\"}}}]}"),
	     "spec.containers[0].resources.limits[example.com/dongle]: not supported"},
	    {POD("{\"containers\":[{\"name\":\"a\",\"image\":\"x\",\"resources\":{\"claims\":[]}}]"
		 "}"),
	     "spec.containers[0].resources.claims: not supported"},
	    {POD("{\"containers\":[{\"name\":\"a\",\"image\":\"x\",\"resources\":{\"requests\":{"
		 "\"cpu\":true}}}]}"),
	     "spec.containers[0].resources.requests.cpu: expected a quantity string"},
	    {POD("{\"containers\":[" C0 "," C0 "]}"),
	     "spec.containers[1].name: duplicate name \"a\" (also spec.containers[0])"},
	    {POD("{\"containers\":[{\"name\":\"Web_1\",\"image\":\"x\"}]}"),
	     "spec.containers[0].name: invalid name \"Web_1\": must be a DNS-1123 label (lowercase "
	     "letters, digits and '-', at most 63 characters)"},
	    {"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"My_Pod\"},\"spec\":{"
	     "\"containers\":[" C0 "]}}",
	     "metadata.name: invalid name \"My_Pod\": must be a DNS-1123 subdomain (lowercase "
	     "letters, digits, '-' and '.', at most 253 characters)"},
	    {"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"namespace\":"
	     "\"a.b\"},\"spec\":{\"containers\":[" C0 "]}}",
	     "metadata.namespace: invalid namespace \"a.b\": must be a DNS-1123 label (lowercase "
	     "letters, digits and '-', at most 63 characters)"},
	    {"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{},\"spec\":{\"containers\":[" C0
	     "]}}",
	     "metadata.name: required"},
	    {"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"}}",
	     "spec: required"},
	    {"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"spec\":{}}", "metadata: required"},
	    {"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\","
	     "\"generateName\":"
	     "\"x\"},\"spec\":{\"containers\":[" C0 "]}}",
	     "metadata.generateName: not supported"},
	    {"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"labels\":{"
	     "\"app\":1}},\"spec\":{\"containers\":[" C0 "]}}",
	     "metadata.labels.app: expected string"},
	    {"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"labels\":{"
	     "\"app\":\"-bad\"}},\"spec\":{\"containers\":[" C0 "]}}",
	     "metadata.labels.app: invalid label value \"-bad\": at most 63 of letters, digits, "
	     "'-', '_' and '.', starting and ending alphanumeric"},
	    {POD("{\"containers\":[]}"), "spec.containers: required"},
	    {POD("{}"), "spec.containers: required"},
	    {POD("{\"containers\":{}}"), "spec.containers: expected array"},
	    {POD("{\"containers\":[" C0 "],\"volumes\":[]}"), "spec.volumes: not supported"},
	    {POD("{\"containers\":[" C0 "],\"initContainers\":[]}"),
	     "spec.initContainers: not supported"},
	    {POD("{\"containers\":[" C0 "],\"securityContext\":{}}"),
	     "spec.securityContext: not supported"},
	    {POD("{\"containers\":[{\"name\":\"a\",\"image\":\"x\",\"env\":[{\"name\":\"A\","
		 "\"valueFrom\":{}}]}]}"),
	     "spec.containers[0].env[0].valueFrom: not supported"},
	    {POD("{\"containers\":[{\"name\":\"a\",\"image\":\"x\",\"envFrom\":[]}]}"),
	     "spec.containers[0].envFrom: not supported"},
	    {POD("{\"containers\":[{\"name\":\"a\",\"image\":\"x\",\"livenessProbe\":{}}]}"),
	     "spec.containers[0].livenessProbe: not supported"},
	    {POD("{\"containers\":[{\"name\":\"a\",\"image\":\"x\",\"ports\":[{\"containerPort\":"
		 "80,\"hostPort\":80}]}]}"),
	     "spec.containers[0].ports[0].hostPort: not supported"},
	    {POD("{\"containers\":[{\"name\":\"a\",\"image\":\"x\",\"ports\":[{\"containerPort\":"
		 "0}]}]}"),
	     "spec.containers[0].ports[0].containerPort: must be between 1 and 65535"},
	    {POD("{\"containers\":[{\"name\":\"a\",\"image\":\"x\",\"ports\":[{\"containerPort\":"
		 "\"80\"}]}]}"),
	     "spec.containers[0].ports[0].containerPort: expected integer"},
	    {POD("{\"containers\":[{\"name\":\"a\",\"image\":\"x\",\"ports\":[{\"containerPort\":"
		 "80,\"protocol\":\"ICMP\"}]}]}"),
	     "spec.containers[0].ports[0].protocol: unsupported value \"ICMP\": must be TCP, UDP "
	     "or SCTP"},
	    {POD("{\"containers\":[" C0 "],\"restartPolicy\":\"Sometimes\"}"),
	     "spec.restartPolicy: unsupported value \"Sometimes\": must be Always, OnFailure or "
	     "Never"},
	    {POD("{\"containers\":[" C0 "],\"terminationGracePeriodSeconds\":\"30\"}"),
	     "spec.terminationGracePeriodSeconds: expected integer"},
	    {POD("{\"containers\":[" C0 "],\"terminationGracePeriodSeconds\":-1}"),
	     "spec.terminationGracePeriodSeconds: must be greater than or equal to 0"},
	    {POD("{\"containers\":[{\"name\":\"a\",\"image\":\"x\",\"workingDir\":\"rel\"}]}"),
	     "spec.containers[0].workingDir: must be an absolute path"},
	    {POD("{\"containers\":[{\"name\":\"a\",\"image\":\"x\",\"imagePullPolicy\":"
		 "\"Sometimes\"}]}"),
	     "spec.containers[0].imagePullPolicy: unsupported value \"Sometimes\": must be Always, "
	     "IfNotPresent or Never"},
	    {POD("{\"containers\":[{\"name\":\"a\",\"image\":7}]}"),
	     "spec.containers[0].image: expected string"},
	    {POD("{\"containers\":[" C0 "],\"nodeSelector\":[]}"),
	     "spec.nodeSelector: expected object"},
	    {"{\"apiVersion\":\"v2\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},\"spec\":{}}",
	     "apiVersion: must be \"v1\""},
	    {"{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},\"spec\":{}}",
	     "apiVersion: required"},
	    {"{\"apiVersion\":\"v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"p\"}}",
	     "kind: must be \"Pod\""},
	    {"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},\"spec\":{"
	     "\"containers\":[" C0 "]},\"extra\":1}",
	     "extra: not supported"},
	    {"[1,2]", "expected a JSON object (a v1 Pod)"},
	    {"{\"apiVersion\":\"v1\",\n\"kind\":\"Pod\",\n  \"metadata\": {\"name\": }}",
	     "line 3 column 24: unexpected token near '}'"},
	    {"{\"apiVersion\":\"v1\",\"apiVersion\":\"v1\"}",
	     "line 1 column 31: duplicate object key near '\"apiVersion\"'"},
	    {"", "line 1 column 0: '[' or '{' expected near end of file"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		api_pod_t pod;
		api_error_t err = {{0}};
		memset(&pod, 0x5a, sizeof(pod));
		int r = decode(cases[i].json, &pod, &err);
		if (r != -EINVAL)
			fail_msg("case %zu accepted: %s", i, cases[i].json);
		if (strcmp(err.msg, cases[i].msg) != 0)
			fail_msg("case %zu:\n got: %s\nwant: %s", i, err.msg, cases[i].msg);
		/* the pod is left zeroed */
		assert_null(pod.name);
		assert_null(pod.spec.containers);
		assert_int_equal(pod.spec.ncontainers, 0);
	}
}

static api_pod_t *stored_pod(api_pod_t *pod)
{
	api_error_t err = {{0}};
	assert_int_equal(decode(web_db, pod, &err), 0);
	pod->uid = strdup("0b7d6c2a-1f3e-4b8e-9c1d-2a3b4c5d6e7f");
	pod->creation_timestamp = 1795856400000LL; /* whole seconds survive RFC 3339 */
	pod->deletion_timestamp = 1795856460000LL;
	pod->generation = 3;
	pod->resource_version = 42;
	pod->spec.node_name = strdup("node-1");
	api_pod_status_t *st = &pod->status;
	st->phase = strdup("Running");
	st->reason = strdup("Evicted");
	st->message = strdup("hello");
	st->pod_ip = strdup("10.244.1.5");
	st->host_ip = strdup("10.250.0.2");
	st->start_time = 1795856401000LL;
	st->ncontainer_statuses = 2;
	st->container_statuses = calloc(2, sizeof(api_container_status_t));
	api_container_status_t *a = &st->container_statuses[0], *b = &st->container_statuses[1];
	a->name = strdup("web");
	a->image = strdup("busybox");
	a->ready = true;
	a->restart_count = 2;
	a->state.kind = API_CSTATE_RUNNING;
	a->state.started_at = 1795856402000LL;
	a->last_state.kind = API_CSTATE_TERMINATED;
	a->last_state.reason = strdup("OOMKilled");
	a->last_state.exit_code = 137;
	a->last_state.signal = 9;
	a->last_state.started_at = 1795856401000LL;
	a->last_state.finished_at = 1795856402000LL;
	a->usage_cpu_millis = 12;
	a->usage_memory_bytes = 3 << 20;
	b->name = strdup("db");
	b->image = strdup("busybox:latest");
	b->state.kind = API_CSTATE_WAITING;
	b->state.reason = strdup("CrashLoopBackOff");
	b->state.message = strdup("back-off 10s restarting failed container");
	b->usage_cpu_millis = -1;
	b->usage_memory_bytes = -1;
	return pod;
}

static void test_encode_shape(void **state)
{
	(void)state;
	api_pod_t pod;
	stored_pod(&pod);
	json_t *j = api_pod_to_json(&pod);
	assert_string_equal(json_string_value(json_object_get(j, "kind")), "Pod");
	json_t *m = json_object_get(j, "metadata");
	assert_string_equal(json_string_value(json_object_get(m, "creationTimestamp")),
			    "2026-11-28T09:00:00Z");
	assert_string_equal(json_string_value(json_object_get(m, "resourceVersion")), "42");
	json_t *spec = json_object_get(j, "spec");
	assert_string_equal(json_string_value(json_object_get(spec, "nodeName")), "node-1");
	json_t *c0 = json_array_get(json_object_get(spec, "containers"), 0);
	json_t *lim = json_object_get(json_object_get(c0, "resources"), "limits");
	assert_string_equal(json_string_value(json_object_get(lim, "cpu")), "500m");
	assert_string_equal(json_string_value(json_object_get(lim, "memory")), "64Mi");
	json_t *c1 = json_array_get(json_object_get(spec, "containers"), 1);
	assert_null(json_object_get(c1, "command"));
	assert_null(json_object_get(c1, "ports"));
	assert_null(json_object_get(json_object_get(c1, "resources"), "requests"));
	json_t *st = json_object_get(j, "status");
	assert_string_equal(json_string_value(json_object_get(st, "podIP")), "10.244.1.5");
	json_t *cs0 = json_array_get(json_object_get(st, "containerStatuses"), 0);
	assert_int_equal(json_integer_value(json_object_get(cs0, "restartCount")), 2);
	json_t *term = json_object_get(json_object_get(cs0, "lastState"), "terminated");
	assert_int_equal(json_integer_value(json_object_get(term, "exitCode")), 137);
	assert_string_equal(json_string_value(json_object_get(term, "reason")), "OOMKilled");
	json_t *usage = json_object_get(cs0, "usage");
	assert_string_equal(json_string_value(json_object_get(usage, "cpu")), "12m");
	assert_string_equal(json_string_value(json_object_get(usage, "memory")), "3Mi");
	json_t *cs1 = json_array_get(json_object_get(st, "containerStatuses"), 1);
	assert_null(json_object_get(cs1, "usage"));
	assert_int_equal(json_object_size(json_object_get(cs1, "lastState")), 0);
	assert_string_equal(
	    json_string_value(json_object_get(
		json_object_get(json_object_get(cs1, "state"), "waiting"), "reason")),
	    "CrashLoopBackOff");
	json_decref(j);

	/* a freshly applied pod: no status fields, no system metadata */
	api_error_t err;
	api_pod_free(&pod);
	assert_int_equal(decode(simple_pod, &pod, &err), 0);
	j = api_pod_to_json(&pod);
	m = json_object_get(j, "metadata");
	assert_null(json_object_get(m, "uid"));
	assert_null(json_object_get(m, "creationTimestamp"));
	assert_null(json_object_get(m, "labels"));
	assert_int_equal(json_object_size(json_object_get(j, "status")), 0);
	json_decref(j);
	api_pod_free(&pod);
}

static void test_round_trip(void **state)
{
	(void)state;
	api_pod_t pod, back, copy;
	api_error_t err = {{0}};
	stored_pod(&pod);
	json_t *j1 = api_pod_to_json(&pod);
	char *text = json_dumps(j1, JSON_COMPACT);
	if (api_pod_from_text(text, strlen(text), API_DECODE_STORED, &back, &err) != 0)
		fail_msg("stored decode: %s", err.msg);
	json_t *j2 = api_pod_to_json(&back);
	assert_true(json_equal(j1, j2));
	assert_string_equal(back.uid, pod.uid);
	assert_int_equal(back.creation_timestamp, pod.creation_timestamp);
	assert_int_equal(back.deletion_timestamp, pod.deletion_timestamp);
	assert_int_equal(back.generation, 3);
	assert_int_equal(back.resource_version, 42);
	assert_int_equal(back.status.container_statuses[0].last_state.signal, 9);
	assert_int_equal(back.status.container_statuses[0].usage_memory_bytes, 3 << 20);
	assert_int_equal(back.status.container_statuses[1].usage_cpu_millis, -1);
	assert_true(back.status.container_statuses[0].ready);

	/* USER decode of the same text drops status and system metadata */
	api_pod_t user;
	assert_int_equal(api_pod_from_text(text, strlen(text), API_DECODE_USER, &user, &err), 0);
	assert_null(user.uid);
	assert_null(user.status.phase);
	assert_int_equal(user.creation_timestamp, 0);
	assert_string_equal(user.spec.node_name, "node-1");
	api_pod_free(&user);

	/* deep copy survives the original */
	api_pod_copy(&copy, &back);
	api_pod_free(&back);
	json_t *j3 = api_pod_to_json(&copy);
	assert_true(json_equal(j1, j3));
	api_pod_free(&copy);
	api_pod_free(&pod);
	api_pod_free(&pod); /* freeing a zeroed pod is fine */
	free(text);
	json_decref(j1);
	json_decref(j2);
	json_decref(j3);
}

static void test_kvlist(void **state)
{
	(void)state;
	api_kvlist_t l = {0};
	api_kv_set(&l, "a", "1");
	api_kv_set(&l, "b", "2");
	api_kv_set(&l, "a", "3");
	assert_int_equal(l.n, 2);
	assert_string_equal(l.items[0].key, "a");
	assert_string_equal(api_kv_get(&l, "a"), "3");
	assert_string_equal(api_kv_get(&l, "b"), "2");
	assert_null(api_kv_get(&l, "c"));
	api_kvlist_free(&l);
	assert_int_equal(l.n, 0);
	assert_null(api_kv_get(&l, "a"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid_simple), cmocka_unit_test(test_valid_docs),
	    cmocka_unit_test(test_valid_full),	 cmocka_unit_test(test_invalid),
	    cmocka_unit_test(test_encode_shape), cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_kvlist),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
