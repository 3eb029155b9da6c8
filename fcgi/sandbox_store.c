/*
 * sandbox_store.c: wa-sandbox's own SQLite file, $WA_STATE_DIR/sandbox.db
 * (WAL): what the business sent (the terminal customer reads it), the
 * status webhooks still to post (so they survive a restart), media,
 * templates and business profiles.  The only SQLite user of wa-sandbox;
 * it never touches the gateway's wa.db.  Each thread opens its own
 * handle.  Statements: one table over enum sbx_stmt (sandbox.h), all
 * prepared at open.  Rows come back as JSON arrays of objects (column
 * name -> value), jansson being the shared value type.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sqlite3.h>

#include "log.h"
#include "sandbox.h"

static const char schema[] =
	"PRAGMA journal_mode=WAL;"
	"CREATE TABLE IF NOT EXISTS messages ("
	" seq INTEGER PRIMARY KEY, wamid TEXT NOT NULL UNIQUE,"
	" pnid TEXT NOT NULL, to_id TEXT NOT NULL, body TEXT NOT NULL,"
	" received_at INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS messages_to ON messages (to_id, seq);"
	"CREATE TABLE IF NOT EXISTS statuses ("
	" id INTEGER PRIMARY KEY, wamid TEXT NOT NULL, pnid TEXT NOT NULL,"
	" recipient TEXT NOT NULL, status TEXT NOT NULL,"
	" due_ms INTEGER NOT NULL, tries INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX IF NOT EXISTS statuses_wamid ON statuses (wamid, id);"
	/*
	 * state: stored (the file is in sandbox-media/), link (sent by a
	 * link the sandbox does not fetch: Meta's copy is the link), fetch
	 * (a loopback link the hook thread fetches), failed (that fetch).
	 * wamid: the message a link came with.
	 */
	"CREATE TABLE IF NOT EXISTS media ("
	" seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, pnid TEXT,"
	" mime TEXT NOT NULL, sha256 TEXT, size INTEGER NOT NULL,"
	" filename TEXT, link TEXT, state TEXT NOT NULL DEFAULT 'stored',"
	" wamid TEXT);"
	"CREATE INDEX IF NOT EXISTS media_wamid ON media (wamid);"
	"CREATE TABLE IF NOT EXISTS templates ("
	" id INTEGER PRIMARY KEY, name TEXT NOT NULL, language TEXT NOT NULL,"
	" status TEXT NOT NULL DEFAULT 'APPROVED', category TEXT NOT NULL,"
	" components TEXT NOT NULL, UNIQUE (name, language));"
	"CREATE TABLE IF NOT EXISTS profiles ("
	" pnid TEXT PRIMARY KEY, body TEXT NOT NULL);"
	/* A few approved samples, as a new WABA has hello_world. */
	"INSERT OR IGNORE INTO templates (id, name, language, category,"
	" components) VALUES"
	" (1, 'hello_world', 'en_US', 'UTILITY', '[{\"type\":\"HEADER\","
	"\"format\":\"TEXT\",\"text\":\"Hello World\"},{\"type\":\"BODY\","
	"\"text\":\"Welcome and congratulations!! This message demonstrates "
	"your ability to send a WhatsApp message notification from the Cloud "
	"API, hosted by Meta. Thank you for taking the time to test with "
	"us.\"},{\"type\":\"FOOTER\",\"text\":\"WhatsApp Business Platform "
	"sample message\"}]'),"
	" (2, 'order_update', 'en', 'UTILITY', '[{\"type\":\"BODY\","
	"\"text\":\"Hi {{1}}, your order {{2}} is on its way.\","
	"\"example\":{\"body_text\":[[\"Ana\",\"A1042\"]]}}]'),"
	" (3, 'appointment_reminder', 'en', 'UTILITY', '[{\"type\":\"BODY\","
	"\"text\":\"Reminder: your appointment is on {{1}} at {{2}}.\","
	"\"example\":{\"body_text\":[[\"Monday\",\"10:00\"]]}}]'),"
	" (4, 'seasonal_promotion', 'en', 'MARKETING', '[{\"type\":\"BODY\","
	"\"text\":\"Our {{1}} sale is on: {{2}} off everything.\","
	"\"example\":{\"body_text\":[[\"summer\",\"20%\"]]}}]');";

static const char *const stmts[SBX__MAX] = {
	"INSERT INTO messages (wamid, pnid, to_id, body, received_at) "
	"VALUES (?,?,?,?,?)", /* SBX_MSG_INSERT */
	"SELECT m.seq, m.wamid, m.pnid, m.body, m.received_at, "
	"(SELECT id FROM media WHERE media.wamid = m.wamid) AS media_id "
	"FROM messages m WHERE m.to_id = ? AND m.seq > ? ORDER BY m.seq "
	"LIMIT ?", /* SBX_MSG_LIST */
	"INSERT INTO statuses (wamid, pnid, recipient, status, due_ms) "
	"VALUES (?,?,?,?,?)", /* SBX_STATUS_INSERT */
	"SELECT id, wamid, pnid, recipient, status, tries FROM statuses s "
	"WHERE due_ms <= ? AND NOT EXISTS (SELECT 1 FROM statuses t "
	"WHERE t.wamid = s.wamid AND t.id < s.id) ORDER BY due_ms, id "
	"LIMIT ?", /* SBX_STATUS_DUE */
	"DELETE FROM statuses WHERE id = ?", /* SBX_STATUS_DONE */
	"UPDATE statuses SET due_ms = ?, tries = tries + 1 WHERE id = ?",
	/* SBX_STATUS_RETRY */
	"INSERT INTO media (id, pnid, mime, sha256, size, filename, link, "
	"state, wamid) VALUES (?,?,?,?,?,?,?,?,?)", /* SBX_MEDIA_INSERT */
	"SELECT id, pnid, mime, sha256, size, filename, link, state FROM media "
	"WHERE id = ?", /* SBX_MEDIA_GET */
	"DELETE FROM media WHERE id = ?", /* SBX_MEDIA_DELETE */
	"SELECT id, link FROM media WHERE state = 'fetch' ORDER BY seq "
	"LIMIT ?", /* SBX_MEDIA_DUE */
	"UPDATE media SET state = ?, sha256 = ?, size = ? WHERE id = ?",
	/* SBX_MEDIA_FETCHED */
	"SELECT id, name, language, status, category, components "
	"FROM templates ORDER BY id", /* SBX_TMPL_LIST */
	"SELECT id, status FROM templates WHERE name = ? AND language = ?",
	/* SBX_TMPL_FIND */
	"INSERT INTO templates (name, language, category, components) "
	"VALUES (?,?,?,?)", /* SBX_TMPL_INSERT */
	"DELETE FROM templates WHERE name = ?", /* SBX_TMPL_DELETE */
	"SELECT body FROM profiles WHERE pnid = ?", /* SBX_PROFILE_GET */
	"INSERT INTO profiles (pnid, body) VALUES (?,?) ON CONFLICT (pnid) "
	"DO UPDATE SET body = excluded.body", /* SBX_PROFILE_SET */
};

struct sandbox_store {
	sqlite3		*db;
	sqlite3_stmt	*st[SBX__MAX];
};

/* Returns the open store (caller closes with sandbox_store_close()). */
struct sandbox_store *
sandbox_store_open(const char *path, long busy_ms)
{
	struct sandbox_store	*s;
	int			 i;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		log_warn("%s: calloc", __func__);
		return NULL;
	}
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
		log_warnx("%s: %s: %s", __func__, path, s->db != NULL ?
		    sqlite3_errmsg(s->db) : "out of memory");
		goto fail;
	}
	if (sqlite3_busy_timeout(s->db, (int)busy_ms) != SQLITE_OK ||
	    sqlite3_exec(s->db, schema, NULL, NULL, NULL) != SQLITE_OK) {
		log_warnx("%s: %s: schema: %s", __func__, path,
		    sqlite3_errmsg(s->db));
		goto fail;
	}
	for (i = 0; i < SBX__MAX; i++)
		if (sqlite3_prepare_v2(s->db, stmts[i], -1, &s->st[i], NULL) !=
		    SQLITE_OK) {
			log_warnx("%s: %s: %s", __func__, stmts[i],
			    sqlite3_errmsg(s->db));
			goto fail;
		}
	return s;
fail:
	sandbox_store_close(s);
	return NULL;
}

void
sandbox_store_close(struct sandbox_store *s)
{
	int i;

	if (s == NULL)
		return;
	for (i = 0; i < SBX__MAX; i++)
		(void)sqlite3_finalize(s->st[i]);
	(void)sqlite3_close(s->db);
	free(s);
}

static int
run(struct sandbox_store *s, const char *sql)
{
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		log_warnx("%s: %s: %s", __func__, sql, sqlite3_errmsg(s->db));
		return -1;
	}
	return 0;
}

int
sandbox_store_begin(struct sandbox_store *s)
{
	return run(s, "BEGIN IMMEDIATE");
}

int
sandbox_store_commit(struct sandbox_store *s)
{
	return run(s, "COMMIT");
}

void
sandbox_store_rollback(struct sandbox_store *s)
{
	(void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

/*
 * Binds the arguments fmt names, one letter each: 's' a string (NULL
 * binds NULL), 'i' an int64_t.  0 or -1.
 */
static int
bind(sqlite3_stmt *st, const char *fmt, va_list ap)
{
	const char	*v;
	int		 i, rc = SQLITE_OK;

	for (i = 1; *fmt != '\0' && rc == SQLITE_OK; fmt++, i++) {
		if (*fmt == 's') {
			v = va_arg(ap, const char *);
			rc = v == NULL ? sqlite3_bind_null(st, i) :
			    sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
		} else
			rc = sqlite3_bind_int64(st, i, va_arg(ap, int64_t));
	}
	return rc == SQLITE_OK ? 0 : -1;
}

/*
 * Runs a write.  Returns 0, 1 when a constraint refused it (a duplicate:
 * a result, not an error), -1 on error (logged).
 */
int
sandbox_store_exec(struct sandbox_store *s, enum sbx_stmt k, const char *fmt,
    ...)
{
	sqlite3_stmt	*st = s->st[k];
	va_list		 ap;
	int		 rc;

	va_start(ap, fmt);
	rc = bind(st, fmt, ap);
	va_end(ap);
	if (rc == 0)
		rc = sqlite3_step(st);
	else
		rc = SQLITE_ERROR;
	if (rc != SQLITE_DONE && rc != SQLITE_CONSTRAINT &&
	    (rc & 0xff) != SQLITE_CONSTRAINT)
		log_warnx("%s: %s: %s", __func__, stmts[k],
		    sqlite3_errmsg(s->db));
	(void)sqlite3_reset(st);
	(void)sqlite3_clear_bindings(st);
	if (rc == SQLITE_DONE)
		return 0;
	return (rc & 0xff) == SQLITE_CONSTRAINT ? 1 : -1;
}

/*
 * Runs a query.  Returns its rows as a JSON array of objects (caller
 * frees with json_decref()), or NULL on error (logged).
 */
json_t *
sandbox_store_rows(struct sandbox_store *s, enum sbx_stmt k, const char *fmt,
    ...)
{
	sqlite3_stmt	*st = s->st[k];
	json_t		*rows, *row, *v;
	va_list		 ap;
	int		 rc, i, n;

	if ((rows = json_array()) == NULL)
		return NULL;
	va_start(ap, fmt);
	rc = bind(st, fmt, ap);
	va_end(ap);
	if (rc == -1)
		goto fail;
	n = sqlite3_column_count(st);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((row = json_object()) == NULL ||
		    json_array_append_new(rows, row) == -1)
			goto fail;
		for (i = 0; i < n; i++) {
			switch (sqlite3_column_type(st, i)) {
			case SQLITE_INTEGER:
				v = json_integer(sqlite3_column_int64(st, i));
				break;
			case SQLITE_NULL:
				v = json_null();
				break;
			default:
				v = json_stringn((const char *)
				    sqlite3_column_text(st, i),
				    (size_t)sqlite3_column_bytes(st, i));
				break;
			}
			if (v == NULL || json_object_set_new(row,
			    sqlite3_column_name(st, i), v) == -1)
				goto fail;
		}
	}
	if (rc != SQLITE_DONE)
		goto fail;
	(void)sqlite3_reset(st);
	(void)sqlite3_clear_bindings(st);
	return rows;
fail:
	log_warnx("%s: %s: %s", __func__, stmts[k], sqlite3_errmsg(s->db));
	(void)sqlite3_reset(st);
	(void)sqlite3_clear_bindings(st);
	json_decref(rows);
	return NULL;
}

int64_t
sandbox_store_last_id(struct sandbox_store *s)
{
	return sqlite3_last_insert_rowid(s->db);
}
