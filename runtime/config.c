/* config.json: the OCI runtime-spec fields a Linux container uses, parsed
 * into struct rt_config (rt-internal.h). Unknown fields are ignored, as the
 * spec asks of runtimes; a field of the wrong type or value is an error that
 * names it ("linux.resources.memory.limit: expected integer"). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/resource.h>

#include "runtime/config-internal.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* ---- process ------------------------------------------------------------ */

static const struct {
	const char *name;
	int res;
} rlimit_names[] = {
    {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_NPROC", RLIMIT_NPROC},
    {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_STACK", RLIMIT_STACK},
};

static int parse_caps(json_t *p, rt_config_t *c, rt_error_t *err)
{
	json_t *caps;
	if (get_obj(p, "capabilities", "process", &caps, err) < 0)
		return -1;
	if (caps == NULL)
		return 0;
	static const char *const sets[RT_CAP_NSETS] = {"bounding", "effective", "inheritable",
						       "permitted", "ambient"};
	c->has_caps = true;
	for (int s = 0; s < RT_CAP_NSETS; s++) {
		json_t *a;
		if (get_arr(caps, sets[s], "process.capabilities", &a, err) < 0)
			return -1;
		field_t f = fld("process.capabilities", sets[s]);
		for (size_t i = 0; a && i < json_array_size(a); i++) {
			json_t *n = json_array_get(a, i);
			if (!json_is_string(n))
				return bad(err, idx(f.s, i).s, "expected string");
			int cap = rt__cap_from_name(json_string_value(n));
			if (cap < 0) {
				/* config.md: a value that cannot be mapped to a kernel
				 * interface MUST be logged as a warning (as runc and
				 * crun do), not refused. */
				char m[512];
				snprintf(m, sizeof(m), "%s: unknown capability `%.64s`, ignored",
					 idx(f.s, i).s, json_string_value(n));
				size_t nw = rt__strv_len(c->warnings);
				c->warnings = rt__xrealloc(c->warnings, (nw + 2) * sizeof(char *));
				c->warnings[nw] = rt__xstrdup(m);
				c->warnings[nw + 1] = NULL;
				continue;
			}
			c->caps[s] |= 1ULL << cap;
		}
	}
	return 0;
}

static int parse_rlimits(json_t *p, rt_config_t *c, rt_error_t *err)
{
	json_t *a;
	if (get_arr(p, "rlimits", "process", &a, err) < 0)
		return -1;
	if (a == NULL)
		return 0;
	c->rlimits = rt__xmalloc((json_array_size(a) + 1) * sizeof(rt_rlimit_t));
	for (size_t i = 0; i < json_array_size(a); i++) {
		field_t f = idx("process.rlimits", i);
		json_t *r = json_array_get(a, i);
		if (!json_is_object(r))
			return bad(err, f.s, "expected object");
		cleanup_free char *type = NULL;
		uint64_t soft = 0, hard = 0;
		if (get_str(r, "type", f.s, &type, err) < 0 ||
		    get_u64(r, "soft", f.s, &soft, err) < 0 ||
		    get_u64(r, "hard", f.s, &hard, err) < 0)
			return -1;
		if (type == NULL)
			return bad(err, fld(f.s, "type").s, "missing");
		int res = -1;
		for (size_t k = 0; k < sizeof(rlimit_names) / sizeof(rlimit_names[0]); k++)
			if (strcmp(rlimit_names[k].name, type) == 0)
				res = rlimit_names[k].res;
		if (res < 0) {
			char m[128];
			snprintf(m, sizeof(m), "unknown rlimit `%.64s`", type);
			return bad(err, fld(f.s, "type").s, m);
		}
		c->rlimits[c->nrlimits++] = (rt_rlimit_t){res, soft, hard};
	}
	return 0;
}

/* A CPU list ("0-3,7") into bits (CPUs 0..1023); "" sets none. */
static int parse_cpu_list(const char *s, const char *field, uint64_t bits[16], rt_error_t *err)
{
	memset(bits, 0, 16 * sizeof(uint64_t));
	const char *p = s;
	while (*p == ' ' || *p == '\t' || *p == '\n')
		p++;
	if (*p == '\0')
		return 0;
	for (;;) {
		char *end;
		errno = 0;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p < '0' || *p > '9')
			break;
		unsigned long a = strtoul(p, &end, 10), b = a;
		if (errno != 0)
			break;
		p = end;
		if (*p == '-') {
			p++;
			if (*p < '0' || *p > '9')
				break;
			b = strtoul(p, &end, 10);
			if (errno != 0)
				break;
			p = end;
		}
		if (b < a || b >= 1024) {
			char m[160];
			snprintf(m, sizeof(m), "invalid CPU range in `%.64s` (CPUs 0-1023)", s);
			return bad(err, field, m);
		}
		for (unsigned long cpu = a; cpu <= b; cpu++)
			bits[cpu / 64] |= 1ULL << (cpu % 64);
		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (*p == '\0')
			return 0;
		if (*p != ',')
			break;
		p++;
	}
	char m[160];
	snprintf(m, sizeof(m), "invalid CPU list `%.64s` (expected e.g. \"0-3,7\")", s);
	return bad(err, field, m);
}

/* process.execCPUAffinity (runtime-spec 1.2): the CPUs of an exec'd process
 * before (initial) and after (final) it joins the container's cgroup. */
static int parse_exec_cpu_affinity(json_t *p, rt_config_t *c, rt_error_t *err)
{
	json_t *a;
	if (get_obj(p, "execCPUAffinity", "process", &a, err) < 0)
		return -1;
	static const char *const keys[2] = {"initial", "final"};
	for (int k = 0; a && k < 2; k++) {
		cleanup_free char *v = NULL;
		field_t f = fld("process.execCPUAffinity", keys[k]);
		if (get_str(a, keys[k], "process.execCPUAffinity", &v, err) < 0)
			return -1;
		if (v == NULL)
			continue;
		if (parse_cpu_list(v, f.s, c->exec_cpus[k], err) < 0)
			return -1;
		for (int w = 0; w < 16; w++)
			c->has_exec_cpus[k] = c->has_exec_cpus[k] || c->exec_cpus[k][w] != 0;
	}
	return 0;
}

static int parse_process(json_t *root, rt_config_t *c, rt_error_t *err)
{
	json_t *p;
	if (get_obj(root, "process", "", &p, err) < 0)
		return -1;
	if (p == NULL)
		return bad(err, "process", "missing");
	if (get_bool(p, "terminal", "process", &c->terminal, err) < 0)
		return -1;
	if (get_strv(p, "args", "process", &c->args, err) < 0 ||
	    get_strv(p, "env", "process", &c->env, err) < 0 ||
	    get_str(p, "cwd", "process", &c->cwd, err) < 0)
		return -1;
	if (c->args == NULL || c->args[0] == NULL)
		return bad(err, "process.args", "must hold at least one element");
	if (c->cwd == NULL)
		c->cwd = rt__xstrdup("/");
	if (c->cwd[0] != '/')
		return bad(err, "process.cwd", "must be an absolute path");
	if (c->env == NULL)
		c->env = rt__xmalloc(sizeof(char *));

	json_t *u;
	if (get_obj(p, "user", "process", &u, err) < 0)
		return -1;
	if (u) {
		int64_t v = 0;
		bool has;
		if (get_int(u, "uid", "process.user", 0, UINT32_MAX - 1, &v, &has, err) < 0)
			return -1;
		c->uid = (uid_t)v;
		v = 0;
		if (get_int(u, "gid", "process.user", 0, UINT32_MAX - 1, &v, &has, err) < 0)
			return -1;
		c->gid = (gid_t)v;
		if (get_int(u, "umask", "process.user", 0, 0777, &v, &c->has_umask, err) < 0)
			return -1;
		c->umask = (mode_t)v;
		json_t *g;
		if (get_arr(u, "additionalGids", "process.user", &g, err) < 0)
			return -1;
		if (g) {
			c->additional_gids = rt__xmalloc((json_array_size(g) + 1) * sizeof(gid_t));
			for (size_t i = 0; i < json_array_size(g); i++) {
				json_t *e = json_array_get(g, i);
				if (!json_is_integer(e) || json_integer_value(e) < 0 ||
				    json_integer_value(e) >= UINT32_MAX)
					return bad(err, idx("process.user.additionalGids", i).s,
						   "expected integer gid");
				c->additional_gids[c->ngids++] = (gid_t)json_integer_value(e);
			}
		}
	}
	int64_t adj = 0;
	if (parse_caps(p, c, err) < 0 || parse_rlimits(p, c, err) < 0 ||
	    get_bool(p, "noNewPrivileges", "process", &c->no_new_privs, err) < 0 ||
	    get_int(p, "oomScoreAdj", "process", -1000, 1000, &adj, &c->has_oom_score_adj, err) <
		0 ||
	    rt__cfg_parse_process_linux(p, c, err) < 0 || parse_exec_cpu_affinity(p, c, err) < 0)
		return -1;
	c->oom_score_adj = (int)adj;
	return 0;
}

int rt__config_set_process(rt_config_t *c, const char *json, size_t len, rt_error_t *err)
{
	json_error_t je;
	cleanup_json json_t *p = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
	if (p == NULL)
		return rt__error_plain(err, EINVAL, "line %d column %d: %s", je.line, je.column,
				       je.text);
	if (!json_is_object(p))
		return bad(err, "process", "expected object");
	rt__strv_free(c->args);
	rt__strv_free(c->env);
	free(c->cwd);
	free(c->additional_gids);
	free(c->rlimits);
	c->args = c->env = NULL;
	c->cwd = NULL;
	c->additional_gids = NULL;
	c->rlimits = NULL;
	c->ngids = c->nrlimits = 0;
	c->uid = 0;
	c->gid = 0;
	c->has_umask = c->has_caps = c->no_new_privs = c->has_oom_score_adj = false;
	memset(c->caps, 0, sizeof(c->caps));
	memset(c->has_exec_cpus, 0, sizeof(c->has_exec_cpus));
	memset(c->exec_cpus, 0, sizeof(c->exec_cpus));
	rt__cfg_reset_process_linux(c);
	cleanup_json json_t *root = json_pack("{s:O}", "process", p);
	return parse_process(root, c, err);
}

/* ---- mounts ------------------------------------------------------------- */

static const struct {
	const char *name;
	unsigned long flag;
	bool clear;
} mount_opts[] = {
    {"ro", MS_RDONLY, false},
    {"rw", MS_RDONLY, true},
    {"nosuid", MS_NOSUID, false},
    {"suid", MS_NOSUID, true},
    {"nodev", MS_NODEV, false},
    {"dev", MS_NODEV, true},
    {"noexec", MS_NOEXEC, false},
    {"exec", MS_NOEXEC, true},
    {"sync", MS_SYNCHRONOUS, false},
    {"async", MS_SYNCHRONOUS, true},
    {"dirsync", MS_DIRSYNC, false},
    {"remount", MS_REMOUNT, false},
    {"mand", MS_MANDLOCK, false},
    {"nomand", MS_MANDLOCK, true},
    {"noatime", MS_NOATIME, false},
    {"atime", MS_NOATIME, true},
    {"nodiratime", MS_NODIRATIME, false},
    {"diratime", MS_NODIRATIME, true},
    {"relatime", MS_RELATIME, false},
    {"norelatime", MS_RELATIME, true},
    {"strictatime", MS_STRICTATIME, false},
    {"nostrictatime", MS_STRICTATIME, true},
    {"defaults", 0, false},
};

static const struct {
	const char *name;
	unsigned long flag;
} prop_opts[] = {
    {"private", MS_PRIVATE},	   {"rprivate", MS_PRIVATE | MS_REC},
    {"shared", MS_SHARED},	   {"rshared", MS_SHARED | MS_REC},
    {"slave", MS_SLAVE},	   {"rslave", MS_SLAVE | MS_REC},
    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

/* *idmap: 1 for `idmap`, 2 for `ridmap` (neither goes to mount(2)). */
static int parse_mount_options(rt_mount_t *m, const char **opts, size_t n, int *idmap)
{
	size_t dl = 0;
	for (size_t i = 0; i < n; i++) {
		const char *o = opts[i];
		bool done = false;
		if (strcmp(o, "bind") == 0 || strcmp(o, "rbind") == 0) {
			m->bind = true;
			m->flags |= MS_BIND | (o[0] == 'r' ? MS_REC : 0);
			continue;
		}
		if (strcmp(o, "idmap") == 0 || strcmp(o, "ridmap") == 0) {
			*idmap = o[0] == 'r' ? 2 : 1;
			continue;
		}
		for (size_t k = 0; !done && k < sizeof(mount_opts) / sizeof(mount_opts[0]); k++)
			if (strcmp(o, mount_opts[k].name) == 0) {
				if (mount_opts[k].clear) {
					m->flags &= ~mount_opts[k].flag;
					m->clear_flags |= mount_opts[k].flag;
				} else {
					m->flags |= mount_opts[k].flag;
				}
				done = true;
			}
		for (size_t k = 0; !done && k < sizeof(prop_opts) / sizeof(prop_opts[0]); k++)
			if (strcmp(o, prop_opts[k].name) == 0) {
				m->propagation = prop_opts[k].flag;
				done = true;
			}
		if (done)
			continue;
		/* Anything else is filesystem data ("mode=755", "size=64k"). */
		size_t ol = strlen(o);
		m->data = rt__xrealloc(m->data, dl + ol + 2);
		if (dl)
			m->data[dl++] = ',';
		memcpy(m->data + dl, o, ol + 1);
		dl += ol;
	}
	return 0;
}

/* mounts[i].uidMappings / gidMappings ("containerID hostID size" lines of
 * the user namespace an idmapped mount is made with). */
static int parse_mount_idmaps(json_t *mj, const char *parent, const char *key, rt__idmap_t **out,
			      size_t *n, rt_error_t *err)
{
	json_t *a;
	if (get_arr(mj, key, parent, &a, err) < 0)
		return -1;
	if (a == NULL)
		return 0;
	field_t kf = fld(parent, key);
	if (json_array_size(a) > 340)
		return bad(err, kf.s, "at most 340 mappings (the kernel's limit)");
	*out = rt__xmalloc((json_array_size(a) + 1) * sizeof(rt__idmap_t));
	for (size_t i = 0; i < json_array_size(a); i++) {
		field_t f = idx(kf.s, i);
		json_t *e = json_array_get(a, i);
		if (!json_is_object(e))
			return bad(err, f.s, "expected object");
		int64_t cid = -1, hid = -1, size = -1;
		if (get_int(e, "containerID", f.s, 0, UINT32_MAX - 1, &cid, NULL, err) < 0 ||
		    get_int(e, "hostID", f.s, 0, UINT32_MAX - 1, &hid, NULL, err) < 0 ||
		    get_int(e, "size", f.s, 1, UINT32_MAX, &size, NULL, err) < 0)
			return -1;
		if (cid < 0 || hid < 0 || size < 0)
			return bad(err, f.s, "containerID, hostID and size are required");
		(*out)[(*n)++] = (rt__idmap_t){(uint32_t)cid, (uint32_t)hid, (uint32_t)size};
	}
	return 0;
}

/* Whether the config asks for a new user namespace (linux.namespaces). */
static bool wants_userns(json_t *root)
{
	json_t *ns = json_object_get(json_object_get(root, "linux"), "namespaces");
	for (size_t i = 0; i < json_array_size(ns); i++) {
		const char *t = json_string_value(json_object_get(json_array_get(ns, i), "type"));
		if (t && strcmp(t, "user") == 0)
			return true;
	}
	return false;
}

/* An idmapped mount: both mappings, on a bind mount; hostIDs are IDs of the
 * user namespace ocirun runs in (the host's), as runc has them. Without a
 * user namespace the init makes the mount; with one, the runtime makes it
 * from the host (container.c) and the init attaches it. `idmap`/`ridmap`
 * without mappings take the container's user namespace's mappings, and are
 * an error without one. */
static int check_idmapped(json_t *root, json_t *mj, rt_mount_t *m, int idmap, const char *f,
			  rt_error_t *err)
{
	if (parse_mount_idmaps(mj, f, "uidMappings", &m->uid_maps, &m->nuid_maps, err) < 0 ||
	    parse_mount_idmaps(mj, f, "gidMappings", &m->gid_maps, &m->ngid_maps, err) < 0)
		return -1;
	if (idmap == 0 && m->nuid_maps == 0 && m->ngid_maps == 0)
		return 0;
	if (idmap && m->nuid_maps == 0 && m->ngid_maps == 0) {
		if (!wants_userns(root))
			return bad(err, fld(f, "options").s,
				   "`idmap`/`ridmap` without uidMappings and gidMappings needs a "
				   "user namespace whose mappings it takes");
		m->idmap_userns = true;
	} else if (m->nuid_maps == 0 || m->ngid_maps == 0)
		return bad(err, fld(f, m->nuid_maps ? "gidMappings" : "uidMappings").s,
			   "missing: an idmapped mount needs both uidMappings and gidMappings");
	if (!m->bind)
		return bad(err, fld(f, m->idmap_userns ? "options" : "uidMappings").s,
			   "only bind mounts (options bind or rbind) can be idmapped");
	/* ridmap: the whole tree, idmapped; recursion follows MS_REC. */
	if (idmap == 2)
		m->flags |= MS_REC;
	return 0;
}

static int parse_mounts(json_t *root, rt_config_t *c, rt_error_t *err)
{
	json_t *a;
	if (get_arr(root, "mounts", "", &a, err) < 0)
		return -1;
	if (a == NULL)
		return 0;
	c->mounts = rt__xmalloc((json_array_size(a) + 1) * sizeof(rt_mount_t));
	for (size_t i = 0; i < json_array_size(a); i++) {
		field_t f = idx("mounts", i);
		json_t *mj = json_array_get(a, i);
		if (!json_is_object(mj))
			return bad(err, f.s, "expected object");
		rt_mount_t *m = &c->mounts[c->nmounts++];
		cleanup_strv char **opts = NULL;
		if (get_str(mj, "destination", f.s, &m->destination, err) < 0 ||
		    get_str(mj, "type", f.s, &m->type, err) < 0 ||
		    get_str(mj, "source", f.s, &m->source, err) < 0 ||
		    get_strv(mj, "options", f.s, &opts, err) < 0)
			return -1;
		if (m->destination == NULL)
			return bad(err, fld(f.s, "destination").s, "missing");
		if (m->destination[0] == '\0')
			return bad(err, fld(f.s, "destination").s, "must not be empty");
		/* config.md (1.1): on Linux a relative destination is relative
		 * to "/" in the container. */
		if (m->destination[0] != '/') {
			char *abs = rt__xmalloc(strlen(m->destination) + 2);
			abs[0] = '/';
			strcpy(abs + 1, m->destination);
			free(m->destination);
			m->destination = abs;
		}
		int idmap = 0;
		parse_mount_options(m, (const char **)opts, rt__strv_len(opts), &idmap);
		if (m->type && strcmp(m->type, "bind") == 0)
			m->bind = true, m->flags |= MS_BIND;
		if (m->bind && m->source == NULL)
			return bad(err, fld(f.s, "source").s, "missing for a bind mount");
		if (!m->bind && m->type == NULL)
			return bad(err, fld(f.s, "type").s, "missing");
		if (check_idmapped(root, mj, m, idmap, f.s, err) < 0)
			return -1;
	}
	return 0;
}

/* ---- linux -------------------------------------------------------------- */

static const struct {
	const char *name;
	int type;
} ns_names[] = {
    {"pid", CLONE_NEWPID},	 {"network", CLONE_NEWNET}, {"mount", CLONE_NEWNS},
    {"ipc", CLONE_NEWIPC},	 {"uts", CLONE_NEWUTS},	    {"user", CLONE_NEWUSER},
    {"cgroup", CLONE_NEWCGROUP}, {"time", CLONE_NEWTIME},
};

const rt_namespace_t *rt__config_ns(const rt_config_t *cfg, int type)
{
	for (size_t i = 0; i < cfg->nnamespaces; i++)
		if (cfg->namespaces[i].type == type)
			return &cfg->namespaces[i];
	return NULL;
}

static int parse_namespaces(json_t *l, rt_config_t *c, rt_error_t *err)
{
	json_t *a;
	if (get_arr(l, "namespaces", "linux", &a, err) < 0)
		return -1;
	if (a == NULL)
		return 0;
	c->namespaces = rt__xmalloc((json_array_size(a) + 1) * sizeof(rt_namespace_t));
	for (size_t i = 0; i < json_array_size(a); i++) {
		field_t f = idx("linux.namespaces", i);
		json_t *nj = json_array_get(a, i);
		if (!json_is_object(nj))
			return bad(err, f.s, "expected object");
		cleanup_free char *type = NULL;
		char *path = NULL;
		if (get_str(nj, "type", f.s, &type, err) < 0 ||
		    get_str(nj, "path", f.s, &path, err) < 0) {
			free(path);
			return -1;
		}
		int t = -1;
		for (size_t k = 0; type && k < sizeof(ns_names) / sizeof(ns_names[0]); k++)
			if (strcmp(type, ns_names[k].name) == 0)
				t = ns_names[k].type;
		if (t < 0 || rt__config_ns(c, t) != NULL) {
			free(path);
			char m[128];
			snprintf(m, sizeof(m),
				 type == NULL ? "missing"
				 : t < 0      ? "unknown namespace `%.64s`"
					      : "namespace `%.64s` given twice",
				 type);
			return bad(err, fld(f.s, "type").s, m);
		}
		if (path && path[0] != '/') {
			free(path);
			return bad(err, fld(f.s, "path").s, "must be an absolute path");
		}
		c->namespaces[c->nnamespaces++] = (rt_namespace_t){t, path};
	}
	return 0;
}

static int parse_linux(json_t *root, rt_config_t *c, rt_error_t *err)
{
	json_t *l;
	if (get_obj(root, "linux", "", &l, err) < 0)
		return -1;
	if (l == NULL)
		return 0;
	if (parse_namespaces(l, c, err) < 0 || rt__cfg_parse_resources(l, c, err) < 0 ||
	    rt__cfg_parse_devices(l, c, err) < 0 ||
	    rt__cfg_parse_idmaps(l, "uidMappings", &c->uid_maps, &c->nuid_maps, err) < 0 ||
	    rt__cfg_parse_idmaps(l, "gidMappings", &c->gid_maps, &c->ngid_maps, err) < 0 ||
	    get_str(l, "cgroupsPath", "linux", &c->cgroups_path, err) < 0 ||
	    get_strv(l, "maskedPaths", "linux", &c->masked_paths, err) < 0 ||
	    get_strv(l, "readonlyPaths", "linux", &c->readonly_paths, err) < 0 ||
	    rt__cfg_parse_seccomp(l, c, err) < 0 || rt__cfg_parse_linux_process(l, c, err) < 0 ||
	    rt__cfg_parse_netdevices(l, c, err) < 0)
		return -1;
	/* config-linux.md: maskedPaths and readonlyPaths are absolute paths
	 * in the container. */
	for (int k = 0; k < 2; k++) {
		char **v = k == 0 ? c->masked_paths : c->readonly_paths;
		const char *key = k == 0 ? "linux.maskedPaths" : "linux.readonlyPaths";
		for (size_t i = 0; v && v[i]; i++)
			if (v[i][0] != '/')
				return bad(err, idx(key, i).s, "must be an absolute path");
	}
	/* The nodes of linux.devices get no device-cgroup rule of their own:
	 * like crun and runc, only linux.resources.devices (and the defaults)
	 * decide what may be used. */
	json_t *to;
	if (get_obj(l, "timeOffsets", "linux", &to, err) < 0)
		return -1;
	static const char *const clocks[2] = {"monotonic", "boottime"};
	for (int k = 0; to && k < 2; k++) {
		json_t *o;
		field_t f = fld("linux.timeOffsets", clocks[k]);
		if (get_obj(to, clocks[k], "linux.timeOffsets", &o, err) < 0)
			return -1;
		if (o == NULL)
			continue;
		if (get_int(o, "secs", f.s, INT64_MIN / 2, INT64_MAX / 2, &c->time_offsets[k][0],
			    NULL, err) < 0 ||
		    get_int(o, "nanosecs", f.s, 0, 999999999, &c->time_offsets[k][1], NULL, err) <
			0)
			return -1;
		c->has_time_offsets = true;
	}
	cleanup_free char *prop = NULL;
	if (get_str(l, "rootfsPropagation", "linux", &prop, err) < 0)
		return -1;
	if (prop) {
		for (size_t k = 0; k < sizeof(prop_opts) / sizeof(prop_opts[0]); k++)
			if (strcmp(prop, prop_opts[k].name) == 0)
				c->rootfs_propagation = prop_opts[k].flag;
		if (c->rootfs_propagation == 0)
			return bad(err, "linux.rootfsPropagation",
				   "expected shared, slave, private or unbindable (r-prefixed "
				   "for recursive)");
	}
	if (c->cgroups_path && strchr(c->cgroups_path, ':'))
		return bad(err, "linux.cgroupsPath",
			   "systemd slice:prefix:name paths are not supported yet");
	json_t *sys;
	if (get_obj(l, "sysctl", "linux", &sys, err) < 0)
		return -1;
	if (sys) {
		size_t n = json_object_size(sys), i = 0;
		c->sysctl_keys = rt__xmalloc((n + 1) * sizeof(char *));
		c->sysctl_values = rt__xmalloc((n + 1) * sizeof(char *));
		const char *k;
		json_t *v;
		json_object_foreach(sys, k, v)
		{
			if (!json_is_string(v))
				return bad(err, fld("linux.sysctl", k).s, "expected string");
			if (strstr(k, "..") || strchr(k, '/') || k[0] == '.')
				return bad(err, fld("linux.sysctl", k).s, "invalid sysctl name");
			c->sysctl_keys[i] = rt__xstrdup(k);
			c->sysctl_values[i++] = rt__xstrdup(json_string_value(v));
		}
	}
	return 0;
}

int rt_config_parse(const char *json, size_t len, rt_config_t **out, rt_error_t *err)
{
	*out = NULL;
	json_error_t je;
	cleanup_json json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
	if (root == NULL)
		return rt__error_plain(err, EINVAL, "line %d column %d: %s", je.line, je.column,
				       je.text);
	if (!json_is_object(root))
		return rt__error_plain(err, EINVAL, "expected a JSON object");
	rt_config_t *c = rt__xmalloc(sizeof(*c));
	c->extra.memory_swappiness = -1;
	json_t *r, *ann;
	if (get_str(root, "ociVersion", "", &c->oci_version, err) < 0)
		goto fail;
	if (c->oci_version == NULL) {
		bad(err, "ociVersion", "missing");
		goto fail;
	}
	if (get_obj(root, "root", "", &r, err) < 0)
		goto fail;
	if (r == NULL) {
		bad(err, "root", "missing");
		goto fail;
	}
	if (get_str(r, "path", "root", &c->root_path, err) < 0 ||
	    get_bool(r, "readonly", "root", &c->root_readonly, err) < 0)
		goto fail;
	if (c->root_path == NULL || c->root_path[0] == '\0') {
		bad(err, "root.path", "missing");
		goto fail;
	}
	if (parse_process(root, c, err) < 0 ||
	    get_str(root, "hostname", "", &c->hostname, err) < 0 ||
	    get_str(root, "domainname", "", &c->domainname, err) < 0 ||
	    parse_mounts(root, c, err) < 0 || parse_linux(root, c, err) < 0 ||
	    rt__cfg_parse_hooks(root, c, err) < 0 ||
	    get_obj(root, "annotations", "", &ann, err) < 0)
		goto fail;
	if (ann) {
		const char *k;
		json_t *v;
		json_object_foreach(ann, k, v)
		{
			if (k[0] == '\0') {
				bad(err, "annotations", "a key must not be empty");
				goto fail;
			}
			if (!json_is_string(v)) {
				bad(err, fld("annotations", k).s, "expected string");
				goto fail;
			}
		}
		c->annotations = json_incref(ann);
	}
	*out = c;
	return 0;
fail:
	rt_config_free(c);
	return -1;
}

int rt_config_load(const char *bundle, rt_config_t **out, rt_error_t *err)
{
	*out = NULL;
	char path[PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/config.json", bundle);
	size_t len;
	cleanup_free char *s = rt__read_file(path, &len, err);
	if (s == NULL)
		return -1;
	if (rt_config_parse(s, len, out, err) < 0)
		return rt_error_wrap(err, "`%s`", path);
	rt_config_t *c = *out;
	if (c->root_path[0] != '/') {
		char *abs = rt__xmalloc(strlen(bundle) + strlen(c->root_path) + 2);
		sprintf(abs, "%s/%s", bundle, c->root_path);
		free(c->root_path);
		c->root_path = abs;
	}
	/* Bind sources may be relative to the bundle. */
	for (size_t i = 0; i < c->nmounts; i++) {
		rt_mount_t *m = &c->mounts[i];
		if (m->bind && m->source && m->source[0] != '/') {
			char *abs = rt__xmalloc(strlen(bundle) + strlen(m->source) + 2);
			sprintf(abs, "%s/%s", bundle, m->source);
			free(m->source);
			m->source = abs;
		}
	}
	return 0;
}

void rt__config_warn(rt_config_t *cfg)
{
	for (size_t i = 0; cfg->warnings && cfg->warnings[i]; i++)
		fprintf(stderr, "ocirun: warning: %s\n", cfg->warnings[i]);
	rt__strv_free(cfg->warnings);
	cfg->warnings = NULL;
}

void rt_config_free(rt_config_t *c)
{
	if (c == NULL)
		return;
	free(c->oci_version);
	rt__strv_free(c->args);
	rt__strv_free(c->env);
	free(c->cwd);
	free(c->additional_gids);
	free(c->rlimits);
	free(c->root_path);
	free(c->hostname);
	free(c->domainname);
	for (size_t i = 0; i < c->nmounts; i++) {
		free(c->mounts[i].destination);
		free(c->mounts[i].type);
		free(c->mounts[i].source);
		free(c->mounts[i].data);
		free(c->mounts[i].uid_maps);
		free(c->mounts[i].gid_maps);
	}
	free(c->mounts);
	for (size_t i = 0; i < c->nnamespaces; i++)
		free(c->namespaces[i].path);
	free(c->namespaces);
	free(c->cgroups_path);
	rt__cgroup_extra_free(&c->extra);
	free(c->apparmor_profile);
	free(c->selinux_label);
	free(c->mount_label);
	free(c->mempolicy.nodes);
	for (size_t i = 0; i < c->ndevices; i++)
		free(c->devices[i].path);
	free(c->devices);
	for (size_t i = 0; i < c->nnetdevs; i++) {
		free(c->netdevs[i].name);
		free(c->netdevs[i].new_name);
	}
	free(c->netdevs);
	free(c->uid_maps);
	free(c->gid_maps);
	rt__strv_free(c->masked_paths);
	rt__strv_free(c->readonly_paths);
	rt__strv_free(c->sysctl_keys);
	rt__strv_free(c->sysctl_values);
	if (c->seccomp) {
		for (size_t i = 0; i < c->seccomp->nrules; i++) {
			rt__strv_free(c->seccomp->rules[i].names);
			free(c->seccomp->rules[i].args);
		}
		free(c->seccomp->rules);
		free(c->seccomp->arches);
		free(c->seccomp->listener_path);
		free(c->seccomp->listener_metadata);
		free(c->seccomp);
	}
	if (c->annotations)
		json_decref(c->annotations);
	rt__strv_free(c->warnings);
	for (int k = 0; k < RT_HOOK_NKINDS; k++) {
		for (size_t i = 0; i < c->nhooks[k]; i++) {
			free(c->hooks[k][i].path);
			rt__strv_free(c->hooks[k][i].args);
			rt__strv_free(c->hooks[k][i].env);
		}
		free(c->hooks[k]);
	}
	free(c);
}
