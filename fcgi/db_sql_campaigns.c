/*
 * db_sql_campaigns.c: the SQL statements of template campaigns as the
 * API and wactl see them (db_campaigns.c), in a table indexed by enum
 * stmt like db_sql.c's (db_open() refuses a slot none or two fill).
 */
#include <sqlite3.h>

#include "db.h"
#include "db_int.h"

/* A campaign as the API shows it: times in unix seconds, its number's
 * label and account (for the template's text). */
#define CAMPAIGN_COLS \
	"SELECT c.id, c.name, n.label AS number, c.phone_number_id, " \
	    "c.template, c.language, c.source, c.state, " \
	    "c.start_at / 1000 AS start_at, c.wait_until / 1000 AS wait_until, " \
	    "c.wait_reason, c.created_at / 1000 AS created_at, " \
	    "c.updated_at / 1000 AS updated_at, " \
	    "c.finished_at / 1000 AS finished_at, n.waba_id " \
	    "FROM campaigns c LEFT JOIN numbers n " \
	    "ON n.phone_number_id = c.phone_number_id "

/* A recipient still waiting whose outbox row the change takes back. */
#define OUTBOX_STATE "(SELECT o.state FROM outbox o WHERE o.id = outbox_id)"

const char *const dbi_sql_campaigns[STMT__MAX] = {
	/* One campaign, every column. */
	[STMT_CAMPAIGN_GET] =
	"SELECT id, name, phone_number_id, template, language, source, "
	    "state, start_at, wait_until, wait_reason, created_by, "
	    "created_at, updated_at, finished_at FROM campaigns WHERE id = ?1",
	/* A new campaign (its name taken: a constraint, DB_DUP). */
	[STMT_CAMPAIGN_INSERT] =
	"INSERT INTO campaigns (name, phone_number_id, template, language, "
	    "source, start_at, created_by, created_at, updated_at) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
	/*
	 * One recipient: skipped with ?5's reason, or opted_out when the
	 * contact of the number (?6) asked for no business messages, else
	 * queued (contacts_wa_id is the lookup).
	 */
	[STMT_CAMPAIGN_RCPT_INSERT] =
	"INSERT INTO campaign_recipients (campaign_id, line, wa_id, params, "
	    "state, reason, updated_at) "
	    "SELECT ?1, ?2, ?3, ?4, CASE WHEN ?5 IS NOT NULL OR o THEN "
	    "'skipped' ELSE 'queued' END, coalesce(?5, CASE WHEN o THEN "
	    "'opted_out' END), ?7 FROM (SELECT EXISTS (SELECT 1 FROM contacts "
	    "WHERE phone_number_id = ?6 AND wa_id = ?3 AND opted_out = 1) "
	    "AS o)",
	/* Nobody to send to: done at once. */
	[STMT_CAMPAIGN_DONE_EMPTY] =
	"UPDATE campaigns SET state = 'done', finished_at = ?2 WHERE id = ?1 "
	    "AND NOT EXISTS (SELECT 1 FROM campaign_recipients "
	    "WHERE campaign_id = ?1 AND state = 'queued')",
	[STMT_CAMPAIGN_ROW] =
	CAMPAIGN_COLS "WHERE c.id = ?1",
	/* Newest first, in one state or all. */
	[STMT_CAMPAIGN_LIST] =
	CAMPAIGN_COLS "WHERE ?1 IS NULL OR c.state = ?1 "
	    "ORDER BY c.id DESC LIMIT ?2",
	[STMT_CAMPAIGN_BY_NAME] =
	"SELECT id FROM campaigns WHERE name = ?1",
	/* The counts: one GROUP BY over campaign_recipients_state. */
	[STMT_CAMPAIGN_COUNTS] =
	"SELECT state, count(*) FROM campaign_recipients "
	    "WHERE campaign_id = ?1 GROUP BY state",
	/* The first recipient still to be sent (the preview's). */
	[STMT_CAMPAIGN_FIRST] =
	"SELECT params FROM campaign_recipients WHERE campaign_id = ?1 "
	    "AND state = 'queued' ORDER BY id LIMIT 1",
	/* A page of recipients, newest first, before id ?2. */
	[STMT_CAMPAIGN_RCPTS] =
	"SELECT id, line, wa_id, params, state, reason, error_code, "
	    "updated_at / 1000 AS updated_at FROM campaign_recipients "
	    "WHERE campaign_id = ?1 AND id < coalesce(?2, 9223372036854775807) "
	    "ORDER BY id DESC LIMIT ?3",
	[STMT_CAMPAIGN_RCPTS_STATE] =
	"SELECT id, line, wa_id, params, state, reason, error_code, "
	    "updated_at / 1000 AS updated_at FROM campaign_recipients "
	    "WHERE campaign_id = ?1 AND state = ?4 AND "
	    "id < coalesce(?2, 9223372036854775807) "
	    "ORDER BY id DESC LIMIT ?3",
	/* The report: every recipient in the file's order. */
	[STMT_CAMPAIGN_REPORT] =
	"SELECT line, wa_id, state, reason, error_code, "
	    "updated_at / 1000 AS updated_at FROM campaign_recipients "
	    "WHERE campaign_id = ?1 ORDER BY id",
	/* Paused, resumed or cancelled: no longer waiting on the tier. */
	[STMT_CAMPAIGN_SET_STATE] =
	"UPDATE campaigns SET state = ?2, updated_at = ?3, wait_until = NULL, "
	    "wait_reason = NULL, finished_at = CASE WHEN ?2 = 'cancelled' "
	    "THEN ?3 END WHERE id = ?1",
	/*
	 * Takes back the outbox rows of waiting recipients the worker has
	 * not started (a 'sending' one goes on); the key is let go so that
	 * a resumed campaign queues the recipient afresh.
	 */
	[STMT_CAMPAIGN_OUTBOX_TAKE] =
	"UPDATE outbox SET state = 'cancelled', idempotency_key = NULL, "
	    "error_title = ?2 WHERE state = 'queued' AND id IN "
	    "(SELECT outbox_id FROM campaign_recipients WHERE campaign_id = ?1 "
	    "AND state = 'queued' AND outbox_id IS NOT NULL)",
	/* Paused: those recipients wait again, without an outbox row. */
	[STMT_CAMPAIGN_RCPT_UNLINK] =
	"UPDATE campaign_recipients SET outbox_id = NULL, updated_at = ?2 "
	    "WHERE campaign_id = ?1 AND state = 'queued' AND "
	    "outbox_id IS NOT NULL AND " OUTBOX_STATE " = 'cancelled'",
	/* Cancelled: every recipient not in the worker's hands. */
	[STMT_CAMPAIGN_RCPT_CANCEL] =
	"UPDATE campaign_recipients SET state = 'skipped', reason = "
	    "'cancelled', updated_at = ?2 WHERE campaign_id = ?1 AND "
	    "state = 'queued' AND (outbox_id IS NULL OR " OUTBOX_STATE
	    " = 'cancelled')",
	/*
	 * A segment: contacts of number ?1 with a conversation labelled ?2
	 * (conversations.labels, a JSON array) or whose customer wrote at
	 * or after ?3 (Meta time, unix seconds); NULL is any.
	 */
	[STMT_CAMPAIGN_SEGMENT] =
	"SELECT ct.wa_id, ct.profile_name FROM conversations cv "
	    "JOIN contacts ct ON ct.id = cv.contact_id "
	    "WHERE cv.phone_number_id = ?1 AND ct.wa_id IS NOT NULL AND "
	    "(?2 IS NULL OR EXISTS (SELECT 1 FROM json_each(CASE WHEN "
	    "json_valid(cv.labels) THEN cv.labels ELSE '[]' END) "
	    "WHERE value = ?2)) AND "
	    "(?3 IS NULL OR cv.last_inbound_at >= ?3) ORDER BY ct.id",
};
