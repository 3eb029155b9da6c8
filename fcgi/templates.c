/*
 * templates.c: message templates against the Graph API (reference
 * section 15): the paged sync into the templates table, `wactl templates`.
 */
#include <stdint.h>
#include <stdio.h>

#include "cfg.h"
#include "db.h"
#include "log.h"
#include "templates.h"

int
templates_sync(struct db *d, const struct cfg *cfg, const char *waba,
    const char *token, int64_t now_s, int *count)
{
	(void)d; (void)cfg; (void)token; (void)now_s;
	*count = 0;
	log_warnx("%s: %s: not written yet", __func__, waba);
	return -1;
}

int
templates_cmd(int argc, char *argv[])
{
	(void)argc; (void)argv;
	log_warnx("wactl templates: not written yet");
	return 1;
}
