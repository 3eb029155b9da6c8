/* campsend.h: the worker hands campaigns' recipients to the outbox. */
#ifndef CAMPSEND_H
#define CAMPSEND_H

struct cfg;
struct db;
struct campsend;

struct campsend	*campsend_new(struct db *, const struct cfg *);
void		 campsend_free(struct campsend *);
long		 campsend_step(struct campsend *);

#endif
