/* libruntime — an OCI runtime library: containers from an OCI bundle
 * (config.json), cgroup v1/v2 drivers, pod networking (bridge, veth, IPAM),
 * and images (OCI image layouts, layer unpacking, overlayfs root filesystems).
 *
 * libruntime knows nothing of pods, nodes or the wire. Every fallible call
 * returns < 0 and fills an rt_error_t (errno + a message that says what failed,
 * on what, and why); callers add context with rt_error_wrap. Calls block (they
 * are syscalls and small file I/O): event-loop callers run them on the thread
 * pool or in a child process.
 */
#ifndef NODELET_RUNTIME_H
#define NODELET_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- errors ------------------------------------------------------------ */

typedef struct rt_error {
	int errnum;	/* errno value, 0 when not an OS error */
	char msg[1024]; /* "creating cgroup `/sys/fs/cgroup/memory/x`: Permission denied" */
} rt_error_t;

/* Sets err (message from fmt, then ": strerror(errnum)" when errnum != 0).
 * Always returns -1 so callers can `return rt_error_set(...)`. err may be NULL. */
int rt_error_set(rt_error_t *err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prefixes context: "starting container `web`: <old message>". Returns -1. */
int rt_error_wrap(rt_error_t *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- cgroups ----------------------------------------------------------- */

typedef enum rt_cgroup_mode {
	RT_CGROUP_LEGACY,  /* v1 controllers only */
	RT_CGROUP_HYBRID,  /* v1 controllers, plus a cgroup2 tree at /sys/fs/cgroup/unified */
	RT_CGROUP_UNIFIED, /* cgroup v2 only */
} rt_cgroup_mode_t;

/* Detects the host's mode once (statfs magic of /sys/fs/cgroup and
 * /sys/fs/cgroup/unified) and picks the driver; later calls reuse it. */
int rt_cgroup_mode(rt_cgroup_mode_t *mode, rt_error_t *err);
const char *rt_cgroup_mode_name(rt_cgroup_mode_t mode);

/* Limits; a value of 0 (or -1) means "no limit / leave the default". */
typedef struct rt_cgroup_limits {
	int64_t memory_bytes;  /* memory.limit_in_bytes / memory.max */
	int64_t memory_swap;   /* v1 memsw / v2 swap.max (total minus memory); 0 = same as memory */
	int64_t cpu_quota_us;  /* cfs quota / cpu.max */
	int64_t cpu_period_us; /* default 100000 */
	int64_t cpu_shares;    /* v1 shares; v2 weight converted from shares */
	int64_t pids_max;
} rt_cgroup_limits_t;

typedef struct rt_cgroup_stats {
	uint64_t cpu_usage_ns; /* cumulative */
	uint64_t memory_bytes; /* current usage */
	uint64_t memory_peak;  /* max usage */
	uint64_t oom_kills;    /* OOM kills seen in this cgroup */
	uint64_t pids;	       /* current number of tasks */
} rt_cgroup_stats_t;

/* Cgroup paths are relative to the root of each hierarchy ("nodelet/pod-1/web"
 * -> /sys/fs/cgroup/<controller>/nodelet/pod-1/web on v1, /sys/fs/cgroup/nodelet/
 * pod-1/web on v2). Creating makes the parents too; limits may be NULL. */
int rt_cgroup_create(const char *path, const rt_cgroup_limits_t *limits, rt_error_t *err);
int rt_cgroup_set_limits(const char *path, const rt_cgroup_limits_t *limits, rt_error_t *err);
int rt_cgroup_enter(const char *path, pid_t pid, rt_error_t *err);
int rt_cgroup_stats(const char *path, rt_cgroup_stats_t *stats, rt_error_t *err);
/* Sends sig to every process in the cgroup and its descendants. */
int rt_cgroup_kill(const char *path, int sig, rt_error_t *err);
/* Kills what is left (SIGKILL), waits up to timeout_ms for it to go, and removes
 * the cgroup and its descendants in every hierarchy. Missing is not an error. */
int rt_cgroup_destroy(const char *path, int timeout_ms, rt_error_t *err);
/* Number of pids in the cgroup (0 when it does not exist). */
int rt_cgroup_pids(const char *path, pid_t **pids, size_t *n, rt_error_t *err);

/* ---- containers (OCI runtime) ------------------------------------------ */

/* Parsed config.json. Opaque. */
typedef struct rt_config rt_config_t;

/* Parses an OCI runtime-spec config. A bad document names the field:
 * "linux.resources.memory.limit: expected integer". */
int rt_config_parse(const char *json, size_t len, rt_config_t **out, rt_error_t *err);
int rt_config_load(const char *bundle, rt_config_t **out, rt_error_t *err);
void rt_config_free(rt_config_t *cfg);

typedef enum rt_status {
	RT_STATUS_CREATING,
	RT_STATUS_CREATED,
	RT_STATUS_RUNNING,
	RT_STATUS_STOPPED,
	RT_STATUS_PAUSED, /* running, its cgroup frozen (rt_container_pause) */
} rt_status_t;
const char *rt_status_name(rt_status_t s);

typedef struct rt_create_opts {
	/* File descriptors to become the container process's 0, 1, 2; -1 means
	 * /dev/null. They are not closed by libruntime. */
	int stdio[3];
	const char *pid_file; /* written with the container pid; may be NULL */
	const char
	    *console_socket; /* with process.terminal: a unix socket the pty master is sent to */
} rt_create_opts_t;

/* Creates container id from the bundle under state_root (default
 * /run/ocirun): namespaces, cgroup with limits, rootfs (root.path is mounted
 * or bind-mounted by the caller before; libruntime pivots into it), mounts,
 * hostname, capabilities, rlimits, no_new_privs and seccomp. The process is a
 * child of the caller, stopped just before exec until rt_container_start.
 * On failure nothing is left behind (no cgroup, state directory, process). */
int rt_container_create(const char *state_root, const char *id, const char *bundle,
			const rt_create_opts_t *opts, pid_t *pid, rt_error_t *err);
/* Lets a created container exec its process. */
int rt_container_start(const char *state_root, const char *id, rt_error_t *err);

typedef struct rt_state {
	char id[256];
	rt_status_t status;
	pid_t pid;
	char bundle[4096];
	char cgroup[1024]; /* cgroup path, as rt_cgroup_* take it */
	int64_t created_ms;
} rt_state_t;

/* Reads state; -1 with errnum ENOENT for an unknown id. */
int rt_container_state(const char *state_root, const char *id, rt_state_t *st, rt_error_t *err);
/* Prints the OCI state JSON (ociVersion, id, status, pid, bundle, annotations)
 * as a new malloc'd string. */
char *rt_container_state_json(const char *state_root, const char *id, rt_error_t *err);
/* Sends sig to a created, running or paused container's init (or, with
 * all, to every process of its cgroup). SIGKILL to a paused container also
 * thaws it, so that the processes die (a frozen v1 task would not). */
int rt_container_kill(const char *state_root, const char *id, int sig, bool all, rt_error_t *err);
/* Removes a stopped container (or any, with force: SIGKILL first, and a
 * paused one thawed): its cgroup, its state directory. */
int rt_container_delete(const char *state_root, const char *id, bool force, rt_error_t *err);

/* Applies resources_json, the JSON text of a runtime-spec `linux.resources`
 * object, to created, running or paused container id's cgroup (what
 * `runc update` does): only what the object gives changes. It is checked
 * whole before anything is written (errors name the field:
 * "linux.resources.pids.limit: expected integer"); with
 * memory.checkBeforeUpdate true, a memory limit below the current usage is
 * refused. On success the config copy kept since create has these
 * resources merged into its linux.resources. A failure part-way says what
 * was applied before it. Stopped or unknown (ENOENT) containers are errors. */
int rt_container_update(const char *state_root, const char *id, const char *resources_json,
			rt_error_t *err);
/* Freezes running container id's cgroup (all its processes) and waits
 * until it is frozen; its status is then RT_STATUS_PAUSED. Anything but a
 * running container is an error (EINVAL; ENOENT when unknown). */
int rt_container_pause(const char *state_root, const char *id, rt_error_t *err);
/* Thaws paused container id; it is running again. Not paused: EINVAL. */
int rt_container_resume(const char *state_root, const char *id, rt_error_t *err);

typedef struct rt_exec_opts {
	/* The process to run. With process_json (a runtime-spec `process`
	 * object as JSON text, what `runc exec -p` reads) it is that process;
	 * otherwise the container's own process with args replaced (args must
	 * then be given). env entries ("K=V") are added on top, replacing a
	 * variable of the same name; cwd and user replace theirs. */
	const char *process_json;
	char *const *args; /* NULL-terminated, or NULL */
	char *const *env;  /* NULL-terminated, or NULL */
	const char *cwd;   /* absolute, or NULL */
	bool has_user;
	uid_t uid;
	gid_t gid;
	int stdio[3];	      /* as in rt_create_opts_t: -1 means /dev/null */
	const char *pid_file; /* may be NULL */
	/* A terminal: a pty from the container's devpts, its master sent to
	 * this unix socket (as rt_create_opts_t.console_socket); NULL: none. */
	const char *console_socket;
} rt_exec_opts_t;

/* Runs a new process in created or running container id: in its cgroup and
 * its namespaces (the pid namespace through a fork after joining), with the
 * capabilities, no_new_privs and seccomp filter of its config (or of
 * process_json). The process is a child of the caller, whose pid (as the
 * caller sees it) goes to *pid; the caller waits for it. Returns once the
 * process has exec'd; a failure before that (no such executable, bad cwd)
 * is returned here, with nothing left running. */
int rt_container_exec(const char *state_root, const char *id, const rt_exec_opts_t *opts,
		      pid_t *pid, rt_error_t *err);

/* The default config.json of `ocirun spec` as JSON text: Docker's default
 * capabilities, no_new_privs, masked and read-only paths, the default seccomp
 * profile, a deny-all device rule, pid/net/ipc/uts/mount namespaces, a
 * read-only root "rootfs", args ["sh"]. New malloc'd string; caller frees. */
char *rt_spec_default(void);
/* The features document of `ocirun features` (runtime-spec features.md), as
 * a new malloc'd string. */
char *rt_features_default(void);

/* The secure defaults shared by `ocirun spec` and the nodelet's container
 * configs, NULL-terminated: Docker's default capability set, and the /proc and
 * /sys paths masked or made read-only. */
extern const char *const rt_default_capabilities[];
extern const char *const rt_default_masked_paths[];
extern const char *const rt_default_readonly_paths[];

/* The default seccomp profile, as the JSON text of a config.json
 * `linux.seccomp` object: an allowlist like Docker's RuntimeDefault whose
 * default action is SCMP_ACT_ERRNO (EPERM); mount, unshare/setns, clone with
 * namespace flags, module loading, kexec, bpf, ptrace, the keyring calls,
 * reboot, swapon/off, perf_event_open, open_by_handle_at... are refused.
 * A new malloc'd string; the caller frees it. Never NULL (aborts on OOM). */
char *rt_seccomp_default_profile(void);

/* ---- networking -------------------------------------------------------- */

/* Makes sure a Linux bridge `name` exists, is up and holds gateway_cidr
 * ("10.244.1.1/24"). Idempotent. */
int rt_net_bridge_ensure(const char *name, const char *gateway_cidr, rt_error_t *err);
/* Deletes the bridge (missing is fine). */
int rt_net_bridge_delete(const char *name, rt_error_t *err);

/* Creates a veth pair: host_ifname on the host, attached to bridge and up; its
 * peer moved into the network namespace at netns_path (a file such as
 * /proc/PID/ns/net or a bind mount of one), renamed eth0, given addr_cidr
 * ("10.244.1.5/24"), up, with a default route via gateway; lo brought up. */
int rt_net_attach(const char *netns_path, const char *bridge, const char *host_ifname,
		  const char *addr_cidr, const char *gateway, rt_error_t *err);
/* Deletes host_ifname (and with it its peer). Missing is fine. */
int rt_net_detach(const char *host_ifname, rt_error_t *err);
/* Whether a link exists on the host. */
bool rt_net_link_exists(const char *ifname);

/* IP address management for one pod CIDR: leases are files under dir
 * (dir/<ip> holding the owner id), so they survive restarts. The network and
 * first host address (the gateway) and the broadcast are never handed out. */
typedef struct rt_ipam rt_ipam_t;
int rt_ipam_open(const char *dir, const char *cidr, rt_ipam_t **out, rt_error_t *err);
void rt_ipam_close(rt_ipam_t *ipam);
/* Same owner gets the same address back. ip receives "10.244.1.5". */
int rt_ipam_allocate(rt_ipam_t *ipam, const char *owner, char ip[64], rt_error_t *err);
int rt_ipam_release(rt_ipam_t *ipam, const char *owner, rt_error_t *err);
/* "10.244.1.1" and the prefix length of the CIDR. */
void rt_ipam_gateway(const rt_ipam_t *ipam, char ip[64], int *prefix_len);

/* ---- images ------------------------------------------------------------ */

typedef struct rt_image {
	char *ref;	       /* normalised: "busybox:latest" */
	char *manifest_digest; /* "sha256:..." */
	char **layers;	       /* layer blob digests, lowest first; NULL-terminated */
	size_t nlayers;
	/* From the image config; NULL / NULL-terminated arrays. */
	char **entrypoint;
	char **cmd;
	char **env; /* "K=V" */
	char *working_dir;
	char *user;
	int64_t size; /* sum of layer blob sizes */
} rt_image_t;

/* Resolves ref in an OCI image layout (index.json with
 * org.opencontainers.image.ref.name annotations "NAME:TAG"; "busybox" means
 * "busybox:latest", a "docker.io/library/" prefix is ignored). Reads the
 * manifest (OCI or Docker schema2; an index is resolved to linux/<arch>) and the
 * config, verifying each blob's digest. -1 with errnum ENOENT when the layout
 * has no such image. */
int rt_image_resolve(const char *layout_dir, const char *ref, rt_image_t **out, rt_error_t *err);
void rt_image_free(rt_image_t *img);

/* Unpacks each layer not yet unpacked into layers_dir/<hex digest>/ (verified
 * by digest first, whiteouts honoured, no path escaping the layer directory,
 * device nodes refused), atomically (unpacked to a temporary name, renamed). */
int rt_image_unpack(const rt_image_t *img, const char *layout_dir, const char *layers_dir,
		    rt_error_t *err);
/* rt_image_unpack with a bound on what one layer may unpack to (the sum of its
 * entries' sizes); max_layer_bytes <= 0: 10 GiB. Over it, the layer fails with
 * EFBIG and a message naming the limit, and its directory is not kept. */
int rt_image_unpack_limit(const rt_image_t *img, const char *layout_dir, const char *layers_dir,
			  int64_t max_layer_bytes, rt_error_t *err);

/* Mounts overlayfs for a container at dir/rootfs, with dir/upper and dir/work,
 * the image layers (from layers_dir) as lowerdir. Idempotent. */
int rt_rootfs_mount(const rt_image_t *img, const char *layers_dir, const char *dir,
		    rt_error_t *err);
/* Unmounts dir/rootfs (lazily if busy) and removes dir. Missing is fine. */
int rt_rootfs_remove(const char *dir, rt_error_t *err);

/* ---- image references and pulls -------------------------------------------- */

/* The registry a reference without a host names, unless the caller says otherwise. */
#define RT_DEFAULT_REGISTRY "docker.io"

/* A parsed image reference, `[host[:port]/]path[:tag][@sha256:hex]`, read the way
 * Docker reads it. Every string is malloc'd; free with rt_imageref_clear. */
typedef struct rt_imageref {
	char *registry;	  /* "docker.io", "registry.local:5000", "127.0.0.1:5000" */
	char *repository; /* "library/busybox", "team/app" */
	char *tag;	  /* "latest" when neither tag nor digest is given; NULL for digest only */
	char *digest;	  /* "sha256:<64 hex>" or NULL */
	char *name;	  /* canonical: "registry/repository:tag", or "registry/repository@digest"
			   * when a digest is given (the digest wins over a tag) */
} rt_imageref_t;

/* Parses ref. The first path component is the registry when it contains '.' or
 * ':', is "localhost", or has an upper-case letter; otherwise the registry is
 * default_registry (NULL: RT_DEFAULT_REGISTRY), "index.docker.io" reads as
 * "docker.io", and a one-component path on docker.io or on the implicit default
 * registry gets "library/" in front. Path components must be lowercase
 * [a-z0-9] runs joined by '.', '_', "__" or dashes; a tag is [A-Za-z0-9_][A-Za-z0-9_.-]{0,127};
 * only sha256 digests are supported. -1 with EINVAL and a message naming the
 * bad part otherwise; out is then left zeroed. */
int rt_imageref_parse(const char *ref, const char *default_registry, rt_imageref_t *out,
		      rt_error_t *err);
/* Frees the strings of ref and zeroes it. NULL is fine. */
void rt_imageref_clear(rt_imageref_t *ref);

/* Called as blobs arrive: bytes of config and layers done out of total. */
typedef void (*rt_pull_progress_fn)(void *arg, int64_t done, int64_t total);

typedef struct rt_pull_opts {
	const char *store_dir;	      /* content store: an OCI image layout, created if missing */
	const char *default_registry; /* NULL: RT_DEFAULT_REGISTRY */
	const char *credentials_file; /* Docker config.json-style {"auths": {...}}; NULL: none */
	const char *const *insecure_registries; /* NULL-terminated "host[:port]" list: HTTPS
						 * without certificate checks, then plain
						 * HTTP (Docker's way); NULL: none */
	const char *ca_file;			/* extra CA bundle for HTTPS; NULL: the system's */
	int64_t max_blob_bytes;			/* largest blob accepted; 0: 10 GiB */
	rt_pull_progress_fn progress;		/* may be NULL */
	void *progress_arg;
} rt_pull_opts_t;

/* Pulls ref from its registry (OCI distribution v2: an OCI index or Docker
 * manifest list resolved to linux/<host arch>, OCI or Docker schema2 manifest,
 * config and layer blobs) into opts->store_dir, every blob verified by digest
 * and size while it streams and only then renamed into blobs/sha256/; a failed
 * pull keeps nothing. index.json gets (or has replaced) an entry annotated with
 * the canonical name (rt_imageref_t.name), so rt_image_resolve(store_dir, name)
 * and rt_image_unpack(img, store_dir, ...) work on the result. Auth: anonymous,
 * bearer tokens through the WWW-Authenticate challenge, and basic credentials
 * from opts->credentials_file (also sent to the token realm). Concurrent pulls
 * of one name in this process happen once (the others wait for it); across
 * processes, renames keep the store consistent. Blocks: run it on a thread
 * pool. *out (free with rt_image_free) describes the image; errors name the
 * reference, the URL and the registry's own message. */
int rt_image_pull(const rt_pull_opts_t *opts, const char *ref, rt_image_t **out, rt_error_t *err);

/* Looks ref (parsed with opts->default_registry) up in opts->store_dir without
 * any network: 0 and *out, or -1 with errnum ENOENT when it was never pulled. */
int rt_image_lookup(const rt_pull_opts_t *opts, const char *ref, rt_image_t **out, rt_error_t *err);

/* One named image of an OCI layout (a content store or --image-dir). */
typedef struct rt_image_info {
	char *name;   /* the ref.name annotation: "127.0.0.1:5000/library/busybox:latest" */
	char *digest; /* of its manifest or index */
	int64_t size; /* sum of its layer blobs (this platform's), -1 when it does not resolve */
} rt_image_info_t;

/* Lists the named images of layout (0 images when it has no index.json yet).
 * *out (n entries) is freed with rt_image_list_free. */
int rt_image_list(const char *layout, rt_image_info_t **out, size_t *n, rt_error_t *err);
void rt_image_list_free(rt_image_info_t *v, size_t n);

/* Imports an OCI image layout packed as a tar (optionally compressed) into
 * opts->store_dir: only oci-layout, index.json and blobs/sha256/<hex> regular
 * files are accepted, every blob must match its digest, every named image
 * must resolve with its layers present; then blobs are moved in and each name
 * (canonicalised with opts->default_registry) added to the store's index.json.
 * A failure keeps nothing. *names (*nnames canonical names, each malloc'd, the
 * array too) says what was imported. */
int rt_image_import(const rt_pull_opts_t *opts, const char *tar, char ***names, size_t *nnames,
		    rt_error_t *err);

/* ---- image garbage collection (image-gc.c) ---------------------------------- */

/* Index annotation holding an image's last use, seconds since the epoch. */
#define RT_IMAGE_LAST_USED_ANNOTATION "io.nodelet.image.last-used"
/* Index annotation a pull or an import puts on the entries it adds (seconds
 * since the epoch): only such entries are ever garbage-collected, so images an
 * operator placed in the layout by other means stay. */
#define RT_IMAGE_ADDED_ANNOTATION "io.nodelet.image.added"

typedef struct rt_image_gc_opts {
	const char *store_dir;		 /* the content store (pulled images) collected */
	const char *layers_dir;		 /* unpacked layers (<hex> directories); NULL: none */
	const char *const *keep_layouts; /* NULL-terminated other OCI layouts (--image-dir)
					  * whose layers are never removed; may be NULL */
	const char *const *in_use;	 /* NULL-terminated image references pods use (any form,
					  * canonicalised with default_registry); may be NULL */
	const char *default_registry;
	int high_pct, low_pct; /* collect at >= high_pct% used, down to low_pct%; high >= 100:
				* never */
	bool all;	       /* remove every unused image, whatever the usage (prune) */
	/* Usage of the filesystem holding path; NULL: statvfs (total - available). */
	int (*usage)(void *arg, const char *path, uint64_t *used, uint64_t *total);
	void *usage_arg;
	int64_t now; /* seconds since the epoch; 0: time(NULL) */
} rt_image_gc_opts_t;

typedef struct rt_image_gc_result {
	uint64_t used, total; /* the filesystem before (0 for a prune) */
	int64_t freed;	      /* bytes of blobs and unpacked layers removed */
	char **removed;	      /* NULL-terminated names removed, each malloc'd; may be NULL */
	size_t nremoved;
} rt_image_gc_result_t;

/* Collects images of o->store_dir the way kubelet does: when usage is at or
 * above high_pct (or always with o->all), images not in o->in_use (and added
 * by a pull or an import: RT_IMAGE_ADDED_ANNOTATION) are removed,
 * least recently used first, until the bytes freed bring usage to low_pct
 * (with o->all: every unused one). An image's index entry goes first, then the
 * blobs only it reaches and their unpacked layer directories, unless a
 * remaining image or a keep_layouts image uses them. Images in use get their
 * last-used time refreshed. Blocks (filesystem work under flock(index.lock)):
 * run it on a thread pool, and not while this process pulls or unpacks.
 * res (free with rt_image_gc_result_clear) says what went; filled even on -1
 * for what was removed before the error. */
int rt_image_gc(const rt_image_gc_opts_t *o, rt_image_gc_result_t *res, rt_error_t *err);
void rt_image_gc_result_clear(rt_image_gc_result_t *res);
/* Sets name's last-used time in store/index.json to now. -1 with ENOENT when the
 * store has no such name. */
int rt_image_touch(const char *store, const char *name, rt_error_t *err);

#endif
