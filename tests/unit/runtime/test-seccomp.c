/* The default seccomp profile builder (seccomp-default.c) and the filter
 * builder (seccomp.c): the profile is valid config.json, allows what a
 * container needs and refuses what it never needs. The filter is loaded for
 * real in a forked child (no_new_privs makes that possible without root). */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <grp.h>
#include <sys/capability.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <seccomp.h>

#include "runtime/rt-internal.h"

/* A minimal config whose linux.seccomp is the default profile. */
static rt_config_t *config_with_default_profile(void)
{
	char *prof = rt_seccomp_default_profile();
	json_t *cfg = json_pack("{s:s, s:{s:s}, s:{s:[s]}, s:{s:o}}", "ociVersion", "1.0.2", "root",
				"path", "rootfs", "process", "args", "sh", "linux", "seccomp",
				json_loads(prof, 0, NULL));
	free(prof);
	assert_non_null(cfg);
	char *text = json_dumps(cfg, 0);
	json_decref(cfg);
	rt_config_t *c = NULL;
	rt_error_t err = {0};
	int rc = rt_config_parse(text, strlen(text), &c, &err);
	free(text);
	if (rc != 0)
		fail_msg("default profile does not parse: %s", err.msg);
	return c;
}

/* Whether name appears in an ALLOW rule without argument filters. */
static bool allowed_plain(const rt_seccomp_t *sc, const char *name)
{
	for (size_t i = 0; i < sc->nrules; i++) {
		const rt_seccomp_rule_t *r = &sc->rules[i];
		if (r->action != SCMP_ACT_ALLOW || r->nargs != 0)
			continue;
		for (char **n = r->names; *n; n++)
			if (strcmp(*n, name) == 0)
				return true;
	}
	return false;
}

static bool named(const rt_seccomp_t *sc, const char *name)
{
	for (size_t i = 0; i < sc->nrules; i++)
		for (char **n = sc->rules[i].names; *n; n++)
			if (strcmp(*n, name) == 0)
				return true;
	return false;
}

static void test_profile_shape(void **state)
{
	(void)state;
	rt_config_t *c = config_with_default_profile();
	const rt_seccomp_t *sc = c->seccomp;
	assert_non_null(sc);
	assert_int_equal(sc->default_action, SCMP_ACT_ERRNO(EPERM));
	assert_true(sc->narches >= 1);
	static const char *const need[] = {"read",  "write",  "execve", "openat",    "mmap",
					   "futex", "socket", "wait4",	"exit_group"};
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		assert_true(allowed_plain(sc, need[i]));
	static const char *const never[] = {"mount",
					    "umount2",
					    "pivot_root",
					    "unshare",
					    "setns",
					    "init_module",
					    "finit_module",
					    "delete_module",
					    "kexec_load",
					    "kexec_file_load",
					    "bpf",
					    "ptrace",
					    "process_vm_readv",
					    "keyctl",
					    "add_key",
					    "request_key",
					    "reboot",
					    "swapon",
					    "swapoff",
					    "perf_event_open",
					    "open_by_handle_at",
					    "userfaultfd",
					    "acct",
					    "settimeofday",
					    "syslog"};
	for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++)
		if (named(sc, never[i]))
			fail_msg("`%s` is in the default profile", never[i]);
	/* clone only through its argument filter, clone3 refused with ENOSYS */
	assert_false(allowed_plain(sc, "clone"));
	assert_true(named(sc, "clone"));
	rt_config_free(c);
}

static void test_profile_builds_filter(void **state)
{
	(void)state;
	rt_config_t *c = config_with_default_profile();
	void *ctx = NULL;
	rt_error_t err = {0};
	if (rt__seccomp_prepare(c->seccomp, &ctx, &err) != 0)
		fail_msg("building the filter: %s", err.msg);
	assert_non_null(ctx);
	seccomp_release(ctx);
	rt_config_free(c);
}

/* Runs in the child under the filter: 0 when every check holds, else the
 * number of the first failed check. */
static int child_checks(void)
{
	if (getpid() <= 0)
		return 1;
	errno = 0;
	if (mount("none", "/tmp", "tmpfs", 0, NULL) == 0 || errno != EPERM)
		return 2;
	if (unshare(CLONE_NEWUSER) == 0 || errno != EPERM)
		return 3;
	long r = syscall(SYS_clone, (unsigned long)(CLONE_NEWUSER | SIGCHLD), NULL, NULL, NULL, 0);
	if (r == 0)
		_exit(0);
	if (r > 0 || errno != EPERM)
		return 4;
#ifdef SYS_clone3
	if (syscall(SYS_clone3, NULL, 0) == 0 || errno != ENOSYS)
		return 5;
#endif
	if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) == 0 || errno != EPERM)
		return 6;
	if (syscall(SYS_keyctl, 0, 0, 0, 0, 0) == 0 || errno != EPERM)
		return 7;
	/* a plain fork still works */
	pid_t p = fork();
	if (p == 0)
		_exit(42);
	int st = 0;
	if (p < 0 || waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st) != 42)
		return 8;
	if (syscall(SYS_personality, 0xffffffffUL) < 0)
		return 9;
	if (syscall(SYS_personality, 0x0400000UL /* ADDR_NO_RANDOMIZE */) == 0 || errno != EPERM)
		return 10;
	return 0;
}

static void test_profile_enforced(void **state)
{
	(void)state;
	rt_config_t *c = config_with_default_profile();
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		rt_error_t err = {0};
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			_exit(100);
		if (rt__seccomp_load(c->seccomp, &err) < 0) {
			fprintf(stderr, "%s\n", err.msg);
			_exit(101);
		}
		_exit(child_checks());
	}
	int st = 0;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	if (WEXITSTATUS(st) != 0)
		fail_msg("check %d failed under the default profile", WEXITSTATUS(st));
	rt_config_free(c);
}

/* The filter leaves no_new_privs to process.noNewPrivileges: libseccomp's
 * own attribute (on by default) is cleared. */
static void test_filter_leaves_no_new_privs_alone(void **state)
{
	(void)state;
	rt_config_t *c = config_with_default_profile();
	void *ctx = NULL;
	rt_error_t err = {0};
	if (rt__seccomp_prepare(c->seccomp, &ctx, &err) != 0)
		fail_msg("building the filter: %s", err.msg);
	uint32_t nnp = 1;
	assert_int_equal(seccomp_attr_get(ctx, SCMP_FLTATR_CTL_NNP, &nnp), 0);
	assert_int_equal(nnp, 0);
	seccomp_release(ctx);
	rt_config_free(c);
}

/* Runs under the filter loaded without no_new_privs: the steps that follow
 * it in rt__process_prepare when noNewPrivileges is false. 0 or the number
 * of the failed step. */
static int steps_after_early_load(void)
{
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 0)
		return 1;
	if (prctl(PR_CAPBSET_DROP, CAP_SYS_MODULE, 0, 0, 0) < 0)
		return 2;
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return 3;
	gid_t g = 10;
	if (setgroups(1, &g) < 0)
		return 4;
	if (setresgid(1000, 1000, 1000) < 0)
		return 5;
	if (setresuid(1000, 1000, 1000) < 0)
		return 6;
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return 7;
	cap_t caps = cap_init();
	cap_value_t v = CAP_KILL;
	cap_set_flag(caps, CAP_PERMITTED, 1, &v, CAP_SET);
	cap_set_flag(caps, CAP_EFFECTIVE, 1, &v, CAP_SET);
	int rc = cap_set_proc(caps);
	cap_free(caps);
	if (rc < 0)
		return 8;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		return 9;
	umask(022);
	char *argv[] = {"true", NULL}, *envp[] = {NULL};
	execve("/bin/true", argv, envp);
	return 10;
}

static void test_default_profile_allows_the_steps_after_an_early_load(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip(); /* loading without no_new_privs needs CAP_SYS_ADMIN */
	rt_config_t *c = config_with_default_profile();
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		rt_error_t err = {0};
		if (rt__seccomp_load(c->seccomp, &err) < 0) {
			fprintf(stderr, "%s\n", err.msg);
			_exit(101);
		}
		_exit(steps_after_early_load());
	}
	int st = 0;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	if (WEXITSTATUS(st) != 0)
		fail_msg("step %d failed under the default profile loaded without no_new_privs",
			 WEXITSTATUS(st));
	rt_config_free(c);
}

static void test_names_and_errno_ret(void **state)
{
	(void)state;
	uint32_t a;
	int op;
	assert_int_equal(rt__seccomp_action("SCMP_ACT_ERRNO", 38, &a), 0);
	assert_int_equal(a, SCMP_ACT_ERRNO(38));
	assert_int_equal(rt__seccomp_action("SCMP_ACT_NOPE", 0, &a), -1);
	assert_int_equal(rt__seccomp_arch("SCMP_ARCH_X86_64", &a), 0);
	assert_int_equal(a, SCMP_ARCH_X86_64);
	assert_int_equal(rt__seccomp_arch("SCMP_ARCH_VAX", &a), -1);
	assert_int_equal(rt__seccomp_op("SCMP_CMP_MASKED_EQ", &op), 0);
	assert_int_equal(op, SCMP_CMP_MASKED_EQ);
}

/* Parses a config whose linux.seccomp is the JSON text sc. */
static int parse_seccomp(const char *sc, rt_config_t **c, rt_error_t *err)
{
	char text[2048];
	snprintf(text, sizeof(text),
		 "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},"
		 "\"process\":{\"args\":[\"sh\"]},\"linux\":{\"seccomp\":%s}}",
		 sc);
	*c = NULL;
	return rt_config_parse(text, strlen(text), c, err);
}

static void test_flags(void **state)
{
	(void)state;
	rt_config_t *c;
	rt_error_t err = {0};
	if (parse_seccomp("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":["
			  "\"SECCOMP_FILTER_FLAG_LOG\",\"SECCOMP_FILTER_FLAG_SPEC_ALLOW\","
			  "\"SECCOMP_FILTER_FLAG_TSYNC\"]}",
			  &c, &err) != 0)
		fail_msg("%s", err.msg);
	assert_true(c->seccomp->flag_log && c->seccomp->flag_spec_allow && c->seccomp->flag_tsync);
	void *ctx = NULL;
	if (rt__seccomp_prepare(c->seccomp, &ctx, &err) != 0)
		fail_msg("%s", err.msg);
	static const enum scmp_filter_attr attrs[] = {SCMP_FLTATR_CTL_LOG, SCMP_FLTATR_CTL_SSB,
						      SCMP_FLTATR_CTL_TSYNC};
	for (size_t i = 0; i < 3; i++) {
		uint32_t v = 0;
		assert_int_equal(seccomp_attr_get(ctx, attrs[i], &v), 0);
		assert_int_equal(v, 1);
	}
	seccomp_release(ctx);
	rt_config_free(c);
	/* none given: none set */
	assert_int_equal(parse_seccomp("{\"defaultAction\":\"SCMP_ACT_ALLOW\"}", &c, &err), 0);
	assert_int_equal(rt__seccomp_prepare(c->seccomp, &ctx, &err), 0);
	uint32_t v = 1;
	assert_int_equal(seccomp_attr_get(ctx, SCMP_FLTATR_CTL_LOG, &v), 0);
	assert_int_equal(v, 0);
	seccomp_release(ctx);
	rt_config_free(c);
	/* the filter with flags loads (TSYNC, LOG) */
	assert_int_equal(parse_seccomp("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":["
				       "\"SECCOMP_FILTER_FLAG_LOG\",\"SECCOMP_FILTER_FLAG_TSYNC\"],"
				       "\"syscalls\":[{\"names\":[\"getppid\"],"
				       "\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":33}]}",
				       &c, &err),
			 0);
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
		    rt__seccomp_load(c->seccomp, &err) < 0)
			_exit(100);
		_exit(syscall(SYS_getppid) < 0 && errno == 33 ? 0 : 1);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	rt_config_free(c);
}

static void test_flags_and_notify_errors(void **state)
{
	(void)state;
	rt_config_t *c;
	rt_error_t err = {0};
	assert_int_equal(parse_seccomp("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":["
				       "\"SECCOMP_FILTER_FLAG_LOG\",\"SECCOMP_FILTER_FLAG_NOPE\"]}",
				       &c, &err),
			 -1);
	assert_non_null(strstr(err.msg, "linux.seccomp.flags[1]"));
	rt_config_free(c);
	assert_int_equal(parse_seccomp("{\"defaultAction\":\"SCMP_ACT_NOTIFY\","
				       "\"listenerPath\":\"/run/x.sock\"}",
				       &c, &err),
			 -1);
	assert_non_null(strstr(err.msg, "linux.seccomp.defaultAction"));
	rt_config_free(c);
	assert_int_equal(parse_seccomp("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
				       "{\"names\":[\"mkdir\"],\"action\":\"SCMP_ACT_NOTIFY\"}]}",
				       &c, &err),
			 -1);
	assert_non_null(strstr(err.msg, "linux.seccomp.syscalls[0].action"));
	assert_non_null(strstr(err.msg, "listenerPath"));
	rt_config_free(c);
	/* without a connected listener (rt__seccomp_set_listener): refused */
	assert_int_equal(parse_seccomp("{\"defaultAction\":\"SCMP_ACT_ALLOW\","
				       "\"listenerPath\":\"/run/x.sock\",\"syscalls\":["
				       "{\"names\":[\"mkdir\"],\"action\":\"SCMP_ACT_NOTIFY\"}]}",
				       &c, &err),
			 0);
	assert_true(c->seccomp->has_notify);
	void *ctx = NULL;
	assert_int_equal(rt__seccomp_prepare(c->seccomp, &ctx, &err), -1);
	assert_non_null(strstr(err.msg, "no listener connected"));
	rt_config_free(c);
}

/* SCMP_ACT_NOTIFY end to end in two processes: the child loads a filter
 * notifying getppid with a listener (one end of a socket pair) set; the
 * parent gets the notify fd and the message, and answers the child's
 * getppid with -EXDEV. */
static void test_notify_listener(void **state)
{
	(void)state;
	rt_config_t *c;
	rt_error_t err = {0};
	assert_int_equal(
	    parse_seccomp("{\"defaultAction\":\"SCMP_ACT_ALLOW\","
			  "\"listenerPath\":\"/run/x.sock\",\"listenerMetadata\":\"md\","
			  "\"syscalls\":[{\"names\":[\"getppid\"],"
			  "\"action\":\"SCMP_ACT_NOTIFY\"}]}",
			  &c, &err),
	    0);
	int sp[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		close(sp[0]);
		char *msg = rt__seccomp_listener_message(c->seccomp, "{\"id\":\"x\",\"pid\":7}", 7);
		rt__seccomp_set_listener(sp[1], msg);
		void *ctx = NULL;
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
		    rt__seccomp_prepare(c->seccomp, &ctx, &err) < 0 ||
		    rt__seccomp_apply(ctx, &err) < 0) {
			fprintf(stderr, "%s\n", err.msg);
			_exit(100);
		}
		_exit(syscall(SYS_getppid) == -1 && errno == EXDEV ? 0 : 1);
	}
	close(sp[1]);
	char buf[1024];
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = {buf, sizeof(buf) - 1};
	struct msghdr mh = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof(u.b)};
	ssize_t n = recvmsg(sp[0], &mh, MSG_CMSG_CLOEXEC);
	assert_true(n > 0);
	buf[n] = '\0';
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	assert_non_null(cm);
	assert_int_equal(cm->cmsg_type, SCM_RIGHTS);
	int nfd;
	memcpy(&nfd, CMSG_DATA(cm), sizeof(int));
	json_t *m = json_loads(buf, 0, NULL);
	assert_non_null(m);
	assert_string_equal(json_string_value(json_object_get(m, "metadata")), "md");
	assert_string_equal(json_string_value(json_array_get(json_object_get(m, "fds"), 0)),
			    "seccompFd");
	assert_int_equal(json_integer_value(json_object_get(m, "pid")), 7);
	assert_string_equal(json_string_value(json_object_get(json_object_get(m, "state"), "id")),
			    "x");
	json_decref(m);
	struct seccomp_notif req;
	memset(&req, 0, sizeof(req));
	assert_int_equal(ioctl(nfd, SECCOMP_IOCTL_NOTIF_RECV, &req), 0);
	assert_int_equal(req.pid, pid);
	assert_int_equal(req.data.nr, SYS_getppid);
	struct seccomp_notif_resp resp = {.id = req.id, .error = -EXDEV};
	assert_int_equal(ioctl(nfd, SECCOMP_IOCTL_NOTIF_SEND, &resp), 0);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	close(nfd);
	close(sp[0]);
	rt_config_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_profile_shape),
	    cmocka_unit_test(test_profile_builds_filter),
	    cmocka_unit_test(test_profile_enforced),
	    cmocka_unit_test(test_filter_leaves_no_new_privs_alone),
	    cmocka_unit_test(test_default_profile_allows_the_steps_after_an_early_load),
	    cmocka_unit_test(test_names_and_errno_ret),
	    cmocka_unit_test(test_flags),
	    cmocka_unit_test(test_flags_and_notify_errors),
	    cmocka_unit_test(test_notify_listener),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
