/* YAML manifests for `schedctl apply -f x.yaml`: YAML -> the same JSON a
 * Kubernetes client would send. Plain scalars resolve as YAML 1.2's core
 * schema does (null, booleans, integers, floats; anything else a string);
 * quoted scalars are always strings. Several documents become a v1 List.
 * Built only when libyaml is available (HAVE_LIBYAML, see schedctl.mk). */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scheduler/schedctl.h"

#ifndef HAVE_LIBYAML

int sc_yaml_to_json(const char *text, size_t len, json_t **out, char *err, size_t errlen)
{
	(void)text;
	(void)len;
	*out = NULL;
	snprintf(err, errlen, "YAML input is not supported yet; convert to JSON");
	return -1;
}

#else

#include <yaml.h>

static bool match_any(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

/* Integers as YAML 1.1 writes them; false when s is not one (or overflows). */
static bool parse_int(const char *s, long long *out)
{
	const char *p = s;
	int base = 10;
	bool neg = false;
	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		base = 16, p += 2;
	else if (p[0] == '0' && (p[1] == 'o' || p[1] == 'O'))
		base = 8, p += 2;
	else if (p[0] == '0' && (p[1] == 'b' || p[1] == 'B'))
		base = 2, p += 2;
	else if (p[0] == '0' && p[1])
		base = 8, p += 1;
	if (!*p)
		return false;
	for (const char *q = p; *q; q++) {
		int d = (*q >= '0' && *q <= '9')   ? *q - '0'
			: (*q >= 'a' && *q <= 'f') ? *q - 'a' + 10
			: (*q >= 'A' && *q <= 'F') ? *q - 'A' + 10
						   : 99;
		if (d >= base)
			return false;
	}
	errno = 0;
	char *end;
	unsigned long long v = strtoull(p, &end, base);
	if (errno || *end || v > (unsigned long long)LLONG_MAX)
		return false;
	*out = neg ? -(long long)v : (long long)v;
	return true;
}

static bool is_float(const char *s)
{
	const char *p = s;
	bool digits = false;
	if (*p == '-' || *p == '+')
		p++;
	for (; *p >= '0' && *p <= '9'; p++)
		digits = true;
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++)
			digits = true;
	}
	if (!digits)
		return false;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '-' || *p == '+')
			p++;
		if (!(*p >= '0' && *p <= '9'))
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return *p == '\0';
}

static json_t *scalar(const yaml_node_t *n)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
	static const char *const trues[] = {"true", "True", "TRUE", "yes", "Yes", "YES",
					    "y",    "Y",    "on",   "On",  "ON",  NULL};
	static const char *const falses[] = {"false", "False", "FALSE", "no",  "No",  "NO",
					     "n",     "N",     "off",	"Off", "OFF", NULL};
	const char *s = (const char *)n->data.scalar.value;
	/* libyaml's loader tags every untagged scalar !!str, so an explicit
	 * "!!str 80" cannot be told apart: plain scalars are always resolved. */
	if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return json_stringn(s, n->data.scalar.length);
	if (match_any(s, nulls))
		return json_null();
	if (match_any(s, trues))
		return json_true();
	if (match_any(s, falses))
		return json_false();
	long long v;
	if (parse_int(s, &v))
		return json_integer(v);
	if (is_float(s))
		return json_real(strtod(s, NULL));
	return json_stringn(s, n->data.scalar.length);
}

static json_t *convert(yaml_document_t *doc, yaml_node_t *n, int depth, char *err, size_t errlen)
{
	if (!n || depth > 100) {
		snprintf(err, errlen, "document nested too deeply");
		return NULL;
	}
	switch (n->type) {
	case YAML_SCALAR_NODE:
		return scalar(n);
	case YAML_SEQUENCE_NODE: {
		json_t *a = json_array();
		for (yaml_node_item_t *it = n->data.sequence.items.start;
		     it < n->data.sequence.items.top; it++) {
			json_t *v =
			    convert(doc, yaml_document_get_node(doc, *it), depth + 1, err, errlen);
			if (!v) {
				json_decref(a);
				return NULL;
			}
			json_array_append_new(a, v);
		}
		return a;
	}
	case YAML_MAPPING_NODE: {
		json_t *o = json_object();
		for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
		     p < n->data.mapping.pairs.top; p++) {
			yaml_node_t *k = yaml_document_get_node(doc, p->key);
			if (!k || k->type != YAML_SCALAR_NODE) {
				snprintf(err, errlen,
					 "line %zu column %zu: mapping keys must be scalars",
					 n->start_mark.line + 1, n->start_mark.column + 1);
				json_decref(o);
				return NULL;
			}
			const char *key = (const char *)k->data.scalar.value;
			if (json_object_get(o, key)) {
				snprintf(err, errlen, "line %zu column %zu: duplicate key \"%s\"",
					 k->start_mark.line + 1, k->start_mark.column + 1, key);
				json_decref(o);
				return NULL;
			}
			json_t *v = convert(doc, yaml_document_get_node(doc, p->value), depth + 1,
					    err, errlen);
			if (!v) {
				json_decref(o);
				return NULL;
			}
			json_object_set_new(o, key, v);
		}
		return o;
	}
	default:
		snprintf(err, errlen, "empty YAML node");
		return NULL;
	}
}

/* *out: a new reference (one document's value, or a v1 List of several). */
int sc_yaml_to_json(const char *text, size_t len, json_t **out, char *err, size_t errlen)
{
	yaml_parser_t parser;
	json_t *docs = json_array();
	int rc = 0;
	*out = NULL;
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	for (;;) {
		yaml_document_t doc;
		if (!yaml_parser_load(&parser, &doc)) {
			snprintf(err, errlen, "line %zu column %zu: %s",
				 parser.problem_mark.line + 1, parser.problem_mark.column + 1,
				 parser.problem ? parser.problem : "invalid YAML");
			rc = -1;
			break;
		}
		yaml_node_t *root = yaml_document_get_root_node(&doc);
		if (!root) {
			yaml_document_delete(&doc);
			break; /* end of stream */
		}
		json_t *v = convert(&doc, root, 0, err, errlen);
		yaml_document_delete(&doc);
		if (!v) {
			rc = -1;
			break;
		}
		if (json_is_null(v))
			json_decref(v); /* an empty document ("---" alone) */
		else
			json_array_append_new(docs, v);
	}
	yaml_parser_delete(&parser);
	if (rc == 0 && json_array_size(docs) == 0) {
		snprintf(err, errlen, "no YAML document found");
		rc = -1;
	}
	if (rc == 0) {
		if (json_array_size(docs) == 1) {
			*out = json_incref(json_array_get(docs, 0));
		} else {
			json_t *list = json_object();
			json_object_set_new(list, "apiVersion", json_string("v1"));
			json_object_set_new(list, "kind", json_string("List"));
			json_object_set(list, "items", docs);
			*out = list;
		}
	}
	json_decref(docs);
	return rc;
}

#endif
