/* The cgroup v2 device program (ebpf.c): the instructions it generates,
 * run through a small interpreter of the few opcodes it uses and compared
 * with the rules read by hand (in order, the last match wins, no match
 * denies); and, as root on a host with a cgroup2 tree at
 * /sys/fs/cgroup/unified, loaded and attached for real through the v2
 * driver, with a child moved into the cgroup trying to open devices. */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/magic.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "runtime/cgroup-internal.h"
#include "runtime/rt-internal.h"

/* Runs prog on (type, access, major, minor); fails the test on an opcode the
 * generator should not emit, a jump out of the program or a loop. */
static int run(const struct bpf_insn *p, size_t n, uint32_t type, uint32_t acc, uint32_t maj,
	       uint32_t min)
{
	uint32_t ctx[3] = {(acc << 16) | type, maj, min};
	uint64_t r[11] = {0};
	size_t pc = 0;
	for (int steps = 0; steps < 4096; steps++) {
		assert_true(pc < n);
		const struct bpf_insn *i = &p[pc++];
		uint64_t src =
		    BPF_SRC(i->code) == BPF_X ? r[i->src_reg] : (uint64_t)(int64_t)i->imm;
		switch (BPF_CLASS(i->code)) {
		case BPF_LDX:
			assert_int_equal(i->code, BPF_LDX | BPF_MEM | BPF_W);
			assert_int_equal(i->src_reg, BPF_REG_1);
			assert_true(i->off >= 0 && i->off <= 8 && i->off % 4 == 0);
			r[i->dst_reg] = ctx[i->off / 4];
			break;
		case BPF_ALU64:
			switch (BPF_OP(i->code)) {
			case BPF_MOV:
				r[i->dst_reg] = src;
				break;
			case BPF_AND:
				r[i->dst_reg] &= src;
				break;
			case BPF_RSH:
				r[i->dst_reg] >>= src;
				break;
			default:
				fail_msg("unexpected alu op %#x at %zu", i->code, pc - 1);
			}
			break;
		case BPF_JMP:
			if (BPF_OP(i->code) == BPF_EXIT)
				return (int)r[0];
			assert_int_equal(BPF_OP(i->code), BPF_JNE);
			assert_true(i->off >= 0);
			if (r[i->dst_reg] != src)
				pc += (size_t)i->off;
			break;
		default:
			fail_msg("unexpected opcode %#x at %zu", i->code, pc - 1);
		}
	}
	fail_msg("program did not exit");
	return -1;
}

/* The rules read by hand. */
static int expect(const rt__dev_rule_t *rules, size_t n, char type, const char *acc, int maj,
		  int min)
{
	int verdict = 0;
	for (size_t i = 0; i < n; i++) {
		const rt__dev_rule_t *r = &rules[i];
		const char *ra = r->access[0] ? r->access : "rwm";
		bool m = (r->type == 'a' || r->type == type) &&
			 (r->type == 'a' || r->major < 0 || r->major == maj) &&
			 (r->type == 'a' || r->minor < 0 || r->minor == min) &&
			 strspn(acc, ra) == strlen(acc);
		if (m)
			verdict = r->allow;
	}
	return verdict;
}

static uint32_t acc_bits(const char *a)
{
	uint32_t b = 0;
	for (; *a; a++)
		b |= *a == 'r'	 ? BPF_DEVCG_ACC_READ
		     : *a == 'w' ? BPF_DEVCG_ACC_WRITE
				 : BPF_DEVCG_ACC_MKNOD;
	return b;
}

static void check_all(const rt__dev_rule_t *rules, size_t n)
{
	struct bpf_insn *p = NULL;
	size_t np = rt__ebpf_dev_program(rules, n, &p);
	assert_true(np > 0);
	static const char *const accs[] = {"r", "w", "m", "rw", "rwm"};
	static const int devs[][2] = {{1, 3}, {1, 5}, {1, 11}, {8, 0}, {136, 4}, {10, 200}};
	for (int t = 0; t < 2; t++)
		for (size_t a = 0; a < 5; a++)
			for (size_t d = 0; d < 6; d++) {
				char type = t ? 'b' : 'c';
				int want = expect(rules, n, type, accs[a], devs[d][0], devs[d][1]);
				int got = run(p, np, t ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR,
					      acc_bits(accs[a]), (uint32_t)devs[d][0],
					      (uint32_t)devs[d][1]);
				if (want != got)
					fail_msg("%c %d:%d %s: program says %d, rules say %d", type,
						 devs[d][0], devs[d][1], accs[a], got, want);
			}
	free(p);
}

static void test_program_semantics(void **state)
{
	(void)state;
	/* nothing: deny all */
	check_all(NULL, 0);
	/* deny all, then a few allows, then a narrower deny */
	const rt__dev_rule_t r1[] = {
	    {false, 'a', -1, -1, "rwm"}, {true, 'c', 1, 3, "rwm"}, {true, 'c', 1, 11, "r"},
	    {true, 'b', 8, -1, "rw"},	 {false, 'c', 1, 3, "w"},  {true, 'c', 136, -1, ""},
	};
	check_all(r1, sizeof(r1) / sizeof(r1[0]));
	/* allow all first, then denies: the later rules win */
	const rt__dev_rule_t r2[] = {
	    {true, 'a', -1, -1, ""}, {false, 'c', 1, -1, "rwm"}, {true, 'c', 1, 5, "r"}};
	check_all(r2, sizeof(r2) / sizeof(r2[0]));
	/* the user's rules with the defaults after them, as the driver loads */
	rt__dev_rule_t r3[16] = {{false, 'a', -1, -1, "rwm"}, {true, 'c', 1, 11, "r"}};
	memcpy(r3 + 2, rt__dev_defaults, rt__ndev_defaults * sizeof(r3[0]));
	check_all(r3, 2 + rt__ndev_defaults);
}

static void test_program_shape(void **state)
{
	(void)state;
	/* a final allow-all matches always: nothing after it, no deny tail
	 * (the verifier refuses unreachable instructions) */
	const rt__dev_rule_t r[] = {{false, 'c', 1, 3, "rwm"}, {true, 'a', -1, -1, "rwm"}};
	struct bpf_insn *p = NULL;
	size_t n = rt__ebpf_dev_program(r, 2, &p);
	assert_int_equal(n, 6 + 2); /* prologue, mov r0 1, exit */
	assert_int_equal(p[n - 2].imm, 1);
	assert_int_equal(p[n - 1].code, BPF_JMP | BPF_EXIT);
	free(p);
	/* a full rule: type, access (3), major, minor, mov, exit */
	const rt__dev_rule_t r1[] = {{true, 'c', 1, 3, "r"}};
	n = rt__ebpf_dev_program(r1, 1, &p);
	assert_int_equal(n, 6 + 8 + 2);
	assert_int_equal(p[6].off, 7); /* type mismatch skips to the deny tail */
	free(p);
}

static bool can_open(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* Real: a cgroup under /sys/fs/cgroup/unified with the program attached by
 * the driver; a child moved into it reports which opens work. */
static void test_real_attach(void **state)
{
	(void)state;
	const char *root = "/sys/fs/cgroup/unified";
	struct statfs fs;
	if (geteuid() != 0 || statfs(root, &fs) < 0 || fs.f_type != CGROUP2_SUPER_MAGIC ||
	    access("/dev/kmsg", F_OK) < 0)
		skip();
	rt__cgroup_driver_t d;
	rt__cgroup_v2_driver(root, &d);
	char path[64], full[128];
	snprintf(path, sizeof(path), "ocirun-unit-ebpf-%d", (int)getpid());
	snprintf(full, sizeof(full), "%s/%s", root, path);
	rt_error_t err = {0};
	if (d.ops->create(&d, path, NULL, &err) != 0)
		fail_msg("%s", err.msg);
	/* deny everything, allow /dev/kmsg (c 1:11) for reading only; the
	 * defaults (/dev/null among them) come after */
	rt__dev_rule_t rules[] = {{false, 'a', -1, -1, "rwm"}, {true, 'c', 1, 11, "r"}};
	rt__cgroup_extra_t x = {.devices = rules, .ndevices = 2, .memory_swappiness = -1};
	if (d.ops->set_extra(&d, path, &x, &err) != 0) {
		rmdir(full);
		fail_msg("%s", err.msg);
	}
	int pfd[2], rfd[2];
	assert_int_equal(pipe(pfd), 0);
	assert_int_equal(pipe(rfd), 0);
	pid_t pid = fork();
	if (pid == 0) {
		char c;
		close(pfd[1]);
		close(rfd[0]);
		(void)!read(pfd[0], &c, 1); /* wait to be moved */
		int e = 0;
		char res[5];
		res[0] = can_open("/dev/kmsg", O_RDONLY) ? 'y' : 'n';
		res[1] = can_open("/dev/kmsg", O_WRONLY) ? 'y' : (e = errno, 'n');
		res[2] = can_open("/dev/null", O_WRONLY) ? 'y' : 'n';
		res[3] = can_open("/dev/mem", O_RDONLY) ? 'y' : 'n';
		res[4] = e == EPERM ? 'p' : 'x';
		(void)!write(rfd[1], res, sizeof(res));
		_exit(0);
	}
	close(pfd[0]);
	close(rfd[1]);
	int rc = d.ops->enter(&d, path, pid, &err);
	close(pfd[1]);
	char res[6] = "";
	ssize_t got = read(rfd[0], res, 5);
	close(rfd[0]);
	int status;
	waitpid(pid, &status, 0);
	rt_error_t e2;
	assert_int_equal(d.ops->destroy(&d, path, 2000, &e2), 0);
	assert_int_equal(access(full, F_OK), -1);
	assert_int_equal(rc, 0);
	assert_int_equal(got, 5);
	/* kmsg read yes, kmsg write no (EPERM), null write yes, mem no */
	assert_string_equal(res, "ynynp");
}

/* The programs attached directly to the cgroup at dir. */
static uint32_t attached(const char *dir)
{
	uint32_t ids[16];
	union bpf_attr a;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	memset(&a, 0, sizeof(a));
	a.query.target_fd = (uint32_t)fd;
	a.query.attach_type = BPF_CGROUP_DEVICE;
	a.query.prog_ids = (uint64_t)(uintptr_t)ids;
	a.query.prog_cnt = 16;
	int rc = (int)syscall(SYS_bpf, BPF_PROG_QUERY, &a, sizeof(a));
	close(fd);
	assert_int_equal(rc, 0);
	return a.query.prog_cnt;
}

/* A child moved into the cgroup (by the driver) reports whether it could
 * open /dev/null and /dev/zero for reading: "yn" etc. */
static void probe(const rt__cgroup_driver_t *d, const char *path, char res[3])
{
	int pfd[2], rfd[2];
	rt_error_t err = {0};
	assert_int_equal(pipe(pfd), 0);
	assert_int_equal(pipe(rfd), 0);
	pid_t pid = fork();
	if (pid == 0) {
		char c, r[2];
		close(pfd[1]);
		close(rfd[0]);
		(void)!read(pfd[0], &c, 1);
		r[0] = can_open("/dev/null", O_RDONLY) ? 'y' : 'n';
		r[1] = can_open("/dev/zero", O_RDONLY) ? 'y' : 'n';
		(void)!write(rfd[1], r, 2);
		_exit(0);
	}
	close(pfd[0]);
	close(rfd[1]);
	int rc = d->ops->enter(d, path, pid, &err);
	close(pfd[1]);
	memset(res, 0, 3);
	ssize_t got = read(rfd[0], res, 2);
	close(rfd[0]);
	waitpid(pid, NULL, 0);
	if (rc != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(got, 2);
}

/* A second attach replaces the first program: the new rules hold, even
 * where they allow what the old ones denied, and one program stays. */
static void test_real_reattach_replaces(void **state)
{
	(void)state;
	const char *root = "/sys/fs/cgroup/unified";
	struct statfs fs;
	if (geteuid() != 0 || statfs(root, &fs) < 0 || fs.f_type != CGROUP2_SUPER_MAGIC)
		skip();
	rt__cgroup_driver_t d;
	rt__cgroup_v2_driver(root, &d);
	char path[64], full[128], res[3];
	snprintf(path, sizeof(path), "ocirun-unit-ebpf-re-%d", (int)getpid());
	snprintf(full, sizeof(full), "%s/%s", root, path);
	rt_error_t err = {0};
	if (d.ops->create(&d, path, NULL, &err) != 0)
		fail_msg("%s", err.msg);
	/* first: everything but /dev/null (c 1:3) */
	rt__dev_rule_t r1[] = {{true, 'a', -1, -1, "rwm"}, {false, 'c', 1, 3, "rwm"}};
	/* then: everything but /dev/zero (c 1:5) */
	rt__dev_rule_t r2[] = {{true, 'a', -1, -1, "rwm"}, {false, 'c', 1, 5, "rwm"}};
	int rc1 = rt__ebpf_dev_attach(full, r1, 2, &err);
	uint32_t n1 = rc1 == 0 ? attached(full) : 0;
	char res1[3] = "";
	if (rc1 == 0)
		probe(&d, path, res1);
	int rc2 = rc1 == 0 ? rt__ebpf_dev_attach(full, r2, 2, &err) : -1;
	uint32_t n2 = rc2 == 0 ? attached(full) : 0;
	if (rc2 == 0)
		probe(&d, path, res);
	/* and once more, through the driver (rules + defaults: null allowed) */
	rt__cgroup_extra_t x = {.devices = r1, .ndevices = 2, .memory_swappiness = -1};
	int rc3 = rc2 == 0 ? d.ops->set_extra(&d, path, &x, &err) : -1;
	uint32_t n3 = rc3 == 0 ? attached(full) : 0;
	rt_error_t e2;
	assert_int_equal(d.ops->destroy(&d, path, 2000, &e2), 0);
	assert_int_equal(access(full, F_OK), -1);
	if (rc1 != 0 || rc2 != 0 || rc3 != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(n1, 1);
	assert_string_equal(res1, "ny");
	assert_int_equal(n2, 1);
	assert_string_equal(res, "yn"); /* ALLOW_MULTI alone would give "nn" */
	assert_int_equal(n3, 1);
}

/* A rule the kernel's verifier would refuse cannot be written; a bad
 * cgroup directory is named in the error. */
static void test_attach_bad_dir(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip();
	rt__dev_rule_t r[] = {{true, 'a', -1, -1, "rwm"}};
	rt_error_t err = {0};
	assert_int_equal(rt__ebpf_dev_attach("/nonexistent-cgroup-dir", r, 1, &err), -1);
	assert_non_null(strstr(err.msg, "/nonexistent-cgroup-dir"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_program_semantics), cmocka_unit_test(test_program_shape),
	    cmocka_unit_test(test_real_attach),	      cmocka_unit_test(test_real_reattach_replaces),
	    cmocka_unit_test(test_attach_bad_dir),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
