/*
 * msg.c: checks an outbound send request against Meta's limits before it is
 * queued, and builds the exact Graph API body for POST
 * /{phone-number-id}/messages.  The request is Meta's own body (reference
 * 7.1, 7.2, 11.1) with three additions: "messaging_product" and
 * "recipient_type" may be left out, a media object may name a local "file"
 * (wactl only, MSG_ALLOW_FILE) and {"type":"read"} marks a message read
 * (reference 7.4).  Every object is checked for unknown keys so a typo such
 * as "bdy" is refused here rather than by Meta hours later.  Lengths are
 * Unicode code points (reference 9.5).  Pure: no I/O.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <bsd/string.h>
#include <jansson.h>

#include "msg.h"

/*
 * Limits.  "Meta" ones come from the reference (section in the comment);
 * "ours" are ceilings where Meta documents none, generous enough for any
 * real message and there so that every input has a bound (STYLE 5).
 */
#define MAX_BODY	(64 * 1024)	/* request bytes: ours */
#define MAX_DEPTH	16		/* nesting: ours; documented bodies need 8 */
#define MAX_WAMID	128		/* bytes: reference 0 */
#define MAX_MEDIA_ID	128		/* bytes: ours (media ids are numeric) */
#define MAX_TEXT	4096		/* text body: 7.2, 9.5 */
#define MAX_CAPTION	1024		/* media caption: 7.2 */
#define MAX_FREE	1024		/* undocumented free text: ours */
#define MAX_LINK	2000		/* URL bytes: ours */
#define MAX_FILE	4096		/* local path bytes: PATH_MAX */
#define MAX_EMOJI	10		/* reaction: ours, one emoji with modifiers */
#define MAX_CONTACTS	20		/* contacts per message: ours */
#define MAX_CITEMS	20		/* phones, emails... per contact: ours */
#define MAX_BTN_BODY	1024		/* button / cta_url body: 7.2 */
#define MAX_LIST_BODY	4096		/* list body: 7.2 */
#define MAX_HEADER	60		/* header text: 7.2, 9.5 */
#define MAX_FOOTER	60		/* footer text: 7.2, 9.5 */
#define MAX_BUTTONS	3		/* reply buttons: 7.2 */
#define MAX_BTN_ID	256
#define MAX_BTN_TITLE	20
#define MAX_LIST_BTN	20		/* action.button: 7.2 */
#define MAX_SECTIONS	10
#define MAX_ROWS	10		/* across all sections: 7.2 */
#define MAX_SEC_TITLE	24
#define MAX_ROW_ID	200
#define MAX_ROW_TITLE	24
#define MAX_ROW_DESC	72
#define MAX_CTA_TEXT	20		/* cta_url display_text: 7.2 */
#define MAX_FLOW_CTA	20		/* flow_cta: Meta's Flows docs, 15.4 */
#define MAX_FLOW_ID	64		/* bytes: ours (Flow ids are numeric) */
#define MAX_FLOW_NAME	200		/* ours [uncertain: Meta gives none] */
#define MAX_FLOW_TOKEN	1024		/* ours [uncertain: Meta gives none] */
#define MAX_SCREEN	100		/* screen id: ours */
#define MAX_CATALOG_ID	32		/* digits: ours (catalog ids are numeric) */
#define MAX_RETAILER_ID	100		/* SKU: ours [uncertain: Commerce's] */
#define MAX_PSECTIONS	10		/* product_list sections: 15.4 */
#define MAX_PRODUCTS	30		/* product_list items in all: 15.4 */
#define MAX_TPL_NAME	512		/* template name: ours, [a-z0-9_] */
#define MAX_TPL_COMPS	13		/* header, body, footer, buttons "0".."9" */
#define MAX_TPL_PARAMS	100		/* body parameters: ours */
#define MAX_TPL_BODY	1024		/* body text parameter (Meta parameter docs) */
#define MAX_TPL_BODY1	32768		/* ... when body is the only component */
#define MAX_COUPON	15		/* copy_code coupon (Meta parameter docs) */

/* Compact, and reals printed back as the decimal they were given (DBL_DIG). */
#define DUMP_FLAGS	(JSON_COMPACT | JSON_REAL_PRECISION(15))

const char *const msg_kind_names[MSG__MAX] = {
	"text",		/* MSG_TEXT */
	"image",	/* MSG_IMAGE */
	"video",	/* MSG_VIDEO */
	"audio",	/* MSG_AUDIO */
	"document",	/* MSG_DOCUMENT */
	"sticker",	/* MSG_STICKER */
	"location",	/* MSG_LOCATION */
	"contacts",	/* MSG_CONTACTS */
	"interactive",	/* MSG_INTERACTIVE */
	"template",	/* MSG_TEMPLATE */
	"reaction",	/* MSG_REACTION */
	"read",		/* MSG_READ */
};

/* Reference 9.6: the extensions we map to each accepted MIME type. */
static const struct {
	const char	*ext;
	const char	*mime;
	enum msg_kind	 kind;
} mimes[] = {
	{ "jpg", "image/jpeg", MSG_IMAGE },
	{ "jpeg", "image/jpeg", MSG_IMAGE },
	{ "png", "image/png", MSG_IMAGE },
	{ "mp4", "video/mp4", MSG_VIDEO },
	{ "3gp", "video/3gpp", MSG_VIDEO },
	{ "aac", "audio/aac", MSG_AUDIO },
	{ "amr", "audio/amr", MSG_AUDIO },
	{ "mp3", "audio/mpeg", MSG_AUDIO },
	{ "m4a", "audio/mp4", MSG_AUDIO },
	{ "ogg", "audio/ogg", MSG_AUDIO },
	{ "opus", "audio/ogg", MSG_AUDIO },
	{ "pdf", "application/pdf", MSG_DOCUMENT },
	{ "txt", "text/plain", MSG_DOCUMENT },
	{ "doc", "application/msword", MSG_DOCUMENT },
	{ "docx", "application/vnd.openxmlformats-officedocument."
	    "wordprocessingml.document", MSG_DOCUMENT },
	{ "xls", "application/vnd.ms-excel", MSG_DOCUMENT },
	{ "xlsx", "application/vnd.openxmlformats-officedocument."
	    "spreadsheetml.sheet", MSG_DOCUMENT },
	{ "ppt", "application/vnd.ms-powerpoint", MSG_DOCUMENT },
	{ "pptx", "application/vnd.openxmlformats-officedocument."
	    "presentationml.presentation", MSG_DOCUMENT },
	{ "webp", "image/webp", MSG_STICKER },
};

/* Where we are in the request, for error paths. */
struct ctx {
	struct msg_err	*err;
	unsigned	 flags;		/* MSG_ALLOW_FILE */
	size_t		 len;		/* bytes of path in use */
	char		 path[sizeof(((struct msg_err *)0)->field)];
};

/* What a valid request yields, borrowed from the tree until built. */
struct val {
	enum msg_kind	 kind;
	const char	*text;		/* searchable text or NULL */
	const char	*reply_to;	/* context.message_id / read message_id */
	const char	*file;		/* media "file" or NULL */
	const char	*mime;		/* static, for file */
	json_t		*inner;		/* the <type> value to send; owned reference */
	int		 typing;	/* read: typing_indicator true */
	int		 need_catalog;	/* product(_list) without catalog_id */
};

/* Options of str_at() and friends. */
#define S_REQ	0x01	/* required */
#define S_BLANK	0x02	/* may be empty or whitespace only */
#define S_EDGE	0x04	/* no leading or trailing whitespace */
#define S_OURS	0x08	/* the length limit is ours, not Meta's */

size_t
msg_codepoints(const char *s, size_t len)
{
	size_t	i, n = 0;

	/* Count every byte that does not continue a sequence. */
	for (i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			n++;
	return n;
}

/* Decodes the code point at s[*i] and advances *i; U+FFFD on bad bytes. */
static uint32_t
utf8_next(const unsigned char *s, size_t len, size_t *i)
{
	uint32_t	cp;
	size_t		n, k;
	unsigned char	b = s[(*i)++];

	if (b < 0x80)
		return b;
	if ((b & 0xe0) == 0xc0) {
		n = 1;
		cp = b & 0x1f;
	} else if ((b & 0xf0) == 0xe0) {
		n = 2;
		cp = b & 0x0f;
	} else if ((b & 0xf8) == 0xf0) {
		n = 3;
		cp = b & 0x07;
	} else
		return 0xfffd;
	for (k = 0; k < n && *i < len && (s[*i] & 0xc0) == 0x80; k++, (*i)++)
		cp = (cp << 6) | (s[*i] & 0x3f);
	return k == n ? cp : 0xfffd;
}

/*
 * 1 if s shows nothing: empty, or only Unicode white space (White_Space
 * property) and the invisible U+200B..U+200D, U+2060, U+FEFF, which Meta
 * would deliver as a blank bubble or refuse.
 */
static int
is_blank(const char *s, size_t len)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 i = 0;
	uint32_t		 cp;

	while (i < len) {
		cp = utf8_next(u, len, &i);
		if ((cp >= 0x09 && cp <= 0x0d) || cp == 0x20 || cp == 0x85 ||
		    cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200d) ||
		    cp == 0x2028 || cp == 0x2029 || cp == 0x202f ||
		    cp == 0x205f || cp == 0x2060 || cp == 0x3000 || cp == 0xfeff)
			continue;
		return 0;
	}
	return 1;
}

/* Appends ".key" (or "key" at the top) to the path; returns the old length. */
static size_t
enter(struct ctx *c, const char *key)
{
	size_t	old = c->len;
	int	n;

	n = snprintf(c->path + old, sizeof(c->path) - old, "%s%s",
	    old > 0 ? "." : "", key);
	/* A path too long to name in full is cut; the error stays usable. */
	if (n < 0)
		c->path[old] = '\0';
	c->len = strlen(c->path);
	return old;
}

/* Appends "[i]" to the path; returns the old length. */
static size_t
enter_idx(struct ctx *c, size_t i)
{
	size_t	old = c->len;
	int	n;

	n = snprintf(c->path + old, sizeof(c->path) - old, "[%zu]", i);
	/* Cut as in enter(). */
	if (n < 0)
		c->path[old] = '\0';
	c->len = strlen(c->path);
	return old;
}

static void
leave(struct ctx *c, size_t old)
{
	c->len = old;
	c->path[old] = '\0';
}

/*
 * Fills the error: code, the current path as field, and the message as the
 * path followed by tail ("The body" at the top).  Always returns -1.
 */
static int	vfail(struct ctx *, const char *, const char *, va_list)
		    __attribute__((format(printf, 3, 0)));
static int	fail(struct ctx *, const char *, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static int	fail_at(struct ctx *, const char *, const char *,
		    const char *, ...) __attribute__((format(printf, 4, 5)));

static int
vfail(struct ctx *c, const char *code, const char *tail, va_list ap)
{
	struct msg_err	*e = c->err;
	size_t		 n;
	int		 rc;

	/* Codes are short literals and field is as large as path. */
	(void)strlcpy(e->code, code, sizeof(e->code));
	(void)strlcpy(e->field, c->path, sizeof(e->field));
	n = strlcpy(e->message, c->len > 0 ? c->path : "The body",
	    sizeof(e->message));
	if (n >= sizeof(e->message))
		return -1;
	rc = vsnprintf(e->message + n, sizeof(e->message) - n, tail, ap);
	/* A message cut short still leads with the field; code says the rest. */
	if (rc < 0)
		e->message[n] = '\0';
	return -1;
}

static int
fail(struct ctx *c, const char *code, const char *tail, ...)
{
	va_list	ap;

	va_start(ap, tail);
	(void)vfail(c, code, tail, ap);
	va_end(ap);
	return -1;
}

/* fail() for the member key of the current object. */
static int
fail_at(struct ctx *c, const char *key, const char *code, const char *tail, ...)
{
	va_list	ap;
	size_t	old;

	old = enter(c, key);
	va_start(ap, tail);
	(void)vfail(c, code, tail, ap);
	va_end(ap);
	leave(c, old);
	return -1;
}

static const char *
jtype(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	}
	return "unknown";
}

/*
 * Walks the whole tree once: nesting within MAX_DEPTH and no NUL inside any
 * string (the parser lets "\u0000" through so that we can name the field).
 */
static int
walk(struct ctx *c, json_t *v, int depth)
{
	const char	*key;
	json_t		*x;
	size_t		 i, old;
	int		 rc = 0;

	if ((json_is_object(v) || json_is_array(v)) && depth > MAX_DEPTH)
		return fail(c, "too_deep", " is nested %d levels deep; the "
		    "gateway allows at most %d.", depth, MAX_DEPTH);
	if (json_is_object(v)) {
		json_object_foreach(v, key, x) {
			old = enter(c, key);
			rc = walk(c, x, depth + 1);
			leave(c, old);
			if (rc == -1)
				return -1;
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, x) {
			old = enter_idx(c, i);
			rc = walk(c, x, depth + 1);
			leave(c, old);
			if (rc == -1)
				return -1;
		}
	} else if (json_is_string(v) &&
	    strlen(json_string_value(v)) != json_string_length(v))
		return fail(c, "invalid", " contains a NUL character.");
	return 0;
}

/* Refuses any key of obj not in the NULL-terminated allowed list. */
static int
only_keys(struct ctx *c, json_t *obj, const char *const *allowed)
{
	const char	*key;
	json_t		*x;
	char		 list[160];
	size_t		 i, n;

	json_object_foreach(obj, key, x) {
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(key, allowed[i]) == 0)
				break;
		if (allowed[i] != NULL)
			continue;
		/* reference 7.1: we set it ourselves to correlate statuses. */
		if (strcmp(key, "biz_opaque_callback_data") == 0)
			return fail_at(c, key, "unknown_field", " is set by "
			    "the gateway itself; leave it out.");
		list[0] = '\0';
		for (i = 0; allowed[i] != NULL; i++) {
			n = strlcat(list, i > 0 ? ", " : "", sizeof(list));
			if (n < sizeof(list))
				n = strlcat(list, allowed[i], sizeof(list));
			/* The list is help only: a cut one will do. */
			if (n >= sizeof(list))
				break;
		}
		return fail_at(c, key, "unknown_field", " is not a field "
		    "Meta accepts here; expected one of: %s.", list);
	}
	return 0;
}

/* Checks the string v (at the current path); *out borrows it. */
static int
str_check(struct ctx *c, json_t *v, unsigned opts, size_t max,
    const char **out)
{
	const char	*s;
	size_t		 len, n;

	if (!json_is_string(v))
		return fail(c, "bad_type", " must be a string, not %s.",
		    jtype(v));
	s = json_string_value(v);
	len = json_string_length(v);
	if (!(opts & S_BLANK) && len == 0)
		return fail(c, "empty", " is empty.");
	if (!(opts & S_BLANK) && is_blank(s, len))
		return fail(c, "empty", " is only white space.");
	if (max > 0 && (n = msg_codepoints(s, len)) > max)
		return fail(c, "too_long", " is %zu characters; %s allows at "
		    "most %zu.", n, (opts & S_OURS) ? "the gateway" : "Meta",
		    max);
	if ((opts & S_EDGE) && len > 0 && (isspace((unsigned char)s[0]) ||
	    isspace((unsigned char)s[len - 1])))
		return fail(c, "invalid", " starts or ends with white space; "
		    "Meta refuses that.");
	if (out != NULL)
		*out = s;
	return 0;
}

/* Checks the optional or required (S_REQ) string obj[key]. */
static int
str_at(struct ctx *c, json_t *obj, const char *key, unsigned opts,
    size_t max, const char **out)
{
	json_t	*v;
	size_t	 old;
	int	 rc;

	if (out != NULL)
		*out = NULL;
	if ((v = json_object_get(obj, key)) == NULL) {
		if (opts & S_REQ)
			return fail_at(c, key, "required", " is required.");
		return 0;
	}
	old = enter(c, key);
	rc = str_check(c, v, opts, max, out);
	leave(c, old);
	return rc;
}

/* Checks the optional or required object obj[key]; *out borrows it. */
static int
obj_at(struct ctx *c, json_t *obj, const char *key, int required,
    json_t **out)
{
	json_t	*v;

	*out = NULL;
	if ((v = json_object_get(obj, key)) == NULL) {
		if (required)
			return fail_at(c, key, "required", " is required.");
		return 0;
	}
	if (!json_is_object(v))
		return fail_at(c, key, "bad_type", " must be an object, not "
		    "%s.", jtype(v));
	*out = v;
	return 0;
}

/* Checks the array obj[key] and its length; *out borrows it. */
static int
arr_at(struct ctx *c, json_t *obj, const char *key, unsigned opts,
    size_t min, size_t max, json_t **out)
{
	json_t	*v;
	size_t	 n;

	*out = NULL;
	if ((v = json_object_get(obj, key)) == NULL) {
		if (opts & S_REQ)
			return fail_at(c, key, "required", " is required.");
		return 0;
	}
	if (!json_is_array(v))
		return fail_at(c, key, "bad_type", " must be an array, not "
		    "%s.", jtype(v));
	n = json_array_size(v);
	if (n < min)
		return fail_at(c, key, "too_few", " has %zu items; Meta needs "
		    "at least %zu.", n, min);
	if (n > max)
		return fail_at(c, key, "too_many", " has %zu items; %s allows "
		    "at most %zu.", n, (opts & S_OURS) ? "the gateway" : "Meta",
		    max);
	*out = v;
	return 0;
}

/* Checks the optional boolean obj[key]; *out is 0 when absent. */
static int
bool_at(struct ctx *c, json_t *obj, const char *key, int *out)
{
	json_t	*v;

	*out = 0;
	if ((v = json_object_get(obj, key)) == NULL)
		return 0;
	if (!json_is_boolean(v))
		return fail_at(c, key, "bad_type", " must be true or false, "
		    "not %s.", jtype(v));
	*out = json_is_true(v);
	return 0;
}

/* Checks that the optional obj[key] is the string want. */
static int
const_at(struct ctx *c, json_t *obj, const char *key, int required,
    const char *want)
{
	const char	*s;

	if (str_at(c, obj, key, required ? S_REQ : 0, 0, &s) == -1)
		return -1;
	if (s != NULL && strcmp(s, want) != 0)
		return fail_at(c, key, "invalid", " is \"%.40s\"; the gateway "
		    "only sends \"%s\".", s, want);
	return 0;
}

/* Checks the number obj[key] lies in [lo, hi]. */
static int
num_at(struct ctx *c, json_t *obj, const char *key, double lo, double hi)
{
	json_t	*v;
	double	 d;

	if ((v = json_object_get(obj, key)) == NULL)
		return fail_at(c, key, "required", " is required.");
	if (!json_is_number(v))
		return fail_at(c, key, "bad_type", " must be a number, not %s.",
		    jtype(v));
	d = json_number_value(v);
	if (d < lo || d > hi)
		return fail_at(c, key, "out_of_range", " is %.10g; it must lie "
		    "between %g and %g.", d, lo, hi);
	return 0;
}

/*
 * An opaque id Meta gave us (wamid: reference 0; media id): non-empty
 * printable ASCII without spaces, at most max bytes.
 */
static int
id_ok(const char *s, size_t max)
{
	size_t	i, len = strlen(s);

	if (len == 0 || len > max)
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
			return 0;
	return 1;
}

static int
id_at(struct ctx *c, json_t *obj, const char *key, int required,
    size_t max, const char *what, const char **out)
{
	const char	*s;
	size_t		 len;

	if (str_at(c, obj, key, required ? S_REQ : 0, 0, &s) == -1)
		return -1;
	*out = s;
	if (s == NULL)
		return 0;
	if ((len = strlen(s)) > max)
		return fail_at(c, key, "too_long", " is %zu bytes; %s has at "
		    "most %zu.", len, what, max);
	if (!id_ok(s, max))
		return fail_at(c, key, "invalid", " must be %s: printable "
		    "ASCII without spaces.", what);
	return 0;
}

/* A public https URL Meta fetches (reference 7.2). */
static int
url_at(struct ctx *c, json_t *obj, const char *key, int required,
    const char **out)
{
	const char	*s;
	size_t		 i, len;

	if (str_at(c, obj, key, required ? S_REQ : 0, 0, &s) == -1)
		return -1;
	if (out != NULL)
		*out = s;
	if (s == NULL)
		return 0;
	len = strlen(s);
	if (strncasecmp(s, "https://", 8) != 0)
		return fail_at(c, key, "not_https", " must be an https:// URL "
		    "that Meta can fetch.");
	if (len > MAX_LINK)
		return fail_at(c, key, "too_long", " is %zu bytes; the gateway "
		    "allows at most %d.", len, MAX_LINK);
	if (len == 8 || s[8] == '/')
		return fail_at(c, key, "invalid", " has no host name.");
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] == 0x7f)
			return fail_at(c, key, "invalid", " contains a space "
			    "or control character; percent-encode it.");
	return 0;
}

/* [a-z0-9_]{1,max}: template and parameter names. */
static int
name_at(struct ctx *c, json_t *obj, const char *key, int required,
    const char **out)
{
	const char	*s;
	size_t		 i, len;

	if (str_at(c, obj, key, required ? S_REQ : 0, MAX_TPL_NAME, &s) == -1)
		return -1;
	if (out != NULL)
		*out = s;
	if (s == NULL)
		return 0;
	len = strlen(s);
	for (i = 0; i < len; i++)
		if (!(s[i] >= 'a' && s[i] <= 'z') &&
		    !(s[i] >= '0' && s[i] <= '9') && s[i] != '_')
			return fail_at(c, key, "invalid", " may hold only "
			    "lowercase letters, digits and underscores.");
	return 0;
}

/* Looks a file name's extension up in mimes[]; NULL if unknown. */
static const char *
mime_of(const char *path, enum msg_kind *kind)
{
	const char	*base, *dot;
	size_t		 i;

	base = strrchr(path, '/');
	base = base != NULL ? base + 1 : path;
	if ((dot = strrchr(base, '.')) == NULL || dot == base)
		return NULL;
	for (i = 0; i < sizeof(mimes) / sizeof(mimes[0]); i++)
		if (strcasecmp(dot + 1, mimes[i].ext) == 0) {
			*kind = mimes[i].kind;
			return mimes[i].mime;
		}
	return NULL;
}

/* ".jpg, .jpeg, .png": the extensions a kind takes, for messages. */
static void
exts_of(enum msg_kind kind, char *buf, size_t sz)
{
	size_t	i, n;
	int	first = 1;

	buf[0] = '\0';
	for (i = 0; i < sizeof(mimes) / sizeof(mimes[0]); i++) {
		if (kind != MSG__MAX && mimes[i].kind != kind)
			continue;
		n = strlcat(buf, first ? "." : ", .", sz);
		if (n < sz)
			n = strlcat(buf, mimes[i].ext, sz);
		first = 0;
		/* Help text only: a cut list will do. */
		if (n >= sz)
			return;
	}
}

/* Which keys a media object may carry, besides id and link. */
#define M_CAPTION	0x01
#define M_FILENAME	0x02
#define M_FILE		0x04	/* a message's own media: "file" possible */

/*
 * A media object (reference 7.2): exactly one of id, link and (with
 * MSG_ALLOW_FILE, message media only) file.  Sets v->file, v->mime and
 * v->text (caption) when v is not NULL.
 */
static int
media_check(struct ctx *c, json_t *o, enum msg_kind kind, unsigned opts,
    struct val *v)
{
	const char	*keys[6], *id, *link, *file, *caption, *mime;
	char		 list[128];
	enum msg_kind	 fk = MSG__MAX;
	size_t		 n = 0, len;

	keys[n++] = "id";
	keys[n++] = "link";
	keys[n++] = "file";
	if (opts & M_CAPTION)
		keys[n++] = "caption";
	if (opts & M_FILENAME)
		keys[n++] = "filename";
	keys[n] = NULL;
	if (only_keys(c, o, keys) == -1)
		return -1;
	n = (json_object_get(o, "id") != NULL) +
	    (json_object_get(o, "link") != NULL) +
	    (json_object_get(o, "file") != NULL);
	if (n == 0)
		return fail(c, "required", " needs one of id or link%s.",
		    (opts & M_FILE) && (c->flags & MSG_ALLOW_FILE) ?
		    " or file" : "");
	if (n > 1)
		return fail(c, "conflict", " has more than one of id, link and "
		    "file; give exactly one.");
	if (id_at(c, o, "id", 0, MAX_MEDIA_ID, "a media id", &id) == -1)
		return -1;
	if (id != NULL && strcmp(id, MSG_UPLOAD_ID) == 0)
		return fail_at(c, "id", "invalid", " \"%s\" is reserved for "
		    "files the gateway uploads.", MSG_UPLOAD_ID);
	if (url_at(c, o, "link", 0, &link) == -1 ||
	    str_at(c, o, "file", 0, 0, &file) == -1 ||
	    str_at(c, o, "caption", 0, MAX_CAPTION, &caption) == -1 ||
	    str_at(c, o, "filename", S_OURS, MAX_FREE, NULL) == -1)
		return -1;
	if (file != NULL) {
		if (!(opts & M_FILE))
			return fail_at(c, "file", "file_not_allowed", ": a "
			    "header takes id or link only.");
		if (!(c->flags & MSG_ALLOW_FILE))
			return fail_at(c, "file", "file_not_allowed", ": local "
			    "files can be sent with wactl only; upload the "
			    "media and give its id, or give an https link.");
		if (file[0] != '/')
			return fail_at(c, "file", "invalid", " must be an "
			    "absolute path.");
		if ((len = strlen(file)) > MAX_FILE)
			return fail_at(c, "file", "too_long", " is %zu bytes; "
			    "the gateway allows at most %d.", len, MAX_FILE);
		if ((mime = mime_of(file, &fk)) == NULL) {
			exts_of(kind, list, sizeof(list));
			return fail_at(c, "file", "bad_media_type", " has no "
			    "extension Meta takes for %s: %s.",
			    msg_kind_names[kind], list);
		}
		if (fk != kind) {
			exts_of(kind, list, sizeof(list));
			return fail_at(c, "file", "bad_media_type", " is %s; "
			    "%s takes %s.", mime, msg_kind_names[kind], list);
		}
		if (v != NULL) {
			v->file = file;
			v->mime = mime;
		}
	}
	if (v != NULL)
		v->text = caption;
	return 0;
}

/*
 * The object as sent: "file" replaced in place by the placeholder id that
 * msg_set_media_id() swaps for the uploaded media's id.  New reference.
 */
static json_t *
media_out(json_t *o)
{
	json_t		*out, *x;
	const char	*key;

	if ((out = json_object()) == NULL)
		return NULL;
	json_object_foreach(o, key, x) {
		if (strcmp(key, "file") == 0) {
			if (json_object_set_new(out, "id",
			    json_string(MSG_UPLOAD_ID)) == -1)
				goto fail;
		} else if (json_object_set(out, key, x) == -1)
			goto fail;
	}
	return out;
fail:
	json_decref(out);
	return NULL;
}

static int
check_text(struct ctx *c, json_t *o, struct val *v)
{
	static const char *const keys[] = { "body", "preview_url", NULL };
	int	preview;

	if (only_keys(c, o, keys) == -1 ||
	    str_at(c, o, "body", S_REQ, MAX_TEXT, &v->text) == -1 ||
	    bool_at(c, o, "preview_url", &preview) == -1)
		return -1;
	return 0;
}

/* location object: message (reference 7.2) and template header (11.1). */
static int
check_location(struct ctx *c, json_t *o, struct val *v)
{
	static const char *const keys[] =
	    { "latitude", "longitude", "name", "address", NULL };
	const char	*name;

	if (only_keys(c, o, keys) == -1 ||
	    num_at(c, o, "latitude", -90.0, 90.0) == -1 ||
	    num_at(c, o, "longitude", -180.0, 180.0) == -1 ||
	    str_at(c, o, "name", S_OURS, MAX_FREE, &name) == -1 ||
	    str_at(c, o, "address", S_OURS, MAX_FREE, NULL) == -1)
		return -1;
	if (v != NULL)
		v->text = name;
	return 0;
}

/* An array of small objects with the given string keys (contact parts). */
static int
check_parts(struct ctx *c, json_t *o, const char *key,
    const char *const *keys)
{
	json_t	*a, *x;
	size_t	 i, k, old, old2;
	int	 rc = 0;

	if (arr_at(c, o, key, S_OURS, 0, MAX_CITEMS, &a) == -1)
		return -1;
	if (a == NULL)
		return 0;
	old = enter(c, key);
	json_array_foreach(a, i, x) {
		old2 = enter_idx(c, i);
		if (!json_is_object(x))
			rc = fail(c, "bad_type", " must be an object, not %s.",
			    jtype(x));
		else
			rc = only_keys(c, x, keys);
		for (k = 0; rc == 0 && keys[k] != NULL; k++)
			rc = str_at(c, x, keys[k], S_BLANK | S_OURS, MAX_FREE,
			    NULL);
		leave(c, old2);
		if (rc == -1)
			break;
	}
	leave(c, old);
	return rc;
}

/* One contact card (reference 7.2, fields as in 5.4). */
static int
check_contact(struct ctx *c, json_t *o)
{
	static const char *const keys[] = { "name", "phones", "emails",
	    "addresses", "org", "urls", "birthday", NULL };
	static const char *const name_keys[] = { "formatted_name",
	    "first_name", "last_name", "middle_name", "prefix", "suffix",
	    NULL };
	static const char *const phone_keys[] =
	    { "phone", "type", "wa_id", NULL };
	static const char *const email_keys[] = { "email", "type", NULL };
	static const char *const addr_keys[] = { "street", "city", "state",
	    "zip", "country", "country_code", "type", NULL };
	static const char *const org_keys[] =
	    { "company", "department", "title", NULL };
	static const char *const url_keys[] = { "url", "type", NULL };
	const char	*s;
	json_t		*x;
	size_t		 i, old;
	int		 rc = 0;

	if (only_keys(c, o, keys) == -1 || obj_at(c, o, "name", 1, &x) == -1)
		return -1;
	old = enter(c, "name");
	if (only_keys(c, x, name_keys) == -1 ||
	    str_at(c, x, "formatted_name", S_REQ | S_OURS, MAX_FREE,
	    NULL) == -1)
		rc = -1;
	for (i = 1; rc == 0 && name_keys[i] != NULL; i++)
		rc = str_at(c, x, name_keys[i], S_BLANK | S_OURS, MAX_FREE,
		    NULL);
	leave(c, old);
	if (rc == -1)
		return -1;
	if (check_parts(c, o, "phones", phone_keys) == -1 ||
	    check_parts(c, o, "emails", email_keys) == -1 ||
	    check_parts(c, o, "addresses", addr_keys) == -1 ||
	    check_parts(c, o, "urls", url_keys) == -1 ||
	    obj_at(c, o, "org", 0, &x) == -1)
		return -1;
	if (x != NULL) {
		old = enter(c, "org");
		rc = only_keys(c, x, org_keys);
		for (i = 0; rc == 0 && org_keys[i] != NULL; i++)
			rc = str_at(c, x, org_keys[i], S_BLANK | S_OURS,
			    MAX_FREE, NULL);
		leave(c, old);
		if (rc == -1)
			return -1;
	}
	if (str_at(c, o, "birthday", 0, 0, &s) == -1)
		return -1;
	if (s != NULL && !(strlen(s) == 10 && isdigit((unsigned char)s[0]) &&
	    isdigit((unsigned char)s[1]) && isdigit((unsigned char)s[2]) &&
	    isdigit((unsigned char)s[3]) && s[4] == '-' &&
	    isdigit((unsigned char)s[5]) && isdigit((unsigned char)s[6]) &&
	    s[7] == '-' && isdigit((unsigned char)s[8]) &&
	    isdigit((unsigned char)s[9])))
		return fail_at(c, "birthday", "invalid", " must be a date "
		    "YYYY-MM-DD.");
	return 0;
}

/* "contacts" is an array of cards, not an object (reference 7.2). */
static int
check_contacts(struct ctx *c, json_t *a)
{
	json_t	*x;
	size_t	 i, old, n;
	int	 rc = 0;

	if (!json_is_array(a))
		return fail(c, "bad_type", " must be an array of contacts, "
		    "not %s.", jtype(a));
	if ((n = json_array_size(a)) == 0)
		return fail(c, "too_few", " has 0 items; Meta needs at least "
		    "1.");
	if (n > MAX_CONTACTS)
		return fail(c, "too_many", " has %zu items; the gateway allows "
		    "at most %d.", n, MAX_CONTACTS);
	json_array_foreach(a, i, x) {
		old = enter_idx(c, i);
		if (!json_is_object(x))
			rc = fail(c, "bad_type", " must be an object, not %s.",
			    jtype(x));
		else
			rc = check_contact(c, x);
		leave(c, old);
		if (rc == -1)
			return -1;
	}
	return 0;
}

static int
check_reaction(struct ctx *c, json_t *o, struct val *v)
{
	static const char *const keys[] = { "message_id", "emoji", NULL };
	const char	*emoji, *wamid;

	if (only_keys(c, o, keys) == -1 ||
	    id_at(c, o, "message_id", 1, MAX_WAMID, "a wamid", &wamid) == -1 ||
	    str_at(c, o, "emoji", S_REQ | S_BLANK | S_OURS, MAX_EMOJI,
	    &emoji) == -1)
		return -1;
	/* reference 7.2: "" removes the reaction; blanks are a mistake. */
	if (emoji[0] != '\0' && is_blank(emoji, strlen(emoji)))
		return fail_at(c, "emoji", "empty", " is only white space; "
		    "give \"\" to remove a reaction.");
	v->text = emoji[0] != '\0' ? emoji : NULL;
	return 0;
}

/* {"text": "..."}: interactive body and footer. */
static int
check_textobj(struct ctx *c, json_t *parent, const char *key, int required,
    size_t max, const char **out)
{
	static const char *const keys[] = { "text", NULL };
	json_t	*o;
	size_t	 old;
	int	 rc;

	if (out != NULL)
		*out = NULL;
	if (obj_at(c, parent, key, required, &o) == -1)
		return -1;
	if (o == NULL)
		return 0;
	old = enter(c, key);
	rc = only_keys(c, o, keys);
	if (rc == 0)
		rc = str_at(c, o, "text", S_REQ, max, out);
	leave(c, old);
	return rc;
}

/* interactive.header: text, or media unless text_only (reference 7.2). */
static int
check_iheader(struct ctx *c, json_t *parent, int text_only)
{
	static const char *const tkeys[] = { "type", "text", NULL };
	const char	*type, *mkeys[3];
	enum msg_kind	 kind;
	json_t		*o, *m;
	size_t		 old, old2;
	int		 rc = -1;

	if (obj_at(c, parent, "header", 0, &o) == -1)
		return -1;
	if (o == NULL)
		return 0;
	old = enter(c, "header");
	if (str_at(c, o, "type", S_REQ, 0, &type) == -1)
		goto out;
	if (strcmp(type, "text") == 0) {
		if (only_keys(c, o, tkeys) == 0 &&
		    str_at(c, o, "text", S_REQ, MAX_HEADER, NULL) == 0)
			rc = 0;
		goto out;
	}
	if (strcmp(type, "image") == 0)
		kind = MSG_IMAGE;
	else if (strcmp(type, "video") == 0)
		kind = MSG_VIDEO;
	else if (strcmp(type, "document") == 0)
		kind = MSG_DOCUMENT;
	else {
		fail_at(c, "type", "invalid", " is \"%.40s\"; a header is text, "
		    "image, video or document.", type);
		goto out;
	}
	if (text_only) {
		fail_at(c, "type", "invalid", " is \"%s\"; a list or product_list "
		    "header must be text.", type);
		goto out;
	}
	mkeys[0] = "type";
	mkeys[1] = type;
	mkeys[2] = NULL;
	if (only_keys(c, o, mkeys) == -1 || obj_at(c, o, type, 1, &m) == -1)
		goto out;
	old2 = enter(c, type);
	rc = media_check(c, m, kind, kind == MSG_DOCUMENT ? M_FILENAME : 0,
	    NULL);
	leave(c, old2);
out:
	leave(c, old);
	return rc;
}

/* Reply buttons: 1-3, unique ids and titles (reference 7.2). */
static int
check_buttons(struct ctx *c, json_t *action)
{
	static const char *const keys[] = { "buttons", NULL };
	static const char *const bkeys[] = { "type", "reply", NULL };
	static const char *const rkeys[] = { "id", "title", NULL };
	const char	*ids[MAX_BUTTONS], *titles[MAX_BUTTONS];
	json_t		*a, *b, *r;
	size_t		 i, j, old, old2;
	int		 rc = 0;

	if (only_keys(c, action, keys) == -1 ||
	    arr_at(c, action, "buttons", S_REQ, 1, MAX_BUTTONS, &a) == -1)
		return -1;
	old = enter(c, "buttons");
	json_array_foreach(a, i, b) {
		old2 = enter_idx(c, i);
		if (!json_is_object(b))
			rc = fail(c, "bad_type", " must be an object, not %s.",
			    jtype(b));
		else if (only_keys(c, b, bkeys) == -1 ||
		    const_at(c, b, "type", 1, "reply") == -1 ||
		    obj_at(c, b, "reply", 1, &r) == -1)
			rc = -1;
		if (rc == 0) {
			(void)enter(c, "reply");
			if (only_keys(c, r, rkeys) == -1 ||
			    str_at(c, r, "id", S_REQ | S_EDGE, MAX_BTN_ID,
			    &ids[i]) == -1 ||
			    str_at(c, r, "title", S_REQ, MAX_BTN_TITLE,
			    &titles[i]) == -1)
				rc = -1;
			for (j = 0; rc == 0 && j < i; j++) {
				if (strcmp(ids[j], ids[i]) == 0)
					rc = fail_at(c, "id", "duplicate",
					    " repeats buttons[%zu]; button ids "
					    "must be unique.", j);
				else if (strcmp(titles[j], titles[i]) == 0)
					rc = fail_at(c, "title", "duplicate",
					    " repeats buttons[%zu]; button "
					    "titles must be unique.", j);
			}
		}
		leave(c, old2);
		if (rc == -1)
			break;
	}
	leave(c, old);
	return rc;
}

/* One list row; ids unique across all sections (reference 7.2). */
static int
check_row(struct ctx *c, json_t *row, const char **ids, size_t n)
{
	static const char *const keys[] =
	    { "id", "title", "description", NULL };
	size_t	j;

	if (!json_is_object(row))
		return fail(c, "bad_type", " must be an object, not %s.",
		    jtype(row));
	if (only_keys(c, row, keys) == -1 ||
	    str_at(c, row, "id", S_REQ, MAX_ROW_ID, &ids[n]) == -1 ||
	    str_at(c, row, "title", S_REQ, MAX_ROW_TITLE, NULL) == -1 ||
	    str_at(c, row, "description", 0, MAX_ROW_DESC, NULL) == -1)
		return -1;
	for (j = 0; j < n; j++)
		if (strcmp(ids[j], ids[n]) == 0)
			return fail_at(c, "id", "duplicate", " repeats an "
			    "earlier row id; row ids must be unique across "
			    "all sections.");
	return 0;
}

/*
 * The sections of a list or a product list: 1 or more, each a title
 * (required, or only when there are several) and its items, at most max
 * items across all sections, each checked by item (n counts them all).
 */
struct sections {
	const char	*items;		/* the member: rows, product_items */
	const char	*unit, *units;	/* what one is and many are called */
	size_t		 max;
	unsigned	 title;		/* S_REQ, or 0: when several */
	int		(*item)(struct ctx *, json_t *, size_t n, void *);
	void		*arg;
};

static int
check_sections(struct ctx *c, json_t *a, const struct sections *sp)
{
	const char *const skeys[] = { "title", sp->items, NULL };
	json_t		*s, *items, *it;
	size_t		 i, j, n = 0, old, old2, old3, old4;
	int		 rc = 0;

	old = enter(c, "sections");
	json_array_foreach(a, i, s) {
		old2 = enter_idx(c, i);
		if (!json_is_object(s))
			rc = fail(c, "bad_type", " must be an object, not %s.",
			    jtype(s));
		else if (only_keys(c, s, skeys) == -1 ||
		    str_at(c, s, "title", json_array_size(a) > 1 ? S_REQ :
		    sp->title, MAX_SEC_TITLE, NULL) == -1 ||
		    arr_at(c, s, sp->items, S_REQ, 1, sp->max, &items) == -1)
			rc = -1;
		if (rc == 0) {
			old3 = enter(c, sp->items);
			json_array_foreach(items, j, it) {
				old4 = enter_idx(c, j);
				if (n == sp->max)
					rc = fail(c, "too_many", " is %s %zu in "
					    "all; Meta allows at most %zu %s "
					    "across all sections.", sp->unit,
					    n + 1, sp->max, sp->units);
				else
					rc = sp->item(c, it, n++, sp->arg);
				leave(c, old4);
				if (rc == -1)
					break;
			}
			leave(c, old3);
		}
		leave(c, old2);
		if (rc == -1)
			break;
	}
	leave(c, old);
	return rc;
}

/* check_sections()'s item for a list: a row, ids unique (ids: arg). */
static int
list_row(struct ctx *c, json_t *row, size_t n, void *ids)
{
	return check_row(c, row, ids, n);
}

/* List: button label, 1-10 sections, at most 10 rows in all. */
static int
check_list(struct ctx *c, json_t *action)
{
	static const char *const keys[] = { "button", "sections", NULL };
	const char		*ids[MAX_ROWS];
	struct sections		 sp = { "rows", "row", "rows", MAX_ROWS, 0,
				    list_row, ids };
	json_t			*a;

	if (only_keys(c, action, keys) == -1 ||
	    str_at(c, action, "button", S_REQ, MAX_LIST_BTN, NULL) == -1 ||
	    arr_at(c, action, "sections", S_REQ, 1, MAX_SECTIONS, &a) == -1)
		return -1;
	return check_sections(c, a, &sp);
}

/* CTA URL: {"name":"cta_url","parameters":{display_text,url}}. */
static int
check_cta(struct ctx *c, json_t *action)
{
	static const char *const keys[] = { "name", "parameters", NULL };
	static const char *const pkeys[] = { "display_text", "url", NULL };
	json_t	*p;
	size_t	 old;
	int	 rc = -1;

	if (only_keys(c, action, keys) == -1 ||
	    const_at(c, action, "name", 1, "cta_url") == -1 ||
	    obj_at(c, action, "parameters", 1, &p) == -1)
		return -1;
	old = enter(c, "parameters");
	if (only_keys(c, p, pkeys) == 0 &&
	    str_at(c, p, "display_text", S_REQ, MAX_CTA_TEXT, NULL) == 0 &&
	    url_at(c, p, "url", 1, NULL) == 0)
		rc = 0;
	leave(c, old);
	return rc;
}

/*
 * WhatsApp Flow: {"name":"flow","parameters":{...}} (reference 15.4;
 * Meta's Flows docs: flow_message_version "3", exactly one of flow_id and
 * flow_name, flow_cta at most 20 characters, flow_action_payload required
 * for navigate, left out for data_exchange, its data a non-empty object).
 */
static int
check_flow(struct ctx *c, json_t *action, struct val *v)
{
	static const char *const keys[] = { "name", "parameters", NULL };
	static const char *const pkeys[] = { "flow_message_version",
	    "flow_token", "flow_id", "flow_name", "flow_cta", "flow_action",
	    "flow_action_payload", "mode", NULL };
	static const char *const akeys[] = { "screen", "data", NULL };
	const char	*id, *name, *act, *mode;
	json_t		*p, *pay, *data;
	size_t		 old, old2;
	int		 rc = -1;

	(void)v;
	if (only_keys(c, action, keys) == -1 ||
	    const_at(c, action, "name", 1, "flow") == -1 ||
	    obj_at(c, action, "parameters", 1, &p) == -1)
		return -1;
	old = enter(c, "parameters");
	if (only_keys(c, p, pkeys) == -1 ||
	    const_at(c, p, "flow_message_version", 1, "3") == -1 ||
	    id_at(c, p, "flow_id", 0, MAX_FLOW_ID, "a Flow id", &id) == -1 ||
	    str_at(c, p, "flow_name", S_EDGE | S_OURS, MAX_FLOW_NAME,
	    &name) == -1 ||
	    str_at(c, p, "flow_cta", S_REQ, MAX_FLOW_CTA, NULL) == -1 ||
	    str_at(c, p, "flow_token", S_OURS, MAX_FLOW_TOKEN, NULL) == -1 ||
	    str_at(c, p, "flow_action", 0, 0, &act) == -1 ||
	    str_at(c, p, "mode", 0, 0, &mode) == -1 ||
	    obj_at(c, p, "flow_action_payload", 0, &pay) == -1)
		goto out;
	if (id == NULL && name == NULL) {
		fail_at(c, "flow_id", "required", " or flow_name is required: "
		    "name the Flow to open.");
		goto out;
	}
	if (id != NULL && name != NULL) {
		fail_at(c, "flow_name", "conflict", " and flow_id are both "
		    "given; name the Flow one way only.");
		goto out;
	}
	if (mode != NULL && strcmp(mode, "draft") != 0 &&
	    strcmp(mode, "published") != 0) {
		fail_at(c, "mode", "invalid", " is \"%.40s\"; Meta takes draft "
		    "or published.", mode);
		goto out;
	}
	/* Meta: flow_action defaults to navigate. */
	if (act != NULL && strcmp(act, "data_exchange") == 0) {
		if (pay != NULL) {
			fail_at(c, "flow_action_payload", "conflict", " is for "
			    "navigate only; leave it out with data_exchange.");
			goto out;
		}
		rc = 0;
		goto out;
	}
	if (act != NULL && strcmp(act, "navigate") != 0) {
		fail_at(c, "flow_action", "invalid", " is \"%.40s\"; Meta takes "
		    "navigate or data_exchange.", act);
		goto out;
	}
	if (pay == NULL) {
		fail_at(c, "flow_action_payload", "required", " is required "
		    "for navigate: give the first screen.");
		goto out;
	}
	old2 = enter(c, "flow_action_payload");
	if (only_keys(c, pay, akeys) == 0 &&
	    str_at(c, pay, "screen", S_REQ | S_EDGE | S_OURS, MAX_SCREEN,
	    NULL) == 0 && obj_at(c, pay, "data", 0, &data) == 0) {
		if (data != NULL && json_object_size(data) == 0)
			fail_at(c, "data", "empty", " is an empty object; give "
			    "the first screen's data or leave it out.");
		else
			rc = 0;
	}
	leave(c, old2);
out:
	leave(c, old);
	return rc;
}

/* Location request: {"name":"send_location"} (reference 15.4). */
static int
check_locreq(struct ctx *c, json_t *action, struct val *v)
{
	static const char *const keys[] = { "name", NULL };

	(void)v;
	if (only_keys(c, action, keys) == -1 ||
	    const_at(c, action, "name", 1, "send_location") == -1)
		return -1;
	return 0;
}

/*
 * A catalog id: Meta's ids are digits.  Left out, the sending number's
 * catalog is used (v->need_catalog; see msg_set_catalog()).
 */
static int
catalog_at(struct ctx *c, json_t *action, struct val *v)
{
	const char	*s;

	if (str_at(c, action, "catalog_id", 0, MAX_CATALOG_ID, &s) == -1)
		return -1;
	if (s == NULL) {
		v->need_catalog = 1;
		return 0;
	}
	if (strspn(s, "0123456789") != strlen(s))
		return fail_at(c, "catalog_id", "invalid", " must be a catalog "
		    "id: digits only.");
	return 0;
}

/* Single product: {catalog_id, product_retailer_id} (reference 15.4). */
static int
check_product(struct ctx *c, json_t *action, struct val *v)
{
	static const char *const keys[] =
	    { "catalog_id", "product_retailer_id", NULL };

	if (only_keys(c, action, keys) == -1 || catalog_at(c, action, v) ==
	    -1 || str_at(c, action, "product_retailer_id", S_REQ | S_EDGE |
	    S_OURS, MAX_RETAILER_ID, NULL) == -1)
		return -1;
	return 0;
}

/*
 * Multi-product: catalog_id, 1-10 sections, each a title and
 * product_items, at most 30 items in all (reference 15.4).
 */
/* check_sections()'s item for a product list: a retailer id. */
static int
product_item(struct ctx *c, json_t *it, size_t n, void *arg)
{
	static const char *const ikeys[] = { "product_retailer_id", NULL };

	(void)n;
	(void)arg;
	if (!json_is_object(it))
		return fail(c, "bad_type", " must be an object, not %s.",
		    jtype(it));
	return only_keys(c, it, ikeys) == -1 || str_at(c, it,
	    "product_retailer_id", S_REQ | S_EDGE | S_OURS, MAX_RETAILER_ID,
	    NULL) == -1 ? -1 : 0;
}

static int
check_product_list(struct ctx *c, json_t *action, struct val *v)
{
	static const char *const keys[] = { "catalog_id", "sections", NULL };
	/* [uncertain] Meta may take one untitled section; we ask. */
	static const struct sections sp = { "product_items", "item",
	    "products", MAX_PRODUCTS, S_REQ, product_item, NULL };
	json_t *a;

	if (only_keys(c, action, keys) == -1 || catalog_at(c, action, v) ==
	    -1 || arr_at(c, action, "sections", S_REQ, 1, MAX_PSECTIONS,
	    &a) == -1)
		return -1;
	return check_sections(c, a, &sp);
}

/*
 * Catalog: {"name":"catalog_message","parameters":
 * {"thumbnail_product_retailer_id"}} (reference 15.4), the number's own
 * catalog (Meta takes no catalog id here).
 */
static int
check_catalog(struct ctx *c, json_t *action, struct val *v)
{
	static const char *const keys[] = { "name", "parameters", NULL };
	static const char *const pkeys[] =
	    { "thumbnail_product_retailer_id", NULL };
	json_t	*p;
	size_t	 old;
	int	 rc = -1;

	(void)v;
	if (only_keys(c, action, keys) == -1 ||
	    const_at(c, action, "name", 1, "catalog_message") == -1 ||
	    obj_at(c, action, "parameters", 0, &p) == -1)
		return -1;
	if (p == NULL)
		return 0;
	old = enter(c, "parameters");
	if (only_keys(c, p, pkeys) == 0 &&
	    str_at(c, p, "thumbnail_product_retailer_id", S_EDGE | S_OURS,
	    MAX_RETAILER_ID, NULL) == 0)
		rc = 0;
	leave(c, old);
	return rc;
}

static int
check_buttons_v(struct ctx *c, json_t *action, struct val *v)
{
	(void)v;
	return check_buttons(c, action);
}

static int
check_list_v(struct ctx *c, json_t *action, struct val *v)
{
	(void)v;
	return check_list(c, action);
}

static int
check_cta_v(struct ctx *c, json_t *action, struct val *v)
{
	(void)v;
	return check_cta(c, action);
}

/* What an interactive type's header may be. */
enum ihead { IH_ANY, IH_TEXT, IH_TEXT_REQ, IH_NONE };

/*
 * The interactive types the gateway sends (reference 7.2, 15.4): header,
 * whether body and footer are allowed or required, body limit, action.
 */
static const struct itype {
	const char	*name;
	enum ihead	 header;
	int		 body;		/* 1 required, 0 optional */
	int		 footer;	/* 1 allowed */
	size_t		 body_max;
	int		(*action)(struct ctx *, json_t *, struct val *);
} itypes[] = {
	{ "button", IH_ANY, 1, 1, MAX_BTN_BODY, check_buttons_v },
	{ "list", IH_TEXT, 1, 1, MAX_LIST_BODY, check_list_v },
	{ "cta_url", IH_ANY, 1, 1, MAX_BTN_BODY, check_cta_v },
	/* [uncertain] Meta's examples show text headers; media as for buttons. */
	{ "flow", IH_ANY, 1, 1, MAX_BTN_BODY, check_flow },
	/* [uncertain] Meta shows body and action only; we refuse the rest. */
	{ "location_request_message", IH_NONE, 1, 0, MAX_BTN_BODY,
	    check_locreq },
	{ "product", IH_NONE, 0, 1, MAX_BTN_BODY, check_product },
	{ "product_list", IH_TEXT_REQ, 1, 1, MAX_BTN_BODY,
	    check_product_list },
	{ "catalog_message", IH_NONE, 1, 1, MAX_BTN_BODY, check_catalog },
};

#define NITYPES	(sizeof(itypes) / sizeof(itypes[0]))

static int
check_interactive(struct ctx *c, json_t *o, struct val *v)
{
	static const char *const keys[] =
	    { "type", "header", "body", "footer", "action", NULL };
	const struct itype	*t = NULL;
	const char		*type;
	json_t			*action;
	size_t			 i, old;
	int			 rc;

	if (only_keys(c, o, keys) == -1 ||
	    str_at(c, o, "type", S_REQ, 0, &type) == -1)
		return -1;
	for (i = 0; i < NITYPES && t == NULL; i++)
		if (strcmp(type, itypes[i].name) == 0)
			t = &itypes[i];
	if (t == NULL)
		return fail_at(c, "type", "invalid", " is \"%.40s\"; the "
		    "gateway sends button, list, cta_url, flow, "
		    "location_request_message, product, product_list or "
		    "catalog_message.", type);
	if (t->header == IH_NONE && json_object_get(o, "header") != NULL)
		return fail_at(c, "header", "unknown_field", " is not "
		    "allowed: a %s message has no header.", t->name);
	if (t->header == IH_TEXT_REQ && json_object_get(o, "header") == NULL)
		return fail_at(c, "header", "required", " is required for "
		    "%s: a text header.", t->name);
	if (!t->footer && json_object_get(o, "footer") != NULL)
		return fail_at(c, "footer", "unknown_field", " is not "
		    "allowed: a %s message has no footer.", t->name);
	if (check_iheader(c, o, t->header != IH_ANY) == -1 ||
	    check_textobj(c, o, "body", t->body, t->body_max,
	    &v->text) == -1 ||
	    check_textobj(c, o, "footer", 0, MAX_FOOTER, NULL) == -1 ||
	    obj_at(c, o, "action", 1, &action) == -1)
		return -1;
	old = enter(c, "action");
	rc = t->action(c, action, v);
	leave(c, old);
	return rc;
}

/* Template components (reference 11.1). */
enum comp { COMP_HEADER, COMP_BODY, COMP_FOOTER, COMP_BUTTON, COMP__MAX };

static const char *const comp_names[COMP__MAX] = {
	"header",	/* COMP_HEADER */
	"body",		/* COMP_BODY */
	"footer",	/* COMP_FOOTER */
	"button",	/* COMP_BUTTON */
};

/* Button sub_type and the one parameter type each takes. */
static const struct {
	const char	*sub_type;
	const char	*param;
} subtypes[] = {
	{ "quick_reply", "payload" },
	{ "url", "text" },
	{ "copy_code", "coupon_code" },
	{ "flow", "action" },
};

/* Parameter types each non-button component takes (reference 11.1). */
static const char *const comp_params[COMP_BUTTON][6] = {
	{ "text", "image", "video", "document", "location", NULL },
	{ "text", "currency", "date_time", NULL },
	{ "text", NULL },
};

/* The value of one template parameter of the given type. */
static int
check_param_value(struct ctx *c, json_t *p, const char *type,
    enum comp comp, size_t textmax)
{
	static const char *const ckeys[] =
	    { "fallback_value", "code", "amount_1000", NULL };
	static const char *const dkeys[] = { "fallback_value", NULL };
	static const char *const akeys[] =
	    { "flow_token", "flow_action_data", NULL };
	const char	*s;
	json_t		*o, *x;
	size_t		 old;
	int		 rc = -1;

	if (strcmp(type, "text") == 0)
		return str_at(c, p, "text", S_REQ |
		    (comp == COMP_BUTTON ? S_OURS : 0), textmax, NULL);
	if (strcmp(type, "payload") == 0)
		return str_at(c, p, "payload", S_REQ | S_OURS, MAX_FREE, NULL);
	if (strcmp(type, "coupon_code") == 0)
		return str_at(c, p, "coupon_code", S_REQ, MAX_COUPON, NULL);
	if (obj_at(c, p, type, 1, &o) == -1)
		return -1;
	old = enter(c, type);
	if (strcmp(type, "image") == 0)
		rc = media_check(c, o, MSG_IMAGE, 0, NULL);
	else if (strcmp(type, "video") == 0)
		rc = media_check(c, o, MSG_VIDEO, 0, NULL);
	else if (strcmp(type, "document") == 0)
		rc = media_check(c, o, MSG_DOCUMENT, M_FILENAME, NULL);
	else if (strcmp(type, "location") == 0)
		rc = check_location(c, o, NULL);
	else if (strcmp(type, "currency") == 0) {
		if (only_keys(c, o, ckeys) == -1 ||
		    str_at(c, o, "fallback_value", S_REQ | S_OURS, MAX_FREE,
		    NULL) == -1 ||
		    str_at(c, o, "code", S_REQ, 0, &s) == -1)
			goto out;
		if (strlen(s) != 3 || !isupper((unsigned char)s[0]) ||
		    !isupper((unsigned char)s[1]) ||
		    !isupper((unsigned char)s[2])) {
			fail_at(c, "code", "invalid", " must be an ISO 4217 "
			    "code such as \"USD\".");
			goto out;
		}
		if ((x = json_object_get(o, "amount_1000")) == NULL)
			fail_at(c, "amount_1000", "required", " is required.");
		else if (!json_is_integer(x))
			fail_at(c, "amount_1000", "bad_type", " must be an "
			    "integer (the amount times 1000), not %s.",
			    json_is_real(x) ? "a fraction" : jtype(x));
		else
			rc = 0;
	} else if (strcmp(type, "date_time") == 0) {
		if (only_keys(c, o, dkeys) == 0 &&
		    str_at(c, o, "fallback_value", S_REQ | S_OURS, MAX_FREE,
		    NULL) == 0)
			rc = 0;
	} else if (strcmp(type, "action") == 0) {
		/* flow button: flow_action_data is the flow's own JSON. */
		if (only_keys(c, o, akeys) == 0 &&
		    str_at(c, o, "flow_token", S_OURS, MAX_FREE, NULL) == 0 &&
		    obj_at(c, o, "flow_action_data", 0, &x) == 0)
			rc = 0;
	} else
		fail(c, "invalid", ": unknown parameter type.");
out:
	leave(c, old);
	return rc;
}

/* One parameter; allowed lists the types this component takes. */
static int
check_param(struct ctx *c, json_t *p, enum comp comp,
    const char *const *allowed, size_t textmax)
{
	const char	*type, *keys[4];
	char		 list[96];
	size_t		 i, n;

	if (!json_is_object(p))
		return fail(c, "bad_type", " must be an object, not %s.",
		    jtype(p));
	if (str_at(c, p, "type", S_REQ, 0, &type) == -1)
		return -1;
	for (i = 0; allowed[i] != NULL; i++)
		if (strcmp(type, allowed[i]) == 0)
			break;
	if (allowed[i] == NULL) {
		list[0] = '\0';
		for (i = 0; allowed[i] != NULL; i++) {
			n = strlcat(list, i > 0 ? ", " : "", sizeof(list));
			if (n < sizeof(list))
				n = strlcat(list, allowed[i], sizeof(list));
			/* Help text only: a cut list will do. */
			if (n >= sizeof(list))
				break;
		}
		return fail_at(c, "type", "invalid", " is \"%.40s\"; here Meta "
		    "takes %s.", type, list);
	}
	n = 0;
	keys[n++] = "type";
	keys[n++] = type;
	/* Named variables (reference 11.1) exist for header and body. */
	if (comp == COMP_HEADER || comp == COMP_BODY)
		keys[n++] = "parameter_name";
	keys[n] = NULL;
	if (only_keys(c, p, keys) == -1 ||
	    name_at(c, p, "parameter_name", 0, NULL) == -1)
		return -1;
	return check_param_value(c, p, type, comp, textmax);
}

/* A button component: sub_type, index "0".."9" (unique), one parameter. */
static int
check_tpl_button(struct ctx *c, json_t *o, unsigned *seen,
    const char **param)
{
	static const char *const keys[] =
	    { "type", "sub_type", "index", "parameters", NULL };
	const char	*sub, *idx;
	json_t		*x;
	size_t		 i;

	if (only_keys(c, o, keys) == -1 ||
	    str_at(c, o, "sub_type", S_REQ, 0, &sub) == -1)
		return -1;
	for (i = 0; i < sizeof(subtypes) / sizeof(subtypes[0]); i++)
		if (strcmp(sub, subtypes[i].sub_type) == 0)
			break;
	if (i == sizeof(subtypes) / sizeof(subtypes[0]))
		return fail_at(c, "sub_type", "invalid", " is \"%.40s\"; Meta "
		    "takes quick_reply, url, copy_code or flow.", sub);
	*param = subtypes[i].param;
	if ((x = json_object_get(o, "index")) == NULL)
		return fail_at(c, "index", "required", " is required.");
	if (!json_is_string(x))
		return fail_at(c, "index", "bad_type", " must be a string such "
		    "as \"0\", not %s.", jtype(x));
	idx = json_string_value(x);
	if (strlen(idx) != 1 || idx[0] < '0' || idx[0] > '9')
		return fail_at(c, "index", "invalid", " is \"%.10s\"; Meta "
		    "takes \"0\" to \"9\".", idx);
	if (*seen & (1u << (idx[0] - '0')))
		return fail_at(c, "index", "duplicate", " repeats button index "
		    "\"%s\".", idx);
	*seen |= 1u << (idx[0] - '0');
	return 0;
}

static int
check_component(struct ctx *c, json_t *o, int *had, unsigned *seen,
    int body_only)
{
	static const char *const hkeys[] = { "type", "parameters", NULL };
	const char	*type, *allowed[2], *const *list;
	json_t		*a, *p;
	size_t		 i, old, min, max, textmax;
	enum comp	 comp;
	int		 rc = 0;

	if (!json_is_object(o))
		return fail(c, "bad_type", " must be an object, not %s.",
		    jtype(o));
	if (str_at(c, o, "type", S_REQ, 0, &type) == -1)
		return -1;
	for (comp = 0; comp < COMP__MAX; comp++)
		if (strcmp(type, comp_names[comp]) == 0)
			break;
	if (comp == COMP__MAX)
		return fail_at(c, "type", "invalid", " is \"%.40s\"; Meta takes "
		    "header, body, footer or button.", type);
	if (comp == COMP_BUTTON) {
		if (check_tpl_button(c, o, seen, &allowed[0]) == -1)
			return -1;
		allowed[1] = NULL;
		list = allowed;
		min = max = 1;
		textmax = MAX_LINK;
	} else {
		if (had[comp])
			return fail_at(c, "type", "duplicate", ": a template "
			    "has one %s component.", type);
		had[comp] = 1;
		if (only_keys(c, o, hkeys) == -1)
			return -1;
		list = comp_params[comp];
		min = comp == COMP_FOOTER ? 0 : 1;
		max = comp == COMP_BODY ? MAX_TPL_PARAMS : 1;
		textmax = comp == COMP_BODY ? (body_only ? MAX_TPL_BODY1 :
		    MAX_TPL_BODY) : MAX_HEADER;
	}
	if (arr_at(c, o, "parameters", (min > 0 ? S_REQ : 0) |
	    (comp == COMP_BODY ? S_OURS : 0), min, max, &a) == -1)
		return -1;
	if (a == NULL)
		return 0;
	old = enter(c, "parameters");
	json_array_foreach(a, i, p) {
		size_t old2 = enter_idx(c, i);

		rc = check_param(c, p, comp, list, textmax);
		leave(c, old2);
		if (rc == -1)
			break;
	}
	leave(c, old);
	return rc;
}

/* [A-Za-z0-9], whatever the locale. */
static int
alnum_ascii(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9');
}

/* "en", "en_US", "pt_BR", "es_419": language code of a template. */
static int
lang_ok(const char *s)
{
	size_t	i = 0, n;

	while (s[i] >= 'a' && s[i] <= 'z')
		i++;
	if (i < 2 || i > 3)
		return 0;
	if (s[i] == '\0')
		return 1;
	if (s[i++] != '_')
		return 0;
	for (n = 0; alnum_ascii(s[i]); n++)
		i++;
	return s[i] == '\0' && n >= 2 && n <= 4;
}

static int
check_template(struct ctx *c, json_t *o, struct val *v)
{
	static const char *const keys[] =
	    { "name", "language", "components", NULL };
	static const char *const lkeys[] = { "code", "policy", NULL };
	const char	*code;
	json_t		*lang, *a, *x;
	size_t		 i, old, old2;
	unsigned	 seen = 0;
	int		 had[COMP__MAX] = { 0 }, rc = 0, body_only;

	if (only_keys(c, o, keys) == -1 ||
	    name_at(c, o, "name", 1, &v->text) == -1 ||
	    obj_at(c, o, "language", 1, &lang) == -1)
		return -1;
	old = enter(c, "language");
	if (only_keys(c, lang, lkeys) == -1 ||
	    str_at(c, lang, "code", S_REQ, 0, &code) == -1 ||
	    const_at(c, lang, "policy", 0, "deterministic") == -1)
		rc = -1;
	else if (!lang_ok(code))
		rc = fail_at(c, "code", "invalid", " is \"%.20s\"; Meta takes a "
		    "code such as \"en\", \"en_US\" or \"pt_BR\".", code);
	leave(c, old);
	if (rc == -1 || arr_at(c, o, "components", 0, 0, MAX_TPL_COMPS,
	    &a) == -1)
		return -1;
	if (a == NULL)
		return 0;
	/* A body parameter may be longer when body stands alone. */
	x = json_array_get(a, 0);
	body_only = json_array_size(a) == 1 && json_is_object(x) &&
	    json_is_string(json_object_get(x, "type")) &&
	    strcmp(json_string_value(json_object_get(x, "type")), "body") == 0;
	old = enter(c, "components");
	json_array_foreach(a, i, x) {
		old2 = enter_idx(c, i);
		rc = check_component(c, x, had, &seen, body_only);
		leave(c, old2);
		if (rc == -1)
			break;
	}
	leave(c, old);
	return rc;
}

/* Recipient: phone digits (one leading "+" dropped) or a BSUID (4.4). */
static int
check_to(struct ctx *c, json_t *root, int required, char *out, size_t sz)
{
	const char	*s, *d;
	size_t		 i, n;

	if (str_at(c, root, "to", required ? S_REQ : 0, 0, &s) == -1)
		return -1;
	if (s == NULL)
		return 0;
	d = s[0] == '+' ? s + 1 : s;
	for (n = 0; d[n] >= '0' && d[n] <= '9'; n++)
		continue;
	if (n > 0 && d[n] == '\0') {
		if (n < 6 || n > 20)
			return fail_at(c, "to", "invalid", " has %zu digits; a "
			    "phone number has 6 to 20.", n);
		/* Fits: out is 64 bytes. */
		(void)strlcpy(out, d, sz);
		return 0;
	}
	if (s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z' &&
	    s[2] == '.') {
		for (i = 3; alnum_ascii(s[i]); i++)
			continue;
		if (s[i] == '\0' && i > 3 && i - 3 <= 40) {
			/* Fits: at most 43 bytes. */
			(void)strlcpy(out, s, sz);
			return 0;
		}
	}
	return fail_at(c, "to", "invalid", " must be a phone number in "
	    "international format (digits, optional leading +) or a "
	    "business-scoped user id such as \"US.1349\".");
}

/* {"type":"read","message_id":wamid,"typing_indicator":bool} (7.4). */
static int
check_read(struct ctx *c, json_t *root, struct val *v, struct msg *m)
{
	static const char *const keys[] = { "messaging_product", "type", "to",
	    "message_id", "typing_indicator", NULL };

	if (only_keys(c, root, keys) == -1 ||
	    check_to(c, root, 0, m->to, sizeof(m->to)) == -1 ||
	    id_at(c, root, "message_id", 1, MAX_WAMID, "a wamid",
	    &v->reply_to) == -1 ||
	    bool_at(c, root, "typing_indicator", &v->typing) == -1)
		return -1;
	return 0;
}

/*
 * Checks the whole request; fills v (inner a new reference) and m->to.
 * Returns 0 or -1 with the error set.
 */
static int
check_request(struct ctx *c, json_t *root, struct val *v, struct msg *m)
{
	static const char *const ckeys[] = { "message_id", NULL };
	const char	*keys[7], *type, *name;
	json_t		*x, *cx;
	size_t		 i, old;
	int		 rc;

	/* reference 7.1: type defaults to text. */
	if ((x = json_object_get(root, "type")) == NULL) {
		if (json_object_get(root, "text") == NULL)
			return fail_at(c, "type", "required", " is required: "
			    "text, image, video, audio, document, sticker, "
			    "location, contacts, interactive, template, "
			    "reaction or read.");
		v->kind = MSG_TEXT;
	} else {
		if (str_at(c, root, "type", S_REQ, 0, &type) == -1)
			return -1;
		for (i = 0; i < MSG__MAX; i++)
			if (strcmp(type, msg_kind_names[i]) == 0)
				break;
		if (i == MSG__MAX)
			return fail_at(c, "type", "invalid", " is \"%.40s\"; "
			    "the gateway sends text, image, video, audio, "
			    "document, sticker, location, contacts, "
			    "interactive, template, reaction or read.", type);
		v->kind = (enum msg_kind)i;
	}
	if (const_at(c, root, "messaging_product", 0, "whatsapp") == -1)
		return -1;
	if (v->kind == MSG_READ)
		return check_read(c, root, v, m);
	name = msg_kind_names[v->kind];
	i = 0;
	keys[i++] = "messaging_product";
	keys[i++] = "recipient_type";
	keys[i++] = "to";
	keys[i++] = "type";
	keys[i++] = "context";
	keys[i++] = name;
	keys[i] = NULL;
	if (only_keys(c, root, keys) == -1 ||
	    const_at(c, root, "recipient_type", 0, "individual") == -1 ||
	    check_to(c, root, 1, m->to, sizeof(m->to)) == -1 ||
	    obj_at(c, root, "context", 0, &cx) == -1)
		return -1;
	if (cx != NULL) {
		old = enter(c, "context");
		rc = only_keys(c, cx, ckeys);
		if (rc == 0)
			rc = id_at(c, cx, "message_id", 1, MAX_WAMID,
			    "a wamid", &v->reply_to);
		leave(c, old);
		if (rc == -1)
			return -1;
	}
	if ((x = json_object_get(root, name)) == NULL)
		return fail_at(c, name, "required", " is required for type "
		    "%s.", name);
	old = enter(c, name);
	if (v->kind == MSG_CONTACTS)
		rc = check_contacts(c, x);
	else if (!json_is_object(x))
		rc = fail(c, "bad_type", " must be an object, not %s.",
		    jtype(x));
	else switch (v->kind) {
	case MSG_TEXT:
		rc = check_text(c, x, v);
		break;
	case MSG_IMAGE:
	case MSG_VIDEO:
		rc = media_check(c, x, v->kind, M_FILE | M_CAPTION, v);
		break;
	case MSG_DOCUMENT:
		rc = media_check(c, x, v->kind,
		    M_FILE | M_CAPTION | M_FILENAME, v);
		break;
	case MSG_AUDIO:
	case MSG_STICKER:
		rc = media_check(c, x, v->kind, M_FILE, v);
		break;
	case MSG_LOCATION:
		rc = check_location(c, x, v);
		break;
	case MSG_INTERACTIVE:
		rc = check_interactive(c, x, v);
		break;
	case MSG_TEMPLATE:
		rc = check_template(c, x, v);
		break;
	case MSG_REACTION:
		rc = check_reaction(c, x, v);
		break;
	default:
		/* MSG_CONTACTS and MSG_READ are handled above. */
		rc = fail(c, "invalid", ": internal error.");
		break;
	}
	leave(c, old);
	if (rc == -1)
		return -1;
	v->inner = v->file != NULL ? media_out(x) : json_incref(x);
	if (v->inner == NULL)
		return fail(c, "no_memory", ": out of memory.");
	return 0;
}

/* The Graph API body for v; from malloc(), NULL on no memory. */
static char *
build(const struct val *v, const struct msg *m)
{
	json_t	*out, *x;
	char	*s = NULL;
	int	 rc;

	if ((out = json_object()) == NULL)
		return NULL;
	rc = json_object_set_new(out, "messaging_product",
	    json_string("whatsapp"));
	if (v->kind == MSG_READ) {
		/* reference 7.4 */
		if (rc == 0)
			rc = json_object_set_new(out, "status",
			    json_string("read"));
		if (rc == 0)
			rc = json_object_set_new(out, "message_id",
			    json_string(v->reply_to));
		if (rc == 0 && v->typing)
			rc = json_object_set_new(out, "typing_indicator",
			    json_pack("{s:s}", "type", "text"));
	} else {
		if (rc == 0)
			rc = json_object_set_new(out, "recipient_type",
			    json_string("individual"));
		if (rc == 0)
			rc = json_object_set_new(out, "to", json_string(m->to));
		if (rc == 0)
			rc = json_object_set_new(out, "type",
			    json_string(msg_kind_names[v->kind]));
		if (rc == 0)
			rc = json_object_set(out, msg_kind_names[v->kind],
			    v->inner);
		if (rc == 0 && v->reply_to != NULL) {
			x = json_pack("{s:s}", "message_id", v->reply_to);
			rc = json_object_set_new(out, "context", x);
		}
	}
	if (rc == 0)
		s = json_dumps(out, DUMP_FLAGS);
	json_decref(out);
	return s;
}

/* strdup() of s, or NULL for NULL; *bad set when memory runs out. */
static char *
dup_or_null(const char *s, int *bad)
{
	char	*p;

	if (s == NULL)
		return NULL;
	if ((p = strdup(s)) == NULL)
		*bad = 1;
	return p;
}

/*
 * See msg.h.  Order: size, JSON syntax, top-level type, the tree walk (depth,
 * NUL), then field by field; the first problem found is reported.
 */
int
msg_parse(const char *json, size_t len, unsigned flags, struct msg *m,
    struct msg_err *err)
{
	struct ctx	 c;
	struct val	 v;
	json_error_t	 je;
	json_t		*root = NULL;
	int		 bad = 0;

	memset(m, 0, sizeof(*m));
	memset(err, 0, sizeof(*err));
	memset(&c, 0, sizeof(c));
	memset(&v, 0, sizeof(v));
	c.err = err;
	c.flags = flags;
	if (len > MAX_BODY) {
		fail(&c, "too_large", " is %zu bytes; the gateway takes at most "
		    "%d.", len, MAX_BODY);
		goto fail;
	}
	/* NULs are let through to be refused with their field by walk(). */
	root = json_loadb(json != NULL ? json : "", json != NULL ? len : 0,
	    JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
	if (root == NULL) {
		if (json_error_code(&je) == json_error_duplicate_key)
			fail(&c, "duplicate", " repeats a key: %s.", je.text);
		else
			fail(&c, "bad_json", " is not valid JSON: %s at line "
			    "%d, column %d.", je.text, je.line, je.column);
		goto fail;
	}
	if (!json_is_object(root)) {
		fail(&c, "bad_type", " must be a JSON object, not %s.",
		    jtype(root));
		goto fail;
	}
	if (walk(&c, root, 1) == -1 || check_request(&c, root, &v, m) == -1)
		goto fail;
	m->kind = v.kind;
	m->free_form = v.kind != MSG_TEMPLATE && v.kind != MSG_READ;
	m->need_catalog = v.need_catalog;
	/* Fits: a wamid is at most 128 bytes, checked above. */
	if (v.reply_to != NULL)
		(void)strlcpy(m->reply_to, v.reply_to, sizeof(m->reply_to));
	m->text = dup_or_null(v.text, &bad);
	m->media_file = dup_or_null(v.file, &bad);
	m->media_mime = dup_or_null(v.mime, &bad);
	if (bad || (m->body = build(&v, m)) == NULL) {
		fail(&c, "no_memory", ": out of memory.");
		goto fail;
	}
	json_decref(v.inner);
	json_decref(root);
	return 0;
fail:
	json_decref(v.inner);
	json_decref(root);
	msg_clear(m);
	return -1;
}

void
msg_clear(struct msg *m)
{
	if (m == NULL)
		return;
	free(m->text);
	free(m->media_file);
	free(m->media_mime);
	free(m->body);
	memset(m, 0, sizeof(*m));
}

/*
 * See msg.h.  Re-parsed rather than searched, so no caption can fake it,
 * and led by the body's own "type" so that a struct holding only a queued
 * body (the worker's case) works too.
 */
int
msg_set_media_id(struct msg *m, const char *media_id)
{
	json_t		*root, *o, *id;
	const char	*type;
	char		*s = NULL;

	if (m == NULL || m->body == NULL || media_id == NULL ||
	    !id_ok(media_id, MAX_MEDIA_ID))
		return -1;
	if ((root = json_loads(m->body, 0, NULL)) == NULL)
		return -1;
	/* json_object_get() takes NULL and non-objects. */
	type = json_string_value(json_object_get(root, "type"));
	o = type != NULL ? json_object_get(root, type) : NULL;
	id = json_object_get(o, "id");
	if (json_is_string(id) &&
	    strcmp(json_string_value(id), MSG_UPLOAD_ID) == 0 &&
	    json_object_set_new(o, "id", json_string(media_id)) == 0)
		s = json_dumps(root, DUMP_FLAGS);
	json_decref(root);
	if (s == NULL)
		return -1;
	free(m->body);
	m->body = s;
	return 0;
}

/*
 * See msg.h.  Re-parsed like msg_set_media_id(), and only a product or
 * product_list body without a catalog_id takes one.
 */
int
msg_set_catalog(struct msg *m, const char *catalog_id)
{
	json_t		*root, *it, *action;
	const char	*type;
	char		*s = NULL;
	size_t		 len;

	if (m == NULL || m->body == NULL || catalog_id == NULL)
		return -1;
	len = strlen(catalog_id);
	if (len == 0 || len > MAX_CATALOG_ID ||
	    strspn(catalog_id, "0123456789") != len)
		return -1;
	if ((root = json_loads(m->body, 0, NULL)) == NULL)
		return -1;
	/* json_object_get() takes NULL and non-objects. */
	it = json_object_get(root, "interactive");
	type = json_string_value(json_object_get(it, "type"));
	action = json_object_get(it, "action");
	if (type != NULL && (strcmp(type, "product") == 0 ||
	    strcmp(type, "product_list") == 0) && json_is_object(action) &&
	    json_object_get(action, "catalog_id") == NULL &&
	    json_object_set_new(action, "catalog_id",
	    json_string(catalog_id)) == 0)
		s = json_dumps(root, DUMP_FLAGS);
	json_decref(root);
	if (s == NULL)
		return -1;
	free(m->body);
	m->body = s;
	m->need_catalog = 0;
	return 0;
}

/* Copies the string or number obj[key] into out, when it is one. */
static int
copy_scalar(json_t *out, json_t *obj, const char *key)
{
	json_t	*x = json_object_get(obj, key);

	if (x == NULL || !(json_is_string(x) || json_is_number(x)))
		return 0;
	return json_object_set(out, key, x);
}

/* {"name","body","response"(decoded),"flow_token"}: reference 5.7. */
static json_t *
flow_reply(json_t *nfm)
{
	json_t		*out, *resp = NULL, *tok;
	const char	*s;

	if (!json_is_object(nfm) || (out = json_object()) == NULL)
		return NULL;
	s = json_string_value(json_object_get(nfm, "response_json"));
	/* A JSON string to decode a second time; anything else shows null. */
	if (s != NULL && (resp = json_loads(s, JSON_REJECT_DUPLICATES,
	    NULL)) != NULL && !json_is_object(resp)) {
		json_decref(resp);
		resp = NULL;
	}
	/* Set first: set_new takes resp, even when it fails. */
	tok = json_object_get(resp, "flow_token");
	if (json_object_set_new(out, "response", resp != NULL ? resp :
	    json_null()) == -1 ||
	    copy_scalar(out, nfm, "name") == -1 ||
	    copy_scalar(out, nfm, "body") == -1 ||
	    (json_is_string(tok) && json_object_set(out, "flow_token",
	    tok) == -1)) {
		json_decref(out);
		return NULL;
	}
	return out;
}

/* {"catalog_id","text","product_items":[...]}: reference 5.10. */
static json_t *
order_view(json_t *order)
{
	static const char *const ikeys[] = { "product_retailer_id",
	    "quantity", "item_price", "currency", NULL };
	json_t	*out, *items, *it, *o;
	size_t	 i, k;

	if (!json_is_object(order) || (out = json_object()) == NULL)
		return NULL;
	if ((items = json_array()) == NULL ||
	    json_object_set_new(out, "product_items", items) == -1 ||
	    copy_scalar(out, order, "catalog_id") == -1 ||
	    copy_scalar(out, order, "text") == -1)
		goto fail;
	json_array_foreach(json_object_get(order, "product_items"), i, it) {
		if (!json_is_object(it))
			continue;
		if ((o = json_object()) == NULL ||
		    json_array_append_new(items, o) == -1)
			goto fail;
		for (k = 0; ikeys[k] != NULL; k++)
			if (copy_scalar(o, it, ikeys[k]) == -1)
				goto fail;
	}
	return out;
fail:
	json_decref(out);
	return NULL;
}

/*
 * See msg.h.  Only the fields Meta documents are copied, so that nothing
 * else of the stored item leaks into the API by accident.
 */
int
msg_reply_show(struct json_t *row, const char *raw)
{
	json_t		*item, *x, *view = NULL;
	const char	*type, *key = NULL;
	int		 rc = 0;

	if (row == NULL || raw == NULL ||
	    (item = json_loads(raw, 0, NULL)) == NULL)
		return 0;
	type = json_string_value(json_object_get(item, "type"));
	if (type != NULL && strcmp(type, "order") == 0 &&
	    json_is_object(x = json_object_get(item, "order"))) {
		key = "order";
		view = order_view(x);
	} else if (type != NULL && strcmp(type, "interactive") == 0) {
		x = json_object_get(item, "interactive");
		type = json_string_value(json_object_get(x, "type"));
		x = json_object_get(x, "nfm_reply");
		if (type != NULL && strcmp(type, "nfm_reply") == 0 &&
		    json_is_object(x)) {
			key = "flow_reply";
			view = flow_reply(x);
		}
	}
	if (key != NULL)
		rc = view != NULL && json_object_set_new(row, key, view) == 0 ?
		    1 : -1;
	else
		json_decref(view);
	json_decref(item);
	return rc;
}
