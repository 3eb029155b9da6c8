/*
 * hookrule.c: the pure rules of event webhook deliveries (issue 16):
 * the string signed and the X-Wa-Signature header, the backoff with
 * full jitter, Retry-After (seconds or an HTTP-date), what an answer
 * means, and the SSRF guard's classification of an address.  Values in,
 * values out: no I/O, clock or randomness (the caller passes them).
 */
#include <sys/socket.h>
#include <netinet/in.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hookrule.h"

/*
 * What is signed: t, ".", then the body, as one allocated string (*len
 * its length).  NULL when out of memory.
 */
char *
hookrule_signed(int64_t t, const char *body, size_t *len)
{
	char	 pre[24], *p;
	size_t	 blen = strlen(body);
	int	 n;

	n = snprintf(pre, sizeof(pre), "%lld.", (long long)t);
	if (n < 0 || (size_t)n >= sizeof(pre) ||
	    (p = malloc((size_t)n + blen + 1)) == NULL)
		return NULL;
	memcpy(p, pre, (size_t)n);
	memcpy(p + n, body, blen + 1);
	*len = (size_t)n + blen;
	return p;
}

/* The header line "X-Wa-Signature: t=T,v1=HEX" in out; 0 or -1. */
int
hookrule_header(char *out, size_t sz, int64_t t, const char hex[65])
{
	int	 n;

	n = snprintf(out, sz, "X-Wa-Signature: t=%lld,v1=%.64s", (long long)t,
	    hex);
	return n < 0 || (size_t)n >= sz ? -1 : 0;
}

/*
 * The wait before the next try after attempt failures (1: the first):
 * full jitter, uniform in [1 s, base] with base about 10 s doubling per
 * attempt up to 1 h; rnd is a random number from the caller.
 */
int64_t
hookrule_backoff_ms(int64_t attempt, uint32_t rnd)
{
	int64_t	 base = HOOKRULE_BACKOFF_MS;

	while (--attempt > 0 && base < HOOKRULE_CAP_MS)
		base *= 2;
	if (base > HOOKRULE_CAP_MS)
		base = HOOKRULE_CAP_MS;
	return 1000 + (int64_t)(rnd % (uint32_t)(base - 1000 + 1));
}

/*
 * Retry-After as seconds to wait from now_s: delay-seconds or an
 * IMF-fixdate HTTP-date ("Sun, 06 Nov 1994 08:49:37 GMT"), capped at an
 * hour; a date past is 0.  -1 when absent or unreadable.
 */
int64_t
hookrule_retry_after(const char *v, int64_t now_s)
{
	struct tm	 tm;
	const char	*end;
	int64_t		 s = 0;
	time_t		 at;

	if (v == NULL)
		return -1;
	while (*v == ' ' || *v == '\t')
		v++;
	if (isdigit((unsigned char)*v)) {
		for (; isdigit((unsigned char)*v); v++)
			if ((s = s * 10 + (*v - '0')) > 3600)
				s = 3601;	/* capped below; no overflow */
		while (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n')
			v++;
		if (*v != '\0')
			return -1;
		return s > 3600 ? 3600 : s;
	}
	memset(&tm, 0, sizeof(tm));
	if ((end = strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm)) == NULL)
		return -1;
	while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
		end++;
	if (*end != '\0' || (at = timegm(&tm)) == (time_t)-1)
		return -1;
	s = (int64_t)at - now_s;
	return s < 0 ? 0 : s > 3600 ? 3600 : s;
}

/* What the HTTP status of an attempt means; 0: no answer came. */
enum hookrule_verdict
hookrule_verdict(long http)
{
	if (http >= 200 && http <= 299)
		return HOOKRULE_DELIVERED;
	if (http == 0 || http == 408 || http == 429 || (http >= 500 &&
	    http <= 599))
		return HOOKRULE_RETRY;
	return HOOKRULE_FAIL;
}

/* Why an IPv4 address (host order) is refused, or NULL. */
static const char *
v4_refused(uint32_t a)
{
	if ((a >> 24) == 127)
		return "loopback";
	if ((a >> 24) == 10 || (a >> 20) == (172u << 4 | 1) ||
	    (a >> 16) == (192u << 8 | 168))
		return "private";
	if ((a >> 22) == (100u << 2 | 1))
		return "shared (CGNAT 100.64/10)";
	if ((a >> 16) == (169u << 8 | 254))
		return "link-local (169.254/16, the cloud metadata service)";
	if ((a >> 24) == 0)
		return "unspecified (0/8)";
	if ((a >> 28) == 14)
		return "multicast";
	if ((a >> 28) == 15)
		return "reserved (240/4, broadcast)";
	return NULL;
}

/*
 * Why a hook may not connect to the address sa (len bytes) when
 * WA_HOOKS_ALLOW_PRIVATE is off, as a few words, or NULL when it may:
 * loopback, private (RFC 1918, CGNAT, ULA fc00::/7), link-local
 * (169.254/16, fe80::/10), unspecified, multicast, and the IPv4-mapped
 * (::ffff:a.b.c.d) and IPv4-compatible forms of those.  Another family
 * is refused.
 */
const char *
hookrule_addr_refused(const struct sockaddr *sa, size_t len)
{
	const struct sockaddr_in	*s4;
	const struct sockaddr_in6	*s6;
	const uint8_t			*b;
	static const uint8_t		 mapped[12] = { 0, 0, 0, 0, 0, 0, 0,
					    0, 0, 0, 0xff, 0xff };
	static const uint8_t		 nat64[12] = { 0, 0x64, 0xff, 0x9b };
	static const uint8_t		 zero[16];

	if (sa == NULL)
		return "no address";
	if (sa->sa_family == AF_INET && len >= sizeof(*s4)) {
		s4 = (const struct sockaddr_in *)(const void *)sa;
		return v4_refused(ntohl(s4->sin_addr.s_addr));
	}
	if (sa->sa_family != AF_INET6 || len < sizeof(*s6))
		return "not an IP address";
	s6 = (const struct sockaddr_in6 *)(const void *)sa;
	b = s6->sin6_addr.s6_addr;
	if (memcmp(b, zero, 15) == 0 && b[15] == 1)
		return "loopback";
	if (memcmp(b, zero, 16) == 0)
		return "unspecified";
	/* ::ffff:a.b.c.d, ::a.b.c.d and NAT64's: the IPv4 rules. */
	if (memcmp(b, mapped, 12) == 0 || memcmp(b, zero, 12) == 0 ||
	    memcmp(b, nat64, 12) == 0)
		return v4_refused((uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 |
		    (uint32_t)b[14] << 8 | b[15]);
	if ((b[0] & 0xfe) == 0xfc)
		return "private (ULA fc00::/7)";
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
		return "link-local (fe80::/10)";
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0)
		return "site-local (fec0::/10)";
	if (b[0] == 0xff)
		return "multicast";
	return NULL;
}
