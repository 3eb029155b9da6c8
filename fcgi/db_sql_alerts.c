/*
 * db_sql_alerts.c: the SQL statements of alerts and their mails
 * (db_alerts.c), in a table indexed by enum stmt like db_sql.c's
 * (db_open() refuses a slot none or two fill).
 */
#include <sqlite3.h>

#include "db.h"
#include "db_int.h"

/*
 * A conversation's first customer message after our last reply (NULL
 * when the newest message is ours): what a waiting alert is about.
 */
#define FIRST_UNANSWERED(conv)						\
	"(SELECT m.id FROM messages m WHERE m.conversation_id = " conv " "	\
	    "AND m.direction = 'in' AND m.timestamp > coalesce((SELECT "	\
	    "max(o.timestamp) FROM messages o WHERE o.conversation_id = "	\
	    conv " AND o.direction = 'out'), -1) ORDER BY m.timestamp, m.id "	\
	    "LIMIT 1)"

/* A person's newest mail's alerts: the highest alert id mailed to them. */
#define MAILED_UPTO(uid)						\
	"coalesce((SELECT max(j.value) FROM alert_mails am, "		\
	    "json_each(am.alert_ids) j WHERE am.id = (SELECT max(id) FROM "	\
	    "alert_mails WHERE user_id = " uid ")), 0)"

/* The alerts a person hears of: their own and, an admin, the gateway's. */
#define FOR_USER(a, u)							\
	"(" a ".user_id = " u ".id OR (" a ".user_id IS NULL AND " u ".role "	\
	    "= 'admin'))"

const char *const dbi_sql_alerts[STMT__MAX] = {
	/* One alert, every column. */
	[STMT_ALERT_GET] =
	"SELECT id, kind, phone_number_id, conversation_id, user_id, episode, "
	    "summary, detail, state, created_at, resolved_at FROM alerts "
	    "WHERE id = ?1",
	/*
	 * Customers waiting since ?1 (unix s) or before in chats handed to
	 * people: one alert per person it is for (person:NAME: that one;
	 * person: every enabled agent and admin with an e-mail allowed the
	 * number), once per first unanswered message.
	 */
	[STMT_ALERT_WAITING_RAISE] =
	"WITH w AS (SELECT c.id AS conv, c.phone_number_id AS pnid, "
	    "c.contact_id AS contact, c.assignee AS assignee, "
	    FIRST_UNANSWERED("c.id") " AS first_in FROM conversations c "
	    "WHERE c.assignee = 'person' OR c.assignee LIKE 'person:%') "
	"INSERT OR IGNORE INTO alerts (kind, phone_number_id, "
	    "conversation_id, user_id, episode, summary, detail, created_at) "
	"SELECT 'customer_waiting', w.pnid, w.conv, u.id, 'waiting:' || "
	    "w.conv || ':' || w.first_in || ':' || u.id, 'A customer (' || "
	    "coalesce('+' || ct.wa_id, ct.username, 'no number') || ') has "
	    "waited for an answer since ' || strftime('%Y-%m-%d %H:%M', "
	    "fm.timestamp, 'unixepoch') || ' UTC (conversation ' || w.conv || "
	    "')', json_object('message_id', w.first_in, 'since', fm.timestamp, "
	    "'assignee', w.assignee), ?2 "
	"FROM w JOIN messages fm ON fm.id = w.first_in AND fm.timestamp <= ?1 "
	    "JOIN contacts ct ON ct.id = w.contact "
	    "JOIN users u ON u.disabled_at IS NULL AND (w.assignee = "
	    "'person:' || u.name OR (w.assignee = 'person' AND u.role IN "
	    "('agent', 'admin') AND coalesce(u.email, '') <> '' AND (NOT "
	    "EXISTS (SELECT 1 FROM user_numbers un WHERE un.user_id = u.id) "
	    "OR EXISTS (SELECT 1 FROM user_numbers un WHERE un.user_id = u.id "
	    "AND un.phone_number_id = w.pnid)))) "
	"ORDER BY w.conv, u.id",
	/*
	 * Waiting alerts whose wait ended at ?1: answered, or no longer
	 * handed to that person (or to people).
	 */
	[STMT_ALERT_WAITING_END] =
	"UPDATE alerts SET state = 'resolved', resolved_at = ?1 "
	"WHERE state = 'open' AND kind = 'customer_waiting' AND NOT EXISTS "
	    "(SELECT 1 FROM conversations c JOIN users u ON u.id = "
	    "alerts.user_id WHERE c.id = alerts.conversation_id AND "
	    "(c.assignee = 'person' OR c.assignee = 'person:' || u.name) AND "
	    FIRST_UNANSWERED("c.id") " = json_extract(alerts.detail, "
	    "'$.message_id'))",
	/* A gateway alert (for the admins): ignored when its episode is known. */
	[STMT_ALERT_RAISE] =
	"INSERT OR IGNORE INTO alerts (kind, phone_number_id, episode, "
	    "summary, detail, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	/*
	 * A gateway condition of kind ?1 (number ?2, NULL the gateway) ended
	 * at ?3: its open alerts resolved, but the episode ?4 (NULL none).
	 */
	[STMT_ALERT_END] =
	"UPDATE alerts SET state = 'resolved', resolved_at = ?3 "
	"WHERE state = 'open' AND kind = ?1 AND user_id IS NULL AND "
	    "coalesce(phone_number_id, '') = coalesce(?2, '') AND (?4 IS NULL "
	    "OR episode <> ?4)",
	/* An open gateway alert of kind ?1 for number ?2 (NULL the gateway). */
	[STMT_ALERT_OPEN] =
	"SELECT id FROM alerts WHERE state = 'open' AND kind = ?1 AND "
	    "user_id IS NULL AND coalesce(phone_number_id, '') = "
	    "coalesce(?2, '') LIMIT 1",
	/*
	 * Each number's health as the admins' alerts read it: quality,
	 * account state, and a token Meta refused (the sender's pause).
	 */
	[STMT_ALERT_NUMBERS] =
	"SELECT p.pnid, n.label, n.quality_rating, n.quality_at, "
	    "n.account_state, n.account_detail, n.account_at, s.paused_reason, "
	    "s.paused_at FROM (SELECT phone_number_id AS pnid FROM numbers "
	    "UNION SELECT phone_number_id FROM sender_status) p "
	    "LEFT JOIN numbers n ON n.phone_number_id = p.pnid "
	    "LEFT JOIN sender_status s ON s.phone_number_id = p.pnid "
	"ORDER BY p.pnid",
	/* Sends queued since ?1 (unix ms): how many, how many failed. */
	[STMT_ALERT_SENDS] =
	"SELECT count(*), coalesce(sum(state = 'failed'), 0) FROM outbox "
	"WHERE created_at >= ?1",
	/*
	 * GET /alerts: state ?1 (NULL any), for person ?2 and, ?3 = 1, the
	 * gateway's; newest first, ?4 at most, ids below ?5 (0: from the top).
	 */
	[STMT_ALERT_LIST] =
	"SELECT id, kind, phone_number_id AS number, conversation_id, "
	    "CASE WHEN user_id IS NULL THEN 'admins' ELSE 'person' END AS "
	    "audience, summary, json(detail) AS detail, state, created_at, "
	    "resolved_at FROM alerts "
	"WHERE (?1 IS NULL OR state = ?1) AND (user_id = ?2 OR (?3 = 1 AND "
	    "user_id IS NULL)) AND (?5 = 0 OR id < ?5) "
	"ORDER BY id DESC LIMIT ?4",
	/* Resolves ?1 at ?2 when it is person ?3's or, ?4 = 1, the gateway's. */
	[STMT_ALERT_RESOLVE] =
	"UPDATE alerts SET state = 'resolved', resolved_at = ?2 "
	"WHERE id = ?1 AND state = 'open' AND (user_id = ?3 OR (?4 = 1 AND "
	    "user_id IS NULL))",
	/*
	 * The people a mail is due to: an e-mail, open alerts for them
	 * raised since ?2 (unix s) that no mail carried, and no mail to them
	 * since ?1 (unix ms).
	 */
	[STMT_ALERT_MAIL_WHO] =
	"SELECT u.id, u.email, coalesce(u.display_name, u.name) AS name "
	"FROM users u WHERE u.disabled_at IS NULL AND coalesce(u.email, '') "
	    "<> '' AND coalesce((SELECT max(created_at) FROM alert_mails WHERE "
	    "user_id = u.id), 0) <= ?1 AND EXISTS (SELECT 1 FROM alerts a "
	    "WHERE a.state = 'open' AND a.created_at >= ?2 AND "
	    FOR_USER("a", "u") " AND a.id > " MAILED_UPTO("u.id") ") "
	"ORDER BY u.id",
	/* Those alerts of person ?1, oldest first. */
	[STMT_ALERT_MAIL_ALERTS] =
	"SELECT a.id, a.summary, a.created_at FROM alerts a JOIN users u ON "
	    "u.id = ?1 WHERE a.state = 'open' AND a.created_at >= ?2 AND "
	    FOR_USER("a", "u") " AND a.id > " MAILED_UPTO("u.id") " "
	"ORDER BY a.id LIMIT 50",
	[STMT_ALERT_MAIL_INSERT] =
	"INSERT INTO alert_mails (user_id, recipient, subject, body, "
	    "alert_ids, next_attempt_at, created_at) "
	"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
	/* The mail due first at ?1 (unix ms). */
	[STMT_ALERT_MAIL_NEXT] =
	"SELECT id, recipient, subject, body, attempts, created_at "
	"FROM alert_mails WHERE state = 'queued' AND next_attempt_at <= ?1 "
	"ORDER BY next_attempt_at, id LIMIT 1",
	/* After an attempt: state ?2, next try ?3, error ?4, sent at ?5. */
	[STMT_ALERT_MAIL_DONE] =
	"UPDATE alert_mails SET state = ?2, attempts = attempts + 1, "
	    "next_attempt_at = ?3, last_error = ?4, sent_at = ?5 WHERE id = ?1",
};
