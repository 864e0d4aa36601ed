/* The Pod model: deep copy, free, summed requests. */
#include <stdlib.h>
#include <string.h>

#include "proto/api-internal.h"

static void cstate_free(api_container_state_t *s)
{
	free(s->reason);
	free(s->message);
	memset(s, 0, sizeof(*s));
}

static void cstate_copy(api_container_state_t *d, const api_container_state_t *s)
{
	*d = *s;
	d->reason = api__xstrdup(s->reason);
	d->message = api__xstrdup(s->message);
}

/* Frees what cs owns and zeroes it (cs itself is not freed). */
void api_container_status_free(api_container_status_t *cs)
{
	if (!cs)
		return;
	free(cs->name);
	free(cs->image);
	cstate_free(&cs->state);
	cstate_free(&cs->last_state);
	memset(cs, 0, sizeof(*cs));
}

static void container_free(api_container_t *c)
{
	free(c->name);
	free(c->image);
	free(c->image_pull_policy);
	api__strv_free(c->command);
	api__strv_free(c->args);
	free(c->working_dir);
	api_kvlist_free(&c->env);
	for (size_t i = 0; i < c->nports; i++) {
		free(c->ports[i].name);
		free(c->ports[i].protocol);
	}
	free(c->ports);
	memset(c, 0, sizeof(*c));
}

static void container_copy(api_container_t *d, const api_container_t *s)
{
	*d = *s;
	d->name = api__xstrdup(s->name);
	d->image = api__xstrdup(s->image);
	d->image_pull_policy = api__xstrdup(s->image_pull_policy);
	d->command = api__strv_copy(s->command);
	d->args = api__strv_copy(s->args);
	d->working_dir = api__xstrdup(s->working_dir);
	api__kvlist_copy(&d->env, &s->env);
	d->ports = NULL;
	if (s->nports) {
		d->ports = api__xcalloc(s->nports, sizeof(*d->ports));
		for (size_t i = 0; i < s->nports; i++) {
			d->ports[i] = s->ports[i];
			d->ports[i].name = api__xstrdup(s->ports[i].name);
			d->ports[i].protocol = api__xstrdup(s->ports[i].protocol);
		}
	}
}

static void status_free(api_pod_status_t *st)
{
	free(st->phase);
	free(st->reason);
	free(st->message);
	free(st->pod_ip);
	free(st->host_ip);
	for (size_t i = 0; i < st->ncontainer_statuses; i++)
		api_container_status_free(&st->container_statuses[i]);
	free(st->container_statuses);
	memset(st, 0, sizeof(*st));
}

/* Frees what pod owns and zeroes it (pod itself is not freed). */
void api_pod_free(api_pod_t *pod)
{
	if (!pod)
		return;
	free(pod->name);
	free(pod->namespace_);
	free(pod->uid);
	api_kvlist_free(&pod->labels);
	api_kvlist_free(&pod->annotations);
	for (size_t i = 0; i < pod->spec.ncontainers; i++)
		container_free(&pod->spec.containers[i]);
	free(pod->spec.containers);
	free(pod->spec.restart_policy);
	api_kvlist_free(&pod->spec.node_selector);
	free(pod->spec.node_name);
	status_free(&pod->status);
	memset(pod, 0, sizeof(*pod));
}

void api__pod_status_copy(api_pod_status_t *d, const api_pod_status_t *s)
{
	*d = *s;
	d->phase = api__xstrdup(s->phase);
	d->reason = api__xstrdup(s->reason);
	d->message = api__xstrdup(s->message);
	d->pod_ip = api__xstrdup(s->pod_ip);
	d->host_ip = api__xstrdup(s->host_ip);
	d->container_statuses = NULL;
	if (s->ncontainer_statuses) {
		d->container_statuses =
		    api__xcalloc(s->ncontainer_statuses, sizeof(*d->container_statuses));
		for (size_t i = 0; i < s->ncontainer_statuses; i++) {
			const api_container_status_t *a = &s->container_statuses[i];
			api_container_status_t *b = &d->container_statuses[i];
			*b = *a;
			b->name = api__xstrdup(a->name);
			b->image = api__xstrdup(a->image);
			cstate_copy(&b->state, &a->state);
			cstate_copy(&b->last_state, &a->last_state);
		}
	}
}

/* Deep copy: dst ends up owning its own copies of everything in src. */
void api_pod_copy(api_pod_t *dst, const api_pod_t *src)
{
	*dst = *src;
	dst->name = api__xstrdup(src->name);
	dst->namespace_ = api__xstrdup(src->namespace_);
	dst->uid = api__xstrdup(src->uid);
	api__kvlist_copy(&dst->labels, &src->labels);
	api__kvlist_copy(&dst->annotations, &src->annotations);
	dst->spec.containers = NULL;
	if (src->spec.ncontainers) {
		dst->spec.containers = api__xcalloc(src->spec.ncontainers, sizeof(api_container_t));
		for (size_t i = 0; i < src->spec.ncontainers; i++)
			container_copy(&dst->spec.containers[i], &src->spec.containers[i]);
	}
	dst->spec.restart_policy = api__xstrdup(src->spec.restart_policy);
	api__kvlist_copy(&dst->spec.node_selector, &src->spec.node_selector);
	dst->spec.node_name = api__xstrdup(src->spec.node_name);
	api__pod_status_copy(&dst->status, &src->status);
}

/* Per container: the request, else the limit (Kubernetes defaulting), else 0. */
api_resource_list_t api_pod_requests(const api_pod_t *pod)
{
	api_resource_list_t sum = {0, 0};
	for (size_t i = 0; i < pod->spec.ncontainers; i++) {
		const api_resources_t *r = &pod->spec.containers[i].resources;
		int64_t cpu =
		    r->requests.cpu_millis >= 0 ? r->requests.cpu_millis : r->limits.cpu_millis;
		int64_t mem = r->requests.memory_bytes >= 0 ? r->requests.memory_bytes
							    : r->limits.memory_bytes;
		if (cpu > 0)
			sum.cpu_millis += cpu;
		if (mem > 0)
			sum.memory_bytes += mem;
	}
	return sum;
}
