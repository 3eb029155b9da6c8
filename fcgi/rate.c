/*
 * rate.c: the token buckets that pace the sender (reference section 9).
 * Pure: the time comes in as an argument (ms), nothing reads a clock, a
 * file or a socket, so tests/unit/test_rate.c checks the numbers exactly.
 *
 * - A business number may send WA_SEND_RATE messages a second (Meta's
 *   default is 80, reference 9.1): its bucket refills at that rate and
 *   holds a tenth of a second's worth (at least one), so a quiet number
 *   may send a small burst at once, and over any longer stretch no more
 *   than the rate and that burst.
 * - One recipient of one number may get WA_PAIR_BURST messages at once,
 *   then one every WA_PAIR_INTERVAL_MS (Meta: about one every 6 s, bursts
 *   borrow from later, reference 9.2).  Recipients are kept in an open
 *   addressing table of RATE_PAIR_SLOTS; once it is three quarters full,
 *   recipients whose bucket is full again are forgotten (they are as
 *   new).  When even that leaves no room, a new recipient gets no bucket
 *   and waits: the table never grows.
 *
 * Credit is counted in whole units (rate_number_limit() and
 * rate_pair_limit() say which), never in floating point, so that 80 a
 * second is 80, not 79 and a rounding error, and a ready time is the
 * first ms at which a token is whole.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/string.h>

#include "rate.h"

struct pair {
	char			 key[RATE_KEY_MAX];	/* "" unused */
	struct rate_bucket	 b;
};

struct rate_pairs {
	struct pair	*slots;		/* size of them */
	size_t		 size;		/* a power of 2 */
	size_t		 n;		/* slots used */
};

/*
 * The per-number limit for WA_SEND_RATE messages a second: a token is
 * 1000 units and per_second of them come every ms; the bucket holds a
 * tenth of a second's worth, or one token below 10 a second.
 */
void
rate_number_limit(struct rate_limit *l, long per_second)
{
	l->per = 1000;
	l->add = per_second > 0 ? per_second : 0;
	l->cap = per_second >= 10 ? (int64_t)per_second * 100 : l->per;
}

/*
 * The per-recipient limit: burst tokens at once, then one every
 * interval_ms (a token is interval_ms units, one comes every ms); an
 * interval of 0 turns the limit off (the bucket is always full).
 */
void
rate_pair_limit(struct rate_limit *l, long burst, long interval_ms)
{
	l->per = interval_ms > 0 ? interval_ms : 1;
	l->add = interval_ms > 0 ? 1 : 0;
	l->cap = (int64_t)burst * l->per;
}

/*
 * Refills b up to now; a new bucket (or one that never refills) is full.
 * A wall clock that went back (NTP, a resumed VM) adds nothing and takes
 * nothing: b refills from the new now, rather than owing the difference
 * (an hour back would otherwise stop the number for an hour).
 */
void
rate_refill(struct rate_bucket *b, const struct rate_limit *l, int64_t now)
{
	int64_t d = now - b->at;

	if (b->at == 0 || l->add <= 0 || d > (l->cap - b->units) / l->add)
		b->units = l->cap;
	else if (d > 0)
		b->units += d * l->add;
	b->at = now;
}

/* 1 when b has a whole token and is not blocked at now, else 0. */
int
rate_ready(const struct rate_bucket *b, const struct rate_limit *l,
    int64_t now)
{
	return b->units >= l->per && b->blocked <= now;
}

/* Takes one token from b (the caller checked rate_ready()). */
void
rate_spend(struct rate_bucket *b, const struct rate_limit *l)
{
	b->units -= l->per;
}

/*
 * When b may send (ms): now when it may already, else the first ms at
 * which it has a whole token and is not blocked.
 */
int64_t
rate_ready_at(const struct rate_bucket *b, const struct rate_limit *l,
    int64_t now)
{
	int64_t t = now;

	if (b->units < l->per && l->add > 0)
		t = now + (l->per - b->units + l->add - 1) / l->add;
	return b->blocked > t ? b->blocked : t;
}

/*
 * Meta refused a send for the pair rate (131056): the recipient waits
 * 4^n seconds, n its refusals in a row before this one (1 s, 4 s, 16 s,
 * 64 s, then 256 s; reference 9.2), with an empty bucket.  Returns when
 * to try again (ms).
 */
int64_t
rate_pair_refused(struct rate_bucket *b, int64_t now)
{
	int64_t wait = 1000;

	for (int k = 0; k < b->fails && wait < 256000; k++)
		wait *= 4;
	b->fails++;
	b->blocked = now + wait;
	b->units = 0;
	return b->blocked;
}

/*
 * Returns an empty table of size slots, a power of 2 (the sender's is
 * RATE_PAIR_SLOTS; caller frees with rate_pairs_free()), or NULL when
 * out of memory or size is not a power of 2 of at least 4.
 */
struct rate_pairs *
rate_pairs_new(size_t size)
{
	struct rate_pairs *t;

	if (size < 4 || (size & (size - 1)) != 0)
		return NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	if ((t->slots = calloc(size, sizeof(*t->slots))) == NULL) {
		free(t);
		return NULL;
	}
	t->size = size;
	return t;
}

void
rate_pairs_free(struct rate_pairs *t)
{
	if (t == NULL)
		return;
	free(t->slots);
	free(t);
}

/* Recipients in the table. */
size_t
rate_pairs_count(const struct rate_pairs *t)
{
	return t->n;
}

/* The slot of key in slots: its own, or the empty one to take. */
static struct pair *
pair_slot(struct pair *slots, size_t size, const char *key)
{
	struct pair	*p;
	size_t		 h = 5381;

	for (const char *c = key; *c; c++)
		h = h * 33 + (unsigned char)*c;
	for (p = &slots[h & (size - 1)]; p->key[0] != '\0' &&
	    strcmp(p->key, key) != 0;
	    p = &slots[(size_t)(p - slots + 1) & (size - 1)])
		continue;
	return p;
}

/*
 * Forgets recipients whose bucket is full again, neither blocked nor
 * refused lately: they are as new.  Out of memory keeps them all.
 */
static void
pairs_prune(struct rate_pairs *t, const struct rate_limit *l, int64_t now)
{
	struct pair	*old = t->slots;
	size_t		 i;

	if ((t->slots = calloc(t->size, sizeof(*t->slots))) == NULL) {
		t->slots = old;
		return;
	}
	t->n = 0;
	for (i = 0; i < t->size; i++) {
		if (old[i].key[0] == '\0')
			continue;
		rate_refill(&old[i].b, l, now);
		if (old[i].b.units >= l->cap && old[i].b.blocked <= now &&
		    old[i].b.fails == 0)
			continue;
		*pair_slot(t->slots, t->size, old[i].key) = old[i];
		t->n++;
	}
	free(old);
}

/*
 * The bucket of one recipient of one number (owned by t, valid until the
 * next call), a new one when unknown; NULL when the table is full even
 * after pruning (every recipient in it is busy: wait).
 */
struct rate_bucket *
rate_pair_get(struct rate_pairs *t, const struct rate_limit *l,
    const char *pnid, const char *recipient, int64_t now)
{
	char		 key[RATE_KEY_MAX];
	struct pair	*p;

	/* A pnid (<40) and a recipient (<72) always fit. */
	(void)snprintf(key, sizeof(key), "%s/%s", pnid, recipient);
	if (t->n >= t->size * 3 / 4)
		pairs_prune(t, l, now);
	p = pair_slot(t->slots, t->size, key);
	if (p->key[0] != '\0')
		return &p->b;
	if (t->n >= t->size - 1)
		return NULL;
	(void)strlcpy(p->key, key, sizeof(p->key));
	memset(&p->b, 0, sizeof(p->b));
	t->n++;
	return &p->b;
}
