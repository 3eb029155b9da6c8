/*
 * db_outbox.c: the send side of storage: what is known of a peer (window,
 * opt-out, tier), the outbox (insert, due, claim, retry, accept,
 * recover), opt-in and opt-out, the sender's pause state, and media rows
 * (inbound downloads and uploaded files).
 */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "clock.h"
#include "db.h"
#include "db_int.h"
#include "log.h"

/* Fills p with what the database knows of recipient.  Returns 0 or -1. */
int
db_peer_get(struct db *d, const char *pnid, const char *recipient,
    struct db_peer *p)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_PEER_GET);
	int		 rc;

	memset(p, 0, sizeof(*p));
	dbi_bind_text(s, 1, pnid);
	dbi_bind_text(s, 2, recipient);
	if ((rc = dbi_row(d, STMT_PEER_GET, __func__)) != 1)
		return rc;
	p->contact_id = sqlite3_column_int64(s, 0);
	p->opted_out = sqlite3_column_int(s, 1);
	p->opted_out_at = sqlite3_column_int64(s, 2);
	p->window_expires_at = sqlite3_column_int64(s, 3);
	p->last_inbound_at = sqlite3_column_int64(s, 4);
	p->last_stop_at = sqlite3_column_int64(s, 5);
	sqlite3_reset(s);
	return 0;
}

/*
 * Unique recipients of business-initiated templates queued or sent since
 * since_ms, and whether recipient is already one of them.  0 or -1.
 */
int
db_tier_count(struct db *d, const char *pnid, const char *recipient,
    int64_t since_ms, int64_t *count, int *already)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_TIER_COUNT);

	dbi_bind_text(s, 1, pnid);
	sqlite3_bind_int64(s, 2, since_ms);
	dbi_bind_text(s, 3, recipient);
	if (dbi_row(d, STMT_TIER_COUNT, __func__) != 1)
		return -1;
	*count = sqlite3_column_int64(s, 0);
	*already = sqlite3_column_int(s, 1);
	sqlite3_reset(s);
	return 0;
}

/* The outbox row queued earlier under key: 1 with *id, 0 none, -1. */
int
db_outbox_by_key(struct db *d, const char *pnid, const char *key,
    int64_t *id)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_OUTBOX_BY_KEY);
	int		 rc;

	dbi_bind_text(s, 1, pnid);
	dbi_bind_text(s, 2, key);
	if ((rc = dbi_row(d, STMT_OUTBOX_BY_KEY, __func__)) == 1) {
		*id = sqlite3_column_int64(s, 0);
		sqlite3_reset(s);
	}
	return rc;
}

/* Inserts a checked dbi_row (the caller holds the transaction). */
enum db_rc
db_outbox_insert(struct db *d, const struct db_outbox_new *n,
    int64_t now_ms, int64_t *id)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_OUTBOX_INSERT);
	enum db_rc	 rc;

	dbi_bind_text(s, 1, n->pnid);
	dbi_bind_text(s, 2, n->recipient);
	dbi_bind_text(s, 3, n->kind);
	dbi_bind_text(s, 4, n->body);
	dbi_bind_text(s, 5, n->text);
	dbi_bind_text(s, 6, n->reply_to);
	dbi_bind_text(s, 7, n->media_file);
	dbi_bind_text(s, 8, n->media_mime);
	sqlite3_bind_int(s, 9, n->free_form);
	sqlite3_bind_int(s, 10, n->business_initiated);
	dbi_bind_text(s, 11, n->source);
	sqlite3_bind_int64(s, 12, now_ms);
	dbi_bind_text(s, 13, n->idem_key);
	sqlite3_bind_int(s, 14, n->optout_ack);
	(void)dbi_bind_nz(s, 15, n->user_id);
	if ((rc = dbi_run(d, STMT_OUTBOX_INSERT, __func__)) == DB_OK)
		*id = sqlite3_last_insert_rowid(d->h);
	return rc;
}

void
db_outbox_item_clear(struct db_outbox_item *it)
{
	free(it->body);
	free(it->media_file);
	free(it->media_mime);
	it->body = it->media_file = it->media_mime = NULL;
}

/*
 * Up to max rows due at now_ms, the oldest open row of each recipient
 * only.  Returns how many were filled (clear each), or -1.
 */
int
db_outbox_due(struct db *d, int64_t now_ms, struct db_outbox_item *out,
    int max)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_OUTBOX_DUE);
	int		 n = 0, rc, oom = 0;

	sqlite3_bind_int64(s, 1, now_ms);
	sqlite3_bind_int(s, 2, max);
	while (n < max && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct db_outbox_item *it = &out[n++];

		memset(it, 0, sizeof(*it));
		it->id = sqlite3_column_int64(s, 0);
		dbi_col_copy(s, 1, it->pnid, sizeof(it->pnid));
		dbi_col_copy(s, 2, it->recipient, sizeof(it->recipient));
		dbi_col_copy(s, 3, it->kind, sizeof(it->kind));
		it->body = dbi_col_dup(s, 4, &oom);
		it->media_file = dbi_col_dup(s, 5, &oom);
		it->media_mime = dbi_col_dup(s, 6, &oom);
		it->free_form = sqlite3_column_int(s, 7);
		it->attempts = sqlite3_column_int(s, 8);
		it->optout_ack = sqlite3_column_int(s, 9);
		if (oom || it->body == NULL)
			break;
	}
	sqlite3_reset(s);
	if (oom || (n > 0 && out[n - 1].body == NULL)) {
		while (n > 0)
			db_outbox_item_clear(&out[--n]);
		log_warnx("%s: out of memory", __func__);
		return -1;
	}
	return n;
}

/* When the next queued row falls due after now (unix ms); see next_due. */
int64_t
db_outbox_next_due(struct db *d, int64_t now)
{
	return dbi_next_due(d, STMT_OUTBOX_NEXT_DUE, now, __func__);
}

/* Marks a due row sending until lease_ms.  1 claimed, 0 gone, -1. */
int
db_outbox_claim(struct db *d, int64_t id, int64_t lease_ms)
{
	if (dbi_run_id(d, STMT_OUTBOX_CLAIM, id, 1, lease_ms, 0, __func__) ==
	    -1)
		return -1;
	return sqlite3_changes(d->h) > 0;
}

int
db_outbox_retry(struct db *d, int64_t id, int64_t next_ms, int64_t code,
    const char *title, const char *details)
{
	sqlite3_stmt *s = dbi_st(d, STMT_OUTBOX_RETRY);

	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, next_ms);
	dbi_bind_nz(s, 3, code);
	dbi_bind_text(s, 4, title);
	dbi_bind_text(s, 5, details);
	return dbi_run(d, STMT_OUTBOX_RETRY, __func__) == DB_OK ? 0 : -1;
}

int
db_outbox_defer(struct db *d, int64_t id, int64_t next_ms)
{
	return dbi_run_id(d, STMT_OUTBOX_DEFER, id, 1, next_ms, 0, __func__);
}

/* Counts n more attempts on a row in flight (libcurl's own resends). */
int
db_outbox_resent(struct db *d, int64_t id, int n)
{
	return dbi_run_id(d, STMT_OUTBOX_RESENT, id, 1, n, 0, __func__);
}

int
db_outbox_fail(struct db *d, int64_t id, int64_t code, const char *title,
    const char *details)
{
	sqlite3_stmt *s = dbi_st(d, STMT_OUTBOX_FAIL);

	sqlite3_bind_int64(s, 1, id);
	dbi_bind_nz(s, 2, code);
	dbi_bind_text(s, 3, title);
	dbi_bind_text(s, 4, details);
	if (dbi_run(d, STMT_OUTBOX_FAIL, __func__) != DB_OK)
		return -1;
	if (sqlite3_changes(d->h) == 0)
		return 0;
	/* Issue 16: send.failed, with the failure it reports; a campaign's
	 * recipient fails with it. */
	return db_event_outbox(d, id, NULL, code, title, clock_now_ms()) ==
	    -1 || db_campsend_failed(d, id, code, title, clock_now_ms()) ==
	    -1 ? -1 : 0;
}

/* Finds or creates the contact a send goes to; its id or -1. */
static int64_t
contact_ensure_out(struct db *d, const char *pnid, const char *recipient,
    int64_t now_s)
{
	sqlite3_stmt	*s;
	int64_t		 id;
	int		 bsuid = strchr(recipient, '.') != NULL;

	if ((id = dbi_contact_find(d, pnid, bsuid ? NULL : recipient,
	    bsuid ? recipient : NULL)) != 0)
		return id;
	s = dbi_st(d, STMT_CONTACT_OUT_INSERT);
	dbi_bind_text(s, 1, pnid);
	dbi_bind_text(s, 2, bsuid ? NULL : recipient);
	dbi_bind_text(s, 3, bsuid ? recipient : NULL);
	sqlite3_bind_int64(s, 4, now_s);
	if (dbi_run(d, STMT_CONTACT_OUT_INSERT, __func__) != DB_OK)
		return -1;
	return sqlite3_last_insert_rowid(d->h);
}

/*
 * Meta accepted outbox row id as wamid: the row becomes accepted and an
 * outbound messages row is written (once), then any statuses that came
 * before this reply are folded in.  Called by the sender on a 200 and by
 * a status webhook carrying our biz_opaque_callback_data, whichever comes
 * first; the second finds the wamid set and changes nothing.  0 or -1.
 */
int
db_outbox_accept(struct db *d, int64_t id, const char *wamid, int64_t now_ms)
{
	sqlite3_stmt	*s;
	char		 pnid[40], recipient[72], kind[16];
	char		*text = NULL, *reply = NULL, *body = NULL, *mime = NULL;
	int64_t		 contact, conv, msg, user, now_s = now_ms / 1000;
	int		 oom = 0, rc = -1;

	s = dbi_st(d, STMT_OUTBOX_ACCEPT);
	sqlite3_bind_int64(s, 1, id);
	dbi_bind_text(s, 2, wamid);
	sqlite3_bind_int64(s, 3, now_ms);
	if (dbi_run(d, STMT_OUTBOX_ACCEPT, __func__) != DB_OK)
		return -1;
	if (sqlite3_changes(d->h) == 0)
		return 0;
	/* Issue 16: a campaign's recipient was sent. */
	if (db_campsend_accepted(d, id, now_ms) == -1)
		return -1;
	s = dbi_st(d, STMT_OUTBOX_GET);
	sqlite3_bind_int64(s, 1, id);
	if (dbi_row(d, STMT_OUTBOX_GET, __func__) != 1)
		return -1;
	dbi_col_copy(s, 0, pnid, sizeof(pnid));
	dbi_col_copy(s, 1, recipient, sizeof(recipient));
	dbi_col_copy(s, 2, kind, sizeof(kind));
	text = dbi_col_dup(s, 3, &oom);
	reply = dbi_col_dup(s, 4, &oom);
	body = dbi_col_dup(s, 5, &oom);
	mime = dbi_col_dup(s, 7, &oom);
	user = sqlite3_column_int64(s, 8);
	sqlite3_reset(s);
	if (oom)
		goto done;
	/* A read receipt is not a message; nor is a 200 without a wamid. */
	if (strcmp(kind, "read") == 0 || recipient[0] == '\0' ||
	    wamid == NULL) {
		rc = 0;
		goto done;
	}
	if ((contact = contact_ensure_out(d, pnid, recipient, now_s)) < 0 ||
	    (conv = dbi_conversation_ensure(d, pnid, contact, now_s)) < 0)
		goto done;
	s = dbi_st(d, STMT_MSG_OUT_INSERT);
	dbi_bind_text(s, 1, pnid);
	dbi_bind_text(s, 2, wamid);
	sqlite3_bind_int64(s, 3, conv);
	sqlite3_bind_int64(s, 4, contact);
	dbi_bind_text(s, 5, recipient);
	dbi_bind_text(s, 6, kind);
	dbi_bind_text(s, 7, text);
	dbi_bind_text(s, 8, reply);
	sqlite3_bind_int64(s, 9, now_s);
	dbi_bind_text(s, 10, body);
	dbi_bind_text(s, 11, mime);
	(void)dbi_bind_nz(s, 12, user);
	if (dbi_run(d, STMT_MSG_OUT_INSERT, __func__) != DB_OK)
		goto done;
	if (sqlite3_changes(d->h) > 0) {
		msg = sqlite3_last_insert_rowid(d->h);
		if (dbi_run_id(d, STMT_OUTBOX_LINK, id, 1, msg, 0, __func__) ==
		    -1 || dbi_run_id(d, STMT_CONV_OUTBOUND, conv, 1, now_s, 0,
		    __func__) == -1)
			goto done;
	} else {
		/* An echo (reference 14.2) stored it first: one row, linked. */
		s = dbi_st(d, STMT_OUTBOX_LINK_WAMID);
		sqlite3_bind_int64(s, 1, id);
		dbi_bind_text(s, 2, wamid);
		if (dbi_run(d, STMT_OUTBOX_LINK_WAMID, __func__) != DB_OK)
			goto done;
	}
	/* Issue 16: message.sent, with the row it made. */
	if ((rc = dbi_status_reconcile(d, wamid)) == 0)
		rc = db_event_outbox(d, id, wamid, 0, NULL, now_ms);
done:
	free(text);
	free(reply);
	free(body);
	free(mime);
	return rc;
}

/*
 * Requeues rows left sending.  Only one worker runs (its lock), so at its
 * start every such row was orphaned by a crash: its lease is void.
 * Returns the number requeued or -1.
 */
int
db_outbox_recover(struct db *d, int64_t now_ms)
{
	sqlite3_stmt	*s;
	int		 n, k;

	/* Issue 16: never a campaign's, which fail instead (one person
	 * never gets a campaign twice). */
	if ((k = db_campsend_recover(d)) == -1)
		return -1;
	if (k > 0)
		log_warnx("failed %d campaign sends a stopped worker left "
		    "in flight: Meta may have them; not sent again", k);
	s = dbi_st(d, STMT_OUTBOX_RECOVER);
	sqlite3_bind_int64(s, 1, now_ms);
	if (dbi_run(d, STMT_OUTBOX_RECOVER, __func__) != DB_OK)
		return -1;
	n = sqlite3_changes(d->h);
	/* Agent calls in flight likewise (they answer nobody twice: the
	 * reply is queued only when one answers). */
	(void)dbi_st(d, STMT_AGENT_RECOVER);
	if (dbi_run(d, STMT_AGENT_RECOVER, __func__) != DB_OK)
		return -1;
	return n;
}

/* Stores the body with the uploaded media id; the upload is done. */
int
db_outbox_set_body(struct db *d, int64_t id, const char *body)
{
	sqlite3_stmt *s = dbi_st(d, STMT_OUTBOX_SET_BODY);

	sqlite3_bind_int64(s, 1, id);
	dbi_bind_text(s, 2, body);
	return dbi_run(d, STMT_OUTBOX_SET_BODY, __func__) == DB_OK ? 0 : -1;
}

/*
 * Records an opt-out (out = 1) or opt-in at Meta time `at` for recipient,
 * unless a newer choice is already recorded.  0 or -1.
 */
int
db_opt_set(struct db *d, const char *pnid, const char *recipient, int out,
    int64_t at)
{
	int64_t id;

	if ((id = contact_ensure_out(d, pnid, recipient, at)) < 0)
		return -1;
	return dbi_run_id(d, STMT_OPT_SET, id, 2, out, at, __func__);
}

/* 1 with p filled when sending from pnid is paused, 0 when not, -1. */
int
db_sender_get(struct db *d, const char *pnid, struct db_pause *p)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_SENDER_GET);
	int		 rc;

	memset(p, 0, sizeof(*p));
	dbi_bind_text(s, 1, pnid);
	if ((rc = dbi_row(d, STMT_SENDER_GET, __func__)) != 1)
		return rc;
	dbi_col_copy(s, 0, p->reason, sizeof(p->reason));
	p->code = sqlite3_column_int64(s, 1);
	p->resume_at = sqlite3_column_int64(s, 2);
	dbi_col_copy(s, 3, p->token_sha, sizeof(p->token_sha));
	sqlite3_reset(s);
	return 1;
}

int
db_sender_pause(struct db *d, const char *pnid, const char *reason,
    int64_t code, int64_t resume_at, const char *token_sha, int64_t now_s)
{
	sqlite3_stmt *s = dbi_st(d, STMT_SENDER_PAUSE);

	dbi_bind_text(s, 1, pnid);
	dbi_bind_text(s, 2, reason);
	sqlite3_bind_int64(s, 3, code);
	sqlite3_bind_int64(s, 4, now_s);
	dbi_bind_nz(s, 5, resume_at);
	dbi_bind_text(s, 6, token_sha);
	return dbi_run(d, STMT_SENDER_PAUSE, __func__) == DB_OK ? 0 : -1;
}

int
db_sender_resume(struct db *d, const char *pnid, int64_t now_s)
{
	sqlite3_stmt *s = dbi_st(d, STMT_SENDER_RESUME);

	dbi_bind_text(s, 1, pnid);
	sqlite3_bind_int64(s, 2, now_s);
	return dbi_run(d, STMT_SENDER_RESUME, __func__) == DB_OK ? 0 : -1;
}

/* Calls cb for every paused number (for /health).  0 or -1. */
int
db_sender_list(struct db *d, void (*cb)(void *, const char *, const char *,
    int64_t, int64_t, int64_t), void *arg)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_SENDER_LIST);
	int		 rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		cb(arg, (const char *)sqlite3_column_text(s, 0),
		    (const char *)sqlite3_column_text(s, 1),
		    sqlite3_column_int64(s, 2), sqlite3_column_int64(s, 3),
		    sqlite3_column_int64(s, 4));
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		dbi_err(d, __func__, dbi_sql(STMT_SENDER_LIST));
		return -1;
	}
	return 0;
}

/* Up to max inbound media rows due; returns how many, or -1. */
int
db_media_due(struct db *d, int64_t now_ms, struct db_media_item *out,
    int max)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_MEDIA_DUE);
	int		 n = 0, rc;

	sqlite3_bind_int64(s, 1, now_ms);
	sqlite3_bind_int(s, 2, max);
	while (n < max && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct db_media_item *it = &out[n++];

		memset(it, 0, sizeof(*it));
		it->id = sqlite3_column_int64(s, 0);
		dbi_col_copy(s, 1, it->pnid, sizeof(it->pnid));
		dbi_col_copy(s, 2, it->media_id, sizeof(it->media_id));
		dbi_col_copy(s, 3, it->sha, sizeof(it->sha));
		it->attempts = sqlite3_column_int(s, 4);
	}
	sqlite3_reset(s);
	return n;
}

int64_t
db_media_next_due(struct db *d, int64_t now)
{
	return dbi_next_due(d, STMT_MEDIA_NEXT_DUE, now, __func__);
}

/* Counts an attempt; if the worker dies, the row is due at retry_ms. */
int
db_media_claim(struct db *d, int64_t id, int64_t retry_ms)
{
	return dbi_run_id(d, STMT_MEDIA_CLAIM, id, 1, retry_ms, 0, __func__);
}

/*
 * Records a downloaded file on its media row.  1 stored, 0 when the row
 * is gone (its contact was erased during the download), -1 on error.
 */
int
db_media_stored(struct db *d, int64_t id, const char *mime, const char *sha,
    int64_t size, const char *path, int64_t now_s)
{
	sqlite3_stmt *s = dbi_st(d, STMT_MEDIA_STORED);

	sqlite3_bind_int64(s, 1, id);
	dbi_bind_text(s, 2, mime);
	dbi_bind_text(s, 3, sha);
	sqlite3_bind_int64(s, 4, size);
	dbi_bind_text(s, 5, path);
	sqlite3_bind_int64(s, 6, now_s);
	if (dbi_run(d, STMT_MEDIA_STORED, __func__) != DB_OK)
		return -1;
	return sqlite3_changes(d->h) > 0;
}

/* Records a failed attempt: retried at next_ms, or failed for good. */
int
db_media_retry(struct db *d, int64_t id, int failed, int64_t next_ms,
    const char *error)
{
	sqlite3_stmt *s = dbi_st(d, STMT_MEDIA_RETRY);

	sqlite3_bind_int64(s, 1, id);
	dbi_bind_text(s, 2, failed ? "failed" : "pending");
	sqlite3_bind_int64(s, 3, next_ms);
	dbi_bind_text(s, 4, error);
	return dbi_run(d, STMT_MEDIA_RETRY, __func__) == DB_OK ? 0 : -1;
}

/*
 * Records an uploaded file under the media id Meta gave it; path (relative
 * to the media directory, or NULL when the file lives elsewhere) lets the
 * inbox serve it again.
 */
int
db_media_out_insert(struct db *d, const char *pnid, const char *media_id,
    const char *mime, const char *sha, int64_t size, const char *path,
    int64_t now_s)
{
	sqlite3_stmt *s = dbi_st(d, STMT_MEDIA_INSERT);

	dbi_bind_text(s, 1, pnid);
	dbi_bind_text(s, 2, media_id);
	dbi_bind_text(s, 3, "out");
	dbi_bind_text(s, 5, mime);
	dbi_bind_text(s, 6, sha);
	sqlite3_bind_int64(s, 7, size);
	dbi_bind_text(s, 8, path);
	dbi_bind_text(s, 9, "stored");
	sqlite3_bind_int64(s, 10, now_s);
	sqlite3_bind_int64(s, 11, now_s);
	return dbi_run(d, STMT_MEDIA_INSERT, __func__) == DB_OK ? 0 : -1;
}

/*
 * How many inbound media files of the conversation of media row id sent
 * at or after since (unix seconds) are stored or wait before it, for
 * WA_MEDIA_MAX_PER_CONTACT_DAY.  Returns the count, or -1.
 */
int64_t
db_media_contact_recent(struct db *d, int64_t id, int64_t since)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_MEDIA_CONTACT_RECENT);
	int64_t		 n;

	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, since);
	if (dbi_row(d, STMT_MEDIA_CONTACT_RECENT, __func__) != 1)
		return -1;
	n = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return n;
}
