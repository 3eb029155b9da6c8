/*
 * campaign_cli.c: `wactl campaign` (issue 16): make a template campaign
 * from a CSV file or a segment of a number's contacts, list them, show
 * one with a progress bar, pause, resume or cancel it, list its
 * recipients and print its report.  The same checks as POST /campaigns
 * (campnew.c), on the database directly, like the other wactl commands.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "buf.h"
#include "campaign.h"
#include "campaign_cli.h"
#include "campnew.h"
#include "cfg.h"
#include "clock.h"
#include "db.h"
#include "log.h"

#define FILE_MAX	(64 * 1024 * 1024)	/* a recipients file, bytes */
#define PARAMS_MAX	CAMPAIGN_VARS_MAX
#define BAR		30			/* the progress bar's width */

/* "skipped: duplicate 2, opted_out 1" when some were skipped. */
static void
print_skipped(const json_t *o)
{
	json_t		*why = json_object_get(json_object_get(o, "counts"),
			    "skipped_reasons");
	const char	*k, *sep = "skipped: ";
	json_t		*n;

	if (json_object_size(why) == 0)
		return;
	json_object_foreach(why, k, n) {
		(void)printf("%s%s %lld", sep, k,
		    (long long)json_integer_value(n));
		sep = ", ";
	}
	(void)printf("\n");
}

static void
usage(void)
{
	(void)fprintf(stderr, "usage: wactl campaign create NAME --number ID|"
	    "LABEL --template NAME --language CODE\n"
	    "           (--to FILE.csv | --label L | --active-days N "
	    "[--param V]...) [--at TIME] [--dry-run]\n"
	    "       wactl campaign list\n"
	    "       wactl campaign show NAME\n"
	    "       wactl campaign pause|resume|cancel NAME\n"
	    "       wactl campaign recipients NAME [--state queued|skipped|"
	    "sent|delivered|read|failed]\n"
	    "       wactl campaign report NAME\n"
	    "FILE.csv: a header wa_id,P1,... (one column per template "
	    "parameter), then one line per\n"
	    "recipient, at most 200,000; TIME: unix seconds or "
	    "YYYY-MM-DDTHH:MM[:SS]Z; --param {name}\n"
	    "is the contact's profile name.\n");
	exit(2);
}

/* The whole of file path, malloc'd into *out (*len bytes); 0 or -1. */
static int
slurp(const char *path, char **out, size_t *len)
{
	FILE	*f;
	char	*p = NULL, *np;
	size_t	 n = 0, cap = 0, got;

	*out = NULL;
	if ((f = fopen(path, "rb")) == NULL) {
		log_warn("%s", path);
		return -1;
	}
	for (;;) {
		if (n + 65536 + 1 > cap) {
			cap = cap == 0 ? 131072 : cap * 2;
			if ((np = realloc(p, cap)) == NULL) {
				log_warnx("%s: out of memory", path);
				goto fail;
			}
			p = np;
		}
		got = fread(p + n, 1, 65536, f);
		n += got;
		if (n > FILE_MAX) {
			log_warnx("%s: larger than 64 MB; a campaign takes at "
			    "most 200,000 recipients", path);
			goto fail;
		}
		if (got < 65536)
			break;
	}
	if (ferror(f)) {
		log_warnx("%s: read error", path);
		goto fail;
	}
	(void)fclose(f);
	p[n] = '\0';
	*out = p;
	*len = n;
	return 0;
fail:
	free(p);
	(void)fclose(f);
	return -1;
}

/* A positive integer from s, or 0. */
static int64_t
num_of(const char *s)
{
	char		*end;
	long long	 v;

	errno = 0;
	v = strtoll(s, &end, 10);
	return *s != '\0' && *end == '\0' && errno == 0 && v > 0 ?
	    (int64_t)v : 0;
}

static int
create_cmd(struct db *d, int argc, char *argv[])
{
	struct campnew_req	 r;
	struct campnew_fail	 f;
	struct db_number	 num;
	const char		*number = NULL, *to = NULL, *at = NULL, *base;
	json_t			*params = NULL, *o = NULL, *x, *c;
	char			*csv = NULL;
	size_t			 i;
	int			 a, k, rc = 1;

	memset(&r, 0, sizeof(r));
	memset(&f, 0, sizeof(f));
	r.name = argv[2];
	if ((params = json_array()) == NULL)
		return 1;
	for (a = 3; a < argc; a++) {
		if (strcmp(argv[a], "--dry-run") == 0) {
			r.dry_run = 1;
			continue;
		}
		if (a + 1 >= argc)
			usage();
		if (strcmp(argv[a], "--number") == 0)
			number = argv[++a];
		else if (strcmp(argv[a], "--template") == 0)
			r.template = argv[++a];
		else if (strcmp(argv[a], "--language") == 0)
			r.language = argv[++a];
		else if (strcmp(argv[a], "--to") == 0)
			to = argv[++a];
		else if (strcmp(argv[a], "--label") == 0)
			r.label = argv[++a];
		else if (strcmp(argv[a], "--active-days") == 0) {
			if ((r.active_days = num_of(argv[++a])) == 0 ||
			    r.active_days > 3650) {
				log_warnx("--active-days must be a number of "
				    "days, 1 to 3650");
				goto done;
			}
		} else if (strcmp(argv[a], "--param") == 0) {
			if (json_array_append_new(params,
			    json_string(argv[++a])) == -1) {
				log_warnx("--param %s: not UTF-8 text",
				    argv[a]);
				goto done;
			}
		} else if (strcmp(argv[a], "--at") == 0)
			at = argv[++a];
		else
			usage();
	}
	if (number == NULL || r.template == NULL || r.language == NULL ||
	    (to != NULL) + (r.label != NULL) + (r.active_days > 0) != 1)
		usage();
	if (to != NULL && json_array_size(params) > 0) {
		log_warnx("--param goes with --label or --active-days; the "
		    "CSV has a column per parameter");
		goto done;
	}
	if (at != NULL && campaign_at_parse(at, &r.start_s) == -1) {
		log_warnx("--at %s: give unix seconds or "
		    "YYYY-MM-DDTHH:MM[:SS]Z (UTC)", at);
		goto done;
	}
	if ((k = db_number_get(d, number, &num)) == -1)
		goto done;
	if (k == 0 || num.removed_at != 0) {
		log_warnx("no active business number %s: give the "
		    "phone_number_id or label of one that wactl numbers list "
		    "shows", number);
		goto done;
	}
	r.pnid = num.pnid;
	if (to != NULL) {
		if (slurp(to, &csv, &r.csv_len) == -1)
			goto done;
		r.csv = csv;
		base = strrchr(to, '/');
		r.file = base != NULL ? base + 1 : to;
	} else
		r.params = params;
	if ((o = campnew_make(d, &r, clock_now_ms(), &f)) == NULL) {
		log_warnx("%s", f.message);
		json_array_foreach(f.lines, i, x)
			(void)fprintf(stderr, "  line %lld: %s\n",
			    (long long)json_integer_value(json_object_get(x,
			    "line")), json_string_value(json_object_get(x,
			    "message")));
		goto done;
	}
	c = json_object_get(o, "counts");
	if (r.dry_run)
		(void)printf("dry run, nothing written: ");
	else
		(void)printf("campaign %lld %s: ", (long long)
		    json_integer_value(json_object_get(o, "id")), r.name);
	(void)printf("%lld recipients, %lld queued, %lld skipped\n",
	    (long long)json_integer_value(json_object_get(c, "total")),
	    (long long)json_integer_value(json_object_get(c, "queued")),
	    (long long)json_integer_value(json_object_get(c, "skipped")));
	print_skipped(o);
	if (json_is_string(json_object_get(o, "preview")))
		(void)printf("first message: %s\n", json_string_value(
		    json_object_get(o, "preview")));
	rc = 0;
done:
	campnew_fail_clear(&f);
	json_decref(params);
	json_decref(o);
	free(csv);
	return rc;
}

/* The campaign called name as an object, or NULL with the reason said. */
static json_t *
by_name(struct db *d, const char *name, int64_t *id)
{
	json_t	*o;
	int	 k, found;

	if ((k = db_campaign_find(d, name, id)) == -1)
		return NULL;
	if (k == 0) {
		log_warnx("no campaign is called %s (wactl campaign list)",
		    name);
		return NULL;
	}
	if ((o = campnew_json(d, *id, &found)) == NULL)
		log_warnx("campaign %s could not be read", name);
	return o;
}

static int64_t
count(const json_t *o, const char *state)
{
	return json_integer_value(json_object_get(json_object_get(o,
	    "counts"), state));
}

static const char *
str(const json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));

	return v != NULL ? v : "-";
}

/* db_campaign_list() row: its id into the array. */
static void
on_id(void *arg, int nc, const char *const *names, const struct db_val *v)
{
	(void)json_array_append_new(arg, json_integer(db_val_int(nc, names, v,
	    "id")));
}

static int
list_cmd(struct db *d)
{
	json_t	*ids, *x, *o;
	size_t	 i;
	int	 found, rc = 1;

	if ((ids = json_array()) == NULL)
		return 1;
	if (db_campaign_list(d, NULL, 1000, on_id, ids) < 0)
		goto done;
	(void)printf("%-5s %-24s %-9s %-10s %-24s %7s %7s %7s %7s %7s\n",
	    "ID", "NAME", "STATE", "NUMBER", "TEMPLATE", "TOTAL", "QUEUED",
	    "SENT", "FAILED", "SKIPPED");
	json_array_foreach(ids, i, x) {
		if ((o = campnew_json(d, json_integer_value(x), &found)) ==
		    NULL)
			continue;
		(void)printf("%-5lld %-24s %-9s %-10s %-24s %7lld %7lld %7lld "
		    "%7lld %7lld\n", (long long)json_integer_value(x),
		    str(o, "name"), str(o, "state"), str(o, "number"),
		    str(o, "template"), (long long)count(o, "total"),
		    (long long)count(o, "queued"), (long long)(count(o,
		    "sent") + count(o, "delivered") + count(o, "read")),
		    (long long)count(o, "failed"),
		    (long long)count(o, "skipped"));
		json_decref(o);
	}
	rc = 0;
done:
	json_decref(ids);
	return rc;
}

/* A time (unix seconds) as UTC text, or "-". */
static const char *
when(const json_t *o, const char *k, char *buf, size_t sz)
{
	json_t		*v = json_object_get(o, k);
	time_t		 t;
	struct tm	 tm;

	if (!json_is_integer(v))
		return "-";
	t = (time_t)json_integer_value(v);
	if (gmtime_r(&t, &tm) == NULL || strftime(buf, sz,
	    "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		return "-";
	return buf;
}

static int
show_cmd(struct db *d, const char *name)
{
	json_t		*o;
	int64_t		 id, total, done;
	char		 bar[BAR + 1], t1[40], t2[40];
	int		 k, fill;

	if ((o = by_name(d, name, &id)) == NULL)
		return 1;
	total = count(o, "total");
	done = total - count(o, "queued");
	fill = total > 0 ? (int)(done * BAR / total) : BAR;
	for (k = 0; k < BAR; k++)
		bar[k] = k < fill ? '#' : '.';
	bar[BAR] = '\0';
	(void)printf("campaign %lld %s: %s\n", (long long)id, str(o, "name"),
	    str(o, "state"));
	(void)printf("number %s, template %s (%s)\n", str(o, "number"),
	    str(o, "template"), str(o, "language"));
	(void)printf("starts %s, created %s\n", when(o, "start_at", t1,
	    sizeof(t1)), when(o, "created_at", t2, sizeof(t2)));
	(void)printf("[%s] %lld%% (%lld of %lld handled)\n", bar,
	    (long long)(total > 0 ? done * 100 / total : 100),
	    (long long)done, (long long)total);
	(void)printf("queued %lld, sent %lld, delivered %lld, read %lld, "
	    "failed %lld, skipped %lld\n", (long long)count(o, "queued"),
	    (long long)count(o, "sent"), (long long)count(o, "delivered"),
	    (long long)count(o, "read"), (long long)count(o, "failed"),
	    (long long)count(o, "skipped"));
	print_skipped(o);
	if (json_is_string(json_object_get(o, "wait_reason")))
		(void)printf("waiting until %s: %s\n", when(o, "wait_until",
		    t1, sizeof(t1)), str(o, "wait_reason"));
	if (json_is_string(json_object_get(o, "finished_at")) ||
	    json_is_integer(json_object_get(o, "finished_at")))
		(void)printf("finished %s\n", when(o, "finished_at", t1,
		    sizeof(t1)));
	if (json_is_string(json_object_get(o, "preview")))
		(void)printf("first message: %s\n", str(o, "preview"));
	json_decref(o);
	return 0;
}

static int
act_cmd(struct db *d, const char *verb, const char *name)
{
	enum db_campaign_act	 a;
	json_t			*o;
	int64_t			 id;
	int			 rc;

	a = strcmp(verb, "pause") == 0 ? DB_CAMPAIGN_PAUSE :
	    strcmp(verb, "resume") == 0 ? DB_CAMPAIGN_RESUME :
	    DB_CAMPAIGN_CANCEL;
	if ((o = by_name(d, name, &id)) == NULL)
		return 1;
	json_decref(o);
	if ((rc = db_campaign_act(d, id, a, clock_now_ms())) == -2) {
		log_warnx("campaign %s is done or cancelled: it cannot be "
		    "paused, resumed or cancelled any more", name);
		return 1;
	}
	if (rc != 1)
		return 1;
	if ((o = by_name(d, name, &id)) == NULL)
		return 1;
	(void)printf("campaign %s: %s\n", name, str(o, "state"));
	json_decref(o);
	return 0;
}

/* db_campaign_recipients() row: one line, and the page's last id. */
static void
on_rcpt(void *arg, int nc, const char *const *names, const struct db_val *v)
{
	int64_t		*last = arg, line, code;
	const char	*reason = db_val_text(nc, names, v, "reason");

	*last = db_val_int(nc, names, v, "id");
	line = db_val_int(nc, names, v, "line");
	code = db_val_int(nc, names, v, "error_code");
	(void)printf("%-8lld %-7lld %-16s %-10s %-16s %lld\n", (long long)*last,
	    (long long)line, db_val_text(nc, names, v, "wa_id"),
	    db_val_text(nc, names, v, "state"), reason != NULL ? reason : "-",
	    (long long)code);
}

static int
recipients_cmd(struct db *d, int argc, char *argv[])
{
	const char	*state = NULL;
	json_t		*o;
	int64_t		 id, before = 0, last;
	size_t		 k;
	int		 n;

	if (argc == 5 && strcmp(argv[3], "--state") == 0)
		state = argv[4];
	else if (argc != 3)
		usage();
	if (state != NULL) {
		for (k = 0; db_campaign_states[k] != NULL; k++)
			if (strcmp(db_campaign_states[k], state) == 0)
				break;
		if (db_campaign_states[k] == NULL) {
			log_warnx("--state must be queued, skipped, sent, "
			    "delivered, read or failed");
			return 1;
		}
	}
	if ((o = by_name(d, argv[2], &id)) == NULL)
		return 1;
	json_decref(o);
	(void)printf("%-8s %-7s %-16s %-10s %-16s %s\n", "ID", "LINE", "WA_ID",
	    "STATE", "REASON", "ERROR");
	do {
		last = 0;
		if ((n = db_campaign_recipients(d, id, state, before, 1000,
		    on_rcpt, &last)) < 0)
			return 1;
		before = last;
	} while (n == 1000);
	return 0;
}

static int
report_cmd(struct db *d, const char *name)
{
	struct buf	 b;
	json_t		*o;
	int64_t		 id;
	int		 rc = 1;

	if ((o = by_name(d, name, &id)) == NULL)
		return 1;
	json_decref(o);
	buf_init(&b);
	if (campnew_report(d, id, &b) == 0 && (b.len == 0 ||
	    fwrite(b.p, 1, b.len, stdout) == b.len) && fflush(stdout) == 0)
		rc = 0;
	else
		log_warnx("the report of campaign %s could not be written",
		    name);
	buf_clear(&b);
	return rc;
}

/* wactl campaign ...: argv[0] is "campaign". */
int
campaign_cli_cmd(int argc, char *argv[])
{
	struct cfg	 cfg;
	struct db	*d = NULL;
	char		 err[512];
	const char	*v;
	int		 rc = 1;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0)
		usage();
	v = argv[1];
	if ((strcmp(v, "list") == 0 && argc != 2) ||
	    ((strcmp(v, "show") == 0 || strcmp(v, "pause") == 0 ||
	    strcmp(v, "resume") == 0 || strcmp(v, "cancel") == 0 ||
	    strcmp(v, "report") == 0) && argc != 3) ||
	    ((strcmp(v, "create") == 0 || strcmp(v, "recipients") == 0) &&
	    argc < 3))
		usage();
	if (strcmp(v, "list") != 0 && strcmp(v, "show") != 0 &&
	    strcmp(v, "pause") != 0 && strcmp(v, "resume") != 0 &&
	    strcmp(v, "cancel") != 0 && strcmp(v, "report") != 0 &&
	    strcmp(v, "create") != 0 && strcmp(v, "recipients") != 0)
		usage();
	if (cfg_load(&cfg, 0, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		return 1;
	}
	if ((d = db_open_current(&cfg)) == NULL)
		goto done;
	if (strcmp(v, "create") == 0)
		rc = create_cmd(d, argc, argv);
	else if (strcmp(v, "list") == 0)
		rc = list_cmd(d);
	else if (strcmp(v, "show") == 0)
		rc = show_cmd(d, argv[2]);
	else if (strcmp(v, "recipients") == 0)
		rc = recipients_cmd(d, argc, argv);
	else if (strcmp(v, "report") == 0)
		rc = report_cmd(d, argv[2]);
	else
		rc = act_cmd(d, v, argv[2]);
done:
	db_close(d);
	cfg_clear(&cfg);
	return rc;
}
