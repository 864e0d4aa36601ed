/* schedd: the nodelet scheduler daemon. One libuv loop runs everything:
 * libwebsockets (HTTP API + node WebSocket), the 1-second node lifecycle
 * tick, and SIGINT/SIGTERM. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "scheduler/sched.h"
#include "scheduler/server.h"
#include "scheduler/store.h"

typedef struct daemon {
	uv_loop_t loop;
	uv_timer_t tick;
	uv_signal_t sigint, sigterm;
	sched_cluster_t cluster;
	sched_server_t *server;
	bool stopping;
} daemon_t;

static void on_tick(uv_timer_t *t)
{
	daemon_t *d = t->data;

	sched_cluster_tick(&d->cluster);
}

static void on_signal(uv_signal_t *h, int signum)
{
	daemon_t *d = h->data;

	if (d->stopping)
		return;
	d->stopping = true;
	sched_info("%s: shutting down", strsignal(signum));
	uv_timer_stop(&d->tick);
	uv_close((uv_handle_t *)&d->tick, NULL);
	uv_close((uv_handle_t *)&d->sigint, NULL);
	uv_close((uv_handle_t *)&d->sigterm, NULL);
	sched_server_stop(d->server);
}

/* Reads the bearer token: the file's first line, surrounding blanks removed.
 * Returns a malloc'd string or NULL with err filled. */
static char *read_token(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	char line[512], *s, *e;

	if (!f) {
		snprintf(err, errlen, "--token-file %s: %s", path, strerror(errno));
		return NULL;
	}
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	for (s = line; *s == ' ' || *s == '\t'; s++)
		;
	e = s + strlen(s);
	while (e > s && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	if (!*s) {
		snprintf(err, errlen, "--token-file %s: the file holds no token", path);
		return NULL;
	}
	return sched_strdup(s);
}

int main(int argc, char **argv)
{
	static daemon_t d;
	sched_config_t cfg;
	sched_store_t *store;
	char err[512], *token = NULL;
	int rc;

	rc = sched_config_parse(&cfg, argc, argv, err, sizeof(err));
	if (rc == 1)
		return 0;
	if (rc < 0) {
		fprintf(stderr, "schedd: %s\n", err);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (cfg.token_file && !(token = read_token(cfg.token_file, err, sizeof(err)))) {
		fprintf(stderr, "schedd: %s\n", err);
		return 2;
	}
	store = sched_store_sqlite_open(cfg.data_dir, err, sizeof(err));
	if (!store) {
		fprintf(stderr, "schedd: %s\n", err);
		return 1;
	}
	if (sched_cluster_init(&d.cluster, &cfg, store, err, sizeof(err)) < 0) {
		fprintf(stderr, "schedd: %s\n", err);
		store->ops->close(store);
		return 1;
	}
	uv_loop_init(&d.loop);
	d.server = sched_server_start(&d.loop, &d.cluster, &cfg, token, err, sizeof(err));
	free(token);
	if (!d.server) {
		fprintf(stderr, "schedd: %s\n", err);
		sched_cluster_free(&d.cluster);
		store->ops->close(store);
		uv_loop_close(&d.loop);
		return 1;
	}
	sched_info("schedd %s started: data %s/schedd.db, %zu pod(s) and %zu node(s) loaded",
		   SCHED_VERSION, cfg.data_dir, d.cluster.npods, d.cluster.nnodes);

	uv_timer_init(&d.loop, &d.tick);
	d.tick.data = &d;
	uv_timer_start(&d.tick, on_tick, 1000, 1000);
	uv_signal_init(&d.loop, &d.sigint);
	uv_signal_init(&d.loop, &d.sigterm);
	d.sigint.data = d.sigterm.data = &d;
	uv_signal_start(&d.sigint, on_signal, SIGINT);
	uv_signal_start(&d.sigterm, on_signal, SIGTERM);
	sched_cluster_schedule(&d.cluster);

	uv_run(&d.loop, UV_RUN_DEFAULT);
	/* lws's second destroy, once the loop has turned (see PITFALLS.md). */
	sched_server_free(d.server);
	uv_run(&d.loop, UV_RUN_NOWAIT);
	rc = uv_loop_close(&d.loop);
	if (rc < 0)
		sched_warn("loop not closed cleanly: %s", uv_strerror(rc));
	sched_cluster_free(&d.cluster);
	store->ops->close(store);
	sched_info("stopped");
	return 0;
}
