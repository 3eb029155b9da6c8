/*
 * hookpost.c: the worker's delivery of event webhooks (issue 16).  Each
 * pass of the worker's loop calls hookpost_step(): libcurl's multi
 * interface moves the POSTs in flight without blocking (a small fixed
 * number at once), finished ones are recorded and due ones leased in one
 * short transaction, and the new ones started; between passes the worker
 * waits on their sockets (hookpost_fds()).  A POST carries the event
 * JSON as stored, Content-Type and X-Wa-Signature and nothing else; it
 * never follows a redirect, and without WA_HOOKS_ALLOW_PRIVATE it goes
 * only over https to public addresses, checked for every address at
 * connect time (CURLOPT_OPENSOCKETFUNCTION).
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <bsd/stdlib.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "cfg.h"
#include "clock.h"
#include "db.h"
#include "hookpost.h"
#include "hookrule.h"
#include "log.h"
#include "sig.h"
#include "wa.h"

#define SLOTS		8	/* POSTs in flight at once */
#define LEASE_MS	(HOOKRULE_TIMEOUT_MS + 20000) /* a row held while sent */
#define LOOK_MS		250	/* the longest wait: rows queued from outside */
#define LOOK_ANY_MS	1000	/* due rows looked for at least this often */
#define REPLY_MAX	4096	/* bytes of a reply kept (none are used) */

/* One POST in flight; its easy handle's CURLOPT_PRIVATE. */
struct slot {
	int			 used;
	int			 finished;	/* done, to be recorded */
	int			 permanent;	/* no answer, and never will be */
	long			 http;		/* its status; 0 none came */
	CURL			*e;
	struct curl_slist	*hdrs;
	struct db_delivery	 it;
	int64_t			 at;		/* wall clock at start (ms) */
	int64_t			 mono;		/* monotonic at start (ms) */
	char			 retry_after[64];
	char			 refused[160];	/* the SSRF guard's why */
	char			 err[CURL_ERROR_SIZE];
};

struct hookpost {
	struct db		*db;
	const struct cfg	*cfg;
	CURLM			*multi;
	struct slot		 slots[SLOTS];
	int			 running;	/* slots used */
	int64_t			 last_id;	/* the newest row at the last look */
	int64_t			 next_due;	/* wall ms: a row falls due */
	int64_t			 look_at;	/* monotonic ms: look anyway */
};

struct hookpost *
hookpost_new(struct db *d, const struct cfg *cfg)
{
	struct hookpost	*h;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	h->db = d;
	h->cfg = cfg;
	h->last_id = -1;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (h->multi = curl_multi_init()) == NULL) {
		free(h);
		return NULL;
	}
	/*
	 * We hold the worker's lock: no row is in flight, so every
	 * 'sending' one is left from a worker that died; send it again.
	 */
	if (db_begin(d) != DB_OK)
		goto fail;
	if (db_deliver_requeue(d, DB_NEVER) == -1) {
		db_rollback(d);
		goto fail;
	}
	if (db_commit(d) == -1)
		goto fail;
	return h;
fail:
	hookpost_free(h);
	return NULL;
}

static void
slot_clear(struct hookpost *h, struct slot *sl)
{
	if (sl->e != NULL) {
		(void)curl_multi_remove_handle(h->multi, sl->e);
		curl_easy_cleanup(sl->e);
	}
	curl_slist_free_all(sl->hdrs);
	db_delivery_clear(&sl->it);
	memset(sl, 0, sizeof(*sl));
}

void
hookpost_free(struct hookpost *h)
{
	int	 i;

	if (h == NULL)
		return;
	for (i = 0; i < SLOTS; i++)
		if (h->slots[i].used)
			slot_clear(h, &h->slots[i]);	/* lease runs out */
	if (h->multi != NULL)
		(void)curl_multi_cleanup(h->multi);
	curl_global_cleanup();
	free(h);
}

int
hookpost_busy(const struct hookpost *h)
{
	return h->running;
}

/*
 * The sockets of the POSTs in flight, for the worker's wait (at most max
 * into fds), and *timeout_ms lowered to when libcurl wants to be called
 * again: the worker sleeps until one of them is ready instead of
 * looking every few milliseconds.  Returns how many.
 */
int
hookpost_fds(struct hookpost *h, struct pollfd *fds, int max,
    long *timeout_ms)
{
	if (h->running == 0)
		return 0;
	return wa_multi_fds(h->multi, fds, max, timeout_ms);
}

/*
 * The SSRF guard: every address libcurl is about to connect to, the
 * hook's host or one it resolved to, is classified first; a refused one
 * gets no socket (the attempt fails, "not allowed").
 */
static curl_socket_t
on_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct slot	*sl = arg;
	const char	*why;
	char		 host[INET6_ADDRSTRLEN] = "?";
	const void	*p = NULL;

	(void)purpose;
	if ((why = hookrule_addr_refused(&a->addr, a->addrlen)) != NULL) {
		if (a->family == AF_INET)
			p = &((struct sockaddr_in *)(void *)&a->addr)->sin_addr;
		else if (a->family == AF_INET6)
			p = &((struct sockaddr_in6 *)(void *)&a->addr)->sin6_addr;
		if (p != NULL)
			(void)inet_ntop(a->family, p, host, sizeof(host));
		(void)snprintf(sl->refused, sizeof(sl->refused), "address %s is "
		    "not allowed (%s); WA_HOOKS_ALLOW_PRIVATE=1 allows it",
		    host, why);
		return CURL_SOCKET_BAD;
	}
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

/* Keeps Retry-After; every other header is read and dropped. */
static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct slot	*sl = arg;
	size_t		 len = size * n, k = sizeof("Retry-After:") - 1, v;

	if (len > k && strncasecmp(p, "Retry-After:", k) == 0) {
		v = len - k < sizeof(sl->retry_after) - 1 ? len - k :
		    sizeof(sl->retry_after) - 1;
		memcpy(sl->retry_after, p + k, v);
		sl->retry_after[v] = '\0';
	}
	return len;
}

/* The reply's body is not used: read up to REPLY_MAX, then stop. */
static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

/*
 * Starts the POST of sl->it: signs it with the hook's secret (or the
 * worker's setting it names).  0, or -1 with why in sl->err (the caller
 * records it as a failed attempt).
 */
static int
slot_start(struct hookpost *h, struct slot *sl)
{
	const char	*secret, *protos;
	char		 hex[65], line[128], *msg = NULL;
	size_t		 len;
	int64_t		 t = sl->at / 1000;
	struct curl_slist *l;
	CURL		*e;

	secret = sl->it.secret;
	if (secret == NULL && sl->it.secret_env != NULL)
		secret = cfg_token(h->cfg, sl->it.secret_env);
	if (secret == NULL) {
		(void)snprintf(sl->err, sizeof(sl->err), "no signing secret: "
		    "%s is not set in the worker's environment",
		    sl->it.secret_env != NULL ? sl->it.secret_env : "secret");
		return -1;
	}
	if ((msg = hookrule_signed(t, sl->it.body, &len)) == NULL ||
	    sig_hmac_hex(secret, msg, len, hex) == -1 ||
	    hookrule_header(line, sizeof(line), t, hex) == -1)
		goto oom;
	free(msg);
	msg = NULL;
	/* Only these two; "Accept:" and "Expect:" drop libcurl's own. */
	if ((l = curl_slist_append(NULL, "Content-Type: application/json"))
	    == NULL)
		goto oom;
	sl->hdrs = l;
	if ((l = curl_slist_append(l, line)) == NULL ||
	    (l = curl_slist_append(l, "Accept:")) == NULL ||
	    (l = curl_slist_append(l, "Expect:")) == NULL)
		goto oom;
	if ((e = sl->e = curl_easy_init()) == NULL)
		goto oom;
	protos = h->cfg->hooks_allow_private ? "http,https" : "https";
	if (curl_easy_setopt(e, CURLOPT_PRIVATE, sl) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_URL, sl->it.url) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, protos) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_PROXY, "") != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)HOOKRULE_TIMEOUT_MS)
	    != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_HTTPHEADER, sl->hdrs) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_POSTFIELDS, sl->it.body) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)strlen(sl->it.body)) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header) !=
	    CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_HEADERDATA, sl) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)REPLY_MAX) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, sl->err) != CURLE_OK ||
	    (!h->cfg->hooks_allow_private && (curl_easy_setopt(e,
	    CURLOPT_OPENSOCKETFUNCTION, on_socket) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, sl) != CURLE_OK))) {
		(void)snprintf(sl->err, sizeof(sl->err), "libcurl refused an "
		    "option");
		return -1;
	}
	sl->err[0] = '\0';
	if (curl_multi_add_handle(h->multi, e) != CURLM_OK) {
		(void)snprintf(sl->err, sizeof(sl->err), "libcurl could not "
		    "start the request");
		return -1;
	}
	return 0;
oom:
	free(msg);
	(void)snprintf(sl->err, sizeof(sl->err), "out of memory");
	return -1;
}

/*
 * Records the attempt of sl (http 0: none came, with why in sl->err):
 * delivered, retried after a backoff (or Retry-After) within 24 h of the
 * event, or failed; the hook disabled when failing for 24 h.
 */
static int
slot_record(struct hookpost *h, struct slot *sl, long http, int64_t now)
{
	struct db_deliver_outcome	 r;
	enum hookrule_verdict		 v = sl->permanent ? HOOKRULE_FAIL :
					    hookrule_verdict(http);
	char				 why[512], reason[640];
	int64_t				 ra;
	int				 rc;

	memset(&r, 0, sizeof(r));
	r.id = sl->it.id;
	r.hook_id = sl->it.hook_id;
	r.at = sl->at;
	r.duration_ms = clock_mono_ms() - sl->mono;
	r.http = http;
	why[0] = '\0';
	if (http == 0)
		(void)snprintf(why, sizeof(why), "%s", sl->refused[0] ?
		    sl->refused : sl->err[0] ? sl->err : "no answer");
	else if (http >= 300 && http <= 399)
		(void)snprintf(why, sizeof(why), "HTTP %ld: a redirect, not "
		    "followed", http);
	else if (v != HOOKRULE_DELIVERED)
		(void)snprintf(why, sizeof(why), "HTTP %ld", http);
	r.error = why[0] ? why : NULL;
	r.state = v == HOOKRULE_DELIVERED ? "delivered" : "failed";
	if (v == HOOKRULE_RETRY && now < sl->it.created_at +
	    HOOKRULE_GIVE_UP_MS) {
		r.state = "queued";
		r.next_at = now + hookrule_backoff_ms(sl->it.attempts + 1,
		    arc4random());
		if ((http == 429 || http == 503) && (ra =
		    hookrule_retry_after(sl->retry_after[0] ? sl->retry_after :
		    NULL, now / 1000)) >= 0)
			r.next_at = now + ra * 1000;
	} else if (v == HOOKRULE_RETRY)
		(void)snprintf(why + strlen(why), sizeof(why) - strlen(why),
		    "; given up 24 h after the event");
	r.disable_before = now - HOOKRULE_DISABLE_MS;
	(void)snprintf(reason, sizeof(reason), "failing for 24 h; the last "
	    "error: %s", why);
	r.disable_reason = reason;
	if ((rc = db_deliver_record(h->db, &r)) == 1)
		log_warnx("hook %lld disabled: failing for 24 h",
		    (long long)r.hook_id);
	return rc == -1 ? -1 : 0;
}

/*
 * Whether this pass takes the write lock: a POST finished, a row was
 * queued since the last look, one fell due, or (every LOOK_ANY_MS) some
 * row is due at all (a redelivery, a hook turned on again).  Otherwise a
 * pass costs a read or two, and rows due but held back (behind one in
 * flight, a paused hook) do not take the lock on every pass.
 */
static int
must_look(struct hookpost *h, int64_t now, int lease)
{
	int64_t	 mono = clock_mono_ms();
	int	 i;

	for (i = 0; i < SLOTS; i++)
		if (h->slots[i].finished)
			return 1;
	if (!lease)
		return 0;
	if (db_deliver_last(h->db) != h->last_id || now >= h->next_due)
		return 1;
	if (mono < h->look_at)
		return 0;
	h->look_at = mono + LOOK_ANY_MS;
	return db_deliver_any(h->db, now) != 0;
}

/*
 * Records the finished POSTs and leases due rows into the free slots, in
 * one transaction, then starts them.  -1 when the transaction failed:
 * the finished ones are recorded on the next pass, the leases undone.
 */
static int
record_and_lease(struct hookpost *h, int lease)
{
	struct db_delivery	 due[SLOTS];
	struct slot		*sl;
	int64_t			 now = clock_now_ms();
	int			 i, j, n = 0, nfree = 0, r;

	if (!must_look(h, now, lease))
		return 0;
	if (db_begin(h->db) != DB_OK)
		return -1;
	if ((h->last_id = db_deliver_last(h->db)) == -1)
		goto fail;
	for (i = 0; i < SLOTS; i++) {
		sl = &h->slots[i];
		if (!sl->used || sl->finished)
			nfree++;
		if (sl->used && sl->finished &&
		    slot_record(h, sl, sl->http, now) == -1)
			goto fail;
	}
	if (db_deliver_requeue(h->db, now) == -1 || (lease &&
	    (n = db_deliver_due(h->db, now, due, nfree)) == -1)) {
		n = 0;
		goto fail;
	}
	for (i = 0; i < n; i++)
		if ((r = db_deliver_claim(h->db, due[i].id, now + LEASE_MS)) ==
		    -1)
			goto fail;
		else if (r == 0)
			db_delivery_clear(&due[i]);	/* id 0: skipped */
	if ((h->next_due = db_deliver_next_due(h->db, now)) == -1)
		h->next_due = now;
	if (db_commit(h->db) == -1) {
		h->last_id = -1;	/* db_commit rolled back */
		goto fail_committed;
	}
	for (i = 0; i < SLOTS; i++)
		if (h->slots[i].used && h->slots[i].finished) {
			slot_clear(h, &h->slots[i]);
			h->running--;
		}
	for (i = 0, j = 0; i < n; i++) {
		if (due[i].id == 0)
			continue;
		while (h->slots[j].used)
			j++;
		sl = &h->slots[j];
		sl->used = 1;
		sl->it = due[i];
		sl->at = now;
		sl->mono = clock_mono_ms();
		h->running++;
		if (slot_start(h, sl) == -1) {
			/* Recorded as a failed attempt on the next pass. */
			sl->finished = 1;
			sl->http = 0;
		}
	}
	return 0;
fail:
	db_rollback(h->db);
	h->last_id = -1;	/* look again next pass */
fail_committed:
	for (i = 0; i < n; i++)
		db_delivery_clear(&due[i]);
	return -1;
}

/*
 * Moves the POSTs in flight, then records the finished ones and starts
 * due ones (none when lease is 0: stopping); a pass with nothing to do
 * costs one read.  Returns how long the worker may wait before the next
 * pass (ms).
 */
long
hookpost_step(struct hookpost *h, int lease)
{
	struct slot	*sl;
	CURLMsg		*m;
	int64_t		 now, next;
	long		 code;
	int		 left, still;

	if (h->running > 0) {
		(void)curl_multi_perform(h->multi, &still);
		while ((m = curl_multi_info_read(h->multi, &left)) != NULL) {
			if (m->msg != CURLMSG_DONE ||
			    curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE,
			    (char **)(void *)&sl) != CURLE_OK)
				continue;
			code = 0;
			if (m->data.result == CURLE_OK ||
			    m->data.result == CURLE_FILESIZE_EXCEEDED)
				(void)curl_easy_getinfo(m->easy_handle,
				    CURLINFO_RESPONSE_CODE, &code);
			else if (m->data.result == CURLE_UNSUPPORTED_PROTOCOL ||
			    m->data.result == CURLE_URL_MALFORMAT) {
				/* Will never work as it is: failed at once. */
				sl->permanent = 1;
				(void)snprintf(sl->err, sizeof(sl->err), "the URL "
				    "is not allowed: event webhooks use https:// "
				    "(WA_HOOKS_ALLOW_PRIVATE=1 allows http://)");
			} else if (m->data.result == CURLE_OPERATION_TIMEDOUT)
				(void)snprintf(sl->err, sizeof(sl->err), "timed "
				    "out: no answer within %d s",
				    HOOKRULE_TIMEOUT_MS / 1000);
			else if (sl->err[0] == '\0')
				(void)snprintf(sl->err, sizeof(sl->err), "%s",
				    curl_easy_strerror(m->data.result));
			sl->http = code;
			sl->finished = 1;
		}
	}
	if (record_and_lease(h, lease) == -1) {
		log_warnx("event webhooks: the database is busy; trying again");
		return 100;
	}
	if (h->running > 0) {
		/*
		 * The new ones connect and send now, not a pass later; then
		 * the worker waits on their sockets (hookpost_fds()).
		 */
		(void)curl_multi_perform(h->multi, &still);
		return LOOK_MS;
	}
	now = clock_now_ms();
	if ((next = db_deliver_next_due(h->db, now)) == -1 || next == DB_NEVER)
		return LOOK_MS;
	return next - now < LOOK_MS ? (long)(next - now) : LOOK_MS;
}
