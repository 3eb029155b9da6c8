/*
 * mail_msg.c: the pure half of alert mails (issue 16): how a WA_SMTP_URL
 * is secured (mail_tls(): smtps:// is TLS from the start; smtp:// must
 * get STARTTLS, except to this machine, where it is used when the server
 * offers it), and an RFC 5322 message (mail_format(): Date, Message-ID,
 * From, To, Subject RFC 2047 encoded when not ASCII, MIME-Version,
 * text/plain UTF-8 in 8bit, or quoted-printable when a line is too long
 * for SMTP; CRLF lines).  No I/O, clock or randomness: the time is given.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "mail.h"

#define LINE_MAX_OCTETS	998	/* RFC 5322 2.1.1 */
#define QP_WIDTH	76	/* RFC 2045 6.7 */
#define EW_CHUNK	45	/* bytes per encoded word: 60 base64 chars */

/* 1 when host is a dotted IPv4 address in 127.0.0.0/8. */
static int
loopback4(const char *host)
{
	const char	*p;
	int		 dots = 0;

	if (strncmp(host, "127.", 4) != 0)
		return 0;
	for (p = host; *p; p++)
		if (*p == '.')
			dots++;
		else if (!isdigit((unsigned char)*p))
			return 0;
	return dots == 3;
}

/*
 * How url is to be secured: 0 with *t set, or -1 when it is not
 * smtp://HOST[:PORT] or smtps://HOST[:PORT] (an optional path, no user
 * or password in it: those are WA_SMTP_USER and the env file's).
 */
int
mail_tls(const char *url, enum mail_tls *t)
{
	const char	*h, *e;
	size_t		 n;
	int		 implicit;
	char		 host[256];

	if (strncmp(url, "smtps://", 8) == 0) {
		implicit = 1;
		h = url + 8;
	} else if (strncmp(url, "smtp://", 7) == 0) {
		implicit = 0;
		h = url + 7;
	} else
		return -1;
	if (*h == '[') {
		if ((e = strchr(h, ']')) == NULL)
			return -1;
		n = (size_t)(e - h - 1);
		h++;
		e++;
	} else {
		n = strcspn(h, ":/");
		e = h + n;
	}
	if (n == 0 || n >= sizeof(host) || memchr(h, '@', n) != NULL)
		return -1;
	memcpy(host, h, n);
	host[n] = '\0';
	if (*e == ':') {
		for (e++; isdigit((unsigned char)*e); e++)
			;
	}
	if (*e != '\0' && *e != '/')
		return -1;
	for (e = url; *e; e++)
		if (!isgraph((unsigned char)*e))
			return -1;
	if (implicit)
		*t = MAIL_TLS_IMPLICIT;
	else if (strcmp(host, "localhost") == 0 || strcmp(host, "::1") == 0 ||
	    loopback4(host))
		*t = MAIL_TLS_TRY;
	else
		*t = MAIL_TLS_REQUIRED;
	return 0;
}

/* 1 when addr looks like local@domain with no space, <, > or control. */
int
mail_addr_ok(const char *addr)
{
	const char	*at, *p;

	if ((at = strchr(addr, '@')) == NULL || at == addr || at[1] == '\0' ||
	    strchr(at + 1, '@') != NULL || strlen(addr) > 254)
		return 0;
	for (p = addr; *p; p++)
		if (!isgraph((unsigned char)*p) || *p == '<' || *p == '>' ||
		    *p == ',' || *p == '"' || *p == '(' || *p == ')')
			return 0;
	return 1;
}

static int
ascii_only(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return 0;
	return 1;
}

/* s base64 encoded onto b.  0 or -1. */
static int
base64(struct buf *b, const unsigned char *s, size_t n)
{
	static const char abc[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char		 q[4];
	unsigned	 v;
	size_t		 i;

	for (i = 0; i < n; i += 3) {
		v = (unsigned)s[i] << 16;
		if (i + 1 < n)
			v |= (unsigned)s[i + 1] << 8;
		if (i + 2 < n)
			v |= s[i + 2];
		q[0] = abc[(v >> 18) & 63];
		q[1] = abc[(v >> 12) & 63];
		q[2] = i + 1 < n ? abc[(v >> 6) & 63] : '=';
		q[3] = i + 2 < n ? abc[v & 63] : '=';
		if (buf_append(b, q, 4) == -1)
			return -1;
	}
	return 0;
}

/*
 * The subject as a header: as is when ASCII, else RFC 2047 encoded
 * words of whole UTF-8 characters, folded one a line.  Controls become
 * spaces (no header can be smuggled in).  0 or -1.
 */
static int
subject_header(struct buf *b, const char *subject)
{
	char		 s[1000];
	size_t		 n, i, start, end;

	(void)snprintf(s, sizeof(s), "%s", subject);
	n = strlen(s);
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			s[i] = ' ';
	if (ascii_only(s))
		return buf_printf(b, "Subject: %s\r\n", s);
	if (buf_puts(b, "Subject:") == -1)
		return -1;
	for (start = 0; start < n; start = end) {
		end = start + EW_CHUNK < n ? start + EW_CHUNK : n;
		/* Never split a character: back up to a lead byte. */
		while (end < n && end > start + 1 &&
		    ((unsigned char)s[end] & 0xc0) == 0x80)
			end--;
		if (buf_puts(b, start == 0 ? " =?UTF-8?B?" : "\r\n =?UTF-8?B?")
		    == -1 || base64(b, (const unsigned char *)s + start,
		    end - start) == -1 || buf_puts(b, "?=") == -1)
			return -1;
	}
	return buf_puts(b, "\r\n");
}

/* 1 when a line of body (split at LF) is longer than SMTP allows. */
static int
long_line(const char *body)
{
	size_t	 n;

	for (;;) {
		n = strcspn(body, "\n");
		if (n > LINE_MAX_OCTETS - 1)
			return 1;
		if (body[n] == '\0')
			return 0;
		body += n + 1;
	}
}

/* body in quoted-printable, CRLF lines, soft breaks at QP_WIDTH.  0/-1. */
static int
qp(struct buf *b, const char *body)
{
	const unsigned char	*p;
	int			 col = 0, w;
	char			 enc[4];

	for (p = (const unsigned char *)body; *p; p++) {
		if (*p == '\r' && p[1] == '\n')
			continue;
		if (*p == '\n') {
			if (buf_puts(b, "\r\n") == -1)
				return -1;
			col = 0;
			continue;
		}
		if ((*p >= 33 && *p <= 126 && *p != '=') ||
		    (*p == ' ' && p[1] != '\n' && p[1] != '\0' &&
		    !(p[1] == '\r' && p[2] == '\n'))) {
			enc[0] = (char)*p;
			w = 1;
		} else {
			(void)snprintf(enc, sizeof(enc), "=%02X", *p);
			w = 3;
		}
		if (col + w > QP_WIDTH - 1) {
			if (buf_puts(b, "=\r\n") == -1)
				return -1;
			col = 0;
		}
		if (buf_append(b, enc, (size_t)w) == -1)
			return -1;
		col += w;
	}
	return 0;
}

/* body with LF (or CRLF) lines as CRLF lines.  0 or -1. */
static int
crlf(struct buf *b, const char *body)
{
	size_t	 n;

	while (*body != '\0') {
		n = strcspn(body, "\r\n");
		if (buf_append(b, body, n) == -1 || buf_puts(b, "\r\n") == -1)
			return -1;
		body += n;
		if (*body == '\r')
			body++;
		if (*body == '\n')
			body++;
	}
	return 0;
}

/*
 * The whole message onto b: headers, a blank line, body (UTF-8 text,
 * LF or CRLF lines) ending in CRLF.  from and to must pass
 * mail_addr_ok(); msgid is "<...@...>".  0, or -1 on a bad address or
 * out of memory.
 */
int
mail_format(struct buf *b, const char *from, const char *to,
    const char *subject, const char *body, int64_t now_s, const char *msgid)
{
	struct tm	 tm;
	time_t		 t = (time_t)now_s;
	char		 date[64];
	int		 q;

	if (!mail_addr_ok(from) || !mail_addr_ok(to) ||
	    strpbrk(msgid, "\r\n") != NULL || gmtime_r(&t, &tm) == NULL ||
	    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm)
	    == 0)
		return -1;
	q = long_line(body);
	if (buf_printf(b, "Date: %s\r\nMessage-ID: %s\r\nFrom: %s\r\n"
	    "To: %s\r\n", date, msgid, from, to) == -1 ||
	    subject_header(b, subject) == -1 ||
	    buf_printf(b, "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=UTF-8\r\n"
	    "Content-Transfer-Encoding: %s\r\n\r\n",
	    q ? "quoted-printable" : "8bit") == -1)
		return -1;
	if (q ? qp(b, body) : crlf(b, body))
		return -1;
	if (b->len < 2 || memcmp(b->p + b->len - 2, "\r\n", 2) != 0)
		return buf_puts(b, "\r\n");
	return 0;
}

