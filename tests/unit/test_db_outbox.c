/*
 * test_db_outbox.c: the outbox, sender state and media rows in storage,
 * without nginx: queueing and idempotency keys, what is due, claims and
 * their leases, recovery after a crash, retry, defer, fail and accept,
 * pausing a number, media downloads and uploads.
 */
#include "dbt.h"

#define ALICE	"15550002222"
#define BOB	"15550003333"
#define T0	1767269000000LL		/* unix ms the tests start at */

/* Queues a text row for recipient at now_ms; its id, or -1. */
static int64_t
queue(struct tdb *t, const char *recipient, int64_t now_ms, const char *key)
{
	struct db_outbox_new	 n;
	int64_t			 id;

	memset(&n, 0, sizeof(n));
	n.pnid = PNID;
	n.recipient = recipient;
	n.kind = "text";
	n.body = "{\"type\":\"text\",\"text\":{\"body\":\"hello\"}}";
	n.text = "hello";
	n.source = "api";
	n.free_form = 1;
	n.idem_key = key;
	if (db_outbox_insert(t->db, &n, now_ms, &id) != DB_OK)
		return -1;
	return id;
}

/* The ids db_outbox_due() gives at now, as "1,2,3" in buf. */
static const char *
due(struct tdb *t, int64_t now, int max, char *buf, size_t sz)
{
	struct db_outbox_item	 it[16];
	size_t			 off = 0;
	int			 n, i;

	buf[0] = '\0';
	if ((n = db_outbox_due(t->db, now, it, max)) < 0)
		return "error";
	for (i = 0; i < n; i++) {
		if (off < sz)
			off += (size_t)snprintf(buf + off, sz - off, "%s%lld",
			    i ? "," : "", (long long)it[i].id);
		db_outbox_item_clear(&it[i]);
	}
	return buf;
}

TEST(insert_queues_a_row_due_now)
{
	struct tdb		 t;
	struct db_outbox_item	 it;
	char			 b[256];

	CHECK(tdb_open(&t) == 0);
	memset(&it, 0, sizeof(it));
	CHECK(queue(&t, ALICE, T0, NULL) == 1);
	CHECK(strcmp(q_text(&t, b, sizeof(b), "SELECT state || ' ' || "
	    "attempts || ' ' || next_attempt_at || ' ' || created_at || ' ' || "
	    "source || ' ' || free_form FROM outbox WHERE id = 1"),
	    "queued 0 1767269000000 1767269000000 api 1") == 0);
	CHECK(db_outbox_due(t.db, T0 - 1, &it, 1) == 0);
	CHECK(db_outbox_due(t.db, T0, &it, 1) == 1);
	CHECK(it.id == 1);
	CHECK(strcmp(it.pnid, PNID) == 0);
	CHECK(strcmp(it.recipient, ALICE) == 0);
	CHECK(strcmp(it.kind, "text") == 0);
	CHECK(it.body != NULL && strcmp(it.body,
	    "{\"type\":\"text\",\"text\":{\"body\":\"hello\"}}") == 0);
	CHECK(it.media_file == NULL && it.media_mime == NULL);
	CHECK(it.free_form == 1 && it.attempts == 0 && it.optout_ack == 0);
	db_outbox_item_clear(&it);
	CHECK(it.body == NULL);
	tdb_close(&t);
}

/* A key names one row per number: a repeat is DB_DUP, found by key. */
TEST(idempotency_key_finds_the_first_row)
{
	struct tdb	 t;
	struct db_outbox_new n;
	int64_t		 id = 0;

	CHECK(tdb_open(&t) == 0);
	CHECK(db_outbox_by_key(t.db, PNID, "order-42", &id) == 0);
	CHECK(queue(&t, ALICE, T0, "order-42") == 1);
	CHECK(queue(&t, ALICE, T0, "order-43") == 2);
	CHECK(db_outbox_by_key(t.db, PNID, "order-42", &id) == 1);
	CHECK(id == 1);
	CHECK(db_outbox_by_key(t.db, PNID, "order-43", &id) == 1);
	CHECK(id == 2);
	CHECK(queue(&t, BOB, T0 + 5, "order-42") == -1);
	memset(&n, 0, sizeof(n));
	n.pnid = PNID;
	n.recipient = BOB;
	n.kind = "text";
	n.body = "{}";
	n.source = "api";
	n.idem_key = "order-42";
	id = 0;
	CHECK(db_outbox_insert(t.db, &n, T0, &id) == DB_DUP);
	CHECK(id == 0);
	CHECK(q_int(&t, "SELECT count(*) FROM outbox") == 2);
	/* Another number may use the same key. */
	n.pnid = "200300400500777";
	CHECK(db_outbox_insert(t.db, &n, T0, &id) == DB_OK);
	CHECK(id == 3);
	CHECK(db_outbox_by_key(t.db, "200300400500777", "order-42", &id) == 1);
	CHECK(id == 3);
	/* No key: any number of rows. */
	CHECK(queue(&t, ALICE, T0, NULL) == 4);
	CHECK(queue(&t, ALICE, T0, NULL) == 5);
	tdb_close(&t);
}

/* Each recipient's oldest open row only, in due order, at most max. */
TEST(due_keeps_each_recipients_order)
{
	struct tdb	 t;
	char		 b[128];

	CHECK(tdb_open(&t) == 0);
	CHECK(queue(&t, ALICE, T0, NULL) == 1);
	CHECK(queue(&t, ALICE, T0, NULL) == 2);
	CHECK(queue(&t, BOB, T0 + 10, NULL) == 3);
	CHECK(queue(&t, "15550005555", T0 + 20, NULL) == 4);
	CHECK(strcmp(due(&t, T0 + 20, 16, b, sizeof(b)), "1,3,4") == 0);
	CHECK(strcmp(due(&t, T0 + 10, 16, b, sizeof(b)), "1,3") == 0);
	CHECK(strcmp(due(&t, T0 + 20, 2, b, sizeof(b)), "1,3") == 0);
	/* Alice's second row waits while her first is open. */
	CHECK(db_outbox_claim(t.db, 1, T0 + 15000) == 1);
	CHECK(strcmp(due(&t, T0 + 20, 16, b, sizeof(b)), "3,4") == 0);
	CHECK(db_outbox_fail(t.db, 1, 131026, "Message undeliverable",
	    NULL) == 0);
	CHECK(strcmp(due(&t, T0 + 20, 16, b, sizeof(b)), "2,3,4") == 0);
	tdb_close(&t);
}

/* A claimed row is sending and not due again while the worker runs. */
TEST(claim_leases_the_row)
{
	struct tdb	 t;
	char		 b[128];

	CHECK(tdb_open(&t) == 0);
	CHECK(queue(&t, ALICE, T0, NULL) == 1);
	CHECK(db_outbox_claim(t.db, 1, T0 + 15000) == 1);
	CHECK(strcmp(q_text(&t, b, sizeof(b), "SELECT state || ' ' || "
	    "attempts || ' ' || lease_until FROM outbox"),
	    "sending 1 1767269015000") == 0);
	CHECK(strcmp(due(&t, T0 + 1, 16, b, sizeof(b)), "") == 0);
	/* Past the lease too: only db_outbox_recover() requeues it. */
	CHECK(strcmp(due(&t, T0 + 15001, 16, b, sizeof(b)), "") == 0);
	CHECK(db_outbox_claim(t.db, 1, T0 + 30000) == 0);
	CHECK(q_int(&t, "SELECT attempts FROM outbox") == 1);
	CHECK(db_outbox_claim(t.db, 99, T0 + 30000) == 0);
	tdb_close(&t);
}

/* After a crash the rows left sending are queued again, attempts kept. */
TEST(recover_requeues_leased_rows)
{
	struct tdb		 t;
	struct db_outbox_item	 it[4];
	char			 b[128];
	int			 n;

	CHECK(tdb_open(&t) == 0);
	CHECK(queue(&t, ALICE, T0, NULL) == 1);
	CHECK(queue(&t, BOB, T0, NULL) == 2);
	CHECK(queue(&t, "15550005555", T0, NULL) == 3);
	CHECK(db_outbox_claim(t.db, 1, T0 + 15000) == 1);
	CHECK(db_outbox_claim(t.db, 2, T0 + 15000) == 1);
	CHECK(db_outbox_resent(t.db, 2, 2) == 0);
	CHECK(db_outbox_recover(t.db, T0 + 500) == 2);
	CHECK(strcmp(q_text(&t, b, sizeof(b), "SELECT group_concat(id || ':' "
	    "|| state || ':' || attempts || ':' || next_attempt_at || ':' || "
	    "coalesce(lease_until, '-'), ' ') FROM (SELECT * FROM outbox "
	    "ORDER BY id)"),
	    "1:queued:1:1767269000500:- 2:queued:3:1767269000500:- "
	    "3:queued:0:1767269000000:-") == 0);
	memset(it, 0, sizeof(it));
	CHECK((n = db_outbox_due(t.db, T0 + 500, it, 4)) == 3);
	CHECK(it[0].id == 3 && it[0].attempts == 0);
	CHECK(it[1].id == 1 && it[1].attempts == 1);
	CHECK(it[2].id == 2 && it[2].attempts == 3);
	while (n > 0)
		db_outbox_item_clear(&it[--n]);
	/* Nothing left sending: a second recovery finds none. */
	CHECK(db_outbox_recover(t.db, T0 + 600) == 0);
	tdb_close(&t);
}

/* A retry queues the row for later with the error; only if sending. */
TEST(retry_waits_with_the_error)
{
	struct tdb	 t;
	char		 b[256];

	CHECK(tdb_open(&t) == 0);
	CHECK(queue(&t, ALICE, T0, NULL) == 1);
	CHECK(db_outbox_retry(t.db, 1, T0 + 9999, 130429, "x", NULL) == 0);
	CHECK(q_int(&t, "SELECT next_attempt_at FROM outbox") == T0);
	CHECK(q_int(&t, "SELECT error_code FROM outbox") == Q_NONE);
	CHECK(db_outbox_claim(t.db, 1, T0 + 15000) == 1);
	CHECK(db_outbox_retry(t.db, 1, T0 + 4000, 130429, "Rate limit hit",
	    "Too many messages") == 0);
	CHECK(strcmp(q_text(&t, b, sizeof(b), "SELECT state || ' ' || "
	    "attempts || ' ' || next_attempt_at || ' ' || "
	    "coalesce(lease_until, '-') || ' ' || error_code || ' ' || "
	    "error_title || ' ' || error_details FROM outbox"),
	    "queued 1 1767269004000 - 130429 Rate limit hit Too many messages")
	    == 0);
	CHECK(strcmp(due(&t, T0 + 3999, 16, b, sizeof(b)), "") == 0);
	CHECK(strcmp(due(&t, T0 + 4000, 16, b, sizeof(b)), "1") == 0);
	CHECK(db_outbox_next_due(t.db, T0 + 1000) == T0 + 4000);
	tdb_close(&t);
}

/* Deferring moves a queued row only. */
TEST(defer_moves_a_queued_row)
{
	struct tdb	 t;

	CHECK(tdb_open(&t) == 0);
	CHECK(queue(&t, ALICE, T0, NULL) == 1);
	CHECK(db_outbox_defer(t.db, 1, T0 + 6000) == 0);
	CHECK(q_int(&t, "SELECT next_attempt_at FROM outbox") == T0 + 6000);
	CHECK(q_int(&t, "SELECT attempts FROM outbox") == 0);
	CHECK(db_outbox_claim(t.db, 1, T0 + 20000) == 1);
	CHECK(db_outbox_defer(t.db, 1, T0 + 9000) == 0);
	CHECK(q_int(&t, "SELECT next_attempt_at FROM outbox") == T0 + 6000);
	tdb_close(&t);
}

/*
 * Issue 13: the recipient's later rows move with it (never earlier), so
 * the due query does not look at them again; others stay.
 */
TEST(defer_moves_the_recipients_later_rows)
{
	struct tdb	 t;

	CHECK(tdb_open(&t) == 0);
	CHECK(queue(&t, ALICE, T0, NULL) == 1);
	CHECK(queue(&t, ALICE, T0 + 1, NULL) == 2);
	CHECK(queue(&t, BOB, T0 + 2, NULL) == 3);
	CHECK(queue(&t, ALICE, T0 + 3, NULL) == 4);
	CHECK(db_outbox_defer(t.db, 4, T0 + 50000) == 0);
	CHECK(db_outbox_defer(t.db, 1, T0 + 6000) == 0);
	CHECK(q_int(&t, "SELECT next_attempt_at FROM outbox WHERE id = 1") ==
	    T0 + 6000);
	CHECK(q_int(&t, "SELECT next_attempt_at FROM outbox WHERE id = 2") ==
	    T0 + 6000);
	CHECK(q_int(&t, "SELECT next_attempt_at FROM outbox WHERE id = 3") ==
	    T0 + 2);
	CHECK(q_int(&t, "SELECT next_attempt_at FROM outbox WHERE id = 4") ==
	    T0 + 50000);
	tdb_close(&t);
}

/* libcurl's own resends count, while the row is in flight only. */
TEST(resent_counts_attempts_in_flight)
{
	struct tdb	 t;

	CHECK(tdb_open(&t) == 0);
	CHECK(queue(&t, ALICE, T0, NULL) == 1);
	CHECK(db_outbox_resent(t.db, 1, 2) == 0);
	CHECK(q_int(&t, "SELECT attempts FROM outbox") == 0);
	CHECK(db_outbox_claim(t.db, 1, T0 + 15000) == 1);
	CHECK(db_outbox_resent(t.db, 1, 2) == 0);
	CHECK(q_int(&t, "SELECT attempts FROM outbox") == 3);
	tdb_close(&t);
}

/* Failed for good: never due, and a settled row cannot fail later. */
TEST(fail_settles_the_row)
{
	struct tdb	 t;
	char		 b[256];

	CHECK(tdb_open(&t) == 0);
	CHECK(queue(&t, ALICE, T0, NULL) == 1);
	CHECK(queue(&t, BOB, T0, NULL) == 2);
	CHECK(db_outbox_fail(t.db, 1, 0, "opted out", NULL) == 0);
	CHECK(strcmp(q_text(&t, b, sizeof(b), "SELECT state || ' ' || "
	    "coalesce(error_code, '-') || ' ' || error_title FROM outbox "
	    "WHERE id = 1"), "failed - opted out") == 0);
	CHECK(strcmp(due(&t, T0 + 99999, 16, b, sizeof(b)), "2") == 0);
	CHECK(db_outbox_claim(t.db, 2, T0 + 15000) == 1);
	CHECK(db_outbox_accept(t.db, 2, "wamid.OK2", T0 + 300) == 0);
	CHECK(db_outbox_fail(t.db, 2, 131000, "late", NULL) == 0);
	CHECK(strcmp(q_text(&t, b, sizeof(b), "SELECT state || ' ' || "
	    "coalesce(error_code, '-') FROM outbox WHERE id = 2"),
	    "accepted -") == 0);
	tdb_close(&t);
}

/* Meta took it: accepted, and one outbound message row, linked. */
TEST(accept_writes_the_outbound_message_once)
{
	struct tdb	 t;
	char		 b[512];

	CHECK(tdb_open(&t) == 0);
	CHECK(queue(&t, ALICE, T0, NULL) == 1);
	CHECK(db_outbox_claim(t.db, 1, T0 + 15000) == 1);
	CHECK(db_outbox_accept(t.db, 1, "wamid.OUT1", T0 + 1234) == 0);
	CHECK(strcmp(q_text(&t, b, sizeof(b), "SELECT state || ' ' || wamid "
	    "|| ' ' || sent_at || ' ' || coalesce(lease_until, '-') FROM "
	    "outbox"), "accepted wamid.OUT1 1767269001234 -") == 0);
	CHECK(strcmp(q_text(&t, b, sizeof(b), "SELECT direction || ' ' || "
	    "recipient || ' ' || type || ' ' || text || ' ' || status || ' ' "
	    "|| timestamp FROM messages"),
	    "out " ALICE " text hello accepted 1767269001") == 0);
	CHECK(q_int(&t, "SELECT message_id = (SELECT id FROM messages) "
	    "FROM outbox") == 1);
	CHECK(q_int(&t, "SELECT count(*) FROM contacts WHERE wa_id = '" ALICE
	    "'") == 1);
	CHECK(strcmp(q_text(&t, b, sizeof(b), "SELECT message_count || ' ' || "
	    "unread_count || ' ' || last_message_at FROM conversations"),
	    "1 0 1767269001") == 0);
	/* The second word on it (a status's callback) changes nothing. */
	CHECK(db_outbox_accept(t.db, 1, "wamid.OUT1", T0 + 5000) == 0);
	CHECK(db_outbox_accept(t.db, 1, "wamid.OTHER", T0 + 5000) == 0);
	CHECK(q_int(&t, "SELECT count(*) FROM messages") == 1);
	CHECK(q_int(&t, "SELECT sent_at FROM outbox") == T0 + 1234);
	CHECK(q_int(&t, "SELECT message_count FROM conversations") == 1);
	tdb_close(&t);
}

/*
 * A person's media send (issue 14): the message keeps who sent it, the
 * media id the upload got, the file's type and name, so the uploaded
 * file is found again by the message; a text from a key keeps none.
 */
TEST(accept_keeps_the_sender_and_the_file)
{
	struct tdb		 t;
	struct db_outbox_new	 n;
	int64_t			 id;
	char			 b[512];

	CHECK(tdb_open(&t) == 0);
	CHECK(sqlite3_exec(t.h, "INSERT INTO users (id, name, display_name, "
	    "role, password_hash, password_at, created_at) VALUES (7, 'ann', "
	    "'Ann A.', 'agent', 'x', 0, 0)", NULL, NULL, NULL) == SQLITE_OK);
	memset(&n, 0, sizeof(n));
	n.pnid = PNID;
	n.recipient = ALICE;
	n.kind = "document";
	n.body = "{\"type\":\"document\",\"document\":{\"id\":\"@upload@\","
	    "\"filename\":\"q.pdf\"}}";
	n.media_file = "/state/media/ab/abcd.pdf";
	n.media_mime = "application/pdf";
	n.source = "api";
	n.free_form = 1;
	n.user_id = 7;
	CHECK(db_outbox_insert(t.db, &n, T0, &id) == DB_OK && id == 1);
	CHECK(q_int(&t, "SELECT user_id FROM outbox") == 7);
	CHECK(db_outbox_set_body(t.db, 1, "{\"type\":\"document\","
	    "\"document\":{\"id\":\"5551\",\"filename\":\"q.pdf\"}}") == 0);
	CHECK(db_media_out_insert(t.db, PNID, "5551", "application/pdf", NULL,
	    10, "ab/abcd.pdf", NOW_S) == 0);
	CHECK(db_outbox_claim(t.db, 1, T0 + 15000) == 1);
	CHECK(db_outbox_accept(t.db, 1, "wamid.DOC1", T0 + 10) == 0);
	CHECK(strcmp(q_text(&t, b, sizeof(b), "SELECT media_id || ' ' || "
	    "mime_type || ' ' || filename || ' ' || user_id FROM messages"),
	    "5551 application/pdf q.pdf 7") == 0);
	CHECK(strcmp(q_text(&t, b, sizeof(b), "SELECT md.path FROM messages m "
	    "JOIN media md ON md.media_id = m.media_id AND md.direction = "
	    "'out'"), "ab/abcd.pdf") == 0);
	CHECK(queue(&t, BOB, T0 + 20, NULL) == 2);
	CHECK(db_outbox_claim(t.db, 2, T0 + 15000) == 1);
	CHECK(db_outbox_accept(t.db, 2, "wamid.TXT2", T0 + 30) == 0);
	CHECK(q_int(&t, "SELECT count(*) FROM messages WHERE wamid = "
	    "'wamid.TXT2' AND user_id IS NULL AND media_id IS NULL AND "
	    "mime_type IS NULL") == 1);
	tdb_close(&t);
}

/* A read receipt and a BSUID recipient. */
TEST(accept_of_a_receipt_writes_no_message)
{
	struct tdb		 t;
	struct db_outbox_new	 n;
	int64_t			 id;
	char			 b[128];

	CHECK(tdb_open(&t) == 0);
	memset(&n, 0, sizeof(n));
	n.pnid = PNID;
	n.kind = "read";
	n.body = "{\"status\":\"read\"}";
	n.reply_to = "wamid.IN1";
	n.source = "bot";
	CHECK(db_outbox_insert(t.db, &n, T0, &id) == DB_OK);
	CHECK(db_outbox_claim(t.db, id, T0 + 15000) == 1);
	CHECK(db_outbox_accept(t.db, id, NULL, T0 + 10) == 0);
	CHECK(strcmp(q_text(&t, b, sizeof(b), "SELECT state FROM outbox"),
	    "accepted") == 0);
	CHECK(q_int(&t, "SELECT count(*) FROM messages") == 0);
	CHECK(q_int(&t, "SELECT count(*) FROM contacts") == 0);
	CHECK((id = queue(&t, "US.13491208655302741918", T0, NULL)) == 2);
	CHECK(db_outbox_claim(t.db, id, T0 + 15000) == 1);
	CHECK(db_outbox_accept(t.db, id, "wamid.U1", T0 + 10) == 0);
	CHECK(strcmp(q_text(&t, b, sizeof(b), "SELECT coalesce(wa_id, '-') || "
	    "' ' || user_id FROM contacts"), "- US.13491208655302741918") == 0);
	tdb_close(&t);
}

TEST(next_due_is_the_earliest_later_row)
{
	struct tdb	 t;

	CHECK(tdb_open(&t) == 0);
	CHECK(db_outbox_next_due(t.db, T0) == DB_NEVER);
	CHECK(queue(&t, ALICE, T0, NULL) == 1);
	CHECK(queue(&t, BOB, T0 + 7000, NULL) == 2);
	CHECK(queue(&t, "15550005555", T0 + 3000, NULL) == 3);
	/* Rows already due are the caller's; the next one after now. */
	CHECK(db_outbox_next_due(t.db, T0) == T0 + 3000);
	CHECK(db_outbox_next_due(t.db, T0 + 3000) == T0 + 7000);
	CHECK(db_outbox_next_due(t.db, T0 + 7000) == DB_NEVER);
	tdb_close(&t);
}

/* An uploaded file's body replaces the one naming the local file. */
TEST(set_body_drops_the_local_file)
{
	struct tdb		 t;
	struct db_outbox_new	 n;
	int64_t			 id;
	char			 b[128];

	CHECK(tdb_open(&t) == 0);
	memset(&n, 0, sizeof(n));
	n.pnid = PNID;
	n.recipient = ALICE;
	n.kind = "image";
	n.body = "{\"type\":\"image\"}";
	n.media_file = "/var/tmp/x.jpg";
	n.media_mime = "image/jpeg";
	n.source = "wactl";
	CHECK(db_outbox_insert(t.db, &n, T0, &id) == DB_OK);
	CHECK(db_outbox_set_body(t.db, id, "{\"image\":{\"id\":\"77\"}}") == 0);
	CHECK(strcmp(q_text(&t, b, sizeof(b), "SELECT body || ' ' || "
	    "coalesce(media_file, '-') || ' ' || media_mime FROM outbox"),
	    "{\"image\":{\"id\":\"77\"}} - image/jpeg") == 0);
	tdb_close(&t);
}

static void
paused_cb(void *arg, const char *pnid, const char *reason, int64_t code,
    int64_t paused_at, int64_t resume_at)
{
	char *out = arg;
	size_t len = strlen(out);

	(void)snprintf(out + len, 256 - len, "%s %s %lld %lld %lld;", pnid,
	    reason, (long long)code, (long long)paused_at,
	    (long long)resume_at);
}

TEST(sender_pause_and_resume)
{
	struct tdb	 t;
	struct db_pause	 p;
	char		 list[256] = "";

	CHECK(tdb_open(&t) == 0);
	CHECK(db_sender_get(t.db, PNID, &p) == 0);
	CHECK(db_sender_pause(t.db, PNID, "token_invalid", 190, 0,
	    "abc123", 1767200000) == 0);
	CHECK(db_sender_pause(t.db, "200300400500777", "spam_limit", 131048,
	    1767300000, NULL, 1767200001) == 0);
	CHECK(db_sender_get(t.db, PNID, &p) == 1);
	CHECK(strcmp(p.reason, "token_invalid") == 0);
	CHECK(p.code == 190 && p.resume_at == 0);
	CHECK(strcmp(p.token_sha, "abc123") == 0);
	CHECK(db_sender_get(t.db, "200300400500777", &p) == 1);
	CHECK(strcmp(p.reason, "spam_limit") == 0);
	CHECK(p.resume_at == 1767300000 && p.token_sha[0] == '\0');
	CHECK(db_sender_list(t.db, paused_cb, list) == 0);
	CHECK(strcmp(list, PNID " token_invalid 190 1767200000 0;"
	    "200300400500777 spam_limit 131048 1767200001 1767300000;") == 0);
	CHECK(db_sender_resume(t.db, PNID, 1767200002) == 0);
	CHECK(q_int(&t, "SELECT updated_at FROM sender_status WHERE "
	    "phone_number_id = '" PNID "'") == 1767200002);
	CHECK(db_sender_get(t.db, PNID, &p) == 0);
	CHECK(p.reason[0] == '\0');
	list[0] = '\0';
	CHECK(db_sender_list(t.db, paused_cb, list) == 0);
	CHECK(strcmp(list, "200300400500777 spam_limit 131048 1767200001 "
	    "1767300000;") == 0);
	/* Pausing again overwrites the one row. */
	CHECK(db_sender_pause(t.db, PNID, "spam_limit", 131048, 1767309999,
	    NULL, 1767200003) == 0);
	CHECK(db_sender_get(t.db, PNID, &p) == 1);
	CHECK(strcmp(p.reason, "spam_limit") == 0 && p.resume_at == 1767309999);
	CHECK(q_int(&t, "SELECT count(*) FROM sender_status") == 2);
	tdb_close(&t);
}

/* An inbound image's download: due, claimed, retried, stored. */
TEST(media_download_lifecycle)
{
	struct tdb		 t;
	struct db_tally		 a;
	struct db_media_item	 m[2];
	char			 b[256];

	CHECK(tdb_open(&t) == 0);
	memset(m, 0, sizeof(m));
	CHECK(apply_fixture(&t, "image.json", &a) == 0 && a.applied == 1);
	CHECK(db_media_due(t.db, 0, m, 2) == 1);
	CHECK(m[0].id == 1 && m[0].attempts == 0);
	CHECK(strcmp(m[0].pnid, PNID) == 0);
	CHECK(strcmp(m[0].media_id, "1011121314151601") == 0);
	CHECK(strcmp(m[0].sha,
	    "qnYSkf+dBoVW8tHW9jxTpNIuRNZfiCwcJSoENyEjrdM=") == 0);
	/* A claim counts the attempt and pushes the row past a crash. */
	CHECK(db_media_claim(t.db, 1, T0 + 60000) == 0);
	CHECK(db_media_due(t.db, T0, m, 2) == 0);
	CHECK(db_media_next_due(t.db, T0) == T0 + 60000);
	CHECK(db_media_retry(t.db, 1, 0, T0 + 2000, "HTTP 500") == 0);
	CHECK(db_media_due(t.db, T0 + 1999, m, 2) == 0);
	CHECK(db_media_due(t.db, T0 + 2000, m, 2) == 1);
	CHECK(m[0].attempts == 1);
	CHECK(db_media_path_used(t.db, "ab/abcdef") == 0);
	CHECK(db_media_stored(t.db, 1, "image/jpeg", "abcdef", 1234,
	    "ab/abcdef", NOW_S) == 1);
	CHECK(strcmp(q_text(&t, b, sizeof(b), "SELECT state || ' ' || path || "
	    "' ' || size || ' ' || sha256 || ' ' || coalesce(error, '-') FROM "
	    "media"), "stored ab/abcdef 1234 abcdef -") == 0);
	CHECK(q_int(&t, "SELECT stored_at FROM media") == NOW_S);
	CHECK(db_media_path_used(t.db, "ab/abcdef") == 1);
	CHECK(db_media_due(t.db, T0 + 99999, m, 2) == 0);
	CHECK(db_media_next_due(t.db, T0) == DB_NEVER);
	/* A row that is gone (erased meanwhile) stores nothing. */
	CHECK(db_media_stored(t.db, 42, "image/jpeg", "x", 1, "x/x", NOW_S) ==
	    0);
	tdb_close(&t);
}

TEST(media_download_fails_for_good)
{
	struct tdb		 t;
	struct db_tally		 a;
	struct db_media_item	 m[2];
	char			 b[128];

	CHECK(tdb_open(&t) == 0);
	CHECK(apply_fixture(&t, "video.json", &a) == 0 && a.applied == 1);
	CHECK(db_media_retry(t.db, 1, 1, 0, "skipped: too many") == 0);
	CHECK(strcmp(q_text(&t, b, sizeof(b), "SELECT state || ' ' || error "
	    "FROM media"), "failed skipped: too many") == 0);
	CHECK(db_media_due(t.db, T0 + 99999, m, 2) == 0);
	tdb_close(&t);
}

/* An upload is recorded once per media id, stored at once. */
TEST(media_upload_is_recorded_once)
{
	struct tdb	 t;
	char		 b[256];

	CHECK(tdb_open(&t) == 0);
	CHECK(db_media_out_insert(t.db, PNID, "88001", "image/png", "cafe",
	    2048, NULL, NOW_S) == 0);
	CHECK(db_media_out_insert(t.db, PNID, "88001", "image/png", "cafe",
	    2048, NULL, NOW_S + 9) == 0);
	CHECK(q_int(&t, "SELECT count(*) FROM media") == 1);
	CHECK(strcmp(q_text(&t, b, sizeof(b), "SELECT direction || ' ' || "
	    "state || ' ' || mime_type || ' ' || sha256 || ' ' || size || ' ' "
	    "|| coalesce(message_id, '-') || ' ' || stored_at FROM media"),
	    "out stored image/png cafe 2048 - 1767300000") == 0);
	/* Uploads are not downloads. */
	CHECK(db_media_next_due(t.db, 0) == DB_NEVER);
	tdb_close(&t);
}

/* What a send needs to know of its recipient; opt-outs newest first. */
TEST(peer_and_opt_out)
{
	struct tdb	 t;
	struct db_tally	 a;
	struct db_peer	 p;

	CHECK(tdb_open(&t) == 0);
	CHECK(db_peer_get(t.db, PNID, ALICE, &p) == 0);
	CHECK(p.contact_id == 0 && p.window_expires_at == 0);
	CHECK(apply_fixture(&t, "text.json", &a) == 0 && a.applied == 1);
	CHECK(db_peer_get(t.db, PNID, ALICE, &p) == 0);
	CHECK(p.contact_id == 1);
	CHECK(p.window_expires_at == 1767268800LL + 86400);
	CHECK(p.last_inbound_at == 1767268800LL);
	CHECK(p.opted_out == 0 && p.last_stop_at == 0);
	CHECK(db_opt_set(t.db, PNID, ALICE, 1, 1767269000) == 0);
	CHECK(db_opt_set(t.db, PNID, ALICE, 0, 1767268900) == 0);
	CHECK(db_peer_get(t.db, PNID, ALICE, &p) == 0);
	CHECK(p.opted_out == 1 && p.opted_out_at == 1767269000);
	CHECK(p.last_stop_at == 1767269000);
	CHECK(db_opt_set(t.db, PNID, ALICE, 0, 1767269100) == 0);
	CHECK(db_peer_get(t.db, PNID, ALICE, &p) == 0);
	CHECK(p.opted_out == 0 && p.opted_out_at == 1767269100);
	CHECK(p.last_stop_at == 1767269000);
	/* An unknown recipient is created opted out (131050 first). */
	CHECK(db_opt_set(t.db, PNID, BOB, 1, 1767269200) == 0);
	CHECK(db_peer_get(t.db, PNID, BOB, &p) == 0);
	CHECK(p.contact_id == 2 && p.opted_out == 1);
	CHECK(p.window_expires_at == 0);
	tdb_close(&t);
}

int
main(void)
{
	RUN(insert_queues_a_row_due_now);
	RUN(idempotency_key_finds_the_first_row);
	RUN(due_keeps_each_recipients_order);
	RUN(claim_leases_the_row);
	RUN(recover_requeues_leased_rows);
	RUN(retry_waits_with_the_error);
	RUN(defer_moves_a_queued_row);
	RUN(defer_moves_the_recipients_later_rows);
	RUN(resent_counts_attempts_in_flight);
	RUN(fail_settles_the_row);
	RUN(accept_writes_the_outbound_message_once);
	RUN(accept_keeps_the_sender_and_the_file);
	RUN(accept_of_a_receipt_writes_no_message);
	RUN(next_due_is_the_earliest_later_row);
	RUN(set_body_drops_the_local_file);
	RUN(sender_pause_and_resume);
	RUN(media_download_lifecycle);
	RUN(media_download_fails_for_good);
	RUN(media_upload_is_recorded_once);
	RUN(peer_and_opt_out);
	return CHECK_DONE();
}
