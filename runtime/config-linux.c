/* config.json, the linux-specific and optional sections: linux.resources
 * (cgroup limits, device rules, cpuset, blockIO), linux.devices, id mappings,
 * linux.seccomp, and hooks. Errors name the field, as in config.c. */
#include <limits.h>
#include <seccomp.h>

#include "runtime/config-internal.h"

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
	if (get_str(s, "defaultAction", F, &def, err) < 0 ||
	    get_int(s, "defaultErrnoRet", F, 0, 4095, &def_errno, NULL, err) < 0)
		return -1;
	if (def == NULL)
		return bad(err, "linux.seccomp.defaultAction", "missing");
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
		if (get_strv(rj, "names", f.s, &r->names, err) < 0 ||
		    get_str(rj, "action", f.s, &act, err) < 0 ||
		    get_int(rj, "errnoRet", f.s, 0, 4095, &eret, NULL, err) < 0)
			return -1;
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
