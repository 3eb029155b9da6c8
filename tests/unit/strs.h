/* strs.h: strings the unit tests build, freed together by gc(). */
#ifndef STRS_H
#define STRS_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char	*allocs[512];
static size_t	 nallocs;

static char *
keep(char *p)
{
	if (p == NULL || nallocs == sizeof(allocs) / sizeof(allocs[0])) {
		fprintf(stderr, "out of memory or string slots\n");
		exit(2);
	}
	allocs[nallocs++] = p;
	return p;
}

static void
gc(void)
{
	while (nallocs > 0)
		free(allocs[--nallocs]);
}

/* unit repeated n times. */
static char *
rep(const char *unit, size_t n)
{
	size_t	 ul = strlen(unit), i;
	char	*p = keep(malloc(ul * n + 1));

	for (i = 0; i < n; i++)
		memcpy(p + i * ul, unit, ul);
	p[ul * n] = '\0';
	return p;
}

/* tmpl with its first "$$" replaced by val. */
static char *
fill(const char *tmpl, const char *val)
{
	const char	*at = strstr(tmpl, "$$");
	size_t		 pre, vl = strlen(val), tl = strlen(tmpl);
	char		*p;

	if (at == NULL)
		return keep(strdup(tmpl));
	pre = (size_t)(at - tmpl);
	p = keep(malloc(tl - 2 + vl + 1));
	memcpy(p, tmpl, pre);
	memcpy(p + pre, val, vl);
	memcpy(p + pre + vl, at + 2, tl - pre - 2 + 1);
	return p;
}
#endif
