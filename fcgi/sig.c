/*
 * sig.c: the only file that includes OpenSSL.  Verifies Meta's
 * X-Hub-Signature-256 header (reference section 2: HMAC-SHA256 keyed with the
 * app secret over the raw body bytes, "sha256=" and 64 lowercase hex digits)
 * and offers SHA-256 digests and constant-time string comparison; also
 * reads a TLS certificate's expiry for `wactl doctor`.
 */
#include <stdio.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "log.h"
#include "sig.h"

const char *const sig_result_names[SIG__MAX] = {
	"ok",		/* SIG_OK */
	"missing",	/* SIG_MISSING */
	"malformed",	/* SIG_MALFORMED */
	"mismatch",	/* SIG_MISMATCH */
};

static void
hexify(const unsigned char *d, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t		  i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 0xf];
	}
	out[2 * n] = '\0';
}

/* Lowercase hex HMAC-SHA256 of body under secret.  Returns 0 or -1. */
int
sig_hmac_hex(const char *secret, const void *body, size_t len, char out[65])
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0;

	if (HMAC(EVP_sha256(), secret, (int)strlen(secret),
	    body, len, md, &mdlen) == NULL || mdlen != 32) {
		log_warnx("%s: HMAC failed", __func__);
		return -1;
	}
	hexify(md, mdlen, out);
	OPENSSL_cleanse(md, sizeof(md));
	return 0;
}

/* Lowercase hex SHA-256 of data.  Returns 0 or -1. */
int
sig_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0;

	if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != 32) {
		log_warnx("%s: digest failed", __func__);
		return -1;
	}
	hexify(md, mdlen, out);
	return 0;
}

/*
 * Compares two byte strings without a timing signal about where they
 * differ.  The length is not secret (Meta's digests and our tokens have
 * public lengths), so unequal lengths answer at once.  Returns 1 if equal.
 */
int
sig_streq(const char *a, size_t alen, const char *b, size_t blen)
{
	if (alen != blen)
		return 0;
	return CRYPTO_memcmp(a, b, alen) == 0;
}

/*
 * Checks header (may be NULL) against the HMAC of the raw body.  The hex
 * digits are lowercased first: Meta sends lowercase, a proxy might not.
 */
enum sig_result
sig_verify(const char *secret, const char *header, const void *body,
    size_t len)
{
	char		 want[65], got[65];
	size_t		 i;
	enum sig_result	 rc;

	if (header == NULL || header[0] == '\0')
		return SIG_MISSING;
	if (strncmp(header, "sha256=", 7) != 0 || strlen(header) != 7 + 64)
		return SIG_MALFORMED;
	for (i = 0; i < 64; i++) {
		unsigned char c = (unsigned char)header[7 + i];

		if (!isxdigit(c))
			return SIG_MALFORMED;
		got[i] = (char)tolower(c);
	}
	got[64] = '\0';
	if (sig_hmac_hex(secret, body, len, want) == -1)
		return SIG_MISMATCH;
	rc = sig_streq(want, 64, got, 64) ? SIG_OK : SIG_MISMATCH;
	OPENSSL_cleanse(want, sizeof(want));
	return rc;
}

/*
 * 1 when given (a SHA-256 as Meta writes it: 64 hex digits in the media
 * API, 44 base64 characters in webhooks, reference 5.2 and 10.1) names
 * the digest hex (64 lowercase hex digits); 0 otherwise.
 */
int
sig_digest_matches(const char *given, const char hex[65])
{
	unsigned char	 raw[48];
	char		 h[65];
	size_t		 i, n = strlen(given);
	int		 len;

	if (n == 64) {
		for (i = 0; i < 64; i++)
			if (tolower((unsigned char)given[i]) != hex[i])
				return 0;
		return 1;
	}
	if (n != 44 || (len = EVP_DecodeBlock(raw,
	    (const unsigned char *)given, 44)) != 33 || given[43] != '=' ||
	    given[42] == '=')
		return 0;
	hexify(raw, 32, h);
	return strcmp(h, hex) == 0;
}

/* nbytes random bytes from the system's CSPRNG as hex into out (2n+1). */
int
sig_random_hex(char *out, size_t nbytes)
{
	unsigned char	raw[64];

	if (nbytes > sizeof(raw) || RAND_bytes(raw, (int)nbytes) != 1) {
		log_warnx("%s: no random bytes", __func__);
		return -1;
	}
	hexify(raw, nbytes, out);
	OPENSSL_cleanse(raw, sizeof(raw));
	return 0;
}

/* A SHA-256 computed piece by piece (a download hashed while written). */
struct sig_sha256 {
	EVP_MD_CTX	*ctx;
};

/* Returns a started digest (caller frees with sig_sha256_free()) or NULL. */
struct sig_sha256 *
sig_sha256_new(void)
{
	struct sig_sha256 *h;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	if ((h->ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
		log_warnx("%s: digest failed", __func__);
		sig_sha256_free(h);
		return NULL;
	}
	return h;
}

/* Adds len bytes.  0 or -1. */
int
sig_sha256_update(struct sig_sha256 *h, const void *p, size_t len)
{
	return EVP_DigestUpdate(h->ctx, p, len) == 1 ? 0 : -1;
}

/* The lowercase hex digest of everything added.  0 or -1. */
int
sig_sha256_final(struct sig_sha256 *h, char out[65])
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0;

	if (EVP_DigestFinal_ex(h->ctx, md, &mdlen) != 1 || mdlen != 32) {
		log_warnx("%s: digest failed", __func__);
		return -1;
	}
	hexify(md, mdlen, out);
	return 0;
}

/* Accepts NULL. */
void
sig_sha256_free(struct sig_sha256 *h)
{
	if (h == NULL)
		return;
	EVP_MD_CTX_free(h->ctx);
	free(h);
}

/*
 * Reads the first PEM certificate in path: *days is the number of whole
 * days left until it expires (negative once it has), *host_ok 1 when it
 * is valid for host (its names, wildcards included; 1 when host is
 * NULL), and until (at least 32 bytes) its notAfter as "YYYY-MM-DD".
 * Returns 0, or -1 with a sentence in err (missing, unreadable, not a
 * certificate).
 */
int
sig_cert_days(const char *path, const char *host, long *days, int *host_ok,
    char *until, size_t untilsz, char *err, size_t errsz)
{
	FILE		*f;
	X509		*x = NULL;
	const ASN1_TIME	*na;
	struct tm	 tm;
	long long	 left;
	int		 d = 0, sec = 0, rc = -1;

	if ((f = fopen(path, "r")) == NULL) {
		(void)snprintf(err, errsz, "cannot read %s: %s", path,
		    strerror(errno));
		return -1;
	}
	x = PEM_read_X509(f, NULL, NULL, NULL);
	(void)fclose(f);
	if (x == NULL) {
		(void)snprintf(err, errsz, "%s holds no PEM certificate", path);
		goto done;
	}
	if ((na = X509_get0_notAfter(x)) == NULL ||
	    ASN1_TIME_diff(&d, &sec, NULL, na) != 1 ||
	    ASN1_TIME_to_tm(na, &tm) != 1) {
		(void)snprintf(err, errsz, "%s has no readable expiry date",
		    path);
		goto done;
	}
	/* Whole days, rounded down: expired by a second is -1. */
	left = (long long)d * 86400 + sec;
	*days = (long)(left >= 0 ? left / 86400 : -((-left + 86399) / 86400));
	*host_ok = host == NULL || X509_check_host(x, host, 0, 0, NULL) == 1;
	if (strftime(until, untilsz, "%Y-%m-%d", &tm) == 0 && untilsz > 0)
		until[0] = '\0';
	rc = 0;
done:
	X509_free(x);
	return rc;
}
