/*
 * api_templates.c: the management API's message templates: GET
 * /templates and GET /templates/{name} from the templates table (as the
 * last sync and the template webhooks left it), and the check of POST
 * /send-template against the stored template (api_template_check()).
 * A call sees the templates of the WABAs of the numbers it covers
 * (api_may_see()); nothing of another WABA, not even that it exists.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/string.h>
#include <jansson.h>

#include "api_int.h"
#include "cfg.h"
#include "db.h"
#include "log.h"
#include "req.h"
#include "tmpl.h"

#define COVER_MAX	256	/* numbers one call may cover */

static const char *const tmpl_status_words[] = { "APPROVED", "PENDING",
	"REJECTED", "PAUSED", "DISABLED", "IN_APPEAL", "PENDING_DELETION",
	"DELETED", "ARCHIVED", "FLAGGED", "LIMIT_EXCEEDED", "LOCKED", NULL };
static const char *const tmpl_category_words[] = { "MARKETING", "UTILITY",
	"AUTHENTICATION", NULL };

static const struct param templates_p[] = {
	API_NUMBER(struct templates_f),
	{ .name = "name", .type = PARAM_TEXT, .min = 1, .max = 512,
	  .field = offsetof(struct templates_f, name) },
	{ .name = "language", .type = PARAM_TEXT, .min = 2, .max = 15,
	  .field = offsetof(struct templates_f, language) },
	{ .name = "status", .type = PARAM_ENUM, .words = tmpl_status_words,
	  .field = offsetof(struct templates_f, status) },
	{ .name = "category", .type = PARAM_ENUM,
	  .words = tmpl_category_words,
	  .field = offsetof(struct templates_f, category) },
	API_LIMIT(struct templates_f),
	API_CURSOR(struct templates_f),
	{ .name = NULL }
};

/* GET /templates/{name} takes none: the name is the filter. */
static const struct param templates_name_p[] = { { .name = NULL } };

/* The numbers a call covers, and their WABAs once each. */
struct cover {
	const struct call	*c;
	int			 n, nwabas;
	char			 pnid[COVER_MAX][32];
	char			 label[COVER_MAX][33];
	char			 waba[COVER_MAX][32];
	const char		*wabas[COVER_MAX];
};

static void
on_number(void *arg, const char *const *col)
{
	struct cover	*v = arg;
	int		 i;

	if (v->n == COVER_MAX || col[2][0] == '\0' ||
	    !api_may_see(v->c, col[0]))
		return;
	(void)strlcpy(v->pnid[v->n], col[0], sizeof(v->pnid[0]));
	(void)strlcpy(v->label[v->n], col[1], sizeof(v->label[0]));
	(void)strlcpy(v->waba[v->n], col[2], sizeof(v->waba[0]));
	for (i = 0; i < v->nwabas; i++)
		if (strcmp(v->wabas[i], v->waba[v->n]) == 0)
			break;
	if (i == v->nwabas)
		v->wabas[v->nwabas++] = v->waba[v->n];
	v->n++;
}

/* Fills v for c; 0, or -1 with the 503 sent. */
static int
cover(struct call *c, struct cover *v)
{
	memset(v, 0, sizeof(*v));
	v->c = c;
	if (db_template_numbers(c->db, on_number, v) == -1) {
		api_db_trouble(c, "The database could not answer; try again.");
		return -1;
	}
	return 0;
}

/* The rows being built, with the numbers that can send each. */
struct rows {
	json_t			*a;
	const struct cover	*v;
};

/* A row as api_on_row() makes it, components as JSON, and its numbers. */
static void
on_template(void *arg, int nc, const char *const *names,
    const struct db_val *vals)
{
	struct rows	*r = arg;
	json_t		*o, *x, *nums;
	const char	*waba;
	size_t		 before = json_array_size(r->a);
	int		 i;

	api_on_row(r->a, nc, names, vals);
	if (json_array_size(r->a) == before)
		return;
	o = json_array_get(r->a, before);
	x = json_object_get(o, "components");
	if (json_is_string(x) && (x = json_loads(json_string_value(x), 0,
	    NULL)) != NULL)
		(void)json_object_set_new(o, "components", x);
	if ((nums = json_array()) == NULL)
		return;
	waba = json_string_value(json_object_get(o, "waba_id"));
	for (i = 0; waba != NULL && i < r->v->n; i++)
		if (strcmp(r->v->waba[i], waba) == 0)
			(void)json_array_append_new(nums,
			    json_string(r->v->label[i]));
	(void)json_object_set_new(o, "numbers", nums);
}

/*
 * What both GETs start with: the numbers the call covers (returned, the
 * caller frees it), an empty row array in r, f limited to their WABAs.
 * NULL with the answer sent.
 */
static struct cover *
lookup_start(struct call *c, struct rows *r,
    struct db_template_filter *f)
{
	struct cover *v;

	if ((v = malloc(sizeof(*v))) == NULL ||
	    (r->a = json_array()) == NULL) {
		free(v);
		(void)req_error(c->r, 503, NULL, "unavailable", "Out of memory.");
		return NULL;
	}
	if (cover(c, v) == -1) {
		json_decref(r->a);
		free(v);
		return NULL;
	}
	r->v = v;
	memset(f, 0, sizeof(*f));
	f->wabas = v->wabas;
	f->nwabas = v->nwabas;
	return v;
}

/*
 * GET /templates: the templates of the WABAs of the numbers the call
 * covers, by id; filters number, name, language, status, category;
 * limit, cursor.  200 with a page; 400 for a bad filter; 503.
 */
static void
templates_list(struct call *c)
{
	const struct templates_f	*q = &c->q.templates;
	struct db_template_filter	 f;
	struct cover			*v;
	struct rows			 r;

	if ((v = lookup_start(c, &r, &f)) == NULL)
		return;
	f.name = q->name.set ? q->name.s : NULL;
	f.language = q->language.set ? q->language.s : NULL;
	f.status = q->status.set ? q->status.s : NULL;
	f.category = q->category.set ? q->category.s : NULL;
	f.cursor = q->cursor.set ? q->cursor.i : 0;
	f.limit = (int)q->limit.i;
	api_page(c, r.a, db_template_list(c->db, &f, on_template, &r),
	    f.limit);
	free(v);
}

/*
 * GET /templates/{name}: every language of the template name in the
 * WABAs the call covers.  200 {"data": [...]}; 404 when none (of
 * another WABA looks the same as none at all); 503.
 */
static void
template_get(struct call *c)
{
	struct db_template_filter	 f;
	struct cover			*v;
	struct rows			 r;
	char				 msg[600];
	int				 n;

	if ((v = lookup_start(c, &r, &f)) == NULL)
		return;
	f.name = c->seg;
	f.limit = API_LIMIT_MAX;
	n = db_template_list(c->db, &f, on_template, &r);
	free(v);
	if (n < 0) {
		json_decref(r.a);
		api_db_trouble(c, "The database could not answer; try again.");
	} else if (n == 0) {
		json_decref(r.a);
		(void)snprintf(msg, sizeof(msg), "No template is named %s "
		    "(wactl templates sync fetches Meta's list).", c->seg);
		(void)req_error(c->r, 404, NULL, "not_found", msg);
	} else
		api_reply_json(c, 200, json_pack("{s:o}", "data", r.a));
}

const struct api_route api_templates_routes[] = {
	{ "/templates", "GET", templates_list, API_VIEWER, templates_p, NULL },
	{ "/templates/{name}", "GET", template_get, API_VIEWER, templates_name_p,
	  NULL },
	{ NULL, NULL, NULL, 0, NULL, NULL }
};

/*
 * POST /send-template's check against the stored template: name and
 * language of the WABA of the sending number pnid.  Unknown here: left
 * to Meta (its answer comes back on the outbox row).  Not APPROVED: 422
 * template_not_approved.  Wrong parameter count for a component: 422
 * template_parameters naming it, expected and given.  0 to go on, or -1
 * with the answer sent.
 */
int
api_template_check(struct call *c, const char *pnid, const char *name,
    const char *language, const json_t *components)
{
	struct db_number	 n;
	struct db_template	 t;
	struct tmpl_want	 w;
	struct tmpl_err		 e;
	json_t			*stored = NULL;
	char			 msg[512];
	int			 rc;

	if (pnid == NULL || name == NULL || language == NULL)
		return 0;	/* msg.c refuses what is missing */
	if ((rc = db_number_get(c->db, pnid, &n)) == -1) {
		api_db_trouble(c, "The template could not be checked; try "
		    "again.");
		return -1;
	}
	if (rc == 0 || n.waba_id[0] == '\0') {
		log_info("send-template: number %s has no WABA known, so "
		    "template %.64s (%.15s) is left to Meta's check", pnid,
		    name, language);
		return 0;
	}
	if ((rc = db_template_get(c->db, n.waba_id, name, language,
	    &t)) == -1) {
		api_db_trouble(c, "The template could not be checked; try "
		    "again.");
		return -1;
	}
	if (rc == 0) {
		log_info("send-template: template %.64s (%.15s) is unknown in "
		    "WABA %s here; left to Meta's check (wactl templates "
		    "sync)", name, language, n.waba_id);
		return 0;
	}
	rc = 0;
	if (strcmp(t.status, "APPROVED") != 0) {
		(void)snprintf(msg, sizeof(msg), "Template %.64s (%s) is %s at "
		    "Meta, not APPROVED; it cannot be sent until Meta approves "
		    "it.", t.name, t.language, t.status);
		api_fail_field(c, 422, "template_not_approved", "name", msg);
		rc = -1;
	} else if ((stored = json_loads(t.components != NULL ? t.components :
	    "[]", 0, NULL)) == NULL || tmpl_want(stored, &w) == -1)
		log_warnx("send-template: template %.64s (%s) of WABA %s is "
		    "stored without usable components; left to Meta's check",
		    t.name, t.language, t.waba);
	else if (tmpl_check_send(&w, components, &e) == -1) {
		(void)snprintf(msg, sizeof(msg), "Template %.64s (%s): %s",
		    t.name, t.language, e.message);
		api_fail_field(c, 422, "template_parameters", "components",
		    msg);
		rc = -1;
	}
	json_decref(stored);
	db_template_clear(&t);
	return rc;
}
