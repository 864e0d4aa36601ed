/* The default seccomp profile (what `ocirun spec` writes and the nodelet
 * gives every pod container): an allowlist in the shape of Docker's and
 * containerd's RuntimeDefault. Everything not listed fails with EPERM; among
 * what is left out on purpose: mount/umount2/pivot_root, unshare and setns,
 * clone with any CLONE_NEW* flag (argument filter), clone3 (ENOSYS, so libc
 * falls back to clone, whose flags can be checked), module loading, kexec,
 * bpf, ptrace and process_vm_*, the keyring calls, reboot, swapon/swapoff,
 * perf_event_open, open_by_handle_at, userfaultfd, acct, quotactl, the clock
 * setters, iopl/ioperm, syslog. */
#include <errno.h>
#include <sched.h>

#include "runtime/rt-internal.h"

/* Allowed for everyone, no argument checks. Names the kernel or libseccomp
 * does not know on this architecture are skipped when the filter is built. */
static const char *const allowed[] = {
    "accept", "accept4", "access", "adjtimex", "alarm", "arch_prctl", "bind", "brk",
    "cacheflush", "capget", "capset", "chdir", "chmod", "chown", "chown32", "chroot",
    "clock_adjtime", "clock_adjtime64", "clock_getres", "clock_getres_time64",
    "clock_gettime", "clock_gettime64", "clock_nanosleep", "clock_nanosleep_time64", "close",
    "close_range", "connect", "copy_file_range", "creat", "dup", "dup2", "dup3",
    "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait",
    "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2", "execve",
    "execveat", "exit", "exit_group", "faccessat", "faccessat2", "fadvise64", "fadvise64_64",
    "fallocate", "fanotify_mark", "fchdir", "fchmod", "fchmodat", "fchown", "fchown32",
    "fchownat", "fcntl", "fcntl64", "fdatasync", "fgetxattr", "flistxattr", "flock", "fork",
    "fremovexattr", "fsetxattr", "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64",
    "fsync", "ftruncate", "ftruncate64", "futex", "futex_time64", "futex_waitv", "futimesat",
    "get_mempolicy", "get_robust_list", "get_thread_area", "getcpu", "getcwd", "getdents",
    "getdents64", "getegid", "getegid32", "geteuid", "geteuid32", "getgid", "getgid32",
    "getgroups", "getgroups32", "getitimer", "getpeername", "getpgid", "getpgrp", "getpid",
    "getppid", "getpriority", "getrandom", "getresgid", "getresgid32", "getresuid",
    "getresuid32", "getrlimit", "getrusage", "getsid", "getsockname", "getsockopt", "gettid",
    "gettimeofday", "getuid", "getuid32", "getxattr", "inotify_add_watch", "inotify_init",
    "inotify_init1", "inotify_rm_watch", "io_cancel", "io_destroy", "io_getevents",
    "io_pgetevents", "io_pgetevents_time64", "io_setup", "io_submit", "ioctl", "ioprio_get",
    "ioprio_set", "ipc", "kill", "landlock_add_rule", "landlock_create_ruleset",
    "landlock_restrict_self", "lchown", "lchown32", "lgetxattr", "link", "linkat", "listen",
    "listxattr", "llistxattr", "_llseek", "lremovexattr", "lseek", "lsetxattr", "lstat",
    "lstat64", "madvise", "mbind", "membarrier", "memfd_create", "memfd_secret", "mincore",
    "mkdir", "mkdirat", "mknod", "mknodat", "mlock", "mlock2", "mlockall", "mmap", "mmap2",
    "modify_ldt", "mprotect", "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive",
    "mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64", "mq_unlink", "mremap",
    "msgctl", "msgget", "msgrcv", "msgsnd", "msync", "munlock", "munlockall", "munmap",
    "name_to_handle_at", "nanosleep", "newfstatat", "_newselect", "open", "openat", "openat2",
    "pause", "pidfd_getfd", "pidfd_open", "pidfd_send_signal", "pipe", "pipe2", "pkey_alloc",
    "pkey_free", "pkey_mprotect", "poll", "ppoll", "ppoll_time64", "prctl", "pread64",
    "preadv", "preadv2", "prlimit64", "process_mrelease", "pselect6", "pselect6_time64",
    "pwrite64", "pwritev", "pwritev2", "read", "readahead", "readlink", "readlinkat", "readv",
    "recv", "recvfrom", "recvmmsg", "recvmmsg_time64", "recvmsg", "remap_file_pages",
    "removexattr", "rename", "renameat", "renameat2", "restart_syscall", "rmdir", "rseq",
    "rt_sigaction", "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn",
    "rt_sigsuspend", "rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_tgsigqueueinfo",
    "sched_get_priority_max", "sched_get_priority_min", "sched_getaffinity", "sched_getattr",
    "sched_getparam", "sched_getscheduler", "sched_rr_get_interval",
    "sched_rr_get_interval_time64", "sched_setaffinity", "sched_setattr", "sched_setparam",
    "sched_setscheduler", "sched_yield", "seccomp", "select", "semctl", "semget", "semop",
    "semtimedop", "semtimedop_time64", "send", "sendfile", "sendfile64", "sendmmsg", "sendmsg",
    "sendto", "set_mempolicy", "set_robust_list", "set_thread_area", "set_tid_address",
    "setfsgid", "setfsgid32", "setfsuid", "setfsuid32", "setgid", "setgid32", "setgroups",
    "setgroups32", "setitimer", "setpgid", "setpriority", "setregid", "setregid32",
    "setresgid", "setresgid32", "setresuid", "setresuid32", "setreuid", "setreuid32",
    "setrlimit", "setsid", "setsockopt", "setuid", "setuid32", "setxattr", "shmat", "shmctl",
    "shmdt", "shmget", "shutdown", "sigaltstack", "signalfd", "signalfd4", "sigprocmask",
    "sigreturn", "socket", "socketcall", "socketpair", "splice", "stat", "stat64", "statfs",
    "statfs64", "statx", "symlink", "symlinkat", "sync", "sync_file_range", "syncfs",
    "sysinfo", "tee", "tgkill", "time", "timer_create", "timer_delete", "timer_getoverrun",
    "timer_gettime", "timer_gettime64", "timer_settime", "timer_settime64", "timerfd_create",
    "timerfd_gettime", "timerfd_gettime64", "timerfd_settime", "timerfd_settime64", "times",
    "tkill", "truncate", "truncate64", "ugetrlimit", "umask", "uname", "unlink", "unlinkat",
    "utime", "utimensat", "utimensat_time64", "utimes", "vfork", "vmsplice", "wait4",
    "waitid", "waitpid", "write", "writev",
};

/* Every CLONE_NEW* flag clone(2) takes (CLONE_NEWTIME shares its bit with the
 * exit signal there, so only unshare/clone3 could ask for it: both denied). */
#define CLONE_NS_MASK                                                                      \
	(CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER |      \
	 CLONE_NEWPID | CLONE_NEWNET)

static json_t *names(const char *const *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static json_t *arg(unsigned index, uint64_t value, uint64_t value_two, const char *op)
{
	return json_pack("{s:i, s:I, s:I, s:s}", "index", (int)index, "value", (json_int_t)value,
			 "valueTwo", (json_int_t)value_two, "op", op);
}

json_t *rt__seccomp_default_json(void)
{
#if defined(__x86_64__)
	json_t *arches = json_pack("[s,s,s]", "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32");
#elif defined(__aarch64__)
	json_t *arches = json_pack("[s,s]", "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM");
#else
	json_t *arches = json_array(); /* the native one only */
#endif
	json_t *rules = json_array();
	json_array_append_new(rules, json_pack("{s:o, s:s}", "names",
					       names(allowed, sizeof(allowed) / sizeof(allowed[0])),
					       "action", "SCMP_ACT_ALLOW"));
	/* personality: only the harmless personas (query, Linux, 32-bit, uname26);
	 * filters on one argument are alternatives. */
	json_t *pers = json_array();
	static const uint64_t personas[] = {0x0, 0x8, 0x20000, 0x20008, 0xffffffff};
	for (size_t i = 0; i < sizeof(personas) / sizeof(personas[0]); i++)
		json_array_append_new(pers, arg(0, personas[i], 0, "SCMP_CMP_EQ"));
	json_array_append_new(rules, json_pack("{s:[s], s:s, s:o}", "names", "personality",
					       "action", "SCMP_ACT_ALLOW", "args", pers));
	/* clone: allowed without namespace flags. The flags are argument 0 on
	 * x86 and arm (s390 swaps them; not supported here). */
	json_array_append_new(
	    rules, json_pack("{s:[s], s:s, s:[o]}", "names", "clone", "action", "SCMP_ACT_ALLOW",
			     "args", arg(0, CLONE_NS_MASK, 0, "SCMP_CMP_MASKED_EQ")));
	/* clone3 passes its flags in memory a filter cannot read: ENOSYS makes
	 * glibc fall back to clone. */
	json_array_append_new(rules, json_pack("{s:[s], s:s, s:i}", "names", "clone3", "action",
					       "SCMP_ACT_ERRNO", "errnoRet", ENOSYS));
	return json_pack("{s:s, s:i, s:o, s:o}", "defaultAction", "SCMP_ACT_ERRNO",
			 "defaultErrnoRet", EPERM, "architectures", arches, "syscalls", rules);
}

char *rt_seccomp_default_profile(void)
{
	cleanup_json json_t *j = rt__seccomp_default_json();
	char *s = json_dumps(j, JSON_INDENT(2));
	if (s == NULL) {
		fputs("libruntime: out of memory\n", stderr);
		abort();
	}
	return s;
}
