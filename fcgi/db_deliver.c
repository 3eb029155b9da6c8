/*
 * db_deliver.c: the worker's side of event webhooks (issue 16): leasing
 * due deliveries in order (one in flight per hook and conversation),
 * recording each attempt and its outcome, and the hook's run of
 * failures (failing_since, disabled after 24 h).  The caller holds the
 * transaction.
 */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "db.h"
#include "db_int.h"
#include "log.h"

void
db_delivery_clear(struct db_delivery *it)
{
	free(it->body);
	free(it->url);
	if (it->secret != NULL)
		explicit_bzero(it->secret, strlen(it->secret));
	free(it->secret);
	free(it->secret_env);
	memset(it, 0, sizeof(*it));
}

/*
 * Queues again the 'sending' rows whose lease ends before before_ms.
 * Returns how many, or -1.
 */
int
db_deliver_requeue(struct db *d, int64_t before_ms)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_DELIVER_REQUEUE);

	sqlite3_bind_int64(s, 1, before_ms);
	if (dbi_run(d, STMT_DELIVER_REQUEUE, __func__) != DB_OK)
		return -1;
	return sqlite3_changes(d->h);
}

/*
 * Fills out with up to max deliveries that may go now (see
 * STMT_DELIVER_DUE), not yet claimed.  Returns how many, or -1 (out is
 * then cleared).  The caller clears each with db_delivery_clear().
 */
int
db_deliver_due(struct db *d, int64_t now, struct db_delivery *out, int max)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_DELIVER_DUE);
	int		 n = 0, rc, oom = 0;

	sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_int64(s, 2, max);
	while (n < max && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct db_delivery *it = &out[n++];

		memset(it, 0, sizeof(*it));
		it->id = sqlite3_column_int64(s, 0);
		it->hook_id = sqlite3_column_int64(s, 1);
		it->body = dbi_col_dup(s, 2, &oom);
		it->created_at = sqlite3_column_int64(s, 3);
		it->attempts = sqlite3_column_int64(s, 4);
		it->url = dbi_col_dup(s, 5, &oom);
		it->secret = dbi_col_dup(s, 6, &oom);
		it->secret_env = dbi_col_dup(s, 7, &oom);
		if (oom || it->body == NULL || it->url == NULL)
			goto fail;
	}
	if (n < max && rc != SQLITE_DONE) {
		dbi_err(d, __func__, dbi_sql(STMT_DELIVER_DUE));
		goto fail;
	}
	sqlite3_reset(s);
	return n;
fail:
	if (oom)
		log_warnx("%s: out of memory", __func__);
	sqlite3_reset(s);
	while (n > 0)
		db_delivery_clear(&out[--n]);
	return -1;
}

/* 1 when a row is due or a lease ran out at now, 0 when not, -1. */
int
db_deliver_any(struct db *d, int64_t now)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_DELIVER_ANY);
	int		 v;

	sqlite3_bind_int64(s, 1, now);
	if (dbi_row(d, STMT_DELIVER_ANY, __func__) != 1)
		return -1;
	v = sqlite3_column_int(s, 0);
	sqlite3_reset(s);
	return v != 0;
}

/* The highest delivery id (0 when none), or -1. */
int64_t
db_deliver_last(struct db *d)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_DELIVER_LAST);
	int64_t		 v;

	if (dbi_row(d, STMT_DELIVER_LAST, __func__) != 1)
		return -1;
	v = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return v;
}

/* Leases row id until lease_ms.  1 leased, 0 taken meanwhile, -1. */
int
db_deliver_claim(struct db *d, int64_t id, int64_t lease_ms)
{
	if (dbi_run_id(d, STMT_DELIVER_CLAIM, id, 1, lease_ms, 0, __func__) ==
	    -1)
		return -1;
	return sqlite3_changes(d->h) > 0;
}

/* When the next queued delivery falls due after now; DB_NEVER, -1. */
int64_t
db_deliver_next_due(struct db *d, int64_t now)
{
	return dbi_next_due(d, STMT_DELIVER_NEXT_DUE, now, __func__);
}

/*
 * Records one attempt and its outcome r: the attempt row, the delivery's
 * state, and the hook's run of failures: a success ends it, a failure
 * starts one, and a hook failing since before r->disable_before is
 * disabled with r->disable_reason.  Returns 1 when that disabled it, 0,
 * or -1.
 */
int
db_deliver_record(struct db *d, const struct db_deliver_outcome *r)
{
	sqlite3_stmt	*s;

	s = dbi_st(d, STMT_DELIVER_ATTEMPT);
	sqlite3_bind_int64(s, 1, r->id);
	sqlite3_bind_int64(s, 2, r->at);
	sqlite3_bind_int64(s, 3, r->duration_ms);
	dbi_bind_nz(s, 4, r->http);
	dbi_bind_text(s, 5, r->error);
	if (dbi_run(d, STMT_DELIVER_ATTEMPT, __func__) != DB_OK)
		return -1;
	s = dbi_st(d, STMT_DELIVER_RESULT);
	sqlite3_bind_int64(s, 1, r->id);
	dbi_bind_text(s, 2, r->state);
	sqlite3_bind_int64(s, 3, r->next_at);
	dbi_bind_nz(s, 4, r->http);
	dbi_bind_text(s, 5, r->error);
	if (strcmp(r->state, "delivered") == 0)
		sqlite3_bind_int64(s, 6, r->at);
	else
		sqlite3_bind_null(s, 6);
	if (dbi_run(d, STMT_DELIVER_RESULT, __func__) != DB_OK)
		return -1;
	if (r->error == NULL)
		return dbi_run_id(d, STMT_DELIVER_HOOK_OK, r->hook_id, 0, 0, 0,
		    __func__) == -1 ? -1 : 0;
	if (dbi_run_id(d, STMT_DELIVER_HOOK_FAIL, r->hook_id, 1, r->at, 0,
	    __func__) == -1)
		return -1;
	s = dbi_st(d, STMT_DELIVER_HOOK_DISABLE);
	sqlite3_bind_int64(s, 1, r->hook_id);
	sqlite3_bind_int64(s, 2, r->disable_before);
	dbi_bind_text(s, 3, r->disable_reason);
	if (dbi_run(d, STMT_DELIVER_HOOK_DISABLE, __func__) != DB_OK)
		return -1;
	return sqlite3_changes(d->h) > 0;
}
