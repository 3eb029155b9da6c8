/*
 * db_sql_inbox.c: the SQL statements of what the inbox adds to conversations: its list, labels, notes, activity and change cursor (db_inbox.c), in a table indexed by
 * enum stmt like db_sql.c's (db_open() refuses a slot none or two fill).
 */
#include <sqlite3.h>

#include "db.h"
#include "db_int.h"

const char *const dbi_sql_inbox[STMT__MAX] = {
	[STMT_BEGIN] = NULL,	/* db_sql.c's; the table's own follow */
};
