/*
 * test_tmpl.c: Meta's template rules (tmpl.c), one rule a test, the good
 * body beside the bad ones, and the parameter check of a send.  Links
 * tmpl.o alone: the rules need no database, clock or socket.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "check.h"
#include "tmpl.h"

/* JSON written with ' for " so that the bodies stay readable. */
static json_t *
J(const char *s)
{
	char	*t = strdup(s), *p;
	json_t	*j;

	if (t == NULL)
		return NULL;
	for (p = t; *p != '\0'; p++)
		if (*p == '\'')
			*p = '"';
	j = json_loads(t, 0, NULL);
	if (j == NULL)
		fprintf(stderr, "  bad test JSON: %s\n", t);
	free(t);
	return j;
}

/* A creation body around components (a JSON array, ' for "). */
static json_t *
body(const char *extra, const char *comps)
{
	char buf[8192];

	(void)snprintf(buf, sizeof(buf), "{'name':'order_update',"
	    "'language':'en_US','category':'UTILITY'%s%s,'components':%s}",
	    extra[0] ? "," : "", extra, comps);
	return J(buf);
}

static struct tmpl_err err;

/* 1 when j is taken (and was parsed). */
static int
good(json_t *j)
{
	int rc;

	memset(&err, 0, sizeof(err));
	rc = j != NULL && tmpl_check_create(j, &err) == 0;
	if (!rc && j != NULL)
		fprintf(stderr, "  refused: %s %s %s: %s\n", err.code,
		    err.component, err.field, err.message);
	json_decref(j);
	return rc;
}

/* 1 when j is refused with code, naming component (and field, if given). */
static int
bad(json_t *j, const char *code, const char *comp, const char *field)
{
	int rc;

	memset(&err, 0, sizeof(err));
	rc = j != NULL && tmpl_check_create(j, &err) == -1 &&
	    strcmp(err.code, code) == 0 && strcmp(err.component, comp) == 0 &&
	    (field == NULL || strcmp(err.field, field) == 0) &&
	    err.message[0] != '\0';
	if (!rc)
		fprintf(stderr, "  got: %s|%s|%s: %s\n", err.code,
		    err.component, err.field, err.message);
	json_decref(j);
	return rc;
}

#define BODY1	"{'type':'BODY','text':'Hi {{1}}, order {{2}} is on its way.'," \
		"'example':{'body_text':[['Ann','A-1']]}}"

TEST(create_good_bodies)
{
	CHECK(good(body("", "[" BODY1 "]")));
	/* No variables: no example needed. */
	CHECK(good(body("", "[{'type':'BODY','text':'Your order shipped.'}]")));
	/* Everything at once. */
	CHECK(good(body("'parameter_format':'POSITIONAL'", "["
	    "{'type':'HEADER','format':'TEXT','text':'Order {{1}}',"
	    "'example':{'header_text':['A-1']}}," BODY1 ","
	    "{'type':'FOOTER','text':'Reply STOP to opt out'},"
	    "{'type':'BUTTONS','buttons':["
	    "{'type':'URL','text':'Track','url':'https://t.example/{{1}}',"
	    "'example':['https://t.example/A-1']},"
	    "{'type':'PHONE_NUMBER','text':'Call us',"
	    "'phone_number':'+15550001234'},"
	    "{'type':'COPY_CODE','example':'SAVE10'},"
	    "{'type':'FLOW','text':'Book','flow_id':'123'},"
	    "{'type':'QUICK_REPLY','text':'Stop'}]}]")));
	/* Named variables with their examples. */
	CHECK(good(body("'parameter_format':'NAMED'", "["
	    "{'type':'HEADER','format':'TEXT','text':'Hi {{first_name}}',"
	    "'example':{'header_text_named_params':[{'param_name':"
	    "'first_name','example':'Ann'}]}},"
	    "{'type':'BODY','text':'Order {{order_id}} ships {{day}}.',"
	    "'example':{'body_text_named_params':["
	    "{'param_name':'order_id','example':'A-1'},"
	    "{'param_name':'day','example':'Monday'}]}}]")));
	/* Media headers with a handle; a location header needs none. */
	CHECK(good(body("", "[{'type':'HEADER','format':'IMAGE','example':"
	    "{'header_handle':['4::aW1h']}}," BODY1 "]")));
	CHECK(good(body("", "[{'type':'HEADER','format':'LOCATION'},"
	    BODY1 "]")));
	/* A repeated variable counts once. */
	CHECK(good(body("", "[{'type':'BODY','text':'Hi {{1}}, yes {{1}}.',"
	    "'example':{'body_text':[['Ann']]}}]")));
	/* Language codes of each form Meta lists. */
	CHECK(good(J("{'name':'a','language':'pt_BR','category':'MARKETING',"
	    "'components':[{'type':'BODY','text':'x'}]}")));
	CHECK(good(J("{'name':'a','language':'es','category':'MARKETING',"
	    "'components':[{'type':'BODY','text':'x'}]}")));
	CHECK(good(J("{'name':'a','language':'fil','category':'MARKETING',"
	    "'components':[{'type':'BODY','text':'x'}]}")));
	/* AUTHENTICATION: Meta writes the body and footer. */
	CHECK(good(J("{'name':'otp','language':'en','category':"
	    "'AUTHENTICATION','components':[{'type':'BODY',"
	    "'add_security_recommendation':true},{'type':'FOOTER',"
	    "'code_expiration_minutes':10},{'type':'BUTTONS','buttons':"
	    "[{'type':'OTP','otp_type':'COPY_CODE'}]}]}")));
}

TEST(create_name)
{
	CHECK(bad(J("{'language':'en','category':'UTILITY','components':[]}"),
	    "required", "template", "name"));
	CHECK(bad(J("{'name':'Order','language':'en','category':'UTILITY',"
	    "'components':[" BODY1 "]}"), "invalid", "template", "name"));
	CHECK(bad(J("{'name':'order-update','language':'en','category':"
	    "'UTILITY','components':[" BODY1 "]}"), "invalid", "template",
	    "name"));
	CHECK(bad(J("{'name':'','language':'en','category':'UTILITY',"
	    "'components':[" BODY1 "]}"), "invalid", "template", "name"));
	CHECK(bad(J("{'name':7,'language':'en','category':'UTILITY',"
	    "'components':[" BODY1 "]}"), "required", "template", "name"));
}

TEST(create_name_length)
{
	char	 n[600], b[1024];

	memset(n, 'a', 512);
	n[512] = '\0';
	(void)snprintf(b, sizeof(b), "{'name':'%s','language':'en',"
	    "'category':'UTILITY','components':[{'type':'BODY','text':'x'}]}",
	    n);
	CHECK(good(J(b)));
	n[512] = 'a';
	n[513] = '\0';
	(void)snprintf(b, sizeof(b), "{'name':'%s','language':'en',"
	    "'category':'UTILITY','components':[{'type':'BODY','text':'x'}]}",
	    n);
	CHECK(bad(J(b), "invalid", "template", "name"));
}

TEST(create_language_category_format)
{
	CHECK(bad(J("{'name':'a','language':'en-US','category':'UTILITY',"
	    "'components':[" BODY1 "]}"), "invalid", "template", "language"));
	CHECK(bad(J("{'name':'a','language':'EN','category':'UTILITY',"
	    "'components':[" BODY1 "]}"), "invalid", "template", "language"));
	CHECK(bad(J("{'name':'a','language':'en_us','category':'UTILITY',"
	    "'components':[" BODY1 "]}"), "invalid", "template", "language"));
	CHECK(bad(J("{'name':'a','category':'UTILITY','components':["
	    BODY1 "]}"), "required", "template", "language"));
	CHECK(bad(J("{'name':'a','language':'en','category':'TRANSACTIONAL',"
	    "'components':[" BODY1 "]}"), "invalid", "template", "category"));
	CHECK(bad(J("{'name':'a','language':'en','components':[" BODY1 "]}"),
	    "required", "template", "category"));
	CHECK(bad(body("'parameter_format':'NUMBERED'", "[" BODY1 "]"),
	    "invalid", "template", "parameter_format"));
	CHECK(bad(body("'colour':'red'", "[" BODY1 "]"), "unknown_field",
	    "template", "colour"));
}

TEST(create_components_shape)
{
	CHECK(bad(body("", "[]"), "required", "template", "components"));
	CHECK(bad(body("", "{}"), "required", "template", "components"));
	CHECK(bad(body("", "[{'type':'FOOTER','text':'x'}]"), "required",
	    "body", "components"));
	CHECK(bad(body("", "[" BODY1 "," BODY1 "]"), "duplicate", "body",
	    "components[1]"));
	CHECK(bad(body("", "[{'type':'HEADER','format':'LOCATION'},"
	    "{'type':'HEADER','format':'LOCATION'}," BODY1 "]"), "duplicate",
	    "header", "components[1]"));
	CHECK(bad(body("", "[" BODY1 ",{'type':'FOOTER','text':'a'},"
	    "{'type':'FOOTER','text':'b'}]"), "duplicate", "footer",
	    "components[2]"));
	CHECK(bad(body("", "[" BODY1 ",{'type':'CAROUSEL'}]"), "invalid",
	    "template", "components[1]"));
	CHECK(bad(body("", "[" BODY1 ",'x']"), "required", "template",
	    "components[1]"));
}

TEST(create_body_rules)
{
	char	 t[1100], b[2048];

	memset(t, 'x', 1024);
	t[1024] = '\0';
	(void)snprintf(b, sizeof(b), "[{'type':'BODY','text':'%s'}]", t);
	CHECK(good(body("", b)));
	t[1024] = 'x';
	t[1025] = '\0';
	(void)snprintf(b, sizeof(b), "[{'type':'BODY','text':'%s'}]", t);
	CHECK(bad(body("", b), "too_long", "body", "components[0]"));
	/* Characters, not bytes: 1024 two-byte letters are fine. */
	{
		char	big[2200];
		char	wrap[2400];
		int	i;

		for (i = 0; i < 1024; i++)
			memcpy(big + 2 * i, "\xc3\xa9", 2);
		big[2048] = '\0';
		(void)snprintf(wrap, sizeof(wrap),
		    "[{'type':'BODY','text':'%s'}]", big);
		CHECK(good(body("", wrap)));
	}
	CHECK(bad(body("", "[{'type':'BODY','text':''}]"), "required", "body",
	    "components[0]"));
	CHECK(bad(body("", "[{'type':'BODY'}]"), "required", "body",
	    "components[0]"));
}

TEST(create_variables_numbered_without_gaps)
{
	CHECK(bad(body("", "[{'type':'BODY','text':'a {{1}} b {{3}} c',"
	    "'example':{'body_text':[['x','y']]}}]"), "bad_variable", "body",
	    NULL));
	CHECK(strstr(err.message, "{{2}}") != NULL);
	CHECK(bad(body("", "[{'type':'BODY','text':'a {{2}} c',"
	    "'example':{'body_text':[['x']]}}]"), "bad_variable", "body",
	    NULL));
	CHECK(bad(body("", "[{'type':'BODY','text':'a {{0}} c',"
	    "'example':{'body_text':[['x']]}}]"), "bad_variable", "body",
	    NULL));
	CHECK(bad(body("", "[{'type':'BODY','text':'a {{ 1 }} c'}]"),
	    "bad_variable", "body", NULL));
	CHECK(bad(body("", "[{'type':'BODY','text':'a {{1 c'}]"),
	    "bad_variable", "body", NULL));
	CHECK(bad(body("", "[{'type':'BODY','text':'a {{}} c'}]"),
	    "bad_variable", "body", NULL));
	CHECK(bad(body("", "[{'type':'BODY','text':'a {{Name}} c'}]"),
	    "bad_variable", "body", NULL));
	/* A named variable in a POSITIONAL template, and the reverse. */
	CHECK(bad(body("", "[{'type':'BODY','text':'a {{name}} c',"
	    "'example':{'body_text':[['x']]}}]"), "bad_variable", "body",
	    NULL));
	CHECK(bad(body("'parameter_format':'NAMED'", "[" BODY1 "]"),
	    "bad_variable", "body", NULL));
	CHECK(bad(body("'parameter_format':'NAMED'", "[{'type':'BODY',"
	    "'text':'a {{x}} and {{1}} b'}]"), "bad_variable", "body", NULL));
}

TEST(create_variable_not_at_the_ends)
{
	CHECK(bad(body("", "[{'type':'BODY','text':'{{1}} is your code.',"
	    "'example':{'body_text':[['1234']]}}]"), "bad_variable", "body",
	    NULL));
	CHECK(strstr(err.message, "start") != NULL);
	CHECK(bad(body("", "[{'type':'BODY','text':'Your code is {{1}}',"
	    "'example':{'body_text':[['1234']]}}]"), "bad_variable", "body",
	    NULL));
	CHECK(strstr(err.message, "end") != NULL);
	/* Blanks around do not hide it. */
	CHECK(bad(body("", "[{'type':'BODY','text':'Your code is {{1}}  ',"
	    "'example':{'body_text':[['1234']]}}]"), "bad_variable", "body",
	    NULL));
	CHECK(good(body("", "[{'type':'BODY','text':'Your code is {{1}}.',"
	    "'example':{'body_text':[['1234']]}}]")));
}

TEST(create_examples_counted)
{
	CHECK(bad(body("", "[{'type':'BODY','text':'Hi {{1}} and {{2}}.'}]"),
	    "example", "body", NULL));
	CHECK(bad(body("", "[{'type':'BODY','text':'Hi {{1}} and {{2}}.',"
	    "'example':{'body_text':[['Ann']]}}]"), "example", "body", NULL));
	CHECK(bad(body("", "[{'type':'BODY','text':'Hi {{1}} and {{2}}.',"
	    "'example':{'body_text':[['Ann','B','C']]}}]"), "example", "body",
	    NULL));
	CHECK(bad(body("", "[{'type':'BODY','text':'Hi {{1}} and {{2}}.',"
	    "'example':{'body_text':['Ann','B']}}]"), "example", "body",
	    NULL));
	CHECK(bad(body("", "[{'type':'BODY','text':'Hi {{1}} and {{2}}.',"
	    "'example':{'body_text':[['Ann','']]}}]"), "example", "body",
	    NULL));
	/* Named: each variable once, no stranger. */
	CHECK(bad(body("'parameter_format':'NAMED'", "[{'type':'BODY',"
	    "'text':'Hi {{a}} and {{b}}.','example':{"
	    "'body_text_named_params':[{'param_name':'a','example':'x'}]}}]"),
	    "example", "body", NULL));
	CHECK(strstr(err.message, "{{b}}") != NULL);
	CHECK(bad(body("'parameter_format':'NAMED'", "[{'type':'BODY',"
	    "'text':'Hi {{a}} now.','example':{'body_text_named_params':["
	    "{'param_name':'a','example':'x'},{'param_name':'c','example':"
	    "'y'}]}}]"), "example", "body", NULL));
	CHECK(bad(body("'parameter_format':'NAMED'", "[{'type':'BODY',"
	    "'text':'Hi {{a}} now.','example':{'body_text_named_params':["
	    "{'param_name':'a','example':'x'},{'param_name':'a','example':"
	    "'y'}]}}]"), "duplicate", "body", NULL));
}

TEST(create_header_rules)
{
	CHECK(bad(body("", "[{'type':'HEADER','format':'TEXT','text':"
	    "'{{1}} and {{2}}','example':{'header_text':['a','b']}},"
	    BODY1 "]"), "too_many", "header", "components[0]"));
	CHECK(bad(body("", "[{'type':'HEADER','format':'TEXT','text':"
	    "'Order {{1}}'}," BODY1 "]"), "example", "header",
	    "components[0]"));
	CHECK(bad(body("", "[{'type':'HEADER','format':'TEXT','text':"
	    "'0123456789012345678901234567890123456789012345678901234567890'},"
	    BODY1 "]"), "too_long", "header", "components[0]"));
	CHECK(good(body("", "[{'type':'HEADER','format':'TEXT','text':"
	    "'012345678901234567890123456789012345678901234567890123456789'},"
	    BODY1 "]")));
	CHECK(bad(body("", "[{'type':'HEADER','format':'VIDEO'}," BODY1 "]"),
	    "example", "header", "components[0]"));
	CHECK(bad(body("", "[{'type':'HEADER','format':'DOCUMENT','example':"
	    "{'header_handle':[]}}," BODY1 "]"), "example", "header",
	    "components[0]"));
	CHECK(bad(body("", "[{'type':'HEADER','format':'GIF'}," BODY1 "]"),
	    "invalid", "header", "components[0]"));
	CHECK(bad(body("", "[{'type':'HEADER','text':'x'}," BODY1 "]"),
	    "required", "header", "components[0]"));
}

TEST(create_footer_rules)
{
	CHECK(bad(body("", "[" BODY1 ",{'type':'FOOTER','text':'Hi {{1}}'}]"),
	    "bad_variable", "footer", "components[1]"));
	CHECK(bad(body("", "[" BODY1 ",{'type':'FOOTER','text':"
	    "'0123456789012345678901234567890123456789012345678901234567890'}"
	    "]"), "too_long", "footer", "components[1]"));
	CHECK(bad(J("{'name':'otp','language':'en','category':"
	    "'AUTHENTICATION','components':[{'type':'BODY'},{'type':'FOOTER',"
	    "'code_expiration_minutes':91}]}"), "invalid", "footer",
	    "components[1]"));
}

TEST(create_button_rules)
{
	char	 b[4096];
	int	 i;
	size_t	 n;

	/* 10 buttons, not 11. */
	n = (size_t)snprintf(b, sizeof(b), "[" BODY1 ",{'type':'BUTTONS',"
	    "'buttons':[");
	for (i = 0; i < 10; i++)
		n += (size_t)snprintf(b + n, sizeof(b) - n, "%s{'type':"
		    "'QUICK_REPLY','text':'Option %d'}", i ? "," : "", i);
	(void)snprintf(b + n, sizeof(b) - n, "]}]");
	CHECK(good(body("", b)));
	b[n] = '\0';
	(void)snprintf(b + n, sizeof(b) - n, ",{'type':'QUICK_REPLY','text':"
	    "'Eleven'}]}]");
	CHECK(bad(body("", b), "too_many", "buttons", "components[1]"));
	CHECK(bad(body("", "[" BODY1 ",{'type':'BUTTONS','buttons':[]}]"),
	    "required", "buttons", "components[1]"));
	CHECK(bad(body("", "[" BODY1 ",{'type':'BUTTONS','buttons':[{'type':"
	    "'QUICK_REPLY','text':'12345678901234567890123456'}]}]"),
	    "too_long", "button 0", "buttons[0]"));
	CHECK(good(body("", "[" BODY1 ",{'type':'BUTTONS','buttons':[{'type':"
	    "'QUICK_REPLY','text':'1234567890123456789012345'}]}]")));
	CHECK(bad(body("", "[" BODY1 ",{'type':'BUTTONS','buttons':[{'type':"
	    "'QUICK_REPLY','text':'a {{1}} b'}]}]"), "bad_variable",
	    "button 0", "buttons[0]"));
	/* URL: one variable, at the end, with an example. */
	CHECK(bad(body("", "[" BODY1 ",{'type':'BUTTONS','buttons':[{'type':"
	    "'URL','text':'Go','url':'https://x.example/{{1}}/more',"
	    "'example':['https://x.example/a/more']}]}]"), "bad_variable",
	    "button 0", "buttons[0]"));
	CHECK(bad(body("", "[" BODY1 ",{'type':'BUTTONS','buttons':[{'type':"
	    "'URL','text':'Go','url':'https://x.example/{{1}}{{2}}'}]}]"),
	    "bad_variable", "button 0", "buttons[0]"));
	CHECK(bad(body("", "[" BODY1 ",{'type':'BUTTONS','buttons':[{'type':"
	    "'URL','text':'Go','url':'https://x.example/{{1}}'}]}]"),
	    "example", "button 0", "buttons[0]"));
	CHECK(bad(body("", "[" BODY1 ",{'type':'BUTTONS','buttons':[{'type':"
	    "'URL','text':'Go','url':'ftp://x.example/'}]}]"), "invalid",
	    "button 0", "buttons[0]"));
	CHECK(good(body("", "[" BODY1 ",{'type':'BUTTONS','buttons':[{'type':"
	    "'URL','text':'Go','url':'https://x.example/'}]}]")));
	CHECK(bad(body("", "[" BODY1 ",{'type':'BUTTONS','buttons':["
	    "{'type':'URL','text':'A','url':'https://a.example/'},"
	    "{'type':'URL','text':'B','url':'https://b.example/'},"
	    "{'type':'URL','text':'C','url':'https://c.example/'}]}]"),
	    "too_many", "button 2", "buttons[2]"));
	/* PHONE_NUMBER: a number in international form. */
	CHECK(bad(body("", "[" BODY1 ",{'type':'BUTTONS','buttons':[{'type':"
	    "'PHONE_NUMBER','text':'Call'}]}]"), "required", "button 0",
	    "buttons[0]"));
	CHECK(bad(body("", "[" BODY1 ",{'type':'BUTTONS','buttons':[{'type':"
	    "'PHONE_NUMBER','text':'Call','phone_number':'call me'}]}]"),
	    "invalid", "button 0", "buttons[0]"));
	CHECK(bad(body("", "[" BODY1 ",{'type':'BUTTONS','buttons':[{'type':"
	    "'PHONE_NUMBER','text':'Call','phone_number':'+15550001234567890123'"
	    "}]}]"), "too_long", "button 0", "buttons[0]"));
	/* COPY_CODE: an example of at most 15. */
	CHECK(bad(body("", "[" BODY1 ",{'type':'BUTTONS','buttons':[{'type':"
	    "'COPY_CODE'}]}]"), "example", "button 0", "buttons[0]"));
	CHECK(bad(body("", "[" BODY1 ",{'type':'BUTTONS','buttons':[{'type':"
	    "'COPY_CODE','example':'1234567890123456'}]}]"), "too_long",
	    "button 0", "buttons[0]"));
	/* FLOW: names its flow. */
	CHECK(bad(body("", "[" BODY1 ",{'type':'BUTTONS','buttons':[{'type':"
	    "'FLOW','text':'Book'}]}]"), "required", "button 0",
	    "buttons[0]"));
	CHECK(good(body("", "[" BODY1 ",{'type':'BUTTONS','buttons':[{'type':"
	    "'FLOW','text':'Book','flow_name':'booking'}]}]")));
	CHECK(bad(body("", "[" BODY1 ",{'type':'BUTTONS','buttons':[{'type':"
	    "'TELEPORT','text':'Go'}]}]"), "invalid", "button 0",
	    "buttons[0]"));
	CHECK(bad(body("", "[" BODY1 ",{'type':'BUTTONS','buttons':[{'type':"
	    "'QUICK_REPLY','text':'a'}]},{'type':'BUTTONS','buttons':[{'type':"
	    "'QUICK_REPLY','text':'b'}]}]"), "duplicate", "buttons",
	    "components[2]"));
}

/* What a stored template (Meta's listing shape) asks of a send. */
#define STORED "[{'type':'HEADER','format':'IMAGE'}," \
	"{'type':'BODY','text':'Hi {{1}}, order {{2}} ships {{1}}.'}," \
	"{'type':'BUTTONS','buttons':[{'type':'QUICK_REPLY','text':'Stop'}," \
	"{'type':'URL','text':'Track','url':'https://t.example/{{1}}'}," \
	"{'type':'PHONE_NUMBER','text':'Call','phone_number':'+1555'}]}]"

TEST(want_counts_each_component)
{
	struct tmpl_want	 w;
	json_t			*c = J(STORED);

	CHECK(tmpl_want(c, &w) == 0);
	CHECK(w.header == 1 && w.header_media == 1);
	CHECK(w.body == 2);
	CHECK(w.nbuttons == 3);
	CHECK(w.button[0] == 0 && w.button[1] == 1 && w.button[2] == 0);
	CHECK(strcmp(w.button_type[1], "URL") == 0);
	CHECK(w.named == 0);
	json_decref(c);
	c = J("[{'type':'HEADER','format':'TEXT','text':'Hi {{name}}'},"
	    "{'type':'BODY','text':'Order {{id}}.'}]");
	CHECK(tmpl_want(c, &w) == 0);
	CHECK(w.named == 1 && w.header == 1 && w.header_media == 0 &&
	    w.body == 1 && w.nbuttons == 0);
	json_decref(c);
	c = J("[{'type':'BODY','text':'No variables.'},{'type':'FOOTER',"
	    "'text':'f'}]");
	CHECK(tmpl_want(c, &w) == 0);
	CHECK(w.header == 0 && w.body == 0 && w.nbuttons == 0);
	json_decref(c);
	c = J("{'type':'BODY'}");
	CHECK(tmpl_want(c, &w) == -1);
	json_decref(c);
}

/* 0 or -1 from tmpl_check_send for the send components s. */
static int
send_check(const char *stored, const char *s)
{
	struct tmpl_want	 w;
	json_t			*c = J(stored), *sc = s ? J(s) : NULL;
	int			 rc;

	memset(&err, 0, sizeof(err));
	rc = tmpl_want(c, &w) == 0 ? tmpl_check_send(&w, sc, &err) : -2;
	json_decref(c);
	json_decref(sc);
	return rc;
}

TEST(send_right_counts_pass)
{
	CHECK(send_check(STORED, "[{'type':'header','parameters':[{'type':"
	    "'image','image':{'id':'1'}}]},{'type':'body','parameters':["
	    "{'type':'text','text':'Ann'},{'type':'text','text':'A-1'}]},"
	    "{'type':'button','sub_type':'url','index':'1','parameters':["
	    "{'type':'text','text':'A-1'}]}]") == 0);
	/* A quick reply's payload may be given too. */
	CHECK(send_check(STORED, "[{'type':'header','parameters':[{'type':"
	    "'image','image':{'id':'1'}}]},{'type':'body','parameters':["
	    "{'type':'text','text':'Ann'},{'type':'text','text':'A-1'}]},"
	    "{'type':'button','sub_type':'url','index':1,'parameters':["
	    "{'type':'text','text':'A-1'}]},{'type':'button','sub_type':"
	    "'quick_reply','index':'0','parameters':[{'type':'payload',"
	    "'payload':'STOP'}]}]") == 0);
	/* A template without variables takes no components. */
	CHECK(send_check("[{'type':'BODY','text':'Hello.'}]", NULL) == 0);
	CHECK(send_check("[{'type':'BODY','text':'Hello.'}]", "[]") == 0);
}

TEST(send_wrong_counts_name_the_component)
{
	CHECK(send_check(STORED, "[{'type':'header','parameters':[{'type':"
	    "'image','image':{'id':'1'}}]},{'type':'body','parameters':["
	    "{'type':'text','text':'Ann'}]},{'type':'button','sub_type':'url',"
	    "'index':'1','parameters':[{'type':'text','text':'A-1'}]}]") == -1);
	CHECK(strcmp(err.component, "body") == 0);
	CHECK(strcmp(err.code, "parameters") == 0);
	CHECK(strstr(err.message, "needs 2") != NULL &&
	    strstr(err.message, "gives 1") != NULL);
	/* The header missing. */
	CHECK(send_check(STORED, "[{'type':'body','parameters':[{'type':"
	    "'text','text':'Ann'},{'type':'text','text':'A-1'}]},{'type':"
	    "'button','sub_type':'url','index':'1','parameters':[{'type':"
	    "'text','text':'A-1'}]}]") == -1);
	CHECK(strcmp(err.component, "header") == 0);
	/* The URL button missing. */
	CHECK(send_check(STORED, "[{'type':'header','parameters':[{'type':"
	    "'image','image':{'id':'1'}}]},{'type':'body','parameters':["
	    "{'type':'text','text':'Ann'},{'type':'text','text':'A-1'}]}]") ==
	    -1);
	CHECK(strcmp(err.component, "button 1") == 0);
	/* Parameters for a template without variables. */
	CHECK(send_check("[{'type':'BODY','text':'Hello.'}]", "[{'type':"
	    "'body','parameters':[{'type':'text','text':'x'}]}]") == -1);
	CHECK(strcmp(err.component, "body") == 0 &&
	    strstr(err.message, "needs 0") != NULL);
	/* A button the template does not have. */
	CHECK(send_check(STORED, "[{'type':'button','index':'7','parameters':"
	    "[]}]") == -1);
	CHECK(strcmp(err.component, "button") == 0);
	/* Two bodies. */
	CHECK(send_check(STORED, "[{'type':'body','parameters':[]},{'type':"
	    "'body','parameters':[]}]") == -1);
	CHECK(strcmp(err.code, "duplicate") == 0);
	/* Not an array. */
	CHECK(send_check(STORED, "{'type':'body'}") == -1);
	CHECK(strcmp(err.code, "bad_type") == 0);
}

TEST(send_named_needs_parameter_names)
{
	const char *named = "[{'type':'BODY','text':'Order {{id}} ok.'}]";

	CHECK(send_check(named, "[{'type':'body','parameters':[{'type':"
	    "'text','parameter_name':'id','text':'A-1'}]}]") == 0);
	CHECK(send_check(named, "[{'type':'body','parameters':[{'type':"
	    "'text','text':'A-1'}]}]") == -1);
	CHECK(strcmp(err.component, "body") == 0);
}

int
main(void)
{
	RUN(create_good_bodies);
	RUN(create_name);
	RUN(create_name_length);
	RUN(create_language_category_format);
	RUN(create_components_shape);
	RUN(create_body_rules);
	RUN(create_variables_numbered_without_gaps);
	RUN(create_variable_not_at_the_ends);
	RUN(create_examples_counted);
	RUN(create_header_rules);
	RUN(create_footer_rules);
	RUN(create_button_rules);
	RUN(want_counts_each_component);
	RUN(send_right_counts_pass);
	RUN(send_wrong_counts_name_the_component);
	RUN(send_named_needs_parameter_names);
	return CHECK_DONE();
}
