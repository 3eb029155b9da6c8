/* civil.h: the civil calendar (UTC) as day numbers; pure. */
#ifndef CIVIL_H
#define CIVIL_H

#include <stdint.h>

int64_t	 civil_days(int64_t y, int m, int d);

#endif
