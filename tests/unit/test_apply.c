/*
 * test_apply.c: the journal apply (apply.c) on a database file in a
 * temporary directory, built from the embedded schema, without nginx or a
 * worker process: a batch stops at its size and leaves the rest pending
 * for the next; another writer holding the lock is "busy" and marks
 * nothing; an entry whose own apply trips the database is marked failed
 * for replay, alone, and the journal moves on behind it; each batch
 * writes the heartbeat /health reads.
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apply.h"
#include "check.h"
#include "db.h"

static char	 dir[] = "/tmp/test_apply.XXXXXX";
static char	 path[64];
static int	 nfile;		/* each test its own database */

/* A text message webhook with this wamid, as Meta sends it (ref. 3). */
static int
body(char *b, size_t bsz, const char *wamid)
{
	int n = snprintf(b, bsz,
	    "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":"
	    "\"102290129340398\",\"changes\":[{\"field\":\"messages\","
	    "\"value\":{\"messaging_product\":\"whatsapp\",\"metadata\":{"
	    "\"display_phone_number\":\"15550783881\",\"phone_number_id\":"
	    "\"200300400500600\"},\"contacts\":[{\"profile\":{\"name\":"
	    "\"Sheena\"},\"wa_id\":\"15550002222\"}],\"messages\":[{"
	    "\"from\":\"15550002222\",\"id\":\"%s\",\"timestamp\":"
	    "\"1767270800\",\"type\":\"text\",\"text\":{\"body\":\"hi\"}}]}}]}]}",
	    wamid);

	return n > 0 && (size_t)n < bsz ? n : -1;
}

/* A fresh, migrated database file; the worker's connection to it. */
static struct db *
fresh(void)
{
	struct db	*d;
	int		 from, to;

	if (snprintf(path, sizeof(path), "%s/wa%d.db", dir, ++nfile) >=
	    (int)sizeof(path))
		return NULL;
	if ((d = db_open(path, DB_ROLE_ADMIN, 0, 50)) == NULL)
		return NULL;
	if (db_migrate(d, &from, &to) == -1) {
		db_close(d);
		return NULL;
	}
	db_close(d);
	return db_open(path, DB_ROLE_WORKER, 0, 50);
}

/* Appends one message per wamid to the journal, as a responder does. */
static int
journal(struct db *d, const char *const *wamids, size_t n)
{
	struct db_event	 ev[8];
	char		 b[8][1024];
	size_t		 i;
	int		 len;

	if (n > 8)
		return -1;
	memset(ev, 0, sizeof(ev));
	for (i = 0; i < n; i++) {
		if ((len = body(b[i], sizeof(b[i]), wamids[i])) == -1)
			return -1;
		ev[i].body = b[i];
		ev[i].len = (size_t)len;
	}
	return db_event_insert(d, ev, n, 1767270900000LL) == DB_OK ? 0 : -1;
}

/* A second connection to the test's file, as another writer would have. */
static sqlite3 *
other(void)
{
	sqlite3	*h = NULL;

	if (sqlite3_open(path, &h) != SQLITE_OK) {
		sqlite3_close(h);
		return NULL;
	}
	return h;
}

/* One integer from the test's file by its own connection; -1 on error. */
static int64_t
one(const char *sql)
{
	sqlite3		*h = other();
	sqlite3_stmt	*s = NULL;
	int64_t		 v = -1;

	if (h == NULL)
		return -1;
	if (sqlite3_prepare_v2(h, sql, -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(h);
	return v;
}

/* Runs sql on its own connection; 0 or -1. */
static int
exec(const char *sql)
{
	sqlite3	*h = other();
	int	 rc;

	if (h == NULL)
		return -1;
	rc = sqlite3_exec(h, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
	sqlite3_close(h);
	return rc;
}

TEST(batch_stops_at_max_and_the_rest_waits)
{
	const char *const w[] = { "wamid.a.1", "wamid.a.2", "wamid.a.3" };
	struct db	*d = fresh();
	struct apply	*a;

	CHECK(d != NULL);
	if (d == NULL)
		return;
	CHECK((a = apply_new(d, NULL, 4242, 1767270000)) != NULL);
	CHECK(journal(d, w, 3) == 0);
	CHECK(apply_batch(a, 2, 10L * 1000 * 1000) == 2);
	CHECK(one("SELECT count(*) FROM webhook_events WHERE state = "
	    "'applied'") == 2);
	CHECK(one("SELECT count(*) FROM webhook_events WHERE state = "
	    "'pending'") == 1);
	CHECK(one("SELECT count(*) FROM messages") == 2);
	/* The third, read ahead already, is applied by the next batch. */
	CHECK(apply_batch(a, 2, 10L * 1000 * 1000) == 1);
	CHECK(one("SELECT count(*) FROM messages WHERE wamid = "
	    "'wamid.a.3'") == 1);
	CHECK(one("SELECT count(*) FROM webhook_events WHERE state != "
	    "'applied'") == 0);
	/* The heartbeat /health reads: this worker, written by a batch. */
	CHECK(one("SELECT pid FROM worker_status WHERE id = 1") == 4242);
	CHECK(one("SELECT started_at FROM worker_status WHERE id = 1") ==
	    1767270000);
	CHECK(one("SELECT heartbeat_at FROM worker_status WHERE id = 1") > 0);
	apply_free(a);
	db_close(d);
}

TEST(another_writer_is_busy_and_nothing_is_marked)
{
	const char *const w[] = { "wamid.b.1" };
	struct db	*d = fresh();
	struct apply	*a;
	sqlite3		*h;

	CHECK(d != NULL);
	if (d == NULL)
		return;
	CHECK((a = apply_new(d, NULL, 1, 1)) != NULL);
	CHECK(journal(d, w, 1) == 0);
	CHECK((h = other()) != NULL);
	CHECK(sqlite3_exec(h, "BEGIN IMMEDIATE", NULL, NULL, NULL) ==
	    SQLITE_OK);
	CHECK(apply_batch(a, 256, 10L * 1000 * 1000) == APPLY_BUSY);
	CHECK(apply_one_by_one(a, 10L * 1000 * 1000) == APPLY_BUSY);
	CHECK(sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(h);
	CHECK(one("SELECT count(*) FROM webhook_events WHERE state = "
	    "'pending'") == 1);
	/* The lock let go: the same entry is applied, once. */
	CHECK(apply_batch(a, 256, 10L * 1000 * 1000) == 1);
	CHECK(one("SELECT count(*) FROM webhook_events WHERE state = "
	    "'applied'") == 1);
	CHECK(one("SELECT count(*) FROM messages") == 1);
	apply_free(a);
	db_close(d);
}

TEST(entry_that_trips_the_database_is_marked_failed_alone)
{
	const char *const w[] = { "wamid.c.1", "wamid.c.2" };
	struct db	*d = fresh();
	struct apply	*a;

	CHECK(d != NULL);
	if (d == NULL)
		return;
	CHECK((a = apply_new(d, NULL, 1, 1)) != NULL);
	CHECK(journal(d, w, 2) == 0);
	/* Recording the first entry's outcome fails: a database error. */
	CHECK(exec("CREATE TRIGGER trip BEFORE UPDATE ON webhook_events "
	    "WHEN NEW.id = (SELECT min(id) FROM webhook_events) AND "
	    "NEW.state = 'applied' BEGIN SELECT RAISE(ABORT, 'trip'); END")
	    == 0);
	CHECK(apply_batch(a, 256, 10L * 1000 * 1000) == -1);
	/* The whole batch rolled back: nothing of either entry stored. */
	CHECK(one("SELECT count(*) FROM messages") == 0);
	CHECK(one("SELECT count(*) FROM webhook_events WHERE state = "
	    "'pending'") == 2);
	CHECK(apply_one_by_one(a, 10L * 1000 * 1000) == 0);
	CHECK(one("SELECT count(*) FROM webhook_events WHERE state = "
	    "'failed' AND error = 'database error while applying; replay it' "
	    "AND id = (SELECT min(id) FROM webhook_events)") == 1);
	/* The journal moves on behind it. */
	CHECK(apply_batch(a, 256, 10L * 1000 * 1000) == 1);
	CHECK(one("SELECT count(*) FROM messages WHERE wamid = "
	    "'wamid.c.2'") == 1);
	CHECK(one("SELECT count(*) FROM webhook_events WHERE state = "
	    "'pending'") == 0);
	apply_free(a);
	db_close(d);
}

TEST(free_accepts_null_and_what_was_read_ahead)
{
	const char *const w[] = { "wamid.d.1", "wamid.d.2" };
	struct db	*d = fresh();
	struct apply	*a;

	apply_free(NULL);
	CHECK(d != NULL);
	if (d == NULL)
		return;
	CHECK((a = apply_new(d, NULL, 1, 1)) != NULL);
	CHECK(journal(d, w, 2) == 0);
	/* One applied, one parsed ahead and still held: freed with a. */
	CHECK(apply_batch(a, 1, 10L * 1000 * 1000) == 1);
	apply_free(a);
	CHECK(one("SELECT count(*) FROM webhook_events WHERE state = "
	    "'pending'") == 1);
	db_close(d);
}

/* Removes the test's files and directory. */
static void
cleanup(void)
{
	static const char *const ext[] = { "", "-wal", "-shm", "-journal" };
	char	 f[96];
	size_t	 k;
	int	 i;

	for (i = 1; i <= nfile; i++)
		for (k = 0; k < sizeof(ext) / sizeof(ext[0]); k++)
			if (snprintf(f, sizeof(f), "%s/wa%d.db%s", dir, i,
			    ext[k]) < (int)sizeof(f))
				(void)unlink(f);	/* may not exist */
	if (rmdir(dir) == -1)
		perror(dir);
}

int
main(void)
{
	int	 rc;

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	RUN(batch_stops_at_max_and_the_rest_waits);
	RUN(another_writer_is_busy_and_nothing_is_marked);
	RUN(entry_that_trips_the_database_is_marked_failed_alone);
	RUN(free_accepts_null_and_what_was_read_ahead);
	rc = CHECK_DONE();
	cleanup();
	return rc;
}
