/* linux.netDevices (linux-netdev.c): the parser's checks (names, the network
 * namespace, unique names in the container), and, as root, the move itself:
 * a forked child unshares a network namespace of its own (the host's is
 * never touched), makes a veth pair there and moves one end into a second
 * namespace (a grandchild's), checking the rename, addresses, up state, the
 * undo after a failure part-way, and rt__netdev_move_out. That part runs
 * only with NODELET_NETDEV_MOVE_TEST=1 (tests/e2e/test_ocirun_netdev.py). */
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
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "runtime/rt-internal.h"

static char *doc(const char *ns, const char *lx)
{
	static const char *const fmt = "{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"rootfs\"},"
				       "\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\"},"
				       "\"linux\":{\"namespaces\":[{\"type\":\"mount\"}%s],%s}}";
	size_t n = strlen(fmt) + strlen(ns) + strlen(lx) + 8;
	char *s = malloc(n);
	assert_non_null(s);
	snprintf(s, n, fmt, ns, lx);
	return s;
}

#define NET ",{\"type\":\"network\"}"

static rt_config_t *parse_ok(const char *ns, const char *lx)
{
	char *s = doc(ns, lx);
	rt_config_t *c = NULL;
	rt_error_t err = {0};
	if (rt_config_parse(s, strlen(s), &c, &err) != 0)
		fail_msg("parse failed: %s\n%s", err.msg, s);
	free(s);
	return c;
}

static void parse_bad(const char *ns, const char *lx, const char *want)
{
	char *s = doc(ns, lx);
	rt_config_t *c = NULL;
	rt_error_t err = {0};
	int rc = rt_config_parse(s, strlen(s), &c, &err);
	if (rc == 0)
		fail_msg("parsed, expected `%s`:\n%s", want, s);
	if (strstr(err.msg, want) == NULL)
		fail_msg("error `%s` lacks `%s`", err.msg, want);
	assert_null(c);
	free(s);
}

static void test_parse_good(void **state)
{
	(void)state;
	rt_config_t *c = parse_ok(NET, "\"netDevices\":{\"eth1\":{\"name\":\"ctr0\"},"
				       "\"veth-x\":{},\"v2\":{\"name\":null},"
				       "\"v3\":{\"name\":\"net%d\"},\"v4\":{\"name\":\"net%d\"}}");
	assert_int_equal(c->nnetdevs, 5);
	assert_string_equal(c->netdevs[0].name, "eth1");
	assert_string_equal(c->netdevs[0].new_name, "ctr0");
	assert_string_equal(c->netdevs[1].name, "veth-x");
	assert_null(c->netdevs[1].new_name);
	assert_null(c->netdevs[2].new_name);
	assert_string_equal(c->netdevs[3].new_name, "net%d");
	rt_config_free(c);
	/* Empty or absent: nothing, and no network namespace needed. */
	c = parse_ok("", "\"netDevices\":{}");
	assert_int_equal(c->nnetdevs, 0);
	rt_config_free(c);
	/* A namespace joined by path is fine (runc allows it too). */
	c = parse_ok(",{\"type\":\"network\",\"path\":\"/run/netns/x\"}",
		     "\"netDevices\":{\"eth1\":{}}");
	assert_int_equal(c->nnetdevs, 1);
	/* 15 bytes is the longest name. */
	rt_config_free(c);
	c = parse_ok(NET, "\"netDevices\":{\"abcdefghijklmno\":{\"name\":\"ABCDEFGHIJKLMNO\"}}");
	rt_config_free(c);
}

static void test_parse_bad(void **state)
{
	(void)state;
	parse_bad(NET, "\"netDevices\":[]", "linux.netDevices: expected object");
	parse_bad("", "\"netDevices\":{\"eth1\":{}}",
		  "linux.netDevices: needs a network namespace");
	parse_bad(NET, "\"netDevices\":{\"eth1\":\"ctr0\"}",
		  "linux.netDevices.eth1: expected object");
	parse_bad(NET, "\"netDevices\":{\"eth1\":{\"name\":7}}",
		  "linux.netDevices.eth1.name: expected string");
	parse_bad(NET, "\"netDevices\":{\"abcdefghijklmnop\":{}}",
		  "`abcdefghijklmnop` is not a valid interface name: it is longer than 15 bytes");
	parse_bad(NET, "\"netDevices\":{\"eth1\":{\"name\":\"abcdefghijklmnop\"}}",
		  "linux.netDevices.eth1.name: `abcdefghijklmnop` is not a valid interface name");
	parse_bad(NET, "\"netDevices\":{\"\":{}}", "it is empty");
	parse_bad(NET, "\"netDevices\":{\"eth1\":{\"name\":\"\"}}",
		  "linux.netDevices.eth1.name: `` is not a valid interface name: it is empty");
	parse_bad(NET, "\"netDevices\":{\"a/b\":{}}", "holds '/', ':' or white space");
	parse_bad(NET, "\"netDevices\":{\"eth1\":{\"name\":\"a b\"}}",
		  "holds '/', ':' or white space");
	parse_bad(NET, "\"netDevices\":{\"eth1\":{\"name\":\"a\\tb\"}}",
		  "holds '/', ':' or white space");
	parse_bad(NET, "\"netDevices\":{\"eth1\":{\"name\":\"a:1\"}}",
		  "holds '/', ':' or white space");
	parse_bad(NET, "\"netDevices\":{\".\":{}}", "cannot be `.` or `..`");
	parse_bad(NET, "\"netDevices\":{\"eth1\":{\"name\":\"..\"}}", "cannot be `.` or `..`");
	parse_bad(NET, "\"netDevices\":{\"eth%d\":{}}", "holds '%'");
	parse_bad(NET, "\"netDevices\":{\"eth1\":{\"name\":\"a%s\"}}", "other than one `%d`");
	parse_bad(NET, "\"netDevices\":{\"eth1\":{\"name\":\"a%d%d\"}}", "other than one `%d`");
	/* Unique in the container: a rename onto another's name, two renames
	 * onto one name. */
	parse_bad(NET, "\"netDevices\":{\"eth1\":{},\"eth2\":{\"name\":\"eth1\"}}",
		  "linux.netDevices.eth2: `eth1` is the container name of `eth1` too");
	parse_bad(NET, "\"netDevices\":{\"eth1\":{\"name\":\"c\"},\"eth2\":{\"name\":\"c\"}}",
		  "linux.netDevices.eth2: `c` is the container name of `eth1` too");
}

/* ---- the move, in namespaces of our own -------------------------------- */

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

/* Output of a command (first 8 KiB). */
static char *out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *out(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	static char buf[8192];
	buf[0] = '\0';
	FILE *p = popen(cmd, "r");
	if (p) {
		size_t n = fread(buf, 1, sizeof(buf) - 1, p);
		buf[n] = '\0';
		pclose(p);
	}
	return buf;
}

/* A process in a new network namespace, paused until killed. */
static pid_t ns_child(void)
{
	int p[2];
	if (pipe(p) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		alarm(120); /* outlives nothing by much if the test dies */
		if (unshare(CLONE_NEWNET) < 0)
			_exit(1);
		(void)!write(p[1], "x", 1);
		for (;;)
			pause();
	}
	close(p[1]);
	char c;
	if (pid < 0 || read(p[0], &c, 1) != 1) {
		close(p[0]);
		return -1;
	}
	close(p[0]);
	return pid;
}

static void ns_child_end(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "line %d: ", __LINE__);                                    \
			fprintf(stderr, __VA_ARGS__);                                              \
			fprintf(stderr, "\n");                                                     \
			return 1;                                                                  \
		}                                                                                  \
	} while (0)

static rt_config_t *cfg_for(const char *ns, const char *devs)
{
	char lx[512];
	snprintf(lx, sizeof(lx), "\"netDevices\":%s", devs);
	char *s = doc(ns, lx);
	rt_config_t *c = NULL;
	rt_error_t err = {0};
	if (rt_config_parse(s, strlen(s), &c, &err) != 0)
		fprintf(stderr, "parse: %s\n", err.msg);
	free(s);
	return c;
}

/* Runs in a child in its own network namespace; 0 when all is well. */
static int move_checks(void)
{
	if (sh("ip link add nd0 type veth peer name nd0p && ip addr add 10.77.0.2/24 dev nd0 && "
	       "ip -6 addr add 2001:db8:77::2/64 dev nd0 nodad && ip link set nd0 up && "
	       "ip link add nd1 type veth peer name nd1p && ip link add ndbr type bridge") != 0)
		return 2;
	rt_error_t err = {0};
	pid_t c = ns_child();
	CHECK(c > 0, "ns child");
	int rc = 1;

	/* 1. rename, addresses, up; then moved back by move_out. */
	rt_config_t *cfg = cfg_for(NET, "{\"nd0\":{\"name\":\"ctr0\"}}");
	if (cfg == NULL)
		goto out;
	if (rt__netdev_move_in(cfg, c, &err) < 0) {
		fprintf(stderr, "move_in: %s\n", err.msg);
		goto out;
	}
	const char *o = out("nsenter --net=/proc/%d/ns/net ip addr show ctr0", (int)c);
	if (!strstr(o, "10.77.0.2/24") || !strstr(o, "2001:db8:77::2/64") || !strstr(o, ",UP")) {
		fprintf(stderr, "in the container:\n%s\n", o);
		goto out;
	}
	if (sh("ip link show nd0 >/dev/null 2>&1") == 0) {
		fprintf(stderr, "nd0 still here\n");
		goto out;
	}
	/* 2. the name is taken now: error before anything moves. */
	rt_config_t *cfg2 = cfg_for(NET, "{\"nd1\":{\"name\":\"ctr0\"}}");
	int r = rt__netdev_move_in(cfg2, c, &err);
	rt_config_free(cfg2);
	if (r == 0 || !strstr(err.msg, "a device named `ctr0` exists in the container's network "
				       "namespace already")) {
		fprintf(stderr, "taken name: %d %s\n", r, err.msg);
		goto out;
	}
	int fd = rt__netdev_open_ns(cfg, c, &err);
	if (fd < 0 || rt__netdev_move_out(cfg, fd, &err) < 0) {
		fprintf(stderr, "move_out: %s\n", err.msg);
		goto out;
	}
	close(fd);
	o = out("ip addr show nd0");
	if (!strstr(o, "10.77.0.2/24") || !strstr(o, "2001:db8:77::2/64") || !strstr(o, ",UP")) {
		fprintf(stderr, "back here:\n%s\n", o);
		goto out;
	}
	rt_config_free(cfg);
	cfg = NULL;

	/* 3. a failure part-way (a bridge cannot change namespace): what
	 * moved comes back, with its addresses and up state. */
	cfg = cfg_for(NET, "{\"nd0\":{\"name\":\"c0\"},\"ndbr\":{}}");
	r = rt__netdev_move_in(cfg, c, &err);
	if (r == 0 || !strstr(err.msg, "linux.netDevices.ndbr: moving it into")) {
		fprintf(stderr, "bridge: %d %s\n", r, err.msg);
		goto out;
	}
	o = out("ip addr show nd0");
	if (!strstr(o, "10.77.0.2/24") || !strstr(o, ",UP")) {
		fprintf(stderr, "after the undo:\n%s\n", o);
		goto out;
	}
	rt_config_free(cfg);
	cfg = NULL;

	/* 4. no such device; the runtime's own namespace; a template; a
	 * namespace joined by path. */
	cfg = cfg_for(NET, "{\"nope0\":{}}");
	r = rt__netdev_move_in(cfg, c, &err);
	if (r == 0 || !strstr(err.msg, "linux.netDevices.nope0: no such device")) {
		fprintf(stderr, "missing: %s\n", err.msg);
		goto out;
	}
	rt_config_free(cfg);
	cfg = cfg_for(NET, "{\"nd1\":{}}");
	r = rt__netdev_move_in(cfg, getpid(), &err);
	if (r == 0 || !strstr(err.msg, "is the runtime's own")) {
		fprintf(stderr, "own namespace: %s\n", err.msg);
		goto out;
	}
	rt_config_free(cfg);
	cfg = cfg_for(NET, "{\"nd1\":{\"name\":\"tp%d\"}}");
	err.msg[0] = '\0';
	if (rt__netdev_move_in(cfg, c, &err) < 0 ||
	    !strstr(out("nsenter --net=/proc/%d/ns/net ip link show tp0", (int)c), "tp0@")) {
		fprintf(stderr, "template: %s\n%s\n", err.msg,
			out("nsenter --net=/proc/%d/ns/net ip link", (int)c));
		goto out;
	}
	rt_config_free(cfg);
	char ns[128];
	snprintf(ns, sizeof(ns), ",{\"type\":\"network\",\"path\":\"/proc/%d/ns/net\"}", (int)c);
	cfg = cfg_for(ns, "{\"nd0\":{}}");
	/* pid 1's namespace would be wrong: the path wins */
	if (rt__netdev_move_in(cfg, 1, &err) < 0 ||
	    !strstr(out("nsenter --net=/proc/%d/ns/net ip addr show nd0", (int)c),
		    "10.77.0.2/24")) {
		fprintf(stderr, "by path: %s\n", err.msg);
		goto out;
	}
	rc = 0;
out:
	rt_config_free(cfg);
	ns_child_end(c);
	return rc;
}

static void test_move(void **state)
{
	(void)state;
	/* Processes and root: not for the plain unit run (TESTING.md); the
	 * e2e suite (test_ocirun_netdev.py) runs it with the variable set. */
	if (getenv("NODELET_NETDEV_MOVE_TEST") == NULL || geteuid() != 0 ||
	    system("command -v ip >/dev/null && command -v nsenter >/dev/null"))
		skip();
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* never hang the suite */
		alarm(60);
		if (unshare(CLONE_NEWNET) < 0)
			_exit(3);
		_exit(move_checks());
	}
	int st = 0;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	if (WEXITSTATUS(st) == 2)
		skip(); /* no veth/bridge here */
	assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_good),
	    cmocka_unit_test(test_parse_bad),
	    cmocka_unit_test(test_move),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
