/*
 * db_sql_campsend.c: the SQL statements of the worker's side of
 * campaigns (db_campsend.c), in a table indexed by enum stmt like
 * db_sql.c's (db_open() refuses a slot none or two fill).
 */
#include <sqlite3.h>

#include "db.h"
#include "db_int.h"

const char *const dbi_sql_campsend[STMT__MAX] = {
	/* The campaigns that may hand recipients over at ?1 (unix ms). */
	[STMT_CAMPSEND_DUE] =
	"SELECT id FROM campaigns WHERE state IN ('scheduled', 'running') "
	    "AND start_at <= ?1 AND (wait_until IS NULL OR wait_until <= ?1) "
	    "ORDER BY start_at, id",
};
