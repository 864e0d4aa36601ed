/* Reporting a pod to schedd: its phase from its containers' states, and the
 * PodStatus frame with each container's state, last state and usage. */
#include "node/nodelet-internal.h"

static void wire_state(Nodelet__V1__ContainerState *w, const node_cstate_t *s)
{
	nodelet__v1__container_state__init(w);
	w->kind = (Nodelet__V1__ContainerState__Kind)s->kind;
	w->reason = (char *)s->reason;
	w->message = (char *)s->message;
	w->exit_code = s->exit_code;
	w->signal = s->signal;
	w->started_at_ms = s->started_at;
	w->finished_at_ms = s->finished_at;
}

static const char *pod_phase(const node_pod_t *p)
{
	/* Being stopped: containers killed on purpose do not make it Failed. */
	if (p->stopping && p->last_phase)
		return p->last_phase;
	node_phase_input_t in[p->nctrs ? p->nctrs : 1];
	for (size_t i = 0; i < p->nctrs; i++) {
		const node_ctr_t *c = &p->ctrs[i];
		in[i].started_once = c->started_once;
		in[i].running = c->state.kind == API_CSTATE_RUNNING;
		in[i].terminated = c->done;
		in[i].will_restart = !c->done && !in[i].running && c->started_once;
		in[i].exit_code =
		    c->state.kind == API_CSTATE_TERMINATED ? c->state.exit_code : c->last.exit_code;
	}
	return node_pod_phase(in, p->nctrs);
}

void node__pod_send_status(node_pod_t *p, bool removed)
{
	node_t *n = p->n;
	Nodelet__V1__PodStatus ps = NODELET__V1__POD_STATUS__INIT;
	ps.uid = p->uid;
	ps.generation = p->generation;
	ps.phase = (char *)(removed ? "Succeeded" : pod_phase(p));
	ps.reason = p->reason;
	ps.message = p->message;
	ps.pod_ip = p->pod_ip;
	ps.host_ip = n->address;
	ps.start_time_ms = p->start_time;
	ps.removed = removed;
	size_t k = p->nctrs;
	Nodelet__V1__ContainerStatus cs[k ? k : 1], *csp[k ? k : 1];
	Nodelet__V1__ContainerState st[k ? k : 1], last[k ? k : 1];
	for (size_t i = 0; i < k && !removed; i++) {
		const node_ctr_t *c = &p->ctrs[i];
		nodelet__v1__container_status__init(&cs[i]);
		cs[i].name = c->spec->name;
		cs[i].image = c->spec->image;
		wire_state(&st[i], &c->state);
		wire_state(&last[i], &c->last);
		cs[i].state = &st[i];
		cs[i].last_state = &last[i];
		cs[i].restart_count = c->restart_count;
		cs[i].ready = c->state.kind == API_CSTATE_RUNNING;
		bool running = c->state.kind == API_CSTATE_RUNNING;
		cs[i].cpu_millis = running ? c->cpu_millis : -1;
		cs[i].memory_bytes = running ? c->memory_bytes : -1;
		csp[i] = &cs[i];
	}
	if (!removed) {
		ps.n_containers = k;
		ps.containers = csp;
	}
	Nodelet__V1__Envelope env = NODELET__V1__ENVELOPE__INIT;
	env.msg_case = NODELET__V1__ENVELOPE__MSG_POD_STATUS;
	env.pod_status = &ps;
	node_session_send(n, &env, false);
}

void node__pod_report(node_pod_t *p)
{
	const char *phase = pod_phase(p);
	if (phase != p->last_phase)
		node_log('I', "pod %s: phase %s", p->desc, phase);
	p->last_phase = phase;
	p->dirty = false;
	node__pod_send_status(p, false);
}
