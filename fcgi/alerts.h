/* alerts.h: the worker's alerts and their mails (see alerts.c). */
#ifndef ALERTS_H
#define ALERTS_H

struct cfg;
struct db;
struct alerts;
struct pollfd;

struct alerts	*alerts_new(struct db *, const struct cfg *);
void		 alerts_free(struct alerts *);
long		 alerts_step(struct alerts *);
int		 alerts_fds(struct alerts *, struct pollfd *, int max,
		    long *timeout_ms);

#endif
