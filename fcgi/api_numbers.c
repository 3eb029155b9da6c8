/*
 * api_numbers.c: the business numbers as the management API shows them
 * (issue 13): GET /numbers and GET /numbers/{pnid}, each number's health
 * in GET /status and GET /metrics, and the reasons GET /health gives
 * for numbers (a quality of YELLOW or RED, a restricted account, a
 * number that writes without being configured).  What Meta's webhooks
 * said is written by db_health.c; a call sees only the numbers
 * api_may_see() lets it.  Tokens never appear, only the name of the
 * variable that holds one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "api.h"
#include "api_int.h"
#include "buf.h"
#include "db.h"
#include "log.h"
#include "policy.h"
#include "req.h"

#define TIER_SPAN_MS	(24LL * 3600 * 1000)	/* reference 9.3: 24 h */
#define UNKNOWN_SPAN_S	(24 * 3600)	/* unknown numbers: the last 24 h */

static const struct param none_p[] = { { .name = NULL } };

static void	numbers_list(struct call *);
static void	number_get(struct call *);

const struct api_route api_numbers_routes[] = {
	{ "/numbers", "GET", numbers_list, API_VIEWER, none_p, NULL },
	{ "/numbers/{pnid}", "GET", number_get, API_VIEWER, none_p, NULL },
	{ NULL, NULL, NULL, 0, NULL, NULL }
};

/* Adds one paused number to an object keyed by phone_number_id. */
static void
on_paused(void *arg, const char *pnid, const char *reason, int64_t code,
    int64_t paused_at, int64_t resume_at)
{
	json_t *o = arg;

	(void)json_object_set_new(o, pnid, json_pack("{s:b, s:s?, s:o, s:I, "
	    "s:o}", "paused", 1, "reason", reason, "code", code ?
	    json_integer((json_int_t)code) : json_null(), "since",
	    (json_int_t)paused_at, "resume_at", resume_at > 0 ?
	    json_integer((json_int_t)resume_at) : json_null()));
}

static const char *
text_of(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/*
 * Adds what the API computes to one number's row: tier_limit (TIER_1K
 * is 1000, unlimited or unknown null), tier_used (unique customers the
 * number started conversations with in the last 24 h, reference 9.3),
 * restricted, sending (paused or not, and why), account_detail as
 * JSON.  0, or -1 when the database failed.
 */
static int
enrich(struct db *db, json_t *n, json_t *paused, int64_t now_ms)
{
	const char	*pnid = text_of(n, "phone_number_id");
	const char	*detail = text_of(n, "account_detail");
	json_t		*d, *p;
	int64_t		 lim, max, used = 0;
	int		 already;

	lim = policy_tier_reach(text_of(n, "tier"));
	max = json_integer_value(json_object_get(n,
	    "max_daily_conversations"));
	if (lim < 0 && max > 0)
		lim = max;	/* business_capability_update said it */
	(void)json_object_set_new(n, "tier_limit", lim > 0 ?
	    json_integer((json_int_t)lim) : json_null());
	if (db_tier_count(db, pnid, "", now_ms - TIER_SPAN_MS, &used,
	    &already) == -1)
		return -1;
	(void)json_object_set_new(n, "tier_used", json_integer(
	    (json_int_t)used));
	(void)json_object_set_new(n, "restricted", json_boolean(
	    db_health_restricted(text_of(n, "account_state"), detail)));
	if (detail != NULL && (d = json_loads(detail, 0, NULL)) != NULL)
		(void)json_object_set_new(n, "account_detail", d);
	if ((p = json_object_get(paused, pnid)) != NULL)
		(void)json_object_set(n, "sending", p);
	else
		(void)json_object_set_new(n, "sending", json_pack("{s:b}",
		    "paused", 0));
	return 0;
}

/*
 * The numbers call c covers (api_may_see()), each enriched; only active
 * ones when active.  NULL with the 503 sent when the database failed.
 */
static json_t *
numbers_load(struct call *c, int active)
{
	struct timespec	 ts;
	json_t		*all, *out = NULL, *paused, *n;
	int64_t		 now_ms;
	size_t		 i;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	all = json_array();
	paused = json_object();
	if (all == NULL || paused == NULL || (out = json_array()) == NULL)
		goto oom;
	if (db_health_numbers(c->db, api_on_row, all) == -1 ||
	    db_sender_list(c->db, on_paused, paused) == -1)
		goto fail;
	json_array_foreach(all, i, n) {
		if (!api_may_see(c, text_of(n, "phone_number_id")) ||
		    (active && !json_is_null(json_object_get(n, "removed_at"))))
			continue;
		if (enrich(c->db, n, paused, now_ms) == -1)
			goto fail;
		if (json_array_append(out, n) == -1)
			goto oom;
	}
	json_decref(all);
	json_decref(paused);
	return out;
fail:
	json_decref(all);
	json_decref(paused);
	json_decref(out);
	api_db_trouble(c, "The numbers could not be read; try again.");
	return NULL;
oom:
	json_decref(all);
	json_decref(paused);
	json_decref(out);
	(void)req_error(c->r, 503, NULL, "unavailable", "Out of memory.");
	return NULL;
}

/* GET /numbers: every number the key covers, removed ones last.  200, 503. */
static void
numbers_list(struct call *c)
{
	json_t *a;

	if ((a = numbers_load(c, 0)) != NULL)
		api_reply_json(c, 200, json_pack("{s:o}", "data", a));
}

/*
 * GET /numbers/{pnid}: one number, 404 when there is none or the key
 * does not cover it (never 403).  200, 404, 503.
 */
static void
number_get(struct call *c)
{
	json_t	*a, *n;
	size_t	 i;
	char	 msg[80];

	if ((a = numbers_load(c, 0)) == NULL)
		return;
	json_array_foreach(a, i, n) {
		if (strcmp(text_of(n, "phone_number_id"), c->seg) == 0) {
			json_incref(n);
			json_decref(a);
			api_reply_json(c, 200, n);
			return;
		}
	}
	json_decref(a);
	(void)snprintf(msg, sizeof(msg), "No number has id %.20s.", c->seg);
	(void)req_error(c->r, 404, NULL, "not_found", msg);
}

static void
on_unknown(void *arg, const char *pnid)
{
	(void)json_array_append_new(arg, json_string(pnid));
}

/*
 * GET /status's numbers: "numbers", one object per active number the
 * call covers, and "unknown_numbers", the ids that wrote in the last
 * 24 h without being an active number (no key covers those; /health
 * names them to anyone).  0, or -1 with the 503 sent.
 */
int
api_numbers_status(struct call *c, json_t *o)
{
	json_t	*a, *u;

	if ((a = numbers_load(c, 1)) == NULL)
		return -1;
	if ((u = json_array()) == NULL || db_health_unknown(c->db,
	    (int64_t)time(NULL) - UNKNOWN_SPAN_S, on_unknown, u) == -1) {
		json_decref(a);
		json_decref(u);
		api_db_trouble(c, "The numbers could not be read; try again.");
		return -1;
	}
	(void)json_object_set_new(o, "numbers", a);
	(void)json_object_set_new(o, "unknown_numbers", u);
	return 0;
}

/* A Meta word as a Prometheus label value: [A-Z0-9_] or "OTHER". */
static const char *
label_word(const char *w)
{
	if (w == NULL || *w == '\0')
		return "UNKNOWN";
	if (strlen(w) > 32 || w[strspn(w,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")] != '\0')
		return "OTHER";
	return w;
}

/*
 * GET /metrics's numbers, appended to b: per active number the call
 * covers (labels are [a-z0-9_-]: no escaping), its quality rating, its
 * tier as a number (+Inf unlimited; no series when unknown) and the
 * customers it reached in 24 h.  0, or -1 with the 503 sent.
 */
int
api_numbers_metrics(struct call *c, struct buf *b)
{
	json_t		*a, *n, *lim;
	const char	*label;
	size_t		 i;
	int		 err = 0;

	if ((a = numbers_load(c, 1)) == NULL)
		return -1;
	err |= buf_puts(b, "# HELP wa_number_quality A number's quality "
	    "rating as Meta last said it (1 for the current rating).\n"
	    "# TYPE wa_number_quality gauge\n") == -1;
	json_array_foreach(a, i, n)
		err |= buf_printf(b, "wa_number_quality{number=\"%s\","
		    "rating=\"%s\"} 1\n", text_of(n, "label"),
		    label_word(text_of(n, "quality"))) == -1;
	err |= buf_puts(b, "# HELP wa_number_tier_limit Unique customers a "
	    "number may start conversations with in 24 h.\n"
	    "# TYPE wa_number_tier_limit gauge\n") == -1;
	json_array_foreach(a, i, n) {
		label = text_of(n, "label");
		lim = json_object_get(n, "tier_limit");
		if (json_is_integer(lim))
			err |= buf_printf(b, "wa_number_tier_limit{number="
			    "\"%s\"} %lld\n", label,
			    (long long)json_integer_value(lim)) == -1;
		else if (policy_tier_reach(text_of(n, "tier")) == 0 ||
		    json_integer_value(json_object_get(n,
		    "max_daily_conversations")) == -1)
			err |= buf_printf(b, "wa_number_tier_limit{number="
			    "\"%s\"} +Inf\n", label) == -1;
	}
	err |= buf_puts(b, "# HELP wa_number_tier_used Unique customers a "
	    "number started conversations with in the last 24 h.\n"
	    "# TYPE wa_number_tier_used gauge\n") == -1;
	json_array_foreach(a, i, n)
		err |= buf_printf(b, "wa_number_tier_used{number=\"%s\"} %lld\n",
		    text_of(n, "label"), (long long)json_integer_value(
		    json_object_get(n, "tier_used"))) == -1;
	json_decref(a);
	if (err) {
		(void)req_error(c->r, 503, NULL, "unavailable",
		    "Out of memory.");
		return -1;
	}
	return 0;
}

struct health_acc {
	json_t	*unknown, *quality, *restricted;
};

static void
on_health_row(void *arg, int nc, const char *const *names,
    const struct db_val *v)
{
	struct health_acc	*h = arg;
	const char		*k[6] = { NULL };
	int			 i, removed = 0;

	for (i = 0; i < nc; i++) {
		if (strcmp(names[i], "removed_at") == 0)
			removed = v[i].type != DB_VAL_NULL;
		if (v[i].type != DB_VAL_TEXT)
			continue;
		if (strcmp(names[i], "label") == 0)
			k[0] = v[i].s;
		else if (strcmp(names[i], "quality") == 0)
			k[1] = v[i].s;
		else if (strcmp(names[i], "account_state") == 0)
			k[2] = v[i].s;
		else if (strcmp(names[i], "account_detail") == 0)
			k[3] = v[i].s;
	}
	if (removed || k[0] == NULL)
		return;
	if (k[1] != NULL && (strcmp(k[1], "YELLOW") == 0 ||
	    strcmp(k[1], "RED") == 0))
		(void)json_array_append_new(h->quality, json_pack("{s:s, s:s}",
		    "number", k[0], "rating", k[1]));
	if (db_health_restricted(k[2], k[3]))
		(void)json_array_append_new(h->restricted, json_pack(
		    "{s:s, s:s}", "number", k[0], "account_state", k[2]));
}

/*
 * For GET /health (public: labels and ids only, never display numbers):
 * appends ,"numbers":{"unknown":[ids],"quality":[{number,rating}],
 * "restricted":[{number,account_state}]} to out and the reasons
 * (unknown_number, number_quality, number_restricted) to why[*nwhy].
 * 0, or -1 when the database failed or memory ran out.
 */
int
api_numbers_health(struct db *db, struct buf *out, const char **why,
    int *nwhy)
{
	struct health_acc	 h;
	json_t			*o = NULL;
	char			*s = NULL;
	int			 rc = -1;

	h.unknown = json_array();
	h.quality = json_array();
	h.restricted = json_array();
	if (h.unknown == NULL || h.quality == NULL || h.restricted == NULL)
		goto done;
	if (db_health_unknown(db, (int64_t)time(NULL) - UNKNOWN_SPAN_S,
	    on_unknown, h.unknown) == -1 ||
	    db_health_numbers(db, on_health_row, &h) == -1)
		goto done;
	if (json_array_size(h.unknown) > 0)
		why[(*nwhy)++] = "unknown_number";
	if (json_array_size(h.quality) > 0)
		why[(*nwhy)++] = "number_quality";
	if (json_array_size(h.restricted) > 0)
		why[(*nwhy)++] = "number_restricted";
	o = json_pack("{s:O, s:O, s:O}", "unknown", h.unknown, "quality",
	    h.quality, "restricted", h.restricted);
	if (o == NULL || (s = json_dumps(o, JSON_COMPACT)) == NULL)
		goto done;
	rc = buf_printf(out, ",\"numbers\":%s", s) == -1 ? -1 : 0;
done:
	free(s);
	json_decref(o);
	json_decref(h.unknown);
	json_decref(h.quality);
	json_decref(h.restricted);
	return rc;
}
