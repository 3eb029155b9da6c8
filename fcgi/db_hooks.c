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
#include "webhook.h"

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
	if (sqlite3_changes(d->h) > 0)
		queued = 1;
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
		queued = 1;
		return 1;
	}
	return 0;
}

/* Message wamid's row id and conversation (0 when unknown); 0 or -1. */
static int
msg_of(struct db *d, const char *wamid, int64_t *id, int64_t *conv)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_HOOK_MSG);
	int		 rc;

	*id = *conv = 0;
	dbi_bind_text(s, 1, wamid);
	if ((rc = dbi_row(d, STMT_HOOK_MSG, __func__)) == 1) {
		*id = sqlite3_column_int64(s, 0);
		*conv = sqlite3_column_int64(s, 1);
		sqlite3_reset(s);
	}
	return rc == -1 ? -1 : 0;
}

/* An integer, or null for 0 (absent ids). */
static json_t *
int_or_null(int64_t v)
{
	return v != 0 ? json_integer((json_int_t)v) : json_null();
}

int
db_event_received(struct db *d, const struct wh_item *it,
    int64_t message_id, int64_t conv, int64_t now_ms)
{
	const char *text = it->text != NULL ? it->text : it->reply_title;

	return db_event_emit(d, "message.received", it->phone_number_id, conv,
	    json_pack("{s:I, s:s?, s:I, s:s?, s:s?, s:s?, s:s?, s:s?, s:I}",
	    "message_id", (json_int_t)message_id, "wamid", it->wamid,
	    "conversation_id", (json_int_t)conv, "from", it->from != NULL ?
	    it->from : it->from_user_id, "name", it->profile_name, "type",
	    it->type, "text", text, "media_id", it->media_id, "timestamp",
	    (json_int_t)it->timestamp), now_ms);
}

int
db_event_status(struct db *d, const struct wh_item *it, int64_t now_ms)
{
	int64_t id, conv;

	if (msg_of(d, it->wamid, &id, &conv) == -1)
		return -1;
	return db_event_emit(d, "message.status", it->phone_number_id, conv,
	    json_pack("{s:s, s:o, s:s?, s:I, s:o}", "wamid", it->wamid,
	    "message_id", int_or_null(id), "status", it->status, "timestamp",
	    (json_int_t)it->timestamp, "error_code",
	    int_or_null(it->err_code)), now_ms);
}

int
db_event_edited(struct db *d, const struct wh_item *it, int64_t now_ms)
{
	int64_t id, conv;

	if (msg_of(d, it->original_wamid, &id, &conv) == -1)
		return -1;
	return db_event_emit(d, "message.edited", it->phone_number_id, conv,
	    json_pack("{s:s, s:o, s:s?, s:b, s:I}", "wamid",
	    it->original_wamid, "message_id", int_or_null(id), "text",
	    it->revoke ? NULL : it->text, "revoked", it->revoke != 0,
	    "edited_at", (json_int_t)it->timestamp), now_ms);
}

int
db_event_opt(struct db *d, const char *pnid, const char *wa_id,
    int64_t conv, int out, const char *keyword, int64_t now_ms)
{
	return db_event_emit(d, out ? "contact.opted_out" : "contact.opted_in",
	    pnid, conv, json_pack("{s:s?, s:s?}", "wa_id", wa_id, "keyword",
	    keyword), now_ms);
}

int
db_event_template(struct db *d, const struct wh_item *it, int64_t now_ms)
{
	json_t	*v;
	int	 rc;

	if ((v = json_loads(it->raw, 0, NULL)) == NULL)
		return 0;	/* stored already; nothing to tell */
	rc = db_event_emit(d, "template.status", NULL, 0, json_pack(
	    "{s:O?, s:O?, s:O?, s:O?}", "name", json_object_get(v,
	    "message_template_name"), "language", json_object_get(v,
	    "message_template_language"), "status", json_object_get(v,
	    "event"), "reason", json_object_get(v, "reason")), now_ms);
	json_decref(v);
	return rc;
}

int
db_event_outbox(struct db *d, int64_t id, const char *wamid, int64_t code,
    const char *title, int64_t now_ms)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_HOOK_OUTBOX);
	char		 pnid[40], to[72], kind[16], by[80];
	int64_t		 attempts, msg, conv;
	int		 rc;

	sqlite3_bind_int64(s, 1, id);
	if ((rc = dbi_row(d, STMT_HOOK_OUTBOX, __func__)) != 1)
		return rc;
	dbi_col_copy(s, 0, pnid, sizeof(pnid));
	dbi_col_copy(s, 1, to, sizeof(to));
	dbi_col_copy(s, 2, kind, sizeof(kind));
	attempts = sqlite3_column_int64(s, 3);
	msg = sqlite3_column_int64(s, 4);
	dbi_col_copy(s, 5, by, sizeof(by));
	conv = sqlite3_column_int64(s, 6);
	sqlite3_reset(s);
	if (strcmp(kind, "read") == 0 || to[0] == '\0')
		return 0;
	if (wamid != NULL)
		return db_event_emit(d, "message.sent", pnid, conv, json_pack(
		    "{s:I, s:o, s:s, s:s, s:s, s:s}", "outbox_id",
		    (json_int_t)id, "message_id", int_or_null(msg), "wamid",
		    wamid, "to", to, "type", kind, "sent_by", by), now_ms);
	return db_event_emit(d, "send.failed", pnid, conv, json_pack(
	    "{s:I, s:s, s:o, s:s?, s:I}", "outbox_id", (json_int_t)id, "to",
	    to, "code", int_or_null(code), "title", title, "attempts",
	    (json_int_t)attempts), now_ms);
}

int
db_event_assigned(struct db *d, const char *pnid, int64_t conv,
    const char *assignee, const char *previous, const char *by,
    int64_t now_ms)
{
	char wa[72];

	if (db_event_conv_wa(d, conv, wa, sizeof(wa)) == -1)
		return -1;
	return db_event_emit(d, "conversation.assigned", pnid, conv, json_pack(
	    "{s:I, s:s?, s:s?, s:s?, s:s?}", "conversation_id", (json_int_t)conv,
	    "wa_id", wa[0] ? wa : NULL, "assignee", assignee, "previous",
	    previous, "by", by), now_ms);
}

/*
 * conversation.handed_off of conversation conv (the API, the inbox: a
 * person or key handed it from the bot or an agent to people).  0 or -1.
 */
int
db_event_handoff_conv(struct db *d, const char *pnid, int64_t conv,
    const char *to, const char *by, int64_t now_ms)
{
	char wa[72];

	if (db_event_conv_wa(d, conv, wa, sizeof(wa)) == -1)
		return -1;
	return db_event_emit(d, "conversation.handed_off", pnid, conv,
	    json_pack("{s:I, s:s?, s:s?, s:s?}", "conversation_id",
	    (json_int_t)conv, "wa_id", wa[0] ? wa : NULL, "to", to, "by", by),
	    now_ms);
}

int
db_event_handoff(struct db *d, const char *pnid, int64_t contact,
    const char *to, const char *by, int64_t now_ms)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_HOOK_CONV_OF);
	char		 wa[72];
	int64_t		 conv;
	int		 rc;

	dbi_bind_text(s, 1, pnid);
	sqlite3_bind_int64(s, 2, contact);
	if ((rc = dbi_row(d, STMT_HOOK_CONV_OF, __func__)) != 1)
		return rc;
	conv = sqlite3_column_int64(s, 0);
	dbi_col_copy(s, 1, wa, sizeof(wa));
	sqlite3_reset(s);
	return db_event_emit(d, "conversation.handed_off", pnid, conv,
	    json_pack("{s:I, s:s?, s:s?, s:s?}", "conversation_id",
	    (json_int_t)conv, "wa_id", wa[0] ? wa : NULL, "to", to, "by", by),
	    now_ms);
}
