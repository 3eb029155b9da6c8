/*
 * db_sql_deliver.c: the SQL statements of the worker's event webhook
 * deliveries (db_deliver.c), in a table indexed by enum stmt like
 * db_sql.c's (db_open() refuses a slot none or two fill).
 */
#include <sqlite3.h>

#include "db.h"
#include "db_int.h"

const char *const dbi_sql_deliver[STMT__MAX] = {
	/* When the next queued delivery is due (unix ms), for the timer. */
	[STMT_DELIVER_NEXT_DUE] =
	"SELECT min(next_attempt_at) FROM event_deliveries WHERE "
	    "state = 'queued'",
};
