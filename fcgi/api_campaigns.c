/*
 * api_campaigns.c: template campaigns in the management API (issue 16):
 * POST|GET /campaigns, GET /campaigns/{id}, pausing, resuming and
 * cancelling one, its recipients by state and its CSV report.  Admins
 * only.  Making one is campnew.c's (shared with wactl), storage
 * db_campaigns.c's; the worker sends (db_campsend.c).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "api_int.h"
#include "buf.h"
#include "campaign.h"
#include "campnew.h"
#include "clock.h"
#include "db.h"
#include "param.h"
#include "req.h"

/*
 * A campaign's body may carry its whole recipients file: nginx lets
 * /api/whatsapp/campaigns take 32 MB (nginx/local.conf.in, wa-gateway.conf), the rest of the
 * API 64 KB.  200,000 rows of a phone number and a few parameters fit.
 */
#define CAMPAIGN_BODY_MAX	(32 * 1024 * 1024)
/* Writing 200,000 recipients takes longer than WA_API_QUERY_MS's
 * default leaves one request; this one write gets this long. */
#define CAMPAIGN_CREATE_MS	60000
#define ACTIVE_DAYS_MAX		3650

/* GET /campaigns and GET /campaigns/{id}/recipients (in c->q). */
struct campaigns_f {
	struct param_val	 state, limit, before;
};

_Static_assert(sizeof(struct campaigns_f) <= sizeof(((struct call *)0)->q),
    "struct campaigns_f must fit struct call's q");

static void	campaigns_post(struct call *);
static void	campaigns_get(struct call *);
static void	campaign_get(struct call *);
static void	campaign_pause(struct call *);
static void	campaign_resume(struct call *);
static void	campaign_cancel(struct call *);
static void	campaign_recipients(struct call *);
static void	campaign_report(struct call *);

static const char *const campaign_states[] = { "scheduled", "running",
	"paused", "cancelled", "done", NULL };

static const struct param list_p[] = {
	{ .name = "state", .type = PARAM_ENUM, .words = campaign_states,
	  .field = offsetof(struct campaigns_f, state) },
	API_LIMIT(struct campaigns_f),
	{ .name = NULL }
};

static const struct param recipients_p[] = {
	{ .name = "state", .type = PARAM_ENUM, .words = db_campaign_states,
	  .field = offsetof(struct campaigns_f, state) },
	API_LIMIT(struct campaigns_f),
	{ .name = "before", .type = PARAM_INT, .min = 1, .max = INT64_MAX,
	  .field = offsetof(struct campaigns_f, before) },
	{ .name = NULL }
};

static const struct param none_p[] = { { .name = NULL } };

const struct api_route api_campaigns_routes[] = {
	{ "/campaigns", "POST", campaigns_post, API_ADMIN, none_p, NULL },
	{ "/campaigns", "GET", campaigns_get, API_ADMIN, list_p, NULL },
	{ "/campaigns/{id}", "GET", campaign_get, API_ADMIN, none_p, NULL },
	{ "/campaigns/{id}/pause", "POST", campaign_pause, API_ADMIN, none_p,
	  NULL },
	{ "/campaigns/{id}/resume", "POST", campaign_resume, API_ADMIN, none_p,
	  NULL },
	{ "/campaigns/{id}/cancel", "POST", campaign_cancel, API_ADMIN, none_p,
	  NULL },
	{ "/campaigns/{id}/recipients", "GET", campaign_recipients, API_ADMIN,
	  recipients_p, NULL },
	{ "/campaigns/{id}/report.csv", "GET", campaign_report, API_ADMIN,
	  none_p, NULL },
	{ NULL, NULL, NULL, API_VIEWER, NULL, NULL }
};

/*
 * The number a campaign sends from: v (a label, phone_number_id or
 * display number), or the only active number the call may see.  The
 * phone_number_id, or NULL with 400 sent (field number).
 */
static const char *
from_number(struct call *c, const char *v)
{
	const char	*k, *one = NULL, *p;
	json_t		*n;
	size_t		 count = 0;

	if (v != NULL) {
		if ((p = api_scope_resolve(c, v)) != NULL && api_may_see(c, p) &&
		    json_is_true(json_object_get(json_object_get(c->known, p),
		    "active")))
			return p;
		api_fail_field(c, 400, "unknown_number", "number", "No active "
		    "business number here has that label or id (wactl numbers "
		    "list).");
		return NULL;
	}
	json_object_foreach(c->known, k, n)
		if (api_may_see(c, k) && json_is_true(json_object_get(n,
		    "active"))) {
			one = k;
			count++;
		}
	if (count == 1)
		return one;
	api_fail_field(c, 400, count == 0 ? "unknown_number" :
	    "number_required", "number", count == 0 ? "No active business "
	    "number to send from (wactl numbers list)." : "Several numbers "
	    "could send it: say which in number (a label or id).");
	return NULL;
}

/* A member's text, or NULL when absent; -1 with 400 sent when not text. */
static int
text_member(struct call *c, json_t *b, const char *name, const char **v)
{
	json_t	*x = json_object_get(b, name);
	char	 msg[120];

	*v = NULL;
	if (x == NULL || json_is_null(x))
		return 0;
	if (!json_is_string(x)) {
		(void)snprintf(msg, sizeof(msg), "%s must be a text.", name);
		api_fail_field(c, 400, "bad_type", name, msg);
		return -1;
	}
	*v = json_string_value(x);
	return 0;
}

/* The uploaded file's name as the source shows it: no path, nothing odd. */
static int
file_name_ok(const char *s)
{
	size_t	n = strlen(s);

	if (n == 0 || n > 128)
		return 0;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f || *s == '/' ||
		    *s == '\\')
			return 0;
	return 1;
}

/*
 * POST /campaigns: 201 the campaign; dry_run 200, nothing written, "id"
 * null.  400 invalid_csv (with lines), template_not_found,
 * template_not_approved, invalid_name, invalid_language, invalid_source,
 * invalid_params, invalid_at, invalid_file_name, empty_segment,
 * unknown_number, bad_type, unknown_field; 409 name_taken; 413 over 32 MB; 415; 503.
 */
static void
campaigns_post(struct call *c)
{
	static const char *const members[] = { "name", "number", "template",
		"language", "at", "csv", "file_name", "segment", "params",
		"dry_run", NULL };
	struct campnew_req	 r;
	struct campnew_fail	 f;
	const char		*k, *number, *at;
	json_t			*b, *v, *seg, *o, *err;
	size_t			 i;
	char			 msg[200];

	memset(&r, 0, sizeof(r));
	memset(&f, 0, sizeof(f));
	if ((b = api_json_body(c, CAMPAIGN_BODY_MAX)) == NULL)
		return;
	json_object_foreach(b, k, v) {
		for (i = 0; members[i] != NULL; i++)
			if (strcmp(members[i], k) == 0)
				break;
		if (members[i] == NULL) {
			(void)snprintf(msg, sizeof(msg), "A campaign has "
			    "name, number, template, language, at, csv and "
			    "file_name or segment and params, dry_run; not "
			    "%.64s.", k);
			api_fail_field(c, 400, "unknown_field", "", msg);
			goto done;
		}
	}
	if (text_member(c, b, "name", &r.name) == -1 ||
	    text_member(c, b, "number", &number) == -1 ||
	    text_member(c, b, "template", &r.template) == -1 ||
	    text_member(c, b, "language", &r.language) == -1 ||
	    text_member(c, b, "csv", &r.csv) == -1 ||
	    text_member(c, b, "file_name", &r.file) == -1)
		goto done;
	if (r.file != NULL && (r.csv == NULL || !file_name_ok(r.file))) {
		api_fail_field(c, 400, "invalid_file_name", "file_name",
		    "file_name goes with csv: the file's name as the person "
		    "chose it, 1 to 128 printable characters, no slash.");
		goto done;
	}
	if (r.csv != NULL)
		r.csv_len = json_string_length(json_object_get(b, "csv"));
	if ((v = json_object_get(b, "dry_run")) != NULL) {
		if (!json_is_boolean(v)) {
			api_fail_field(c, 400, "bad_type", "dry_run", "dry_run "
			    "must be true or false.");
			goto done;
		}
		r.dry_run = json_is_true(v);
	}
	if ((v = json_object_get(b, "at")) != NULL && !json_is_null(v)) {
		at = json_string_value(v);
		if (json_is_integer(v) && json_integer_value(v) > 0 &&
		    json_integer_value(v) <= 253402300799LL)
			r.start_s = json_integer_value(v);
		else if (at == NULL || campaign_at_parse(at, &r.start_s) == -1) {
			api_fail_field(c, 400, "invalid_at", "at", "at is when "
			    "to start: unix seconds, or YYYY-MM-DDTHH:MM[:SS]Z "
			    "(UTC).");
			goto done;
		}
	}
	if ((seg = json_object_get(b, "segment")) != NULL) {
		v = json_object_get(seg, "active_days");
		if (!json_is_object(seg) || json_object_size(seg) != 1 ||
		    (json_object_get(seg, "label") == NULL && v == NULL) ||
		    (v != NULL && (!json_is_integer(v) ||
		    json_integer_value(v) < 1 || json_integer_value(v) >
		    ACTIVE_DAYS_MAX)) || (v == NULL && !json_is_string(
		    json_object_get(seg, "label")))) {
			api_fail_field(c, 400, "invalid_source", "segment",
			    "segment is {\"label\": \"NAME\"} or "
			    "{\"active_days\": N} (1 to 3650).");
			goto done;
		}
		r.label = json_string_value(json_object_get(seg, "label"));
		r.active_days = v != NULL ? json_integer_value(v) : 0;
		r.params = json_object_get(b, "params");
	} else if (json_object_get(b, "params") != NULL) {
		api_fail_field(c, 400, "invalid_params", "params", "params go "
		    "with a segment; a CSV has a column per parameter.");
		goto done;
	}
	if (r.csv == NULL && seg == NULL) {
		api_fail_field(c, 400, "invalid_source", "csv", "Give the "
		    "recipients: csv (the file's text) or a segment.");
		goto done;
	}
	if ((r.pnid = from_number(c, number)) == NULL)
		goto done;
	r.created_by = c->user_id;
	db_budget_begin(c->db, CAMPAIGN_CREATE_MS);
	o = campnew_make(c->db, &r, clock_now_ms(), &f);
	if (o != NULL) {
		api_reply_json(c, r.dry_run ? 200 : 201, o);
		goto done;
	}
	if (f.status == 503 && db_budget_spent(c->db)) {
		api_db_trouble(c, "");
		goto done;
	}
	err = json_pack("{s:s, s:s}", "code", f.code, "message", f.message);
	if (err != NULL && f.field[0] != '\0')
		(void)json_object_set_new(err, "field", json_string(f.field));
	if (err != NULL && f.lines != NULL)
		(void)json_object_set(err, "lines", f.lines);
	api_reply_json(c, f.status, err != NULL ? json_pack("{s:o}", "error",
	    err) : NULL);
done:
	campnew_fail_clear(&f);
	json_decref(b);
}

/* db_campaign_list() row: its id and number, kept when the call sees it. */
static void
on_id(void *arg, int nc, const char *const *names, const struct db_val *v)
{
	json_t *a = arg;

	(void)json_array_append_new(a, json_pack("{s:I, s:s?}", "id",
	    (json_int_t)db_val_int(nc, names, v, "id"), "pnid",
	    db_val_text(nc, names, v, "phone_number_id")));
}

/* GET /campaigns?state=S&limit=N: newest first.  200; 503. */
static void
campaigns_get(struct call *c)
{
	const struct campaigns_f *q = (const struct campaigns_f *)(void *)&c->q;
	json_t		*ids, *out, *x, *o;
	size_t		 i;
	int		 found;

	if ((ids = json_array()) == NULL || (out = json_array()) == NULL) {
		json_decref(ids);
		(void)req_error(c->r, 503, NULL, "unavailable", "Out of memory.");
		return;
	}
	if (db_campaign_list(c->db, q->state.set ? q->state.s : NULL,
	    (int)q->limit.i, on_id, ids) < 0)
		goto trouble;
	json_array_foreach(ids, i, x) {
		if (!api_may_see(c, json_string_value(json_object_get(x,
		    "pnid"))))
			continue;
		if ((o = campnew_json(c->db, json_integer_value(
		    json_object_get(x, "id")), &found)) == NULL) {
			if (found)
				goto trouble;
			continue;
		}
		(void)json_array_append_new(out, o);
	}
	json_decref(ids);
	api_reply_json(c, 200, json_pack("{s:o}", "data", out));
	return;
trouble:
	json_decref(ids);
	json_decref(out);
	api_db_trouble(c, "The campaigns could not be read; try again.");
}

/*
 * Campaign c->id as an object, or NULL with the answer sent (404 for
 * one of a number the call may not see, DESIGN rule 10; 503).
 */
static json_t *
load(struct call *c)
{
	json_t	*o;
	int	 found;
	char	 msg[100];

	if ((o = campnew_json(c->db, c->id, &found)) != NULL &&
	    api_may_see(c, json_string_value(json_object_get(o,
	    "phone_number_id"))))
		return o;
	json_decref(o);
	if (o == NULL && found) {
		api_db_trouble(c, "The campaign could not be read; try again.");
		return NULL;
	}
	(void)snprintf(msg, sizeof(msg), "No campaign has id %lld.",
	    (long long)c->id);
	(void)req_error(c->r, 404, NULL, "not_found", msg);
	return NULL;
}

/* GET /campaigns/{id}: 200; 404; 503. */
static void
campaign_get(struct call *c)
{
	json_t *o;

	if ((o = load(c)) != NULL)
		api_reply_json(c, 200, o);
}

/* POST /campaigns/{id}/pause|resume|cancel: 200 the campaign; 404;
 * 409 campaign_finished (done, or cancelled); 503. */
static void
act(struct call *c, enum db_campaign_act a)
{
	json_t	*o;
	int	 rc;

	if ((o = load(c)) == NULL)
		return;
	json_decref(o);
	rc = db_campaign_act(c->db, c->id, a, clock_now_ms());
	if (rc == -2) {
		(void)req_error(c->r, 409, NULL, "campaign_finished", "The "
		    "campaign is done or cancelled: it cannot be paused, "
		    "resumed or cancelled any more.");
		return;
	}
	if (rc != 1) {
		api_db_trouble(c, "The campaign could not be changed; try "
		    "again.");
		return;
	}
	if ((o = load(c)) != NULL)
		api_reply_json(c, 200, o);
}

static void
campaign_pause(struct call *c)
{
	act(c, DB_CAMPAIGN_PAUSE);
}

static void
campaign_resume(struct call *c)
{
	act(c, DB_CAMPAIGN_RESUME);
}

static void
campaign_cancel(struct call *c)
{
	act(c, DB_CAMPAIGN_CANCEL);
}

/*
 * GET /campaigns/{id}/recipients?state=S&limit=N&before=ID: newest
 * first; next_cursor (the before of the next page) when the page was
 * full.  A campaign that is not there (or of a number the call may not
 * see) has none, as a list of a missing parent is empty elsewhere.
 * 200; 503.
 */
static void
campaign_recipients(struct call *c)
{
	const struct campaigns_f *q = (const struct campaigns_f *)(void *)&c->q;
	json_t		*o, *rows, *r, *p;
	size_t		 i;
	int		 n, seen;

	if ((o = json_array()) == NULL || db_campaign_get(c->db, c->id,
	    api_on_row, o) < 0) {
		json_decref(o);
		api_db_trouble(c, "The campaign could not be read; try again.");
		return;
	}
	seen = api_may_see(c, json_string_value(json_object_get(
	    json_array_get(o, 0), "phone_number_id")));
	json_decref(o);
	if ((rows = json_array()) == NULL) {
		(void)req_error(c->r, 503, NULL, "unavailable", "Out of memory.");
		return;
	}
	n = !seen ? 0 : db_campaign_recipients(c->db, c->id, q->state.set ? q->state.s :
	    NULL, q->before.set ? q->before.i : 0, (int)q->limit.i, api_on_row,
	    rows);
	if (n < 0) {
		json_decref(rows);
		api_db_trouble(c, "The recipients could not be read; try "
		    "again.");
		return;
	}
	json_array_foreach(rows, i, r)
		if ((p = json_loads(json_string_value(json_object_get(r,
		    "params")), 0, NULL)) != NULL)
			(void)json_object_set_new(r, "params", p);
	/* Recipient rows name no number: api_page() adds no label. */
	api_page(c, rows, n, (int)q->limit.i);
}

/*
 * GET /campaigns/{id}/report.csv: every recipient in the file's order,
 * text/csv with the header line,wa_id,state,reason,error_code,updated_at.
 * 200; 404; 503.
 */
static void
campaign_report(struct call *c)
{
	struct buf	 b;
	json_t		*o;
	char		 hdr[160];

	if ((o = load(c)) == NULL)
		return;
	json_decref(o);
	buf_init(&b);
	if (campnew_report(c->db, c->id, &b) == -1) {
		buf_clear(&b);
		api_db_trouble(c, "The report could not be read; try again.");
		return;
	}
	(void)snprintf(hdr, sizeof(hdr), "Content-Disposition: attachment; "
	    "filename=\"campaign-%lld.csv\"\r\n", (long long)c->id);
	(void)req_reply(c->r, 200, "text/csv; charset=utf-8", hdr, b.p, b.len);
	buf_clear(&b);
}
