/*
 * test_db_journal.c: the webhook journal in storage, without nginx:
 * db_event_insert (one, a group, the same body twice, a busy lock),
 * db_event_next's order, db_event_finish's states and counts, the
 * backlog and /health's figures.
 */
#include "dbt.h"

/* SHA-256 of the two bytes "{}". */
#define SHA_EMPTY_OBJECT \
	"44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"

TEST(insert_one_stores_the_body_pending)
{
	struct tdb	 t;
	struct db_event	 ev;
	char		 b[128];

	CHECK(tdb_open(&t) == 0);
	memset(&ev, 0, sizeof(ev));
	ev.body = "{}";
	ev.len = 2;
	CHECK(db_event_insert(t.db, &ev, 1, NOW_MS) == DB_OK);
	CHECK(ev.id == 1);
	CHECK(strcmp(ev.sha256, SHA_EMPTY_OBJECT) == 0);
	CHECK(q_int(&t, "SELECT count(*) FROM webhook_events") == 1);
	CHECK(strcmp(q_text(&t, b, sizeof(b), "SELECT state FROM "
	    "webhook_events WHERE id = 1"), "pending") == 0);
	CHECK(strcmp(q_text(&t, b, sizeof(b), "SELECT body FROM "
	    "webhook_events WHERE id = 1"), "{}") == 0);
	CHECK(q_int(&t, "SELECT body_size FROM webhook_events") == 2);
	CHECK(strcmp(q_text(&t, b, sizeof(b), "SELECT body_sha256 FROM "
	    "webhook_events"), SHA_EMPTY_OBJECT) == 0);
	CHECK(q_int(&t, "SELECT received_at FROM webhook_events") == NOW_MS);
	CHECK(q_int(&t, "SELECT applied_at FROM webhook_events") == Q_NONE);
	CHECK(q_int(&t, "SELECT items_total FROM webhook_events") == Q_NONE);
	CHECK(db_backlog(t.db) == 1);
	tdb_close(&t);
}

TEST(insert_group_numbers_each_in_order)
{
	struct tdb	 t;
	struct db_event	 ev[3];
	static const char *const bodies[3] = { "{\"a\":1}", "{\"b\":22}",
	    "{\"c\":333}" };
	char		 b[128];
	size_t		 i;

	CHECK(tdb_open(&t) == 0);
	memset(ev, 0, sizeof(ev));
	for (i = 0; i < 3; i++) {
		ev[i].body = bodies[i];
		ev[i].len = strlen(bodies[i]);
	}
	CHECK(db_event_insert(t.db, ev, 3, NOW_MS) == DB_OK);
	CHECK(ev[0].id == 1 && ev[1].id == 2 && ev[2].id == 3);
	CHECK(q_int(&t, "SELECT count(*) FROM webhook_events") == 3);
	for (i = 0; i < 3; i++) {
		CHECK(strcmp(q_text(&t, b, sizeof(b), "SELECT body FROM "
		    "webhook_events WHERE id = %lld", (long long)ev[i].id),
		    bodies[i]) == 0);
		CHECK(q_int(&t, "SELECT body_size FROM webhook_events WHERE "
		    "id = %lld", (long long)ev[i].id) ==
		    (int64_t)strlen(bodies[i]));
	}
	/* One transaction: one time for the group. */
	CHECK(q_int(&t, "SELECT count(*) FROM webhook_events WHERE "
	    "received_at = %lld", NOW_MS) == 3);
	CHECK(db_backlog(t.db) == 3);
	tdb_close(&t);
}

/* A redelivery is journalled again: the journal keeps every delivery. */
TEST(insert_same_body_twice_keeps_both)
{
	struct tdb	 t;
	struct db_event	 ev;

	CHECK(tdb_open(&t) == 0);
	memset(&ev, 0, sizeof(ev));
	ev.body = "{}";
	ev.len = 2;
	CHECK(db_event_insert(t.db, &ev, 1, NOW_MS) == DB_OK);
	CHECK(ev.id == 1);
	CHECK(db_event_insert(t.db, &ev, 1, NOW_MS + 5) == DB_OK);
	CHECK(ev.id == 2);
	CHECK(q_int(&t, "SELECT count(*) FROM webhook_events WHERE "
	    "body_sha256 = '" SHA_EMPTY_OBJECT "'") == 2);
	CHECK(db_backlog(t.db) == 2);
	tdb_close(&t);
}

/* While another writer holds the lock: DB_BUSY, and nothing stored. */
TEST(insert_busy_stores_nothing)
{
	struct tdb	 t;
	struct db	*r;
	struct db_event	 ev[2];

	CHECK(tdb_open(&t) == 0);
	CHECK((r = db_open(t.path, DB_ROLE_RESPONDER, 1, 30)) != NULL);
	memset(ev, 0, sizeof(ev));
	ev[0].body = ev[1].body = "{}";
	ev[0].len = ev[1].len = 2;
	CHECK(sqlite3_exec(t.h, "BEGIN IMMEDIATE", NULL, NULL, NULL) ==
	    SQLITE_OK);
	CHECK(r != NULL && db_event_insert(r, ev, 2, NOW_MS) == DB_BUSY);
	CHECK(ev[0].id == 0 && ev[1].id == 0);
	CHECK(sqlite3_exec(t.h, "ROLLBACK", NULL, NULL, NULL) == SQLITE_OK);
	CHECK(q_int(&t, "SELECT count(*) FROM webhook_events") == 0);
	/* Once the lock is free the same responder stores (and syncs). */
	CHECK(r != NULL && db_event_insert(r, ev, 2, NOW_MS) == DB_OK);
	CHECK(ev[0].id == 1 && ev[1].id == 2);
	CHECK(q_int(&t, "SELECT count(*) FROM webhook_events") == 2);
	db_close(r);
	tdb_close(&t);
}

/* Binary bodies come back byte for byte, with a NUL after them. */
TEST(next_returns_a_copy_of_the_body)
{
	struct tdb	 t;
	static const char raw[5] = { '{', '\0', 'x', '\n', '}' };
	char		*body = NULL;
	size_t		 len = 0;
	int64_t		 id = 0, e;

	CHECK(tdb_open(&t) == 0);
	CHECK((e = journal_add(&t, raw, sizeof(raw))) == 1);
	CHECK(db_event_next(t.db, 0, &id, &body, &len) == 1);
	CHECK(id == 1);
	CHECK(len == sizeof(raw));
	CHECK(body != NULL && memcmp(body, raw, sizeof(raw)) == 0);
	CHECK(body != NULL && body[len] == '\0');
	free(body);
	tdb_close(&t);
}

/* Pending entries in id order, after the one given; settled ones skipped. */
TEST(next_follows_id_order_and_skips_settled)
{
	struct tdb	 t;
	struct db_tally	 a = { 1, 1, 0, 0 };
	char		*body = NULL;
	size_t		 len;
	int64_t		 id = 0;

	CHECK(tdb_open(&t) == 0);
	CHECK(journal_add(&t, "{\"n\":1}", 7) == 1);
	CHECK(journal_add(&t, "{\"n\":2}", 7) == 2);
	CHECK(journal_add(&t, "{\"n\":3}", 7) == 3);
	CHECK(db_event_next(t.db, 0, &id, &body, &len) == 1);
	CHECK(id == 1 && body != NULL && strcmp(body, "{\"n\":1}") == 0);
	free(body);
	CHECK(db_event_next(t.db, 1, &id, &body, &len) == 1);
	CHECK(id == 2 && body != NULL && strcmp(body, "{\"n\":2}") == 0);
	free(body);
	CHECK(journal_finish(&t, 2, "applied", &a, NULL) == 0);
	CHECK(db_event_next(t.db, 0, &id, &body, &len) == 1);
	CHECK(id == 1);
	free(body);
	CHECK(db_event_next(t.db, 1, &id, &body, &len) == 1);
	CHECK(id == 3 && body != NULL && strcmp(body, "{\"n\":3}") == 0);
	free(body);
	body = NULL;
	id = -7;
	CHECK(db_event_next(t.db, 3, &id, &body, &len) == 0);
	CHECK(id == -7 && body == NULL);
	tdb_close(&t);
}

TEST(next_on_an_empty_journal_finds_none)
{
	struct tdb	 t;
	char		*body = NULL;
	size_t		 len = 0;
	int64_t		 id = 0;

	CHECK(tdb_open(&t) == 0);
	CHECK(db_event_next(t.db, 0, &id, &body, &len) == 0);
	CHECK(body == NULL && id == 0);
	CHECK(db_backlog(t.db) == 0);
	tdb_close(&t);
}

/* Each state is stored with its counts, error and time; backlog drops. */
TEST(finish_stores_state_counts_and_error)
{
	static const struct {
		const char	*state;
		struct db_tally	 a;
		const char	*error;
	} f[] = {
		{ "applied", { 3, 3, 0, 0 }, NULL },
		{ "partial", { 3, 1, 1, 1 }, "entry[0].changes[0]: bad" },
		{ "duplicate", { 2, 0, 2, 0 }, NULL },
		{ "failed", { 0, 0, 0, 0 }, "not JSON" },
	};
	struct tdb	 t;
	char		 b[128];
	int64_t		 id;
	size_t		 i;

	CHECK(tdb_open(&t) == 0);
	for (i = 0; i < 4; i++)
		CHECK(journal_add(&t, "{}", 2) == (int64_t)i + 1);
	CHECK(db_backlog(t.db) == 4);
	for (i = 0; i < 4; i++) {
		id = (int64_t)i + 1;
		CHECK(journal_finish(&t, id, f[i].state, &f[i].a,
		    f[i].error) == 0);
		CHECK(db_backlog(t.db) == 3 - (int64_t)i);
		CHECK(strcmp(q_text(&t, b, sizeof(b), "SELECT state FROM "
		    "webhook_events WHERE id = %lld", (long long)id),
		    f[i].state) == 0);
		CHECK(q_int(&t, "SELECT items_total FROM webhook_events "
		    "WHERE id = %lld", (long long)id) == f[i].a.total);
		CHECK(q_int(&t, "SELECT items_applied FROM webhook_events "
		    "WHERE id = %lld", (long long)id) == f[i].a.applied);
		CHECK(q_int(&t, "SELECT items_duplicate FROM webhook_events "
		    "WHERE id = %lld", (long long)id) == f[i].a.duplicate);
		CHECK(q_int(&t, "SELECT items_failed FROM webhook_events "
		    "WHERE id = %lld", (long long)id) == f[i].a.failed);
		CHECK(strcmp(q_text(&t, b, sizeof(b), "SELECT error FROM "
		    "webhook_events WHERE id = %lld", (long long)id),
		    f[i].error != NULL ? f[i].error : "(null)") == 0);
		CHECK(q_int(&t, "SELECT applied_at FROM webhook_events "
		    "WHERE id = %lld", (long long)id) == NOW_MS);
	}
	/* Settling keeps the body (retention removes it later). */
	CHECK(q_int(&t, "SELECT count(*) FROM webhook_events WHERE "
	    "body IS NOT NULL") == 4);
	tdb_close(&t);
}

/* A state the schema does not know is refused; the entry stays pending. */
TEST(finish_refuses_an_unknown_state)
{
	struct tdb	 t;
	struct db_tally	 a = { 1, 1, 0, 0 };
	char		 b[64];

	CHECK(tdb_open(&t) == 0);
	CHECK(journal_add(&t, "{}", 2) == 1);
	CHECK(journal_finish(&t, 1, "done", &a, NULL) == -1);
	CHECK(strcmp(q_text(&t, b, sizeof(b), "SELECT state FROM "
	    "webhook_events WHERE id = 1"), "pending") == 0);
	CHECK(db_backlog(t.db) == 1);
	tdb_close(&t);
}

TEST(health_of_a_fresh_database)
{
	struct tdb	 t;
	struct db_health h;

	CHECK(tdb_open(&t) == 0);
	memset(&h, 0xff, sizeof(h));
	CHECK(db_health_get(t.db, &h) == 0);
	CHECK(h.schema_version == db_schema_known());
	CHECK(h.schema_version >= 7);
	CHECK(h.backlog == 0);
	CHECK(h.heartbeat_at == 0);
	CHECK(h.worker_pid == 0);
	CHECK(h.outbox_depth == 0);
	CHECK(h.outbox_oldest_ms == 0);
	tdb_close(&t);
}

/* Backlog, heartbeat and the outbox's depth and oldest row. */
TEST(health_reports_backlog_heartbeat_and_outbox)
{
	struct tdb		 t;
	struct db_health	 h;
	struct db_outbox_new	 n;
	struct db_tally		 a = { 0, 0, 0, 0 };
	int64_t			 id;

	CHECK(tdb_open(&t) == 0);
	CHECK(journal_add(&t, "{}", 2) == 1);
	CHECK(journal_add(&t, "{}", 2) == 2);
	CHECK(journal_finish(&t, 1, "failed", &a, "x") == 0);
	CHECK(db_heartbeat(t.db, 4242, 1700000000, NOW_S) == 0);
	memset(&n, 0, sizeof(n));
	n.pnid = PNID;
	n.recipient = "15550002222";
	n.kind = "text";
	n.body = "{}";
	n.source = "api";
	CHECK(db_outbox_insert(t.db, &n, 1767000000123LL, &id) == DB_OK);
	CHECK(db_outbox_insert(t.db, &n, 1767000005000LL, &id) == DB_OK);
	CHECK(db_health_get(t.db, &h) == 0);
	CHECK(h.backlog == 1);
	CHECK(h.worker_pid == 4242);
	CHECK(h.heartbeat_at == NOW_S);
	CHECK(h.outbox_depth == 2);
	CHECK(h.outbox_oldest_ms == 1767000000123LL);
	CHECK(q_int(&t, "SELECT started_at FROM worker_status") ==
	    1700000000);
	/* A settled row leaves the depth. */
	CHECK(db_outbox_fail(t.db, 1, 0, "refused", NULL) == 0);
	CHECK(db_health_get(t.db, &h) == 0);
	CHECK(h.outbox_depth == 1);
	CHECK(h.outbox_oldest_ms == 1767000005000LL);
	/* A second heartbeat updates the one row. */
	CHECK(db_heartbeat(t.db, 4343, 1700000100, NOW_S + 5) == 0);
	CHECK(db_health_get(t.db, &h) == 0);
	CHECK(h.worker_pid == 4343);
	CHECK(h.heartbeat_at == NOW_S + 5);
	CHECK(q_int(&t, "SELECT count(*) FROM worker_status") == 1);
	tdb_close(&t);
}

int
main(void)
{
	RUN(insert_one_stores_the_body_pending);
	RUN(insert_group_numbers_each_in_order);
	RUN(insert_same_body_twice_keeps_both);
	RUN(insert_busy_stores_nothing);
	RUN(next_returns_a_copy_of_the_body);
	RUN(next_follows_id_order_and_skips_settled);
	RUN(next_on_an_empty_journal_finds_none);
	RUN(finish_stores_state_counts_and_error);
	RUN(finish_refuses_an_unknown_state);
	RUN(health_of_a_fresh_database);
	RUN(health_reports_backlog_heartbeat_and_outbox);
	return CHECK_DONE();
}
