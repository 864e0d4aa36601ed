/* Containers after create: start (open the exec fifo, poststart hooks),
 * kill, delete (destroy the cgroup unless shared, poststop hooks, state).
 * update, pause and resume are in container-update.c. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>

#include "runtime/cgroup-internal.h"
#include "runtime/rt-internal.h"

static bool has_flag(const char *dir, const char *name)
{
	char path[PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

/* Runs the poststart or poststop hooks of the config saved at create;
 * -1 with err naming the hook when one fails. */
static int run_late_hooks(const char *dir, const rt__state_rec_t *rec, int kind, rt_status_t status,
			  rt_error_t *err)
{
	rt_config_t *cfg = NULL;
	cleanup_free char *state =
	    rt__state_json_text(rec->id, status, status == RT_STATUS_STOPPED ? 0 : rec->pid,
				rec->bundle, rec->annotations);
	int rc = -1;
	if (state == NULL)
		rt_error_set(err, ENOMEM, "encoding the state for the hooks");
	else if (rt__container_config(dir, rec->bundle, &cfg, err) == 0)
		rc = rt__hooks_run(cfg, kind, state, err);
	rt_config_free(cfg);
	return rc;
}

int rt_container_start(const char *state_root, const char *id, rt_error_t *err)
{
	cleanup_close int lock = rt__state_lock(state_root, id);
	char dir[PATH_MAX];
	rt__state_rec_t rec;
	rt_status_t status;
	if (rt__container_load(state_root, id, dir, sizeof(dir), &rec, &status, err) < 0)
		return rt_error_wrap(err, "starting container `%s`", id);
	cleanup_json json_t *ann = rec.annotations;
	if (status != RT_STATUS_CREATED)
		return rt__error_plain(err, EINVAL,
				       "starting container `%s`: it is %s, not created", id,
				       rt_status_name(status));
	char fifo[PATH_MAX + 16];
	snprintf(fifo, sizeof(fifo), "%s/exec.fifo", dir);
	/* Non-blocking open: a dead init must not hang us. The init is blocked
	 * in open(O_WRONLY) and writes one byte once we are here. */
	cleanup_close int fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return rt_error_set(err, errno, "starting container `%s`: opening `%s`", id, fifo);
	for (int waited = 0;; waited += 10) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int r = poll(&p, 1, 10);
		if (r > 0 && (p.revents & POLLIN)) {
			char c;
			if (read(fd, &c, 1) == 1)
				break;
		}
		if (rt__pid_start_time(rec.pid) != rec.pid_start)
			return rt__error_plain(err, ESRCH,
					       "starting container `%s`: its init has exited", id);
		if (waited > 10000)
			return rt__error_plain(err, ETIMEDOUT,
					       "starting container `%s`: init did not answer", id);
	}
	unlink(fifo);
	/* The init keeps its end open (close-on-exec) until it execs: end of
	 * file means the process runs (or the init died trying), so poststart
	 * hooks and our caller see it started. A stopped init (SIGSTOP) cannot
	 * hold start for ever: after 10 s it counts as started. */
	/* An init that fails between here and exec (a startContainer hook...)
	 * may write 'E' and its message before it exits: start reports it. */
	char late[sizeof(((rt_error_t *)0)->msg) + 1];
	size_t nlate = 0;
	for (int waited = 0; waited < 10000; waited += 10) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 10) > 0) {
			char buf[256];
			ssize_t r = read(fd, buf, sizeof(buf));
			if (r > 0 && nlate < sizeof(late) - 1) {
				size_t k = (size_t)r < sizeof(late) - 1 - nlate
					       ? (size_t)r
					       : sizeof(late) - 1 - nlate;
				memcpy(late + nlate, buf, k);
				nlate += k;
			}
			if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
				break;
		}
		if (rt__pid_start_time(rec.pid) != rec.pid_start)
			break;
	}
	if (nlate > 0 && late[0] == 'E') {
		late[nlate] = '\0';
		return rt__error_plain(err, EIO, "starting container `%s`: %s", id,
				       nlate > 1 ? late + 1 : "its init failed before exec");
	}
	/* runtime.md, Lifecycle 9: a failing poststart hook is an error, and
	 * the container is stopped (delete then destroys it, step 12). */
	if ((rec.hooks & (1U << RT_HOOK_POSTSTART)) &&
	    run_late_hooks(dir, &rec, RT_HOOK_POSTSTART, RT_STATUS_RUNNING, err) < 0) {
		rt_error_t e2;
		if (rec.cgroup[0] && !has_flag(dir, "cgroup.shared"))
			rt_cgroup_kill(rec.cgroup, SIGKILL, &e2);
		else
			kill(rec.pid, SIGKILL);
		for (int waited = 0; waited < 5000 && rt__pid_start_time(rec.pid) == rec.pid_start;
		     waited += 5) {
			struct timespec ts = {0, 5 * 1000 * 1000};
			nanosleep(&ts, NULL);
		}
		return rt_error_wrap(err, "starting container `%s` (stopped it)", id);
	}
	return 0;
}

int rt_container_kill(const char *state_root, const char *id, int sig, bool all, rt_error_t *err)
{
	char dir[PATH_MAX];
	rt__state_rec_t rec;
	rt_status_t status;
	if (rt__container_load(state_root, id, dir, sizeof(dir), &rec, &status, err) < 0)
		return -1;
	if (rec.annotations)
		json_decref(rec.annotations);
	/* runtime.md, Kill: neither created nor running is an error, --all or
	 * not, with no effect on the container. */
	if (status != RT_STATUS_CREATED && status != RT_STATUS_RUNNING &&
	    status != RT_STATUS_PAUSED)
		return rt__error_plain(err, ESRCH, "container `%s` is not running (%s)", id,
				       rt_status_name(status));
	if (all && rec.cgroup[0]) {
		if (rt_cgroup_kill(rec.cgroup, sig, err) < 0)
			return rt_error_wrap(err, "killing container `%s`", id);
	} else if (kill(rec.pid, sig) < 0) {
		return rt_error_set(err, errno, "sending signal %d to container `%s` (pid %d)", sig,
				    id, (int)rec.pid);
	}
	/* A frozen v1 task does not die of SIGKILL until thawed: thaw after
	 * sending it, as runc does (other signals wait for resume). */
	if (status == RT_STATUS_PAUSED && sig == SIGKILL &&
	    rt__cgroup_freeze(rec.cgroup, false, err) < 0)
		return rt_error_wrap(err, "killing paused container `%s`: thawing it", id);
	return 0;
}

int rt_container_delete(const char *state_root, const char *id, bool force, rt_error_t *err)
{
	cleanup_close int lock = rt__state_lock(state_root, id);
	char dir[PATH_MAX];
	rt__state_rec_t rec;
	rt_status_t status;
	if (rt__container_load(state_root, id, dir, sizeof(dir), &rec, &status, err) < 0)
		return -1;
	cleanup_json json_t *ann = rec.annotations;
	if (status != RT_STATUS_STOPPED && !force && status != RT_STATUS_CREATING)
		return rt__error_plain(
		    err, EBUSY, "cannot delete container `%s` that is %s (stop it or use --force)",
		    id, rt_status_name(status));
	if (status == RT_STATUS_CREATING && !force)
		return rt__error_plain(err, EBUSY, "container `%s` is being created", id);
	if (status != RT_STATUS_STOPPED && rec.pid > 0)
		kill(rec.pid, SIGKILL);
	/* Killing what is in a frozen cgroup needs it thawed (v1). */
	rt_error_t ferr;
	if (status == RT_STATUS_PAUSED && rt__cgroup_freeze(rec.cgroup, false, &ferr) < 0)
		fprintf(stderr, "ocirun: warning: container `%s`: %s\n", id, ferr.msg);
	/* A cgroup this container did not create is not its to delete. */
	const bool shared = has_flag(dir, "cgroup.shared");
	if (rec.cgroup[0] && !shared && rt_cgroup_destroy(rec.cgroup, 5000, err) < 0)
		return rt_error_wrap(err, "deleting container `%s`", id);
	/* The default parent ("ocirun" of "ocirun/<id>") stays, empty, like
	 * docker's "/docker": making and removing it in every v1 hierarchy
	 * for each container costs ~0.6 ms of a ~8 ms run, and in cpuset it
	 * keeps the cpus/mems its children inherit (clone_children). */
	/* runtime.md, Lifecycle 13: a failing poststop hook is a warning. */
	rt_error_t herr;
	if ((rec.hooks & (1U << RT_HOOK_POSTSTOP)) &&
	    run_late_hooks(dir, &rec, RT_HOOK_POSTSTOP, RT_STATUS_STOPPED, &herr) < 0)
		fprintf(stderr, "ocirun: warning: container `%s`: %s\n", id, herr.msg);
	if (rt__state_remove(dir, err) < 0)
		return rt_error_wrap(err, "deleting container `%s`", id);
	return 0;
}
