/*
 * customer.c: `wactl chat --from NUMBER [--name NAME] [--to PNID]`, a
 * customer in the terminal talking to the local stack in sandbox mode
 * (issue 15).  What the user types goes to the gateway the way Meta
 * would bring it: an inbound webhook (custmsg.c builds it), signed with
 * WHATSAPP_APP_SECRET, POSTed through nginx to WA_LISTEN's
 * /api/whatsapp/webhook.  What the business answers reaches the sandbox
 * Graph API (wa-sandbox) instead of Meta; this polls the sandbox's
 * customer endpoint, GET /sandbox/customer/{wa_id}/messages?after=SEQ,
 * every POLL_MS while it waits on stdin with poll(2), and prints each
 * answer as it comes.  Reply buttons and list rows are numbered; typing
 * the number sends the interactive reply.  /image uploads a file through
 * POST /sandbox/customer/media and sends an image with the media id it
 * gets, which the worker then downloads as it would Meta's.
 *
 * It reads the configuration as wactl does (WA_ENV_FILE, the
 * environment: the dev.env make run writes), talks only to this machine
 * (wa_http() refuses any other host) and never prints the secret or
 * what was typed to the log.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bsd/string.h>
#include <jansson.h>

#include "buf.h"
#include "cfg.h"
#include "custmsg.h"
#include "customer.h"
#include "sig.h"
#include "url.h"
#include "wa.h"

#define POLL_MS		300		/* the sandbox is asked this often */
#define LINGER_MS	2000		/* after EOF: quiet this long, then end */
#define HTTP_MS		5000L		/* one local request */
#define REPLY_MAX	(4 * 1024 * 1024) /* one answer of the sandbox */
#define LINE_MAX_B	(64 * 1024)	/* one typed line */
#define IMAGE_MAX	(5 * 1024 * 1024) /* Meta: an image, 5 MB */
#define PAGE		100		/* messages the sandbox lists at most */

struct cust {
	struct cfg		 cfg;
	char			 base[300];	/* http://host:port of nginx */
	char			 wa_id[16];	/* the customer: --from */
	char			 pnid[64];	/* the business number */
	char			 display[64];	/* its display number */
	char			 waba[64];	/* entry[].id */
	const char		*name;		/* --name, NULL none */
	long long		 seq;		/* the sandbox's cursor */
	char			 last[256];	/* the business's last wamid */
	struct custmsg_choices	 ch;		/* its last choices */
	int			 down;		/* the sandbox stopped answering */
	int			 looping;	/* in loop(): failures are retried */
};

/* "wactl chat: " + a sentence on stderr. */
static void
complain(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
complain(const char *fmt, ...)
{
	va_list ap;

	(void)fputs("wactl chat: ", stderr);
	va_start(ap, fmt);
	(void)vfprintf(stderr, fmt, ap);
	va_end(ap);
	(void)fputc('\n', stderr);
}

/* Prints s (len bytes) on stdout and flushes: a pipe sees it at once. */
static int
say(const char *s, size_t len)
{
	if (fwrite(s, 1, len, stdout) != len || fflush(stdout) == EOF)
		return -1;
	return 0;
}

static int
sayf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
sayf(const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vprintf(fmt, ap);
	va_end(ap);
	return n < 0 || fflush(stdout) == EOF ? -1 : 0;
}

static long long
now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * One request to path on the local nginx.  Fills *status and out (the
 * caller clears it).  0, or -1 with err filled when nothing answered.
 */
static int
http(struct cust *c, const char *method, const char *path,
    const char *const *hdrs, const void *body, size_t len, long *status,
    struct buf *out, char *err, size_t errsz)
{
	char	url[2048];
	int	n;

	n = snprintf(url, sizeof(url), "%s%s", c->base, path);
	if (n < 0 || (size_t)n >= sizeof(url)) {
		(void)snprintf(err, errsz, "the URL is too long");
		buf_init(out);
		*status = 0;
		return -1;
	}
	return wa_http(method, url, hdrs, body, len, REPLY_MAX, HTTP_MS,
	    status, out, err, errsz);
}

/* The JSON error's sentence in an answer, or "" (borrowed from j). */
static const char *
error_sentence(const json_t *j)
{
	const char *m;

	m = json_string_value(json_object_get(json_object_get(j, "error"),
	    "message"));
	return m != NULL ? m : "";
}

/* 1 when /health says the stack is in sandbox mode, else 0. */
static int
health_sandbox(struct cust *c)
{
	struct buf	 b;
	json_t		*j;
	char		 err[512];
	long		 st;
	int		 yes = 0;

	if (http(c, "GET", "/api/whatsapp/health", NULL, NULL, 0, &st, &b,
	    err, sizeof(err)) == 0 && (j = json_loadb(b.p, b.len, 0,
	    NULL)) != NULL) {
		yes = json_is_true(json_object_get(j, "sandbox"));
		json_decref(j);
	}
	buf_clear(&b);
	return yes;
}

/*
 * Asks the sandbox who the business is (GET /sandbox/info) and fills
 * c->display (and c->pnid, c->waba when not given).  0, or -1 with the
 * reason printed: nothing listens, or the stack is not in sandbox mode.
 */
static int
sandbox_info(struct cust *c)
{
	struct buf	 b;
	json_t		*j = NULL;
	char		 err[512];
	const char	*pn, *dn, *waba;
	long		 st;
	int		 rc = -1;

	if (http(c, "GET", "/sandbox/info", NULL, NULL, 0, &st, &b, err,
	    sizeof(err)) == -1) {
		complain("nothing answers at %s (WA_LISTEN): start the local "
		    "stack with `make run` first (%s)", c->base, err);
		goto done;
	}
	if (st != 200 || (j = json_loadb(b.p, b.len, 0, NULL)) == NULL ||
	    !json_is_true(json_object_get(j, "sandbox"))) {
		/* nginx answers 502 both ways: /health says which it is. */
		if (st >= 502 && st <= 504 && health_sandbox(c) == 1)
			complain("%s/sandbox/info answered HTTP %ld: the stack "
			    "is in sandbox mode but wa-sandbox does not answer; "
			    "see make run's output", c->base, st);
		else
			complain("%s/sandbox/info answered HTTP %ld: the stack "
			    "at WA_LISTEN is not in sandbox mode (make run with "
			    "its generated dev.env is); wactl chat only talks "
			    "to the sandbox", c->base, st);
		goto done;
	}
	pn = json_string_value(json_object_get(j, "phone_number_id"));
	dn = json_string_value(json_object_get(j, "display_phone_number"));
	waba = json_string_value(json_object_get(j, "waba_id"));
	if (c->pnid[0] == '\0' && (pn == NULL ||
	    strlcpy(c->pnid, pn, sizeof(c->pnid)) >= sizeof(c->pnid))) {
		complain("the sandbox names no business number: set "
		    "WHATSAPP_PHONE_NUMBER_ID or give --to PNID");
		goto done;
	}
	/* Another number than the sandbox's: its id stands for its display. */
	if (pn == NULL || dn == NULL || strcmp(pn, c->pnid) != 0)
		dn = c->pnid;
	if (strlcpy(c->display, dn, sizeof(c->display)) >= sizeof(c->display))
		c->display[0] = '\0';
	if (waba == NULL)
		waba = c->pnid;
	if (strlcpy(c->waba, waba, sizeof(c->waba)) >= sizeof(c->waba))
		(void)strlcpy(c->waba, c->pnid, sizeof(c->waba));
	rc = 0;
done:
	json_decref(j);
	buf_clear(&b);
	return rc;
}

/*
 * Asks the sandbox for the customer's messages after c->seq.  With show
 * set, prints each and remembers the last one and its choices; without,
 * only moves the cursor (the history before this session).  Returns the
 * number of messages listed, -1 when the sandbox did not answer (said
 * once until it answers again), or -2 when stdout is gone.
 */
static int
fetch(struct cust *c, int show)
{
	struct buf	 b, out;
	json_t		*j = NULL, *m;
	char		 path[128], err[512];
	const char	*w;
	long		 st;
	long long	 next;
	size_t		 i;
	int		 n, rc = -1;

	buf_init(&out);
	n = snprintf(path, sizeof(path), "/sandbox/customer/%s/messages?"
	    "after=%lld", c->wa_id, c->seq);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -1;
	if (http(c, "GET", path, NULL, NULL, 0, &st, &b, err,
	    sizeof(err)) == -1 || st != 200 ||
	    (j = json_loadb(b.p, b.len, 0, NULL)) == NULL ||
	    !json_is_array(json_object_get(j, "messages")) ||
	    !json_is_integer(json_object_get(j, "next"))) {
		if (!c->down && st == 0)
			complain("the sandbox does not answer at %s%s (%s)%s",
			    c->base, path, err, c->looping ? "; trying again" :
			    "");
		else if (!c->down)
			complain("the sandbox answered %s%s with HTTP %ld and "
			    "no message list%s", c->base, path, st, c->looping ?
			    "; trying again" : "");
		c->down = 1;
		goto done;
	}
	if (c->down)
		complain("the sandbox answers again");
	c->down = 0;
	json_array_foreach(json_object_get(j, "messages"), i, m) {
		if (!show)
			continue;
		if ((w = json_string_value(json_object_get(m, "wamid"))) !=
		    NULL && strlcpy(c->last, w, sizeof(c->last)) >=
		    sizeof(c->last))
			c->last[0] = '\0';
		out.len = 0;
		if (custmsg_render(m, &out, &c->ch) == 1 &&
		    say(out.p, out.len) == -1) {
			rc = -2;
			goto done;
		}
	}
	next = json_integer_value(json_object_get(j, "next"));
	if (next > c->seq)
		c->seq = next;
	rc = (int)json_array_size(json_object_get(j, "messages"));
done:
	json_decref(j);
	buf_clear(&b);
	buf_clear(&out);
	return rc;
}

/*
 * Sends one inbound message: obj is its <type> object and context its
 * context or NULL (both taken).  Builds Meta's webhook, signs it and
 * POSTs it through nginx.  0, or -1 with the reason printed (the
 * gateway's answer when it was not 2xx).
 */
static int
post(struct cust *c, const char *type, json_t *obj, json_t *context)
{
	struct custmsg_who	 w;
	struct buf		 b;
	json_t			*j;
	char			 wamid[96], rnd[41], sig[65], hsig[96], err[512];
	char			*body;
	const char		*hdrs[3];
	long			 st;
	int			 n, rc = -1;

	buf_init(&b);
	/* Meta's ids are "wamid." and base64; ours only need to be new. */
	if (sig_random_hex(rnd, 20) == -1 ||
	    (n = snprintf(wamid, sizeof(wamid), "wamid.HBgL%s", rnd)) < 0 ||
	    (size_t)n >= sizeof(wamid)) {
		json_decref(obj);
		json_decref(context);
		complain("no random bytes for a message id");
		return -1;
	}
	w.waba = c->waba;
	w.pnid = c->pnid;
	w.display = c->display;
	w.wa_id = c->wa_id;
	w.name = c->name;
	if ((body = custmsg_webhook(&w, wamid, (long long)time(NULL), type,
	    obj, context)) == NULL) {
		complain("cannot build the webhook (out of memory)");
		return -1;
	}
	if (sig_hmac_hex(c->cfg.app_secret, body, strlen(body), sig) == -1 ||
	    (n = snprintf(hsig, sizeof(hsig), "X-Hub-Signature-256: "
	    "sha256=%s", sig)) < 0 || (size_t)n >= sizeof(hsig)) {
		complain("cannot sign the webhook");
		goto done;
	}
	hdrs[0] = "Content-Type: application/json";
	hdrs[1] = hsig;
	hdrs[2] = NULL;
	if (http(c, "POST", "/api/whatsapp/webhook", hdrs, body, strlen(body),
	    &st, &b, err, sizeof(err)) == -1) {
		complain("not sent: the gateway does not answer (%s)", err);
		goto done;
	}
	if (st < 200 || st > 299) {
		j = json_loadb(b.p, b.len, 0, NULL);
		complain("not sent: the gateway answered the webhook with "
		    "HTTP %ld%s%s%s", st, *error_sentence(j) ? " (" : "",
		    error_sentence(j), *error_sentence(j) ? ")" : "");
		json_decref(j);
		goto done;
	}
	rc = 0;
done:
	explicit_bzero(hsig, sizeof(hsig));
	free(body);
	buf_clear(&b);
	return rc;
}

/* Reads at most max bytes of path into b.  0, or -1 with why printed. */
static int
read_file(const char *path, size_t max, struct buf *b)
{
	char	chunk[65536];
	ssize_t	n;
	int	fd, rc = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		complain("/image %s: %s", path, strerror(errno));
		return -1;
	}
	for (;;) {
		if ((n = read(fd, chunk, sizeof(chunk))) == -1) {
			if (errno == EINTR)
				continue;
			complain("/image %s: %s", path, strerror(errno));
			goto done;
		}
		if (n == 0)
			break;
		if (b->len + (size_t)n > max) {
			complain("/image %s is larger than WhatsApp's 5 MB for "
			    "an image", path);
			goto done;
		}
		if (buf_append(b, chunk, (size_t)n) == -1) {
			complain("/image %s: out of memory", path);
			goto done;
		}
	}
	rc = 0;
done:
	(void)close(fd);
	return rc;
}

/*
 * /image FILE [CAPTION]: uploads FILE to the sandbox as the customer's
 * media (POST /sandbox/customer/media), then sends an image message with
 * the id it got.  0 or -1 (printed).
 */
static int
send_image(struct cust *c, const char *args)
{
	struct buf	 f, b;
	json_t		*j = NULL, *img;
	char		 file[4096], path[512], esc[400], ctype[64], err[512];
	const char	*mime, *base, *cap, *hdrs[2], *why = "";
	size_t		 n;
	long		 st;
	int		 k, rc = -1;

	buf_init(&f);
	buf_init(&b);
	n = strcspn(args, " \t");
	if (n == 0 || n >= sizeof(file)) {
		complain("/image needs a file: /image FILE [CAPTION]");
		return -1;
	}
	memcpy(file, args, n);
	file[n] = '\0';
	cap = args + n;
	if (read_file(file, IMAGE_MAX, &f) == -1)
		goto done;
	if ((mime = custmsg_image_mime(f.p, f.len)) == NULL) {
		complain("/image %s is neither a JPEG nor a PNG file, the "
		    "images WhatsApp takes", file);
		goto done;
	}
	base = strrchr(file, '/') != NULL ? strrchr(file, '/') + 1 : file;
	if (url_escape(base, esc, sizeof(esc)) == -1 ||
	    (k = snprintf(path, sizeof(path), "/sandbox/customer/media?"
	    "filename=%s", esc)) < 0 || (size_t)k >= sizeof(path) ||
	    (k = snprintf(ctype, sizeof(ctype), "Content-Type: %s", mime)) <
	    0 || (size_t)k >= sizeof(ctype)) {
		complain("/image %s: the file name is too long", file);
		goto done;
	}
	hdrs[0] = ctype;
	hdrs[1] = NULL;
	if (http(c, "POST", path, hdrs, f.p, f.len, &st, &b, err,
	    sizeof(err)) == -1) {
		complain("/image: the sandbox does not answer (%s)", err);
		goto done;
	}
	j = json_loadb(b.p, b.len, 0, NULL);
	if (st != 201 && st != 200) {
		complain("/image: the sandbox refused the upload with HTTP "
		    "%ld %s", st, error_sentence(j));
		goto done;
	}
	if ((img = custmsg_image(j, cap, &why)) == NULL) {
		complain("/image %s", why);
		goto done;
	}
	rc = post(c, "image", img, NULL);
done:
	json_decref(j);
	buf_clear(&f);
	buf_clear(&b);
	return rc;
}

static const char cmds[] = "/image FILE [CAPTION], /location LAT LON "
    "[NAME], /react EMOJI, /quit";

/*
 * One line the user typed: a command, the number of a choice, or text.
 * Returns 1 to end, 0 to go on (a refused line is reported and dropped).
 */
static int
line(struct cust *c, char *s)
{
	json_t		*o, *ctx;
	const char	*why = "", *title = NULL;
	size_t		 n = strlen(s);

	while (n > 0 && (s[n - 1] == '\r' || s[n - 1] == ' '))
		s[--n] = '\0';
	if (n == 0)
		return 0;
	if (strcmp(s, "/quit") == 0)
		return 1;
	if (strncmp(s, "/image", 6) == 0 && (s[6] == ' ' || s[6] == '\0')) {
		(void)send_image(c, s + 6 + strspn(s + 6, " \t"));
		return 0;
	}
	if (strncmp(s, "/location", 9) == 0 && (s[9] == ' ' || s[9] == '\0')) {
		if ((o = custmsg_location(s + 9, &why)) == NULL)
			complain("/location %s", why);
		else
			(void)post(c, "location", o, NULL);
		return 0;
	}
	if (strncmp(s, "/react", 6) == 0 && (s[6] == ' ' || s[6] == '\0')) {
		if ((o = custmsg_reaction(c->last, s + 6, &why)) == NULL)
			complain("/react %s", why);
		else
			(void)post(c, "reaction", o, NULL);
		return 0;
	}
	if (s[0] == '/' && s[1] != '/') {
		complain("%.40s is no command: %s (start a text with // to "
		    "send a /)", s, cmds);
		return 0;
	}
	if ((o = custmsg_pick(&c->ch, s, &ctx, &title)) != NULL) {
		if (sayf("> %s\n", title != NULL ? title : s) == 0)
			(void)post(c, "interactive", o, ctx);
		else {
			json_decref(o);
			json_decref(ctx);
			return 1;
		}
		return 0;
	}
	if ((o = custmsg_text(s[0] == '/' ? s + 1 : s, &why)) == NULL)
		complain("not sent: the text %s", why);
	else
		(void)post(c, "text", o, NULL);
	return 0;
}

/*
 * The loop: lines from stdin as they come, the sandbox every POLL_MS.
 * Ends at /quit, or LINGER_MS after EOF once no answer came for that
 * long (so that `echo hi | wactl chat ...` shows the answer).  0 or 1.
 */
static int
loop(struct cust *c)
{
	struct pollfd	 p;
	char		*in, *nl;
	size_t		 have = 0;
	ssize_t		 r;
	long long	 next = 0, quiet = 0, t;
	int		 eof = 0, skipping = 0, rc = 1, got;

	if ((in = malloc(LINE_MAX_B + 1)) == NULL) {
		complain("out of memory");
		return 1;
	}
	c->looping = 1;
	for (;;) {
		t = now_ms();
		if (t >= next) {
			if ((got = fetch(c, 1)) > 0)
				quiet = now_ms();
			else if (got == -2)
				goto done;
			next = now_ms() + POLL_MS;
		}
		if (eof && now_ms() - quiet >= LINGER_MS)
			break;
		p.fd = STDIN_FILENO;
		p.events = POLLIN;
		p.revents = 0;
		t = next - now_ms();
		if (poll(&p, eof ? 0 : 1, (int)(t > 0 ? t : 0)) == -1 &&
		    errno != EINTR) {
			complain("poll: %s", strerror(errno));
			goto done;
		}
		if (eof || (p.revents & (POLLIN | POLLHUP | POLLERR)) == 0)
			continue;
		if ((r = read(STDIN_FILENO, in + have, LINE_MAX_B - have)) ==
		    -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			complain("reading the terminal: %s", strerror(errno));
			goto done;
		}
		if (r == 0) {
			eof = 1;
			quiet = now_ms();
			in[have] = '\0';
			if (have > 0 && !skipping && line(c, in) == 1)
				break;
			continue;
		}
		have += (size_t)r;
		in[have] = '\0';
		while ((nl = memchr(in, '\n', have)) != NULL) {
			*nl = '\0';
			if (!skipping && line(c, in) == 1) {
				rc = 0;
				goto done;
			}
			skipping = 0;
			have -= (size_t)(nl + 1 - in);
			memmove(in, nl + 1, have);
			in[have] = '\0';
		}
		if (have == LINE_MAX_B) {
			complain("not sent: a line of more than %d bytes",
			    LINE_MAX_B);
			skipping = 1;
			have = 0;
		}
	}
	rc = 0;
done:
	free(in);
	return rc;
}

/*
 * The second terminal of README's "try it": nothing is exported there,
 * so with WA_ENV_FILE unset (not set empty) this reads the dev.env that
 * make run generated in WA_STATE_DIR (default ./var), when there is one;
 * with WA_STATE_DIR unset too and no ./var/dev.env, the one of the
 * checkout this wactl was built in (make run's default state dir is
 * var/ beside build/), so that the path make run prints works from any
 * directory.  0, or -1 (printed).
 */
static int
dev_env(void)
{
	const char	*dir;
	char		 path[4096], exe[4096], *s;
	ssize_t		 len;
	int		 n;

	if (getenv("WA_ENV_FILE") != NULL)
		return 0;
	if ((dir = getenv("WA_STATE_DIR")) == NULL || *dir == '\0')
		dir = "./var";
	n = snprintf(path, sizeof(path), "%s/dev.env", dir);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		complain("WA_STATE_DIR is too long");
		return -1;
	}
	if (access(path, R_OK) == -1) {
		if (getenv("WA_STATE_DIR") != NULL ||
		    (len = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) <=
		    0)
			return 0;
		exe[len] = '\0';
		/* .../build/wactl to .../var/dev.env */
		if ((s = strrchr(exe, '/')) == NULL)
			return 0;
		*s = '\0';
		if ((s = strrchr(exe, '/')) == NULL)
			return 0;
		*s = '\0';
		n = snprintf(path, sizeof(path), "%s/var/dev.env", exe);
		if (n < 0 || (size_t)n >= sizeof(path) ||
		    access(path, R_OK) == -1)
			return 0;
	}
	if (setenv("WA_ENV_FILE", path, 1) == -1) {
		complain("setenv: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static const char help[] =
    "usage: wactl chat --from NUMBER [--name NAME] [--to PNID]\n"
    "  Be a customer of the local stack in sandbox mode (make run with its\n"
    "  generated dev.env): what you type goes to the gateway as a signed\n"
    "  WhatsApp webhook from NUMBER (country code and number, digits), and\n"
    "  the business's answers are printed as they reach the sandbox.\n"
    "  --name NAME  the customer's WhatsApp profile name\n"
    "  --to PNID    the business number's phone number id (default\n"
    "               WHATSAPP_PHONE_NUMBER_ID)\n"
    "  In the chat: a number answers the last buttons or list; /image FILE\n"
    "  [CAPTION] sends a JPEG or PNG; /location LAT LON [NAME]; /react EMOJI\n"
    "  reacts to the business's last message; /quit or end of input leaves.\n"
    "  Reads WA_ENV_FILE, else $WA_STATE_DIR/dev.env (default ./var), and\n"
    "  talks to WA_LISTEN (default 127.0.0.1:8080), on this machine only.\n";

static void
usage(void)
{
	(void)fputs(help, stderr);
	exit(2);
}

/*
 * wactl chat --from NUMBER [--name NAME] [--to PNID].  Exits 0 at /quit
 * or end of input, 1 when the stack cannot be reached or is not a
 * sandbox, 2 for wrong arguments.
 */
int
customer_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "from", required_argument, NULL, 'f' },
		{ "name", required_argument, NULL, 'n' },
		{ "to", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct cust	 c;
	struct url	 u;
	const char	*from = NULL, *to = NULL, *why = "";
	char		 err[512], host[300];
	json_t		*name;
	int		 ch, n, rc = 1;

	memset(&c, 0, sizeof(c));
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1)
		switch (ch) {
		case 'f':
			from = optarg;
			break;
		case 'n':
			c.name = optarg;
			break;
		case 't':
			to = optarg;
			break;
		case 'h':
			return fputs(help, stdout) == EOF ||
			    fflush(stdout) == EOF ? 1 : 0;
		default:
			usage();
		}
	if (optind != argc || from == NULL)
		usage();
	if (!custmsg_valid_number(from + (from[0] == '+'))) {
		complain("--from %s is not a WhatsApp number: give the "
		    "customer's country code and number as digits, e.g. "
		    "--from 15550001111", from);
		return 2;
	}
	from += from[0] == '+';
	(void)strlcpy(c.wa_id, from, sizeof(c.wa_id));	/* checked: 15 */
	if (to != NULL && (!custmsg_valid_number(to) ||
	    strlcpy(c.pnid, to, sizeof(c.pnid)) >= sizeof(c.pnid))) {
		complain("--to %s is not a phone number id (digits, as "
		    "WHATSAPP_PHONE_NUMBER_ID)", to);
		return 2;
	}
	if (c.name != NULL) {
		if ((name = json_string(c.name)) == NULL) {
			complain("--name is not valid UTF-8");
			return 2;
		}
		json_decref(name);
		if (strlen(c.name) > 256) {
			complain("--name is longer than 256 bytes");
			return 2;
		}
	}
	if (dev_env() == -1)
		return 1;
	if (cfg_load(&c.cfg, 0, err, sizeof(err)) == -1) {
		complain("%s", err);
		return 1;
	}
	if (c.cfg.app_secret == NULL) {
		complain("WHATSAPP_APP_SECRET is not set: it signs the "
		    "webhooks; run wactl chat where make run runs (it reads "
		    "$WA_STATE_DIR/dev.env, default ./var/dev.env) or set "
		    "WA_ENV_FILE");
		goto done;
	}
	if (c.pnid[0] == '\0' && c.cfg.phone_number_id != NULL)
		(void)strlcpy(c.pnid, c.cfg.phone_number_id, sizeof(c.pnid));
	/* make run's nginx listens on WA_LISTEN; a wildcard is reached here. */
	if (strncmp(c.cfg.listen, "0.0.0.0:", 8) == 0)
		n = snprintf(host, sizeof(host), "127.0.0.1%s",
		    c.cfg.listen + 7);
	else if (strncmp(c.cfg.listen, "[::]:", 5) == 0)
		n = snprintf(host, sizeof(host), "[::1]%s", c.cfg.listen + 4);
	else
		n = snprintf(host, sizeof(host), "%s", c.cfg.listen);
	if (n < 0 || (size_t)n >= sizeof(host) ||
	    (n = snprintf(c.base, sizeof(c.base), "http://%s", host)) < 0 ||
	    (size_t)n >= sizeof(c.base) ||
	    url_parse(c.base, &u, &why) == -1 || !url_is_loopback(&u)) {
		complain("WA_LISTEN=%s is not an address of this machine: "
		    "wactl chat talks only to a local sandbox", c.cfg.listen);
		goto done;
	}
	if (sandbox_info(&c) == -1)
		goto done;
	/* What was said before this session stays unprinted. */
	while ((n = fetch(&c, 0)) >= PAGE)
		;
	if (n < 0)
		goto done;
	if (sayf("Sandbox chat: you are +%s%s%s%s, writing to the business "
	    "number %s%s (phone number id %s) at %s.\n"
	    "Type a message and Enter; answer numbered choices with the "
	    "number; %s (or Ctrl-D) to leave.\n", c.wa_id,
	    c.name != NULL ? " (" : "", c.name != NULL ? c.name : "",
	    c.name != NULL ? ")" : "", strcmp(c.display, c.pnid) != 0 ?
	    "+" : "", c.display, c.pnid, c.base, cmds) == -1)
		goto done;
	rc = loop(&c);
done:
	custmsg_choices_clear(&c.ch);
	cfg_clear(&c.cfg);
	return rc;
}
