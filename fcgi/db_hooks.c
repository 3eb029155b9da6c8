/*
 * db_hooks.c: event webhooks' storage (issue 16): queueing an event as
 * one delivery per matching hook inside the transaction of its cause
 * (DESIGN rule 4), the hooks themselves and the lists the /hooks API
 * shows.  The worker's delivering side is db_deliver.c.  Its SQL is in
 * db_sql_hooks.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sqlite3.h>

#include "db.h"
#include "db_int.h"
#include "log.h"

#define DAY_MS	(24LL * 3600 * 1000)

/* Deliveries queued since db_event_take() last asked (this process). */
static int	queued;

int
db_event_take(void)
{
	int n = queued;

	queued = 0;
	return n;
}

/* "evt_" and 32 hex digits of randomness into id (37 bytes). */
static void
event_id(char id[DB_EVENT_ID_MAX])
{
	static const char	 hex[] = "0123456789abcdef";
	unsigned char		 r[16];
	size_t			 i;

	sqlite3_randomness((int)sizeof(r), r);
	memcpy(id, "evt_", 4);
	for (i = 0; i < sizeof(r); i++) {
		id[4 + 2 * i] = hex[r[i] >> 4];
		id[5 + 2 * i] = hex[r[i] & 15];
	}
	id[4 + 2 * sizeof(r)] = '\0';
}

int
db_event_emit(struct db *d, const char *type, const char *pnid,
    int64_t conversation_id, json_t *data, int64_t now_ms)
{
	sqlite3_stmt	*s;
	json_t		*ev = NULL;
	char		*body = NULL, id[DB_EVENT_ID_MAX];
	int		 rc, ret = -1;

	if (data == NULL)
		goto done;
	s = dbi_st(d, STMT_HOOK_ANY);
	if ((rc = dbi_row(d, STMT_HOOK_ANY, __func__)) != 1) {
		if (rc == 0)
			ret = 0;	/* no active hook: nothing to build */
		goto done;
	}
	sqlite3_reset(s);
	event_id(id);
	ev = json_pack("{s:s, s:s, s:I, s:s?, s:O}", "id", id, "type", type,
	    "created_at", (json_int_t)(now_ms / 1000), "number", pnid,
	    "data", data);
	if (ev == NULL || (body = json_dumps(ev, JSON_COMPACT)) == NULL) {
		log_warnx("%s: %s: out of memory", __func__, type);
		goto done;
	}
	s = dbi_st(d, STMT_HOOK_EMIT);
	dbi_bind_text(s, 1, id);
	dbi_bind_text(s, 2, type);
	dbi_bind_opt_text(s, 3, pnid);
	dbi_bind_nz(s, 4, conversation_id);
	dbi_bind_text(s, 5, body);
	sqlite3_bind_int64(s, 6, now_ms);
	if (dbi_run(d, STMT_HOOK_EMIT, __func__) != DB_OK)
		goto done;
	queued += sqlite3_changes(d->h);
	ret = 0;
done:
	free(body);
	json_decref(ev);
	json_decref(data);
	return ret;
}

/* The wa_id of conversation id into buf ("" when none); 0 or -1. */
int
db_event_conv_wa(struct db *d, int64_t id, char *buf, size_t sz)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_HOOK_CONV_WA);
	int		 rc;

	buf[0] = '\0';
	sqlite3_bind_int64(s, 1, id);
	if ((rc = dbi_row(d, STMT_HOOK_CONV_WA, __func__)) == 1) {
		dbi_col_copy(s, 0, buf, sz);
		sqlite3_reset(s);
	}
	return rc == -1 ? -1 : 0;
}

enum db_rc
db_hook_insert(struct db *d, const struct db_hook *h, int64_t now_s,
    int64_t *id)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_HOOK_INSERT);
	enum db_rc	 rc;

	dbi_bind_text(s, 1, h->url);
	dbi_bind_text(s, 2, h->events);
	dbi_bind_opt_text(s, 3, h->pnid);
	dbi_bind_opt_text(s, 4, h->secret_env);
	dbi_bind_opt_text(s, 5, h->secret);
	dbi_bind_opt_text(s, 6, h->by);
	sqlite3_bind_int64(s, 7, now_s);
	if ((rc = dbi_run(d, STMT_HOOK_INSERT, __func__)) == DB_OK)
		*id = sqlite3_last_insert_rowid(d->h);
	return rc;
}

int
db_hook_list(struct db *d, int64_t id, int64_t now_ms, db_row_cb cb,
    void *arg)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_HOOK_LIST);

	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, now_ms - DAY_MS);
	return dbi_each_typed(d, STMT_HOOK_LIST, cb, arg, __func__);
}

int
db_hook_update(struct db *d, int64_t id, const struct db_hook *h,
    int set_pnid, const char *state, int64_t now_s)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_HOOK_UPDATE);

	sqlite3_bind_int64(s, 1, id);
	dbi_bind_opt_text(s, 2, h->url);
	dbi_bind_opt_text(s, 3, h->events);
	dbi_bind_opt_text(s, 4, h->pnid);
	dbi_bind_opt_text(s, 5, state);
	sqlite3_bind_int(s, 6, set_pnid);
	sqlite3_bind_int64(s, 7, now_s);
	if (dbi_run(d, STMT_HOOK_UPDATE, __func__) != DB_OK)
		return -1;
	return sqlite3_changes(d->h) > 0;
}

int
db_hook_delete(struct db *d, int64_t id)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_HOOK_DELETE);

	sqlite3_bind_int64(s, 1, id);
	if (dbi_run(d, STMT_HOOK_DELETE, __func__) != DB_OK)
		return -1;
	return sqlite3_changes(d->h) > 0;
}

int
db_hook_deliveries(struct db *d, int64_t hook, const char *state,
    int64_t before, int limit, db_row_cb cb, void *arg)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_HOOK_DELIVERIES);

	sqlite3_bind_int64(s, 1, hook);
	dbi_bind_opt_text(s, 2, state);
	dbi_bind_nz(s, 3, before);
	sqlite3_bind_int(s, 4, limit);
	return dbi_each_typed(d, STMT_HOOK_DELIVERIES, cb, arg, __func__);
}

int
db_hook_redeliver(struct db *d, int64_t id, int64_t now_ms)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_HOOK_REDELIVER);

	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, now_ms);
	if (dbi_run(d, STMT_HOOK_REDELIVER, __func__) != DB_OK)
		return -1;
	if (sqlite3_changes(d->h) > 0) {
		queued++;
		return 1;
	}
	return 0;
}
