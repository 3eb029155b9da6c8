/*
 * db_retain.c: what removes data or keeps it findable: retention purges,
 * the erasure of a contact for a privacy request, the media paths rows
 * still name, and search indexing.
 */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "buf.h"
#include "db.h"
#include "db_int.h"

/* 1 when some media row names the file at path (relative), 0 not, -1. */
int
db_media_path_used(struct db *d, const char *path)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_PATH_USED);
	int		 rc;

	dbi_bind_text(s, 1, path);
	rc = dbi_row(d, STMT_PATH_USED, __func__);
	sqlite3_reset(s);
	return rc;
}

/*
 * Appends the first column of every row of the bound statement k to
 * files, each NUL-terminated.  0 or -1.
 */
static int
collect_paths(struct db *d, enum stmt k, struct buf *files)
{
	sqlite3_stmt	*s = d->s[k];
	int		 rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if (buf_puts(files, (const char *)sqlite3_column_text(s, 0)) ==
		    -1 || buf_append(files, "", 1) == -1)
			break;
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		dbi_err(d, __func__, dbi_sql(k));
		return -1;
	}
	return 0;
}

/*
 * Names through cb every path in files that no media row uses any more:
 * files are content-addressed, so another message may share one.
 */
static void
release_paths(struct db *d, const struct buf *files,
    void (*cb)(void *, const char *), void *arg)
{
	sqlite3_stmt	*s;
	size_t		 off;
	int		 rc;

	for (off = 0; off < files->len; off += strlen(files->p + off) + 1) {
		s = dbi_st(d, STMT_PATH_USED);
		dbi_bind_text(s, 1, files->p + off);
		rc = sqlite3_step(s);
		sqlite3_reset(s);
		if (rc == SQLITE_DONE)
			cb(arg, files->p + off);
	}
}

/*
 * Journal entries between after and upto (ids) whose body names wa_id or
 * user_id as a JSON string, appended to ids (int64_t each).  0 or -1.
 */
static int
erase_find_bodies(struct db *d, int64_t after, int64_t upto,
    const char *wa_id, const char *user_id, struct buf *ids)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_ERASE_FIND_BODIES);
	int64_t		 id;
	int		 rc;

	sqlite3_bind_int64(s, 1, after);
	sqlite3_bind_int64(s, 2, upto);
	dbi_bind_text(s, 3, wa_id);
	dbi_bind_text(s, 4, user_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		id = sqlite3_column_int64(s, 0);
		if (buf_append(ids, &id, sizeof(id)) == -1)
			break;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		dbi_err(d, __func__, dbi_sql(STMT_ERASE_FIND_BODIES));
		return -1;
	}
	return 0;
}

/*
 * Erases a contact for a privacy request: statuses, outbox rows, tickets,
 * agent calls, bot state, orders, the raw items of webhook errors and
 * subscription events that name them, every journal body that names them
 * (an entry not yet applied is settled as failed, so the worker cannot
 * bring the contact back), then the contact (conversations, messages and
 * media rows cascade).  The journal is searched first without the write
 * lock (it can be large; webhooks must not wait behind it), then again
 * under it for what arrived meanwhile; everything else is one
 * transaction.  Media files no other row uses are named through file_cb
 * after the commit, for the caller to unlink.  A download in flight
 * lands on no row: purge_run() removes such orphans.  1 erased, 0 no
 * such contact, -1 (nothing changed).
 */
int
db_api_erase(struct db *d, const char *pnid, const char *wa_id,
    void (*file_cb)(void *, const char *), void *arg)
{
	static const enum stmt steps[] = { STMT_ERASE_BODIES,
	    STMT_ERASE_STATUSES, STMT_ERASE_OUTBOX, STMT_ERASE_TICKETS,
	    STMT_ERASE_AGENT, STMT_ERASE_BOT, STMT_ERASE_ERRORS,
	    STMT_ERASE_SUBSCRIPTIONS, STMT_ERASE_ORDERS, STMT_ERASE_MESSAGES,
	    STMT_ERASE_CONTACT };
	sqlite3_stmt	*s;
	struct buf	 paths, ids;
	char		*user_id = NULL;
	int64_t		 contact, last, id;
	size_t		 i;
	int		 n, r;

	buf_init(&paths);
	buf_init(&ids);
	s = dbi_st(d, STMT_ERASE_WHO);
	dbi_bind_text(s, 1, pnid);
	dbi_bind_text(s, 2, wa_id);
	if ((r = dbi_row(d, STMT_ERASE_WHO, __func__)) != 1)
		return r == 0 ? 0 : -1;
	if (sqlite3_column_type(s, 1) != SQLITE_NULL && (user_id =
	    strdup((const char *)sqlite3_column_text(s, 1))) == NULL) {
		sqlite3_reset(s);
		return -1;
	}
	sqlite3_reset(s);
	if (dbi_row(d, STMT_ERASE_LAST_EVENT, __func__) != 1)
		goto out;
	last = sqlite3_column_int64(dbi_st(d, STMT_ERASE_LAST_EVENT), 0);
	sqlite3_reset(dbi_st(d, STMT_ERASE_LAST_EVENT));
	if (erase_find_bodies(d, 0, last, wa_id, user_id, &ids) == -1)
		goto out;
	if (db_begin(d) != DB_OK)
		goto out;
	if ((contact = dbi_contact_find(d, pnid, wa_id, NULL)) <= 0) {
		db_rollback(d);
		buf_clear(&ids);
		free(user_id);
		return contact == 0 ? 0 : -1;
	}
	if (erase_find_bodies(d, last, INT64_MAX, wa_id, user_id, &ids) == -1)
		goto fail;
	for (i = 0; i + sizeof(id) <= ids.len; i += sizeof(id)) {
		memcpy(&id, ids.p + i, sizeof(id));
		if (dbi_run_id(d, STMT_ERASE_BODY, id, 0, 0, 0, __func__) == -1)
			goto fail;
	}
	s = dbi_st(d, STMT_ERASE_PATHS);
	sqlite3_bind_int64(s, 1, contact);
	if (collect_paths(d, STMT_ERASE_PATHS, &paths) == -1)
		goto fail;
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		s = dbi_st(d, steps[i]);
		n = sqlite3_bind_parameter_count(s);
		sqlite3_bind_int64(s, 1, contact);
		if (n >= 2)
			dbi_bind_text(s, 2, wa_id);
		if (n >= 3)
			dbi_bind_text(s, 3, pnid);
		if (dbi_run(d, steps[i], __func__) != DB_OK)
			goto fail;
	}
	if (db_commit(d) == -1)
		goto fail;
	release_paths(d, &paths, file_cb, arg);
	buf_clear(&paths);
	buf_clear(&ids);
	free(user_id);
	return 1;
fail:
	db_rollback(d);
out:
	buf_clear(&paths);
	buf_clear(&ids);
	free(user_id);
	return -1;
}

/*
 * Retention: what is older than cutoff goes, at most limit rows in one
 * transaction.  what: DB_PURGE_BODIES journal bodies (cutoff unix ms),
 * DB_PURGE_MESSAGES messages (unix seconds, their media rows cascade),
 * DB_PURGE_MEDIA media files (unix ms), and with the messages' cutoff
 * (unix seconds) what else holds their words or their customers'
 * numbers: statuses, finished outbox rows, finished agent calls, webhook
 * errors, subscription events, settled journal bodies.  dry only counts.
 * Files no row uses any more are named through file_cb after the commit.
 * Returns the number of rows (that would go), or -1.
 */
int64_t
db_purge(struct db *d, enum db_purge what, int64_t cutoff, int limit,
    int dry, void (*file_cb)(void *, const char *), void *arg)
{
	/* Per step: count (dry), the paths it frees or STMT__MAX, purge. */
	static const struct {
		enum stmt	 count, paths, purge;
	} steps[DB_PURGE__MAX] = {
		[DB_PURGE_BODIES] = { STMT_PURGE_BODIES_COUNT, STMT__MAX,
		    STMT_PURGE_BODIES },
		[DB_PURGE_MESSAGES] = { STMT_PURGE_MESSAGES_COUNT,
		    STMT_PURGE_MESSAGES_PATHS, STMT_PURGE_MESSAGES },
		[DB_PURGE_MEDIA] = { STMT_PURGE_MEDIA_COUNT,
		    STMT_PURGE_MEDIA_PATHS, STMT_PURGE_MEDIA },
		[DB_PURGE_STATUSES] = { STMT_PURGE_STATUSES_COUNT, STMT__MAX,
		    STMT_PURGE_STATUSES },
		[DB_PURGE_OUTBOX] = { STMT_PURGE_OUTBOX_COUNT, STMT__MAX,
		    STMT_PURGE_OUTBOX },
		[DB_PURGE_AGENT] = { STMT_PURGE_AGENT_COUNT, STMT__MAX,
		    STMT_PURGE_AGENT },
		[DB_PURGE_ERRORS] = { STMT_PURGE_ERRORS_COUNT, STMT__MAX,
		    STMT_PURGE_ERRORS },
		[DB_PURGE_SUBSCRIPTIONS] = { STMT_PURGE_SUBSCRIPTIONS_COUNT,
		    STMT__MAX, STMT_PURGE_SUBSCRIPTIONS },
		[DB_PURGE_OLD_BODIES] = { STMT_PURGE_OLD_BODIES_COUNT,
		    STMT__MAX, STMT_PURGE_OLD_BODIES },
		[DB_PURGE_JOBS] = { STMT_PURGE_JOBS_COUNT, STMT__MAX,
		    STMT_PURGE_JOBS },
	};
	sqlite3_stmt	*s;
	struct buf	 files;
	int64_t		 n;

	if ((int)what < 0 || what >= DB_PURGE__MAX)
		return -1;
	if (dry) {
		s = dbi_st(d, steps[what].count);
		sqlite3_bind_int64(s, 1, cutoff);
		if (dbi_row(d, steps[what].count, __func__) != 1)
			return -1;
		n = sqlite3_column_int64(s, 0);
		sqlite3_reset(s);
		return n;
	}
	buf_init(&files);
	if (db_begin(d) != DB_OK)
		return -1;
	if (steps[what].paths != STMT__MAX) {
		s = dbi_st(d, steps[what].paths);
		sqlite3_bind_int64(s, 1, cutoff);
		sqlite3_bind_int(s, 2, limit);
		if (collect_paths(d, steps[what].paths, &files) == -1)
			goto fail;
	}
	s = dbi_st(d, steps[what].purge);
	sqlite3_bind_int64(s, 1, cutoff);
	sqlite3_bind_int(s, 2, limit);
	if (dbi_run(d, steps[what].purge, __func__) != DB_OK)
		goto fail;
	n = sqlite3_changes(d->h);
	if (db_commit(d) == -1)
		goto fail;
	release_paths(d, &files, file_cb, arg);
	buf_clear(&files);
	return n;
fail:
	db_rollback(d);
	buf_clear(&files);
	return -1;
}

/*
 * Every media path a row still names, sorted (binary collation, so
 * strcmp() order), each NUL-terminated, appended to files.  0 or -1.
 */
int
db_media_paths(struct db *d, struct buf *files)
{
	(void)dbi_st(d, STMT_MEDIA_PATHS);
	return collect_paths(d, STMT_MEDIA_PATHS, files);
}

/*
 * The span of ids the next chunk of at most max messages covers: *from
 * (indexed so far) to *upto, equal when nothing is left.  0 or -1.
 */
static int
search_span(struct db *d, int max, int64_t *from, int64_t *upto)
{
	sqlite3_stmt *s = dbi_st(d, STMT_SEARCH_UPTO);

	sqlite3_bind_int(s, 1, max);
	if (dbi_row(d, STMT_SEARCH_UPTO, __func__) != 1)
		return -1;
	*from = sqlite3_column_int64(s, 0);
	*upto = sqlite3_column_type(s, 1) == SQLITE_NULL ? *from :
	    sqlite3_column_int64(s, 1);
	sqlite3_reset(s);
	return 0;
}

/*
 * Adds up to max of the newest unindexed messages to the search index,
 * in one transaction.  Looks first without the write lock: the worker
 * calls this on every pass, and most passes have nothing to index.
 * Returns how many ids it covered (0: none left), or -1.
 */
int
db_search_index(struct db *d, int max)
{
	int64_t from, upto;

	if (search_span(d, max, &from, &upto) == -1)
		return -1;
	if (upto == from)
		return 0;
	if (db_begin(d) != DB_OK)
		return -1;
	/* Again under the lock: nothing else indexes, but be exact. */
	if (search_span(d, max, &from, &upto) == -1)
		goto fail;
	if (upto > from && (dbi_run_id(d, STMT_SEARCH_INDEX, from, 1, upto, 0,
	    __func__) == -1 || dbi_run_id(d, STMT_SEARCH_DONE, upto, 0, 0, 0,
	    __func__) == -1))
		goto fail;
	if (db_commit(d) == -1)
		return -1;
	return (int)(upto - from);
fail:
	db_rollback(d);
	return -1;
}
