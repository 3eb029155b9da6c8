/* req.h: one FastCGI request: parameters, bounded body, responses (see req.c). */
#ifndef REQ_H
#define REQ_H

#include <stddef.h>

#include "buf.h"

struct req {
	void		*fr;		/* FCGX_Request *, owned by req.c */
	const char	*method;	/* REQUEST_METHOD, "" when absent */
	const char	*path;		/* DOCUMENT_URI */
	const char	*query;		/* QUERY_STRING, "" when absent */
	struct buf	 body;		/* request body, read by req_body() */
};

enum req_body_rc {
	REQ_BODY_OK,
	REQ_BODY_NO_LENGTH,	/* no or malformed CONTENT_LENGTH: 411 */
	REQ_BODY_TOO_LARGE,	/* over the limit: 413 */
	REQ_BODY_SHORT,		/* the client sent fewer bytes: 400 */
	REQ_BODY_NOMEM,		/* 503 */
	REQ_BODY_SINK,		/* req_body_stream(): the sink refused */
	REQ_BODY__MAX
};

enum req_accept_rc {
	REQ_ACCEPT_OK,
	REQ_ACCEPT_NONE,	/* no request waiting (without wait) */
	REQ_ACCEPT_FAIL,	/* interrupted by a signal, or an error */
	REQ_ACCEPT__MAX
};

int		 req_init(struct req *);
enum req_accept_rc req_accept(struct req *, int wait);
void		 req_finish(struct req *, int quick);
void		 req_free(struct req *);
const char	*req_param(const struct req *, const char *name);
enum req_body_rc req_body(struct req *, size_t max);
#define REQ_CHUNK	(64 * 1024)	/* req_body_stream()'s largest piece */
enum req_body_rc req_body_stream(struct req *, size_t max,
		    int (*sink)(void *, const void *, size_t), void *arg,
		    size_t *got);
int		 req_query(const char *qs, const char *name, struct buf *out);
int		 req_reply(struct req *, int status, const char *ctype,
		    const char *headers, const void *body, size_t len);
int		 req_accel(struct req *, const char *uri, const char *ctype,
		    const char *headers);
int		 req_error(struct req *, int status, const char *headers,
		    const char *code, const char *message);

#endif
