/* The SQLite store: DIR/schedd.db in WAL mode.
 *
 * Calls are synchronous on schedd's loop thread: each write is one small
 * statement in its own transaction, which with WAL and synchronous=NORMAL is
 * an append to the log (no fsync per commit), quick enough for a cluster of
 * this size. synchronous=NORMAL survives kill -9 of schedd (the WAL is in
 * the page cache); only a power loss can drop the last commits. If stores
 * grow slow this moves to the thread pool behind the same interface.
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "scheduler/sched.h"
#include "scheduler/store.h"

typedef struct sqlite_store {
	sched_store_t base;
	sqlite3 *db;
	char path[4096];
} sqlite_store_t;

static const char schema[] = "CREATE TABLE IF NOT EXISTS pods ("
			     " namespace TEXT NOT NULL, name TEXT NOT NULL, uid TEXT NOT NULL,"
			     " generation INTEGER NOT NULL, pinned TEXT, json TEXT NOT NULL,"
			     " PRIMARY KEY (namespace, name));"
			     "CREATE TABLE IF NOT EXISTS nodes ("
			     " name TEXT PRIMARY KEY, pod_cidr TEXT, cidr_index INTEGER,"
			     " json TEXT NOT NULL);";

static sqlite_store_t *S(sched_store_t *s)
{
	return (sqlite_store_t *)s;
}

static int fail(sqlite_store_t *s, const char *what)
{
	sched_error("store %s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
	return -EIO;
}

static sqlite3_stmt *prepare(sqlite_store_t *s, const char *sql)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		fail(s, "preparing a statement");
		return NULL;
	}
	return st;
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

static int run(sqlite_store_t *s, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return fail(s, what);
	return 0;
}

static int pod_put(sched_store_t *base, const sched_store_pod_t *p)
{
	sqlite_store_t *s = S(base);
	sqlite3_stmt *st = prepare(s, "INSERT OR REPLACE INTO pods (namespace, name, uid, "
				      "generation, pinned, json) VALUES (?, ?, ?, ?, ?, ?)");

	if (!st)
		return -EIO;
	bind_text(st, 1, p->namespace_);
	bind_text(st, 2, p->name);
	bind_text(st, 3, p->uid);
	sqlite3_bind_int64(st, 4, p->generation);
	bind_text(st, 5, p->pinned);
	bind_text(st, 6, p->json);
	return run(s, st, "writing a pod");
}

static int pod_rows(sqlite_store_t *s, sqlite3_stmt *st, sched_store_pod_cb cb, void *arg,
		    int *found)
{
	int rc, ret = 0;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		sched_store_pod_t p = {
		    .namespace_ = (const char *)sqlite3_column_text(st, 0),
		    .name = (const char *)sqlite3_column_text(st, 1),
		    .uid = (const char *)sqlite3_column_text(st, 2),
		    .generation = sqlite3_column_int64(st, 3),
		    .pinned = (const char *)sqlite3_column_text(st, 4),
		    .json = (const char *)sqlite3_column_text(st, 5),
		};
		(*found)++;
		ret = cb(&p, arg);
		if (ret)
			break;
	}
	if (!ret && rc != SQLITE_DONE)
		ret = fail(s, "reading pods");
	sqlite3_finalize(st);
	return ret;
}

static int pod_get(sched_store_t *base, const char *ns, const char *name, sched_store_pod_cb cb,
		   void *arg)
{
	sqlite_store_t *s = S(base);
	sqlite3_stmt *st = prepare(s, "SELECT namespace, name, uid, generation, pinned, json "
				      "FROM pods WHERE namespace = ? AND name = ?");
	int found = 0, ret;

	if (!st)
		return -EIO;
	bind_text(st, 1, ns);
	bind_text(st, 2, name);
	ret = pod_rows(s, st, cb, arg, &found);
	if (!ret && !found)
		return -ENOENT;
	return ret;
}

static int pod_list(sched_store_t *base, sched_store_pod_cb cb, void *arg)
{
	sqlite_store_t *s = S(base);
	sqlite3_stmt *st = prepare(s, "SELECT namespace, name, uid, generation, pinned, json "
				      "FROM pods ORDER BY namespace, name");
	int found = 0;

	if (!st)
		return -EIO;
	return pod_rows(s, st, cb, arg, &found);
}

static int pod_delete(sched_store_t *base, const char *ns, const char *name)
{
	sqlite_store_t *s = S(base);
	sqlite3_stmt *st = prepare(s, "DELETE FROM pods WHERE namespace = ? AND name = ?");
	int ret;

	if (!st)
		return -EIO;
	bind_text(st, 1, ns);
	bind_text(st, 2, name);
	ret = run(s, st, "deleting a pod");
	if (!ret && sqlite3_changes(s->db) == 0)
		return -ENOENT;
	return ret;
}

static int node_put(sched_store_t *base, const sched_store_node_t *n)
{
	sqlite_store_t *s = S(base);
	sqlite3_stmt *st = prepare(s, "INSERT OR REPLACE INTO nodes (name, pod_cidr, cidr_index, "
				      "json) VALUES (?, ?, ?, ?)");

	if (!st)
		return -EIO;
	bind_text(st, 1, n->name);
	bind_text(st, 2, n->pod_cidr);
	sqlite3_bind_int(st, 3, n->cidr_index);
	bind_text(st, 4, n->json);
	return run(s, st, "writing a node");
}

static int node_list(sched_store_t *base, sched_store_node_cb cb, void *arg)
{
	sqlite_store_t *s = S(base);
	sqlite3_stmt *st =
	    prepare(s, "SELECT name, pod_cidr, cidr_index, json FROM nodes ORDER BY name");
	int rc, ret = 0;

	if (!st)
		return -EIO;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		sched_store_node_t n = {
		    .name = (const char *)sqlite3_column_text(st, 0),
		    .pod_cidr = (const char *)sqlite3_column_text(st, 1),
		    .cidr_index = sqlite3_column_int(st, 2),
		    .json = (const char *)sqlite3_column_text(st, 3),
		};
		ret = cb(&n, arg);
		if (ret)
			break;
	}
	if (!ret && rc != SQLITE_DONE)
		ret = fail(s, "reading nodes");
	sqlite3_finalize(st);
	return ret;
}

static void store_close(sched_store_t *base)
{
	sqlite_store_t *s = S(base);

	if (!s)
		return;
	sqlite3_close(s->db);
	free(s);
}

static const sched_store_ops_t sqlite_ops = {
    .pod_put = pod_put,
    .pod_get = pod_get,
    .pod_delete = pod_delete,
    .pod_list = pod_list,
    .node_put = node_put,
    .node_list = node_list,
    .close = store_close,
};

/* mkdir -p for the data directory. */
static int make_dirs(const char *dir)
{
	char tmp[4096];
	size_t len = strlen(dir);

	if (len >= sizeof(tmp))
		return -ENAMETOOLONG;
	memcpy(tmp, dir, len + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

sched_store_t *sched_store_sqlite_open(const char *dir, char *err, size_t errlen)
{
	sqlite_store_t *s;
	char *msg = NULL;
	int rc;

	rc = make_dirs(dir);
	if (rc < 0) {
		snprintf(err, errlen, "cannot create data directory %s: %s", dir, strerror(-rc));
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		abort();
	s->base.ops = &sqlite_ops;
	snprintf(s->path, sizeof(s->path), "%s/schedd.db", dir);
	if (sqlite3_open_v2(s->path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		snprintf(err, errlen, "cannot open %s: %s", s->path,
			 s->db ? sqlite3_errmsg(s->db) : "out of memory");
		store_close(&s->base);
		return NULL;
	}
	sqlite3_busy_timeout(s->db, 2000);
	rc = sqlite3_exec(s->db,
			  "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
			  "PRAGMA foreign_keys=ON;",
			  NULL, NULL, &msg);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(s->db, schema, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "cannot set up %s: %s", s->path, msg ? msg : "error");
		sqlite3_free(msg);
		store_close(&s->base);
		return NULL;
	}
	return &s->base;
}
