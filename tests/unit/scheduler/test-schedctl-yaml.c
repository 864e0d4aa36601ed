/* schedctl's YAML reader: every YAML example of the Kubernetes documentation
 * converts to exactly the JSON of its twin in json/; scalars resolve as
 * Kubernetes clients resolve them. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "scheduler/schedctl.h"

static int convert(const char *yaml, json_t **out, char *err, size_t errlen)
{
	return sc_yaml_to_json(yaml, strlen(yaml), out, err, errlen);
}

static void test_scalars(void **state)
{
	(void)state;
	json_t *j;
	char err[256];
	if (convert("a: 1\n", &j, err, sizeof(err)) < 0 && strstr(err, "not supported yet")) {
		skip(); /* built without libyaml */
	}
	json_decref(j);
	const char *yaml = "i: 80\n"
			   "neg: -3\n"
			   "f: 0.5\n"
			   "t: true\n"
			   "n: null\n"
			   "tilde: ~\n"
			   "s: hello world\n"
			   "q: \"80\"\n"
			   "sq: '1.5'\n"
			   "mem: 64Mi\n"
			   "ver: 1.14.2\n"
			   "oct: 01777\n"
			   "hex: 0x1F\n"
			   "yes: yes\n"
			   "off: off\n"
			   "zero: 0\n"
			   "nine: 09\n"
			   "list: [a, 2]\n"
			   "block: |\n  line1\n  line2\n";
	assert_int_equal(convert(yaml, &j, err, sizeof(err)), 0);
	json_t *want =
	    json_loads("{\"i\":80,\"neg\":-3,\"f\":0.5,\"t\":true,\"n\":null,\"tilde\":null,"
		       "\"s\":\"hello world\",\"q\":\"80\",\"sq\":\"1.5\",\"mem\":\"64Mi\","
		       "\"ver\":\"1.14.2\",\"oct\":1023,\"hex\":31,\"yes\":true,"
		       "\"off\":false,\"zero\":0,\"nine\":9.0,\"list\":[\"a\",2],\"block\":"
		       "\"line1\\nline2\\n\"}",
		       0, NULL);
	assert_true(json_equal(j, want));
	json_decref(j);
	json_decref(want);
}

static void test_errors(void **state)
{
	(void)state;
	json_t *j;
	char err[256];
	if (convert("a: 1\n", &j, err, sizeof(err)) < 0)
		skip();
	json_decref(j);
	assert_int_equal(convert("a: [1\n", &j, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "line 2 column 1: "));
	assert_int_equal(convert("a: 1\na: 2\n", &j, err, sizeof(err)), -1);
	assert_string_equal(err, "line 2 column 1: duplicate key \"a\"");
	assert_int_equal(convert("", &j, err, sizeof(err)), -1);
	assert_string_equal(err, "no YAML document found");
	assert_int_equal(convert("---\nkind: Pod\n---\nkind: Pod\n", &j, err, sizeof(err)), 0);
	assert_string_equal(json_string_value(json_object_get(j, "kind")), "List");
	assert_int_equal(json_array_size(json_object_get(j, "items")), 2);
	json_decref(j);
}

static void test_k8s_examples(void **state)
{
	(void)state;
	json_t *j;
	char err[512];
	if (convert("a: 1\n", &j, err, sizeof(err)) < 0)
		skip();
	json_decref(j);
	const char *base = getenv("NODELET_K8S_EXAMPLES_ROOT");
	if (!base || !*base)
		base = "../shared/examples/k8s-docs";
	char dir[512];
	snprintf(dir, sizeof(dir), "%s/yaml", base);
	DIR *d = opendir(dir);
	if (!d)
		skip();
	struct dirent *de;
	size_t n = 0;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (l < 6 || strcmp(de->d_name + l - 5, ".yaml"))
			continue;
		char path[1024], jpath[1024];
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		FILE *f = fopen(path, "r");
		assert_non_null(f);
		char *text = NULL;
		size_t cap = 0;
		ssize_t len = getdelim(&text, &cap, '\0', f);
		fclose(f);
		assert_true(len >= 0);
		if (convert(text, &j, err, sizeof(err)) < 0)
			fail_msg("%s: %s", de->d_name, err);
		free(text);
		json_t *items = json_object_get(j, "items");
		if (json_is_array(items) &&
		    !strcmp(json_string_value(json_object_get(j, "kind")), "List")) {
			/* pods_pod-rs.yaml: two documents -> pod1 and pod2 */
			for (size_t i = 0; i < json_array_size(items); i++) {
				snprintf(jpath, sizeof(jpath), "%s/json/%.*s.pod%zu.json", base,
					 (int)(l - 5), de->d_name, i + 1);
				json_t *want = json_load_file(jpath, 0, NULL);
				if (!want || !json_equal(want, json_array_get(items, i)))
					fail_msg("%s item %zu differs from %s", de->d_name, i,
						 jpath);
				json_decref(want);
			}
		} else {
			snprintf(jpath, sizeof(jpath), "%s/json/%.*s.json", base, (int)(l - 5),
				 de->d_name);
			json_t *want = json_load_file(jpath, 0, NULL);
			if (!want || !json_equal(want, j))
				fail_msg("%s differs from %s", de->d_name, jpath);
			json_decref(want);
		}
		json_decref(j);
		n++;
	}
	closedir(d);
	fprintf(stderr, "k8s YAML examples: %zu converted, all equal to their JSON\n", n);
	assert_true(n > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_scalars),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_k8s_examples),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
