/*
 * hookpost.h: the worker's delivery of event webhooks (see hookpost.c).
 * wa-worker only.
 */
#ifndef HOOKPOST_H
#define HOOKPOST_H

struct cfg;
struct db;
struct hookpost;
struct pollfd;

struct hookpost	*hookpost_new(struct db *, const struct cfg *);
void		 hookpost_free(struct hookpost *);
long		 hookpost_step(struct hookpost *, int lease);
int		 hookpost_busy(const struct hookpost *);
int		 hookpost_fds(struct hookpost *, struct pollfd *, int max,
		    long *timeout_ms);

#endif
