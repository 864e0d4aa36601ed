/* cgroups: mode detection (statfs magic), the driver chosen once, the public
 * rt_cgroup_* calls that dispatch to it, and the small file helpers both
 * drivers share. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <pthread.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "runtime/cgroup-internal.h"
#include "runtime/rt-internal.h"

#define CGROUP_ROOT "/sys/fs/cgroup"

void rt__strv_free(char **v)
{
	if (v == NULL)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

size_t rt__strv_len(char *const *v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	return n;
}

int rt__write_file(const char *path, const char *data, rt_error_t *err)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return rt_error_set(err, errno, "opening `%s`", path);
	size_t len = strlen(data);
	ssize_t w = write(fd, data, len);
	int e = errno;
	close(fd);
	if (w < 0)
		return rt_error_set(err, e, "writing `%s` to `%s`", data, path);
	if ((size_t)w != len)
		return rt_error_set(err, EIO, "short write to `%s`", path);
	return 0;
}

int rt__write_filef(const char *path, rt_error_t *err, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return rt__write_file(path, buf, err);
}

char *rt__read_file(const char *path, size_t *len, rt_error_t *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rt_error_set(err, errno, "opening `%s`", path);
		return NULL;
	}
	size_t cap = 4096, n = 0;
	char *buf = rt__xmalloc(cap);
	for (;;) {
		if (n + 1 >= cap) {
			cap *= 2;
			buf = rt__xrealloc(buf, cap);
		}
		ssize_t r = read(fd, buf + n, cap - n - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			rt_error_set(err, errno, "reading `%s`", path);
			close(fd);
			free(buf);
			return NULL;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

int rt__mkdir_p(const char *path, mode_t mode, rt_error_t *err)
{
	char buf[4096];
	if (strlen(path) >= sizeof(buf))
		return rt_error_set(err, ENAMETOOLONG, "creating `%s`", path);
	/* Most calls find the parents there already: one mkdir, not one per
	 * component (mkdir in cgroupfs is not cheap). */
	if (mkdir(path, mode) == 0 || errno == EEXIST)
		return 0;
	if (errno != ENOENT)
		return rt_error_set(err, errno, "creating directory `%s`", path);
	strcpy(buf, path);
	for (char *p = buf + 1;; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;
			*p = '\0';
			if (mkdir(buf, mode) < 0 && errno != EEXIST)
				return rt_error_set(err, errno, "creating directory `%s`", buf);
			*p = c;
			if (c == '\0')
				break;
		}
	}
	return 0;
}

int rt__cgroup_clean_path(const char *path, char *out, size_t n, rt_error_t *err)
{
	if (path == NULL)
		return rt__error_plain(err, EINVAL, "cgroup path missing");
	while (*path == '/')
		path++;
	if (*path == '\0')
		return rt__error_plain(err, EINVAL, "cgroup path `%s` names the root", path);
	if (strlen(path) >= n)
		return rt_error_set(err, ENAMETOOLONG, "cgroup path `%s`", path);
	/* No "." or ".." components: a path must stay below the hierarchy root. */
	const char *p = path;
	while (*p) {
		const char *e = strchrnul(p, '/');
		size_t l = (size_t)(e - p);
		if ((l == 1 && p[0] == '.') || (l == 2 && p[0] == '.' && p[1] == '.'))
			return rt__error_plain(err, EINVAL,
					       "cgroup path `%s`: `.` and `..` not allowed", path);
		p = *e ? e + 1 : e;
	}
	strcpy(out, path);
	size_t l = strlen(out);
	while (l > 0 && out[l - 1] == '/')
		out[--l] = '\0';
	return 0;
}

int rt__cgroup_read_pids(const char *file, pid_t **pids, size_t *n, rt_error_t *err)
{
	rt_error_t e2;
	cleanup_free char *s = rt__read_file(file, NULL, &e2);
	if (s == NULL) {
		if (e2.errnum == ENOENT)
			return 0;
		if (err)
			*err = e2;
		return -1;
	}
	char *save = NULL;
	for (char *tok = strtok_r(s, "\n", &save); tok; tok = strtok_r(NULL, "\n", &save)) {
		long v = strtol(tok, NULL, 10);
		if (v <= 0)
			continue;
		*pids = rt__xrealloc(*pids, (*n + 1) * sizeof(pid_t));
		(*pids)[(*n)++] = (pid_t)v;
	}
	return 0;
}

int rt__cgroup_read_keyed(const char *file, const char *key, uint64_t *out, rt_error_t *err)
{
	cleanup_free char *s = rt__read_file(file, NULL, err);
	if (s == NULL)
		return -1;
	*out = 0;
	size_t kl = strlen(key);
	for (char *line = s; line && *line;) {
		char *nl = strchr(line, '\n');
		if (strncmp(line, key, kl) == 0 && line[kl] == ' ') {
			*out = strtoull(line + kl + 1, NULL, 10);
			return 0;
		}
		line = nl ? nl + 1 : NULL;
	}
	return 0;
}

int rt__cgroup_read_u64(const char *file, uint64_t *out, rt_error_t *err)
{
	cleanup_free char *s = rt__read_file(file, NULL, err);
	if (s == NULL)
		return -1;
	if (strncmp(s, "max", 3) == 0)
		*out = UINT64_MAX;
	else
		*out = strtoull(s, NULL, 10);
	return 0;
}

int rt__cgroup_rmdir_tree(const char *dir, rt_error_t *err)
{
	DIR *d = opendir(dir);
	if (d == NULL) {
		if (errno == ENOENT)
			return 0;
		return rt_error_set(err, errno, "opening cgroup `%s`", dir);
	}
	struct dirent *de;
	int rc = 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_type != DT_DIR || strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		char sub[4096];
		snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name);
		if (rt__cgroup_rmdir_tree(sub, err) < 0) {
			rc = -1;
			break;
		}
	}
	closedir(d);
	if (rc < 0)
		return rc;
	/* A cgroup whose last task just exited may report EBUSY for a moment. */
	for (int i = 0; i < 200; i++) {
		if (rmdir(dir) == 0 || errno == ENOENT)
			return 0;
		if (errno != EBUSY)
			break;
		usleep(1000);
	}
	return rt_error_set(err, errno, "removing cgroup `%s`", dir);
}

/* ---- mode and driver ---------------------------------------------------- */

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static rt_cgroup_mode_t g_mode;
static int g_mode_errno;
static rt__cgroup_driver_t g_driver;

static void detect(void)
{
	struct statfs fs;
	if (statfs(CGROUP_ROOT, &fs) < 0) {
		g_mode_errno = errno ? errno : EIO;
		return;
	}
	if (fs.f_type == CGROUP2_SUPER_MAGIC) {
		g_mode = RT_CGROUP_UNIFIED;
		rt__cgroup_v2_driver(CGROUP_ROOT, &g_driver);
		return;
	}
	if (fs.f_type != TMPFS_MAGIC) {
		g_mode_errno = ENOTSUP;
		return;
	}
	g_mode = RT_CGROUP_LEGACY;
	if (statfs(CGROUP_ROOT "/unified", &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC)
		g_mode = RT_CGROUP_HYBRID;
	rt__cgroup_v1_driver(CGROUP_ROOT, &g_driver);
}

int rt_cgroup_mode(rt_cgroup_mode_t *mode, rt_error_t *err)
{
	pthread_once(&g_once, detect);
	if (g_mode_errno != 0)
		return rt_error_set(err, g_mode_errno,
				    "detecting the cgroup mode of `" CGROUP_ROOT "`");
	if (mode)
		*mode = g_mode;
	return 0;
}

const char *rt_cgroup_mode_name(rt_cgroup_mode_t mode)
{
	switch (mode) {
	case RT_CGROUP_LEGACY:
		return "legacy";
	case RT_CGROUP_HYBRID:
		return "hybrid";
	case RT_CGROUP_UNIFIED:
		return "unified";
	}
	return "unknown";
}

int rt__cgroup_driver(const rt__cgroup_driver_t **d, rt_error_t *err)
{
	if (rt_cgroup_mode(NULL, err) < 0)
		return -1;
	*d = &g_driver;
	return 0;
}

bool rt__cgroup_can_enter_self(void)
{
	const rt__cgroup_driver_t *d;
	return rt__cgroup_driver(&d, NULL) == 0 && d->ops->enter_self != NULL;
}

int rt__cgroup_enter_self(const char *path, rt_error_t *err)
{
	const rt__cgroup_driver_t *d;
	if (rt__cgroup_driver(&d, err) < 0)
		return -1;
	if (d->ops->enter_self == NULL)
		return rt_error_set(err, ENOTSUP, "moving into cgroup `%s`", path);
	return d->ops->enter_self(d, path, err);
}

void rt__cgroup_rmdir_if_empty(const char *path)
{
	const rt__cgroup_driver_t *d;
	char clean[1024], dir[2048];
	if (rt__cgroup_driver(&d, NULL) < 0 ||
	    rt__cgroup_clean_path(path, clean, sizeof(clean), NULL) < 0)
		return;
	if (d->nhier == 0) {
		snprintf(dir, sizeof(dir), "%s/%s", d->root, clean);
		rmdir(dir);
	}
	for (int i = 0; i < d->nhier; i++) {
		snprintf(dir, sizeof(dir), "%s/%s/%s", d->root, d->hier[i], clean);
		rmdir(dir);
	}
	for (int i = 0; i < d->nopt; i++) {
		snprintf(dir, sizeof(dir), "%s/%s/%s", d->root, d->opt[i], clean);
		rmdir(dir);
	}
}

#define DISPATCH(call)                                                                             \
	const rt__cgroup_driver_t *d;                                                              \
	if (rt__cgroup_driver(&d, err) < 0)                                                        \
		return -1;                                                                         \
	return call

int rt_cgroup_create(const char *path, const rt_cgroup_limits_t *limits, rt_error_t *err)
{
	DISPATCH(d->ops->create(d, path, limits, err));
}

int rt_cgroup_set_limits(const char *path, const rt_cgroup_limits_t *limits, rt_error_t *err)
{
	DISPATCH(d->ops->set_limits(d, path, limits, err));
}

int rt_cgroup_enter(const char *path, pid_t pid, rt_error_t *err)
{
	DISPATCH(d->ops->enter(d, path, pid, err));
}

int rt_cgroup_stats(const char *path, rt_cgroup_stats_t *stats, rt_error_t *err)
{
	DISPATCH(d->ops->stats(d, path, stats, err));
}

int rt_cgroup_kill(const char *path, int sig, rt_error_t *err)
{
	DISPATCH(d->ops->kill(d, path, sig, err));
}

int rt_cgroup_destroy(const char *path, int timeout_ms, rt_error_t *err)
{
	DISPATCH(d->ops->destroy(d, path, timeout_ms, err));
}

int rt__cgroup_set_extra(const char *path, const rt__cgroup_extra_t *x, rt_error_t *err)
{
	DISPATCH(d->ops->set_extra(d, path, x, err));
}

int rt_cgroup_pids(const char *path, pid_t **pids, size_t *n, rt_error_t *err)
{
	*pids = NULL;
	*n = 0;
	const rt__cgroup_driver_t *d;
	if (rt__cgroup_driver(&d, err) < 0)
		return -1;
	if (d->ops->pids(d, path, pids, n, err) < 0)
		return -1;
	return (int)*n;
}
