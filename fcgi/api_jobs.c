/*
 * api_jobs.c: the management API's calls on Meta's account side (issue
 * 13).  A responder never reaches the network, so each is checked here
 * as far as Meta's rules allow, then queued as an account job that
 * wa-worker carries to Meta (jobs.c); the answer is 202 with the job,
 * and GET /jobs/{id} tells how it ended.  Template creation and
 * deletion, the business profile of a number, and the jobs themselves.
 * A number (or a WABA, through its numbers) the key may not see answers
 * 404, like one that does not exist (api_may_see()).
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
#include "clock.h"
#include "db.h"
#include "notify.h"
#include "param.h"
#include "profile.h"
#include "req.h"
#include "tmpl.h"

#define TEMPLATE_BODY_MAX	(64 * 1024)
#define PROFILE_BODY_MAX	(8 * 1024)
#define ACCOUNTS_MAX		64	/* numbers with a WABA looked at */

static void	template_post(struct call *);
static void	template_delete(struct call *);
static void	profile_get(struct call *);
static void	profile_post(struct call *);
static void	job_get(struct call *);

/* DELETE /templates/{name}: which language, which account. */
static const struct param delete_p[] = {
	{ .name = "language", .type = PARAM_TEXT, .min = 2, .max = 15,
	  .field = offsetof(struct jobs_f, language) },
	API_NUMBER(struct jobs_f),
	{ .name = "waba_id", .type = PARAM_TEXT, .min = 1, .max = 20,
	  .field = offsetof(struct jobs_f, waba_id) },
	{ .name = NULL }
};

/* GET /numbers/{pnid}/profile */
static const struct param profile_p[] = {
	{ .name = "refresh", .type = PARAM_BOOL,
	  .field = offsetof(struct jobs_f, refresh) },
	{ .name = NULL }
};

static const struct param none_p[] = { { .name = NULL } };

const struct api_route api_jobs_routes[] = {
	{ "/templates", "POST", template_post, API_ADMIN, none_p, NULL },
	{ "/templates/{name}", "DELETE", template_delete, API_ADMIN, delete_p, NULL },
	{ "/numbers/{pnid}/profile", "GET", profile_get, API_VIEWER, profile_p, NULL },
	{ "/numbers/{pnid}/profile", "POST", profile_post, API_ADMIN, none_p, NULL },
	{ "/jobs/{id}", "GET", job_get, API_VIEWER, none_p, NULL },
	{ NULL, NULL, NULL, 0, NULL, NULL }
};

/* The active numbers with a WABA that the call may see. */
struct accounts {
	const struct call	*c;
	int			 n;
	char			 pnid[ACCOUNTS_MAX][32];
	char			 waba[ACCOUNTS_MAX][32];
};

static void
on_account(void *arg, const char *const *col)
{
	struct accounts *a = arg;

	if (a->n >= ACCOUNTS_MAX || !api_may_see(a->c, col[0]))
		return;
	(void)strlcpy(a->pnid[a->n], col[0], sizeof(a->pnid[0]));
	(void)strlcpy(a->waba[a->n], col[1], sizeof(a->waba[0]));
	a->n++;
}

static int
accounts_load(struct call *c, struct accounts *a)
{
	memset(a, 0, sizeof(*a));
	a->c = c;
	if (db_job_number_wabas(c->db, on_account, a) == -1) {
		api_db_trouble(c, "The database could not answer; try again.");
		return -1;
	}
	return 0;
}

static void
not_found(struct call *c, const char *msg)
{
	(void)req_error(c->r, 404, NULL, "not_found", msg);
}

/*
 * The WABA a template call is about, and the number whose token the job
 * takes: named by number (id or label) or waba_id, else the only WABA
 * the key covers (404 when there is none, like a WABA the key may not
 * see).  0, or -1 with the error sent.
 */
static int
account_pick(struct call *c, const char *number, const char *waba_id,
    char *pnid, char *waba)
{
	struct accounts		 a;
	struct db_number	 n;
	const char		*w = NULL;
	int			 i, k;

	if (accounts_load(c, &a) == -1)
		return -1;
	if (number != NULL) {
		if ((k = db_number_get(c->db, number, &n)) == -1) {
			api_db_trouble(c, "The database could not answer; "
			    "try again.");
			return -1;
		}
		if (k == 0 || n.removed_at != 0 || !api_may_see(c, n.pnid)) {
			not_found(c, "No number you may see has that id or "
			    "label.");
			return -1;
		}
		if (n.waba_id[0] == '\0') {
			api_fail_field(c, 422, "no_waba", "number", "That "
			    "number has no WABA on record; add it again with "
			    "wactl numbers add ID --waba WABA_ID.");
			return -1;
		}
		(void)strlcpy(pnid, n.pnid, 32);
		(void)strlcpy(waba, n.waba_id, 32);
		return 0;
	}
	for (i = 0; i < a.n; i++) {
		if (waba_id != NULL && strcmp(a.waba[i], waba_id) != 0)
			continue;
		if (w != NULL && strcmp(w, a.waba[i]) != 0) {
			api_fail_field(c, 422, "waba_required", "waba_id", "The "
			    "numbers you may see belong to several WABAs: say "
			    "which, with number or waba_id.");
			return -1;
		}
		if (w == NULL) {
			w = a.waba[i];
			(void)strlcpy(pnid, a.pnid[i], 32);
		}
	}
	if (w == NULL) {
		not_found(c, waba_id != NULL ? "No number you may see "
		    "belongs to that WABA." : "No number you may see has a "
		    "WABA on record; add one with wactl numbers add ID --waba "
		    "WABA_ID.");
		return -1;
	}
	(void)strlcpy(waba, w, 32);
	return 0;
}

/*
 * A job row as JSON: its result (stored JSON) as JSON.  NULL when the
 * job is not there; *n gets the row count (-1 error).
 */
static json_t *
job_json(struct call *c, int64_t id, int *n)
{
	json_t		*rows, *o, *r, *v;

	if ((rows = json_array()) == NULL) {
		*n = -1;
		return NULL;
	}
	if ((*n = db_job_get(c->db, id, api_on_row, rows)) != 1 ||
	    (o = json_array_get(rows, 0)) == NULL) {
		json_decref(rows);
		if (*n == 1)
			*n = -1;	/* out of memory building the row */
		return NULL;
	}
	if (json_is_string(r = json_object_get(o, "result")) &&
	    (v = json_loads(json_string_value(r), 0, NULL)) != NULL)
		(void)json_object_set_new(o, "result", v);
	api_label(c, o);
	json_incref(o);
	json_decref(rows);
	return o;
}

/* Queues a job and wakes the worker: its id, or -1 with the error sent. */
static int64_t
job_add(struct call *c, const char *pnid, const char *waba,
    const char *kind, const json_t *body)
{
	char	*s = NULL;
	int64_t	 id;

	if (body != NULL && (s = json_dumps(body, JSON_COMPACT)) == NULL) {
		(void)req_error(c->r, 503, NULL, "unavailable", "Out of memory.");
		return -1;
	}
	id = db_job_insert(c->db, pnid, waba, kind, s, clock_now_ms());
	free(s);
	if (id < 0) {
		api_db_trouble(c, "The job could not be queued; try again.");
		return -1;
	}
	notify_send(c->wake, c->cfg->wake_path);
	return id;
}

/* Queues a job and answers 202 {"job": {...}}. */
static void
queue_job(struct call *c, const char *pnid, const char *waba,
    const char *kind, const json_t *body)
{
	int64_t	 id;
	int	 n;
	json_t	*o;

	if ((id = job_add(c, pnid, waba, kind, body)) < 0)
		return;
	if ((o = job_json(c, id, &n)) == NULL) {
		api_reply_json(c, 202, json_pack("{s:{s:I, s:s, s:s}}", "job",
		    "id", (json_int_t)id, "kind", kind, "state", "queued"));
		return;
	}
	api_reply_json(c, 202, json_pack("{s:o}", "job", o));
}

/*
 * POST /templates: Meta's creation body (name, language, category,
 * parameter_format, components), plus number or waba_id naming the
 * account.  422 invalid_template naming the component and field Meta's
 * rules refuse (tmpl_check_create), 409 template_exists when the WABA
 * has that name and language already, 404 for a number the key may not
 * see, 202 with the template_create job.
 */
static void
template_post(struct call *c)
{
	struct tmpl_err		 err;
	struct db_template	 t;
	json_t			*b, *num, *wid;
	const char		*name, *lang;
	char			 pnid[32], waba[32];
	int			 k;

	if ((b = api_json_body(c, TEMPLATE_BODY_MAX)) == NULL)
		return;
	num = json_object_get(b, "number");
	wid = json_object_get(b, "waba_id");
	if ((num != NULL && !json_is_string(num)) || (wid != NULL &&
	    !json_is_string(wid))) {
		api_fail_field(c, 422, "bad_type", num != NULL &&
		    !json_is_string(num) ? "number" : "waba_id", "number and "
		    "waba_id are strings: a number's id or label, a WABA id.");
		goto done;
	}
	if (account_pick(c, json_string_value(num), json_string_value(wid),
	    pnid, waba) == -1)
		goto done;
	(void)json_object_del(b, "number");
	(void)json_object_del(b, "waba_id");
	memset(&err, 0, sizeof(err));
	if (tmpl_check_create(b, &err) == -1) {
		api_reply_json(c, 422, json_pack("{s:{s:s, s:s, s:s, s:s}}",
		    "error", "code", "invalid_template", "message",
		    err.message[0] ? err.message : "Meta would refuse this "
		    "template.", "field", err.field, "component",
		    err.component));
		goto done;
	}
	name = json_string_value(json_object_get(b, "name"));
	lang = json_string_value(json_object_get(b, "language"));
	if (name == NULL || lang == NULL) {
		api_fail_field(c, 422, "required", name == NULL ? "name" :
		    "language", "A template needs a name and a language.");
		goto done;
	}
	memset(&t, 0, sizeof(t));
	k = db_template_get(c->db, waba, name, lang, &t);
	db_template_clear(&t);
	if (k == -1) {
		api_db_trouble(c, "The database could not answer; try again.");
		goto done;
	}
	if (k == 1) {
		api_fail_field(c, 409, "template_exists", "name", "The WABA has "
		    "a template of that name in that language already; delete "
		    "it first or choose another name.");
		goto done;
	}
	queue_job(c, pnid, waba, "template_create", b);
done:
	json_decref(b);
}

/* Counts template rows (db_template_list()). */
static void
on_template(void *arg, int nc, const char *const *names,
    const struct db_val *v)
{
	(void)nc;
	(void)names;
	(void)v;
	(*(int *)arg)++;
}

/*
 * DELETE /templates/{name}[?language=&number=&waba_id=]: every language
 * of it, or one, of the WABA of the numbers the call covers (number=
 * narrows them) or waba_id.  404 when the WABA has no such template here, 202 with
 * the template_delete job.
 */
static void
template_delete(struct call *c)
{
	const struct jobs_f		*q = &c->q.jobs;
	struct db_template_filter	 f;
	const char			*wabas[1];
	char				 pnid[32], waba[32];
	int				 rows = 0, n;
	json_t				*b;

	if (q->language.set && strspn(q->language.s, "abcdefghijklmnopqrstuv"
	    "wxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_") != q->language.len) {
		api_fail_field(c, 400, "bad_parameter", "language", "language "
		    "is a language code such as en_US.");
		return;
	}
	/* number= narrows the call's numbers (api.c), so the WABA with them. */
	if (account_pick(c, NULL, q->waba_id.set ? q->waba_id.s : NULL, pnid,
	    waba) == -1)
		return;
	memset(&f, 0, sizeof(f));
	wabas[0] = waba;
	f.wabas = wabas;
	f.nwabas = 1;
	f.name = c->seg;
	f.language = q->language.set ? q->language.s : NULL;
	f.limit = 1;
	if ((n = db_template_list(c->db, &f, on_template, &rows)) == -1) {
		api_db_trouble(c, "The database could not answer; try again.");
		return;
	}
	if (rows == 0) {
		not_found(c, "The WABA has no template of that name (in that "
		    "language) here; wactl templates sync brings Meta's.");
		return;
	}
	if ((b = json_pack("{s:s}", "name", c->seg)) == NULL ||
	    (q->language.set && json_object_set_new(b, "language",
	    json_string(q->language.s)) == -1)) {
		json_decref(b);
		(void)req_error(c->r, 503, NULL, "unavailable", "Out of memory.");
		return;
	}
	queue_job(c, pnid, waba, "template_delete", b);
	json_decref(b);
}

/* The active number {pnid} names, when the key may see it; else 404. */
static int
number_seen(struct call *c)
{
	struct db_number	 n;
	int			 k;

	if ((k = db_number_get(c->db, c->seg, &n)) == -1) {
		api_db_trouble(c, "The database could not answer; try again.");
		return 0;
	}
	if (k == 0 || strcmp(n.pnid, c->seg) != 0 || n.removed_at != 0 ||
	    !api_may_see(c, n.pnid)) {
		not_found(c, "No number you may see has that id.");
		return 0;
	}
	return 1;
}

/*
 * GET /numbers/{pnid}/profile: the business profile as Meta last gave
 * it (profile null and profile_at null before the first fetch), 200;
 * ?refresh=true also queues a profile_get, the answer's job (a GET
 * answers 200 like every other; follow the job with GET /jobs/{id}).
 */
static void
profile_get(struct call *c)
{
	json_t	*rows, *o, *p, *v, *job = NULL;
	int64_t	 id;
	int	 n, k;

	if (!number_seen(c))
		return;
	if (c->q.jobs.refresh.set && c->q.jobs.refresh.i) {
		if ((id = job_add(c, c->seg, NULL, "profile_get", NULL)) < 0)
			return;
		job = job_json(c, id, &k);
	}
	if ((rows = json_array()) == NULL) {
		json_decref(job);
		(void)req_error(c->r, 503, NULL, "unavailable", "Out of memory.");
		return;
	}
	n = db_job_profile_get(c->db, c->seg, api_on_row, rows);
	if (n == 1 && (o = json_array_get(rows, 0)) != NULL) {
		if (json_is_string(p = json_object_get(o, "profile")) &&
		    (v = json_loads(json_string_value(p), 0, NULL)) != NULL)
			(void)json_object_set_new(o, "profile", v);
		if (job != NULL)
			(void)json_object_set_new(o, "job", job);
		job = NULL;
	}
	json_decref(job);
	c->id = 0;
	api_one(c, n, rows, "number");
}

/*
 * POST /numbers/{pnid}/profile {about, address, description, email,
 * websites, vertical}: checked against Meta's limits first (422
 * invalid_profile naming the field), then 202 with the profile_set job
 * (which reads the profile back once Meta took it).
 */
static void
profile_post(struct call *c)
{
	struct profile_err	 err;
	json_t			*b;

	if (!number_seen(c))
		return;
	if ((b = api_json_body(c, PROFILE_BODY_MAX)) == NULL)
		return;
	if (profile_check(b, &err) == -1)
		api_fail_field(c, 422, "invalid_profile", err.field,
		    err.message);
	else
		queue_job(c, c->seg, NULL, "profile_set", b);
	json_decref(b);
}

/* 1 when the call may see the job: its number, else a number of its WABA. */
static int
job_seen(struct call *c, const json_t *o)
{
	struct accounts	 a;
	const char	*pnid = json_string_value(json_object_get(o,
			    "phone_number_id"));
	const char	*waba = json_string_value(json_object_get(o,
			    "waba_id"));
	int		 i;

	if (pnid != NULL)
		return api_may_see(c, pnid);
	if (waba == NULL)
		return 0;
	if (accounts_load(c, &a) == -1)
		return -1;
	for (i = 0; i < a.n; i++)
		if (strcmp(a.waba[i], waba) == 0)
			return 1;
	return 0;
}

/*
 * GET /jobs/{id}: the job (kind, number, WABA, state queued, running,
 * done or failed, attempts, next_attempt_at, Meta's result as JSON,
 * error_code and error_title, created_at, finished_at; times in unix
 * ms).  404 when there is none the key may see.
 */
static void
job_get(struct call *c)
{
	json_t	*o;
	int	 n, seen;

	if ((o = job_json(c, c->id, &n)) == NULL) {
		if (n == 0)
			not_found(c, "No job has that id.");
		else
			api_db_trouble(c, "The database could not answer; "
			    "try again.");
		return;
	}
	if ((seen = job_seen(c, o)) != 1) {
		json_decref(o);
		if (seen == 0)
			not_found(c, "No job has that id.");
		return;		/* -1: the error was sent */
	}
	api_reply_json(c, 200, o);
}
