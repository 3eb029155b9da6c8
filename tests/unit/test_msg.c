/*
 * test_msg.c: the send-request checker.  Every kind's exact Graph API body,
 * every limit at the boundary (at the limit accepted, one over refused with
 * code and field), code points against bytes, unknown fields, recipients,
 * local files and the upload placeholder, read receipts, broken input.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "check.h"
#include "strs.h"
#include "msg.h"

/* Strings the tests build; freed together by gc() at the end of a test. */





/* n copies of item joined by sep, each "#" replaced by the index. */
static char *
join(const char *item, const char *sep, size_t n)
{
	size_t	 cap = (strlen(item) + strlen(sep) + 8) * (n + 1) + 1, len = 0;
	size_t	 i;
	char	*p = keep(malloc(cap));
	const char *s;
	int	 w;

	p[0] = '\0';
	for (i = 0; i < n; i++) {
		if (i > 0) {
			memcpy(p + len, sep, strlen(sep));
			len += strlen(sep);
		}
		for (s = item; *s != '\0'; s++) {
			if (*s == '#') {
				w = snprintf(p + len, cap - len, "%zu", i);
				if (w < 0 || (size_t)w >= cap - len)
					exit(2);
				len += (size_t)w;
			} else
				p[len++] = *s;
		}
		p[len] = '\0';
	}
	return p;
}

/* Accepted, and (want != NULL) the body is exactly want. */
static int
ok(const char *in, unsigned flags, const char *want)
{
	struct msg	m;
	struct msg_err	e;
	int		good;

	if (msg_parse(in, strlen(in), flags, &m, &e) != 0) {
		fprintf(stderr, "  refused %.200s\n  %s %s: %s\n", in, e.code,
		    e.field, e.message);
		return 0;
	}
	good = m.body != NULL && (want == NULL || strcmp(m.body, want) == 0);
	if (!good)
		fprintf(stderr, "  got  %s\n  want %s\n", m.body, want);
	msg_clear(&m);
	return good;
}

/* Refused with exactly code and field, a message, and nothing kept. */
static int
no_len(const char *in, size_t len, unsigned flags, const char *code,
    const char *field)
{
	struct msg	m;
	struct msg_err	e;

	if (msg_parse(in, len, flags, &m, &e) != -1) {
		fprintf(stderr, "  accepted %.200s\n  as %s\n",
		    in != NULL ? in : "(null)", m.body);
		msg_clear(&m);
		return 0;
	}
	if (strcmp(e.code, code) != 0 || strcmp(e.field, field) != 0 ||
	    e.message[0] == '\0' || m.body != NULL || m.text != NULL ||
	    m.media_file != NULL || m.media_mime != NULL) {
		fprintf(stderr, "  %.200s\n  got %s \"%s\" (%s), want %s \"%s\"\n",
		    in != NULL ? in : "(null)", e.code, e.field, e.message, code, field);
		return 0;
	}
	return 1;
}

static int
no(const char *in, unsigned flags, const char *code, const char *field)
{
	return no_len(in, strlen(in), flags, code, field);
}

#define PRE	"{\"to\":\"15550002222\","
#define OUT	"{\"messaging_product\":\"whatsapp\",\"recipient_type\":" \
		"\"individual\",\"to\":\"15550002222\","

TEST(codepoints)
{
	CHECK(msg_codepoints("", 0) == 0);
	CHECK(msg_codepoints("abc", 3) == 3);
	CHECK(msg_codepoints("\xc3\xa9", 2) == 1);			/* é */
	CHECK(msg_codepoints("\xe2\x82\xac", 3) == 1);		/* € */
	CHECK(msg_codepoints("\xf0\x9f\x98\x80", 4) == 1);		/* 😀 */
	/* 👍🏽: thumbs up + skin tone is two code points. */
	CHECK(msg_codepoints("\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd", 8) == 2);
	CHECK(msg_codepoints("a\xc3\xa9\xf0\x9f\x98\x80z", 8) == 4);
	CHECK(msg_codepoints("abc", 1) == 1);	/* length, not NUL */
}

TEST(text)
{
	struct msg	m;
	struct msg_err	e;
	const char	*in = "{\"to\":\"+15550002222\",\"type\":\"text\","
	    "\"text\":{\"body\":\"Hi \\u00e9 \\ud83d\\ude00 https:\\/\\/x.example\","
	    "\"preview_url\":true},\"context\":{\"message_id\":\"wamid.Q1\"}}";

	CHECK(msg_parse(in, strlen(in), 0, &m, &e) == 0);
	/* Slashes unescaped, non-ASCII as UTF-8, context last, + dropped. */
	CHECK(m.body != NULL && strcmp(m.body, OUT "\"type\":\"text\","
	    "\"text\":{\"body\":\"Hi \xc3\xa9 \xf0\x9f\x98\x80 "
	    "https://x.example\",\"preview_url\":true},"
	    "\"context\":{\"message_id\":\"wamid.Q1\"}}") == 0);
	CHECK(m.kind == MSG_TEXT && m.free_form == 1);
	CHECK(strcmp(m.to, "15550002222") == 0);
	CHECK(strcmp(m.reply_to, "wamid.Q1") == 0);
	CHECK(m.text != NULL && strcmp(m.text,
	    "Hi \xc3\xa9 \xf0\x9f\x98\x80 https://x.example") == 0);
	CHECK(m.media_file == NULL && m.media_mime == NULL);
	msg_clear(&m);
	/* Optional common fields given; type defaults to text (7.1). */
	CHECK(ok("{\"messaging_product\":\"whatsapp\",\"recipient_type\":"
	    "\"individual\",\"to\":\"15550002222\",\"text\":{\"body\":\"x\"}}",
	    0, OUT "\"type\":\"text\",\"text\":{\"body\":\"x\"}}"));
	/* Key order of the input does not matter to the envelope. */
	CHECK(ok("{\"text\":{\"preview_url\":false,\"body\":\"x\"},\"type\":"
	    "\"text\",\"to\":\"15550002222\"}", 0, OUT "\"type\":\"text\","
	    "\"text\":{\"preview_url\":false,\"body\":\"x\"}}"));
	/* A BSUID recipient (reference 4.4). */
	CHECK(ok("{\"to\":\"US.13491208655302741918\",\"type\":\"text\","
	    "\"text\":{\"body\":\"x\"}}", 0,
	    "{\"messaging_product\":\"whatsapp\",\"recipient_type\":"
	    "\"individual\",\"to\":\"US.13491208655302741918\",\"type\":"
	    "\"text\",\"text\":{\"body\":\"x\"}}"));
	gc();
}

TEST(media)
{
	struct msg	m;
	struct msg_err	e;
	const char	*in = PRE "\"type\":\"image\",\"image\":{\"link\":"
	    "\"https://cdn.example/a.jpg\",\"caption\":\"Look\"}}";

	CHECK(msg_parse(in, strlen(in), 0, &m, &e) == 0);
	CHECK(m.body != NULL && strcmp(m.body, OUT "\"type\":\"image\","
	    "\"image\":{\"link\":\"https://cdn.example/a.jpg\",\"caption\":"
	    "\"Look\"}}") == 0);
	CHECK(m.kind == MSG_IMAGE && m.free_form == 1 && m.text != NULL &&
	    strcmp(m.text, "Look") == 0 && m.media_file == NULL &&
	    m.media_mime == NULL && m.reply_to[0] == '\0');
	msg_clear(&m);
	CHECK(ok(PRE "\"type\":\"video\",\"video\":{\"id\":\"1234567890\"}}", 0,
	    OUT "\"type\":\"video\",\"video\":{\"id\":\"1234567890\"}}"));
	CHECK(ok(PRE "\"type\":\"audio\",\"audio\":{\"id\":\"42\"}}", 0,
	    OUT "\"type\":\"audio\",\"audio\":{\"id\":\"42\"}}"));
	CHECK(ok(PRE "\"type\":\"document\",\"document\":{\"link\":"
	    "\"https://x.example/r.pdf\",\"filename\":\"r.pdf\",\"caption\":"
	    "\"Report\"}}", 0, OUT "\"type\":\"document\",\"document\":{"
	    "\"link\":\"https://x.example/r.pdf\",\"filename\":\"r.pdf\","
	    "\"caption\":\"Report\"}}"));
	CHECK(ok(PRE "\"type\":\"sticker\",\"sticker\":{\"id\":\"77\"}}", 0,
	    OUT "\"type\":\"sticker\",\"sticker\":{\"id\":\"77\"}}"));
	/* Exactly one of id, link, file. */
	CHECK(no(PRE "\"type\":\"image\",\"image\":{\"id\":\"1\",\"link\":"
	    "\"https://x.example/a\"}}", 0, "conflict", "image"));
	CHECK(no(PRE "\"type\":\"image\",\"image\":{\"caption\":\"x\"}}", 0,
	    "required", "image"));
	CHECK(no(PRE "\"type\":\"image\",\"image\":{\"link\":"
	    "\"http://x.example/a.jpg\"}}", 0, "not_https", "image.link"));
	CHECK(no(PRE "\"type\":\"image\",\"image\":{\"link\":"
	    "\"ftp://x.example/a.jpg\"}}", 0, "not_https", "image.link"));
	CHECK(no(PRE "\"type\":\"image\",\"image\":{\"link\":\"https://\"}}", 0,
	    "invalid", "image.link"));
	CHECK(no(PRE "\"type\":\"image\",\"image\":{\"link\":"
	    "\"https://x.example/a b.jpg\"}}", 0, "invalid", "image.link"));
	CHECK(no(PRE "\"type\":\"image\",\"image\":{\"id\":\"\"}}", 0,
	    "empty", "image.id"));
	CHECK(no(PRE "\"type\":\"image\",\"image\":{\"id\":\"1 2\"}}", 0,
	    "invalid", "image.id"));
	CHECK(no(PRE "\"type\":\"image\",\"image\":{\"id\":12}}", 0,
	    "bad_type", "image.id"));
	CHECK(no(PRE "\"type\":\"image\",\"image\":{\"id\":\"1\",\"caption\":"
	    "\" \"}}", 0, "empty", "image.caption"));
	/* Caption: image, video, document; filename: document only. */
	CHECK(no(PRE "\"type\":\"audio\",\"audio\":{\"id\":\"1\",\"caption\":"
	    "\"x\"}}", 0, "unknown_field", "audio.caption"));
	CHECK(no(PRE "\"type\":\"sticker\",\"sticker\":{\"id\":\"1\","
	    "\"caption\":\"x\"}}", 0, "unknown_field", "sticker.caption"));
	CHECK(no(PRE "\"type\":\"image\",\"image\":{\"id\":\"1\",\"filename\":"
	    "\"a.jpg\"}}", 0, "unknown_field", "image.filename"));
	CHECK(ok(fill(PRE "\"type\":\"image\",\"image\":{\"link\":"
	    "\"https://x.example/$$\"}}", rep("a", 2000 - 18)), 0, NULL));
	CHECK(no(fill(PRE "\"type\":\"image\",\"image\":{\"link\":"
	    "\"https://x.example/$$\"}}", rep("a", 2001 - 18)), 0, "too_long",
	    "image.link"));
	CHECK(no(PRE "\"type\":\"image\",\"image\":\"1\"}", 0, "bad_type",
	    "image"));
	CHECK(no(PRE "\"type\":\"image\"}", 0, "required", "image"));
	gc();
}

TEST(location)
{
	struct msg	m;
	struct msg_err	e;
	const char	*in = PRE "\"type\":\"location\",\"location\":{\"latitude\":"
	    "37.4847,\"longitude\":-122.148,\"name\":\"HQ\",\"address\":"
	    "\"1 Hacker Way\"}}";

	CHECK(msg_parse(in, strlen(in), 0, &m, &e) == 0);
	/* Reals come back as written, not 37.484699999999997. */
	CHECK(m.body != NULL && strcmp(m.body, OUT "\"type\":\"location\","
	    "\"location\":{\"latitude\":37.4847,\"longitude\":-122.148,"
	    "\"name\":\"HQ\",\"address\":\"1 Hacker Way\"}}") == 0);
	CHECK(m.text != NULL && strcmp(m.text, "HQ") == 0 && m.free_form);
	msg_clear(&m);
	CHECK(ok(PRE "\"type\":\"location\",\"location\":{\"latitude\":90,"
	    "\"longitude\":-180}}", 0, OUT "\"type\":\"location\",\"location\":"
	    "{\"latitude\":90,\"longitude\":-180}}"));
	CHECK(ok(PRE "\"type\":\"location\",\"location\":{\"latitude\":-90.0,"
	    "\"longitude\":180.0,\"address\":\"no name\"}}", 0, NULL));
	CHECK(no(PRE "\"type\":\"location\",\"location\":{\"latitude\":90.0001,"
	    "\"longitude\":0}}", 0, "out_of_range", "location.latitude"));
	CHECK(no(PRE "\"type\":\"location\",\"location\":{\"latitude\":-90.5,"
	    "\"longitude\":0}}", 0, "out_of_range", "location.latitude"));
	CHECK(no(PRE "\"type\":\"location\",\"location\":{\"latitude\":0,"
	    "\"longitude\":180.5}}", 0, "out_of_range", "location.longitude"));
	CHECK(no(PRE "\"type\":\"location\",\"location\":{\"latitude\":0,"
	    "\"longitude\":-181}}", 0, "out_of_range", "location.longitude"));
	CHECK(no(PRE "\"type\":\"location\",\"location\":{\"latitude\":\"1\","
	    "\"longitude\":0}}", 0, "bad_type", "location.latitude"));
	CHECK(no(PRE "\"type\":\"location\",\"location\":{\"latitude\":1}}", 0,
	    "required", "location.longitude"));
	CHECK(no(PRE "\"type\":\"location\",\"location\":{\"latitude\":1,"
	    "\"longitude\":1,\"url\":\"https://x.example\"}}", 0,
	    "unknown_field", "location.url"));
	gc();
}

TEST(contacts)
{
	struct msg	m;
	struct msg_err	e;
	const char	*card = "{\"name\":{\"formatted_name\":\"Bob Smith\","
	    "\"first_name\":\"Bob\",\"last_name\":\"Smith\"},\"phones\":[{"
	    "\"phone\":\"+1 555 000 3333\",\"type\":\"CELL\",\"wa_id\":"
	    "\"15550003333\"}],\"emails\":[{\"email\":\"bob@example.com\","
	    "\"type\":\"WORK\"}],\"addresses\":[{\"street\":\"1 Main St\","
	    "\"city\":\"Springfield\",\"country_code\":\"US\",\"type\":"
	    "\"HOME\"}],\"org\":{\"company\":\"Acme\",\"title\":\"CTO\"},"
	    "\"urls\":[{\"url\":\"https://bob.example\",\"type\":\"WORK\"}],"
	    "\"birthday\":\"1980-02-29\"}";
	char		*in = fill(PRE "\"type\":\"contacts\",\"contacts\":[$$]}",
	    card);

	CHECK(msg_parse(in, strlen(in), 0, &m, &e) == 0);
	CHECK(m.body != NULL && strcmp(m.body, fill(OUT "\"type\":\"contacts\","
	    "\"contacts\":[$$]}", card)) == 0);
	CHECK(m.kind == MSG_CONTACTS && m.free_form && m.text == NULL);
	msg_clear(&m);
	CHECK(ok(PRE "\"type\":\"contacts\",\"contacts\":[{\"name\":{"
	    "\"formatted_name\":\"A\"}},{\"name\":{\"formatted_name\":\"B\"}}]}",
	    0, OUT "\"type\":\"contacts\",\"contacts\":[{\"name\":{"
	    "\"formatted_name\":\"A\"}},{\"name\":{\"formatted_name\":\"B\"}}]}"));
	CHECK(no(PRE "\"type\":\"contacts\",\"contacts\":[]}", 0, "too_few",
	    "contacts"));
	CHECK(ok(fill(PRE "\"type\":\"contacts\",\"contacts\":[$$]}",
	    join("{\"name\":{\"formatted_name\":\"C#\"}}", ",", 20)), 0, NULL));
	CHECK(no(fill(PRE "\"type\":\"contacts\",\"contacts\":[$$]}",
	    join("{\"name\":{\"formatted_name\":\"C#\"}}", ",", 21)), 0,
	    "too_many", "contacts"));
	CHECK(no(PRE "\"type\":\"contacts\",\"contacts\":{\"name\":{}}}", 0,
	    "bad_type", "contacts"));
	CHECK(no(PRE "\"type\":\"contacts\",\"contacts\":[{\"phones\":[]}]}", 0,
	    "required", "contacts[0].name"));
	CHECK(no(PRE "\"type\":\"contacts\",\"contacts\":[{\"name\":{"
	    "\"formatted_name\":\"A\"}},{\"name\":{\"formatted_name\":\"\\t\"}}]}",
	    0, "empty", "contacts[1].name.formatted_name"));
	CHECK(no(PRE "\"type\":\"contacts\",\"contacts\":[{\"name\":{"
	    "\"first_name\":\"A\"}}]}", 0, "required",
	    "contacts[0].name.formatted_name"));
	CHECK(no(PRE "\"type\":\"contacts\",\"contacts\":[{\"name\":{"
	    "\"formatted_name\":\"A\",\"nick\":\"a\"}}]}", 0, "unknown_field",
	    "contacts[0].name.nick"));
	CHECK(no(PRE "\"type\":\"contacts\",\"contacts\":[{\"name\":{"
	    "\"formatted_name\":\"A\"},\"phones\":[{\"phone\":\"1\",\"fax\":"
	    "\"2\"}]}]}", 0, "unknown_field", "contacts[0].phones[0].fax"));
	CHECK(no(PRE "\"type\":\"contacts\",\"contacts\":[{\"name\":{"
	    "\"formatted_name\":\"A\"},\"phones\":[{\"phone\":1}]}]}", 0,
	    "bad_type", "contacts[0].phones[0].phone"));
	CHECK(no(PRE "\"type\":\"contacts\",\"contacts\":[{\"name\":{"
	    "\"formatted_name\":\"A\"},\"birthday\":\"29/02/1980\"}]}", 0,
	    "invalid", "contacts[0].birthday"));
	CHECK(no(PRE "\"type\":\"contacts\",\"contacts\":[{\"name\":{"
	    "\"formatted_name\":\"A\"},\"org\":{\"company\":\"x\",\"ceo\":\"y\"}}]}",
	    0, "unknown_field", "contacts[0].org.ceo"));
	gc();
}

TEST(reaction)
{
	struct msg	m;
	struct msg_err	e;
	const char	*in = PRE "\"type\":\"reaction\",\"reaction\":{"
	    "\"message_id\":\"wamid.HBgL\",\"emoji\":\"\\ud83d\\udc4d\"}}";

	CHECK(msg_parse(in, strlen(in), 0, &m, &e) == 0);
	CHECK(m.body != NULL && strcmp(m.body, OUT "\"type\":\"reaction\","
	    "\"reaction\":{\"message_id\":\"wamid.HBgL\",\"emoji\":"
	    "\"\xf0\x9f\x91\x8d\"}}") == 0);
	CHECK(m.kind == MSG_REACTION && m.free_form && m.text != NULL &&
	    strcmp(m.text, "\xf0\x9f\x91\x8d") == 0);
	msg_clear(&m);
	/* "" removes the reaction: accepted, nothing to search. */
	in = PRE "\"type\":\"reaction\",\"reaction\":{\"message_id\":"
	    "\"wamid.HBgL\",\"emoji\":\"\"}}";
	CHECK(msg_parse(in, strlen(in), 0, &m, &e) == 0);
	CHECK(m.body != NULL && strcmp(m.body, OUT "\"type\":\"reaction\","
	    "\"reaction\":{\"message_id\":\"wamid.HBgL\",\"emoji\":\"\"}}") == 0);
	CHECK(m.text == NULL);
	msg_clear(&m);
	CHECK(no(PRE "\"type\":\"reaction\",\"reaction\":{\"message_id\":"
	    "\"wamid.HBgL\",\"emoji\":\" \"}}", 0, "empty", "reaction.emoji"));
	CHECK(no(PRE "\"type\":\"reaction\",\"reaction\":{\"message_id\":"
	    "\"wamid.HBgL\"}}", 0, "required", "reaction.emoji"));
	CHECK(no(PRE "\"type\":\"reaction\",\"reaction\":{\"emoji\":\"x\"}}", 0,
	    "required", "reaction.message_id"));
	CHECK(no(PRE "\"type\":\"reaction\",\"reaction\":{\"message_id\":"
	    "\"\",\"emoji\":\"x\"}}", 0, "empty", "reaction.message_id"));
	gc();
}

#define BTN(id, title) "{\"type\":\"reply\",\"reply\":{\"id\":\"" id \
	"\",\"title\":\"" title "\"}}"
#define IBTN	PRE "\"type\":\"interactive\",\"interactive\":{\"type\":\"button\","

TEST(interactive_button)
{
	struct msg	m;
	struct msg_err	e;
	const char	*inner = "{\"type\":\"button\",\"header\":{\"type\":"
	    "\"image\",\"image\":{\"link\":\"https://x.example/h.png\"}},"
	    "\"body\":{\"text\":\"Pick one\"},\"footer\":{\"text\":\"Thanks\"},"
	    "\"action\":{\"buttons\":[" BTN("yes", "Yes") "," BTN("no", "No")
	    "," BTN("later", "Later \xf0\x9f\x95\x92") "]}}";
	char		*in = fill(PRE "\"type\":\"interactive\",\"interactive\":$$,"
	    "\"context\":{\"message_id\":\"wamid.A\"}}", inner);

	CHECK(msg_parse(in, strlen(in), 0, &m, &e) == 0);
	CHECK(m.body != NULL && strcmp(m.body, fill(OUT "\"type\":"
	    "\"interactive\",\"interactive\":$$,\"context\":{\"message_id\":"
	    "\"wamid.A\"}}", inner)) == 0);
	CHECK(m.kind == MSG_INTERACTIVE && m.free_form && m.text != NULL &&
	    strcmp(m.text, "Pick one") == 0 && strcmp(m.reply_to, "wamid.A") == 0);
	msg_clear(&m);
	CHECK(ok(IBTN "\"header\":{\"type\":\"text\",\"text\":\"Hi\"},\"body\":"
	    "{\"text\":\"b\"},\"action\":{\"buttons\":[" BTN("a", "A") "]}}}", 0,
	    OUT "\"type\":\"interactive\",\"interactive\":{\"type\":\"button\","
	    "\"header\":{\"type\":\"text\",\"text\":\"Hi\"},\"body\":{\"text\":"
	    "\"b\"},\"action\":{\"buttons\":[" BTN("a", "A") "]}}}"));
	CHECK(ok(IBTN "\"header\":{\"type\":\"document\",\"document\":{\"id\":"
	    "\"9\",\"filename\":\"a.pdf\"}},\"body\":{\"text\":\"b\"},"
	    "\"action\":{\"buttons\":[" BTN("a", "A") "]}}}", 0, NULL));
	/* 1 to 3 buttons. */
	CHECK(no(IBTN "\"body\":{\"text\":\"b\"},\"action\":{\"buttons\":[]}}}",
	    0, "too_few", "interactive.action.buttons"));
	CHECK(no(IBTN "\"body\":{\"text\":\"b\"},\"action\":{\"buttons\":["
	    BTN("a", "A") "," BTN("b", "B") "," BTN("c", "C") "," BTN("d", "D")
	    "]}}}", 0, "too_many", "interactive.action.buttons"));
	/* Unique ids and titles, no edge spaces in ids. */
	CHECK(no(IBTN "\"body\":{\"text\":\"b\"},\"action\":{\"buttons\":["
	    BTN("a", "A") "," BTN("a", "B") "]}}}", 0, "duplicate",
	    "interactive.action.buttons[1].reply.id"));
	CHECK(no(IBTN "\"body\":{\"text\":\"b\"},\"action\":{\"buttons\":["
	    BTN("a", "A") "," BTN("b", "B") "," BTN("c", "A") "]}}}", 0,
	    "duplicate", "interactive.action.buttons[2].reply.title"));
	CHECK(no(IBTN "\"body\":{\"text\":\"b\"},\"action\":{\"buttons\":["
	    BTN(" a", "A") "]}}}", 0, "invalid",
	    "interactive.action.buttons[0].reply.id"));
	CHECK(no(IBTN "\"body\":{\"text\":\"b\"},\"action\":{\"buttons\":["
	    BTN("a", "") "]}}}", 0, "empty",
	    "interactive.action.buttons[0].reply.title"));
	CHECK(no(IBTN "\"body\":{\"text\":\"b\"},\"action\":{\"buttons\":["
	    "{\"type\":\"url\",\"reply\":{\"id\":\"a\",\"title\":\"A\"}}]}}}", 0,
	    "invalid", "interactive.action.buttons[0].type"));
	CHECK(no(IBTN "\"body\":{\"text\":\"b\"},\"action\":{\"buttons\":["
	    "{\"type\":\"reply\",\"reply\":{\"id\":\"a\",\"titel\":\"A\"}}]}}}",
	    0, "unknown_field", "interactive.action.buttons[0].reply.titel"));
	CHECK(no(IBTN "\"body\":{\"text\":\"b\"},\"action\":{\"buttons\":["
	    "\"a\"]}}}", 0, "bad_type", "interactive.action.buttons[0]"));
	/* body required, "bdy" is a typo. */
	CHECK(no(IBTN "\"bdy\":{\"text\":\"b\"},\"action\":{\"buttons\":["
	    BTN("a", "A") "]}}}", 0, "unknown_field", "interactive.bdy"));
	CHECK(no(IBTN "\"action\":{\"buttons\":[" BTN("a", "A") "]}}}", 0,
	    "required", "interactive.body"));
	CHECK(no(IBTN "\"body\":{\"text\":\"b\"}}}", 0, "required",
	    "interactive.action"));
	CHECK(no(IBTN "\"body\":{\"text\":\" \\n\"},\"action\":{\"buttons\":["
	    BTN("a", "A") "]}}}", 0, "empty", "interactive.body.text"));
	CHECK(no(IBTN "\"header\":{\"type\":\"sticker\",\"sticker\":{\"id\":"
	    "\"1\"}},\"body\":{\"text\":\"b\"},\"action\":{\"buttons\":["
	    BTN("a", "A") "]}}}", 0, "invalid", "interactive.header.type"));
	CHECK(no(IBTN "\"header\":{\"type\":\"image\",\"image\":{\"file\":"
	    "\"/tmp/a.jpg\"}},\"body\":{\"text\":\"b\"},\"action\":{\"buttons\":["
	    BTN("a", "A") "]}}}", MSG_ALLOW_FILE, "file_not_allowed",
	    "interactive.header.image.file"));
	CHECK(no(IBTN "\"header\":{\"type\":\"image\",\"image\":{\"id\":"
	    "\"1\",\"caption\":\"c\"}},\"body\":{\"text\":\"b\"},\"action\":{"
	    "\"buttons\":[" BTN("a", "A") "]}}}", 0, "unknown_field",
	    "interactive.header.image.caption"));
	CHECK(no(IBTN "\"header\":{\"type\":\"text\",\"text\":\"h\",\"image\":"
	    "{}},\"body\":{\"text\":\"b\"},\"action\":{\"buttons\":["
	    BTN("a", "A") "]}}}", 0, "unknown_field", "interactive.header.image"));
	CHECK(no(PRE "\"type\":\"interactive\",\"interactive\":{\"type\":"
	    "\"address_message\",\"body\":{\"text\":\"b\"},\"action\":{}}}", 0,
	    "invalid", "interactive.type"));
	gc();
}

#define ROW(id)	"{\"id\":\"" id "\",\"title\":\"T" id "\"}"
#define ILIST	PRE "\"type\":\"interactive\",\"interactive\":{\"type\":\"list\"," \
		"\"body\":{\"text\":\"b\"},"

TEST(interactive_list)
{
	const char	*inner = "{\"type\":\"list\",\"header\":{\"type\":\"text\","
	    "\"text\":\"Menu\"},\"body\":{\"text\":\"Choose\"},\"footer\":{"
	    "\"text\":\"f\"},\"action\":{\"button\":\"Open\",\"sections\":[{"
	    "\"title\":\"Drinks\",\"rows\":[{\"id\":\"tea\",\"title\":\"Tea\","
	    "\"description\":\"Hot\"},{\"id\":\"cola\",\"title\":\"Cola\"}]},{"
	    "\"title\":\"Food\",\"rows\":[{\"id\":\"pie\",\"title\":\"Pie\"}]}]}}";

	CHECK(ok(fill(PRE "\"type\":\"interactive\",\"interactive\":$$}", inner),
	    0, fill(OUT "\"type\":\"interactive\",\"interactive\":$$}", inner)));
	/* One section needs no title. */
	CHECK(ok(ILIST "\"action\":{\"button\":\"Open\",\"sections\":[{\"rows\":["
	    ROW("a") "]}]}}}", 0, NULL));
	CHECK(no(ILIST "\"action\":{\"button\":\"Open\",\"sections\":[{\"title\":"
	    "\"x\",\"rows\":[" ROW("a") "]},{\"rows\":[" ROW("b") "]}]}}}", 0,
	    "required", "interactive.action.sections[1].title"));
	/* Sections 1..10, rows 1..10 in all. */
	CHECK(ok(fill(ILIST "\"action\":{\"button\":\"Open\",\"sections\":[$$]}}}",
	    join("{\"title\":\"S#\",\"rows\":[{\"id\":\"r#\",\"title\":\"R\"}]}",
	    ",", 10)), 0, NULL));
	CHECK(no(fill(ILIST "\"action\":{\"button\":\"Open\",\"sections\":[$$]}}}",
	    join("{\"title\":\"S#\",\"rows\":[{\"id\":\"r#\",\"title\":\"R\"}]}",
	    ",", 11)), 0, "too_many", "interactive.action.sections"));
	CHECK(no(ILIST "\"action\":{\"button\":\"Open\",\"sections\":[]}}}", 0,
	    "too_few", "interactive.action.sections"));
	CHECK(ok(fill(ILIST "\"action\":{\"button\":\"Open\",\"sections\":[{"
	    "\"rows\":[$$]}]}}}", join("{\"id\":\"r#\",\"title\":\"R\"}", ",",
	    10)), 0, NULL));
	CHECK(no(fill(ILIST "\"action\":{\"button\":\"Open\",\"sections\":[{"
	    "\"rows\":[$$]}]}}}", join("{\"id\":\"r#\",\"title\":\"R\"}", ",",
	    11)), 0, "too_many", "interactive.action.sections[0].rows"));
	/* 6 + 5 rows: the eleventh row in all is the one refused. */
	CHECK(no(fill(fill(ILIST "\"action\":{\"button\":\"Open\",\"sections\":[{"
	    "\"title\":\"A\",\"rows\":[$$]},{\"title\":\"B\",\"rows\":[$$]}]}}}",
	    join("{\"id\":\"a#\",\"title\":\"R\"}", ",", 6)),
	    join("{\"id\":\"b#\",\"title\":\"R\"}", ",", 5)), 0, "too_many",
	    "interactive.action.sections[1].rows[4]"));
	CHECK(no(ILIST "\"action\":{\"button\":\"Open\",\"sections\":[{\"title\":"
	    "\"A\",\"rows\":[" ROW("a") "]},{\"title\":\"B\",\"rows\":[" ROW("a")
	    "]}]}}}", 0, "duplicate", "interactive.action.sections[1].rows[0].id"));
	CHECK(no(ILIST "\"action\":{\"button\":\"Open\",\"sections\":[{\"rows\":"
	    "[]}]}}}", 0, "too_few", "interactive.action.sections[0].rows"));
	CHECK(no(ILIST "\"action\":{\"sections\":[{\"rows\":[" ROW("a") "]}]}}}",
	    0, "required", "interactive.action.button"));
	CHECK(no(ILIST "\"action\":{\"button\":\"Open\",\"sections\":[{\"rows\":["
	    "{\"id\":\"a\",\"title\":\"A\",\"desc\":\"x\"}]}]}}}", 0,
	    "unknown_field", "interactive.action.sections[0].rows[0].desc"));
	CHECK(no(PRE "\"type\":\"interactive\",\"interactive\":{\"type\":\"list\","
	    "\"header\":{\"type\":\"image\",\"image\":{\"id\":\"1\"}},\"body\":{"
	    "\"text\":\"b\"},\"action\":{\"button\":\"Open\",\"sections\":[{"
	    "\"rows\":[" ROW("a") "]}]}}}", 0, "invalid",
	    "interactive.header.type"));
	gc();
}

TEST(interactive_cta_url)
{
	const char	*inner = "{\"type\":\"cta_url\",\"header\":{\"type\":"
	    "\"text\",\"text\":\"Docs\"},\"body\":{\"text\":\"See the manual\"},"
	    "\"footer\":{\"text\":\"f\"},\"action\":{\"name\":\"cta_url\","
	    "\"parameters\":{\"display_text\":\"Open\",\"url\":"
	    "\"https://x.example/manual?a=1\"}}}";

	CHECK(ok(fill(PRE "\"type\":\"interactive\",\"interactive\":$$}", inner),
	    0, fill(OUT "\"type\":\"interactive\",\"interactive\":$$}", inner)));
	CHECK(no(PRE "\"type\":\"interactive\",\"interactive\":{\"type\":"
	    "\"cta_url\",\"body\":{\"text\":\"b\"},\"action\":{\"name\":\"url\","
	    "\"parameters\":{\"display_text\":\"O\",\"url\":\"https://x.example\"}}"
	    "}}", 0, "invalid", "interactive.action.name"));
	CHECK(no(PRE "\"type\":\"interactive\",\"interactive\":{\"type\":"
	    "\"cta_url\",\"body\":{\"text\":\"b\"},\"action\":{\"name\":"
	    "\"cta_url\",\"parameters\":{\"display_text\":\"O\",\"url\":"
	    "\"http://x.example\"}}}}", 0, "not_https",
	    "interactive.action.parameters.url"));
	CHECK(no(PRE "\"type\":\"interactive\",\"interactive\":{\"type\":"
	    "\"cta_url\",\"body\":{\"text\":\"b\"},\"action\":{\"name\":"
	    "\"cta_url\",\"parameters\":{\"url\":\"https://x.example\"}}}}", 0,
	    "required", "interactive.action.parameters.display_text"));
	CHECK(no(PRE "\"type\":\"interactive\",\"interactive\":{\"type\":"
	    "\"cta_url\",\"body\":{\"text\":\"b\"},\"action\":{\"name\":"
	    "\"cta_url\",\"buttons\":[]}}}", 0, "unknown_field",
	    "interactive.action.buttons"));
	gc();
}

#define IACT	PRE "\"type\":\"interactive\",\"interactive\":"
#define FLOWP(x) "{\"type\":\"flow\",\"body\":{\"text\":\"Book a table\"}," \
		"\"action\":{\"name\":\"flow\",\"parameters\":{" x "}}}"
#define FLOW_OK	"\"flow_message_version\":\"3\",\"flow_id\":\"1234567890\"," \
		"\"flow_cta\":\"Book now\",\"flow_token\":\"tok-1\""

TEST(interactive_flow)
{
	const char	*inner = "{\"type\":\"flow\",\"header\":{\"type\":"
	    "\"text\",\"text\":\"Tables\"},\"body\":{\"text\":\"Book a table\"},"
	    "\"footer\":{\"text\":\"f\"},\"action\":{\"name\":\"flow\","
	    "\"parameters\":{\"flow_message_version\":\"3\",\"flow_token\":"
	    "\"tok-1\",\"flow_id\":\"1234567890\",\"flow_cta\":\"Book now\","
	    "\"flow_action\":\"navigate\",\"flow_action_payload\":{\"screen\":"
	    "\"FIRST\",\"data\":{\"party\":2}}}}}";

	/* The whole body goes to Meta as given. */
	CHECK(ok(fill(IACT "$$}", inner), 0,
	    fill(OUT "\"type\":\"interactive\",\"interactive\":$$}", inner)));
	/* By name; data_exchange without a payload; the CTA at 20. */
	CHECK(ok(IACT FLOWP("\"flow_message_version\":\"3\",\"flow_name\":"
	    "\"booking\",\"flow_cta\":\"Book\",\"flow_action\":\"data_exchange\"")
	    "}", 0, NULL));
	CHECK(ok(fill(IACT FLOWP("\"flow_message_version\":\"3\",\"flow_id\":"
	    "\"1\",\"flow_cta\":\"$$\",\"flow_action_payload\":{\"screen\":"
	    "\"A\"}") "}", rep("x", 20)), 0, NULL));
	CHECK(no(fill(IACT FLOWP("\"flow_message_version\":\"3\",\"flow_id\":"
	    "\"1\",\"flow_cta\":\"$$\",\"flow_action_payload\":{\"screen\":"
	    "\"A\"}") "}", rep("x", 21)), 0, "too_long",
	    "interactive.action.parameters.flow_cta"));
	/* Exactly one of flow_id and flow_name. */
	CHECK(no(IACT FLOWP("\"flow_message_version\":\"3\",\"flow_cta\":\"B\","
	    "\"flow_action_payload\":{\"screen\":\"A\"}") "}", 0, "required",
	    "interactive.action.parameters.flow_id"));
	CHECK(no(IACT FLOWP(FLOW_OK ",\"flow_name\":\"booking\","
	    "\"flow_action_payload\":{\"screen\":\"A\"}") "}", 0, "conflict",
	    "interactive.action.parameters.flow_name"));
	/* Version 3 only, and required. */
	CHECK(no(IACT FLOWP("\"flow_message_version\":\"2\",\"flow_id\":\"1\","
	    "\"flow_cta\":\"B\",\"flow_action_payload\":{\"screen\":\"A\"}") "}",
	    0, "invalid", "interactive.action.parameters.flow_message_version"));
	CHECK(no(IACT FLOWP("\"flow_id\":\"1\",\"flow_cta\":\"B\","
	    "\"flow_action_payload\":{\"screen\":\"A\"}") "}", 0, "required",
	    "interactive.action.parameters.flow_message_version"));
	CHECK(no(IACT FLOWP("\"flow_message_version\":\"3\",\"flow_id\":\"1\","
	    "\"flow_action_payload\":{\"screen\":\"A\"}") "}", 0, "required",
	    "interactive.action.parameters.flow_cta"));
	/* navigate (the default) needs a screen; data_exchange takes none. */
	CHECK(no(IACT FLOWP(FLOW_OK) "}", 0, "required",
	    "interactive.action.parameters.flow_action_payload"));
	CHECK(no(IACT FLOWP(FLOW_OK ",\"flow_action_payload\":{\"data\":"
	    "{\"a\":1}}") "}", 0, "required",
	    "interactive.action.parameters.flow_action_payload.screen"));
	CHECK(no(IACT FLOWP(FLOW_OK ",\"flow_action\":\"data_exchange\","
	    "\"flow_action_payload\":{\"screen\":\"A\"}") "}", 0, "conflict",
	    "interactive.action.parameters.flow_action_payload"));
	CHECK(no(IACT FLOWP(FLOW_OK ",\"flow_action\":\"jump\","
	    "\"flow_action_payload\":{\"screen\":\"A\"}") "}", 0, "invalid",
	    "interactive.action.parameters.flow_action"));
	CHECK(no(IACT FLOWP(FLOW_OK ",\"flow_action_payload\":{\"screen\":"
	    "\"A\",\"data\":{}}") "}", 0, "empty",
	    "interactive.action.parameters.flow_action_payload.data"));
	CHECK(no(IACT FLOWP(FLOW_OK ",\"flow_action_payload\":{\"screen\":"
	    "\"A\",\"data\":[1]}") "}", 0, "bad_type",
	    "interactive.action.parameters.flow_action_payload.data"));
	CHECK(no(IACT FLOWP(FLOW_OK ",\"flow_action_payload\":{\"screen\":"
	    "\"A\"},\"flow_ctx\":\"x\"") "}", 0, "unknown_field",
	    "interactive.action.parameters.flow_ctx"));
	CHECK(no(IACT FLOWP(FLOW_OK ",\"mode\":\"live\",\"flow_action_payload\":"
	    "{\"screen\":\"A\"}") "}", 0, "invalid",
	    "interactive.action.parameters.mode"));
	CHECK(ok(IACT FLOWP(FLOW_OK ",\"mode\":\"draft\",\"flow_action_payload\":"
	    "{\"screen\":\"A\"}") "}", 0, NULL));
	CHECK(no(IACT "{\"type\":\"flow\",\"body\":{\"text\":\"b\"},\"action\":"
	    "{\"name\":\"cta_url\",\"parameters\":{}}}}", 0, "invalid",
	    "interactive.action.name"));
	CHECK(no(IACT "{\"type\":\"flow\",\"action\":{\"name\":\"flow\","
	    "\"parameters\":{" FLOW_OK "}}}}", 0, "required",
	    "interactive.body"));
	gc();
}

TEST(interactive_location_request)
{
	const char	*inner = "{\"type\":\"location_request_message\","
	    "\"body\":{\"text\":\"Where shall we deliver?\"},\"action\":"
	    "{\"name\":\"send_location\"}}";
	struct msg	m;
	struct msg_err	e;
	char		*in = fill(IACT "$$}", inner);

	CHECK(ok(in, 0, fill(OUT "\"type\":\"interactive\",\"interactive\":$$}",
	    inner)));
	CHECK(msg_parse(in, strlen(in), 0, &m, &e) == 0);
	CHECK(m.text != NULL && strcmp(m.text, "Where shall we deliver?") == 0);
	CHECK(m.free_form == 1 && m.need_catalog == 0);
	msg_clear(&m);
	CHECK(no(IACT "{\"type\":\"location_request_message\",\"action\":"
	    "{\"name\":\"send_location\"}}}", 0, "required", "interactive.body"));
	CHECK(no(IACT "{\"type\":\"location_request_message\",\"body\":{"
	    "\"text\":\"b\"},\"action\":{\"name\":\"location\"}}}", 0, "invalid",
	    "interactive.action.name"));
	CHECK(no(IACT "{\"type\":\"location_request_message\",\"body\":{"
	    "\"text\":\"b\"},\"action\":{}}}", 0, "required",
	    "interactive.action.name"));
	CHECK(no(IACT "{\"type\":\"location_request_message\",\"header\":{"
	    "\"type\":\"text\",\"text\":\"h\"},\"body\":{\"text\":\"b\"},"
	    "\"action\":{\"name\":\"send_location\"}}}", 0, "unknown_field",
	    "interactive.header"));
	CHECK(no(IACT "{\"type\":\"location_request_message\",\"body\":{"
	    "\"text\":\"b\"},\"footer\":{\"text\":\"f\"},\"action\":{\"name\":"
	    "\"send_location\"}}}", 0, "unknown_field", "interactive.footer"));
	CHECK(ok(fill(IACT "{\"type\":\"location_request_message\",\"body\":{"
	    "\"text\":\"$$\"},\"action\":{\"name\":\"send_location\"}}}",
	    rep("b", 1024)), 0, NULL));
	CHECK(no(fill(IACT "{\"type\":\"location_request_message\",\"body\":{"
	    "\"text\":\"$$\"},\"action\":{\"name\":\"send_location\"}}}",
	    rep("b", 1025)), 0, "too_long", "interactive.body.text"));
	gc();
}

TEST(interactive_product)
{
	const char	*inner = "{\"type\":\"product\",\"body\":{\"text\":"
	    "\"Our oak table\"},\"footer\":{\"text\":\"f\"},\"action\":"
	    "{\"catalog_id\":\"300400500600700\",\"product_retailer_id\":"
	    "\"SKU-1\"}}";
	struct msg	m;
	struct msg_err	e;
	const char	*in;

	CHECK(ok(fill(IACT "$$}", inner), 0,
	    fill(OUT "\"type\":\"interactive\",\"interactive\":$$}", inner)));
	/* Body and footer optional; no catalog: the number's comes later. */
	in = IACT "{\"type\":\"product\",\"action\":{\"product_retailer_id\":"
	    "\"SKU-1\"}}}";
	CHECK(msg_parse(in, strlen(in), 0, &m, &e) == 0);
	CHECK(m.need_catalog == 1 && m.text == NULL);
	CHECK(msg_set_catalog(&m, "12a") == -1);
	CHECK(msg_set_catalog(&m, "") == -1);
	CHECK(msg_set_catalog(&m, "77") == 0);
	CHECK(m.need_catalog == 0 && strcmp(m.body, OUT "\"type\":"
	    "\"interactive\",\"interactive\":{\"type\":\"product\",\"action\":"
	    "{\"product_retailer_id\":\"SKU-1\",\"catalog_id\":\"77\"}}}") == 0);
	/* Once set it stays: a second catalog does not replace it. */
	CHECK(msg_set_catalog(&m, "88") == -1);
	CHECK(strstr(m.body, "\"77\"") != NULL);
	msg_clear(&m);
	in = fill(IACT "$$}", inner);
	CHECK(msg_parse(in, strlen(in), 0, &m, &e) == 0);
	CHECK(m.need_catalog == 0);
	CHECK(msg_set_catalog(&m, "88") == -1);
	msg_clear(&m);
	CHECK(no(IACT "{\"type\":\"product\",\"action\":{\"catalog_id\":\"1\"}}}",
	    0, "required", "interactive.action.product_retailer_id"));
	CHECK(no(IACT "{\"type\":\"product\",\"action\":{\"catalog_id\":\"c1\","
	    "\"product_retailer_id\":\"S\"}}}", 0, "invalid",
	    "interactive.action.catalog_id"));
	CHECK(no(fill(IACT "{\"type\":\"product\",\"action\":{\"catalog_id\":"
	    "\"$$\",\"product_retailer_id\":\"S\"}}}", rep("1", 33)), 0,
	    "too_long", "interactive.action.catalog_id"));
	CHECK(no(fill(IACT "{\"type\":\"product\",\"action\":{"
	    "\"product_retailer_id\":\"$$\"}}}", rep("s", 101)), 0, "too_long",
	    "interactive.action.product_retailer_id"));
	CHECK(no(IACT "{\"type\":\"product\",\"header\":{\"type\":\"text\","
	    "\"text\":\"h\"},\"action\":{\"product_retailer_id\":\"S\"}}}", 0,
	    "unknown_field", "interactive.header"));
	CHECK(no(IACT "{\"type\":\"product\",\"action\":{\"product_retailer_id\":"
	    "\"S\",\"sections\":[]}}}", 0, "unknown_field",
	    "interactive.action.sections"));
	/* Only product bodies take a catalog. */
	in = PRE "\"text\":{\"body\":\"x\"}}";
	CHECK(msg_parse(in, strlen(in), 0, &m, &e) == 0);
	CHECK(m.need_catalog == 0 && msg_set_catalog(&m, "77") == -1);
	msg_clear(&m);
	gc();
}

#define PLIST(s) IACT "{\"type\":\"product_list\",\"header\":{\"type\":" \
		"\"text\",\"text\":\"Tables\"},\"body\":{\"text\":\"Pick one\"}," \
		"\"action\":{\"catalog_id\":\"9\",\"sections\":[" s "]}}}"
#define PITEM	"{\"product_retailer_id\":\"SKU-#\"}"

TEST(interactive_product_list)
{
	const char	*inner = "{\"type\":\"product_list\",\"header\":{"
	    "\"type\":\"text\",\"text\":\"Tables\"},\"body\":{\"text\":"
	    "\"Pick one\"},\"footer\":{\"text\":\"f\"},\"action\":{"
	    "\"catalog_id\":\"300400500600700\",\"sections\":[{\"title\":"
	    "\"Oak\",\"product_items\":[{\"product_retailer_id\":\"SKU-1\"},"
	    "{\"product_retailer_id\":\"SKU-2\"}]},{\"title\":\"Pine\","
	    "\"product_items\":[{\"product_retailer_id\":\"SKU-3\"}]}]}}";
	struct msg	m;
	struct msg_err	e;
	const char	*in;
	char		*sec;

	CHECK(ok(fill(IACT "$$}", inner), 0,
	    fill(OUT "\"type\":\"interactive\",\"interactive\":$$}", inner)));
	/* 30 items in all is the limit, in one section or across ten. */
	CHECK(ok(fill(PLIST("{\"title\":\"A\",\"product_items\":[$$]}"),
	    join(PITEM, ",", 30)), 0, NULL));
	sec = fill("{\"title\":\"S\",\"product_items\":[$$]}",
	    join(PITEM, ",", 3));
	CHECK(ok(fill(PLIST("$$"), join(sec, ",", 10)), 0, NULL));
	CHECK(no(fill(PLIST("{\"title\":\"A\",\"product_items\":[$$]}"),
	    join(PITEM, ",", 31)), 0, "too_many",
	    "interactive.action.sections[0].product_items"));
	CHECK(no(fill(PLIST("{\"title\":\"A\",\"product_items\":[$$]},"
	    "{\"title\":\"B\",\"product_items\":[" PITEM "]}"),
	    join(PITEM, ",", 30)), 0, "too_many",
	    "interactive.action.sections[1].product_items[0]"));
	CHECK(no(fill(PLIST("$$"), join(sec, ",", 11)), 0, "too_many",
	    "interactive.action.sections"));
	CHECK(no(PLIST(""), 0, "too_few", "interactive.action.sections"));
	CHECK(no(PLIST("{\"title\":\"A\",\"product_items\":[]}"), 0,
	    "too_few", "interactive.action.sections[0].product_items"));
	CHECK(no(PLIST("{\"product_items\":[" PITEM "]}"), 0, "required",
	    "interactive.action.sections[0].title"));
	CHECK(no(fill(PLIST("{\"title\":\"$$\",\"product_items\":[" PITEM "]}"),
	    rep("t", 25)), 0, "too_long",
	    "interactive.action.sections[0].title"));
	CHECK(no(PLIST("{\"title\":\"A\",\"product_items\":[{\"id\":\"1\"}]}"),
	    0, "unknown_field",
	    "interactive.action.sections[0].product_items[0].id"));
	CHECK(no(PLIST("{\"title\":\"A\",\"product_items\":[\"SKU\"]}"), 0,
	    "bad_type", "interactive.action.sections[0].product_items[0]"));
	CHECK(no(PLIST("{\"title\":\"A\",\"rows\":[]}"), 0, "unknown_field",
	    "interactive.action.sections[0].rows"));
	/* Header: required, and text only; body required. */
	CHECK(no(IACT "{\"type\":\"product_list\",\"body\":{\"text\":\"b\"},"
	    "\"action\":{\"sections\":[{\"title\":\"A\",\"product_items\":["
	    "{\"product_retailer_id\":\"S\"}]}]}}}", 0, "required",
	    "interactive.header"));
	CHECK(no(IACT "{\"type\":\"product_list\",\"header\":{\"type\":"
	    "\"image\",\"image\":{\"id\":\"1\"}},\"body\":{\"text\":\"b\"},"
	    "\"action\":{\"sections\":[{\"title\":\"A\",\"product_items\":["
	    "{\"product_retailer_id\":\"S\"}]}]}}}", 0, "invalid",
	    "interactive.header.type"));
	CHECK(no(IACT "{\"type\":\"product_list\",\"header\":{\"type\":"
	    "\"text\",\"text\":\"h\"},\"action\":{\"sections\":[{\"title\":"
	    "\"A\",\"product_items\":[{\"product_retailer_id\":\"S\"}]}]}}}", 0,
	    "required", "interactive.body"));
	/* Without catalog_id: the number's, set later. */
	in = IACT "{\"type\":\"product_list\",\"header\":{\"type\":\"text\","
	    "\"text\":\"h\"},\"body\":{\"text\":\"b\"},\"action\":{\"sections\":"
	    "[{\"title\":\"A\",\"product_items\":[{\"product_retailer_id\":"
	    "\"S\"}]}]}}}";
	CHECK(msg_parse(in, strlen(in), 0, &m, &e) == 0);
	CHECK(m.need_catalog == 1);
	CHECK(msg_set_catalog(&m, "5") == 0);
	CHECK(strstr(m.body, "\"catalog_id\":\"5\"") != NULL);
	msg_clear(&m);
	gc();
}

TEST(interactive_catalog_message)
{
	const char	*inner = "{\"type\":\"catalog_message\",\"body\":{"
	    "\"text\":\"See our range\"},\"footer\":{\"text\":\"f\"},"
	    "\"action\":{\"name\":\"catalog_message\",\"parameters\":{"
	    "\"thumbnail_product_retailer_id\":\"SKU-1\"}}}";
	struct msg	m;
	struct msg_err	e;
	const char	*in;

	CHECK(ok(fill(IACT "$$}", inner), 0,
	    fill(OUT "\"type\":\"interactive\",\"interactive\":$$}", inner)));
	in = IACT "{\"type\":\"catalog_message\",\"body\":{\"text\":\"b\"},"
	    "\"action\":{\"name\":\"catalog_message\"}}}";
	CHECK(msg_parse(in, strlen(in), 0, &m, &e) == 0);
	/* The catalog of the number is Meta's business: nothing to fill. */
	CHECK(m.need_catalog == 0);
	msg_clear(&m);
	CHECK(no(IACT "{\"type\":\"catalog_message\",\"action\":{\"name\":"
	    "\"catalog_message\"}}}", 0, "required", "interactive.body"));
	CHECK(no(IACT "{\"type\":\"catalog_message\",\"body\":{\"text\":\"b\"},"
	    "\"action\":{\"name\":\"catalog\"}}}", 0, "invalid",
	    "interactive.action.name"));
	CHECK(no(IACT "{\"type\":\"catalog_message\",\"body\":{\"text\":\"b\"},"
	    "\"action\":{\"name\":\"catalog_message\",\"catalog_id\":\"1\"}}}",
	    0, "unknown_field", "interactive.action.catalog_id"));
	CHECK(no(IACT "{\"type\":\"catalog_message\",\"body\":{\"text\":\"b\"},"
	    "\"action\":{\"name\":\"catalog_message\",\"parameters\":{"
	    "\"thumbnail\":\"S\"}}}}", 0, "unknown_field",
	    "interactive.action.parameters.thumbnail"));
	CHECK(no(IACT "{\"type\":\"catalog_message\",\"header\":{\"type\":"
	    "\"text\",\"text\":\"h\"},\"body\":{\"text\":\"b\"},\"action\":{"
	    "\"name\":\"catalog_message\"}}}", 0, "unknown_field",
	    "interactive.header"));
	CHECK(no(fill(IACT "{\"type\":\"catalog_message\",\"body\":{\"text\":"
	    "\"$$\"},\"action\":{\"name\":\"catalog_message\"}}}",
	    rep("b", 1025)), 0, "too_long", "interactive.body.text"));
	gc();
}

#define TPL	PRE "\"type\":\"template\",\"template\":{\"name\":\"t\"," \
		"\"language\":{\"code\":\"en\"},"
#define BODYP(p) "{\"type\":\"body\",\"parameters\":[" p "]}"
#define TEXTP(t) "{\"type\":\"text\",\"text\":\"" t "\"}"

TEST(template)
{
	struct msg	m;
	struct msg_err	e;
	const char	*inner = "{\"name\":\"order_update\",\"language\":{"
	    "\"code\":\"en_US\",\"policy\":\"deterministic\"},\"components\":["
	    "{\"type\":\"header\",\"parameters\":[{\"type\":\"image\","
	    "\"image\":{\"id\":\"1234\"}}]},"
	    "{\"type\":\"body\",\"parameters\":[{\"type\":\"text\",\"text\":"
	    "\"Alice\"},{\"type\":\"currency\",\"currency\":{\"fallback_value\":"
	    "\"$10.50\",\"code\":\"USD\",\"amount_1000\":10500}},{\"type\":"
	    "\"date_time\",\"date_time\":{\"fallback_value\":\"1 Jan 2026\"}}]},"
	    "{\"type\":\"button\",\"sub_type\":\"quick_reply\",\"index\":\"0\","
	    "\"parameters\":[{\"type\":\"payload\",\"payload\":\"TRACK_A-1042\"}]},"
	    "{\"type\":\"button\",\"sub_type\":\"url\",\"index\":\"1\","
	    "\"parameters\":[{\"type\":\"text\",\"text\":\"A-1042\"}]},"
	    "{\"type\":\"button\",\"sub_type\":\"copy_code\",\"index\":\"2\","
	    "\"parameters\":[{\"type\":\"coupon_code\",\"coupon_code\":"
	    "\"SAVE10\"}]},"
	    "{\"type\":\"button\",\"sub_type\":\"flow\",\"index\":\"3\","
	    "\"parameters\":[{\"type\":\"action\",\"action\":{\"flow_token\":"
	    "\"tok\",\"flow_action_data\":{\"k\":[1,2.5,{\"x\":null}]}}}]}]}";
	char		*in = fill(PRE "\"type\":\"template\",\"template\":$$}",
	    inner);

	CHECK(msg_parse(in, strlen(in), 0, &m, &e) == 0);
	CHECK(m.body != NULL && strcmp(m.body, fill(OUT "\"type\":\"template\","
	    "\"template\":$$}", inner)) == 0);
	/* Templates may go outside the 24-hour window (reference 9.4). */
	CHECK(m.kind == MSG_TEMPLATE && m.free_form == 0 && m.text != NULL &&
	    strcmp(m.text, "order_update") == 0);
	msg_clear(&m);
	/* No components; named parameters; header location; footer. */
	CHECK(ok(TPL "\"components\":[]}}", 0, OUT "\"type\":\"template\","
	    "\"template\":{\"name\":\"t\",\"language\":{\"code\":\"en\"},"
	    "\"components\":[]}}"));
	CHECK(ok(PRE "\"type\":\"template\",\"template\":{\"name\":\"hello\","
	    "\"language\":{\"code\":\"pt_BR\"}}}", 0, OUT "\"type\":\"template\","
	    "\"template\":{\"name\":\"hello\",\"language\":{\"code\":\"pt_BR\"}}}"));
	CHECK(ok(TPL "\"components\":[{\"type\":\"header\",\"parameters\":[{"
	    "\"type\":\"location\",\"location\":{\"latitude\":1.5,\"longitude\":"
	    "2}}]}," BODYP("{\"type\":\"text\",\"parameter_name\":\"first_name\","
	    "\"text\":\"Al\"}") ",{\"type\":\"footer\"}]}}", 0, NULL));
	/* Name and language. */
	CHECK(no(PRE "\"type\":\"template\",\"template\":{\"name\":\"Order\","
	    "\"language\":{\"code\":\"en\"}}}", 0, "invalid", "template.name"));
	CHECK(no(PRE "\"type\":\"template\",\"template\":{\"name\":\"\","
	    "\"language\":{\"code\":\"en\"}}}", 0, "empty", "template.name"));
	CHECK(no(PRE "\"type\":\"template\",\"template\":{\"name\":\"t\"}}", 0,
	    "required", "template.language"));
	CHECK(no(PRE "\"type\":\"template\",\"template\":{\"language\":{"
	    "\"code\":\"en\"}}}", 0, "required", "template.name"));
	CHECK(ok(PRE "\"type\":\"template\",\"template\":{\"name\":\"t\","
	    "\"language\":{\"code\":\"es_419\"}}}", 0, NULL));
	CHECK(ok(PRE "\"type\":\"template\",\"template\":{\"name\":\"t\","
	    "\"language\":{\"code\":\"fil\"}}}", 0, NULL));
	CHECK(no(PRE "\"type\":\"template\",\"template\":{\"name\":\"t\","
	    "\"language\":{\"code\":\"EN\"}}}", 0, "invalid",
	    "template.language.code"));
	CHECK(no(PRE "\"type\":\"template\",\"template\":{\"name\":\"t\","
	    "\"language\":{\"code\":\"en_U\"}}}", 0, "invalid",
	    "template.language.code"));
	CHECK(no(PRE "\"type\":\"template\",\"template\":{\"name\":\"t\","
	    "\"language\":{\"code\":\"en_USABC\"}}}", 0, "invalid",
	    "template.language.code"));
	CHECK(no(PRE "\"type\":\"template\",\"template\":{\"name\":\"t\","
	    "\"language\":{\"code\":\"en-US\"}}}", 0, "invalid",
	    "template.language.code"));
	CHECK(no(PRE "\"type\":\"template\",\"template\":{\"name\":\"t\","
	    "\"language\":\"en\"}}", 0, "bad_type", "template.language"));
	CHECK(no(PRE "\"type\":\"template\",\"template\":{\"name\":\"t\","
	    "\"language\":{\"code\":\"en\",\"policy\":\"fallback\"}}}", 0,
	    "invalid", "template.language.policy"));
	/* Components and parameters. */
	CHECK(no(TPL "\"components\":[{\"type\":\"header\",\"parameters\":[{"
	    "\"type\":\"currency\",\"currency\":{}}]}]}}", 0, "invalid",
	    "template.components[0].parameters[0].type"));
	CHECK(no(TPL "\"components\":[" BODYP(TEXTP("a")) "," BODYP(TEXTP("b"))
	    "]}}", 0, "duplicate", "template.components[1].type"));
	CHECK(no(TPL "\"components\":[{\"type\":\"header\",\"parameters\":["
	    TEXTP("a") "," TEXTP("b") "]}]}}", 0, "too_many",
	    "template.components[0].parameters"));
	CHECK(no(TPL "\"components\":[{\"type\":\"body\"}]}}", 0, "required",
	    "template.components[0].parameters"));
	CHECK(no(TPL "\"components\":[{\"type\":\"sidebar\"}]}}", 0, "invalid",
	    "template.components[0].type"));
	CHECK(no(TPL "\"components\":[" BODYP("{\"type\":\"text\",\"txt\":\"a\"}")
	    "]}}", 0, "unknown_field",
	    "template.components[0].parameters[0].txt"));
	CHECK(no(TPL "\"components\":[" BODYP("{\"type\":\"text\",\"text\":\"a\","
	    "\"parameter_name\":\"First Name\"}") "]}}", 0, "invalid",
	    "template.components[0].parameters[0].parameter_name"));
	CHECK(no(TPL "\"components\":[" BODYP("{\"type\":\"text\",\"text\":\"\"}")
	    "]}}", 0, "empty", "template.components[0].parameters[0].text"));
	CHECK(no(TPL "\"components\":[" BODYP("{\"type\":\"currency\","
	    "\"currency\":{\"fallback_value\":\"$1\",\"code\":\"USD\","
	    "\"amount_1000\":1.5}}") "]}}", 0, "bad_type",
	    "template.components[0].parameters[0].currency.amount_1000"));
	CHECK(no(TPL "\"components\":[" BODYP("{\"type\":\"currency\","
	    "\"currency\":{\"fallback_value\":\"$1\",\"code\":\"usd\","
	    "\"amount_1000\":1}}") "]}}", 0, "invalid",
	    "template.components[0].parameters[0].currency.code"));
	CHECK(no(TPL "\"components\":[" BODYP("{\"type\":\"date_time\","
	    "\"date_time\":{\"fallback_value\":\"x\",\"year\":2026}}") "]}}", 0,
	    "unknown_field",
	    "template.components[0].parameters[0].date_time.year"));
	CHECK(no(TPL "\"components\":[{\"type\":\"header\",\"parameters\":[{"
	    "\"type\":\"image\",\"image\":{\"link\":\"http://x.example/a.png\"}}"
	    "]}]}}", 0, "not_https",
	    "template.components[0].parameters[0].image.link"));
	CHECK(ok(TPL "\"components\":[{\"type\":\"header\",\"parameters\":[{"
	    "\"type\":\"video\",\"video\":{\"link\":\"https://x.example/v\"}}"
	    "]}]}}", 0, NULL));
	CHECK(ok(TPL "\"components\":[{\"type\":\"header\",\"parameters\":[{"
	    "\"type\":\"document\",\"document\":{\"id\":\"5\",\"filename\":"
	    "\"a.pdf\"}}]}]}}", 0, NULL));
	CHECK(no(TPL "\"components\":[" BODYP("{\"type\":\"currency\","
	    "\"currency\":{\"fallback_value\":\"$1\",\"code\":\"USD\"}}")
	    "]}}", 0, "required",
	    "template.components[0].parameters[0].currency.amount_1000"));
	/* Buttons: sub_type, index a string "0".."9", unique. */
	CHECK(no(TPL "\"components\":[{\"type\":\"button\",\"sub_type\":"
	    "\"quick_reply\",\"index\":0,\"parameters\":[{\"type\":\"payload\","
	    "\"payload\":\"p\"}]}]}}", 0, "bad_type",
	    "template.components[0].index"));
	CHECK(no(TPL "\"components\":[{\"type\":\"button\",\"sub_type\":"
	    "\"quick_reply\",\"index\":\"10\",\"parameters\":[{\"type\":"
	    "\"payload\",\"payload\":\"p\"}]}]}}", 0, "invalid",
	    "template.components[0].index"));
	CHECK(no(TPL "\"components\":[{\"type\":\"button\",\"sub_type\":"
	    "\"quick_reply\",\"parameters\":[{\"type\":\"payload\",\"payload\":"
	    "\"p\"}]}]}}", 0, "required", "template.components[0].index"));
	CHECK(no(TPL "\"components\":[{\"type\":\"button\",\"sub_type\":"
	    "\"quick_reply\",\"index\":\"0\",\"parameters\":[{\"type\":"
	    "\"payload\",\"payload\":\"p\"}]},{\"type\":\"button\",\"sub_type\":"
	    "\"url\",\"index\":\"0\",\"parameters\":[" TEXTP("x") "]}]}}", 0,
	    "duplicate", "template.components[1].index"));
	CHECK(no(TPL "\"components\":[{\"type\":\"button\",\"sub_type\":"
	    "\"call\",\"index\":\"0\",\"parameters\":[" TEXTP("x") "]}]}}", 0,
	    "invalid", "template.components[0].sub_type"));
	CHECK(no(TPL "\"components\":[{\"type\":\"button\",\"index\":\"0\","
	    "\"parameters\":[" TEXTP("x") "]}]}}", 0, "required",
	    "template.components[0].sub_type"));
	CHECK(no(TPL "\"components\":[{\"type\":\"button\",\"sub_type\":"
	    "\"quick_reply\",\"index\":\"0\",\"parameters\":[" TEXTP("x")
	    "]}]}}", 0, "invalid", "template.components[0].parameters[0].type"));
	CHECK(no(TPL "\"components\":[{\"type\":\"button\",\"sub_type\":"
	    "\"url\",\"index\":\"0\",\"parameters\":[" TEXTP("x") ","
	    TEXTP("y") "]}]}}", 0, "too_many",
	    "template.components[0].parameters"));
	CHECK(no(TPL "\"components\":[{\"type\":\"button\",\"sub_type\":"
	    "\"flow\",\"index\":\"0\",\"parameters\":[{\"type\":\"action\","
	    "\"action\":{\"flow_action_data\":[]}}]}]}}", 0, "bad_type",
	    "template.components[0].parameters[0].action.flow_action_data"));
	gc();
}

TEST(read_receipt)
{
	struct msg	m;
	struct msg_err	e;
	const char	*in = "{\"type\":\"read\",\"message_id\":\"wamid.IN1\","
	    "\"typing_indicator\":true}";

	CHECK(msg_parse(in, strlen(in), 0, &m, &e) == 0);
	CHECK(m.body != NULL && strcmp(m.body, "{\"messaging_product\":"
	    "\"whatsapp\",\"status\":\"read\",\"message_id\":\"wamid.IN1\","
	    "\"typing_indicator\":{\"type\":\"text\"}}") == 0);
	CHECK(m.kind == MSG_READ && m.free_form == 0 && m.to[0] == '\0' &&
	    strcmp(m.reply_to, "wamid.IN1") == 0 && m.text == NULL);
	msg_clear(&m);
	in = "{\"messaging_product\":\"whatsapp\",\"to\":\"+15550002222\","
	    "\"type\":\"read\",\"message_id\":\"wamid.IN1\"}";
	CHECK(msg_parse(in, strlen(in), 0, &m, &e) == 0);
	CHECK(m.body != NULL && strcmp(m.body, "{\"messaging_product\":"
	    "\"whatsapp\",\"status\":\"read\",\"message_id\":\"wamid.IN1\"}") == 0);
	CHECK(strcmp(m.to, "15550002222") == 0);
	msg_clear(&m);
	CHECK(ok("{\"type\":\"read\",\"message_id\":\"wamid.IN1\","
	    "\"typing_indicator\":false}", 0, "{\"messaging_product\":"
	    "\"whatsapp\",\"status\":\"read\",\"message_id\":\"wamid.IN1\"}"));
	CHECK(no("{\"type\":\"read\"}", 0, "required", "message_id"));
	CHECK(no("{\"type\":\"read\",\"message_id\":\"wamid.IN1\","
	    "\"typing_indicator\":\"yes\"}", 0, "bad_type", "typing_indicator"));
	CHECK(no("{\"type\":\"read\",\"message_id\":\"wamid.IN1\",\"context\":"
	    "{\"message_id\":\"wamid.X\"}}", 0, "unknown_field", "context"));
	CHECK(no("{\"type\":\"read\",\"message_id\":\"wamid.IN1\","
	    "\"recipient_type\":\"individual\"}", 0, "unknown_field",
	    "recipient_type"));
	CHECK(no("{\"type\":\"read\",\"message_id\":\"wamid.IN1\",\"to\":\"1\"}",
	    0, "invalid", "to"));
	CHECK(no("{\"type\":\"read\",\"message_id\":\"wamid IN1\"}", 0,
	    "invalid", "message_id"));
	gc();
}

TEST(recipients)
{
	static const char *const good[][2] = {
		{ "123456", "123456" },
		{ "+123456", "123456" },
		{ "12345678901234567890", "12345678901234567890" },
		{ "+12345678901234567890", "12345678901234567890" },
		{ "BR.1", "BR.1" },
		{ "US.abcDEF012345678901234567890123456789012A",
		  "US.abcDEF012345678901234567890123456789012A" },
	};
	static const char *const bad[] = {
		"12345", "+12345", "123456789012345678901", "+1 5550002222",
		"1-555-000-2222", "++15550002222", "+", "15550002222 ",
		"us.123", "US.", "U.123", "USA.123", "US-123", "+US.123",
		"US.1234567890123456789012345678901234567890X", "US.12_3",
	};
	struct msg	m;
	struct msg_err	e;
	char		*in;
	size_t		 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		in = fill("{\"to\":\"$$\",\"text\":{\"body\":\"x\"}}", good[i][0]);
		CHECK(msg_parse(in, strlen(in), 0, &m, &e) == 0);
		CHECK(strcmp(m.to, good[i][1]) == 0);
		CHECK(m.body != NULL && strstr(m.body, fill("\"to\":\"$$\"",
		    good[i][1])) != NULL);
		msg_clear(&m);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(no(fill("{\"to\":\"$$\",\"text\":{\"body\":\"x\"}}", bad[i]),
		    0, "invalid", "to"));
	CHECK(no("{\"text\":{\"body\":\"x\"}}", 0, "required", "to"));
	CHECK(no("{\"to\":\"\",\"text\":{\"body\":\"x\"}}", 0, "empty", "to"));
	CHECK(no("{\"to\":15550002222,\"text\":{\"body\":\"x\"}}", 0,
	    "bad_type", "to"));
	gc();
}

TEST(common_fields)
{
	CHECK(no(PRE "\"type\":\"text\",\"text\":{\"bdy\":\"x\"}}", 0,
	    "unknown_field", "text.bdy"));
	CHECK(no(PRE "\"type\":\"text\",\"text\":{\"body\":\"x\"},\"foo\":1}", 0,
	    "unknown_field", "foo"));
	CHECK(no(PRE "\"type\":\"text\",\"text\":{\"body\":\"x\"},\"image\":{}}",
	    0, "unknown_field", "image"));
	CHECK(no(PRE "\"type\":\"text\",\"text\":{\"body\":\"x\"},"
	    "\"biz_opaque_callback_data\":\"x\"}", 0, "unknown_field",
	    "biz_opaque_callback_data"));
	CHECK(no(PRE "\"type\":\"text\",\"text\":{\"body\":\"x\"},"
	    "\"messaging_product\":\"sms\"}", 0, "invalid", "messaging_product"));
	CHECK(no(PRE "\"type\":\"text\",\"text\":{\"body\":\"x\"},"
	    "\"recipient_type\":\"group\"}", 0, "invalid", "recipient_type"));
	CHECK(no(PRE "\"type\":\"order\",\"order\":{}}", 0, "invalid", "type"));
	CHECK(no(PRE "\"type\":5,\"text\":{\"body\":\"x\"}}", 0, "bad_type",
	    "type"));
	CHECK(no(PRE "\"image\":{\"id\":\"1\"}}", 0, "required", "type"));
	CHECK(no(PRE "\"type\":\"text\",\"text\":\"hello\"}", 0, "bad_type",
	    "text"));
	CHECK(no(PRE "\"type\":\"text\",\"text\":{}}", 0, "required",
	    "text.body"));
	CHECK(no(PRE "\"type\":\"text\",\"text\":{\"body\":\"x\","
	    "\"preview_url\":\"yes\"}}", 0, "bad_type", "text.preview_url"));
	/* Blank and NUL texts. */
	CHECK(no(PRE "\"type\":\"text\",\"text\":{\"body\":\" \\t\\r\\n\"}}", 0,
	    "empty", "text.body"));
	CHECK(no(PRE "\"type\":\"text\",\"text\":{\"body\":"
	    "\"\\u00a0\\u200b\\u3000\\ufeff\"}}", 0, "empty", "text.body"));
	CHECK(no(PRE "\"type\":\"text\",\"text\":{\"body\":\"\"}}", 0, "empty",
	    "text.body"));
	CHECK(no(PRE "\"type\":\"text\",\"text\":{\"body\":\"a\\u0000b\"}}", 0,
	    "invalid", "text.body"));
	CHECK(no(PRE "\"type\":\"contacts\",\"contacts\":[{\"name\":{"
	    "\"formatted_name\":\"A\",\"prefix\":\"\\u0000\"}}]}", 0, "invalid",
	    "contacts[0].name.prefix"));
	/* context.message_id: a wamid. */
	CHECK(no(PRE "\"type\":\"text\",\"text\":{\"body\":\"x\"},\"context\":"
	    "{\"message_id\":\"wamid.A\",\"from\":\"1\"}}", 0, "unknown_field",
	    "context.from"));
	CHECK(no(PRE "\"type\":\"text\",\"text\":{\"body\":\"x\"},\"context\":"
	    "{}}", 0, "required", "context.message_id"));
	CHECK(no(PRE "\"type\":\"text\",\"text\":{\"body\":\"x\"},\"context\":"
	    "{\"message_id\":\"wamid.\\u00e9\"}}", 0, "invalid",
	    "context.message_id"));
	CHECK(no(PRE "\"type\":\"text\",\"text\":{\"body\":\"x\"},\"context\":"
	    "\"wamid.A\"}", 0, "bad_type", "context"));
	gc();
}

TEST(broken_input)
{
	static const char *const notjson[] = {
		"", "{", "nope", "{}x", "{\"to\":}", "{'to':1}", "\xff",
	};
	static const char *const notobj[] = {
		"[]", "\"x\"", "42", "null", "true", "[{\"to\":\"1\"}]",
	};
	char	*big, *deep;
	size_t	 i, n;

	for (i = 0; i < sizeof(notjson) / sizeof(notjson[0]); i++)
		CHECK(no(notjson[i], 0, "bad_json", ""));
	for (i = 0; i < sizeof(notobj) / sizeof(notobj[0]); i++)
		CHECK(no(notobj[i], 0, "bad_type", ""));
	CHECK(no_len(NULL, 0, 0, "bad_json", ""));
	/* A NUL byte in the raw body ends it early: trailing garbage. */
	CHECK(no_len("{}\0{}", 5, 0, "bad_json", ""));
	CHECK(no(PRE "\"to\":\"15550003333\",\"text\":{\"body\":\"x\"}}", 0,
	    "duplicate", ""));
	CHECK(no(PRE "\"type\":\"text\",\"text\":{\"body\":\"x\",\"body\":\"y\"}}",
	    0, "duplicate", ""));
	/* 64 KiB exactly is taken (padding outside strings), one more not. */
	n = 64 * 1024 - strlen(PRE "\"text\":{\"body\":\"x\"}}");
	big = fill(PRE "\"text\":{\"body\":\"x\"}$$}", rep(" ", n));
	CHECK(strlen(big) == 64 * 1024);
	CHECK(ok(big, 0, OUT "\"type\":\"text\",\"text\":{\"body\":\"x\"}}"));
	big = fill(PRE "\"text\":{\"body\":\"x\"}$$}", rep(" ", n + 1));
	CHECK(no(big, 0, "too_large", ""));
	/* Nesting: 16 levels pass, 17 do not (flow_action_data is free). */
	deep = fill(fill(TPL "\"components\":[{\"type\":\"button\",\"sub_type\":"
	    "\"flow\",\"index\":\"0\",\"parameters\":[{\"type\":\"action\","
	    "\"action\":{\"flow_action_data\":{\"a\":$$$$}}}]}]}}",
	    rep("[", 8)), rep("]", 8));
	CHECK(ok(deep, 0, NULL));
	deep = fill(fill(TPL "\"components\":[{\"type\":\"button\",\"sub_type\":"
	    "\"flow\",\"index\":\"0\",\"parameters\":[{\"type\":\"action\","
	    "\"action\":{\"flow_action_data\":{\"a\":$$$$}}}]}]}}",
	    rep("[", 9)), rep("]", 9));
	CHECK(no(deep, 0, "too_deep", "template.components[0].parameters[0]."
	    "action.flow_action_data.a[0][0][0][0][0][0][0][0]"));
	/* A path longer than the field is cut, not overrun. */
	deep = fill(TPL "\"components\":[{\"type\":\"button\",\"sub_type\":"
	    "\"flow\",\"index\":\"0\",\"parameters\":[{\"type\":\"action\","
	    "\"action\":{\"flow_action_data\":{\"$$\":\"\\u0000\"}}}]}]}}",
	    rep("k", 300));
	big = keep(malloc(128));
	memcpy(big, fill("template.components[0].parameters[0].action."
	    "flow_action_data.$$", rep("k", 100)), 127);
	big[127] = '\0';
	CHECK(no(deep, 0, "invalid", big));
	gc();
}

/* Every length limit: max units accepted, max + 1 refused too_long. */
TEST(length_limits)
{
	static const struct {
		const char	*tmpl;	/* "$$" marks the value */
		const char	*unit;	/* one code point */
		size_t		 max;
		const char	*field;
	} lims[] = {
		{ PRE "\"type\":\"text\",\"text\":{\"body\":\"$$\"}}", "\xc3\xa9",
		  4096, "text.body" },
		{ PRE "\"type\":\"image\",\"image\":{\"id\":\"1\",\"caption\":"
		  "\"$$\"}}", "\xc3\xa9", 1024, "image.caption" },
		{ PRE "\"type\":\"video\",\"video\":{\"id\":\"1\",\"caption\":"
		  "\"$$\"}}", "\xc3\xa9", 1024, "video.caption" },
		{ PRE "\"type\":\"document\",\"document\":{\"id\":\"1\","
		  "\"caption\":\"$$\"}}", "\xc3\xa9", 1024, "document.caption" },
		{ IBTN "\"header\":{\"type\":\"text\",\"text\":\"$$\"},\"body\":{"
		  "\"text\":\"b\"},\"action\":{\"buttons\":[" BTN("a", "A") "]}}}",
		  "\xc3\xa9", 60, "interactive.header.text" },
		{ IBTN "\"body\":{\"text\":\"$$\"},\"action\":{\"buttons\":["
		  BTN("a", "A") "]}}}", "\xc3\xa9", 1024, "interactive.body.text" },
		{ IBTN "\"body\":{\"text\":\"b\"},\"footer\":{\"text\":\"$$\"},"
		  "\"action\":{\"buttons\":[" BTN("a", "A") "]}}}", "\xc3\xa9", 60,
		  "interactive.footer.text" },
		{ IBTN "\"body\":{\"text\":\"b\"},\"action\":{\"buttons\":["
		  BTN("a", "A") "," BTN("$$", "B") "]}}}", "\xc3\xa9", 256,
		  "interactive.action.buttons[1].reply.id" },
		{ IBTN "\"body\":{\"text\":\"b\"},\"action\":{\"buttons\":["
		  BTN("a", "A") "," BTN("b", "$$") "]}}}", "\xc3\xa9", 20,
		  "interactive.action.buttons[1].reply.title" },
		{ ILIST "\"header\":{\"type\":\"text\",\"text\":\"$$\"},\"action\":"
		  "{\"button\":\"O\",\"sections\":[{\"rows\":[" ROW("a") "]}]}}}",
		  "\xc3\xa9", 60, "interactive.header.text" },
		{ PRE "\"type\":\"interactive\",\"interactive\":{\"type\":\"list\","
		  "\"body\":{\"text\":\"$$\"},\"action\":{\"button\":\"O\","
		  "\"sections\":[{\"rows\":[" ROW("a") "]}]}}}", "\xc3\xa9", 4096,
		  "interactive.body.text" },
		{ ILIST "\"action\":{\"button\":\"$$\",\"sections\":[{\"rows\":["
		  ROW("a") "]}]}}}", "\xc3\xa9", 20, "interactive.action.button" },
		{ ILIST "\"action\":{\"button\":\"O\",\"sections\":[{\"title\":"
		  "\"$$\",\"rows\":[" ROW("a") "]}]}}}", "\xc3\xa9", 24,
		  "interactive.action.sections[0].title" },
		{ ILIST "\"action\":{\"button\":\"O\",\"sections\":[{\"rows\":["
		  "{\"id\":\"$$\",\"title\":\"t\"}]}]}}}", "\xc3\xa9", 200,
		  "interactive.action.sections[0].rows[0].id" },
		{ ILIST "\"action\":{\"button\":\"O\",\"sections\":[{\"rows\":["
		  "{\"id\":\"i\",\"title\":\"$$\"}]}]}}}", "\xc3\xa9", 24,
		  "interactive.action.sections[0].rows[0].title" },
		{ ILIST "\"action\":{\"button\":\"O\",\"sections\":[{\"rows\":["
		  "{\"id\":\"i\",\"title\":\"t\",\"description\":\"$$\"}]}]}}}",
		  "\xc3\xa9", 72,
		  "interactive.action.sections[0].rows[0].description" },
		{ PRE "\"type\":\"interactive\",\"interactive\":{\"type\":"
		  "\"cta_url\",\"body\":{\"text\":\"$$\"},\"action\":{\"name\":"
		  "\"cta_url\",\"parameters\":{\"display_text\":\"O\",\"url\":"
		  "\"https://x.example\"}}}}", "\xc3\xa9", 1024,
		  "interactive.body.text" },
		{ PRE "\"type\":\"interactive\",\"interactive\":{\"type\":"
		  "\"cta_url\",\"body\":{\"text\":\"b\"},\"action\":{\"name\":"
		  "\"cta_url\",\"parameters\":{\"display_text\":\"$$\",\"url\":"
		  "\"https://x.example\"}}}}", "\xc3\xa9", 20,
		  "interactive.action.parameters.display_text" },
		{ PRE "\"type\":\"template\",\"template\":{\"name\":\"$$\","
		  "\"language\":{\"code\":\"en\"}}}", "a", 512, "template.name" },
		{ TPL "\"components\":[{\"type\":\"header\",\"parameters\":["
		  TEXTP("$$") "]}]}}", "\xc3\xa9", 60,
		  "template.components[0].parameters[0].text" },
		{ TPL "\"components\":[{\"type\":\"header\",\"parameters\":["
		  TEXTP("h") "]}," BODYP(TEXTP("$$")) "]}}", "\xc3\xa9", 1024,
		  "template.components[1].parameters[0].text" },
		{ TPL "\"components\":[" BODYP(TEXTP("$$")) "]}}", "a", 32768,
		  "template.components[0].parameters[0].text" },
		{ TPL "\"components\":[{\"type\":\"button\",\"sub_type\":"
		  "\"copy_code\",\"index\":\"0\",\"parameters\":[{\"type\":"
		  "\"coupon_code\",\"coupon_code\":\"$$\"}]}]}}", "A", 15,
		  "template.components[0].parameters[0].coupon_code" },
		{ PRE "\"type\":\"reaction\",\"reaction\":{\"message_id\":"
		  "\"wamid.A\",\"emoji\":\"$$\"}}", "\xf0\x9f\x98\x80", 10,
		  "reaction.emoji" },
		{ PRE "\"type\":\"reaction\",\"reaction\":{\"message_id\":\"$$\","
		  "\"emoji\":\"x\"}}", "w", 128, "reaction.message_id" },
		{ PRE "\"type\":\"text\",\"text\":{\"body\":\"x\"},\"context\":{"
		  "\"message_id\":\"$$\"}}", "w", 128, "context.message_id" },
		{ "{\"type\":\"read\",\"message_id\":\"$$\"}", "w", 128,
		  "message_id" },
	};
	struct msg	m;
	struct msg_err	e;
	char		*in, head[200], tail[40];
	size_t		 i, hl, tl, ml;
	int		 at, over, says;

	for (i = 0; i < sizeof(lims) / sizeof(lims[0]); i++) {
		at = ok(fill(lims[i].tmpl, rep(lims[i].unit, lims[i].max)), 0,
		    NULL);
		in = fill(lims[i].tmpl, rep(lims[i].unit, lims[i].max + 1));
		over = no(in, 0, "too_long", lims[i].field);
		/* The sentence names the field, the size and the limit. */
		(void)snprintf(head, sizeof(head), "%s is %zu ", lims[i].field,
		    lims[i].max + 1);
		(void)snprintf(tail, sizeof(tail), " at most %zu.",
		    lims[i].max);
		hl = strlen(head);
		tl = strlen(tail);
		says = msg_parse(in, strlen(in), 0, &m, &e) == -1 &&
		    (ml = strlen(e.message)) > hl + tl &&
		    strncmp(e.message, head, hl) == 0 &&
		    strcmp(e.message + ml - tl, tail) == 0;
		if (!at || !over || !says)
			fprintf(stderr, "  limit of %s: %s\n", lims[i].field,
			    e.message);
		CHECK(at);
		CHECK(over);
		CHECK(says);
		gc();
	}
}

/* The error a person reads names the field and the limit. */
TEST(messages_read_well)
{
	struct msg	m;
	struct msg_err	e;
	char		*in = fill(IBTN "\"body\":{\"text\":\"b\"},\"action\":{"
	    "\"buttons\":[" BTN("a", "A") "," BTN("b", "$$") "]}}}",
	    rep("x", 23));

	CHECK(msg_parse(in, strlen(in), 0, &m, &e) == -1);
	CHECK(strcmp(e.message, "interactive.action.buttons[1].reply.title is "
	    "23 characters; Meta allows at most 20.") == 0);
	in = PRE "\"type\":\"text\",\"text\":{\"bdy\":\"x\"}}";
	CHECK(msg_parse(in, strlen(in), 0, &m, &e) == -1);
	CHECK(strcmp(e.message, "text.bdy is not a field Meta accepts here; "
	    "expected one of: body, preview_url.") == 0);
	in = "[]";
	CHECK(msg_parse(in, strlen(in), 0, &m, &e) == -1);
	CHECK(strcmp(e.message, "The body must be a JSON object, not an "
	    "array.") == 0);
	gc();
}

/* Code points, not bytes: 4096 emoji (16 KiB) pass, 4097 do not. */
TEST(code_points_not_bytes)
{
	const char	*t = PRE "\"type\":\"text\",\"text\":{\"body\":\"$$\"}}";
	struct msg	 m;
	struct msg_err	 e;
	char		*in;

	in = fill(t, rep("\xf0\x9f\x98\x80", 4096));
	CHECK(msg_parse(in, strlen(in), 0, &m, &e) == 0);
	CHECK(m.text != NULL && strlen(m.text) == 4 * 4096 &&
	    msg_codepoints(m.text, strlen(m.text)) == 4096);
	msg_clear(&m);
	CHECK(no(fill(t, rep("\xf0\x9f\x98\x80", 4097)), 0, "too_long",
	    "text.body"));
	/* The same emoji written as \ud83d\ude00 escapes: 12 bytes each. */
	in = fill(t, rep("\\ud83d\\ude00", 4096));
	CHECK(strlen(in) > 48 * 1024);
	CHECK(ok(in, 0, NULL));
	CHECK(no(fill(t, rep("\\ud83d\\ude00", 4097)), 0, "too_long",
	    "text.body"));
	gc();
}

/* Counts at the boundary: buttons, sections, rows, contacts are above. */
TEST(count_limits)
{
	const char	*tb = TPL "\"components\":[$$]}}";
	char		*comps;

	/* A full template: header, body, footer, buttons "0".."9". */
	comps = fill("{\"type\":\"header\",\"parameters\":[" TEXTP("h") "]},"
	    BODYP(TEXTP("b")) ",{\"type\":\"footer\"},$$",
	    join("{\"type\":\"button\",\"sub_type\":\"quick_reply\",\"index\":"
	    "\"#\",\"parameters\":[{\"type\":\"payload\",\"payload\":\"p#\"}]}",
	    ",", 10));
	CHECK(ok(fill(tb, comps), 0, NULL));
	CHECK(no(fill(tb, fill("$$,{\"type\":\"footer\"}", comps)), 0,
	    "too_many", "template.components"));
	CHECK(ok(fill(tb, fill(BODYP("$$"), join(TEXTP("v#"), ",", 100))), 0,
	    NULL));
	CHECK(no(fill(tb, fill(BODYP("$$"), join(TEXTP("v#"), ",", 101))), 0,
	    "too_many", "template.components[0].parameters"));
	CHECK(ok(IBTN "\"body\":{\"text\":\"b\"},\"action\":{\"buttons\":["
	    BTN("a", "A") "," BTN("b", "B") "," BTN("c", "C") "]}}}", 0, NULL));
	gc();
}

TEST(local_files)
{
	static const struct {
		const char	*type;
		const char	*file;
		const char	*mime;
	} map[] = {
		{ "image", "/srv/a.jpg", "image/jpeg" },
		{ "image", "/srv/a.JPEG", "image/jpeg" },
		{ "image", "/srv/a.png", "image/png" },
		{ "sticker", "/srv/a.webp", "image/webp" },
		{ "video", "/srv/a.mp4", "video/mp4" },
		{ "video", "/srv/a.3gp", "video/3gpp" },
		{ "audio", "/srv/a.aac", "audio/aac" },
		{ "audio", "/srv/a.amr", "audio/amr" },
		{ "audio", "/srv/a.mp3", "audio/mpeg" },
		{ "audio", "/srv/a.m4a", "audio/mp4" },
		{ "audio", "/srv/a.ogg", "audio/ogg" },
		{ "audio", "/srv/voice.opus", "audio/ogg" },
		{ "document", "/srv/a.pdf", "application/pdf" },
		{ "document", "/srv/a.txt", "text/plain" },
		{ "document", "/srv/a.doc", "application/msword" },
		{ "document", "/srv/a.docx", "application/vnd.openxmlformats-"
		  "officedocument.wordprocessingml.document" },
		{ "document", "/srv/a.xls", "application/vnd.ms-excel" },
		{ "document", "/srv/a.xlsx", "application/vnd.openxmlformats-"
		  "officedocument.spreadsheetml.sheet" },
		{ "document", "/srv/a.ppt", "application/vnd.ms-powerpoint" },
		{ "document", "/srv/a.pptx", "application/vnd.openxmlformats-"
		  "officedocument.presentationml.presentation" },
	};
	struct msg	m;
	struct msg_err	e;
	char		*in;
	size_t		 i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		in = fill(fill(fill(PRE "\"type\":\"$$\",\"$$\":{\"file\":"
		    "\"$$\"}}", map[i].type), map[i].type), map[i].file);
		CHECK(msg_parse(in, strlen(in), MSG_ALLOW_FILE, &m, &e) == 0);
		CHECK(m.media_file != NULL && strcmp(m.media_file,
		    map[i].file) == 0);
		CHECK(m.media_mime != NULL && strcmp(m.media_mime,
		    map[i].mime) == 0);
		CHECK(m.body != NULL && strcmp(m.body, fill(fill(OUT "\"type\":"
		    "\"$$\",\"$$\":{\"id\":\"@upload@\"}}", map[i].type),
		    map[i].type)) == 0);
		msg_clear(&m);
	}
	/* Without the flag (management API): refused. */
	CHECK(no(PRE "\"type\":\"image\",\"image\":{\"file\":\"/srv/a.jpg\"}}",
	    0, "file_not_allowed", "image.file"));
	/* Family of the extension against the kind (reference 9.6). */
	CHECK(no(PRE "\"type\":\"image\",\"image\":{\"file\":\"/srv/a.mp3\"}}",
	    MSG_ALLOW_FILE, "bad_media_type", "image.file"));
	CHECK(no(PRE "\"type\":\"sticker\",\"sticker\":{\"file\":"
	    "\"/srv/a.png\"}}", MSG_ALLOW_FILE, "bad_media_type", "sticker.file"));
	CHECK(no(PRE "\"type\":\"video\",\"video\":{\"file\":\"/srv/a.m4a\"}}",
	    MSG_ALLOW_FILE, "bad_media_type", "video.file"));
	CHECK(no(PRE "\"type\":\"document\",\"document\":{\"file\":"
	    "\"/srv/a.exe\"}}", MSG_ALLOW_FILE, "bad_media_type",
	    "document.file"));
	CHECK(no(PRE "\"type\":\"document\",\"document\":{\"file\":"
	    "\"/srv/README\"}}", MSG_ALLOW_FILE, "bad_media_type",
	    "document.file"));
	CHECK(no(PRE "\"type\":\"document\",\"document\":{\"file\":"
	    "\"/srv.d/.pdf\"}}", MSG_ALLOW_FILE, "bad_media_type",
	    "document.file"));
	CHECK(no(PRE "\"type\":\"image\",\"image\":{\"file\":\"a.jpg\"}}",
	    MSG_ALLOW_FILE, "invalid", "image.file"));
	CHECK(ok(fill(PRE "\"type\":\"image\",\"image\":{\"file\":\"/$$.jpg\"}}",
	    rep("d", 4096 - 5)), MSG_ALLOW_FILE, NULL));
	CHECK(no(fill(PRE "\"type\":\"image\",\"image\":{\"file\":\"/$$.jpg\"}}",
	    rep("d", 4097 - 5)), MSG_ALLOW_FILE, "too_long", "image.file"));
	CHECK(no(PRE "\"type\":\"image\",\"image\":{\"file\":\"/a.jpg\","
	    "\"id\":\"1\"}}", MSG_ALLOW_FILE, "conflict", "image"));
	gc();
}

TEST(upload_placeholder)
{
	struct msg	m;
	struct msg_err	e;
	const char	*in = PRE "\"type\":\"document\",\"document\":{\"caption\":"
	    "\"\\\"id\\\":\\\"@upload@\\\"\",\"file\":\"/srv/r.pdf\","
	    "\"filename\":\"r.pdf\"},\"context\":{\"message_id\":\"wamid.A\"}}";
	char		*before;

	CHECK(msg_parse(in, strlen(in), MSG_ALLOW_FILE, &m, &e) == 0);
	/* "id" takes the place of "file"; the caption is only text. */
	CHECK(m.body != NULL && strcmp(m.body, OUT "\"type\":\"document\","
	    "\"document\":{\"caption\":\"\\\"id\\\":\\\"@upload@\\\"\",\"id\":"
	    "\"@upload@\",\"filename\":\"r.pdf\"},\"context\":{\"message_id\":"
	    "\"wamid.A\"}}") == 0);
	before = keep(strdup(m.body));
	/* Unfit ids leave the body alone. */
	CHECK(msg_set_media_id(&m, "") == -1);
	CHECK(msg_set_media_id(&m, "12 34") == -1);
	CHECK(msg_set_media_id(&m, NULL) == -1);
	CHECK(msg_set_media_id(&m, rep("9", 129)) == -1);
	CHECK(strcmp(m.body, before) == 0);
	CHECK(msg_set_media_id(&m, "1071503434390960") == 0);
	CHECK(strcmp(m.body, OUT "\"type\":\"document\",\"document\":{"
	    "\"caption\":\"\\\"id\\\":\\\"@upload@\\\"\",\"id\":"
	    "\"1071503434390960\",\"filename\":\"r.pdf\"},\"context\":{"
	    "\"message_id\":\"wamid.A\"}}") == 0);
	/* Once only. */
	CHECK(msg_set_media_id(&m, "2") == -1);
	CHECK(strstr(m.body, "1071503434390960") != NULL);
	msg_clear(&m);
	/* The worker holds only the queued body: that is enough. */
	in = PRE "\"type\":\"audio\",\"audio\":{\"file\":\"/srv/a.ogg\"}}";
	CHECK(msg_parse(in, strlen(in), MSG_ALLOW_FILE, &m, &e) == 0);
	before = m.body;
	m.body = NULL;
	msg_clear(&m);
	m.body = before;
	CHECK(msg_set_media_id(&m, "31") == 0);
	CHECK(m.body != NULL && strcmp(m.body, OUT "\"type\":\"audio\","
	    "\"audio\":{\"id\":\"31\"}}") == 0);
	msg_clear(&m);
	/* No file, no placeholder; nobody may give "@upload@" as an id. */
	in = PRE "\"type\":\"image\",\"image\":{\"id\":\"7\"}}";
	CHECK(msg_parse(in, strlen(in), MSG_ALLOW_FILE, &m, &e) == 0);
	CHECK(msg_set_media_id(&m, "3") == -1);
	CHECK(strcmp(m.body, OUT "\"type\":\"image\",\"image\":{\"id\":"
	    "\"7\"}}") == 0);
	msg_clear(&m);
	CHECK(msg_set_media_id(&m, "3") == -1);
	CHECK(no(PRE "\"type\":\"image\",\"image\":{\"id\":\"@upload@\"}}",
	    MSG_ALLOW_FILE, "invalid", "image.id"));
	in = "{\"type\":\"read\",\"message_id\":\"wamid.A\"}";
	CHECK(msg_parse(in, strlen(in), MSG_ALLOW_FILE, &m, &e) == 0);
	CHECK(msg_set_media_id(&m, "3") == -1);
	msg_clear(&m);
	gc();
}

/* msg_reply_show() on raw into a fresh row; the row dumped, or NULL. */
static char *
shown(const char *raw, int want)
{
	json_t	*row = json_object();
	char	*s;
	int	 rc;

	rc = msg_reply_show(row, raw);
	s = json_dumps(row, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(row);
	if (rc != want) {
		fprintf(stderr, "  %s: got %d, want %d\n", raw, rc, want);
		free(s);
		return NULL;
	}
	return keep(s);
}

TEST(replies_shown)
{
	const char	*s;

	/* A Flow's answer: response_json decoded, its token lifted out. */
	s = shown("{\"from\":\"1555\",\"id\":\"wamid.F\",\"type\":"
	    "\"interactive\",\"interactive\":{\"type\":\"nfm_reply\","
	    "\"nfm_reply\":{\"name\":\"flow\",\"body\":\"Sent\","
	    "\"response_json\":\"{\\\"flow_token\\\":\\\"t-7\\\","
	    "\\\"party_size\\\":\\\"4\\\"}\"}}}", 1);
	CHECK(s != NULL && strcmp(s, "{\"flow_reply\":{\"body\":\"Sent\","
	    "\"flow_token\":\"t-7\",\"name\":\"flow\",\"response\":{"
	    "\"flow_token\":\"t-7\",\"party_size\":\"4\"}}}") == 0);
	/* response_json that is not a JSON object shows null. */
	s = shown("{\"type\":\"interactive\",\"interactive\":{\"type\":"
	    "\"nfm_reply\",\"nfm_reply\":{\"name\":\"flow\",\"response_json\":"
	    "\"[1\"}}}", 1);
	CHECK(s != NULL && strcmp(s, "{\"flow_reply\":{\"name\":\"flow\","
	    "\"response\":null}}") == 0);
	s = shown("{\"type\":\"interactive\",\"interactive\":{\"type\":"
	    "\"nfm_reply\",\"nfm_reply\":{\"response_json\":\"7\"}}}", 1);
	CHECK(s != NULL && strcmp(s, "{\"flow_reply\":{\"response\":null}}")
	    == 0);
	/* An order: catalog, note and items, known fields only. */
	s = shown("{\"type\":\"order\",\"order\":{\"catalog_id\":\"3004\","
	    "\"text\":\"after 5pm\",\"secret\":\"x\",\"product_items\":[{"
	    "\"product_retailer_id\":\"SKU-1\",\"quantity\":2,\"item_price\":"
	    "12.5,\"currency\":\"USD\",\"extra\":1},\"junk\",{"
	    "\"product_retailer_id\":\"SKU-2\",\"quantity\":1}]}}", 1);
	CHECK(s != NULL && strcmp(s, "{\"order\":{\"catalog_id\":\"3004\","
	    "\"product_items\":[{\"currency\":\"USD\",\"item_price\":12.5,"
	    "\"product_retailer_id\":\"SKU-1\",\"quantity\":2},{"
	    "\"product_retailer_id\":\"SKU-2\",\"quantity\":1}],\"text\":"
	    "\"after 5pm\"}}") == 0);
	s = shown("{\"type\":\"order\",\"order\":{}}", 1);
	CHECK(s != NULL && strcmp(s, "{\"order\":{\"product_items\":[]}}") == 0);
	/* Nothing to show for other kinds or broken items. */
	CHECK(shown("{\"type\":\"interactive\",\"interactive\":{\"type\":"
	    "\"button_reply\",\"button_reply\":{\"id\":\"a\"}}}", 0) != NULL);
	CHECK(shown("{\"type\":\"order\",\"order\":\"x\"}", 0) != NULL);
	CHECK(shown("{\"type\":\"interactive\",\"interactive\":{\"type\":"
	    "\"nfm_reply\"}}", 0) != NULL);
	CHECK(shown("{\"type\":\"text\",\"text\":{\"body\":\"hi\"}}", 0) != NULL);
	CHECK(shown("not json", 0) != NULL);
	CHECK(shown("[]", 0) != NULL);
	CHECK(msg_reply_show(NULL, "{}") == 0);
	gc();
}

TEST(clear_is_safe)
{
	struct msg	m;
	struct msg_err	e;
	const char	*in = PRE "\"text\":{\"body\":\"x\"}}";

	memset(&m, 0, sizeof(m));
	msg_clear(&m);
	msg_clear(NULL);
	CHECK(msg_parse(in, strlen(in), 0, &m, &e) == 0);
	CHECK(e.code[0] == '\0');
	msg_clear(&m);
	CHECK(m.body == NULL && m.text == NULL);
	msg_clear(&m);
	/* A refusal after a success leaves nothing behind either. */
	CHECK(msg_parse("{", 1, 0, &m, &e) == -1);
	CHECK(m.body == NULL);
	msg_clear(&m);
	CHECK(strcmp(msg_kind_names[MSG_TEXT], "text") == 0);
	CHECK(strcmp(msg_kind_names[MSG_READ], "read") == 0);
	CHECK(strcmp(msg_kind_names[MSG__MAX - 1], "read") == 0);
}

int
main(void)
{
	RUN(codepoints);
	RUN(text);
	RUN(media);
	RUN(location);
	RUN(contacts);
	RUN(reaction);
	RUN(interactive_button);
	RUN(interactive_list);
	RUN(interactive_cta_url);
	RUN(interactive_flow);
	RUN(interactive_location_request);
	RUN(interactive_product);
	RUN(interactive_product_list);
	RUN(interactive_catalog_message);
	RUN(template);
	RUN(read_receipt);
	RUN(recipients);
	RUN(common_fields);
	RUN(broken_input);
	RUN(length_limits);
	RUN(messages_read_well);
	RUN(code_points_not_bytes);
	RUN(count_limits);
	RUN(local_files);
	RUN(upload_placeholder);
	RUN(replies_shown);
	RUN(clear_is_safe);
	return CHECK_DONE();
}
