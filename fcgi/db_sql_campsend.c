/*
 * db_sql_campsend.c: the SQL statements of the worker's side of
 * campaigns (db_campsend.c), in a table indexed by enum stmt like
 * db_sql.c's (db_open() refuses a slot none or two fill).
 */
#include <sqlite3.h>

#include "db.h"
#include "db_int.h"

/*
 * A recipient's place on the way forward, for Meta's statuses: a late
 * "delivered" never undoes "read".  Our own failure (error_code NULL:
 * an interrupted call) may still be rolled forward by a status; Meta's
 * failure is final.
 */
#define RECIPIENT_RANK							\
	"CASE state WHEN 'queued' THEN 0 WHEN 'skipped' THEN 0 "	\
	    "WHEN 'sent' THEN 2 WHEN 'delivered' THEN 4 WHEN 'read' THEN 6 "	\
	    "WHEN 'failed' THEN CASE WHEN error_code IS NULL THEN 0 "	\
	    "ELSE 9 END ELSE 9 END"

const char *const dbi_sql_campsend[STMT__MAX] = {
	/* The campaigns that may hand recipients over at ?1 (unix ms). */
	[STMT_CAMPSEND_DUE] =
	"SELECT id FROM campaigns WHERE state IN ('scheduled', 'running') "
	    "AND start_at <= ?1 AND (wait_until IS NULL OR wait_until <= ?1) "
	    "ORDER BY start_at, id",
	[STMT_CAMPSEND_GET] =
	"SELECT phone_number_id, template, language, state, wait_until "
	    "FROM campaigns WHERE id = ?1",
	[STMT_CAMPSEND_START] =
	"UPDATE campaigns SET state = 'running', updated_at = ?2 "
	    "WHERE id = ?1 AND state = 'scheduled'",
	/*
	 * Campaign rows of a number waiting in the outbox or in flight:
	 * the window the hand-over keeps filled (outbox_open holds only
	 * open rows, a few seconds' worth).
	 */
	[STMT_CAMPSEND_OPEN] =
	"SELECT count(*) FROM outbox INDEXED BY outbox_open "
	    "WHERE phone_number_id = ?1 AND state IN ('queued', 'sending') "
	    "AND source = 'campaign'",
	/*
	 * The next recipients to hand over.  Handed ones still queued are
	 * the first of the index (hand-over goes by id): a window's worth.
	 */
	[STMT_CAMPSEND_NEXT] =
	"SELECT id, wa_id, params FROM campaign_recipients "
	    "INDEXED BY campaign_recipients_state WHERE campaign_id = ?1 "
	    "AND state = 'queued' AND outbox_id IS NULL ORDER BY id LIMIT ?2",
	[STMT_CAMPSEND_HANDED] =
	"UPDATE campaign_recipients SET outbox_id = ?2, updated_at = ?3 "
	    "WHERE id = ?1 AND state = 'queued'",
	/* Refused before the outbox: skipped or failed with our reason. */
	[STMT_CAMPSEND_SETTLE] =
	"UPDATE campaign_recipients SET state = ?2, reason = ?3, "
	    "error_code = NULL, updated_at = ?4 WHERE id = ?1 AND "
	    "state = 'queued'",
	[STMT_CAMPSEND_WAIT] =
	"UPDATE campaigns SET wait_until = ?2, wait_reason = ?3, "
	    "updated_at = ?4 WHERE id = ?1",
	[STMT_CAMPSEND_QUEUED] =
	"SELECT EXISTS (SELECT 1 FROM campaign_recipients WHERE "
	    "campaign_id = ?1 AND state = 'queued')",
	[STMT_CAMPSEND_DONE] =
	"UPDATE campaigns SET state = 'done', finished_at = ?2, "
	    "updated_at = ?2, wait_until = NULL, wait_reason = NULL "
	    "WHERE id = ?1 AND state = 'running'",
	/*
	 * When the tier's 24-hour window frees a contact: the contact
	 * counted (STMT_TIER_COUNT's rows) whose newest send is oldest,
	 * that send's time (+ 24 h by the caller).  NULL: none counted.
	 */
	[STMT_CAMPSEND_TIER_FREE] =
	"SELECT min(last) FROM (SELECT max(created_at) AS last FROM outbox "
	    "WHERE phone_number_id = ?1 AND business_initiated = 1 AND "
	    "state IN ('queued', 'sending', 'accepted') AND created_at > ?2 "
	    "GROUP BY recipient)",
	/*
	 * Meta accepted outbox row ?1 (once: its wamid is set then): its
	 * recipient was sent.  Also one cancelled meanwhile (it did go
	 * out), one our crash recovery failed (Meta had it after all) or
	 * one a person retried after a failure.
	 */
	[STMT_CAMPSEND_ACCEPTED] =
	"UPDATE campaign_recipients SET state = 'sent', reason = NULL, "
	    "error_code = NULL, updated_at = ?2 WHERE outbox_id = ?1 AND "
	    "state IN ('queued', 'skipped', 'failed')",
	/* Outbox row ?1 failed: Meta's code (NULL ours) and title. */
	[STMT_CAMPSEND_FAILED] =
	"UPDATE campaign_recipients SET state = 'failed', error_code = ?2, "
	    "reason = ?3, updated_at = ?4 WHERE outbox_id = ?1 AND "
	    "state = 'queued'",
	/*
	 * Meta's status ?2 (rank ?6) for wamid ?1, forward only.  A
	 * message that is not a campaign's costs two index probes.
	 */
	[STMT_CAMPSEND_STATUS] =
	"UPDATE campaign_recipients SET state = ?2, error_code = ?3, "
	    "reason = ?4, updated_at = ?5 WHERE outbox_id IN (SELECT id FROM "
	    "outbox WHERE wamid = ?1) AND " RECIPIENT_RANK " < ?6",
	/*
	 * The first queued recipients of campaign ?1 with the state of
	 * their outbox row (NULL: not handed yet).  Handed ones come first
	 * (hand-over goes by id).
	 */
	[STMT_CAMPSEND_FRONT] =
	"SELECT r.id, o.state FROM campaign_recipients r "
	    "INDEXED BY campaign_recipients_state LEFT JOIN outbox o ON "
	    "o.id = r.outbox_id WHERE r.campaign_id = ?1 AND "
	    "r.state = 'queued' ORDER BY r.id LIMIT ?2",
	/* Campaign rows a stopped worker left in flight. */
	[STMT_CAMPSEND_STRANDED] =
	"SELECT id FROM outbox WHERE state = 'sending' AND "
	    "source = 'campaign' ORDER BY id",
};
