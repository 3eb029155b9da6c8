/*
 * fuzz_csv.c: libFuzzer target for csv_split(), the CSV line splitter of
 * `wactl import`.  The input (up to its first NUL, as fgets() would hand
 * it over) is one line.  Invariants: never crashes or reads past the
 * line; the result is -1 with a phrase, or 1..max fields lying inside
 * the line; and writing the fields back as RFC 4180 (each quoted, "" for
 * a quote) and splitting that again gives the same fields.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"

#define MAXF	16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		*line, *out = NULL, *w, *f[MAXF], *g[MAXF];
	const char	*err = NULL, *s;
	size_t		 len, i;
	int		 n;

	if ((line = malloc(size + 1)) == NULL)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	len = strlen(line);
	if ((n = csv_split(line, f, MAXF, &err)) == -1) {
		if (err == NULL || err[0] == '\0')
			abort();
		goto done;
	}
	if (n < 1 || n > MAXF)
		abort();
	/* Quoting at most doubles a field, plus two quotes and a comma. */
	if ((out = malloc(2 * len + 3 * (size_t)n + 1)) == NULL)
		goto done;
	w = out;
	for (i = 0; i < (size_t)n; i++) {
		if (f[i] < line || f[i] + strlen(f[i]) > line + len)
			abort();
		if (i > 0)
			*w++ = ',';
		*w++ = '"';
		for (s = f[i]; *s != '\0'; s++) {
			if (*s == '"')
				*w++ = '"';
			*w++ = *s;
		}
		*w++ = '"';
	}
	*w = '\0';
	/* The fields still point into line, untouched by this split. */
	if (csv_split(out, g, MAXF, &err) != n)
		abort();
	for (i = 0; i < (size_t)n; i++)
		if (strcmp(f[i], g[i]) != 0)
			abort();
done:
	free(out);
	free(line);
	return 0;
}
