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

#include <bsd/string.h>
#include <jansson.h>

#include "api.h"
#include "buf.h"
#include "cfg.h"
#include "db.h"
#include "log.h"
#include "notify.h"
#include "outbox.h"
#include "req.h"
#include "sig.h"

#define LIMIT_DEFAULT	50
#define LIMIT_MAX	200
#define SEND_MAX	(64 * 1024)

struct call {
	struct db		*db;
	const struct cfg	*cfg;
	struct req		*r;
	int			 wake;
	int64_t			 id;	/* {id} in the path, 0 when none */
};

typedef void	(*handler)(struct call *);

static void	messages_list(struct call *);
static void	conversations_list(struct call *);
static void	conversation_get(struct call *);
static void	outbox_get(struct call *);
static void	send_post(struct call *);

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
	{ "/outbox/{id}", "GET", outbox_get, 0 },
	{ "/send", "POST", send_post, 1 },
};

#define NROUTES	(sizeof(routes) / sizeof(routes[0]))

/* 1 when path matches pattern, with {id} parsed into *id. */
static int
match(const char *pattern, const char *path, int64_t *id)
{
	const char	*brace = strstr(pattern, "{id}");
	size_t		 n;
	char		*end;
	long long	 v;

	*id = 0;
	if (brace == NULL)
		return strcmp(pattern, path) == 0;
	n = (size_t)(brace - pattern);
	if (strncmp(pattern, path, n) != 0 || !isdigit((unsigned char)path[n]))
		return 0;
	errno = 0;
	v = strtoll(path + n, &end, 10);
	if (errno != 0 || v <= 0 || strcmp(end, brace + 4) != 0)
		return 0;
	*id = v;
	return 1;
}

/* An error with the field it is about (validation). */
static void
fail_field(struct call *c, int status, const char *code, const char *field,
    const char *message)
{
	json_t	*o;
	char	*s;

	o = json_pack("{s:{s:s, s:s, s:s}}", "error", "code", code, "message",
	    message, "field", field);
	if (o == NULL || (s = json_dumps(o, JSON_COMPACT)) == NULL) {
		json_decref(o);
		(void)req_error(c->r, 503, NULL, "unavailable", "Out of memory.");
		return;
	}
	(void)req_reply(c->r, status, "application/json", NULL, s, strlen(s));
	free(s);
	json_decref(o);
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
		(void)req_error(c->r, 503, "Retry-After: 2\r\n", "unavailable",
		    "The database could not answer; try again.");
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

static const char *const dirs[] = { "in", "out", NULL };
static const char *const statuses[] = { "accepted", "sent", "delivered",
	"read", "played", "failed", NULL };

/* GET /messages */
static void
messages_list(struct call *c)
{
	static const char *const names[] = { "phone", "conversation_id",
	    "type", "direction", "status", "since", "until", "limit", "cursor",
	    NULL };
	struct db_msg_filter	 f;
	struct buf		 phone, type, dir, status;
	int64_t			 before, conv, since, until, limit = LIMIT_DEFAULT;
	int			 rc[8];
	json_t			*rows;

	buf_init(&phone);
	buf_init(&type);
	buf_init(&dir);
	buf_init(&status);
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
	    (rc[7] = param_int(c, "cursor", 1, INT64_MAX, &before)) == -1)
		goto done;
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
}

/* GET /conversations */
static void
conversations_list(struct call *c)
{
	static const char *const names[] = { "unread", "assignee", "limit",
	    "cursor", NULL };
	static const char *const yn[] = { "true", "false", NULL };
	struct buf	 unread, who;
	int64_t		 before, limit = LIMIT_DEFAULT, u;
	int		 ru, rw, rb;
	json_t		*rows;

	buf_init(&unread);
	buf_init(&who);
	if (query_names(c, names) == -1 ||
	    (ru = param_enum(c, "unread", yn, &unread)) == -1 ||
	    (rw = param(c, "assignee", &who, 600)) == -1 ||
	    param_int(c, "limit", 1, LIMIT_MAX, &limit) == -1 ||
	    (rb = param_int(c, "cursor", 1, INT64_MAX, &before)) == -1)
		goto done;
	u = ru == 1 && strcmp(unread.p, "true") == 0;
	if ((rows = json_array()) == NULL) {
		(void)req_error(c->r, 503, NULL, "unavailable", "Out of memory.");
		goto done;
	}
	page(c, rows, db_api_conversations(c->db, c->cfg->phone_number_id, 0,
	    rb ? &before : NULL, ru ? &u : NULL, rw ? who.p : NULL,
	    (int)limit, on_row, rows), (int)limit);
done:
	buf_clear(&unread);
	buf_clear(&who);
}

/* One row by id through fn, or 404. */
static void
one(struct call *c, int n, json_t *rows, const char *what)
{
	char msg[100];

	if (n < 0) {
		json_decref(rows);
		(void)req_error(c->r, 503, "Retry-After: 2\r\n", "unavailable",
		    "The database could not answer; try again.");
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
	    NULL, NULL, NULL, 1, on_row, rows), rows, "conversation");
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
	struct outbox_req	 o;
	struct msg_err		 err;
	const char		*key, *ct;
	int64_t			 id;
	int			 repeated, status;
	json_t			*rows;

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
	key = req_param(c->r, "HTTP_IDEMPOTENCY_KEY");
	if (key != NULL && (key[0] == '\0' || strlen(key) > 128)) {
		fail_field(c, 400, "bad_header", "Idempotency-Key", "The "
		    "Idempotency-Key header must be 1 to 128 characters.");
		return;
	}
	memset(&o, 0, sizeof(o));
	o.json = c->r->body.p != NULL ? c->r->body.p : "";
	o.len = c->r->body.len;
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
	if ((rows = json_array()) == NULL ||
	    (status = db_api_outbox(c->db, c->cfg->phone_number_id, id,
	    on_row, rows)) != 1) {
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
	int		 known = 0, ro;

	memset(&c, 0, sizeof(c));
	c.db = d;
	c.cfg = cfg;
	c.r = r;
	c.wake = wake;
	for (i = 0; i < NROUTES; i++) {
		if (!match(routes[i].path, path, &id))
			continue;
		known = 1;
		(void)strlcat(allow, allow[0] ? ", " : "", sizeof(allow));
		(void)strlcat(allow, routes[i].method, sizeof(allow));
		if (strcmp(routes[i].method, r->method) == 0) {
			hit = &routes[i];
			c.id = id;
		}
	}
	if (!known)
		return 0;
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
	hit->fn(&c);
	return 1;
}
