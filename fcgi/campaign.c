/*
 * campaign.c: the pure part of template campaigns (issue 16).  Reads the
 * variables of a stored template's BODY, checks a recipients CSV all or
 * nothing (a header `wa_id,P1,...`, RFC 4180 quoting through csv.c, a
 * UTF-8 byte order mark dropped, blank lines ignored, line numbers as a
 * person counts them), builds the Graph API body of one recipient's
 * template message and the preview text a person reads before starting.
 * No I/O, SQLite or clock (Makefile PURE): the API, wactl and the worker
 * share it.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "campaign.h"
#include "civil.h"
#include "csv.h"

#define WA_ID_KEPT	64	/* bytes of an invalid number kept */

/* Frees what t holds and zeroes it. */
void
campaign_tmpl_clear(struct campaign_tmpl *t)
{
	free(t->body);
	memset(t, 0, sizeof(*t));
}

/*
 * One variable's name between "{{" and "}}" (at most len bytes): 1 when
 * it is a position (digits; *pos set), 0 a name (letters, digits, _),
 * -1 neither (the text is left as it is, as Meta shows it).
 */
static int
var_kind(const char *p, size_t len, int *pos)
{
	size_t	i;
	int	digits = 1;

	if (len == 0 || len >= CAMPAIGN_VAR_NAME_MAX)
		return -1;
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)p[i]))
			digits = 0;
		if (!isalnum((unsigned char)p[i]) && p[i] != '_')
			return -1;
	}
	if (!digits)
		return 0;
	*pos = 0;
	for (i = 0; i < len && *pos <= CAMPAIGN_VARS_MAX; i++)
		*pos = *pos * 10 + (p[i] - '0');
	return 1;
}

/*
 * Why a campaign, which fills only BODY parameters, cannot send a
 * template with component c (Meta's listing shape), or NULL: a media or
 * location header needs its file, a text header or a URL button with a
 * variable its value, a copy-code, one-time-password or multi-product
 * button its own parameter, a carousel or limited-time offer its cards
 * and expiry.  Meta would refuse every such send (132000).
 */
static const char *
unsupported(const json_t *c)
{
	const char	*type, *fmt, *s;
	json_t		*b;
	size_t		 i;

	type = json_string_value(json_object_get(c, "type"));
	if (type == NULL)
		return NULL;
	if (strcasecmp(type, "HEADER") == 0) {
		fmt = json_string_value(json_object_get(c, "format"));
		if (fmt != NULL && strcasecmp(fmt, "TEXT") != 0)
			return "its header is an image, video, document or "
			    "location, which needs a file for each send";
		s = json_string_value(json_object_get(c, "text"));
		if (s != NULL && strstr(s, "{{") != NULL)
			return "its header text has a variable";
	} else if (strcasecmp(type, "BUTTONS") == 0) {
		json_array_foreach(json_object_get(c, "buttons"), i, b) {
			type = json_string_value(json_object_get(b, "type"));
			s = json_string_value(json_object_get(b, "url"));
			if (type == NULL)
				continue;
			if (strcasecmp(type, "URL") == 0 && s != NULL &&
			    strstr(s, "{{") != NULL)
				return "a URL button has a variable";
			if (strcasecmp(type, "COPY_CODE") == 0 ||
			    strcasecmp(type, "OTP") == 0 ||
			    strcasecmp(type, "MPM") == 0)
				return "a button needs a parameter of its own "
				    "(a code or products)";
		}
	} else if (strcasecmp(type, "CAROUSEL") == 0 ||
	    strcasecmp(type, "LIMITED_TIME_OFFER") == 0)
		return "it has a carousel or a limited-time offer";
	return NULL;
}

/*
 * Fills t from a stored template's components (Meta's listing shape, as
 * the templates table keeps them): the BODY's text and its variables,
 * positional {{1}}.. (the highest number is the count) or named {{name}}
 * (each distinct name, first use first), and t->unsupported when another
 * component needs a parameter.  0, or -1 when components is not a JSON
 * array, or the body has more than CAMPAIGN_VARS_MAX.
 */
int
campaign_tmpl_parse(const char *components, struct campaign_tmpl *t)
{
	json_t		*a, *c;
	const char	*type, *text = NULL, *p, *end;
	size_t		 i;
	int		 k, pos, kind, rc = -1;

	memset(t, 0, sizeof(*t));
	if ((a = json_loads(components != NULL ? components : "[]", 0,
	    NULL)) == NULL || !json_is_array(a))
		goto done;
	json_array_foreach(a, i, c) {
		type = json_string_value(json_object_get(c, "type"));
		if (type != NULL && strcasecmp(type, "BODY") == 0)
			text = json_string_value(json_object_get(c, "text"));
		if (t->unsupported == NULL)
			t->unsupported = unsupported(c);
	}
	if (text == NULL) {
		rc = 0;
		goto done;
	}
	if ((t->body = strdup(text)) == NULL)
		goto done;
	for (p = text; (p = strstr(p, "{{")) != NULL; p = end + 2) {
		if ((end = strstr(p + 2, "}}")) == NULL)
			break;
		kind = var_kind(p + 2, (size_t)(end - p - 2), &pos);
		if (kind == 1) {
			if (pos < 1 || pos > CAMPAIGN_VARS_MAX)
				goto done;
			if (pos > t->nvars)
				t->nvars = pos;
		} else if (kind == 0) {
			t->named = 1;
			for (k = 0; k < t->nvars; k++)
				if (strlen(t->names[k]) == (size_t)(end - p - 2)
				    && strncmp(t->names[k], p + 2,
				    (size_t)(end - p - 2)) == 0)
					break;
			if (k < t->nvars)
				continue;
			if (t->nvars == CAMPAIGN_VARS_MAX)
				goto done;
			memcpy(t->names[t->nvars], p + 2, (size_t)(end - p - 2));
			t->names[t->nvars][end - p - 2] = '\0';
			t->nvars++;
		}
	}
	rc = 0;
done:
	json_decref(a);
	if (rc == -1)
		campaign_tmpl_clear(t);
	return rc;
}

/*
 * The characters (code points) of UTF-8 text v, or -1 when v is not
 * UTF-8 (overlong forms and surrogates included, as jansson refuses).
 */
static long
utf8_chars(const char *v)
{
	const unsigned char	*p = (const unsigned char *)v;
	unsigned long		 cp;
	long			 n = 0;
	int			 more, i;

	while (*p != '\0') {
		if (*p < 0x80) {
			p++;
			n++;
			continue;
		}
		if ((*p & 0xe0) == 0xc0) {
			more = 1;
			cp = *p & 0x1f;
		} else if ((*p & 0xf0) == 0xe0) {
			more = 2;
			cp = *p & 0x0f;
		} else if ((*p & 0xf8) == 0xf0) {
			more = 3;
			cp = *p & 0x07;
		} else
			return -1;
		for (i = 1; i <= more; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return -1;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		if ((more == 1 && cp < 0x80) || (more == 2 && cp < 0x800) ||
		    (more == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return -1;
		p += more + 1;
		n++;
	}
	return n;
}

/*
 * NULL when v will do as a template body parameter, else the phrase
 * saying why not: empty, over Meta's 1,024 characters, not UTF-8, or
 * holding a new line, a tab or four spaces in a row (Meta refuses those
 * with 132018, "Template parameter issue"; reference section 8.2).
 */
const char *
campaign_param_bad(const char *v)
{
	long	n;

	if (v[strspn(v, " ")] == '\0')
		return "is empty: every recipient needs every parameter";
	if ((n = utf8_chars(v)) < 0)
		return "is not UTF-8 text";
	if (n > CAMPAIGN_PARAM_MAX)
		return "is longer than Meta's 1,024 characters";
	if (strpbrk(v, "\n\r\t") != NULL)
		return "holds a new line or a tab, which Meta refuses in a "
		    "template parameter (132018)";
	if (strstr(v, "    ") != NULL)
		return "holds 4 or more spaces in a row, which Meta refuses "
		    "in a template parameter (132018)";
	return NULL;
}

/*
 * The WhatsApp id in "in" as Meta takes it: '+', spaces, dashes, dots
 * and parentheses dropped, then 8 to 15 digits, into out (sz bytes).
 * 0, or -1 when it is not a phone number.
 */
int
campaign_wa_id(const char *in, char *out, size_t sz)
{
	size_t	n = 0;

	for (; *in != '\0'; in++) {
		if (strchr("+ -.()", *in) != NULL)
			continue;
		if (!isdigit((unsigned char)*in) || n + 1 >= sz)
			return -1;
		out[n++] = *in;
	}
	out[n] = '\0';
	return n >= 8 && n <= 15 ? 0 : -1;
}

void
campaign_list_clear(struct campaign_list *l)
{
	free(l->text);
	free(l->v);
	free(l->vals);
	memset(l, 0, sizeof(*l));
}

/* Notes a wrong line (the first CAMPAIGN_BAD_SHOWN kept). */
static void bad(struct campaign_csv_err *, int, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
bad(struct campaign_csv_err *e, int line, const char *fmt, ...)
{
	va_list	ap;

	if (e->nshown < CAMPAIGN_BAD_SHOWN) {
		e->bad[e->nshown].line = line;
		va_start(ap, fmt);
		/* Cut to the field: a sentence about a line always fits. */
		(void)vsnprintf(e->bad[e->nshown].message,
		    sizeof(e->bad[0].message), fmt, ap);
		va_end(ap);
		e->nshown++;
	}
	e->nbad++;
}

static int
blank(const char *p)
{
	return p[strspn(p, " \t\r")] == '\0';
}

/* Trims spaces around a header word in place. */
static char *
trim(char *p)
{
	size_t	n;

	p += strspn(p, " \t");
	n = strlen(p);
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		p[--n] = '\0';
	return p;
}

/*
 * The header line's columns after wa_id mapped to the template's
 * parameters (map[k]: the index of column k + 1).  0, or -1 with the
 * line noted as wrong.
 */
static int
header(char **f, int n, const struct campaign_tmpl *t, int line, int *map,
    struct campaign_csv_err *e)
{
	char	names[128];
	int	k, j, seen[CAMPAIGN_VARS_MAX];

	if (n < 1 || strcasecmp(trim(f[0]), "wa_id") != 0) {
		bad(e, line, "the first line is the header and its first "
		    "column must be wa_id");
		return -1;
	}
	if (n - 1 != t->nvars) {
		bad(e, line, "the header has %d parameter columns after "
		    "wa_id; the template's body needs %d", n - 1, t->nvars);
		return -1;
	}
	memset(seen, 0, sizeof(seen));
	for (k = 1; k < n; k++) {
		if (!t->named) {
			map[k - 1] = k - 1;
			continue;
		}
		for (j = 0; j < t->nvars; j++)
			if (strcmp(trim(f[k]), t->names[j]) == 0)
				break;
		if (j == t->nvars || seen[j]) {
			/* Cut when long: the first names make the point. */
			names[0] = '\0';
			for (j = 0; j < t->nvars; j++)
				(void)snprintf(names + strlen(names),
				    sizeof(names) - strlen(names), "%s%s",
				    j > 0 ? ", " : "", t->names[j]);
			bad(e, line, "header column %.64s is not one of the "
			    "template's parameters once (its body names "
			    "them: %.100s)", trim(f[k]), names);
			return -1;
		}
		seen[j] = 1;
		map[k - 1] = j;
	}
	return 0;
}

/* Cuts UTF-8 text p to at most max bytes, at a character's start. */
static void
cut(char *p, size_t max)
{
	if (strlen(p) <= max)
		return;
	while (max > 0 && ((unsigned char)p[max] & 0xc0) == 0x80)
		max--;
	p[max] = '\0';
}

/* Grows l for one more row; 0 or -1 (out of memory). */
static int
grow(struct campaign_list *l)
{
	void	*p;
	size_t	 cap;

	if (l->n < l->cap)
		return 0;
	cap = l->cap == 0 ? 256 : l->cap * 2;
	if ((p = reallocarray(l->v, cap, sizeof(*l->v))) == NULL)
		return -1;
	l->v = p;
	if (l->nvars > 0) {
		if ((p = reallocarray(l->vals, cap * (size_t)l->nvars,
		    sizeof(*l->vals))) == NULL)
			return -1;
		l->vals = p;
	}
	l->cap = cap;
	return 0;
}

static uint64_t
hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* Marks later repeats of a valid wa_id as skipped duplicate; 0 or -1. */
static int
dedupe(struct campaign_list *l)
{
	size_t	*slot, size = 16, i, h;

	while (size < l->n * 2)
		size *= 2;
	if ((slot = calloc(size, sizeof(*slot))) == NULL)
		return -1;
	for (i = 0; i < l->n; i++) {
		if (l->v[i].reason != NULL)
			continue;
		for (h = hash(l->v[i].wa_id) & (size - 1); slot[h] != 0;
		    h = (h + 1) & (size - 1))
			if (strcmp(l->v[slot[h] - 1].wa_id, l->v[i].wa_id) == 0)
				break;
		if (slot[h] != 0)
			l->v[i].reason = "duplicate";
		else
			slot[h] = i + 1;
	}
	free(slot);
	return 0;
}

/*
 * Checks a recipients CSV (text, len bytes) against template t, all or
 * nothing.  On success 0 with l filled (campaign_list_clear() frees it):
 * each data line a recipient, an invalid number or a later duplicate
 * kept with its reason.  Else -1 with e saying how many lines are wrong
 * and which (a wrong column count, an empty or refused parameter, a
 * quoting error; the header; more than CAMPAIGN_ROWS_MAX rows).
 */
int
campaign_csv_parse(const char *text, size_t len,
    const struct campaign_tmpl *t, struct campaign_list *l,
    struct campaign_csv_err *e)
{
	char			*p, *next, *nl, *w, *f[CAMPAIGN_VARS_MAX + 2];
	char			 norm[64];
	const char		*err, *why;
	struct campaign_rcpt	*r;
	int			 line = 0, n, k, have_header = 0, rows = 0;
	int			 map[CAMPAIGN_VARS_MAX];
	size_t			 i;

	memset(l, 0, sizeof(*l));
	memset(e, 0, sizeof(*e));
	l->nvars = t->nvars;
	if (memchr(text, '\0', len) != NULL) {
		bad(e, 1, "the file holds a NUL byte: it is not CSV "
		    "text");
		goto fail;
	}
	if ((l->text = malloc(len + 1)) == NULL)
		goto oom;
	memcpy(l->text, text, len);
	l->text[len] = '\0';
	p = l->text;
	if (strncmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	for (; p != NULL; p = next) {
		line++;
		if ((nl = strchr(p, '\n')) != NULL) {
			*nl = '\0';
			next = nl + 1;
		} else
			next = NULL;
		if (blank(p))
			continue;
		n = csv_split(p, f, t->nvars + 2, &err);
		if (!have_header) {
			have_header = 1;
			if (n == -1) {
				bad(e, line, "the header line: %s", err);
				goto fail;
			}
			if (header(f, n, t, line, map, e) == -1)
				goto fail;
			continue;
		}
		if (++rows > CAMPAIGN_ROWS_MAX) {
			e->nbad = 0;
			e->nshown = 0;
			bad(e, line, "more than 200,000 recipients: a campaign "
			    "takes at most 200,000; split the file");
			goto fail;
		}
		if (n == -1) {
			bad(e, line, "%s", err);
			continue;
		}
		if (n != t->nvars + 1) {
			bad(e, line, "%d column%s where the header has %d",
			    n, n == 1 ? "" : "s", t->nvars + 1);
			continue;
		}
		for (k = 1; k < n; k++)
			if ((why = campaign_param_bad(f[k])) != NULL) {
				bad(e, line, "column %d %s", k + 1, why);
				break;
			}
		if (k < n || e->nbad > 0)
			continue;
		if (grow(l) == -1)
			goto oom;
		r = &l->v[l->n];
		r->line = line;
		r->reason = NULL;
		if (campaign_wa_id(f[0], norm, sizeof(norm)) == 0) {
			memcpy(f[0], norm, strlen(norm) + 1); /* shorter */
			r->wa_id = f[0];
		} else {
			w = trim(f[0]);
			cut(w, WA_ID_KEPT);
			r->wa_id = w;
			r->reason = "invalid_number";
		}
		for (k = 1; k < n; k++)
			l->vals[l->n * (size_t)t->nvars + (size_t)map[k - 1]] =
			    f[k];
		l->n++;
	}
	if (e->nbad > 0)
		goto fail;
	if (!have_header) {
		bad(e, 1, "the file is empty: its first line must be the "
		    "header, wa_id and one column per template parameter");
		goto fail;
	}
	if (l->n == 0) {
		bad(e, line, "no recipients: after the header, one line per "
		    "recipient");
		goto fail;
	}
	for (i = 0; i < l->n; i++)
		l->v[i].params = t->nvars > 0 ? l->vals + i * (size_t)t->nvars :
		    NULL;
	if (dedupe(l) == -1)
		goto oom;
	return 0;
oom:
	e->nbad = 0;
	e->nshown = 0;
	(void)snprintf(e->message, sizeof(e->message), "Out of memory "
	    "reading the CSV.");
	campaign_list_clear(l);
	return -1;
fail:
	(void)snprintf(e->message, sizeof(e->message), "%d line%s wrong; "
	    "the first: line %d: %s", e->nbad, e->nbad == 1 ? " is" : "s are",
	    e->bad[0].line, e->bad[0].message);
	campaign_list_clear(l);
	return -1;
}

/*
 * A recipient's params as stored (campaign_recipients.params): the
 * values in the template's order, plain strings for a positional
 * template, {"parameter_name","text"} objects for a named one.  A new
 * reference, or NULL (out of memory).
 */
json_t *
campaign_params_json(const struct campaign_tmpl *t, const char *const *vals)
{
	json_t	*a, *v;
	int	 k;

	if ((a = json_array()) == NULL)
		return NULL;
	for (k = 0; k < t->nvars; k++) {
		v = t->named ? json_pack("{s:s, s:s}", "parameter_name",
		    t->names[k], "text", vals[k]) : json_string(vals[k]);
		if (json_array_append_new(a, v) == -1) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/*
 * The Graph API body of one recipient's template message (reference
 * section 15: "components": [{"type": "body", "parameters": [...]}],
 * left out when there are no parameters).  params is the stored array
 * (campaign_params_json()); NULL is none.  0 with *out malloc'd (the
 * caller frees), or -1 (a parameter of another shape, out of memory).
 */
int
campaign_body(const char *template, const char *language, const char *wa_id,
    json_t *params, char **out)
{
	json_t		*b = NULL, *tp, *ps = NULL, *p, *v;
	const char	*name, *text;
	size_t		 i;
	int		 rc = -1;

	*out = NULL;
	if (params != NULL && !json_is_array(params))
		return -1;
	if ((b = json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:{s:s}}}",
	    "messaging_product", "whatsapp", "recipient_type", "individual",
	    "to", wa_id, "type", "template", "template", "name", template,
	    "language", "code", language)) == NULL)
		goto done;
	if (json_array_size(params) > 0) {
		if ((ps = json_array()) == NULL)
			goto done;
		json_array_foreach(params, i, p) {
			if (json_is_string(p))
				v = json_pack("{s:s, s:s}", "type", "text",
				    "text", json_string_value(p));
			else if ((name = json_string_value(json_object_get(p,
			    "parameter_name"))) != NULL && (text =
			    json_string_value(json_object_get(p, "text"))) !=
			    NULL)
				v = json_pack("{s:s, s:s, s:s}", "type", "text",
				    "parameter_name", name, "text", text);
			else
				goto done;
			if (json_array_append_new(ps, v) == -1)
				goto done;
		}
		tp = json_object_get(b, "template");
		if (json_object_set_new(tp, "components", json_pack("[{s:s, "
		    "s:O}]", "type", "body", "parameters", ps)) == -1)
			goto done;
	}
	if ((*out = json_dumps(b, JSON_COMPACT)) != NULL)
		rc = 0;
done:
	json_decref(ps);
	json_decref(b);
	return rc;
}

/* The value params gives variable (len bytes at v), or NULL. */
static const char *
value_of(const json_t *params, const char *v, size_t len)
{
	const json_t	*p;
	const char	*n;
	size_t		 i;
	int		 pos;

	switch (var_kind(v, len, &pos)) {
	case 1:
		p = pos >= 1 ? json_array_get(params, (size_t)pos - 1) : NULL;
		return json_is_string(p) ? json_string_value(p) :
		    json_string_value(json_object_get(p, "text"));
	case 0:
		json_array_foreach(params, i, p) {
			n = json_string_value(json_object_get(p,
			    "parameter_name"));
			if (n != NULL && strlen(n) == len &&
			    strncmp(n, v, len) == 0)
				return json_string_value(json_object_get(p,
				    "text"));
		}
		return NULL;
	default:
		return NULL;
	}
}

/*
 * The text a recipient reads: t's BODY with each {{n}} or {{name}}
 * filled from params (one without a value is left as it is).  0 with
 * *out malloc'd (the caller frees), or -1 (no BODY, out of memory).
 */
int
campaign_preview(const struct campaign_tmpl *t, const json_t *params,
    char **out)
{
	const char	*p, *q, *end, *v;
	char		*s = NULL, *ns;
	size_t		 len = 0, cap = 0, add;

	*out = NULL;
	if (t->body == NULL)
		return -1;
	for (p = t->body; *p != '\0'; p = q) {
		v = NULL;
		if ((q = strstr(p, "{{")) == p && (end = strstr(p + 2, "}}")) !=
		    NULL && (v = value_of(params, p + 2, (size_t)(end - p - 2)))
		    != NULL)
			q = end + 2;
		else if (q == p)
			q = p + 2;
		else if (q == NULL)
			q = p + strlen(p);
		add = v != NULL ? strlen(v) : (size_t)(q - p);
		if (len + add + 1 > cap) {
			cap = (len + add + 1) * 2;
			if ((ns = realloc(s, cap)) == NULL) {
				free(s);
				return -1;
			}
			s = ns;
		}
		memcpy(s + len, v != NULL ? v : p, add);
		len += add;
	}
	if (s == NULL && (s = strdup("")) == NULL)
		return -1;
	s[len] = '\0';
	*out = s;
	return 0;
}

/* n digits at p as a number, or -1. */
static int
digits(const char *p, int n)
{
	int	v = 0, i;

	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)p[i]))
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v;
}

/*
 * A start time as unix seconds: digits (unix seconds) or
 * "YYYY-MM-DDTHH:MM[:SS]Z" (UTC).  0, or -1 when s is neither.
 */
int
campaign_at_parse(const char *s, int64_t *unix_s)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
		30, 31 };
	char		*end;
	long long	 v;
	size_t		 len = strlen(s);
	int		 y, mo, d, h, mi, sec = 0;

	if (len > 0 && strspn(s, "0123456789") == len) {
		errno = 0;
		v = strtoll(s, &end, 10);
		if (errno != 0 || *end != '\0' || v > 253402300799LL)
			return -1;
		*unix_s = v;
		return 0;
	}
	if ((len != 17 && len != 20) || s[4] != '-' || s[7] != '-' ||
	    s[10] != 'T' || s[13] != ':' || s[len - 1] != 'Z' ||
	    (len == 20 && s[16] != ':'))
		return -1;
	y = digits(s, 4);
	mo = digits(s + 5, 2);
	d = digits(s + 8, 2);
	h = digits(s + 11, 2);
	mi = digits(s + 14, 2);
	if (len == 20)
		sec = digits(s + 17, 2);
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 ||
	    y % 400 == 0))) || h < 0 || h > 23 || mi < 0 || mi > 59 ||
	    sec < 0 || sec > 59)
		return -1;
	*unix_s = civil_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	return 0;
}
