/* The default config.json that `ocirun spec` writes: secure by default
 * (Docker's capability set, no_new_privs, masked and read-only /proc and /sys
 * paths, the default seccomp profile, a deny-all device rule, a read-only
 * root), busybox-friendly (args ["sh"], root "rootfs"). */
#include <ctype.h>
#include <sys/capability.h>

#include "runtime/rt-internal.h"

const char *const rt_default_capabilities[] = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
    NULL,
};

const char *const rt_default_masked_paths[] = {
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
    NULL,
};

const char *const rt_default_readonly_paths[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL,
};

/* A JSON array of the strings of a NULL-terminated vector. */
static json_t *strv(const char *const *v)
{
	json_t *a = json_array();
	for (size_t i = 0; v[i] != NULL; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static json_t *spec_json(void)
{
	static const char *const ns[] = {"pid", "network", "ipc", "uts", "mount"};
	json_t *caps =
	    json_pack("{s:o, s:o, s:o}", "bounding", strv(rt_default_capabilities), "effective",
		      strv(rt_default_capabilities), "permitted", strv(rt_default_capabilities));
	char *profile = rt_seccomp_default_profile();
	json_t *seccomp = json_loads(profile, 0, NULL);
	free(profile);
	json_t *namespaces = json_array();
	for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++)
		json_array_append_new(namespaces, json_pack("{s:s}", "type", ns[i]));
	json_t *mounts = json_pack(
	    "[{s:s, s:s, s:s}, {s:s, s:s, s:s, s:[s,s,s,s]}, {s:s, s:s, s:s, s:[s,s,s,s,s,s]},"
	    " {s:s, s:s, s:s, s:[s,s,s,s,s]}, {s:s, s:s, s:s, s:[s,s,s]},"
	    " {s:s, s:s, s:s, s:[s,s,s,s]}]",
	    "destination", "/proc", "type", "proc", "source", "proc", "destination", "/dev", "type",
	    "tmpfs", "source", "tmpfs", "options", "nosuid", "strictatime", "mode=755",
	    "size=65536k", "destination", "/dev/pts", "type", "devpts", "source", "devpts",
	    "options", "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5",
	    "destination", "/dev/shm", "type", "tmpfs", "source", "shm", "options", "nosuid",
	    "noexec", "nodev", "mode=1777", "size=65536k", "destination", "/dev/mqueue", "type",
	    "mqueue", "source", "mqueue", "options", "nosuid", "noexec", "nodev", "destination",
	    "/sys", "type", "sysfs", "source", "sysfs", "options", "nosuid", "noexec", "nodev",
	    "ro");
	return json_pack(
	    "{s:s, s:{s:b, s:{s:i, s:i}, s:[s], s:[s,s], s:s, s:o, s:[{s:s, s:i, s:i}], s:b},"
	    " s:{s:s, s:b}, s:s, s:o, s:{s:o, s:o, s:o, s:o, s:o}}",
	    "ociVersion", "1.0.2", "process", "terminal", 0, "user", "uid", 0, "gid", 0, "args",
	    "sh", "env", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	    "TERM=xterm", "cwd", "/", "capabilities", caps, "rlimits", "type", "RLIMIT_NOFILE",
	    "hard", 1024, "soft", 1024, "noNewPrivileges", 1, "root", "path", "rootfs", "readonly",
	    1, "hostname", "ocirun", "mounts", mounts, "linux", "namespaces", namespaces,
	    "maskedPaths", strv(rt_default_masked_paths), "readonlyPaths",
	    strv(rt_default_readonly_paths), "seccomp", seccomp, "resources",
	    json_pack("{s:[{s:b, s:s}]}", "devices", "allow", 0, "access", "rwm"));
}

char *rt_spec_default(void)
{
	cleanup_json json_t *j = spec_json();
	char *s = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
	if (s == NULL) {
		fputs("libruntime: out of memory\n", stderr);
		abort();
	}
	return s;
}

/* Every capability name libcap knows (what process.capabilities accepts). */
static json_t *known_caps(void)
{
	json_t *a = json_array();
	for (int c = 0; c < 64; c++) {
		char *n = cap_to_name((cap_value_t)c);
		if (n == NULL)
			continue;
		if (n[0] < '0' || n[0] > '9') {
			for (char *p = n; *p; p++)
				*p = (char)toupper((unsigned char)*p);
			json_array_append_new(a, json_string(n));
		}
		cap_free(n);
	}
	return a;
}

/* What `ocirun features` prints (runtime-spec features.md and
 * features-linux.md): what this runtime implements, whatever the host has
 * (apparmor/selinux say the runtime can apply a profile or label; on a
 * host without the LSM such a config is refused by field). */
char *rt_features_default(void)
{

	static const char *const ns[] = {"cgroup", "ipc",  "mount", "network", "pid",
					 "time",   "user", "uts",   NULL};
	static const char *const hooks[] = {"prestart",
					    "createRuntime",
					    "createContainer",
					    "startContainer",
					    "poststart",
					    "poststop",
					    NULL};
	static const char *const mopts[] = {
	    "async",	  "atime",	   "bind",	  "defaults", "dev",
	    "diratime",	  "dirsync",	   "exec",	  "idmap",    "mand",
	    "noatime",	  "nodev",	   "nodiratime",  "noexec",   "nomand",
	    "norelatime", "nostrictatime", "nosuid",	  "private",  "rbind",
	    "relatime",	  "remount",	   "ridmap",	  "ro",	      "rprivate",
	    "rshared",	  "rslave",	   "runbindable", "rw",	      "shared",
	    "slave",	  "strictatime",   "suid",	  "sync",     "unbindable",
	    NULL};
	static const char *const acts[] = {"SCMP_ACT_ALLOW",	   "SCMP_ACT_ERRNO",
					   "SCMP_ACT_KILL",	   "SCMP_ACT_KILL_PROCESS",
					   "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG",
					   "SCMP_ACT_TRACE",	   "SCMP_ACT_TRAP",
					   "SCMP_ACT_NOTIFY",	   NULL};
	static const char *const sflags[] = {"SECCOMP_FILTER_FLAG_LOG",
					     "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
					     "SECCOMP_FILTER_FLAG_TSYNC", NULL};
	static const char *const ops[] = {"SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT",
					  "SCMP_CMP_LE", "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ",
					  "SCMP_CMP_NE", NULL};
	static const char *const archs[] = {"SCMP_ARCH_X86", "SCMP_ARCH_X86_64",
					    "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64",
					    "SCMP_ARCH_ARM", NULL};
	json_t *seccomp = json_pack("{s:b, s:o, s:o, s:o, s:o, s:o}", "enabled", 1, "actions",
				    strv(acts), "operators", strv(ops), "archs", strv(archs),
				    "knownFlags", strv(sflags), "supportedFlags", strv(sflags));
	/* Only what features-linux.md of ociVersionMax (1.2.1) defines: no
	 * memoryPolicy (runtime-spec 1.3), though linux.memoryPolicy is
	 * accepted in config.json. process.execCPUAffinity (1.2) has no
	 * features entry. */
	json_t *lx = json_pack("{s:o, s:o, s:{s:b, s:b, s:b, s:b}, s:o, s:{s:b}, s:{s:b}, s:{s:b},"
			       " s:{s:{s:b}}}",
			       "namespaces", strv(ns), "capabilities", known_caps(), "cgroup", "v1",
			       1, "v2", 1, "systemd", 0, "systemdUser", 0, "seccomp", seccomp,
			       "apparmor", "enabled", 1, "selinux", "enabled", 1, "intelRdt",
			       "enabled", 0, "mountExtensions", "idmap", "enabled", 1);
	json_t *j = json_pack("{s:s, s:s, s:o, s:o, s:o, s:{s:s}}", "ociVersionMin", "1.0.0",
			      "ociVersionMax", "1.2.1", "hooks", strv(hooks), "mountOptions",
			      strv(mopts), "linux", lx, "annotations", "org.nodelet.ocirun.note",
			      "apparmor/selinux: a profile or label is applied where the host "
			      "enables the LSM and refused where it does not; intelRdt is "
			      "refused");
	char *s = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
	json_decref(j);
	if (s == NULL) {
		fputs("libruntime: out of memory\n", stderr);
		abort();
	}
	return s;
}
