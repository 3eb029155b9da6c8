/*
 * numbers.c: `wactl numbers add|list|show|edit|remove`, the business
 * numbers this install serves, and their seed at `wactl migrate`.  A
 * number is checked with the Graph API (wa.c) before it is stored; its
 * token stays in the environment (or WA_ENV_FILE) under the variable the
 * row names, never in the database.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bsd/string.h>
#include <jansson.h>

#include "cfg.h"
#include "chat.h"
#include "db.h"
#include "log.h"
#include "numbers.h"
#include "profile.h"
#include "wa.h"

#define DEFAULT_TOKEN_ENV	"WHATSAPP_ACCESS_TOKEN"
#define FIELDS	"display_phone_number,verified_name,quality_rating," \
		"throughput,status,messaging_limit_tier"
#define REPLY_MAX	(64 * 1024)

static int
nusage(void)
{
	(void)fprintf(stderr, "usage: wactl numbers add PHONE_NUMBER_ID "
	    "[--waba ID] [--label L] [--token-env VAR] [--flow FILE] "
	    "[--rate N] [--catalog ID]\n"
	    "       wactl numbers list | show ID|LABEL | remove ID|LABEL\n"
	    "       wactl numbers edit ID|LABEL [--label L] [--token-env VAR] "
	    "[--flow FILE] [--rate N] [--catalog ID|none]\n"
	    "       wactl numbers profile ID|LABEL [--about T] [--address T] "
	    "[--description T]\n"
	    "           [--email T] [--website URL]... [--vertical V]\n");
	return 2;
}

static int
all_digits(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

/* A label: [a-z0-9_-], 1 to 32 characters. */
static int
label_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 32 || strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "0123456789_-") != n) {
		log_warnx("a label is 1 to 32 of a-z, 0-9, _ and -: %.40s", s);
		return 0;
	}
	return 1;
}

/* An environment variable's name: [A-Z_][A-Z0-9_]*, under 128. */
static int
env_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= 128 || isdigit((unsigned char)s[0]) ||
	    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != n) {
		log_warnx("--token-env names an environment variable "
		    "(A-Z, 0-9, _): %.40s", s);
		return 0;
	}
	return 1;
}

/* --rate: 1 to 1000 messages a second. */
static int
rate_ok(const char *s, int64_t *v)
{
	char	*end;
	long	 n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || n < 1 || n > 1000) {
		log_warnx("--rate is 1 to 1000 messages a second: %.20s", s);
		return 0;
	}
	*v = n;
	return 1;
}

/*
 * --catalog: the Commerce catalog id product sends default to, digits
 * (1 to 32); "none" clears it (edit only).
 */
static int
catalog_ok(const char *s, int add)
{
	size_t n = strlen(s);

	if (!add && strcmp(s, "none") == 0)
		return 1;
	if (n == 0 || n > 32 || strspn(s, "0123456789") != n) {
		log_warnx("--catalog is a catalog id, 1 to 32 digits%s: %.40s",
		    add ? "" : " (or none to clear it)", s);
		return 0;
	}
	return 1;
}

/* --flow: a flow file that loads and checks (as `wactl flows check`). */
static int
flow_ok(const char *path)
{
	if (strlen(path) >= sizeof(((struct db_number *)0)->flow_path)) {
		log_warnx("--flow: the path is too long");
		return 0;
	}
	if (chat_check_file(path) != 0) {
		log_warnx("--flow %s: not a usable flow file", path);
		return 0;
	}
	return 1;
}

/* The token in the variable name: WA_ENV_FILE's or the environment's. */
static const char *
token_of(const struct cfg *cfg, const char *name)
{
	const char *v;

	if ((v = cfg_token(cfg, name)) == NULL) {
		log_warnx("%s is not set: set it in the environment%s to the "
		    "number's access token", name, strcmp(name,
		    DEFAULT_TOKEN_ENV) == 0 || strncmp(name, DEFAULT_TOKEN_ENV
		    "_", sizeof(DEFAULT_TOKEN_ENV)) == 0 ? " or in WA_ENV_FILE" :
		    "");
		return NULL;
	}
	return v;
}

static void
copy_str(json_t *o, const char *key, char *dst, size_t sz)
{
	json_t *v = json_object_get(o, key);

	if (json_is_object(v))		/* throughput: {"level": "STANDARD"} */
		v = json_object_get(v, "level");
	if (json_is_string(v))
		(void)strlcpy(dst, json_string_value(v), sz);
}

/*
 * Asks Graph about n->pnid with token and fills n from the answer.  0, or
 * -1 with the reason logged (Meta's code and message when it gave one).
 */
static int
graph_check(const struct cfg *cfg, const char *token, struct db_number *n)
{
	struct wa_opts		 o;
	struct wa_result	 r;
	struct wa		*w = NULL;
	json_t			*j = NULL, *e;
	char			 path[128];
	int			 rc = -1, k;

	memset(&o, 0, sizeof(o));
	memset(&r, 0, sizeof(r));
	o.graph_url = cfg->graph_url;
	o.version = cfg->api_version;
	o.token = token;
	o.timeout_ms = cfg->send_timeout_ms;
	o.max_conns = 1;
	k = snprintf(path, sizeof(path), "/%s?fields=" FIELDS, n->pnid);
	if (k < 0 || (size_t)k >= sizeof(path))
		goto fail;
	if ((w = wa_new(&o)) == NULL)
		goto fail;
	if (wa_get_wait(w, path, REPLY_MAX, cfg->send_timeout_ms, &r) == -1) {
		log_warnx("cannot reach the Graph API at %s: %s",
		    cfg->graph_url, r.transport);
		goto fail;
	}
	j = json_loadb(r.body.p != NULL ? r.body.p : "", r.body.len, 0, NULL);
	if ((e = json_object_get(j, "error")) != NULL) {
		log_warnx("Meta refused number %s: code %lld%s%lld: %s",
		    n->pnid, (long long)json_integer_value(json_object_get(e,
		    "code")), json_object_get(e, "error_subcode") ? "/" : "",
		    json_object_get(e, "error_subcode") ? (long long)
		    json_integer_value(json_object_get(e, "error_subcode")) :
		    0LL, json_is_string(json_object_get(e, "message")) ?
		    json_string_value(json_object_get(e, "message")) :
		    "no message");
		goto fail;
	}
	if (r.http != 200 || !json_is_object(j)) {
		log_warnx("the Graph API answered HTTP %ld without a number",
		    r.http);
		goto fail;
	}
	copy_str(j, "display_phone_number", n->display, sizeof(n->display));
	copy_str(j, "verified_name", n->verified_name,
	    sizeof(n->verified_name));
	copy_str(j, "quality_rating", n->quality, sizeof(n->quality));
	copy_str(j, "messaging_limit_tier", n->tier, sizeof(n->tier));
	copy_str(j, "throughput", n->throughput, sizeof(n->throughput));
	copy_str(j, "status", n->status, sizeof(n->status));
	rc = 0;
fail:
	json_decref(j);
	buf_clear(&r.body);
	wa_free(w);
	return rc;
}

/* The options add and edit share; 0, or 2 after a usage line. */
struct nopts {
	const char	*waba, *label, *token_env, *flow, *catalog;
	int64_t		 rate;
	int		 has_rate;
};

static int
parse_opts(int argc, char *argv[], int add, struct nopts *o)
{
	static const struct option opts[] = {
		{ "waba", required_argument, NULL, 'w' },
		{ "label", required_argument, NULL, 'l' },
		{ "token-env", required_argument, NULL, 't' },
		{ "flow", required_argument, NULL, 'f' },
		{ "rate", required_argument, NULL, 'r' },
		{ "catalog", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	const char	*rate = NULL;
	int		 ch;

	memset(o, 0, sizeof(*o));
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'w': if (!add) return nusage(); o->waba = optarg; break;
		case 'l': o->label = optarg; break;
		case 't': o->token_env = optarg; break;
		case 'f': o->flow = optarg; break;
		case 'r': rate = optarg; break;
		case 'c': o->catalog = optarg; break;
		default: return nusage();
		}
	}
	if (optind != argc)
		return nusage();
	if ((o->waba != NULL && !all_digits(o->waba)) ||
	    (o->label != NULL && !label_ok(o->label)) ||
	    (o->token_env != NULL && !env_name_ok(o->token_env)) ||
	    (rate != NULL && !rate_ok(rate, &o->rate)) ||
	    (o->catalog != NULL && !catalog_ok(o->catalog, add))) {
		if (o->waba != NULL && !all_digits(o->waba))
			log_warnx("--waba is a WABA id, digits only");
		return nusage();
	}
	o->has_rate = rate != NULL;
	return 0;
}

/* Sets (digits) or clears ("none") pnid's catalog; 0 or -1. */
static int
set_catalog(struct db *d, const char *pnid, const char *catalog)
{
	int changed;

	if (db_number_set_catalog(d, pnid, strcmp(catalog, "none") == 0 ?
	    NULL : catalog, &changed) != DB_OK || !changed)
		return -1;
	return 0;
}

static int
add_cmd(const struct cfg *cfg, struct db *d, const char *pnid, int argc,
    char *argv[])
{
	struct db_number	 n, old;
	struct nopts		 o;
	const char		*token;
	int			 k;

	if (!all_digits(pnid) || strlen(pnid) >= sizeof(n.pnid)) {
		log_warnx("a phone number id is Meta's id, digits only: %.40s",
		    pnid);
		return nusage();
	}
	if ((k = parse_opts(argc, argv, 1, &o)) != 0)
		return k;
	if (o.flow != NULL && !flow_ok(o.flow))
		return 1;
	memset(&n, 0, sizeof(n));
	(void)strlcpy(n.pnid, pnid, sizeof(n.pnid));
	/* Re-adding keeps what was set and not given again. */
	if ((k = db_number_get(d, pnid, &old)) == -1)
		return 1;
	if (k == 1 && strcmp(old.pnid, pnid) == 0)
		n = old;
	if (o.waba != NULL)
		(void)strlcpy(n.waba_id, o.waba, sizeof(n.waba_id));
	if (o.label != NULL)
		(void)strlcpy(n.label, o.label, sizeof(n.label));
	else if (n.label[0] == '\0' && snprintf(n.label, sizeof(n.label),
	    "n%.31s", pnid) < 0)
		return 1;
	if (o.token_env != NULL)
		(void)strlcpy(n.token_env, o.token_env, sizeof(n.token_env));
	else if (n.token_env[0] == '\0')
		(void)strlcpy(n.token_env, DEFAULT_TOKEN_ENV,
		    sizeof(n.token_env));
	if (o.flow != NULL)
		(void)strlcpy(n.flow_path, o.flow, sizeof(n.flow_path));
	if (o.has_rate)
		n.send_rate = o.rate;
	if ((token = token_of(cfg, n.token_env)) == NULL)
		return 1;
	n.display[0] = n.verified_name[0] = n.quality[0] = n.tier[0] =
	    n.throughput[0] = n.status[0] = '\0';
	if (graph_check(cfg, token, &n) == -1)
		return 1;
	n.checked_at = (int64_t)time(NULL);
	switch (db_number_upsert(d, &n, n.checked_at)) {
	case DB_OK:
		break;
	case DB_DUP:
		log_warnx("the label %s belongs to another number", n.label);
		return 1;
	default:
		return 1;
	}
	if (o.catalog != NULL && set_catalog(d, n.pnid, o.catalog) == -1)
		return 1;
	(void)printf("added %s (%s) as %s: %s, quality %s, status %s\n",
	    n.pnid, n.display[0] ? n.display : "no display number", n.label,
	    n.verified_name[0] ? n.verified_name : "no verified name",
	    n.quality[0] ? n.quality : "unknown", n.status[0] ? n.status :
	    "unknown");
	return 0;
}

static void
on_number(void *arg, const char *const *col)
{
	(void)arg;
	(void)printf("%-20s %-16s %-18s %-8s %-12s %-28s %s%s\n", col[0],
	    col[1], col[2][0] ? col[2] : "-", col[4][0] ? col[4] : "-",
	    col[5][0] ? col[5] : "-", col[6], col[7][0] ? "REMOVED " : "",
	    col[3]);
}

static void
show(const struct db_number *n)
{
	(void)printf("phone_number_id       %s\n", n->pnid);
	(void)printf("label                 %s\n", n->label);
	(void)printf("waba_id               %s\n", n->waba_id[0] ? n->waba_id :
	    "-");
	(void)printf("display_phone_number  %s\n", n->display[0] ? n->display :
	    "-");
	(void)printf("verified_name         %s\n", n->verified_name[0] ?
	    n->verified_name : "-");
	(void)printf("token_env             %s\n", n->token_env);
	(void)printf("flow                  %s\n", n->flow_path[0] ?
	    n->flow_path : "WA_FLOW_FILE");
	if (n->send_rate > 0)
		(void)printf("send_rate             %lld/s\n",
		    (long long)n->send_rate);
	else
		(void)printf("send_rate             WA_SEND_RATE\n");
	(void)printf("quality_rating        %s\n", n->quality[0] ? n->quality :
	    "-");
	(void)printf("messaging_limit_tier  %s\n", n->tier[0] ? n->tier : "-");
	(void)printf("throughput            %s\n", n->throughput[0] ?
	    n->throughput : "-");
	(void)printf("status                %s\n", n->status[0] ? n->status :
	    "-");
	(void)printf("checked_at            %lld\n", (long long)n->checked_at);
	(void)printf("created_at            %lld\n", (long long)n->created_at);
	(void)printf("removed_at            %s%lld\n", n->removed_at ? "" :
	    "active ", (long long)n->removed_at);
}

/* The catalog line of `numbers show`; 0 or 1. */
static int
show_catalog(struct db *d, const char *pnid)
{
	char	cat[64];
	int	k;

	if ((k = db_number_catalog(d, pnid, cat, sizeof(cat))) == -1)
		return 1;
	(void)printf("catalog_id            %s\n", k == 1 ? cat : "-");
	return 0;
}

/* The number id or label names, or 0 after saying there is none. */
static int
find(struct db *d, const char *key, struct db_number *n)
{
	int k = db_number_get(d, key, n);

	if (k == 0)
		log_warnx("no number with the id or label %.40s", key);
	return k;
}

static int
edit_cmd(struct db *d, const char *key, int argc, char *argv[])
{
	struct db_number	 n;
	struct nopts		 o;
	int			 k, changed;

	if ((k = parse_opts(argc, argv, 0, &o)) != 0)
		return k;
	if (o.label == NULL && o.token_env == NULL && o.flow == NULL &&
	    !o.has_rate && o.catalog == NULL)
		return nusage();
	if (o.flow != NULL && !flow_ok(o.flow))
		return 1;
	if (find(d, key, &n) != 1)
		return 1;
	switch (db_number_edit(d, n.pnid, o.label, o.token_env, o.flow,
	    o.has_rate ? &o.rate : NULL, &changed)) {
	case DB_OK:
		break;
	case DB_DUP:
		log_warnx("the label %s belongs to another number", o.label);
		return 1;
	default:
		return 1;
	}
	/* After the edit, which may refuse a label, so nothing is half done. */
	if (changed && o.catalog != NULL &&
	    set_catalog(d, n.pnid, o.catalog) == -1)
		return 1;
	(void)printf("edited %s\n", n.pnid);
	return changed ? 0 : 1;
}

/*
 * One blocking Graph call for `numbers profile`: method to path with
 * token and json (or NULL).  Meta's answer in *out (the caller frees),
 * or -1 with the reason logged (Meta's code and message when it gave
 * one).
 */
static int
profile_call(const struct cfg *cfg, const char *method, const char *path,
    const char *token, const char *json, json_t **out)
{
	struct buf	 b;
	json_t		*j, *e;
	char		 url[2048], err[512];
	long		 http = 0;
	int		 n;

	*out = NULL;
	n = snprintf(url, sizeof(url), "%s/%s%s", cfg->graph_url,
	    cfg->api_version, path);
	if (n < 0 || (size_t)n >= sizeof(url))
		return -1;
	if (wa_request(method, url, token, json, cfg->send_timeout_ms, &http,
	    &b, err, sizeof(err)) == -1) {
		log_warnx("cannot reach the Graph API: %s", err);
		buf_clear(&b);
		return -1;
	}
	j = json_loadb(b.p != NULL ? b.p : "", b.len, 0, NULL);
	buf_clear(&b);
	if (http >= 200 && http <= 299 && json_is_object(j)) {
		*out = j;
		return 0;
	}
	if ((e = json_object_get(j, "error")) != NULL)
		log_warnx("Meta refused it: code %lld: %s", (long long)
		    json_integer_value(json_object_get(e, "code")),
		    json_is_string(json_object_get(e, "message")) ?
		    json_string_value(json_object_get(e, "message")) :
		    "no message");
	else
		log_warnx("the Graph API answered HTTP %ld", http);
	json_decref(j);
	return -1;
}

/*
 * `wactl numbers profile ID|LABEL [options]`: with options, the update
 * (checked like POST /numbers/{id}/profile) is sent first; then the
 * profile Meta holds is fetched, stored (numbers.profile) and printed.
 */
static int
profile_cmd(const struct cfg *cfg, struct db *d, const char *key, int argc,
    char *argv[])
{
	static const struct option opts[] = {
		{ "about", required_argument, NULL, 'a' },
		{ "address", required_argument, NULL, 'd' },
		{ "description", required_argument, NULL, 'D' },
		{ "email", required_argument, NULL, 'e' },
		{ "website", required_argument, NULL, 'w' },
		{ "vertical", required_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const names[] = { ['a'] = "about",
	    ['d'] = "address", ['D'] = "description", ['e'] = "email",
	    ['v'] = "vertical" };
	struct db_number	 n;
	struct profile_err	 perr;
	json_t			*u, *sites, *got = NULL, *p, *v;
	const char		*token, *k;
	char			 path[128], *s = NULL;
	int			 ch, rc = 1;

	if ((u = json_object()) == NULL || (sites = json_array()) == NULL) {
		json_decref(u);
		return 1;
	}
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 'w')
			(void)json_array_append_new(sites, json_string(optarg));
		else if (ch == 'a' || ch == 'd' || ch == 'D' || ch == 'e' ||
		    ch == 'v')
			(void)json_object_set_new(u, names[ch],
			    json_string(optarg));
		else {
			rc = nusage();
			goto done;
		}
	}
	if (optind != argc) {
		rc = nusage();
		goto done;
	}
	if (json_array_size(sites) > 0)
		(void)json_object_set(u, "websites", sites);
	if (json_object_size(u) > 0 && profile_check(u, &perr) == -1) {
		(void)fprintf(stderr, "refused: %s: %s\n", perr.field,
		    perr.message);
		goto done;
	}
	if (find(d, key, &n) != 1)
		goto done;
	if (n.removed_at != 0) {
		log_warnx("%s is removed", n.pnid);
		goto done;
	}
	if ((token = token_of(cfg, n.token_env)) == NULL)
		goto done;
	if (snprintf(path, sizeof(path), "/%s/whatsapp_business_profile",
	    n.pnid) >= (int)sizeof(path))
		goto done;
	if (json_object_size(u) > 0) {
		if (json_object_set_new(u, "messaging_product",
		    json_string("whatsapp")) == -1 ||
		    (s = json_dumps(u, JSON_COMPACT)) == NULL ||
		    profile_call(cfg, "POST", path, token, s, &got) == -1)
			goto done;
		json_decref(got);
		got = NULL;
	}
	if (strlcat(path, "?fields=about,address,description,email,"
	    "profile_picture_url,websites,vertical", sizeof(path)) >=
	    sizeof(path) || profile_call(cfg, "GET", path, token, NULL,
	    &got) == -1)
		goto done;
	p = json_array_get(json_object_get(got, "data"), 0);
	free(s);
	if (!json_is_object(p) || (s = json_dumps(p, JSON_COMPACT)) == NULL) {
		s = NULL;
		log_warnx("Meta's answer held no profile");
		goto done;
	}
	if (db_job_profile_set(d, n.pnid, s, (int64_t)time(NULL)) != 1)
		log_warnx("the profile could not be stored; printed only");
	json_object_foreach(p, k, v) {
		if (strcmp(k, "messaging_product") == 0)
			continue;
		if (json_is_string(v))
			(void)printf("%-20s %s\n", k, json_string_value(v));
		else if (json_is_array(v)) {
			size_t i;
			json_t *x;

			json_array_foreach(v, i, x)
				(void)printf("%-20s %s\n", k,
				    json_is_string(x) ? json_string_value(x) :
				    "?");
		}
	}
	rc = 0;
done:
	free(s);
	json_decref(got);
	json_decref(sites);
	json_decref(u);
	return rc;
}

int
numbers_cmd(int argc, char *argv[])
{
	struct cfg		 cfg;
	struct db		*d = NULL;
	struct db_number	 n;
	char			 err[512];
	const char		*what;
	int			 rc = 1;

	/* argv[0] is "numbers". */
	if (argc < 2)
		return nusage();
	what = argv[1];
	if (strcmp(what, "add") == 0 || strcmp(what, "edit") == 0 ||
	    strcmp(what, "profile") == 0) {
		if (argc < 3 || argv[2][0] == '-')
			return nusage();
	} else if (strcmp(what, "list") == 0) {
		if (argc != 2)
			return nusage();
	} else if (strcmp(what, "show") == 0 || strcmp(what, "remove") == 0) {
		if (argc != 3)
			return nusage();
	} else
		return nusage();
	if (cfg_load(&cfg, 0, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		return 1;
	}
	if ((d = db_open_current(&cfg)) == NULL)
		goto done;
	if (strcmp(what, "add") == 0)
		rc = add_cmd(&cfg, d, argv[2], argc - 2, argv + 2);
	else if (strcmp(what, "edit") == 0)
		rc = edit_cmd(d, argv[2], argc - 2, argv + 2);
	else if (strcmp(what, "profile") == 0)
		rc = profile_cmd(&cfg, d, argv[2], argc - 2, argv + 2);
	else if (strcmp(what, "list") == 0) {
		(void)printf("%-20s %-16s %-18s %-8s %-12s %-28s %s\n",
		    "PHONE_NUMBER_ID", "LABEL", "DISPLAY", "QUALITY", "STATUS",
		    "TOKEN_ENV", "NAME");
		rc = db_number_list(d, on_number, NULL) == -1;
	} else if (find(d, argv[2], &n) == 1) {
		if (strcmp(what, "show") == 0) {
			show(&n);
			rc = show_catalog(d, n.pnid);
		} else if (n.removed_at != 0)
			log_warnx("%s is removed already", n.pnid);
		else if (db_number_remove(d, n.pnid, (int64_t)time(NULL)) ==
		    1) {
			(void)printf("removed %s (%s); its history stays\n",
			    n.pnid, n.label);
			rc = 0;
		}
	}
done:
	db_close(d);
	cfg_clear(&cfg);
	return rc;
}

/*
 * After `wactl migrate`: WHATSAPP_PHONE_NUMBER_ID as the first number,
 * `default`, so that an existing install keeps working.  Opens the
 * database anew (statements are prepared at the new version).  0 or -1.
 */
int
numbers_seed(const struct cfg *cfg)
{
	struct db	*d;
	int		 added, rc = -1;

	if (cfg->phone_number_id == NULL || *cfg->phone_number_id == '\0')
		return 0;
	if ((d = db_open_current(cfg)) == NULL)
		return -1;
	switch (db_number_seed(d, cfg->phone_number_id, (int64_t)time(NULL),
	    &added)) {
	case DB_OK:
		if (added)
			(void)printf("number %s added as `default`\n",
			    cfg->phone_number_id);
		rc = 0;
		break;
	case DB_DUP:
		log_warnx("cannot add WHATSAPP_PHONE_NUMBER_ID %s as `default`: "
		    "another number has that label", cfg->phone_number_id);
		break;
	default:
		break;
	}
	db_close(d);
	return rc;
}
