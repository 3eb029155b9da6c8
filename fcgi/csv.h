/* csv.h: one line of comma-separated values, split in place (see csv.c). */
#ifndef CSV_H
#define CSV_H

#include <stddef.h>

int	 csv_split(char *line, char **fields, int max, const char **err);

#endif
