/*
 * test_req.c: query-string decoding for the webhook handshake; a body
 * streamed to a sink in pieces (uploads), over an in-memory FastCGI
 * stream.
 */
#include <stdlib.h>
#include <string.h>

#include <fcgiapp.h>

#include "check.h"
#include "req.h"

/* An in-memory request body, handed out in pieces of `piece` bytes. */
struct fake_in {
	const unsigned char	*p;
	size_t			 len, off, piece;
};

static void
fake_fill(FCGX_Stream *st)
{
	struct fake_in	*f = st->data;
	size_t		 n = f->len - f->off;

	if (n == 0) {
		st->isClosed = 1;
		return;
	}
	if (n > f->piece)
		n = f->piece;
	st->rdNext = st->stopUnget = (unsigned char *)f->p + f->off;
	st->stop = st->rdNext + n;
	f->off += n;
}

struct sunk {
	unsigned char	*p;
	size_t		 len, calls, biggest, fail_at;
};

static int
sink(void *arg, const void *p, size_t n)
{
	struct sunk *s = arg;

	if (++s->calls == s->fail_at)
		return -1;
	memcpy(s->p + s->len, p, n);
	s->len += n;
	if (n > s->biggest)
		s->biggest = n;
	return 0;
}

/* Streams body (len bytes sent, declared cl) to a sink; its rc. */
static enum req_body_rc
stream(const unsigned char *body, size_t len, const char *cl, size_t max,
    size_t fail_at, struct sunk *s, size_t *got)
{
	FCGX_Request	 fr;
	FCGX_Stream	 in;
	struct fake_in	 f = { body, len, 0, 10000 };
	struct req	 r;
	char		 env[64];
	char		*envp[2] = { env, NULL };

	memset(&fr, 0, sizeof(fr));
	memset(&in, 0, sizeof(in));
	memset(&r, 0, sizeof(r));
	(void)snprintf(env, sizeof(env), "CONTENT_LENGTH=%s", cl);
	in.isReader = 1;
	in.fillBuffProc = fake_fill;
	in.data = &f;
	fr.in = &in;
	fr.envp = cl != NULL ? envp : envp + 1;
	r.fr = &fr;
	memset(s, 0, sizeof(*s));
	s->p = calloc(1, len + 1);
	s->fail_at = fail_at;
	return req_body_stream(&r, max, sink, s, got);
}

TEST(body_streamed_in_pieces)
{
	size_t		 n = 3 * REQ_CHUNK + 123, got, i;
	unsigned char	*body = malloc(n);
	struct sunk	 s;
	char		 cl[32];

	for (i = 0; i < n; i++)
		body[i] = (unsigned char)(i * 7);
	(void)snprintf(cl, sizeof(cl), "%zu", n);
	CHECK(stream(body, n, cl, n, 0, &s, &got) == REQ_BODY_OK);
	CHECK(got == n && s.len == n && memcmp(s.p, body, n) == 0);
	CHECK(s.calls >= 4 && s.biggest <= REQ_CHUNK);
	free(s.p);
	/* Over the limit: refused before a byte is read. */
	CHECK(stream(body, n, cl, n - 1, 0, &s, &got) == REQ_BODY_TOO_LARGE);
	CHECK(got == 0 && s.calls == 0);
	free(s.p);
	/* The client stops early. */
	CHECK(stream(body, 1000, cl, n, 0, &s, &got) == REQ_BODY_SHORT);
	CHECK(got == 1000 && s.len == 1000);
	free(s.p);
	/* Never past the declared length. */
	CHECK(stream(body, n, "5", n, 0, &s, &got) == REQ_BODY_OK);
	CHECK(got == 5 && s.len == 5);
	free(s.p);
	/* The sink refuses the second piece: it stops there. */
	CHECK(stream(body, n, cl, n, 2, &s, &got) == REQ_BODY_SINK);
	CHECK(s.calls == 2 && got == s.len && got > 0 && got < n);
	free(s.p);
	CHECK(stream(body, n, NULL, n, 0, &s, &got) == REQ_BODY_NO_LENGTH);
	free(s.p);
	CHECK(stream(body, n, "12x", n, 0, &s, &got) == REQ_BODY_NO_LENGTH);
	free(s.p);
	free(body);
}

TEST(query_decoding)
{
	struct buf b;

	buf_init(&b);
	CHECK(req_query("hub.mode=subscribe&hub.challenge=1158201444&"
	    "hub.verify_token=a%20b%2Bc", "hub.verify_token", &b) == 1);
	CHECK(b.len == 5 && memcmp(b.p, "a b+c", 5) == 0);
	CHECK(req_query("hub.mode=subscribe", "hub.challenge", &b) == 0);
	CHECK(req_query("hub%2Emode=x+y", "hub.mode", &b) == 1);
	CHECK(strcmp(b.p, "x y") == 0);
	CHECK(req_query("a=%zz", "a", &b) == -1);
	CHECK(req_query("a=%4", "a", &b) == -1);
	CHECK(req_query("a=", "a", &b) == 1 && b.len == 0);
	CHECK(req_query("a", "a", &b) == 1 && b.len == 0);
	CHECK(req_query("", "a", &b) == 0);
	CHECK(req_query("ab=1&a=2", "a", &b) == 1 && strcmp(b.p, "2") == 0);
	buf_clear(&b);
}

int
main(void)
{
	RUN(query_decoding);
	RUN(body_streamed_in_pieces);
	return CHECK_DONE();
}
