/*
 * apply.h: applies the webhook journal to the tables, in batched
 * transactions, for wa-worker (see apply.c).
 */
#ifndef APPLY_H
#define APPLY_H

#include <stdint.h>

struct apply;
struct chat;
struct db;

#define APPLY_BUSY	(-2)	/* the write lock was not had: try later */

struct apply	*apply_new(struct db *, struct chat *, int64_t pid,
		    int64_t started);
void		 apply_keywords(struct apply *, const char *stop,
		    const char *start);
void		 apply_free(struct apply *);
int		 apply_batch(struct apply *, int max, long budget_us);
int		 apply_one_by_one(struct apply *, long budget_us);

#endif
