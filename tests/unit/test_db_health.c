/*
 * test_db_health.c: what Meta's account webhooks change in storage
 * (db_health.c): template status, quality and category updates on the
 * templates table (with one template_sync queued), a number's quality,
 * tier, account state and daily limit, each in Meta's time order and
 * unchanged by a redelivery; and the numbers that write unconfigured.
 */
#include <fcntl.h>

#include "dbt.h"

#define WABA	"100200300400500"	/* the fixtures' WABA */
#define WABA2	"700800900100200"
#define SALES	"110220330440550"

/* A one-change account webhook of WABA waba at Meta time t. */
static const char *
account_hook(char *buf, size_t sz, const char *waba, long long t, const char *field,
    const char *value)
{
	int n = snprintf(buf, sz, "{\"object\":\"whatsapp_business_account\","
	    "\"entry\":[{\"id\":\"%s\",\"time\":%lld,\"changes\":[{\"field\":"
	    "\"%s\",\"value\":%s}]}]}", waba, t, field, value);

	if (n < 0 || (size_t)n >= sz)
		return "";
	return buf;
}

static int
exec(struct tdb *t, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(t->h, sql, NULL, NULL, &err) != SQLITE_OK) {
		fprintf(stderr, "  exec: %s\n", err);
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

/* The fixtures' number (display 15550001111) in WABA, and SALES in WABA2. */
static int
two_numbers(struct tdb *t)
{
	return exec(t, "INSERT INTO numbers (phone_number_id, waba_id, "
	    "display_phone_number, label, quality_rating, "
	    "messaging_limit_tier, created_at) VALUES "
	    "('" PNID "', '" WABA "', '+1 555-000-1111', 'default', 'GREEN', "
	    "'TIER_10K', 1), ('" SALES "', '" WABA2 "', '+1 555-010-2222', "
	    "'sales', 'GREEN', 'TIER_1K', 2)");
}

#define STATUS(e, id, name, ts, extra) \
	"{\"event\":\"" e "\",\"message_template_id\":" id ",\"message_" \
	"template_name\":\"" name "\",\"message_template_language\":" \
	"\"en_US\"" extra "}"

TEST(template_status_of_an_unknown_template_makes_a_row)
{
	struct tdb	 t;
	struct db_tally	 a;
	char		 s[64];

	CHECK(tdb_open(&t) == 0);
	CHECK(apply_fixture(&t, "template_status_update.json", &a) == 0);
	CHECK(a.applied == 1);
	CHECK(strcmp(q_text(&t, s, sizeof(s), "SELECT status || '/' || "
	    "template_id || '/' || category || '/' || components || '/' || "
	    "updated_at FROM templates WHERE waba_id = '" WABA "' AND name = "
	    "'order_update' AND language = 'en_US'"),
	    "APPROVED/1234567890123456/UTILITY/[]/1767273800") == 0);
	/* The whole value is still kept, and a sync is queued once. */
	CHECK(q_int(&t, "SELECT count(*) FROM subscription_events") == 1);
	CHECK(q_int(&t, "SELECT count(*) FROM account_jobs WHERE kind = "
	    "'template_sync' AND waba_id = '" WABA "' AND state = 'queued' "
	    "AND next_attempt_at = %lld", NOW_MS) == 1);
	CHECK(apply_fixture(&t, "template_status_rejected.json", &a) == 0);
	CHECK(strcmp(q_text(&t, s, sizeof(s), "SELECT status || '/' || "
	    "rejected_reason FROM templates WHERE name = 'weekend_promo'"),
	    "REJECTED/INVALID_FORMAT") == 0);
	CHECK(q_int(&t, "SELECT count(*) FROM account_jobs") == 1);
	tdb_close(&t);
}

TEST(template_redelivery_changes_nothing)
{
	struct tdb	 t;
	struct db_tally	 a;

	CHECK(tdb_open(&t) == 0);
	CHECK(apply_fixture(&t, "template_status_rejected.json", &a) == 0);
	CHECK(a.applied == 1);
	/* The sync ran meanwhile: a redelivery queues no other. */
	CHECK(exec(&t, "UPDATE account_jobs SET state = 'done'") == 0);
	CHECK(exec(&t, "UPDATE templates SET rejected_reason = 'X'") == 0);
	CHECK(apply_fixture(&t, "template_status_rejected.json", &a) == 0);
	CHECK(a.duplicate == 1 && a.applied == 0);
	CHECK(q_int(&t, "SELECT count(*) FROM account_jobs") == 1);
	CHECK(q_int(&t, "SELECT count(*) FROM templates WHERE "
	    "rejected_reason = 'X'") == 1);
	tdb_close(&t);
}

TEST(template_late_older_status_is_ignored)
{
	struct tdb	 t;
	struct db_tally	 a;
	char		 b[2048], s[64];

	CHECK(tdb_open(&t) == 0);
	CHECK(apply_str(&t, account_hook(b, sizeof(b), WABA, 2000,
	    "message_template_status_update", STATUS("APPROVED", "42",
	    "promo", 0, "")), &a) == 0 && a.applied == 1);
	/* Older, rejected: it arrives late and changes nothing. */
	CHECK(apply_str(&t, account_hook(b, sizeof(b), WABA, 1000,
	    "message_template_status_update", STATUS("REJECTED", "42",
	    "promo", 0, ",\"reason\":\"SCAM\"")), &a) == 0);
	CHECK(strcmp(q_text(&t, s, sizeof(s), "SELECT status || '/' || "
	    "coalesce(rejected_reason, '-') || '/' || updated_at FROM "
	    "templates"), "APPROVED/-/2000") == 0);
	/* Newer, paused: by Meta's id even under another name. */
	CHECK(apply_str(&t, account_hook(b, sizeof(b), WABA, 3000,
	    "message_template_status_update", STATUS("PAUSED", "42",
	    "promo_renamed", 0, "")), &a) == 0);
	CHECK(strcmp(q_text(&t, s, sizeof(s), "SELECT group_concat(status) "
	    "FROM templates"), "PAUSED") == 0);
	/* REINSTATED is approved again; the same template in WABA2 apart. */
	CHECK(apply_str(&t, account_hook(b, sizeof(b), WABA, 4000,
	    "message_template_status_update", STATUS("REINSTATED", "42",
	    "promo", 0, "")), &a) == 0);
	CHECK(apply_str(&t, account_hook(b, sizeof(b), WABA2, 4000,
	    "message_template_status_update", STATUS("REJECTED", "43",
	    "promo", 0, ",\"reason\":\"NONE\"")), &a) == 0);
	CHECK(strcmp(q_text(&t, s, sizeof(s), "SELECT group_concat(waba_id "
	    "|| ':' || status || ':' || coalesce(rejected_reason, '-'), ' ') "
	    "FROM (SELECT * FROM templates ORDER BY id)"),
	    WABA ":APPROVED:- " WABA2 ":REJECTED:-") == 0);
	CHECK(q_int(&t, "SELECT count(*) FROM account_jobs") == 2);
	tdb_close(&t);
}

TEST(template_quality_and_category_updates)
{
	struct tdb	 t;
	struct db_tally	 a;
	char		 b[2048], s[64];

	CHECK(tdb_open(&t) == 0);
	/* Unknown template: no invented row, only the sync. */
	CHECK(apply_str(&t, account_hook(b, sizeof(b), WABA, 1000,
	    "message_template_quality_update", "{\"previous_quality_score\":"
	    "\"GREEN\",\"new_quality_score\":\"YELLOW\",\"message_template_id"
	    "\":42,\"message_template_name\":\"promo\",\"message_template_"
	    "language\":\"en_US\"}"), &a) == 0 && a.applied == 1);
	CHECK(q_int(&t, "SELECT count(*) FROM templates") == 0);
	CHECK(q_int(&t, "SELECT count(*) FROM account_jobs") == 1);
	CHECK(apply_fixture(&t, "template_status_update.json", &a) == 0);
	CHECK(apply_str(&t, account_hook(b, sizeof(b), WABA, 1767273900,
	    "message_template_quality_update", "{\"previous_quality_score\":"
	    "\"GREEN\",\"new_quality_score\":\"RED\",\"message_template_id\":"
	    "1234567890123456,\"message_template_name\":\"order_update\","
	    "\"message_template_language\":\"en_US\"}"), &a) == 0);
	CHECK(apply_str(&t, account_hook(b, sizeof(b), WABA, 1767274000,
	    "template_category_update", "{\"previous_category\":\"UTILITY\","
	    "\"new_category\":\"MARKETING\",\"message_template_id\":"
	    "1234567890123456,\"message_template_name\":\"order_update\","
	    "\"message_template_language\":\"en_US\"}"), &a) == 0);
	CHECK(strcmp(q_text(&t, s, sizeof(s), "SELECT status || '/' || "
	    "quality || '/' || category FROM templates"),
	    "APPROVED/RED/MARKETING") == 0);
	/* Still one sync queued for the WABA. */
	CHECK(q_int(&t, "SELECT count(*) FROM account_jobs") == 1);
	tdb_close(&t);
}

TEST(number_quality_by_display_number_in_time_order)
{
	struct tdb	 t;
	struct db_tally	 a;
	char		 b[2048], s[64];

	CHECK(tdb_open(&t) == 0);
	CHECK(two_numbers(&t) == 0);
	CHECK(apply_fixture(&t, "phone_number_quality_update.json", &a) == 0);
	CHECK(a.applied == 1);
	CHECK(strcmp(q_text(&t, s, sizeof(s), "SELECT quality_rating || '/' "
	    "|| messaging_limit_tier || '/' || quality_at FROM numbers WHERE "
	    "phone_number_id = '" PNID "'"), "RED/TIER_1K/1767280000") == 0);
	CHECK(strcmp(q_text(&t, s, sizeof(s), "SELECT quality_rating || '/' "
	    "|| messaging_limit_tier FROM numbers WHERE phone_number_id = '"
	    SALES "'"), "GREEN/TIER_1K") == 0);
	/* An older UNFLAGGED arrives late: nothing changes. */
	CHECK(apply_str(&t, account_hook(b, sizeof(b), WABA, 1767270000,
	    "phone_number_quality_update", "{\"display_phone_number\":"
	    "\"15550001111\",\"event\":\"UNFLAGGED\",\"current_limit\":"
	    "\"TIER_10K\"}"), &a) == 0 && a.applied == 1);
	CHECK(strcmp(q_text(&t, s, sizeof(s), "SELECT quality_rating || '/' "
	    "|| messaging_limit_tier FROM numbers WHERE phone_number_id = '"
	    PNID "'"), "RED/TIER_1K") == 0);
	/* A newer one: no longer RED (Meta does not say which color). */
	CHECK(apply_str(&t, account_hook(b, sizeof(b), WABA, 1767290000,
	    "phone_number_quality_update", "{\"display_phone_number\":"
	    "\"15550001111\",\"event\":\"UNFLAGGED\","
	    "\"max_daily_conversations_per_business\":\"TIER_10K\"}"), &a) ==
	    0);
	CHECK(strcmp(q_text(&t, s, sizeof(s), "SELECT quality_rating || '/' "
	    "|| messaging_limit_tier FROM numbers WHERE phone_number_id = '"
	    PNID "'"), "UNKNOWN/TIER_10K") == 0);
	/* Redelivered: a duplicate, the row as it was. */
	CHECK(exec(&t, "UPDATE numbers SET quality_rating = 'GREEN'") == 0);
	CHECK(apply_fixture(&t, "phone_number_quality_update.json", &a) == 0);
	CHECK(a.duplicate == 1);
	CHECK(q_int(&t, "SELECT count(*) FROM numbers WHERE quality_rating "
	    "= 'GREEN'") == 2);
	tdb_close(&t);
}

TEST(number_quality_without_display_needs_a_sole_number)
{
	struct tdb	 t;
	struct db_tally	 a;
	char		 b[2048], s[64];

	CHECK(tdb_open(&t) == 0);
	CHECK(two_numbers(&t) == 0);
	/* WABA2 has one number: that one. */
	CHECK(apply_str(&t, account_hook(b, sizeof(b), WABA2, 100,
	    "phone_number_quality_update", "{\"display_phone_number\":"
	    "\"19990000000\",\"event\":\"DOWNGRADE\",\"current_limit\":"
	    "\"TIER_250\"}"), &a) == 0);
	CHECK(strcmp(q_text(&t, s, sizeof(s), "SELECT group_concat(label || "
	    "':' || messaging_limit_tier, ' ') FROM numbers"),
	    "default:TIER_10K sales:TIER_250") == 0);
	/* A WABA with two numbers: none of them (which one is unknown). */
	CHECK(exec(&t, "UPDATE numbers SET waba_id = '" WABA2 "'") == 0);
	CHECK(apply_str(&t, account_hook(b, sizeof(b), WABA2, 200,
	    "phone_number_quality_update", "{\"event\":\"FLAGGED\"}"), &a) ==
	    0 && a.applied == 1);
	CHECK(q_int(&t, "SELECT count(*) FROM numbers WHERE quality_rating "
	    "= 'RED'") == 0);
	/* One number, its WABA not known yet: it is the install's. */
	CHECK(exec(&t, "DELETE FROM numbers WHERE label = 'sales'") == 0);
	CHECK(exec(&t, "UPDATE numbers SET waba_id = NULL") == 0);
	CHECK(apply_str(&t, account_hook(b, sizeof(b), WABA, 300,
	    "phone_number_quality_update", "{\"event\":\"FLAGGED\"}"), &a) ==
	    0);
	CHECK(q_int(&t, "SELECT count(*) FROM numbers WHERE quality_rating "
	    "= 'RED'") == 1);
	tdb_close(&t);
}

TEST(account_update_sets_the_wabas_numbers)
{
	struct tdb	 t;
	struct db_tally	 a;
	char		 b[2048], s[160];

	CHECK(tdb_open(&t) == 0);
	CHECK(two_numbers(&t) == 0);
	CHECK(apply_str(&t, account_hook(b, sizeof(b), WABA2, 5000, "account_update",
	    "{\"event\":\"ACCOUNT_RESTRICTION\",\"restriction_info\":[{"
	    "\"restriction_type\":\"RESTRICTED_BIZ_INITIATED_MESSAGING\","
	    "\"expiration\":1767400000}]}"), &a) == 0 && a.applied == 1);
	CHECK(strcmp(q_text(&t, s, sizeof(s), "SELECT label || '/' || "
	    "account_state || '/' || account_at || '/' || json_extract("
	    "account_detail, '$.restriction_info[0].restriction_type') FROM "
	    "numbers WHERE account_state IS NOT NULL"), "sales/ACCOUNT_"
	    "RESTRICTION/5000/RESTRICTED_BIZ_INITIATED_MESSAGING") == 0);
	CHECK(db_health_restricted("ACCOUNT_RESTRICTION", NULL) == 1);
	/* Older: ignored; newer: replaces it. */
	CHECK(apply_str(&t, account_hook(b, sizeof(b), WABA2, 4000, "account_update",
	    "{\"event\":\"VERIFIED_ACCOUNT\"}"), &a) == 0);
	CHECK(strcmp(q_text(&t, s, sizeof(s), "SELECT account_state FROM "
	    "numbers WHERE label = 'sales'"), "ACCOUNT_RESTRICTION") == 0);
	CHECK(apply_str(&t, account_hook(b, sizeof(b), WABA2, 6000, "account_update",
	    "{\"event\":\"DISABLED_UPDATE\",\"ban_info\":{\"waba_ban_state\":"
	    "[\"REINSTATE\"]}}"), &a) == 0);
	CHECK(strcmp(q_text(&t, s, sizeof(s), "SELECT account_state FROM "
	    "numbers WHERE label = 'sales'"), "DISABLED_UPDATE") == 0);
	CHECK(db_health_restricted("DISABLED_UPDATE",
	    "{\"ban_info\":{\"waba_ban_state\":[\"REINSTATE\"]}}") == 0);
	CHECK(db_health_restricted("DISABLED_UPDATE",
	    "{\"ban_info\":{\"waba_ban_state\":[\"DISABLE\"]}}") == 1);
	CHECK(db_health_restricted("PARTNER_ADDED", NULL) == 0);
	/* The number it names, digits to digits, and only that one. */
	CHECK(exec(&t, "UPDATE numbers SET waba_id = '" WABA2 "'") == 0);
	CHECK(apply_str(&t, account_hook(b, sizeof(b), WABA2, 7000, "account_update",
	    "{\"event\":\"ACCOUNT_OFFBOARDED\",\"phone_number\":"
	    "\"15550001111\"}"), &a) == 0);
	CHECK(strcmp(q_text(&t, s, sizeof(s), "SELECT group_concat(label || "
	    "':' || account_state, ' ') FROM numbers"),
	    "default:ACCOUNT_OFFBOARDED sales:DISABLED_UPDATE") == 0);
	tdb_close(&t);
}

TEST(business_capability_sets_the_daily_limit)
{
	struct tdb	 t;
	struct db_tally	 a;
	char		 b[2048], s[64];

	CHECK(tdb_open(&t) == 0);
	CHECK(two_numbers(&t) == 0);
	CHECK(apply_str(&t, account_hook(b, sizeof(b), WABA, 100,
	    "business_capability_update", "{\"max_daily_conversation_per_"
	    "phone\":2000,\"max_phone_numbers_per_business\":2}"), &a) == 0);
	CHECK(apply_str(&t, account_hook(b, sizeof(b), WABA2, 100,
	    "business_capability_update", "{\"max_daily_conversations_per_"
	    "business\":\"TIER_UNLIMITED\"}"), &a) == 0);
	CHECK(strcmp(q_text(&t, s, sizeof(s), "SELECT group_concat(label || "
	    "':' || max_daily_conversations, ' ') FROM numbers"),
	    "default:2000 sales:-1") == 0);
	/* Older than the row's last tier change: ignored. */
	CHECK(apply_str(&t, account_hook(b, sizeof(b), WABA, 50,
	    "business_capability_update", "{\"max_daily_conversations_per_"
	    "business\":250}"), &a) == 0);
	CHECK(q_int(&t, "SELECT max_daily_conversations FROM numbers WHERE "
	    "label = 'default'") == 2000);
	tdb_close(&t);
}

/* Runs fn with stderr (the log) in a file; the log's text into out. */
static void
logged(struct tdb *t, void (*fn)(struct tdb *), char *out, size_t sz)
{
	char	 path[96];
	FILE	*f;
	int	 saved, fd;
	size_t	 n = 0;

	out[0] = '\0';
	(void)snprintf(path, sizeof(path), "%s/log", t->dir);
	fflush(stderr);
	if ((saved = dup(2)) == -1 || (fd = open(path, O_WRONLY | O_CREAT |
	    O_TRUNC, 0600)) == -1)
		return;
	(void)dup2(fd, 2);
	(void)close(fd);
	fn(t);
	fflush(stderr);
	(void)dup2(saved, 2);
	(void)close(saved);
	if ((f = fopen(path, "r")) != NULL) {
		n = fread(out, 1, sz - 1, f);
		(void)fclose(f);
	}
	out[n] = '\0';
	(void)unlink(path);
}

static int
count(const char *hay, const char *needle)
{
	int n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay++;
	}
	return n;
}

static void
worse_then_better(struct tdb *t)
{
	struct db_tally	 a;
	char		 b[2048];

	/* GREEN to RED, TIER_10K to TIER_1K: both warned. */
	CHECK(apply_fixture(t, "phone_number_quality_update.json", &a) == 0);
	/* The same again (redelivered): nothing. */
	CHECK(apply_fixture(t, "phone_number_quality_update.json", &a) == 0);
	/* RED to YELLOW is better: nothing; the tier up: nothing. */
	CHECK(apply_str(t, account_hook(b, sizeof(b), WABA, 1767290000,
	    "phone_number_quality_update", "{\"display_phone_number\":"
	    "\"15550001111\",\"event\":\"UPGRADE\",\"quality_rating\":"
	    "\"YELLOW\",\"current_limit\":\"TIER_10K\"}"), &a) == 0);
	/* A restriction on WABA2, then one that changes nothing (older). */
	CHECK(apply_str(t, account_hook(b, sizeof(b), WABA2, 500,
	    "account_update", "{\"event\":\"ACCOUNT_VIOLATION\","
	    "\"violation_info\":{\"violation_type\":\"SCAM\"}}"), &a) == 0);
	CHECK(apply_str(t, account_hook(b, sizeof(b), WABA2, 400,
	    "account_update", "{\"event\":\"ACCOUNT_RESTRICTION\"}"), &a) ==
	    0);
}

TEST(worker_warns_once_per_change_for_the_worse)
{
	struct tdb	 t;
	char		 log[4096];

	CHECK(tdb_open(&t) == 0);
	CHECK(two_numbers(&t) == 0);
	logged(&t, worse_then_better, log, sizeof(log));
	CHECK(count(log, "number default (" PNID "): quality dropped to RED "
	    "(was GREEN)") == 1);
	CHECK(count(log, "number default (" PNID "): messaging tier dropped "
	    "to TIER_1K (was TIER_10K)") == 1);
	CHECK(count(log, "number sales (" SALES "): account_update "
	    "ACCOUNT_VIOLATION") == 1);
	CHECK(count(log, "dropped") == 2 && count(log, "account_update") == 1);
	CHECK(count(log, "warn") == 3);
	tdb_close(&t);
}

static void
on_id(void *arg, const char *pnid)
{
	char	*out = arg;
	size_t	 len = strlen(out);

	(void)snprintf(out + len, 128 - len, "%s;", pnid);
}

TEST(unknown_numbers_are_those_writing_unconfigured)
{
	struct tdb	 t;
	struct db_tally	 a;
	char		 b[4096], got[128] = "";

	CHECK(tdb_open(&t) == 0);
	CHECK(two_numbers(&t) == 0);
	/* The fixtures' number is configured; 999 is not, 888 removed. */
	CHECK(apply_str(&t, hook_text(b, sizeof(b), "wamid.a", "15550002222",
	    "Alice", NOW_S - 60, "hi"), &a) == 0 && a.applied == 1);
	CHECK(exec(&t, "INSERT INTO messages (phone_number_id, wamid, "
	    "direction, type, timestamp, raw, created_at) VALUES "
	    "('999', 'w1', 'in', 'text', 1767299000, '{}', 1), "
	    "('777', 'w2', 'in', 'text', 1767000000, '{}', 1), "
	    "('" SALES "', 'w3', 'in', 'text', 1767299000, '{}', 1)") == 0);
	CHECK(exec(&t, "INSERT INTO message_statuses (phone_number_id, "
	    "wamid, status, timestamp, raw, created_at) VALUES "
	    "('888', 'w9', 'sent', 1767299000, '{}', 1767299000)") == 0);
	CHECK(exec(&t, "UPDATE numbers SET removed_at = 5 WHERE label = "
	    "'sales'") == 0);
	/* 777 wrote before the day began: not listed. */
	CHECK(db_health_unknown(t.db, NOW_S - 86400, on_id, got) == 3);
	CHECK(strcmp(got, SALES ";888;999;") == 0 ||
	    strcmp(got, "888;" SALES ";999;") == 0);
	tdb_close(&t);
}

int
main(void)
{
	RUN(template_status_of_an_unknown_template_makes_a_row);
	RUN(template_redelivery_changes_nothing);
	RUN(template_late_older_status_is_ignored);
	RUN(template_quality_and_category_updates);
	RUN(number_quality_by_display_number_in_time_order);
	RUN(number_quality_without_display_needs_a_sole_number);
	RUN(account_update_sets_the_wabas_numbers);
	RUN(business_capability_sets_the_daily_limit);
	RUN(worker_warns_once_per_change_for_the_worse);
	RUN(unknown_numbers_are_those_writing_unconfigured);
	return CHECK_DONE();
}
