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

/* A phone number as digits only, in SQL (display numbers vary in format). */
#define DIGITS(x) "replace(replace(replace(replace(replace(replace(" x \
	", '+', ''), ' ', ''), '-', ''), '(', ''), ')', ''), '.', '')"

const char *const dbi_sql_account[STMT__MAX] = {
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
	/* Meta's time of a change: entry.time, else value.timestamp, else ours. */
	[STMT_HEALTH_TIME] =
	"SELECT coalesce(nullif(?1, 0), nullif(CAST(json_extract(?2, "
	    "'$.timestamp') AS INTEGER), 0), ?3)",
	/*
	 * The numbers a change (value ?2) is about: the one whose display
	 * number its display_phone_number (or phone_number) is, digits to
	 * digits; else WABA ?1's numbers, only when it has exactly one and
	 * ?3 is 1 (the sole number of an install whose WABA is not known yet
	 * counts as that WABA's).
	 */
	[STMT_HEALTH_TARGETS] =
	"WITH v(d) AS (SELECT " DIGITS("coalesce(json_extract(?2, "
	    "'$.display_phone_number'), json_extract(?2, '$.phone_number'))")
	    "), byd AS (SELECT phone_number_id FROM numbers, v WHERE "
	    "v.d <> '' AND " DIGITS("display_phone_number") " = v.d), "
	    "live AS (SELECT phone_number_id, waba_id FROM numbers "
	    "WHERE removed_at IS NULL), "
	    "byw AS (SELECT phone_number_id FROM live WHERE waba_id = ?1 OR "
	    "(waba_id IS NULL AND (SELECT count(*) FROM live) = 1)) "
	    "SELECT phone_number_id FROM byd UNION ALL "
	    "SELECT phone_number_id FROM byw WHERE NOT EXISTS "
	    "(SELECT 1 FROM byd) AND (?3 = 0 OR (SELECT count(*) FROM byw) = 1)",
	[STMT_HEALTH_NUMBER_OLD] =
	"SELECT label, quality_rating, messaging_limit_tier, account_state, "
	    "account_detail FROM numbers WHERE phone_number_id = ?1",
	/*
	 * phone_number_quality_update (?2 the value): FLAGGED means the
	 * quality fell to low (RED); UNFLAGGED only that it is no longer
	 * low, so RED becomes UNKNOWN until the next Graph check.  The tier
	 * is current_limit, else max_daily_conversations_per_business (its
	 * successor since 2026).  Never over a newer change (?3 Meta time).
	 */
	[STMT_HEALTH_QUALITY] =
	"UPDATE numbers SET quality_rating = coalesce(CASE WHEN "
	    "json_type(?2, '$.quality_rating') = 'text' THEN "
	    "json_extract(?2, '$.quality_rating') END, "
	    "CASE json_extract(?2, '$.event') WHEN 'FLAGGED' THEN 'RED' "
	    "WHEN 'UNFLAGGED' THEN CASE WHEN quality_rating = 'RED' THEN "
	    "'UNKNOWN' END END, quality_rating), "
	    "messaging_limit_tier = coalesce(CASE WHEN "
	    "json_type(?2, '$.current_limit') = 'text' THEN "
	    "json_extract(?2, '$.current_limit') END, CASE WHEN "
	    "json_type(?2, '$.max_daily_conversations_per_business') = 'text' "
	    "THEN json_extract(?2, '$.max_daily_conversations_per_business') "
	    "END, messaging_limit_tier), quality_at = ?3 "
	    "WHERE phone_number_id = ?1 AND ?3 >= coalesce(quality_at, 0)",
	/* account_update: the event, the whole value, Meta's time. */
	[STMT_HEALTH_ACCOUNT] =
	"UPDATE numbers SET account_state = ?4, account_detail = ?2, "
	    "account_at = ?3 WHERE phone_number_id = ?1 AND "
	    "?3 >= coalesce(account_at, 0)",
	/*
	 * business_capability_update: the portfolio's daily limit as a
	 * number (-1 unlimited), from max_daily_conversations_per_business
	 * (a number or a TIER_ word), else the older
	 * max_daily_conversation_per_phone.  A tier change: quality_at.
	 */
	[STMT_HEALTH_CAPABILITY] =
	"UPDATE numbers SET max_daily_conversations = v.x, quality_at = ?3 "
	    "FROM (SELECT coalesce(CASE json_type(?2, "
	    "'$.max_daily_conversations_per_business') WHEN 'integer' THEN "
	    "json_extract(?2, '$.max_daily_conversations_per_business') "
	    "WHEN 'text' THEN CASE json_extract(?2, "
	    "'$.max_daily_conversations_per_business') "
	    "WHEN 'TIER_50' THEN 50 WHEN 'TIER_250' THEN 250 "
	    "WHEN 'TIER_1K' THEN 1000 WHEN 'TIER_2K' THEN 2000 "
	    "WHEN 'TIER_10K' THEN 10000 WHEN 'TIER_100K' THEN 100000 "
	    "WHEN 'TIER_UNLIMITED' THEN -1 END END, CASE json_type(?2, "
	    "'$.max_daily_conversation_per_phone') WHEN 'integer' THEN "
	    "json_extract(?2, '$.max_daily_conversation_per_phone') END) AS x) "
	    "AS v WHERE phone_number_id = ?1 AND v.x IS NOT NULL AND "
	    "?3 >= coalesce(quality_at, 0)",
	/* A template webhook's row: by Meta's id, else name and language. */
	[STMT_HEALTH_TMPL_FIND] =
	"SELECT id, updated_at FROM templates WHERE waba_id = ?1 AND "
	    "(template_id = CAST(json_extract(?2, '$.message_template_id') AS "
	    "TEXT) OR (name = json_extract(?2, '$.message_template_name') AND "
	    "language = json_extract(?2, '$.message_template_language'))) "
	    "ORDER BY template_id IS CAST(json_extract(?2, "
	    "'$.message_template_id') AS TEXT) DESC LIMIT 1",
	/*
	 * Status (?4, NULL keeps it), rejection reason, category, quality
	 * of template ?1 from webhook value ?2 at Meta time ?3, unless a
	 * newer change (or sync) wrote the row.
	 */
	[STMT_HEALTH_TMPL_UPDATE] =
	"UPDATE templates SET status = coalesce(?4, status), "
	    "rejected_reason = CASE WHEN ?4 IS NULL THEN rejected_reason "
	    "WHEN ?4 = 'REJECTED' THEN nullif(json_extract(?2, '$.reason'), "
	    "'NONE') END, "
	    "category = coalesce(CASE WHEN json_type(?2, '$.new_category') = "
	    "'text' THEN json_extract(?2, '$.new_category') END, CASE WHEN "
	    "json_type(?2, '$.message_template_category') = 'text' THEN "
	    "json_extract(?2, '$.message_template_category') END, category), "
	    "quality = coalesce(CASE WHEN json_type(?2, '$.new_quality_score') "
	    "= 'text' THEN json_extract(?2, '$.new_quality_score') END, "
	    "quality), template_id = coalesce(template_id, "
	    "CAST(json_extract(?2, '$.message_template_id') AS TEXT)), "
	    "updated_at = ?3 WHERE id = ?1 AND ?3 >= updated_at",
	/* A status webhook for a template not synced yet: a minimal row. */
	[STMT_HEALTH_TMPL_INSERT] =
	"INSERT INTO templates (waba_id, template_id, name, language, "
	    "category, status, rejected_reason, components, updated_at) "
	    "SELECT ?1, CAST(json_extract(?2, '$.message_template_id') AS TEXT), "
	    "json_extract(?2, '$.message_template_name'), "
	    "json_extract(?2, '$.message_template_language'), "
	    "CASE WHEN json_type(?2, '$.message_template_category') = 'text' "
	    "THEN json_extract(?2, '$.message_template_category') END, ?4, "
	    "CASE WHEN ?4 = 'REJECTED' THEN nullif(json_extract(?2, "
	    "'$.reason'), 'NONE') END, '[]', ?3 "
	    "WHERE json_type(?2, '$.message_template_name') = 'text' AND "
	    "json_type(?2, '$.message_template_language') = 'text' "
	    "ON CONFLICT (waba_id, name, language) DO NOTHING",
	/* One template_sync queued per WABA at a time (the jobs run it). */
	[STMT_HEALTH_SYNC_QUEUE] =
	"INSERT INTO account_jobs (waba_id, kind, next_attempt_at, "
	    "created_at) SELECT ?1, 'template_sync', ?2, ?2 WHERE NOT EXISTS "
	    "(SELECT 1 FROM account_jobs WHERE state = 'queued' AND "
	    "kind = 'template_sync' AND waba_id = ?1)",
	/* GET /numbers, /status, /metrics: never the token, only its name. */
	[STMT_HEALTH_NUMBERS] =
	"SELECT phone_number_id, label, display_phone_number, verified_name, "
	    "waba_id, quality_rating AS quality, messaging_limit_tier AS tier, "
	    "max_daily_conversations, quality_at, account_state, "
	    "account_detail, account_at, status, throughput, send_rate, "
	    "token_env, checked_at, created_at, removed_at FROM numbers "
	    "ORDER BY removed_at IS NOT NULL, created_at, phone_number_id",
	/*
	 * Numbers that wrote since ?1 (Meta time of messages) without being
	 * an active row of numbers: a skip scan of messages_number_time, one
	 * seek per number ever seen (at most 1,000), then the newest 2,000
	 * statuses (which have no such index) stored since ?2.
	 */
	[STMT_HEALTH_UNKNOWN] =
	"WITH RECURSIVE p(id) AS (SELECT (SELECT min(phone_number_id) FROM "
	    "messages) UNION ALL SELECT (SELECT min(phone_number_id) FROM "
	    "messages WHERE phone_number_id > p.id) FROM p WHERE p.id IS NOT "
	    "NULL LIMIT 1000) "
	    "SELECT id FROM p WHERE id IS NOT NULL AND NOT EXISTS (SELECT 1 "
	    "FROM numbers WHERE phone_number_id = p.id AND removed_at IS NULL) "
	    "AND EXISTS (SELECT 1 FROM messages WHERE phone_number_id = p.id "
	    "AND timestamp >= ?1) "
	    "UNION SELECT phone_number_id FROM (SELECT phone_number_id, "
	    "created_at FROM message_statuses ORDER BY id DESC LIMIT 2000) AS s "
	    "WHERE created_at >= ?2 AND NOT EXISTS (SELECT 1 FROM numbers WHERE "
	    "phone_number_id = s.phone_number_id AND removed_at IS NULL) "
	    "LIMIT 20",

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
	/* Retention (db_retain.c): finished jobs, by when they were asked. */
	[STMT_PURGE_JOBS_COUNT] =
	"SELECT count(*) FROM account_jobs WHERE state IN ('done', 'failed') "
	    "AND created_at < ?1 * 1000",
	[STMT_PURGE_JOBS] =
	"DELETE FROM account_jobs WHERE id IN (SELECT id FROM account_jobs "
	    "WHERE state IN ('done', 'failed') AND created_at < ?1 * 1000 "
	    "ORDER BY id LIMIT ?2)",
};
