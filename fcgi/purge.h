/* purge.h: retention (see purge.c). */
#ifndef PURGE_H
#define PURGE_H

#include <stdint.h>

struct cfg;
struct db;

int	 purge_run(struct db *, const struct cfg *, int dry, int64_t n[3]);

#endif
