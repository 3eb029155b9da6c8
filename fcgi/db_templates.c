/*
 * db_templates.c: the templates table (schema.sql): Meta's message
 * templates of each WABA, as a sync listed them and webhooks changed them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "db.h"
#include "db_int.h"
#include "log.h"

void
db_template_clear(struct db_template *t)
{
	if (t == NULL)
		return;
	free(t->components);
	memset(t, 0, sizeof(*t));
}

int
db_template_upsert(struct db *d, const struct db_template *t, int64_t now_s)
{
	(void)d; (void)t; (void)now_s;
	log_warnx("%s: not written yet", __func__);
	return -1;
}

int
db_template_get(struct db *d, const char *waba, const char *name,
    const char *language, struct db_template *t)
{
	(void)d; (void)waba; (void)name; (void)language;
	memset(t, 0, sizeof(*t));
	log_warnx("%s: not written yet", __func__);
	return -1;
}

int
db_template_list(struct db *d, const struct db_template_filter *f,
    db_row_cb cb, void *arg)
{
	(void)d; (void)f; (void)cb; (void)arg;
	log_warnx("%s: not written yet", __func__);
	return -1;
}

int
db_template_delete(struct db *d, const char *waba, const char *name,
    const char *language)
{
	(void)d; (void)waba; (void)name; (void)language;
	log_warnx("%s: not written yet", __func__);
	return -1;
}

int
db_template_sync_done(struct db *d, const char *waba, int64_t seen_since_s)
{
	(void)d; (void)waba; (void)seen_since_s;
	log_warnx("%s: not written yet", __func__);
	return -1;
}
