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
	/* db_numbers.c: what Meta's webhooks say of a number's health */

	/* db_templates.c: message templates */
	/*
	 * Keeps the newest of Meta's word: NULL leaves a member as it is;
	 * updated_at moves only when something changed.
	 */
	[STMT_TEMPLATE_UPSERT] =
	"INSERT INTO templates (waba_id, template_id, name, language, "
	    "category, status, quality, components, rejected_reason, "
	    "synced_at, updated_at) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) "
	    "ON CONFLICT (waba_id, name, language) DO UPDATE SET "
	    "template_id = coalesce(excluded.template_id, template_id), "
	    "category = coalesce(excluded.category, category), "
	    "status = excluded.status, "
	    "quality = coalesce(excluded.quality, quality), "
	    "components = excluded.components, "
	    "rejected_reason = excluded.rejected_reason, "
	    "synced_at = coalesce(excluded.synced_at, synced_at), "
	    "updated_at = CASE WHEN "
	    "template_id IS NOT coalesce(excluded.template_id, template_id) OR "
	    "category IS NOT coalesce(excluded.category, category) OR "
	    "status IS NOT excluded.status OR "
	    "quality IS NOT coalesce(excluded.quality, quality) OR "
	    "components IS NOT excluded.components OR "
	    "rejected_reason IS NOT excluded.rejected_reason "
	    "THEN excluded.updated_at ELSE updated_at END",
	[STMT_TEMPLATE_GET] =
	"SELECT id, waba_id, template_id, name, language, category, status, "
	    "quality, components, rejected_reason, synced_at, updated_at "
	    "FROM templates WHERE waba_id = ?1 AND name = ?2 AND "
	    "language = ?3",
	/* ?1 a JSON array of the WABAs the caller may see. */
	[STMT_TEMPLATE_LIST] =
	"SELECT id, waba_id, template_id, name, language, category, status, "
	    "quality, components, rejected_reason, synced_at, updated_at "
	    "FROM templates WHERE waba_id IN (SELECT value FROM json_each(?1)) "
	    "AND (?2 IS NULL OR name = ?2) AND (?3 IS NULL OR language = ?3) "
	    "AND (?4 IS NULL OR status = ?4) AND (?5 IS NULL OR category = ?5) "
	    "AND id > ?6 ORDER BY id LIMIT ?7",
	[STMT_TEMPLATE_DELETE] =
	"DELETE FROM templates WHERE waba_id = ?1 AND name = ?2 AND "
	    "(?3 IS NULL OR language = ?3)",
	[STMT_TEMPLATE_SYNC_STAMP] =
	"SELECT coalesce(max(synced_at), 0) FROM templates WHERE waba_id = ?1",
	/* A row made here and never listed goes by when it was made. */
	[STMT_TEMPLATE_SYNC_DONE] =
	"DELETE FROM templates WHERE waba_id = ?1 AND "
	    "coalesce(synced_at, updated_at) < ?2",
	[STMT_TEMPLATE_NUMBERS] =
	"SELECT phone_number_id, label, coalesce(waba_id, ''), token_env, "
	    "coalesce(display_phone_number, '') FROM numbers WHERE removed_at IS NULL "
	    "ORDER BY created_at, phone_number_id",

	/* db_jobs.c: account jobs the worker carries to Meta */

};
