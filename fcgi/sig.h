/* sig.h: HMAC-SHA256 webhook signatures, digests and constant-time compares. */
#ifndef SIG_H
#define SIG_H

#include <stddef.h>

enum sig_result {
	SIG_OK,		/* header matches the body */
	SIG_MISSING,	/* no header at all */
	SIG_MALFORMED,	/* not "sha256=" + 64 hex digits */
	SIG_MISMATCH,	/* well-formed, wrong digest */
	SIG__MAX
};

extern const char *const sig_result_names[SIG__MAX];

enum sig_result	 sig_verify(const char *secret, const char *header,
		    const void *body, size_t len);
int		 sig_hmac_hex(const char *secret, const void *body, size_t len,
		    char out[65]);
int		 sig_sha256_hex(const void *data, size_t len, char out[65]);
int		 sig_streq(const char *a, size_t alen, const char *b, size_t blen);
int		 sig_digest_matches(const char *given, const char hex[65]);
int		 sig_random_hex(char *out, size_t nbytes);
int		 sig_cert_days(const char *path, const char *host, long *days,
		    int *host_ok, char *until, size_t untilsz, char *err,
		    size_t errsz);

struct sig_sha256;
struct sig_sha256 *sig_sha256_new(void);
int		 sig_sha256_update(struct sig_sha256 *, const void *, size_t);
int		 sig_sha256_final(struct sig_sha256 *, char out[65]);
void		 sig_sha256_free(struct sig_sha256 *);

#endif
