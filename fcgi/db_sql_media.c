/*
 * db_sql_media.c: the SQL statements of uploads, media files served to the inbox and quick replies (db_media.c), in a table indexed by
 * enum stmt like db_sql.c's (db_open() refuses a slot none or two fill).
 */
#include <sqlite3.h>

#include "db.h"
#include "db_int.h"

const char *const dbi_sql_media[STMT__MAX] = {
	[STMT_BEGIN] = NULL,	/* db_sql.c's; the table's own follow */
};
