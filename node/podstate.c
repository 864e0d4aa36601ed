/* The on-disk record of each pod under <root>/pods/<uid>/: pod.json (the pod
 * as schedd sent it) and state.json (generation, IP, restart counters), so a
 * restarted nodelet can re-adopt what runs. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "node/nodelet-internal.h"

static dev_t rm_dev;
static int rm_failed;

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)ftw;
	if (sb->st_dev != rm_dev) {
		rm_failed = EBUSY; /* a mount inside: leave it, report it */
		return 0;
	}
	int rc = (flag == FTW_DP || flag == FTW_D) ? rmdir(path) : unlink(path);
	if (rc < 0 && errno != ENOENT && !rm_failed)
		rm_failed = errno;
	return 0;
}

int node_rm_rf(const char *path, rt_error_t *err)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : rt_error_set(err, errno, "removing `%s`", path);
	pthread_mutex_lock(&lock);
	rm_dev = st.st_dev;
	rm_failed = 0;
	nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
	int e = rm_failed;
	pthread_mutex_unlock(&lock);
	if (e)
		return rt_error_set(err, e, "removing `%s`", path);
	return 0;
}

static json_t *cstate_to_json(const node_cstate_t *c)
{
	return json_pack("{s:i, s:s, s:s, s:i, s:i, s:I, s:I}", "kind", (int)c->kind, "reason",
			 c->reason, "message", c->message, "exitCode", c->exit_code, "signal",
			 c->signal, "startedAt", (json_int_t)c->started_at, "finishedAt",
			 (json_int_t)c->finished_at);
}

static void cstate_from_json(const json_t *j, node_cstate_t *c)
{
	memset(c, 0, sizeof *c);
	int kind = 0, code = 0, sig = 0;
	const char *reason = "", *message = "";
	json_int_t started = 0, finished = 0;
	if (!j || json_unpack((json_t *)j, "{s?i, s?s, s?s, s?i, s?i, s?I, s?I}", "kind", &kind,
			      "reason", &reason, "message", &message, "exitCode", &code, "signal",
			      &sig, "startedAt", &started, "finishedAt", &finished) < 0)
		return;
	c->kind = kind >= API_CSTATE_NONE && kind <= API_CSTATE_TERMINATED ? (api_cstate_kind_t)kind
									   : API_CSTATE_NONE;
	snprintf(c->reason, sizeof c->reason, "%s", reason);
	snprintf(c->message, sizeof c->message, "%s", message);
	c->exit_code = code;
	c->signal = sig;
	c->started_at = started;
	c->finished_at = finished;
}

int node_podstate_save(const char *dir, const node_podstate_t *st, rt_error_t *err)
{
	json_t *ctrs = json_array();
	for (size_t i = 0; i < st->nctrs; i++)
		json_array_append_new(
		    ctrs,
		    json_pack("{s:s, s:i, s:i, s:i, s:b, s:I, s:o, s:o}", "name", st->ctrs[i].name,
			      "restartCount", st->ctrs[i].restart_count, "backoff",
			      st->ctrs[i].backoff_count, "handled", st->ctrs[i].handled, "done",
			      st->ctrs[i].done, "restartAt", (json_int_t)st->ctrs[i].restart_at,
			      "state", cstate_to_json(&st->ctrs[i].state), "last",
			      cstate_to_json(&st->ctrs[i].last)));
	json_t *j =
	    json_pack("{s:s, s:I, s:s, s:I, s:b, s:o}", "uid", st->uid, "generation",
		      (json_int_t)st->generation, "podIP", st->pod_ip, "startTime",
		      (json_int_t)st->start_time, "stopping", st->stopping, "containers", ctrs);
	char *text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!text)
		abort();
	char path[4200];
	snprintf(path, sizeof path, "%s/state.json", dir);
	int rc = node__write_file(path, text, strlen(text), 0644, 0, err);
	free(text);
	return rc;
}

int node_podstate_load(const char *dir, node_podstate_t *st, rt_error_t *err)
{
	memset(st, 0, sizeof *st);
	char path[4200];
	snprintf(path, sizeof path, "%s/state.json", dir);
	json_error_t je;
	json_t *j = json_load_file(path, 0, &je);
	if (!j)
		return rt_error_set(err, access(path, F_OK) ? errno : EINVAL, "reading `%s`: %s",
				    path, je.text);
	const char *uid = NULL, *ip = "";
	json_int_t gen = 0, start = 0;
	int stopping = 0;
	json_t *ctrs = NULL;
	if (json_unpack(j, "{s:s, s:I, s?s, s?I, s?b, s?o}", "uid", &uid, "generation", &gen,
			"podIP", &ip, "startTime", &start, "stopping", &stopping, "containers",
			&ctrs) < 0) {
		json_decref(j);
		return rt_error_set(err, EINVAL, "reading `%s`: missing uid or generation", path);
	}
	snprintf(st->uid, sizeof st->uid, "%s", uid);
	snprintf(st->pod_ip, sizeof st->pod_ip, "%s", ip);
	st->generation = gen;
	st->start_time = start;
	st->stopping = stopping;
	if (json_is_array(ctrs) && json_array_size(ctrs) > 0) {
		st->ctrs = calloc(json_array_size(ctrs), sizeof *st->ctrs);
		if (!st->ctrs)
			abort();
		size_t i;
		json_t *c;
		json_array_foreach(ctrs, i, c)
		{
			const char *name = NULL;
			int rc = 0, bo = 0, handled = -1, done = 0;
			json_int_t at = 0;
			if (json_unpack(c, "{s:s, s?i, s?i, s?i, s?b, s?I}", "name", &name,
					"restartCount", &rc, "backoff", &bo, "handled", &handled,
					"done", &done, "restartAt", &at) < 0)
				continue;
			node_podstate_ctr_t *pc = &st->ctrs[st->nctrs++];
			snprintf(pc->name, sizeof pc->name, "%s", name);
			pc->restart_count = rc;
			pc->backoff_count = bo;
			pc->handled = handled;
			pc->done = done;
			pc->restart_at = at;
			cstate_from_json(json_object_get(c, "state"), &pc->state);
			cstate_from_json(json_object_get(c, "last"), &pc->last);
		}
	}
	json_decref(j);
	return 0;
}

void node_podstate_free(node_podstate_t *st)
{
	free(st->ctrs);
	st->ctrs = NULL;
	st->nctrs = 0;
}

int node_pod_json_save(const char *dir, const api_pod_t *pod, rt_error_t *err)
{
	json_t *j = api_pod_to_json(pod);
	char *text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!text)
		abort();
	char path[4200];
	snprintf(path, sizeof path, "%s/pod.json", dir);
	int rc = node__write_file(path, text, strlen(text), 0644, 0, err);
	free(text);
	return rc;
}

int node_pod_json_load(const char *dir, api_pod_t *pod, rt_error_t *err)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/pod.json", dir);
	FILE *f = fopen(path, "re");
	if (!f)
		return rt_error_set(err, errno, "reading `%s`", path);
	char *buf = NULL;
	size_t cap = 0, len = 0;
	for (;;) {
		if (len + 4096 > cap) {
			cap = cap ? cap * 2 : 8192;
			buf = realloc(buf, cap);
			if (!buf)
				abort();
		}
		size_t r = fread(buf + len, 1, cap - len - 1, f);
		len += r;
		if (r == 0)
			break;
	}
	fclose(f);
	buf[len] = '\0';
	api_error_t ae;
	int rc = api_pod_from_text(buf, len, API_DECODE_STORED, pod, &ae);
	free(buf);
	if (rc < 0)
		return rt_error_set(err, EINVAL, "reading `%s`: %s", path, ae.msg);
	return 0;
}
