/*
 * log.c: one line per event on stderr, prefixed with the program name and
 * a UTC timestamp.  Under systemd and `make run` stderr is the journal or the
 * terminal, so no file handling lives here.  Untrusted bytes go through
 * log_escape() first so that a sender cannot forge log lines.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static const char *prog = "wa";

void
log_init(const char *progname)
{
	prog = progname;
}

static void
vlog(const char *level, const char *fmt, va_list ap, int with_errno)
{
	char		 msg[1024], ts[32];
	struct tm	 tm;
	time_t		 now = time(NULL);
	int		 saved = errno;

	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		ts[0] = '\0';
	/* A truncated log line is still worth printing. */
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	if (with_errno)
		(void)fprintf(stderr, "%s %s[%d] %s: %s: %s\n", ts, prog,
		    (int)getpid(), level, msg, strerror(saved));
	else
		(void)fprintf(stderr, "%s %s[%d] %s: %s\n", ts, prog,
		    (int)getpid(), level, msg);
	errno = saved;
}

static void	 log_line(const char *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

/* vlog() with its arguments given here. */
static void
log_line(const char *level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, fmt, ap, 0);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("info", fmt, ap, 0);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("warn", fmt, ap, 1);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("warn", fmt, ap, 0);
	va_end(ap);
}

/*
 * One line for an event an operator watches or alerts on, in a form that
 * stays stable across releases (README "What to watch"):
 *
 *   TIME PROG[PID] event: event=NAME key=value key=value ...
 *
 * name is a fixed word (webhook_refused, send_failed, token_invalid,
 * backup_done); fmt gives the key=value pairs, separated by single
 * spaces.  A value is a single word (digits, ids, fixed words); free text
 * is quoted, key="...", after log_escape(), which leaves no quote,
 * backslash or control character in it, so `grep event=NAME` and a
 * split on spaces outside quotes read every line.  Never a secret or a
 * message body.
 */
void
log_event(const char *name, const char *fmt, ...)
{
	char	 kv[900];
	va_list	 ap;

	va_start(ap, fmt);
	/* A truncated line still names the event and its first keys. */
	(void)vsnprintf(kv, sizeof(kv), fmt, ap);
	va_end(ap);
	log_line("event", "event=%s%s%s", name, kv[0] != '\0' ? " " : "", kv);
}

/* Startup only: the request path never exits. */
void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("fatal", fmt, ap, 0);
	va_end(ap);
	exit(1);
}

/*
 * Copy at most len bytes of src into dst as printable ASCII, turning control
 * characters, quotes and non-ASCII bytes into \xNN escapes.  Always
 * NUL-terminates (dstsz > 0).  Returns the number of bytes written.
 */
size_t
log_escape(char *dst, size_t dstsz, const char *src, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t		  i, o = 0;

	if (dstsz == 0)
		return 0;
	for (i = 0; i < len && src != NULL; i++) {
		unsigned char c = (unsigned char)src[i];

		if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"') {
			if (o + 1 >= dstsz)
				break;
			dst[o++] = (char)c;
		} else {
			if (o + 4 >= dstsz)
				break;
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 0xf];
		}
	}
	dst[o] = '\0';
	return o;
}
