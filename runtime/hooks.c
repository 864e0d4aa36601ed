/* OCI hooks (config.json `hooks`): each one a program run with the
 * container's state JSON on its stdin, its own args and env, and an optional
 * timeout in seconds. Where each kind runs is the caller's business
 * (container.c, container-init.c): prestart and createRuntime in the
 * runtime's namespaces before pivot_root, createContainer in the container's
 * before pivot_root, startContainer in the container just before exec,
 * poststart after start, poststop after delete. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "runtime/rt-internal.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

const char *const rt__hook_names[RT_HOOK_NKINDS] = {
    "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop",
};

char *rt__state_json_text(const char *id, rt_status_t status, pid_t pid, const char *bundle,
			  json_t *annotations)
{
	cleanup_json json_t *j =
	    json_pack("{s:s, s:s, s:s, s:i, s:s}", "ociVersion", "1.0.2", "id", id, "status",
		      rt_status_name(status), "pid", (int)pid, "bundle", bundle);
	if (j == NULL)
		return NULL;
	if (annotations)
		json_object_set(j, "annotations", annotations);
	return json_dumps(j, JSON_COMPACT);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for pid; with a timeout (> 0 seconds) kills it when it runs over.
 * Returns its wait status, or -1 (timed out: -2). */
static int wait_hook(pid_t pid, int timeout_s)
{
	int status = 0;
	if (timeout_s <= 0) {
		while (waitpid(pid, &status, 0) < 0)
			if (errno != EINTR)
				return -1;
		return status;
	}
	int64_t deadline = now_ms() + (int64_t)timeout_s * 1000;
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR) {
			if (pfd >= 0)
				close(pfd);
			return -1;
		}
		int64_t left = deadline - now_ms();
		if (left <= 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			if (pfd >= 0)
				close(pfd);
			return -2;
		}
		if (pfd >= 0) {
			struct pollfd p = {.fd = pfd, .events = POLLIN};
			poll(&p, 1, (int)(left > 1000 ? 1000 : left));
		} else {
			struct timespec ts = {0, 5 * 1000 * 1000};
			nanosleep(&ts, NULL);
		}
	}
	if (pfd >= 0)
		close(pfd);
	return status;
}

static int run_one(const rt_hook_t *h, const char *state, rt_error_t *err)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return rt_error_set(err, errno, "creating the stdin of the hook");
	char *const dflt_args[] = {h->path, NULL};
	char *const no_env[] = {NULL};
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(sv[0]);
		close(sv[1]);
		return rt_error_set(err, e, "forking the hook");
	}
	if (pid == 0) {
		shutdown(sv[1], SHUT_WR);
		if (dup2(sv[1], 0) < 0)
			_exit(127);
		syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execve(h->path, h->args ? h->args : dflt_args, h->env ? h->env : no_env);
		_exit(127);
	}
	close(sv[1]);
	/* The hook may not read its stdin at all: MSG_NOSIGNAL, errors ignored. */
	size_t len = strlen(state), off = 0;
	while (off < len) {
		ssize_t w = send(sv[0], state + off, len - off, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	close(sv[0]);
	int st = wait_hook(pid, h->timeout);
	if (st == -2)
		return rt__error_plain(err, ETIMEDOUT, "timed out after %d s (killed)", h->timeout);
	if (st < 0)
		return rt_error_set(err, errno, "waiting for the hook");
	if (WIFSIGNALED(st))
		return rt__error_plain(err, EIO, "killed by signal %d", WTERMSIG(st));
	if (WEXITSTATUS(st) == 127)
		return rt__error_plain(err, EIO,
				       "exited with status 127 (could it be executed at all?)");
	if (WEXITSTATUS(st) != 0)
		return rt__error_plain(err, EIO, "exited with status %d", WEXITSTATUS(st));
	return 0;
}

/* The first failure stops the others, except for poststop: runtime.md
 * (Lifecycle 13) wants "the remaining hooks and lifecycle" to go on, so
 * every poststop hook runs and the first failure is returned. */
int rt__hooks_run(const rt_config_t *cfg, int kind, const char *state, rt_error_t *err)
{
	int rc = 0;
	for (size_t i = 0; i < cfg->nhooks[kind]; i++) {
		const rt_hook_t *h = &cfg->hooks[kind][i];
		rt_error_t e;
		if (run_one(h, state, &e) == 0)
			continue;
		if (rc == 0) {
			rc = -1;
			if (err)
				*err = e;
			rt_error_wrap(err, "hooks.%s[%zu] `%s`", rt__hook_names[kind], i, h->path);
		}
		if (kind != RT_HOOK_POSTSTOP)
			break;
	}
	return rc;
}

unsigned rt__hooks_mask(const rt_config_t *cfg)
{
	unsigned m = 0;
	for (int k = 0; k < RT_HOOK_NKINDS; k++)
		if (cfg->nhooks[k])
			m |= 1U << k;
	return m;
}
