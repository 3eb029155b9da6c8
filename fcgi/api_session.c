/*
 * api_session.c: people in the management API.  Signing in and out
 * (/session), the session cookie and CSRF check every browser call
 * passes (api_session_auth()), sign-in throttling, and the admin's
 * routes for users, API keys and numbers.
 *
 * A session is a random 256-bit token (pw_random(), base64url) in an
 * HttpOnly, SameSite=Strict cookie: `wa_session` over plain http,
 * `__Host-wa_session` with Secure when the request came over https
 * (FastCGI HTTPS=on).  Only its SHA-256 is stored.  It dies after 12 h
 * unused or 7 days in all, and at sign-out, a new password, a new role,
 * disabling or removal (db_users.c).  The CSRF token is derived from the
 * session token (HMAC-SHA256 keyed with the token over "wa-csrf", hex),
 * so nothing more is stored and no new secret is needed: only who holds
 * the cookie's value can compute it, and a page of another site can
 * neither read the cookie nor our answers.  Every request but GET and
 * HEAD that a cookie signs must carry it as X-CSRF-Token, and an Origin,
 * when the browser sends one, must be our own.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <bsd/string.h>
#include <jansson.h>

#include "api_int.h"
#include "buf.h"
#include "db.h"
#include "log.h"
#include "param.h"
#include "pw.h"
#include "req.h"
#include "sig.h"

#define SESSION_ABS_S	(7 * 86400)	/* a session lives at most this */
#define SESSION_IDLE_S	(12 * 3600)	/* ...and this long unused */
#define TOUCH_S		60		/* last_used_at to the minute */
#define SIGNIN_MAX	4096		/* a sign-in body */
#define USERS_BODY_MAX	8192
#define COOKIE		"wa_session"
#define COOKIE_HOST	"__Host-wa_session"
#define GEN_BYTES	18		/* generated passwords: 24 chars */
#define NUMBERS_MAX	64

/* POST /session: JSON or a form. */
struct signin_f {
	struct param_val	 username, password;
};

/* POST /users */
struct user_f {
	struct param_val	 name, role, display_name, email, password,
				 numbers;
};

/* PATCH /users/{id} */
struct user_patch_f {
	struct param_val	 role, display_name, email, password, numbers,
				 disabled;
};

/* POST /api-keys */
struct key_f {
	struct param_val	 name, read_only, numbers;
};

/* PATCH /numbers/{pnid} */
struct number_f2 {
	struct param_val	 label, display_phone_number, rate, active;
};

/* The bodies are parsed into the call's union (api_handle() clears it). */
_Static_assert(sizeof(struct user_f) <= sizeof(((struct call *)0)->b),
    "struct user_f must fit struct call's body union");
_Static_assert(sizeof(struct user_patch_f) <= sizeof(((struct call *)0)->b),
    "struct user_patch_f must fit struct call's body union");
_Static_assert(sizeof(struct signin_f) <= sizeof(((struct call *)0)->b),
    "struct signin_f must fit struct call's body union");
_Static_assert(sizeof(struct key_f) <= sizeof(((struct call *)0)->b),
    "struct key_f must fit struct call's body union");
_Static_assert(sizeof(struct number_f2) <= sizeof(((struct call *)0)->b),
    "struct number_f2 must fit struct call's body union");

static const char *const roles[] = { "viewer", "agent", "admin", NULL };

static const struct param none_p[] = { { .name = NULL } };

static const struct param signin_p[] = {
	{ .name = "username", .type = PARAM_TEXT, .min = 1, .max = 200,
	  .field = offsetof(struct signin_f, username) },
	{ .name = "password", .type = PARAM_TEXT, .min = 1,
	  .max = PW_MAX_LEN, .field = offsetof(struct signin_f, password) },
	{ .name = NULL }
};

static const struct param user_new_p[] = {
	{ .name = "name", .type = PARAM_TEXT, .min = 1, .max = 64,
	  .field = offsetof(struct user_f, name) },
	{ .name = "role", .type = PARAM_ENUM, .words = roles,
	  .field = offsetof(struct user_f, role) },
	{ .name = "display_name", .type = PARAM_TEXT, .min = 1, .max = 128,
	  .nullable = 1, .field = offsetof(struct user_f, display_name) },
	{ .name = "email", .type = PARAM_TEXT, .min = 3, .max = 254,
	  .nullable = 1, .field = offsetof(struct user_f, email) },
	{ .name = "password", .type = PARAM_TEXT, .min = PW_MIN_LEN,
	  .max = PW_MAX_LEN, .field = offsetof(struct user_f, password) },
	{ .name = "numbers", .type = PARAM_JSON,
	  .field = offsetof(struct user_f, numbers) },
	{ .name = NULL }
};

static const struct param user_patch_p[] = {
	{ .name = "role", .type = PARAM_ENUM, .words = roles,
	  .field = offsetof(struct user_patch_f, role) },
	{ .name = "display_name", .type = PARAM_TEXT, .min = 1, .max = 128,
	  .nullable = 1, .field = offsetof(struct user_patch_f, display_name) },
	{ .name = "email", .type = PARAM_TEXT, .min = 3, .max = 254,
	  .nullable = 1, .field = offsetof(struct user_patch_f, email) },
	{ .name = "password", .type = PARAM_TEXT, .min = PW_MIN_LEN,
	  .max = PW_MAX_LEN, .field = offsetof(struct user_patch_f, password) },
	{ .name = "numbers", .type = PARAM_JSON,
	  .field = offsetof(struct user_patch_f, numbers) },
	{ .name = "disabled", .type = PARAM_BOOL,
	  .field = offsetof(struct user_patch_f, disabled) },
	{ .name = NULL }
};

static const struct param key_new_p[] = {
	{ .name = "name", .type = PARAM_TEXT, .min = 1, .max = 64,
	  .field = offsetof(struct key_f, name) },
	{ .name = "read_only", .type = PARAM_BOOL,
	  .field = offsetof(struct key_f, read_only) },
	{ .name = "numbers", .type = PARAM_JSON,
	  .field = offsetof(struct key_f, numbers) },
	{ .name = NULL }
};

static const struct param number_patch_p[] = {
	{ .name = "label", .type = PARAM_TEXT, .min = 1, .max = 32,
	  .field = offsetof(struct number_f2, label) },
	{ .name = "display_phone_number", .type = PARAM_TEXT, .min = 1,
	  .max = 32, .field = offsetof(struct number_f2,
	  display_phone_number) },
	{ .name = "rate", .type = PARAM_INT, .min = 1, .max = 1000,
	  .field = offsetof(struct number_f2, rate) },
	{ .name = "active", .type = PARAM_BOOL,
	  .field = offsetof(struct number_f2, active) },
	{ .name = NULL }
};

static void	session_post(struct call *);
static void	session_get(struct call *);
static void	session_delete(struct call *);
static void	users_list(struct call *);
static void	user_post(struct call *);
static void	user_patch(struct call *);
static void	user_delete(struct call *);
static void	keys_list(struct call *);
static void	key_post(struct call *);
static void	key_delete(struct call *);
static void	number_patch(struct call *);

/*
 * Signing in takes no credential; GET and DELETE /session check the
 * cookie themselves (a dead session is 401 there, not "no key").
 */
const struct api_route api_session_routes[] = {
	{ "/session", "POST", session_post, API_PUBLIC, none_p, signin_p },
	{ "/session", "GET", session_get, API_PUBLIC, none_p, NULL },
	{ "/session", "DELETE", session_delete, API_PUBLIC, none_p, NULL },
	{ "/users", "GET", users_list, API_VIEWER, none_p, NULL },
	{ "/users", "POST", user_post, API_ADMIN, none_p, user_new_p },
	{ "/users/{id}", "PATCH", user_patch, API_ADMIN, none_p,
	  user_patch_p },
	{ "/users/{id}", "DELETE", user_delete, API_ADMIN, none_p, NULL },
	{ "/api-keys", "GET", keys_list, API_ADMIN, none_p, NULL },
	{ "/api-keys", "POST", key_post, API_ADMIN, none_p, key_new_p },
	{ "/api-keys/{id}", "DELETE", key_delete, API_ADMIN, none_p, NULL },
	{ "/numbers/{pnid}", "PATCH", number_patch, API_ADMIN, none_p,
	  number_patch_p },
	{ NULL, NULL, NULL, API_VIEWER, NULL, NULL }
};

/* --- Cookies, tokens, origins ---------------------------------------- */

/* 1 when the request came over https (nginx sets HTTPS=on). */
static int
over_https(const struct call *c)
{
	const char *h = req_param(c->r, "HTTPS");

	return h != NULL && strcasecmp(h, "on") == 0;
}

/* 1 when s (n bytes) is a session token: PW_TOKEN_LEN of base64url. */
static int
token_ok(const char *s, size_t n)
{
	return n == PW_TOKEN_LEN && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_") >= n;
}

/*
 * The session token of the Cookie header into tok (PW_TOKEN_LEN + 1
 * bytes): __Host-wa_session first, then wa_session.  1 found, 0 when
 * neither cookie is there, -1 when one is there but is no token.
 */
static int
cookie_token(const char *hdr, char *tok)
{
	const char	*names[] = { COOKIE_HOST, COOKIE };
	const char	*p, *e, *v;
	size_t		 i, nl, len;
	int		 seen = 0;

	if (hdr == NULL)
		return 0;
	for (i = 0; i < 2; i++) {
		nl = strlen(names[i]);
		for (p = hdr; *p != '\0'; p = *e ? e + 1 : e) {
			p += strspn(p, " \t");
			if ((e = strchr(p, ';')) == NULL)
				e = p + strlen(p);
			if ((size_t)(e - p) <= nl || strncmp(p, names[i],
			    nl) != 0 || p[nl] != '=')
				continue;
			seen = 1;
			v = p + nl + 1;
			len = (size_t)(e - v);
			while (len > 0 && (v[len - 1] == ' ' ||
			    v[len - 1] == '\t'))
				len--;
			if (token_ok(v, len)) {
				memcpy(tok, v, len);
				tok[len] = '\0';
				return 1;
			}
		}
	}
	return seen ? -1 : 0;
}

/*
 * The Set-Cookie header line (with its CRLF) into out: the token for
 * SESSION_ABS_S seconds, or (tok NULL) one that clears the cookie.
 * Over https the __Host- name with Secure, which browsers keep only
 * from a secure origin with Path=/ and no Domain; over plain http
 * (loopback, make run) the plain name, which a browser would refuse
 * to keep with Secure.  0 or -1.
 */
static int
set_cookie(const struct call *c, const char *tok, char *out, size_t outsz)
{
	int https = over_https(c);
	int n;

	n = snprintf(out, outsz, "Set-Cookie: %s=%s; Path=/;%s HttpOnly; "
	    "SameSite=Strict; Max-Age=%d\r\n", https ? COOKIE_HOST : COOKIE,
	    tok != NULL ? tok : "", https ? " Secure;" : "",
	    tok != NULL ? SESSION_ABS_S : 0);
	return n < 0 || (size_t)n >= outsz ? -1 : 0;
}

/* The CSRF token of session token tok into out (65 bytes).  0 or -1. */
static int
csrf_of(const char *tok, char *out)
{
	return sig_hmac_hex(tok, "wa-csrf", 7, out);
}

/*
 * 1 when the request's Origin (when it has one) is this site: the
 * scheme it came over and its Host.  A browser sends Origin with every
 * cross-site POST, so a page elsewhere cannot pass.  Sec-Fetch-Site
 * cross-site is refused too.
 */
static int
origin_ok(const struct call *c)
{
	const char	*o = req_param(c->r, "HTTP_ORIGIN");
	const char	*h = req_param(c->r, "HTTP_HOST");
	const char	*f = req_param(c->r, "HTTP_SEC_FETCH_SITE");
	char		 want[300];
	int		 n;

	if (f != NULL && strcmp(f, "cross-site") == 0)
		return 0;
	if (o == NULL)
		return 1;
	if (h == NULL)
		return 0;
	n = snprintf(want, sizeof(want), "%s://%s", over_https(c) ? "https" :
	    "http", h);
	if (n < 0 || (size_t)n >= sizeof(want))
		return 0;
	return strcasecmp(o, want) == 0;
}

static void
csrf_refused(struct call *c, const char *why)
{
	(void)req_error(c->r, 403, NULL, "csrf_failed", why);
}

static enum api_role
role_of(const char *s)
{
	if (strcmp(s, "admin") == 0)
		return API_ADMIN;
	if (strcmp(s, "agent") == 0)
		return API_AGENT;
	return API_VIEWER;
}

/* --- Sessions -------------------------------------------------------- */

/* 1 when session v is live at now. */
static int
live(const struct db_session *v, int64_t now)
{
	return v->revoked_at == 0 && v->disabled_at == 0 &&
	    v->expires_at > now && v->last_used_at + SESSION_IDLE_S > now &&
	    v->created_at >= v->password_at;
}

/*
 * The live session of the request's cookie into v and its token into
 * tok.  1 live; 0 no cookie at all; -1 with the answer sent (401 for a
 * dead or unknown session, with a cookie that clears it; 503).
 */
static int
session_find(struct call *c, struct db_session *v, char *tok)
{
	char	 sha[65], hdr[200];
	int64_t	 now = (int64_t)time(NULL);
	int	 rc;

	if ((rc = cookie_token(req_param(c->r, "HTTP_COOKIE"), tok)) == 0)
		return 0;
	if (rc == 1) {
		if (sig_sha256_hex(tok, strlen(tok), sha) == -1 ||
		    (rc = db_session_get(c->db, sha, v)) == -1) {
			api_db_trouble(c, "The session could not be checked; "
			    "try again.");
			return -1;
		}
		if (rc == 1 && live(v, now)) {
			if (now - v->last_used_at >= TOUCH_S)
				/* Best effort: a busy lock costs a minute. */
				(void)db_session_touch(c->db, v->id, now);
			return 1;
		}
	}
	if (set_cookie(c, NULL, hdr, sizeof(hdr)) == -1)
		hdr[0] = '\0';
	(void)req_error(c->r, 401, hdr, "unauthorized", "Your session has "
	    "ended or is not valid; sign in again.");
	return -1;
}

/* The call is the person of session v (name, role, numbers). 0 or -1. */
static int
become(struct call *c, const struct db_session *v)
{
	c->user_id = v->user_id;
	c->key_id = 0;
	c->role = role_of(v->role);
	(void)strlcpy(c->user, v->name, sizeof(c->user));
	if (api_scope_user(c, v->user_id) == -1) {
		api_db_trouble(c, "The session could not be checked; try again.");
		return -1;
	}
	return 0;
}

/*
 * The CSRF check of a write: X-CSRF-Token equal to the session's, and
 * the Origin ours.  1 passed, 0 with the 403 sent.
 */
static int
csrf_passes(struct call *c, const char *tok)
{
	const char	*h = req_param(c->r, "HTTP_X_CSRF_TOKEN");
	char		 want[65];

	if (!origin_ok(c)) {
		csrf_refused(c, "This request came from another site.");
		return 0;
	}
	if (h == NULL || csrf_of(tok, want) == -1 ||
	    !sig_streq(h, strlen(h), want, strlen(want))) {
		explicit_bzero(want, sizeof(want));
		csrf_refused(c, "Send the csrf_token of GET /session as the "
		    "X-CSRF-Token header with every change.");
		return 0;
	}
	explicit_bzero(want, sizeof(want));
	return 1;
}

/* api_int.h: a request without an Authorization header. */
int
api_session_auth(struct call *c)
{
	struct db_session v;
	char		 tok[PW_TOKEN_LEN + 1];
	int		 rc;

	if ((rc = session_find(c, &v, tok)) != 1)
		return rc;
	if (strcmp(c->r->method, "GET") != 0 && strcmp(c->r->method,
	    "HEAD") != 0 && !csrf_passes(c, tok))
		rc = -1;
	else if (become(c, &v) == -1)
		rc = -1;
	explicit_bzero(tok, sizeof(tok));
	return rc;
}

/* 200 with the session's shape: user, csrf_token and its ends. */
static void
session_reply(struct call *c, int status, const struct db_session *v,
    const char *tok, const char *headers)
{
	char	 csrf[65];
	json_t	*o;

	if (csrf_of(tok, csrf) == -1) {
		(void)req_error(c->r, 503, NULL, "unavailable", "Out of memory.");
		return;
	}
	o = json_pack("{s:{s:I, s:s, s:s, s:s, s:s?}, s:s, s:I, s:I}",
	    "user", "id", (json_int_t)v->user_id, "name", v->name,
	    "display_name", v->display_name[0] ? v->display_name : v->name,
	    "role", v->role, "email", v->email[0] ? v->email : NULL,
	    "csrf_token", csrf, "expires_at", (json_int_t)v->expires_at,
	    "idle_expires_at", (json_int_t)((v->last_used_at + SESSION_IDLE_S <
	    v->expires_at ? v->last_used_at + SESSION_IDLE_S :
	    v->expires_at)));
	explicit_bzero(csrf, sizeof(csrf));
	if (o == NULL) {
		(void)req_error(c->r, 503, NULL, "unavailable", "Out of memory.");
		return;
	}
	if (headers == NULL) {
		api_reply_json(c, status, o);
		return;
	}
	{
		char *s = json_dumps(o, JSON_COMPACT);

		json_decref(o);
		if (s == NULL) {
			(void)req_error(c->r, 503, NULL, "unavailable",
			    "Out of memory.");
			return;
		}
		(void)req_reply(c->r, status, "application/json", headers, s,
		    strlen(s));
		free(s);
	}
}

/*
 * The username and password of a sign-in body, JSON or a form, into f
 * (strings owned by *o or *form).  0, or -1 with the answer sent.
 */
static int
signin_body(struct call *c, json_t **o, struct buf *form,
    struct signin_f *f)
{
	const char		*ct = req_param(c->r, "CONTENT_TYPE");
	struct param_err	 err;
	struct buf		 u, p;

	*o = NULL;
	memset(f, 0, sizeof(*f));
	if (ct != NULL && strncasecmp(ct, "application/x-www-form-urlencoded",
	    33) == 0) {
		switch (req_body(c->r, SIGNIN_MAX)) {
		case REQ_BODY_OK:
			break;
		case REQ_BODY_TOO_LARGE:
			(void)req_error(c->r, 413, NULL, "payload_too_large",
			    "The request body is too large.");
			return -1;
		default:
			(void)req_error(c->r, 400, NULL, "bad_body", "The body "
			    "is missing or shorter than its Content-Length.");
			return -1;
		}
		/* username=...&password=... as a C string. */
		if (buf_append(form, c->r->body.p != NULL ? c->r->body.p : "",
		    c->r->body.len) == -1 || buf_append(form, "", 1) == -1)
			goto oom;
		buf_init(&u);
		buf_init(&p);
		if (strlen(form->p) != c->r->body.len ||
		    req_query(form->p, "username", &u) != 1 ||
		    req_query(form->p, "password", &p) != 1 || u.len == 0 ||
		    p.len == 0 || u.len > 200 || p.len > PW_MAX_LEN ||
		    strlen(u.p) != u.len || strlen(p.p) != p.len) {
			if (p.p != NULL)
				explicit_bzero(p.p, p.len);
			buf_clear(&u);
			buf_clear(&p);
			api_fail_field(c, 422, "invalid", "username", "Send a "
			    "username and a password.");
			return -1;
		}
		/* Kept in form after the body: freed with it. */
		explicit_bzero(form->p, form->len);
		form->len = 0;
		if (buf_append(form, u.p, u.len + 1) == -1 ||
		    buf_append(form, p.p, p.len + 1) == -1) {
			explicit_bzero(p.p, p.len);
			buf_clear(&u);
			buf_clear(&p);
			goto oom;
		}
		f->username.s = form->p;
		f->username.len = u.len;
		f->password.s = form->p + u.len + 1;
		f->password.len = p.len;
		f->username.set = f->password.set = 1;
		explicit_bzero(p.p, p.len);
		buf_clear(&u);
		buf_clear(&p);
		return 0;
	}
	if ((*o = api_json_body(c, SIGNIN_MAX)) == NULL)
		return -1;
	switch (param_json(signin_p, *o, f, &err)) {
	case PARAM_OK:
		break;
	case PARAM_NOMEM:
		goto oom;
	case PARAM_UNKNOWN:
		api_fail_field(c, 422, "unknown_field", err.name, "Send only "
		    "username and password.");
		return -1;
	default:
		api_fail_field(c, 422, "invalid", err.name, err.message);
		return -1;
	}
	if (!f->username.set || !f->password.set) {
		api_fail_field(c, 422, "invalid", f->username.set ? "password" :
		    "username", "Send a username and a password.");
		return -1;
	}
	return 0;
oom:
	(void)req_error(c->r, 503, NULL, "unavailable", "Out of memory.");
	return -1;
}

/*
 * 429 too_many_attempts with Retry-After when the user or the address
 * is locked; 1 then (answered), 0 when not, -1 with a 503 sent.
 */
static int
throttled(struct call *c, const char *who_user, const char *who_addr,
    int64_t now)
{
	int64_t	 a, b, until;
	char	 hdr[64];
	int	 ra, rb;

	if ((ra = db_login_locked(c->db, who_user, now, &a)) == -1 ||
	    (rb = db_login_locked(c->db, who_addr, now, &b)) == -1) {
		api_db_trouble(c, "Signing in is not possible right now; try "
		    "again.");
		return -1;
	}
	if (!ra && !rb)
		return 0;
	until = (ra ? a : 0) > (rb ? b : 0) ? a : b;
	(void)snprintf(hdr, sizeof(hdr), "Retry-After: %lld\r\n",
	    (long long)(until - now > 0 ? until - now : 1));
	(void)req_error(c->r, 429, hdr, "too_many_attempts", "Too many failed "
	    "sign-ins; wait as long as Retry-After says, then try again.");
	return 1;
}

/*
 * POST /session: signs a person in.  200 with the session and its
 * cookie; 401 bad_credentials for a wrong name or password, an unknown
 * user and a disabled one alike (each checks one scrypt hash, so the
 * time does not tell them apart either); 403 csrf_failed when the
 * Origin is another site's (login CSRF); 415, 413, 422 for a bad body;
 * 429 too_many_attempts with Retry-After while the user name or the
 * address is locked out; 503.  Failures are logged with the name (when
 * it is a valid one) and the address only.
 */
static void
session_post(struct call *c)
{
	struct signin_f	 f;
	struct db_user	 u;
	struct db_session v;
	struct buf	 form;
	json_t		*o = NULL;
	const char	*addr = req_param(c->r, "REMOTE_ADDR");
	const char	*ua = req_param(c->r, "HTTP_USER_AGENT");
	char		 name[DB_USER_NAME_MAX], who_u[80], who_a[80];
	char		 tok[PW_TOKEN_LEN + 1], sha[65], hdr[200];
	int64_t		 now = (int64_t)time(NULL), until;
	size_t		 i;
	int		 found = 0, ok = 0, named;

	buf_init(&form);
	memset(&u, 0, sizeof(u));
	tok[0] = '\0';
	if (!origin_ok(c)) {
		csrf_refused(c, "Sign in from this site's own page.");
		goto done;
	}
	if (signin_body(c, &o, &form, &f) == -1)
		goto done;
	if (addr == NULL || strlen(addr) > 64)
		addr = "-";
	/* Names are lower case: Alice signs in as alice. */
	named = f.username.len < sizeof(name);
	if (named) {
		for (i = 0; i < f.username.len; i++)
			name[i] = (char)(f.username.s[i] >= 'A' &&
			    f.username.s[i] <= 'Z' ? f.username.s[i] - 'A' +
			    'a' : f.username.s[i]);
		name[i] = '\0';
		named = pw_name_ok(name);
	}
	if (!named)
		(void)strlcpy(name, "-", sizeof(name));
	(void)snprintf(who_u, sizeof(who_u), "user:%s", name);
	(void)snprintf(who_a, sizeof(who_a), "addr:%s", addr);
	if (throttled(c, who_u, who_a, now) != 0)
		goto done;
	if (named && (found = db_user_get(c->db, 0, name, &u)) == -1) {
		api_db_trouble(c, "Signing in is not possible right now; try "
		    "again.");
		goto done;
	}
	if (found == 1)
		ok = pw_verify(f.password.s, f.password.len, u.hash) == 1 &&
		    u.disabled_at == 0;
	else
		pw_dummy(f.password.s, f.password.len);
	if (!ok) {
		log_warnx("api: failed sign-in for %s from %s", named ? name :
		    "an invalid user name", addr);
		if (db_login_failed(c->db, who_u, now, &until) == -1 ||
		    db_login_failed(c->db, who_a, now, &until) == -1) {
			api_db_trouble(c, "Signing in is not possible right now; "
			    "try again.");
			goto done;
		}
		(void)req_error(c->r, 401, NULL, "bad_credentials", "The user "
		    "name or password is wrong.");
		goto done;
	}
	if (pw_random(32, tok, sizeof(tok)) == -1 ||
	    sig_sha256_hex(tok, strlen(tok), sha) == -1) {
		(void)req_error(c->r, 503, NULL, "unavailable", "No session "
		    "could be made; try again.");
		goto done;
	}
	switch (db_session_start(c->db, u.id, sha, now, now + SESSION_ABS_S,
	    addr, ua, who_u, who_a)) {
	case DB_OK:
		break;
	default:
		api_db_trouble(c, "Signing in is not possible right now; try "
		    "again.");
		goto done;
	}
	log_info("api: %s signed in from %s", name, addr);
	memset(&v, 0, sizeof(v));
	v.user_id = u.id;
	v.created_at = v.last_used_at = now;
	v.expires_at = now + SESSION_ABS_S;
	(void)strlcpy(v.name, u.name, sizeof(v.name));
	(void)strlcpy(v.display_name, u.display_name, sizeof(v.display_name));
	(void)strlcpy(v.role, u.role, sizeof(v.role));
	(void)strlcpy(v.email, u.email, sizeof(v.email));
	if (set_cookie(c, tok, hdr, sizeof(hdr)) == -1) {
		(void)req_error(c->r, 503, NULL, "unavailable", "Out of memory.");
		goto done;
	}
	session_reply(c, 200, &v, tok, hdr);
	explicit_bzero(hdr, sizeof(hdr));
done:
	explicit_bzero(tok, sizeof(tok));
	explicit_bzero(u.hash, sizeof(u.hash));
	if (form.p != NULL)
		explicit_bzero(form.p, form.cap);
	buf_clear(&form);
	json_decref(o);
}

/*
 * GET /session: 200 with the signed-in person and the session's CSRF
 * token (what a page reloaded needs); 401 unauthorized without a live
 * session; 503.
 */
static void
session_get(struct call *c)
{
	struct db_session v;
	char		 tok[PW_TOKEN_LEN + 1];
	int		 rc;

	if ((rc = session_find(c, &v, tok)) == 0)
		(void)req_error(c->r, 401, NULL, "unauthorized", "Nobody is "
		    "signed in; sign in first.");
	if (rc == 1)
		session_reply(c, 200, &v, tok, NULL);
	explicit_bzero(tok, sizeof(tok));
}

/*
 * DELETE /session: signs out.  204 with a cookie that clears it; 401
 * without a live session; 403 csrf_failed without the session's
 * X-CSRF-Token (another site may not sign people out); 503.
 */
static void
session_delete(struct call *c)
{
	struct db_session v;
	char		 tok[PW_TOKEN_LEN + 1], hdr[200];
	int		 rc;

	if ((rc = session_find(c, &v, tok)) == 0)
		(void)req_error(c->r, 401, NULL, "unauthorized", "Nobody is "
		    "signed in.");
	if (rc != 1 || !csrf_passes(c, tok))
		goto done;
	if (db_session_revoke(c->db, v.id, (int64_t)time(NULL)) == -1) {
		api_db_trouble(c, "Signing out failed; try again.");
		goto done;
	}
	if (set_cookie(c, NULL, hdr, sizeof(hdr)) == -1)
		hdr[0] = '\0';
	log_info("api: %s signed out", v.name);
	(void)req_reply(c->r, 204, "application/json", hdr, NULL, 0);
done:
	explicit_bzero(tok, sizeof(tok));
}

/* --- Users ----------------------------------------------------------- */

/* Turns a row's numbers (JSON array text) and flags into JSON values. */
static void
row_fix(json_t *row)
{
	const char	*n = json_string_value(json_object_get(row, "numbers"));
	json_t		*a;
	const char	*k;

	if (n != NULL && (a = json_loads(n, 0, NULL)) != NULL)
		(void)json_object_set_new(row, "numbers", a);
	k = json_object_get(row, "disabled") != NULL ? "disabled" :
	    "read_only";
	if (json_is_integer(json_object_get(row, k)))
		(void)json_object_set_new(row, k, json_boolean(
		    json_integer_value(json_object_get(row, k)) != 0));
}

/* The users' rows as the caller may see them; NULL with the answer sent. */
static json_t *
user_rows(struct call *c, int64_t only)
{
	static const char *const admin_only[] = { "email", "numbers",
	    "disabled_at", "last_login_at", "created_at", NULL };
	json_t		*rows, *row, *out;
	size_t		 i, k;

	if ((rows = json_array()) == NULL || (out = json_array()) == NULL) {
		json_decref(rows);
		(void)req_error(c->r, 503, NULL, "unavailable", "Out of memory.");
		return NULL;
	}
	if (db_user_list(c->db, api_on_row, rows) == -1) {
		json_decref(rows);
		json_decref(out);
		api_db_trouble(c, "The users could not be read; try again.");
		return NULL;
	}
	json_array_foreach(rows, i, row) {
		if (only != 0 && json_integer_value(json_object_get(row,
		    "id")) != only)
			continue;
		row_fix(row);
		if (json_is_null(json_object_get(row, "display_name")))
			(void)json_object_set(row, "display_name",
			    json_object_get(row, "name"));
		/* Agents see whom to assign to; the rest is the admins'
		 * (and numbers only theirs who see every number). */
		if (c->keyset != NULL)
			(void)json_object_del(row, "numbers");
		if (c->role < API_ADMIN)
			for (k = 0; admin_only[k] != NULL; k++)
				(void)json_object_del(row, admin_only[k]);
		(void)json_array_append(out, row);
	}
	json_decref(rows);
	return out;
}

/*
 * GET /users: every user, {"data": [{id, name, display_name, role,
 * disabled}]}; admins (and API keys) also get email, numbers (the
 * phone_number_ids the user is limited to, [] every one), disabled_at,
 * last_login_at, created_at.  200; 503.
 */
static void
users_list(struct call *c)
{
	json_t *rows;

	if ((rows = user_rows(c, 0)) != NULL)
		api_reply_json(c, 200, json_pack("{s:o}", "data", rows));
}

/*
 * The numbers= member of a body (a JSON array of phone_number_ids,
 * labels or display numbers the caller may see) into pnids (at most
 * NUMBERS_MAX, borrowed from c->known); [] or absent: every number.
 * *n the count.  0, or -1 with the 422 sent.
 */
static int
body_numbers(struct call *c, const struct param_val *v, const char **pnids,
    size_t *n)
{
	json_t	*x;
	size_t	 i;

	*n = 0;
	if (v->set && !json_is_array(v->j)) {
		api_fail_field(c, 422, "invalid", "numbers", "numbers is a list "
		    "of phone_number_ids or labels; [] means every number.");
		return -1;
	}
	if (v->set && json_array_size(v->j) > NUMBERS_MAX) {
		api_fail_field(c, 422, "invalid", "numbers", "Give at most 64 "
		    "numbers.");
		return -1;
	}
	if (v->set)
		json_array_foreach(v->j, i, x) {
			if (!json_is_string(x) || (pnids[*n] =
			    api_scope_resolve(c, json_string_value(x))) ==
			    NULL) {
				api_fail_field(c, 422, "unknown_number",
				    "numbers", "Each number must be the "
				    "phone_number_id, label or display number "
				    "of a number you may see.");
				return -1;
			}
			(*n)++;
		}
	return 0;
}

/* One user's row (as GET /users shows it to the caller) with status. */
static void
user_reply(struct call *c, int status, int64_t id, const char *password)
{
	json_t *rows = user_rows(c, id), *row;

	if (rows == NULL)
		return;
	if ((row = json_array_get(rows, 0)) == NULL) {
		json_decref(rows);
		(void)req_error(c->r, 404, NULL, "not_found", "No such user.");
		return;
	}
	json_incref(row);
	json_decref(rows);
	if (password != NULL)
		(void)json_object_set_new(row, "password",
		    json_string(password));
	api_reply_json(c, status, row);
}

/*
 * 1 when the caller sees every number; else 0 with 403 forbidden_scope
 * sent.  Only such an admin manages people and keys: one limited to
 * some numbers could otherwise make a key, or set the password of a
 * person, that sees them all.
 */
static int
unlimited(struct call *c)
{
	if (c->keyset == NULL)
		return 1;
	(void)req_error(c->r, 403, NULL, "forbidden_scope", "Only an admin "
	    "who sees every number may manage people and API keys.");
	return 0;
}

/* A 422 invalid for field with message. */
static void
invalid(struct call *c, const char *field, const char *message)
{
	api_fail_field(c, 422, "invalid", field, message);
}

/*
 * 1 when a body's display_name and email (NULL: none given) are valid,
 * as POST and PATCH /users take them; else 0 with the 422 sent.
 */
static int
profile_ok(struct call *c, const char *display_name, const char *email)
{
	if (display_name != NULL && !pw_display_ok(display_name)) {
		invalid(c, "display_name", "display_name is 1 to 128 "
		    "characters without control characters.");
		return 0;
	}
	if (email != NULL && !pw_email_ok(email)) {
		invalid(c, "email", "email must look like name@example.com.");
		return 0;
	}
	return 1;
}

/*
 * POST /users {name, role, display_name?, email?, password?, numbers?}:
 * 201 with the user, and "password" (shown once) when none was given
 * and one was generated.  409 name_taken; 422 invalid, unknown_field,
 * unknown_number, numbers_required; 403 forbidden_role; 503.
 */
static void
user_post(struct call *c)
{
	struct user_f	*f = (struct user_f *)(void *)&c->b;
	struct db_user	 u;
	const char	*pnids[NUMBERS_MAX];
	json_t		*o;
	char		 pw[PW_TOKEN_LEN + 1];
	size_t		 n;
	int64_t		 id;

	if (!unlimited(c))
		return;

	pw[0] = '\0';
	memset(&u, 0, sizeof(u));
	if ((o = api_body_params(c, USERS_BODY_MAX, "A user has name, role, "
	    "display_name, email, password and numbers.")) == NULL)
		return;
	if (!f->name.set || !pw_name_ok(f->name.s)) {
		invalid(c, "name", "name is 1 to 64 of a-z, 0-9, '.', '_' and "
		    "'-'.");
		goto done;
	}
	if (!f->role.set || f->role.s == NULL) {
		invalid(c, "role", "role is admin, agent or viewer.");
		goto done;
	}
	if (!profile_ok(c, f->display_name.s, f->email.s))
		goto done;
	if (body_numbers(c, &f->numbers, pnids, &n) == -1)
		goto done;
	if (!f->password.set && pw_random(GEN_BYTES, pw, sizeof(pw)) == -1) {
		(void)req_error(c->r, 503, NULL, "unavailable", "No password "
		    "could be made; try again.");
		goto done;
	}
	(void)strlcpy(u.name, f->name.s, sizeof(u.name));
	(void)strlcpy(u.role, f->role.s, sizeof(u.role));
	(void)strlcpy(u.display_name, f->display_name.s ? f->display_name.s :
	    "", sizeof(u.display_name));
	(void)strlcpy(u.email, f->email.s ? f->email.s : "", sizeof(u.email));
	if (pw_hash(f->password.set ? f->password.s : pw, f->password.set ?
	    f->password.len : strlen(pw), pw_cost(), u.hash,
	    sizeof(u.hash)) == -1) {
		(void)req_error(c->r, 503, NULL, "unavailable", "The password "
		    "could not be hashed; try again.");
		goto done;
	}
	switch (db_user_create(c->db, &u, (int64_t)time(NULL), pnids, n,
	    &id)) {
	case DB_USER_OK:
		log_info("api: user %s (%s) added by %s", u.name, u.role,
		    api_actor(c));
		user_reply(c, 201, id, pw[0] ? pw : NULL);
		break;
	case DB_USER_DUP:
		api_fail_field(c, 409, "name_taken", "name", "A user with this "
		    "name exists already.");
		break;
	default:
		api_db_trouble(c, "The user could not be stored; try again.");
		break;
	}
done:
	explicit_bzero(pw, sizeof(pw));
	explicit_bzero(u.hash, sizeof(u.hash));
	json_decref(o);
}

/* 409 last_admin. */
static void
last_admin(struct call *c)
{
	(void)req_error(c->r, 409, NULL, "last_admin", "This is the last admin "
	    "who can sign in: make another admin first.");
}

/*
 * PATCH /users/{id} {role?, display_name?, email?, password?, numbers?,
 * disabled?}: 200 with the user.  A new password, role or disabled:true
 * ends the user's sessions.  404 not_found; 409 last_admin (demoting or
 * disabling the last admin who can sign in); 422; 403; 503.
 */
static void
user_patch(struct call *c)
{
	struct user_patch_f	*f = (struct user_patch_f *)(void *)&c->b;
	struct db_user_patch	 p;
	const char		*pnids[NUMBERS_MAX];
	char			 hash[PW_HASH_MAX];
	json_t			*o;
	size_t			 n;

	if (!unlimited(c))
		return;

	hash[0] = '\0';
	if ((o = api_body_params(c, USERS_BODY_MAX, "Only role, display_name, "
	    "email, password, numbers and disabled can be changed.")) == NULL)
		return;
	memset(&p, 0, sizeof(p));
	p.disable = f->disabled.set ? (int)f->disabled.i : -1;
	if (f->role.set && f->role.s == NULL) {
		invalid(c, "role", "role is admin, agent or viewer.");
		goto done;
	}
	p.role = f->role.s;
	if (!profile_ok(c, f->display_name.s, f->email.s))
		goto done;
	p.set_display = f->display_name.set;
	p.display_name = f->display_name.s;
	p.set_email = f->email.set;
	p.email = f->email.s;
	if (f->password.set && f->password.s == NULL) {
		invalid(c, "password", "password is at least 10 characters.");
		goto done;
	}
	if (body_numbers(c, &f->numbers, pnids, &n) == -1)
		goto done;
	p.set_numbers = f->numbers.set;
	p.pnids = pnids;
	p.npnids = n;
	if (f->password.set) {
		if (pw_hash(f->password.s, f->password.len, pw_cost(), hash,
		    sizeof(hash)) == -1) {
			(void)req_error(c->r, 503, NULL, "unavailable", "The "
			    "password could not be hashed; try again.");
			goto done;
		}
		p.hash = hash;
	}
	switch (db_user_update(c->db, c->id, &p, (int64_t)time(NULL))) {
	case DB_USER_OK:
		log_info("api: user %lld changed by %s", (long long)c->id,
		    api_actor(c));
		user_reply(c, 200, c->id, NULL);
		break;
	case DB_USER_NONE:
		(void)req_error(c->r, 404, NULL, "not_found", "No such user.");
		break;
	case DB_USER_LAST_ADMIN:
		last_admin(c);
		break;
	default:
		api_db_trouble(c, "The user could not be changed; try again.");
		break;
	}
done:
	explicit_bzero(hash, sizeof(hash));
	json_decref(o);
}

/*
 * DELETE /users/{id}: 204; the user's sessions end with the row, their
 * notes and activity keep the name.  404 not_found; 409 last_admin; 403;
 * 503.
 */
static void
user_delete(struct call *c)
{
	if (!unlimited(c))
		return;
	switch (db_user_remove(c->db, c->id)) {
	case DB_USER_OK:
		log_info("api: user %lld removed by %s", (long long)c->id,
		    api_actor(c));
		(void)req_reply(c->r, 204, "application/json", NULL, NULL, 0);
		break;
	case DB_USER_NONE:
		(void)req_error(c->r, 404, NULL, "not_found", "No such user.");
		break;
	case DB_USER_LAST_ADMIN:
		last_admin(c);
		break;
	default:
		api_db_trouble(c, "The user could not be removed; try again.");
		break;
	}
}

/* --- API keys -------------------------------------------------------- */

/* Key rows (id 0: all), with JSON numbers and read_only; NULL answered. */
static json_t *
key_rows(struct call *c, int64_t id)
{
	json_t	*rows = json_array(), *row;
	size_t	 i;

	if (rows == NULL) {
		(void)req_error(c->r, 503, NULL, "unavailable", "Out of memory.");
		return NULL;
	}
	if (db_apikey_rows(c->db, id, api_on_row, rows) == -1) {
		json_decref(rows);
		api_db_trouble(c, "The API keys could not be read; try again.");
		return NULL;
	}
	json_array_foreach(rows, i, row)
		row_fix(row);
	return rows;
}

/*
 * GET /api-keys: {"data": [{id, name, prefix (the key's first 8
 * characters), read_only, created_at, last_used_at, revoked_at, numbers
 * ([] every number)}]}.  Never a key or its digest.  Only for callers
 * who see every number (403 forbidden_scope), as keys may name any.
 * 200; 403; 503.
 */
static void
keys_list(struct call *c)
{
	json_t *rows;

	if (!unlimited(c))
		return;
	if ((rows = key_rows(c, 0)) != NULL)
		api_reply_json(c, 200, json_pack("{s:o}", "data", rows));
}

/* cb of db_apikey_rows(): the id of the row named arg's name. */
struct key_find {
	const char	*name;
	int64_t		 id;
};

static void
on_key_row(void *arg, int nc, const char *const *names,
    const struct db_val *v)
{
	struct key_find	*k = arg;
	int64_t		 id = 0;
	int		 i, hit = 0;

	for (i = 0; i < nc; i++) {
		if (strcmp(names[i], "id") == 0)
			id = v[i].i;
		if (strcmp(names[i], "name") == 0 && v[i].type == DB_VAL_TEXT &&
		    v[i].len == strlen(k->name) && memcmp(v[i].s, k->name,
		    v[i].len) == 0)
			hit = 1;
	}
	if (hit)
		k->id = id;
}

/*
 * POST /api-keys {name, read_only?, numbers?}: 201 with the key's row
 * and "key", shown only in this answer (only its SHA-256 is kept), as
 * `wactl apikey create` makes it.  409 name_taken; 422; 403; 503.
 */
static void
key_post(struct call *c)
{
	struct key_f	*f = (struct key_f *)(void *)&c->b;
	struct key_find	 kf;
	const char	*pnids[NUMBERS_MAX];
	json_t		*o, *rows = NULL, *row;
	char		 hex[41], key[48], sha[65], prefix[9];
	size_t		 n;
	int		 ro;

	if (!unlimited(c))
		return;

	key[0] = hex[0] = '\0';
	if ((o = api_body_params(c, USERS_BODY_MAX, "A key has name, "
	    "read_only and numbers.")) == NULL)
		return;
	if (!f->name.set || !pw_display_ok(f->name.s)) {
		invalid(c, "name", "name says what the key is for: 1 to 64 "
		    "characters, no control characters.");
		goto done;
	}
	ro = f->read_only.set && f->read_only.i;
	if (body_numbers(c, &f->numbers, pnids, &n) == -1)
		goto done;
	if (sig_random_hex(hex, 20) == -1 ||
	    snprintf(key, sizeof(key), "wa_%s", hex) >= (int)sizeof(key) ||
	    sig_sha256_hex(key, strlen(key), sha) == -1) {
		(void)req_error(c->r, 503, NULL, "unavailable", "No key could "
		    "be made; try again.");
		goto done;
	}
	(void)strlcpy(prefix, key, sizeof(prefix));
	switch (db_apikey_create(c->db, f->name.s, sha, prefix, ro,
	    (int64_t)time(NULL), pnids, n)) {
	case DB_OK:
		break;
	case DB_DUP:
		api_fail_field(c, 409, "name_taken", "name", "A key with this "
		    "name exists already.");
		goto done;
	default:
		api_db_trouble(c, "The key could not be stored; try again.");
		goto done;
	}
	log_info("api: API key %s created by %s", f->name.s, api_actor(c));
	kf.name = f->name.s;
	kf.id = 0;
	if (db_apikey_rows(c->db, 0, on_key_row, &kf) == -1 || kf.id == 0 ||
	    (rows = key_rows(c, kf.id)) == NULL ||
	    (row = json_array_get(rows, 0)) == NULL) {
		if (rows != NULL)
			api_db_trouble(c, "The key was made but could not be "
			    "read back; revoke it by name with wactl.");
		goto done;
	}
	(void)json_object_set_new(row, "key", json_string(key));
	api_reply_json(c, 201, json_incref(row));
done:
	explicit_bzero(key, sizeof(key));
	explicit_bzero(hex, sizeof(hex));
	json_decref(rows);
	json_decref(o);
}

/*
 * DELETE /api-keys/{id}: revokes the key (it is refused from then on;
 * the row stays, with revoked_at).  204; 404 not_found when no live key
 * has that id; 403; 503.
 */
static void
key_delete(struct call *c)
{
	int rc;

	if (!unlimited(c))
		return;

	if ((rc = db_apikey_revoke_id(c->db, c->id, (int64_t)time(NULL))) ==
	    -1) {
		api_db_trouble(c, "The key could not be revoked; try again.");
		return;
	}
	if (rc == 0) {
		(void)req_error(c->r, 404, NULL, "not_found", "No live API key "
		    "has this id.");
		return;
	}
	log_info("api: API key %lld revoked by %s", (long long)c->id,
	    api_actor(c));
	(void)req_reply(c->r, 204, "application/json", NULL, NULL, 0);
}

/* --- Numbers --------------------------------------------------------- */

/* 1 when s is a number's label: 1 to 32 of a-z, 0-9, '_' and '-'. */
static int
label_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= 32 &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

/* 1 when s looks like a display number: digits, '+', spaces, - ( ). */
static int
display_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= 32 && strspn(s, "0123456789+ -()") == n &&
	    strpbrk(s, "0123456789") != NULL;
}

/*
 * PATCH /numbers/{pnid} {label?, display_phone_number?, rate?,
 * active?}: what `wactl numbers edit` and `remove` change (rate 1 to
 * 1000 messages a second; active false removes the number as wactl
 * numbers remove does, true brings it back).  200 with {phone_number_id,
 * label, display_phone_number, send_rate, active}.  404 not_found for a
 * number not configured or not the caller's; 409 label_taken; 422; 403;
 * 503.
 */
static void
number_patch(struct call *c)
{
	struct number_f2 *f = (struct number_f2 *)(void *)&c->b;
	struct db_number num;
	json_t		*o;
	char		 pnid[sizeof(num.pnid)];
	int		 rc;

	if ((o = api_body_params(c, USERS_BODY_MAX, "Only label, "
	    "display_phone_number, rate and active can be changed.")) == NULL)
		return;
	if ((rc = db_number_get(c->db, c->seg, &num)) == -1) {
		api_db_trouble(c, "The number could not be read; try again.");
		goto done;
	}
	if (rc == 0 || strcmp(num.pnid, c->seg) != 0 ||
	    !api_may_see(c, num.pnid)) {
		(void)req_error(c->r, 404, NULL, "not_found", "No such business "
		    "number here.");
		goto done;
	}
	if (f->label.set && !label_ok(f->label.s)) {
		invalid(c, "label", "label is 1 to 32 of a-z, 0-9, '_' and "
		    "'-'.");
		goto done;
	}
	if (f->display_phone_number.set &&
	    !display_ok(f->display_phone_number.s)) {
		invalid(c, "display_phone_number", "display_phone_number is "
		    "the number as people dial it, e.g. +1 555 010 2030.");
		goto done;
	}
	switch (db_number_patch(c->db, num.pnid, f->label.set ? f->label.s :
	    NULL, f->display_phone_number.set ? f->display_phone_number.s :
	    NULL, f->rate.set ? &f->rate.i : NULL, f->active.set ?
	    (int)f->active.i : -1, (int64_t)time(NULL))) {
	case DB_OK:
		break;
	case DB_DUP:
		api_fail_field(c, 409, "label_taken", "label", "Another number "
		    "has this label.");
		goto done;
	default:
		api_db_trouble(c, "The number could not be changed; try again.");
		goto done;
	}
	log_info("api: number %s changed by %s", num.pnid, api_actor(c));
	/* db_number_get() clears num first: the key is copied out. */
	(void)strlcpy(pnid, num.pnid, sizeof(pnid));
	if (db_number_get(c->db, pnid, &num) != 1) {
		api_db_trouble(c, "The number was changed but could not be "
		    "read back.");
		goto done;
	}
	api_reply_json(c, 200, json_pack("{s:s, s:s, s:s?, s:o, s:b}",
	    "phone_number_id", num.pnid, "label", num.label,
	    "display_phone_number", num.display[0] ? num.display : NULL,
	    "send_rate", num.send_rate > 0 ? json_integer(
	    (json_int_t)num.send_rate) : json_null(), "active",
	    num.removed_at == 0));
done:
	json_decref(o);
}
