/*
 * db_sql_account.c: the SQL statements of Meta's account side (issue 13):
 * what the health webhooks write to a number (db_numbers.c), message
 * templates (db_templates.c) and the account jobs the worker carries to
 * Meta (db_jobs.c), in a table indexed by enum stmt like db_sql.c's: each
 * slot named, every statement in exactly one table (db_open() refuses a
 * slot none or two fill).
 */
#include <sqlite3.h>

#include "db.h"
#include "db_int.h"

const char *const dbi_sql_account[STMT__MAX] = {
	[0] = NULL,	/* ISO C wants one initializer; go when one is here */
	/* db_types.c: a number's catalog, a message's raw item */
	[STMT_NUMBER_CATALOG_GET] =
	"SELECT catalog_id FROM numbers WHERE phone_number_id = ?1",
	[STMT_NUMBER_CATALOG_SET] =
	"UPDATE numbers SET catalog_id = ?2 WHERE phone_number_id = ?1",
	/* The rowid finds it; the rest says it is a reply worth showing. */
	[STMT_MSG_REPLY_RAW] =
	"SELECT raw FROM messages WHERE id = ?1 AND direction = 'in' AND "
	    "(type = 'order' OR interactive_type = 'nfm_reply')",
	/* db_numbers.c: what Meta's webhooks say of a number's health */

	/* db_templates.c: message templates */

	/* db_jobs.c: account jobs the worker carries to Meta */

};
