/* Wire framing: Envelope pack/unpack with validation, and the conversions
 * between the PodStatus wire message and the model. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proto/api-internal.h"

/* Packs into a new malloc'd buffer; 0, or -EINVAL for a NULL/NOT_SET env. */
int api_envelope_pack(const Nodelet__V1__Envelope *env, uint8_t **buf, size_t *len)
{
	*buf = NULL;
	*len = 0;
	if (!env || env->msg_case == NODELET__V1__ENVELOPE__MSG__NOT_SET)
		return -EINVAL;
	size_t n = nodelet__v1__envelope__get_packed_size(env);
	uint8_t *b = api__xmalloc(n);
	nodelet__v1__envelope__pack(env, b);
	*buf = b;
	*len = n;
	return 0;
}

/* Checks every string of msg (and of its sub-messages) for valid UTF-8.
 * Walks the descriptor, so fields added to nodelet.proto are covered. */
static int check_strings(const ProtobufCMessage *msg, api_error_t *err)
{
	const ProtobufCMessageDescriptor *d = msg->descriptor;
	/* protobuf-c keeps an unknown field numbered 0, which no peer may send
	 * and which it cannot unpack again once packed: refuse it here. */
	for (unsigned i = 0; i < msg->n_unknown_fields; i++)
		if (msg->unknown_fields[i].tag == 0)
			return api__errorf(err, "%s: field number 0 is invalid", d->short_name);
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const char *base = (const char *)msg;
		if (f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
			uint32_t which = *(const uint32_t *)(base + f->quantifier_offset);
			if (which != f->id)
				continue;
		}
		size_t count = 1;
		const void *const *items;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			count = *(const size_t *)(base + f->quantifier_offset);
			items = *(const void *const *const *)(base + f->offset);
		} else {
			items = (const void *const *)(base + f->offset);
		}
		for (size_t k = 0; k < count; k++) {
			const void *v = items[k];
			if (!v)
				continue;
			if (f->type == PROTOBUF_C_TYPE_STRING) {
				const char *s = v;
				if (!api__utf8_valid(s, strlen(s)))
					return api__errorf(err, "%s.%s: invalid UTF-8",
							   d->short_name, f->name);
			} else if (check_strings(v, err) < 0) {
				return -EINVAL;
			}
		}
	}
	return 0;
}

/* NULL + err on an undecodable frame, NOT_SET oneof, or invalid UTF-8. */
Nodelet__V1__Envelope *api_envelope_unpack(const uint8_t *buf, size_t len, api_error_t *err)
{
	Nodelet__V1__Envelope *env = nodelet__v1__envelope__unpack(NULL, len, buf);
	if (!env) {
		api__errorf(err, "undecodable frame (%zu bytes): not a nodelet.v1.Envelope", len);
		return NULL;
	}
	if (env->msg_case == NODELET__V1__ENVELOPE__MSG__NOT_SET) {
		api__errorf(err, "envelope carries no message (unknown or empty oneof, %zu bytes)",
			    len);
		nodelet__v1__envelope__free_unpacked(env, NULL);
		return NULL;
	}
	if (check_strings(&env->base, err) < 0) {
		nodelet__v1__envelope__free_unpacked(env, NULL);
		return NULL;
	}
	return env;
}

/* ---- PodStatus <-> model ----------------------------------------------- */

static char *dup_or_empty(const char *s)
{
	return api__xstrdup(s ? s : "");
}

static char *nonempty_dup(const char *s)
{
	return s && *s ? api__xstrdup(s) : NULL;
}

static Nodelet__V1__ContainerState *wire_cstate_new(const api_container_state_t *s)
{
	Nodelet__V1__ContainerState *w = api__xmalloc(sizeof(*w));
	nodelet__v1__container_state__init(w);
	w->kind = (Nodelet__V1__ContainerState__Kind)s->kind;
	w->reason = dup_or_empty(s->reason);
	w->message = dup_or_empty(s->message);
	w->exit_code = s->exit_code;
	w->signal = s->signal;
	w->started_at_ms = s->started_at;
	w->finished_at_ms = s->finished_at;
	return w;
}

static void wire_cstate_free(Nodelet__V1__ContainerState *w)
{
	if (!w)
		return;
	free(w->reason);
	free(w->message);
	free(w);
}

/* Every string and sub-message is malloc'd, so either api_wire_pod_status_free
 * or nodelet__v1__pod_status__free_unpacked(ws, NULL) releases it. */
Nodelet__V1__PodStatus *api_wire_pod_status_new(const char *uid, int64_t generation,
						const api_pod_status_t *st)
{
	Nodelet__V1__PodStatus *ws = api__xmalloc(sizeof(*ws));
	nodelet__v1__pod_status__init(ws);
	ws->uid = dup_or_empty(uid);
	ws->generation = generation;
	ws->phase = dup_or_empty(st->phase);
	ws->reason = dup_or_empty(st->reason);
	ws->message = dup_or_empty(st->message);
	ws->pod_ip = dup_or_empty(st->pod_ip);
	ws->host_ip = dup_or_empty(st->host_ip);
	ws->start_time_ms = st->start_time;
	ws->n_containers = st->ncontainer_statuses;
	if (st->ncontainer_statuses)
		ws->containers = api__xcalloc(st->ncontainer_statuses, sizeof(*ws->containers));
	for (size_t i = 0; i < st->ncontainer_statuses; i++) {
		const api_container_status_t *cs = &st->container_statuses[i];
		Nodelet__V1__ContainerStatus *wc = api__xmalloc(sizeof(*wc));
		nodelet__v1__container_status__init(wc);
		wc->name = dup_or_empty(cs->name);
		wc->image = dup_or_empty(cs->image);
		wc->state = wire_cstate_new(&cs->state);
		wc->last_state = wire_cstate_new(&cs->last_state);
		wc->restart_count = cs->restart_count;
		wc->ready = cs->ready;
		wc->cpu_millis = cs->usage_cpu_millis;
		wc->memory_bytes = cs->usage_memory_bytes;
		ws->containers[i] = wc;
	}
	return ws;
}

void api_wire_pod_status_free(Nodelet__V1__PodStatus *ws)
{
	if (!ws)
		return;
	free(ws->uid);
	free(ws->phase);
	free(ws->reason);
	free(ws->message);
	free(ws->pod_ip);
	free(ws->host_ip);
	for (size_t i = 0; i < ws->n_containers; i++) {
		Nodelet__V1__ContainerStatus *wc = ws->containers[i];
		free(wc->name);
		free(wc->image);
		wire_cstate_free(wc->state);
		wire_cstate_free(wc->last_state);
		free(wc);
	}
	free(ws->containers);
	free(ws);
}

static void cstate_from_wire(api_container_state_t *s, const Nodelet__V1__ContainerState *w)
{
	memset(s, 0, sizeof(*s));
	if (!w)
		return;
	s->kind = w->kind >= 0 && w->kind <= NODELET__V1__CONTAINER_STATE__KIND__TERMINATED
		      ? (api_cstate_kind_t)w->kind
		      : API_CSTATE_NONE;
	s->reason = nonempty_dup(w->reason);
	s->message = nonempty_dup(w->message);
	s->exit_code = w->exit_code;
	s->signal = w->signal;
	s->started_at = w->started_at_ms;
	s->finished_at = w->finished_at_ms;
}

/* Replaces *st (freeing what it held) with the wire status. Empty strings
 * become NULL. Container statuses are taken in the order the node sent. */
void api_pod_status_from_wire(api_pod_status_t *st, const Nodelet__V1__PodStatus *ws)
{
	api_pod_status_t n;
	memset(&n, 0, sizeof(n));
	n.phase = nonempty_dup(ws->phase);
	n.reason = nonempty_dup(ws->reason);
	n.message = nonempty_dup(ws->message);
	n.pod_ip = nonempty_dup(ws->pod_ip);
	n.host_ip = nonempty_dup(ws->host_ip);
	n.start_time = ws->start_time_ms;
	if (ws->n_containers)
		n.container_statuses =
		    api__xcalloc(ws->n_containers, sizeof(*n.container_statuses));
	for (size_t i = 0; i < ws->n_containers; i++) {
		const Nodelet__V1__ContainerStatus *wc = ws->containers[i];
		api_container_status_t *cs = &n.container_statuses[n.ncontainer_statuses];
		if (!wc)
			continue;
		cs->name = dup_or_empty(wc->name);
		cs->image = nonempty_dup(wc->image);
		cstate_from_wire(&cs->state, wc->state);
		cstate_from_wire(&cs->last_state, wc->last_state);
		cs->restart_count = wc->restart_count;
		cs->ready = wc->ready;
		cs->usage_cpu_millis = wc->cpu_millis;
		cs->usage_memory_bytes = wc->memory_bytes;
		n.ncontainer_statuses++;
	}
	/* Free the old status through a throwaway pod so ownership stays in pod.c. */
	api_pod_t tmp;
	memset(&tmp, 0, sizeof(tmp));
	tmp.status = *st;
	api_pod_free(&tmp);
	*st = n;
}
