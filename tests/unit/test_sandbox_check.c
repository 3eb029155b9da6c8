/*
 * test_sandbox_check.c: what wa-sandbox's POST /{pnid}/messages accepts
 * and the Meta code it refuses the rest with: limits at the boundary (at
 * the limit accepted, one over refused), code points against bytes,
 * recipients, read receipts and typing, the kinds a business cannot
 * send, and the HTTP status and message of each code.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "check.h"
#include "sandbox.h"

static char	wa_id[80];
static struct sandbox_refusal e;

/* Checks the JSON text s; returns the result (e and wa_id filled). */
static enum sandbox_send
chk(const char *s)
{
	json_t			*j = json_loads(s, 0, NULL);
	enum sandbox_send	 r;

	if (j == NULL) {
		fprintf(stderr, "  bad test JSON: %s\n", s);
		return SANDBOX_SEND__MAX;
	}
	r = sandbox_check_send(j, wa_id, sizeof(wa_id), &e);
	json_decref(j);
	return r;
}

/* A text message whose body is n copies of unit (a UTF-8 sequence). */
static enum sandbox_send
text_of(const char *unit, size_t n)
{
	size_t			 ul = strlen(unit), i;
	char			*b = malloc(ul * n + 128);
	enum sandbox_send	 r;
	int			 k;

	if (b == NULL)
		return SANDBOX_SEND__MAX;
	k = snprintf(b, 128, "{\"messaging_product\":\"whatsapp\",\"to\":"
	    "\"15550001111\",\"type\":\"text\",\"text\":{\"body\":\"");
	for (i = 0; i < n; i++)
		memcpy(b + k + i * ul, unit, ul);
	memcpy(b + k + n * ul, "\"}}", 4);
	r = chk(b);
	free(b);
	return r;
}

#define MSG(body) "{\"messaging_product\":\"whatsapp\",\"to\":" \
	"\"15550001111\"," body "}"

TEST(text_limit_counts_code_points)
{
	CHECK(text_of("a", 4096) == SANDBOX_SEND_MESSAGE);
	CHECK(text_of("a", 4097) == SANDBOX_SEND_REFUSED && e.code == 100);
	CHECK(strstr(e.details, "text['body']") != NULL);
	/* 4096 two-byte characters are 8192 bytes, and allowed. */
	CHECK(text_of("\xc3\xa9", 4096) == SANDBOX_SEND_MESSAGE);
	CHECK(chk(MSG("\"type\":\"text\",\"text\":{}")) ==
	    SANDBOX_SEND_REFUSED && e.code == 131008 && e.http == 400);
	CHECK(strcmp(e.message, "(#131008) Required parameter is missing") == 0);
	CHECK(chk(MSG("\"type\":\"text\",\"text\":{\"body\":7}")) ==
	    SANDBOX_SEND_REFUSED && e.code == 100);
	/* type defaults to text, as Meta's does. */
	CHECK(chk(MSG("\"text\":{\"body\":\"hi\"}")) == SANDBOX_SEND_MESSAGE);
}

TEST(recipients)
{
	CHECK(chk("{\"messaging_product\":\"whatsapp\",\"to\":\"+1 (555) "
	    "000-1111\",\"text\":{\"body\":\"x\"}}") == SANDBOX_SEND_MESSAGE);
	CHECK(strcmp(wa_id, "15550001111") == 0);
	CHECK(chk("{\"messaging_product\":\"whatsapp\",\"to\":\"US.abc123XYZ\","
	    "\"text\":{\"body\":\"x\"}}") == SANDBOX_SEND_MESSAGE);
	CHECK(strcmp(wa_id, "US.abc123XYZ") == 0);
	CHECK(chk("{\"messaging_product\":\"whatsapp\",\"to\":\"1234\","
	    "\"text\":{\"body\":\"x\"}}") == SANDBOX_SEND_REFUSED &&
	    e.code == 100);
	CHECK(chk("{\"messaging_product\":\"whatsapp\",\"to\":\"1234567890123456\","
	    "\"text\":{\"body\":\"x\"}}") == SANDBOX_SEND_REFUSED);
	CHECK(chk("{\"messaging_product\":\"whatsapp\",\"text\":{\"body\":"
	    "\"x\"}}") == SANDBOX_SEND_REFUSED && e.code == 100);
	CHECK(chk("{\"to\":\"15550001111\",\"text\":{\"body\":\"x\"}}") ==
	    SANDBOX_SEND_REFUSED && e.code == 100);
	CHECK(chk("{\"messaging_product\":\"sms\",\"to\":\"15550001111\","
	    "\"text\":{\"body\":\"x\"}}") == SANDBOX_SEND_REFUSED);
	CHECK(chk("[1]") == SANDBOX_SEND_REFUSED && e.code == 100);
}

TEST(read_receipts_and_typing)
{
	CHECK(chk("{\"messaging_product\":\"whatsapp\",\"status\":\"read\","
	    "\"message_id\":\"wamid.x\"}") == SANDBOX_SEND_READ);
	CHECK(chk("{\"messaging_product\":\"whatsapp\",\"status\":\"read\","
	    "\"message_id\":\"wamid.x\",\"typing_indicator\":{\"type\":"
	    "\"text\"}}") == SANDBOX_SEND_READ);
	CHECK(chk("{\"messaging_product\":\"whatsapp\",\"status\":\"read\","
	    "\"message_id\":\"wamid.x\",\"typing_indicator\":{\"type\":"
	    "\"audio\"}}") == SANDBOX_SEND_REFUSED && e.code == 131009);
	CHECK(chk("{\"messaging_product\":\"whatsapp\",\"status\":\"read\"}") ==
	    SANDBOX_SEND_REFUSED && e.code == 131008);
	CHECK(chk("{\"messaging_product\":\"whatsapp\",\"status\":"
	    "\"delivered\",\"message_id\":\"wamid.x\"}") ==
	    SANDBOX_SEND_REFUSED && e.code == 100);
}

TEST(kinds)
{
	CHECK(chk(MSG("\"type\":\"order\",\"order\":{}")) ==
	    SANDBOX_SEND_REFUSED && e.code == 131051);
	CHECK(chk(MSG("\"type\":\"fax\",\"fax\":{}")) ==
	    SANDBOX_SEND_REFUSED && e.code == 100);
	CHECK(chk(MSG("\"type\":\"image\"")) == SANDBOX_SEND_REFUSED &&
	    e.code == 131008);
	CHECK(chk(MSG("\"type\":\"image\",\"image\":{\"id\":\"1\",\"link\":"
	    "\"https://a.example/x\"}")) == SANDBOX_SEND_REFUSED &&
	    e.code == 131009);
	CHECK(chk(MSG("\"type\":\"image\",\"image\":{\"link\":\"ftp://a/x\"}"))
	    == SANDBOX_SEND_REFUSED && e.code == 131009);
	CHECK(chk(MSG("\"type\":\"audio\",\"audio\":{\"id\":\"1\",\"caption\":"
	    "\"c\"}")) == SANDBOX_SEND_REFUSED && e.code == 100);
	CHECK(chk(MSG("\"type\":\"video\",\"video\":{\"id\":\"1\",\"caption\":"
	    "\"c\"}")) == SANDBOX_SEND_MESSAGE);
	CHECK(chk(MSG("\"type\":\"location\",\"location\":{\"latitude\":90,"
	    "\"longitude\":-180}")) == SANDBOX_SEND_MESSAGE);
	CHECK(chk(MSG("\"type\":\"location\",\"location\":{\"latitude\":90.01,"
	    "\"longitude\":0}")) == SANDBOX_SEND_REFUSED && e.code == 131009);
	CHECK(chk(MSG("\"type\":\"location\",\"location\":{\"latitude\":\"1\","
	    "\"longitude\":0}")) == SANDBOX_SEND_REFUSED && e.code == 100);
	CHECK(chk(MSG("\"type\":\"contacts\",\"contacts\":[{\"name\":{}}]")) ==
	    SANDBOX_SEND_REFUSED && e.code == 131008);
	CHECK(chk(MSG("\"type\":\"contacts\",\"contacts\":{}")) ==
	    SANDBOX_SEND_REFUSED && e.code == 100);
	CHECK(chk(MSG("\"type\":\"reaction\",\"reaction\":{\"message_id\":"
	    "\"wamid.x\",\"emoji\":\"\"}")) == SANDBOX_SEND_MESSAGE);
	CHECK(chk(MSG("\"type\":\"template\",\"template\":{\"name\":\"t\"}")) ==
	    SANDBOX_SEND_REFUSED && e.code == 131008);
	CHECK(chk(MSG("\"type\":\"template\",\"template\":{\"name\":\"t\","
	    "\"language\":{\"code\":\"en\"}}")) == SANDBOX_SEND_MESSAGE);
}

#define BTN(i) "{\"type\":\"reply\",\"reply\":{\"id\":\"" i "\",\"title\":" \
	"\"T" i "\"}}"
#define ROW(i) "{\"id\":\"" i "\",\"title\":\"R" i "\"}"

TEST(interactive_limits)
{
	CHECK(chk(MSG("\"type\":\"interactive\",\"interactive\":{\"type\":"
	    "\"button\",\"body\":{\"text\":\"b\"},\"action\":{\"buttons\":["
	    BTN("1") "," BTN("2") "," BTN("3") "]}}")) == SANDBOX_SEND_MESSAGE);
	CHECK(chk(MSG("\"type\":\"interactive\",\"interactive\":{\"type\":"
	    "\"button\",\"body\":{\"text\":\"b\"},\"action\":{\"buttons\":["
	    BTN("1") "," BTN("2") "," BTN("3") "," BTN("4") "]}}")) ==
	    SANDBOX_SEND_REFUSED && e.code == 131009);
	CHECK(chk(MSG("\"type\":\"interactive\",\"interactive\":{\"type\":"
	    "\"button\",\"body\":{\"text\":\"b\"},\"action\":{\"buttons\":["
	    BTN("1") "," BTN("1") "]}}")) == SANDBOX_SEND_REFUSED &&
	    e.code == 131009);
	CHECK(chk(MSG("\"type\":\"interactive\",\"interactive\":{\"type\":"
	    "\"list\",\"body\":{\"text\":\"b\"},\"action\":{\"button\":\"Go\","
	    "\"sections\":[{\"rows\":[" ROW("1") "," ROW("2") "," ROW("3") ","
	    ROW("4") "," ROW("5") "," ROW("6") "," ROW("7") "," ROW("8") ","
	    ROW("9") "," ROW("10") "]}]}}")) == SANDBOX_SEND_MESSAGE);
	CHECK(chk(MSG("\"type\":\"interactive\",\"interactive\":{\"type\":"
	    "\"list\",\"body\":{\"text\":\"b\"},\"action\":{\"button\":\"Go\","
	    "\"sections\":[{\"rows\":[" ROW("1") "," ROW("2") "," ROW("3") ","
	    ROW("4") "," ROW("5") "," ROW("6") "," ROW("7") "," ROW("8") ","
	    ROW("9") "," ROW("10") "," ROW("11") "]}]}}")) ==
	    SANDBOX_SEND_REFUSED && e.code == 131009);
	/* Two sections need titles. */
	CHECK(chk(MSG("\"type\":\"interactive\",\"interactive\":{\"type\":"
	    "\"list\",\"body\":{\"text\":\"b\"},\"action\":{\"button\":\"Go\","
	    "\"sections\":[{\"rows\":[" ROW("1") "]},{\"rows\":[" ROW("2")
	    "]}]}}")) == SANDBOX_SEND_REFUSED && e.code == 131008);
	CHECK(chk(MSG("\"type\":\"interactive\",\"interactive\":{\"type\":"
	    "\"cta_url\",\"body\":{\"text\":\"b\"},\"action\":{\"name\":"
	    "\"cta_url\",\"parameters\":{\"display_text\":\"Open\",\"url\":"
	    "\"https://a.example/\"}}}")) == SANDBOX_SEND_MESSAGE);
	CHECK(chk(MSG("\"type\":\"interactive\",\"interactive\":{\"type\":"
	    "\"cta_url\",\"body\":{\"text\":\"b\"},\"action\":{\"name\":"
	    "\"cta_url\",\"parameters\":{\"display_text\":\"Open\",\"url\":"
	    "\"javascript:x\"}}}")) == SANDBOX_SEND_REFUSED && e.code == 131009);
	CHECK(chk(MSG("\"type\":\"interactive\",\"interactive\":{\"type\":"
	    "\"carousel\"}")) == SANDBOX_SEND_REFUSED && e.code == 100);
	CHECK(chk(MSG("\"type\":\"interactive\",\"interactive\":{}")) ==
	    SANDBOX_SEND_REFUSED && e.code == 131008);
}

TEST(codes_have_metas_status_and_title)
{
	CHECK(sandbox_check_http(132001) == 404);
	CHECK(sandbox_check_http(190) == 401);
	CHECK(sandbox_check_http(131051) == 400);
	sandbox_check_refuse(&e, 132001, "x %d", 1);
	CHECK(strcmp(e.message, "(#132001) Template name does not exist in "
	    "the translation") == 0 && strcmp(e.details, "x 1") == 0);
}

int
main(void)
{
	RUN(text_limit_counts_code_points);
	RUN(recipients);
	RUN(read_receipts_and_typing);
	RUN(kinds);
	RUN(interactive_limits);
	RUN(codes_have_metas_status_and_title);
	return CHECK_DONE();
}
