/*
 * test_db_numbers.c: the numbers table in storage: add and check again,
 * look up by id or label, list, edit, remove keeping the row, re-add,
 * and the seed of WHATSAPP_PHONE_NUMBER_ID at migrate.
 */
#include "dbt.h"

#define OTHER	"100200300400500"

static void
fill(struct db_number *n, const char *pnid, const char *label)
{
	memset(n, 0, sizeof(*n));
	(void)snprintf(n->pnid, sizeof(n->pnid), "%s", pnid);
	(void)snprintf(n->label, sizeof(n->label), "%s", label);
	(void)snprintf(n->waba_id, sizeof(n->waba_id), "9988776655");
	(void)snprintf(n->display, sizeof(n->display), "+1 555-010-0000");
	(void)snprintf(n->verified_name, sizeof(n->verified_name), "Shop");
	(void)snprintf(n->quality, sizeof(n->quality), "GREEN");
	(void)snprintf(n->status, sizeof(n->status), "CONNECTED");
	n->checked_at = NOW_S;
}

static void
count_row(void *arg, const char *const *col)
{
	char	*out = arg;
	size_t	 len = strlen(out);

	(void)snprintf(out + len, 256 - len, "%s:%s:%s;", col[0], col[1],
	    col[7][0] ? "removed" : "active");
}

TEST(upsert_then_get_by_id_and_label)
{
	struct tdb		 t;
	struct db_number	 n, g;

	CHECK(tdb_open(&t) == 0);
	fill(&n, OTHER, "sales");
	n.send_rate = 20;
	CHECK(db_number_upsert(t.db, &n, NOW_S) == DB_OK);
	CHECK(db_number_get(t.db, OTHER, &g) == 1);
	CHECK(strcmp(g.label, "sales") == 0);
	CHECK(strcmp(g.token_env, "WHATSAPP_ACCESS_TOKEN") == 0);
	CHECK(strcmp(g.display, "+1 555-010-0000") == 0);
	CHECK(g.send_rate == 20 && g.checked_at == NOW_S);
	CHECK(g.created_at == NOW_S && g.removed_at == 0);
	CHECK(db_number_get(t.db, "sales", &g) == 1);
	CHECK(strcmp(g.pnid, OTHER) == 0);
	CHECK(db_number_get(t.db, "nobody", &g) == 0);
	tdb_close(&t);
}

TEST(label_is_unique_and_checked)
{
	struct tdb		 t;
	struct db_number	 n;

	CHECK(tdb_open(&t) == 0);
	fill(&n, OTHER, "sales");
	CHECK(db_number_upsert(t.db, &n, NOW_S) == DB_OK);
	fill(&n, PNID, "sales");
	CHECK(db_number_upsert(t.db, &n, NOW_S) == DB_DUP);
	fill(&n, PNID, "Sales!");
	CHECK(db_number_upsert(t.db, &n, NOW_S) == DB_DUP);
	CHECK(q_int(&t, "SELECT count(*) FROM numbers") == 1);
	tdb_close(&t);
}

TEST(edit_changes_only_what_is_given)
{
	struct tdb		 t;
	struct db_number	 n, g;
	int64_t			 rate = 5;
	int			 changed;

	CHECK(tdb_open(&t) == 0);
	fill(&n, OTHER, "sales");
	CHECK(db_number_upsert(t.db, &n, NOW_S) == DB_OK);
	fill(&n, PNID, "support");
	CHECK(db_number_upsert(t.db, &n, NOW_S) == DB_OK);
	CHECK(db_number_edit(t.db, OTHER, "shop", NULL, NULL, &rate,
	    &changed) == DB_OK && changed == 1);
	CHECK(db_number_get(t.db, OTHER, &g) == 1);
	CHECK(strcmp(g.label, "shop") == 0 && g.send_rate == 5);
	CHECK(strcmp(g.token_env, "WHATSAPP_ACCESS_TOKEN") == 0);
	CHECK(db_number_edit(t.db, OTHER, NULL, "WHATSAPP_ACCESS_TOKEN_SHOP",
	    "/etc/flow.json", NULL, &changed) == DB_OK && changed == 1);
	CHECK(db_number_get(t.db, OTHER, &g) == 1);
	CHECK(strcmp(g.token_env, "WHATSAPP_ACCESS_TOKEN_SHOP") == 0);
	CHECK(strcmp(g.flow_path, "/etc/flow.json") == 0 && g.send_rate == 5);
	CHECK(db_number_edit(t.db, OTHER, "support", NULL, NULL, NULL,
	    &changed) == DB_DUP);
	CHECK(db_number_edit(t.db, "1", "x", NULL, NULL, NULL, &changed) ==
	    DB_OK && changed == 0);
	tdb_close(&t);
}

TEST(remove_keeps_the_row_and_readd_reactivates)
{
	struct tdb		 t;
	struct db_number	 n, g;
	char			 out[256] = "";

	CHECK(tdb_open(&t) == 0);
	fill(&n, OTHER, "sales");
	CHECK(db_number_upsert(t.db, &n, NOW_S) == DB_OK);
	fill(&n, PNID, "support");
	CHECK(db_number_upsert(t.db, &n, NOW_S) == DB_OK);
	CHECK(db_number_remove(t.db, OTHER, NOW_S + 60) == 1);
	CHECK(db_number_remove(t.db, OTHER, NOW_S + 90) == 0);
	CHECK(db_number_get(t.db, "sales", &g) == 1);
	CHECK(g.removed_at == NOW_S + 60);
	CHECK(db_number_list(t.db, count_row, out) == 2);
	CHECK(strcmp(out, PNID ":support:active;" OTHER ":sales:removed;") ==
	    0);
	fill(&n, OTHER, "sales");
	CHECK(db_number_upsert(t.db, &n, NOW_S + 120) == DB_OK);
	CHECK(db_number_get(t.db, OTHER, &g) == 1);
	CHECK(g.removed_at == 0 && g.created_at == NOW_S);
	tdb_close(&t);
}

TEST(seed_adds_the_configured_number_once)
{
	struct tdb		 t;
	struct db_number	 g;
	int			 added;

	CHECK(tdb_open(&t) == 0);
	CHECK(db_number_seed(t.db, PNID, NOW_S, &added) == DB_OK && added);
	CHECK(db_number_seed(t.db, PNID, NOW_S + 5, &added) == DB_OK &&
	    !added);
	CHECK(db_number_get(t.db, "default", &g) == 1);
	CHECK(strcmp(g.pnid, PNID) == 0 && g.checked_at == 0);
	CHECK(strcmp(g.token_env, "WHATSAPP_ACCESS_TOKEN") == 0);
	CHECK(g.created_at == NOW_S);
	CHECK(q_int(&t, "SELECT count(*) FROM numbers") == 1);
	tdb_close(&t);
}

/* A number the operator removed is not brought back by the next migrate. */
TEST(seed_leaves_a_removed_number_removed)
{
	struct tdb		 t;
	struct db_number	 g;
	int			 added;

	CHECK(tdb_open(&t) == 0);
	CHECK(db_number_seed(t.db, PNID, NOW_S, &added) == DB_OK && added);
	CHECK(db_number_remove(t.db, PNID, NOW_S + 10) == 1);
	CHECK(db_number_seed(t.db, PNID, NOW_S + 20, &added) == DB_OK &&
	    !added);
	CHECK(db_number_get(t.db, PNID, &g) == 1);
	CHECK(g.removed_at == NOW_S + 10);
	tdb_close(&t);
}

int
main(void)
{
	RUN(upsert_then_get_by_id_and_label);
	RUN(label_is_unique_and_checked);
	RUN(edit_changes_only_what_is_given);
	RUN(remove_keeps_the_row_and_readd_reactivates);
	RUN(seed_adds_the_configured_number_once);
	RUN(seed_leaves_a_removed_number_removed);
	return CHECK_DONE();
}
