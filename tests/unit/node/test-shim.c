/* The nodelet's side of nodelet-shim: reading status-dir/pid and exit.json,
 * the launch protocol (against stand-in shim scripts), pidfd refusals. */
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
} fixture_t;

static int setup(void **state)
{
	fixture_t *f = calloc(1, sizeof *f);
	snprintf(f->dir, sizeof f->dir, "/tmp/test-shim.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture_t *f = *state;
	char cmd[400];
	snprintf(cmd, sizeof cmd, "rm -rf --one-file-system '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static void put(fixture_t *f, const char *name, const char *text, mode_t mode)
{
	char path[400];
	snprintf(path, sizeof path, "%s/%s", f->dir, name);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	chmod(path, mode);
}

static void test_read_pids(void **state)
{
	fixture_t *f = *state;
	rt_error_t err = {0};
	pid_t s = 0, c = 0;
	assert_int_equal(node_shim_read_pids(f->dir, &s, &c, &err), -1);
	assert_int_equal(err.errnum, ENOENT);
	put(f, "pid", "123 456\n", 0644);
	assert_int_equal(node_shim_read_pids(f->dir, &s, &c, &err), 0);
	assert_int_equal(s, 123);
	assert_int_equal(c, 456);
	put(f, "pid", "123\n", 0644);
	assert_int_equal(node_shim_read_pids(f->dir, &s, &c, &err), -1);
	assert_int_equal(err.errnum, EINVAL);
	assert_non_null(strstr(err.msg, "/pid"));
}

static void test_read_exit(void **state)
{
	fixture_t *f = *state;
	rt_error_t err = {0};
	node_exit_status_t st;
	assert_int_equal(node_shim_read_exit(f->dir, &st, &err), 0);
	assert_false(st.exited);

	put(f, "exit.json",
	    "{\"exitCode\": 137, \"signal\": 9, \"reason\": \"OOMKilled\", \"oomKilled\": true, "
	    "\"startedAt\": 1795943411000, \"finishedAt\": 1795943412500}",
	    0644);
	assert_int_equal(node_shim_read_exit(f->dir, &st, &err), 0);
	assert_true(st.exited);
	assert_int_equal(st.exit_code, 137);
	assert_int_equal(st.signal, 9);
	assert_true(st.oom_killed);
	assert_string_equal(st.reason, "OOMKilled");
	assert_int_equal(st.started_at, 1795943411000LL);
	assert_int_equal(st.finished_at, 1795943412500LL);

	put(f, "exit.json", "{\"exitCode\": 0}", 0644);
	assert_int_equal(node_shim_read_exit(f->dir, &st, &err), 0);
	assert_string_equal(st.reason, "Completed");
	assert_false(st.oom_killed);

	put(f, "exit.json", "{\"exitCode\": ", 0644);
	assert_int_equal(node_shim_read_exit(f->dir, &st, &err), -1);
	assert_non_null(strstr(err.msg, "exit.json"));
}

/* A stand-in shim: a script that answers the way nodelet-shim's front does. */
static int launch(fixture_t *f, const char *script, pid_t *s, pid_t *c, rt_error_t *err)
{
	put(f, "fake-shim", script, 0755);
	char shim[400], status[400];
	snprintf(shim, sizeof shim, "%s/fake-shim", f->dir);
	snprintf(status, sizeof status, "%s/status", f->dir);
	node_shim_opts_t o = {.shim_path = shim,
			      .id = "abc-web",
			      .bundle = "/nonexistent/bundle",
			      .state_root = "/nonexistent/run",
			      .log_path = "/nonexistent/0.log",
			      .status_dir = status};
	return node_shim_launch(&o, s, c, err);
}

static void test_launch_protocol(void **state)
{
	fixture_t *f = *state;
	rt_error_t err = {0};
	pid_t s = 0, c = 0;
	/* The arguments arrive as documented. */
	assert_int_equal(launch(f,
				"#!/bin/sh\n"
				"printf '%s\\n' \"$@\" >\"$(dirname \"$0\")/args\"\n"
				"echo 'ok 4321 8765'\n",
				&s, &c, &err),
			 0);
	char path[400], args[1024] = "", want[1024];
	snprintf(path, sizeof path, "%s/args", f->dir);
	FILE *fp = fopen(path, "r");
	assert_non_null(fp);
	size_t n = fread(args, 1, sizeof args - 1, fp);
	args[n] = '\0';
	fclose(fp);
	snprintf(want, sizeof want,
		 "--id\nabc-web\n--bundle\n/nonexistent/bundle\n--state-root\n/nonexistent/run\n"
		 "--status-dir\n%s/status\n--log\n/nonexistent/0.log\n",
		 f->dir);
	assert_string_equal(args, want);
	assert_int_equal(s, 4321);
	assert_int_equal(c, 8765);

	assert_int_equal(launch(f,
				"#!/bin/sh\necho 'creating container `x`: no such image' >&2\n"
				"exit 1\n",
				&s, &c, &err),
			 -1);
	assert_string_equal(err.msg, "creating container `x`: no such image");

	assert_int_equal(launch(f, "#!/bin/sh\nexit 3\n", &s, &c, &err), -1);
	assert_non_null(strstr(err.msg, "exit status 3"));

	/* "ok" but a failing status is a failure. */
	assert_int_equal(launch(f, "#!/bin/sh\necho 'ok 1 2'\nexit 1\n", &s, &c, &err), -1);

	assert_int_equal(launch(f, "#!/bin/sh\nkill -9 $$\n", &s, &c, &err), -1);
	assert_non_null(strstr(err.msg, "signal 9"));

	rt_error_t e2 = {0};
	node_shim_opts_t o = {.shim_path = "/nonexistent/nodelet-shim",
			      .id = "x",
			      .bundle = "/b",
			      .state_root = "/r",
			      .status_dir = "/s"};
	assert_int_equal(node_shim_launch(&o, &s, &c, &e2), -1);
	assert_non_null(strstr(e2.msg, "/nonexistent/nodelet-shim"));
}

static void test_pidfd_refusals(void **state)
{
	(void)state;
	rt_error_t err = {0};
	/* This process is no nodelet-shim. */
	assert_int_equal(node_shim_pidfd(getpid(), "abc-web", &err), -1);
	assert_int_equal(err.errnum, ESRCH);
	/* No such process (pid_max is below this). */
	assert_int_equal(node_shim_pidfd(99999999, "abc-web", &err), -1);
	assert_non_null(strstr(err.msg, "99999999"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_read_pids, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_exit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_launch_protocol, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pidfd_refusals, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
