/*
 * api_inbox.c: what the inbox adds to conversations: its chat list
 * (GET /chats), the change cursor tabs poll (GET /changes), labels,
 * notes and activity, and the context GET /conversations/{id} shows
 * (contact, orders, tickets).  Storage is db_inbox.c, which also says
 * how the change cursor stays cheap.
 */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "api_int.h"
#include "buf.h"
#include "clock.h"
#include "db.h"
#include "param.h"
#include "req.h"

#define CHANGES_MAX	200	/* conversations a /changes answer names */
#define CHANGES_CAP	5000	/* new rows read of each table a poll */
#define ACTIVITY_MAX	500	/* entries GET .../activity returns */
#define NOTES_MAX	500	/* notes GET .../notes returns */
#define CONTEXT_ROWS	10	/* orders and tickets on a conversation */
#define NOTE_MAX	4000	/* bytes of a note */
#define LABEL_MAX	40	/* bytes of a label name */

static const char *const chat_states[] = { "bot", "person", "unassigned",
	"agent", NULL };
static const char *const windows[] = { "open", "closed", NULL };

/* GET /chats */
static const struct param chats_p[] = {
	API_NUMBER(struct chats_f),
	{ .name = "unread", .type = PARAM_BOOL,
	  .field = offsetof(struct chats_f, unread) },
	{ .name = "mine", .type = PARAM_BOOL,
	  .field = offsetof(struct chats_f, mine) },
	{ .name = "assignee", .type = PARAM_TEXT, .min = 1, .max = 600,
	  .field = offsetof(struct chats_f, assignee) },
	{ .name = "state", .type = PARAM_ENUM, .words = chat_states,
	  .field = offsetof(struct chats_f, state) },
	{ .name = "label", .type = PARAM_TEXT, .min = 1, .max = LABEL_MAX,
	  .field = offsetof(struct chats_f, label) },
	{ .name = "q", .type = PARAM_TEXT, .min = 1, .max = 100,
	  .field = offsetof(struct chats_f, q) },
	{ .name = "window", .type = PARAM_ENUM, .words = windows,
	  .field = offsetof(struct chats_f, window) },
	API_LIMIT(struct chats_f),
	{ .name = "cursor", .type = PARAM_TEXT, .min = 1, .max = 64,
	  .field = offsetof(struct chats_f, cursor) },
	{ .name = NULL }
};

/* GET /changes */
static const struct param changes_p[] = {
	{ .name = "since", .type = PARAM_TEXT, .min = 1, .max = 200,
	  .field = offsetof(struct changes_f, since) },
	{ .name = NULL }
};

/* POST /labels, PATCH /labels/{id}: color "#rrggbb", null the inbox's. */
static const struct param label_p[] = {
	{ .name = "name", .type = PARAM_TEXT, .min = 1, .max = LABEL_MAX,
	  .field = offsetof(struct label_f, name) },
	{ .name = "color", .type = PARAM_TEXT, .min = 7, .max = 7,
	  .nullable = 1, .field = offsetof(struct label_f, color) },
	{ .name = NULL }
};

/* POST /conversations/{id}/notes */
static const struct param note_p[] = {
	{ .name = "text", .type = PARAM_TEXT, .min = 1, .max = NOTE_MAX,
	  .field = offsetof(struct note_f, text) },
	{ .name = NULL }
};

static const struct param none_p[] = { { .name = NULL } };

static void	chats_list(struct call *);
static void	changes_get(struct call *);
static void	labels_list(struct call *);
static void	label_add(struct call *);
static void	label_patch(struct call *);
static void	label_delete(struct call *);
static void	notes_list(struct call *);
static void	note_add(struct call *);
static void	note_delete(struct call *);
static void	activity_list(struct call *);

const struct api_route api_inbox_routes[] = {
	{ "/chats", "GET", chats_list, API_VIEWER, chats_p, NULL },
	{ "/changes", "GET", changes_get, API_VIEWER, changes_p, NULL },
	{ "/labels", "GET", labels_list, API_VIEWER, none_p, NULL },
	{ "/labels", "POST", label_add, API_AGENT, none_p, label_p },
	{ "/labels/{id}", "PATCH", label_patch, API_AGENT, none_p, label_p },
	{ "/labels/{id}", "DELETE", label_delete, API_ADMIN, none_p, NULL },
	{ "/conversations/{id}/notes", "GET", notes_list, API_VIEWER, none_p,
	  NULL },
	{ "/conversations/{id}/notes", "POST", note_add, API_AGENT, none_p,
	  note_p },
	{ "/notes/{id}", "DELETE", note_delete, API_AGENT, none_p, NULL },
	{ "/conversations/{id}/activity", "GET", activity_list, API_VIEWER,
	  none_p, NULL },
	{ NULL, NULL, NULL, API_VIEWER, NULL, NULL }
};

static void
oom(struct call *c)
{
	(void)req_error(c->r, 503, NULL, "unavailable", "Out of memory.");
}

/* Who a change is recorded for (activity, notes). */
static void
actor(const struct call *c, struct db_actor *who)
{
	who->user_id = c->user_id;
	who->name = api_actor(c);
}

/*
 * Reads a decimal number of at most maxd digits at *p, then the
 * separator sep ('\0' the end).  0 with *v and *p past it, or -1.
 */
static int
take_num(const char **p, size_t maxd, char sep, int64_t *v)
{
	const char	*s = *p;
	size_t		 n = strspn(s, "0123456789");
	char		*end;
	long long	 x;

	if (n == 0 || n > maxd || s[n] != sep)
		return -1;
	errno = 0;
	x = strtoll(s, &end, 10);
	if (errno != 0 || end != s + n || x < 0)
		return -1;
	*v = x;
	*p = sep == '\0' ? s + n : s + n + 1;
	return 0;
}

/* qsort: newest message first, then the larger id (the list's order). */
static int
chat_cmp(const void *a, const void *b)
{
	json_t	*x = *(json_t *const *)a, *y = *(json_t *const *)b;
	int64_t	 tx = json_integer_value(json_object_get(x,
		    "last_message_at")), ty = json_integer_value(
		    json_object_get(y, "last_message_at"));
	int64_t	 ix = json_integer_value(json_object_get(x, "id")),
		 iy = json_integer_value(json_object_get(y, "id"));

	if (tx != ty)
		return tx < ty ? 1 : -1;
	return ix < iy ? 1 : ix > iy ? -1 : 0;
}

/* A chat row as the contract has it: preview an object, flags booleans. */
static int
chat_shape(struct call *c, json_t *row)
{
	json_t *pv = NULL;

	if (!json_is_null(json_object_get(row, "preview_id")) &&
	    (pv = json_pack("{s:O, s:O, s:O, s:O}", "direction",
	    json_object_get(row, "preview_direction"), "type",
	    json_object_get(row, "preview_type"), "text",
	    json_object_get(row, "preview_text"), "status",
	    json_object_get(row, "preview_status"))) == NULL)
		return -1;
	(void)json_object_del(row, "preview_id");
	(void)json_object_del(row, "preview_direction");
	(void)json_object_del(row, "preview_type");
	(void)json_object_del(row, "preview_text");
	(void)json_object_del(row, "preview_status");
	if (json_object_set_new(row, "preview", pv != NULL ? pv :
	    json_null()) == -1 ||
	    json_object_set_new(row, "window_open", json_boolean(
	    json_integer_value(json_object_get(row, "window_open")))) == -1 ||
	    json_object_set_new(row, "opted_out", json_boolean(
	    json_integer_value(json_object_get(row, "opted_out")))) == -1)
		return -1;
	api_label(c, row);
	return 0;
}

/*
 * GET /chats: the inbox's list, newest message first.  Filters: number=
 * (repeatable), unread, mine (assigned to the signed-in person; nothing
 * for an API key), assignee (bot, person, person:NAME, agent:NAME, or a
 * bare NAME for person:NAME), state (bot, person: handed to people,
 * unassigned: handed to people and nobody took it, agent), label, q (a
 * substring of the name, number, username, labels, notes), window.
 * The cursor "T.ID" is the last row's (last_message_at, id): the next
 * page starts strictly below it, so paging never repeats or skips a
 * chat that stays put while others move to the top.  Each number is
 * read on its own along conversations_last and the pages merged: no
 * sort of the numbers' conversations.  200, 400, 503.
 */
static void
chats_list(struct call *c)
{
	const struct chats_f	*q = &c->q.chats;
	struct db_chats_filter	 f;
	struct buf		 like;
	const char		*pnid, *p;
	json_t			*rows = NULL, *out = NULL, *v, **all = NULL;
	char			 who[API_USER_MAX + 620], cur[48];
	size_t			 i, n;
	int			 limit = (int)q->limit.i;

	buf_init(&like);
	memset(&f, 0, sizeof(f));
	f.now_s = (int64_t)time(NULL);
	f.limit = limit + 1;
	f.before_at = f.before_id = INT64_MAX;	/* no cursor: from the top */
	if (q->cursor.set) {
		p = q->cursor.s;
		if (take_num(&p, 12, '.', &f.before_at) == -1 ||
		    take_num(&p, 18, '\0', &f.before_id) == -1) {
			api_fail_field(c, 400, "bad_parameter", "cursor", "cursor "
			    "must be a next_cursor this list gave.");
			goto done;
		}
	}
	if (q->mine.set && q->mine.i && q->assignee.set) {
		api_fail_field(c, 400, "bad_parameter", "mine", "Give mine=true "
		    "or assignee, not both.");
		goto done;
	}
	if (q->mine.set && q->mine.i) {
		/* An API key is nobody: mine is then an empty list. */
		(void)snprintf(who, sizeof(who), "person:%s", c->user);
		f.assignee = who;
	} else if (q->assignee.set) {
		if (strcmp(q->assignee.s, "bot") == 0 ||
		    strcmp(q->assignee.s, "person") == 0 ||
		    strchr(q->assignee.s, ':') != NULL)
			f.assignee = q->assignee.s;
		else {
			(void)snprintf(who, sizeof(who), "person:%s",
			    q->assignee.s);	/* fits: 600 + 7 */
			f.assignee = who;
		}
	}
	if (q->q.set) {
		if (api_like_pattern(&q->q, &like) == -1) {
			oom(c);
			goto done;
		}
		f.like = like.p;
	}
	f.unread = q->unread.set ? &q->unread.i : NULL;
	f.state = q->state.set ? q->state.s : NULL;
	f.label = q->label.set ? q->label.s : NULL;
	f.window = q->window.set ? q->window.s : NULL;
	if ((rows = json_array()) == NULL) {
		oom(c);
		goto done;
	}
	json_object_foreach(c->cover, pnid, v) {
		f.pnid = pnid;
		if (db_inbox_chats(c->db, &f, api_on_row, rows) == -1) {
			api_db_trouble(c, "The chat list could not be read; try "
			    "again.");
			goto done;
		}
	}
	n = json_array_size(rows);
	if (n > 0 && (all = reallocarray(NULL, n, sizeof(*all))) == NULL) {
		oom(c);
		goto done;
	}
	for (i = 0; i < n; i++)
		all[i] = json_array_get(rows, i);
	if (n > 1)	/* all is NULL when no row: qsort's is nonnull */
		qsort(all, n, sizeof(*all), chat_cmp);
	if ((out = json_array()) == NULL) {
		oom(c);
		goto done;
	}
	for (i = 0; i < n && i < (size_t)limit; i++)
		if (chat_shape(c, all[i]) == -1 ||
		    json_array_append(out, all[i]) == -1) {
			oom(c);
			goto done;
		}
	if (n > (size_t)limit) {
		v = all[limit - 1];
		(void)snprintf(cur, sizeof(cur), "%lld.%lld", (long long)
		    json_integer_value(json_object_get(v, "last_message_at")),
		    (long long)json_integer_value(json_object_get(v, "id")));
		api_reply_json(c, 200, json_pack("{s:O, s:s}", "data", out,
		    "next_cursor", cur));
	} else
		api_reply_json(c, 200, json_pack("{s:O, s:n}", "data", out,
		    "next_cursor"));
done:
	free(all);
	json_decref(out);
	json_decref(rows);
	buf_clear(&like);
}

/* Collects conversation ids (db_inbox_changes()). */
static void
on_change(void *arg, int64_t id)
{
	(void)json_array_append_new(arg, json_integer((json_int_t)id));
}

/*
 * GET /changes[?since=CURSOR]: {"cursor", "conversations": [ids touched
 * since the cursor, newest message first, at most 200], "more"}.  more
 * is true when more changed than the answer names (over 200
 * conversations, or over 5,000 new rows of one kind since the cursor):
 * reload the list.  Without since: the current cursor and no ids.  The
 * cursor "v1.M.S.O.F.A.E" is db_inbox.c's six high-water marks; a tab
 * polls with the last one it got.  200, 400, 503.
 */
static void
changes_get(struct call *c)
{
	const struct changes_f	*q = &c->q.changes;
	int64_t			 since[DB_MARKS], marks[DB_MARKS];
	const char		*p;
	json_t			*ids;
	char			 cur[DB_MARKS * 21 + 8];
	int			 i, n, bad, more = 0;

	if (q->since.set) {
		p = q->since.s + 3;
		bad = strncmp(q->since.s, "v1.", 3) != 0;
		for (i = 0; !bad && i < DB_MARKS; i++)
			bad = take_num(&p, 18, i == DB_MARKS - 1 ? '\0' : '.',
			    &since[i]) == -1;
		if (bad) {
			api_fail_field(c, 400, "bad_parameter", "since", "since "
			    "must be a cursor /changes gave.");
			return;
		}
	}
	if ((ids = json_array()) == NULL) {
		oom(c);
		return;
	}
	if ((n = db_inbox_changes(c->db, c->numbers, q->since.set ? since :
	    NULL, marks, CHANGES_CAP, CHANGES_MAX + 1, on_change, ids)) == -1) {
		json_decref(ids);
		api_db_trouble(c, "The changes could not be read; try again.");
		return;
	}
	if (n > CHANGES_MAX) {
		more = 1;
		(void)json_array_remove(ids, CHANGES_MAX);
	}
	for (i = 0; q->since.set && i < DB_MARKS; i++)
		if (marks[i] - since[i] > CHANGES_CAP)
			more = 1;
	(void)snprintf(cur, sizeof(cur), "v1.%lld.%lld.%lld.%lld.%lld.%lld",
	    (long long)marks[0], (long long)marks[1], (long long)marks[2],
	    (long long)marks[3], (long long)marks[4], (long long)marks[5]);
	api_reply_json(c, 200, json_pack("{s:s, s:o, s:b}", "cursor", cur,
	    "conversations", ids, "more", more));
}

/* {"data": rows}: a short list answered whole. */
static void
reply_list(struct call *c, int n, json_t *rows)
{
	if (n < 0) {
		json_decref(rows);
		api_db_trouble(c, "The database could not answer; try again.");
		return;
	}
	api_reply_json(c, 200, json_pack("{s:o}", "data", rows));
}

/* GET /labels: every label, by name.  200, 503. */
static void
labels_list(struct call *c)
{
	json_t *rows;

	if ((rows = json_array()) == NULL) {
		oom(c);
		return;
	}
	reply_list(c, db_inbox_labels(c->db, 0, api_on_row, rows), rows);
}

/*
 * A label's name and color from the body: name 1-40 bytes without
 * control characters, color "#rrggbb" or null.  0, or -1 with the 422
 * sent.
 */
static int
label_check(struct call *c, const struct label_f *f)
{
	size_t i;

	for (i = 0; f->name.set && i < f->name.len; i++)
		if ((unsigned char)f->name.s[i] < 0x20 ||
		    f->name.s[i] == 0x7f) {
			api_fail_field(c, 422, "invalid", "name", "A label name "
			    "may not hold control characters.");
			return -1;
		}
	if (f->color.set && f->color.s != NULL && (f->color.s[0] != '#' ||
	    strspn(f->color.s + 1, "0123456789abcdefABCDEF") != 6)) {
		api_fail_field(c, 422, "invalid", "color", "color must be "
		    "#rrggbb (hexadecimal) or null.");
		return -1;
	}
	return 0;
}

/* Answers label id with status, or 404. */
static void
label_reply(struct call *c, int status, int64_t id)
{
	json_t	*rows;
	int	 n;

	if ((rows = json_array()) == NULL) {
		oom(c);
		return;
	}
	if ((n = db_inbox_labels(c->db, id, api_on_row, rows)) == 1) {
		json_incref(json_array_get(rows, 0));
		api_reply_json(c, status, json_array_get(rows, 0));
		json_decref(rows);
		return;
	}
	c->id = id;
	api_one(c, n, rows, "label");
}

/*
 * POST /labels {"name", "color"}: 201 with the label; 409 label_exists;
 * 422 (required, invalid, unknown_field); 503.
 */
static void
label_add(struct call *c)
{
	const struct label_f	*f = &c->b.label;
	json_t			*o;
	int64_t			 id = 0;

	if ((o = api_body_params(c, 4096, "A label takes name and color.")) ==
	    NULL)
		return;
	if (!f->name.set) {
		api_fail_field(c, 422, "required", "name", "name is required: 1 "
		    "to 40 bytes.");
		goto done;
	}
	if (label_check(c, f) == -1)
		goto done;
	switch (db_inbox_label_add(c->db, f->name.s, f->color.set ?
	    f->color.s : NULL, (int64_t)time(NULL), &id)) {
	case DB_OK:
		label_reply(c, 201, id);
		break;
	case DB_DUP:
		api_fail_field(c, 409, "label_exists", "name", "A label with "
		    "that name exists already.");
		break;
	default:
		(void)req_error(c->r, 503, "Retry-After: 2\r\n", "unavailable",
		    "The label could not be saved; try again.");
		break;
	}
done:
	json_decref(o);
}

/*
 * PATCH /labels/{id} {"name"?, "color"?}: a new name is also the name
 * on every conversation that has the label.  200, 404, 409
 * label_exists, 422, 503.
 */
static void
label_patch(struct call *c)
{
	const struct label_f	*f = &c->b.label;
	json_t			*o;
	int			 rc;

	if ((o = api_body_params(c, 4096, "A label takes name and color.")) ==
	    NULL)
		return;
	if (f->name.set && f->name.s == NULL) {
		api_fail_field(c, 422, "invalid", "name", "name cannot be null.");
		goto done;
	}
	if (label_check(c, f) == -1)
		goto done;
	rc = db_inbox_label_update(c->db, c->id, f->name.set, f->name.s,
	    f->color.set, f->color.s);
	if (rc == 1)
		label_reply(c, 200, c->id);
	else if (rc == 0)
		(void)req_error(c->r, 404, NULL, "not_found", "No label has "
		    "that id.");
	else if (rc == 2)
		api_fail_field(c, 409, "label_exists", "name", "A label with "
		    "that name exists already.");
	else
		(void)req_error(c->r, 503, "Retry-After: 2\r\n", "unavailable",
		    "The label could not be saved; try again.");
done:
	json_decref(o);
}

/* DELETE /labels/{id} (admins): also off every conversation.  200, 404. */
static void
label_delete(struct call *c)
{
	int rc = db_inbox_label_delete(c->db, c->id);

	if (rc == -1)
		(void)req_error(c->r, 503, "Retry-After: 2\r\n", "unavailable",
		    "The label could not be deleted; try again.");
	else if (rc == 0)
		(void)req_error(c->r, 404, NULL, "not_found", "No label has "
		    "that id.");
	else
		api_reply_json(c, 200, json_pack("{s:I, s:b}", "id",
		    (json_int_t)c->id, "deleted", 1));
}

/* 1 when the call may see conversation c->id, else 0 with the 404 sent. */
static int
conv_seen(struct call *c)
{
	int rc = db_inbox_conv_seen(c->db, c->numbers, c->id);

	if (rc == -1)
		api_db_trouble(c, "The database could not answer; try again.");
	else if (rc == 0)
		(void)req_error(c->r, 404, NULL, "not_found", "No conversation "
		    "has that id.");
	return rc == 1;
}

/* GET /conversations/{id}/notes: oldest first (the newest 500).  200, 404. */
static void
notes_list(struct call *c)
{
	json_t *rows;

	if (!conv_seen(c))
		return;
	if ((rows = json_array()) == NULL) {
		oom(c);
		return;
	}
	reply_list(c, db_inbox_notes(c->db, c->id, NOTES_MAX, api_on_row, rows),
	    rows);
}

/*
 * POST /conversations/{id}/notes {"text"}: 201 with the note (author:
 * the person's name, "api" for a key), a "note" activity row with it.
 * 404, 422, 503.
 */
static void
note_add(struct call *c)
{
	struct db_actor	 who;
	json_t		*o, *rows;
	int64_t		 id = 0;
	int		 rc;

	if ((o = api_body_params(c, 16384, "A note takes text alone.")) ==
	    NULL)
		return;
	if (!c->b.note.text.set) {
		api_fail_field(c, 422, "required", "text", "text is required: 1 "
		    "to 4000 bytes.");
		goto done;
	}
	actor(c, &who);
	if ((rc = db_inbox_note_add(c->db, c->numbers, c->id, &who,
	    c->b.note.text.s, clock_now_ms(), &id)) == -1) {
		(void)req_error(c->r, 503, "Retry-After: 2\r\n", "unavailable",
		    "The note could not be saved; try again.");
		goto done;
	}
	if (rc == 0) {
		(void)req_error(c->r, 404, NULL, "not_found", "No conversation "
		    "has that id.");
		goto done;
	}
	if ((rows = json_array()) == NULL ||
	    db_inbox_note(c->db, c->numbers, id, api_on_row, rows) != 1) {
		json_decref(rows);
		api_reply_json(c, 201, json_pack("{s:I}", "id", (json_int_t)id));
		goto done;
	}
	(void)json_object_del(json_array_get(rows, 0), "phone_number_id");
	json_incref(json_array_get(rows, 0));
	api_reply_json(c, 201, json_array_get(rows, 0));
	json_decref(rows);
done:
	json_decref(o);
}

/*
 * DELETE /notes/{id}: its author or an admin (an API key is one).  200
 * {"id", "deleted": true}; 403 not_author; 404; 503.
 */
static void
note_delete(struct call *c)
{
	struct db_actor	 who;
	int		 rc;

	actor(c, &who);
	rc = db_inbox_note_delete(c->db, c->numbers, c->id, &who,
	    c->role >= API_ADMIN);
	if (rc == -1)
		(void)req_error(c->r, 503, "Retry-After: 2\r\n", "unavailable",
		    "The note could not be deleted; try again.");
	else if (rc == 0)
		(void)req_error(c->r, 404, NULL, "not_found", "No note has that "
		    "id.");
	else if (rc == 2)
		(void)req_error(c->r, 403, NULL, "not_author", "Only the note's "
		    "author or an admin may delete it.");
	else
		api_reply_json(c, 200, json_pack("{s:I, s:b}", "id",
		    (json_int_t)c->id, "deleted", 1));
}

/*
 * GET /conversations/{id}/activity: what staff did, newest last (the
 * newest 500), detail as JSON {"from", "to"}.  200, 404, 503.
 */
static void
activity_list(struct call *c)
{
	json_t	*rows, *row, *d;
	size_t	 i;
	int	 n;

	if (!conv_seen(c))
		return;
	if ((rows = json_array()) == NULL) {
		oom(c);
		return;
	}
	n = db_inbox_activity(c->db, c->id, ACTIVITY_MAX, api_on_row, rows);
	json_array_foreach(rows, i, row) {
		d = json_object_get(row, "detail");
		if (json_is_string(d))
			(void)json_object_set_new(row, "detail", json_loads(
			    json_string_value(d), 0, NULL));
	}
	reply_list(c, n, rows);
}

/* Rows of a context part: NULL on failure. */
static json_t *
rows_of(int (*fn)(struct db *, const char *, const char *, int, db_row_cb,
    void *), struct call *c, const char *pnid, const char *wa_id)
{
	json_t *rows = json_array();

	if (rows != NULL && fn(c->db, pnid, wa_id, CONTEXT_ROWS, api_on_row,
	    rows) == -1) {
		json_decref(rows);
		return NULL;
	}
	return rows;
}

/*
 * GET /conversations/{id} (api.c's conversation_get and the PATCH
 * answer): the row gains "contact" {wa_id, user_id, username,
 * profile_name, saved_name, opted_out, opted_out_at, customer_email},
 * "notes_count", and the customer's newest 10 "orders" and "tickets"
 * from the bot's tables (by wa_id; none for a contact known only by
 * user id).  0, or -1 with the answer sent.
 */
int
api_inbox_context(struct call *c, json_t *row)
{
	json_t		*rows, *ct, *orders = NULL, *tickets = NULL;
	const char	*pnid, *wa;
	int64_t		 id = json_integer_value(json_object_get(row, "id"));
	int		 n;

	if ((rows = json_array()) == NULL) {
		oom(c);
		return -1;
	}
	if ((n = db_inbox_contact(c->db, c->numbers, id, api_on_row,
	    rows)) != 1 || (ct = json_array_get(rows, 0)) == NULL)
		goto fail;
	pnid = json_string_value(json_object_get(ct, "phone_number_id"));
	wa = json_string_value(json_object_get(ct, "wa_id"));
	if ((orders = rows_of(db_inbox_orders, c, pnid, wa)) == NULL ||
	    (tickets = rows_of(db_inbox_tickets, c, pnid, wa)) == NULL)
		goto fail;
	if (json_object_set(row, "notes_count", json_object_get(ct,
	    "notes_count")) == -1)
		goto fail;
	(void)json_object_del(ct, "notes_count");
	(void)json_object_del(ct, "phone_number_id");
	(void)json_object_set_new(ct, "opted_out", json_boolean(
	    json_integer_value(json_object_get(ct, "opted_out"))));
	/* json_object_set_new() takes the reference even when it fails. */
	n = json_object_set_new(row, "orders", orders);
	orders = NULL;
	if (n == -1)
		goto fail;
	n = json_object_set_new(row, "tickets", tickets);
	tickets = NULL;
	if (n == -1)
		goto fail;
	if (json_object_set(row, "contact", ct) == -1)
		goto fail;
	json_decref(rows);
	return 0;
fail:
	json_decref(orders);
	json_decref(tickets);
	json_decref(rows);
	api_db_trouble(c, "The conversation could not be read; try again.");
	return -1;
}
