/*
 * hookrule.h: the pure rules of event webhook deliveries (see
 * hookrule.c): the signature, backoff, Retry-After, what an answer means
 * and which addresses a hook may reach.
 */
#ifndef HOOKRULE_H
#define HOOKRULE_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#define HOOKRULE_TIMEOUT_MS	10000		/* one attempt, all of it */
#define HOOKRULE_GIVE_UP_MS	(24LL * 3600 * 1000) /* after created_at */
#define HOOKRULE_DISABLE_MS	(24LL * 3600 * 1000) /* failing this long */
#define HOOKRULE_BACKOFF_MS	10000		/* first retry, about */
#define HOOKRULE_CAP_MS		(3600LL * 1000)	/* longest wait */

/* What an attempt's answer means. */
enum hookrule_verdict {
	HOOKRULE_DELIVERED,	/* 2xx */
	HOOKRULE_RETRY,		/* 408, 429, 5xx, no answer */
	HOOKRULE_FAIL,		/* other 4xx, 1xx, a redirect: not retried */
};

char		*hookrule_signed(int64_t t, const char *body, size_t *len);
int		 hookrule_header(char *out, size_t sz, int64_t t,
		    const char hex[65]);
int64_t		 hookrule_backoff_ms(int64_t attempt, uint32_t rnd);
int64_t		 hookrule_retry_after(const char *value, int64_t now_s);
enum hookrule_verdict hookrule_verdict(long http);
const char	*hookrule_addr_refused(const struct sockaddr *, size_t len);

#endif
