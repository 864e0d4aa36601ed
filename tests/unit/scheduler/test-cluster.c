/* cluster.c: registration and pod CIDRs, binding and RunPod, the node
 * lifecycle (grace -> NotReady, eviction -> re-place), the reconcile on
 * re-registration, and deletion — with fake node sessions that record what
 * schedd sends, a real SQLite store in a temporary directory, and clocks
 * moved by editing the node's timestamps. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "scheduler/sched.h"
#include "scheduler/store.h"

/* ---- fake sessions: session.c is not linked, these replace it ---------- */

typedef struct sent {
	int kind; /* NODELET__V1__ENVELOPE__MSG_* */
	char uid[64];
	int64_t generation;
	char text[2048]; /* reply pod_cidr / stop reason / pod JSON */
	bool accepted;
} sent_t;

struct sched_session {
	sent_t sent[32];
	int n;
	bool closed;
};

int sched_session_send(struct sched_session *s, const Nodelet__V1__Envelope *env)
{
	sent_t *m = &s->sent[s->n < 32 ? s->n : 31];

	memset(m, 0, sizeof(*m));
	m->kind = (int)env->msg_case;
	switch (env->msg_case) {
	case NODELET__V1__ENVELOPE__MSG_REGISTER_REPLY:
		m->accepted = env->register_reply->accepted;
		snprintf(m->text, sizeof(m->text), "%s", env->register_reply->pod_cidr);
		break;
	case NODELET__V1__ENVELOPE__MSG_RUN_POD:
		snprintf(m->uid, sizeof(m->uid), "%s", env->run_pod->uid);
		m->generation = env->run_pod->generation;
		snprintf(m->text, sizeof(m->text), "%s", env->run_pod->pod_json);
		break;
	case NODELET__V1__ENVELOPE__MSG_STOP_POD:
		snprintf(m->uid, sizeof(m->uid), "%s", env->stop_pod->uid);
		m->generation = env->stop_pod->generation;
		snprintf(m->text, sizeof(m->text), "%s", env->stop_pod->reason);
		break;
	default:
		break;
	}
	s->n++;
	return 0;
}

void sched_session_close(struct sched_session *s, const char *reason)
{
	(void)reason;
	s->closed = true;
}

/* ---- fixture ------------------------------------------------------------ */

typedef struct fx {
	char dir[64];
	sched_config_t cfg;
	sched_store_t *store;
	sched_cluster_t c;
} fx_t;

static int setup(void **state)
{
	fx_t *f = calloc(1, sizeof(*f));
	char err[256];
	char *argv[] = {"schedd", NULL};

	snprintf(f->dir, sizeof(f->dir), "/tmp/test-cluster-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	sched_config_parse(&f->cfg, 1, argv, err, sizeof(err));
	f->cfg.data_dir = f->dir;
	f->store = sched_store_sqlite_open(f->dir, err, sizeof(err));
	if (!f->store || sched_cluster_init(&f->c, &f->cfg, f->store, err, sizeof(err)) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx_t *f = *state;
	char cmd[128];

	sched_cluster_free(&f->c);
	f->store->ops->close(f->store);
	snprintf(cmd, sizeof(cmd), "rm -rf --one-file-system '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

/* Registers name on session s with 2 CPUs, 4Gi; reports pods (uid, gen). */
static sched_node_t *reg(fx_t *f, struct sched_session *s, const char *name, size_t npods,
			 const char *const *uids, const int64_t *gens)
{
	Nodelet__V1__Register r = NODELET__V1__REGISTER__INIT;
	Nodelet__V1__Resources cap = NODELET__V1__RESOURCES__INIT;
	Nodelet__V1__PodRef refs[4], *prefs[4];
	char msg[256];

	cap.cpu_millis = 2000;
	cap.memory_bytes = 4LL << 30;
	cap.pods = 110;
	r.protocol_version = API_PROTOCOL_VERSION;
	r.name = (char *)name;
	r.capacity = &cap;
	for (size_t i = 0; i < npods; i++) {
		nodelet__v1__pod_ref__init(&refs[i]);
		refs[i].uid = (char *)uids[i];
		refs[i].generation = gens[i];
		prefs[i] = &refs[i];
	}
	r.n_pods = npods;
	r.pods = prefs;
	return sched_cluster_register(&f->c, s, &r, msg, sizeof(msg));
}

static sched_pod_t *create(fx_t *f, const char *name, int64_t mem)
{
	api_pod_t p;

	memset(&p, 0, sizeof(p));
	p.name = strdup(name);
	p.namespace_ = strdup("default");
	p.spec.containers = calloc(1, sizeof(api_container_t));
	p.spec.ncontainers = 1;
	p.spec.containers[0].name = strdup("c");
	p.spec.containers[0].image = strdup("busybox");
	p.spec.containers[0].resources.requests.cpu_millis = 100;
	p.spec.containers[0].resources.requests.memory_bytes = mem;
	p.spec.containers[0].resources.limits.cpu_millis = -1;
	p.spec.containers[0].resources.limits.memory_bytes = -1;
	p.spec.termination_grace_period_seconds = 30;
	return sched_cluster_create_pod(&f->c, &p);
}

static void test_register_and_bind(void **state)
{
	fx_t *f = *state;
	struct sched_session s1 = {0}, s2 = {0};
	sched_node_t *n1, *n2;
	sched_pod_t *p;

	p = create(f, "web", 64 << 20);
	assert_non_null(p);
	assert_null(p->pod.spec.node_name);
	assert_string_equal(p->pod.status.reason, "Unschedulable");
	assert_string_equal(p->pod.status.message, "0/0 nodes available");

	n1 = reg(f, &s1, "n1", 0, NULL, NULL);
	assert_non_null(n1);
	assert_string_equal(n1->pod_cidr, "10.244.1.0/24");
	assert_int_equal(s1.sent[0].kind, NODELET__V1__ENVELOPE__MSG_REGISTER_REPLY);
	assert_true(s1.sent[0].accepted);
	assert_string_equal(s1.sent[0].text, "10.244.1.0/24");
	/* the pending pod was bound at once */
	assert_int_equal(s1.n, 2);
	assert_int_equal(s1.sent[1].kind, NODELET__V1__ENVELOPE__MSG_RUN_POD);
	assert_string_equal(s1.sent[1].uid, p->pod.uid);
	assert_int_equal(s1.sent[1].generation, 1);
	assert_non_null(strstr(s1.sent[1].text, "\"nodeName\":\"n1\""));
	assert_string_equal(p->pod.spec.node_name, "n1");

	n2 = reg(f, &s2, "n2", 0, NULL, NULL);
	assert_string_equal(n2->pod_cidr, "10.244.2.0/24");
	/* least allocated: the next pod goes to the empty n2 */
	p = create(f, "db", 64 << 20);
	assert_string_equal(p->pod.spec.node_name, "n2");
	/* too big for anyone */
	p = create(f, "huge", 64LL << 30);
	assert_null(p->pod.spec.node_name);
	assert_string_equal(p->pod.status.message, "0/2 nodes available: 2 insufficient memory");
}

static void test_lost_node_replaced_and_reconciled(void **state)
{
	fx_t *f = *state;
	struct sched_session s1 = {0}, s2 = {0}, s1b = {0};
	sched_node_t *n1, *n2;
	sched_pod_t *p;
	char uid[64];
	int64_t gen;

	n1 = reg(f, &s1, "n1", 0, NULL, NULL);
	p = create(f, "web", 64 << 20);
	assert_string_equal(p->pod.spec.node_name, "n1");
	snprintf(uid, sizeof(uid), "%s", p->pod.uid);
	n2 = reg(f, &s2, "n2", 0, NULL, NULL);

	/* n1 silent past the grace period */
	n1->last_seen_mono -= f->cfg.node_grace_ms + 1;
	sched_cluster_tick(&f->c);
	assert_int_equal(n1->ready, SCHED_READY_UNKNOWN);
	assert_string_equal(p->pod.spec.node_name, "n1"); /* not yet evicted */

	/* ... and NotReady past the eviction timeout */
	n1->not_ready_since_mono -= f->cfg.eviction_timeout_ms;
	n2->last_seen_mono = sched_mono_ms();
	sched_cluster_tick(&f->c);
	assert_string_equal(p->pod.spec.node_name, "n2");
	assert_int_equal(p->pod.generation, 3);
	assert_int_equal(s2.sent[s2.n - 1].kind, NODELET__V1__ENVELOPE__MSG_RUN_POD);
	assert_int_equal(s2.sent[s2.n - 1].generation, 3);

	/* a heartbeat on the old session asks it to register again */
	Nodelet__V1__Heartbeat hb = NODELET__V1__HEARTBEAT__INIT;
	sched_cluster_heartbeat(&f->c, &s1, n1, &hb);
	assert_true(s1.closed);

	/* n1 re-registers with its stale copy: told to stop it */
	const char *uids[] = {uid};
	int64_t gens[] = {1};
	assert_ptr_equal(reg(f, &s1b, "n1", 1, uids, gens), n1);
	assert_string_equal(n1->pod_cidr, "10.244.1.0/24");
	assert_int_equal(s1b.n, 2);
	assert_int_equal(s1b.sent[1].kind, NODELET__V1__ENVELOPE__MSG_STOP_POD);
	assert_string_equal(s1b.sent[1].uid, uid);
	assert_int_equal(s1b.sent[1].generation, 1);
	assert_string_equal(s1b.sent[1].text, "pod re-placed");

	/* stale status ignored, current one applied */
	Nodelet__V1__PodStatus ps = NODELET__V1__POD_STATUS__INIT;
	ps.uid = uid;
	ps.generation = 1;
	ps.phase = "Failed";
	sched_cluster_pod_status(&f->c, &s1b, n1, &ps);
	assert_string_equal(p->pod.status.phase, "Pending");
	ps.generation = 3;
	ps.phase = "Running";
	sched_cluster_pod_status(&f->c, &s2, n2, &ps);
	assert_string_equal(p->pod.status.phase, "Running");

	/* n2 restarts without the pod: RunPod again */
	gen = p->pod.generation;
	sched_cluster_disconnected(&f->c, &s2, n2);
	assert_null(n2->session);
	struct sched_session s2b = {0};
	reg(f, &s2b, "n2", 0, NULL, NULL);
	assert_int_equal(s2b.sent[1].kind, NODELET__V1__ENVELOPE__MSG_RUN_POD);
	assert_int_equal(s2b.sent[1].generation, gen);
}

static void test_delete(void **state)
{
	fx_t *f = *state;
	struct sched_session s1 = {0};
	sched_node_t *n1 = reg(f, &s1, "n1", 0, NULL, NULL);
	sched_pod_t *p;
	json_t *j;
	char uid[64];

	/* unbound: gone at once */
	p = create(f, "huge", 64LL << 30);
	j = sched_cluster_delete_pod(&f->c, p);
	assert_non_null(json_object_get(json_object_get(j, "metadata"), "deletionTimestamp"));
	json_decref(j);
	assert_null(sched_cluster_find_pod(&f->c, "default", "huge"));

	/* bound: StopPod, kept until the node says removed */
	p = create(f, "web", 1 << 20);
	snprintf(uid, sizeof(uid), "%s", p->pod.uid);
	json_decref(sched_cluster_delete_pod(&f->c, p));
	assert_int_equal(s1.sent[s1.n - 1].kind, NODELET__V1__ENVELOPE__MSG_STOP_POD);
	assert_string_equal(s1.sent[s1.n - 1].text, "pod deleted");
	assert_non_null(sched_cluster_find_pod(&f->c, "default", "web"));
	Nodelet__V1__PodStatus ps = NODELET__V1__POD_STATUS__INIT;
	ps.uid = uid;
	ps.generation = 1;
	ps.removed = true;
	sched_cluster_pod_status(&f->c, &s1, n1, &ps);
	assert_null(sched_cluster_find_pod(&f->c, "default", "web"));

	/* bound to a node that is gone: removed at once */
	p = create(f, "web2", 1 << 20);
	sched_cluster_disconnected(&f->c, &s1, n1);
	json_decref(sched_cluster_delete_pod(&f->c, p));
	assert_null(sched_cluster_find_pod(&f->c, "default", "web2"));
}

static void test_reload_from_store(void **state)
{
	fx_t *f = *state;
	struct sched_session s1 = {0};
	sched_pod_t *p;
	char err[256];
	char uid[64];

	reg(f, &s1, "n1", 0, NULL, NULL);
	p = create(f, "web", 1 << 20);
	snprintf(uid, sizeof(uid), "%s", p->pod.uid);

	sched_cluster_free(&f->c);
	assert_int_equal(sched_cluster_init(&f->c, &f->cfg, f->store, err, sizeof(err)), 0);
	p = sched_cluster_find_pod(&f->c, "default", "web");
	assert_non_null(p);
	assert_string_equal(p->pod.uid, uid);
	assert_string_equal(p->pod.spec.node_name, "n1");
	assert_int_equal(p->pod.generation, 1);
	sched_node_t *n1 = sched_cluster_find_node(&f->c, "n1");
	assert_non_null(n1);
	assert_int_equal(n1->ready, SCHED_READY_UNKNOWN);
	assert_string_equal(n1->pod_cidr, "10.244.1.0/24");
	assert_int_equal(n1->cap_memory_bytes, 4LL << 30);
	/* a restart does not evict at once */
	sched_cluster_tick(&f->c);
	assert_string_equal(p->pod.spec.node_name, "n1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_register_and_bind, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lost_node_replaced_and_reconciled, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reload_from_store, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
