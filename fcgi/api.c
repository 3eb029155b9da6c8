/*
 * api.c: the management API (/api/whatsapp/...) for shell scripts and the
 * web inbox, served by the responders.  Every route needs an API key
 * (Authorization: Bearer KEY; only its SHA-256 is stored); read-only keys
 * may only GET.  Every parameter is checked before any query and an
 * unknown one is refused, so a typo never silently widens a filter.
 * Lists are newest first, at most 200 rows, with an opaque cursor that
 * pages stably while rows are added.  One error shape everywhere:
 * {"error": {"code": "...", "message": "..."}}.
 */
#include <ctype.h>
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
#include "buf.h"
#include "cfg.h"
#include "counters.h"
#include "db.h"
#include "log.h"
#include "notify.h"
#include "outbox.h"
#include "req.h"
#include "sig.h"

#define LIMIT_DEFAULT	50
#define LIMIT_MAX	200
#define SEND_MAX	(64 * 1024)
#define STATS_SPAN_MAX	(366 * 86400)	/* /stats: one request, at most */

struct call {
	struct db		*db;
	const struct cfg	*cfg;
	struct req		*r;
	int			 wake;
	int64_t			 id;	/* {id} in the path, 0 when none */
	char			 wa[24]; /* {wa_id} in the path, "" when none */
};

typedef void	(*handler)(struct call *);

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
static void	queue_send(struct call *, const char *, size_t);

/* The routes: path ("{id}" is a positive number), method, handler. */
static const struct route {
	const char	*path;
	const char	*method;
	handler		 fn;
	int		 write;		/* needs a key that may write */
} routes[] = {
	{ "/messages", "GET", messages_list, 0 },
	{ "/conversations", "GET", conversations_list, 0 },
	{ "/conversations/{id}", "GET", conversation_get, 0 },
	{ "/conversations/{id}", "PATCH", conversation_patch, 1 },
	{ "/conversations/{id}/messages", "GET", conversation_messages, 0 },
	{ "/mark-read", "POST", mark_read, 1 },
	{ "/outbox", "GET", outbox_list, 0 },
	{ "/outbox/{id}", "GET", outbox_get, 0 },
	{ "/outbox/{id}", "DELETE", outbox_cancel, 1 },
	{ "/outbox/{id}/retry", "POST", outbox_retry, 1 },
	{ "/webhook-events", "GET", events_list, 0 },
	{ "/webhook-events/{id}", "GET", event_get, 0 },
	{ "/webhook-events/{id}/replay", "POST", event_replay, 1 },
	{ "/status", "GET", status_get, 0 },
	{ "/stats", "GET", stats_get, 0 },
	{ "/metrics", "GET", metrics_get, 0 },
	{ "/contacts", "GET", contacts_list, 0 },
	{ "/contacts/{wa_id}", "GET", contact_get, 0 },
	{ "/contacts/{wa_id}", "DELETE", contact_erase, 1 },
	{ "/contacts/{wa_id}/export", "GET", contact_export, 0 },
	{ "/send", "POST", send_post, 1 },
	{ "/send-template", "POST", send_template, 1 },
};

#define NROUTES	(sizeof(routes) / sizeof(routes[0]))

/*
 * 1 when path matches pattern, with {id} (a positive number) parsed into
 * *id, or {wa_id} (6 to 20 digits) copied into wa.
 */
static int
match(const char *pattern, const char *path, int64_t *id, char wa[24])
{
	const char	*brace = strchr(pattern, '{'), *rest;
	size_t		 n, len;
	char		*end;
	long long	 v;

	*id = 0;
	wa[0] = '\0';
	if (brace == NULL)
		return strcmp(pattern, path) == 0;
	n = (size_t)(brace - pattern);
	if (strncmp(pattern, path, n) != 0 || !isdigit((unsigned char)path[n]))
		return 0;
	if (strncmp(brace, "{wa_id}", 7) == 0) {
		rest = brace + 7;
		len = strspn(path + n, "0123456789");
		if (len < 6 || len > 20 || strcmp(path + n + len, rest) != 0)
			return 0;
		memcpy(wa, path + n, len);
		wa[len] = '\0';
		return 1;
	}
	errno = 0;
	v = strtoll(path + n, &end, 10);
	if (errno != 0 || v <= 0 || strcmp(end, brace + 4) != 0)
		return 0;
	*id = v;
	return 1;
}

static void
reply_json(struct call *c, int status, json_t *o)
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
static void
db_trouble(struct call *c, const char *what)
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

static void
fail_field(struct call *c, int status, const char *code, const char *field,
    const char *message)
{
	reply_json(c, status, json_pack("{s:{s:s, s:s, s:s}}", "error", "code",
	    code, "message", message, "field", field));
}

/*
 * Checks the query string: only names in allowed, each at most once,
 * properly encoded.  Returns 0, or -1 with the 400 sent.
 */
static int
query_names(struct call *c, const char *const *allowed)
{
	const char	*p = c->r->query, *e, *eq;
	char		 name[64];
	size_t		 n, i;
	unsigned	 seen = 0;	/* bit i: allowed[i] given */

	for (; *p != '\0'; p = *e ? e + 1 : e) {
		if ((e = strchr(p, '&')) == NULL)
			e = p + strlen(p);
		if (e == p)
			continue;
		eq = memchr(p, '=', (size_t)(e - p));
		n = (size_t)((eq != NULL ? eq : e) - p);
		if (n >= sizeof(name))
			n = sizeof(name) - 1;
		memcpy(name, p, n);
		name[n] = '\0';
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(allowed[i], name) == 0)
				break;
		if (allowed[i] == NULL) {
			char msg[160];

			(void)snprintf(msg, sizeof(msg), "Unknown parameter "
			    "\"%.40s\"; this endpoint takes no such filter.",
			    name);
			fail_field(c, 400, "unknown_parameter", name, msg);
			return -1;
		}
		if (i < 32 && (seen & (1u << i))) {
			fail_field(c, 400, "repeated_parameter", name, "Give "
			    "each parameter once.");
			return -1;
		}
		seen |= i < 32 ? 1u << i : 0;
	}
	return 0;
}

/*
 * Reads parameter name into b.  Returns 1 present, 0 absent, -1 with a
 * 400 sent (bad encoding, empty, or longer than max bytes).
 */
static int
param(struct call *c, const char *name, struct buf *b, size_t max)
{
	int rc = req_query(c->r->query, name, b);

	if (rc == 0)
		return 0;
	if (rc < 0 || b->len == 0 || b->len > max ||
	    strlen(b->p) != b->len) {
		fail_field(c, 400, "bad_parameter", name, "The parameter is "
		    "empty, too long or not valid URL encoding.");
		return -1;
	}
	return 1;
}

/* A whole number in lo..hi.  1 present, 0 absent, -1 (400 sent). */
static int
param_int(struct call *c, const char *name, int64_t lo, int64_t hi,
    int64_t *out)
{
	struct buf	 b;
	char		*end, msg[160];
	long long	 v;
	int		 rc;

	buf_init(&b);
	if ((rc = param(c, name, &b, 20)) == 1) {
		errno = 0;
		v = strtoll(b.p, &end, 10);
		if (errno != 0 || *end != '\0' || !isdigit((unsigned char)b.p[
		    b.p[0] == '-']) || v < lo || v > hi) {
			(void)snprintf(msg, sizeof(msg), "%s must be a whole "
			    "number from %lld to %lld.", name, (long long)lo,
			    (long long)hi);
			fail_field(c, 400, "bad_parameter", name, msg);
			rc = -1;
		} else
			*out = v;
	}
	buf_clear(&b);
	return rc;
}

/*
 * A time: unix seconds, or RFC 3339 ("2026-11-25T10:00:00Z", a fraction
 * and an offset allowed).  1 present, 0 absent, -1 (400 sent).
 */
static int
param_time(struct call *c, const char *name, int64_t *out)
{
	struct buf	 b;
	struct tm	 tm;
	const char	*p;
	char		*end;
	long long	 v;
	int		 rc, off = 0, n;

	buf_init(&b);
	if ((rc = param(c, name, &b, 40)) != 1)
		goto done;
	if (strspn(b.p, "0123456789") == b.len && b.len <= 12) {
		v = strtoll(b.p, &end, 10);
		*out = v;
		goto done;
	}
	memset(&tm, 0, sizeof(tm));
	if ((p = strptime(b.p, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		goto bad;
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++)
			continue;
	if (*p == 'Z' || *p == 'z')
		p++;
	else if ((*p == '+' || *p == '-') && isdigit((unsigned char)p[1]) &&
	    isdigit((unsigned char)p[2]) && p[3] == ':' &&
	    isdigit((unsigned char)p[4]) && isdigit((unsigned char)p[5])) {
		n = ((p[1] - '0') * 10 + (p[2] - '0')) * 60 +
		    (p[4] - '0') * 10 + (p[5] - '0');
		off = *p == '+' ? n : -n;
		p += 6;
	} else
		goto bad;
	if (*p != '\0')
		goto bad;
	*out = (int64_t)timegm(&tm) - (int64_t)off * 60;
	goto done;
bad:
	fail_field(c, 400, "bad_parameter", name, "Give a time as unix "
	    "seconds or RFC 3339, e.g. 2026-11-25T10:00:00Z.");
	rc = -1;
done:
	buf_clear(&b);
	return rc;
}

/* One of the words in set.  1 present, 0 absent, -1 (400 sent). */
static int
param_enum(struct call *c, const char *name, const char *const *set,
    struct buf *b)
{
	char	msg[200];
	size_t	i;
	int	rc;

	if ((rc = param(c, name, b, 32)) != 1)
		return rc;
	for (i = 0; set[i] != NULL; i++)
		if (strcmp(set[i], b->p) == 0)
			return 1;
	(void)snprintf(msg, sizeof(msg), "%s must be one of:", name);
	for (i = 0; set[i] != NULL; i++) {
		(void)strlcat(msg, i ? ", " : " ", sizeof(msg));
		(void)strlcat(msg, set[i], sizeof(msg));
	}
	(void)strlcat(msg, ".", sizeof(msg));
	fail_field(c, 400, "bad_parameter", name, msg);
	return -1;
}

/* A customer's number: 6 to 20 digits, "+" allowed first. */
static int
param_phone(struct call *c, struct buf *b)
{
	int rc;

	if ((rc = param(c, "phone", b, 24)) != 1)
		return rc;
	if (b->p[0] == '+') {
		memmove(b->p, b->p + 1, b->len);
		b->len--;
	}
	if (b->len < 6 || b->len > 20 || strspn(b->p, "0123456789") != b->len) {
		fail_field(c, 400, "bad_parameter", "phone", "phone must be "
		    "the customer's number: 6 to 20 digits, + allowed first.");
		return -1;
	}
	return 1;
}

/* Collects rows as JSON objects into an array (arg). */
static void
on_row(void *arg, int nc, const char *const *names, const struct db_val *v)
{
	json_t	*a = arg, *o = json_object(), *x;
	int	 i;

	if (o == NULL)
		return;
	for (i = 0; i < nc; i++) {
		switch (v[i].type) {
		case DB_VAL_INT:
			x = json_integer((json_int_t)v[i].i);
			break;
		case DB_VAL_REAL:
			x = json_real(v[i].r);
			break;
		case DB_VAL_TEXT:
			/* Stored JSON (labels) goes out as JSON. */
			if (strcmp(names[i], "labels") == 0 &&
			    (x = json_loadb(v[i].s, v[i].len, 0, NULL)) != NULL)
				break;
			x = json_stringn(v[i].s, v[i].len);
			break;
		default:
			x = json_null();
			break;
		}
		if (x == NULL || json_object_set_new(o, names[i], x) == -1) {
			json_decref(o);
			return;
		}
	}
	(void)json_array_append_new(a, o);
}

/* {"data": rows, "next_cursor": ...}: a cursor when the page was full. */
static void
page(struct call *c, json_t *rows, int n, int limit)
{
	json_t	*last = json_array_get(rows, json_array_size(rows) - 1);
	char	 cur[32];

	if (n < 0) {
		json_decref(rows);
		db_trouble(c, "The database could not answer; try again.");
		return;
	}
	if (n == limit && last != NULL) {
		(void)snprintf(cur, sizeof(cur), "%lld", (long long)
		    json_integer_value(json_object_get(last, "id")));
		reply_json(c, 200, json_pack("{s:o, s:s}", "data", rows,
		    "next_cursor", cur));
	} else
		reply_json(c, 200, json_pack("{s:o, s:n}", "data", rows,
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

static const char *const dirs[] = { "in", "out", NULL };
static const char *const statuses[] = { "accepted", "sent", "delivered",
	"read", "played", "failed", NULL };

/* GET /messages */
static void
messages_list(struct call *c)
{
	static const char *const names[] = { "phone", "conversation_id",
	    "type", "direction", "status", "since", "until", "limit", "cursor",
	    "q", NULL };
	struct db_msg_filter	 f;
	struct buf		 phone, type, dir, status, q, fts;
	int64_t			 before, conv, since, until, limit = LIMIT_DEFAULT;
	int			 rc[9];
	json_t			*rows;

	buf_init(&phone);
	buf_init(&type);
	buf_init(&dir);
	buf_init(&status);
	buf_init(&q);
	buf_init(&fts);
	memset(&f, 0, sizeof(f));
	f.pnid = c->cfg->phone_number_id;
	if (query_names(c, names) == -1 ||
	    (rc[0] = param_phone(c, &phone)) == -1 ||
	    (rc[1] = param_int(c, "conversation_id", 1, INT64_MAX, &conv)) ==
	    -1 || (rc[2] = param(c, "type", &type, 32)) == -1 ||
	    (rc[3] = param_enum(c, "direction", dirs, &dir)) == -1 ||
	    (rc[4] = param_enum(c, "status", statuses, &status)) == -1 ||
	    (rc[5] = param_time(c, "since", &since)) == -1 ||
	    (rc[6] = param_time(c, "until", &until)) == -1 ||
	    param_int(c, "limit", 1, LIMIT_MAX, &limit) == -1 ||
	    (rc[7] = param_int(c, "cursor", 1, INT64_MAX, &before)) == -1 ||
	    (rc[8] = param(c, "q", &q, 200)) == -1)
		goto done;
	if (c->id > 0) {	/* /conversations/{id}/messages */
		conv = c->id;
		rc[1] = 1;
	}
	if (rc[8] == 1 && fts_query(q.p, &fts) == -1) {
		fail_field(c, 400, "bad_parameter", "q", "q must hold at least "
		    "one word to search for.");
		goto done;
	}
	/*
	 * A customer's messages are their conversation's (one per number
	 * and contact): find it, so that its index drives the query.
	 */
	if (rc[0] == 1 && rc[1] == 0 && rc[8] == 0) {
		if ((conv = db_api_conv_by_phone(c->db, c->cfg->phone_number_id,
		    phone.p)) < 0) {
			page(c, NULL, -1, 0);
			goto done;
		}
		rc[1] = 1;	/* 0 matches nothing: an empty page */
	}
	f.q = rc[8] == 1 ? fts.p : NULL;
	f.phone = rc[0] ? phone.p : NULL;
	f.conversation = rc[1] ? &conv : NULL;
	f.type = rc[2] ? type.p : NULL;
	f.direction = rc[3] ? dir.p : NULL;
	f.status = rc[4] ? status.p : NULL;
	f.since = rc[5] ? &since : NULL;
	f.until = rc[6] ? &until : NULL;
	f.before = rc[7] ? &before : NULL;
	f.limit = (int)limit;
	if ((rows = json_array()) == NULL) {
		(void)req_error(c->r, 503, NULL, "unavailable", "Out of memory.");
		goto done;
	}
	page(c, rows, db_api_messages(c->db, &f, on_row, rows), f.limit);
done:
	buf_clear(&phone);
	buf_clear(&type);
	buf_clear(&dir);
	buf_clear(&status);
	buf_clear(&q);
	buf_clear(&fts);
}

/* A substring pattern for LIKE ... ESCAPE '\\': its own %, _ and \\ escaped. */
static int
like_pattern(const struct buf *q, struct buf *like)
{
	size_t i;

	if (buf_append(like, "%", 1) == -1)
		return -1;
	for (i = 0; i < q->len; i++)
		if ((strchr("%_\\", q->p[i]) != NULL &&
		    buf_append(like, "\\", 1) == -1) ||
		    buf_append(like, q->p + i, 1) == -1)
			return -1;
	return buf_append(like, "%", 1);
}

/* GET /conversations: filters unread, assignee, q; messages=N embeds
 * each conversation's last N messages. */
static void
conversations_list(struct call *c)
{
	static const char *const names[] = { "unread", "assignee", "q",
	    "messages", "limit", "cursor", NULL };
	static const char *const yn[] = { "true", "false", NULL };
	struct db_msg_filter	 f;
	struct buf		 unread, who, q, like;
	int64_t			 before, limit = LIMIT_DEFAULT, u, nmsg = 0, cid;
	int			 ru, rw, rb, rq, n;
	size_t			 i;
	json_t			*rows, *conv, *msgs;

	buf_init(&unread);
	buf_init(&who);
	buf_init(&q);
	buf_init(&like);
	if (query_names(c, names) == -1 ||
	    (ru = param_enum(c, "unread", yn, &unread)) == -1 ||
	    (rw = param(c, "assignee", &who, 600)) == -1 ||
	    (rq = param(c, "q", &q, 100)) == -1 ||
	    param_int(c, "messages", 0, 20, &nmsg) == -1 ||
	    param_int(c, "limit", 1, LIMIT_MAX, &limit) == -1 ||
	    (rb = param_int(c, "cursor", 1, INT64_MAX, &before)) == -1)
		goto done;
	if (rq == 1 && like_pattern(&q, &like) == -1)
		goto done;
	u = ru == 1 && strcmp(unread.p, "true") == 0;
	if ((rows = json_array()) == NULL)
		goto done;
	n = db_api_conversations(c->db, c->cfg->phone_number_id, 0,
	    rb ? &before : NULL, ru ? &u : NULL, rw ? who.p : NULL,
	    rq ? like.p : NULL, (int)limit, on_row, rows);
	json_array_foreach(rows, i, conv) {
		if (n < 0 || nmsg == 0)
			break;
		cid = json_integer_value(json_object_get(conv, "id"));
		memset(&f, 0, sizeof(f));
		f.pnid = c->cfg->phone_number_id;
		f.conversation = &cid;
		f.limit = (int)nmsg;
		if ((msgs = json_array()) == NULL ||
		    db_api_messages(c->db, &f, on_row, msgs) == -1) {
			json_decref(msgs);
			n = -1;
			break;
		}
		(void)json_object_set_new(conv, "messages", msgs);
	}
	page(c, rows, n, (int)limit);
done:
	buf_clear(&unread);
	buf_clear(&who);
	buf_clear(&q);
	buf_clear(&like);
}

/* One row by id through fn, or 404. */
static void
one(struct call *c, int n, json_t *rows, const char *what)
{
	char msg[100];

	if (n < 0) {
		json_decref(rows);
		db_trouble(c, "The database could not answer; try again.");
	} else if (n == 0) {
		json_decref(rows);
		(void)snprintf(msg, sizeof(msg), "No %s has id %lld.", what,
		    (long long)c->id);
		(void)req_error(c->r, 404, NULL, "not_found", msg);
	} else {
		json_incref(json_array_get(rows, 0));
		reply_json(c, 200, json_array_get(rows, 0));
		json_decref(rows);
	}
}

/* GET /conversations/{id} */
static void
conversation_get(struct call *c)
{
	static const char *const names[] = { NULL };
	json_t *rows;

	if (query_names(c, names) == -1)
		return;
	if ((rows = json_array()) == NULL) {
		(void)req_error(c->r, 503, NULL, "unavailable", "Out of memory.");
		return;
	}
	one(c, db_api_conversations(c->db, c->cfg->phone_number_id, c->id,
	    NULL, NULL, NULL, NULL, 1, on_row, rows), rows, "conversation");
}

/* GET /conversations/{id}/messages: /messages for one conversation. */
static void
conversation_messages(struct call *c)
{
	messages_list(c);
}

/* Reads a JSON object body of at most max bytes.  NULL with the error sent. */
static json_t *
json_body(struct call *c, size_t max)
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
		fail_field(c, 422, "bad_json", "", msg);
		json_decref(o);
		return NULL;
	}
	return o;
}

/* A string or null member: 1 set (to *v, NULL for null), 0 absent, -1 bad. */
static int
str_member(struct call *c, json_t *o, const char *key, size_t max,
    const char **v)
{
	json_t	*x = json_object_get(o, key);
	char	 msg[160];

	if (x == NULL)
		return 0;
	if (json_is_null(x)) {
		*v = NULL;
		return 1;
	}
	if (!json_is_string(x) || json_string_length(x) > max ||
	    strlen(json_string_value(x)) != json_string_length(x)) {
		(void)snprintf(msg, sizeof(msg), "%s must be a string of at "
		    "most %zu bytes, or null.", key, max);
		fail_field(c, 422, "invalid", key, msg);
		return -1;
	}
	*v = json_string_value(x);
	return 1;
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
	static const char *const names[] = { NULL };
	static const char *const keys[] = { "notes", "customer_email",
	    "labels", "assignee", NULL };
	struct db_conv_patch	 p;
	json_t			*o, *l, *x, *rows;
	const char		*k, *who;
	char			*labels = NULL, url[600];
	size_t			 i;
	int			 rc;

	if (query_names(c, names) == -1 || (o = json_body(c, 16384)) == NULL)
		return;
	memset(&p, 0, sizeof(p));
	json_object_foreach(o, k, x) {
		for (i = 0; keys[i] != NULL && strcmp(keys[i], k) != 0; i++)
			continue;
		if (keys[i] == NULL) {
			fail_field(c, 422, "unknown_field", k, "Only notes, "
			    "customer_email, labels and assignee can be "
			    "changed.");
			goto done;
		}
	}
	if ((p.set_notes = str_member(c, o, "notes", 8000, &p.notes)) == -1 ||
	    (p.set_email = str_member(c, o, "customer_email", 254,
	    &p.email)) == -1 ||
	    (p.set_assignee = str_member(c, o, "assignee", 512, &who)) == -1)
		goto done;
	if (p.set_email && p.email != NULL && (strchr(p.email, '@') == NULL ||
	    strpbrk(p.email, " \t\r\n<>") != NULL)) {
		fail_field(c, 422, "invalid", "customer_email", "customer_email "
		    "must look like name@example.com.");
		goto done;
	}
	if (p.set_assignee) {
		if (who == NULL || !(strcmp(who, "bot") == 0 ||
		    strcmp(who, "person") == 0 || (strncmp(who, "person:", 7) ==
		    0 && who[7] != '\0') || strncmp(who, "agent:", 6) == 0)) {
			fail_field(c, 422, "invalid", "assignee", "assignee must "
			    "be bot, person, person:NAME or agent:NAME.");
			goto done;
		}
		/* The worker checks again before each call (sender.c). */
		if (strncmp(who, "agent:", 6) == 0 && !cfg_agent_known(c->cfg,
		    who + 6, url, sizeof(url))) {
			fail_field(c, 422, "unknown_agent", "assignee", "assignee "
			    "agent:NAME must name an agent the operator "
			    "configured (WA_AGENTS, or the flow's agent_url).");
			goto done;
		}
		p.assignee = who;
	}
	if ((l = json_object_get(o, "labels")) != NULL) {
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
	if ((rc = db_api_conv_patch(c->db, c->cfg->phone_number_id, c->id,
	    &p)) == -1) {
		(void)req_error(c->r, 503, "Retry-After: 2\r\n", "unavailable",
		    "The change could not be saved; try again.");
		goto done;
	}
	if ((rows = json_array()) != NULL)
		one(c, rc == 1 ? db_api_conversations(c->db,
		    c->cfg->phone_number_id, c->id, NULL, NULL, NULL, NULL, 1, on_row,
		    rows) : 0, rows, "conversation");
	goto done;
bad_labels:
	fail_field(c, 422, "invalid", "labels", "labels must be null or an "
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
 * POST /mark-read {"conversation_id": N} or {"phone": "..."}: unread to
 * zero and a read receipt queued for the newest inbound message.
 */
static void
mark_read(struct call *c)
{
	static const char *const names[] = { NULL };
	struct outbox_req	 o;
	struct msg_err		 err;
	json_t			*b, *x, *rb = NULL;
	char			 wamid[130], wa[72], *req = NULL;
	int64_t			 id = 0, oid = 0;
	int			 rc, repeated;

	if (query_names(c, names) == -1 || (b = json_body(c, 4096)) == NULL)
		return;
	if (json_is_integer(x = json_object_get(b, "conversation_id")) &&
	    json_integer_value(x) > 0)
		id = json_integer_value(x);
	else if (json_is_string(x = json_object_get(b, "phone")) &&
	    phone_ok(json_string_value(x)))
		id = db_api_conv_by_phone(c->db, c->cfg->phone_number_id,
		    json_string_value(x) + (json_string_value(x)[0] == '+'));
	else {
		fail_field(c, 422, "required", "conversation_id", "Give "
		    "conversation_id (a number) or phone (6 to 20 digits).");
		json_decref(b);
		return;
	}
	json_decref(b);
	if (id < 0 || (rc = db_api_conv_read(c->db, c->cfg->phone_number_id,
	    id, wamid, sizeof(wamid), wa, sizeof(wa))) == -1) {
		(void)req_error(c->r, 503, "Retry-After: 2\r\n", "unavailable",
		    "The database could not answer; try again.");
		return;
	}
	if (id == 0 || rc == 0) {
		(void)req_error(c->r, 404, NULL, "not_found", "No such "
		    "conversation.");
		return;
	}
	if (wamid[0] != '\0' && (rb = json_pack("{s:s, s:s}", "type", "read",
	    "message_id", wamid)) != NULL &&
	    (req = json_dumps(rb, JSON_COMPACT)) != NULL) {
		memset(&o, 0, sizeof(o));
		o.json = req;
		o.len = strlen(req);
		o.pnid = c->cfg->phone_number_id;
		o.source = "api";
		if (outbox_queue(c->db, &o, &oid, &repeated, &err) == OUTBOX_OK)
			notify_send(c->wake, c->cfg->wake_path);
		else
			log_warnx("mark-read: read receipt not queued: %s",
			    err.code);
	}
	free(req);
	json_decref(rb);
	reply_json(c, 200, json_pack("{s:I, s:i, s:o}", "conversation_id",
	    (json_int_t)id, "unread_count", 0, "read_receipt_outbox_id",
	    oid > 0 ? json_integer((json_int_t)oid) : json_null()));
}

static const char *const outbox_states[] = { "queued", "sending",
	"accepted", "failed", "cancelled", NULL };

typedef int	(*list_fn)(struct call *, const int64_t *before,
		    const char *word, int limit, json_t *rows);

/*
 * A list with one optional enumerated filter (names[0], one of set),
 * limit and cursor (names[1], names[2]); fn reads the page.
 */
static void
list_by_word(struct call *c, const char *const *names,
    const char *const *set, list_fn fn)
{
	const char	*name = names[0];
	struct buf	 word;
	int64_t		 before, limit = LIMIT_DEFAULT;
	int		 rw, rb;
	json_t		*rows;

	buf_init(&word);
	if (query_names(c, names) == -1 ||
	    (rw = param_enum(c, name, set, &word)) == -1 ||
	    param_int(c, "limit", 1, LIMIT_MAX, &limit) == -1 ||
	    (rb = param_int(c, "cursor", 1, INT64_MAX, &before)) == -1)
		goto done;
	if ((rows = json_array()) != NULL)
		page(c, rows, fn(c, rb ? &before : NULL, rw ? word.p : NULL,
		    (int)limit, rows), (int)limit);
done:
	buf_clear(&word);
}

static int
outbox_page(struct call *c, const int64_t *before, const char *state,
    int limit, json_t *rows)
{
	return db_api_outbox_list(c->db, c->cfg->phone_number_id, before,
	    state, limit, on_row, rows);
}

/* GET /outbox */
static void
outbox_list(struct call *c)
{
	static const char *const names[] = { "state", "limit", "cursor", NULL };

	list_by_word(c, names, outbox_states, outbox_page);
}

/* POST /outbox/{id}/retry and DELETE /outbox/{id}. */
static void
outbox_change(struct call *c, int retry)
{
	static const char *const names[] = { NULL };
	json_t	*rows;
	int	 rc;

	if (query_names(c, names) == -1)
		return;
	if ((rc = db_api_outbox_change(c->db, c->cfg->phone_number_id, c->id,
	    retry)) == -1) {
		(void)req_error(c->r, 503, "Retry-After: 2\r\n", "unavailable",
		    "The change could not be saved; try again.");
		return;
	}
	if ((rows = json_array()) == NULL)
		return;
	if (rc == 0 && db_api_outbox(c->db, c->cfg->phone_number_id, c->id,
	    on_row, rows) == 1) {
		json_decref(rows);
		(void)req_error(c->r, 409, NULL, "wrong_state", retry ?
		    "Only a failed message can be retried." :
		    "Only a queued message can be cancelled.");
		return;
	}
	if (rc == 1 && retry)
		notify_send(c->wake, c->cfg->wake_path);
	one(c, rc == 1 ? db_api_outbox(c->db, c->cfg->phone_number_id, c->id,
	    on_row, rows) : 0, rows, "outbox row");
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

static const char *const event_states[] = { "pending", "applied",
	"partial", "duplicate", "failed", NULL };

static int
events_page(struct call *c, const int64_t *before, const char *state,
    int limit, json_t *rows)
{
	return db_api_events(c->db, 0, before, state, limit, on_row, rows);
}

/* GET /webhook-events */
static void
events_list(struct call *c)
{
	static const char *const names[] = { "result", "limit", "cursor", NULL };

	list_by_word(c, names, event_states, events_page);
}

/* GET /webhook-events/{id}: with the raw body as Meta sent it. */
static void
event_get(struct call *c)
{
	static const char *const names[] = { NULL };
	json_t *rows;

	if (query_names(c, names) == -1 || (rows = json_array()) == NULL)
		return;
	one(c, db_api_events(c->db, c->id, NULL, NULL, 1, on_row, rows), rows,
	    "journal entry");
}

/* POST /webhook-events/{id}/replay: the worker applies it again. */
static void
event_replay(struct call *c)
{
	static const char *const names[] = { NULL };
	json_t	*rows;
	int	 rc;

	if (query_names(c, names) == -1)
		return;
	if ((rc = db_api_event_replay(c->db, c->id)) == -1) {
		(void)req_error(c->r, 503, "Retry-After: 2\r\n", "unavailable",
		    "The replay could not be saved; try again.");
		return;
	}
	if ((rows = json_array()) == NULL)
		return;
	if (rc == 1)
		notify_send(c->wake, c->cfg->wake_path);
	else if (db_api_events(c->db, c->id, NULL, NULL, 1, on_row, rows) ==
	    1) {
		json_decref(rows);
		(void)req_error(c->r, 409, NULL, "cannot_replay", "The entry "
		    "is pending already, or its body was purged.");
		return;
	}
	one(c, rc == 1 ? db_api_events(c->db, c->id, NULL, NULL, 1, on_row,
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
	static const char *const names[] = { NULL };
	struct db_health h;
	json_t	*rows, *o;

	if (query_names(c, names) == -1 || (rows = json_array()) == NULL)
		return;
	if (db_api_status(c->db, c->cfg->phone_number_id, on_row, rows) != 1 ||
	    (o = json_array_get(rows, 0)) == NULL ||
	    db_health_get(c->db, &h) == -1) {
		json_decref(rows);
		db_trouble(c, "The database could not answer; try again.");
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
	(void)json_object_set_new(o, "schema_version",
	    json_integer(db_schema_known()));
	(void)json_object_set_new(o, "sqlite_version",
	    json_string(db_sqlite_version()));
	reply_json(c, 200, o);
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
	static const char *const names[] = { "since", "until", NULL };
	static const char *const parts[] = { "messages", "contacts", NULL,
	    "failures", "menu_options" };
	struct delays	 dl;
	int64_t		 since, until = (int64_t)time(NULL) + 1;
	int		 rs, capped;
	size_t		 i;
	json_t		*out, *a;

	memset(&dl, 0, sizeof(dl));
	if (query_names(c, names) == -1 ||
	    (rs = param_time(c, "since", &since)) == -1 ||
	    param_time(c, "until", &until) == -1)
		return;
	if (rs == 0)
		since = until - 7 * 86400;
	if (since >= until) {
		fail_field(c, 400, "bad_parameter", "since", "since must be "
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
			if (db_api_stats(c->db, c->cfg->phone_number_id, since,
			    until, DB_STATS_REPLY, on_delay, &dl) == -1)
				goto fail;
			continue;
		}
		if ((a = json_array()) == NULL)
			goto oom;
		if (db_api_stats(c->db, c->cfg->phone_number_id, since, until,
		    (enum db_stats)i, on_row, a) == -1) {
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
	reply_json(c, 200, out);
	return;
fail:
	free(dl.v);
	json_decref(out);
	db_trouble(c, "The statistics could not be read; try again.");
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
	static const char *const names[] = { NULL };
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

	if (query_names(c, names) == -1)
		return;
	buf_init(&b);
	memset(&p, 0, sizeof(p));
	p.b = &b;
	(void)clock_gettime(CLOCK_REALTIME, &ts);
	p.now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	for (i = 0; i < 3; i++) {
		p.part = i;
		p.err |= buf_puts(&b, heads[i]) == -1;
		if (db_api_metrics(c->db, c->cfg->phone_number_id,
		    (enum db_metrics)i, on_metric, &p) == -1) {
			buf_clear(&b);
			db_trouble(c, "The metrics could not be read.");
			return;
		}
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
	static const char *const names[] = { "q", "opted_out", "limit",
	    "cursor", NULL };
	static const char *const yn[] = { "true", "false", NULL };
	struct buf	 q, like, opt;
	int64_t		 before, limit = LIMIT_DEFAULT, o;
	int		 rq, ro, rb;
	json_t		*rows;

	buf_init(&q);
	buf_init(&like);
	buf_init(&opt);
	if (query_names(c, names) == -1 || (rq = param(c, "q", &q, 100)) ==
	    -1 || (ro = param_enum(c, "opted_out", yn, &opt)) == -1 ||
	    param_int(c, "limit", 1, LIMIT_MAX, &limit) == -1 ||
	    (rb = param_int(c, "cursor", 1, INT64_MAX, &before)) == -1)
		goto done;
	if (rq == 1 && like_pattern(&q, &like) == -1)
		goto done;
	o = ro == 1 && strcmp(opt.p, "true") == 0;
	if ((rows = json_array()) != NULL)
		page(c, rows, db_api_contacts(c->db, c->cfg->phone_number_id,
		    NULL, rb ? &before : NULL, rq ? like.p : NULL, ro ? &o : NULL,
		    (int)limit, on_row, rows), (int)limit);
done:
	buf_clear(&q);
	buf_clear(&like);
	buf_clear(&opt);
}

/* GET /contacts/{wa_id} */
static void
contact_get(struct call *c)
{
	static const char *const names[] = { NULL };
	json_t	*rows;
	char	 msg[80];
	int	 n;

	if (query_names(c, names) == -1 || (rows = json_array()) == NULL)
		return;
	n = db_api_contacts(c->db, c->cfg->phone_number_id, c->wa, NULL, NULL,
	    NULL, 1, on_row, rows);
	if (n == 0) {
		json_decref(rows);
		(void)snprintf(msg, sizeof(msg), "No contact %s.", c->wa);
		(void)req_error(c->r, 404, NULL, "not_found", msg);
		return;
	}
	one(c, n, rows, "contact");
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
	static const char *const names[] = { NULL };
	static const char *const parts[] = { "conversations", "messages",
	    "statuses", "media", "tickets", "outbox", "contacts",
	    "agent_requests", "bot_state", "orders", "order_lines",
	    "webhook_events", "webhook_errors", "subscription_events" };
	json_t	*rows, *out, *a;
	size_t	 i;
	int64_t	 contact;

	if (query_names(c, names) == -1 || (rows = json_array()) == NULL)
		return;
	if (db_api_contacts(c->db, c->cfg->phone_number_id, c->wa, NULL, NULL,
	    NULL, 1, on_row, rows) != 1) {
		json_decref(rows);
		(void)req_error(c->r, 404, NULL, "not_found", "No such contact.");
		return;
	}
	contact = json_integer_value(json_object_get(json_array_get(rows, 0),
	    "id"));
	out = json_pack("{s:O}", "contact", json_array_get(rows, 0));
	json_decref(rows);
	for (i = 0; out != NULL && i < sizeof(parts) / sizeof(parts[0]); i++) {
		if ((a = json_array()) == NULL ||
		    db_api_export(c->db, c->cfg->phone_number_id, contact, c->wa,
		    (enum db_export)i, on_row, a) == -1) {
			json_decref(a);
			json_decref(out);
			db_trouble(c, "The export could not be read.");
			return;
		}
		(void)json_object_set_new(out, parts[i], a);
	}
	reply_json(c, 200, out);
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
	static const char *const names[] = { NULL };
	struct erased	 e = { c->cfg, 0, 0 };
	int		 rc;

	if (query_names(c, names) == -1)
		return;
	if ((rc = db_api_erase(c->db, c->cfg->phone_number_id, c->wa,
	    erase_file, &e)) == -1) {
		db_trouble(c, "Nothing was erased; try again.");
		return;
	}
	if (rc == 0) {
		(void)req_error(c->r, 404, NULL, "not_found", "No such contact.");
		return;
	}
	log_info("erased contact ****%s on request (%d files)", c->wa +
	    (strlen(c->wa) > 4 ? strlen(c->wa) - 4 : 0), e.files);
	reply_json(c, 200, json_pack("{s:s, s:b, s:i, s:i}", "wa_id", c->wa,
	    "erased", 1, "files_deleted", e.files, "files_failed", e.failed));
}

/* GET /outbox/{id} */
static void
outbox_get(struct call *c)
{
	static const char *const names[] = { NULL };
	json_t *rows;

	if (query_names(c, names) == -1)
		return;
	if ((rows = json_array()) == NULL) {
		(void)req_error(c->r, 503, NULL, "unavailable", "Out of memory.");
		return;
	}
	one(c, db_api_outbox(c->db, c->cfg->phone_number_id, c->id, on_row,
	    rows), rows, "outbox row");
}

/*
 * POST /send: the request as `wactl send` takes it (no local files).
 * 202 with the outbox id and its state; a repeated Idempotency-Key
 * returns the first row.  Refusals: 422 (Meta's limits, with the field),
 * 409 (window closed, opted out, tier used up), 503 (database busy).
 */
static void
send_post(struct call *c)
{
	static const char *const names[] = { NULL };
	const char		*ct;

	if (query_names(c, names) == -1)
		return;
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
	queue_send(c, c->r->body.p != NULL ? c->r->body.p : "", c->r->body.len);
}

/* Queues a send request and answers 202 with its row, or the refusal. */
static void
queue_send(struct call *c, const char *json, size_t len)
{
	struct outbox_req	 o;
	struct msg_err		 err;
	const char		*key;
	int64_t			 id;
	int			 repeated;
	json_t			*rows;

	key = req_param(c->r, "HTTP_IDEMPOTENCY_KEY");
	if (key != NULL && (key[0] == '\0' || strlen(key) > 128)) {
		fail_field(c, 400, "bad_header", "Idempotency-Key", "The "
		    "Idempotency-Key header must be 1 to 128 characters.");
		return;
	}
	memset(&o, 0, sizeof(o));
	o.json = json;
	o.len = len;
	o.pnid = c->cfg->phone_number_id;
	o.source = "api";
	o.idem_key = key;
	o.tier_limit = c->cfg->tier_limit;
	switch (outbox_queue(c->db, &o, &id, &repeated, &err)) {
	case OUTBOX_OK:
		break;
	case OUTBOX_INVALID:
		fail_field(c, 422, err.code, err.field, err.message);
		return;
	case OUTBOX_WINDOW_CLOSED:
	case OUTBOX_OPTED_OUT:
	case OUTBOX_TIER_LIMIT:
		fail_field(c, 409, err.code, err.field, err.message);
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
	    c->cfg->phone_number_id, id, on_row, rows) != 1) {
		json_decref(rows);
		reply_json(c, 202, json_pack("{s:I, s:s, s:b}", "id",
		    (json_int_t)id, "state", "queued", "repeated", repeated));
		return;
	}
	(void)json_object_set_new(json_array_get(rows, 0), "repeated",
	    json_boolean(repeated));
	json_incref(json_array_get(rows, 0));
	reply_json(c, 202, json_array_get(rows, 0));
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
	static const char *const names[] = { NULL };
	static const char *const keys[] = { "to", "name", "language",
	    "body_parameters", "components", NULL };
	json_t		*b, *x, *req = NULL, *comps = NULL, *params, *p;
	const char	*k;
	char		*s = NULL;
	size_t		 i;

	if (query_names(c, names) == -1 || (b = json_body(c, SEND_MAX)) == NULL)
		return;
	json_object_foreach(b, k, x) {
		for (i = 0; keys[i] != NULL && strcmp(keys[i], k) != 0; i++)
			continue;
		if (keys[i] == NULL) {
			fail_field(c, 422, "unknown_field", k, "send-template "
			    "takes to, name, language, body_parameters and "
			    "components.");
			goto done;
		}
	}
	if (!json_is_string(json_object_get(b, "language"))) {
		fail_field(c, 422, "required", "language", "language is "
		    "required: the template's language code, e.g. en_US.");
		goto done;
	}
	comps = json_object_get(b, "components") != NULL ?
	    json_deep_copy(json_object_get(b, "components")) : json_array();
	if ((x = json_object_get(b, "body_parameters")) != NULL) {
		if (!json_is_array(x) || !json_is_array(comps)) {
			fail_field(c, 422, "bad_type", "body_parameters",
			    "body_parameters must be an array of strings.");
			goto done;
		}
		if ((params = json_array()) == NULL)
			goto oom;
		json_array_foreach(x, i, p) {
			if (!json_is_string(p)) {
				json_decref(params);
				fail_field(c, 422, "bad_type", "body_parameters",
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
	req = json_pack("{s:O?, s:s, s:{s:O?, s:{s:O}}}", "to",
	    json_object_get(b, "to"), "type", "template", "template", "name",
	    json_object_get(b, "name"), "language", "code",
	    json_object_get(b, "language"));
	if (req == NULL)
		goto oom;
	if (json_array_size(comps) > 0 && json_object_set(json_object_get(req,
	    "template"), "components", comps) == -1)
		goto oom;
	if ((s = json_dumps(req, JSON_COMPACT)) == NULL)
		goto oom;
	queue_send(c, s, strlen(s));
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
 * Checks the Authorization header.  Returns 1 with *read_only, or 0 with
 * the 401 sent.
 */
static int
authorised(struct call *c, int *read_only)
{
	const char	*h = req_param(c->r, "HTTP_AUTHORIZATION");
	char		 sha[65];
	int64_t		 id;
	int		 rc;

	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0 || h[7] == '\0' ||
	    strlen(h + 7) > 256) {
		(void)req_error(c->r, 401, "WWW-Authenticate: Bearer "
		    "realm=\"wa-gateway\"\r\n", "unauthorized", "Send an API "
		    "key as Authorization: Bearer KEY (wactl apikey create).");
		return 0;
	}
	if (sig_sha256_hex(h + 7, strlen(h + 7), sha) == -1 ||
	    (rc = db_apikey_check(c->db, sha, &id, read_only)) == -1) {
		(void)req_error(c->r, 503, "Retry-After: 2\r\n", "unavailable",
		    "The key could not be checked; try again.");
		return 0;
	}
	explicit_bzero(sha, sizeof(sha));
	if (rc == 0) {
		log_warnx("api: unknown or revoked key from %s",
		    req_param(c->r, "REMOTE_ADDR") ? req_param(c->r,
		    "REMOTE_ADDR") : "-");
		(void)req_error(c->r, 401, "WWW-Authenticate: Bearer "
		    "realm=\"wa-gateway\", error=\"invalid_token\"\r\n",
		    "unauthorized", "The API key is unknown or revoked.");
		return 0;
	}
	return 1;
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
	const struct route *hit = NULL;
	size_t		 i;
	int64_t		 id;
	char		 wa[24];
	int		 known = 0, ro;

	memset(&c, 0, sizeof(c));
	c.db = d;
	c.cfg = cfg;
	c.r = r;
	c.wake = wake;
	for (i = 0; i < NROUTES; i++) {
		if (!match(routes[i].path, path, &id, wa))
			continue;
		known = 1;
		(void)strlcat(allow, allow[0] ? ", " : "", sizeof(allow));
		(void)strlcat(allow, routes[i].method, sizeof(allow));
		if (strcmp(routes[i].method, r->method) == 0) {
			hit = &routes[i];
			c.id = id;
			(void)strlcpy(c.wa, wa, sizeof(c.wa));
		}
	}
	if (!known)
		return 0;
	if (cfg->phone_number_id == NULL) {
		(void)req_error(r, 503, NULL, "not_configured", "Set "
		    "WHATSAPP_PHONE_NUMBER_ID for the responders too: the API "
		    "serves that number.");
		return 1;
	}
	if (hit == NULL) {
		char hdr[100];

		(void)snprintf(hdr, sizeof(hdr), "Allow: %s\r\n", allow);
		(void)req_error(r, 405, hdr, "method_not_allowed", "This "
		    "endpoint does not take that method; see Allow.");
		return 1;
	}
	if (!authorised(&c, &ro))
		return 1;
	if (ro && hit->write) {
		(void)req_error(r, 403, NULL, "read_only_key", "This API key "
		    "may only read; create one without --read-only to write.");
		return 1;
	}
	/* A time budget, so one costly query cannot hold this responder. */
	db_budget_begin(d, cfg->api_query_ms);
	hit->fn(&c);
	db_budget_end(d);
	return 1;
}
