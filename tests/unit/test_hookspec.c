/* test_hookspec.c: what a hook's URL and event types may be (issue 16). */
#include <string.h>

#include "check.h"
#include "hookspec.h"

static const char *
refused(const char *url, int open)
{
	const char *code = NULL, *msg = NULL;

	if (hookspec_url(url, open, &code, &msg) == 0)
		return NULL;
	CHECK(msg != NULL && strlen(msg) > 20);
	return code;
}

TEST(https_public_hosts_pass)
{
	CHECK(refused("https://crm.example.com/wa?x=1", 0) == NULL);
	CHECK(refused("https://hooks.example.com:8443", 0) == NULL);
	CHECK(refused("https://93.184.216.34/in", 0) == NULL);
	CHECK(refused("https://[2001:db8::1]/in", 0) == NULL);
	CHECK(refused("https://100.128.0.1/", 0) == NULL);	/* past CGNAT */
	CHECK(refused("https://172.32.0.1/", 0) == NULL);	/* past 172.16/12 */
}

TEST(bad_urls_are_invalid)
{
	CHECK(strcmp(refused("http://crm.example.com/", 0), "invalid_url") == 0);
	CHECK(strcmp(refused("ftp://crm.example.com/", 1), "invalid_url") == 0);
	CHECK(strcmp(refused("https://", 0), "invalid_url") == 0);
	CHECK(strcmp(refused("https:///path", 0), "invalid_url") == 0);
	CHECK(strcmp(refused("https://a b.example.com/", 0), "invalid_url") == 0);
	CHECK(strcmp(refused("https://u:p@crm.example.com/", 0),
	    "invalid_url") == 0);
	CHECK(strcmp(refused("https://[::1/x", 0), "invalid_url") == 0);
}

TEST(private_hosts_refused_unless_allowed)
{
	static const char *const priv[] = {
		"https://localhost/", "https://LOCALHOST:443/",
		"https://app.localhost/", "https://127.0.0.1/",
		"https://10.0.0.1/", "https://172.16.5.4/",
		"https://192.168.1.1/", "https://169.254.169.254/latest",
		"https://100.64.0.1/", "https://0.0.0.0/", "https://224.0.0.1/",
		"https://[::1]/", "https://[::]/", "https://[fd00::1]/",
		"https://[fe80::1]/", "https://[ff02::1]/",
		"https://[::ffff:127.0.0.1]/", "https://[::ffff:10.1.2.3]/",
		NULL
	};
	size_t i;

	for (i = 0; priv[i] != NULL; i++) {
		CHECK(refused(priv[i], 0) != NULL &&
		    strcmp(refused(priv[i], 0), "private_url") == 0);
		CHECK(refused(priv[i], 1) == NULL);
	}
	CHECK(refused("http://127.0.0.1:9/hook", 1) == NULL);
}

TEST(event_types)
{
	size_t n;

	for (n = 0; hookspec_types[n] != NULL; n++)
		CHECK(hookspec_type(hookspec_types[n]));
	CHECK(n == 11);
	CHECK(hookspec_type("*"));
	CHECK(!hookspec_type(""));
	CHECK(!hookspec_type("message"));
	CHECK(!hookspec_type("message.received "));
	CHECK(!hookspec_type("MESSAGE.RECEIVED"));
}

int
main(void)
{
	RUN(https_public_hosts_pass);
	RUN(bad_urls_are_invalid);
	RUN(private_hosts_refused_unless_allowed);
	RUN(event_types);
	return CHECK_DONE();
}
