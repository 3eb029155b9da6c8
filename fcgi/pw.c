/*
 * pw.c: passwords for the people who sign in to the inbox, hashed with
 * scrypt (RFC 7914) through OpenSSL 3, the parameters stored with the
 * hash as "scrypt$N$r$p$salt$hash" (salt 16 bytes, hash 32 bytes, both
 * base64url without padding), so that a later, costlier N still checks
 * old hashes.  Also the random strings handed out: generated passwords
 * and session tokens (base64url of RAND_bytes).  Pure but for the
 * randomness and WA_SCRYPT_N: no database, no clock, no logging of what
 * it is given.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "pw.h"

#define SALT_LEN	16
#define KEY_LEN		32
#define PW_R		8
#define PW_P		1

/*
 * The cost N new hashes get: PW_N_DEFAULT (2^15), or WA_SCRYPT_N when
 * that is a power of two from 2^10 to 2^20.  WA_SCRYPT_N exists so that
 * tests, which sign in hundreds of times, need not pay 32 MB and tens of
 * ms each time; production leaves it unset.  Any other value is ignored
 * (the default is the safe side).
 */
uint64_t
pw_cost(void)
{
	const char		*e = getenv("WA_SCRYPT_N");
	char			*end;
	unsigned long long	 v;

	if (e == NULL || *e == '\0')
		return PW_N_DEFAULT;
	errno = 0;
	v = strtoull(e, &end, 10);
	if (errno != 0 || *end != '\0' || v < PW_N_MIN || v > PW_N_MAX ||
	    (v & (v - 1)) != 0)
		return PW_N_DEFAULT;
	return (uint64_t)v;
}

/*
 * in (len bytes) as base64url without padding into out (outsz bytes with
 * the NUL).  0, or -1 when out is too small.
 */
int
pw_b64url(const unsigned char *in, size_t len, char *out, size_t outsz)
{
	static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
	    "qrstuvwxyz0123456789-_";
	size_t		  i, o = 0;
	uint32_t	  v;

	if (outsz < (len * 4 + 2) / 3 + 1)
		return -1;
	for (i = 0; i + 2 < len; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = abc[v >> 18 & 63];
		out[o++] = abc[v >> 12 & 63];
		out[o++] = abc[v >> 6 & 63];
		out[o++] = abc[v & 63];
	}
	if (len - i == 1) {
		v = (uint32_t)in[i] << 16;
		out[o++] = abc[v >> 18 & 63];
		out[o++] = abc[v >> 12 & 63];
	} else if (len - i == 2) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = abc[v >> 18 & 63];
		out[o++] = abc[v >> 12 & 63];
		out[o++] = abc[v >> 6 & 63];
	}
	out[o] = '\0';
	return 0;
}

static int
b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/*
 * Decodes exactly want bytes of base64url (no padding) from s (slen
 * characters) into out.  0, or -1 when s is not that.
 */
static int
b64url_dec(const char *s, size_t slen, unsigned char *out, size_t want)
{
	uint32_t	 acc = 0;
	size_t		 i, o = 0;
	int		 bits = 0, v;

	if (slen != (want * 4 + 2) / 3)
		return -1;
	for (i = 0; i < slen; i++) {
		if ((v = b64val((unsigned char)s[i])) < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= want)
				return -1;
			out[o++] = (unsigned char)(acc >> bits);
		}
		acc &= (1u << bits) - 1;
	}
	/* Leftover bits must be zero, so one hash has one spelling. */
	return o == want && acc == 0 ? 0 : -1;
}

/* scrypt of pw under salt into key (KEY_LEN bytes).  0 or -1. */
static int
derive(const char *pw, size_t len, const unsigned char *salt,
    const struct pw_params *pp, unsigned char *key)
{
	/* 128 * N * r * p bytes, and room for OpenSSL's own. */
	uint64_t mem = 128 * pp->n * pp->r * pp->p + 1024 * 1024;

	if (EVP_PBE_scrypt(pw, len, salt, SALT_LEN, pp->n, pp->r, pp->p,
	    mem, key, KEY_LEN) != 1)
		return -1;
	return 0;
}

/*
 * The stored hash of pw (len bytes, at most PW_MAX_LEN) with cost n (a
 * power of two from PW_N_MIN to PW_N_MAX) and a fresh salt, into out
 * (outsz bytes, PW_HASH_MAX is enough).  0, or -1 (bad n, no
 * randomness, out of memory).
 */
int
pw_hash(const char *pw, size_t len, uint64_t n, char *out, size_t outsz)
{
	struct pw_params pp = { n, PW_R, PW_P };
	unsigned char	 salt[SALT_LEN], key[KEY_LEN];
	char		 s64[32], k64[48];
	int		 w, rc = -1;

	if (n < PW_N_MIN || n > PW_N_MAX || (n & (n - 1)) != 0 ||
	    len > PW_MAX_LEN)
		return -1;
	if (RAND_bytes(salt, sizeof(salt)) != 1 ||
	    derive(pw, len, salt, &pp, key) == -1 ||
	    pw_b64url(salt, sizeof(salt), s64, sizeof(s64)) == -1 ||
	    pw_b64url(key, sizeof(key), k64, sizeof(k64)) == -1)
		goto done;
	w = snprintf(out, outsz, "scrypt$%llu$%u$%u$%s$%s",
	    (unsigned long long)n, pp.r, pp.p, s64, k64);
	if (w < 0 || (size_t)w >= outsz)
		goto done;
	rc = 0;
done:
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(k64, sizeof(k64));
	return rc;
}

/* A decimal from *s to the next '$' (or the end), in [lo, hi]. */
static int
field_num(const char **s, uint64_t lo, uint64_t hi, uint64_t *v)
{
	const char	*p = *s;
	uint64_t	 x = 0;

	if (*p < '1' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (x > hi / 10)
			return -1;
		x = x * 10 + (uint64_t)(*p - '0');
	}
	if (*p != '$' || x < lo || x > hi)
		return -1;
	*s = p + 1;
	*v = x;
	return 0;
}

/*
 * Splits stored into its parameters and the positions of salt and hash.
 * Bounds keep a tampered row from asking for gigabytes: N a power of two
 * from 2^10 to 2^20, r 1 to 32, p 1 to 4, and 256 MB at most.  0 or -1.
 */
static int
split(const char *stored, struct pw_params *pp, const char **salt,
    size_t *slen, const char **hash)
{
	const char	*s = stored, *d;
	uint64_t	 v;

	if (stored == NULL || strncmp(s, "scrypt$", 7) != 0)
		return -1;
	s += 7;
	if (field_num(&s, PW_N_MIN, PW_N_MAX, &v) == -1 ||
	    (v & (v - 1)) != 0)
		return -1;
	pp->n = v;
	if (field_num(&s, 1, 32, &v) == -1)
		return -1;
	pp->r = (uint32_t)v;
	if (field_num(&s, 1, 4, &v) == -1)
		return -1;
	pp->p = (uint32_t)v;
	/* 128 * N * r * p bytes of memory: at most 256 MB. */
	if (pp->n * pp->r * pp->p > (1u << 21))
		return -1;
	if ((d = strchr(s, '$')) == NULL)
		return -1;
	*salt = s;
	*slen = (size_t)(d - s);
	*hash = d + 1;
	return 0;
}

/* The parameters of a stored hash into *pp.  0, or -1 when malformed. */
int
pw_parse(const char *stored, struct pw_params *pp)
{
	const char	*salt, *hash;
	size_t		 slen;
	unsigned char	 sb[SALT_LEN], kb[KEY_LEN];

	if (split(stored, pp, &salt, &slen, &hash) == -1 ||
	    b64url_dec(salt, slen, sb, sizeof(sb)) == -1 ||
	    b64url_dec(hash, strlen(hash), kb, sizeof(kb)) == -1)
		return -1;
	return 0;
}

/*
 * 1 when pw (len bytes) is the password of stored, 0 when it is not,
 * -1 when stored is malformed or scrypt failed (the caller refuses the
 * sign-in either way).  The digests are compared in constant time.
 */
int
pw_verify(const char *pw, size_t len, const char *stored)
{
	struct pw_params pp;
	const char	*salt, *hash;
	size_t		 slen;
	unsigned char	 sb[SALT_LEN], want[KEY_LEN], got[KEY_LEN];
	int		 rc = -1;

	if (len > PW_MAX_LEN || split(stored, &pp, &salt, &slen, &hash) == -1 ||
	    b64url_dec(salt, slen, sb, sizeof(sb)) == -1 ||
	    b64url_dec(hash, strlen(hash), want, sizeof(want)) == -1)
		return -1;
	if (derive(pw, len, sb, &pp, got) == -1)
		goto done;
	rc = CRYPTO_memcmp(got, want, KEY_LEN) == 0;
done:
	OPENSSL_cleanse(got, sizeof(got));
	OPENSSL_cleanse(want, sizeof(want));
	return rc;
}

/*
 * One scrypt at today's cost whose result is thrown away: what a
 * sign-in for an unknown user runs, so that its answer takes as long as
 * a wrong password's and timing does not tell names apart.
 */
void
pw_dummy(const char *pw, size_t len)
{
	static const unsigned char salt[SALT_LEN] = { 0 };
	struct pw_params pp = { pw_cost(), PW_R, PW_P };
	unsigned char	 key[KEY_LEN];

	if (len > PW_MAX_LEN)
		len = PW_MAX_LEN;
	(void)derive(pw, len, salt, &pp, key);	/* only the time counts */
	OPENSSL_cleanse(key, sizeof(key));
}

/*
 * nbytes random bytes as base64url (no padding) into out (outsz bytes
 * with the NUL): 18 bytes make a 24-character password, 32 a session
 * token of PW_TOKEN_LEN characters.  0 or -1.
 */
int
pw_random(size_t nbytes, char *out, size_t outsz)
{
	unsigned char	 b[64];
	int		 rc;

	if (nbytes == 0 || nbytes > sizeof(b) || RAND_bytes(b,
	    (int)nbytes) != 1)
		return -1;
	rc = pw_b64url(b, nbytes, out, outsz);
	OPENSSL_cleanse(b, sizeof(b));
	return rc;
}

/* 1 when s is a user name: 1 to 64 of a-z, 0-9, '.', '_', '-'. */
int
pw_name_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= 64 &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

/* 1 when s is a role: admin, agent or viewer. */
int
pw_role_ok(const char *s)
{
	return strcmp(s, "admin") == 0 || strcmp(s, "agent") == 0 ||
	    strcmp(s, "viewer") == 0;
}

/* 1 when s looks like an email address: x@y, at most 254 bytes, no
 * spaces, double quotes or angle brackets. */
int
pw_email_ok(const char *s)
{
	const char *at = strchr(s, '@');
	size_t	    i, n = strlen(s);

	if (n < 3 || n > 254 || at == NULL || at == s || at[1] == '\0' ||
	    strchr(at + 1, '@') != NULL)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f ||
		    strchr("\"<>(),;:\\[]", s[i]) != NULL)
			return 0;
	return 1;
}

/* 1 when s is a display name: 1 to 128 bytes, no control characters. */
int
pw_display_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n < 1 || n > 128)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < ' ' || s[i] == 0x7f)
			return 0;
	return 1;
}
