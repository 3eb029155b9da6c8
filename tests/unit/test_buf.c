/*
 * test_buf.c: the byte buffer.  Growth keeps the bytes and the NUL after
 * them; sizes that would overflow are refused; and when realloc() fails
 * every call returns -1 and leaves the buffer as it was.  buf.c is
 * included here, not linked, so that its realloc() can be made to fail
 * without a hook in the product.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static int	fail_realloc;	/* fail the next realloc() calls */
static int	nrealloc;	/* realloc() calls seen */
static size_t	last_size;	/* size asked for by the last one */

static void *
test_realloc(void *p, size_t n)
{
	nrealloc++;
	last_size = n;
	if (fail_realloc > 0) {
		fail_realloc--;
		errno = ENOMEM;
		return NULL;
	}
	return realloc(p, n);
}

#define realloc test_realloc
#include "buf.c"
#undef realloc

/* b holds exactly s (length and bytes) with a NUL after it. */
static int
holds(const struct buf *b, const char *s)
{
	size_t n = strlen(s);

	return b->len == n && b->p != NULL && memcmp(b->p, s, n) == 0 &&
	    b->p[n] == '\0' && b->cap > n;
}

TEST(empty_and_clear)
{
	struct buf b;

	buf_init(&b);
	CHECK(b.p == NULL && b.len == 0 && b.cap == 0);
	CHECK(buf_append(&b, "", 0) == 0 && holds(&b, "") && b.cap == 256);
	buf_clear(&b);
	CHECK(b.p == NULL && b.len == 0 && b.cap == 0);
	buf_clear(&b);		/* twice is fine */
	CHECK(buf_puts(&b, "again") == 0 && holds(&b, "again"));
	buf_clear(&b);
}

TEST(reserve_keeps_nul)
{
	struct buf b;

	/* A fresh buffer made room for nothing is still the string "". */
	buf_init(&b);
	CHECK(buf_reserve(&b, 0) == 0 && b.p != NULL && b.cap == 256);
	CHECK(b.len == 0 && b.p[0] == '\0');
	buf_clear(&b);
	buf_init(&b);
	CHECK(buf_reserve(&b, 1000) == 0 && b.cap == 1024 && b.p[0] == '\0');
	CHECK(buf_puts(&b, "x") == 0 && holds(&b, "x"));
	/* Room already there: no realloc. */
	nrealloc = 0;
	CHECK(buf_reserve(&b, 1000) == 0 && nrealloc == 0 && holds(&b, "x"));
	buf_clear(&b);
}

TEST(growth_doubles_and_keeps_bytes)
{
	struct buf	 b;
	char		 want[2000];
	size_t		 i;
	int		 bad = 0;

	buf_init(&b);
	for (i = 0; i < 1500; i++) {
		want[i] = (char)('a' + i % 26);
		bad |= buf_append(&b, &want[i], 1) != 0;
	}
	want[1500] = '\0';
	CHECK(!bad && holds(&b, want));
	/* 256, doubled until 1501 bytes fit. */
	CHECK(b.cap == 2048);
	buf_clear(&b);
	/* One append much larger than the start. */
	buf_init(&b);
	CHECK(buf_puts(&b, "ab") == 0 && buf_append(&b, want, 1500) == 0);
	CHECK(b.len == 1502 && b.cap == 2048 && b.p[1502] == '\0');
	CHECK(memcmp(b.p, "ab", 2) == 0 && memcmp(b.p + 2, want, 1500) == 0);
	buf_clear(&b);
	/* Bytes, not strings: a NUL inside is kept. */
	buf_init(&b);
	CHECK(buf_append(&b, "a\0b", 3) == 0 && b.len == 3 &&
	    memcmp(b.p, "a\0b", 4) == 0);
	buf_clear(&b);
}

TEST(printf_appends)
{
	struct buf	 b;
	char		 big[600];

	buf_init(&b);
	CHECK(buf_printf(&b, "%s=%d", "n", 42) == 0 && holds(&b, "n=42"));
	CHECK(buf_printf(&b, "%s", "") == 0 && holds(&b, "n=42"));
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	/* Past the first 256 bytes: the formatted text is not cut. */
	CHECK(buf_printf(&b, ";%s;", big) == 0 && b.len == 4 + 601 &&
	    b.p[4] == ';' && b.p[5] == 'z' && b.p[603] == 'z' &&
	    b.p[604] == ';' && b.p[605] == '\0' && b.cap == 1024);
	buf_clear(&b);
}

TEST(size_overflow_refused)
{
	struct buf b;

	buf_init(&b);
	CHECK(buf_puts(&b, "keep") == 0);
	nrealloc = 0;
	CHECK(buf_reserve(&b, SIZE_MAX) == -1);
	CHECK(buf_reserve(&b, SIZE_MAX / 2) == -1);
	CHECK(buf_append(&b, "x", SIZE_MAX - 2) == -1);
	/* Refused before any allocation, and nothing changed. */
	CHECK(nrealloc == 0 && holds(&b, "keep") && b.cap == 256);
	buf_clear(&b);
}

TEST(out_of_memory_leaves_buffer)
{
	struct buf	 b;
	char		 big[300];
	char		*p;

	memset(big, 'y', sizeof(big));
	/* First allocation fails: still empty, usable after. */
	buf_init(&b);
	fail_realloc = 1;
	nrealloc = 0;
	CHECK(buf_puts(&b, "hello") == -1 && nrealloc == 1);
	CHECK(b.p == NULL && b.len == 0 && b.cap == 0);
	CHECK(buf_reserve(&b, 0) == 0 && b.p[0] == '\0');
	buf_clear(&b);

	/* Growing fails: same memory, same bytes, same NUL. */
	buf_init(&b);
	CHECK(buf_puts(&b, "hello") == 0);
	p = b.p;
	fail_realloc = 3;
	nrealloc = 0;
	CHECK(buf_append(&b, big, sizeof(big)) == -1 && last_size == 512);
	CHECK(buf_reserve(&b, 1000) == -1 && last_size == 1024);
	CHECK(buf_printf(&b, "%.300s", big) == -1);
	CHECK(nrealloc == 3 && fail_realloc == 0);
	CHECK(b.p == p && b.cap == 256 && holds(&b, "hello"));
	/* Appends that fit need no memory and still work. */
	fail_realloc = 1;
	CHECK(buf_puts(&b, " world") == 0 && holds(&b, "hello world"));
	fail_realloc = 0;
	/* Memory back: the growth goes through. */
	CHECK(buf_append(&b, big, sizeof(big)) == 0 && b.len == 311 &&
	    b.cap == 512 && memcmp(b.p, "hello world", 11) == 0 &&
	    b.p[310] == 'y' && b.p[311] == '\0');
	buf_clear(&b);
}

int
main(void)
{
	RUN(empty_and_clear);
	RUN(reserve_keeps_nul);
	RUN(growth_doubles_and_keeps_bytes);
	RUN(printf_appends);
	RUN(size_overflow_refused);
	RUN(out_of_memory_leaves_buffer);
	return CHECK_DONE();
}
