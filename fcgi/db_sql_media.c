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
	 * GET /stats/daily in one pass: the messages of the numbers from ?2
	 * until ?4 (the period's end ?3 plus a day, to see replies to its
	 * last messages), conversation by conversation in time order.
	 * kind: 0 the customer's, 1 a reply by a person (user_id) or the bot
	 * (its outbox row's source, one outbox_wamid probe), 2 any other of
	 * ours.  messages_number_time drives it in time order, so the table
	 * is read nearly in page order (its ids grow with time), and the
	 * small rows are sorted after: on the bench's 1 M messages that
	 * costs half the CPU of walking each conversation's messages by
	 * messages_conversation, whose rows lie on pages all over the
	 * table.
	 */
	[STMT_DAILY_SCAN] =
	"SELECT m.conversation_id, m.timestamp, CASE WHEN m.direction = "
	    "'in' THEN 0 WHEN m.user_id IS NOT NULL THEN 1 WHEN EXISTS "
	    "(SELECT 1 FROM outbox b WHERE b.wamid = m.wamid AND b.source = "
	    "'bot') THEN 1 ELSE 2 END, coalesce(m.status = 'failed', 0) "
	    "FROM messages m WHERE " IN_NUMBERS("m.phone_number_id")
	    "AND m.timestamp >= ?2 AND m.timestamp < ?4 ORDER BY "
	    "m.conversation_id, m.timestamp, m.id",
	/*
	 * Sends that failed before Meta took them (they have no message
	 * row), by day of the period (?4: its first midnight); outbox_state
	 * drives it.
	 */
	[STMT_DAILY_FAILED] =
	"SELECT (created_at / 1000 - ?4) / 86400, count(*) FROM outbox WHERE "
	    "state = 'failed' AND " IN_NUMBERS("phone_number_id") "AND "
	    "kind <> 'read' AND created_at >= ?2 * 1000 AND created_at < "
	    "?3 * 1000 GROUP BY 1",
};
