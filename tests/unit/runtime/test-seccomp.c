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
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>

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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_profile_shape),
	    cmocka_unit_test(test_profile_builds_filter),
	    cmocka_unit_test(test_profile_enforced),
	    cmocka_unit_test(test_names_and_errno_ret),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
