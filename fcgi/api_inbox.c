/*
 * api_inbox.c: what the inbox adds to conversations: its chat list,
 * labels, notes, activity and the change cursor it polls.
 */
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "api_int.h"

const struct api_route api_inbox_routes[] = {
	{ NULL, NULL, NULL, API_VIEWER, NULL, NULL }
};
