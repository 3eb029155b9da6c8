/*
 * test_profile.c: Meta's limits on a business profile update (reference
 * 15.3), at and one past each, and the field each refusal names.
 */
#include <string.h>

#include <jansson.h>

#include "check.h"
#include "profile.h"

/* 0 when s (JSON) passes, else -1 with the refused field in field. */
static int
check(const char *s, char *field, size_t sz)
{
	struct profile_err	 e;
	json_t			*o = json_loads(s, 0, NULL);
	int			 rc;

	if (o == NULL)
		return -2;
	rc = profile_check(o, &e);
	(void)snprintf(field, sz, "%s", e.field);
	if (rc == -1 && e.message[0] == '\0')
		rc = -3;	/* a refusal says why */
	json_decref(o);
	return rc;
}

/* {"name": "c repeated n times"}. */
static const char *
rep(char *buf, size_t sz, const char *name, const char *c, int n)
{
	size_t	 len;
	int	 i;

	(void)snprintf(buf, sz, "{\"%s\":\"", name);
	for (i = 0; i < n; i++) {
		len = strlen(buf);
		(void)snprintf(buf + len, sz - len, "%s", c);
	}
	len = strlen(buf);
	(void)snprintf(buf + len, sz - len, "\"}");
	return buf;
}

TEST(a_full_update_passes)
{
	char f[32];

	CHECK(check("{\"about\":\"Fresh bread daily\",\"address\":\"1 Main St\","
	    "\"description\":\"A bakery.\",\"email\":\"shop@example.com\","
	    "\"websites\":[\"https://example.com\",\"http://example.org/x\"],"
	    "\"vertical\":\"RESTAURANT\"}", f, sizeof(f)) == 0);
	CHECK(check("{\"vertical\":\"OTHER\"}", f, sizeof(f)) == 0);
}

TEST(about_is_1_to_139_characters)
{
	char f[32], b[2048];

	CHECK(check(rep(b, sizeof(b), "about", "a", 139), f, sizeof(f)) == 0);
	CHECK(check(rep(b, sizeof(b), "about", "a", 140), f, sizeof(f)) == -1);
	CHECK(strcmp(f, "about") == 0);
	CHECK(check("{\"about\":\"\"}", f, sizeof(f)) == -1);
	/* Characters, not bytes: 139 two-byte letters pass. */
	CHECK(check(rep(b, sizeof(b), "about", "\xc3\xa9", 139), f,
	    sizeof(f)) == 0);
	CHECK(check("{\"about\":5}", f, sizeof(f)) == -1);
}

TEST(address_description_email_lengths)
{
	char f[32], b[4096];

	CHECK(check(rep(b, sizeof(b), "address", "a", 256), f, sizeof(f)) ==
	    0);
	CHECK(check(rep(b, sizeof(b), "address", "a", 257), f, sizeof(f)) ==
	    -1 && strcmp(f, "address") == 0);
	CHECK(check(rep(b, sizeof(b), "description", "a", 512), f,
	    sizeof(f)) == 0);
	CHECK(check(rep(b, sizeof(b), "description", "a", 513), f,
	    sizeof(f)) == -1 && strcmp(f, "description") == 0);
	(void)snprintf(b, sizeof(b), "{\"email\":\"%0120d@example.com\"}", 0);
	CHECK(check(b, f, sizeof(f)) == -1 && strcmp(f, "email") == 0);
	(void)snprintf(b, sizeof(b), "{\"email\":\"%0116d@example.com\"}", 0);
	CHECK(check(b, f, sizeof(f)) == 0);
}

TEST(email_must_look_like_an_address)
{
	char f[32];

	CHECK(check("{\"email\":\"not an email\"}", f, sizeof(f)) == -1);
	CHECK(strcmp(f, "email") == 0);
	CHECK(check("{\"email\":\"a@b\"}", f, sizeof(f)) == -1);
	CHECK(check("{\"email\":\"@b.com\"}", f, sizeof(f)) == -1);
	CHECK(check("{\"email\":\"a@@b.com\"}", f, sizeof(f)) == -1);
	CHECK(check("{\"email\":\"a@b.com\"}", f, sizeof(f)) == 0);
}

TEST(websites_at_most_two_http)
{
	char f[32], b[1024];

	CHECK(check("{\"websites\":[\"https://a.com\",\"https://b.com\","
	    "\"https://c.com\"]}", f, sizeof(f)) == -1);
	CHECK(strcmp(f, "websites") == 0);
	CHECK(check("{\"websites\":[\"ftp://a.com\"]}", f, sizeof(f)) == -1);
	CHECK(check("{\"websites\":[\"javascript:alert(1)\"]}", f,
	    sizeof(f)) == -1);
	CHECK(check("{\"websites\":[\"https://\"]}", f, sizeof(f)) == -1);
	CHECK(check("{\"websites\":\"https://a.com\"}", f, sizeof(f)) == -1);
	(void)snprintf(b, sizeof(b), "{\"websites\":[\"https://%0244d.com\"]}",
	    0);
	CHECK(check(b, f, sizeof(f)) == 0);		/* 256 */
	(void)snprintf(b, sizeof(b), "{\"websites\":[\"https://%0245d.com\"]}",
	    0);
	CHECK(check(b, f, sizeof(f)) == -1);		/* 257 */
	CHECK(check("{\"websites\":[]}", f, sizeof(f)) == 0);
}

TEST(vertical_is_one_of_metas)
{
	char f[32];

	CHECK(check("{\"vertical\":\"BAKERY\"}", f, sizeof(f)) == -1);
	CHECK(strcmp(f, "vertical") == 0);
	CHECK(check("{\"vertical\":\"retail\"}", f, sizeof(f)) == -1);
	CHECK(check("{\"vertical\":\"UNDEFINED\"}", f, sizeof(f)) == -1);
	CHECK(check("{\"vertical\":\"PROF_SERVICES\"}", f, sizeof(f)) == 0);
	CHECK(profile_vertical_ok("HEALTH") && !profile_vertical_ok(""));
}

TEST(unknown_or_empty_refused)
{
	char f[32];

	CHECK(check("{\"phone\":\"1\"}", f, sizeof(f)) == -1);
	CHECK(strcmp(f, "phone") == 0);
	CHECK(check("{}", f, sizeof(f)) == -1);
	CHECK(check("[]", f, sizeof(f)) == -1);
}

int
main(void)
{
	RUN(a_full_update_passes);
	RUN(about_is_1_to_139_characters);
	RUN(address_description_email_lengths);
	RUN(email_must_look_like_an_address);
	RUN(websites_at_most_two_http);
	RUN(vertical_is_one_of_metas);
	RUN(unknown_or_empty_refused);
	return CHECK_DONE();
}
