/*
 * test_db_templates.c: the templates table in storage: upsert by (WABA,
 * name, language) keeping the newest, get, list with every filter and
 * the cursor, delete one language or all, the sweep after a complete
 * sync and its stamp, and the numbers a sync starts from.
 */
#include "dbt.h"

#define WABA	"9988776655"
#define WABA2	"1122334455"

static void
fill(struct db_template *t, const char *waba, const char *name,
    const char *lang, const char *status)
{
	memset(t, 0, sizeof(*t));
	(void)snprintf(t->waba, sizeof(t->waba), "%s", waba);
	(void)snprintf(t->name, sizeof(t->name), "%s", name);
	(void)snprintf(t->language, sizeof(t->language), "%s", lang);
	(void)snprintf(t->status, sizeof(t->status), "%s", status);
	(void)snprintf(t->category, sizeof(t->category), "UTILITY");
	(void)snprintf(t->template_id, sizeof(t->template_id), "77%s", lang);
	t->components = "[{\"type\":\"BODY\",\"text\":\"Hi {{1}}.\"}]";
}

/* Collects "name/language/status;" of each row into arg (512 bytes). */
static void
on_row(void *arg, int nc, const char *const *names, const struct db_val *v)
{
	char	*out = arg;
	size_t	 len = strlen(out);

	CHECK(nc == 12);
	CHECK(strcmp(names[0], "id") == 0 && strcmp(names[8],
	    "components") == 0);
	(void)snprintf(out + len, 512 - len, "%s/%s/%s;", v[3].s, v[4].s,
	    v[6].s);
}

TEST(upsert_then_get)
{
	struct tdb		 t;
	struct db_template	 a, g;

	CHECK(tdb_open(&t) == 0);
	fill(&a, WABA, "order_update", "en_US", "APPROVED");
	a.synced_at = NOW_S;
	CHECK(db_template_upsert(t.db, &a, NOW_S) == 0);
	CHECK(db_template_get(t.db, WABA, "order_update", "en_US", &g) == 1);
	CHECK(g.id > 0 && strcmp(g.status, "APPROVED") == 0);
	CHECK(strcmp(g.template_id, "77en_US") == 0);
	CHECK(g.components != NULL && strstr(g.components, "{{1}}") != NULL);
	CHECK(g.synced_at == NOW_S && g.updated_at == NOW_S);
	CHECK(g.quality[0] == '\0' && g.rejected_reason[0] == '\0');
	db_template_clear(&g);
	CHECK(g.components == NULL);
	/* Another language or WABA is another template. */
	CHECK(db_template_get(t.db, WABA, "order_update", "pt_BR", &g) == 0);
	CHECK(db_template_get(t.db, WABA2, "order_update", "en_US", &g) == 0);
	db_template_clear(&g);
	/* A template needs its key and a status. */
	fill(&a, WABA, "", "en_US", "APPROVED");
	CHECK(db_template_upsert(t.db, &a, NOW_S) == -1);
	fill(&a, WABA, "x", "en_US", "");
	CHECK(db_template_upsert(t.db, &a, NOW_S) == -1);
	tdb_close(&t);
}

TEST(upsert_keeps_the_newest)
{
	struct tdb		 t;
	struct db_template	 a, g;

	CHECK(tdb_open(&t) == 0);
	fill(&a, WABA, "promo", "en", "PENDING");
	(void)snprintf(a.quality, sizeof(a.quality), "GREEN");
	CHECK(db_template_upsert(t.db, &a, NOW_S) == 0);
	/* Meta's newer word wins; what it left out stays. */
	fill(&a, WABA, "promo", "en", "REJECTED");
	a.template_id[0] = '\0';
	a.category[0] = '\0';
	(void)snprintf(a.rejected_reason, sizeof(a.rejected_reason),
	    "INVALID_FORMAT");
	CHECK(db_template_upsert(t.db, &a, NOW_S + 10) == 0);
	CHECK(db_template_get(t.db, WABA, "promo", "en", &g) == 1);
	CHECK(strcmp(g.status, "REJECTED") == 0);
	CHECK(strcmp(g.rejected_reason, "INVALID_FORMAT") == 0);
	CHECK(strcmp(g.template_id, "77en") == 0);
	CHECK(strcmp(g.category, "UTILITY") == 0);
	CHECK(strcmp(g.quality, "GREEN") == 0);
	CHECK(g.updated_at == NOW_S + 10);
	db_template_clear(&g);
	/* The same again changes nothing, so updated_at stays. */
	CHECK(db_template_upsert(t.db, &a, NOW_S + 20) == 0);
	CHECK(db_template_get(t.db, WABA, "promo", "en", &g) == 1);
	CHECK(g.updated_at == NOW_S + 10);
	db_template_clear(&g);
	CHECK(q_int(&t, "SELECT count(*) FROM templates") == 1);
	tdb_close(&t);
}

TEST(list_filters_and_pages)
{
	struct tdb			 t;
	struct db_template		 a;
	struct db_template_filter	 f;
	const char			*both[] = { WABA, WABA2 }, *one[] = {
					    WABA2 }, *junk[] = { "1 OR 1" };
	char				 out[512];

	CHECK(tdb_open(&t) == 0);
	fill(&a, WABA, "a", "en", "APPROVED");
	CHECK(db_template_upsert(t.db, &a, NOW_S) == 0);
	fill(&a, WABA, "a", "es", "PENDING");
	CHECK(db_template_upsert(t.db, &a, NOW_S) == 0);
	fill(&a, WABA2, "b", "en", "APPROVED");
	(void)snprintf(a.category, sizeof(a.category), "MARKETING");
	CHECK(db_template_upsert(t.db, &a, NOW_S) == 0);
	memset(&f, 0, sizeof(f));
	f.wabas = both;
	f.nwabas = 2;
	f.limit = 10;
	out[0] = '\0';
	CHECK(db_template_list(t.db, &f, on_row, out) == 3);
	CHECK(strcmp(out, "a/en/APPROVED;a/es/PENDING;b/en/APPROVED;") == 0);
	/* Only the WABAs given. */
	f.wabas = one;
	f.nwabas = 1;
	out[0] = '\0';
	CHECK(db_template_list(t.db, &f, on_row, out) == 1);
	CHECK(strcmp(out, "b/en/APPROVED;") == 0);
	/* None given: nothing, and so for an id that is not digits. */
	f.nwabas = 0;
	CHECK(db_template_list(t.db, &f, on_row, out) == 0);
	f.wabas = junk;
	f.nwabas = 1;
	CHECK(db_template_list(t.db, &f, on_row, out) == 0);
	/* Each filter. */
	f.wabas = both;
	f.nwabas = 2;
	f.name = "a";
	out[0] = '\0';
	CHECK(db_template_list(t.db, &f, on_row, out) == 2);
	f.language = "es";
	out[0] = '\0';
	CHECK(db_template_list(t.db, &f, on_row, out) == 1);
	CHECK(strcmp(out, "a/es/PENDING;") == 0);
	f.name = f.language = NULL;
	f.status = "APPROVED";
	out[0] = '\0';
	CHECK(db_template_list(t.db, &f, on_row, out) == 2);
	f.status = NULL;
	f.category = "MARKETING";
	out[0] = '\0';
	CHECK(db_template_list(t.db, &f, on_row, out) == 1);
	CHECK(strcmp(out, "b/en/APPROVED;") == 0);
	/* Pages: limit, then the cursor past the last id. */
	f.category = NULL;
	f.limit = 2;
	out[0] = '\0';
	CHECK(db_template_list(t.db, &f, on_row, out) == 2);
	f.cursor = q_int(&t, "SELECT id FROM templates WHERE language = 'es'");
	out[0] = '\0';
	CHECK(db_template_list(t.db, &f, on_row, out) == 1);
	CHECK(strcmp(out, "b/en/APPROVED;") == 0);
	tdb_close(&t);
}

TEST(delete_one_language_or_all)
{
	struct tdb		 t;
	struct db_template	 a;

	CHECK(tdb_open(&t) == 0);
	fill(&a, WABA, "a", "en", "APPROVED");
	CHECK(db_template_upsert(t.db, &a, NOW_S) == 0);
	fill(&a, WABA, "a", "es", "APPROVED");
	CHECK(db_template_upsert(t.db, &a, NOW_S) == 0);
	fill(&a, WABA, "a", "de", "APPROVED");
	CHECK(db_template_upsert(t.db, &a, NOW_S) == 0);
	fill(&a, WABA2, "a", "en", "APPROVED");
	CHECK(db_template_upsert(t.db, &a, NOW_S) == 0);
	CHECK(db_template_delete(t.db, WABA, "a", "es") == 1);
	CHECK(db_template_delete(t.db, WABA, "a", "es") == 0);
	CHECK(db_template_delete(t.db, WABA, "a", NULL) == 2);
	/* The other WABA's template of that name stays. */
	CHECK(q_int(&t, "SELECT count(*) FROM templates") == 1);
	CHECK(q_int(&t, "SELECT count(*) FROM templates WHERE waba_id = '"
	    WABA2 "'") == 1);
	tdb_close(&t);
}

TEST(sync_done_removes_what_meta_no_longer_lists)
{
	struct tdb		 t;
	struct db_template	 a;
	int64_t			 s1, s2;

	CHECK(tdb_open(&t) == 0);
	s1 = db_template_sync_stamp(t.db, WABA, NOW_S);
	CHECK(s1 == NOW_S);
	fill(&a, WABA, "keep", "en", "APPROVED");
	a.synced_at = s1;
	CHECK(db_template_upsert(t.db, &a, NOW_S) == 0);
	fill(&a, WABA, "gone", "en", "APPROVED");
	a.synced_at = s1;
	CHECK(db_template_upsert(t.db, &a, NOW_S) == 0);
	fill(&a, WABA2, "other", "en", "APPROVED");
	a.synced_at = s1;
	CHECK(db_template_upsert(t.db, &a, NOW_S) == 0);
	CHECK(db_template_sync_done(t.db, WABA, s1) == 0);
	/* A second sync within the same second gets a newer stamp. */
	s2 = db_template_sync_stamp(t.db, WABA, NOW_S);
	CHECK(s2 == NOW_S + 1);
	fill(&a, WABA, "keep", "en", "APPROVED");
	a.synced_at = s2;
	CHECK(db_template_upsert(t.db, &a, NOW_S) == 0);
	CHECK(db_template_sync_done(t.db, WABA, s2) == 1);
	CHECK(q_int(&t, "SELECT count(*) FROM templates WHERE name = 'gone'")
	    == 0);
	CHECK(q_int(&t, "SELECT synced_at FROM templates WHERE name = 'keep'")
	    == s2);
	/* Another WABA's rows are not this sync's to remove. */
	CHECK(q_int(&t, "SELECT count(*) FROM templates WHERE name = "
	    "'other'") == 1);
	/* A later sync goes by the clock again. */
	CHECK(db_template_sync_stamp(t.db, WABA, NOW_S + 100) == NOW_S + 100);
	tdb_close(&t);
}

static void
on_number(void *arg, const char *const *col)
{
	char	*out = arg;
	size_t	 len = strlen(out);

	(void)snprintf(out + len, 256 - len, "%s:%s:%s:%s:%s;", col[0],
	    col[1], col[2], col[3], col[4]);
}

TEST(numbers_a_sync_starts_from)
{
	struct tdb		 t;
	struct db_number	 n;
	char			 out[256] = "";

	CHECK(tdb_open(&t) == 0);
	memset(&n, 0, sizeof(n));
	(void)snprintf(n.pnid, sizeof(n.pnid), "111");
	(void)snprintf(n.label, sizeof(n.label), "sales");
	(void)snprintf(n.waba_id, sizeof(n.waba_id), WABA);
	(void)snprintf(n.token_env, sizeof(n.token_env), "TOK_SALES");
	(void)snprintf(n.display, sizeof(n.display), "+1 555");
	CHECK(db_number_upsert(t.db, &n, NOW_S) == DB_OK);
	(void)snprintf(n.pnid, sizeof(n.pnid), "222");
	(void)snprintf(n.label, sizeof(n.label), "old");
	n.waba_id[0] = '\0';
	CHECK(db_number_upsert(t.db, &n, NOW_S + 1) == DB_OK);
	(void)snprintf(n.pnid, sizeof(n.pnid), "333");
	(void)snprintf(n.label, sizeof(n.label), "gone");
	CHECK(db_number_upsert(t.db, &n, NOW_S + 2) == DB_OK);
	CHECK(db_number_remove(t.db, "333", NOW_S + 3) == 1);
	CHECK(db_template_numbers(t.db, on_number, out) == 2);
	CHECK(strcmp(out, "111:sales:" WABA ":TOK_SALES:+1 555;"
	    "222:old::TOK_SALES:+1 555;") == 0);
	tdb_close(&t);
}

int
main(void)
{
	RUN(upsert_then_get);
	RUN(upsert_keeps_the_newest);
	RUN(list_filters_and_pages);
	RUN(delete_one_language_or_all);
	RUN(sync_done_removes_what_meta_no_longer_lists);
	RUN(numbers_a_sync_starts_from);
	return CHECK_DONE();
}
