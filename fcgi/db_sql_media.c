/*
 * db_sql_media.c: the SQL statements of uploads, media files served to
 * the inbox, quick replies and the daily statistics (db_media.c), in a
 * table indexed by enum stmt like db_sql.c's (db_open() refuses a slot
 * none or two fill).
 */
#include <sqlite3.h>

#include "db.h"
#include "db_int.h"

/* ?1: the JSON array of the numbers a call covers. */
#define IN_NUMBERS(col)	col " IN (SELECT value FROM json_each(?1)) "

/* A quick reply's columns, as the API shows them. */
#define QR_COLS \
	"SELECT id, shortcut, text, phone_number_id, created_by, " \
	"created_at, updated_at FROM quick_replies "

const char *const dbi_sql_media[STMT__MAX] = {
	/*
	 * A message and its file: inbound media rows are keyed by the
	 * message's media id, outbound ones (uploaded by the worker) by the
	 * media id Meta gave the upload, which the message row keeps.  One
	 * primary-key lookup and one on media's unique key.
	 */
	[STMT_MEDIA_OF_MESSAGE] =
	"SELECT m.phone_number_id, m.direction, m.type, m.media_id, "
	    "m.filename, m.mime_type, md.state, md.path, md.mime_type, "
	    "md.error FROM messages m LEFT JOIN media md ON "
	    "md.phone_number_id = m.phone_number_id AND md.media_id = "
	    "m.media_id AND md.direction = m.direction WHERE m.id = ?1",
	[STMT_UPLOAD_INSERT] =
	"INSERT INTO uploads (phone_number_id, user_id, filename, mime_type, "
	    "size, sha256, path, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
	    "?7, ?8)",
	[STMT_UPLOAD_GET] =
	"SELECT phone_number_id, filename, mime_type, size, sha256, path "
	    "FROM uploads WHERE id = ?1",
	/* Quick replies of every number, and those of the numbers given. */
	[STMT_QR_LIST] =
	QR_COLS "WHERE phone_number_id IS NULL OR "
	    IN_NUMBERS("phone_number_id") "ORDER BY shortcut",
	[STMT_QR_GET] =
	QR_COLS "WHERE id = ?2 AND (phone_number_id IS NULL OR "
	    IN_NUMBERS("phone_number_id") ")",
	[STMT_QR_INSERT] =
	"INSERT INTO quick_replies (shortcut, text, phone_number_id, "
	    "created_by, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, "
	    "?5)",
	/* NULL leaves shortcut or text; ?5 says whether ?4 is the number. */
	[STMT_QR_UPDATE] =
	"UPDATE quick_replies SET shortcut = coalesce(?2, shortcut), "
	    "text = coalesce(?3, text), phone_number_id = CASE WHEN ?5 THEN "
	    "?4 ELSE phone_number_id END, updated_at = ?6 WHERE id = ?1",
	[STMT_QR_DELETE] =
	"DELETE FROM quick_replies WHERE id = ?1",
	/*
	 * Messages in and out per UTC day, and failures: outbound messages
	 * Meta failed after taking them (their status) and sends that
	 * failed before Meta took them (outbox rows, which have no message
	 * row).  messages_number_time drives the first part, outbox_state
	 * the second.
	 */
	[STMT_DAILY_VOLUME] =
	"SELECT day, sum(i) AS \"in\", sum(o) AS \"out\", sum(f) AS failed "
	    "FROM (SELECT date(timestamp, 'unixepoch') AS day, "
	    "direction = 'in' AS i, direction = 'out' AS o, "
	    "coalesce(status = 'failed', 0) AS f FROM messages WHERE "
	    IN_NUMBERS("phone_number_id") "AND timestamp >= ?2 AND "
	    "timestamp < ?3 UNION ALL SELECT date(created_at / 1000, "
	    "'unixepoch'), 0, 0, 1 FROM outbox WHERE state = 'failed' AND "
	    IN_NUMBERS("phone_number_id") "AND kind <> 'read' AND "
	    "created_at >= ?2 * 1000 AND created_at < ?3 * 1000) "
	    "GROUP BY day ORDER BY day",
	/*
	 * First replies: for each customer message that opens a turn (the
	 * conversation's message before it is ours, or there is none), the
	 * seconds until the first outbound message a person or the bot sent
	 * at or after it (NULL: none yet).  API and template sends are not
	 * replies by a person.  messages_conversation (conversation_id,
	 * timestamp) serves both lookups; outbox_wamid the bot check.
	 */
	[STMT_DAILY_REPLY] =
	"SELECT date(i.timestamp, 'unixepoch') AS day, (SELECT o.timestamp "
	    "FROM messages o WHERE o.conversation_id = i.conversation_id AND "
	    "o.timestamp >= i.timestamp AND o.direction = 'out' AND "
	    "(o.user_id IS NOT NULL OR EXISTS (SELECT 1 FROM outbox b WHERE "
	    "b.wamid = o.wamid AND b.source = 'bot')) ORDER BY o.timestamp "
	    "LIMIT 1) - i.timestamp AS seconds FROM messages i WHERE "
	    IN_NUMBERS("i.phone_number_id") "AND i.timestamp >= ?2 AND "
	    "i.timestamp < ?3 AND i.direction = 'in' AND coalesce((SELECT "
	    "p.direction FROM messages p WHERE p.conversation_id = "
	    "i.conversation_id AND p.timestamp <= i.timestamp AND "
	    "(p.timestamp < i.timestamp OR p.id < i.id) ORDER BY "
	    "p.timestamp DESC, p.id DESC LIMIT 1), 'out') = 'out'",
};
