/* rotate.h: which daily backups to keep (see rotate.c); pure. */
#ifndef ROTATE_H
#define ROTATE_H

#include <stddef.h>

#define ROTATE_DAILY	7	/* the newest files kept, whatever their day */
#define ROTATE_WEEKLY	4	/* then the newest of each of this many weeks */
#define ROTATE_NAME_MAX	sizeof("wa-YYYY-MM-DD.db")

int	 rotate_name(long day, char *buf, size_t bufsz);
int	 rotate_name_parse(const char *name, long *day);
int	 rotate_keep(const long *days, size_t n, int *keep);

#endif
