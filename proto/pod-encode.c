/* Pod encoding: api_pod_t -> the Kubernetes v1 Pod JSON shape.
 * Empty and unknown values are omitted, as the Kubernetes API omits them. */
#include <inttypes.h>
#include <stdio.h>

#include "proto/api-internal.h"

static void set_str(json_t *o, const char *key, const char *s)
{
	if (s && *s)
		json_object_set_new(o, key, json_string(s));
}

static void set_time(json_t *o, const char *key, int64_t ms)
{
	char buf[40];
	if (ms == 0)
		return;
	api_format_time(ms, buf, sizeof(buf));
	json_object_set_new(o, key, json_string(buf));
}

static void set_map(json_t *o, const char *key, const api_kvlist_t *l)
{
	if (l->n == 0)
		return;
	json_t *m = json_object();
	for (size_t i = 0; i < l->n; i++)
		json_object_set_new(m, l->items[i].key, json_string(l->items[i].value));
	json_object_set_new(o, key, m);
}

static void set_strv(json_t *o, const char *key, char *const *v)
{
	if (!v)
		return;
	json_t *a = json_array();
	for (size_t i = 0; v[i]; i++)
		json_array_append_new(a, json_string(v[i]));
	json_object_set_new(o, key, a);
}

static json_t *resource_list(const api_resource_list_t *rl)
{
	char buf[48];
	json_t *o = json_object();
	if (rl->cpu_millis >= 0) {
		api_quantity_format_cpu(rl->cpu_millis, buf, sizeof(buf));
		json_object_set_new(o, "cpu", json_string(buf));
	}
	if (rl->memory_bytes >= 0) {
		api_quantity_format_memory(rl->memory_bytes, buf, sizeof(buf));
		json_object_set_new(o, "memory", json_string(buf));
	}
	if (json_object_size(o) == 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *container_json(const api_container_t *c)
{
	json_t *o = json_object();
	set_str(o, "name", c->name);
	set_str(o, "image", c->image);
	set_strv(o, "command", c->command);
	set_strv(o, "args", c->args);
	set_str(o, "workingDir", c->working_dir);
	if (c->nports) {
		json_t *a = json_array();
		for (size_t i = 0; i < c->nports; i++) {
			json_t *p = json_object();
			set_str(p, "name", c->ports[i].name);
			json_object_set_new(p, "containerPort",
					    json_integer(c->ports[i].container_port));
			set_str(p, "protocol", c->ports[i].protocol ? c->ports[i].protocol : "TCP");
			json_array_append_new(a, p);
		}
		json_object_set_new(o, "ports", a);
	}
	if (c->env.n) {
		json_t *a = json_array();
		for (size_t i = 0; i < c->env.n; i++) {
			json_t *e = json_object();
			json_object_set_new(e, "name", json_string(c->env.items[i].key));
			if (c->env.items[i].value && *c->env.items[i].value)
				json_object_set_new(e, "value", json_string(c->env.items[i].value));
			json_array_append_new(a, e);
		}
		json_object_set_new(o, "env", a);
	}
	json_t *res = json_object(), *rl;
	if ((rl = resource_list(&c->resources.limits)))
		json_object_set_new(res, "limits", rl);
	if ((rl = resource_list(&c->resources.requests)))
		json_object_set_new(res, "requests", rl);
	json_object_set_new(o, "resources", res); /* Kubernetes writes {} too */
	set_str(o, "imagePullPolicy", c->image_pull_policy);
	return o;
}

static json_t *cstate_json(const api_container_state_t *s)
{
	json_t *o = json_object(), *w;
	switch (s->kind) {
	case API_CSTATE_WAITING:
		w = json_object();
		set_str(w, "reason", s->reason);
		set_str(w, "message", s->message);
		json_object_set_new(o, "waiting", w);
		break;
	case API_CSTATE_RUNNING:
		w = json_object();
		set_time(w, "startedAt", s->started_at);
		json_object_set_new(o, "running", w);
		break;
	case API_CSTATE_TERMINATED:
		w = json_object();
		json_object_set_new(w, "exitCode", json_integer(s->exit_code));
		if (s->signal)
			json_object_set_new(w, "signal", json_integer(s->signal));
		set_str(w, "reason", s->reason);
		set_str(w, "message", s->message);
		set_time(w, "startedAt", s->started_at);
		set_time(w, "finishedAt", s->finished_at);
		json_object_set_new(o, "terminated", w);
		break;
	case API_CSTATE_NONE:
		break;
	}
	return o;
}

static json_t *status_json(const api_pod_status_t *st)
{
	char buf[48];
	json_t *o = json_object();
	set_str(o, "phase", st->phase);
	set_str(o, "reason", st->reason);
	set_str(o, "message", st->message);
	set_str(o, "hostIP", st->host_ip);
	set_str(o, "podIP", st->pod_ip);
	if (st->pod_ip && *st->pod_ip) {
		json_t *ips = json_array(), *ip = json_object();
		json_object_set_new(ip, "ip", json_string(st->pod_ip));
		json_array_append_new(ips, ip);
		json_object_set_new(o, "podIPs", ips);
	}
	set_time(o, "startTime", st->start_time);
	if (st->ncontainer_statuses) {
		json_t *a = json_array();
		for (size_t i = 0; i < st->ncontainer_statuses; i++) {
			const api_container_status_t *cs = &st->container_statuses[i];
			json_t *c = json_object();
			set_str(c, "name", cs->name);
			json_object_set_new(c, "state", cstate_json(&cs->state));
			json_object_set_new(c, "lastState", cstate_json(&cs->last_state));
			json_object_set_new(c, "ready", json_boolean(cs->ready));
			json_object_set_new(c, "restartCount", json_integer(cs->restart_count));
			set_str(c, "image", cs->image);
			json_object_set_new(c, "started",
					    json_boolean(cs->state.kind == API_CSTATE_RUNNING));
			if (cs->usage_cpu_millis >= 0 || cs->usage_memory_bytes >= 0) {
				json_t *u = json_object();
				if (cs->usage_cpu_millis >= 0) {
					api_quantity_format_cpu(cs->usage_cpu_millis, buf,
								sizeof(buf));
					json_object_set_new(u, "cpu", json_string(buf));
				}
				if (cs->usage_memory_bytes >= 0) {
					api_quantity_format_memory(cs->usage_memory_bytes, buf,
								   sizeof(buf));
					json_object_set_new(u, "memory", json_string(buf));
				}
				json_object_set_new(c, "usage", u);
			}
			json_array_append_new(a, c);
		}
		json_object_set_new(o, "containerStatuses", a);
	}
	return o;
}

/* New reference; never NULL for a pod the decoder produced. */
json_t *api_pod_to_json(const api_pod_t *pod)
{
	json_t *o = json_object(), *m = json_object(), *s = json_object();
	char buf[32];

	json_object_set_new(o, "apiVersion", json_string("v1"));
	json_object_set_new(o, "kind", json_string("Pod"));

	set_str(m, "name", pod->name);
	set_str(m, "namespace", pod->namespace_ ? pod->namespace_ : "default");
	set_str(m, "uid", pod->uid);
	if (pod->resource_version) {
		snprintf(buf, sizeof(buf), "%" PRId64, pod->resource_version);
		json_object_set_new(m, "resourceVersion", json_string(buf));
	}
	if (pod->generation)
		json_object_set_new(m, "generation", json_integer(pod->generation));
	set_time(m, "creationTimestamp", pod->creation_timestamp);
	set_time(m, "deletionTimestamp", pod->deletion_timestamp);
	set_map(m, "labels", &pod->labels);
	set_map(m, "annotations", &pod->annotations);
	json_object_set_new(o, "metadata", m);

	json_t *cts = json_array();
	for (size_t i = 0; i < pod->spec.ncontainers; i++)
		json_array_append_new(cts, container_json(&pod->spec.containers[i]));
	json_object_set_new(s, "containers", cts);
	set_str(s, "restartPolicy", pod->spec.restart_policy ? pod->spec.restart_policy : "Always");
	json_object_set_new(s, "terminationGracePeriodSeconds",
			    json_integer(pod->spec.termination_grace_period_seconds));
	set_map(s, "nodeSelector", &pod->spec.node_selector);
	set_str(s, "nodeName", pod->spec.node_name);
	json_object_set_new(o, "spec", s);

	json_object_set_new(o, "status", status_json(&pod->status));
	return o;
}
