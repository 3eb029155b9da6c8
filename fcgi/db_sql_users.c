/*
 * db_sql_users.c: the SQL statements of people who sign in to the inbox, their sessions and failed sign-ins (db_users.c), in a table indexed by
 * enum stmt like db_sql.c's (db_open() refuses a slot none or two fill).
 */
#include <sqlite3.h>

#include "db.h"
#include "db_int.h"

const char *const dbi_sql_users[STMT__MAX] = {
	[STMT_BEGIN] = NULL,	/* db_sql.c's; the table's own follow */
};
