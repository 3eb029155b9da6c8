/* util.h: reading fixture files for the unit tests. */
#ifndef UTIL_H
#define UTIL_H
#include <stdio.h>
#include <stdlib.h>
#ifndef FIXTURES
#define FIXTURES "tests/fixtures"
#endif
/* Reads a whole file; caller frees.  NULL on error. */
static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *p = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (p = malloc((size_t)n + 1)) != NULL) {
		*len = fread(p, 1, (size_t)n, f);
		p[*len] = '\0';
	}
	fclose(f);
	return p;
}
#endif
