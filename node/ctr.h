/* The container side of the node: OCI bundles for a pod's sandbox and its
 * containers, and nodelet-shim, the per-container monitor that creates the
 * container through libruntime, writes its CRI logs and records how it ended.
 *
 * All calls block (file I/O, fork/exec and waiting for the shim to report):
 * the nodelet runs them on the libuv thread pool.
 */
#ifndef NODELET_NODE_CTR_H
#define NODELET_NODE_CTR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "proto/api.h"
#include "runtime/runtime.h"

/* What a container's config.json is generated from. */
typedef struct node_ctr_spec {
	const api_pod_t *pod;
	const api_container_t *ctr;
	const rt_image_t *image; /* defaults: Entrypoint/Cmd/Env/WorkingDir/User */
	const char *rootfs;	 /* the mounted overlay for this container */
	const char *bundle_dir;	 /* config.json is written here */
	pid_t sandbox_pid;	 /* pause process: join its net, ipc and uts namespaces */
	const char *cgroup_path; /* "<cgroup-parent>/pod-<uid>/<container>" */
	const char *hosts_file;	 /* bind-mounted read-only at /etc/hosts; NULL for none */
} node_ctr_spec_t;

/* Writes spec->bundle_dir/config.json for one container: command/args over the
 * image's Entrypoint/Cmd the Kubernetes way, env (image env, then pod env),
 * cwd, new pid and mount namespaces, the sandbox's net/ipc/uts by path, the
 * cgroup with memory/cpu limits from resources, default mounts, the default
 * capability set, no_new_privs, masked and read-only paths. */
int node_ctr_write_config(const node_ctr_spec_t *spec, rt_error_t *err);

/* Writes bundle_dir/config.json for the pod sandbox: the pause binary at
 * /pause in rootfs, new net, ipc, uts, pid and mount namespaces, hostname =
 * pod name, in cgroup_path. */
int node_sandbox_write_config(const api_pod_t *pod, const char *rootfs, const char *bundle_dir,
			      const char *cgroup_path, rt_error_t *err);

typedef struct node_shim_opts {
	const char *shim_path;	/* the nodelet-shim binary */
	const char *id;		/* container id, unique on the node */
	const char *bundle;	/* directory holding config.json */
	const char *state_root; /* libruntime state root */
	const char *log_path;	/* CRI log file to append to; NULL: discard output */
	const char *status_dir; /* shim writes pid, and exit.json when the container ends */
} node_shim_opts_t;

/* Starts nodelet-shim, which detaches (survives the nodelet), creates and
 * starts the container, and reports back. Returns once the container runs, with
 * the shim's and the container's pids; or -1 with the reason the container
 * could not start (the shim's message). */
int node_shim_launch(const node_shim_opts_t *o, pid_t *shim_pid, pid_t *ctr_pid, rt_error_t *err);

typedef struct node_exit_status {
	bool exited;   /* false: exit.json not there yet (still running) */
	int exit_code; /* 128+signal when killed by a signal */
	int signal;    /* 0 when it exited */
	bool oom_killed;
	int64_t started_at;  /* Unix ms */
	int64_t finished_at; /* Unix ms */
	char reason[32];     /* "Completed", "Error", "OOMKilled" */
} node_exit_status_t;

/* Reads status_dir/exit.json. 0 with exited=false when there is none yet. */
int node_shim_read_exit(const char *status_dir, node_exit_status_t *st, rt_error_t *err);
/* Reads status_dir/pid (shim pid, container pid). -1/ENOENT when missing. */
int node_shim_read_pids(const char *status_dir, pid_t *shim_pid, pid_t *ctr_pid, rt_error_t *err);

/* Opens a pidfd (pidfd_open) on a running shim, for poll/uv_poll: it becomes
 * readable when the shim has exited, which is when status_dir/exit.json is
 * final (the shim writes it last, after deleting the container, so the id can
 * then be reused). The process must be a nodelet-shim for container id (its
 * command line is checked, against pid reuse after a nodelet restart). Returns
 * the fd (caller closes), or -1 with ESRCH when no such shim runs. */
int node_shim_pidfd(pid_t shim_pid, const char *id, rt_error_t *err);

#endif
