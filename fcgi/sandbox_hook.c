/*
 * sandbox_hook.c: wa-sandbox's background thread.  Posts the status
 * webhooks (sent, delivered, read) queued in sandbox.db when their time
 * comes, in Meta's payload shape (reference 3.3), signed with the app
 * secret (X-Hub-Signature-256), through nginx to the gateway's real
 * webhook path, so the worker applies them as it applies Meta's.  A post
 * that is not answered 200 is tried again 2 s later; the next status of
 * the same message waits for it, so they arrive in order.  The queue is
 * in sandbox.db: a restart resumes it.  Never blocks the FastCGI loop:
 * it has its own thread, store handle and libcurl handle (wa.c).
 * It also fetches the loopback links media were sent by (fetch_once()).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "buf.h"
#include "clock.h"
#include "log.h"
#include "sandbox.h"
#include "sig.h"
#include "wa.h"

#define BATCH		16		/* statuses looked at per round */
#define RETRY_MS	2000		/* a refused post, tried again */
#define TRIES_MAX	150		/* then dropped (5 minutes) */
#define POST_TIMEOUT_MS	10000

static pthread_t		 thread;
static int			 running;
static struct sandbox_hook_opts	 opts;

/*
 * The status webhook for one queued row (an object from SBX_STATUS_DUE),
 * compact JSON (caller frees), or NULL.
 */
static char *
payload(const json_t *row)
{
	json_t	*doc;
	char	*out, ts[32];

	(void)snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL));
	doc = json_pack("{s:s, s:[{s:s, s:[{s:{s:s, s:{s:s, s:O}, s:[{s:O, "
	    "s:O, s:s, s:O, s:{s:b, s:s, s:s, s:s}}]}, s:s}]}]}",
	    "object", "whatsapp_business_account",
	    "entry", "id", SANDBOX_WABA,
	    "changes", "value", "messaging_product", "whatsapp",
	    "metadata", "display_phone_number", SANDBOX_DISPLAY,
	    "phone_number_id", json_object_get(row, "pnid"),
	    "statuses", "id", json_object_get(row, "wamid"),
	    "status", json_object_get(row, "status"), "timestamp", ts,
	    "recipient_id", json_object_get(row, "recipient"),
	    "pricing", "billable", 0, "pricing_model", "PMP",
	    "type", "free_customer_service", "category", "service",
	    "field", "messages");
	if (doc == NULL)
		return NULL;
	out = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	return out;
}

/* Posts body signed; returns the HTTP status (0 when none came). */
static long
post(struct wa *w, const char *body)
{
	struct wa_result	 r;
	char			 hex[65], hdr[128];
	long			 http = 0;
	int			 got = 0;

	if (sig_hmac_hex(opts.app_secret, body, strlen(body), hex) == -1 ||
	    snprintf(hdr, sizeof(hdr), "X-Hub-Signature-256: sha256=%s",
	    hex) >= (int)sizeof(hdr))
		return 0;
	if (wa_post_ext(w, 1, opts.webhook_url, body, hdr, POST_TIMEOUT_MS) ==
	    -1)
		return 0;
	memset(&r, 0, sizeof(r));
	while (!got) {
		if (wa_wait(w, -1, 200) == -1)
			break;
		if ((got = wa_done(w, &r)) == 1) {
			http = r.http;
			buf_clear(&r.body);
		}
	}
	return http;
}

/* Posts what is due; returns how many rows it handled, -1 on error. */
static int
round_once(struct sandbox_store *s, struct wa *w)
{
	json_t		*rows, *row;
	char		*body;
	size_t		 i;
	long		 http;
	int64_t		 id, tries;

	if ((rows = sandbox_store_rows(s, SBX_STATUS_DUE, "ii",
	    (int64_t)clock_now_ms(), (int64_t)BATCH)) == NULL)
		return -1;
	json_array_foreach(rows, i, row) {
		id = json_integer_value(json_object_get(row, "id"));
		tries = json_integer_value(json_object_get(row, "tries"));
		if ((body = payload(row)) == NULL)
			break;
		http = post(w, body);
		free(body);
		if (http == 200 || tries + 1 >= TRIES_MAX) {
			if (http != 200)
				log_warnx("status %s of %s dropped after %d "
				    "tries (last HTTP %ld)",
				    json_string_value(json_object_get(row,
				    "status")), json_string_value(
				    json_object_get(row, "wamid")), TRIES_MAX,
				    http);
			(void)sandbox_store_exec(s, SBX_STATUS_DONE, "i", id);
		} else
			(void)sandbox_store_exec(s, SBX_STATUS_RETRY, "ii",
			    (int64_t)clock_now_ms() + RETRY_MS, id);
	}
	i = json_array_size(rows);
	json_decref(rows);
	return (int)i;
}

/* Writes len bytes to dir/id, 0600 (umask 077 in make run).  0 or -1. */
static int
write_file(const char *dir, const char *id, const void *p, size_t len)
{
	char	 path[4200];
	FILE	*f;
	int	 n = snprintf(path, sizeof(path), "%s/%s", dir, id);

	if (n < 0 || (size_t)n >= sizeof(path) || (f = fopen(path, "w")) ==
	    NULL)
		return -1;
	if ((len > 0 && fwrite(p, 1, len, f) != len) || fclose(f) != 0) {
		(void)unlink(path);
		return -1;
	}
	return 0;
}

/*
 * Fetches the loopback links media were sent by (sandbox.c link_media())
 * so that the sandbox serves a copy, as Meta keeps one.  Returns how
 * many it handled, -1 on error.
 */
static int
fetch_once(struct sandbox_store *s)
{
	json_t		*rows, *row;
	struct buf	 out;
	const char	*id, *link;
	char		 err[512], sha[65];
	long		 http;
	size_t		 i;
	int		 ok;

	if ((rows = sandbox_store_rows(s, SBX_MEDIA_DUE, "i", (int64_t)4)) ==
	    NULL)
		return -1;
	json_array_foreach(rows, i, row) {
		id = json_string_value(json_object_get(row, "id"));
		link = json_string_value(json_object_get(row, "link"));
		http = 0;
		buf_init(&out);
		/* No token: the link is not the Graph API's. */
		ok = wa_request("GET", link, "", NULL, POST_TIMEOUT_MS, &http,
		    &out, err, sizeof(err)) == 0 && http == 200 &&
		    sig_sha256_hex(out.p != NULL ? out.p : "", out.len, sha) ==
		    0 && write_file(opts.media_dir, id, out.p, out.len) == 0;
		if (!ok)
			log_warnx("media %s: its loopback link could not be "
			    "fetched (HTTP %ld)", id, http);
		(void)sandbox_store_exec(s, SBX_MEDIA_FETCHED, "ssis", ok ?
		    "stored" : "failed", ok ? sha : NULL, (int64_t)(ok ?
		    out.len : 0), id);
		buf_clear(&out);
	}
	i = json_array_size(rows);
	json_decref(rows);
	return (int)i;
}

static void *
loop(void *arg)
{
	struct sandbox_store	*s;
	struct wa		*w = NULL;
	struct wa_opts		 o;
	struct timespec		 nap = { 0, 100 * 1000 * 1000 };

	(void)arg;
	memset(&o, 0, sizeof(o));
	o.graph_url = opts.graph_url;
	o.version = opts.api_version;
	o.token = opts.token;
	o.timeout_ms = POST_TIMEOUT_MS;
	o.max_conns = 2;
	if ((s = sandbox_store_open(opts.db_path, opts.busy_ms)) == NULL ||
	    (w = wa_new(&o)) == NULL) {
		log_warnx("status webhooks cannot be posted: the sandbox's "
		    "store or HTTP client did not start");
		sandbox_store_close(s);
		return NULL;
	}
	while (!atomic_load(opts.stop))
		if (round_once(s, w) <= 0 && fetch_once(s) <= 0)
			(void)nanosleep(&nap, NULL);
	wa_free(w);
	sandbox_store_close(s);
	return NULL;
}

/* Starts the thread; o's strings must outlive it.  0 or -1. */
int
sandbox_hook_start(const struct sandbox_hook_opts *o)
{
	opts = *o;
	if (pthread_create(&thread, NULL, loop, NULL) != 0) {
		log_warnx("%s: pthread_create failed", __func__);
		return -1;
	}
	running = 1;
	return 0;
}

/* Waits for the thread to see *stop and end. */
void
sandbox_hook_join(void)
{
	if (running)
		(void)pthread_join(thread, NULL);
	running = 0;
}
