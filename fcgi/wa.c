/*
 * wa.c: the only file that includes libcurl.  One multi handle keeps
 * connections to the Graph API alive and reused and runs many requests
 * at once; each request has a connect and a total timeout.  The access
 * token travels only in the Authorization header, is never logged, and
 * is wiped when the handle is freed.  Each business number may have its
 * own token (issue 13): wa_token_add() registers one, wa_token_use()
 * picks the one the next requests carry; every registered token's
 * headers live until wa_free(), so a call in flight keeps its own.
 *
 * DESIGN rule 9: the token goes only over https to the Graph host and
 * Meta's media hosts (*.fbsbx.com, *.whatsapp.net, *.facebook.com), or
 * to the configured Graph URL's own host (how tests point us at a fake,
 * over http only when that is this machine).  Downloads never let
 * libcurl follow redirects: wa_done() follows one itself only to a host
 * that may get the token, and refuses any other.
 */
#include <sys/select.h>

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/string.h>
#include <curl/curl.h>

#include "log.h"
#include "url.h"
#include "wa.h"

#define CONNECT_MS	5000	/* TCP + TLS handshake at most */
/*
 * A send never reuses a connection idle this long.  Meta documents no
 * keep-alive idle timeout; common front ends close idle connections
 * after 60 s (load balancers) or 75 s (nginx), the e2e fake after 120 s,
 * and libcurl's own default (118 s) is above most of them.  A POST on a
 * connection the server is closing is resent by libcurl after the server
 * may have read it: a possible double message.  Staying well below those
 * timeouts makes that race rare; wa_result.resent counts what is left.
 */
#define SEND_MAXAGE_S	20L
#define REPLY_MAX	(1024 * 1024)	/* a Graph JSON reply is small */
#define HOPS_MAX	5		/* redirects a download follows */
#define TOKENS_MAX	4096		/* distinct tokens registered */
#define WAIT_FDS	32		/* sockets wa_wait_more() watches */
#define MULTI_BLIND_MS	50		/* a multi with no socket to watch */

/* One token's header lists. */
struct wa_auth {
	struct curl_slist	*auth;		/* Authorization only */
	struct curl_slist	*json;		/* Authorization + Content-Type */
};

struct wa {
	CURLM			*multi;
	struct curl_slist	*auth;		/* the token in use: Authorization */
	struct curl_slist	*json;		/* ...and Content-Type */
	struct wa_auth		*auths;		/* every token, [0] wa_opts' */
	size_t			 nauths;
	char			*base;		/* graph_url/version */
	struct url		 graph;		/* graph_url, parsed */
	const char		*protos;	/* schemes the token may use */
	long			 timeout_ms;
	int			 running;	/* transfers in flight */
	struct xfer		*head;		/* every transfer, for wa_free */
};

/* One transfer, owned by its easy handle's CURLOPT_PRIVATE. */
struct xfer {
	CURL		*easy;
	struct xfer	*prev, *next;	/* in wa's list */
	uint64_t	 tag;
	struct buf	 body;
	size_t		 max;
	char		 err[CURL_ERROR_SIZE];
	curl_mime	*mime;		/* uploads only */
	struct curl_slist *hdrs;	/* its own headers, or NULL */
	struct curl_slist *auth;	/* downloads: the token, for a redirect */
	wa_sink		 sink;		/* downloads: where 2xx bytes go */
	void		*sink_arg;
	int64_t		 got;		/* bytes given to sink */
	long		 timeout_ms;	/* downloads: for a redirect */
	int		 hops;		/* downloads: redirects followed */
	int		 sends;		/* times its headers went out (sends) */
};

static int	global_done;

static void	xfer_free(struct wa *, CURL *);

static void
slist_wipe_free(struct curl_slist *l)
{
	struct curl_slist *p;

	for (p = l; p != NULL; p = p->next)
		explicit_bzero(p->data, strlen(p->data));
	curl_slist_free_all(l);
}

/* Returns the handle (caller frees with wa_free()) or NULL, logged. */
struct wa *
wa_new(const struct wa_opts *o)
{
	struct wa		*w;
	const char		*why = NULL;

	if (!global_done) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			log_warnx("%s: curl_global_init failed", __func__);
			return NULL;
		}
		global_done = 1;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		log_warn("%s: calloc", __func__);
		return NULL;
	}
	w->timeout_ms = o->timeout_ms;
	if (url_parse(o->graph_url, &w->graph, &why) == -1 ||
	    (!w->graph.https && !url_is_loopback(&w->graph))) {
		log_warnx("%s: the Graph URL %s", __func__, why != NULL ? why :
		    "must be https:// (http:// only to this machine)");
		goto fail;
	}
	w->protos = w->graph.https ? "https" : "http,https";
	if (wa_token_add(w, o->token) != 0)
		goto fail;
	wa_token_use(w, 0);
	if (asprintf(&w->base, "%s/%s", o->graph_url, o->version) == -1) {
		w->base = NULL;
		goto oom;
	}
	if ((w->multi = curl_multi_init()) == NULL)
		goto oom;
	if (curl_multi_setopt(w->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
	    o->max_conns) != CURLM_OK ||
	    curl_multi_setopt(w->multi, CURLMOPT_MAXCONNECTS, o->max_conns) !=
	    CURLM_OK) {
		log_warnx("%s: curl_multi_setopt failed", __func__);
		goto fail;
	}
	return w;
oom:
	log_warnx("%s: out of memory", __func__);
fail:
	wa_free(w);
	return NULL;
}

/*
 * Registers token (once: the same token again gives the same id) so that
 * requests can carry it.  Returns its id, 0 being wa_opts' token, or -1
 * (logged, the token never).
 */
int
wa_token_add(struct wa *w, const char *token)
{
	struct wa_auth		*a;
	struct curl_slist	*t;
	char			 hdr[1200];
	size_t			 i;
	int			 n;

	n = snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s", token);
	if (n < 0 || (size_t)n >= sizeof(hdr)) {
		log_warnx("%s: access token too long", __func__);
		return -1;
	}
	for (i = 0; i < w->nauths; i++)
		if (strcmp(w->auths[i].auth->data, hdr) == 0) {
			explicit_bzero(hdr, sizeof(hdr));
			return (int)i;
		}
	if (w->nauths >= TOKENS_MAX || (a = reallocarray(w->auths,
	    w->nauths + 1, sizeof(*a))) == NULL) {
		log_warnx("%s: cannot keep another token", __func__);
		explicit_bzero(hdr, sizeof(hdr));
		return -1;
	}
	w->auths = a;
	a = &w->auths[w->nauths];
	memset(a, 0, sizeof(*a));
	if ((a->auth = curl_slist_append(NULL, hdr)) == NULL ||
	    (a->json = curl_slist_append(NULL, hdr)) == NULL ||
	    (t = curl_slist_append(a->json, "Content-Type: application/json"))
	    == NULL) {
		slist_wipe_free(a->auth);
		slist_wipe_free(a->json);
		explicit_bzero(hdr, sizeof(hdr));
		log_warnx("%s: out of memory", __func__);
		return -1;
	}
	a->json = t;
	explicit_bzero(hdr, sizeof(hdr));
	return (int)w->nauths++;
}

/* The Graph requests started from now on carry token id (wa_token_add). */
void
wa_token_use(struct wa *w, int id)
{
	if (id < 0 || (size_t)id >= w->nauths)
		id = 0;
	w->auth = w->auths[id].auth;
	w->json = w->auths[id].json;
}

/* Unlinks and frees a transfer and its easy handle. */
static void
xfer_free(struct wa *w, CURL *e)
{
	struct xfer *x = NULL;

	(void)curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&x);
	if (x != NULL) {
		if (x->prev != NULL)
			x->prev->next = x->next;
		else if (w->head == x)
			w->head = x->next;
		if (x->next != NULL)
			x->next->prev = x->prev;
		buf_clear(&x->body);
		curl_mime_free(x->mime);
		curl_slist_free_all(x->hdrs);
		free(x);
	}
	curl_easy_cleanup(e);
}

/* Cancels what is in flight and frees; accepts NULL. */
void
wa_free(struct wa *w)
{
	if (w == NULL)
		return;
	while (w->head != NULL) {
		if (w->multi != NULL)
			(void)curl_multi_remove_handle(w->multi,
			    w->head->easy);
		xfer_free(w, w->head->easy);
	}
	if (w->multi != NULL)
		(void)curl_multi_cleanup(w->multi);
	for (size_t i = 0; i < w->nauths; i++) {
		slist_wipe_free(w->auths[i].auth);
		slist_wipe_free(w->auths[i].json);
	}
	free(w->auths);
	free(w->base);
	free(w);
}

static size_t
on_data(char *p, size_t size, size_t n, void *arg)
{
	struct xfer	*x = arg;
	size_t		 len = size * n;
	long		 code = 0;

	if (x->sink != NULL) {
		/* Only a 2xx body is the file; a 3xx or error page is not. */
		(void)curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
		if (code < 200 || code > 299)
			return len;
		if ((int64_t)len > (int64_t)x->max - x->got)
			return 0;	/* over the ceiling: CURLE_WRITE_ERROR */
		if (x->sink(x->sink_arg, p, len) == -1)
			return 0;
		x->got += (int64_t)len;
		return len;
	}
	if (x->body.len + len > x->max)
		return 0;	/* over the ceiling: CURLE_WRITE_ERROR */
	if (buf_append(&x->body, p, len) == -1)
		return 0;
	return len;
}

/*
 * libcurl's debug hook, on sends only: counts each time the request's
 * headers go out.  More than once means libcurl resent the request on a
 * new connection after a reused one closed without an answer ("Connection
 * died, retrying a fresh connect"), which Meta may have read.
 */
static int
on_debug(CURL *e, curl_infotype type, char *data, size_t len, void *arg)
{
	struct xfer *x = arg;

	(void)e;
	(void)data;
	(void)len;
	if (type == CURLINFO_HEADER_OUT)
		x->sends++;
	return 0;
}

/*
 * A configured easy handle for url with its xfer, or NULL.  protos: the
 * schemes libcurl may use (libcurl follows no redirect here).
 */
static CURL *
easy_new(struct wa *w, uint64_t tag, const char *url, size_t max,
    long timeout_ms, struct curl_slist *hdrs, const char *protos)
{
	CURL		*e;
	struct xfer	*x;

	if ((x = calloc(1, sizeof(*x))) == NULL)
		return NULL;
	if ((e = curl_easy_init()) == NULL) {
		free(x);
		return NULL;
	}
	x->easy = e;
	x->tag = tag;
	x->max = max;
	buf_init(&x->body);
	if ((x->next = w->head) != NULL)
		x->next->prev = x;
	w->head = x;
	if (curl_easy_setopt(e, CURLOPT_PRIVATE, x) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, protos) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, protos) !=
	    CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
	    timeout_ms < CONNECT_MS ? timeout_ms : (long)CONNECT_MS) !=
	    CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_WRITEDATA, x) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->err) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_USERAGENT, "wa-gateway/1") !=
	    CURLE_OK) {
		xfer_free(w, e);
		return NULL;
	}
	return e;
}

static int
start(struct wa *w, CURL *e)
{
	if (curl_multi_add_handle(w->multi, e) != CURLM_OK) {
		log_warnx("%s: curl_multi_add_handle failed", __func__);
		xfer_free(w, e);
		return -1;
	}
	w->running++;
	return 0;
}

/* POSTs json to base/path (path starts with '/').  0 or -1. */
int
wa_post_json(struct wa *w, uint64_t tag, const char *path, const char *json)
{
	CURL		*e;
	struct xfer	*x = NULL;
	char		 url[2048];
	int		 n = snprintf(url, sizeof(url), "%s%s", w->base, path);

	if (n < 0 || (size_t)n >= sizeof(url) || (e = easy_new(w, tag, url,
	    REPLY_MAX, w->timeout_ms, w->json, w->protos)) == NULL) {
		log_warnx("%s: cannot start a request", __func__);
		return -1;
	}
	(void)curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&x);
	if (curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, json) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_MAXAGE_CONN, SEND_MAXAGE_S) !=
	    CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_DEBUGFUNCTION, on_debug) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_DEBUGDATA, x) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_VERBOSE, 1L) != CURLE_OK) {
		xfer_free(w, e);
		return -1;
	}
	return start(w, e);
}

/*
 * 1 when url may be sent the access token (DESIGN rule 9): the Graph
 * URL's own scheme, host and port, or https to Meta's media hosts
 * (reference 10.1: lookaside.fbsbx.com).  0 with why set otherwise.
 */
int
wa_token_url_ok(const struct wa *w, const char *url, const char **why)
{
	static const char *const meta[] = { "fbsbx.com", "whatsapp.net",
	    "facebook.com" };
	struct url	 u;
	size_t		 i;

	if (url_parse(url, &u, why) == -1)
		return 0;
	if (strcmp(u.host, w->graph.host) == 0 && u.port == w->graph.port &&
	    u.https == w->graph.https)
		return 1;
	if (u.https && u.port == 443)
		for (i = 0; i < sizeof(meta) / sizeof(meta[0]); i++)
			if (url_host_in(u.host, meta[i]))
				return 1;
	*why = "is neither the Graph host nor an https Meta media host "
	    "(*.fbsbx.com, *.whatsapp.net, *.facebook.com): the access token "
	    "is not sent there";
	return 0;
}

/*
 * GETs a Graph path (starting with '/'), keeping at most max_bytes of
 * the reply.  0 or -1.
 */
int
wa_get(struct wa *w, uint64_t tag, const char *path, size_t max_bytes,
    long timeout_ms)
{
	CURL	*e;
	char	 url[4096];
	int	 n;

	n = snprintf(url, sizeof(url), "%s%s", w->base, path);
	if (path[0] != '/' || n < 0 || (size_t)n >= sizeof(url) ||
	    (e = easy_new(w, tag, url, max_bytes, timeout_ms, w->auth,
	    w->protos)) == NULL) {
		log_warnx("%s: cannot start a request", __func__);
		return -1;
	}
	return start(w, e);
}

/* A download of url with hops redirects behind it; the handle or NULL. */
static CURL *
download_new(struct wa *w, uint64_t tag, const char *url, int64_t max_bytes,
    long timeout_ms, wa_sink sink, void *arg, int hops,
    struct curl_slist *auth)
{
	CURL		*e;
	struct xfer	*x = NULL;
	const char	*why;

	if (!wa_token_url_ok(w, url, &why) || max_bytes <= 0 ||
	    (e = easy_new(w, tag, url, (size_t)max_bytes, timeout_ms, auth,
	    w->protos)) == NULL)
		return NULL;
	(void)curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&x);
	x->auth = auth;
	x->sink = sink;
	x->sink_arg = arg;
	x->timeout_ms = timeout_ms;
	x->hops = hops;
	if (curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)max_bytes) != CURLE_OK) {
		xfer_free(w, e);
		return NULL;
	}
	return e;
}

/*
 * GETs a media file (reference 10.2: the same bearer) from url, which
 * wa_token_url_ok() must accept, giving the bytes of a 2xx answer to
 * sink as they arrive: at most max_bytes, never held whole in memory.
 * A redirect is followed (up to 5) only to a URL that may get the
 * token; any other ends the transfer, reported by wa_done() with the
 * 3xx status and a sentence in transport.  0 or -1.
 */
int
wa_download(struct wa *w, uint64_t tag, const char *url, int64_t max_bytes,
    long timeout_ms, wa_sink sink, void *arg)
{
	CURL *e;

	if ((e = download_new(w, tag, url, max_bytes, timeout_ms, sink, arg,
	    0, w->auth)) == NULL)
		return -1;
	return start(w, e);
}

/*
 * POSTs file to /{pnid}/media as multipart (reference 10.3: the parts
 * messaging_product, type and file).  0 or -1.
 */
int
wa_upload(struct wa *w, uint64_t tag, const char *pnid, const char *file,
    const char *mime)
{
	CURL		*e;
	struct xfer	*x = NULL;
	curl_mimepart	*p;
	char		 url[2048];
	int		 n;

	n = snprintf(url, sizeof(url), "%s/%s/media", w->base, pnid);
	if (n < 0 || (size_t)n >= sizeof(url) || (e = easy_new(w, tag, url,
	    REPLY_MAX, w->timeout_ms * 4, w->auth, w->protos)) == NULL)
		return -1;
	(void)curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&x);
	if ((x->mime = curl_mime_init(e)) == NULL ||
	    (p = curl_mime_addpart(x->mime)) == NULL ||
	    curl_mime_name(p, "messaging_product") != CURLE_OK ||
	    curl_mime_data(p, "whatsapp", CURL_ZERO_TERMINATED) != CURLE_OK ||
	    (p = curl_mime_addpart(x->mime)) == NULL ||
	    curl_mime_name(p, "type") != CURLE_OK ||
	    curl_mime_data(p, mime, CURL_ZERO_TERMINATED) != CURLE_OK ||
	    (p = curl_mime_addpart(x->mime)) == NULL ||
	    curl_mime_name(p, "file") != CURLE_OK ||
	    curl_mime_filedata(p, file) != CURLE_OK ||
	    curl_mime_type(p, mime) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_MIMEPOST, x->mime) != CURLE_OK) {
		log_warnx("%s: cannot build the upload", __func__);
		xfer_free(w, e);
		return -1;
	}
	return start(w, e);
}

/*
 * POSTs json to an absolute url outside the Graph API (an AI agent) with
 * its own header line (a signature); never with the access token.
 * 0 or -1.
 */
int
wa_post_ext(struct wa *w, uint64_t tag, const char *url, const char *json,
    const char *header, long timeout_ms)
{
	CURL			*e;
	struct xfer		*x = NULL;
	struct curl_slist	*t;
	struct url		 u;
	const char		*why;

	/* The caller (chat.c) checked url is a configured agent. */
	if (url_parse(url, &u, &why) == -1 || (e = easy_new(w, tag, url,
	    REPLY_MAX, timeout_ms, NULL, u.https ? "https" : "http")) == NULL)
		return -1;
	(void)curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&x);
	if ((x->hdrs = curl_slist_append(NULL,
	    "Content-Type: application/json")) == NULL ||
	    (t = curl_slist_append(x->hdrs, header)) == NULL) {
		xfer_free(w, e);
		return -1;
	}
	x->hdrs = t;
	if (curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->hdrs) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, json) != CURLE_OK) {
		xfer_free(w, e);
		return -1;
	}
	return start(w, e);
}

/*
 * Runs transfers and waits up to timeout_ms for one to progress or for
 * fd (the worker's wake-up socket, -1 for none) to become readable.
 * Returns 1 when fd is readable, 0 otherwise, -1 on error.
 */
int
wa_wait(struct wa *w, int fd, long timeout_ms)
{
	struct curl_waitfd	 wfd;
	int			 still, n = 0;

	memset(&wfd, 0, sizeof(wfd));
	wfd.fd = fd;
	wfd.events = CURL_WAIT_POLLIN;
	if (curl_multi_perform(w->multi, &still) != CURLM_OK ||
	    curl_multi_poll(w->multi, fd >= 0 ? &wfd : NULL, fd >= 0 ? 1 : 0,
	    (int)timeout_ms, &n) != CURLM_OK ||
	    curl_multi_perform(w->multi, &still) != CURLM_OK) {
		log_warnx("%s: curl_multi failed", __func__);
		return -1;
	}
	return fd >= 0 && (wfd.revents & CURL_WAIT_POLLIN) ? 1 : 0;
}

/*
 * wa_wait() that also wakes when one of more (other multi handles'
 * sockets: the event webhooks', the alert mail's; wa_multi_fds()) is
 * ready.  Returns 1 when fd is readable, 0 otherwise, -1 on error.
 */
int
wa_wait_more(struct wa *w, int fd, const struct pollfd *more, int nmore,
    long timeout_ms)
{
	struct curl_waitfd	 wfd[WAIT_FDS];
	unsigned int		 n = 0;
	int			 i, still, ready = 0;

	if (fd >= 0) {
		wfd[n].fd = fd;
		wfd[n].events = CURL_WAIT_POLLIN;
		wfd[n++].revents = 0;
	}
	for (i = 0; i < nmore && n < WAIT_FDS; i++) {
		wfd[n].fd = more[i].fd;
		wfd[n].events = (short)(((more[i].events & POLLIN) ?
		    CURL_WAIT_POLLIN : 0) | ((more[i].events & POLLOUT) ?
		    CURL_WAIT_POLLOUT : 0) | ((more[i].events & POLLPRI) ?
		    CURL_WAIT_POLLPRI : 0));
		wfd[n++].revents = 0;
	}
	if (curl_multi_perform(w->multi, &still) != CURLM_OK ||
	    curl_multi_poll(w->multi, n > 0 ? wfd : NULL, n, (int)timeout_ms,
	    &ready) != CURLM_OK ||
	    curl_multi_perform(w->multi, &still) != CURLM_OK) {
		log_warnx("%s: curl_multi failed", __func__);
		return -1;
	}
	return fd >= 0 && (wfd[0].revents & CURL_WAIT_POLLIN) ? 1 : 0;
}

/*
 * The sockets another multi handle (multi, a CURLM *) waits on, for
 * wa_wait_more(): at most max into fds, and *timeout_ms lowered to when
 * its libcurl wants to be called again.  Returns how many.
 */
int
wa_multi_fds(void *multi, struct pollfd *fds, int max, long *timeout_ms)
{
	fd_set	 r, wr, x;
	long	 t = -1;
	int	 fd, maxfd = -1, n = 0;
	short	 ev;

	FD_ZERO(&r);
	FD_ZERO(&wr);
	FD_ZERO(&x);
	if (curl_multi_fdset(multi, &r, &wr, &x, &maxfd) != CURLM_OK)
		maxfd = -1;
	if (curl_multi_timeout(multi, &t) == CURLM_OK && t >= 0 &&
	    t < *timeout_ms)
		*timeout_ms = t;
	/* Busy with nothing to watch (curl's advice): look again soon. */
	if (maxfd == -1 && *timeout_ms > MULTI_BLIND_MS)
		*timeout_ms = MULTI_BLIND_MS;
	for (fd = 0; fd <= maxfd && n < max; fd++) {
		ev = (short)((FD_ISSET(fd, &r) ? POLLIN : 0) |
		    (FD_ISSET(fd, &wr) ? POLLOUT : 0) |
		    (FD_ISSET(fd, &x) ? POLLPRI : 0));
		if (ev == 0)
			continue;
		fds[n].fd = fd;
		fds[n].events = ev;
		fds[n++].revents = 0;
	}
	return n;
}

/*
 * A download answered 3xx: starts the next hop when its Location may get
 * the token (the finished transfer is then freed and 1 returned), else
 * fills r->transport with why it was not followed and returns 0.
 */
static int
redirect(struct wa *w, CURL *e, struct xfer *x, struct wa_result *r)
{
	CURL		*next;
	char		*loc = NULL, *copy;
	const char	*why = "has no Location";

	(void)curl_easy_getinfo(e, CURLINFO_REDIRECT_URL, &loc);
	if (x->hops >= HOPS_MAX)
		why = "is one redirect too many";
	else if (loc != NULL && wa_token_url_ok(w, loc, &why)) {
		if ((copy = strdup(loc)) == NULL)
			why = "cannot be followed: out of memory";
		else {
			next = download_new(w, x->tag, copy, (int64_t)x->max,
			    x->timeout_ms, x->sink, x->sink_arg, x->hops + 1,
			    x->auth);
			free(copy);
			if (next != NULL && curl_multi_add_handle(w->multi,
			    next) == CURLM_OK) {
				(void)curl_multi_remove_handle(w->multi, e);
				xfer_free(w, e);
				return 1;
			}
			if (next != NULL)
				xfer_free(w, next);
			why = "cannot be followed";
		}
	}
	(void)snprintf(r->transport, sizeof(r->transport), "HTTP %ld: the "
	    "redirect %.200s; not followed", r->http, why);
	return 0;
}

/*
 * Hands out one finished transfer.  Returns 1 with r filled (the caller
 * clears r->body), 0 when none has finished.  A download that ends in a
 * 3xx not followed has transport set.
 */
int
wa_done(struct wa *w, struct wa_result *r)
{
	CURLMsg		*m;
	struct xfer	*x = NULL;
	int		 left;

	while ((m = curl_multi_info_read(w->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		memset(r, 0, sizeof(*r));
		(void)curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE,
		    (char **)&x);
		(void)curl_easy_getinfo(m->easy_handle,
		    CURLINFO_RESPONSE_CODE, &r->http);
		r->tag = x->tag;
		if (x->sink != NULL && m->data.result == CURLE_OK &&
		    r->http >= 300 && r->http <= 399 &&
		    redirect(w, m->easy_handle, x, r) == 1)
			continue;	/* the next hop runs in its place */
		r->resent = x->sends > 1 ? x->sends - 1 : 0;
		if (m->data.result != CURLE_OK) {
			/* A cut reply is no answer: the outcome is unknown. */
			r->http = 0;
			(void)snprintf(r->transport, sizeof(r->transport),
			    "%.60s%s%.180s", curl_easy_strerror(m->data.result),
			    x->err[0] ? ": " : "", x->err);
		}
		r->body = x->body;
		buf_init(&x->body);
		(void)curl_multi_remove_handle(w->multi, m->easy_handle);
		xfer_free(w, m->easy_handle);
		w->running--;
		return 1;
	}
	return 0;
}

int
wa_running(const struct wa *w)
{
	return w->running;
}

/*
 * The setup the synchronous requests below share: url over http or
 * https, a whole-request timeout, the answer into x (whose err buffer
 * takes libcurl's message).  0 or -1.
 */
static int
sync_setup(CURL *e, struct xfer *x, const char *url, long timeout_ms)
{
	if (curl_easy_setopt(e, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") !=
	    CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_WRITEDATA, x) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->err) != CURLE_OK)
		return -1;
	return 0;
}

/*
 * Runs a synchronous request set up by sync_setup(): fills *status when
 * HTTP answered, else a sentence in err (after "url: " when url is not
 * NULL).  Returns libcurl's code.
 */
static CURLcode
sync_perform(CURL *e, struct xfer *x, const char *url, long *status,
    char *err, size_t errsz)
{
	CURLcode rc;

	if ((rc = curl_easy_perform(e)) != CURLE_OK)
		(void)snprintf(err, errsz, "%s%s%s", url != NULL ? url : "",
		    url != NULL ? ": " : "", x->err[0] ? x->err :
		    curl_easy_strerror(rc));
	else
		(void)curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, status);
	return rc;
}

/*
 * One synchronous request for wactl's client mode: method to url with
 * the management API key as a bearer and json (or NULL) as the body.
 * Fills *status and out (the caller clears it).  Returns 0, or -1 with
 * a sentence in err when no HTTP answer came.
 */
int
wa_request(const char *method, const char *url, const char *key,
    const char *json, long timeout_ms, long *status, struct buf *out,
    char *err, size_t errsz)
{
	CURL			*e;
	struct curl_slist	*h = NULL, *t;
	struct xfer		 x;
	char			 auth[600];
	CURLcode		 rc;
	int			 n;

	memset(&x, 0, sizeof(x));
	x.max = 64 * 1024 * 1024;
	buf_init(&x.body);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (e = curl_easy_init()) == NULL) {
		(void)snprintf(err, errsz, "cannot start libcurl");
		return -1;
	}
	n = snprintf(auth, sizeof(auth), "Authorization: Bearer %s", key);
	if (n < 0 || (size_t)n >= sizeof(auth) ||
	    (h = curl_slist_append(NULL, auth)) == NULL ||
	    (json != NULL && (t = curl_slist_append(h,
	    "Content-Type: application/json")) == NULL)) {
		(void)snprintf(err, errsz, "WA_API_KEY is too long");
		rc = CURLE_OUT_OF_MEMORY;
		goto done;
	}
	if (sync_setup(e, &x, url, timeout_ms) == -1 ||
	    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h) != CURLE_OK ||
	    (json != NULL && curl_easy_setopt(e, CURLOPT_POSTFIELDS, json) !=
	    CURLE_OK)) {
		(void)snprintf(err, errsz, "cannot set up the request");
		rc = CURLE_FAILED_INIT;
		goto done;
	}
	rc = sync_perform(e, &x, url, status, err, errsz);
done:
	explicit_bzero(auth, sizeof(auth));
	curl_slist_free_all(h);
	curl_easy_cleanup(e);
	*out = x.body;
	return rc == CURLE_OK ? 0 : -1;
}

/*
 * One synchronous request for `wactl chat` (customer.c) to a url on this
 * machine that is not the Graph API: the local webhook and the sandbox.
 * Never carries a token.  hdrs: header lines ending in NULL (NULL for
 * none); body: len bytes to send (NULL for none).  Fills *status and out
 * (at most max bytes; the caller clears it).  Returns 0, or -1 with a
 * sentence in err when no HTTP answer came.
 */
int
wa_http(const char *method, const char *url, const char *const *hdrs,
    const void *body, size_t len, size_t max, long timeout_ms, long *status,
    struct buf *out, char *err, size_t errsz)
{
	CURL			*e;
	struct curl_slist	*h = NULL, *t;
	struct xfer		 x;
	struct url		 u;
	const char		*why = "is not on this machine";
	CURLcode		 rc = CURLE_FAILED_INIT;

	memset(&x, 0, sizeof(x));
	x.max = max;
	buf_init(&x.body);
	*out = x.body;
	*status = 0;
	if (url_parse(url, &u, &why) == -1 || !url_is_loopback(&u)) {
		(void)snprintf(err, errsz, "%s %s", url, why);
		return -1;
	}
	if (!global_done) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			(void)snprintf(err, errsz, "cannot start libcurl");
			return -1;
		}
		global_done = 1;
	}
	if ((e = curl_easy_init()) == NULL) {
		(void)snprintf(err, errsz, "cannot start libcurl");
		return -1;
	}
	x.easy = e;
	for (; hdrs != NULL && *hdrs != NULL; hdrs++) {
		if ((t = curl_slist_append(h, *hdrs)) == NULL) {
			(void)snprintf(err, errsz, "out of memory");
			goto done;
		}
		h = t;
	}
	if (sync_setup(e, &x, url, timeout_ms) == -1 ||
	    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms) !=
	    CURLE_OK ||
	    (body != NULL && (curl_easy_setopt(e, CURLOPT_POSTFIELDS, body) !=
	    CURLE_OK || curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)len) != CURLE_OK))) {
		(void)snprintf(err, errsz, "cannot set up the request");
		rc = CURLE_FAILED_INIT;
		goto done;
	}
	rc = sync_perform(e, &x, url, status, err, errsz);
done:
	curl_slist_free_all(h);
	curl_easy_cleanup(e);
	*out = x.body;
	return rc == CURLE_OK ? 0 : -1;
}

/*
 * One blocking GET of a Graph path (wa_get() and the wait for it) for
 * wactl and the worker's account jobs, which accept the stall.  w must
 * have nothing else running.  Fills r (the caller clears r->body).
 * Returns 0 when HTTP answered (any status), or -1 with r->transport
 * saying why not.
 */
int
wa_get_wait(struct wa *w, const char *path, size_t max_bytes,
    long timeout_ms, struct wa_result *r)
{
	int got = 0;

	memset(r, 0, sizeof(*r));
	if (w->running != 0) {
		(void)strlcpy(r->transport, "another transfer is running",
		    sizeof(r->transport));
		return -1;
	}
	if (wa_get(w, 1, path, max_bytes, timeout_ms) == -1) {
		(void)strlcpy(r->transport, "cannot start the request",
		    sizeof(r->transport));
		return -1;
	}
	while (!got) {
		if (wa_wait(w, -1, 200) == -1) {
			(void)strlcpy(r->transport, "waiting failed",
			    sizeof(r->transport));
			return -1;
		}
		got = wa_done(w, r) == 1;
	}
	return r->http != 0 ? 0 : -1;
}

/*
 * One GET of url without credentials, for `wactl doctor`'s look at the
 * webhook from outside: resolve (or NULL) is a CURLOPT_RESOLVE entry
 * "host:port:address", cafile (or NULL) the CA bundle to trust instead
 * of the system's; redirects are not followed (Meta does not follow
 * them either).  Keeps at most 64 KiB of the answer.  Fills *status and
 * out (the caller clears it).  Returns 0 when HTTP answered, or -1 with
 * a sentence in err.
 */
int
wa_probe(const char *url, const char *resolve, const char *cafile,
    long timeout_ms, long *status, struct buf *out, char *err, size_t errsz)
{
	CURL			*e;
	struct curl_slist	*r = NULL;
	struct xfer		 x;
	CURLcode		 rc;

	memset(&x, 0, sizeof(x));
	x.max = 64 * 1024;
	buf_init(&x.body);
	*status = 0;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (e = curl_easy_init()) == NULL) {
		(void)snprintf(err, errsz, "cannot start libcurl");
		*out = x.body;
		return -1;
	}
	x.easy = e;
	if (resolve != NULL && (r = curl_slist_append(NULL, resolve)) ==
	    NULL) {
		(void)snprintf(err, errsz, "out of memory");
		rc = CURLE_OUT_OF_MEMORY;
		goto done;
	}
	if (sync_setup(e, &x, url, timeout_ms) == -1 ||
	    (r != NULL && curl_easy_setopt(e, CURLOPT_RESOLVE, r) !=
	    CURLE_OK) ||
	    (cafile != NULL && curl_easy_setopt(e, CURLOPT_CAINFO, cafile) !=
	    CURLE_OK)) {
		(void)snprintf(err, errsz, "cannot set up the request");
		rc = CURLE_FAILED_INIT;
		goto done;
	}
	rc = sync_perform(e, &x, NULL, status, err, errsz);
done:
	curl_slist_free_all(r);
	curl_easy_cleanup(e);
	*out = x.body;
	return rc == CURLE_OK ? 0 : -1;
}
