/* What the nodelet daemon's modules share: its configuration, the node
 * state (session, pods), the pod worker's pure decisions, and the helpers
 * around them. Nothing outside node/ includes this header.
 *
 * Threading: everything here is used on the one libuv loop thread, except
 * the pod worker's jobs, which run on the thread pool and touch only their
 * own job struct plus what node_t guards with its mutexes.
 */
#ifndef NODELET_NODE_INTERNAL_H
#define NODELET_NODE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

#include "node/fsutil.h"
#include "proto/api.h"
#include "runtime/runtime.h"

#define NODE_VERSION "0.2.0"

#ifndef container_of
#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))
#endif

/* ---- configuration (config.c) ------------------------------------------ */

typedef struct node_config {
	char *server;	   /* ws://HOST:PORT[/...] */
	char *server_host; /* parsed from server */
	int server_port;
	char *name;
	char *root;
	char *cgroup_parent;
	char *bridge;
	char *image_dir;
	char *log_dir;
	char *address; /* reported InternalIP; NULL: detect */
	char *shim_path;
	char *pause_path;
	api_kvlist_t labels;
	int64_t max_pods;
	int64_t cpu_millis;   /* 0: detect */
	int64_t memory_bytes; /* 0: detect */
	int64_t crash_backoff_ms;
	/* image pulls (node/images.c) */
	char *default_registry;	    /* NULL: docker.io */
	char *registry_credentials; /* Docker config.json-style auths file; NULL: none */
	char **insecure_registries; /* NULL-terminated "host:port" list (plain HTTP) */
	size_t ninsecure;
	/* image garbage collection (node/images.c) */
	int image_gc_high;	     /* percent; 100: never (default 85) */
	int image_gc_low;	     /* percent (default 80) */
	int64_t image_gc_period_ms;  /* default 5m */
	int64_t max_layer_bytes;     /* what one layer may unpack to (default 10Gi) */
	int64_t max_pull_blob_bytes; /* largest blob a pull accepts (default 10Gi) */
} node_config_t;

/* Parses the command line into cfg (defaults filled in). Returns 0 to run,
 * 1 when --help or --version printed what was asked (exit 0), -1 on a bad
 * flag with the reason in errbuf. Call node_config_free afterwards in all
 * cases. */
int node_config_parse(int argc, char **argv, node_config_t *cfg, char *errbuf, size_t errlen);
void node_config_free(node_config_t *cfg);
/* Prints the usage text to f. */
void node_config_usage(FILE *f, const char *argv0);

/* "k=v,k2=v2" into l (appended). -1 with a message naming the bad item. */
int node_parse_labels(const char *s, api_kvlist_t *l, char *errbuf, size_t errlen);
/* "10s", "1.5s", "500ms", "5m", "1h", or a bare number of seconds -> ms.
 * -EINVAL on junk or negatives. */
int node_parse_duration(const char *s, int64_t *ms);
/* "ws://host:port/path" -> host (malloc'd), port (default 80). -EINVAL. */
int node_parse_ws_url(const char *url, char **host, int *port);

/* ---- pure pod decisions (pod-logic.c) ----------------------------------- */

#define NODE_BACKOFF_MAX_MS (5 * 60 * 1000)
#define NODE_BACKOFF_RESET_MS (10 * 60 * 1000)

/* Delay before restart number `count` of a container that keeps failing
 * (count 0 = the first restart after the first exit): 0, then base, doubling
 * each time, capped at 5 minutes — as kubelet's CrashLoopBackOff. */
int64_t node_backoff_delay_ms(int64_t base_ms, int count);

/* Whether a container that ended with exit_code restarts under policy
 * ("Always", "OnFailure", "Never"; NULL means Always). */
bool node_should_restart(const char *policy, int exit_code);

/* What the phase needs to know about one container. */
typedef struct node_phase_input {
	bool started_once; /* has run at least once */
	bool running;
	bool will_restart; /* ended or waiting, but a (re)start is coming */
	bool terminated;   /* ended, no restart coming */
	int exit_code;	   /* of the last termination */
} node_phase_input_t;

/* Pod phase from its containers: "Pending" until every container has started,
 * "Running" while any runs or will restart, "Succeeded" when all ended with 0
 * and none restarts, "Failed" when all ended, one failed, none restarts.
 * Returns a static string. */
const char *node_pod_phase(const node_phase_input_t *c, size_t n);

/* Host-side veth name for a pod: "nl" + 10 hex chars of a hash of the uid,
 * 12 characters, fits IFNAMSIZ. */
void node_host_ifname(const char *uid, char out[16]);

/* Container id on the node: "<first 12 alnum chars of uid>-<name>". The
 * sandbox's id uses name "_sandbox" (not a valid container name, so unique). */
void node_container_id(const char *uid, const char *name, char *out, size_t len);

/* CPU millicores from a cumulative-ns delta over a wall-time delta (ns). */
int64_t node_cpu_millis(uint64_t prev_ns, uint64_t cur_ns, uint64_t wall_ns);

/* ---- logging (usage.c) -------------------------------------------------- */

/* One line to stderr: "I 09:12:01.123 <message>". level is 'I', 'W' or 'E'. */
void node_log(char level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- host usage (usage.c) ----------------------------------------------- */

typedef struct node_host_sample {
	uint64_t busy;	/* jiffies */
	uint64_t total; /* jiffies */
} node_host_sample_t;

/* Reads the aggregate "cpu" line of /proc/stat (path for tests). */
int node_read_proc_stat(const char *path, node_host_sample_t *s);
/* Millicores used between two samples on a host of ncpu CPUs. */
int64_t node_host_cpu_millis(const node_host_sample_t *a, const node_host_sample_t *b, int ncpu);
/* MemTotal and MemTotal-MemAvailable from /proc/meminfo (path for tests), bytes. */
int node_read_meminfo(const char *path, int64_t *total, int64_t *used);
/* First non-loopback IPv4 address of this network namespace, skipping the
 * interface named skip (the pod bridge); 0 or -ENOENT. */
int node_first_ipv4(const char *skip, char out[64]);

/* ---- the node ----------------------------------------------------------- */

typedef struct node_pod node_pod_t;
typedef struct node node_t;

struct node {
	node_config_t *cfg;
	uv_loop_t *loop;
	char address[64];
	int64_t cap_cpu_millis;
	int64_t cap_memory_bytes;
	char pause_rootfs[4096];
	char layers_dir[4096];
	char images_dir[4096]; /* <root>/images: the content store pulls go to */
	char state_root[4096]; /* <root>/run */
	/* session */
	struct node_session *session;
	bool registered;
	char pod_cidr[64];
	char gateway[64];
	int prefix_len;
	rt_ipam_t *ipam;
	pthread_mutex_t ipam_lock;
	pthread_mutex_t image_lock;
	/* Pull+unpack+mount (start jobs) read-lock it; a collection write-locks it.
	 * image_uses counts start jobs, so a collection whose in-use list predates
	 * a start skips that round. */
	pthread_rwlock_t image_gc_lock;
	_Atomic uint64_t image_uses;
	uv_timer_t image_gc_timer;
	bool image_gc_running, image_gc_again;
	uv_timer_t heartbeat;
	uint32_t heartbeat_ms;
	uint64_t hb_seq;
	node_host_sample_t host_prev;
	bool shutting_down;
	int exit_code;
	/* pods */
	node_pod_t *pods; /* list */
	uv_signal_t sigint, sigterm;
	/* Set by main: stop the daemon (from any loop callback) with this exit code. */
	void (*request_shutdown)(node_t *n, int code);
};

/* session.c */
struct node_session;
/* Creates the lws context on n->loop and starts connecting. 0 or -1. */
int node_session_start(node_t *n);
/* Queues one envelope for sending (packed now); dropped when not connected
 * (or, unless `always`, not registered yet). */
void node_session_send(node_t *n, const Nodelet__V1__Envelope *env, bool always);
/* First stage of shutdown: cancels reconnects, closes the socket, starts the
 * lws context destroy. */
void node_session_stop(node_t *n);
/* Second stage, after uv_run has drained. */
void node_session_destroy(node_t *n);

/* The protocol (session.c): Register on connect, RegisterReply, heartbeats. */
void node_on_connected(node_t *n);
void node_on_register_reply(node_t *n, const Nodelet__V1__RegisterReply *r);
void node_on_disconnected(node_t *n);
/* Pod messages (pod-worker.c). */
void node_on_run_pod(node_t *n, const Nodelet__V1__RunPod *r);
void node_on_stop_pod(node_t *n, const Nodelet__V1__StopPod *s);

/* pod-worker.c */
/* Re-adopts the pods under <root>/pods (at start-up, before connecting). */
void node_pods_adopt(node_t *n);
/* Sends a PodStatus for every pod (usage is the last sample). */
void node_pods_report_all(node_t *n, bool with_usage);
/* Starts every pod whose start was waiting for the registration (IPAM). */
void node_pods_kick_all(node_t *n);
/* Closes every pod's handles (shutdown; pods keep running). */
void node_pods_close_all(node_t *n);
/* session.c: the Register's pod list, a malloc'd array of *count PodRef
 * pointers (each malloc'd; strings borrowed from the pods): free with
 * node_pods_refs_free before the pods change. Pods being removed are left out. */
Nodelet__V1__PodRef **node_pods_refs(node_t *n, size_t *count);
void node_pods_refs_free(Nodelet__V1__PodRef **refs, size_t count);
size_t node_pods_count(node_t *n);
/* usage.c: samples the cgroup usage of every running container. */
void node_pods_sample_usage(node_t *n);

/* ---- pods (pod-worker.c: the state machine; pod-jobs.c: blocking steps) - */

typedef struct node_cstate {
	api_cstate_kind_t kind;
	char reason[64];
	char message[512];
	int exit_code;
	int signal;
	int64_t started_at;  /* Unix ms */
	int64_t finished_at; /* Unix ms */
} node_cstate_t;

typedef struct node_ctr {
	node_pod_t *pod;
	const api_container_t *spec; /* points into pod->pod */
	char id[160];		     /* container id on the node */
	char dir[4200];		     /* <pod dir>/containers/<name> */
	char cgroup[1200];
	node_cstate_t state, last;
	int restart_count;
	int backoff_count;
	int image_failures;
	int handled;	/* restart number whose exit was acted on; -1 none */
	bool oom_acted; /* this run's OOM kill was answered by killing the container */
	bool started_once;
	bool done;	   /* ended, no restart coming */
	int64_t due_mono;  /* (re)start at; -1: none planned */
	int64_t fail_mono; /* when an image pull failed (ErrImagePull -> ImagePullBackOff) */
	int64_t run_mono;  /* when it last started */
	pid_t shim_pid, ctr_pid;
	int pidfd;
	uv_poll_t poll;
	bool poll_open;
	/* usage */
	uint64_t prev_cpu_ns;
	int64_t prev_sample_mono;
	int64_t cpu_millis, memory_bytes; /* -1 unknown */
	/* image pull, written by the start job, read by the pod timer */
	_Atomic bool pulling;
	_Atomic int64_t pull_done, pull_total;
	char pulled_msg[512]; /* "Successfully pulled image ..."; read after the job */
	_Atomic bool pulled;  /* pulled_msg is written (the pod timer may show it) */
} node_ctr_t;

struct node_pod {
	node_pod_t *next;
	node_t *n;
	api_pod_t pod;
	char uid[128];
	int64_t generation;
	char desc[300];	   /* "default/web" for logs */
	char dir[4096];	   /* <root>/pods/<uid> */
	char cgroup[1024]; /* <parent>/pod-<uid> */
	char ifname[16];
	char pod_ip[64];
	char sandbox_id[160];
	bool sandbox_ready;
	int sandbox_failures;
	int64_t sandbox_due;
	pid_t pause_shim, pause_pid;
	node_ctr_t *ctrs;
	size_t nctrs;
	int64_t start_time;
	char reason[64];
	char message[512];
	bool busy; /* a job runs on the thread pool */
	bool stopping;
	bool stop_queued; /* the stop job runs: the pod's directory is going */
	int grace_seconds;
	char *next_json; /* a newer generation to run once this copy is gone */
	int64_t next_generation;
	bool dirty;		/* state changed since the last report */
	const char *last_phase; /* last phase logged */
	bool closing;
	int handles; /* open libuv handles; freed at 0 */
	uv_timer_t timer;
};

typedef enum node_job_kind { NODE_JOB_SANDBOX, NODE_JOB_START, NODE_JOB_STOP } node_job_kind_t;

typedef struct node_job {
	uv_work_t req;
	node_pod_t *pod;
	node_job_kind_t kind;
	size_t ctr;	   /* START: which container */
	int restart;	   /* START: the restart number (log file, status dir) */
	pid_t *shims;	   /* STOP: shim pid of each container (0: none) */
	int grace_seconds; /* STOP */
	/* results */
	int rc;
	rt_error_t err;
	bool image_error;      /* START failed pulling the image */
	char image_reason[32]; /* its waiting reason: ErrImagePull, ErrImageNeverPull, ... */
	pid_t shim_pid, ctr_pid;
	char ip[64];
} node_job_t;

/* pod-worker.c, shared with pod-adopt.c. */
/* A new pod for a decoded pod (taken over: *pod is zeroed), linked into the
 * node, its timer ticking; containers Waiting/ContainerCreating, due now. */
node_pod_t *node__pod_new(node_t *n, api_pod_t *pod, const char *uid, int64_t generation);
/* Starts the next blocking step the pod needs and arms its timer. */
void node__pod_kick(node_pod_t *p);
/* Watches a running container's shim through a pidfd. */
void node__ctr_watch(node_ctr_t *c);
/* Acts on a running container's exit, if it ended (exit.json, or a dead shim). */
void node__ctr_check(node_ctr_t *c);
/* Sends the pod's PodStatus to schedd (removed: the pod is gone). */
void node__pod_send_status(node_pod_t *p, bool removed);
/* Logs a phase change, clears dirty and sends the status. */
void node__pod_report(node_pod_t *p);
/* Resets a state to kind with reason and message (truncated to fit). */
void node__cstate_set(node_cstate_t *s, api_cstate_kind_t kind, const char *reason,
		      const char *message);

/* images.c: a container's image, from --image-dir or the content store (pulled
 * as imagePullPolicy says). Runs on the thread pool. 0 with *img (free with
 * rt_image_free) and *layout (the OCI layout it is in, for rt_image_unpack);
 * -1 with err and reason ("ErrImagePull", "ErrImageNeverPull",
 * "InvalidImageName"). Updates c->pulling / pull_done / pull_total while it
 * pulls and c->pulled_msg after. */
int node_image_get(node_t *n, node_ctr_t *c, rt_image_t **img, const char **layout, char reason[32],
		   rt_error_t *err);
/* `nodelet images [list]` (the named images of <root>/images and --image-dir,
 * with sizes), `nodelet images import FILE...` (OCI layout tars into
 * <root>/images) and `nodelet images prune` (removes every image of
 * <root>/images no <root>/pods/<uid>/pod.json names). argv[0] is "images".
 * Returns the exit code. */
int node_images_main(int argc, char **argv);
/* Image garbage collection (images.c): starts the --image-gc-period timer on
 * n->loop; node_image_gc_kick queues one collection now (after a pod is
 * removed), coalescing with one already running; node_image_gc_stop closes
 * the timer (shutdown). Loop thread only. */
void node_image_gc_start(node_t *n);
void node_image_gc_kick(node_t *n);
void node_image_gc_stop(node_t *n);
/* The container's imagePullPolicy, or Kubernetes' default for its image:
 * Always for ":latest" (or no tag and no digest), IfNotPresent otherwise. */
const char *node_image_pull_policy(const api_container_t *spec);

/* pod-jobs.c: the blocking steps, run on the thread pool. */
void node_job_sandbox(node_job_t *j);
void node_job_start(node_job_t *j);
void node_job_stop(node_job_t *j);
/* Whether pid is a live nodelet-shim (not a zombie, cmdline names it). */
bool node_shim_alive(pid_t pid);
/* <pod dir>/containers/<name>/status-<restart> */
void node_status_dir(const node_ctr_t *c, int restart, char *out, size_t len);

/* podstate.c: the on-disk record of a pod, for adoption after a restart. */
typedef struct node_podstate_ctr {
	char name[64];
	int restart_count;
	int backoff_count;
	/* The exit of run `handled` was already acted on (-1: none): a restarted
	 * nodelet must not count it again. Then state (not running) and last
	 * are as they were, and the restart is due at restart_at (Unix ms, 0: none). */
	int handled;
	bool done;
	int64_t restart_at;
	node_cstate_t state, last;
} node_podstate_ctr_t;

typedef struct node_podstate {
	char uid[128];
	int64_t generation;
	char pod_ip[64];
	int64_t start_time; /* Unix ms the sandbox came up */
	bool stopping;
	node_podstate_ctr_t *ctrs;
	size_t nctrs;
} node_podstate_t;

/* Writes dir/state.json atomically (temp file + rename). */
int node_podstate_save(const char *dir, const node_podstate_t *st, rt_error_t *err);
/* Reads dir/state.json; st->ctrs is malloc'd (free with node_podstate_free). */
int node_podstate_load(const char *dir, node_podstate_t *st, rt_error_t *err);
void node_podstate_free(node_podstate_t *st);
/* Writes dir/pod.json (the pod in API JSON) atomically. */
int node_pod_json_save(const char *dir, const api_pod_t *pod, rt_error_t *err);
/* Reads dir/pod.json (stored form). */
int node_pod_json_load(const char *dir, api_pod_t *pod, rt_error_t *err);
/* rm -rf that never crosses into another file system (mounts left inside are
 * skipped, and reported as an error). Missing is fine. */
int node_rm_rf(const char *path, rt_error_t *err);

/* Monotonic and wall clocks in ms. */
int64_t node_now_ms(void);
int64_t node_mono_ms(void);

#endif
