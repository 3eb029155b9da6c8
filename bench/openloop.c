/*
 * openloop.c: the open-loop latency run of `make bench` (wrk2 is not
 * packaged in Debian 12).  POSTs signed webhook bodies at a fixed rate
 * and measures each request's latency from the time it was SCHEDULED to
 * be sent, not from when a connection was free to send it, so a server
 * that stalls is charged for every request that waited behind the stall
 * (coordinated omission corrected, as wrk2 does).
 *
 *   openloop HOST PORT PATH RATE SECONDS CONNS BODIES
 *
 * Request k is due at start + k / RATE.  One schedule feeds a pool of
 * CONNS keep-alive HTTP/1.1 connections, one request in flight on each:
 * whenever a connection is free and requests are due, it sends the
 * oldest due one.  If every connection is busy, due requests queue and
 * their latency keeps counting.  After SECONDS nothing more is
 * scheduled; what is in flight gets 10 more seconds.  BODIES has lines
 * "signature<TAB>body", used in order (each at most once while they last).
 *
 * Prints one line of key=value: scheduled, sent, ok (2xx), non2xx,
 * errors (connect, read, write, closed early), timeouts (no answer in
 * 10 s), unsent (due but never sent), achieved (2xx/s) and latency
 * percentiles in ms over every answered request.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TIMEOUT_US	10000000LL
#define INBUF		65536

struct conn {
	int	 fd;
	int	 busy;
	int	 watch_out;	/* EPOLLOUT requested */
	int64_t	 due;		/* scheduled time of the request in flight */
	int64_t	 sent;		/* when it was handed to the socket */
	char	*out;		/* request bytes */
	size_t	 outlen, outoff;
	char	 in[INBUF];
	size_t	 inlen;
};

struct body {
	char	*sig, *data;
	size_t	 len;
};

static struct sockaddr_in	 addr;
static const char		*host, *path;
static struct body		*bodies;
static size_t			 nbodies, nextbody;
static int64_t			*lat;
static size_t			 nlat, caplat;
static long long		 n_sent, n_ok, n_non2xx, n_err, n_timeout;

static int64_t
now_us(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int
load_bodies(const char *file)
{
	FILE		*f;
	struct body	*nb;
	char		*line = NULL, *tab;
	size_t		 cap = 0, nalloc = 0;
	ssize_t		 n;

	if ((f = fopen(file, "r")) == NULL)
		return -1;
	while ((n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		if ((tab = strchr(line, '\t')) == NULL)
			continue;
		if (nbodies == nalloc) {
			nalloc = nalloc ? nalloc * 2 : 4096;
			if ((nb = realloc(bodies, nalloc * sizeof(*nb))) == NULL)
				goto fail;
			bodies = nb;
		}
		*tab = '\0';
		bodies[nbodies].sig = strdup(line);
		bodies[nbodies].data = strdup(tab + 1);
		if (bodies[nbodies].sig == NULL || bodies[nbodies].data == NULL)
			goto fail;
		bodies[nbodies].len = strlen(tab + 1);
		nbodies++;
	}
	free(line);
	(void)fclose(f);
	return nbodies > 0 ? 0 : -1;
fail:
	free(line);
	(void)fclose(f);
	return -1;
}

static void
conn_close(int ep, struct conn *c)
{
	if (c->fd >= 0) {
		(void)epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
		(void)close(c->fd);
	}
	c->fd = -1;
	c->busy = 0;
	c->watch_out = 0;
	c->inlen = 0;
}

/* Loopback connects complete at once: blocking connect, then non-blocking. */
static int
conn_open(int ep, struct conn *c)
{
	struct epoll_event	ev;
	int			one = 1;

	if ((c->fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (struct sockaddr *)&addr, sizeof(addr)) == -1 ||
	    fcntl(c->fd, F_SETFL, O_NONBLOCK) == -1)
		goto fail;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = c;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) == -1)
		goto fail;
	return 0;
fail:
	(void)close(c->fd);
	c->fd = -1;
	return -1;
}

/* Wait for writability only while request bytes are left to write. */
static void
want_out(int ep, struct conn *c, int on)
{
	struct epoll_event	ev;

	memset(&ev, 0, sizeof(ev));
	if (c->watch_out == on)
		return;
	ev.events = EPOLLIN | (on ? EPOLLOUT : 0);
	ev.data.ptr = c;
	(void)epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
	c->watch_out = on;
}

static void
record(int64_t us)
{
	if (nlat == caplat) {
		caplat = caplat ? caplat * 2 : 65536;
		if ((lat = realloc(lat, caplat * sizeof(*lat))) == NULL) {
			perror("realloc");
			exit(1);
		}
	}
	lat[nlat++] = us;
}

/* The request failed: counted, connection dropped (reopened on next use). */
static void
fail_req(int ep, struct conn *c, long long *counter)
{
	(*counter)++;
	free(c->out);
	c->out = NULL;
	conn_close(ep, c);
}

static int
send_req(int ep, struct conn *c, int64_t due)
{
	struct body	*b = &bodies[nextbody++ % nbodies];
	int		 n;

	if (c->fd < 0 && conn_open(ep, c) == -1)
		return -1;
	n = asprintf(&c->out, "POST %s HTTP/1.1\r\nHost: %s\r\n"
	    "Content-Type: application/json\r\nX-Hub-Signature-256: %s\r\n"
	    "Content-Length: %zu\r\n\r\n%s", path, host, b->sig, b->len,
	    b->data);
	if (n < 0)
		return -1;
	c->outlen = (size_t)n;
	c->outoff = 0;
	c->busy = 1;
	c->due = due;
	c->sent = now_us();
	c->inlen = 0;
	n_sent++;
	return 0;
}

/* 1 when c->in holds a whole response (Content-Length or chunked). */
static int
complete(struct conn *c, int *status, int *keep)
{
	char	*hdr_end, *p;
	size_t	 hlen, clen = 0;
	int	 chunked = 0;

	c->in[c->inlen] = '\0';
	if ((hdr_end = strstr(c->in, "\r\n\r\n")) == NULL)
		return 0;
	hlen = (size_t)(hdr_end - c->in) + 4;
	if (sscanf(c->in, "HTTP/1.%*d %d", status) != 1)
		*status = 0;
	*keep = strcasestr(c->in, "\r\nConnection: close") == NULL ||
	    strcasestr(c->in, "\r\nConnection: close") > hdr_end;
	if ((p = strcasestr(c->in, "\r\nContent-Length:")) != NULL && p < hdr_end)
		clen = strtoul(p + 17, NULL, 10);
	else if ((p = strcasestr(c->in, "\r\nTransfer-Encoding: chunked")) != NULL &&
	    p < hdr_end)
		chunked = 1;
	if (chunked)
		return strstr(hdr_end + 4, "0\r\n\r\n") != NULL;
	return c->inlen >= hlen + clen;
}

static void
on_event(int ep, struct conn *c, uint32_t events)
{
	ssize_t	n;
	int	status, keep;

	if (!c->busy) {
		/* Idle keep-alive connection closed by the server. */
		if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
			conn_close(ep, c);
		return;
	}
	if ((events & EPOLLOUT) && c->outoff < c->outlen) {
		n = write(c->fd, c->out + c->outoff, c->outlen - c->outoff);
		if (n < 0 && errno != EAGAIN) {
			fail_req(ep, c, &n_err);
			return;
		}
		if (n > 0)
			c->outoff += (size_t)n;
		want_out(ep, c, c->outoff < c->outlen);
	}
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	n = read(c->fd, c->in + c->inlen, sizeof(c->in) - 1 - c->inlen);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0) {
		fail_req(ep, c, &n_err);
		return;
	}
	c->inlen += (size_t)n;
	if (!complete(c, &status, &keep)) {
		if (c->inlen >= sizeof(c->in) - 1)
			fail_req(ep, c, &n_err);
		return;
	}
	record(now_us() - c->due);
	if (status >= 200 && status < 300)
		n_ok++;
	else
		n_non2xx++;
	free(c->out);
	c->out = NULL;
	c->busy = 0;
	c->inlen = 0;
	if (!keep)
		conn_close(ep, c);
}

static int
cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static double
pct(double p)
{
	size_t	k;

	if (nlat == 0)
		return 0;
	k = (size_t)(p / 100.0 * (double)nlat + 0.999999);
	if (k > 0)
		k--;
	if (k >= nlat)
		k = nlat - 1;
	return (double)lat[k] / 1000.0;
}

int
main(int argc, char *argv[])
{
	struct conn		*conns;
	struct epoll_event	 evs[256];
	double			 rate, secs;
	int64_t			 start, end, now, next_due, wait_us;
	long long		 k = 0, scheduled, unsent;
	int			 ep, i, n, nconns, timeout_ms;

	if (argc != 8) {
		fprintf(stderr, "usage: openloop HOST PORT PATH RATE SECONDS "
		    "CONNS BODIES\n");
		return 2;
	}
	host = argv[1];
	path = argv[3];
	rate = atof(argv[4]);
	secs = atof(argv[5]);
	nconns = atoi(argv[6]);
	if (rate <= 0 || secs <= 0 || nconns <= 0) {
		fprintf(stderr, "openloop: RATE, SECONDS and CONNS must be "
		    "positive\n");
		return 2;
	}
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)atoi(argv[2]));
	if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
		fprintf(stderr, "openloop: HOST must be an IPv4 address\n");
		return 2;
	}
	if (load_bodies(argv[7]) == -1) {
		fprintf(stderr, "openloop: cannot read bodies from %s\n", argv[7]);
		return 1;
	}
	if ((conns = calloc((size_t)nconns, sizeof(*conns))) == NULL ||
	    (ep = epoll_create1(0)) == -1) {
		perror("openloop");
		return 1;
	}
	/* Connected up front; one that fails is tried again (and counted)
	 * when a request needs it. */
	for (i = 0; i < nconns; i++) {
		conns[i].fd = -1;
		(void)conn_open(ep, &conns[i]);
	}
	start = now_us();
	end = start + (int64_t)(secs * 1e6);
	scheduled = (long long)(secs * rate);
	for (;;) {
		now = now_us();
		/* Hand due requests to free connections, oldest first. */
		for (i = 0; i < nconns && k < scheduled; i++) {
			next_due = start + (int64_t)((double)k * 1e6 / rate);
			if (next_due > now)
				break;
			if (conns[i].busy)
				continue;
			if (send_req(ep, &conns[i], next_due) == -1) {
				n_err++;	/* connect failed: counted, next one */
				k++;
				continue;
			}
			k++;
			on_event(ep, &conns[i], EPOLLOUT);
		}
		/* Requests without an answer for too long. */
		n = 0;
		for (i = 0; i < nconns; i++) {
			if (conns[i].busy && now - conns[i].sent > TIMEOUT_US)
				fail_req(ep, &conns[i], &n_timeout);
			n += conns[i].busy;
		}
		if (k >= scheduled && n == 0)
			break;
		if (now > end + TIMEOUT_US)
			break;
		wait_us = 1000;
		if (k < scheduled) {
			next_due = start + (int64_t)((double)k * 1e6 / rate);
			wait_us = next_due - now;
			if (wait_us > 1000)
				wait_us = 1000;
		}
		timeout_ms = wait_us > 0 ? (int)((wait_us + 999) / 1000) : 0;
		n = epoll_wait(ep, evs, 256, timeout_ms);
		for (i = 0; i < n; i++)
			on_event(ep, evs[i].data.ptr, evs[i].events);
	}
	unsent = scheduled - k;
	for (i = 0; i < nconns; i++)
		if (conns[i].busy)
			fail_req(ep, &conns[i], &n_timeout);
	if (nlat > 0)
		qsort(lat, nlat, sizeof(*lat), cmp64);
	printf("scheduled=%lld sent=%lld ok=%lld non2xx=%lld errors=%lld "
	    "timeouts=%lld unsent=%lld rate=%.0f achieved=%.1f wrapped=%d "
	    "p50=%.3f p90=%.3f p99=%.3f p999=%.3f max=%.3f\n",
	    scheduled, n_sent, n_ok, n_non2xx, n_err, n_timeout, unsent, rate,
	    (double)n_ok / secs, nextbody > nbodies, pct(50), pct(90), pct(99),
	    pct(99.9), nlat ? (double)lat[nlat - 1] / 1000.0 : 0.0);
	for (i = 0; i < nconns; i++)
		conn_close(ep, &conns[i]);
	(void)close(ep);
	free(conns);
	free(lat);
	for (size_t b = 0; b < nbodies; b++) {
		free(bodies[b].sig);
		free(bodies[b].data);
	}
	free(bodies);
	return fflush(stdout) == 0 ? 0 : 1;
}
