/*
 * wa.h: the Graph API over HTTP (see wa.c); the only module that sees
 * libcurl, used by wa-worker alone (a responder never calls out).
 */
#ifndef WA_H
#define WA_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct wa;
struct pollfd;

struct wa_opts {
	const char	*graph_url;	/* e.g. https://graph.facebook.com */
	const char	*version;	/* e.g. v23.0 */
	const char	*token;		/* access token, copied and wiped on free */
	long		 timeout_ms;	/* one JSON call, connect included */
	long		 max_conns;	/* connections to one host at most */
};

/* One finished transfer. */
struct wa_result {
	uint64_t	 tag;		/* as given when started */
	long		 http;		/* HTTP status, 0 when none came */
	char		 transport[256]; /* libcurl's error, "" when HTTP answered */
	int		 resent;	/* sends only: times libcurl sent it again */
	struct buf	 body;		/* the reply; the caller clears it */
};

/* Takes n bytes of a download; 0, or -1 to stop it. */
typedef int (*wa_sink)(void *arg, const void *p, size_t n);

struct wa	*wa_new(const struct wa_opts *);
void		 wa_free(struct wa *);
int		 wa_token_add(struct wa *, const char *token);
void		 wa_token_use(struct wa *, int id);
int		 wa_post_json(struct wa *, uint64_t tag, const char *path,
		    const char *json);
int		 wa_get(struct wa *, uint64_t tag, const char *path,
		    size_t max_bytes, long timeout_ms);
int		 wa_token_url_ok(const struct wa *, const char *url,
		    const char **why);
int		 wa_download(struct wa *, uint64_t tag, const char *url,
		    int64_t max_bytes, long timeout_ms, wa_sink, void *arg);
int		 wa_post_ext(struct wa *, uint64_t tag, const char *url,
		    const char *json, const char *header, long timeout_ms);
int		 wa_upload(struct wa *, uint64_t tag, const char *pnid,
		    const char *file, const char *mime);
int		 wa_wait(struct wa *, int fd, long timeout_ms);
int		 wa_wait_more(struct wa *, int fd, const struct pollfd *more,
		    int nmore, long timeout_ms);
int		 wa_multi_fds(void *multi, struct pollfd *fds, int max,
		    long *timeout_ms);
int		 wa_done(struct wa *, struct wa_result *);
int		 wa_running(const struct wa *);
int		 wa_get_wait(struct wa *, const char *path, size_t max_bytes,
		    long timeout_ms, struct wa_result *);
int		 wa_http(const char *method, const char *url,
		    const char *const *hdrs, const void *body, size_t len,
		    size_t max, long timeout_ms, long *status, struct buf *out,
		    char *err, size_t errsz);
int		 wa_request(const char *method, const char *url,
		    const char *key, const char *json, long timeout_ms,
		    long *status, struct buf *out, char *err, size_t errsz);
int		 wa_probe(const char *url, const char *resolve,
		    const char *cafile, long timeout_ms, long *status,
		    struct buf *out, char *err, size_t errsz);

#endif
