/*
 * db_apply.c: the writes the worker's apply makes for one webhook item,
 * inside the caller's transaction and savepoint: contacts (with id
 * changes, renames and merges), conversations, inbound and echoed
 * messages, edits, statuses, preferences, address-book syncs, errors and
 * account events (db_apply_item()).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/string.h>
#include <sqlite3.h>

#include "buf.h"
#include "db.h"
#include "db_int.h"
#include "log.h"
#include "policy.h"
#include "sig.h"

/* Looks a contact up by wa_id, then by BSUID.  Returns id, 0 none, -1. */
int64_t
dbi_contact_find(struct db *d, const char *pnid, const char *wa_id,
    const char *user_id)
{
	const enum stmt	 q[2] = { STMT_CONTACT_BY_WA, STMT_CONTACT_BY_UID };
	const char	*key[2] = { wa_id, user_id };
	sqlite3_stmt	*s;
	int		 i, rc;
	int64_t		 id = 0;

	for (i = 0; i < 2 && id == 0; i++) {
		if (key[i] == NULL)
			continue;
		s = dbi_st(d, q[i]);
		dbi_bind_text(s, 1, pnid);
		dbi_bind_text(s, 2, key[i]);
		if ((rc = sqlite3_step(s)) == SQLITE_ROW)
			id = sqlite3_column_int64(s, 0);
		else if (rc != SQLITE_DONE) {
			dbi_err(d, __func__, dbi_sql(q[i]));
			id = -1;
		}
		sqlite3_reset(s);
	}
	return id;
}

/*
 * The id a customer's old wa_id changed to (reference 5.11), following a
 * few changes, into buf; 0 when it never changed, 1 when it did, -1.
 */
static int
renamed_to(struct db *d, const char *pnid, const char *wa, char *buf,
    size_t sz)
{
	sqlite3_stmt	*s;
	const char	*cur = wa;
	int		 hops, rc, found = 0;

	for (hops = 0; hops < 8; hops++) {
		s = dbi_st(d, STMT_RENAME_GET);
		dbi_bind_text(s, 1, pnid);
		dbi_bind_text(s, 2, cur);
		if ((rc = dbi_row(d, STMT_RENAME_GET, __func__)) == -1)
			return -1;
		if (rc == 0)
			break;
		dbi_col_copy(s, 0, buf, sz);
		sqlite3_reset(s);
		if (strcmp(buf, wa) == 0)
			break;	/* changed back: a loop */
		cur = buf;
		found = 1;
	}
	return found;
}

/*
 * Creates or refreshes the customer of it: the sender of an inbound
 * message, the recipient of one the business wrote.  A customer not
 * found under an old number is the one it changed to.  Returns the
 * contact id or -1.
 */
static int64_t
contact_seen(struct db *d, const struct wh_item *it)
{
	sqlite3_stmt	*s;
	int64_t		 id;
	const char	*wa = it->outbound ? it->to : it->from;
	const char	*uid = it->outbound ? it->to_user_id : it->from_user_id;
	char		 nwa[72], nuid[72];
	int		 rc;

	id = dbi_contact_find(d, it->phone_number_id, wa, uid);
	if (id == 0 && wa != NULL) {
		if ((rc = renamed_to(d, it->phone_number_id, wa, nwa,
		    sizeof(nwa))) == -1)
			return -1;
		if (rc == 1) {
			wa = nwa;
			id = dbi_contact_find(d, it->phone_number_id, wa, uid);
		}
	}
	if (id == 0 && uid != NULL) {
		if ((rc = renamed_to(d, it->phone_number_id, uid, nuid,
		    sizeof(nuid))) == -1)
			return -1;
		if (rc == 1) {
			uid = nuid;
			id = dbi_contact_find(d, it->phone_number_id, wa, uid);
		}
	}
	if (id < 0)
		return -1;
	s = dbi_st(d, id == 0 ? STMT_CONTACT_INSERT : STMT_CONTACT_SEEN);
	if (id == 0)
		dbi_bind_text(s, 1, it->phone_number_id);
	else
		sqlite3_bind_int64(s, 1, id);
	dbi_bind_text(s, 2, wa);
	dbi_bind_text(s, 3, uid);
	dbi_bind_text(s, 4, it->username);
	dbi_bind_text(s, 5, it->profile_name);
	sqlite3_bind_int64(s, 6, it->timestamp);
	if (dbi_run(d, id == 0 ? STMT_CONTACT_INSERT : STMT_CONTACT_SEEN,
	    __func__) != DB_OK)
		return -1;
	return id == 0 ? sqlite3_last_insert_rowid(d->h) : id;
}

/*
 * The conversation of (number, contact), created when missing.  A lookup
 * first: nearly every message belongs to a known one, and an upsert would
 * rewrite its dbi_row (and, with RETURNING, build a temporary table) each
 * time.  Returns the id or -1.
 */
int64_t
dbi_conversation_ensure(struct db *d, const char *pnid, int64_t contact,
    int64_t now_s)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_CONV_FIND);
	int64_t		 id = 0;
	int		 rc;

	dbi_bind_text(s, 1, pnid);
	sqlite3_bind_int64(s, 2, contact);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		id = sqlite3_column_int64(s, 0);
	else if (rc != SQLITE_DONE) {
		dbi_err(d, __func__, dbi_sql(STMT_CONV_FIND));
		id = -1;
	}
	sqlite3_reset(s);
	if (id != 0)
		return id;
	s = dbi_st(d, STMT_CONV_INSERT);
	dbi_bind_text(s, 1, pnid);
	sqlite3_bind_int64(s, 2, contact);
	sqlite3_bind_int64(s, 3, now_s);
	if (dbi_run(d, STMT_CONV_INSERT, __func__) != DB_OK)
		return -1;
	return sqlite3_last_insert_rowid(d->h);
}

static int
wamid_known(struct db *d, const char *wamid)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_MSG_EXISTS);
	int		 rc;

	dbi_bind_text(s, 1, wamid);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	dbi_err(d, __func__, dbi_sql(STMT_MSG_EXISTS));
	return -1;
}

/*
 * Folds every edit and deletion stored for wamid into its message, in
 * Meta's time order: the newest edit's text, the first deletion (text
 * NULL), the text before either kept in original_text.  The same result
 * whatever order they came in; no-op while the message is unknown.
 */
static int
edits_fold(struct db *d, const char *wamid)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_EDIT_LIST);
	char		*text = NULL;
	const char	*kind, *t;
	int64_t		 edited = 0, revoked = 0, ts;
	int		 rc;

	dbi_bind_text(s, 1, wamid);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		kind = (const char *)sqlite3_column_text(s, 0);
		ts = sqlite3_column_int64(s, 2);
		if (kind != NULL && strcmp(kind, "revoke") == 0) {
			if (revoked == 0)
				revoked = ts;
			continue;
		}
		edited = ts;
		free(text);
		text = NULL;
		if ((t = (const char *)sqlite3_column_text(s, 1)) != NULL &&
		    (text = strdup(t)) == NULL) {
			sqlite3_reset(s);
			log_warn("%s: strdup", __func__);
			return -1;
		}
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		dbi_err(d, __func__, dbi_sql(STMT_EDIT_LIST));
		free(text);
		return -1;
	}
	s = dbi_st(d, STMT_MSG_EDITED);
	dbi_bind_text(s, 1, wamid);
	dbi_bind_text(s, 2, text);
	dbi_bind_nz(s, 3, edited);
	dbi_bind_nz(s, 4, revoked);
	rc = dbi_run(d, STMT_MSG_EDITED, __func__) == DB_OK ? 0 : -1;
	free(text);
	return rc;
}

/*
 * Reference 14.1: an edit or deletion is kept in message_edits and
 * folded into the original, now or when the original comes.
 */
static enum db_rc
apply_edit(struct db *d, int64_t ev, const struct wh_item *it, int64_t now_ms)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_EDIT_INSERT);
	int		 i = 1;

	dbi_bind_text(s, i++, it->phone_number_id);
	dbi_bind_text(s, i++, it->wamid);
	dbi_bind_text(s, i++, it->original_wamid);
	dbi_bind_text(s, i++, it->revoke ? "revoke" : "edit");
	dbi_bind_text(s, i++, it->revoke ? NULL : it->edit_type);
	dbi_bind_text(s, i++, it->revoke ? NULL : it->text);
	sqlite3_bind_int64(s, i++, it->timestamp);
	dbi_bind_text(s, i++, it->raw);
	sqlite3_bind_int64(s, i++, ev);
	sqlite3_bind_int64(s, i++, now_ms / 1000);
	if (dbi_run(d, STMT_EDIT_INSERT, __func__) != DB_OK)
		return DB_ERR;
	if (sqlite3_changes(d->h) == 0)
		return DB_DUP;
	return edits_fold(d, it->original_wamid) == 0 &&
	    db_event_edited(d, it, now_ms) == 0 ? DB_OK : DB_ERR;
}

/* 1 when edits or deletions wait for wamid, 0 when none, -1. */
static int
edits_pending(struct db *d, const char *wamid)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_EDIT_PENDING);
	int		 rc;

	dbi_bind_text(s, 1, wamid);
	if ((rc = dbi_row(d, STMT_EDIT_PENDING, __func__)) == 1)
		sqlite3_reset(s);
	return rc;
}

/*
 * Moves everything of contact a into contact b (same number): their
 * conversations become one (counts summed, times widened), messages,
 * tickets and agent calls follow, names and opt-out keep the newest.
 * Every step is a min, max, sum or newest-wins, so the result does not
 * depend on which of the two was stored first.  0 or -1.
 */
static int
contact_merge(struct db *d, const char *pnid, int64_t a, int64_t b)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_MERGE_CONVS);
	char		 uid[128], wa[128];
	int64_t		 ca = 0, cb = 0;
	int		 rc;

	dbi_bind_text(s, 1, pnid);
	sqlite3_bind_int64(s, 2, a);
	sqlite3_bind_int64(s, 3, b);
	if ((rc = dbi_row(d, STMT_MERGE_CONVS, __func__)) == -1)
		return -1;
	if (rc == 1) {
		ca = sqlite3_column_int64(s, 0);
		cb = sqlite3_column_int64(s, 1);
		sqlite3_reset(s);
	}
	if (ca != 0 && cb != 0 && (dbi_run_id(d, STMT_MERGE_CONV_MSGS, ca, 1,
	    cb, 0, __func__) == -1 || dbi_run_id(d, STMT_MERGE_CONV_SUM, ca, 1,
	    cb, 0, __func__) == -1 || dbi_run_id(d, STMT_MERGE_CONV_DELETE, ca,
	    0, 0, 0, __func__) == -1))
		return -1;
	if (ca != 0 && cb == 0 && dbi_run_id(d, STMT_MERGE_CONV_MOVE, ca, 1,
	    b, 0, __func__) == -1)
		return -1;
	s = dbi_st(d, STMT_MERGE_UID_GET);
	sqlite3_bind_int64(s, 1, a);
	if ((rc = dbi_row(d, STMT_MERGE_UID_GET, __func__)) == -1)
		return -1;
	uid[0] = wa[0] = '\0';
	if (rc == 1) {
		dbi_col_copy(s, 0, uid, sizeof(uid));
		dbi_col_copy(s, 1, wa, sizeof(wa));
		sqlite3_reset(s);
	}
	/* Everything moved first: deleting a cascades to what is left. */
	if (dbi_run_id(d, STMT_MERGE_MSGS, a, 1, b, 0, __func__) == -1 ||
	    dbi_run_id(d, STMT_MERGE_CONTACT, a, 1, b, 0, __func__) == -1 ||
	    dbi_run_id(d, STMT_MERGE_TICKETS, a, 1, b, 0, __func__) == -1 ||
	    dbi_run_id(d, STMT_MERGE_AGENT, a, 1, b, 0, __func__) == -1 ||
	    dbi_run_id(d, STMT_MERGE_DELETE, a, 0, 0, 0, __func__) == -1)
		return -1;
	/*
	 * a's ids are free once a is gone (each UNIQUE per number); b
	 * takes those it lacks: a BSUID-only b gets the phone of a.
	 */
	s = dbi_st(d, STMT_MERGE_UID_SET);
	sqlite3_bind_int64(s, 1, b);
	dbi_bind_text(s, 2, uid[0] != '\0' ? uid : NULL);
	dbi_bind_text(s, 3, wa[0] != '\0' ? wa : NULL);
	if (dbi_run(d, STMT_MERGE_UID_SET, __func__) != DB_OK)
		return -1;
	return 0;
}

/*
 * The customer at old_id (a wa_id, or a BSUID when uid) changed to
 * new_id: the contact takes the new id, or, when both are known already
 * (messages from the new id came first), the two become one.  0 or -1.
 */
static int
contact_renumber(struct db *d, const char *pnid, int uid,
    const char *old_id, const char *new_id)
{
	sqlite3_stmt	*s;
	enum stmt	 k = uid ? STMT_CONTACT_RE_UID : STMT_CONTACT_RENUMBER;
	int64_t		 a, b;

	if ((a = dbi_contact_find(d, pnid, uid ? NULL : old_id,
	    uid ? old_id : NULL)) <= 0)
		return a == 0 ? 0 : -1;
	if ((b = dbi_contact_find(d, pnid, uid ? NULL : new_id,
	    uid ? new_id : NULL)) < 0)
		return -1;
	if (b > 0)
		return a == b ? 0 : contact_merge(d, pnid, a, b);
	s = dbi_st(d, k);
	sqlite3_bind_int64(s, 1, a);
	dbi_bind_text(s, 2, new_id);
	return dbi_run(d, k, __func__) == DB_OK ? 0 : -1;
}

/* 1 when a system message changes id old to a different new one. */
static int
id_changed(const char *old, const char *new)
{
	return old != NULL && new != NULL && new[0] != '\0' &&
	    strcmp(old, new) != 0;
}

/* Records that it's sender changed from old to new.  0 or -1. */
static int
rename_insert(struct db *d, const struct wh_item *it, const char *old,
    const char *new)
{
	sqlite3_stmt *s = dbi_st(d, STMT_RENAME_INSERT);

	dbi_bind_text(s, 1, it->phone_number_id);
	dbi_bind_text(s, 2, old);
	dbi_bind_text(s, 3, new);
	sqlite3_bind_int64(s, 4, it->timestamp);
	return dbi_run(d, STMT_RENAME_INSERT, __func__) == DB_OK ? 0 : -1;
}

static enum db_rc
apply_message(struct db *d, int64_t ev, const struct wh_item *it,
    const struct policy_verdict *v, int64_t now_ms)
{
	sqlite3_stmt	*s;
	int64_t		 contact, conv, mid;
	int		 k, i = 1;

	if ((k = wamid_known(d, it->wamid)) != 0)
		return k == 1 ? DB_DUP : DB_ERR;
	/* Reference 5.11: the change is known before anyone is looked up. */
	if ((id_changed(it->from, it->new_wa_id) &&
	    rename_insert(d, it, it->from, it->new_wa_id) == -1) ||
	    (id_changed(it->from_user_id, it->new_user_id) &&
	    rename_insert(d, it, it->from_user_id, it->new_user_id) == -1))
		return DB_ERR;
	if ((contact = contact_seen(d, it)) < 0 ||
	    (conv = dbi_conversation_ensure(d, it->phone_number_id, contact,
	    now_ms / 1000)) < 0)
		return DB_ERR;
	s = dbi_st(d, STMT_MSG_IN_INSERT);
	dbi_bind_text(s, i++, it->phone_number_id);
	dbi_bind_text(s, i++, it->wamid);
	dbi_bind_text(s, i++, it->outbound ? "out" : "in");
	sqlite3_bind_int64(s, i++, conv);
	sqlite3_bind_int64(s, i++, contact);
	if (it->outbound)
		i++;
	else
		dbi_bind_text(s, i++, it->from != NULL ? it->from :
		    it->from_user_id);
	dbi_bind_text(s, i++, it->type);
	/* An edit's text lives in the message it edits (and message_edits). */
	dbi_bind_text(s, i++, it->original_wamid == NULL ? it->text : NULL);
	dbi_bind_text(s, i++, it->media_id);
	dbi_bind_text(s, i++, it->mime_type);
	dbi_bind_text(s, i++, it->sha256);
	dbi_bind_text(s, i++, it->filename);
	if (it->has_location) {
		sqlite3_bind_double(s, i++, it->latitude);
		sqlite3_bind_double(s, i++, it->longitude);
	} else
		i += 2;
	dbi_bind_text(s, i++, it->location_name);
	dbi_bind_text(s, i++, it->location_address);
	dbi_bind_text(s, i++, it->interactive_type);
	dbi_bind_text(s, i++, it->reply_id);
	dbi_bind_text(s, i++, it->reply_title);
	dbi_bind_text(s, i++, it->reaction_to);
	dbi_bind_text(s, i++, it->reaction_emoji);
	dbi_bind_text(s, i++, it->context_wamid);
	dbi_bind_text(s, i++, it->context_from);
	sqlite3_bind_int(s, i++, it->forwarded);
	dbi_bind_text(s, i++, it->referral_source_id);
	dbi_bind_text(s, i++, it->referral_ctwa_clid);
	dbi_bind_nz(s, i++, it->err_code);
	dbi_bind_text(s, i++, it->err_title);
	sqlite3_bind_int64(s, i++, it->timestamp);
	dbi_bind_text(s, i++, it->raw);
	sqlite3_bind_int64(s, i++, ev);
	sqlite3_bind_int64(s, i++, now_ms / 1000);
	if (it->outbound) {
		dbi_bind_text(s, i++, it->to != NULL ? it->to : it->to_user_id);
		dbi_bind_text(s, i++, it->history_status);
		if (it->history_status != NULL)
			sqlite3_bind_int64(s, i, it->timestamp);
		i++;
	} else
		i += 3;
	dbi_bind_text(s, i++, it->source);
	if (dbi_run(d, STMT_MSG_IN_INSERT, __func__) != DB_OK)
		return DB_ERR;
	mid = sqlite3_last_insert_rowid(d->h);
	/*
	 * An edit or deletion is a message of its own (its wamid keys
	 * redeliveries) that changes the original, not the conversation.
	 */
	if (it->original_wamid != NULL)
		return apply_edit(d, ev, it, now_ms);
	/* Edits or a deletion that came first (reference 14.1). */
	if ((k = edits_pending(d, it->wamid)) == -1 ||
	    (k == 1 && edits_fold(d, it->wamid) == -1))
		return DB_ERR;
	/* The business's own and past messages (reference 14.2). */
	if (it->source != NULL) {
		s = dbi_st(d, STMT_CONV_PAST);
		sqlite3_bind_int64(s, 1, conv);
		sqlite3_bind_int64(s, 2, it->timestamp);
		sqlite3_bind_int(s, 3, !it->outbound);
		if (dbi_run(d, STMT_CONV_PAST, __func__) != DB_OK)
			return DB_ERR;
		return it->outbound && dbi_status_reconcile(d, it->wamid) ==
		    -1 ? DB_ERR : DB_OK;
	}
	/* Media is downloaded later by the worker (reference 10). */
	if (it->media_id != NULL) {
		s = dbi_st(d, STMT_MEDIA_INSERT);
		dbi_bind_text(s, 1, it->phone_number_id);
		dbi_bind_text(s, 2, it->media_id);
		dbi_bind_text(s, 3, "in");
		sqlite3_bind_int64(s, 4, sqlite3_last_insert_rowid(d->h));
		dbi_bind_text(s, 5, it->mime_type);
		dbi_bind_text(s, 9, "pending");
		sqlite3_bind_int64(s, 10, now_ms / 1000);
		if (dbi_run(d, STMT_MEDIA_INSERT, __func__) != DB_OK)
			return DB_ERR;
	}
	/* Issue 16: message.received, in this transaction. */
	if (db_event_received(d, it, mid, conv, now_ms) == -1)
		return DB_ERR;
	/* Opt-out and opt-in keywords (DESIGN rule 5), as policy said. */
	if (v->opt != POLICY_OPT_NONE && (dbi_run_id(d, STMT_OPT_SET, contact,
	    2, v->opt == POLICY_OPT_STOP, it->timestamp, __func__) == -1 ||
	    db_event_opt(d, it->phone_number_id, it->from, conv,
	    v->opt == POLICY_OPT_STOP, it->text, now_ms) == -1))
		return DB_ERR;
	/* The window's end (reference 9.4, 5.13), as policy said. */
	s = dbi_st(d, STMT_CONV_INBOUND);
	sqlite3_bind_int64(s, 1, conv);
	sqlite3_bind_int64(s, 2, it->timestamp);
	sqlite3_bind_int64(s, 3, v->window_expires);
	if (dbi_run(d, STMT_CONV_INBOUND, __func__) != DB_OK)
		return DB_ERR;
	/* Reference 5.11: an id change moves the contact to the new id. */
	if (id_changed(it->from, it->new_wa_id) && contact_renumber(d,
	    it->phone_number_id, 0, it->from, it->new_wa_id) == -1)
		return DB_ERR;
	if (id_changed(it->from_user_id, it->new_user_id) &&
	    contact_renumber(d, it->phone_number_id, 1, it->from_user_id,
	    it->new_user_id) == -1)
		return DB_ERR;
	return DB_OK;
}

/*
 * Sets an outbound message's current status from every status stored for
 * its wamid, folded with policy_status_merge(): the same result whatever
 * order they came in (DESIGN rule 3).  No-op while the message is unknown.
 */
int
dbi_status_reconcile(struct db *d, const char *wamid)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_STATUS_LIST);
	char		 cur[16] = "", title[256] = "";
	const char	*name, *m;
	int64_t		 at = 0, code = 0;
	int		 rc;

	dbi_bind_text(s, 1, wamid);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		name = (const char *)sqlite3_column_text(s, 0);
		/*
		 * The failure is kept whether or not the message got
		 * further: taken only when failed became the status, it
		 * was kept in 8 of the 24 orders of four statuses.
		 */
		if (name != NULL && strcmp(name, "failed") == 0) {
			code = sqlite3_column_int64(s, 2);
			m = (const char *)sqlite3_column_text(s, 3);
			(void)strlcpy(title, m ? m : "", sizeof(title));
		}
		m = policy_status_merge(cur[0] ? cur : NULL, name);
		if (m == NULL || m == cur)
			continue;
		(void)strlcpy(cur, m, sizeof(cur)); /* known names are short */
		at = sqlite3_column_int64(s, 1);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		dbi_err(d, __func__, dbi_sql(STMT_STATUS_LIST));
		return -1;
	}
	if (cur[0] == '\0')
		return 0;
	s = dbi_st(d, STMT_MSG_STATUS_SET);
	dbi_bind_text(s, 1, wamid);
	dbi_bind_text(s, 2, cur);
	sqlite3_bind_int64(s, 3, at);
	dbi_bind_nz(s, 4, code);
	dbi_bind_text(s, 5, title[0] ? title : NULL);
	return dbi_run(d, STMT_MSG_STATUS_SET, __func__) == DB_OK ? 0 : -1;
}

/* The outbox id in a biz_opaque_callback_data we sent, or 0. */
static int64_t
outbox_ref(const char *v)
{
	char		*end;
	long long	 n;

	if (strncmp(v, "outbox:", 7) != 0)
		return 0;
	errno = 0;
	n = strtoll(v + 7, &end, 10);
	if (errno != 0 || *end != '\0' || n <= 0)
		return 0;
	return n;
}

/*
 * 1 when outbox row id is the one a status's callback names: same
 * number and recipient.  Row ids are not AUTOINCREMENT, so erasing the
 * newest rows lets a new row take an old id; a late status for the old
 * message must not settle the new one unsent.  0 no, -1 error.
 */
static int
outbox_owns(struct db *d, int64_t id, const struct wh_item *it)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_OUTBOX_OWNS);
	int		 rc;

	if (it->recipient_id == NULL && it->recipient_user_id == NULL)
		return 0;
	sqlite3_bind_int64(s, 1, id);
	dbi_bind_text(s, 2, it->phone_number_id);
	dbi_bind_text(s, 3, it->recipient_id);
	dbi_bind_text(s, 4, it->recipient_user_id);
	rc = dbi_row(d, STMT_OUTBOX_OWNS, __func__);
	sqlite3_reset(s);
	return rc;
}

static enum db_rc
apply_status(struct db *d, int64_t ev, const struct wh_item *it,
    const struct policy_verdict *v, int64_t now_ms)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_STATUS_INSERT);
	int64_t		 ob;
	int		 i = 1, k;

	dbi_bind_text(s, i++, it->phone_number_id);
	dbi_bind_text(s, i++, it->wamid);
	dbi_bind_text(s, i++, it->status);
	sqlite3_bind_int64(s, i++, it->timestamp);
	dbi_bind_text(s, i++, it->recipient_id);
	dbi_bind_text(s, i++, it->recipient_user_id);
	dbi_bind_text(s, i++, it->biz_opaque);
	dbi_bind_text(s, i++, it->conv_id);
	dbi_bind_text(s, i++, it->conv_origin);
	dbi_bind_nz(s, i++, it->conv_expires);
	dbi_bind_text(s, i++, it->pricing_model);
	dbi_bind_text(s, i++, it->pricing_category);
	dbi_bind_text(s, i++, it->pricing_type);
	if (it->billable >= 0)
		sqlite3_bind_int(s, i, it->billable);
	i++;
	dbi_bind_nz(s, i++, it->err_code);
	dbi_bind_text(s, i++, it->err_title != NULL ? it->err_title :
	    it->err_message);
	dbi_bind_text(s, i++, it->err_details);
	dbi_bind_text(s, i++, it->raw);
	sqlite3_bind_int64(s, i++, ev);
	sqlite3_bind_int64(s, i++, now_ms / 1000);
	if (dbi_run(d, STMT_STATUS_INSERT, __func__) != DB_OK)
		return DB_ERR;
	if (sqlite3_changes(d->h) == 0)
		return DB_DUP;
	/*
	 * Our outbox id rides in biz_opaque_callback_data: a status can
	 * tell us Meta took a message whose reply we never saw (a timeout,
	 * a crash), so it is not sent again.
	 */
	if (it->biz_opaque != NULL && (ob = outbox_ref(it->biz_opaque)) > 0 &&
	    (k = outbox_owns(d, ob, it)) != 0 && (k == -1 ||
	    db_outbox_accept(d, ob, it->wamid, now_ms) == -1))
		return DB_ERR;
	/* Reference 8.2: the user stopped marketing messages (131050). */
	if (v->opts_out && it->recipient_id != NULL &&
	    (db_opt_set(d, it->phone_number_id, it->recipient_id, 1,
	    it->timestamp) == -1 || db_event_opt(d, it->phone_number_id,
	    it->recipient_id, 0, 1, NULL, now_ms) == -1))
		return DB_ERR;
	/* Issue 16: a campaign's recipient moves forward with it. */
	if (db_campsend_status(d, it->wamid, it->status, it->err_code,
	    it->err_title != NULL ? it->err_title : it->err_message,
	    now_ms) == -1)
		return DB_ERR;
	/* Issue 16: message.status, in this transaction. */
	return dbi_status_reconcile(d, it->wamid) == 0 &&
	    db_event_status(d, it, now_ms) == 0 ? DB_OK : DB_ERR;
}

/*
 * SHA-256 of field, newline, raw JSON.  The field is hashed too: the same
 * value under two fields is two events.  For account events (any field
 * but messages) the WABA (entry.id) and entry.time lead: the same value
 * for two accounts, or again weeks later, is a new event (reference
 * 14.3).  The path is not: a redelivery may batch differently.  Returns
 * 0 or -1.
 */
static int
item_digest(const struct wh_item *it, char sha[65])
{
	struct buf	 b;
	int		 rc = -1;

	buf_init(&b);
	if (it->kind == WH_OTHER && buf_printf(&b, "%s\n%lld\n",
	    it->waba_id != NULL ? it->waba_id : "",
	    (long long)it->entry_time) == -1)
		goto done;
	if (buf_puts(&b, it->field != NULL ? it->field : "") == 0 &&
	    buf_append(&b, "\n", 1) == 0 && buf_puts(&b, it->raw) == 0)
		rc = sig_sha256_hex(b.p, b.len, sha);
done:
	buf_clear(&b);
	return rc;
}

/* Errors and other fields: stored once, keyed by a digest of the item. */
static enum db_rc
apply_stored(struct db *d, int64_t ev, const struct wh_item *it,
    int64_t now_ms)
{
	sqlite3_stmt	*s;
	char		 sha[65];
	enum stmt	 k = it->kind == WH_ERROR ? STMT_ERROR_INSERT :
			    STMT_OTHER_INSERT;
	int		 i = 1;

	if (item_digest(it, sha) == -1)
		return DB_ERR;
	s = dbi_st(d, k);
	if (k == STMT_ERROR_INSERT) {
		dbi_bind_text(s, i++, it->phone_number_id);
		dbi_bind_nz(s, i++, it->err_code);
		dbi_bind_text(s, i++, it->err_title);
		dbi_bind_text(s, i++, it->err_message);
		dbi_bind_text(s, i++, it->err_details);
	} else {
		dbi_bind_text(s, i++, it->waba_id);
		dbi_bind_text(s, i++, it->phone_number_id);
		dbi_bind_text(s, i++, it->field);
		dbi_bind_text(s, i++, it->event);
	}
	dbi_bind_text(s, i++, it->raw);
	dbi_bind_text(s, i++, sha);
	sqlite3_bind_int64(s, i++, ev);
	sqlite3_bind_int64(s, i++, now_ms / 1000);
	if (dbi_run(d, k, __func__) != DB_OK)
		return DB_ERR;
	return sqlite3_changes(d->h) == 0 ? DB_DUP : DB_OK;
}

/*
 * A user stopped or resumed marketing messages: the same opt-out the
 * STOP keyword sets, ordered by Meta's time.  Other categories are kept
 * in subscription_events only.
 */
static enum db_rc
apply_preference(struct db *d, const struct wh_item *it)
{
	sqlite3_stmt	*s;
	int		 out, rc;

	if (it->pref_category != NULL &&
	    strstr(it->pref_category, "marketing") == NULL)
		return DB_DUP;
	if (strcmp(it->pref_value, "stop") != 0 &&
	    strcmp(it->pref_value, "resume") != 0)
		return DB_DUP;
	/* A redelivery (or an older signal) changes nothing: say so. */
	out = strcmp(it->pref_value, "stop") == 0;
	s = dbi_st(d, STMT_PREF_KNOWN);
	dbi_bind_text(s, 1, it->phone_number_id);
	sqlite3_bind_int(s, 2, out);
	sqlite3_bind_int64(s, 3, it->timestamp);
	dbi_bind_text(s, 4, it->from);
	if ((rc = dbi_row(d, STMT_PREF_KNOWN, __func__)) == -1)
		return DB_ERR;
	if (rc == 1) {
		sqlite3_reset(s);
		return DB_DUP;
	}
	return db_opt_set(d, it->phone_number_id, it->from,
	    strcmp(it->pref_value, "stop") == 0, it->timestamp) == 0 ?
	    DB_OK : DB_ERR;
}

/*
 * An address-book entry of the business's phone (reference 14.2): the
 * contact is created when unknown, and its saved name set or cleared by
 * the newest entry.  DB_DUP when it changes nothing (a redelivery).
 */
static enum db_rc
apply_contact_sync(struct db *d, const struct wh_item *it)
{
	sqlite3_stmt	*s;
	int64_t		 id;

	if ((id = dbi_contact_find(d, it->phone_number_id, it->sync_phone,
	    NULL)) < 0)
		return DB_ERR;
	if (id == 0) {
		s = dbi_st(d, STMT_SYNC_INSERT);
		dbi_bind_text(s, 1, it->phone_number_id);
		dbi_bind_text(s, 2, it->sync_phone);
		sqlite3_bind_int64(s, 3, it->timestamp);
		if (dbi_run(d, STMT_SYNC_INSERT, __func__) != DB_OK)
			return DB_ERR;
		id = sqlite3_last_insert_rowid(d->h);
	}
	s = dbi_st(d, STMT_SYNC_SET);
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, it->timestamp);
	dbi_bind_text(s, 3, it->sync_remove ? NULL : it->sync_name);
	if (dbi_run(d, STMT_SYNC_SET, __func__) != DB_OK)
		return DB_ERR;
	return sqlite3_changes(d->h) == 0 ? DB_DUP : DB_OK;
}

/*
 * Applies one item of journal entry ev inside the caller's transaction,
 * writing what policy decided of it (v, from policy_verdict()), at now_ms (unix ms: rows' created_at take its seconds, an outbox row a
 * status settles its milliseconds).
 * Returns DB_OK, DB_DUP (already known) or DB_ERR with a phrase in *why;
 * on DB_ERR the caller rolls back to its savepoint.
 */
enum db_rc
db_apply_item(struct db *d, int64_t ev, const struct wh_item *it,
    const struct policy_verdict *v, int64_t now_ms, const char **why)
{
	enum db_rc rc = DB_ERR;

	*why = "database error";
	switch (it->kind) {
	case WH_MESSAGE:
		rc = apply_message(d, ev, it, v, now_ms);
		break;
	case WH_STATUS:
		rc = apply_status(d, ev, it, v, now_ms);
		break;
	case WH_ERROR:
		rc = apply_stored(d, ev, it, now_ms);
		break;
	case WH_OTHER:
		/* Kept whole; a new one also changes templates and numbers. */
		if ((rc = apply_stored(d, ev, it, now_ms)) == DB_OK &&
		    dbi_health_apply(d, it, now_ms) == -1)
			rc = DB_ERR;
		break;
	case WH_PREFERENCE:
		rc = apply_preference(d, it);
		break;
	case WH_CONTACT_SYNC:
		rc = apply_contact_sync(d, it);
		break;
	case WH_BAD:
		*why = it->error;
		rc = DB_ERR;
		break;
	case WH__MAX:
		break;
	}
	return rc;
}
