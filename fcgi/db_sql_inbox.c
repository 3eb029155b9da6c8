/*
 * db_sql_inbox.c: the SQL statements of what the inbox adds to
 * conversations: its chat list, labels, notes, activity and change cursor
 * (db_inbox.c), in a table indexed by enum stmt like db_sql.c's (db_open()
 * refuses a slot none or two fill).
 */
#include <sqlite3.h>

#include "db.h"
#include "db_int.h"

/* The numbers a call covers: a JSON array of phone_number_ids (db_api.c). */
#define IN_SET(col, n)	col " IN (SELECT value FROM json_each(?" n ")) "

/* The conversation ids of the outbox rows of a subquery o (recipient). */
#define OUTBOX_CONV \
	"SELECT v.id FROM contacts c JOIN conversations v ON " \
	"v.phone_number_id = c.phone_number_id AND v.contact_id = c.id " \
	"WHERE c.phone_number_id = o.phone_number_id AND c.wa_id = o.recipient"

const char *const dbi_sql_inbox[STMT__MAX] = {
	[STMT_BEGIN] = NULL,	/* db_sql.c's; the table's own follow */
	/*
	 * GET /chats for one number (db_inbox_chats() merges the numbers):
	 * newest message first, keyset on (last_message_at, id).  The
	 * planner walks conversations_last (phone_number_id,
	 * last_message_at, rowid) backwards from the cursor and stops at
	 * ?11 rows: no sort, no scan (EXPLAIN QUERY PLAN: SEARCH v USING
	 * INDEX conversations_last (phone_number_id=? AND
	 * last_message_at<?)).  The preview is the conversation's newest
	 * message through messages_conversation (conversation_id,
	 * timestamp, rowid): one index seek a row.  A conversation
	 * without a message yet (last_message_at NULL) is not a chat.
	 */
	[STMT_INBOX_CHATS] =
	"SELECT v.id, v.phone_number_id, c.wa_id, "
	    "coalesce(c.saved_name, c.profile_name) AS name, v.unread_count, "
	    "v.last_message_at, m.id AS preview_id, "
	    "m.direction AS preview_direction, m.type AS preview_type, "
	    "substr(m.text, 1, 120) AS preview_text, "
	    "m.status AS preview_status, v.assignee, "
	    "CASE WHEN v.assignee GLOB 'person:?*' THEN coalesce((SELECT "
	    "coalesce(u.display_name, u.name) FROM users u WHERE u.name = "
	    "substr(v.assignee, 8)), substr(v.assignee, 8)) END AS "
	    "assignee_name, coalesce(v.labels, '[]') AS labels, "
	    "v.window_expires_at, coalesce(v.window_expires_at > ?2, 0) AS "
	    "window_open, c.opted_out "
	    "FROM conversations v JOIN contacts c ON c.id = v.contact_id "
	    "LEFT JOIN messages m ON m.id = (SELECT id FROM messages INDEXED BY "
	    "messages_conversation WHERE conversation_id = v.id ORDER BY "
	    "timestamp DESC, id DESC LIMIT 1) "
	    "WHERE v.phone_number_id = ?1 AND v.last_message_at <= ?3 AND "
	    "(v.last_message_at < ?3 OR v.id < ?4) "
	    "AND (?5 IS NULL OR (?5 = 1) = (v.unread_count > 0)) "
	    "AND (?6 IS NULL OR v.assignee = ?6) "
	    "AND (?7 IS NULL OR (?7 = 'bot' AND v.assignee = 'bot') OR "
	    "(?7 = 'person' AND (v.assignee = 'person' OR v.assignee GLOB "
	    "'person:*')) OR (?7 = 'unassigned' AND v.assignee = 'person') OR "
	    "(?7 = 'agent' AND v.assignee GLOB 'agent:*')) "
	    "AND (?8 IS NULL OR EXISTS (SELECT 1 FROM json_each(v.labels) "
	    "WHERE value = ?8)) "
	    "AND (?9 IS NULL OR c.wa_id LIKE ?9 ESCAPE '\\' OR "
	    "c.profile_name LIKE ?9 ESCAPE '\\' OR c.saved_name LIKE ?9 "
	    "ESCAPE '\\' OR c.username LIKE ?9 ESCAPE '\\' OR v.labels LIKE "
	    "?9 ESCAPE '\\' OR v.notes LIKE ?9 ESCAPE '\\' OR EXISTS (SELECT "
	    "1 FROM conversation_notes n WHERE n.conversation_id = v.id AND "
	    "n.text LIKE ?9 ESCAPE '\\')) "
	    "AND (?10 IS NULL OR (?10 = 'open') = "
	    "(coalesce(v.window_expires_at, 0) > ?2)) "
	    "ORDER BY v.last_message_at DESC, v.id DESC LIMIT ?11",
	/*
	 * The change cursor's high-water marks (db_inbox.c explains): each
	 * a max(rowid) or, for failed sends, the end of outbox_state's
	 * 'failed' range: one seek each.
	 */
	[STMT_INBOX_MARKS] =
	"SELECT coalesce((SELECT max(id) FROM messages), 0), "
	    "coalesce((SELECT max(id) FROM message_statuses), 0), "
	    "coalesce((SELECT max(id) FROM outbox), 0), "
	    "coalesce((SELECT max(id) FROM outbox WHERE state = 'failed'), 0), "
	    "coalesce((SELECT max(id) FROM activity), 0), "
	    "coalesce((SELECT max(id) FROM message_edits), 0)",
	/*
	 * The conversations touched between two sets of marks: each arm
	 * reads the rowid range (old, new] of its table, at most ?14 rows
	 * (newest), and finds the conversation by an index (a status and
	 * an edit by messages.wamid, an outbox row by contacts_wa_id and
	 * the conversations' unique key).  Nothing new: six empty seeks.
	 */
	[STMT_INBOX_CHANGES] =
	"WITH ch(cid) AS ("
	    "SELECT conversation_id FROM (SELECT conversation_id FROM messages "
	    "WHERE id > ?1 AND id <= ?2 ORDER BY id DESC LIMIT ?14) "
	    "UNION SELECT m.conversation_id FROM (SELECT wamid FROM "
	    "message_statuses WHERE id > ?3 AND id <= ?4 ORDER BY id DESC "
	    "LIMIT ?14) s JOIN messages m ON m.wamid = s.wamid "
	    "UNION SELECT (" OUTBOX_CONV ") FROM (SELECT phone_number_id, "
	    "recipient FROM outbox WHERE id > ?5 AND id <= ?6 ORDER BY id DESC "
	    "LIMIT ?14) o "
	    "UNION SELECT (" OUTBOX_CONV ") FROM (SELECT phone_number_id, "
	    "recipient FROM outbox WHERE state = 'failed' AND id > ?7 AND "
	    "id <= ?8 ORDER BY id DESC LIMIT ?14) o "
	    "UNION SELECT conversation_id FROM (SELECT conversation_id FROM "
	    "activity WHERE id > ?9 AND id <= ?10 ORDER BY id DESC LIMIT ?14) "
	    "UNION SELECT m.conversation_id FROM (SELECT original_wamid FROM "
	    "message_edits WHERE id > ?11 AND id <= ?12 ORDER BY id DESC "
	    "LIMIT ?14) e JOIN messages m ON m.wamid = e.original_wamid) "
	    "SELECT v.id FROM ch JOIN conversations v ON v.id = ch.cid WHERE "
	    IN_SET("v.phone_number_id", "13")
	    "ORDER BY v.last_message_at DESC, v.id DESC LIMIT ?15",
	/* Labels (GET /labels is every one: a business has tens). */
	[STMT_INBOX_LABELS] =
	"SELECT id, name, color, created_at FROM labels ORDER BY name",
	[STMT_INBOX_LABEL] =
	"SELECT id, name, color, created_at FROM labels WHERE id = ?1",
	[STMT_INBOX_LABEL_INSERT] =
	"INSERT INTO labels (name, color, created_at) VALUES (?1, ?2, ?3)",
	[STMT_INBOX_LABEL_UPDATE] =
	"UPDATE labels SET name = CASE WHEN ?2 THEN ?3 ELSE name END, "
	    "color = CASE WHEN ?4 THEN ?5 ELSE color END WHERE id = ?1",
	/*
	 * A label renamed or deleted is renamed in (taken off) every
	 * conversation that has it: a pass over conversations, for a rare
	 * admin act (10,000 conversations: milliseconds).
	 */
	[STMT_INBOX_LABEL_RENAME] =
	"UPDATE conversations SET labels = (SELECT json_group_array(DISTINCT "
	    "CASE WHEN value = ?1 THEN ?2 ELSE value END) FROM "
	    "json_each(conversations.labels)) WHERE labels IS NOT NULL AND "
	    "json_valid(labels) AND EXISTS (SELECT 1 FROM "
	    "json_each(conversations.labels) WHERE value = ?1)",
	[STMT_INBOX_LABEL_DELETE] =
	"DELETE FROM labels WHERE id = ?1",
	[STMT_INBOX_LABEL_UNUSE] =
	"UPDATE conversations SET labels = (SELECT json_group_array(value) "
	    "FROM json_each(conversations.labels) WHERE value <> ?1) WHERE "
	    "labels IS NOT NULL AND json_valid(labels) AND EXISTS (SELECT 1 "
	    "FROM json_each(conversations.labels) WHERE value = ?1)",
	/* PATCH /conversations/{id} labels: the unknown ones made. */
	[STMT_INBOX_LABELS_ENSURE] =
	"INSERT OR IGNORE INTO labels (name, created_at) SELECT value, ?2 "
	    "FROM json_each(?1) WHERE type = 'text'",
	/* A conversation the call may see, as it is before a change. */
	[STMT_INBOX_CONV_STATE] =
	"SELECT phone_number_id, assignee, labels, customer_email, notes, "
	    "unread_count FROM conversations WHERE id = ?1 AND "
	    IN_SET("phone_number_id", "2"),
	/* What staff did: detail {"from", "to"} as strings, or as JSON. */
	[STMT_INBOX_ACT_TEXT] =
	"INSERT INTO activity (conversation_id, phone_number_id, user_id, "
	    "actor, kind, detail, at) VALUES (?1, ?2, ?3, ?4, ?5, "
	    "json_object('from', ?6, 'to', ?7), ?8)",
	[STMT_INBOX_ACT_JSON] =
	"INSERT INTO activity (conversation_id, phone_number_id, user_id, "
	    "actor, kind, detail, at) VALUES (?1, ?2, ?3, ?4, ?5, "
	    "json_object('from', json(coalesce(?6, 'null')), 'to', "
	    "json(coalesce(?7, 'null'))), ?8)",
	/* The newest ?2 entries of a conversation, oldest first. */
	[STMT_INBOX_ACTIVITY] =
	"SELECT * FROM (SELECT id, conversation_id, user_id, actor, kind, "
	    "detail, at FROM activity WHERE conversation_id = ?1 ORDER BY id "
	    "DESC LIMIT ?2) ORDER BY id",
	[STMT_INBOX_NOTES] =
	"SELECT * FROM (SELECT id, conversation_id, user_id, author, text, "
	    "created_at FROM conversation_notes WHERE conversation_id = ?1 "
	    "ORDER BY id DESC LIMIT ?2) ORDER BY id",
	[STMT_INBOX_NOTE] =
	"SELECT n.id, n.conversation_id, n.user_id, n.author, n.text, "
	    "n.created_at, v.phone_number_id FROM conversation_notes n JOIN "
	    "conversations v ON v.id = n.conversation_id WHERE n.id = ?1 AND "
	    IN_SET("v.phone_number_id", "2"),
	[STMT_INBOX_NOTE_INSERT] =
	"INSERT INTO conversation_notes (conversation_id, user_id, author, "
	    "text, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
	[STMT_INBOX_NOTE_DELETE] =
	"DELETE FROM conversation_notes WHERE id = ?1",
	/* GET /conversations/{id}: who the customer is. */
	[STMT_INBOX_CONTACT] =
	"SELECT c.wa_id, c.user_id, c.username, c.profile_name, c.saved_name, "
	    "c.opted_out, c.opted_out_at, v.customer_email, "
	    "(SELECT count(*) FROM conversation_notes n WHERE "
	    "n.conversation_id = v.id) AS notes_count, v.phone_number_id "
	    "FROM conversations v JOIN contacts c ON c.id = v.contact_id "
	    "WHERE v.id = ?1 AND " IN_SET("v.phone_number_id", "2"),
	/* Their recent orders and tickets from the bot's tables. */
	[STMT_INBOX_ORDERS] =
	"SELECT o.id, o.number, o.status, o.ordered_on, o.expected_delivery, "
	    "o.updated_at, (SELECT count(*) FROM order_lines l WHERE "
	    "l.order_id = o.id) AS lines FROM orders o WHERE "
	    "o.phone_number_id = ?1 AND o.customer_wa_id = ?2 ORDER BY "
	    "o.ordered_on DESC, o.id DESC LIMIT ?3",
	[STMT_INBOX_TICKETS] =
	"SELECT id, number, category, state, substr(description, 1, 200) AS "
	    "description, created_at, updated_at FROM tickets WHERE "
	    "phone_number_id = ?1 AND customer_wa_id = ?2 ORDER BY id DESC "
	    "LIMIT ?3",
};
