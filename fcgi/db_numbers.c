/*
 * db_numbers.c: the business numbers this install serves: add or check
 * again, look up by id or label, list, edit, remove (the row stays, with
 * removed_at), and the seed of WHATSAPP_PHONE_NUMBER_ID at migrate.
 * Times come from the caller.
 */
#include <string.h>

#include <sqlite3.h>

#include "db.h"
#include "db_int.h"

static void
bind_opt(sqlite3_stmt *s, int i, const char *v)
{
	if (v != NULL && *v != '\0')
		(void)dbi_bind_text(s, i, v);
	else
		sqlite3_bind_null(s, i);
}

/*
 * Stores n (created_at is now_s for a new row), or checks it again: a
 * removed number comes back active.  DB_DUP when the label belongs to
 * another number.
 */
enum db_rc
db_number_upsert(struct db *d, const struct db_number *n, int64_t now_s)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_NUMBER_UPSERT);

	(void)dbi_bind_text(s, 1, n->pnid);
	bind_opt(s, 2, n->waba_id);
	bind_opt(s, 3, n->display);
	bind_opt(s, 4, n->verified_name);
	(void)dbi_bind_text(s, 5, n->label);
	(void)dbi_bind_text(s, 6, n->token_env[0] ? n->token_env :
	    "WHATSAPP_ACCESS_TOKEN");
	bind_opt(s, 7, n->flow_path);
	if (n->send_rate > 0)
		sqlite3_bind_int64(s, 8, n->send_rate);
	else
		sqlite3_bind_null(s, 8);
	bind_opt(s, 9, n->quality);
	bind_opt(s, 10, n->tier);
	bind_opt(s, 11, n->throughput);
	bind_opt(s, 12, n->status);
	if (n->checked_at > 0)
		sqlite3_bind_int64(s, 13, n->checked_at);
	else
		sqlite3_bind_null(s, 13);
	sqlite3_bind_int64(s, 14, now_s);
	return dbi_run(d, STMT_NUMBER_UPSERT, __func__);
}

/* The number whose id, else label, is key into n: 1, 0 none, or -1. */
int
db_number_get(struct db *d, const char *key, struct db_number *n)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_NUMBER_GET);
	int		 rc;

	memset(n, 0, sizeof(*n));
	(void)dbi_bind_text(s, 1, key);
	if ((rc = dbi_row(d, STMT_NUMBER_GET, __func__)) != 1)
		return rc;
	dbi_col_copy(s, 0, n->pnid, sizeof(n->pnid));
	dbi_col_copy(s, 1, n->waba_id, sizeof(n->waba_id));
	dbi_col_copy(s, 2, n->display, sizeof(n->display));
	dbi_col_copy(s, 3, n->verified_name, sizeof(n->verified_name));
	dbi_col_copy(s, 4, n->label, sizeof(n->label));
	dbi_col_copy(s, 5, n->token_env, sizeof(n->token_env));
	dbi_col_copy(s, 6, n->flow_path, sizeof(n->flow_path));
	n->send_rate = sqlite3_column_int64(s, 7);
	dbi_col_copy(s, 8, n->quality, sizeof(n->quality));
	dbi_col_copy(s, 9, n->tier, sizeof(n->tier));
	dbi_col_copy(s, 10, n->throughput, sizeof(n->throughput));
	dbi_col_copy(s, 11, n->status, sizeof(n->status));
	n->checked_at = sqlite3_column_int64(s, 12);
	n->created_at = sqlite3_column_int64(s, 13);
	n->removed_at = sqlite3_column_int64(s, 14);
	sqlite3_reset(s);
	return 1;
}

/*
 * Every number, active ones first, through cb: phone_number_id, label,
 * display number, verified name, quality, status, token_env, removed_at
 * ("" active).  The count, or -1.
 */
int
db_number_list(struct db *d, void (*cb)(void *, const char *const *),
    void *arg)
{
	(void)dbi_st(d, STMT_NUMBER_LIST);
	return dbi_each_row(d, STMT_NUMBER_LIST, 8, cb, arg, __func__);
}

/*
 * Changes what is not NULL of label, token_env, flow and rate on pnid;
 * *changed is 1 when the number exists.  DB_DUP when the label belongs
 * to another number.
 */
enum db_rc
db_number_edit(struct db *d, const char *pnid, const char *label,
    const char *token_env, const char *flow, const int64_t *rate,
    int *changed)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_NUMBER_EDIT);
	enum db_rc	 rc;

	*changed = 0;
	(void)dbi_bind_text(s, 1, pnid);
	dbi_bind_opt_text(s, 2, label);
	dbi_bind_opt_text(s, 3, token_env);
	dbi_bind_opt_text(s, 4, flow);
	dbi_bind_opt_int(s, 5, rate);
	if ((rc = dbi_run(d, STMT_NUMBER_EDIT, __func__)) == DB_OK)
		*changed = sqlite3_changes(d->h) > 0;
	return rc;
}

/* Marks pnid removed at now_s: 1, 0 when no active number has it, -1. */
int
db_number_remove(struct db *d, const char *pnid, int64_t now_s)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_NUMBER_REMOVE);

	(void)dbi_bind_text(s, 1, pnid);
	sqlite3_bind_int64(s, 2, now_s);
	if (dbi_run(d, STMT_NUMBER_REMOVE, __func__) != DB_OK)
		return -1;
	return sqlite3_changes(d->h) > 0;
}

/*
 * WHATSAPP_PHONE_NUMBER_ID as `default` when no row has it, so that an
 * install from before the numbers table keeps its number; one the
 * operator removed stays removed (migrate runs at every upgrade).
 * *added is 1 when it was written.  DB_DUP when another number is
 * labelled `default` already.
 */
enum db_rc
db_number_seed(struct db *d, const char *pnid, int64_t now_s, int *added)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_NUMBER_SEED);
	enum db_rc	 rc;

	*added = 0;
	(void)dbi_bind_text(s, 1, pnid);
	sqlite3_bind_int64(s, 2, now_s);
	if ((rc = dbi_run(d, STMT_NUMBER_SEED, __func__)) == DB_OK)
		*added = sqlite3_changes(d->h) > 0;
	return rc;
}
