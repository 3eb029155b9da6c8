/*
 * sandbox_check.c: what the sandbox's POST /{pnid}/messages accepts, with
 * Meta's codes for what it refuses (reference sections 5, 8.2 and 15; the
 * test fake tests/e2e/fake_graph.py models the same rules in Python).
 * The rules a newcomer meets are here: fields a kind requires (131008),
 * values out of range (131009), wrong JSON types and unknown names (100),
 * kinds a business cannot send (131051).  Template existence (132001) is
 * the caller's, which has the templates.  Pure: no I/O, clock or storage.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "sandbox.h"

/* Meta's codes the sandbox answers with: HTTP status and title. */
static const struct {
	long		 code;
	int		 http;
	const char	*title;
} codes[] = {
	{ 100, 400, "Invalid parameter" },
	{ 190, 401, "Invalid OAuth access token - Cannot parse access token" },
	{ 131008, 400, "Required parameter is missing" },
	{ 131009, 400, "Parameter value is not valid" },
	{ 131051, 400, "Unsupported message type" },
	{ 131000, 500, "Something went wrong" },
	{ 131053, 400, "Media upload error" },
	{ 132001, 404, "Template name does not exist in the translation" },
};

#define NCODES	(sizeof(codes) / sizeof(codes[0]))

/* The kinds a business sends (reference 5). */
static const char *const kinds[] = { "text", "image", "audio", "video",
    "document", "sticker", "location", "contacts", "interactive",
    "template", "reaction" };
/* Kinds that exist only from customers to businesses: 131051. */
static const char *const inbound_only[] = { "unsupported", "system",
    "order", "button", "ephemeral", "request_welcome", "unknown" };
static const char *const interactive_kinds[] = { "button", "list",
    "cta_url", "product", "product_list", "catalog_message", "flow",
    "location_request_message", "address_message" };

/* Optional or required strings of a kind: the table-driven part. */
static const struct field {
	const char	*kind;		/* message type */
	const char	*k1, *k2;	/* object path under the kind */
	int		 need;		/* 131008 when missing */
	size_t		 max;		/* code points, 0 none */
	long		 code_len;	/* code when longer than max */
	const char	*name;		/* as Meta names it */
} fields[] = {
	{ "text", "body", NULL, 1, 4096, 100, "text['body']" },
	{ "image", "caption", NULL, 0, 1024, 100, "image['caption']" },
	{ "video", "caption", NULL, 0, 1024, 100, "video['caption']" },
	{ "document", "caption", NULL, 0, 1024, 100, "document['caption']" },
	{ "document", "filename", NULL, 0, 240, 131009,
	  "document['filename']" },
	{ "location", "name", NULL, 0, 1000, 131009, "location['name']" },
	{ "location", "address", NULL, 0, 1000, 131009,
	  "location['address']" },
	{ "reaction", "message_id", NULL, 1, 256, 131009,
	  "reaction['message_id']" },
	{ "template", "name", NULL, 1, 512, 131009, "template['name']" },
	{ "template", "language", "code", 1, 16, 131009,
	  "template['language']['code']" },
	{ "interactive", "type", NULL, 1, 0, 0, "interactive['type']" },
};

#define NFIELDS	(sizeof(fields) / sizeof(fields[0]))

static int
in(const char *s, const char *const *set, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(s, set[i]) == 0)
			return 1;
	return 0;
}

#define IN(s, set)	in((s), (set), sizeof(set) / sizeof((set)[0]))

const char *
sandbox_check_title(long code)
{
	size_t i;

	for (i = 0; i < NCODES; i++)
		if (codes[i].code == code)
			return codes[i].title;
	return "Unknown error";
}

int
sandbox_check_http(long code)
{
	size_t i;

	for (i = 0; i < NCODES; i++)
		if (codes[i].code == code)
			return codes[i].http;
	return 400;
}

/* Fills e with code, its title as message and details from fmt. */
void
sandbox_check_refuse(struct sandbox_refusal *e, long code, const char *fmt,
    ...)
{
	va_list	 ap;
	int	 n;

	e->code = code;
	e->http = sandbox_check_http(code);
	n = snprintf(e->message, sizeof(e->message), "(#%ld) %s", code,
	    sandbox_check_title(code));
	if (n < 0 || (size_t)n >= sizeof(e->message))
		e->message[0] = '\0';	/* titles are short: cannot happen */
	va_start(ap, fmt);
	n = vsnprintf(e->details, sizeof(e->details), fmt, ap);
	va_end(ap);
	if (n < 0)
		e->details[0] = '\0';	/* a longer one is cut: still a sentence */
}

/* Code points of a UTF-8 string, as Meta counts lengths. */
static size_t
u8len(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/*
 * A string at o[key]: 1 present and fine, 0 absent (131008 when need),
 * -1 refused.  max in code points (0 none), code_len when longer.
 */
static int
str(const json_t *o, const char *key, const char *name, int need, size_t max,
    long code_len, struct sandbox_refusal *e)
{
	const json_t *v = json_object_get(o, key);

	if (v == NULL || json_is_null(v) || (json_is_string(v) &&
	    json_string_length(v) == 0 && need)) {
		if (!need)
			return 0;
		sandbox_check_refuse(e, 131008, "The parameter %s is required.",
		    name);
		return -1;
	}
	if (!json_is_string(v)) {
		sandbox_check_refuse(e, 100, "Param %s must be a string.", name);
		return -1;
	}
	if (max > 0 && u8len(json_string_value(v)) > max) {
		sandbox_check_refuse(e, code_len, "Param %s must be at most %zu "
		    "characters long (got %zu).", name, max,
		    u8len(json_string_value(v)));
		return -1;
	}
	return 1;
}

/* o[key] as an object (or array when arr), required. */
static const json_t *
obj(const json_t *o, const char *key, const char *name, int arr,
    struct sandbox_refusal *e)
{
	const json_t *v = json_object_get(o, key);

	if (v == NULL || json_is_null(v)) {
		sandbox_check_refuse(e, 131008, "The parameter %s is required.",
		    name);
		return NULL;
	}
	if (arr ? !json_is_array(v) : !json_is_object(v)) {
		sandbox_check_refuse(e, 100, "Param %s must be %s.", name,
		    arr ? "an array" : "an object");
		return NULL;
	}
	return v;
}

/* "to": a phone number (5-15 digits, spaces, +, -, (, ), .) or a BSUID. */
static int
recipient(const json_t *to, char *wa_id, size_t sz, struct sandbox_refusal *e)
{
	const char	*s, *p;
	size_t		 d = 0, plus = 0, i;

	if (!json_is_string(to) || json_string_length(to) == 0) {
		sandbox_check_refuse(e, 100, "Param to must be a non-empty "
		    "string.");
		return -1;
	}
	s = json_string_value(to);
	/* Business-scoped user id: CC.alnum (reference 2.4). */
	if (isupper((unsigned char)s[0]) && isupper((unsigned char)s[1]) &&
	    s[2] == '.' && strlen(s) >= 8 && strlen(s) <= 67) {
		for (p = s + 3; *p && isalnum((unsigned char)*p); p++)
			;
		if (*p == '\0' && strlen(s) < sz) {
			memcpy(wa_id, s, strlen(s) + 1);
			return 0;
		}
	}
	for (p = s, i = 0; *p; p++) {
		if (isdigit((unsigned char)*p)) {
			if (i + 1 < sz)
				wa_id[i++] = *p;
			d++;
		} else if (*p == '+')
			plus++;
		else if (strchr(" ()-.", *p) == NULL)
			break;
	}
	wa_id[i] = '\0';
	if (*p != '\0' || d < 5 || d > 15 || plus > 1 || strlen(s) > 30) {
		sandbox_check_refuse(e, 100, "Param to is not a valid phone "
		    "number or business-scoped user ID.");
		return -1;
	}
	return 0;
}

/* image/audio/video/document/sticker: exactly one of id and link. */
static int
media(const json_t *m, const char *kind, struct sandbox_refusal *e)
{
	const json_t	*id = json_object_get(m, "id"), *link =
			    json_object_get(m, "link");
	const json_t	*v = id != NULL ? id : link;
	const char	*s;

	if (id == NULL && link == NULL) {
		sandbox_check_refuse(e, 131008, "Param %s must contain either "
		    "'id' or 'link'.", kind);
		return -1;
	}
	if (id != NULL && link != NULL) {
		sandbox_check_refuse(e, 131009, "Param %s must contain either "
		    "'id' or 'link', not both.", kind);
		return -1;
	}
	if (!json_is_string(v) || json_string_length(v) == 0) {
		sandbox_check_refuse(e, 131009, "Param %s['%s'] must be a "
		    "non-empty string.", kind, id != NULL ? "id" : "link");
		return -1;
	}
	s = json_string_value(v);
	if (link != NULL && strncmp(s, "https://", 8) != 0 &&
	    strncmp(s, "http://", 7) != 0) {
		sandbox_check_refuse(e, 131009, "Param %s['link'] must be an "
		    "http(s) URL.", kind);
		return -1;
	}
	if (json_object_get(m, "caption") != NULL && (strcmp(kind, "audio") ==
	    0 || strcmp(kind, "sticker") == 0)) {
		sandbox_check_refuse(e, 100, "Param %s['caption'] is not a "
		    "valid parameter for %s.", kind, kind);
		return -1;
	}
	return 0;
}

static int
location(const json_t *l, struct sandbox_refusal *e)
{
	static const struct { const char *k; double lim; } ax[] = {
		{ "latitude", 90 }, { "longitude", 180 } };
	const json_t	*v;
	double		 d;
	size_t		 i;

	for (i = 0; i < 2; i++) {
		if ((v = json_object_get(l, ax[i].k)) == NULL) {
			sandbox_check_refuse(e, 131008, "The parameter "
			    "location['%s'] is required.", ax[i].k);
			return -1;
		}
		if (!json_is_number(v)) {
			sandbox_check_refuse(e, 100, "Param location['%s'] must "
			    "be a number.", ax[i].k);
			return -1;
		}
		d = json_number_value(v);
		if (d < -ax[i].lim || d > ax[i].lim) {
			sandbox_check_refuse(e, 131009, "Param location['%s'] is "
			    "out of range.", ax[i].k);
			return -1;
		}
	}
	return 0;
}

/* Reply buttons: 1-3, titles 1-20, ids <= 256, no duplicates. */
static int
buttons(const json_t *act, struct sandbox_refusal *e)
{
	const json_t	*bs, *b, *r, *o;
	size_t		 i, j;
	char		 name[96];

	if ((bs = obj(act, "buttons", "interactive['action']['buttons']", 1,
	    e)) == NULL)
		return -1;
	if (json_array_size(bs) < 1 || json_array_size(bs) > 3) {
		sandbox_check_refuse(e, 131009, "Invalid buttons count in "
		    "interactive['action']['buttons']: %zu. Min allowed buttons: "
		    "1, Max allowed buttons: 3", json_array_size(bs));
		return -1;
	}
	json_array_foreach(bs, i, b) {
		(void)snprintf(name, sizeof(name), "interactive['action']"
		    "['buttons'][%zu]['reply']", i);	/* fits */
		if (!json_is_object(b) || (r = obj(b, "reply", name, 0, e)) ==
		    NULL) {
			if (!json_is_object(b))
				sandbox_check_refuse(e, 100, "Param %s must be "
				    "an object.", name);
			return -1;
		}
		if (str(r, "id", name, 1, 256, 131009, e) != 1 ||
		    str(r, "title", name, 1, 20, 131009, e) != 1)
			return -1;
		for (j = 0; j < i; j++) {
			o = json_object_get(json_array_get(bs, j), "reply");
			if (json_equal(json_object_get(o, "id"),
			    json_object_get(r, "id")) ||
			    json_equal(json_object_get(o, "title"),
			    json_object_get(r, "title"))) {
				sandbox_check_refuse(e, 131009, "Param %s "
				    "duplicates the id or title of another "
				    "button.", name);
				return -1;
			}
		}
	}
	return 0;
}

/* A list: button <= 20, 1-10 sections, 1-10 rows in all, limits. */
static int
list(const json_t *act, struct sandbox_refusal *e)
{
	const json_t	*ss, *s, *rs, *r;
	size_t		 i, j, rows = 0;
	char		 name[96];

	if (str(act, "button", "interactive['action']['button']", 1, 20,
	    131009, e) != 1 || (ss = obj(act, "sections",
	    "interactive['action']['sections']", 1, e)) == NULL)
		return -1;
	if (json_array_size(ss) < 1 || json_array_size(ss) > 10) {
		sandbox_check_refuse(e, 131009, "Invalid sections count in "
		    "interactive['action']['sections']: %zu. Min allowed "
		    "sections: 1, Max allowed sections: 10", json_array_size(ss));
		return -1;
	}
	json_array_foreach(ss, i, s) {
		(void)snprintf(name, sizeof(name), "interactive['action']"
		    "['sections'][%zu]", i);	/* fits */
		if (!json_is_object(s)) {
			sandbox_check_refuse(e, 100, "Param %s must be an "
			    "object.", name);
			return -1;
		}
		if (str(s, "title", name, json_array_size(ss) > 1, 24, 131009,
		    e) == -1 || (rs = obj(s, "rows", name, 1, e)) == NULL)
			return -1;
		if (json_array_size(rs) == 0) {
			sandbox_check_refuse(e, 131009, "Param %s['rows'] must "
			    "contain at least one row.", name);
			return -1;
		}
		json_array_foreach(rs, j, r) {
			if (!json_is_object(r) ||
			    str(r, "id", name, 1, 200, 131009, e) != 1 ||
			    str(r, "title", name, 1, 24, 131009, e) != 1 ||
			    str(r, "description", name, 0, 72, 131009, e) == -1) {
				if (!json_is_object(r))
					sandbox_check_refuse(e, 100, "Param %s"
					    "['rows'][%zu] must be an object.",
					    name, j);
				return -1;
			}
		}
		rows += json_array_size(rs);
	}
	if (rows > 10) {
		sandbox_check_refuse(e, 131009, "Total row count exceed max "
		    "allowed count in interactive['action']['sections']: "
		    "%zu > 10", rows);
		return -1;
	}
	return 0;
}

static int
interactive(const json_t *it, struct sandbox_refusal *e)
{
	const json_t	*act, *hdr, *body, *par;
	const char	*t = json_string_value(json_object_get(it, "type"));
	int		 simple;

	if (!IN(t, interactive_kinds)) {
		sandbox_check_refuse(e, 100, "Param interactive['type'] must be "
		    "one of {button, list, cta_url, product, product_list, "
		    "catalog_message, flow, location_request_message, "
		    "address_message} - got \"%.64s\".", t);
		return -1;
	}
	if (strcmp(t, "address_message") == 0)
		return 0;
	simple = strcmp(t, "button") == 0 || strcmp(t, "list") == 0 ||
	    strcmp(t, "cta_url") == 0;
	body = json_object_get(it, "body");
	if ((simple || strcmp(t, "product") != 0) && (body == NULL ||
	    !json_is_object(body))) {
		sandbox_check_refuse(e, 131008, "The parameter "
		    "interactive['body'] is required.");
		return -1;
	}
	if (body != NULL && str(body, "text", "interactive['body']['text']",
	    1, strcmp(t, "list") == 0 ? 4096 : 1024, 131009, e) == -1)
		return -1;
	if ((hdr = json_object_get(it, "header")) != NULL) {
		if (!json_is_object(hdr)) {
			sandbox_check_refuse(e, 100, "Param interactive['header'] "
			    "must be an object.");
			return -1;
		}
		if (!json_is_string(json_object_get(hdr, "type"))) {
			sandbox_check_refuse(e, 131008, "The parameter "
			    "interactive['header']['type'] is required.");
			return -1;
		}
		if (json_is_string(json_object_get(hdr, "type")) &&
		    strcmp(json_string_value(json_object_get(hdr, "type")),
		    "text") == 0 && str(hdr, "text",
		    "interactive['header']['text']", 1, 60, 131009, e) == -1)
			return -1;
	}
	if ((par = json_object_get(it, "footer")) != NULL && (!json_is_object(
	    par) || str(par, "text", "interactive['footer']['text']", 1, 60,
	    131009, e) == -1)) {
		if (!json_is_object(par))
			sandbox_check_refuse(e, 100, "Param interactive['footer'] "
			    "must be an object.");
		return -1;
	}
	if ((act = obj(it, "action", "interactive['action']", 0, e)) == NULL)
		return -1;
	if (strcmp(t, "button") == 0)
		return buttons(act, e);
	if (strcmp(t, "list") == 0)
		return list(act, e);
	if (strcmp(t, "cta_url") == 0) {
		if ((par = obj(act, "parameters",
		    "interactive['action']['parameters']", 0, e)) == NULL ||
		    str(par, "display_text", "interactive['action']['parameters']"
		    "['display_text']", 1, 20, 131009, e) != 1 ||
		    str(par, "url", "interactive['action']['parameters']['url']",
		    1, 2000, 131009, e) != 1)
			return -1;
		if (strncmp(json_string_value(json_object_get(par, "url")),
		    "https://", 8) != 0 && strncmp(json_string_value(
		    json_object_get(par, "url")), "http://", 7) != 0) {
			sandbox_check_refuse(e, 131009, "Param interactive"
			    "['action']['parameters']['url'] must be an http(s) "
			    "URL.");
			return -1;
		}
	}
	return 0;
}

/*
 * Checks a POST /{pnid}/messages body as Meta does.  A message's
 * recipient goes to wa_id (digits, or the BSUID).  Returns what the body
 * is; SANDBOX_SEND_REFUSED with e filled.
 */
enum sandbox_send
sandbox_check_send(const json_t *b, char *wa_id, size_t wa_idsz,
    struct sandbox_refusal *e)
{
	const json_t	*mp, *st, *k, *v, *c, *ctx;
	const char	*type = "text";
	size_t		 i;

	memset(e, 0, sizeof(*e));
	if (wa_idsz > 0)
		wa_id[0] = '\0';
	if (!json_is_object(b)) {
		sandbox_check_refuse(e, 100, "The request body must be a JSON "
		    "object.");
		return SANDBOX_SEND_REFUSED;
	}
	mp = json_object_get(b, "messaging_product");
	if (mp == NULL) {
		sandbox_check_refuse(e, 100, "The parameter messaging_product "
		    "is required.");
		return SANDBOX_SEND_REFUSED;
	}
	if (!json_is_string(mp) || strcmp(json_string_value(mp), "whatsapp")) {
		sandbox_check_refuse(e, 100, "Param messaging_product must be "
		    "one of {WHATSAPP}.");
		return SANDBOX_SEND_REFUSED;
	}
	if ((st = json_object_get(b, "status")) != NULL) {
		if (!json_is_string(st) || strcmp(json_string_value(st),
		    "read") != 0) {
			sandbox_check_refuse(e, 100, "Param status must be one of "
			    "{READ}.");
			return SANDBOX_SEND_REFUSED;
		}
		if (str(b, "message_id", "message_id", 1, 256, 131009, e) != 1)
			return SANDBOX_SEND_REFUSED;
		v = json_object_get(b, "typing_indicator");
		if (v != NULL && (!json_is_object(v) || !json_is_string(
		    json_object_get(v, "type")) || strcmp(json_string_value(
		    json_object_get(v, "type")), "text") != 0)) {
			sandbox_check_refuse(e, 131009, "Param "
			    "typing_indicator['type'] must be \"text\".");
			return SANDBOX_SEND_REFUSED;
		}
		return SANDBOX_SEND_READ;
	}
	if ((v = json_object_get(b, "to")) == NULL) {
		sandbox_check_refuse(e, 100, "The parameter to is required.");
		return SANDBOX_SEND_REFUSED;
	}
	if (recipient(v, wa_id, wa_idsz, e) == -1)
		return SANDBOX_SEND_REFUSED;
	if ((v = json_object_get(b, "recipient_type")) != NULL &&
	    (!json_is_string(v) || (strcmp(json_string_value(v), "individual")
	    != 0 && strcmp(json_string_value(v), "group") != 0))) {
		sandbox_check_refuse(e, 100, "Param recipient_type must be one of "
		    "{INDIVIDUAL, GROUP}.");
		return SANDBOX_SEND_REFUSED;
	}
	if ((v = json_object_get(b, "type")) != NULL) {
		if (!json_is_string(v)) {
			sandbox_check_refuse(e, 100, "Param type must be a "
			    "string.");
			return SANDBOX_SEND_REFUSED;
		}
		type = json_string_value(v);
	}
	if (IN(type, inbound_only)) {
		sandbox_check_refuse(e, 131051, "Message type %.32s cannot be "
		    "sent by a business.", type);
		return SANDBOX_SEND_REFUSED;
	}
	if (!IN(type, kinds)) {
		sandbox_check_refuse(e, 100, "Param type must be one of {TEXT, "
		    "IMAGE, AUDIO, VIDEO, DOCUMENT, STICKER, LOCATION, CONTACTS, "
		    "INTERACTIVE, TEMPLATE, REACTION} - got \"%.64s\".", type);
		return SANDBOX_SEND_REFUSED;
	}
	if ((v = json_object_get(b, "biz_opaque_callback_data")) != NULL &&
	    str(b, "biz_opaque_callback_data", "biz_opaque_callback_data", 0,
	    512, 100, e) == -1)
		return SANDBOX_SEND_REFUSED;
	if ((ctx = json_object_get(b, "context")) != NULL && (!json_is_object(
	    ctx) || str(ctx, "message_id", "context['message_id']", 1, 256,
	    131009, e) != 1)) {
		if (!json_is_object(ctx))
			sandbox_check_refuse(e, 100, "Param context must be an "
			    "object.");
		return SANDBOX_SEND_REFUSED;
	}
	if ((k = obj(b, type, type, strcmp(type, "contacts") == 0, e)) == NULL)
		return SANDBOX_SEND_REFUSED;
	for (i = 0; i < NFIELDS; i++) {
		if (strcmp(fields[i].kind, type) != 0)
			continue;
		v = k;
		if (fields[i].k2 != NULL && (v = json_object_get(k,
		    fields[i].k1)) == NULL) {
			sandbox_check_refuse(e, 131008, "The parameter "
			    "%s['%s'] is required.", type, fields[i].k1);
			return SANDBOX_SEND_REFUSED;
		}
		if (fields[i].k2 != NULL && !json_is_object(v)) {
			sandbox_check_refuse(e, 100, "Param %s['%s'] must be an "
			    "object.", type, fields[i].k1);
			return SANDBOX_SEND_REFUSED;
		}
		if (str(v, fields[i].k2 != NULL ? fields[i].k2 : fields[i].k1,
		    fields[i].name, fields[i].need, fields[i].max,
		    fields[i].code_len, e) == -1)
			return SANDBOX_SEND_REFUSED;
	}
	if (strcmp(type, "image") == 0 || strcmp(type, "audio") == 0 ||
	    strcmp(type, "video") == 0 || strcmp(type, "document") == 0 ||
	    strcmp(type, "sticker") == 0) {
		if (media(k, type, e) == -1)
			return SANDBOX_SEND_REFUSED;
	} else if (strcmp(type, "location") == 0) {
		if (location(k, e) == -1)
			return SANDBOX_SEND_REFUSED;
	} else if (strcmp(type, "contacts") == 0) {
		if (json_array_size(k) == 0) {
			sandbox_check_refuse(e, 131008, "The parameter "
			    "contacts[0] is required.");
			return SANDBOX_SEND_REFUSED;
		}
		json_array_foreach(k, i, c)
			if (!json_is_object(c) || !json_is_object(
			    json_object_get(c, "name")) || str(json_object_get(
			    c, "name"), "formatted_name",
			    "contacts[]['name']['formatted_name']", 1, 0, 0, e)
			    != 1) {
				if (e->code == 0)
					sandbox_check_refuse(e, 131008, "The "
					    "parameter contacts[%zu]['name']"
					    "['formatted_name'] is required.",
					    i);
				return SANDBOX_SEND_REFUSED;
			}
	} else if (strcmp(type, "reaction") == 0) {
		if (json_object_get(k, "emoji") == NULL) {
			sandbox_check_refuse(e, 131008, "The parameter "
			    "reaction['emoji'] is required.");
			return SANDBOX_SEND_REFUSED;
		}
		if (str(k, "emoji", "reaction['emoji']", 0, 0, 0, e) == -1)
			return SANDBOX_SEND_REFUSED;
	} else if (strcmp(type, "interactive") == 0) {
		if (interactive(k, e) == -1)
			return SANDBOX_SEND_REFUSED;
	} else if (strcmp(type, "template") == 0) {
		v = json_object_get(k, "components");
		if (v != NULL && !json_is_array(v)) {
			sandbox_check_refuse(e, 100, "Param template['components'] "
			    "must be an array.");
			return SANDBOX_SEND_REFUSED;
		}
	}
	return SANDBOX_SEND_MESSAGE;
}
