/* test_graph.c: Graph API replies (the fixtures) to sender decisions. */
#include <string.h>
#include "check.h"
#include "util.h"
#include "graph.h"

static void
parse_file(enum graph_want want, long http, const char *name,
    struct graph_reply *r)
{
	char	 path[512];
	char	*body;
	size_t	 len = 0;

	snprintf(path, sizeof(path), FIXTURES "/graph/%s", name);
	body = slurp(path, &len);
	CHECK(body != NULL);
	graph_reply_parse(want, http, NULL, body, len, r);
	free(body);
}

TEST(send_success)
{
	struct graph_reply r;

	parse_file(GRAPH_WANT_SEND, 200, "send_success.json", &r);
	CHECK(r.action == GRAPH_OK);
	CHECK(strcmp(r.id, "wamid.HBgLMTU1NTAwMDIyMjIVAgARGBI5RDFFMkYz"
	    "QTRCNUM2RDdFQTAA") == 0);
	CHECK(strcmp(r.wa_id, "15550002222") == 0);
	parse_file(GRAPH_WANT_SEND, 200, "send_success_template.json", &r);
	CHECK(r.action == GRAPH_OK && strncmp(r.id, "wamid.", 6) == 0);
	parse_file(GRAPH_WANT_SEND, 200, "success_true.json", &r);
	CHECK(r.action == GRAPH_OK && r.id[0] == '\0');
}

/* Reference 8.2 by the fixtures: the code decides, not the status. */
TEST(errors_by_code)
{
	static const struct {
		const char		*file;
		long			 http;
		int64_t			 code;
		enum graph_action	 want;
	} t[] = {
		{ "error_130429.json", 400, 130429, GRAPH_RETRY_NUMBER },
		{ "error_131056.json", 400, 131056, GRAPH_RETRY_PAIR },
		{ "error_131047.json", 400, 131047, GRAPH_FAIL },
		{ "error_190.json", 401, 190, GRAPH_PAUSE_TOKEN },
		{ "error_500_generic.json", 500, 131000, GRAPH_RETRY },
	};
	struct graph_reply	r;
	size_t			i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		parse_file(GRAPH_WANT_SEND, t[i].http, t[i].file, &r);
		CHECK(r.action == t[i].want);
		CHECK(r.code == t[i].code);
		CHECK(r.title[0] != '\0' && r.fbtrace[0] != '\0');
	}
	parse_file(GRAPH_WANT_SEND, 400, "error_131056.json", &r);
	CHECK(strstr(r.details, "same recipient") != NULL);
}

TEST(codes_table)
{
	CHECK(graph_classify(0, 401) == GRAPH_PAUSE_TOKEN);
	CHECK(graph_classify(131048, 400) == GRAPH_BREAKER);
	CHECK(graph_classify(131050, 400) == GRAPH_OPTED_OUT);
	CHECK(graph_classify(131026, 400) == GRAPH_FAIL);
	CHECK(graph_classify(132000, 400) == GRAPH_FAIL);
	CHECK(graph_classify(100, 400) == GRAPH_FAIL);
	CHECK(graph_classify(80007, 400) == GRAPH_RETRY_NUMBER);
	CHECK(graph_classify(131057, 500) == GRAPH_RETRY);
	/* A code we do not know is not retried, whatever the status. */
	CHECK(graph_classify(999999, 500) == GRAPH_FAIL);
	/* No code: the status decides. */
	CHECK(graph_classify(-1, 502) == GRAPH_RETRY);
	CHECK(graph_classify(-1, 429) == GRAPH_RETRY);
	CHECK(graph_classify(-1, 401) == GRAPH_PAUSE_TOKEN);
	CHECK(graph_classify(-1, 404) == GRAPH_FAIL);
}

TEST(unusable_replies)
{
	struct graph_reply r;

	graph_reply_parse(GRAPH_WANT_SEND, 0, "Timeout was reached", NULL, 0,
	    &r);
	CHECK(r.action == GRAPH_RETRY && strcmp(r.title,
	    "Timeout was reached") == 0);
	graph_reply_parse(GRAPH_WANT_SEND, 502, NULL, "<html>bad</html>", 16,
	    &r);
	CHECK(r.action == GRAPH_RETRY && r.code == 0);
	graph_reply_parse(GRAPH_WANT_SEND, 503, NULL, NULL, 0, &r);
	CHECK(r.action == GRAPH_RETRY);
	graph_reply_parse(GRAPH_WANT_SEND, 200, NULL, "{\"messages\":[]}", 15,
	    &r);
	CHECK(r.action == GRAPH_FAIL);
	graph_reply_parse(GRAPH_WANT_SEND, 200, NULL, "not json", 8, &r);
	CHECK(r.action == GRAPH_FAIL);
	graph_reply_parse(GRAPH_WANT_ID, 200, NULL, "{\"id\":\"4490709327384033\"}",
	    25, &r);
	CHECK(r.action == GRAPH_OK && strcmp(r.id, "4490709327384033") == 0);
}

TEST(media_info)
{
	struct graph_reply r;

	parse_file(GRAPH_WANT_MEDIA, 200, "media_url.json", &r);
	CHECK(r.action == GRAPH_OK);
	CHECK(strncmp(r.url, "https://lookaside.fbsbx.com/", 28) == 0);
	CHECK(strcmp(r.mime, "image/jpeg") == 0);
	CHECK(r.file_size == 48213);
	CHECK(strlen(r.sha256) == 64);
	graph_reply_parse(GRAPH_WANT_MEDIA, 200, NULL,
	    "{\"url\":\"https://x/y\",\"file_size\":\"303833\"}", 42, &r);
	CHECK(r.action == GRAPH_OK && r.file_size == 303833);
	graph_reply_parse(GRAPH_WANT_MEDIA, 200, NULL, "{\"id\":\"1\"}", 10, &r);
	CHECK(r.action == GRAPH_FAIL);
}

int
main(void)
{
	RUN(send_success);
	RUN(errors_by_code);
	RUN(codes_table);
	RUN(unusable_replies);
	RUN(media_info);
	return CHECK_DONE();
}
