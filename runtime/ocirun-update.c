/* `ocirun update`: the command line of rt_container_update (runc's flags,
 * or a linux.resources object from --resources FILE or stdin). */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/ocirun.h"
#include "runtime/runtime.h"

/* A size as runc takes it: bytes, or a number with k, m, g or t (1024-based),
 * optionally followed by b or ib ("64m", "1g", "512MiB"); -1 stays -1.
 * -1 on a bad string. */
static int parse_size(const char *s, int64_t *out)
{
	char *end;
	errno = 0;
	long long n = strtoll(s, &end, 10);
	if (end == s || errno != 0 || n < -1)
		return -1;
	if (n == -1)
		return *end == '\0' ? (*out = -1, 0) : -1;
	int shift = 0;
	const char *u = strchr("kmgt", tolower((unsigned char)*end));
	if (*end != '\0' && u != NULL) {
		shift = 10 * (int)(u - "kmgt" + 1);
		end++;
		if (tolower((unsigned char)*end) == 'i' && tolower((unsigned char)end[1]) == 'b')
			end += 2;
	}
	if (tolower((unsigned char)*end) == 'b')
		end++;
	if (*end != '\0' || n > (INT64_MAX >> shift))
		return -1;
	*out = (int64_t)n << shift;
	return 0;
}

static int parse_int(const char *s, int64_t *out)
{
	char *end;
	errno = 0;
	long long n = strtoll(s, &end, 10);
	if (end == s || *end != '\0' || errno != 0)
		return -1;
	*out = n;
	return 0;
}

static const struct update_flag {
	const char *name, *obj, *key;
	char kind; /* 's': size, 'i': integer, 't': text */
} update_flags[] = {
    {"memory", "memory", "limit", 's'},	    {"memory-reservation", "memory", "reservation", 's'},
    {"memory-swap", "memory", "swap", 's'}, {"cpu-shares", "cpu", "shares", 'i'},
    {"cpu-quota", "cpu", "quota", 'i'},	    {"cpu-period", "cpu", "period", 'i'},
    {"cpuset-cpus", "cpu", "cpus", 't'},    {"cpuset-mems", "cpu", "mems", 't'},
    {"pids-limit", "pids", "limit", 'i'},   {"blkio-weight", "blockIO", "weight", 'i'},
};
#define N_UPDATE_FLAGS (sizeof(update_flags) / sizeof(update_flags[0]))

/* Sets res.<obj>.<key> from flag f's value; a usage error naming the flag. */
static int update_flag(json_t *res, const struct update_flag *f, const char *val)
{
	json_t *v;
	int64_t n;
	if (f->kind == 't') {
		v = json_string(val);
	} else if ((f->kind == 's' ? parse_size(val, &n) : parse_int(val, &n)) < 0) {
		char m[256];
		snprintf(m, sizeof(m), "--%s: invalid value `%.64s` (%s)", f->name, val,
			 f->kind == 's' ? "bytes, or a number with k, m, g or t" : "an integer");
		return ocirun__usage_error("update", m);
	} else {
		v = json_integer(n);
	}
	json_t *o = json_object_get(res, f->obj);
	if (!json_is_object(o)) {
		o = json_object();
		json_object_set_new(res, f->obj, o);
	}
	json_object_set_new(o, f->key, v);
	return 0;
}

int ocirun__cmd_update(const char *root, int argc, char **argv)
{
	struct option longopts[N_UPDATE_FLAGS + 3];
	for (size_t i = 0; i < N_UPDATE_FLAGS; i++)
		longopts[i] =
		    (struct option){update_flags[i].name, required_argument, NULL, 1000 + (int)i};
	longopts[N_UPDATE_FLAGS] = (struct option){"resources", required_argument, NULL, 'r'};
	longopts[N_UPDATE_FLAGS + 1] = (struct option){"help", no_argument, NULL, 'h'};
	longopts[N_UPDATE_FLAGS + 2] = (struct option){NULL, 0, NULL, 0};
	const char *vals[N_UPDATE_FLAGS] = {0};
	const char *file = NULL;
	optind = 0;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, "+r:h", longopts, NULL)) != -1) {
		if (c == 'h')
			return ocirun__help("update");
		if (c == 'r') {
			file = optarg;
		} else if (c >= 1000 && c < 1000 + (int)N_UPDATE_FLAGS) {
			vals[c - 1000] = optarg;
		} else {
			char m[128];
			snprintf(m, sizeof(m), "unknown option or missing value `%s`",
				 argv[optind - 1]);
			return ocirun__usage_error("update", m);
		}
	}
	if (optind >= argc)
		return ocirun__usage_error("update", "container id missing");
	if (argc - optind > 1)
		return ocirun__usage_error("update", "too many arguments");
	const char *id = argv[optind];
	json_t *res = NULL;
	if (file) {
		json_error_t je;
		FILE *f = strcmp(file, "-") == 0 ? stdin : fopen(file, "re");
		if (f == NULL) {
			char m[PATH_MAX + 128];
			snprintf(m, sizeof(m), "update: --resources: opening `%s`: %s", file,
				 strerror(errno));
			return ocirun__report(m);
		}
		res = json_loadf(f, JSON_REJECT_DUPLICATES, &je);
		if (f != stdin)
			fclose(f);
		if (res == NULL || !json_is_object(res)) {
			char m[512];
			snprintf(
			    m, sizeof(m),
			    "update: --resources `%s`: linux.resources: %s (line %d column %d)",
			    file, res ? "expected object" : je.text, je.line, je.column);
			json_decref(res);
			return ocirun__report(m);
		}
	} else {
		res = json_object();
	}
	for (size_t i = 0; i < N_UPDATE_FLAGS; i++)
		if (vals[i] && update_flag(res, &update_flags[i], vals[i])) {
			json_decref(res);
			return 1;
		}
	char *text = json_dumps(res, JSON_COMPACT);
	json_decref(res);
	rt_error_t err;
	int rc = rt_container_update(root, id, text, &err);
	free(text);
	if (rc == 0)
		return 0;
	/* A field given by a flag: name the flag too. */
	for (size_t i = 0; i < N_UPDATE_FLAGS; i++) {
		char field[96];
		snprintf(field, sizeof(field), "linux.resources.%s.%s", update_flags[i].obj,
			 update_flags[i].key);
		size_t l = strlen(err.msg);
		if (vals[i] && strstr(err.msg, field) && l + 40 < sizeof(err.msg))
			snprintf(err.msg + l, sizeof(err.msg) - l, " (from --%s)",
				 update_flags[i].name);
	}
	return ocirun__fail(&err);
}
