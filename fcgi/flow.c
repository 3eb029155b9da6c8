/*
 * flow.c: loads a chatbot flow file and checks it, reporting every problem
 * with its JSON path, so that a bad edit is refused with all its mistakes at
 * once and never reaches a customer.  Pure: no I/O.
 *
 * The format (JSON; keys that start with "_" are comments, anywhere):
 *
 *   version	1 (optional)
 *   start	id of the main menu node (required)
 *   phone	the number customers should call ({phone}); required when a
 *		template uses {phone}
 *   agent_url	https URL of the external agent; required by hand_off_agent
 *   hours	{"utc_offset_minutes": 60, "open": ["Mon-Fri 08:00-17:00",
 *		"Sat 09:00-12:00"], "day_names": [7 names, Monday first]};
 *		"Day" or "Day-Day" (Mon..Sun), then HH:MM-HH:MM, 24:00 allowed
 *		as an end, an end before the start runs past midnight.  Absent:
 *		always open.
 *   texts	{name: template} overriding the fixed sentences: hint, error,
 *		more, list_button, hand_off_open, hand_off_closed,
 *		hand_off_agent, photo_received, photos_full, ticket_created
 *   words	{"menu": [...], "back": [...]}: whole messages that show the
 *		start node or the parent node from anywhere (defaults "menu",
 *		"0", "hi", "hello" and "back")
 *   keywords	[{"words": ["price", "prices"], "goto": node}, {"words":
 *		[...], "reply": template}]: a word or phrase anywhere in a
 *		message (whole words, any case); the first rule in file order
 *		that matches wins
 *   nodes	{id: node}; ids are 1-64 of [A-Za-z0-9_-]
 *
 * A node has "kind", "body" (a template), optional "parent" (where "back"
 * goes; default: the nearest buttons or list node it is reached from) and
 * optional "hint" (the unknown-input sentence there).  By kind:
 *
 *   buttons	1-3 options; header, footer (templates, 60); save
 *   list	1-10 options; header, footer, button (the list label, 20); save
 *   text	next: shown right after; without it the chat returns to parent
 *		(at most FLOW_CHAIN_MAX nodes follow one another so)
 *   prompt	save (required), next (required), max (code points kept, 1-1024,
 *		default 256), 0-3 options
 *   photos	collects image media ids (max 1-10, default 5), received
 *		(template after each photo, {count}), 1-3 options
 *   lookup	(without options it moves on like text) lookup: order,
 *		orders_recent, schedule_this_week,
 *		schedule_next_week, schedule_order or ticket; arg: the variable
 *		holding the number (order, schedule_order, ticket); not_found
 *		(template, required); next; 0-3 options
 *
 * An option is {"id", "title", "description" (list only), "goto": node,
 * "action": goto | back | menu | hand_off_person | hand_off_agent |
 * ticket_create}; goto goes alone or after ticket_create.  Choosing an
 * option of a node with "save" stores the option id in that variable.
 * ticket_create files the variables "category" and "description" with the
 * photos collected and saves the number it gets as {ticket}; it acts only
 * from the node the chat is at, so a second tap on an old button files
 * nothing.
 *
 * Templates replace {name} with a variable saved by a node, the ticket
 * number {ticket}, {phone}, {hours}, {tz}, {next_open}, {count}; in lookup
 * nodes also {result} and the record's fields {number}, {status},
 * {expected_delivery}, {lines}, {state}, {category}.  "{{" is a brace.
 *
 * Limits are Meta's (reference 7.2, 9.5): button title 20, row title 24,
 * row description 72, list label 20, body 1024 for buttons and 4096 for a
 * list or text, header and footer 60, reply ids (node:option) 200.
 * Templates are measured as written; the bot falls back to plain text when
 * an expanded one no longer fits.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <bsd/string.h>
#include <jansson.h>

#include "flow.h"
#include "msg.h"
#include "url.h"

/* Meta's limits (reference 7.2, 9.5). */
#define MAX_BUTTONS	3
#define MAX_ROWS	10
#define MAX_BTN_TITLE	20
#define MAX_ROW_TITLE	24
#define MAX_ROW_DESC	72
#define MAX_LIST_BTN	20
#define MAX_BTN_BODY	1024
#define MAX_LIST_BODY	4096
#define MAX_TEXT	4096
#define MAX_HEADER	60
#define MAX_FOOTER	60
#define MAX_WIRE_ID	200		/* list row id; button ids allow 256 */

/* Ours: every input has a ceiling (STYLE 5). */
#define MAX_PROMPT	1024		/* code points a prompt keeps */
#define DEF_PROMPT	256
#define MAX_PHOTOS	FLOW_PHOTOS_MAX
#define DEF_PHOTOS	5
#define MAX_KEYWORDS	256		/* phrases in all rules */
#define MAX_PHRASE	64		/* bytes of a keyword or word */
#define MAX_VAR		32		/* bytes of a variable name */
#define MAX_PHONE	32
#define MAX_URL		1024
#define MAX_OPEN	16		/* opening-hours entries */
#define MAX_DAY_NAME	16
#define WEEK_MIN	(7 * 24 * 60)

const char *const flow_kind_names[FLOW_KIND__MAX] = {
	"buttons",	/* FLOW_BUTTONS */
	"list",		/* FLOW_LIST */
	"text",		/* FLOW_TEXT */
	"prompt",	/* FLOW_PROMPT */
	"photos",	/* FLOW_PHOTOS */
	"lookup",	/* FLOW_LOOKUP */
};

const char *const flow_act_names[FLOW_ACT__MAX] = {
	"goto",			/* FLOW_ACT_GOTO */
	"back",			/* FLOW_ACT_BACK */
	"menu",			/* FLOW_ACT_MENU */
	"hand_off_person",	/* FLOW_ACT_HAND_OFF_PERSON */
	"hand_off_agent",	/* FLOW_ACT_HAND_OFF_AGENT */
	"ticket_create",	/* FLOW_ACT_TICKET_CREATE */
};

const char *const flow_lookup_names[FLOW_LK__MAX] = {
	"order",		/* FLOW_LK_ORDER */
	"orders_recent",	/* FLOW_LK_ORDERS_RECENT */
	"schedule_this_week",	/* FLOW_LK_SCHEDULE_THIS_WEEK */
	"schedule_next_week",	/* FLOW_LK_SCHEDULE_NEXT_WEEK */
	"schedule_order",	/* FLOW_LK_SCHEDULE_ORDER */
	"ticket",		/* FLOW_LK_TICKET */
};

const char *const flow_text_names[FLOW_TXT__MAX] = {
	"hint",			/* FLOW_TXT_HINT */
	"error",		/* FLOW_TXT_ERROR */
	"more",			/* FLOW_TXT_MORE */
	"list_button",		/* FLOW_TXT_LIST_BUTTON */
	"hand_off_open",	/* FLOW_TXT_HAND_OFF_OPEN */
	"hand_off_closed",	/* FLOW_TXT_HAND_OFF_CLOSED */
	"hand_off_agent",	/* FLOW_TXT_HAND_OFF_AGENT */
	"photo_received",	/* FLOW_TXT_PHOTO_RECEIVED */
	"photos_full",		/* FLOW_TXT_PHOTOS_FULL */
	"ticket_created",	/* FLOW_TXT_TICKET_CREATED */
};

static const char *const text_defaults[FLOW_TXT__MAX] = {
	"Sorry, I did not understand that. Tap an option or type its "
	    "number; type menu to start again.", /* FLOW_TXT_HINT */
	"Sorry, something went wrong on our side. Please try again "
	    "later, or type menu.", /* FLOW_TXT_ERROR */
	"What would you like to do next?", /* FLOW_TXT_MORE */
	"Options", /* FLOW_TXT_LIST_BUTTON */
	"Thank you. A member of our team will answer you here "
	    "shortly.", /* FLOW_TXT_HAND_OFF_OPEN */
	"Thank you. Our team is away right now; someone will answer "
	    "you here from {next_open}.", /* FLOW_TXT_HAND_OFF_CLOSED */
	"One moment, please: I am passing you to our "
	    "assistant.", /* FLOW_TXT_HAND_OFF_AGENT */
	"Photo {count} received. Send another, or choose an "
	    "option.", /* FLOW_TXT_PHOTO_RECEIVED */
	"I have all the photos I can take ({count}). Please choose "
	    "an option.", /* FLOW_TXT_PHOTOS_FULL */
	"Thank you. Your ticket number is "
	    "{ticket}.", /* FLOW_TXT_TICKET_CREATED */
};

/* Where each text goes: a text message, an interactive body, a label. */
static const size_t text_max[FLOW_TXT__MAX] = {
	MAX_TEXT,	/* FLOW_TXT_HINT */
	MAX_TEXT,	/* FLOW_TXT_ERROR */
	MAX_BTN_BODY,	/* FLOW_TXT_MORE */
	MAX_LIST_BTN,	/* FLOW_TXT_LIST_BUTTON */
	MAX_TEXT,	/* FLOW_TXT_HAND_OFF_OPEN */
	MAX_TEXT,	/* FLOW_TXT_HAND_OFF_CLOSED */
	MAX_TEXT,	/* FLOW_TXT_HAND_OFF_AGENT */
	MAX_BTN_BODY,	/* FLOW_TXT_PHOTO_RECEIVED */
	MAX_BTN_BODY,	/* FLOW_TXT_PHOTOS_FULL */
	MAX_TEXT,	/* FLOW_TXT_TICKET_CREATED */
};

static const char *const default_menu_words[] = { "menu", "0", "hi", "hello" };
static const char *const default_back_words[] = { "back" };

static const char *const default_days[7] = { "Monday", "Tuesday",
    "Wednesday", "Thursday", "Friday", "Saturday", "Sunday" };
static const char *const short_days[7] = { "mon", "tue", "wed", "thu",
    "fri", "sat", "sun" };

/* Placeholders any template may use, and those only the bot sets. */
static const char *const builtins[] = { "phone", "hours", "tz", "next_open",
    "count", "result", "ticket", "number", "status", "expected_delivery",
    "lines", "state", "category", NULL };
/* Names a node may not save to: the bot sets them. */
static const char *const reserved[] = { "phone", "hours", "tz", "next_open",
    "count", "result", "ticket", "photos", NULL };

/* Keys each kind takes (keys starting with "_" are comments). */
static const char *const node_keys[FLOW_KIND__MAX][10] = {
	{ "kind", "body", "parent", "hint", "header", "footer", "options",
	    "save", NULL },				/* FLOW_BUTTONS */
	{ "kind", "body", "parent", "hint", "header", "footer", "button",
	    "options", "save", NULL },			/* FLOW_LIST */
	{ "kind", "body", "parent", "hint", "next", NULL },	/* FLOW_TEXT */
	{ "kind", "body", "parent", "hint", "options", "save", "next", "max",
	    NULL },					/* FLOW_PROMPT */
	{ "kind", "body", "parent", "hint", "options", "received", "max",
	    NULL },					/* FLOW_PHOTOS */
	{ "kind", "body", "parent", "hint", "options", "lookup", "arg",
	    "not_found", "next", NULL },		/* FLOW_LOOKUP */
};

/* Loader state: the flow being filled, the report, the current path. */
struct ld {
	struct flow		*f;
	struct flow_report	*r;
	char			 path[FLOW_LINE_MAX];
	size_t			 plen;
	const char		*saves[FLOW_NODES_MAX]; /* names nodes save */
	size_t			 nsaves;
	int			 uses_phone;	/* a template has {phone} */
	int			 uses_agent;
};

static void	 problem(struct ld *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	 problem_at(struct ld *, const char *, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

static void
vproblem(struct ld *l, const char *fmt, va_list ap)
{
	struct flow_report	*r = l->r;
	char			 msg[FLOW_LINE_MAX];
	int			 n;

	r->total++;
	if (r->n == FLOW_REPORT_MAX)
		return;
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		(void)strlcpy(msg, "(message lost)", sizeof(msg));
	/* A cut line still names its path and most of the message. */
	n = snprintf(r->lines[r->n], FLOW_LINE_MAX, "%s: %s",
	    l->plen > 0 ? l->path : "(top)", msg);
	if (n < 0)
		(void)strlcpy(r->lines[r->n], "(line lost)", FLOW_LINE_MAX);
	r->n++;
}

/* Reports a problem at the current path. */
static void
problem(struct ld *l, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vproblem(l, fmt, ap);
	va_end(ap);
}

static size_t
enter(struct ld *l, const char *key)
{
	size_t	old = l->plen;
	size_t	n;

	n = strlcat(l->path, l->plen > 0 ? "." : "", sizeof(l->path));
	if (n < sizeof(l->path))
		n = strlcat(l->path, key, sizeof(l->path));
	/* A path cut at the line size still locates the problem. */
	l->plen = n < sizeof(l->path) ? n : sizeof(l->path) - 1;
	return old;
}

static size_t
enter_idx(struct ld *l, size_t i)
{
	size_t	old = l->plen;
	int	n;

	n = snprintf(l->path + l->plen, sizeof(l->path) - l->plen, "[%zu]", i);
	if (n < 0)
		l->path[l->plen] = '\0';
	else if ((size_t)n >= sizeof(l->path) - l->plen)
		l->plen = sizeof(l->path) - 1;
	else
		l->plen += (size_t)n;
	return old;
}

static void
leave(struct ld *l, size_t old)
{
	l->plen = old;
	l->path[old] = '\0';
}

/* Reports a problem at the current path plus key. */
static void
problem_at(struct ld *l, const char *key, const char *fmt, ...)
{
	va_list	ap;
	size_t	old;

	old = enter(l, key);
	va_start(ap, fmt);
	vproblem(l, fmt, ap);
	va_end(ap);
	leave(l, old);
}

static int
in_list(const char *s, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcmp(s, *list) == 0)
			return 1;
	return 0;
}

/* Index of name in names[0..n), or n. */
static size_t
name_index(const char *name, const char *const *names, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (strcmp(name, names[i]) == 0)
			break;
	return i;
}

/* "a, b or c" of names[0..n) into buf (cut: it is help text). */
static const char *
name_list(const char *const *names, size_t n, char *buf, size_t sz)
{
	size_t	i;

	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		if (i > 0 && strlcat(buf, i + 1 == n ? " or " : ", ", sz) >= sz)
			break;
		if (strlcat(buf, names[i], sz) >= sz)
			break;
	}
	return buf;
}

/* Reports every key of obj not in allowed (NULL-terminated or full). */
static void
only_keys(struct ld *l, json_t *obj, const char *const *allowed, size_t n)
{
	const char	*key;
	json_t		*v;
	size_t		 i;

	json_object_foreach(obj, key, v) {
		if (key[0] == '_')
			continue;
		for (i = 0; i < n && allowed[i] != NULL; i++)
			if (strcmp(key, allowed[i]) == 0)
				break;
		if (i == n || allowed[i] == NULL)
			problem_at(l, key, "unknown field");
	}
}

static int
is_id(const char *s)
{
	size_t	i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
			return 0;
	return i > 0 && i <= FLOW_ID_MAX;
}

static int
is_var(const char *s)
{
	size_t	i;

	if (!(s[0] >= 'a' && s[0] <= 'z'))
		return 0;
	for (i = 1; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return i <= MAX_VAR;
}

static int
is_blank(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
			return 0;
	return 1;
}

/*
 * Checks obj[key]: a string, not blank, at most max code points (0: any).
 * *out borrows it, or is NULL when absent or bad.  Returns 0 when fine or
 * absent and optional, -1 after reporting.
 */
static int
str_get(struct ld *l, json_t *obj, const char *key, int req, size_t max,
    const char **out)
{
	json_t	*v;
	size_t	 n;

	*out = NULL;
	if ((v = json_object_get(obj, key)) == NULL) {
		if (!req)
			return 0;
		problem_at(l, key, "is required");
		return -1;
	}
	if (!json_is_string(v)) {
		problem_at(l, key, "must be a string");
		return -1;
	}
	if (is_blank(json_string_value(v))) {
		problem_at(l, key, "is empty");
		return -1;
	}
	n = msg_codepoints(json_string_value(v), json_string_length(v));
	if (max > 0 && n > max) {
		problem_at(l, key, "is %zu characters; at most %zu fit", n,
		    max);
		return -1;
	}
	*out = json_string_value(v);
	return 0;
}

static int
known_name(struct ld *l, const char *name)
{
	size_t	i;

	if (in_list(name, builtins))
		return 1;
	for (i = 0; i < l->nsaves; i++)
		if (strcmp(l->saves[i], name) == 0)
			return 1;
	return 0;
}

/* Reports unknown or unclosed placeholders of template s at key. */
static void
tmpl_check(struct ld *l, const char *key, const char *s)
{
	const char	*end;
	char		 name[MAX_VAR + 1];
	size_t		 n;

	for (; (s = strchr(s, '{')) != NULL; s = end + 1) {
		if (s[1] == '{') {
			end = s + 1;
			continue;
		}
		if ((end = strchr(s, '}')) == NULL) {
			problem_at(l, key, "has a \"{\" without \"}\" (write "
			    "\"{{\" for a brace)");
			return;
		}
		n = (size_t)(end - s - 1);
		if (n == 0 || n > MAX_VAR) {
			problem_at(l, key, "has a bad placeholder");
			continue;
		}
		memcpy(name, s + 1, n);
		name[n] = '\0';
		if (!known_name(l, name))
			problem_at(l, key, "uses {%s}, which no node saves and "
			    "the bot does not set", name);
		else if (strcmp(name, "phone") == 0)
			l->uses_phone = 1;
	}
}

/* str_get() plus placeholder checks. */
static int
tmpl_get(struct ld *l, json_t *obj, const char *key, int req, size_t max,
    const char **out)
{
	if (str_get(l, obj, key, req, max, out) == -1)
		return -1;
	if (*out != NULL)
		tmpl_check(l, key, *out);
	return 0;
}

/* obj[key] as a node reference: *idx is the node or FLOW_NONE. */
static void
ref_get(struct ld *l, json_t *obj, const char *key, int req, size_t *idx)
{
	const char	*s;

	*idx = FLOW_NONE;
	if (str_get(l, obj, key, req, 0, &s) == -1 || s == NULL)
		return;
	if ((*idx = flow_node_find(l->f, s)) == FLOW_NONE)
		problem_at(l, key, "unknown node \"%.64s\"", s);
}

/* obj[key] as an integer in [min, max], or def when absent. */
static int
int_get(struct ld *l, json_t *obj, const char *key, int min, int max,
    int def)
{
	json_t		*v;
	json_int_t	 n;

	if ((v = json_object_get(obj, key)) == NULL)
		return def;
	if (!json_is_integer(v)) {
		problem_at(l, key, "must be an integer");
		return def;
	}
	n = json_integer_value(v);
	if (n < min || n > max) {
		problem_at(l, key, "is %lld; expected %d to %d", (long long)n,
		    min, max);
		return def;
	}
	return (int)n;
}

/*
 * A word or phrase as messages are compared: no leading, trailing or
 * double white space, at most MAX_PHRASE bytes.
 */
static int
is_phrase(const char *s)
{
	size_t	i, n = strlen(s);

	if (n == 0 || n > MAX_PHRASE || s[0] == ' ' || s[n - 1] == ' ')
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] == '\t' || s[i] == '\n' || s[i] == '\r')
			return 0;
		if (s[i] == ' ' && s[i + 1] == ' ')
			return 0;
	}
	return 1;
}

/* words.menu or words.back: 1-16 phrases; dupes checked by the caller. */
static void
words_get(struct ld *l, json_t *w, const char *key, const char **out,
    size_t *n)
{
	json_t	*a, *v;
	size_t	 i, old, old2;

	if ((a = json_object_get(w, key)) == NULL)
		return;
	old = enter(l, key);
	if (!json_is_array(a) || json_array_size(a) == 0 ||
	    json_array_size(a) > FLOW_WORDS_MAX) {
		problem(l, "must be a list of 1 to %d words", FLOW_WORDS_MAX);
		leave(l, old);
		return;
	}
	*n = 0;
	json_array_foreach(a, i, v) {
		old2 = enter_idx(l, i);
		if (!json_is_string(v) || !is_phrase(json_string_value(v)))
			problem(l, "must be a word or phrase of at most %d "
			    "bytes, single spaces", MAX_PHRASE);
		else
			out[(*n)++] = json_string_value(v);
		leave(l, old2);
	}
	leave(l, old);
}

static void
load_words(struct ld *l, json_t *root)
{
	static const char *const keys[] = { "menu", "back", NULL };
	struct flow	*f = l->f;
	json_t		*w;
	const char	*all[2 * FLOW_WORDS_MAX];
	size_t		 i, j, n, old;

	for (i = 0; i < sizeof(default_menu_words) / sizeof(char *); i++)
		f->menu_words[f->nmenu_words++] = default_menu_words[i];
	for (i = 0; i < sizeof(default_back_words) / sizeof(char *); i++)
		f->back_words[f->nback_words++] = default_back_words[i];
	if ((w = json_object_get(root, "words")) == NULL)
		return;
	old = enter(l, "words");
	if (!json_is_object(w)) {
		problem(l, "must be an object");
		leave(l, old);
		return;
	}
	only_keys(l, w, keys, 3);
	words_get(l, w, "menu", f->menu_words, &f->nmenu_words);
	words_get(l, w, "back", f->back_words, &f->nback_words);
	n = 0;
	for (i = 0; i < f->nmenu_words; i++)
		all[n++] = f->menu_words[i];
	for (i = 0; i < f->nback_words; i++)
		all[n++] = f->back_words[i];
	for (i = 0; i < n; i++)
		for (j = 0; j < i; j++)
			if (strcasecmp(all[i], all[j]) == 0)
				problem(l, "duplicate word \"%s\"", all[i]);
	leave(l, old);
}

static void
load_texts(struct ld *l, json_t *root)
{
	struct flow	*f = l->f;
	json_t		*t;
	const char	*s;
	size_t		 i, old;

	for (i = 0; i < FLOW_TXT__MAX; i++)
		f->texts[i] = text_defaults[i];
	if ((t = json_object_get(root, "texts")) == NULL)
		return;
	old = enter(l, "texts");
	if (!json_is_object(t))
		problem(l, "must be an object");
	else {
		only_keys(l, t, flow_text_names, FLOW_TXT__MAX);
		for (i = 0; i < FLOW_TXT__MAX; i++)
			if (tmpl_get(l, t, flow_text_names[i], 0, text_max[i],
			    &s) == 0 && s != NULL)
				f->texts[i] = s;
		s = f->texts[FLOW_TXT_LIST_BUTTON];
		if (strchr(s, '{') != NULL)
			problem_at(l, "list_button", "takes no placeholders");
	}
	leave(l, old);
}

/* A day name at s ("Mon", any case): its index, or -1. */
static int
day_parse(const char *s)
{
	int	i;

	for (i = 0; i < 7; i++)
		if (strncasecmp(s, short_days[i], 3) == 0)
			return i;
	return -1;
}

/* "HH:MM" at s: minutes of the day (24:00 is 1440), or -1. */
static int
hhmm_parse(const char *s)
{
	int	h, m;

	if (!(s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9' &&
	    s[2] == ':' && s[3] >= '0' && s[3] <= '5' && s[4] >= '0' &&
	    s[4] <= '9'))
		return -1;
	h = (s[0] - '0') * 10 + (s[1] - '0');
	m = (s[3] - '0') * 10 + (s[4] - '0');
	if (h > 24 || (h == 24 && m != 0))
		return -1;
	return h * 60 + m;
}

/*
 * "Mon-Fri 08:00-17:00" or "Sat 09:00-12:00" into days d1..d2 (wrapping
 * past Sunday) and minutes [from, to); to < from runs past midnight.
 * Returns 0, or -1 when it is not that shape.
 */
static int
hours_parse(const char *s, int *d1, int *d2, int *from, int *to)
{
	if ((*d1 = day_parse(s)) == -1)
		return -1;
	s += 3;
	*d2 = *d1;
	if (*s == '-') {
		if ((*d2 = day_parse(s + 1)) == -1)
			return -1;
		s += 4;
	}
	if (*s != ' ')
		return -1;
	while (*s == ' ')
		s++;
	if ((*from = hhmm_parse(s)) == -1 || s[5] != '-' ||
	    (*to = hhmm_parse(s + 6)) == -1 || s[11] != '\0')
		return -1;
	if (*from == 1440 || *from == *to)
		return -1;
	return 0;
}

static void
hours_add(struct ld *l, const char *s)
{
	struct flow	*f = l->f;
	int		 d1, d2, from, to, d;

	if (hours_parse(s, &d1, &d2, &from, &to) == -1) {
		problem(l, "is \"%.40s\"; expected a day or days and hours "
		    "like \"Mon-Fri 08:00-17:00\" or \"Sat 09:00-12:00\"", s);
		return;
	}
	for (d = d1;; d = (d + 1) % 7) {
		if (f->nranges == FLOW_RANGES_MAX) {
			problem(l, "makes more than %d daily ranges in all",
			    FLOW_RANGES_MAX);
			return;
		}
		f->ranges[f->nranges].from = d * 1440 + from;
		f->ranges[f->nranges].to = d * 1440 +
		    (to > from ? to : to + 1440);
		f->nranges++;
		if (d == d2)
			break;
	}
	if (f->hours_text[0] != '\0')
		(void)strlcat(f->hours_text, ", ", sizeof(f->hours_text));
	/* Display text: 16 entries of 20 bytes fit in 512. */
	(void)strlcat(f->hours_text, s, sizeof(f->hours_text));
}

static void
load_hours(struct ld *l, json_t *root)
{
	static const char *const keys[] = { "utc_offset_minutes", "open",
	    "day_names", NULL };
	struct flow	*f = l->f;
	json_t		*h, *a, *v;
	size_t		 i, old, old2, old3;

	for (i = 0; i < 7; i++)
		f->day_names[i] = default_days[i];
	if ((h = json_object_get(root, "hours")) == NULL)
		return;
	old = enter(l, "hours");
	if (!json_is_object(h)) {
		problem(l, "must be an object");
		leave(l, old);
		return;
	}
	only_keys(l, h, keys, 4);
	/* UTC-12:00 to UTC+14:00 are the offsets in use. */
	f->utc_offset = int_get(l, h, "utc_offset_minutes", -720, 840, 0);
	a = json_object_get(h, "open");
	old2 = enter(l, "open");
	if (a == NULL)
		problem(l, "is required");
	else if (!json_is_array(a) || json_array_size(a) == 0 ||
	    json_array_size(a) > MAX_OPEN)
		problem(l, "must be a list of 1 to %d ranges", MAX_OPEN);
	else
		json_array_foreach(a, i, v) {
			old3 = enter_idx(l, i);
			if (!json_is_string(v))
				problem(l, "must be a string");
			else
				hours_add(l, json_string_value(v));
			leave(l, old3);
		}
	leave(l, old2);
	if ((a = json_object_get(h, "day_names")) != NULL) {
		old2 = enter(l, "day_names");
		if (!json_is_array(a) || json_array_size(a) != 7)
			problem(l, "must list 7 names, Monday first");
		else
			json_array_foreach(a, i, v) {
				old3 = enter_idx(l, i);
				if (!json_is_string(v) ||
				    json_string_length(v) == 0 ||
				    json_string_length(v) > MAX_DAY_NAME)
					problem(l, "must be a name of 1 to %d "
					    "bytes", MAX_DAY_NAME);
				else
					f->day_names[i] = json_string_value(v);
				leave(l, old3);
			}
		leave(l, old2);
	}
	leave(l, old);
}

/*
 * The agent's endpoint: a strict https URL, or plain http to this
 * machine only (an agent on the same host), where nothing crosses a
 * network.  The URL is parsed (url.c), so "http://localhost:80@evil/"
 * is the host evil, and refused.  Whether this machine or a private
 * address may be called at all is the worker's setting
 * (WA_ALLOW_LOCAL_URLS), checked when it loads the flow.
 */
static int
agent_url_ok(const char *s)
{
	struct url	 u;
	const char	*why;

	if (url_parse(s, &u, &why) == -1)
		return 0;
	return u.https || url_is_loopback(&u);
}

static void
load_top(struct ld *l, json_t *root)
{
	struct flow	*f = l->f;
	const char	*s;
	json_t		*v;
	size_t		 i;

	if ((v = json_object_get(root, "version")) != NULL &&
	    !(json_is_integer(v) && json_integer_value(v) == 1))
		problem_at(l, "version", "must be 1");
	if (str_get(l, root, "phone", 0, MAX_PHONE, &s) == 0 && s != NULL) {
		for (i = 0; s[i] != '\0'; i++)
			if (strchr("0123456789+-() ", s[i]) == NULL)
				break;
		if (s[i] != '\0')
			problem_at(l, "phone", "may hold only digits, spaces "
			    "and + - ( )");
		else
			f->phone = s;
	}
	if (str_get(l, root, "agent_url", 0, MAX_URL, &s) == 0 && s != NULL) {
		if (!agent_url_ok(s))
			problem_at(l, "agent_url", "must be an https:// URL "
			    "without user@ (http:// only to this machine: "
			    "127.0.0.1, localhost)");
		else
			f->agent_url = s;
	}
}

/* Adds name to the variables nodes save (once). */
static void
save_add(struct ld *l, const char *name)
{
	size_t	i;

	for (i = 0; i < l->nsaves; i++)
		if (strcmp(l->saves[i], name) == 0)
			return;
	if (l->nsaves < FLOW_NODES_MAX)
		l->saves[l->nsaves++] = name;
}

/* First pass over one node: its kind and what it saves. */
static void
node_scan(struct ld *l, struct flow_node *nd, json_t *v)
{
	char		 names[128];
	const char	*s;
	size_t		 k;

	nd->kind = FLOW_KIND__MAX;	/* unknown until read */
	nd->next = nd->parent = FLOW_NONE;
	if (!is_id(nd->id))
		problem(l, "node ids are 1 to %d letters, digits, _ or -",
		    FLOW_ID_MAX);
	if (!json_is_object(v)) {
		problem(l, "must be an object");
		return;
	}
	if (str_get(l, v, "kind", 1, 0, &s) == -1)
		return;
	k = name_index(s, flow_kind_names, FLOW_KIND__MAX);
	if (k == FLOW_KIND__MAX) {
		problem_at(l, "kind", "unknown kind \"%.40s\"; expected %s", s,
		    name_list(flow_kind_names, FLOW_KIND__MAX, names,
		    sizeof(names)));
		return;
	}
	nd->kind = (enum flow_kind)k;
	if (nd->kind != FLOW_BUTTONS && nd->kind != FLOW_LIST &&
	    nd->kind != FLOW_PROMPT)
		return;
	if (str_get(l, v, "save", nd->kind == FLOW_PROMPT, 0, &s) == -1 ||
	    s == NULL)
		return;
	if (!is_var(s))
		problem_at(l, "save", "must be a variable name: a-z, then "
		    "a-z, 0-9 or _, at most %d", MAX_VAR);
	else if (in_list(s, reserved))
		problem_at(l, "save", "\"%s\" is set by the bot; choose "
		    "another name", s);
	else {
		nd->save = s;
		save_add(l, s);
	}
}

/* Counts the non-comment keys of obj. */
static size_t
count_keys(json_t *obj)
{
	const char	*key;
	json_t		*v;
	size_t		 n = 0;

	json_object_foreach(obj, key, v)
		if (key[0] != '_')
			n++;
	return n;
}

/* First pass: allocates the nodes, reads ids, kinds and saves. */
static int
scan_nodes(struct ld *l, json_t *nodes)
{
	struct flow	*f = l->f;
	const char	*key;
	json_t		*v;
	size_t		 n, old, old2;

	old = enter(l, "nodes");
	n = count_keys(nodes);
	if (n == 0 || n > FLOW_NODES_MAX) {
		problem(l, "must hold 1 to %d nodes", FLOW_NODES_MAX);
		leave(l, old);
		return 0;
	}
	if ((f->nodes = calloc(n, sizeof(*f->nodes))) == NULL) {
		problem(l, "out of memory");
		leave(l, old);
		return -1;
	}
	json_object_foreach(nodes, key, v) {
		if (key[0] == '_')
			continue;
		f->nodes[f->nnodes].id = key;
		old2 = enter(l, key);
		node_scan(l, &f->nodes[f->nnodes], v);
		leave(l, old2);
		f->nnodes++;
	}
	leave(l, old);
	return 0;
}

/* An option's "action" and "goto", and whether they go together. */
static void
option_act(struct ld *l, struct flow_option *op, json_t *o)
{
	char		 names[128];
	const char	*s;
	size_t		 a;

	ref_get(l, o, "goto", 0, &op->go);
	if (str_get(l, o, "action", 0, 0, &s) == -1)
		return;
	if (s != NULL) {
		a = name_index(s, flow_act_names, FLOW_ACT__MAX);
		if (a == FLOW_ACT__MAX) {
			problem_at(l, "action", "unknown action \"%.40s\"; "
			    "expected %s", s, name_list(flow_act_names,
			    FLOW_ACT__MAX, names, sizeof(names)));
			return;
		}
		op->act = (enum flow_act)a;
	}
	if (op->act == FLOW_ACT_HAND_OFF_AGENT)
		l->uses_agent = 1;
	if (op->act == FLOW_ACT_GOTO && json_object_get(o, "goto") == NULL)
		problem(l, "needs \"goto\" or \"action\"");
	else if (op->act != FLOW_ACT_GOTO &&
	    op->act != FLOW_ACT_TICKET_CREATE &&
	    json_object_get(o, "goto") != NULL)
		problem_at(l, "goto", "cannot go with action \"%s\"",
		    flow_act_names[op->act]);
}

/* One option of nd at options[i]. */
static void
option_load(struct ld *l, struct flow_node *nd, size_t i, json_t *o)
{
	static const char *const lkeys[] = { "id", "title", "description",
	    "goto", "action", NULL };
	static const char *const bkeys[] = { "id", "title", "goto", "action",
	    NULL };
	struct flow_option *op = &nd->opts[i];
	int		 list = nd->kind == FLOW_LIST;
	size_t		 j;

	op->go = FLOW_NONE;
	op->act = FLOW_ACT_GOTO;
	if (!json_is_object(o)) {
		problem(l, "must be an object");
		return;
	}
	only_keys(l, o, list ? lkeys : bkeys, 6);
	if (str_get(l, o, "id", 1, 0, &op->id) == 0) {
		if (!is_id(op->id)) {
			problem_at(l, "id", "option ids are 1 to %d letters, "
			    "digits, _ or -", FLOW_ID_MAX);
			op->id = NULL;
		} else if (strlen(nd->id) + 1 + strlen(op->id) > MAX_WIRE_ID)
			problem_at(l, "id", "with its node id makes a reply id "
			    "over %d bytes", MAX_WIRE_ID);
	}
	(void)str_get(l, o, "title", 1, list ? MAX_ROW_TITLE : MAX_BTN_TITLE,
	    &op->title);
	if (op->title != NULL && strchr(op->title, '{') != NULL)
		problem_at(l, "title", "titles take no placeholders");
	if (list)
		(void)str_get(l, o, "description", 0, MAX_ROW_DESC,
		    &op->description);
	option_act(l, op, o);
	/* Meta wants unique ids and titles; typed titles must be too. */
	for (j = 0; j < i; j++) {
		if (op->id != NULL && nd->opts[j].id != NULL &&
		    strcmp(op->id, nd->opts[j].id) == 0)
			problem_at(l, "id", "duplicate id \"%s\" (also "
			    "options[%zu])", op->id, j);
		if (op->title != NULL && nd->opts[j].title != NULL &&
		    strcasecmp(op->title, nd->opts[j].title) == 0)
			problem_at(l, "title", "duplicate title \"%s\" (also "
			    "options[%zu])", op->title, j);
	}
}

static int
options_load(struct ld *l, struct flow_node *nd, json_t *v)
{
	json_t		*a, *o;
	size_t		 i, min, max, old, old2;

	min = nd->kind == FLOW_BUTTONS || nd->kind == FLOW_LIST ||
	    nd->kind == FLOW_PHOTOS ? 1 : 0;
	max = nd->kind == FLOW_LIST ? MAX_ROWS : MAX_BUTTONS;
	if ((a = json_object_get(v, "options")) == NULL) {
		if (min > 0)
			problem_at(l, "options", "is required");
		return 0;
	}
	old = enter(l, "options");
	if (!json_is_array(a)) {
		problem(l, "must be a list");
		leave(l, old);
		return 0;
	}
	nd->nopts = json_array_size(a);
	if (nd->nopts < min)
		problem(l, "needs at least %zu option", min);
	else if (nd->nopts > max && nd->kind == FLOW_LIST)
		problem(l, "has %zu rows; a list takes at most %d (reference "
		    "7.2)", nd->nopts, MAX_ROWS);
	else if (nd->nopts > max)
		problem(l, "has %zu buttons; a %s node takes at most %d reply "
		    "buttons (reference 7.2); use a list", nd->nopts,
		    flow_kind_names[nd->kind], MAX_BUTTONS);
	if (nd->nopts > 0 &&
	    (nd->opts = calloc(nd->nopts, sizeof(*nd->opts))) == NULL) {
		nd->nopts = 0;
		problem(l, "out of memory");
		leave(l, old);
		return -1;
	}
	json_array_foreach(a, i, o) {
		old2 = enter_idx(l, i);
		option_load(l, nd, i, o);
		leave(l, old2);
	}
	leave(l, old);
	return 0;
}

/* Body size where this node's text goes (reference 7.2). */
static size_t
body_max(const struct flow_node *nd)
{
	if (nd->kind == FLOW_BUTTONS)
		return MAX_BTN_BODY;
	if (nd->kind == FLOW_LIST || nd->kind == FLOW_TEXT)
		return MAX_LIST_BODY;
	return nd->nopts > 0 ? MAX_BTN_BODY : MAX_TEXT;
}

static void
lookup_load(struct ld *l, struct flow_node *nd, json_t *v)
{
	char		 names[160];
	const char	*s;
	size_t		 k, i;
	int		 needs_arg;

	if (str_get(l, v, "lookup", 1, 0, &s) == 0) {
		k = name_index(s, flow_lookup_names, FLOW_LK__MAX);
		if (k == FLOW_LK__MAX) {
			problem_at(l, "lookup", "unknown lookup \"%.40s\"; "
			    "expected %s", s, name_list(flow_lookup_names,
			    FLOW_LK__MAX, names, sizeof(names)));
			return;
		}
		nd->lookup = (enum flow_lookup)k;
	} else
		return;
	needs_arg = nd->lookup == FLOW_LK_ORDER ||
	    nd->lookup == FLOW_LK_SCHEDULE_ORDER ||
	    nd->lookup == FLOW_LK_TICKET;
	if (str_get(l, v, "arg", needs_arg, 0, &nd->arg) == -1 ||
	    nd->arg == NULL)
		return;
	if (!needs_arg) {
		problem_at(l, "arg", "lookup \"%s\" takes no arg",
		    flow_lookup_names[nd->lookup]);
		return;
	}
	for (i = 0; i < l->nsaves; i++)
		if (strcmp(l->saves[i], nd->arg) == 0)
			break;
	if (i == l->nsaves && strcmp(nd->arg, "ticket") != 0)
		problem_at(l, "arg", "no node saves \"%.40s\"", nd->arg);
}

/* Second pass over one node: everything its kind takes. */
static int
node_load(struct ld *l, struct flow_node *nd, json_t *v)
{
	json_int_t	 n;

	if (nd->kind == FLOW_KIND__MAX)
		return 0;	/* reported by node_scan() */
	only_keys(l, v, node_keys[nd->kind], 10);
	ref_get(l, v, "parent", 0, &nd->parent);
	if (nd->kind != FLOW_TEXT && options_load(l, nd, v) == -1)
		return -1;
	(void)tmpl_get(l, v, "body", 1, body_max(nd), &nd->body);
	(void)tmpl_get(l, v, "hint", 0, MAX_TEXT, &nd->hint);
	if (nd->kind == FLOW_BUTTONS || nd->kind == FLOW_LIST) {
		(void)tmpl_get(l, v, "header", 0, MAX_HEADER, &nd->header);
		(void)tmpl_get(l, v, "footer", 0, MAX_FOOTER, &nd->footer);
	}
	if (nd->kind == FLOW_LIST &&
	    str_get(l, v, "button", 0, MAX_LIST_BTN, &nd->button) == 0 &&
	    nd->button != NULL && strchr(nd->button, '{') != NULL)
		problem_at(l, "button", "takes no placeholders");
	if (nd->kind == FLOW_TEXT || nd->kind == FLOW_PROMPT ||
	    nd->kind == FLOW_LOOKUP)
		ref_get(l, v, "next", nd->kind == FLOW_PROMPT, &nd->next);
	if (nd->kind == FLOW_PROMPT)
		nd->max = (size_t)int_get(l, v, "max", 1, MAX_PROMPT,
		    DEF_PROMPT);
	if (nd->kind == FLOW_PHOTOS) {
		n = int_get(l, v, "max", 1, MAX_PHOTOS, DEF_PHOTOS);
		nd->max = (size_t)n;
		(void)tmpl_get(l, v, "received", 0, MAX_BTN_BODY,
		    &nd->received);
	}
	if (nd->kind == FLOW_LOOKUP) {
		lookup_load(l, nd, v);
		(void)tmpl_get(l, v, "not_found", 1, body_max(nd),
		    &nd->not_found);
	}
	return 0;
}

static int
load_nodes(struct ld *l, json_t *nodes)
{
	struct flow	*f = l->f;
	const char	*key;
	json_t		*v;
	size_t		 i = 0, old, old2;
	int		 rc = 0;

	old = enter(l, "nodes");
	json_object_foreach(nodes, key, v) {
		if (key[0] == '_')
			continue;
		old2 = enter(l, key);
		if (i < f->nnodes && node_load(l, &f->nodes[i], v) == -1)
			rc = -1;
		i++;
		leave(l, old2);
		if (rc == -1)
			break;
	}
	leave(l, old);
	return rc;
}

static int
load_keywords(struct ld *l, json_t *root)
{
	static const char *const keys[] = { "words", "goto", "reply", NULL };
	struct flow	*f = l->f;
	struct flow_keyword *kw;
	json_t		*a, *rule, *w, *v;
	const char	*reply;
	size_t		 i, j, k, n = 0, go, old, old2, old3, old4;

	if ((a = json_object_get(root, "keywords")) == NULL)
		return 0;
	old = enter(l, "keywords");
	if (!json_is_array(a)) {
		problem(l, "must be a list");
		leave(l, old);
		return 0;
	}
	json_array_foreach(a, i, rule)
		if ((w = json_object_get(rule, "words")) != NULL &&
		    json_is_array(w))
			n += json_array_size(w);
	if (n > MAX_KEYWORDS) {
		problem(l, "has %zu words in all; at most %d", n, MAX_KEYWORDS);
		leave(l, old);
		return 0;
	}
	if (n > 0 && (f->kws = calloc(n, sizeof(*f->kws))) == NULL) {
		problem(l, "out of memory");
		leave(l, old);
		return -1;
	}
	json_array_foreach(a, i, rule) {
		old2 = enter_idx(l, i);
		if (!json_is_object(rule)) {
			problem(l, "must be an object");
			leave(l, old2);
			continue;
		}
		only_keys(l, rule, keys, 4);
		ref_get(l, rule, "goto", 0, &go);
		(void)tmpl_get(l, rule, "reply", 0, MAX_TEXT, &reply);
		if ((json_object_get(rule, "goto") == NULL) ==
		    (json_object_get(rule, "reply") == NULL))
			problem(l, "needs either \"goto\" or \"reply\"");
		w = json_object_get(rule, "words");
		old3 = enter(l, "words");
		if (w == NULL || !json_is_array(w) || json_array_size(w) == 0)
			problem(l, "must be a list of words or phrases");
		else
			json_array_foreach(w, j, v) {
				old4 = enter_idx(l, j);
				if (!json_is_string(v) ||
				    !is_phrase(json_string_value(v))) {
					problem(l, "must be a word or phrase "
					    "of at most %d bytes, single "
					    "spaces", MAX_PHRASE);
					leave(l, old4);
					continue;
				}
				for (k = 0; k < f->nkws; k++)
					if (strcasecmp(f->kws[k].phrase,
					    json_string_value(v)) == 0)
						problem(l, "duplicate keyword "
						    "\"%s\"", f->kws[k].phrase);
				kw = &f->kws[f->nkws++];
				kw->phrase = json_string_value(v);
				kw->go = go;
				kw->reply = reply;
				leave(l, old4);
			}
		leave(l, old3);
		leave(l, old2);
	}
	leave(l, old);
	return 0;
}

static int
is_menu(const struct flow_node *nd)
{
	return nd->kind == FLOW_BUTTONS || nd->kind == FLOW_LIST;
}

/*
 * Walks the nodes from start, then from each keyword target: reports the
 * nodes never reached and gives each node without "parent" the nearest
 * menu it is reached from (start for keyword targets).
 */
static int
link_nodes(struct ld *l)
{
	struct flow	*f = l->f;
	struct flow_node *u;
	size_t		*queue, head = 0, tail = 0, i, j, v, old;
	char		*seen;

	queue = calloc(f->nnodes, sizeof(*queue));
	seen = calloc(f->nnodes, 1);
	if (queue == NULL || seen == NULL) {
		free(queue);
		free(seen);
		problem(l, "out of memory");
		return -1;
	}
	seen[f->start] = 1;
	queue[tail++] = f->start;
	if (f->nodes[f->start].parent == FLOW_NONE)
		f->nodes[f->start].parent = f->start;
	for (j = 0; j <= f->nkws; j++) {
		/* Everything reached from start first, then each keyword. */
		while (head < tail) {
			u = &f->nodes[queue[head++]];
			for (i = 0; i <= u->nopts; i++) {
				v = i < u->nopts ? u->opts[i].go : u->next;
				if (v == FLOW_NONE || seen[v])
					continue;
				seen[v] = 1;
				queue[tail++] = v;
				if (f->nodes[v].parent == FLOW_NONE)
					f->nodes[v].parent = is_menu(u) ?
					    (size_t)(u - f->nodes) : u->parent;
			}
		}
		if (j == f->nkws || (v = f->kws[j].go) == FLOW_NONE || seen[v])
			continue;
		seen[v] = 1;
		queue[tail++] = v;
		if (f->nodes[v].parent == FLOW_NONE)
			f->nodes[v].parent = f->start;
	}
	old = enter(l, "nodes");
	for (i = 0; i < f->nnodes; i++)
		if (!seen[i])
			problem_at(l, f->nodes[i].id, "unreachable from start "
			    "or any keyword");
	leave(l, old);
	free(queue);
	free(seen);
	return 0;
}

/* Does nd move on by itself after it is shown (to next or parent)? */
static int
moves_on(const struct flow_node *nd)
{
	return nd->kind == FLOW_TEXT ||
	    (nd->kind == FLOW_LOOKUP && nd->nopts == 0);
}

/*
 * Reports nodes that start a run of more than FLOW_CHAIN_MAX nodes shown
 * for one message through "next" (a loop of text nodes is one): the bot
 * would cut it.
 */
static void
check_chains(struct ld *l)
{
	struct flow		*f = l->f;
	const struct flow_node	*nd;
	size_t			 i, n, old;

	old = enter(l, "nodes");
	for (i = 0; i < f->nnodes; i++) {
		nd = &f->nodes[i];
		for (n = 1; n <= FLOW_CHAIN_MAX && moves_on(nd) &&
		    nd->next != FLOW_NONE; n++)
			nd = &f->nodes[nd->next];
		if (n > FLOW_CHAIN_MAX)
			problem_at(l, f->nodes[i].id, "shows more than %d "
			    "nodes in a row through \"next\" (or loops)",
			    FLOW_CHAIN_MAX);
	}
	leave(l, old);
}

/* Checks that hold across the file once everything is read. */
static void
check_uses(struct ld *l)
{
	if (l->uses_phone && l->f->phone == NULL)
		problem_at(l, "phone", "is required: a template uses {phone}");
	if (l->uses_agent && l->f->agent_url == NULL)
		problem_at(l, "agent_url", "is required: an option hands off "
		    "to the agent");
}

static int
load(struct ld *l, json_t *root)
{
	static const char *const keys[] = { "version", "start", "phone",
	    "agent_url", "hours", "texts", "words", "keywords", "nodes", NULL };
	struct flow	*f = l->f;
	json_t		*nodes;
	const char	*s;

	only_keys(l, root, keys, 10);
	load_top(l, root);
	load_hours(l, root);
	load_words(l, root);
	if ((nodes = json_object_get(root, "nodes")) == NULL)
		problem_at(l, "nodes", "is required");
	else if (!json_is_object(nodes))
		problem_at(l, "nodes", "must be an object");
	else if (scan_nodes(l, nodes) == -1)
		return -1;
	load_texts(l, root);
	f->start = FLOW_NONE;
	if (str_get(l, root, "start", 1, 0, &s) == 0) {
		if ((f->start = flow_node_find(f, s)) == FLOW_NONE)
			problem_at(l, "start", "unknown node \"%.64s\"", s);
		else if (!is_menu(&f->nodes[f->start]) &&
		    f->nodes[f->start].kind != FLOW_KIND__MAX)
			problem_at(l, "start", "must be a buttons or list "
			    "node");
	}
	if (f->nnodes > 0 && load_nodes(l, nodes) == -1)
		return -1;
	if (load_keywords(l, root) == -1)
		return -1;
	/* References that did not resolve are left out of the walk. */
	if (f->start != FLOW_NONE && link_nodes(l) == -1)
		return -1;
	check_chains(l);
	check_uses(l);
	return 0;
}

/* See flow.h. */
struct flow *
flow_load(const char *json, size_t len, struct flow_report *r)
{
	struct ld	 l;
	struct flow	*f;
	json_t		*root;
	json_error_t	 je;

	memset(r, 0, sizeof(*r));
	memset(&l, 0, sizeof(l));
	l.r = r;
	if (json == NULL || len > FLOW_FILE_MAX) {
		problem(&l, "the file is over %d bytes", FLOW_FILE_MAX);
		return NULL;
	}
	/* Duplicate keys would hide a node or a field: refuse them. */
	if ((root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je)) ==
	    NULL) {
		problem(&l, "line %d, column %d: %s", je.line, je.column,
		    je.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		problem(&l, "the flow must be a JSON object");
		json_decref(root);
		return NULL;
	}
	if ((f = calloc(1, sizeof(*f))) == NULL) {
		problem(&l, "out of memory");
		json_decref(root);
		return NULL;
	}
	f->root = root;
	l.f = f;
	if (load(&l, root) == -1 || r->total > 0) {
		flow_free(f);
		return NULL;
	}
	return f;
}

/* See flow.h. */
void
flow_free(struct flow *f)
{
	size_t	i;

	if (f == NULL)
		return;
	for (i = 0; i < f->nnodes; i++)
		free(f->nodes[i].opts);
	free(f->nodes);
	free(f->kws);
	json_decref(f->root);
	free(f);
}

/* See flow.h. */
size_t
flow_node_find(const struct flow *f, const char *id)
{
	size_t	i;

	for (i = 0; i < f->nnodes; i++)
		if (strcmp(f->nodes[i].id, id) == 0)
			return i;
	return FLOW_NONE;
}

/* Splits t (epoch seconds) into local minute of the week and seconds. */
static void
local_split(const struct flow *f, int64_t t, int *mow, int *sec)
{
	int64_t	local = t + (int64_t)f->utc_offset * 60, days, sod;

	days = local / 86400;
	if (local % 86400 < 0)
		days--;
	sod = local - days * 86400;
	/* 1970-01-01 was a Thursday: 3 days after a Monday. */
	*mow = (int)(((days + 3) % 7 + 7) % 7) * 1440 + (int)(sod / 60);
	*sec = (int)(sod % 60);
}

/* See flow.h. */
int
flow_is_open(const struct flow *f, int64_t now)
{
	size_t	i;
	int	m, s;

	if (f->nranges == 0)
		return 1;
	local_split(f, now, &m, &s);
	for (i = 0; i < f->nranges; i++)
		if ((m >= f->ranges[i].from && m < f->ranges[i].to) ||
		    (m + WEEK_MIN >= f->ranges[i].from &&
		    m + WEEK_MIN < f->ranges[i].to))
			return 1;
	return 0;
}

/* See flow.h. */
int64_t
flow_next_open(const struct flow *f, int64_t now)
{
	size_t	i;
	int	m, s, d, best = WEEK_MIN;

	if (flow_is_open(f, now))
		return now;
	local_split(f, now, &m, &s);
	for (i = 0; i < f->nranges; i++) {
		d = ((f->ranges[i].from - m) % WEEK_MIN + WEEK_MIN) % WEEK_MIN;
		if (d > 0 && d < best)
			best = d;
	}
	return now - s + (int64_t)best * 60;
}

/* See flow.h. */
int
flow_when(const struct flow *f, int64_t t, char *buf, size_t sz)
{
	int	m, s, n;

	local_split(f, t, &m, &s);
	n = snprintf(buf, sz, "%s %02d:%02d", f->day_names[m / 1440],
	    m % 1440 / 60, m % 60);
	return n < 0 || (size_t)n >= sz ? -1 : 0;
}

/* See flow.h. */
int
flow_tz(const struct flow *f, char *buf, size_t sz)
{
	int	off = f->utc_offset < 0 ? -f->utc_offset : f->utc_offset;
	int	n;

	n = snprintf(buf, sz, "UTC%c%02d:%02d", f->utc_offset < 0 ? '-' : '+',
	    off / 60, off % 60);
	return n < 0 || (size_t)n >= sz ? -1 : 0;
}
