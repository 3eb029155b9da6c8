/*
 * api_hooks.c: event webhooks in the management API (issue 16): the
 * subscriptions (GET|POST /hooks, PATCH|DELETE /hooks/{id}), their
 * deliveries with attempts (GET /hooks/{id}/deliveries) and redelivery.
 * Admin only: a hook sends the business's data elsewhere.  The secret
 * is shown once, when POST /hooks generated it; never again.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "api_int.h"
#include "buf.h"
#include "clock.h"
#include "db.h"
#include "hookspec.h"
#include "notify.h"
#include "req.h"
#include "cfg.h"

#define URL_MAX		2048
#define SECRET_BYTES	32

static const char *const hook_states[] = { "active", "paused", NULL };
static const char *const delivery_states[] = { "queued", "sending",
	"delivered", "failed", NULL };

static const struct param none_p[] = { { .name = NULL } };

/* POST /hooks's body, and PATCH /hooks/{id}'s (state; no secret_env). */
static const struct param hook_new_p[] = {
	{ .name = "url", .type = PARAM_TEXT, .min = 1, .max = URL_MAX,
	  .field = offsetof(struct hook_f, url) },
	{ .name = "events", .type = PARAM_JSON,
	  .field = offsetof(struct hook_f, events) },
	{ .name = "number", .type = PARAM_TEXT, .min = 1, .max = 64,
	  .nullable = 1, .field = offsetof(struct hook_f, number) },
	{ .name = "secret_env", .type = PARAM_TEXT, .min = 1, .max = 64,
	  .nullable = 1, .field = offsetof(struct hook_f, secret_env) },
	{ .name = NULL }
};
static const struct param hook_patch_p[] = {
	{ .name = "url", .type = PARAM_TEXT, .min = 1, .max = URL_MAX,
	  .field = offsetof(struct hook_f, url) },
	{ .name = "events", .type = PARAM_JSON,
	  .field = offsetof(struct hook_f, events) },
	{ .name = "number", .type = PARAM_TEXT, .min = 1, .max = 64,
	  .nullable = 1, .field = offsetof(struct hook_f, number) },
	{ .name = "state", .type = PARAM_ENUM, .words = hook_states,
	  .field = offsetof(struct hook_f, state) },
	{ .name = NULL }
};

static const struct param deliveries_p[] = {
	{ .name = "state", .type = PARAM_ENUM, .words = delivery_states,
	  .field = offsetof(struct deliveries_f, state) },
	API_LIMIT(struct deliveries_f),
	{ .name = "before", .type = PARAM_INT, .min = 1, .max = INT64_MAX,
	  .field = offsetof(struct deliveries_f, before) },
	{ .name = NULL }
};

static void	hooks_list(struct call *);
static void	hook_post(struct call *);
static void	hook_patch(struct call *);
static void	hook_delete(struct call *);
static void	hook_deliveries(struct call *);
static void	delivery_redeliver(struct call *);

const struct api_route api_hooks_routes[] = {
	{ "/hooks", "GET", hooks_list, API_ADMIN, none_p, NULL },
	{ "/hooks", "POST", hook_post, API_ADMIN, none_p, hook_new_p },
	{ "/hooks/{id}", "PATCH", hook_patch, API_ADMIN, none_p,
	  hook_patch_p },
	{ "/hooks/{id}", "DELETE", hook_delete, API_ADMIN, none_p, NULL },
	{ "/hooks/{id}/deliveries", "GET", hook_deliveries, API_ADMIN,
	  deliveries_p, NULL },
	{ "/deliveries/{id}/redeliver", "POST", delivery_redeliver,
	  API_ADMIN, none_p, NULL },
	{ NULL, NULL, NULL, API_VIEWER, NULL, NULL }
};

/* An error whose sentence is built (req_error() takes constants only). */
static void
fail_msg(struct call *c, int status, const char *code, const char *msg)
{
	api_reply_json(c, status, json_pack("{s:{s:s, s:s}}", "error", "code",
	    code, "message", msg));
}

/*
 * 1 when the caller sees every number; else 0 with 403 forbidden_scope
 * sent.  A hook of every number (or the account's template events)
 * would show a caller limited to some numbers what the others do.
 */
static int
unlimited(struct call *c)
{
	if (c->keyset == NULL)
		return 1;
	(void)req_error(c->r, 403, NULL, "forbidden_scope", "Only an admin "
	    "who sees every number may manage event webhooks.");
	return 0;
}

/* 0 when url may be a hook's endpoint, else -1 with the 400 sent. */
static int
url_check(struct call *c, const char *url)
{
	const char *code, *msg;

	if (hookspec_url(url, c->cfg->hooks_allow_private, &code, &msg) == 0)
		return 0;
	api_fail_field(c, 400, code, "url", msg);
	return -1;
}

/*
 * events (a JSON array of known types, or ["*"]) as "a,b,c" into b.
 * 0, or -1 with the 400 sent.
 */
static int
events_join(struct call *c, const json_t *ev, struct buf *b)
{
	const json_t	*x;
	const char	*t;
	size_t		 i;
	char		 msg[200];

	if (!json_is_array(ev) || json_array_size(ev) == 0 ||
	    json_array_size(ev) > 16) {
		api_fail_field(c, 400, "invalid", "events", "events must be a "
		    "list of 1 to 16 event types, or [\"*\"] for all.");
		return -1;
	}
	json_array_foreach(ev, i, x) {
		if ((t = json_string_value(x)) == NULL || !hookspec_type(t))
			goto unknown;
		if ((i > 0 && buf_puts(b, ",") == -1) || buf_puts(b, t) == -1) {
			(void)req_error(c->r, 503, NULL, "unavailable",
			    "Out of memory.");
			return -1;
		}
	}
	return 0;
unknown:
	(void)snprintf(msg, sizeof(msg), "events[%zu] is not an event type; "
	    "see the Event schema for the list, or use \"*\".", i);
	api_reply_json(c, 400, json_pack("{s:{s:s, s:s, s:s}}", "error",
	    "code", "unknown_event", "message", msg, "field", "events"));
	return -1;
}

/* The row's events text as a list. */
static void
events_split(json_t *row)
{
	const char	*s = json_string_value(json_object_get(row, "events"));
	json_t		*a;
	size_t		 n;

	if (s == NULL || (a = json_array()) == NULL)
		return;
	while (*s != '\0') {
		n = strcspn(s, ",");
		(void)json_array_append_new(a, json_stringn(s, n));
		s += n + (s[n] == ',');
	}
	(void)json_object_set_new(row, "events", a);
}

/* Hooks (id 0: all) as rows; NULL with the answer sent. */
static json_t *
hooks_load(struct call *c, int64_t id)
{
	json_t	*rows, *r;
	size_t	 i;

	if ((rows = json_array()) == NULL) {
		(void)req_error(c->r, 503, NULL, "unavailable",
		    "Out of memory.");
		return NULL;
	}
	if (db_hook_list(c->db, id, clock_now_ms(), api_on_row, rows) < 0) {
		json_decref(rows);
		api_db_trouble(c, "The hooks could not be read; try again.");
		return NULL;
	}
	json_array_foreach(rows, i, r)
		events_split(r);
	return rows;
}

/* GET /hooks: every hook, never a secret.  200, 503. */
static void
hooks_list(struct call *c)
{
	json_t *rows;

	if (!unlimited(c))
		return;
	if ((rows = hooks_load(c, 0)) != NULL)
		api_reply_json(c, 200, json_pack("{s:o}", "data", rows));
}

/* Hook id's row into *row (a new reference): 1, 0 with the 404 sent, -1. */
static int
hook_one(struct call *c, int64_t id, json_t **row)
{
	json_t	*rows;
	char	 msg[80];

	if ((rows = hooks_load(c, id)) == NULL)
		return -1;
	if (json_array_size(rows) == 0) {
		json_decref(rows);
		(void)snprintf(msg, sizeof(msg), "No hook has id %lld.",
		    (long long)id);
		fail_msg(c, 404, "not_found", msg);
		return 0;
	}
	*row = json_incref(json_array_get(rows, 0));
	json_decref(rows);
	return 1;
}

/*
 * The body's members checked beyond their declaration into h (events
 * joined into b, number resolved).  0, or -1 with the answer sent.
 */
static int
hook_check(struct call *c, const struct hook_f *f, struct db_hook *h,
    struct buf *b)
{
	const char *v;

	memset(h, 0, sizeof(*h));
	if (f->url.set) {
		if (f->url.s == NULL || url_check(c, f->url.s) == -1) {
			if (f->url.s == NULL)
				api_fail_field(c, 400, "invalid_url", "url",
				    "url must be an https:// URL.");
			return -1;
		}
		h->url = f->url.s;
	}
	if (f->events.set) {
		if (events_join(c, f->events.j, b) == -1)
			return -1;
		h->events = b->p;	/* NUL kept after len */
	}
	if (f->number.set && (v = f->number.s) != NULL &&
	    (h->pnid = api_scope_resolve(c, v)) == NULL) {
		api_fail_field(c, 400, "unknown_number", "number", "number must "
		    "be a business number's id, label or display number, or "
		    "null for every number.");
		return -1;
	}
	if (f->secret_env.set && (v = f->secret_env.s) != NULL &&
	    (strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != strlen(v) ||
	    (*v >= '0' && *v <= '9'))) {
		api_fail_field(c, 400, "invalid", "secret_env", "secret_env must "
		    "be the name of a setting: A-Z, 0-9 and _, not starting "
		    "with a digit.");
		return -1;
	}
	h->secret_env = f->secret_env.set ? f->secret_env.s : NULL;
	return 0;
}

/*
 * POST /hooks {url, events, number?, secret_env?}: 201 with the row and,
 * when no secret_env names one, the secret generated for it (shown only
 * now).  400 invalid_url, private_url, unknown_event, unknown_number.
 */
static void
hook_post(struct call *c)
{
	const struct hook_f	*f = &c->b.hook;
	struct db_hook		 h;
	struct buf		 b;
	json_t			*o, *row;
	unsigned char		 r[SECRET_BYTES];
	char			 secret[2 * SECRET_BYTES + 1];
	int64_t			 id;
	size_t			 i;

	if (!unlimited(c))
		return;
	buf_init(&b);
	if ((o = api_body_params(c, 16384, "A hook has url, events, number "
	    "and secret_env.")) == NULL)
		goto done;
	if (!f->url.set || !f->events.set) {
		api_fail_field(c, 400, "required", f->url.set ? "events" :
		    "url", "A hook needs a url and a list of events.");
		goto done;
	}
	if (hook_check(c, f, &h, &b) == -1)
		goto done;
	if (h.secret_env == NULL) {
		arc4random_buf(r, sizeof(r));
		for (i = 0; i < sizeof(r); i++)
			(void)snprintf(secret + 2 * i, 3, "%02x", r[i]);
		h.secret = secret;
	}
	h.by = api_actor(c);
	if (db_hook_insert(c->db, &h, (int64_t)time(NULL), &id) != DB_OK) {
		api_db_trouble(c, "The hook could not be stored; try again.");
		goto done;
	}
	if (hook_one(c, id, &row) == 1) {
		if (h.secret != NULL)
			(void)json_object_set_new(row, "secret",
			    json_string(secret));
		api_reply_json(c, 201, row);
	}
done:
	explicit_bzero(secret, sizeof(secret));
	explicit_bzero(r, sizeof(r));
	buf_clear(&b);
	json_decref(o);
}

/*
 * PATCH /hooks/{id} {url?, events?, number?, state?}: what is left out
 * stays; state active re-activates a disabled hook (its failing run
 * forgotten).  200 with the row; 400; 404.
 */
static void
hook_patch(struct call *c)
{
	const struct hook_f	*f = &c->b.hook;
	struct db_hook		 h;
	struct buf		 b;
	json_t			*o, *row;
	int			 rc;

	if (!unlimited(c))
		return;
	buf_init(&b);
	if ((o = api_body_params(c, 16384, "Only url, events, number and "
	    "state can be changed (a new secret needs a new hook).")) == NULL)
		goto done;
	if (hook_check(c, f, &h, &b) == -1)
		goto done;
	if ((rc = db_hook_update(c->db, c->id, &h, f->number.set,
	    f->state.set ? f->state.s : NULL, (int64_t)time(NULL))) == -1) {
		api_db_trouble(c, "The hook could not be changed; try again.");
		goto done;
	}
	if (hook_one(c, c->id, &row) == 1)
		api_reply_json(c, 200, row);
done:
	buf_clear(&b);
	json_decref(o);
}

/* DELETE /hooks/{id}: 204 (its deliveries go with it); 404. */
static void
hook_delete(struct call *c)
{
	char	msg[80];
	int	rc;

	if (!unlimited(c))
		return;
	if ((rc = db_hook_delete(c->db, c->id)) == -1) {
		api_db_trouble(c, "The hook could not be removed; try again.");
		return;
	}
	if (rc == 0) {
		(void)snprintf(msg, sizeof(msg), "No hook has id %lld.",
		    (long long)c->id);
		fail_msg(c, 404, "not_found", msg);
		return;
	}
	(void)req_reply(c->r, 204, "application/json", NULL, "", 0);
}

/*
 * GET /hooks/{id}/deliveries?state=&limit=&before=: newest first, each
 * with its attempts; next_before when the page was full.  200 (an empty
 * list for a hook that is not there, as for one that never had any).
 */
static void
hook_deliveries(struct call *c)
{
	const struct deliveries_f	*q = &c->q.deliveries;
	json_t				*rows, *r, *log, *out;
	const char			*s;
	size_t				 i;
	int				 n;

	if (!unlimited(c))
		return;
	if ((rows = json_array()) == NULL) {
		(void)req_error(c->r, 503, NULL, "unavailable",
		    "Out of memory.");
		return;
	}
	if ((n = db_hook_deliveries(c->db, c->id, q->state.set ? q->state.s :
	    NULL, q->before.set ? q->before.i : 0, (int)q->limit.i,
	    api_on_row, rows)) < 0) {
		json_decref(rows);
		api_db_trouble(c, "The deliveries could not be read; try "
		    "again.");
		return;
	}
	json_array_foreach(rows, i, r) {
		s = json_string_value(json_object_get(r, "attempts_log"));
		log = s != NULL ? json_loads(s, 0, NULL) : NULL;
		(void)json_object_set_new(r, "attempts_log", log != NULL ? log :
		    json_array());
	}
	r = json_array_get(rows, json_array_size(rows) - 1);
	out = json_pack("{s:o, s:o}", "data", rows, "next_before",
	    n == q->limit.i && r != NULL ? json_integer(json_integer_value(
	    json_object_get(r, "id"))) : json_null());
	api_reply_json(c, 200, out);
}

/*
 * POST /deliveries/{id}/redeliver: the delivery queued again now, its
 * attempts kept (a delivered one is sent again).  202; 404; 409 while
 * it is being sent.
 */
static void
delivery_redeliver(struct call *c)
{
	char	msg[120];
	int64_t	now = clock_now_ms();
	int	rc;

	if (!unlimited(c))
		return;
	if ((rc = db_hook_redeliver(c->db, c->id, now)) == -1) {
		api_db_trouble(c, "The delivery could not be queued; try "
		    "again.");
		return;
	}
	if (rc == 0) {
		(void)snprintf(msg, sizeof(msg), "No delivery with id %lld "
		    "waits to be sent again (none has it, or it is being sent "
		    "right now).", (long long)c->id);
		fail_msg(c, 404, "not_found", msg);
		return;
	}
	if (db_event_take() > 0)
		notify_send(c->wake, c->cfg->wake_path);
	api_reply_json(c, 202, json_pack("{s:I, s:s, s:I}", "id",
	    (json_int_t)c->id, "state", "queued", "next_attempt_at",
	    (json_int_t)now));
}
