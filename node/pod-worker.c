/* The pod worker: one state machine per pod on the nodelet's loop. It runs
 * one blocking job at a time on the thread pool (pod-jobs.c): the sandbox
 * first, then each container in spec order, restarts after CrashLoopBackOff,
 * and at the end the stop that removes everything. Containers are watched
 * through a pidfd of their shim (uv_poll) with a 1 s timer as a fallback. */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "node/ctr.h"
#include "node/nodelet-internal.h"

/* Copies src into dst (size bytes), truncating quietly. */
static void copy_str(char *dst, size_t size, const char *src)
{
	size_t n = src ? strnlen(src, size - 1) : 0;
	if (n)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

void node__cstate_set(node_cstate_t *s, api_cstate_kind_t kind, const char *reason,
		      const char *message)
{
	memset(s, 0, sizeof *s);
	s->kind = kind;
	copy_str(s->reason, sizeof s->reason, reason);
	copy_str(s->message, sizeof s->message, message);
}

static void pod_save_state(node_pod_t *p)
{
	/* A stop job is removing the pod's directory: do not bring it back. */
	if (p->stop_queued)
		return;
	node_podstate_t st;
	memset(&st, 0, sizeof st);
	snprintf(st.uid, sizeof st.uid, "%s", p->uid);
	st.generation = p->generation;
	snprintf(st.pod_ip, sizeof st.pod_ip, "%s", p->pod_ip);
	st.start_time = p->start_time;
	st.stopping = p->stopping;
	node_podstate_ctr_t ctrs[p->nctrs ? p->nctrs : 1];
	for (size_t i = 0; i < p->nctrs; i++) {
		snprintf(ctrs[i].name, sizeof ctrs[i].name, "%s", p->ctrs[i].spec->name);
		const node_ctr_t *c = &p->ctrs[i];
		ctrs[i].restart_count = c->restart_count;
		ctrs[i].backoff_count = c->backoff_count;
		ctrs[i].handled = c->handled;
		ctrs[i].done = c->done;
		ctrs[i].restart_at = c->due_mono >= 0 && !c->done
					 ? node_now_ms() + (c->due_mono - node_mono_ms())
					 : 0;
		ctrs[i].state = c->state;
		ctrs[i].last = c->last;
	}
	st.ctrs = ctrs;
	st.nctrs = p->nctrs;
	rt_error_t err = {0};
	if (node__mkdir_p(p->dir, 0700, &err) < 0 || node_podstate_save(p->dir, &st, &err) < 0)
		node_log('W', "pod %s: saving state: %s", p->desc, err.msg);
}

/* ---- handles and the pod's lifetime ------------------------------------ */

static void pod_free(node_pod_t *p)
{
	api_pod_free(&p->pod);
	free(p->ctrs);
	free(p->next_json);
	free(p);
}

/* Frees a closed pod once no handle and no job refers to it any more. */
static void pod_free_maybe(node_pod_t *p)
{
	if (p->closing && p->handles == 0 && !p->busy)
		pod_free(p);
}

static void handle_closed(uv_handle_t *h)
{
	node_pod_t *p = h->data;
	if (h->type == UV_POLL) {
		node_ctr_t *c = container_of((uv_poll_t *)h, node_ctr_t, poll);
		close(c->pidfd);
		c->pidfd = -1;
		c->poll_open = false;
	}
	p->handles--;
	pod_free_maybe(p);
}

static void ctr_unwatch(node_ctr_t *c)
{
	if (!c->poll_open || uv_is_closing((uv_handle_t *)&c->poll))
		return;
	uv_poll_stop(&c->poll);
	uv_close((uv_handle_t *)&c->poll, handle_closed);
}

/* Unlinks the pod and closes its handles; freed when the last one closed. */
static void pod_close(node_pod_t *p)
{
	node_t *n = p->n;
	for (node_pod_t **pp = &n->pods; *pp; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	}
	p->closing = true;
	for (size_t i = 0; i < p->nctrs; i++)
		ctr_unwatch(&p->ctrs[i]);
	uv_close((uv_handle_t *)&p->timer, handle_closed);
}

static node_pod_t *pod_find(node_t *n, const char *uid)
{
	for (node_pod_t *p = n->pods; p; p = p->next)
		if (strcmp(p->uid, uid) == 0)
			return p;
	return NULL;
}

/* ---- watching containers ----------------------------------------------- */

static void ctr_exited(node_ctr_t *c, const node_exit_status_t *st);

void node__ctr_check(node_ctr_t *c)
{
	if (c->state.kind != API_CSTATE_RUNNING)
		return;
	char dir[4400];
	node_status_dir(c, c->restart_count, dir, sizeof dir);
	node_exit_status_t st;
	memset(&st, 0, sizeof st);
	rt_error_t err = {0};
	if (node_shim_read_exit(dir, &st, &err) < 0)
		node_log('W', "pod %s: reading the exit of %s: %s", c->pod->desc, c->spec->name,
			 err.msg);
	if (st.exited) {
		ctr_exited(c, &st);
	} else if (!node_shim_alive(c->shim_pid)) {
		/* The shim may have written exit.json just before going. */
		if (node_shim_read_exit(dir, &st, &err) == 0 && st.exited) {
			ctr_exited(c, &st);
			return;
		}
		memset(&st, 0, sizeof st);
		st.exited = true;
		st.exit_code = 255;
		st.finished_at = node_now_ms();
		snprintf(st.reason, sizeof st.reason, "Error");
		ctr_exited(c, &st);
	}
}

static void on_pidfd(uv_poll_t *h, int status, int events)
{
	(void)status;
	(void)events;
	node_ctr_t *c = container_of(h, node_ctr_t, poll);
	ctr_unwatch(c);
	node__ctr_check(c);
	if (c->pod->dirty)
		node__pod_report(c->pod);
	node__pod_kick(c->pod);
}

void node__ctr_watch(node_ctr_t *c)
{
	if (c->poll_open)
		return;
	int fd = (int)syscall(SYS_pidfd_open, c->shim_pid, 0);
	if (fd < 0)
		return; /* the 1 s timer notices the exit */
	if (uv_poll_init(c->pod->n->loop, &c->poll, fd) < 0) {
		close(fd);
		return;
	}
	c->pidfd = fd;
	c->poll.data = c->pod;
	c->poll_open = true;
	c->pod->handles++;
	uv_poll_start(&c->poll, UV_READABLE, on_pidfd);
}

static void ctr_exited(node_ctr_t *c, const node_exit_status_t *st)
{
	node_pod_t *p = c->pod;
	node_t *n = p->n;
	ctr_unwatch(c);
	node_cstate_t term;
	const char *reason = st->reason[0]	  ? st->reason
			     : st->oom_killed	  ? "OOMKilled"
			     : st->exit_code == 0 ? "Completed"
						  : "Error";
	node__cstate_set(&term, API_CSTATE_TERMINATED, reason, NULL);
	term.exit_code = st->exit_code;
	term.signal = st->signal;
	term.started_at = st->started_at ? st->started_at : c->state.started_at;
	term.finished_at = st->finished_at ? st->finished_at : node_now_ms();
	node_log('I', "pod %s: container %s exited with code %d (%s)", p->desc, c->spec->name,
		 st->exit_code, reason);
	int64_t now = node_mono_ms();
	if (c->run_mono && now - c->run_mono >= NODE_BACKOFF_RESET_MS)
		c->backoff_count = 0;
	if (!p->stopping && node_should_restart(p->pod.spec.restart_policy, st->exit_code)) {
		int64_t delay = node_backoff_delay_ms(n->cfg->crash_backoff_ms, c->backoff_count);
		c->backoff_count++;
		c->last = term;
		c->due_mono = now + delay;
		if (delay > 0) {
			char msg[512];
			snprintf(msg, sizeof msg,
				 "back-off %llds restarting failed container=%s pod=%s",
				 (long long)(delay + 999) / 1000, c->spec->name, p->pod.name);
			node__cstate_set(&c->state, API_CSTATE_WAITING, "CrashLoopBackOff", msg);
			node_log('I', "pod %s: container %s restarts in %lld ms (CrashLoopBackOff)",
				 p->desc, c->spec->name, (long long)delay);
		} else {
			c->state = term;
		}
	} else {
		c->state = term;
		c->done = true;
		c->due_mono = -1;
	}
	c->handled = c->restart_count;
	p->dirty = true;
	pod_save_state(p);
}

/* ---- jobs -------------------------------------------------------------- */

static void job_done(uv_work_t *req, int status);

static void job_run(uv_work_t *req)
{
	node_job_t *j = container_of(req, node_job_t, req);
	switch (j->kind) {
	case NODE_JOB_SANDBOX:
		node_job_sandbox(j);
		break;
	case NODE_JOB_START:
		node_job_start(j);
		break;
	case NODE_JOB_STOP:
		node_job_stop(j);
		break;
	}
}

static void job_queue(node_pod_t *p, node_job_t *j)
{
	j->pod = p;
	p->busy = true;
	uv_queue_work(p->n->loop, &j->req, job_run, job_done);
}

static node_job_t *job_new(node_job_kind_t kind)
{
	node_job_t *j = calloc(1, sizeof *j);
	if (!j)
		abort();
	j->kind = kind;
	return j;
}

static void sandbox_done(node_pod_t *p, node_job_t *j)
{
	if (j->rc < 0) {
		p->sandbox_failures++;
		int64_t delay =
		    node_backoff_delay_ms(p->n->cfg->crash_backoff_ms, p->sandbox_failures);
		p->sandbox_due = node_mono_ms() + delay;
		node_log('E', "pod %s: creating the sandbox: %s (retry in %lld ms)", p->desc,
			 j->err.msg, (long long)delay);
		snprintf(p->reason, sizeof p->reason, "SandboxCreateError");
		copy_str(p->message, sizeof p->message, j->err.msg);
		p->dirty = true;
		return;
	}
	p->sandbox_ready = true;
	p->sandbox_failures = 0;
	p->reason[0] = p->message[0] = '\0';
	p->pause_shim = j->shim_pid;
	p->pause_pid = j->ctr_pid;
	snprintf(p->pod_ip, sizeof p->pod_ip, "%s", j->ip);
	if (!p->start_time)
		p->start_time = node_now_ms();
	/* Containers of a sandbox that died start again in the new one. */
	for (size_t i = 0; i < p->nctrs; i++) {
		node_ctr_t *c = &p->ctrs[i];
		if (c->state.kind == API_CSTATE_RUNNING) {
			ctr_unwatch(c);
			c->last = c->state;
			c->last.kind = API_CSTATE_TERMINATED;
			c->last.finished_at = node_now_ms();
			node__cstate_set(&c->state, API_CSTATE_WAITING, "ContainerCreating", NULL);
			c->due_mono = node_mono_ms();
		}
	}
	node_log('I', "pod %s: sandbox ready (ip %s, pause pid %d, veth %s)", p->desc, p->pod_ip,
		 (int)p->pause_pid, p->ifname);
	p->dirty = true;
	pod_save_state(p);
}

static void start_done(node_pod_t *p, node_job_t *j)
{
	node_ctr_t *c = &p->ctrs[j->ctr];
	int64_t now = node_mono_ms();
	if (j->rc < 0) {
		if (j->image_error) {
			c->image_failures++;
			c->due_mono = now + node_backoff_delay_ms(p->n->cfg->crash_backoff_ms,
								  c->image_failures);
			c->fail_mono = now;
			node__cstate_set(&c->state, API_CSTATE_WAITING,
					 j->image_reason[0] ? j->image_reason : "ErrImagePull",
					 j->err.msg);
		} else {
			c->backoff_count++;
			c->due_mono = now + node_backoff_delay_ms(p->n->cfg->crash_backoff_ms,
								  c->backoff_count);
			node__cstate_set(&c->state, API_CSTATE_WAITING, "RunContainerError",
					 j->err.msg);
		}
		node_log('W', "pod %s: container %s: %s", p->desc, c->spec->name, j->err.msg);
		p->dirty = true;
		return;
	}
	c->image_failures = 0;
	c->restart_count = j->restart;
	c->started_once = true;
	c->shim_pid = j->shim_pid;
	c->ctr_pid = j->ctr_pid;
	c->due_mono = -1;
	c->oom_acted = false;
	c->run_mono = now;
	c->cpu_millis = c->memory_bytes = -1;
	c->prev_sample_mono = 0;
	node__cstate_set(&c->state, API_CSTATE_RUNNING, NULL, NULL);
	c->state.started_at = node_now_ms();
	node__ctr_watch(c);
	node_log('I', "pod %s: container %s started (pid %d, restart %d)", p->desc, c->spec->name,
		 (int)c->ctr_pid, c->restart_count);
	p->dirty = true;
	pod_save_state(p);
}

static void pod_create(node_t *n, const char *uid, int64_t generation, const char *json);

static void stop_done(node_pod_t *p, node_job_t *j)
{
	node_t *n = p->n;
	if (j->rc < 0)
		node_log('E', "pod %s: removed, but not cleanly: %s", p->desc, j->err.msg);
	else
		node_log('I', "pod %s: stopped and removed", p->desc);
	char *next = p->next_json;
	p->next_json = NULL;
	if (!next)
		node__pod_send_status(p, true);
	char uid[128];
	snprintf(uid, sizeof uid, "%s", p->uid);
	int64_t gen = p->next_generation;
	pod_close(p);
	if (next) {
		pod_create(n, uid, gen, next);
		free(next);
	}
	node_image_gc_kick(n); /* its images may be unused now */
}

static void job_done(uv_work_t *req, int status)
{
	(void)status;
	node_job_t *j = container_of(req, node_job_t, req);
	node_pod_t *p = j->pod;
	p->busy = false;
	if (p->closing) {
		/* Shutting down: keep only what a restarted nodelet needs. */
		if (j->kind == NODE_JOB_START && j->rc == 0) {
			p->ctrs[j->ctr].restart_count = j->restart;
			p->ctrs[j->ctr].started_once = true;
			pod_save_state(p);
		}
		free(j->shims);
		free(j);
		pod_free_maybe(p);
		return;
	}
	switch (j->kind) {
	case NODE_JOB_SANDBOX:
		sandbox_done(p, j);
		break;
	case NODE_JOB_START:
		start_done(p, j);
		break;
	case NODE_JOB_STOP:
		stop_done(p, j);
		free(j->shims);
		free(j);
		return;
	}
	free(j);
	if (p->dirty)
		node__pod_report(p);
	node__pod_kick(p);
}

/* Starts the next blocking step the pod needs, if none runs. */
static void pod_next_step(node_pod_t *p)
{
	node_t *n = p->n;
	if (p->busy)
		return;
	if (p->stopping) {
		node_job_t *j = job_new(NODE_JOB_STOP);
		j->grace_seconds = p->grace_seconds;
		j->shims = calloc(p->nctrs + 1, sizeof *j->shims);
		if (!j->shims)
			abort();
		for (size_t i = 0; i < p->nctrs; i++)
			j->shims[i] = p->ctrs[i].shim_pid;
		node_log('I', "pod %s: stopping (grace %d s)", p->desc, p->grace_seconds);
		p->stop_queued = true;
		job_queue(p, j);
		return;
	}
	int64_t now = node_mono_ms();
	if (!p->sandbox_ready) {
		if (!n->ipam || now < p->sandbox_due)
			return;
		job_queue(p, job_new(NODE_JOB_SANDBOX));
		return;
	}
	for (size_t i = 0; i < p->nctrs; i++) {
		node_ctr_t *c = &p->ctrs[i];
		if (c->done || c->state.kind == API_CSTATE_RUNNING || c->due_mono < 0 ||
		    c->due_mono > now)
			continue;
		node_job_t *j = job_new(NODE_JOB_START);
		j->ctr = i;
		j->restart = c->started_once ? c->restart_count + 1 : c->restart_count;
		job_queue(p, j);
		return;
	}
}

static void pod_tick(uv_timer_t *t);

/* Runs the next step, and wakes the pod timer in time for the earliest
 * planned (re)start; the timer otherwise ticks every second. */
void node__pod_kick(node_pod_t *p)
{
	if (p->closing || p->n->shutting_down)
		return;
	pod_next_step(p);
	if (p->busy)
		return; /* the job's end kicks again */
	/* Only steps that can run count: a due one that could not start
	 * (no sandbox, not registered yet) waits for the next tick or kick,
	 * never a 0 ms timer that would spin the loop. */
	int64_t now = node_mono_ms(), wake = now + 1000;
	if (!p->sandbox_ready) {
		if (p->n->ipam && p->sandbox_due > now && p->sandbox_due < wake)
			wake = p->sandbox_due;
	} else {
		for (size_t i = 0; i < p->nctrs; i++) {
			const node_ctr_t *c = &p->ctrs[i];
			if (!c->done && c->state.kind != API_CSTATE_RUNNING && c->due_mono > now &&
			    c->due_mono < wake)
				wake = c->due_mono;
		}
	}
	if (uv_timer_get_due_in(&p->timer) > (uint64_t)(wake - now))
		uv_timer_start(&p->timer, pod_tick, (uint64_t)(wake - now), 1000);
}

/* cgroup v1 has no memory.oom.group: when the OOM killer took a process of a
 * container with a memory limit, the whole container goes, as Kubernetes
 * does on cgroup v2, so it ends OOMKilled instead of limping on. */
static void ctr_check_oom(node_ctr_t *c)
{
	if (c->state.kind != API_CSTATE_RUNNING || c->oom_acted ||
	    c->spec->resources.limits.memory_bytes <= 0)
		return;
	rt_cgroup_stats_t st;
	rt_error_t err = {0};
	if (rt_cgroup_stats(c->cgroup, &st, &err) < 0 || st.oom_kills == 0)
		return;
	c->oom_acted = true;
	node_log('I',
		 "pod %s: container %s hit its memory limit (OOM kill in its cgroup); "
		 "killing the container",
		 c->pod->desc, c->spec->name);
	if (rt_cgroup_kill(c->cgroup, SIGKILL, &err) < 0)
		node_log('W', "pod %s: killing container %s: %s", c->pod->desc, c->spec->name,
			 err.msg);
}

/* A container whose image is being pulled waits with reason Pulling and the
 * bytes so far (what kubelet reports as the Pulling event). */
static void ctr_show_pull(node_ctr_t *c)
{
	char msg[512];
	int64_t done = atomic_load(&c->pull_done), total = atomic_load(&c->pull_total);
	snprintf(msg, sizeof msg, "Pulling image \"%s\": %lld of %lld bytes", c->spec->image,
		 (long long)done, (long long)total);
	if (strcmp(c->state.reason, "Pulling") == 0 && strcmp(c->state.message, msg) == 0)
		return;
	node__cstate_set(&c->state, API_CSTATE_WAITING, "Pulling", msg);
	c->pod->dirty = true;
}

static void pod_tick(uv_timer_t *t)
{
	node_pod_t *p = container_of(t, node_pod_t, timer);
	int64_t now = node_mono_ms();
	for (size_t i = 0; i < p->nctrs; i++) {
		node_ctr_t *c = &p->ctrs[i];
		ctr_check_oom(c);
		node__ctr_check(c);
		if (atomic_load(&c->pulling) && c->state.kind == API_CSTATE_WAITING)
			ctr_show_pull(c);
		else if (atomic_exchange(&c->pulled, false) && p->busy &&
			 c->state.kind == API_CSTATE_WAITING &&
			 (strcmp(c->state.reason, "Pulling") == 0 ||
			  strcmp(c->state.reason, "ContainerCreating") == 0)) {
			/* kubelet's Pulled event, while the rootfs is set up */
			node__cstate_set(&c->state, API_CSTATE_WAITING, "ContainerCreating",
					 c->pulled_msg);
			p->dirty = true;
		}
		if (c->state.kind == API_CSTATE_WAITING &&
		    strcmp(c->state.reason, "ErrImagePull") == 0 && c->due_mono > now &&
		    now - c->fail_mono >= 500) {
			char msg[512];
			snprintf(msg, sizeof msg, "Back-off pulling image \"%s\"", c->spec->image);
			node__cstate_set(&c->state, API_CSTATE_WAITING, "ImagePullBackOff", msg);
			p->dirty = true;
		}
	}
	if (p->dirty)
		node__pod_report(p);
	node__pod_kick(p);
}

/* ---- creating pods ----------------------------------------------------- */

/* A new pod struct for a decoded pod (taken over), linked and ticking. */
node_pod_t *node__pod_new(node_t *n, api_pod_t *pod, const char *uid, int64_t generation)
{
	node_pod_t *p = calloc(1, sizeof *p);
	if (!p)
		abort();
	p->n = n;
	p->pod = *pod;
	memset(pod, 0, sizeof *pod);
	snprintf(p->uid, sizeof p->uid, "%s", uid);
	p->generation = generation;
	snprintf(p->desc, sizeof p->desc, "%s/%s",
		 p->pod.namespace_ ? p->pod.namespace_ : "default",
		 p->pod.name ? p->pod.name : uid);
	snprintf(p->dir, sizeof p->dir, "%s/pods/%s", n->cfg->root, uid);
	snprintf(p->cgroup, sizeof p->cgroup, "%s/pod-%s", n->cfg->cgroup_parent, uid);
	node_host_ifname(uid, p->ifname);
	node_container_id(uid, "_sandbox", p->sandbox_id, sizeof p->sandbox_id);
	p->grace_seconds = (int)(p->pod.spec.termination_grace_period_seconds >= 0
				     ? p->pod.spec.termination_grace_period_seconds
				     : 30);
	p->nctrs = p->pod.spec.ncontainers;
	p->ctrs = calloc(p->nctrs ? p->nctrs : 1, sizeof *p->ctrs);
	if (!p->ctrs)
		abort();
	for (size_t i = 0; i < p->nctrs; i++) {
		node_ctr_t *c = &p->ctrs[i];
		c->pod = p;
		c->spec = &p->pod.spec.containers[i];
		c->pidfd = -1;
		c->handled = -1;
		c->due_mono = node_mono_ms();
		c->cpu_millis = c->memory_bytes = -1;
		node_container_id(uid, c->spec->name, c->id, sizeof c->id);
		snprintf(c->dir, sizeof c->dir, "%s/containers/%s", p->dir, c->spec->name);
		snprintf(c->cgroup, sizeof c->cgroup, "%s/%s", p->cgroup, c->spec->name);
		node__cstate_set(&c->state, API_CSTATE_WAITING, "ContainerCreating", NULL);
	}
	uv_timer_init(n->loop, &p->timer);
	p->timer.data = p;
	p->handles = 1;
	uv_timer_start(&p->timer, pod_tick, 1000, 1000);
	p->next = n->pods;
	n->pods = p;
	return p;
}

static void pod_create(node_t *n, const char *uid, int64_t generation, const char *json)
{
	api_pod_t pod;
	memset(&pod, 0, sizeof pod);
	api_error_t ae;
	if (api_pod_from_text(json, strlen(json), API_DECODE_STORED, &pod, &ae) < 0) {
		node_log('E', "pod %s: RunPod with an invalid pod: %s", uid, ae.msg);
		Nodelet__V1__PodStatus ps = NODELET__V1__POD_STATUS__INIT;
		ps.uid = (char *)uid;
		ps.generation = generation;
		ps.phase = "Failed";
		ps.reason = "InvalidPod";
		ps.message = ae.msg;
		Nodelet__V1__Envelope env = NODELET__V1__ENVELOPE__INIT;
		env.msg_case = NODELET__V1__ENVELOPE__MSG_POD_STATUS;
		env.pod_status = &ps;
		node_session_send(n, &env, false);
		return;
	}
	node_pod_t *p = node__pod_new(n, &pod, uid, generation);
	rt_error_t err = {0};
	if (node__mkdir_p(p->dir, 0700, &err) < 0 || node_pod_json_save(p->dir, &p->pod, &err) < 0)
		node_log('E', "pod %s: saving pod.json: %s", p->desc, err.msg);
	pod_save_state(p);
	node_log('I', "pod %s: assigned (uid %s, generation %lld, %zu containers)", p->desc, uid,
		 (long long)generation, p->nctrs);
	p->dirty = true;
	node__pod_report(p);
	node__pod_kick(p);
}

/* The uid names directories and cgroups: letters, digits and '-' only. */
static bool valid_uid(const char *uid)
{
	if (!uid || !uid[0] || strlen(uid) > 100)
		return false;
	for (const char *c = uid; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '-'))
			return false;
	return true;
}

void node_on_run_pod(node_t *n, const Nodelet__V1__RunPod *r)
{
	if (!valid_uid(r->uid)) {
		node_log('W', "session: RunPod with an invalid uid \"%s\"; ignored",
			 r->uid ? r->uid : "");
		return;
	}
	node_pod_t *p = pod_find(n, r->uid);
	if (p) {
		if (p->generation == r->generation && !p->stopping) {
			node__pod_report(p);
			return;
		}
		if (p->generation == r->generation && !p->next_json)
			return; /* being stopped: schedd hears removed=true, then re-sends */
		node_log('I', "pod %s: generation %lld replaces %lld here", p->desc,
			 (long long)r->generation, (long long)p->generation);
		free(p->next_json);
		p->next_json = strdup(r->pod_json ? r->pod_json : "");
		p->next_generation = r->generation;
		if (!p->stopping) {
			p->stopping = true;
			pod_save_state(p);
			node__pod_kick(p);
		}
		return;
	}
	if (node_pods_count(n) >= (size_t)n->cfg->max_pods)
		node_log('W', "pod %s: node already runs %zu pods (max %lld)", r->uid,
			 node_pods_count(n), (long long)n->cfg->max_pods);
	pod_create(n, r->uid, r->generation, r->pod_json ? r->pod_json : "");
}

void node_on_stop_pod(node_t *n, const Nodelet__V1__StopPod *s)
{
	node_pod_t *p = s->uid ? pod_find(n, s->uid) : NULL;
	if (!p) {
		/* Nothing here: say so, so schedd can forget it. */
		Nodelet__V1__PodStatus ps = NODELET__V1__POD_STATUS__INIT;
		ps.uid = s->uid;
		ps.generation = s->generation;
		ps.removed = true;
		Nodelet__V1__Envelope env = NODELET__V1__ENVELOPE__INIT;
		env.msg_case = NODELET__V1__ENVELOPE__MSG_POD_STATUS;
		env.pod_status = &ps;
		node_session_send(n, &env, false);
		return;
	}
	if (s->generation && s->generation < p->generation) {
		node_log('I', "pod %s: ignoring StopPod for older generation %lld", p->desc,
			 (long long)s->generation);
		return;
	}
	free(p->next_json);
	p->next_json = NULL;
	p->grace_seconds = (int)s->grace_seconds;
	if (p->stopping)
		return;
	node_log('I', "pod %s: stop requested (%s)", p->desc,
		 s->reason && s->reason[0] ? s->reason : "no reason given");
	p->stopping = true;
	pod_save_state(p);
	node__pod_kick(p);
}

/* ---- node-wide helpers ------------------------------------------------- */

void node_pods_report_all(node_t *n, bool with_usage)
{
	(void)with_usage;
	for (node_pod_t *p = n->pods; p; p = p->next)
		node__pod_report(p);
}

void node_pods_kick_all(node_t *n)
{
	for (node_pod_t *p = n->pods; p; p = p->next)
		node__pod_kick(p);
}

void node_pods_close_all(node_t *n)
{
	while (n->pods)
		pod_close(n->pods);
}
