/* Containers after create, continued: update (linux.resources applied to a
 * live container's cgroup, as `runc update`), pause and resume (freezing
 * and thawing its cgroup). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>

#include "runtime/cgroup-internal.h"
#include "runtime/config-internal.h"
#include "runtime/rt-internal.h"

/* ---- update --------------------------------------------------------------- */

/* Removing a limit (-1 or 0) is not something the cgroup drivers write
 * (they skip values that are not positive): refused, naming the field,
 * rather than reported as applied. memory.swap -1 goes with a limit. */
static int refuse_unlimit(json_t *res, rt_error_t *err)
{
	static const struct {
		const char *obj, *key;
	} f[] = {{"memory", "limit"}, {"memory", "reservation"}, {"cpu", "quota"},
		 {"cpu", "period"},   {"cpu", "shares"},	 {"pids", "limit"}};
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		json_t *v = json_object_get(json_object_get(res, f[i].obj), f[i].key);
		if (json_is_integer(v) && json_integer_value(v) <= 0)
			return rt__error_plain(err, ENOTSUP,
					       "linux.resources.%s.%s: %" JSON_INTEGER_FORMAT
					       ": removing a limit is not supported by update "
					       "(give a positive value)",
					       f[i].obj, f[i].key, json_integer_value(v));
	}
	json_t *m = json_object_get(res, "memory");
	json_t *swap = json_object_get(m, "swap"), *lim = json_object_get(m, "limit");
	if (json_is_integer(swap) && json_integer_value(swap) <= 0 &&
	    !(json_integer_value(swap) == -1 && json_is_integer(lim)))
		return rt__error_plain(err, ENOTSUP,
				       "linux.resources.memory.swap: %" JSON_INTEGER_FORMAT
				       ": only -1 (unlimited) with a memory limit, or a positive "
				       "value, can be applied by update",
				       json_integer_value(swap));
	return 0;
}

/* Objects merge key by key, recursively; anything else in src replaces. */
static void merge(json_t *dst, json_t *src)
{
	const char *k;
	json_t *v;
	json_object_foreach(src, k, v)
	{
		json_t *d = json_object_get(dst, k);
		if (json_is_object(d) && json_is_object(v))
			merge(d, v);
		else
			json_object_set_new(dst, k, json_deep_copy(v));
	}
}

/* Merges res into linux.resources of the config copy in dir (atomically:
 * a temporary file renamed over it). No copy (it predates them): nothing. */
static int save_resources(const char *dir, json_t *res, rt_error_t *err)
{
	char path[PATH_MAX + 16], tmp[PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/config.json", dir);
	snprintf(tmp, sizeof(tmp), "%s/.config.json.tmp", dir);
	if (access(path, F_OK) < 0)
		return 0;
	json_error_t je;
	cleanup_json json_t *cfg = json_load_file(path, 0, &je);
	if (cfg == NULL)
		return rt__error_plain(err, EINVAL, "reading `%s`: %s", path, je.text);
	json_t *lx = json_object_get(cfg, "linux");
	if (!json_is_object(lx)) {
		lx = json_object();
		json_object_set_new(cfg, "linux", lx);
	}
	json_t *r = json_object_get(lx, "resources");
	if (!json_is_object(r)) {
		r = json_object();
		json_object_set_new(lx, "resources", r);
	}
	merge(r, res);
	if (json_dump_file(cfg, tmp, JSON_COMPACT) < 0)
		return rt_error_set(err, errno ? errno : EIO, "writing `%s`", tmp);
	chmod(tmp, 0600);
	if (rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		return rt_error_set(err, e, "renaming `%s` to `%s`", tmp, path);
	}
	return 0;
}

/* linux.resources.memory of the config copy in dir (a new reference), or NULL. */
static json_t *saved_memory(const char *dir)
{
	char path[PATH_MAX + 16];
	snprintf(path, sizeof(path), "%s/config.json", dir);
	cleanup_json json_t *cfg = json_load_file(path, 0, NULL);
	json_t *m =
	    json_object_get(json_object_get(json_object_get(cfg, "linux"), "resources"), "memory");
	return json_is_object(m) ? json_incref(m) : NULL;
}

/* memory.checkBeforeUpdate of the update, else of the config copy. */
static bool check_before_update(json_t *saved, json_t *res)
{
	json_t *v = json_object_get(json_object_get(res, "memory"), "checkBeforeUpdate");
	if (json_is_boolean(v))
		return json_is_true(v);
	return json_is_true(json_object_get(saved, "checkBeforeUpdate"));
}

/* A new memory limit without swap keeps the swap limit the container has
 * (when it is still at least the new limit, or -1), as runc does, rather
 * than the drivers' default of no swap beyond memory. */
static void keep_swap(json_t *saved, rt_cgroup_limits_t *l)
{
	json_t *sw = json_object_get(saved, "swap");
	if (l->memory_bytes <= 0 || l->memory_swap != 0 || !json_is_integer(sw))
		return;
	json_int_t v = json_integer_value(sw);
	if (v == -1 || v >= l->memory_bytes)
		l->memory_swap = v;
}

static void note(char *applied, size_t n, const char *what)
{
	size_t l = strlen(applied);
	snprintf(applied + l, n - l, "%s%s", l ? ", " : "", what);
}

/* Writes the parsed resources group by group; on failure err says which
 * group failed and what was applied before it. */
static int apply(const char *id, const char *cgroup, const rt_config_t *c, rt_error_t *err)
{
	const rt_cgroup_limits_t *l = &c->limits;
	char applied[256] = "";
	rt_cgroup_limits_t mem = {.memory_bytes = l->memory_bytes, .memory_swap = l->memory_swap};
	rt_cgroup_limits_t cpu = {.cpu_shares = l->cpu_shares,
				  .cpu_quota_us = l->cpu_quota_us,
				  .cpu_period_us = l->cpu_period_us};
	rt_cgroup_limits_t pids = {.pids_max = l->pids_max};
	const char *failed = NULL;
	if (mem.memory_bytes > 0 || mem.memory_swap > 0) {
		if (rt_cgroup_set_limits(cgroup, &mem, err) < 0)
			failed = "linux.resources.memory (limit, swap)";
		else
			note(applied, sizeof(applied), "memory limit/swap");
	}
	if (!failed && (cpu.cpu_shares > 0 || cpu.cpu_quota_us > 0 || cpu.cpu_period_us > 0)) {
		if (rt_cgroup_set_limits(cgroup, &cpu, err) < 0)
			failed = "linux.resources.cpu (shares, quota, period)";
		else
			note(applied, sizeof(applied), "cpu shares/quota/period");
	}
	if (!failed && pids.pids_max > 0) {
		if (rt_cgroup_set_limits(cgroup, &pids, err) < 0)
			failed = "linux.resources.pids.limit";
		else
			note(applied, sizeof(applied), "pids limit");
	}
	if (!failed && rt__cgroup_extra_any(&c->extra) &&
	    rt__cgroup_set_extra(cgroup, &c->extra, err) < 0)
		failed = "linux.resources (reservation, cpuset, blockIO, devices...)";
	if (failed == NULL)
		return 0;
	rt_error_wrap(err, "%s", failed);
	return rt_error_wrap(err, "updating container `%s` (applied before this failure: %s)", id,
			     applied[0] ? applied : "nothing");
}

int rt_container_update(const char *state_root, const char *id, const char *resources_json,
			rt_error_t *err)
{
	json_error_t je;
	cleanup_json json_t *res = json_loads(resources_json ? resources_json : "", 0, &je);
	if (res == NULL)
		return rt__error_plain(err, EINVAL,
				       "updating container `%s`: linux.resources: line %d column "
				       "%d: %s",
				       id, je.line, je.column, je.text);
	if (!json_is_object(res))
		return rt__error_plain(
		    err, EINVAL, "updating container `%s`: linux.resources: expected object", id);
	cleanup_json json_t *wrap = json_pack("{s:O}", "resources", res);
	rt_config_t *c = rt__xmalloc(sizeof(*c));
	c->extra.memory_swappiness = -1;
	cleanup_close int lock = -1;
	cleanup_json json_t *saved = NULL;
	int rc = -1;
	if (wrap == NULL || rt__cfg_parse_resources(wrap, c, err) < 0 ||
	    refuse_unlimit(res, err) < 0) {
		rt_error_wrap(err, "updating container `%s`", id);
		goto out;
	}

	lock = rt__state_lock(state_root, id);
	char dir[PATH_MAX];
	rt__state_rec_t rec;
	rt_status_t status;
	if (rt__container_load(state_root, id, dir, sizeof(dir), &rec, &status, err) < 0) {
		rt_error_wrap(err, "updating container `%s`", id);
		goto out;
	}
	if (rec.annotations)
		json_decref(rec.annotations);
	if (status != RT_STATUS_CREATED && status != RT_STATUS_RUNNING &&
	    status != RT_STATUS_PAUSED) {
		rt__error_plain(err, EINVAL, "updating container `%s`: it is %s", id,
				rt_status_name(status));
		goto out;
	}
	if (rec.cgroup[0] == '\0') {
		rt__error_plain(err, EINVAL, "updating container `%s`: it has no cgroup", id);
		goto out;
	}
	/* runtime-spec config-linux.md, memory.checkBeforeUpdate: a new limit
	 * below the current usage MUST be rejected. */
	saved = saved_memory(dir);
	keep_swap(saved, &c->limits);
	if (c->limits.memory_bytes > 0 && check_before_update(saved, res)) {
		rt_cgroup_stats_t st;
		if (rt_cgroup_stats(rec.cgroup, &st, err) < 0) {
			rt_error_wrap(err, "updating container `%s`: reading memory usage", id);
			goto out;
		}
		if ((uint64_t)c->limits.memory_bytes < st.memory_bytes) {
			rt__error_plain(err, EBUSY,
					"updating container `%s`: linux.resources.memory.limit: "
					"%" PRId64 " is below the current usage %" PRIu64
					" (memory.checkBeforeUpdate); nothing applied",
					id, c->limits.memory_bytes, st.memory_bytes);
			goto out;
		}
	}
	if (apply(id, rec.cgroup, c, err) < 0)
		goto out;
	if (save_resources(dir, res, err) < 0) {
		rt_error_wrap(err, "updating container `%s`: applied, but not saved", id);
		goto out;
	}
	rc = 0;
out:
	rt_config_free(c);
	return rc;
}

/* ---- pause, resume -------------------------------------------------------- */

static int freeze(const char *state_root, const char *id, bool frozen, rt_error_t *err)
{
	const char *verb = frozen ? "pausing" : "resuming";
	cleanup_close int lock = rt__state_lock(state_root, id);
	char dir[PATH_MAX];
	rt__state_rec_t rec;
	rt_status_t status;
	if (rt__container_load(state_root, id, dir, sizeof(dir), &rec, &status, err) < 0)
		return rt_error_wrap(err, "%s container `%s`", verb, id);
	if (rec.annotations)
		json_decref(rec.annotations);
	rt_status_t want = frozen ? RT_STATUS_RUNNING : RT_STATUS_PAUSED;
	if (status != want)
		return rt__error_plain(err, EINVAL, "%s container `%s`: it is %s, not %s", verb, id,
				       rt_status_name(status), rt_status_name(want));
	if (rec.cgroup[0] == '\0')
		return rt__error_plain(err, EINVAL, "%s container `%s`: it has no cgroup", verb,
				       id);
	if (rt__cgroup_freeze(rec.cgroup, frozen, err) < 0)
		return rt_error_wrap(err, "%s container `%s`", verb, id);
	return 0;
}

int rt_container_pause(const char *state_root, const char *id, rt_error_t *err)
{
	return freeze(state_root, id, true, err);
}

int rt_container_resume(const char *state_root, const char *id, rt_error_t *err)
{
	return freeze(state_root, id, false, err);
}
