/*
 * test_db_types.c: what the richer sends need of storage: a number's
 * catalog (set, read, cleared; unknown numbers), the raw item of the
 * replies the API shows decoded (orders and Flow answers only), and the
 * outbox filling a product send's catalog from the sending number or
 * refusing it with nothing written.
 */
#include <time.h>

#include "dbt.h"
#include "outbox.h"

#define PRODUCT	"{\"to\":\"15550002222\",\"type\":\"interactive\"," \
		"\"interactive\":{\"type\":\"product\",\"action\":" \
		"{\"product_retailer_id\":\"SKU-1\"}}}"

TEST(catalog_set_read_clear)
{
	struct tdb	t;
	char		buf[64];
	int		added, changed;

	CHECK(tdb_open(&t) == 0);
	CHECK(db_number_seed(t.db, PNID, NOW_S, &added) == DB_OK && added);
	CHECK(db_number_catalog(t.db, PNID, buf, sizeof(buf)) == 0);
	CHECK(buf[0] == '\0');
	CHECK(db_number_set_catalog(t.db, PNID, "300400500600700",
	    &changed) == DB_OK && changed);
	CHECK(db_number_catalog(t.db, PNID, buf, sizeof(buf)) == 1);
	CHECK(strcmp(buf, "300400500600700") == 0);
	/* An unknown number has none, and setting one changes nothing. */
	CHECK(db_number_set_catalog(t.db, "999", "1", &changed) == DB_OK);
	CHECK(!changed);
	CHECK(db_number_catalog(t.db, "999", buf, sizeof(buf)) == 0);
	CHECK(db_number_set_catalog(t.db, PNID, NULL, &changed) == DB_OK);
	CHECK(changed);
	CHECK(db_number_catalog(t.db, PNID, buf, sizeof(buf)) == 0);
	CHECK(q_int(&t, "SELECT count(*) FROM numbers WHERE catalog_id IS "
	    "NULL") == 1);
	tdb_close(&t);
}

static int64_t
msg_id(struct tdb *t, const char *type)
{
	return q_int(t, "SELECT id FROM messages WHERE type = '%s' AND "
	    "direction = 'in' ORDER BY id LIMIT 1", type);
}

TEST(reply_raw_only_for_orders_and_flow_answers)
{
	struct tdb	 t;
	struct db_tally	 a;
	char		*raw;
	int64_t		 order, flow, button, text;

	CHECK(tdb_open(&t) == 0);
	CHECK(apply_fixture(&t, "order.json", &a) == 0 && a.applied == 1);
	CHECK(apply_fixture(&t, "interactive_nfm_reply.json", &a) == 0);
	CHECK(apply_fixture(&t, "interactive_button_reply.json", &a) == 0);
	CHECK(apply_fixture(&t, "text.json", &a) == 0);
	order = msg_id(&t, "order");
	text = msg_id(&t, "text");
	flow = q_int(&t, "SELECT id FROM messages WHERE interactive_type = "
	    "'nfm_reply'");
	button = q_int(&t, "SELECT id FROM messages WHERE interactive_type = "
	    "'button_reply'");
	CHECK(order > 0 && flow > 0 && button > 0 && text > 0);
	CHECK(db_msg_reply_raw(t.db, order, &raw) == 1);
	CHECK(raw != NULL && strstr(raw, "\"product_items\"") != NULL);
	free(raw);
	CHECK(db_msg_reply_raw(t.db, flow, &raw) == 1);
	CHECK(raw != NULL && strstr(raw, "\"response_json\"") != NULL);
	free(raw);
	CHECK(db_msg_reply_raw(t.db, button, &raw) == 0 && raw == NULL);
	CHECK(db_msg_reply_raw(t.db, text, &raw) == 0 && raw == NULL);
	CHECK(db_msg_reply_raw(t.db, 999999, &raw) == 0 && raw == NULL);
	tdb_close(&t);
}

/* A fresh message from 15550002222: the 24-hour window is open. */
static int
open_window(struct tdb *t)
{
	struct db_tally	a;
	char		buf[4096];

	return apply_str(t, hook_text(buf, sizeof(buf), "wamid.W1",
	    "15550002222", "Ann", (long long)time(NULL), "hi"), &a);
}

TEST(outbox_fills_the_numbers_catalog)
{
	struct tdb		 t;
	struct outbox_req	 r;
	struct msg_err		 e;
	char			 body[1024];
	int64_t			 id = 0;
	int			 added, changed, repeated;

	CHECK(tdb_open(&t) == 0);
	CHECK(db_number_seed(t.db, PNID, NOW_S, &added) == DB_OK);
	CHECK(open_window(&t) == 0);
	memset(&r, 0, sizeof(r));
	r.json = PRODUCT;
	r.len = strlen(PRODUCT);
	r.pnid = PNID;
	r.source = "api";
	/* No catalog anywhere: refused, nothing written. */
	CHECK(outbox_queue(t.db, &r, &id, &repeated, &e) == OUTBOX_INVALID);
	CHECK(strcmp(e.code, "catalog_required") == 0);
	CHECK(strcmp(e.field, "interactive.action.catalog_id") == 0);
	CHECK(e.message[0] != '\0');
	CHECK(q_int(&t, "SELECT count(*) FROM outbox") == 0);
	/* The number's catalog goes into the queued body. */
	CHECK(db_number_set_catalog(t.db, PNID, "77", &changed) == DB_OK);
	CHECK(outbox_queue(t.db, &r, &id, &repeated, &e) == OUTBOX_OK);
	CHECK(strcmp(q_text(&t, body, sizeof(body), "SELECT body FROM outbox "
	    "WHERE id = %lld", (long long)id), "{\"messaging_product\":"
	    "\"whatsapp\",\"recipient_type\":\"individual\",\"to\":"
	    "\"15550002222\",\"type\":\"interactive\",\"interactive\":{"
	    "\"type\":\"product\",\"action\":{\"product_retailer_id\":"
	    "\"SKU-1\",\"catalog_id\":\"77\"}}}") == 0);
	/* Another number's catalog is not this one's. */
	r.pnid = "100200300400500";
	CHECK(outbox_queue(t.db, &r, &id, &repeated, &e) == OUTBOX_INVALID);
	CHECK(strcmp(e.code, "catalog_required") == 0);
	tdb_close(&t);
}

int
main(void)
{
	RUN(catalog_set_read_clear);
	RUN(reply_raw_only_for_orders_and_flow_answers);
	RUN(outbox_fills_the_numbers_catalog);
	return CHECK_DONE();
}
