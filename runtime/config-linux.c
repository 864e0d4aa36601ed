/* config.json, the linux-specific and optional sections: linux.resources
 * (all of it: memory, cpu, pids, devices, blockIO, hugepageLimits, network,
 * rdma, unified), linux.devices, id mappings, linux.seccomp, and hooks.
 * Errors name the field, as in config.c. */
#include <limits.h>
#include <seccomp.h>

#include "runtime/config-internal.h"

/* ---- linux.resources beyond limits, cpuset, devices and blkio weight ---- */

/* memory.kernel and kernelTCP are accepted and ignored, as runc does: the
 * kernel dropped kmem limits (5.16 deprecated, 6.x gone). */
static int parse_memory_extra(json_t *m, rt__cgroup_extra_t *x, rt_error_t *err)
{
	const char *F = "linux.resources.memory";
	int64_t v = 0;
	bool kern = false, ktcp = false;
	if (get_int(m, "kernel", F, -1, INT64_MAX, &v, &kern, err) < 0 ||
	    get_int(m, "kernelTCP", F, -1, INT64_MAX, &v, &ktcp, err) < 0 ||
	    get_int(m, "swappiness", F, 0, 100, &x->memory_swappiness, NULL, err) < 0 ||
	    get_bool(m, "disableOOMKiller", F, &x->disable_oom_killer, err) < 0 ||
	    get_bool(m, "useHierarchy", F, &x->memory_use_hierarchy, err) < 0 ||
	    get_bool(m, "checkBeforeUpdate", F, &x->check_before_update, err) < 0)
		return -1;
	x->has_kernel = kern || ktcp;
	return 0;
}

static int parse_cpu_extra(json_t *cpu, const rt_cgroup_limits_t *lim, rt__cgroup_extra_t *x,
			   rt_error_t *err)
{
	const char *F = "linux.resources.cpu";
	if (get_int(cpu, "realtimeRuntime", F, 0, INT64_MAX, &x->cpu_realtime_runtime, NULL, err) <
		0 ||
	    get_int(cpu, "realtimePeriod", F, 0, INT64_MAX, &x->cpu_realtime_period, NULL, err) <
		0 ||
	    get_int(cpu, "idle", F, 0, 1, &x->cpu_idle, &x->has_cpu_idle, err) < 0 ||
	    get_int(cpu, "burst", F, 0, INT64_MAX, &x->cpu_burst, &x->has_cpu_burst, err) < 0)
		return -1;
	if (x->has_cpu_burst && lim->cpu_quota_us > 0 && x->cpu_burst > lim->cpu_quota_us)
		return bad(err, "linux.resources.cpu.burst",
			   "must be no larger than linux.resources.cpu.quota");
	return 0;
}

/* One major/minor entry of blockIO.weightDevice (throttle: rate) */
static int parse_blkio_dev(json_t *e, const char *f, bool throttle, rt__blkio_dev_t *out,
			   rt_error_t *err)
{
	if (!json_is_object(e))
		return bad(err, f, "expected object");
	bool has_maj, has_min, has_w = false, has_lw = false;
	if (get_int(e, "major", f, 0, UINT32_MAX, &out->major, &has_maj, err) < 0 ||
	    get_int(e, "minor", f, 0, UINT32_MAX, &out->minor, &has_min, err) < 0)
		return -1;
	if (!has_maj)
		return bad(err, fld(f, "major").s, "missing");
	if (!has_min)
		return bad(err, fld(f, "minor").s, "missing");
	if (throttle) {
		if (get_int(e, "rate", f, 0, INT64_MAX, &out->weight, &has_w, err) < 0)
			return -1;
		if (!has_w)
			return bad(err, fld(f, "rate").s, "missing");
		return 0;
	}
	if (get_int(e, "weight", f, 10, 1000, &out->weight, &has_w, err) < 0 ||
	    get_int(e, "leafWeight", f, 10, 1000, &out->leaf_weight, &has_lw, err) < 0)
		return -1;
	if (!has_w && !has_lw)
		return bad(err, f, "at least one of weight and leafWeight is required");
	return 0;
}

static int parse_blkio_extra(json_t *bio, rt__cgroup_extra_t *x, rt_error_t *err)
{
	static const char *const keys[] = {"weightDevice", "throttleReadBpsDevice",
					   "throttleWriteBpsDevice", "throttleReadIOPSDevice",
					   "throttleWriteIOPSDevice"};
	const char *F = "linux.resources.blockIO";
	if (get_int(bio, "leafWeight", F, 10, 1000, &x->blkio_leaf_weight, NULL, err) < 0)
		return -1;
	for (int k = 0; k < 5; k++) {
		json_t *a;
		if (get_arr(bio, keys[k], F, &a, err) < 0)
			return -1;
		if (a == NULL || json_array_size(a) == 0)
			continue;
		size_t n = json_array_size(a);
		rt__blkio_dev_t *v = rt__xmalloc(n * sizeof(*v));
		if (k == 0) {
			x->weight_devices = v;
			x->nweight_devices = n;
		} else {
			x->throttle[k - 1] = v;
			x->nthrottle[k - 1] = n;
		}
		field_t kf = fld(F, keys[k]);
		for (size_t i = 0; i < n; i++)
			if (parse_blkio_dev(json_array_get(a, i), idx(kf.s, i).s, k > 0, &v[i],
					    err) < 0)
				return -1;
	}
	return 0;
}

/* "2MB", "64KB", "1GB": digits, then K, M, G or T, then B. */
static bool page_size_ok(const char *s)
{
	size_t d = strspn(s, "0123456789");
	return d > 0 && d < 12 && s[0] != '0' && s[d] != '\0' && strchr("KMGT", s[d]) &&
	       s[d + 1] == 'B' && s[d + 2] == '\0';
}

static int parse_hugepages(json_t *r, rt__cgroup_extra_t *x, rt_error_t *err)
{
	json_t *a;
	if (get_arr(r, "hugepageLimits", "linux.resources", &a, err) < 0)
		return -1;
	if (a == NULL || json_array_size(a) == 0)
		return 0;
	x->hugepages = rt__xmalloc(json_array_size(a) * sizeof(*x->hugepages));
	for (size_t i = 0; i < json_array_size(a); i++) {
		field_t f = idx("linux.resources.hugepageLimits", i);
		json_t *e = json_array_get(a, i);
		if (!json_is_object(e))
			return bad(err, f.s, "expected object");
		rt__hugepage_limit_t *h = &x->hugepages[x->nhugepages++];
		int64_t lim = 0;
		bool has_lim;
		if (get_str(e, "pageSize", f.s, &h->page_size, err) < 0 ||
		    get_int(e, "limit", f.s, 0, INT64_MAX, &lim, &has_lim, err) < 0)
			return -1;
		if (h->page_size == NULL)
			return bad(err, fld(f.s, "pageSize").s, "missing");
		if (!page_size_ok(h->page_size))
			return bad(err, fld(f.s, "pageSize").s,
				   "expected a size like `2MB` or `1GB` (<number><K|M|G>B)");
		if (!has_lim)
			return bad(err, fld(f.s, "limit").s, "missing");
		h->limit = (uint64_t)lim;
	}
	return 0;
}

/* An interface or RDMA device name: printable, no blanks (it is written
 * into a "name value" line). */
static bool plain_name(const char *s)
{
	if (s[0] == '\0' || strlen(s) > 64)
		return false;
	for (; *s; s++)
		if (*s <= ' ' || *s == 0x7f || *s == '/')
			return false;
	return true;
}

static int parse_network(json_t *r, rt__cgroup_extra_t *x, rt_error_t *err)
{
	json_t *n, *a;
	const char *F = "linux.resources.network";
	if (get_obj(r, "network", "linux.resources", &n, err) < 0)
		return -1;
	if (n == NULL)
		return 0;
	int64_t cls = 0;
	if (get_int(n, "classID", F, 0, UINT32_MAX, &cls, &x->has_class_id, err) < 0 ||
	    get_arr(n, "priorities", F, &a, err) < 0)
		return -1;
	x->class_id = (uint32_t)cls;
	if (a == NULL || json_array_size(a) == 0)
		return 0;
	x->net_prios = rt__xmalloc(json_array_size(a) * sizeof(*x->net_prios));
	for (size_t i = 0; i < json_array_size(a); i++) {
		field_t f = idx("linux.resources.network.priorities", i);
		json_t *e = json_array_get(a, i);
		if (!json_is_object(e))
			return bad(err, f.s, "expected object");
		rt__net_prio_t *p = &x->net_prios[x->nnet_prios++];
		int64_t prio = 0;
		bool has_prio;
		if (get_str(e, "name", f.s, &p->name, err) < 0 ||
		    get_int(e, "priority", f.s, 0, UINT32_MAX, &prio, &has_prio, err) < 0)
			return -1;
		if (p->name == NULL)
			return bad(err, fld(f.s, "name").s, "missing");
		if (!plain_name(p->name))
			return bad(err, fld(f.s, "name").s, "expected an interface name");
		if (!has_prio)
			return bad(err, fld(f.s, "priority").s, "missing");
		p->priority = (uint32_t)prio;
	}
	return 0;
}

static int parse_rdma(json_t *r, rt__cgroup_extra_t *x, rt_error_t *err)
{
	json_t *o, *v;
	const char *dev;
	if (get_obj(r, "rdma", "linux.resources", &o, err) < 0)
		return -1;
	if (o == NULL || json_object_size(o) == 0)
		return 0;
	json_object_foreach(o, dev, v)
	{
		field_t f = fld("linux.resources.rdma", dev);
		if (!plain_name(dev))
			return bad(err, f.s, "expected a device name");
		if (!json_is_object(v))
			return bad(err, f.s, "expected object");
		int64_t h, ob;
		bool has_h, has_o;
		if (get_int(v, "hcaHandles", f.s, 0, UINT32_MAX, &h, &has_h, err) < 0 ||
		    get_int(v, "hcaObjects", f.s, 0, UINT32_MAX, &ob, &has_o, err) < 0)
			return -1;
		if (!has_h && !has_o)
			return bad(err, f.s,
				   "at least one of hcaHandles and hcaObjects is required");
	}
	x->rdma = json_incref(o);
	return 0;
}

/* unified: "controller.file" -> string. A key is a file name in the
 * container's own cgroup directory: no '/', no "..", not hidden. */
static int parse_unified(json_t *r, rt__cgroup_extra_t *x, rt_error_t *err)
{
	json_t *o, *v;
	const char *key;
	if (get_obj(r, "unified", "linux.resources", &o, err) < 0)
		return -1;
	if (o == NULL || json_object_size(o) == 0)
		return 0;
	json_object_foreach(o, key, v)
	{
		field_t f = fld("linux.resources.unified", key);
		const char *dot = strchr(key, '.');
		if (dot == NULL || dot == key || dot[1] == '\0' || strchr(key, '/') ||
		    strstr(key, "..") || strlen(key) > 128)
			return bad(err, f.s,
				   "expected a cgroup file name `<controller>.<file>` (no `/`, "
				   "no `..`)");
		if (!json_is_string(v))
			return bad(err, f.s, "expected string");
	}
	x->unified = json_incref(o);
	return 0;
}

int rt__cfg_parse_resources(json_t *l, rt_config_t *c, rt_error_t *err)
{
	json_t *r, *m, *cpu, *pids;
	if (get_obj(l, "resources", "linux", &r, err) < 0)
		return -1;
	if (r == NULL)
		return 0;
	c->has_resources = true;
	rt_cgroup_limits_t *lim = &c->limits;
	if (get_obj(r, "memory", "linux.resources", &m, err) < 0 ||
	    get_obj(r, "cpu", "linux.resources", &cpu, err) < 0 ||
	    get_obj(r, "pids", "linux.resources", &pids, err) < 0)
		return -1;
	if (m && (get_int(m, "limit", "linux.resources.memory", -1, INT64_MAX, &lim->memory_bytes,
			  NULL, err) < 0 ||
		  get_int(m, "swap", "linux.resources.memory", -1, INT64_MAX, &lim->memory_swap,
			  NULL, err) < 0))
		return -1;
	if (m && lim->memory_swap > 0 && lim->memory_bytes > 0 &&
	    lim->memory_swap < lim->memory_bytes)
		return bad(err, "linux.resources.memory.swap",
			   "must be at least linux.resources.memory.limit (it is memory+swap)");
	if (cpu && (get_int(cpu, "shares", "linux.resources.cpu", 0, 262144, &lim->cpu_shares, NULL,
			    err) < 0 ||
		    get_int(cpu, "quota", "linux.resources.cpu", -1, INT64_MAX, &lim->cpu_quota_us,
			    NULL, err) < 0 ||
		    get_int(cpu, "period", "linux.resources.cpu", 0, 1000000, &lim->cpu_period_us,
			    NULL, err) < 0))
		return -1;
	if (pids && get_int(pids, "limit", "linux.resources.pids", -1, INT64_MAX, &lim->pids_max,
			    NULL, err) < 0)
		return -1;
	rt__cgroup_extra_t *x = &c->extra;
	if (m && get_int(m, "reservation", "linux.resources.memory", -1, INT64_MAX,
			 &x->memory_reservation, NULL, err) < 0)
		return -1;
	if (cpu && (get_str(cpu, "cpus", "linux.resources.cpu", &x->cpus, err) < 0 ||
		    get_str(cpu, "mems", "linux.resources.cpu", &x->mems, err) < 0))
		return -1;
	json_t *bio;
	if (get_obj(r, "blockIO", "linux.resources", &bio, err) < 0)
		return -1;
	if (bio && get_int(bio, "weight", "linux.resources.blockIO", 10, 1000, &x->blkio_weight,
			   NULL, err) < 0)
		return -1;
	if ((m && parse_memory_extra(m, x, err) < 0) ||
	    (cpu && parse_cpu_extra(cpu, lim, x, err) < 0) ||
	    (bio && parse_blkio_extra(bio, x, err) < 0) || parse_hugepages(r, x, err) < 0 ||
	    parse_network(r, x, err) < 0 || parse_rdma(r, x, err) < 0 ||
	    parse_unified(r, x, err) < 0)
		return -1;
	json_t *devs;
	if (get_arr(r, "devices", "linux.resources", &devs, err) < 0)
		return -1;
	x->devices = rt__xmalloc((json_array_size(devs) + 1) * sizeof(rt__dev_rule_t));
	for (size_t i = 0; devs && i < json_array_size(devs); i++) {
		field_t f = idx("linux.resources.devices", i);
		json_t *dj = json_array_get(devs, i);
		if (!json_is_object(dj))
			return bad(err, f.s, "expected object");
		rt__dev_rule_t *dr = &x->devices[x->ndevices++];
		cleanup_free char *type = NULL, *access = NULL;
		bool has_allow = false;
		dr->major = dr->minor = -1;
		json_t *allow = json_object_get(dj, "allow");
		if (get_bool(dj, "allow", f.s, &dr->allow, err) < 0 ||
		    get_str(dj, "type", f.s, &type, err) < 0 ||
		    get_str(dj, "access", f.s, &access, err) < 0 ||
		    get_int(dj, "major", f.s, -1, INT32_MAX, &dr->major, NULL, err) < 0 ||
		    get_int(dj, "minor", f.s, -1, INT32_MAX, &dr->minor, NULL, err) < 0)
			return -1;
		has_allow = allow != NULL && !json_is_null(allow);
		if (!has_allow)
			return bad(err, fld(f.s, "allow").s, "missing");
		dr->type = type ? type[0] : 'a';
		if (type && (strlen(type) != 1 || strchr("acb", type[0]) == NULL))
			return bad(err, fld(f.s, "type").s, "expected a, c or b");
		if (access) {
			if (strlen(access) > 3 || strspn(access, "rwm") != strlen(access))
				return bad(err, fld(f.s, "access").s, "expected letters of `rwm`");
			snprintf(dr->access, sizeof(dr->access), "%s", access);
		}
	}
	return 0;
}

void rt__cgroup_extra_free(rt__cgroup_extra_t *x)
{
	free(x->cpus);
	free(x->mems);
	free(x->devices);
	free(x->weight_devices);
	for (int k = 0; k < RT_THROTTLE_NKINDS; k++)
		free(x->throttle[k]);
	for (size_t i = 0; i < x->nhugepages; i++)
		free(x->hugepages[i].page_size);
	free(x->hugepages);
	for (size_t i = 0; i < x->nnet_prios; i++)
		free(x->net_prios[i].name);
	free(x->net_prios);
	if (x->rdma)
		json_decref(x->rdma);
	if (x->unified)
		json_decref(x->unified);
}

int rt__cfg_parse_idmaps(json_t *l, const char *key, rt__idmap_t **out, size_t *n, rt_error_t *err)
{
	json_t *a;
	if (get_arr(l, key, "linux", &a, err) < 0)
		return -1;
	if (a == NULL)
		return 0;
	field_t kf = fld("linux", key);
	*out = rt__xmalloc((json_array_size(a) + 1) * sizeof(rt__idmap_t));
	for (size_t i = 0; i < json_array_size(a); i++) {
		field_t f = idx(kf.s, i);
		json_t *mj = json_array_get(a, i);
		if (!json_is_object(mj))
			return bad(err, f.s, "expected object");
		int64_t cid = -1, hid = -1, size = -1;
		if (get_int(mj, "containerID", f.s, 0, UINT32_MAX - 1, &cid, NULL, err) < 0 ||
		    get_int(mj, "hostID", f.s, 0, UINT32_MAX - 1, &hid, NULL, err) < 0 ||
		    get_int(mj, "size", f.s, 1, UINT32_MAX, &size, NULL, err) < 0)
			return -1;
		if (cid < 0 || hid < 0 || size < 0)
			return bad(err, f.s, "containerID, hostID and size are required");
		(*out)[(*n)++] = (rt__idmap_t){(uint32_t)cid, (uint32_t)hid, (uint32_t)size};
	}
	return 0;
}

int rt__cfg_parse_devices(json_t *l, rt_config_t *c, rt_error_t *err)
{
	json_t *a;
	if (get_arr(l, "devices", "linux", &a, err) < 0)
		return -1;
	if (a == NULL)
		return 0;
	c->devices = rt__xmalloc((json_array_size(a) + 1) * sizeof(rt__device_t));
	for (size_t i = 0; i < json_array_size(a); i++) {
		field_t f = idx("linux.devices", i);
		json_t *dj = json_array_get(a, i);
		if (!json_is_object(dj))
			return bad(err, f.s, "expected object");
		rt__device_t *d = &c->devices[c->ndevices++];
		cleanup_free char *type = NULL;
		int64_t mode = 0, uid = 0, gid = 0;
		d->major = d->minor = 0;
		if (get_str(dj, "path", f.s, &d->path, err) < 0 ||
		    get_str(dj, "type", f.s, &type, err) < 0 ||
		    get_int(dj, "major", f.s, 0, INT32_MAX, &d->major, NULL, err) < 0 ||
		    get_int(dj, "minor", f.s, 0, INT32_MAX, &d->minor, NULL, err) < 0 ||
		    get_int(dj, "fileMode", f.s, 0, 07777, &mode, &d->has_mode, err) < 0 ||
		    get_int(dj, "uid", f.s, 0, UINT32_MAX - 1, &uid, NULL, err) < 0 ||
		    get_int(dj, "gid", f.s, 0, UINT32_MAX - 1, &gid, NULL, err) < 0)
			return -1;
		if (d->path == NULL)
			return bad(err, fld(f.s, "path").s, "missing");
		if (d->path[0] != '/')
			return bad(err, fld(f.s, "path").s, "must be an absolute path");
		if (type == NULL || strlen(type) != 1 || strchr("cbup", type[0]) == NULL)
			return bad(err, fld(f.s, "type").s, "expected c, b, u or p");
		d->type = type[0];
		if (d->type != 'p' &&
		    (json_object_get(dj, "major") == NULL || json_object_get(dj, "minor") == NULL))
			return bad(err, f.s, "major and minor are required for c, b and u");
		d->mode = (mode_t)mode;
		d->uid = (uid_t)uid;
		d->gid = (gid_t)gid;
	}
	return 0;
}

/* config-linux.md: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take an errno;
 * an errnoRet with another action MUST be an error. */
static bool takes_errno(const char *action)
{
	return strcmp(action, "SCMP_ACT_ERRNO") == 0 || strcmp(action, "SCMP_ACT_TRACE") == 0;
}

static int errno_ret_refused(rt_error_t *err, const char *field, const char *action)
{
	char m[160];
	snprintf(m, sizeof(m),
		 "not allowed with action `%.64s` (only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take "
		 "an errno)",
		 action);
	return bad(err, field, m);
}

int rt__cfg_parse_seccomp(json_t *l, rt_config_t *c, rt_error_t *err)
{
	json_t *s;
	if (get_obj(l, "seccomp", "linux", &s, err) < 0)
		return -1;
	if (s == NULL)
		return 0;
	rt_seccomp_t *sc = c->seccomp = rt__xmalloc(sizeof(*sc));
	const char *F = "linux.seccomp";
	cleanup_free char *def = NULL;
	int64_t def_errno = EPERM;
	bool has_def_errno = false;
	if (get_str(s, "defaultAction", F, &def, err) < 0 ||
	    get_int(s, "defaultErrnoRet", F, 0, 4095, &def_errno, &has_def_errno, err) < 0)
		return -1;
	if (def == NULL)
		return bad(err, "linux.seccomp.defaultAction", "missing");
	if (has_def_errno && !takes_errno(def))
		return errno_ret_refused(err, "linux.seccomp.defaultErrnoRet", def);
	if (rt__seccomp_action(def, (int)def_errno, &sc->default_action) < 0) {
		char m[128];
		snprintf(m, sizeof(m), "unknown action `%.64s`", def);
		return bad(err, "linux.seccomp.defaultAction", m);
	}
	if (sc->default_action == SCMP_ACT_NOTIFY)
		return bad(err, "linux.seccomp.defaultAction",
			   "SCMP_ACT_NOTIFY cannot be the default action");
	json_t *a;
	if (get_arr(s, "flags", F, &a, err) < 0 ||
	    get_str(s, "listenerPath", F, &sc->listener_path, err) < 0 ||
	    get_str(s, "listenerMetadata", F, &sc->listener_metadata, err) < 0)
		return -1;
	for (size_t i = 0; a && i < json_array_size(a); i++) {
		const char *fl = json_string_value(json_array_get(a, i));
		if (fl && strcmp(fl, "SECCOMP_FILTER_FLAG_LOG") == 0)
			sc->flag_log = true;
		else if (fl && strcmp(fl, "SECCOMP_FILTER_FLAG_SPEC_ALLOW") == 0)
			sc->flag_spec_allow = true;
		else if (fl && strcmp(fl, "SECCOMP_FILTER_FLAG_TSYNC") == 0)
			sc->flag_tsync = true;
		else
			return bad(
			    err, idx("linux.seccomp.flags", i).s,
			    "expected SECCOMP_FILTER_FLAG_LOG, SECCOMP_FILTER_FLAG_SPEC_ALLOW "
			    "or SECCOMP_FILTER_FLAG_TSYNC");
	}
	if (sc->listener_path && sc->listener_path[0] != '/')
		return bad(err, "linux.seccomp.listenerPath", "expected an absolute path");
	if (get_arr(s, "architectures", F, &a, err) < 0)
		return -1;
	sc->arches = rt__xmalloc((json_array_size(a) + 1) * sizeof(uint32_t));
	for (size_t i = 0; a && i < json_array_size(a); i++) {
		json_t *n = json_array_get(a, i);
		if (!json_is_string(n) ||
		    rt__seccomp_arch(json_string_value(n), &sc->arches[i]) < 0)
			return bad(err, idx("linux.seccomp.architectures", i).s,
				   "expected a known architecture (SCMP_ARCH_X86_64...)");
		sc->narches++;
	}
	if (get_arr(s, "syscalls", F, &a, err) < 0)
		return -1;
	sc->rules = rt__xmalloc((json_array_size(a) + 1) * sizeof(rt_seccomp_rule_t));
	for (size_t i = 0; a && i < json_array_size(a); i++) {
		field_t f = idx("linux.seccomp.syscalls", i);
		json_t *rj = json_array_get(a, i);
		if (!json_is_object(rj))
			return bad(err, f.s, "expected object");
		rt_seccomp_rule_t *r = &sc->rules[sc->nrules++];
		cleanup_free char *act = NULL;
		int64_t eret = EPERM;
		bool has_eret = false;
		if (get_strv(rj, "names", f.s, &r->names, err) < 0 ||
		    get_str(rj, "action", f.s, &act, err) < 0 ||
		    get_int(rj, "errnoRet", f.s, 0, 4095, &eret, &has_eret, err) < 0)
			return -1;
		if (has_eret && act && !takes_errno(act))
			return errno_ret_refused(err, fld(f.s, "errnoRet").s, act);
		if (r->names == NULL || r->names[0] == NULL)
			return bad(err, fld(f.s, "names").s, "must hold at least one name");
		if (act == NULL)
			return bad(err, fld(f.s, "action").s, "missing");
		if (rt__seccomp_action(act, (int)eret, &r->action) < 0) {
			char m[128];
			snprintf(m, sizeof(m), "unknown action `%.64s`", act);
			return bad(err, fld(f.s, "action").s, m);
		}
		if (r->action == SCMP_ACT_NOTIFY) {
			if (sc->listener_path == NULL)
				return bad(err, fld(f.s, "action").s,
					   "SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath");
			sc->has_notify = true;
		}
		json_t *args;
		if (get_arr(rj, "args", f.s, &args, err) < 0)
			return -1;
		r->args = rt__xmalloc((json_array_size(args) + 1) * sizeof(rt_seccomp_arg_t));
		for (size_t k = 0; args && k < json_array_size(args); k++) {
			field_t af = idx(fld(f.s, "args").s, k);
			json_t *aj = json_array_get(args, k);
			if (!json_is_object(aj))
				return bad(err, af.s, "expected object");
			rt_seccomp_arg_t *ar = &r->args[r->nargs++];
			int64_t index = -1;
			cleanup_free char *op = NULL;
			if (get_int(aj, "index", af.s, 0, 5, &index, NULL, err) < 0 ||
			    get_u64(aj, "value", af.s, &ar->value, err) < 0 ||
			    get_u64(aj, "valueTwo", af.s, &ar->value_two, err) < 0 ||
			    get_str(aj, "op", af.s, &op, err) < 0)
				return -1;
			if (index < 0)
				return bad(err, fld(af.s, "index").s, "missing");
			ar->index = (unsigned)index;
			if (op == NULL || rt__seccomp_op(op, &ar->op) < 0)
				return bad(err, fld(af.s, "op").s,
					   "expected SCMP_CMP_EQ, NE, LT, LE, GT, GE or MASKED_EQ");
		}
	}
	return 0;
}

int rt__cfg_parse_hooks(json_t *root, rt_config_t *c, rt_error_t *err)
{
	json_t *h;
	if (get_obj(root, "hooks", "", &h, err) < 0)
		return -1;
	if (h == NULL)
		return 0;
	for (int k = 0; k < RT_HOOK_NKINDS; k++) {
		json_t *a;
		field_t kf = fld("hooks", rt__hook_names[k]);
		if (get_arr(h, rt__hook_names[k], "hooks", &a, err) < 0)
			return -1;
		if (a == NULL)
			continue;
		c->hooks[k] = rt__xmalloc((json_array_size(a) + 1) * sizeof(rt_hook_t));
		for (size_t i = 0; i < json_array_size(a); i++) {
			field_t f = idx(kf.s, i);
			json_t *hj = json_array_get(a, i);
			if (!json_is_object(hj))
				return bad(err, f.s, "expected object");
			rt_hook_t *hk = &c->hooks[k][c->nhooks[k]++];
			int64_t timeout = 0;
			bool has_timeout = false;
			if (get_str(hj, "path", f.s, &hk->path, err) < 0 ||
			    get_strv(hj, "args", f.s, &hk->args, err) < 0 ||
			    get_strv(hj, "env", f.s, &hk->env, err) < 0 ||
			    get_int(hj, "timeout", f.s, INT32_MIN, INT32_MAX, &timeout,
				    &has_timeout, err) < 0)
				return -1;
			if (hk->path == NULL)
				return bad(err, fld(f.s, "path").s, "missing");
			if (hk->path[0] != '/')
				return bad(err, fld(f.s, "path").s, "must be an absolute path");
			if (has_timeout && timeout <= 0)
				return bad(err, fld(f.s, "timeout").s, "must be greater than zero");
			hk->timeout = (int)timeout;
		}
	}
	return 0;
}
