/*
 * db_health.c: what Meta's account webhooks say of templates and numbers
 * (reference 11.3, 14.3, 15; issue 13).  Inside the apply's transaction
 * and savepoint, after the change was kept whole in subscription_events:
 * template status, quality and category updates change the templates
 * row of the WABA (and queue one template_sync); quality, account and
 * capability updates change the numbers rows they are about.  Each row
 * keeps Meta's time of its last change, so a late, older webhook never
 * undoes a newer one.  The worker logs at warn when a number gets worse.
 * Also the reads of GET /numbers, /status, /metrics and /health.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sqlite3.h>

#include "db.h"
#include "db_int.h"
#include "log.h"
#include "policy.h"

/* What a number looked like, for the warnings (all "" when NULL). */
struct before {
	char	 label[40];
	char	 quality[32];
	char	 tier[32];
	char	 state[64];
	int	 reinstated;	/* account_detail says REINSTATE */
};

enum field {
	F_TMPL_STATUS,		/* message_template_status_update */
	F_TMPL_QUALITY,		/* message_template_quality_update */
	F_TMPL_CATEGORY,	/* template_category_update */
	F_NUM_QUALITY,		/* phone_number_quality_update */
	F_NUM_ACCOUNT,		/* account_update */
	F_NUM_CAPABILITY,	/* business_capability_update */
	F__MAX
};

static const char *const fields[F__MAX] = {
	"message_template_status_update",	/* F_TMPL_STATUS */
	"message_template_quality_update",	/* F_TMPL_QUALITY */
	"template_category_update",		/* F_TMPL_CATEGORY */
	"phone_number_quality_update",		/* F_NUM_QUALITY */
	"account_update",			/* F_NUM_ACCOUNT */
	"business_capability_update",		/* F_NUM_CAPABILITY */
};

/*
 * The template status an event of message_template_status_update sets,
 * or NULL when it says nothing of the status (reference 11.3):
 * REINSTATED is approved again; FLAGGED (a quality warning), UNLOCKED
 * and UNARCHIVED leave it to the sync they queue.
 */
static const char *
tmpl_status(const char *event)
{
	static const char *const keep[] = { "FLAGGED", "UNLOCKED",
	    "UNARCHIVED" };
	size_t i;

	if (event == NULL || *event == '\0')
		return NULL;
	if (strcmp(event, "REINSTATED") == 0)
		return "APPROVED";
	for (i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		if (strcmp(event, keep[i]) == 0)
			return NULL;
	return event;
}

/*
 * 1 when an account_update event means the account (or number) may not
 * send freely: a restriction, a violation, a ban or disablement not
 * reinstated, deletion or offboarding.
 */
int
db_health_restricted(const char *state, const char *detail)
{
	static const char *const bad[] = { "ACCOUNT_RESTRICTION",
	    "ACCOUNT_VIOLATION", "DISABLED_UPDATE", "ACCOUNT_DELETED",
	    "ACCOUNT_OFFBOARDED" };
	size_t i;

	if (state == NULL)
		return 0;
	if (strcmp(state, "DISABLED_UPDATE") == 0 && detail != NULL &&
	    strstr(detail, "REINSTATE") != NULL)
		return 0;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (strcmp(state, bad[i]) == 0)
			return 1;
	return 0;
}

/* A quality's rank: GREEN 3, YELLOW 2, RED 1, anything else 0. */
static int
quality_rank(const char *q)
{
	if (strcmp(q, "GREEN") == 0)
		return 3;
	if (strcmp(q, "YELLOW") == 0)
		return 2;
	if (strcmp(q, "RED") == 0)
		return 1;
	return 0;
}

/* 1 when tier b allows fewer customers than a (unlimited is the most). */
static int
tier_dropped(const char *a, const char *b)
{
	int64_t x = policy_tier_reach(a), y = policy_tier_reach(b);

	if (x < 0 || y < 0)
		return 0;
	if (x == 0)
		return y != 0;
	return y != 0 && y < x;
}

/* Reads pnid's row into b.  0, or -1. */
static int
before_get(struct db *d, const char *pnid, struct before *b)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_HEALTH_NUMBER_OLD);
	const char	*detail;
	int		 rc;

	memset(b, 0, sizeof(*b));
	(void)dbi_bind_text(s, 1, pnid);
	if ((rc = dbi_row(d, STMT_HEALTH_NUMBER_OLD, __func__)) != 1)
		return rc;
	dbi_col_copy(s, 0, b->label, sizeof(b->label));
	dbi_col_copy(s, 1, b->quality, sizeof(b->quality));
	dbi_col_copy(s, 2, b->tier, sizeof(b->tier));
	dbi_col_copy(s, 3, b->state, sizeof(b->state));
	detail = (const char *)sqlite3_column_text(s, 4);
	b->reinstated = detail != NULL && strstr(detail, "REINSTATE") != NULL;
	sqlite3_reset(s);
	return 0;
}

/*
 * Logs at warn what got worse on one number between a and b: a quality
 * down to YELLOW or RED, a lower tier, and (account 1: an account_update
 * was applied) a restriction or ban.  Names the number by label and id;
 * Meta's words are escaped.
 */
static void
warn_worse(const char *pnid, const struct before *a, const struct before *b,
    int account)
{
	char	 x[80], y[80];

	if (quality_rank(b->quality) > 0 && quality_rank(b->quality) < 3 &&
	    (quality_rank(a->quality) == 0 ||
	    quality_rank(b->quality) < quality_rank(a->quality))) {
		(void)log_escape(x, sizeof(x), a->quality, strlen(a->quality));
		log_warnx("number %s (%s): quality dropped to %s (was %s)",
		    b->label, pnid, b->quality, a->quality[0] ? x : "unknown");
	}
	if (tier_dropped(a->tier, b->tier))
		log_warnx("number %s (%s): messaging tier dropped to %s "
		    "(was %s)", b->label, pnid, b->tier, a->tier);
	if (account && db_health_restricted(b->state, b->reinstated ?
	    "REINSTATE" : NULL)) {
		(void)log_escape(y, sizeof(y), b->state, strlen(b->state));
		log_warnx("number %s (%s): account_update %s: sending may be "
		    "restricted (GET /numbers/%s says more)", b->label, pnid, y,
		    pnid);
	}
}

/* Collects the target ids of STMT_HEALTH_TARGETS.  Count, or -1. */
static int
targets(struct db *d, const struct wh_item *it, int one, char (**out)[32])
{
	sqlite3_stmt	*s = dbi_st(d, STMT_HEALTH_TARGETS);
	char		(*ids)[32] = NULL, (*p)[32];
	size_t		 n = 0, cap = 0;
	int		 rc;

	*out = NULL;
	dbi_bind_opt_text(s, 1, it->waba_id);
	(void)dbi_bind_text(s, 2, it->raw);
	sqlite3_bind_int(s, 3, one);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 4;
			if ((p = reallocarray(ids, cap, sizeof(*ids))) == NULL) {
				log_warnx("%s: out of memory", __func__);
				goto fail;
			}
			ids = p;
		}
		dbi_col_copy(s, 0, ids[n++], sizeof(ids[0]));
	}
	if (rc != SQLITE_DONE) {
		dbi_err(d, __func__, dbi_sql(STMT_HEALTH_TARGETS));
		goto fail;
	}
	sqlite3_reset(s);
	*out = ids;
	return (int)n;
fail:
	sqlite3_reset(s);
	free(ids);
	return -1;
}

/*
 * Applies a number webhook (quality, account, capability) at Meta time t
 * to each number it is about, and warns of what got worse.  0, or -1.
 */
static int
apply_number(struct db *d, enum field f, const struct wh_item *it,
    int64_t t, int64_t now_ms)
{
	static const enum stmt up[F__MAX] = {
		[F_NUM_QUALITY] = STMT_HEALTH_QUALITY,
		[F_NUM_ACCOUNT] = STMT_HEALTH_ACCOUNT,
		[F_NUM_CAPABILITY] = STMT_HEALTH_CAPABILITY,
	};
	sqlite3_stmt	*s;
	struct before	 a, b;
	char		(*ids)[32];
	int		 n, i, rc = -1;

	if (f == F_NUM_ACCOUNT && (it->event == NULL || *it->event == '\0'))
		return 0;	/* kept in subscription_events only */
	if ((n = targets(d, it, f == F_NUM_QUALITY, &ids)) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (before_get(d, ids[i], &a) == -1)
			goto done;
		s = dbi_st(d, up[f]);
		(void)dbi_bind_text(s, 1, ids[i]);
		(void)dbi_bind_text(s, 2, it->raw);
		sqlite3_bind_int64(s, 3, t);
		if (f == F_NUM_ACCOUNT)
			(void)dbi_bind_text(s, 4, it->event);
		if (dbi_run(d, up[f], __func__) != DB_OK)
			goto done;
		if (sqlite3_changes(d->h) == 0)
			continue;	/* older than what the row says */
		if (before_get(d, ids[i], &b) == -1)
			goto done;
		warn_worse(ids[i], &a, &b, f == F_NUM_ACCOUNT);
		/* Issue 16: number.quality, in this transaction. */
		if (f == F_NUM_QUALITY && db_event_emit(d, "number.quality",
		    ids[i], 0, json_pack("{s:s, s:s?, s:s?, s:s?}",
		    "phone_number_id", ids[i], "quality", b.quality[0] ?
		    b.quality : NULL, "previous", a.quality[0] ? a.quality :
		    NULL, "event", it->event), now_ms) == -1)
			goto done;
	}
	rc = 0;
done:
	free(ids);
	return rc;
}

/*
 * Applies a template webhook at Meta time t to WABA entry.id's row (by
 * Meta's id, else name and language); a status for a template not known
 * yet is a minimal row.  Then one template_sync is queued for the WABA
 * (unless one waits already), so the rest (components) follows.
 */
static int
apply_template(struct db *d, enum field f, const struct wh_item *it,
    int64_t t, int64_t now_ms)
{
	sqlite3_stmt	*s;
	const char	*st = f == F_TMPL_STATUS ? tmpl_status(it->event) :
			    NULL;
	int64_t		 id = 0;
	int		 rc;

	if (it->waba_id == NULL || *it->waba_id == '\0')
		return 0;	/* no account to file it under */
	s = dbi_st(d, STMT_HEALTH_TMPL_FIND);
	(void)dbi_bind_text(s, 1, it->waba_id);
	(void)dbi_bind_text(s, 2, it->raw);
	if ((rc = dbi_row(d, STMT_HEALTH_TMPL_FIND, __func__)) == -1)
		return -1;
	if (rc == 1) {
		id = sqlite3_column_int64(s, 0);
		sqlite3_reset(s);
	}
	if (id > 0) {
		s = dbi_st(d, STMT_HEALTH_TMPL_UPDATE);
		sqlite3_bind_int64(s, 1, id);
		(void)dbi_bind_text(s, 2, it->raw);
		sqlite3_bind_int64(s, 3, t);
		dbi_bind_opt_text(s, 4, st);
		if (dbi_run(d, STMT_HEALTH_TMPL_UPDATE, __func__) != DB_OK)
			return -1;
	} else if (st != NULL) {
		/*
		 * Only a status webhook makes a row: a quality or category
		 * update of an unknown template would have to invent its
		 * status (the sync queued below brings it).
		 */
		s = dbi_st(d, STMT_HEALTH_TMPL_INSERT);
		(void)dbi_bind_text(s, 1, it->waba_id);
		(void)dbi_bind_text(s, 2, it->raw);
		sqlite3_bind_int64(s, 3, t);
		(void)dbi_bind_text(s, 4, st);
		if (dbi_run(d, STMT_HEALTH_TMPL_INSERT, __func__) != DB_OK)
			return -1;
	}
	/* Issue 16: template.status, in this transaction. */
	if (f == F_TMPL_STATUS && db_event_template(d, it, now_ms) == -1)
		return -1;
	s = dbi_st(d, STMT_HEALTH_SYNC_QUEUE);
	(void)dbi_bind_text(s, 1, it->waba_id);
	sqlite3_bind_int64(s, 2, now_ms);
	return dbi_run(d, STMT_HEALTH_SYNC_QUEUE, __func__) == DB_OK ? 0 : -1;
}

/*
 * Applies account webhook it (a WH_OTHER item, stored already) to the
 * templates and numbers it is about, at now_ms.  Other fields change
 * nothing here.  0, or -1 (the caller rolls back to its savepoint).
 */
int
dbi_health_apply(struct db *d, const struct wh_item *it, int64_t now_ms)
{
	sqlite3_stmt	*s;
	int64_t		 t;
	int		 f;

	if (it->field == NULL || it->raw == NULL)
		return 0;
	for (f = 0; f < F__MAX; f++)
		if (strcmp(it->field, fields[f]) == 0)
			break;
	if (f == F__MAX)
		return 0;
	/* Meta's time of the change: entry.time, else value.timestamp. */
	s = dbi_st(d, STMT_HEALTH_TIME);
	sqlite3_bind_int64(s, 1, it->entry_time);
	(void)dbi_bind_text(s, 2, it->raw);
	sqlite3_bind_int64(s, 3, now_ms / 1000);
	if (dbi_row(d, STMT_HEALTH_TIME, __func__) != 1)
		return -1;
	t = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	if (f <= F_TMPL_CATEGORY)
		return apply_template(d, (enum field)f, it, t, now_ms);
	return apply_number(d, (enum field)f, it, t, now_ms);
}

/*
 * Every number (active first) through cb, one row each, the columns
 * named as GET /numbers shows them (token_env is the variable's name,
 * never a token).  The count, or -1.
 */
int
db_health_numbers(struct db *d, db_row_cb cb, void *arg)
{
	(void)dbi_st(d, STMT_HEALTH_NUMBERS);
	return dbi_each_typed(d, STMT_HEALTH_NUMBERS, cb, arg, __func__);
}

/*
 * The phone_number_ids that wrote since since_s (messages by Meta's
 * time, statuses by when they were stored) and are not an active
 * number, at most 20, through cb.  The count, or -1.
 */
int
db_health_unknown(struct db *d, int64_t since_s,
    void (*cb)(void *, const char *), void *arg)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_HEALTH_UNKNOWN);
	int		 rc, n = 0;

	sqlite3_bind_int64(s, 1, since_s);
	sqlite3_bind_int64(s, 2, since_s);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		cb(arg, (const char *)sqlite3_column_text(s, 0));
		n++;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		dbi_err(d, __func__, dbi_sql(STMT_HEALTH_UNKNOWN));
		return -1;
	}
	return n;
}
