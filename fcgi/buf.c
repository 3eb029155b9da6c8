/*
 * buf.c: a growable byte buffer that is always NUL-terminated after its
 * length, so that text may be handed to C string APIs once the caller has
 * checked it holds no NUL of its own.  Out of memory is an error return.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"

void
buf_init(struct buf *b)
{
	b->p = NULL;
	b->len = b->cap = 0;
}

/* Releases the memory; the buffer may be used again after. */
void
buf_clear(struct buf *b)
{
	free(b->p);
	buf_init(b);
}

/* Makes room for extra more bytes plus the NUL.  Returns 0 or -1. */
int
buf_reserve(struct buf *b, size_t extra)
{
	size_t	 need, ncap;
	char	*np;

	if (extra > ((size_t)-1) / 2 - b->len) {
		log_warnx("%s: size overflow", __func__);
		return -1;
	}
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 256;
	while (ncap < need)
		ncap *= 2;
	if ((np = realloc(b->p, ncap)) == NULL) {
		log_warn("%s: realloc %zu", __func__, ncap);
		return -1;
	}
	b->p = np;
	b->cap = ncap;
	/* A fresh buffer is "" at once, as buf.h promises. */
	b->p[b->len] = '\0';
	return 0;
}

int
buf_append(struct buf *b, const void *data, size_t len)
{
	if (buf_reserve(b, len) == -1)
		return -1;
	if (len > 0)
		memcpy(b->p + b->len, data, len);
	b->len += len;
	b->p[b->len] = '\0';
	return 0;
}

int
buf_puts(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || buf_reserve(b, (size_t)n) == -1)
		return -1;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	b->len += (size_t)n;
	return 0;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * Appends s[0..len) URL-decoded ("+" is a space, %XX one byte): the one
 * decoder of query strings (req_query() and param_query()).  Returns 0,
 * or -1 when an escape is malformed or out of memory.
 */
int
buf_urldecode(struct buf *out, const char *s, size_t len)
{
	size_t	 i;
	char	 c;
	int	 h, l;

	for (i = 0; i < len; i++) {
		c = s[i];
		if (c == '+')
			c = ' ';
		else if (c == '%') {
			if (i + 2 >= len ||
			    (h = hexval((unsigned char)s[i + 1])) < 0 ||
			    (l = hexval((unsigned char)s[i + 2])) < 0)
				return -1;
			c = (char)(h << 4 | l);
			i += 2;
		}
		if (buf_append(out, &c, 1) == -1)
			return -1;
	}
	return 0;
}
