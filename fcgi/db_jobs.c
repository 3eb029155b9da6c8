/*
 * db_jobs.c: account jobs (issue 13), the calls to Meta's account side
 * that the API asks for and wa-worker makes, since a responder never
 * reaches the network: queue one, take the oldest due, claim it, retry
 * it later, finish it done or failed, read it back for GET /jobs/{id};
 * and what the runner needs around them (the WABAs to sync, the token of
 * a WABA-wide call, the stored business profile).  Times come from the
 * caller: unix ms for the jobs, unix s for the profile.
 */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "db.h"
#include "db_int.h"

/* Frees what db_job_due() allocated; accepts a zeroed job. */
void
db_job_clear(struct db_job *j)
{
	free(j->body);
	memset(j, 0, sizeof(*j));
}

/*
 * Queues a job of kind (one the schema's CHECK names) for pnid and/or
 * waba (NULL or "" none) with body (JSON text or NULL), due at once.
 * Returns its id, or -1 (a kind the schema refuses included).
 */
int64_t
db_job_insert(struct db *d, const char *pnid, const char *waba,
    const char *kind, const char *body, int64_t now_ms)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_JOB_INSERT);

	(void)dbi_bind_text(s, 1, pnid != NULL && *pnid ? pnid : NULL);
	(void)dbi_bind_text(s, 2, waba != NULL && *waba ? waba : NULL);
	(void)dbi_bind_text(s, 3, kind);
	(void)dbi_bind_text(s, 4, body);
	sqlite3_bind_int64(s, 5, now_ms);
	if (dbi_run(d, STMT_JOB_INSERT, __func__) != DB_OK)
		return -1;
	return sqlite3_last_insert_rowid(d->h);
}

/*
 * The oldest queued job due at now_ms into j (j->body from malloc: the
 * caller frees with db_job_clear()).  1, 0 when none is due, -1.
 */
int
db_job_due(struct db *d, int64_t now_ms, struct db_job *j)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_JOB_DUE);
	int		 rc, oom = 0;

	memset(j, 0, sizeof(*j));
	sqlite3_bind_int64(s, 1, now_ms);
	if ((rc = dbi_row(d, STMT_JOB_DUE, __func__)) != 1)
		return rc;
	j->id = sqlite3_column_int64(s, 0);
	dbi_col_copy(s, 1, j->pnid, sizeof(j->pnid));
	dbi_col_copy(s, 2, j->waba, sizeof(j->waba));
	dbi_col_copy(s, 3, j->kind, sizeof(j->kind));
	j->body = dbi_col_dup(s, 4, &oom);
	j->attempts = sqlite3_column_int(s, 5);
	sqlite3_reset(s);
	if (oom) {
		db_job_clear(j);
		return -1;
	}
	return 1;
}

/* Marks a queued job running, one attempt more: 1, 0 not queued, -1. */
int
db_job_claim(struct db *d, int64_t id)
{
	if (dbi_run_id(d, STMT_JOB_CLAIM, id, 0, 0, 0, __func__) == -1)
		return -1;
	return sqlite3_changes(d->h) > 0;
}

/*
 * A running job back to the queue, due at next_ms, with why this try
 * failed (code 0: none; title never holds a token).  0 or -1.
 */
int
db_job_retry(struct db *d, int64_t id, int64_t next_ms, int64_t code,
    const char *title)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_JOB_RETRY);

	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, next_ms);
	(void)dbi_bind_nz(s, 3, code);
	(void)dbi_bind_text(s, 4, title);
	return dbi_run(d, STMT_JOB_RETRY, __func__) == DB_OK ? 0 : -1;
}

/*
 * Ends a running job: done with result (Meta's answer, JSON) when ok,
 * else failed with code (0 none) and title.  0 or -1.
 */
int
db_job_finish(struct db *d, int64_t id, int ok, const char *result,
    int64_t code, const char *title, int64_t now_ms)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_JOB_FINISH);

	sqlite3_bind_int64(s, 1, id);
	(void)dbi_bind_text(s, 2, ok ? "done" : "failed");
	(void)dbi_bind_text(s, 3, result);
	(void)dbi_bind_nz(s, 4, ok ? 0 : code);
	(void)dbi_bind_text(s, 5, ok ? NULL : title);
	sqlite3_bind_int64(s, 6, now_ms);
	return dbi_run(d, STMT_JOB_FINISH, __func__) == DB_OK ? 0 : -1;
}

/*
 * Job id through cb, typed (id, kind, phone_number_id, waba_id, state,
 * attempts, next_attempt_at, result, error_code, error_title,
 * created_at, finished_at).  Rows (0 or 1), or -1.
 */
int
db_job_get(struct db *d, int64_t id, db_row_cb cb, void *arg)
{
	sqlite3_stmt *s = dbi_st(d, STMT_JOB_GET);

	sqlite3_bind_int64(s, 1, id);
	return dbi_each_typed(d, STMT_JOB_GET, cb, arg, __func__);
}

/* When the next queued job falls due after now_ms; DB_NEVER, or -1. */
int64_t
db_job_next_due(struct db *d, int64_t now_ms)
{
	return dbi_next_due(d, STMT_JOB_NEXT_DUE, now_ms, __func__);
}

/*
 * At worker start: jobs left running by a worker that died go back to
 * the queue (their call may have reached Meta; each kind is safe to make
 * again or fails with Meta's answer).  The count, or -1.
 */
int
db_job_recover(struct db *d)
{
	(void)dbi_st(d, STMT_JOB_RECOVER);
	if (dbi_run(d, STMT_JOB_RECOVER, __func__) != DB_OK)
		return -1;
	return sqlite3_changes(d->h);
}

/* 1 when a job of kind for waba is queued or running, 0 not, -1. */
int
db_job_pending(struct db *d, const char *kind, const char *waba)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_JOB_PENDING);
	int		 rc;

	(void)dbi_bind_text(s, 1, kind);
	(void)dbi_bind_text(s, 2, waba);
	if ((rc = dbi_row(d, STMT_JOB_PENDING, __func__)) == 1)
		sqlite3_reset(s);
	return rc;
}

/* created_at (ms) of the newest job of kind for waba; 0 none, -1. */
int64_t
db_job_last(struct db *d, const char *kind, const char *waba)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_JOB_LAST);
	int64_t		 v;

	(void)dbi_bind_text(s, 1, kind);
	(void)dbi_bind_text(s, 2, waba);
	if (dbi_row(d, STMT_JOB_LAST, __func__) != 1)
		return -1;
	v = sqlite3_column_int64(s, 0);	/* NULL (none) reads 0 */
	sqlite3_reset(s);
	return v;
}

/* Each WABA of an active number through cb (col[0]); the count, or -1. */
int
db_job_wabas(struct db *d, void (*cb)(void *, const char *const *),
    void *arg)
{
	(void)dbi_st(d, STMT_JOB_WABAS);
	return dbi_each_row(d, STMT_JOB_WABAS, 1, cb, arg, __func__);
}

/*
 * The variable naming the token of a call about waba: that of its oldest
 * active number, into env.  1, 0 when it has none, -1.
 */
int
db_job_waba_token(struct db *d, const char *waba, char *env, size_t envsz)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_JOB_WABA_TOKEN);
	int		 rc;

	env[0] = '\0';
	(void)dbi_bind_text(s, 1, waba);
	if ((rc = dbi_row(d, STMT_JOB_WABA_TOKEN, __func__)) != 1)
		return rc;
	dbi_col_copy(s, 0, env, envsz);
	sqlite3_reset(s);
	return 1;
}

/* Stores a number's business profile (JSON) fetched at now_s: 1, 0 no
 * such number, -1. */
int
db_job_profile_set(struct db *d, const char *pnid, const char *profile,
    int64_t now_s)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_JOB_PROFILE_SET);

	(void)dbi_bind_text(s, 1, pnid);
	(void)dbi_bind_text(s, 2, profile);
	sqlite3_bind_int64(s, 3, now_s);
	if (dbi_run(d, STMT_JOB_PROFILE_SET, __func__) != DB_OK)
		return -1;
	return sqlite3_changes(d->h) > 0;
}

/*
 * A number's stored profile through cb, typed (phone_number_id, label,
 * profile, profile_at).  Rows (0 or 1), or -1.
 */
int
db_job_profile_get(struct db *d, const char *pnid, db_row_cb cb, void *arg)
{
	sqlite3_stmt *s = dbi_st(d, STMT_JOB_PROFILE_GET);

	(void)dbi_bind_text(s, 1, pnid);
	return dbi_each_typed(d, STMT_JOB_PROFILE_GET, cb, arg, __func__);
}

/*
 * Each active number with a WABA through cb (col[0] phone_number_id,
 * col[1] waba_id), oldest first.  The count, or -1.
 */
int
db_job_number_wabas(struct db *d, void (*cb)(void *, const char *const *),
    void *arg)
{
	(void)dbi_st(d, STMT_JOB_NUMBER_WABAS);
	return dbi_each_row(d, STMT_JOB_NUMBER_WABAS, 2, cb, arg, __func__);
}
