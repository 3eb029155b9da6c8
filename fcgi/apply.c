/*
 * apply.c: applies the webhook journal for wa-worker.  Pending entries
 * are read and parsed ahead, before the write lock is taken; then a
 * batch applies them in order in one transaction, one savepoint per
 * item (so one bad item never drops its neighbours), lets the chatbot
 * answer what it stored, writes the heartbeat /health reads, records
 * what became of each entry and commits.  An entry that trips the
 * database is marked failed on its own, so it cannot block the journal
 * behind it.
 *
 * Webhooks for a phone_number_id that is not in the numbers table (or
 * was removed) are applied all the same (nothing is dropped); the log
 * says so once per number per start, then at most every 10 minutes.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bsd/string.h>

#include "apply.h"
#include "buf.h"
#include "chat.h"
#include "clock.h"
#include "db.h"
#include "log.h"
#include "policy.h"
#include "proc.h"
#include "webhook.h"

#define AHEAD_MAX	32	/* entries parsed before the lock, at most */
#define PARSED_BYTES	(8u << 20) /* ...and about this much of bodies */
#define ERROR_MAX	2000	/* bytes of failure reasons kept per entry */
#define BEAT_MS		1000	/* the heartbeat is written this often */
#define SLOW_US		100000	/* a lock held longer is logged */
#define SEEN_CHECK_MS	60000	/* a number's row is looked at this often */
#define SEEN_WARN_MS	600000	/* an unknown number is logged this often */
#define SEEN_MAX	4096	/* numbers remembered; past it: not logged */

/* A phone_number_id webhooks came for, and whether it is configured. */
struct seen {
	char		 pnid[32];
	int		 known;		/* in the numbers table, not removed */
	int		 removed;	/* in it, removed */
	int64_t		 checked;	/* when its row was read, ms */
	int64_t		 warned;	/* when it was logged, ms; 0 never */
};

/* A pending journal entry, parsed before the write lock is taken. */
struct entry {
	int64_t		 id;
	size_t		 len;		/* of the body */
	int		 parsed;	/* 0: not JSON we know; err says why */
	struct wh_batch	 b;
	char		 err[256];
};

/*
 * The apply's state, one per worker.  `e` holds the pending entries read
 * and parsed ahead, in journal order: a small ring kept across batches
 * (only the worker changes an entry's state, so what was read pending
 * stays pending until applied here).  Small, because each tree is freed
 * right after its apply while still in the cache.
 */
struct apply {
	struct db	*db;		/* borrowed from the worker */
	struct chat	*chat;		/* borrowed; NULL: the bot is off */
	const char	*stop_words;	/* borrowed: WA_STOP_KEYWORDS, or NULL */
	const char	*start_words;	/* borrowed: WA_START_KEYWORDS, or NULL */
	int64_t		 pid;		/* for the heartbeat */
	int64_t		 started;	/* ...when this worker started (s) */
	int64_t		 beat;		/* when it was last written (ms) */
	struct entry	 e[AHEAD_MAX];
	int		 head, n;
	size_t		 bytes;		/* sum of their body lengths */
	struct seen	*seen;		/* from malloc() */
	size_t		 nseen, capseen;
};

/* The i-th entry read ahead, 0 the oldest. */
static struct entry *
ahead(struct apply *a, int i)
{
	return &a->e[(a->head + i) % AHEAD_MAX];
}

/* Forgets the first k entries read ahead (applied, or all of them). */
static void
ahead_drop(struct apply *a, int k)
{
	while (k-- > 0 && a->n > 0) {
		a->bytes -= ahead(a, 0)->len;
		wh_batch_free(&ahead(a, 0)->b);
		a->head = (a->head + 1) % AHEAD_MAX;
		a->n--;
	}
}

/*
 * Reads and parses pending entries after those already ahead, up to
 * AHEAD_MAX of them and about PARSED_BYTES.  Outside a transaction it
 * opens a read transaction of its own: parsing, a sixth of the apply,
 * then happens while responders can still append.  Returns 0 or -1.
 */
static int
ahead_fill(struct apply *a, int in_txn)
{
	struct entry	*e;
	int64_t		 after = a->n > 0 ? ahead(a, a->n - 1)->id : 0;
	char		*body;
	size_t		 len;
	int		 rc = 0;

	if (a->n == AHEAD_MAX || a->bytes >= PARSED_BYTES)
		return 0;
	if (!in_txn && db_begin_read(a->db) != DB_OK)
		return -1;
	while (a->n < AHEAD_MAX && a->bytes < PARSED_BYTES &&
	    (rc = db_event_next(a->db, after, &after, &body, &len)) == 1) {
		e = ahead(a, a->n);
		e->id = after;
		e->len = len;
		e->parsed = wh_parse(body, len, &e->b, e->err,
		    sizeof(e->err)) == 0;
		free(body);
		a->n++;
		a->bytes += len;
	}
	if ((!in_txn && db_commit(a->db) == -1) || rc == -1)
		return -1;
	return 0;
}

/*
 * Notes that webhooks for pnid are applied: one for a number that is not
 * configured (or was removed) is logged once, then at most every
 * SEEN_WARN_MS.  Reads the numbers table inside the open transaction at
 * most every SEEN_CHECK_MS per number.  0, or -1 on a database error.
 */
static int
seen_number(struct apply *a, const char *pnid, int64_t now)
{
	struct db_number	 row;
	struct seen		*sn = NULL, *t;
	size_t			 i, len = strlen(pnid);
	int			 rc;

	if (len == 0 || len >= sizeof(sn->pnid) ||
	    strspn(pnid, "0123456789") != len)
		return 0;	/* not an id: nothing to say */
	for (i = 0; i < a->nseen; i++)
		if (strcmp(a->seen[i].pnid, pnid) == 0) {
			sn = &a->seen[i];
			break;
		}
	if (sn == NULL) {
		if (a->nseen >= SEEN_MAX)
			return 0;
		if (a->nseen == a->capseen) {
			if ((t = reallocarray(a->seen, a->capseen ?
			    a->capseen * 2 : 8, sizeof(*t))) == NULL)
				return 0;	/* only the log line is lost */
			a->seen = t;
			a->capseen = a->capseen ? a->capseen * 2 : 8;
		}
		sn = &a->seen[a->nseen++];
		memset(sn, 0, sizeof(*sn));
		(void)strlcpy(sn->pnid, pnid, sizeof(sn->pnid));
	}
	if (sn->checked == 0 || now - sn->checked >= SEEN_CHECK_MS) {
		if ((rc = db_number_get(a->db, pnid, &row)) == -1)
			return -1;
		rc = rc == 1 && strcmp(row.pnid, pnid) == 0;
		sn->known = rc && row.removed_at == 0;
		sn->removed = rc && row.removed_at != 0;
		sn->checked = now;
	}
	if (sn->known || (sn->warned != 0 && now - sn->warned < SEEN_WARN_MS))
		return 0;
	sn->warned = now;
	log_warnx("webhooks for number %s which is %s (wactl numbers add %s)",
	    pnid, sn->removed ? "removed" : "not configured", pnid);
	return 0;
}

/* Applies one parsed journal entry inside the open transaction.  0 or -1. */
static int
apply_entry(struct apply *a, const struct entry *e)
{
	struct db		*d = a->db;
	struct buf		 why;
	struct policy_verdict	 v;
	const char		*state, *w;
	struct db_tally		 t = { 0, 0, 0, 0 };
	const char		*last = NULL;
	size_t			 i;

	if (!e->parsed) {
		/*
		 * Signed, so stored and acknowledged, but not JSON of a
		 * webhook we know: refused here, where it is parsed (the
		 * responder never parses a body).  One event line; the
		 * parser's words are escaped, they may quote the body.
		 */
		char why_esc[sizeof(e->err)];

		(void)log_escape(why_esc, sizeof(why_esc), e->err,
		    strlen(e->err));
		log_event("webhook_refused", "reason=bad_json journal=%lld "
		    "why=\"%s\"", (long long)e->id, why_esc);
		return db_event_finish(d, e->id, "failed", &t, e->err,
		    clock_now_ms());
	}
	buf_init(&why);
	for (i = 0; i < e->b.nitems; i++) {
		const struct wh_item *it = &e->b.items[i];

		t.total++;
		if (it->phone_number_id != NULL && (last == NULL ||
		    strcmp(last, it->phone_number_id) != 0)) {
			last = it->phone_number_id;
			/* A failed look-up costs only the log line. */
			(void)seen_number(a, last, clock_mono_ms());
		}
		if (db_savepoint(d) == -1)
			goto fail;
		policy_verdict(it, a->stop_words, a->start_words, &v);
		switch (db_apply_item(d, e->id, it, &v, clock_now_ms(), &w)) {
		case DB_OK:
			t.applied++;
			if (db_release(d) == -1)
				goto fail;
			/*
			 * The bot answers the customer's new messages only:
			 * not edits, deletions, the business's own (echoes)
			 * or the past (history).
			 */
			if (it->original_wamid == NULL && it->source == NULL &&
			    chat_note(a->chat, it) == -1)
				goto fail;
			break;
		case DB_DUP:
			t.duplicate++;
			if (db_release(d) == -1)
				goto fail;
			break;
		default:
			t.failed++;
			db_rollback_to(d);
			log_warnx("journal entry %lld: %s: %s", (long long)e->id,
			    it->path, w);
			if (why.len < ERROR_MAX && buf_printf(&why, "%s%s: %s",
			    why.len ? "; " : "", it->path, w) == -1)
				goto fail;
			break;
		}
	}
	if (t.failed > 0)
		state = t.failed == t.total ? "failed" : "partial";
	else if (t.applied == 0 && t.total > 0)
		state = "duplicate";
	else
		state = "applied";
	if (db_event_finish(d, e->id, state, &t, why.len ? why.p : NULL,
	    clock_now_ms()) == -1)
		goto fail;
	buf_clear(&why);
	return 0;
fail:
	buf_clear(&why);
	return -1;
}

/*
 * Makes the apply of the journal of d.  chat (NULL when the bot is off)
 * and d stay the caller's and must outlive it; pid and started (seconds)
 * go into the heartbeat.  Returns NULL when out of memory; the caller
 * frees it with apply_free().
 */
struct apply *
apply_new(struct db *d, struct chat *chat, int64_t pid, int64_t started)
{
	struct apply	*a;

	if ((a = calloc(1, sizeof(*a))) == NULL) {
		log_warn("%s: calloc", __func__);
		return NULL;
	}
	a->db = d;
	a->chat = chat;
	a->pid = pid;
	a->started = started;
	return a;
}

/*
 * Borrows the STOP and START keyword lists (comma separated, NULL none)
 * that policy_verdict() matches inbound texts against.
 */
void
apply_keywords(struct apply *a, const char *stop, const char *start)
{
	a->stop_words = stop;
	a->start_words = start;
}

/* Frees a and what it read ahead; NULL does nothing. */
void
apply_free(struct apply *a)
{
	if (a == NULL)
		return;
	ahead_drop(a, a->n);
	free(a->seen);
	free(a);
}

/*
 * Applies up to max pending entries in one transaction, holding the write
 * lock at most budget_us, and stops early once the process is asked to
 * stop (proc_stopping()).  Returns the number applied, -1 when the
 * transaction failed (rolled back, and what was read ahead forgotten),
 * or APPLY_BUSY when the journal could not be read or the write lock not
 * taken: another writer (an import, an erase, a migration) holds it,
 * which is no fault of any entry.
 */
int
apply_batch(struct apply *a, int max, long budget_us)
{
	struct db	*d = a->db;
	int64_t		 now, locked, applied_us, done_us;
	enum db_rc	 rc;
	int		 k = 0;

	if (ahead_fill(a, 0) == -1) {
		ahead_drop(a, a->n);
		return APPLY_BUSY;
	}
	now = clock_mono_ms();
	/* Nothing to apply: only the heartbeat, once a second, for /health. */
	if (a->n == 0 && a->beat != 0 && now - a->beat < BEAT_MS)
		return 0;
	if ((rc = db_begin(d)) != DB_OK) {
		if (rc == DB_BUSY) {
			ahead_drop(a, a->n);
			return APPLY_BUSY;
		}
		goto fail;
	}
	locked = clock_mono_us();
	while (k < max && !proc_stopping()) {
		/* A long batch reads on under the lock: no one waits. */
		if (a->n == 0) {
			if (ahead_fill(a, 1) == -1)
				goto fail;
			if (a->n == 0)
				break;
		}
		if (apply_entry(a, ahead(a, 0)) == -1)
			goto fail;
		/* Applied (or rolled back with the batch, then read again). */
		ahead_drop(a, 1);
		k++;
		if (clock_mono_us() - locked >= budget_us)
			break;
	}
	/* Replies ride in the transaction of their cause (rule 4). */
	applied_us = clock_mono_us();
	if (chat_run(a->chat) == -1 ||
	    db_heartbeat(d, a->pid, a->started, (int64_t)time(NULL)) == -1 ||
	    db_commit(d) == -1)
		goto fail;
	a->beat = now;
	/* Responders wait while the lock is held: say when it was long. */
	if ((done_us = clock_mono_us()) - locked >= SLOW_US)
		log_warnx("journal: the write lock was held %lld ms for %d "
		    "entries (apply %lld ms, replies and commit %lld ms)",
		    (long long)(done_us - locked) / 1000, k,
		    (long long)(applied_us - locked) / 1000,
		    (long long)(done_us - applied_us) / 1000);
	return k;
fail:
	chat_forget(a->chat);
	db_rollback(d);
	ahead_drop(a, a->n);
	return -1;
}

/*
 * After apply_batch() failed: marks entry-by-entry what a whole batch
 * could not do, so that one entry that trips the database cannot block
 * the journal behind it.  Only an error of the entry's own apply marks
 * it failed: when the lock cannot be had, nothing is marked and the
 * caller waits and tries again.  Returns APPLY_BUSY in that case, else 0.
 */
int
apply_one_by_one(struct apply *a, long budget_us)
{
	struct db	*d = a->db;
	struct db_tally	 none = { 0, 0, 0, 0 };
	int64_t		 id;
	char		*body;
	size_t		 len;
	int		 n;

	if ((n = apply_batch(a, 1, budget_us)) != -1)
		return n == APPLY_BUSY ? APPLY_BUSY : 0;
	if (db_begin(d) != DB_OK)
		return APPLY_BUSY;
	if (db_event_next(d, 0, &id, &body, &len) == 1) {
		free(body);
		log_warnx("journal entry %lld failed on a database error; "
		    "marked failed for replay", (long long)id);
		(void)db_event_finish(d, id, "failed", &none,
		    "database error while applying; replay it",
		    clock_now_ms());
	}
	if (db_commit(d) == -1)
		db_rollback(d);
	return 0;
}
