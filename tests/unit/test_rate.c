/*
 * test_rate.c: the sender's token buckets (fcgi/rate.c), with the time
 * passed in: the per-number bucket at Meta's default 80 messages a second
 * (reference 9.1) and the per-recipient pair limit (reference 9.2), every
 * count and every ready time checked exactly.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "rate.h"

#define T0	1700000000000LL		/* any wall-clock ms */
#define SMALL	64			/* a pair table quick to fill */

/*
 * What the sender does with a bucket at now: refill it, and send (take a
 * token) when it has a whole one and is not blocked.  1 when it sent.
 */
static int
take(struct rate_bucket *b, const struct rate_limit *l, int64_t now)
{
	rate_refill(b, l, now);
	if (!rate_ready(b, l, now))
		return 0;
	rate_spend(b, l);
	return 1;
}

/* Sends at now until the bucket refuses; returns how many went. */
static int
drain(struct rate_bucket *b, const struct rate_limit *l, int64_t now)
{
	int n = 0;

	while (take(b, l, now))
		n++;
	return n;
}

/* A recipient's key, as the sender names them. */
static const char *
rcpt(int i)
{
	static char s[32];

	(void)snprintf(s, sizeof(s), "4915%08d", i);
	return s;
}

TEST(number_limit_defaults)
{
	struct rate_limit l;

	/* A token is 1000 units; 80 of them come every ms. */
	rate_number_limit(&l, 80);
	CHECK(l.per == 1000 && l.add == 80);
	CHECK(l.cap == 8 * l.per);	/* a tenth of a second's worth */
	rate_number_limit(&l, 1000);
	CHECK(l.add == 1000 && l.cap == 100 * l.per);
	rate_number_limit(&l, 15);
	CHECK(l.cap == 1500);		/* a token and a half */
	rate_number_limit(&l, 10);
	CHECK(l.cap == l.per);
	rate_number_limit(&l, 5);	/* below 10/s: one at a time */
	CHECK(l.add == 5 && l.cap == l.per);
}

/* A new number sends its burst at once, then waits 12.5 ms a token. */
TEST(number_burst_then_next_token)
{
	struct rate_limit	l;
	struct rate_bucket	b;

	rate_number_limit(&l, 80);
	memset(&b, 0, sizeof(b));
	CHECK(drain(&b, &l, T0) == 8);
	CHECK(b.units == 0);
	/* 1 / 0.08 = 12.5 ms: the first whole ms after it is +13. */
	CHECK(rate_ready_at(&b, &l, T0) == T0 + 13);
	CHECK(take(&b, &l, T0 + 12) == 0);
	CHECK(rate_ready_at(&b, &l, T0 + 12) == T0 + 13);
	CHECK(take(&b, &l, T0 + 13) == 1);
	/* The second token is whole at 2 x 12.5 = +25. */
	CHECK(b.units == 40);
	CHECK(rate_ready_at(&b, &l, T0 + 13) == T0 + 25);
	CHECK(take(&b, &l, T0 + 24) == 0);
	CHECK(take(&b, &l, T0 + 25) == 1);
	CHECK(b.units == 0);
	CHECK(rate_ready_at(&b, &l, T0 + 25) == T0 + 38);
	CHECK(take(&b, &l, T0 + 40) == 1);
	CHECK(b.units == 200);
	/* Ready: now itself. */
	b.units = 1000;
	CHECK(rate_ready_at(&b, &l, T0 + 26) == T0 + 26);
}

/*
 * Once the burst is gone, exactly 80 go in every second, whether the
 * sender wakes at each ready time or polls every ms.
 */
TEST(number_80_a_second)
{
	struct rate_limit	l;
	struct rate_bucket	b;
	int64_t			now, end;
	int			n, s;

	rate_number_limit(&l, 80);
	for (s = 1; s <= 3; s++) {
		memset(&b, 0, sizeof(b));
		CHECK(drain(&b, &l, T0) == 8);
		n = 0;
		end = T0 + s * 1000;
		for (now = rate_ready_at(&b, &l, T0); now <= end;
		    now = rate_ready_at(&b, &l, now))
			n += drain(&b, &l, now);
		CHECK(n == 80 * s);
	}
	memset(&b, 0, sizeof(b));
	CHECK(drain(&b, &l, T0) == 8);
	n = 0;
	for (now = T0 + 1; now <= T0 + 1000; now++)
		n += drain(&b, &l, now);
	CHECK(n == 80);
	/* Never two in one ms at this rate once the burst is spent. */
	memset(&b, 0, sizeof(b));
	(void)drain(&b, &l, T0);
	for (now = T0 + 1; now <= T0 + 1000; now++)
		CHECK(drain(&b, &l, now) <= 1);
}

/* A long quiet spell fills the bucket to its burst, never beyond. */
TEST(number_idle_caps_at_burst)
{
	struct rate_limit	l;
	struct rate_bucket	b;

	rate_number_limit(&l, 80);
	memset(&b, 0, sizeof(b));
	CHECK(drain(&b, &l, T0) == 8);
	rate_refill(&b, &l, T0 + 3600 * 1000LL);
	CHECK(b.units == 8000);
	CHECK(drain(&b, &l, T0 + 3600 * 1000LL) == 8);
	CHECK(rate_ready_at(&b, &l, T0 + 3600 * 1000LL) ==
	    T0 + 3600 * 1000LL + 13);
	/* 100 ms is a whole burst again, 50 ms only half of it. */
	CHECK(drain(&b, &l, T0 + 3600 * 1000LL + 50) == 4);
	CHECK(drain(&b, &l, T0 + 3600 * 1000LL + 150) == 8);
}

/* The clock standing still adds nothing, however often it is read. */
TEST(number_clock_still)
{
	struct rate_limit	l;
	struct rate_bucket	b;
	int			i;

	rate_number_limit(&l, 80);
	memset(&b, 0, sizeof(b));
	CHECK(drain(&b, &l, T0) == 8);
	for (i = 0; i < 1000; i++)
		CHECK(take(&b, &l, T0) == 0);
	CHECK(b.units == 0 && b.at == T0);
	CHECK(rate_ready_at(&b, &l, T0) == T0 + 13);
}

/*
 * The wall clock stepped back (NTP, a VM resumed): the bucket keeps what
 * it had and refills from the new now, instead of owing the hour back.
 */
TEST(number_clock_backwards)
{
	struct rate_limit	l;
	struct rate_bucket	b;
	const int64_t		back = T0 - 3600 * 1000LL;

	rate_number_limit(&l, 80);
	memset(&b, 0, sizeof(b));
	CHECK(drain(&b, &l, T0) == 8);
	CHECK(take(&b, &l, T0 + 13) == 1);
	CHECK(b.units == 40);
	rate_refill(&b, &l, back);
	CHECK(b.units == 40 && b.at == back);
	CHECK(rate_ready_at(&b, &l, back) == back + 12);
	CHECK(take(&b, &l, back + 11) == 0);
	CHECK(take(&b, &l, back + 12) == 1);
	/* A full bucket stays full: a whole burst right after the step. */
	memset(&b, 0, sizeof(b));
	rate_refill(&b, &l, T0);
	CHECK(drain(&b, &l, back) == 8);
}

/* The same for a recipient: its next message 6 s on, not an hour. */
TEST(pair_clock_backwards)
{
	struct rate_limit	l;
	struct rate_bucket	b;
	const int64_t		back = T0 - 3600 * 1000LL;

	rate_pair_limit(&l, 5, 6000);
	memset(&b, 0, sizeof(b));
	CHECK(drain(&b, &l, T0) == 5);
	CHECK(rate_ready_at(&b, &l, back) == back + 6000);
	CHECK(take(&b, &l, back) == 0);
	CHECK(take(&b, &l, back + 6000) == 1);
}

/* A throttled number (130429's backoff) waits for blocked, tokens or not. */
TEST(number_blocked)
{
	struct rate_limit	l;
	struct rate_bucket	b;

	rate_number_limit(&l, 80);
	memset(&b, 0, sizeof(b));
	rate_refill(&b, &l, T0);
	b.blocked = T0 + 5000;
	CHECK(b.units == 8000);
	CHECK(rate_ready_at(&b, &l, T0) == T0 + 5000);
	CHECK(take(&b, &l, T0 + 4999) == 0);
	CHECK(take(&b, &l, T0 + 5000) == 1);
}

/* Meta's 6 s a message to one customer: 5 at once, then one every 6 s. */
TEST(pair_burst_then_interval)
{
	struct rate_limit	 l;
	struct rate_pairs	*t;
	struct rate_bucket	*b;
	int64_t			 now;
	int			 n;

	rate_pair_limit(&l, 5, 6000);
	/* A token is 6000 units, one comes every ms. */
	CHECK(l.per == 6000 && l.add == 1 && l.cap == 5 * 6000);
	CHECK((t = rate_pairs_new(RATE_PAIR_SLOTS)) != NULL);
	if (t == NULL)
		return;
	CHECK((b = rate_pair_get(t, &l, "100", rcpt(1), T0)) != NULL);
	CHECK(b != NULL && b->at == 0 && b->units == 0);
	if (b == NULL)
		goto out;
	CHECK(drain(b, &l, T0) == 5);
	CHECK(rate_ready_at(b, &l, T0) == T0 + 6000);
	CHECK(take(b, &l, T0 + 5999) == 0);
	CHECK(rate_ready_at(b, &l, T0 + 5999) == T0 + 6000);
	CHECK(take(b, &l, T0 + 6000) == 1);
	CHECK(rate_ready_at(b, &l, T0 + 6000) == T0 + 12000);
	/* A minute more at one a 6 s: 10, each at its ready time. */
	n = 0;
	for (now = rate_ready_at(b, &l, T0 + 6000); now <= T0 + 66000;
	    now = rate_ready_at(b, &l, now))
		n += drain(b, &l, now);
	CHECK(n == 10);
	/* The same recipient is the same bucket. */
	CHECK(rate_pair_get(t, &l, "100", rcpt(1), T0) == b);
	CHECK(rate_pairs_count(t) == 1);
out:
	rate_pairs_free(t);
}

/* A chatty customer waits alone: others, and other numbers, do not. */
TEST(pair_others_not_slowed)
{
	struct rate_limit	 l;
	struct rate_pairs	*t;
	struct rate_bucket	*b;
	int			 i;

	rate_pair_limit(&l, 5, 6000);
	CHECK((t = rate_pairs_new(RATE_PAIR_SLOTS)) != NULL);
	if (t == NULL)
		return;
	b = rate_pair_get(t, &l, "100", rcpt(1), T0);
	CHECK(b != NULL && drain(b, &l, T0) == 5);
	for (i = 2; i <= 50; i++) {
		b = rate_pair_get(t, &l, "100", rcpt(i), T0);
		CHECK(b != NULL && drain(b, &l, T0) == 5);
	}
	/* The same customer of another business number: its own pair. */
	b = rate_pair_get(t, &l, "200", rcpt(1), T0);
	CHECK(b != NULL && drain(b, &l, T0) == 5);
	CHECK(rate_pairs_count(t) == 51);
	b = rate_pair_get(t, &l, "100", rcpt(1), T0);
	CHECK(b != NULL && take(b, &l, T0) == 0);
	rate_pairs_free(t);
}

/* 131056: 1 s, 4 s, 16 s, 64 s, then 256 s each time, bucket emptied. */
TEST(pair_refused_backoff)
{
	static const int64_t	 want[] = { 1000, 4000, 16000, 64000,
				    256000, 256000, 256000 };
	struct rate_limit	 l;
	struct rate_bucket	 b;
	size_t			 i;

	rate_pair_limit(&l, 5, 6000);
	memset(&b, 0, sizeof(b));
	rate_refill(&b, &l, T0);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		CHECK(rate_pair_refused(&b, T0) == T0 + want[i]);
		CHECK(b.blocked == T0 + want[i] && b.units == 0);
		CHECK(b.fails == (int)i + 1);
	}
	/* The bucket is emptied: a token in 6 s, later than the 1 s block. */
	b.fails = 0;
	CHECK(rate_pair_refused(&b, T0) == T0 + 1000);
	CHECK(rate_ready_at(&b, &l, T0) == T0 + 6000);
	CHECK(take(&b, &l, T0 + 5999) == 0);
	CHECK(take(&b, &l, T0 + 6000) == 1);
	/* A third refusal in a row blocks 16 s, tokens or not. */
	b.fails = 2;
	CHECK(rate_pair_refused(&b, T0 + 6000) == T0 + 22000);
	CHECK(rate_ready_at(&b, &l, T0 + 6000) == T0 + 22000);
	CHECK(take(&b, &l, T0 + 21999) == 0);
	CHECK(b.units == 15999);
	CHECK(take(&b, &l, T0 + 22000) == 1);
}

/* WA_PAIR_INTERVAL_MS=0: the pair limit is off, the burst always full. */
TEST(pair_interval_off)
{
	struct rate_limit	l;
	struct rate_bucket	b;
	int			i;

	rate_pair_limit(&l, 5, 0);
	CHECK(l.add == 0 && l.cap == 5 * l.per);
	memset(&b, 0, sizeof(b));
	for (i = 0; i < 100; i++)
		CHECK(take(&b, &l, T0) == 1);
	CHECK(rate_ready_at(&b, &l, T0) == T0);
}

/*
 * Three quarters full, the next new recipient prunes the table: those
 * whose bucket is full again (and not refused) are forgotten, the busy
 * ones are kept with their state.
 */
TEST(pair_prune_forgets_full)
{
	struct rate_limit	 l;
	struct rate_pairs	*t;
	struct rate_bucket	*b;
	int			 i, ok = 1;
	const int		 quarter = RATE_PAIR_SLOTS / 4;

	rate_pair_limit(&l, 5, 6000);
	CHECK((t = rate_pairs_new(RATE_PAIR_SLOTS)) != NULL);
	if (t == NULL)
		return;
	/* 3/4 of the slots: a quarter sent 1, a quarter 5, a quarter refused. */
	for (i = 0; i < 3 * quarter; i++) {
		if ((b = rate_pair_get(t, &l, "100", rcpt(i), T0)) == NULL) {
			ok = 0;
			break;
		}
		if (i < quarter)
			ok &= take(b, &l, T0);
		else if (i < 2 * quarter)
			ok &= drain(b, &l, T0) == 5;
		else {
			ok &= take(b, &l, T0);
			(void)rate_pair_refused(b, T0);
		}
	}
	CHECK(ok);
	CHECK(rate_pairs_count(t) == (size_t)(3 * quarter));
	/* Before 6 s nothing is full again: the prune keeps every one. */
	b = rate_pair_get(t, &l, "100", "new1", T0 + 5999);
	CHECK(b != NULL && take(b, &l, T0 + 5999));
	CHECK(rate_pairs_count(t) == (size_t)(3 * quarter + 1));
	/* At 6 s the quarter that sent one is full: forgotten. */
	CHECK(rate_pair_get(t, &l, "100", "new2", T0 + 6000) != NULL);
	CHECK(rate_pairs_count(t) == (size_t)(2 * quarter + 2));
	/* A forgotten one is as new: a whole burst. */
	b = rate_pair_get(t, &l, "100", rcpt(0), T0 + 6000);
	CHECK(b != NULL && b->at == 0 && drain(b, &l, T0 + 6000) == 5);
	/* A kept one has its state: one token in 6 s, then waits. */
	b = rate_pair_get(t, &l, "100", rcpt(quarter), T0 + 6000);
	CHECK(b != NULL && b->at == T0 + 6000 && drain(b, &l, T0 + 6000) == 1);
	/* A refused one stays while its refusal counts, full or not. */
	b = rate_pair_get(t, &l, "100", rcpt(2 * quarter), T0 + 6000);
	CHECK(b != NULL && b->fails == 1 && b->blocked == T0 + 1000);
	CHECK(rate_pairs_count(t) == (size_t)(2 * quarter + 3));
	rate_pairs_free(t);
}

/*
 * Nothing can be pruned: the table fills to one slot short of full, a
 * further new recipient gets no bucket (it waits) while the known ones
 * keep theirs; once their buckets are full again, room comes back.
 */
TEST(pair_table_full)
{
	struct rate_limit	 l;
	struct rate_pairs	*t;
	struct rate_bucket	*b;
	int			 i, ok = 1;

	/* The sender's table is RATE_PAIR_SLOTS; the rules are the same. */
	CHECK(rate_pairs_new(SMALL - 1) == NULL);
	CHECK(rate_pairs_new(2) == NULL);

	rate_pair_limit(&l, 5, 6000);
	CHECK((t = rate_pairs_new(SMALL)) != NULL);
	if (t == NULL)
		return;
	for (i = 0; i < SMALL - 1; i++) {
		if ((b = rate_pair_get(t, &l, "100", rcpt(i), T0)) == NULL) {
			ok = 0;
			break;
		}
		ok &= take(b, &l, T0);
	}
	CHECK(ok);
	CHECK(rate_pairs_count(t) == SMALL - 1);
	CHECK(rate_pair_get(t, &l, "100", "one-too-many", T0 + 1) == NULL);
	CHECK(rate_pairs_count(t) == SMALL - 1);
	/* Known ones keep theirs (the failed prune refilled them). */
	b = rate_pair_get(t, &l, "100", rcpt(7), T0 + 1);
	CHECK(b != NULL && b->at == T0 + 1 && b->units == 4 * 6000 + 1);
	CHECK(b != NULL && drain(b, &l, T0 + 1) == 4);
	/* 6 s on, all but rcpt(7) are full again: pruned, room for more. */
	CHECK(rate_pair_get(t, &l, "100", "one-too-many", T0 + 6000) != NULL);
	CHECK(rate_pairs_count(t) == 2);
	rate_pairs_free(t);
}

int
main(void)
{
	RUN(number_limit_defaults);
	RUN(number_burst_then_next_token);
	RUN(number_80_a_second);
	RUN(number_idle_caps_at_burst);
	RUN(number_clock_still);
	RUN(number_clock_backwards);
	RUN(number_blocked);
	RUN(pair_burst_then_interval);
	RUN(pair_others_not_slowed);
	RUN(pair_refused_backoff);
	RUN(pair_interval_off);
	RUN(pair_clock_backwards);
	RUN(pair_prune_forgets_full);
	RUN(pair_table_full);
	return CHECK_DONE();
}
