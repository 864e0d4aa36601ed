/* rt_config_parse: a full config.json, defaults, and bad documents whose
 * errors name the field. */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>

#include <cmocka.h>
#include <seccomp.h>

#include "runtime/rt-internal.h"

static const char *full_config =
    "{\"ociVersion\":\"1.0.2\","
    " \"process\":{\"terminal\":false,\"user\":{\"uid\":1000,\"gid\":100,"
    "   \"additionalGids\":[5,6],\"umask\":18},"
    "   \"args\":[\"sh\",\"-c\",\"true\"],\"env\":[\"PATH=/bin\",\"A=b\"],\"cwd\":\"/work\","
    "   \"capabilities\":{\"bounding\":[\"CAP_CHOWN\",\"CAP_KILL\"],"
    "     \"effective\":[\"CAP_KILL\"],\"permitted\":[\"CAP_KILL\"],\"ambient\":[]},"
    "   \"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":1024,\"soft\":512}],"
    "   \"noNewPrivileges\":true,\"oomScoreAdj\":100},"
    " \"root\":{\"path\":\"rootfs\",\"readonly\":true},"
    " \"hostname\":\"box\","
    " \"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
    "   {\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\","
    "    \"options\":[\"nosuid\",\"strictatime\",\"mode=755\",\"size=65536k\"]},"
    "   "
    "{\"destination\":\"/data\",\"source\":\"/srv\",\"options\":[\"rbind\",\"ro\",\"rprivate\"]}],"
    " \"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"mount\"},"
    "   {\"type\":\"network\",\"path\":\"/proc/42/ns/net\"}],"
    "   \"resources\":{\"memory\":{\"limit\":16777216,\"swap\":33554432},"
    "     \"cpu\":{\"shares\":512,\"quota\":50000,\"period\":100000},\"pids\":{\"limit\":64}},"
    "   \"cgroupsPath\":\"nodelet/pod-1/web\","
    "   \"maskedPaths\":[\"/proc/kcore\"],\"readonlyPaths\":[\"/proc/sys\"],"
    "   \"sysctl\":{\"net.ipv4.ip_forward\":\"1\"},"
    "   \"seccomp\":{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"architectures\":[\"SCMP_ARCH_X86_64\"],"
    "     \"syscalls\":[{\"names\":[\"read\",\"write\"],\"action\":\"SCMP_ACT_ALLOW\"},"
    "       {\"names\":[\"personality\"],\"action\":\"SCMP_ACT_ALLOW\","
    "        \"args\":[{\"index\":0,\"value\":8,\"op\":\"SCMP_CMP_EQ\"}]}]}},"
    " \"annotations\":{\"a\":\"b\"}}";

static rt_config_t *parse_ok(const char *json)
{
	rt_config_t *c = NULL;
	rt_error_t err = {0};
	int rc = rt_config_parse(json, strlen(json), &c, &err);
	if (rc != 0)
		fail_msg("parse failed: %s", err.msg);
	return c;
}

static void test_full(void **state)
{
	(void)state;
	rt_config_t *c = parse_ok(full_config);
	assert_string_equal(c->oci_version, "1.0.2");
	assert_string_equal(c->args[2], "true");
	assert_null(c->args[3]);
	assert_string_equal(c->env[1], "A=b");
	assert_string_equal(c->cwd, "/work");
	assert_int_equal(c->uid, 1000);
	assert_int_equal(c->gid, 100);
	assert_int_equal(c->ngids, 2);
	assert_int_equal(c->additional_gids[1], 6);
	assert_true(c->has_umask);
	assert_int_equal(c->umask, 022);
	assert_true(c->has_caps);
	assert_true(c->caps[RT_CAP_BOUNDING] & (1ULL << 0));  /* CAP_CHOWN */
	assert_true(c->caps[RT_CAP_EFFECTIVE] & (1ULL << 5)); /* CAP_KILL */
	assert_false(c->caps[RT_CAP_EFFECTIVE] & (1ULL << 0));
	assert_int_equal(c->nrlimits, 1);
	assert_int_equal(c->rlimits[0].resource, RLIMIT_NOFILE);
	assert_int_equal(c->rlimits[0].soft, 512);
	assert_true(c->no_new_privs);
	assert_int_equal(c->oom_score_adj, 100);
	assert_string_equal(c->root_path, "rootfs");
	assert_true(c->root_readonly);
	assert_string_equal(c->hostname, "box");
	assert_int_equal(c->nmounts, 3);
	assert_string_equal(c->mounts[1].data, "mode=755,size=65536k");
	assert_true(c->mounts[1].flags & MS_NOSUID);
	assert_true(c->mounts[1].flags & MS_STRICTATIME);
	assert_true(c->mounts[2].bind);
	assert_true(c->mounts[2].flags & MS_REC);
	assert_true(c->mounts[2].flags & MS_RDONLY);
	assert_int_equal(c->mounts[2].propagation, MS_PRIVATE | MS_REC);
	assert_int_equal(c->nnamespaces, 3);
	assert_non_null(rt__config_ns(c, CLONE_NEWPID));
	assert_null(rt__config_ns(c, CLONE_NEWUTS));
	assert_string_equal(rt__config_ns(c, CLONE_NEWNET)->path, "/proc/42/ns/net");
	assert_true(c->has_resources);
	assert_int_equal(c->limits.memory_bytes, 16777216);
	assert_int_equal(c->limits.memory_swap, 33554432);
	assert_int_equal(c->limits.cpu_shares, 512);
	assert_int_equal(c->limits.cpu_quota_us, 50000);
	assert_int_equal(c->limits.cpu_period_us, 100000);
	assert_int_equal(c->limits.pids_max, 64);
	assert_string_equal(c->cgroups_path, "nodelet/pod-1/web");
	assert_string_equal(c->masked_paths[0], "/proc/kcore");
	assert_string_equal(c->readonly_paths[0], "/proc/sys");
	assert_string_equal(c->sysctl_keys[0], "net.ipv4.ip_forward");
	assert_string_equal(c->sysctl_values[0], "1");
	assert_non_null(c->seccomp);
	assert_int_equal(c->seccomp->default_action, SCMP_ACT_ERRNO(EPERM));
	assert_int_equal(c->seccomp->narches, 1);
	assert_int_equal(c->seccomp->arches[0], SCMP_ARCH_X86_64);
	assert_int_equal(c->seccomp->nrules, 2);
	assert_string_equal(c->seccomp->rules[0].names[1], "write");
	assert_int_equal(c->seccomp->rules[1].nargs, 1);
	assert_int_equal(c->seccomp->rules[1].args[0].value, 8);
	assert_int_equal(c->seccomp->rules[1].args[0].op, SCMP_CMP_EQ);
	assert_string_equal(json_string_value(json_object_get(c->annotations, "a")), "b");
	rt_config_free(c);
}

static void test_minimal_defaults(void **state)
{
	(void)state;
	rt_config_t *c = parse_ok("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"/r\"},"
				  "\"process\":{\"args\":[\"x\"]}}");
	assert_string_equal(c->cwd, "/");
	assert_non_null(c->env);
	assert_null(c->env[0]);
	assert_false(c->has_caps);
	assert_false(c->has_resources);
	assert_null(c->cgroups_path);
	assert_null(c->seccomp);
	assert_int_equal(c->nmounts, 0);
	rt_config_free(c);
}

/* Parses json, expects failure with exactly msg. */
static void expect_error(const char *json, const char *msg)
{
	rt_config_t *c = NULL;
	rt_error_t err = {0};
	int rc = rt_config_parse(json, strlen(json), &c, &err);
	if (rc == 0) {
		rt_config_free(c);
		fail_msg("expected failure: %s", msg);
	}
	assert_null(c);
	assert_string_equal(err.msg, msg);
	assert_int_equal(err.errnum, EINVAL);
}

#define BASE "\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"r\"},"
#define PROC "\"process\":{\"args\":[\"sh\"]},"

static void test_errors_name_field(void **state)
{
	(void)state;
	expect_error("{" BASE PROC "\"linux\":{\"resources\":{\"memory\":{\"limit\":\"16M\"}}}}",
		     "linux.resources.memory.limit: expected integer");
	expect_error("{" BASE PROC "\"linux\":{\"resources\":{\"cpu\":{\"shares\":-3}}}}",
		     "linux.resources.cpu.shares: -3 out of range [0, 262144]");
	expect_error("{" BASE "\"process\":{\"args\":[\"sh\", 3]}}",
		     "process.args[1]: expected string");
	expect_error("{" BASE "\"process\":{\"args\":[]}}",
		     "process.args: must hold at least one element");
	expect_error("{" BASE "\"process\":{\"args\":[\"a\"],\"cwd\":\"rel\"}}",
		     "process.cwd: must be an absolute path");
	expect_error("{" BASE "\"process\":{\"args\":[\"a\"],\"terminal\":1}}",
		     "process.terminal: expected boolean");
	expect_error("{" BASE
		     "\"process\":{\"args\":[\"a\"],\"rlimits\":[{\"type\":\"RLIMIT_X\"}]}}",
		     "process.rlimits[0].type: unknown rlimit `RLIMIT_X`");
	expect_error("{" BASE PROC "\"mounts\":[{\"destination\":\"/a\",\"type\":\"tmpfs\"},"
		     "{\"destination\":\"\",\"type\":\"tmpfs\"}]}",
		     "mounts[1].destination: must not be empty");
	expect_error("{" BASE PROC "\"annotations\":{\"\":\"x\"}}",
		     "annotations: a key must not be empty");
	expect_error("{" BASE PROC "\"linux\":{\"maskedPaths\":[\"/a\",\"proc/kcore\"]}}",
		     "linux.maskedPaths[1]: must be an absolute path");
	expect_error("{" BASE PROC "\"linux\":{\"readonlyPaths\":[\"proc\"]}}",
		     "linux.readonlyPaths[0]: must be an absolute path");
	expect_error("{" BASE PROC "\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_KILL\","
		     "\"defaultErrnoRet\":3}}}",
		     "linux.seccomp.defaultErrnoRet: not allowed with action `SCMP_ACT_KILL` (only "
		     "SCMP_ACT_ERRNO and SCMP_ACT_TRACE take an errno)");
	expect_error("{" BASE PROC "\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\","
		     "\"syscalls\":[{\"names\":[\"mkdir\"],\"action\":\"SCMP_ACT_LOG\","
		     "\"errnoRet\":5}]}}}",
		     "linux.seccomp.syscalls[0].errnoRet: not allowed with action `SCMP_ACT_LOG` "
		     "(only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take an errno)");
	expect_error("{" BASE "\"process\":{\"args\":[\"a\"],"
		     "\"execCPUAffinity\":{\"final\":\"0-x\"}}}",
		     "process.execCPUAffinity.final: invalid CPU list `0-x` (expected e.g. "
		     "\"0-3,7\")");
	expect_error("{" BASE "\"process\":{\"args\":[\"a\"],"
		     "\"execCPUAffinity\":{\"initial\":\"3-1\"}}}",
		     "process.execCPUAffinity.initial: invalid CPU range in `3-1` (CPUs 0-1023)");
	expect_error("{" BASE PROC "\"mounts\":[{\"destination\":\"/a\",\"options\":[\"bind\"]}]}",
		     "mounts[0].source: missing for a bind mount");
	expect_error("{" BASE PROC
		     "\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"pid\"}]}}",
		     "linux.namespaces[1].type: namespace `pid` given twice");
	expect_error("{" BASE PROC "\"hooks\":{\"prestart\":[{\"path\":\"rel/x\"}]}}",
		     "hooks.prestart[0].path: must be an absolute path");
	expect_error("{" BASE PROC "\"hooks\":{\"poststop\":[{\"path\":\"/x\",\"timeout\":0}]}}",
		     "hooks.poststop[0].timeout: must be greater than zero");
	expect_error("{" BASE PROC "\"linux\":{\"rootfsPropagation\":\"up\"}}",
		     "linux.rootfsPropagation: expected shared, slave, private or unbindable "
		     "(r-prefixed for recursive)");
	expect_error("{" BASE PROC "\"linux\":{\"namespaces\":[{\"type\":\"bogus\"}]}}",
		     "linux.namespaces[0].type: unknown namespace `bogus`");
	expect_error("{" BASE PROC "\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_NOPE\"}}}",
		     "linux.seccomp.defaultAction: unknown action `SCMP_ACT_NOPE`");
	expect_error(
	    "{" BASE PROC "\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\","
	    "\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ERRNO\","
	    "\"args\":[{\"index\":0,\"op\":\"EQ\"}]}]}}}",
	    "linux.seccomp.syscalls[0].args[0].op: expected SCMP_CMP_EQ, NE, LT, LE, GT, GE "
	    "or MASKED_EQ");
	expect_error("{" BASE PROC "\"linux\":{\"sysctl\":{\"kernel.x\":1}}}",
		     "linux.sysctl.kernel.x: expected string");
	expect_error("{" BASE PROC "\"linux\":{\"cgroupsPath\":\"system.slice:ocirun:x\"}}",
		     "linux.cgroupsPath: systemd slice:prefix:name paths are not supported yet");
	expect_error("{\"root\":{\"path\":\"r\"}," PROC "\"x\":1}", "ociVersion: missing");
	expect_error("{\"ociVersion\":\"1\"," PROC "\"x\":1}", "root: missing");
	expect_error("{" BASE "\"x\":1}", "process: missing");
	expect_error("{" BASE PROC "\"annotations\":{\"k\":1}}", "annotations.k: expected string");
	expect_error("[1]", "expected a JSON object");
	expect_error("{\"a\":", "line 1 column 5: unexpected token near end of file");
}

static void test_load_resolves_paths(void **state)
{
	(void)state;
	char dir[] = "/tmp/test-config-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[128];
	snprintf(path, sizeof(path), "%s/config.json", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("{" BASE PROC "\"mounts\":[{\"destination\":\"/x\",\"source\":\"data\","
	      "\"options\":[\"bind\"]}]}",
	      f);
	fclose(f);
	rt_config_t *c = NULL;
	rt_error_t err = {0};
	assert_int_equal(rt_config_load(dir, &c, &err), 0);
	char want[160];
	snprintf(want, sizeof(want), "%s/r", dir);
	assert_string_equal(c->root_path, want);
	snprintf(want, sizeof(want), "%s/data", dir);
	assert_string_equal(c->mounts[0].source, want);
	rt_config_free(c);
	unlink(path);
	rmdir(dir);
	assert_int_equal(rt_config_load(dir, &c, &err), -1);
	assert_int_equal(err.errnum, ENOENT);
}

/* What issue 3 added to linux: devices, device rules, cpuset, reservation,
 * blockIO weight, id mappings, time offsets, propagation, domainname, hooks. */
static void test_linux_extras(void **state)
{
	(void)state;
	rt_config_t *c =
	    parse_ok("{" BASE PROC "\"domainname\":\"example.org\","
		     "\"hooks\":{\"prestart\":[{\"path\":\"/bin/a\",\"args\":[\"a\",\"1\"],"
		     "\"env\":[\"X=1\"],\"timeout\":5}],\"poststop\":[{\"path\":\"/bin/b\"}]},"
		     "\"linux\":{\"devices\":[{\"path\":\"/dev/fuse\",\"type\":\"c\",\"major\":10,"
		     "\"minor\":229,\"fileMode\":438,\"uid\":0,\"gid\":0}],"
		     "\"resources\":{\"devices\":[{\"allow\":false,\"access\":\"rwm\"},"
		     "{\"allow\":true,\"type\":\"c\",\"major\":1,\"access\":\"r\"}],"
		     "\"memory\":{\"reservation\":1024},\"cpu\":{\"cpus\":\"0-1\",\"mems\":\"0\"},"
		     "\"blockIO\":{\"weight\":300}},"
		     "\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":10}],"
		     "\"gidMappings\":[{\"containerID\":0,\"hostID\":2000,\"size\":10}],"
		     "\"timeOffsets\":{\"boottime\":{\"secs\":5,\"nanosecs\":7}},"
		     "\"rootfsPropagation\":\"rslave\"}}");
	assert_string_equal(c->domainname, "example.org");
	assert_int_equal(c->nhooks[RT_HOOK_PRESTART], 1);
	assert_int_equal(c->hooks[RT_HOOK_PRESTART][0].timeout, 5);
	assert_string_equal(c->hooks[RT_HOOK_PRESTART][0].args[1], "1");
	assert_int_equal(c->nhooks[RT_HOOK_POSTSTOP], 1);
	assert_null(c->hooks[RT_HOOK_POSTSTOP][0].args);
	assert_int_equal(rt__hooks_mask(c), (1U << RT_HOOK_PRESTART) | (1U << RT_HOOK_POSTSTOP));
	assert_int_equal(c->ndevices, 1);
	assert_int_equal(c->devices[0].major, 10);
	assert_int_equal(c->devices[0].mode, 0666);
	/* the two rules only: a linux.devices node gets no allow rule of its
	 * own (crun and runc deny what linux.resources.devices does not allow) */
	assert_int_equal(c->extra.ndevices, 2);
	assert_false(c->extra.devices[0].allow);
	assert_int_equal(c->extra.devices[0].type, 'a');
	assert_int_equal(c->extra.devices[1].minor, -1);
	assert_string_equal(c->extra.devices[1].access, "r");
	assert_int_equal(c->extra.memory_reservation, 1024);
	assert_string_equal(c->extra.cpus, "0-1");
	assert_int_equal(c->extra.blkio_weight, 300);
	assert_int_equal(c->nuid_maps, 1);
	assert_int_equal(c->uid_maps[0].host, 1000);
	assert_int_equal(c->gid_maps[0].host, 2000);
	assert_true(c->has_time_offsets);
	assert_int_equal(c->time_offsets[1][0], 5);
	assert_int_equal(c->time_offsets[1][1], 7);
	assert_int_equal(c->rootfs_propagation, MS_SLAVE | MS_REC);
	rt_config_free(c);
	expect_error("{" BASE PROC "\"linux\":{\"resources\":{\"blockIO\":{\"weight\":5}}}}",
		     "linux.resources.blockIO.weight: 5 out of range [10, 1000]");
	expect_error("{" BASE PROC
		     "\"linux\":{\"devices\":[{\"path\":\"/dev/x\",\"type\":\"c\"}]}}",
		     "linux.devices[0]: major and minor are required for c, b and u");
	expect_error("{" BASE PROC "\"linux\":{\"uidMappings\":[{\"containerID\":0}]}}",
		     "linux.uidMappings[0]: containerID, hostID and size are required");
}

/* linux.resources: every field beyond limits, devices, cpuset and weight. */
#define RES(body) "{" BASE PROC "\"linux\":{\"resources\":{" body "}}}"

static void test_resources_all_fields(void **state)
{
	(void)state;
	rt_config_t *c = parse_ok(RES(
	    "\"memory\":{\"kernel\":-1,\"kernelTCP\":1024,\"swappiness\":0,"
	    "\"disableOOMKiller\":true,\"useHierarchy\":true,\"checkBeforeUpdate\":true},"
	    "\"cpu\":{\"quota\":50000,\"burst\":1000,\"realtimeRuntime\":950000,"
	    "\"realtimePeriod\":1000000,\"idle\":1},"
	    "\"blockIO\":{\"leafWeight\":20,\"weightDevice\":[{\"major\":8,\"minor\":0,"
	    "\"weight\":500,\"leafWeight\":300},{\"major\":8,\"minor\":16,\"weight\":10}],"
	    "\"throttleReadBpsDevice\":[{\"major\":8,\"minor\":0,\"rate\":600}],"
	    "\"throttleWriteBpsDevice\":[{\"major\":8,\"minor\":1,\"rate\":700}],"
	    "\"throttleReadIOPSDevice\":[{\"major\":8,\"minor\":2,\"rate\":800}],"
	    "\"throttleWriteIOPSDevice\":[{\"major\":8,\"minor\":16,\"rate\":300}]},"
	    "\"hugepageLimits\":[{\"pageSize\":\"2MB\",\"limit\":209715200},"
	    "{\"pageSize\":\"64KB\",\"limit\":1000000}],"
	    "\"network\":{\"classID\":1048577,\"priorities\":[{\"name\":\"eth0\",\"priority\":500},"
	    "{\"name\":\"eth1\",\"priority\":1000}]},"
	    "\"rdma\":{\"mlx5_1\":{\"hcaHandles\":3,\"hcaObjects\":10000},"
	    "\"rxe3\":{\"hcaObjects\":10}},"
	    "\"unified\":{\"io.max\":\"259:0 rbps=2097152\",\"hugetlb.1GB.max\":\"1073741824\"}"));
	const rt__cgroup_extra_t *x = &c->extra;
	assert_true(x->has_kernel);
	assert_int_equal(x->memory_swappiness, 0);
	assert_true(x->disable_oom_killer && x->memory_use_hierarchy && x->check_before_update);
	assert_true(x->has_cpu_burst && x->has_cpu_idle);
	assert_int_equal(x->cpu_burst, 1000);
	assert_int_equal(x->cpu_idle, 1);
	assert_int_equal(x->cpu_realtime_runtime, 950000);
	assert_int_equal(x->cpu_realtime_period, 1000000);
	assert_int_equal(x->blkio_leaf_weight, 20);
	assert_int_equal(x->nweight_devices, 2);
	assert_int_equal(x->weight_devices[0].weight, 500);
	assert_int_equal(x->weight_devices[0].leaf_weight, 300);
	assert_int_equal(x->weight_devices[1].minor, 16);
	assert_int_equal(x->weight_devices[1].leaf_weight, 0);
	static const int64_t rates[] = {600, 700, 800, 300}, minors[] = {0, 1, 2, 16};
	for (int k = 0; k < RT_THROTTLE_NKINDS; k++) {
		assert_int_equal(x->nthrottle[k], 1);
		assert_int_equal(x->throttle[k][0].weight, rates[k]);
		assert_int_equal(x->throttle[k][0].minor, minors[k]);
		assert_int_equal(x->throttle[k][0].major, 8);
	}
	assert_int_equal(x->nhugepages, 2);
	assert_string_equal(x->hugepages[1].page_size, "64KB");
	assert_int_equal(x->hugepages[0].limit, 209715200);
	assert_true(x->has_class_id);
	assert_int_equal(x->class_id, 1048577);
	assert_int_equal(x->nnet_prios, 2);
	assert_string_equal(x->net_prios[1].name, "eth1");
	assert_int_equal(x->net_prios[1].priority, 1000);
	assert_non_null(x->rdma);
	assert_int_equal(json_object_size(x->rdma), 2);
	assert_string_equal(json_string_value(json_object_get(x->unified, "hugetlb.1GB.max")),
			    "1073741824");
	assert_true(rt__cgroup_extra_any(x));
	rt_config_free(c);

	/* absent: nothing set, so nothing is applied */
	c = parse_ok(RES("\"memory\":{\"limit\":1048576}"));
	assert_int_equal(c->extra.memory_swappiness, -1);
	assert_false(rt__cgroup_extra_any(&c->extra));
	rt_config_free(c);
	/* an explicit swappiness 0 counts; false booleans ask for nothing */
	c = parse_ok(RES("\"memory\":{\"swappiness\":0,\"disableOOMKiller\":false}"));
	assert_true(rt__cgroup_extra_any(&c->extra));
	assert_false(c->extra.disable_oom_killer);
	rt_config_free(c);
}

static void test_resources_errors(void **state)
{
	(void)state;
	static const char *const cases[][2] = {
	    /* memory */
	    {RES("\"memory\":{\"swappiness\":101}"),
	     "linux.resources.memory.swappiness: 101 out of range [0, 100]"},
	    {RES("\"memory\":{\"swappiness\":\"x\"}"),
	     "linux.resources.memory.swappiness: expected integer"},
	    {RES("\"memory\":{\"disableOOMKiller\":1}"),
	     "linux.resources.memory.disableOOMKiller: expected boolean"},
	    {RES("\"memory\":{\"useHierarchy\":\"yes\"}"),
	     "linux.resources.memory.useHierarchy: expected boolean"},
	    {RES("\"memory\":{\"checkBeforeUpdate\":0}"),
	     "linux.resources.memory.checkBeforeUpdate: expected boolean"},
	    {RES("\"memory\":{\"kernel\":\"1G\"}"),
	     "linux.resources.memory.kernel: expected integer"},
	    {RES("\"memory\":{\"kernelTCP\":-2}"),
	     "linux.resources.memory.kernelTCP: -2 out of range"},
	    /* cpu */
	    {RES("\"cpu\":{\"realtimeRuntime\":1.5}"),
	     "linux.resources.cpu.realtimeRuntime: expected integer"},
	    {RES("\"cpu\":{\"realtimePeriod\":-1}"),
	     "linux.resources.cpu.realtimePeriod: -1 out of range"},
	    {RES("\"cpu\":{\"idle\":2}"), "linux.resources.cpu.idle: 2 out of range [0, 1]"},
	    {RES("\"cpu\":{\"idle\":true}"), "linux.resources.cpu.idle: expected integer"},
	    {RES("\"cpu\":{\"burst\":-5}"), "linux.resources.cpu.burst: -5 out of range"},
	    {RES("\"cpu\":{\"quota\":1000,\"burst\":2000}"),
	     "linux.resources.cpu.burst: must be no larger than linux.resources.cpu.quota"},
	    /* blockIO */
	    {RES("\"blockIO\":{\"leafWeight\":1001}"),
	     "linux.resources.blockIO.leafWeight: 1001 out of range [10, 1000]"},
	    {RES("\"blockIO\":{\"weightDevice\":{}}"),
	     "linux.resources.blockIO.weightDevice: expected array"},
	    {RES("\"blockIO\":{\"weightDevice\":[1]}"),
	     "linux.resources.blockIO.weightDevice[0]: expected object"},
	    {RES("\"blockIO\":{\"weightDevice\":[{\"major\":8,\"minor\":0}]}"),
	     "linux.resources.blockIO.weightDevice[0]: at least one of weight and leafWeight is "
	     "required"},
	    {RES("\"blockIO\":{\"weightDevice\":[{\"major\":8,\"minor\":0,\"weight\":9}]}"),
	     "linux.resources.blockIO.weightDevice[0].weight: 9 out of range [10, 1000]"},
	    {RES("\"blockIO\":{\"weightDevice\":[{\"minor\":0,\"weight\":90}]}"),
	     "linux.resources.blockIO.weightDevice[0].major: missing"},
	    {RES("\"blockIO\":{\"throttleReadBpsDevice\":[{\"major\":8,\"minor\":0,"
		 "\"rate\":\"x\"}]}"),
	     "linux.resources.blockIO.throttleReadBpsDevice[0].rate: expected integer"},
	    {RES("\"blockIO\":{\"throttleWriteBpsDevice\":[{\"major\":8,\"minor\":0}]}"),
	     "linux.resources.blockIO.throttleWriteBpsDevice[0].rate: missing"},
	    {RES("\"blockIO\":{\"throttleReadIOPSDevice\":[{\"major\":8,\"rate\":1}]}"),
	     "linux.resources.blockIO.throttleReadIOPSDevice[0].minor: missing"},
	    {RES("\"blockIO\":{\"throttleWriteIOPSDevice\":[{\"major\":8,\"minor\":0,"
		 "\"rate\":-1}]}"),
	     "linux.resources.blockIO.throttleWriteIOPSDevice[0].rate: -1 out of range"},
	    /* hugepageLimits */
	    {RES("\"hugepageLimits\":{}"), "linux.resources.hugepageLimits: expected array"},
	    {RES("\"hugepageLimits\":[{\"pageSize\":\"2M\",\"limit\":1}]"),
	     "linux.resources.hugepageLimits[0].pageSize: expected a size like `2MB`"},
	    {RES("\"hugepageLimits\":[{\"pageSize\":\"2mb\",\"limit\":1}]"),
	     "linux.resources.hugepageLimits[0].pageSize: expected a size like `2MB`"},
	    {RES("\"hugepageLimits\":[{\"pageSize\":\"../2MB\",\"limit\":1}]"),
	     "linux.resources.hugepageLimits[0].pageSize: expected a size like `2MB`"},
	    {RES("\"hugepageLimits\":[{\"pageSize\":2,\"limit\":1}]"),
	     "linux.resources.hugepageLimits[0].pageSize: expected string"},
	    {RES("\"hugepageLimits\":[{\"pageSize\":\"1GB\"}]"),
	     "linux.resources.hugepageLimits[0].limit: missing"},
	    {RES("\"hugepageLimits\":[{\"limit\":1}]"),
	     "linux.resources.hugepageLimits[0].pageSize: missing"},
	    {RES("\"hugepageLimits\":[{\"pageSize\":\"1GB\",\"limit\":-1}]"),
	     "linux.resources.hugepageLimits[0].limit: -1 out of range"},
	    /* network */
	    {RES("\"network\":{\"classID\":-1}"),
	     "linux.resources.network.classID: -1 out of range"},
	    {RES("\"network\":{\"classID\":4294967296}"),
	     "linux.resources.network.classID: 4294967296 out of range"},
	    {RES("\"network\":{\"priorities\":[{\"name\":\"eth0\"}]}"),
	     "linux.resources.network.priorities[0].priority: missing"},
	    {RES("\"network\":{\"priorities\":[{\"name\":\"eth 0\",\"priority\":1}]}"),
	     "linux.resources.network.priorities[0].name: expected an interface name"},
	    {RES("\"network\":{\"priorities\":[{\"priority\":1}]}"),
	     "linux.resources.network.priorities[0].name: missing"},
	    /* rdma */
	    {RES("\"rdma\":[]"), "linux.resources.rdma: expected object"},
	    {RES("\"rdma\":{\"mlx5_1\":{}}"),
	     "linux.resources.rdma.mlx5_1: at least one of hcaHandles and hcaObjects is required"},
	    {RES("\"rdma\":{\"mlx5_1\":{\"hcaHandles\":\"3\"}}"),
	     "linux.resources.rdma.mlx5_1.hcaHandles: expected integer"},
	    {RES("\"rdma\":{\"mlx5_1\":{\"hcaObjects\":-3}}"),
	     "linux.resources.rdma.mlx5_1.hcaObjects: -3 out of range"},
	    {RES("\"rdma\":{\"a b\":{\"hcaObjects\":3}}"),
	     "linux.resources.rdma.a b: expected a device name"},
	    /* unified */
	    {RES("\"unified\":[]"), "linux.resources.unified: expected object"},
	    {RES("\"unified\":{\"memory.max\":1}"),
	     "linux.resources.unified.memory.max: expected string"},
	    {RES("\"unified\":{\"../../x.max\":\"1\"}"),
	     "linux.resources.unified.../../x.max: expected a cgroup file name"},
	    {RES("\"unified\":{\"a/memory.max\":\"1\"}"),
	     "linux.resources.unified.a/memory.max: expected a cgroup file name"},
	    {RES("\"unified\":{\"memory..max\":\"1\"}"),
	     "linux.resources.unified.memory..max: expected a cgroup file name"},
	    {RES("\"unified\":{\"nodot\":\"1\"}"),
	     "linux.resources.unified.nodot: expected a cgroup file name"},
	    {RES("\"unified\":{\".hidden\":\"1\"}"),
	     "linux.resources.unified..hidden: expected a cgroup file name"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rt_config_t *c = NULL;
		rt_error_t err = {0};
		if (rt_config_parse(cases[i][0], strlen(cases[i][0]), &c, &err) == 0) {
			rt_config_free(c);
			fail_msg("case %zu parsed: %s", i, cases[i][0]);
		}
		if (strncmp(err.msg, cases[i][1], strlen(cases[i][1])) != 0)
			fail_msg("case %zu: got `%s`, want `%s...`", i, err.msg, cases[i][1]);
		assert_int_equal(err.errnum, EINVAL);
	}
}

/* exec -p process.json: the process fields are replaced, the rest kept. */
static void test_set_process(void **state)
{
	(void)state;
	rt_config_t *c = parse_ok(full_config);
	rt_error_t err = {0};
	const char *p = "{\"args\":[\"id\"],\"env\":[\"X=1\"],\"user\":{\"uid\":7,\"gid\":8},"
			"\"capabilities\":{\"bounding\":[\"CAP_KILL\"]}}";
	assert_int_equal(rt__config_set_process(c, p, strlen(p), &err), 0);
	assert_string_equal(c->args[0], "id");
	assert_null(c->args[1]);
	assert_string_equal(c->env[0], "X=1");
	assert_string_equal(c->cwd, "/");
	assert_int_equal(c->uid, 7);
	assert_int_equal(c->gid, 8);
	assert_int_equal(c->ngids, 0);
	assert_int_equal(c->nrlimits, 0);
	assert_false(c->no_new_privs);
	assert_true(c->has_caps);
	assert_int_equal(c->caps[RT_CAP_BOUNDING], 1ULL << 5);
	assert_int_equal(c->caps[RT_CAP_EFFECTIVE], 0);
	assert_string_equal(c->hostname, "box"); /* not a process field: kept */
	assert_non_null(c->seccomp);
	const char *bad_args = "{\"args\":[]}";
	assert_int_equal(rt__config_set_process(c, bad_args, strlen(bad_args), &err), -1);
	assert_string_equal(err.msg, "process.args: must hold at least one element");
	assert_int_equal(rt__config_set_process(c, "[1]", 3, &err), -1);
	assert_string_equal(err.msg, "process: expected object");
	rt_config_free(c);
}

/* Accepted since runtime-spec 1.1/1.2: an unknown capability (a warning,
 * ignored), a relative mount destination (relative to "/"), errnoRet with
 * SCMP_ACT_ERRNO, process.execCPUAffinity. */
static void test_spec_1_2_accepts(void **state)
{
	(void)state;
	rt_config_t *c = parse_ok(
	    "{" BASE "\"process\":{\"args\":[\"a\"],"
	    "\"capabilities\":{\"bounding\":[\"CAP_CHOWN\",\"CAP_NOPE\",\"CAP_KILL\"]},"
	    "\"execCPUAffinity\":{\"initial\":\"0-2,7\",\"final\":\" 65 , 1023\"}},"
	    "\"mounts\":[{\"destination\":\"rel/dir\",\"type\":\"tmpfs\"}],"
	    "\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":1,"
	    "\"syscalls\":[{\"names\":[\"mkdir\"],\"action\":\"SCMP_ACT_TRACE\","
	    "\"errnoRet\":5}]}}}");
	assert_int_equal(c->caps[0], (1ULL << 0) | (1ULL << 5)); /* CHOWN, KILL */
	assert_non_null(c->warnings);
	assert_string_equal(
	    c->warnings[0],
	    "process.capabilities.bounding[1]: unknown capability `CAP_NOPE`, ignored");
	assert_null(c->warnings[1]);
	assert_string_equal(c->mounts[0].destination, "/rel/dir");
	assert_true(c->has_exec_cpus[0] && c->has_exec_cpus[1]);
	assert_int_equal(c->exec_cpus[0][0], 0x87);
	assert_int_equal(c->exec_cpus[1][1], 2);	  /* CPU 65 */
	assert_true(c->exec_cpus[1][15] == (1ULL << 63)); /* CPU 1023 */
	rt_config_free(c);
	c = parse_ok("{" BASE "\"process\":{\"args\":[\"a\"],"
		     "\"execCPUAffinity\":{\"initial\":\"\"}}}");
	assert_false(c->has_exec_cpus[0] || c->has_exec_cpus[1]);
	rt_config_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_full),
	    cmocka_unit_test(test_minimal_defaults),
	    cmocka_unit_test(test_errors_name_field),
	    cmocka_unit_test(test_spec_1_2_accepts),
	    cmocka_unit_test(test_load_resolves_paths),
	    cmocka_unit_test(test_set_process),
	    cmocka_unit_test(test_linux_extras),
	    cmocka_unit_test(test_resources_all_fields),
	    cmocka_unit_test(test_resources_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
