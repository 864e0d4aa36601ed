/* The container's init: runs in the child cloned by rt_container_create,
 * already in its new namespaces. Joins the cgroup and the namespaces given by
 * path, builds the filesystem and pivots into it, sets hostname, rlimits,
 * user, capabilities and no_new_privs, tells the parent it is ready, waits on
 * the exec fifo for rt_container_start, loads seccomp and execs. Errors go
 * back to the parent through the sync pipe ('E' + rt_error_t); success is a
 * single 'R'. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <seccomp.h>

#include "runtime/cgroup-internal.h"
#include "runtime/rt-internal.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static void write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

__attribute__((noreturn)) static void fail(const rt__init_args_t *a, rt_error_t *err)
{
	char buf[1 + sizeof(rt_error_t)];
	buf[0] = 'E';
	memcpy(buf + 1, err, sizeof(*err));
	write_all(a->sync_fd, buf, sizeof(buf));
	_exit(1);
}

/* After the ready message nobody reads the pipe. Once start has opened the
 * exec fifo (fifo >= 0), 'E' + the message there makes start fail with it
 * (runtime.md, Lifecycle 7); before that, say it on stderr. */
__attribute__((noreturn)) static void fail_late(int fifo, rt_error_t *err)
{
	char buf[sizeof(err->msg) + 16];
	int n = fifo >= 0 ? snprintf(buf, sizeof(buf), "E%s", err->msg)
			  : snprintf(buf, sizeof(buf), "ocirun: %s\n", err->msg);
	if (n > 0)
		write_all(fifo >= 0 ? fifo : 2, buf,
			  (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
	_exit(127);
}

int rt__setup_stdio(const int stdio[3], rt_error_t *err)
{
	int tmp[3];
	for (int i = 0; i < 3; i++) {
		int src = stdio[i];
		if (src < 0)
			tmp[i] = open("/dev/null", O_RDWR | O_CLOEXEC);
		else
			tmp[i] = fcntl(src, F_DUPFD_CLOEXEC, 3);
		if (tmp[i] < 0)
			return rt_error_set(err, errno, "setting up stdio fd %d", i);
	}
	for (int i = 0; i < 3; i++) {
		if (dup2(tmp[i], i) < 0)
			return rt_error_set(err, errno, "setting up stdio fd %d", i);
		close(tmp[i]);
	}
	return 0;
}

static int write_sysctls(const rt_config_t *cfg, rt_error_t *err)
{
	for (size_t i = 0; cfg->sysctl_keys && cfg->sysctl_keys[i]; i++) {
		char path[PATH_MAX] = "/proc/sys/";
		size_t l = strlen(path);
		for (const char *k = cfg->sysctl_keys[i]; *k && l + 1 < sizeof(path); k++)
			path[l++] = *k == '.' ? '/' : *k;
		path[l] = '\0';
		if (rt__write_file(path, cfg->sysctl_values[i], err) < 0)
			return rt_error_wrap(err, "linux.sysctl `%s`", cfg->sysctl_keys[i]);
	}
	return 0;
}

static const char *env_get(char *const *env, const char *key)
{
	size_t kl = strlen(key);
	for (; env && *env; env++)
		if (strncmp(*env, key, kl) == 0 && (*env)[kl] == '=')
			return *env + kl + 1;
	return NULL;
}

/* Finds args[0] in the container's PATH (from process.env) like execvp. */
static int find_exec(const rt_config_t *cfg, char *out, size_t n, rt_error_t *err)
{
	const char *file = cfg->args[0];
	struct stat st;
	if (strchr(file, '/')) {
		if (stat(file, &st) < 0)
			return rt_error_set(err, errno, "executable `%s`", file);
		snprintf(out, n, "%s", file);
		return 0;
	}
	const char *path = env_get(cfg->env, "PATH");
	if (path == NULL)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	while (*path) {
		const char *e = strchrnul(path, ':');
		int len = (int)(e - path);
		if ((size_t)snprintf(out, n, "%.*s/%s", len, len ? path : ".", file) < n &&
		    stat(out, &st) == 0 && S_ISREG(st.st_mode) && access(out, X_OK) == 0)
			return 0;
		path = *e ? e + 1 : e;
	}
	return rt__error_plain(err, ENOENT, "executable file `%s` not found in $PATH", file);
}

static int set_user(const rt_config_t *cfg, rt_error_t *err)
{
	if (cfg->has_caps && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return rt_error_set(err, errno, "keeping capabilities across the user switch");
	if (setgroups(cfg->ngids, cfg->additional_gids) < 0)
		return rt_error_set(err, errno, "setting additional groups");
	if (setresgid(cfg->gid, cfg->gid, cfg->gid) < 0)
		return rt_error_set(err, errno, "setting gid %u", (unsigned)cfg->gid);
	if (setresuid(cfg->uid, cfg->uid, cfg->uid) < 0)
		return rt_error_set(err, errno, "setting uid %u", (unsigned)cfg->uid);
	if (cfg->has_caps && prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return rt_error_set(err, errno, "clearing keep-capabilities");
	return 0;
}

/* exec resets caught signals by itself; what survives it is the mask and
 * ignored signals. Callers ignore a few (SIGPIPE, SIGCHLD, job control...):
 * reset those rather than all 64, which would cost a syscall each. */
void rt__reset_signals(void)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	static const int sigs[] = {SIGPIPE, SIGCHLD,  SIGHUP,  SIGINT,	SIGQUIT, SIGTERM,
				   SIGUSR1, SIGUSR2,  SIGALRM, SIGTSTP, SIGTTIN, SIGTTOU,
				   SIGURG,  SIGWINCH, SIGXFSZ, SIGXCPU, SIGIO};
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}

/* process.env without HOME: as runc and crun, HOME is the home directory of
 * the process's uid in the container's /etc/passwd, or "/" without an
 * entry. Runs in the container's (forked) process, whose copy of cfg is its
 * own: env gets the variable appended. */
static void add_home(const rt_config_t *cfg)
{
	if (env_get(cfg->env, "HOME"))
		return;
	char *home = NULL;
	FILE *f = fopen("/etc/passwd", "re");
	if (f) {
		struct passwd *pw;
		while ((pw = fgetpwent(f)) != NULL)
			if (pw->pw_uid == cfg->uid) {
				if (pw->pw_dir && pw->pw_dir[0])
					home = rt__xstrdup(pw->pw_dir);
				break;
			}
		fclose(f);
	}
	size_t n = rt__strv_len(cfg->env);
	char **env = rt__xrealloc(cfg->env, (n + 2) * sizeof(char *));
	env[n] = rt__xmalloc(strlen(home ? home : "/") + 6);
	sprintf(env[n], "HOME=%s", home ? home : "/");
	env[n + 1] = NULL;
	free(home);
	((rt_config_t *)cfg)->env = env;
}

int rt__process_prepare(const rt_config_t *cfg, char *exe, size_t n, void **filter, rt_error_t *err)
{
	*filter = NULL;
	add_home(cfg);
	for (size_t i = 0; i < cfg->nrlimits; i++) {
		struct rlimit rl = {cfg->rlimits[i].soft, cfg->rlimits[i].hard};
		if (setrlimit(cfg->rlimits[i].resource, &rl) < 0)
			return rt_error_set(err, errno, "process.rlimits[%zu]", i);
	}
	if (chdir(cfg->cwd) < 0)
		return rt_error_set(err, errno, "entering process.cwd `%s`", cfg->cwd);
	if (find_exec(cfg, exe, n, err) < 0)
		return -1;
	/* Before seccomp (whose profile may deny these calls) and before the
	 * capabilities they may need (CAP_SYS_NICE, CAP_SYS_ADMIN) go. */
	if ((cfg->has_ioprio || cfg->has_sched || cfg->has_personality || cfg->has_mempolicy ||
	     cfg->has_console_size || cfg->apparmor_profile || cfg->selinux_label) &&
	    rt__process_linux_apply(cfg, err) < 0)
		return -1;
	void *f = NULL;
	if (rt__seccomp_prepare(cfg->seccomp, &f, err) < 0)
		return -1;
	/* Without no_new_privs loading a filter needs CAP_SYS_ADMIN: load it
	 * while still held. With it, load last, right before exec. */
	if (!cfg->no_new_privs && f) {
		if (rt__seccomp_apply(f, err) < 0)
			return -1;
		f = NULL;
	}
	if (rt__caps_drop_bounding(cfg, err) < 0 || set_user(cfg, err) < 0 ||
	    rt__caps_apply(cfg, err) < 0)
		goto fail;
	if (cfg->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		rt_error_set(err, errno, "setting no_new_privs");
		goto fail;
	}
	umask(cfg->has_umask ? cfg->umask : 022);
	*filter = f;
	return 0;
fail:
	if (f)
		seccomp_release(f);
	return -1;
}

/* The parent makes the cgroup while we set up; 'C' on the sync socket says
 * it exists (and that we were moved into it, when we do not move
 * ourselves). Called wherever the cgroup is first needed; once. */
typedef struct cgroup_state {
	const rt__init_args_t *a;
	bool ready;
	int *mount_fds; /* with a->idmap_fds: one per mount, -1 where none */
} cgroup_state_t;

/* 'C' with the idmapped mounts' trees (a->idmap_fds): one fd per idmapped
 * mount, in config order, into cg->mount_fds. */
static int recv_mount_fds(cgroup_state_t *cg, rt_error_t *err)
{
	const rt_config_t *cfg = cg->a->cfg;
	size_t want = 0;
	for (size_t i = 0; i < cfg->nmounts; i++)
		want += rt__mount_is_idmapped(&cfg->mounts[i]);
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * RT_MAX_IDMAP_FDS)];
	} u;
	char c = 0;
	struct iovec iov = {.iov_base = &c, .iov_len = 1};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = u.buf,
			     .msg_controllen = CMSG_SPACE(sizeof(int) * want)};
	ssize_t r;
	do
		r = recvmsg(cg->a->sync_fd, &msg, MSG_CMSG_CLOEXEC);
	while (r < 0 && errno == EINTR);
	if (r != 1 || c != 'C')
		return rt_error_set(err, EIO, "waiting for the cgroup");
	struct cmsghdr *h = CMSG_FIRSTHDR(&msg);
	size_t got = 0;
	if (h && h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS)
		got = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
	int fds[RT_MAX_IDMAP_FDS];
	if (got)
		memcpy(fds, CMSG_DATA(h), got * sizeof(int));
	if (got != want || (msg.msg_flags & MSG_CTRUNC)) {
		for (size_t k = 0; k < got; k++)
			close(fds[k]);
		return rt_error_set(err, EIO, "receiving the idmapped mounts: %zu of %zu", got,
				    want);
	}
	cg->mount_fds = rt__xmalloc(cfg->nmounts * sizeof(int) + 1);
	for (size_t i = 0, k = 0; i < cfg->nmounts; i++)
		cg->mount_fds[i] = rt__mount_is_idmapped(&cfg->mounts[i]) ? fds[k++] : -1;
	return 0;
}

static int cgroup_ready(void *ctx, rt_error_t *err)
{
	cgroup_state_t *cg = ctx;
	if (cg->ready)
		return 0;
	if (cg->a->idmap_fds) {
		if (recv_mount_fds(cg, err) < 0)
			return -1;
	} else {
		char c = 0;
		ssize_t r;
		do
			r = read(cg->a->sync_fd, &c, 1);
		while (r < 0 && errno == EINTR);
		if (r != 1 || c != 'C')
			return rt_error_set(err, EIO, "waiting for the cgroup");
	}
	cg->ready = true;
	/* v1: a cheap self-move ("0" into tasks skips the global lock). */
	if (cg->a->enter_self && rt__cgroup_enter_self(cg->a->cgroup, err) < 0)
		return -1;
	return 0;
}

/* Asks the runtime to run its hooks; returns the state it sends back (new
 * string), or NULL with err set. */
static char *hook_handshake(const rt__init_args_t *a, rt_error_t *err)
{
	write_all(a->sync_fd, "H", 1);
	char c = 0;
	uint32_t len = 0;
	if (read(a->sync_fd, &c, 1) != 1 || c != 'G' ||
	    read(a->sync_fd, &len, sizeof(len)) != sizeof(len) || len > (1U << 24)) {
		rt_error_set(err, EIO, "waiting for the runtime's hooks");
		return NULL;
	}
	char *s = rt__xmalloc(len + 1);
	size_t got = 0;
	while (got < len) {
		ssize_t r = read(a->sync_fd, s + got, len - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			free(s);
			rt_error_set(err, EIO, "reading the state from the runtime");
			return NULL;
		}
		got += (size_t)r;
	}
	s[len] = '\0';
	return s;
}

/* Rewrites the state JSON *state for the hooks run in the container:
 * "pid" becomes our pid as the container sees it, "status" status (when
 * not NULL). */
static void state_set(char **state, const char *status)
{
	json_t *j = json_loads(*state, 0, NULL);
	char *s = NULL;
	if (j && json_object_set_new(j, "pid", json_integer(getpid())) == 0 &&
	    (status == NULL || json_object_set_new(j, "status", json_string(status)) == 0))
		s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (s) {
		free(*state);
		*state = s;
	}
}

/* process.terminal: /dev/console is the pty slave, bind mounted
 * (config-linux.md, Default Devices). The mount point is made when missing,
 * before a read-only root is remounted (console_mount_point). */
static int console_mount_point(rt_error_t *err)
{
	struct stat st;
	if (lstat("/dev/console", &st) == 0)
		return 0;
	int fd = errno == ENOENT
		     ? open("/dev/console", O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600)
		     : -1;
	if (fd < 0)
		return rt_error_set(err, errno, "process.terminal: creating `/dev/console`");
	close(fd);
	return 0;
}

/* Binds the pty slave (fd 0, after rt__console_setup) on /dev/console. */
static int bind_console(rt_error_t *err)
{
	cleanup_close int tree =
	    open_tree(0, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
	if (tree < 0)
		return rt_error_set(err, errno, "process.terminal: cloning the pty's mount");
	if (move_mount(tree, "", AT_FDCWD, "/dev/console", MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return rt_error_set(err, errno,
				    "process.terminal: bind mounting the pty on `/dev/console`");
	return 0;
}

void rt__container_init(const rt__init_args_t *a)
{
	const rt_config_t *cfg = a->cfg;
	rt_error_t err = {0};
	rt__reset_signals();
	/* Nothing of the caller's leaks into the container's process. */
	syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
	umask(0);
	cgroup_state_t cg = {.a = a};
	if (a->userns) {
		/* Nothing works before the parent has written our id maps; then
		 * become the namespace's root (full capabilities in it). */
		if (cgroup_ready(&cg, &err) < 0)
			fail(a, &err);
		if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) {
			rt_error_set(&err, errno,
				     "becoming root of the user namespace (is container id 0 "
				     "mapped?)");
			fail(a, &err);
		}
	}
	if (rt__setup_stdio(a->stdio, &err) < 0)
		fail(a, &err);
	if ((cfg->apparmor_profile || cfg->selinux_label || cfg->mount_label) &&
	    rt__process_linux_check(cfg, &err) < 0)
		fail(a, &err);
	for (int i = 0; i < 8 && a->ns_fds[i] >= 0; i++)
		if (setns(a->ns_fds[i], a->ns_types[i]) < 0) {
			rt_error_set(&err, errno, "joining namespace %d", i);
			fail(a, &err);
		}
	/* A new cgroup namespace is rooted at the cgroup we are in: wait to be
	 * in ours. Otherwise the wait comes as late as possible (below). */
	const rt_namespace_t *cgns = rt__config_ns(cfg, CLONE_NEWCGROUP);
	if (cgns && cgns->path == NULL && cgroup_ready(&cg, &err) < 0)
		fail(a, &err);
	if (cgns && cgns->path == NULL && unshare(CLONE_NEWCGROUP) < 0) {
		rt_error_set(&err, errno, "creating a cgroup namespace");
		fail(a, &err);
	}
	/* A new time namespace is for our children and, since exec counts as
	 * entering it, for the process we exec; its offsets are written before
	 * anything is in it. */
	const rt_namespace_t *timens = rt__config_ns(cfg, RT_CLONE_NEWTIME);
	if (timens && timens->path == NULL) {
		if (unshare(RT_CLONE_NEWTIME) < 0) {
			rt_error_set(&err, errno, "creating a time namespace");
			fail(a, &err);
		}
		if (cfg->has_time_offsets &&
		    rt__write_filef(
			"/proc/self/timens_offsets", &err,
			"monotonic %lld %lld\nboottime %lld %lld\n",
			(long long)cfg->time_offsets[0][0], (long long)cfg->time_offsets[0][1],
			(long long)cfg->time_offsets[1][0], (long long)cfg->time_offsets[1][1]) < 0)
			fail(a, &err);
	}
	if (write_sysctls(cfg, &err) < 0)
		fail(a, &err);
	/* In a new user namespace lowering it needs the host's CAP_SYS_RESOURCE:
	 * the runtime writes /proc/<pid>/oom_score_adj from the host instead. */
	if (cfg->has_oom_score_adj && !a->userns &&
	    rt__write_filef("/proc/self/oom_score_adj", &err, "%d", cfg->oom_score_adj) < 0)
		fail(a, &err);
	if (rt__mount_rootfs(cfg, a->rootfs, a->cgroup, cgroup_ready, &cg, cg.mount_fds, &err) <
		0 ||
	    cgroup_ready(&cg, &err) < 0)
		fail(a, &err);
	if (cg.mount_fds) {
		for (size_t i = 0; i < cfg->nmounts; i++)
			if (cg.mount_fds[i] >= 0)
				close(cg.mount_fds[i]);
		free(cg.mount_fds);
	}
	/* Hooks: the runtime runs prestart and createRuntime now (our
	 * namespaces exist, pivot_root has not happened) and sends the state;
	 * createContainer runs here, still seeing the runtime's paths. */
	char *state = NULL;
	const unsigned early = (1U << RT_HOOK_PRESTART) | (1U << RT_HOOK_CREATE_RUNTIME) |
			       (1U << RT_HOOK_CREATE_CONTAINER) | (1U << RT_HOOK_START_CONTAINER);
	/* SCMP_ACT_NOTIFY: the listener gets the state with the notify fd, so
	 * the state is asked for too; its socket is reached by the host's path,
	 * before pivot_root, and used once the filter is loaded. */
	const bool notify = cfg->seccomp && cfg->seccomp->has_notify;
	if ((rt__hooks_mask(cfg) & early) || notify) {
		state = hook_handshake(a, &err);
		if (state == NULL)
			fail(a, &err);
	}
	if (notify) {
		json_t *sj = json_loads(state, 0, NULL);
		pid_t host_pid = (pid_t)json_integer_value(json_object_get(sj, "pid"));
		json_decref(sj);
		char *msg = rt__seccomp_listener_message(cfg->seccomp, state, host_pid);
		int sock = msg ? rt__seccomp_connect(cfg->seccomp, &err) : -1;
		if (msg == NULL)
			rt__error_plain(&err, EINVAL,
					"encoding the state for the seccomp listener");
		if (sock < 0) {
			free(msg);
			fail(a, &err);
		}
		rt__seccomp_set_listener(sock, msg);
	}
	/* runtime.md, State: the hooks run in the container namespace
	 * (createContainer, startContainer) get the pid as the container sees
	 * it; the listener above got the runtime's view. */
	if (state &&
	    (cfg->nhooks[RT_HOOK_CREATE_CONTAINER] || cfg->nhooks[RT_HOOK_START_CONTAINER]))
		state_set(&state, NULL);
	if (state && rt__hooks_run(cfg, RT_HOOK_CREATE_CONTAINER, state, &err) < 0)
		fail(a, &err);
	if (rt__pivot_root(a->rootfs, &err) < 0 ||
	    (a->console_fd >= 0 && console_mount_point(&err) < 0) ||
	    rt__mount_finish(cfg, &err) < 0)
		fail(a, &err);
	if (a->console_fd >= 0) {
		if (rt__console_setup(a->console_fd, &err) < 0 || bind_console(&err) < 0)
			fail(a, &err);
		close(a->console_fd);
	}
	const rt_namespace_t *uts = rt__config_ns(cfg, CLONE_NEWUTS);
	if (cfg->hostname && uts && uts->path == NULL &&
	    sethostname(cfg->hostname, strlen(cfg->hostname)) < 0) {
		rt_error_set(&err, errno, "setting hostname `%s`", cfg->hostname);
		fail(a, &err);
	}
	if (cfg->domainname && uts && uts->path == NULL &&
	    setdomainname(cfg->domainname, strlen(cfg->domainname)) < 0) {
		rt_error_set(&err, errno, "setting domainname `%s`", cfg->domainname);
		fail(a, &err);
	}
	if (rt__mkdir_p(cfg->cwd, 0755, &err) < 0)
		fail(a, &err);
	void *filter = NULL;
	char exe[PATH_MAX];
	if (rt__process_prepare(cfg, exe, sizeof(exe), &filter, &err) < 0)
		fail(a, &err);

	write_all(a->sync_fd, "R", 1);
	close(a->sync_fd);
	/* Blocks until rt_container_start opens the other end. */
	int fifo;
	do
		fifo = openat(a->state_dirfd, "exec.fifo", O_WRONLY | O_CLOEXEC);
	while (fifo < 0 && errno == EINTR);
	if (fifo < 0) {
		rt_error_set(&err, errno, "opening the exec fifo");
		fail_late(-1, &err);
	}
	write_all(fifo, "0", 1);
	/* fifo stays open (close-on-exec): its end tells start we exec'd. */
	close(a->state_dirfd);
	/* By now the container is created (start was called). */
	if (state && cfg->nhooks[RT_HOOK_START_CONTAINER])
		state_set(&state, "created");
	if (state && rt__hooks_run(cfg, RT_HOOK_START_CONTAINER, state, &err) < 0)
		fail_late(fifo, &err);
	if (rt__seccomp_apply(filter, &err) < 0)
		fail_late(fifo, &err);
	execve(exe, cfg->args, cfg->env);
	rt_error_set(&err, errno, "executing `%s`", exe);
	fail_late(fifo, &err);
}
