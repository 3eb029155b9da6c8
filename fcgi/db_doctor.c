/*
 * db_doctor.c: the reads of `wactl doctor` (doctor.c): the webhook
 * journal's backlog and the sends that failed for good lately.  Read
 * only; the statements are in db_sql.c's table.
 */
#include <sqlite3.h>

#include "db.h"
#include "db_int.h"

/*
 * Journal entries still pending, and when the oldest was received (unix
 * ms, 0 when none).  0, or -1 (logged).
 */
int
db_doctor_journal(struct db *d, int64_t *pending, int64_t *oldest_ms)
{
	sqlite3_stmt *s = dbi_st(d, STMT_DOCTOR_JOURNAL);

	if (dbi_row(d, STMT_DOCTOR_JOURNAL, __func__) != 1)
		return -1;
	*pending = sqlite3_column_int64(s, 0);
	*oldest_ms = sqlite3_column_int64(s, 1);
	sqlite3_reset(s);
	return 0;
}

/*
 * Outbox rows queued since since_ms that failed for good: *total, and
 * the most common Meta code (0: our own refusal, no code) with its
 * count (all 0 when none failed).  0, or -1 (logged).
 */
int
db_doctor_failed(struct db *d, int64_t since_ms, int64_t *total,
    int64_t *top_code, int64_t *top_count)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_DOCTOR_FAILED);
	int		 rc;

	*total = *top_code = *top_count = 0;
	sqlite3_bind_int64(s, 1, since_ms);
	if ((rc = dbi_row(d, STMT_DOCTOR_FAILED, __func__)) != 1)
		return rc;
	*top_code = sqlite3_column_int64(s, 0);
	*top_count = sqlite3_column_int64(s, 1);
	*total = sqlite3_column_int64(s, 2);
	sqlite3_reset(s);
	return 0;
}
