/*
 * dbt.h: a fresh database per test for the storage unit tests
 * (test_db_*.c).  Each test opens a file in its own mkdtemp() directory
 * (WAL needs a file), built from the embedded schema by db_migrate(), and
 * tests through db.h; a second, plain SQLite connection reads back what
 * was committed.
 */
#ifndef DBT_H
#define DBT_H
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "check.h"
#include "db.h"
#include "policy.h"
#include "util.h"
#include "webhook.h"

#define PNID	"200300400500600"	/* the fixtures' business number */
/* The time the tests pass into storage (it never reads the clock). */
#define NOW_MS	1767300000123LL		/* unix ms */
#define NOW_S	(NOW_MS / 1000)		/* unix s */
#define Q_NONE	INT64_MIN		/* q_int(): no row, or NULL */

struct tdb {
	char		 dir[64];
	char		 path[128];
	struct db	*db;		/* the database under test */
	sqlite3		*h;		/* reads back what was committed */
	const char	*stop_words;	/* the apply's keywords, NULL none */
	const char	*start_words;
};

/* Opens a new, migrated database in a new directory.  0 or -1. */
static inline int
tdb_open(struct tdb *t)
{
	struct db	*d;
	int		 from, to;

	memset(t, 0, sizeof(*t));
	(void)snprintf(t->dir, sizeof(t->dir), "/tmp/test_db.XXXXXX");
	if (mkdtemp(t->dir) == NULL)
		return -1;
	(void)snprintf(t->path, sizeof(t->path), "%s/wa.db", t->dir);
	/* The admin role opens a database of any version (none yet). */
	if ((d = db_open(t->path, DB_ROLE_ADMIN, 0, 2000)) == NULL)
		return -1;
	if (db_migrate(d, &from, &to) == -1 || from != 0 ||
	    to != db_schema_known()) {
		db_close(d);
		return -1;
	}
	db_close(d);
	if ((t->db = db_open(t->path, DB_ROLE_WORKER, 0, 2000)) == NULL)
		return -1;
	if (sqlite3_open_v2(t->path, &t->h, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK)
		return -1;
	return 0;
}

static inline void
tdb_close(struct tdb *t)
{
	static const char *const ext[] = { "", "-wal", "-shm" };
	char	 p[160];
	size_t	 i;

	db_close(t->db);
	if (t->h != NULL)
		sqlite3_close(t->h);
	if (t->dir[0] == '\0')
		return;
	for (i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		(void)snprintf(p, sizeof(p), "%s%s", t->path, ext[i]);
		(void)unlink(p);	/* may not exist */
	}
	if (rmdir(t->dir) == -1)
		fprintf(stderr, "  cannot remove %s\n", t->dir);
	memset(t, 0, sizeof(*t));
}

static inline sqlite3_stmt *
q_prep(struct tdb *t, const char *fmt, va_list ap)
{
	sqlite3_stmt	*s = NULL;
	char		 sql[1024];
	int		 n;

	n = vsnprintf(sql, sizeof(sql), fmt, ap);
	if (n < 0 || (size_t)n >= sizeof(sql) ||
	    sqlite3_prepare_v2(t->h, sql, -1, &s, NULL) != SQLITE_OK) {
		fprintf(stderr, "  query: %s: %s\n", sql, sqlite3_errmsg(t->h));
		return NULL;
	}
	return s;
}

/* The first column of the first row of a query, Q_NONE when none. */
__attribute__((format(printf, 2, 3)))
static inline int64_t
q_int(struct tdb *t, const char *fmt, ...)
{
	sqlite3_stmt	*s;
	va_list		 ap;
	int64_t		 v = Q_NONE;

	va_start(ap, fmt);
	s = q_prep(t, fmt, ap);
	va_end(ap);
	if (s == NULL)
		return Q_NONE;
	if (sqlite3_step(s) == SQLITE_ROW &&
	    sqlite3_column_type(s, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

/*
 * The first column of the first row as text into buf ("(null)" for
 * NULL, "(none)" for no row).  Returns buf, for use inside CHECK.
 */
__attribute__((format(printf, 4, 5)))
static inline const char *
q_text(struct tdb *t, char *buf, size_t sz, const char *fmt, ...)
{
	sqlite3_stmt	*s;
	va_list		 ap;
	const char	*v;

	(void)snprintf(buf, sz, "(none)");
	va_start(ap, fmt);
	s = q_prep(t, fmt, ap);
	va_end(ap);
	if (s == NULL)
		return buf;
	if (sqlite3_step(s) == SQLITE_ROW) {
		v = (const char *)sqlite3_column_text(s, 0);
		(void)snprintf(buf, sz, "%s", v != NULL ? v : "(null)");
	}
	sqlite3_finalize(s);
	return buf;
}

/* Appends one body to the journal, received at ms; its id, or -1. */
static inline int64_t
journal_add_at(struct tdb *t, const char *body, size_t len, int64_t ms)
{
	struct db_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.body = body;
	ev.len = len;
	if (db_event_insert(t->db, &ev, 1, ms) != DB_OK)
		return -1;
	return ev.id;
}

static inline int64_t
journal_add(struct tdb *t, const char *body, size_t len)
{
	return journal_add_at(t, body, len, NOW_MS);
}

/* db_event_finish(), as the worker calls it. */
static inline int
journal_finish(struct tdb *t, int64_t id, const char *state,
    const struct db_tally *a, const char *error)
{
	return db_event_finish(t->db, id, state, a, error, NOW_MS);
}

static inline int64_t
purge(struct tdb *t, enum db_purge what, int64_t cutoff, int limit, int dry,
    void (*file_cb)(void *, const char *), void *arg)
{
	return db_purge(t->db, what, cutoff, limit, dry, file_cb, arg);
}

/*
 * Applies every item of b as journal entry ev in one transaction, each
 * in its own savepoint, as the worker does.  Counts into *a.  0 or -1.
 */
static inline int
apply_batch(struct tdb *t, int64_t ev, const struct wh_batch *b,
    struct db_tally *a)
{
	struct policy_verdict	 v;
	const char		*why;
	size_t			 i;

	memset(a, 0, sizeof(*a));
	if (db_begin(t->db) != DB_OK)
		return -1;
	for (i = 0; i < b->nitems; i++) {
		a->total++;
		if (db_savepoint(t->db) == -1)
			goto fail;
		policy_verdict(&b->items[i], t->stop_words, t->start_words,
		    &v);
		switch (db_apply_item(t->db, ev, &b->items[i], &v, NOW_MS,
		    &why)) {
		case DB_OK:
			a->applied++;
			if (db_release(t->db) == -1)
				goto fail;
			break;
		case DB_DUP:
			a->duplicate++;
			if (db_release(t->db) == -1)
				goto fail;
			break;
		default:
			a->failed++;
			db_rollback_to(t->db);
			break;
		}
	}
	return db_commit(t->db);
fail:
	db_rollback(t->db);
	return -1;
}

/* Journals body, parses it and applies it.  0 or -1. */
static inline int
apply_body(struct tdb *t, const char *body, size_t len, struct db_tally *a)
{
	struct wh_batch	 b;
	char		 err[256];
	int64_t		 ev;
	int		 rc;

	memset(a, 0, sizeof(*a));
	if ((ev = journal_add(t, body, len)) < 0)
		return -1;
	if (wh_parse(body, len, &b, err, sizeof(err)) == -1) {
		fprintf(stderr, "  parse: %s\n", err);
		return -1;
	}
	rc = apply_batch(t, ev, &b, a);
	wh_batch_free(&b);
	return rc;
}

static inline int
apply_str(struct tdb *t, const char *body, struct db_tally *a)
{
	return apply_body(t, body, strlen(body), a);
}

/* Journals and applies tests/fixtures/webhooks/NAME.  0 or -1. */
static inline int
apply_fixture(struct tdb *t, const char *name, struct db_tally *a)
{
	char	 path[256], *body;
	size_t	 len;
	int	 rc;

	memset(a, 0, sizeof(*a));
	(void)snprintf(path, sizeof(path), FIXTURES "/webhooks/%s", name);
	if ((body = slurp(path, &len)) == NULL) {
		fprintf(stderr, "  cannot read %s\n", path);
		return -1;
	}
	rc = apply_body(t, body, len, a);
	free(body);
	return rc;
}

/* A one-change webhook body around value members (a JSON fragment). */
static inline const char *
hook(char *buf, size_t sz, const char *members)
{
	int n = snprintf(buf, sz, "{\"object\":\"whatsapp_business_account\","
	    "\"entry\":[{\"id\":\"100200300400500\",\"changes\":[{\"field\":"
	    "\"messages\",\"value\":{\"messaging_product\":\"whatsapp\","
	    "\"metadata\":{\"display_phone_number\":\"15550001111\","
	    "\"phone_number_id\":\"" PNID "\"},%s}}]}]}", members);

	if (n < 0 || (size_t)n >= sz)
		return "";
	return buf;
}

/* An inbound text message webhook. */
static inline const char *
hook_text(char *buf, size_t sz, const char *wamid, const char *from,
    const char *name, long long ts, const char *text)
{
	char m[1024];
	int n = snprintf(m, sizeof(m), "\"contacts\":[{\"profile\":{\"name\":"
	    "\"%s\"},\"wa_id\":\"%s\"}],\"messages\":[{\"from\":\"%s\","
	    "\"id\":\"%s\",\"timestamp\":\"%lld\",\"type\":\"text\","
	    "\"text\":{\"body\":\"%s\"}}]", name, from, from, wamid, ts, text);

	if (n < 0 || (size_t)n >= sizeof(m))
		return "";
	return hook(buf, sz, m);
}

/* A status webhook; failed ones carry error 131026. */
static inline const char *
hook_status(char *buf, size_t sz, const char *wamid, const char *status,
    long long ts, const char *to, const char *opaque)
{
	char m[1024], o[128] = "";
	int n;

	if (opaque != NULL)
		(void)snprintf(o, sizeof(o),
		    ",\"biz_opaque_callback_data\":\"%s\"", opaque);
	n = snprintf(m, sizeof(m), "\"statuses\":[{\"id\":\"%s\",\"status\":"
	    "\"%s\",\"timestamp\":\"%lld\",\"recipient_id\":\"%s\"%s%s}]",
	    wamid, status, ts, to, o, strcmp(status, "failed") == 0 ?
	    ",\"errors\":[{\"code\":131026,\"title\":\"Message undeliverable\"}]"
	    : "");
	if (n < 0 || (size_t)n >= sizeof(m))
		return "";
	return hook(buf, sz, m);
}

#endif
