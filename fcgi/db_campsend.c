/*
 * db_campsend.c: the worker's side of template campaigns (issue 16):
 * which campaigns are due, their next recipients, each recipient tied
 * to the outbox row that sends it, and the roll-up of what the outbox
 * and Meta's statuses say of that row into the recipient (forward only).
 * Everything here runs inside the caller's transaction.
 */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "db.h"
#include "db_int.h"
#include "log.h"

#define INTERRUPTED	"interrupted: the worker stopped during the call; " \
			"not sent again so nobody gets it twice"

/* The ids of the campaigns due at now_ms, at most max: n or -1. */
int
db_campsend_due(struct db *d, int64_t now_ms, int64_t *ids, size_t max)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_CAMPSEND_DUE);
	size_t		 n = 0;
	int		 rc;

	sqlite3_bind_int64(s, 1, now_ms);
	while (n < max && (rc = sqlite3_step(s)) == SQLITE_ROW)
		ids[n++] = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	if (n < max && rc != SQLITE_DONE) {
		dbi_err(d, __func__, dbi_sql(STMT_CAMPSEND_DUE));
		return -1;
	}
	return (int)n;
}

/* Campaign id: 1 with *c filled, 0 gone, -1. */
int
db_campsend_get(struct db *d, int64_t id, struct db_campsend *c)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_CAMPSEND_GET);
	int		 rc;

	memset(c, 0, sizeof(*c));
	sqlite3_bind_int64(s, 1, id);
	if ((rc = dbi_row(d, STMT_CAMPSEND_GET, __func__)) != 1)
		return rc;
	c->id = id;
	dbi_col_copy(s, 0, c->pnid, sizeof(c->pnid));
	dbi_col_copy(s, 1, c->tmpl, sizeof(c->tmpl));
	dbi_col_copy(s, 2, c->language, sizeof(c->language));
	dbi_col_copy(s, 3, c->state, sizeof(c->state));
	c->wait_until = sqlite3_column_int64(s, 4);
	sqlite3_reset(s);
	return 1;
}

/* scheduled -> running: 1 changed, 0 not scheduled, -1. */
int
db_campsend_start(struct db *d, int64_t id, int64_t now_ms)
{
	if (dbi_run_id(d, STMT_CAMPSEND_START, id, 1, now_ms, 0, __func__) ==
	    -1)
		return -1;
	return sqlite3_changes(d->h) > 0;
}

/* Campaign rows of pnid waiting in the outbox or in flight: 0 or -1. */
int
db_campsend_open(struct db *d, const char *pnid, int64_t *n)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_CAMPSEND_OPEN);

	dbi_bind_text(s, 1, pnid);
	if (dbi_row(d, STMT_CAMPSEND_OPEN, __func__) != 1)
		return -1;
	*n = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return 0;
}

void
db_campsend_rcpt_clear(struct db_campsend_rcpt *r, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		free(r[i].wa_id);
		free(r[i].params);
		r[i].wa_id = r[i].params = NULL;
	}
}

/*
 * The next at most max queued recipients of campaign id not yet handed
 * to the outbox, in id order, into r (strings malloc'd: the caller
 * frees with db_campsend_rcpt_clear()).  n or -1.
 */
int
db_campsend_next(struct db *d, int64_t id, struct db_campsend_rcpt *r,
    size_t max)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_CAMPSEND_NEXT);
	size_t		 n = 0;
	int		 rc, oom = 0;

	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, (int64_t)max);
	while (n < max && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		r[n].id = sqlite3_column_int64(s, 0);
		r[n].wa_id = dbi_col_dup(s, 1, &oom);
		r[n].params = dbi_col_dup(s, 2, &oom);
		n++;
		if (oom)
			break;
	}
	sqlite3_reset(s);
	if (oom || (n < max && rc != SQLITE_DONE)) {
		if (!oom)
			dbi_err(d, __func__, dbi_sql(STMT_CAMPSEND_NEXT));
		else
			log_warnx("%s: out of memory", __func__);
		db_campsend_rcpt_clear(r, n);
		return -1;
	}
	return (int)n;
}

/* Recipient rid went to the outbox as row outbox_id.  0 or -1. */
int
db_campsend_handed(struct db *d, int64_t rid, int64_t outbox_id,
    int64_t now_ms)
{
	return dbi_run_id(d, STMT_CAMPSEND_HANDED, rid, 2, outbox_id, now_ms,
	    __func__);
}

/* Recipient rid settled before the outbox (skipped, failed).  0 or -1. */
int
db_campsend_settle(struct db *d, int64_t rid, const char *state,
    const char *reason, int64_t now_ms)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_CAMPSEND_SETTLE);

	sqlite3_bind_int64(s, 1, rid);
	dbi_bind_text(s, 2, state);
	dbi_bind_text(s, 3, reason);
	sqlite3_bind_int64(s, 4, now_ms);
	return dbi_run(d, STMT_CAMPSEND_SETTLE, __func__) == DB_OK ? 0 : -1;
}

/* Campaign id waits until until_ms for reason (0 and NULL: not). */
int
db_campsend_wait(struct db *d, int64_t id, int64_t until_ms,
    const char *reason, int64_t now_ms)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_CAMPSEND_WAIT);

	sqlite3_bind_int64(s, 1, id);
	dbi_bind_nz(s, 2, until_ms);
	dbi_bind_text(s, 3, reason);
	sqlite3_bind_int64(s, 4, now_ms);
	return dbi_run(d, STMT_CAMPSEND_WAIT, __func__) == DB_OK ? 0 : -1;
}

/*
 * A running campaign none of whose recipients is queued (handed ones
 * stay queued until the outbox settles them) is done.  1 done now, 0
 * not (yet), -1.
 */
int
db_campsend_finish(struct db *d, int64_t id, int64_t now_ms)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_CAMPSEND_QUEUED);
	int		 queued;

	sqlite3_bind_int64(s, 1, id);
	if (dbi_row(d, STMT_CAMPSEND_QUEUED, __func__) != 1)
		return -1;
	queued = sqlite3_column_int(s, 0);
	sqlite3_reset(s);
	if (queued)
		return 0;
	if (dbi_run_id(d, STMT_CAMPSEND_DONE, id, 1, now_ms, 0, __func__) ==
	    -1)
		return -1;
	return sqlite3_changes(d->h) > 0;
}

/*
 * The newest send to the contact of pnid whose newest send counted in
 * the tier since since_ms is oldest: 1 with *at (unix ms), 0 none, -1.
 */
int
db_campsend_tier_free(struct db *d, const char *pnid, int64_t since_ms,
    int64_t *at)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_CAMPSEND_TIER_FREE);
	int		 rc = 0;

	dbi_bind_text(s, 1, pnid);
	sqlite3_bind_int64(s, 2, since_ms);
	if (dbi_row(d, STMT_CAMPSEND_TIER_FREE, __func__) != 1)
		return -1;
	if (sqlite3_column_type(s, 0) != SQLITE_NULL) {
		*at = sqlite3_column_int64(s, 0);
		rc = 1;
	}
	sqlite3_reset(s);
	return rc;
}

/*
 * Called when none of the number's campaign rows is open in the outbox:
 * a recipient of campaign id still queued with an outbox row then lost
 * it to a person's cancel (DELETE /outbox/{id}) and is skipped,
 * cancelled.  Looks at most max of the first queued.  n or -1.
 */
int
db_campsend_unstick(struct db *d, int64_t id, int max, int64_t now_ms)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_CAMPSEND_FRONT);
	int64_t		 ids[64];
	const char	*st;
	int		 n = 0, i, rc;

	if (max > (int)(sizeof(ids) / sizeof(ids[0])))
		max = (int)(sizeof(ids) / sizeof(ids[0]));
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int(s, 2, max);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if ((st = (const char *)sqlite3_column_text(s, 1)) == NULL)
			break;	/* not handed yet: the rest neither */
		if (strcmp(st, "cancelled") == 0)
			ids[n++] = sqlite3_column_int64(s, 0);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		dbi_err(d, __func__, dbi_sql(STMT_CAMPSEND_FRONT));
		return -1;
	}
	for (i = 0; i < n; i++)
		if (db_campsend_settle(d, ids[i], "skipped", "cancelled",
		    now_ms) == -1)
			return -1;
	return n;
}

/* Roll-up: Meta accepted outbox row id (db_outbox_accept).  0 or -1. */
int
db_campsend_accepted(struct db *d, int64_t outbox_id, int64_t now_ms)
{
	return dbi_run_id(d, STMT_CAMPSEND_ACCEPTED, outbox_id, 1, now_ms, 0,
	    __func__);
}

/*
 * Roll-up: outbox row id failed (db_outbox_fail) with Meta's code (0
 * ours) and title.  0 or -1.
 */
int
db_campsend_failed(struct db *d, int64_t outbox_id, int64_t code,
    const char *title, int64_t now_ms)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_CAMPSEND_FAILED);

	sqlite3_bind_int64(s, 1, outbox_id);
	dbi_bind_nz(s, 2, code);
	dbi_bind_text(s, 3, title);
	sqlite3_bind_int64(s, 4, now_ms);
	return dbi_run(d, STMT_CAMPSEND_FAILED, __func__) == DB_OK ? 0 : -1;
}

/*
 * Roll-up: Meta's status (sent, delivered, read, failed with code and
 * title) of wamid moves its recipient forward, never back.  Other
 * statuses and messages that are not a campaign's change nothing.
 * 0 or -1.
 */
int
db_campsend_status(struct db *d, const char *wamid, const char *status,
    int64_t code, const char *title, int64_t now_ms)
{
	static const struct {
		const char	*name;
		int		 rank;
	} ranks[] = {
		{ "sent", 2 }, { "failed", 3 }, { "delivered", 4 },
		{ "read", 6 },
	};
	sqlite3_stmt	*s;
	size_t		 i;
	int		 failed;

	if (wamid == NULL || status == NULL)
		return 0;
	for (i = 0; i < sizeof(ranks) / sizeof(ranks[0]); i++)
		if (strcmp(status, ranks[i].name) == 0)
			break;
	if (i == sizeof(ranks) / sizeof(ranks[0]))
		return 0;
	failed = strcmp(status, "failed") == 0;
	s = dbi_st(d, STMT_CAMPSEND_STATUS);
	dbi_bind_text(s, 1, wamid);
	dbi_bind_text(s, 2, status);
	if (failed) {
		dbi_bind_nz(s, 3, code);
		dbi_bind_text(s, 4, title != NULL ? title : "failed");
	}
	sqlite3_bind_int64(s, 5, now_ms);
	sqlite3_bind_int(s, 6, ranks[i].rank);
	if (!failed) {
		sqlite3_bind_null(s, 3);
		sqlite3_bind_null(s, 4);
	}
	return dbi_run(d, STMT_CAMPSEND_STATUS, __func__) == DB_OK ? 0 : -1;
}

/*
 * At the worker's start, before the outbox requeues what a crash left
 * sending: a campaign's rows in flight are failed instead (Meta may
 * already have them, and a campaign must never reach one person twice),
 * their recipients with them.  A later status for one still rolls it
 * forward (db_outbox_accept).  Returns the number failed, or -1.
 */
int
db_campsend_recover(struct db *d)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_CAMPSEND_STRANDED);
	int64_t		*ids = NULL, *t;
	size_t		 n = 0, cap = 0, i;
	int		 rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((t = reallocarray(ids, cap, sizeof(*ids))) ==
			    NULL) {
				log_warnx("%s: out of memory", __func__);
				rc = SQLITE_NOMEM;
				break;
			}
			ids = t;
		}
		ids[n++] = sqlite3_column_int64(s, 0);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		if (rc != SQLITE_NOMEM)
			dbi_err(d, __func__, dbi_sql(STMT_CAMPSEND_STRANDED));
		free(ids);
		return -1;
	}
	for (i = 0; i < n; i++)
		if (db_outbox_fail(d, ids[i], 0, INTERRUPTED, NULL) == -1) {
			free(ids);
			return -1;
		}
	free(ids);
	return (int)n;
}
