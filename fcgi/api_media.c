/*
 * api_media.c: the inbox's files and canned answers (issue 14).
 *
 * GET /messages/{id}/media hands a stored file to nginx (X-Accel-Redirect
 * to the internal /_media/ location) once the caller may see the
 * message's number, so C never streams a file and no public path exists.
 * POST /uploads streams a file people attach into the media directory,
 * content-addressed like downloads, within Meta's limits for its type
 * (reference 9.6); POST /send then names it by upload_id.  Quick replies
 * are canned answers; GET /stats/daily the series the inbox's charts
 * draw.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <bsd/string.h>
#include <jansson.h>

#include "api_int.h"
#include "buf.h"
#include "cfg.h"
#include "db.h"
#include "log.h"
#include "msg.h"
#include "req.h"
#include "sig.h"

#define UPLOAD_MAX	(100LL * 1024 * 1024)	/* the largest kind: documents */
#define STICKER_STATIC	(100 * 1024)		/* a sticker without animation */
#define DAILY_SPAN_MAX	(366 * 86400)
#define DAILY_DEFAULT	(30 * 86400)

/*
 * What Meta takes to send (reference 9.6), by MIME type: the kind it goes
 * as, the most bytes, and the extension given to the stored file (the one
 * msg.c's table maps back to this type and kind).
 */
static const struct upload_type {
	const char	*mime;
	const char	*kind;
	int64_t		 max;
	const char	*ext;
} upload_types[] = {
	{ "image/jpeg", "image", 5 * 1024 * 1024, "jpg" },
	{ "image/png", "image", 5 * 1024 * 1024, "png" },
	{ "video/mp4", "video", 16 * 1024 * 1024, "mp4" },
	{ "video/3gpp", "video", 16 * 1024 * 1024, "3gp" },
	{ "audio/aac", "audio", 16 * 1024 * 1024, "aac" },
	{ "audio/amr", "audio", 16 * 1024 * 1024, "amr" },
	{ "audio/mpeg", "audio", 16 * 1024 * 1024, "mp3" },
	{ "audio/mp4", "audio", 16 * 1024 * 1024, "m4a" },
	{ "audio/ogg", "audio", 16 * 1024 * 1024, "ogg" },
	{ "image/webp", "sticker", 500 * 1024, "webp" },
	{ "application/pdf", "document", UPLOAD_MAX, "pdf" },
	{ "text/plain", "document", UPLOAD_MAX, "txt" },
	{ "application/msword", "document", UPLOAD_MAX, "doc" },
	{ "application/vnd.openxmlformats-officedocument.wordprocessingml."
	  "document", "document", UPLOAD_MAX, "docx" },
	{ "application/vnd.ms-excel", "document", UPLOAD_MAX, "xls" },
	{ "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	  "document", UPLOAD_MAX, "xlsx" },
	{ "application/vnd.ms-powerpoint", "document", UPLOAD_MAX, "ppt" },
	{ "application/vnd.openxmlformats-officedocument.presentationml."
	  "presentation", "document", UPLOAD_MAX, "pptx" },
};

#define NUPLOAD_TYPES	(sizeof(upload_types) / sizeof(upload_types[0]))

static void	media_get(struct call *);
static void	upload_post(struct call *);
static void	qr_list(struct call *);
static void	qr_post(struct call *);
static void	qr_patch(struct call *);
static void	qr_delete(struct call *);
static void	daily_get(struct call *);

static const struct param none_p[] = { { .name = NULL } };

static const struct param upload_p[] = {
	API_NUMBER(struct upload_f),
	{ .name = "filename", .type = PARAM_TEXT, .min = 1, .max = 240,
	  .field = offsetof(struct upload_f, filename) },
	{ .name = NULL }
};

/* The body of POST and PATCH /quick-replies, checked by the handler. */
static const struct param qr_p[] = {
	{ .name = "shortcut", .type = PARAM_TEXT, .min = 1, .max = 32,
	  .field = offsetof(struct qr_f, shortcut) },
	{ .name = "text", .type = PARAM_TEXT, .min = 1, .max = 4096,
	  .field = offsetof(struct qr_f, text) },
	{ .name = "number", .type = PARAM_TEXT, .min = 1, .max = 20,
	  .nullable = 1, .field = offsetof(struct qr_f, number) },
	{ .name = NULL }
};

const struct api_route api_media_routes[] = {
	{ "/messages/{id}/media", "GET", media_get, API_VIEWER, none_p, NULL },
	{ "/uploads", "POST", upload_post, API_AGENT, upload_p, NULL },
	{ "/quick-replies", "GET", qr_list, API_VIEWER, none_p, NULL },
	{ "/quick-replies", "POST", qr_post, API_AGENT, none_p, qr_p },
	{ "/quick-replies/{id}", "PATCH", qr_patch, API_AGENT, none_p, qr_p },
	{ "/quick-replies/{id}", "DELETE", qr_delete, API_AGENT, none_p,
	  NULL },
	{ "/stats/daily", "GET", daily_get, API_VIEWER, api_stats_p, NULL },
	{ NULL, NULL, NULL, API_VIEWER, NULL, NULL }
};

static void
oom(struct call *c)
{
	(void)req_error(c->r, 503, NULL, "unavailable", "Out of memory.");
}

/* An error whose sentence is built (req_error() takes constants only). */
static void
fail_msg(struct call *c, int status, const char *code, const char *msg)
{
	api_reply_json(c, status, json_pack("{s:{s:s, s:s}}", "error", "code",
	    code, "message", msg));
}

/*
 * The MIME type a file is served inline as, or NULL when it must be a
 * download: images a browser shows without running anything, audio and
 * the video types WhatsApp uses.  Never HTML, SVG or anything scriptable.
 */
static const char *
inline_type(const char *mime, char *base, size_t sz)
{
	static const char *const images[] = { "image/jpeg", "image/png",
	    "image/webp", "image/gif", "video/mp4", "video/3gpp", NULL };
	size_t	 i, n;

	n = strcspn(mime, ";");
	while (n > 0 && isspace((unsigned char)mime[n - 1]))
		n--;
	if (n == 0 || n >= sz)
		return NULL;
	for (i = 0; i < n; i++)
		base[i] = (char)tolower((unsigned char)mime[i]);
	base[n] = '\0';
	for (i = 0; images[i] != NULL; i++)
		if (strcmp(base, images[i]) == 0)
			return base;
	if (strncmp(base, "audio/", 6) == 0 && base[6] != '\0' &&
	    strspn(base + 6, "abcdefghijklmnopqrstuvwxyz0123456789.+-") ==
	    strlen(base + 6))
		return base;
	return NULL;
}

/*
 * Content-Disposition for a download: the file's name with any path, control
 * characters, quotes and backslashes dropped (a sender chooses it), as
 * an ASCII fallback and percent-encoded UTF-8 (RFC 6266, RFC 8187).
 */
static int
disposition(const char *name, int64_t id, struct buf *out)
{
	static const char	 hex[] = "0123456789ABCDEF";
	const char		*p;
	char			 clean[241], ascii[241];
	size_t			 n = 0, i;
	unsigned char		 ch;

	if ((p = strrchr(name, '/')) != NULL)
		name = p + 1;
	if ((p = strrchr(name, '\\')) != NULL)
		name = p + 1;
	while (*name == '.' || *name == ' ')
		name++;
	for (; *name != '\0' && n < sizeof(clean) - 1; name++) {
		ch = (unsigned char)*name;
		if (ch < 0x20 || ch == 0x7f || ch == '"' || ch == '\\' ||
		    ch == ';' || ch == ',')
			continue;
		clean[n++] = (char)ch;
	}
	/* A name cut short must not end inside a UTF-8 sequence. */
	for (i = n; i > 0 && ((unsigned char)clean[i - 1] & 0xc0) == 0x80;)
		i--;
	if (i > 0 && (ch = (unsigned char)clean[i - 1]) >= 0xc0 &&
	    n - (i - 1) < (size_t)(ch >= 0xf0 ? 4 : ch >= 0xe0 ? 3 : 2))
		n = i - 1;
	clean[n] = '\0';
	if (n == 0)
		(void)snprintf(clean, sizeof(clean), "file-%lld", (long long)id);
	for (i = 0; clean[i] != '\0'; i++)
		ascii[i] = (unsigned char)clean[i] < 0x80 ? clean[i] : '_';
	ascii[i] = '\0';
	if (buf_printf(out, "Content-Disposition: attachment; filename=\"%s\"; "
	    "filename*=UTF-8''", ascii) == -1)
		return -1;
	for (i = 0; clean[i] != '\0'; i++) {
		ch = (unsigned char)clean[i];
		if (isalnum(ch) || strchr("!#$&+-.^_`|~", ch) != NULL) {
			if (buf_append(out, (const char *)&ch, 1) == -1)
				return -1;
		} else if (buf_printf(out, "%%%c%c", hex[ch >> 4],
		    hex[ch & 15]) == -1)
			return -1;
	}
	return buf_append(out, "\r\n", 2);
}

/* A stored relative path as the worker and uploads write it: ab/<hex>[.ext]. */
static int
path_ok(const char *p)
{
	size_t n = strlen(p);

	return n >= 4 && n < 200 && p[2] == '/' && strstr(p, "..") == NULL &&
	    strspn(p, "0123456789abcdefghijklmnopqrstuvwxyz./") == n;
}

/*
 * GET /messages/{id}/media: the message's file through nginx (200 with
 * X-Accel-Redirect; images, audio and WhatsApp's video inline, anything
 * else a download named for the document).  404 not_found (no such
 * message, or one of a number the caller may not see), 404 no_media (no
 * file, or none kept), 409 media_pending (the worker has not fetched it
 * yet), 409 media_failed (with the reason), 410 media_gone (removed by
 * retention).
 */
static void
media_get(struct call *c)
{
	struct db_media_file	 f;
	struct buf		 hdr;
	const char		*ctype, *mime;
	char			 base[128], uri[300], msg[400];
	int			 rc;

	buf_init(&hdr);
	if ((rc = db_media_of_message(c->db, c->id, &f)) == -1) {
		api_db_trouble(c, "The message could not be read; try again.");
		return;
	}
	if (rc == 0 || !api_may_see(c, f.pnid)) {
		(void)snprintf(msg, sizeof(msg), "No message has id %lld.",
		    (long long)c->id);
		fail_msg(c, 404, "not_found", msg);
		return;
	}
	if (!f.has_media || f.state[0] == '\0') {
		fail_msg(c, 404, "no_media", f.has_media ? "The gateway keeps "
		    "no copy of this message's file (it was sent by Meta media "
		    "id or link)." : "This message carries no file.");
		return;
	}
	if (strcmp(f.state, "pending") == 0) {
		(void)req_error(c->r, 409, "Retry-After: 5\r\n", "media_pending",
		    "The file has not been downloaded from Meta yet; try again "
		    "shortly.");
		return;
	}
	if (strcmp(f.state, "failed") == 0) {
		(void)snprintf(msg, sizeof(msg), "The file could not be "
		    "downloaded from Meta: %s.", f.error[0] ? f.error :
		    "no reason recorded");
		fail_msg(c, 409, "media_failed", msg);
		return;
	}
	if (f.path[0] == '\0') {
		fail_msg(c, 410, "media_gone", "The file was removed (retention "
		    "or the contact's erasure).");
		return;
	}
	if (!path_ok(f.path) || snprintf(uri, sizeof(uri), "/_media/%s",
	    f.path) >= (int)sizeof(uri)) {
		log_warnx("%s: message %lld: unexpected stored path", __func__,
		    (long long)c->id);
		fail_msg(c, 404, "no_media", "The file cannot be served.");
		return;
	}
	mime = f.mime[0] ? f.mime : f.msg_mime;
	ctype = strcmp(f.type, "document") != 0 ? inline_type(mime, base,
	    sizeof(base)) : NULL;
	if (ctype == NULL) {
		ctype = "application/octet-stream";
		if (disposition(f.filename[0] ? f.filename : "", c->id,
		    &hdr) == -1) {
			buf_clear(&hdr);
			oom(c);
			return;
		}
	}
	(void)req_accel(c->r, uri, ctype, hdr.p);
	buf_clear(&hdr);
}

/* A file being received: its temporary name, descriptor and digest. */
struct upload_tmp {
	char			 tmp[4200];
	int			 fd;
	struct sig_sha256	*hash;
	unsigned char		 head[32];	/* the first bytes (WebP header) */
	size_t			 nhead;
};

static int
upload_sink(void *arg, const void *p, size_t n)
{
	struct upload_tmp	*u = arg;
	const char		*b = p;
	size_t			 off, k;
	ssize_t			 w;

	if (u->nhead < sizeof(u->head)) {
		k = sizeof(u->head) - u->nhead < n ? sizeof(u->head) - u->nhead :
		    n;
		memcpy(u->head + u->nhead, p, k);
		u->nhead += k;
	}
	for (off = 0; off < n; off += (size_t)w)
		if ((w = write(u->fd, b + off, n - off)) <= 0) {
			log_warn("%s: write %s", __func__, u->tmp);
			return -1;
		}
	return sig_sha256_update(u->hash, p, n);
}

/* An animated WebP: a VP8X chunk with the animation flag (WebP container). */
static int
webp_animated(const struct upload_tmp *u)
{
	return u->nhead >= 21 && memcmp(u->head, "RIFF", 4) == 0 &&
	    memcmp(u->head + 8, "WEBPVP8X", 8) == 0 && (u->head[20] & 0x02);
}

static void
upload_discard(struct upload_tmp *u)
{
	if (u->fd != -1)
		(void)close(u->fd);
	u->fd = -1;
	if (u->tmp[0] != '\0' && unlink(u->tmp) == -1 && errno != ENOENT)
		log_warn("%s: unlink %s", __func__, u->tmp);
	u->tmp[0] = '\0';
	sig_sha256_free(u->hash);
	u->hash = NULL;
}

/*
 * Moves the finished file to dir/ab/<sha>.<ext>, with rel that relative
 * path.  0 or -1 (logged).  The same bytes land on the same name, so a
 * file uploaded twice is kept once.
 */
static int
upload_keep(struct upload_tmp *u, const char *dir, const char *sha,
    const char *ext, char *rel, size_t relsz)
{
	char	sub[4200], path[4400];

	if (snprintf(rel, relsz, "%.2s/%s.%s", sha, sha, ext) >= (int)relsz ||
	    snprintf(sub, sizeof(sub), "%s/%.2s", dir, sha) >=
	    (int)sizeof(sub) ||
	    snprintf(path, sizeof(path), "%s/%s", dir, rel) >=
	    (int)sizeof(path))
		return -1;
	if (cfg_media_mkdir(sub) == -1) {
		log_warn("%s: mkdir %s", __func__, sub);
		return -1;
	}
	if (fsync(u->fd) == -1 || close(u->fd) == -1) {
		log_warn("%s: %s", __func__, u->tmp);
		u->fd = -1;
		return -1;
	}
	u->fd = -1;
	if (rename(u->tmp, path) == -1) {
		log_warn("%s: rename %s", __func__, path);
		return -1;
	}
	u->tmp[0] = '\0';
	return 0;
}

/* The upload's type from Content-Type, or NULL with the 415 sent. */
static const struct upload_type *
upload_type(struct call *c)
{
	const char	*ct = req_param(c->r, "CONTENT_TYPE");
	char		 base[128];
	size_t		 i, n;

	n = ct != NULL ? strcspn(ct, ";") : 0;
	while (n > 0 && isspace((unsigned char)ct[n - 1]))
		n--;
	if (n > 0 && n < sizeof(base)) {
		for (i = 0; i < n; i++)
			base[i] = (char)tolower((unsigned char)ct[i]);
		base[n] = '\0';
		for (i = 0; i < NUPLOAD_TYPES; i++)
			if (strcmp(base, upload_types[i].mime) == 0)
				return &upload_types[i];
	}
	(void)req_error(c->r, 415, NULL, "unsupported_type", "WhatsApp "
	    "sends only these file types: images JPEG and PNG (5 MB), video "
	    "MP4 and 3GPP (16 MB), audio AAC, AMR, MP3, M4A and OGG/Opus "
	    "(16 MB), stickers WebP (100 KB, animated 500 KB) and documents "
	    "PDF, TXT, Word, Excel and PowerPoint (100 MB); send the file "
	    "with its type as Content-Type.");
	return NULL;
}

static void
too_large(struct call *c, const struct upload_type *t, int64_t max)
{
	char msg[300];

	(void)snprintf(msg, sizeof(msg), "WhatsApp takes %s files (%s) of at "
	    "most %lld KB%s.", t->kind, t->mime, (long long)(max / 1024),
	    strcmp(t->kind, "sticker") == 0 ? " (a static sticker 100 KB, "
	    "an animated one 500 KB)" : "");
	fail_msg(c, 413, "too_large", msg);
}

/*
 * POST /uploads?filename=NAME[&number=N]: the raw body is the file, its
 * Content-Type its MIME type.  Streamed to a temporary file in the media
 * directory and hashed while written, then renamed to its
 * content-addressed place; nothing is kept unless all of it came and
 * fits.  201 {"id", "kind", "mime_type", "size", "filename", "sha256"};
 * 400 empty_file or bad number=, 411, 413 too_large, 415
 * unsupported_type, 503.
 */
static void
upload_post(struct call *c)
{
	const struct upload_f	*q = &c->q.upload;
	const struct upload_type *t;
	struct upload_tmp	 u;
	struct db_upload	 up;
	struct buf		 nb;
	const char		*dir = c->cfg->media_dir, *k;
	json_t			*v;
	size_t			 got;
	int64_t			 id;
	int			 n, given;

	memset(&u, 0, sizeof(u));
	memset(&up, 0, sizeof(up));
	u.fd = -1;
	if ((t = upload_type(c)) == NULL)
		return;
	/* number=: the one number it may go from (else any). */
	buf_init(&nb);
	given = req_query(c->r->query, "number", &nb);
	buf_clear(&nb);
	if (given == 1) {
		if (json_object_size(c->cover) != 1) {
			api_fail_field(c, 400, "bad_parameter", "number", "Give "
			    "one number= for an upload: the number it will be "
			    "sent from.");
			return;
		}
		json_object_foreach(c->cover, k, v)
			(void)strlcpy(up.pnid, k, sizeof(up.pnid));
	}
	n = snprintf(u.tmp, sizeof(u.tmp), "%s/.upload-XXXXXX", dir);
	if (n < 0 || (size_t)n >= sizeof(u.tmp) ||
	    cfg_media_mkdir(dir) == -1 ||
	    (u.fd = mkostemp(u.tmp, O_CLOEXEC)) == -1 ||
	    fchmod(u.fd, 0640) == -1 || (u.hash = sig_sha256_new()) == NULL) {
		log_warn("%s: cannot create a file in %s", __func__, dir);
		if (u.fd == -1)
			u.tmp[0] = '\0';
		upload_discard(&u);
		(void)req_error(c->r, 503, "Retry-After: 5\r\n", "unavailable",
		    "The file could not be stored; try again.");
		return;
	}
	switch (req_body_stream(c->r, (size_t)t->max, upload_sink, &u, &got)) {
	case REQ_BODY_OK:
		break;
	case REQ_BODY_NO_LENGTH:
		upload_discard(&u);
		(void)req_error(c->r, 411, NULL, "length_required",
		    "A Content-Length header is required.");
		return;
	case REQ_BODY_TOO_LARGE:
		upload_discard(&u);
		too_large(c, t, t->max);
		return;
	case REQ_BODY_SHORT:
		upload_discard(&u);
		(void)req_error(c->r, 400, NULL, "short_body",
		    "The body was shorter than its Content-Length.");
		return;
	default:
		upload_discard(&u);
		(void)req_error(c->r, 503, "Retry-After: 5\r\n", "unavailable",
		    "The file could not be stored; try again.");
		return;
	}
	if (got == 0) {
		upload_discard(&u);
		(void)req_error(c->r, 400, NULL, "empty_file", "The file is "
		    "empty.");
		return;
	}
	if (strcmp(t->kind, "sticker") == 0 && got > STICKER_STATIC &&
	    !webp_animated(&u)) {
		upload_discard(&u);
		too_large(c, t, STICKER_STATIC);
		return;
	}
	if (sig_sha256_final(u.hash, up.sha) == -1 ||
	    upload_keep(&u, dir, up.sha, t->ext, up.path,
	    sizeof(up.path)) == -1) {
		upload_discard(&u);
		(void)req_error(c->r, 503, "Retry-After: 5\r\n", "unavailable",
		    "The file could not be stored; try again.");
		return;
	}
	upload_discard(&u);	/* the digest; the file is in place */
	(void)strlcpy(up.mime, t->mime, sizeof(up.mime));
	if (q->filename.set)
		(void)strlcpy(up.filename, q->filename.s, sizeof(up.filename));
	up.size = (int64_t)got;
	/*
	 * A failed insert leaves the file: the same bytes may be named by
	 * another row, and the retention sweep removes unnamed ones.
	 */
	if (db_upload_insert(c->db, &up, c->user_id, (int64_t)time(NULL),
	    &id) != DB_OK) {
		api_db_trouble(c, "The upload could not be recorded; try "
		    "again.");
		return;
	}
	/* s*: a member left out when NULL (jansson 2.11). */
	api_reply_json(c, 201, json_pack("{s:I, s:s, s:s, s:I, s:s*, s:s, "
	    "s:s*}", "id", (json_int_t)id, "kind", t->kind, "mime_type",
	    t->mime, "size", (json_int_t)got, "filename", up.filename[0] ?
	    up.filename : NULL, "sha256", up.sha, "phone_number_id",
	    up.pnid[0] ? up.pnid : NULL));
}

/* The kind an upload goes as, from its stored MIME type. */
static const struct upload_type *
upload_kind(const char *mime)
{
	size_t i;

	for (i = 0; i < NUPLOAD_TYPES; i++)
		if (strcmp(mime, upload_types[i].mime) == 0)
			return &upload_types[i];
	return NULL;
}

/* The members upload_id brings, moved into the media object m. */
static int
move_member(json_t *o, json_t *m, const char *name)
{
	json_t *x = json_object_get(o, name);

	if (x == NULL)
		return 0;
	if (json_object_set(m, name, x) == -1)
		return -1;
	return json_object_del(o, name);
}

/* See api_int.h. */
int
api_media_send(struct call *c, json_t *o, const char *pnid, unsigned *flags)
{
	const struct upload_type *t;
	struct db_upload	 up;
	json_t			*x, *m = NULL;
	const char		*type;
	char			 file[4400], msg[300];
	json_int_t		 uid;
	int			 rc;

	if (!json_is_object(o))
		return 0;
	if ((x = json_object_get(o, "reply_to")) != NULL) {
		if (!json_is_string(x) || json_string_length(x) == 0 ||
		    json_string_length(x) > 128) {
			api_fail_field(c, 422, "invalid", "reply_to", "reply_to "
			    "must be the wamid of the message answered (1 to "
			    "128 bytes).");
			return -1;
		}
		if (json_object_get(o, "context") != NULL) {
			api_fail_field(c, 422, "conflict", "reply_to", "Give "
			    "reply_to or context, not both.");
			return -1;
		}
		if (json_object_set_new(o, "context", json_pack("{s:O}",
		    "message_id", x)) == -1 || json_object_del(o,
		    "reply_to") == -1)
			goto nomem;
	}
	if ((x = json_object_get(o, "upload_id")) == NULL)
		return 0;
	if (!json_is_integer(x) || (uid = json_integer_value(x)) < 1) {
		api_fail_field(c, 422, "invalid", "upload_id", "upload_id must "
		    "be the id POST /uploads answered.");
		return -1;
	}
	if ((rc = db_upload_get(c->db, (int64_t)uid, &up)) == -1) {
		api_db_trouble(c, "The upload could not be read; try again.");
		return -1;
	}
	if (rc == 0 || (up.pnid[0] != '\0' && !api_may_see(c, up.pnid))) {
		(void)snprintf(msg, sizeof(msg), "No upload has id %lld.",
		    (long long)uid);
		api_fail_field(c, 422, "unknown_upload", "upload_id", msg);
		return -1;
	}
	if (up.pnid[0] != '\0' && strcmp(up.pnid, pnid) != 0) {
		api_fail_field(c, 422, "wrong_number", "upload_id", "This file "
		    "was uploaded for another number; send it from that one "
		    "or upload it again.");
		return -1;
	}
	if ((t = upload_kind(up.mime)) == NULL || !path_ok(up.path) ||
	    snprintf(file, sizeof(file), "%s/%s", c->cfg->media_dir,
	    up.path) >= (int)sizeof(file)) {
		api_fail_field(c, 422, "unknown_upload", "upload_id", "The "
		    "upload cannot be sent; upload the file again.");
		return -1;
	}
	type = json_string_value(json_object_get(o, "type"));
	if (json_object_get(o, "type") != NULL && (type == NULL ||
	    strcmp(type, t->kind) != 0)) {
		(void)snprintf(msg, sizeof(msg), "The upload is a %s (%s); "
		    "give type %s or leave type out.", t->kind, t->mime,
		    t->kind);
		api_fail_field(c, 422, "upload_kind", "type", msg);
		return -1;
	}
	if (json_object_get(o, t->kind) != NULL) {
		(void)snprintf(msg, sizeof(msg), "Give upload_id or %s, not "
		    "both.", t->kind);
		api_fail_field(c, 422, "conflict", "upload_id", msg);
		return -1;
	}
	if ((m = json_pack("{s:s}", "file", file)) == NULL ||
	    move_member(o, m, "caption") == -1 ||
	    move_member(o, m, "filename") == -1)
		goto nomem;
	if (strcmp(t->kind, "document") == 0 && up.filename[0] != '\0' &&
	    json_object_get(m, "filename") == NULL &&
	    json_object_set_new(m, "filename", json_string(up.filename)) == -1)
		goto nomem;
	if (json_object_set_new(o, "type", json_string(t->kind)) == -1 ||
	    json_object_set_new(o, t->kind, m) == -1 ||
	    json_object_del(o, "upload_id") == -1) {
		m = NULL;
		goto nomem;
	}
	*flags |= MSG_ALLOW_FILE;
	return 0;
nomem:
	json_decref(m);
	oom(c);
	return -1;
}

/* A shortcut: 1 to 32 of a-z, 0-9, _ and -. */
static int
shortcut_ok(const struct param_val *v)
{
	return v->len >= 1 && v->len <= 32 && strspn(v->s,
	    "abcdefghijklmnopqrstuvwxyz0123456789_-") == v->len;
}

/* GET /quick-replies: every one the caller's numbers may use. */
static void
qr_list(struct call *c)
{
	json_t	*rows;
	int	 n;

	if ((rows = json_array()) == NULL) {
		oom(c);
		return;
	}
	if ((n = db_qr_list(c->db, c->numbers, 0, api_on_row, rows)) < 0) {
		json_decref(rows);
		api_db_trouble(c, "The quick replies could not be read; try "
		    "again.");
		return;
	}
	api_reply_json(c, 200, json_pack("{s:o}", "data", rows));
}

/* The row after a write: 200 or 201 with it. */
static void
qr_answer(struct call *c, int status, int64_t id)
{
	json_t *rows;

	if ((rows = json_array()) == NULL) {
		oom(c);
		return;
	}
	c->id = id;
	if (db_qr_list(c->db, c->numbers, id, api_on_row, rows) != 1) {
		json_decref(rows);
		api_db_trouble(c, "The quick reply could not be read back.");
		return;
	}
	json_incref(json_array_get(rows, 0));
	api_reply_json(c, status, json_array_get(rows, 0));
	json_decref(rows);
}

/*
 * The body's members checked beyond their declaration: shortcut's bytes,
 * and number a phone_number_id the caller may see.  0, or -1 with the
 * 422 sent.
 */
static int
qr_check(struct call *c, const struct qr_f *f)
{
	if (f->shortcut.set && (f->shortcut.s == NULL ||
	    !shortcut_ok(&f->shortcut))) {
		api_fail_field(c, 422, "invalid", "shortcut", "shortcut must be "
		    "1 to 32 of a-z, 0-9, _ and -.");
		return -1;
	}
	if (f->text.set && f->text.s == NULL) {
		api_fail_field(c, 422, "invalid", "text", "text must be 1 to "
		    "4096 bytes.");
		return -1;
	}
	if (f->number.set && f->number.s != NULL &&
	    !api_may_see(c, f->number.s)) {
		api_fail_field(c, 422, "unknown_number", "number", "number must "
		    "be the phone_number_id of a business number you may see, "
		    "or null for every number.");
		return -1;
	}
	return 0;
}

static void
qr_dup(struct call *c)
{
	api_fail_field(c, 409, "duplicate_shortcut", "shortcut", "Another "
	    "quick reply has this shortcut; choose another.");
}

/*
 * POST /quick-replies {"shortcut", "text", "number"?}: 201 with the row;
 * 409 duplicate_shortcut; 422.
 */
static void
qr_post(struct call *c)
{
	const struct qr_f	*f = &c->b.qr;
	json_t			*o;
	int64_t			 id;

	if ((o = api_body_params(c, 16384, "A quick reply has shortcut, text "
	    "and number.")) == NULL)
		return;
	if (qr_check(c, f) == -1)
		goto done;
	if (!f->shortcut.set || !f->text.set) {
		api_fail_field(c, 422, "required", f->shortcut.set ? "text" :
		    "shortcut", "A quick reply needs a shortcut and a text.");
		goto done;
	}
	switch (db_qr_insert(c->db, f->shortcut.s, f->text.s, f->number.set ?
	    f->number.s : NULL, api_actor(c), (int64_t)time(NULL), &id)) {
	case DB_OK:
		qr_answer(c, 201, id);
		break;
	case DB_DUP:
		qr_dup(c);
		break;
	default:
		api_db_trouble(c, "The quick reply could not be stored; try "
		    "again.");
		break;
	}
done:
	json_decref(o);
}

/* 1 when quick reply c->id exists for the caller's numbers, else 0 with
 * the 404 sent (or -1 with the 503). */
static int
qr_exists(struct call *c)
{
	json_t	*rows;
	char	 msg[100];
	int	 n;

	if ((rows = json_array()) == NULL) {
		oom(c);
		return -1;
	}
	n = db_qr_list(c->db, c->numbers, c->id, api_on_row, rows);
	json_decref(rows);
	if (n < 0) {
		api_db_trouble(c, "The quick reply could not be read; try "
		    "again.");
		return -1;
	}
	if (n == 0) {
		(void)snprintf(msg, sizeof(msg), "No quick reply has id %lld.",
		    (long long)c->id);
		fail_msg(c, 404, "not_found", msg);
	}
	return n > 0;
}

/*
 * PATCH /quick-replies/{id}: shortcut, text, number (null: every number);
 * what is left out stays.  200 with the row; 404; 409; 422.
 */
static void
qr_patch(struct call *c)
{
	const struct qr_f	*f = &c->b.qr;
	json_t			*o;
	int64_t			 id = c->id;

	if ((o = api_body_params(c, 16384, "A quick reply has shortcut, text "
	    "and number.")) == NULL)
		return;
	if (qr_check(c, f) == -1 || qr_exists(c) != 1)
		goto done;
	switch (db_qr_update(c->db, id, f->shortcut.set ? f->shortcut.s : NULL,
	    f->text.set ? f->text.s : NULL, f->number.set, f->number.s,
	    (int64_t)time(NULL))) {
	case DB_OK:
		qr_answer(c, 200, id);
		break;
	case DB_DUP:
		qr_dup(c);
		break;
	default:
		api_db_trouble(c, "The quick reply could not be changed; try "
		    "again.");
		break;
	}
done:
	json_decref(o);
}

/* DELETE /quick-replies/{id}: 204; 404. */
static void
qr_delete(struct call *c)
{
	if (qr_exists(c) != 1)
		return;
	if (db_qr_delete(c->db, c->id) != DB_OK) {
		api_db_trouble(c, "The quick reply could not be removed; try "
		    "again.");
		return;
	}
	(void)req_reply(c->r, 204, "application/json", NULL, "", 0);
}

/* First-reply delays, per day and overall, to sort into percentiles. */
struct delays {
	int64_t	*v;
	size_t	 n, cap;
	int	 oom;
};

static int
delay_add(struct delays *d, int64_t v)
{
	int64_t	*p;
	size_t	 ncap;

	if (d->n == d->cap) {
		ncap = d->cap ? d->cap * 2 : 64;
		if ((p = reallocarray(d->v, ncap, sizeof(*p))) == NULL) {
			d->oom = 1;
			return -1;
		}
		d->v = p;
		d->cap = ncap;
	}
	d->v[d->n++] = v;
	return 0;
}

static int
cmp_int64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* {"p50", "p95", "answered", "unanswered"} of d (sorted here). */
static json_t *
percentiles(struct delays *d, int64_t unanswered)
{
	if (d->n > 1)
		qsort(d->v, d->n, sizeof(*d->v), cmp_int64);
	return json_pack("{s:o, s:o, s:I, s:I}",
	    "p50", d->n ? json_integer(d->v[(d->n - 1) / 2]) : json_null(),
	    "p95", d->n ? json_integer(d->v[(d->n * 95 + 99) / 100 - 1]) :
	    json_null(), "answered", (json_int_t)d->n, "unanswered",
	    (json_int_t)unanswered);
}

/* GET /stats/daily as its scan goes: counts and first replies per day. */
struct daily {
	int64_t		 since, until;	/* the period */
	int64_t		 first;		/* its first midnight */
	size_t		 ndays;
	int64_t		(*count)[3];	/* a day's in, out, failed */
	struct delays	*per;		/* a day's first-reply delays */
	int64_t		*unanswered;	/* a day's turns without a reply */
	int64_t		 conv;		/* the conversation being read */
	int		 prev_in;	/* its last message was the customer's */
	int64_t		*open;		/* its turns waiting for a reply */
	size_t		 nopen, capopen;
	int		 oom;
};

/* The day of the period that t (in it) falls on. */
static size_t
day_index(const struct daily *d, int64_t t)
{
	return (size_t)((t - d->first) / 86400);
}

/* The conversation's turns still open are unanswered. */
static void
daily_close(struct daily *d)
{
	size_t i;

	for (i = 0; i < d->nopen; i++)
		d->unanswered[day_index(d, d->open[i])]++;
	d->nopen = 0;
}

/*
 * DB_DAILY_SCAN rows (conversation, timestamp, kind, failed), each
 * conversation's in time order.  A customer message after one of ours
 * (or first in the period) opens a turn; the next reply by a person or
 * the bot answers every turn open, with the time since each.
 */
static void
on_scan(void *arg, int nc, const char *const *names, const struct db_val *v)
{
	struct daily	*d = arg;
	int64_t		 t, *p;
	size_t		 i, k, ncap;

	(void)names;
	if (nc < 4 || v[1].type != DB_VAL_INT || v[2].type != DB_VAL_INT)
		return;
	/* A message without a conversation (none is stored so) counts. */
	if ((v[0].type == DB_VAL_INT ? v[0].i : 0) != d->conv) {
		daily_close(d);
		d->conv = v[0].type == DB_VAL_INT ? v[0].i : 0;
		d->prev_in = 0;
	}
	t = v[1].i;
	if (v[2].i == 0) {
		if (t < d->until && t >= d->since) {
			d->count[day_index(d, t)][0]++;
			if (!d->prev_in) {
				if (d->nopen == d->capopen) {
					ncap = d->capopen ? d->capopen * 2 : 16;
					if ((p = reallocarray(d->open, ncap,
					    sizeof(*p))) == NULL) {
						d->oom = 1;
						return;
					}
					d->open = p;
					d->capopen = ncap;
				}
				d->open[d->nopen++] = t;
			}
		}
		d->prev_in = 1;
		return;
	}
	d->prev_in = 0;
	if (t < d->until && t >= d->since) {
		k = day_index(d, t);
		d->count[k][1]++;
		if (v[3].type == DB_VAL_INT && v[3].i)
			d->count[k][2]++;
	}
	if (v[2].i != 1)
		return;
	for (i = 0; i < d->nopen; i++)
		if (delay_add(&d->per[day_index(d, d->open[i])],
		    t - d->open[i]) == -1)
			d->oom = 1;
	d->nopen = 0;
}

/* DB_DAILY_FAILED rows: day index, sends that failed before Meta. */
static void
on_failed(void *arg, int nc, const char *const *names, const struct db_val *v)
{
	struct daily *d = arg;

	(void)names;
	if (nc < 2 || v[0].type != DB_VAL_INT || v[1].type != DB_VAL_INT ||
	    v[0].i < 0 || (size_t)v[0].i >= d->ndays)
		return;
	d->count[v[0].i][2] += v[1].i;
}

/*
 * GET /stats/daily?since=&until= (default: the 30 days before until, at
 * most 366 days: an earlier since is moved up, and capped says so): one
 * entry a UTC day, every day of the period, with messages in and out,
 * failed sends, and first-reply seconds (p50, p95: from a customer
 * message opening a turn to the first message a person or the bot sent
 * after it); over the period the first-reply percentiles, the most
 * chosen menu options and failures by Meta code (as GET /stats has
 * them).  200; 400 bad_parameter.
 */
static void
daily_get(struct call *c)
{
	const struct stats_f	*q = &c->q.stats;
	struct daily		 d;
	struct delays		 all;
	int64_t			 until, since, unanswered = 0;
	int			 capped;
	size_t			 i, k;
	time_t			 t;
	struct tm		 tm;
	char			 date[16];
	json_t			*out = NULL, *days = NULL, *a;

	memset(&d, 0, sizeof(d));
	memset(&all, 0, sizeof(all));
	until = q->until.set ? q->until.i : (int64_t)time(NULL) + 1;
	since = q->since.set ? q->since.i : until - DAILY_DEFAULT;
	if (since >= until) {
		api_fail_field(c, 400, "bad_parameter", "since", "since must be "
		    "before until.");
		return;
	}
	if ((capped = until - since > DAILY_SPAN_MAX))
		since = until - DAILY_SPAN_MAX;
	if (since < 0)		/* days start at the epoch (% of a negative) */
		since = 0;
	d.since = since;
	d.until = until;
	d.first = since - since % 86400;
	d.ndays = (size_t)((until - 1 - d.first) / 86400 + 1);
	d.conv = -1;
	if ((d.count = calloc(d.ndays, sizeof(*d.count))) == NULL ||
	    (d.per = calloc(d.ndays, sizeof(*d.per))) == NULL ||
	    (d.unanswered = calloc(d.ndays, sizeof(*d.unanswered))) == NULL)
		goto nomem;
	if (db_daily(c->db, c->numbers, since, until, until + 86400,
	    DB_DAILY_SCAN, on_scan, &d) == -1 || db_daily(c->db, c->numbers,
	    since, until, d.first, DB_DAILY_FAILED, on_failed, &d) == -1)
		goto fail;
	daily_close(&d);
	if (d.oom || (days = json_array()) == NULL)
		goto nomem;
	for (i = 0; i < d.ndays; i++) {
		t = (time_t)(d.first + (int64_t)i * 86400);
		for (k = 0; k < d.per[i].n; k++)
			if (delay_add(&all, d.per[i].v[k]) == -1)
				goto nomem;
		unanswered += d.unanswered[i];
		if (gmtime_r(&t, &tm) == NULL ||
		    strftime(date, sizeof(date), "%Y-%m-%d", &tm) == 0 ||
		    json_array_append_new(days, json_pack("{s:s, s:I, s:I, s:I, "
		    "s:o}", "day", date, "in", (json_int_t)d.count[i][0], "out",
		    (json_int_t)d.count[i][1], "failed",
		    (json_int_t)d.count[i][2], "first_reply_seconds",
		    percentiles(&d.per[i], d.unanswered[i]))) == -1)
			goto nomem;
	}
	if ((out = json_pack("{s:I, s:I, s:b, s:O, s:o}", "since",
	    (json_int_t)since, "until", (json_int_t)until, "capped", capped,
	    "days", days, "first_reply_seconds", percentiles(&all,
	    unanswered))) == NULL)
		goto nomem;
	if ((a = json_array()) == NULL ||
	    json_object_set_new(out, "menu_options", a) == -1)
		goto nomem;
	if (db_api_stats(c->db, c->numbers, since, until, DB_STATS_CHOICES,
	    api_on_row, a) == -1)
		goto fail;
	if ((a = json_array()) == NULL ||
	    json_object_set_new(out, "failures", a) == -1)
		goto nomem;
	if (db_api_stats(c->db, c->numbers, since, until, DB_STATS_FAILURES,
	    api_on_row, a) == -1)
		goto fail;
	api_reply_json(c, 200, out);
	out = NULL;
	goto done;
nomem:
	oom(c);
	goto done;
fail:
	api_db_trouble(c, "The statistics could not be read; try again.");
done:
	json_decref(out);
	json_decref(days);
	for (i = 0; d.per != NULL && i < d.ndays; i++)
		free(d.per[i].v);
	free(d.per);
	free(d.count);
	free(d.unanswered);
	free(d.open);
	free(all.v);
}
