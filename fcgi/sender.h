/*
 * sender.h: drains the outbox to the Graph API and downloads inbound
 * media (see sender.c).  wa-worker only.
 */
#ifndef SENDER_H
#define SENDER_H

struct cfg;
struct db;
struct sender;
struct pollfd;

struct sender	*sender_new(struct db *, const struct cfg *);
void		 sender_free(struct sender *);
int		 sender_start(struct sender *);
long		 sender_step(struct sender *, int dispatch);
int		 sender_wait(struct sender *, int fd, long timeout_ms);
int		 sender_wait_more(struct sender *, int fd,
		    const struct pollfd *more, int nmore, long timeout_ms);
int		 sender_busy(const struct sender *);

#endif
