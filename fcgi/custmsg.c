/*
 * custmsg.c: the messages of `wactl chat`, the terminal customer (issue
 * 15), apart from its I/O (customer.c) so that they are tested without
 * a socket.  Pure: bytes and values in, values out; the wamid and the
 * time are passed in.
 *
 * What the customer sends is built as Meta's inbound webhook (reference
 * sections 4 and 5): the envelope of section 4 with one contact and one
 * message, serialised the way Meta serialises it (section 2.1: non-ASCII
 * as lowercase \uXXXX, "/" as "\/"), so that the gateway sees the same
 * bytes it would see from Meta.  What the business sends (the JSON it
 * POSTed to /messages, reference section 7) is shown as text; reply
 * buttons and list rows become numbered choices, and the number typed
 * back becomes the interactive reply Meta would send (sections 5.5, 5.6)
 * with the context of the message that offered them (section 5.15).
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/string.h>
#include <jansson.h>

#include "buf.h"
#include "custmsg.h"

#define CAPTION_MAX	1024	/* Meta: a media caption, in characters */
#define LOC_NAME_MAX	1000	/* a place name; Meta gives no limit */
#define EMOJI_MAX	64	/* bytes: a ZWJ sequence is up to ~35 */
#define CHOICES_MAX	10	/* Meta: 3 buttons, 10 list rows in all */

/* Characters (UTF-8 code points) in s, which jansson has checked. */
static size_t
u8_chars(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/*
 * A string value from untrusted text: NULL when s is not UTF-8 (jansson
 * refuses it) or has more than max characters; *why then says which.
 */
static json_t *
str_checked(const char *s, size_t max, const char *what, const char **why)
{
	json_t *j;

	if ((j = json_string(s)) == NULL) {
		*why = "is not valid UTF-8";
		return NULL;
	}
	if (u8_chars(s) > max) {
		json_decref(j);
		*why = what;
		return NULL;
	}
	return j;
}

/*
 * 1 when s is a customer's WhatsApp number as Meta writes wa_id: the
 * country code and number, digits only, no leading 0, at most 15 digits
 * (E.164) and at least 6; else 0.
 */
int
custmsg_valid_number(const char *s)
{
	size_t i;

	if (s == NULL || s[0] == '0')
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return i >= 6 && i <= 15;
}

/*
 * Meta writes \uXXXX escapes in lowercase hex (reference 2.1), jansson
 * in upper case: lowers the four digits of each escape, in place, and
 * leaves an escaped backslash followed by a "u" alone.
 */
static void
lower_escapes(char *s)
{
	size_t i;

	while ((s = strchr(s, '\\')) != NULL) {
		if (s[1] == 'u')
			for (i = 2; i < 6 && s[i] != '\0'; i++)
				s[i] = (char)tolower((unsigned char)s[i]);
		s += s[1] != '\0' ? 2 : 1;
	}
}

/*
 * The inbound webhook body of one message of type from w, with Meta's
 * envelope (reference section 4): obj is the message's <type> object,
 * context (or NULL) its context; both are taken (decref'd here, even on
 * failure).  ts is the Unix time the customer sent it.  Returns the
 * body as Meta serialises it (caller frees with free()), or NULL.
 */
char *
custmsg_webhook(const struct custmsg_who *w, const char *wamid, long long ts,
    const char *type, json_t *obj, json_t *context)
{
	json_t	*doc = NULL, *msg = NULL, *contact;
	char	 tsbuf[32], *out = NULL;
	int	 n;

	n = snprintf(tsbuf, sizeof(tsbuf), "%lld", ts);
	if (obj == NULL || n < 0 || (size_t)n >= sizeof(tsbuf))
		goto done;
	contact = w->name != NULL ?
	    json_pack("{s:{s:s}, s:s}", "profile", "name", w->name, "wa_id",
	    w->wa_id) : json_pack("{s:s}", "wa_id", w->wa_id);
	/* Meta's order: context first, then from, id, timestamp, type. */
	if ((msg = json_object()) == NULL) {
		json_decref(contact);
		goto done;
	}
	if (context != NULL && json_object_set_new(msg, "context",
	    context) == -1) {
		context = NULL;
		json_decref(contact);
		goto done;
	}
	context = NULL;
	if (json_object_set_new(msg, "from", json_string(w->wa_id)) == -1 ||
	    json_object_set_new(msg, "id", json_string(wamid)) == -1 ||
	    json_object_set_new(msg, "timestamp", json_string(tsbuf)) == -1 ||
	    json_object_set_new(msg, "type", json_string(type)) == -1 ||
	    json_object_set_new(msg, type, obj) == -1) {
		obj = NULL;
		json_decref(contact);
		goto done;
	}
	obj = NULL;
	doc = json_pack("{s:s, s:[{s:s, s:[{s:{s:s, s:{s:s, s:s}, s:[o], "
	    "s:[O]}, s:s}]}]}",
	    "object", "whatsapp_business_account",
	    "entry", "id", w->waba, "changes", "value",
	    "messaging_product", "whatsapp",
	    "metadata", "display_phone_number", w->display,
	    "phone_number_id", w->pnid,
	    "contacts", contact,
	    "messages", msg,
	    "field", "messages");
	if (doc != NULL)
		out = json_dumps(doc, JSON_COMPACT | JSON_ENSURE_ASCII |
		    JSON_ESCAPE_SLASH | JSON_REAL_PRECISION(10));
	if (out != NULL)
		lower_escapes(out);
done:
	json_decref(obj);
	json_decref(context);
	json_decref(msg);
	json_decref(doc);
	return out;
}

/*
 * The text object of a line the customer typed ({"body": line}), or NULL
 * with *why saying what is wrong with it.  Caller owns the result.
 */
json_t *
custmsg_text(const char *line, const char **why)
{
	json_t *b;

	if (line[0] == '\0') {
		*why = "is empty";
		return NULL;
	}
	if ((b = str_checked(line, CUSTMSG_TEXT_MAX, "is longer than "
	    "WhatsApp's 4096 characters", why)) == NULL)
		return NULL;
	return json_pack("{s:o}", "body", b);
}

/* Skips spaces and tabs. */
static const char *
skip_ws(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/*
 * Sets o's key to s (blanks before it skipped) and returns o; returns o
 * as it is when s is NULL or empty.  NULL with *why (toolong) and o
 * freed when s is longer than max.
 */
static json_t *
set_text(json_t *o, const char *key, const char *s, size_t max,
    const char *toolong, const char **why)
{
	json_t *t;

	if (s == NULL || *(s = skip_ws(s)) == '\0')
		return o;
	if ((t = str_checked(s, max, toolong, why)) == NULL ||
	    json_object_set_new(o, key, t) == -1) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* One coordinate from *s, within [-lim, lim]; advances *s.  0 or -1. */
static int
coord(const char **s, double lim, double *v)
{
	char *end;

	*s = skip_ws(*s);
	errno = 0;
	*v = strtod(*s, &end);
	if (end == *s || errno != 0 || !isfinite(*v) || *v < -lim ||
	    *v > lim || (*end != '\0' && *end != ' ' && *end != '\t'))
		return -1;
	*s = end;
	return 0;
}

/*
 * The location object of "/location LAT LON [NAME]" (args is what
 * follows the command): latitude and longitude as numbers, the rest of
 * the line as the place's name (reference section 5.3).  NULL with *why
 * when they are not two numbers in range.  Caller owns the result.
 */
json_t *
custmsg_location(const char *args, const char **why)
{
	json_t		*o;
	double		 lat, lon;
	const char	*s = args;

	if (coord(&s, 90, &lat) == -1 || coord(&s, 180, &lon) == -1) {
		*why = "needs a latitude (-90 to 90) and a longitude (-180 "
		    "to 180) in degrees, e.g. /location 52.52 13.405 Office";
		return NULL;
	}
	if ((o = json_pack("{s:f, s:f}", "latitude", lat, "longitude",
	    lon)) == NULL)
		return NULL;
	return set_text(o, "name", s, LOC_NAME_MAX, "has a name longer than "
	    "1000 characters", why);
}

/*
 * The reaction object of "/react EMOJI" to message wamid (reference
 * section 5.9), or NULL with *why.  Caller owns the result.
 */
json_t *
custmsg_reaction(const char *wamid, const char *emoji, const char **why)
{
	json_t *e;

	if (wamid == NULL || wamid[0] == '\0') {
		*why = "has nothing to react to: the business has sent no "
		    "message yet";
		return NULL;
	}
	emoji = skip_ws(emoji);
	if (*emoji == '\0' || strchr(emoji, ' ') != NULL ||
	    strlen(emoji) > EMOJI_MAX) {
		*why = "needs one emoji, e.g. /react \xf0\x9f\x91\x8d";
		return NULL;
	}
	if ((e = str_checked(emoji, EMOJI_MAX, "", why)) == NULL)
		return NULL;
	return json_pack("{s:s, s:o}", "message_id", wamid, "emoji", e);
}

/*
 * The image object of an inbound image (reference section 5.2) from the
 * sandbox's answer to an upload ({"id", "mime_type", "sha256", ...}) and
 * a caption (NULL or "" for none).  NULL with *why.  Caller owns it.
 */
json_t *
custmsg_image(const json_t *upload, const char *caption, const char **why)
{
	json_t		*o;
	const char	*id, *mime, *sha;

	id = json_string_value(json_object_get(upload, "id"));
	mime = json_string_value(json_object_get(upload, "mime_type"));
	sha = json_string_value(json_object_get(upload, "sha256"));
	if (id == NULL || *id == '\0' || mime == NULL) {
		*why = "got no media id from the sandbox";
		return NULL;
	}
	if ((o = json_pack("{s:s}", "mime_type", mime)) == NULL)
		return NULL;
	if ((sha != NULL && json_object_set_new(o, "sha256",
	    json_string(sha)) == -1) ||
	    json_object_set_new(o, "id", json_string(id)) == -1) {
		json_decref(o);
		return NULL;
	}
	return set_text(o, "caption", caption, CAPTION_MAX, "has a caption "
	    "longer than 1024 characters", why);
}

/*
 * The MIME type of an image WhatsApp takes (reference section 9.6: JPEG
 * and PNG) by its first bytes, or NULL for anything else.
 */
const char *
custmsg_image_mime(const void *p, size_t len)
{
	const unsigned char *b = p;

	if (len >= 3 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff)
		return "image/jpeg";
	if (len >= 8 && memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0)
		return "image/png";
	return NULL;
}

/*
 * Appends s to out as terminal text: control characters (C0, DEL and
 * C1, which a terminal could take as commands) become '?', and every
 * line after the first is indented by two spaces.  0 or -1.
 */
static int
put_text(struct buf *out, const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	int			 rc = 0, indent = 0;

	for (; rc == 0 && *p != '\0'; p++) {
		/* No trailing blanks: the indent waits for the line's text. */
		if (indent && *p != '\n') {
			rc = buf_puts(out, "  ");
			indent = 0;
		}
		if (rc == -1)
			break;
		if (*p == '\n') {
			rc = buf_puts(out, "\n");
			indent = 1;
		} else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			rc = buf_puts(out, "?");
			p++;
		} else if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
			rc = buf_puts(out, "?");
		else
			rc = buf_append(out, p, 1);
	}
	return rc;
}

/* The string at key in o, or NULL. */
static const char *
sget(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* Appends "  " + s + "\n" when s is a non-empty string.  0 or -1. */
static int
put_line(struct buf *out, const char *s)
{
	if (s == NULL || *s == '\0')
		return 0;
	if (buf_puts(out, "  ") == -1 || put_text(out, s) == -1 ||
	    buf_puts(out, "\n") == -1)
		return -1;
	return 0;
}

/*
 * Appends where a media object is: "(media id ID)" or "(link URL)".
 * The sandbox serves an id at GET /sandbox/graph/{version}/{id}.
 */
static int
put_media_ref(struct buf *out, const json_t *m)
{
	const char *id = sget(m, "id"), *link = sget(m, "link");

	if (id != NULL)
		return buf_puts(out, " (media id ") == -1 ||
		    put_text(out, id) == -1 || buf_puts(out, ")") == -1 ? -1 :
		    0;
	if (link != NULL)
		return buf_puts(out, " (link ") == -1 ||
		    put_text(out, link) == -1 || buf_puts(out, ")") == -1 ? -1 :
		    0;
	return 0;
}

/* "[kind] caption (media id ...)" of a media object.  0 or -1. */
static int
put_media(struct buf *out, const char *kind, const json_t *m)
{
	const char *cap = sget(m, "caption"), *fn = sget(m, "filename");

	if (buf_printf(out, "[%s]", kind) == -1 ||
	    (fn != NULL && (buf_puts(out, " ") == -1 ||
	    put_text(out, fn) == -1)) ||
	    (cap != NULL && (buf_puts(out, " ") == -1 ||
	    put_text(out, cap) == -1)) ||
	    put_media_ref(out, m) == -1)
		return -1;
	return 0;
}

/*
 * Appends one numbered choice "  N) TITLE: DESCRIPTION" and adds reply
 * (taken) to replies.  0 or -1.
 */
static int
add_choice(struct buf *out, json_t *replies, const char *title,
    const char *desc, json_t *reply)
{
	if (reply == NULL || json_array_append_new(replies, reply) == -1)
		return -1;
	if (buf_printf(out, "  %zu) ", json_array_size(replies)) == -1 ||
	    put_text(out, title != NULL ? title : "?") == -1 ||
	    (desc != NULL && *desc != '\0' && (buf_puts(out, ": ") == -1 ||
	    put_text(out, desc) == -1)) || buf_puts(out, "\n") == -1)
		return -1;
	return 0;
}

/*
 * An interactive message (reference section 7.2): header, body, footer,
 * then what can be answered.  Reply buttons and list rows are numbered
 * and their replies (sections 5.5, 5.6) appended to replies.  0 or -1.
 */
static int
put_interactive(struct buf *out, const json_t *in, json_t *replies)
{
	const json_t	*hdr = json_object_get(in, "header");
	const json_t	*act = json_object_get(in, "action"), *a, *s, *r;
	const char	*type = sget(in, "type"), *htype = sget(hdr, "type");
	const char	*id, *title, *desc;
	size_t		 i, j;

	if (type == NULL)
		type = "?";
	if (htype != NULL && strcmp(htype, "text") == 0) {
		if (put_line(out, sget(hdr, "text")) == -1)
			return -1;
	} else if (htype != NULL) {
		if (buf_puts(out, "  ") == -1 || put_media(out, htype,
		    json_object_get(hdr, htype)) == -1 ||
		    buf_puts(out, "\n") == -1)
			return -1;
	}
	if (put_line(out, sget(json_object_get(in, "body"), "text")) == -1 ||
	    put_line(out, sget(json_object_get(in, "footer"), "text")) == -1)
		return -1;
	if (strcmp(type, "button") == 0) {
		json_array_foreach(json_object_get(act, "buttons"), i, a) {
			r = json_object_get(a, "reply");
			id = sget(r, "id");
			title = sget(r, "title");
			if (id == NULL || title == NULL ||
			    json_array_size(replies) >= CHOICES_MAX)
				continue;
			if (add_choice(out, replies, title, NULL,
			    json_pack("{s:s, s:{s:s, s:s}}", "type",
			    "button_reply", "button_reply", "id", id, "title",
			    title)) == -1)
				return -1;
		}
		return 0;
	}
	if (strcmp(type, "list") == 0) {
		if (sget(act, "button") != NULL && (buf_puts(out, "  [") ==
		    -1 || put_text(out, sget(act, "button")) == -1 ||
		    buf_puts(out, "]\n") == -1))
			return -1;
		json_array_foreach(json_object_get(act, "sections"), i, s) {
			if (json_array_size(json_object_get(act,
			    "sections")) > 1 &&
			    put_line(out, sget(s, "title")) == -1)
				return -1;
			json_array_foreach(json_object_get(s, "rows"), j, r) {
				id = sget(r, "id");
				title = sget(r, "title");
				desc = sget(r, "description");
				if (id == NULL || title == NULL ||
				    json_array_size(replies) >= CHOICES_MAX)
					continue;
				if (add_choice(out, replies, title, desc,
				    desc != NULL ? json_pack("{s:s, s:{s:s, "
				    "s:s, s:s}}", "type", "list_reply",
				    "list_reply", "id", id, "title", title,
				    "description", desc) : json_pack("{s:s, "
				    "s:{s:s, s:s}}", "type", "list_reply",
				    "list_reply", "id", id, "title",
				    title)) == -1)
					return -1;
			}
		}
		return 0;
	}
	a = json_object_get(act, "parameters");
	if (strcmp(type, "cta_url") == 0)
		return buf_puts(out, "  [button] ") == -1 ||
		    put_text(out, sget(a, "display_text") != NULL ?
		    sget(a, "display_text") : "?") == -1 ||
		    buf_puts(out, ": ") == -1 || put_text(out, sget(a, "url") !=
		    NULL ? sget(a, "url") : "?") == -1 ||
		    buf_puts(out, "\n") == -1 ? -1 : 0;
	if (strcmp(type, "location_request_message") == 0)
		return put_line(out, "[send your location: /location LAT LON]");
	if (buf_puts(out, "  [") == -1 || put_text(out, type) == -1 ||
	    buf_puts(out, "]") == -1 || (sget(a, "flow_cta") != NULL &&
	    (buf_puts(out, " ") == -1 || put_text(out, sget(a, "flow_cta")) ==
	    -1)) || buf_puts(out, " (not shown in the terminal)\n") == -1)
		return -1;
	return 0;
}

/* A template (reference section 11.1): its name and text parameters. */
static int
put_template(struct buf *out, const json_t *t)
{
	const json_t	*c, *p;
	const char	*sep = " ";
	size_t		 i, j;

	if (buf_puts(out, "[template ") == -1 || put_text(out, sget(t,
	    "name") != NULL ? sget(t, "name") : "?") == -1 || buf_puts(out,
	    " ") == -1 || put_text(out, sget(json_object_get(t, "language"),
	    "code") != NULL ? sget(json_object_get(t, "language"), "code") :
	    "?") == -1 || buf_puts(out, "]") == -1)
		return -1;
	json_array_foreach(json_object_get(t, "components"), i, c)
		json_array_foreach(json_object_get(c, "parameters"), j, p) {
			if (sget(p, "text") == NULL)
				continue;
			if (buf_puts(out, sep) == -1 ||
			    put_text(out, sget(p, "text")) == -1)
				return -1;
			sep = " | ";
		}
	return 0;
}

/* Location and contacts (reference section 7.2). */
static int
put_place(struct buf *out, const json_t *l)
{
	const char	*name = sget(l, "name"), *addr = sget(l, "address");
	char		 at[96];
	int		 n;

	n = snprintf(at, sizeof(at), " (%.6f, %.6f)", json_number_value(
	    json_object_get(l, "latitude")), json_number_value(
	    json_object_get(l, "longitude")));
	if (n < 0 || (size_t)n >= sizeof(at))
		return -1;
	if (buf_puts(out, "[location]") == -1 ||
	    (name != NULL && (buf_puts(out, " ") == -1 ||
	    put_text(out, name) == -1)) ||
	    (addr != NULL && (buf_puts(out, ", ") == -1 ||
	    put_text(out, addr) == -1)) || buf_puts(out, at) == -1)
		return -1;
	return 0;
}

static int
put_contacts(struct buf *out, const json_t *a)
{
	const json_t	*c, *p;
	size_t		 i, j;

	if (buf_puts(out, "[contacts]") == -1)
		return -1;
	json_array_foreach(a, i, c) {
		if (buf_puts(out, "\n  ") == -1 || put_text(out,
		    sget(json_object_get(c, "name"), "formatted_name") != NULL ?
		    sget(json_object_get(c, "name"), "formatted_name") : "?") ==
		    -1)
			return -1;
		json_array_foreach(json_object_get(c, "phones"), j, p)
			if (sget(p, "phone") != NULL && (buf_puts(out, " ") ==
			    -1 || put_text(out, sget(p, "phone")) == -1))
				return -1;
	}
	return 0;
}

/*
 * Appends one of the business's messages, as the sandbox lists it
 * ({"wamid", "display_phone_number", "message": the body the business
 * POSTed}), to out as lines starting "< ".  When it offers buttons or
 * list rows, ch gets them (its previous choices are dropped).  Returns
 * 1 when something was appended, 0 for a message the customer does not
 * see (a read receipt, a typing indicator), -1 out of memory.
 */
int
custmsg_render(const json_t *entry, struct buf *out,
    struct custmsg_choices *ch)
{
	const json_t	*m = json_object_get(entry, "message"), *o;
	const char	*type = sget(m, "type"), *wamid, *from;
	json_t		*replies = NULL;
	size_t		 pos;
	int		 rc = -1;

	if (!json_is_object(m) || json_object_get(m, "status") != NULL)
		return 0;
	if (type == NULL)
		type = "text";	/* Meta's default (section 7.1) */
	o = json_object_get(m, type);
	if (buf_puts(out, "< ") == -1)
		return -1;
	if (strcmp(type, "text") == 0) {
		if (put_text(out, sget(o, "body") != NULL ? sget(o, "body") :
		    "") == -1)
			return -1;
	} else if (strcmp(type, "interactive") == 0) {
		pos = out->len;
		if ((replies = json_array()) == NULL ||
		    put_interactive(out, o, replies) == -1)
			goto done;
		/*
		 * Its lines start with "  " and end with "\n": the first
		 * goes on the "< " line, the last newline comes below.
		 */
		if (out->len >= pos + 2 && memcmp(out->p + pos, "  ", 2) == 0) {
			memmove(out->p + pos, out->p + pos + 2, out->len - pos -
			    2);
			out->len -= 2;
		}
		if (out->len > pos && out->p[out->len - 1] == '\n')
			out->len--;
		out->p[out->len] = '\0';
	} else if (strcmp(type, "image") == 0 || strcmp(type, "video") == 0 ||
	    strcmp(type, "audio") == 0 || strcmp(type, "document") == 0 ||
	    strcmp(type, "sticker") == 0) {
		if (put_media(out, type, o) == -1)
			return -1;
	} else if (strcmp(type, "template") == 0) {
		if (put_template(out, o) == -1)
			return -1;
	} else if (strcmp(type, "location") == 0) {
		if (put_place(out, o) == -1)
			return -1;
	} else if (strcmp(type, "contacts") == 0) {
		if (put_contacts(out, o) == -1)
			return -1;
	} else if (strcmp(type, "reaction") == 0) {
		if (buf_puts(out, "[reaction] ") == -1 || put_text(out,
		    sget(o, "emoji") != NULL && *sget(o, "emoji") != '\0' ?
		    sget(o, "emoji") : "(removed)") == -1 ||
		    buf_puts(out, " to your message") == -1)
			return -1;
	} else if (buf_puts(out, "[") == -1 || put_text(out, type) == -1 ||
	    buf_puts(out, "]") == -1)
		return -1;
	if (buf_puts(out, "\n") == -1)
		goto done;
	if (replies != NULL && json_array_size(replies) > 0) {
		wamid = sget(entry, "wamid");
		from = sget(entry, "display_phone_number");
		if (wamid == NULL || from == NULL)
			from = wamid = "";
		if (buf_printf(out, "  (answer with a number, 1-%zu)\n",
		    json_array_size(replies)) == -1)
			goto done;
		custmsg_choices_clear(ch);
		ch->replies = replies;
		replies = NULL;
		/* Too long ids cannot be Meta's: the reply goes without. */
		if (strlcpy(ch->wamid, wamid, sizeof(ch->wamid)) >=
		    sizeof(ch->wamid))
			ch->wamid[0] = '\0';
		if (strlcpy(ch->from, from, sizeof(ch->from)) >=
		    sizeof(ch->from))
			ch->from[0] = '\0';
	}
	rc = 1;
done:
	json_decref(replies);
	return rc;
}

/*
 * When line is the number of one of ch's choices, returns its
 * interactive reply (caller owns it), sets *context to the context Meta
 * adds ({"from", "id"} of the message offering it; caller owns it, NULL
 * when unknown) and *title to the choice's title (borrowed from ch).
 * Returns NULL when line is no such number.
 */
json_t *
custmsg_pick(const struct custmsg_choices *ch, const char *line,
    json_t **context, const char **title)
{
	const json_t	*r;
	size_t		 i, n = 0;

	*context = NULL;
	if (ch->replies == NULL || line[0] == '\0' || line[0] == '0')
		return NULL;
	for (i = 0; line[i] != '\0'; i++) {
		if (!isdigit((unsigned char)line[i]) || i >= 2)
			return NULL;
		n = n * 10 + (size_t)(line[i] - '0');
	}
	if (n > json_array_size(ch->replies))
		return NULL;
	r = json_array_get(ch->replies, n - 1);
	*title = sget(json_object_get(r, sget(r, "type")), "title");
	if (ch->wamid[0] != '\0' && ch->from[0] != '\0')
		*context = json_pack("{s:s, s:s}", "from", ch->from, "id",
		    ch->wamid);
	return json_deep_copy(r);
}

/* Drops the choices; ch can be filled again. */
void
custmsg_choices_clear(struct custmsg_choices *ch)
{
	json_decref(ch->replies);
	memset(ch, 0, sizeof(*ch));
}
