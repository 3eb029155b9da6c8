/*
 * db_sql_hooks.c: the SQL statements of event webhooks' subscriptions and
 * queueing (db_hooks.c), in a table indexed by enum stmt like db_sql.c's
 * (db_open() refuses a slot none or two fill).
 */
#include <sqlite3.h>

#include "db.h"
#include "db_int.h"

const char *const dbi_sql_hooks[STMT__MAX] = {
	/* One hook, every column (the secret stays in storage's hands). */
	[STMT_HOOK_GET] =
	"SELECT id, url, events, phone_number_id, secret_env, secret, state, "
	    "disabled_reason, failing_since, created_by, created_at, "
	    "updated_at FROM hooks WHERE id = ?1",
};
