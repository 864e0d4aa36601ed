/* Re-adoption after a nodelet restart: the pods under <root>/pods, their
 * containers' shims (alive: watched again; gone: their exit is read and acted
 * on, unless the previous nodelet already did), and the sandbox. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "node/ctr.h"
#include "node/nodelet-internal.h"

static void adopt_one(node_t *n, const char *uid)
{
	char dir[4200];
	snprintf(dir, sizeof dir, "%s/pods/%s", n->cfg->root, uid);
	rt_error_t err = {0};
	node_podstate_t st;
	api_pod_t pod;
	memset(&pod, 0, sizeof pod);
	if (node_podstate_load(dir, &st, &err) < 0 || node_pod_json_load(dir, &pod, &err) < 0) {
		node_log('W', "adopt: skipping %s: %s", dir, err.msg);
		node_podstate_free(&st);
		api_pod_free(&pod);
		return;
	}
	node_pod_t *p = node__pod_new(n, &pod, uid, st.generation);
	snprintf(p->pod_ip, sizeof p->pod_ip, "%s", st.pod_ip);
	p->stopping = st.stopping;
	char sdir[4300];
	snprintf(sdir, sizeof sdir, "%s/sandbox/status", p->dir);
	pid_t shim = 0, pid = 0;
	if (node_shim_read_pids(sdir, &shim, &pid, &err) == 0 && node_shim_alive(shim)) {
		p->sandbox_ready = true;
		p->pause_shim = shim;
		p->pause_pid = pid;
		p->start_time = st.start_time ? st.start_time : node_now_ms();
	}
	size_t running = 0;
	for (size_t i = 0; i < p->nctrs; i++) {
		node_ctr_t *c = &p->ctrs[i];
		const node_podstate_ctr_t *sc = NULL;
		for (size_t k = 0; k < st.nctrs; k++)
			if (strcmp(st.ctrs[k].name, c->spec->name) == 0)
				sc = &st.ctrs[k];
		if (sc) {
			c->restart_count = sc->restart_count;
			c->backoff_count = sc->backoff_count;
			c->last = sc->last;
		}
		if (sc && sc->handled >= 0 && sc->handled == c->restart_count) {
			/* Its last exit was acted on already: restore, do not count it again. */
			c->handled = sc->handled;
			c->started_once = true;
			c->state = sc->state;
			if (c->state.kind == API_CSTATE_RUNNING)
				node__cstate_set(&c->state, API_CSTATE_WAITING, "ContainerCreating",
						 NULL);
			c->done = sc->done;
			int64_t left = sc->restart_at ? sc->restart_at - node_now_ms() : 0;
			c->due_mono = c->done ? -1 : node_mono_ms() + (left > 0 ? left : 0);
			continue;
		}
		char cs[4400];
		node_status_dir(c, c->restart_count, cs, sizeof cs);
		if (node_shim_read_pids(cs, &shim, &pid, &err) < 0)
			continue; /* never started at this restart: started when due */
		c->started_once = true;
		c->shim_pid = shim;
		c->ctr_pid = pid;
		c->run_mono = node_mono_ms();
		node__cstate_set(&c->state, API_CSTATE_RUNNING, NULL, NULL);
		struct stat sb;
		char pidf[4500];
		snprintf(pidf, sizeof pidf, "%s/pid", cs);
		c->state.started_at =
		    stat(pidf, &sb) == 0 ? (int64_t)sb.st_mtime * 1000 : node_now_ms();
		c->due_mono = -1;
		if (p->sandbox_ready && node_shim_alive(shim)) {
			node__ctr_watch(c);
			running++;
		} else {
			node__ctr_check(c); /* records its exit and what comes next */
		}
	}
	node_log('I',
		 "adopt: pod %s (uid %s, generation %lld): sandbox %s, %zu of %zu containers "
		 "running%s",
		 p->desc, uid, (long long)p->generation, p->sandbox_ready ? "alive" : "gone",
		 running, p->nctrs, p->stopping ? ", was stopping" : "");
	node_podstate_free(&st);
	p->dirty = true;
}

void node_pods_adopt(node_t *n)
{
	char dir[4200];
	snprintf(dir, sizeof dir, "%s/pods", n->cfg->root);
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		adopt_one(n, e->d_name);
	}
	closedir(d);
	for (node_pod_t *p = n->pods; p; p = p->next)
		node__pod_kick(p);
}
