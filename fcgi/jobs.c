/*
 * jobs.c: wa-worker's runner of account jobs (issue 13).  The API cannot
 * reach Meta (a responder never calls out), so template creation and
 * deletion, template syncs and the business profile are rows of
 * account_jobs; this runs them one at a time, each a blocking Graph call
 * (wa_request()) with the token of the job's number (a WABA-wide job
 * takes that of the WABA's oldest active number), bounded by
 * WA_SEND_TIMEOUT_MS, and writes Meta's answer back on the row.
 *
 * The call stalls the worker's loop (the journal's apply, the sender)
 * for as long as it takes: at most WA_SEND_TIMEOUT_MS, a template sync
 * that per page.  Account calls are rare (a person's click, an hourly
 * sync), so this is accepted rather than threading them through the
 * sender's multi handle; worker.c runs a job only while no send is in
 * flight, so that a stall never runs a send's timeout down.
 *
 * Transient failures (no answer, HTTP 5xx, 429, throttling codes 4,
 * 80007, 130429 and Meta's transient codes) are tried again with
 * backoff, up to JOBS_MAX_ATTEMPTS; Meta's refusals fail at once with
 * Meta's code and message.  Tokens go only to WHATSAPP_GRAPH_URL (DESIGN
 * rule 9): every URL here is that base, the version and a path built
 * from ids the API checked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/stdlib.h>
#include <bsd/string.h>
#include <jansson.h>

#include "buf.h"
#include "cfg.h"
#include "clock.h"
#include "db.h"
#include "jobs.h"
#include "log.h"
#include "templates.h"
#include "wa.h"

#define PROFILE_FIELDS	"about,address,description,email," \
			"profile_picture_url,websites,vertical"
#define BACKOFF_MS	1000	/* first wait after a transient failure */
#define BACKOFF_MAX_MS	60000
#define SCHED_MAX_MS	60000	/* the sync schedule is looked at this often */
#define WABAS_MAX	256	/* WABAs synced on schedule at most */
#define TITLE_MAX	400	/* bytes of Meta's message kept */

struct jobs {
	struct db		*db;
	const struct cfg	*cfg;
	int64_t			 started_ms;	/* the first sync's base */
	int64_t			 sched_at;	/* next look at the schedule */
};

/* What one Graph call came to. */
enum outcome {
	OUT_OK,		/* 2xx: answer holds Meta's JSON */
	OUT_RETRY,	/* transient: try again later */
	OUT_FAIL,	/* Meta refused it, or it cannot work: give up */
	OUT__MAX
};

struct answer {
	long		 http;
	json_t		*json;			/* Meta's reply, or NULL */
	int64_t		 code;			/* Meta's error code, 0 none */
	char		 title[TITLE_MAX];	/* why it failed */
};

/* Returns the runner (caller frees with jobs_free()) or NULL. */
struct jobs *
jobs_new(struct db *d, const struct cfg *cfg)
{
	struct jobs	*j;
	int		 n;

	if ((j = calloc(1, sizeof(*j))) == NULL)
		return NULL;
	j->db = d;
	j->cfg = cfg;
	j->started_ms = clock_now_ms();
	j->sched_at = j->started_ms;
	if ((n = db_job_recover(d)) > 0)
		log_info("account jobs: %d left running by the last worker "
		    "queued again", n);
	return j;
}

void
jobs_free(struct jobs *j)
{
	free(j);
}

static void
answer_clear(struct answer *a)
{
	json_decref(a->json);
	memset(a, 0, sizeof(*a));
}

/* Meta's codes that mean "later", not "no" (reference 8.2). */
static int
transient_code(int64_t code)
{
	switch (code) {
	case 1: case 2: case 4: case 80007: case 130429: case 131000:
	case 131016: case 131057: case 133004:
		return 1;
	default:
		return 0;
	}
}

/*
 * One blocking call: method to graph_url/version + path with token and
 * json (or NULL).  Fills a; returns what it came to.
 */
static enum outcome
graph(struct jobs *j, const char *method, const char *path,
    const char *json, const char *token, struct answer *a)
{
	const struct cfg	*cfg = j->cfg;
	struct buf		 out;
	json_t			*e, *m;
	char			 url[2048], err[512];
	int			 n;

	memset(a, 0, sizeof(*a));
	buf_init(&out);
	n = snprintf(url, sizeof(url), "%s/%s%s", cfg->graph_url,
	    cfg->api_version, path);
	if (n < 0 || (size_t)n >= sizeof(url)) {
		(void)strlcpy(a->title, "The Graph URL is too long.",
		    sizeof(a->title));
		return OUT_FAIL;
	}
	if (wa_request(method, url, token, json, cfg->send_timeout_ms,
	    &a->http, &out, err, sizeof(err)) == -1) {
		(void)snprintf(a->title, sizeof(a->title), "No answer from "
		    "the Graph API: %.300s", err);
		buf_clear(&out);
		return OUT_RETRY;
	}
	a->json = json_loadb(out.p != NULL ? out.p : "", out.len, 0, NULL);
	buf_clear(&out);
	if (a->http >= 200 && a->http <= 299 && json_is_object(a->json))
		return OUT_OK;
	if ((e = json_object_get(a->json, "error")) != NULL) {
		a->code = json_integer_value(json_object_get(e, "code"));
		m = json_object_get(e, "error_user_msg");
		if (!json_is_string(m))
			m = json_object_get(e, "message");
		(void)snprintf(a->title, sizeof(a->title), "%s",
		    json_is_string(m) ? json_string_value(m) : "Meta refused "
		    "the call without a message.");
	} else
		(void)snprintf(a->title, sizeof(a->title), "The Graph API "
		    "answered HTTP %ld without Meta's error.", a->http);
	if (a->http >= 500 || a->http == 429 || transient_code(a->code))
		return OUT_RETRY;
	return OUT_FAIL;
}

/* The token of a job: its number's, else its WABA's; NULL with why. */
static const char *
job_token(struct jobs *j, const struct db_job *job, struct answer *a)
{
	struct db_number	 n;
	char			 env[128];
	const char		*t;
	int			 k;

	if (job->pnid[0] != '\0') {
		if ((k = db_number_get(j->db, job->pnid, &n)) == 1 &&
		    n.removed_at == 0 && strcmp(n.pnid, job->pnid) == 0)
			(void)strlcpy(env, n.token_env, sizeof(env));
		else {
			(void)snprintf(a->title, sizeof(a->title), "%s",
			    k == -1 ? "The database could not answer." :
			    "The number is not (or no longer) served here.");
			return NULL;
		}
	} else if ((k = db_job_waba_token(j->db, job->waba, env,
	    sizeof(env))) != 1) {
		(void)snprintf(a->title, sizeof(a->title), "%s", k == -1 ?
		    "The database could not answer." : "No active number of "
		    "this WABA names a token.");
		return NULL;
	}
	if ((t = cfg_token(j->cfg, env)) == NULL)
		(void)snprintf(a->title, sizeof(a->title), "%s is not set "
		    "for wa-worker.", env);
	return t;
}

/* GETs pnid's profile and stores it; OUT_OK with a->json its object. */
static enum outcome
profile_fetch(struct jobs *j, const char *pnid, const char *token,
    struct answer *a)
{
	json_t		*p;
	char		 path[128], *s;
	enum outcome	 rc;
	int		 n;

	n = snprintf(path, sizeof(path), "/%s/whatsapp_business_profile"
	    "?fields=" PROFILE_FIELDS, pnid);
	if (n < 0 || (size_t)n >= sizeof(path))
		return OUT_FAIL;
	if ((rc = graph(j, "GET", path, NULL, token, a)) != OUT_OK)
		return rc;
	p = json_array_get(json_object_get(a->json, "data"), 0);
	if (!json_is_object(p)) {
		(void)strlcpy(a->title, "Meta's answer held no profile.",
		    sizeof(a->title));
		return OUT_FAIL;
	}
	json_incref(p);
	json_decref(a->json);
	a->json = p;
	if ((s = json_dumps(p, JSON_COMPACT)) == NULL ||
	    db_job_profile_set(j->db, pnid, s, clock_now_ms() / 1000) == -1) {
		free(s);
		(void)strlcpy(a->title, "The profile could not be stored.",
		    sizeof(a->title));
		return OUT_RETRY;
	}
	free(s);
	return OUT_OK;
}

/* POSTs the update in body to pnid's profile, then fetches it. */
static enum outcome
profile_update(struct jobs *j, const struct db_job *job, const char *token,
    struct answer *a)
{
	json_t		*b;
	char		 path[96], *s = NULL;
	enum outcome	 rc;
	int		 n;

	b = json_loads(job->body != NULL ? job->body : "", 0, NULL);
	n = snprintf(path, sizeof(path), "/%s/whatsapp_business_profile",
	    job->pnid);
	if (!json_is_object(b) || n < 0 || (size_t)n >= sizeof(path) ||
	    json_object_set_new(b, "messaging_product",
	    json_string("whatsapp")) == -1 ||
	    (s = json_dumps(b, JSON_COMPACT)) == NULL) {
		json_decref(b);
		(void)strlcpy(a->title, "The job's body is not a profile.",
		    sizeof(a->title));
		return OUT_FAIL;
	}
	json_decref(b);
	rc = graph(j, "POST", path, s, token, a);
	free(s);
	if (rc != OUT_OK)
		return rc;
	answer_clear(a);
	/* Set: what Meta holds now is the answer (a failed read is told). */
	if ((rc = profile_fetch(j, job->pnid, token, a)) != OUT_OK) {
		if (db_job_insert(j->db, job->pnid, NULL, "profile_get", NULL,
		    clock_now_ms()) == -1)
			log_warnx("account jobs: %s: cannot queue the profile's "
			    "read", job->pnid);
		answer_clear(a);
		a->json = json_pack("{s:b, s:s}", "success", 1, "profile",
		    "Meta took the update; reading it back failed and is "
		    "queued.");
	}
	return OUT_OK;
}

/* template_create: POST Meta's body, then keep the row as Meta has it. */
static enum outcome
template_create(struct jobs *j, const struct db_job *job, const char *token,
    struct answer *a)
{
	struct db_template	 t;
	json_t			*b;
	char			 path[96];
	enum outcome		 rc;
	int			 n;

	n = snprintf(path, sizeof(path), "/%s/message_templates", job->waba);
	b = json_loads(job->body != NULL ? job->body : "", 0, NULL);
	if (n < 0 || (size_t)n >= sizeof(path) || !json_is_object(b)) {
		json_decref(b);
		(void)strlcpy(a->title, "The job's body is not a template.",
		    sizeof(a->title));
		return OUT_FAIL;
	}
	if ((rc = graph(j, "POST", path, job->body, token, a)) != OUT_OK) {
		json_decref(b);
		return rc;
	}
	memset(&t, 0, sizeof(t));
	(void)strlcpy(t.waba, job->waba, sizeof(t.waba));
	(void)strlcpy(t.template_id, json_string_value(json_object_get(
	    a->json, "id")) != NULL ? json_string_value(json_object_get(
	    a->json, "id")) : "", sizeof(t.template_id));
	(void)strlcpy(t.name, json_string_value(json_object_get(b, "name")) ?
	    json_string_value(json_object_get(b, "name")) : "",
	    sizeof(t.name));
	(void)strlcpy(t.language, json_string_value(json_object_get(b,
	    "language")) ? json_string_value(json_object_get(b,
	    "language")) : "", sizeof(t.language));
	(void)strlcpy(t.status, json_string_value(json_object_get(a->json,
	    "status")) ? json_string_value(json_object_get(a->json,
	    "status")) : "PENDING", sizeof(t.status));
	(void)strlcpy(t.category, json_string_value(json_object_get(a->json,
	    "category")) ? json_string_value(json_object_get(a->json,
	    "category")) : json_string_value(json_object_get(b, "category")) ?
	    json_string_value(json_object_get(b, "category")) : "",
	    sizeof(t.category));
	t.components = json_dumps(json_object_get(b, "components") != NULL ?
	    json_object_get(b, "components") : json_array(), JSON_COMPACT);
	if (t.components == NULL ||
	    db_template_upsert(j->db, &t, clock_now_ms() / 1000) == -1)
		/* Meta has it: the next sync brings the row. */
		log_warnx("account jobs: template %s/%s created at Meta but "
		    "not stored here; the next sync adds it", t.name,
		    t.language);
	free(t.components);
	json_decref(b);
	return OUT_OK;
}

/* template_delete: {name, language?}; one language by its hsm_id. */
static enum outcome
template_delete(struct jobs *j, const struct db_job *job, const char *token,
    struct answer *a)
{
	struct db_template	 t;
	json_t			*b;
	const char		*name, *lang;
	char			 path[1200];
	enum outcome		 rc;
	int			 n;

	memset(&t, 0, sizeof(t));
	b = json_loads(job->body != NULL ? job->body : "", 0, NULL);
	name = json_string_value(json_object_get(b, "name"));
	lang = json_string_value(json_object_get(b, "language"));
	/* The API checked name (a-z, 0-9, _); it goes in the URL as is. */
	if (name == NULL || strspn(name, "abcdefghijklmnopqrstuvwxyz"
	    "0123456789_") != strlen(name) || *name == '\0') {
		json_decref(b);
		(void)strlcpy(a->title, "The job names no template.",
		    sizeof(a->title));
		return OUT_FAIL;
	}
	/*
	 * One language goes by Meta's id of it (hsm_id); by name alone Meta
	 * deletes every language, which was not asked for.
	 */
	if (lang != NULL && (db_template_get(j->db, job->waba, name, lang,
	    &t) != 1 || t.template_id[0] == '\0' || strspn(t.template_id,
	    "0123456789") != strlen(t.template_id))) {
		db_template_clear(&t);
		json_decref(b);
		(void)strlcpy(a->title, "Meta's id of that language is not "
		    "known here (wactl templates sync brings it); nothing was "
		    "deleted.", sizeof(a->title));
		return OUT_FAIL;
	}
	if (lang != NULL)
		n = snprintf(path, sizeof(path), "/%s/message_templates?"
		    "name=%s&hsm_id=%s", job->waba, name, t.template_id);
	else
		n = snprintf(path, sizeof(path), "/%s/message_templates?"
		    "name=%s", job->waba, name);
	db_template_clear(&t);
	if (n < 0 || (size_t)n >= sizeof(path))
		rc = OUT_FAIL;
	else if ((rc = graph(j, "DELETE", path, NULL, token, a)) == OUT_OK &&
	    db_template_delete(j->db, job->waba, name, lang) == -1)
		log_warnx("account jobs: template %s deleted at Meta but not "
		    "here; the next sync removes it", name);
	json_decref(b);
	return rc;
}

/* template_sync: the templates helper's paged sync. */
static enum outcome
template_sync(struct jobs *j, const struct db_job *job, const char *token,
    struct answer *a)
{
	int count = 0;

	if (templates_sync(j->db, j->cfg, job->waba, token,
	    clock_now_ms() / 1000, &count) == -1) {
		(void)strlcpy(a->title, "The template sync failed; wa-worker's "
		    "log says why.", sizeof(a->title));
		return OUT_RETRY;
	}
	a->json = json_pack("{s:i}", "templates", count);
	return OUT_OK;
}

/* Runs one claimed job to its outcome. */
static enum outcome
run(struct jobs *j, const struct db_job *job, struct answer *a)
{
	const char *token;

	if ((token = job_token(j, job, a)) == NULL)
		return OUT_FAIL;
	if (strcmp(job->kind, "profile_get") == 0)
		return profile_fetch(j, job->pnid, token, a);
	if (strcmp(job->kind, "profile_set") == 0)
		return profile_update(j, job, token, a);
	if (strcmp(job->kind, "template_create") == 0)
		return template_create(j, job, token, a);
	if (strcmp(job->kind, "template_delete") == 0)
		return template_delete(j, job, token, a);
	if (strcmp(job->kind, "template_sync") == 0)
		return template_sync(j, job, token, a);
	(void)snprintf(a->title, sizeof(a->title), "Unknown job kind.");
	return OUT_FAIL;
}

/* Records what one try came to on the row. */
static void
settle(struct jobs *j, const struct db_job *job, enum outcome rc,
    struct answer *a)
{
	int64_t		 now = clock_now_ms(), wait;
	char		*s = NULL;
	int		 tries = job->attempts + 1, k;

	if (rc == OUT_RETRY && tries < JOBS_MAX_ATTEMPTS) {
		wait = (int64_t)BACKOFF_MS << (tries - 1);
		if (wait > BACKOFF_MAX_MS)
			wait = BACKOFF_MAX_MS;
		wait += arc4random_uniform((uint32_t)wait / 4 + 1);
		log_warnx("account jobs: %lld (%s) try %d: %s (again in "
		    "%lld ms)", (long long)job->id, job->kind, tries, a->title,
		    (long long)wait);
		k = db_job_retry(j->db, job->id, now + wait, a->code, a->title);
	} else if (rc == OUT_OK) {
		s = a->json != NULL ? json_dumps(a->json, JSON_COMPACT) : NULL;
		k = db_job_finish(j->db, job->id, 1, s != NULL ? s : "{}", 0,
		    NULL, now);
		log_info("account jobs: %lld (%s) done", (long long)job->id,
		    job->kind);
	} else {
		log_warnx("account jobs: %lld (%s) failed after %d tries: "
		    "code %lld: %s", (long long)job->id, job->kind, tries,
		    (long long)a->code, a->title);
		k = db_job_finish(j->db, job->id, 0, NULL, a->code, a->title,
		    now);
	}
	if (k == -1)
		log_warnx("account jobs: %lld: its outcome could not be "
		    "stored; it runs again at the next start",
		    (long long)job->id);
	free(s);
}

static void
on_waba(void *arg, const char *const *col)
{
	char	(*w)[32] = arg;
	size_t	 i;

	for (i = 0; i < WABAS_MAX && w[i][0] != '\0'; i++)
		continue;
	if (i < WABAS_MAX)
		(void)strlcpy(w[i], col[0], sizeof(w[i]));
}

/*
 * Every WA_TEMPLATE_SYNC_S, one template_sync per WABA of an active
 * number, unless one is queued or running: counted from the newest such
 * job (a template webhook's included), else from the worker's start.
 */
static void
schedule(struct jobs *j, int64_t now)
{
	char	 (*w)[32];
	int64_t	 period = (int64_t)j->cfg->template_sync_s * 1000, last;
	size_t	 i;

	if (period <= 0 || now < j->sched_at)
		return;
	j->sched_at = now + (period < SCHED_MAX_MS ? period : SCHED_MAX_MS);
	if ((w = calloc(WABAS_MAX, sizeof(*w))) == NULL)
		return;
	if (db_job_wabas(j->db, on_waba, w) > WABAS_MAX)
		log_warnx("account jobs: more than %d WABAs; the rest are "
		    "not synced on schedule", WABAS_MAX);
	for (i = 0; i < WABAS_MAX && w[i][0] != '\0'; i++) {
		if ((last = db_job_last(j->db, "template_sync", w[i])) == -1)
			break;
		if (now < (last > 0 ? last : j->started_ms) + period ||
		    db_job_pending(j->db, "template_sync", w[i]) != 0)
			continue;
		if (db_job_insert(j->db, NULL, w[i], "template_sync", NULL,
		    now) == -1)
			log_warnx("account jobs: cannot queue the template "
			    "sync of %s", w[i]);
	}
	free(w);
}

/*
 * Queues the syncs that are due and runs at most one due job.  Returns
 * how long the caller may wait before calling again (ms): 0 when more
 * is due, else until the next job or look at the schedule.
 */
long
jobs_step(struct jobs *j)
{
	struct db_job	 job;
	struct answer	 a;
	enum outcome	 rc;
	int64_t		 now = clock_now_ms(), next, wait;

	schedule(j, now);
	memset(&a, 0, sizeof(a));
	if (db_job_due(j->db, now, &job) == 1) {
		if (db_job_claim(j->db, job.id) == 1) {
			rc = run(j, &job, &a);
			settle(j, &job, rc, &a);
			answer_clear(&a);
		}
		db_job_clear(&job);
		return 0;
	}
	wait = j->cfg->template_sync_s > 0 ? j->sched_at - now : SCHED_MAX_MS;
	if ((next = db_job_next_due(j->db, now)) > 0 && next != DB_NEVER &&
	    next - now < wait)
		wait = next - now;
	return wait < 0 ? 0 : wait > SCHED_MAX_MS ? SCHED_MAX_MS : (long)wait;
}
