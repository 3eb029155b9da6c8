/*
 * civil.c: the civil calendar (proleptic Gregorian, UTC) as a count of
 * days since 1970-01-01, for the modules that turn a written date into
 * a day or an instant without the C library's time zone (rotate's
 * backup names, campaign's start times).  Pure: no clock.
 */
#include <stdint.h>

#include "civil.h"

/* Days from 1970-01-01 to y-m-d, m 1..12 (H. Hinnant's days_from_civil). */
int64_t
civil_days(int64_t y, int m, int d)
{
	int64_t	era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}
