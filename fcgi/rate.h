/*
 * rate.h: the sender's token buckets (see rate.c).  Pure: the time is
 * passed in, in milliseconds; nothing here reads a clock or does I/O.
 */
#ifndef RATE_H
#define RATE_H

#include <stddef.h>
#include <stdint.h>

#define RATE_PAIR_SLOTS	8192	/* recipients the sender tracks */
#define RATE_KEY_MAX	112	/* "pnid/recipient" and its NUL */

/*
 * How fast a bucket fills and how much it holds, in whole units so that
 * the arithmetic is exact: one token is per units, add units come every
 * ms, and the bucket holds cap units at most.
 */
struct rate_limit {
	int64_t	 per;		/* units a token */
	int64_t	 add;		/* units a ms; 0: never refills */
	int64_t	 cap;		/* units at most: the burst */
};

/* A token bucket; all zero is a new one (full at its first refill). */
struct rate_bucket {
	int64_t	 units;		/* credit, rate_limit.per a token */
	int64_t	 at;		/* when units was computed, ms; 0 never */
	int64_t	 blocked;	/* no sends before this, ms */
	int	 fails;		/* consecutive throttling answers */
};

/* The recipients of every number, each with its bucket. */
struct rate_pairs;

void		 rate_number_limit(struct rate_limit *, long per_second);
void		 rate_pair_limit(struct rate_limit *, long burst,
		    long interval_ms);
void		 rate_refill(struct rate_bucket *, const struct rate_limit *,
		    int64_t now);
int		 rate_ready(const struct rate_bucket *,
		    const struct rate_limit *, int64_t now);
void		 rate_spend(struct rate_bucket *, const struct rate_limit *);
int64_t		 rate_ready_at(const struct rate_bucket *,
		    const struct rate_limit *, int64_t now);
int64_t		 rate_pair_refused(struct rate_bucket *, int64_t now);

struct rate_pairs	*rate_pairs_new(size_t slots);
void			 rate_pairs_free(struct rate_pairs *);
struct rate_bucket	*rate_pair_get(struct rate_pairs *,
			    const struct rate_limit *, const char *pnid,
			    const char *recipient, int64_t now);
size_t			 rate_pairs_count(const struct rate_pairs *);

#endif
