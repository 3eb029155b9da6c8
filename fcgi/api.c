/*
 * api.c: the management API (/api/whatsapp/...) for shell scripts and the
 * web inbox, served by the responders.  Every route but signing in needs
 * an API key (Authorization: Bearer KEY; only its SHA-256 is stored;
 * read-only keys may only GET) or a person's session cookie (api_session.c;
 * each route names the least role it takes).  Every parameter is checked before any query and an
 * unknown one is refused, so a typo never silently widens a filter.
 * Lists are newest first, at most 200 rows, with an opaque cursor that
 * pages stably while rows are added.  One error shape everywhere:
 * {"error": {"code": "...", "message": "..."}}.
 */
#include <ctype.h>
#include <stddef.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <bsd/string.h>
#include <jansson.h>

#include "api.h"
#include "api_int.h"
#include "buf.h"
#include "clock.h"
#include "cfg.h"
#include "counters.h"
#include "db.h"
#include "log.h"
#include "notify.h"
#include "outbox.h"
#include "param.h"
#include "req.h"
#include "sig.h"

#define SEND_MAX	(64 * 1024)
#define STATS_SPAN_MAX	(366 * 86400)	/* /stats: one request, at most */


/*
 * Every endpoint's parameters, declared once (param.h): the query
 * parameters each route takes, and the members of the JSON bodies that
 * are flat name/value objects.  api_handle() parses them before the
 * handler runs, which reads only checked, typed values (c->q.messages
 * .phone); `wa-fcgi -P` prints them for docs/openapi.yaml's test.
 */

static const char *const dirs[] = { "in", "out", NULL };
static const char *const statuses[] = { "accepted", "sent", "delivered",
	"read", "played", "failed", NULL };
static const char *const outbox_states[] = { "queued", "sending",
	"accepted", "failed", "cancelled", NULL };
static const char *const event_states[] = { "pending", "applied",
	"partial", "duplicate", "failed", NULL };


/* GET /messages, GET /conversations/{id}/messages */

static const struct param messages_p[] = {
	API_NUMBER(struct messages_f),
	{ .name = "phone", .type = PARAM_PHONE,
	  .field = offsetof(struct messages_f, phone) },
	{ .name = "conversation_id", .type = PARAM_INT, .min = 1,
	  .max = INT64_MAX, .field = offsetof(struct messages_f,
	  conversation_id) },
	{ .name = "type", .type = PARAM_TEXT, .min = 1, .max = 32,
	  .field = offsetof(struct messages_f, type) },
	{ .name = "direction", .type = PARAM_ENUM, .words = dirs,
	  .field = offsetof(struct messages_f, direction) },
	{ .name = "status", .type = PARAM_ENUM, .words = statuses,
	  .field = offsetof(struct messages_f, status) },
	{ .name = "since", .type = PARAM_TIME,
	  .field = offsetof(struct messages_f, since) },
	{ .name = "until", .type = PARAM_TIME,
	  .field = offsetof(struct messages_f, until) },
	API_LIMIT(struct messages_f),
	API_CURSOR(struct messages_f),
	{ .name = "q", .type = PARAM_TEXT, .min = 1, .max = 200,
	  .field = offsetof(struct messages_f, q) },
	{ .name = NULL }
};

/* GET /conversations */

static const struct param conversations_p[] = {
	API_NUMBER(struct conversations_f),
	{ .name = "unread", .type = PARAM_BOOL,
	  .field = offsetof(struct conversations_f, unread) },
	{ .name = "assignee", .type = PARAM_TEXT, .min = 1, .max = 600,
	  .field = offsetof(struct conversations_f, assignee) },
	{ .name = "q", .type = PARAM_TEXT, .min = 1, .max = 100,
	  .field = offsetof(struct conversations_f, q) },
	{ .name = "messages", .type = PARAM_INT, .min = 0, .max = 20,
	  .field = offsetof(struct conversations_f, messages) },
	API_LIMIT(struct conversations_f),
	API_CURSOR(struct conversations_f),
	{ .name = NULL }
};

/* GET /contacts */

static const struct param contacts_p[] = {
	API_NUMBER(struct contacts_f),
	{ .name = "q", .type = PARAM_TEXT, .min = 1, .max = 100,
	  .field = offsetof(struct contacts_f, q) },
	{ .name = "opted_out", .type = PARAM_BOOL,
	  .field = offsetof(struct contacts_f, opted_out) },
	API_LIMIT(struct contacts_f),
	API_CURSOR(struct contacts_f),
	{ .name = NULL }
};

/* GET /outbox, GET /webhook-events: one word filter, limit, cursor. */

static const struct param outbox_p[] = {
	API_NUMBER(struct words_f),
	{ .name = "state", .type = PARAM_ENUM, .words = outbox_states,
	  .field = offsetof(struct words_f, word) },
	API_LIMIT(struct words_f),
	API_CURSOR(struct words_f),
	{ .name = NULL }
};

static const struct param events_p[] = {
	{ .name = "result", .type = PARAM_ENUM, .words = event_states,
	  .field = offsetof(struct words_f, word) },
	API_LIMIT(struct words_f),
	API_CURSOR(struct words_f),
	{ .name = NULL }
};

/* GET /stats, and GET /stats/daily (api_media.c) */

const struct param api_stats_p[] = {
	API_NUMBER(struct stats_f),
	{ .name = "since", .type = PARAM_TIME,
	  .field = offsetof(struct stats_f, since) },
	{ .name = "until", .type = PARAM_TIME,
	  .field = offsetof(struct stats_f, until) },
	{ .name = NULL }
};

/* Routes that take no query parameter. */
static const struct param none_p[] = { { .name = NULL } };

/* GET /metrics, a contact's routes: number= alone. */
static const struct param number_p[] = {
	API_NUMBER(struct number_f),
	{ .name = NULL }
};

/*
 * PATCH /conversations/{id}: labels is a list, checked by the handler
 * (PARAM_JSON); null clears a member.
 */

static const struct param patch_p[] = {
	{ .name = "notes", .type = PARAM_TEXT, .max = 8000, .nullable = 1,
	  .field = offsetof(struct patch_f, notes) },
	{ .name = "customer_email", .type = PARAM_TEXT, .max = 254,
	  .nullable = 1, .field = offsetof(struct patch_f, customer_email) },
	{ .name = "assignee", .type = PARAM_TEXT, .max = 512, .nullable = 1,
	  .field = offsetof(struct patch_f, assignee) },
	{ .name = "labels", .type = PARAM_JSON, .nullable = 1,
	  .field = offsetof(struct patch_f, labels) },
	{ .name = NULL }
};

/*
 * POST /send-template: the members are handed on to Meta's own send
 * body, which msg.c checks (with Meta's field names): declared here so
 * that an unknown one is refused, checked by the handler.
 */

static const struct param template_p[] = {
	{ .name = "to", .type = PARAM_JSON,
	  .field = offsetof(struct template_f, to) },
	{ .name = "name", .type = PARAM_JSON,
	  .field = offsetof(struct template_f, name) },
	{ .name = "language", .type = PARAM_JSON,
	  .field = offsetof(struct template_f, language) },
	{ .name = "body_parameters", .type = PARAM_JSON,
	  .field = offsetof(struct template_f, body_parameters) },
	{ .name = "components", .type = PARAM_JSON,
	  .field = offsetof(struct template_f, components) },
	{ .name = "from", .type = PARAM_TEXT, .min = 1, .max = 64,
	  .field = offsetof(struct template_f, from) },
	{ .name = NULL }
};



static void	messages_list(struct call *);
static void	conversations_list(struct call *);
static void	conversation_get(struct call *);
static void	conversation_messages(struct call *);
static void	conversation_patch(struct call *);
static void	mark_read(struct call *);
static void	outbox_list(struct call *);
static void	outbox_get(struct call *);
static void	outbox_retry(struct call *);
static void	outbox_cancel(struct call *);
static void	events_list(struct call *);
static void	event_get(struct call *);
static void	event_replay(struct call *);
static void	status_get(struct call *);
static void	stats_get(struct call *);
static void	metrics_get(struct call *);
static void	contacts_list(struct call *);
static void	contact_get(struct call *);
static void	contact_export(struct call *);
static void	contact_erase(struct call *);
static void	send_post(struct call *);
static void	send_template(struct call *);
static void	queue_send(struct call *, const char *, size_t,
		    const char *, unsigned);

/* The core routes (struct api_route in api_int.h). */
static const struct api_route routes[] = {
	{ "/messages", "GET", messages_list, API_VIEWER, messages_p, NULL },
	{ "/conversations", "GET", conversations_list, API_VIEWER,
	  conversations_p, NULL },
	{ "/conversations/{id}", "GET", conversation_get, API_VIEWER, none_p,
	  NULL },
	{ "/conversations/{id}", "PATCH", conversation_patch, API_AGENT,
	  none_p, patch_p },
	{ "/conversations/{id}/messages", "GET", conversation_messages,
	  API_VIEWER, messages_p, NULL },
	{ "/mark-read", "POST", mark_read, API_AGENT, none_p, NULL },
	{ "/outbox", "GET", outbox_list, API_VIEWER, outbox_p, NULL },
	{ "/outbox/{id}", "GET", outbox_get, API_VIEWER, none_p, NULL },
	{ "/outbox/{id}", "DELETE", outbox_cancel, API_ADMIN, none_p, NULL },
	{ "/outbox/{id}/retry", "POST", outbox_retry, API_ADMIN, none_p,
	  NULL },
	{ "/webhook-events", "GET", events_list, API_ADMIN, events_p, NULL },
	{ "/webhook-events/{id}", "GET", event_get, API_ADMIN, none_p, NULL },
	{ "/webhook-events/{id}/replay", "POST", event_replay, API_ADMIN,
	  none_p, NULL },
	{ "/status", "GET", status_get, API_VIEWER, none_p, NULL },
	{ "/stats", "GET", stats_get, API_VIEWER, api_stats_p, NULL },
	{ "/metrics", "GET", metrics_get, API_VIEWER, number_p, NULL },
	{ "/contacts", "GET", contacts_list, API_VIEWER, contacts_p, NULL },
	{ "/contacts/{wa_id}", "GET", contact_get, API_VIEWER, number_p,
	  NULL },
	{ "/contacts/{wa_id}", "DELETE", contact_erase, API_ADMIN, number_p,
	  NULL },
	{ "/contacts/{wa_id}/export", "GET", contact_export, API_ADMIN,
	  number_p, NULL },
	{ "/send", "POST", send_post, API_AGENT, none_p, NULL },
	{ "/send-template", "POST", send_template, API_AGENT, none_p,
	  template_p },
	{ NULL, NULL, NULL, API_VIEWER, NULL, NULL }
};

/* Every route table, core first; each ends with a NULL path. */
static const struct api_route *const tables[] = {
	routes,
	api_jobs_routes,
	api_templates_routes,
	api_numbers_routes,
	api_session_routes,
	api_inbox_routes,
	api_media_routes,
	api_hooks_routes,
	api_alerts_routes,
	api_campaigns_routes,
};

#define NTABLES	(sizeof(tables) / sizeof(tables[0]))

/*
 * The words a path may carry besides {id} (a positive number): which
 * bytes, and how many.  A match copies the word into the call's seg.
 */
static const struct slot {
	const char	*name;
	const char	*bytes;
	size_t		 min, max;
} slots[] = {
	{ "{wa_id}", "0123456789", 6, 20 },
	{ "{pnid}", "0123456789", 1, 20 },
	{ "{name}", "abcdefghijklmnopqrstuvwxyz0123456789_", 1, 512 },
};

/*
 * 1 when path matches pattern, with {id} parsed into *id, or a word of
 * slots[] copied into seg (API_SEG_MAX bytes).  One placeholder at most.
 */
static int
match(const char *pattern, const char *path, int64_t *id, char *seg)
{
	const char	*brace = strchr(pattern, '{');
	size_t		 n, len, k, w;
	char		*end;
	long long	 v;

	*id = 0;
	seg[0] = '\0';
	if (brace == NULL)
		return strcmp(pattern, path) == 0;
	n = (size_t)(brace - pattern);
	if (strncmp(pattern, path, n) != 0)
		return 0;
	for (k = 0; k < sizeof(slots) / sizeof(slots[0]); k++) {
		w = strlen(slots[k].name);
		if (strncmp(brace, slots[k].name, w) != 0)
			continue;
		len = strspn(path + n, slots[k].bytes);
		if (len < slots[k].min || len > slots[k].max ||
		    strcmp(path + n + len, brace + w) != 0)
			return 0;
		memcpy(seg, path + n, len);
		seg[len] = '\0';
		return 1;
	}
	if (!isdigit((unsigned char)path[n]))
		return 0;
	errno = 0;
	v = strtoll(path + n, &end, 10);
	if (errno != 0 || v <= 0 || strcmp(end, brace + 4) != 0)
		return 0;
	*id = v;
	return 1;
}

void
api_reply_json(struct call *c, int status, json_t *o)
{
	char *s;

	if (o == NULL || (s = json_dumps(o, JSON_COMPACT)) == NULL) {
		json_decref(o);
		(void)req_error(c->r, 503, NULL, "unavailable", "Out of memory.");
		return;
	}
	(void)req_reply(c->r, status, "application/json", NULL, s, strlen(s));
	free(s);
	json_decref(o);
}

/* An error with the field it is about (validation). */
/*
 * 503 for a query that failed: query_too_slow when WA_API_QUERY_MS ran
 * out (db_budget_begin() in api_handle()), else unavailable with what.
 */
void
api_db_trouble(struct call *c, const char *what)
{
	if (db_budget_spent(c->db))
		(void)req_error(c->r, 503, "Retry-After: 5\r\n",
		    "query_too_slow", "The query took longer than "
		    "WA_API_QUERY_MS allows; narrow it (a shorter period, a "
		    "filter) or raise the setting.");
	else
		(void)req_error(c->r, 503, "Retry-After: 2\r\n",
		    "unavailable", what);
}

void
api_fail_field(struct call *c, int status, const char *code, const char *field,
    const char *message)
{
	api_reply_json(c, status, json_pack("{s:{s:s, s:s, s:s}}", "error", "code",
	    code, "message", message, "field", field));
}

const char *
api_actor(const struct call *c)
{
	if (c->user[0] != '\0')
		return c->user;
	return c->actor[0] != '\0' ? c->actor : "api";
}

/* Collects rows as JSON objects into an array (arg). */
void
api_on_row(void *arg, int nc, const char *const *names, const struct db_val *v)
{
	/* Stored JSON (labels, sent_by) goes out as JSON. */
	static const char *const json_cols[] = { "labels", "sent_by", NULL };
	json_t	*o;

	if ((o = db_row_json(nc, names, v, json_cols)) != NULL)
		(void)json_array_append_new(arg, o);
}

/* {"data": rows, "next_cursor": ...}: a cursor when the page was full. */
void
api_page(struct call *c, json_t *rows, int n, int limit)
{
	json_t	*last = json_array_get(rows, json_array_size(rows) - 1), *row;
	char	 cur[32];
	size_t	 i;

	if (n < 0) {
		json_decref(rows);
		api_db_trouble(c, "The database could not answer; try again.");
		return;
	}
	json_array_foreach(rows, i, row)
		api_label(c, row);
	if (n == limit && last != NULL) {
		(void)snprintf(cur, sizeof(cur), "%lld", (long long)
		    json_integer_value(json_object_get(last, "id")));
		api_reply_json(c, 200, json_pack("{s:o, s:s}", "data", rows,
		    "next_cursor", cur));
	} else
		api_reply_json(c, 200, json_pack("{s:o, s:n}", "data", rows,
		    "next_cursor"));
}

/*
 * Turns what a person typed into an FTS5 query that cannot be a syntax
 * error or an operator: every word (letters and digits, any script)
 * becomes a quoted term, and all must match.  0, or -1 when no word.
 */
static int
fts_query(const char *q, struct buf *out)
{
	const unsigned char	*p = (const unsigned char *)q, *w;
	int			 n = 0;

	while (*p != '\0') {
		while (*p != '\0' && *p < 0x80 && !isalnum(*p))
			p++;
		for (w = p; *p >= 0x80 || isalnum(*p); p++)
			continue;
		if (p == w)
			continue;
		if (buf_printf(out, "%s\"%.*s\"", n++ ? " " : "", (int)(p - w),
		    (const char *)w) == -1)
			return -1;
	}
	return n > 0 ? 0 : -1;
}


/* GET /messages */
static void
messages_list(struct call *c)
{
	const struct messages_f	*q = &c->q.messages;
	struct db_msg_filter	 f;
	struct buf		 fts;
	int64_t			 conv = q->conversation_id.i;
	int			 has_conv = q->conversation_id.set, n;
	json_t			*rows;

	buf_init(&fts);
	memset(&f, 0, sizeof(f));
	f.numbers = c->numbers;
	if (c->id > 0) {	/* /conversations/{id}/messages */
		conv = c->id;
		has_conv = 1;
	}
	if (q->q.set && fts_query(q->q.s, &fts) == -1) {
		api_fail_field(c, 400, "bad_parameter", "q", "q must hold at least "
		    "one word to search for.");
		goto done;
	}
	/*
	 * A customer's messages (phone=) are their conversations' (one per
	 * number and contact): storage lets those drive the query.
	 */
	f.q = q->q.set ? fts.p : NULL;
	f.phone = q->phone.set ? q->phone.s : NULL;
	f.conversation = has_conv ? &conv : NULL;
	f.type = q->type.set ? q->type.s : NULL;
	f.direction = q->direction.set ? q->direction.s : NULL;
	f.status = q->status.set ? q->status.s : NULL;
	f.since = q->since.set ? &q->since.i : NULL;
	f.until = q->until.set ? &q->until.i : NULL;
	f.before = q->cursor.set ? &q->cursor.i : NULL;
	f.limit = (int)q->limit.i;
	if ((rows = json_array()) == NULL) {
		(void)req_error(c->r, 503, NULL, "unavailable", "Out of memory.");
		goto done;
	}
	n = db_api_messages(c->db, &f, api_on_row, rows);
	api_show_replies(c, rows);
	api_page(c, rows, n, f.limit);
done:
	buf_clear(&fts);
}

/* A substring pattern for LIKE ... ESCAPE '\\': its own %, _ and \\ escaped. */
int
api_like_pattern(const struct param_val *q, struct buf *like)
{
	size_t i;

	if (buf_append(like, "%", 1) == -1)
		return -1;
	for (i = 0; i < q->len; i++)
		if ((strchr("%_\\", q->s[i]) != NULL &&
		    buf_append(like, "\\", 1) == -1) ||
		    buf_append(like, q->s + i, 1) == -1)
			return -1;
	return buf_append(like, "%", 1);
}

/* GET /conversations: filters unread, assignee, q; messages=N embeds
 * each conversation's last N messages. */
static void
conversations_list(struct call *c)
{
	const struct conversations_f *q = &c->q.conversations;
	struct db_msg_filter	 f;
	struct buf		 like;
	int64_t			 cid;
	int			 n;
	size_t			 i, k;
	json_t			*rows, *conv, *msgs, *m;

	buf_init(&like);
	if (q->q.set && api_like_pattern(&q->q, &like) == -1)
		goto done;
	if ((rows = json_array()) == NULL)
		goto done;
	n = db_api_conversations(c->db, c->numbers, 0,
	    q->cursor.set ? &q->cursor.i : NULL, q->unread.set ?
	    &q->unread.i : NULL, q->assignee.set ? q->assignee.s : NULL,
	    q->q.set ? like.p : NULL, (int)q->limit.i, api_on_row, rows);
	json_array_foreach(rows, i, conv) {
		if (n < 0 || q->messages.i == 0)
			break;
		cid = json_integer_value(json_object_get(conv, "id"));
		memset(&f, 0, sizeof(f));
		f.numbers = c->numbers;
		f.conversation = &cid;
		f.limit = (int)q->messages.i;
		if ((msgs = json_array()) == NULL ||
		    db_api_messages(c->db, &f, api_on_row, msgs) == -1) {
			json_decref(msgs);
			n = -1;
			break;
		}
		json_array_foreach(msgs, k, m)
			api_label(c, m);
		(void)json_object_set_new(conv, "messages", msgs);
	}
	api_page(c, rows, n, (int)q->limit.i);
done:
	buf_clear(&like);
}

/* One row by id through fn, or 404. */
void
api_one(struct call *c, int n, json_t *rows, const char *what)
{
	char msg[100];

	if (n < 0) {
		json_decref(rows);
		api_db_trouble(c, "The database could not answer; try again.");
	} else if (n == 0) {
		json_decref(rows);
		(void)snprintf(msg, sizeof(msg), "No %s has id %lld.", what,
		    (long long)c->id);
		(void)req_error(c->r, 404, NULL, "not_found", msg);
	} else {
		api_label(c, json_array_get(rows, 0));
		json_incref(json_array_get(rows, 0));
		api_reply_json(c, 200, json_array_get(rows, 0));
		json_decref(rows);
	}
}

/*
 * Answers conversation c->id (status 200) with the inbox's context:
 * contact, orders, tickets, notes_count (api_inbox_context()), or 404.
 */
static void
conversation_reply(struct call *c)
{
	json_t	*rows;
	int	 n;

	if ((rows = json_array()) == NULL) {
		(void)req_error(c->r, 503, NULL, "unavailable", "Out of memory.");
		return;
	}
	n = db_api_conversations(c->db, c->numbers, c->id, NULL, NULL, NULL,
	    NULL, 1, api_on_row, rows);
	if (n == 1 && api_inbox_context(c, json_array_get(rows, 0)) == -1) {
		json_decref(rows);
		return;
	}
	api_one(c, n, rows, "conversation");
}

/* GET /conversations/{id} */
static void
conversation_get(struct call *c)
{
	conversation_reply(c);
}

/* GET /conversations/{id}/messages: /messages for one conversation. */
static void
conversation_messages(struct call *c)
{
	messages_list(c);
}

/* Reads a JSON object body of at most max bytes.  NULL with the error sent. */
json_t *
api_json_body(struct call *c, size_t max)
{
	const char	*ct = req_param(c->r, "CONTENT_TYPE");
	json_t		*o;
	json_error_t	 je;
	char		 msg[200];

	if (ct == NULL || strncasecmp(ct, "application/json", 16) != 0) {
		(void)req_error(c->r, 415, NULL, "unsupported_media_type",
		    "Send the request as application/json.");
		return NULL;
	}
	switch (req_body(c->r, max)) {
	case REQ_BODY_OK:
		break;
	case REQ_BODY_TOO_LARGE:
		(void)req_error(c->r, 413, NULL, "payload_too_large",
		    "The request body is too large.");
		return NULL;
	default:
		(void)req_error(c->r, 400, NULL, "bad_body",
		    "The body is missing or shorter than its Content-Length.");
		return NULL;
	}
	o = json_loadb(c->r->body.p != NULL ? c->r->body.p : "", c->r->body.len,
	    JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(o)) {
		(void)snprintf(msg, sizeof(msg), "The body must be a JSON "
		    "object: %s.", o == NULL ? je.text : "it is not an object");
		api_fail_field(c, 422, "bad_json", "", msg);
		json_decref(o);
		return NULL;
	}
	return o;
}

/*
 * Reads the JSON object body (at most max bytes) and parses it against
 * the route's body table into c->b.  unknown is the sentence for a
 * member the table does not declare.  Returns the object, which the
 * caller releases (c->b borrows from it), or NULL with the error sent.
 */
json_t *
api_body_params(struct call *c, size_t max, const char *unknown)
{
	struct param_err	 err;
	json_t			*o;

	if ((o = api_json_body(c, max)) == NULL)
		return NULL;
	switch (param_json(c->route->body, o, &c->b, &err)) {
	case PARAM_OK:
		return o;
	case PARAM_UNKNOWN:
		api_fail_field(c, 422, "unknown_field", err.name, unknown);
		break;
	case PARAM_NOMEM:
		(void)req_error(c->r, 503, NULL, "unavailable", "Out of memory.");
		break;
	default:
		api_fail_field(c, 422, "invalid", err.name, err.message);
		break;
	}
	json_decref(o);
	return NULL;
}

/*
 * PATCH /conversations/{id}: notes, customer_email, labels (up to 20
 * strings of 1-40 bytes) and assignee ("bot", "person", "person:NAME" or
 * "agent:NAME" of a configured agent, 422 unknown_agent otherwise);
 * fields left out stay.  200 with the row.
 */
static void
conversation_patch(struct call *c)
{
	const struct patch_f	*f = &c->b.patch;
	struct db_conv_patch	 p;
	struct db_actor		 by;
	json_t			*o, *l, *x;
	const char		*who;
	char			*labels = NULL, url[600];
	size_t			 i;
	int			 rc;

	if ((o = api_body_params(c, 16384, "Only notes, customer_email, labels "
	    "and assignee can be changed.")) == NULL)
		return;
	memset(&p, 0, sizeof(p));
	p.set_notes = f->notes.set;
	p.notes = f->notes.s;
	p.set_email = f->customer_email.set;
	p.email = f->customer_email.s;
	p.set_assignee = f->assignee.set;
	who = f->assignee.s;
	if (p.set_email && p.email != NULL && (strchr(p.email, '@') == NULL ||
	    strpbrk(p.email, " \t\r\n<>") != NULL)) {
		api_fail_field(c, 422, "invalid", "customer_email", "customer_email "
		    "must look like name@example.com.");
		goto done;
	}
	if (p.set_assignee) {
		if (who == NULL || !(strcmp(who, "bot") == 0 ||
		    strcmp(who, "person") == 0 || (strncmp(who, "person:", 7) ==
		    0 && who[7] != '\0') || strncmp(who, "agent:", 6) == 0)) {
			api_fail_field(c, 422, "invalid", "assignee", "assignee must "
			    "be bot, person, person:NAME or agent:NAME.");
			goto done;
		}
		/* The worker checks again before each call (sender.c). */
		if (strncmp(who, "agent:", 6) == 0 && !cfg_agent_known(c->cfg,
		    who + 6, url, sizeof(url))) {
			api_fail_field(c, 422, "unknown_agent", "assignee", "assignee "
			    "agent:NAME must name an agent the operator "
			    "configured (WA_AGENTS, or the flow's agent_url).");
			goto done;
		}
		p.assignee = who;
	}
	if ((l = f->labels.j) != NULL) {
		p.set_labels = 1;
		if (!json_is_null(l)) {
			if (!json_is_array(l) || json_array_size(l) > 20)
				goto bad_labels;
			json_array_foreach(l, i, x)
				if (!json_is_string(x) ||
				    json_string_length(x) == 0 ||
				    json_string_length(x) > 40)
					goto bad_labels;
			if ((labels = json_dumps(l, JSON_COMPACT)) == NULL)
				goto bad_labels;
			p.labels = labels;
		}
	}
	/* Unknown labels are made, and each change is an activity row,
	 * in the change's transaction (db_inbox.c). */
	by.user_id = c->user_id;
	by.name = api_actor(c);
	if ((rc = db_inbox_conv_patch(c->db, c->numbers, c->id, &p, &by,
	    clock_now_ms())) == -1) {
		(void)req_error(c->r, 503, "Retry-After: 2\r\n", "unavailable",
		    "The change could not be saved; try again.");
		goto done;
	}
	if (db_event_take() > 0)	/* issue 16: the worker delivers */
		notify_send(c->wake, c->cfg->wake_path);
	if (rc == 0)
		(void)req_error(c->r, 404, NULL, "not_found", "No such "
		    "conversation.");
	else
		conversation_reply(c);
	goto done;
bad_labels:
	api_fail_field(c, 422, "invalid", "labels", "labels must be null or an "
	    "array of at most 20 strings of 1 to 40 bytes.");
done:
	free(labels);
	json_decref(o);
}

/* 1 when s is a customer's number: "+" allowed first, then 6-20 digits. */
static int
phone_ok(const char *s)
{
	size_t n;

	if (*s == '+')
		s++;
	n = strlen(s);
	return n >= 6 && n <= 20 && strspn(s, "0123456789") == n;
}

/*
 * POST /mark-read {"conversation_id": N} or {"phone": "..."}, optional
 * "typing": true: unread to zero and a read receipt queued for the newest
 * inbound message, with the typing indicator when asked (reference 7.4:
 * shown until the reply or 25 s).  200, 404, 422, 503.
 */
static void
mark_read(struct call *c)
{
	struct outbox_req	 o;
	struct msg_err		 err;
	struct db_actor		 who;
	json_t			*b, *x, *rb = NULL;
	char			 wamid[130], wa[72], pnid[32], *req = NULL;
	int64_t			 id = 0, oid = 0;
	int			 rc, repeated, typing;

	if ((b = api_json_body(c, 4096)) == NULL)
		return;
	x = json_object_get(b, "typing");
	if (x != NULL && !json_is_boolean(x)) {
		api_fail_field(c, 422, "bad_type", "typing", "typing must be "
		    "true or false.");
		json_decref(b);
		return;
	}
	typing = json_is_true(x);
	if (json_is_integer(x = json_object_get(b, "conversation_id")) &&
	    json_integer_value(x) > 0)
		id = json_integer_value(x);
	else if (json_is_string(x = json_object_get(b, "phone")) &&
	    phone_ok(json_string_value(x)))
		id = db_api_conv_by_phone(c->db, c->numbers,
		    json_string_value(x) + (json_string_value(x)[0] == '+'));
	else {
		api_fail_field(c, 422, "required", "conversation_id", "Give "
		    "conversation_id (a number) or phone (6 to 20 digits).");
		json_decref(b);
		return;
	}
	json_decref(b);
	/* The reader goes to activity with the change (db_inbox.c). */
	who.user_id = c->user_id;
	who.name = api_actor(c);
	if (id < 0 || (rc = db_inbox_conv_read(c->db, c->numbers, id, &who,
	    clock_now_ms(), wamid, sizeof(wamid), wa, sizeof(wa), pnid,
	    sizeof(pnid))) == -1) {
		(void)req_error(c->r, 503, "Retry-After: 2\r\n", "unavailable",
		    "The database could not answer; try again.");
		return;
	}
	if (id == 0 || rc == 0) {
		(void)req_error(c->r, 404, NULL, "not_found", "No such "
		    "conversation.");
		return;
	}
	if (wamid[0] != '\0' && (rb = json_pack("{s:s, s:s, s:b}", "type",
	    "read", "message_id", wamid, "typing_indicator", typing)) != NULL &&
	    (req = json_dumps(rb, JSON_COMPACT)) != NULL) {
		memset(&o, 0, sizeof(o));
		o.json = req;
		o.len = strlen(req);
		o.pnid = pnid;	/* the number the customer wrote to */
		o.source = "api";
		if (outbox_queue(c->db, &o, &oid, &repeated, &err) == OUTBOX_OK)
			notify_send(c->wake, c->cfg->wake_path);
		else
			log_warnx("mark-read: read receipt not queued: %s",
			    err.code);
	}
	free(req);
	json_decref(rb);
	api_reply_json(c, 200, json_pack("{s:I, s:i, s:o}", "conversation_id",
	    (json_int_t)id, "unread_count", 0, "read_receipt_outbox_id",
	    oid > 0 ? json_integer((json_int_t)oid) : json_null()));
}

typedef int	(*list_fn)(struct call *, const int64_t *before,
		    const char *word, int limit, json_t *rows);

/*
 * A list with one optional enumerated filter (the word of outbox_p or
 * events_p), limit and cursor; fn reads the page.
 */
static void
list_by_word(struct call *c, list_fn fn)
{
	const struct words_f	*q = &c->q.words;
	json_t			*rows;

	if ((rows = json_array()) != NULL)
		api_page(c, rows, fn(c, q->cursor.set ? &q->cursor.i : NULL,
		    q->word.set ? q->word.s : NULL, (int)q->limit.i, rows),
		    (int)q->limit.i);
}

static int
outbox_page(struct call *c, const int64_t *before, const char *state,
    int limit, json_t *rows)
{
	return db_api_outbox_list(c->db, c->numbers, before,
	    state, limit, api_on_row, rows);
}

/* GET /outbox */
static void
outbox_list(struct call *c)
{
	list_by_word(c, outbox_page);
}

/* POST /outbox/{id}/retry and DELETE /outbox/{id}. */
static void
outbox_change(struct call *c, int retry)
{
	json_t	*rows;
	int	 rc;

	if ((rc = db_api_outbox_change(c->db, c->numbers, c->id,
	    retry, clock_now_ms())) == -1) {
		(void)req_error(c->r, 503, "Retry-After: 2\r\n", "unavailable",
		    "The change could not be saved; try again.");
		return;
	}
	if ((rows = json_array()) == NULL)
		return;
	if (rc == 0 && db_api_outbox(c->db, c->numbers, c->id,
	    api_on_row, rows) == 1) {
		json_decref(rows);
		(void)req_error(c->r, 409, NULL, "wrong_state", retry ?
		    "Only a failed message can be retried." :
		    "Only a queued message can be cancelled.");
		return;
	}
	if (rc == 1 && retry)
		notify_send(c->wake, c->cfg->wake_path);
	api_one(c, rc == 1 ? db_api_outbox(c->db, c->numbers, c->id,
	    api_on_row, rows) : 0, rows, "outbox row");
}

static void
outbox_retry(struct call *c)
{
	outbox_change(c, 1);
}

static void
outbox_cancel(struct call *c)
{
	outbox_change(c, 0);
}

static int
events_page(struct call *c, const int64_t *before, const char *state,
    int limit, json_t *rows)
{
	if (c->keyset != NULL)
		return 0;	/* see events_list() */
	return db_api_events(c->db, 0, before, state, limit, api_on_row, rows);
}

/*
 * GET /webhook-events.  The journal holds Meta's bodies as they came,
 * one body often for several numbers: it belongs to the install, not to
 * a number.  A key limited to numbers sees none of it (an empty list,
 * 404 for an entry), as it sees nothing else of the other numbers.
 */
static void
events_list(struct call *c)
{
	list_by_word(c, events_page);
}

/* GET /webhook-events/{id}: with the raw body as Meta sent it. */
static void
event_get(struct call *c)
{
	json_t *rows;

	if ((rows = json_array()) == NULL)
		return;
	api_one(c, c->keyset != NULL ? 0 : db_api_events(c->db, c->id, NULL,
	    NULL, 1, api_on_row, rows), rows, "journal entry");
}

/* POST /webhook-events/{id}/replay: the worker applies it again. */
static void
event_replay(struct call *c)
{
	json_t	*rows;
	int	 rc;

	if (c->keyset != NULL) {	/* see events_list() */
		(void)req_error(c->r, 404, NULL, "not_found", "No journal entry "
		    "has that id.");
		return;
	}
	if ((rc = db_api_event_replay(c->db, c->id)) == -1) {
		(void)req_error(c->r, 503, "Retry-After: 2\r\n", "unavailable",
		    "The replay could not be saved; try again.");
		return;
	}
	if ((rows = json_array()) == NULL)
		return;
	if (rc == 1)
		notify_send(c->wake, c->cfg->wake_path);
	else if (db_api_events(c->db, c->id, NULL, NULL, 1, api_on_row, rows) ==
	    1) {
		json_decref(rows);
		(void)req_error(c->r, 409, NULL, "cannot_replay", "The entry "
		    "is pending already, or its body was purged.");
		return;
	}
	api_one(c, rc == 1 ? db_api_events(c->db, c->id, NULL, NULL, 1, api_on_row,
	    rows) : 0, rows, "journal entry");
}

/*
 * GET /status: which settings are present (never their values), the
 * queues, the journal, the sender's state, process ids, versions.  The
 * access token is not listed: responders never hold it (the worker does).
 */
static void
status_get(struct call *c)
{
	struct db_health h;
	json_t	*rows, *o;

	if ((rows = json_array()) == NULL)
		return;
	if (db_api_status(c->db, c->numbers, api_on_row, rows) != 1 ||
	    (o = json_array_get(rows, 0)) == NULL ||
	    db_health_get(c->db, &h) == -1) {
		json_decref(rows);
		api_db_trouble(c, "The database could not answer; try again.");
		return;
	}
	json_incref(o);
	json_decref(rows);
	(void)json_object_set_new(o, "settings", json_pack(
	    "{s:b, s:b, s:b, s:b, s:s, s:s, s:b, s:b}",
	    "WHATSAPP_APP_SECRET", c->cfg->app_secret != NULL,
	    "WHATSAPP_VERIFY_TOKEN", c->cfg->verify_token != NULL,
	    "WHATSAPP_PHONE_NUMBER_ID", c->cfg->phone_number_id != NULL,
	    "WA_AGENT_SECRET", c->cfg->agent_secret != NULL &&
	    c->cfg->agent_secret[0] != '\0',
	    "WHATSAPP_API_VERSION", c->cfg->api_version,
	    "WA_SYNCHRONOUS", c->cfg->sync_full ? "FULL" : "NORMAL",
	    "WA_BOT", c->cfg->bot, "custom_graph_url",
	    strcmp(c->cfg->graph_url, "https://graph.facebook.com") != 0));
	/* Process ids stay here, behind a key; /health does not show them. */
	(void)json_object_set_new(o, "responder_pid", json_integer(getpid()));
	(void)json_object_set_new(o, "worker_pid", h.worker_pid > 0 ?
	    json_integer((json_int_t)h.worker_pid) : json_null());
	(void)json_object_set_new(o, "version", json_string(WA_VERSION));
	/* Issue 15: the Graph API is make run's local sandbox. */
	(void)json_object_set_new(o, "sandbox", json_boolean(c->cfg->sandbox));
	(void)json_object_set_new(o, "schema_version",
	    json_integer(db_schema_known()));
	(void)json_object_set_new(o, "sqlite_version",
	    json_string(db_sqlite_version()));
	if (api_numbers_status(c, o) == -1) {
		json_decref(o);
		return;
	}
	api_reply_json(c, 200, o);
}

static int
cmp_int64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

struct delays {
	int64_t	*v;
	size_t	 n, cap;
	size_t	 unanswered;
};

static void
on_delay(void *arg, int nc, const char *const *names, const struct db_val *v)
{
	struct delays	*d = arg;
	int64_t		*p;

	(void)names;
	if (nc < 1 || v[0].type != DB_VAL_INT) {
		d->unanswered++;
		return;
	}
	if (d->n == d->cap) {
		size_t ncap = d->cap ? d->cap * 2 : 256;

		if ((p = reallocarray(d->v, ncap, sizeof(*p))) == NULL)
			return;
		d->v = p;
		d->cap = ncap;
	}
	d->v[d->n++] = v[0].i;
}

/*
 * GET /stats?since=&until= (default: the last 7 days; at most 366 days,
 * since is moved up past that): messages by day, direction, type and status; unique and new contacts; seconds from a
 * customer's message to the next reply (p50, p95); failures by Meta
 * code; the most chosen menu options.
 */
static void
stats_get(struct call *c)
{
	static const char *const parts[] = { "messages", "contacts", NULL,
	    "failures", "menu_options" };
	const struct stats_f *q = &c->q.stats;
	struct delays	 dl;
	int64_t		 since, until;
	int		 capped;
	size_t		 i;
	json_t		*out, *a;

	memset(&dl, 0, sizeof(dl));
	until = q->until.set ? q->until.i : (int64_t)time(NULL) + 1;
	since = q->since.set ? q->since.i : until - 7 * 86400;
	if (since >= until) {
		api_fail_field(c, 400, "bad_parameter", "since", "since must be "
		    "before until.");
		return;
	}
	/*
	 * One request covers at most 366 days, so its cost is bounded; the
	 * answer's since and capped say what was covered.
	 */
	if ((capped = until - since > STATS_SPAN_MAX))
		since = until - STATS_SPAN_MAX;
	if ((out = json_pack("{s:I, s:I, s:b}", "since", (json_int_t)since,
	    "until", (json_int_t)until, "capped", capped)) == NULL)
		goto oom;
	for (i = 0; i < 5; i++) {
		if (i == 2) {
			if (db_api_stats(c->db, c->numbers, since,
			    until, DB_STATS_REPLY, on_delay, &dl) == -1)
				goto fail;
			continue;
		}
		if ((a = json_array()) == NULL)
			goto oom;
		if (db_api_stats(c->db, c->numbers, since, until,
		    (enum db_stats)i, api_on_row, a) == -1) {
			json_decref(a);
			goto fail;
		}
		if (i == 1) {	/* one row: unique_contacts, new_contacts */
			json_object_update(out, json_array_get(a, 0));
			json_decref(a);
		} else
			(void)json_object_set_new(out, parts[i], a);
	}
	if (dl.n > 1)	/* qsort's pointer must not be NULL, even for 0 */
		qsort(dl.v, dl.n, sizeof(*dl.v), cmp_int64);
	(void)json_object_set_new(out, "first_reply_seconds", json_pack(
	    "{s:o, s:o, s:I, s:I}",
	    "p50", dl.n ? json_integer(dl.v[(dl.n - 1) / 2]) : json_null(),
	    "p95", dl.n ? json_integer(dl.v[(dl.n * 95 + 99) / 100 - 1]) :
	    json_null(), "answered", (json_int_t)dl.n, "unanswered",
	    (json_int_t)dl.unanswered));
	free(dl.v);
	api_reply_json(c, 200, out);
	return;
fail:
	free(dl.v);
	json_decref(out);
	api_db_trouble(c, "The statistics could not be read; try again.");
	return;
oom:
	free(dl.v);
	json_decref(out);
	(void)req_error(c->r, 503, NULL, "unavailable", "Out of memory.");
}

struct prom {
	struct buf	*b;
	const char	*metric;
	int		 part;
	int64_t		 now_ms;
	int		 err;
};

/* Label values here are fixed words and numbers: no escaping needed. */
static void
on_metric(void *arg, int nc, const char *const *names, const struct db_val *v)
{
	struct prom *p = arg;

	(void)names;
	if (nc < 2 || v[0].type != DB_VAL_TEXT)
		return;
	switch (p->part) {
	case 0:
		p->err |= buf_printf(p->b, "wa_webhooks{result=\"%s\"} %lld\n",
		    v[0].s, (long long)v[1].i) == -1;
		break;
	case 1:
		p->err |= buf_printf(p->b, "wa_outbox_rows{state=\"%s\"} %lld\n",
		    v[0].s, (long long)v[1].i) == -1;
		if (strcmp(v[0].s, "queued") == 0 && nc > 2 && v[2].i > 0)
			p->err |= buf_printf(p->b, "wa_outbox_oldest_queued_"
			    "age_seconds %.3f\n", (double)(p->now_ms - v[2].i) /
			    1000) == -1;
		break;
	default:
		p->err |= buf_printf(p->b, "wa_sends{result=\"%s\",code=\"%lld\"} "
		    "%lld\n", v[0].s, (long long)v[1].i, (long long)v[2].i) ==
		    -1;
		break;
	}
}

/* GET /metrics: Prometheus text format 0.0.4. */
static void
metrics_get(struct call *c)
{
	static const char *const heads[] = {
	    "# HELP wa_webhooks Journal entries by what became of them.\n"
	    "# TYPE wa_webhooks gauge\n",
	    "# HELP wa_outbox_rows Outbox rows by state.\n"
	    "# TYPE wa_outbox_rows gauge\n",
	    "# HELP wa_sends Sends Meta accepted or that failed, by Meta code.\n"
	    "# TYPE wa_sends gauge\n" };
	uint64_t	 bk[COUNTERS_BUCKETS], val[CNT__MAX], cum = 0;
	struct buf	 b;
	struct prom	 p;
	struct timespec	 ts;
	int		 i;

	buf_init(&b);
	memset(&p, 0, sizeof(p));
	p.b = &b;
	(void)clock_gettime(CLOCK_REALTIME, &ts);
	p.now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	for (i = 0; i < 3; i++) {
		p.part = i;
		p.err |= buf_puts(&b, heads[i]) == -1;
		if (db_api_metrics(c->db, c->numbers,
		    (enum db_metrics)i, on_metric, &p) == -1) {
			buf_clear(&b);
			api_db_trouble(c, "The metrics could not be read.");
			return;
		}
	}
	if (api_numbers_metrics(c, &b) == -1) {
		buf_clear(&b);
		return;
	}
	if (counters_read(bk, val) == 0) {
		p.err |= buf_puts(&b, "# HELP wa_webhook_ack_seconds Time to "
		    "answer a webhook 200, in the responder.\n"
		    "# TYPE wa_webhook_ack_seconds histogram\n") == -1;
		for (i = 0; i < COUNTERS_BUCKETS; i++) {
			cum += bk[i];
			if (i < COUNTERS_BUCKETS - 1)
				p.err |= buf_printf(&b, "wa_webhook_ack_seconds_"
				    "bucket{le=\"%g\"} %llu\n",
				    counters_bounds_ms[i] / 1000,
				    (unsigned long long)cum) == -1;
			else
				p.err |= buf_printf(&b, "wa_webhook_ack_seconds_"
				    "bucket{le=\"+Inf\"} %llu\n",
				    (unsigned long long)cum) == -1;
		}
		p.err |= buf_printf(&b, "wa_webhook_ack_seconds_sum %.6f\n"
		    "wa_webhook_ack_seconds_count %llu\n"
		    "# HELP wa_webhooks_refused_total Webhooks refused for a "
		    "bad or missing signature.\n"
		    "# TYPE wa_webhooks_refused_total counter\n"
		    "wa_webhooks_refused_total %llu\n"
		    "# HELP wa_webhooks_unstored_total Webhooks answered 503.\n"
		    "# TYPE wa_webhooks_unstored_total counter\n"
		    "wa_webhooks_unstored_total %llu\n"
		    "# HELP wa_journal_commits_total Journal transactions "
		    "that stored webhooks (acknowledged / this = group size).\n"
		    "# TYPE wa_journal_commits_total counter\n"
		    "wa_journal_commits_total %llu\n"
		    "# HELP wa_send_refusals_total Sends refused before "
		    "queueing.\n"
		    "# TYPE wa_send_refusals_total counter\n"
		    "wa_send_refusals_total{reason=\"window_closed\"} %llu\n"
		    "wa_send_refusals_total{reason=\"opted_out\"} %llu\n",
		    (double)val[CNT_ACK_SUM_US] / 1e6,
		    (unsigned long long)val[CNT_ACK_COUNT],
		    (unsigned long long)val[CNT_SIG_REFUSED],
		    (unsigned long long)val[CNT_STORE_FAILED],
		    (unsigned long long)val[CNT_JOURNAL_COMMITS],
		    (unsigned long long)val[CNT_WINDOW_REFUSED],
		    (unsigned long long)val[CNT_OPTOUT_REFUSED]) == -1;
	}
	if (p.err)
		(void)req_error(c->r, 503, NULL, "unavailable", "Out of memory.");
	else
		(void)req_reply(c->r, 200, "text/plain; version=0.0.4", NULL,
		    b.p, b.len);
	buf_clear(&b);
}

/* GET /contacts: q matches the number or the profile name. */
static void
contacts_list(struct call *c)
{
	const struct contacts_f	*q = &c->q.contacts;
	struct buf		 like;
	json_t			*rows;

	buf_init(&like);
	if (q->q.set && api_like_pattern(&q->q, &like) == -1)
		goto done;
	if ((rows = json_array()) != NULL)
		api_page(c, rows, db_api_contacts(c->db, c->numbers,
		    NULL, q->cursor.set ? &q->cursor.i : NULL, q->q.set ?
		    like.p : NULL, q->opted_out.set ? &q->opted_out.i : NULL,
		    (int)q->limit.i, api_on_row, rows), (int)q->limit.i);
done:
	buf_clear(&like);
}

/*
 * The contact {wa_id} on the numbers the call covers: its row, with its
 * number into pnid (32 bytes).  A contact is one per number and
 * customer: when the customer wrote to two of the numbers covered, 409
 * number_required names them (give number=).  The row (the caller
 * releases it with json_decref()), or NULL with the answer sent.
 */
static json_t *
contact_find(struct call *c, char *pnid, size_t psz)
{
	json_t		*rows, *row, *ids = NULL;
	const char	*p;
	char		 msg[300], *list = NULL;
	size_t		 i;
	int		 n;

	if ((rows = json_array()) == NULL) {
		(void)req_error(c->r, 503, NULL, "unavailable", "Out of memory.");
		return NULL;
	}
	n = db_api_contacts(c->db, c->numbers, c->seg, NULL, NULL, NULL, 1,
	    api_on_row, rows);
	if (n < 0) {
		json_decref(rows);
		api_db_trouble(c, "The database could not answer; try again.");
		return NULL;
	}
	if (n == 0) {
		json_decref(rows);
		(void)snprintf(msg, sizeof(msg), "No contact %.20s.", c->seg);
		(void)req_error(c->r, 404, NULL, "not_found", msg);
		return NULL;
	}
	if (n > 1) {
		if ((ids = json_array()) != NULL)
			json_array_foreach(rows, i, row)
				(void)json_array_append(ids, json_object_get(
				    row, "phone_number_id"));
		list = ids != NULL ? json_dumps(ids, JSON_COMPACT) : NULL;
		(void)snprintf(msg, sizeof(msg), "Customer %.20s wrote to "
		    "more than one of the numbers: give number= (one of "
		    "%.200s).", c->seg, list != NULL ? list : "them");
		api_fail_field(c, 409, "number_required", "number", msg);
		free(list);
		json_decref(ids);
		json_decref(rows);
		return NULL;
	}
	row = json_array_get(rows, 0);
	json_incref(row);
	json_decref(rows);
	p = json_string_value(json_object_get(row, "phone_number_id"));
	if (p == NULL || strlcpy(pnid, p, psz) >= psz) {
		json_decref(row);
		api_db_trouble(c, "The contact's number could not be read.");
		return NULL;
	}
	return row;
}

/* GET /contacts/{wa_id} */
static void
contact_get(struct call *c)
{
	json_t	*row, *rows;
	char	 pnid[32];

	if ((row = contact_find(c, pnid, sizeof(pnid))) == NULL)
		return;
	if ((rows = json_array()) == NULL ||
	    json_array_append_new(rows, row) == -1) {
		json_decref(rows);
		(void)req_error(c->r, 503, NULL, "unavailable", "Out of memory.");
		return;
	}
	api_one(c, 1, rows, "contact");
}

/*
 * GET /contacts/{wa_id}/export: everything held about the contact, for a
 * privacy request, every column of every row: the contact, conversations,
 * messages, statuses, media rows, tickets, what was queued to them, agent
 * calls, bot state, orders and their lines, and the journal entries,
 * webhook errors and subscription events that name them (db_api_export()
 * parts, in this order).
 */
static void
contact_export(struct call *c)
{
	static const char *const parts[] = { "conversations", "messages",
	    "statuses", "media", "tickets", "outbox", "contacts",
	    "agent_requests", "bot_state", "orders", "order_lines",
	    "webhook_events", "webhook_errors", "subscription_events" };
	json_t	*row, *out, *a;
	size_t	 i;
	int64_t	 contact;
	char	 pnid[32];

	if ((row = contact_find(c, pnid, sizeof(pnid))) == NULL)
		return;
	api_label(c, row);
	contact = json_integer_value(json_object_get(row, "id"));
	out = json_pack("{s:o}", "contact", row);
	for (i = 0; out != NULL && i < sizeof(parts) / sizeof(parts[0]); i++) {
		if ((a = json_array()) == NULL ||
		    db_api_export(c->db, pnid, contact, c->seg,
		    (enum db_export)i, api_on_row, a) == -1) {
			json_decref(a);
			json_decref(out);
			api_db_trouble(c, "The export could not be read.");
			return;
		}
		(void)json_object_set_new(out, parts[i], a);
	}
	api_reply_json(c, 200, out);
}

struct erased {
	const struct cfg	*cfg;
	int			 files, failed;
};

/* Unlinks one media file of an erased contact. */
static void
erase_file(void *arg, const char *rel)
{
	struct erased	*e = arg;
	char		 path[4400];

	if (strstr(rel, "..") != NULL || rel[0] == '/' ||
	    snprintf(path, sizeof(path), "%s/%s", e->cfg->media_dir, rel) >=
	    (int)sizeof(path))
		return;
	if (unlink(path) == 0)
		e->files++;
	else if (errno != ENOENT) {
		log_warn("erase: unlink %s", path);
		e->failed++;
	}
}

/*
 * DELETE /contacts/{wa_id}: erases the contact's messages, statuses,
 * media files, outbox rows, agent calls, tickets, orders, state, every
 * journal body that names them (applied or not) and the raw items of
 * webhook errors and subscription events that do (db_api_erase()).
 */
static void
contact_erase(struct call *c)
{
	struct erased	 e = { c->cfg, 0, 0 };
	json_t		*row;
	char		 pnid[32];
	int		 rc;

	if ((row = contact_find(c, pnid, sizeof(pnid))) == NULL)
		return;
	json_decref(row);
	if ((rc = db_api_erase(c->db, pnid, c->seg,
	    erase_file, &e)) == -1) {
		api_db_trouble(c, "Nothing was erased; try again.");
		return;
	}
	if (rc == 0) {
		(void)req_error(c->r, 404, NULL, "not_found", "No such contact.");
		return;
	}
	log_info("erased contact ****%s on request (%d files)", c->seg +
	    (strlen(c->seg) > 4 ? strlen(c->seg) - 4 : 0), e.files);
	api_reply_json(c, 200, json_pack("{s:s, s:b, s:i, s:i}", "wa_id", c->seg,
	    "erased", 1, "files_deleted", e.files, "files_failed", e.failed));
}

/* GET /outbox/{id} */
static void
outbox_get(struct call *c)
{
	json_t *rows;

	if ((rows = json_array()) == NULL) {
		(void)req_error(c->r, 503, NULL, "unavailable", "Out of memory.");
		return;
	}
	api_one(c, db_api_outbox(c->db, c->numbers, c->id, api_on_row,
	    rows), rows, "outbox row");
}

/*
 * POST /send's body with its "from" member (ours, not Meta's) taken out:
 * the number is chosen (api_send_from()) and the rest queued as Meta's
 * send request.  A body that is not a JSON object goes on as it came,
 * for msg.c to refuse in its words.
 */
static void
send_from_body(struct call *c)
{
	const char	*body = c->r->body.p != NULL ? c->r->body.p : "";
	json_t		*o, *f, *t;
	const char	*from, *want = NULL;
	char		*rest = NULL;
	unsigned	 flags = 0;
	int		 inbox;

	o = json_loadb(body, c->r->body.len, JSON_REJECT_DUPLICATES, NULL);
	if (json_is_object(o) && (f = json_object_get(o, "from")) != NULL) {
		if (!json_is_string(f) || json_string_length(f) == 0 ||
		    json_string_length(f) > 64) {
			api_fail_field(c, 422, "invalid", "from", "from must be "
			    "a phone_number_id, display number or label of one "
			    "of the business numbers (at most 64 bytes).");
			goto done;
		}
		want = json_string_value(f);
	}
	if ((from = api_send_from(c, want)) == NULL)
		goto done;
	/* The inbox's members (reply_to, upload_id: api_media.c). */
	inbox = json_is_object(o) && (json_object_get(o, "reply_to") != NULL ||
	    json_object_get(o, "upload_id") != NULL);
	if (inbox && api_media_send(c, o, from, &flags) == -1)
		goto done;
	/* A template is held to its stored copy, as on /send-template. */
	if (json_is_object(o) && json_is_string(json_object_get(o, "type")) &&
	    strcmp(json_string_value(json_object_get(o, "type")),
	    "template") == 0 && json_is_object(t = json_object_get(o,
	    "template")) && json_is_string(json_object_get(t, "name")) &&
	    json_is_string(json_object_get(json_object_get(t, "language"),
	    "code")) && api_template_check(c, from, json_string_value(
	    json_object_get(t, "name")), json_string_value(json_object_get(
	    json_object_get(t, "language"), "code")), json_object_get(t,
	    "components")) == -1)
		goto done;
	if (want != NULL || inbox) {
		/* want points into o: the number is chosen already. */
		(void)json_object_del(o, "from");
		if ((rest = json_dumps(o, JSON_COMPACT)) == NULL) {
			(void)req_error(c->r, 503, NULL, "unavailable",
			    "Out of memory.");
			goto done;
		}
		queue_send(c, rest, strlen(rest), from, flags);
	} else
		queue_send(c, body, c->r->body.len, from, 0);
done:
	free(rest);
	json_decref(o);
}

/*
 * POST /send: the request as `wactl send` takes it (no local files),
 * plus the inbox's "reply_to" (any send) and "upload_id" with "caption"
 * and "filename" (a file from POST /uploads; api_media_send()).  202 with the outbox id and its state; a repeated Idempotency-Key
 * returns the first row.  Refusals: 422 (Meta's limits, with the field),
 * 409 (window closed, opted out, tier used up), 503 (database busy).
 */
static void
send_post(struct call *c)
{
	const char		*ct;

	ct = req_param(c->r, "CONTENT_TYPE");
	if (ct == NULL || strncasecmp(ct, "application/json", 16) != 0) {
		(void)req_error(c->r, 415, NULL, "unsupported_media_type",
		    "Send the request as application/json.");
		return;
	}
	switch (req_body(c->r, SEND_MAX)) {
	case REQ_BODY_OK:
		break;
	case REQ_BODY_NO_LENGTH:
		(void)req_error(c->r, 411, NULL, "length_required",
		    "A Content-Length header is required.");
		return;
	case REQ_BODY_TOO_LARGE:
		(void)req_error(c->r, 413, NULL, "payload_too_large",
		    "A send request is limited to 64 KiB.");
		return;
	default:
		(void)req_error(c->r, 400, NULL, "short_body",
		    "The body was shorter than its Content-Length.");
		return;
	}
	send_from_body(c);
}

/*
 * Queues a send request from number from (api_send_from()'s) and answers
 * 202 with its row, or the refusal.  flags: MSG_ALLOW_FILE only for a
 * body api_media_send() built around an upload.  A person's sends keep
 * their user id on the row (and on the message the worker writes).
 */
static void
queue_send(struct call *c, const char *json, size_t len, const char *from,
    unsigned flags)
{
	struct outbox_req	 o;
	struct msg_err		 err;
	const char		*key;
	int64_t			 id;
	int			 repeated;
	json_t			*rows;

	key = req_param(c->r, "HTTP_IDEMPOTENCY_KEY");
	if (key != NULL && (key[0] == '\0' || strlen(key) > 128)) {
		api_fail_field(c, 400, "bad_header", "Idempotency-Key", "The "
		    "Idempotency-Key header must be 1 to 128 characters.");
		return;
	}
	memset(&o, 0, sizeof(o));
	o.json = json;
	o.len = len;
	o.flags = flags;
	o.pnid = from;
	o.source = "api";
	o.user_id = c->user_id;
	o.idem_key = key;
	o.tier_limit = c->cfg->tier_limit;
	switch (outbox_queue(c->db, &o, &id, &repeated, &err)) {
	case OUTBOX_OK:
		break;
	case OUTBOX_INVALID:
		api_fail_field(c, 422, err.code, err.field, err.message);
		return;
	case OUTBOX_WINDOW_CLOSED:
	case OUTBOX_OPTED_OUT:
	case OUTBOX_TIER_LIMIT:
		api_fail_field(c, 409, err.code, err.field, err.message);
		return;
	default:
		(void)req_error(c->r, 503, "Retry-After: 2\r\n", "unavailable",
		    err.message[0] ? err.message : "Try again.");
		return;
	}
	if (!repeated)
		notify_send(c->wake, c->cfg->wake_path);
	c->id = id;
	if ((rows = json_array()) == NULL || db_api_outbox(c->db,
	    c->numbers, id, api_on_row, rows) != 1) {
		json_decref(rows);
		api_reply_json(c, 202, json_pack("{s:I, s:s, s:b}", "id",
		    (json_int_t)id, "state", "queued", "repeated", repeated));
		return;
	}
	(void)json_object_set_new(json_array_get(rows, 0), "repeated",
	    json_boolean(repeated));
	api_label(c, json_array_get(rows, 0));
	json_incref(json_array_get(rows, 0));
	api_reply_json(c, 202, json_array_get(rows, 0));
	json_decref(rows);
}

/*
 * POST /send-template {"to", "name", "language", "body_parameters":
 * [strings], "components": [...]}: the common case of POST /send without
 * Meta's nesting.  body_parameters become the body component's text
 * parameters; components (Meta's, reference 11.1) go as they are.
 */
static void
send_template(struct call *c)
{
	const struct template_f	*f = &c->b.tmpl;
	json_t			*b, *x, *req = NULL, *comps = NULL, *params, *p;
	const char		*from;
	char			*s = NULL;
	size_t			 i;

	if ((b = api_body_params(c, SEND_MAX, "send-template takes to, name, "
	    "language, body_parameters, components and from.")) == NULL)
		return;
	if ((from = api_send_from(c, f->from.set ? f->from.s : NULL)) == NULL)
		goto done;
	if (!json_is_string(f->language.j)) {
		api_fail_field(c, 422, "required", "language", "language is "
		    "required: the template's language code, e.g. en_US.");
		goto done;
	}
	comps = f->components.j != NULL ? json_deep_copy(f->components.j) :
	    json_array();
	if ((x = f->body_parameters.j) != NULL) {
		if (!json_is_array(x) || !json_is_array(comps)) {
			api_fail_field(c, 422, "bad_type", "body_parameters",
			    "body_parameters must be an array of strings.");
			goto done;
		}
		if ((params = json_array()) == NULL)
			goto oom;
		json_array_foreach(x, i, p) {
			if (!json_is_string(p)) {
				json_decref(params);
				api_fail_field(c, 422, "bad_type", "body_parameters",
				    "body_parameters must be an array of "
				    "strings.");
				goto done;
			}
			(void)json_array_append_new(params, json_pack(
			    "{s:s, s:O}", "type", "text", "text", p));
		}
		(void)json_array_append_new(comps, json_pack("{s:s, s:o}",
		    "type", "body", "parameters", params));
	}
	req = json_pack("{s:O?, s:s, s:{s:O?, s:{s:O}}}", "to", f->to.j,
	    "type", "template", "template", "name", f->name.j, "language",
	    "code", f->language.j);
	if (req == NULL)
		goto oom;
	if (json_array_size(comps) > 0 && json_object_set(json_object_get(req,
	    "template"), "components", comps) == -1)
		goto oom;
	if (api_template_check(c, from, json_string_value(f->name.j),
	    json_string_value(f->language.j), comps) == -1)
		goto done;
	if ((s = json_dumps(req, JSON_COMPACT)) == NULL)
		goto oom;
	queue_send(c, s, strlen(s), from, 0);
	goto done;
oom:
	(void)req_error(c->r, 503, NULL, "unavailable", "Out of memory.");
done:
	free(s);
	json_decref(req);
	json_decref(comps);
	json_decref(b);
}

/*
 * Checks the caller: a session cookie without an Authorization header,
 * else the API key.  Returns 1 with *read_only and c->role, or 0 with
 * the answer sent.
 */
static int
authorised(struct call *c, int *read_only)
{
	const char	*h = req_param(c->r, "HTTP_AUTHORIZATION");
	char		 sha[65], name[API_ACTOR_MAX - 4];
	int64_t		 id;
	int		 rc;

	*read_only = 0;
	/* A browser signs with its session cookie (api_session.c). */
	if (h == NULL && (rc = api_session_auth(c)) != 0)
		return rc == 1;
	c->role = API_ADMIN;
	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0 || h[7] == '\0' ||
	    strlen(h + 7) > 256) {
		(void)req_error(c->r, 401, "WWW-Authenticate: Bearer "
		    "realm=\"wa-gateway\"\r\n", "unauthorized", "Send an API "
		    "key as Authorization: Bearer KEY (wactl apikey create).");
		return 0;
	}
	if (sig_sha256_hex(h + 7, strlen(h + 7), sha) == -1 ||
	    (rc = db_apikey_check(c->db, sha, (int64_t)time(NULL), &id,
	    read_only, name, sizeof(name))) == -1) {
		(void)req_error(c->r, 503, "Retry-After: 2\r\n", "unavailable",
		    "The key could not be checked; try again.");
		return 0;
	}
	explicit_bzero(sha, sizeof(sha));
	if (rc == 1) {
		c->key_id = id;
		if (name[0] != '\0')
			(void)snprintf(c->actor, sizeof(c->actor), "api:%s",
			    name);
		if (api_scope_key(c, id) == -1) {
			(void)req_error(c->r, 503, "Retry-After: 2\r\n",
			    "unavailable", "The key could not be checked; try "
			    "again.");
			return 0;
		}
		return 1;
	}
	if (rc == 0) {
		log_warnx("api: unknown or revoked key from %s",
		    req_param(c->r, "REMOTE_ADDR") ? req_param(c->r,
		    "REMOTE_ADDR") : "-");
		(void)req_error(c->r, 401, "WWW-Authenticate: Bearer "
		    "realm=\"wa-gateway\", error=\"invalid_token\"\r\n",
		    "unauthorized", "The API key is unknown or revoked.");
		return 0;
	}
	return 0;
}

/*
 * Serves a call whose path matched a route (hit: the one of this method,
 * or NULL; allow: the methods the path takes).  The caller releases what
 * the call holds.
 */
static void
api_serve(struct call *c, const struct api_route *hit, const char *allow)
{
	struct param_err err;
	struct buf	 rest;
	json_t		*vals = NULL;
	const char	*qs;
	int		 ro;

	buf_init(&rest);
	if (api_scope_load(c) == -1)
		goto done;
	/* An install may name its numbers only in the numbers table now. */
	if (json_object_size(c->known) == 0) {
		(void)req_error(c->r, 503, NULL, "not_configured", "No business "
		    "number is configured: set WHATSAPP_PHONE_NUMBER_ID for "
		    "the responders too, or add one with wactl numbers add.");
		goto done;
	}
	if (hit == NULL) {
		char hdr[100];

		(void)snprintf(hdr, sizeof(hdr), "Allow: %s\r\n", allow);
		(void)req_error(c->r, 405, hdr, "method_not_allowed", "This "
		    "endpoint does not take that method; see Allow.");
		goto done;
	}
	if (hit->role != API_PUBLIC) {
		if (!authorised(c, &ro))
			goto done;
		if (ro && strcmp(hit->method, "GET") != 0) {
			(void)req_error(c->r, 403, NULL, "read_only_key", "This "
			    "API key may only read; create one without "
			    "--read-only to write.");
			goto done;
		}
		if (c->role < hit->role) {
			(void)req_error(c->r, 403, NULL, "forbidden_role",
			    hit->role == API_ADMIN ? "Only an admin may do "
			    "this; ask one of your admins." : "Viewers may "
			    "only read; ask an admin for the agent role.");
			goto done;
		}
	}
	/* number= may repeat: taken out first, checked with the rest. */
	qs = c->r->query;
	if ((vals = json_array()) == NULL) {
		(void)req_error(c->r, 503, NULL, "unavailable", "Out of memory.");
		goto done;
	}
	if (api_scope_declared(hit->query)) {
		if (api_scope_take(c, qs, vals, &rest) == -1)
			goto done;
		qs = rest.p;
	}
	/* Every query parameter is checked before any query runs. */
	c->route = hit;
	switch (param_query(hit->query, qs, &c->q, &err)) {
	case PARAM_OK:
		break;
	case PARAM_UNKNOWN:
		api_fail_field(c, 400, "unknown_parameter", err.name, err.message);
		goto done;
	case PARAM_REPEATED:
		api_fail_field(c, 400, "repeated_parameter", err.name,
		    err.message);
		goto done;
	case PARAM_NOMEM:
		(void)req_error(c->r, 503, NULL, "unavailable", "Out of memory.");
		goto done;
	default:
		api_fail_field(c, 400, "bad_parameter", err.name, err.message);
		goto done;
	}
	if (api_scope_build(c, vals) == -1)
		goto done;
	/* A time budget, so one costly query cannot hold this responder. */
	db_budget_begin(c->db, c->cfg->api_query_ms);
	hit->fn(c);
	db_budget_end(c->db);
done:
	json_decref(vals);
	buf_clear(&rest);
}

/*
 * Serves path (below /api/whatsapp) when it is a management route.
 * Returns 1 when answered, 0 when no route has that path.
 */
int
api_handle(struct db *d, const struct cfg *cfg, struct req *r,
    const char *path, int wake)
{
	struct call	 c;
	char		 allow[64] = "";
	const struct api_route *hit = NULL, *rt;
	size_t		 t;
	int64_t		 id;
	char		 seg[API_SEG_MAX];
	int		 known = 0;

	memset(&c, 0, sizeof(c));
	c.db = d;
	c.cfg = cfg;
	c.r = r;
	c.wake = wake;
	for (t = 0; t < NTABLES; t++)
		for (rt = tables[t]; rt->path != NULL; rt++) {
			if (!match(rt->path, path, &id, seg))
				continue;
			known = 1;
			(void)strlcat(allow, allow[0] ? ", " : "",
			    sizeof(allow));
			(void)strlcat(allow, rt->method, sizeof(allow));
			if (strcmp(rt->method, r->method) == 0) {
				hit = rt;
				c.id = id;
				(void)strlcpy(c.seg, seg, sizeof(c.seg));
			}
		}
	if (!known)
		return 0;
	api_serve(&c, hit, allow);
	param_clear(hit != NULL ? hit->query : none_p, &c.q);
	if (hit != NULL && hit->body != NULL)
		param_clear(hit->body, &c.b);
	free(c.numbers);
	json_decref(c.cover);
	json_decref(c.known);
	json_decref(c.keyset);
	return 1;
}

/*
 * Prints every route's declared parameters as one JSON array on stdout
 * (`wa-fcgi -P`): [{"method", "path", "write" (a read-only key may
 * not), "role" (the least a person needs), "query": [...], "body":
 * [...] or null}], each parameter as param_describe() gives it.  What
 * tests/e2e/test_openapi.py holds docs/openapi.yaml to.  Returns 0 or -1.
 */
static const char *const role_names[] = { "public", "viewer", "agent",
	"admin" };

int
api_params_print(void)
{
	const struct api_route	*rt;
	json_t			*a = json_array(), *o;
	size_t			 t;
	int			 rc = -1;

	for (t = 0; a != NULL && t < NTABLES; t++)
		for (rt = tables[t]; rt->path != NULL; rt++) {
			o = json_pack("{s:s, s:s, s:b, s:s, s:o?, s:o?}",
			    "method", rt->method, "path", rt->path, "write",
			    strcmp(rt->method, "GET") != 0, "role",
			    role_names[rt->role + 1],
			    "query", param_describe(rt->query), "body",
			    rt->body != NULL ? param_describe(rt->body) :
			    json_null());
			if (o == NULL || json_array_append_new(a, o) == -1)
				goto done;
		}
	if (a != NULL && json_dumpf(a, stdout, JSON_INDENT(1)) == 0 &&
	    putchar('\n') != EOF && fflush(stdout) == 0)
		rc = 0;
done:
	json_decref(a);
	return rc;
}
