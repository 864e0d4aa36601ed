/* Container state on disk: state_root/<id>/state.json (what create learned:
 * pid and its start time, bundle, cgroup, creation time, annotations) and
 * the exec fifo beside it. Status is not stored: it is derived from the pid
 * and the fifo when read (container.c). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "runtime/rt-internal.h"

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
