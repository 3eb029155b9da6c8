/*
 * hookspec.h: what an event webhook may be (issue 16), checked alike by
 * the /hooks API (api_hooks.c) and `wactl hooks` (hooks_cli.c): its URL
 * and its list of event types.  Pure: no I/O, no clock, no environment.
 */
#ifndef HOOKSPEC_H
#define HOOKSPEC_H

#include <stddef.h>

struct buf;

/* The event types a hook may subscribe to, NULL-terminated. */
extern const char *const hookspec_types[];

/*
 * 0 when url may be a hook's endpoint, else -1 with *code (invalid_url,
 * private_url) and *msg (a sentence) set.  allow_private: http:// and
 * loopback, private and link-local hosts are allowed (tests).
 */
int	 hookspec_url(const char *url, int allow_private, const char **code,
	    const char **msg);
/* 1 when t is an event type or "*", else 0. */
int	 hookspec_type(const char *t);

#endif
