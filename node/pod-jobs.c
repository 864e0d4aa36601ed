/* The pod worker's blocking steps, each run on the libuv thread pool: create
 * the sandbox (IP, pause container, veth, hosts file, pod cgroup), start one
 * container (image, overlay rootfs, config.json, nodelet-shim), and stop a pod
 * and remove everything it holds. A job reads the pod's immutable parts and
 * writes only its own node_job_t; node_t's IPAM and image store are guarded by
 * their mutexes. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "node/ctr.h"
#include "node/fsutil.h"
#include "node/nodelet-internal.h"

void node_status_dir(const node_ctr_t *c, int restart, char *out, size_t len)
{
	snprintf(out, len, "%s/status-%d", c->dir, restart);
}

bool node_shim_alive(pid_t pid)
{
	if (pid <= 0 || kill(pid, 0) < 0)
		return false;
	char path[64], buf[4096];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	const char *rp = strrchr(buf, ')');
	if (rp && rp[1] == ' ' && (rp[2] == 'Z' || rp[2] == 'X'))
		return false;
	snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	/* argv[0] is the first NUL-terminated string. */
	return strstr(buf, "nodelet-shim") != NULL;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* Waits until none of pids[0..n) is a live shim, or timeout_ms. Returns how
 * many are still alive. */
static size_t wait_shims(const pid_t *pids, size_t n, int timeout_ms)
{
	int64_t end = node_mono_ms() + timeout_ms;
	for (;;) {
		size_t alive = 0;
		for (size_t i = 0; i < n; i++)
			if (pids[i] > 0 && node_shim_alive(pids[i]))
				alive++;
		if (alive == 0 || node_mono_ms() >= end)
			return alive;
		sleep_ms(100);
	}
}

static int write_hosts(const node_pod_t *p, const char *ip, rt_error_t *err)
{
	char path[4200], text[512];
	snprintf(path, sizeof path, "%s/hosts", p->dir);
	int len = snprintf(text, sizeof text,
			   "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
			   "%s\t%s\n",
			   ip, p->pod.name);
	return node__write_file(path, text, (size_t)len, 0644, 0, err);
}

/* The pause container's root inside its bundle (an OCI bundle holds its root):
 * the mount points and a hard link to the node's pause binary (a copy when the
 * link cannot be made), so that no pod shares or copies more than an inode. */
static int sandbox_rootfs(node_t *n, const char *rootfs, rt_error_t *err)
{
	static const char *const dirs[] = {"dev", "proc", "sys", "etc", "tmp"};
	char d[4300];
	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		snprintf(d, sizeof d, "%s/%s", rootfs, dirs[i]);
		if (node__mkdir_p(d, 0755, err) < 0)
			return rt_error_wrap(err, "making the sandbox root");
	}
	char src[4300];
	snprintf(src, sizeof src, "%s/pause", n->pause_rootfs);
	snprintf(d, sizeof d, "%s/pause", rootfs);
	if (unlink(d) < 0 && errno != ENOENT)
		return rt_error_set(err, errno, "replacing `%s`", d);
	if (link(src, d) == 0)
		return 0;
	if (errno != EXDEV && errno != EPERM)
		return rt_error_set(err, errno, "linking the pause binary to `%s`", d);
	return node__copy_file(src, d, 0755, err);
}

void node_job_sandbox(node_job_t *j)
{
	node_pod_t *p = j->pod;
	node_t *n = p->n;
	rt_error_t *err = &j->err;
	rt_error_t ign;
	char bundle[4200], status[4300], netns[64], cidr[96], pause_cg[1100];
	j->rc = -1;

	if (node__mkdir_p(p->dir, 0700, err) < 0)
		return;
	/* Leftovers of a sandbox that died under us (adoption): its containers
	 * sat in a network namespace that is gone; they are started afresh. */
	for (size_t i = 0; i < p->nctrs; i++)
		rt_container_delete(n->state_root, p->ctrs[i].id, true, &ign);
	rt_container_delete(n->state_root, p->sandbox_id, true, &ign);
	rt_net_detach(p->ifname, &ign);

	if (rt_cgroup_create(p->cgroup, NULL, err) < 0) {
		rt_error_wrap(err, "creating the pod cgroup");
		return;
	}
	pthread_mutex_lock(&n->ipam_lock);
	int rc = n->ipam ? rt_ipam_allocate(n->ipam, p->uid, j->ip, err)
			 : rt_error_set(err, 0, "no pod CIDR yet (not registered)");
	pthread_mutex_unlock(&n->ipam_lock);
	if (rc < 0) {
		rt_error_wrap(err, "allocating the pod IP");
		return;
	}
	snprintf(bundle, sizeof bundle, "%s/sandbox", p->dir);
	snprintf(status, sizeof status, "%s/status", bundle);
	snprintf(pause_cg, sizeof pause_cg, "%s/sandbox", p->cgroup);
	node_rm_rf(status, &ign);
	if (node__mkdir_p(status, 0700, err) < 0)
		return;
	char rootfs[sizeof bundle + 8];
	snprintf(rootfs, sizeof rootfs, "%s/rootfs", bundle);
	if (sandbox_rootfs(n, rootfs, err) < 0)
		return;
	if (node_sandbox_write_config(&p->pod, rootfs, bundle, pause_cg, err) < 0) {
		rt_error_wrap(err, "writing the sandbox config");
		return;
	}
	node_shim_opts_t o = {
	    .shim_path = n->cfg->shim_path,
	    .id = p->sandbox_id,
	    .bundle = bundle,
	    .state_root = n->state_root,
	    .log_path = NULL,
	    .status_dir = status,
	};
	if (node_shim_launch(&o, &j->shim_pid, &j->ctr_pid, err) < 0) {
		rt_error_wrap(err, "starting the pause container");
		return;
	}
	snprintf(netns, sizeof netns, "/proc/%d/ns/net", (int)j->ctr_pid);
	snprintf(cidr, sizeof cidr, "%s/%d", j->ip, n->prefix_len);
	if (rt_net_attach(netns, n->cfg->bridge, p->ifname, cidr, n->gateway, err) < 0 ||
	    write_hosts(p, j->ip, err) < 0) {
		rt_error_wrap(err, "wiring the pod network");
		rt_container_kill(n->state_root, p->sandbox_id, SIGKILL, true, &ign);
		wait_shims(&j->shim_pid, 1, 5000);
		rt_container_delete(n->state_root, p->sandbox_id, true, &ign);
		rt_net_detach(p->ifname, &ign);
		return;
	}
	j->rc = 0;
}

void node_job_start(node_job_t *j)
{
	node_pod_t *p = j->pod;
	node_t *n = p->n;
	node_ctr_t *c = &p->ctrs[j->ctr];
	rt_error_t *err = &j->err;
	rt_error_t ign;
	rt_image_t *img = NULL;
	j->rc = -1;

	const char *layout = NULL;
	bool gc_locked = true;
	/* the image garbage collector waits until the rootfs is mounted */
	atomic_fetch_add(&n->image_uses, 1);
	pthread_rwlock_rdlock(&n->image_gc_lock);
	if (node_image_get(n, c, &img, &layout, j->image_reason, err) < 0) {
		pthread_rwlock_unlock(&n->image_gc_lock);
		j->image_error = true;
		return;
	}
	pthread_mutex_lock(&n->image_lock);
	int rc = rt_image_unpack_limit(img, layout, n->layers_dir, n->cfg->max_layer_bytes, err);
	pthread_mutex_unlock(&n->image_lock);
	if (rc < 0) {
		j->image_error = true;
		rt_error_wrap(err, "unpacking image \"%s\"", c->spec->image);
		goto out;
	}
	/* A restarted container starts from the image again, as in Kubernetes:
	 * the previous run's writable layer (and status) goes. */
	if (j->restart > 0 && rt_rootfs_remove(c->dir, err) < 0) {
		rt_error_wrap(err, "removing the previous root filesystem");
		goto out;
	}
	if (node__mkdir_p(c->dir, 0700, err) < 0)
		goto out;
	int mrc = rt_rootfs_mount(img, n->layers_dir, c->dir, err);
	pthread_rwlock_unlock(&n->image_gc_lock);
	gc_locked = false;
	if (mrc < 0) {
		rt_error_wrap(err, "mounting the root filesystem");
		goto out;
	}
	char rootfs[4300], hosts[4200], logdir[8192], logpath[8300], status[4300];
	snprintf(rootfs, sizeof rootfs, "%s/rootfs", c->dir);
	snprintf(hosts, sizeof hosts, "%s/hosts", p->dir);
	node_ctr_spec_t spec = {
	    .pod = &p->pod,
	    .ctr = c->spec,
	    .image = img,
	    .rootfs = rootfs,
	    .bundle_dir = c->dir,
	    .sandbox_pid = p->pause_pid,
	    .cgroup_path = c->cgroup,
	    .hosts_file = hosts,
	};
	if (node_ctr_write_config(&spec, err) < 0) {
		rt_error_wrap(err, "writing the container config");
		goto out;
	}
	snprintf(logdir, sizeof logdir, "%s/%s_%s_%s/%s", n->cfg->log_dir, p->pod.namespace_,
		 p->pod.name, p->uid, c->spec->name);
	if (node__mkdir_p(logdir, 0755, err) < 0)
		goto out;
	snprintf(logpath, sizeof logpath, "%s/%d.log", logdir, j->restart);
	node_status_dir(c, j->restart, status, sizeof status);
	node_rm_rf(status, &ign);
	if (node__mkdir_p(status, 0700, err) < 0)
		goto out;
	/* The previous run of this container, if any, is gone: forget its state. */
	rt_container_delete(n->state_root, c->id, true, &ign);
	node_shim_opts_t o = {
	    .shim_path = n->cfg->shim_path,
	    .id = c->id,
	    .bundle = c->dir,
	    .state_root = n->state_root,
	    .log_path = logpath,
	    .status_dir = status,
	};
	if (node_shim_launch(&o, &j->shim_pid, &j->ctr_pid, err) < 0)
		goto out;
	j->rc = 0;
out:
	if (gc_locked)
		pthread_rwlock_unlock(&n->image_gc_lock);
	rt_image_free(img);
}

void node_job_stop(node_job_t *j)
{
	node_pod_t *p = j->pod;
	node_t *n = p->n;
	rt_error_t e;
	bool failed = false;
	j->rc = 0;
	memset(&j->err, 0, sizeof j->err);
#define NOTE(call)                                                                                 \
	do {                                                                                       \
		memset(&e, 0, sizeof e);                                                           \
		if ((call) < 0) {                                                                  \
			node_log('W', "pod %s: %s", p->desc, e.msg);                               \
			if (!failed)                                                               \
				j->err = e;                                                        \
			failed = true;                                                             \
		}                                                                                  \
	} while (0)

	/* SIGTERM every container, wait out the grace period, then SIGKILL. */
	size_t alive = 0;
	for (size_t i = 0; i < p->nctrs; i++) {
		if (!node_shim_alive(j->shims[i]))
			continue;
		alive++;
		if (rt_container_kill(n->state_root, p->ctrs[i].id, SIGTERM, true, &e) < 0)
			rt_cgroup_kill(p->ctrs[i].cgroup, SIGTERM, &e);
	}
	if (alive)
		alive = wait_shims(j->shims, p->nctrs, j->grace_seconds * 1000);
	if (alive) {
		node_log('I', "pod %s: %zu container(s) still running after %d s; sending SIGKILL",
			 p->desc, alive, j->grace_seconds);
		for (size_t i = 0; i < p->nctrs; i++) {
			if (!node_shim_alive(j->shims[i]))
				continue;
			if (rt_container_kill(n->state_root, p->ctrs[i].id, SIGKILL, true, &e) < 0)
				rt_cgroup_kill(p->ctrs[i].cgroup, SIGKILL, &e);
		}
		if (wait_shims(j->shims, p->nctrs, 10000))
			node_log('W', "pod %s: a container shim did not exit", p->desc);
	}
	/* The pause container, and with it the pod's network namespace. */
	pid_t pause_shim = p->pause_shim;
	if (node_shim_alive(pause_shim)) {
		rt_container_kill(n->state_root, p->sandbox_id, SIGKILL, true, &e);
		wait_shims(&pause_shim, 1, 5000);
	}
	for (size_t i = 0; i < p->nctrs; i++)
		rt_container_delete(n->state_root, p->ctrs[i].id, true, &e);
	rt_container_delete(n->state_root, p->sandbox_id, true, &e);
	NOTE(rt_net_detach(p->ifname, &e));
	pthread_mutex_lock(&n->ipam_lock);
	if (n->ipam)
		NOTE(rt_ipam_release(n->ipam, p->uid, &e));
	pthread_mutex_unlock(&n->ipam_lock);
	if (!n->ipam && p->pod_ip[0]) {
		/* Not registered yet: the lease is a file named for the IP. */
		char lease[4300];
		snprintf(lease, sizeof lease, "%s/ipam/%s", n->cfg->root, p->pod_ip);
		unlink(lease);
	}
	NOTE(rt_cgroup_destroy(p->cgroup, 5000, &e));
	for (size_t i = 0; i < p->nctrs; i++)
		NOTE(rt_rootfs_remove(p->ctrs[i].dir, &e));
	NOTE(node_rm_rf(p->dir, &e));
	/* The CRI logs stay (as kubelet keeps them until garbage collection). */
#undef NOTE
	j->rc = failed ? -1 : 0;
}
