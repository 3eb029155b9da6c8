/* test_url.c: the strict URL parser, the host rules and the escaper. */
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "cfg.h"
#include "url.h"

static int
ok(const char *s)
{
	struct url	 u;
	const char	*why;

	return url_parse(s, &u, &why) == 0;
}

TEST(parses_host_port_scheme)
{
	struct url	 u;
	const char	*why;

	CHECK(url_parse("https://Agent.Example.com/answer?x=1", &u, &why) == 0);
	CHECK(u.https == 1 && strcmp(u.host, "agent.example.com") == 0 &&
	    u.port == 443);
	CHECK(url_parse("http://127.0.0.1:8081/a", &u, &why) == 0);
	CHECK(u.https == 0 && strcmp(u.host, "127.0.0.1") == 0 &&
	    u.port == 8081);
	CHECK(url_parse("https://[::1]:9443", &u, &why) == 0);
	CHECK(u.ip6 && strcmp(u.host, "::1") == 0 && u.port == 9443);
	CHECK(url_parse("https://example.com./x", &u, &why) == 0);
	CHECK(strcmp(u.host, "example.com") == 0);
}

TEST(refuses_userinfo)
{
	struct url	 u;
	const char	*why;

	CHECK(url_parse("http://localhost:80@evil.example/", &u, &why) == -1);
	CHECK(why != NULL && strstr(why, "user") != NULL);
	CHECK(!ok("https://user:pw@agent.example/"));
	CHECK(!ok("https://@agent.example/"));
}

TEST(refuses_odd_hosts_and_ports)
{
	CHECK(!ok("ftp://agent.example/"));
	CHECK(!ok("https://"));
	CHECK(!ok("https:///path"));
	CHECK(!ok("https://agent.example:0/"));
	CHECK(!ok("https://agent.example:65536/"));
	CHECK(!ok("https://agent.example:/"));
	CHECK(!ok("https://agent.example:80x/"));
	CHECK(!ok("https://agent .example/"));
	CHECK(!ok("https://agent.example\\@evil/"));
	CHECK(!ok("https://agent_x.example/"));
	CHECK(!ok("https://a..b/"));
	CHECK(!ok("https://agent.example/#frag"));
	CHECK(!ok("https://[::1/"));
	CHECK(!ok("https://[zz::1]/"));
	CHECK(!ok("https://2130706433/"));
	CHECK(!ok("https://127.1/"));
	CHECK(!ok("https://0x7f.0.0.1/"));
	CHECK(!ok("https://127.000.0.1/"));
	CHECK(!ok("https://256.1.1.1/"));
	CHECK(!ok("http://a.example/\x01"));
	CHECK(ok("https://1.2.3.4/"));
}

TEST(loopback_and_local)
{
	struct url	 u;
	const char	*why;

	CHECK(url_parse("http://localhost:9/", &u, &why) == 0 &&
	    url_is_loopback(&u) && url_is_local(&u));
	CHECK(url_parse("http://127.5.6.7/", &u, &why) == 0 &&
	    url_is_loopback(&u));
	CHECK(url_parse("https://[::1]/", &u, &why) == 0 && url_is_loopback(&u));
	CHECK(url_parse("https://10.1.2.3/", &u, &why) == 0 &&
	    !url_is_loopback(&u) && url_is_local(&u));
	CHECK(url_parse("https://192.168.0.1/", &u, &why) == 0 &&
	    url_is_local(&u));
	CHECK(url_parse("https://172.20.0.1/", &u, &why) == 0 &&
	    url_is_local(&u));
	CHECK(url_parse("https://172.32.0.1/", &u, &why) == 0 &&
	    !url_is_local(&u));
	CHECK(url_parse("https://169.254.169.254/", &u, &why) == 0 &&
	    url_is_local(&u));
	CHECK(url_parse("https://[fd00::1]/", &u, &why) == 0 &&
	    url_is_local(&u));
	CHECK(url_parse("https://[::ffff:127.0.0.1]/", &u, &why) == 0 &&
	    url_is_local(&u));
	CHECK(url_parse("https://agent.example/", &u, &why) == 0 &&
	    !url_is_local(&u));
}

TEST(host_in_domain)
{
	CHECK(url_host_in("lookaside.fbsbx.com", "fbsbx.com"));
	CHECK(url_host_in("a.b.whatsapp.net", "whatsapp.net"));
	CHECK(!url_host_in("fbsbx.com", "fbsbx.com"));
	CHECK(!url_host_in("evilfbsbx.com", "fbsbx.com"));
	CHECK(!url_host_in("fbsbx.com.evil.example", "fbsbx.com"));
}

TEST(agent_rules)
{
	const char *why = NULL;

	CHECK(url_agent_ok("https://agent.example/answer", 0, &why));
	CHECK(!url_agent_ok("http://agent.example/answer", 1, &why));
	CHECK(why != NULL && strstr(why, "https") != NULL);
	CHECK(!url_agent_ok("http://127.0.0.1:8000/", 0, &why));
	CHECK(why != NULL && strstr(why, "WA_ALLOW_LOCAL_URLS") != NULL);
	CHECK(url_agent_ok("http://127.0.0.1:8000/", 1, &why));
	CHECK(!url_agent_ok("https://10.0.0.5/", 0, &why));
	CHECK(url_agent_ok("https://10.0.0.5/", 1, &why));
	CHECK(!url_agent_ok("http://localhost:80@evil.example/", 1, &why));
}

TEST(escape_keeps_ids_in_their_segment)
{
	char out[64];

	CHECK(url_escape("1234567890", out, sizeof(out)) == 0 &&
	    strcmp(out, "1234567890") == 0);
	CHECK(url_escape("../1?x=y#z", out, sizeof(out)) == 0 &&
	    strcmp(out, "%2E%2E%2F1%3Fx%3Dy%23z") == 0);
	CHECK(url_escape("a b&c", out, sizeof(out)) == 0 &&
	    strcmp(out, "a%20b%26c") == 0);
	CHECK(url_escape("abcd", out, 4) == -1);
	CHECK(url_escape("abc", out, 4) == 0);
	CHECK(url_escape("/", out, 3) == -1);
}

/* Loads the configuration with WA_AGENTS and the Graph URL set so. */
static int
load_with(struct cfg *c, const char *agents, const char *graph)
{
	char err[512];

	unsetenv("WA_ENV_FILE");
	setenv("WHATSAPP_APP_SECRET", "topsecretvalue", 1);
	setenv("WHATSAPP_VERIFY_TOKEN", "verifyme", 1);
	setenv("WHATSAPP_ACCESS_TOKEN", "EAAtoken", 1);
	setenv("WHATSAPP_PHONE_NUMBER_ID", "200300400500600", 1);
	setenv("WA_STATE_DIR", "/tmp/x", 1);
	setenv("WA_AGENTS", agents, 1);
	setenv("WHATSAPP_GRAPH_URL", graph, 1);
	return cfg_load(c, CFG_NEED_RESPONDER | CFG_NEED_WORKER, err,
	    sizeof(err));
}

TEST(cfg_agents_by_name_or_url)
{
	struct cfg	c;
	char		url[600];

	CHECK(load_with(&c, "sales=https://a.example/x,ops=http://127.0.0.1:9/y",
	    "https://graph.facebook.com") == 0);
	CHECK(cfg_agent_find(&c, "sales", url, sizeof(url)) == 1 &&
	    strcmp(url, "https://a.example/x") == 0);
	CHECK(cfg_agent_find(&c, "http://127.0.0.1:9/y", url, sizeof(url)) == 1 &&
	    strcmp(url, "http://127.0.0.1:9/y") == 0);
	CHECK(cfg_agent_find(&c, "https://evil.example/x", url,
	    sizeof(url)) == 0);
	CHECK(cfg_agent_find(&c, "sale", url, sizeof(url)) == 0);
	CHECK(cfg_agent_find(&c, "", url, sizeof(url)) == 0);
	CHECK(c.allow_local == 0 && c.media_min_free_mb == 1024);
	cfg_clear(&c);
	CHECK(load_with(&c, "", "https://graph.facebook.com") == 0);
	CHECK(cfg_agent_find(&c, "sales", url, sizeof(url)) == 0);
	cfg_clear(&c);
}

TEST(cfg_refuses_bad_agents_and_graph_urls)
{
	struct cfg c;

	CHECK(load_with(&c, "sales=http://localhost:80@evil.example/",
	    "https://graph.facebook.com") == -1);
	CHECK(load_with(&c, "sales=http://a.example/", "https://g.example") ==
	    -1);
	CHECK(load_with(&c, "https://a.example/", "https://g.example") == -1);
	CHECK(load_with(&c, "a=https://a.example/,a=https://b.example/",
	    "https://g.example") == -1);
	CHECK(load_with(&c, "a b=https://a.example/", "https://g.example") ==
	    -1);
	CHECK(load_with(&c, "", "http://graph.example") == -1);
	CHECK(load_with(&c, "", "https://u@graph.example") == -1);
	CHECK(load_with(&c, "", "http://127.0.0.1:9") == 0);
	cfg_clear(&c);
	unsetenv("WA_AGENTS");
	unsetenv("WHATSAPP_GRAPH_URL");
}

int
main(void)
{
	RUN(parses_host_port_scheme);
	RUN(refuses_userinfo);
	RUN(refuses_odd_hosts_and_ports);
	RUN(loopback_and_local);
	RUN(host_in_domain);
	RUN(agent_rules);
	RUN(escape_keeps_ids_in_their_segment);
	RUN(cfg_agents_by_name_or_url);
	RUN(cfg_refuses_bad_agents_and_graph_urls);
	return CHECK_DONE();
}
