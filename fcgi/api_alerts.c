/*
 * api_alerts.c: alerts in the management API (issue 16): GET /alerts,
 * what the worker raised (a person sees the ones for them and, as an
 * admin, the gateway's), and resolving one.
 */
#include <stddef.h>

#include "api_int.h"

const struct api_route api_alerts_routes[] = {
	{ NULL, NULL, NULL, API_VIEWER, NULL, NULL }
};
