/*
 * fuzz_msg.c: libFuzzer target for msg_parse(), the send-request check.
 * Invariants: never crashes; a refusal has a known code, a field path and
 * a sentence, and allocates nothing; an acceptance yields a kind in range,
 * a recipient and reply id within their arrays, and a body that is JSON
 * and that msg_parse() accepts again unchanged (parse, serialise, parse
 * round trip).  Each input is checked as the API takes it and as wactl
 * does (MSG_ALLOW_FILE).  A product body without a catalog takes one
 * (msg_set_catalog) and passes again; any other body refuses one,
 * unchanged.  The input as a stored reply: msg_reply_show() never
 * crashes and adds at most one member.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const codes[] = {
	"bad_json", "too_large", "too_deep", "bad_type", "required",
	"unknown_field", "invalid", "empty", "too_long", "too_many",
	"too_few", "duplicate", "out_of_range", "conflict", "not_https",
	"file_not_allowed", "bad_media_type", "no_memory",
};

static int
known_code(const char *code)
{
	size_t i;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (strcmp(code, codes[i]) == 0)
			return 1;
	return 0;
}

static int
bounded(const char *s, size_t sz)
{
	return memchr(s, '\0', sz) != NULL;
}

/* The catalog invariant on an accepted m (its body may change). */
static void
catalog(struct msg *m)
{
	struct msg	 m2;
	struct msg_err	 err;
	char		*before;

	if ((before = strdup(m->body)) == NULL)
		abort();
	if (!m->need_catalog) {
		if (msg_set_catalog(m, "42") != -1 || strcmp(before, m->body))
			abort();
	} else if (msg_set_catalog(m, "42") == 0) {
		if (m->need_catalog || msg_parse(m->body, strlen(m->body), 0,
		    &m2, &err) == -1 || m2.need_catalog ||
		    strcmp(m->body, m2.body) != 0)
			abort();
		msg_clear(&m2);
	} else if (strcmp(before, m->body) != 0)	/* no memory: unchanged */
		abort();
	free(before);
}

/* The input as a stored webhook item. */
static void
reply(const uint8_t *data, size_t size)
{
	json_t	*row;
	char	*s;
	int	 rc;

	if ((s = malloc(size + 1)) == NULL || (row = json_object()) == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	rc = msg_reply_show(row, s);
	if (rc < -1 || rc > 1 || json_object_size(row) != (rc == 1 ? 1U : 0U))
		abort();
	json_decref(row);
	free(s);
}

static void
one(const uint8_t *data, size_t size, unsigned flags)
{
	struct msg	 m, m2;
	struct msg_err	 err;

	if (msg_parse((const char *)data, size, flags, &m, &err) == -1) {
		if (!bounded(err.code, sizeof(err.code)) ||
		    !bounded(err.field, sizeof(err.field)) ||
		    !bounded(err.message, sizeof(err.message)) ||
		    !known_code(err.code) || err.message[0] == '\0' ||
		    m.text != NULL || m.body != NULL ||
		    m.media_file != NULL || m.media_mime != NULL)
			abort();
		return;
	}
	if ((unsigned)m.kind >= MSG__MAX || m.body == NULL ||
	    !bounded(m.to, sizeof(m.to)) ||
	    !bounded(m.reply_to, sizeof(m.reply_to)) ||
	    (m.kind != MSG_READ && m.to[0] == '\0') ||
	    (m.media_file != NULL && !(flags & MSG_ALLOW_FILE)))
		abort();
	/*
	 * The body is Meta's own request shape, so it must pass again and
	 * serialise to the same bytes: what is queued is what was checked.
	 * Not for a local "file" (it has become an upload placeholder) nor
	 * for a read receipt, whose Graph body ({"status":"read"}) is not a
	 * send request (reference 7.4).
	 */
	if (m.media_file == NULL && m.kind != MSG_READ) {
		if (msg_parse(m.body, strlen(m.body), 0, &m2, &err) == -1 ||
		    strcmp(m.body, m2.body) != 0 || m2.kind != m.kind ||
		    strcmp(m.to, m2.to) != 0 ||
		    strcmp(m.reply_to, m2.reply_to) != 0)
			abort();
		msg_clear(&m2);
	}
	catalog(&m);
	msg_clear(&m);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	one(data, size, 0);
	one(data, size, MSG_ALLOW_FILE);
	reply(data, size);
	return 0;
}
