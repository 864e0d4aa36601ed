/* `exec`: a new process inside a created or running container. The caller
 * opens the container's namespaces (/proc/PID/ns/...), switches its own
 * pid_for_children to the container's pid namespace around a clone (so the
 * child is born inside it), moves the child into the container's cgroup and
 * lets it go; the child joins the other namespaces (mount last), then takes
 * the same last steps as a container's init (rlimits, cwd, capabilities,
 * user, no_new_privs, seccomp) and execs. A close-on-exec pipe tells the
 * caller whether the exec happened ('E' + rt_error_t when it did not).
 * With SCMP_ACT_NOTIFY rules the release carries the listener message, the
 * child connects to linux.seccomp.listenerPath before it joins the mount
 * namespace and sends the notify fd there once its filter is loaded. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "runtime/cgroup-internal.h"
#include "runtime/rt-internal.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* The namespaces exec joins, in order: the mount namespace last (after it
 * the host's /proc is gone), pid handled by the caller. */
static const struct {
	const char *file;
	int type;
} ns_order[] = {
    {"user", CLONE_NEWUSER}, {"ipc", CLONE_NEWIPC},	  {"uts", CLONE_NEWUTS},
    {"net", CLONE_NEWNET},   {"cgroup", CLONE_NEWCGROUP}, {"time", RT_CLONE_NEWTIME},
    {"mnt", CLONE_NEWNS},
};
#define NNS (sizeof(ns_order) / sizeof(ns_order[0]))

typedef struct exec_ctx {
	const rt_config_t *cfg;
	int stdio[3];
	int ns_fds[NNS]; /* -1: same as ours, not joined */
	int go_fd;	 /* read: the caller has moved us into the cgroup */
	int console_fd;	 /* connected console socket, or -1 */
	int sync_fd;	 /* write, close-on-exec */
	bool notify;	 /* SCMP_ACT_NOTIFY: the release carries the listener message */
} exec_ctx_t;

static int above_stdio(int fd)
{
	if (fd < 0 || fd > 2)
		return fd;
	int n = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	close(fd);
	return n;
}

/* Opens /proc/pid/ns/file unless it is the namespace we are in already. */
static int open_ns(pid_t pid, const char *file, int *out, rt_error_t *err)
{
	char path[64], self[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, file);
	snprintf(self, sizeof(self), "/proc/self/ns/%s", file);
	*out = -1;
	struct stat a, b;
	if (stat(path, &a) < 0)
		return rt_error_set(err, errno, "opening namespace `%s`", path);
	if (stat(self, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev)
		return 0;
	*out = above_stdio(open(path, O_RDONLY | O_CLOEXEC));
	if (*out < 0)
		return rt_error_set(err, errno, "opening namespace `%s`", path);
	return 0;
}

__attribute__((noreturn)) static void child_fail(const exec_ctx_t *x, rt_error_t *err)
{
	char buf[1 + sizeof(rt_error_t)];
	buf[0] = 'E';
	memcpy(buf + 1, err, sizeof(*err));
	size_t off = 0;
	while (off < sizeof(buf)) {
		ssize_t w = write(x->sync_fd, buf + off, sizeof(buf) - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	_exit(127);
}

/* SCMP_ACT_NOTIFY: the caller sends the listener message (it alone knows
 * our host pid) after the release; we connect to listenerPath, a host path,
 * while still in the caller's mount namespace. rt__seccomp_apply sends the
 * notify fd on it once the filter is loaded. */
static int notify_connect(const exec_ctx_t *x, rt_error_t *err)
{
	uint32_t len = 0;
	if (rt__read_full(x->go_fd, &len, sizeof(len)) != sizeof(len) || len == 0 ||
	    len > (1U << 24))
		return rt__error_plain(err, EIO, "reading the seccomp listener message");
	char *msg = rt__xmalloc((size_t)len + 1);
	if (rt__read_full(x->go_fd, msg, len) != len) {
		free(msg);
		return rt__error_plain(err, EIO, "reading the seccomp listener message");
	}
	msg[len] = '\0';
	int sock = rt__seccomp_connect(x->cfg->seccomp, err);
	if (sock < 0) {
		free(msg);
		return -1;
	}
	rt__seccomp_set_listener(sock, msg);
	return 0;
}

__attribute__((noreturn)) static void child(const exec_ctx_t *x)
{
	const rt_config_t *cfg = x->cfg;
	rt_error_t err = {0};
	rt__reset_signals();
	syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
	char c;
	if (rt__read_full(x->go_fd, &c, 1) != 1 || c != 'G')
		_exit(127); /* the caller gave up; it reports why */
	if (x->notify && notify_connect(x, &err) < 0)
		child_fail(x, &err);
	if (rt__setup_stdio(x->stdio, &err) < 0)
		child_fail(x, &err);
	/* Before the namespaces: in the container's user namespace (new or
	 * joined) the process may no longer set its own oom_score_adj, nor
	 * see the host's /proc once in its mount namespace. */
	if (cfg->has_oom_score_adj &&
	    rt__write_filef("/proc/self/oom_score_adj", &err, "%d", cfg->oom_score_adj) < 0) {
		rt_error_wrap(&err, "process.oomScoreAdj");
		child_fail(x, &err);
	}
	for (size_t i = 0; i < NNS; i++)
		if (x->ns_fds[i] >= 0 && setns(x->ns_fds[i], ns_order[i].type) < 0) {
			rt_error_set(&err, errno, "joining the container's %s namespace",
				     ns_order[i].file);
			child_fail(x, &err);
		}
	if (x->console_fd >= 0 && rt__console_setup(x->console_fd, &err) < 0)
		child_fail(x, &err);
	char exe[PATH_MAX];
	void *filter = NULL;
	if (rt__process_prepare(cfg, exe, sizeof(exe), &filter, &err) < 0 ||
	    rt__seccomp_apply(filter, &err) < 0)
		child_fail(x, &err);
	execve(exe, cfg->args, cfg->env);
	rt_error_set(&err, errno, "executing `%s`", exe);
	child_fail(x, &err);
}

/* Adds "K=V" entries to cfg->env, replacing variables of the same name. */
static void merge_env(rt_config_t *cfg, char *const *add)
{
	for (; add && *add; add++) {
		const char *eq = strchr(*add, '=');
		size_t kl = eq ? (size_t)(eq - *add) : strlen(*add);
		size_t n = rt__strv_len(cfg->env), i;
		for (i = 0; i < n; i++)
			if (strncmp(cfg->env[i], *add, kl) == 0 && cfg->env[i][kl] == '=')
				break;
		if (i < n) {
			free(cfg->env[i]);
		} else {
			cfg->env = rt__xrealloc(cfg->env, (n + 2) * sizeof(char *));
			cfg->env[n + 1] = NULL;
		}
		cfg->env[i] = rt__xstrdup(*add);
	}
}

static int build_process(rt_config_t *cfg, const rt_exec_opts_t *o, rt_error_t *err)
{
	if (o->process_json &&
	    rt__config_set_process(cfg, o->process_json, strlen(o->process_json), err) < 0)
		return rt_error_wrap(err, "process.json");
	rt__config_warn(cfg); /* the process's own: the saved config's were shown at create */
	if (o->args && o->args[0]) {
		size_t n = rt__strv_len(o->args);
		char **v = rt__xmalloc((n + 1) * sizeof(char *));
		for (size_t i = 0; i < n; i++)
			v[i] = rt__xstrdup(o->args[i]);
		rt__strv_free(cfg->args);
		cfg->args = v;
	} else if (!o->process_json) {
		return rt__error_plain(err, EINVAL, "no command given to run");
	}
	merge_env(cfg, o->env);
	if (o->cwd) {
		if (o->cwd[0] != '/')
			return rt__error_plain(err, EINVAL, "cwd `%s`: must be an absolute path",
					       o->cwd);
		free(cfg->cwd);
		cfg->cwd = rt__xstrdup(o->cwd);
	}
	if (o->has_user) {
		cfg->uid = o->uid;
		cfg->gid = o->gid;
		cfg->ngids = 0;
	}
	return 0;
}

/* Reads the child's verdict: 0 once it exec'd (EOF), -1 with its error. */
static int read_verdict(int fd, rt_error_t *err)
{
	char buf[1 + sizeof(rt_error_t)];
	size_t got = 0;
	for (;;) {
		ssize_t r = read(fd, buf + got, sizeof(buf) - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
		if (got == sizeof(buf))
			break;
	}
	if (got == 0)
		return 0;
	if (got == sizeof(buf) && buf[0] == 'E') {
		if (err) {
			memcpy(err, buf + 1, sizeof(*err));
			err->msg[sizeof(err->msg) - 1] = '\0';
		}
		return -1;
	}
	return rt__error_plain(err, EIO, "the exec'd process died before it could exec");
}

/* process.execCPUAffinity's initial (k 0) or final (k 1) CPUs for pid;
 * nothing when that list is unset. */
static int set_affinity(const rt_config_t *cfg, int k, pid_t pid, rt_error_t *err)
{
	if (!cfg->has_exec_cpus[k])
		return 0;
	cpu_set_t set;
	CPU_ZERO(&set);
	for (int cpu = 0; cpu < 1024 && cpu < CPU_SETSIZE; cpu++)
		if (cfg->exec_cpus[k][cpu / 64] & (1ULL << (cpu % 64)))
			CPU_SET(cpu, &set);
	if (sched_setaffinity(pid, sizeof(set), &set) < 0)
		return rt_error_set(err, errno,
				    "process.execCPUAffinity.%s: setting the CPU "
				    "affinity of pid %d",
				    k == 0 ? "initial" : "final", (int)pid);
	return 0;
}

/* The listener message for the exec'd process (host pid): the container's
 * state as the init's listener got it, with this process's pid. */
static int send_listener_msg(int fd, const rt_config_t *cfg, const rt__state_rec_t *rec,
			     rt_status_t status, pid_t pid, rt_error_t *err)
{
	cleanup_free char *state =
	    rt__state_json_text(rec->id, status, rec->pid, rec->bundle, rec->annotations);
	cleanup_free char *msg =
	    state ? rt__seccomp_listener_message(cfg->seccomp, state, pid) : NULL;
	if (msg == NULL)
		return rt_error_set(err, ENOMEM, "encoding the seccomp listener message");
	uint32_t len = (uint32_t)strlen(msg);
	if (rt__send_all(fd, &len, sizeof(len)) < 0 || rt__send_all(fd, msg, len) < 0)
		return rt_error_set(err, errno, "sending the seccomp listener message");
	return 0;
}

int rt_container_exec(const char *state_root, const char *id, const rt_exec_opts_t *o,
		      pid_t *pid_out, rt_error_t *err)
{
	char dir[PATH_MAX];
	rt__state_rec_t rec;
	rt_status_t status;
	if (rt__container_load(state_root, id, dir, sizeof(dir), &rec, &status, err) < 0)
		return rt_error_wrap(err, "exec in container `%s`", id);
	cleanup_json json_t *ann = rec.annotations;
	if (status != RT_STATUS_RUNNING && status != RT_STATUS_CREATED)
		return rt__error_plain(err, EINVAL, "exec in container `%s`: it is %s, not running",
				       id, rt_status_name(status));
	rt_config_t *cfg = NULL;
	if (rt__container_config(dir, rec.bundle, &cfg, err) < 0 ||
	    build_process(cfg, o, err) < 0) {
		rt_config_free(cfg);
		return rt_error_wrap(err, "exec in container `%s`", id);
	}

	int rc = -1, sync[2] = {-1, -1}, go[2] = {-1, -1}, pidns = -1, saved = -1;
	pid_t pid = -1;
	exec_ctx_t x = {
	    .cfg = cfg, .console_fd = -1, .notify = cfg->seccomp && cfg->seccomp->has_notify};
	for (size_t i = 0; i < NNS; i++)
		x.ns_fds[i] = -1;
	for (int i = 0; i < 3; i++)
		x.stdio[i] = o->stdio[i];
	for (size_t i = 0; i < NNS; i++)
		if (open_ns(rec.pid, ns_order[i].file, &x.ns_fds[i], err) < 0)
			goto out;
	if (open_ns(rec.pid, "pid", &pidns, err) < 0)
		goto out;
	if (o->console_socket &&
	    (x.console_fd = above_stdio(rt__console_connect(o->console_socket, err))) < 0)
		goto out;
	/* go is a socket: a release sent to a child killed meanwhile must not
	 * raise SIGPIPE in the caller (MSG_NOSIGNAL). */
	if (pipe2(sync, O_CLOEXEC) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, go) < 0) {
		rt_error_set(err, errno, "creating pipes");
		goto out;
	}
	for (int i = 0; i < 2; i++) {
		sync[i] = above_stdio(sync[i]);
		go[i] = above_stdio(go[i]);
	}
	x.go_fd = go[0];
	x.sync_fd = sync[1];
	if (pidns >= 0) {
		saved = open("/proc/self/ns/pid_for_children", O_RDONLY | O_CLOEXEC);
		if (saved < 0 || setns(pidns, CLONE_NEWPID) < 0) {
			rt_error_set(err, errno, "joining the pid namespace of pid %d",
				     (int)rec.pid);
			goto out;
		}
	}
	pid = (pid_t)syscall(SYS_clone, (unsigned long)SIGCHLD, NULL, NULL, NULL, 0);
	if (pid == 0)
		child(&x);
	int e = errno;
	if (saved >= 0 && setns(saved, CLONE_NEWPID) < 0 && pid > 0) {
		rt_error_set(err, errno, "returning to our own pid namespace");
		goto kill_out;
	}
	if (pid < 0) {
		rt_error_set(err, e, "forking the process");
		goto out;
	}
	close(sync[1]);
	sync[1] = -1;
	close(go[0]);
	go[0] = -1;
	/* process.execCPUAffinity: initial before the process joins the
	 * container's cgroup (a cpuset may then change it), final after. */
	if (set_affinity(cfg, 0, pid, err) < 0 ||
	    (rec.cgroup[0] && rt_cgroup_enter(rec.cgroup, pid, err) < 0) ||
	    set_affinity(cfg, 1, pid, err) < 0)
		goto kill_out;
	if (send(go[1], "G", 1, MSG_NOSIGNAL) != 1) {
		rt_error_set(err, errno, "releasing the process");
		goto kill_out;
	}
	if (x.notify && send_listener_msg(go[1], cfg, &rec, status, pid, err) < 0)
		goto kill_out;
	if (read_verdict(sync[0], err) < 0) {
		waitpid(pid, NULL, 0);
		goto out;
	}
	if (o->pid_file) {
		char tmp[PATH_MAX + 8];
		snprintf(tmp, sizeof(tmp), "%s.tmp", o->pid_file);
		FILE *f = fopen(tmp, "we");
		if (f == NULL || fprintf(f, "%d", (int)pid) < 0 || fclose(f) != 0 ||
		    rename(tmp, o->pid_file) < 0) {
			rt_error_set(err, errno, "writing pid file `%s`", o->pid_file);
			goto kill_out;
		}
	}
	*pid_out = pid;
	rc = 0;
	goto out;
kill_out:
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
out:
	if (rc < 0)
		rt_error_wrap(err, "exec in container `%s`", id);
	for (size_t i = 0; i < NNS; i++)
		if (x.ns_fds[i] >= 0)
			close(x.ns_fds[i]);
	int fds[] = {pidns, saved, sync[0], sync[1], go[0], go[1], x.console_fd};
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	rt_config_free(cfg);
	return rc;
}
