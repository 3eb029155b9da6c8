/*
 * api_alerts.c: alerts in the management API (issue 16): GET /alerts,
 * what the worker raised (a person sees the ones for them and, as an
 * admin, the gateway's), and resolving one (POST /alerts/{id}/resolve:
 * an admin, or the person it is for).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "api_int.h"
#include "db.h"
#include "param.h"
#include "req.h"

/* GET /alerts's query (in struct call's q, which is larger). */
struct alerts_f {
	struct param_val	 state, limit, cursor;
};

_Static_assert(sizeof(struct alerts_f) <= sizeof(((struct call *)0)->q),
    "struct alerts_f must fit struct call's q");

static void	alerts_get(struct call *);
static void	alert_resolve(struct call *);

static const char *const alert_states[] = { "open", "resolved", NULL };

static const struct param alerts_p[] = {
	{ .name = "state", .type = PARAM_ENUM, .words = alert_states,
	  .field = offsetof(struct alerts_f, state) },
	API_LIMIT(struct alerts_f),
	API_CURSOR(struct alerts_f),
	{ .name = NULL }
};

static const struct param none_p[] = { { .name = NULL } };

const struct api_route api_alerts_routes[] = {
	{ "/alerts", "GET", alerts_get, API_VIEWER, alerts_p, NULL },
	{ "/alerts/{id}/resolve", "POST", alert_resolve, API_VIEWER, none_p,
	  NULL },
	{ NULL, NULL, NULL, API_VIEWER, NULL, NULL }
};

/* Each row's detail (stored JSON) as JSON. */
static void
details(json_t *rows)
{
	json_t		*r, *d, *j;
	size_t		 i;

	json_array_foreach(rows, i, r) {
		d = json_object_get(r, "detail");
		if (json_is_string(d) && (j = json_loads(json_string_value(d), 0,
		    NULL)) != NULL)
			(void)json_object_set_new(r, "detail", j);
	}
}

static void
alerts_get(struct call *c)
{
	const struct alerts_f	*q = (const struct alerts_f *)(void *)&c->q;
	json_t			*rows;
	int			 n;

	if ((rows = json_array()) == NULL) {
		(void)req_error(c->r, 503, NULL, "unavailable",
		    "Out of memory.");
		return;
	}
	n = db_alert_list(c->db, q->state.set ? q->state.s : NULL, c->user_id,
	    c->role >= API_ADMIN, q->limit.i, q->cursor.set ? q->cursor.i : 0,
	    api_on_row, rows);
	if (n >= 0)
		details(rows);
	api_page(c, rows, n, (int)q->limit.i);
}

static void
alert_resolve(struct call *c)
{
	json_t	*rows;
	int	 n;

	n = db_alert_resolve(c->db, c->id, c->user_id, c->role >= API_ADMIN,
	    (int64_t)time(NULL));
	if (n < 0) {
		api_db_trouble(c, "The alert could not be resolved; try again.");
		return;
	}
	if ((rows = json_array()) == NULL) {
		(void)req_error(c->r, 503, NULL, "unavailable",
		    "Out of memory.");
		return;
	}
	if (db_alert_list(c->db, NULL, c->user_id, c->role >= API_ADMIN, 1,
	    c->id + 1, api_on_row, rows) < 0) {
		json_decref(rows);
		api_db_trouble(c, "The alert could not be read; try again.");
		return;
	}
	if (json_array_size(rows) != 1 || json_integer_value(json_object_get(
	    json_array_get(rows, 0), "id")) != c->id) {
		json_decref(rows);
		(void)req_error(c->r, 404, NULL, "not_found", "No such alert "
		    "for you: it may be another person's.");
		return;
	}
	details(rows);
	api_reply_json(c, 200, json_incref(json_array_get(rows, 0)));
	json_decref(rows);
}
