/* buf.h: growable byte buffer (bytes plus length, never assumed NUL-terminated). */
#ifndef BUF_H
#define BUF_H

#include <stddef.h>

struct buf {
	char	*p;	/* from malloc(), NUL kept after len for convenience */
	size_t	 len;	/* bytes in use */
	size_t	 cap;	/* bytes allocated */
};

void	 buf_init(struct buf *);
void	 buf_clear(struct buf *);
int	 buf_reserve(struct buf *, size_t extra);
int	 buf_append(struct buf *, const void *, size_t);
int	 buf_puts(struct buf *, const char *);
int	 buf_printf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
int	 buf_urldecode(struct buf *, const char *, size_t);

#endif
