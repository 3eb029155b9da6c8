/*
 * worker.c: wa-worker, exactly one per database (a lock says so).  Wakes
 * within milliseconds of a journal commit, applies pending entries in
 * order in batched transactions (one savepoint per item, so one bad item
 * never drops its neighbours), records what became of each entry, keeps a
 * heartbeat for /health and checkpoints the WAL.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cfg.h"
#include "counters.h"
#include "chat.h"
#include "clock.h"
#include "db.h"
#include "log.h"
#include "notify.h"
#include "proc.h"
#include "purge.h"
#include "sender.h"
#include "webhook.h"

#define BATCH		256	/* journal entries per transaction, at most */
#define AHEAD_MAX	32	/* entries parsed before the lock, at most */
#define PARSED_BYTES	(8u << 20) /* ...and about this much of bodies */
#define BATCH_US	8000	/* the write lock held at most this long... */
#define SHARE_US	500	/* ...or this long while webhooks arrive, so a
				   responder never waits long to append */
#define SHARE_MS	100	/* "while": one came this recently */
#define ERROR_MAX	2000	/* bytes of failure reasons kept per entry */
#define IDLE_MS		1000	/* look at the journal at least this often */
#define PURGE_MS	60000	/* retention runs this often */
#define SEARCH_CHUNK	5000	/* messages added to the search index at once */
#define SEARCH_SHARE	100	/* ...while webhooks arrive (about 1 ms) */
#define BUSY		(-2)	/* apply_batch(): the lock was not had */
#define SLOW_US		100000	/* a lock held longer is logged */
#define BACKOFF_MIN_MS	50	/* busy: first wait before trying again... */
#define BACKOFF_MAX_MS	2000	/* ...doubling up to this */

static struct chat *chat;	/* the chatbot; answers what a batch stored */

/* A pending journal entry, parsed before the write lock is taken. */
struct entry {
	int64_t		 id;
	size_t		 len;		/* of the body */
	int		 parsed;	/* 0: not JSON we know; err says why */
	struct wh_batch	 b;
	char		 err[256];
};

/*
 * Pending entries read and parsed ahead, in journal order: a small ring
 * kept across batches (only the worker changes an entry's state, so what
 * was read pending stays pending until applied here).  Small, because
 * each tree is freed right after its apply while still in the cache.
 */
static struct {
	struct entry	 e[AHEAD_MAX];
	int		 head, n;
	size_t		 bytes;		/* sum of their body lengths */
} ahead;

#define AHEAD(i)	(&ahead.e[(ahead.head + (i)) % AHEAD_MAX])

/* Forgets the first k entries read ahead (applied, or all of them). */
static void
ahead_drop(int k)
{
	while (k-- > 0 && ahead.n > 0) {
		ahead.bytes -= AHEAD(0)->len;
		wh_batch_free(&AHEAD(0)->b);
		ahead.head = (ahead.head + 1) % AHEAD_MAX;
		ahead.n--;
	}
}

/*
 * Reads and parses pending entries after those already ahead, up to
 * AHEAD_MAX of them and about PARSED_BYTES.  Outside a transaction it
 * opens a read transaction of its own: parsing, a sixth of the apply,
 * then happens while responders can still append.  Returns 0 or -1.
 */
static int
ahead_fill(struct db *d, int in_txn)
{
	struct entry	*e;
	int64_t		 after = ahead.n > 0 ? AHEAD(ahead.n - 1)->id : 0;
	char		*body;
	size_t		 len;
	int		 rc = 0;

	if (ahead.n == AHEAD_MAX || ahead.bytes >= PARSED_BYTES)
		return 0;
	if (!in_txn && db_begin_read(d) != DB_OK)
		return -1;
	while (ahead.n < AHEAD_MAX && ahead.bytes < PARSED_BYTES &&
	    (rc = db_event_next(d, after, &after, &body, &len)) == 1) {
		e = AHEAD(ahead.n);
		e->id = after;
		e->len = len;
		e->parsed = wh_parse(body, len, &e->b, e->err,
		    sizeof(e->err)) == 0;
		free(body);
		ahead.n++;
		ahead.bytes += len;
	}
	if ((!in_txn && db_commit(d) == -1) || rc == -1)
		return -1;
	return 0;
}

/* Applies one parsed journal entry inside the open transaction.  0 or -1. */
static int
apply_entry(struct db *d, const struct entry *e)
{
	struct buf	 why;
	const char	*state, *w;
	int		 counts[4] = { 0, 0, 0, 0 };
	size_t		 i;

	if (!e->parsed) {
		log_warnx("journal entry %lld failed: %s", (long long)e->id,
		    e->err);
		return db_event_finish(d, e->id, "failed", counts, e->err);
	}
	buf_init(&why);
	for (i = 0; i < e->b.nitems; i++) {
		const struct wh_item *it = &e->b.items[i];

		counts[0]++;
		if (db_savepoint(d) == -1)
			goto fail;
		switch (db_apply_item(d, e->id, it, &w)) {
		case DB_OK:
			counts[1]++;
			if (db_release(d) == -1)
				goto fail;
			/*
			 * The bot answers the customer's new messages only:
			 * not edits, deletions, the business's own (echoes)
			 * or the past (history).
			 */
			if (it->original_wamid == NULL && it->source == NULL &&
			    chat_note(chat, it) == -1)
				goto fail;
			break;
		case DB_DUP:
			counts[2]++;
			if (db_release(d) == -1)
				goto fail;
			break;
		default:
			counts[3]++;
			db_rollback_to(d);
			log_warnx("journal entry %lld: %s: %s", (long long)e->id,
			    it->path, w);
			if (why.len < ERROR_MAX && buf_printf(&why, "%s%s: %s",
			    why.len ? "; " : "", it->path, w) == -1)
				goto fail;
			break;
		}
	}
	if (counts[3] > 0)
		state = counts[3] == counts[0] ? "failed" : "partial";
	else if (counts[1] == 0 && counts[0] > 0)
		state = "duplicate";
	else
		state = "applied";
	if (db_event_finish(d, e->id, state, counts, why.len ? why.p : NULL) ==
	    -1)
		goto fail;
	buf_clear(&why);
	return 0;
fail:
	buf_clear(&why);
	return -1;
}

/*
 * Applies up to max pending entries in one transaction, holding the write
 * lock at most budget_us.  Returns the number applied, -1 when the
 * transaction failed (rolled back, and what was read ahead forgotten), or
 * BUSY when the journal could not be read or the write lock not taken:
 * another writer (an import, an erase, a migration) holds it, which is
 * no fault of any entry.
 */
static int
apply_batch(struct db *d, int max, long budget_us, int64_t pid,
    int64_t started)
{
	static int64_t	 beat;	/* when the heartbeat was last written */
	int64_t		 now, locked, applied_us, done_us;
	enum db_rc	 rc;
	int		 k = 0;

	if (ahead_fill(d, 0) == -1) {
		ahead_drop(ahead.n);
		return BUSY;
	}
	now = clock_mono_ms();
	/* Nothing to apply: only the heartbeat, once a second, for /health. */
	if (ahead.n == 0 && beat != 0 && now - beat < IDLE_MS)
		return 0;
	if ((rc = db_begin(d)) != DB_OK) {
		if (rc == DB_BUSY) {
			ahead_drop(ahead.n);
			return BUSY;
		}
		goto fail;
	}
	locked = clock_mono_us();
	while (k < max && !proc_stopping()) {
		/* A long batch reads on under the lock: no one waits. */
		if (ahead.n == 0) {
			if (ahead_fill(d, 1) == -1)
				goto fail;
			if (ahead.n == 0)
				break;
		}
		if (apply_entry(d, AHEAD(0)) == -1)
			goto fail;
		/* Applied (or rolled back with the batch, then read again). */
		ahead_drop(1);
		k++;
		if (clock_mono_us() - locked >= budget_us)
			break;
	}
	/* Replies ride in the transaction of their cause (rule 4). */
	applied_us = clock_mono_us();
	if (chat_run(chat) == -1 || db_heartbeat(d, pid, started) == -1 ||
	    db_commit(d) == -1)
		goto fail;
	beat = now;
	/* Responders wait while the lock is held: say when it was long. */
	if ((done_us = clock_mono_us()) - locked >= SLOW_US)
		log_warnx("journal: the write lock was held %lld ms for %d "
		    "entries (apply %lld ms, replies and commit %lld ms)",
		    (long long)(done_us - locked) / 1000, k,
		    (long long)(applied_us - locked) / 1000,
		    (long long)(done_us - applied_us) / 1000);
	return k;
fail:
	chat_forget(chat);
	db_rollback(d);
	ahead_drop(ahead.n);
	return -1;
}

/*
 * Marks entry-by-entry what a whole batch could not do, so that one entry
 * that trips the database cannot block the journal behind it.  Only an
 * error of the entry's own apply marks it failed: when the lock cannot
 * be had, nothing is marked and the caller waits and tries again.
 * Returns BUSY in that case, else 0.
 */
static int
apply_one_by_one(struct db *d, int64_t pid, int64_t started)
{
	int64_t	 id;
	char	*body;
	size_t	 len;
	int	 n, counts[4] = { 0, 0, 0, 0 };

	if ((n = apply_batch(d, 1, BATCH_US, pid, started)) != -1)
		return n == BUSY ? BUSY : 0;
	if (db_begin(d) != DB_OK)
		return BUSY;
	if (db_event_next(d, 0, &id, &body, &len) == 1) {
		free(body);
		log_warnx("journal entry %lld failed on a database error; "
		    "marked failed for replay", (long long)id);
		(void)db_event_finish(d, id, "failed", counts,
		    "database error while applying; replay it");
	}
	if (db_commit(d) == -1)
		db_rollback(d);
	return 0;
}

static void
usage(void)
{
	(void)fprintf(stderr, "usage: wa-worker [-n]\n"
	    "  -n  check the configuration and exit\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	struct cfg		 cfg;
	struct db		*d;
	struct sender		*snd;
	char			 err[512], pidbuf[32];
	int			 ch, check = 0, lockfd, wake, n, dirty = 0;
	int			 applied, more, share = 0;
	int64_t			 pid = getpid(), started = time(NULL), t;
	int64_t			 worked = 0, purged_at = 0, pn[3];
	int64_t			 arrived = INT64_MIN / 2;
	long			 wait, backoff = 0;

	log_init("wa-worker");
	while ((ch = getopt(argc, argv, "n")) != -1) {
		if (ch == 'n')
			check = 1;
		else
			usage();
	}
	proc_config(&cfg, CFG_NEED_WORKER, check);
	if (mkdir(cfg.state_dir, 0750) == -1 && errno != EEXIST)
		fatalx("cannot create WA_STATE_DIR %s: %s", cfg.state_dir,
		    strerror(errno));
	if ((lockfd = open(cfg.lock_path, O_RDWR | O_CREAT | O_CLOEXEC,
	    0640)) == -1)
		fatalx("cannot open %s: %s", cfg.lock_path, strerror(errno));
	if (flock(lockfd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK)
			fatalx("another wa-worker is already running on %s "
			    "(it holds %s); only one may run", cfg.db_path,
			    cfg.lock_path);
		fatalx("cannot lock %s: %s", cfg.lock_path, strerror(errno));
	}
	n = snprintf(pidbuf, sizeof(pidbuf), "%lld\n", (long long)pid);
	if (ftruncate(lockfd, 0) == -1 ||
	    write(lockfd, pidbuf, (size_t)n) != n)
		log_warn("cannot record the pid in %s", cfg.lock_path);
	proc_sqlite_check(PROC_SQLITE_SAY);
	if ((d = db_open(cfg.db_path, DB_ROLE_WORKER, cfg.sync_full,
	    cfg.busy_timeout_ms)) == NULL)
		fatalx("cannot open the database %s", cfg.db_path);
	if ((wake = notify_open_listener(cfg.wake_path)) == -1)
		fatalx("cannot listen on %s", cfg.wake_path);
	db_set_keywords(d, cfg.stop_words, cfg.start_words);
	(void)counters_open(cfg.counters_path);	/* metrics only */
	if (cfg.bot && (chat = chat_new(d, &cfg, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	if ((snd = sender_new(d, &cfg)) == NULL || sender_start(snd) == -1)
		fatalx("cannot start the sender");

	proc_signals();
	log_info("applying the journal of %s", cfg.db_path);

	while (!proc_stopping()) {
		/*
		 * Drain before each batch: a wake-up that comes during it
		 * stays queued and triggers another.  Wake-ups mean
		 * responders are appending: while they come, the lock is
		 * shared in short turns; a backlog alone is applied in long
		 * ones.
		 */
		applied = 0;
		do {
			if (notify_drain(wake) > 0)
				arrived = clock_mono_ms();
			share = clock_mono_ms() - arrived < SHARE_MS;
			n = apply_batch(d, BATCH, share ? SHARE_US : BATCH_US,
			    pid, started);
			if (n > 0)
				dirty = applied = 1;
		} while (n > 0 && !proc_stopping());
		if (n == -1 && !proc_stopping())
			n = apply_one_by_one(d, pid, started);
		/* Busy is not the entries' fault: wait, then try again. */
		if (n == BUSY) {
			backoff = backoff == 0 ? BACKOFF_MIN_MS :
			    backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS :
			    backoff * 2;
			log_warnx("journal: the database is locked by another "
			    "writer; trying again in %ld ms", backoff);
		} else
			backoff = 0;
		if (proc_stopping())
			break;
		/*
		 * The journal is drained: index what it added for search,
		 * a chunk per pass, so a new webhook never waits long.
		 */
		if ((more = db_search_index(d, share ? SEARCH_SHARE :
		    SEARCH_CHUNK)) == -1)
			log_warnx("search index: update failed; retried");
		/* Replies queued by the apply, the API or wactl go out now. */
		wait = sender_step(snd, 1);
		if (more > 0)
			wait = 0;
		if (backoff > 0 && wait > backoff)
			wait = backoff;
		if (sender_wait(snd, wake, wait < IDLE_MS ? wait : IDLE_MS) ==
		    -1)
			log_warnx("waiting for work failed");
		t = clock_mono_ms();
		if (applied)
			worked = t;
		if (t - purged_at >= PURGE_MS) {
			purged_at = t;
			if (purge_run(d, &cfg, 0, pn) == -1)
				log_warnx("retention: purge failed; next try "
				    "in a minute");
		}
		if (dirty && t - worked >= IDLE_MS && sender_busy(snd) == 0) {
			/* Quiet for a while: fold the WAL back, keep it small. */
			db_checkpoint(d, 1);
			dirty = 0;
		}
	}
	/* SIGTERM: calls in flight finish (and are recorded) first. */
	while (sender_busy(snd) > 0) {
		(void)sender_wait(snd, -1, 200);
		(void)sender_step(snd, 0);
	}
	(void)sender_step(snd, 0);
	sender_free(snd);
	chat_free(chat);
	ahead_drop(ahead.n);
	log_info("stopping: the batch in hand was finished");
	db_checkpoint(d, 0);
	db_close(d);
	(void)close(wake);
	(void)unlink(cfg.wake_path);
	(void)close(lockfd);
	cfg_clear(&cfg);
	return 0;
}
