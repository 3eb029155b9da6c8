/*
 * worker.c: wa-worker, exactly one per database (a lock says so).  Wakes
 * within milliseconds of a journal commit and has apply.c apply what is
 * pending, keeps the journal moving when the database is busy, indexes
 * new messages for search, lets the sender drain the outbox, runs the
 * retention timer and checkpoints the WAL.  main() reads: lock, open,
 * loop, close.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "apply.h"
#include "alerts.h"
#include "campsend.h"
#include "cfg.h"
#include "counters.h"
#include "chat.h"
#include "clock.h"
#include "db.h"
#include "hookpost.h"
#include "jobs.h"
#include "log.h"
#include "notify.h"
#include "proc.h"
#include "purge.h"
#include "sender.h"

#define BATCH		256	/* journal entries per transaction, at most */
#define BATCH_US	8000	/* the write lock held at most this long... */
#define SHARE_US	500	/* ...or this long while webhooks arrive, so a
				   responder never waits long to append */
#define SHARE_MS	100	/* "while": one came this recently */
#define IDLE_MS		1000	/* look at the journal at least this often */
#define PURGE_MS	60000	/* retention runs this often */
#define SEARCH_CHUNK	5000	/* messages added to the search index at once */
#define SEARCH_SHARE	100	/* ...while webhooks arrive (about 1 ms) */
#define BACKOFF_MIN_MS	50	/* busy: first wait before trying again... */
#define BACKOFF_MAX_MS	2000	/* ...doubling up to this */
#define MORE_FDS	24	/* other sockets the wait watches, at most */

/* What one wa-worker holds, from the lock to the close; one owner: main. */
struct worker {
	struct cfg	 cfg;
	int64_t		 pid;
	int64_t		 started;	/* time(NULL) at start, for /health */
	int		 lockfd;	/* flock held: the only worker */
	struct db	*db;
	int		 wake;		/* the responders' wake-ups */
	struct chat	*chat;		/* the chatbot; NULL when WA_BOT=off */
	struct apply	*apply;		/* the journal's apply */
	struct sender	*snd;		/* the outbox's sender */
	struct jobs	*jobs;		/* account jobs to Meta */
	struct hookpost	*hp;		/* event webhooks (issue 16) */
	struct alerts	*alerts;	/* issue 16: alerts and their mails */
	struct campsend	*camp;		/* issue 16: campaigns to the outbox */
};

/* The loop's timers and moods, between passes. */
struct pace {
	int64_t		 arrived;	/* last wake-up (ms) */
	int64_t		 worked;	/* last pass that applied (ms) */
	int64_t		 purged_at;	/* last retention run (ms) */
	long		 backoff;	/* busy: wait this long (ms); 0 not */
	int		 share;		/* webhooks arriving: short turns */
	int		 dirty;		/* applied since the last checkpoint */
};

#define USAGE	"usage: wa-worker [-n] | --help\n"

static void
usage(void)
{
	(void)fprintf(stderr, USAGE "  -n  check the configuration and exit\n");
	exit(2);
}

/* --help: the manual in short, on stdout; exit 0. */
static void
help(void)
{
	if (printf(USAGE "\n"
	    "wa-worker: the one worker of a WhatsApp gateway database (a lock "
	    "file says\nso).  It applies the webhook journal, runs the "
	    "chatbot, sends the outbox\nthrough the Graph API, downloads "
	    "media, syncs templates and removes what is\npast WA_RETAIN_*.  "
	    "Runs in the foreground (wa-worker.service); SIGTERM\nfinishes "
	    "the batch and the calls in flight, then exits.\n\n"
	    "Options:\n"
	    "  -n      check the configuration and exit\n"
	    "  --help  print this and exit\n\n"
	    "Environment:\n"
	    "  WA_ENV_FILE        a KEY=value file read first (the environment "
	    "wins)\n"
	    "  WHATSAPP_ACCESS_TOKEN, WHATSAPP_PHONE_NUMBER_ID   required\n"
	    "  WHATSAPP_GRAPH_URL the Graph API (default "
	    "https://graph.facebook.com)\n"
	    "  WA_STATE_DIR       wa.db, worker.sock, wa-worker.lock "
	    "(default ./var)\n"
	    "  WA_MEDIA_DIR       downloaded media (default "
	    "WA_STATE_DIR/media)\n"
	    "  (every key: deploy/wa.env.example, installed as "
	    "/etc/wa-gateway/wa.env)\n\n"
	    "Before the first start: wactl migrate (the unit runs it).\n"
	    "Exit status: 0 after SIGTERM or a good check; 1 on a bad "
	    "configuration, a\ndatabase it cannot use or a second worker; "
	    "2 on a bad option.\n") < 0)
		exit(1);
	exit(0);
}

/* Reads the options; returns 1 for -n (check only), else 0. */
static int
worker_options(int argc, char *argv[])
{
	int	 ch, check = 0;

	if (argc == 2 && strcmp(argv[1], "--help") == 0)
		help();
	while ((ch = getopt(argc, argv, "n")) != -1) {
		if (ch == 'n')
			check = 1;
		else
			usage();
	}
	return check;
}

/*
 * Takes the lock that makes this the only worker on the database (its
 * file holds our pid, for people), creating WA_STATE_DIR if need be.
 * Start-up: any failure stops the program, naming the path.
 */
static void
worker_lock(struct worker *w)
{
	const struct cfg	*cfg = &w->cfg;
	char			 pidbuf[32];
	int			 n;

	if (mkdir(cfg->state_dir, 0750) == -1 && errno != EEXIST)
		fatalx("cannot create WA_STATE_DIR %s: %s", cfg->state_dir,
		    strerror(errno));
	if ((w->lockfd = open(cfg->lock_path, O_RDWR | O_CREAT | O_CLOEXEC,
	    0640)) == -1)
		fatalx("cannot open %s: %s", cfg->lock_path, strerror(errno));
	if (flock(w->lockfd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK)
			fatalx("another wa-worker is already running on %s "
			    "(it holds %s); only one may run", cfg->db_path,
			    cfg->lock_path);
		fatalx("cannot lock %s: %s", cfg->lock_path, strerror(errno));
	}
	n = snprintf(pidbuf, sizeof(pidbuf), "%lld\n", (long long)w->pid);
	if (n < 0 || (size_t)n >= sizeof(pidbuf) ||
	    ftruncate(w->lockfd, 0) == -1 ||
	    write(w->lockfd, pidbuf, (size_t)n) != n)
		log_warn("cannot record the pid in %s", cfg->lock_path);
}

/*
 * Opens what the loop works with: the database, the wake-up socket, the
 * counters, the chatbot (when on), the apply and the sender.  Start-up:
 * any failure stops the program.
 */
static void
worker_open(struct worker *w)
{
	struct cfg	*cfg = &w->cfg;
	char		 err[512];

	proc_sqlite_check(PROC_SQLITE_SAY);
	if ((w->db = db_open(cfg->db_path, DB_ROLE_WORKER, cfg->sync_full,
	    cfg->busy_timeout_ms)) == NULL)
		fatalx("cannot open the database %s", cfg->db_path);
	if ((w->wake = notify_open_listener(cfg->wake_path)) == -1)
		fatalx("cannot listen on %s", cfg->wake_path);
	(void)counters_open(cfg->counters_path);	/* metrics only */
	if (cfg->bot && (w->chat = chat_new(w->db, cfg, err,
	    sizeof(err))) == NULL)
		fatalx("%s", err);
	if ((w->apply = apply_new(w->db, w->chat, w->pid, w->started)) ==
	    NULL)
		fatalx("cannot start the apply: out of memory");
	apply_keywords(w->apply, cfg->stop_words, cfg->start_words);
	if ((w->snd = sender_new(w->db, cfg)) == NULL ||
	    sender_start(w->snd) == -1)
		fatalx("cannot start the sender");
	if ((w->jobs = jobs_new(w->db, cfg)) == NULL)
		fatalx("cannot start the account jobs: out of memory");
	if ((w->hp = hookpost_new(w->db, cfg)) == NULL)	/* issue 16 */
		fatalx("cannot start the event webhooks");
	if ((w->alerts = alerts_new(w->db, cfg)) == NULL)
		fatalx("cannot start the alerts: out of memory");
	if ((w->camp = campsend_new(w->db, cfg)) == NULL)
		fatalx("cannot start the campaigns: out of memory");
}

/*
 * Applies the journal until it is drained (or the process is to stop).
 * Drains the wake-ups before each batch: one that comes during it stays
 * queued and triggers another.  Wake-ups mean responders are appending:
 * while they come, the lock is shared in short turns; a backlog alone is
 * applied in long ones.  Returns 1 when something was applied, else 0,
 * and sets p->backoff when the database was busy.
 */
static int
worker_apply(struct worker *w, struct pace *p)
{
	int	 n, applied = 0;

	do {
		if (notify_drain(w->wake) > 0)
			p->arrived = clock_mono_ms();
		p->share = clock_mono_ms() - p->arrived < SHARE_MS;
		n = apply_batch(w->apply, BATCH, p->share ? SHARE_US :
		    BATCH_US);
		if (n > 0)
			p->dirty = applied = 1;
	} while (n > 0 && !proc_stopping());
	if (n == -1 && !proc_stopping())
		n = apply_one_by_one(w->apply, BATCH_US);
	/* Busy is not the entries' fault: wait, then try again. */
	if (n == APPLY_BUSY) {
		p->backoff = p->backoff == 0 ? BACKOFF_MIN_MS :
		    p->backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS :
		    p->backoff * 2;
		log_warnx("journal: the database is locked by another "
		    "writer; trying again in %ld ms", p->backoff);
	} else
		p->backoff = 0;
	return applied;
}

/*
 * Between batches: search indexing, the sender, then a wait for the next
 * wake-up, a reply or a timer; retention and checkpoints when due.
 */
static void
worker_between(struct worker *w, struct pace *p, int applied)
{
	struct pollfd	 fds[MORE_FDS];	/* issue 16: hooks', mail's */
	int64_t		 t, pn[3];
	long		 wait;
	int		 more, nfds;

	/*
	 * The journal is drained: index what it added for search, a chunk
	 * per pass, so a new webhook never waits long.
	 */
	if ((more = db_search_index(w->db, p->share ? SEARCH_SHARE :
	    SEARCH_CHUNK)) == -1)
		log_warnx("search index: update failed; retried");
	/* Replies queued by the apply, the API or wactl go out now. */
	wait = sender_step(w->snd, 1);
	/* An account job blocks (jobs.c): only while no send is in flight. */
	if (sender_busy(w->snd) == 0 && (t = jobs_step(w->jobs)) < wait)
		wait = (long)t;
	/* Issue 16, deliver: event webhooks move on each pass. */
	if ((t = hookpost_step(w->hp, 1)) < wait)
		wait = (long)t;
	/* Issue 16, email alerts: conditions on a timer, then mails. */
	if ((t = alerts_step(w->alerts)) < wait)
		wait = (long)t;
	/* Issue 16, campaigns: recipients to the outbox, a window ahead. */
	if ((t = campsend_step(w->camp)) < wait)
		wait = (long)t;
	if (more > 0)
		wait = 0;
	if (p->backoff > 0 && wait > p->backoff)
		wait = p->backoff;
	if (wait > IDLE_MS)
		wait = IDLE_MS;
	/* Issue 16: the webhook POSTs' and the alert mail's sockets too. */
	nfds = hookpost_fds(w->hp, fds, MORE_FDS, &wait);
	nfds += alerts_fds(w->alerts, fds + nfds, MORE_FDS - nfds, &wait);
	if (sender_wait_more(w->snd, w->wake, fds, nfds, wait) == -1)
		log_warnx("waiting for work failed");
	t = clock_mono_ms();
	if (applied)
		p->worked = t;
	if (t - p->purged_at >= PURGE_MS) {
		p->purged_at = t;
		if (purge_run(w->db, &w->cfg, 0, pn) == -1)
			log_warnx("retention: purge failed; next try in a "
			    "minute");
	}
	if (p->dirty && t - p->worked >= IDLE_MS && sender_busy(w->snd) == 0) {
		/* Quiet for a while: fold the WAL back, keep it small. */
		db_checkpoint(w->db, 1);
		p->dirty = 0;
	}
}

/* Works until SIGTERM or SIGINT; the batch in hand is finished first. */
static void
worker_loop(struct worker *w)
{
	struct pace	 p;
	int		 applied;

	memset(&p, 0, sizeof(p));
	p.arrived = INT64_MIN / 2;
	log_info("applying the journal of %s", w->cfg.db_path);
	while (!proc_stopping()) {
		applied = worker_apply(w, &p);
		if (proc_stopping())
			break;
		worker_between(w, &p, applied);
	}
}

/*
 * Stops in order: calls in flight finish (and are recorded) first, then
 * the WAL is folded back, then the database, the wake-up socket and the
 * lock are let go.
 */
static void
worker_close(struct worker *w)
{
	while (sender_busy(w->snd) > 0) {
		(void)sender_wait(w->snd, -1, 200);
		(void)sender_step(w->snd, 0);
	}
	(void)sender_step(w->snd, 0);
	while (hookpost_busy(w->hp) > 0 && hookpost_step(w->hp, 0) >= 0)
		(void)sender_wait(w->snd, -1, 5);	/* issue 16 */
	hookpost_free(w->hp);
	sender_free(w->snd);
	jobs_free(w->jobs);
	alerts_free(w->alerts);
	campsend_free(w->camp);
	apply_free(w->apply);
	chat_free(w->chat);
	log_info("stopping: the batch in hand was finished");
	db_checkpoint(w->db, 0);
	db_close(w->db);
	(void)close(w->wake);
	(void)unlink(w->cfg.wake_path);
	(void)close(w->lockfd);
	cfg_clear(&w->cfg);
}

int
main(int argc, char *argv[])
{
	struct worker	 w;

	log_init("wa-worker");
	memset(&w, 0, sizeof(w));
	w.pid = getpid();
	w.started = time(NULL);
	proc_config(&w.cfg, CFG_NEED_WORKER, worker_options(argc, argv));
	worker_lock(&w);
	worker_open(&w);
	proc_signals();
	worker_loop(&w);
	worker_close(&w);
	return 0;
}
