/*
 * sandbox.c: wa-sandbox, a local stand-in for Meta's Graph API for `make
 * run` with no Meta app (sandbox mode, WA_SANDBOX=1; issue 15).  One
 * FastCGI process (spawn-fcgi, no multiwatch: it has a background
 * thread) behind nginx's `location /sandbox/` of nginx/local.conf.in
 * only, never the production site.  Routes:
 *
 *   /sandbox/graph/{version}/...   the Graph API as the worker and wactl
 *                                  call it, with the access token:
 *     POST   /{pnid}/messages      send (Meta's checks: sandbox_check.c),
 *                                  read receipt, typing indicator
 *     POST   /{pnid}/media         multipart upload -> {"id"}
 *     GET    /{pnid}               the number (verified_name, quality ...)
 *     GET    /{media-id}           url, mime_type, sha256, file_size
 *     DELETE /{media-id}           {"success":true}
 *     GET|POST /{pnid}/whatsapp_business_profile
 *     GET|POST|DELETE /{waba}/message_templates
 *   /sandbox/media/{id}            the bytes (the url above; the token)
 *   /sandbox/customer/{wa_id}/messages?after=SEQ   what the business sent
 *                                  to wa_id (the terminal customer polls)
 *   /sandbox/customer/media?filename=NAME          a customer's upload
 *   /sandbox/info                  {"sandbox":true, ...}
 *
 * Each accepted message is stored in sandbox.db with its three status
 * webhooks (sent, delivered, read), which sandbox_hook.c posts back to
 * the gateway.  No auth on /sandbox/customer/ and /sandbox/info: make run
 * listens on loopback only.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bsd/string.h>
#include <jansson.h>

#include "buf.h"
#include "cfg.h"
#include "clock.h"
#include "log.h"
#include "req.h"
#include "sandbox.h"
#include "sig.h"
#include "url.h"

#define GRAPH		"/sandbox/graph/"
#define CUSTOMER	"/sandbox/customer/"
#define MEDIA_URI	"/sandbox/media/"
#define ACCEL_URI	"/_sandbox_media/"	/* nginx: internal, the files */
#define SEND_MAX	(1024 * 1024)		/* a /messages body */
#define JSON_MAX	(64 * 1024)		/* other JSON bodies */
#define UPLOAD_MAX	(100 * 1024 * 1024)	/* Meta's largest (documents) */
#define LIST_MAX	100			/* customer messages per answer */

struct ctx {
	struct cfg		 cfg;
	struct sandbox_store	*st;
	char			 db_path[4096];
	char			 media_dir[4096];
	char			 webhook_url[512];
	char			 media_base[512];	/* http://LISTEN/sandbox/media/ */
};

static atomic_int	stopping;

/* Reference 9.6: what Meta takes as uploads, and how large. */
static const struct {
	const char	*mime;
	long		 max;
} uploads[] = {
	{ "audio/aac", 16L << 20 }, { "audio/amr", 16L << 20 },
	{ "audio/mpeg", 16L << 20 }, { "audio/mp4", 16L << 20 },
	{ "audio/ogg", 16L << 20 }, { "text/plain", 100L << 20 },
	{ "application/pdf", 100L << 20 },
	{ "application/msword", 100L << 20 },
	{ "application/vnd.openxmlformats-officedocument.wordprocessingml."
	  "document", 100L << 20 },
	{ "application/vnd.ms-excel", 100L << 20 },
	{ "application/vnd.openxmlformats-officedocument.spreadsheetml."
	  "sheet", 100L << 20 },
	{ "application/vnd.ms-powerpoint", 100L << 20 },
	{ "application/vnd.openxmlformats-officedocument.presentationml."
	  "presentation", 100L << 20 },
	{ "image/jpeg", 5L << 20 }, { "image/png", 5L << 20 },
	{ "image/webp", 500L << 10 }, { "video/mp4", 16L << 20 },
	{ "video/3gpp", 16L << 20 },
};

static void
on_signal(int sig)
{
	(void)sig;
	atomic_store(&stopping, 1);
}

/* Answers obj (stolen) as Graph does: compact JSON, 200 unless said. */
static void
reply_json(struct req *r, int status, json_t *obj)
{
	char *s;

	if (obj == NULL || (s = json_dumps(obj, JSON_COMPACT)) == NULL) {
		(void)req_error(r, 503, NULL, "unavailable", "Out of memory.");
		json_decref(obj);
		return;
	}
	(void)req_reply(r, status, "application/json; charset=UTF-8", NULL, s,
	    strlen(s));
	free(s);
	json_decref(obj);
}

/*
 * A Graph error in Meta's shape (reference 8.1): message, type, code,
 * error_subcode when given, error_data.details (not for 190), and a
 * fbtrace_id.  etype NULL is OAuthException.
 */
static void
graph_error(struct req *r, const struct sandbox_refusal *e, long subcode,
    const char *etype)
{
	json_t	*err;
	char	 trace[24];

	if (sig_random_hex(trace, 11) == -1)
		(void)strlcpy(trace, "A0000000000", sizeof(trace));
	trace[22] = '\0';
	err = json_pack("{s:s, s:s, s:I, s:s}", "message", e->message, "type",
	    etype != NULL ? etype : "OAuthException", "code", (json_int_t)e->code,
	    "fbtrace_id", trace);
	if (err != NULL && subcode != 0)
		(void)json_object_set_new(err, "error_subcode",
		    json_integer(subcode));
	if (err != NULL && e->code != 190)
		(void)json_object_set_new(err, "error_data", json_pack(
		    "{s:s, s:s}", "messaging_product", "whatsapp", "details",
		    e->details));
	reply_json(r, e->http, json_pack("{s:o}", "error", err));
}

/* Graph's answer to a path or method it does not serve (100, subcode 33). */
static void
unsupported(struct req *r, const char *id)
{
	struct sandbox_refusal e;

	sandbox_check_refuse(&e, 100, "Unsupported request.");
	(void)snprintf(e.message, sizeof(e.message), "Unsupported %s request. "
	    "Object with ID '%.64s' does not exist, cannot be loaded due to "
	    "missing permissions, or does not support this operation.",
	    strcmp(r->method, "GET") == 0 ? "get" : strcmp(r->method,
	    "DELETE") == 0 ? "delete" : "post", id);	/* cut is fine */
	graph_error(r, &e, 33, "GraphMethodException");
}

/* 1 when the request carries the access token (header or query). */
static int
authorised(const struct ctx *c, struct req *r)
{
	const char	*h = req_param(r, "HTTP_AUTHORIZATION");
	struct buf	 q;
	int		 ok = 0;

	if (h != NULL && strncasecmp(h, "Bearer ", 7) == 0)
		ok = sig_streq(h + 7, strlen(h + 7), c->cfg.access_token,
		    strlen(c->cfg.access_token));
	else {
		buf_init(&q);
		if (req_query(r->query, "access_token", &q) == 1)
			ok = sig_streq(q.p, q.len, c->cfg.access_token,
			    strlen(c->cfg.access_token));
		if (q.p != NULL)
			explicit_bzero(q.p, q.len);
		buf_clear(&q);
	}
	return ok;
}

/* 1 when ctype's media type is want (parameters allowed). */
static int
ctype_is(const char *ctype, const char *want)
{
	size_t n = strlen(want);

	return ctype != NULL && strncasecmp(ctype, want, n) == 0 &&
	    (ctype[n] == '\0' || ctype[n] == ';' || ctype[n] == ' ');
}

/* Reads the body, answering the failure in Graph's shape.  0 or -1. */
static int
body(struct req *r, size_t max)
{
	struct sandbox_refusal e;

	switch (req_body(r, max)) {
	case REQ_BODY_OK:
		return 0;
	case REQ_BODY_TOO_LARGE:
		sandbox_check_refuse(&e, 100, "The request body is larger than "
		    "%zu bytes.", max);
		break;
	default:
		sandbox_check_refuse(&e, 100, "The request body could not be "
		    "read.");
		break;
	}
	graph_error(r, &e, 0, NULL);
	return -1;
}

/* A JSON object body, or NULL after answering Meta's 100. */
static json_t *
json_body(struct req *r, size_t max)
{
	struct sandbox_refusal	 e;
	json_t			*j;

	if (!ctype_is(req_param(r, "CONTENT_TYPE"), "application/json")) {
		sandbox_check_refuse(&e, 100, "Content-Type must be "
		    "application/json.");
		graph_error(r, &e, 0, NULL);
		return NULL;
	}
	if (body(r, max) == -1)
		return NULL;
	if ((j = json_loadb(r->body.p != NULL ? r->body.p : "", r->body.len,
	    0, NULL)) == NULL || !json_is_object(j)) {
		json_decref(j);
		sandbox_check_refuse(&e, 100, "The request body is not a JSON "
		    "object.");
		graph_error(r, &e, 0, NULL);
		return NULL;
	}
	return j;
}

/* A new id of nbytes random bytes in hex after prefix.  0 or -1. */
static int
new_id(char *out, size_t sz, const char *prefix, size_t nbytes)
{
	char hex[129];

	if (nbytes * 2 >= sizeof(hex) || sig_random_hex(hex, nbytes) == -1)
		return -1;
	return snprintf(out, sz, "%s%s", prefix, hex) >= (int)sz ? -1 : 0;
}

/* A media id like Meta's: 16 digits. */
static int
new_media_id(char *out, size_t sz)
{
	char			 hex[17];
	unsigned long long	 v;

	if (sig_random_hex(hex, 6) == -1)
		return -1;
	v = strtoull(hex, NULL, 16) % 1000000000000000ULL;
	return snprintf(out, sz, "%llu", 1000000000000000ULL + v) >= (int)sz ?
	    -1 : 0;
}

/* A MIME type for a link's file: by its extension, else by kind. */
static const char *
link_mime(const char *kind, const char *link)
{
	static const struct { const char *ext, *mime; } ext[] = {
		{ ".jpg", "image/jpeg" }, { ".jpeg", "image/jpeg" },
		{ ".png", "image/png" }, { ".webp", "image/webp" },
		{ ".pdf", "application/pdf" }, { ".txt", "text/plain" },
		{ ".mp4", "video/mp4" }, { ".3gp", "video/3gpp" },
		{ ".mp3", "audio/mpeg" }, { ".ogg", "audio/ogg" },
		{ ".aac", "audio/aac" }, { ".amr", "audio/amr" },
	};
	static const struct { const char *kind, *mime; } def[] = {
		{ "image", "image/jpeg" }, { "video", "video/mp4" },
		{ "audio", "audio/mpeg" }, { "sticker", "image/webp" },
	};
	size_t	 i, n = strcspn(link, "?#"), l;

	for (i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		l = strlen(ext[i].ext);
		if (n > l && strncasecmp(link + n - l, ext[i].ext, l) == 0)
			return ext[i].mime;
	}
	for (i = 0; i < sizeof(def) / sizeof(def[0]); i++)
		if (strcmp(kind, def[i].kind) == 0)
			return def[i].mime;
	return "application/octet-stream";
}

/*
 * A media message sent by link gets a media id, as if Meta had taken the
 * file: GET /{media-id} gives its url.  A loopback link (make run's own
 * machine) is fetched by the hook thread and served from the sandbox;
 * any other is never fetched (no call leaves the machine) and its url is
 * the link itself.  Inside the message's transaction.  0 or -1.
 */
static int
link_media(struct ctx *c, const json_t *b, const char *pnid,
    const char *wamid)
{
	static const char *const kinds[] = { "image", "audio", "video",
	    "document", "sticker" };
	const char	*kind = json_string_value(json_object_get(b, "type")),
			*link, *why, *fn;
	struct url	 u;
	char		 id[32];
	size_t		 i;

	for (i = 0; kind != NULL && i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kind, kinds[i]) == 0)
			break;
	if (kind == NULL || i == sizeof(kinds) / sizeof(kinds[0]) ||
	    (link = json_string_value(json_object_get(json_object_get(b,
	    kind), "link"))) == NULL)
		return 0;
	fn = json_string_value(json_object_get(json_object_get(b, kind),
	    "filename"));
	if (new_media_id(id, sizeof(id)) == -1)
		return -1;
	return sandbox_store_exec(c->st, SBX_MEDIA_INSERT, "ssssissss", id,
	    pnid, link_mime(kind, link), NULL, (int64_t)0, fn, link,
	    url_parse(link, &u, &why) == 0 && url_is_loopback(&u) ? "fetch" :
	    "link", wamid) == 0 ? 0 : -1;
}

/*
 * POST /{pnid}/messages.  200 {"messaging_product","contacts","messages"}
 * for a message (stored, statuses queued), {"success":true} for a read
 * receipt or typing indicator; Meta's 400/404 error otherwise.
 */
static void
messages(struct ctx *c, struct req *r, const char *pnid)
{
	struct sandbox_refusal	 e;
	json_t			*b, *rows = NULL, *t, *to;
	char			 wa_id[80], wamid[64];
	const char		*type, *st[] = { "sent", "delivered", "read" };
	int64_t			 now = clock_now_ms();
	int			 i, ok;

	if ((b = json_body(r, SEND_MAX)) == NULL)
		return;
	switch (sandbox_check_send(b, wa_id, sizeof(wa_id), &e)) {
	case SANDBOX_SEND_READ:
		reply_json(r, 200, json_pack("{s:b}", "success", 1));
		goto done;
	case SANDBOX_SEND_REFUSED:
		graph_error(r, &e, 0, NULL);
		goto done;
	default:
		break;
	}
	type = json_string_value(json_object_get(b, "type"));
	t = json_object_get(b, "template");
	if (type != NULL && strcmp(type, "template") == 0) {
		rows = sandbox_store_rows(c->st, SBX_TMPL_FIND, "ss",
		    json_string_value(json_object_get(t, "name")),
		    json_string_value(json_object_get(json_object_get(t,
		    "language"), "code")));
		if (rows == NULL)
			goto trouble;
		if (json_array_size(rows) == 0 || strcmp(json_string_value(
		    json_object_get(json_array_get(rows, 0), "status")),
		    "APPROVED") != 0) {
			sandbox_check_refuse(&e, 132001, "template name (%.100s) "
			    "does not exist in %.16s",
			    json_string_value(json_object_get(t, "name")),
			    json_string_value(json_object_get(json_object_get(
			    t, "language"), "code")));
			graph_error(r, &e, 0, NULL);
			goto done;
		}
	}
	if (new_id(wamid, sizeof(wamid), "wamid.SBX", 16) == -1 ||
	    sandbox_store_begin(c->st) == -1)
		goto trouble;
	ok = sandbox_store_exec(c->st, SBX_MSG_INSERT, "ssssi", wamid, pnid,
	    wa_id, r->body.p, (int64_t)(now / 1000)) == 0 &&
	    link_media(c, b, pnid, wamid) == 0;
	for (i = 0; ok && i < 3; i++)
		ok = sandbox_store_exec(c->st, SBX_STATUS_INSERT, "ssssi",
		    wamid, pnid, wa_id, st[i], now + (int64_t)(i + 1) *
		    SANDBOX_STATUS_STEP_MS) == 0;
	if (!ok || sandbox_store_commit(c->st) == -1) {
		sandbox_store_rollback(c->st);
		goto trouble;
	}
	to = json_object_get(b, "to");
	reply_json(r, 200, json_pack("{s:s, s:[{s:O, s:s}], s:[{s:s, s:s*}]}",
	    "messaging_product", "whatsapp", "contacts", "input", to, "wa_id",
	    wa_id, "messages", "id", wamid, "message_status",
	    type != NULL && strcmp(type, "template") == 0 ? "accepted" : NULL));
	goto done;
trouble:
	sandbox_check_refuse(&e, 131000, "The sandbox could not store the "
	    "message; try again.");
	graph_error(r, &e, 0, NULL);
done:
	json_decref(rows);
	json_decref(b);
}

/* Writes a media file and its row; fills id.  0 or -1 (logged). */
static int
media_save(struct ctx *c, const char *pnid, const char *mime,
    const char *filename, const void *data, size_t len, char *id, size_t idsz,
    char sha[65])
{
	char	 path[4200];
	FILE	*f = NULL;
	int	 n;

	if (new_media_id(id, idsz) == -1 ||
	    sig_sha256_hex(data, len, sha) == -1)
		return -1;
	n = snprintf(path, sizeof(path), "%s/%s", c->media_dir, id);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -1;
	if ((f = fopen(path, "wx")) == NULL) {
		log_warn("%s: %s", __func__, path);
		return -1;
	}
	if ((len > 0 && fwrite(data, 1, len, f) != len) || fclose(f) != 0) {
		log_warn("%s: %s", __func__, path);
		(void)unlink(path);
		return -1;
	}
	if (sandbox_store_exec(c->st, SBX_MEDIA_INSERT, "ssssissss", id, pnid,
	    mime, sha, (int64_t)len, filename, NULL, "stored", NULL) != 0) {
		(void)unlink(path);
		return -1;
	}
	return 0;
}

/* One multipart part as it was found. */
struct part {
	const char	*data;
	size_t		 len;
	char		 filename[256];
	int		 found;
};

/*
 * Finds the parts named messaging_product, type and file of a
 * multipart/form-data body (RFC 7578).  0, or -1 when malformed.
 */
static int
multipart(const char *ctype, const char *p, size_t len, struct part parts[3])
{
	static const char *const names[] = { "messaging_product", "type",
	    "file" };
	const char	*b, *end = p + len, *hdr, *data, *next, *nm, *fn;
	char		 delim[256];
	size_t		 dlen, i, bl;

	if ((b = strcasestr(ctype, "boundary=")) == NULL)
		return -1;
	b += 9;
	if (*b == '"')
		b++;
	bl = strcspn(b, "\";, ");
	if (bl == 0 || bl > 200)
		return -1;
	(void)snprintf(delim, sizeof(delim), "\r\n--%.*s", (int)bl, b);
	dlen = strlen(delim);
	/* The body starts with the delimiter minus its CRLF. */
	if (len < dlen - 2 || memcmp(p, delim + 2, dlen - 2) != 0)
		return -1;
	p += dlen - 2;
	while (p + 2 <= end && memcmp(p, "\r\n", 2) == 0) {
		hdr = p + 2;
		if ((data = memmem(hdr, (size_t)(end - hdr), "\r\n\r\n", 4)) ==
		    NULL)
			return -1;
		data += 4;
		if ((next = memmem(data, (size_t)(end - data), delim, dlen)) ==
		    NULL)
			return -1;
		for (i = 0; i < 3; i++) {
			char pat[64];

			(void)snprintf(pat, sizeof(pat), "name=\"%s\"",
			    names[i]);	/* fits */
			nm = memmem(hdr, (size_t)(data - hdr), pat, strlen(pat));
			if (nm == NULL || (nm > hdr && nm[-1] != ' ' &&
			    nm[-1] != ';'))
				continue;
			parts[i].data = data;
			parts[i].len = (size_t)(next - data);
			parts[i].found = 1;
			fn = memmem(hdr, (size_t)(data - hdr), "filename=\"",
			    10);
			if (fn != NULL) {
				fn += 10;
				bl = strcspn(fn, "\"\r\n");
				if (bl >= sizeof(parts[i].filename))
					bl = sizeof(parts[i].filename) - 1;
				memcpy(parts[i].filename, fn, bl);
				parts[i].filename[bl] = '\0';
			}
		}
		p = next + dlen;
	}
	return 0;
}

/* POST /{pnid}/media: 200 {"id"}; Meta's 100 or 131053 otherwise. */
static void
upload(struct ctx *c, struct req *r, const char *pnid)
{
	struct sandbox_refusal	 e;
	struct part		 parts[3];
	const char		*ctype = req_param(r, "CONTENT_TYPE");
	char			 mime[128], id[32], sha[65];
	size_t			 i, n;

	memset(parts, 0, sizeof(parts));
	if (!ctype_is(ctype, "multipart/form-data")) {
		sandbox_check_refuse(&e, 100, "Content-Type must be "
		    "multipart/form-data with a boundary.");
		graph_error(r, &e, 0, NULL);
		return;
	}
	if (body(r, UPLOAD_MAX) == -1)
		return;
	if (multipart(ctype, r->body.p, r->body.len, parts) == -1) {
		sandbox_check_refuse(&e, 100, "The multipart body is "
		    "malformed.");
		graph_error(r, &e, 0, NULL);
		return;
	}
	for (i = 0; i < 3; i++)
		if (!parts[i].found) {
			sandbox_check_refuse(&e, 100, "The parameter %s is "
			    "required.", i == 0 ? "messaging_product" : i == 1 ?
			    "type" : "file");
			graph_error(r, &e, 0, NULL);
			return;
		}
	if (parts[0].len != 8 || memcmp(parts[0].data, "whatsapp", 8) != 0) {
		sandbox_check_refuse(&e, 100, "Param messaging_product must be "
		    "\"whatsapp\".");
		graph_error(r, &e, 0, NULL);
		return;
	}
	n = strcspn(parts[1].data, ";\r\n");
	if (n > parts[1].len)
		n = parts[1].len;
	while (n > 0 && parts[1].data[n - 1] == ' ')
		n--;
	(void)snprintf(mime, sizeof(mime), "%.*s", (int)n, parts[1].data);
	for (i = 0; i < sizeof(uploads) / sizeof(uploads[0]); i++)
		if (strcasecmp(mime, uploads[i].mime) == 0)
			break;
	if (i == sizeof(uploads) / sizeof(uploads[0])) {
		sandbox_check_refuse(&e, 100, "Param type: unsupported MIME type "
		    "%.80s.", mime);
		graph_error(r, &e, 0, NULL);
		return;
	}
	if (parts[2].len == 0 || (long)parts[2].len > uploads[i].max) {
		sandbox_check_refuse(&e, 131053, parts[2].len == 0 ? "The "
		    "uploaded file is empty." : "The file is %zu bytes; at most "
		    "%ld are allowed for %s.", parts[2].len, uploads[i].max,
		    uploads[i].mime);
		graph_error(r, &e, 0, NULL);
		return;
	}
	if (media_save(c, pnid, uploads[i].mime, parts[2].filename[0] ?
	    parts[2].filename : NULL, parts[2].data, parts[2].len, id,
	    sizeof(id), sha) == -1) {
		sandbox_check_refuse(&e, 131053, "The sandbox could not store "
		    "the file.");
		graph_error(r, &e, 0, NULL);
		return;
	}
	reply_json(r, 200, json_pack("{s:s}", "id", id));
}

/* The media row of id, or NULL (none, or an error: logged). */
static json_t *
media_row(struct ctx *c, const char *id)
{
	json_t *rows, *row;

	if ((rows = sandbox_store_rows(c->st, SBX_MEDIA_GET, "s", id)) == NULL)
		return NULL;
	row = json_incref(json_array_get(rows, 0));
	json_decref(rows);
	return row;
}

/* GET /{pnid}: the number's node, as Meta's (reference 13). */
static void
number(struct ctx *c, struct req *r)
{
	reply_json(r, 200, json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:s}, "
	    "s:s, s:s, s:s, s:s}", "verified_name", SANDBOX_NAME,
	    "display_phone_number", "+1 555-010-0000", "quality_rating", "GREEN",
	    "code_verification_status", "VERIFIED", "messaging_limit_tier",
	    "TIER_1K", "throughput", "level", "STANDARD", "platform_type",
	    "CLOUD_API", "name_status", "APPROVED", "status", "CONNECTED", "id",
	    c->cfg.phone_number_id));
}

/* Business profile fields and Meta's limits (reference 14). */
static const struct {
	const char	*name;
	size_t		 max;
} profile_fields[] = {
	{ "about", 139 }, { "address", 256 }, { "description", 512 },
	{ "email", 128 }, { "vertical", 64 }, { "profile_picture_url", 2000 },
	{ "profile_picture_handle", 2000 },
};

/* GET and POST /{pnid}/whatsapp_business_profile. */
static void
profile(struct ctx *c, struct req *r, const char *pnid)
{
	struct sandbox_refusal	 e;
	json_t			*rows, *cur = NULL, *b, *v;
	const char		*k;
	char			*s;
	size_t			 i;

	if ((rows = sandbox_store_rows(c->st, SBX_PROFILE_GET, "s", pnid)) !=
	    NULL && json_array_size(rows) > 0)
		cur = json_loads(json_string_value(json_object_get(
		    json_array_get(rows, 0), "body")), 0, NULL);
	json_decref(rows);
	if (cur == NULL)
		cur = json_pack("{s:s, s:s, s:[]}", "about", "Hello from the "
		    "wa-gateway sandbox.", "vertical", "OTHER", "websites");
	if (strcmp(r->method, "GET") == 0) {
		(void)json_object_set_new(cur, "messaging_product",
		    json_string("whatsapp"));
		reply_json(r, 200, json_pack("{s:[o]}", "data", cur));
		return;
	}
	if ((b = json_body(r, JSON_MAX)) == NULL) {
		json_decref(cur);
		return;
	}
	json_object_foreach(b, k, v) {
		if (strcmp(k, "messaging_product") == 0)
			continue;
		for (i = 0; i < sizeof(profile_fields) /
		    sizeof(profile_fields[0]); i++)
			if (strcmp(k, profile_fields[i].name) == 0)
				break;
		if (strcmp(k, "websites") == 0 ? !json_is_array(v) ||
		    json_array_size(v) > 2 : i == sizeof(profile_fields) /
		    sizeof(profile_fields[0]) || !json_is_string(v) ||
		    json_string_length(v) > profile_fields[i].max) {
			sandbox_check_refuse(&e, 100, "Param %.40s is not valid "
			    "(unknown, wrong type or too long).", k);
			graph_error(r, &e, 0, NULL);
			goto done;
		}
		(void)json_object_set(cur, k, v);
	}
	if ((s = json_dumps(cur, JSON_COMPACT)) == NULL ||
	    sandbox_store_exec(c->st, SBX_PROFILE_SET, "ss", pnid, s) != 0) {
		free(s);
		(void)req_error(r, 500, NULL, "store_failed", "The sandbox "
		    "could not store the profile.");
		goto done;
	}
	free(s);
	reply_json(r, 200, json_pack("{s:b}", "success", 1));
done:
	json_decref(b);
	json_decref(cur);
}

/* GET, POST and DELETE /{waba}/message_templates (reference 15). */
static void
templates(struct ctx *c, struct req *r)
{
	struct sandbox_refusal	 e;
	json_t			*rows, *row, *b, *comps;
	const char		*name, *lang, *cat;
	struct buf		 q;
	char			*s, id[32];
	size_t			 i;
	int			 rc;

	if (strcmp(r->method, "GET") == 0) {
		if ((rows = sandbox_store_rows(c->st, SBX_TMPL_LIST, "")) ==
		    NULL) {
			(void)req_error(r, 500, NULL, "store_failed", "The "
			    "sandbox could not read its templates.");
			return;
		}
		json_array_foreach(rows, i, row) {
			(void)snprintf(id, sizeof(id), "%lld", 7000000000000LL +
			    (long long)json_integer_value(json_object_get(row,
			    "id")));
			(void)json_object_set_new(row, "id", json_string(id));
			(void)json_object_set_new(row, "components", json_loads(
			    json_string_value(json_object_get(row,
			    "components")), 0, NULL));
		}
		reply_json(r, 200, json_pack("{s:o, s:{s:{s:s, s:s}}}", "data",
		    rows, "paging", "cursors", "before", "MAZDZD", "after",
		    "MjQZD"));
		return;
	}
	if (strcmp(r->method, "DELETE") == 0) {
		buf_init(&q);
		if (req_query(r->query, "name", &q) != 1) {
			buf_clear(&q);
			sandbox_check_refuse(&e, 100, "The parameter name is "
			    "required.");
			graph_error(r, &e, 0, NULL);
			return;
		}
		rc = sandbox_store_exec(c->st, SBX_TMPL_DELETE, "s", q.p);
		buf_clear(&q);
		reply_json(r, rc == 0 ? 200 : 500, json_pack("{s:b}", "success",
		    rc == 0));
		return;
	}
	if ((b = json_body(r, JSON_MAX)) == NULL)
		return;
	name = json_string_value(json_object_get(b, "name"));
	lang = json_string_value(json_object_get(b, "language"));
	cat = json_string_value(json_object_get(b, "category"));
	comps = json_object_get(b, "components");
	if (name == NULL || lang == NULL || cat == NULL || !json_is_array(comps)) {
		sandbox_check_refuse(&e, 100, "name, language, category and "
		    "components are required.");
		graph_error(r, &e, 0, NULL);
		goto done;
	}
	if (strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") !=
	    strlen(name) || strlen(name) == 0 || strlen(name) > 512 ||
	    (strcmp(cat, "MARKETING") && strcmp(cat, "UTILITY") &&
	    strcmp(cat, "AUTHENTICATION"))) {
		sandbox_check_refuse(&e, 100, "name must be lower-case letters, "
		    "digits and _; category MARKETING, UTILITY or "
		    "AUTHENTICATION.");
		graph_error(r, &e, 0, NULL);
		goto done;
	}
	if ((s = json_dumps(comps, JSON_COMPACT)) == NULL) {
		(void)req_error(r, 503, NULL, "unavailable", "Out of memory.");
		goto done;
	}
	rc = sandbox_store_exec(c->st, SBX_TMPL_INSERT, "ssss", name, lang, cat,
	    s);
	free(s);
	if (rc == 1) {
		sandbox_check_refuse(&e, 100, "Content in this language already "
		    "exists.");
		(void)strlcpy(e.message, "Message template already exists",
		    sizeof(e.message));
		graph_error(r, &e, 2388024, NULL);
	} else if (rc == -1)
		(void)req_error(r, 500, NULL, "store_failed", "The sandbox could "
		    "not store the template.");
	else {
		(void)snprintf(id, sizeof(id), "%lld", 7000000000000LL +
		    (long long)sandbox_store_last_id(c->st));
		reply_json(r, 200, json_pack("{s:s, s:s, s:s}", "id", id,
		    "status", "APPROVED", "category", cat));
	}
done:
	json_decref(b);
}

/* 1 when s is a version like v23.0. */
static int
is_version(const char *s, size_t n)
{
	size_t i, dots = 0;

	if (n < 4 || n > 8 || s[0] != 'v')
		return 0;
	for (i = 1; i < n; i++)
		if (s[i] == '.')
			dots++;
		else if (!isdigit((unsigned char)s[i]))
			return 0;
	return dots == 1 && s[n - 1] != '.' && s[1] != '.';
}

static int
digits(const char *s)
{
	return *s != '\0' && strspn(s, "0123456789") == strlen(s);
}

/* /sandbox/graph/{version}/{id}[/{edge}]. */
static void
graph(struct ctx *c, struct req *r, const char *p)
{
	struct sandbox_refusal	 e;
	json_t			*m;
	char			 id[128], edge[64], path[4300];
	const char		*v = p, *s;
	size_t			 n;

	n = strcspn(v, "/");
	s = v + n;
	id[0] = edge[0] = '\0';
	if (*s == '/') {
		s++;
		(void)snprintf(id, sizeof(id), "%.*s", (int)strcspn(s, "/"), s);
		s += strcspn(s, "/");
		if (*s == '/')
			(void)snprintf(edge, sizeof(edge), "%s", s + 1);
	}
	if (!is_version(v, n) || id[0] == '\0' || strchr(edge, '/') != NULL) {
		sandbox_check_refuse(&e, 100, "Unknown path components: %.200s",
		    r->path);
		(void)strlcpy(e.message, e.details, sizeof(e.message));
		graph_error(r, &e, 0, NULL);
		return;
	}
	if (!authorised(c, r)) {
		sandbox_check_refuse(&e, 190, "The access token is missing or "
		    "is not WHATSAPP_ACCESS_TOKEN.");
		(void)strlcpy(e.message, req_param(r, "HTTP_AUTHORIZATION") ==
		    NULL ? "An access token is required to request this "
		    "resource." : "Invalid OAuth access token - Cannot parse "
		    "access token", sizeof(e.message));
		graph_error(r, &e, 0, NULL);
		return;
	}
	if (edge[0] != '\0') {
		if (!digits(id))
			unsupported(r, id);
		else if (strcmp(edge, "messages") == 0 &&
		    strcmp(r->method, "POST") == 0)
			messages(c, r, id);
		else if (strcmp(edge, "media") == 0 &&
		    strcmp(r->method, "POST") == 0)
			upload(c, r, id);
		else if (strcmp(edge, "whatsapp_business_profile") == 0 &&
		    (strcmp(r->method, "GET") == 0 ||
		    strcmp(r->method, "POST") == 0))
			profile(c, r, id);
		else if (strcmp(edge, "message_templates") == 0 &&
		    (strcmp(r->method, "GET") == 0 ||
		    strcmp(r->method, "POST") == 0 ||
		    strcmp(r->method, "DELETE") == 0))
			templates(c, r);
		else
			unsupported(r, id);
		return;
	}
	if (strcmp(id, c->cfg.phone_number_id) == 0 &&
	    strcmp(r->method, "GET") == 0) {
		number(c, r);
		return;
	}
	if ((m = media_row(c, id)) == NULL) {
		unsupported(r, id);
		return;
	}
	if (strcmp(r->method, "GET") == 0 && strcmp(json_string_value(
	    json_object_get(m, "state")), "stored") != 0) {
		/* A link not (or not yet) fetched: the link is its url. */
		reply_json(r, 200, json_pack("{s:O, s:O, s:s, s:s}", "url",
		    json_object_get(m, "link"), "mime_type", json_object_get(m,
		    "mime"), "id", id, "messaging_product", "whatsapp"));
	} else if (strcmp(r->method, "GET") == 0) {
		(void)snprintf(path, sizeof(path), "%s%s", c->media_base, id);
		reply_json(r, 200, json_pack("{s:s, s:O, s:O, s:O, s:s, s:s}",
		    "url", path, "mime_type", json_object_get(m, "mime"),
		    "sha256", json_object_get(m, "sha256"), "file_size",
		    json_object_get(m, "size"), "id", id, "messaging_product",
		    "whatsapp"));
	} else if (strcmp(r->method, "DELETE") == 0) {
		(void)snprintf(path, sizeof(path), "%s/%s", c->media_dir, id);
		if (sandbox_store_exec(c->st, SBX_MEDIA_DELETE, "s", id) == 0)
			(void)unlink(path);
		reply_json(r, 200, json_pack("{s:b}", "success", 1));
	} else
		unsupported(r, id);
	json_decref(m);
}

/* GET /sandbox/media/{id}: the bytes, with the access token (401). */
static void
media_get(struct ctx *c, struct req *r, const char *id)
{
	json_t	*m;
	char	 uri[128];

	if (!authorised(c, r)) {
		(void)req_error(r, 401, NULL, "unauthorized", "Media downloads "
		    "need the access token as a bearer.");
		return;
	}
	if (!digits(id) || strlen(id) > 32 || (m = media_row(c, id)) == NULL) {
		(void)req_error(r, 404, NULL, "not_found", "No such media.");
		return;
	}
	if (strcmp(json_string_value(json_object_get(m, "state")), "stored")) {
		json_decref(m);
		(void)req_error(r, 404, NULL, "not_found", "The sandbox holds no "
		    "copy of this media: its url is the link it was sent with.");
		return;
	}
	(void)snprintf(uri, sizeof(uri), ACCEL_URI "%s", id);	/* fits */
	(void)req_accel(r, uri, json_string_value(json_object_get(m, "mime")),
	    NULL);
	json_decref(m);
}

/*
 * GET /sandbox/customer/{wa_id}/messages?after=SEQ: what the business sent
 * to wa_id, oldest first, at most LIST_MAX.  200, 400 bad after or wa_id.
 */
static void
customer_messages(struct ctx *c, struct req *r, const char *wa_id)
{
	json_t		*rows, *row, *out, *list, *msg;
	struct buf	 q;
	long long	 after = 0, next;
	char		*end;
	size_t		 i;
	int		 rc;

	buf_init(&q);
	rc = req_query(r->query, "after", &q);
	if (rc == 1) {
		errno = 0;
		after = strtoll(q.p, &end, 10);
		if (errno != 0 || end == q.p || *end != '\0' || after < 0)
			rc = -1;
	}
	buf_clear(&q);
	if (rc == -1) {
		(void)req_error(r, 400, NULL, "bad_after", "after must be a "
		    "message sequence number (0 or more).");
		return;
	}
	if ((rows = sandbox_store_rows(c->st, SBX_MSG_LIST, "sii", wa_id,
	    (int64_t)after, (int64_t)LIST_MAX)) == NULL) {
		(void)req_error(r, 503, NULL, "unavailable", "The sandbox's "
		    "store did not answer; try again.");
		return;
	}
	next = after;
	list = json_array();
	json_array_foreach(rows, i, row) {
		msg = json_loads(json_string_value(json_object_get(row, "body")),
		    0, NULL);
		next = json_integer_value(json_object_get(row, "seq"));
		(void)json_array_append_new(list, json_pack("{s:O, s:O, s:s, "
		    "s:O, s:O, s:o, s:O}", "seq", json_object_get(row, "seq"),
		    "phone_number_id", json_object_get(row, "pnid"),
		    "display_phone_number", SANDBOX_DISPLAY, "wamid",
		    json_object_get(row, "wamid"), "received_at",
		    json_object_get(row, "received_at"), "message",
		    msg != NULL ? msg : json_null(), "media_id",
		    json_object_get(row, "media_id")));
	}
	json_decref(rows);
	out = json_pack("{s:o, s:I}", "messages", list, "next",
	    (json_int_t)next);
	reply_json(r, 200, out);
}

/*
 * POST /sandbox/customer/media?filename=NAME, the raw bytes with their
 * Content-Type: 201 {"id","mime_type","sha256","file_size"}; 400 no or
 * bad type, 413 too large.
 */
static void
customer_media(struct ctx *c, struct req *r)
{
	const char	*ct = req_param(r, "CONTENT_TYPE");
	struct buf	 fn;
	char		 mime[128], id[32], sha[65];
	size_t		 n;

	n = ct != NULL ? strcspn(ct, "; ") : 0;
	if (n == 0 || n >= sizeof(mime) || memchr(ct, '/', n) == NULL) {
		(void)req_error(r, 400, NULL, "bad_content_type", "Send the file "
		    "with its MIME type as Content-Type, e.g. image/jpeg.");
		return;
	}
	(void)snprintf(mime, sizeof(mime), "%.*s", (int)n, ct);
	switch (req_body(r, UPLOAD_MAX)) {
	case REQ_BODY_OK:
		break;
	case REQ_BODY_TOO_LARGE:
		(void)req_error(r, 413, NULL, "payload_too_large", "Files are "
		    "limited to 100 MiB.");
		return;
	default:
		(void)req_error(r, 400, NULL, "bad_body", "The file could not be "
		    "read.");
		return;
	}
	if (r->body.len == 0) {
		(void)req_error(r, 400, NULL, "empty_file", "The file is "
		    "empty.");
		return;
	}
	buf_init(&fn);
	if (req_query(r->query, "filename", &fn) != 1 || fn.len > 240 ||
	    strlen(fn.p) != fn.len) {
		buf_clear(&fn);
		buf_init(&fn);
	}
	if (media_save(c, c->cfg.phone_number_id, mime, fn.p, r->body.p,
	    r->body.len, id, sizeof(id), sha) == -1) {
		buf_clear(&fn);
		(void)req_error(r, 503, NULL, "unavailable", "The sandbox could "
		    "not store the file; try again.");
		return;
	}
	buf_clear(&fn);
	reply_json(r, 201, json_pack("{s:s, s:s, s:s, s:I}", "id", id,
	    "mime_type", mime, "sha256", sha, "file_size",
	    (json_int_t)r->body.len));
}

/* Routes one request: 404 unknown path, 405 wrong method. */
static void
route(struct ctx *c, struct req *r)
{
	const char	*p = r->path, *w;
	char		 wa_id[80];
	size_t		 n;

	if (strncmp(p, GRAPH, sizeof(GRAPH) - 1) == 0)
		graph(c, r, p + sizeof(GRAPH) - 1);
	else if (strncmp(p, MEDIA_URI, sizeof(MEDIA_URI) - 1) == 0 &&
	    strcmp(r->method, "GET") == 0)
		media_get(c, r, p + sizeof(MEDIA_URI) - 1);
	else if (strcmp(p, "/sandbox/info") == 0) {
		if (strcmp(r->method, "GET") != 0)
			(void)req_error(r, 405, "Allow: GET\r\n",
			    "method_not_allowed", "Use GET.");
		else
			reply_json(r, 200, json_pack("{s:b, s:s, s:s, s:s}",
			    "sandbox", 1, "phone_number_id",
			    c->cfg.phone_number_id, "display_phone_number",
			    SANDBOX_DISPLAY, "webhook_url", c->webhook_url));
	} else if (strcmp(p, CUSTOMER "media") == 0) {
		if (strcmp(r->method, "POST") != 0)
			(void)req_error(r, 405, "Allow: POST\r\n",
			    "method_not_allowed", "Use POST.");
		else
			customer_media(c, r);
	} else if (strncmp(p, CUSTOMER, sizeof(CUSTOMER) - 1) == 0 &&
	    (w = p + sizeof(CUSTOMER) - 1, n = strcspn(w, "/"), 1) &&
	    strcmp(w + n, "/messages") == 0) {
		if (n == 0 || n >= sizeof(wa_id) || strspn(w,
		    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz.") < n)
			(void)req_error(r, 400, NULL, "bad_wa_id", "The customer "
			    "must be a WhatsApp id: the phone number's digits.");
		else if (strcmp(r->method, "GET") != 0)
			(void)req_error(r, 405, "Allow: GET\r\n",
			    "method_not_allowed", "Use GET.");
		else {
			(void)snprintf(wa_id, sizeof(wa_id), "%.*s", (int)n, w);
			customer_messages(c, r, wa_id);
		}
	} else
		(void)req_error(r, 404, NULL, "not_found", "No such sandbox "
		    "endpoint.");
}

/* The usage text, to stdout with exit 0 (--help) or stderr with 2. */
static void
usage(int ok)
{
	if (fprintf(ok ? stdout : stderr, "usage: wa-sandbox [-n]\n"
	    "  -n  check the configuration and exit\n"
	    "A local stand-in for Meta's Graph API for `make run` in sandbox "
	    "mode (WA_SANDBOX=1).\nRun under spawn-fcgi (one process); "
	    "configuration comes from the environment and WA_ENV_FILE.\n") < 0)
		ok = 0;
	exit(ok ? 0 : 2);
}

/* Paths and URLs from the configuration.  0, or -1 with err set. */
static int
setup(struct ctx *c, char *err, size_t errsz)
{
	if (c->cfg.app_secret == NULL || c->cfg.app_secret[0] == '\0') {
		(void)snprintf(err, errsz, "WHATSAPP_APP_SECRET is not set: the "
		    "sandbox signs its status webhooks with it");
		return -1;
	}
	if (snprintf(c->db_path, sizeof(c->db_path), "%s/sandbox.db",
	    c->cfg.state_dir) >= (int)sizeof(c->db_path) ||
	    snprintf(c->media_dir, sizeof(c->media_dir), "%s/sandbox-media",
	    c->cfg.state_dir) >= (int)sizeof(c->media_dir) ||
	    snprintf(c->webhook_url, sizeof(c->webhook_url),
	    "http://%s/api/whatsapp/webhook", c->cfg.listen) >=
	    (int)sizeof(c->webhook_url) ||
	    snprintf(c->media_base, sizeof(c->media_base), "http://%s"
	    MEDIA_URI, c->cfg.listen) >= (int)sizeof(c->media_base)) {
		(void)snprintf(err, errsz, "WA_STATE_DIR or WA_LISTEN is too "
		    "long");
		return -1;
	}
	if (mkdir(c->media_dir, 0700) == -1 && errno != EEXIST) {
		(void)snprintf(err, errsz, "cannot make %.300s: %s", c->media_dir,
		    strerror(errno));
		return -1;
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	static struct ctx		 c;
	struct sandbox_hook_opts	 ho;
	struct sigaction		 sa;
	struct req			 r;
	sigset_t			 block, old;
	struct timespec			 nap = { 0, 100 * 1000 * 1000 };
	char				 err[512];
	int				 ch, check = 0;

	log_init("wa-sandbox");
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0))
		usage(1);
	while ((ch = getopt(argc, argv, "n")) != -1) {
		if (ch == 'n')
			check = 1;
		else
			usage(0);
	}
	if (optind != argc)
		usage(0);
	if (cfg_load(&c.cfg, CFG_NEED_WORKER, err, sizeof(err)) == -1 ||
	    setup(&c, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if (check) {
		(void)printf("configuration OK\n");
		cfg_clear(&c.cfg);
		return 0;
	}
	if ((c.st = sandbox_store_open(c.db_path, c.cfg.busy_timeout_ms)) ==
	    NULL)
		fatalx("cannot open the sandbox's store %s", c.db_path);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: accept returns */
	if (sigaction(SIGTERM, &sa, NULL) == -1 ||
	    sigaction(SIGINT, &sa, NULL) == -1)
		fatalx("cannot set the signal handlers");
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		fatalx("cannot ignore SIGPIPE");
	memset(&ho, 0, sizeof(ho));
	ho.db_path = c.db_path;
	ho.media_dir = c.media_dir;
	ho.busy_ms = c.cfg.busy_timeout_ms;
	ho.webhook_url = c.webhook_url;
	ho.app_secret = c.cfg.app_secret;
	ho.graph_url = c.cfg.graph_url;
	ho.api_version = c.cfg.api_version;
	ho.token = c.cfg.access_token;
	ho.stop = &stopping;
	/* Signals come to this thread, not the webhook poster's. */
	(void)sigemptyset(&block);
	(void)sigaddset(&block, SIGTERM);
	(void)sigaddset(&block, SIGINT);
	if (pthread_sigmask(SIG_BLOCK, &block, &old) != 0 ||
	    sandbox_hook_start(&ho) == -1 ||
	    pthread_sigmask(SIG_SETMASK, &old, NULL) != 0)
		fatalx("cannot start the status webhook thread");
	if (req_init(&r) == -1)
		fatalx("cannot initialise FastCGI");
	log_info("sandbox Graph API for number %s, status webhooks to %s",
	    c.cfg.phone_number_id, c.webhook_url);
	while (!atomic_load(&stopping)) {
		if (req_accept(&r, 1) != REQ_ACCEPT_OK) {
			if (!atomic_load(&stopping))
				(void)nanosleep(&nap, NULL);	/* an error: no spin */
			continue;
		}
		route(&c, &r);
		req_finish(&r, 0);
	}
	atomic_store(&stopping, 1);
	sandbox_hook_join();
	req_free(&r);
	sandbox_store_close(c.st);
	cfg_clear(&c.cfg);
	return 0;
}
