/*
 * param.c: request parameters declared once.  An endpoint declares a
 * table of struct param (name, type, bounds, offsetof its field) and a
 * struct of struct param_val; param_query() or param_json() checks a
 * query string or a JSON object against the table and fills the struct,
 * and the handler reads only typed, checked values (f.phone, f.since):
 * kcgi's struct kvalid (kristapsdz/kcgi:kcgi.h, child.c) and STYLE 7.
 * The same tables describe themselves (param_describe()) for the test
 * that holds docs/openapi.yaml to them.
 *
 * Pure: no I/O, no clock, no SQLite; bytes in, values or one error out.
 * A query's names are matched as sent (every declared name is plain
 * ASCII); values are URL-decoded by buf_urldecode(), the one decoder.
 */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "param.h"

#define ROWS_MAX	32	/* rows one table may have */
#define INT_BYTES	20	/* "-9223372036854775808" */
#define TIME_BYTES	40	/* the longest RFC 3339 form we take */
#define TIME_DIGITS	12	/* unix seconds: at most 999999999999 */
#define WORD_BYTES	32	/* an enumerated word */
#define PHONE_BYTES	24	/* "+" and 20 digits, with room */
#define PHONE_MIN	6
#define PHONE_MAX	20

static const char *const types[PARAM__MAX] = {
	"integer",	/* PARAM_INT */
	"string",	/* PARAM_TEXT */
	"enum",		/* PARAM_ENUM */
	"boolean",	/* PARAM_BOOL */
	"phone",	/* PARAM_PHONE */
	"time",		/* PARAM_TIME */
	"json",		/* PARAM_JSON */
};

static const char *const bools[] = { "true", "false", NULL };

const char *
param_type_name(enum param_type t)
{
	return t < PARAM__MAX ? types[t] : "?";
}

static struct param_val *
val_of(const struct param *p, void *out)
{
	return (struct param_val *)(void *)((char *)out + p->field);
}

static size_t
rows(const struct param *tab)
{
	size_t n;

	for (n = 0; tab[n].name != NULL; n++)
		continue;
	/* A programmer's error: the tables are ours, not input. */
	assert(n <= ROWS_MAX);
	return n;
}

/* Frees what a parse put in out and sets every field to "absent". */
void
param_clear(const struct param *tab, void *out)
{
	struct param_val	*v;
	size_t			 i;

	for (i = 0; tab[i].name != NULL; i++) {
		v = val_of(&tab[i], out);
		free(v->own);
		memset(v, 0, sizeof(*v));
		v->i = tab[i].def;
	}
}

/* Fills err for p with message; returns PARAM_BAD. */
static enum param_rc
bad(struct param_err *err, const struct param *p, const char *message)
{
	/* Truncation only shortens a name or sentence of ours. */
	(void)snprintf(err->name, sizeof(err->name), "%s", p->name);
	(void)snprintf(err->message, sizeof(err->message), "%s", message);
	return PARAM_BAD;
}

/* Bytes a value of type t may have before any other check. */
static size_t
raw_max(const struct param *p)
{
	switch (p->type) {
	case PARAM_INT:
		return INT_BYTES;
	case PARAM_TIME:
		return TIME_BYTES;
	case PARAM_ENUM:
	case PARAM_BOOL:
		return WORD_BYTES;
	case PARAM_PHONE:
		return PHONE_BYTES;
	default:
		return p->max > 0 ? (size_t)p->max : 0;
	}
}

/* A time: unix seconds or RFC 3339 (a fraction and an offset allowed). */
static int
parse_time(const char *s, size_t len, int64_t *out)
{
	struct tm	 tm;
	const char	*p;
	int		 off = 0, n;

	if (strspn(s, "0123456789") == len && len <= TIME_DIGITS) {
		*out = strtoll(s, NULL, 10);
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	if ((p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		return -1;
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++)
			continue;
	if (*p == 'Z' || *p == 'z')
		p++;
	else if ((*p == '+' || *p == '-') && isdigit((unsigned char)p[1]) &&
	    isdigit((unsigned char)p[2]) && p[3] == ':' &&
	    isdigit((unsigned char)p[4]) && isdigit((unsigned char)p[5])) {
		n = ((p[1] - '0') * 10 + (p[2] - '0')) * 60 +
		    (p[4] - '0') * 10 + (p[5] - '0');
		off = *p == '+' ? n : -n;
		p += 6;
	} else
		return -1;
	if (*p != '\0')
		return -1;
	*out = (int64_t)timegm(&tm) - (int64_t)off * 60;
	return 0;
}

/*
 * Checks the text value s (len bytes, NUL-terminated, no NUL inside)
 * against p and stores it in v (s stays the caller's).  PARAM_OK or
 * PARAM_BAD with err.
 */
static enum param_rc
check_text(const struct param *p, const char *s, size_t len,
    struct param_val *v, struct param_err *err)
{
	const char *const	*w;
	char			*end, msg[200];
	long long		 n;
	size_t			 i;

	switch (p->type) {
	case PARAM_INT:
		errno = 0;
		n = strtoll(s, &end, 10);
		if (errno != 0 || *end != '\0' ||
		    !isdigit((unsigned char)s[s[0] == '-']) || n < p->min ||
		    n > p->max) {
			(void)snprintf(msg, sizeof(msg), "%s must be a whole "
			    "number from %lld to %lld.", p->name,
			    (long long)p->min, (long long)p->max);
			return bad(err, p, msg);
		}
		v->i = n;
		break;
	case PARAM_TIME:
		if (parse_time(s, len, &v->i) == -1)
			return bad(err, p, "Give a time as unix seconds or RFC "
			    "3339, e.g. 2026-11-25T10:00:00Z.");
		break;
	case PARAM_ENUM:
	case PARAM_BOOL:
		w = p->type == PARAM_BOOL ? bools : p->words;
		for (i = 0; w[i] != NULL; i++)
			if (strcmp(w[i], s) == 0)
				break;
		if (w[i] == NULL) {
			(void)snprintf(msg, sizeof(msg), "%s must be one of:",
			    p->name);
			for (i = 0; w[i] != NULL; i++) {
				(void)strncat(msg, i ? ", " : " ",
				    sizeof(msg) - strlen(msg) - 1);
				(void)strncat(msg, w[i],
				    sizeof(msg) - strlen(msg) - 1);
			}
			(void)strncat(msg, ".", sizeof(msg) - strlen(msg) - 1);
			return bad(err, p, msg);
		}
		v->i = p->type == PARAM_BOOL ? i == 0 : (int64_t)i;
		break;
	case PARAM_PHONE:
		if (s[0] == '+') {
			s++;
			len--;
		}
		if (len < PHONE_MIN || len > PHONE_MAX ||
		    strspn(s, "0123456789") != len) {
			(void)snprintf(msg, sizeof(msg), "%s must be the "
			    "customer's number: 6 to 20 digits, + allowed "
			    "first.", p->name);
			return bad(err, p, msg);
		}
		break;
	case PARAM_TEXT:
		if ((int64_t)len < p->min || (int64_t)len > p->max)
			return bad(err, p, "The parameter is empty, too long or "
			    "not valid URL encoding.");
		break;
	default:
		(void)snprintf(msg, sizeof(msg), "%s cannot be given here.",
		    p->name);
		return bad(err, p, msg);
	}
	v->s = s;
	v->len = len;
	v->set = 1;
	return PARAM_OK;
}

/* One segment of a query string: the raw value after "=", if any. */
struct seg {
	const char	*val;	/* NULL: no "=" */
	size_t		 len;
	int		 given;
};

/*
 * Parses query string qs against tab into out (a struct whose fields are
 * at tab's offsets).  First every name is checked (in the order given:
 * an unknown or repeated one is the error), then every value (in tab's
 * order).  Returns PARAM_OK (the caller frees out with param_clear()),
 * or another rc with err filled and out cleared.
 */
enum param_rc
param_query(const struct param *tab, const char *qs, void *out,
    struct param_err *err)
{
	struct seg		 seen[ROWS_MAX];
	struct param_val	*v;
	struct buf		 b;
	const char		*p, *e, *eq;
	size_t			 n, i, nrows = rows(tab);
	enum param_rc		 rc = PARAM_OK;

	memset(err, 0, sizeof(*err));
	memset(seen, 0, sizeof(seen));
	param_clear(tab, out);
	for (p = qs; *p != '\0'; p = *e ? e + 1 : e) {
		if ((e = strchr(p, '&')) == NULL)
			e = p + strlen(p);
		if (e == p)
			continue;
		eq = memchr(p, '=', (size_t)(e - p));
		n = (size_t)((eq != NULL ? eq : e) - p);
		for (i = 0; i < nrows; i++)
			if (strlen(tab[i].name) == n &&
			    memcmp(tab[i].name, p, n) == 0)
				break;
		if (n >= sizeof(err->name))
			n = sizeof(err->name) - 1;
		if (i == nrows) {
			memcpy(err->name, p, n);
			err->name[n] = '\0';
			(void)snprintf(err->message, sizeof(err->message),
			    "Unknown parameter \"%.40s\"; this endpoint takes "
			    "no such filter.", err->name);
			return PARAM_UNKNOWN;
		}
		if (seen[i].given) {
			memcpy(err->name, p, n);
			err->name[n] = '\0';
			(void)snprintf(err->message, sizeof(err->message),
			    "Give each parameter once.");
			return PARAM_REPEATED;
		}
		seen[i].given = 1;
		seen[i].val = eq != NULL ? eq + 1 : NULL;
		seen[i].len = eq != NULL ? (size_t)(e - eq - 1) : 0;
	}
	for (i = 0; i < nrows && rc == PARAM_OK; i++) {
		if (!seen[i].given)
			continue;
		v = val_of(&tab[i], out);
		buf_init(&b);
		if (seen[i].val != NULL &&
		    buf_urldecode(&b, seen[i].val, seen[i].len) == -1)
			b.len = 0;	/* malformed (or no memory): refused */
		if (b.len == 0 || b.len > raw_max(&tab[i]) ||
		    strlen(b.p) != b.len) {
			buf_clear(&b);
			rc = bad(err, &tab[i], "The parameter is empty, too "
			    "long or not valid URL encoding.");
			break;
		}
		v->own = b.p;	/* ours now: param_clear() frees it */
		rc = check_text(&tab[i], b.p, b.len, v, err);
	}
	if (rc != PARAM_OK)
		param_clear(tab, out);
	return rc;
}

/*
 * Parses JSON object obj against tab into out: every member must be
 * declared (JSON_REJECT_DUPLICATES at load refuses repeats); text values
 * point into obj (borrowed: obj outlives out).  Returns PARAM_OK, or
 * another rc with err filled and out cleared.
 */
enum param_rc
param_json(const struct param *tab, const json_t *obj, void *out,
    struct param_err *err)
{
	struct param_val	*v;
	const char		*k;
	json_t			*x;
	char			 msg[200];
	size_t			 i, nrows = rows(tab);
	enum param_rc		 rc = PARAM_OK;

	memset(err, 0, sizeof(*err));
	param_clear(tab, out);
	json_object_foreach((json_t *)obj, k, x) {
		for (i = 0; i < nrows; i++)
			if (strcmp(tab[i].name, k) == 0)
				break;
		if (i == nrows) {
			(void)snprintf(err->name, sizeof(err->name), "%s", k);
			(void)snprintf(err->message, sizeof(err->message),
			    "Unknown member \"%.40s\".", k);
			return PARAM_UNKNOWN;
		}
	}
	for (i = 0; i < nrows && rc == PARAM_OK; i++) {
		if ((x = json_object_get(obj, tab[i].name)) == NULL)
			continue;
		v = val_of(&tab[i], out);
		if (tab[i].type == PARAM_JSON || (json_is_null(x) &&
		    tab[i].nullable)) {
			v->j = x;
			v->set = 1;
			continue;
		}
		if (tab[i].type == PARAM_INT && json_is_integer(x)) {
			if (json_integer_value(x) < tab[i].min ||
			    json_integer_value(x) > tab[i].max) {
				(void)snprintf(msg, sizeof(msg), "%s must be "
				    "from %lld to %lld.", tab[i].name,
				    (long long)tab[i].min,
				    (long long)tab[i].max);
				rc = bad(err, &tab[i], msg);
				break;
			}
			v->i = json_integer_value(x);
			v->j = x;
			v->set = 1;
			continue;
		}
		if (tab[i].type == PARAM_BOOL && json_is_boolean(x)) {
			v->i = json_is_true(x);
			v->j = x;
			v->set = 1;
			continue;
		}
		if (!json_is_string(x) || json_string_length(x) > raw_max(
		    &tab[i]) || strlen(json_string_value(x)) !=
		    json_string_length(x)) {
			(void)snprintf(msg, sizeof(msg), "%s must be a string "
			    "of at most %zu bytes%s.", tab[i].name,
			    raw_max(&tab[i]), tab[i].nullable ? ", or null" :
			    "");
			rc = bad(err, &tab[i], msg);
			break;
		}
		v->j = x;
		rc = check_text(&tab[i], json_string_value(x),
		    json_string_length(x), v, err);
	}
	if (rc != PARAM_OK)
		param_clear(tab, out);
	return rc;
}

/*
 * The table as JSON, in OpenAPI's words: [{"name", "type", "schema":
 * {"type", "minimum", "maximum", "minLength", "maxLength", "enum",
 * "pattern", "anyOf", "default", "nullable"}}].  NULL when out of memory;
 * the caller owns the result (json_decref()).
 */
json_t *
param_describe(const struct param *tab)
{
	json_t	*a = json_array(), *sch, *w;
	size_t	 i, k;
	int	 err = a == NULL;

	for (i = 0; !err && tab[i].name != NULL; i++) {
		const struct param *p = &tab[i];

		switch (p->type) {
		case PARAM_INT:
			sch = json_pack("{s:s, s:I, s:I}", "type", "integer",
			    "minimum", (json_int_t)p->min, "maximum",
			    (json_int_t)p->max);
			if (sch != NULL && p->def != 0)
				err |= json_object_set_new(sch, "default",
				    json_integer((json_int_t)p->def)) == -1;
			break;
		case PARAM_TEXT:
			sch = json_pack("{s:s, s:I, s:I}", "type", "string",
			    "minLength", (json_int_t)p->min, "maxLength",
			    (json_int_t)p->max);
			break;
		case PARAM_ENUM:
			sch = json_pack("{s:s, s:[]}", "type", "string", "enum");
			for (k = 0; sch != NULL && p->words[k] != NULL; k++)
				err |= json_array_append_new(json_object_get(sch,
				    "enum"), json_string(p->words[k])) == -1;
			break;
		case PARAM_BOOL:
			sch = json_pack("{s:s}", "type", "boolean");
			break;
		case PARAM_PHONE:
			sch = json_pack("{s:s, s:s}", "type", "string",
			    "pattern", "^\\+?[0-9]{6,20}$");
			break;
		case PARAM_TIME:
			sch = json_pack("{s:[{s:s, s:i, s:I}, {s:s, s:s, s:i}]}",
			    "anyOf", "type", "integer", "minimum", 0, "maximum",
			    (json_int_t)999999999999LL, "type", "string",
			    "format", "date-time", "maxLength", TIME_BYTES);
			break;
		default:
			sch = json_object();
			break;
		}
		if (sch != NULL && p->nullable)
			err |= json_object_set_new(sch, "nullable",
			    json_true()) == -1;
		w = sch == NULL ? NULL : json_pack("{s:s, s:s, s:o}", "name",
		    p->name, "type", param_type_name(p->type), "schema", sch);
		err |= w == NULL || json_array_append_new(a, w) == -1;
	}
	if (err) {
		json_decref(a);
		return NULL;
	}
	return a;
}

/*
 * A phone number as people write it ("+1 555-010-0000", "(555) 010 0000",
 * "15550100000") to its digits alone, into out (size bytes), so that two
 * spellings of one number compare equal.  Only digits, one leading "+",
 * spaces, '-', '.', '(' and ')' are allowed, with 6 to 20 digits.
 * Returns 0, or -1 when s is not spelled that way or out is too small.
 */
int
param_number_digits(const char *s, char *out, size_t size)
{
	size_t	 n = 0;
	int	 plus_ok = 1;

	for (; *s != '\0'; s++) {
		if (*s == '+' && plus_ok && n == 0) {
			plus_ok = 0;
			continue;
		}
		plus_ok = 0;
		if (strchr(" -.()", *s) != NULL)
			continue;
		if (!isdigit((unsigned char)*s) || n + 1 >= size)
			return -1;
		out[n++] = *s;
	}
	if (n < 6 || n > 20)
		return -1;
	out[n] = '\0';
	return 0;
}
