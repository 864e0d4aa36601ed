/* cgroups: mode detection (statfs magic), the driver chosen once, the public
 * rt_cgroup_* calls that dispatch to it, and the small file helpers both
 * drivers share (the cgroup2 ones too: the v1 driver uses them for a hybrid
 * host's unified tree). */
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
	 * component (mkdir in cgroupfs is not cheap). Otherwise walk up only
	 * as far as a missing parent, then down again. */
	if (mkdir(path, mode) == 0 || errno == EEXIST)
		return 0;
	if (errno != ENOENT)
		return rt_error_set(err, errno, "creating directory `%s`", path);
	strcpy(buf, path);
	char *slash = strrchr(buf, '/');
	while (slash && slash > buf && slash[-1] == '/')
		slash--;
	if (slash == NULL || slash == buf)
		return rt_error_set(err, ENOENT, "creating directory `%s`", path);
	*slash = '\0';
	if (rt__mkdir_p(buf, mode, err) < 0)
		return -1;
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return rt_error_set(err, errno, "creating directory `%s`", path);
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
	/* Most cgroups have no children: no need to read the directory. */
	if (rmdir(dir) == 0 || errno == ENOENT)
		return 0;
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
	if (g_mode == RT_CGROUP_HYBRID)
		rt__cgroup_v1_set_hybrid(&g_driver);
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
	char clean[1024], dir[4096];
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

int rt__cgroup_freeze(const char *path, bool frozen, rt_error_t *err)
{
	DISPATCH(d->ops->freeze(d, path, frozen, err));
}

int rt__cgroup_frozen(const char *path, bool *frozen, rt_error_t *err)
{
	*frozen = false;
	DISPATCH(d->ops->frozen(d, path, frozen, err));
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

/* ---- cgroup2 files shared by the v2 driver and the hybrid v1 driver ---- */

/* Whether the space-separated list holds word w. */
static bool has_word(const char *list, const char *w, size_t wl)
{
	for (const char *p = list; (p = strstr(p, w)) != NULL; p += wl) {
		bool start = p == list || p[-1] == ' ' || p[-1] == '\n';
		bool end = p[wl] == '\0' || p[wl] == ' ' || p[wl] == '\n';
		if (start && end)
			return true;
	}
	return false;
}

bool rt__cgroup2_available(const char *root, const char *ctl)
{
	if (strcmp(ctl, "cgroup") == 0)
		return true;
	char f[1024];
	snprintf(f, sizeof(f), "%s/cgroup.controllers", root);
	cleanup_free char *have = rt__read_file(f, NULL, NULL);
	return have != NULL && has_word(have, ctl, strlen(ctl));
}

int rt__cgroup2_prepare(const char *root, const char *clean, const char *ctls, bool create,
			rt_error_t *err)
{
	char want[256] = "", dir[4096], f[4200];
	for (const char *p = ctls; *p;) {
		size_t l = strcspn(p, " ");
		if (l > 0 && strlen(want) + l + 3 < sizeof(want)) {
			strcat(want, want[0] ? " +" : "+");
			strncat(want, p, l);
		}
		p += l;
		p += strspn(p, " ");
	}
	if ((size_t)snprintf(dir, sizeof(dir), "%s/%s", root, clean) >= sizeof(dir))
		return rt_error_set(err, ENAMETOOLONG, "cgroup `%s/%s`", root, clean);
	/* dir[0..end) is the level at hand: root, then each component. */
	size_t end = strlen(root);
	for (;;) {
		char c = dir[end];
		dir[end] = '\0';
		if (end > strlen(root) && create && mkdir(dir, 0755) < 0 && errno != EEXIST)
			return rt_error_set(err, errno, "creating cgroup `%s`", dir);
		if (c != '\0' && want[0]) {
			/* not the leaf: its children get the controllers */
			snprintf(f, sizeof(f), "%s/cgroup.subtree_control", dir);
			if (rt__write_file(f, want, err) < 0) {
				dir[end] = c;
				return -1;
			}
		}
		dir[end] = c;
		if (c == '\0')
			return 0;
		end += 1 + strcspn(dir + end + 1, "/");
	}
}

int rt__cgroup_hugetlb(const char *dir, const rt__cgroup_extra_t *x, const char *limit_file,
		       rt_error_t *err)
{
	for (size_t i = 0; i < x->nhugepages; i++) {
		const rt__hugepage_limit_t *h = &x->hugepages[i];
		char f[4096];
		snprintf(f, sizeof(f), "%s/hugetlb.%s.%s", dir, h->page_size, limit_file);
		if (access(f, F_OK) < 0)
			return rt__error_plain(err, ENOTSUP,
					       "linux.resources.hugepageLimits[%zu].pageSize: "
					       "huge page size `%s` is not supported by this host "
					       "(no `%s`)",
					       i, h->page_size, f);
		if (rt__write_filef(f, err, "%" PRIu64, h->limit) < 0)
			return rt_error_wrap(err, "linux.resources.hugepageLimits[%zu]", i);
		/* reservation accounting (5.7+) enforces at mmap time */
		snprintf(f, sizeof(f), "%s/hugetlb.%s.rsvd.%s", dir, h->page_size, limit_file);
		if (access(f, F_OK) == 0 && rt__write_filef(f, err, "%" PRIu64, h->limit) < 0)
			return rt_error_wrap(err, "linux.resources.hugepageLimits[%zu]", i);
	}
	return 0;
}

int rt__cgroup2_unified(const char *dir, const rt__cgroup_extra_t *x, rt_error_t *err)
{
	const char *key;
	json_t *v;
	if (x->unified == NULL)
		return 0;
	json_object_foreach(x->unified, key, v)
	{
		char f[4096];
		snprintf(f, sizeof(f), "%s/%s", dir, key);
		if (rt__write_file(f, json_string_value(v), err) < 0)
			return rt_error_wrap(err, "linux.resources.unified.%s", key);
	}
	return 0;
}

int rt__cgroup2_needs(const char *root, const rt__cgroup_extra_t *x, bool hugetlb, char *out,
		      size_t n, rt_error_t *err)
{
	char f[1024];
	out[0] = '\0';
	snprintf(f, sizeof(f), "%s/cgroup.controllers", root);
	cleanup_free char *have = rt__read_file(f, NULL, NULL);
	size_t hl = have ? strlen(have) : 0;
	while (hl > 0 && have[hl - 1] == '\n')
		have[--hl] = '\0';
	const char *list = have ? have : "";
	if (hugetlb && x->nhugepages > 0) {
		if (!has_word(list, "hugetlb", 7))
			return rt__error_plain(err, ENOTSUP,
					       "linux.resources.hugepageLimits: the hugetlb "
					       "controller is not available on this host (the "
					       "cgroup2 tree `%s` has: %s)",
					       root, list[0] ? list : "none");
		snprintf(out, n, "hugetlb");
	}
	const char *key;
	json_t *v;
	if (x->unified == NULL)
		return 0;
	json_object_foreach(x->unified, key, v)
	{
		size_t l = strcspn(key, ".");
		char ctl[64];
		snprintf(ctl, sizeof(ctl), "%.*s", (int)(l < 63 ? l : 63), key);
		if (strcmp(ctl, "cgroup") == 0 || has_word(out, ctl, strlen(ctl)))
			continue;
		if (!has_word(list, ctl, strlen(ctl)))
			return rt__error_plain(err, ENOTSUP,
					       "linux.resources.unified.%s: controller `%s` is not "
					       "available in the cgroup2 tree `%s` (it has: %s)",
					       key, ctl, root, list[0] ? list : "none");
		size_t ol = strlen(out);
		if (ol + strlen(ctl) + 2 < n)
			snprintf(out + ol, n - ol, "%s%s", ol ? " " : "", ctl);
	}
	return 0;
}

int rt__cgroup_rdma(const char *dir, const rt__cgroup_extra_t *x, rt_error_t *err)
{
	const char *dev;
	json_t *v;
	char f[4096];
	snprintf(f, sizeof(f), "%s/rdma.max", dir);
	if (x->rdma && access(f, F_OK) < 0)
		return rt__error_plain(err, ENOTSUP, "linux.resources.rdma: no `%s`", f);
	json_object_foreach(x->rdma, dev, v)
	{
		char line[256] = "", part[64];
		snprintf(line, sizeof(line), "%s", dev);
		json_t *h = json_object_get(v, "hcaHandles"), *o = json_object_get(v, "hcaObjects");
		if (json_is_integer(h)) {
			snprintf(part, sizeof(part), " hca_handle=%lld",
				 (long long)json_integer_value(h));
			strcat(line, part);
		}
		if (json_is_integer(o)) {
			snprintf(part, sizeof(part), " hca_object=%lld",
				 (long long)json_integer_value(o));
			strcat(line, part);
		}
		if (rt__write_file(f, line, err) < 0)
			return rt_error_wrap(err, "linux.resources.rdma.%s", dev);
	}
	return 0;
}
