/* Device rules on cgroup v2: linux.resources.devices compiled into a
 * BPF_PROG_TYPE_CGROUP_DEVICE program, loaded and attached with the raw bpf()
 * syscall (no libbpf). The semantics are runc's and crun's: the rules are
 * evaluated in order and the last one that matches decides; no match denies.
 * The program checks the rules from the last to the first and returns at the
 * first match. */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <sys/syscall.h>

#include "runtime/rt-internal.h"

/* Registers of the program: r1 the context (struct bpf_cgroup_dev_ctx), r2
 * the device type, r3 the access asked for, r4 the major, r5 the minor. */
static struct bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	return (struct bpf_insn){
	    .code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm};
}

static void push(struct bpf_insn **v, size_t *n, struct bpf_insn i)
{
	*v = rt__xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[(*n)++] = i;
}

static int access_bits(const char *a)
{
	int bits = 0;
	if (a[0] == '\0')
		a = "rwm";
	for (; *a; a++)
		bits |= *a == 'r'   ? BPF_DEVCG_ACC_READ
			: *a == 'w' ? BPF_DEVCG_ACC_WRITE
			: *a == 'm' ? BPF_DEVCG_ACC_MKNOD
				    : 0;
	return bits;
}

/* Appends the block for one rule; returns whether it always matches (the
 * blocks after it would be unreachable, which the verifier refuses). */
static bool rule_block(const rt__dev_rule_t *r, struct bpf_insn **v, size_t *n)
{
	struct bpf_insn b[12];
	size_t k = 0;
	const int all = BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD;
	int acc = access_bits(r->access);
	/* the jumps to the next block get their offset once the block is done */
	if (r->type == 'c' || r->type == 'b')
		b[k++] = insn(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_2, 0, 0,
			      r->type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK);
	if ((acc & all) != all) {
		/* matches when every access asked for is in the rule's */
		b[k++] = insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_3, 0, 0);
		b[k++] = insn(BPF_ALU64 | BPF_AND | BPF_K, BPF_REG_1, 0, 0, acc);
		b[k++] = insn(BPF_JMP | BPF_JNE | BPF_X, BPF_REG_1, BPF_REG_3, 0, 0);
	}
	if (r->type != 'a' && r->major >= 0)
		b[k++] = insn(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_4, 0, 0, (int32_t)r->major);
	if (r->type != 'a' && r->minor >= 0)
		b[k++] = insn(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_5, 0, 0, (int32_t)r->minor);
	bool always = k == 0;
	b[k++] = insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, r->allow ? 1 : 0);
	b[k++] = insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	for (size_t i = 0; i < k; i++)
		if (BPF_CLASS(b[i].code) == BPF_JMP && BPF_OP(b[i].code) == BPF_JNE)
			b[i].off = (int16_t)(k - i - 1);
	for (size_t i = 0; i < k; i++)
		push(v, n, b[i]);
	return always;
}

size_t rt__ebpf_dev_program(const rt__dev_rule_t *rules, size_t nrules, struct bpf_insn **out)
{
	struct bpf_insn *v = NULL;
	size_t n = 0;
	/* r2 = type (low 16 bits), r3 = access (high 16), r4 = major, r5 = minor */
	push(&v, &n, insn(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_1, 0, 0));
	push(&v, &n, insn(BPF_ALU64 | BPF_AND | BPF_K, BPF_REG_2, 0, 0, 0xffff));
	push(&v, &n, insn(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_3, BPF_REG_1, 0, 0));
	push(&v, &n, insn(BPF_ALU64 | BPF_RSH | BPF_K, BPF_REG_3, 0, 0, 16));
	push(&v, &n, insn(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_4, BPF_REG_1, 4, 0));
	push(&v, &n, insn(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_5, BPF_REG_1, 8, 0));
	bool always = false;
	for (size_t i = nrules; i-- > 0 && !always;)
		always = rule_block(&rules[i], &v, &n);
	if (!always) { /* nothing matched: deny */
		push(&v, &n, insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0));
		push(&v, &n, insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
	}
	*out = v;
	return n;
}

static int sys_bpf(int cmd, union bpf_attr *attr)
{
	return (int)syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

static int prog_load(const struct bpf_insn *prog, size_t n, char *log, size_t logsz)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	a.insns = (uint64_t)(uintptr_t)prog;
	a.insn_cnt = (uint32_t)n;
	a.license = (uint64_t)(uintptr_t) "GPL";
	if (log) {
		a.log_buf = (uint64_t)(uintptr_t)log;
		a.log_size = (uint32_t)logsz;
		a.log_level = 1;
	}
	return sys_bpf(BPF_PROG_LOAD, &a);
}

int rt__ebpf_dev_attach(const char *cgroup_dir, const rt__dev_rule_t *rules, size_t nrules,
			rt_error_t *err)
{
	struct bpf_insn *prog = NULL;
	size_t n = rt__ebpf_dev_program(rules, nrules, &prog);
	cleanup_close int pfd = prog_load(prog, n, NULL, 0);
	if (pfd < 0) {
		int e = errno;
		/* load again with the verifier's log, for the message */
		char *log = rt__xmalloc(1 << 16);
		log[0] = '\0';
		int fd2 = prog_load(prog, n, log, 1 << 16);
		if (fd2 >= 0)
			close(fd2);
		size_t l = strlen(log);
		while (l > 0 && log[l - 1] == '\n')
			log[--l] = '\0';
		const char *tail = l > 300 ? log + l - 300 : log;
		rt__error_plain(err, e, "loading the device program (%zu instructions): %s%s%s", n,
				strerror(e), l ? "; verifier: " : "", tail);
		free(log);
		free(prog);
		return -1;
	}
	free(prog);
	cleanup_close int cfd = open(cgroup_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cfd < 0)
		return rt_error_set(err, errno, "opening cgroup `%s`", cgroup_dir);
	/* The programs attached to this very cgroup before (ours, from an
	 * earlier call): with ALLOW_MULTI every one must allow an access, so
	 * the new rules could never widen it while they stay. */
	uint32_t old[64];
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.query.target_fd = (uint32_t)cfd;
	a.query.attach_type = BPF_CGROUP_DEVICE;
	a.query.prog_ids = (uint64_t)(uintptr_t)old;
	a.query.prog_cnt = sizeof(old) / sizeof(old[0]);
	uint32_t nold = sys_bpf(BPF_PROG_QUERY, &a) == 0 ? a.query.prog_cnt : 0;
	if (nold > sizeof(old) / sizeof(old[0]))
		nold = sizeof(old) / sizeof(old[0]);
	memset(&a, 0, sizeof(a));
	a.target_fd = (uint32_t)cfd;
	a.attach_bpf_fd = (uint32_t)pfd;
	a.attach_type = BPF_CGROUP_DEVICE;
	a.attach_flags = BPF_F_ALLOW_MULTI;
	if (sys_bpf(BPF_PROG_ATTACH, &a) < 0)
		return rt_error_set(err, errno, "attaching the device program to cgroup `%s`",
				    cgroup_dir);
	/* Then the old ones go: between the two calls both programs run, and
	 * an access needs both to allow it, so there is no moment with more
	 * access than either set grants. */
	for (uint32_t i = 0; i < nold; i++) {
		memset(&a, 0, sizeof(a));
		a.prog_id = old[i];
		cleanup_close int ofd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &a);
		if (ofd < 0)
			return rt_error_set(err, errno, "opening the old device program %u of `%s`",
					    old[i], cgroup_dir);
		memset(&a, 0, sizeof(a));
		a.target_fd = (uint32_t)cfd;
		a.attach_bpf_fd = (uint32_t)ofd;
		a.attach_type = BPF_CGROUP_DEVICE;
		if (sys_bpf(BPF_PROG_DETACH, &a) < 0 && errno != ENOENT)
			return rt_error_set(err, errno,
					    "detaching the old device program %u from `%s`", old[i],
					    cgroup_dir);
	}
	/* the attachment holds the program; it goes with the cgroup */
	return 0;
}

/* What every container may use besides its rules (runc's and crun's list,
 * as the v1 driver writes it): mknod of any node, the default nodes, ptys. */
const rt__dev_rule_t rt__dev_defaults[] = {
    {true, 'c', -1, -1, "m"}, {true, 'b', -1, -1, "m"},	   {true, 'c', 1, 3, "rwm"},
    {true, 'c', 1, 5, "rwm"}, {true, 'c', 1, 7, "rwm"},	   {true, 'c', 1, 8, "rwm"},
    {true, 'c', 1, 9, "rwm"}, {true, 'c', 5, 0, "rwm"},	   {true, 'c', 5, 1, "rwm"},
    {true, 'c', 5, 2, "rwm"}, {true, 'c', 136, -1, "rwm"}, {true, 'c', 10, 200, "rwm"},
};
const size_t rt__ndev_defaults = sizeof(rt__dev_defaults) / sizeof(rt__dev_defaults[0]);
