/*
 * db_sql_hooks.c: the SQL statements of event webhooks' subscriptions and
 * queueing (db_hooks.c), in a table indexed by enum stmt like db_sql.c's
 * (db_open() refuses a slot none or two fill).
 */
#include <sqlite3.h>

#include "db.h"
#include "db_int.h"

/* A hook's row as the API shows it: never the secret. */
#define HOOK_COLS \
	"h.id, h.url, h.events, h.phone_number_id AS number, h.secret_env, " \
	"h.state, h.disabled_reason, h.failing_since, h.created_by, " \
	"h.created_at, h.updated_at, " \
	"(SELECT count(*) FROM event_deliveries e WHERE e.hook_id = h.id " \
	"AND e.state IN ('queued', 'sending')) AS pending, " \
	"(SELECT count(*) FROM event_deliveries e WHERE e.hook_id = h.id " \
	"AND e.state = 'failed' AND e.created_at >= ?2) AS failed_24h "

const char *const dbi_sql_hooks[STMT__MAX] = {
	/* One hook, every column (the secret stays in storage's hands). */
	[STMT_HOOK_GET] =
	"SELECT id, url, events, phone_number_id, secret_env, secret, state, "
	    "disabled_reason, failing_since, created_by, created_at, "
	    "updated_at FROM hooks WHERE id = ?1",
	/* Whether any hook could take an event: queueing's cheap way out. */
	[STMT_HOOK_ANY] =
	"SELECT 1 FROM hooks WHERE state = 'active' LIMIT 1",
	/*
	 * One delivery per active hook subscribed to the type (or "*") and
	 * to this number (or every number).  ?1 event id, ?2 type, ?3 pnid,
	 * ?4 conversation, ?5 body, ?6 now (ms).
	 */
	[STMT_HOOK_EMIT] =
	"INSERT INTO event_deliveries (hook_id, event_id, type, "
	    "phone_number_id, conversation_id, body, state, attempts, "
	    "next_attempt_at, created_at) "
	    "SELECT id, ?1, ?2, ?3, ?4, ?5, 'queued', 0, ?6, ?6 FROM hooks "
	    "WHERE state = 'active' AND (phone_number_id IS NULL OR "
	    "phone_number_id = ?3) AND (instr(',' || events || ',', "
	    "',' || ?2 || ',') > 0 OR instr(',' || events || ',', ',*,') > 0) "
	    "ORDER BY id",
	[STMT_HOOK_INSERT] =
	"INSERT INTO hooks (url, events, phone_number_id, secret_env, secret, "
	    "state, created_by, created_at, updated_at) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, 'active', ?6, ?7, ?7)",
	/* Every hook (?1 0) or one; ?2 now - 24 h (ms) for failed_24h. */
	[STMT_HOOK_LIST] =
	"SELECT " HOOK_COLS "FROM hooks h WHERE ?1 = 0 OR h.id = ?1 "
	    "ORDER BY h.id",
	/*
	 * ?1 id; ?2 url, ?3 events, ?5 state (NULL: kept); ?4 number when
	 * ?6; ?7 now.  Re-activating a disabled hook starts a new run.
	 */
	[STMT_HOOK_UPDATE] =
	"UPDATE hooks SET url = coalesce(?2, url), "
	    "events = coalesce(?3, events), "
	    "phone_number_id = CASE WHEN ?6 THEN ?4 ELSE phone_number_id END, "
	    "failing_since = CASE WHEN ?5 = 'active' AND state = 'disabled' "
	    "THEN NULL ELSE failing_since END, "
	    "disabled_reason = CASE WHEN ?5 = 'active' THEN NULL "
	    "ELSE disabled_reason END, "
	    "state = coalesce(?5, state), updated_at = ?7 WHERE id = ?1",
	[STMT_HOOK_DELETE] =
	"DELETE FROM hooks WHERE id = ?1",
	/*
	 * A hook's deliveries, newest first: ?1 hook, ?2 state or NULL,
	 * ?3 before (an id; NULL none), ?4 limit; with their attempts.
	 */
	[STMT_HOOK_DELIVERIES] =
	"SELECT d.id, d.event_id, d.type, d.conversation_id, d.state, "
	    "d.attempts, d.next_attempt_at, d.last_status, d.last_error, "
	    "d.created_at, d.delivered_at, "
	    "(SELECT json_group_array(json_object('at', a.at, 'duration_ms', "
	    "a.duration_ms, 'http_status', a.http_status, 'error', a.error)) "
	    "FROM (SELECT * FROM event_attempts WHERE delivery_id = d.id "
	    "ORDER BY id) a) AS attempts_log "
	    "FROM event_deliveries d WHERE d.hook_id = ?1 AND "
	    "(?2 IS NULL OR d.state = ?2) AND (?3 IS NULL OR d.id < ?3) "
	    "ORDER BY d.id DESC LIMIT ?4",
	/* Queued again now, attempts kept; one being sent is left alone. */
	[STMT_HOOK_REDELIVER] =
	"UPDATE event_deliveries SET state = 'queued', next_attempt_at = ?2, "
	    "lease_until = NULL, delivered_at = NULL "
	    "WHERE id = ?1 AND state <> 'sending'",
	/* The customer of a conversation, for an event's data. */
	[STMT_HOOK_CONV_WA] =
	"SELECT c.wa_id FROM conversations v JOIN contacts c "
	    "ON c.id = v.contact_id WHERE v.id = ?1",
	/* A message's id and conversation by wamid, for an event's data. */
	[STMT_HOOK_MSG] =
	"SELECT id, conversation_id FROM messages WHERE wamid = ?1",
	/*
	 * An outbox row for message.sent and send.failed: its number,
	 * recipient, kind, attempts, message, who sent it (a person's
	 * name, else its source) and the conversation it belongs to.
	 */
	/* A number's conversation with a contact: its id and wa_id. */
	[STMT_HOOK_CONV_OF] =
	"SELECT v.id, coalesce(c.wa_id, c.user_id) FROM conversations v "
	    "JOIN contacts c ON c.id = v.contact_id "
	    "WHERE v.phone_number_id = ?1 AND v.contact_id = ?2",
	[STMT_HOOK_OUTBOX] =
	"SELECT o.phone_number_id, o.recipient, o.kind, o.attempts, "
	    "o.message_id, coalesce((SELECT u.name FROM users u WHERE "
	    "u.id = o.user_id), o.source), (SELECT v.id FROM conversations v "
	    "JOIN contacts c ON c.id = v.contact_id WHERE "
	    "v.phone_number_id = o.phone_number_id AND (c.wa_id = o.recipient "
	    "OR c.user_id = o.recipient)) FROM outbox o WHERE o.id = ?1",
};
