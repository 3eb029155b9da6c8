/*
 * db_sql_deliver.c: the SQL statements of the worker's event webhook
 * deliveries (db_deliver.c), in a table indexed by enum stmt like
 * db_sql.c's (db_open() refuses a slot none or two fill).
 */
#include <sqlite3.h>

#include "db.h"
#include "db_int.h"

const char *const dbi_sql_deliver[STMT__MAX] = {
	/*
	 * When the next queued delivery falls due after ?1 (unix ms), for
	 * the timer; those due now go at once or wait on one in flight.
	 */
	[STMT_DELIVER_NEXT_DUE] =
	"SELECT min(next_attempt_at) FROM event_deliveries WHERE "
	    "state = 'queued' AND next_attempt_at > ?1",
	/*
	 * A 'sending' row whose lease ran out (the worker died mid-call) is
	 * queued again, never lost; ?1 = now, or a far future at start,
	 * when the lock says no call of ours is in flight.
	 */
	[STMT_DELIVER_REQUEUE] =
	"UPDATE event_deliveries SET state = 'queued', lease_until = NULL "
	    "WHERE state = 'sending' AND lease_until < ?1",
	/*
	 * Due rows of active hooks, oldest first, that may go now: none of
	 * the same (hook, conversation) is in flight or queued before it
	 * (a failed or delivered one ends the wait).  ?1 now, ?2 limit.
	 */
	[STMT_DELIVER_DUE] =
	"SELECT d.id, d.hook_id, d.body, d.created_at, d.attempts, h.url, "
	    "h.secret, h.secret_env FROM event_deliveries d "
	    "JOIN hooks h ON h.id = d.hook_id "
	    "WHERE d.state = 'queued' AND d.next_attempt_at <= ?1 "
	    "AND h.state = 'active' AND (d.conversation_id IS NULL OR "
	    "(NOT EXISTS (SELECT 1 FROM event_deliveries e WHERE "
	    "e.hook_id = d.hook_id AND e.conversation_id = d.conversation_id "
	    "AND e.state IN ('queued', 'sending') AND e.id < d.id) "
	    "AND NOT EXISTS (SELECT 1 FROM event_deliveries e WHERE "
	    "e.hook_id = d.hook_id AND e.conversation_id = d.conversation_id "
	    "AND e.state = 'sending'))) "
	    "ORDER BY d.next_attempt_at, d.id LIMIT ?2",
	/*
	 * Whether a pass has anything to lease or take back at ?1 (the
	 * partial indexes answer it without a write lock).
	 */
	[STMT_DELIVER_ANY] =
	"SELECT EXISTS (SELECT 1 FROM event_deliveries WHERE state = 'queued' "
	    "AND next_attempt_at <= ?1) OR EXISTS (SELECT 1 FROM "
	    "event_deliveries WHERE state = 'sending' AND lease_until < ?1)",
	/* The newest row: a higher one since the last look is new work. */
	[STMT_DELIVER_LAST] =
	"SELECT coalesce(max(id), 0) FROM event_deliveries",
	/* Leases one: ?1 id, ?2 lease end (ms).  No change: taken. */
	[STMT_DELIVER_CLAIM] =
	"UPDATE event_deliveries SET state = 'sending', lease_until = ?2 "
	    "WHERE id = ?1 AND state = 'queued'",
	[STMT_DELIVER_ATTEMPT] =
	"INSERT INTO event_attempts (delivery_id, at, duration_ms, "
	    "http_status, error) VALUES (?1, ?2, ?3, ?4, ?5)",
	/*
	 * The outcome of an attempt: ?2 state, ?3 next attempt, ?4 status,
	 * ?5 error, ?6 delivered_at.  Only a row we hold the lease of (a
	 * redelivery asked meanwhile is left as it is).
	 */
	[STMT_DELIVER_RESULT] =
	"UPDATE event_deliveries SET state = ?2, attempts = attempts + 1, "
	    "next_attempt_at = ?3, lease_until = NULL, last_status = ?4, "
	    "last_error = ?5, delivered_at = coalesce(?6, delivered_at) "
	    "WHERE id = ?1 AND state = 'sending'",
	/* A success ends the hook's run of failures. */
	[STMT_DELIVER_HOOK_OK] =
	"UPDATE hooks SET failing_since = NULL WHERE id = ?1 AND "
	    "failing_since IS NOT NULL",
	/* A failure starts one (unix ms) unless one is running. */
	[STMT_DELIVER_HOOK_FAIL] =
	"UPDATE hooks SET failing_since = ?2 WHERE id = ?1 AND "
	    "failing_since IS NULL",
	/* Failing since before ?2: disabled, with ?3 the reason. */
	[STMT_DELIVER_HOOK_DISABLE] =
	"UPDATE hooks SET state = 'disabled', disabled_reason = ?3 "
	    "WHERE id = ?1 AND state = 'active' AND failing_since IS NOT NULL "
	    "AND failing_since <= ?2",
};
