/* What libruntime's files share among themselves: allocation helpers, scope
 * cleanup attributes, small file I/O, and the parsed config (struct rt_config).
 * Not part of the public API; nothing outside runtime/ includes it (the unit
 * tests do, to reach internals). */
#ifndef NODELET_RUNTIME_RT_INTERNAL_H
#define NODELET_RUNTIME_RT_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "runtime/runtime.h"

/* ---- memory: allocation failure aborts, in one place ------------------- */

static inline void *rt__xmalloc(size_t n)
{
	void *p = calloc(1, n ? n : 1);
	if (p == NULL) {
		fputs("libruntime: out of memory\n", stderr);
		abort();
	}
	return p;
}

static inline void *rt__xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (q == NULL) {
		fputs("libruntime: out of memory\n", stderr);
		abort();
	}
	return q;
}

static inline char *rt__xstrdup(const char *s)
{
	if (s == NULL)
		return NULL;
	size_t n = strlen(s) + 1;
	char *d = rt__xmalloc(n);
	memcpy(d, s, n);
	return d;
}

/* Like rt_error_set, but the message gets no ": strerror" suffix; errnum is
 * still recorded for callers that test it (ENOENT for an unknown id). */
#include <stdarg.h>
static inline int rt__error_plain(rt_error_t *err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static inline int rt__error_plain(rt_error_t *err, int errnum, const char *fmt, ...)
{
	if (err == NULL)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	if (vsnprintf(err->msg, sizeof(err->msg), fmt, ap) < 0)
		err->msg[0] = '\0';
	va_end(ap);
	err->errnum = errnum;
	return -1;
}

/* ---- scope cleanup ------------------------------------------------------ */

static inline void rt__freep(void *p)
{
	free(*(void **)p);
}
static inline void rt__closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}
static inline void rt__json_decrefp(json_t **j)
{
	if (*j != NULL)
		json_decref(*j);
}
static inline void rt__fclosep(FILE **f)
{
	if (*f != NULL)
		fclose(*f);
}

/* Frees a NULL-terminated array of strings and the array. */
void rt__strv_free(char **v);
static inline void rt__strv_freep(char ***v)
{
	rt__strv_free(*v);
}

#define cleanup_free __attribute__((cleanup(rt__freep)))
#define cleanup_strv __attribute__((cleanup(rt__strv_freep)))
#define cleanup_close __attribute__((cleanup(rt__closep)))
#define cleanup_json __attribute__((cleanup(rt__json_decrefp)))
#define cleanup_file __attribute__((cleanup(rt__fclosep)))

size_t rt__strv_len(char *const *v);

/* ---- small file I/O (cgroup.c) ----------------------------------------- */

/* Writes data to an existing file (O_WRONLY|O_TRUNC), in one write(2) as
 * cgroupfs wants. Errors name the file. */
int rt__write_file(const char *path, const char *data, rt_error_t *err);
int rt__write_filef(const char *path, rt_error_t *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Reads a whole (small) file into a new NUL-terminated string; caller frees.
 * NULL with err set on failure (errnum ENOENT when missing). */
char *rt__read_file(const char *path, size_t *len, rt_error_t *err);
/* mkdir -p with mode 0755; existing is fine. */
int rt__mkdir_p(const char *path, mode_t mode, rt_error_t *err);

/* ---- the parsed config.json (config.c) --------------------------------- */

typedef struct rt_mount {
	char *destination;	   /* absolute, inside the container */
	char *type;		   /* may be NULL (bind) */
	char *source;		   /* may be NULL */
	unsigned long flags;	   /* MS_* set by options */
	unsigned long clear_flags; /* MS_* cleared by options (rw, suid...) */
	unsigned long propagation; /* MS_PRIVATE|MS_REC etc.; 0 = none */
	bool bind;		   /* bind or rbind */
	char *data;		   /* the options the kernel takes as data ("mode=755,size=64k") */
	/* mounts[].uidMappings / gidMappings: an idmapped bind mount */
	struct rt__idmap *uid_maps, *gid_maps;
	size_t nuid_maps, ngid_maps;
	/* `idmap`/`ridmap` without mappings: idmapped with the container's
	 * own user namespace (only with one) */
	bool idmap_userns;
} rt_mount_t;

typedef struct rt_rlimit {
	int resource;
	uint64_t soft, hard;
} rt_rlimit_t;

typedef struct rt_namespace {
	int type;   /* CLONE_NEW* */
	char *path; /* NULL: a new one */
} rt_namespace_t;

typedef struct rt_seccomp_arg {
	unsigned index;
	uint64_t value, value_two;
	int op; /* enum scmp_compare */
} rt_seccomp_arg_t;

typedef struct rt_seccomp_rule {
	char **names; /* NULL-terminated */
	uint32_t action;
	rt_seccomp_arg_t *args;
	size_t nargs;
} rt_seccomp_rule_t;

typedef struct rt_seccomp {
	uint32_t default_action;
	uint32_t *arches; /* SCMP_ARCH_* */
	size_t narches;
	rt_seccomp_rule_t *rules;
	size_t nrules;
	/* linux.seccomp.flags: SECCOMP_FILTER_FLAG_LOG, _SPEC_ALLOW, _TSYNC */
	bool flag_log, flag_spec_allow, flag_tsync;
	bool has_notify;	 /* a rule's action is SCMP_ACT_NOTIFY */
	char *listener_path;	 /* linux.seccomp.listenerPath, or NULL */
	char *listener_metadata; /* linux.seccomp.listenerMetadata, or NULL */
} rt_seccomp_t;

enum {
	RT_CAP_BOUNDING,
	RT_CAP_EFFECTIVE,
	RT_CAP_INHERITABLE,
	RT_CAP_PERMITTED,
	RT_CAP_AMBIENT,
	RT_CAP_NSETS
};

/* linux.resources beyond rt_cgroup_limits_t (whose public layout stays). */
typedef struct rt__dev_rule {
	bool allow;
	char type;	/* 'a', 'c', 'b' */
	int64_t major;	/* -1: any */
	int64_t minor;	/* -1: any */
	char access[4]; /* some of "rwm" */
} rt__dev_rule_t;

/* linux.resources.blockIO.weightDevice[] and throttle*Device[] entries. */
typedef struct rt__blkio_dev {
	int64_t major, minor;
	int64_t weight;	     /* weightDevice: 10..1000, 0: not set; throttle: the rate */
	int64_t leaf_weight; /* weightDevice: 10..1000, 0: not set */
} rt__blkio_dev_t;

enum {
	RT_THROTTLE_READ_BPS,
	RT_THROTTLE_WRITE_BPS,
	RT_THROTTLE_READ_IOPS,
	RT_THROTTLE_WRITE_IOPS,
	RT_THROTTLE_NKINDS
};

/* linux.resources.hugepageLimits[] */
typedef struct rt__hugepage_limit {
	char *page_size; /* "2MB", "1GB" as the spec writes it */
	uint64_t limit;	 /* bytes */
} rt__hugepage_limit_t;

/* linux.resources.network.priorities[] */
typedef struct rt__net_prio {
	char *name;
	uint32_t priority;
} rt__net_prio_t;

typedef struct rt__cgroup_extra {
	int64_t memory_reservation; /* bytes; 0: not set */
	int64_t blkio_weight;	    /* 10..1000; 0: not set */
	char *cpus, *mems;	    /* cpuset lists; NULL: not set */
	rt__dev_rule_t *devices;
	size_t ndevices;
	/* memory */
	int64_t memory_swappiness; /* 0..100; -1: not set */
	bool disable_oom_killer;
	bool has_kernel;	   /* memory.kernel or kernelTCP given (deprecated) */
	bool memory_use_hierarchy; /* memory.useHierarchy true */
	bool check_before_update;  /* memory.checkBeforeUpdate true */
	/* cpu */
	int64_t cpu_realtime_runtime; /* us; 0: not set */
	int64_t cpu_realtime_period;  /* us; 0: not set */
	bool has_cpu_idle;
	int64_t cpu_idle; /* 0 or 1 */
	bool has_cpu_burst;
	int64_t cpu_burst; /* us */
	/* blockIO */
	int64_t blkio_leaf_weight; /* 10..1000; 0: not set */
	rt__blkio_dev_t *weight_devices;
	size_t nweight_devices;
	rt__blkio_dev_t *throttle[RT_THROTTLE_NKINDS];
	size_t nthrottle[RT_THROTTLE_NKINDS];
	/* hugetlb */
	rt__hugepage_limit_t *hugepages;
	size_t nhugepages;
	/* network (v1 net_cls, net_prio) */
	bool has_class_id;
	uint32_t class_id;
	rt__net_prio_t *net_prios;
	size_t nnet_prios;
	/* rdma: the linux.resources.rdma object as given (device -> {hcaHandles,
	 * hcaObjects}), validated; NULL: not set */
	json_t *rdma;
	/* unified: the linux.resources.unified object (file -> string value),
	 * validated (no "/" or ".." in a key); NULL: not set */
	json_t *unified;
} rt__cgroup_extra_t;

/* Whether x asks for anything. */
static inline bool rt__cgroup_extra_any(const rt__cgroup_extra_t *x)
{
	size_t nthr = 0;
	for (int k = 0; k < RT_THROTTLE_NKINDS; k++)
		nthr += x->nthrottle[k];
	return x->memory_reservation > 0 || x->blkio_weight > 0 || x->cpus || x->mems ||
	       x->ndevices > 0 || x->memory_swappiness >= 0 || x->disable_oom_killer ||
	       x->cpu_realtime_runtime > 0 || x->cpu_realtime_period > 0 || x->has_cpu_idle ||
	       x->has_cpu_burst || x->blkio_leaf_weight > 0 || x->nweight_devices > 0 || nthr > 0 ||
	       x->nhugepages > 0 || x->has_class_id || x->nnet_prios > 0 || x->rdma != NULL ||
	       x->unified != NULL;
}

/* Applies x to the cgroup at path (created already); the hierarchies it
 * needs beyond the usual ones (cpuset, devices, blkio on v1) are created for
 * path too, and entered and removed with it from then on (cgroup.c). */
int rt__cgroup_set_extra(const char *path, const rt__cgroup_extra_t *x, rt_error_t *err);

/* ---- cgroup v2 device programs (ebpf.c) ---- */
struct bpf_insn;
/* The default device rules every container gets after its own (the default
 * nodes, ptys, mknod of anything). */
extern const rt__dev_rule_t rt__dev_defaults[];
extern const size_t rt__ndev_defaults;
/* Compiles rules (in order, the last match wins, no match denies) into a
 * BPF_PROG_TYPE_CGROUP_DEVICE program; *out (caller frees) gets the
 * instructions, the count is returned. */
size_t rt__ebpf_dev_program(const rt__dev_rule_t *rules, size_t nrules, struct bpf_insn **out);
/* Loads the program for rules and attaches it (BPF_F_ALLOW_MULTI) to the
 * cgroup2 directory cgroup_dir, then detaches the programs attached there
 * before, so a second call replaces the rules (while both are attached an
 * access must pass both: an update never widens access). The attachment
 * lives as long as the cgroup. Errors carry the verifier's log. */
int rt__ebpf_dev_attach(const char *cgroup_dir, const rt__dev_rule_t *rules, size_t nrules,
			rt_error_t *err);

/* A device node of linux.devices. */
typedef struct rt__device {
	char *path;
	char type; /* 'c', 'b', 'u' (= c), 'p' */
	int64_t major, minor;
	bool has_mode;
	mode_t mode;
	uid_t uid;
	gid_t gid;
} rt__device_t;

/* linux.netDevices: a host network device moved into the container's network
 * namespace, renamed to new_name there (NULL: keeps its name). */
typedef struct rt__netdev {
	char *name;
	char *new_name;
} rt__netdev_t;

typedef struct rt__idmap {
	uint32_t container, host, size;
} rt__idmap_t;

typedef struct rt_hook {
	char *path;  /* absolute */
	char **args; /* NULL-terminated, or NULL: { path } */
	char **env;  /* NULL-terminated, or NULL: empty */
	int timeout; /* seconds; 0: none */
} rt_hook_t;

enum {
	RT_HOOK_PRESTART,
	RT_HOOK_CREATE_RUNTIME,
	RT_HOOK_CREATE_CONTAINER,
	RT_HOOK_START_CONTAINER,
	RT_HOOK_POSTSTART,
	RT_HOOK_POSTSTOP,
	RT_HOOK_NKINDS
};

struct rt_config {
	char *oci_version;
	/* process */
	bool terminal;
	char **args; /* NULL-terminated */
	char **env;  /* NULL-terminated */
	char *cwd;
	uid_t uid;
	gid_t gid;
	gid_t *additional_gids;
	size_t ngids;
	bool has_umask;
	mode_t umask;
	bool has_caps;		     /* process.capabilities present */
	uint64_t caps[RT_CAP_NSETS]; /* bit n = capability n */
	rt_rlimit_t *rlimits;
	size_t nrlimits;
	bool no_new_privs;
	bool has_oom_score_adj;
	int oom_score_adj;
	/* process.execCPUAffinity (runtime-spec 1.2; exec'd processes only):
	 * [0] initial (before the process joins the container's cgroup), [1]
	 * final (after); bit n%64 of word n/64 = CPU n. Unset or "": false. */
	bool has_exec_cpus[2];
	uint64_t exec_cpus[2][16];
	char *apparmor_profile; /* process.apparmorProfile, or NULL */
	char *selinux_label;	/* process.selinuxLabel, or NULL */
	char *mount_label;	/* linux.mountLabel, or NULL */
	bool has_console_size;	/* process.consoleSize */
	unsigned short console_rows, console_cols;
	bool has_ioprio;  /* process.ioPriority */
	int ioprio_class; /* IOPRIO_CLASS_RT (1), _BE (2), _IDLE (3) */
	int ioprio_level; /* 0..7 */
	bool has_sched;	  /* process.scheduler */
	struct {
		int policy; /* SCHED_OTHER... SCHED_DEADLINE */
		int nice;
		int priority;
		uint64_t flags;			    /* SCHED_FLAG_* */
		uint64_t runtime, deadline, period; /* ns, for SCHED_DEADLINE */
	} sched;
	bool has_personality;	   /* linux.personality */
	unsigned long personality; /* PER_LINUX / PER_LINUX32 | flags */
	bool has_mempolicy;	   /* linux.memoryPolicy */
	struct {
		int mode;	/* MPOL_* */
		unsigned flags; /* MPOL_F_* */
		char *nodes;	/* "0-3,7", or NULL */
	} mempolicy;
	/* root */
	char *root_path; /* as written; rt_config_load makes it absolute */
	bool root_readonly;
	char *hostname;
	char *domainname;
	rt_mount_t *mounts;
	size_t nmounts;
	/* linux */
	rt_namespace_t *namespaces;
	size_t nnamespaces;
	bool has_resources;
	rt_cgroup_limits_t limits;
	rt__cgroup_extra_t extra;
	rt__device_t *devices; /* linux.devices */
	size_t ndevices;
	/* linux.timeOffsets: monotonic, boottime (seconds, nanoseconds) */
	bool has_time_offsets;
	int64_t time_offsets[2][2];
	rt__netdev_t *netdevs; /* linux.netDevices */
	size_t nnetdevs;
	rt__idmap_t *uid_maps, *gid_maps; /* linux.uidMappings, gidMappings */
	size_t nuid_maps, ngid_maps;
	char *cgroups_path;		  /* NULL when not given */
	unsigned long rootfs_propagation; /* MS_SHARED etc. (| MS_REC); 0: not given */
	char **masked_paths;
	char **readonly_paths;
	char **sysctl_keys;
	char **sysctl_values;
	rt_seccomp_t *seccomp; /* NULL: none */
	json_t *annotations;   /* object or NULL */
	/* What the spec says to log as a warning rather than refuse (an unknown
	 * capability name...), one message each, NULL-terminated or NULL. The
	 * parser only records them: create and exec print them (rt__config_warn),
	 * so a reload of the saved config at start, delete or exec is silent. */
	char **warnings;
	rt_hook_t *hooks[RT_HOOK_NKINDS];
	size_t nhooks[RT_HOOK_NKINDS];
};

/* Prints the config's warnings ("ocirun: warning: ...") to stderr and
 * forgets them. */
void rt__config_warn(rt_config_t *cfg);

/* CLONE_NEWTIME (Linux 5.6), which older headers lack. */
#define RT_CLONE_NEWTIME 0x00000080

/* The rt_namespace_t of type CLONE_NEW*, or NULL when the config has none. */
const rt_namespace_t *rt__config_ns(const rt_config_t *cfg, int type);

/* ---- capabilities, seccomp (caps.c, seccomp.c) ------------------------- */

/* Capability number for "CAP_SYS_ADMIN"; -1 when unknown. */
int rt__cap_from_name(const char *name);
/* Applies the config's capability sets to the calling process after the user
 * switch: bounding drop must happen first (rt__caps_drop_bounding, while
 * CAP_SETPCAP is held), then rt__caps_apply. */
int rt__caps_drop_bounding(const rt_config_t *cfg, rt_error_t *err);
int rt__caps_apply(const rt_config_t *cfg, rt_error_t *err);

/* Builds and loads the config's seccomp filter into the calling process.
 * prepare builds it (a NULL *ctx when sc is NULL); apply loads and frees it. */
int rt__seccomp_load(const rt_seccomp_t *sc, rt_error_t *err);
int rt__seccomp_prepare(const rt_seccomp_t *sc, void **ctx, rt_error_t *err);
int rt__seccomp_apply(void *ctx, rt_error_t *err);
/* SCMP_ACT_NOTIFY: sets, for this process, the socket connected to
 * linux.seccomp.listenerPath (rt__seccomp_connect) and the message to send
 * with the notify fd; rt__seccomp_apply then sends both (SCM_RIGHTS) after
 * loading, and closes the socket. Without it, rt__seccomp_prepare refuses a
 * profile that notifies. Takes msg (freed by apply). */
void rt__seccomp_set_listener(int sock, char *msg);
/* Connects to sc->listener_path; a close-on-exec socket or -1 with err. */
int rt__seccomp_connect(const rt_seccomp_t *sc, rt_error_t *err);
/* The message the listener gets (runc's ContainerProcessState): ociVersion,
 * fds ["seccompFd"], pid, metadata, state (the state JSON text given).
 * NULL on a state that does not parse. Caller frees. */
char *rt__seccomp_listener_message(const rt_seccomp_t *sc, const char *state, pid_t pid);
/* Action/arch/operator names to libseccomp values; -1 when unknown. */
int rt__seccomp_action(const char *name, int errno_ret, uint32_t *out);
int rt__seccomp_arch(const char *name, uint32_t *out);
int rt__seccomp_op(const char *name, int *out);

/* The default profile (seccomp-default.c) as a new json_t reference. */
json_t *rt__seccomp_default_json(void);

/* ---- hooks (hooks.c) ---------------------------------------------------- */

/* "prestart", "createRuntime"... by RT_HOOK_* */
extern const char *const rt__hook_names[RT_HOOK_NKINDS];
/* Runs the config's hooks of one kind in order, state (JSON text) on each
 * one's stdin; the first failure (exit status, signal, timeout) stops and is
 * returned, naming the hook ("hooks.prestart[0] `/bin/x`: exited with..."). */
int rt__hooks_run(const rt_config_t *cfg, int kind, const char *state, rt_error_t *err);
/* Bit k set when the config has hooks of kind k. */
unsigned rt__hooks_mask(const rt_config_t *cfg);
/* The OCI state JSON (ociVersion, id, status, pid, bundle, annotations) as
 * new malloc'd text; NULL on allocation failure. */
char *rt__state_json_text(const char *id, rt_status_t status, pid_t pid, const char *bundle,
			  json_t *annotations);

/* ---- state (state.c) ---------------------------------------------------- */

typedef struct rt__state_rec {
	char id[256];
	pid_t pid;
	unsigned long long pid_start; /* start time of pid, /proc/PID/stat field 22 */
	char bundle[4096];
	char rootfs[4096];
	char cgroup[1024];
	int64_t created_ms;
	json_t *annotations; /* owned; may be NULL */
	unsigned hooks;	     /* rt__hooks_mask of the config it was created from */
} rt__state_rec_t;

int rt__state_dir(const char *state_root, const char *id, char *out, size_t n, rt_error_t *err);
/* Takes an exclusive flock on the container's state directory, so that two
 * calls on one id (start and delete, two starts...) run one after the
 * other. Returns the fd to close (which unlocks), or -1 when there is no such
 * directory (the caller's own lookup then reports it). */
int rt__state_lock(const char *state_root, const char *id);
int rt__state_write(const char *dir, const rt__state_rec_t *rec, rt_error_t *err);
/* Reads dir/state.json; -1/ENOENT when absent. rec->annotations is a new reference. */
int rt__state_read(const char *dir, rt__state_rec_t *rec, rt_error_t *err);
/* Start time of a live process (0 when gone or a zombie). */
unsigned long long rt__pid_start_time(pid_t pid);
/* The config the container was created from, from its state directory dir
 * (create saves a copy there; the bundle's own when an older create saved
 * none). root.path and bind sources stay as written (relative ones are not
 * made absolute): only the process, hooks and linux sections are for use.
 * Caller frees with rt_config_free. */
int rt__container_config(const char *dir, const char *bundle, rt_config_t **out, rt_error_t *err);
/* Reads up to n bytes, retrying short reads and EINTR; the count read (less
 * than n at end of file or on an error). */
size_t rt__read_full(int fd, void *buf, size_t n);
/* Sends all n bytes on a socket (no SIGPIPE); -1 when the peer is gone. */
int rt__send_all(int fd, const void *buf, size_t n);
/* Removes a state directory and what it holds (files only). */
int rt__state_remove(const char *dir, rt_error_t *err);
/* Validates a container id: [A-Za-z0-9_.+-], not "." or "..", < 256 bytes. */
int rt__check_id(const char *id, rt_error_t *err);

/* ---- the container's init (container-init.c, linux-*.c) ---------------- */

typedef struct rt__init_args {
	const rt_config_t *cfg;
	const char *rootfs; /* absolute */
	const char *cgroup; /* cgroup path; the init moves itself when enter_self */
	bool enter_self;
	bool userns; /* in a new user namespace: waits for 'C' first (id maps) */
	int stdio[3];
	/* A socket to the parent. Child -> parent: 'R' ready, 'E' + rt_error_t,
	 * 'H' (run the hooks). Parent -> child: 'C' once the cgroup exists (and
	 * the id maps, and the init has been moved when !enter_self); 'G' +
	 * length + state after the hooks. */
	int sync_fd;
	int state_dirfd; /* O_PATH of the state dir: exec.fifo lives there */
	int console_fd;	 /* connected --console-socket, or -1 */
	int ns_fds[8];	 /* fds of namespaces to join, -1 terminated */
	int ns_types[8];
	/* In a user namespace with idmapped mounts: 'C' comes with one
	 * detached mount fd per idmapped mount (SCM_RIGHTS, config order),
	 * made by the runtime (rt__idmap_tree), attached by the init. */
	bool idmap_fds;
} rt__init_args_t;

/* The most idmapped mounts one container may have with a user namespace:
 * the fds go in one SCM_RIGHTS message (the kernel's SCM_MAX_FD). */
#define RT_MAX_IDMAP_FDS 253

/* Runs in the cloned child: never returns. */
__attribute__((noreturn)) void rt__container_init(const rt__init_args_t *a);

/* The last steps before exec, shared by the init and `exec`: rlimits, cwd,
 * the executable found in PATH (into exe), seccomp built, bounding set,
 * user, capabilities, no_new_privs, umask. *filter (may be NULL) is loaded
 * with rt__seccomp_apply right before execve. */
int rt__process_prepare(const rt_config_t *cfg, char *exe, size_t n, void **filter,
			rt_error_t *err);
/* linux-process.c. check: the host can apply the config's LSM fields (an
 * error naming the field when the LSM is not enabled); apply, in the process
 * about to exec: ioPriority, scheduler, personality, memoryPolicy, LSM exec
 * attributes. */
int rt__process_linux_check(const rt_config_t *cfg, rt_error_t *err);
int rt__process_linux_apply(const rt_config_t *cfg, rt_error_t *err);
/* Parses a NUMA node list ("0-3,7") into mask (nbits bits); *highest gets the
 * highest node set (-1 for an empty list). -1 on bad syntax or a node >= nbits. */
int rt__nodelist_parse(const char *s, unsigned long *mask, size_t nbits, int *highest);
/* Makes fds 0-2 copies of stdio[] (-1: /dev/null). */
int rt__setup_stdio(const int stdio[3], rt_error_t *err);
/* Default dispositions and an empty mask for the signals callers change. */
void rt__reset_signals(void);

/* Loads a container's state record and derives its status (container.c).
 * dir receives its state directory; rec->annotations must be released. */
int rt__container_load(const char *state_root, const char *id, char *dir, size_t n,
		       rt__state_rec_t *rec, rt_status_t *status, rt_error_t *err);

/* Replaces the process fields of c (args, env, cwd, user, capabilities,
 * rlimits, noNewPrivileges...) by a runtime-spec `process` object given as
 * JSON text (`exec -p process.json`). Errors name the field ("process.args"). */
int rt__config_set_process(rt_config_t *c, const char *json, size_t len, rt_error_t *err);

/* process.terminal (console.c): connecting to --console-socket (an fd, or
 * -1 with err), and, in the init after pivot_root, a pty from the
 * container's devpts whose master goes to sock and whose slave becomes the
 * controlling terminal and fds 0-2. */
int rt__console_connect(const char *path, rt_error_t *err);
int rt__console_setup(int sock, rt_error_t *err);

/* linux.netDevices (linux-netdev.c): moves each device into the network
 * namespace of pid (the container's init, from the runtime's namespaces),
 * renaming it there; on failure the devices moved so far go back. */
int rt__netdev_move_in(const rt_config_t *cfg, pid_t pid, rt_error_t *err);
/* The container's network namespace as an fd (linux.namespaces' network path,
 * else /proc/<pid>/ns/net); -1 with err. Holding it keeps the namespace alive. */
int rt__netdev_open_ns(const rt_config_t *cfg, pid_t pid, rt_error_t *err);
/* For a create that fails after rt__netdev_move_in succeeded: moves the
 * devices back (host names, addresses, up). Never at delete (the spec forbids
 * it; the kernel returns physical devices when the namespace dies). */
int rt__netdev_move_out(const rt_config_t *cfg, int netns_fd, rt_error_t *err);
/* rt__netdev_move_out for a failed create of container id: a failure is only
 * a warning on stderr (the create's own error is the one reported). */
void rt__netdev_give_back(const rt_config_t *cfg, int netns_fd, const char *id);

/* Mount set-up in the child before and after pivot_root (linux-mount.c). */
/* cgroup: the container's cgroup path (what a v1 cgroup mount shows);
 * cgroup_ready(ctx) is called before a cgroup mount (the cgroup must exist). */
/* mount_fds: NULL, or one fd per mount (-1 where none): a detached
 * idmapped tree (rt__idmap_tree) attached at the mount's destination. */
int rt__mount_rootfs(const rt_config_t *cfg, const char *rootfs, const char *cgroup,
		     int (*cgroup_ready)(void *ctx, rt_error_t *err), void *ctx,
		     const int *mount_fds, rt_error_t *err);
/* Whether mounts[i] is idmapped (mappings of its own, or `idmap`/`ridmap`
 * taking the container's user namespace's). */
bool rt__mount_is_idmapped(const rt_mount_t *m);
/* Runtime side, in the initial user namespace: mounts[i]'s source cloned
 * (recursively for rbind/ridmap) as a detached tree idmapped with its own
 * mappings, or with the user namespace of userns_pid (the container's init)
 * when it has none. Returns the tree's fd (close-on-exec; the caller closes
 * it) or -1 with err naming mounts[i]. */
int rt__idmap_tree(const rt_mount_t *m, size_t i, pid_t userns_pid, rt_error_t *err);
int rt__pivot_root(const char *rootfs, rt_error_t *err);
int rt__mount_finish(const rt_config_t *cfg, rt_error_t *err);

#endif
