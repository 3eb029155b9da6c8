/*
 * templates.h: message templates against the Graph API (see templates.c):
 * the paged sync of a WABA's templates into the templates table, and
 * `wactl templates`.  Blocking calls; used by wactl and the worker's
 * account jobs (which accept the stall).
 */
#ifndef TEMPLATES_H
#define TEMPLATES_H

#include <stdint.h>

struct cfg;
struct db;

#define TEMPLATES_PAGE		100	/* templates a page asks for */
#define TEMPLATES_PAGES_MAX	100	/* pages a sync follows at most */

int	templates_sync(struct db *, const struct cfg *, const char *waba,
	    const char *token, int64_t now_s, int *count);
int	templates_cmd(int argc, char *argv[]);

#endif
