/* Envelope framing: pack/unpack round trips, refusals; PodStatus <-> model. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto/api.h"

static Nodelet__V1__Envelope *round_trip(const Nodelet__V1__Envelope *env)
{
	uint8_t *buf;
	size_t len;
	api_error_t err = {{0}};
	assert_int_equal(api_envelope_pack(env, &buf, &len), 0);
	Nodelet__V1__Envelope *out = api_envelope_unpack(buf, len, &err);
	if (!out)
		fail_msg("unpack: %s", err.msg);
	free(buf);
	assert_int_equal(out->msg_case, env->msg_case);
	return out;
}

static void test_register(void **state)
{
	(void)state;
	Nodelet__V1__Envelope env = NODELET__V1__ENVELOPE__INIT;
	Nodelet__V1__Register reg = NODELET__V1__REGISTER__INIT;
	Nodelet__V1__Resources cap = NODELET__V1__RESOURCES__INIT;
	Nodelet__V1__Label l1 = NODELET__V1__LABEL__INIT, *labels[] = {&l1};
	Nodelet__V1__PodRef ref = NODELET__V1__POD_REF__INIT, *refs[] = {&ref};
	char *addrs[] = {"10.250.0.2", "n1"};
	l1.key = "disktype";
	l1.value = "ssd";
	ref.uid = "u-1";
	ref.generation = 4;
	cap.cpu_millis = 2000;
	cap.memory_bytes = 24LL << 30;
	cap.pods = 110;
	reg.protocol_version = API_PROTOCOL_VERSION;
	reg.name = "n1";
	reg.n_labels = 1;
	reg.labels = labels;
	reg.capacity = &cap;
	reg.n_addresses = 2;
	reg.addresses = addrs;
	reg.n_pods = 1;
	reg.pods = refs;
	reg.version = "nodelet-0.1";
	env.msg_case = NODELET__V1__ENVELOPE__MSG_REGISTER;
	env.register_ = &reg;
	Nodelet__V1__Envelope *o = round_trip(&env);
	assert_string_equal(o->register_->name, "n1");
	assert_int_equal(o->register_->protocol_version, 1);
	assert_int_equal(o->register_->capacity->memory_bytes, 24LL << 30);
	assert_string_equal(o->register_->labels[0]->value, "ssd");
	assert_string_equal(o->register_->addresses[1], "n1");
	assert_int_equal(o->register_->pods[0]->generation, 4);
	nodelet__v1__envelope__free_unpacked(o, NULL);
}

static void test_other_messages(void **state)
{
	(void)state;
	Nodelet__V1__Envelope env = NODELET__V1__ENVELOPE__INIT, *o;

	Nodelet__V1__RegisterReply rr = NODELET__V1__REGISTER_REPLY__INIT;
	rr.accepted = true;
	rr.pod_cidr = "10.244.1.0/24";
	rr.heartbeat_interval_ms = 5000;
	env.msg_case = NODELET__V1__ENVELOPE__MSG_REGISTER_REPLY;
	env.register_reply = &rr;
	o = round_trip(&env);
	assert_true(o->register_reply->accepted);
	assert_string_equal(o->register_reply->pod_cidr, "10.244.1.0/24");
	assert_int_equal(o->register_reply->heartbeat_interval_ms, 5000);
	nodelet__v1__envelope__free_unpacked(o, NULL);

	Nodelet__V1__Heartbeat hb = NODELET__V1__HEARTBEAT__INIT;
	Nodelet__V1__Resources use = NODELET__V1__RESOURCES__INIT;
	use.cpu_millis = 120;
	hb.seq = 99;
	hb.usage = &use;
	env.msg_case = NODELET__V1__ENVELOPE__MSG_HEARTBEAT;
	env.heartbeat = &hb;
	o = round_trip(&env);
	assert_int_equal(o->heartbeat->seq, 99);
	assert_int_equal(o->heartbeat->usage->cpu_millis, 120);
	assert_null(o->heartbeat->allocatable);
	nodelet__v1__envelope__free_unpacked(o, NULL);

	Nodelet__V1__RunPod rp = NODELET__V1__RUN_POD__INIT;
	rp.uid = "u-1";
	rp.generation = 2;
	rp.pod_json = "{\"kind\":\"Pod\"}";
	env.msg_case = NODELET__V1__ENVELOPE__MSG_RUN_POD;
	env.run_pod = &rp;
	o = round_trip(&env);
	assert_string_equal(o->run_pod->pod_json, "{\"kind\":\"Pod\"}");
	nodelet__v1__envelope__free_unpacked(o, NULL);

	Nodelet__V1__StopPod sp = NODELET__V1__STOP_POD__INIT;
	sp.uid = "u-1";
	sp.grace_seconds = 30;
	sp.reason = "deleted";
	env.msg_case = NODELET__V1__ENVELOPE__MSG_STOP_POD;
	env.stop_pod = &sp;
	o = round_trip(&env);
	assert_int_equal(o->stop_pod->grace_seconds, 30);
	assert_string_equal(o->stop_pod->reason, "deleted");
	nodelet__v1__envelope__free_unpacked(o, NULL);

	Nodelet__V1__Error e = NODELET__V1__ERROR__INIT;
	e.code = 400;
	e.message = "bad";
	env.msg_case = NODELET__V1__ENVELOPE__MSG_ERROR;
	env.error = &e;
	o = round_trip(&env);
	assert_int_equal(o->error->code, 400);
	nodelet__v1__envelope__free_unpacked(o, NULL);
}

static api_pod_status_t sample_status(void)
{
	api_pod_status_t st;
	memset(&st, 0, sizeof(st));
	st.phase = strdup("Running");
	st.pod_ip = strdup("10.244.1.5");
	st.start_time = 1795856401000LL;
	st.ncontainer_statuses = 2;
	st.container_statuses = calloc(2, sizeof(api_container_status_t));
	api_container_status_t *a = &st.container_statuses[0];
	a->name = strdup("web");
	a->image = strdup("busybox");
	a->ready = true;
	a->restart_count = 1;
	a->state.kind = API_CSTATE_RUNNING;
	a->state.started_at = 1795856402123LL;
	a->last_state.kind = API_CSTATE_TERMINATED;
	a->last_state.reason = strdup("OOMKilled");
	a->last_state.exit_code = 137;
	a->usage_cpu_millis = 7;
	a->usage_memory_bytes = 1 << 20;
	st.container_statuses[1].name = strdup("db");
	st.container_statuses[1].state.kind = API_CSTATE_WAITING;
	st.container_statuses[1].state.reason = strdup("ErrImagePull");
	st.container_statuses[1].usage_cpu_millis = -1;
	st.container_statuses[1].usage_memory_bytes = -1;
	return st;
}

static void free_status(api_pod_status_t *st)
{
	api_pod_t tmp;
	memset(&tmp, 0, sizeof(tmp));
	tmp.status = *st;
	api_pod_free(&tmp);
}

static void test_pod_status_wire(void **state)
{
	(void)state;
	api_pod_status_t st = sample_status();
	Nodelet__V1__PodStatus *ws = api_wire_pod_status_new("u-1", 5, &st);
	Nodelet__V1__Envelope env = NODELET__V1__ENVELOPE__INIT;
	env.msg_case = NODELET__V1__ENVELOPE__MSG_POD_STATUS;
	env.pod_status = ws;
	Nodelet__V1__Envelope *o = round_trip(&env);
	api_wire_pod_status_free(ws);

	assert_string_equal(o->pod_status->uid, "u-1");
	assert_int_equal(o->pod_status->generation, 5);
	api_pod_status_t back;
	memset(&back, 0, sizeof(back));
	back.phase = strdup("Pending"); /* replaced, not leaked */
	api_pod_status_from_wire(&back, o->pod_status);
	nodelet__v1__envelope__free_unpacked(o, NULL);

	assert_string_equal(back.phase, "Running");
	assert_null(back.reason); /* "" on the wire -> NULL */
	assert_string_equal(back.pod_ip, "10.244.1.5");
	assert_int_equal(back.start_time, 1795856401000LL);
	assert_int_equal(back.ncontainer_statuses, 2);
	api_container_status_t *a = &back.container_statuses[0];
	assert_string_equal(a->name, "web");
	assert_true(a->ready);
	assert_int_equal(a->state.kind, API_CSTATE_RUNNING);
	assert_int_equal(a->state.started_at, 1795856402123LL);
	assert_int_equal(a->last_state.kind, API_CSTATE_TERMINATED);
	assert_string_equal(a->last_state.reason, "OOMKilled");
	assert_int_equal(a->last_state.exit_code, 137);
	assert_int_equal(a->usage_memory_bytes, 1 << 20);
	assert_string_equal(back.container_statuses[1].state.reason, "ErrImagePull");
	assert_int_equal(back.container_statuses[1].usage_cpu_millis, -1);
	free_status(&back);
	free_status(&st);

	/* free_unpacked also releases what api_wire_pod_status_new made */
	st = sample_status();
	ws = api_wire_pod_status_new(NULL, 0, &st);
	nodelet__v1__pod_status__free_unpacked(ws, NULL);
	free_status(&st);
}

static void test_refused(void **state)
{
	(void)state;
	api_error_t err = {{0}};
	uint8_t *buf;
	size_t len;

	Nodelet__V1__Envelope env = NODELET__V1__ENVELOPE__INIT;
	assert_int_equal(api_envelope_pack(&env, &buf, &len), -EINVAL);
	assert_null(buf);

	/* empty frame: decodes to NOT_SET */
	assert_null(api_envelope_unpack((const uint8_t *)"", 0, &err));
	assert_non_null(strstr(err.msg, "no message"));

	/* only an unknown field (field 15, varint 1) */
	static const uint8_t unknown[] = {0x78, 0x01};
	assert_null(api_envelope_unpack(unknown, sizeof(unknown), &err));
	assert_non_null(strstr(err.msg, "no message"));

	/* garbage */
	static const uint8_t garbage[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x12};
	err.msg[0] = '\0';
	assert_null(api_envelope_unpack(garbage, sizeof(garbage), &err));
	assert_non_null(strstr(err.msg, "undecodable"));
	static const uint8_t truncated[] = {0x0a, 0x10, 0x12, 0x02};
	assert_null(api_envelope_unpack(truncated, sizeof(truncated), &err));

	/* invalid UTF-8 in a nested string (Register.labels[].value) */
	Nodelet__V1__Register reg = NODELET__V1__REGISTER__INIT;
	Nodelet__V1__Label l = NODELET__V1__LABEL__INIT, *labels[] = {&l};
	l.key = "k";
	l.value = "\xc3\x28";
	reg.name = "n1";
	reg.n_labels = 1;
	reg.labels = labels;
	env.msg_case = NODELET__V1__ENVELOPE__MSG_REGISTER;
	env.register_ = &reg;
	assert_int_equal(api_envelope_pack(&env, &buf, &len), 0);
	err.msg[0] = '\0';
	assert_null(api_envelope_unpack(buf, len, &err));
	assert_string_equal(err.msg, "Label.value: invalid UTF-8");
	free(buf);

	/* and in a repeated string / top-level of a message; overlong and surrogate */
	static char *bad_strings[] = {"\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "ab\xe2\x82"};
	for (size_t i = 0; i < 4; i++) {
		char *addrs[] = {"ok", bad_strings[i]};
		reg.n_labels = 0;
		reg.n_addresses = 2;
		reg.addresses = addrs;
		assert_int_equal(api_envelope_pack(&env, &buf, &len), 0);
		assert_null(api_envelope_unpack(buf, len, &err));
		assert_string_equal(err.msg, "Register.addresses: invalid UTF-8");
		free(buf);
	}

	/* valid multi-byte UTF-8 passes */
	reg.n_addresses = 0;
	reg.name = "n\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";
	assert_int_equal(api_envelope_pack(&env, &buf, &len), 0);
	Nodelet__V1__Envelope *o = api_envelope_unpack(buf, len, &err);
	assert_non_null(o);
	nodelet__v1__envelope__free_unpacked(o, NULL);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_register),
	    cmocka_unit_test(test_other_messages),
	    cmocka_unit_test(test_pod_status_wire),
	    cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
