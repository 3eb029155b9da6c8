/*
 * test_db_jobs.c: account jobs in storage: queue, the oldest due first,
 * claim once, retry later, finish done or failed, read back, the next
 * due time, recovery of running jobs at start, and the helpers of the
 * hourly template sync and the business profile.
 */
#include "dbt.h"

#define WABA	"100200300400500"

static void
add_number(struct tdb *t, const char *pnid, const char *label,
    const char *waba, const char *env, int64_t created)
{
	struct db_number n;

	memset(&n, 0, sizeof(n));
	(void)snprintf(n.pnid, sizeof(n.pnid), "%s", pnid);
	(void)snprintf(n.label, sizeof(n.label), "%s", label);
	if (waba != NULL)
		(void)snprintf(n.waba_id, sizeof(n.waba_id), "%s", waba);
	(void)snprintf(n.token_env, sizeof(n.token_env), "%s", env);
	CHECK(db_number_upsert(t->db, &n, created) == DB_OK);
}

/* Collects typed rows as "name=value;" text. */
static void
on_row(void *arg, int nc, const char *const *names, const struct db_val *v)
{
	char	*out = arg;
	size_t	 len;
	int	 i;

	for (i = 0; i < nc; i++) {
		len = strlen(out);
		if (v[i].type == DB_VAL_INT)
			(void)snprintf(out + len, 1024 - len, "%s=%lld;",
			    names[i], (long long)v[i].i);
		else if (v[i].type == DB_VAL_TEXT)
			(void)snprintf(out + len, 1024 - len, "%s=%s;",
			    names[i], v[i].s);
		else
			(void)snprintf(out + len, 1024 - len, "%s=null;",
			    names[i]);
	}
}

static void
on_waba(void *arg, const char *const *col)
{
	char	*out = arg;
	size_t	 len = strlen(out);

	(void)snprintf(out + len, 256 - len, "%s;", col[0]);
}

static void
on_pair(void *arg, const char *const *col)
{
	char	*out = arg;
	size_t	 len = strlen(out);

	(void)snprintf(out + len, 256 - len, "%s=%s;", col[0], col[1]);
}

TEST(insert_then_due_oldest_first)
{
	struct tdb	 t;
	struct db_job	 j;
	int64_t		 a, b;
	char		 buf[128];

	CHECK(tdb_open(&t) == 0);
	a = db_job_insert(t.db, PNID, NULL, "profile_get", NULL, NOW_MS);
	b = db_job_insert(t.db, NULL, WABA, "template_create",
	    "{\"name\":\"x\"}", NOW_MS + 5);
	CHECK(a > 0 && b > a);
	CHECK(strcmp(q_text(&t, buf, sizeof(buf), "SELECT state FROM "
	    "account_jobs WHERE id = %lld", (long long)b), "queued") == 0);
	CHECK(q_int(&t, "SELECT next_attempt_at FROM account_jobs WHERE "
	    "id = %lld", (long long)b) == NOW_MS + 5);
	/* Not due before its time. */
	CHECK(db_job_due(t.db, NOW_MS - 1, &j) == 0);
	CHECK(db_job_due(t.db, NOW_MS + 10, &j) == 1);
	CHECK(j.id == a && strcmp(j.kind, "profile_get") == 0);
	CHECK(strcmp(j.pnid, PNID) == 0 && j.waba[0] == '\0');
	CHECK(j.body == NULL && j.attempts == 0);
	db_job_clear(&j);
	CHECK(db_job_claim(t.db, a) == 1);
	CHECK(db_job_due(t.db, NOW_MS + 10, &j) == 1);
	CHECK(j.id == b && strcmp(j.waba, WABA) == 0 && j.pnid[0] == '\0');
	CHECK(j.body != NULL && strcmp(j.body, "{\"name\":\"x\"}") == 0);
	db_job_clear(&j);
	tdb_close(&t);
}

TEST(unknown_kind_is_refused)
{
	struct tdb t;

	CHECK(tdb_open(&t) == 0);
	CHECK(db_job_insert(t.db, PNID, NULL, "reboot", NULL, NOW_MS) == -1);
	CHECK(q_int(&t, "SELECT count(*) FROM account_jobs") == 0);
	tdb_close(&t);
}

TEST(claim_once_counts_attempts)
{
	struct tdb	 t;
	int64_t		 id;

	CHECK(tdb_open(&t) == 0);
	id = db_job_insert(t.db, PNID, NULL, "profile_get", NULL, NOW_MS);
	CHECK(db_job_claim(t.db, id) == 1);
	CHECK(db_job_claim(t.db, id) == 0);	/* running already */
	CHECK(db_job_claim(t.db, id + 1) == 0);	/* no such job */
	CHECK(q_int(&t, "SELECT attempts FROM account_jobs") == 1);
	tdb_close(&t);
}

TEST(retry_requeues_later_with_the_reason)
{
	struct tdb	 t;
	struct db_job	 j;
	int64_t		 id;
	char		 buf[128];

	CHECK(tdb_open(&t) == 0);
	id = db_job_insert(t.db, PNID, NULL, "profile_get", NULL, NOW_MS);
	CHECK(db_job_claim(t.db, id) == 1);
	CHECK(db_job_retry(t.db, id, NOW_MS + 2000, 131000,
	    "Meta answered HTTP 500") == 0);
	CHECK(strcmp(q_text(&t, buf, sizeof(buf), "SELECT state || ':' || "
	    "error_code || ':' || error_title FROM account_jobs"),
	    "queued:131000:Meta answered HTTP 500") == 0);
	CHECK(db_job_due(t.db, NOW_MS + 1999, &j) == 0);
	CHECK(db_job_next_due(t.db, NOW_MS) == NOW_MS + 2000);
	CHECK(db_job_due(t.db, NOW_MS + 2000, &j) == 1 && j.attempts == 1);
	db_job_clear(&j);
	CHECK(db_job_claim(t.db, id) == 1);
	CHECK(q_int(&t, "SELECT attempts FROM account_jobs") == 2);
	tdb_close(&t);
}

TEST(finish_done_and_failed)
{
	struct tdb	 t;
	int64_t		 a, b;
	char		 out[1024] = "";

	CHECK(tdb_open(&t) == 0);
	a = db_job_insert(t.db, PNID, NULL, "profile_get", NULL, NOW_MS);
	b = db_job_insert(t.db, NULL, WABA, "template_create", "{}", NOW_MS);
	CHECK(db_job_claim(t.db, a) == 1 && db_job_claim(t.db, b) == 1);
	/* A first try's reason is gone once done. */
	CHECK(db_job_retry(t.db, a, NOW_MS, 2, "later") == 0);
	CHECK(db_job_claim(t.db, a) == 1);
	CHECK(db_job_finish(t.db, a, 1, "{\"ok\":1}", 0, NULL, NOW_MS + 7) ==
	    0);
	CHECK(db_job_finish(t.db, b, 0, NULL, 100, "Meta refused it",
	    NOW_MS + 8) == 0);
	CHECK(db_job_get(t.db, a, on_row, out) == 1);
	CHECK(strstr(out, "state=done;") != NULL);
	CHECK(strstr(out, "result={\"ok\":1};") != NULL);
	CHECK(strstr(out, "error_code=null;error_title=null;") != NULL);
	CHECK(strstr(out, "attempts=2;") != NULL);
	CHECK(strstr(out, "finished_at=1767300000130;") != NULL);
	out[0] = '\0';
	CHECK(db_job_get(t.db, b, on_row, out) == 1);
	CHECK(strstr(out, "kind=template_create;") != NULL);
	CHECK(strstr(out, "state=failed;") != NULL);
	CHECK(strstr(out, "error_code=100;error_title=Meta refused it;") !=
	    NULL);
	CHECK(strstr(out, "phone_number_id=null;waba_id=" WABA ";") != NULL);
	/* A finished job is not finished again, nor retried. */
	CHECK(db_job_finish(t.db, b, 1, "{}", 0, NULL, NOW_MS) == 0);
	CHECK(db_job_retry(t.db, b, NOW_MS, 0, NULL) == 0);
	CHECK(q_int(&t, "SELECT count(*) FROM account_jobs WHERE id = %lld "
	    "AND state = 'failed' AND result IS NULL", (long long)b) == 1);
	out[0] = '\0';
	CHECK(db_job_get(t.db, b + 1, on_row, out) == 0);
	tdb_close(&t);
}

TEST(next_due_and_recover)
{
	struct tdb	 t;
	int64_t		 a;

	CHECK(tdb_open(&t) == 0);
	CHECK(db_job_next_due(t.db, NOW_MS) == DB_NEVER);
	a = db_job_insert(t.db, PNID, NULL, "profile_get", NULL, NOW_MS);
	/* Due already: not a wake-up time. */
	CHECK(db_job_next_due(t.db, NOW_MS) == DB_NEVER);
	CHECK(db_job_next_due(t.db, NOW_MS - 10) == NOW_MS);
	CHECK(db_job_claim(t.db, a) == 1);
	CHECK(db_job_recover(t.db) == 1);
	CHECK(q_int(&t, "SELECT count(*) FROM account_jobs WHERE "
	    "state = 'queued'") == 1);
	CHECK(db_job_recover(t.db) == 0);
	tdb_close(&t);
}

TEST(pending_and_last_per_waba)
{
	struct tdb	 t;
	int64_t		 a;

	CHECK(tdb_open(&t) == 0);
	CHECK(db_job_pending(t.db, "template_sync", WABA) == 0);
	CHECK(db_job_last(t.db, "template_sync", WABA) == 0);
	a = db_job_insert(t.db, NULL, WABA, "template_sync", NULL, NOW_MS);
	(void)db_job_insert(t.db, NULL, "42", "template_sync", NULL,
	    NOW_MS + 50);
	CHECK(db_job_pending(t.db, "template_sync", WABA) == 1);
	CHECK(db_job_pending(t.db, "template_create", WABA) == 0);
	CHECK(db_job_claim(t.db, a) == 1);
	CHECK(db_job_pending(t.db, "template_sync", WABA) == 1);
	CHECK(db_job_finish(t.db, a, 1, "{}", 0, NULL, NOW_MS) == 0);
	CHECK(db_job_pending(t.db, "template_sync", WABA) == 0);
	CHECK(db_job_last(t.db, "template_sync", WABA) == NOW_MS);
	CHECK(db_job_last(t.db, "template_sync", "42") == NOW_MS + 50);
	tdb_close(&t);
}

TEST(wabas_and_their_token)
{
	struct tdb	 t;
	char		 out[256] = "", env[128];

	CHECK(tdb_open(&t) == 0);
	add_number(&t, "111", "b", WABA, "TOKEN_B", NOW_S + 1);
	add_number(&t, "222", "a", WABA, "TOKEN_A", NOW_S);
	add_number(&t, "333", "c", "77", "TOKEN_C", NOW_S);
	add_number(&t, "444", "d", NULL, "TOKEN_D", NOW_S);
	add_number(&t, "555", "e", "88", "TOKEN_E", NOW_S);
	CHECK(db_number_remove(t.db, "555", NOW_S) == 1);
	CHECK(db_job_wabas(t.db, on_waba, out) == 2);
	CHECK(strcmp(out, WABA ";77;") == 0);
	CHECK(db_job_waba_token(t.db, WABA, env, sizeof(env)) == 1);
	CHECK(strcmp(env, "TOKEN_A") == 0);	/* the oldest number's */
	CHECK(db_job_waba_token(t.db, "88", env, sizeof(env)) == 0);
	CHECK(db_number_remove(t.db, "222", NOW_S) == 1);
	CHECK(db_job_waba_token(t.db, WABA, env, sizeof(env)) == 1);
	CHECK(strcmp(env, "TOKEN_B") == 0);
	out[0] = '\0';
	CHECK(db_job_number_wabas(t.db, on_pair, out) == 2);
	CHECK(strcmp(out, "333=77;111=" WABA ";") == 0);
	tdb_close(&t);
}

TEST(profile_stored_and_read)
{
	struct tdb	 t;
	char		 out[1024] = "";

	CHECK(tdb_open(&t) == 0);
	add_number(&t, "111", "sales", WABA, "T", NOW_S);
	CHECK(db_job_profile_get(t.db, "111", on_row, out) == 1);
	CHECK(strstr(out, "profile=null;profile_at=null;") != NULL);
	CHECK(db_job_profile_set(t.db, "111", "{\"about\":\"hi\"}", NOW_S) ==
	    1);
	CHECK(db_job_profile_set(t.db, "999", "{}", NOW_S) == 0);
	out[0] = '\0';
	CHECK(db_job_profile_get(t.db, "111", on_row, out) == 1);
	CHECK(strstr(out, "label=sales;profile={\"about\":\"hi\"};"
	    "profile_at=1767300000;") != NULL);
	out[0] = '\0';
	CHECK(db_job_profile_get(t.db, "999", on_row, out) == 0);
	tdb_close(&t);
}

int
main(void)
{
	RUN(insert_then_due_oldest_first);
	RUN(unknown_kind_is_refused);
	RUN(claim_once_counts_attempts);
	RUN(retry_requeues_later_with_the_reason);
	RUN(finish_done_and_failed);
	RUN(next_due_and_recover);
	RUN(pending_and_last_per_waba);
	RUN(wabas_and_their_token);
	RUN(profile_stored_and_read);
	return CHECK_DONE();
}
