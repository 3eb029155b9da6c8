/*
 * db_sql_api.c: the SQL statements of the management API (db_api.c),
 * retention and erasure (db_retain.c) and the business numbers
 * (db_numbers.c), in a table indexed by enum stmt like db_sql.c's: each
 * slot named, every statement in exactly one of the two tables (db_open()
 * refuses a slot neither or both fill).
 */
#include <sqlite3.h>

#include "db.h"
#include "db_int.h"

/*
 * The numbers a call covers (api_may_see()): ?2 of every API statement
 * is a JSON array of phone_number_ids, never NULL.  As a list of values
 * the planner can still walk an index per number ("+" keeps it off one
 * where a statement drives another index, as before).
 */
#define IN_SET(col)	col " IN (SELECT value FROM json_each(?2)) "

/*
 * GET /messages: the columns, and the filters every variant applies.
 * sent_by (JSON, api_on_row() passes it on as such): who sent an
 * outbound message, a person by display name (messages.user_id), the
 * bot (its outbox row's source, one outbox_wamid lookup), "app" for the
 * WhatsApp Business app's echoes, else "api"; null for inbound ones.
 */
#define API_MSG_COLS \
	"SELECT m.id, m.wamid, m.direction, m.conversation_id, " \
	"coalesce(m.sender, m.recipient) AS phone, m.type, m.text, " \
	"m.media_id, m.mime_type, m.filename, m.reply_id, m.reply_title, " \
	"m.context_wamid, m.status, m.status_at, m.error_code, " \
	"m.error_title, m.timestamp, m.source, m.original_text, " \
	"m.edited_at, m.revoked_at, m.phone_number_id, " \
	"m.interactive_type, m.reaction_to, m.reaction_emoji, m.latitude, " \
	"m.longitude, m.location_name, m.location_address, m.context_from, " \
	"m.forwarded, " \
	"CASE WHEN m.direction = 'in' THEN NULL " \
	"WHEN m.user_id IS NOT NULL THEN json_object('kind', 'person', " \
	"'name', (SELECT coalesce(u.display_name, u.name) FROM users u " \
	"WHERE u.id = m.user_id)) " \
	"WHEN m.source = 'echo' THEN json_object('kind', 'app', 'name', NULL) " \
	"WHEN (SELECT b.source FROM outbox b WHERE b.wamid = m.wamid) = " \
	"'bot' THEN json_object('kind', 'bot', 'name', NULL) " \
	"ELSE json_object('kind', 'api', 'name', NULL) END AS sent_by "
#define API_MSG_FILTERS \
	"AND (?3 IS NULL OR coalesce(m.sender, m.recipient) = ?3) " \
	"AND (?4 IS NULL OR m.conversation_id = ?4) " \
	"AND (?5 IS NULL OR m.type = ?5) AND (?6 IS NULL OR m.direction = ?6) " \
	"AND (?7 IS NULL OR m.status = ?7) " \
	"AND (?8 IS NULL OR m.timestamp >= ?8) " \
	"AND (?9 IS NULL OR m.timestamp < ?9) "

const char *const dbi_sql_api[STMT__MAX] = {
	/* db_api.c: API keys and the management API's queries */
	[STMT_APIKEY_INSERT] =
	"INSERT INTO api_keys (name, key_sha256, key_prefix, read_only, "
	    "created_at) VALUES (?, ?, ?, ?, ?)",
	[STMT_APIKEY_BY_HASH] =
	"SELECT id, key_sha256, read_only, coalesce(last_used_at, 0), name "
	    "FROM api_keys WHERE key_sha256 = ? AND revoked_at IS NULL",
	[STMT_APIKEY_TOUCH] =
	"UPDATE api_keys SET last_used_at = ?2 WHERE id = ?1",
	[STMT_APIKEY_LIST] =
	"SELECT k.name, k.key_prefix, k.read_only, k.created_at, "
	    "k.last_used_at, k.revoked_at, (SELECT group_concat(coalesce(n.label "
	    "|| '=' || a.phone_number_id, a.phone_number_id), ' ') FROM "
	    "api_key_numbers a LEFT JOIN numbers n ON n.phone_number_id = "
	    "a.phone_number_id WHERE a.api_key_id = k.id) FROM api_keys k "
	    "ORDER BY k.id",
	[STMT_APIKEY_REVOKE] =
	"UPDATE api_keys SET revoked_at = ?2 WHERE name = ?1 AND "
	    "revoked_at IS NULL",
	/*
	 * Newest first by id, which only grows: a cursor (the last id seen)
	 * pages stably while rows are added.  Four variants, each driven by
	 * an index (1M messages: a few ms): no filter walks the rowid
	 * backwards (+ keeps the planner off other indexes), a conversation
	 * messages_conversation_id (its ids in order: 10M messages, a few
	 * ms too), a time window messages_number_time, q the search
	 * index; the other filters then apply as they come.
	 */
	[STMT_API_MESSAGES] =
	API_MSG_COLS "FROM messages m WHERE " IN_SET("+m.phone_number_id") "AND "
	    "m.id < coalesce(?1, 9223372036854775807) " API_MSG_FILTERS
	    "ORDER BY m.id DESC LIMIT ?10",
	[STMT_API_CONVERSATIONS] =
	"SELECT v.id, v.phone_number_id, c.wa_id AS phone, c.profile_name, "
	    "c.opted_out, v.message_count, v.unread_count, v.first_message_at, "
	    "v.last_message_at, v.window_expires_at, v.assignee, "
	    "v.assigned_until, v.notes, v.customer_email, v.labels "
	    "FROM conversations v JOIN contacts c ON "
	    "c.id = v.contact_id WHERE v.id < coalesce(?1, 9223372036854775807) "
	    "AND " IN_SET("+v.phone_number_id") "AND (?3 IS NULL OR (?3 = 1) = "
	    "(v.unread_count > 0)) AND (?4 IS NULL OR v.assignee = ?4) "
	    "AND (?6 IS NULL OR c.wa_id LIKE ?6 ESCAPE '\\' OR "
	    "c.profile_name LIKE ?6 ESCAPE '\\' OR v.notes LIKE ?6 ESCAPE "
	    "'\\') ORDER BY v.id DESC LIMIT ?5",
	[STMT_API_CONVERSATION] =
	"SELECT v.id, v.phone_number_id, c.wa_id AS phone, c.profile_name, "
	    "c.opted_out, v.message_count, v.unread_count, v.first_message_at, "
	    "v.last_message_at, v.window_expires_at, v.assignee, "
	    "v.assigned_until, v.notes, v.customer_email, v.labels "
	    "FROM conversations v JOIN contacts c ON "
	    "c.id = v.contact_id WHERE v.id = ?1 AND " IN_SET("v.phone_number_id"),
	[STMT_API_OUTBOX] =
	"SELECT id, phone_number_id, recipient, kind, state, attempts, "
	    "next_attempt_at, error_code, error_title, error_details, wamid, message_id, source, "
	    "created_at, sent_at FROM outbox WHERE id = ?1 AND "
	    IN_SET("phone_number_id"),
	[STMT_API_MESSAGES_Q] =
	API_MSG_COLS "FROM messages_fts f JOIN messages m ON m.id = f.rowid "
	    "WHERE f.messages_fts MATCH ?11 AND "
	    "f.rowid < coalesce(?1, 9223372036854775807) AND "
	    IN_SET("m.phone_number_id") API_MSG_FILTERS
	    "ORDER BY f.rowid DESC LIMIT ?10",
	[STMT_API_MESSAGES_CONV] =
	API_MSG_COLS "FROM messages m INDEXED BY messages_conversation_id "
	    "WHERE m.conversation_id = ?4 AND " IN_SET("+m.phone_number_id")
	    "AND "
	    "m.id < coalesce(?1, 9223372036854775807) " API_MSG_FILTERS
	    "ORDER BY m.id DESC LIMIT ?10",
	[STMT_API_MESSAGES_TIME] =
	API_MSG_COLS "FROM messages m WHERE " IN_SET("m.phone_number_id") "AND "
	    "m.timestamp >= coalesce(?8, -9223372036854775807) AND "
	    "m.timestamp < coalesce(?9, 9223372036854775807) AND "
	    "+m.id < coalesce(?1, 9223372036854775807) " API_MSG_FILTERS
	    "ORDER BY m.id DESC LIMIT ?10",
	/*
	 * A time window and nothing else: the page's ids come from the
	 * (number, time) index alone, sorted there, then 50 rows are read;
	 * a day of a busy number is thousands of ids, not rows.
	 */
	[STMT_API_MESSAGES_WINDOW] =
	API_MSG_COLS "FROM messages m WHERE m.id IN (SELECT id FROM messages "
	    "WHERE " IN_SET("phone_number_id") "AND "
	    "timestamp >= coalesce(?8, -9223372036854775807) AND "
	    "timestamp < coalesce(?9, 9223372036854775807) AND "
	    "+id < coalesce(?1, 9223372036854775807) "
	    "ORDER BY id DESC LIMIT ?10) AND ?3 IS NULL AND ?4 IS NULL AND "
	    "?5 IS NULL AND ?6 IS NULL AND ?7 IS NULL ORDER BY m.id DESC",
	[STMT_API_OUTBOX_LIST] =
	"SELECT id, phone_number_id, recipient, kind, state, attempts, "
	    "next_attempt_at, error_code, error_title, error_details, wamid, message_id, source, "
	    "created_at, sent_at FROM outbox WHERE "
	    "id < coalesce(?1, 9223372036854775807) AND "
	    IN_SET("+phone_number_id") "AND (?3 IS NULL OR state = ?3) "
	    "ORDER BY id DESC LIMIT ?4",
	[STMT_API_OUTBOX_RETRY] =
	"UPDATE outbox SET state = 'queued', next_attempt_at = ?3, "
	    "attempts = 0 WHERE id = ?1 AND " IN_SET("phone_number_id") "AND "
	    "state = 'failed'",
	[STMT_API_OUTBOX_CANCEL] =
	"UPDATE outbox SET state = 'cancelled' WHERE id = ?1 AND "
	    IN_SET("phone_number_id") "AND state = 'queued'",
	[STMT_API_EVENTS] =
	"SELECT id, received_at, body_size, body_sha256, state, applied_at, "
	    "items_total, items_applied, items_duplicate, items_failed, error "
	    "FROM webhook_events WHERE id < coalesce(?1, 9223372036854775807) "
	    "AND (?2 IS NULL OR +state = ?2) ORDER BY id DESC LIMIT ?3",
	[STMT_API_EVENT] =
	"SELECT id, received_at, body_size, body_sha256, state, applied_at, "
	    "items_total, items_applied, items_duplicate, items_failed, error, "
	    "body FROM webhook_events WHERE id = ?1",
	[STMT_API_STATUS] =
	"SELECT (SELECT count(*) FROM webhook_events WHERE state = 'pending') "
	    "AS journal_backlog, (SELECT max(received_at) FROM webhook_events) "
	    "AS last_webhook_at_ms, (SELECT count(*) FROM outbox WHERE state = "
	    "'queued' AND " IN_SET("+phone_number_id") ") AS outbox_queued, "
	    "(SELECT count(*) FROM outbox WHERE state = 'sending' AND "
	    IN_SET("+phone_number_id") ") AS outbox_sending, (SELECT count(*) "
	    "FROM outbox WHERE state = 'failed' AND " IN_SET("+phone_number_id")
	    ") AS outbox_failed, (SELECT count(*) FROM "
	    "media WHERE state = 'pending') AS media_pending, (SELECT count(*) "
	    "FROM agent_requests WHERE state IN ('queued', 'sending')) AS "
	    "agent_pending, (SELECT paused_reason FROM sender_status WHERE "
	    IN_SET("phone_number_id") "AND paused_reason IS NOT NULL ORDER BY "
	    "phone_number_id LIMIT 1) AS sending_paused",
	[STMT_API_CONV_PATCH] =
	"UPDATE conversations SET "
	    "notes = CASE WHEN ?2 THEN ?3 ELSE notes END, "
	    "customer_email = CASE WHEN ?4 THEN ?5 ELSE customer_email END, "
	    "labels = CASE WHEN ?6 THEN ?7 ELSE labels END, "
	    "assignee = CASE WHEN ?8 THEN ?9 ELSE assignee END, "
	    "assigned_until = CASE WHEN ?8 THEN NULL ELSE assigned_until END "
	    "WHERE id = ?1 AND phone_number_id IN (SELECT value FROM "
	    "json_each(?10))",
	[STMT_API_CONV_READ] =
	"UPDATE conversations SET unread_count = 0 WHERE id = ?1 AND "
	    IN_SET("phone_number_id"),
	[STMT_API_LAST_INBOUND] =
	"SELECT m.wamid, c.wa_id, v.phone_number_id FROM messages m JOIN "
	    "conversations v ON v.id = m.conversation_id JOIN contacts c ON "
	    "c.id = v.contact_id WHERE v.id = ?1 AND " IN_SET("v.phone_number_id")
	    "AND m.direction = 'in' "
	    "ORDER BY m.timestamp DESC, m.id DESC LIMIT 1",
	[STMT_API_CONV_BY_PHONE] =
	"SELECT v.id FROM contacts c JOIN conversations v ON "
	    "v.phone_number_id = c.phone_number_id AND v.contact_id = c.id "
	    "WHERE c.wa_id = ?1 AND " IN_SET("c.phone_number_id")
	    "ORDER BY +v.last_message_at DESC LIMIT 1",
	[STMT_API_CONTACTS] =
	"SELECT c.id, c.phone_number_id, c.wa_id AS phone, c.user_id, c.username, "
	    "c.profile_name, c.saved_name, c.first_seen_at, c.last_seen_at, "
	    "c.opted_out, "
	    "c.opted_out_at, v.id AS conversation_id FROM contacts c LEFT JOIN "
	    "conversations v ON v.phone_number_id = c.phone_number_id AND "
	    "v.contact_id = c.id WHERE "
	    "c.id < coalesce(?1, 9223372036854775807) AND "
	    IN_SET("+c.phone_number_id") "AND (?3 IS NULL OR "
	    "c.wa_id LIKE ?3 ESCAPE '\\' OR c.profile_name LIKE ?3 ESCAPE "
	    "'\\') AND (?4 IS NULL OR c.opted_out = ?4) ORDER BY c.id DESC "
	    "LIMIT ?5",
	[STMT_API_CONTACT] =
	"SELECT c.id, c.phone_number_id, c.wa_id AS phone, c.user_id, c.username, "
	    "c.profile_name, c.saved_name, c.first_seen_at, c.last_seen_at, "
	    "c.opted_out, "
	    "c.opted_out_at, v.id AS conversation_id FROM contacts c LEFT JOIN "
	    "conversations v ON v.phone_number_id = c.phone_number_id AND "
	    "v.contact_id = c.id WHERE c.wa_id = ?1 AND "
	    IN_SET("c.phone_number_id") "ORDER BY c.phone_number_id",
	[STMT_EXPORT_CONVERSATIONS] =
	"SELECT * FROM conversations WHERE contact_id = ?1",
	[STMT_EXPORT_MESSAGES] =
	"SELECT * FROM messages WHERE contact_id = ?1 OR conversation_id IN "
	    "(SELECT id FROM conversations WHERE contact_id = ?1) ORDER BY id",
	[STMT_EXPORT_STATUSES] =
	"SELECT * FROM message_statuses WHERE wamid IN (SELECT wamid FROM "
	    "messages WHERE conversation_id IN (SELECT id FROM conversations "
	    "WHERE contact_id = ?1)) OR recipient_id = ?2 OR "
	    "recipient_user_id = (SELECT user_id FROM contacts WHERE id = ?1) "
	    "ORDER BY id",
	[STMT_EXPORT_MEDIA] =
	"SELECT * FROM media WHERE message_id IN (SELECT id FROM messages "
	    "WHERE conversation_id IN (SELECT id FROM conversations WHERE "
	    "contact_id = ?1)) ORDER BY id",
	[STMT_EXPORT_TICKETS] =
	"SELECT t.*, (SELECT group_concat(media_id) FROM ticket_media m "
	    "WHERE m.ticket_id = t.id) AS media_ids FROM tickets t "
	    "WHERE contact_id = ?1 ORDER BY id",
	[STMT_EXPORT_OUTBOX] =
	"SELECT * FROM outbox WHERE phone_number_id = ?3 AND (recipient = ?2 "
	    "OR recipient = (SELECT user_id FROM contacts WHERE id = ?1)) "
	    "ORDER BY id",
	[STMT_EXPORT_CONTACT] = "SELECT * FROM contacts WHERE id = ?1",
	[STMT_EXPORT_AGENT] =
	"SELECT * FROM agent_requests WHERE contact_id = ?1 ORDER BY id",
	[STMT_EXPORT_BOT] = "SELECT * FROM bot_state WHERE contact_id = ?1",
	[STMT_EXPORT_ORDERS] =
	"SELECT * FROM orders WHERE phone_number_id = ?3 AND "
	    "customer_wa_id = ?2 ORDER BY id",
	[STMT_EXPORT_ORDER_LINES] =
	"SELECT l.* FROM order_lines l JOIN orders o ON o.id = l.order_id "
	    "WHERE o.phone_number_id = ?3 AND o.customer_wa_id = ?2 "
	    "ORDER BY l.id",
	/* Journal entries whose raw body names the contact (as a JSON
	 * string: "15550001111") and the contact's number, applied or not. */
	[STMT_EXPORT_EVENTS] =
	"SELECT * FROM webhook_events WHERE body IS NOT NULL AND "
	    "(instr(body, CAST('\"' || ?2 || '\"' AS BLOB)) > 0 OR "
	    "instr(body, CAST('\"' || (SELECT user_id FROM contacts WHERE "
	    "id = ?1) || '\"' AS BLOB)) > 0) AND "
	    "instr(body, CAST('\"' || ?3 || '\"' AS BLOB)) > 0 ORDER BY id",
	[STMT_EXPORT_WEBHOOK_ERRORS] =
	"SELECT * FROM webhook_errors WHERE instr(raw, '\"' || ?2 || '\"') > 0 "
	    "OR instr(raw, '\"' || (SELECT user_id FROM contacts WHERE id = ?1) "
	    "|| '\"') > 0 ORDER BY id",
	[STMT_EXPORT_SUBSCRIPTIONS] =
	"SELECT * FROM subscription_events WHERE instr(raw, '\"' || ?2 || "
	    "'\"') > 0 OR instr(raw, '\"' || (SELECT user_id FROM contacts "
	    "WHERE id = ?1) || '\"') > 0 ORDER BY id",
	[STMT_STATS_VOLUME] =
	"SELECT date(timestamp, 'unixepoch') AS day, direction, type, "
	    "coalesce(status, '') AS status, count(*) AS messages FROM messages "
	    "WHERE " IN_SET("phone_number_id") "AND timestamp >= ?3 AND "
	    "timestamp < ?4 GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4",
	[STMT_STATS_CONTACTS] =
	"SELECT (SELECT count(DISTINCT contact_id) FROM messages WHERE "
	    IN_SET("phone_number_id") "AND timestamp >= ?3 AND "
	    "timestamp < ?4) AS unique_contacts, (SELECT count(*) FROM "
	    "contacts WHERE " IN_SET("phone_number_id") "AND "
	    "first_seen_at >= ?3 AND first_seen_at < ?4) AS new_contacts",
	/* For each customer message, seconds until the next reply. */
	[STMT_STATS_REPLY] =
	"SELECT (SELECT min(o.timestamp) FROM messages o WHERE "
	    "o.conversation_id = i.conversation_id AND o.direction = 'out' AND "
	    "o.timestamp >= i.timestamp) - i.timestamp AS seconds "
	    "FROM messages i WHERE " IN_SET("i.phone_number_id") "AND "
	    "i.direction = 'in' AND i.timestamp >= ?3 AND i.timestamp < ?4",
	[STMT_STATS_FAILURES] =
	"SELECT coalesce(error_code, 0) AS code, coalesce(error_title, '') AS "
	    "title, count(*) AS failures FROM outbox WHERE "
	    IN_SET("phone_number_id") "AND state = 'failed' AND "
	    "created_at >= ?3 * 1000 AND created_at < ?4 * 1000 GROUP BY 1 "
	    "ORDER BY 3 DESC",
	[STMT_STATS_CHOICES] =
	"SELECT node, option, sum(count) AS chosen FROM bot_choices WHERE "
	    IN_SET("phone_number_id") "AND day >= date(?3, 'unixepoch') AND "
	    "day <= date(?4, 'unixepoch') GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2 "
	    "LIMIT 20",
	[STMT_METRICS_EVENTS] =
	"SELECT state, count(*) FROM webhook_events GROUP BY 1",
	[STMT_METRICS_OUTBOX] =
	"SELECT state, count(*), coalesce(min(created_at), 0) FROM outbox "
	    "WHERE " IN_SET("phone_number_id") "GROUP BY 1",
	[STMT_METRICS_SENDS] =
	"SELECT state, coalesce(error_code, 0), count(*) FROM outbox "
	    "WHERE " IN_SET("phone_number_id") "AND state IN ('accepted', "
	    "'failed') GROUP BY 1, 2",
	/* The numbers a key is limited to (none: every number). */
	[STMT_APIKEY_NUMBER_ADD] =
	"INSERT OR IGNORE INTO api_key_numbers (api_key_id, phone_number_id) "
	    "VALUES (?1, ?2)",
	[STMT_APIKEY_NUMBERS] =
	"SELECT phone_number_id FROM api_key_numbers WHERE api_key_id = ?1 "
	    "ORDER BY phone_number_id",
	/*
	 * A customer's messages (phone=) on the numbers covered: their
	 * conversations (one per number) drive the query, as a
	 * conversation's do.
	 */
	[STMT_API_MESSAGES_PHONE] =
	API_MSG_COLS "FROM messages m INDEXED BY messages_conversation_id "
	    "WHERE m.conversation_id IN (SELECT v.id FROM contacts c JOIN "
	    "conversations v ON v.phone_number_id = c.phone_number_id AND "
	    "v.contact_id = c.id WHERE c.wa_id = ?3 AND "
	    IN_SET("c.phone_number_id") ") AND "
	    IN_SET("+m.phone_number_id") "AND "
	    "m.id < coalesce(?1, 9223372036854775807) " API_MSG_FILTERS
	    "ORDER BY m.id DESC LIMIT ?10",
	/* db_retain.c: erasure, purges, media paths, search */
	[STMT_ERASE_WHO] =
	"SELECT id, user_id FROM contacts WHERE phone_number_id = ?1 AND "
	    "wa_id = ?2",
	[STMT_ERASE_LAST_EVENT] =
	"SELECT coalesce(max(id), 0) FROM webhook_events",
	[STMT_ERASE_FIND_BODIES] =
	"SELECT id FROM webhook_events WHERE id > ?1 AND id <= ?2 AND "
	    "body IS NOT NULL AND (instr(body, CAST('\"' || ?3 || '\"' AS "
	    "BLOB)) > 0 OR (?4 IS NOT NULL AND instr(body, CAST('\"' || ?4 || "
	    "'\"' AS BLOB)) > 0))",
	/* An entry not yet applied is settled as failed: the worker must
	 * not bring the erased contact back from it. */
	[STMT_ERASE_BODY] =
	"UPDATE webhook_events SET body = NULL, error = CASE WHEN state = "
	    "'pending' THEN 'erased on request before it was applied' ELSE "
	    "error END, state = CASE WHEN state = 'pending' THEN 'failed' "
	    "ELSE state END WHERE id = ?1",
	[STMT_ERASE_PATHS] =
	"SELECT DISTINCT path FROM media WHERE path IS NOT NULL AND "
	    "message_id IN (SELECT id FROM messages WHERE contact_id = ?1)",
	[STMT_ERASE_BODIES] =
	"UPDATE webhook_events SET body = NULL WHERE id IN (SELECT "
	    "webhook_event_id FROM messages WHERE contact_id = ?1 UNION SELECT "
	    "webhook_event_id FROM message_statuses WHERE recipient_id = ?2)",
	[STMT_ERASE_STATUSES] =
	"DELETE FROM message_statuses WHERE wamid IN (SELECT wamid FROM "
	    "messages WHERE contact_id = ?1) OR recipient_id = ?2 OR "
	    "recipient_user_id = (SELECT user_id FROM contacts WHERE id = ?1)",
	[STMT_ERASE_OUTBOX] =
	"DELETE FROM outbox WHERE phone_number_id = ?3 AND (recipient = ?2 OR "
	    "recipient = (SELECT user_id FROM contacts WHERE id = ?1))",
	[STMT_ERASE_TICKETS] = "DELETE FROM tickets WHERE contact_id = ?1",
	[STMT_ERASE_AGENT] = "DELETE FROM agent_requests WHERE contact_id = ?1",
	[STMT_ERASE_BOT] = "DELETE FROM bot_state WHERE contact_id = ?1",
	[STMT_ERASE_ERRORS] =
	"UPDATE webhook_errors SET raw = '{\"erased\":true}', title = NULL, "
	    "message = NULL, details = NULL WHERE instr(raw, '\"' || ?2 || "
	    "'\"') > 0 OR instr(raw, '\"' || (SELECT user_id FROM contacts "
	    "WHERE id = ?1) || '\"') > 0",
	[STMT_ERASE_SUBSCRIPTIONS] =
	"UPDATE subscription_events SET raw = '{\"erased\":true}' WHERE "
	    "instr(raw, '\"' || ?2 || '\"') > 0 OR instr(raw, '\"' || (SELECT "
	    "user_id FROM contacts WHERE id = ?1) || '\"') > 0",
	[STMT_ERASE_ORDERS] =
	"DELETE FROM orders WHERE phone_number_id = ?3 AND customer_wa_id = ?2",
	[STMT_ERASE_MESSAGES] =
	"DELETE FROM messages WHERE phone_number_id = ?3 AND (sender = ?2 OR "
	    "recipient = ?2)",
	/* Conversations, messages (and their search index), media rows
	 * go with it (ON DELETE CASCADE). */
	[STMT_ERASE_CONTACT] = "DELETE FROM contacts WHERE id = ?1",
	[STMT_PATH_USED] = "SELECT 1 FROM media WHERE path = ? LIMIT 1",
	/* Retention (WA_RETAIN_*): bodies of settled entries only. */
	/* Pending, failed and partial entries keep theirs for replay. */
	[STMT_PURGE_BODIES_COUNT] =
	"SELECT count(*) FROM webhook_events WHERE body IS NOT NULL AND "
	    "(state = 'applied' OR state = 'duplicate') AND received_at < ?1",
	[STMT_PURGE_BODIES] =
	"UPDATE webhook_events SET body = NULL WHERE id IN (SELECT id FROM "
	    "webhook_events WHERE body IS NOT NULL AND (state = 'applied' OR "
	    "state = 'duplicate') AND received_at < ?1 ORDER BY id LIMIT ?2)",
	[STMT_PURGE_MESSAGES_COUNT] =
	"SELECT count(*) FROM messages WHERE timestamp < ?1",
	[STMT_PURGE_MESSAGES_PATHS] =
	"SELECT DISTINCT path FROM media WHERE path IS NOT NULL AND "
	    "message_id IN (SELECT id FROM messages WHERE timestamp < ?1 "
	    "ORDER BY id LIMIT ?2)",
	[STMT_PURGE_MESSAGES] =
	"DELETE FROM messages WHERE id IN (SELECT id FROM messages WHERE "
	    "timestamp < ?1 ORDER BY id LIMIT ?2)",
	[STMT_PURGE_MEDIA_COUNT] =
	"SELECT count(*) FROM media WHERE path IS NOT NULL AND "
	    "stored_at < ?1 / 1000",
	[STMT_PURGE_MEDIA_PATHS] =
	"SELECT DISTINCT path FROM media WHERE id IN (SELECT id FROM media "
	    "WHERE path IS NOT NULL AND stored_at < ?1 / 1000 ORDER BY id "
	    "LIMIT ?2)",
	[STMT_PURGE_MEDIA] =
	"UPDATE media SET path = NULL, error = 'purged by retention' WHERE id "
	    "IN (SELECT id FROM media WHERE path IS NOT NULL AND "
	    "stored_at < ?1 / 1000 ORDER BY id LIMIT ?2)",
	/* WA_RETAIN_MESSAGES_DAYS also covers every copy of a message's
	 * words or its customer's number (cutoff in unix seconds). */
	[STMT_PURGE_STATUSES_COUNT] =
	"SELECT count(*) FROM message_statuses WHERE timestamp < ?1",
	[STMT_PURGE_STATUSES] =
	"DELETE FROM message_statuses WHERE id IN (SELECT id FROM "
	    "message_statuses WHERE timestamp < ?1 ORDER BY id LIMIT ?2)",
	[STMT_PURGE_OUTBOX_COUNT] =
	"SELECT count(*) FROM outbox WHERE state IN ('accepted', 'failed', "
	    "'cancelled') AND created_at < ?1 * 1000",
	[STMT_PURGE_OUTBOX] =
	"DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE state IN "
	    "('accepted', 'failed', 'cancelled') AND created_at < ?1 * 1000 "
	    "ORDER BY id LIMIT ?2)",
	[STMT_PURGE_AGENT_COUNT] =
	"SELECT count(*) FROM agent_requests WHERE state IN ('answered', "
	    "'failed') AND created_at < ?1 * 1000",
	[STMT_PURGE_AGENT] =
	"DELETE FROM agent_requests WHERE id IN (SELECT id FROM agent_requests "
	    "WHERE state IN ('answered', 'failed') AND created_at < ?1 * 1000 "
	    "ORDER BY id LIMIT ?2)",
	[STMT_PURGE_ERRORS_COUNT] =
	"SELECT count(*) FROM webhook_errors WHERE created_at < ?1",
	[STMT_PURGE_ERRORS] =
	"DELETE FROM webhook_errors WHERE id IN (SELECT id FROM webhook_errors "
	    "WHERE created_at < ?1 ORDER BY id LIMIT ?2)",
	[STMT_PURGE_SUBSCRIPTIONS_COUNT] =
	"SELECT count(*) FROM subscription_events WHERE created_at < ?1",
	[STMT_PURGE_SUBSCRIPTIONS] =
	"DELETE FROM subscription_events WHERE id IN (SELECT id FROM "
	    "subscription_events WHERE created_at < ?1 ORDER BY id LIMIT ?2)",
	/* Settled bodies of any state: message retention is the privacy
	 * promise, stronger than keeping failed entries for replay. */
	[STMT_PURGE_OLD_BODIES_COUNT] =
	"SELECT count(*) FROM webhook_events WHERE body IS NOT NULL AND "
	    "state != 'pending' AND received_at < ?1 * 1000",
	[STMT_PURGE_OLD_BODIES] =
	"UPDATE webhook_events SET body = NULL WHERE id IN (SELECT id FROM "
	    "webhook_events WHERE body IS NOT NULL AND state != 'pending' AND "
	    "received_at < ?1 * 1000 ORDER BY id LIMIT ?2)",
	/*
	 * Files the orphan sweep keeps: those media rows name, and inbox
	 * uploads (issue 14) for a day; an upload not sent by then goes
	 * (a send names it in its media row).
	 */
	[STMT_MEDIA_PATHS] =
	"SELECT path FROM media WHERE path IS NOT NULL UNION SELECT path FROM "
	    "uploads WHERE created_at > CAST(strftime('%s', 'now') AS INTEGER) "
	    "- 86400 ORDER BY path",
	[STMT_SEARCH_UPTO] =
	"SELECT s.indexed_to, (SELECT max(id) FROM (SELECT id FROM messages "
	    "WHERE id > s.indexed_to ORDER BY id LIMIT ?1)) FROM search_state s "
	    "WHERE s.id = 1",
	[STMT_SEARCH_INDEX] =
	"INSERT INTO messages_fts (rowid, text) SELECT id, text FROM messages "
	    "WHERE id > ?1 AND id <= ?2 AND text IS NOT NULL",
	[STMT_SEARCH_DONE] =
	"UPDATE search_state SET indexed_to = ?1 WHERE id = 1",

	/* db_numbers.c: the business numbers this install serves */
	/* Add, or check again: a removed number comes back active. */
	[STMT_NUMBER_UPSERT] =
	"INSERT INTO numbers (phone_number_id, waba_id, display_phone_number, "
	    "verified_name, label, token_env, flow_path, send_rate, "
	    "quality_rating, messaging_limit_tier, throughput, status, "
	    "checked_at, created_at) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) "
	    "ON CONFLICT (phone_number_id) DO UPDATE SET "
	    "waba_id = coalesce(excluded.waba_id, waba_id), "
	    "display_phone_number = excluded.display_phone_number, "
	    "verified_name = excluded.verified_name, label = excluded.label, "
	    "token_env = excluded.token_env, flow_path = excluded.flow_path, "
	    "send_rate = excluded.send_rate, "
	    "quality_rating = excluded.quality_rating, "
	    "messaging_limit_tier = excluded.messaging_limit_tier, "
	    "throughput = excluded.throughput, status = excluded.status, "
	    "checked_at = excluded.checked_at, removed_at = NULL",
	/* By id first, then by label (a label may be all digits). */
	[STMT_NUMBER_GET] =
	"SELECT phone_number_id, waba_id, display_phone_number, "
	    "verified_name, label, token_env, flow_path, send_rate, "
	    "quality_rating, messaging_limit_tier, throughput, status, "
	    "checked_at, created_at, removed_at FROM numbers "
	    "WHERE phone_number_id = ?1 OR label = ?1 "
	    "ORDER BY phone_number_id = ?1 DESC LIMIT 1",
	[STMT_NUMBER_LIST] =
	"SELECT phone_number_id, label, display_phone_number, verified_name, "
	    "quality_rating, status, token_env, removed_at FROM numbers "
	    "ORDER BY removed_at IS NOT NULL, created_at, phone_number_id",
	/* NULL leaves a column as it is. */
	[STMT_NUMBER_EDIT] =
	"UPDATE numbers SET label = coalesce(?2, label), "
	    "token_env = coalesce(?3, token_env), "
	    "flow_path = coalesce(?4, flow_path), "
	    "send_rate = coalesce(?5, send_rate) WHERE phone_number_id = ?1",
	[STMT_NUMBER_REMOVE] =
	"UPDATE numbers SET removed_at = ?2 WHERE phone_number_id = ?1 AND "
	    "removed_at IS NULL",
	/* WHATSAPP_PHONE_NUMBER_ID as the first entry, once. */
	[STMT_NUMBER_SEED] =
	"INSERT INTO numbers (phone_number_id, label, created_at) "
	    "VALUES (?1, 'default', ?2) "
	    "ON CONFLICT (phone_number_id) DO NOTHING",
};
