/*
 * sender.c: the worker's outbound side (DESIGN rule 5).  Each step reaps
 * finished Graph API calls and records them, then claims due outbox rows
 * within the rate limits and starts their calls; inbound media is
 * downloaded the same way.  Database work of a step is one transaction;
 * calls start only after it committed, so a rolled-back claim never
 * leaves a call in flight.
 *
 * Limits: a token bucket per business number (its send_rate in the
 * numbers table, else WA_SEND_RATE a second, reference 9.1) and one per
 * recipient (WA_PAIR_BURST, then one every WA_PAIR_INTERVAL_MS, reference
 * 9.2), both kept by rate.c.  A recipient's rows go out in id order, one
 * at a time, so a chatty customer waits alone.
 *
 * Numbers (issue 13): each row goes to /{its phone_number_id}/messages
 * with the token of its number (the variable its numbers row names; a
 * number not in the table uses WHATSAPP_ACCESS_TOKEN).  The sender keeps
 * what it knows of every number it has seen in a table grown on demand
 * and reads each number's row again every few seconds.  A number whose
 * token variable is unset waits (sender_status token_missing); Meta's
 * 190 pauses every number using that token until its token changes
 * (token_invalid, the token's digest kept); a removed number's rows fail
 * (number_removed), nothing is sent from it.  Rows of a number that
 * cannot send now are moved back in the queue when the rows looked at
 * fill the window, so one slow or paused number never holds up another.
 *
 * Media: a file is streamed to a temporary file in the media directory
 * and hashed while written, then renamed into its content-addressed
 * place once the digest and size match (nothing half-written is ever
 * visible there).  Downloads wait while the disk has less than
 * WA_MEDIA_MIN_FREE_MB free, and a contact's files past
 * WA_MEDIA_MAX_PER_CONTACT_DAY in 24 hours are skipped, recorded failed
 * with the reason, so a chatty or hostile sender cannot fill the disk.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bsd/stdlib.h>
#include <bsd/string.h>

#include "cfg.h"
#include "chat.h"
#include "clock.h"
#include "db.h"
#include "graph.h"
#include "log.h"
#include "msg.h"
#include "outbox.h"
#include "rate.h"
#include "sender.h"
#include "sig.h"
#include "url.h"
#include "wa.h"

#define MEDIA_SLOTS	4		/* downloads at once */
#define AGENT_SLOTS	4		/* AI agent calls at once */
#define MEDIA_TRIES	5		/* then the row is failed */
#define MEDIA_TIMEOUT	120000		/* ms for one file */
#define BACKOFF_MAX	300000		/* ms between tries at most */
#define BREAKER_S	600		/* 131048: pause a number this long */
#define NUMBERS_MAX	100000		/* business numbers tracked at most */
#define NUMBER_LOAD_MS	5000		/* a number's row is read this often */
#define TOKEN_WAIT_MS	60000		/* no usable token: look again then */
#define DEFAULT_TOKEN	"WHATSAPP_ACCESS_TOKEN"
#define DUE_MAX		256		/* rows looked at per step */
#define IDLE_MS		1000

enum tag { T_SEND = 1, T_UPLOAD, T_MINFO, T_MFILE, T_AGENT };

/* What the sender knows of one business number. */
struct number {
	char		 pnid[40];
	struct rate_bucket b;
	struct rate_limit limit;	/* its send_rate, else WA_SEND_RATE */
	int		 paused;	/* sender_status says so */
	int64_t		 checked;	/* when paused was read, ms */
	int64_t		 resume_ms;	/* paused: look again then */
	int64_t		 loaded;	/* its numbers row read then, ms; 0 never */
	int		 removed;	/* removed_at set: its rows fail */
	int		 token;		/* wa token id; -1 its variable is unset */
	char		 token_env[128];
	char		 token_sha[65];	/* digest of its token, "" none */
	int		 told;		/* its token trouble was logged */
	int64_t		 sched;		/* rows moved back up to this, ms */
};

/* Every number seen, by phone_number_id: open addressing, grown. */
struct numbers {
	struct number	**slots;	/* size of them, NULL free */
	size_t		  size;		/* a power of 2, 0 before the first */
	size_t		  n;
};

struct slot {
	int			 used;
	enum tag		 stage;
	struct db_outbox_item	 it;
};

struct mslot {
	int			 used;
	enum tag		 stage;
	struct db_media_item	 it;
	char			 mime[128];
	char			 sha[129];	/* from the media API */
	int64_t			 size;		/* from the media API, -1 */
	int			 fd;		/* the temporary file, -1 */
	char			 tmp[4200];	/* its path, "" none */
	struct sig_sha256	*hash;		/* of what was written */
	int64_t			 written;	/* bytes in the file */
	int			 reasked;	/* asked again for a fresh URL */
};

struct aslot {
	int			 used;
	struct db_agent_item	 it;
};

struct sender {
	struct db		*db;
	const struct cfg	*cfg;
	struct wa		*wa;
	struct slot		*slots;		/* cfg->send_inflight of them */
	int			 nslots;
	struct mslot		 mslots[MEDIA_SLOTS];
	struct aslot		 aslots[AGENT_SLOTS];
	struct numbers		 numbers;	/* every number seen */
	struct rate_limit	 plimit;	/* a recipient's bucket */
	struct rate_pairs	*pairs;		/* every recipient's bucket */
	int			 disk_low;	/* below WA_MEDIA_MIN_FREE_MB */
	int			*start;		/* slots to start after commit */
	int			 nstart;
};

/* Exponential backoff with jitter for try n (1-based), ms. */
static int64_t
backoff(int n)
{
	int64_t d = 1000LL << (n > 9 ? 9 : (n < 1 ? 0 : n - 1));

	if (d > BACKOFF_MAX)
		d = BACKOFF_MAX;
	return d / 2 + arc4random_uniform((uint32_t)(d / 2) + 1);
}

static size_t
number_hash(const char *pnid)
{
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a */

	for (; *pnid != '\0'; pnid++)
		h = (h ^ (unsigned char)*pnid) * 1099511628211ULL;
	return (size_t)h;
}

/* Doubles the table (16 at first).  0 or -1 (out of memory, logged). */
static int
numbers_grow(struct numbers *t)
{
	struct number	**slots;
	size_t		  size = t->size ? t->size * 2 : 16, i, j;

	if ((slots = calloc(size, sizeof(*slots))) == NULL) {
		log_warn("%s: calloc", __func__);
		return -1;
	}
	for (i = 0; i < t->size; i++) {
		if (t->slots[i] == NULL)
			continue;
		for (j = number_hash(t->slots[i]->pnid) & (size - 1);
		    slots[j] != NULL; j = (j + 1) & (size - 1))
			continue;
		slots[j] = t->slots[i];
	}
	free(t->slots);
	t->slots = slots;
	t->size = size;
	return 0;
}

/*
 * The number pnid, made (not yet loaded) when first seen.  NULL when out
 * of memory or past NUMBERS_MAX: its rows wait.
 */
static struct number *
number_get(struct sender *s, const char *pnid)
{
	struct numbers	*t = &s->numbers;
	struct number	*n;
	size_t		 i;

	if (t->size > 0)
		for (i = number_hash(pnid) & (t->size - 1); t->slots[i] != NULL;
		    i = (i + 1) & (t->size - 1))
			if (strcmp(t->slots[i]->pnid, pnid) == 0)
				return t->slots[i];
	if (t->n >= NUMBERS_MAX || strlen(pnid) >= sizeof(n->pnid))
		return NULL;
	if ((t->n + 1) * 4 > t->size * 3 && numbers_grow(t) == -1)
		return NULL;
	if ((n = calloc(1, sizeof(*n))) == NULL) {
		log_warn("%s: calloc", __func__);
		return NULL;
	}
	(void)strlcpy(n->pnid, pnid, sizeof(n->pnid));
	n->token = -1;
	rate_number_limit(&n->limit, s->cfg->send_rate);
	for (i = number_hash(pnid) & (t->size - 1); t->slots[i] != NULL;
	    i = (i + 1) & (t->size - 1))
		continue;
	t->slots[i] = n;
	t->n++;
	return n;
}

static void
numbers_free(struct numbers *t)
{
	size_t i;

	for (i = 0; i < t->size; i++)
		if (t->slots[i] != NULL) {
			explicit_bzero(t->slots[i]->token_sha,
			    sizeof(t->slots[i]->token_sha));
			free(t->slots[i]);
		}
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

/*
 * Makes the requests started next carry pnid's token.  0, or -1 when
 * the number has none (its variable is unset).
 */
static int
use_token(struct sender *s, const char *pnid)
{
	struct number *n = number_get(s, pnid);

	if (n == NULL || n->token < 0)
		return -1;
	wa_token_use(s->wa, n->token);
	return 0;
}

/*
 * Reads n's numbers row when it is older than NUMBER_LOAD_MS: its token
 * (the variable it names, WHATSAPP_ACCESS_TOKEN when not in the table),
 * rate and whether it was removed; and settles its pause in
 * sender_status: a token that is unset pauses it (token_missing), a
 * token set again or changed since Meta refused it (190) lifts that.
 * Inside the caller's transaction.  0, or -1 on a database error.
 */
static int
number_load(struct sender *s, struct number *n, int64_t now)
{
	struct db_number	 row;
	struct db_pause		 p;
	const char		*tok;
	char			 sha[65];
	int			 rc, prc, id = -1;

	if (n->loaded != 0 && now - n->loaded < NUMBER_LOAD_MS)
		return 0;
	if ((rc = db_number_get(s->db, n->pnid, &row)) == -1 ||
	    (prc = db_sender_get(s->db, n->pnid, &p)) == -1)
		return -1;
	if (rc == 0 || strcmp(row.pnid, n->pnid) != 0)
		memset(&row, 0, sizeof(row));	/* not in the table */
	n->loaded = now;
	n->removed = row.removed_at > 0;
	rate_number_limit(&n->limit, row.send_rate > 0 ? (long)row.send_rate :
	    s->cfg->send_rate);
	(void)strlcpy(n->token_env, row.token_env[0] ? row.token_env :
	    DEFAULT_TOKEN, sizeof(n->token_env));
	sha[0] = '\0';
	if ((tok = cfg_token(s->cfg, n->token_env)) != NULL &&
	    (sig_sha256_hex(tok, strlen(tok), sha) == -1 ||
	    (id = wa_token_add(s->wa, tok)) == -1))
		sha[0] = '\0';
	n->token = sha[0] != '\0' ? id : -1;
	(void)strlcpy(n->token_sha, sha, sizeof(n->token_sha));
	explicit_bzero(sha, sizeof(sha));
	n->checked = 0;		/* paused() reads sender_status again */
	if (n->removed)		/* nothing is sent: no pause to show */
		return prc == 1 ? db_sender_resume(s->db, n->pnid, now / 1000) :
		    0;
	if (n->token < 0) {
		if (!n->told)
			log_warnx("number %s: its token variable %s is not set "
			    "or empty: its messages wait (set it in WA_ENV_FILE "
			    "or the environment and restart wa-worker)",
			    n->pnid, n->token_env);
		n->told = 1;
		if (prc == 1 && strcmp(p.reason, "token_missing") == 0)
			return 0;
		return db_sender_pause(s->db, n->pnid, "token_missing", 0, 0,
		    NULL, now / 1000);
	}
	if (prc == 1 && strcmp(p.reason, "token_missing") == 0) {
		log_info("number %s: %s is set: sending resumes", n->pnid,
		    n->token_env);
		n->told = 0;
		return db_sender_resume(s->db, n->pnid, now / 1000);
	}
	if (prc == 1 && strcmp(p.reason, "token_invalid") == 0) {
		if (strcmp(p.token_sha, n->token_sha) != 0) {
			log_info("number %s: its access token (%s) changed: "
			    "sending resumes", n->pnid, n->token_env);
			n->told = 0;
			return db_sender_resume(s->db, n->pnid, now / 1000);
		}
		if (!n->told)
			log_warnx("number %s: sending stays paused: Meta "
			    "refused its access token; set a new %s", n->pnid,
			    n->token_env);
		n->told = 1;
	}
	return 0;
}

/*
 * Code 190 on a send of n: Meta refused n's token, so every number
 * using that token pauses until its token changes.  0 or -1.
 */
static int
pause_token(struct sender *s, struct number *n, int64_t code, int64_t now)
{
	struct number	*m;
	char		 sha[65];
	size_t		 i;

	log_event("token_invalid", "number=%s token_env=%s code=%" PRId64
	    " msg=\"Meta refused the access token: sending from every number "
	    "using it is paused until it changes\"", n->pnid, n->token_env,
	    code);
	if (n->token_sha[0] == '\0')
		return 0;
	(void)strlcpy(sha, n->token_sha, sizeof(sha));
	for (i = 0; i < s->numbers.size; i++) {
		if ((m = s->numbers.slots[i]) == NULL ||
		    strcmp(m->token_sha, sha) != 0)
			continue;
		m->paused = 1;
		m->checked = now;
		m->resume_ms = now + TOKEN_WAIT_MS;
		m->told = 1;
		if (db_sender_pause(s->db, m->pnid, "token_invalid", code, 0,
		    sha, now / 1000) == -1)
			return -1;
	}
	return 0;
}

/* Returns the sender (caller frees with sender_free()) or NULL, logged. */
struct sender *
sender_new(struct db *d, const struct cfg *cfg)
{
	struct sender	*s;
	struct wa_opts	 o;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		log_warn("%s: calloc", __func__);
		return NULL;
	}
	s->db = d;
	s->cfg = cfg;
	s->nslots = (int)cfg->send_inflight;
	for (int i = 0; i < MEDIA_SLOTS; i++)
		s->mslots[i].fd = -1;
	memset(&o, 0, sizeof(o));
	o.graph_url = cfg->graph_url;
	o.version = cfg->api_version;
	o.token = cfg->access_token;
	o.timeout_ms = cfg->send_timeout_ms;
	o.max_conns = cfg->send_inflight;
	rate_pair_limit(&s->plimit, cfg->pair_burst, cfg->pair_interval_ms);
	if ((s->slots = calloc((size_t)s->nslots, sizeof(*s->slots))) ==
	    NULL || (s->start = calloc((size_t)s->nslots + MEDIA_SLOTS +
	    AGENT_SLOTS, sizeof(*s->start))) == NULL ||
	    (s->pairs = rate_pairs_new(RATE_PAIR_SLOTS)) == NULL ||
	    (s->wa = wa_new(&o)) == NULL) {
		log_warnx("%s: cannot set up the sender", __func__);
		sender_free(s);
		return NULL;
	}
	return s;
}

/* Closes and removes a slot's temporary file, if any. */
static void
media_discard(struct mslot *ms)
{
	if (ms->fd != -1)
		(void)close(ms->fd);
	ms->fd = -1;
	if (ms->tmp[0] != '\0' && unlink(ms->tmp) == -1 && errno != ENOENT)
		log_warn("%s: unlink %s", __func__, ms->tmp);
	ms->tmp[0] = '\0';
	sig_sha256_free(ms->hash);
	ms->hash = NULL;
	ms->written = 0;
}

void
sender_free(struct sender *s)
{
	int i;

	if (s == NULL)
		return;
	wa_free(s->wa);
	for (i = 0; i < MEDIA_SLOTS; i++)
		media_discard(&s->mslots[i]);
	for (i = 0; s->slots != NULL && i < s->nslots; i++)
		db_outbox_item_clear(&s->slots[i].it);
	for (i = 0; i < AGENT_SLOTS; i++)
		db_agent_item_clear(&s->aslots[i].it);
	free(s->slots);
	free(s->start);
	rate_pairs_free(s->pairs);
	numbers_free(&s->numbers);
	free(s);
}

/*
 * Removes the temporary download files a stopped worker left in the
 * media directory (one worker runs at a time: none is in use now).
 */
static void
media_sweep(const struct sender *s)
{
	DIR		*d;
	struct dirent	*e;
	char		 path[4400];
	int		 n;

	if ((d = opendir(s->cfg->media_dir)) == NULL)
		return;		/* none yet */
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, ".part-", 6) != 0)
			continue;
		n = snprintf(path, sizeof(path), "%s/%s", s->cfg->media_dir,
		    e->d_name);
		if (n < 0 || (size_t)n >= sizeof(path))
			continue;
		if (unlink(path) == -1)
			log_warn("%s: unlink %s", __func__, path);
	}
	(void)closedir(d);
}

/* A number of the numbers table, for sender_start(). */
struct pnids {
	char	(*v)[40];
	size_t	  n;
	int	  oom;
};

static void
on_number(void *arg, const char *const *col)
{
	struct pnids	*l = arg;
	char		(*v)[40];

	if (l->oom || col[0] == NULL || strlen(col[0]) >= sizeof(*v))
		return;
	if ((v = reallocarray(l->v, l->n + 1, sizeof(*v))) == NULL) {
		l->oom = 1;
		return;
	}
	l->v = v;
	(void)strlcpy(l->v[l->n++], col[0], sizeof(*v));
}

/*
 * At start: rows a crashed worker left sending are requeued, every
 * number (those of the table and WHATSAPP_PHONE_NUMBER_ID) is loaded,
 * so that a token unset is logged now and a pause for a token since
 * replaced is lifted, and half-done downloads are removed.  0 or -1.
 */
int
sender_start(struct sender *s)
{
	struct pnids	 l = { NULL, 0, 0 };
	struct number	*num;
	int64_t		 now = clock_now_ms();
	size_t		 i;
	int		 n;

	media_sweep(s);
	if (db_begin(s->db) != DB_OK)
		return -1;
	if ((n = db_outbox_recover(s->db, now)) < 0 ||
	    db_number_list(s->db, on_number, &l) < 0 || l.oom)
		goto fail;
	if (n > 0)
		log_warnx("requeued %d outbox rows a stopped worker left "
		    "sending; Meta may see up to one of each twice", n);
	if ((num = number_get(s, s->cfg->phone_number_id)) == NULL ||
	    number_load(s, num, now) == -1)
		goto fail;
	for (i = 0; i < l.n; i++)
		if ((num = number_get(s, l.v[i])) == NULL ||
		    number_load(s, num, now) == -1)
			goto fail;
	free(l.v);
	return db_commit(s->db);
fail:
	free(l.v);
	db_rollback(s->db);
	return -1;
}

static void
slot_release(struct slot *sl)
{
	db_outbox_item_clear(&sl->it);
	sl->used = 0;
}

/* 1 when sending from n's number is paused now. */
static int
paused(struct sender *s, struct number *n, int64_t now)
{
	struct db_pause	p;
	int		rc;

	if (n->checked != 0 && now - n->checked < 500)
		return n->paused;
	n->checked = now;
	if ((rc = db_sender_get(s->db, n->pnid, &p)) == -1)
		return 1;
	n->paused = rc == 1;
	n->resume_ms = p.resume_at > 0 ? p.resume_at * 1000 : now +
	    TOKEN_WAIT_MS;
	if (n->paused && p.resume_at > 0 && now / 1000 >= p.resume_at) {
		log_info("%s: breaker closed after %d s; sending resumes",
		    n->pnid, BREAKER_S);
		n->paused = db_sender_resume(s->db, n->pnid,
		    (int64_t)time(NULL)) == -1;
	}
	return n->paused;
}

/* 1 when answer r fails the row for good (send_result() below). */
static int
send_final(const struct sender *s, const struct graph_reply *r, int tries)
{
	switch (r->action) {
	case GRAPH_FAIL:
	case GRAPH_OPTED_OUT:
		return 1;
	case GRAPH_RETRY:
	case GRAPH_RETRY_NUMBER:
	case GRAPH_RETRY_PAIR:
		return tries >= s->cfg->max_attempts;
	default:
		return 0;
	}
}

/*
 * The one line for a send that failed for good, in the stable event form:
 *   event=send_failed outbox=ID number=PNID code=META_CODE attempts=N
 *   action=fail|opted_out|retry... fbtrace="ID" title="Meta's title"
 * code is Meta's error code (0: no answer, e.g. a timeout); the title is
 * Meta's words, escaped; never the message.
 */
static void
send_failed_event(const struct slot *sl, const struct graph_reply *r,
    int tries)
{
	char	 title[300], trace[100];

	/* Cut to fit one line; quoted, as both are Meta's words. */
	(void)log_escape(title, sizeof(title), r->title, strlen(r->title));
	(void)log_escape(trace, sizeof(trace), r->fbtrace, strlen(r->fbtrace));
	log_event("send_failed", "outbox=%" PRId64 " number=%s code=%" PRId64
	    " attempts=%d action=%s fbtrace=\"%s\" title=\"%s\"", sl->it.id,
	    sl->it.pnid, r->code, tries, graph_action_names[r->action], trace,
	    title);
}

/*
 * Records what Meta answered for slot i (a send, or an upload that
 * failed).  Returns 0, or -1 on a database error (the step rolls back).
 */
static int
send_result(struct sender *s, int i, const struct graph_reply *r,
    int64_t now)
{
	struct slot	*sl = &s->slots[i];
	struct number	*n = number_get(s, sl->it.pnid);
	struct number	 none;
	struct rate_bucket *pb = NULL;
	int64_t		 next;
	int		 tries = sl->it.attempts + 1, rc = 0;

	if (n == NULL) {
		/* Out of memory: record the answer all the same. */
		memset(&none, 0, sizeof(none));
		(void)strlcpy(none.pnid, sl->it.pnid, sizeof(none.pnid));
		n = &none;
	}

	if (sl->it.recipient[0] != '\0')
		pb = rate_pair_get(s->pairs, &s->plimit, sl->it.pnid,
		    sl->it.recipient, now);
	if (send_final(s, r, tries))
		send_failed_event(sl, r, tries);
	else if (r->action != GRAPH_OK)
		log_warnx("outbox %" PRId64 ": %s (code %" PRId64 "%s%s): %s",
		    sl->it.id, graph_action_names[r->action], r->code,
		    r->fbtrace[0] ? ", fbtrace " : "", r->fbtrace, r->title);
	switch (r->action) {
	case GRAPH_OK:
		if (pb != NULL)
			pb->fails = 0;
		n->b.fails = 0;
		rc = db_outbox_accept(s->db, sl->it.id, r->id[0] ? r->id :
		    NULL, now);
		break;
	case GRAPH_RETRY_PAIR:
		/* Reference 9.2: retry that recipient after 4^n seconds. */
		next = pb != NULL ? rate_pair_refused(pb, now) : now + 1000;
		goto retry;
	case GRAPH_RETRY_NUMBER:
		n->b.fails++;
		n->b.blocked = now + backoff(n->b.fails);
		next = n->b.blocked;
		goto retry;
	case GRAPH_RETRY:
		next = now + backoff(tries);
retry:
		if (tries >= s->cfg->max_attempts) {
			rc = db_outbox_fail(s->db, sl->it.id, r->code, r->title,
			    r->details[0] ? r->details : "gave up after the "
			    "last attempt (WA_SEND_MAX_ATTEMPTS)");
			break;
		}
		rc = db_outbox_retry(s->db, sl->it.id, next, r->code,
		    r->title, r->details);
		break;
	case GRAPH_OPTED_OUT:
		if (db_opt_set(s->db, sl->it.pnid, sl->it.recipient, 1,
		    now / 1000) == -1)
			rc = -1;
		/* FALLTHROUGH */
	case GRAPH_FAIL:
		if (rc == 0)
			rc = db_outbox_fail(s->db, sl->it.id, r->code, r->title,
			    r->details);
		break;
	case GRAPH_PAUSE_TOKEN:
		/* Only the numbers using that token stop. */
		if (pause_token(s, n, r->code, now) == -1 ||
		    db_outbox_retry(s->db, sl->it.id, now + 1000, r->code,
		    r->title, r->details) == -1)
			rc = -1;
		break;
	case GRAPH_BREAKER:
		n->paused = 1;
		n->checked = now;
		n->resume_ms = now + BREAKER_S * 1000LL;
		if (db_sender_pause(s->db, sl->it.pnid, "spam_limit", r->code,
		    now / 1000 + BREAKER_S, NULL, (int64_t)time(NULL)) == -1 ||
		    db_outbox_retry(s->db, sl->it.id, now + BREAKER_S * 1000LL,
		    r->code, r->title, r->details) == -1)
			rc = -1;
		break;
	case GRAPH__MAX:
		break;
	}
	slot_release(sl);
	return rc;
}

/* An upload came back: on success the send follows in the same slot. */
static int
upload_result(struct sender *s, int i, const struct graph_reply *r)
{
	struct slot	*sl = &s->slots[i];
	struct msg	 m;
	struct stat	 st;
	const char	*rel = NULL;
	size_t		 n = strlen(s->cfg->media_dir);

	if (r->action != GRAPH_OK)
		return send_result(s, i, r, clock_now_ms());
	memset(&m, 0, sizeof(m));
	m.body = sl->it.body;
	if (msg_set_media_id(&m, r->id) == -1) {
		struct graph_reply	bad;

		memset(&bad, 0, sizeof(bad));
		bad.action = GRAPH_FAIL;
		(void)strlcpy(bad.title, "the queued body has no media "
		    "placeholder", sizeof(bad.title));
		return send_result(s, i, &bad, clock_now_ms());
	}
	sl->it.body = m.body;
	if (stat(sl->it.media_file, &st) == -1)
		st.st_size = 0;
	/*
	 * A file inside the media directory (an inbox upload) is named by
	 * its media row, so the inbox can show what was sent (and
	 * retention and erasure remove it with the message).
	 */
	if (strncmp(sl->it.media_file, s->cfg->media_dir, n) == 0 &&
	    sl->it.media_file[n] == '/')
		rel = sl->it.media_file + n + 1;
	if (db_outbox_set_body(s->db, sl->it.id, sl->it.body) == -1 ||
	    db_media_out_insert(s->db, sl->it.pnid, r->id, sl->it.media_mime,
	    NULL, (int64_t)st.st_size, rel, (int64_t)time(NULL)) == -1)
		return -1;
	sl->stage = T_SEND;
	s->start[s->nstart++] = i;
	return 0;
}

/* Largest file taken for a MIME type (reference 9.6). */
static size_t
media_cap(const char *mime)
{
	if (strcmp(mime, "image/webp") == 0)
		return 500 * 1024;
	if (strncmp(mime, "image/", 6) == 0)
		return 5 * 1024 * 1024;
	if (strncmp(mime, "video/", 6) == 0 || strncmp(mime, "audio/", 6) == 0)
		return 16 * 1024 * 1024;
	return 100 * 1024 * 1024;
}

static int
media_failed(struct sender *s, struct mslot *ms, int final, const char *why)
{
	int64_t next = clock_now_ms() + 30000LL * (1LL << (ms->it.attempts > 6 ? 6 :
	    ms->it.attempts));

	final = final || ms->it.attempts + 1 >= MEDIA_TRIES;
	log_warnx("media row %" PRId64 ": %s%s", ms->it.id, why, final ?
	    "; given up" : "; will retry");
	media_discard(ms);
	ms->used = 0;
	return db_media_retry(s->db, ms->it.id, final, next, why);
}

/* Takes downloaded bytes: into the temporary file and the digest. */
static int
media_sink(void *arg, const void *p, size_t n)
{
	struct mslot	*ms = arg;
	const char	*c = p;
	size_t		 off;
	ssize_t		 w;

	for (off = 0; off < n; off += (size_t)w)
		if ((w = write(ms->fd, c + off, n - off)) <= 0) {
			log_warn("%s: write %s", __func__, ms->tmp);
			return -1;
		}
	ms->written += (int64_t)n;
	return sig_sha256_update(ms->hash, p, n);
}

/*
 * Opens a temporary file for slot ms in the media directory (so the
 * final rename stays on one file system).  0 or -1, logged.
 */
static int
media_open(struct sender *s, struct mslot *ms)
{
	int n;

	n = snprintf(ms->tmp, sizeof(ms->tmp), "%s/.part-XXXXXX",
	    s->cfg->media_dir);
	if (n < 0 || (size_t)n >= sizeof(ms->tmp)) {
		ms->tmp[0] = '\0';
		return -1;
	}
	if (cfg_media_mkdir(s->cfg->media_dir) == -1) {
		log_warn("%s: mkdir %s", __func__, s->cfg->media_dir);
		ms->tmp[0] = '\0';
		return -1;
	}
	if ((ms->fd = mkostemp(ms->tmp, O_CLOEXEC)) == -1) {
		log_warn("%s: mkstemp %s", __func__, ms->tmp);
		ms->tmp[0] = '\0';
		return -1;
	}
	if (fchmod(ms->fd, 0640) == -1 || (ms->hash = sig_sha256_new()) ==
	    NULL) {
		media_discard(ms);
		return -1;
	}
	ms->written = 0;
	return 0;
}

/*
 * Moves the finished temporary file to its content-addressed place under
 * media_dir, ab/<sha>.  Returns 0 with rel set, or -1 (logged).
 */
static int
media_keep(struct sender *s, struct mslot *ms, const char *sha, char *rel,
    size_t relsz)
{
	char	 dir[4200], path[4400];
	int	 n;

	if ((n = snprintf(rel, relsz, "%.2s/%s", sha, sha)) < 0 ||
	    (size_t)n >= relsz ||
	    (n = snprintf(dir, sizeof(dir), "%s/%.2s", s->cfg->media_dir,
	    sha)) < 0 || (size_t)n >= sizeof(dir) ||
	    (n = snprintf(path, sizeof(path), "%s/%s", s->cfg->media_dir,
	    rel)) < 0 || (size_t)n >= sizeof(path))
		return -1;
	if (cfg_media_mkdir(dir) == -1) {
		log_warn("%s: mkdir %s", __func__, dir);
		return -1;
	}
	if (fsync(ms->fd) == -1) {
		log_warn("%s: fsync %s", __func__, ms->tmp);
		return -1;
	}
	if (close(ms->fd) == -1) {
		ms->fd = -1;
		log_warn("%s: close %s", __func__, ms->tmp);
		return -1;
	}
	ms->fd = -1;
	if (rename(ms->tmp, path) == -1) {
		log_warn("%s: rename %s", __func__, path);
		return -1;
	}
	ms->tmp[0] = '\0';
	return 0;
}

/*
 * Starts the media-info call of slot i (reference 10.1), the ids escaped
 * so one from a webhook body cannot change the path or query the access
 * token goes to.  0 or -1.
 */
static int
media_ask(struct sender *s, int i)
{
	struct mslot	*ms = &s->mslots[i];
	char		 id[400], pnid[130], path[600];
	int		 n;

	if (url_escape(ms->it.media_id, id, sizeof(id)) == -1 ||
	    url_escape(ms->it.pnid, pnid, sizeof(pnid)) == -1 ||
	    (n = snprintf(path, sizeof(path), "/%s?phone_number_id=%s", id,
	    pnid)) < 0 || (size_t)n >= sizeof(path) ||
	    use_token(s, ms->it.pnid) == -1)
		return -1;
	ms->stage = T_MINFO;
	return wa_get(s->wa, (uint64_t)T_MINFO << 32 | (uint64_t)i, path,
	    64 * 1024, s->cfg->send_timeout_ms);
}

/* A media download step came back (info, then the file itself). */
static int
media_result(struct sender *s, int i, struct wa_result *res)
{
	struct mslot		*ms = &s->mslots[i];
	struct graph_reply	 r;
	const char		*why;
	char			 sha[65], rel[200], msg[300], path[4400];
	int64_t			 size;
	int			 rc, n;

	if (ms->stage == T_MINFO) {
		graph_reply_parse(GRAPH_WANT_MEDIA, res->http, res->transport[0] ?
		    res->transport : NULL, res->body.p, res->body.len, &r);
		if (r.action != GRAPH_OK)
			return media_failed(s, ms, r.action == GRAPH_FAIL,
			    r.title);
		(void)strlcpy(ms->mime, r.mime, sizeof(ms->mime));
		(void)strlcpy(ms->sha, r.sha256, sizeof(ms->sha));
		ms->size = r.file_size;
		if (r.file_size > (int64_t)media_cap(r.mime))
			return media_failed(s, ms, 1, "file larger than Meta "
			    "allows for its type");
		if (!wa_token_url_ok(s->wa, r.url, &why)) {
			(void)snprintf(msg, sizeof(msg), "the media URL %s",
			    why);
			return media_failed(s, ms, 0, msg);
		}
		if (media_open(s, ms) == -1)
			return media_failed(s, ms, 0, "cannot create a "
			    "temporary file in the media directory");
		ms->stage = T_MFILE;
		if (use_token(s, ms->it.pnid) == -1 || wa_download(s->wa, (uint64_t)T_MFILE << 32 | (uint64_t)i,
		    r.url, (int64_t)media_cap(r.mime), MEDIA_TIMEOUT, media_sink,
		    ms) == -1)
			return media_failed(s, ms, 0, "cannot start the "
			    "download");
		return 0;
	}
	if (res->transport[0] != '\0')
		return media_failed(s, ms, 0, res->transport);
	/*
	 * Reference 10.2: an expired URL (401/404) means asking again, once
	 * within this attempt; a media host that keeps refusing the token
	 * is retried later with backoff, not hammered.
	 */
	if (res->http != 200) {
		if ((res->http == 401 || res->http == 403 || res->http == 404 ||
		    res->http == 410) && !ms->reasked) {
			media_discard(ms);
			ms->reasked = 1;
			if (media_ask(s, i) == 0)
				return 0;
			return media_failed(s, ms, 0, "cannot ask for a fresh "
			    "download URL");
		}
		(void)snprintf(msg, sizeof(msg), res->http == 401 ||
		    res->http == 403 ? "the media host refused the access "
		    "token (HTTP %ld)" : res->http == 404 || res->http == 410 ?
		    "the download URL expired or is gone (HTTP %ld)" :
		    "the download URL answered HTTP %ld", res->http);
		return media_failed(s, ms, 0, msg);
	}
	if (sig_sha256_final(ms->hash, sha) == -1)
		return media_failed(s, ms, 0, "cannot hash the file");
	if ((ms->sha[0] && !sig_digest_matches(ms->sha, sha)) ||
	    (ms->it.sha[0] && !sig_digest_matches(ms->it.sha, sha)))
		return media_failed(s, ms, 0, "sha256 does not match");
	if (ms->size >= 0 && ms->written != ms->size)
		return media_failed(s, ms, 0, "size does not match file_size");
	if (media_keep(s, ms, sha, rel, sizeof(rel)) == -1)
		return media_failed(s, ms, 0, "cannot write the file");
	size = ms->written;
	media_discard(ms);
	ms->used = 0;
	if ((rc = db_media_stored(s->db, ms->it.id, ms->mime[0] ? ms->mime :
	    NULL, sha, size, rel, (int64_t)time(NULL))) != 0)
		return rc == 1 ? 0 : -1;
	/*
	 * The contact was erased while the file came in (issue 10, item
	 * 14): the file must not outlive its row, unless another row has
	 * the same content.
	 */
	if ((rc = db_media_path_used(s->db, rel)) == -1)
		return -1;
	if (rc == 0 && (n = snprintf(path, sizeof(path), "%s/%s",
	    s->cfg->media_dir, rel)) > 0 && (size_t)n < sizeof(path) &&
	    unlink(path) == -1 && errno != ENOENT)
		log_warn("%s: unlink %s", __func__, path);
	log_info("media %lld: its row was erased during the download; the "
	    "file was not kept", (long long)ms->it.id);
	return 0;
}

/* Reaps every finished call.  0, or -1 on a database error. */
static int
reap(struct sender *s)
{
	struct wa_result	 res;
	struct graph_reply	 r;
	enum tag		 t;
	int			 i, rc = 0;

	while (wa_done(s->wa, &res) == 1) {
		t = (enum tag)(res.tag >> 32);
		i = (int)(res.tag & 0xffffffff);
		if (t == T_SEND && res.resent > 0) {
			/* Meta may have the message twice: count each. */
			log_warnx("outbox %" PRId64 ": libcurl sent the request "
			    "%d more time(s) on a new connection after a reused "
			    "one closed unanswered", s->slots[i].it.id,
			    res.resent);
			s->slots[i].it.attempts += res.resent;
			if (db_outbox_resent(s->db, s->slots[i].it.id,
			    res.resent) == -1)
				rc = -1;
		}
		if (t == T_SEND || t == T_UPLOAD) {
			graph_reply_parse(t == T_SEND ? GRAPH_WANT_SEND :
			    GRAPH_WANT_ID, res.http, res.transport[0] ?
			    res.transport : NULL, res.body.p, res.body.len, &r);
			if ((t == T_SEND ? send_result(s, i, &r, clock_now_ms()) :
			    upload_result(s, i, &r)) == -1)
				rc = -1;
		} else if (t == T_AGENT) {
			struct aslot *as = &s->aslots[i];

			if (chat_agent_done(s->db, as->it.id, as->it.pnid,
			    as->it.recipient, as->it.attempts + 1, res.http,
			    res.transport, res.body.p, res.body.len) == -1)
				rc = -1;
			db_agent_item_clear(&as->it);
			as->used = 0;
		} else if (media_result(s, i, &res) == -1)
			rc = -1;
		buf_clear(&res.body);
	}
	return rc;
}

static int
free_slot(const struct sender *s)
{
	int i;

	for (i = 0; i < s->nslots; i++)
		if (!s->slots[i].used)
			return i;
	return -1;
}

/*
 * Claims due rows the limits allow into free slots (started after the
 * commit).  Returns ms until rows may be due again, or -1 on error.
 */
static long
dispatch(struct sender *s, int64_t now)
{
	struct db_outbox_item	 due[DUE_MAX];
	struct msg_err		 err;
	struct number		*n;
	struct rate_bucket	*pb;
	int64_t			 wake = now + IDLE_MS, t;
	int			 nd, k, i, want = 0, ask, full;

	for (i = 0; i < s->nslots; i++)
		want += !s->slots[i].used;
	if (want == 0)
		return IDLE_MS;
	ask = want * 2 < DUE_MAX ? want * 2 : DUE_MAX;
	if ((nd = db_outbox_due(s->db, now, due, ask)) < 0)
		return -1;
	/* More may be due behind these: none may wait on another number. */
	full = nd == ask;
	for (k = 0; k < nd; k++) {
		struct db_outbox_item *it = &due[k];

		if ((n = number_get(s, it->pnid)) == NULL)
			goto next;
		if (number_load(s, n, now) == -1)
			goto fail;
		if (n->removed) {
			/* Never called Meta: nothing to retry. */
			log_warnx("outbox %" PRId64 ": number %s was removed; "
			    "not sent", it->id, n->pnid);
			if (db_outbox_fail(s->db, it->id, 0, "number_removed",
			    "The business number was removed (wactl numbers "
			    "remove), so nothing was sent; add it again with "
			    "wactl numbers add to send from it.") == -1)
				goto fail;
			goto next;
		}
		if (paused(s, n, now)) {
			if (full && db_outbox_defer(s->db, it->id,
			    n->resume_ms > now ? n->resume_ms : now +
			    TOKEN_WAIT_MS) == -1)
				goto fail;
			goto next;
		}
		rate_refill(&n->b, &n->limit, now);
		if (!rate_ready(&n->b, &n->limit, now)) {
			if ((t = rate_ready_at(&n->b, &n->limit, now)) < wake)
				wake = t;
			/*
			 * Moved back to when its number's bucket will let it
			 * go, one token apart, so that other numbers' rows
			 * behind it are seen.
			 */
			if (full) {
				if (n->sched < t)
					n->sched = t;
				if (db_outbox_defer(s->db, it->id, n->sched) ==
				    -1)
					goto fail;
				n->sched += (n->limit.per + n->limit.add - 1) /
				    (n->limit.add > 0 ? n->limit.add : 1);
			}
			goto next;
		}
		pb = NULL;
		if (it->recipient[0] != '\0' && strcmp(it->kind, "read") != 0) {
			if ((pb = rate_pair_get(s->pairs, &s->plimit, it->pnid,
			    it->recipient, now)) == NULL)
				goto next;
			rate_refill(pb, &s->plimit, now);
			if (!rate_ready(pb, &s->plimit, now)) {
				/* Step aside: the others go first. */
				if (db_outbox_defer(s->db, it->id,
				    rate_ready_at(pb, &s->plimit, now)) == -1)
					goto fail;
				goto next;
			}
		}
		switch (outbox_check(s->db, it->pnid, it->recipient, it->kind,
		    it->free_form, it->optout_ack, now / 1000, &err)) {
		case OUTBOX_OK:
			break;
		case OUTBOX_ERROR:
			goto fail;
		default:
			/* Never called Meta: nothing to retry. */
			log_warnx("outbox %" PRId64 ": %s", it->id, err.code);
			if (db_outbox_fail(s->db, it->id, 0, err.code,
			    err.message) == -1)
				goto fail;
			goto next;
		}
		if ((i = free_slot(s)) == -1)
			goto next;
		switch (db_outbox_claim(s->db, it->id, now +
		    s->cfg->send_timeout_ms * 2 + 5000)) {
		case 1:
			break;
		case 0:
			goto next;
		default:
			goto fail;
		}
		rate_spend(&n->b, &n->limit);
		if (pb != NULL)
			rate_spend(pb, &s->plimit);
		s->slots[i].used = 1;
		s->slots[i].it = *it;
		s->slots[i].stage = it->media_file != NULL ? T_UPLOAD : T_SEND;
		memset(it, 0, sizeof(*it));
		s->start[s->nstart++] = i;
next:
		db_outbox_item_clear(it);
	}
	return (long)(wake - now);
fail:
	for (; k < nd; k++)
		db_outbox_item_clear(&due[k]);
	return -1;
}

/*
 * 1 when the media disk has less than WA_MEDIA_MIN_FREE_MB free (or its
 * free space cannot be read); logs when that changes.
 */
static int
disk_low(struct sender *s)
{
	int low = cfg_media_disk_low(s->cfg);

	if (low != s->disk_low)
		log_warnx(low ? "less than WA_MEDIA_MIN_FREE_MB (%ld MB) free "
		    "on the media disk: downloads wait" : "the media disk has "
		    "%ld MB free again: downloads resume",
		    s->cfg->media_min_free_mb);
	return s->disk_low = low;
}

/*
 * 1 when media row it is past WA_MEDIA_MAX_PER_CONTACT_DAY (it is then
 * recorded failed with the reason, never retried), 0 when it may be
 * fetched, -1 on a database error.
 */
static int
over_contact_cap(struct sender *s, const struct db_media_item *it,
    int64_t now)
{
	int64_t n;

	if (s->cfg->media_per_contact_day <= 0)
		return 0;
	if ((n = db_media_contact_recent(s->db, it->id, now / 1000 - 86400)) <
	    0)
		return -1;
	if (n < s->cfg->media_per_contact_day)
		return 0;
	log_warnx("media row %" PRId64 ": skipped, the contact sent more than "
	    "WA_MEDIA_MAX_PER_CONTACT_DAY (%ld) files in 24 hours", it->id,
	    s->cfg->media_per_contact_day);
	return db_media_retry(s->db, it->id, 1, 0, "skipped: the contact "
	    "sent more files in 24 hours than WA_MEDIA_MAX_PER_CONTACT_DAY "
	    "allows") == -1 ? -1 : 1;
}

/* Claims due media downloads.  0 or -1. */
static int
dispatch_media(struct sender *s, int64_t now)
{
	struct db_media_item	 due[MEDIA_SLOTS];
	struct number		*num;
	int			 nd, k, i, rc;

	for (i = 0, k = 0; i < MEDIA_SLOTS; i++)
		k += !s->mslots[i].used;
	if (k == 0 || disk_low(s))
		return 0;	/* the floor: they wait, unclaimed */
	if ((nd = db_media_due(s->db, now, due, k)) <= 0)
		return nd;
	for (k = 0; k < nd; k++) {
		if ((rc = over_contact_cap(s, &due[k], now)) == -1)
			return -1;
		if (rc == 1)
			continue;
		/* Its number's token: without one, due again after the claim. */
		if ((num = number_get(s, due[k].pnid)) != NULL &&
		    number_load(s, num, now) == -1)
			return -1;
		for (i = 0; i < MEDIA_SLOTS && s->mslots[i].used; i++)
			continue;
		/* Due again in 10 minutes should this worker die. */
		if (db_media_claim(s->db, due[k].id, now + 600000) == -1)
			return -1;
		memset(&s->mslots[i], 0, sizeof(s->mslots[i]));
		s->mslots[i].fd = -1;
		s->mslots[i].used = 1;
		s->mslots[i].stage = T_MINFO;
		s->mslots[i].it = due[k];
		s->mslots[i].size = -1;
		s->start[s->nstart++] = s->nslots + i;
	}
	return 0;
}

/* Claims due AI agent calls.  0 or -1. */
static int
dispatch_agents(struct sender *s, int64_t now)
{
	struct db_agent_item	 due[AGENT_SLOTS];
	struct db_number	 row;
	const char		*why;
	char			 url[600];
	int			 nd, k, i, rc;

	for (i = 0, k = 0; i < AGENT_SLOTS; i++)
		k += !s->aslots[i].used;
	if (k == 0 || (nd = db_agent_due(s->db, now, due, k)) <= 0)
		return k == 0 ? 0 : nd;
	for (k = 0; k < nd; k++) {
		/*
		 * DESIGN rule 9: only a configured agent is called, whatever
		 * a row queued earlier (or by an older version) names.
		 */
		why = NULL;
		if (s->cfg->agent_secret == NULL ||
		    s->cfg->agent_secret[0] == '\0')
			why = "WA_AGENT_SECRET is not set, so the call could "
			    "not be signed; not called";
		else if ((rc = db_number_get(s->db, due[k].pnid, &row)) ==
		    -1) {
			while (k < nd)
				db_agent_item_clear(&due[k++]);
			return -1;
		} else if (!cfg_agent_known_in(s->cfg, rc == 1 &&
		    strcmp(row.pnid, due[k].pnid) == 0 && row.removed_at == 0 &&
		    row.flow_path[0] != '\0' ? row.flow_path : NULL, due[k].url,
		    url, sizeof(url)))
			why = "the agent is not configured (WA_AGENTS, the "
			    "flow's agent_url); not called";
		if (why != NULL) {
			log_warnx("agent call %" PRId64 ": %s", due[k].id, why);
			rc = chat_agent_answer(s->db, due[k].pnid,
			    due[k].recipient, NULL) == -1 || db_agent_finish(s->db,
			    due[k].id, "failed", 0, why) == -1;
			db_agent_item_clear(&due[k]);
			if (rc) {
				while (++k < nd)
					db_agent_item_clear(&due[k]);
				return -1;
			}
			continue;
		}
		for (i = 0; i < AGENT_SLOTS && s->aslots[i].used; i++)
			continue;
		if (db_agent_claim(s->db, due[k].id) != 1) {
			db_agent_item_clear(&due[k]);
			continue;
		}
		s->aslots[i].used = 1;
		s->aslots[i].it = due[k];
		s->start[s->nstart++] = s->nslots + MEDIA_SLOTS + i;
	}
	return 0;
}

/*
 * Starts an agent call: the body signed with WA_AGENT_SECRET in
 * X-Signature-256 (sha256=<hex HMAC>, as Meta signs its webhooks), so the
 * agent can trust it.  Never the access token.
 */
static int
start_agent(struct sender *s, int i)
{
	struct aslot	*as = &s->aslots[i];
	char		 hex[65], hdr[100];

	if (sig_hmac_hex(s->cfg->agent_secret, as->it.body,
	    strlen(as->it.body), hex) == -1)
		return -1;
	(void)snprintf(hdr, sizeof(hdr), "X-Signature-256: sha256=%s", hex);
	return wa_post_ext(s->wa, (uint64_t)T_AGENT << 32 | (uint64_t)i,
	    as->it.url, as->it.body, hdr, s->cfg->agent_timeout_ms);
}

/* The send body with our outbox id as biz_opaque_callback_data. */
static char *
with_callback(const struct db_outbox_item *it)
{
	char *p;

	if (strcmp(it->kind, "read") == 0 || it->body[0] != '{')
		return strdup(it->body);
	if (asprintf(&p, "{\"biz_opaque_callback_data\":\"outbox:%" PRId64
	    "\",%s", it->id, it->body + 1) == -1)
		return NULL;
	return p;
}

/* Starts the calls of the slots claimed in this step. */
static void
start_calls(struct sender *s)
{
	char		 path[256], *body;
	int		 k, i, rc;
	struct slot	*sl;
	struct mslot	*ms;

	for (k = 0; k < s->nstart; k++) {
		i = s->start[k];
		if (i >= s->nslots + MEDIA_SLOTS) {
			i -= s->nslots + MEDIA_SLOTS;
			if (start_agent(s, i) == -1) {
				/* Left sending: a restart requeues it. */
				log_warnx("agent call %" PRId64 ": cannot start",
				    s->aslots[i].it.id);
				db_agent_item_clear(&s->aslots[i].it);
				s->aslots[i].used = 0;
			}
			continue;
		}
		if (i >= s->nslots) {
			ms = &s->mslots[i - s->nslots];
			if (media_ask(s, i - s->nslots) == -1)
				ms->used = 0;	/* due again later */
			continue;
		}
		sl = &s->slots[i];
		if (use_token(s, sl->it.pnid) == -1)
			rc = -1;	/* cannot be: dispatch checked */
		else if (sl->stage == T_UPLOAD)
			rc = wa_upload(s->wa, (uint64_t)T_UPLOAD << 32 |
			    (uint64_t)i, sl->it.pnid, sl->it.media_file,
			    sl->it.media_mime);
		else {
			(void)snprintf(path, sizeof(path), "/%s/messages",
			    sl->it.pnid);
			rc = -1;
			if ((body = with_callback(&sl->it)) != NULL) {
				rc = wa_post_json(s->wa, (uint64_t)T_SEND << 32 |
				    (uint64_t)i, path, body);
				free(body);
			}
		}
		if (rc == -1) {
			/* Left sending: the next start requeues it. */
			log_warnx("outbox %" PRId64 ": cannot start the call",
			    sl->it.id);
			slot_release(sl);
		}
	}
	s->nstart = 0;
}

/*
 * One pass: record what finished, then (when dispatch) claim what is due.
 * Returns ms until the sender wants another pass.
 */
long
sender_step(struct sender *s, int dispatch_new)
{
	int64_t	 now = clock_now_ms(), due[3], locked;
	long	 wait = IDLE_MS, w;
	int	 k;

	if (db_begin(s->db) != DB_OK)
		return 100;
	locked = clock_mono_us();
	if (reap(s) == -1)
		goto fail;
	if (dispatch_new) {
		if ((w = dispatch(s, now)) < 0 || dispatch_media(s, now) == -1 ||
		    dispatch_agents(s, now) == -1)
			goto fail;
		if (w < wait)
			wait = w;
		/*
		 * Rows that fall due later.  Those due now that could not go
		 * wait on a free slot or a call in flight (sender_wait wakes
		 * on their sockets) or on the number's bucket (dispatch's w).
		 */
		due[0] = db_outbox_next_due(s->db, now);
		due[1] = db_media_next_due(s->db, now);
		due[2] = db_agent_next_due(s->db, now);
		for (k = 0; k < 3; k++)
			if (due[k] > now && due[k] - now < wait)
				wait = (long)(due[k] - now);
	}
	if (db_commit(s->db) == -1) {
		s->nstart = 0;
		return 100;
	}
	/* Responders wait while the lock is held: say when it was long. */
	if ((w = (long)((clock_mono_us() - locked) / 1000)) >= 100)
		log_warnx("sender: the write lock was held %ld ms for one pass",
		    w);
	start_calls(s);
	return wait < 0 ? 0 : wait;
fail:
	db_rollback(s->db);
	/* Claims were undone with the rest; forget their slots. */
	for (k = 0; k < s->nstart; k++) {
		int i = s->start[k];

		if (i < s->nslots)
			slot_release(&s->slots[i]);
		else if (i < s->nslots + MEDIA_SLOTS)
			s->mslots[i - s->nslots].used = 0;
		else {
			db_agent_item_clear(&s->aslots[i - s->nslots -
			    MEDIA_SLOTS].it);
			s->aslots[i - s->nslots - MEDIA_SLOTS].used = 0;
		}
	}
	s->nstart = 0;
	return 100;
}

int
sender_wait(struct sender *s, int fd, long timeout_ms)
{
	return wa_wait(s->wa, fd, timeout_ms);
}

/* sender_wait() that also wakes on more (other multi handles' sockets). */
int
sender_wait_more(struct sender *s, int fd, const struct pollfd *more,
    int nmore, long timeout_ms)
{
	return wa_wait_more(s->wa, fd, more, nmore, timeout_ms);
}

/* Calls in flight. */
int
sender_busy(const struct sender *s)
{
	return wa_running(s->wa);
}
