/*
 * url.h: a small strict parser for the absolute http(s) URLs the
 * operator configures (agents, the Graph API) and the ones Meta hands
 * us (media downloads), plus the host rules of DESIGN rule 9.  Pure: no
 * I/O, no libcurl, so the responder can link it.
 */
#ifndef URL_H
#define URL_H

#include <stddef.h>

struct url {
	int	 https;		/* 1 https, 0 http */
	char	 host[256];	/* lower case; an IPv6 literal without [] */
	int	 ip6;		/* host is an IPv6 literal */
	long	 port;		/* as written, or 443/80 */
};

int	 url_parse(const char *s, struct url *u, const char **why);
int	 url_is_loopback(const struct url *);
int	 url_is_local(const struct url *);
int	 url_host_in(const char *host, const char *domain);
int	 url_agent_ok(const char *s, int allow_local, const char **why);
int	 url_escape(const char *in, char *out, size_t outsz);

#endif
