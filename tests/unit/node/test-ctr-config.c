/* config.json generation for containers and sandboxes: args by Kubernetes'
 * rules, env, cwd, user, namespaces, limits, mounts, annotations. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "node/ctr.h"

typedef struct fixture {
	char dir[256];
	char rootfs[300];
	char bundle[300];
	api_pod_t pod;
	api_container_t ctr;
	rt_image_t img;
	api_kv_t env[4];
	node_ctr_spec_t spec;
} fixture_t;

static char *ep_busybox[] = {"/bin/entry", "--flag", NULL};
static char *cmd_busybox[] = {"serve", "--port=80", NULL};
static char *img_env[] = {"PATH=/img/bin", "LANG=C", "KEEP=image", NULL};

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	fixture_t *f = calloc(1, sizeof *f);
	snprintf(f->dir, sizeof f->dir, "/tmp/test-ctr-config.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->rootfs, sizeof f->rootfs, "%s/rootfs", f->dir);
	snprintf(f->bundle, sizeof f->bundle, "%s/bundle", f->dir);
	mkdir(f->rootfs, 0755);
	char p[400];
	snprintf(p, sizeof p, "%s/etc", f->rootfs);
	mkdir(p, 0755);
	snprintf(p, sizeof p, "%s/etc/passwd", f->rootfs);
	write_file(p, "root:x:0:0:root:/root:/bin/sh\n"
		      "www:x:33:34:www:/var/www:/bin/false\n"
		      "app:x:1000:1001::/home/app:/bin/sh\n");
	snprintf(p, sizeof p, "%s/etc/group", f->rootfs);
	write_file(p, "root:x:0:\nstaff:x:50:\napp:x:1001:\n");

	f->pod.name = "web-1";
	f->pod.namespace_ = "prod";
	f->pod.uid = "0f1e2d3c-aaaa-bbbb-cccc-0123456789ab";
	f->ctr.name = "web";
	f->ctr.image = "busybox";
	f->ctr.resources.requests.cpu_millis = -1;
	f->ctr.resources.requests.memory_bytes = -1;
	f->ctr.resources.limits.cpu_millis = -1;
	f->ctr.resources.limits.memory_bytes = -1;
	f->img.ref = "busybox:latest";
	f->img.entrypoint = ep_busybox;
	f->img.cmd = cmd_busybox;
	f->img.env = img_env;
	f->img.working_dir = "/srv";
	f->spec = (node_ctr_spec_t){
	    .pod = &f->pod,
	    .ctr = &f->ctr,
	    .image = &f->img,
	    .rootfs = f->rootfs,
	    .bundle_dir = f->bundle,
	    .sandbox_pid = 4242,
	    .cgroup_path = "nodelet/pod-0f1e/web",
	    .hosts_file = NULL,
	};
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture_t *f = *state;
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf --one-file-system '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

/* Writes the config and parses it back. */
static json_t *gen(fixture_t *f)
{
	rt_error_t err = {0};
	int rc = node_ctr_write_config(&f->spec, &err);
	if (rc != 0)
		fail_msg("node_ctr_write_config: %s", err.msg);
	char path[400];
	snprintf(path, sizeof path, "%s/config.json", f->bundle);
	json_error_t je;
	json_t *j = json_load_file(path, 0, &je);
	if (j == NULL)
		fail_msg("config.json: %s", je.text);
	return j;
}

static void assert_strv(json_t *a, const char *const *want)
{
	size_t n = 0;
	while (want[n] != NULL)
		n++;
	assert_true(json_is_array(a));
	assert_int_equal(json_array_size(a), n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(json_string_value(json_array_get(a, i)), want[i]);
}

static json_t *at(json_t *j, const char *a, const char *b)
{
	json_t *x = json_object_get(j, a);
	return b ? json_object_get(x, b) : x;
}

static void test_args_from_image(void **state)
{
	fixture_t *f = *state;
	json_t *j = gen(f);
	assert_strv(at(j, "process", "args"),
		    (const char *[]){"/bin/entry", "--flag", "serve", "--port=80", NULL});
	json_decref(j);
}

static void test_command_drops_image_cmd(void **state)
{
	fixture_t *f = *state;
	char *command[] = {"/bin/sh", "-c", "echo hi", NULL};
	f->ctr.command = command;
	json_t *j = gen(f);
	assert_strv(at(j, "process", "args"), (const char *[]){"/bin/sh", "-c", "echo hi", NULL});
	json_decref(j);
}

static void test_args_keep_image_entrypoint(void **state)
{
	fixture_t *f = *state;
	char *args[] = {"other", NULL};
	f->ctr.args = args;
	json_t *j = gen(f);
	assert_strv(at(j, "process", "args"),
		    (const char *[]){"/bin/entry", "--flag", "other", NULL});
	char *command[] = {"/bin/x", NULL};
	f->ctr.command = command;
	json_decref(j);
	j = gen(f);
	assert_strv(at(j, "process", "args"), (const char *[]){"/bin/x", "other", NULL});
	json_decref(j);
}

static void test_expansion(void **state)
{
	fixture_t *f = *state;
	f->env[0] = (api_kv_t){"GREETING", "hello"};
	f->env[1] = (api_kv_t){"MSG", "$(GREETING) world"};
	f->env[2] = (api_kv_t){"LATER", "$(UNSET) $$(GREETING) $(GREETING"};
	f->ctr.env.items = f->env;
	f->ctr.env.n = 3;
	char *command[] = {"echo", "$(MSG)", "$$(MSG)", "$(NOPE)", "a$$b", "$(LANG)", NULL};
	f->ctr.command = command;
	json_t *j = gen(f);
	/* Image env (LANG) is not the pod's: it stays unexpanded, as kubelet does. */
	assert_strv(at(j, "process", "args"), (const char *[]){"echo", "hello world", "$(MSG)",
							       "$(NOPE)", "a$b", "$(LANG)", NULL});
	json_t *env = at(j, "process", "env");
	bool seen_later = false;
	for (size_t i = 0; i < json_array_size(env); i++)
		if (strcmp(json_string_value(json_array_get(env, i)),
			   "LATER=$(UNSET) $(GREETING) $(GREETING") == 0)
			seen_later = true;
	assert_true(seen_later);
	json_decref(j);
}

static void test_env_order_and_override(void **state)
{
	fixture_t *f = *state;
	f->env[0] = (api_kv_t){"LANG", "en_US.UTF-8"};
	f->env[1] = (api_kv_t){"EXTRA", "1"};
	f->ctr.env.items = f->env;
	f->ctr.env.n = 2;
	json_t *j = gen(f);
	assert_strv(at(j, "process", "env"),
		    (const char *[]){"PATH=/img/bin", "LANG=en_US.UTF-8", "KEEP=image", "EXTRA=1",
				     "HOSTNAME=web-1", NULL});
	json_decref(j);

	f->img.env = NULL;
	f->ctr.env.n = 0;
	j = gen(f);
	assert_strv(at(j, "process", "env"),
		    (const char *[]){
			"HOSTNAME=web-1",
			"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", NULL});
	json_decref(j);
}

static void test_cwd(void **state)
{
	fixture_t *f = *state;
	json_t *j = gen(f);
	assert_string_equal(json_string_value(at(j, "process", "cwd")), "/srv");
	json_decref(j);
	f->ctr.working_dir = "/work";
	j = gen(f);
	assert_string_equal(json_string_value(at(j, "process", "cwd")), "/work");
	json_decref(j);
	f->ctr.working_dir = NULL;
	f->img.working_dir = NULL;
	j = gen(f);
	assert_string_equal(json_string_value(at(j, "process", "cwd")), "/");
	json_decref(j);
}

static void check_user(fixture_t *f, const char *user, int uid, int gid)
{
	f->img.user = (char *)user;
	json_t *j = gen(f);
	json_t *u = at(j, "process", "user");
	assert_int_equal(json_integer_value(json_object_get(u, "uid")), uid);
	assert_int_equal(json_integer_value(json_object_get(u, "gid")), gid);
	json_decref(j);
}

static void test_user(void **state)
{
	fixture_t *f = *state;
	check_user(f, NULL, 0, 0);
	check_user(f, "", 0, 0);
	check_user(f, "1234", 1234, 0);
	check_user(f, "1234:99", 1234, 99);
	check_user(f, "1000", 1000, 1001); /* primary group from /etc/passwd */
	check_user(f, "www", 33, 34);
	check_user(f, "app:staff", 1000, 50);
	check_user(f, "33:app", 33, 1001);

	rt_error_t err = {0};
	f->img.user = "nobody";
	assert_int_equal(node_ctr_write_config(&f->spec, &err), -1);
	assert_non_null(strstr(err.msg, "no user `nobody`"));
	assert_non_null(strstr(err.msg, "container `web` of pod `web-1`"));
	f->img.user = "app:wheel";
	assert_int_equal(node_ctr_write_config(&f->spec, &err), -1);
	assert_non_null(strstr(err.msg, "no group `wheel`"));
}

/* An image's /etc/passwd that is a symlink out of the rootfs must not be
 * read from the host. */
static void test_user_lookup_stays_in_rootfs(void **state)
{
	fixture_t *f = *state;
	char p[400];
	snprintf(p, sizeof p, "%s/etc/passwd", f->rootfs);
	unlink(p);
	char target[400];
	snprintf(target, sizeof target, "%s/hostpasswd", f->dir);
	write_file(target, "evil:x:7:7::/:/bin/sh\n");
	assert_int_equal(symlink(target, p), 0);
	rt_error_t err = {0};
	f->img.user = "evil";
	assert_int_equal(node_ctr_write_config(&f->spec, &err), -1);
	assert_non_null(strstr(err.msg, "no user `evil`"));
}

static void test_namespaces(void **state)
{
	fixture_t *f = *state;
	json_t *j = gen(f);
	json_t *ns = at(j, "linux", "namespaces");
	assert_int_equal(json_array_size(ns), 5);
	const char *want[][2] = {{"pid", NULL},
				 {"mount", NULL},
				 {"network", "/proc/4242/ns/net"},
				 {"ipc", "/proc/4242/ns/ipc"},
				 {"uts", "/proc/4242/ns/uts"}};
	for (size_t i = 0; i < 5; i++) {
		json_t *n = json_array_get(ns, i);
		assert_string_equal(json_string_value(json_object_get(n, "type")), want[i][0]);
		if (want[i][1] == NULL)
			assert_null(json_object_get(n, "path"));
		else
			assert_string_equal(json_string_value(json_object_get(n, "path")),
					    want[i][1]);
	}
	assert_string_equal(json_string_value(at(j, "linux", "cgroupsPath")),
			    "nodelet/pod-0f1e/web");
	assert_string_equal(json_string_value(at(j, "root", "path")), f->rootfs);
	assert_true(json_is_false(at(j, "root", "readonly")));
	assert_string_equal(json_string_value(json_object_get(j, "hostname")), "web-1");
	assert_string_equal(json_string_value(json_object_get(j, "ociVersion")), "1.0.2");
	json_decref(j);
}

static void test_limits(void **state)
{
	fixture_t *f = *state;
	json_t *j = gen(f);
	json_t *res = at(j, "linux", "resources");
	assert_null(json_object_get(res, "memory"));
	json_t *cpu = json_object_get(res, "cpu");
	assert_int_equal(json_integer_value(json_object_get(cpu, "shares")), 2);
	assert_null(json_object_get(cpu, "quota"));
	json_decref(j);

	f->ctr.resources.limits.memory_bytes = 64 << 20;
	f->ctr.resources.limits.cpu_millis = 500;
	j = gen(f);
	res = at(j, "linux", "resources");
	json_t *mem = json_object_get(res, "memory");
	assert_int_equal(json_integer_value(json_object_get(mem, "limit")), 64 << 20);
	assert_int_equal(json_integer_value(json_object_get(mem, "swap")), 64 << 20);
	cpu = json_object_get(res, "cpu");
	assert_int_equal(json_integer_value(json_object_get(cpu, "quota")), 50000);
	assert_int_equal(json_integer_value(json_object_get(cpu, "period")), 100000);
	assert_int_equal(json_integer_value(json_object_get(cpu, "shares")), 512); /* limit */
	json_decref(j);

	f->ctr.resources.requests.cpu_millis = 250;
	f->ctr.resources.limits.cpu_millis = 5; /* tiny: quota floor 1 ms */
	j = gen(f);
	cpu = at(at(j, "linux", "resources"), "cpu", NULL);
	assert_int_equal(json_integer_value(json_object_get(cpu, "shares")), 256);
	assert_int_equal(json_integer_value(json_object_get(cpu, "quota")), 1000);
	json_decref(j);

	f->ctr.resources.requests.cpu_millis = 1;
	j = gen(f);
	cpu = at(at(j, "linux", "resources"), "cpu", NULL);
	assert_int_equal(json_integer_value(json_object_get(cpu, "shares")), 2);
	json_decref(j);
}

static json_t *find_mount(json_t *j, const char *dst)
{
	json_t *m = json_object_get(j, "mounts");
	for (size_t i = 0; i < json_array_size(m); i++)
		if (strcmp(json_string_value(json_object_get(json_array_get(m, i), "destination")),
			   dst) == 0)
			return json_array_get(m, i);
	return NULL;
}

static bool has_str(json_t *a, const char *s)
{
	for (size_t i = 0; i < json_array_size(a); i++)
		if (strcmp(json_string_value(json_array_get(a, i)), s) == 0)
			return true;
	return false;
}

static void test_mounts_caps_annotations(void **state)
{
	fixture_t *f = *state;
	f->spec.hosts_file = "/var/lib/nodelet/pods/x/hosts";
	json_t *j = gen(f);
	const char *dsts[] = {"/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys"};
	for (size_t i = 0; i < sizeof dsts / sizeof dsts[0]; i++)
		assert_non_null(find_mount(j, dsts[i]));
	assert_true(has_str(json_object_get(find_mount(j, "/sys"), "options"), "ro"));
	json_t *hosts = find_mount(j, "/etc/hosts");
	assert_non_null(hosts);
	assert_string_equal(json_string_value(json_object_get(hosts, "source")),
			    "/var/lib/nodelet/pods/x/hosts");
	assert_true(has_str(json_object_get(hosts, "options"), "ro"));
	assert_string_equal(json_string_value(json_object_get(hosts, "type")), "bind");

	json_t *caps = at(j, "process", "capabilities");
	const char *sets[] = {"bounding", "effective", "permitted"};
	for (size_t i = 0; i < 3; i++) {
		json_t *s = json_object_get(caps, sets[i]);
		assert_int_equal(json_array_size(s), 14);
		assert_true(has_str(s, "CAP_NET_BIND_SERVICE"));
		assert_false(has_str(s, "CAP_SYS_ADMIN"));
	}
	assert_true(json_is_true(at(j, "process", "noNewPrivileges")));
	assert_true(has_str(at(j, "linux", "maskedPaths"), "/proc/kcore"));
	assert_true(has_str(at(j, "linux", "readonlyPaths"), "/proc/sys"));
	/* deny-all device rule (the runtime adds the default nodes) */
	json_t *dev = json_array_get(at(at(j, "linux", "resources"), "devices", NULL), 0);
	assert_true(json_is_false(json_object_get(dev, "allow")));
	assert_string_equal(json_string_value(json_object_get(dev, "access")), "rwm");
	/* the runtime's default seccomp profile, an allowlist */
	json_t *sc = at(j, "linux", "seccomp");
	assert_string_equal(json_string_value(json_object_get(sc, "defaultAction")),
			    "SCMP_ACT_ERRNO");
	assert_true(json_array_size(json_object_get(sc, "syscalls")) > 0);
	json_t *ann = json_object_get(j, "annotations");
	assert_string_equal(json_string_value(json_object_get(ann, "io.kubernetes.pod.name")),
			    "web-1");
	assert_string_equal(json_string_value(json_object_get(ann, "io.kubernetes.pod.namespace")),
			    "prod");
	assert_string_equal(json_string_value(json_object_get(ann, "io.kubernetes.pod.uid")),
			    f->pod.uid);
	assert_string_equal(json_string_value(json_object_get(ann, "io.kubernetes.container.name")),
			    "web");
	json_decref(j);

	f->spec.hosts_file = NULL;
	j = gen(f);
	assert_null(find_mount(j, "/etc/hosts"));
	json_decref(j);
}

static void test_refusals(void **state)
{
	fixture_t *f = *state;
	rt_error_t err = {0};
	f->img.entrypoint = NULL;
	f->img.cmd = NULL;
	assert_int_equal(node_ctr_write_config(&f->spec, &err), -1);
	assert_non_null(strstr(err.msg, "no command"));

	f->img.cmd = cmd_busybox;
	f->spec.rootfs = "relative/rootfs";
	assert_int_equal(node_ctr_write_config(&f->spec, &err), -1);
	assert_non_null(strstr(err.msg, "absolute"));

	/* No image at all: the pod's command alone. */
	f->spec.rootfs = f->rootfs;
	f->spec.image = NULL;
	char *command[] = {"/bin/true", NULL};
	f->ctr.command = command;
	json_t *j = gen(f);
	assert_strv(at(j, "process", "args"), (const char *[]){"/bin/true", NULL});
	json_decref(j);
}

static void test_sandbox(void **state)
{
	fixture_t *f = *state;
	rt_error_t err = {0};
	assert_int_equal(node_sandbox_write_config(&f->pod, f->rootfs, f->bundle,
						   "nodelet/pod-0f1e/_sandbox", &err),
			 0);
	char path[400];
	snprintf(path, sizeof path, "%s/config.json", f->bundle);
	json_t *j = json_load_file(path, 0, NULL);
	assert_non_null(j);
	assert_strv(at(j, "process", "args"), (const char *[]){"/pause", NULL});
	json_t *ns = at(j, "linux", "namespaces");
	assert_int_equal(json_array_size(ns), 5);
	for (size_t i = 0; i < 5; i++)
		assert_null(json_object_get(json_array_get(ns, i), "path"));
	assert_string_equal(json_string_value(at(j, "linux", "cgroupsPath")),
			    "nodelet/pod-0f1e/_sandbox");
	assert_string_equal(json_string_value(json_object_get(j, "hostname")), "web-1");
	assert_int_equal(json_array_size(at(at(j, "process", "capabilities"), "bounding", NULL)),
			 0);
	assert_true(json_is_true(at(j, "process", "noNewPrivileges")));
	assert_non_null(find_mount(j, "/proc"));
	assert_string_equal(json_string_value(at(at(j, "linux", "seccomp"), "defaultAction", NULL)),
			    "SCMP_ACT_ERRNO");
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_args_from_image, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_command_drops_image_cmd, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_args_keep_image_entrypoint, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_expansion, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_env_order_and_override, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cwd, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_user, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_user_lookup_stays_in_rootfs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_namespaces, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mounts_caps_annotations, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sandbox, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
