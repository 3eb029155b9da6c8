/*
 * rotate.c: the names of the daily backups (`wactl backup --rotate DIR`
 * writes DIR/wa-YYYY-MM-DD.db, the UTC day) and which of them to keep:
 * the ROTATE_DAILY newest, and among the older ones the newest file of
 * each of the ROTATE_WEEKLY newest ISO weeks (Monday to Sunday) that
 * hold one.  Weeks are counted among the files, not back from today:
 * after a month with the timer off, the weekly copies from before it
 * are still there.  Pure: day numbers in, choices out (no clock, no
 * file system), so tests/unit/test_rotate.c checks it over lists.
 *
 * A day is a count of days since 1970-01-01 (the civil calendar, UTC).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"
#include "rotate.h"

/* The y-m-d of a day (the inverse of civil_days()). */
static void
civil_from_days(long z, long *y, long *m, long *d)
{
	long	 era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp + (mp < 10 ? 3 : -9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* The Monday of the ISO week of a day: that week's identity. */
static long
monday(long day)
{
	/* 1970-01-01 was a Thursday, 3 days after a Monday. */
	return day - (((day % 7) + 7 + 3) % 7);
}

/* Writes wa-YYYY-MM-DD.db for day into buf.  0, or -1 if it does not fit. */
int
rotate_name(long day, char *buf, size_t bufsz)
{
	long	 y, m, d;
	int	 n;

	civil_from_days(day, &y, &m, &d);
	if (y < 1970 || y > 9999)
		return -1;
	n = snprintf(buf, bufsz, "wa-%04ld-%02ld-%02ld.db", y, m, d);
	return n < 0 || (size_t)n >= bufsz ? -1 : 0;
}

static int
digits(const char *s, size_t n, long *v)
{
	size_t	 i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		*v = *v * 10 + (s[i] - '0');
	}
	return 1;
}

/*
 * 1 and the day when name is exactly wa-YYYY-MM-DD.db of a real date
 * (no 2026-02-30), else 0: rotation touches no other file.
 */
int
rotate_name_parse(const char *name, long *day)
{
	long	 y, m, d, yy, mm, dd;

	if (strlen(name) != ROTATE_NAME_MAX - 1 ||
	    strncmp(name, "wa-", 3) != 0 || name[7] != '-' ||
	    name[10] != '-' || strcmp(name + 13, ".db") != 0 ||
	    !digits(name + 3, 4, &y) || !digits(name + 8, 2, &m) ||
	    !digits(name + 11, 2, &d) || y < 1970 || m < 1 || m > 12 ||
	    d < 1 || d > 31)
		return 0;
	*day = (long)civil_days(y, (int)m, (int)d);
	civil_from_days(*day, &yy, &mm, &dd);
	return yy == y && mm == m && dd == d;
}

static int
newest_first(const void *a, const void *b)
{
	long x = **(const long *const *)a, y = **(const long *const *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

/*
 * Sets keep[i] to 1 for the backups of days[i] to keep and 0 for those
 * to delete (see the top of the file).  days holds distinct days, in any
 * order.  Returns 0, or -1 when out of memory (keep is then all 1s:
 * nothing is deleted).
 */
int
rotate_keep(const long *days, size_t n, int *keep)
{
	const long	**by;
	size_t		  i, weeks = 0;
	long		  week = 0;

	for (i = 0; i < n; i++)
		keep[i] = 1;
	if (n == 0)
		return 0;
	if ((by = reallocarray(NULL, n, sizeof(*by))) == NULL)
		return -1;
	for (i = 0; i < n; i++)
		by[i] = &days[i];
	qsort(by, n, sizeof(*by), newest_first);
	for (i = ROTATE_DAILY; i < n; i++) {
		/* Newest first: the first file seen of a week is its newest. */
		if (weeks < ROTATE_WEEKLY && (weeks == 0 ||
		    monday(*by[i]) != week)) {
			week = monday(*by[i]);
			weeks++;
		} else
			keep[by[i] - days] = 0;
	}
	free(by);
	return 0;
}
