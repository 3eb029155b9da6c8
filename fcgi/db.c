/*
 * db.c: the database itself.  With the other db*.c files, the only code
 * that includes sqlite3.h (they share db_int.h, private to them).  Opens
 * the database with the pragmas every connection needs, applies the
 * numbered migrations of schema.sql, prepares every statement of
 * db_sql.c's table at startup so that a schema mismatch fails at boot,
 * and holds transactions, savepoints, the WAL hook and checkpoints, the
 * online backup, health, the API's time budget and the statement helpers
 * the db*.c files share.  Every write transaction starts with BEGIN
 * IMMEDIATE, so SQLITE_BUSY is only ever met at BEGIN, where the busy
 * timeout waits it out safely.
 */
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bsd/string.h>
#include <jansson.h>
#include <sqlite3.h>

#include "cfg.h"
#include "clock.h"
#include "db.h"
#include "db_int.h"
#include "log.h"

extern const char schema_sql[];	/* schema.sql, embedded by the Makefile */

#define CKPT_PASSIVE	1000	/* WAL frames: copy them back (wal_hook) */
#define CKPT_RESTART	4096	/* ...and start the WAL over (~16 MB) */
#define RESTART_WAIT_MS	20	/* how long a restart may hold writers */

/*
 * Busy handler: SQLite's own sleeps 1, 2, 5, 10 ... 100 ms between tries,
 * so under a pool of writers a webhook waits whole milliseconds for a lock
 * held for microseconds.  Retrying every 300 us (1 ms once waited long)
 * keeps the tail short without a context switch per 100 us: a responder
 * that waits gathers a bigger group of webhooks for its next commit
 * (measured: 300 us beat 100 us by ~5 % in `make bench`, 1 ms cost p99).
 * Gives up after busy_ms.  Returns 1 to retry, 0 to return SQLITE_BUSY.
 */
static int
busy_wait(void *arg, int tries)
{
	const struct db	*d = arg;
	struct timespec	 ts;
	long		 us = tries < 60 ? 300 : 1000;
	long		 waited = tries < 60 ? tries * 3 / 10 :
			    18 + (long)(tries - 60);

	if (waited >= d->busy_ms)
		return 0;
	ts.tv_sec = 0;
	ts.tv_nsec = us * 1000;
	(void)nanosleep(&ts, NULL);
	return 1;
}

/* Logs the failed call with the statement text and SQLite's message. */
void
dbi_err(struct db *d, const char *fn, const char *sql)
{
	log_warnx("%s: %s: %s (%d)", fn, sql != NULL ? sql : "-",
	    sqlite3_errmsg(d->h), sqlite3_extended_errcode(d->h));
}

sqlite3_stmt *
dbi_st(struct db *d, enum stmt k)
{
	sqlite3_reset(d->s[k]);
	sqlite3_clear_bindings(d->s[k]);
	return d->s[k];
}

int
dbi_bind_text(sqlite3_stmt *s, int i, const char *v)
{
	return v == NULL ? sqlite3_bind_null(s, i) :
	    sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

/* Binds v, or NULL when v is 0 (absent codes and times). */
int
dbi_bind_nz(sqlite3_stmt *s, int i, int64_t v)
{
	return v == 0 ? sqlite3_bind_null(s, i) : sqlite3_bind_int64(s, i, v);
}

/*
 * Steps a statement that returns no dbi_row (or whose rows are not wanted).
 * Returns DB_OK, DB_DUP on a constraint violation, DB_BUSY or DB_ERR.
 */
enum db_rc
dbi_run(struct db *d, enum stmt k, const char *fn)
{
	int rc = sqlite3_step(d->s[k]);

	sqlite3_reset(d->s[k]);
	if (rc == SQLITE_DONE || rc == SQLITE_ROW)
		return DB_OK;
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return DB_DUP;
	dbi_err(d, fn, dbi_sql(k));
	if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
		return DB_BUSY;
	return DB_ERR;
}

/* Steps a one-row query; returns 1 row, 0 none, -1 error (logged). */
int
dbi_row(struct db *d, enum stmt k, const char *fn)
{
	int rc = sqlite3_step(d->s[k]);

	if (rc == SQLITE_ROW)
		return 1;
	sqlite3_reset(d->s[k]);
	if (rc == SQLITE_DONE)
		return 0;
	dbi_err(d, fn, dbi_sql(k));
	return -1;
}

void
dbi_col_copy(sqlite3_stmt *s, int i, char *dst, size_t sz)
{
	const char *v = (const char *)sqlite3_column_text(s, i);

	/* Columns copied here are ids bounded by the schema or callers. */
	(void)strlcpy(dst, v != NULL ? v : "", sz);
}

char *
dbi_col_dup(sqlite3_stmt *s, int i, int *oom)
{
	const char	*v = (const char *)sqlite3_column_text(s, i);
	char		*p;

	if (v == NULL)
		return NULL;
	if ((p = strdup(v)) == NULL)
		*oom = 1;
	return p;
}

/* Runs k bound to an id and up to two integers; 0 or -1. */
int
dbi_run_id(struct db *d, enum stmt k, int64_t id, int nargs, int64_t a,
    int64_t b, const char *fn)
{
	sqlite3_stmt *s = dbi_st(d, k);

	sqlite3_bind_int64(s, 1, id);
	if (nargs > 0)
		sqlite3_bind_int64(s, 2, a);
	if (nargs > 1)
		sqlite3_bind_int64(s, 3, b);
	return dbi_run(d, k, fn) == DB_OK ? 0 : -1;
}

const char *
db_sqlite_version(void)
{
	return sqlite3_libversion();
}

/* 1 when the linked SQLite has the WAL-reset race fix (3.51.3). */
int
db_sqlite_version_ok(void)
{
	return sqlite3_libversion_number() >= 3051003;
}

/* The highest "-- migrate: N" in the embedded schema. */
int
db_schema_known(void)
{
	const char	*p = schema_sql;
	int		 n, max = 0;

	while ((p = strstr(p, "\n-- migrate: ")) != NULL) {
		p += 13;
		n = (int)strtol(p, NULL, 10);
		if (n > max)
			max = n;
	}
	return max;
}

int
db_user_version(struct db *d, int *v)
{
	sqlite3_stmt	*s;
	int		 rc;

	if (sqlite3_prepare_v2(d->h, "PRAGMA user_version", -1, &s, NULL) !=
	    SQLITE_OK) {
		dbi_err(d, __func__, "PRAGMA user_version");
		return -1;
	}
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		*v = sqlite3_column_int(s, 0);
	else
		dbi_err(d, __func__, "PRAGMA user_version");
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : -1;
}

/*
 * Opens cfg's database for an admin command (wactl), at the schema this
 * build knows, or logs why not and returns NULL.
 */
struct db *
db_open_current(const struct cfg *cfg)
{
	struct db	*d;
	int		 v;

	if ((d = db_open(cfg->db_path, DB_ROLE_ADMIN, cfg->sync_full,
	    cfg->busy_timeout_ms)) == NULL) {
		log_warnx("cannot open the database %s", cfg->db_path);
		return NULL;
	}
	if (db_user_version(d, &v) == -1 || v != db_schema_known()) {
		log_warnx("%s is not at schema version %d: run `wactl "
		    "migrate` first", cfg->db_path, db_schema_known());
		db_close(d);
		return NULL;
	}
	return d;
}

static int
exec(struct db *d, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(d->h, sql, NULL, NULL, &msg) != SQLITE_OK) {
		log_warnx("%s: %.200s: %s", __func__, sql,
		    msg != NULL ? msg : sqlite3_errmsg(d->h));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

/*
 * Bumps the schema cookie inside the migration's transaction, so every
 * connection rereads the schema: DDL does so itself, a migration that
 * edits constraint text with writable_schema (SQLite's procedure for
 * that) needs it done.  Returns 0 or -1.
 */
static int
schema_bump(struct db *d)
{
	sqlite3_stmt	*s;
	char		 sql[64];
	int		 v = -1;

	if (sqlite3_prepare_v2(d->h, "PRAGMA schema_version", -1, &s, NULL) !=
	    SQLITE_OK)
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	if (v < 0)
		return -1;
	(void)snprintf(sql, sizeof(sql), "PRAGMA schema_version = %d", v + 1);
	return exec(d, sql);
}

/*
 * Applies every migration above the database's user_version, each in its
 * own transaction with the new version set inside it, so a failure leaves
 * the database at the last whole version.  Returns 0 or -1.
 */
int
db_migrate(struct db *d, int *from, int *to)
{
	const char	*p, *next;
	char		*chunk, pragma[64];
	int		 cur, n, rc = 0;

	if (db_user_version(d, &cur) == -1)
		return -1;
	*from = *to = cur;
	if (cur > db_schema_known()) {
		log_warnx("database schema version %d is newer than this "
		    "program knows (%d)", cur, db_schema_known());
		return -1;
	}
	for (p = strstr(schema_sql, "\n-- migrate: "); p != NULL; p = next) {
		n = (int)strtol(p + 13, NULL, 10);
		next = strstr(p + 13, "\n-- migrate: ");
		if (n <= cur)
			continue;
		chunk = next != NULL ? strndup(p, (size_t)(next - p)) :
		    strdup(p);
		if (chunk == NULL)
			return -1;
		(void)snprintf(pragma, sizeof(pragma),
		    "PRAGMA user_version = %d", n);
		if (exec(d, "BEGIN IMMEDIATE") == -1)
			rc = -1;
		else if (exec(d, chunk) == -1 || exec(d, pragma) == -1 ||
		    schema_bump(d) == -1 || exec(d, "COMMIT") == -1) {
			(void)exec(d, "ROLLBACK");
			rc = -1;
		}
		free(chunk);
		if (rc == -1) {
			log_warnx("migration %d failed; database left at "
			    "version %d", n, *to);
			return -1;
		}
		*to = cur = n;
	}
	return 0;
}

/*
 * Prepares every statement of the two tables (db_sql.c, db_sql_api.c).
 * A slot neither fills (an enum value without its SQL), or both, fails
 * start-up here, with its number, rather than as a NULL handed to SQLite (which
 * crashes on it unless built with SQLITE_ENABLE_API_ARMOR).  Returns 0
 * or -1, logged.
 */
static int
prepare_all(struct db *d)
{
	int i, n;

	for (i = 0; i < STMT__MAX; i++)
		if ((n = dbi_sql_count(i)) != 1) {
			log_warnx("%s: statement %d of enum stmt has %s",
			    __func__, i, n == 0 ? "no SQL in any db_sql*.c "
			    "table" : "SQL in more than one db_sql*.c table");
			return -1;
		}
	for (i = 0; i < STMT__MAX; i++)
		if (sqlite3_prepare_v3(d->h, dbi_sql(i), -1,
		    SQLITE_PREPARE_PERSISTENT, &d->s[i], NULL) != SQLITE_OK) {
			dbi_err(d, __func__, dbi_sql(i));
			return -1;
		}
	return 0;
}

/*
 * The worker's checkpoints, run after each of its commits (the lock is
 * released by then).  Every CKPT_PASSIVE frames a passive checkpoint
 * copies pages back without stopping anyone.  That alone never resets
 * the WAL while responders keep appending: a writer starts the file over
 * only when it begins on a fully copied WAL, and under load there is
 * always a newer frame.  In a 10 s bench the file grew to 900 MB and was
 * later cut back under the lock in one 300 ms stall.  So past
 * CKPT_RESTART frames a RESTART checkpoint follows: it copies the few
 * frames the passive one left and waits for readers to leave the WAL, so
 * the next writer starts it over.  It blocks writers while it runs, so it
 * gives up after RESTART_WAIT_MS (and tries again after the next commit)
 * rather than hold webhooks behind a long API read.
 */
static int
wal_hook(void *arg, sqlite3 *h, const char *name, int frames)
{
	struct db	*d = arg;
	long		 busy = d->busy_ms;

	if (frames < CKPT_PASSIVE)
		return SQLITE_OK;
	if (sqlite3_wal_checkpoint_v2(h, name, SQLITE_CHECKPOINT_PASSIVE,
	    NULL, NULL) != SQLITE_OK && sqlite3_errcode(h) != SQLITE_BUSY)
		dbi_err(d, __func__, "passive checkpoint");
	if (frames < CKPT_RESTART)
		return SQLITE_OK;
	d->busy_ms = RESTART_WAIT_MS;
	if (sqlite3_wal_checkpoint_v2(h, name, SQLITE_CHECKPOINT_RESTART,
	    NULL, NULL) != SQLITE_OK && sqlite3_errcode(h) != SQLITE_BUSY)
		dbi_err(d, __func__, "restart checkpoint");
	d->busy_ms = busy;
	return SQLITE_OK;
}

/*
 * Settings SQLite takes only before it initialises, on the first open.
 * Its allocation statistics cost a global mutex and bookkeeping on every
 * malloc and we never read them: off, the worker runs ~7% fewer
 * instructions per message.
 */
static void
library_init(void)
{
	static int	 done;

	if (done)
		return;
	done = 1;
	if (sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) != SQLITE_OK)
		log_warnx("SQLite was initialised before its settings");
}

/*
 * Opens path for role.  Responders and the worker insist on the schema
 * version this program knows; the admin role opens any version (for
 * `wactl migrate`) and prepares statements only when it matches.
 * Returns the handle (caller frees with db_close()) or NULL, logged.
 */
struct db *
db_open(const char *path, enum db_role role, int sync_full, long busy_ms)
{
	struct db	*d;
	char		 sql[128];
	int		 v, known = db_schema_known();

	if ((d = calloc(1, sizeof(*d))) == NULL) {
		log_warn("%s: calloc", __func__);
		return NULL;
	}
	d->role = role;
	library_init();
	if (sqlite3_open_v2(path, &d->h, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		log_warnx("%s: %s: %s", __func__, path, d->h != NULL ?
		    sqlite3_errmsg(d->h) : "out of memory");
		goto fail;
	}
	sqlite3_extended_result_codes(d->h, 1);
	d->busy_ms = busy_ms;
	if (sqlite3_busy_handler(d->h, busy_wait, d) != SQLITE_OK)
		goto fail;
	/*
	 * Group commit for responders.  With synchronous=FULL SQLite syncs
	 * the WAL while it holds the write lock, so a pool of responders
	 * acknowledges one webhook per disk flush.  Instead a responder
	 * commits with NORMAL (no sync, the lock held for microseconds) and
	 * then syncs the WAL itself, outside the lock, before it answers:
	 * concurrent syncs share one flush, and a webhook is still answered
	 * 200 only once its frames are on disk (DESIGN rule 1).
	 */
	d->group_sync = sync_full && role == DB_ROLE_RESPONDER;
	/*
	 * The worker writes only what the journal can rebuild: a commit
	 * lost to power loss leaves its entries pending, applied again
	 * (idempotently) at restart.  So it never holds the write lock
	 * through a flush either; a responder's sync or the next
	 * checkpoint makes its frames durable soon after.
	 */
	(void)snprintf(sql, sizeof(sql), "PRAGMA synchronous = %s",
	    sync_full && role == DB_ROLE_ADMIN ? "FULL" : "NORMAL");
	if (exec(d, "PRAGMA journal_mode = WAL") == -1 || exec(d, sql) == -1 ||
	    exec(d, "PRAGMA foreign_keys = ON") == -1)
		goto fail;
	/*
	 * Only the worker checkpoints (a responder must never stall a
	 * webhook's answer on a checkpoint); it also caps the WAL's size
	 * on disk after each checkpoint.  Its savepoint journals stay in
	 * memory: spilled to a temporary file they cost a file creation
	 * per batch and a third of its apply rate.
	 */
	/*
	 * A responder appends at the journal's right edge and reads a few
	 * small rows: 512 KiB of page cache is plenty, and keeps a pool of
	 * them small.
	 */
	if (role == DB_ROLE_RESPONDER &&
	    (exec(d, "PRAGMA wal_autocheckpoint = 0") == -1 ||
	    exec(d, "PRAGMA cache_size = -512") == -1))
		goto fail;
	if (role == DB_ROLE_WORKER &&
	    (exec(d, "PRAGMA wal_autocheckpoint = 0") == -1 ||
	    sqlite3_wal_hook(d->h, wal_hook, d) != NULL ||
	    exec(d, "PRAGMA journal_size_limit = 67108864") == -1 ||
	    exec(d, "PRAGMA cache_size = -65536") == -1 ||
	    exec(d, "PRAGMA temp_store = MEMORY") == -1))
		goto fail;
	if (db_user_version(d, &v) == -1)
		goto fail;
	if (v != known && role != DB_ROLE_ADMIN) {
		log_warnx("%s: schema version %d, this program knows %d: %s",
		    path, v, known, v < known ? "run `wactl migrate` first" :
		    "the database is newer than this program; upgrade it");
		goto fail;
	}
	if (v == known && prepare_all(d) == -1)
		goto fail;
	return d;
fail:
	db_close(d);
	return NULL;
}

/* Finalizes the statements and closes; accepts NULL. */
void
db_close(struct db *d)
{
	int i;

	if (d == NULL)
		return;
	for (i = 0; i < STMT__MAX; i++)
		sqlite3_finalize(d->s[i]);
	if (sqlite3_close(d->h) != SQLITE_OK)
		log_warnx("%s: %s", __func__, sqlite3_errmsg(d->h));
	free(d);
}

enum db_rc
db_begin(struct db *d)
{
	(void)dbi_st(d, STMT_BEGIN);
	return dbi_run(d, STMT_BEGIN, __func__);
}

/*
 * Opens a read transaction: one snapshot for several reads, without the
 * write lock.  End it with db_commit().
 */
enum db_rc
db_begin_read(struct db *d)
{
	(void)dbi_st(d, STMT_BEGIN_READ);
	return dbi_run(d, STMT_BEGIN_READ, __func__);
}

int
db_commit(struct db *d)
{
	(void)dbi_st(d, STMT_COMMIT);
	if (dbi_run(d, STMT_COMMIT, __func__) != DB_OK) {
		db_rollback(d);
		return -1;
	}
	return 0;
}

/* Rolls back when a transaction is open; safe to call when none is. */
void
db_rollback(struct db *d)
{
	if (sqlite3_get_autocommit(d->h))
		return;
	(void)dbi_st(d, STMT_ROLLBACK);
	(void)dbi_run(d, STMT_ROLLBACK, __func__);
}

int
db_savepoint(struct db *d)
{
	(void)dbi_st(d, STMT_SAVEPOINT);
	return dbi_run(d, STMT_SAVEPOINT, __func__) == DB_OK ? 0 : -1;
}

int
db_release(struct db *d)
{
	(void)dbi_st(d, STMT_RELEASE);
	return dbi_run(d, STMT_RELEASE, __func__) == DB_OK ? 0 : -1;
}

/* Undoes the item's changes and closes its savepoint. */
void
db_rollback_to(struct db *d)
{
	(void)dbi_st(d, STMT_ROLLBACK_TO);
	(void)dbi_run(d, STMT_ROLLBACK_TO, __func__);
	(void)db_release(d);
}

/*
 * Flushes the WAL file to disk (fdatasync through SQLite's own VFS), so
 * every frame committed so far, ours included, survives power loss.
 */
enum db_rc
dbi_wal_sync(struct db *d)
{
	sqlite3_file *f = NULL;

	if (sqlite3_file_control(d->h, "main", SQLITE_FCNTL_JOURNAL_POINTER,
	    &f) != SQLITE_OK || f == NULL || f->pMethods == NULL) {
		log_warnx("%s: no WAL file to sync", __func__);
		return DB_ERR;
	}
	if (f->pMethods->xSync(f, SQLITE_SYNC_NORMAL) != SQLITE_OK) {
		log_warnx("%s: syncing the WAL failed", __func__);
		return DB_ERR;
	}
	return DB_OK;
}

/* Fills h for /health.  Returns 0 or -1. */
int
db_health_get(struct db *d, struct db_health *h)
{
	sqlite3_stmt	*s;
	int		 rc;

	memset(h, 0, sizeof(*h));
	if (db_user_version(d, &h->schema_version) == -1 ||
	    (h->backlog = db_backlog(d)) < 0)
		return -1;
	s = dbi_st(d, STMT_HEARTBEAT_GET);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		h->worker_pid = sqlite3_column_int64(s, 0);
		h->heartbeat_at = sqlite3_column_int64(s, 1);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		dbi_err(d, __func__, dbi_sql(STMT_HEARTBEAT_GET));
		return -1;
	}
	s = dbi_st(d, STMT_OUTBOX_DEPTH);
	if (dbi_row(d, STMT_OUTBOX_DEPTH, __func__) != 1)
		return -1;
	h->outbox_depth = sqlite3_column_int64(s, 0);
	h->outbox_oldest_ms = sqlite3_column_int64(s, 1);
	sqlite3_reset(s);
	return 0;
}

/* Records the worker's sign of life (inside or outside a transaction). */
int
db_heartbeat(struct db *d, int64_t pid, int64_t started, int64_t now_s)
{
	sqlite3_stmt *s = dbi_st(d, STMT_HEARTBEAT_SET);

	sqlite3_bind_int64(s, 1, pid);
	sqlite3_bind_int64(s, 2, started);
	sqlite3_bind_int64(s, 3, now_s);
	return dbi_run(d, STMT_HEARTBEAT_SET, __func__) == DB_OK ? 0 : -1;
}

/* Checkpoints the WAL (worker only): passive, or truncating when idle. */
void
db_checkpoint(struct db *d, int truncate)
{
	int log = 0, ckpt = 0;

	if (sqlite3_wal_checkpoint_v2(d->h, NULL, truncate ?
	    SQLITE_CHECKPOINT_TRUNCATE : SQLITE_CHECKPOINT_PASSIVE,
	    &log, &ckpt) != SQLITE_OK &&
	    sqlite3_errcode(d->h) != SQLITE_BUSY)
		dbi_err(d, __func__, "wal_checkpoint");
}

int
db_in_transaction(struct db *d)
{
	return !sqlite3_get_autocommit(d->h);
}

/*
 * The earliest next_attempt_at after now in statement k (unix ms),
 * DB_NEVER when none, -1 on error.  Rows already due are left out: the
 * caller dispatches what it can, and what it could not waits on a slot,
 * a call in flight or a bucket, each with its own wake-up; counting them
 * here made the sender spin until then.
 */
int64_t
dbi_next_due(struct db *d, enum stmt k, int64_t now, const char *fn)
{
	sqlite3_stmt	*s = dbi_st(d, k);
	int64_t		 v;

	sqlite3_bind_int64(s, 1, now);
	if (dbi_row(d, k, fn) != 1)
		return -1;
	v = sqlite3_column_type(s, 0) == SQLITE_NULL ? DB_NEVER :
	    sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return v;
}

/*
 * Calls cb with each row of the statement k (already bound), its columns
 * as text.  Returns the number of rows, or -1.
 */
int
dbi_each_row(struct db *d, enum stmt k, int ncols,
    void (*cb)(void *, const char *const *), void *arg, const char *fn)
{
	sqlite3_stmt	*s = d->s[k];
	const char	*cols[8];
	int		 n = 0, i, rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		for (i = 0; i < ncols && i < 8; i++)
			if ((cols[i] = (const char *)sqlite3_column_text(s,
			    i)) == NULL)
				cols[i] = "";
		cb(arg, cols);
		n++;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		dbi_err(d, fn, dbi_sql(k));
		return -1;
	}
	return n;
}

/*
 * Calls cb with every row of the bound statement k, typed, with every
 * column however wide the dbi_row (an export takes them all).  n or -1.
 */
int
dbi_each_typed(struct db *d, enum stmt k, void (*cb)(void *, int,
    const char *const *, const struct db_val *), void *arg, const char *fn)
{
	sqlite3_stmt	*s = d->s[k];
	const char	*names_a[32], **names = names_a;
	struct db_val	 vals_a[32], *vals = vals_a;
	int		 n = 0, i, nc, rc;

	/*
	 * Count and names after the first step: a schema change (a
	 * migration, a trigger) re-prepares the statement inside it, which
	 * frees the names taken before and may change a SELECT *'s width.
	 */
	rc = sqlite3_step(s);
	nc = sqlite3_column_count(s);
	if (nc > 32 && ((names = reallocarray(NULL, (size_t)nc,
	    sizeof(*names))) == NULL || (vals = reallocarray(NULL, (size_t)nc,
	    sizeof(*vals))) == NULL)) {
		if (names != names_a)
			free(names);
		sqlite3_reset(s);
		log_warnx("%s: out of memory for %d columns", fn, nc);
		return -1;
	}
	for (i = 0; i < nc; i++)
		names[i] = sqlite3_column_name(s, i);
	for (; rc == SQLITE_ROW; rc = sqlite3_step(s)) {
		for (i = 0; i < nc; i++) {
			memset(&vals[i], 0, sizeof(vals[i]));
			switch (sqlite3_column_type(s, i)) {
			case SQLITE_INTEGER:
				vals[i].type = DB_VAL_INT;
				vals[i].i = sqlite3_column_int64(s, i);
				break;
			case SQLITE_FLOAT:
				vals[i].type = DB_VAL_REAL;
				vals[i].r = sqlite3_column_double(s, i);
				break;
			case SQLITE_NULL:
				vals[i].type = DB_VAL_NULL;
				break;
			default:
				vals[i].type = DB_VAL_TEXT;
				vals[i].s = (const char *)sqlite3_column_text(s,
				    i);
				vals[i].len = (size_t)sqlite3_column_bytes(s, i);
				break;
			}
		}
		cb(arg, nc, names, vals);
		n++;
	}
	sqlite3_reset(s);
	if (names != names_a) {
		free(names);
		free(vals);
	}
	if (rc != SQLITE_DONE) {
		dbi_err(d, fn, dbi_sql(k));
		return -1;
	}
	return n;
}

void
dbi_bind_opt_text(sqlite3_stmt *s, int i, const char *v)
{
	(void)dbi_bind_text(s, i, v);
}

void
dbi_bind_opt_int(sqlite3_stmt *s, int i, const int64_t *v)
{
	if (v != NULL)
		sqlite3_bind_int64(s, i, *v);
	else
		sqlite3_bind_null(s, i);
}

/*
 * Copies the database to path while the gateway runs (SQLite's online
 * backup: a consistent snapshot, taken in one read transaction),
 * checks the copy with integrity_check, and renames it into place only
 * then.  Returns 0, or -1 with the reason logged and no file at path.
 */
int
db_backup(struct db *d, const char *path)
{
	sqlite3		*to = NULL;
	sqlite3_backup	*b;
	sqlite3_stmt	*s = NULL;
	char		 tmp[4200];
	const char	*res;
	int		 rc = -1, step;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -1;
	(void)unlink(tmp);
	if (sqlite3_open_v2(tmp, &to, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		log_warnx("%s: %s: %s", __func__, tmp, to != NULL ?
		    sqlite3_errmsg(to) : "out of memory");
		goto done;
	}
	if ((b = sqlite3_backup_init(to, "main", d->h, "main")) == NULL) {
		log_warnx("%s: %s", __func__, sqlite3_errmsg(to));
		goto done;
	}
	/*
	 * Every page in one step, so in one read transaction: in WAL mode
	 * a reader holds no writer off, and its snapshot stays the same to
	 * the end.  Step by step (it was 256 pages), each step is a read
	 * transaction of its own, and a commit by another process between
	 * two of them starts the copy over: under steady webhooks a 160 MB
	 * database never finished in 90 s (idle it takes 1.2 s).  The cost:
	 * the WAL cannot be reset while the copy runs (the worker's RESTART
	 * checkpoint gives up and tries again after its next commit).
	 */
	while ((step = sqlite3_backup_step(b, -1)) == SQLITE_OK ||
	    step == SQLITE_BUSY || step == SQLITE_LOCKED)
		if (step != SQLITE_OK)
			sqlite3_sleep(10);
	if (sqlite3_backup_finish(b) != SQLITE_OK || step != SQLITE_DONE) {
		log_warnx("%s: backup failed: %s", __func__,
		    sqlite3_errmsg(to));
		goto done;
	}
	if (sqlite3_prepare_v2(to, "PRAGMA integrity_check", -1, &s, NULL) !=
	    SQLITE_OK || sqlite3_step(s) != SQLITE_ROW ||
	    (res = (const char *)sqlite3_column_text(s, 0)) == NULL ||
	    strcmp(res, "ok") != 0) {
		log_warnx("%s: the copy fails integrity_check", __func__);
		goto done;
	}
	rc = 0;
done:
	sqlite3_finalize(s);
	if (to != NULL && sqlite3_close(to) != SQLITE_OK)
		rc = -1;
	if (rc == 0 && rename(tmp, path) == -1) {
		log_warn("%s: rename %s", __func__, path);
		rc = -1;
	}
	if (rc == -1)
		(void)unlink(tmp);
	return rc;
}

/*
 * Progress handler: interrupts the statement once the budget is spent.
 * The budget is a duration, measured on the monotonic clock: the one
 * clock storage reads, and nothing it stores.
 */
static int
budget_check(void *arg)
{
	struct db *d = arg;

	if (clock_mono_us() < d->budget_end_us)
		return 0;
	d->budget_hit = 1;
	return 1;
}

/*
 * Gives what follows until db_budget_end() ms milliseconds of the
 * database: a statement still running then is interrupted (SQLITE_
 * INTERRUPT, its transaction rolled back) and db_budget_spent() says so.
 * For the management API, so a costly query cannot hold a responder.
 */
void
db_budget_begin(struct db *d, long ms)
{
	d->budget_hit = 0;
	d->budget_end_us = clock_mono_us() + (int64_t)ms * 1000;
	/* About every 50 us of work: the clock is cheap next to that. */
	sqlite3_progress_handler(d->h, 1000, budget_check, d);
}

/* Lifts the budget of db_budget_begin(). */
void
db_budget_end(struct db *d)
{
	sqlite3_progress_handler(d->h, 0, NULL, NULL);
}

/* 1 when the budget interrupted a statement since db_budget_begin(). */
int
db_budget_spent(const struct db *d)
{
	return d->budget_hit;
}

const char *
db_val_text(int nc, const char *const *names, const struct db_val *v,
    const char *name)
{
	int i;

	for (i = 0; i < nc; i++)
		if (strcmp(names[i], name) == 0)
			return v[i].type == DB_VAL_TEXT ? v[i].s : NULL;
	return NULL;
}

int64_t
db_val_int(int nc, const char *const *names, const struct db_val *v,
    const char *name)
{
	int i;

	for (i = 0; i < nc; i++)
		if (strcmp(names[i], name) == 0)
			return v[i].type == DB_VAL_INT ? v[i].i : 0;
	return 0;
}

/* 1 when name is one of list (NULL-terminated, or NULL: none). */
static int
name_in(const char *name, const char *const *list)
{
	for (; list != NULL && *list != NULL; list++)
		if (strcmp(*list, name) == 0)
			return 1;
	return 0;
}

/*
 * A db_row_cb row as a JSON object, column name to value: integers,
 * reals, text, null; a text column named in json_cols (NULL-terminated,
 * or NULL) that holds JSON goes out as that JSON.  A new object the
 * caller frees with json_decref(), or NULL when out of memory.
 */
json_t *
db_row_json(int nc, const char *const *names, const struct db_val *v,
    const char *const *json_cols)
{
	json_t	*o, *x;
	int	 i;

	if ((o = json_object()) == NULL)
		return NULL;
	for (i = 0; i < nc; i++) {
		switch (v[i].type) {
		case DB_VAL_INT:
			x = json_integer((json_int_t)v[i].i);
			break;
		case DB_VAL_REAL:
			x = json_real(v[i].r);
			break;
		case DB_VAL_TEXT:
			if (name_in(names[i], json_cols) &&
			    (x = json_loadb(v[i].s, v[i].len, 0, NULL)) != NULL)
				break;
			x = json_stringn(v[i].s, v[i].len);
			break;
		default:
			x = json_null();
			break;
		}
		if (x == NULL || json_object_set_new(o, names[i], x) == -1) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}
