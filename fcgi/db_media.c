/*
 * db_media.c: storage for the inbox's files and canned answers: the file
 * of a message (inbound downloads and outbound uploads alike), the files
 * people upload to send, quick replies, and the daily statistics series.
 * Its SQL is in db_sql_media.c.
 */
#include <string.h>

#include <sqlite3.h>

#include "db.h"
#include "db_int.h"

/*
 * The file of message id: 1 with f filled (f->state "" when the message
 * names no stored or awaited file), 0 no such message, -1 error.
 */
int
db_media_of_message(struct db *d, int64_t id, struct db_media_file *f)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_MEDIA_OF_MESSAGE);
	int		 rc;

	memset(f, 0, sizeof(*f));
	sqlite3_bind_int64(s, 1, id);
	if ((rc = dbi_row(d, STMT_MEDIA_OF_MESSAGE, __func__)) != 1)
		return rc;
	dbi_col_copy(s, 0, f->pnid, sizeof(f->pnid));
	dbi_col_copy(s, 1, f->direction, sizeof(f->direction));
	dbi_col_copy(s, 2, f->type, sizeof(f->type));
	f->has_media = sqlite3_column_type(s, 3) != SQLITE_NULL;
	dbi_col_copy(s, 4, f->filename, sizeof(f->filename));
	dbi_col_copy(s, 5, f->msg_mime, sizeof(f->msg_mime));
	dbi_col_copy(s, 6, f->state, sizeof(f->state));
	dbi_col_copy(s, 7, f->path, sizeof(f->path));
	dbi_col_copy(s, 8, f->mime, sizeof(f->mime));
	dbi_col_copy(s, 9, f->error, sizeof(f->error));
	sqlite3_reset(s);
	return 1;
}

/* Records an uploaded file (POST /uploads); *id its row. */
enum db_rc
db_upload_insert(struct db *d, const struct db_upload *u, int64_t user_id,
    int64_t now_s, int64_t *id)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_UPLOAD_INSERT);
	enum db_rc	 rc;

	dbi_bind_opt_text(s, 1, u->pnid[0] ? u->pnid : NULL);
	dbi_bind_nz(s, 2, user_id);
	dbi_bind_opt_text(s, 3, u->filename[0] ? u->filename : NULL);
	dbi_bind_text(s, 4, u->mime);
	sqlite3_bind_int64(s, 5, u->size);
	dbi_bind_text(s, 6, u->sha);
	dbi_bind_text(s, 7, u->path);
	sqlite3_bind_int64(s, 8, now_s);
	if ((rc = dbi_run(d, STMT_UPLOAD_INSERT, __func__)) == DB_OK)
		*id = sqlite3_last_insert_rowid(d->h);
	return rc;
}

/* Upload id: 1 with u filled (pnid "" for any number), 0 none, -1. */
int
db_upload_get(struct db *d, int64_t id, struct db_upload *u)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_UPLOAD_GET);
	int		 rc;

	memset(u, 0, sizeof(*u));
	sqlite3_bind_int64(s, 1, id);
	if ((rc = dbi_row(d, STMT_UPLOAD_GET, __func__)) != 1)
		return rc;
	dbi_col_copy(s, 0, u->pnid, sizeof(u->pnid));
	dbi_col_copy(s, 1, u->filename, sizeof(u->filename));
	dbi_col_copy(s, 2, u->mime, sizeof(u->mime));
	u->size = sqlite3_column_int64(s, 3);
	dbi_col_copy(s, 4, u->sha, sizeof(u->sha));
	dbi_col_copy(s, 5, u->path, sizeof(u->path));
	sqlite3_reset(s);
	return 1;
}

/*
 * Quick replies of every number and of the numbers (a JSON array) given,
 * by shortcut (id 0), or the one with that id; n rows or -1.
 */
int
db_qr_list(struct db *d, const char *numbers, int64_t id, db_row_cb cb,
    void *arg)
{
	enum stmt	 k = id > 0 ? STMT_QR_GET : STMT_QR_LIST;
	sqlite3_stmt	*s = dbi_st(d, k);

	dbi_bind_text(s, 1, numbers);
	if (id > 0)
		sqlite3_bind_int64(s, 2, id);
	return dbi_each_typed(d, k, cb, arg, __func__);
}

/* DB_DUP when the shortcut is taken. */
enum db_rc
db_qr_insert(struct db *d, const char *shortcut, const char *text,
    const char *pnid, const char *by, int64_t now_s, int64_t *id)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_QR_INSERT);
	enum db_rc	 rc;

	dbi_bind_text(s, 1, shortcut);
	dbi_bind_text(s, 2, text);
	dbi_bind_opt_text(s, 3, pnid);
	dbi_bind_opt_text(s, 4, by);
	sqlite3_bind_int64(s, 5, now_s);
	if ((rc = dbi_run(d, STMT_QR_INSERT, __func__)) == DB_OK)
		*id = sqlite3_last_insert_rowid(d->h);
	return rc;
}

/*
 * Changes what is given (NULL shortcut or text: kept; set_pnid: the
 * number becomes pnid, NULL every number).  DB_DUP when the shortcut is
 * taken.
 */
enum db_rc
db_qr_update(struct db *d, int64_t id, const char *shortcut, const char *text,
    int set_pnid, const char *pnid, int64_t now_s)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_QR_UPDATE);

	sqlite3_bind_int64(s, 1, id);
	dbi_bind_opt_text(s, 2, shortcut);
	dbi_bind_opt_text(s, 3, text);
	dbi_bind_opt_text(s, 4, pnid);
	sqlite3_bind_int(s, 5, set_pnid);
	sqlite3_bind_int64(s, 6, now_s);
	return dbi_run(d, STMT_QR_UPDATE, __func__);
}

enum db_rc
db_qr_delete(struct db *d, int64_t id)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_QR_DELETE);

	sqlite3_bind_int64(s, 1, id);
	return dbi_run(d, STMT_QR_DELETE, __func__);
}

/*
 * A part of GET /stats/daily over [since, until) (unix seconds) for the
 * numbers (a JSON array): rows to cb; n or -1.  extra: DB_DAILY_SCAN's
 * end of the look for replies, DB_DAILY_FAILED's first midnight.
 */
int
db_daily(struct db *d, const char *numbers, int64_t since, int64_t until,
    int64_t extra, enum db_daily part, db_row_cb cb, void *arg)
{
	static const enum stmt parts[DB_DAILY__MAX] = {
		[DB_DAILY_SCAN] = STMT_DAILY_SCAN,
		[DB_DAILY_FAILED] = STMT_DAILY_FAILED,
	};
	sqlite3_stmt	*s;

	if ((int)part < 0 || part >= DB_DAILY__MAX)
		return -1;
	s = dbi_st(d, parts[part]);
	dbi_bind_text(s, 1, numbers);
	sqlite3_bind_int64(s, 2, since);
	sqlite3_bind_int64(s, 3, until);
	sqlite3_bind_int64(s, 4, extra);
	return dbi_each_typed(d, parts[part], cb, arg, __func__);
}
