/*
 * fuzz_query.c: libFuzzer target for req_query(), the query-string
 * parser (webhook handshake and every management API parameter).  The
 * input up to its first NUL is the query string, as QUERY_STRING is a C
 * string.  Invariants: never crashes; the result is -1, 0 or 1; found,
 * the value is NUL-terminated after its length; absent or malformed, the
 * buffer is left empty; and a found value, percent-encoded again under
 * its name, decodes to the same bytes, also ahead of the original string
 * (the first parameter of a name wins).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "req.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Names the product asks for, and short ones the corpus uses. */
static const char *const names[] = {
	"hub.mode", "hub.verify_token", "hub.challenge", "limit", "before",
	"after", "q", "status", "a", "",
};

/* Appends s[0..len) percent-encoded (every byte outside [A-Za-z0-9]). */
static int
encode(struct buf *b, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9')) {
			if (buf_append(b, &s[i], 1) == -1)
				return -1;
		} else if (buf_printf(b, "%%%02X", c) == -1)
			return -1;
	}
	return 0;
}

static void
one(const char *qs, const char *name)
{
	struct buf	 v, qs2, v2;
	int		 rc;

	buf_init(&v);
	buf_init(&qs2);
	buf_init(&v2);
	rc = req_query(qs, name, &v);
	if (rc < -1 || rc > 1)
		abort();
	if (rc != 1) {
		if (v.p != NULL || v.len != 0)
			abort();
		return;
	}
	if (v.p == NULL || v.p[v.len] != '\0' || v.len > strlen(qs))
		abort();
	/* Round trip: name=encoded(value)&original gives value again. */
	if (encode(&qs2, name, strlen(name)) == -1 ||
	    buf_append(&qs2, "=", 1) == -1 ||
	    encode(&qs2, v.p, v.len) == -1 || buf_append(&qs2, "&", 1) == -1 ||
	    buf_puts(&qs2, qs) == -1)
		goto done;
	if (req_query(qs2.p, name, &v2) != 1 || v2.len != v.len ||
	    memcmp(v2.p, v.p, v.len) != 0)
		abort();
done:
	buf_clear(&v);
	buf_clear(&qs2);
	buf_clear(&v2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*qs, *amp, *eq;
	size_t	 i;

	if ((qs = malloc(size + 1)) == NULL)
		return 0;
	memcpy(qs, data, size);
	qs[size] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		one(qs, names[i]);
	/* And the first parameter's own name, when it needs no decoding. */
	amp = strchr(qs, '&');
	if (amp != NULL)
		*amp = '\0';
	if ((eq = strchr(qs, '=')) != NULL)
		*eq = '\0';
	if (strpbrk(qs, "%+") == NULL) {
		char *name = strdup(qs);

		if (amp != NULL)
			*amp = '&';
		if (eq != NULL)
			*eq = '=';
		if (name != NULL)
			one(qs, name);
		free(name);
	}
	free(qs);
	return 0;
}
