/* Container state on disk: state_root/<id>/state.json (what create learned:
 * pid and its start time, bundle, cgroup, creation time, annotations) and
 * the exec fifo beside it, the copy of config.json taken at create, and
 * `cgroup.shared` when the cgroup was not created by the container. Status
 * is not stored: it is derived from the pid, the fifo and (paused) the
 * cgroup's freezer state when read (rt__container_load). */
#include <dirent.h>
#include <errno.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "runtime/cgroup-internal.h"
#include "runtime/rt-internal.h"

#define DEFAULT_STATE_ROOT "/run/ocirun"

int rt__check_id(const char *id, rt_error_t *err)
{
	if (id == NULL || id[0] == '\0')
		return rt__error_plain(err, EINVAL, "container id missing");
	size_t n = strlen(id);
	if (n >= 256 || strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
		return rt__error_plain(err, EINVAL, "invalid container id `%.64s`", id);
	for (size_t i = 0; i < n; i++) {
		char c = id[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.' || c == '+'))
			return rt__error_plain(
			    err, EINVAL,
			    "invalid container id `%.64s`: only letters, digits and "
			    "_ - . + allowed",
			    id);
	}
	return 0;
}

int rt__state_dir(const char *state_root, const char *id, char *out, size_t n, rt_error_t *err)
{
	if (rt__check_id(id, err) < 0)
		return -1;
	if (state_root == NULL)
		state_root = "/run/ocirun";
	if ((size_t)snprintf(out, n, "%s/%s", state_root, id) >= n)
		return rt_error_set(err, ENAMETOOLONG, "state directory of `%s`", id);
	return 0;
}

int rt__state_lock(const char *state_root, const char *id)
{
	char dir[PATH_MAX];
	if (rt__state_dir(state_root, id, dir, sizeof(dir), NULL) < 0)
		return -1;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR) {
			close(fd);
			return -1;
		}
	return fd;
}

int rt__state_write(const char *dir, const rt__state_rec_t *rec, rt_error_t *err)
{
	cleanup_json json_t *j = json_pack(
	    "{s:s, s:I, s:I, s:s, s:s, s:s, s:I}", "id", rec->id, "pid", (json_int_t)rec->pid,
	    "pid_start", (json_int_t)rec->pid_start, "bundle", rec->bundle, "rootfs", rec->rootfs,
	    "cgroup", rec->cgroup, "created_ms", (json_int_t)rec->created_ms);
	if (j == NULL)
		return rt_error_set(err, ENOMEM, "encoding state of `%s`", rec->id);
	if (rec->annotations)
		json_object_set(j, "annotations", rec->annotations);
	if (rec->hooks)
		json_object_set_new(j, "hooks", json_integer(rec->hooks));
	char tmp[PATH_MAX], path[PATH_MAX];
	snprintf(tmp, sizeof(tmp), "%s/.state.json.tmp", dir);
	snprintf(path, sizeof(path), "%s/state.json", dir);
	if (json_dump_file(j, tmp, JSON_COMPACT) < 0)
		return rt_error_set(err, errno ? errno : EIO, "writing `%s`", tmp);
	if (rename(tmp, path) < 0)
		return rt_error_set(err, errno, "renaming `%s` to `%s`", tmp, path);
	return 0;
}

static void copy_str(char *dst, size_t n, json_t *v)
{
	snprintf(dst, n, "%s", json_is_string(v) ? json_string_value(v) : "");
}

int rt__state_read(const char *dir, rt__state_rec_t *rec, rt_error_t *err)
{
	memset(rec, 0, sizeof(*rec));
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/state.json", dir);
	json_error_t je;
	cleanup_json json_t *j = json_load_file(path, 0, &je);
	if (j == NULL) {
		if (access(path, F_OK) < 0)
			return rt_error_set(err, errno, "reading `%s`", path);
		return rt__error_plain(err, EINVAL, "reading `%s`: %s", path, je.text);
	}
	copy_str(rec->id, sizeof(rec->id), json_object_get(j, "id"));
	copy_str(rec->bundle, sizeof(rec->bundle), json_object_get(j, "bundle"));
	copy_str(rec->rootfs, sizeof(rec->rootfs), json_object_get(j, "rootfs"));
	copy_str(rec->cgroup, sizeof(rec->cgroup), json_object_get(j, "cgroup"));
	rec->pid = (pid_t)json_integer_value(json_object_get(j, "pid"));
	rec->pid_start = (unsigned long long)json_integer_value(json_object_get(j, "pid_start"));
	rec->created_ms = json_integer_value(json_object_get(j, "created_ms"));
	rec->hooks = (unsigned)json_integer_value(json_object_get(j, "hooks"));
	json_t *a = json_object_get(j, "annotations");
	rec->annotations = json_is_object(a) ? json_incref(a) : NULL;
	return 0;
}

unsigned long long rt__pid_start_time(pid_t pid)
{
	if (pid <= 0)
		return 0;
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* comm may hold spaces and parens: fields start after the last ')'. */
	char *p = strrchr(buf, ')');
	if (p == NULL || p[1] == '\0')
		return 0;
	p += 2; /* field 3: state */
	if (*p == 'Z' || *p == 'X')
		return 0;
	for (int field = 3; field < 22 && p; field++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	return p ? strtoull(p, NULL, 10) : 0;
}

int rt__state_remove(const char *dir, rt_error_t *err)
{
	DIR *d = opendir(dir);
	if (d == NULL) {
		if (errno == ENOENT)
			return 0;
		return rt_error_set(err, errno, "opening `%s`", dir);
	}
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT) {
			int e = errno;
			closedir(d);
			return rt_error_set(err, e, "removing `%s/%s`", dir, de->d_name);
		}
	}
	closedir(d);
	if (rmdir(dir) < 0 && errno != ENOENT)
		return rt_error_set(err, errno, "removing `%s`", dir);
	return 0;
}

int rt__container_config(const char *dir, const char *bundle, rt_config_t **out, rt_error_t *err)
{
	char path[PATH_MAX + 16];
	snprintf(path, sizeof(path), "%s/config.json", dir);
	size_t len;
	rt_error_t e2;
	cleanup_free char *text = rt__read_file(path, &len, &e2);
	if (text == NULL) {
		if (e2.errnum == ENOENT) {
			if (rt_config_load(bundle, out, err) < 0)
				return -1;
			goto silent;
		}
		if (err)
			*err = e2;
		return -1;
	}
	if (rt_config_parse(text, len, out, err) < 0)
		return rt_error_wrap(err, "`%s`", path);
silent: /* Its warnings were shown at create. */
	rt__strv_free((*out)->warnings);
	(*out)->warnings = NULL;
	return 0;
}

/* ---- state -------------------------------------------------------------- */

int rt__container_load(const char *state_root, const char *id, char *dir, size_t n,
		       rt__state_rec_t *rec, rt_status_t *status, rt_error_t *err)
{
	if (state_root == NULL)
		state_root = DEFAULT_STATE_ROOT;
	if (rt__state_dir(state_root, id, dir, n, err) < 0)
		return -1;
	if (rt__state_read(dir, rec, err) < 0) {
		if (err && err->errnum == ENOENT) {
			struct stat st;
			if (stat(dir, &st) == 0) {
				/* The directory without state.json: create is under way. */
				memset(rec, 0, sizeof(*rec));
				snprintf(rec->id, sizeof(rec->id), "%s", id);
				*status = RT_STATUS_CREATING;
				return 0;
			}
			return rt__error_plain(err, ENOENT, "container `%s` does not exist", id);
		}
		return -1;
	}
	unsigned long long start = rt__pid_start_time(rec->pid);
	if (start == 0 || start != rec->pid_start) {
		*status = RT_STATUS_STOPPED;
	} else {
		char fifo[PATH_MAX + 16];
		snprintf(fifo, sizeof(fifo), "%s/exec.fifo", dir);
		*status = access(fifo, F_OK) == 0 ? RT_STATUS_CREATED : RT_STATUS_RUNNING;
		/* Paused: running with its cgroup frozen (read only for a
		 * running container: create and start never pay for it). */
		bool frozen = false;
		rt_error_t e2;
		if (*status == RT_STATUS_RUNNING && rec->cgroup[0] &&
		    rt__cgroup_frozen(rec->cgroup, &frozen, &e2) == 0 && frozen)
			*status = RT_STATUS_PAUSED;
	}
	return 0;
}

int rt_container_state(const char *state_root, const char *id, rt_state_t *st, rt_error_t *err)
{
	char dir[PATH_MAX];
	rt__state_rec_t rec;
	rt_status_t status;
	if (rt__container_load(state_root, id, dir, sizeof(dir), &rec, &status, err) < 0)
		return -1;
	memset(st, 0, sizeof(*st));
	snprintf(st->id, sizeof(st->id), "%s", id);
	st->status = status;
	st->pid = status == RT_STATUS_STOPPED ? 0 : rec.pid;
	snprintf(st->bundle, sizeof(st->bundle), "%s", rec.bundle);
	snprintf(st->cgroup, sizeof(st->cgroup), "%s", rec.cgroup);
	st->created_ms = rec.created_ms;
	if (rec.annotations)
		json_decref(rec.annotations);
	return 0;
}

char *rt_container_state_json(const char *state_root, const char *id, rt_error_t *err)
{
	char dir[PATH_MAX];
	rt__state_rec_t rec;
	rt_status_t status;
	if (rt__container_load(state_root, id, dir, sizeof(dir), &rec, &status, err) < 0)
		return NULL;
	char created[64] = "";
	time_t secs = (time_t)(rec.created_ms / 1000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	size_t l = strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(created + l, sizeof(created) - l, ".%03dZ", (int)(rec.created_ms % 1000));
	/* "owner": what runc's `state` prints ("" always: runc fills in the
	 * owner's name only in `list`); crun prints the user name. */
	json_t *j = json_pack("{s:s, s:s, s:s, s:i, s:s, s:s, s:s, s:s}", "ociVersion", "1.0.2",
			      "id", id, "status", rt_status_name(status), "pid",
			      status == RT_STATUS_STOPPED ? 0 : (int)rec.pid, "bundle", rec.bundle,
			      "rootfs", rec.rootfs, "created", created, "owner", "");
	if (rec.annotations)
		json_object_set_new(j, "annotations", rec.annotations);
	char *s = json_dumps(j, JSON_INDENT(2));
	json_decref(j);
	if (s == NULL)
		rt_error_set(err, ENOMEM, "encoding the state of `%s`", id);
	return s;
}

int rt__send_all(int fd, const void *buf, size_t n)
{
	size_t off = 0;
	while (off < n) {
		ssize_t w = send(fd, (const char *)buf + off, n - off, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		off += (size_t)w;
	}
	return 0;
}

size_t rt__read_full(int fd, void *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, (char *)buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	return got;
}
