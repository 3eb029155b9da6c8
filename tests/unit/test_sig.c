/* test_sig.c: X-Hub-Signature-256 against the fixtures' test vectors. */
#include <string.h>
#include <jansson.h>
#include "check.h"
#include "util.h"
#include "sig.h"

TEST(vectors_from_fixtures)
{
	json_t *v = json_load_file(FIXTURES "/webhooks/signature_vectors.json",
	    0, NULL), *c;
	const char *secret = json_string_value(json_object_get(v, "app_secret"));
	size_t i, len;
	char path[512], *body;

	CHECK(v != NULL && secret != NULL);
	CHECK(json_array_size(json_object_get(v, "cases")) == 3);
	json_array_foreach(json_object_get(v, "cases"), i, c) {
		snprintf(path, sizeof(path), FIXTURES "/webhooks/%s",
		    json_string_value(json_object_get(c, "body_file")));
		body = slurp(path, &len);
		CHECK(body != NULL);
		if (body == NULL)
			continue;
		CHECK((json_int_t)len ==
		    json_integer_value(json_object_get(c, "body_length")));
		enum sig_result r = sig_verify(secret, json_string_value(
		    json_object_get(c, "x_hub_signature_256")), body, len);
		if (strcmp(json_string_value(json_object_get(c, "expect")),
		    "valid") == 0)
			CHECK(r == SIG_OK);
		else
			CHECK(r == SIG_MISMATCH);
		free(body);
	}
	json_decref(v);
}

TEST(malformed_headers)
{
	const char *b = "{}";
	char good[65], hdr[80];

	CHECK(sig_hmac_hex("s3cret", b, 2, good) == 0);
	snprintf(hdr, sizeof(hdr), "sha256=%s", good);
	CHECK(sig_verify("s3cret", hdr, b, 2) == SIG_OK);
	CHECK(sig_verify("other", hdr, b, 2) == SIG_MISMATCH);
	CHECK(sig_verify("s3cret", NULL, b, 2) == SIG_MISSING);
	CHECK(sig_verify("s3cret", "", b, 2) == SIG_MISSING);
	CHECK(sig_verify("s3cret", good, b, 2) == SIG_MALFORMED);
	snprintf(hdr, sizeof(hdr), "sha1=%s", good);
	CHECK(sig_verify("s3cret", hdr, b, 2) == SIG_MALFORMED);
	snprintf(hdr, sizeof(hdr), "sha256=%.63s", good);
	CHECK(sig_verify("s3cret", hdr, b, 2) == SIG_MALFORMED);
	snprintf(hdr, sizeof(hdr), "sha256=%.63sz", good);
	CHECK(sig_verify("s3cret", hdr, b, 2) == SIG_MALFORMED);
	/* Upper-case hex from a proxy still verifies. */
	snprintf(hdr, sizeof(hdr), "sha256=%s", good);
	for (char *p = hdr + 7; *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p -= 32;
	CHECK(sig_verify("s3cret", hdr, b, 2) == SIG_OK);
	/* One flipped body byte fails. */
	snprintf(hdr, sizeof(hdr), "sha256=%s", good);
	CHECK(sig_verify("s3cret", hdr, "{ ", 2) == SIG_MISMATCH);
}

TEST(streq)
{
	CHECK(sig_streq("abc", 3, "abc", 3));
	CHECK(!sig_streq("abc", 3, "abd", 3));
	CHECK(!sig_streq("abc", 3, "abcd", 4));
	CHECK(sig_streq("", 0, "", 0));
}

/* Webhooks give sha256 in base64, the media API in hex (reference 10.1). */
TEST(digest_forms)
{
	char hex[65];

	/* SHA-256("abc"), FIPS 180-2 appendix B.1. */
	CHECK(sig_sha256_hex("abc", 3, hex) == 0);
	CHECK(strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a3"
	    "96177a9cb410ff61f20015ad") == 0);
	CHECK(sig_digest_matches("ba7816bf8f01cfea414140de5dae2223b00361a3"
	    "96177a9cb410ff61f20015ad", hex) == 1);
	CHECK(sig_digest_matches("ba7816bf8f01cfea414140de5dae2223b00361a3"
	    "96177a9cb410ff61f20015ae", hex) == 0);
	CHECK(sig_digest_matches("BA7816BF8F01CFEA414140DE5DAE2223B00361A3"
	    "96177A9CB410FF61F20015AD", hex) == 1);
	CHECK(sig_digest_matches("ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=",
	    hex) == 1);
	CHECK(sig_digest_matches("vngWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=",
	    hex) == 0);
	CHECK(sig_digest_matches("", hex) == 0);
	CHECK(sig_digest_matches("zz", hex) == 0);
}

int
main(void)
{
	RUN(vectors_from_fixtures);
	RUN(malformed_headers);
	RUN(streq);
	RUN(digest_forms);
	return CHECK_DONE();
}
