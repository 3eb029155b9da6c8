/* test_pw.c: scrypt password hashes (pw.c): hash, verify, tampering. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "pw.h"

/* The cheapest cost pw_hash() takes, so the test stays quick. */
#define N	PW_N_MIN

TEST(hash_then_verify)
{
	char h[PW_HASH_MAX];
	struct pw_params pp;

	CHECK(pw_hash("correct horse", 13, N, h, sizeof(h)) == 0);
	CHECK(strncmp(h, "scrypt$1024$8$1$", 16) == 0);
	CHECK(pw_verify("correct horse", 13, h) == 1);
	CHECK(pw_parse(h, &pp) == 0);
	CHECK(pp.n == 1024 && pp.r == 8 && pp.p == 1);
}

TEST(wrong_password)
{
	char h[PW_HASH_MAX];

	CHECK(pw_hash("correct horse", 13, N, h, sizeof(h)) == 0);
	CHECK(pw_verify("correct hors", 12, h) == 0);
	CHECK(pw_verify("correct horsf", 13, h) == 0);
	CHECK(pw_verify("", 0, h) == 0);
	/* Bytes after a NUL count: the length is the password's. */
	CHECK(pw_verify("correct horse\0x", 15, h) == 0);
}

TEST(salted)
{
	char a[PW_HASH_MAX], b[PW_HASH_MAX];

	CHECK(pw_hash("same password", 13, N, a, sizeof(a)) == 0);
	CHECK(pw_hash("same password", 13, N, b, sizeof(b)) == 0);
	CHECK(strcmp(a, b) != 0);
	CHECK(pw_verify("same password", 13, a) == 1);
	CHECK(pw_verify("same password", 13, b) == 1);
}

/* A changed digest, salt or parameter no longer checks. */
TEST(tampered)
{
	char h[PW_HASH_MAX], t[PW_HASH_MAX], *last;
	size_t n;

	CHECK(pw_hash("correct horse", 13, N, h, sizeof(h)) == 0);
	n = strlen(h);
	memcpy(t, h, n + 1);
	t[n - 2] = t[n - 2] == 'A' ? 'B' : 'A';	/* the digest */
	CHECK(pw_verify("correct horse", 13, t) == 0);
	memcpy(t, h, n + 1);
	last = strrchr(t, '$');
	last[-2] = last[-2] == 'A' ? 'B' : 'A';	/* the salt */
	CHECK(pw_verify("correct horse", 13, t) == 0);
	/* r = 9 instead of 8: another key. */
	memcpy(t, h, n + 1);
	t[12] = '9';
	CHECK(pw_verify("correct horse", 13, t) == 0);
	/* Cut short, or with a bad character: malformed. */
	memcpy(t, h, n + 1);
	t[n - 1] = '\0';
	CHECK(pw_verify("correct horse", 13, t) == -1);
	memcpy(t, h, n + 1);
	t[n - 1] = '*';
	CHECK(pw_verify("correct horse", 13, t) == -1);
}

TEST(malformed_params)
{
	struct pw_params pp;
	static const char salt_hash[] = "$AAAAAAAAAAAAAAAAAAAAAA$"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
	char h[200];

	(void)snprintf(h, sizeof(h), "scrypt$1024$8$1%s", salt_hash);
	CHECK(pw_parse(h, &pp) == 0);
	(void)snprintf(h, sizeof(h), "scrypt$32768$8$1%s", salt_hash);
	CHECK(pw_parse(h, &pp) == 0 && pp.n == 32768);
	/* N not a power of two, too small, too large; r, p out of range. */
	(void)snprintf(h, sizeof(h), "scrypt$1000$8$1%s", salt_hash);
	CHECK(pw_parse(h, &pp) == -1);
	(void)snprintf(h, sizeof(h), "scrypt$512$8$1%s", salt_hash);
	CHECK(pw_parse(h, &pp) == -1);
	(void)snprintf(h, sizeof(h), "scrypt$2097152$8$1%s", salt_hash);
	CHECK(pw_parse(h, &pp) == -1);
	(void)snprintf(h, sizeof(h), "scrypt$1048576$32$4%s", salt_hash);
	CHECK(pw_parse(h, &pp) == -1);	/* 16 GB */
	(void)snprintf(h, sizeof(h), "scrypt$1024$0$1%s", salt_hash);
	CHECK(pw_parse(h, &pp) == -1);
	(void)snprintf(h, sizeof(h), "scrypt$1024$8$9%s", salt_hash);
	CHECK(pw_parse(h, &pp) == -1);
	(void)snprintf(h, sizeof(h), "scrypt$01024$8$1%s", salt_hash);
	CHECK(pw_parse(h, &pp) == -1);
	CHECK(pw_parse("bcrypt$1024$8$1$AAAA$AAAA", &pp) == -1);
	CHECK(pw_parse("", &pp) == -1);
	CHECK(pw_parse(NULL, &pp) == -1);
	CHECK(pw_verify("x", 1, "plain text") == -1);
}

TEST(cost_from_env)
{
	unsetenv("WA_SCRYPT_N");
	CHECK(pw_cost() == PW_N_DEFAULT);
	setenv("WA_SCRYPT_N", "1024", 1);
	CHECK(pw_cost() == 1024);
	/* Below 2^10, not a power of two, junk: the default. */
	setenv("WA_SCRYPT_N", "512", 1);
	CHECK(pw_cost() == PW_N_DEFAULT);
	setenv("WA_SCRYPT_N", "3000", 1);
	CHECK(pw_cost() == PW_N_DEFAULT);
	setenv("WA_SCRYPT_N", "1024x", 1);
	CHECK(pw_cost() == PW_N_DEFAULT);
	unsetenv("WA_SCRYPT_N");
	CHECK(pw_hash("x", 1, 3000, (char[PW_HASH_MAX]){0}, PW_HASH_MAX) == -1);
}

TEST(random_strings)
{
	char a[64], b[64];
	size_t i;

	CHECK(pw_random(32, a, sizeof(a)) == 0);
	CHECK(strlen(a) == PW_TOKEN_LEN);
	CHECK(pw_random(32, b, sizeof(b)) == 0);
	CHECK(strcmp(a, b) != 0);
	for (i = 0; a[i] != '\0'; i++)
		CHECK(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		    "0123456789-_", a[i]) != NULL);
	CHECK(pw_random(18, a, sizeof(a)) == 0 && strlen(a) == 24);
	CHECK(pw_random(32, a, 43) == -1);	/* no room for the NUL */
}

TEST(b64url_vectors)
{
	char o[16];

	/* RFC 4648 section 10, without padding. */
	CHECK(pw_b64url((const unsigned char *)"f", 1, o, sizeof(o)) == 0 &&
	    strcmp(o, "Zg") == 0);
	CHECK(pw_b64url((const unsigned char *)"fo", 2, o, sizeof(o)) == 0 &&
	    strcmp(o, "Zm8") == 0);
	CHECK(pw_b64url((const unsigned char *)"foobar", 6, o, sizeof(o)) ==
	    0 && strcmp(o, "Zm9vYmFy") == 0);
	CHECK(pw_b64url((const unsigned char *)"\xfb\xff", 2, o, sizeof(o)) ==
	    0 && strcmp(o, "-_8") == 0);
}

int
main(void)
{
	RUN(hash_then_verify);
	RUN(wrong_password);
	RUN(salted);
	RUN(tampered);
	RUN(malformed_params);
	RUN(cost_from_env);
	RUN(random_strings);
	RUN(b64url_vectors);
	return CHECK_DONE();
}
