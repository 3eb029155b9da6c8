/* test_webhook.c: every fixture parses into the right items; the status rule. */
#include <dirent.h>
#include <string.h>
#include "check.h"
#include "util.h"
#include "policy.h"
#include "webhook.h"

static int
parse_file(const char *name, struct wh_batch *b)
{
	char path[512], err[256], *body;
	size_t len;
	int rc;

	snprintf(path, sizeof(path), FIXTURES "/webhooks/%s", name);
	if ((body = slurp(path, &len)) == NULL)
		return -1;
	rc = wh_parse(body, len, b, err, sizeof(err));
	free(body);
	return rc;
}

TEST(every_fixture_parses)
{
	DIR *d = opendir(FIXTURES "/webhooks");
	struct dirent *e;
	struct wh_batch b;
	size_t i;
	int n = 0;

	CHECK(d != NULL);
	while (d != NULL && (e = readdir(d)) != NULL) {
		if (strstr(e->d_name, ".json") == NULL ||
		    strcmp(e->d_name, "signature_vectors.json") == 0)
			continue;
		CHECK(parse_file(e->d_name, &b) == 0);
		CHECK(b.nitems > 0);
		for (i = 0; i < b.nitems; i++) {
			if (b.items[i].kind == WH_BAD)
				fprintf(stderr, "  %s %s: %s\n", e->d_name,
				    b.items[i].path, b.items[i].error);
			CHECK(b.items[i].kind != WH_BAD);
			CHECK(b.items[i].raw != NULL);
		}
		wh_batch_free(&b);
		n++;
	}
	if (d != NULL)
		closedir(d);
	CHECK(n >= 30);
}

TEST(text_fields)
{
	struct wh_batch b;
	const struct wh_item *it;

	CHECK(parse_file("unicode_emoji.min.json", &b) == 0);
	CHECK(b.nitems == 1);
	it = &b.items[0];
	CHECK(it->kind == WH_MESSAGE);
	CHECK(strcmp(it->type, "text") == 0);
	CHECK(strcmp(it->phone_number_id, "200300400500600") == 0);
	CHECK(it->timestamp == 1767271800);
	/* Escapes decoded to UTF-8, every one: surrogate pairs, accents, ZWJ. */
	CHECK(it->text != NULL && strcmp(it->text, "Hola \U0001f44b\U0001f3fd! "
	    "Caf\u00e9 \u00fcber na\u00efve \u2014 \u0645\u0631\u062d\u0628\u0627 "
	    "\u0628\u0643\u0645 / \u4f60\u597d\uff0c\u6211\u60f3\u9884\u7ea6 / "
	    "\u3053\u3093\u306b\u3061\u306f / \ud55c\uad6d\uc5b4 \U0001f468\u200d"
	    "\U0001f469\u200d\U0001f467 \u20ac12,50 see https://example.com/a/b?x=1&y=2 "
	    "mail me: ana@example.com") == 0);
	CHECK(it->profile_name != NULL &&
	    strcmp(it->profile_name, "Jos\u00e9 \u00d1and\u00fa \U0001f31f") == 0);
	wh_batch_free(&b);
}

TEST(types)
{
	static const struct {
		const char	*path;
		int		 status;	/* 1: WH_STATUS, else WH_MESSAGE */
		const char	*what;		/* its status or type */
	} batch[8] = {
		{ "entry[0].changes[0].value.messages[0]", 0, "text" },
		{ "entry[0].changes[0].value.messages[1]", 0, "text" },
		{ "entry[0].changes[0].value.messages[2]", 0, "text" },
		{ "entry[0].changes[1].value.statuses[0]", 1, "read" },
		{ "entry[0].changes[1].value.statuses[1]", 1, "delivered" },
		{ "entry[0].changes[1].value.statuses[2]", 1, "sent" },
		{ "entry[1].changes[0].value.messages[0]", 0, "image" },
		{ "entry[1].changes[1].value.statuses[0]", 1, "failed" },
	};
	struct wh_batch b;
	size_t i;

	CHECK(parse_file("image.json", &b) == 0);
	CHECK(b.items[0].media_id != NULL && b.items[0].mime_type != NULL &&
	    b.items[0].sha256 != NULL && b.items[0].text != NULL);
	wh_batch_free(&b);
	CHECK(parse_file("location.json", &b) == 0);
	CHECK(b.items[0].has_location && b.items[0].location_name != NULL);
	wh_batch_free(&b);
	CHECK(parse_file("interactive_list_reply.json", &b) == 0);
	CHECK(strcmp(b.items[0].interactive_type, "list_reply") == 0 &&
	    b.items[0].reply_id != NULL && b.items[0].context_wamid != NULL);
	wh_batch_free(&b);
	CHECK(parse_file("button_template_reply.json", &b) == 0);
	CHECK(b.items[0].reply_id != NULL && b.items[0].reply_title != NULL);
	wh_batch_free(&b);
	CHECK(parse_file("reaction_removed.json", &b) == 0);
	CHECK(b.items[0].reaction_to != NULL &&
	    (b.items[0].reaction_emoji == NULL || b.items[0].reaction_emoji[0] == '\0'));
	wh_batch_free(&b);
	CHECK(parse_file("system_number_change.json", &b) == 0);
	CHECK(b.items[0].new_wa_id != NULL);
	wh_batch_free(&b);
	CHECK(parse_file("unsupported.json", &b) == 0);
	CHECK(b.items[0].err_code == 131051);
	wh_batch_free(&b);
	CHECK(parse_file("referral_ad.json", &b) == 0);
	CHECK(b.items[0].referral_ctwa_clid != NULL);
	wh_batch_free(&b);
	CHECK(parse_file("status_failed.json", &b) == 0);
	CHECK(b.items[0].kind == WH_STATUS && b.items[0].err_code == 131047);
	wh_batch_free(&b);
	CHECK(parse_file("value_level_errors.json", &b) == 0);
	CHECK(b.items[0].kind == WH_ERROR && b.items[0].err_code == 130429);
	wh_batch_free(&b);
	CHECK(parse_file("template_status_update.json", &b) == 0);
	CHECK(b.items[0].kind == WH_OTHER && strcmp(b.items[0].event, "APPROVED") == 0);
	wh_batch_free(&b);
	/* Every entry x change x item, in order, none dropped or repeated. */
	CHECK(parse_file("batch_multi_entry.json", &b) == 0);
	CHECK(b.nitems == 8);
	for (i = 0; i < b.nitems && i < 8; i++) {
		const struct wh_item *it = &b.items[i];

		CHECK(strcmp(it->path, batch[i].path) == 0);
		CHECK(it->kind == (batch[i].status ? WH_STATUS : WH_MESSAGE));
		CHECK(strcmp(batch[i].status ? it->status : it->type,
		    batch[i].what) == 0);
		CHECK(strcmp(it->phone_number_id, i < 6 ? "200300400500600" :
		    "200300400500777") == 0);
	}
	wh_batch_free(&b);
}

TEST(bad_items_stand_alone)
{
	struct wh_batch b;
	char err[256];
	const char *body = "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":\"1\","
	    "\"changes\":[{\"field\":\"messages\",\"value\":{\"metadata\":{\"phone_number_id\":\"2\"},"
	    "\"messages\":[{\"from\":\"3\",\"id\":\"wamid.a\",\"timestamp\":\"5\",\"type\":\"text\",\"text\":{\"body\":\"hi\"}},"
	    "{\"from\":\"3\",\"timestamp\":\"6\",\"type\":\"text\",\"text\":{\"body\":\"no id\"}},"
	    "{\"from\":\"3\",\"id\":\"wamid.c\",\"timestamp\":\"x\",\"type\":\"text\"},"
	    "{\"from\":\"3\",\"id\":\"wamid.d\",\"timestamp\":\"7\",\"type\":\"brand_new\",\"brand_new\":{}}]}}]}]}";

	CHECK(wh_parse(body, strlen(body), &b, err, sizeof(err)) == 0);
	CHECK(b.nitems == 4);
	CHECK(b.items[0].kind == WH_MESSAGE);
	CHECK(b.items[1].kind == WH_BAD && strstr(b.items[1].path, "messages[1]") != NULL);
	CHECK(b.items[2].kind == WH_BAD);
	CHECK(b.items[3].kind == WH_MESSAGE && strcmp(b.items[3].type, "brand_new") == 0);
	wh_batch_free(&b);
	CHECK(wh_parse("not json", 8, &b, err, sizeof(err)) == -1);
	CHECK(strstr(err, "not valid JSON") != NULL);
	wh_batch_free(&b);
	CHECK(wh_parse("{\"object\":\"page\"}", 17, &b, err, sizeof(err)) == -1);
	wh_batch_free(&b);
}

TEST(status_rule)
{
	static const char *const order[] = { "sent", "delivered", "read", "failed" };
	/* want[i][j]: order[i] then order[j] arrive; the same either way. */
	static const char *const want[4][4] = {
		{ "sent", "delivered", "read", "failed" },
		{ "delivered", "delivered", "read", "delivered" },
		{ "read", "read", "read", "read" },
		{ "failed", "delivered", "read", "failed" },
	};
	const char *s;
	size_t i, j;

	CHECK(strcmp(policy_status_merge(NULL, "sent"), "sent") == 0);
	CHECK(strcmp(policy_status_merge("delivered", "sent"), "delivered") == 0);
	CHECK(strcmp(policy_status_merge("sent", "failed"), "failed") == 0);
	CHECK(strcmp(policy_status_merge("accepted", "failed"), "failed") == 0);
	CHECK(strcmp(policy_status_merge("failed", "sent"), "failed") == 0);
	CHECK(strcmp(policy_status_merge("delivered", "failed"), "delivered") == 0);
	CHECK(strcmp(policy_status_merge("read", "failed"), "read") == 0);
	CHECK(strcmp(policy_status_merge("read", "played"), "played") == 0);
	CHECK(strcmp(policy_status_merge("sent", "deleted"), "sent") == 0);
	CHECK(policy_status_merge(NULL, "warning") == NULL);
	/* Any order of the same pair gives its one right answer. */
	for (i = 0; i < 4; i++)
		for (j = 0; j < 4; j++) {
			s = policy_status_merge(policy_status_merge(NULL, order[i]), order[j]);
			CHECK(s != NULL && strcmp(s, want[i][j]) == 0);
		}
}

TEST(edits_and_revokes)
{
	struct wh_batch b;
	const struct wh_item *it;

	CHECK(parse_file("edit_text.json", &b) == 0);
	CHECK(b.nitems == 1);
	it = &b.items[0];
	CHECK(it->kind == WH_MESSAGE && strcmp(it->type, "edit") == 0);
	CHECK(it->revoke == 0 && strcmp(it->edit_type, "text") == 0);
	CHECK(it->original_wamid != NULL && strncmp(it->original_wamid,
	    "wamid.HBgLMTU1NTAwMDIyMjIVAgASGBQzQTBG", 38) == 0);
	CHECK(it->text != NULL && strcmp(it->text, "Hi! Are you open on Sunday?") == 0);
	wh_batch_free(&b);
	CHECK(parse_file("revoke.json", &b) == 0);
	it = &b.items[0];
	CHECK(it->kind == WH_MESSAGE && it->revoke == 1);
	CHECK(it->original_wamid != NULL && it->text == NULL);
	wh_batch_free(&b);
}

TEST(edit_without_original_is_bad)
{
	struct wh_batch b;
	char err[256];
	const char *body = "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":\"1\","
	    "\"changes\":[{\"field\":\"messages\",\"value\":{\"metadata\":{\"phone_number_id\":\"2\"},"
	    "\"messages\":[{\"from\":\"3\",\"id\":\"wamid.e\",\"timestamp\":\"5\",\"type\":\"edit\",\"edit\":{}},"
	    "{\"from\":\"3\",\"id\":\"wamid.r\",\"timestamp\":\"5\",\"type\":\"revoke\",\"revoke\":{}},"
	    "{\"from\":\"3\",\"id\":\"wamid.f\",\"timestamp\":\"5\",\"type\":\"edit\",\"edit\":"
	    "{\"original_message_id\":\"wamid.x\",\"message\":{\"type\":\"edit\"}}}]}}]}]}";

	CHECK(wh_parse(body, strlen(body), &b, err, sizeof(err)) == 0);
	CHECK(b.nitems == 3);
	CHECK(b.items[0].kind == WH_BAD && strstr(b.items[0].error, "original_message_id") != NULL);
	CHECK(b.items[1].kind == WH_BAD && strstr(b.items[1].error, "original_message_id") != NULL);
	CHECK(b.items[2].kind == WH_BAD);
	wh_batch_free(&b);
}

TEST(echoes_and_history)
{
	struct wh_batch b;
	const struct wh_item *it;

	CHECK(parse_file("smb_message_echoes.json", &b) == 0);
	CHECK(b.nitems == 1);
	it = &b.items[0];
	CHECK(it->kind == WH_MESSAGE && it->outbound == 1);
	CHECK(it->source != NULL && strcmp(it->source, "echo") == 0);
	CHECK(it->to != NULL && strcmp(it->to, "15550002222") == 0);
	CHECK(it->profile_name != NULL && strcmp(it->profile_name, "Alice Example") == 0);
	wh_batch_free(&b);
	CHECK(parse_file("history.json", &b) == 0);
	CHECK(b.nitems == 3);
	CHECK(b.items[0].kind == WH_MESSAGE && b.items[0].outbound == 0);
	CHECK(b.items[1].kind == WH_MESSAGE && b.items[1].outbound == 1);
	CHECK(strcmp(b.items[1].to, "15550005555") == 0);
	CHECK(strcmp(b.items[1].history_status, "read") == 0);
	CHECK(strcmp(b.items[2].type, "media_placeholder") == 0);
	CHECK(strstr(b.items[2].path, "history[0].threads[0].messages[2]") != NULL);
	for (size_t i = 0; i < b.nitems; i++)
		CHECK(strcmp(b.items[i].source, "history") == 0);
	wh_batch_free(&b);
	/* The address book: kept as an event, and one item per contact. */
	CHECK(parse_file("smb_app_state_sync.json", &b) == 0);
	CHECK(b.nitems == 2 && b.items[0].kind == WH_OTHER);
	CHECK(b.items[1].kind == WH_CONTACT_SYNC);
	CHECK(strcmp(b.items[1].sync_phone, "15550005555") == 0);
	CHECK(strcmp(b.items[1].sync_name, "Carol Customer") == 0);
	CHECK(b.items[1].sync_remove == 0 && b.items[1].timestamp == 1767268000);
	CHECK(strcmp(b.items[1].path,
	    "entry[0].changes[0].value.state_sync[0]") == 0);
	wh_batch_free(&b);
}

TEST(state_sync_entries)
{
	static const char body[] = "{\"object\":\"whatsapp_business_account\","
	    "\"entry\":[{\"id\":\"1\",\"changes\":[{\"field\":"
	    "\"smb_app_state_sync\",\"value\":{\"metadata\":{"
	    "\"phone_number_id\":\"2\"},\"state_sync\":["
	    "{\"type\":\"contact\",\"action\":\"remove\",\"contact\":"
	    "{\"phone_number\":\"+1 (555) 000-2222\"},\"metadata\":"
	    "{\"timestamp\":\"7\"}},"
	    "{\"type\":\"contact\",\"action\":\"add\",\"contact\":"
	    "{\"first_name\":\"Bo\",\"phone_number\":\"555 call me\"},"
	    "\"metadata\":{\"timestamp\":\"7\"}},"
	    "{\"type\":\"contact\",\"action\":\"rename\",\"contact\":"
	    "{\"phone_number\":\"15550002222\"},\"metadata\":"
	    "{\"timestamp\":\"7\"}},"
	    "{\"type\":\"label\"}]}}]}]}";
	struct wh_batch	b;
	char		err[256];

	CHECK(wh_parse(body, sizeof(body) - 1, &b, err, sizeof(err)) == 0);
	/* The change itself, then three contact entries; the label is not one. */
	CHECK(b.nitems == 4);
	if (b.nitems == 4) {
		CHECK(b.items[1].kind == WH_CONTACT_SYNC);
		CHECK(strcmp(b.items[1].sync_phone, "15550002222") == 0);
		CHECK(b.items[1].sync_remove == 1 && b.items[1].timestamp == 7);
		/* Letters in the number, an unknown action: refused alone. */
		CHECK(b.items[2].kind == WH_BAD && b.items[3].kind == WH_BAD);
	}
	wh_batch_free(&b);
}

TEST(sender_by_user_id_and_entry_time)
{
	struct wh_batch b;
	const struct wh_item *it;

	CHECK(parse_file("sender_user_id_only.json", &b) == 0);
	CHECK(b.nitems == 1);
	it = &b.items[0];
	CHECK(it->kind == WH_MESSAGE);
	CHECK(it->from == NULL && strcmp(it->from_user_id, "US.13491208655302741918") == 0);
	CHECK(strcmp(it->username, "dana.makes") == 0);
	wh_batch_free(&b);
	CHECK(parse_file("system_user_id_change.json", &b) == 0);
	it = &b.items[0];
	CHECK(it->kind == WH_MESSAGE && it->from == NULL);
	CHECK(strcmp(it->new_user_id, "US.13491208655302749999") == 0);
	CHECK(it->new_wa_id == NULL);
	wh_batch_free(&b);
	CHECK(parse_file("template_status_update.json", &b) == 0);
	CHECK(b.items[0].entry_time == 1767273800);
	CHECK(strcmp(b.items[0].waba_id, "100200300400500") == 0);
	wh_batch_free(&b);
	CHECK(parse_file("text.json", &b) == 0);
	CHECK(b.items[0].entry_time == 0);
	wh_batch_free(&b);
}

int
main(void)
{
	RUN(every_fixture_parses);
	RUN(text_fields);
	RUN(types);
	RUN(bad_items_stand_alone);
	RUN(status_rule);
	RUN(edits_and_revokes);
	RUN(edit_without_original_is_bad);
	RUN(echoes_and_history);
	RUN(sender_by_user_id_and_entry_time);
	RUN(state_sync_entries);
	return CHECK_DONE();
}
