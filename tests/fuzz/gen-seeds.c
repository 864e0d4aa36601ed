/* fuzz-gen-seeds: writes the generated seeds of tests/fuzz/corpus/ once
 * (`make fuzz-seeds`): one packed Envelope per message kind, and a Pod in its
 * stored form (status, uid, timestamps) for the pod target.
 * Usage: fuzz-gen-seeds CORPUS_DIR */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/api.h"

static void write_file(const char *dir, const char *name, const void *data, size_t len)
{
	char path[4096];
	snprintf(path, sizeof(path), "%.3800s/%.200s", dir, name);
	FILE *f = fopen(path, "wb");
	if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

static void write_env(const char *dir, const char *name, Nodelet__V1__Envelope *env)
{
	uint8_t *buf;
	size_t len;
	if (api_envelope_pack(env, &buf, &len) != 0) {
		fprintf(stderr, "packing %s failed\n", name);
		exit(1);
	}
	write_file(dir, name, buf, len);
	free(buf);
}

static const char stored_pod[] =
    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web\",\"namespace\":\"prod\","
    "\"uid\":\"0b5e1c2a-1111-4222-8333-944455556666\",\"labels\":{\"app\":\"web\"},"
    "\"annotations\":{\"a\":\"b\"},\"creationTimestamp\":\"2026-11-29T09:10:11Z\","
    "\"generation\":3,\"resourceVersion\":\"17\"},"
    "\"spec\":{\"nodeName\":\"n1\",\"restartPolicy\":\"OnFailure\",\"nodeSelector\":{\"disk\":"
    "\"ssd\"},\"terminationGracePeriodSeconds\":5,\"containers\":[{\"name\":\"app\",\"image\":"
    "\"busybox:1.36\",\"imagePullPolicy\":\"IfNotPresent\",\"command\":[\"sh\",\"-c\"],\"args\":["
    "\"sleep 1000\"],\"workingDir\":\"/tmp\",\"env\":[{\"name\":\"A\",\"value\":\"1\"}],"
    "\"ports\":[{\"name\":\"http\",\"containerPort\":8080,\"protocol\":\"TCP\"}],"
    "\"resources\":{\"requests\":{\"cpu\":\"100m\",\"memory\":\"64Mi\"},\"limits\":{\"cpu\":"
    "\"1\",\"memory\":\"128Mi\"}}}]}}";

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
		return 2;
	}
	char envdir[4096], poddir[4096];
	snprintf(envdir, sizeof(envdir), "%.3000s/envelope", argv[1]);
	snprintf(poddir, sizeof(poddir), "%.3000s/pod", argv[1]);

	/* A stored pod with a status, through the real encoder. */
	api_pod_t pod;
	api_error_t err;
	memset(&pod, 0, sizeof(pod));
	if (api_pod_from_text(stored_pod, strlen(stored_pod), API_DECODE_STORED, &pod, &err) != 0) {
		fprintf(stderr, "stored pod: %s\n", err.msg);
		return 1;
	}
	pod.status.phase = strdup("Running");
	pod.status.pod_ip = strdup("10.244.1.5");
	pod.status.host_ip = strdup("10.250.0.2");
	pod.status.start_time = 1795000000000;
	pod.status.container_statuses = calloc(1, sizeof(api_container_status_t));
	pod.status.ncontainer_statuses = 1;
	api_container_status_t *cs = &pod.status.container_statuses[0];
	cs->name = strdup("app");
	cs->image = strdup("busybox:1.36");
	cs->state.kind = API_CSTATE_RUNNING;
	cs->state.started_at = 1795000001000;
	cs->last_state.kind = API_CSTATE_TERMINATED;
	cs->last_state.reason = strdup("OOMKilled");
	cs->last_state.exit_code = 137;
	cs->last_state.signal = 9;
	cs->last_state.finished_at = 1795000000500;
	cs->restart_count = 2;
	cs->ready = true;
	cs->usage_cpu_millis = 12;
	cs->usage_memory_bytes = 3 << 20;
	json_t *j = api_pod_to_json(&pod);
	char *text = json_dumps(j, JSON_INDENT(1));
	write_file(poddir, "stored-status.json", text, strlen(text));

	Nodelet__V1__Envelope env = NODELET__V1__ENVELOPE__INIT;

	Nodelet__V1__Register reg = NODELET__V1__REGISTER__INIT;
	Nodelet__V1__Label lab = NODELET__V1__LABEL__INIT, *labs[] = {&lab};
	Nodelet__V1__Resources cap = NODELET__V1__RESOURCES__INIT;
	Nodelet__V1__PodRef ref = NODELET__V1__POD_REF__INIT, *refs[] = {&ref};
	char *addrs[] = {"10.250.0.2", "::1"};
	lab.key = "zone";
	lab.value = "a";
	cap.cpu_millis = 2000;
	cap.memory_bytes = 4LL << 30;
	cap.pods = 110;
	ref.uid = "0b5e1c2a-1111-4222-8333-944455556666";
	ref.generation = 3;
	reg.protocol_version = API_PROTOCOL_VERSION;
	reg.name = "n1";
	reg.n_labels = 1;
	reg.labels = labs;
	reg.capacity = &cap;
	reg.n_addresses = 2;
	reg.addresses = addrs;
	reg.n_pods = 1;
	reg.pods = refs;
	reg.version = "0.1.0";
	env.msg_case = NODELET__V1__ENVELOPE__MSG_REGISTER;
	env.register_ = &reg;
	write_env(envdir, "register.bin", &env);

	Nodelet__V1__RegisterReply rr = NODELET__V1__REGISTER_REPLY__INIT;
	rr.accepted = 1;
	rr.pod_cidr = "10.244.1.0/24";
	rr.heartbeat_interval_ms = 1000;
	env.msg_case = NODELET__V1__ENVELOPE__MSG_REGISTER_REPLY;
	env.register_reply = &rr;
	write_env(envdir, "register-reply.bin", &env);

	Nodelet__V1__Heartbeat hb = NODELET__V1__HEARTBEAT__INIT;
	Nodelet__V1__Resources use = NODELET__V1__RESOURCES__INIT;
	use.cpu_millis = 150;
	use.memory_bytes = 1 << 28;
	use.pods = 3;
	hb.seq = 42;
	hb.usage = &use;
	hb.allocatable = &cap;
	env.msg_case = NODELET__V1__ENVELOPE__MSG_HEARTBEAT;
	env.heartbeat = &hb;
	write_env(envdir, "heartbeat.bin", &env);

	Nodelet__V1__RunPod run = NODELET__V1__RUN_POD__INIT;
	run.uid = ref.uid;
	run.generation = 3;
	run.pod_json = text;
	env.msg_case = NODELET__V1__ENVELOPE__MSG_RUN_POD;
	env.run_pod = &run;
	write_env(envdir, "run-pod.bin", &env);

	Nodelet__V1__StopPod stop = NODELET__V1__STOP_POD__INIT;
	stop.uid = ref.uid;
	stop.generation = 3;
	stop.grace_seconds = 30;
	stop.reason = "Deleted";
	env.msg_case = NODELET__V1__ENVELOPE__MSG_STOP_POD;
	env.stop_pod = &stop;
	write_env(envdir, "stop-pod.bin", &env);

	Nodelet__V1__PodStatus *ws = api_wire_pod_status_new(pod.uid, 3, &pod.status);
	env.msg_case = NODELET__V1__ENVELOPE__MSG_POD_STATUS;
	env.pod_status = ws;
	write_env(envdir, "pod-status.bin", &env);
	api_wire_pod_status_free(ws);

	Nodelet__V1__Error e = NODELET__V1__ERROR__INIT;
	e.code = 400;
	e.message = "bad frame";
	env.msg_case = NODELET__V1__ENVELOPE__MSG_ERROR;
	env.error = &e;
	write_env(envdir, "error.bin", &env);

	free(text);
	json_decref(j);
	api_pod_free(&pod);
	return 0;
}
