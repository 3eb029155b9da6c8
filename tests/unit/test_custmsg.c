/*
 * test_custmsg.c: the terminal customer's messages.  The webhooks it
 * builds are Meta's shape and escaping, and the gateway's own parser
 * (webhook.c) reads back what was typed; the business's messages print
 * as text with numbered choices, and a number becomes the interactive
 * reply Meta would send.
 */
#include <string.h>

#include <jansson.h>

#include "check.h"
#include "custmsg.h"
#include "webhook.h"

static const struct custmsg_who who = {
	"100200300400500", "200300400500600", "15550001111", "15550002222",
	"Alice"
};

/* The default flow's main menu, as the bot POSTs it (reference 7.2). */
static const char list_msg[] =
    "{\"seq\":7,\"phone_number_id\":\"200300400500600\","
    "\"display_phone_number\":\"15550001111\",\"wamid\":\"wamid.LIST1\","
    "\"received_at\":1767269000,\"message\":{\"messaging_product\":"
    "\"whatsapp\",\"to\":\"15550002222\",\"type\":\"interactive\","
    "\"interactive\":{\"type\":\"list\",\"header\":{\"type\":\"text\","
    "\"text\":\"Customer service\"},\"body\":{\"text\":\"Hello!\\nWhat "
    "can I do?\\n\\nTap Choose.\"},\"footer\":{\"text\":\"Type menu\"},\"action\":{"
    "\"button\":\"Choose\",\"sections\":[{\"title\":\"Topics\",\"rows\":["
    "{\"id\":\"orders\",\"title\":\"Order status\",\"description\":"
    "\"Look up an order\"},{\"id\":\"defect\",\"title\":\"Report a "
    "defect\"},{\"id\":\"help\",\"title\":\"Help and support\","
    "\"description\":\"Questions\"}]}]}}}}";

static const char buttons_msg[] =
    "{\"seq\":8,\"display_phone_number\":\"15550001111\",\"wamid\":"
    "\"wamid.BTN1\",\"message\":{\"to\":\"15550002222\",\"type\":"
    "\"interactive\",\"interactive\":{\"type\":\"button\",\"body\":{"
    "\"text\":\"Report a defect.\"},\"action\":{\"buttons\":[{\"type\":"
    "\"reply\",\"reply\":{\"id\":\"new\",\"title\":\"New report\"}},"
    "{\"type\":\"reply\",\"reply\":{\"id\":\"back\",\"title\":\"Back\"}}]"
    "}}}}";

/* Renders a listed message; returns the rendered text (static). */
static const char *
render(const char *entry_json, struct custmsg_choices *ch, int *rc)
{
	static char	 text[4096];
	struct buf	 b;
	json_t		*e = json_loads(entry_json, 0, NULL);

	buf_init(&b);
	CHECK(e != NULL);
	*rc = custmsg_render(e, &b, ch);
	text[0] = '\0';
	if (b.p != NULL)
		(void)snprintf(text, sizeof(text), "%s", b.p);
	buf_clear(&b);
	json_decref(e);
	return text;
}

/* Parses body with the gateway's parser; fills *it from the one item. */
static int
parse(const char *body, struct wh_batch *bt, const struct wh_item **it)
{
	char err[256];

	if (wh_parse(body, strlen(body), bt, err, sizeof(err)) == -1 ||
	    bt->nitems != 1)
		return -1;
	*it = &bt->items[0];
	return 0;
}

TEST(number_is_digits_with_country_code)
{
	CHECK(custmsg_valid_number("15550001111"));
	CHECK(custmsg_valid_number("491701234567"));
	CHECK(custmsg_valid_number("123456789012345"));
	CHECK(!custmsg_valid_number("1234567890123456"));	/* 16 */
	CHECK(!custmsg_valid_number("12345"));
	CHECK(!custmsg_valid_number("015550001111"));
	CHECK(!custmsg_valid_number("+15550001111"));
	CHECK(!custmsg_valid_number("1555-000-1111"));
	CHECK(!custmsg_valid_number("abc"));
	CHECK(!custmsg_valid_number(""));
	CHECK(!custmsg_valid_number(NULL));
}

TEST(text_webhook_has_metas_shape)
{
	const char	*why = "";
	json_t		*d, *v, *m;
	char		*body;

	body = custmsg_webhook(&who, "wamid.T1", 1767269000, "text",
	    custmsg_text("hi", &why), NULL);
	CHECK(body != NULL);
	d = json_loads(body != NULL ? body : "", 0, NULL);
	CHECK(d != NULL);
	CHECK(strcmp(json_string_value(json_object_get(d, "object")),
	    "whatsapp_business_account") == 0);
	v = json_object_get(json_array_get(json_object_get(json_array_get(
	    json_object_get(d, "entry"), 0), "changes"), 0), "value");
	CHECK(strcmp(json_string_value(json_object_get(json_array_get(
	    json_object_get(d, "entry"), 0), "id")), "100200300400500") == 0);
	CHECK(strcmp(json_string_value(json_object_get(json_array_get(
	    json_object_get(json_array_get(json_object_get(d, "entry"), 0),
	    "changes"), 0), "field")), "messages") == 0);
	CHECK(strcmp(json_string_value(json_object_get(v,
	    "messaging_product")), "whatsapp") == 0);
	CHECK(strcmp(json_string_value(json_object_get(json_object_get(v,
	    "metadata"), "display_phone_number")), "15550001111") == 0);
	CHECK(strcmp(json_string_value(json_object_get(json_object_get(
	    json_array_get(json_object_get(v, "contacts"), 0), "profile"),
	    "name")), "Alice") == 0);
	m = json_array_get(json_object_get(v, "messages"), 0);
	/* Meta sends the timestamp as a string of epoch seconds. */
	CHECK(strcmp(json_string_value(json_object_get(m, "timestamp")),
	    "1767269000") == 0);
	CHECK(strcmp(json_string_value(json_object_get(json_object_get(m,
	    "text"), "body")), "hi") == 0);
	CHECK(json_object_get(m, "context") == NULL);
	json_decref(d);
	free(body);
}

TEST(text_webhook_escapes_as_meta_does)
{
	const char	*why = "";
	char		*body;

	/* Reference 2.1: lowercase \uXXXX, surrogate pairs, "\/". */
	body = custmsg_webhook(&who, "wamid.T2", 1, "text", custmsg_text(
	    "caf\xc3\xa9 \xf0\x9f\x98\x80 a/b", &why), NULL);
	CHECK(body != NULL);
	CHECK(body != NULL && strstr(body,
	    "caf\\u00e9 \\ud83d\\ude00 a\\/b") != NULL);
	for (size_t i = 0; body != NULL && body[i] != '\0'; i++)
		if ((unsigned char)body[i] >= 0x80) {
			CHECK(!"non-ASCII byte in the body");
			break;
		}
	free(body);
	/* A backslash typed before "u00E9" is text, escaped, not lowered. */
	body = custmsg_webhook(&who, "wamid.T2", 1, "text", custmsg_text(
	    "x\\u00E9", &why), NULL);
	CHECK(body != NULL && strstr(body, "x\\\\u00E9") != NULL);
	free(body);
}

TEST(gateway_reads_the_text_back)
{
	struct wh_batch		 bt;
	const struct wh_item	*it = NULL;
	const char		*why = "";
	char			*body;

	body = custmsg_webhook(&who, "wamid.T3", 1767269000, "text",
	    custmsg_text("Order 10234?", &why), NULL);
	CHECK(body != NULL && parse(body, &bt, &it) == 0);
	if (it != NULL) {
		CHECK(it->kind == WH_MESSAGE);
		CHECK(strcmp(it->phone_number_id, "200300400500600") == 0);
		CHECK(strcmp(it->wamid, "wamid.T3") == 0);
		CHECK(strcmp(it->from, "15550002222") == 0);
		CHECK(strcmp(it->profile_name, "Alice") == 0);
		CHECK(strcmp(it->type, "text") == 0);
		CHECK(strcmp(it->text, "Order 10234?") == 0);
		CHECK(it->timestamp == 1767269000);
		wh_batch_free(&bt);
	}
	free(body);
}

TEST(no_name_no_profile)
{
	struct custmsg_who	 w = who;
	const char		*why = "";
	char			*body;

	w.name = NULL;
	body = custmsg_webhook(&w, "wamid.T4", 1, "text",
	    custmsg_text("x", &why), NULL);
	CHECK(body != NULL && strstr(body, "\"profile\"") == NULL);
	CHECK(body != NULL && strstr(body, "\"wa_id\":\"15550002222\"") !=
	    NULL);
	free(body);
}

TEST(text_refused_when_empty_long_or_not_utf8)
{
	const char	*why = NULL;
	char		 big[3 * 4097 + 1];
	json_t		*t;
	size_t		 i;

	CHECK(custmsg_text("", &why) == NULL && why != NULL);
	why = NULL;
	CHECK(custmsg_text("\xff\xfe", &why) == NULL && why != NULL &&
	    strstr(why, "UTF-8") != NULL);
	/* 4096 characters of three bytes each pass; 4097 do not. */
	for (i = 0; i < 4096; i++)
		memcpy(big + 3 * i, "\xe2\x82\xac", 3);
	big[3 * 4096] = '\0';
	CHECK((t = custmsg_text(big, &why)) != NULL);
	json_decref(t);
	memcpy(big + 3 * 4096, "\xe2\x82\xac", 4);
	why = NULL;
	CHECK(custmsg_text(big, &why) == NULL && why != NULL &&
	    strstr(why, "4096") != NULL);
}

TEST(list_prints_numbered_rows)
{
	struct custmsg_choices	 ch;
	const char		*t;
	int			 rc;

	memset(&ch, 0, sizeof(ch));
	t = render(list_msg, &ch, &rc);
	CHECK(rc == 1);
	CHECK(strncmp(t, "< Customer service\n", 19) == 0);
	/* A blank line stays blank: no trailing spaces. */
	CHECK(strstr(t, "  Hello!\n  What can I do?\n\n  Tap Choose.\n") !=
	    NULL);
	CHECK(strstr(t, "  [Choose]\n") != NULL);
	CHECK(strstr(t, "  Type menu\n") != NULL);
	CHECK(strstr(t, "  1) Order status: Look up an order\n") != NULL);
	CHECK(strstr(t, "  2) Report a defect\n") != NULL);
	CHECK(strstr(t, "  3) Help and support: Questions\n") != NULL);
	CHECK(strstr(t, "(answer with a number, 1-3)") != NULL);
	CHECK(json_array_size(ch.replies) == 3);
	CHECK(strcmp(ch.wamid, "wamid.LIST1") == 0);
	CHECK(strcmp(ch.from, "15550001111") == 0);
	custmsg_choices_clear(&ch);
}

TEST(number_answers_a_list_as_metas_list_reply)
{
	struct custmsg_choices	 ch;
	struct wh_batch		 bt;
	const struct wh_item	*it = NULL;
	json_t			*r, *ctx;
	const char		*title = NULL;
	char			*body;
	int			 rc;

	memset(&ch, 0, sizeof(ch));
	(void)render(list_msg, &ch, &rc);
	r = custmsg_pick(&ch, "1", &ctx, &title);
	CHECK(r != NULL && ctx != NULL);
	CHECK(title != NULL && strcmp(title, "Order status") == 0);
	body = custmsg_webhook(&who, "wamid.T5", 1767269000, "interactive", r,
	    ctx);
	CHECK(body != NULL && parse(body, &bt, &it) == 0);
	if (it != NULL) {
		CHECK(strcmp(it->type, "interactive") == 0);
		CHECK(strcmp(it->interactive_type, "list_reply") == 0);
		CHECK(strcmp(it->reply_id, "orders") == 0);
		CHECK(strcmp(it->reply_title, "Order status") == 0);
		CHECK(strcmp(it->context_wamid, "wamid.LIST1") == 0);
		CHECK(strcmp(it->context_from, "15550001111") == 0);
		wh_batch_free(&bt);
	}
	/* Meta sends the description only when the row had one. */
	CHECK(body != NULL && strstr(body, "\"description\":\"Look up an "
	    "order\"") != NULL);
	free(body);
	r = custmsg_pick(&ch, "2", &ctx, &title);
	CHECK(r != NULL && json_object_get(json_object_get(r, "list_reply"),
	    "description") == NULL);
	json_decref(r);
	json_decref(ctx);
	custmsg_choices_clear(&ch);
}

TEST(number_answers_buttons_as_metas_button_reply)
{
	struct custmsg_choices	 ch;
	json_t			*r, *ctx;
	const char		*t, *title = NULL;
	int			 rc;

	memset(&ch, 0, sizeof(ch));
	t = render(buttons_msg, &ch, &rc);
	CHECK(strstr(t, "< Report a defect.\n  1) New report\n  2) Back\n") !=
	    NULL);
	r = custmsg_pick(&ch, "2", &ctx, &title);
	CHECK(r != NULL);
	CHECK(strcmp(json_string_value(json_object_get(r, "type")),
	    "button_reply") == 0);
	CHECK(strcmp(json_string_value(json_object_get(json_object_get(r,
	    "button_reply"), "id")), "back") == 0);
	CHECK(strcmp(json_string_value(json_object_get(ctx, "id")),
	    "wamid.BTN1") == 0);
	json_decref(r);
	json_decref(ctx);
	/* Not a choice: sent as text. */
	CHECK(custmsg_pick(&ch, "3", &ctx, &title) == NULL && ctx == NULL);
	CHECK(custmsg_pick(&ch, "0", &ctx, &title) == NULL);
	CHECK(custmsg_pick(&ch, "01", &ctx, &title) == NULL);
	CHECK(custmsg_pick(&ch, "1a", &ctx, &title) == NULL);
	CHECK(custmsg_pick(&ch, "", &ctx, &title) == NULL);
	CHECK(custmsg_pick(&ch, "10234", &ctx, &title) == NULL);
	custmsg_choices_clear(&ch);
	CHECK(custmsg_pick(&ch, "1", &ctx, &title) == NULL);
}

TEST(text_keeps_earlier_choices)
{
	struct custmsg_choices	 ch;
	int			 rc;

	memset(&ch, 0, sizeof(ch));
	(void)render(buttons_msg, &ch, &rc);
	(void)render("{\"wamid\":\"wamid.X\",\"message\":{\"type\":\"text\","
	    "\"text\":{\"body\":\"ok\"}}}", &ch, &rc);
	CHECK(json_array_size(ch.replies) == 2);
	CHECK(strcmp(ch.wamid, "wamid.BTN1") == 0);
	custmsg_choices_clear(&ch);
}

TEST(other_kinds_print_sensibly)
{
	struct custmsg_choices	 ch;
	const char		*t;
	int			 rc;

	memset(&ch, 0, sizeof(ch));
	t = render("{\"message\":{\"type\":\"image\",\"image\":{\"id\":"
	    "\"55\",\"caption\":\"Your part\"}}}", &ch, &rc);
	CHECK(rc == 1 && strcmp(t, "< [image] Your part (media id 55)\n") ==
	    0);
	t = render("{\"message\":{\"type\":\"document\",\"document\":{"
	    "\"link\":\"https://x.example/a.pdf\",\"filename\":\"a.pdf\"}}}",
	    &ch, &rc);
	CHECK(strcmp(t, "< [document] a.pdf (link https://x.example/a.pdf)\n")
	    == 0);
	t = render("{\"message\":{\"type\":\"location\",\"location\":{"
	    "\"latitude\":52.52,\"longitude\":13.405,\"name\":\"Shop\"}}}",
	    &ch, &rc);
	CHECK(strcmp(t, "< [location] Shop (52.520000, 13.405000)\n") == 0);
	t = render("{\"message\":{\"type\":\"template\",\"template\":{"
	    "\"name\":\"order_update\",\"language\":{\"code\":\"en_US\"},"
	    "\"components\":[{\"type\":\"body\",\"parameters\":[{\"type\":"
	    "\"text\",\"text\":\"10234\"},{\"type\":\"text\",\"text\":"
	    "\"shipped\"}]}]}}}", &ch, &rc);
	CHECK(strcmp(t, "< [template order_update en_US] 10234 | shipped\n")
	    == 0);
	t = render("{\"message\":{\"type\":\"reaction\",\"reaction\":{"
	    "\"message_id\":\"wamid.A\",\"emoji\":\"\xf0\x9f\x91\x8d\"}}}", &ch,
	    &rc);
	CHECK(strcmp(t, "< [reaction] \xf0\x9f\x91\x8d to your message\n") ==
	    0);
	t = render("{\"message\":{\"type\":\"contacts\",\"contacts\":[{"
	    "\"name\":{\"formatted_name\":\"Ann\"},\"phones\":[{\"phone\":"
	    "\"+1 555\"}]}]}}", &ch, &rc);
	CHECK(strcmp(t, "< [contacts]\n  Ann +1 555\n") == 0);
	t = render("{\"message\":{\"type\":\"interactive\",\"interactive\":{"
	    "\"type\":\"cta_url\",\"body\":{\"text\":\"See\"},\"action\":{"
	    "\"name\":\"cta_url\",\"parameters\":{\"display_text\":\"Open\","
	    "\"url\":\"https://x.example\"}}}}}", &ch, &rc);
	CHECK(strcmp(t, "< See\n  [button] Open: https://x.example\n") == 0);
	CHECK(ch.replies == NULL);
	/* A read receipt or typing indicator is not shown. */
	t = render("{\"message\":{\"messaging_product\":\"whatsapp\","
	    "\"status\":\"read\",\"message_id\":\"wamid.A\"}}", &ch, &rc);
	CHECK(rc == 0 && t[0] == '\0');
}

TEST(control_characters_cannot_reach_the_terminal)
{
	struct custmsg_choices	 ch;
	const char		*t;
	int			 rc;

	memset(&ch, 0, sizeof(ch));
	/* ESC (C0) and CSI as U+009B (C1) would drive the terminal. */
	t = render("{\"message\":{\"type\":\"text\",\"text\":{\"body\":"
	    "\"a\\u001b[2Jb\\u009b31mc\\u007f\"}}}", &ch, &rc);
	CHECK(strcmp(t, "< a?[2Jb?31mc?\n") == 0);
}

TEST(location_needs_two_numbers_in_range)
{
	struct wh_batch		 bt;
	const struct wh_item	*it = NULL;
	const char		*why = NULL;
	json_t			*o;
	char			*body;

	o = custmsg_location(" 52.520008 13.404954 Berlin office", &why);
	CHECK(o != NULL);
	body = custmsg_webhook(&who, "wamid.L1", 1, "location", o, NULL);
	CHECK(body != NULL && parse(body, &bt, &it) == 0);
	if (it != NULL) {
		CHECK(it->has_location);
		CHECK(it->latitude > 52.520007 && it->latitude < 52.520009);
		CHECK(it->longitude > 13.404953 && it->longitude < 13.404955);
		CHECK(strcmp(it->location_name, "Berlin office") == 0);
		wh_batch_free(&bt);
	}
	free(body);
	CHECK((o = custmsg_location("-33.9 151.2", &why)) != NULL &&
	    json_object_get(o, "name") == NULL);
	json_decref(o);
	CHECK(custmsg_location("", &why) == NULL && why != NULL);
	CHECK(custmsg_location("91 0", &why) == NULL);
	CHECK(custmsg_location("0 181", &why) == NULL);
	CHECK(custmsg_location("52.5", &why) == NULL);
	CHECK(custmsg_location("52.5x 13", &why) == NULL);
	CHECK(custmsg_location("nan 13", &why) == NULL);
	CHECK(custmsg_location("north east", &why) == NULL);
}

TEST(reaction_goes_to_the_last_business_message)
{
	struct wh_batch		 bt;
	const struct wh_item	*it = NULL;
	const char		*why = NULL;
	char			*body;

	CHECK(custmsg_reaction("", "\xf0\x9f\x91\x8d", &why) == NULL &&
	    why != NULL && strstr(why, "nothing") != NULL);
	CHECK(custmsg_reaction("wamid.B", " ", &why) == NULL);
	CHECK(custmsg_reaction("wamid.B", "a b", &why) == NULL);
	body = custmsg_webhook(&who, "wamid.R1", 1, "reaction",
	    custmsg_reaction("wamid.B", " \xf0\x9f\x91\x8d", &why), NULL);
	CHECK(body != NULL && parse(body, &bt, &it) == 0);
	if (it != NULL) {
		CHECK(strcmp(it->reaction_to, "wamid.B") == 0);
		CHECK(strcmp(it->reaction_emoji, "\xf0\x9f\x91\x8d") == 0);
		wh_batch_free(&bt);
	}
	free(body);
}

TEST(image_carries_the_uploaded_id)
{
	struct wh_batch		 bt;
	const struct wh_item	*it = NULL;
	const char		*why = NULL;
	json_t			*up;
	char			*body;

	up = json_pack("{s:s, s:s, s:s, s:i}", "id", "9001", "mime_type",
	    "image/png", "sha256", "abc", "file_size", 10);
	body = custmsg_webhook(&who, "wamid.I1", 1, "image",
	    custmsg_image(up, "  the broken part", &why), NULL);
	CHECK(body != NULL && parse(body, &bt, &it) == 0);
	if (it != NULL) {
		CHECK(strcmp(it->type, "image") == 0);
		CHECK(strcmp(it->media_id, "9001") == 0);
		CHECK(strcmp(it->mime_type, "image/png") == 0);
		CHECK(strcmp(it->text, "the broken part") == 0);
		wh_batch_free(&bt);
	}
	free(body);
	json_decref(up);
	up = json_pack("{s:s}", "mime_type", "image/png");
	CHECK(custmsg_image(up, NULL, &why) == NULL && why != NULL);
	json_decref(up);
	CHECK(custmsg_image(NULL, NULL, &why) == NULL);
}

TEST(only_jpeg_and_png_are_images)
{
	CHECK(strcmp(custmsg_image_mime("\xff\xd8\xff\xe0", 4),
	    "image/jpeg") == 0);
	CHECK(strcmp(custmsg_image_mime("\x89PNG\r\n\x1a\n\0", 9),
	    "image/png") == 0);
	CHECK(custmsg_image_mime("GIF89a", 6) == NULL);
	CHECK(custmsg_image_mime("\xff\xd8", 2) == NULL);
	CHECK(custmsg_image_mime("", 0) == NULL);
}

int
main(void)
{
	RUN(number_is_digits_with_country_code);
	RUN(text_webhook_has_metas_shape);
	RUN(text_webhook_escapes_as_meta_does);
	RUN(gateway_reads_the_text_back);
	RUN(no_name_no_profile);
	RUN(text_refused_when_empty_long_or_not_utf8);
	RUN(list_prints_numbered_rows);
	RUN(number_answers_a_list_as_metas_list_reply);
	RUN(number_answers_buttons_as_metas_button_reply);
	RUN(text_keeps_earlier_choices);
	RUN(other_kinds_print_sensibly);
	RUN(control_characters_cannot_reach_the_terminal);
	RUN(location_needs_two_numbers_in_range);
	RUN(reaction_goes_to_the_last_business_message);
	RUN(image_carries_the_uploaded_id);
	RUN(only_jpeg_and_png_are_images);
	return CHECK_DONE();
}
