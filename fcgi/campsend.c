/*
 * campsend.c: the worker's side of template campaigns (issue 16).  On a
 * short timer, for each due campaign (scheduled ones become running at
 * start_at), hands its next recipients to the outbox, one transaction a
 * batch: each recipient's outbox row (outbox_queue(), idempotency key
 * "campaign:<campaign>:<recipient>", so a repeat is harmless) and its
 * outbox_id are written together.  Only about WINDOW_S seconds' worth
 * of a number's campaign rows (its send_rate, else WA_SEND_RATE) wait
 * in the outbox at once: the sender's token bucket paces them, replies
 * to customers are never queued behind a whole campaign, and a pause or
 * a cancel takes effect within the window.  A contact who opted out is
 * skipped; when the messaging tier's 24-hour reach is used up the
 * campaign waits until its window frees a contact, and says so.  A
 * campaign none of whose recipients is queued is done.  What the outbox
 * and Meta answer rolls up into the recipients in db_campsend.c.  Each
 * recipient's request is campaign.c's campaign_body().
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "campaign.h"
#include "campsend.h"
#include "cfg.h"
#include "clock.h"
#include "db.h"
#include "log.h"
#include "msg.h"
#include "outbox.h"
#include "policy.h"

#define CHECK_MS	100	/* campaigns running: looked at this often */
#define IDLE_MS		500	/* none: a new or due one starts within this */
#define WINDOW_S	2	/* a number's campaign rows in the outbox */
#define BATCH_MAX	50	/* recipients handed over per transaction
				   (the write lock: about 5 ms idle) */
#define HELD_MS		100	/* say so when the lock was held this long */
#define DUE_MAX		32	/* campaigns looked at per pass */
#define RETRY_TIER_MS	60000	/* tier full, no send of ours counted */

struct campsend {
	struct db		*db;
	const struct cfg	*cfg;
	int64_t			 next;	/* mono ms of the next look */
};

struct campsend *
campsend_new(struct db *d, const struct cfg *c)
{
	struct campsend	*cs;

	if ((cs = calloc(1, sizeof(*cs))) == NULL)
		return NULL;
	cs->db = d;
	cs->cfg = c;
	cs->next = INT64_MIN / 2;
	return cs;
}

void
campsend_free(struct campsend *cs)
{
	free(cs);
}

/*
 * pnid's pace and reach: *rate its send_rate, else WA_SEND_RATE; *tier
 * the contacts it may reach in 24 hours, as outbox.c counts them (its
 * tier when known, else WA_TIER_LIMIT; 0 unlimited, and none at all
 * when WA_TIER_LIMIT is 0).
 */
static void
number_limits(struct campsend *cs, const char *pnid, int64_t *rate,
    int64_t *tier)
{
	struct db_number	 n;
	int64_t			 reach;
	int			 known;

	known = db_number_get(cs->db, pnid, &n) == 1 &&
	    strcmp(n.pnid, pnid) == 0;
	*rate = known && n.send_rate > 0 ? n.send_rate : cs->cfg->send_rate;
	*tier = cs->cfg->tier_limit;
	if (*tier > 0 && known && (reach = policy_tier_reach(n.tier)) >= 0)
		*tier = reach;
}

/*
 * How many recipients of this batch certainly fit in pnid's tier even
 * if each is a new contact: the outbox's own count per row, over every
 * counted send, is then skipped for them (a batch of 50 would make 50
 * scans of the number's templates of the last 24 hours).  Past them
 * the outbox counts row by row, exactly.  -1 on a database error.
 */
static int64_t
tier_budget(struct campsend *cs, const char *pnid, int64_t tier, int64_t now)
{
	int64_t	 count;
	int	 already;

	if (cs->cfg->tier_limit <= 0 || tier <= 0)
		return INT64_MAX;
	if (db_tier_count(cs->db, pnid, "", now - POLICY_TIER_SPAN_S *
	    1000LL, &count, &already) == -1)
		return -1;
	return count < tier ? tier - count : 0;
}

/*
 * The tier refused a contact: the campaign waits until the tier's
 * 24-hour window frees one (the oldest counted contact's newest send
 * plus 24 hours) and says so.  0 or -1.
 */
static int
tier_wait(struct campsend *cs, const struct db_campsend *c, int64_t now)
{
	char		 when[32], reason[256];
	struct tm	 tm;
	time_t		 t;
	int64_t		 at, until;
	int		 rc, n;

	if ((rc = db_campsend_tier_free(cs->db, c->pnid, now -
	    POLICY_TIER_SPAN_S * 1000LL, &at)) == -1)
		return -1;
	until = rc == 1 ? at + POLICY_TIER_SPAN_S * 1000LL : now +
	    RETRY_TIER_MS;
	if (until <= now)
		until = now + 1000;
	t = (time_t)(until / 1000);
	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		return -1;
	n = snprintf(reason, sizeof(reason), "The messaging tier's limit of "
	    "contacts this number may reach in 24 hours is used up; sending "
	    "resumes at %s, when its 24-hour window frees a contact.", when);
	if (n < 0 || (size_t)n >= sizeof(reason))
		return -1;
	if (c->wait_until != until)
		log_info("campaign %" PRId64 ": the messaging tier is used "
		    "up; waiting until %s", c->id, when);
	return db_campsend_wait(cs->db, c->id, until, reason, now);
}

/*
 * Hands recipient r of campaign c to the outbox (or settles it when the
 * outbox refuses it for good); fits: it is known to fit in the tier.
 * 0 done, 1 the tier is full (stop), -1 a database error (the caller
 * rolls back).
 */
static int
hand(struct campsend *cs, const struct db_campsend *c,
    const struct db_campsend_rcpt *r, int fits, int64_t now)
{
	struct outbox_req	 req;
	struct msg_err		 err;
	json_t			*params;
	char			*body = NULL, key[64];
	int64_t			 oid;
	int			 repeated, n, rc = -1;

	n = snprintf(key, sizeof(key), "campaign:%" PRId64 ":%" PRId64, c->id,
	    r->id);
	if (n < 0 || (size_t)n >= sizeof(key))
		return -1;
	/* A row no request can be made of fails alone, not the batch. */
	if ((params = json_loads(r->params, 0, NULL)) == NULL ||
	    campaign_body(c->tmpl, c->language, r->wa_id, params, &body) ==
	    -1) {
		json_decref(params);
		return db_campsend_settle(cs->db, r->id, "failed",
		    "its parameters are not a list of texts, so no request "
		    "could be made", now);
	}
	memset(&req, 0, sizeof(req));
	req.json = body;
	req.len = strlen(body);
	req.pnid = c->pnid;
	req.source = "campaign";
	req.idem_key = key;
	req.tier_limit = fits ? 0 : cs->cfg->tier_limit;
	switch (outbox_queue(cs->db, &req, &oid, &repeated, &err)) {
	case OUTBOX_OK:
		rc = db_campsend_handed(cs->db, r->id, oid, now);
		break;
	case OUTBOX_OPTED_OUT:
		rc = db_campsend_settle(cs->db, r->id, "skipped", "opted_out",
		    now);
		break;
	case OUTBOX_TIER_LIMIT:
		rc = tier_wait(cs, c, now) == -1 ? -1 : 1;
		break;
	case OUTBOX_INVALID:
	case OUTBOX_WINDOW_CLOSED:
		rc = db_campsend_settle(cs->db, r->id, "failed", err.message,
		    now);
		break;
	default:
		break;
	}
	free(body);
	json_decref(params);
	return rc;
}

/*
 * One campaign's turn, in one transaction: started when due, the
 * outbox window topped up, done when nothing is queued.  0 or -1.
 */
static int
campsend_one(struct campsend *cs, int64_t id)
{
	struct db_campsend_rcpt	 r[BATCH_MAX];
	struct db_campsend	 c;
	int64_t			 now = clock_now_ms(), open, room, t0, rate,
				 tier, fit = 0;
	int			 n = 0, i, k, full = 0;

	if (db_begin(cs->db) != DB_OK)
		return -1;
	t0 = clock_mono_ms();
	if ((k = db_campsend_get(cs->db, id, &c)) == -1)
		goto fail;
	/* Paused or cancelled since the due list was read: nothing more. */
	if (k == 0 || (strcmp(c.state, "scheduled") != 0 &&
	    strcmp(c.state, "running") != 0))
		goto out;
	if (strcmp(c.state, "scheduled") == 0) {
		if (db_campsend_start(cs->db, id, now) == -1)
			goto fail;
		log_info("campaign %" PRId64 ": running", id);
	}
	if (db_campsend_open(cs->db, c.pnid, &open) == -1 ||
	    (open == 0 && db_campsend_unstick(cs->db, id, BATCH_MAX / 2,
	    now) == -1))
		goto fail;
	number_limits(cs, c.pnid, &rate, &tier);
	room = rate * WINDOW_S - open;
	if (room > BATCH_MAX)
		room = BATCH_MAX;
	if (room > 0 &&
	    (n = db_campsend_next(cs->db, id, r, (size_t)room)) == -1)
		goto fail;
	if (n > 0 && (fit = tier_budget(cs, c.pnid, tier, now)) == -1) {
		db_campsend_rcpt_clear(r, (size_t)n);
		goto fail;
	}
	for (i = 0; i < n && !full; i++)
		if ((k = hand(cs, &c, &r[i], i < fit, now)) == -1) {
			db_campsend_rcpt_clear(r, (size_t)n);
			goto fail;
		} else if (k == 1)
			full = 1;
	db_campsend_rcpt_clear(r, (size_t)n);
	if (!full && c.wait_until != 0 &&
	    db_campsend_wait(cs->db, id, 0, NULL, now) == -1)
		goto fail;
	if ((k = db_campsend_finish(cs->db, id, now)) == -1)
		goto fail;
	if (k == 1)
		log_info("campaign %" PRId64 ": done", id);
out:
	if (db_commit(cs->db) == -1)
		return -1;
	/* Responders wait while the lock is held: say when it was long. */
	if ((t0 = clock_mono_ms() - t0) >= HELD_MS)
		log_warnx("campaign %" PRId64 ": the write lock was held %"
		    PRId64 " ms handing %d recipients over", id, t0, n);
	return 0;
fail:
	db_rollback(cs->db);
	return -1;
}

/*
 * One look at the due campaigns, when its timer says so.  Returns ms
 * until it wants the next.
 */
long
campsend_step(struct campsend *cs)
{
	int64_t	 ids[DUE_MAX], t = clock_mono_ms();
	int	 n, i;

	if (t < cs->next)
		return (long)(cs->next - t);
	if ((n = db_campsend_due(cs->db, clock_now_ms(), ids, DUE_MAX)) ==
	    -1)
		log_warnx("campaigns: cannot read the due ones; next try "
		    "soon");
	for (i = 0; i < n; i++)
		if (campsend_one(cs, ids[i]) == -1)
			log_warnx("campaign %" PRId64 ": hand-over failed; "
			    "next try soon", ids[i]);
	cs->next = clock_mono_ms() + (n > 0 ? CHECK_MS : IDLE_MS);
	return n > 0 ? CHECK_MS : IDLE_MS;
}
