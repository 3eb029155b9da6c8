/*
 * db_inbox.c: what the inbox adds to conversations (issue 14): the chat
 * list, the change cursor tabs poll, labels, notes, and the activity row
 * every staff change writes in the same transaction as the change.
 *
 * The change cursor.  A tab that waits for news must never hold a
 * responder (DESIGN), so it polls GET /changes about once a second, and
 * each poll must cost a handful of index seeks whatever the size of the
 * database.  Everything that changes a chat list row or an open chat
 * leaves a new row with a larger rowid in one of six tables:
 *   messages          a message in or out (the sender writes the
 *                     outbound row when Meta accepts a send)
 *   message_statuses  a status webhook (sent, delivered, read, failed)
 *   outbox            a send queued (by the bot, the API, a person)
 *   outbox 'failed'   a send that failed before Meta took it: no new
 *                     row anywhere, so the cursor keeps the highest id
 *                     in outbox_state's (state = 'failed', id) range
 *   activity          anything staff did (assign, label, note, read ...)
 *   message_edits     a customer edited or deleted a message
 * The cursor is those six high-water marks ("v1.M.S.O.F.A.E").  A poll
 * reads the current marks (one seek each) and the rowid ranges between
 * (old, new] of each table, which are empty when nothing happened, in
 * one read transaction, so that nothing falls between two polls.
 * Each range is read newest first and at most `cap` rows; a range wider
 * than that says "more": the caller reloads the list instead.
 *
 * Not seen (the next message, status or staff act on the chat shows
 * them): a failed send whose id is below the highest failed one at the
 * last poll (an old row retried and failing again); a cancelled send; a
 * media file the worker finished downloading; opt-outs from the
 * user_preferences webhook; address-book names (smb_app_state_sync);
 * labels renamed or deleted (a list-wide change: tabs reload labels);
 * hand-offs that expire (assigned_until is applied at the next message).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "clock.h"
#include "db.h"
#include "db_int.h"

/* GET /chats for one number: rows through cb, newest first.  n or -1. */
int
db_inbox_chats(struct db *d, const struct db_chats_filter *f, db_row_cb cb,
    void *arg)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_INBOX_CHATS);

	dbi_bind_text(s, 1, f->pnid);
	sqlite3_bind_int64(s, 2, f->now_s);
	sqlite3_bind_int64(s, 3, f->before_at);
	sqlite3_bind_int64(s, 4, f->before_id);
	dbi_bind_opt_int(s, 5, f->unread);
	dbi_bind_opt_text(s, 6, f->assignee);
	dbi_bind_opt_text(s, 7, f->state);
	dbi_bind_opt_text(s, 8, f->label);
	dbi_bind_opt_text(s, 9, f->like);
	dbi_bind_opt_text(s, 10, f->window);
	sqlite3_bind_int(s, 11, f->limit);
	return dbi_each_typed(d, STMT_INBOX_CHATS, cb, arg, __func__);
}

/*
 * GET /changes: the current marks into marks and, when since (the
 * marks of an earlier poll) is given, each conversation of the numbers
 * (a JSON array) touched since then through cb, newest message first,
 * at most limit.  Reads each table's new rows, at most cap of each.
 * The count, or -1.
 */
int
db_inbox_changes(struct db *d, const char *numbers, const int64_t *since,
    int64_t marks[DB_MARKS], int cap, int limit,
    void (*cb)(void *, int64_t), void *arg)
{
	sqlite3_stmt	*s;
	int		 i, n = 0, rc;

	if (db_begin_read(d) != DB_OK)
		return -1;
	s = dbi_st(d, STMT_INBOX_MARKS);
	if (dbi_row(d, STMT_INBOX_MARKS, __func__) != 1)
		goto fail;
	for (i = 0; i < DB_MARKS; i++)
		marks[i] = sqlite3_column_int64(s, i);
	sqlite3_reset(s);
	if (since != NULL) {
		s = dbi_st(d, STMT_INBOX_CHANGES);
		for (i = 0; i < DB_MARKS; i++) {
			/* A mark from another database (restored, rebuilt):
			 * nothing above the current one. */
			sqlite3_bind_int64(s, 2 * i + 1, since[i] < marks[i] ?
			    since[i] : marks[i]);
			sqlite3_bind_int64(s, 2 * i + 2, marks[i]);
		}
		dbi_bind_text(s, 13, numbers);
		sqlite3_bind_int(s, 14, cap);
		sqlite3_bind_int(s, 15, limit);
		while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
			cb(arg, sqlite3_column_int64(s, 0));
			n++;
		}
		sqlite3_reset(s);
		if (rc != SQLITE_DONE) {
			dbi_err(d, __func__, dbi_sql(STMT_INBOX_CHANGES));
			goto fail;
		}
	}
	if (db_commit(d) == -1)
		return -1;
	return n;
fail:
	db_rollback(d);
	return -1;
}

/* Every label (id 0) or one.  n or -1. */
int
db_inbox_labels(struct db *d, int64_t id, db_row_cb cb, void *arg)
{
	enum stmt	 k = id > 0 ? STMT_INBOX_LABEL : STMT_INBOX_LABELS;
	sqlite3_stmt	*s = dbi_st(d, k);

	if (id > 0)
		sqlite3_bind_int64(s, 1, id);
	return dbi_each_typed(d, k, cb, arg, __func__);
}

/* A new label.  DB_OK with *id, DB_DUP (the name is taken), DB_ERR. */
enum db_rc
db_inbox_label_add(struct db *d, const char *name, const char *color,
    int64_t now_s, int64_t *id)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_INBOX_LABEL_INSERT);
	enum db_rc	 rc;

	dbi_bind_text(s, 1, name);
	dbi_bind_text(s, 2, color);
	sqlite3_bind_int64(s, 3, now_s);
	if ((rc = dbi_run(d, STMT_INBOX_LABEL_INSERT, __func__)) == DB_OK)
		*id = sqlite3_last_insert_rowid(d->h);
	return rc;
}

/* The name of label id into buf.  1, 0 none, -1. */
static int
label_name(struct db *d, int64_t id, char *buf, size_t sz)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_INBOX_LABEL);
	int		 rc;

	sqlite3_bind_int64(s, 1, id);
	if ((rc = dbi_row(d, STMT_INBOX_LABEL, __func__)) == 1) {
		dbi_col_copy(s, 1, buf, sz);
		sqlite3_reset(s);
	}
	return rc;
}

/*
 * Renames and/or recolours label id; a new name is also the name in
 * every conversation that had the old one, in one transaction.  1, 0 no
 * such label, 2 the name is taken, -1.
 */
int
db_inbox_label_update(struct db *d, int64_t id, int set_name, const char *name,
    int set_color, const char *color)
{
	sqlite3_stmt	*s;
	char		 old[128];
	enum db_rc	 rc;
	int		 got;

	if (db_begin(d) != DB_OK)
		return -1;
	if ((got = label_name(d, id, old, sizeof(old))) != 1) {
		db_rollback(d);
		return got;
	}
	s = dbi_st(d, STMT_INBOX_LABEL_UPDATE);
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int(s, 2, set_name);
	dbi_bind_text(s, 3, name);
	sqlite3_bind_int(s, 4, set_color);
	dbi_bind_text(s, 5, color);
	if ((rc = dbi_run(d, STMT_INBOX_LABEL_UPDATE, __func__)) != DB_OK) {
		db_rollback(d);
		return rc == DB_DUP ? 2 : -1;
	}
	if (set_name && strcmp(old, name) != 0) {
		s = dbi_st(d, STMT_INBOX_LABEL_RENAME);
		dbi_bind_text(s, 1, old);
		dbi_bind_text(s, 2, name);
		if (dbi_run(d, STMT_INBOX_LABEL_RENAME, __func__) != DB_OK)
			goto fail;
	}
	if (db_commit(d) == -1)
		return -1;
	return 1;
fail:
	db_rollback(d);
	return -1;
}

/* Deletes label id and takes it off every conversation.  1, 0 none, -1. */
int
db_inbox_label_delete(struct db *d, int64_t id)
{
	sqlite3_stmt	*s;
	char		 old[128];
	int		 got;

	if (db_begin(d) != DB_OK)
		return -1;
	if ((got = label_name(d, id, old, sizeof(old))) != 1) {
		db_rollback(d);
		return got;
	}
	s = dbi_st(d, STMT_INBOX_LABEL_DELETE);
	sqlite3_bind_int64(s, 1, id);
	if (dbi_run(d, STMT_INBOX_LABEL_DELETE, __func__) != DB_OK)
		goto fail;
	s = dbi_st(d, STMT_INBOX_LABEL_UNUSE);
	dbi_bind_text(s, 1, old);
	if (dbi_run(d, STMT_INBOX_LABEL_UNUSE, __func__) != DB_OK)
		goto fail;
	if (db_commit(d) == -1)
		return -1;
	return 1;
fail:
	db_rollback(d);
	return -1;
}

/* A conversation as it is before a change (STMT_INBOX_CONV_STATE). */
struct conv_state {
	char	 pnid[40];
	char	*assignee, *labels, *email, *notes;
	int64_t	 unread;
};

static void
conv_state_clear(struct conv_state *st)
{
	free(st->assignee);
	free(st->labels);
	free(st->email);
	free(st->notes);
	memset(st, 0, sizeof(*st));
}

/* Reads conversation id if the numbers cover it.  1, 0 none, -1. */
static int
conv_state(struct db *d, const char *numbers, int64_t id,
    struct conv_state *st)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_INBOX_CONV_STATE);
	int		 rc, oom = 0;

	memset(st, 0, sizeof(*st));
	sqlite3_bind_int64(s, 1, id);
	dbi_bind_text(s, 2, numbers);
	if ((rc = dbi_row(d, STMT_INBOX_CONV_STATE, __func__)) != 1)
		return rc;
	dbi_col_copy(s, 0, st->pnid, sizeof(st->pnid));
	st->assignee = dbi_col_dup(s, 1, &oom);
	st->labels = dbi_col_dup(s, 2, &oom);
	st->email = dbi_col_dup(s, 3, &oom);
	st->notes = dbi_col_dup(s, 4, &oom);
	st->unread = sqlite3_column_int64(s, 5);
	sqlite3_reset(s);
	if (oom) {
		conv_state_clear(st);
		return -1;
	}
	return 1;
}

/*
 * Begins the transaction of a change to conversation id, read into st,
 * when the numbers cover it: 1.  0 none or -1, with the transaction
 * rolled back (st holds nothing then).
 */
static int
begin_conv(struct db *d, const char *numbers, int64_t id,
    struct conv_state *st)
{
	int rc;

	memset(st, 0, sizeof(*st));
	if (db_begin(d) != DB_OK)
		return -1;
	if ((rc = conv_state(d, numbers, id, st)) != 1)
		db_rollback(d);
	return rc;
}

/* 1 when the numbers (a JSON array) cover conversation id, 0 not, -1. */
int
db_inbox_conv_seen(struct db *d, const char *numbers, int64_t id)
{
	struct conv_state	 st;
	int			 rc;

	rc = conv_state(d, numbers, id, &st);
	conv_state_clear(&st);
	return rc;
}

/* 1 when a and b differ (NULL is a value). */
static int
differ(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a != b;
	return strcmp(a, b) != 0;
}

/*
 * One activity row: kind, detail {"from": from, "to": to}, as strings
 * (json 0) or as JSON texts (json 1; NULL is null).  0 or -1.
 */
static int
act(struct db *d, int64_t conv, const char *pnid, const struct db_actor *who,
    const char *kind, const char *from, const char *to, int json,
    int64_t now_ms)
{
	enum stmt	 k = json ? STMT_INBOX_ACT_JSON : STMT_INBOX_ACT_TEXT;
	sqlite3_stmt	*s = dbi_st(d, k);

	sqlite3_bind_int64(s, 1, conv);
	dbi_bind_text(s, 2, pnid);
	dbi_bind_nz(s, 3, who->user_id);
	dbi_bind_text(s, 4, who->name);
	dbi_bind_text(s, 5, kind);
	dbi_bind_text(s, 6, from);
	dbi_bind_text(s, 7, to);
	sqlite3_bind_int64(s, 8, now_ms);
	return dbi_run(d, k, __func__) == DB_OK ? 0 : -1;
}

/* Whether assignee (NULL: the bot) is people: person or person:NAME. */
static int
is_person(const char *assignee)
{
	return assignee != NULL && (strcmp(assignee, "person") == 0 ||
	    strncmp(assignee, "person:", 7) == 0);
}

/*
 * The activity kind of a new assignee: assign (person:NAME, taken or
 * given to someone), release (person: handed to people, nobody yet),
 * handoff (bot, or agent:NAME: no person answers).
 */
static const char *
assign_kind(const char *who)
{
	if (strncmp(who, "person:", 7) == 0)
		return "assign";
	if (strcmp(who, "person") == 0)
		return "release";
	return "handoff";
}

/*
 * PATCH /conversations/{id}: the fields whose set flag is on, labels
 * not yet known added to labels, and one activity row for each field
 * that changed (assign/release/handoff, label, email, notes), all in one
 * transaction.  1 changed, 0 no such conversation for these numbers, -1.
 */
int
db_inbox_conv_patch(struct db *d, const char *numbers, int64_t id,
    const struct db_conv_patch *p, const struct db_actor *who, int64_t now_ms)
{
	struct conv_state	 st;
	sqlite3_stmt		*s;
	const char		*to_who = p->assignee != NULL ? p->assignee :
				    "bot";
	int			 rc;

	if ((rc = begin_conv(d, numbers, id, &st)) != 1)
		return rc;
	if (p->set_labels && p->labels != NULL) {
		s = dbi_st(d, STMT_INBOX_LABELS_ENSURE);
		dbi_bind_text(s, 1, p->labels);
		sqlite3_bind_int64(s, 2, now_ms / 1000);
		if (dbi_run(d, STMT_INBOX_LABELS_ENSURE, __func__) != DB_OK)
			goto fail;
	}
	if ((rc = db_api_conv_patch(d, numbers, id, p)) != 1)
		goto fail;
	if (p->set_assignee && differ(st.assignee, to_who) &&
	    (act(d, id, st.pnid, who, assign_kind(to_who), st.assignee, to_who,
	    0, now_ms) == -1 || db_event_assigned(d, st.pnid, id, to_who,
	    st.assignee, who->name, now_ms) == -1))	/* issue 16 */
		goto fail;
	/* Issue 16: from the bot or an agent to people is a hand-off too. */
	if (p->set_assignee && !is_person(st.assignee) && is_person(to_who) &&
	    db_event_handoff_conv(d, st.pnid, id, to_who, who->name,
	    now_ms) == -1)
		goto fail;
	if (p->set_labels && differ(st.labels, p->labels) &&
	    act(d, id, st.pnid, who, "label", st.labels != NULL &&
	    st.labels[0] != '\0' ? st.labels : "[]", p->labels != NULL ?
	    p->labels : "[]", 1, now_ms) == -1)
		goto fail;
	if (p->set_email && differ(st.email, p->email) &&
	    act(d, id, st.pnid, who, "email", st.email, p->email, 0,
	    now_ms) == -1)
		goto fail;
	if (p->set_notes && differ(st.notes, p->notes) &&
	    act(d, id, st.pnid, who, "notes", NULL, NULL, 0, now_ms) == -1)
		goto fail;
	if (db_commit(d) == -1) {
		conv_state_clear(&st);
		return -1;
	}
	conv_state_clear(&st);
	return 1;
fail:
	db_rollback(d);
	conv_state_clear(&st);
	return -1;
}

/*
 * POST /mark-read: db_api_conv_read() (unread to zero, the newest
 * inbound wamid, the customer and the number into the buffers) and,
 * when there was something unread, a "read" activity row naming the
 * reader, in one transaction.  1, 0 no such conversation, -1.
 */
int
db_inbox_conv_read(struct db *d, const char *numbers, int64_t id,
    const struct db_actor *who, int64_t now_ms, char *wamid, size_t wsz,
    char *wa_id, size_t asz, char *pnid, size_t psz)
{
	struct conv_state	 st;
	char			 was[24];
	int			 rc;

	if ((rc = begin_conv(d, numbers, id, &st)) != 1)
		return rc;
	if ((rc = db_api_conv_read(d, numbers, id, wamid, wsz, wa_id, asz,
	    pnid, psz)) != 1)
		goto fail;
	(void)snprintf(was, sizeof(was), "%lld", (long long)st.unread);
	if (st.unread > 0 && act(d, id, st.pnid, who, "read", was, "0", 1,
	    now_ms) == -1)
		goto fail;
	conv_state_clear(&st);
	if (db_commit(d) == -1)
		return -1;
	return 1;
fail:
	conv_state_clear(&st);
	db_rollback(d);
	return rc == 0 ? 0 : -1;
}

/* A conversation's newest limit activity rows, oldest first.  n or -1. */
int
db_inbox_activity(struct db *d, int64_t conv, int limit, db_row_cb cb,
    void *arg)
{
	sqlite3_stmt *s = dbi_st(d, STMT_INBOX_ACTIVITY);

	sqlite3_bind_int64(s, 1, conv);
	sqlite3_bind_int(s, 2, limit);
	return dbi_each_typed(d, STMT_INBOX_ACTIVITY, cb, arg, __func__);
}

/* A conversation's newest limit notes, oldest first.  n or -1. */
int
db_inbox_notes(struct db *d, int64_t conv, int limit, db_row_cb cb,
    void *arg)
{
	sqlite3_stmt *s = dbi_st(d, STMT_INBOX_NOTES);

	sqlite3_bind_int64(s, 1, conv);
	sqlite3_bind_int(s, 2, limit);
	return dbi_each_typed(d, STMT_INBOX_NOTES, cb, arg, __func__);
}

/* Note id when the numbers cover its conversation.  n (0, 1) or -1. */
int
db_inbox_note(struct db *d, const char *numbers, int64_t id, db_row_cb cb,
    void *arg)
{
	sqlite3_stmt *s = dbi_st(d, STMT_INBOX_NOTE);

	sqlite3_bind_int64(s, 1, id);
	dbi_bind_text(s, 2, numbers);
	return dbi_each_typed(d, STMT_INBOX_NOTE, cb, arg, __func__);
}

/*
 * A note on conversation conv by who, with a "note" activity row, in one
 * transaction.  1 with *id, 0 no such conversation for the numbers, -1.
 */
int
db_inbox_note_add(struct db *d, const char *numbers, int64_t conv,
    const struct db_actor *who, const char *text, int64_t now_ms, int64_t *id)
{
	struct conv_state	 st;
	sqlite3_stmt		*s;
	char			 num[24];
	int			 rc;

	if ((rc = begin_conv(d, numbers, conv, &st)) != 1)
		return rc;
	s = dbi_st(d, STMT_INBOX_NOTE_INSERT);
	sqlite3_bind_int64(s, 1, conv);
	dbi_bind_nz(s, 2, who->user_id);
	dbi_bind_text(s, 3, who->name);
	dbi_bind_text(s, 4, text);
	sqlite3_bind_int64(s, 5, now_ms / 1000);
	if (dbi_run(d, STMT_INBOX_NOTE_INSERT, __func__) != DB_OK)
		goto fail;
	*id = sqlite3_last_insert_rowid(d->h);
	(void)snprintf(num, sizeof(num), "%lld", (long long)*id);
	if (act(d, conv, st.pnid, who, "note", NULL, num, 1, now_ms) == -1)
		goto fail;
	conv_state_clear(&st);
	if (db_commit(d) == -1)
		return -1;
	return 1;
fail:
	conv_state_clear(&st);
	db_rollback(d);
	return -1;
}

/*
 * Deletes note id (of a conversation the numbers cover) when who wrote it
 * or admin is set, with a "note_deleted" activity row, in one
 * transaction.  1 deleted, 0 no such note, 2 not who's, -1.
 */
int
db_inbox_note_delete(struct db *d, const char *numbers, int64_t id,
    const struct db_actor *who, int admin)
{
	sqlite3_stmt	*s;
	char		 pnid[40], author[80], num[24];
	int64_t		 conv, uid;
	int		 rc;

	if (db_begin(d) != DB_OK)
		return -1;
	s = dbi_st(d, STMT_INBOX_NOTE);
	sqlite3_bind_int64(s, 1, id);
	dbi_bind_text(s, 2, numbers);
	if ((rc = dbi_row(d, STMT_INBOX_NOTE, __func__)) != 1) {
		db_rollback(d);
		return rc;
	}
	conv = sqlite3_column_int64(s, 1);
	uid = sqlite3_column_int64(s, 2);
	dbi_col_copy(s, 3, author, sizeof(author));
	dbi_col_copy(s, 6, pnid, sizeof(pnid));
	sqlite3_reset(s);
	/* The author: the same user, or for an API key's note the name. */
	if (!admin && !(who->user_id > 0 ? uid == who->user_id :
	    uid == 0 && strcmp(author, who->name) == 0)) {
		db_rollback(d);
		return 2;
	}
	s = dbi_st(d, STMT_INBOX_NOTE_DELETE);
	sqlite3_bind_int64(s, 1, id);
	if (dbi_run(d, STMT_INBOX_NOTE_DELETE, __func__) != DB_OK)
		goto fail;
	(void)snprintf(num, sizeof(num), "%lld", (long long)id);
	if (act(d, conv, pnid, who, "note_deleted", num, NULL, 1,
	    clock_now_ms()) == -1)
		goto fail;
	if (db_commit(d) == -1)
		return -1;
	return 1;
fail:
	db_rollback(d);
	return -1;
}

/* GET /conversations/{id}'s contact.  n (0, 1) or -1. */
int
db_inbox_contact(struct db *d, const char *numbers, int64_t conv,
    db_row_cb cb, void *arg)
{
	sqlite3_stmt *s = dbi_st(d, STMT_INBOX_CONTACT);

	sqlite3_bind_int64(s, 1, conv);
	dbi_bind_text(s, 2, numbers);
	return dbi_each_typed(d, STMT_INBOX_CONTACT, cb, arg, __func__);
}

/* The customer's newest limit rows of statement k (orders, tickets). */
static int
customer_recent(struct db *d, enum stmt k, const char *pnid,
    const char *wa_id, int limit, db_row_cb cb, void *arg, const char *fn)
{
	sqlite3_stmt *s = dbi_st(d, k);

	dbi_bind_text(s, 1, pnid);
	dbi_bind_text(s, 2, wa_id);
	sqlite3_bind_int(s, 3, limit);
	return dbi_each_typed(d, k, cb, arg, fn);
}

/* The customer's newest limit orders (the bot's tables).  n or -1. */
int
db_inbox_orders(struct db *d, const char *pnid, const char *wa_id, int limit,
    db_row_cb cb, void *arg)
{
	return customer_recent(d, STMT_INBOX_ORDERS, pnid, wa_id, limit, cb,
	    arg, __func__);
}

/* The customer's newest limit tickets.  n or -1. */
int
db_inbox_tickets(struct db *d, const char *pnid, const char *wa_id, int limit,
    db_row_cb cb, void *arg)
{
	return customer_recent(d, STMT_INBOX_TICKETS, pnid, wa_id, limit, cb,
	    arg, __func__);
}
