/*
 * test_log.c: the stable key=value event line (log_event()), read back
 * from stderr redirected into a temporary file: its exact shape, an
 * event without keys, and a long line cut but still naming its event.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "log.h"

static char	out[4096];

/* Runs f with stderr in a temporary file; its text into out. */
static void
capture(void (*f)(void))
{
	FILE	*tmp = tmpfile();
	int	 saved = dup(2);
	size_t	 n = 0;

	out[0] = '\0';
	if (tmp == NULL || saved == -1)
		return;
	(void)fflush(stderr);
	if (dup2(fileno(tmp), 2) != -1) {
		f();
		(void)fflush(stderr);
		(void)dup2(saved, 2);
		rewind(tmp);
		n = fread(out, 1, sizeof(out) - 1, tmp);
	}
	out[n] = '\0';
	(void)close(saved);
	(void)fclose(tmp);
}

static void
one(void)
{
	log_event("send_failed", "outbox=%d number=%s code=%d", 12, "1555",
	    131026);
}

static void
bare(void)
{
	log_event("backup_done", "%s", "");
}

static void
huge(void)
{
	static char	 big[3000];

	memset(big, 'x', sizeof(big) - 1);
	log_event("webhook_refused", "reason=too_large note=\"%s\"", big);
}

TEST(event_line_has_the_stable_form)
{
	const char *e;

	capture(one);
	/* TIME PROG[PID] event: event=NAME k=v ... */
	CHECK(strstr(out, " test_log[") != NULL);
	CHECK((e = strstr(out, "] event: event=send_failed outbox=12 "
	    "number=1555 code=131026\n")) != NULL);
	CHECK(e != NULL && e[strlen(e) - 1] == '\n' &&
	    strchr(out, '\n') == out + strlen(out) - 1);
	CHECK(out[4] == '-' && out[10] == 'T');
}

TEST(event_without_keys_has_no_trailing_space)
{
	capture(bare);
	CHECK(strstr(out, "] event: event=backup_done\n") != NULL);
}

TEST(long_event_is_cut_on_one_line)
{
	capture(huge);
	CHECK(strstr(out, "event=webhook_refused reason=too_large") != NULL);
	CHECK(strchr(out, '\n') == out + strlen(out) - 1);
	CHECK(strlen(out) < 1200);
}

int
main(void)
{
	log_init("test_log");
	RUN(event_line_has_the_stable_form);
	RUN(event_without_keys_has_no_trailing_space);
	RUN(long_event_is_cut_on_one_line);
	return CHECK_DONE();
}
