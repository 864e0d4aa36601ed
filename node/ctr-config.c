/* OCI runtime-spec 1.0.2 config.json for a pod's containers and its sandbox,
 * built the way Kubernetes and Docker shape them (ctr.h). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "node/cri-log.h"
#include "node/ctr.h"

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define CPU_PERIOD_US 100000
#define MIN_QUOTA_US 1000 /* kubelet's minQuotaPeriod */
#define MIN_SHARES 2
#define MAX_SHARES 262144

static json_t *strv_json(const char *const *v)
{
	json_t *a = json_array();
	for (size_t i = 0; v != NULL && v[i] != NULL; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static json_t *mount_json(const char *dst, const char *type, const char *src, const char *opts)
{
	json_t *m = json_pack("{s:s, s:s, s:s}", "destination", dst, "type", type, "source", src);
	json_t *o = json_array();
	char buf[256];
	snprintf(buf, sizeof buf, "%s", opts);
	char *save = NULL;
	for (char *t = strtok_r(buf, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save))
		json_array_append_new(o, json_string(t));
	json_object_set_new(m, "options", o);
	return m;
}

/* ---- env and $(VAR) expansion ------------------------------------------ */

/* A growing list of "K=V" strings. */
typedef struct envv {
	char **v;
	size_t n, cap;
} envv_t;

static size_t name_len(const char *kv)
{
	const char *eq = strchr(kv, '=');
	return eq != NULL ? (size_t)(eq - kv) : strlen(kv);
}

static ssize_t env_find(const envv_t *e, const char *name, size_t nlen)
{
	for (size_t i = 0; i < e->n; i++)
		if (name_len(e->v[i]) == nlen && strncmp(e->v[i], name, nlen) == 0)
			return (ssize_t)i;
	return -1;
}

/* Takes ownership of kv; replaces an entry of the same name in place. */
static void env_put(envv_t *e, char *kv)
{
	ssize_t i = env_find(e, kv, name_len(kv));
	if (i >= 0) {
		free(e->v[i]);
		e->v[i] = kv;
		return;
	}
	if (e->n == e->cap) {
		e->cap = e->cap ? e->cap * 2 : 16;
		e->v = realloc(e->v, e->cap * sizeof *e->v);
		if (e->v == NULL)
			abort();
	}
	e->v[e->n++] = kv;
}

static void env_free(envv_t *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->v[i]);
	free(e->v);
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s);
	if (d == NULL)
		abort();
	return d;
}

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		abort();
	return s;
}

typedef struct strbuf {
	char *s;
	size_t n, cap;
} strbuf_t;

static void sb_put(strbuf_t *b, const char *p, size_t len)
{
	while (b->n + len + 1 > b->cap) {
		b->cap = b->cap ? b->cap * 2 : 64;
		b->s = realloc(b->s, b->cap);
		if (b->s == NULL)
			abort();
	}
	memcpy(b->s + b->n, p, len);
	b->n += len;
	b->s[b->n] = '\0';
}

/* Kubernetes' expansion of command, args and env values: $(NAME) becomes the
 * value of NAME when vars defines it and stays as written otherwise; $$ is a
 * literal $. Returns a new string. */
static char *expand(const char *s, const envv_t *vars)
{
	strbuf_t b = {0};
	sb_put(&b, "", 0);
	while (*s) {
		if (s[0] == '$' && s[1] == '$') {
			sb_put(&b, "$", 1);
			s += 2;
			continue;
		}
		if (s[0] == '$' && s[1] == '(') {
			const char *end = strchr(s + 2, ')');
			if (end == NULL) {
				sb_put(&b, s, strlen(s));
				break;
			}
			size_t nlen = (size_t)(end - s - 2);
			ssize_t i = nlen > 0 ? env_find(vars, s + 2, nlen) : -1;
			if (i >= 0) {
				const char *v = vars->v[i] + nlen + 1;
				sb_put(&b, v, strlen(v));
			} else {
				sb_put(&b, s, (size_t)(end - s + 1));
			}
			s = end + 1;
			continue;
		}
		sb_put(&b, s, 1);
		s++;
	}
	return b.s;
}

/* Image env, then the pod's env (expanded against the pod's earlier entries,
 * overriding by name), then HOSTNAME and a default PATH unless set. The pod's
 * own variables go to podvars, for expanding command and args. */
static void build_env(const node_ctr_spec_t *s, envv_t *env, envv_t *podvars)
{
	if (s->image != NULL)
		for (char **e = s->image->env; e != NULL && *e != NULL; e++)
			env_put(env, xstrdup(*e));
	const api_kvlist_t *pe = &s->ctr->env;
	for (size_t i = 0; i < pe->n; i++) {
		char *v = expand(pe->items[i].value ? pe->items[i].value : "", podvars);
		env_put(podvars, xasprintf("%s=%s", pe->items[i].key, v));
		env_put(env, xasprintf("%s=%s", pe->items[i].key, v));
		free(v);
	}
	if (env_find(env, "HOSTNAME", 8) < 0)
		env_put(env, xasprintf("HOSTNAME=%s", s->pod->name));
	if (env_find(env, "PATH", 4) < 0)
		env_put(env, xstrdup(DEFAULT_PATH));
}

/* ---- process.args -------------------------------------------------------- */

/* command replaces the image Entrypoint; args replaces the image Cmd; a
 * command without args ignores the image Cmd (Kubernetes' rules). */
static json_t *build_args(const node_ctr_spec_t *s, const envv_t *podvars, rt_error_t *err)
{
	const api_container_t *c = s->ctr;
	char **ep = c->command != NULL ? c->command : (s->image ? s->image->entrypoint : NULL);
	char **cmd = c->args != NULL	  ? c->args
		     : c->command != NULL ? NULL
					  : (s->image ? s->image->cmd : NULL);
	bool from_pod_ep = c->command != NULL, from_pod_cmd = c->args != NULL;
	json_t *a = json_array();
	for (int part = 0; part < 2; part++) {
		char **v = part == 0 ? ep : cmd;
		bool pod = part == 0 ? from_pod_ep : from_pod_cmd;
		for (size_t i = 0; v != NULL && v[i] != NULL; i++) {
			if (pod) {
				char *x = expand(v[i], podvars);
				json_array_append_new(a, json_string(x));
				free(x);
			} else {
				json_array_append_new(a, json_string(v[i]));
			}
		}
	}
	if (json_array_size(a) == 0) {
		json_decref(a);
		rt_error_set(err, 0,
			     "container `%s`: no command: neither the pod's command/args nor "
			     "image `%s` give one",
			     c->name, c->image ? c->image : "?");
		return NULL;
	}
	return a;
}

/* ---- process.user ---------------------------------------------------------- */

/* Opens rootfs/rel with every path component resolved inside rootfs (an
 * image's symlinks cannot reach the host's files). */
static FILE *open_in_root(const char *rootfs, const char *rel)
{
	int dfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return NULL;
	struct open_how how = {.flags = O_RDONLY | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT};
	int fd = (int)syscall(SYS_openat2, dfd, rel, &how, sizeof how);
	if (fd < 0 && errno == ENOSYS)
		fd = openat(dfd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	int e = errno;
	close(dfd);
	if (fd < 0) {
		errno = e;
		return NULL;
	}
	FILE *f = fdopen(fd, "r");
	if (f == NULL)
		close(fd);
	return f;
}

static bool parse_id(const char *s, unsigned long *out)
{
	if (*s == '\0')
		return false;
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || !isdigit((unsigned char)*s) || v > UINT32_MAX - 1)
		return false;
	*out = v;
	return true;
}

/* Looks a name (or, with by_id, a numeric id) up in an /etc/passwd- or
 * /etc/group-shaped file: field 0 name, 2 id, 3 gid (passwd). Returns 1
 * found, 0 not found, -1 unreadable. */
static int lookup(const char *rootfs, const char *file, const char *name, unsigned long id,
		  bool by_id, unsigned long *out_id, unsigned long *out_gid)
{
	FILE *f = open_in_root(rootfs, file);
	if (f == NULL)
		return errno == ENOENT ? 0 : -1;
	char line[1024];
	int found = 0;
	while (!found && fgets(line, sizeof line, f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		char *fields[4] = {0};
		char *p = line;
		for (int i = 0; i < 4 && p != NULL; i++) {
			fields[i] = p;
			p = strchr(p, ':');
			if (p != NULL)
				*p++ = '\0';
		}
		unsigned long fid, fgid = 0;
		if (fields[2] == NULL || !parse_id(fields[2], &fid))
			continue;
		if (fields[3] != NULL && !parse_id(fields[3], &fgid))
			fgid = 0;
		if (by_id ? fid == id : strcmp(fields[0], name) == 0) {
			*out_id = fid;
			if (out_gid != NULL)
				*out_gid = fgid;
			found = 1;
		}
	}
	fclose(f);
	return found;
}

/* The image's User ("uid", "uid:gid", "name", "name:group", ...): numbers as
 * they are, names looked up in the rootfs; no user means root. A user given
 * alone takes its primary group from /etc/passwd (0 when it has no entry). */
static int build_user(const node_ctr_spec_t *s, json_t **out, rt_error_t *err)
{
	const char *spec = s->image && s->image->user ? s->image->user : "";
	unsigned long uid = 0, gid = 0;
	if (*spec != '\0') {
		char buf[256];
		if (snprintf(buf, sizeof buf, "%s", spec) >= (int)sizeof buf)
			return rt_error_set(err, 0, "image user `%s`: too long", spec);
		char *g = strchr(buf, ':');
		if (g != NULL)
			*g++ = '\0';
		int r;
		if (parse_id(buf, &uid)) {
			r = lookup(s->rootfs, "etc/passwd", NULL, uid, true, &uid, &gid);
			if (r == 0)
				gid = 0;
		} else {
			r = lookup(s->rootfs, "etc/passwd", buf, 0, false, &uid, &gid);
			if (r == 0)
				return rt_error_set(
				    err, 0, "image user `%s`: no user `%s` in %s/etc/passwd", spec,
				    buf, s->rootfs);
		}
		if (r < 0)
			return rt_error_set(err, errno, "image user `%s`: reading %s/etc/passwd",
					    spec, s->rootfs);
		if (g != NULL && !parse_id(g, &gid)) {
			r = lookup(s->rootfs, "etc/group", g, 0, false, &gid, NULL);
			if (r == 0)
				return rt_error_set(
				    err, 0, "image user `%s`: no group `%s` in %s/etc/group", spec,
				    g, s->rootfs);
			if (r < 0)
				return rt_error_set(err, errno,
						    "image user `%s`: reading %s/etc/group", spec,
						    s->rootfs);
		}
	}
	*out = json_pack("{s:I, s:I}", "uid", (json_int_t)uid, "gid", (json_int_t)gid);
	return 0;
}

/* ---- linux ----------------------------------------------------------------- */

static json_t *ns_json(const char *type, pid_t pid)
{
	if (pid <= 0)
		return json_pack("{s:s}", "type", type);
	static const struct {
		const char *type, *file;
	} files[] = {{"network", "net"}, {"ipc", "ipc"}, {"uts", "uts"}};
	const char *file = type;
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
		if (strcmp(files[i].type, type) == 0)
			file = files[i].file;
	char path[64];
	snprintf(path, sizeof path, "/proc/%ld/ns/%s", (long)pid, file);
	return json_pack("{s:s, s:s}", "type", type, "path", path);
}

/* kubelet's MilliCPUToShares. */
static int64_t cpu_shares(int64_t millis)
{
	if (millis <= 0)
		return MIN_SHARES;
	int64_t s = millis * 1024 / 1000;
	return s < MIN_SHARES ? MIN_SHARES : s > MAX_SHARES ? MAX_SHARES : s;
}

static json_t *build_resources(const api_resources_t *r)
{
	json_t *res = json_object();
	if (r->limits.memory_bytes > 0)
		/* swap equal to the limit: no swap, as kubelet does */
		json_object_set_new(res, "memory",
				    json_pack("{s:I, s:I}", "limit",
					      (json_int_t)r->limits.memory_bytes, "swap",
					      (json_int_t)r->limits.memory_bytes));
	int64_t req = r->requests.cpu_millis >= 0 ? r->requests.cpu_millis : r->limits.cpu_millis;
	json_t *cpu = json_pack("{s:I}", "shares", (json_int_t)cpu_shares(req));
	if (r->limits.cpu_millis > 0) {
		int64_t quota = r->limits.cpu_millis * (CPU_PERIOD_US / 1000);
		if (quota < MIN_QUOTA_US)
			quota = MIN_QUOTA_US;
		json_object_set_new(cpu, "quota", json_integer(quota));
		json_object_set_new(cpu, "period", json_integer(CPU_PERIOD_US));
	}
	json_object_set_new(res, "cpu", cpu);
	/* Devices: none beyond the runtime's defaults (null, zero, full, random,
	 * urandom, tty, ptys), as Docker and Kubernetes containers get. */
	json_object_set_new(res, "devices", json_pack("[{s:b, s:s}]", "allow", 0, "access", "rwm"));
	return res;
}

static json_t *annotations(const api_pod_t *pod, const char *ctr_name)
{
	return json_pack("{s:s, s:s, s:s, s:s}", "io.kubernetes.pod.name", pod->name,
			 "io.kubernetes.pod.namespace",
			 pod->namespace_ ? pod->namespace_ : "default", "io.kubernetes.pod.uid",
			 pod->uid ? pod->uid : "", "io.kubernetes.container.name", ctr_name);
}

/* The runtime's default seccomp profile as a new json_t. */
static json_t *default_seccomp(void)
{
	char *text = rt_seccomp_default_profile();
	json_t *j = json_loads(text, 0, NULL);
	free(text);
	return j;
}

static int write_config(json_t *cfg, const char *bundle_dir, rt_error_t *err)
{
	char path[4096];
	if (snprintf(path, sizeof path, "%s/config.json", bundle_dir) >= (int)sizeof path) {
		json_decref(cfg);
		return rt_error_set(err, ENAMETOOLONG, "bundle `%s`", bundle_dir);
	}
	char *text = json_dumps(cfg, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(cfg);
	if (text == NULL)
		return rt_error_set(err, ENOMEM, "encoding `%s`", path);
	int rc = node__mkdir_p(bundle_dir, 0700, err);
	if (rc == 0)
		rc = node__write_atomic(path, text, strlen(text), 0600, err);
	free(text);
	return rc;
}

static int check_rootfs(const char *rootfs, rt_error_t *err)
{
	if (rootfs == NULL || rootfs[0] != '/')
		return rt_error_set(err, EINVAL, "rootfs `%s`: must be an absolute path",
				    rootfs ? rootfs : "(none)");
	return 0;
}

int node_ctr_write_config(const node_ctr_spec_t *s, rt_error_t *err)
{
	if (s->pod == NULL || s->ctr == NULL || s->pod->name == NULL || s->ctr->name == NULL)
		return rt_error_set(err, EINVAL, "container config: pod and container required");
	if (check_rootfs(s->rootfs, err) < 0 || s->bundle_dir == NULL || s->cgroup_path == NULL)
		return rt_error_wrap(err, "container `%s` of pod `%s`", s->ctr->name, s->pod->name);

	envv_t env = {0}, podvars = {0};
	build_env(s, &env, &podvars);
	json_t *args = build_args(s, &podvars, err);
	env_free(&podvars);
	json_t *user = NULL;
	if (args == NULL || build_user(s, &user, err) < 0) {
		json_decref(args);
		env_free(&env);
		return rt_error_wrap(err, "container `%s` of pod `%s`", s->ctr->name, s->pod->name);
	}
	json_t *envj = json_array();
	for (size_t i = 0; i < env.n; i++)
		json_array_append_new(envj, json_string(env.v[i]));
	env_free(&env);

	const char *cwd = s->ctr->working_dir ? s->ctr->working_dir
			  : s->image && s->image->working_dir && s->image->working_dir[0]
			      ? s->image->working_dir
			      : "/";
	json_t *caps = json_pack("{s:o, s:o, s:o}", "bounding", strv_json(rt_default_capabilities),
				 "effective", strv_json(rt_default_capabilities), "permitted",
				 strv_json(rt_default_capabilities));
	json_t *process =
	    json_pack("{s:b, s:o, s:o, s:o, s:s, s:o, s:b}", "terminal", 0, "user", user, "args",
		      args, "env", envj, "cwd", cwd, "capabilities", caps, "noNewPrivileges", 1);

	json_t *mounts = json_array();
	json_array_append_new(mounts, mount_json("/proc", "proc", "proc", "nosuid,noexec,nodev"));
	json_array_append_new(mounts, mount_json("/dev", "tmpfs", "tmpfs",
						 "nosuid,strictatime,mode=755,size=65536k"));
	json_array_append_new(
	    mounts, mount_json("/dev/pts", "devpts", "devpts",
			       "nosuid,noexec,newinstance,ptmxmode=0666,mode=0620,gid=5"));
	json_array_append_new(mounts, mount_json("/dev/shm", "tmpfs", "shm",
						 "nosuid,noexec,nodev,mode=1777,size=65536k"));
	json_array_append_new(mounts,
			      mount_json("/dev/mqueue", "mqueue", "mqueue", "nosuid,noexec,nodev"));
	json_array_append_new(mounts,
			      mount_json("/sys", "sysfs", "sysfs", "nosuid,noexec,nodev,ro"));
	/* No /sys/fs/cgroup mount: on this hybrid v1 host a cgroup mount means one
	 * per controller plus the unified tree, and the container would see the
	 * host's hierarchy. Kubernetes gives one; it is its own piece of work. */
	if (s->hosts_file != NULL)
		json_array_append_new(mounts,
				      mount_json("/etc/hosts", "bind", s->hosts_file, "rbind,ro"));

	json_t *ns = json_array();
	json_array_append_new(ns, ns_json("pid", 0));
	json_array_append_new(ns, ns_json("mount", 0));
	json_array_append_new(ns, ns_json("network", s->sandbox_pid));
	json_array_append_new(ns, ns_json("ipc", s->sandbox_pid));
	json_array_append_new(ns, ns_json("uts", s->sandbox_pid));

	/* libruntime's default profile (RuntimeDefault, an allowlist). */
	json_t *linux_ =
	    json_pack("{s:o, s:s, s:o, s:o, s:o, s:o}", "namespaces", ns, "cgroupsPath",
		      s->cgroup_path, "resources", build_resources(&s->ctr->resources),
		      "maskedPaths", strv_json(rt_default_masked_paths), "readonlyPaths",
		      strv_json(rt_default_readonly_paths), "seccomp", default_seccomp());

	json_t *cfg = json_pack("{s:s, s:o, s:{s:s, s:b}, s:s, s:o, s:o, s:o}", "ociVersion",
				"1.0.2", "process", process, "root", "path", s->rootfs, "readonly",
				0, "hostname", s->pod->name, "mounts", mounts, "annotations",
				annotations(s->pod, s->ctr->name), "linux", linux_);
	if (cfg == NULL)
		return rt_error_set(err, EINVAL, "container `%s` of pod `%s`: building config.json",
				    s->ctr->name, s->pod->name);
	if (write_config(cfg, s->bundle_dir, err) < 0)
		return rt_error_wrap(err, "container `%s` of pod `%s`", s->ctr->name, s->pod->name);
	return 0;
}

int node_sandbox_write_config(const api_pod_t *pod, const char *rootfs, const char *bundle_dir,
			      const char *cgroup_path, rt_error_t *err)
{
	if (pod == NULL || pod->name == NULL || bundle_dir == NULL || cgroup_path == NULL)
		return rt_error_set(err, EINVAL, "sandbox config: pod, bundle and cgroup required");
	if (check_rootfs(rootfs, err) < 0)
		return rt_error_wrap(err, "sandbox of pod `%s`", pod->name);
	const char *no_caps[] = {NULL};
	json_t *process =
	    json_pack("{s:b, s:{s:i, s:i}, s:[s], s:[s], s:s, s:{s:o, s:o, s:o}, s:b}", "terminal",
		      0, "user", "uid", 0, "gid", 0, "args", "/pause", "env", "PATH=/", "cwd", "/",
		      "capabilities", "bounding", strv_json(no_caps), "effective",
		      strv_json(no_caps), "permitted", strv_json(no_caps), "noNewPrivileges", 1);
	json_t *mounts = json_array();
	json_array_append_new(mounts, mount_json("/proc", "proc", "proc", "nosuid,noexec,nodev"));
	json_array_append_new(
	    mounts, mount_json("/dev", "tmpfs", "tmpfs", "nosuid,strictatime,mode=755,size=1024k"));
	json_t *ns = json_array();
	const char *types[] = {"pid", "mount", "network", "ipc", "uts"};
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		json_array_append_new(ns, ns_json(types[i], 0));
	/* The pause rootfs is shared by every pod of the node: read-only. */
	json_t *cfg = json_pack(
	    "{s:s, s:o, s:{s:s, s:b}, s:s, s:o, s:o, s:{s:o, s:s, s:o, s:o, s:o}}", "ociVersion",
	    "1.0.2", "process", process, "root", "path", rootfs, "readonly", 1, "hostname",
	    pod->name, "mounts", mounts, "annotations", annotations(pod, "POD"), "linux",
	    "namespaces", ns, "cgroupsPath", cgroup_path, "maskedPaths",
	    strv_json(rt_default_masked_paths), "readonlyPaths",
	    strv_json(rt_default_readonly_paths), "seccomp", default_seccomp());
	if (cfg == NULL)
		return rt_error_set(err, EINVAL, "sandbox of pod `%s`: building config.json",
				    pod->name);
	if (write_config(cfg, bundle_dir, err) < 0)
		return rt_error_wrap(err, "sandbox of pod `%s`", pod->name);
	return 0;
}
