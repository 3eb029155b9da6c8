/*
 * db_sql_alerts.c: the SQL statements of alerts and their mails
 * (db_alerts.c), in a table indexed by enum stmt like db_sql.c's
 * (db_open() refuses a slot none or two fill).
 */
#include <sqlite3.h>

#include "db.h"
#include "db_int.h"

const char *const dbi_sql_alerts[STMT__MAX] = {
	/* One alert, every column. */
	[STMT_ALERT_GET] =
	"SELECT id, kind, phone_number_id, conversation_id, user_id, episode, "
	    "summary, detail, state, created_at, resolved_at FROM alerts "
	    "WHERE id = ?1",
};
