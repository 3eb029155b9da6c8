/* test_req.c: query-string decoding for the webhook handshake. */
#include <string.h>
#include "check.h"
#include "req.h"

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
	return CHECK_DONE();
}
