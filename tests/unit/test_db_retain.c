/*
 * test_db_retain.c: retention, erasure and search indexing in storage,
 * without nginx: each db_purge step with its cutoff (only older rows
 * go, a dry run counts and deletes nothing, the limit holds), the files
 * named once no row uses them, db_api_erase (every copy of a contact's
 * words gone, the neighbours' kept) and db_search_index.
 */
#include "dbt.h"

#define ALICE	"15550002222"
#define BOB	"15550003333"

/* Collects the paths a purge or erase names, as "a;b;". */
struct names {
	char	 s[512];
	int	 n;
};

static void
name_cb(void *arg, const char *path)
{
	struct names	*nm = arg;
	size_t		 len = strlen(nm->s);

	(void)snprintf(nm->s + len, sizeof(nm->s) - len, "%s;", path);
	nm->n++;
}

/* Journals a body and settles it as state, received at ms. */
static int64_t
settled(struct tdb *t, const char *state, int64_t received_ms)
{
	struct db_tally	 a = { 1, 0, 0, 0 };
	int64_t		 id;

	if ((id = journal_add_at(t, "{\"x\":1}", 7, received_ms)) < 0)
		return -1;
	if (strcmp(state, "pending") != 0 &&
	    journal_finish(t, id, state, &a, NULL) == -1)
		return -1;
	return id;
}

/* Journal bodies (journal days): settled ones only, older only. */
TEST(purge_bodies_takes_old_settled_bodies)
{
	struct tdb	 t;
	char		 b[128];

	CHECK(tdb_open(&t) == 0);
	CHECK(settled(&t, "applied", 1000) == 1);
	CHECK(settled(&t, "duplicate", 1000) == 2);
	CHECK(settled(&t, "failed", 1000) == 3);
	CHECK(settled(&t, "partial", 1000) == 4);
	CHECK(settled(&t, "pending", 1000) == 5);
	CHECK(settled(&t, "applied", 1000) == 6);
	CHECK(settled(&t, "applied", 2000) == 7);
	CHECK(purge(&t, DB_PURGE_BODIES, 2000, 100, 1, NULL, NULL) == 3);
	CHECK(q_int(&t, "SELECT count(*) FROM webhook_events WHERE body IS "
	    "NULL") == 0);
	CHECK(purge(&t, DB_PURGE_BODIES, 2000, 2, 0, NULL, NULL) == 2);
	CHECK(purge(&t, DB_PURGE_BODIES, 2000, 2, 0, NULL, NULL) == 1);
	CHECK(purge(&t, DB_PURGE_BODIES, 2000, 2, 0, NULL, NULL) == 0);
	CHECK(strcmp(q_text(&t, b, sizeof(b), "SELECT group_concat(id, ',') "
	    "FROM (SELECT id FROM webhook_events WHERE body IS NULL ORDER BY id)"), "1,2,6") == 0);
	/* The entries stay, with what became of them. */
	CHECK(q_int(&t, "SELECT count(*) FROM webhook_events") == 7);
	CHECK(purge(&t, DB_PURGE_BODIES, 2000, 100, 1, NULL, NULL) == 0);
	tdb_close(&t);
}

/* With the messages' cutoff: settled bodies of any state but pending. */
TEST(purge_old_bodies_takes_failed_ones_too)
{
	struct tdb	 t;
	char		 b[128];

	CHECK(tdb_open(&t) == 0);
	CHECK(settled(&t, "failed", 1000000) == 1);
	CHECK(settled(&t, "partial", 1000000) == 2);
	CHECK(settled(&t, "pending", 1000000) == 3);
	CHECK(settled(&t, "applied", 3000000) == 4);
	/* Cutoff in unix seconds here. */
	CHECK(purge(&t, DB_PURGE_OLD_BODIES, 2000, 100, 1, NULL, NULL) == 2);
	CHECK(purge(&t, DB_PURGE_OLD_BODIES, 2000, 100, 0, NULL, NULL) == 2);
	CHECK(strcmp(q_text(&t, b, sizeof(b), "SELECT group_concat(id, ',') "
	    "FROM (SELECT id FROM webhook_events WHERE body IS NULL ORDER BY id)"), "1,2") == 0);
	CHECK(strcmp(q_text(&t, b, sizeof(b), "SELECT state FROM "
	    "webhook_events WHERE id = 3"), "pending") == 0);
	tdb_close(&t);
}

/* One text message per (wamid, from, ts). */
static int
say(struct tdb *t, const char *wamid, const char *from, long long ts,
    const char *text)
{
	struct db_tally	 a;
	char		 b[2048];

	return apply_str(t, hook_text(b, sizeof(b), wamid, from, "X", ts,
	    text), &a) == 0 && a.applied == 1 ? 0 : -1;
}

/* Messages: older ones go with their media rows; shared files stay. */
TEST(purge_messages_takes_older_ones_and_their_files)
{
	struct tdb	 t;
	struct db_tally	 a;
	struct names	 nm;
	char		 b[128];

	CHECK(tdb_open(&t) == 0);
	CHECK(say(&t, "wamid.OLD1", ALICE, 1000, "old words") == 0);
	CHECK(apply_fixture(&t, "image.json", &a) == 0 && a.applied == 1);
	CHECK(apply_fixture(&t, "video.json", &a) == 0 && a.applied == 1);
	CHECK(say(&t, "wamid.NEW1", ALICE, 1767300000, "new words") == 0);
	CHECK(db_media_stored(t.db, 1, "image/jpeg", "aa11", 10, "aa/11",
	    NOW_S) == 1);
	CHECK(db_media_stored(t.db, 2, "video/mp4", "bb22", 10, "bb/22",
	    NOW_S) == 1);
	/* The new message's own download is the same file as the image. */
	CHECK(db_media_out_insert(t.db, PNID, "9001", "image/jpeg", "aa11",
	    10, NULL, NOW_S) == 0);
	CHECK(sqlite3_exec(t.h, "UPDATE media SET path = 'aa/11' WHERE "
	    "media_id = '9001'", NULL, NULL, NULL) == SQLITE_OK);
	CHECK(db_search_index(t.db, 100) == 4);
	/* Cutoff in unix seconds: the image and video are of 1767268980/9040. */
	CHECK(purge(&t, DB_PURGE_MESSAGES, 1767269100, 100, 1, NULL, NULL) ==
	    3);
	CHECK(q_int(&t, "SELECT count(*) FROM messages") == 4);
	memset(&nm, 0, sizeof(nm));
	CHECK(purge(&t, DB_PURGE_MESSAGES, 1767269100, 2, 0, name_cb, &nm) ==
	    2);
	CHECK(strcmp(q_text(&t, b, sizeof(b), "SELECT group_concat(wamid, "
	    "',') FROM (SELECT wamid FROM messages ORDER BY id)"), "wamid.HBgLMTU1NTAwMDMzMzMVAgA"
	    "SGBQzQTBGMUIyQzNENEU1RjYwNzEwNAA=,wamid.NEW1") == 0);
	/* aa/11 is still the upload's: not named. */
	CHECK(nm.n == 0);
	CHECK(purge(&t, DB_PURGE_MESSAGES, 1767269100, 2, 0, name_cb, &nm) ==
	    1);
	CHECK(strcmp(nm.s, "bb/22;") == 0);
	CHECK(q_int(&t, "SELECT count(*) FROM media WHERE direction = 'in'") ==
	    0);
	CHECK(q_int(&t, "SELECT count(*) FROM media WHERE direction = "
	    "'out'") == 1);
	/* The search index forgets them too. */
	CHECK(q_int(&t, "SELECT count(*) FROM messages_fts WHERE "
	    "messages_fts MATCH 'old'") == 0);
	CHECK(q_int(&t, "SELECT count(*) FROM messages_fts WHERE "
	    "messages_fts MATCH 'new'") == 1);
	CHECK(q_int(&t, "SELECT count(*) FROM messages_fts WHERE "
	    "messages_fts MATCH 'noise'") == 0);
	/* The conversation count is not rewritten by retention. */
	CHECK(q_int(&t, "SELECT count(*) FROM conversations") == 2);
	tdb_close(&t);
}

/* Media files (media days): the file goes, the row says why. */
TEST(purge_media_clears_old_files)
{
	struct tdb	 t;
	struct db_tally	 a;
	struct names	 nm;
	char		 b[128];

	CHECK(tdb_open(&t) == 0);
	CHECK(apply_fixture(&t, "image.json", &a) == 0 && a.applied == 1);
	CHECK(apply_fixture(&t, "video.json", &a) == 0 && a.applied == 1);
	CHECK(db_media_stored(t.db, 1, "image/jpeg", "aa11", 10, "aa/11",
	    NOW_S - 7200) == 1);
	CHECK(db_media_stored(t.db, 2, "video/mp4", "bb22", 10, "bb/22",
	    NOW_S) == 1);
	/* Cutoff in unix ms: only the file stored two hours ago is older. */
	CHECK(purge(&t, DB_PURGE_MEDIA, (NOW_S - 3600) * 1000, 100, 1, NULL,
	    NULL) == 1);
	CHECK(purge(&t, DB_PURGE_MEDIA, (NOW_S + 3600) * 1000, 100, 1, NULL,
	    NULL) == 2);
	memset(&nm, 0, sizeof(nm));
	CHECK(purge(&t, DB_PURGE_MEDIA, (NOW_S - 3600) * 1000, 100, 0, name_cb,
	    &nm) == 1);
	CHECK(strcmp(nm.s, "aa/11;") == 0);
	CHECK(strcmp(q_text(&t, b, sizeof(b), "SELECT coalesce(path, '-') || "
	    "' ' || error FROM media WHERE id = 1"),
	    "- purged by retention") == 0);
	CHECK(strcmp(q_text(&t, b, sizeof(b), "SELECT path FROM media WHERE "
	    "id = 2"), "bb/22") == 0);
	/* The messages stay. */
	CHECK(q_int(&t, "SELECT count(*) FROM messages") == 2);
	tdb_close(&t);
}

/* Statuses by Meta's time, with the messages' cutoff. */
TEST(purge_statuses_takes_older_ones)
{
	struct tdb	 t;
	struct db_tally	 a;
	char		 b[2048];

	CHECK(tdb_open(&t) == 0);
	CHECK(apply_str(&t, hook_status(b, sizeof(b), "wamid.S1", "sent",
	    1000, ALICE, NULL), &a) == 0 && a.applied == 1);
	CHECK(apply_str(&t, hook_status(b, sizeof(b), "wamid.S1", "read",
	    3000, ALICE, NULL), &a) == 0 && a.applied == 1);
	CHECK(apply_str(&t, hook_status(b, sizeof(b), "wamid.S2", "sent",
	    1999, ALICE, NULL), &a) == 0 && a.applied == 1);
	CHECK(purge(&t, DB_PURGE_STATUSES, 2000, 100, 1, NULL, NULL) == 2);
	CHECK(purge(&t, DB_PURGE_STATUSES, 2000, 100, 0, NULL, NULL) == 2);
	CHECK(strcmp(q_text(&t, b, sizeof(b), "SELECT wamid || ' ' || status "
	    "FROM message_statuses"), "wamid.S1 read") == 0);
	CHECK(q_int(&t, "SELECT count(*) FROM message_statuses") == 1);
	tdb_close(&t);
}

/* Finished outbox rows only: a queued one is never purged. */
TEST(purge_outbox_takes_finished_rows)
{
	struct tdb		 t;
	struct db_outbox_new	 n;
	char			 b[128];
	int64_t			 id;
	int			 i;

	CHECK(tdb_open(&t) == 0);
	memset(&n, 0, sizeof(n));
	n.pnid = PNID;
	n.recipient = ALICE;
	n.kind = "text";
	n.body = "{\"text\":{\"body\":\"private words\"}}";
	n.source = "api";
	for (i = 0; i < 4; i++)
		CHECK(db_outbox_insert(t.db, &n, 1000000, &id) == DB_OK);
	CHECK(db_outbox_insert(t.db, &n, 3000000, &id) == DB_OK);
	CHECK(db_outbox_fail(t.db, 1, 0, "refused", NULL) == 0);
	CHECK(db_outbox_claim(t.db, 2, 1015000) == 1);
	CHECK(db_outbox_accept(t.db, 2, "wamid.A2", 1000500) == 0);
	CHECK(db_outbox_claim(t.db, 3, 1015000) == 1);
	CHECK(db_outbox_fail(t.db, 5, 0, "refused", NULL) == 0);
	/* 1 failed, 2 accepted, 3 sending, 4 queued; 5 failed but new. */
	CHECK(purge(&t, DB_PURGE_OUTBOX, 2000, 100, 1, NULL, NULL) == 2);
	CHECK(purge(&t, DB_PURGE_OUTBOX, 2000, 100, 0, NULL, NULL) == 2);
	CHECK(strcmp(q_text(&t, b, sizeof(b), "SELECT group_concat(id || "
	    "state, ',') FROM (SELECT * FROM outbox ORDER BY id)"), "3sending,4queued,5failed") == 0);
	tdb_close(&t);
}

/* Webhook errors and account events by when they were stored. */
TEST(purge_errors_and_subscriptions_by_age)
{
	struct tdb	 t;
	struct db_tally	 a;

	CHECK(tdb_open(&t) == 0);
	CHECK(apply_fixture(&t, "value_level_errors.json", &a) == 0 &&
	    a.applied == 1);
	CHECK(apply_fixture(&t, "template_status_update.json", &a) == 0 &&
	    a.applied == 1);
	CHECK(apply_fixture(&t, "template_status_rejected.json", &a) == 0 &&
	    a.applied == 1);
	CHECK(sqlite3_exec(t.h, "UPDATE subscription_events SET created_at = "
	    "1000 WHERE id = 1", NULL, NULL, NULL) == SQLITE_OK);
	CHECK(purge(&t, DB_PURGE_ERRORS, NOW_S - 3600, 100, 1, NULL, NULL) == 0);
	CHECK(purge(&t, DB_PURGE_SUBSCRIPTIONS, NOW_S - 3600, 100, 1, NULL,
	    NULL) == 1);
	CHECK(purge(&t, DB_PURGE_SUBSCRIPTIONS, NOW_S - 3600, 100, 0, NULL,
	    NULL) == 1);
	CHECK(q_int(&t, "SELECT count(*) FROM subscription_events") == 1);
	CHECK(q_int(&t, "SELECT id FROM subscription_events") == 2);
	CHECK(purge(&t, DB_PURGE_ERRORS, NOW_S + 3600, 100, 0, NULL, NULL) == 1);
	CHECK(q_int(&t, "SELECT count(*) FROM webhook_errors") == 0);
	tdb_close(&t);
}

/* Account jobs once finished, by when they were asked; queued stay. */
TEST(purge_jobs_takes_finished_ones)
{
	struct tdb	 t;
	int64_t		 a, b, c;

	CHECK(tdb_open(&t) == 0);
	CHECK((a = db_job_insert(t.db, PNID, NULL, "profile_get", NULL,
	    1000000)) > 0);
	CHECK((b = db_job_insert(t.db, PNID, NULL, "profile_get", NULL,
	    1000000)) > 0);
	CHECK((c = db_job_insert(t.db, PNID, NULL, "profile_get", NULL,
	    9000000)) > 0);
	CHECK(db_job_claim(t.db, a) == 1 && db_job_claim(t.db, c) == 1);
	CHECK(db_job_finish(t.db, a, 1, "{}", 0, NULL, 1000100) == 0);
	CHECK(db_job_finish(t.db, c, 0, NULL, 100, "refused", 9000100) == 0);
	/* a done and old, b queued and old, c failed but new. */
	CHECK(purge(&t, DB_PURGE_JOBS, 2000, 100, 1, NULL, NULL) == 1);
	CHECK(purge(&t, DB_PURGE_JOBS, 2000, 100, 0, NULL, NULL) == 1);
	CHECK(q_int(&t, "SELECT count(*) FROM account_jobs") == 2);
	CHECK(q_int(&t, "SELECT count(*) FROM account_jobs WHERE id = %lld",
	    (long long)a) == 0);
	tdb_close(&t);
}

TEST(purge_refuses_an_unknown_step)
{
	struct tdb	 t;

	CHECK(tdb_open(&t) == 0);
	CHECK(purge(&t, DB_PURGE__MAX, 0, 100, 1, NULL, NULL) == -1);
	CHECK(purge(&t, (enum db_purge)-1, 0, 100, 0, NULL, NULL) == -1);
	tdb_close(&t);
}

/*
 * A privacy erase: Alice's messages, their search entries, statuses,
 * outbox rows and every journal body naming her go; Bob's stay.
 */
TEST(erase_removes_every_copy_of_the_contact)
{
	struct tdb		 t;
	struct db_tally		 a;
	struct names		 nm;
	struct db_outbox_new	 n;
	char			 b[2048];
	int64_t			 id, pending;

	CHECK(tdb_open(&t) == 0);
	CHECK(apply_fixture(&t, "text.json", &a) == 0 && a.applied == 1);
	CHECK(apply_fixture(&t, "image.json", &a) == 0 && a.applied == 1);
	CHECK(apply_fixture(&t, "document.json", &a) == 0 && a.applied == 1);
	CHECK(db_media_stored(t.db, 1, "image/jpeg", "aa11", 10, "aa/11",
	    NOW_S) == 1);
	CHECK(db_media_stored(t.db, 2, "application/pdf", "cc33", 10,
	    "cc/33", NOW_S) == 1);
	memset(&n, 0, sizeof(n));
	n.pnid = PNID;
	n.recipient = ALICE;
	n.kind = "text";
	n.body = "{\"text\":{\"body\":\"Saturday 9 to 13\"}}";
	n.text = "Saturday 9 to 13";
	n.source = "api";
	CHECK(db_outbox_insert(t.db, &n, 1767269000000LL, &id) == DB_OK);
	CHECK(db_outbox_claim(t.db, id, 1767269015000LL) == 1);
	CHECK(db_outbox_accept(t.db, id, "wamid.TOALICE", 1767269001000LL) ==
	    0);
	CHECK(apply_str(&t, hook_status(b, sizeof(b), "wamid.TOALICE", "read",
	    1767269100, ALICE, NULL), &a) == 0 && a.applied == 1);
	/* A delivery naming her, not applied yet. */
	(void)hook_text(b, sizeof(b), "wamid.PENDING", ALICE, "Alice Example",
	    1767269200, "Saturday again");
	CHECK((pending = journal_add(&t, b, strlen(b))) > 0);
	CHECK(db_search_index(t.db, 100) == 4);
	CHECK(q_int(&t, "SELECT count(*) FROM messages_fts WHERE "
	    "messages_fts MATCH 'saturday'") == 2);
	memset(&nm, 0, sizeof(nm));
	CHECK(db_api_erase(t.db, PNID, ALICE, name_cb, &nm) == 1);
	CHECK(strcmp(nm.s, "aa/11;") == 0);
	CHECK(q_int(&t, "SELECT count(*) FROM messages WHERE sender = '" ALICE
	    "' OR recipient = '" ALICE "'") == 0);
	CHECK(q_int(&t, "SELECT count(*) FROM messages_fts WHERE "
	    "messages_fts MATCH 'saturday'") == 0);
	CHECK(q_int(&t, "SELECT count(*) FROM messages_fts WHERE "
	    "messages_fts MATCH 'broken'") == 0);
	CHECK(q_int(&t, "SELECT count(*) FROM message_statuses") == 0);
	CHECK(q_int(&t, "SELECT count(*) FROM outbox") == 0);
	CHECK(q_int(&t, "SELECT count(*) FROM contacts WHERE wa_id = '" ALICE
	    "'") == 0);
	CHECK(q_int(&t, "SELECT count(*) FROM webhook_events WHERE body IS "
	    "NOT NULL AND instr(body, CAST('\"" ALICE "\"' AS BLOB)) > 0") ==
	    0);
	CHECK(strcmp(q_text(&t, b, sizeof(b), "SELECT state || ': ' || error "
	    "FROM webhook_events WHERE id = %lld", (long long)pending),
	    "failed: erased on request before it was applied") == 0);
	CHECK(q_int(&t, "SELECT count(*) FROM media") == 1);
	/* Bob is untouched: his message, its index entry, his journal body. */
	CHECK(q_int(&t, "SELECT count(*) FROM messages WHERE sender = '" BOB
	    "'") == 1);
	CHECK(q_int(&t, "SELECT count(*) FROM messages_fts WHERE "
	    "messages_fts MATCH 'invoice'") == 1);
	CHECK(q_int(&t, "SELECT count(*) FROM webhook_events WHERE "
	    "instr(body, CAST('\"" BOB "\"' AS BLOB)) > 0") == 1);
	CHECK(q_int(&t, "SELECT count(*) FROM conversations") == 1);
	/* A second erase finds nobody. */
	CHECK(db_api_erase(t.db, PNID, ALICE, name_cb, &nm) == 0);
	CHECK(db_api_erase(t.db, PNID, "15559999999", name_cb, &nm) == 0);
	CHECK(nm.n == 1);
	tdb_close(&t);
}

/* The index grows in chunks of max, then has nothing left to do. */
TEST(search_index_covers_new_messages_in_chunks)
{
	struct tdb	 t;
	struct db_tally	 a;

	CHECK(tdb_open(&t) == 0);
	CHECK(db_search_index(t.db, 10) == 0);
	CHECK(apply_fixture(&t, "text.json", &a) == 0 && a.applied == 1);
	CHECK(apply_fixture(&t, "video.json", &a) == 0 && a.applied == 1);
	CHECK(apply_fixture(&t, "reaction.json", &a) == 0 && a.applied == 1);
	CHECK(q_int(&t, "SELECT count(*) FROM messages_fts WHERE "
	    "messages_fts MATCH 'saturday'") == 0);
	CHECK(db_search_index(t.db, 2) == 2);
	CHECK(q_int(&t, "SELECT indexed_to FROM search_state") == 2);
	CHECK(q_int(&t, "SELECT count(*) FROM messages_fts WHERE "
	    "messages_fts MATCH 'saturday'") == 1);
	CHECK(q_int(&t, "SELECT count(*) FROM messages_fts WHERE "
	    "messages_fts MATCH 'noise'") == 1);
	CHECK(db_search_index(t.db, 2) == 1);
	CHECK(q_int(&t, "SELECT indexed_to FROM search_state") == 3);
	CHECK(db_search_index(t.db, 2) == 0);
	/* An edit of an indexed message moves its words in the index. */
	CHECK(apply_fixture(&t, "edit_text.json", &a) == 0 && a.applied == 1);
	CHECK(q_int(&t, "SELECT count(*) FROM messages_fts WHERE "
	    "messages_fts MATCH 'saturday'") == 0);
	CHECK(q_int(&t, "SELECT count(*) FROM messages_fts WHERE "
	    "messages_fts MATCH 'sunday'") == 1);
	/* The edit's own row has no text: covered, adds nothing. */
	CHECK(db_search_index(t.db, 10) == 1);
	CHECK(q_int(&t, "SELECT count(*) FROM messages_fts WHERE "
	    "messages_fts MATCH 'sunday'") == 1);
	tdb_close(&t);
}

int
main(void)
{
	RUN(purge_bodies_takes_old_settled_bodies);
	RUN(purge_old_bodies_takes_failed_ones_too);
	RUN(purge_messages_takes_older_ones_and_their_files);
	RUN(purge_media_clears_old_files);
	RUN(purge_statuses_takes_older_ones);
	RUN(purge_outbox_takes_finished_rows);
	RUN(purge_errors_and_subscriptions_by_age);
	RUN(purge_jobs_takes_finished_ones);
	RUN(purge_refuses_an_unknown_step);
	RUN(erase_removes_every_copy_of_the_contact);
	RUN(search_index_covers_new_messages_in_chunks);
	return CHECK_DONE();
}
