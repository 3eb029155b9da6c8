/*
 * db_journal.c: the webhook journal (webhook_events).  Responders append
 * raw bodies in one group-committed transaction; the worker reads the
 * next pending entry, records what became of it, and counts the backlog;
 * the API replays an entry.
 */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "db.h"
#include "db_int.h"
#include "log.h"
#include "sig.h"

/*
 * Appends raw webhook bodies to the journal in one short transaction: a
 * responder that holds several acknowledged-to-be requests at once
 * stores them together (group commit), so the write lock, the WAL
 * frames of the journal's right edge and the flush are paid once.
 * Returns DB_OK with every ev[i].id set only once the COMMIT is durable
 * (rule 1), DB_BUSY when the write lock could not be had in time, else
 * DB_ERR; then nothing was stored.
 */
enum db_rc
db_event_insert(struct db *d, struct db_event *ev, size_t n, int64_t now_ms)
{
	sqlite3_stmt	*s;
	enum db_rc	 rc;
	size_t		 i;

	/* Hashed before the lock: a 3 MB body takes milliseconds. */
	for (i = 0; i < n; i++)
		if (sig_sha256_hex(ev[i].body, ev[i].len, ev[i].sha256) == -1)
			return DB_ERR;
	if ((rc = db_begin(d)) != DB_OK)
		return rc;
	for (i = 0; i < n; i++) {
		s = dbi_st(d, STMT_EVENT_INSERT);
		if (sqlite3_bind_int64(s, 1, now_ms) != SQLITE_OK ||
		    sqlite3_bind_blob64(s, 2, ev[i].body, ev[i].len,
		    SQLITE_STATIC) != SQLITE_OK ||
		    sqlite3_bind_int64(s, 3, (sqlite3_int64)ev[i].len) !=
		    SQLITE_OK ||
		    sqlite3_bind_text(s, 4, ev[i].sha256, -1, SQLITE_STATIC) !=
		    SQLITE_OK) {
			dbi_err(d, __func__, dbi_sql(STMT_EVENT_INSERT));
			db_rollback(d);
			return DB_ERR;
		}
		if ((rc = dbi_run(d, STMT_EVENT_INSERT, __func__)) != DB_OK) {
			db_rollback(d);
			return rc == DB_BUSY ? DB_BUSY : DB_ERR;
		}
		ev[i].id = sqlite3_last_insert_rowid(d->h);
	}
	(void)dbi_st(d, STMT_COMMIT);
	if ((rc = dbi_run(d, STMT_COMMIT, __func__)) != DB_OK) {
		db_rollback(d);
		return rc == DB_BUSY ? DB_BUSY : DB_ERR;
	}
	return d->group_sync ? dbi_wal_sync(d) : DB_OK;
}

/* Counts the journal entries still to apply; -1 on error. */
int64_t
db_backlog(struct db *d)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_BACKLOG);
	int64_t		 n = -1;

	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	else
		dbi_err(d, __func__, dbi_sql(STMT_BACKLOG));
	sqlite3_reset(s);
	return n;
}

/*
 * The first pending journal entry after id `after`.  Returns 1 with *id
 * and a copy of the body (caller frees *body), 0 when none, -1 on error.
 */
int
db_event_next(struct db *d, int64_t after, int64_t *id, char **body,
    size_t *len)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_EVENT_NEXT);
	const void	*p;
	int		 rc;

	sqlite3_bind_int64(s, 1, after);
	if ((rc = sqlite3_step(s)) != SQLITE_ROW) {
		sqlite3_reset(s);
		if (rc == SQLITE_DONE)
			return 0;
		dbi_err(d, __func__, dbi_sql(STMT_EVENT_NEXT));
		return -1;
	}
	*id = sqlite3_column_int64(s, 0);
	p = sqlite3_column_blob(s, 1);
	*len = (size_t)sqlite3_column_bytes(s, 1);
	if ((*body = malloc(*len + 1)) == NULL) {
		sqlite3_reset(s);
		log_warn("%s: malloc", __func__);
		return -1;
	}
	if (*len > 0)
		memcpy(*body, p, *len);
	(*body)[*len] = '\0';
	sqlite3_reset(s);
	return 1;
}

/* Records what became of a journal entry and its items. */
int
db_event_finish(struct db *d, int64_t id, const char *state,
    const struct db_tally *t, const char *error, int64_t now_ms)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_EVENT_FINISH);

	dbi_bind_text(s, 1, state);
	sqlite3_bind_int64(s, 2, now_ms);
	sqlite3_bind_int(s, 3, t->total);
	sqlite3_bind_int(s, 4, t->applied);
	sqlite3_bind_int(s, 5, t->duplicate);
	sqlite3_bind_int(s, 6, t->failed);
	dbi_bind_text(s, 7, error);
	sqlite3_bind_int64(s, 8, id);
	return dbi_run(d, STMT_EVENT_FINISH, __func__) == DB_OK ? 0 : -1;
}

/* POST /webhook-events/{id}/replay: 1 pending again, 0 not found or purged. */
int
db_api_event_replay(struct db *d, int64_t id)
{
	if (dbi_run_id(d, STMT_API_EVENT_REPLAY, id, 0, 0, 0, __func__) == -1)
		return -1;
	return sqlite3_changes(d->h) > 0;
}
