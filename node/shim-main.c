/* nodelet-shim: the per-container monitor, like conmon.
 *
 *   nodelet-shim --id ID --bundle DIR --state-root DIR --status-dir DIR [--log FILE]
 *
 * The process the nodelet starts (the front) forks the monitor and waits only
 * for its first word: "ok <shim pid> <container pid>" (printed on stdout, exit
 * 0) or "error <message>" (printed on stderr, exit 1). The monitor is in its
 * own session, so it outlives the nodelet. It creates and starts the container
 * through libruntime, writes status-dir/pid, relays the container's stdout and
 * stderr into the CRI log, reaps the container (and any orphan: it is a child
 * subreaper), reads the cgroup's OOM count, deletes the container and last
 * writes status-dir/exit.json. SIGTERM and SIGINT are forwarded to the
 * container; SIGUSR1 reopens the log file (after rotation). Problems after the
 * report go to status-dir/shim.log.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "node/cri-log.h"
#include "runtime/runtime.h"

#define DRAIN_AFTER_EXIT_MS 2000 /* output still in flight once the container ended */

typedef struct shim_opts {
	char *id, *bundle, *state_root, *status_dir, *log;
} shim_opts_t;

static int sig_pipe[2] = {-1, -1};
static const char *status_dir_for_diag;

static void usage(FILE *f)
{
	fprintf(f, "usage: nodelet-shim --id ID --bundle DIR --state-root DIR --status-dir DIR "
		   "[--log FILE]\n"
		   "\n"
		   "Creates and starts container ID from the OCI bundle DIR through libruntime\n"
		   "(state under --state-root), and stays behind as its monitor: its stdout and\n"
		   "stderr go to FILE in the CRI log format (discarded without --log), its pids\n"
		   "to STATUS/pid, and how it ended to STATUS/exit.json.\n"
		   "Prints \"ok <shim pid> <container pid>\" once the container runs (exit 0), or\n"
		   "the reason it could not start on stderr (exit 1).\n");
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A line in status-dir/shim.log: nobody reads the monitor's stderr. */
static void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void diag(const char *fmt, ...)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/shim.log", status_dir_for_diag);
	FILE *f = fopen(path, "ae");
	if (f == NULL)
		return;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	char t[NODE_CRI_TIME_LEN + 1];
	node_cri_format_time(&ts, t);
	fprintf(f, "%s ", t);
	va_list ap;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	fclose(f);
}

static char *absolute(const char *p)
{
	if (p == NULL)
		return NULL;
	char *out = NULL;
	if (p[0] == '/') {
		out = strdup(p);
	} else {
		char cwd[4096];
		if (getcwd(cwd, sizeof cwd) == NULL || asprintf(&out, "%s/%s", cwd, p) < 0)
			out = NULL;
	}
	if (out == NULL) {
		fprintf(stderr, "nodelet-shim: out of memory\n");
		exit(1);
	}
	return out;
}

static int parse_args(int argc, char **argv, shim_opts_t *o)
{
	static const struct option longopts[] = {
	    {"id", required_argument, NULL, 'i'},
	    {"bundle", required_argument, NULL, 'b'},
	    {"state-root", required_argument, NULL, 's'},
	    {"status-dir", required_argument, NULL, 'd'},
	    {"log", required_argument, NULL, 'l'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	const char *id = NULL, *bundle = NULL, *root = NULL, *status = NULL, *log = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			id = optarg;
			break;
		case 'b':
			bundle = optarg;
			break;
		case 's':
			root = optarg;
			break;
		case 'd':
			status = optarg;
			break;
		case 'l':
			log = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	const char *missing = id == NULL       ? "--id"
			      : bundle == NULL ? "--bundle"
			      : root == NULL   ? "--state-root"
			      : status == NULL ? "--status-dir"
					       : NULL;
	if (missing != NULL || optind != argc) {
		if (missing != NULL)
			fprintf(stderr, "nodelet-shim: %s is required\n", missing);
		else
			fprintf(stderr, "nodelet-shim: unexpected argument `%s`\n", argv[optind]);
		return -1;
	}
	if (id[0] == '\0' || strchr(id, '/') != NULL) {
		fprintf(stderr, "nodelet-shim: invalid container id `%s`\n", id);
		return -1;
	}
	o->id = strdup(id);
	o->bundle = absolute(bundle);
	o->state_root = absolute(root);
	o->status_dir = absolute(status);
	o->log = log != NULL && log[0] != '\0' ? absolute(log) : NULL;
	return 0;
}

static void opts_free(shim_opts_t *o)
{
	free(o->id);
	free(o->bundle);
	free(o->state_root);
	free(o->status_dir);
	free(o->log);
}

static void on_signal(int sig)
{
	int saved = errno;
	unsigned char b = (unsigned char)sig;
	ssize_t r = write(sig_pipe[1], &b, 1);
	(void)r; /* full pipe: a byte of that kind is already waiting */
	errno = saved;
}

static void write_all(int fd, const char *s)
{
	size_t len = strlen(s), off = 0;
	while (off < len) {
		ssize_t w = write(fd, s + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		off += (size_t)w;
	}
}

/* Sends the one report line to the front; false when nobody is listening. */
static bool report(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool report(int fd, const char *fmt, ...)
{
	char buf[1400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	size_t len = strlen(buf);
	ssize_t w;
	do
		w = write(fd, buf, len);
	while (w < 0 && errno == EINTR);
	return w == (ssize_t)len;
}

static int write_pids(const shim_opts_t *o, pid_t ctr, rt_error_t *err)
{
	char path[4200], text[64];
	snprintf(path, sizeof path, "%s/pid", o->status_dir);
	snprintf(text, sizeof text, "%ld %ld\n", (long)getpid(), (long)ctr);
	return node__write_atomic(path, text, strlen(text), 0644, err);
}

typedef struct ended {
	bool done;
	int status; /* from waitpid */
	bool lost;  /* not our child after all: no status */
	int64_t finished_at;
} ended_t;

/* Reaps every child that ended; records the container's status. */
static void reap(pid_t ctr, ended_t *e)
{
	for (;;) {
		int st;
		pid_t w = waitpid(-1, &st, WNOHANG);
		if (w > 0) {
			if (w == ctr && !e->done) {
				e->done = true;
				e->status = st;
				e->finished_at = now_ms();
			}
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == ECHILD && !e->done) {
			diag("container pid %ld is not a child of the shim: exit status lost",
			     (long)ctr);
			e->done = true;
			e->lost = true;
			e->finished_at = now_ms();
		}
		return;
	}
}

/* Relays output and signals until the container has ended and its streams
 * closed (or DRAIN_AFTER_EXIT_MS after it ended). */
static void relay(node_cri_log_t *log, int out_fd, int err_fd, pid_t ctr, ended_t *e)
{
	int fds[2] = {out_fd, err_fd};
	static char buf[65536];
	int64_t drain_deadline = 0;
	reap(ctr, e);
	for (;;) {
		if (e->done && drain_deadline == 0)
			drain_deadline = mono_ms() + DRAIN_AFTER_EXIT_MS;
		if (e->done && fds[0] < 0 && fds[1] < 0)
			break;
		int timeout = -1;
		if (e->done) {
			int64_t left = drain_deadline - mono_ms();
			if (left <= 0) {
				diag("container output still open %d ms after it ended: stopped "
				     "relaying",
				     DRAIN_AFTER_EXIT_MS);
				break;
			}
			timeout = (int)left;
		}
		struct pollfd p[3] = {
		    {sig_pipe[0], POLLIN, 0},
		    {fds[0], POLLIN, 0},
		    {fds[1], POLLIN, 0},
		};
		int n = poll(p, 3, timeout);
		if (n < 0 && errno != EINTR) {
			diag("poll: %s", strerror(errno));
			sleep(1);
			continue;
		}
		if (n <= 0)
			continue;
		if (p[0].revents & POLLIN) {
			unsigned char sigs[64];
			ssize_t r = read(sig_pipe[0], sigs, sizeof sigs);
			for (ssize_t i = 0; i < r; i++) {
				if (sigs[i] == SIGCHLD) {
					reap(ctr, e);
				} else if (sigs[i] == SIGUSR1) {
					rt_error_t err;
					if (node_cri_log_reopen(log, &err) < 0)
						diag("%s", err.msg);
				} else if (!e->done) {
					kill(ctr, sigs[i]);
				}
			}
		}
		for (int s = 0; s < 2; s++) {
			if (fds[s] < 0 || !(p[s + 1].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			ssize_t r = read(fds[s], buf, sizeof buf);
			if (r < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			rt_error_t err;
			if (r > 0) {
				if (node_cri_log_write(log, s, buf, (size_t)r, &err) < 0)
					diag("%s", err.msg);
				continue;
			}
			if (node_cri_log_flush(log, s, &err) < 0)
				diag("%s", err.msg);
			close(fds[s]);
			fds[s] = -1;
		}
	}
	for (int s = 0; s < 2; s++)
		if (fds[s] >= 0)
			close(fds[s]);
}

static int write_exit(const shim_opts_t *o, const ended_t *e, int64_t started_at, bool oom,
		      rt_error_t *err)
{
	int code = 255, sig = 0;
	if (!e->lost && WIFEXITED(e->status)) {
		code = WEXITSTATUS(e->status);
	} else if (!e->lost && WIFSIGNALED(e->status)) {
		sig = WTERMSIG(e->status);
		code = 128 + sig;
	}
	const char *reason = oom ? "OOMKilled" : code == 0 ? "Completed" : "Error";
	json_t *j = json_pack("{s:i, s:i, s:s, s:b, s:I, s:I}", "exitCode", code, "signal", sig,
			      "reason", reason, "oomKilled", oom, "startedAt",
			      (json_int_t)started_at, "finishedAt", (json_int_t)e->finished_at);
	char *text = json_dumps(j, JSON_PRESERVE_ORDER);
	json_decref(j);
	if (text == NULL)
		return rt_error_set(err, ENOMEM, "encoding exit.json");
	char path[4200];
	snprintf(path, sizeof path, "%s/exit.json", o->status_dir);
	int rc = node__write_atomic(path, text, strlen(text), 0644, err);
	free(text);
	return rc;
}

static void set_handlers(void)
{
	struct sigaction sa = {0};
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigemptyset(&sa.sa_mask);
	int sigs[] = {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGUSR1};
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		sigaction(sigs[i], &sa, NULL);
}

static void pipe_or_die(int p[2], int report_fd)
{
	if (pipe2(p, O_CLOEXEC) < 0) {
		report(report_fd, "error creating a pipe: %s\n", strerror(errno));
		_exit(1);
	}
}

/* The monitor: everything after the fork. Returns the exit status. */
static int monitor(const shim_opts_t *o, int report_fd)
{
	setsid();
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	umask(022);
	if (chdir("/") < 0)
		_exit(1);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		close(null);
	}
	status_dir_for_diag = o->status_dir;

	rt_error_t err = {0};
	if (node__mkdir_p(o->status_dir, 0755, &err) < 0) {
		report(report_fd, "error status directory: %s\n", err.msg);
		return 1;
	}
	char path[4200];
	snprintf(path, sizeof path, "%s/exit.json", o->status_dir);
	unlink(path); /* a previous run's: must never be read as this one's */
	snprintf(path, sizeof path, "%s/pid", o->status_dir);
	unlink(path);

	pipe_or_die(sig_pipe, report_fd);
	fcntl(sig_pipe[0], F_SETFL, O_NONBLOCK);
	fcntl(sig_pipe[1], F_SETFL, O_NONBLOCK);
	/* Handlers, not SIG_IGN: exec resets handlers but keeps ignored signals,
	 * and the container must start with default dispositions. */
	set_handlers();

	static node_cri_log_t log;
	if (node_cri_log_open(&log, o->log, &err) < 0) {
		report(report_fd, "error %s\n", err.msg);
		return 1;
	}
	int out[2] = {-1, -1}, errp[2] = {-1, -1};
	if (o->log != NULL) {
		pipe_or_die(out, report_fd);
		pipe_or_die(errp, report_fd);
		fcntl(out[0], F_SETFL, O_NONBLOCK);
		fcntl(errp[0], F_SETFL, O_NONBLOCK);
	}

	rt_create_opts_t co = {
	    .stdio = {-1, out[1], errp[1]}, .pid_file = NULL, .console_socket = NULL};
	pid_t ctr = -1;
	if (rt_container_create(o->state_root, o->id, o->bundle, &co, &ctr, &err) < 0) {
		report(report_fd, "error %s\n", err.msg);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN); /* only now: the container has forked */
	if (out[1] >= 0) {
		close(out[1]);
		close(errp[1]);
	}
	char cgroup[1024] = "";
	rt_state_t st;
	if (rt_container_state(o->state_root, o->id, &st, &err) == 0)
		snprintf(cgroup, sizeof cgroup, "%s", st.cgroup);
	else
		diag("reading the state of `%s` (for its cgroup): %s", o->id, err.msg);

	if (rt_container_start(o->state_root, o->id, &err) < 0) {
		report(report_fd, "error %s\n", err.msg);
		rt_error_t e2;
		if (rt_container_delete(o->state_root, o->id, true, &e2) < 0)
			diag("deleting `%s` after a failed start: %s", o->id, e2.msg);
		ended_t e = {0};
		reap(ctr, &e);
		return 1;
	}
	int64_t started_at = now_ms();
	err.msg[0] = '\0';
	if (write_pids(o, ctr, &err) < 0 ||
	    !report(report_fd, "ok %ld %ld\n", (long)getpid(), (long)ctr)) {
		/* Nobody will ever know of this container: take it down. */
		report(report_fd, "error %s\n", err.msg[0] ? err.msg : "front process gone");
		diag("no report possible for `%s` (%s): deleting it", o->id,
		     err.msg[0] ? err.msg : "front process gone");
		rt_container_delete(o->state_root, o->id, true, &err);
		unlink(path);
		return 1;
	}
	close(report_fd);

	ended_t e = {0};
	relay(&log, out[0], errp[0], ctr, &e);
	node_cri_log_close(&log);

	/* OOM kills are counted in the cgroup, which delete removes. */
	bool oom = false;
	if (cgroup[0] != '\0') {
		rt_cgroup_stats_t cs;
		if (rt_cgroup_stats(cgroup, &cs, &err) == 0)
			oom = cs.oom_kills > 0;
		else
			diag("reading the OOM count of `%s`: %s", cgroup, err.msg);
	}
	/* Delete before exit.json: once exit.json is there, the id can be reused. */
	if (rt_container_delete(o->state_root, o->id, true, &err) < 0)
		diag("deleting `%s`: %s", o->id, err.msg);
	reap(ctr, &e);
	if (write_exit(o, &e, started_at, oom, &err) < 0) {
		diag("%s", err.msg);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	/* Nothing of the nodelet's (sockets, pipes of other launches) may live on
	 * in the monitor or the container. */
	close_range(3, ~0U, 0);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	shim_opts_t o = {0};
	if (parse_args(argc, argv, &o) < 0)
		return 1;

	int rp[2];
	if (pipe2(rp, O_CLOEXEC) < 0) {
		fprintf(stderr, "nodelet-shim: creating a pipe: %s\n", strerror(errno));
		return 1;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "nodelet-shim: fork: %s\n", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		close(rp[0]);
		int rc = monitor(&o, rp[1]);
		opts_free(&o);
		exit(rc);
	}
	close(rp[1]);

	/* The front: wait for the monitor's one line, pass it on, leave. */
	char msg[1500];
	size_t len = 0;
	for (;;) {
		ssize_t r = read(rp[0], msg + len, sizeof msg - 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
		if (memchr(msg, '\n', len) != NULL || len == sizeof msg - 1)
			break;
	}
	msg[len] = '\0';
	msg[strcspn(msg, "\n")] = '\0';
	opts_free(&o);
	if (strncmp(msg, "ok ", 3) == 0) {
		write_all(1, msg);
		write_all(1, "\n");
		return 0;
	}
	if (strncmp(msg, "error ", 6) == 0) {
		fprintf(stderr, "%s\n", msg + 6);
		return 1;
	}
	int st;
	if (waitpid(pid, &st, WNOHANG) == pid && WIFSIGNALED(st))
		fprintf(stderr,
			"nodelet-shim: the monitor was killed by signal %d before it "
			"reported\n",
			WTERMSIG(st));
	else
		fprintf(stderr, "nodelet-shim: the monitor ended before it reported\n");
	return 1;
}
