/* The process and linux fields parsed by linux-process.c (ioPriority,
 * scheduler, consoleSize, apparmorProfile, selinuxLabel, personality,
 * memoryPolicy, mountLabel, intelRdt) and the idmapped mounts of config.c:
 * a good value, a wrong type and an unknown name for each, with errors that
 * name the JSON path and what is allowed. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>

#include <cmocka.h>

#include "runtime/rt-internal.h"

/* A config with proc added to process, mounts as the mounts array and lx
 * added to linux. */
static char *doc(const char *proc, const char *mounts, const char *lx)
{
	static const char *const fmt = "{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"rootfs\"},"
				       "\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\"%s%s},"
				       "\"mounts\":[%s],"
				       "\"linux\":{\"namespaces\":[{\"type\":\"mount\"}]%s%s}}";
	size_t n = strlen(fmt) + strlen(proc) + strlen(mounts) + strlen(lx) + 8;
	char *s = malloc(n);
	assert_non_null(s);
	snprintf(s, n, fmt, proc[0] ? "," : "", proc, mounts, lx[0] ? "," : "", lx);
	return s;
}

static rt_config_t *parse_ok(const char *proc, const char *mounts, const char *lx)
{
	char *s = doc(proc, mounts, lx);
	rt_config_t *c = NULL;
	rt_error_t err = {0};
	if (rt_config_parse(s, strlen(s), &c, &err) != 0)
		fail_msg("parse failed: %s\n%s", err.msg, s);
	free(s);
	return c;
}

/* Parsing fails with a message holding want. */
static void parse_bad(const char *proc, const char *mounts, const char *lx, const char *want)
{
	char *s = doc(proc, mounts, lx);
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

static void test_absent_fields_ask_nothing(void **state)
{
	(void)state;
	rt_config_t *c = parse_ok("", "", "");
	assert_false(c->has_ioprio);
	assert_false(c->has_sched);
	assert_false(c->has_console_size);
	assert_false(c->has_personality);
	assert_false(c->has_mempolicy);
	assert_null(c->apparmor_profile);
	assert_null(c->selinux_label);
	assert_null(c->mount_label);
	rt_config_free(c);
}

static void test_io_priority(void **state)
{
	(void)state;
	rt_config_t *c =
	    parse_ok("\"ioPriority\":{\"class\":\"IOPRIO_CLASS_RT\",\"priority\":3}", "", "");
	assert_true(c->has_ioprio);
	assert_int_equal(c->ioprio_class, 1);
	assert_int_equal(c->ioprio_level, 3);
	rt_config_free(c);
	c = parse_ok("\"ioPriority\":{\"class\":\"IOPRIO_CLASS_IDLE\",\"priority\":0}", "", "");
	assert_int_equal(c->ioprio_class, 3);
	rt_config_free(c);
	parse_bad("\"ioPriority\":\"high\"", "", "", "process.ioPriority: expected object");
	parse_bad("\"ioPriority\":{\"class\":\"IOPRIO_CLASS_NONE\",\"priority\":1}", "", "",
		  "process.ioPriority.class: unknown value `IOPRIO_CLASS_NONE` (expected "
		  "IOPRIO_CLASS_RT, IOPRIO_CLASS_BE, IOPRIO_CLASS_IDLE)");
	parse_bad("\"ioPriority\":{\"class\":2,\"priority\":1}", "", "",
		  "process.ioPriority.class: expected string");
	parse_bad("\"ioPriority\":{\"class\":\"IOPRIO_CLASS_BE\",\"priority\":\"1\"}", "", "",
		  "process.ioPriority.priority: expected integer");
	parse_bad("\"ioPriority\":{\"class\":\"IOPRIO_CLASS_BE\",\"priority\":9}", "", "",
		  "process.ioPriority.priority: 9 out of range [0, 7]");
	parse_bad("\"ioPriority\":{\"priority\":1}", "", "", "process.ioPriority.class: missing");
}

static void test_scheduler(void **state)
{
	(void)state;
	rt_config_t *c =
	    parse_ok("\"scheduler\":{\"policy\":\"SCHED_BATCH\",\"nice\":-5,"
		     "\"flags\":[\"SCHED_FLAG_RESET_ON_FORK\",\"SCHED_FLAG_KEEP_PARAMS\"]}",
		     "", "");
	assert_true(c->has_sched);
	assert_int_equal(c->sched.policy, 3);
	assert_int_equal(c->sched.nice, -5);
	assert_int_equal(c->sched.flags, 0x11);
	rt_config_free(c);
	c = parse_ok("\"scheduler\":{\"policy\":\"SCHED_FIFO\",\"priority\":10}", "", "");
	assert_int_equal(c->sched.policy, 1);
	assert_int_equal(c->sched.priority, 10);
	rt_config_free(c);
	c = parse_ok("\"scheduler\":{\"policy\":\"SCHED_DEADLINE\",\"runtime\":10000000,"
		     "\"deadline\":30000000,\"period\":30000000}",
		     "", "");
	assert_int_equal(c->sched.policy, 6);
	assert_int_equal(c->sched.runtime, 10000000);
	assert_int_equal(c->sched.period, 30000000);
	rt_config_free(c);
	parse_bad("\"scheduler\":[]", "", "", "process.scheduler: expected object");
	parse_bad("\"scheduler\":{\"policy\":\"SCHED_TURBO\"}", "", "",
		  "process.scheduler.policy: unknown value `SCHED_TURBO` (expected SCHED_OTHER");
	parse_bad("\"scheduler\":{}", "", "", "process.scheduler.policy: missing");
	parse_bad("\"scheduler\":{\"policy\":\"SCHED_OTHER\",\"nice\":20}", "", "",
		  "process.scheduler.nice: 20 out of range [-20, 19]");
	parse_bad("\"scheduler\":{\"policy\":\"SCHED_OTHER\",\"nice\":\"low\"}", "", "",
		  "process.scheduler.nice: expected integer");
	parse_bad("\"scheduler\":{\"policy\":\"SCHED_OTHER\",\"flags\":[\"SCHED_FLAG_FAST\"]}", "",
		  "", "process.scheduler.flags[0]: unknown value `SCHED_FLAG_FAST`");
	parse_bad("\"scheduler\":{\"policy\":\"SCHED_OTHER\",\"flags\":[1]}", "", "",
		  "process.scheduler.flags[0]: expected string");
	parse_bad("\"scheduler\":{\"policy\":\"SCHED_OTHER\",\"priority\":3}", "", "",
		  "process.scheduler.priority: only SCHED_FIFO and SCHED_RR take a priority");
	parse_bad("\"scheduler\":{\"policy\":\"SCHED_RR\"}", "", "",
		  "process.scheduler.priority: SCHED_FIFO and SCHED_RR need a priority");
	parse_bad("\"scheduler\":{\"policy\":\"SCHED_BATCH\",\"runtime\":5}", "", "",
		  "process.scheduler: runtime, deadline and period are for SCHED_DEADLINE only");
	parse_bad("\"scheduler\":{\"policy\":\"SCHED_DEADLINE\"}", "", "",
		  "process.scheduler: SCHED_DEADLINE needs runtime and deadline");
}

static void test_console_size(void **state)
{
	(void)state;
	rt_config_t *c =
	    parse_ok("\"terminal\":true,\"consoleSize\":{\"height\":25,\"width\":80}", "", "");
	assert_true(c->has_console_size);
	assert_int_equal(c->console_rows, 25);
	assert_int_equal(c->console_cols, 80);
	rt_config_free(c);
	parse_bad("\"consoleSize\":{\"height\":25}", "", "", "process.consoleSize.width: missing");
	parse_bad("\"consoleSize\":{\"height\":-1,\"width\":80}", "", "",
		  "process.consoleSize.height: -1 out of range [0, 65535]");
	parse_bad("\"consoleSize\":{\"height\":true,\"width\":80}", "", "",
		  "process.consoleSize.height: expected integer");
	parse_bad("\"consoleSize\":80", "", "", "process.consoleSize: expected object");
}

static void test_lsm_fields(void **state)
{
	(void)state;
	rt_config_t *c = parse_ok("\"apparmorProfile\":\"docker-default\","
				  "\"selinuxLabel\":\"system_u:system_r:container_t:s0\"",
				  "", "\"mountLabel\":\"system_u:object_r:container_file_t:s0\"");
	assert_string_equal(c->apparmor_profile, "docker-default");
	assert_string_equal(c->selinux_label, "system_u:system_r:container_t:s0");
	assert_string_equal(c->mount_label, "system_u:object_r:container_file_t:s0");
	rt_config_free(c);
	/* "" asks for nothing */
	c = parse_ok("\"apparmorProfile\":\"\",\"selinuxLabel\":\"\"", "", "\"mountLabel\":\"\"");
	assert_null(c->apparmor_profile);
	assert_null(c->selinux_label);
	assert_null(c->mount_label);
	rt_config_free(c);
	parse_bad("\"apparmorProfile\":1", "", "", "process.apparmorProfile: expected string");
	parse_bad("\"selinuxLabel\":[]", "", "", "process.selinuxLabel: expected string");
	parse_bad("", "", "\"mountLabel\":{}", "linux.mountLabel: expected string");
}

static void test_personality(void **state)
{
	(void)state;
	rt_config_t *c = parse_ok("", "", "\"personality\":{\"domain\":\"LINUX32\"}");
	assert_true(c->has_personality);
	assert_int_equal(c->personality, PER_LINUX32);
	rt_config_free(c);
	c = parse_ok("", "",
		     "\"personality\":{\"domain\":\"LINUX\",\"flags\":[\"ADDR_NO_RANDOMIZE\"]}");
	assert_int_equal(c->personality, PER_LINUX | ADDR_NO_RANDOMIZE);
	rt_config_free(c);
	parse_bad("", "", "\"personality\":\"LINUX\"", "linux.personality: expected object");
	parse_bad("", "", "\"personality\":{\"domain\":\"BSD\"}",
		  "linux.personality.domain: unknown value `BSD` (expected LINUX, LINUX32)");
	parse_bad("", "", "\"personality\":{}", "linux.personality.domain: missing");
	parse_bad("", "", "\"personality\":{\"domain\":\"LINUX\",\"flags\":[\"FAST\"]}",
		  "linux.personality.flags[0]: unknown value `FAST`");
	parse_bad("", "", "\"personality\":{\"domain\":\"LINUX\",\"flags\":\"x\"}",
		  "linux.personality.flags: expected array");
}

static void test_memory_policy(void **state)
{
	(void)state;
	rt_config_t *c =
	    parse_ok("", "",
		     "\"memoryPolicy\":{\"mode\":\"MPOL_INTERLEAVE\",\"nodes\":\"0-3,7\","
		     "\"flags\":[\"MPOL_F_STATIC_NODES\"]}");
	assert_true(c->has_mempolicy);
	assert_int_equal(c->mempolicy.mode, 3);
	assert_int_equal(c->mempolicy.flags, 1U << 15);
	assert_string_equal(c->mempolicy.nodes, "0-3,7");
	rt_config_free(c);
	c = parse_ok("", "", "\"memoryPolicy\":{\"mode\":\"MPOL_LOCAL\"}");
	assert_int_equal(c->mempolicy.mode, 4);
	assert_null(c->mempolicy.nodes);
	rt_config_free(c);
	parse_bad("", "", "\"memoryPolicy\":{\"mode\":\"MPOL_SPREAD\",\"nodes\":\"0\"}",
		  "linux.memoryPolicy.mode: unknown value `MPOL_SPREAD` (expected MPOL_DEFAULT");
	parse_bad("", "", "\"memoryPolicy\":{\"mode\":\"MPOL_BIND\",\"nodes\":0}",
		  "linux.memoryPolicy.nodes: expected string");
	parse_bad("", "", "\"memoryPolicy\":{\"mode\":\"MPOL_BIND\",\"nodes\":\"0-\"}",
		  "linux.memoryPolicy.nodes: expected a node list like \"0-3,7\"");
	parse_bad("", "", "\"memoryPolicy\":{\"mode\":\"MPOL_BIND\"}",
		  "linux.memoryPolicy.nodes: missing (this mode needs at least one node)");
	parse_bad("", "", "\"memoryPolicy\":{\"mode\":\"MPOL_LOCAL\",\"nodes\":\"1\"}",
		  "linux.memoryPolicy.nodes: must be empty for MPOL_DEFAULT and MPOL_LOCAL");
	parse_bad("", "",
		  "\"memoryPolicy\":{\"mode\":\"MPOL_BIND\",\"nodes\":\"0\","
		  "\"flags\":[\"MPOL_F_RELATIVE_NODES\",\"MPOL_F_STATIC_NODES\"]}",
		  "linux.memoryPolicy.flags: MPOL_F_RELATIVE_NODES and MPOL_F_STATIC_NODES");
	parse_bad("", "",
		  "\"memoryPolicy\":{\"mode\":\"MPOL_BIND\",\"nodes\":\"0\",\"flags\":[\"X\"]}",
		  "linux.memoryPolicy.flags[0]: unknown value `X`");
}

static void test_node_lists(void **state)
{
	(void)state;
	unsigned long m[1024 / (sizeof(unsigned long) * CHAR_BIT)];
	int hi;
	memset(m, 0, sizeof(m));
	assert_int_equal(rt__nodelist_parse("0-3,7", m, 1024, &hi), 0);
	assert_int_equal(m[0], 0x8f);
	assert_int_equal(hi, 7);
	memset(m, 0, sizeof(m));
	assert_int_equal(rt__nodelist_parse("1023", m, 1024, &hi), 0);
	assert_int_equal(hi, 1023);
	assert_int_equal(rt__nodelist_parse("", m, 1024, &hi), 0);
	assert_int_equal(hi, -1);
	static const char *const bad[] = {"a",	  "1-",	 "3-1", "1,",	",1",
					  "1024", "0 1", "-1",	"1-2-3"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (rt__nodelist_parse(bad[i], m, 1024, &hi) == 0)
			fail_msg("`%s` accepted", bad[i]);
}

static void test_intel_rdt_is_refused(void **state)
{
	(void)state;
	/* Without resctrl (or with it: not implemented) the field is refused. */
	parse_bad("", "", "\"intelRdt\":{\"closID\":\"gold\",\"l3CacheSchema\":\"L3:0=ff\"}",
		  "linux.intelRdt: ");
	parse_bad("", "", "\"intelRdt\":true", "linux.intelRdt: expected object");
	parse_bad("", "", "\"intelRdt\":{\"closID\":1}", "linux.intelRdt.closID: expected string");
	parse_bad("", "", "\"intelRdt\":{\"closID\":\"../x\"}",
		  "linux.intelRdt.closID: must be a plain directory name");
	parse_bad("", "", "\"intelRdt\":{\"enableMonitoring\":\"yes\"}",
		  "linux.intelRdt.enableMonitoring: expected boolean");
}

static const char *const bind =
    "{\"destination\":\"/data\",\"source\":\"/srv\",\"options\":[\"rbind\"%s],%s}";

static char *mnt(const char *opts, const char *rest)
{
	char *s = malloc(strlen(bind) + strlen(opts) + strlen(rest) + 1);
	assert_non_null(s);
	sprintf(s, bind, opts, rest);
	return s;
}

static void test_idmapped_mounts(void **state)
{
	(void)state;
	char *m =
	    mnt(",\"idmap\"", "\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":10}],"
			      "\"gidMappings\":[{\"containerID\":0,\"hostID\":2000,\"size\":1},"
			      "{\"containerID\":5,\"hostID\":3000,\"size\":2}]");
	rt_config_t *c = parse_ok("", m, "");
	free(m);
	assert_int_equal(c->nmounts, 1);
	const rt_mount_t *mt = &c->mounts[0];
	assert_int_equal(mt->nuid_maps, 1);
	assert_int_equal(mt->uid_maps[0].container, 0);
	assert_int_equal(mt->uid_maps[0].host, 1000);
	assert_int_equal(mt->uid_maps[0].size, 10);
	assert_int_equal(mt->ngid_maps, 2);
	assert_int_equal(mt->gid_maps[1].host, 3000);
	assert_null(mt->data); /* idmap is not a mount(2) option */
	assert_true(mt->flags & MS_REC);
	rt_config_free(c);

	/* ridmap on a plain bind: the whole tree, idmapped */
	c = parse_ok(
	    "",
	    "{\"destination\":\"/d\",\"source\":\"/srv\",\"options\":[\"bind\",\"ridmap\"],"
	    "\"uidMappings\":[{\"containerID\":0,\"hostID\":1,\"size\":1}],"
	    "\"gidMappings\":[{\"containerID\":0,\"hostID\":1,\"size\":1}]}",
	    "");
	assert_true(c->mounts[0].flags & MS_REC);
	assert_null(c->mounts[0].data);
	rt_config_free(c);
	/* idmap without mappings and without a user namespace: refused */
	m = mnt(",\"idmap\"", "\"type\":\"none\"");
	parse_bad("", m, "",
		  "mounts[0].options: `idmap`/`ridmap` without uidMappings and gidMappings needs "
		  "a user namespace");
	free(m);
	m = mnt("", "\"uidMappings\":[{\"containerID\":0,\"hostID\":1,\"size\":1}]");
	parse_bad("", m, "", "mounts[0].gidMappings: missing: an idmapped mount needs both");
	free(m);
	m = mnt("", "\"uidMappings\":{}");
	parse_bad("", m, "", "mounts[0].uidMappings: expected array");
	free(m);
	m = mnt("", "\"uidMappings\":[{\"containerID\":0,\"hostID\":\"1\",\"size\":1}]");
	parse_bad("", m, "", "mounts[0].uidMappings[0].hostID: expected integer");
	free(m);
	m = mnt("", "\"uidMappings\":[{\"containerID\":0,\"size\":1}]");
	parse_bad("", m, "", "mounts[0].uidMappings[0]: containerID, hostID and size are required");
	free(m);
	parse_bad(
	    "",
	    "{\"destination\":\"/t\",\"type\":\"tmpfs\","
	    "\"uidMappings\":[{\"containerID\":0,\"hostID\":1,\"size\":1}],"
	    "\"gidMappings\":[{\"containerID\":0,\"hostID\":1,\"size\":1}]}",
	    "", "mounts[0].uidMappings: only bind mounts (options bind or rbind) can be idmapped");
}

static void test_idmap_with_user_namespace(void **state)
{
	(void)state;
	static const char *const fmt =
	    "{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"rootfs\"},"
	    "\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\"},"
	    "\"mounts\":[{\"destination\":\"/d\",\"source\":\"/"
	    "srv\",%s\"options\":[\"%s\",\"%s\"]%s}],"
	    "\"linux\":{\"namespaces\":[{\"type\":\"mount\"},{\"type\":\"user\"}],"
	    "\"uidMappings\":[{\"containerID\":0,\"hostID\":100000,\"size\":65536}],"
	    "\"gidMappings\":[{\"containerID\":0,\"hostID\":200000,\"size\":65536}]}}";
	static const char *const maps =
	    ",\"uidMappings\":[{\"containerID\":0,\"hostID\":1,\"size\":1}],"
	    "\"gidMappings\":[{\"containerID\":0,\"hostID\":1,\"size\":1}]";
	static const struct {
		const char *type, *bind, *idmap, *extra;
		bool userns, rec;
		size_t nmaps;
	} cases[] = {
	    /* idmap without mappings: the container's user namespace's */
	    {"", "bind", "idmap", "", true, false, 0},
	    {"", "rbind", "ridmap", "", true, true, 0},
	    /* mappings of its own, idmap or not */
	    {"", "bind", "idmap", maps, false, false, 1},
	    {"", "bind", "rw", maps, false, false, 1},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char s[2048];
		snprintf(s, sizeof(s), fmt, cases[i].type, cases[i].bind, cases[i].idmap,
			 cases[i].extra);
		rt_config_t *c = NULL;
		rt_error_t err = {0};
		if (rt_config_parse(s, strlen(s), &c, &err) < 0)
			fail_msg("case %zu: %s", i, err.msg);
		assert_int_equal(c->nmounts, 1);
		assert_int_equal(c->mounts[0].idmap_userns, cases[i].userns);
		assert_int_equal((c->mounts[0].flags & MS_REC) != 0, cases[i].rec);
		assert_int_equal(c->mounts[0].nuid_maps, cases[i].nmaps);
		assert_int_equal(c->mounts[0].ngid_maps, cases[i].nmaps);
		rt_config_free(c);
	}
	/* still only bind mounts */
	char s[2048];
	snprintf(s, sizeof(s), fmt, "\"type\":\"tmpfs\",", "rw", "idmap", "");
	rt_config_t *c = NULL;
	rt_error_t err = {0};
	assert_int_equal(rt_config_parse(s, strlen(s), &c, &err), -1);
	if (strstr(err.msg, "mounts[0].options: only bind mounts") == NULL)
		fail_msg("`%s`", err.msg);
}

static void test_set_process_resets_fields(void **state)
{
	(void)state;
	rt_config_t *c =
	    parse_ok("\"ioPriority\":{\"class\":\"IOPRIO_CLASS_BE\",\"priority\":1},"
		     "\"scheduler\":{\"policy\":\"SCHED_IDLE\"},"
		     "\"apparmorProfile\":\"p\",\"consoleSize\":{\"height\":1,\"width\":2}",
		     "", "\"personality\":{\"domain\":\"LINUX32\"}");
	static const char *const p =
	    "{\"args\":[\"ls\"],\"cwd\":\"/\","
	    "\"ioPriority\":{\"class\":\"IOPRIO_CLASS_IDLE\",\"priority\":0}}";
	rt_error_t err = {0};
	assert_int_equal(rt__config_set_process(c, p, strlen(p), &err), 0);
	assert_true(c->has_ioprio);
	assert_int_equal(c->ioprio_class, 3);
	assert_false(c->has_sched);
	assert_false(c->has_console_size);
	assert_null(c->apparmor_profile);
	assert_true(c->has_personality); /* linux.*, not process: kept */
	static const char *const bad = "{\"args\":[\"ls\"],\"scheduler\":{\"policy\":\"X\"}}";
	assert_int_equal(rt__config_set_process(c, bad, strlen(bad), &err), -1);
	assert_non_null(strstr(err.msg, "process.scheduler.policy: unknown value `X`"));
	rt_config_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_absent_fields_ask_nothing),
	    cmocka_unit_test(test_io_priority),
	    cmocka_unit_test(test_scheduler),
	    cmocka_unit_test(test_console_size),
	    cmocka_unit_test(test_lsm_fields),
	    cmocka_unit_test(test_personality),
	    cmocka_unit_test(test_memory_policy),
	    cmocka_unit_test(test_node_lists),
	    cmocka_unit_test(test_intel_rdt_is_refused),
	    cmocka_unit_test(test_idmapped_mounts),
	    cmocka_unit_test(test_idmap_with_user_namespace),
	    cmocka_unit_test(test_set_process_resets_fields),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
