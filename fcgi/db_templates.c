/*
 * db_templates.c: the templates table (schema.sql): Meta's message
 * templates of each WABA, as a sync listed them (templates.c) and as the
 * template webhooks changed them since.  A template is (WABA, name,
 * language).  Times come from the caller.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "buf.h"
#include "db.h"
#include "db_int.h"
#include "log.h"

static void
bind_opt(sqlite3_stmt *s, int i, const char *v)
{
	if (v != NULL && *v != '\0')
		(void)dbi_bind_text(s, i, v);
	else
		sqlite3_bind_null(s, i);
}

/* Frees what t holds and zeroes it; accepts NULL and a zeroed struct. */
void
db_template_clear(struct db_template *t)
{
	if (t == NULL)
		return;
	free(t->components);
	memset(t, 0, sizeof(*t));
}

/*
 * Stores t by (waba, name, language), or brings the stored row up to
 * it: empty template_id, category and quality leave the stored ones;
 * synced_at 0 leaves it; updated_at becomes now_s when anything changed.
 * 0, or -1 (logged).
 */
int
db_template_upsert(struct db *d, const struct db_template *t, int64_t now_s)
{
	sqlite3_stmt *s = dbi_st(d, STMT_TEMPLATE_UPSERT);

	if (t->waba[0] == '\0' || t->name[0] == '\0' ||
	    t->language[0] == '\0' || t->status[0] == '\0') {
		log_warnx("%s: a template needs a WABA, name, language and "
		    "status", __func__);
		return -1;
	}
	(void)dbi_bind_text(s, 1, t->waba);
	bind_opt(s, 2, t->template_id);
	(void)dbi_bind_text(s, 3, t->name);
	(void)dbi_bind_text(s, 4, t->language);
	bind_opt(s, 5, t->category);
	(void)dbi_bind_text(s, 6, t->status);
	bind_opt(s, 7, t->quality);
	(void)dbi_bind_text(s, 8, t->components != NULL ? t->components :
	    "[]");
	bind_opt(s, 9, t->rejected_reason);
	(void)dbi_bind_nz(s, 10, t->synced_at);
	sqlite3_bind_int64(s, 11, now_s);
	return dbi_run(d, STMT_TEMPLATE_UPSERT, __func__) == DB_OK ? 0 : -1;
}

/*
 * The template (waba, name, language) into t: 1, 0 none, or -1.  The
 * caller frees t->components with db_template_clear().
 */
int
db_template_get(struct db *d, const char *waba, const char *name,
    const char *language, struct db_template *t)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_TEMPLATE_GET);
	int		 rc, oom = 0;

	memset(t, 0, sizeof(*t));
	(void)dbi_bind_text(s, 1, waba);
	(void)dbi_bind_text(s, 2, name);
	(void)dbi_bind_text(s, 3, language);
	if ((rc = dbi_row(d, STMT_TEMPLATE_GET, __func__)) != 1)
		return rc;
	t->id = sqlite3_column_int64(s, 0);
	dbi_col_copy(s, 1, t->waba, sizeof(t->waba));
	dbi_col_copy(s, 2, t->template_id, sizeof(t->template_id));
	dbi_col_copy(s, 3, t->name, sizeof(t->name));
	dbi_col_copy(s, 4, t->language, sizeof(t->language));
	dbi_col_copy(s, 5, t->category, sizeof(t->category));
	dbi_col_copy(s, 6, t->status, sizeof(t->status));
	dbi_col_copy(s, 7, t->quality, sizeof(t->quality));
	t->components = dbi_col_dup(s, 8, &oom);
	dbi_col_copy(s, 9, t->rejected_reason, sizeof(t->rejected_reason));
	t->synced_at = sqlite3_column_int64(s, 10);
	t->updated_at = sqlite3_column_int64(s, 11);
	sqlite3_reset(s);
	if (oom) {
		log_warnx("%s: out of memory", __func__);
		db_template_clear(t);
		return -1;
	}
	return 1;
}

/*
 * Templates of the WABAs in f (none when it names none), by id, through
 * cb: id, waba_id, template_id, name, language, category, status,
 * quality, components (JSON text), rejected_reason, synced_at,
 * updated_at.  The count, or -1.
 */
int
db_template_list(struct db *d, const struct db_template_filter *f,
    db_row_cb cb, void *arg)
{
	sqlite3_stmt	*s;
	struct buf	 w;
	int		 i, rc = -1;
	const char	*p;

	if (f->nwabas <= 0 || f->wabas == NULL)
		return 0;
	/* WABA ids are digits, so the JSON array needs no escaping. */
	memset(&w, 0, sizeof(w));
	for (i = 0; i < f->nwabas; i++) {
		for (p = f->wabas[i]; *p >= '0' && *p <= '9'; p++)
			continue;
		if (*p != '\0' || p == f->wabas[i])
			continue;
		if (buf_printf(&w, "%s\"%s\"", w.len ? "," : "[",
		    f->wabas[i]) == -1)
			goto fail;
	}
	if (w.len == 0) {
		rc = 0;
		goto fail;
	}
	if (buf_printf(&w, "]") == -1)
		goto fail;
	s = dbi_st(d, STMT_TEMPLATE_LIST);
	(void)dbi_bind_text(s, 1, w.p);
	bind_opt(s, 2, f->name);
	bind_opt(s, 3, f->language);
	bind_opt(s, 4, f->status);
	bind_opt(s, 5, f->category);
	sqlite3_bind_int64(s, 6, f->cursor > 0 ? f->cursor : 0);
	sqlite3_bind_int64(s, 7, f->limit > 0 ? f->limit : 1);
	rc = dbi_each_typed(d, STMT_TEMPLATE_LIST, cb, arg, __func__);
fail:
	buf_clear(&w);
	return rc;
}

/* Removes (waba, name) in one language, or all when NULL: rows, or -1. */
int
db_template_delete(struct db *d, const char *waba, const char *name,
    const char *language)
{
	sqlite3_stmt *s = dbi_st(d, STMT_TEMPLATE_DELETE);

	(void)dbi_bind_text(s, 1, waba);
	(void)dbi_bind_text(s, 2, name);
	bind_opt(s, 3, language);
	if (dbi_run(d, STMT_TEMPLATE_DELETE, __func__) != DB_OK)
		return -1;
	return sqlite3_changes(d->h);
}

/*
 * After a complete listing of waba's templates stamped seen_since_s
 * (db_template_sync_stamp()): removes the rows it did not see (Meta
 * deleted them).  Rows removed, or -1.
 */
int
db_template_sync_done(struct db *d, const char *waba, int64_t seen_since_s)
{
	sqlite3_stmt *s = dbi_st(d, STMT_TEMPLATE_SYNC_DONE);

	(void)dbi_bind_text(s, 1, waba);
	sqlite3_bind_int64(s, 2, seen_since_s);
	if (dbi_run(d, STMT_TEMPLATE_SYNC_DONE, __func__) != DB_OK)
		return -1;
	return sqlite3_changes(d->h);
}

/*
 * The synced_at a new sync of waba stamps its rows with: now_s, or one
 * past the last sync's when that is not older (two syncs within one
 * second), so that db_template_sync_done() tells this sync's rows from
 * the last one's.  -1 on error.
 */
int64_t
db_template_sync_stamp(struct db *d, const char *waba, int64_t now_s)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_TEMPLATE_SYNC_STAMP);
	int64_t		 last;

	(void)dbi_bind_text(s, 1, waba);
	if (dbi_row(d, STMT_TEMPLATE_SYNC_STAMP, __func__) != 1)
		return -1;
	last = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return last >= now_s ? last + 1 : now_s;
}

/*
 * The active numbers through cb: phone_number_id, label, waba_id (""
 * unknown), token_env, display_phone_number ("" unchecked).  The count,
 * or -1.
 */
int
db_template_numbers(struct db *d, void (*cb)(void *, const char *const *),
    void *arg)
{
	(void)dbi_st(d, STMT_TEMPLATE_NUMBERS);
	return dbi_each_row(d, STMT_TEMPLATE_NUMBERS, 5, cb, arg, __func__);
}
