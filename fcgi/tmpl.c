/*
 * tmpl.c: Meta's rules for message templates (reference sections 11.1 and
 * 15.2): a creation body checked as Meta would take it, the parameters a
 * stored template needs, and a send's components checked against them.
 * Pure: no I/O, no clock, no storage (tests/layers.sh checks it).
 *
 * Limits not in the reference come from Meta's template guidelines as
 * providers mirror them (docs.bird.com text templates; support pages of
 * WATI, MyOperator): 10 buttons at most, 25 characters a button label.
 * Marked "uncertain" below where only providers say so.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "msg.h"
#include "tmpl.h"

#define VARS_MAX	100	/* variables in one text (ours, a ceiling) */
#define VAR_NAME_MAX	64	/* bytes of a {{name}} (ours, a ceiling) */
#define URL_MAX		2000	/* URL button url (Meta) */
#define PHONE_MAX	20	/* PHONE_NUMBER button phone_number (Meta) */
#define CODE_MAX	15	/* COPY_CODE example (Meta; uncertain) */
#define URL_BUTTONS_MAX	2	/* URL buttons (Meta; uncertain) */
#define PHONE_BUTTONS_MAX 1	/* PHONE_NUMBER buttons (Meta; uncertain) */
#define CODE_BUTTONS_MAX 1	/* COPY_CODE buttons (Meta; uncertain) */

/* The variables of one text. */
struct vars {
	int	 count;			/* occurrences */
	int	 distinct;		/* distinct variables */
	int	 max;			/* POSITIONAL: highest number */
	int	 named;			/* 1: {{name}} seen */
	int	 numbered;		/* 1: {{N}} seen */
	int	 at_start, at_end;	/* a variable opens or closes it */
	char	 seen[VARS_MAX + 1];	/* POSITIONAL: numbers seen */
	char	 names[VARS_MAX][VAR_NAME_MAX + 1]; /* NAMED: distinct */
};

static int
fail(struct tmpl_err *e, const char *code, const char *comp,
    const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Fills e (when given) and returns -1. */
static int
fail(struct tmpl_err *e, const char *code, const char *comp,
    const char *field, const char *fmt, ...)
{
	va_list	ap;

	if (e == NULL)
		return -1;
	/* Cut to fit: every part is for people or a short word. */
	(void)snprintf(e->code, sizeof(e->code), "%s", code);
	(void)snprintf(e->component, sizeof(e->component), "%s", comp);
	(void)snprintf(e->field, sizeof(e->field), "%s", field);
	va_start(ap, fmt);
	(void)vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	return -1;
}

/* The string member k of o, or NULL. */
static const char *
str(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/*
 * Finds the variables of text: {{1}}..{{n}} or {{name}} (a-z first, then
 * a-z, 0-9 and _).  Anything else between {{ and }} is refused, since
 * Meta refuses it.  0, or -1 with e.
 */
static int
scan(const char *text, struct vars *v, struct tmpl_err *e, const char *comp,
    const char *field)
{
	const char	*p = text, *q, *end;
	size_t		 len, k;
	int		 i, num;

	memset(v, 0, sizeof(*v));
	end = text + strlen(text);
	while (end > text && isspace((unsigned char)end[-1]))
		end--;
	while (isspace((unsigned char)*p))
		p++;
	text = p;
	while ((p = strstr(p, "{{")) != NULL) {
		if ((q = strstr(p + 2, "}}")) == NULL)
			return fail(e, "bad_variable", comp, field, "A variable "
			    "opens with {{ and is never closed with }}.");
		len = (size_t)(q - (p + 2));
		if (len == 0 || len > VAR_NAME_MAX)
			return fail(e, "bad_variable", comp, field, "{{%.*s}} "
			    "is not a variable: write {{1}}, {{2}}, ... or "
			    "{{a_name}}.", len > 20 ? 20 : (int)len, p + 2);
		if (p == text)
			v->at_start = 1;
		if (q + 2 == end)
			v->at_end = 1;
		if (isdigit((unsigned char)p[2])) {
			for (num = 0, k = 0; k < len; k++) {
				if (!isdigit((unsigned char)p[2 + k]) ||
				    num > VARS_MAX)
					break;
				num = num * 10 + (p[2 + k] - '0');
			}
			if (k < len || p[2] == '0' || num > VARS_MAX)
				return fail(e, "bad_variable", comp, field,
				    "{{%.*s}} is not a variable: numbered "
				    "variables go from {{1}} to {{%d}}.",
				    len > 20 ? 20 : (int)len, p + 2, VARS_MAX);
			v->numbered = 1;
			if (!v->seen[num])
				v->distinct++;
			v->seen[num] = 1;
			if (num > v->max)
				v->max = num;
		} else {
			for (k = 0; k < len; k++)
				if (!(islower((unsigned char)p[2 + k]) ||
				    (k > 0 && (isdigit((unsigned char)p[2 + k])
				    || p[2 + k] == '_'))))
					break;
			if (k < len)
				return fail(e, "bad_variable", comp, field,
				    "{{%.*s}} is not a variable: a named "
				    "variable is lowercase letters, digits "
				    "and _, starting with a letter.",
				    len > 20 ? 20 : (int)len, p + 2);
			v->named = 1;
			for (i = 0; i < v->distinct; i++)
				if (strlen(v->names[i]) == len &&
				    memcmp(v->names[i], p + 2, len) == 0)
					break;
			if (i == v->distinct) {
				if (v->distinct == VARS_MAX)
					return fail(e, "too_many", comp, field,
					    "A text may hold at most %d "
					    "variables.", VARS_MAX);
				memcpy(v->names[i], p + 2, len);
				v->names[i][len] = '\0';
				v->distinct++;
			}
		}
		v->count++;
		p = q + 2;
	}
	if (v->named && v->numbered)
		return fail(e, "bad_variable", comp, field, "The text mixes "
		    "numbered ({{1}}) and named ({{name}}) variables; use one "
		    "kind.");
	return 0;
}

/*
 * Checks the kind of variables against parameter_format and that
 * numbered ones run from {{1}} without gaps.
 */
static int
vars_fit(const struct vars *v, int named, struct tmpl_err *e,
    const char *comp, const char *field)
{
	int i;

	if (named && v->numbered)
		return fail(e, "bad_variable", comp, field, "parameter_format "
		    "is NAMED, so variables are {{a_name}}, not {{1}}.");
	if (!named && v->named)
		return fail(e, "bad_variable", comp, field, "Named variables "
		    "such as {{%s}} need parameter_format NAMED; with "
		    "POSITIONAL write {{1}}, {{2}}, ...", v->names[0]);
	for (i = 1; i <= v->max; i++)
		if (!v->seen[i])
			return fail(e, "bad_variable", comp, field, "{{%d}} is "
			    "used but {{%d}} is not: variables are numbered "
			    "from {{1}} without gaps.", v->max, i);
	return 0;
}

/* The index of name among v's, or -1. */
static int
name_at(const struct vars *v, const char *name)
{
	int i;

	for (i = 0; i < v->distinct; i++)
		if (strcmp(v->names[i], name) == 0)
			return i;
	return -1;
}

/*
 * Checks the named examples ex ([{param_name, example}]) give each
 * variable of v exactly once, and nothing else.
 */
static int
named_examples(const struct vars *v, const json_t *ex, struct tmpl_err *e,
    const char *comp, const char *field)
{
	char		 got[VARS_MAX];
	const json_t	*x;
	const char	*n, *val;
	size_t		 i;
	int		 k;

	memset(got, 0, sizeof(got));
	if (!json_is_array(ex))
		return fail(e, "example", comp, field, "The variables need "
		    "examples: an array of {\"param_name\", \"example\"}, one "
		    "for each of the %d.", v->distinct);
	json_array_foreach(ex, i, x) {
		n = str(x, "param_name");
		val = str(x, "example");
		if (n == NULL || val == NULL || *val == '\0')
			return fail(e, "example", comp, field, "Example %zu "
			    "needs param_name and a non-empty example.", i + 1);
		if ((k = name_at(v, n)) == -1)
			return fail(e, "example", comp, field, "The example "
			    "for {{%.64s}} names no variable of the text.", n);
		if (got[k])
			return fail(e, "duplicate", comp, field, "{{%.64s}} "
			    "has two examples.", n);
		got[k] = 1;
	}
	for (k = 0; k < v->distinct; k++)
		if (!got[k])
			return fail(e, "example", comp, field, "{{%s}} has no "
			    "example; Meta refuses a variable without one.",
			    v->names[k]);
	return 0;
}

/* Checks a positional example row: an array of exactly want strings. */
static int
row_examples(const json_t *row, int want, struct tmpl_err *e,
    const char *comp, const char *field)
{
	const json_t	*x;
	size_t		 i;

	if (!json_is_array(row))
		return fail(e, "example", comp, field, "The %d variable%s "
		    "need%s examples: an array of %d string%s.", want,
		    want == 1 ? "" : "s", want == 1 ? "s" : "", want,
		    want == 1 ? "" : "s");
	if (json_array_size(row) != (size_t)want)
		return fail(e, "example", comp, field, "The text has %d "
		    "variable%s but %zu example%s; give one for each.", want,
		    want == 1 ? "" : "s", json_array_size(row),
		    json_array_size(row) == 1 ? "" : "s");
	json_array_foreach(row, i, x)
		if (!json_is_string(x) || json_string_length(x) == 0)
			return fail(e, "example", comp, field, "Example %zu "
			    "must be a non-empty string.", i + 1);
	return 0;
}

/* A text member: a non-empty string of at most max characters. */
static int
text_of(const json_t *c, const char *k, size_t max, int need,
    const char **out, struct tmpl_err *e, const char *comp, const char *field)
{
	const json_t *t = json_object_get(c, k);

	*out = NULL;
	if (t == NULL) {
		if (need)
			return fail(e, "required", comp, field, "The %s needs "
			    "a %s.", comp, k);
		return 0;
	}
	if (!json_is_string(t))
		return fail(e, "bad_type", comp, field, "The %s's %s must be "
		    "a string.", comp, k);
	*out = json_string_value(t);
	if (**out == '\0')
		return fail(e, "required", comp, field, "The %s's %s is "
		    "empty.", comp, k);
	if (msg_codepoints(*out, strlen(*out)) > max)
		return fail(e, "too_long", comp, field, "The %s's %s has %zu "
		    "characters; Meta takes at most %zu.", comp, k,
		    msg_codepoints(*out, strlen(*out)), max);
	return 0;
}

static int
check_header(const json_t *c, int named, struct tmpl_err *e, const char *f)
{
	static const char *const media[] = { "IMAGE", "VIDEO", "DOCUMENT" };
	struct vars	 v;
	const json_t	*ex = json_object_get(c, "example"), *h;
	const char	*fmt = str(c, "format"), *t;
	size_t		 i;

	if (fmt == NULL)
		return fail(e, "required", "header", f, "The header needs a "
		    "format: TEXT, IMAGE, VIDEO, DOCUMENT or LOCATION.");
	if (strcasecmp(fmt, "LOCATION") == 0)
		return 0;
	for (i = 0; i < sizeof(media) / sizeof(media[0]); i++) {
		if (strcasecmp(fmt, media[i]) != 0)
			continue;
		h = json_object_get(ex, "header_handle");
		if (!json_is_array(h) || json_array_size(h) < 1 ||
		    !json_is_string(json_array_get(h, 0)) ||
		    json_string_length(json_array_get(h, 0)) == 0)
			return fail(e, "example", "header", f, "A %s header "
			    "needs an example: example.header_handle, an "
			    "array holding the handle of an uploaded sample "
			    "(resumable upload).", media[i]);
		return 0;
	}
	if (strcasecmp(fmt, "TEXT") != 0)
		return fail(e, "invalid", "header", f, "The header's format "
		    "is one of TEXT, IMAGE, VIDEO, DOCUMENT or LOCATION.");
	if (text_of(c, "text", TMPL_HEADER_MAX, 1, &t, e, "header", f) == -1 ||
	    scan(t, &v, e, "header", f) == -1 || vars_fit(&v, named, e,
	    "header", f) == -1)
		return -1;
	if (v.count > 1)
		return fail(e, "too_many", "header", f, "A text header may "
		    "hold at most one variable; it has %d.", v.count);
	if (v.count == 0)
		return 0;
	if (named)
		return named_examples(&v, json_object_get(ex,
		    "header_text_named_params"), e, "header", f);
	return row_examples(json_object_get(ex, "header_text"), 1, e,
	    "header", f);
}

static int
check_body(const json_t *c, int named, int auth, struct tmpl_err *e,
    const char *f)
{
	struct vars	 v;
	const json_t	*ex = json_object_get(c, "example"), *rows, *row;
	const char	*t;
	size_t		 i;

	/* Meta writes an AUTHENTICATION body itself (add_security_...). */
	if (text_of(c, "text", TMPL_BODY_MAX, !auth, &t, e, "body", f) == -1)
		return -1;
	if (t == NULL)
		return 0;
	if (scan(t, &v, e, "body", f) == -1 ||
	    vars_fit(&v, named, e, "body", f) == -1)
		return -1;
	if (v.at_start || v.at_end)
		return fail(e, "bad_variable", "body", f, "The body may not "
		    "%s with a variable (Meta refuses it); put words %s it.",
		    v.at_start ? "start" : "end", v.at_start ? "before" :
		    "after");
	if (v.count == 0)
		return 0;
	if (named)
		return named_examples(&v, json_object_get(ex,
		    "body_text_named_params"), e, "body", f);
	rows = json_object_get(ex, "body_text");
	if (!json_is_array(rows) || json_array_size(rows) == 0)
		return fail(e, "example", "body", f, "The body's %d variable%s "
		    "need%s examples: example.body_text, [[\"...\"%s]].",
		    v.distinct, v.distinct == 1 ? "" : "s",
		    v.distinct == 1 ? "s" : "", v.distinct == 1 ? "" : ", ...");
	json_array_foreach(rows, i, row)
		if (row_examples(row, v.distinct, e, "body", f) == -1)
			return -1;
	return 0;
}

static int
check_footer(const json_t *c, int auth, struct tmpl_err *e, const char *f)
{
	struct vars	 v;
	const json_t	*m = json_object_get(c, "code_expiration_minutes");
	const char	*t;

	if (auth && m != NULL) {
		/* AUTHENTICATION: Meta writes the footer from the minutes. */
		if (!json_is_integer(m) || json_integer_value(m) < 1 ||
		    json_integer_value(m) > 90)
			return fail(e, "invalid", "footer", f,
			    "code_expiration_minutes is a whole number from 1 "
			    "to 90.");
		return 0;
	}
	if (text_of(c, "text", TMPL_FOOTER_MAX, 1, &t, e, "footer", f) == -1 ||
	    scan(t, &v, e, "footer", f) == -1)
		return -1;
	if (v.count > 0)
		return fail(e, "bad_variable", "footer", f, "The footer may not "
		    "hold variables.");
	return 0;
}

/* A URL button: https link, at most one variable, at its very end. */
static int
check_url(const json_t *b, struct tmpl_err *e, const char *comp,
    const char *f)
{
	struct vars	 v;
	const json_t	*ex = json_object_get(b, "example");
	const char	*u;
	size_t		 n;

	if (text_of(b, "url", URL_MAX, 1, &u, e, comp, f) == -1 ||
	    scan(u, &v, e, comp, f) == -1)
		return -1;
	if (strncasecmp(u, "https://", 8) != 0 &&
	    strncasecmp(u, "http://", 7) != 0)
		return fail(e, "invalid", comp, f, "A URL button's url starts "
		    "with https:// (or http://).");
	if (v.count == 0)
		return 0;
	n = strlen(u);
	if (v.count > 1 || v.named || !v.seen[1] || n < 5 ||
	    strcmp(u + n - 5, "{{1}}") != 0)
		return fail(e, "bad_variable", comp, f, "A URL button's url "
		    "may hold one variable, {{1}}, and only at its end.");
	if (json_is_string(ex) && json_string_length(ex) > 0)
		return 0;
	if (json_is_array(ex) && json_array_size(ex) == 1 &&
	    json_is_string(json_array_get(ex, 0)) &&
	    json_string_length(json_array_get(ex, 0)) > 0)
		return 0;
	return fail(e, "example", comp, f, "A URL button with {{1}} needs an "
	    "example: [\"https://.../full-example\"].");
}

/* One button of BUTTONS; counts by type in n[]. */
static int
check_button(const json_t *b, size_t i, int n[5], struct tmpl_err *e)
{
	static const char *const more[] = { "OTP", "MPM", "CATALOG", "SPM",
	    "VOICE_CALL" };
	char		 comp[24], f[64];
	const char	*type = str(b, "type"), *t;
	const json_t	*ex;
	struct vars	 v;
	size_t		 k;

	(void)snprintf(comp, sizeof(comp), "button %zu", i);
	(void)snprintf(f, sizeof(f), "buttons[%zu]", i);
	if (!json_is_object(b) || type == NULL)
		return fail(e, "required", comp, f, "Each button is an object "
		    "with a type: QUICK_REPLY, URL, PHONE_NUMBER, COPY_CODE "
		    "or FLOW.");
	if (strcasecmp(type, "QUICK_REPLY") == 0) {
		n[0]++;
		if (text_of(b, "text", TMPL_BUTTON_TEXT_MAX, 1, &t, e, comp,
		    f) == -1 || scan(t, &v, e, comp, f) == -1)
			return -1;
		if (v.count > 0)
			return fail(e, "bad_variable", comp, f, "A quick "
			    "reply button's text may not hold variables.");
		return 0;
	}
	if (strcasecmp(type, "URL") == 0) {
		if (++n[1] > URL_BUTTONS_MAX)
			return fail(e, "too_many", comp, f, "A template may "
			    "have at most %d URL buttons.", URL_BUTTONS_MAX);
		if (text_of(b, "text", TMPL_BUTTON_TEXT_MAX, 1, &t, e, comp,
		    f) == -1)
			return -1;
		return check_url(b, e, comp, f);
	}
	if (strcasecmp(type, "PHONE_NUMBER") == 0) {
		if (++n[2] > PHONE_BUTTONS_MAX)
			return fail(e, "too_many", comp, f, "A template may "
			    "have at most %d phone number button.",
			    PHONE_BUTTONS_MAX);
		if (text_of(b, "text", TMPL_BUTTON_TEXT_MAX, 1, &t, e, comp,
		    f) == -1 || text_of(b, "phone_number", PHONE_MAX, 1, &t,
		    e, comp, f) == -1)
			return -1;
		if (t[0] == '+')
			t++;
		if (strspn(t, "0123456789") != strlen(t) || strlen(t) < 5)
			return fail(e, "invalid", comp, f, "phone_number is "
			    "the number in international form, e.g. "
			    "+15550001234.");
		return 0;
	}
	if (strcasecmp(type, "COPY_CODE") == 0) {
		if (++n[3] > CODE_BUTTONS_MAX)
			return fail(e, "too_many", comp, f, "A template may "
			    "have at most %d copy code button.",
			    CODE_BUTTONS_MAX);
		ex = json_object_get(b, "example");
		if (json_is_array(ex) && json_array_size(ex) == 1)
			ex = json_array_get(ex, 0);
		if (!json_is_string(ex) || json_string_length(ex) == 0)
			return fail(e, "example", comp, f, "A copy code button "
			    "needs an example: the sample code, a string.");
		if (msg_codepoints(json_string_value(ex),
		    json_string_length(ex)) > CODE_MAX)
			return fail(e, "too_long", comp, f, "A copy code "
			    "button's example has at most %d characters.",
			    CODE_MAX);
		return 0;
	}
	if (strcasecmp(type, "FLOW") == 0) {
		n[4]++;
		if (text_of(b, "text", TMPL_BUTTON_TEXT_MAX, 1, &t, e, comp,
		    f) == -1)
			return -1;
		if (json_object_get(b, "flow_id") == NULL &&
		    json_object_get(b, "flow_name") == NULL &&
		    json_object_get(b, "flow_json") == NULL)
			return fail(e, "required", comp, f, "A flow button "
			    "names its flow: flow_id or flow_name.");
		return 0;
	}
	/* Kinds the reference does not detail: the label length only. */
	for (k = 0; k < sizeof(more) / sizeof(more[0]); k++)
		if (strcasecmp(type, more[k]) == 0)
			return text_of(b, "text", TMPL_BUTTON_TEXT_MAX, 0, &t,
			    e, comp, f);
	return fail(e, "invalid", comp, f, "A button's type is QUICK_REPLY, "
	    "URL, PHONE_NUMBER, COPY_CODE, FLOW, OTP, MPM, CATALOG, SPM or "
	    "VOICE_CALL.");
}

static int
check_buttons(const json_t *c, struct tmpl_err *e, const char *f)
{
	const json_t	*bs = json_object_get(c, "buttons"), *b;
	size_t		 i;
	int		 n[5] = { 0, 0, 0, 0, 0 };

	if (!json_is_array(bs) || json_array_size(bs) == 0)
		return fail(e, "required", "buttons", f, "The BUTTONS "
		    "component needs a buttons array of 1 to %d.",
		    TMPL_BUTTONS_MAX);
	if (json_array_size(bs) > TMPL_BUTTONS_MAX)
		return fail(e, "too_many", "buttons", f, "A template may have "
		    "at most %d buttons; this one has %zu.", TMPL_BUTTONS_MAX,
		    json_array_size(bs));
	json_array_foreach(bs, i, b)
		if (check_button(b, i, n, e) == -1)
			return -1;
	return 0;
}

/* A language code as Meta lists them: en, fil, en_US, pt_BR, prs_AF. */
static int
language_ok(const char *s)
{
	size_t n = 0;

	while (n < 3 && islower((unsigned char)s[n]))
		n++;
	if (n < 2)
		return 0;
	if (s[n] == '\0')
		return 1;
	return s[n] == '_' && isupper((unsigned char)s[n + 1]) &&
	    isupper((unsigned char)s[n + 2]) && s[n + 3] == '\0';
}

int
tmpl_check_create(const json_t *body, struct tmpl_err *e)
{
	static const char *const known[] = { "name", "language", "category",
	    "parameter_format", "components", "allow_category_change",
	    "message_send_ttl_seconds", "sub_category" };
	const json_t	*comps, *c, *v;
	const char	*name, *lang, *cat, *pf, *type, *k;
	char		 f[64];
	size_t		 i, j;
	int		 named = 0, auth, nh = 0, nb = 0, nf = 0, nbt = 0;

	if (!json_is_object(body))
		return fail(e, "bad_type", "template", "", "A template is a "
		    "JSON object with name, language, category and "
		    "components.");
	json_object_foreach((json_t *)body, k, v) {
		for (j = 0; j < sizeof(known) / sizeof(known[0]); j++)
			if (strcmp(k, known[j]) == 0)
				break;
		if (j == sizeof(known) / sizeof(known[0]))
			return fail(e, "unknown_field", "template", k,
			    "%.64s is not a member of a template; it takes "
			    "name, language, category, parameter_format and "
			    "components.", k);
	}
	if ((name = str(body, "name")) == NULL)
		return fail(e, "required", "template", "name", "name is "
		    "required: lowercase letters, digits and _.");
	if (*name == '\0' || strlen(name) > TMPL_NAME_MAX ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") !=
	    strlen(name))
		return fail(e, "invalid", "template", "name", "name is 1 to %d "
		    "of lowercase letters, digits and _ (e.g. order_update).",
		    TMPL_NAME_MAX);
	if ((lang = str(body, "language")) == NULL)
		return fail(e, "required", "template", "language", "language "
		    "is required: a code such as en_US, pt_BR or es.");
	if (!language_ok(lang))
		return fail(e, "invalid", "template", "language", "language is "
		    "a code such as en_US, pt_BR or es (an underscore, not a "
		    "hyphen).");
	if ((cat = str(body, "category")) == NULL)
		return fail(e, "required", "template", "category", "category "
		    "is required: MARKETING, UTILITY or AUTHENTICATION.");
	if (strcmp(cat, "MARKETING") != 0 && strcmp(cat, "UTILITY") != 0 &&
	    strcmp(cat, "AUTHENTICATION") != 0)
		return fail(e, "invalid", "template", "category", "category is "
		    "MARKETING, UTILITY or AUTHENTICATION.");
	auth = strcmp(cat, "AUTHENTICATION") == 0;
	if ((v = json_object_get(body, "parameter_format")) != NULL) {
		pf = json_string_value(v);
		if (pf != NULL && strcasecmp(pf, "NAMED") == 0)
			named = 1;
		else if (pf == NULL || strcasecmp(pf, "POSITIONAL") != 0)
			return fail(e, "invalid", "template",
			    "parameter_format", "parameter_format is "
			    "POSITIONAL ({{1}}) or NAMED ({{a_name}}).");
	}
	comps = json_object_get(body, "components");
	if (!json_is_array(comps) || json_array_size(comps) == 0)
		return fail(e, "required", "template", "components", "components "
		    "is required: an array holding at least the BODY.");
	json_array_foreach(comps, i, c) {
		(void)snprintf(f, sizeof(f), "components[%zu]", i);
		if (!json_is_object(c) || (type = str(c, "type")) == NULL)
			return fail(e, "required", "template", f, "Each "
			    "component is an object with a type: HEADER, "
			    "BODY, FOOTER or BUTTONS.");
		if (strcasecmp(type, "HEADER") == 0) {
			if (nh++)
				return fail(e, "duplicate", "header", f, "A "
				    "template has at most one HEADER.");
			if (check_header(c, named, e, f) == -1)
				return -1;
		} else if (strcasecmp(type, "BODY") == 0) {
			if (nb++)
				return fail(e, "duplicate", "body", f, "A "
				    "template has exactly one BODY.");
			if (check_body(c, named, auth, e, f) == -1)
				return -1;
		} else if (strcasecmp(type, "FOOTER") == 0) {
			if (nf++)
				return fail(e, "duplicate", "footer", f, "A "
				    "template has at most one FOOTER.");
			if (check_footer(c, auth, e, f) == -1)
				return -1;
		} else if (strcasecmp(type, "BUTTONS") == 0) {
			if (nbt++)
				return fail(e, "duplicate", "buttons", f, "A "
				    "template has at most one BUTTONS "
				    "component; put every button in it.");
			if (check_buttons(c, e, f) == -1)
				return -1;
		} else
			return fail(e, "invalid", "template", f, "A component's "
			    "type is HEADER, BODY, FOOTER or BUTTONS.");
	}
	if (nb == 0)
		return fail(e, "required", "body", "components", "A template "
		    "needs a BODY component.");
	return 0;
}

/* The parameters text needs: its distinct variables; named when {{x}}. */
static int
want_text(const char *t, int *named)
{
	struct vars v;

	if (t == NULL || scan(t, &v, NULL, "", "") == -1)
		return 0;
	if (v.named)
		*named = 1;
	return v.distinct;
}

int
tmpl_want(const json_t *comps, struct tmpl_want *w)
{
	const json_t	*c, *bs, *b;
	const char	*type, *fmt, *bt;
	size_t		 i, j;
	int		 url_named = 0;

	memset(w, 0, sizeof(*w));
	if (!json_is_array(comps))
		return -1;
	json_array_foreach(comps, i, c) {
		if (!json_is_object(c) || (type = str(c, "type")) == NULL)
			return -1;
		if (strcasecmp(type, "HEADER") == 0) {
			fmt = str(c, "format");
			if (fmt != NULL && strcasecmp(fmt, "TEXT") != 0) {
				w->header = 1;
				w->header_media = 1;
			} else
				w->header = want_text(str(c, "text"),
				    &w->named) > 0;
		} else if (strcasecmp(type, "BODY") == 0)
			w->body = want_text(str(c, "text"), &w->named);
		else if (strcasecmp(type, "BUTTONS") == 0) {
			bs = json_object_get(c, "buttons");
			json_array_foreach(bs, j, b) {
				if (j >= sizeof(w->button) /
				    sizeof(w->button[0]))
					break;
				bt = str(b, "type");
				(void)snprintf(w->button_type[j],
				    sizeof(w->button_type[j]), "%s",
				    bt != NULL ? bt : "");
				/* What a send must fill (reference 11.1). */
				if (bt != NULL && strcasecmp(bt, "URL") == 0)
					w->button[j] = want_text(str(b, "url"),
					    &url_named) > 0;
				else if (bt != NULL && (strcasecmp(bt,
				    "COPY_CODE") == 0 || strcasecmp(bt,
				    "OTP") == 0))
					w->button[j] = 1;
				w->nbuttons = (int)j + 1;
			}
		}
	}
	return 0;
}

/* A send's button index: "0".."9" (Meta's string) or a small integer. */
static int
button_index(const json_t *x)
{
	const char *s;

	if (json_is_integer(x) && json_integer_value(x) >= 0 &&
	    json_integer_value(x) < 10)
		return (int)json_integer_value(x);
	if ((s = json_string_value(x)) != NULL && s[0] >= '0' &&
	    s[0] <= '9' && s[1] == '\0')
		return s[0] - '0';
	return -1;
}

/* given parameters against want for one component. */
static int
count_fits(int want, int given, int optional, const char *comp,
    struct tmpl_err *e)
{
	if (given == want || (optional && given <= 1))
		return 0;
	return fail(e, "parameters", comp, "components", "The %s needs %d "
	    "parameter%s; this send gives %d.", comp, want, want == 1 ? "" :
	    "s", given);
}

int
tmpl_check_send(const struct tmpl_want *w, const json_t *comps,
    struct tmpl_err *e)
{
	const json_t	*c, *ps, *p;
	const char	*type;
	char		 comp[24];
	int		 header = -1, body = -1, button[10], k;
	size_t		 i, j;

	for (k = 0; k < 10; k++)
		button[k] = -1;
	if (comps != NULL && !json_is_array(comps))
		return fail(e, "bad_type", "template", "components",
		    "components is an array of {type, parameters}.");
	json_array_foreach(comps, i, c) {
		type = str(c, "type");
		ps = json_object_get(c, "parameters");
		if (type == NULL || (ps != NULL && !json_is_array(ps)))
			return fail(e, "bad_type", "template", "components",
			    "Each component of a send is {type: header, body "
			    "or button, parameters: [...]}.");
		if (w->named)
			json_array_foreach(ps, j, p)
				if (str(p, "parameter_name") == NULL &&
				    str(p, "type") != NULL && strcmp(str(p,
				    "type"), "text") == 0 &&
				    strcasecmp(type, "button") != 0)
					return fail(e, "parameters",
					    strcasecmp(type, "header") == 0 ?
					    "header" : "body", "components",
					    "The template has named variables:"
					    " each text parameter needs its "
					    "parameter_name.");
		if (strcasecmp(type, "header") == 0) {
			if (header != -1)
				return fail(e, "duplicate", "header",
				    "components", "The send has two header "
				    "components.");
			header = (int)json_array_size(ps);
		} else if (strcasecmp(type, "body") == 0) {
			if (body != -1)
				return fail(e, "duplicate", "body",
				    "components", "The send has two body "
				    "components (body_parameters and a body "
				    "in components?).");
			body = (int)json_array_size(ps);
		} else if (strcasecmp(type, "button") == 0) {
			k = button_index(json_object_get(c, "index"));
			if (k < 0 || k >= w->nbuttons)
				return fail(e, "parameters", "button",
				    "components", "The template has %d "
				    "button%s; a button component's index is "
				    "\"0\" to \"%d\".", w->nbuttons,
				    w->nbuttons == 1 ? "" : "s",
				    w->nbuttons > 0 ? w->nbuttons - 1 : 0);
			if (button[k] != -1)
				return fail(e, "duplicate", "button",
				    "components", "The send fills button %d "
				    "twice.", k);
			button[k] = (int)json_array_size(ps);
		} else
			return fail(e, "bad_type", "template", "components",
			    "A send's component type is header, body or "
			    "button.");
	}
	if (count_fits(w->header, header < 0 ? 0 : header, 0, "header",
	    e) == -1 || count_fits(w->body, body < 0 ? 0 : body, 0, "body",
	    e) == -1)
		return -1;
	for (k = 0; k < w->nbuttons && k < 10; k++) {
		(void)snprintf(comp, sizeof(comp), "button %d", k);
		/* A quick reply's payload and a flow's action may be given. */
		if (count_fits(w->button[k], button[k] < 0 ? 0 : button[k],
		    w->button[k] == 0, comp, e) == -1)
			return -1;
	}
	return 0;
}
