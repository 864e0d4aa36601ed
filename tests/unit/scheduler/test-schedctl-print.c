/* schedctl's printers: AGE, STATUS, READY, RESTARTS, node columns, tables. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "scheduler/schedctl.h"

static void test_age(void **state)
{
	(void)state;
	static const struct {
		int64_t s;
		const char *want;
	} cases[] = {
	    {-5, "<invalid>"},
	    {-1, "0s"},
	    {0, "0s"},
	    {45, "45s"},
	    {119, "119s"},
	    {120, "2m"},
	    {192, "3m12s"},
	    {599, "9m59s"},
	    {600, "10m"},
	    {179 * 60 + 59, "179m"},
	    {3 * 3600, "3h"},
	    {5 * 3600 + 30 * 60, "5h30m"},
	    {8 * 3600 + 59 * 60, "8h"},
	    {47 * 3600, "47h"},
	    {2 * 86400, "2d"},
	    {2 * 86400 + 3600, "2d1h"},
	    {8 * 86400 + 3600, "8d"},
	    {400 * 86400, "400d"},
	    {730 * 86400, "2y"},
	    {(730 + 20) * 86400, "2y20d"},
	    {3000 * 86400, "8y"},
	};
	char buf[32];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sc_format_age(cases[i].s, buf, sizeof(buf));
		if (strcmp(buf, cases[i].want))
			fail_msg("age %lld: got %s want %s", (long long)cases[i].s, buf,
				 cases[i].want);
	}
}

static json_t *load(const char *s)
{
	json_error_t e;
	json_t *j = json_loads(s, 0, &e);
	if (!j)
		fail_msg("bad test JSON: %s: %s", e.text, s);
	return j;
}

#define SPEC2 "\"spec\":{\"containers\":[{\"name\":\"a\"},{\"name\":\"b\"}]}"

static void test_pod_status(void **state)
{
	(void)state;
	static const struct {
		const char *json;
		const char *status, *ready;
	} cases[] = {
	    {"{" SPEC2 "}", "Pending", "0/2"},
	    {"{" SPEC2 ",\"status\":{\"phase\":\"Pending\",\"reason\":\"Unschedulable\"}}",
	     "Pending", "0/2"},
	    {"{" SPEC2 ",\"status\":{\"phase\":\"Pending\",\"containerStatuses\":[{\"name\":\"a\","
	     "\"state\":{\"waiting\":{\"reason\":\"ContainerCreating\"}}}]}}",
	     "ContainerCreating", "0/2"},
	    {"{" SPEC2 ",\"status\":{\"phase\":\"Running\",\"containerStatuses\":["
	     "{\"name\":\"a\",\"ready\":true,\"state\":{\"running\":{}}},"
	     "{\"name\":\"b\",\"ready\":true,\"state\":{\"running\":{}}}]}}",
	     "Running", "2/2"},
	    {"{" SPEC2 ",\"status\":{\"phase\":\"Running\",\"containerStatuses\":["
	     "{\"name\":\"a\",\"ready\":false,\"state\":{\"waiting\":{\"reason\":"
	     "\"CrashLoopBackOff\"}}},"
	     "{\"name\":\"b\",\"ready\":true,\"state\":{\"running\":{}}}]}}",
	     "CrashLoopBackOff", "1/2"},
	    {"{" SPEC2 ",\"status\":{\"phase\":\"Pending\",\"containerStatuses\":["
	     "{\"name\":\"a\",\"state\":{\"waiting\":{\"reason\":\"ErrImagePull\"}}}]}}",
	     "ErrImagePull", "0/2"},
	    {"{" SPEC2 ",\"status\":{\"phase\":\"Running\",\"containerStatuses\":["
	     "{\"name\":\"a\",\"state\":{\"terminated\":{\"exitCode\":137,\"reason\":\"OOMKilled\"}"
	     "}}]}}",
	     "OOMKilled", "0/2"},
	    {"{" SPEC2 ",\"status\":{\"phase\":\"Succeeded\",\"containerStatuses\":["
	     "{\"name\":\"a\",\"state\":{\"terminated\":{\"exitCode\":0,\"reason\":\"Completed\"}}}"
	     "]}}",
	     "Completed", "0/2"},
	    {"{" SPEC2 ",\"status\":{\"phase\":\"Running\",\"containerStatuses\":["
	     "{\"name\":\"a\",\"state\":{\"terminated\":{\"exitCode\":0,\"reason\":\"Completed\"}}}"
	     ","
	     "{\"name\":\"b\",\"ready\":true,\"state\":{\"running\":{}}}]}}",
	     "NotReady", "1/2"},
	    {"{" SPEC2 ",\"status\":{\"phase\":\"Failed\",\"containerStatuses\":["
	     "{\"name\":\"a\",\"state\":{\"terminated\":{\"exitCode\":3}}}]}}",
	     "ExitCode:3", "0/2"},
	    {"{" SPEC2 ",\"status\":{\"phase\":\"Failed\",\"containerStatuses\":["
	     "{\"name\":\"a\",\"state\":{\"terminated\":{\"exitCode\":137,\"signal\":9}}}]}}",
	     "Signal:9", "0/2"},
	    {"{\"metadata\":{\"deletionTimestamp\":\"2026-11-29T09:00:00Z\"}," SPEC2
	     ",\"status\":{\"phase\":\"Running\"}}",
	     "Terminating", "0/2"},
	    {"{" SPEC2 ",\"status\":{\"phase\":\"Failed\",\"reason\":\"NodeLost\"}}", "NodeLost",
	     "0/2"},
	};
	char st[96], ready[32];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *p = load(cases[i].json);
		sc_pod_status(p, st, sizeof(st));
		sc_pod_ready(p, ready, sizeof(ready));
		if (strcmp(st, cases[i].status) || strcmp(ready, cases[i].ready))
			fail_msg("case %zu: got %s %s, want %s %s", i, st, ready, cases[i].status,
				 cases[i].ready);
		json_decref(p);
	}
}

static void test_restarts(void **state)
{
	(void)state;
	char buf[64];
	json_t *p = load("{\"status\":{\"containerStatuses\":[{\"restartCount\":2,\"lastState\":{"
			 "\"terminated\":{\"finishedAt\":\"2026-11-29T09:00:00Z\"}}},"
			 "{\"restartCount\":1}]}}");
	sc_pod_restarts(p, 1795942800000LL + 192000, buf, sizeof(buf));
	assert_string_equal(buf, "3 (3m12s ago)");
	json_decref(p);
	p = load("{\"status\":{}}");
	sc_pod_restarts(p, 0, buf, sizeof(buf));
	assert_string_equal(buf, "0");
	json_decref(p);
}

static void test_node_columns(void **state)
{
	(void)state;
	char buf[128];
	json_t *n =
	    load("{\"metadata\":{\"labels\":{\"node-role.kubernetes.io/control-plane\":\"\","
		 "\"node-role.kubernetes.io/worker\":\"\",\"x\":\"y\"}},"
		 "\"spec\":{\"unschedulable\":true},"
		 "\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}");
	sc_node_status(n, buf, sizeof(buf));
	assert_string_equal(buf, "Ready,SchedulingDisabled");
	sc_node_roles(n, buf, sizeof(buf));
	assert_string_equal(buf, "control-plane,worker");
	json_decref(n);
	n = load("{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"Unknown\"}]}}");
	sc_node_status(n, buf, sizeof(buf));
	assert_string_equal(buf, "NotReady");
	sc_node_roles(n, buf, sizeof(buf));
	assert_string_equal(buf, "<none>");
	json_decref(n);
}

static char *capture(void (*fn)(FILE *, const json_t *, void *), const json_t *j, void *arg)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	fn(f, j, arg);
	fclose(f);
	return out;
}

static void pods_wide(FILE *f, const json_t *items, void *arg)
{
	sc_print_pods(f, items, true, false, *(int64_t *)arg);
}

static void nodes_plain(FILE *f, const json_t *items, void *arg)
{
	sc_print_nodes(f, items, false, *(int64_t *)arg);
}

static void describe(FILE *f, const json_t *pod, void *arg)
{
	sc_describe_pod(f, pod, *(int64_t *)arg);
}

static void test_tables(void **state)
{
	(void)state;
	int64_t now = 1795942800000LL + 45000; /* 45 s after 2026-11-29T09:00:00Z */
	json_t *items = load(
	    "[{\"metadata\":{\"name\":\"web-db\",\"creationTimestamp\":\"2026-11-29T09:00:00Z\"},"
	    "\"spec\":{\"nodeName\":\"n1\",\"containers\":[{\"name\":\"web\"},{\"name\":\"db\"}]},"
	    "\"status\":{\"phase\":\"Running\",\"podIP\":\"10.244.1.5\",\"containerStatuses\":["
	    "{\"name\":\"web\",\"ready\":true,\"state\":{\"running\":{}}},"
	    "{\"name\":\"db\",\"ready\":true,\"state\":{\"running\":{}}}]}}]");
	char *out = capture(pods_wide, items, &now);
	assert_string_equal(out, "NAME     READY   STATUS    RESTARTS   AGE   IP           NODE\n"
				 "web-db   2/2     Running   0          45s   10.244.1.5   n1\n");
	free(out);
	json_t *pod = json_array_get(items, 0);
	out = capture(describe, pod, &now);
	assert_non_null(strstr(out, "Name:             web-db\n"));
	assert_non_null(strstr(out, "Node:             n1\n"));
	assert_non_null(strstr(out, "  web:\n"));
	assert_non_null(strstr(out, "    State:          Running\n"));
	free(out);
	json_decref(items);

	items =
	    load("[{\"metadata\":{\"name\":\"n1\",\"creationTimestamp\":\"2026-11-29T08:00:00Z\"},"
		 "\"status\":{\"allocatable\":{\"cpu\":\"2\",\"memory\":\"24Gi\"},"
		 "\"usage\":{\"cpu\":\"120m\",\"memory\":\"300Mi\"},"
		 "\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}],"
		 "\"nodeInfo\":{\"kubeletVersion\":\"nodelet-0.1\"}}}]");
	out = capture(nodes_plain, items, &now);
	assert_string_equal(out, "NAME   STATUS   ROLES    AGE   VERSION       CPU(cores)   CPU%   "
				 "MEMORY(bytes)   MEMORY%\n"
				 "n1     Ready    <none>   60m   nodelet-0.1   120m         6%     "
				 "300Mi           1%\n");
	free(out);
	json_decref(items);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_age),	     cmocka_unit_test(test_pod_status),
	    cmocka_unit_test(test_restarts), cmocka_unit_test(test_node_columns),
	    cmocka_unit_test(test_tables),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
