/*
 * test_db_apply.c: applying parsed webhook items in storage, without
 * nginx: every message type of the fixtures, redelivery, every order of
 * a message's statuses, statuses before their message, edits and
 * revokes, number changes and names, STOP/START.  Items come from
 * webhook.c's parser, through the journal, applied as the worker does
 * (one savepoint per item; see dbt.h).
 */
#include "dbt.h"

#define ALICE	"15550002222"
#define BOB	"15550003333"
#define W_TEXT	"wamid.HBgLMTU1NTAwMDIyMjIVAgASGBQzQTBGMUIyQzNENEU1RjYwNzEwMQA="
#define W_REPLY	"wamid.HBgLMTU1NTAwMDIyMjIVAgASGBQzQTBGMUIyQzNENEU1RjYwNzEwMgA="
#define W_ECHO	"wamid.HBgLMTU1NTAwMDIyMjIVAgARGBRFQ0hPMDAwMDAwMDAwMDAwMDAwMQA="

/* One inbound message fixture and a column that shows its type was read. */
static const struct {
	const char	*file;
	const char	*type;
	const char	*sender;
	const char	*col;
	const char	*want;		/* "(null)" for NULL */
	int		 media;		/* 1: a pending download is queued */
} types[] = {
	{ "text.json", "text", ALICE, "text",
	    "Hi! Are you open on Saturday?", 0 },
	{ "text_reply_context.json", "text", ALICE, "context_wamid",
	    "wamid.HBgLMTU1NTAwMDIyMjIVAgARGBI5RDFFMkYzQTRCNUM2RDdFODAA", 0 },
	{ "unicode_emoji.json", "text", ALICE, "substr(text, 1, 5)",
	    "Hola ", 0 },
	{ "image.json", "image", ALICE, "media_id", "1011121314151601", 1 },
	{ "audio_voice.json", "audio", ALICE, "mime_type",
	    "audio/ogg; codecs=opus", 1 },
	{ "video.json", "video", BOB, "text", "Noise when starting", 1 },
	{ "document.json", "document", BOB, "filename",
	    "invoice-2025-12.pdf", 1 },
	{ "sticker.json", "sticker", ALICE, "media_id", "1011121314151605", 1 },
	{ "location.json", "location", BOB, "location_name",
	    "Example Hardware Store", 0 },
	{ "contacts.json", "contacts", ALICE, "direction", "in", 0 },
	{ "interactive_button_reply.json", "interactive", ALICE, "reply_id",
	    "appt_confirm_7781", 0 },
	{ "interactive_list_reply.json", "interactive", BOB, "reply_title",
	    "Express delivery", 0 },
	{ "interactive_nfm_reply.json", "interactive", BOB,
	    "interactive_type", "nfm_reply", 0 },
	{ "button_template_reply.json", "button", ALICE, "reply_title",
	    "Track my order", 0 },
	{ "order.json", "order", BOB, "text", "Please deliver after 5pm", 0 },
	{ "reaction.json", "reaction", ALICE, "reaction_emoji",
	    "\xf0\x9f\x91\x8d", 0 },
	{ "reaction_removed.json", "reaction", ALICE, "reaction_emoji",
	    "(null)", 0 },
	{ "referral_ad.json", "text", "15550005555", "referral_ctwa_clid",
	    "ARAkLmNoPqRsTuVwXyZ0123456789abcdef", 0 },
	{ "sender_user_id_only.json", "text", "US.13491208655302741918",
	    "text", "Hello from a username", 0 },
	{ "unsupported.json", "unsupported", ALICE, "error_code", "131051",
	    0 },
	{ "system_number_change.json", "system", BOB, "type", "system", 0 },
	{ "system_user_id_change.json", "system", "US.13491208655302741918",
	    "type", "system", 0 },
};

/* Every message type lands as one inbound row with its own fields. */
TEST(every_message_type_is_stored)
{
	struct tdb	 t;
	struct db_tally	 a;
	char		 b[256];
	size_t		 i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		CHECK(tdb_open(&t) == 0);
		CHECK(apply_fixture(&t, types[i].file, &a) == 0);
		if (a.total != 1 || a.applied != 1)
			fprintf(stderr, "  %s: %d items, %d applied\n",
			    types[i].file, a.total, a.applied);
		CHECK(a.total == 1 && a.applied == 1);
		CHECK(q_int(&t, "SELECT count(*) FROM messages") == 1);
		CHECK(strcmp(q_text(&t, b, sizeof(b), "SELECT type FROM "
		    "messages"), types[i].type) == 0);
		CHECK(strcmp(q_text(&t, b, sizeof(b), "SELECT direction FROM "
		    "messages"), "in") == 0);
		CHECK(strcmp(q_text(&t, b, sizeof(b), "SELECT sender FROM "
		    "messages"), types[i].sender) == 0);
		CHECK(strcmp(q_text(&t, b, sizeof(b), "SELECT %s FROM "
		    "messages", types[i].col), types[i].want) == 0);
		if (strcmp(b, types[i].want) != 0)
			fprintf(stderr, "  %s: %s is %s\n", types[i].file,
			    types[i].col, b);
		/* The journal entry it came from, and its raw item. */
		CHECK(q_int(&t, "SELECT webhook_event_id FROM messages") == 1);
		CHECK(q_int(&t, "SELECT created_at FROM messages") == NOW_S);
		CHECK(q_int(&t, "SELECT json_valid(raw) FROM messages") == 1);
		CHECK(q_int(&t, "SELECT count(*) FROM media WHERE "
		    "direction = 'in' AND state = 'pending' AND message_id = "
		    "(SELECT id FROM messages)") == types[i].media);
		/* One contact, one conversation counting it unread. */
		CHECK(q_int(&t, "SELECT count(*) FROM contacts") == 1);
		CHECK(q_int(&t, "SELECT message_count FROM conversations") ==
		    1);
		CHECK(q_int(&t, "SELECT unread_count FROM conversations") ==
		    1);
		CHECK(q_int(&t, "SELECT conversation_id = (SELECT id FROM "
		    "conversations) FROM messages") == 1);
		tdb_close(&t);
	}
}

TEST(location_keeps_its_coordinates)
{
	struct tdb	 t;
	struct db_tally	 a;
	char		 b[128];

	CHECK(tdb_open(&t) == 0);
	CHECK(apply_fixture(&t, "location.json", &a) == 0 && a.applied == 1);
	CHECK(strcmp(q_text(&t, b, sizeof(b), "SELECT printf('%%.6f %%.6f', "
	    "latitude, longitude) FROM messages"), "52.520008 13.404954") == 0);
	CHECK(strcmp(q_text(&t, b, sizeof(b), "SELECT location_address FROM "
	    "messages"), "12 Sample Street, 10115 Berlin") == 0);
	tdb_close(&t);
}

/* Reference 9.4: 24 hours from the message, 72 after an ad. */
TEST(window_is_24_hours_or_72_after_an_ad)
{
	struct tdb	 t;
	struct db_tally	 a;

	CHECK(tdb_open(&t) == 0);
	CHECK(apply_fixture(&t, "text.json", &a) == 0 && a.applied == 1);
	CHECK(apply_fixture(&t, "referral_ad.json", &a) == 0 && a.applied == 1);
	CHECK(q_int(&t, "SELECT v.window_expires_at FROM conversations v "
	    "JOIN contacts c ON c.id = v.contact_id WHERE c.wa_id = '"
	    ALICE "'") == 1767268800LL + 24 * 3600);
	CHECK(q_int(&t, "SELECT v.window_expires_at FROM conversations v "
	    "JOIN contacts c ON c.id = v.contact_id WHERE c.wa_id = "
	    "'15550005555'") == 1767269820LL + 72 * 3600);
	CHECK(q_int(&t, "SELECT last_inbound_at FROM conversations v JOIN "
	    "contacts c ON c.id = v.contact_id WHERE c.wa_id = '" ALICE "'") ==
	    1767268800LL);
	tdb_close(&t);
}

/* A fingerprint of everything apply writes: counts and sums. */
static void
snapshot(struct tdb *t, char *buf, size_t sz)
{
	(void)q_text(t, buf, sz, "SELECT printf('%%d %%d %%d %%d %%d %%d %%d "
	    "%%d %%d %%d %%d %%d %%s %%s', "
	    "(SELECT count(*) FROM messages), "
	    "(SELECT count(*) FROM message_statuses), "
	    "(SELECT count(*) FROM media), "
	    "(SELECT count(*) FROM contacts), "
	    "(SELECT count(*) FROM conversations), "
	    "(SELECT count(*) FROM webhook_errors), "
	    "(SELECT count(*) FROM subscription_events), "
	    "(SELECT count(*) FROM message_edits), "
	    "(SELECT count(*) FROM contact_renames), "
	    "(SELECT coalesce(sum(message_count), 0) FROM conversations), "
	    "(SELECT coalesce(sum(unread_count), 0) FROM conversations), "
	    "(SELECT coalesce(sum(opted_out), 0) FROM contacts), "
	    "(SELECT group_concat(coalesce(saved_name, '-') || "
	    "coalesce(profile_name, '-') || last_seen_at, ',') FROM (SELECT * "
	    "FROM contacts ORDER BY id)), "
	    "(SELECT group_concat(coalesce(text, '-') || coalesce(status, "
	    "'-'), ',') FROM (SELECT * FROM messages ORDER BY id)))");
}

/*
 * Redelivery: every fixture applied a second time is all duplicates and
 * changes nothing (DESIGN rule 2).
 */
TEST(redelivery_of_every_fixture_changes_nothing)
{
	static const char *const extra[] = { "batch_multi_entry.json",
	    "edit_text.json", "revoke.json", "history.json",
	    "smb_message_echoes.json", "smb_app_state_sync.json",
	    "user_preferences.json", "value_level_errors.json",
	    "template_status_update.json", "template_status_rejected.json",
	    "phone_number_quality_update.json", "status_sent.json",
	    "status_delivered.json", "status_read.json", "status_failed.json",
	    "status_sent_legacy_conversation.json", "text_new_number.json" };
	struct tdb	 t;
	struct db_tally	 a, a2;
	char		 s1[2048], s2[2048];
	const char	*f;
	size_t		 i, n = sizeof(types) / sizeof(types[0]);

	CHECK(tdb_open(&t) == 0);
	for (i = 0; i < n + sizeof(extra) / sizeof(extra[0]); i++) {
		f = i < n ? types[i].file : extra[i - n];
		CHECK(apply_fixture(&t, f, &a) == 0);
		CHECK(a.failed == 0);
		snapshot(&t, s1, sizeof(s1));
		CHECK(apply_fixture(&t, f, &a2) == 0);
		CHECK(a2.total == a.total && a2.total > 0);
		CHECK(a2.duplicate == a2.total);
		CHECK(a2.applied == 0 && a2.failed == 0);
		snapshot(&t, s2, sizeof(s2));
		CHECK(strcmp(s1, s2) == 0);
		if (a2.duplicate != a2.total || strcmp(s1, s2) != 0)
			fprintf(stderr, "  %s: %d of %d duplicate\n  %s\n  %s\n",
			    f, a2.duplicate, a2.total, s1, s2);
	}
	/* Each item once: the batch's four messages and four statuses. */
	CHECK(q_int(&t, "SELECT count(*) FROM message_statuses WHERE wamid = "
	    "'wamid.HBgLMTU1NTAwMDMzMzMVAgARGBI5RDFFMkYzQTRCNUM2RDdFODIA'") == 2);
	tdb_close(&t);
}

TEST(batch_applies_each_item_under_its_number)
{
	struct tdb	 t;
	struct db_tally	 a;

	CHECK(tdb_open(&t) == 0);
	CHECK(apply_fixture(&t, "batch_multi_entry.json", &a) == 0);
	CHECK(a.total == 8 && a.applied == 8);
	CHECK(q_int(&t, "SELECT count(*) FROM messages") == 4);
	CHECK(q_int(&t, "SELECT count(*) FROM message_statuses") == 4);
	CHECK(q_int(&t, "SELECT count(*) FROM messages WHERE "
	    "phone_number_id = '200300400500777'") == 1);
	CHECK(q_int(&t, "SELECT count(*) FROM conversations") == 3);
	CHECK(q_int(&t, "SELECT message_count FROM conversations v JOIN "
	    "contacts c ON c.id = v.contact_id WHERE c.wa_id = '" ALICE
	    "'") == 2);
	tdb_close(&t);
}

/*
 * Queues, claims and accepts an outbox row as wamid w (the sender's 200):
 * the outbound message row.  0 or -1.
 */
static int
send_as(struct tdb *t, const char *w, int64_t now_ms)
{
	struct db_outbox_new	 n;
	int64_t			 id;

	memset(&n, 0, sizeof(n));
	n.pnid = PNID;
	n.recipient = ALICE;
	n.kind = "text";
	n.body = "{\"type\":\"text\"}";
	n.text = "Your order shipped";
	n.source = "api";
	n.free_form = 1;
	if (db_begin(t->db) != DB_OK)
		return -1;
	if (db_outbox_insert(t->db, &n, now_ms, &id) != DB_OK ||
	    db_outbox_claim(t->db, id, now_ms + 15000) != 1 ||
	    db_outbox_accept(t->db, id, w, now_ms) == -1) {
		db_rollback(t->db);
		return -1;
	}
	return db_commit(t->db);
}

static const char *const four[4] = { "sent", "delivered", "read", "failed" };
static const long long four_at[4] = { 1767270000, 1767270002, 1767270060,
    1767270030 };

/* Applies status k of four[] for w. */
static int
status_for(struct tdb *t, const char *w, int k)
{
	struct db_tally	 a;
	char		 b[2048];

	if (apply_str(t, hook_status(b, sizeof(b), w, four[k], four_at[k],
	    ALICE, NULL), &a) == -1 || a.applied != 1)
		return -1;
	return 0;
}

/*
 * Every order of sent, delivered, read and failed, the message known
 * first or last: it ends read, at read's time (DESIGN rule 3), with
 * each status kept once with its own time.
 */
TEST(every_status_order_ends_at_the_highest_rank)
{
	struct tdb	 t;
	char		 w[64], b[128];
	int		 p[4], i, j, k, n = 0, late;

	CHECK(tdb_open(&t) == 0);
	for (i = 0; i < 4; i++)
		for (j = 0; j < 4; j++)
			for (k = 0; k < 4; k++) {
				if (i == j || j == k || i == k)
					continue;
				p[0] = i;
				p[1] = j;
				p[2] = k;
				p[3] = 6 - i - j - k;
				for (late = 0; late < 2; late++) {
					(void)snprintf(w, sizeof(w),
					    "wamid.PERM%d%d%d%d.%d", p[0],
					    p[1], p[2], p[3], late);
					if (!late)
						CHECK(send_as(&t, w,
						    1767269990000LL) == 0);
					CHECK(status_for(&t, w, p[0]) == 0);
					CHECK(status_for(&t, w, p[1]) == 0);
					CHECK(status_for(&t, w, p[2]) == 0);
					CHECK(status_for(&t, w, p[3]) == 0);
					if (late)
						CHECK(send_as(&t, w,
						    1767269990000LL) == 0);
					CHECK(strcmp(q_text(&t, b, sizeof(b),
					    "SELECT status FROM messages WHERE "
					    "wamid = '%s'", w), "read") == 0);
					CHECK(q_int(&t, "SELECT status_at FROM "
					    "messages WHERE wamid = '%s'", w) ==
					    four_at[2]);
					CHECK(q_int(&t, "SELECT count(*) FROM "
					    "message_statuses WHERE wamid = "
					    "'%s'", w) == 4);
					CHECK(q_int(&t, "SELECT timestamp FROM "
					    "message_statuses WHERE wamid = '%s' "
					    "AND status = 'failed'", w) ==
					    four_at[3]);
					n++;
				}
			}
	CHECK(n == 48);
	CHECK(q_int(&t, "SELECT count(*) FROM messages WHERE direction = "
	    "'out' AND status = 'read'") == 48);
	tdb_close(&t);
}

/*
 * The failure of a message that later got further is kept the same way
 * whatever the order: the failed status's code is on the message in
 * every one of the 24 orders, or in none.
 */
TEST(every_status_order_keeps_the_same_error)
{
	struct tdb	 t;
	char		 w[64];
	int		 p[4], i, j, k, with = 0, n = 0;

	CHECK(tdb_open(&t) == 0);
	for (i = 0; i < 4; i++)
		for (j = 0; j < 4; j++)
			for (k = 0; k < 4; k++) {
				if (i == j || j == k || i == k)
					continue;
				p[0] = i;
				p[1] = j;
				p[2] = k;
				p[3] = 6 - i - j - k;
				(void)snprintf(w, sizeof(w), "wamid.ERR%d%d%d%d",
				    p[0], p[1], p[2], p[3]);
				CHECK(send_as(&t, w, 1767269990000LL) == 0);
				CHECK(status_for(&t, w, p[0]) == 0);
				CHECK(status_for(&t, w, p[1]) == 0);
				CHECK(status_for(&t, w, p[2]) == 0);
				CHECK(status_for(&t, w, p[3]) == 0);
				with += q_int(&t, "SELECT error_code IS NOT NULL "
				    "FROM messages WHERE wamid = '%s'", w) == 1;
				n++;
			}
	CHECK(n == 24);
	CHECK(with == 0 || with == 24);
	if (with != 0 && with != 24)
		fprintf(stderr, "  error_code set in %d of 24 orders\n", with);
	tdb_close(&t);
}

/* Statuses for a message not known yet are kept, then folded in. */
TEST(statuses_before_their_message_are_reconciled)
{
	struct tdb	 t;
	struct db_tally	 a;
	char		 b[2048];

	CHECK(tdb_open(&t) == 0);
	CHECK(apply_str(&t, hook_status(b, sizeof(b), W_ECHO, "delivered",
	    1767269105, ALICE, NULL), &a) == 0 && a.applied == 1);
	CHECK(apply_str(&t, hook_status(b, sizeof(b), W_ECHO, "sent",
	    1767269101, ALICE, NULL), &a) == 0 && a.applied == 1);
	CHECK(q_int(&t, "SELECT count(*) FROM messages") == 0);
	CHECK(q_int(&t, "SELECT count(*) FROM message_statuses WHERE "
	    "wamid = '" W_ECHO "'") == 2);
	/* The business's own message from its app comes after them. */
	CHECK(apply_fixture(&t, "smb_message_echoes.json", &a) == 0);
	CHECK(a.applied == 1);
	CHECK(strcmp(q_text(&t, b, sizeof(b), "SELECT direction || ' ' || "
	    "recipient || ' ' || source FROM messages WHERE wamid = '" W_ECHO
	    "'"), "out " ALICE " echo") == 0);
	CHECK(strcmp(q_text(&t, b, sizeof(b), "SELECT status FROM messages "
	    "WHERE wamid = '" W_ECHO "'"), "delivered") == 0);
	CHECK(q_int(&t, "SELECT status_at FROM messages WHERE wamid = '"
	    W_ECHO "'") == 1767269105);
	/* An echo is the business's: counted, never unread. */
	CHECK(q_int(&t, "SELECT message_count FROM conversations") == 1);
	CHECK(q_int(&t, "SELECT unread_count FROM conversations") == 0);
	tdb_close(&t);
}

/* A status naming our outbox row settles it (the 200 was lost). */
TEST(status_with_our_callback_accepts_the_outbox_row)
{
	struct tdb		 t;
	struct db_tally		 a;
	struct db_outbox_new	 n;
	char			 b[2048], cb[64], v[64];
	int64_t			 id, other;

	CHECK(tdb_open(&t) == 0);
	memset(&n, 0, sizeof(n));
	n.pnid = PNID;
	n.kind = "text";
	n.body = "{}";
	n.source = "api";
	n.recipient = ALICE;
	CHECK(db_outbox_insert(t.db, &n, 1767269000000LL, &id) == DB_OK);
	n.recipient = BOB;
	CHECK(db_outbox_insert(t.db, &n, 1767269000000LL, &other) == DB_OK);
	CHECK(db_outbox_claim(t.db, id, 1767269015000LL) == 1);
	CHECK(db_outbox_claim(t.db, other, 1767269015000LL) == 1);
	/* Row other is Bob's: a status for Alice naming it is not its. */
	(void)snprintf(cb, sizeof(cb), "outbox:%lld", (long long)other);
	CHECK(apply_str(&t, hook_status(b, sizeof(b), "wamid.X1", "sent",
	    1767269001, ALICE, cb), &a) == 0 && a.applied == 1);
	CHECK(strcmp(q_text(&t, v, sizeof(v), "SELECT state FROM outbox WHERE "
	    "id = %lld", (long long)other), "sending") == 0);
	(void)snprintf(cb, sizeof(cb), "outbox:%lld", (long long)id);
	CHECK(apply_str(&t, hook_status(b, sizeof(b), "wamid.X2", "delivered",
	    1767269003, ALICE, cb), &a) == 0 && a.applied == 1);
	CHECK(strcmp(q_text(&t, v, sizeof(v), "SELECT state || ' ' || wamid "
	    "FROM outbox WHERE id = %lld", (long long)id),
	    "accepted wamid.X2") == 0);
	CHECK(strcmp(q_text(&t, v, sizeof(v), "SELECT status FROM messages "
	    "WHERE wamid = 'wamid.X2'"), "delivered") == 0);
	CHECK(q_int(&t, "SELECT message_id = (SELECT id FROM messages WHERE "
	    "wamid = 'wamid.X2') FROM outbox WHERE id = %lld",
	    (long long)id) == 1);
	tdb_close(&t);
}

/* Reference 14.1: an edit replaces the text, the first kept. */
TEST(edit_after_its_message)
{
	struct tdb	 t;
	struct db_tally	 a;
	char		 b[256];

	CHECK(tdb_open(&t) == 0);
	CHECK(apply_fixture(&t, "text.json", &a) == 0 && a.applied == 1);
	CHECK(apply_fixture(&t, "edit_text.json", &a) == 0 && a.applied == 1);
	CHECK(strcmp(q_text(&t, b, sizeof(b), "SELECT text FROM messages "
	    "WHERE wamid = '" W_TEXT "'"), "Hi! Are you open on Sunday?") == 0);
	CHECK(strcmp(q_text(&t, b, sizeof(b), "SELECT original_text FROM "
	    "messages WHERE wamid = '" W_TEXT "'"),
	    "Hi! Are you open on Saturday?") == 0);
	CHECK(q_int(&t, "SELECT edited_at FROM messages WHERE wamid = '"
	    W_TEXT "'") == 1767268920);
	CHECK(q_int(&t, "SELECT count(*) FROM message_edits WHERE "
	    "original_wamid = '" W_TEXT "' AND kind = 'edit'") == 1);
	/* The edit is not a new message of the conversation. */
	CHECK(q_int(&t, "SELECT message_count FROM conversations") == 1);
	CHECK(q_int(&t, "SELECT unread_count FROM conversations") == 1);
	tdb_close(&t);
}

TEST(edit_before_its_message_ends_the_same)
{
	struct tdb	 t;
	struct db_tally	 a;
	char		 b[256];

	CHECK(tdb_open(&t) == 0);
	CHECK(apply_fixture(&t, "edit_text.json", &a) == 0 && a.applied == 1);
	CHECK(q_int(&t, "SELECT count(*) FROM messages WHERE wamid = '"
	    W_TEXT "'") == 0);
	CHECK(apply_fixture(&t, "text.json", &a) == 0 && a.applied == 1);
	CHECK(strcmp(q_text(&t, b, sizeof(b), "SELECT text FROM messages "
	    "WHERE wamid = '" W_TEXT "'"), "Hi! Are you open on Sunday?") == 0);
	CHECK(strcmp(q_text(&t, b, sizeof(b), "SELECT original_text FROM "
	    "messages WHERE wamid = '" W_TEXT "'"),
	    "Hi! Are you open on Saturday?") == 0);
	CHECK(q_int(&t, "SELECT edited_at FROM messages WHERE wamid = '"
	    W_TEXT "'") == 1767268920);
	tdb_close(&t);
}

/* A deletion clears the text in either order, the words kept aside. */
TEST(revoke_before_or_after_its_message)
{
	struct tdb	 t;
	struct db_tally	 a;
	char		 b[256];
	int		 first;

	for (first = 0; first < 2; first++) {
		CHECK(tdb_open(&t) == 0);
		if (first)
			CHECK(apply_fixture(&t, "revoke.json", &a) == 0 &&
			    a.applied == 1);
		CHECK(apply_fixture(&t, "text_reply_context.json", &a) == 0 &&
		    a.applied == 1);
		if (!first)
			CHECK(apply_fixture(&t, "revoke.json", &a) == 0 &&
			    a.applied == 1);
		CHECK(q_int(&t, "SELECT text IS NULL FROM messages WHERE "
		    "wamid = '" W_REPLY "'") == 1);
		CHECK(q_int(&t, "SELECT revoked_at FROM messages WHERE wamid = "
		    "'" W_REPLY "'") == 1767272400);
		CHECK(strcmp(q_text(&t, b, sizeof(b), "SELECT original_text "
		    "FROM messages WHERE wamid = '" W_REPLY "'"),
		    "Great, and until what time on Sunday?") == 0);
		CHECK(q_int(&t, "SELECT count(*) FROM message_edits WHERE "
		    "kind = 'revoke'") == 1);
		tdb_close(&t);
	}
}

/* Reference 5.11: the contact takes the new number; old ones follow. */
TEST(number_change_moves_the_contact)
{
	struct tdb	 t;
	struct db_tally	 a;
	char		 b[2048];

	CHECK(tdb_open(&t) == 0);
	CHECK(apply_fixture(&t, "document.json", &a) == 0 && a.applied == 1);
	CHECK(apply_fixture(&t, "system_number_change.json", &a) == 0 &&
	    a.applied == 1);
	CHECK(q_int(&t, "SELECT count(*) FROM contacts") == 1);
	CHECK(strcmp(q_text(&t, b, sizeof(b), "SELECT wa_id FROM contacts"),
	    "15550008888") == 0);
	CHECK(strcmp(q_text(&t, b, sizeof(b), "SELECT new_id FROM "
	    "contact_renames WHERE old_id = '" BOB "'"), "15550008888") == 0);
	/* A late message from the old number joins the same contact. */
	CHECK(apply_str(&t, hook_text(b, sizeof(b), "wamid.LATE1", BOB,
	    "Bob Sample", 1767269700, "still here"), &a) == 0 && a.applied == 1);
	CHECK(q_int(&t, "SELECT count(*) FROM contacts") == 1);
	CHECK(q_int(&t, "SELECT count(*) FROM conversations") == 1);
	CHECK(q_int(&t, "SELECT message_count FROM conversations") == 3);
	tdb_close(&t);
}

/* Messages from the new number first: the two contacts become one. */
TEST(number_change_after_the_new_number_merges)
{
	struct tdb	 t;
	struct db_tally	 a;
	char		 b[128];

	CHECK(tdb_open(&t) == 0);
	CHECK(apply_fixture(&t, "document.json", &a) == 0 && a.applied == 1);
	CHECK(apply_fixture(&t, "text_new_number.json", &a) == 0 &&
	    a.applied == 1);
	CHECK(q_int(&t, "SELECT count(*) FROM contacts") == 2);
	CHECK(apply_fixture(&t, "system_number_change.json", &a) == 0 &&
	    a.applied == 1);
	CHECK(q_int(&t, "SELECT count(*) FROM contacts") == 1);
	CHECK(strcmp(q_text(&t, b, sizeof(b), "SELECT wa_id FROM contacts"),
	    "15550008888") == 0);
	CHECK(q_int(&t, "SELECT count(*) FROM conversations") == 1);
	CHECK(q_int(&t, "SELECT message_count FROM conversations") == 3);
	CHECK(q_int(&t, "SELECT unread_count FROM conversations") == 3);
	CHECK(q_int(&t, "SELECT count(DISTINCT contact_id) FROM messages") ==
	    1);
	CHECK(q_int(&t, "SELECT count(*) FROM messages WHERE contact_id = "
	    "(SELECT id FROM contacts)") == 3);
	tdb_close(&t);
}

/* The newest message's name wins, whatever the arrival order. */
TEST(profile_name_follows_the_newest_message)
{
	struct tdb	 t;
	struct db_tally	 a;
	char		 b[2048];
	int		 order;

	for (order = 0; order < 2; order++) {
		CHECK(tdb_open(&t) == 0);
		CHECK(apply_str(&t, hook_text(b, sizeof(b), order ?
		    "wamid.N2" : "wamid.N1", ALICE, order ? "Alice New" :
		    "Alice Old", order ? 1767270000 : 1767260000, "hi"),
		    &a) == 0 && a.applied == 1);
		CHECK(apply_str(&t, hook_text(b, sizeof(b), order ?
		    "wamid.N1" : "wamid.N2", ALICE, order ? "Alice Old" :
		    "Alice New", order ? 1767260000 : 1767270000, "hi"),
		    &a) == 0 && a.applied == 1);
		CHECK(strcmp(q_text(&t, b, sizeof(b), "SELECT profile_name "
		    "FROM contacts"), "Alice New") == 0);
		CHECK(q_int(&t, "SELECT first_seen_at FROM contacts") ==
		    1767260000);
		CHECK(q_int(&t, "SELECT last_seen_at FROM contacts") ==
		    1767270000);
		tdb_close(&t);
	}
}

/* The business's address book names the contact (reference 14.2). */
TEST(address_book_sets_the_saved_name)
{
	struct tdb	 t;
	struct db_tally	 a;
	char		 b[128];

	CHECK(tdb_open(&t) == 0);
	/* The change itself is kept too, as an account event. */
	CHECK(apply_fixture(&t, "smb_app_state_sync.json", &a) == 0);
	CHECK(a.total == 2 && a.applied == 2);
	CHECK(q_int(&t, "SELECT count(*) FROM subscription_events WHERE "
	    "field = 'smb_app_state_sync'") == 1);
	CHECK(strcmp(q_text(&t, b, sizeof(b), "SELECT saved_name FROM "
	    "contacts WHERE wa_id = '15550005555'"), "Carol Customer") == 0);
	CHECK(q_int(&t, "SELECT saved_name_at FROM contacts") == 1767268000);
	CHECK(q_int(&t, "SELECT count(*) FROM messages") == 0);
	tdb_close(&t);
}

/* Errors and other fields are kept whole, once. */
TEST(errors_and_account_events_are_kept)
{
	struct tdb	 t;
	struct db_tally	 a;
	char		 b[128];

	CHECK(tdb_open(&t) == 0);
	CHECK(apply_fixture(&t, "value_level_errors.json", &a) == 0 &&
	    a.applied == 1);
	CHECK(q_int(&t, "SELECT code FROM webhook_errors") == 130429);
	CHECK(strcmp(q_text(&t, b, sizeof(b), "SELECT title FROM "
	    "webhook_errors"), "Rate limit hit") == 0);
	CHECK(apply_fixture(&t, "template_status_update.json", &a) == 0 &&
	    a.applied == 1);
	CHECK(strcmp(q_text(&t, b, sizeof(b), "SELECT field || ' ' || event "
	    "|| ' ' || waba_id FROM subscription_events"),
	    "message_template_status_update APPROVED 100200300400500") == 0);
	CHECK(q_int(&t, "SELECT webhook_event_id FROM subscription_events") ==
	    2);
	tdb_close(&t);
}

/* An item the parser refused fails alone: nothing of it is written. */
TEST(bad_item_fails_with_its_reason)
{
	struct tdb	 t;
	struct wh_item	 it;
	struct policy_verdict v;
	const char	*why = NULL;

	CHECK(tdb_open(&t) == 0);
	memset(&it, 0, sizeof(it));
	memset(&v, 0, sizeof(v));
	it.kind = WH_BAD;
	it.error = "message without id";
	CHECK(db_begin(t.db) == DB_OK);
	CHECK(db_apply_item(t.db, 0, &it, &v, NOW_MS, &why) == DB_ERR);
	CHECK(why != NULL && strcmp(why, "message without id") == 0);
	CHECK(db_commit(t.db) == 0);
	CHECK(q_int(&t, "SELECT count(*) FROM messages") == 0);
	tdb_close(&t);
}

/* Whole-message STOP and START words set the opt-out, newest wins. */
TEST(stop_and_start_words_opt_out_and_in)
{
	struct tdb	 t;
	struct db_tally	 a;
	char		 b[2048];

	CHECK(tdb_open(&t) == 0);
	t.stop_words = "STOP, UNSUBSCRIBE";
	t.start_words = "START";
	CHECK(apply_str(&t, hook_text(b, sizeof(b), "wamid.S1", ALICE, "A",
	    1767270000, "please stop sending"), &a) == 0 && a.applied == 1);
	CHECK(q_int(&t, "SELECT opted_out FROM contacts") == 0);
	CHECK(q_int(&t, "SELECT opted_out_at FROM contacts") == Q_NONE);
	CHECK(apply_str(&t, hook_text(b, sizeof(b), "wamid.S2", ALICE, "A",
	    1767270100, "  unsubscribe "), &a) == 0 && a.applied == 1);
	CHECK(q_int(&t, "SELECT opted_out FROM contacts") == 1);
	CHECK(q_int(&t, "SELECT opted_out_at FROM contacts") == 1767270100);
	CHECK(q_int(&t, "SELECT last_stop_at FROM contacts") == 1767270100);
	CHECK(apply_str(&t, hook_text(b, sizeof(b), "wamid.S3", ALICE, "A",
	    1767270200, "Start"), &a) == 0 && a.applied == 1);
	CHECK(q_int(&t, "SELECT opted_out FROM contacts") == 0);
	CHECK(q_int(&t, "SELECT opted_out_at FROM contacts") == 1767270200);
	CHECK(q_int(&t, "SELECT last_stop_at FROM contacts") == 1767270100);
	/* A STOP older than the START, come late, changes nothing. */
	CHECK(apply_str(&t, hook_text(b, sizeof(b), "wamid.S4", ALICE, "A",
	    1767270150, "STOP"), &a) == 0 && a.applied == 1);
	CHECK(q_int(&t, "SELECT opted_out FROM contacts") == 0);
	CHECK(q_int(&t, "SELECT opted_out_at FROM contacts") == 1767270200);
	CHECK(q_int(&t, "SELECT last_stop_at FROM contacts") == 1767270150);
	tdb_close(&t);
}

/* Without keywords set, STOP is just a word. */
TEST(stop_without_keywords_is_a_word)
{
	struct tdb	 t;
	struct db_tally	 a;
	char		 b[2048];

	CHECK(tdb_open(&t) == 0);
	CHECK(apply_str(&t, hook_text(b, sizeof(b), "wamid.S1", ALICE, "A",
	    1767270000, "STOP"), &a) == 0 && a.applied == 1);
	CHECK(q_int(&t, "SELECT opted_out FROM contacts") == 0);
	CHECK(q_int(&t, "SELECT last_stop_at FROM contacts") == Q_NONE);
	tdb_close(&t);
}

/* The user_preferences webhook opts out like STOP. */
TEST(marketing_preference_opts_out)
{
	struct tdb	 t;
	struct db_tally	 a;

	CHECK(tdb_open(&t) == 0);
	CHECK(apply_fixture(&t, "user_preferences.json", &a) == 0);
	CHECK(a.total == 2 && a.applied == 2);
	CHECK(q_int(&t, "SELECT opted_out FROM contacts WHERE wa_id = "
	    "'15550005555'") == 1);
	CHECK(q_int(&t, "SELECT opted_out_at FROM contacts") == 1767268500);
	tdb_close(&t);
}

int
main(void)
{
	RUN(every_message_type_is_stored);
	RUN(location_keeps_its_coordinates);
	RUN(window_is_24_hours_or_72_after_an_ad);
	RUN(redelivery_of_every_fixture_changes_nothing);
	RUN(batch_applies_each_item_under_its_number);
	RUN(every_status_order_ends_at_the_highest_rank);
	RUN(every_status_order_keeps_the_same_error);
	RUN(statuses_before_their_message_are_reconciled);
	RUN(status_with_our_callback_accepts_the_outbox_row);
	RUN(edit_after_its_message);
	RUN(edit_before_its_message_ends_the_same);
	RUN(revoke_before_or_after_its_message);
	RUN(number_change_moves_the_contact);
	RUN(number_change_after_the_new_number_merges);
	RUN(profile_name_follows_the_newest_message);
	RUN(address_book_sets_the_saved_name);
	RUN(errors_and_account_events_are_kept);
	RUN(bad_item_fails_with_its_reason);
	RUN(stop_and_start_words_opt_out_and_in);
	RUN(stop_without_keywords_is_a_word);
	RUN(marketing_preference_opts_out);
	return CHECK_DONE();
}
