/* The cluster state schedd keeps: pods and nodes in memory, written through
 * to the store; binding, unbinding, deletion, and the node lifecycle (grace
 * -> NotReady, eviction -> re-place). Runs on the loop thread only. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "scheduler/sched.h"
#include "scheduler/store.h"

/* Unbound pods are retried this often (in ticks) besides on node changes. */
#define RETRY_TICKS 3

char *sched_strdup(const char *s)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		abort();
	return d;
}

static void set_str(char **dst, const char *v)
{
	free(*dst);
	*dst = sched_strdup(v);
}

static void *grow(void *arr, size_t *cap, size_t n, size_t elem)
{
	if (n < *cap)
		return arr;
	*cap = *cap ? *cap * 2 : 16;
	arr = realloc(arr, *cap * elem);
	if (!arr)
		abort();
	return arr;
}

static void fmt_duration(int64_t ms, char *buf, size_t len)
{
	if (ms % 1000)
		snprintf(buf, len, "%lldms", (long long)ms);
	else
		snprintf(buf, len, "%llds", (long long)(ms / 1000));
}

/* ---- lookups ----------------------------------------------------------- */

sched_pod_t *sched_cluster_find_pod(sched_cluster_t *c, const char *ns, const char *name)
{
	for (size_t i = 0; i < c->npods; i++)
		if (!strcmp(c->pods[i]->pod.namespace_, ns) && !strcmp(c->pods[i]->pod.name, name))
			return c->pods[i];
	return NULL;
}

sched_pod_t *sched_cluster_find_uid(sched_cluster_t *c, const char *uid)
{
	for (size_t i = 0; i < c->npods; i++)
		if (c->pods[i]->pod.uid && !strcmp(c->pods[i]->pod.uid, uid))
			return c->pods[i];
	return NULL;
}

sched_node_t *sched_cluster_find_node(sched_cluster_t *c, const char *name)
{
	for (size_t i = 0; i < c->nnodes; i++)
		if (!strcmp(c->nodes[i]->name, name))
			return c->nodes[i];
	return NULL;
}

static bool bound_to(const sched_pod_t *p, const sched_node_t *n)
{
	return p->pod.spec.node_name && !strcmp(p->pod.spec.node_name, n->name);
}

static void add_pod(sched_cluster_t *c, sched_pod_t *p)
{
	c->pods = grow(c->pods, &c->podcap, c->npods, sizeof(*c->pods));
	c->pods[c->npods++] = p;
}

static void free_pod(sched_pod_t *p)
{
	api_pod_free(&p->pod);
	free(p->pinned);
	free(p);
}

/* ---- persistence ------------------------------------------------------- */

int sched_cluster_save_pod(sched_cluster_t *c, sched_pod_t *p)
{
	json_t *j;
	char *text;
	int rc;

	p->pod.resource_version = ++c->resource_version;
	j = api_pod_to_json(&p->pod);
	text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!text)
		abort();
	sched_store_pod_t sp = {
	    .namespace_ = p->pod.namespace_,
	    .name = p->pod.name,
	    .uid = p->pod.uid,
	    .generation = p->pod.generation,
	    .pinned = p->pinned,
	    .json = text,
	};
	rc = c->store->ops->pod_put(c->store, &sp);
	free(text);
	return rc;
}

static int save_node(sched_cluster_t *c, sched_node_t *n)
{
	json_t *j = sched_node_to_stored(n);
	char *text = json_dumps(j, JSON_COMPACT);
	int rc;

	json_decref(j);
	if (!text)
		abort();
	sched_store_node_t sn = {
	    .name = n->name, .pod_cidr = n->pod_cidr, .cidr_index = n->cidr_index, .json = text};
	rc = c->store->ops->node_put(c->store, &sn);
	free(text);
	return rc;
}

/* Removes p from memory and the store, and frees it. */
static void remove_pod(sched_cluster_t *c, sched_pod_t *p)
{
	int rc = c->store->ops->pod_delete(c->store, p->pod.namespace_, p->pod.name);

	if (rc < 0 && rc != -ENOENT)
		sched_error("pod %s/%s: could not delete it from the store", p->pod.namespace_,
			    p->pod.name);
	for (size_t i = 0; i < c->npods; i++) {
		if (c->pods[i] == p) {
			memmove(&c->pods[i], &c->pods[i + 1],
				(c->npods - i - 1) * sizeof(*c->pods));
			c->npods--;
			break;
		}
	}
	sched_info("pod %s/%s deleted", p->pod.namespace_, p->pod.name);
	free_pod(p);
}

static int load_pod(const sched_store_pod_t *sp, void *arg)
{
	sched_cluster_t *c = arg;
	api_error_t err;
	sched_pod_t *p = calloc(1, sizeof(*p));

	if (!p)
		abort();
	if (api_pod_from_text(sp->json, strlen(sp->json), API_DECODE_STORED, &p->pod, &err) < 0) {
		sched_error("store: pod %s/%s does not decode, skipping it: %s", sp->namespace_,
			    sp->name, err.msg);
		free(p);
		return 0;
	}
	p->pod.generation = sp->generation;
	p->pinned = sched_strdup(sp->pinned);
	if (p->pod.resource_version > c->resource_version)
		c->resource_version = p->pod.resource_version;
	add_pod(c, p);
	return 0;
}

static int load_node(const sched_store_node_t *sn, void *arg)
{
	sched_cluster_t *c = arg;
	sched_node_t *n = sched_node_from_stored(sn->name, sn->json);

	if (!n) {
		sched_error("store: node %s does not decode, skipping it", sn->name);
		return 0;
	}
	n->pod_cidr = sched_strdup(sn->pod_cidr);
	n->cidr_index = sn->cidr_index;
	sched_node_set_ready(n, SCHED_READY_UNKNOWN, "NodeStatusUnknown",
			     "schedd restarted; waiting for the node to reconnect");
	n->last_seen_mono = n->not_ready_since_mono = sched_mono_ms();
	c->nodes = grow(c->nodes, &c->nodecap, c->nnodes, sizeof(*c->nodes));
	c->nodes[c->nnodes++] = n;
	return 0;
}

int sched_cluster_init(sched_cluster_t *c, const sched_config_t *cfg, struct sched_store *store,
		       char *err, size_t errlen)
{
	int rc;

	memset(c, 0, sizeof(*c));
	c->cfg = cfg;
	c->store = store;
	rc = store->ops->node_list(store, load_node, c);
	if (rc == 0)
		rc = store->ops->pod_list(store, load_pod, c);
	if (rc < 0) {
		snprintf(err, errlen, "cannot load the state from the store: %s", strerror(-rc));
		return rc;
	}
	return 0;
}

void sched_cluster_free(sched_cluster_t *c)
{
	for (size_t i = 0; i < c->npods; i++)
		free_pod(c->pods[i]);
	for (size_t i = 0; i < c->nnodes; i++)
		sched_node_free(c->nodes[i]);
	free(c->pods);
	free(c->nodes);
	memset(c, 0, sizeof(*c));
}

/* ---- sending to nodes -------------------------------------------------- */

static void send_run(sched_node_t *n, sched_pod_t *p)
{
	Nodelet__V1__Envelope env = NODELET__V1__ENVELOPE__INIT;
	Nodelet__V1__RunPod run = NODELET__V1__RUN_POD__INIT;
	json_t *j;
	char *text;

	if (!n->session)
		return;
	j = api_pod_to_json(&p->pod);
	text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!text)
		abort();
	run.uid = p->pod.uid;
	run.generation = p->pod.generation;
	run.pod_json = text;
	env.msg_case = NODELET__V1__ENVELOPE__MSG_RUN_POD;
	env.run_pod = &run;
	sched_session_send(n->session, &env);
	free(text);
}

static void send_stop(sched_node_t *n, const char *uid, int64_t generation, uint32_t grace,
		      const char *reason)
{
	Nodelet__V1__Envelope env = NODELET__V1__ENVELOPE__INIT;
	Nodelet__V1__StopPod stop = NODELET__V1__STOP_POD__INIT;

	if (!n->session)
		return;
	stop.uid = (char *)uid;
	stop.generation = generation;
	stop.grace_seconds = grace;
	stop.reason = (char *)reason;
	env.msg_case = NODELET__V1__ENVELOPE__MSG_STOP_POD;
	env.stop_pod = &stop;
	sched_session_send(n->session, &env);
	sched_info("node %s: stop pod %s generation %lld (%s)", n->name, uid, (long long)generation,
		   reason);
}

static uint32_t grace_of(const sched_pod_t *p)
{
	int64_t g = p->pod.spec.termination_grace_period_seconds;
	return g < 0 ? 0 : g > 86400 ? 86400 : (uint32_t)g;
}

/* ---- pods -------------------------------------------------------------- */

static void new_uid(char *buf, size_t len)
{
	uint8_t b[16];

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		abort();
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
	snprintf(buf, len, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
		 b[13], b[14], b[15]);
}

/* Replaces the status with a fresh Pending one. */
static void reset_status(sched_pod_t *p, const char *reason, const char *msg)
{
	api_pod_status_t *st = &p->pod.status;

	for (size_t i = 0; i < st->ncontainer_statuses; i++)
		api_container_status_free(&st->container_statuses[i]);
	free(st->container_statuses);
	free(st->phase);
	free(st->reason);
	free(st->message);
	free(st->pod_ip);
	free(st->host_ip);
	memset(st, 0, sizeof(*st));
	st->phase = sched_strdup("Pending");
	st->reason = sched_strdup(reason);
	st->message = sched_strdup(msg);
}

sched_pod_t *sched_cluster_create_pod(sched_cluster_t *c, api_pod_t *pod)
{
	sched_pod_t *p = calloc(1, sizeof(*p));
	char uid[40];

	if (!p)
		abort();
	p->pod = *pod;
	memset(pod, 0, sizeof(*pod));
	new_uid(uid, sizeof(uid));
	set_str(&p->pod.uid, uid);
	p->pod.creation_timestamp = sched_now_ms();
	p->pod.deletion_timestamp = 0;
	p->pod.generation = 0;
	/* A user-given nodeName pins the pod; it is bound through the scheduler
	 * like any other, restricted to that node. */
	p->pinned = p->pod.spec.node_name;
	p->pod.spec.node_name = NULL;
	reset_status(p, NULL, NULL);
	if (sched_cluster_save_pod(c, p) < 0) {
		free_pod(p);
		return NULL;
	}
	add_pod(c, p);
	sched_info("pod %s/%s created (uid %s)", p->pod.namespace_, p->pod.name, p->pod.uid);
	sched_cluster_schedule(c);
	return p;
}

json_t *sched_cluster_delete_pod(sched_cluster_t *c, sched_pod_t *p)
{
	sched_node_t *n;
	json_t *j;

	if (!p->pod.deletion_timestamp)
		p->pod.deletion_timestamp = sched_now_ms();
	j = api_pod_to_json(&p->pod);
	n = p->pod.spec.node_name ? sched_cluster_find_node(c, p->pod.spec.node_name) : NULL;
	if (!n || n->ready != SCHED_READY_TRUE || !n->session) {
		if (n && n->session)
			send_stop(n, p->pod.uid, p->pod.generation, grace_of(p), "pod deleted");
		remove_pod(c, p);
		sched_cluster_schedule(c);
		return j;
	}
	send_stop(n, p->pod.uid, p->pod.generation, grace_of(p), "pod deleted");
	sched_cluster_save_pod(c, p);
	sched_info("pod %s/%s deleting: waiting for %s to stop it", p->pod.namespace_, p->pod.name,
		   n->name);
	return j;
}

/* Clears the binding of p (its node was lost): generation+1, Pending. */
static void unbind(sched_cluster_t *c, sched_pod_t *p, const sched_node_t *n)
{
	char msg[256];

	snprintf(msg, sizeof(msg), "node %s lost; re-placing", n->name);
	free(p->pod.spec.node_name);
	p->pod.spec.node_name = NULL;
	p->pod.generation++;
	reset_status(p, "NodeLost", msg);
	sched_cluster_save_pod(c, p);
	sched_warn("pod %s/%s unbound from %s: node lost", p->pod.namespace_, p->pod.name, n->name);
}

static void bind(sched_cluster_t *c, sched_pod_t *p, sched_node_t *n)
{
	free(p->pod.spec.node_name);
	p->pod.spec.node_name = sched_strdup(n->name);
	p->pod.generation++;
	reset_status(p, NULL, NULL);
	if (sched_cluster_save_pod(c, p) < 0)
		sched_error("pod %s/%s: binding to %s not stored", p->pod.namespace_, p->pod.name,
			    n->name);
	sched_info("pod %s/%s bound to %s", p->pod.namespace_, p->pod.name, n->name);
	send_run(n, p);
}

/* ---- scheduling -------------------------------------------------------- */

static void fill_candidate(sched_cluster_t *c, sched_node_t *n, sched_candidate_t *cd)
{
	memset(cd, 0, sizeof(*cd));
	cd->name = n->name;
	cd->ready = n->ready == SCHED_READY_TRUE && n->session;
	cd->unschedulable = n->unschedulable;
	cd->labels = &n->labels;
	cd->alloc_cpu_millis = n->alloc_cpu_millis;
	cd->alloc_memory_bytes = n->alloc_memory_bytes;
	cd->alloc_pods = n->alloc_pods;
	for (size_t i = 0; i < c->npods; i++) {
		api_resource_list_t r;

		if (!bound_to(c->pods[i], n))
			continue;
		r = api_pod_requests(&c->pods[i]->pod);
		cd->req_cpu_millis += r.cpu_millis > 0 ? r.cpu_millis : 0;
		cd->req_memory_bytes += r.memory_bytes > 0 ? r.memory_bytes : 0;
		cd->npods++;
	}
}

static void set_unschedulable(sched_cluster_t *c, sched_pod_t *p, const char *msg)
{
	api_pod_status_t *st = &p->pod.status;

	if (st->reason && !strcmp(st->reason, "Unschedulable") && st->message &&
	    !strcmp(st->message, msg))
		return;
	reset_status(p, "Unschedulable", msg);
	sched_cluster_save_pod(c, p);
	sched_info("pod %s/%s unschedulable: %s", p->pod.namespace_, p->pod.name, msg);
}

void sched_cluster_schedule(sched_cluster_t *c)
{
	sched_candidate_t *cands = NULL;
	char msg[512];

	for (size_t i = 0; i < c->npods; i++) {
		sched_pod_t *p = c->pods[i];
		size_t ncand = 0;
		int pick;

		if (p->pod.spec.node_name || p->pod.deletion_timestamp)
			continue;
		/* Candidates are rebuilt per pod: each bind changes what is requested. */
		free(cands);
		cands = calloc(c->nnodes + 1, sizeof(*cands));
		if (!cands)
			abort();
		for (size_t k = 0; k < c->nnodes; k++) {
			if (p->pinned && strcmp(p->pinned, c->nodes[k]->name))
				continue;
			fill_candidate(c, c->nodes[k], &cands[ncand++]);
		}
		if (p->pinned && !ncand) {
			snprintf(
			    msg, sizeof(msg),
			    "0/0 nodes available: node \"%s\" (spec.nodeName) is not registered",
			    p->pinned);
			set_unschedulable(c, p, msg);
			continue;
		}
		pick = sched_pick(cands, ncand, &p->pod, msg, sizeof(msg));
		if (pick < 0) {
			set_unschedulable(c, p, msg);
			continue;
		}
		bind(c, p, sched_cluster_find_node(c, cands[pick].name));
	}
	free(cands);
}

/* ---- node lifecycle ---------------------------------------------------- */

static void pods_not_ready(sched_cluster_t *c, sched_node_t *n)
{
	for (size_t i = 0; i < c->npods; i++) {
		sched_pod_t *p = c->pods[i];
		bool changed = false;

		if (!bound_to(p, n))
			continue;
		for (size_t k = 0; k < p->pod.status.ncontainer_statuses; k++) {
			if (p->pod.status.container_statuses[k].ready) {
				p->pod.status.container_statuses[k].ready = false;
				changed = true;
			}
		}
		if (changed)
			sched_cluster_save_pod(c, p);
	}
}

static void evict(sched_cluster_t *c, sched_node_t *n)
{
	size_t i = 0;
	int moved = 0;

	n->evicted = true;
	while (i < c->npods) {
		sched_pod_t *p = c->pods[i];

		if (!bound_to(p, n)) {
			i++;
			continue;
		}
		if (p->pod.deletion_timestamp) {
			remove_pod(c, p); /* shifts the array: i stays */
			continue;
		}
		unbind(c, p, n);
		moved++;
		i++;
	}
	if (moved)
		sched_warn("node %s NotReady past the eviction timeout: re-placing %d pod(s)",
			   n->name, moved);
}

void sched_cluster_tick(sched_cluster_t *c)
{
	int64_t now = sched_mono_ms();
	bool changed = false;
	char dur[32];

	for (size_t i = 0; i < c->nnodes; i++) {
		sched_node_t *n = c->nodes[i];

		if (n->ready == SCHED_READY_TRUE &&
		    now - n->last_seen_mono > c->cfg->node_grace_ms) {
			fmt_duration(c->cfg->node_grace_ms, dur, sizeof(dur));
			sched_node_set_ready(n, SCHED_READY_UNKNOWN, "NodeStatusUnknown",
					     "Nodelet stopped posting node status.");
			n->not_ready_since_mono = now;
			sched_warn("node %s NotReady: no heartbeat for %s", n->name, dur);
			pods_not_ready(c, n);
			changed = true;
		}
		if (n->ready != SCHED_READY_TRUE && !n->evicted &&
		    now - n->not_ready_since_mono >= c->cfg->eviction_timeout_ms) {
			evict(c, n);
			changed = true;
		}
	}
	if (changed || ++c->ticks % RETRY_TICKS == 0)
		sched_cluster_schedule(c);
}

/* ---- node sessions ----------------------------------------------------- */

static int next_cidr_index(sched_cluster_t *c)
{
	int max = 0;

	for (size_t i = 0; i < c->nnodes; i++)
		if (c->nodes[i]->cidr_index > max)
			max = c->nodes[i]->cidr_index;
	return max + 1;
}

static void send_reply(struct sched_session *s, bool ok, const char *msg, const char *cidr,
		       uint32_t hb_ms)
{
	Nodelet__V1__Envelope env = NODELET__V1__ENVELOPE__INIT;
	Nodelet__V1__RegisterReply rr = NODELET__V1__REGISTER_REPLY__INIT;

	rr.accepted = ok;
	rr.message = (char *)(msg ? msg : "");
	rr.pod_cidr = (char *)(cidr ? cidr : "");
	rr.heartbeat_interval_ms = hb_ms;
	env.msg_case = NODELET__V1__ENVELOPE__MSG_REGISTER_REPLY;
	env.register_reply = &rr;
	sched_session_send(s, &env);
}

/* Tells the node what to stop and what to (re)start, from what it reports. */
static void reconcile(sched_cluster_t *c, sched_node_t *n, const Nodelet__V1__Register *r)
{
	for (size_t i = 0; i < r->n_pods; i++) {
		const Nodelet__V1__PodRef *ref = r->pods[i];
		sched_pod_t *p = sched_cluster_find_uid(c, ref->uid);

		if (p && bound_to(p, n) && p->pod.generation == ref->generation &&
		    !p->pod.deletion_timestamp)
			continue;
		send_stop(n, ref->uid, ref->generation, p ? grace_of(p) : 30,
			  !p || p->pod.deletion_timestamp ? "pod deleted" : "pod re-placed");
	}
	for (size_t i = 0; i < c->npods;) {
		sched_pod_t *p = c->pods[i];
		bool reported = false;

		if (!bound_to(p, n)) {
			i++;
			continue;
		}
		for (size_t k = 0; k < r->n_pods; k++)
			if (!strcmp(r->pods[k]->uid, p->pod.uid) &&
			    r->pods[k]->generation == p->pod.generation)
				reported = true;
		if (p->pod.deletion_timestamp && !reported) {
			remove_pod(c, p); /* the node no longer has it */
			continue;
		}
		if (!reported && !p->pod.deletion_timestamp)
			send_run(n, p);
		i++;
	}
}

sched_node_t *sched_cluster_register(sched_cluster_t *c, struct sched_session *s,
				     const Nodelet__V1__Register *r, char *msg, size_t len)
{
	sched_node_t *n = sched_cluster_find_node(c, r->name);
	char cidr[32];
	bool is_new = !n;

	if (!n) {
		int idx = next_cidr_index(c);

		if (sched_pod_cidr(c->cfg->cidr_base, c->cfg->cidr_prefix, idx, cidr,
				   sizeof(cidr)) < 0) {
			snprintf(msg, len, "no pod CIDR left in the cluster CIDR for node %s",
				 r->name);
			return NULL;
		}
		n = sched_node_new(r->name);
		n->cidr_index = idx;
		n->pod_cidr = sched_strdup(cidr);
		n->created_ms = sched_now_ms();
		c->nodes = grow(c->nodes, &c->nodecap, c->nnodes, sizeof(*c->nodes));
		c->nodes[c->nnodes++] = n;
	}
	if (n->session && n->session != s) {
		sched_warn("node %s registered again: closing its previous session", n->name);
		sched_session_close(n->session, "replaced by a new session of the same node");
	}
	n->session = s;
	api_kvlist_free(&n->labels);
	for (size_t i = 0; i < r->n_labels; i++)
		api_kv_set(&n->labels, r->labels[i]->key, r->labels[i]->value);
	if (r->capacity) {
		n->cap_cpu_millis = n->alloc_cpu_millis = r->capacity->cpu_millis;
		n->cap_memory_bytes = n->alloc_memory_bytes = r->capacity->memory_bytes;
		n->cap_pods = n->alloc_pods = r->capacity->pods;
	}
	if (n->addresses)
		for (char **a = n->addresses; *a; a++)
			free(*a);
	free(n->addresses);
	n->addresses = calloc(r->n_addresses + 1, sizeof(char *));
	if (!n->addresses)
		abort();
	for (size_t i = 0; i < r->n_addresses; i++)
		n->addresses[i] = sched_strdup(r->addresses[i]);
	set_str(&n->version, r->version);
	n->last_seen_mono = sched_mono_ms();
	n->last_heartbeat_ms = sched_now_ms();
	n->evicted = false;
	sched_node_set_ready(n, SCHED_READY_TRUE, "NodeletReady",
			     "nodelet is posting ready status");
	if (save_node(c, n) < 0)
		sched_error("node %s: registration not stored", n->name);
	send_reply(s, true, "", n->pod_cidr, (uint32_t)c->cfg->heartbeat_interval_ms);
	sched_info("node %s %s (pod CIDR %s)", n->name, is_new ? "registered" : "re-registered",
		   n->pod_cidr);
	reconcile(c, n, r);
	sched_cluster_schedule(c);
	return n;
}

void sched_cluster_heartbeat(sched_cluster_t *c, struct sched_session *s, sched_node_t *n,
			     const Nodelet__V1__Heartbeat *hb)
{
	if (n->session != s)
		return;
	n->last_seen_mono = sched_mono_ms();
	n->last_heartbeat_ms = sched_now_ms();
	if (hb->usage) {
		n->use_cpu_millis = hb->usage->cpu_millis;
		n->use_memory_bytes = hb->usage->memory_bytes;
		n->use_pods = hb->usage->pods;
	}
	if (hb->allocatable) {
		if (hb->allocatable->cpu_millis > 0)
			n->alloc_cpu_millis = hb->allocatable->cpu_millis;
		if (hb->allocatable->memory_bytes > 0)
			n->alloc_memory_bytes = hb->allocatable->memory_bytes;
		if (hb->allocatable->pods > 0)
			n->alloc_pods = hb->allocatable->pods;
	}
	if (n->ready == SCHED_READY_TRUE)
		return;
	if (n->evicted) {
		/* Its pods were re-placed while it was away: make it register again so
		 * the reconcile tells it which copies to stop. */
		sched_session_close(s, "node was evicted while unreachable; register again");
		return;
	}
	sched_node_set_ready(n, SCHED_READY_TRUE, "NodeletReady",
			     "nodelet is posting ready status");
	sched_info("node %s Ready again", n->name);
	sched_cluster_schedule(c);
}

void sched_cluster_pod_status(sched_cluster_t *c, struct sched_session *s, sched_node_t *n,
			      const Nodelet__V1__PodStatus *ps)
{
	sched_pod_t *p = sched_cluster_find_uid(c, ps->uid);
	const char *old_phase;
	bool phase_changed;

	if (n->session != s || !p || !bound_to(p, n) || ps->generation != p->pod.generation)
		return; /* stale: a copy schedd has told the node to stop */
	if (ps->removed) {
		if (p->pod.deletion_timestamp) {
			remove_pod(c, p);
			sched_cluster_schedule(c);
		}
		return;
	}
	old_phase = p->pod.status.phase;
	phase_changed = !old_phase || !ps->phase || strcmp(old_phase, ps->phase);
	if (phase_changed)
		sched_info("pod %s/%s on %s: %s", p->pod.namespace_, p->pod.name, n->name,
			   ps->phase && *ps->phase ? ps->phase : "(no phase)");
	api_pod_status_from_wire(&p->pod.status, ps);
	sched_cluster_save_pod(c, p);
}

void sched_cluster_disconnected(sched_cluster_t *c, struct sched_session *s, sched_node_t *n)
{
	(void)c;
	if (n->session != s)
		return;
	n->session = NULL;
	sched_info("node %s disconnected", n->name);
}
