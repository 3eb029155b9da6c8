/*
 * campnew.c: making a template campaign (issue 16) from a CSV or a
 * segment of the number's contacts, and the campaign object the API
 * answers and wactl prints.  The template must be stored and APPROVED
 * (templates table); its BODY says how many parameters each recipient
 * needs.  The checking of the file is campaign.c's (pure), the writing
 * db_campaigns.c's (one transaction); this file puts them together for
 * POST /campaigns and `wactl campaign create`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/string.h>
#include <jansson.h>

#include "buf.h"
#include "campaign.h"
#include "campnew.h"
#include "db.h"
#include "log.h"
#include "msg.h"

#define DAY_S		86400
#define NAME_FALLBACK	"Customer"	/* {name} of a contact without one */

/* A segment's contacts. */
struct seg {
	char	**wa_id, **name;
	size_t	  n, cap;
	int	  oom;
};

/* What db_campaign_create() draws recipients from. */
struct feed {
	const struct campaign_tmpl	*t;
	const struct campaign_list	*l;	/* a CSV, or NULL */
	const struct seg		*seg;	/* a segment, or NULL */
	const json_t			*params;
	size_t				 i;
	char				*text;	/* the last row's params */
	char				 norm[64];
	char				 name[CAMPAIGN_PARAM_MAX * 4 + 1];
};

static void
fail(struct campnew_fail *f, int status, const char *code, const char *field,
    const char *message)
{
	f->status = status;
	(void)strlcpy(f->code, code, sizeof(f->code));
	(void)strlcpy(f->field, field, sizeof(f->field));
	(void)strlcpy(f->message, message, sizeof(f->message));
}

void
campnew_fail_clear(struct campnew_fail *f)
{
	json_decref(f->lines);
	memset(f, 0, sizeof(*f));
}

/* A profile name as a parameter Meta takes (campaign_param_bad()). */
static const char *
clean_name(const char *in, char *out, size_t sz)
{
	size_t	n = 0;

	if (in == NULL)
		return NAME_FALLBACK;
	for (; *in != '\0' && n + 1 < sz; in++) {
		if (*in == '\n' || *in == '\r' || *in == '\t' || *in == ' ') {
			if (n > 0 && out[n - 1] != ' ')
				out[n++] = ' ';
			continue;
		}
		out[n++] = *in;
	}
	while (n > 0 && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
	return campaign_param_bad(out) == NULL ? out : NAME_FALLBACK;
}

/* db_campaign_create()'s recipients: the CSV's rows or the segment's. */
static int
next(void *arg, struct campaign_row *r)
{
	struct feed	*fd = arg;
	const char	*vals[CAMPAIGN_VARS_MAX], *v, *nm;
	json_t		*p;
	size_t		 k;

	free(fd->text);
	fd->text = NULL;
	memset(r, 0, sizeof(*r));
	if (fd->l != NULL) {
		if (fd->i == fd->l->n)
			return 0;
		r->line = fd->l->v[fd->i].line;
		r->wa_id = fd->l->v[fd->i].wa_id;
		r->reason = fd->l->v[fd->i].reason;
		p = campaign_params_json(fd->t, fd->l->v[fd->i].params);
	} else {
		if (fd->i == fd->seg->n)
			return 0;
		r->wa_id = fd->seg->wa_id[fd->i];
		if (campaign_wa_id(r->wa_id, fd->norm, sizeof(fd->norm)) == 0)
			r->wa_id = fd->norm;
		else
			r->reason = "invalid_number";
		nm = NULL;
		for (k = 0; k < (size_t)fd->t->nvars; k++) {
			v = json_string_value(json_array_get(fd->params, k));
			if (strcmp(v, "{name}") == 0) {
				if (nm == NULL)
					nm = clean_name(fd->seg->name[fd->i],
					    fd->name, sizeof(fd->name));
				v = nm;
			}
			vals[k] = v;
		}
		p = campaign_params_json(fd->t, vals);
	}
	fd->i++;
	fd->text = p != NULL ? json_dumps(p, JSON_COMPACT) : NULL;
	json_decref(p);
	if (fd->text == NULL)
		return -1;
	r->params = fd->text;
	return 1;
}

/* db_campaign_segment() row: one contact. */
static void
on_contact(void *arg, int nc, const char *const *names,
    const struct db_val *v)
{
	struct seg	*s = arg;
	const char	*w = db_val_text(nc, names, v, "wa_id");
	const char	*n = db_val_text(nc, names, v, "profile_name");
	void		*p;
	size_t		 cap;

	if (s->oom || w == NULL)
		return;
	if (s->n == s->cap) {
		cap = s->cap == 0 ? 64 : s->cap * 2;
		if ((p = reallocarray(s->wa_id, cap, sizeof(char *))) == NULL) {
			s->oom = 1;
			return;
		}
		s->wa_id = p;
		if ((p = reallocarray(s->name, cap, sizeof(char *))) == NULL) {
			s->oom = 1;
			return;
		}
		s->name = p;
		s->cap = cap;
	}
	s->wa_id[s->n] = strdup(w);
	s->name[s->n] = n != NULL ? strdup(n) : NULL;
	if (s->wa_id[s->n] == NULL || (n != NULL && s->name[s->n] == NULL)) {
		free(s->wa_id[s->n]);
		free(s->name[s->n]);
		s->oom = 1;
		return;
	}
	s->n++;
}

static void
seg_clear(struct seg *s)
{
	size_t	i;

	for (i = 0; i < s->n; i++) {
		free(s->wa_id[i]);
		free(s->name[i]);
	}
	free(s->wa_id);
	free(s->name);
	memset(s, 0, sizeof(*s));
}

/*
 * The stored template r asks for, its BODY read into t: 0, or -1 with f
 * filled (template_not_found, template_not_approved, unavailable).
 */
static int
find_template(struct db *d, const struct campnew_req *r,
    struct campaign_tmpl *t, struct campnew_fail *f)
{
	struct db_number	 num;
	struct db_template	 tp;
	char			 msg[512];
	int			 rc;

	memset(&tp, 0, sizeof(tp));
	if ((rc = db_number_get(d, r->pnid, &num)) == -1)
		goto trouble;
	if (rc == 0 || num.waba_id[0] == '\0') {
		(void)snprintf(msg, sizeof(msg), "Number %s has no WhatsApp "
		    "Business Account known here, so template %.64s cannot be "
		    "found: set it (wactl numbers edit) and run wactl "
		    "templates sync.", r->pnid, r->template);
		fail(f, 400, "template_not_found", "template", msg);
		return -1;
	}
	if ((rc = db_template_get(d, num.waba_id, r->template, r->language,
	    &tp)) == -1)
		goto trouble;
	if (rc == 0) {
		(void)snprintf(msg, sizeof(msg), "No template %.64s in "
		    "language %.15s is known for this number's account; check "
		    "the name and language, or run wactl templates sync.",
		    r->template, r->language);
		fail(f, 400, "template_not_found", "template", msg);
		return -1;
	}
	if (strcmp(tp.status, "APPROVED") != 0) {
		(void)snprintf(msg, sizeof(msg), "Template %.64s (%s) is %s at "
		    "Meta, not APPROVED; a campaign can only send an approved "
		    "template.", tp.name, tp.language, tp.status);
		fail(f, 400, "template_not_approved", "template", msg);
		db_template_clear(&tp);
		return -1;
	}
	if (campaign_tmpl_parse(tp.components, t) == -1) {
		(void)snprintf(msg, sizeof(msg), "Template %.64s (%s) is "
		    "stored without a body this gateway can read (at most %d "
		    "variables); run wactl templates sync.", tp.name,
		    tp.language, CAMPAIGN_VARS_MAX);
		fail(f, 400, "template_not_found", "template", msg);
		db_template_clear(&tp);
		return -1;
	}
	if (t->unsupported != NULL) {
		(void)snprintf(msg, sizeof(msg), "Template %.64s (%s) cannot "
		    "be sent by a campaign: %s.  A campaign fills only the "
		    "body's parameters.", tp.name, tp.language, t->unsupported);
		fail(f, 400, "template_unsupported", "template", msg);
		campaign_tmpl_clear(t);
		db_template_clear(&tp);
		return -1;
	}
	db_template_clear(&tp);
	return 0;
trouble:
	fail(f, 503, "unavailable", "", "The template could not be read; "
	    "try again.");
	return -1;
}

/* A segment's parameters checked against t: 0, or -1 with f filled. */
static int
check_params(const json_t *params, const struct campaign_tmpl *t,
    struct campnew_fail *f)
{
	const json_t	*v;
	const char	*why;
	char		 msg[512];
	size_t		 i;

	if (params != NULL && !json_is_array(params)) {
		fail(f, 400, "invalid_params", "params", "params is a list "
		    "of texts, one per template parameter.");
		return -1;
	}
	if (json_array_size(params) != (size_t)t->nvars) {
		(void)snprintf(msg, sizeof(msg), "The template's body needs "
		    "%d parameters; params gives %zu.", t->nvars,
		    json_array_size(params));
		fail(f, 400, "invalid_params", "params", msg);
		return -1;
	}
	json_array_foreach(params, i, v) {
		if (!json_is_string(v)) {
			(void)snprintf(msg, sizeof(msg), "params[%zu] must be "
			    "a text.", i);
			fail(f, 400, "invalid_params", "params", msg);
			return -1;
		}
		if (strcmp(json_string_value(v), "{name}") != 0 &&
		    (why = campaign_param_bad(json_string_value(v))) != NULL) {
			(void)snprintf(msg, sizeof(msg), "params[%zu] %s.", i,
			    why);
			fail(f, 400, "invalid_params", "params", msg);
			return -1;
		}
	}
	return 0;
}

/* A name people and wactl can use: 1 to 64 characters, no controls. */
static int
name_ok(const char *n)
{
	const unsigned char	*p;
	size_t			 chars = 0;

	for (p = (const unsigned char *)n; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return 0;
		if ((*p & 0xc0) != 0x80)
			chars++;
	}
	return chars >= 1 && chars <= CAMPAIGN_NAME_MAX &&
	    n[0] != ' ' && n[strlen(n) - 1] != ' ';
}

/* A language code: 2 to 15 of letters and _. */
static int
lang_ok(const char *l)
{
	size_t n = strlen(l);

	return n >= 2 && n <= 15 && strspn(l, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") == n;
}

/* dry_run: the campaign as written, just before it is undone. */
static void
peek(void *arg, struct db *d, int64_t id)
{
	json_t	**o = arg;
	int	  found;

	if ((*o = campnew_json(d, id, &found)) != NULL)
		(void)json_object_set_new(*o, "id", json_null());
}

/*
 * Makes campaign r (its number r->pnid already resolved): checks the
 * name, the template (stored, APPROVED), the CSV all or nothing or the
 * segment and its parameters, then writes it with every recipient in
 * one transaction (nothing with r->dry_run).  The campaign object
 * (campnew_json(); "id": null when dry), or NULL with f filled (the
 * caller clears it).
 */
json_t *
campnew_make(struct db *d, const struct campnew_req *r, int64_t now_ms,
    struct campnew_fail *f)
{
	struct campaign_tmpl	 t;
	struct campaign_list	 l;
	struct campaign_csv_err	 e;
	struct campaign_new	 n;
	struct seg		 seg;
	struct feed		 fd;
	struct msg_err		 me;
	json_t			*src = NULL, *o = NULL;
	char			*source = NULL, msg[512];
	int64_t			 id;
	int			 i, found;

	memset(f, 0, sizeof(*f));
	memset(&t, 0, sizeof(t));
	memset(&l, 0, sizeof(l));
	memset(&seg, 0, sizeof(seg));
	memset(&fd, 0, sizeof(fd));
	if (r->name == NULL || !name_ok(r->name)) {
		fail(f, 400, "invalid_name", "name", "name is required: 1 to "
		    "64 characters, no control characters and no spaces at "
		    "either end.");
		goto done;
	}
	if (r->template == NULL || *r->template == '\0') {
		fail(f, 400, "template_not_found", "template", "template is "
		    "required: the name of an approved template.");
		goto done;
	}
	if (r->language == NULL || !lang_ok(r->language)) {
		fail(f, 400, "invalid_language", "language", "language is "
		    "required: the template's language code, e.g. en_US.");
		goto done;
	}
	if ((r->csv != NULL) + (r->label != NULL) + (r->active_days > 0) !=
	    1) {
		fail(f, 400, "invalid_source", "csv", "Give the recipients "
		    "one way: csv, or a segment (label or active_days).");
		goto done;
	}
	if (find_template(d, r, &t, f) == -1)
		goto done;
	if (r->csv != NULL) {
		if (campaign_csv_parse(r->csv, r->csv_len, &t, &l, &e) == -1) {
			fail(f, 400, "invalid_csv", "csv", e.message);
			if ((f->lines = json_array()) == NULL)
				goto done;
			for (i = 0; i < e.nshown; i++)
				(void)json_array_append_new(f->lines,
				    json_pack("{s:i, s:s}", "line",
				    e.bad[i].line, "message",
				    e.bad[i].message));
			goto done;
		}
		src = json_pack("{s:s}", "file", r->file != NULL ? r->file :
		    "upload.csv");
		fd.l = &l;
	} else {
		if (check_params(r->params, &t, f) == -1)
			goto done;
		if (db_campaign_segment(d, r->pnid, r->label, r->label != NULL ?
		    0 : now_ms / 1000 - r->active_days * DAY_S, on_contact,
		    &seg) < 0 || seg.oom) {
			fail(f, 503, "unavailable", "", "The segment could "
			    "not be read; try again.");
			goto done;
		}
		if (seg.n == 0) {
			if (r->label != NULL)
				(void)snprintf(msg, sizeof(msg), "No contact "
				    "of this number has a conversation "
				    "labelled %.64s.", r->label);
			else
				(void)snprintf(msg, sizeof(msg), "No contact "
				    "of this number wrote in the last %lld "
				    "days.", (long long)r->active_days);
			fail(f, 400, "empty_segment", "segment", msg);
			goto done;
		}
		if (seg.n > CAMPAIGN_ROWS_MAX) {
			fail(f, 400, "too_many_recipients", "segment", "The "
			    "segment has more than 200,000 contacts, a "
			    "campaign's most; narrow it.");
			goto done;
		}
		src = r->label != NULL ? json_pack("{s:s}", "label",
		    r->label) : json_pack("{s:I}", "active_days",
		    (json_int_t)r->active_days);
		fd.seg = &seg;
		fd.params = r->params;
	}
	fd.t = &t;
	if (src == NULL || (source = json_dumps(src, JSON_COMPACT)) == NULL) {
		fail(f, 503, "unavailable", "", "Out of memory.");
		goto done;
	}
	memset(&n, 0, sizeof(n));
	n.name = r->name;
	n.pnid = r->pnid;
	n.template = r->template;
	n.language = r->language;
	n.source = source;
	n.start_ms = r->start_s > 0 ? r->start_s * 1000 : now_ms;
	n.created_by = r->created_by;
	n.now_ms = now_ms;
	n.next = next;
	n.arg = &fd;
	n.dry_run = r->dry_run;
	n.peek = peek;
	n.peek_arg = &o;
	if (db_campaign_create(d, &n, &id, &me) == -1) {
		if (strcmp(me.code, "name_taken") == 0)
			fail(f, 409, me.code, "name", me.message);
		else
			fail(f, 503, me.code, "", me.message);
		goto done;
	}
	if (!r->dry_run && (o = campnew_json(d, id, &found)) == NULL)
		fail(f, 503, "unavailable", "", "The campaign was made but "
		    "could not be read back; list the campaigns.");
	else if (r->dry_run && o == NULL)
		fail(f, 503, "unavailable", "", "The campaign could not be "
		    "tried; try again.");
done:
	free(fd.text);
	free(source);
	json_decref(src);
	seg_clear(&seg);
	campaign_list_clear(&l);
	campaign_tmpl_clear(&t);
	return o;
}

/* db_campaign_get() row: the campaign as an object (into arg). */
static void
on_campaign(void *arg, int nc, const char *const *names,
    const struct db_val *v)
{
	static const char *const json_cols[] = { "source", NULL };
	json_t	**o = arg;

	*o = db_row_json(nc, names, v, json_cols);
}

/* o's preview: the first queued recipient's text, or null. */
static int
preview(struct db *d, int64_t id, json_t *o)
{
	struct db_template	 tp;
	struct campaign_tmpl	 t;
	const char		*waba, *name, *lang;
	json_t			*p = NULL;
	char			*params = NULL, *text = NULL;
	int			 rc;

	memset(&t, 0, sizeof(t));
	waba = json_string_value(json_object_get(o, "waba_id"));
	name = json_string_value(json_object_get(o, "template"));
	lang = json_string_value(json_object_get(o, "language"));
	if ((rc = db_campaign_first(d, id, &params)) == -1)
		return -1;
	if (rc == 1 && waba != NULL && name != NULL && lang != NULL &&
	    (rc = db_template_get(d, waba, name, lang, &tp)) == 1) {
		if (campaign_tmpl_parse(tp.components, &t) == 0 &&
		    (p = json_loads(params, 0, NULL)) != NULL)
			(void)campaign_preview(&t, p, &text);
		db_template_clear(&tp);
	}
	(void)json_object_set_new(o, "preview", text != NULL ?
	    json_string(text) : json_null());
	json_decref(p);
	free(text);
	free(params);
	campaign_tmpl_clear(&t);
	return rc == -1 ? -1 : 0;
}

/*
 * Campaign id as the API shows it (docs/openapi.yaml Campaign): its row,
 * "counts" by recipient state and "preview".  A new reference, or NULL
 * with *found 0 (no such campaign) or 1 (a database error, logged).
 */
json_t *
campnew_json(struct db *d, int64_t id, int *found)
{
	int64_t	 counts[DB_CAMPAIGN_STATES], total = 0;
	json_t	*o = NULL, *c, *why;
	int	 k;

	*found = 1;
	if (db_campaign_get(d, id, on_campaign, &o) < 0)
		goto fail;
	if (o == NULL) {
		*found = 0;
		return NULL;
	}
	/* o owns c, and c why, before anything can fail. */
	if (json_object_set_new(o, "counts", c = json_object()) == -1 ||
	    json_object_set_new(c, "skipped_reasons", why = json_object()) ==
	    -1 || db_campaign_counts(d, id, counts, why) == -1)
		goto fail;
	for (k = 0; k < DB_CAMPAIGN_STATES; k++)
		total += counts[k];
	(void)json_object_set_new(c, "total", json_integer(total));
	for (k = 0; k < DB_CAMPAIGN_STATES; k++)
		(void)json_object_set_new(c, db_campaign_states[k],
		    json_integer(counts[k]));
	if (preview(d, id, o) == -1)
		goto fail;
	(void)json_object_del(o, "waba_id");
	return o;
fail:
	json_decref(o);
	return NULL;
}

/* One CSV field: quoted when it holds a comma, quote or line break. */
static int
csv_field(struct buf *b, const char *v, int last)
{
	const char	*p;

	if (v != NULL && strpbrk(v, ",\"\r\n") != NULL) {
		if (buf_append(b, "\"", 1) == -1)
			return -1;
		for (p = v; *p != '\0'; p++)
			if ((*p == '"' && buf_append(b, "\"", 1) == -1) ||
			    buf_append(b, p, 1) == -1)
				return -1;
		if (buf_append(b, "\"", 1) == -1)
			return -1;
	} else if (v != NULL && buf_append(b, v, strlen(v)) == -1)
		return -1;
	return buf_append(b, last ? "\n" : ",", 1);
}

/* The report's state while it is written. */
struct report {
	struct buf	*b;
	int		 oom;
};

/* db_campaign_report() row: one CSV line. */
static void
on_report(void *arg, int nc, const char *const *names,
    const struct db_val *v)
{
	struct report	*r = arg;
	char		 line[24] = "", code[24] = "", at[24] = "";
	int64_t		 x;

	if (r->oom)
		return;
	if ((x = db_val_int(nc, names, v, "line")) != 0)
		(void)snprintf(line, sizeof(line), "%lld", (long long)x);
	if ((x = db_val_int(nc, names, v, "error_code")) != 0)
		(void)snprintf(code, sizeof(code), "%lld", (long long)x);
	(void)snprintf(at, sizeof(at), "%lld", (long long)db_val_int(nc, names,
	    v, "updated_at"));
	if (csv_field(r->b, line, 0) == -1 ||
	    csv_field(r->b, db_val_text(nc, names, v, "wa_id"), 0) == -1 ||
	    csv_field(r->b, db_val_text(nc, names, v, "state"), 0) == -1 ||
	    csv_field(r->b, db_val_text(nc, names, v, "reason"), 0) == -1 ||
	    csv_field(r->b, code, 0) == -1 || csv_field(r->b, at, 1) == -1)
		r->oom = 1;
}

/*
 * Campaign id's report as CSV into out (buf_init()ed; the caller
 * clears it): the header line,wa_id,state,reason,error_code,updated_at
 * and every recipient in the file's order.  0, or -1 (database, memory).
 */
int
campnew_report(struct db *d, int64_t id, struct buf *out)
{
	struct report	r;

	memset(&r, 0, sizeof(r));
	r.b = out;
	if (buf_printf(out, "line,wa_id,state,reason,error_code,"
	    "updated_at\n") == -1)
		return -1;
	if (db_campaign_report(d, id, on_report, &r) < 0 || r.oom)
		return -1;
	return 0;
}
