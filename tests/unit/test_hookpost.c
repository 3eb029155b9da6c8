/*
 * test_hookpost.c: the pure rules of event webhook deliveries
 * (fcgi/hookrule.c, issue 16): the string signed and the signature a
 * receiver checks (against a vector computed by Python's hmac), backoff
 * bounds, Retry-After in both forms, what a status means, and the SSRF
 * guard's address classes, IPv4-mapped IPv6 included.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "hookrule.h"
#include "sig.h"

/* "t.body", and the header a receiver recomputes. */
TEST(test_signature)
{
	char	*m, hex[65], line[128];
	size_t	 len = 0;

	m = hookrule_signed(1700000000, "{\"id\":\"evt_1\"}", &len);
	CHECK(m != NULL);
	if (m == NULL)
		return;
	CHECK(strcmp(m, "1700000000.{\"id\":\"evt_1\"}") == 0);
	CHECK(len == strlen(m));
	CHECK(sig_hmac_hex("s3cret", m, len, hex) == 0);
	/* python3: hmac.new(b"s3cret", b'1700000000.{"id":"evt_1"}', sha256) */
	CHECK(strcmp(hex, "8e6f5c9e12ccd802130a0cf337c2d90395d59605481627c3"
	    "2bb6c530172adf23") == 0);
	CHECK(hookrule_header(line, sizeof(line), 1700000000, hex) == 0);
	CHECK(strcmp(line, "X-Wa-Signature: t=1700000000,v1=8e6f5c9e12ccd80"
	    "2130a0cf337c2d90395d59605481627c32bb6c530172adf23") == 0);
	CHECK(hookrule_header(line, 20, 1700000000, hex) == -1);
	free(m);
}

/* Full jitter in [1 s, 10 s * 2^(n-1)], never above an hour. */
TEST(test_backoff)
{
	static const uint32_t	 rnd[] = { 0, 1, 4242, 0x7fffffff,
				    0xffffffff };
	int64_t			 n, base, v;
	size_t			 i;

	for (n = 1; n <= 40; n++) {
		base = n >= 10 ? 3600000 : 10000LL << (n - 1);
		if (base > 3600000)
			base = 3600000;
		for (i = 0; i < sizeof(rnd) / sizeof(rnd[0]); i++) {
			v = hookrule_backoff_ms(n, rnd[i]);
			CHECK(v >= 1000 && v <= base);
		}
	}
	CHECK(hookrule_backoff_ms(1, 9000) == 10000);	/* the top */
	CHECK(hookrule_backoff_ms(2, 19000) == 20000);
	CHECK(hookrule_backoff_ms(30, 3599000) == 3600000);
	CHECK(hookrule_backoff_ms(1, 0) == 1000);	/* the floor */
}

TEST(test_retry_after)
{
	const int64_t	 now = 784111777;	/* Sun, 06 Nov 1994 08:49:37 */

	CHECK(hookrule_retry_after("120", now) == 120);
	CHECK(hookrule_retry_after(" 7\r\n", now) == 7);
	CHECK(hookrule_retry_after("0", now) == 0);
	CHECK(hookrule_retry_after("86400", now) == 3600);
	CHECK(hookrule_retry_after("99999999999999999999999", now) == 3600);
	CHECK(hookrule_retry_after("Sun, 06 Nov 1994 08:51:37 GMT", now) ==
	    120);
	CHECK(hookrule_retry_after(" Sun, 06 Nov 1994 08:51:37 GMT\r\n",
	    now) == 120);
	CHECK(hookrule_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now) ==
	    0);
	CHECK(hookrule_retry_after("Mon, 07 Nov 1994 08:49:37 GMT", now) ==
	    3600);
	CHECK(hookrule_retry_after(NULL, now) == -1);
	CHECK(hookrule_retry_after("", now) == -1);
	CHECK(hookrule_retry_after("soon", now) == -1);
	CHECK(hookrule_retry_after("12s", now) == -1);
	CHECK(hookrule_retry_after("-5", now) == -1);
	CHECK(hookrule_retry_after("Sun, 06 Nov 1994 08:51:37", now) == -1);
}

TEST(test_verdict)
{
	CHECK(hookrule_verdict(200) == HOOKRULE_DELIVERED);
	CHECK(hookrule_verdict(204) == HOOKRULE_DELIVERED);
	CHECK(hookrule_verdict(0) == HOOKRULE_RETRY);
	CHECK(hookrule_verdict(408) == HOOKRULE_RETRY);
	CHECK(hookrule_verdict(429) == HOOKRULE_RETRY);
	CHECK(hookrule_verdict(500) == HOOKRULE_RETRY);
	CHECK(hookrule_verdict(503) == HOOKRULE_RETRY);
	CHECK(hookrule_verdict(400) == HOOKRULE_FAIL);
	CHECK(hookrule_verdict(404) == HOOKRULE_FAIL);
	CHECK(hookrule_verdict(410) == HOOKRULE_FAIL);
	CHECK(hookrule_verdict(301) == HOOKRULE_FAIL);
	CHECK(hookrule_verdict(302) == HOOKRULE_FAIL);
	CHECK(hookrule_verdict(100) == HOOKRULE_FAIL);
}

/* The class of a textual address, "" when allowed. */
static const char *
cls(const char *a)
{
	struct sockaddr_in	 s4;
	struct sockaddr_in6	 s6;
	const char		*w;

	memset(&s4, 0, sizeof(s4));
	memset(&s6, 0, sizeof(s6));
	if (inet_pton(AF_INET, a, &s4.sin_addr) == 1) {
		s4.sin_family = AF_INET;
		w = hookrule_addr_refused((struct sockaddr *)&s4, sizeof(s4));
	} else if (inet_pton(AF_INET6, a, &s6.sin6_addr) == 1) {
		s6.sin6_family = AF_INET6;
		w = hookrule_addr_refused((struct sockaddr *)&s6, sizeof(s6));
	} else
		return "bad test address";
	return w == NULL ? "" : w;
}

#define REFUSED(a, word)	CHECK(strstr(cls(a), word) != NULL)
#define ALLOWED(a)		CHECK(strcmp(cls(a), "") == 0)

TEST(test_addresses)
{
	struct sockaddr	 un;

	REFUSED("127.0.0.1", "loopback");
	REFUSED("127.255.1.2", "loopback");
	REFUSED("10.0.0.1", "private");
	REFUSED("172.16.0.1", "private");
	REFUSED("172.31.255.255", "private");
	REFUSED("192.168.1.1", "private");
	REFUSED("100.64.0.1", "CGNAT");
	REFUSED("100.127.255.254", "CGNAT");
	REFUSED("169.254.169.254", "metadata");
	REFUSED("0.0.0.0", "unspecified");
	REFUSED("224.0.0.1", "multicast");
	REFUSED("255.255.255.255", "broadcast");
	REFUSED("::1", "loopback");
	REFUSED("::", "unspecified");
	REFUSED("fc00::1", "ULA");
	REFUSED("fd12:3456::1", "ULA");
	REFUSED("fe80::1", "link-local");
	REFUSED("ff02::1", "multicast");
	REFUSED("::ffff:127.0.0.1", "loopback");
	REFUSED("::ffff:10.1.2.3", "private");
	REFUSED("::ffff:169.254.169.254", "metadata");
	REFUSED("::ffff:100.64.0.1", "CGNAT");
	REFUSED("::127.0.0.1", "loopback");
	REFUSED("64:ff9b::a9fe:a9fe", "metadata");
	ALLOWED("8.8.8.8");
	ALLOWED("172.15.255.255");
	ALLOWED("172.32.0.1");
	ALLOWED("100.63.255.255");
	ALLOWED("100.128.0.1");
	ALLOWED("169.253.1.1");
	ALLOWED("192.169.0.1");
	ALLOWED("11.0.0.1");
	ALLOWED("2606:4700:4700::1111");
	ALLOWED("::ffff:8.8.8.8");
	ALLOWED("fbff::1");
	memset(&un, 0, sizeof(un));
	un.sa_family = AF_UNIX;
	CHECK(hookrule_addr_refused(&un, sizeof(un)) != NULL);
	CHECK(hookrule_addr_refused(NULL, 0) != NULL);
}

int
main(void)
{
	RUN(test_signature);
	RUN(test_backoff);
	RUN(test_retry_after);
	RUN(test_verdict);
	RUN(test_addresses);
	return check_done();
}
