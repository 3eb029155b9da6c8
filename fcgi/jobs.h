/*
 * jobs.h: the account jobs runner inside wa-worker (see jobs.c): carries
 * the rows of account_jobs to Meta's account side one at a time, and
 * queues each WABA's template sync every WA_TEMPLATE_SYNC_S.
 */
#ifndef JOBS_H
#define JOBS_H

#include <stdint.h>

struct cfg;
struct db;
struct jobs;

#define JOBS_MAX_ATTEMPTS	5	/* tries of a transient failure */

struct jobs	*jobs_new(struct db *, const struct cfg *);
void		 jobs_free(struct jobs *);
long		 jobs_step(struct jobs *);

#endif
