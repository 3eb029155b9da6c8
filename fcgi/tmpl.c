/*
 * tmpl.c: Meta's rules for message templates (reference section 15).
 * Pure: no I/O, no clock; see tmpl.h.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "tmpl.h"

static void
say(struct tmpl_err *e, const char *comp, const char *field, const char *msg)
{
	if (e == NULL)
		return;
	(void)snprintf(e->component, sizeof(e->component), "%s", comp);
	(void)snprintf(e->field, sizeof(e->field), "%s", field);
	(void)snprintf(e->message, sizeof(e->message), "%s", msg);
}

int
tmpl_check_create(const json_t *body, struct tmpl_err *e)
{
	(void)body;
	say(e, "template", "", "template checks are not written yet");
	return -1;
}

int
tmpl_want(const json_t *components, struct tmpl_want *w)
{
	(void)components;
	memset(w, 0, sizeof(*w));
	return -1;
}

int
tmpl_check_send(const struct tmpl_want *w, const json_t *components,
    struct tmpl_err *e)
{
	(void)w;
	(void)components;
	say(e, "template", "", "template checks are not written yet");
	return -1;
}
