/* The process attributes of config.json beyond user, capabilities and
 * rlimits: process.ioPriority, process.scheduler, linux.personality,
 * linux.memoryPolicy, process.consoleSize, and the LSM fields
 * (process.apparmorProfile, process.selinuxLabel, linux.mountLabel), plus
 * linux.intelRdt, which is refused. Parsed here from config.c and applied by
 * rt__process_prepare (container-init.c) in the container's init and in
 * every `exec`'d process, right before the user switch while the
 * capabilities they need (CAP_SYS_NICE, CAP_SYS_ADMIN) are still held.
 * Nothing here runs for a config that sets none of them. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <termios.h>

#include "runtime/config-internal.h"

/* ---- names -------------------------------------------------------------- */

typedef struct named {
	const char *name;
	unsigned long value;
} named_t;

#define NNAMES(a) (sizeof(a) / sizeof((a)[0]))

static const named_t ioprio_classes[] = {
    {"IOPRIO_CLASS_RT", 1},
    {"IOPRIO_CLASS_BE", 2},
    {"IOPRIO_CLASS_IDLE", 3},
};

static const named_t sched_policies[] = {
    {"SCHED_OTHER", 0}, {"SCHED_FIFO", 1}, {"SCHED_RR", 2},	  {"SCHED_BATCH", 3},
    {"SCHED_ISO", 4},	{"SCHED_IDLE", 5}, {"SCHED_DEADLINE", 6},
};

static const named_t sched_flags[] = {
    {"SCHED_FLAG_RESET_ON_FORK", 0x01},	 {"SCHED_FLAG_RECLAIM", 0x02},
    {"SCHED_FLAG_DL_OVERRUN", 0x04},	 {"SCHED_FLAG_KEEP_POLICY", 0x08},
    {"SCHED_FLAG_KEEP_PARAMS", 0x10},	 {"SCHED_FLAG_UTIL_CLAMP_MIN", 0x20},
    {"SCHED_FLAG_UTIL_CLAMP_MAX", 0x40},
};

static const named_t personality_domains[] = {
    {"LINUX", PER_LINUX},
    {"LINUX32", PER_LINUX32},
};

/* The runtime-spec defines no personality flag; these are personality(2)'s
 * own, accepted as an extension. */
static const named_t personality_flags[] = {
    {"ADDR_NO_RANDOMIZE", ADDR_NO_RANDOMIZE}, {"ADDR_COMPAT_LAYOUT", ADDR_COMPAT_LAYOUT},
    {"ADDR_LIMIT_32BIT", ADDR_LIMIT_32BIT},   {"ADDR_LIMIT_3GB", ADDR_LIMIT_3GB},
    {"FDPIC_FUNCPTRS", FDPIC_FUNCPTRS},	      {"MMAP_PAGE_ZERO", MMAP_PAGE_ZERO},
    {"READ_IMPLIES_EXEC", READ_IMPLIES_EXEC}, {"SHORT_INODE", SHORT_INODE},
    {"STICKY_TIMEOUTS", STICKY_TIMEOUTS},     {"UNAME26", UNAME26},
    {"WHOLE_SECONDS", WHOLE_SECONDS},
};

/* <linux/mempolicy.h> values (glibc has no header for them). */
enum {
	MPOL_DEFAULT_,
	MPOL_PREFERRED_,
	MPOL_BIND_,
	MPOL_INTERLEAVE_,
	MPOL_LOCAL_,
	MPOL_PREFERRED_MANY_,
	MPOL_WEIGHTED_INTERLEAVE_
};

static const named_t mpol_modes[] = {
    {"MPOL_DEFAULT", MPOL_DEFAULT_},
    {"MPOL_PREFERRED", MPOL_PREFERRED_},
    {"MPOL_BIND", MPOL_BIND_},
    {"MPOL_INTERLEAVE", MPOL_INTERLEAVE_},
    {"MPOL_LOCAL", MPOL_LOCAL_},
    {"MPOL_PREFERRED_MANY", MPOL_PREFERRED_MANY_},
    {"MPOL_WEIGHTED_INTERLEAVE", MPOL_WEIGHTED_INTERLEAVE_},
};

static const named_t mpol_flags[] = {
    {"MPOL_F_NUMA_BALANCING", 1U << 13},
    {"MPOL_F_RELATIVE_NODES", 1U << 14},
    {"MPOL_F_STATIC_NODES", 1U << 15},
};

/* Looks name up in t; on a miss, err names field and lists what is allowed. */
static int lookup(const named_t *t, size_t n, const char *name, const char *field,
		  unsigned long *out, rt_error_t *err)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(t[i].name, name) == 0) {
			*out = t[i].value;
			return 0;
		}
	char m[512];
	int l = snprintf(m, sizeof(m), "unknown value `%.64s` (expected ", name);
	for (size_t i = 0; i < n && l > 0 && (size_t)l < sizeof(m); i++)
		l += snprintf(m + l, sizeof(m) - (size_t)l, "%s%s", i ? ", " : "", t[i].name);
	if (l > 0 && (size_t)l < sizeof(m))
		snprintf(m + l, sizeof(m) - (size_t)l, ")");
	return bad(err, field, m);
}

/* A required string member naming one of t. */
static int get_enum(json_t *o, const char *key, const char *parent, const named_t *t, size_t n,
		    unsigned long *out, rt_error_t *err)
{
	cleanup_free char *s = NULL;
	if (get_str(o, key, parent, &s, err) < 0)
		return -1;
	if (s == NULL)
		return bad(err, fld(parent, key).s, "missing");
	return lookup(t, n, s, fld(parent, key).s, out, err);
}

/* An optional array of names of t, OR'd together. */
static int get_flags(json_t *o, const char *key, const char *parent, const named_t *t, size_t n,
		     unsigned long *out, rt_error_t *err)
{
	json_t *a;
	if (get_arr(o, key, parent, &a, err) < 0)
		return -1;
	field_t f = fld(parent, key);
	for (size_t i = 0; a && i < json_array_size(a); i++) {
		json_t *e = json_array_get(a, i);
		unsigned long v = 0;
		if (!json_is_string(e))
			return bad(err, idx(f.s, i).s, "expected string");
		if (lookup(t, n, json_string_value(e), idx(f.s, i).s, &v, err) < 0)
			return -1;
		*out |= v;
	}
	return 0;
}

/* A required integer member in [min, max]. */
static int get_req_int(json_t *o, const char *key, const char *parent, int64_t min, int64_t max,
		       int64_t *out, rt_error_t *err)
{
	bool has = false;
	if (get_int(o, key, parent, min, max, out, &has, err) < 0)
		return -1;
	if (!has)
		return bad(err, fld(parent, key).s, "missing");
	return 0;
}

/* ---- parsing ------------------------------------------------------------ */

static int parse_ioprio(json_t *p, rt_config_t *c, rt_error_t *err)
{
	json_t *o;
	if (get_obj(p, "ioPriority", "process", &o, err) < 0)
		return -1;
	if (o == NULL)
		return 0;
	unsigned long cls;
	int64_t level = 0;
	if (get_enum(o, "class", "process.ioPriority", ioprio_classes, NNAMES(ioprio_classes), &cls,
		     err) < 0 ||
	    get_req_int(o, "priority", "process.ioPriority", 0, 7, &level, err) < 0)
		return -1;
	c->has_ioprio = true;
	c->ioprio_class = (int)cls;
	c->ioprio_level = (int)level;
	return 0;
}

static int parse_sched(json_t *p, rt_config_t *c, rt_error_t *err)
{
	json_t *o;
	if (get_obj(p, "scheduler", "process", &o, err) < 0)
		return -1;
	if (o == NULL)
		return 0;
	static const char *const f = "process.scheduler";
	unsigned long policy, flags = 0;
	int64_t nice = 0, prio = 0;
	uint64_t rt = 0, dl = 0, per = 0;
	if (get_enum(o, "policy", f, sched_policies, NNAMES(sched_policies), &policy, err) < 0 ||
	    get_int(o, "nice", f, -20, 19, &nice, NULL, err) < 0 ||
	    get_int(o, "priority", f, 0, 99, &prio, NULL, err) < 0 ||
	    get_flags(o, "flags", f, sched_flags, NNAMES(sched_flags), &flags, err) < 0 ||
	    get_u64(o, "runtime", f, &rt, err) < 0 || get_u64(o, "deadline", f, &dl, err) < 0 ||
	    get_u64(o, "period", f, &per, err) < 0)
		return -1;
	const bool realtime = policy == 1 || policy == 2;
	if (prio != 0 && !realtime)
		return bad(err, "process.scheduler.priority",
			   "only SCHED_FIFO and SCHED_RR take a priority");
	if (realtime && prio == 0)
		return bad(err, "process.scheduler.priority",
			   "SCHED_FIFO and SCHED_RR need a priority in [1, 99]");
	if (policy != 6 && (rt || dl || per))
		return bad(err, "process.scheduler",
			   "runtime, deadline and period are for SCHED_DEADLINE only");
	if (policy == 6 && (rt == 0 || dl == 0))
		return bad(err, "process.scheduler",
			   "SCHED_DEADLINE needs runtime and deadline (ns)");
	c->has_sched = true;
	c->sched.policy = (int)policy;
	c->sched.nice = (int)nice;
	c->sched.priority = (int)prio;
	c->sched.flags = flags;
	c->sched.runtime = rt;
	c->sched.deadline = dl;
	c->sched.period = per;
	return 0;
}

int rt__cfg_parse_process_linux(json_t *p, rt_config_t *c, rt_error_t *err)
{
	if (parse_ioprio(p, c, err) < 0 || parse_sched(p, c, err) < 0 ||
	    get_str(p, "apparmorProfile", "process", &c->apparmor_profile, err) < 0 ||
	    get_str(p, "selinuxLabel", "process", &c->selinux_label, err) < 0)
		return -1;
	if (c->apparmor_profile && c->apparmor_profile[0] == '\0') {
		free(c->apparmor_profile);
		c->apparmor_profile = NULL;
	}
	if (c->selinux_label && c->selinux_label[0] == '\0') {
		free(c->selinux_label);
		c->selinux_label = NULL;
	}
	json_t *cs;
	if (get_obj(p, "consoleSize", "process", &cs, err) < 0)
		return -1;
	if (cs) {
		int64_t h = 0, w = 0;
		if (get_req_int(cs, "height", "process.consoleSize", 0, USHRT_MAX, &h, err) < 0 ||
		    get_req_int(cs, "width", "process.consoleSize", 0, USHRT_MAX, &w, err) < 0)
			return -1;
		c->has_console_size = true;
		c->console_rows = (unsigned short)h;
		c->console_cols = (unsigned short)w;
	}
	return 0;
}

void rt__cfg_reset_process_linux(rt_config_t *c)
{
	free(c->apparmor_profile);
	free(c->selinux_label);
	c->apparmor_profile = c->selinux_label = NULL;
	c->has_ioprio = c->has_sched = c->has_console_size = false;
	memset(&c->sched, 0, sizeof(c->sched));
}

int rt__nodelist_parse(const char *s, unsigned long *mask, size_t nbits, int *highest)
{
	const size_t bpl = sizeof(unsigned long) * CHAR_BIT;
	*highest = -1;
	if (*s == '\0')
		return 0;
	while (*s) {
		char *e;
		if (*s < '0' || *s > '9')
			return -1;
		unsigned long a = strtoul(s, &e, 10), b = a;
		if (*e == '-') {
			if (e[1] < '0' || e[1] > '9')
				return -1;
			b = strtoul(e + 1, &e, 10);
		}
		if (b < a || b >= nbits || (*e != ',' && *e != '\0'))
			return -1;
		for (unsigned long n = a; n <= b; n++)
			mask[n / bpl] |= 1UL << (n % bpl);
		if ((int)b > *highest)
			*highest = (int)b;
		s = *e == ',' ? e + 1 : e;
		if (*e == ',' && *s == '\0')
			return -1;
	}
	return 0;
}

#define RT_MAX_NODES 1024

int rt__cfg_parse_linux_process(json_t *l, rt_config_t *c, rt_error_t *err)
{
	json_t *o;
	if (get_obj(l, "personality", "linux", &o, err) < 0)
		return -1;
	if (o) {
		unsigned long dom, flags = 0;
		if (get_enum(o, "domain", "linux.personality", personality_domains,
			     NNAMES(personality_domains), &dom, err) < 0 ||
		    get_flags(o, "flags", "linux.personality", personality_flags,
			      NNAMES(personality_flags), &flags, err) < 0)
			return -1;
		c->has_personality = true;
		c->personality = dom | flags;
	}
	if (get_obj(l, "memoryPolicy", "linux", &o, err) < 0)
		return -1;
	if (o) {
		unsigned long mode, flags = 0;
		char *nodes = NULL;
		if (get_enum(o, "mode", "linux.memoryPolicy", mpol_modes, NNAMES(mpol_modes), &mode,
			     err) < 0 ||
		    get_flags(o, "flags", "linux.memoryPolicy", mpol_flags, NNAMES(mpol_flags),
			      &flags, err) < 0 ||
		    get_str(o, "nodes", "linux.memoryPolicy", &nodes, err) < 0) {
			free(nodes);
			return -1;
		}
		c->has_mempolicy = true;
		c->mempolicy.mode = (int)mode;
		c->mempolicy.flags = (unsigned)flags;
		c->mempolicy.nodes = nodes;
		unsigned long mask[RT_MAX_NODES / (sizeof(unsigned long) * CHAR_BIT)] = {0};
		int hi;
		if (nodes && rt__nodelist_parse(nodes, mask, RT_MAX_NODES, &hi) < 0)
			return bad(err, "linux.memoryPolicy.nodes",
				   "expected a node list like \"0-3,7\" (nodes below 1024)");
		const bool empty = nodes == NULL || nodes[0] == '\0';
		if ((mode == MPOL_DEFAULT_ || mode == MPOL_LOCAL_) && !empty)
			return bad(err, "linux.memoryPolicy.nodes",
				   "must be empty for MPOL_DEFAULT and MPOL_LOCAL");
		if ((mode == MPOL_DEFAULT_ || mode == MPOL_LOCAL_) && flags)
			return bad(err, "linux.memoryPolicy.flags",
				   "MPOL_DEFAULT and MPOL_LOCAL take no flags");
		if (empty && mode != MPOL_DEFAULT_ && mode != MPOL_LOCAL_ &&
		    mode != MPOL_PREFERRED_)
			return bad(err, "linux.memoryPolicy.nodes",
				   "missing (this mode needs at least one node)");
		if ((flags & (1U << 14)) && (flags & (1U << 15)))
			return bad(err, "linux.memoryPolicy.flags",
				   "MPOL_F_RELATIVE_NODES and MPOL_F_STATIC_NODES exclude each "
				   "other");
	}
	if (get_str(l, "mountLabel", "linux", &c->mount_label, err) < 0)
		return -1;
	if (c->mount_label && c->mount_label[0] == '\0') {
		free(c->mount_label);
		c->mount_label = NULL;
	}
	/* linux.intelRdt: resctrl is not implemented; say why it cannot run. */
	if (get_obj(l, "intelRdt", "linux", &o, err) < 0)
		return -1;
	if (o) {
		cleanup_free char *clos = NULL, *l3 = NULL, *mb = NULL;
		cleanup_strv char **schemata = NULL;
		bool b;
		if (get_str(o, "closID", "linux.intelRdt", &clos, err) < 0 ||
		    get_str(o, "l3CacheSchema", "linux.intelRdt", &l3, err) < 0 ||
		    get_str(o, "memBwSchema", "linux.intelRdt", &mb, err) < 0 ||
		    get_strv(o, "schemata", "linux.intelRdt", &schemata, err) < 0 ||
		    get_bool(o, "enableMonitoring", "linux.intelRdt", &b, err) < 0 ||
		    get_bool(o, "enableCMT", "linux.intelRdt", &b, err) < 0 ||
		    get_bool(o, "enableMBM", "linux.intelRdt", &b, err) < 0)
			return -1;
		if (clos && (strcmp(clos, ".") == 0 || strcmp(clos, "..") == 0 ||
			     strchr(clos, '/') != NULL))
			return bad(err, "linux.intelRdt.closID", "must be a plain directory name");
		struct statfs sf;
		if (statfs("/sys/fs/resctrl", &sf) < 0 || sf.f_type != 0x7655821 /* RDTGROUP */)
			return bad(err, "linux.intelRdt",
				   "Intel RDT needs resctrl, which is not mounted at "
				   "/sys/fs/resctrl on this host");
		return bad(err, "linux.intelRdt", "not implemented yet (resctrl groups)");
	}
	return 0;
}

/* ---- host checks (in the init, before anything is set up) --------------- */

static bool apparmor_enabled(void)
{
	char buf[4] = "";
	int fd = open("/sys/module/apparmor/parameters/enabled", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 && buf[0] == 'Y';
}

static bool selinux_enabled(void)
{
	struct statfs sf;
	return statfs("/sys/fs/selinux", &sf) == 0 && sf.f_type == 0xf97cff8c /* SELINUX_MAGIC */;
}

/* runc and crun refuse an AppArmor profile or an SELinux label the host
 * cannot apply (runc 1.1.5 and crun 1.8.1, checked on this kind of host);
 * ocirun refuses too, and says so by field. mountLabel is refused with
 * selinuxLabel's reason: runc fails on it (context= mount option), crun
 * ignores it; labels that silently do nothing are not isolation. */
int rt__process_linux_check(const rt_config_t *cfg, rt_error_t *err)
{
	if (cfg->apparmor_profile && !apparmor_enabled())
		return rt__error_plain(err, EOPNOTSUPP,
				       "process.apparmorProfile `%s`: AppArmor is not enabled on "
				       "this host (/sys/module/apparmor/parameters/enabled)",
				       cfg->apparmor_profile);
	if ((cfg->selinux_label || cfg->mount_label) && !selinux_enabled())
		return rt__error_plain(err, EOPNOTSUPP,
				       "%s `%s`: SELinux is not enabled on this host (no selinuxfs "
				       "at /sys/fs/selinux)",
				       cfg->selinux_label ? "process.selinuxLabel"
							  : "linux.mountLabel",
				       cfg->selinux_label ? cfg->selinux_label : cfg->mount_label);
	return 0;
}

/* ---- applying ----------------------------------------------------------- */

/* struct sched_attr, SCHED_ATTR_SIZE_VER1 (with the utilization clamps). */
struct rt_sched_attr {
	uint32_t size, policy;
	uint64_t flags;
	int32_t nice;
	uint32_t priority;
	uint64_t runtime, deadline, period;
	uint32_t util_min, util_max;
};

static int apply_sched(const rt_config_t *cfg, rt_error_t *err)
{
	struct rt_sched_attr a = {
	    .size = sizeof(a),
	    .policy = (uint32_t)cfg->sched.policy,
	    .flags = cfg->sched.flags,
	    .nice = cfg->sched.nice,
	    .priority = (uint32_t)cfg->sched.priority,
	    .runtime = cfg->sched.runtime,
	    .deadline = cfg->sched.deadline,
	    .period = cfg->sched.period,
	    .util_min = 0,
	    .util_max = 1024,
	};
	if (syscall(SYS_sched_setattr, 0, &a, 0) < 0) {
		const char *pol = "?";
		for (size_t i = 0; i < NNAMES(sched_policies); i++)
			if (sched_policies[i].value == (unsigned long)cfg->sched.policy)
				pol = sched_policies[i].name;
		/* With RT group scheduling a cgroup's real-time budget starts at 0. */
		if (errno == EPERM && (cfg->sched.policy == 1 || cfg->sched.policy == 2))
			return rt_error_set(err, errno,
					    "process.scheduler: sched_setattr(%s) (a real-time "
					    "policy in a cpu cgroup needs "
					    "linux.resources.cpu.realtimeRuntime)",
					    pol);
		return rt_error_set(err, errno, "process.scheduler: sched_setattr(%s)", pol);
	}
	return 0;
}

static int apply_mempolicy(const rt_config_t *cfg, rt_error_t *err)
{
	unsigned long mask[RT_MAX_NODES / (sizeof(unsigned long) * CHAR_BIT)] = {0};
	int hi = -1;
	const char *nodes = cfg->mempolicy.nodes ? cfg->mempolicy.nodes : "";
	if (rt__nodelist_parse(nodes, mask, RT_MAX_NODES, &hi) < 0)
		return rt__error_plain(err, EINVAL, "linux.memoryPolicy.nodes `%s`: bad node list",
				       nodes);
	unsigned long maxnode = hi < 0 ? 0 : (unsigned long)hi + 2;
	if (syscall(SYS_set_mempolicy, cfg->mempolicy.mode | (int)cfg->mempolicy.flags,
		    hi < 0 ? NULL : mask, maxnode) < 0) {
		const char *mode = "?";
		for (size_t i = 0; i < NNAMES(mpol_modes); i++)
			if (mpol_modes[i].value == (unsigned long)cfg->mempolicy.mode)
				mode = mpol_modes[i].name;
		return rt_error_set(err, errno, "linux.memoryPolicy: set_mempolicy(%s, nodes `%s`)",
				    mode, nodes);
	}
	return 0;
}

/* Writes an LSM attribute for the next exec: the AppArmor-specific file
 * when there is one (Linux 5.8+), else the shared attr/exec. */
static int write_attr(const char *specific, const char *value, const char *field, rt_error_t *err)
{
	int fd = specific ? open(specific, O_WRONLY | O_CLOEXEC) : -1;
	if (fd < 0)
		fd = open("/proc/thread-self/attr/exec", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return rt_error_set(err, errno, "%s: opening the exec attribute", field);
	size_t n = strlen(value);
	ssize_t w = write(fd, value, n);
	int e = errno;
	close(fd);
	if (w != (ssize_t)n)
		return rt_error_set(err, w < 0 ? e : EIO, "%s `%s`: writing the exec attribute",
				    field, value);
	return 0;
}

int rt__process_linux_apply(const rt_config_t *cfg, rt_error_t *err)
{
	if (cfg->has_ioprio && syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0,
				       (cfg->ioprio_class << 13) | cfg->ioprio_level) < 0)
		return rt_error_set(err, errno,
				    "process.ioPriority: ioprio_set(class %d, level %d)",
				    cfg->ioprio_class, cfg->ioprio_level);
	if (cfg->has_sched && apply_sched(cfg, err) < 0)
		return -1;
	if (cfg->has_personality && personality(cfg->personality) < 0)
		return rt_error_set(err, errno, "linux.personality: personality(0x%lx)",
				    cfg->personality);
	if (cfg->has_mempolicy && apply_mempolicy(cfg, err) < 0)
		return -1;
	/* consoleSize is ignored without a terminal, as the spec asks; with one,
	 * fd 0 is the pty's slave by now (console.c). */
	if (cfg->terminal && cfg->has_console_size) {
		struct winsize ws = {.ws_row = cfg->console_rows, .ws_col = cfg->console_cols};
		if (ioctl(STDIN_FILENO, TIOCSWINSZ, &ws) < 0)
			return rt_error_set(err, errno, "process.consoleSize: setting %ux%u",
					    (unsigned)ws.ws_row, (unsigned)ws.ws_col);
	}
	if (cfg->apparmor_profile || cfg->selinux_label) {
		if (rt__process_linux_check(cfg, err) < 0)
			return -1;
		if (cfg->apparmor_profile) {
			char buf[4096];
			snprintf(buf, sizeof(buf), "exec %s", cfg->apparmor_profile);
			if (write_attr("/proc/thread-self/attr/apparmor/exec", buf,
				       "process.apparmorProfile", err) < 0)
				return -1;
		}
		if (cfg->selinux_label &&
		    write_attr(NULL, cfg->selinux_label, "process.selinuxLabel", err) < 0)
			return -1;
	}
	return 0;
}
