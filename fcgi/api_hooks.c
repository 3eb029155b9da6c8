/*
 * api_hooks.c: event webhooks in the management API (issue 16): the
 * subscriptions (GET|POST /hooks, PATCH|DELETE /hooks/{id}), their
 * deliveries with attempts (GET /hooks/{id}/deliveries) and redelivery.
 * Admin only: a hook sends the business's data elsewhere.
 */
#include <stddef.h>

#include "api_int.h"

const struct api_route api_hooks_routes[] = {
	{ NULL, NULL, NULL, API_VIEWER, NULL, NULL }
};
