/* Freezing and thawing a cgroup (`ocirun pause` / `resume`), for both
 * drivers: v1 through freezer.state in the freezer hierarchy, v2 through
 * cgroup.freeze and the `frozen` key of cgroup.events. Each waits until the
 * kernel reports the new state, as runc does. */
#include <errno.h>
#include <limits.h>
#include <time.h>

#include "runtime/cgroup-internal.h"
#include "runtime/rt-internal.h"

#define FREEZE_TIMEOUT_MS 5000

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000 * 1000};
	nanosleep(&ts, NULL);
}

/* dir of path under root/sub ("" for v2). */
static int cg_path(const rt__cgroup_driver_t *d, const char *sub, const char *path, char *out,
		   size_t n, rt_error_t *err)
{
	char clean[1024];
	if (rt__cgroup_clean_path(path, clean, sizeof(clean), err) < 0)
		return -1;
	if ((size_t)snprintf(out, n, "%s%s%s/%s", d->root, sub[0] ? "/" : "", sub, clean) >= n)
		return rt_error_set(err, ENAMETOOLONG, "cgroup path `%s`", path);
	return 0;
}

/* ---- v1: freezer.state --------------------------------------------------- */

static int v1_freezer_file(const rt__cgroup_driver_t *d, const char *path, char *out, size_t n,
			   rt_error_t *err)
{
	bool mounted = false;
	for (int i = 0; i < d->nhier; i++)
		if (strcmp(d->hier[i], "freezer") == 0)
			mounted = true;
	if (!mounted)
		return rt__error_plain(err, ENOTSUP,
				       "cgroup `%s`: no freezer hierarchy is mounted under `%s`",
				       path, d->root);
	char dir[PATH_MAX];
	if (cg_path(d, "freezer", path, dir, sizeof(dir), err) < 0)
		return -1;
	if ((size_t)snprintf(out, n, "%s/freezer.state", dir) >= n)
		return rt_error_set(err, ENAMETOOLONG, "cgroup path `%s`", path);
	return 0;
}

/* "FROZEN", "FREEZING" or "THAWED" into st. */
static int v1_read_state(const char *file, char *st, size_t n, rt_error_t *err)
{
	size_t len;
	cleanup_free char *s = rt__read_file(file, &len, err);
	if (s == NULL)
		return -1;
	s[strcspn(s, "\n")] = '\0';
	snprintf(st, n, "%s", s);
	return 0;
}

int rt__cgroup_v1_frozen(const rt__cgroup_driver_t *d, const char *path, bool *frozen,
			 rt_error_t *err)
{
	char file[PATH_MAX + 32], st[32];
	*frozen = false;
	if (v1_freezer_file(d, path, file, sizeof(file), err) < 0 ||
	    v1_read_state(file, st, sizeof(st), err) < 0)
		return -1;
	*frozen = strcmp(st, "THAWED") != 0;
	return 0;
}

int rt__cgroup_v1_freeze(const rt__cgroup_driver_t *d, const char *path, bool frozen,
			 rt_error_t *err)
{
	char file[PATH_MAX + 32], st[32];
	const char *want = frozen ? "FROZEN" : "THAWED";
	if (v1_freezer_file(d, path, file, sizeof(file), err) < 0)
		return -1;
	for (int waited = 0;; waited += 2) {
		/* A task forking while the cgroup freezes can leave it FREEZING:
		 * writing FROZEN again retries, as runc does. */
		if ((waited % 100) == 0 && rt__write_file(file, want, err) < 0)
			return rt_error_wrap(err, "%s cgroup `%s`", frozen ? "freezing" : "thawing",
					     path);
		if (v1_read_state(file, st, sizeof(st), err) < 0)
			return -1;
		if (strcmp(st, want) == 0)
			return 0;
		if (waited >= FREEZE_TIMEOUT_MS)
			break;
		sleep_ms(2);
	}
	if (frozen) {
		rt_error_t e2;
		rt__write_file(file, "THAWED", &e2);
	}
	return rt__error_plain(err, ETIMEDOUT, "%s cgroup `%s`: `%s` still says %s after %d ms",
			       frozen ? "freezing" : "thawing", path, file, st, FREEZE_TIMEOUT_MS);
}

/* ---- v2: cgroup.freeze, cgroup.events ------------------------------------ */

int rt__cgroup_v2_frozen(const rt__cgroup_driver_t *d, const char *path, bool *frozen,
			 rt_error_t *err)
{
	char dir[PATH_MAX], file[PATH_MAX + 32];
	*frozen = false;
	if (cg_path(d, "", path, dir, sizeof(dir), err) < 0)
		return -1;
	snprintf(file, sizeof(file), "%s/cgroup.freeze", dir);
	uint64_t v = 0;
	if (rt__cgroup_read_u64(file, &v, err) < 0)
		return -1;
	*frozen = v == 1;
	return 0;
}

int rt__cgroup_v2_freeze(const rt__cgroup_driver_t *d, const char *path, bool frozen,
			 rt_error_t *err)
{
	char dir[PATH_MAX], file[PATH_MAX + 32], events[PATH_MAX + 32];
	if (cg_path(d, "", path, dir, sizeof(dir), err) < 0)
		return -1;
	snprintf(file, sizeof(file), "%s/cgroup.freeze", dir);
	snprintf(events, sizeof(events), "%s/cgroup.events", dir);
	if (rt__write_file(file, frozen ? "1" : "0", err) < 0)
		return rt_error_wrap(err, "%s cgroup `%s`", frozen ? "freezing" : "thawing", path);
	uint64_t v = 0;
	for (int waited = 0; waited <= FREEZE_TIMEOUT_MS; waited += 2) {
		if (rt__cgroup_read_keyed(events, "frozen", &v, err) < 0)
			return -1;
		if ((v == 1) == frozen)
			return 0;
		sleep_ms(2);
	}
	if (frozen) {
		rt_error_t e2;
		rt__write_file(file, "0", &e2);
	}
	return rt__error_plain(
	    err, ETIMEDOUT, "%s cgroup `%s`: `%s` still says frozen %d after %d ms",
	    frozen ? "freezing" : "thawing", path, events, (int)v, FREEZE_TIMEOUT_MS);
}
