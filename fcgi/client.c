/*
 * client.c: wactl as a client of the management API, for people at a
 * terminal: WA_URL (e.g. https://wa.example.com) and WA_API_KEY from the
 * environment; tables by default, the API's JSON with --json.
 *
 *   wactl messages [--phone P] [--conversation N] [--search WORDS]
 *                  [--direction in|out] [--limit N] [--json]
 *   wactl conversations [--unread] [--limit N] [--json]
 *   wactl send ... (with WA_URL set: POST /send instead of the database)
 */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "buf.h"
#include "client.h"
#include "log.h"
#include "wa.h"

#define TIMEOUT_MS	30000

/* 1 when WA_URL and WA_API_KEY are both set: wactl talks to the API. */
int
client_configured(void)
{
	const char *u = getenv("WA_URL"), *k = getenv("WA_API_KEY");

	return u != NULL && *u != '\0' && k != NULL && *k != '\0';
}

/* Appends name=value to the query in b, URL-encoded (RFC 3986). */
static int
add_param(struct buf *b, const char *name, const char *value)
{
	const unsigned char *p;

	if (buf_printf(b, "%c%s=", strchr(b->p, '?') ? '&' : '?', name) == -1)
		return -1;
	for (p = (const unsigned char *)value; *p != '\0'; p++)
		if ((isalnum(*p) || strchr("-._~", *p) != NULL) ?
		    buf_append(b, p, 1) == -1 :
		    buf_printf(b, "%%%02X", *p) == -1)
			return -1;
	return 0;
}

/*
 * Calls the API: method on path (with its query) and body.  Returns the
 * parsed JSON answer on 2xx (caller frees); otherwise prints the API's
 * error and returns NULL.
 */
static json_t *
call(const char *method, const char *path, const char *body)
{
	struct buf	 url, out;
	json_t		*j = NULL, *e;
	json_error_t	 je;
	char		 err[512];
	long		 status = 0;
	const char	*base = getenv("WA_URL");

	buf_init(&url);
	buf_init(&out);
	if (buf_puts(&url, base) == -1)
		goto done;
	while (url.len > 0 && url.p[url.len - 1] == '/')
		url.p[--url.len] = '\0';
	if (buf_printf(&url, "/api/whatsapp%s", path) == -1)
		goto done;
	if (wa_request(method, url.p, getenv("WA_API_KEY"), body, TIMEOUT_MS,
	    &status, &out, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		goto done;
	}
	j = json_loadb(out.p != NULL ? out.p : "", out.len, 0, &je);
	if (status < 200 || status > 299) {
		e = json_object_get(j, "error");
		(void)fprintf(stderr, "refused: %s: %s%s%s\n",
		    json_string_value(json_object_get(e, "code")) ?
		    json_string_value(json_object_get(e, "code")) : "http",
		    json_string_value(json_object_get(e, "field")) ?
		    json_string_value(json_object_get(e, "field")) : "",
		    json_string_value(json_object_get(e, "field")) ? ": " : "",
		    json_string_value(json_object_get(e, "message")) ?
		    json_string_value(json_object_get(e, "message")) :
		    "the API answered an error");
		json_decref(j);
		j = NULL;
	} else if (j == NULL)
		log_warnx("the API's answer is not JSON: %s", je.text);
done:
	buf_clear(&url);
	buf_clear(&out);
	return j;
}

static int
print_json(json_t *j)
{
	int rc = json_dumpf(j, stdout, JSON_INDENT(2)) == 0 &&
	    printf("\n") > 0 ? 0 : 1;

	json_decref(j);
	return rc;
}

/* A unix time as "2026-11-25 10:00" (UTC), or "-". */
static const char *
when(json_t *v, char *buf, size_t sz)
{
	struct tm	tm;
	time_t		t;

	if (!json_is_integer(v))
		return "-";
	t = (time_t)json_integer_value(v);
	if (gmtime_r(&t, &tm) == NULL || strftime(buf, sz, "%Y-%m-%d %H:%M",
	    &tm) == 0)
		return "-";
	return buf;
}

static const char *
str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s != NULL ? s : "";
}

/* The text on one line, cut at n display columns (bytes, UTF-8 kept whole). */
static void
print_cut(const char *s, size_t n)
{
	size_t	i, cols = 0;

	for (i = 0; s[i] != '\0' && cols < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if ((ch & 0xc0) != 0x80)
			cols++;
		(void)putchar(ch == '\n' || ch == '\r' || ch == '\t' ? ' ' : ch);
	}
	while (s[i] != '\0' && ((unsigned char)s[i] & 0xc0) == 0x80)
		(void)putchar(s[i++]);
	if (s[i] != '\0')
		(void)fputs("...", stdout);
}

/* The business number a row belongs to: its label, else its id. */
static const char *
number_of(const json_t *row)
{
	return str(row, "number_label")[0] != '\0' ? str(row,
	    "number_label") : str(row, "phone_number_id");
}

int
client_messages(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "phone", required_argument, NULL, 'p' },
		{ "number", required_argument, NULL, 'n' },
		{ "conversation", required_argument, NULL, 'c' },
		{ "search", required_argument, NULL, 's' },
		{ "direction", required_argument, NULL, 'd' },
		{ "limit", required_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct buf	 q;
	json_t		*j, *m;
	size_t		 i;
	char		 t[32];
	int		 ch, js = 0, rc = 1;

	buf_init(&q);
	if (buf_puts(&q, "/messages") == -1)
		return 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		const char *name = ch == 'p' ? "phone" : ch == 'n' ?
		    "number" : ch == 'c' ? "conversation_id" : ch == 's' ?
		    "q" : ch == 'd' ?
		    "direction" : ch == 'l' ? "limit" : NULL;

		if (ch == 'j')
			js = 1;
		else if (name == NULL || add_param(&q, name, optarg) == -1)
			goto done;
	}
	if (optind != argc) {
		log_warnx("usage: wactl messages [--phone P] [--number N]... "
		    "[--conversation N] [--search WORDS] [--direction in|out] "
		    "[--limit N] [--json]");
		goto done;
	}
	if ((j = call("GET", q.p, NULL)) == NULL)
		goto done;
	if (js) {
		rc = print_json(j);
		goto done;
	}
	(void)printf("%-8s %-16s %-12s %-3s %-15s %-11s %-9s %s\n", "ID",
	    "TIME (UTC)", "NUMBER", "DIR", "PHONE", "TYPE", "STATUS", "TEXT");
	json_array_foreach(json_object_get(j, "data"), i, m) {
		(void)printf("%-8lld %-16s %-12s %-3s %-15s %-11s %-9s ",
		    (long long)json_integer_value(json_object_get(m, "id")),
		    when(json_object_get(m, "timestamp"), t, sizeof(t)),
		    number_of(m), str(m, "direction"), str(m, "phone"),
		    str(m, "type"),
		    str(m, "status")[0] ? str(m, "status") : "-");
		print_cut(str(m, "text"), 60);
		(void)putchar('\n');
	}
	if (json_is_string(json_object_get(j, "next_cursor")))
		(void)printf("(more: --json shows next_cursor)\n");
	json_decref(j);
	rc = 0;
done:
	buf_clear(&q);
	return rc;
}

int
client_conversations(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "unread", no_argument, NULL, 'u' },
		{ "number", required_argument, NULL, 'n' },
		{ "limit", required_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct buf	 q;
	json_t		*j, *c;
	size_t		 i;
	char		 t[32];
	int		 ch, js = 0, rc = 1;

	buf_init(&q);
	if (buf_puts(&q, "/conversations") == -1)
		return 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 'j')
			js = 1;
		else if (ch == 'u') {
			if (add_param(&q, "unread", "true") == -1)
				goto done;
		} else if (ch == 'n') {
			if (add_param(&q, "number", optarg) == -1)
				goto done;
		} else if (ch != 'l' || add_param(&q, "limit", optarg) == -1)
			goto done;
	}
	if (optind != argc) {
		log_warnx("usage: wactl conversations [--unread] [--number N]... "
		    "[--limit N] [--json]");
		goto done;
	}
	if ((j = call("GET", q.p, NULL)) == NULL)
		goto done;
	if (js) {
		rc = print_json(j);
		goto done;
	}
	(void)printf("%-6s %-12s %-15s %-20s %6s %-16s %s\n", "ID", "NUMBER",
	    "PHONE", "NAME", "UNREAD", "LAST (UTC)", "ASSIGNEE");
	json_array_foreach(json_object_get(j, "data"), i, c) {
		(void)printf("%-6lld %-12s %-15s ", (long long)
		    json_integer_value(json_object_get(c, "id")), number_of(c),
		    str(c, "phone"));
		print_cut(str(c, "profile_name"), 20);
		(void)printf(" %6lld %-16s %s\n", (long long)json_integer_value(
		    json_object_get(c, "unread_count")), when(json_object_get(c,
		    "last_message_at"), t, sizeof(t)), str(c, "assignee"));
	}
	json_decref(j);
	rc = 0;
done:
	buf_clear(&q);
	return rc;
}

/* wactl send through the API: prints the outbox id like the local form. */
int
client_send(const char *json, const char *key, const char *from)
{
	json_t	*j, *o = NULL;
	char	*body = NULL;
	int	 rc = 1;

	if (key != NULL) {
		log_warnx("--key needs the local database (unset WA_URL), or "
		    "use the API's Idempotency-Key with curl");
		return 1;
	}
	/* --from goes in the request's from member (POST /send). */
	if (from != NULL) {
		o = json_loads(json, 0, NULL);
		if (!json_is_object(o) || json_object_set_new(o, "from",
		    json_string(from)) == -1 || (body = json_dumps(o,
		    JSON_COMPACT)) == NULL) {
			log_warnx("--from needs a request that is a JSON object "
			    "and a number in UTF-8");
			json_decref(o);
			return 1;
		}
		json_decref(o);
		json = body;
	}
	j = call("POST", "/send", json);
	free(body);
	if (j == NULL)
		return 1;
	if (json_is_integer(json_object_get(j, "id"))) {
		(void)printf("%lld\n", (long long)json_integer_value(
		    json_object_get(j, "id")));
		rc = 0;
	}
	json_decref(j);
	return rc;
}
