/* What config.c and config-linux.c share: field paths for error messages
 * ("linux.resources.memory.limit") and typed getters that name the field on
 * a type error. Internal to libruntime. */
#ifndef NODELET_RUNTIME_CONFIG_INTERNAL_H
#define NODELET_RUNTIME_CONFIG_INTERNAL_H

#include <errno.h>

#include "runtime/rt-internal.h"

typedef struct field {
	char s[256];
} field_t;

static inline field_t fld(const char *parent, const char *key)
{
	field_t f;
	int n = parent[0] ? snprintf(f.s, sizeof(f.s), "%s.%s", parent, key)
			  : snprintf(f.s, sizeof(f.s), "%s", key);
	if (n < 0)
		f.s[0] = '\0';
	return f;
}

static inline field_t idx(const char *parent, size_t i)
{
	field_t f;
	if (snprintf(f.s, sizeof(f.s), "%s[%zu]", parent, i) < 0)
		f.s[0] = '\0';
	return f;
}

static inline int bad(rt_error_t *err, const char *field, const char *what)
{
	return rt__error_plain(err, EINVAL, "%s: %s", field, what);
}

/* Each getter: absent (or null) -> 0 and *present=false; wrong type -> error. */
static inline int get_obj(json_t *o, const char *key, const char *parent, json_t **out,
			  rt_error_t *err)
{
	json_t *v = json_object_get(o, key);
	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_object(v))
		return bad(err, fld(parent, key).s, "expected object");
	*out = v;
	return 0;
}

static inline int get_arr(json_t *o, const char *key, const char *parent, json_t **out,
			  rt_error_t *err)
{
	json_t *v = json_object_get(o, key);
	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return bad(err, fld(parent, key).s, "expected array");
	*out = v;
	return 0;
}

static inline int get_str(json_t *o, const char *key, const char *parent, char **out,
			  rt_error_t *err)
{
	json_t *v = json_object_get(o, key);
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return bad(err, fld(parent, key).s, "expected string");
	free(*out);
	*out = rt__xstrdup(json_string_value(v));
	return 0;
}

static inline int get_bool(json_t *o, const char *key, const char *parent, bool *out,
			   rt_error_t *err)
{
	json_t *v = json_object_get(o, key);
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_boolean(v))
		return bad(err, fld(parent, key).s, "expected boolean");
	*out = json_is_true(v);
	return 0;
}

static inline int get_int(json_t *o, const char *key, const char *parent, int64_t min, int64_t max,
			  int64_t *out, bool *present, rt_error_t *err)
{
	json_t *v = json_object_get(o, key);
	if (present)
		*present = false;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_integer(v))
		return bad(err, fld(parent, key).s, "expected integer");
	json_int_t i = json_integer_value(v);
	if (i < min || i > max) {
		char m[128];
		snprintf(m, sizeof(m), "%lld out of range [%lld, %lld]", (long long)i,
			 (long long)min, (long long)max);
		return bad(err, fld(parent, key).s, m);
	}
	*out = i;
	if (present)
		*present = true;
	return 0;
}

/* uint64 values larger than INT64_MAX arrive as negative json integers from
 * jansson; accept them as the bit pattern (seccomp args). */
static inline int get_u64(json_t *o, const char *key, const char *parent, uint64_t *out,
			  rt_error_t *err)
{
	json_t *v = json_object_get(o, key);
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_integer(v))
		return bad(err, fld(parent, key).s, "expected integer");
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

/* An array of strings into a NULL-terminated vector (replaces *out). */
static inline int get_strv(json_t *o, const char *key, const char *parent, char ***out,
			   rt_error_t *err)
{
	json_t *a;
	if (get_arr(o, key, parent, &a, err) < 0)
		return -1;
	if (a == NULL)
		return 0;
	field_t f = fld(parent, key);
	size_t n = json_array_size(a);
	char **v = rt__xmalloc((n + 1) * sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		json_t *s = json_array_get(a, i);
		if (!json_is_string(s)) {
			rt__strv_free(v);
			return bad(err, idx(f.s, i).s, "expected string");
		}
		v[i] = rt__xstrdup(json_string_value(s));
	}
	rt__strv_free(*out);
	*out = v;
	return 0;
}

/* linux.* sections (config-linux.c). */
int rt__cfg_parse_resources(json_t *l, rt_config_t *c, rt_error_t *err);
int rt__cfg_parse_idmaps(json_t *l, const char *key, rt__idmap_t **out, size_t *n, rt_error_t *err);
int rt__cfg_parse_devices(json_t *l, rt_config_t *c, rt_error_t *err);
int rt__cfg_parse_seccomp(json_t *l, rt_config_t *c, rt_error_t *err);
int rt__cfg_parse_hooks(json_t *root, rt_config_t *c, rt_error_t *err);
/* linux-process.c: process.ioPriority, scheduler, consoleSize, apparmorProfile,
 * selinuxLabel (from process p); linux.personality, memoryPolicy, mountLabel,
 * intelRdt (from linux l); reset clears the process ones (exec -p). */
int rt__cfg_parse_process_linux(json_t *p, rt_config_t *c, rt_error_t *err);
int rt__cfg_parse_linux_process(json_t *l, rt_config_t *c, rt_error_t *err);
void rt__cfg_reset_process_linux(rt_config_t *c);
/* linux.netDevices (linux-netdev.c): an object host name -> {"name": new}. */
int rt__cfg_parse_netdevices(json_t *l, rt_config_t *c, rt_error_t *err);
/* Frees what x holds (not x itself). */
void rt__cgroup_extra_free(rt__cgroup_extra_t *x);

#endif
