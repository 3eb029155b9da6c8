/*
 * url.c: parses absolute http(s) URLs strictly, and says where a host
 * lives.  Only what the gateway needs is accepted: scheme http or https,
 * a host (a name, a dotted-quad IPv4 or a bracketed IPv6 literal), an
 * optional port, then a path and query of printable ASCII.  Userinfo
 * ("user@host") is refused, since "http://localhost:80@evil.example/"
 * names evil.example while reading like localhost; so are the numeric
 * host spellings a resolver accepts but a person misreads ("127.1",
 * "2130706433", "0x7f.0.0.1").  Pure: no I/O, no libcurl (the responder
 * links this file and never calls out, DESIGN).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "url.h"

#define URL_MAX	2048	/* longer URLs are refused */

/* 1 when s[0..n) is a canonical dotted quad (no leading zeros); fills q. */
static int
ipv4_parse(const char *s, size_t n, unsigned q[4])
{
	size_t	i = 0, k;
	int	part;

	for (part = 0; part < 4; part++) {
		if (i >= n || !isdigit((unsigned char)s[i]))
			return 0;
		q[part] = 0;
		for (k = 0; i < n && isdigit((unsigned char)s[i]); i++, k++) {
			if (k == 3 || (k == 1 && q[part] == 0))
				return 0;	/* too long, or a leading 0 */
			q[part] = q[part] * 10 + (unsigned)(s[i] - '0');
		}
		if (q[part] > 255)
			return 0;
		if (part < 3) {
			if (i >= n || s[i] != '.')
				return 0;
			i++;
		}
	}
	return i == n;
}

/*
 * Parses s into u.  Returns 0, or -1 with why set to a phrase saying
 * what is wrong (static storage).
 */
int
url_parse(const char *s, struct url *u, const char **why)
{
	const char	*a, *e, *h, *he, *p;
	size_t		 n, i;
	unsigned	 q[4];
	char		*end;
	long		 port;

	memset(u, 0, sizeof(*u));
	*why = NULL;
	if (strlen(s) > URL_MAX) {
		*why = "is longer than 2048 characters";
		return -1;
	}
	for (p = s; *p != '\0'; p++)
		if (!isgraph((unsigned char)*p) || *p == '\\') {
			*why = "contains spaces, control characters or a "
			    "backslash";
			return -1;
		}
	if (strncasecmp(s, "https://", 8) == 0) {
		u->https = 1;
		a = s + 8;
	} else if (strncasecmp(s, "http://", 7) == 0)
		a = s + 7;
	else {
		*why = "must start with https:// or http://";
		return -1;
	}
	e = a + strcspn(a, "/?#");
	if (*e == '#' || strchr(e, '#') != NULL) {
		*why = "must not have a #fragment";
		return -1;
	}
	if (memchr(a, '@', (size_t)(e - a)) != NULL) {
		*why = "must not carry a user name or password (user@host)";
		return -1;
	}
	/* Host, then an optional :port. */
	if (*a == '[') {
		h = a + 1;
		if ((he = memchr(h, ']', (size_t)(e - h))) == NULL) {
			*why = "has an unclosed [IPv6] host";
			return -1;
		}
		p = he + 1;
		u->ip6 = 1;
		for (i = 0; h + i < he; i++)
			if (!isxdigit((unsigned char)h[i]) && h[i] != ':' &&
			    h[i] != '.')
				break;
		if (h + i != he || he - h < 2 || memchr(h, ':', (size_t)(he - h))
		    == NULL) {
			*why = "has an invalid IPv6 host";
			return -1;
		}
	} else {
		h = a;
		he = memchr(a, ':', (size_t)(e - a));
		if (he == NULL)
			he = e;
		p = he;
	}
	n = (size_t)(he - h);
	if (n == 0 || n >= sizeof(u->host)) {
		*why = "must name a host of 1 to 255 characters";
		return -1;
	}
	for (i = 0; i < n; i++)
		u->host[i] = (char)tolower((unsigned char)h[i]);
	u->host[n] = '\0';
	if (!u->ip6) {
		const char *last;

		for (i = 0; i < n; i++)
			if (!isalnum((unsigned char)u->host[i]) &&
			    u->host[i] != '-' && u->host[i] != '.')
				break;
		if (i != n || u->host[0] == '.' || u->host[0] == '-' ||
		    strstr(u->host, "..") != NULL) {
			*why = "has an invalid host name";
			return -1;
		}
		if (u->host[n - 1] == '.')	/* "example.com." */
			u->host[--n] = '\0';
		last = strrchr(u->host, '.');
		last = last == NULL ? u->host : last + 1;
		/* Numbers a resolver reads as IPv4: only the plain form. */
		if ((isdigit((unsigned char)last[0]) || strncmp(last, "0x", 2)
		    == 0) && !ipv4_parse(u->host, n, q)) {
			*why = "has a numeric host that is not a plain IPv4 "
			    "address (a.b.c.d)";
			return -1;
		}
	}
	u->port = u->https ? 443 : 80;
	if (p < e) {
		if (*p != ':' || p + 1 == e) {
			*why = "has an invalid port";
			return -1;
		}
		for (i = 1; p + i < e; i++)
			if (!isdigit((unsigned char)p[i]) || i > 5) {
				*why = "has an invalid port";
				return -1;
			}
		port = strtol(p + 1, &end, 10);
		if (end != e || port < 1 || port > 65535) {
			*why = "has a port outside 1 to 65535";
			return -1;
		}
		u->port = port;
	}
	return 0;
}

/* 1 when u names this machine: 127.0.0.0/8, ::1, localhost. */
int
url_is_loopback(const struct url *u)
{
	unsigned q[4];

	if (u->ip6)
		return strcmp(u->host, "::1") == 0 ||
		    strcmp(u->host, "0:0:0:0:0:0:0:1") == 0;
	if (ipv4_parse(u->host, strlen(u->host), q))
		return q[0] == 127;
	return strcmp(u->host, "localhost") == 0 ||
	    url_host_in(u->host, "localhost");
}

/*
 * 1 when u names this machine or a private, link-local, shared or
 * special address (RFC 1918, 6598, 3927, 4193, 4291): places an outside
 * caller must not make us reach.  Names other than localhost are judged
 * by their spelling only; resolving them is the caller's business.
 */
int
url_is_local(const struct url *u)
{
	unsigned q[4];

	if (url_is_loopback(u))
		return 1;
	if (u->ip6)
		/* ::, mapped ::ffff:a.b.c.d, fc00::/7, fe80::/10. */
		return strncmp(u->host, "::", 2) == 0 ||
		    strncmp(u->host, "0:", 2) == 0 ||
		    strncmp(u->host, "fc", 2) == 0 ||
		    strncmp(u->host, "fd", 2) == 0 ||
		    strncmp(u->host, "fe8", 3) == 0 ||
		    strncmp(u->host, "fe9", 3) == 0 ||
		    strncmp(u->host, "fea", 3) == 0 ||
		    strncmp(u->host, "feb", 3) == 0;
	if (!ipv4_parse(u->host, strlen(u->host), q))
		return 0;
	return q[0] == 0 || q[0] == 10 || q[0] >= 224 ||
	    (q[0] == 100 && q[1] >= 64 && q[1] <= 127) ||
	    (q[0] == 169 && q[1] == 254) ||
	    (q[0] == 172 && q[1] >= 16 && q[1] <= 31) ||
	    (q[0] == 192 && q[1] == 168);
}

/* 1 when host (lower case) is a subdomain of domain: x.domain, not domain. */
int
url_host_in(const char *host, const char *domain)
{
	size_t hl = strlen(host), dl = strlen(domain);

	return hl > dl + 1 && host[hl - dl - 1] == '.' &&
	    strcasecmp(host + hl - dl, domain) == 0;
}

/*
 * 1 when s may receive agent calls (DESIGN rule 9): a strict URL, https,
 * or http only to this machine; this machine and private addresses only
 * when allow_local (WA_ALLOW_LOCAL_URLS, for tests and a same-host
 * agent).  0 with why set otherwise.
 */
int
url_agent_ok(const char *s, int allow_local, const char **why)
{
	struct url u;

	if (url_parse(s, &u, why) == -1)
		return 0;
	if (!u.https && !url_is_loopback(&u)) {
		*why = "must be https:// (http:// only to this machine)";
		return 0;
	}
	if (!allow_local && url_is_local(&u)) {
		*why = "names this machine or a private address "
		    "(allowed only with WA_ALLOW_LOCAL_URLS=on)";
		return 0;
	}
	return 1;
}

/*
 * Percent-encodes in for one path segment or query value: every byte
 * but A-Z a-z 0-9 - _ (a subset of RFC 3986, 2.3; the dot too is
 * encoded so "." and ".." stay names), so an id from a webhook body
 * cannot add a path, query or fragment.  Returns 0, or -1 when out is
 * too small.
 */
int
url_escape(const char *in, char *out, size_t outsz)
{
	static const char	 hex[] = "0123456789ABCDEF";
	size_t			 o = 0;
	unsigned char		 c;

	for (; *in != '\0'; in++) {
		c = (unsigned char)*in;
		if (isalnum(c) || c == '-' || c == '_') {
			if (o + 1 >= outsz)
				return -1;
			out[o++] = (char)c;
		} else {
			if (o + 3 >= outsz)
				return -1;
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	if (o >= outsz)
		return -1;
	out[o] = '\0';
	return 0;
}
