/* The nodelet's side of nodelet-shim: launching it, reading what it records
 * (status-dir/pid, status-dir/exit.json), and watching it (ctr.h). */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "node/ctr.h"

#define LAUNCH_TIMEOUT_MS 120000

extern char **environ;

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Appends what fd has to buf (bounded); 0 at EOF, 1 when more may come. */
static int drain(int fd, char *buf, size_t cap, size_t *len)
{
	char tmp[4096];
	ssize_t r = read(fd, tmp, sizeof tmp);
	if (r < 0)
		return errno == EINTR || errno == EAGAIN ? 1 : 0;
	if (r == 0)
		return 0;
	size_t take = (size_t)r;
	if (take > cap - 1 - *len)
		take = cap - 1 - *len;
	memcpy(buf + *len, tmp, take);
	*len += take;
	buf[*len] = '\0';
	return 1;
}

static void trim(char *s)
{
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

int node_shim_launch(const node_shim_opts_t *o, pid_t *shim_pid, pid_t *ctr_pid, rt_error_t *err)
{
	if (o->shim_path == NULL || o->id == NULL || o->bundle == NULL || o->state_root == NULL ||
	    o->status_dir == NULL)
		return rt_error_set(err, EINVAL, "launching nodelet-shim: missing option");
	char *argv[16];
	int a = 0;
	argv[a++] = (char *)o->shim_path;
	argv[a++] = "--id";
	argv[a++] = (char *)o->id;
	argv[a++] = "--bundle";
	argv[a++] = (char *)o->bundle;
	argv[a++] = "--state-root";
	argv[a++] = (char *)o->state_root;
	argv[a++] = "--status-dir";
	argv[a++] = (char *)o->status_dir;
	if (o->log_path != NULL) {
		argv[a++] = "--log";
		argv[a++] = (char *)o->log_path;
	}
	argv[a] = NULL;

	/* O_CLOEXEC: other threads may be launching shims at the same time. */
	int out[2], errp[2];
	if (pipe2(out, O_CLOEXEC) < 0)
		return rt_error_set(err, errno, "launching nodelet-shim for `%s`: pipe", o->id);
	if (pipe2(errp, O_CLOEXEC) < 0) {
		int e = errno;
		close(out[0]);
		close(out[1]);
		return rt_error_set(err, e, "launching nodelet-shim for `%s`: pipe", o->id);
	}
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
	/* Default signals, nothing blocked, own process group: a Ctrl-C meant for
	 * the nodelet's terminal must not reach the shim. */
	posix_spawnattr_t at;
	posix_spawnattr_init(&at);
	sigset_t all, none;
	sigfillset(&all);
	sigdelset(&all, SIGKILL);
	sigdelset(&all, SIGSTOP);
	sigemptyset(&none);
	posix_spawnattr_setsigdefault(&at, &all);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK |
					  POSIX_SPAWN_SETPGROUP);
	pid_t front;
	int rc = posix_spawn(&front, o->shim_path, &fa, &at, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(out[1]);
	close(errp[1]);
	if (rc != 0) {
		close(out[0]);
		close(errp[0]);
		return rt_error_set(err, rc, "starting `%s`", o->shim_path);
	}

	char obuf[512] = "", ebuf[sizeof err->msg] = "";
	size_t olen = 0, elen = 0;
	int fds[2] = {out[0], errp[0]};
	int64_t deadline = mono_ms() + LAUNCH_TIMEOUT_MS;
	bool timed_out = false;
	while (fds[0] >= 0 || fds[1] >= 0) {
		int64_t left = deadline - mono_ms();
		if (left <= 0) {
			timed_out = true;
			break;
		}
		struct pollfd p[2] = {{fds[0], POLLIN, 0}, {fds[1], POLLIN, 0}};
		int n = poll(p, 2, (int)left);
		if (n < 0 && errno != EINTR)
			break;
		for (int i = 0; n > 0 && i < 2; i++) {
			if (fds[i] < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			int more = i == 0 ? drain(fds[i], obuf, sizeof obuf, &olen)
					  : drain(fds[i], ebuf, sizeof ebuf, &elen);
			if (!more) {
				close(fds[i]);
				fds[i] = -1;
			}
		}
	}
	for (int i = 0; i < 2; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	if (timed_out)
		kill(front, SIGKILL); /* the monitor sees its report fail and cleans up */
	int st = 0;
	pid_t w;
	do
		w = waitpid(front, &st, 0);
	while (w < 0 && errno == EINTR);

	trim(ebuf);
	long sp = 0, cp = 0;
	if (!timed_out && w == front && WIFEXITED(st) && WEXITSTATUS(st) == 0 &&
	    sscanf(obuf, "ok %ld %ld", &sp, &cp) == 2 && sp > 0 && cp > 0) {
		*shim_pid = (pid_t)sp;
		*ctr_pid = (pid_t)cp;
		return 0;
	}
	if (timed_out)
		return rt_error_set(err, ETIMEDOUT,
				    "nodelet-shim for `%s` did not report within %d s", o->id,
				    LAUNCH_TIMEOUT_MS / 1000);
	if (ebuf[0] != '\0')
		return rt_error_set(err, 0, "%s", ebuf);
	if (w == front && WIFSIGNALED(st))
		return rt_error_set(err, 0, "nodelet-shim for `%s` killed by signal %d", o->id,
				    WTERMSIG(st));
	trim(obuf);
	return rt_error_set(err, 0, "nodelet-shim for `%s` failed (exit status %d%s%s)", o->id,
			    w == front && WIFEXITED(st) ? WEXITSTATUS(st) : -1,
			    obuf[0] ? ", said: " : "", obuf);
}

/* Reads a small file whole into a new NUL-terminated string. */
static char *read_small(const char *path, rt_error_t *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rt_error_set(err, errno, "reading `%s`", path);
		return NULL;
	}
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	if (buf == NULL)
		abort();
	for (;;) {
		ssize_t r = read(fd, buf + len, cap - 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rt_error_set(err, errno, "reading `%s`", path);
			free(buf);
			close(fd);
			return NULL;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len == cap - 1 && cap < (1 << 20)) {
			cap *= 2;
			buf = realloc(buf, cap);
			if (buf == NULL)
				abort();
		} else if (len == cap - 1) {
			break;
		}
	}
	close(fd);
	buf[len] = '\0';
	return buf;
}

int node_shim_read_exit(const char *status_dir, node_exit_status_t *st, rt_error_t *err)
{
	memset(st, 0, sizeof *st);
	char path[4200];
	snprintf(path, sizeof path, "%s/exit.json", status_dir);
	rt_error_t e;
	char *text = read_small(path, &e);
	if (text == NULL) {
		if (e.errnum == ENOENT)
			return 0;
		if (err != NULL)
			*err = e;
		return -1;
	}
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);
	free(text);
	json_t *code = json_object_get(j, "exitCode");
	if (j == NULL || !json_is_object(j) || !json_is_integer(code)) {
		json_decref(j);
		return rt_error_set(err, EINVAL, "reading `%s`: not a shim exit record", path);
	}
	st->exited = true;
	st->exit_code = (int)json_integer_value(code);
	st->signal = (int)json_integer_value(json_object_get(j, "signal"));
	st->oom_killed = json_is_true(json_object_get(j, "oomKilled"));
	st->started_at = json_integer_value(json_object_get(j, "startedAt"));
	st->finished_at = json_integer_value(json_object_get(j, "finishedAt"));
	const char *reason = json_string_value(json_object_get(j, "reason"));
	snprintf(st->reason, sizeof st->reason, "%s",
		 reason		      ? reason
		 : st->exit_code == 0 ? "Completed"
				      : "Error");
	json_decref(j);
	return 0;
}

int node_shim_read_pids(const char *status_dir, pid_t *shim_pid, pid_t *ctr_pid, rt_error_t *err)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/pid", status_dir);
	char *text = read_small(path, err);
	if (text == NULL)
		return -1;
	long sp, cp;
	int n = sscanf(text, "%ld %ld", &sp, &cp);
	free(text);
	if (n != 2 || sp <= 0 || cp <= 0)
		return rt_error_set(err, EINVAL,
				    "reading `%s`: expected \"<shim pid> <container pid>\"", path);
	*shim_pid = (pid_t)sp;
	*ctr_pid = (pid_t)cp;
	return 0;
}

/* Whether /proc/<pid>/cmdline is nodelet-shim's, with --id id. */
static bool is_shim_for(pid_t pid, const char *id)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%ld/cmdline", (long)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	char buf[8192];
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	const char *base = strrchr(buf, '/');
	base = base ? base + 1 : buf;
	if (strcmp(base, "nodelet-shim") != 0)
		return false;
	bool ok = false;
	for (const char *p = buf; p < buf + n; p += strlen(p) + 1)
		if (strcmp(p, "--id") == 0 && p + strlen(p) + 1 < buf + n &&
		    strcmp(p + strlen(p) + 1, id) == 0)
			ok = true;
	return ok;
}

int node_shim_pidfd(pid_t shim_pid, const char *id, rt_error_t *err)
{
	int fd = (int)syscall(SYS_pidfd_open, shim_pid, 0);
	if (fd < 0)
		return rt_error_set(err, errno, "watching nodelet-shim pid %ld of `%s`",
				    (long)shim_pid, id);
	/* Checked after opening: if the pid was reused in between, the pidfd
	 * (of the old, dead process) polls readable and we say so. */
	struct pollfd p = {fd, POLLIN, 0};
	if (!is_shim_for(shim_pid, id) || poll(&p, 1, 0) != 0) {
		close(fd);
		return rt_error_set(err, ESRCH, "watching nodelet-shim pid %ld of `%s`",
				    (long)shim_pid, id);
	}
	return fd; /* pidfds are close-on-exec */
}
