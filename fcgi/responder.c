/*
 * responder.c: wa-fcgi, one of the spawn-fcgi pool behind nginx.  Answers
 * Meta's webhook handshake, appends signed webhook bodies to the journal
 * and acknowledges them only after COMMIT (DESIGN rule 1), and serves
 * /health.  Stateless between requests; never talks to the network beyond
 * its FastCGI socket (and the worker's wake-up socket).  Two pools run it:
 * `-r webhook` behind the webhook location, `-r api` behind the management
 * API's (issue 10, item 13), so a slow API request never delays the
 * acknowledgement of a webhook; without -r one pool serves everything.
 */
#include <sys/prctl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "buf.h"
#include "cfg.h"
#include "clock.h"
#include "counters.h"
#include "db.h"
#include "log.h"
#include "notify.h"
#include "proc.h"
#include "req.h"
#include "sig.h"

#define PREFIX		"/api/whatsapp"
#define WEBHOOK_MAX	(4u * 1024 * 1024)	/* Meta: up to 3 MB (ref. 3) */
#define CHALLENGE_MAX	1024
#define HOLD_MAX	32	/* webhooks stored by one transaction, at most */

/* Which routes this pool answers (-r). */
enum role {
	ROLE_ALL,	/* no -r: everything */
	ROLE_WEBHOOK,	/* /webhook and /health */
	ROLE_API,	/* the management API and /health */
	ROLE__MAX
};

/*
 * Why a webhook POST was refused before it was stored: the reason word
 * of its event=webhook_refused line is the code of the JSON error the
 * request was answered with.
 */
enum refusal {
	REF_CTYPE,		/* 415 */
	REF_LENGTH,		/* 411 */
	REF_TOO_LARGE,		/* 413 */
	REF_SHORT,		/* 400 */
	REF_SIGNATURE,		/* 403 */
	REF__MAX
};

static const char *const refusal_names[REF__MAX] = {
	"unsupported_media_type",	/* REF_CTYPE */
	"length_required",		/* REF_LENGTH */
	"payload_too_large",		/* REF_TOO_LARGE */
	"short_body",			/* REF_SHORT */
	"bad_signature",		/* REF_SIGNATURE */
};

/* A request in hand: a webhook waits here for its COMMIT. */
struct held {
	struct req	 r;
	int64_t		 t0_us;	/* when it was taken, for the ack latency */
};

struct ctx {
	struct cfg	 cfg;
	struct db	*db;
	int		 wake;	/* datagram socket to the worker */
	time_t		 started;
	enum role	 role;
	time_t		 refused_at[REF__MAX]; /* when each was last logged */
	unsigned long	 refused[REF__MAX]; /* refusals since then, unlogged */
	struct held	 held[HOLD_MAX];
};

/*
 * GET /webhook: Meta's verification handshake (reference section 1).
 * 200 with the challenge as text/plain; 403 when mode or token is wrong;
 * 400 when the query string is malformed.
 */
static void
webhook_verify(struct ctx *c, struct req *r)
{
	struct buf	 mode, token, challenge;
	int		 rm, rt, rc;

	buf_init(&mode);
	buf_init(&token);
	buf_init(&challenge);
	rm = req_query(r->query, "hub.mode", &mode);
	rt = req_query(r->query, "hub.verify_token", &token);
	rc = req_query(r->query, "hub.challenge", &challenge);
	if (rm < 0 || rt < 0 || rc < 0)
		(void)req_error(r, 400, NULL, "bad_query",
		    "The query string is not valid URL encoding.");
	else if (rm == 0 || strcmp(mode.p, "subscribe") != 0 || rt == 0 ||
	    !sig_streq(token.p, token.len, c->cfg.verify_token,
	    strlen(c->cfg.verify_token))) {
		log_warnx("webhook verification refused: %s", rm == 0 ||
		    rt == 0 ? "hub.mode or hub.verify_token missing" :
		    "wrong hub.mode or hub.verify_token");
		(void)req_error(r, 403, NULL, "verification_failed",
		    "hub.mode must be subscribe and hub.verify_token must "
		    "match WHATSAPP_VERIFY_TOKEN.");
	} else if (rc == 0 || challenge.len == 0 ||
	    challenge.len > CHALLENGE_MAX) {
		(void)req_error(r, 400, NULL, "bad_challenge",
		    "hub.challenge is missing or longer than 1024 bytes.");
	} else {
		log_info("webhook verified by Meta's handshake");
		(void)req_reply(r, 200, "text/plain", NULL, challenge.p,
		    challenge.len);
	}
	if (token.p != NULL)
		explicit_bzero(token.p, token.len);
	buf_clear(&mode);
	buf_clear(&token);
	buf_clear(&challenge);
}

static int
is_json(const char *ctype)
{
	static const char	 want[] = "application/json";
	size_t			 n = sizeof(want) - 1;

	if (ctype == NULL || strncasecmp(ctype, want, n) != 0)
		return 0;
	return ctype[n] == '\0' || ctype[n] == ';' || ctype[n] == ' ';
}

/*
 * Logs a refused webhook POST as one event line (log_event()):
 *   event=webhook_refused reason=WHY [signature=missing|malformed|mismatch]
 *   bytes=N from=ADDR count=N
 * Never the body (reference 2.1 item 7), and for each reason at most one
 * line a second, whose count says how many such refusals it stands for
 * (itself and those since the last line), so a flood of forged posts
 * cannot fill the disk; /metrics counts every bad signature.
 */
static void
refused(struct ctx *c, struct req *r, enum refusal why, const char *sig)
{
	const char	*addr = req_param(r, "REMOTE_ADDR");
	const char	*len = req_param(r, "CONTENT_LENGTH");
	char		 a[64], l[32];
	time_t		 now = time(NULL);

	c->refused[why]++;
	if (now == c->refused_at[why])
		return;
	c->refused_at[why] = now;
	/* nginx sets both; escaped all the same, they come from outside. */
	(void)log_escape(a, sizeof(a), addr ? addr : "-", addr ?
	    strlen(addr) : 1);
	(void)log_escape(l, sizeof(l), len ? len : "-", len ? strlen(len) : 1);
	log_event("webhook_refused", "reason=%s%s%s bytes=%s from=%s "
	    "count=%lu", refusal_names[why], sig ? " signature=" : "",
	    sig ? sig : "", l, a, c->refused[why]);
	c->refused[why] = 0;
}

/*
 * POST /webhook: 415 wrong content type, 411 no length, 413 too large,
 * 400 short body, 403 bad or missing signature (nothing stored; each
 * logged by refused()).  A body that passes is held, unanswered:
 * webhook_store() commits it and answers.  Returns 1 when held, 0 when
 * answered.
 */
static int
webhook_receive(struct ctx *c, struct req *r)
{
	enum sig_result	 sr;

	if (!is_json(req_param(r, "CONTENT_TYPE"))) {
		refused(c, r, REF_CTYPE, NULL);
		(void)req_error(r, 415, NULL, "unsupported_media_type",
		    "Webhook bodies must be sent as application/json.");
		return 0;
	}
	switch (req_body(r, WEBHOOK_MAX)) {
	case REQ_BODY_OK:
		break;
	case REQ_BODY_NO_LENGTH:
		refused(c, r, REF_LENGTH, NULL);
		(void)req_error(r, 411, NULL, "length_required",
		    "A Content-Length header is required.");
		return 0;
	case REQ_BODY_TOO_LARGE:
		refused(c, r, REF_TOO_LARGE, NULL);
		(void)req_error(r, 413, NULL, "payload_too_large",
		    "Webhook bodies are limited to 4 MiB.");
		return 0;
	case REQ_BODY_SHORT:
		refused(c, r, REF_SHORT, NULL);
		(void)req_error(r, 400, NULL, "short_body",
		    "The body was shorter than its Content-Length.");
		return 0;
	default:
		(void)req_error(r, 503, "Retry-After: 5\r\n", "unavailable",
		    "The gateway is out of memory; try again.");
		return 0;
	}
	sr = sig_verify(c->cfg.app_secret, req_param(r,
	    "HTTP_X_HUB_SIGNATURE_256"), r->body.p, r->body.len);
	if (sr != SIG_OK) {
		refused(c, r, REF_SIGNATURE, sig_result_names[sr]);
		counters_add(CNT_SIG_REFUSED, 1);
		(void)req_error(r, 403, NULL, "bad_signature",
		    "X-Hub-Signature-256 is missing or does not match the body "
		    "signed with WHATSAPP_APP_SECRET.");
		return 0;
	}
	return 1;
}

/*
 * Appends the n held webhooks to the journal in one transaction and
 * answers each: 200 with its journal id only after COMMIT (DESIGN rule
 * 1), else 503 with Retry-After for all of them (nothing was stored).
 */
static void
webhook_store(struct ctx *c, struct held *h, size_t n)
{
	struct db_event	 ev[HOLD_MAX];
	enum db_rc	 rc;
	char		 out[64];
	size_t		 i;

	for (i = 0; i < n; i++) {
		ev[i].body = h[i].r.body.p;
		ev[i].len = h[i].r.body.len;
	}
	if ((rc = db_event_insert(c->db, ev, n, clock_now_ms())) != DB_OK) {
		log_warnx("%zu webhook%s not stored (%s), answered 503", n,
		    n == 1 ? "" : "s",
		    rc == DB_BUSY ? "database busy" : "database error");
		counters_add(CNT_STORE_FAILED, n);
		for (i = 0; i < n; i++)
			(void)req_error(&h[i].r, 503, "Retry-After: 2\r\n",
			    "unavailable", "The webhook could not be stored; "
			    "Meta will deliver it again.");
		return;
	}
	counters_add(CNT_JOURNAL_COMMITS, 1);
	notify_send(c->wake, c->cfg.wake_path);
	for (i = 0; i < n; i++) {
		(void)snprintf(out, sizeof(out), "{\"stored\":%lld}\n",
		    (long long)ev[i].id);
		(void)req_reply(&h[i].r, 200, "application/json", NULL, out,
		    strlen(out));
		counters_ack((uint64_t)(clock_mono_us() - h[i].t0_us));
	}
}

struct paused {
	struct buf	*b;
	int		 n;	/* numbers listed so far */
	int		 err;	/* out of memory */
};

/*
 * Adds one paused number to the /health JSON (arg is a struct paused):
 * why and until when, not which number (that is on /status, behind a key).
 */
static void
health_paused(void *arg, const char *pnid, const char *reason, int64_t code,
    int64_t paused_at, int64_t resume_at)
{
	struct paused *p = arg;

	(void)pnid;
	/* reason is a fixed word: no escaping needed. */
	if (buf_printf(p->b, "%s{\"reason\":\"%s\",\"code\":%lld,\"since\":"
	    "%lld,\"resume_at\":", p->n++ ? "," : "", reason ? reason : "",
	    (long long)code, (long long)paused_at) == -1 ||
	    (resume_at > 0 ? buf_printf(p->b, "%lld}", (long long)resume_at) :
	    buf_puts(p->b, "null}")) == -1)
		p->err = 1;
}

#define HEARTBEAT_LATE	30	/* s: a worker this quiet is not running */

/*
 * GET /health, public: ok or degraded and why (reasons: database_error,
 * worker_not_running, sending_paused, media_disk_low, number_quality,
 * number_restricted, unknown_number), the journal backlog, the outbox,
 * why and until when sending is paused, whether media downloads wait for
 * disk space (WA_MEDIA_MIN_FREE_MB), and which numbers (by label, or id
 * when unconfigured) are YELLOW/RED, restricted or unknown.  No process
 * ids, no display phone numbers: those are on /status, behind a key.
 * 200, or 503 when the database fails.
 */
static void
health(struct ctx *c, struct req *r)
{
	struct db_health h;
	struct buf	 b, paused, nums;
	struct paused	 p = { &paused, 0, 0 };
	const char	*why[8];
	time_t		 now = time(NULL);
	int		 ok, err, nwhy = 0, i, low = cfg_media_disk_low(&c->cfg);

	memset(&h, 0, sizeof(h));
	buf_init(&b);
	buf_init(&paused);
	buf_init(&nums);
	ok = db_health_get(c->db, &h) == 0 &&
	    db_sender_list(c->db, health_paused, &p) == 0;
	if (!ok)
		why[nwhy++] = "database_error";
	else if (h.heartbeat_at <= 0 || now - h.heartbeat_at > HEARTBEAT_LATE)
		why[nwhy++] = "worker_not_running";
	if (p.n > 0)
		why[nwhy++] = "sending_paused";
	if (low)
		why[nwhy++] = "media_disk_low";
	/* Numbers: quality, restrictions, numbers nobody configured. */
	if (ok && api_numbers_health(c->db, &nums, why, &nwhy) == -1) {
		ok = 0;
		why[nwhy++] = "database_error";
	}
	err = p.err || buf_printf(&b, "{\"status\":\"%s\",\"reasons\":[",
	    nwhy ? "degraded" : "ok") == -1;
	for (i = 0; i < nwhy; i++)	/* fixed words: no escaping needed */
		err |= buf_printf(&b, "%s\"%s\"", i ? "," : "", why[i]) == -1;
	err |= buf_printf(&b, "],\"sandbox\":%s", c->cfg.sandbox ? "true" :
	    "false") == -1;
	err |= buf_printf(&b, ",\"database\":\"%s\",\"sqlite_version\":"
	    "\"%s\",\"schema_version\":%d,\"journal_backlog\":%lld,"
	    "\"process\":{\"uptime_s\":%lld},\"worker\":{\"heartbeat_age_s\":",
	    ok ? "ok" : "error", db_sqlite_version(), h.schema_version,
	    (long long)h.backlog, (long long)(now - c->started)) == -1;
	err |= (h.heartbeat_at > 0 ? buf_printf(&b, "%lld},",
	    (long long)(now - h.heartbeat_at)) : buf_puts(&b, "null},")) == -1;
	err |= buf_printf(&b, "\"sending\":{\"queued\":%lld,"
	    "\"oldest_age_s\":%lld,\"paused\":[", (long long)h.outbox_depth,
	    h.outbox_oldest_ms > 0 ? (long long)(now - h.outbox_oldest_ms /
	    1000) : 0LL) == -1;
	err |= (paused.len > 0 && buf_append(&b, paused.p, paused.len) == -1) ||
	    buf_puts(&b, low ? "]},\"media\":{\"downloads\":\"waiting\","
	    "\"reason\":\"less free disk space than WA_MEDIA_MIN_FREE_MB\"}" :
	    "]},\"media\":{\"downloads\":\"ok\"}") == -1;
	err |= (nums.len > 0 && buf_append(&b, nums.p, nums.len) == -1) ||
	    buf_puts(&b, "}\n") == -1;
	if (err)
		(void)req_error(r, 503, NULL, "unavailable", "Out of memory.");
	else
		(void)req_reply(r, ok ? 200 : 503, "application/json", NULL,
		    b.p, b.len);
	buf_clear(&b);
	buf_clear(&paused);
	buf_clear(&nums);
}

/*
 * Route: 404 unknown path, 405 wrong method, then the handler.  Returns 1
 * when the request is a webhook held for webhook_store(), 0 when answered.
 */
static int
route(struct ctx *c, struct req *r)
{
	const char *p = r->path;

	if (strncmp(p, PREFIX, sizeof(PREFIX) - 1) == 0)
		p += sizeof(PREFIX) - 1;
	else
		p = "";
	if (strcmp(p, "/webhook") == 0 && c->role == ROLE_API)
		(void)req_error(r, 404, NULL, "not_found", "This pool serves "
		    "the management API; webhooks go to the webhook pool.");
	else if (strcmp(p, "/webhook") == 0) {
		if (strcmp(r->method, "GET") == 0)
			webhook_verify(c, r);
		else if (strcmp(r->method, "POST") == 0)
			return webhook_receive(c, r);
		else
			(void)req_error(r, 405, "Allow: GET, POST\r\n",
			    "method_not_allowed",
			    "Use GET for verification or POST for events.");
	} else if (strcmp(p, "/health") == 0) {
		if (strcmp(r->method, "GET") == 0 ||
		    strcmp(r->method, "HEAD") == 0)
			health(c, r);
		else
			(void)req_error(r, 405, "Allow: GET\r\n",
			    "method_not_allowed", "Use GET.");
	} else if (*p == '\0' || c->role == ROLE_WEBHOOK ||
	    !api_handle(c->db, &c->cfg, r, p, c->wake))
		(void)req_error(r, 404, NULL, "not_found",
		    "No such endpoint.");
	return 0;
}

/*
 * Serves requests until SIGTERM.  Webhooks that arrive while others wait
 * for their COMMIT are stored together: after each request the responder
 * takes those already queued on the socket (never waiting for more), up
 * to HOLD_MAX, then commits what it holds in one transaction.  Under load
 * this turns a lock, a WAL append and a flush per webhook into one per
 * group; alone, a webhook is stored at once.
 */
static void
serve(struct ctx *c)
{
	struct held	*h = c->held;
	size_t		 n, i;

	while (!proc_stopping()) {
		if (req_accept(&h[0].r, 1) != REQ_ACCEPT_OK)
			break;
		n = 0;
		for (;;) {
			h[n].t0_us = clock_mono_us();
			if (route(c, &h[n].r))
				n++;
			else
				req_finish(&h[n].r, 0);
			if (n == 0 || n == HOLD_MAX || proc_stopping() ||
			    req_accept(&h[n].r, 0) != REQ_ACCEPT_OK)
				break;
		}
		if (n > 0)
			webhook_store(c, h, n);
		for (i = 0; i < n; i++)
			req_finish(&h[i].r, 1);
	}
}

#define USAGE	"usage: wa-fcgi [-n] [-r webhook|api] | -P | --help\n"

static void
usage(void)
{
	(void)fprintf(stderr, USAGE "  -n  check the configuration and exit\n"
	    "  -P  print the API's declared parameters as JSON and exit\n"
	    "  -r  serve only webhooks or only the management API (and "
	    "/health)\n"
	    "Run under spawn-fcgi; configuration comes from the environment "
	    "and WA_ENV_FILE.\n");
	exit(2);
}

/* --help: the manual in short, on stdout; exit 0. */
static void
help(void)
{
	if (printf(USAGE "\n"
	    "wa-fcgi: a FastCGI responder of the WhatsApp gateway.  spawn-fcgi "
	    "binds the\nsocket and multiwatch keeps a pool of them running "
	    "behind nginx.  It answers\nMeta's webhook handshake, stores each "
	    "signed webhook in the journal before\nacknowledging it, serves "
	    "/health and the management API.\n\n"
	    "Options:\n"
	    "  -n         check the configuration and the database, then exit\n"
	    "  -r webhook serve the webhook (and /health) only: "
	    "wa-fcgi.service\n"
	    "  -r api     serve the management API (and /health) only: "
	    "wa-fcgi-api.service\n"
	    "             (without -r one pool serves everything)\n"
	    "  -P         print the API's declared parameters as JSON and exit\n"
	    "  --help     print this and exit\n\n"
	    "Environment:\n"
	    "  WA_ENV_FILE        a KEY=value file read first (the environment "
	    "wins)\n"
	    "  WHATSAPP_APP_SECRET, WHATSAPP_VERIFY_TOKEN   required\n"
	    "  WA_STATE_DIR       the database wa.db (default ./var)\n"
	    "  WA_MEDIA_DIR       media files (default WA_STATE_DIR/media)\n"
	    "  (every key: deploy/wa.env.example, installed as "
	    "/etc/wa-gateway/wa.env)\n\n"
	    "Exit status: 0 after a clean stop or a good check; 1 on a bad "
	    "configuration\nor database, with one line saying which; "
	    "2 on a bad option.\n") < 0)
		exit(1);
	exit(0);
}

int
main(int argc, char *argv[])
{
	static struct ctx	 c;	/* HOLD_MAX requests: not on the stack */
	size_t			 i;
	int			 ch, check = 0;

	log_init("wa-fcgi");
	memset(&c, 0, sizeof(c));
	if (argc == 2 && strcmp(argv[1], "--help") == 0)
		help();
	while ((ch = getopt(argc, argv, "nPr:")) != -1) {
		if (ch == 'P')
			return api_params_print() == 0 ? 0 : 1;
		if (ch == 'n')
			check = 1;
		else if (ch == 'r' && strcmp(optarg, "webhook") == 0)
			c.role = ROLE_WEBHOOK;
		else if (ch == 'r' && strcmp(optarg, "api") == 0)
			c.role = ROLE_API;
		else
			usage();
	}
	/* ps, top and pgrep tell the pools apart: wa-fcgi and wa-fcgi-api. */
	if (c.role == ROLE_API && prctl(PR_SET_NAME, "wa-fcgi-api", 0, 0, 0) ==
	    -1)
		log_warn("prctl PR_SET_NAME");
	proc_config(&c.cfg, CFG_NEED_RESPONDER, check);
	proc_sqlite_check(PROC_SQLITE_QUIET);
	if ((c.db = db_open(c.cfg.db_path, DB_ROLE_RESPONDER, c.cfg.sync_full,
	    c.cfg.busy_timeout_ms)) == NULL)
		fatalx("cannot open the database %s", c.cfg.db_path);
	c.wake = notify_open_sender();
	(void)counters_open(c.cfg.counters_path);	/* metrics only */
	c.started = time(NULL);
	proc_signals();
	for (i = 0; i < HOLD_MAX; i++)
		if (req_init(&c.held[i].r) == -1)
			fatalx("cannot initialise FastCGI");
	serve(&c);
	for (i = 0; i < HOLD_MAX; i++)
		req_free(&c.held[i].r);
	db_close(c.db);
	if (c.wake != -1)
		(void)close(c.wake);
	cfg_clear(&c.cfg);
	return 0;
}
