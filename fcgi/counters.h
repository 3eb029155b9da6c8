/*
 * counters.h: process-shared counters for /metrics (see counters.c): the
 * webhook acknowledgement latency histogram and refusals that leave no
 * row behind.
 */
#ifndef COUNTERS_H
#define COUNTERS_H

#include <stdint.h>

#define COUNTERS_BUCKETS	11	/* le 1 2 5 10 25 50 100 250 500 1000 ms, +Inf */

enum counter {
	CNT_ACK_COUNT,		/* webhooks answered 200 */
	CNT_ACK_SUM_US,		/* their handling time, microseconds */
	CNT_SIG_REFUSED,	/* webhooks refused: bad or missing signature */
	CNT_STORE_FAILED,	/* webhooks answered 503 */
	CNT_WINDOW_REFUSED,	/* sends refused: window closed */
	CNT_OPTOUT_REFUSED,	/* sends refused: opted out */
	CNT_JOURNAL_COMMITS,	/* journal transactions that stored webhooks */
	CNT__MAX
};

extern const double counters_bounds_ms[COUNTERS_BUCKETS - 1];

int	 counters_open(const char *path);
void	 counters_add(enum counter, uint64_t);
void	 counters_ack(uint64_t us);
int	 counters_read(uint64_t buckets[COUNTERS_BUCKETS],
	    uint64_t values[CNT__MAX]);

#endif
