/*
 * pw.h: password hashing with scrypt, the random strings people and
 * browsers are given, and the checks of a person's name, role, email and
 * display name (see pw.c).
 */
#ifndef PW_H
#define PW_H

#include <stddef.h>
#include <stdint.h>

#define PW_HASH_MAX	160	/* "scrypt$N$r$p$salt$hash" and its NUL */
#define PW_TOKEN_LEN	43	/* 32 bytes as base64url, no padding */
#define PW_MIN_LEN	10	/* the shortest password a person may set */
#define PW_MAX_LEN	1024	/* the longest one hashed */
#define PW_N_DEFAULT	32768	/* 2^15: about 32 MB and tens of ms */
#define PW_N_MIN	1024	/* 2^10: WA_SCRYPT_N may not go lower */
#define PW_N_MAX	1048576	/* 2^20: a stored hash may not ask more */

/* The parameters a stored hash names. */
struct pw_params {
	uint64_t	 n;	/* CPU/memory cost, a power of two */
	uint32_t	 r;	/* block size */
	uint32_t	 p;	/* parallelism */
};

uint64_t	 pw_cost(void);
int		 pw_hash(const char *pw, size_t len, uint64_t n, char *out,
		    size_t outsz);
int		 pw_verify(const char *pw, size_t len, const char *stored);
int		 pw_parse(const char *stored, struct pw_params *);
void		 pw_dummy(const char *pw, size_t len);
int		 pw_random(size_t nbytes, char *out, size_t outsz);
int		 pw_b64url(const unsigned char *in, size_t len, char *out,
		    size_t outsz);

/* People's names and roles, as users and the API take them. */
int		 pw_name_ok(const char *);
int		 pw_role_ok(const char *);
int		 pw_email_ok(const char *);
int		 pw_display_ok(const char *);

#endif
