/*
 * db_api.c: the management API's queries (messages, conversations,
 * outbox, journal, contacts, export, stats, metrics, conversation
 * patch/read) and API keys.
 */
#include <string.h>

#include <sqlite3.h>

#include "db.h"
#include "db_int.h"
#include "sig.h"

/* Creates an API key record.  DB_OK, DB_DUP (name taken) or DB_ERR. */
enum db_rc
db_apikey_insert(struct db *d, const char *name, const char *sha,
    const char *prefix, int read_only, int64_t now_s)
{
	sqlite3_stmt *s = dbi_st(d, STMT_APIKEY_INSERT);

	dbi_bind_text(s, 1, name);
	dbi_bind_text(s, 2, sha);
	dbi_bind_text(s, 3, prefix);
	sqlite3_bind_int(s, 4, read_only);
	sqlite3_bind_int64(s, 5, now_s);
	return dbi_run(d, STMT_APIKEY_INSERT, __func__);
}

/*
 * The live key whose digest is sha: 1 with *id, *read_only and its name
 * (into name, namesz bytes, cut if longer), 0 none, -1.  The stored digest is compared again in constant time; its last
 * use is recorded at most once a minute (a write per request would
 * compete with webhooks for the lock).
 */
int
db_apikey_check(struct db *d, const char *sha, int64_t now_s, int64_t *id,
    int *read_only, char *name, size_t namesz)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_APIKEY_BY_HASH);
	const char	*got;
	int64_t		 last;
	int		 rc, same;

	dbi_bind_text(s, 1, sha);
	if ((rc = dbi_row(d, STMT_APIKEY_BY_HASH, __func__)) != 1)
		return rc;
	*id = sqlite3_column_int64(s, 0);
	got = (const char *)sqlite3_column_text(s, 1);
	same = got != NULL && sig_streq(got, strlen(got), sha, strlen(sha));
	*read_only = sqlite3_column_int(s, 2);
	last = sqlite3_column_int64(s, 3);
	dbi_col_copy(s, 4, name, namesz);
	sqlite3_reset(s);
	if (!same)
		return 0;
	if (now_s - last >= 60) {
		s = dbi_st(d, STMT_APIKEY_TOUCH);
		sqlite3_bind_int64(s, 1, *id);
		sqlite3_bind_int64(s, 2, now_s);
		/* best effort */
		(void)dbi_run(d, STMT_APIKEY_TOUCH, __func__);
	}
	return 1;
}

/*
 * cb(name, prefix, read_only, created, last_used, revoked, numbers) per
 * key; numbers is "" (every number) or "label=id id ..." it is limited to.
 */
int
db_apikey_list(struct db *d, void (*cb)(void *, const char *const *),
    void *arg)
{
	(void)dbi_st(d, STMT_APIKEY_LIST);
	return dbi_each_row(d, STMT_APIKEY_LIST, 7, cb, arg, __func__);
}

/*
 * A key limited to the n phone_number_ids of pnids (n 0: every number),
 * in one transaction.  DB_OK, DB_DUP (name taken) or DB_ERR.
 */
enum db_rc
db_apikey_create(struct db *d, const char *name, const char *sha,
    const char *prefix, int read_only, int64_t now_s,
    const char *const *pnids, size_t n)
{
	sqlite3_stmt	*s;
	enum db_rc	 rc;
	int64_t		 id;
	size_t		 i;

	if ((rc = db_begin(d)) != DB_OK)
		return rc;
	if ((rc = db_apikey_insert(d, name, sha, prefix, read_only,
	    now_s)) != DB_OK)
		goto fail;
	id = sqlite3_last_insert_rowid(d->h);
	for (i = 0; i < n; i++) {
		s = dbi_st(d, STMT_APIKEY_NUMBER_ADD);
		sqlite3_bind_int64(s, 1, id);
		dbi_bind_text(s, 2, pnids[i]);
		if ((rc = dbi_run(d, STMT_APIKEY_NUMBER_ADD, __func__)) !=
		    DB_OK)
			goto fail;
	}
	if (db_commit(d) == -1) {
		rc = DB_ERR;
		goto fail;
	}
	return DB_OK;
fail:
	db_rollback(d);
	return rc;
}

/*
 * The numbers key id is limited to: cb(phone_number_id) each.  The
 * count (0: every number), or -1.
 */
int
db_apikey_numbers(struct db *d, int64_t id,
    void (*cb)(void *, const char *const *), void *arg)
{
	sqlite3_stmt *s = dbi_st(d, STMT_APIKEY_NUMBERS);

	sqlite3_bind_int64(s, 1, id);
	return dbi_each_row(d, STMT_APIKEY_NUMBERS, 1, cb, arg, __func__);
}

/* 1 revoked, 0 no such live key, -1. */
int
db_apikey_revoke(struct db *d, const char *name, int64_t now_s)
{
	sqlite3_stmt *s = dbi_st(d, STMT_APIKEY_REVOKE);

	dbi_bind_text(s, 1, name);
	sqlite3_bind_int64(s, 2, now_s);
	if (dbi_run(d, STMT_APIKEY_REVOKE, __func__) != DB_OK)
		return -1;
	return sqlite3_changes(d->h) > 0;
}

/*
 * Every db_api_* query below takes the numbers the call covers as
 * `numbers`: a JSON array of phone_number_ids (api.c builds it), bound
 * to each statement's ?2.
 */

/* GET /messages: rows through cb, newest first.  n or -1. */
int
db_api_messages(struct db *d, const struct db_msg_filter *f, db_row_cb cb,
    void *arg)
{
	enum stmt	 k = f->q != NULL ? STMT_API_MESSAGES_Q :
			    f->conversation != NULL ? STMT_API_MESSAGES_CONV :
			    f->phone != NULL ? STMT_API_MESSAGES_PHONE :
			    (f->since != NULL || f->until != NULL) &&
			    f->type == NULL && f->direction == NULL &&
			    f->status == NULL ? STMT_API_MESSAGES_WINDOW :
			    f->since != NULL || f->until != NULL ?
			    STMT_API_MESSAGES_TIME : STMT_API_MESSAGES;
	sqlite3_stmt	*s = dbi_st(d, k);

	dbi_bind_opt_int(s, 1, f->before);
	dbi_bind_text(s, 2, f->numbers);
	dbi_bind_opt_text(s, 3, f->phone);
	dbi_bind_opt_int(s, 4, f->conversation);
	dbi_bind_opt_text(s, 5, f->type);
	dbi_bind_opt_text(s, 6, f->direction);
	dbi_bind_opt_text(s, 7, f->status);
	dbi_bind_opt_int(s, 8, f->since);
	dbi_bind_opt_int(s, 9, f->until);
	sqlite3_bind_int(s, 10, f->limit);
	if (k == STMT_API_MESSAGES_Q)
		dbi_bind_text(s, 11, f->q);
	return dbi_each_typed(d, k, cb, arg, __func__);
}

/* GET /conversations (id 0) or one conversation (id > 0).  n or -1. */
int
db_api_conversations(struct db *d, const char *numbers, int64_t id,
    const int64_t *before, const int64_t *unread, const char *assignee,
    const char *like, int limit, db_row_cb cb, void *arg)
{
	enum stmt	 k = id > 0 ? STMT_API_CONVERSATION :
			    STMT_API_CONVERSATIONS;
	sqlite3_stmt	*s = dbi_st(d, k);

	if (id > 0) {
		sqlite3_bind_int64(s, 1, id);
		dbi_bind_text(s, 2, numbers);
	} else {
		dbi_bind_opt_int(s, 1, before);
		dbi_bind_text(s, 2, numbers);
		dbi_bind_opt_int(s, 3, unread);
		dbi_bind_opt_text(s, 4, assignee);
		sqlite3_bind_int(s, 5, limit);
		dbi_bind_opt_text(s, 6, like);
	}
	return dbi_each_typed(d, k, cb, arg, __func__);
}

/* GET /outbox/{id}.  n (0 or 1) or -1. */
int
db_api_outbox(struct db *d, const char *numbers, int64_t id, db_row_cb cb,
    void *arg)
{
	sqlite3_stmt *s = dbi_st(d, STMT_API_OUTBOX);

	sqlite3_bind_int64(s, 1, id);
	dbi_bind_text(s, 2, numbers);
	return dbi_each_typed(d, STMT_API_OUTBOX, cb, arg, __func__);
}

/* GET /outbox.  n or -1. */
int
db_api_outbox_list(struct db *d, const char *numbers, const int64_t *before,
    const char *state, int limit, db_row_cb cb, void *arg)
{
	sqlite3_stmt *s = dbi_st(d, STMT_API_OUTBOX_LIST);

	dbi_bind_opt_int(s, 1, before);
	dbi_bind_text(s, 2, numbers);
	dbi_bind_opt_text(s, 3, state);
	sqlite3_bind_int(s, 4, limit);
	return dbi_each_typed(d, STMT_API_OUTBOX_LIST, cb, arg, __func__);
}

/*
 * POST /outbox/{id}/retry (a failed row, retry 1) or DELETE (a queued
 * row, retry 0).  1 done, 0 the row is not in that state, -1.
 */
int
db_api_outbox_change(struct db *d, const char *numbers, int64_t id, int retry,
    int64_t now_ms)
{
	enum stmt	 k = retry ? STMT_API_OUTBOX_RETRY : STMT_API_OUTBOX_CANCEL;
	sqlite3_stmt	*s = dbi_st(d, k);

	sqlite3_bind_int64(s, 1, id);
	dbi_bind_text(s, 2, numbers);
	if (retry)
		sqlite3_bind_int64(s, 3, now_ms);
	if (dbi_run(d, k, __func__) != DB_OK)
		return -1;
	return sqlite3_changes(d->h) > 0;
}

/* GET /webhook-events (id 0) or one entry with its body.  n or -1. */
int
db_api_events(struct db *d, int64_t id, const int64_t *before,
    const char *state, int limit, db_row_cb cb, void *arg)
{
	enum stmt	 k = id > 0 ? STMT_API_EVENT : STMT_API_EVENTS;
	sqlite3_stmt	*s = dbi_st(d, k);

	if (id > 0)
		sqlite3_bind_int64(s, 1, id);
	else {
		dbi_bind_opt_int(s, 1, before);
		dbi_bind_opt_text(s, 2, state);
		sqlite3_bind_int(s, 3, limit);
	}
	return dbi_each_typed(d, k, cb, arg, __func__);
}

/* GET /status counters for the numbers.  n or -1. */
int
db_api_status(struct db *d, const char *numbers, db_row_cb cb, void *arg)
{
	sqlite3_stmt *s = dbi_st(d, STMT_API_STATUS);

	dbi_bind_text(s, 2, numbers);
	return dbi_each_typed(d, STMT_API_STATUS, cb, arg, __func__);
}

/*
 * PATCH /conversations/{id}: each field is changed only when its set flag
 * is on (a NULL value clears it).  1 changed, 0 no such conversation, -1.
 */
int
db_api_conv_patch(struct db *d, const char *numbers, int64_t id,
    const struct db_conv_patch *p)
{
	sqlite3_stmt *s = dbi_st(d, STMT_API_CONV_PATCH);

	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int(s, 2, p->set_notes);
	dbi_bind_text(s, 3, p->notes);
	sqlite3_bind_int(s, 4, p->set_email);
	dbi_bind_text(s, 5, p->email);
	sqlite3_bind_int(s, 6, p->set_labels);
	dbi_bind_text(s, 7, p->labels);
	sqlite3_bind_int(s, 8, p->set_assignee);
	dbi_bind_text(s, 9, p->assignee != NULL ? p->assignee : "bot");
	dbi_bind_text(s, 10, numbers);
	if (dbi_run(d, STMT_API_CONV_PATCH, __func__) != DB_OK)
		return -1;
	return sqlite3_changes(d->h) > 0;
}

/*
 * POST /mark-read: unread to zero; the newest inbound wamid, the
 * customer's wa_id and the conversation's number (pnid, 32 bytes) into
 * the buffers (empty when none).  1, 0 none, -1.
 */
int
db_api_conv_read(struct db *d, const char *numbers, int64_t id, char *wamid,
    size_t wsz, char *wa_id, size_t asz, char *pnid, size_t psz)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_API_CONV_READ);
	int		 rc;

	sqlite3_bind_int64(s, 1, id);
	dbi_bind_text(s, 2, numbers);
	if (dbi_run(d, STMT_API_CONV_READ, __func__) != DB_OK)
		return -1;
	if (sqlite3_changes(d->h) == 0)
		return 0;
	wamid[0] = wa_id[0] = pnid[0] = '\0';
	s = dbi_st(d, STMT_API_LAST_INBOUND);
	sqlite3_bind_int64(s, 1, id);
	dbi_bind_text(s, 2, numbers);
	if ((rc = dbi_row(d, STMT_API_LAST_INBOUND, __func__)) == 1) {
		dbi_col_copy(s, 0, wamid, wsz);
		dbi_col_copy(s, 1, wa_id, asz);
		dbi_col_copy(s, 2, pnid, psz);
		sqlite3_reset(s);
	}
	return rc == -1 ? -1 : 1;
}

/* The conversation with customer wa_id: its id, 0 none, -1. */
int64_t
db_api_conv_by_phone(struct db *d, const char *numbers, const char *wa_id)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_API_CONV_BY_PHONE);
	int64_t		 id;
	int		 rc;

	dbi_bind_text(s, 1, wa_id);
	dbi_bind_text(s, 2, numbers);
	if ((rc = dbi_row(d, STMT_API_CONV_BY_PHONE, __func__)) != 1)
		return rc;
	id = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return id;
}

/* GET /contacts (wa_id NULL) or one contact.  n or -1. */
int
db_api_contacts(struct db *d, const char *numbers, const char *wa_id,
    const int64_t *before, const char *like, const int64_t *opted_out,
    int limit, db_row_cb cb, void *arg)
{
	enum stmt	 k = wa_id != NULL ? STMT_API_CONTACT : STMT_API_CONTACTS;
	sqlite3_stmt	*s = dbi_st(d, k);

	if (wa_id != NULL) {
		dbi_bind_text(s, 1, wa_id);
		dbi_bind_text(s, 2, numbers);
	} else {
		dbi_bind_opt_int(s, 1, before);
		dbi_bind_text(s, 2, numbers);
		dbi_bind_opt_text(s, 3, like);
		dbi_bind_opt_int(s, 4, opted_out);
		sqlite3_bind_int(s, 5, limit);
	}
	return dbi_each_typed(d, k, cb, arg, __func__);
}

/*
 * One part of everything held about a contact (GET .../export), every
 * column of every dbi_row (enum db_export says which).  n or -1.
 */
int
db_api_export(struct db *d, const char *pnid, int64_t contact,
    const char *wa_id, enum db_export part, db_row_cb cb, void *arg)
{
	static const enum stmt parts[DB_EXPORT__MAX] = {
		[DB_EXPORT_CONVERSATIONS] = STMT_EXPORT_CONVERSATIONS,
		[DB_EXPORT_MESSAGES] = STMT_EXPORT_MESSAGES,
		[DB_EXPORT_STATUSES] = STMT_EXPORT_STATUSES,
		[DB_EXPORT_MEDIA] = STMT_EXPORT_MEDIA,
		[DB_EXPORT_TICKETS] = STMT_EXPORT_TICKETS,
		[DB_EXPORT_OUTBOX] = STMT_EXPORT_OUTBOX,
		[DB_EXPORT_CONTACT] = STMT_EXPORT_CONTACT,
		[DB_EXPORT_AGENT] = STMT_EXPORT_AGENT,
		[DB_EXPORT_BOT] = STMT_EXPORT_BOT,
		[DB_EXPORT_ORDERS] = STMT_EXPORT_ORDERS,
		[DB_EXPORT_ORDER_LINES] = STMT_EXPORT_ORDER_LINES,
		[DB_EXPORT_EVENTS] = STMT_EXPORT_EVENTS,
		[DB_EXPORT_WEBHOOK_ERRORS] = STMT_EXPORT_WEBHOOK_ERRORS,
		[DB_EXPORT_SUBSCRIPTIONS] = STMT_EXPORT_SUBSCRIPTIONS,
	};
	sqlite3_stmt	*s;
	int		 n;

	if ((int)part < 0 || part >= DB_EXPORT__MAX)
		return -1;
	s = dbi_st(d, parts[part]);
	n = sqlite3_bind_parameter_count(s);
	sqlite3_bind_int64(s, 1, contact);
	if (n >= 2)
		dbi_bind_text(s, 2, wa_id);
	if (n >= 3)
		dbi_bind_text(s, 3, pnid);
	return dbi_each_typed(d, parts[part], cb, arg, __func__);
}

/*
 * GET /stats parts (enum db_stats) between since and until (unix
 * seconds); DB_STATS_REPLY is one row per customer message, seconds or
 * NULL.  n or -1.
 */
int
db_api_stats(struct db *d, const char *numbers, int64_t since, int64_t until,
    enum db_stats part, db_row_cb cb, void *arg)
{
	static const enum stmt parts[DB_STATS__MAX] = {
		[DB_STATS_VOLUME] = STMT_STATS_VOLUME,
		[DB_STATS_CONTACTS] = STMT_STATS_CONTACTS,
		[DB_STATS_REPLY] = STMT_STATS_REPLY,
		[DB_STATS_FAILURES] = STMT_STATS_FAILURES,
		[DB_STATS_CHOICES] = STMT_STATS_CHOICES,
	};
	sqlite3_stmt *s;

	if ((int)part < 0 || part >= DB_STATS__MAX)
		return -1;
	s = dbi_st(d, parts[part]);
	dbi_bind_text(s, 2, numbers);
	sqlite3_bind_int64(s, 3, since);
	sqlite3_bind_int64(s, 4, until);
	return dbi_each_typed(d, parts[part], cb, arg, __func__);
}

/* GET /metrics parts (enum db_metrics).  n or -1. */
int
db_api_metrics(struct db *d, const char *numbers, enum db_metrics part,
    db_row_cb cb, void *arg)
{
	static const enum stmt parts[DB_METRICS__MAX] = {
		[DB_METRICS_EVENTS] = STMT_METRICS_EVENTS,
		[DB_METRICS_OUTBOX] = STMT_METRICS_OUTBOX,
		[DB_METRICS_SENDS] = STMT_METRICS_SENDS,
	};
	sqlite3_stmt *s;

	if ((int)part < 0 || part >= DB_METRICS__MAX)
		return -1;
	s = dbi_st(d, parts[part]);
	if (sqlite3_bind_parameter_count(s) >= 2)
		dbi_bind_text(s, 2, numbers);
	return dbi_each_typed(d, parts[part], cb, arg, __func__);
}
