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
	[STMT_JOB_INSERT] =
	"INSERT INTO account_jobs (phone_number_id, waba_id, kind, body, "
	    "next_attempt_at, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
	[STMT_JOB_DUE] =
	"SELECT id, phone_number_id, waba_id, kind, body, attempts "
	    "FROM account_jobs WHERE state = 'queued' AND "
	    "next_attempt_at <= ?1 ORDER BY next_attempt_at, id LIMIT 1",
	[STMT_JOB_CLAIM] =
	"UPDATE account_jobs SET state = 'running', attempts = attempts + 1 "
	    "WHERE id = ?1 AND state = 'queued'",
	[STMT_JOB_RETRY] =
	"UPDATE account_jobs SET state = 'queued', next_attempt_at = ?2, "
	    "error_code = ?3, error_title = ?4 WHERE id = ?1 AND "
	    "state = 'running'",
	[STMT_JOB_FINISH] =
	"UPDATE account_jobs SET state = ?2, result = ?3, error_code = ?4, "
	    "error_title = ?5, finished_at = ?6 WHERE id = ?1 AND "
	    "state = 'running'",
	[STMT_JOB_GET] =
	"SELECT id, kind, phone_number_id, waba_id, state, attempts, "
	    "next_attempt_at, result, error_code, error_title, created_at, "
	    "finished_at FROM account_jobs WHERE id = ?1",
	[STMT_JOB_NEXT_DUE] =
	"SELECT min(next_attempt_at) FROM account_jobs WHERE "
	    "state = 'queued' AND next_attempt_at > ?1",
	[STMT_JOB_RECOVER] =
	"UPDATE account_jobs SET state = 'queued' WHERE state = 'running'",
	[STMT_JOB_PENDING] =
	"SELECT 1 FROM account_jobs WHERE kind = ?1 AND waba_id = ?2 AND "
	    "state IN ('queued', 'running') LIMIT 1",
	[STMT_JOB_LAST] =
	"SELECT max(created_at) FROM account_jobs WHERE kind = ?1 AND "
	    "waba_id = ?2",
	[STMT_JOB_WABAS] =
	"SELECT DISTINCT waba_id FROM numbers WHERE removed_at IS NULL AND "
	    "waba_id IS NOT NULL ORDER BY waba_id",
	/* The token of a WABA-wide call: its oldest active number's. */
	[STMT_JOB_WABA_TOKEN] =
	"SELECT token_env FROM numbers WHERE waba_id = ?1 AND "
	    "removed_at IS NULL ORDER BY created_at, phone_number_id LIMIT 1",
	[STMT_JOB_PROFILE_SET] =
	"UPDATE numbers SET profile = ?2, profile_at = ?3 WHERE "
	    "phone_number_id = ?1",
	[STMT_JOB_PROFILE_GET] =
	"SELECT phone_number_id, label, profile, profile_at FROM numbers "
	    "WHERE phone_number_id = ?1",
	[STMT_JOB_NUMBER_WABAS] =
	"SELECT phone_number_id, waba_id FROM numbers WHERE removed_at IS "
	    "NULL AND waba_id IS NOT NULL ORDER BY created_at, phone_number_id",
};
