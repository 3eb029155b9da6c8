/*
 * test_campaign.c: campaigns' pure part (campaign.c).  A recipients CSV:
 * quoted fields, a byte order mark, CRLF, blank lines, bad lines named
 * by number (all of them counted, the first 20 listed), numbers
 * normalised or kept as invalid, later duplicates, named and positional
 * parameters, Meta's 132018 rules; the send body of one recipient, the
 * preview text and start times.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "campaign.h"
#include "check.h"

#define POS	"[{\"type\":\"HEADER\",\"format\":\"TEXT\",\"text\":\"Hi\"}," \
		"{\"type\":\"BODY\",\"text\":\"Hello {{1}}, order {{2}} is " \
		"ready.\"}]"
#define NAMED	"[{\"type\":\"BODY\",\"text\":\"Dear {{first_name}}, " \
		"{{order}} is here, {{first_name}}.\"}]"

static struct campaign_tmpl pos, named, none;

/* Parses text against t; 0 or -1 like campaign_csv_parse(). */
static int
parse(const char *text, const struct campaign_tmpl *t,
    struct campaign_list *l, struct campaign_csv_err *e)
{
	return campaign_csv_parse(text, strlen(text), t, l, e);
}

TEST(tmpl_positional_and_named)
{
	CHECK(pos.nvars == 2 && !pos.named);
	CHECK(strcmp(pos.body, "Hello {{1}}, order {{2}} is ready.") == 0);
	CHECK(named.nvars == 2 && named.named);
	CHECK(strcmp(named.names[0], "first_name") == 0);
	CHECK(strcmp(named.names[1], "order") == 0);
	CHECK(none.nvars == 0 && none.body != NULL);
}

/* Components a campaign cannot fill make the template unsupported. */
TEST(tmpl_unsupported_components)
{
	static const char *const bad[] = {
		"[{\"type\":\"HEADER\",\"format\":\"IMAGE\"},"
		    "{\"type\":\"BODY\",\"text\":\"Hi\"}]",
		"[{\"type\":\"HEADER\",\"format\":\"TEXT\",\"text\":"
		    "\"Hi {{1}}\"},{\"type\":\"BODY\",\"text\":\"x\"}]",
		"[{\"type\":\"BODY\",\"text\":\"x\"},{\"type\":\"BUTTONS\","
		    "\"buttons\":[{\"type\":\"URL\",\"url\":\"https://a/{{1}}\"}]}]",
		"[{\"type\":\"BODY\",\"text\":\"x\"},{\"type\":\"BUTTONS\","
		    "\"buttons\":[{\"type\":\"OTP\",\"otp_type\":\"COPY_CODE\"}]}]",
		"[{\"type\":\"BODY\",\"text\":\"x\"},{\"type\":\"BUTTONS\","
		    "\"buttons\":[{\"type\":\"COPY_CODE\"}]}]",
		"[{\"type\":\"BODY\",\"text\":\"x\"},{\"type\":\"CAROUSEL\"}]",
	};
	struct campaign_tmpl	t;
	size_t			i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(campaign_tmpl_parse(bad[i], &t) == 0);
		CHECK(t.unsupported != NULL);
		campaign_tmpl_clear(&t);
	}
	/* A fixed text header, fixed URL and quick replies are fine. */
	CHECK(campaign_tmpl_parse("[{\"type\":\"HEADER\",\"format\":"
	    "\"TEXT\",\"text\":\"Sale\"},{\"type\":\"BODY\",\"text\":"
	    "\"Hi {{1}}\"},{\"type\":\"BUTTONS\",\"buttons\":[{\"type\":"
	    "\"URL\",\"url\":\"https://a/\"},{\"type\":\"QUICK_REPLY\"}]}]",
	    &t) == 0);
	CHECK(t.unsupported == NULL && t.nvars == 1);
	campaign_tmpl_clear(&t);
	CHECK(pos.unsupported == NULL);
}

TEST(csv_plain_quoted_bom_crlf_blank)
{
	struct campaign_list	l;
	struct campaign_csv_err	e;

	CHECK(parse("\xef\xbb\xbfwa_id,name,order\r\n"
	    "\r\n"
	    "+1 (555) 010-0001,Ann,A-1\r\n"
	    "   \r\n"
	    "15550100002,\"Smith, Bob\",\"say \"\"hi\"\"\"\r\n"
	    "1555.010.0003,Cy,C-3", &pos, &l, &e) == 0);
	CHECK(l.n == 3);
	CHECK(l.v[0].line == 3 && strcmp(l.v[0].wa_id, "15550100001") == 0);
	CHECK(l.v[0].reason == NULL);
	CHECK(strcmp(l.v[0].params[0], "Ann") == 0);
	CHECK(strcmp(l.v[0].params[1], "A-1") == 0);
	CHECK(l.v[1].line == 5 && strcmp(l.v[1].params[0], "Smith, Bob") == 0);
	CHECK(strcmp(l.v[1].params[1], "say \"hi\"") == 0);
	CHECK(l.v[2].line == 6 && strcmp(l.v[2].wa_id, "15550100003") == 0);
	campaign_list_clear(&l);
}

TEST(csv_invalid_numbers_and_duplicates_are_kept_skipped)
{
	struct campaign_list	l;
	struct campaign_csv_err	e;

	CHECK(parse("wa_id,a,b\n15550100001,x,y\n1234567,x,y\n"
	    "1234567890123456,x,y\nabc15550100009,x,y\n+1-555-010-0001,x,y\n"
	    "12345678,x,y\n", &pos, &l, &e) == 0);
	CHECK(l.n == 6);
	CHECK(l.v[0].reason == NULL);
	CHECK(l.v[1].reason != NULL && strcmp(l.v[1].reason,
	    "invalid_number") == 0 && strcmp(l.v[1].wa_id, "1234567") == 0);
	CHECK(l.v[2].reason != NULL && strcmp(l.v[2].reason,
	    "invalid_number") == 0);
	CHECK(l.v[3].reason != NULL && strcmp(l.v[3].reason,
	    "invalid_number") == 0 && strcmp(l.v[3].wa_id,
	    "abc15550100009") == 0);
	CHECK(l.v[4].reason != NULL && strcmp(l.v[4].reason,
	    "duplicate") == 0 && strcmp(l.v[4].wa_id, "15550100001") == 0);
	CHECK(l.v[5].reason == NULL && strcmp(l.v[5].wa_id, "12345678") == 0);
	campaign_list_clear(&l);
	/* What is kept of a long wrong number: 64 bytes, whole characters. */
	CHECK(parse("wa_id,a,b\n"
	    "\xc3\xa9" "1234567890123456789012345678901234567890123456789012345678901"
	    "\xc3\xa9\xc3\xa9,x,y\n", &pos, &l, &e) == 0);
	CHECK(l.n == 1 && strlen(l.v[0].wa_id) == 63 &&
	    strcmp(l.v[0].reason, "invalid_number") == 0);
	campaign_list_clear(&l);
}

TEST(csv_bad_lines_are_all_counted_with_their_numbers)
{
	struct campaign_list	l;
	struct campaign_csv_err	e;
	char			*big, *p;
	int			 i;

	CHECK(parse("wa_id,a,b\n15550100001,x,y\n15550100002,x\n"
	    "15550100003,,y\n15550100004,x,\"a\tb\"\n15550100005,x,a    b\n"
	    "15550100006,\"x,y\n15550100007,x,y,z\n", &pos, &l, &e) == -1);
	CHECK(l.v == NULL && l.n == 0);
	CHECK(e.nbad == 6 && e.nshown == 6);
	CHECK(e.bad[0].line == 3 && strstr(e.bad[0].message, "2 columns") !=
	    NULL);
	CHECK(e.bad[1].line == 4 && strstr(e.bad[1].message, "column 2 is "
	    "empty") != NULL);
	CHECK(e.bad[2].line == 5 && strstr(e.bad[2].message, "tab") != NULL);
	CHECK(e.bad[3].line == 6 && strstr(e.bad[3].message, "4 or more "
	    "spaces") != NULL);
	CHECK(e.bad[4].line == 7 && strstr(e.bad[4].message, "quoted") !=
	    NULL);
	CHECK(e.bad[5].line == 8 && strstr(e.bad[5].message, "4 columns") !=
	    NULL);
	CHECK(strncmp(e.message, "6 lines are wrong; the first: line 3: ",
	    38) == 0);

	/* 30 wrong lines: all counted, 20 listed. */
	big = malloc(64 * 40);
	p = big;
	p += sprintf(p, "wa_id,a,b\n");
	for (i = 0; i < 30; i++)
		p += sprintf(p, "1555010%04d,x\n", i);
	CHECK(parse(big, &pos, &l, &e) == -1);
	CHECK(e.nbad == 30 && e.nshown == 20 && e.bad[19].line == 21);
	free(big);
}

TEST(csv_parameter_limits)
{
	struct campaign_list	l;
	struct campaign_csv_err	e;
	char			 text[3000];
	char			 p1024[1025], p1025[1026];

	memset(p1024, 'a', 1024);
	p1024[1024] = '\0';
	memset(p1025, 'a', 1025);
	p1025[1025] = '\0';
	(void)snprintf(text, sizeof(text), "wa_id,a,b\n15550100001,%s,y\n",
	    p1024);
	CHECK(parse(text, &pos, &l, &e) == 0);
	campaign_list_clear(&l);
	(void)snprintf(text, sizeof(text), "wa_id,a,b\n15550100001,%s,y\n",
	    p1025);
	CHECK(parse(text, &pos, &l, &e) == -1);
	CHECK(strstr(e.bad[0].message, "1,024") != NULL);
	/* 1,024 characters of two bytes each still do. */
	CHECK(campaign_param_bad("\xc3\xa9\xc3\xa9") == NULL);
	CHECK(campaign_param_bad("\xff") != NULL);
	CHECK(campaign_param_bad("a\nb") != NULL);
	CHECK(campaign_param_bad("a   b") == NULL);
	CHECK(campaign_param_bad("   ") != NULL);
}

TEST(csv_header_checked)
{
	struct campaign_list	l;
	struct campaign_csv_err	e;

	CHECK(parse("phone,a,b\n15550100001,x,y\n", &pos, &l, &e) == -1);
	CHECK(e.bad[0].line == 1 && strstr(e.bad[0].message, "wa_id") !=
	    NULL);
	CHECK(parse("\n\nwa_id,a\n15550100001,x\n", &pos, &l, &e) == -1);
	CHECK(e.bad[0].line == 3 && strstr(e.bad[0].message, "needs 2") !=
	    NULL);
	CHECK(parse("wa_id,a,b\n\n", &pos, &l, &e) == -1);
	CHECK(strstr(e.message, "no recipients") != NULL);
	CHECK(parse("", &pos, &l, &e) == -1);
	CHECK(strstr(e.message, "empty") != NULL);
	CHECK(campaign_csv_parse("wa_id\n1\0", 9, &none, &l, &e) == -1);
}

TEST(csv_named_columns_in_any_order)
{
	struct campaign_list	l;
	struct campaign_csv_err	e;
	json_t			*p;
	char			*s;

	CHECK(parse("wa_id,order,first_name\n15550100001,A-1,Ann\n", &named,
	    &l, &e) == 0);
	CHECK(l.n == 1 && strcmp(l.v[0].params[0], "Ann") == 0 &&
	    strcmp(l.v[0].params[1], "A-1") == 0);
	p = campaign_params_json(&named, l.v[0].params);
	s = json_dumps(p, JSON_COMPACT);
	CHECK(s != NULL && strcmp(s, "[{\"parameter_name\":\"first_name\","
	    "\"text\":\"Ann\"},{\"parameter_name\":\"order\",\"text\":"
	    "\"A-1\"}]") == 0);
	free(s);
	json_decref(p);
	campaign_list_clear(&l);
	CHECK(parse("wa_id,order,name\n15550100001,A-1,Ann\n", &named, &l,
	    &e) == -1);
	CHECK(strstr(e.bad[0].message, "column name is not one of") != NULL);
	CHECK(strstr(e.bad[0].message, "them: first_name, order)") != NULL);
}

TEST(csv_row_limit)
{
	struct campaign_list	l;
	struct campaign_csv_err	e;
	size_t			 n = 200001, i;
	char			*big, *p;

	big = malloc(16 * (n + 2));
	p = big;
	p += sprintf(p, "wa_id\n");
	for (i = 0; i < n; i++)
		p += sprintf(p, "%zu\n", 10000000000 + i);
	CHECK(campaign_csv_parse(big, (size_t)(p - big), &none, &l, &e) == -1);
	CHECK(strstr(e.message, "200,000") != NULL &&
	    e.bad[0].line == 200002);
	/* One fewer does. */
	p[-12] = '\0';
	CHECK(campaign_csv_parse(big, strlen(big), &none, &l, &e) == 0);
	CHECK(l.n == 200000);
	campaign_list_clear(&l);
	free(big);
}

TEST(body_positional_named_and_none)
{
	json_t	*p;
	char	*s;

	p = json_pack("[s, s]", "Ann", "A-1");
	CHECK(campaign_body("order_update", "en_US", "15550100001", p,
	    &s) == 0);
	CHECK(s != NULL && strcmp(s, "{\"messaging_product\":\"whatsapp\","
	    "\"recipient_type\":\"individual\",\"to\":\"15550100001\","
	    "\"type\":\"template\",\"template\":{\"name\":\"order_update\","
	    "\"language\":{\"code\":\"en_US\"},\"components\":[{\"type\":"
	    "\"body\",\"parameters\":[{\"type\":\"text\",\"text\":\"Ann\"},"
	    "{\"type\":\"text\",\"text\":\"A-1\"}]}]}}") == 0);
	free(s);
	json_decref(p);
	p = json_pack("[{s:s, s:s}]", "parameter_name", "first_name", "text",
	    "Ann");
	CHECK(campaign_body("t", "en", "15550100001", p, &s) == 0);
	CHECK(s != NULL && strstr(s, "[{\"type\":\"text\",\"parameter_name\":"
	    "\"first_name\",\"text\":\"Ann\"}]") != NULL);
	free(s);
	json_decref(p);
	p = json_array();
	CHECK(campaign_body("hello_world", "en_US", "15550100001", p,
	    &s) == 0);
	CHECK(s != NULL && strcmp(s, "{\"messaging_product\":\"whatsapp\","
	    "\"recipient_type\":\"individual\",\"to\":\"15550100001\","
	    "\"type\":\"template\",\"template\":{\"name\":\"hello_world\","
	    "\"language\":{\"code\":\"en_US\"}}}") == 0);
	free(s);
	json_decref(p);
	p = json_pack("[i]", 3);
	CHECK(campaign_body("t", "en", "1", p, &s) == -1 && s == NULL);
	json_decref(p);
}

TEST(preview_fills_variables)
{
	json_t	*p;
	char	*s;

	p = json_pack("[s, s]", "Ann", "A-1");
	CHECK(campaign_preview(&pos, p, &s) == 0);
	CHECK(s != NULL && strcmp(s, "Hello Ann, order A-1 is ready.") == 0);
	free(s);
	json_decref(p);
	p = json_pack("[s]", "Ann");
	CHECK(campaign_preview(&pos, p, &s) == 0);
	CHECK(s != NULL && strcmp(s, "Hello Ann, order {{2}} is ready.") == 0);
	free(s);
	json_decref(p);
	p = json_pack("[{s:s, s:s}, {s:s, s:s}]", "parameter_name",
	    "first_name", "text", "Ann", "parameter_name", "order", "text",
	    "A-1");
	CHECK(campaign_preview(&named, p, &s) == 0);
	CHECK(s != NULL && strcmp(s, "Dear Ann, A-1 is here, Ann.") == 0);
	free(s);
	json_decref(p);
}

TEST(start_times)
{
	int64_t	t;

	CHECK(campaign_at_parse("1767225600", &t) == 0 && t == 1767225600);
	CHECK(campaign_at_parse("2026-01-01T00:00Z", &t) == 0 &&
	    t == 1767225600);
	CHECK(campaign_at_parse("2028-02-29T12:30:15Z", &t) == 0 &&
	    t == 1835440215);
	CHECK(campaign_at_parse("2027-02-29T12:30Z", &t) == -1);
	CHECK(campaign_at_parse("2026-01-01 00:00Z", &t) == -1);
	CHECK(campaign_at_parse("2026-01-01T00:00", &t) == -1);
	CHECK(campaign_at_parse("", &t) == -1);
	CHECK(campaign_at_parse("tomorrow", &t) == -1);
}

int
main(void)
{
	if (campaign_tmpl_parse(POS, &pos) == -1 ||
	    campaign_tmpl_parse(NAMED, &named) == -1 ||
	    campaign_tmpl_parse("[{\"type\":\"BODY\",\"text\":\"Hi\"}]",
	    &none) == -1)
		return 1;
	RUN(tmpl_positional_and_named);
	RUN(tmpl_unsupported_components);
	RUN(csv_plain_quoted_bom_crlf_blank);
	RUN(csv_invalid_numbers_and_duplicates_are_kept_skipped);
	RUN(csv_bad_lines_are_all_counted_with_their_numbers);
	RUN(csv_parameter_limits);
	RUN(csv_header_checked);
	RUN(csv_named_columns_in_any_order);
	RUN(csv_row_limit);
	RUN(body_positional_named_and_none);
	RUN(preview_fills_variables);
	RUN(start_times);
	campaign_tmpl_clear(&pos);
	campaign_tmpl_clear(&named);
	campaign_tmpl_clear(&none);
	return CHECK_DONE();
}
