/*
 * db_alerts.c: alerts (issue 16, email alerts).  The worker raises one
 * row per episode (UNIQUE episode: a second raise of the same one is a
 * no-op) and resolves it when its condition ends; the mails that carry
 * them are rows too, queued in batches per person and sent by the
 * worker with retries (alerts.c).  Also GET /alerts and resolving one.
 */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "db.h"
#include "db_int.h"
#include "log.h"

/*
 * Raises the waiting alerts of customers waiting since since_s or
 * before, and resolves those whose wait ended.  Inside the caller's
 * transaction.  Returns the alerts raised, or -1.
 */
int
db_alert_waiting(struct db *d, int64_t since_s, int64_t now_s)
{
	sqlite3_stmt	*s;
	int		 n;

	s = dbi_st(d, STMT_ALERT_WAITING_END);
	sqlite3_bind_int64(s, 1, now_s);
	if (dbi_run(d, STMT_ALERT_WAITING_END, __func__) != DB_OK)
		return -1;
	s = dbi_st(d, STMT_ALERT_WAITING_RAISE);
	sqlite3_bind_int64(s, 1, since_s);
	sqlite3_bind_int64(s, 2, now_s);
	if (dbi_run(d, STMT_ALERT_WAITING_RAISE, __func__) != DB_OK)
		return -1;
	n = sqlite3_changes(d->h);
	return n;
}

/* A gateway alert (for the admins): 1 raised, 0 known episode, -1. */
int
db_alert_raise(struct db *d, const char *kind, const char *pnid,
    const char *episode, const char *summary, const char *detail,
    int64_t now_s)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_ALERT_RAISE);

	dbi_bind_text(s, 1, kind);
	dbi_bind_opt_text(s, 2, pnid);
	dbi_bind_text(s, 3, episode);
	dbi_bind_text(s, 4, summary);
	dbi_bind_opt_text(s, 5, detail);
	sqlite3_bind_int64(s, 6, now_s);
	if (dbi_run(d, STMT_ALERT_RAISE, __func__) != DB_OK)
		return -1;
	return sqlite3_changes(d->h) > 0;
}

/* 1 when a gateway alert of kind for pnid is open, 0 not, -1. */
int
db_alert_open(struct db *d, const char *kind, const char *pnid)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_ALERT_OPEN);
	int		 rc;

	dbi_bind_text(s, 1, kind);
	dbi_bind_opt_text(s, 2, pnid);
	if ((rc = dbi_row(d, STMT_ALERT_OPEN, __func__)) == 1)
		sqlite3_reset(s);
	return rc;
}

/*
 * The gateway condition kind (of number pnid, NULL the gateway's) ended,
 * or became keep_episode (NULL: ended): the other open ones resolved.
 * Returns how many, or -1.
 */
int
db_alert_end(struct db *d, const char *kind, const char *pnid,
    const char *keep_episode, int64_t now_s)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_ALERT_END);

	dbi_bind_text(s, 1, kind);
	dbi_bind_opt_text(s, 2, pnid);
	sqlite3_bind_int64(s, 3, now_s);
	dbi_bind_opt_text(s, 4, keep_episode);
	if (dbi_run(d, STMT_ALERT_END, __func__) != DB_OK)
		return -1;
	return sqlite3_changes(d->h);
}

/* Each number's health (STMT_ALERT_NUMBERS) to cb.  n or -1. */
int
db_alert_numbers(struct db *d, db_row_cb cb, void *arg)
{
	(void)dbi_st(d, STMT_ALERT_NUMBERS);
	return dbi_each_typed(d, STMT_ALERT_NUMBERS, cb, arg, __func__);
}

/* Sends queued since since_ms: *total and *failed.  0 or -1. */
int
db_alert_sends(struct db *d, int64_t since_ms, int64_t *total,
    int64_t *failed)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_ALERT_SENDS);

	sqlite3_bind_int64(s, 1, since_ms);
	if (dbi_row(d, STMT_ALERT_SENDS, __func__) != 1)
		return -1;
	*total = sqlite3_column_int64(s, 0);
	*failed = sqlite3_column_int64(s, 1);
	sqlite3_reset(s);
	return 0;
}

/* GET /alerts's rows to cb (state NULL: any).  n or -1. */
int
db_alert_list(struct db *d, const char *state, int64_t user_id, int admin,
    int64_t limit, int64_t before, db_row_cb cb, void *arg)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_ALERT_LIST);

	dbi_bind_opt_text(s, 1, state);
	sqlite3_bind_int64(s, 2, user_id);
	sqlite3_bind_int(s, 3, admin ? 1 : 0);
	sqlite3_bind_int64(s, 4, limit);
	sqlite3_bind_int64(s, 5, before);
	return dbi_each_typed(d, STMT_ALERT_LIST, cb, arg, __func__);
}

/* One alert's row to cb.  1, 0 when none, -1. */
int
db_alert_get(struct db *d, int64_t id, db_row_cb cb, void *arg)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_ALERT_GET);

	sqlite3_bind_int64(s, 1, id);
	return dbi_each_typed(d, STMT_ALERT_GET, cb, arg, __func__);
}

/*
 * Resolves alert id when it is open and user_id's (or, admin, the
 * gateway's).  1 done, 0 not so, -1.
 */
int
db_alert_resolve(struct db *d, int64_t id, int64_t user_id, int admin,
    int64_t now_s)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_ALERT_RESOLVE);

	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, now_s);
	sqlite3_bind_int64(s, 3, user_id);
	sqlite3_bind_int(s, 4, admin ? 1 : 0);
	if (dbi_run(d, STMT_ALERT_RESOLVE, __func__) != DB_OK)
		return -1;
	return sqlite3_changes(d->h) > 0;
}

/* The people a mail is due to (id, email, name) to cb.  n or -1. */
int
db_alert_mail_who(struct db *d, int64_t quiet_since_ms,
    int64_t raised_since_s, db_row_cb cb, void *arg)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_ALERT_MAIL_WHO);

	sqlite3_bind_int64(s, 1, quiet_since_ms);
	sqlite3_bind_int64(s, 2, raised_since_s);
	return dbi_each_typed(d, STMT_ALERT_MAIL_WHO, cb, arg, __func__);
}

/* Their alerts no mail carried (id, summary, created_at).  n or -1. */
int
db_alert_mail_alerts(struct db *d, int64_t user_id, int64_t raised_since_s,
    db_row_cb cb, void *arg)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_ALERT_MAIL_ALERTS);

	sqlite3_bind_int64(s, 1, user_id);
	sqlite3_bind_int64(s, 2, raised_since_s);
	return dbi_each_typed(d, STMT_ALERT_MAIL_ALERTS, cb, arg, __func__);
}

/* A mail queued, due now.  0 or -1. */
int
db_alert_mail_insert(struct db *d, int64_t user_id, const char *rcpt,
    const char *subject, const char *body, const char *alert_ids,
    int64_t now_ms)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_ALERT_MAIL_INSERT);

	sqlite3_bind_int64(s, 1, user_id);
	dbi_bind_text(s, 2, rcpt);
	dbi_bind_text(s, 3, subject);
	dbi_bind_text(s, 4, body);
	dbi_bind_text(s, 5, alert_ids);
	sqlite3_bind_int64(s, 6, now_ms);
	return dbi_run(d, STMT_ALERT_MAIL_INSERT, __func__) == DB_OK ? 0 : -1;
}

void
db_alert_mail_clear(struct db_alert_mail *m)
{
	free(m->recipient);
	free(m->subject);
	free(m->body);
	memset(m, 0, sizeof(*m));
}

/* The mail due first into m (its strings ours).  1, 0 none due, -1. */
int
db_alert_mail_next(struct db *d, int64_t now_ms, struct db_alert_mail *m)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_ALERT_MAIL_NEXT);
	int		 rc, oom = 0;

	memset(m, 0, sizeof(*m));
	sqlite3_bind_int64(s, 1, now_ms);
	if ((rc = dbi_row(d, STMT_ALERT_MAIL_NEXT, __func__)) != 1)
		return rc;
	m->id = sqlite3_column_int64(s, 0);
	m->recipient = dbi_col_dup(s, 1, &oom);
	m->subject = dbi_col_dup(s, 2, &oom);
	m->body = dbi_col_dup(s, 3, &oom);
	m->attempts = sqlite3_column_int64(s, 4);
	m->created_at = sqlite3_column_int64(s, 5);
	sqlite3_reset(s);
	if (oom || m->recipient == NULL || m->subject == NULL ||
	    m->body == NULL) {
		log_warnx("%s: out of memory", __func__);
		db_alert_mail_clear(m);
		return -1;
	}
	return 1;
}

/* After an attempt at mail id: its new state.  0 or -1. */
int
db_alert_mail_done(struct db *d, int64_t id, const char *state,
    int64_t next_ms, const char *error, int64_t sent_ms)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_ALERT_MAIL_DONE);

	sqlite3_bind_int64(s, 1, id);
	dbi_bind_text(s, 2, state);
	sqlite3_bind_int64(s, 3, next_ms);
	dbi_bind_opt_text(s, 4, error);
	if (sent_ms > 0)
		sqlite3_bind_int64(s, 5, sent_ms);
	else
		sqlite3_bind_null(s, 5);
	return dbi_run(d, STMT_ALERT_MAIL_DONE, __func__) == DB_OK ? 0 : -1;
}
