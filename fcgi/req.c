/*
 * req.c: the only file that includes libfcgi.  Accepts requests on the
 * socket spawn-fcgi handed us as fd 0, reads exactly CONTENT_LENGTH bytes
 * with a ceiling, decodes query strings and writes responses through the
 * request's own stream (never fcgi_stdio.h).
 *
 * The accept is ours, not libfcgi's: the listening socket is made
 * non-blocking so that a responder can ask "is another request waiting?"
 * without blocking, and hold several at once (see responder.c).  The
 * connection is handed to libfcgi through FCGX_Request.ipcFd, which
 * FCGX_Accept_r reads from when it is open (it only accepts when it is
 * not).
 */
#include <sys/epoll.h>
#include <sys/socket.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "log.h"
#include "req.h"

static const char *const reasons[][2] = {
	{ "200", "OK" }, { "202", "Accepted" }, { "400", "Bad Request" },
	{ "401", "Unauthorized" }, { "403", "Forbidden" },
	{ "404", "Not Found" }, { "405", "Method Not Allowed" },
	{ "409", "Conflict" }, { "411", "Length Required" },
	{ "413", "Payload Too Large" }, { "415", "Unsupported Media Type" },
	{ "422", "Unprocessable Entity" }, { "429", "Too Many Requests" },
	{ "500", "Internal Server Error" }, { "503", "Service Unavailable" },
	{ "201", "Created" }, { "204", "No Content" },
};

#define LISTEN_FD	0	/* spawn-fcgi's socket (FastCGI spec 2.2) */

/*
 * This process's wait for the listening socket.  EPOLLEXCLUSIVE: a new
 * connection wakes one idle responder of the pool, not all of them (a
 * plain poll() woke every one, and all but one went back to sleep).
 */
static int listen_ep = -1;

/*
 * Makes the listening socket non-blocking (every process of the pool
 * shares it and runs this same code) and sets up this process's wait on
 * it, once.  Returns 0, or -1 when fd 0 is not a listening socket: not
 * started by spawn-fcgi.
 */
static int
listen_init(void)
{
	struct epoll_event ev;
	int	 on = 0, fl;
	socklen_t len = sizeof(on);

	if (listen_ep != -1)
		return 0;

	if (getsockopt(LISTEN_FD, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == -1 ||
	    !on) {
		log_warnx("fd 0 is not a listening socket: run wa-fcgi under "
		    "spawn-fcgi");
		return -1;
	}
	if ((fl = fcntl(LISTEN_FD, F_GETFL)) == -1 ||
	    (!(fl & O_NONBLOCK) &&
	    fcntl(LISTEN_FD, F_SETFL, fl | O_NONBLOCK) == -1)) {
		log_warn("%s: fcntl", __func__);
		return -1;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLEXCLUSIVE;
	if ((listen_ep = epoll_create1(EPOLL_CLOEXEC)) == -1 ||
	    epoll_ctl(listen_ep, EPOLL_CTL_ADD, LISTEN_FD, &ev) == -1) {
		log_warn("%s: epoll", __func__);
		if (listen_ep != -1)
			(void)close(listen_ep);
		listen_ep = -1;
		return -1;
	}
	return 0;
}

/* Prepares r for req_accept().  Returns 0 or -1. */
int
req_init(struct req *r)
{
	FCGX_Request *fr;

	memset(r, 0, sizeof(*r));
	if (FCGX_Init() != 0) {
		log_warnx("%s: FCGX_Init failed", __func__);
		return -1;
	}
	if (listen_init() == -1)
		return -1;
	if ((fr = calloc(1, sizeof(*fr))) == NULL) {
		log_warn("%s: calloc", __func__);
		return -1;
	}
	if (FCGX_InitRequest(fr, LISTEN_FD, 0) != 0) {
		log_warnx("%s: FCGX_InitRequest failed", __func__);
		free(fr);
		return -1;
	}
	r->fr = fr;
	buf_init(&r->body);
	return 0;
}

/*
 * Takes the next connection from the listening socket: waits for one when
 * wait is set.  Returns the descriptor, -2 when none is waiting (only
 * without wait), -1 when interrupted by a signal or on error (logged).
 */
static int
next_conn(int wait)
{
	struct epoll_event ev;
	int		 fd;

	for (;;) {
		if ((fd = accept4(LISTEN_FD, NULL, NULL, SOCK_CLOEXEC)) != -1)
			return fd;
		switch (errno) {
		case EAGAIN:
#if EAGAIN != EWOULDBLOCK
		case EWOULDBLOCK:
#endif
			/* Another process of the pool took it, or none. */
			if (!wait)
				return -2;
			if (epoll_wait(listen_ep, &ev, 1, -1) == -1) {
				if (errno != EINTR)
					log_warn("%s: epoll_wait", __func__);
				return -1;
			}
			break;
		case ECONNABORTED:
		case EPROTO:
			break;		/* the client gave up; next one */
		case EINTR:
			return -1;
		default:
			log_warn("%s: accept", __func__);
			return -1;
		}
	}
}

/*
 * Takes the next request: waits for one when wait is set.  Returns
 * REQ_ACCEPT_OK, REQ_ACCEPT_NONE when none is waiting (only without
 * wait), or REQ_ACCEPT_FAIL when interrupted by a signal or on error (the
 * caller checks its stop flag).
 */
enum req_accept_rc
req_accept(struct req *r, int wait)
{
	FCGX_Request	*fr = r->fr;
	int		 fd;

	for (;;) {
		if ((fd = next_conn(wait)) == -2)
			return REQ_ACCEPT_NONE;
		if (fd == -1)
			return REQ_ACCEPT_FAIL;
		/*
		 * keepConnection stops FCGX_Accept_r's opening "finish the
		 * previous request" from closing the connection we hand it;
		 * the request's own FCGI_BEGIN_REQUEST flags then set it.
		 */
		fr->ipcFd = fd;
		fr->keepConnection = 1;
		if (FCGX_Accept_r(fr) == 0)
			break;
		/*
		 * Not a FastCGI request: libfcgi closed it and found no
		 * other waiting on the non-blocking socket.
		 */
		if (!wait)
			return REQ_ACCEPT_NONE;
	}
	if ((r->method = req_param(r, "REQUEST_METHOD")) == NULL)
		r->method = "";
	if ((r->path = req_param(r, "DOCUMENT_URI")) == NULL)
		r->path = "";
	if ((r->query = req_param(r, "QUERY_STRING")) == NULL)
		r->query = "";
	return REQ_ACCEPT_OK;
}

/*
 * Ends the request and releases its memory (each accept-loop pass).
 *
 * libfcgi closes a connection by shutting down its side and then waiting
 * for nginx to close first, reading until EOF, so that no unread input
 * turns into a reset that could cost the client its answer.  That wait
 * costs a round trip through nginx after every request.  With quick set
 * we read the rest of the input ourselves (the end of FCGI_STDIN, bounded
 * by the request nginx already buffered), so nothing is left to reset,
 * and close at once (FCGX_Detach makes FCGX_Finish_r skip the wait):
 * worth a quarter more webhooks a second.  Management API reads keep the
 * wait: there it paces a responder behind nginx, and without it their
 * p99 rose from ~17 to ~21 ms in `make bench` (CPU-heavy reads on two
 * cores competing with the next request).
 */
void
req_finish(struct req *r, int quick)
{
	FCGX_Request	*fr = r->fr;
	char		 rest[4096];

	if (quick && fr->in != NULL) {
		while (FCGX_GetStr(rest, sizeof(rest), fr->in) > 0)
			;
		(void)FCGX_Detach(fr);
	}
	FCGX_Finish_r(fr);
	buf_clear(&r->body);
	r->method = r->path = r->query = NULL;
}

/* Frees what req_init() acquired; accepts a zeroed req. */
void
req_free(struct req *r)
{
	if (r->fr != NULL) {
		FCGX_Free(r->fr, 1);
		free(r->fr);
	}
	buf_clear(&r->body);
	memset(r, 0, sizeof(*r));
}

const char *
req_param(const struct req *r, const char *name)
{
	return FCGX_GetParam(name, ((FCGX_Request *)r->fr)->envp);
}

/*
 * The declared CONTENT_LENGTH into *want: REQ_BODY_OK, NO_LENGTH (none
 * or malformed) or TOO_LARGE (over max).
 */
static enum req_body_rc
content_length(const struct req *r, size_t max, size_t *want)
{
	const char	*cl = req_param(r, "CONTENT_LENGTH");
	char		*end;
	long long	 n;

	if (cl == NULL || *cl == '\0' || !isdigit((unsigned char)*cl))
		return REQ_BODY_NO_LENGTH;
	errno = 0;
	n = strtoll(cl, &end, 10);
	if (errno != 0 || *end != '\0' || n < 0)
		return REQ_BODY_NO_LENGTH;
	if ((unsigned long long)n > max)
		return REQ_BODY_TOO_LARGE;
	*want = (size_t)n;
	return REQ_BODY_OK;
}

/*
 * Reads exactly CONTENT_LENGTH bytes (at most max) into r->body.  Never
 * reads past the declared length, so a client cannot smuggle more.
 */
enum req_body_rc
req_body(struct req *r, size_t max)
{
	FCGX_Request	*fr = r->fr;
	enum req_body_rc rc;
	size_t		 want, got = 0;
	int		 k;

	if ((rc = content_length(r, max, &want)) != REQ_BODY_OK)
		return rc;
	if (buf_reserve(&r->body, want) == -1)
		return REQ_BODY_NOMEM;
	while (got < want) {
		k = FCGX_GetStr(r->body.p + got, (int)(want - got), fr->in);
		if (k <= 0)
			break;
		got += (size_t)k;
	}
	r->body.len = got;
	r->body.p[got] = '\0';
	return got == want ? REQ_BODY_OK : REQ_BODY_SHORT;
}

/*
 * Reads exactly CONTENT_LENGTH bytes (at most max, checked before any is
 * read) and hands them to sink in pieces of at most REQ_CHUNK bytes, so
 * that a large upload is never held in memory whole.  *got counts the
 * bytes handed over.  REQ_BODY_SINK when sink returned -1 (it stops
 * there); REQ_BODY_SHORT when the client sent fewer bytes.
 */
enum req_body_rc
req_body_stream(struct req *r, size_t max, int (*sink)(void *, const void *,
    size_t), void *arg, size_t *got)
{
	FCGX_Request	*fr = r->fr;
	enum req_body_rc rc;
	char		*chunk;
	size_t		 want, n;
	int		 k;

	*got = 0;
	if ((rc = content_length(r, max, &want)) != REQ_BODY_OK)
		return rc;
	if ((chunk = malloc(REQ_CHUNK)) == NULL)
		return REQ_BODY_NOMEM;
	rc = REQ_BODY_OK;
	while (*got < want) {
		n = want - *got < REQ_CHUNK ? want - *got : REQ_CHUNK;
		if ((k = FCGX_GetStr(chunk, (int)n, fr->in)) <= 0) {
			rc = REQ_BODY_SHORT;
			break;
		}
		if (sink(arg, chunk, (size_t)k) == -1) {
			rc = REQ_BODY_SINK;
			break;
		}
		*got += (size_t)k;
	}
	free(chunk);
	return rc;
}

/*
 * Finds the first parameter called name (decoded) in query string qs and
 * puts its decoded value in out (cleared first).  Names contain dots
 * (hub.mode), so no CGI library conventions apply (reference section 1).
 * Returns 1 found, 0 absent, -1 malformed or out of memory.
 */
int
req_query(const char *qs, const char *name, struct buf *out)
{
	const char	*p = qs, *amp, *eq;
	struct buf	 key;
	size_t		 seg;
	int		 rc = 0;

	buf_clear(out);
	buf_init(&key);
	while (p != NULL && *p != '\0') {
		amp = strchr(p, '&');
		seg = amp != NULL ? (size_t)(amp - p) : strlen(p);
		eq = memchr(p, '=', seg);
		buf_clear(&key);
		if (buf_urldecode(&key, p, eq != NULL ? (size_t)(eq - p) :
		    seg) == -1) {
			rc = -1;
			break;
		}
		if (key.len == strlen(name) && key.p != NULL &&
		    memcmp(key.p, name, key.len) == 0) {
			if (eq != NULL && buf_urldecode(out, eq + 1,
			    seg - (size_t)(eq + 1 - p)) == -1) {
				rc = -1;
				break;
			}
			if (out->p == NULL && buf_reserve(out, 0) == -1) {
				rc = -1;
				break;
			}
			rc = 1;
			break;
		}
		p = amp != NULL ? amp + 1 : NULL;
	}
	buf_clear(&key);
	if (rc != 1)
		buf_clear(out);
	return rc;
}

/*
 * Writes a whole response.  headers is NULL or extra "Name: value\r\n"
 * lines.  Returns 0, or -1 when the client went away (logged by caller).
 */
int
req_reply(struct req *r, int status, const char *ctype, const char *headers,
    const void *body, size_t len)
{
	FCGX_Request	*fr = r->fr;
	const char	*reason = "Unknown";
	char		 code[8], head[1024];
	size_t		 i;
	int		 n;

	(void)snprintf(code, sizeof(code), "%d", status);
	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (strcmp(reasons[i][0], code) == 0)
			reason = reasons[i][1];
	/* Formatted here: FCGX_FPrintF has its own printf without %zu. */
	n = snprintf(head, sizeof(head), "Status: %d %s\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\nCache-Control: no-store\r\n%s\r\n",
	    status, reason, ctype, len, headers != NULL ? headers : "");
	if (n < 0 || (size_t)n >= sizeof(head)) {
		log_warnx("%s: response headers too long", __func__);
		return -1;
	}
	if (FCGX_PutStr(head, n, fr->out) != n)
		return -1;
	if (len > 0 && FCGX_PutStr(body, (int)len, fr->out) != (int)len)
		return -1;
	return 0;
}

/*
 * Hands the answer to nginx's internal location uri (X-Accel-Redirect),
 * which serves the file: nginx keeps this Content-Type and the
 * Content-Disposition in headers (NULL or "Name: value\r\n" lines).  No
 * Cache-Control here: the internal location sets its own, and nginx
 * would pass both.  uri is ours (a stored relative path under a fixed
 * prefix), never client input.  0, or -1 when the client went away.
 */
int
req_accel(struct req *r, const char *uri, const char *ctype,
    const char *headers)
{
	FCGX_Request	*fr = r->fr;
	char		 head[2048];
	int		 n;

	n = snprintf(head, sizeof(head), "Status: 200 OK\r\nContent-Type: "
	    "%s\r\nX-Accel-Redirect: %s\r\n%s\r\n", ctype, uri,
	    headers != NULL ? headers : "");
	if (n < 0 || (size_t)n >= sizeof(head)) {
		log_warnx("%s: response headers too long", __func__);
		return -1;
	}
	return FCGX_PutStr(head, n, fr->out) == n ? 0 : -1;
}

/*
 * Answers {"error":{"code":...,"message":...}}.  code and message are
 * our own constant text (no quotes or backslashes), never client input.
 */
int
req_error(struct req *r, int status, const char *headers, const char *code,
    const char *message)
{
	struct buf	 b;
	int		 rc = -1;

	buf_init(&b);
	if (buf_printf(&b, "{\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}\n",
	    code, message) == 0)
		rc = req_reply(r, status, "application/json", headers, b.p,
		    b.len);
	buf_clear(&b);
	return rc;
}
