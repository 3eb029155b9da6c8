/*
 * db_sql_campaigns.c: the SQL statements of template campaigns as the
 * API and wactl see them (db_campaigns.c), in a table indexed by enum
 * stmt like db_sql.c's (db_open() refuses a slot none or two fill).
 */
#include <sqlite3.h>

#include "db.h"
#include "db_int.h"

const char *const dbi_sql_campaigns[STMT__MAX] = {
	/* One campaign, every column. */
	[STMT_CAMPAIGN_GET] =
	"SELECT id, name, phone_number_id, template, language, source, "
	    "state, start_at, wait_until, wait_reason, created_by, "
	    "created_at, updated_at, finished_at FROM campaigns WHERE id = ?1",
};
