/*
 * csv.c: splits one CSV line (RFC 4180: fields separated by commas,
 * optionally in double quotes, "" for a quote inside quotes) in place.
 * Pure; used by `wactl import`.  A field may not span lines: a business's
 * exported order list does not need that, and refusing it keeps line
 * numbers in error messages true.
 */
#include <string.h>

#include "csv.h"

/*
 * Splits line (its trailing CR/LF removed first, and a leading UTF-8 byte
 * order mark skipped: spreadsheets write one before the header) into at
 * most max fields, pointers into line.  Returns the number of fields, or
 * -1 with *err set to a phrase.
 */
int
csv_split(char *line, char **fields, int max, const char **err)
{
	char	*r = line, *w;
	size_t	 len = strlen(line);
	int	 n = 0;

	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		line[--len] = '\0';
	if (strncmp(line, "\xef\xbb\xbf", 3) == 0)
		r += 3;
	for (;;) {
		if (n == max) {
			*err = "too many columns";
			return -1;
		}
		fields[n++] = w = r;
		if (*r == '"') {
			for (r++;;) {
				if (*r == '\0') {
					*err = "a quoted field is not closed "
					    "on its line";
					return -1;
				}
				if (*r == '"' && r[1] == '"') {
					*w++ = '"';
					r += 2;
				} else if (*r == '"') {
					r++;
					break;
				} else
					*w++ = *r++;
			}
			if (*r != ',' && *r != '\0') {
				*err = "text after a closing quote";
				return -1;
			}
		} else {
			while (*r != ',' && *r != '\0') {
				if (*r == '"') {
					*err = "a quote inside an unquoted field";
					return -1;
				}
				*w++ = *r++;
			}
		}
		if (*r == '\0') {
			*w = '\0';
			return n;
		}
		r++;
		*w = '\0';
	}
}
