/* nodelet: the node agent. Parses flags, prepares its directories, re-adopts
 * the pods a previous nodelet left running, connects to schedd and runs the
 * loop until SIGTERM/SIGINT (pods keep running) or a refused registration. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "node/nodelet-internal.h"

static uv_timer_t shutdown_timer;

static void closed_noop(uv_handle_t *h)
{
	(void)h;
}

static void do_shutdown(node_t *n)
{
	if (n->shutting_down)
		return;
	n->shutting_down = true;
	node_log('I', "nodelet: shutting down (pods keep running)");
	uv_close((uv_handle_t *)&n->sigint, closed_noop);
	uv_close((uv_handle_t *)&n->sigterm, closed_noop);
	uv_close((uv_handle_t *)&n->heartbeat, closed_noop);
	node_image_gc_stop(n);
	uv_close((uv_handle_t *)&shutdown_timer, closed_noop);
	node_pods_close_all(n);
	node_session_stop(n);
}

static void shutdown_cb(uv_timer_t *t)
{
	do_shutdown(t->data);
}

/* Deferred: it may be asked from inside a libwebsockets callback. */
static void request_shutdown(node_t *n, int code)
{
	if (n->shutting_down)
		return;
	n->exit_code = code;
	uv_timer_start(&shutdown_timer, shutdown_cb, 0, 0);
}

static void on_signal(uv_signal_t *s, int signum)
{
	node_t *n = s->data;
	node_log('I', "nodelet: got %s", signum == SIGINT ? "SIGINT" : "SIGTERM");
	do_shutdown(n);
}

/* Copies the pause binary to <root>/pause-rootfs/pause (atomically, so pods
 * running the old copy are not disturbed), with the mount points a container
 * root needs. */
static int prepare_pause_rootfs(node_t *n, rt_error_t *err)
{
	static const char *const dirs[] = {"dev", "proc", "sys", "etc", "tmp"};
	if (node__mkdir_p(n->pause_rootfs, 0755, err) < 0)
		return -1;
	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		char d[4200];
		snprintf(d, sizeof d, "%s/%s", n->pause_rootfs, dirs[i]);
		if (node__mkdir_p(d, 0755, err) < 0)
			return -1;
	}
	char dst[4200];
	snprintf(dst, sizeof dst, "%s/pause", n->pause_rootfs);
	if (node__copy_file(n->cfg->pause_path, dst, 0755, err) < 0)
		return rt_error_wrap(err, "installing the pause binary");
	return 0;
}

static int prepare(node_t *n)
{
	node_config_t *cfg = n->cfg;
	rt_error_t err = {0};
	if (access(cfg->shim_path, X_OK) < 0) {
		node_log('E', "nodelet: shim `%s`: %s (use --shim)", cfg->shim_path,
			 strerror(errno));
		return -1;
	}
	char pods[4200], ipam[4200];
	snprintf(pods, sizeof pods, "%s/pods", cfg->root);
	snprintf(ipam, sizeof ipam, "%s/ipam", cfg->root);
	snprintf(n->pause_rootfs, sizeof n->pause_rootfs, "%s/pause-rootfs", cfg->root);
	snprintf(n->layers_dir, sizeof n->layers_dir, "%s/layers", cfg->root);
	snprintf(n->images_dir, sizeof n->images_dir, "%s/images", cfg->root);
	snprintf(n->state_root, sizeof n->state_root, "%s/run", cfg->root);
	const char *dirs[] = {cfg->root, pods, ipam, n->layers_dir, n->state_root, cfg->log_dir};
	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		if (node__mkdir_p(dirs[i], 0700, &err) < 0) {
			node_log('E', "nodelet: %s", err.msg);
			return -1;
		}
	}
	if (prepare_pause_rootfs(n, &err) < 0) {
		node_log('E', "nodelet: preparing the pause rootfs: %s (use --pause)", err.msg);
		return -1;
	}
	rt_cgroup_mode_t mode;
	if (rt_cgroup_mode(&mode, &err) < 0) {
		node_log('E',
			 "nodelet: detecting the cgroup mode: %s (no cgroups under /sys/fs/cgroup; "
			 "`ip netns exec` remounts /sys without them: use "
			 "`nsenter --net=/run/netns/NAME` instead)",
			 err.msg);
		return -1;
	}
	if (cfg->address)
		snprintf(n->address, sizeof n->address, "%s", cfg->address);
	else if (node_first_ipv4(cfg->bridge, n->address) < 0)
		n->address[0] = '\0';
	int64_t total = 0, used = 0;
	node_read_meminfo("/proc/meminfo", &total, &used);
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	n->cap_cpu_millis = cfg->cpu_millis ? cfg->cpu_millis : (ncpu > 0 ? ncpu : 1) * 1000;
	n->cap_memory_bytes = cfg->memory_bytes ? cfg->memory_bytes : total;
	node_log('I',
		 "nodelet %s: node %s, root %s, cgroups %s under %s, bridge %s, images %s, "
		 "logs %s, address %s",
		 NODE_VERSION, cfg->name, cfg->root, rt_cgroup_mode_name(mode), cfg->cgroup_parent,
		 cfg->bridge, cfg->image_dir, cfg->log_dir, n->address[0] ? n->address : "none");
	return 0;
}

/* With no pod left here, the cgroup parent goes too (tests leave nothing). */
static void remove_empty_parent(node_t *n)
{
	char pods[4200];
	snprintf(pods, sizeof pods, "%s/pods", n->cfg->root);
	DIR *d = opendir(pods);
	if (d) {
		struct dirent *e;
		while ((e = readdir(d)))
			if (e->d_name[0] != '.') {
				closedir(d);
				return;
			}
		closedir(d);
	}
	rt_error_t err = {0};
	if (rt_cgroup_destroy(n->cfg->cgroup_parent, 2000, &err) < 0)
		node_log('W', "nodelet: removing cgroup %s: %s", n->cfg->cgroup_parent, err.msg);
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "images") == 0)
		return node_images_main(argc - 1, argv + 1);
	node_config_t cfg;
	char errbuf[512] = "";
	int rc = node_config_parse(argc, argv, &cfg, errbuf, sizeof errbuf);
	if (rc != 0) {
		if (rc < 0)
			fprintf(stderr, "nodelet: %s\nTry `nodelet --help`.\n", errbuf);
		node_config_free(&cfg);
		return rc < 0 ? 1 : 0;
	}
	/* Pod jobs may block for a grace period: more threads than libuv's 4. */
	setenv("UV_THREADPOOL_SIZE", "16", 0);
	signal(SIGPIPE, SIG_IGN);

	static node_t n;
	n.cfg = &cfg;
	n.request_shutdown = request_shutdown;
	pthread_mutex_init(&n.ipam_lock, NULL);
	pthread_mutex_init(&n.image_lock, NULL);
	pthread_rwlock_init(&n.image_gc_lock, NULL);
	if (prepare(&n) < 0) {
		node_config_free(&cfg);
		return 1;
	}
	uv_loop_t loop;
	uv_loop_init(&loop);
	n.loop = &loop;
	uv_timer_init(&loop, &n.heartbeat);
	uv_timer_init(&loop, &shutdown_timer);
	shutdown_timer.data = &n;
	uv_signal_init(&loop, &n.sigint);
	uv_signal_init(&loop, &n.sigterm);
	n.sigint.data = n.sigterm.data = &n;
	uv_signal_start(&n.sigint, on_signal, SIGINT);
	uv_signal_start(&n.sigterm, on_signal, SIGTERM);

	node_pods_adopt(&n);
	node_image_gc_start(&n);
	if (node_session_start(&n) < 0) {
		n.exit_code = 1;
		do_shutdown(&n);
	}
	uv_run(&loop, UV_RUN_DEFAULT);
	/* Second stage of the lws teardown, once the loop has turned. */
	node_session_destroy(&n);
	uv_run(&loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&loop) != 0)
		node_log('W', "nodelet: loop still had handles at exit");
	if (n.ipam)
		rt_ipam_close(n.ipam);
	remove_empty_parent(&n);
	node_log('I', "nodelet: exiting with status %d", n.exit_code);
	node_config_free(&cfg);
	return n.exit_code;
}
