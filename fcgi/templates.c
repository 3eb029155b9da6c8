/*
 * templates.c: message templates against the Graph API (reference
 * section 15.2): the paged sync of a WABA's templates into the templates
 * table, for `wactl templates sync` and the worker's account jobs, and
 * `wactl templates list` from the table.  The token goes only to
 * WA_GRAPH_URL (DESIGN rule 9): a page is asked for by its cursor on
 * that host, never by following the paging.next URL Meta hands back.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bsd/string.h>
#include <jansson.h>

#include "buf.h"
#include "cfg.h"
#include "db.h"
#include "log.h"
#include "templates.h"
#include "url.h"
#include "wa.h"

#define FIELDS		"name,language,status,category,components," \
			"quality_score,rejected_reason,parameter_format"
#define PAGE_MAX	(8 * 1024 * 1024)	/* bytes of one page's reply */
#define CURSOR_MAX	1024			/* bytes of Meta's cursor */
#define NUMBERS_MAX	256			/* numbers wactl handles */

/* The string member k of o, or "". */
static const char *
str(const json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));

	return v != NULL ? v : "";
}

/* Copies v into dst; 0, or -1 when it does not fit. */
static int
copy(char *dst, size_t sz, const char *v)
{
	return strlcpy(dst, v, sz) >= sz ? -1 : 0;
}

/*
 * One listed template into t (components is t's, from json_dumps()).
 * 0, or -1 when Meta's row lacks its key or does not fit (logged).
 */
static int
from_meta(const json_t *x, const char *waba, int64_t stamp,
    struct db_template *t)
{
	const json_t	*q = json_object_get(x, "quality_score"), *c;
	const char	*rr = str(x, "rejected_reason");

	memset(t, 0, sizeof(*t));
	if (copy(t->waba, sizeof(t->waba), waba) == -1 ||
	    copy(t->template_id, sizeof(t->template_id), str(x, "id")) == -1 ||
	    copy(t->name, sizeof(t->name), str(x, "name")) == -1 ||
	    copy(t->language, sizeof(t->language), str(x, "language")) == -1 ||
	    copy(t->category, sizeof(t->category), str(x, "category")) == -1 ||
	    copy(t->status, sizeof(t->status), str(x, "status")) == -1 ||
	    copy(t->quality, sizeof(t->quality), json_is_object(q) ?
	    str(q, "score") : str(x, "quality_score")) == -1 ||
	    copy(t->rejected_reason, sizeof(t->rejected_reason),
	    strcmp(rr, "NONE") == 0 ? "" : rr) == -1 ||
	    t->name[0] == '\0' || t->language[0] == '\0' ||
	    t->status[0] == '\0') {
		log_warnx("waba %s: a listed template lacks its name, "
		    "language or status, or one is too long; skipped", waba);
		return -1;
	}
	c = json_object_get(x, "components");
	if ((t->components = json_dumps(json_is_array(c) ? c : json_array(),
	    JSON_COMPACT)) == NULL) {
		log_warnx("waba %s: out of memory", waba);
		return -1;
	}
	t->synced_at = stamp;
	return 0;
}

/*
 * Stores one page's data[] in one transaction; adds what it stored to
 * *count.  0, or -1.
 */
static int
store_page(struct db *d, const char *waba, const json_t *data, int64_t stamp,
    int64_t now_s, int *count)
{
	struct db_template	 t;
	const json_t		*x;
	size_t			 i;
	int			 n = 0;

	if (db_begin(d) != DB_OK)
		return -1;
	json_array_foreach(data, i, x) {
		if (from_meta(x, waba, stamp, &t) == -1) {
			free(t.components);
			continue;
		}
		if (db_template_upsert(d, &t, now_s) == -1) {
			free(t.components);
			db_rollback(d);
			return -1;
		}
		free(t.components);
		n++;
	}
	if (db_commit(d) == -1)
		return -1;
	*count += n;
	return 0;
}

/*
 * Pages through GET /{version}/{waba}/message_templates with token (at
 * most TEMPLATES_PAGES_MAX pages of TEMPLATES_PAGE), upserting every
 * template, and only after the last page removes the rows Meta no longer
 * lists.  *count is the templates stored.  0, or -1 (logged, with Meta's
 * code and message when it gave one); rows of the pages read stay.
 */
int
templates_sync(struct db *d, const struct cfg *cfg, const char *waba,
    const char *token, int64_t now_s, int *count)
{
	struct wa_opts		 o;
	struct wa_result	 r;
	struct wa		*w = NULL;
	json_t			*j = NULL, *e, *paging;
	char			 path[512 + 3 * CURSOR_MAX], after[3 * CURSOR_MAX];
	const char		*next;
	int64_t			 stamp;
	int			 page, k, removed, rc = -1;

	*count = 0;
	memset(&r, 0, sizeof(r));
	after[0] = '\0';
	if (strlen(waba) == 0 || strspn(waba, "0123456789") != strlen(waba)) {
		log_warnx("%s: a WABA id is digits: %.40s", __func__, waba);
		return -1;
	}
	if ((stamp = db_template_sync_stamp(d, waba, now_s)) == -1)
		return -1;
	memset(&o, 0, sizeof(o));
	o.graph_url = cfg->graph_url;
	o.version = cfg->api_version;
	o.token = token;
	o.timeout_ms = cfg->send_timeout_ms;
	o.max_conns = 1;
	if ((w = wa_new(&o)) == NULL)
		goto fail;
	for (page = 0; ; page++) {
		if (page == TEMPLATES_PAGES_MAX) {
			log_warnx("waba %s: more than %d pages of templates; "
			    "stored those, removed none", waba,
			    TEMPLATES_PAGES_MAX);
			goto fail;
		}
		k = snprintf(path, sizeof(path), "/%s/message_templates?"
		    "fields=" FIELDS "&limit=%d%s%s", waba, TEMPLATES_PAGE,
		    after[0] ? "&after=" : "", after);
		if (k < 0 || (size_t)k >= sizeof(path))
			goto fail;
		json_decref(j);
		j = NULL;
		buf_clear(&r.body);
		if (wa_get_wait(w, path, PAGE_MAX, cfg->send_timeout_ms,
		    &r) == -1) {
			log_warnx("waba %s: cannot reach the Graph API at %s: "
			    "%s", waba, cfg->graph_url, r.transport);
			goto fail;
		}
		j = json_loadb(r.body.p != NULL ? r.body.p : "", r.body.len, 0,
		    NULL);
		if ((e = json_object_get(j, "error")) != NULL) {
			log_warnx("waba %s: Meta refused the template list "
			    "(HTTP %ld): code %lld: %.200s", waba, r.http,
			    (long long)json_integer_value(json_object_get(e,
			    "code")), str(e, "message"));
			goto fail;
		}
		if (r.http != 200 || !json_is_array(json_object_get(j,
		    "data"))) {
			log_warnx("waba %s: the Graph API answered HTTP %ld "
			    "without a template list", waba, r.http);
			goto fail;
		}
		if (store_page(d, waba, json_object_get(j, "data"), stamp,
		    now_s, count) == -1)
			goto fail;
		/* paging.next is there only when more follow. */
		paging = json_object_get(j, "paging");
		if (json_object_get(paging, "next") == NULL)
			break;
		next = str(json_object_get(paging, "cursors"), "after");
		if (*next == '\0' || strlen(next) > CURSOR_MAX) {
			log_warnx("waba %s: Meta said more follow but gave no "
			    "usable cursor; removed none", waba);
			goto fail;
		}
		if (url_escape(next, path, sizeof(after)) == -1)
			goto fail;
		if (strcmp(path, after) == 0) {
			log_warnx("waba %s: Meta gave the same cursor twice; "
			    "removed none", waba);
			goto fail;
		}
		(void)strlcpy(after, path, sizeof(after)); /* same size */
	}
	if ((removed = db_template_sync_done(d, waba, stamp)) == -1)
		goto fail;
	if (removed > 0)
		log_info("waba %s: %d template%s Meta no longer lists removed",
		    waba, removed, removed == 1 ? "" : "s");
	rc = 0;
fail:
	json_decref(j);
	buf_clear(&r.body);
	wa_free(w);
	return rc;
}

/* The active numbers, as db_template_numbers() gives them. */
struct nums {
	int	 n;
	char	 pnid[NUMBERS_MAX][32];
	char	 label[NUMBERS_MAX][33];
	char	 waba[NUMBERS_MAX][32];
	char	 env[NUMBERS_MAX][128];
};

static void
on_number(void *arg, const char *const *col)
{
	struct nums *s = arg;

	if (s->n == NUMBERS_MAX)
		return;
	(void)strlcpy(s->pnid[s->n], col[0], sizeof(s->pnid[0]));
	(void)strlcpy(s->label[s->n], col[1], sizeof(s->label[0]));
	(void)strlcpy(s->waba[s->n], col[2], sizeof(s->waba[0]));
	(void)strlcpy(s->env[s->n], col[3], sizeof(s->env[0]));
	s->n++;
}

static int
tusage(void)
{
	(void)fprintf(stderr, "usage: wactl templates sync [--number "
	    "ID|LABEL] [--waba ID]\n"
	    "       wactl templates list [--number ID|LABEL]\n");
	return 2;
}

/* Index of the number whose id or label is key, or -1 (said). */
static int
find(const struct nums *s, const char *key)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->pnid[i], key) == 0 ||
		    strcmp(s->label[i], key) == 0)
			return i;
	log_warnx("no active number has the id or label %.40s (wactl numbers "
	    "list)", key);
	return -1;
}

/* 1 when waba came before index i among the numbers. */
static int
seen_before(const struct nums *s, int i)
{
	int k;

	for (k = 0; k < i; k++)
		if (strcmp(s->waba[k], s->waba[i]) == 0)
			return 1;
	return 0;
}

/* Syncs waba with the token of one of its numbers; 0 or 1. */
static int
sync_one(struct db *d, const struct cfg *cfg, const struct nums *s,
    const char *waba)
{
	const char	*token = NULL;
	int		 i, count;

	for (i = 0; i < s->n && token == NULL; i++)
		if (strcmp(s->waba[i], waba) == 0)
			token = cfg_token(cfg, s->env[i]);
	if (token == NULL) {
		log_warnx("waba %s: none of its numbers has its token set "
		    "(wactl numbers show: token_env)", waba);
		return 1;
	}
	if (templates_sync(d, cfg, waba, token, (int64_t)time(NULL),
	    &count) == -1) {
		(void)printf("waba %s: sync failed after %d templates\n", waba,
		    count);
		return 1;
	}
	(void)printf("waba %s: %d templates\n", waba, count);
	return 0;
}

static void
on_template(void *arg, int nc, const char *const *names,
    const struct db_val *v)
{
	int64_t *last = arg;

	(void)names;
	if (nc < 12)
		return;
	*last = v[0].i;
	(void)printf("%-32.*s %-8.*s %-10.*s %-14.*s %-8.*s %.*s\n",
	    (int)v[3].len, v[3].s ? v[3].s : "", (int)v[4].len,
	    v[4].s ? v[4].s : "", (int)v[6].len, v[6].s ? v[6].s : "",
	    (int)v[5].len, v[5].s ? v[5].s : "-", (int)v[7].len,
	    v[7].s ? v[7].s : "-", (int)v[1].len, v[1].s ? v[1].s : "");
}

/* `wactl templates list`: the stored templates of the numbers' WABAs. */
static int
list_cmd(struct db *d, const struct nums *s, int only)
{
	struct db_template_filter	 f;
	const char			*wabas[NUMBERS_MAX];
	int64_t				 last = 0;
	int				 i, n;

	memset(&f, 0, sizeof(f));
	for (i = 0; i < s->n; i++)
		if ((only == -1 || i == only) && s->waba[i][0] != '\0' &&
		    !seen_before(s, i))
			wabas[f.nwabas++] = s->waba[i];
	f.wabas = wabas;
	f.limit = 200;
	(void)printf("%-32s %-8s %-10s %-14s %-8s %s\n", "NAME", "LANGUAGE",
	    "STATUS", "CATEGORY", "QUALITY", "WABA");
	do {
		f.cursor = last;
		if ((n = db_template_list(d, &f, on_template, &last)) == -1)
			return 1;
	} while (n == f.limit);
	return 0;
}

int
templates_cmd(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "number", required_argument, NULL, 'n' },
		{ "waba", required_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 },
	};
	struct cfg	 cfg;
	struct db	*d = NULL;
	struct nums	*s = NULL;
	const char	*number = NULL, *waba = NULL, *what;
	char		 err[512];
	int		 c, i, only = -1, rc = 1;

	/* argv[0] is "templates", argv[1] the subcommand. */
	if (argc < 2)
		return tusage();
	what = argv[1];
	if (strcmp(what, "sync") != 0 && strcmp(what, "list") != 0)
		return tusage();
	optind = 1;
	while ((c = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
		if (c == 'n')
			number = optarg;
		else if (c == 'w' && strcmp(what, "sync") == 0)
			waba = optarg;
		else
			return tusage();
	}
	if (optind != argc - 1 || (number != NULL && waba != NULL))
		return tusage();
	if (waba != NULL && (*waba == '\0' || strspn(waba, "0123456789") !=
	    strlen(waba))) {
		log_warnx("--waba is the WhatsApp Business Account id, digits");
		return 2;
	}
	if (cfg_load(&cfg, 0, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		return 1;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		log_warnx("out of memory");
		goto done;
	}
	if ((d = db_open_current(&cfg)) == NULL ||
	    db_template_numbers(d, on_number, s) == -1)
		goto done;
	if (number != NULL && (only = find(s, number)) == -1)
		goto done;
	if (only != -1 && s->waba[only][0] == '\0') {
		log_warnx("number %s has no WABA id: add it again with "
		    "wactl numbers add %s --waba ID", s->pnid[only],
		    s->pnid[only]);
		goto done;
	}
	if (strcmp(what, "list") == 0) {
		rc = list_cmd(d, s, only);
		goto done;
	}
	if (waba != NULL || only != -1) {
		rc = sync_one(d, &cfg, s, waba != NULL ? waba :
		    s->waba[only]);
		goto done;
	}
	rc = 0;
	for (i = 0; i < s->n; i++) {
		if (s->waba[i][0] == '\0') {
			log_warnx("number %s (%s) has no WABA id, so its "
			    "templates are not synced: wactl numbers add %s "
			    "--waba ID", s->pnid[i], s->label[i], s->pnid[i]);
			continue;
		}
		if (!seen_before(s, i) && sync_one(d, &cfg, s, s->waba[i]) != 0)
			rc = 1;
	}
	if (s->n == 0)
		log_warnx("no numbers: wactl numbers add ID --waba ID");
done:
	free(s);
	db_close(d);
	cfg_clear(&cfg);
	return rc;
}
