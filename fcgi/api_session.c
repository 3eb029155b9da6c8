/*
 * api_session.c: people in the management API: signing in and out
 * (/session), the session cookie and CSRF check every browser call
 * passes, and the admin's routes for users.
 */
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "api_int.h"

/* No session support yet: every call without a key is answered 401. */
int
api_session_auth(struct call *c)
{
	(void)c;
	return 0;
}

const struct api_route api_session_routes[] = {
	{ NULL, NULL, NULL, API_VIEWER, NULL, NULL }
};
