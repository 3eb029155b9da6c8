/*
 * db_campaigns.c: template campaigns' storage as the API and wactl use
 * it (issue 16): a campaign written with all its recipients in one
 * transaction (all or nothing; those skipped at creation are rows too),
 * the counts by state, lists, a page of recipients, the report, and
 * pausing, resuming and cancelling, which take back the outbox rows the
 * worker has not started in the same transaction.  The worker's side is
 * db_campsend.c.  Its SQL is in db_sql_campaigns.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/string.h>
#include <jansson.h>
#include <sqlite3.h>

#include "db.h"
#include "db_int.h"
#include "log.h"
#include "msg.h"

const char *const db_campaign_states[DB_CAMPAIGN_STATES + 1] = {
	"queued",
	"skipped",
	"sent",
	"delivered",
	"read",
	"failed",
	NULL,		/* for word lists (PARAM_ENUM) */
};

static void
set_err(struct msg_err *e, const char *code, const char *field,
    const char *message)
{
	if (e == NULL)
		return;
	(void)strlcpy(e->code, code, sizeof(e->code));
	(void)strlcpy(e->field, field, sizeof(e->field));
	(void)strlcpy(e->message, message, sizeof(e->message));
}

/*
 * Writes campaign n and every recipient n->next gives in one
 * transaction.  0 with *id set; -1 with e: name_taken (another campaign
 * has the name), busy, unavailable; nothing is left written.  With
 * n->dry_run, n->peek sees it all before it is rolled back (*id is 0).
 */
int
db_campaign_create(struct db *d, const struct campaign_new *n, int64_t *id,
    struct msg_err *e)
{
	struct campaign_row	 r;
	sqlite3_stmt		*s;
	enum db_rc		 rc;
	int			 k;

	*id = 0;
	if ((rc = db_begin(d)) != DB_OK) {
		set_err(e, rc == DB_BUSY ? "busy" : "unavailable", "",
		    "The database is busy; try again in a moment.");
		return -1;
	}
	s = dbi_st(d, STMT_CAMPAIGN_INSERT);
	dbi_bind_text(s, 1, n->name);
	dbi_bind_text(s, 2, n->pnid);
	dbi_bind_text(s, 3, n->template);
	dbi_bind_text(s, 4, n->language);
	dbi_bind_text(s, 5, n->source);
	sqlite3_bind_int64(s, 6, n->start_ms);
	dbi_bind_nz(s, 7, n->created_by);
	sqlite3_bind_int64(s, 8, n->now_ms);
	if ((rc = dbi_run(d, STMT_CAMPAIGN_INSERT, __func__)) != DB_OK) {
		if (rc == DB_DUP)
			set_err(e, "name_taken", "name", "Another campaign "
			    "has this name; choose another.");
		else
			set_err(e, "unavailable", "", "The campaign could not "
			    "be written; try again.");
		goto fail;
	}
	*id = sqlite3_last_insert_rowid(d->h);
	s = dbi_st(d, STMT_CAMPAIGN_RCPT_INSERT);
	sqlite3_bind_int64(s, 1, *id);
	sqlite3_bind_int64(s, 6, 0);	/* rebound below */
	while ((k = n->next(n->arg, &r)) == 1) {
		sqlite3_reset(s);
		dbi_bind_nz(s, 2, r.line);
		dbi_bind_text(s, 3, r.wa_id);
		dbi_bind_text(s, 4, r.params);
		dbi_bind_text(s, 5, r.reason);
		dbi_bind_text(s, 6, n->pnid);
		sqlite3_bind_int64(s, 7, n->now_ms);
		if (dbi_run(d, STMT_CAMPAIGN_RCPT_INSERT, __func__) != DB_OK) {
			set_err(e, "unavailable", "", "The recipients could "
			    "not be written; try again.");
			goto fail;
		}
	}
	if (k == -1) {
		set_err(e, "unavailable", "", "Out of memory writing the "
		    "recipients.");
		goto fail;
	}
	s = dbi_st(d, STMT_CAMPAIGN_DONE_EMPTY);
	sqlite3_bind_int64(s, 1, *id);
	sqlite3_bind_int64(s, 2, n->now_ms);
	if (dbi_run(d, STMT_CAMPAIGN_DONE_EMPTY, __func__) != DB_OK) {
		set_err(e, "unavailable", "", "The campaign could not be "
		    "written; try again.");
		goto fail;
	}
	if (n->dry_run) {
		if (n->peek != NULL)
			n->peek(n->peek_arg, d, *id);
		db_rollback(d);
		*id = 0;
		return 0;
	}
	if (db_commit(d) == -1) {
		set_err(e, "unavailable", "", "The campaign could not be "
		    "written; try again.");
		*id = 0;
		return -1;
	}
	return 0;
fail:
	db_rollback(d);
	*id = 0;
	return -1;
}

/* Campaign id's row (CAMPAIGN_COLS) to cb: 1, 0 no such, -1 error. */
int
db_campaign_get(struct db *d, int64_t id, db_row_cb cb, void *arg)
{
	sqlite3_stmt *s = dbi_st(d, STMT_CAMPAIGN_ROW);

	sqlite3_bind_int64(s, 1, id);
	return dbi_each_typed(d, STMT_CAMPAIGN_ROW, cb, arg, __func__);
}

/* Campaigns newest first (state NULL: all); rows, or -1. */
int
db_campaign_list(struct db *d, const char *state, int limit, db_row_cb cb,
    void *arg)
{
	sqlite3_stmt *s = dbi_st(d, STMT_CAMPAIGN_LIST);

	dbi_bind_text(s, 1, state);
	sqlite3_bind_int(s, 2, limit);
	return dbi_each_typed(d, STMT_CAMPAIGN_LIST, cb, arg, __func__);
}

/* The id of the campaign called name: 1 with *id, 0 none, -1 error. */
int
db_campaign_find(struct db *d, const char *name, int64_t *id)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_CAMPAIGN_BY_NAME);
	int		 rc;

	dbi_bind_text(s, 1, name);
	if ((rc = dbi_row(d, STMT_CAMPAIGN_BY_NAME, __func__)) == 1) {
		*id = sqlite3_column_int64(s, 0);
		sqlite3_reset(s);
	}
	return rc;
}

/*
 * counts[] by db_campaign_states[], and the skipped ones by reason into
 * the object skipped ({"duplicate": 2, ...}; NULL: not wanted); 0 or -1.
 */
int
db_campaign_counts(struct db *d, int64_t id,
    int64_t counts[DB_CAMPAIGN_STATES], json_t *skipped)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_CAMPAIGN_COUNTS);
	const char	*st, *why;
	int64_t		 n;
	int		 rc, k;

	memset(counts, 0, sizeof(int64_t) * DB_CAMPAIGN_STATES);
	sqlite3_bind_int64(s, 1, id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		st = (const char *)sqlite3_column_text(s, 0);
		why = (const char *)sqlite3_column_text(s, 1);
		n = sqlite3_column_int64(s, 2);
		for (k = 0; st != NULL && k < DB_CAMPAIGN_STATES; k++)
			if (strcmp(st, db_campaign_states[k]) == 0)
				counts[k] += n;
		if (skipped != NULL && why != NULL)
			(void)json_object_set_new(skipped, why,
			    json_integer(n));
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		dbi_err(d, __func__, dbi_sql(STMT_CAMPAIGN_COUNTS));
		return -1;
	}
	return 0;
}

/*
 * The params (JSON text) of the first recipient still queued: 1 with
 * *params malloc'd (the caller frees), 0 none, -1 error.
 */
int
db_campaign_first(struct db *d, int64_t id, char **params)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_CAMPAIGN_FIRST);
	int		 rc, oom = 0;

	*params = NULL;
	sqlite3_bind_int64(s, 1, id);
	if ((rc = dbi_row(d, STMT_CAMPAIGN_FIRST, __func__)) == 1) {
		*params = dbi_col_dup(s, 0, &oom);
		sqlite3_reset(s);
		if (oom)
			return -1;
	}
	return rc;
}

/* A page of recipients newest first (state NULL: all); rows or -1. */
int
db_campaign_recipients(struct db *d, int64_t id, const char *state,
    int64_t before, int limit, db_row_cb cb, void *arg)
{
	enum stmt	 k = state != NULL ? STMT_CAMPAIGN_RCPTS_STATE :
			    STMT_CAMPAIGN_RCPTS;
	sqlite3_stmt	*s = dbi_st(d, k);

	sqlite3_bind_int64(s, 1, id);
	dbi_bind_nz(s, 2, before);
	sqlite3_bind_int(s, 3, limit);
	if (state != NULL)
		dbi_bind_text(s, 4, state);
	return dbi_each_typed(d, k, cb, arg, __func__);
}

/* Every recipient in the file's order; rows or -1. */
int
db_campaign_report(struct db *d, int64_t id, db_row_cb cb, void *arg)
{
	sqlite3_stmt *s = dbi_st(d, STMT_CAMPAIGN_REPORT);

	sqlite3_bind_int64(s, 1, id);
	return dbi_each_typed(d, STMT_CAMPAIGN_REPORT, cb, arg, __func__);
}

/* Runs k with (id, a, b) or (id, text): -1 on failure. */
static int
run2(struct db *d, enum stmt k, int64_t id, const char *text, int64_t v)
{
	sqlite3_stmt *s = dbi_st(d, k);

	sqlite3_bind_int64(s, 1, id);
	if (text != NULL)
		dbi_bind_text(s, 2, text);
	else
		sqlite3_bind_int64(s, 2, v);
	return dbi_run(d, k, __func__) == DB_OK ? 0 : -1;
}

/*
 * Pauses (scheduled or running), resumes (paused: running, or scheduled
 * when its start is still ahead) or cancels (any but done) campaign id,
 * in one transaction with taking back its outbox rows still queued:
 * paused, their recipients wait again without one; cancelled, every
 * recipient not in the worker's hands is skipped (cancelled).  Asking
 * for the state it is in changes nothing.  1 done, 0 no such campaign,
 * -2 not possible from its state (done, or cancelled), -1 error.
 */
int
db_campaign_act(struct db *d, int64_t id, enum db_campaign_act act,
    int64_t now_ms)
{
	sqlite3_stmt	*s;
	const char	*to = NULL;
	char		 state[16];
	int64_t		 start;
	int		 rc;

	if (db_begin(d) != DB_OK)
		return -1;
	s = dbi_st(d, STMT_CAMPAIGN_GET);
	sqlite3_bind_int64(s, 1, id);
	if ((rc = dbi_row(d, STMT_CAMPAIGN_GET, __func__)) != 1) {
		db_rollback(d);
		return rc;
	}
	dbi_col_copy(s, 6, state, sizeof(state));
	start = sqlite3_column_int64(s, 7);
	sqlite3_reset(s);
	if (strcmp(state, "done") == 0 || (strcmp(state, "cancelled") == 0 &&
	    act != DB_CAMPAIGN_CANCEL)) {
		db_rollback(d);
		return -2;
	}
	switch (act) {
	case DB_CAMPAIGN_PAUSE:
		if (strcmp(state, "paused") != 0)
			to = "paused";
		break;
	case DB_CAMPAIGN_RESUME:
		if (strcmp(state, "paused") == 0)
			to = start > now_ms ? "scheduled" : "running";
		break;
	default:
		if (strcmp(state, "cancelled") != 0)
			to = "cancelled";
		break;
	}
	if (to == NULL) {
		db_rollback(d);
		return 1;
	}
	if (act != DB_CAMPAIGN_RESUME && (run2(d, STMT_CAMPAIGN_OUTBOX_TAKE,
	    id, act == DB_CAMPAIGN_PAUSE ? "campaign paused" :
	    "campaign cancelled", 0) == -1 || run2(d, act == DB_CAMPAIGN_PAUSE ?
	    STMT_CAMPAIGN_RCPT_UNLINK : STMT_CAMPAIGN_RCPT_CANCEL, id, NULL,
	    now_ms) == -1))
		goto fail;
	s = dbi_st(d, STMT_CAMPAIGN_SET_STATE);
	sqlite3_bind_int64(s, 1, id);
	dbi_bind_text(s, 2, to);
	sqlite3_bind_int64(s, 3, now_ms);
	if (dbi_run(d, STMT_CAMPAIGN_SET_STATE, __func__) != DB_OK)
		goto fail;
	return db_commit(d) == 0 ? 1 : -1;
fail:
	db_rollback(d);
	return -1;
}

/* The contacts of a segment (wa_id, profile_name) to cb; rows or -1. */
int
db_campaign_segment(struct db *d, const char *pnid, const char *label,
    int64_t since_s, db_row_cb cb, void *arg)
{
	sqlite3_stmt *s = dbi_st(d, STMT_CAMPAIGN_SEGMENT);

	dbi_bind_text(s, 1, pnid);
	dbi_bind_text(s, 2, label);
	dbi_bind_nz(s, 3, since_s);
	return dbi_each_typed(d, STMT_CAMPAIGN_SEGMENT, cb, arg, __func__);
}
