/* Containers from an OCI bundle: create (clone the init into its namespaces,
 * cgroup with limits before it execs, state on disk). start, kill and delete
 * are in container-ops.c; the init's side is container-init.c. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <poll.h>
#include <time.h>

#include "runtime/cgroup-internal.h"
#include "runtime/rt-internal.h"

#define DEFAULT_STATE_ROOT "/run/ocirun"

const char *rt_status_name(rt_status_t s)
{
	switch (s) {
	case RT_STATUS_CREATING:
		return "creating";
	case RT_STATUS_CREATED:
		return "created";
	case RT_STATUS_RUNNING:
		return "running";
	case RT_STATUS_STOPPED:
		return "stopped";
	case RT_STATUS_PAUSED:
		return "paused";
	}
	return "unknown";
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Moves fd above the stdio range so the init's dup2 onto 0-2 cannot clobber it. */
static int fd_above_stdio(int fd)
{
	if (fd < 0 || fd > 2)
		return fd;
	int n = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	close(fd);
	return n;
}

/* ---- what create keeps in the state directory --------------------------
 * config.json: a copy of the bundle's, taken at create, so that later
 * changes to the bundle do not affect the container (runtime.md, Lifecycle
 * step 2): start, delete (hooks) and exec read it. cgroup.shared: present
 * when the cgroup existed before create, which then must not delete it. */

/* Copies bundle/config.json to dir/config.json. */
static int save_config(const char *dir, const char *bundle, rt_error_t *err)
{
	char src[PATH_MAX + 16], dst[PATH_MAX + 16];
	snprintf(src, sizeof(src), "%s/config.json", bundle);
	snprintf(dst, sizeof(dst), "%s/config.json", dir);
	size_t len;
	cleanup_free char *text = rt__read_file(src, &len, err);
	if (text == NULL)
		return -1;
	cleanup_close int fd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return rt_error_set(err, errno, "creating `%s`", dst);
	for (size_t off = 0; off < len;) {
		ssize_t w = write(fd, text + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return rt_error_set(err, errno ? errno : EIO, "writing `%s`", dst);
		off += (size_t)w;
	}
	return 0;
}

static int set_flag(const char *dir, const char *name, rt_error_t *err)
{
	char path[PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return rt_error_set(err, errno, "creating `%s`", path);
	close(fd);
	return 0;
}

/* Whether the cgroup at path exists (in the hierarchy that lists its
 * processes: hier[0] on v1, the tree itself on v2). */
static bool cgroup_exists(const char *path)
{
	const rt__cgroup_driver_t *d;
	rt_error_t e;
	char clean[1024], dir[2048];
	if (rt__cgroup_driver(&d, &e) < 0 ||
	    rt__cgroup_clean_path(path, clean, sizeof(clean), &e) < 0)
		return false;
	if (strcmp(d->ops->name, "v1") == 0)
		snprintf(dir, sizeof(dir), "%s/%s/%s", d->root, d->hier[0], clean);
	else
		snprintf(dir, sizeof(dir), "%s/%s", d->root, clean);
	struct stat st;
	return stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
}

/* ociVersion (config.md): SemVer 2.0.0; this runtime takes major version 1. */
static int check_oci_version(const char *v, rt_error_t *err)
{
	const char *p = v;
	unsigned long part[3];
	for (int i = 0; i < 3; i++) {
		if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] >= '0' && p[1] <= '9'))
			goto bad;
		char *end;
		part[i] = strtoul(p, &end, 10);
		p = end;
		if (i < 2 && *p++ != '.')
			goto bad;
	}
	/* pre-release and build metadata: dot-separated [0-9A-Za-z-] */
	if (*p == '-' || *p == '+') {
		for (const char *q = p; *q; q++) {
			bool ok = (*q >= '0' && *q <= '9') || (*q >= 'a' && *q <= 'z') ||
				  (*q >= 'A' && *q <= 'Z') || *q == '-' || *q == '.' || *q == '+';
			bool empty = *q == '.' && (q[1] == '.' || q[1] == '\0' || q[1] == '+' ||
						   q[-1] == '-' || q[-1] == '+');
			if (!ok || empty)
				goto bad;
		}
		if (p[1] == '\0')
			goto bad;
	} else if (*p != '\0') {
		goto bad;
	}
	if (part[0] != 1)
		return rt__error_plain(
		    err, EINVAL, "ociVersion: `%s` not supported (this runtime takes 1.x)", v);
	return 0;
bad:
	return rt__error_plain(err, EINVAL, "ociVersion: `%s` is not a SemVer 2.0.0 version", v);
}

static int check_config(const rt_config_t *cfg, const rt_create_opts_t *opts, rt_error_t *err)
{
	if (check_oci_version(cfg->oci_version, err) < 0)
		return -1;
	bool sock = opts && opts->console_socket;
	if (cfg->terminal && !sock)
		return rt__error_plain(err, EINVAL,
				       "process.terminal: needs --console-socket to hand the "
				       "terminal to");
	if (sock && !cfg->terminal)
		return rt__error_plain(err, EINVAL,
				       "--console-socket: given but process.terminal is false");
	const rt_namespace_t *mnt = rt__config_ns(cfg, CLONE_NEWNS);
	if (mnt == NULL || mnt->path != NULL)
		return rt__error_plain(err, EINVAL,
				       "linux.namespaces: a new mount namespace is required");
	const rt_namespace_t *user = rt__config_ns(cfg, CLONE_NEWUSER);
	if (user && user->path && (cfg->nuid_maps || cfg->ngid_maps))
		return rt__error_plain(err, EINVAL,
				       "linux.uidMappings: given with a user namespace joined by "
				       "path (its mappings are set already)");
	if (user && !user->path && (cfg->nuid_maps == 0 || cfg->ngid_maps == 0))
		return rt__error_plain(err, EINVAL,
				       "linux.uidMappings, linux.gidMappings: required with a new "
				       "user namespace");
	if (!user && (cfg->nuid_maps || cfg->ngid_maps))
		return rt__error_plain(err, EINVAL,
				       "linux.uidMappings: given without a user namespace");
	const rt_namespace_t *timens = rt__config_ns(cfg, RT_CLONE_NEWTIME);
	if (cfg->has_time_offsets && (timens == NULL || timens->path))
		return rt__error_plain(err, EINVAL,
				       "linux.timeOffsets: needs a new time namespace");
	if (cfg->hostname && cfg->hostname[0] && rt__config_ns(cfg, CLONE_NEWUTS) == NULL)
		return rt__error_plain(err, EINVAL, "hostname: set without a uts namespace");
	if (cfg->domainname && cfg->domainname[0] && rt__config_ns(cfg, CLONE_NEWUTS) == NULL)
		return rt__error_plain(err, EINVAL, "domainname: set without a uts namespace");
	return 0;
}

/* The init asks ('H') before pivot_root when the config has hooks: runs
 * prestart and createRuntime here, in the runtime's namespaces, and sends the
 * state ('G', length, JSON) for the hooks the init runs itself. */
static int answer_hooks(int fd, const rt_config_t *cfg, const char *id, const char *bundle,
			pid_t pid, rt_error_t *err)
{
	cleanup_free char *state =
	    rt__state_json_text(id, RT_STATUS_CREATING, pid, bundle, cfg->annotations);
	if (state == NULL)
		return rt_error_set(err, ENOMEM, "encoding the state for the hooks");
	if (rt__hooks_run(cfg, RT_HOOK_PRESTART, state, err) < 0 ||
	    rt__hooks_run(cfg, RT_HOOK_CREATE_RUNTIME, state, err) < 0)
		return -1;
	uint32_t len = (uint32_t)strlen(state);
	if (rt__send_all(fd, "G", 1) < 0 || rt__send_all(fd, &len, sizeof(len)) < 0 ||
	    rt__send_all(fd, state, len) < 0)
		return rt_error_set(err, errno, "sending the state to the container init");
	return 0;
}

/* Reads the init's answer: 0 when ready, -1 with its error otherwise. */
static int read_sync(int fd, pid_t pid, const rt_config_t *cfg, const char *id, const char *bundle,
		     bool *hooked, rt_error_t *err)
{
	char c;
	while (rt__read_full(fd, &c, 1) == 1) {
		if (c == 'R')
			return 0;
		if (c == 'H') {
			*hooked = true;
			if (answer_hooks(fd, cfg, id, bundle, pid, err) < 0)
				return -1;
			continue;
		}
		if (c == 'E') {
			rt_error_t e;
			if (rt__read_full(fd, &e, sizeof(e)) != sizeof(e))
				break;
			if (err) {
				*err = e;
				err->msg[sizeof(err->msg) - 1] = '\0';
			}
			return -1;
		}
		break;
	}
	int status = 0;
	if (waitpid(pid, &status, 0) == pid && WIFSIGNALED(status))
		return rt__error_plain(err, EIO, "container init was killed by signal %d",
				       WTERMSIG(status));
	return rt__error_plain(err, EIO, "container init exited before it was ready");
}

/* Writes /proc/pid/{uid,gid}_map (one write each, as the kernel wants). */
static int write_idmaps(pid_t pid, const rt_config_t *cfg, rt_error_t *err)
{
	for (int g = 0; g < 2; g++) {
		const rt__idmap_t *m = g ? cfg->gid_maps : cfg->uid_maps;
		size_t n = g ? cfg->ngid_maps : cfg->nuid_maps;
		char buf[4096], path[64];
		size_t l = 0;
		for (size_t i = 0; i < n && l < sizeof(buf); i++)
			l += (size_t)snprintf(buf + l, sizeof(buf) - l, "%u %u %u\n",
					      m[i].container, m[i].host, m[i].size);
		if (l >= sizeof(buf))
			return rt__error_plain(err, E2BIG, "linux.%s: too many mappings",
					       g ? "gidMappings" : "uidMappings");
		snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, g ? "gid_map" : "uid_map");
		if (rt__write_file(path, buf, err) < 0)
			return rt_error_wrap(err, "linux.%s", g ? "gidMappings" : "uidMappings");
	}
	return 0;
}

/* The host id container id 0 maps to (the init's uid once mapped); the
 * host's own id when nothing maps 0. */
static uint32_t host_root(const rt__idmap_t *m, size_t n, uint32_t dflt)
{
	for (size_t i = 0; i < n; i++)
		if (m[i].container == 0)
			return m[i].host;
	return dflt;
}

/* Idmapped mounts of a container with a user namespace, made here with the
 * initial user namespace's privileges (inside its own, the init could not
 * idmap a host file system), after the id maps are written (a mount taking
 * the container's mappings needs them), as runc and crun do. One detached
 * tree per idmapped mount, in config order, into fds (*n of them). */
static int make_idmap_trees(const rt_config_t *cfg, pid_t pid, int *fds, size_t *n, rt_error_t *err)
{
	for (size_t i = 0; i < cfg->nmounts; i++) {
		if (!rt__mount_is_idmapped(&cfg->mounts[i]))
			continue;
		int fd = rt__idmap_tree(&cfg->mounts[i], i, pid, err);
		if (fd < 0)
			return -1;
		fds[(*n)++] = fd;
	}
	return 0;
}

/* 'C' to the init, with the idmapped trees when there are any. A failed
 * send is not checked: an init that failed has closed its end, and its
 * error is read next. */
static void send_ready(int sock, const int *fds, size_t n)
{
	if (n == 0) {
		(void)rt__send_all(sock, "C", 1);
		return;
	}
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * RT_MAX_IDMAP_FDS)];
	} u;
	memset(&u, 0, sizeof(u));
	struct iovec iov = {.iov_base = "C", .iov_len = 1};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = u.buf,
			     .msg_controllen = CMSG_SPACE(sizeof(int) * n)};
	struct cmsghdr *h = CMSG_FIRSTHDR(&msg);
	h->cmsg_level = SOL_SOCKET;
	h->cmsg_type = SCM_RIGHTS;
	h->cmsg_len = CMSG_LEN(sizeof(int) * n);
	memcpy(CMSG_DATA(h), fds, sizeof(int) * n);
	ssize_t r;
	do
		r = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
}

static pid_t clone_init(int flags, const rt_namespace_t *pidns, rt_error_t *err)
{
	int saved = -1;
	if (pidns && pidns->path) {
		/* A joined pid namespace applies to the children of the caller:
		 * switch pid_for_children around the clone and back. */
		saved = open("/proc/self/ns/pid_for_children", O_RDONLY | O_CLOEXEC);
		int fd = open(pidns->path, O_RDONLY | O_CLOEXEC);
		if (saved < 0 || fd < 0 || setns(fd, CLONE_NEWPID) < 0) {
			int e = errno;
			if (fd >= 0)
				close(fd);
			if (saved >= 0)
				close(saved);
			return rt_error_set(err, e, "joining pid namespace `%s`", pidns->path);
		}
		close(fd);
	}
	pid_t pid = (pid_t)syscall(SYS_clone, (unsigned long)flags | SIGCHLD, NULL, NULL, NULL, 0);
	int e = errno;
	if (saved >= 0) {
		if (pid != 0 && setns(saved, CLONE_NEWPID) < 0)
			e = errno, pid = pid > 0 ? pid : -1;
		close(saved);
	}
	if (pid < 0)
		return rt_error_set(err, e, "cloning the container init");
	return pid;
}

/* What the helper of clone_via_helper reports: the init's pid, or why not. */
typedef struct helper_msg {
	pid_t pid;
	int errnum;
	char msg[sizeof(((rt_error_t *)0)->msg)];
} helper_msg_t;

/* With a user namespace joined by path, or a new one beside namespaces
 * joined by path, the namespaces must be entered in order, as runc's nsexec
 * does: the user namespace joined first (so the new namespaces belong to
 * it), the others joined by path before a new user namespace is made (the
 * host's root may join them, the new namespace's may not). The runtime may
 * be multithreaded, and setns into a user namespace needs a single thread:
 * a forked helper joins them all, clones the init with CLONE_PARENT (so it
 * is the runtime's child) and reports its pid. *a gets its ns_fds cleared
 * (the init inherits them joined). */
static pid_t clone_via_helper(int flags, const rt_config_t *cfg, rt__init_args_t *a,
			      const int *keep_close, size_t nkeep, rt_error_t *err)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return rt_error_set(err, errno, "creating the helper pipe");
	pid_t helper = fork();
	if (helper < 0) {
		int e = errno;
		close(p[0]);
		close(p[1]);
		return rt_error_set(err, e, "forking the namespace helper");
	}
	if (helper == 0) {
		close(p[0]);
		helper_msg_t m = {.pid = -1};
		rt_error_t e = {0};
		const rt_namespace_t *user = rt__config_ns(cfg, CLONE_NEWUSER);
		const rt_namespace_t *pidns = rt__config_ns(cfg, CLONE_NEWPID);
		int ufd = -1, pfd = -1;
		if (user && user->path &&
		    ((ufd = open(user->path, O_RDONLY | O_CLOEXEC)) < 0 ||
		     setns(ufd, CLONE_NEWUSER) < 0)) {
			rt_error_set(&e, errno, "joining user namespace `%s`", user->path);
			goto report;
		}
		for (int i = 0; i < 8 && a->ns_fds[i] >= 0; i++)
			if (setns(a->ns_fds[i], a->ns_types[i]) < 0) {
				const rt_namespace_t *ns = rt__config_ns(cfg, a->ns_types[i]);
				rt_error_set(&e, errno, "joining namespace `%s`",
					     ns && ns->path ? ns->path : "?");
				goto report;
			}
		if (pidns && pidns->path &&
		    ((pfd = open(pidns->path, O_RDONLY | O_CLOEXEC)) < 0 ||
		     setns(pfd, CLONE_NEWPID) < 0)) {
			rt_error_set(&e, errno, "joining pid namespace `%s`", pidns->path);
			goto report;
		}
		for (int i = 0; i < 8; i++)
			a->ns_fds[i] = -1;
		m.pid = (pid_t)syscall(SYS_clone, (unsigned long)flags | CLONE_PARENT | SIGCHLD,
				       NULL, NULL, NULL, 0);
		if (m.pid == 0) {
			close(p[1]);
			for (size_t i = 0; i < nkeep; i++)
				if (keep_close[i] >= 0)
					close(keep_close[i]);
			rt__container_init(a);
		}
		if (m.pid < 0)
			rt_error_set(&e, errno, "cloning the container init");
	report:
		m.errnum = e.errnum;
		memcpy(m.msg, e.msg, sizeof(m.msg));
		(void)!write(p[1], &m, sizeof(m));
		_exit(0);
	}
	close(p[1]);
	helper_msg_t m = {.pid = -1};
	size_t got = rt__read_full(p[0], &m, sizeof(m));
	close(p[0]);
	while (waitpid(helper, NULL, 0) < 0 && errno == EINTR)
		;
	if (got != sizeof(m))
		return rt__error_plain(err, EIO,
				       "the namespace helper died before cloning the init");
	if (m.pid < 0)
		return rt__error_plain(err, m.errnum, "%s", m.msg);
	return m.pid;
}

/* The host uid (or gid) that id 0 of pid's user namespace maps to; dflt
 * when nothing maps it. */
static uint32_t ns_root(pid_t pid, bool gid, uint32_t dflt)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, gid ? "gid_map" : "uid_map");
	FILE *f = fopen(path, "re");
	if (f == NULL)
		return dflt;
	unsigned long in, out, len;
	while (fscanf(f, "%lu %lu %lu", &in, &out, &len) == 3)
		if (in == 0 && len > 0) {
			dflt = (uint32_t)out;
			break;
		}
	fclose(f);
	return dflt;
}

int rt_container_create(const char *state_root, const char *id, const char *bundle,
			const rt_create_opts_t *opts, pid_t *pid_out, rt_error_t *err)
{
	if (state_root == NULL)
		state_root = DEFAULT_STATE_ROOT;
	char dir[PATH_MAX], abs_bundle[PATH_MAX], cgroup[1024], fifo[PATH_MAX + 16];
	if (rt__state_dir(state_root, id, dir, sizeof(dir), err) < 0)
		return -1;
	if (realpath(bundle, abs_bundle) == NULL)
		return rt_error_set(err, errno, "creating container `%s`: bundle `%s`", id, bundle);
	rt_config_t *cfg = NULL;
	if (rt_config_load(abs_bundle, &cfg, err) == 0)
		rt__config_warn(cfg);
	if (cfg == NULL || check_config(cfg, opts, err) < 0) {
		rt_config_free(cfg);
		return rt_error_wrap(err, "creating container `%s`", id);
	}
	if (cfg->cgroups_path)
		snprintf(cgroup, sizeof(cgroup), "%s", cfg->cgroups_path);
	else
		snprintf(cgroup, sizeof(cgroup), "ocirun/%s", id);

	int rc = -1, sync[2] = {-1, -1}, dirfd = -1, console = -1;
	bool hooked = false; /* the create hooks ran (or were asked for) */
	cleanup_close int lock = -1;
	int nsfd[8];
	int nstype[8];
	size_t nns = 0;
	bool made_dir = false, made_cgroup = false;
	pid_t pid = -1;
	int netfd = -1;		     /* the container's network namespace, held (netDevices) */
	bool netdevs_in = false;     /* linux.netDevices moved in: move back on failure */
	int idfds[RT_MAX_IDMAP_FDS]; /* idmapped trees for an init in a user namespace */
	size_t nidfds = 0, nidmapped = 0;
	for (int i = 0; i < 8; i++)
		nsfd[i] = -1, nstype[i] = 0;

	if (rt__mkdir_p(state_root, 0711, err) < 0)
		goto out;
	/* 0711: the init, whatever uid it runs as, reaches exec.fifo by name. */
	if (mkdir(dir, 0711) < 0) {
		if (errno == EEXIST)
			rt__error_plain(err, EEXIST, "container `%s` already exists", id);
		else
			rt_error_set(err, errno, "creating state directory `%s`", dir);
		goto out;
	}
	made_dir = true;
	/* Held until create returns: a concurrent start or delete waits. */
	lock = rt__state_lock(state_root, id);
	snprintf(fifo, sizeof(fifo), "%s/exec.fifo", dir);
	/* 0622 like runc's: the init opens it for writing after switching to
	 * the process's user, which may hold no capability. */
	if (mkfifo(fifo, 0622) < 0 || chmod(fifo, 0622) < 0) {
		rt_error_set(err, errno, "creating `%s`", fifo);
		goto out;
	}
	if (save_config(dir, abs_bundle, err) < 0)
		goto out;
	const rt_namespace_t *userns_cfg = rt__config_ns(cfg, CLONE_NEWUSER);
	const bool userns = userns_cfg != NULL;
	const bool join_user = userns && userns_cfg->path != NULL;
	if (userns)
		for (size_t i = 0; i < cfg->nmounts; i++)
			nidmapped += rt__mount_is_idmapped(&cfg->mounts[i]);
	if (nidmapped > RT_MAX_IDMAP_FDS) {
		rt__error_plain(err, E2BIG,
				"mounts: at most %d idmapped mounts in a container with a user "
				"namespace",
				RT_MAX_IDMAP_FDS);
		goto out;
	}
	if (userns && !join_user &&
	    chown(fifo, host_root(cfg->uid_maps, cfg->nuid_maps, 0),
		  host_root(cfg->gid_maps, cfg->ngid_maps, 0)) < 0) {
		rt_error_set(err, errno, "handing `%s` to the container's root", fifo);
		goto out;
	}
	dirfd = fd_above_stdio(open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC));
	if (dirfd < 0) {
		rt_error_set(err, errno, "opening `%s`", dir);
		goto out;
	}
	/* Namespaces joined by path: opened here (errors name the path), joined
	 * by the init. The mount namespace last: after it, paths are the
	 * container's. */
	int flags = 0;
	static const int order[] = {CLONE_NEWIPC, CLONE_NEWUTS, CLONE_NEWNET, CLONE_NEWCGROUP,
				    RT_CLONE_NEWTIME};
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		const rt_namespace_t *ns = rt__config_ns(cfg, order[i]);
		if (ns == NULL)
			continue;
		if (ns->path == NULL) {
			/* cgroup: unshared after joining the cgroup; time: clone
			 * cannot take its flag, the init unshares it */
			if (order[i] != CLONE_NEWCGROUP && order[i] != RT_CLONE_NEWTIME)
				flags |= order[i];
			continue;
		}
		int fd = fd_above_stdio(open(ns->path, O_RDONLY | O_CLOEXEC));
		if (fd < 0) {
			rt_error_set(err, errno, "opening namespace `%s`", ns->path);
			goto out;
		}
		nsfd[nns] = fd;
		nstype[nns++] = order[i];
	}
	const rt_namespace_t *pidns = rt__config_ns(cfg, CLONE_NEWPID);
	if (pidns && pidns->path == NULL)
		flags |= CLONE_NEWPID;
	flags |= CLONE_NEWNS;
	/* With CLONE_NEWUSER in the same clone, the new user namespace owns the
	 * others. */
	if (userns && !join_user)
		flags |= CLONE_NEWUSER;
	const bool any_path = (pidns && pidns->path) || nns > 0;
	const bool use_helper = join_user || (userns && any_path);

	/* A socket pair, not a pipe: the init may ask the runtime to run hooks
	 * and wait for the answer. */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sync) < 0) {
		rt_error_set(err, errno, "creating the sync socket");
		goto out;
	}
	sync[0] = fd_above_stdio(sync[0]);
	sync[1] = fd_above_stdio(sync[1]);
	/* A new user namespace's init can write no host cgroup file: the
	 * parent moves it (as it does where the driver has no cheap self-move). */
	bool enter_self = rt__cgroup_can_enter_self() && !userns;

	if (opts && opts->console_socket) {
		console = fd_above_stdio(rt__console_connect(opts->console_socket, err));
		if (console < 0)
			goto out;
	}

	rt__init_args_t args = {
	    .cfg = cfg,
	    .rootfs = cfg->root_path,
	    .cgroup = cgroup,
	    .enter_self = enter_self,
	    .userns = userns,
	    .sync_fd = sync[1],
	    .state_dirfd = dirfd,
	    .console_fd = console,
	    .idmap_fds = nidmapped > 0,
	};
	for (int i = 0; i < 3; i++)
		args.stdio[i] = opts ? opts->stdio[i] : -1;
	memcpy(args.ns_fds, nsfd, sizeof(nsfd));
	memcpy(args.ns_types, nstype, sizeof(nstype));

	if (use_helper) {
		int keep[2] = {lock, sync[0]};
		pid = clone_via_helper(flags, cfg, &args, keep, 2, err);
	} else {
		pid = clone_init(flags, pidns, err);
	}
	if (pid < 0)
		goto out;
	if (pid == 0) {
		/* The flock belongs to the open file: a copy kept by the init
		 * would hold it until exec, and start would wait for ever. */
		if (lock >= 0)
			close(lock);
		close(sync[0]);
		rt__container_init(&args);
	}
	close(sync[1]);
	sync[1] = -1;
	if (userns && !join_user && write_idmaps(pid, cfg, err) < 0)
		goto kill_out;
	/* An init in a user namespace (new or joined) may not raise its own
	 * oom_score_adj: it is written from here, before the init runs any
	 * of the container's code (the init writes it when it has none). */
	if (userns && cfg->has_oom_score_adj) {
		char f[64];
		snprintf(f, sizeof(f), "/proc/%d/oom_score_adj", (int)pid);
		if (rt__write_filef(f, err, "%d", cfg->oom_score_adj) < 0) {
			rt_error_wrap(err, "process.oomScoreAdj");
			goto kill_out;
		}
	}
	if (nidmapped > 0 && make_idmap_trees(cfg, pid, idfds, &nidfds, err) < 0)
		goto kill_out;
	/* The joined namespace's root gets exec.fifo (best effort: 0622 lets
	 * any user write it). */
	if (join_user)
		(void)!chown(fifo, ns_root(pid, false, 0), ns_root(pid, true, 0));
	/* The cgroup is made while the init builds the container's mounts (it
	 * waits for 'C' only before it needs the cgroup): the two overlap. */
	/* A cgroup that exists already (cgroupsPath shared with others) is
	 * joined, and left in place by delete and by a failed create. */
	bool shared = cgroup_exists(cgroup);
	if (shared && set_flag(dir, "cgroup.shared", err) < 0)
		goto kill_out;
	made_cgroup = !shared;
	if (rt_cgroup_create(cgroup, cfg->has_resources ? &cfg->limits : NULL, err) < 0 ||
	    (rt__cgroup_extra_any(&cfg->extra) &&
	     rt__cgroup_set_extra(cgroup, &cfg->extra, err) < 0) ||
	    (!enter_self && rt_cgroup_enter(cgroup, pid, err) < 0))
		goto kill_out;
	/* linux.netDevices: moved from the runtime's namespace into the
	 * container's while the init waits for 'C' (before the hooks and the
	 * process). netfd holds the namespace: a later failure can still move
	 * them back after the init has died. */
	if (cfg->nnetdevs > 0) {
		netfd = rt__netdev_open_ns(cfg, pid, err);
		if (netfd < 0 || rt__netdev_move_in(cfg, pid, err) < 0)
			goto kill_out;
		netdevs_in = true;
	}
	/* An init that failed already has closed its end: its error is read
	 * below. */
	send_ready(sync[0], idfds, nidfds);
	if (read_sync(sync[0], pid, cfg, id, abs_bundle, &hooked, err) < 0) {
		if (netdevs_in)
			rt__netdev_give_back(cfg, netfd, id);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		pid = -1;
		goto out;
	}

	rt__state_rec_t rec = {0};
	snprintf(rec.id, sizeof(rec.id), "%s", id);
	rec.pid = pid;
	rec.pid_start = rt__pid_start_time(pid);
	snprintf(rec.bundle, sizeof(rec.bundle), "%s", abs_bundle);
	snprintf(rec.rootfs, sizeof(rec.rootfs), "%s", cfg->root_path);
	snprintf(rec.cgroup, sizeof(rec.cgroup), "%s", cgroup);
	rec.created_ms = now_ms();
	rec.annotations = cfg->annotations;
	rec.hooks = rt__hooks_mask(cfg);
	if (rt__state_write(dir, &rec, err) < 0)
		goto kill_out;
	if (opts && opts->pid_file) {
		char tmp[PATH_MAX + 8];
		snprintf(tmp, sizeof(tmp), "%s.tmp", opts->pid_file);
		FILE *f = fopen(tmp, "we");
		if (f == NULL || fprintf(f, "%d", (int)pid) < 0 || fclose(f) != 0 ||
		    rename(tmp, opts->pid_file) < 0) {
			rt_error_set(err, errno, "writing pid file `%s`", opts->pid_file);
			goto kill_out;
		}
	}
	*pid_out = pid;
	rc = 0;
	goto out;
kill_out:
	if (netdevs_in)
		rt__netdev_give_back(cfg, netfd, id);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
out:
	if (rc < 0) {
		rt_error_t e2;
		if (made_cgroup)
			rt_cgroup_destroy(cgroup, 2000, &e2);
		if (made_dir)
			rt__state_remove(dir, &e2);
		rt_error_wrap(err, "creating container `%s`", id);
		/* A create hook failed (or the init did after them): the
		 * container is destroyed and the poststop hooks run, their
		 * failures only warned about (runtime.md, Lifecycle 3-5, 12-13). */
		if (hooked && cfg->nhooks[RT_HOOK_POSTSTOP]) {
			cleanup_free char *st = rt__state_json_text(id, RT_STATUS_STOPPED, 0,
								    abs_bundle, cfg->annotations);
			if (st == NULL || rt__hooks_run(cfg, RT_HOOK_POSTSTOP, st, &e2) < 0)
				fprintf(stderr, "ocirun: warning: container `%s`: %s\n", id,
					st ? e2.msg : "out of memory");
		}
	}
	for (size_t i = 0; i < nns; i++)
		close(nsfd[i]);
	for (size_t i = 0; i < nidfds; i++)
		close(idfds[i]);
	if (netfd >= 0)
		close(netfd);
	if (sync[0] >= 0)
		close(sync[0]);
	if (sync[1] >= 0)
		close(sync[1]);
	if (dirfd >= 0)
		close(dirfd);
	if (console >= 0)
		close(console);
	rt_config_free(cfg);
	return rc;
}
