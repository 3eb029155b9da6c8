/*
 * api_media.c: media files served to signed-in people (X-Accel-Redirect),
 * uploads to send, and quick replies.
 */
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "api_int.h"

const struct api_route api_media_routes[] = {
	{ NULL, NULL, NULL, API_VIEWER, NULL, NULL }
};
