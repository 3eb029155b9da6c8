/*
 * db.c: the only file that includes sqlite3.h.  Opens the database with the
 * pragmas every connection needs, applies the numbered migrations of
 * schema.sql, and holds every SQL statement of the program in one table,
 * prepared at startup so that a schema mismatch fails at boot.  Every write
 * transaction starts with BEGIN IMMEDIATE, so SQLITE_BUSY is only ever met
 * at BEGIN, where the busy timeout waits it out safely.
 */
#include <ctype.h>
#include <errno.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <bsd/string.h>
#include <sqlite3.h>

#include "buf.h"
#include "cfg.h"
#include "clock.h"
#include "db.h"
#include "log.h"
#include "sig.h"

extern const char schema_sql[];	/* schema.sql, embedded by the Makefile */

#define CKPT_PASSIVE	1000	/* WAL frames: copy them back (wal_hook) */
#define CKPT_RESTART	4096	/* ...and start the WAL over (~16 MB) */
#define RESTART_WAIT_MS	20	/* how long a restart may hold writers */

enum stmt {
	STMT_BEGIN,
	STMT_BEGIN_READ,
	STMT_COMMIT,
	STMT_ROLLBACK,
	STMT_SAVEPOINT,
	STMT_RELEASE,
	STMT_ROLLBACK_TO,
	STMT_EVENT_INSERT,
	STMT_BACKLOG,
	STMT_HEARTBEAT_GET,
	STMT_HEARTBEAT_SET,
	STMT_EVENT_NEXT,
	STMT_EVENT_FINISH,
	STMT_CONTACT_BY_WA,
	STMT_CONTACT_BY_UID,
	STMT_CONTACT_INSERT,
	STMT_CONTACT_SEEN,
	STMT_CONTACT_RENUMBER,
	STMT_CONTACT_RE_UID,
	STMT_CONV_FIND,
	STMT_CONV_INSERT,
	STMT_CONV_INBOUND,
	STMT_MSG_EXISTS,
	STMT_MSG_IN_INSERT,
	STMT_STATUS_INSERT,
	STMT_STATUS_LIST,
	STMT_MSG_STATUS_SET,
	STMT_ERROR_INSERT,
	STMT_OTHER_INSERT,
	STMT_PEER_GET,
	STMT_TIER_COUNT,
	STMT_OUTBOX_BY_KEY,
	STMT_OUTBOX_INSERT,
	STMT_OUTBOX_DUE,
	STMT_OUTBOX_NEXT_DUE,
	STMT_OUTBOX_CLAIM,
	STMT_OUTBOX_RETRY,
	STMT_OUTBOX_DEFER,
	STMT_OUTBOX_RESENT,
	STMT_OUTBOX_OWNS,
	STMT_SYNC_INSERT,
	STMT_SYNC_SET,
	STMT_OUTBOX_FAIL,
	STMT_OUTBOX_GET,
	STMT_OUTBOX_ACCEPT,
	STMT_OUTBOX_LINK,
	STMT_OUTBOX_RECOVER,
	STMT_OUTBOX_SET_BODY,
	STMT_OUTBOX_DEPTH,
	STMT_CONTACT_OUT_INSERT,
	STMT_MSG_OUT_INSERT,
	STMT_CONV_OUTBOUND,
	STMT_OPT_SET,
	STMT_SENDER_GET,
	STMT_SENDER_PAUSE,
	STMT_SENDER_RESUME,
	STMT_SENDER_LIST,
	STMT_MEDIA_INSERT,
	STMT_MEDIA_DUE,
	STMT_MEDIA_NEXT_DUE,
	STMT_MEDIA_CLAIM,
	STMT_MEDIA_STORED,
	STMT_MEDIA_RETRY,
	STMT_BOT_GET,
	STMT_BOT_SET,
	STMT_ORDER_GET,
	STMT_ORDER_LINES,
	STMT_ORDERS_RECENT,
	STMT_SCHEDULE_RANGE,
	STMT_SCHEDULE_ORDER,
	STMT_TICKET_GET,
	STMT_TICKET_INSERT,
	STMT_TICKET_NUMBER,
	STMT_TICKET_MEDIA,
	STMT_CHOICE_COUNT,
	STMT_CONV_ASSIGNEE,
	STMT_CONV_ASSIGN,
	STMT_AGENT_INSERT,
	STMT_AGENT_DUE,
	STMT_AGENT_CLAIM,
	STMT_AGENT_FINISH,
	STMT_ORDER_UPSERT,
	STMT_ORDER_LINE_UPSERT,
	STMT_SCHEDULE_UPSERT,
	STMT_ORDER_LINES_CLEAR,
	STMT_CONV_HISTORY,
	STMT_AGENT_RECOVER,
	STMT_APIKEY_INSERT,
	STMT_APIKEY_BY_HASH,
	STMT_APIKEY_TOUCH,
	STMT_APIKEY_LIST,
	STMT_APIKEY_REVOKE,
	STMT_API_MESSAGES,
	STMT_API_CONVERSATIONS,
	STMT_API_CONVERSATION,
	STMT_API_OUTBOX,
	STMT_API_MESSAGES_Q,
	STMT_API_MESSAGES_CONV,
	STMT_API_MESSAGES_TIME,
	STMT_API_MESSAGES_WINDOW,
	STMT_API_OUTBOX_LIST,
	STMT_API_OUTBOX_RETRY,
	STMT_API_OUTBOX_CANCEL,
	STMT_API_EVENTS,
	STMT_API_EVENT,
	STMT_API_EVENT_REPLAY,
	STMT_API_STATUS,
	STMT_API_CONV_PATCH,
	STMT_API_CONV_READ,
	STMT_API_LAST_INBOUND,
	STMT_API_CONV_BY_PHONE,
	STMT_API_CONTACTS,
	STMT_API_CONTACT,
	STMT_EXPORT_CONVERSATIONS,
	STMT_EXPORT_MESSAGES,
	STMT_EXPORT_STATUSES,
	STMT_EXPORT_MEDIA,
	STMT_EXPORT_TICKETS,
	STMT_EXPORT_OUTBOX,
	STMT_EXPORT_CONTACT,
	STMT_EXPORT_AGENT,
	STMT_EXPORT_BOT,
	STMT_EXPORT_ORDERS,
	STMT_EXPORT_ORDER_LINES,
	STMT_EXPORT_EVENTS,
	STMT_EXPORT_WEBHOOK_ERRORS,
	STMT_EXPORT_SUBSCRIPTIONS,
	STMT_ERASE_WHO,
	STMT_ERASE_LAST_EVENT,
	STMT_ERASE_FIND_BODIES,
	STMT_ERASE_BODY,
	STMT_ERASE_PATHS,
	STMT_ERASE_BODIES,
	STMT_ERASE_STATUSES,
	STMT_ERASE_OUTBOX,
	STMT_ERASE_TICKETS,
	STMT_ERASE_AGENT,
	STMT_ERASE_BOT,
	STMT_ERASE_ERRORS,
	STMT_ERASE_SUBSCRIPTIONS,
	STMT_ERASE_ORDERS,
	STMT_ERASE_MESSAGES,
	STMT_ERASE_CONTACT,
	STMT_PATH_USED,
	STMT_STATS_VOLUME,
	STMT_STATS_CONTACTS,
	STMT_STATS_REPLY,
	STMT_STATS_FAILURES,
	STMT_STATS_CHOICES,
	STMT_METRICS_EVENTS,
	STMT_METRICS_OUTBOX,
	STMT_METRICS_SENDS,
	STMT_PURGE_BODIES_COUNT,
	STMT_PURGE_BODIES,
	STMT_PURGE_MESSAGES_COUNT,
	STMT_PURGE_MESSAGES_PATHS,
	STMT_PURGE_MESSAGES,
	STMT_PURGE_MEDIA_COUNT,
	STMT_PURGE_MEDIA_PATHS,
	STMT_PURGE_MEDIA,
	STMT_PURGE_STATUSES_COUNT,
	STMT_PURGE_STATUSES,
	STMT_PURGE_OUTBOX_COUNT,
	STMT_PURGE_OUTBOX,
	STMT_PURGE_AGENT_COUNT,
	STMT_PURGE_AGENT,
	STMT_PURGE_ERRORS_COUNT,
	STMT_PURGE_ERRORS,
	STMT_PURGE_SUBSCRIPTIONS_COUNT,
	STMT_PURGE_SUBSCRIPTIONS,
	STMT_PURGE_OLD_BODIES_COUNT,
	STMT_PURGE_OLD_BODIES,
	STMT_MEDIA_PATHS,
	STMT_SEARCH_UPTO,
	STMT_SEARCH_INDEX,
	STMT_SEARCH_DONE,
	STMT_AGENT_NEXT_DUE,
	STMT_PREF_KNOWN,
	STMT_EDIT_INSERT,
	STMT_EDIT_LIST,
	STMT_EDIT_PENDING,
	STMT_MSG_EDITED,
	STMT_CONV_PAST,
	STMT_OUTBOX_LINK_WAMID,
	STMT_RENAME_INSERT,
	STMT_RENAME_GET,
	STMT_MERGE_CONVS,
	STMT_MERGE_CONV_MSGS,
	STMT_MERGE_CONV_SUM,
	STMT_MERGE_CONV_DELETE,
	STMT_MERGE_CONV_MOVE,
	STMT_MERGE_MSGS,
	STMT_MERGE_UID_GET,
	STMT_MERGE_UID_SET,
	STMT_MERGE_CONTACT,
	STMT_MERGE_TICKETS,
	STMT_MERGE_AGENT,
	STMT_MERGE_DELETE,
	STMT_MEDIA_CONTACT_RECENT,
	STMT__MAX
};

/* GET /messages: the columns, and the filters every variant applies. */
#define API_MSG_COLS \
	"SELECT m.id, m.wamid, m.direction, m.conversation_id, " \
	"coalesce(m.sender, m.recipient) AS phone, m.type, m.text, " \
	"m.media_id, m.mime_type, m.filename, m.reply_id, m.reply_title, " \
	"m.context_wamid, m.status, m.status_at, m.error_code, " \
	"m.error_title, m.timestamp, m.source, m.original_text, " \
	"m.edited_at, m.revoked_at "
#define API_MSG_FILTERS \
	"AND (?3 IS NULL OR coalesce(m.sender, m.recipient) = ?3) " \
	"AND (?4 IS NULL OR m.conversation_id = ?4) " \
	"AND (?5 IS NULL OR m.type = ?5) AND (?6 IS NULL OR m.direction = ?6) " \
	"AND (?7 IS NULL OR m.status = ?7) " \
	"AND (?8 IS NULL OR m.timestamp >= ?8) " \
	"AND (?9 IS NULL OR m.timestamp < ?9) "

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

static const char *const stmts[STMT__MAX] = {
	"BEGIN IMMEDIATE", /* STMT_BEGIN */
	"BEGIN", /* STMT_BEGIN_READ */
	"COMMIT", /* STMT_COMMIT */
	"ROLLBACK", /* STMT_ROLLBACK */
	"SAVEPOINT item", /* STMT_SAVEPOINT */
	"RELEASE item", /* STMT_RELEASE */
	"ROLLBACK TO item", /* STMT_ROLLBACK_TO */
	"INSERT INTO webhook_events (received_at, body, body_size, "
	    "body_sha256) VALUES (?,?,?,?)", /* STMT_EVENT_INSERT */
	"SELECT count(*) FROM webhook_events WHERE state = 'pending'",
	    /* STMT_BACKLOG */
	"SELECT pid, heartbeat_at FROM worker_status WHERE id = 1",
	    /* STMT_HEARTBEAT_GET */
	"INSERT INTO worker_status (id, pid, started_at, heartbeat_at) "
	    "VALUES (1, ?1, ?2, ?3) ON CONFLICT (id) DO UPDATE SET "
	    "pid = ?1, started_at = ?2, heartbeat_at = ?3",
	    /* STMT_HEARTBEAT_SET */
	"SELECT id, body FROM webhook_events WHERE state = 'pending' AND "
	    "id > ? ORDER BY id LIMIT 1", /* STMT_EVENT_NEXT */
	"UPDATE webhook_events SET state = ?, applied_at = ?, "
	    "items_total = ?, items_applied = ?, items_duplicate = ?, "
	    "items_failed = ?, error = ? WHERE id = ?", /* STMT_EVENT_FINISH */
	"SELECT id FROM contacts WHERE phone_number_id = ? AND wa_id = ?",
	    /* STMT_CONTACT_BY_WA */
	"SELECT id FROM contacts WHERE phone_number_id = ? AND user_id = ?",
	    /* STMT_CONTACT_BY_UID */
	"INSERT INTO contacts (phone_number_id, wa_id, user_id, username, "
	    "profile_name, first_seen_at, last_seen_at, username_at, "
	    "profile_name_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, "
	    "CASE WHEN ?4 IS NOT NULL THEN ?6 END, "
	    "CASE WHEN ?5 IS NOT NULL THEN ?6 END)", /* STMT_CONTACT_INSERT */
	/*
	 * Ids are only ever filled in.  A name is filled from any message
	 * while unknown; once known, the newest message that carried one
	 * wins, the greater name on the same second: (time, name) only
	 * grows, so every arrival order ends with the same name.
	 */
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
	    /* STMT_CONTACT_SEEN */
	"UPDATE contacts SET wa_id = ?2 WHERE id = ?1 AND NOT EXISTS "
	    "(SELECT 1 FROM contacts c WHERE c.phone_number_id = "
	    "contacts.phone_number_id AND c.wa_id = ?2)",
	    /* STMT_CONTACT_RENUMBER */
	"UPDATE contacts SET user_id = ?2 WHERE id = ?1 AND NOT EXISTS "
	    "(SELECT 1 FROM contacts c WHERE c.phone_number_id = "
	    "contacts.phone_number_id AND c.user_id = ?2)",
	    /* STMT_CONTACT_RE_UID */
	"SELECT id FROM conversations WHERE phone_number_id = ? AND "
	    "contact_id = ?", /* STMT_CONV_FIND */
	"INSERT INTO conversations (phone_number_id, contact_id, created_at) "
	    "VALUES (?, ?, ?)", /* STMT_CONV_INSERT */
	"UPDATE conversations SET message_count = message_count + 1, "
	    "unread_count = unread_count + 1, "
	    "first_message_at = min(coalesce(first_message_at, ?2), ?2), "
	    "last_message_at = max(coalesce(last_message_at, ?2), ?2), "
	    "last_inbound_at = max(coalesce(last_inbound_at, ?2), ?2), "
	    "window_expires_at = max(coalesce(window_expires_at, 0), ?3) "
	    "WHERE id = ?1", /* STMT_CONV_INBOUND */
	"SELECT 1 FROM messages WHERE wamid = ?", /* STMT_MSG_EXISTS */
	"INSERT INTO messages (phone_number_id, wamid, direction, "
	    "conversation_id, contact_id, sender, type, text, media_id, "
	    "mime_type, sha256, filename, latitude, longitude, location_name, "
	    "location_address, interactive_type, reply_id, reply_title, "
	    "reaction_to, reaction_emoji, context_wamid, context_from, "
	    "forwarded, referral_source_id, referral_ctwa_clid, error_code, "
	    "error_title, timestamp, raw, webhook_event_id, created_at, "
	    "recipient, status, status_at, source) "
	    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,"
	    "?,?,?,?,?,?,?,?,?)", /* STMT_MSG_IN_INSERT */
	"INSERT INTO message_statuses (phone_number_id, wamid, status, "
	    "timestamp, recipient_id, recipient_user_id, "
	    "biz_opaque_callback_data, conversation_meta_id, "
	    "conversation_origin, conversation_expires_at, pricing_model, "
	    "pricing_category, pricing_type, billable, error_code, "
	    "error_title, error_details, raw, webhook_event_id, created_at) "
	    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) "
	    "ON CONFLICT (wamid, status) DO NOTHING", /* STMT_STATUS_INSERT */
	"SELECT status, timestamp, error_code, error_title "
	    "FROM message_statuses WHERE wamid = ? ORDER BY id",
	    /* STMT_STATUS_LIST */
	"UPDATE messages SET status = ?2, status_at = ?3, "
	    "error_code = coalesce(?4, error_code), "
	    "error_title = coalesce(?5, error_title) "
	    "WHERE wamid = ?1 AND direction = 'out' AND "
	    "(status IS NOT ?2 OR status_at IS NOT ?3 OR "
	    "coalesce(?4, error_code) IS NOT error_code)",
	    /* STMT_MSG_STATUS_SET */
	"INSERT INTO webhook_errors (phone_number_id, code, title, message, "
	    "details, raw, item_sha256, webhook_event_id, created_at) "
	    "VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT (item_sha256) DO NOTHING",
	    /* STMT_ERROR_INSERT */
	"INSERT INTO subscription_events (waba_id, phone_number_id, field, "
	    "event, raw, item_sha256, webhook_event_id, created_at) "
	    "VALUES (?,?,?,?,?,?,?,?) ON CONFLICT (item_sha256) DO NOTHING",
	    /* STMT_OTHER_INSERT */
	/* The contact a send goes to, with its window and opt-out state. */
	"SELECT c.id, c.opted_out, coalesce(c.opted_out_at, 0), "
	    "coalesce(v.window_expires_at, 0), coalesce(v.last_inbound_at, 0), "
	    "coalesce(c.last_stop_at, 0) "
	    "FROM contacts c LEFT JOIN conversations v ON v.contact_id = c.id "
	    "AND v.phone_number_id = c.phone_number_id "
	    "WHERE c.phone_number_id = ?1 AND (c.wa_id = ?2 OR c.user_id = ?2) "
	    "LIMIT 1", /* STMT_PEER_GET */
	/* Reference 9.3: unique contacts reached outside their window. */
	"SELECT count(DISTINCT recipient), coalesce(max(recipient = ?3), 0) "
	    "FROM outbox WHERE phone_number_id = ?1 AND business_initiated = 1 "
	    "AND state IN ('queued', 'sending', 'accepted') AND created_at > ?2",
	    /* STMT_TIER_COUNT */
	"SELECT id, state FROM outbox WHERE phone_number_id = ? AND "
	    "idempotency_key = ?", /* STMT_OUTBOX_BY_KEY */
	"INSERT INTO outbox (phone_number_id, recipient, kind, body, text, "
	    "reply_to, media_file, media_mime, free_form, business_initiated, "
	    "source, next_attempt_at, idempotency_key, created_at, optout_ack) "
	    "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?12,?14)",
	    /* STMT_OUTBOX_INSERT */
	/* Due rows, only the oldest open one per recipient: order kept. */
	"SELECT id, phone_number_id, recipient, kind, body, media_file, "
	    "media_mime, free_form, attempts, optout_ack FROM outbox o "
	    "WHERE state = 'queued' AND next_attempt_at <= ?1 AND NOT EXISTS "
	    "(SELECT 1 FROM outbox p WHERE p.phone_number_id = "
	    "o.phone_number_id AND p.recipient = o.recipient AND "
	    "p.state IN ('queued', 'sending') AND p.id < o.id) "
	    "ORDER BY next_attempt_at, id LIMIT ?2", /* STMT_OUTBOX_DUE */
	"SELECT min(next_attempt_at) FROM outbox WHERE state = 'queued' AND "
	    "next_attempt_at > ?1", /* STMT_OUTBOX_NEXT_DUE */
	"UPDATE outbox SET state = 'sending', attempts = attempts + 1, "
	    "lease_until = ?2 WHERE id = ?1 AND state = 'queued'",
	    /* STMT_OUTBOX_CLAIM */
	"UPDATE outbox SET state = 'queued', next_attempt_at = ?2, "
	    "lease_until = NULL, error_code = ?3, error_title = ?4, "
	    "error_details = ?5 WHERE id = ?1 AND state = 'sending'",
	    /* STMT_OUTBOX_RETRY */
	"UPDATE outbox SET next_attempt_at = ?2 WHERE id = ?1 AND "
	    "state = 'queued'", /* STMT_OUTBOX_DEFER */
	"UPDATE outbox SET attempts = attempts + ?2 WHERE id = ?1 AND "
	    "state = 'sending'", /* STMT_OUTBOX_RESENT */
	/* Outbox ids can be reused once the newest rows are erased. */
	"SELECT 1 FROM outbox WHERE id = ?1 AND phone_number_id = ?2 AND "
	    "(recipient = ?3 OR recipient = ?4)", /* STMT_OUTBOX_OWNS */
	/* The business's address book (smb_app_state_sync, ref 14.2). */
	"INSERT INTO contacts (phone_number_id, wa_id, first_seen_at, "
	    "last_seen_at) VALUES (?1, ?2, ?3, ?3)", /* STMT_SYNC_INSERT */
	/*
	 * The newest entry wins, whatever the arrival order; on the same
	 * second a removal beats an addition, and of two names the greater.
	 * No change (a redelivery) updates no row.
	 */
	"UPDATE contacts SET first_seen_at = min(first_seen_at, ?2), "
	    "last_seen_at = max(last_seen_at, ?2), "
	    "saved_name = CASE WHEN " SYNC_NEWER " THEN ?3 ELSE saved_name END, "
	    "saved_name_at = CASE WHEN " SYNC_NEWER " THEN ?2 ELSE "
	    "saved_name_at END WHERE id = ?1 AND (" SYNC_NEWER " OR "
	    "first_seen_at > ?2 OR last_seen_at < ?2)", /* STMT_SYNC_SET */
	"UPDATE outbox SET state = 'failed', lease_until = NULL, "
	    "error_code = ?2, error_title = ?3, error_details = ?4 "
	    "WHERE id = ?1 AND state IN ('queued', 'sending')",
	    /* STMT_OUTBOX_FAIL */
	"SELECT phone_number_id, recipient, kind, text, reply_to, body, "
	    "wamid FROM outbox WHERE id = ?", /* STMT_OUTBOX_GET */
	"UPDATE outbox SET state = 'accepted', wamid = ?2, sent_at = ?3, "
	    "lease_until = NULL, error_code = NULL, error_title = NULL, "
	    "error_details = NULL WHERE id = ?1 AND wamid IS NULL",
	    /* STMT_OUTBOX_ACCEPT */
	"UPDATE outbox SET message_id = ?2 WHERE id = ?1",
	    /* STMT_OUTBOX_LINK */
	"UPDATE outbox SET state = 'queued', next_attempt_at = ?1, "
	    "lease_until = NULL WHERE state = 'sending'",
	    /* STMT_OUTBOX_RECOVER */
	"UPDATE outbox SET body = ?2, media_file = NULL WHERE id = ?1",
	    /* STMT_OUTBOX_SET_BODY */
	"SELECT count(*), coalesce(min(created_at), 0) FROM outbox "
	    "WHERE state IN ('queued', 'sending')", /* STMT_OUTBOX_DEPTH */
	"INSERT INTO contacts (phone_number_id, wa_id, user_id, "
	    "first_seen_at, last_seen_at) VALUES (?1, ?2, ?3, ?4, ?4)",
	    /* STMT_CONTACT_OUT_INSERT */
	"INSERT INTO messages (phone_number_id, wamid, direction, "
	    "conversation_id, contact_id, recipient, type, text, "
	    "context_wamid, timestamp, status, status_at, raw, created_at) "
	    "VALUES (?1,?2,'out',?3,?4,?5,?6,?7,?8,?9,'accepted',?9,?10,?9) "
	    "ON CONFLICT (wamid) DO NOTHING", /* STMT_MSG_OUT_INSERT */
	"UPDATE conversations SET message_count = message_count + 1, "
	    "first_message_at = min(coalesce(first_message_at, ?2), ?2), "
	    "last_message_at = max(coalesce(last_message_at, ?2), ?2) "
	    "WHERE id = ?1", /* STMT_CONV_OUTBOUND */
	/* The newest signal wins, whatever order they come in. */
	"UPDATE contacts SET opted_out = CASE WHEN coalesce(opted_out_at, 0) "
	    "<= ?3 THEN ?2 ELSE opted_out END, "
	    "opted_out_at = max(coalesce(opted_out_at, 0), ?3), "
	    "last_stop_at = CASE WHEN ?2 = 1 THEN max(coalesce(last_stop_at, "
	    "0), ?3) ELSE last_stop_at END WHERE id = ?1", /* STMT_OPT_SET */
	"SELECT paused_reason, paused_code, coalesce(resume_at, 0), "
	    "token_sha256 FROM sender_status WHERE phone_number_id = ? AND "
	    "paused_reason IS NOT NULL", /* STMT_SENDER_GET */
	"INSERT INTO sender_status (phone_number_id, paused_reason, "
	    "paused_code, paused_at, resume_at, token_sha256, updated_at) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?4) ON CONFLICT (phone_number_id) "
	    "DO UPDATE SET paused_reason = ?2, paused_code = ?3, "
	    "paused_at = ?4, resume_at = ?5, token_sha256 = ?6, "
	    "updated_at = ?4", /* STMT_SENDER_PAUSE */
	"UPDATE sender_status SET paused_reason = NULL, paused_code = NULL, "
	    "resume_at = NULL, token_sha256 = NULL, updated_at = ?2 "
	    "WHERE phone_number_id = ?1", /* STMT_SENDER_RESUME */
	"SELECT phone_number_id, paused_reason, paused_code, paused_at, "
	    "resume_at FROM sender_status WHERE paused_reason IS NOT NULL "
	    "ORDER BY phone_number_id", /* STMT_SENDER_LIST */
	"INSERT INTO media (phone_number_id, media_id, direction, message_id, "
	    "mime_type, sha256, size, path, state, created_at, stored_at) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) "
	    "ON CONFLICT (phone_number_id, media_id, direction) DO NOTHING",
	    /* STMT_MEDIA_INSERT */
	"SELECT m.id, m.phone_number_id, m.media_id, coalesce(g.sha256, ''), "
	    "m.attempts FROM media m LEFT JOIN messages g ON g.id = "
	    "m.message_id WHERE m.state = 'pending' AND m.direction = 'in' "
	    "AND m.next_attempt_at <= ?1 ORDER BY m.next_attempt_at, m.id "
	    "LIMIT ?2", /* STMT_MEDIA_DUE */
	"SELECT min(next_attempt_at) FROM media WHERE state = 'pending' AND "
	    "direction = 'in' AND next_attempt_at > ?1", /* STMT_MEDIA_NEXT_DUE */
	"UPDATE media SET attempts = attempts + 1, next_attempt_at = ?2 "
	    "WHERE id = ?1", /* STMT_MEDIA_CLAIM */
	"UPDATE media SET state = 'stored', mime_type = coalesce(?2, "
	    "mime_type), sha256 = ?3, size = ?4, path = ?5, error = NULL, "
	    "stored_at = ?6 WHERE id = ?1", /* STMT_MEDIA_STORED */
	"UPDATE media SET state = ?2, next_attempt_at = ?3, error = ?4 "
	    "WHERE id = ?1", /* STMT_MEDIA_RETRY */
	"SELECT node, vars, last_active, hinted FROM bot_state "
	    "WHERE phone_number_id = ? AND contact_id = ?", /* STMT_BOT_GET */
	"INSERT INTO bot_state (phone_number_id, contact_id, node, vars, "
	    "last_active, hinted) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
	    "ON CONFLICT (phone_number_id, contact_id) DO UPDATE SET "
	    "node = ?3, vars = ?4, last_active = ?5, hinted = ?6",
	    /* STMT_BOT_SET */
	/* A customer sees only their own orders. */
	"SELECT id, number, status, coalesce(expected_delivery, '') "
	    "FROM orders WHERE phone_number_id = ? AND customer_wa_id = ? AND "
	    "number = ? COLLATE NOCASE", /* STMT_ORDER_GET */
	"SELECT item, coalesce(quantity, '') FROM order_lines "
	    "WHERE order_id = ? ORDER BY line_no", /* STMT_ORDER_LINES */
	"SELECT number, status, coalesce(expected_delivery, '') FROM orders "
	    "WHERE phone_number_id = ? AND customer_wa_id = ? "
	    "ORDER BY coalesce(ordered_on, '') DESC, id DESC LIMIT ?",
	    /* STMT_ORDERS_RECENT */
	"SELECT s.order_number, s.step, s.starts_on, "
	    "coalesce(s.ends_on, s.starts_on) FROM production_schedule s "
	    "JOIN orders o ON o.phone_number_id = s.phone_number_id AND "
	    "o.number = s.order_number WHERE s.phone_number_id = ?1 AND "
	    "o.customer_wa_id = ?2 AND s.starts_on <= ?4 AND "
	    "coalesce(s.ends_on, s.starts_on) >= ?3 "
	    "ORDER BY s.starts_on, s.order_number LIMIT 40",
	    /* STMT_SCHEDULE_RANGE */
	"SELECT s.order_number, s.step, s.starts_on, "
	    "coalesce(s.ends_on, s.starts_on) FROM production_schedule s "
	    "JOIN orders o ON o.phone_number_id = s.phone_number_id AND "
	    "o.number = s.order_number WHERE s.phone_number_id = ?1 AND "
	    "o.customer_wa_id = ?2 AND s.order_number = ?3 COLLATE NOCASE "
	    "ORDER BY s.starts_on LIMIT 40", /* STMT_SCHEDULE_ORDER */
	"SELECT number, state, coalesce(category, '') FROM tickets "
	    "WHERE phone_number_id = ? AND customer_wa_id = ? AND "
	    "number = ? COLLATE NOCASE", /* STMT_TICKET_GET */
	"INSERT INTO tickets (phone_number_id, number, contact_id, "
	    "customer_wa_id, category, description, created_at, updated_at) "
	    "VALUES (?1, '', ?2, ?3, ?4, ?5, ?6, ?6)", /* STMT_TICKET_INSERT */
	"UPDATE tickets SET number = ?2 WHERE id = ?1",
	    /* STMT_TICKET_NUMBER */
	"INSERT OR IGNORE INTO ticket_media (ticket_id, media_id) VALUES (?, ?)",
	    /* STMT_TICKET_MEDIA */
	"INSERT INTO bot_choices (phone_number_id, day, node, option, count) "
	    "VALUES (?, ?, ?, ?, 1) ON CONFLICT (phone_number_id, day, node, "
	    "option) DO UPDATE SET count = count + 1", /* STMT_CHOICE_COUNT */
	"SELECT assignee, coalesce(assigned_until, 0) FROM conversations "
	    "WHERE phone_number_id = ? AND contact_id = ?",
	    /* STMT_CONV_ASSIGNEE */
	"UPDATE conversations SET assignee = ?3, assigned_until = ?4 "
	    "WHERE phone_number_id = ?1 AND contact_id = ?2",
	    /* STMT_CONV_ASSIGN */
	"INSERT INTO agent_requests (phone_number_id, contact_id, recipient, "
	    "url, body, next_attempt_at, created_at) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)", /* STMT_AGENT_INSERT */
	"SELECT id, phone_number_id, recipient, url, body, attempts "
	    "FROM agent_requests WHERE state = 'queued' AND "
	    "next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?",
	    /* STMT_AGENT_DUE */
	"UPDATE agent_requests SET state = 'sending', attempts = attempts + 1 "
	    "WHERE id = ? AND state = 'queued'", /* STMT_AGENT_CLAIM */
	"UPDATE agent_requests SET state = ?2, next_attempt_at = ?3, "
	    "error = ?4 WHERE id = ?1", /* STMT_AGENT_FINISH */
	"INSERT INTO orders (phone_number_id, number, customer_wa_id, status, "
	    "ordered_on, expected_delivery, updated_at) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
	    "ON CONFLICT (phone_number_id, number) DO UPDATE SET "
	    "customer_wa_id = ?3, status = ?4, ordered_on = ?5, "
	    "expected_delivery = ?6, updated_at = ?7 RETURNING id",
	    /* STMT_ORDER_UPSERT */
	"INSERT INTO order_lines (order_id, line_no, item, quantity) "
	    "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (order_id, line_no) DO UPDATE "
	    "SET item = ?3, quantity = ?4", /* STMT_ORDER_LINE_UPSERT */
	"INSERT INTO production_schedule (phone_number_id, order_number, "
	    "step, starts_on, ends_on) VALUES (?1, ?2, ?3, ?4, ?5) "
	    "ON CONFLICT (phone_number_id, order_number, step, starts_on) "
	    "DO UPDATE SET ends_on = ?5", /* STMT_SCHEDULE_UPSERT */
	"DELETE FROM order_lines WHERE order_id = ?",
	    /* STMT_ORDER_LINES_CLEAR */
	"SELECT direction, type, coalesce(text, ''), timestamp FROM messages "
	    "WHERE phone_number_id = ? AND contact_id = ? "
	    "ORDER BY timestamp DESC, id DESC LIMIT ?", /* STMT_CONV_HISTORY */
	"UPDATE agent_requests SET state = 'queued' WHERE state = 'sending'",
	    /* STMT_AGENT_RECOVER */
	"INSERT INTO api_keys (name, key_sha256, key_prefix, read_only, "
	    "created_at) VALUES (?, ?, ?, ?, ?)", /* STMT_APIKEY_INSERT */
	"SELECT id, key_sha256, read_only, coalesce(last_used_at, 0) "
	    "FROM api_keys WHERE key_sha256 = ? AND revoked_at IS NULL",
	    /* STMT_APIKEY_BY_HASH */
	"UPDATE api_keys SET last_used_at = ?2 WHERE id = ?1",
	    /* STMT_APIKEY_TOUCH */
	"SELECT name, key_prefix, read_only, created_at, last_used_at, "
	    "revoked_at FROM api_keys ORDER BY id", /* STMT_APIKEY_LIST */
	"UPDATE api_keys SET revoked_at = ?2 WHERE name = ?1 AND "
	    "revoked_at IS NULL", /* STMT_APIKEY_REVOKE */
	/*
	 * Newest first by id, which only grows: a cursor (the last id seen)
	 * pages stably while rows are added.  Four variants, each driven by
	 * an index (1M messages: a few ms): no filter walks the rowid
	 * backwards (+ keeps the planner off other indexes), a conversation
	 * its index, a time window messages_number_time, q the search
	 * index; the other filters then apply as they come.
	 */
	API_MSG_COLS "FROM messages m WHERE +m.phone_number_id = ?2 AND "
	    "m.id < coalesce(?1, 9223372036854775807) " API_MSG_FILTERS
	    "ORDER BY m.id DESC LIMIT ?10", /* STMT_API_MESSAGES */
	"SELECT v.id, c.wa_id AS phone, c.profile_name, c.opted_out, "
	    "v.message_count, v.unread_count, v.first_message_at, "
	    "v.last_message_at, v.window_expires_at, v.assignee, "
	    "v.assigned_until, v.notes, v.customer_email, v.labels "
	    "FROM conversations v JOIN contacts c ON "
	    "c.id = v.contact_id WHERE v.id < coalesce(?1, 9223372036854775807) "
	    "AND +v.phone_number_id = ?2 AND (?3 IS NULL OR (?3 = 1) = "
	    "(v.unread_count > 0)) AND (?4 IS NULL OR v.assignee = ?4) "
	    "AND (?6 IS NULL OR c.wa_id LIKE ?6 ESCAPE '\\' OR "
	    "c.profile_name LIKE ?6 ESCAPE '\\' OR v.notes LIKE ?6 ESCAPE "
	    "'\\') ORDER BY v.id DESC LIMIT ?5", /* STMT_API_CONVERSATIONS */
	"SELECT v.id, c.wa_id AS phone, c.profile_name, c.opted_out, "
	    "v.message_count, v.unread_count, v.first_message_at, "
	    "v.last_message_at, v.window_expires_at, v.assignee, "
	    "v.assigned_until, v.notes, v.customer_email, v.labels "
	    "FROM conversations v JOIN contacts c ON "
	    "c.id = v.contact_id WHERE v.id = ?1 AND v.phone_number_id = ?2",
	    /* STMT_API_CONVERSATION */
	"SELECT id, recipient, kind, state, attempts, next_attempt_at, "
	    "error_code, error_title, error_details, wamid, message_id, source, "
	    "created_at, sent_at FROM outbox WHERE id = ?1 AND "
	    "phone_number_id = ?2", /* STMT_API_OUTBOX */
	API_MSG_COLS "FROM messages_fts f JOIN messages m ON m.id = f.rowid "
	    "WHERE f.messages_fts MATCH ?11 AND "
	    "f.rowid < coalesce(?1, 9223372036854775807) AND "
	    "m.phone_number_id = ?2 " API_MSG_FILTERS
	    "ORDER BY f.rowid DESC LIMIT ?10", /* STMT_API_MESSAGES_Q */
	API_MSG_COLS "FROM messages m WHERE m.conversation_id = ?4 AND "
	    "+m.phone_number_id = ?2 AND "
	    "+m.id < coalesce(?1, 9223372036854775807) " API_MSG_FILTERS
	    "ORDER BY m.id DESC LIMIT ?10", /* STMT_API_MESSAGES_CONV */
	API_MSG_COLS "FROM messages m WHERE m.phone_number_id = ?2 AND "
	    "m.timestamp >= coalesce(?8, -9223372036854775807) AND "
	    "m.timestamp < coalesce(?9, 9223372036854775807) AND "
	    "+m.id < coalesce(?1, 9223372036854775807) " API_MSG_FILTERS
	    "ORDER BY m.id DESC LIMIT ?10", /* STMT_API_MESSAGES_TIME */
	/*
	 * A time window and nothing else: the page's ids come from the
	 * (number, time) index alone, sorted there, then 50 rows are read;
	 * a day of a busy number is thousands of ids, not rows.
	 */
	API_MSG_COLS "FROM messages m WHERE m.id IN (SELECT id FROM messages "
	    "WHERE phone_number_id = ?2 AND "
	    "timestamp >= coalesce(?8, -9223372036854775807) AND "
	    "timestamp < coalesce(?9, 9223372036854775807) AND "
	    "+id < coalesce(?1, 9223372036854775807) "
	    "ORDER BY id DESC LIMIT ?10) AND ?3 IS NULL AND ?4 IS NULL AND "
	    "?5 IS NULL AND ?6 IS NULL AND ?7 IS NULL ORDER BY m.id DESC",
	    /* STMT_API_MESSAGES_WINDOW */
	"SELECT id, recipient, kind, state, attempts, next_attempt_at, "
	    "error_code, error_title, error_details, wamid, message_id, source, "
	    "created_at, sent_at FROM outbox WHERE "
	    "id < coalesce(?1, 9223372036854775807) AND "
	    "+phone_number_id = ?2 AND (?3 IS NULL OR state = ?3) "
	    "ORDER BY id DESC LIMIT ?4", /* STMT_API_OUTBOX_LIST */
	"UPDATE outbox SET state = 'queued', next_attempt_at = ?3, "
	    "attempts = 0 WHERE id = ?1 AND phone_number_id = ?2 AND "
	    "state = 'failed'", /* STMT_API_OUTBOX_RETRY */
	"UPDATE outbox SET state = 'cancelled' WHERE id = ?1 AND "
	    "phone_number_id = ?2 AND state = 'queued'",
	    /* STMT_API_OUTBOX_CANCEL */
	"SELECT id, received_at, body_size, body_sha256, state, applied_at, "
	    "items_total, items_applied, items_duplicate, items_failed, error "
	    "FROM webhook_events WHERE id < coalesce(?1, 9223372036854775807) "
	    "AND (?2 IS NULL OR +state = ?2) ORDER BY id DESC LIMIT ?3",
	    /* STMT_API_EVENTS */
	"SELECT id, received_at, body_size, body_sha256, state, applied_at, "
	    "items_total, items_applied, items_duplicate, items_failed, error, "
	    "body FROM webhook_events WHERE id = ?1", /* STMT_API_EVENT */
	"UPDATE webhook_events SET state = 'pending', applied_at = NULL, "
	    "error = NULL WHERE id = ?1 AND state != 'pending' AND "
	    "body IS NOT NULL", /* STMT_API_EVENT_REPLAY */
	"SELECT (SELECT count(*) FROM webhook_events WHERE state = 'pending') "
	    "AS journal_backlog, (SELECT max(received_at) FROM webhook_events) "
	    "AS last_webhook_at_ms, (SELECT count(*) FROM outbox WHERE state = "
	    "'queued') AS outbox_queued, (SELECT count(*) FROM outbox WHERE "
	    "state = 'sending') AS outbox_sending, (SELECT count(*) FROM outbox "
	    "WHERE state = 'failed') AS outbox_failed, (SELECT count(*) FROM "
	    "media WHERE state = 'pending') AS media_pending, (SELECT count(*) "
	    "FROM agent_requests WHERE state IN ('queued', 'sending')) AS "
	    "agent_pending, (SELECT paused_reason FROM sender_status WHERE "
	    "phone_number_id = ?1) AS sending_paused",
	    /* STMT_API_STATUS */
	"UPDATE conversations SET "
	    "notes = CASE WHEN ?2 THEN ?3 ELSE notes END, "
	    "customer_email = CASE WHEN ?4 THEN ?5 ELSE customer_email END, "
	    "labels = CASE WHEN ?6 THEN ?7 ELSE labels END, "
	    "assignee = CASE WHEN ?8 THEN ?9 ELSE assignee END, "
	    "assigned_until = CASE WHEN ?8 THEN NULL ELSE assigned_until END "
	    "WHERE id = ?1 AND phone_number_id = ?10", /* STMT_API_CONV_PATCH */
	"UPDATE conversations SET unread_count = 0 WHERE id = ?1 AND "
	    "phone_number_id = ?2", /* STMT_API_CONV_READ */
	"SELECT m.wamid, c.wa_id FROM messages m JOIN conversations v ON "
	    "v.id = m.conversation_id JOIN contacts c ON c.id = v.contact_id "
	    "WHERE v.id = ?1 AND v.phone_number_id = ?2 AND m.direction = 'in' "
	    "ORDER BY m.timestamp DESC, m.id DESC LIMIT 1",
	    /* STMT_API_LAST_INBOUND */
	"SELECT v.id FROM conversations v JOIN contacts c ON c.id = "
	    "v.contact_id WHERE v.phone_number_id = ? AND c.wa_id = ?",
	    /* STMT_API_CONV_BY_PHONE */
	"SELECT c.id, c.wa_id AS phone, c.user_id, c.username, "
	    "c.profile_name, c.saved_name, c.first_seen_at, c.last_seen_at, "
	    "c.opted_out, "
	    "c.opted_out_at, v.id AS conversation_id FROM contacts c LEFT JOIN "
	    "conversations v ON v.contact_id = c.id WHERE "
	    "c.id < coalesce(?1, 9223372036854775807) AND "
	    "+c.phone_number_id = ?2 AND (?3 IS NULL OR "
	    "c.wa_id LIKE ?3 ESCAPE '\\' OR c.profile_name LIKE ?3 ESCAPE "
	    "'\\') AND (?4 IS NULL OR c.opted_out = ?4) ORDER BY c.id DESC "
	    "LIMIT ?5", /* STMT_API_CONTACTS */
	"SELECT c.id, c.wa_id AS phone, c.user_id, c.username, "
	    "c.profile_name, c.saved_name, c.first_seen_at, c.last_seen_at, "
	    "c.opted_out, "
	    "c.opted_out_at, v.id AS conversation_id FROM contacts c LEFT JOIN "
	    "conversations v ON v.contact_id = c.id WHERE c.phone_number_id = ?1 "
	    "AND c.wa_id = ?2", /* STMT_API_CONTACT */
	"SELECT * FROM conversations WHERE contact_id = ?1",
	    /* STMT_EXPORT_CONVERSATIONS */
	"SELECT * FROM messages WHERE contact_id = ?1 OR conversation_id IN "
	    "(SELECT id FROM conversations WHERE contact_id = ?1) ORDER BY id",
	    /* STMT_EXPORT_MESSAGES */
	"SELECT * FROM message_statuses WHERE wamid IN (SELECT wamid FROM "
	    "messages WHERE conversation_id IN (SELECT id FROM conversations "
	    "WHERE contact_id = ?1)) OR recipient_id = ?2 OR "
	    "recipient_user_id = (SELECT user_id FROM contacts WHERE id = ?1) "
	    "ORDER BY id", /* STMT_EXPORT_STATUSES */
	"SELECT * FROM media WHERE message_id IN (SELECT id FROM messages "
	    "WHERE conversation_id IN (SELECT id FROM conversations WHERE "
	    "contact_id = ?1)) ORDER BY id", /* STMT_EXPORT_MEDIA */
	"SELECT t.*, (SELECT group_concat(media_id) FROM ticket_media m "
	    "WHERE m.ticket_id = t.id) AS media_ids FROM tickets t "
	    "WHERE contact_id = ?1 ORDER BY id", /* STMT_EXPORT_TICKETS */
	"SELECT * FROM outbox WHERE phone_number_id = ?3 AND (recipient = ?2 "
	    "OR recipient = (SELECT user_id FROM contacts WHERE id = ?1)) "
	    "ORDER BY id", /* STMT_EXPORT_OUTBOX */
	"SELECT * FROM contacts WHERE id = ?1", /* STMT_EXPORT_CONTACT */
	"SELECT * FROM agent_requests WHERE contact_id = ?1 ORDER BY id",
	    /* STMT_EXPORT_AGENT */
	"SELECT * FROM bot_state WHERE contact_id = ?1", /* STMT_EXPORT_BOT */
	"SELECT * FROM orders WHERE phone_number_id = ?3 AND "
	    "customer_wa_id = ?2 ORDER BY id", /* STMT_EXPORT_ORDERS */
	"SELECT l.* FROM order_lines l JOIN orders o ON o.id = l.order_id "
	    "WHERE o.phone_number_id = ?3 AND o.customer_wa_id = ?2 "
	    "ORDER BY l.id", /* STMT_EXPORT_ORDER_LINES */
	/* Journal entries whose raw body names the contact (as a JSON
	 * string: "15550001111"), applied or not. */
	"SELECT * FROM webhook_events WHERE body IS NOT NULL AND "
	    "(instr(body, CAST('\"' || ?2 || '\"' AS BLOB)) > 0 OR "
	    "instr(body, CAST('\"' || (SELECT user_id FROM contacts WHERE "
	    "id = ?1) || '\"' AS BLOB)) > 0) ORDER BY id",
	    /* STMT_EXPORT_EVENTS */
	"SELECT * FROM webhook_errors WHERE instr(raw, '\"' || ?2 || '\"') > 0 "
	    "OR instr(raw, '\"' || (SELECT user_id FROM contacts WHERE id = ?1) "
	    "|| '\"') > 0 ORDER BY id", /* STMT_EXPORT_WEBHOOK_ERRORS */
	"SELECT * FROM subscription_events WHERE instr(raw, '\"' || ?2 || "
	    "'\"') > 0 OR instr(raw, '\"' || (SELECT user_id FROM contacts "
	    "WHERE id = ?1) || '\"') > 0 ORDER BY id",
	    /* STMT_EXPORT_SUBSCRIPTIONS */
	"SELECT id, user_id FROM contacts WHERE phone_number_id = ?1 AND "
	    "wa_id = ?2", /* STMT_ERASE_WHO */
	"SELECT coalesce(max(id), 0) FROM webhook_events",
	    /* STMT_ERASE_LAST_EVENT */
	"SELECT id FROM webhook_events WHERE id > ?1 AND id <= ?2 AND "
	    "body IS NOT NULL AND (instr(body, CAST('\"' || ?3 || '\"' AS "
	    "BLOB)) > 0 OR (?4 IS NOT NULL AND instr(body, CAST('\"' || ?4 || "
	    "'\"' AS BLOB)) > 0))", /* STMT_ERASE_FIND_BODIES */
	/* An entry not yet applied is settled as failed: the worker must
	 * not bring the erased contact back from it. */
	"UPDATE webhook_events SET body = NULL, error = CASE WHEN state = "
	    "'pending' THEN 'erased on request before it was applied' ELSE "
	    "error END, state = CASE WHEN state = 'pending' THEN 'failed' "
	    "ELSE state END WHERE id = ?1", /* STMT_ERASE_BODY */
	"SELECT DISTINCT path FROM media WHERE path IS NOT NULL AND "
	    "message_id IN (SELECT id FROM messages WHERE contact_id = ?1)",
	    /* STMT_ERASE_PATHS */
	"UPDATE webhook_events SET body = NULL WHERE id IN (SELECT "
	    "webhook_event_id FROM messages WHERE contact_id = ?1 UNION SELECT "
	    "webhook_event_id FROM message_statuses WHERE recipient_id = ?2)",
	    /* STMT_ERASE_BODIES */
	"DELETE FROM message_statuses WHERE wamid IN (SELECT wamid FROM "
	    "messages WHERE contact_id = ?1) OR recipient_id = ?2 OR "
	    "recipient_user_id = (SELECT user_id FROM contacts WHERE id = ?1)",
	    /* STMT_ERASE_STATUSES */
	"DELETE FROM outbox WHERE phone_number_id = ?3 AND (recipient = ?2 OR "
	    "recipient = (SELECT user_id FROM contacts WHERE id = ?1))",
	    /* STMT_ERASE_OUTBOX */
	"DELETE FROM tickets WHERE contact_id = ?1", /* STMT_ERASE_TICKETS */
	"DELETE FROM agent_requests WHERE contact_id = ?1",
	    /* STMT_ERASE_AGENT */
	"DELETE FROM bot_state WHERE contact_id = ?1", /* STMT_ERASE_BOT */
	"UPDATE webhook_errors SET raw = '{\"erased\":true}', title = NULL, "
	    "message = NULL, details = NULL WHERE instr(raw, '\"' || ?2 || "
	    "'\"') > 0 OR instr(raw, '\"' || (SELECT user_id FROM contacts "
	    "WHERE id = ?1) || '\"') > 0", /* STMT_ERASE_ERRORS */
	"UPDATE subscription_events SET raw = '{\"erased\":true}' WHERE "
	    "instr(raw, '\"' || ?2 || '\"') > 0 OR instr(raw, '\"' || (SELECT "
	    "user_id FROM contacts WHERE id = ?1) || '\"') > 0",
	    /* STMT_ERASE_SUBSCRIPTIONS */
	"DELETE FROM orders WHERE phone_number_id = ?3 AND customer_wa_id = ?2",
	    /* STMT_ERASE_ORDERS */
	"DELETE FROM messages WHERE phone_number_id = ?3 AND (sender = ?2 OR "
	    "recipient = ?2)", /* STMT_ERASE_MESSAGES */
	/* Conversations, messages (and their search index), media rows
	 * go with it (ON DELETE CASCADE). */
	"DELETE FROM contacts WHERE id = ?1", /* STMT_ERASE_CONTACT */
	"SELECT 1 FROM media WHERE path = ? LIMIT 1", /* STMT_PATH_USED */
	"SELECT date(timestamp, 'unixepoch') AS day, direction, type, "
	    "coalesce(status, '') AS status, count(*) AS messages FROM messages "
	    "WHERE phone_number_id = ?1 AND timestamp >= ?2 AND timestamp < ?3 "
	    "GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4", /* STMT_STATS_VOLUME */
	"SELECT (SELECT count(DISTINCT contact_id) FROM messages WHERE "
	    "phone_number_id = ?1 AND timestamp >= ?2 AND timestamp < ?3) AS "
	    "unique_contacts, (SELECT count(*) FROM contacts WHERE "
	    "phone_number_id = ?1 AND first_seen_at >= ?2 AND "
	    "first_seen_at < ?3) AS new_contacts", /* STMT_STATS_CONTACTS */
	/* For each customer message, seconds until the next reply. */
	"SELECT (SELECT min(o.timestamp) FROM messages o WHERE "
	    "o.conversation_id = i.conversation_id AND o.direction = 'out' AND "
	    "o.timestamp >= i.timestamp) - i.timestamp AS seconds "
	    "FROM messages i WHERE i.phone_number_id = ?1 AND "
	    "i.direction = 'in' AND i.timestamp >= ?2 AND i.timestamp < ?3",
	    /* STMT_STATS_REPLY */
	"SELECT coalesce(error_code, 0) AS code, coalesce(error_title, '') AS "
	    "title, count(*) AS failures FROM outbox WHERE phone_number_id = ?1 "
	    "AND state = 'failed' AND created_at >= ?2 * 1000 AND "
	    "created_at < ?3 * 1000 GROUP BY 1 ORDER BY 3 DESC",
	    /* STMT_STATS_FAILURES */
	"SELECT node, option, sum(count) AS chosen FROM bot_choices WHERE "
	    "phone_number_id = ?1 AND day >= date(?2, 'unixepoch') AND "
	    "day <= date(?3, 'unixepoch') GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2 "
	    "LIMIT 20", /* STMT_STATS_CHOICES */
	"SELECT state, count(*) FROM webhook_events GROUP BY 1",
	    /* STMT_METRICS_EVENTS */
	"SELECT state, count(*), coalesce(min(created_at), 0) FROM outbox "
	    "WHERE phone_number_id = ?1 GROUP BY 1", /* STMT_METRICS_OUTBOX */
	"SELECT state, coalesce(error_code, 0), count(*) FROM outbox "
	    "WHERE phone_number_id = ?1 AND state IN ('accepted', 'failed') "
	    "GROUP BY 1, 2", /* STMT_METRICS_SENDS */
	/* Retention (WA_RETAIN_*): bodies of settled entries only. */
	/* Pending, failed and partial entries keep theirs for replay. */
	"SELECT count(*) FROM webhook_events WHERE body IS NOT NULL AND "
	    "(state = 'applied' OR state = 'duplicate') AND received_at < ?1",
	    /* STMT_PURGE_BODIES_COUNT */
	"UPDATE webhook_events SET body = NULL WHERE id IN (SELECT id FROM "
	    "webhook_events WHERE body IS NOT NULL AND (state = 'applied' OR "
	    "state = 'duplicate') AND received_at < ?1 ORDER BY id LIMIT ?2)",
	    /* STMT_PURGE_BODIES */
	"SELECT count(*) FROM messages WHERE timestamp < ?1",
	    /* STMT_PURGE_MESSAGES_COUNT */
	"SELECT DISTINCT path FROM media WHERE path IS NOT NULL AND "
	    "message_id IN (SELECT id FROM messages WHERE timestamp < ?1 "
	    "ORDER BY id LIMIT ?2)", /* STMT_PURGE_MESSAGES_PATHS */
	"DELETE FROM messages WHERE id IN (SELECT id FROM messages WHERE "
	    "timestamp < ?1 ORDER BY id LIMIT ?2)", /* STMT_PURGE_MESSAGES */
	"SELECT count(*) FROM media WHERE path IS NOT NULL AND "
	    "stored_at < ?1 / 1000", /* STMT_PURGE_MEDIA_COUNT */
	"SELECT DISTINCT path FROM media WHERE id IN (SELECT id FROM media "
	    "WHERE path IS NOT NULL AND stored_at < ?1 / 1000 ORDER BY id "
	    "LIMIT ?2)", /* STMT_PURGE_MEDIA_PATHS */
	"UPDATE media SET path = NULL, error = 'purged by retention' WHERE id "
	    "IN (SELECT id FROM media WHERE path IS NOT NULL AND "
	    "stored_at < ?1 / 1000 ORDER BY id LIMIT ?2)", /* STMT_PURGE_MEDIA */
	/* WA_RETAIN_MESSAGES_DAYS also covers every copy of a message's
	 * words or its customer's number (cutoff in unix seconds). */
	"SELECT count(*) FROM message_statuses WHERE timestamp < ?1",
	    /* STMT_PURGE_STATUSES_COUNT */
	"DELETE FROM message_statuses WHERE id IN (SELECT id FROM "
	    "message_statuses WHERE timestamp < ?1 ORDER BY id LIMIT ?2)",
	    /* STMT_PURGE_STATUSES */
	"SELECT count(*) FROM outbox WHERE state IN ('accepted', 'failed', "
	    "'cancelled') AND created_at < ?1 * 1000",
	    /* STMT_PURGE_OUTBOX_COUNT */
	"DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE state IN "
	    "('accepted', 'failed', 'cancelled') AND created_at < ?1 * 1000 "
	    "ORDER BY id LIMIT ?2)", /* STMT_PURGE_OUTBOX */
	"SELECT count(*) FROM agent_requests WHERE state IN ('answered', "
	    "'failed') AND created_at < ?1 * 1000", /* STMT_PURGE_AGENT_COUNT */
	"DELETE FROM agent_requests WHERE id IN (SELECT id FROM agent_requests "
	    "WHERE state IN ('answered', 'failed') AND created_at < ?1 * 1000 "
	    "ORDER BY id LIMIT ?2)", /* STMT_PURGE_AGENT */
	"SELECT count(*) FROM webhook_errors WHERE created_at < ?1",
	    /* STMT_PURGE_ERRORS_COUNT */
	"DELETE FROM webhook_errors WHERE id IN (SELECT id FROM webhook_errors "
	    "WHERE created_at < ?1 ORDER BY id LIMIT ?2)", /* STMT_PURGE_ERRORS */
	"SELECT count(*) FROM subscription_events WHERE created_at < ?1",
	    /* STMT_PURGE_SUBSCRIPTIONS_COUNT */
	"DELETE FROM subscription_events WHERE id IN (SELECT id FROM "
	    "subscription_events WHERE created_at < ?1 ORDER BY id LIMIT ?2)",
	    /* STMT_PURGE_SUBSCRIPTIONS */
	/* Settled bodies of any state: message retention is the privacy
	 * promise, stronger than keeping failed entries for replay. */
	"SELECT count(*) FROM webhook_events WHERE body IS NOT NULL AND "
	    "state != 'pending' AND received_at < ?1 * 1000",
	    /* STMT_PURGE_OLD_BODIES_COUNT */
	"UPDATE webhook_events SET body = NULL WHERE id IN (SELECT id FROM "
	    "webhook_events WHERE body IS NOT NULL AND state != 'pending' AND "
	    "received_at < ?1 * 1000 ORDER BY id LIMIT ?2)",
	    /* STMT_PURGE_OLD_BODIES */
	"SELECT DISTINCT path FROM media WHERE path IS NOT NULL ORDER BY path",
	    /* STMT_MEDIA_PATHS */
	"SELECT s.indexed_to, (SELECT max(id) FROM (SELECT id FROM messages "
	    "WHERE id > s.indexed_to ORDER BY id LIMIT ?1)) FROM search_state s "
	    "WHERE s.id = 1", /* STMT_SEARCH_UPTO */
	"INSERT INTO messages_fts (rowid, text) SELECT id, text FROM messages "
	    "WHERE id > ?1 AND id <= ?2 AND text IS NOT NULL",
	    /* STMT_SEARCH_INDEX */
	"UPDATE search_state SET indexed_to = ?1 WHERE id = 1",
	    /* STMT_SEARCH_DONE */
	"SELECT min(next_attempt_at) FROM agent_requests WHERE "
	    "state = 'queued' AND next_attempt_at > ?1", /* STMT_AGENT_NEXT_DUE */
	/* A preference the contact's state already reflects: a redelivery. */
	"SELECT 1 FROM contacts WHERE phone_number_id = ?1 AND wa_id = ?4 "
	    "AND coalesce(opted_out_at, 0) >= ?3 AND (opted_out_at > ?3 OR "
	    "opted_out = ?2) AND (?2 = 0 OR coalesce(last_stop_at, 0) >= ?3)",
	    /* STMT_PREF_KNOWN */
	"INSERT INTO message_edits (phone_number_id, wamid, original_wamid, "
	    "kind, type, text, timestamp, raw, webhook_event_id, created_at) "
	    "VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT (wamid) DO NOTHING",
	    /* STMT_EDIT_INSERT */
	"SELECT kind, text, timestamp FROM message_edits WHERE "
	    "original_wamid = ? ORDER BY timestamp, wamid", /* STMT_EDIT_LIST */
	"SELECT 1 FROM message_edits WHERE original_wamid = ? LIMIT 1",
	    /* STMT_EDIT_PENDING */
	/* Folds every edit and deletion in: the same in any order. */
	"UPDATE messages SET original_text = CASE WHEN edited_at IS NULL AND "
	    "revoked_at IS NULL THEN text ELSE original_text END, "
	    "text = CASE WHEN ?4 IS NOT NULL THEN NULL ELSE ?2 END, "
	    "edited_at = ?3, revoked_at = ?4 WHERE wamid = ?1 AND "
	    "(?3 IS NOT NULL OR ?4 IS NOT NULL)", /* STMT_MSG_EDITED */
	/* A message of the past (history): counted, never unread. */
	"UPDATE conversations SET message_count = message_count + 1, "
	    "first_message_at = min(coalesce(first_message_at, ?2), ?2), "
	    "last_message_at = max(coalesce(last_message_at, ?2), ?2), "
	    "last_inbound_at = CASE WHEN ?3 THEN max(coalesce(last_inbound_at, "
	    "?2), ?2) ELSE last_inbound_at END WHERE id = ?1",
	    /* STMT_CONV_PAST */
	"UPDATE outbox SET message_id = (SELECT id FROM messages WHERE "
	    "wamid = ?2) WHERE id = ?1", /* STMT_OUTBOX_LINK_WAMID */
	"INSERT INTO contact_renames (phone_number_id, old_id, new_id, "
	    "timestamp) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (phone_number_id, "
	    "old_id) DO UPDATE SET new_id = CASE WHEN ?4 > timestamp OR "
	    "(?4 = timestamp AND ?3 > new_id) THEN ?3 ELSE new_id END, "
	    "timestamp = max(timestamp, ?4)", /* STMT_RENAME_INSERT */
	"SELECT new_id FROM contact_renames WHERE phone_number_id = ? AND "
	    "old_id = ?", /* STMT_RENAME_GET */
	/* Merging contact ?2 into ?3 after a number change (5.11). */
	"SELECT a.id, b.id FROM conversations a LEFT JOIN conversations b ON "
	    "b.phone_number_id = a.phone_number_id AND b.contact_id = ?3 "
	    "WHERE a.phone_number_id = ?1 AND a.contact_id = ?2",
	    /* STMT_MERGE_CONVS */
	"UPDATE messages SET conversation_id = ?2 WHERE conversation_id = ?1",
	    /* STMT_MERGE_CONV_MSGS */
	"UPDATE conversations SET "
	    "message_count = conversations.message_count + a.message_count, "
	    "unread_count = conversations.unread_count + a.unread_count, "
	    "first_message_at = " MERGE_TIME("min", "conversations", "first_message_at") ", "
	    "last_message_at = " MERGE_TIME("max", "conversations", "last_message_at") ", "
	    "last_inbound_at = " MERGE_TIME("max", "conversations", "last_inbound_at") ", "
	    "window_expires_at = " MERGE_TIME("max", "conversations", "window_expires_at") " "
	    "FROM (SELECT * FROM conversations WHERE id = ?1) AS a "
	    "WHERE conversations.id = ?2", /* STMT_MERGE_CONV_SUM */
	"DELETE FROM conversations WHERE id = ?1", /* STMT_MERGE_CONV_DELETE */
	"UPDATE conversations SET contact_id = ?2 WHERE id = ?1",
	    /* STMT_MERGE_CONV_MOVE */
	"UPDATE messages SET contact_id = ?2 WHERE contact_id = ?1",
	    /* STMT_MERGE_MSGS */
	"SELECT user_id, wa_id FROM contacts WHERE id = ?",
	    /* STMT_MERGE_UID_GET */
	"UPDATE contacts SET user_id = coalesce(user_id, ?2), "
	    "wa_id = coalesce(wa_id, ?3) WHERE id = ?1", /* STMT_MERGE_UID_SET */
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
	    "WHERE contacts.id = ?2", /* STMT_MERGE_CONTACT */
	"UPDATE tickets SET contact_id = ?2 WHERE contact_id = ?1",
	    /* STMT_MERGE_TICKETS */
	"UPDATE agent_requests SET contact_id = ?2 WHERE contact_id = ?1",
	    /* STMT_MERGE_AGENT */
	"DELETE FROM contacts WHERE id = ?1", /* STMT_MERGE_DELETE */
	/* Through messages_conversation and media's UNIQUE index. */
	"SELECT count(*) FROM messages g JOIN media m ON m.phone_number_id = "
	    "g.phone_number_id AND m.media_id = g.media_id AND m.direction = "
	    "'in' WHERE g.conversation_id = (SELECT g2.conversation_id FROM "
	    "media m2 JOIN messages g2 ON g2.id = m2.message_id WHERE m2.id = "
	    "?1) AND g.timestamp >= ?2 AND g.direction = 'in' AND "
	    "(m.state = 'stored' OR (m.state = 'pending' AND m.id < ?1))",
	    /* STMT_MEDIA_CONTACT_RECENT */
};

struct db {
	sqlite3		*h;
	enum db_role	 role;
	long		 busy_ms;	/* give up on the lock after this long */
	int		 group_sync;	/* sync the WAL after COMMIT, unlocked */
	const char	*stop_words;	/* borrowed: opt-out keywords, or NULL */
	const char	*start_words;	/* borrowed: opt-in keywords, or NULL */
	sqlite3_stmt	*s[STMT__MAX];	/* NULL until prepared */
	int64_t		 budget_end_us;	/* API budget: interrupt after this */
	int		 budget_hit;	/* the budget interrupted a statement */
};

/*
 * Busy handler: SQLite's own sleeps 1, 2, 5, 10 ... 100 ms between tries,
 * so under a pool of writers a webhook waits whole milliseconds for a lock
 * held for microseconds.  Retrying every 300 us (1 ms once waited long)
 * keeps the tail short without a context switch per 100 us: a responder
 * that waits gathers a bigger group of webhooks for its next commit
 * (measured: 300 us beat 100 us by ~5 % in `make bench`, 1 ms cost p99).
 * Gives up after busy_ms.  Returns 1 to retry, 0 to return SQLITE_BUSY.
 */
static int
busy_wait(void *arg, int tries)
{
	const struct db	*d = arg;
	struct timespec	 ts;
	long		 us = tries < 60 ? 300 : 1000;
	long		 waited = tries < 60 ? tries * 3 / 10 :
			    18 + (long)(tries - 60);

	if (waited >= d->busy_ms)
		return 0;
	ts.tv_sec = 0;
	ts.tv_nsec = us * 1000;
	(void)nanosleep(&ts, NULL);
	return 1;
}

/* Logs the failed call with the statement text and SQLite's message. */
static void
dberr(struct db *d, const char *fn, const char *sql)
{
	log_warnx("%s: %s: %s (%d)", fn, sql != NULL ? sql : "-",
	    sqlite3_errmsg(d->h), sqlite3_extended_errcode(d->h));
}

static sqlite3_stmt *
st(struct db *d, enum stmt k)
{
	sqlite3_reset(d->s[k]);
	sqlite3_clear_bindings(d->s[k]);
	return d->s[k];
}

static int
bind_text(sqlite3_stmt *s, int i, const char *v)
{
	return v == NULL ? sqlite3_bind_null(s, i) :
	    sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

/* Binds v, or NULL when v is 0 (absent codes and times). */
static int
bind_nz(sqlite3_stmt *s, int i, int64_t v)
{
	return v == 0 ? sqlite3_bind_null(s, i) : sqlite3_bind_int64(s, i, v);
}

/*
 * Steps a statement that returns no row (or whose rows are not wanted).
 * Returns DB_OK, DB_DUP on a constraint violation, DB_BUSY or DB_ERR.
 */
static enum db_rc
run(struct db *d, enum stmt k, const char *fn)
{
	int rc = sqlite3_step(d->s[k]);

	sqlite3_reset(d->s[k]);
	if (rc == SQLITE_DONE || rc == SQLITE_ROW)
		return DB_OK;
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return DB_DUP;
	dberr(d, fn, stmts[k]);
	if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
		return DB_BUSY;
	return DB_ERR;
}

/* Steps a one-row query; returns 1 row, 0 none, -1 error (logged). */
static int
row(struct db *d, enum stmt k, const char *fn)
{
	int rc = sqlite3_step(d->s[k]);

	if (rc == SQLITE_ROW)
		return 1;
	sqlite3_reset(d->s[k]);
	if (rc == SQLITE_DONE)
		return 0;
	dberr(d, fn, stmts[k]);
	return -1;
}

static void
col_copy(sqlite3_stmt *s, int i, char *dst, size_t sz)
{
	const char *v = (const char *)sqlite3_column_text(s, i);

	/* Columns copied here are ids bounded by the schema or callers. */
	(void)strlcpy(dst, v != NULL ? v : "", sz);
}

static char *
col_dup(sqlite3_stmt *s, int i, int *oom)
{
	const char	*v = (const char *)sqlite3_column_text(s, i);
	char		*p;

	if (v == NULL)
		return NULL;
	if ((p = strdup(v)) == NULL)
		*oom = 1;
	return p;
}

/* Runs k bound to an id and up to two integers; 0 or -1. */
static int
run_id(struct db *d, enum stmt k, int64_t id, int nargs, int64_t a,
    int64_t b, const char *fn)
{
	sqlite3_stmt *s = st(d, k);

	sqlite3_bind_int64(s, 1, id);
	if (nargs > 0)
		sqlite3_bind_int64(s, 2, a);
	if (nargs > 1)
		sqlite3_bind_int64(s, 3, b);
	return run(d, k, fn) == DB_OK ? 0 : -1;
}

const char *
db_sqlite_version(void)
{
	return sqlite3_libversion();
}

/* 1 when the linked SQLite has the WAL-reset race fix (3.51.3). */
int
db_sqlite_version_ok(void)
{
	return sqlite3_libversion_number() >= 3051003;
}

/* The highest "-- migrate: N" in the embedded schema. */
int
db_schema_known(void)
{
	const char	*p = schema_sql;
	int		 n, max = 0;

	while ((p = strstr(p, "\n-- migrate: ")) != NULL) {
		p += 13;
		n = (int)strtol(p, NULL, 10);
		if (n > max)
			max = n;
	}
	return max;
}

int
db_user_version(struct db *d, int *v)
{
	sqlite3_stmt	*s;
	int		 rc;

	if (sqlite3_prepare_v2(d->h, "PRAGMA user_version", -1, &s, NULL) !=
	    SQLITE_OK) {
		dberr(d, __func__, "PRAGMA user_version");
		return -1;
	}
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		*v = sqlite3_column_int(s, 0);
	else
		dberr(d, __func__, "PRAGMA user_version");
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : -1;
}

static int
exec(struct db *d, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(d->h, sql, NULL, NULL, &msg) != SQLITE_OK) {
		log_warnx("%s: %.200s: %s", __func__, sql,
		    msg != NULL ? msg : sqlite3_errmsg(d->h));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

/*
 * Bumps the schema cookie inside the migration's transaction, so every
 * connection rereads the schema: DDL does so itself, a migration that
 * edits constraint text with writable_schema (SQLite's procedure for
 * that) needs it done.  Returns 0 or -1.
 */
static int
schema_bump(struct db *d)
{
	sqlite3_stmt	*s;
	char		 sql[64];
	int		 v = -1;

	if (sqlite3_prepare_v2(d->h, "PRAGMA schema_version", -1, &s, NULL) !=
	    SQLITE_OK)
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	if (v < 0)
		return -1;
	(void)snprintf(sql, sizeof(sql), "PRAGMA schema_version = %d", v + 1);
	return exec(d, sql);
}

/*
 * Applies every migration above the database's user_version, each in its
 * own transaction with the new version set inside it, so a failure leaves
 * the database at the last whole version.  Returns 0 or -1.
 */
int
db_migrate(struct db *d, int *from, int *to)
{
	const char	*p, *next;
	char		*chunk, pragma[64];
	int		 cur, n, rc = 0;

	if (db_user_version(d, &cur) == -1)
		return -1;
	*from = *to = cur;
	if (cur > db_schema_known()) {
		log_warnx("database schema version %d is newer than this "
		    "program knows (%d)", cur, db_schema_known());
		return -1;
	}
	for (p = strstr(schema_sql, "\n-- migrate: "); p != NULL; p = next) {
		n = (int)strtol(p + 13, NULL, 10);
		next = strstr(p + 13, "\n-- migrate: ");
		if (n <= cur)
			continue;
		chunk = next != NULL ? strndup(p, (size_t)(next - p)) :
		    strdup(p);
		if (chunk == NULL)
			return -1;
		(void)snprintf(pragma, sizeof(pragma),
		    "PRAGMA user_version = %d", n);
		if (exec(d, "BEGIN IMMEDIATE") == -1)
			rc = -1;
		else if (exec(d, chunk) == -1 || exec(d, pragma) == -1 ||
		    schema_bump(d) == -1 || exec(d, "COMMIT") == -1) {
			(void)exec(d, "ROLLBACK");
			rc = -1;
		}
		free(chunk);
		if (rc == -1) {
			log_warnx("migration %d failed; database left at "
			    "version %d", n, *to);
			return -1;
		}
		*to = cur = n;
	}
	return 0;
}

static int
prepare_all(struct db *d)
{
	int i;

	for (i = 0; i < STMT__MAX; i++)
		if (sqlite3_prepare_v3(d->h, stmts[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &d->s[i], NULL) != SQLITE_OK) {
			dberr(d, __func__, stmts[i]);
			return -1;
		}
	return 0;
}

/*
 * The worker's checkpoints, run after each of its commits (the lock is
 * released by then).  Every CKPT_PASSIVE frames a passive checkpoint
 * copies pages back without stopping anyone.  That alone never resets
 * the WAL while responders keep appending: a writer starts the file over
 * only when it begins on a fully copied WAL, and under load there is
 * always a newer frame.  In a 10 s bench the file grew to 900 MB and was
 * later cut back under the lock in one 300 ms stall.  So past
 * CKPT_RESTART frames a RESTART checkpoint follows: it copies the few
 * frames the passive one left and waits for readers to leave the WAL, so
 * the next writer starts it over.  It blocks writers while it runs, so it
 * gives up after RESTART_WAIT_MS (and tries again after the next commit)
 * rather than hold webhooks behind a long API read.
 */
static int
wal_hook(void *arg, sqlite3 *h, const char *name, int frames)
{
	struct db	*d = arg;
	long		 busy = d->busy_ms;

	if (frames < CKPT_PASSIVE)
		return SQLITE_OK;
	if (sqlite3_wal_checkpoint_v2(h, name, SQLITE_CHECKPOINT_PASSIVE,
	    NULL, NULL) != SQLITE_OK && sqlite3_errcode(h) != SQLITE_BUSY)
		dberr(d, __func__, "passive checkpoint");
	if (frames < CKPT_RESTART)
		return SQLITE_OK;
	d->busy_ms = RESTART_WAIT_MS;
	if (sqlite3_wal_checkpoint_v2(h, name, SQLITE_CHECKPOINT_RESTART,
	    NULL, NULL) != SQLITE_OK && sqlite3_errcode(h) != SQLITE_BUSY)
		dberr(d, __func__, "restart checkpoint");
	d->busy_ms = busy;
	return SQLITE_OK;
}

/*
 * Settings SQLite takes only before it initialises, on the first open.
 * Its allocation statistics cost a global mutex and bookkeeping on every
 * malloc and we never read them: off, the worker runs ~7% fewer
 * instructions per message.
 */
static void
library_init(void)
{
	static int	 done;

	if (done)
		return;
	done = 1;
	if (sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) != SQLITE_OK)
		log_warnx("SQLite was initialised before its settings");
}

/*
 * Opens path for role.  Responders and the worker insist on the schema
 * version this program knows; the admin role opens any version (for
 * `wactl migrate`) and prepares statements only when it matches.
 * Returns the handle (caller frees with db_close()) or NULL, logged.
 */
struct db *
db_open(const char *path, enum db_role role, int sync_full, long busy_ms)
{
	struct db	*d;
	char		 sql[128];
	int		 v, known = db_schema_known();

	if ((d = calloc(1, sizeof(*d))) == NULL) {
		log_warn("%s: calloc", __func__);
		return NULL;
	}
	d->role = role;
	library_init();
	if (sqlite3_open_v2(path, &d->h, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		log_warnx("%s: %s: %s", __func__, path, d->h != NULL ?
		    sqlite3_errmsg(d->h) : "out of memory");
		goto fail;
	}
	sqlite3_extended_result_codes(d->h, 1);
	d->busy_ms = busy_ms;
	if (sqlite3_busy_handler(d->h, busy_wait, d) != SQLITE_OK)
		goto fail;
	/*
	 * Group commit for responders.  With synchronous=FULL SQLite syncs
	 * the WAL while it holds the write lock, so a pool of responders
	 * acknowledges one webhook per disk flush.  Instead a responder
	 * commits with NORMAL (no sync, the lock held for microseconds) and
	 * then syncs the WAL itself, outside the lock, before it answers:
	 * concurrent syncs share one flush, and a webhook is still answered
	 * 200 only once its frames are on disk (DESIGN rule 1).
	 */
	d->group_sync = sync_full && role == DB_ROLE_RESPONDER;
	/*
	 * The worker writes only what the journal can rebuild: a commit
	 * lost to power loss leaves its entries pending, applied again
	 * (idempotently) at restart.  So it never holds the write lock
	 * through a flush either; a responder's sync or the next
	 * checkpoint makes its frames durable soon after.
	 */
	(void)snprintf(sql, sizeof(sql), "PRAGMA synchronous = %s",
	    sync_full && role == DB_ROLE_ADMIN ? "FULL" : "NORMAL");
	if (exec(d, "PRAGMA journal_mode = WAL") == -1 || exec(d, sql) == -1 ||
	    exec(d, "PRAGMA foreign_keys = ON") == -1)
		goto fail;
	/*
	 * Only the worker checkpoints (a responder must never stall a
	 * webhook's answer on a checkpoint); it also caps the WAL's size
	 * on disk after each checkpoint.  Its savepoint journals stay in
	 * memory: spilled to a temporary file they cost a file creation
	 * per batch and a third of its apply rate.
	 */
	/*
	 * A responder appends at the journal's right edge and reads a few
	 * small rows: 512 KiB of page cache is plenty, and keeps a pool of
	 * them small.
	 */
	if (role == DB_ROLE_RESPONDER &&
	    (exec(d, "PRAGMA wal_autocheckpoint = 0") == -1 ||
	    exec(d, "PRAGMA cache_size = -512") == -1))
		goto fail;
	if (role == DB_ROLE_WORKER &&
	    (exec(d, "PRAGMA wal_autocheckpoint = 0") == -1 ||
	    sqlite3_wal_hook(d->h, wal_hook, d) != NULL ||
	    exec(d, "PRAGMA journal_size_limit = 67108864") == -1 ||
	    exec(d, "PRAGMA cache_size = -65536") == -1 ||
	    exec(d, "PRAGMA temp_store = MEMORY") == -1))
		goto fail;
	if (db_user_version(d, &v) == -1)
		goto fail;
	if (v != known && role != DB_ROLE_ADMIN) {
		log_warnx("%s: schema version %d, this program knows %d: %s",
		    path, v, known, v < known ? "run `wactl migrate` first" :
		    "the database is newer than this program; upgrade it");
		goto fail;
	}
	if (v == known && prepare_all(d) == -1)
		goto fail;
	return d;
fail:
	db_close(d);
	return NULL;
}

/* Finalizes the statements and closes; accepts NULL. */
void
db_close(struct db *d)
{
	int i;

	if (d == NULL)
		return;
	for (i = 0; i < STMT__MAX; i++)
		sqlite3_finalize(d->s[i]);
	if (sqlite3_close(d->h) != SQLITE_OK)
		log_warnx("%s: %s", __func__, sqlite3_errmsg(d->h));
	free(d);
}

enum db_rc
db_begin(struct db *d)
{
	(void)st(d, STMT_BEGIN);
	return run(d, STMT_BEGIN, __func__);
}

/*
 * Opens a read transaction: one snapshot for several reads, without the
 * write lock.  End it with db_commit().
 */
enum db_rc
db_begin_read(struct db *d)
{
	(void)st(d, STMT_BEGIN_READ);
	return run(d, STMT_BEGIN_READ, __func__);
}

int
db_commit(struct db *d)
{
	(void)st(d, STMT_COMMIT);
	if (run(d, STMT_COMMIT, __func__) != DB_OK) {
		db_rollback(d);
		return -1;
	}
	return 0;
}

/* Rolls back when a transaction is open; safe to call when none is. */
void
db_rollback(struct db *d)
{
	if (sqlite3_get_autocommit(d->h))
		return;
	(void)st(d, STMT_ROLLBACK);
	(void)run(d, STMT_ROLLBACK, __func__);
}

int
db_savepoint(struct db *d)
{
	(void)st(d, STMT_SAVEPOINT);
	return run(d, STMT_SAVEPOINT, __func__) == DB_OK ? 0 : -1;
}

int
db_release(struct db *d)
{
	(void)st(d, STMT_RELEASE);
	return run(d, STMT_RELEASE, __func__) == DB_OK ? 0 : -1;
}

/* Undoes the item's changes and closes its savepoint. */
void
db_rollback_to(struct db *d)
{
	(void)st(d, STMT_ROLLBACK_TO);
	(void)run(d, STMT_ROLLBACK_TO, __func__);
	(void)db_release(d);
}

/*
 * Flushes the WAL file to disk (fdatasync through SQLite's own VFS), so
 * every frame committed so far, ours included, survives power loss.
 */
static enum db_rc
wal_sync(struct db *d)
{
	sqlite3_file *f = NULL;

	if (sqlite3_file_control(d->h, "main", SQLITE_FCNTL_JOURNAL_POINTER,
	    &f) != SQLITE_OK || f == NULL || f->pMethods == NULL) {
		log_warnx("%s: no WAL file to sync", __func__);
		return DB_ERR;
	}
	if (f->pMethods->xSync(f, SQLITE_SYNC_NORMAL) != SQLITE_OK) {
		log_warnx("%s: syncing the WAL failed", __func__);
		return DB_ERR;
	}
	return DB_OK;
}

/*
 * Appends raw webhook bodies to the journal in one short transaction: a
 * responder that holds several acknowledged-to-be requests at once
 * stores them together (group commit), so the write lock, the WAL
 * frames of the journal's right edge and the flush are paid once.
 * Returns DB_OK with every ev[i].id set only once the COMMIT is durable
 * (rule 1), DB_BUSY when the write lock could not be had in time, else
 * DB_ERR; then nothing was stored.
 */
enum db_rc
db_event_insert(struct db *d, struct db_event *ev, size_t n)
{
	sqlite3_stmt	*s;
	enum db_rc	 rc;
	int64_t		 now = clock_now_ms();
	size_t		 i;

	/* Hashed before the lock: a 3 MB body takes milliseconds. */
	for (i = 0; i < n; i++)
		if (sig_sha256_hex(ev[i].body, ev[i].len, ev[i].sha256) == -1)
			return DB_ERR;
	if ((rc = db_begin(d)) != DB_OK)
		return rc;
	for (i = 0; i < n; i++) {
		s = st(d, STMT_EVENT_INSERT);
		if (sqlite3_bind_int64(s, 1, now) != SQLITE_OK ||
		    sqlite3_bind_blob64(s, 2, ev[i].body, ev[i].len,
		    SQLITE_STATIC) != SQLITE_OK ||
		    sqlite3_bind_int64(s, 3, (sqlite3_int64)ev[i].len) !=
		    SQLITE_OK ||
		    sqlite3_bind_text(s, 4, ev[i].sha256, -1, SQLITE_STATIC) !=
		    SQLITE_OK) {
			dberr(d, __func__, stmts[STMT_EVENT_INSERT]);
			db_rollback(d);
			return DB_ERR;
		}
		if ((rc = run(d, STMT_EVENT_INSERT, __func__)) != DB_OK) {
			db_rollback(d);
			return rc == DB_BUSY ? DB_BUSY : DB_ERR;
		}
		ev[i].id = sqlite3_last_insert_rowid(d->h);
	}
	(void)st(d, STMT_COMMIT);
	if ((rc = run(d, STMT_COMMIT, __func__)) != DB_OK) {
		db_rollback(d);
		return rc == DB_BUSY ? DB_BUSY : DB_ERR;
	}
	return d->group_sync ? wal_sync(d) : DB_OK;
}

/* Counts the journal entries still to apply; -1 on error. */
int64_t
db_backlog(struct db *d)
{
	sqlite3_stmt	*s = st(d, STMT_BACKLOG);
	int64_t		 n = -1;

	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	else
		dberr(d, __func__, stmts[STMT_BACKLOG]);
	sqlite3_reset(s);
	return n;
}

/* Fills h for /health.  Returns 0 or -1. */
int
db_health_get(struct db *d, struct db_health *h)
{
	sqlite3_stmt	*s;
	int		 rc;

	memset(h, 0, sizeof(*h));
	if (db_user_version(d, &h->schema_version) == -1 ||
	    (h->backlog = db_backlog(d)) < 0)
		return -1;
	s = st(d, STMT_HEARTBEAT_GET);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		h->worker_pid = sqlite3_column_int64(s, 0);
		h->heartbeat_at = sqlite3_column_int64(s, 1);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		dberr(d, __func__, stmts[STMT_HEARTBEAT_GET]);
		return -1;
	}
	s = st(d, STMT_OUTBOX_DEPTH);
	if (row(d, STMT_OUTBOX_DEPTH, __func__) != 1)
		return -1;
	h->outbox_depth = sqlite3_column_int64(s, 0);
	h->outbox_oldest_ms = sqlite3_column_int64(s, 1);
	sqlite3_reset(s);
	return 0;
}

/* Records the worker's sign of life (inside or outside a transaction). */
int
db_heartbeat(struct db *d, int64_t pid, int64_t started)
{
	sqlite3_stmt *s = st(d, STMT_HEARTBEAT_SET);

	sqlite3_bind_int64(s, 1, pid);
	sqlite3_bind_int64(s, 2, started);
	sqlite3_bind_int64(s, 3, (int64_t)time(NULL));
	return run(d, STMT_HEARTBEAT_SET, __func__) == DB_OK ? 0 : -1;
}

/*
 * The first pending journal entry after id `after`.  Returns 1 with *id
 * and a copy of the body (caller frees *body), 0 when none, -1 on error.
 */
int
db_event_next(struct db *d, int64_t after, int64_t *id, char **body,
    size_t *len)
{
	sqlite3_stmt	*s = st(d, STMT_EVENT_NEXT);
	const void	*p;
	int		 rc;

	sqlite3_bind_int64(s, 1, after);
	if ((rc = sqlite3_step(s)) != SQLITE_ROW) {
		sqlite3_reset(s);
		if (rc == SQLITE_DONE)
			return 0;
		dberr(d, __func__, stmts[STMT_EVENT_NEXT]);
		return -1;
	}
	*id = sqlite3_column_int64(s, 0);
	p = sqlite3_column_blob(s, 1);
	*len = (size_t)sqlite3_column_bytes(s, 1);
	if ((*body = malloc(*len + 1)) == NULL) {
		sqlite3_reset(s);
		log_warn("%s: malloc", __func__);
		return -1;
	}
	if (*len > 0)
		memcpy(*body, p, *len);
	(*body)[*len] = '\0';
	sqlite3_reset(s);
	return 1;
}

/* Records what became of a journal entry.  counts: total, applied, dup, failed. */
int
db_event_finish(struct db *d, int64_t id, const char *state,
    const int counts[4], const char *error)
{
	sqlite3_stmt	*s = st(d, STMT_EVENT_FINISH);
	int		 i;

	bind_text(s, 1, state);
	sqlite3_bind_int64(s, 2, clock_now_ms());
	for (i = 0; i < 4; i++)
		sqlite3_bind_int(s, 3 + i, counts[i]);
	bind_text(s, 7, error);
	sqlite3_bind_int64(s, 8, id);
	return run(d, STMT_EVENT_FINISH, __func__) == DB_OK ? 0 : -1;
}

/* Looks a contact up by wa_id, then by BSUID.  Returns id, 0 none, -1. */
static int64_t
contact_find(struct db *d, const char *pnid, const char *wa_id,
    const char *user_id)
{
	const enum stmt	 q[2] = { STMT_CONTACT_BY_WA, STMT_CONTACT_BY_UID };
	const char	*key[2] = { wa_id, user_id };
	sqlite3_stmt	*s;
	int		 i, rc;
	int64_t		 id = 0;

	for (i = 0; i < 2 && id == 0; i++) {
		if (key[i] == NULL)
			continue;
		s = st(d, q[i]);
		bind_text(s, 1, pnid);
		bind_text(s, 2, key[i]);
		if ((rc = sqlite3_step(s)) == SQLITE_ROW)
			id = sqlite3_column_int64(s, 0);
		else if (rc != SQLITE_DONE) {
			dberr(d, __func__, stmts[q[i]]);
			id = -1;
		}
		sqlite3_reset(s);
	}
	return id;
}

/*
 * The id a customer's old wa_id changed to (reference 5.11), following a
 * few changes, into buf; 0 when it never changed, 1 when it did, -1.
 */
static int
renamed_to(struct db *d, const char *pnid, const char *wa, char *buf,
    size_t sz)
{
	sqlite3_stmt	*s;
	const char	*cur = wa;
	int		 hops, rc, found = 0;

	for (hops = 0; hops < 8; hops++) {
		s = st(d, STMT_RENAME_GET);
		bind_text(s, 1, pnid);
		bind_text(s, 2, cur);
		if ((rc = row(d, STMT_RENAME_GET, __func__)) == -1)
			return -1;
		if (rc == 0)
			break;
		col_copy(s, 0, buf, sz);
		sqlite3_reset(s);
		if (strcmp(buf, wa) == 0)
			break;	/* changed back: a loop */
		cur = buf;
		found = 1;
	}
	return found;
}

/*
 * Creates or refreshes the customer of it: the sender of an inbound
 * message, the recipient of one the business wrote.  A customer not
 * found under an old number is the one it changed to.  Returns the
 * contact id or -1.
 */
static int64_t
contact_seen(struct db *d, const struct wh_item *it)
{
	sqlite3_stmt	*s;
	int64_t		 id;
	const char	*wa = it->outbound ? it->to : it->from;
	const char	*uid = it->outbound ? it->to_user_id : it->from_user_id;
	char		 nwa[72], nuid[72];
	int		 rc;

	id = contact_find(d, it->phone_number_id, wa, uid);
	if (id == 0 && wa != NULL) {
		if ((rc = renamed_to(d, it->phone_number_id, wa, nwa,
		    sizeof(nwa))) == -1)
			return -1;
		if (rc == 1) {
			wa = nwa;
			id = contact_find(d, it->phone_number_id, wa, uid);
		}
	}
	if (id == 0 && uid != NULL) {
		if ((rc = renamed_to(d, it->phone_number_id, uid, nuid,
		    sizeof(nuid))) == -1)
			return -1;
		if (rc == 1) {
			uid = nuid;
			id = contact_find(d, it->phone_number_id, wa, uid);
		}
	}
	if (id < 0)
		return -1;
	s = st(d, id == 0 ? STMT_CONTACT_INSERT : STMT_CONTACT_SEEN);
	if (id == 0)
		bind_text(s, 1, it->phone_number_id);
	else
		sqlite3_bind_int64(s, 1, id);
	bind_text(s, 2, wa);
	bind_text(s, 3, uid);
	bind_text(s, 4, it->username);
	bind_text(s, 5, it->profile_name);
	sqlite3_bind_int64(s, 6, it->timestamp);
	if (run(d, id == 0 ? STMT_CONTACT_INSERT : STMT_CONTACT_SEEN,
	    __func__) != DB_OK)
		return -1;
	return id == 0 ? sqlite3_last_insert_rowid(d->h) : id;
}

/*
 * The conversation of (number, contact), created when missing.  A lookup
 * first: nearly every message belongs to a known one, and an upsert would
 * rewrite its row (and, with RETURNING, build a temporary table) each
 * time.  Returns the id or -1.
 */
static int64_t
conversation_ensure(struct db *d, const char *pnid, int64_t contact)
{
	sqlite3_stmt	*s = st(d, STMT_CONV_FIND);
	int64_t		 id = 0;
	int		 rc;

	bind_text(s, 1, pnid);
	sqlite3_bind_int64(s, 2, contact);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		id = sqlite3_column_int64(s, 0);
	else if (rc != SQLITE_DONE) {
		dberr(d, __func__, stmts[STMT_CONV_FIND]);
		id = -1;
	}
	sqlite3_reset(s);
	if (id != 0)
		return id;
	s = st(d, STMT_CONV_INSERT);
	bind_text(s, 1, pnid);
	sqlite3_bind_int64(s, 2, contact);
	sqlite3_bind_int64(s, 3, (int64_t)time(NULL));
	if (run(d, STMT_CONV_INSERT, __func__) != DB_OK)
		return -1;
	return sqlite3_last_insert_rowid(d->h);
}

static int
wamid_known(struct db *d, const char *wamid)
{
	sqlite3_stmt	*s = st(d, STMT_MSG_EXISTS);
	int		 rc;

	bind_text(s, 1, wamid);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	dberr(d, __func__, stmts[STMT_MSG_EXISTS]);
	return -1;
}

static int	status_reconcile(struct db *, const char *);

/*
 * Folds every edit and deletion stored for wamid into its message, in
 * Meta's time order: the newest edit's text, the first deletion (text
 * NULL), the text before either kept in original_text.  The same result
 * whatever order they came in; no-op while the message is unknown.
 */
static int
edits_fold(struct db *d, const char *wamid)
{
	sqlite3_stmt	*s = st(d, STMT_EDIT_LIST);
	char		*text = NULL;
	const char	*kind, *t;
	int64_t		 edited = 0, revoked = 0, ts;
	int		 rc;

	bind_text(s, 1, wamid);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		kind = (const char *)sqlite3_column_text(s, 0);
		ts = sqlite3_column_int64(s, 2);
		if (kind != NULL && strcmp(kind, "revoke") == 0) {
			if (revoked == 0)
				revoked = ts;
			continue;
		}
		edited = ts;
		free(text);
		text = NULL;
		if ((t = (const char *)sqlite3_column_text(s, 1)) != NULL &&
		    (text = strdup(t)) == NULL) {
			sqlite3_reset(s);
			log_warn("%s: strdup", __func__);
			return -1;
		}
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		dberr(d, __func__, stmts[STMT_EDIT_LIST]);
		free(text);
		return -1;
	}
	s = st(d, STMT_MSG_EDITED);
	bind_text(s, 1, wamid);
	bind_text(s, 2, text);
	bind_nz(s, 3, edited);
	bind_nz(s, 4, revoked);
	rc = run(d, STMT_MSG_EDITED, __func__) == DB_OK ? 0 : -1;
	free(text);
	return rc;
}

/*
 * Reference 14.1: an edit or deletion is kept in message_edits and
 * folded into the original, now or when the original comes.
 */
static enum db_rc
apply_edit(struct db *d, int64_t ev, const struct wh_item *it)
{
	sqlite3_stmt	*s = st(d, STMT_EDIT_INSERT);
	int		 i = 1;

	bind_text(s, i++, it->phone_number_id);
	bind_text(s, i++, it->wamid);
	bind_text(s, i++, it->original_wamid);
	bind_text(s, i++, it->revoke ? "revoke" : "edit");
	bind_text(s, i++, it->revoke ? NULL : it->edit_type);
	bind_text(s, i++, it->revoke ? NULL : it->text);
	sqlite3_bind_int64(s, i++, it->timestamp);
	bind_text(s, i++, it->raw);
	sqlite3_bind_int64(s, i++, ev);
	sqlite3_bind_int64(s, i++, (int64_t)time(NULL));
	if (run(d, STMT_EDIT_INSERT, __func__) != DB_OK)
		return DB_ERR;
	if (sqlite3_changes(d->h) == 0)
		return DB_DUP;
	return edits_fold(d, it->original_wamid) == 0 ? DB_OK : DB_ERR;
}

/* 1 when edits or deletions wait for wamid, 0 when none, -1. */
static int
edits_pending(struct db *d, const char *wamid)
{
	sqlite3_stmt	*s = st(d, STMT_EDIT_PENDING);
	int		 rc;

	bind_text(s, 1, wamid);
	if ((rc = row(d, STMT_EDIT_PENDING, __func__)) == 1)
		sqlite3_reset(s);
	return rc;
}

/*
 * Moves everything of contact a into contact b (same number): their
 * conversations become one (counts summed, times widened), messages,
 * tickets and agent calls follow, names and opt-out keep the newest.
 * Every step is a min, max, sum or newest-wins, so the result does not
 * depend on which of the two was stored first.  0 or -1.
 */
static int
contact_merge(struct db *d, const char *pnid, int64_t a, int64_t b)
{
	sqlite3_stmt	*s = st(d, STMT_MERGE_CONVS);
	char		 uid[128], wa[128];
	int64_t		 ca = 0, cb = 0;
	int		 rc;

	bind_text(s, 1, pnid);
	sqlite3_bind_int64(s, 2, a);
	sqlite3_bind_int64(s, 3, b);
	if ((rc = row(d, STMT_MERGE_CONVS, __func__)) == -1)
		return -1;
	if (rc == 1) {
		ca = sqlite3_column_int64(s, 0);
		cb = sqlite3_column_int64(s, 1);
		sqlite3_reset(s);
	}
	if (ca != 0 && cb != 0 && (run_id(d, STMT_MERGE_CONV_MSGS, ca, 1, cb,
	    0, __func__) == -1 || run_id(d, STMT_MERGE_CONV_SUM, ca, 1, cb, 0,
	    __func__) == -1 || run_id(d, STMT_MERGE_CONV_DELETE, ca, 0, 0, 0,
	    __func__) == -1))
		return -1;
	if (ca != 0 && cb == 0 && run_id(d, STMT_MERGE_CONV_MOVE, ca, 1, b, 0,
	    __func__) == -1)
		return -1;
	s = st(d, STMT_MERGE_UID_GET);
	sqlite3_bind_int64(s, 1, a);
	if ((rc = row(d, STMT_MERGE_UID_GET, __func__)) == -1)
		return -1;
	uid[0] = wa[0] = '\0';
	if (rc == 1) {
		col_copy(s, 0, uid, sizeof(uid));
		col_copy(s, 1, wa, sizeof(wa));
		sqlite3_reset(s);
	}
	/* Everything moved first: deleting a cascades to what is left. */
	if (run_id(d, STMT_MERGE_MSGS, a, 1, b, 0, __func__) == -1 ||
	    run_id(d, STMT_MERGE_CONTACT, a, 1, b, 0, __func__) == -1 ||
	    run_id(d, STMT_MERGE_TICKETS, a, 1, b, 0, __func__) == -1 ||
	    run_id(d, STMT_MERGE_AGENT, a, 1, b, 0, __func__) == -1 ||
	    run_id(d, STMT_MERGE_DELETE, a, 0, 0, 0, __func__) == -1)
		return -1;
	/*
	 * a's ids are free once a is gone (each UNIQUE per number); b
	 * takes those it lacks: a BSUID-only b gets the phone of a.
	 */
	s = st(d, STMT_MERGE_UID_SET);
	sqlite3_bind_int64(s, 1, b);
	bind_text(s, 2, uid[0] != '\0' ? uid : NULL);
	bind_text(s, 3, wa[0] != '\0' ? wa : NULL);
	if (run(d, STMT_MERGE_UID_SET, __func__) != DB_OK)
		return -1;
	return 0;
}

/*
 * The customer at old_id (a wa_id, or a BSUID when uid) changed to
 * new_id: the contact takes the new id, or, when both are known already
 * (messages from the new id came first), the two become one.  0 or -1.
 */
static int
contact_renumber(struct db *d, const char *pnid, int uid,
    const char *old_id, const char *new_id)
{
	sqlite3_stmt	*s;
	enum stmt	 k = uid ? STMT_CONTACT_RE_UID : STMT_CONTACT_RENUMBER;
	int64_t		 a, b;

	if ((a = contact_find(d, pnid, uid ? NULL : old_id,
	    uid ? old_id : NULL)) <= 0)
		return a == 0 ? 0 : -1;
	if ((b = contact_find(d, pnid, uid ? NULL : new_id,
	    uid ? new_id : NULL)) < 0)
		return -1;
	if (b > 0)
		return a == b ? 0 : contact_merge(d, pnid, a, b);
	s = st(d, k);
	sqlite3_bind_int64(s, 1, a);
	bind_text(s, 2, new_id);
	return run(d, k, __func__) == DB_OK ? 0 : -1;
}

/* 1 when a system message changes id old to a different new one. */
static int
id_changed(const char *old, const char *new)
{
	return old != NULL && new != NULL && new[0] != '\0' &&
	    strcmp(old, new) != 0;
}

/* Records that it's sender changed from old to new.  0 or -1. */
static int
rename_insert(struct db *d, const struct wh_item *it, const char *old,
    const char *new)
{
	sqlite3_stmt *s = st(d, STMT_RENAME_INSERT);

	bind_text(s, 1, it->phone_number_id);
	bind_text(s, 2, old);
	bind_text(s, 3, new);
	sqlite3_bind_int64(s, 4, it->timestamp);
	return run(d, STMT_RENAME_INSERT, __func__) == DB_OK ? 0 : -1;
}

static enum db_rc
apply_message(struct db *d, int64_t ev, const struct wh_item *it)
{
	sqlite3_stmt	*s;
	int64_t		 contact, conv, window;
	int		 k, i = 1;

	if ((k = wamid_known(d, it->wamid)) != 0)
		return k == 1 ? DB_DUP : DB_ERR;
	/* Reference 5.11: the change is known before anyone is looked up. */
	if ((id_changed(it->from, it->new_wa_id) &&
	    rename_insert(d, it, it->from, it->new_wa_id) == -1) ||
	    (id_changed(it->from_user_id, it->new_user_id) &&
	    rename_insert(d, it, it->from_user_id, it->new_user_id) == -1))
		return DB_ERR;
	if ((contact = contact_seen(d, it)) < 0 ||
	    (conv = conversation_ensure(d, it->phone_number_id, contact)) < 0)
		return DB_ERR;
	s = st(d, STMT_MSG_IN_INSERT);
	bind_text(s, i++, it->phone_number_id);
	bind_text(s, i++, it->wamid);
	bind_text(s, i++, it->outbound ? "out" : "in");
	sqlite3_bind_int64(s, i++, conv);
	sqlite3_bind_int64(s, i++, contact);
	if (it->outbound)
		i++;
	else
		bind_text(s, i++, it->from != NULL ? it->from :
		    it->from_user_id);
	bind_text(s, i++, it->type);
	/* An edit's text lives in the message it edits (and message_edits). */
	bind_text(s, i++, it->original_wamid == NULL ? it->text : NULL);
	bind_text(s, i++, it->media_id);
	bind_text(s, i++, it->mime_type);
	bind_text(s, i++, it->sha256);
	bind_text(s, i++, it->filename);
	if (it->has_location) {
		sqlite3_bind_double(s, i++, it->latitude);
		sqlite3_bind_double(s, i++, it->longitude);
	} else
		i += 2;
	bind_text(s, i++, it->location_name);
	bind_text(s, i++, it->location_address);
	bind_text(s, i++, it->interactive_type);
	bind_text(s, i++, it->reply_id);
	bind_text(s, i++, it->reply_title);
	bind_text(s, i++, it->reaction_to);
	bind_text(s, i++, it->reaction_emoji);
	bind_text(s, i++, it->context_wamid);
	bind_text(s, i++, it->context_from);
	sqlite3_bind_int(s, i++, it->forwarded);
	bind_text(s, i++, it->referral_source_id);
	bind_text(s, i++, it->referral_ctwa_clid);
	bind_nz(s, i++, it->err_code);
	bind_text(s, i++, it->err_title);
	sqlite3_bind_int64(s, i++, it->timestamp);
	bind_text(s, i++, it->raw);
	sqlite3_bind_int64(s, i++, ev);
	sqlite3_bind_int64(s, i++, (int64_t)time(NULL));
	if (it->outbound) {
		bind_text(s, i++, it->to != NULL ? it->to : it->to_user_id);
		bind_text(s, i++, it->history_status);
		if (it->history_status != NULL)
			sqlite3_bind_int64(s, i, it->timestamp);
		i++;
	} else
		i += 3;
	bind_text(s, i++, it->source);
	if (run(d, STMT_MSG_IN_INSERT, __func__) != DB_OK)
		return DB_ERR;
	/*
	 * An edit or deletion is a message of its own (its wamid keys
	 * redeliveries) that changes the original, not the conversation.
	 */
	if (it->original_wamid != NULL)
		return apply_edit(d, ev, it);
	/* Edits or a deletion that came first (reference 14.1). */
	if ((k = edits_pending(d, it->wamid)) == -1 ||
	    (k == 1 && edits_fold(d, it->wamid) == -1))
		return DB_ERR;
	/* The business's own and past messages (reference 14.2). */
	if (it->source != NULL) {
		s = st(d, STMT_CONV_PAST);
		sqlite3_bind_int64(s, 1, conv);
		sqlite3_bind_int64(s, 2, it->timestamp);
		sqlite3_bind_int(s, 3, !it->outbound);
		if (run(d, STMT_CONV_PAST, __func__) != DB_OK)
			return DB_ERR;
		return it->outbound && status_reconcile(d, it->wamid) == -1 ?
		    DB_ERR : DB_OK;
	}
	/* Media is downloaded later by the worker (reference 10). */
	if (it->media_id != NULL) {
		s = st(d, STMT_MEDIA_INSERT);
		bind_text(s, 1, it->phone_number_id);
		bind_text(s, 2, it->media_id);
		bind_text(s, 3, "in");
		sqlite3_bind_int64(s, 4, sqlite3_last_insert_rowid(d->h));
		bind_text(s, 5, it->mime_type);
		bind_text(s, 9, "pending");
		sqlite3_bind_int64(s, 10, (int64_t)time(NULL));
		if (run(d, STMT_MEDIA_INSERT, __func__) != DB_OK)
			return DB_ERR;
	}
	/* Opt-out and opt-in keywords (DESIGN rule 5). */
	if (it->type != NULL && strcmp(it->type, "text") == 0 &&
	    (cfg_keyword_match(d->stop_words, it->text) ||
	    cfg_keyword_match(d->start_words, it->text)) &&
	    run_id(d, STMT_OPT_SET, contact, 2,
	    cfg_keyword_match(d->stop_words, it->text), it->timestamp,
	    __func__) == -1)
		return DB_ERR;
	/*
	 * Reference 9.4: the window runs 24 hours from the user's message
	 * time, 72 hours when the message came from a Click-to-WhatsApp ad.
	 */
	window = it->timestamp + (it->referral_ctwa_clid != NULL ||
	    it->referral_source_id != NULL ? 72 : 24) * 3600;
	s = st(d, STMT_CONV_INBOUND);
	sqlite3_bind_int64(s, 1, conv);
	sqlite3_bind_int64(s, 2, it->timestamp);
	sqlite3_bind_int64(s, 3, window);
	if (run(d, STMT_CONV_INBOUND, __func__) != DB_OK)
		return DB_ERR;
	/* Reference 5.11: an id change moves the contact to the new id. */
	if (id_changed(it->from, it->new_wa_id) && contact_renumber(d,
	    it->phone_number_id, 0, it->from, it->new_wa_id) == -1)
		return DB_ERR;
	if (id_changed(it->from_user_id, it->new_user_id) &&
	    contact_renumber(d, it->phone_number_id, 1, it->from_user_id,
	    it->new_user_id) == -1)
		return DB_ERR;
	return DB_OK;
}

/*
 * Sets an outbound message's current status from every status stored for
 * its wamid, folded with wh_status_merge(): the same result whatever order
 * they came in (DESIGN rule 3).  No-op while the message is unknown.
 */
static int
status_reconcile(struct db *d, const char *wamid)
{
	sqlite3_stmt	*s = st(d, STMT_STATUS_LIST);
	char		 cur[16] = "", title[256] = "";
	const char	*name, *m;
	int64_t		 at = 0, code = 0;
	int		 rc;

	bind_text(s, 1, wamid);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		name = (const char *)sqlite3_column_text(s, 0);
		/*
		 * The failure is kept whether or not the message got
		 * further: taken only when failed became the status, it
		 * was kept in 8 of the 24 orders of four statuses.
		 */
		if (name != NULL && strcmp(name, "failed") == 0) {
			code = sqlite3_column_int64(s, 2);
			m = (const char *)sqlite3_column_text(s, 3);
			(void)strlcpy(title, m ? m : "", sizeof(title));
		}
		m = wh_status_merge(cur[0] ? cur : NULL, name);
		if (m == NULL || m == cur)
			continue;
		(void)strlcpy(cur, m, sizeof(cur)); /* known names are short */
		at = sqlite3_column_int64(s, 1);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		dberr(d, __func__, stmts[STMT_STATUS_LIST]);
		return -1;
	}
	if (cur[0] == '\0')
		return 0;
	s = st(d, STMT_MSG_STATUS_SET);
	bind_text(s, 1, wamid);
	bind_text(s, 2, cur);
	sqlite3_bind_int64(s, 3, at);
	bind_nz(s, 4, code);
	bind_text(s, 5, title[0] ? title : NULL);
	return run(d, STMT_MSG_STATUS_SET, __func__) == DB_OK ? 0 : -1;
}

/* The outbox id in a biz_opaque_callback_data we sent, or 0. */
static int64_t
outbox_ref(const char *v)
{
	char		*end;
	long long	 n;

	if (strncmp(v, "outbox:", 7) != 0)
		return 0;
	errno = 0;
	n = strtoll(v + 7, &end, 10);
	if (errno != 0 || *end != '\0' || n <= 0)
		return 0;
	return n;
}

/*
 * 1 when outbox row id is the one a status's callback names: same
 * number and recipient.  Row ids are not AUTOINCREMENT, so erasing the
 * newest rows lets a new row take an old id; a late status for the old
 * message must not settle the new one unsent.  0 no, -1 error.
 */
static int
outbox_owns(struct db *d, int64_t id, const struct wh_item *it)
{
	sqlite3_stmt	*s = st(d, STMT_OUTBOX_OWNS);
	int		 rc;

	if (it->recipient_id == NULL && it->recipient_user_id == NULL)
		return 0;
	sqlite3_bind_int64(s, 1, id);
	bind_text(s, 2, it->phone_number_id);
	bind_text(s, 3, it->recipient_id);
	bind_text(s, 4, it->recipient_user_id);
	rc = row(d, STMT_OUTBOX_OWNS, __func__);
	sqlite3_reset(s);
	return rc;
}

static enum db_rc
apply_status(struct db *d, int64_t ev, const struct wh_item *it)
{
	sqlite3_stmt	*s = st(d, STMT_STATUS_INSERT);
	int64_t		 ob;
	int		 i = 1, k;

	bind_text(s, i++, it->phone_number_id);
	bind_text(s, i++, it->wamid);
	bind_text(s, i++, it->status);
	sqlite3_bind_int64(s, i++, it->timestamp);
	bind_text(s, i++, it->recipient_id);
	bind_text(s, i++, it->recipient_user_id);
	bind_text(s, i++, it->biz_opaque);
	bind_text(s, i++, it->conv_id);
	bind_text(s, i++, it->conv_origin);
	bind_nz(s, i++, it->conv_expires);
	bind_text(s, i++, it->pricing_model);
	bind_text(s, i++, it->pricing_category);
	bind_text(s, i++, it->pricing_type);
	if (it->billable >= 0)
		sqlite3_bind_int(s, i, it->billable);
	i++;
	bind_nz(s, i++, it->err_code);
	bind_text(s, i++, it->err_title != NULL ? it->err_title :
	    it->err_message);
	bind_text(s, i++, it->err_details);
	bind_text(s, i++, it->raw);
	sqlite3_bind_int64(s, i++, ev);
	sqlite3_bind_int64(s, i++, (int64_t)time(NULL));
	if (run(d, STMT_STATUS_INSERT, __func__) != DB_OK)
		return DB_ERR;
	if (sqlite3_changes(d->h) == 0)
		return DB_DUP;
	/*
	 * Our outbox id rides in biz_opaque_callback_data: a status can
	 * tell us Meta took a message whose reply we never saw (a timeout,
	 * a crash), so it is not sent again.
	 */
	if (it->biz_opaque != NULL && (ob = outbox_ref(it->biz_opaque)) > 0 &&
	    (k = outbox_owns(d, ob, it)) != 0 && (k == -1 ||
	    db_outbox_accept(d, ob, it->wamid, clock_now_ms()) == -1))
		return DB_ERR;
	/* Reference 8.2: 131050, the user stopped marketing messages. */
	if (it->err_code == 131050 && it->recipient_id != NULL &&
	    db_opt_set(d, it->phone_number_id, it->recipient_id, 1,
	    it->timestamp) == -1)
		return DB_ERR;
	return status_reconcile(d, it->wamid) == 0 ? DB_OK : DB_ERR;
}

/*
 * SHA-256 of field, newline, raw JSON.  The field is hashed too: the same
 * value under two fields is two events.  For account events (any field
 * but messages) the WABA (entry.id) and entry.time lead: the same value
 * for two accounts, or again weeks later, is a new event (reference
 * 14.3).  The path is not: a redelivery may batch differently.  Returns
 * 0 or -1.
 */
static int
item_digest(const struct wh_item *it, char sha[65])
{
	struct buf	 b;
	int		 rc = -1;

	buf_init(&b);
	if (it->kind == WH_OTHER && buf_printf(&b, "%s\n%lld\n",
	    it->waba_id != NULL ? it->waba_id : "",
	    (long long)it->entry_time) == -1)
		goto done;
	if (buf_puts(&b, it->field != NULL ? it->field : "") == 0 &&
	    buf_append(&b, "\n", 1) == 0 && buf_puts(&b, it->raw) == 0)
		rc = sig_sha256_hex(b.p, b.len, sha);
done:
	buf_clear(&b);
	return rc;
}

/* Errors and other fields: stored once, keyed by a digest of the item. */
static enum db_rc
apply_stored(struct db *d, int64_t ev, const struct wh_item *it)
{
	sqlite3_stmt	*s;
	char		 sha[65];
	enum stmt	 k = it->kind == WH_ERROR ? STMT_ERROR_INSERT :
			    STMT_OTHER_INSERT;
	int		 i = 1;

	if (item_digest(it, sha) == -1)
		return DB_ERR;
	s = st(d, k);
	if (k == STMT_ERROR_INSERT) {
		bind_text(s, i++, it->phone_number_id);
		bind_nz(s, i++, it->err_code);
		bind_text(s, i++, it->err_title);
		bind_text(s, i++, it->err_message);
		bind_text(s, i++, it->err_details);
	} else {
		bind_text(s, i++, it->waba_id);
		bind_text(s, i++, it->phone_number_id);
		bind_text(s, i++, it->field);
		bind_text(s, i++, it->event);
	}
	bind_text(s, i++, it->raw);
	bind_text(s, i++, sha);
	sqlite3_bind_int64(s, i++, ev);
	sqlite3_bind_int64(s, i++, (int64_t)time(NULL));
	if (run(d, k, __func__) != DB_OK)
		return DB_ERR;
	return sqlite3_changes(d->h) == 0 ? DB_DUP : DB_OK;
}

/*
 * A user stopped or resumed marketing messages: the same opt-out the
 * STOP keyword sets, ordered by Meta's time.  Other categories are kept
 * in subscription_events only.
 */
static enum db_rc
apply_preference(struct db *d, const struct wh_item *it)
{
	sqlite3_stmt	*s;
	int		 out, rc;

	if (it->pref_category != NULL &&
	    strstr(it->pref_category, "marketing") == NULL)
		return DB_DUP;
	if (strcmp(it->pref_value, "stop") != 0 &&
	    strcmp(it->pref_value, "resume") != 0)
		return DB_DUP;
	/* A redelivery (or an older signal) changes nothing: say so. */
	out = strcmp(it->pref_value, "stop") == 0;
	s = st(d, STMT_PREF_KNOWN);
	bind_text(s, 1, it->phone_number_id);
	sqlite3_bind_int(s, 2, out);
	sqlite3_bind_int64(s, 3, it->timestamp);
	bind_text(s, 4, it->from);
	if ((rc = row(d, STMT_PREF_KNOWN, __func__)) == -1)
		return DB_ERR;
	if (rc == 1) {
		sqlite3_reset(s);
		return DB_DUP;
	}
	return db_opt_set(d, it->phone_number_id, it->from,
	    strcmp(it->pref_value, "stop") == 0, it->timestamp) == 0 ?
	    DB_OK : DB_ERR;
}

/*
 * An address-book entry of the business's phone (reference 14.2): the
 * contact is created when unknown, and its saved name set or cleared by
 * the newest entry.  DB_DUP when it changes nothing (a redelivery).
 */
static enum db_rc
apply_contact_sync(struct db *d, const struct wh_item *it)
{
	sqlite3_stmt	*s;
	int64_t		 id;

	if ((id = contact_find(d, it->phone_number_id, it->sync_phone,
	    NULL)) < 0)
		return DB_ERR;
	if (id == 0) {
		s = st(d, STMT_SYNC_INSERT);
		bind_text(s, 1, it->phone_number_id);
		bind_text(s, 2, it->sync_phone);
		sqlite3_bind_int64(s, 3, it->timestamp);
		if (run(d, STMT_SYNC_INSERT, __func__) != DB_OK)
			return DB_ERR;
		id = sqlite3_last_insert_rowid(d->h);
	}
	s = st(d, STMT_SYNC_SET);
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, it->timestamp);
	bind_text(s, 3, it->sync_remove ? NULL : it->sync_name);
	if (run(d, STMT_SYNC_SET, __func__) != DB_OK)
		return DB_ERR;
	return sqlite3_changes(d->h) == 0 ? DB_DUP : DB_OK;
}

/*
 * Applies one item of journal entry ev inside the caller's transaction.
 * Returns DB_OK, DB_DUP (already known) or DB_ERR with a phrase in *why;
 * on DB_ERR the caller rolls back to its savepoint.
 */
enum db_rc
db_apply_item(struct db *d, int64_t ev, const struct wh_item *it,
    const char **why)
{
	enum db_rc rc = DB_ERR;

	*why = "database error";
	switch (it->kind) {
	case WH_MESSAGE:
		rc = apply_message(d, ev, it);
		break;
	case WH_STATUS:
		rc = apply_status(d, ev, it);
		break;
	case WH_ERROR:
	case WH_OTHER:
		rc = apply_stored(d, ev, it);
		break;
	case WH_PREFERENCE:
		rc = apply_preference(d, it);
		break;
	case WH_CONTACT_SYNC:
		rc = apply_contact_sync(d, it);
		break;
	case WH_BAD:
		*why = it->error;
		rc = DB_ERR;
		break;
	case WH__MAX:
		break;
	}
	return rc;
}

/* Checkpoints the WAL (worker only): passive, or truncating when idle. */
void
db_checkpoint(struct db *d, int truncate)
{
	int log = 0, ckpt = 0;

	if (sqlite3_wal_checkpoint_v2(d->h, NULL, truncate ?
	    SQLITE_CHECKPOINT_TRUNCATE : SQLITE_CHECKPOINT_PASSIVE,
	    &log, &ckpt) != SQLITE_OK &&
	    sqlite3_errcode(d->h) != SQLITE_BUSY)
		dberr(d, __func__, "wal_checkpoint");
}

/* Borrows the stop and start keyword lists (comma separated) for apply. */
void
db_set_keywords(struct db *d, const char *stop, const char *start)
{
	d->stop_words = stop;
	d->start_words = start;
}

int
db_in_transaction(struct db *d)
{
	return !sqlite3_get_autocommit(d->h);
}

/* Fills p with what the database knows of recipient.  Returns 0 or -1. */
int
db_peer_get(struct db *d, const char *pnid, const char *recipient,
    struct db_peer *p)
{
	sqlite3_stmt	*s = st(d, STMT_PEER_GET);
	int		 rc;

	memset(p, 0, sizeof(*p));
	bind_text(s, 1, pnid);
	bind_text(s, 2, recipient);
	if ((rc = row(d, STMT_PEER_GET, __func__)) != 1)
		return rc;
	p->contact_id = sqlite3_column_int64(s, 0);
	p->opted_out = sqlite3_column_int(s, 1);
	p->opted_out_at = sqlite3_column_int64(s, 2);
	p->window_expires_at = sqlite3_column_int64(s, 3);
	p->last_inbound_at = sqlite3_column_int64(s, 4);
	p->last_stop_at = sqlite3_column_int64(s, 5);
	sqlite3_reset(s);
	return 0;
}

/*
 * Unique recipients of business-initiated templates queued or sent since
 * since_ms, and whether recipient is already one of them.  0 or -1.
 */
int
db_tier_count(struct db *d, const char *pnid, const char *recipient,
    int64_t since_ms, int64_t *count, int *already)
{
	sqlite3_stmt	*s = st(d, STMT_TIER_COUNT);

	bind_text(s, 1, pnid);
	sqlite3_bind_int64(s, 2, since_ms);
	bind_text(s, 3, recipient);
	if (row(d, STMT_TIER_COUNT, __func__) != 1)
		return -1;
	*count = sqlite3_column_int64(s, 0);
	*already = sqlite3_column_int(s, 1);
	sqlite3_reset(s);
	return 0;
}

/* The outbox row queued earlier under key: 1 with *id, 0 none, -1. */
int
db_outbox_by_key(struct db *d, const char *pnid, const char *key,
    int64_t *id)
{
	sqlite3_stmt	*s = st(d, STMT_OUTBOX_BY_KEY);
	int		 rc;

	bind_text(s, 1, pnid);
	bind_text(s, 2, key);
	if ((rc = row(d, STMT_OUTBOX_BY_KEY, __func__)) == 1) {
		*id = sqlite3_column_int64(s, 0);
		sqlite3_reset(s);
	}
	return rc;
}

/* Inserts a checked row (the caller holds the transaction). */
enum db_rc
db_outbox_insert(struct db *d, const struct db_outbox_new *n,
    int64_t now_ms, int64_t *id)
{
	sqlite3_stmt	*s = st(d, STMT_OUTBOX_INSERT);
	enum db_rc	 rc;

	bind_text(s, 1, n->pnid);
	bind_text(s, 2, n->recipient);
	bind_text(s, 3, n->kind);
	bind_text(s, 4, n->body);
	bind_text(s, 5, n->text);
	bind_text(s, 6, n->reply_to);
	bind_text(s, 7, n->media_file);
	bind_text(s, 8, n->media_mime);
	sqlite3_bind_int(s, 9, n->free_form);
	sqlite3_bind_int(s, 10, n->business_initiated);
	bind_text(s, 11, n->source);
	sqlite3_bind_int64(s, 12, now_ms);
	bind_text(s, 13, n->idem_key);
	sqlite3_bind_int(s, 14, n->optout_ack);
	if ((rc = run(d, STMT_OUTBOX_INSERT, __func__)) == DB_OK)
		*id = sqlite3_last_insert_rowid(d->h);
	return rc;
}

void
db_outbox_item_clear(struct db_outbox_item *it)
{
	free(it->body);
	free(it->media_file);
	free(it->media_mime);
	it->body = it->media_file = it->media_mime = NULL;
}

/*
 * Up to max rows due at now_ms, the oldest open row of each recipient
 * only.  Returns how many were filled (clear each), or -1.
 */
int
db_outbox_due(struct db *d, int64_t now_ms, struct db_outbox_item *out,
    int max)
{
	sqlite3_stmt	*s = st(d, STMT_OUTBOX_DUE);
	int		 n = 0, rc, oom = 0;

	sqlite3_bind_int64(s, 1, now_ms);
	sqlite3_bind_int(s, 2, max);
	while (n < max && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct db_outbox_item *it = &out[n++];

		memset(it, 0, sizeof(*it));
		it->id = sqlite3_column_int64(s, 0);
		col_copy(s, 1, it->pnid, sizeof(it->pnid));
		col_copy(s, 2, it->recipient, sizeof(it->recipient));
		col_copy(s, 3, it->kind, sizeof(it->kind));
		it->body = col_dup(s, 4, &oom);
		it->media_file = col_dup(s, 5, &oom);
		it->media_mime = col_dup(s, 6, &oom);
		it->free_form = sqlite3_column_int(s, 7);
		it->attempts = sqlite3_column_int(s, 8);
		it->optout_ack = sqlite3_column_int(s, 9);
		if (oom || it->body == NULL)
			break;
	}
	sqlite3_reset(s);
	if (oom || (n > 0 && out[n - 1].body == NULL)) {
		while (n > 0)
			db_outbox_item_clear(&out[--n]);
		log_warnx("%s: out of memory", __func__);
		return -1;
	}
	return n;
}

/*
 * The earliest next_attempt_at after now in statement k (unix ms),
 * DB_NEVER when none, -1 on error.  Rows already due are left out: the
 * caller dispatches what it can, and what it could not waits on a slot,
 * a call in flight or a bucket, each with its own wake-up; counting them
 * here made the sender spin until then.
 */
static int64_t
next_due(struct db *d, enum stmt k, int64_t now, const char *fn)
{
	sqlite3_stmt	*s = st(d, k);
	int64_t		 v;

	sqlite3_bind_int64(s, 1, now);
	if (row(d, k, fn) != 1)
		return -1;
	v = sqlite3_column_type(s, 0) == SQLITE_NULL ? DB_NEVER :
	    sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return v;
}

/* When the next queued row falls due after now (unix ms); see next_due. */
int64_t
db_outbox_next_due(struct db *d, int64_t now)
{
	return next_due(d, STMT_OUTBOX_NEXT_DUE, now, __func__);
}

/* Marks a due row sending until lease_ms.  1 claimed, 0 gone, -1. */
int
db_outbox_claim(struct db *d, int64_t id, int64_t lease_ms)
{
	if (run_id(d, STMT_OUTBOX_CLAIM, id, 1, lease_ms, 0, __func__) == -1)
		return -1;
	return sqlite3_changes(d->h) > 0;
}

int
db_outbox_retry(struct db *d, int64_t id, int64_t next_ms, int64_t code,
    const char *title, const char *details)
{
	sqlite3_stmt *s = st(d, STMT_OUTBOX_RETRY);

	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, next_ms);
	bind_nz(s, 3, code);
	bind_text(s, 4, title);
	bind_text(s, 5, details);
	return run(d, STMT_OUTBOX_RETRY, __func__) == DB_OK ? 0 : -1;
}

int
db_outbox_defer(struct db *d, int64_t id, int64_t next_ms)
{
	return run_id(d, STMT_OUTBOX_DEFER, id, 1, next_ms, 0, __func__);
}

/* Counts n more attempts on a row in flight (libcurl's own resends). */
int
db_outbox_resent(struct db *d, int64_t id, int n)
{
	return run_id(d, STMT_OUTBOX_RESENT, id, 1, n, 0, __func__);
}

int
db_outbox_fail(struct db *d, int64_t id, int64_t code, const char *title,
    const char *details)
{
	sqlite3_stmt *s = st(d, STMT_OUTBOX_FAIL);

	sqlite3_bind_int64(s, 1, id);
	bind_nz(s, 2, code);
	bind_text(s, 3, title);
	bind_text(s, 4, details);
	return run(d, STMT_OUTBOX_FAIL, __func__) == DB_OK ? 0 : -1;
}

/* Finds or creates the contact a send goes to; its id or -1. */
static int64_t
contact_ensure_out(struct db *d, const char *pnid, const char *recipient,
    int64_t now_s)
{
	sqlite3_stmt	*s;
	int64_t		 id;
	int		 bsuid = strchr(recipient, '.') != NULL;

	if ((id = contact_find(d, pnid, bsuid ? NULL : recipient,
	    bsuid ? recipient : NULL)) != 0)
		return id;
	s = st(d, STMT_CONTACT_OUT_INSERT);
	bind_text(s, 1, pnid);
	bind_text(s, 2, bsuid ? NULL : recipient);
	bind_text(s, 3, bsuid ? recipient : NULL);
	sqlite3_bind_int64(s, 4, now_s);
	if (run(d, STMT_CONTACT_OUT_INSERT, __func__) != DB_OK)
		return -1;
	return sqlite3_last_insert_rowid(d->h);
}

/*
 * Meta accepted outbox row id as wamid: the row becomes accepted and an
 * outbound messages row is written (once), then any statuses that came
 * before this reply are folded in.  Called by the sender on a 200 and by
 * a status webhook carrying our biz_opaque_callback_data, whichever comes
 * first; the second finds the wamid set and changes nothing.  0 or -1.
 */
int
db_outbox_accept(struct db *d, int64_t id, const char *wamid, int64_t now_ms)
{
	sqlite3_stmt	*s;
	char		 pnid[40], recipient[72], kind[16];
	char		*text = NULL, *reply = NULL, *body = NULL;
	int64_t		 contact, conv, msg, now_s = now_ms / 1000;
	int		 oom = 0, rc = -1;

	s = st(d, STMT_OUTBOX_ACCEPT);
	sqlite3_bind_int64(s, 1, id);
	bind_text(s, 2, wamid);
	sqlite3_bind_int64(s, 3, now_ms);
	if (run(d, STMT_OUTBOX_ACCEPT, __func__) != DB_OK)
		return -1;
	if (sqlite3_changes(d->h) == 0)
		return 0;
	s = st(d, STMT_OUTBOX_GET);
	sqlite3_bind_int64(s, 1, id);
	if (row(d, STMT_OUTBOX_GET, __func__) != 1)
		return -1;
	col_copy(s, 0, pnid, sizeof(pnid));
	col_copy(s, 1, recipient, sizeof(recipient));
	col_copy(s, 2, kind, sizeof(kind));
	text = col_dup(s, 3, &oom);
	reply = col_dup(s, 4, &oom);
	body = col_dup(s, 5, &oom);
	sqlite3_reset(s);
	if (oom)
		goto done;
	/* A read receipt is not a message; nor is a 200 without a wamid. */
	if (strcmp(kind, "read") == 0 || recipient[0] == '\0' ||
	    wamid == NULL) {
		rc = 0;
		goto done;
	}
	if ((contact = contact_ensure_out(d, pnid, recipient, now_s)) < 0 ||
	    (conv = conversation_ensure(d, pnid, contact)) < 0)
		goto done;
	s = st(d, STMT_MSG_OUT_INSERT);
	bind_text(s, 1, pnid);
	bind_text(s, 2, wamid);
	sqlite3_bind_int64(s, 3, conv);
	sqlite3_bind_int64(s, 4, contact);
	bind_text(s, 5, recipient);
	bind_text(s, 6, kind);
	bind_text(s, 7, text);
	bind_text(s, 8, reply);
	sqlite3_bind_int64(s, 9, now_s);
	bind_text(s, 10, body);
	if (run(d, STMT_MSG_OUT_INSERT, __func__) != DB_OK)
		goto done;
	if (sqlite3_changes(d->h) > 0) {
		msg = sqlite3_last_insert_rowid(d->h);
		if (run_id(d, STMT_OUTBOX_LINK, id, 1, msg, 0, __func__) == -1 ||
		    run_id(d, STMT_CONV_OUTBOUND, conv, 1, now_s, 0,
		    __func__) == -1)
			goto done;
	} else {
		/* An echo (reference 14.2) stored it first: one row, linked. */
		s = st(d, STMT_OUTBOX_LINK_WAMID);
		sqlite3_bind_int64(s, 1, id);
		bind_text(s, 2, wamid);
		if (run(d, STMT_OUTBOX_LINK_WAMID, __func__) != DB_OK)
			goto done;
	}
	rc = status_reconcile(d, wamid);
done:
	free(text);
	free(reply);
	free(body);
	return rc;
}

/*
 * Requeues rows left sending.  Only one worker runs (its lock), so at its
 * start every such row was orphaned by a crash: its lease is void.
 * Returns the number requeued or -1.
 */
int
db_outbox_recover(struct db *d, int64_t now_ms)
{
	sqlite3_stmt	*s = st(d, STMT_OUTBOX_RECOVER);
	int		 n;

	sqlite3_bind_int64(s, 1, now_ms);
	if (run(d, STMT_OUTBOX_RECOVER, __func__) != DB_OK)
		return -1;
	n = sqlite3_changes(d->h);
	/* Agent calls in flight likewise (they answer nobody twice: the
	 * reply is queued only when one answers). */
	(void)st(d, STMT_AGENT_RECOVER);
	if (run(d, STMT_AGENT_RECOVER, __func__) != DB_OK)
		return -1;
	return n;
}

/* Stores the body with the uploaded media id; the upload is done. */
int
db_outbox_set_body(struct db *d, int64_t id, const char *body)
{
	sqlite3_stmt *s = st(d, STMT_OUTBOX_SET_BODY);

	sqlite3_bind_int64(s, 1, id);
	bind_text(s, 2, body);
	return run(d, STMT_OUTBOX_SET_BODY, __func__) == DB_OK ? 0 : -1;
}

/*
 * Records an opt-out (out = 1) or opt-in at Meta time `at` for recipient,
 * unless a newer choice is already recorded.  0 or -1.
 */
int
db_opt_set(struct db *d, const char *pnid, const char *recipient, int out,
    int64_t at)
{
	int64_t id;

	if ((id = contact_ensure_out(d, pnid, recipient, at)) < 0)
		return -1;
	return run_id(d, STMT_OPT_SET, id, 2, out, at, __func__);
}

/* 1 with p filled when sending from pnid is paused, 0 when not, -1. */
int
db_sender_get(struct db *d, const char *pnid, struct db_pause *p)
{
	sqlite3_stmt	*s = st(d, STMT_SENDER_GET);
	int		 rc;

	memset(p, 0, sizeof(*p));
	bind_text(s, 1, pnid);
	if ((rc = row(d, STMT_SENDER_GET, __func__)) != 1)
		return rc;
	col_copy(s, 0, p->reason, sizeof(p->reason));
	p->code = sqlite3_column_int64(s, 1);
	p->resume_at = sqlite3_column_int64(s, 2);
	col_copy(s, 3, p->token_sha, sizeof(p->token_sha));
	sqlite3_reset(s);
	return 1;
}

int
db_sender_pause(struct db *d, const char *pnid, const char *reason,
    int64_t code, int64_t resume_at, const char *token_sha)
{
	sqlite3_stmt *s = st(d, STMT_SENDER_PAUSE);

	bind_text(s, 1, pnid);
	bind_text(s, 2, reason);
	sqlite3_bind_int64(s, 3, code);
	sqlite3_bind_int64(s, 4, (int64_t)time(NULL));
	bind_nz(s, 5, resume_at);
	bind_text(s, 6, token_sha);
	return run(d, STMT_SENDER_PAUSE, __func__) == DB_OK ? 0 : -1;
}

int
db_sender_resume(struct db *d, const char *pnid)
{
	sqlite3_stmt *s = st(d, STMT_SENDER_RESUME);

	bind_text(s, 1, pnid);
	sqlite3_bind_int64(s, 2, (int64_t)time(NULL));
	return run(d, STMT_SENDER_RESUME, __func__) == DB_OK ? 0 : -1;
}

/* Calls cb for every paused number (for /health).  0 or -1. */
int
db_sender_list(struct db *d, void (*cb)(void *, const char *, const char *,
    int64_t, int64_t, int64_t), void *arg)
{
	sqlite3_stmt	*s = st(d, STMT_SENDER_LIST);
	int		 rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		cb(arg, (const char *)sqlite3_column_text(s, 0),
		    (const char *)sqlite3_column_text(s, 1),
		    sqlite3_column_int64(s, 2), sqlite3_column_int64(s, 3),
		    sqlite3_column_int64(s, 4));
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		dberr(d, __func__, stmts[STMT_SENDER_LIST]);
		return -1;
	}
	return 0;
}

/* Up to max inbound media rows due; returns how many, or -1. */
int
db_media_due(struct db *d, int64_t now_ms, struct db_media_item *out,
    int max)
{
	sqlite3_stmt	*s = st(d, STMT_MEDIA_DUE);
	int		 n = 0, rc;

	sqlite3_bind_int64(s, 1, now_ms);
	sqlite3_bind_int(s, 2, max);
	while (n < max && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct db_media_item *it = &out[n++];

		memset(it, 0, sizeof(*it));
		it->id = sqlite3_column_int64(s, 0);
		col_copy(s, 1, it->pnid, sizeof(it->pnid));
		col_copy(s, 2, it->media_id, sizeof(it->media_id));
		col_copy(s, 3, it->sha, sizeof(it->sha));
		it->attempts = sqlite3_column_int(s, 4);
	}
	sqlite3_reset(s);
	return n;
}

int64_t
db_media_next_due(struct db *d, int64_t now)
{
	return next_due(d, STMT_MEDIA_NEXT_DUE, now, __func__);
}

int64_t
db_agent_next_due(struct db *d, int64_t now)
{
	return next_due(d, STMT_AGENT_NEXT_DUE, now, __func__);
}

/* Counts an attempt; if the worker dies, the row is due at retry_ms. */
int
db_media_claim(struct db *d, int64_t id, int64_t retry_ms)
{
	return run_id(d, STMT_MEDIA_CLAIM, id, 1, retry_ms, 0, __func__);
}

/*
 * Records a downloaded file on its media row.  1 stored, 0 when the row
 * is gone (its contact was erased during the download), -1 on error.
 */
int
db_media_stored(struct db *d, int64_t id, const char *mime, const char *sha,
    int64_t size, const char *path)
{
	sqlite3_stmt *s = st(d, STMT_MEDIA_STORED);

	sqlite3_bind_int64(s, 1, id);
	bind_text(s, 2, mime);
	bind_text(s, 3, sha);
	sqlite3_bind_int64(s, 4, size);
	bind_text(s, 5, path);
	sqlite3_bind_int64(s, 6, (int64_t)time(NULL));
	if (run(d, STMT_MEDIA_STORED, __func__) != DB_OK)
		return -1;
	return sqlite3_changes(d->h) > 0;
}

/* 1 when some media row names the file at path (relative), 0 not, -1. */
int
db_media_path_used(struct db *d, const char *path)
{
	sqlite3_stmt	*s = st(d, STMT_PATH_USED);
	int		 rc;

	bind_text(s, 1, path);
	rc = row(d, STMT_PATH_USED, __func__);
	sqlite3_reset(s);
	return rc;
}

/* Records a failed attempt: retried at next_ms, or failed for good. */
int
db_media_retry(struct db *d, int64_t id, int failed, int64_t next_ms,
    const char *error)
{
	sqlite3_stmt *s = st(d, STMT_MEDIA_RETRY);

	sqlite3_bind_int64(s, 1, id);
	bind_text(s, 2, failed ? "failed" : "pending");
	sqlite3_bind_int64(s, 3, next_ms);
	bind_text(s, 4, error);
	return run(d, STMT_MEDIA_RETRY, __func__) == DB_OK ? 0 : -1;
}

/* Records an uploaded file under the media id Meta gave it. */
int
db_media_out_insert(struct db *d, const char *pnid, const char *media_id,
    const char *mime, const char *sha, int64_t size)
{
	sqlite3_stmt *s = st(d, STMT_MEDIA_INSERT);

	bind_text(s, 1, pnid);
	bind_text(s, 2, media_id);
	bind_text(s, 3, "out");
	bind_text(s, 5, mime);
	bind_text(s, 6, sha);
	sqlite3_bind_int64(s, 7, size);
	bind_text(s, 9, "stored");
	sqlite3_bind_int64(s, 10, (int64_t)time(NULL));
	sqlite3_bind_int64(s, 11, (int64_t)time(NULL));
	return run(d, STMT_MEDIA_INSERT, __func__) == DB_OK ? 0 : -1;
}

/*
 * The chatbot's state for a contact: 1 with the fields filled (*vars from
 * malloc(), NULL when none), 0 when the contact has none yet, -1.
 */
int
db_bot_get(struct db *d, const char *pnid, int64_t contact, char *node,
    size_t nodesz, char **vars, int64_t *last, int *hinted)
{
	sqlite3_stmt	*s = st(d, STMT_BOT_GET);
	int		 rc, oom = 0;

	*vars = NULL;
	bind_text(s, 1, pnid);
	sqlite3_bind_int64(s, 2, contact);
	if ((rc = row(d, STMT_BOT_GET, __func__)) != 1)
		return rc;
	col_copy(s, 0, node, nodesz);
	*vars = col_dup(s, 1, &oom);
	*last = sqlite3_column_int64(s, 2);
	*hinted = sqlite3_column_int(s, 3);
	sqlite3_reset(s);
	return oom ? -1 : 1;
}

int
db_bot_set(struct db *d, const char *pnid, int64_t contact, const char *node,
    const char *vars, int64_t last, int hinted)
{
	sqlite3_stmt *s = st(d, STMT_BOT_SET);

	bind_text(s, 1, pnid);
	sqlite3_bind_int64(s, 2, contact);
	bind_text(s, 3, node);
	bind_text(s, 4, vars);
	sqlite3_bind_int64(s, 5, last);
	sqlite3_bind_int(s, 6, hinted);
	return run(d, STMT_BOT_SET, __func__) == DB_OK ? 0 : -1;
}

/*
 * Calls cb with each row of the statement k (already bound), its columns
 * as text.  Returns the number of rows, or -1.
 */
static int
each_row(struct db *d, enum stmt k, int ncols,
    void (*cb)(void *, const char *const *), void *arg, const char *fn)
{
	sqlite3_stmt	*s = d->s[k];
	const char	*cols[8];
	int		 n = 0, i, rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		for (i = 0; i < ncols && i < 8; i++)
			if ((cols[i] = (const char *)sqlite3_column_text(s,
			    i)) == NULL)
				cols[i] = "";
		cb(arg, cols);
		n++;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		dberr(d, fn, stmts[k]);
		return -1;
	}
	return n;
}

/*
 * One order of customer wa_id: cb receives (number, status, expected) once,
 * then lines receives (item, quantity) per line.  1 found, 0 not, -1.
 */
int
db_order_get(struct db *d, const char *pnid, const char *wa_id,
    const char *number, void (*cb)(void *, const char *const *),
    void (*lines)(void *, const char *const *), void *arg)
{
	sqlite3_stmt	*s = st(d, STMT_ORDER_GET);
	const char	*cols[3];
	int64_t		 id;
	int		 rc;

	bind_text(s, 1, pnid);
	bind_text(s, 2, wa_id);
	bind_text(s, 3, number);
	if ((rc = row(d, STMT_ORDER_GET, __func__)) != 1)
		return rc;
	id = sqlite3_column_int64(s, 0);
	cols[0] = (const char *)sqlite3_column_text(s, 1);
	cols[1] = (const char *)sqlite3_column_text(s, 2);
	cols[2] = (const char *)sqlite3_column_text(s, 3);
	cb(arg, cols);
	sqlite3_reset(s);
	s = st(d, STMT_ORDER_LINES);
	sqlite3_bind_int64(s, 1, id);
	return each_row(d, STMT_ORDER_LINES, 2, lines, arg, __func__) == -1 ?
	    -1 : 1;
}

/* The customer's latest orders: cb(number, status, expected).  n or -1. */
int
db_orders_recent(struct db *d, const char *pnid, const char *wa_id, int max,
    void (*cb)(void *, const char *const *), void *arg)
{
	sqlite3_stmt *s = st(d, STMT_ORDERS_RECENT);

	bind_text(s, 1, pnid);
	bind_text(s, 2, wa_id);
	sqlite3_bind_int(s, 3, max);
	return each_row(d, STMT_ORDERS_RECENT, 3, cb, arg, __func__);
}

/*
 * Schedule steps of the customer's orders between two days (YYYY-MM-DD,
 * inclusive), or of one order when number is not NULL:
 * cb(order, step, starts, ends).  n or -1.
 */
int
db_schedule(struct db *d, const char *pnid, const char *wa_id,
    const char *number, const char *from, const char *to,
    void (*cb)(void *, const char *const *), void *arg)
{
	enum stmt	 k = number != NULL ? STMT_SCHEDULE_ORDER :
			    STMT_SCHEDULE_RANGE;
	sqlite3_stmt	*s = st(d, k);

	bind_text(s, 1, pnid);
	bind_text(s, 2, wa_id);
	bind_text(s, 3, number != NULL ? number : from);
	if (number == NULL)
		bind_text(s, 4, to);
	return each_row(d, k, 4, cb, arg, __func__);
}

/* A ticket of customer wa_id: cb(number, state, category).  1, 0, -1. */
int
db_ticket_get(struct db *d, const char *pnid, const char *wa_id,
    const char *number, void (*cb)(void *, const char *const *), void *arg)
{
	sqlite3_stmt	*s = st(d, STMT_TICKET_GET);
	int		 n;

	bind_text(s, 1, pnid);
	bind_text(s, 2, wa_id);
	bind_text(s, 3, number);
	n = each_row(d, STMT_TICKET_GET, 3, cb, arg, __func__);
	return n < 0 ? -1 : n > 0;
}

/*
 * Files a ticket with its photos; its number ("T-" and the row id, six
 * digits at least) goes to number[0..sz).  0 or -1.
 */
int
db_ticket_insert(struct db *d, const char *pnid, int64_t contact,
    const char *wa_id, const char *category, const char *description,
    const char *const *media, size_t nmedia, char *number, size_t sz)
{
	sqlite3_stmt	*s = st(d, STMT_TICKET_INSERT);
	int64_t		 id;
	size_t		 i;

	bind_text(s, 1, pnid);
	sqlite3_bind_int64(s, 2, contact);
	bind_text(s, 3, wa_id);
	bind_text(s, 4, category);
	bind_text(s, 5, description);
	sqlite3_bind_int64(s, 6, (int64_t)time(NULL));
	if (run(d, STMT_TICKET_INSERT, __func__) != DB_OK)
		return -1;
	id = sqlite3_last_insert_rowid(d->h);
	if (snprintf(number, sz, "T-%06lld", (long long)id) >= (int)sz)
		return -1;
	s = st(d, STMT_TICKET_NUMBER);
	sqlite3_bind_int64(s, 1, id);
	bind_text(s, 2, number);
	if (run(d, STMT_TICKET_NUMBER, __func__) != DB_OK)
		return -1;
	for (i = 0; i < nmedia; i++) {
		s = st(d, STMT_TICKET_MEDIA);
		sqlite3_bind_int64(s, 1, id);
		bind_text(s, 2, media[i]);
		if (run(d, STMT_TICKET_MEDIA, __func__) != DB_OK)
			return -1;
	}
	return 0;
}

/* Counts one choice of option at node on day (YYYY-MM-DD).  0 or -1. */
int
db_choice_count(struct db *d, const char *pnid, const char *day,
    const char *node, const char *option)
{
	sqlite3_stmt *s = st(d, STMT_CHOICE_COUNT);

	bind_text(s, 1, pnid);
	bind_text(s, 2, day);
	bind_text(s, 3, node);
	bind_text(s, 4, option);
	return run(d, STMT_CHOICE_COUNT, __func__) == DB_OK ? 0 : -1;
}

/* Who answers the conversation, and until when (0 open-ended).  1, 0, -1. */
int
db_conv_assignee(struct db *d, const char *pnid, int64_t contact,
    char *who, size_t sz, int64_t *until)
{
	sqlite3_stmt	*s = st(d, STMT_CONV_ASSIGNEE);
	int		 rc;

	bind_text(s, 1, pnid);
	sqlite3_bind_int64(s, 2, contact);
	if ((rc = row(d, STMT_CONV_ASSIGNEE, __func__)) != 1)
		return rc;
	col_copy(s, 0, who, sz);
	*until = sqlite3_column_int64(s, 1);
	sqlite3_reset(s);
	return 1;
}

/* Hands the conversation to who (bot, person:..., agent:...).  0 or -1. */
int
db_conv_assign(struct db *d, const char *pnid, int64_t contact,
    const char *who, int64_t until)
{
	sqlite3_stmt *s = st(d, STMT_CONV_ASSIGN);

	bind_text(s, 1, pnid);
	sqlite3_bind_int64(s, 2, contact);
	bind_text(s, 3, who);
	bind_nz(s, 4, until);
	if (run(d, STMT_CONV_ASSIGN, __func__) != DB_OK)
		return -1;
	return sqlite3_changes(d->h) > 0 ? 0 : -1;
}

int
db_agent_insert(struct db *d, const char *pnid, int64_t contact,
    const char *recipient, const char *url, const char *body, int64_t now_ms)
{
	sqlite3_stmt *s = st(d, STMT_AGENT_INSERT);

	bind_text(s, 1, pnid);
	sqlite3_bind_int64(s, 2, contact);
	bind_text(s, 3, recipient);
	bind_text(s, 4, url);
	bind_text(s, 5, body);
	sqlite3_bind_int64(s, 6, now_ms);
	return run(d, STMT_AGENT_INSERT, __func__) == DB_OK ? 0 : -1;
}

/* Up to max agent calls due: fills out[] (clear each).  n or -1. */
int
db_agent_due(struct db *d, int64_t now_ms, struct db_agent_item *out, int max)
{
	sqlite3_stmt	*s = st(d, STMT_AGENT_DUE);
	int		 n = 0, rc, oom = 0;

	sqlite3_bind_int64(s, 1, now_ms);
	sqlite3_bind_int(s, 2, max);
	while (n < max && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct db_agent_item *it = &out[n++];

		memset(it, 0, sizeof(*it));
		it->id = sqlite3_column_int64(s, 0);
		col_copy(s, 1, it->pnid, sizeof(it->pnid));
		col_copy(s, 2, it->recipient, sizeof(it->recipient));
		it->url = col_dup(s, 3, &oom);
		it->body = col_dup(s, 4, &oom);
		it->attempts = sqlite3_column_int(s, 5);
	}
	sqlite3_reset(s);
	if (oom) {
		while (n > 0)
			db_agent_item_clear(&out[--n]);
		return -1;
	}
	return n;
}

void
db_agent_item_clear(struct db_agent_item *it)
{
	free(it->url);
	free(it->body);
	it->url = it->body = NULL;
}

int
db_agent_claim(struct db *d, int64_t id)
{
	if (run_id(d, STMT_AGENT_CLAIM, id, 0, 0, 0, __func__) == -1)
		return -1;
	return sqlite3_changes(d->h) > 0;
}

/* state: queued (retry at next_ms), answered or failed.  0 or -1. */
int
db_agent_finish(struct db *d, int64_t id, const char *state, int64_t next_ms,
    const char *error)
{
	sqlite3_stmt *s = st(d, STMT_AGENT_FINISH);

	sqlite3_bind_int64(s, 1, id);
	bind_text(s, 2, state);
	sqlite3_bind_int64(s, 3, next_ms);
	bind_text(s, 4, error);
	return run(d, STMT_AGENT_FINISH, __func__) == DB_OK ? 0 : -1;
}

/* Creates or updates an order; its row id in *id.  0 or -1. */
int
db_order_upsert(struct db *d, const char *pnid, const char *number,
    const char *wa_id, const char *status, const char *ordered_on,
    const char *expected, int64_t *id)
{
	sqlite3_stmt	*s = st(d, STMT_ORDER_UPSERT);
	int		 rc;

	bind_text(s, 1, pnid);
	bind_text(s, 2, number);
	bind_text(s, 3, wa_id);
	bind_text(s, 4, status);
	bind_text(s, 5, ordered_on);
	bind_text(s, 6, expected);
	sqlite3_bind_int64(s, 7, (int64_t)time(NULL));
	if ((rc = row(d, STMT_ORDER_UPSERT, __func__)) != 1)
		return -1;
	*id = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return 0;
}

int
db_order_line_upsert(struct db *d, int64_t order, int line, const char *item,
    const char *quantity)
{
	sqlite3_stmt *s = st(d, STMT_ORDER_LINE_UPSERT);

	sqlite3_bind_int64(s, 1, order);
	sqlite3_bind_int(s, 2, line);
	bind_text(s, 3, item);
	bind_text(s, 4, quantity);
	return run(d, STMT_ORDER_LINE_UPSERT, __func__) == DB_OK ? 0 : -1;
}

int
db_schedule_upsert(struct db *d, const char *pnid, const char *number,
    const char *step, const char *starts, const char *ends)
{
	sqlite3_stmt *s = st(d, STMT_SCHEDULE_UPSERT);

	bind_text(s, 1, pnid);
	bind_text(s, 2, number);
	bind_text(s, 3, step);
	bind_text(s, 4, starts);
	bind_text(s, 5, ends);
	return run(d, STMT_SCHEDULE_UPSERT, __func__) == DB_OK ? 0 : -1;
}

/* Forgets an order's lines before an import gives them anew. */
int
db_order_lines_clear(struct db *d, int64_t order)
{
	return run_id(d, STMT_ORDER_LINES_CLEAR, order, 0, 0, 0, __func__);
}

/*
 * The contact's latest messages, newest first:
 * cb(direction, type, text, timestamp).  n or -1.
 */
int
db_conv_history(struct db *d, const char *pnid, int64_t contact, int max,
    void (*cb)(void *, const char *const *), void *arg)
{
	sqlite3_stmt *s = st(d, STMT_CONV_HISTORY);

	bind_text(s, 1, pnid);
	sqlite3_bind_int64(s, 2, contact);
	sqlite3_bind_int(s, 3, max);
	return each_row(d, STMT_CONV_HISTORY, 4, cb, arg, __func__);
}

/* Creates an API key record.  DB_OK, DB_DUP (name taken) or DB_ERR. */
enum db_rc
db_apikey_insert(struct db *d, const char *name, const char *sha,
    const char *prefix, int read_only)
{
	sqlite3_stmt *s = st(d, STMT_APIKEY_INSERT);

	bind_text(s, 1, name);
	bind_text(s, 2, sha);
	bind_text(s, 3, prefix);
	sqlite3_bind_int(s, 4, read_only);
	sqlite3_bind_int64(s, 5, (int64_t)time(NULL));
	return run(d, STMT_APIKEY_INSERT, __func__);
}

/*
 * The live key whose digest is sha: 1 with *id and *read_only, 0 none,
 * -1.  The stored digest is compared again in constant time; its last
 * use is recorded at most once a minute (a write per request would
 * compete with webhooks for the lock).
 */
int
db_apikey_check(struct db *d, const char *sha, int64_t *id, int *read_only)
{
	sqlite3_stmt	*s = st(d, STMT_APIKEY_BY_HASH);
	const char	*got;
	int64_t		 last, now = (int64_t)time(NULL);
	int		 rc, same;

	bind_text(s, 1, sha);
	if ((rc = row(d, STMT_APIKEY_BY_HASH, __func__)) != 1)
		return rc;
	*id = sqlite3_column_int64(s, 0);
	got = (const char *)sqlite3_column_text(s, 1);
	same = got != NULL && sig_streq(got, strlen(got), sha, strlen(sha));
	*read_only = sqlite3_column_int(s, 2);
	last = sqlite3_column_int64(s, 3);
	sqlite3_reset(s);
	if (!same)
		return 0;
	if (now - last >= 60) {
		s = st(d, STMT_APIKEY_TOUCH);
		sqlite3_bind_int64(s, 1, *id);
		sqlite3_bind_int64(s, 2, now);
		(void)run(d, STMT_APIKEY_TOUCH, __func__);	/* best effort */
	}
	return 1;
}

/* cb(name, prefix, read_only, created, last_used, revoked) per key. */
int
db_apikey_list(struct db *d, void (*cb)(void *, const char *const *),
    void *arg)
{
	(void)st(d, STMT_APIKEY_LIST);
	return each_row(d, STMT_APIKEY_LIST, 6, cb, arg, __func__);
}

/* 1 revoked, 0 no such live key, -1. */
int
db_apikey_revoke(struct db *d, const char *name)
{
	sqlite3_stmt *s = st(d, STMT_APIKEY_REVOKE);

	bind_text(s, 1, name);
	sqlite3_bind_int64(s, 2, (int64_t)time(NULL));
	if (run(d, STMT_APIKEY_REVOKE, __func__) != DB_OK)
		return -1;
	return sqlite3_changes(d->h) > 0;
}

/*
 * Calls cb with every row of the bound statement k, typed, with every
 * column however wide the row (an export takes them all).  n or -1.
 */
static int
each_typed(struct db *d, enum stmt k, void (*cb)(void *, int,
    const char *const *, const struct db_val *), void *arg, const char *fn)
{
	sqlite3_stmt	*s = d->s[k];
	const char	*names_a[32], **names = names_a;
	struct db_val	 vals_a[32], *vals = vals_a;
	int		 n = 0, i, nc, rc;

	/*
	 * Count and names after the first step: a schema change (a
	 * migration, a trigger) re-prepares the statement inside it, which
	 * frees the names taken before and may change a SELECT *'s width.
	 */
	rc = sqlite3_step(s);
	nc = sqlite3_column_count(s);
	if (nc > 32 && ((names = reallocarray(NULL, (size_t)nc,
	    sizeof(*names))) == NULL || (vals = reallocarray(NULL, (size_t)nc,
	    sizeof(*vals))) == NULL)) {
		if (names != names_a)
			free(names);
		sqlite3_reset(s);
		log_warnx("%s: out of memory for %d columns", fn, nc);
		return -1;
	}
	for (i = 0; i < nc; i++)
		names[i] = sqlite3_column_name(s, i);
	for (; rc == SQLITE_ROW; rc = sqlite3_step(s)) {
		for (i = 0; i < nc; i++) {
			memset(&vals[i], 0, sizeof(vals[i]));
			switch (sqlite3_column_type(s, i)) {
			case SQLITE_INTEGER:
				vals[i].type = DB_VAL_INT;
				vals[i].i = sqlite3_column_int64(s, i);
				break;
			case SQLITE_FLOAT:
				vals[i].type = DB_VAL_REAL;
				vals[i].r = sqlite3_column_double(s, i);
				break;
			case SQLITE_NULL:
				vals[i].type = DB_VAL_NULL;
				break;
			default:
				vals[i].type = DB_VAL_TEXT;
				vals[i].s = (const char *)sqlite3_column_text(s,
				    i);
				vals[i].len = (size_t)sqlite3_column_bytes(s, i);
				break;
			}
		}
		cb(arg, nc, names, vals);
		n++;
	}
	sqlite3_reset(s);
	if (names != names_a) {
		free(names);
		free(vals);
	}
	if (rc != SQLITE_DONE) {
		dberr(d, fn, stmts[k]);
		return -1;
	}
	return n;
}

static void
bind_opt_text(sqlite3_stmt *s, int i, const char *v)
{
	(void)bind_text(s, i, v);
}

static void
bind_opt_int(sqlite3_stmt *s, int i, const int64_t *v)
{
	if (v != NULL)
		sqlite3_bind_int64(s, i, *v);
	else
		sqlite3_bind_null(s, i);
}

/* GET /messages: rows through cb, newest first.  n or -1. */
int
db_api_messages(struct db *d, const struct db_msg_filter *f, db_row_cb cb,
    void *arg)
{
	enum stmt	 k = f->q != NULL ? STMT_API_MESSAGES_Q :
			    f->conversation != NULL ? STMT_API_MESSAGES_CONV :
			    (f->since != NULL || f->until != NULL) &&
			    f->type == NULL && f->direction == NULL &&
			    f->status == NULL ? STMT_API_MESSAGES_WINDOW :
			    f->since != NULL || f->until != NULL ?
			    STMT_API_MESSAGES_TIME : STMT_API_MESSAGES;
	sqlite3_stmt	*s = st(d, k);

	bind_opt_int(s, 1, f->before);
	bind_opt_text(s, 2, f->pnid);
	bind_opt_text(s, 3, f->phone);
	bind_opt_int(s, 4, f->conversation);
	bind_opt_text(s, 5, f->type);
	bind_opt_text(s, 6, f->direction);
	bind_opt_text(s, 7, f->status);
	bind_opt_int(s, 8, f->since);
	bind_opt_int(s, 9, f->until);
	sqlite3_bind_int(s, 10, f->limit);
	if (k == STMT_API_MESSAGES_Q)
		bind_text(s, 11, f->q);
	return each_typed(d, k, cb, arg, __func__);
}

/* GET /conversations (id 0) or one conversation (id > 0).  n or -1. */
int
db_api_conversations(struct db *d, const char *pnid, int64_t id,
    const int64_t *before, const int64_t *unread, const char *assignee,
    const char *like, int limit, db_row_cb cb, void *arg)
{
	enum stmt	 k = id > 0 ? STMT_API_CONVERSATION :
			    STMT_API_CONVERSATIONS;
	sqlite3_stmt	*s = st(d, k);

	if (id > 0) {
		sqlite3_bind_int64(s, 1, id);
		bind_text(s, 2, pnid);
	} else {
		bind_opt_int(s, 1, before);
		bind_text(s, 2, pnid);
		bind_opt_int(s, 3, unread);
		bind_opt_text(s, 4, assignee);
		sqlite3_bind_int(s, 5, limit);
		bind_opt_text(s, 6, like);
	}
	return each_typed(d, k, cb, arg, __func__);
}

/* GET /outbox/{id}.  n (0 or 1) or -1. */
int
db_api_outbox(struct db *d, const char *pnid, int64_t id, db_row_cb cb,
    void *arg)
{
	sqlite3_stmt *s = st(d, STMT_API_OUTBOX);

	sqlite3_bind_int64(s, 1, id);
	bind_text(s, 2, pnid);
	return each_typed(d, STMT_API_OUTBOX, cb, arg, __func__);
}

/* GET /outbox.  n or -1. */
int
db_api_outbox_list(struct db *d, const char *pnid, const int64_t *before,
    const char *state, int limit, db_row_cb cb, void *arg)
{
	sqlite3_stmt *s = st(d, STMT_API_OUTBOX_LIST);

	bind_opt_int(s, 1, before);
	bind_text(s, 2, pnid);
	bind_opt_text(s, 3, state);
	sqlite3_bind_int(s, 4, limit);
	return each_typed(d, STMT_API_OUTBOX_LIST, cb, arg, __func__);
}

/*
 * POST /outbox/{id}/retry (a failed row, retry 1) or DELETE (a queued
 * row, retry 0).  1 done, 0 the row is not in that state, -1.
 */
int
db_api_outbox_change(struct db *d, const char *pnid, int64_t id, int retry)
{
	enum stmt	 k = retry ? STMT_API_OUTBOX_RETRY : STMT_API_OUTBOX_CANCEL;
	sqlite3_stmt	*s = st(d, k);

	sqlite3_bind_int64(s, 1, id);
	bind_text(s, 2, pnid);
	if (retry)
		sqlite3_bind_int64(s, 3, clock_now_ms());
	if (run(d, k, __func__) != DB_OK)
		return -1;
	return sqlite3_changes(d->h) > 0;
}

/* GET /webhook-events (id 0) or one entry with its body.  n or -1. */
int
db_api_events(struct db *d, int64_t id, const int64_t *before,
    const char *state, int limit, db_row_cb cb, void *arg)
{
	enum stmt	 k = id > 0 ? STMT_API_EVENT : STMT_API_EVENTS;
	sqlite3_stmt	*s = st(d, k);

	if (id > 0)
		sqlite3_bind_int64(s, 1, id);
	else {
		bind_opt_int(s, 1, before);
		bind_opt_text(s, 2, state);
		sqlite3_bind_int(s, 3, limit);
	}
	return each_typed(d, k, cb, arg, __func__);
}

/* POST /webhook-events/{id}/replay: 1 pending again, 0 not found or purged. */
int
db_api_event_replay(struct db *d, int64_t id)
{
	if (run_id(d, STMT_API_EVENT_REPLAY, id, 0, 0, 0, __func__) == -1)
		return -1;
	return sqlite3_changes(d->h) > 0;
}

/* GET /status counters for pnid.  n or -1. */
int
db_api_status(struct db *d, const char *pnid, db_row_cb cb, void *arg)
{
	sqlite3_stmt *s = st(d, STMT_API_STATUS);

	bind_text(s, 1, pnid);
	return each_typed(d, STMT_API_STATUS, cb, arg, __func__);
}

/*
 * PATCH /conversations/{id}: each field is changed only when its set flag
 * is on (a NULL value clears it).  1 changed, 0 no such conversation, -1.
 */
int
db_api_conv_patch(struct db *d, const char *pnid, int64_t id,
    const struct db_conv_patch *p)
{
	sqlite3_stmt *s = st(d, STMT_API_CONV_PATCH);

	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int(s, 2, p->set_notes);
	bind_text(s, 3, p->notes);
	sqlite3_bind_int(s, 4, p->set_email);
	bind_text(s, 5, p->email);
	sqlite3_bind_int(s, 6, p->set_labels);
	bind_text(s, 7, p->labels);
	sqlite3_bind_int(s, 8, p->set_assignee);
	bind_text(s, 9, p->assignee != NULL ? p->assignee : "bot");
	bind_text(s, 10, pnid);
	if (run(d, STMT_API_CONV_PATCH, __func__) != DB_OK)
		return -1;
	return sqlite3_changes(d->h) > 0;
}

/*
 * POST /mark-read: unread to zero; the newest inbound wamid and the
 * customer's wa_id into the buffers (empty when none).  1, 0 none, -1.
 */
int
db_api_conv_read(struct db *d, const char *pnid, int64_t id, char *wamid,
    size_t wsz, char *wa_id, size_t asz)
{
	sqlite3_stmt	*s = st(d, STMT_API_CONV_READ);
	int		 rc;

	sqlite3_bind_int64(s, 1, id);
	bind_text(s, 2, pnid);
	if (run(d, STMT_API_CONV_READ, __func__) != DB_OK)
		return -1;
	if (sqlite3_changes(d->h) == 0)
		return 0;
	wamid[0] = wa_id[0] = '\0';
	s = st(d, STMT_API_LAST_INBOUND);
	sqlite3_bind_int64(s, 1, id);
	bind_text(s, 2, pnid);
	if ((rc = row(d, STMT_API_LAST_INBOUND, __func__)) == 1) {
		col_copy(s, 0, wamid, wsz);
		col_copy(s, 1, wa_id, asz);
		sqlite3_reset(s);
	}
	return rc == -1 ? -1 : 1;
}

/* The conversation with customer wa_id: its id, 0 none, -1. */
int64_t
db_api_conv_by_phone(struct db *d, const char *pnid, const char *wa_id)
{
	sqlite3_stmt	*s = st(d, STMT_API_CONV_BY_PHONE);
	int64_t		 id;
	int		 rc;

	bind_text(s, 1, pnid);
	bind_text(s, 2, wa_id);
	if ((rc = row(d, STMT_API_CONV_BY_PHONE, __func__)) != 1)
		return rc;
	id = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return id;
}

/*
 * Copies the database to path while the gateway runs (SQLite's online
 * backup: a consistent snapshot, retried while writers hold the lock),
 * checks the copy with integrity_check, and renames it into place only
 * then.  Returns 0, or -1 with the reason logged and no file at path.
 */
int
db_backup(struct db *d, const char *path)
{
	sqlite3		*to = NULL;
	sqlite3_backup	*b;
	sqlite3_stmt	*s = NULL;
	char		 tmp[4200];
	const char	*res;
	int		 rc = -1, step;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -1;
	(void)unlink(tmp);
	if (sqlite3_open_v2(tmp, &to, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		log_warnx("%s: %s: %s", __func__, tmp, to != NULL ?
		    sqlite3_errmsg(to) : "out of memory");
		goto done;
	}
	if ((b = sqlite3_backup_init(to, "main", d->h, "main")) == NULL) {
		log_warnx("%s: %s", __func__, sqlite3_errmsg(to));
		goto done;
	}
	/* 256 pages at a time, so writers are never held off for long. */
	while ((step = sqlite3_backup_step(b, 256)) == SQLITE_OK ||
	    step == SQLITE_BUSY || step == SQLITE_LOCKED)
		if (step != SQLITE_OK)
			sqlite3_sleep(10);
	if (sqlite3_backup_finish(b) != SQLITE_OK || step != SQLITE_DONE) {
		log_warnx("%s: backup failed: %s", __func__,
		    sqlite3_errmsg(to));
		goto done;
	}
	if (sqlite3_prepare_v2(to, "PRAGMA integrity_check", -1, &s, NULL) !=
	    SQLITE_OK || sqlite3_step(s) != SQLITE_ROW ||
	    (res = (const char *)sqlite3_column_text(s, 0)) == NULL ||
	    strcmp(res, "ok") != 0) {
		log_warnx("%s: the copy fails integrity_check", __func__);
		goto done;
	}
	rc = 0;
done:
	sqlite3_finalize(s);
	if (to != NULL && sqlite3_close(to) != SQLITE_OK)
		rc = -1;
	if (rc == 0 && rename(tmp, path) == -1) {
		log_warn("%s: rename %s", __func__, path);
		rc = -1;
	}
	if (rc == -1)
		(void)unlink(tmp);
	return rc;
}

/* GET /contacts (wa_id NULL) or one contact.  n or -1. */
int
db_api_contacts(struct db *d, const char *pnid, const char *wa_id,
    const int64_t *before, const char *like, const int64_t *opted_out,
    int limit, db_row_cb cb, void *arg)
{
	enum stmt	 k = wa_id != NULL ? STMT_API_CONTACT : STMT_API_CONTACTS;
	sqlite3_stmt	*s = st(d, k);

	if (wa_id != NULL) {
		bind_text(s, 1, pnid);
		bind_text(s, 2, wa_id);
	} else {
		bind_opt_int(s, 1, before);
		bind_text(s, 2, pnid);
		bind_opt_text(s, 3, like);
		bind_opt_int(s, 4, opted_out);
		sqlite3_bind_int(s, 5, limit);
	}
	return each_typed(d, k, cb, arg, __func__);
}

/* Progress handler: interrupts the statement once the budget is spent. */
static int
budget_check(void *arg)
{
	struct db *d = arg;

	if (clock_mono_us() < d->budget_end_us)
		return 0;
	d->budget_hit = 1;
	return 1;
}

/*
 * Gives what follows until db_budget_end() ms milliseconds of the
 * database: a statement still running then is interrupted (SQLITE_
 * INTERRUPT, its transaction rolled back) and db_budget_spent() says so.
 * For the management API, so a costly query cannot hold a responder.
 */
void
db_budget_begin(struct db *d, long ms)
{
	d->budget_hit = 0;
	d->budget_end_us = clock_mono_us() + (int64_t)ms * 1000;
	/* About every 50 us of work: the clock is cheap next to that. */
	sqlite3_progress_handler(d->h, 1000, budget_check, d);
}

/* Lifts the budget of db_budget_begin(). */
void
db_budget_end(struct db *d)
{
	sqlite3_progress_handler(d->h, 0, NULL, NULL);
}

/* 1 when the budget interrupted a statement since db_budget_begin(). */
int
db_budget_spent(const struct db *d)
{
	return d->budget_hit;
}

/*
 * One part of everything held about a contact (GET .../export), every
 * column of every row: part is 0 conversations, 1 messages, 2 statuses,
 * 3 media, 4 tickets, 5 outbox, 6 the contacts row, 7 agent requests,
 * 8 bot state, 9 orders, 10 order lines, 11 journal entries whose body
 * names the contact, 12 webhook errors and 13 subscription events that
 * name them.  n or -1.
 */
int
db_api_export(struct db *d, const char *pnid, int64_t contact,
    const char *wa_id, int part, db_row_cb cb, void *arg)
{
	static const enum stmt parts[] = { STMT_EXPORT_CONVERSATIONS,
	    STMT_EXPORT_MESSAGES, STMT_EXPORT_STATUSES, STMT_EXPORT_MEDIA,
	    STMT_EXPORT_TICKETS, STMT_EXPORT_OUTBOX, STMT_EXPORT_CONTACT,
	    STMT_EXPORT_AGENT, STMT_EXPORT_BOT, STMT_EXPORT_ORDERS,
	    STMT_EXPORT_ORDER_LINES, STMT_EXPORT_EVENTS,
	    STMT_EXPORT_WEBHOOK_ERRORS, STMT_EXPORT_SUBSCRIPTIONS };
	sqlite3_stmt	*s;
	int		 n;

	if (part < 0 || part >= (int)(sizeof(parts) / sizeof(parts[0])))
		return -1;
	s = st(d, parts[part]);
	n = sqlite3_bind_parameter_count(s);
	sqlite3_bind_int64(s, 1, contact);
	if (n >= 2)
		bind_text(s, 2, wa_id);
	if (n >= 3)
		bind_text(s, 3, pnid);
	return each_typed(d, parts[part], cb, arg, __func__);
}

/*
 * Appends the first column of every row of the bound statement k to
 * files, each NUL-terminated.  0 or -1.
 */
static int
collect_paths(struct db *d, enum stmt k, struct buf *files)
{
	sqlite3_stmt	*s = d->s[k];
	int		 rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if (buf_puts(files, (const char *)sqlite3_column_text(s, 0)) ==
		    -1 || buf_append(files, "", 1) == -1)
			break;
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		dberr(d, __func__, stmts[k]);
		return -1;
	}
	return 0;
}

/*
 * Names through cb every path in files that no media row uses any more:
 * files are content-addressed, so another message may share one.
 */
static void
release_paths(struct db *d, const struct buf *files,
    void (*cb)(void *, const char *), void *arg)
{
	sqlite3_stmt	*s;
	size_t		 off;
	int		 rc;

	for (off = 0; off < files->len; off += strlen(files->p + off) + 1) {
		s = st(d, STMT_PATH_USED);
		bind_text(s, 1, files->p + off);
		rc = sqlite3_step(s);
		sqlite3_reset(s);
		if (rc == SQLITE_DONE)
			cb(arg, files->p + off);
	}
}

/*
 * Journal entries between after and upto (ids) whose body names wa_id or
 * user_id as a JSON string, appended to ids (int64_t each).  0 or -1.
 */
static int
erase_find_bodies(struct db *d, int64_t after, int64_t upto,
    const char *wa_id, const char *user_id, struct buf *ids)
{
	sqlite3_stmt	*s = st(d, STMT_ERASE_FIND_BODIES);
	int64_t		 id;
	int		 rc;

	sqlite3_bind_int64(s, 1, after);
	sqlite3_bind_int64(s, 2, upto);
	bind_text(s, 3, wa_id);
	bind_text(s, 4, user_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		id = sqlite3_column_int64(s, 0);
		if (buf_append(ids, &id, sizeof(id)) == -1)
			break;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		dberr(d, __func__, stmts[STMT_ERASE_FIND_BODIES]);
		return -1;
	}
	return 0;
}

/*
 * Erases a contact for a privacy request: statuses, outbox rows, tickets,
 * agent calls, bot state, orders, the raw items of webhook errors and
 * subscription events that name them, every journal body that names them
 * (an entry not yet applied is settled as failed, so the worker cannot
 * bring the contact back), then the contact (conversations, messages and
 * media rows cascade).  The journal is searched first without the write
 * lock (it can be large; webhooks must not wait behind it), then again
 * under it for what arrived meanwhile; everything else is one
 * transaction.  Media files no other row uses are named through file_cb
 * after the commit, for the caller to unlink.  A download in flight
 * lands on no row: purge_run() removes such orphans.  1 erased, 0 no
 * such contact, -1 (nothing changed).
 */
int
db_api_erase(struct db *d, const char *pnid, const char *wa_id,
    void (*file_cb)(void *, const char *), void *arg)
{
	static const enum stmt steps[] = { STMT_ERASE_BODIES,
	    STMT_ERASE_STATUSES, STMT_ERASE_OUTBOX, STMT_ERASE_TICKETS,
	    STMT_ERASE_AGENT, STMT_ERASE_BOT, STMT_ERASE_ERRORS,
	    STMT_ERASE_SUBSCRIPTIONS, STMT_ERASE_ORDERS, STMT_ERASE_MESSAGES,
	    STMT_ERASE_CONTACT };
	sqlite3_stmt	*s;
	struct buf	 paths, ids;
	char		*user_id = NULL;
	int64_t		 contact, last, id;
	size_t		 i;
	int		 n, r;

	buf_init(&paths);
	buf_init(&ids);
	s = st(d, STMT_ERASE_WHO);
	bind_text(s, 1, pnid);
	bind_text(s, 2, wa_id);
	if ((r = row(d, STMT_ERASE_WHO, __func__)) != 1)
		return r == 0 ? 0 : -1;
	if (sqlite3_column_type(s, 1) != SQLITE_NULL && (user_id =
	    strdup((const char *)sqlite3_column_text(s, 1))) == NULL) {
		sqlite3_reset(s);
		return -1;
	}
	sqlite3_reset(s);
	if (row(d, STMT_ERASE_LAST_EVENT, __func__) != 1)
		goto out;
	last = sqlite3_column_int64(st(d, STMT_ERASE_LAST_EVENT), 0);
	sqlite3_reset(st(d, STMT_ERASE_LAST_EVENT));
	if (erase_find_bodies(d, 0, last, wa_id, user_id, &ids) == -1)
		goto out;
	if (db_begin(d) != DB_OK)
		goto out;
	if ((contact = contact_find(d, pnid, wa_id, NULL)) <= 0) {
		db_rollback(d);
		buf_clear(&ids);
		free(user_id);
		return contact == 0 ? 0 : -1;
	}
	if (erase_find_bodies(d, last, INT64_MAX, wa_id, user_id, &ids) == -1)
		goto fail;
	for (i = 0; i + sizeof(id) <= ids.len; i += sizeof(id)) {
		memcpy(&id, ids.p + i, sizeof(id));
		if (run_id(d, STMT_ERASE_BODY, id, 0, 0, 0, __func__) == -1)
			goto fail;
	}
	s = st(d, STMT_ERASE_PATHS);
	sqlite3_bind_int64(s, 1, contact);
	if (collect_paths(d, STMT_ERASE_PATHS, &paths) == -1)
		goto fail;
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		s = st(d, steps[i]);
		n = sqlite3_bind_parameter_count(s);
		sqlite3_bind_int64(s, 1, contact);
		if (n >= 2)
			bind_text(s, 2, wa_id);
		if (n >= 3)
			bind_text(s, 3, pnid);
		if (run(d, steps[i], __func__) != DB_OK)
			goto fail;
	}
	if (db_commit(d) == -1)
		goto fail;
	release_paths(d, &paths, file_cb, arg);
	buf_clear(&paths);
	buf_clear(&ids);
	free(user_id);
	return 1;
fail:
	db_rollback(d);
out:
	buf_clear(&paths);
	buf_clear(&ids);
	free(user_id);
	return -1;
}

/*
 * GET /stats parts between since and until (unix seconds): 0 volume by
 * day, direction, type and status; 1 contacts; 2 reply delays (one row
 * per customer message, seconds or NULL); 3 failures by Meta code; 4 the
 * most chosen menu options.  n or -1.
 */
int
db_api_stats(struct db *d, const char *pnid, int64_t since, int64_t until,
    int part, db_row_cb cb, void *arg)
{
	static const enum stmt parts[] = { STMT_STATS_VOLUME,
	    STMT_STATS_CONTACTS, STMT_STATS_REPLY, STMT_STATS_FAILURES,
	    STMT_STATS_CHOICES };
	sqlite3_stmt *s;

	if (part < 0 || part >= (int)(sizeof(parts) / sizeof(parts[0])))
		return -1;
	s = st(d, parts[part]);
	bind_text(s, 1, pnid);
	sqlite3_bind_int64(s, 2, since);
	sqlite3_bind_int64(s, 3, until);
	return each_typed(d, parts[part], cb, arg, __func__);
}

/* GET /metrics parts: 0 journal by state, 1 outbox by state, 2 sends. */
int
db_api_metrics(struct db *d, const char *pnid, int part, db_row_cb cb,
    void *arg)
{
	static const enum stmt parts[] = { STMT_METRICS_EVENTS,
	    STMT_METRICS_OUTBOX, STMT_METRICS_SENDS };
	sqlite3_stmt *s;

	if (part < 0 || part >= (int)(sizeof(parts) / sizeof(parts[0])))
		return -1;
	s = st(d, parts[part]);
	if (sqlite3_bind_parameter_count(s) >= 1)
		bind_text(s, 1, pnid);
	return each_typed(d, parts[part], cb, arg, __func__);
}

/*
 * Retention: what is older than cutoff goes, at most limit rows in one
 * transaction.  what: 0 journal bodies (cutoff unix ms), 1 messages (unix
 * seconds, their media rows cascade), 2 media files (unix ms), and with
 * the messages' cutoff (unix seconds) what else holds their words or
 * their customers' numbers: 3 statuses, 4 finished outbox rows, 5
 * finished agent calls, 6 webhook errors, 7 subscription events, 8
 * settled journal bodies.  dry only counts.  Files no row uses any more
 * are named through file_cb after the commit.  Returns the number of
 * rows (that would go), or -1.
 */
int64_t
db_purge(struct db *d, int what, int64_t cutoff, int limit, int dry,
    void (*file_cb)(void *, const char *), void *arg)
{
	static const enum stmt counts[] = { STMT_PURGE_BODIES_COUNT,
	    STMT_PURGE_MESSAGES_COUNT, STMT_PURGE_MEDIA_COUNT,
	    STMT_PURGE_STATUSES_COUNT, STMT_PURGE_OUTBOX_COUNT,
	    STMT_PURGE_AGENT_COUNT, STMT_PURGE_ERRORS_COUNT,
	    STMT_PURGE_SUBSCRIPTIONS_COUNT, STMT_PURGE_OLD_BODIES_COUNT };
	static const enum stmt paths[] = { STMT__MAX,
	    STMT_PURGE_MESSAGES_PATHS, STMT_PURGE_MEDIA_PATHS, STMT__MAX,
	    STMT__MAX, STMT__MAX, STMT__MAX, STMT__MAX, STMT__MAX };
	static const enum stmt purges[] = { STMT_PURGE_BODIES,
	    STMT_PURGE_MESSAGES, STMT_PURGE_MEDIA, STMT_PURGE_STATUSES,
	    STMT_PURGE_OUTBOX, STMT_PURGE_AGENT, STMT_PURGE_ERRORS,
	    STMT_PURGE_SUBSCRIPTIONS, STMT_PURGE_OLD_BODIES };
	sqlite3_stmt	*s;
	struct buf	 files;
	int64_t		 n;

	if (what < 0 || what >= DB_PURGE__MAX)
		return -1;
	if (dry) {
		s = st(d, counts[what]);
		sqlite3_bind_int64(s, 1, cutoff);
		if (row(d, counts[what], __func__) != 1)
			return -1;
		n = sqlite3_column_int64(s, 0);
		sqlite3_reset(s);
		return n;
	}
	buf_init(&files);
	if (db_begin(d) != DB_OK)
		return -1;
	if (paths[what] != STMT__MAX) {
		s = st(d, paths[what]);
		sqlite3_bind_int64(s, 1, cutoff);
		sqlite3_bind_int(s, 2, limit);
		if (collect_paths(d, paths[what], &files) == -1)
			goto fail;
	}
	s = st(d, purges[what]);
	sqlite3_bind_int64(s, 1, cutoff);
	sqlite3_bind_int(s, 2, limit);
	if (run(d, purges[what], __func__) != DB_OK)
		goto fail;
	n = sqlite3_changes(d->h);
	if (db_commit(d) == -1)
		goto fail;
	release_paths(d, &files, file_cb, arg);
	buf_clear(&files);
	return n;
fail:
	db_rollback(d);
	buf_clear(&files);
	return -1;
}

/*
 * Every media path a row still names, sorted (binary collation, so
 * strcmp() order), each NUL-terminated, appended to files.  0 or -1.
 */
int
db_media_paths(struct db *d, struct buf *files)
{
	(void)st(d, STMT_MEDIA_PATHS);
	return collect_paths(d, STMT_MEDIA_PATHS, files);
}

/*
 * The span of ids the next chunk of at most max messages covers: *from
 * (indexed so far) to *upto, equal when nothing is left.  0 or -1.
 */
static int
search_span(struct db *d, int max, int64_t *from, int64_t *upto)
{
	sqlite3_stmt *s = st(d, STMT_SEARCH_UPTO);

	sqlite3_bind_int(s, 1, max);
	if (row(d, STMT_SEARCH_UPTO, __func__) != 1)
		return -1;
	*from = sqlite3_column_int64(s, 0);
	*upto = sqlite3_column_type(s, 1) == SQLITE_NULL ? *from :
	    sqlite3_column_int64(s, 1);
	sqlite3_reset(s);
	return 0;
}

/*
 * Adds up to max of the newest unindexed messages to the search index,
 * in one transaction.  Looks first without the write lock: the worker
 * calls this on every pass, and most passes have nothing to index.
 * Returns how many ids it covered (0: none left), or -1.
 */
int
db_search_index(struct db *d, int max)
{
	int64_t from, upto;

	if (search_span(d, max, &from, &upto) == -1)
		return -1;
	if (upto == from)
		return 0;
	if (db_begin(d) != DB_OK)
		return -1;
	/* Again under the lock: nothing else indexes, but be exact. */
	if (search_span(d, max, &from, &upto) == -1)
		goto fail;
	if (upto > from && (run_id(d, STMT_SEARCH_INDEX, from, 1, upto, 0,
	    __func__) == -1 || run_id(d, STMT_SEARCH_DONE, upto, 0, 0, 0,
	    __func__) == -1))
		goto fail;
	if (db_commit(d) == -1)
		return -1;
	return (int)(upto - from);
fail:
	db_rollback(d);
	return -1;
}

/*
 * How many inbound media files of the conversation of media row id sent
 * at or after since (unix seconds) are stored or wait before it, for
 * WA_MEDIA_MAX_PER_CONTACT_DAY.  Returns the count, or -1.
 */
int64_t
db_media_contact_recent(struct db *d, int64_t id, int64_t since)
{
	sqlite3_stmt	*s = st(d, STMT_MEDIA_CONTACT_RECENT);
	int64_t		 n;

	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, since);
	if (row(d, STMT_MEDIA_CONTACT_RECENT, __func__) != 1)
		return -1;
	n = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return n;
}
