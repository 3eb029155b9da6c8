/*
 * db_sql.c: the SQL statements of db.c, the journal, the apply, the
 * outbox and the bot, in a table indexed by enum stmt (db_int.h), both
 * grouped by the db_*.c file that runs them; those of the management
 * API, retention and the numbers are in db_sql_api.c's table.
 * Each entry names its slot ([STMT_X] = "..."), so a swapped entry cannot
 * compile into the wrong query; a forgotten one is NULL, which db_open()
 * refuses before it prepares them all, so that a schema mismatch or a
 * missing statement fails at start-up.
 */
#include <sqlite3.h>

#include "db.h"
#include "db_int.h"

/* Name v (bound) seen at ?6 beats column c and its c_at clock. */
#define NAME_NEWER(v, c) \
	"(" v " IS NOT NULL AND (" c " IS NULL OR " c "_at IS NULL OR " \
	"?6 > " c "_at OR (?6 = " c "_at AND " v " > " c ")))"

/* f (min or max) of two nullable columns c, of the row of t and of a. */
#define MERGE_TIME(f, t, c) \
	f "(coalesce(a." c ", " t "." c "), coalesce(" t "." c ", a." c "))"
/* Row a's name c beats the row's (same rule as NAME_NEWER). */
#define NAME_MERGE(c) \
	"(a." c " IS NOT NULL AND (contacts." c " IS NULL OR " \
	"contacts." c "_at IS NULL OR a." c "_at > contacts." c "_at OR " \
	"(a." c "_at = contacts." c "_at AND a." c " > contacts." c ")))"

/* An address-book entry (?2 time, ?3 name or NULL) newer than the kept one. */
#define SYNC_NEWER \
	"(saved_name_at IS NULL OR ?2 > saved_name_at OR (?2 = saved_name_at " \
	"AND saved_name IS NOT NULL AND (?3 IS NULL OR ?3 > saved_name)))"

const char *const dbi_sql_main[STMT__MAX] = {
	/* db.c: transactions and savepoints, health */
	[STMT_BEGIN] = "BEGIN IMMEDIATE",
	[STMT_BEGIN_READ] = "BEGIN",
	[STMT_COMMIT] = "COMMIT",
	[STMT_ROLLBACK] = "ROLLBACK",
	[STMT_SAVEPOINT] = "SAVEPOINT item",
	[STMT_RELEASE] = "RELEASE item",
	[STMT_ROLLBACK_TO] = "ROLLBACK TO item",
	[STMT_HEARTBEAT_GET] =
	"SELECT pid, heartbeat_at FROM worker_status WHERE id = 1",
	[STMT_HEARTBEAT_SET] =
	"INSERT INTO worker_status (id, pid, started_at, heartbeat_at) "
	    "VALUES (1, ?1, ?2, ?3) ON CONFLICT (id) DO UPDATE SET "
	    "pid = ?1, started_at = ?2, heartbeat_at = ?3",
	[STMT_OUTBOX_DEPTH] =
	"SELECT count(*), coalesce(min(created_at), 0) FROM outbox "
	    "WHERE state IN ('queued', 'sending')",
	/* db_journal.c: the webhook journal */
	[STMT_EVENT_INSERT] =
	"INSERT INTO webhook_events (received_at, body, body_size, "
	    "body_sha256) VALUES (?,?,?,?)",
	[STMT_BACKLOG] =
	"SELECT count(*) FROM webhook_events WHERE state = 'pending'",
	/* db_doctor.c: the journal's pending entries and the oldest's time */
	[STMT_DOCTOR_JOURNAL] =
	"SELECT count(*), coalesce(min(received_at), 0) FROM webhook_events "
	    "WHERE state = 'pending'",
	/*
	 * Sends failed for good among those queued since ?1 (ms): the most
	 * common Meta code (0: none, our own refusal) with its count, and
	 * the total over every code.
	 */
	[STMT_DOCTOR_FAILED] =
	"SELECT coalesce(error_code, 0), count(*), sum(count(*)) OVER () "
	    "FROM outbox WHERE state = 'failed' AND created_at >= ?1 "
	    "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1",
	[STMT_EVENT_NEXT] =
	"SELECT id, body FROM webhook_events WHERE state = 'pending' AND "
	    "id > ? ORDER BY id LIMIT 1",
	[STMT_EVENT_FINISH] =
	"UPDATE webhook_events SET state = ?, applied_at = ?, "
	    "items_total = ?, items_applied = ?, items_duplicate = ?, "
	    "items_failed = ?, error = ? WHERE id = ?",
	[STMT_API_EVENT_REPLAY] =
	"UPDATE webhook_events SET state = 'pending', applied_at = NULL, "
	    "error = NULL WHERE id = ?1 AND state != 'pending' AND "
	    "body IS NOT NULL",
	/* db_apply.c: applying webhook items */
	[STMT_CONTACT_BY_WA] =
	"SELECT id FROM contacts WHERE phone_number_id = ? AND wa_id = ?",
	[STMT_CONTACT_BY_UID] =
	"SELECT id FROM contacts WHERE phone_number_id = ? AND user_id = ?",
	[STMT_CONTACT_INSERT] =
	"INSERT INTO contacts (phone_number_id, wa_id, user_id, username, "
	    "profile_name, first_seen_at, last_seen_at, username_at, "
	    "profile_name_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, "
	    "CASE WHEN ?4 IS NOT NULL THEN ?6 END, "
	    "CASE WHEN ?5 IS NOT NULL THEN ?6 END)",
	/*
	 * Ids are only ever filled in.  A name is filled from any message
	 * while unknown; once known, the newest message that carried one
	 * wins, the greater name on the same second: (time, name) only
	 * grows, so every arrival order ends with the same name.
	 */
	[STMT_CONTACT_SEEN] =
	"UPDATE contacts SET wa_id = coalesce(wa_id, ?2), "
	    "user_id = coalesce(user_id, ?3), "
	    "username = CASE WHEN " NAME_NEWER("?4", "username") " THEN ?4 "
	    "ELSE username END, "
	    "username_at = CASE WHEN " NAME_NEWER("?4", "username") " THEN ?6 "
	    "ELSE username_at END, "
	    "profile_name = CASE WHEN " NAME_NEWER("?5", "profile_name")
	    " THEN ?5 ELSE profile_name END, "
	    "profile_name_at = CASE WHEN " NAME_NEWER("?5", "profile_name")
	    " THEN ?6 ELSE profile_name_at END, "
	    "first_seen_at = min(first_seen_at, ?6), "
	    "last_seen_at = max(last_seen_at, ?6) WHERE id = ?1",
	[STMT_CONTACT_RENUMBER] =
	"UPDATE contacts SET wa_id = ?2 WHERE id = ?1 AND NOT EXISTS "
	    "(SELECT 1 FROM contacts c WHERE c.phone_number_id = "
	    "contacts.phone_number_id AND c.wa_id = ?2)",
	[STMT_CONTACT_RE_UID] =
	"UPDATE contacts SET user_id = ?2 WHERE id = ?1 AND NOT EXISTS "
	    "(SELECT 1 FROM contacts c WHERE c.phone_number_id = "
	    "contacts.phone_number_id AND c.user_id = ?2)",
	[STMT_CONV_FIND] =
	"SELECT id FROM conversations WHERE phone_number_id = ? AND "
	    "contact_id = ?",
	[STMT_CONV_INSERT] =
	"INSERT INTO conversations (phone_number_id, contact_id, created_at) "
	    "VALUES (?, ?, ?)",
	[STMT_CONV_INBOUND] =
	"UPDATE conversations SET message_count = message_count + 1, "
	    "unread_count = unread_count + 1, "
	    "first_message_at = min(coalesce(first_message_at, ?2), ?2), "
	    "last_message_at = max(coalesce(last_message_at, ?2), ?2), "
	    "last_inbound_at = max(coalesce(last_inbound_at, ?2), ?2), "
	    "window_expires_at = max(coalesce(window_expires_at, 0), ?3) "
	    "WHERE id = ?1",
	[STMT_MSG_EXISTS] = "SELECT 1 FROM messages WHERE wamid = ?",
	[STMT_MSG_IN_INSERT] =
	"INSERT INTO messages (phone_number_id, wamid, direction, "
	    "conversation_id, contact_id, sender, type, text, media_id, "
	    "mime_type, sha256, filename, latitude, longitude, location_name, "
	    "location_address, interactive_type, reply_id, reply_title, "
	    "reaction_to, reaction_emoji, context_wamid, context_from, "
	    "forwarded, referral_source_id, referral_ctwa_clid, error_code, "
	    "error_title, timestamp, raw, webhook_event_id, created_at, "
	    "recipient, status, status_at, source) "
	    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,"
	    "?,?,?,?,?,?,?,?,?)",
	[STMT_STATUS_INSERT] =
	"INSERT INTO message_statuses (phone_number_id, wamid, status, "
	    "timestamp, recipient_id, recipient_user_id, "
	    "biz_opaque_callback_data, conversation_meta_id, "
	    "conversation_origin, conversation_expires_at, pricing_model, "
	    "pricing_category, pricing_type, billable, error_code, "
	    "error_title, error_details, raw, webhook_event_id, created_at) "
	    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) "
	    "ON CONFLICT (wamid, status) DO NOTHING",
	[STMT_STATUS_LIST] =
	"SELECT status, timestamp, error_code, error_title "
	    "FROM message_statuses WHERE wamid = ? ORDER BY id",
	[STMT_MSG_STATUS_SET] =
	"UPDATE messages SET status = ?2, status_at = ?3, "
	    "error_code = coalesce(?4, error_code), "
	    "error_title = coalesce(?5, error_title) "
	    "WHERE wamid = ?1 AND direction = 'out' AND "
	    "(status IS NOT ?2 OR status_at IS NOT ?3 OR "
	    "coalesce(?4, error_code) IS NOT error_code)",
	[STMT_ERROR_INSERT] =
	"INSERT INTO webhook_errors (phone_number_id, code, title, message, "
	    "details, raw, item_sha256, webhook_event_id, created_at) "
	    "VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT (item_sha256) DO NOTHING",
	[STMT_OTHER_INSERT] =
	"INSERT INTO subscription_events (waba_id, phone_number_id, field, "
	    "event, raw, item_sha256, webhook_event_id, created_at) "
	    "VALUES (?,?,?,?,?,?,?,?) ON CONFLICT (item_sha256) DO NOTHING",
	/* Outbox ids can be reused once the newest rows are erased. */
	[STMT_OUTBOX_OWNS] =
	"SELECT 1 FROM outbox WHERE id = ?1 AND phone_number_id = ?2 AND "
	    "(recipient = ?3 OR recipient = ?4)",
	/* The business's address book (smb_app_state_sync, ref 14.2). */
	[STMT_SYNC_INSERT] =
	"INSERT INTO contacts (phone_number_id, wa_id, first_seen_at, "
	    "last_seen_at) VALUES (?1, ?2, ?3, ?3)",
	/*
	 * The newest entry wins, whatever the arrival order; on the same
	 * second a removal beats an addition, and of two names the greater.
	 * No change (a redelivery) updates no row.
	 */
	[STMT_SYNC_SET] =
	"UPDATE contacts SET first_seen_at = min(first_seen_at, ?2), "
	    "last_seen_at = max(last_seen_at, ?2), "
	    "saved_name = CASE WHEN " SYNC_NEWER " THEN ?3 ELSE saved_name END, "
	    "saved_name_at = CASE WHEN " SYNC_NEWER " THEN ?2 ELSE "
	    "saved_name_at END WHERE id = ?1 AND (" SYNC_NEWER " OR "
	    "first_seen_at > ?2 OR last_seen_at < ?2)",
	/* A preference the contact's state already reflects: a redelivery. */
	[STMT_PREF_KNOWN] =
	"SELECT 1 FROM contacts WHERE phone_number_id = ?1 AND wa_id = ?4 "
	    "AND coalesce(opted_out_at, 0) >= ?3 AND (opted_out_at > ?3 OR "
	    "opted_out = ?2) AND (?2 = 0 OR coalesce(last_stop_at, 0) >= ?3)",
	[STMT_EDIT_INSERT] =
	"INSERT INTO message_edits (phone_number_id, wamid, original_wamid, "
	    "kind, type, text, timestamp, raw, webhook_event_id, created_at) "
	    "VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT (wamid) DO NOTHING",
	[STMT_EDIT_LIST] =
	"SELECT kind, text, timestamp FROM message_edits WHERE "
	    "original_wamid = ? ORDER BY timestamp, wamid",
	[STMT_EDIT_PENDING] =
	"SELECT 1 FROM message_edits WHERE original_wamid = ? LIMIT 1",
	/* Folds every edit and deletion in: the same in any order. */
	[STMT_MSG_EDITED] =
	"UPDATE messages SET original_text = CASE WHEN edited_at IS NULL AND "
	    "revoked_at IS NULL THEN text ELSE original_text END, "
	    "text = CASE WHEN ?4 IS NOT NULL THEN NULL ELSE ?2 END, "
	    "edited_at = ?3, revoked_at = ?4 WHERE wamid = ?1 AND "
	    "(?3 IS NOT NULL OR ?4 IS NOT NULL)",
	/* A message of the past (history): counted, never unread. */
	[STMT_CONV_PAST] =
	"UPDATE conversations SET message_count = message_count + 1, "
	    "first_message_at = min(coalesce(first_message_at, ?2), ?2), "
	    "last_message_at = max(coalesce(last_message_at, ?2), ?2), "
	    "last_inbound_at = CASE WHEN ?3 THEN max(coalesce(last_inbound_at, "
	    "?2), ?2) ELSE last_inbound_at END WHERE id = ?1",
	[STMT_RENAME_INSERT] =
	"INSERT INTO contact_renames (phone_number_id, old_id, new_id, "
	    "timestamp) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (phone_number_id, "
	    "old_id) DO UPDATE SET new_id = CASE WHEN ?4 > timestamp OR "
	    "(?4 = timestamp AND ?3 > new_id) THEN ?3 ELSE new_id END, "
	    "timestamp = max(timestamp, ?4)",
	[STMT_RENAME_GET] =
	"SELECT new_id FROM contact_renames WHERE phone_number_id = ? AND "
	    "old_id = ?",
	/* Merging contact ?2 into ?3 after a number change (5.11). */
	[STMT_MERGE_CONVS] =
	"SELECT a.id, b.id FROM conversations a LEFT JOIN conversations b ON "
	    "b.phone_number_id = a.phone_number_id AND b.contact_id = ?3 "
	    "WHERE a.phone_number_id = ?1 AND a.contact_id = ?2",
	[STMT_MERGE_CONV_MSGS] =
	"UPDATE messages SET conversation_id = ?2 WHERE conversation_id = ?1",
	[STMT_MERGE_CONV_SUM] =
	"UPDATE conversations SET "
	    "message_count = conversations.message_count + a.message_count, "
	    "unread_count = conversations.unread_count + a.unread_count, "
	    "first_message_at = " MERGE_TIME("min", "conversations", "first_message_at") ", "
	    "last_message_at = " MERGE_TIME("max", "conversations", "last_message_at") ", "
	    "last_inbound_at = " MERGE_TIME("max", "conversations", "last_inbound_at") ", "
	    "window_expires_at = " MERGE_TIME("max", "conversations", "window_expires_at") " "
	    "FROM (SELECT * FROM conversations WHERE id = ?1) AS a "
	    "WHERE conversations.id = ?2",
	[STMT_MERGE_CONV_DELETE] = "DELETE FROM conversations WHERE id = ?1",
	[STMT_MERGE_CONV_MOVE] =
	"UPDATE conversations SET contact_id = ?2 WHERE id = ?1",
	[STMT_MERGE_MSGS] =
	"UPDATE messages SET contact_id = ?2 WHERE contact_id = ?1",
	[STMT_MERGE_UID_GET] =
	"SELECT user_id, wa_id FROM contacts WHERE id = ?",
	[STMT_MERGE_UID_SET] =
	"UPDATE contacts SET user_id = coalesce(user_id, ?2), "
	    "wa_id = coalesce(wa_id, ?3) WHERE id = ?1",
	[STMT_MERGE_CONTACT] =
	"UPDATE contacts SET "
	    "first_seen_at = min(contacts.first_seen_at, a.first_seen_at), "
	    "last_seen_at = max(contacts.last_seen_at, a.last_seen_at), "
	    "profile_name = CASE WHEN " NAME_MERGE("profile_name") " THEN "
	    "a.profile_name ELSE contacts.profile_name END, "
	    "profile_name_at = CASE WHEN " NAME_MERGE("profile_name") " THEN "
	    "a.profile_name_at ELSE contacts.profile_name_at END, "
	    "username = CASE WHEN " NAME_MERGE("username") " THEN "
	    "a.username ELSE contacts.username END, "
	    "username_at = CASE WHEN " NAME_MERGE("username") " THEN "
	    "a.username_at ELSE contacts.username_at END, "
	    "opted_out = CASE WHEN coalesce(a.opted_out_at, 0) > "
	    "coalesce(contacts.opted_out_at, 0) THEN a.opted_out ELSE "
	    "contacts.opted_out END, "
	    "opted_out_at = " MERGE_TIME("max", "contacts", "opted_out_at") ", "
	    "last_stop_at = " MERGE_TIME("max", "contacts", "last_stop_at") " "
	    "FROM (SELECT * FROM contacts WHERE id = ?1) AS a "
	    "WHERE contacts.id = ?2",
	[STMT_MERGE_TICKETS] =
	"UPDATE tickets SET contact_id = ?2 WHERE contact_id = ?1",
	[STMT_MERGE_AGENT] =
	"UPDATE agent_requests SET contact_id = ?2 WHERE contact_id = ?1",
	[STMT_MERGE_DELETE] = "DELETE FROM contacts WHERE id = ?1",
	/* db_outbox.c: peers, the outbox, pause state, media */
	/* The contact a send goes to, with its window and opt-out state. */
	[STMT_PEER_GET] =
	"SELECT c.id, c.opted_out, coalesce(c.opted_out_at, 0), "
	    "coalesce(v.window_expires_at, 0), coalesce(v.last_inbound_at, 0), "
	    "coalesce(c.last_stop_at, 0) "
	    "FROM contacts c LEFT JOIN conversations v ON v.contact_id = c.id "
	    "AND v.phone_number_id = c.phone_number_id "
	    "WHERE c.phone_number_id = ?1 AND (c.wa_id = ?2 OR c.user_id = ?2) "
	    "LIMIT 1",
	/* Reference 9.3: unique contacts reached outside their window. */
	[STMT_TIER_COUNT] =
	"SELECT count(DISTINCT recipient), coalesce(max(recipient = ?3), 0) "
	    "FROM outbox WHERE phone_number_id = ?1 AND business_initiated = 1 "
	    "AND state IN ('queued', 'sending', 'accepted') AND created_at > ?2",
	[STMT_OUTBOX_BY_KEY] =
	"SELECT id, state FROM outbox WHERE phone_number_id = ? AND "
	    "idempotency_key = ?",
	[STMT_OUTBOX_INSERT] =
	"INSERT INTO outbox (phone_number_id, recipient, kind, body, text, "
	    "reply_to, media_file, media_mime, free_form, business_initiated, "
	    "source, next_attempt_at, idempotency_key, created_at, optout_ack, "
	    "user_id) "
	    "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?12,?14,?15)",
	/* Due rows, only the oldest open one per recipient: order kept. */
	/*
	 * INDEXED BY: the planner otherwise reads every queued row by
	 * outbox_state and sorts them, each pass, however few are due.
	 */
	[STMT_OUTBOX_DUE] =
	"SELECT id, phone_number_id, recipient, kind, body, media_file, "
	    "media_mime, free_form, attempts, optout_ack FROM outbox o "
	    "INDEXED BY outbox_due WHERE state = 'queued' AND next_attempt_at <= ?1 AND NOT EXISTS "
	    "(SELECT 1 FROM outbox p WHERE p.phone_number_id = "
	    "o.phone_number_id AND p.recipient = o.recipient AND "
	    "p.state IN ('queued', 'sending') AND p.id < o.id) "
	    "ORDER BY next_attempt_at, id LIMIT ?2",
	[STMT_OUTBOX_NEXT_DUE] =
	"SELECT min(next_attempt_at) FROM outbox WHERE state = 'queued' AND "
	    "next_attempt_at > ?1",
	[STMT_OUTBOX_CLAIM] =
	"UPDATE outbox SET state = 'sending', attempts = attempts + 1, "
	    "lease_until = ?2 WHERE id = ?1 AND state = 'queued'",
	[STMT_OUTBOX_RETRY] =
	"UPDATE outbox SET state = 'queued', next_attempt_at = ?2, "
	    "lease_until = NULL, error_code = ?3, error_title = ?4, "
	    "error_details = ?5 WHERE id = ?1 AND state = 'sending'",
	/*
	 * The row, and its recipient's later rows (they go after it), so
	 * that rows waiting behind a deferred one are not looked at again
	 * by every STMT_OUTBOX_DUE.
	 */
	[STMT_OUTBOX_DEFER] =
	"UPDATE outbox SET next_attempt_at = CASE WHEN id = ?1 THEN ?2 "
	    "ELSE max(next_attempt_at, ?2) END WHERE id IN (SELECT ?1 "
	    "UNION ALL SELECT n.id FROM outbox o, outbox n WHERE o.id = ?1 "
	    "AND n.phone_number_id = o.phone_number_id AND "
	    "n.recipient = o.recipient AND n.state IN ('queued', 'sending') "
	    "AND n.id > ?1) AND state = 'queued'",
	[STMT_OUTBOX_RESENT] =
	"UPDATE outbox SET attempts = attempts + ?2 WHERE id = ?1 AND "
	    "state = 'sending'",
	[STMT_OUTBOX_FAIL] =
	"UPDATE outbox SET state = 'failed', lease_until = NULL, "
	    "error_code = ?2, error_title = ?3, error_details = ?4 "
	    "WHERE id = ?1 AND state IN ('queued', 'sending')",
	[STMT_OUTBOX_GET] =
	"SELECT phone_number_id, recipient, kind, text, reply_to, body, "
	    "wamid, media_mime, user_id FROM outbox WHERE id = ?",
	[STMT_OUTBOX_ACCEPT] =
	"UPDATE outbox SET state = 'accepted', wamid = ?2, sent_at = ?3, "
	    "lease_until = NULL, error_code = NULL, error_title = NULL, "
	    "error_details = NULL WHERE id = ?1 AND wamid IS NULL",
	[STMT_OUTBOX_LINK] = "UPDATE outbox SET message_id = ?2 WHERE id = ?1",
	[STMT_OUTBOX_RECOVER] =
	"UPDATE outbox SET state = 'queued', next_attempt_at = ?1, "
	    "lease_until = NULL WHERE state = 'sending'",
	[STMT_OUTBOX_SET_BODY] =
	"UPDATE outbox SET body = ?2, media_file = NULL WHERE id = ?1",
	[STMT_CONTACT_OUT_INSERT] =
	"INSERT INTO contacts (phone_number_id, wa_id, user_id, "
	    "first_seen_at, last_seen_at) VALUES (?1, ?2, ?3, ?4, ?4)",
	/*
	 * A media send keeps the media id Meta has (an upload's, once the
	 * worker made it) and its file's type and name, so that the file
	 * the gateway uploaded is found again (GET /messages/{id}/media);
	 * user_id: the person who sent it (issue 14).
	 */
	[STMT_MSG_OUT_INSERT] =
	"INSERT INTO messages (phone_number_id, wamid, direction, "
	    "conversation_id, contact_id, recipient, type, text, "
	    "context_wamid, timestamp, status, status_at, raw, created_at, "
	    "media_id, mime_type, filename, user_id, reaction_to, "
	    "reaction_emoji) "
	    "VALUES (?1,?2,'out',?3,?4,?5,?6,?7,?8,?9,'accepted',?9,?10,?9, "
	    "CASE WHEN ?6 IN ('image', 'video', 'audio', 'document', "
	    "'sticker') THEN json_extract(?10, '$.' || ?6 || '.id') END, "
	    "CASE WHEN ?6 IN ('image', 'video', 'audio', 'document', "
	    "'sticker') THEN ?11 END, CASE WHEN ?6 = 'document' THEN "
	    "json_extract(?10, '$.document.filename') END, ?12, "
	    /* our reaction sits on the message it reacts to (the inbox) */
	    "CASE WHEN ?6 = 'reaction' THEN "
	    "json_extract(?10, '$.reaction.message_id') END, "
	    "CASE WHEN ?6 = 'reaction' THEN "
	    "json_extract(?10, '$.reaction.emoji') END) "
	    "ON CONFLICT (wamid) DO NOTHING",
	[STMT_CONV_OUTBOUND] =
	"UPDATE conversations SET message_count = message_count + 1, "
	    "first_message_at = min(coalesce(first_message_at, ?2), ?2), "
	    "last_message_at = max(coalesce(last_message_at, ?2), ?2) "
	    "WHERE id = ?1",
	/* The newest signal wins, whatever order they come in. */
	[STMT_OPT_SET] =
	"UPDATE contacts SET opted_out = CASE WHEN coalesce(opted_out_at, 0) "
	    "<= ?3 THEN ?2 ELSE opted_out END, "
	    "opted_out_at = max(coalesce(opted_out_at, 0), ?3), "
	    "last_stop_at = CASE WHEN ?2 = 1 THEN max(coalesce(last_stop_at, "
	    "0), ?3) ELSE last_stop_at END WHERE id = ?1",
	[STMT_SENDER_GET] =
	"SELECT paused_reason, paused_code, coalesce(resume_at, 0), "
	    "token_sha256 FROM sender_status WHERE phone_number_id = ? AND "
	    "paused_reason IS NOT NULL",
	[STMT_SENDER_PAUSE] =
	"INSERT INTO sender_status (phone_number_id, paused_reason, "
	    "paused_code, paused_at, resume_at, token_sha256, updated_at) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?4) ON CONFLICT (phone_number_id) "
	    "DO UPDATE SET paused_reason = ?2, paused_code = ?3, "
	    "paused_at = ?4, resume_at = ?5, token_sha256 = ?6, "
	    "updated_at = ?4",
	[STMT_SENDER_RESUME] =
	"UPDATE sender_status SET paused_reason = NULL, paused_code = NULL, "
	    "resume_at = NULL, token_sha256 = NULL, updated_at = ?2 "
	    "WHERE phone_number_id = ?1",
	[STMT_SENDER_LIST] =
	"SELECT phone_number_id, paused_reason, paused_code, paused_at, "
	    "resume_at FROM sender_status WHERE paused_reason IS NOT NULL "
	    "ORDER BY phone_number_id",
	[STMT_MEDIA_INSERT] =
	"INSERT INTO media (phone_number_id, media_id, direction, message_id, "
	    "mime_type, sha256, size, path, state, created_at, stored_at) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) "
	    "ON CONFLICT (phone_number_id, media_id, direction) DO NOTHING",
	[STMT_MEDIA_DUE] =
	"SELECT m.id, m.phone_number_id, m.media_id, coalesce(g.sha256, ''), "
	    "m.attempts FROM media m LEFT JOIN messages g ON g.id = "
	    "m.message_id WHERE m.state = 'pending' AND m.direction = 'in' "
	    "AND m.next_attempt_at <= ?1 ORDER BY m.next_attempt_at, m.id "
	    "LIMIT ?2",
	[STMT_MEDIA_NEXT_DUE] =
	"SELECT min(next_attempt_at) FROM media WHERE state = 'pending' AND "
	    "direction = 'in' AND next_attempt_at > ?1",
	[STMT_MEDIA_CLAIM] =
	"UPDATE media SET attempts = attempts + 1, next_attempt_at = ?2 "
	    "WHERE id = ?1",
	[STMT_MEDIA_STORED] =
	"UPDATE media SET state = 'stored', mime_type = coalesce(?2, "
	    "mime_type), sha256 = ?3, size = ?4, path = ?5, error = NULL, "
	    "stored_at = ?6 WHERE id = ?1",
	[STMT_MEDIA_RETRY] =
	"UPDATE media SET state = ?2, next_attempt_at = ?3, error = ?4 "
	    "WHERE id = ?1",
	[STMT_AGENT_RECOVER] =
	"UPDATE agent_requests SET state = 'queued' WHERE state = 'sending'",
	[STMT_OUTBOX_LINK_WAMID] =
	"UPDATE outbox SET message_id = (SELECT id FROM messages WHERE "
	    "wamid = ?2) WHERE id = ?1",
	/* Through messages_conversation and media's UNIQUE index. */
	[STMT_MEDIA_CONTACT_RECENT] =
	"SELECT count(*) FROM messages g JOIN media m ON m.phone_number_id = "
	    "g.phone_number_id AND m.media_id = g.media_id AND m.direction = "
	    "'in' WHERE g.conversation_id = (SELECT g2.conversation_id FROM "
	    "media m2 JOIN messages g2 ON g2.id = m2.message_id WHERE m2.id = "
	    "?1) AND g.timestamp >= ?2 AND g.direction = 'in' AND "
	    "(m.state = 'stored' OR (m.state = 'pending' AND m.id < ?1))",
	/* db_bot.c: bot state, business data, agents, imports */
	[STMT_BOT_GET] =
	"SELECT node, vars, last_active, hinted FROM bot_state "
	    "WHERE phone_number_id = ? AND contact_id = ?",
	[STMT_BOT_SET] =
	"INSERT INTO bot_state (phone_number_id, contact_id, node, vars, "
	    "last_active, hinted) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
	    "ON CONFLICT (phone_number_id, contact_id) DO UPDATE SET "
	    "node = ?3, vars = ?4, last_active = ?5, hinted = ?6",
	/* A customer sees only their own orders. */
	[STMT_ORDER_GET] =
	"SELECT id, number, status, coalesce(expected_delivery, '') "
	    "FROM orders WHERE phone_number_id = ? AND customer_wa_id = ? AND "
	    "number = ? COLLATE NOCASE",
	[STMT_ORDER_LINES] =
	"SELECT item, coalesce(quantity, '') FROM order_lines "
	    "WHERE order_id = ? ORDER BY line_no",
	[STMT_ORDERS_RECENT] =
	"SELECT number, status, coalesce(expected_delivery, '') FROM orders "
	    "WHERE phone_number_id = ? AND customer_wa_id = ? "
	    "ORDER BY coalesce(ordered_on, '') DESC, id DESC LIMIT ?",
	[STMT_SCHEDULE_RANGE] =
	"SELECT s.order_number, s.step, s.starts_on, "
	    "coalesce(s.ends_on, s.starts_on) FROM production_schedule s "
	    "JOIN orders o ON o.phone_number_id = s.phone_number_id AND "
	    "o.number = s.order_number WHERE s.phone_number_id = ?1 AND "
	    "o.customer_wa_id = ?2 AND s.starts_on <= ?4 AND "
	    "coalesce(s.ends_on, s.starts_on) >= ?3 "
	    "ORDER BY s.starts_on, s.order_number LIMIT 40",
	[STMT_SCHEDULE_ORDER] =
	"SELECT s.order_number, s.step, s.starts_on, "
	    "coalesce(s.ends_on, s.starts_on) FROM production_schedule s "
	    "JOIN orders o ON o.phone_number_id = s.phone_number_id AND "
	    "o.number = s.order_number WHERE s.phone_number_id = ?1 AND "
	    "o.customer_wa_id = ?2 AND s.order_number = ?3 COLLATE NOCASE "
	    "ORDER BY s.starts_on LIMIT 40",
	[STMT_TICKET_GET] =
	"SELECT number, state, coalesce(category, '') FROM tickets "
	    "WHERE phone_number_id = ? AND customer_wa_id = ? AND "
	    "number = ? COLLATE NOCASE",
	[STMT_TICKET_INSERT] =
	"INSERT INTO tickets (phone_number_id, number, contact_id, "
	    "customer_wa_id, category, description, created_at, updated_at) "
	    "VALUES (?1, '', ?2, ?3, ?4, ?5, ?6, ?6)",
	[STMT_TICKET_NUMBER] = "UPDATE tickets SET number = ?2 WHERE id = ?1",
	[STMT_TICKET_MEDIA] =
	"INSERT OR IGNORE INTO ticket_media (ticket_id, media_id) VALUES (?, ?)",
	[STMT_CHOICE_COUNT] =
	"INSERT INTO bot_choices (phone_number_id, day, node, option, count) "
	    "VALUES (?, ?, ?, ?, 1) ON CONFLICT (phone_number_id, day, node, "
	    "option) DO UPDATE SET count = count + 1",
	[STMT_CONV_ASSIGNEE] =
	"SELECT assignee, coalesce(assigned_until, 0) FROM conversations "
	    "WHERE phone_number_id = ? AND contact_id = ?",
	[STMT_CONV_ASSIGN] =
	"UPDATE conversations SET assignee = ?3, assigned_until = ?4 "
	    "WHERE phone_number_id = ?1 AND contact_id = ?2",
	[STMT_AGENT_INSERT] =
	"INSERT INTO agent_requests (phone_number_id, contact_id, recipient, "
	    "url, body, next_attempt_at, created_at) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
	[STMT_AGENT_DUE] =
	"SELECT id, phone_number_id, recipient, url, body, attempts "
	    "FROM agent_requests WHERE state = 'queued' AND "
	    "next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?",
	[STMT_AGENT_CLAIM] =
	"UPDATE agent_requests SET state = 'sending', attempts = attempts + 1 "
	    "WHERE id = ? AND state = 'queued'",
	[STMT_AGENT_FINISH] =
	"UPDATE agent_requests SET state = ?2, next_attempt_at = ?3, "
	    "error = ?4 WHERE id = ?1",
	[STMT_ORDER_UPSERT] =
	"INSERT INTO orders (phone_number_id, number, customer_wa_id, status, "
	    "ordered_on, expected_delivery, updated_at) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
	    "ON CONFLICT (phone_number_id, number) DO UPDATE SET "
	    "customer_wa_id = ?3, status = ?4, ordered_on = ?5, "
	    "expected_delivery = ?6, updated_at = ?7 RETURNING id",
	[STMT_ORDER_LINE_UPSERT] =
	"INSERT INTO order_lines (order_id, line_no, item, quantity) "
	    "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (order_id, line_no) DO UPDATE "
	    "SET item = ?3, quantity = ?4",
	[STMT_SCHEDULE_UPSERT] =
	"INSERT INTO production_schedule (phone_number_id, order_number, "
	    "step, starts_on, ends_on) VALUES (?1, ?2, ?3, ?4, ?5) "
	    "ON CONFLICT (phone_number_id, order_number, step, starts_on) "
	    "DO UPDATE SET ends_on = ?5",
	[STMT_ORDER_LINES_CLEAR] = "DELETE FROM order_lines WHERE order_id = ?",
	[STMT_CONV_HISTORY] =
	"SELECT direction, type, coalesce(text, ''), timestamp FROM messages "
	    "WHERE phone_number_id = ? AND contact_id = ? "
	    "ORDER BY timestamp DESC, id DESC LIMIT ?",
	[STMT_AGENT_NEXT_DUE] =
	"SELECT min(next_attempt_at) FROM agent_requests WHERE "
	    "state = 'queued' AND next_attempt_at > ?1",
};

/* Every statement table (db_int.h), each over the one enum. */
static const char *const *const tables[] = {
	dbi_sql_main,
	dbi_sql_api,
	dbi_sql_account,
	dbi_sql_users,
	dbi_sql_inbox,
	dbi_sql_media,
	dbi_sql_hooks,
	dbi_sql_deliver,
	dbi_sql_alerts,
	dbi_sql_campaigns,
	dbi_sql_campsend,
};

#define NTABLES	(sizeof(tables) / sizeof(tables[0]))

/* How many tables fill slot k: db_open() wants exactly one. */
int
dbi_sql_count(enum stmt k)
{
	size_t	i;
	int	n = 0;

	for (i = 0; i < NTABLES; i++)
		n += tables[i][k] != NULL;
	return n;
}

/*
 * The SQL of statement k, from whichever table holds it; NULL when none
 * does (db_open() refuses that, and a slot two tables fill).
 */
const char *
dbi_sql(enum stmt k)
{
	size_t i;

	for (i = 0; i < NTABLES; i++)
		if (tables[i][k] != NULL)
			return tables[i][k];
	return NULL;
}
