/*
 * bot.c: the chatbot's state machine.  It reads one inbound message in the
 * light of the contact's state and the flow (flow.c), and answers with send
 * requests of Meta's shape (reference 7.2): reply buttons for up to three
 * options, a list beyond, plain text where an interactive message cannot
 * carry the content.  Every reply is checked with msg_parse() before it is
 * handed out; an interactive one that fails falls back to numbered text.
 * Pure: no I/O, no globals; business data comes through struct bot_data.
 *
 * How a message is read, first match wins:
 *   1. a tapped button or row ("node:option" reply id), from any message;
 *   2. an image while collecting photos;
 *   3. a menu word ("menu", "hi"...) or back word, as the whole message;
 *   4. an option of the current node by its number ("2") or title;
 *   5. a prompt's answer;
 *   6. a keyword anywhere in the message;
 *   7. otherwise the hint, once, then the current node again.
 * A new contact, or one idle past the timeout, starts at the main menu;
 * then only taps, titles and keywords count, not numbers or answers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/string.h>
#include <jansson.h>

#include "bot.h"
#include "buf.h"
#include "flow.h"
#include "msg.h"

#define MAX_TEXT	4096		/* text body: reference 7.2 */
#define MAX_BTN_BODY	1024		/* button body: 7.2 */
#define MAX_LIST_BODY	4096		/* list body: 7.2 */
#define MAX_BUTTONS	3		/* reply buttons: 7.2 */
#define EXPAND_MAX	(16 * 1024)	/* bytes of an expanded template */
#define NAME_MAX_	32		/* placeholder name bytes */
#define WIRE_ID_MAX	(2 * FLOW_ID_MAX + 2)

const char *const bot_act_names[BOT_ACT__MAX] = {
	"none",			/* BOT_ACT_NONE */
	"record",		/* BOT_ACT_RECORD */
	"hand_off_person",	/* BOT_ACT_HAND_OFF_PERSON */
	"hand_off_agent",	/* BOT_ACT_HAND_OFF_AGENT */
	"ticket_create",	/* BOT_ACT_TICKET_CREATE */
};

/* Message types the bot leaves unanswered, state untouched (reference 5). */
static const char *const ignored_types[] = { "reaction", "system", "edit",
    "revoke", NULL };

/* A value a template may name besides the contact's and the flow's. */
struct field {
	const char	*name;
	const char	*value;
};

struct ctx {
	const struct bot_in	*in;
	const struct flow	*f;
	struct bot_out		*out;
	json_t			*vars;		/* contact's values, owned */
	size_t			 node;		/* where the chat rests */
	int			 hinted;
	int			 fresh;		/* new or expired: at start */
	char			 text[BOT_TEXT_MAX + 1]; /* inbound, cut */
	char			 norm[BOT_TEXT_MAX + 1]; /* normalised; "" */
};

static int	enter(struct ctx *, size_t, int, int);

static int
in_list(const char *s, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcmp(s, *list) == 0)
			return 1;
	return 0;
}

static char
lower(char ch)
{
	return ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
}

static int
is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' ||
	    ch == '\v' || ch == '\f';
}

/* Letters, digits and any non-ASCII byte make words. */
static int
is_wordch(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9') || (unsigned char)ch >= 0x80;
}

/* ASCII case-insensitive equality, locale-free. */
static int
eq_fold(const char *a, const char *b)
{
	for (; *a != '\0' && lower(*a) == lower(*b); a++, b++)
		continue;
	return *a == '\0' && *b == '\0';
}

/* Bytes of s[0..len) that end on a UTF-8 character boundary. */
static size_t
utf8_floor(const char *s, size_t len)
{
	while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
		len--;
	return len;
}

/* Bytes of the first max code points of the valid UTF-8 string s. */
static size_t
cp_bytes(const char *s, size_t max)
{
	size_t	i, n = 0;

	for (i = 0; s[i] != '\0'; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80 && n++ == max)
			return i;
	return i;
}

/* Length of the valid UTF-8 sequence at s, or 0. */
static size_t
utf8_seq(const unsigned char *s)
{
	size_t		n, i;
	unsigned	cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

/*
 * Makes the NUL-terminated s[0..sz) valid UTF-8 in place: it is terminated
 * at sz - 1 and each bad byte becomes "?".  Callbacks fill these buffers
 * from the database, and JSON strings must be UTF-8.
 */
static void
utf8_fix(char *s, size_t sz)
{
	size_t	i, n;

	s[sz - 1] = '\0';
	for (i = 0; s[i] != '\0'; i += n)
		if ((n = utf8_seq((unsigned char *)s + i)) == 0) {
			s[i] = '?';
			n = 1;
		}
}

/*
 * Copies s into out[0..sz): ASCII lower case, white space runs as one
 * space, trimmed, trailing ".!?" dropped: how typed words are compared.
 */
static void
normalise(const char *s, char *out, size_t sz)
{
	size_t	n = 0;

	for (; *s != '\0' && n + 1 < sz; s++) {
		if (is_space(*s)) {
			if (n > 0 && out[n - 1] != ' ')
				out[n++] = ' ';
		} else
			out[n++] = lower(*s);
	}
	if (*s != '\0') {
		/* Cut: never inside a character. */
		out[n] = *s;
		n = utf8_floor(out, n);
	}
	while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '.' ||
	    out[n - 1] == '!' || out[n - 1] == '?'))
		n--;
	out[n] = '\0';
}

/* Adds an action; NULL when the table is full, which cannot happen. */
static struct bot_action *
act_add(struct ctx *c, enum bot_act kind)
{
	struct bot_action	*a;

	/* At most two a message: a record and what the option does. */
	if (c->out->nacts == BOT_ACTS_MAX)
		return NULL;
	a = &c->out->acts[c->out->nacts++];
	a->kind = kind;
	return a;
}

/* The contact's value name as a string, or NULL. */
static const char *
var_str(struct ctx *c, const char *name)
{
	return json_string_value(json_object_get(c->vars, name));
}

/*
 * Sets the contact's value name.  Returns 0, 1 when the values would grow
 * past BOT_VARS_MAX (nothing set), or -1 when memory runs out.
 */
static int
var_set(struct ctx *c, const char *name, const char *value)
{
	size_t	now = json_dumpb(c->vars, NULL, 0, JSON_COMPACT);
	json_t	*old = json_object_get(c->vars, name);

	/* Name, value, quotes and escapes: a generous estimate. */
	if (now + strlen(name) + 2 * strlen(value) + 8 > BOT_VARS_MAX &&
	    (old == NULL || strlen(value) > json_string_length(old)))
		return 1;
	return json_object_set_new(c->vars, name, json_string(value)) == 0 ?
	    0 : -1;
}

/* A template's name: the fields, the contact's values, then the flow's. */
static const char *
name_value(struct ctx *c, const char *name, const struct field *fl,
    size_t nfl, char *tmp, size_t tsz)
{
	const struct flow	*f = c->f;
	const char		*v;
	size_t			 i;

	for (i = 0; i < nfl; i++)
		if (strcmp(fl[i].name, name) == 0)
			return fl[i].value;
	if ((v = var_str(c, name)) != NULL)
		return v;
	if (strcmp(name, "phone") == 0)
		return f->phone != NULL ? f->phone : "";
	if (strcmp(name, "hours") == 0)
		return f->hours_text;
	if (strcmp(name, "tz") == 0 && flow_tz(f, tmp, tsz) == 0)
		return tmp;
	if (strcmp(name, "next_open") == 0 &&
	    flow_when(f, flow_next_open(f, c->in->now), tmp, tsz) == 0)
		return tmp;
	return "";
}

/*
 * Expands the template t: "{name}" by its value, "{{" as "{", cut at
 * EXPAND_MAX bytes.  Returns the text (caller frees), or NULL when memory
 * runs out.
 */
static char *
expand(struct ctx *c, const char *t, const struct field *fl, size_t nfl)
{
	struct buf	 b;
	const char	*end, *v;
	char		 name[NAME_MAX_ + 1], tmp[64];
	size_t		 n;

	buf_init(&b);
	if (buf_reserve(&b, strlen(t)) == -1)
		return NULL;
	while (*t != '\0') {
		n = strcspn(t, "{");
		if (buf_append(&b, t, n) == -1)
			goto fail;
		t += n;
		if (*t == '\0')
			break;
		end = strchr(t, '}');
		n = end != NULL ? (size_t)(end - t - 1) : 0;
		if (t[1] == '{' || n == 0 || n > NAME_MAX_) {
			/* "{{", or a brace the flow check let through. */
			if (buf_append(&b, "{", 1) == -1)
				goto fail;
			t += t[1] == '{' ? 2 : 1;
			continue;
		}
		memcpy(name, t + 1, n);
		name[n] = '\0';
		v = name_value(c, name, fl, nfl, tmp, sizeof(tmp));
		if (buf_puts(&b, v) == -1)
			goto fail;
		t = end + 1;
	}
	if (b.len > EXPAND_MAX) {
		b.len = utf8_floor(b.p, EXPAND_MAX);
		b.p[b.len] = '\0';
	}
	return b.p;
fail:
	buf_clear(&b);
	return NULL;
}

/*
 * Checks the send request r with msg_parse() and keeps it as the next
 * reply; r is consumed.  Returns 0, 1 when r is refused (or cannot be
 * dumped), -1 when memory runs out.  Replies past BOT_REPLIES_MAX are
 * dropped: a flow cannot chain that many.
 */
static int
push(struct ctx *c, json_t *r)
{
	struct msg	 m;
	struct msg_err	 e;
	char		*s;

	if (r == NULL)
		return 1;
	s = json_dumps(r, JSON_COMPACT);
	json_decref(r);
	if (s == NULL)
		return 1;
	if (msg_parse(s, strlen(s), 0, &m, &e) == -1) {
		free(s);
		return strcmp(e.code, "no_memory") == 0 ? -1 : 1;
	}
	msg_clear(&m);
	if (c->out->nreplies == BOT_REPLIES_MAX) {
		free(s);
		return 0;
	}
	c->out->replies[c->out->nreplies++] = s;
	return 0;
}

/*
 * Sends body as text, cut to Meta's 4096 characters; a blank body sends
 * nothing.  Returns 0, or -1 when memory runs out or the recipient is
 * refused.
 */
static int
reply_text(struct ctx *c, const char *body)
{
	const char	*s;
	size_t		 n;

	for (s = body; is_space(*s); s++)
		continue;
	if (*s == '\0')
		return 0;
	n = cp_bytes(body, MAX_TEXT);
	return push(c, json_pack("{s:s, s:s, s:{s:s%}}", "to",
	    c->in->msg->wa_id, "type", "text", "text", "body", body, n)) == 0 ?
	    0 : -1;
}

/* Expands t and sends it as text.  Returns 0 or -1. */
static int
say(struct ctx *c, const char *t, const struct field *fl, size_t nfl)
{
	char	*s;
	int	 rc;

	if ((s = expand(c, t, fl, nfl)) == NULL)
		return -1;
	rc = reply_text(c, s);
	free(s);
	return rc;
}

/* "node:option", the id a tap sends back (reference 5.5, 5.6). */
static void
wire_id(const struct flow_node *nd, const struct flow_option *op, char *buf,
    size_t sz)
{
	/* Fits: ids are at most FLOW_ID_MAX bytes. */
	(void)snprintf(buf, sz, "%s:%s", nd->id, op->id);
}

/* action.buttons of nd (reference 7.2). */
static json_t *
buttons_new(const struct flow_node *nd)
{
	json_t	*a, *b;
	char	 id[WIRE_ID_MAX];
	size_t	 i;

	if ((a = json_array()) == NULL)
		return NULL;
	for (i = 0; i < nd->nopts; i++) {
		wire_id(nd, &nd->opts[i], id, sizeof(id));
		b = json_pack("{s:s, s:{s:s, s:s}}", "type", "reply", "reply",
		    "id", id, "title", nd->opts[i].title);
		if (json_array_append_new(a, b) == -1) {
			json_decref(a);
			return NULL;
		}
	}
	return json_pack("{s:o}", "buttons", a);
}

/* action of a list: one section with nd's rows (reference 7.2). */
static json_t *
rows_new(struct ctx *c, const struct flow_node *nd)
{
	const struct flow_option *op;
	json_t	*a, *r;
	char	 id[WIRE_ID_MAX];
	size_t	 i;

	if ((a = json_array()) == NULL)
		return NULL;
	for (i = 0; i < nd->nopts; i++) {
		op = &nd->opts[i];
		wire_id(nd, op, id, sizeof(id));
		r = json_pack("{s:s, s:s, s:s*}", "id", id, "title", op->title,
		    "description", op->description);
		if (json_array_append_new(a, r) == -1) {
			json_decref(a);
			return NULL;
		}
	}
	return json_pack("{s:s, s:[{s:o}]}", "button", nd->button != NULL ?
	    nd->button : c->f->texts[FLOW_TXT_LIST_BUTTON], "sections", "rows",
	    a);
}

/* A text header or footer object, or NULL when the template is absent. */
static int
text_obj(struct ctx *c, json_t *ia, const char *key, const char *t,
    int header)
{
	char	*s;
	int	 rc;

	if (t == NULL)
		return 0;
	if ((s = expand(c, t, NULL, 0)) == NULL)
		return -1;
	rc = json_object_set_new(ia, key, header ?
	    json_pack("{s:s, s:s}", "type", "text", "text", s) :
	    json_pack("{s:s}", "text", s));
	free(s);
	return rc;
}

/*
 * Sends body with nd's options as buttons or a list.  Returns 0, 1 when it
 * cannot be sent so (the caller falls back to text), -1 out of memory.
 */
static int
reply_interactive(struct ctx *c, const struct flow_node *nd,
    const char *body)
{
	json_t	*ia, *action;
	int	 list = nd->kind == FLOW_LIST || nd->nopts > MAX_BUTTONS;

	if ((ia = json_pack("{s:s, s:{s:s}}", "type", list ? "list" : "button",
	    "body", "text", body)) == NULL)
		return 1;
	if (text_obj(c, ia, "header", nd->header, 1) == -1 ||
	    text_obj(c, ia, "footer", nd->footer, 0) == -1 ||
	    (action = list ? rows_new(c, nd) : buttons_new(nd)) == NULL ||
	    json_object_set_new(ia, "action", action) == -1) {
		json_decref(ia);
		return 1;
	}
	return push(c, json_pack("{s:s, s:s, s:o}", "to", c->in->msg->wa_id,
	    "type", "interactive", "interactive", ia));
}

/* body then "1. Title" lines: the options as text.  Returns 0 or -1. */
static int
reply_numbered(struct ctx *c, const struct flow_node *nd, const char *body)
{
	struct buf	b;
	size_t		i;
	int		rc = -1;

	buf_init(&b);
	if (buf_puts(&b, body) == -1 || buf_puts(&b, "\n") == -1)
		goto out;
	for (i = 0; i < nd->nopts; i++)
		if (buf_printf(&b, "\n%zu. %s", i + 1, nd->opts[i].title) == -1)
			goto out;
	rc = reply_text(c, b.p);
out:
	buf_clear(&b);
	return rc;
}

/*
 * Sends the expanded body t with nd's options: buttons or a list when they
 * fit; a long body goes first as text and the options follow with the
 * "more" sentence; anything Meta would refuse goes as numbered text.
 * Returns 0 or -1.
 */
static int
show(struct ctx *c, const struct flow_node *nd, const char *t,
    const struct field *fl, size_t nfl)
{
	char	*body, *more = NULL;
	size_t	 max;
	int	 rc;

	if ((body = expand(c, t, fl, nfl)) == NULL)
		return -1;
	if (nd->nopts == 0) {
		rc = reply_text(c, body);
		free(body);
		return rc;
	}
	max = nd->kind == FLOW_LIST ? MAX_LIST_BODY : MAX_BTN_BODY;
	if (msg_codepoints(body, strlen(body)) > max ||
	    body[strspn(body, " \t\r\n")] == '\0') {
		if (reply_text(c, body) == -1 ||
		    (more = expand(c, c->f->texts[FLOW_TXT_MORE], fl, nfl)) ==
		    NULL) {
			free(body);
			return -1;
		}
		free(body);
		body = more;
	}
	if ((rc = reply_interactive(c, nd, body)) == 1)
		rc = reply_numbered(c, nd, body);
	free(body);
	return rc;
}

/* Calls the data callback for nd with arg; fills out. */
static enum bot_rc
lookup_call(struct ctx *c, const struct flow_node *nd, const char *arg,
    struct bot_order *o, struct bot_ticket *t, char *buf, size_t sz)
{
	const struct bot_data	*d = c->in->data;
	const char		*wa = c->in->msg->wa_id;

	if (d == NULL)
		return BOT_FAILED;
	switch (nd->lookup) {
	case FLOW_LK_ORDER:
		return d->order_get == NULL ? BOT_FAILED :
		    d->order_get(d->arg, wa, arg, o);
	case FLOW_LK_ORDERS_RECENT:
		return d->orders_recent == NULL ? BOT_FAILED :
		    d->orders_recent(d->arg, wa, buf, sz);
	case FLOW_LK_SCHEDULE_THIS_WEEK:
	case FLOW_LK_SCHEDULE_NEXT_WEEK:
		return d->schedule_week == NULL ? BOT_FAILED :
		    d->schedule_week(d->arg, wa,
		    nd->lookup == FLOW_LK_SCHEDULE_NEXT_WEEK, buf, sz);
	case FLOW_LK_SCHEDULE_ORDER:
		return d->schedule_order == NULL ? BOT_FAILED :
		    d->schedule_order(d->arg, wa, arg, buf, sz);
	case FLOW_LK_TICKET:
		return d->ticket_get == NULL ? BOT_FAILED :
		    d->ticket_get(d->arg, wa, arg, t);
	default:
		return BOT_FAILED;	/* cannot happen: the flow checks */
	}
}

/*
 * Shows lookup node idx: asks the caller, then shows body or not_found
 * with what came back; a failure says sorry and returns to the parent.
 * Returns 0 or -1.
 */
static int
lookup_show(struct ctx *c, size_t idx, int depth)
{
	const struct flow_node	*nd = &c->f->nodes[idx];
	struct bot_order	*o;
	struct bot_ticket	 t;
	struct field		 fl[4];
	const char		*arg = NULL;
	size_t			 nfl = 0;
	enum bot_rc		 rc = BOT_NOT_FOUND;
	int			 r;

	/* The order record holds the text buffer too: one allocation. */
	if ((o = calloc(1, sizeof(*o))) == NULL)
		return -1;
	memset(&t, 0, sizeof(t));
	if (nd->arg == NULL || (arg = var_str(c, nd->arg)) != NULL)
		rc = lookup_call(c, nd, arg, o, &t, o->lines, sizeof(o->lines));
	if (rc == BOT_FAILED || rc >= BOT_RC__MAX) {
		free(o);
		c->node = nd->parent;
		return say(c, c->f->texts[FLOW_TXT_ERROR], NULL, 0);
	}
	utf8_fix(o->number, sizeof(o->number));
	utf8_fix(o->status, sizeof(o->status));
	utf8_fix(o->expected_delivery, sizeof(o->expected_delivery));
	utf8_fix(o->lines, sizeof(o->lines));
	utf8_fix(t.number, sizeof(t.number));
	utf8_fix(t.state, sizeof(t.state));
	utf8_fix(t.category, sizeof(t.category));
	if (nd->lookup == FLOW_LK_ORDER) {
		fl[nfl++] = (struct field){ "number", o->number };
		fl[nfl++] = (struct field){ "status", o->status };
		fl[nfl++] = (struct field){ "expected_delivery",
		    o->expected_delivery };
		fl[nfl++] = (struct field){ "lines", o->lines };
	} else if (nd->lookup == FLOW_LK_TICKET) {
		fl[nfl++] = (struct field){ "number", t.number };
		fl[nfl++] = (struct field){ "state", t.state };
		fl[nfl++] = (struct field){ "category", t.category };
	} else
		fl[nfl++] = (struct field){ "result", o->lines };
	r = show(c, nd, rc == BOT_FOUND ? nd->body : nd->not_found, fl, nfl);
	free(o);
	if (r == -1 || nd->nopts > 0)
		return r;
	if (nd->next != FLOW_NONE)
		return enter(c, nd->next, depth + 1, 0);
	c->node = nd->parent;
	return 0;
}

/*
 * Shows node idx and rests there (text nodes move on to next or back to
 * their parent).  again: shown once more after unknown input, so photos
 * collected are kept.  Returns 0 or -1.
 */
static int
enter(struct ctx *c, size_t idx, int depth, int again)
{
	const struct flow_node	*nd = &c->f->nodes[idx];

	if (depth >= FLOW_CHAIN_MAX) {
		/* Cannot happen: the flow check refuses longer runs. */
		c->node = nd->parent;
		return 0;
	}
	c->node = idx;
	c->hinted = 0;
	if (idx == c->f->start)
		json_object_clear(c->vars);
	switch (nd->kind) {
	case FLOW_PHOTOS:
		if (!again)
			(void)json_object_del(c->vars, "photos");
		return show(c, nd, nd->body, NULL, 0);
	case FLOW_TEXT:
		if (show(c, nd, nd->body, NULL, 0) == -1)
			return -1;
		if (nd->next != FLOW_NONE)
			return enter(c, nd->next, depth + 1, 0);
		c->node = nd->parent;
		return 0;
	case FLOW_LOOKUP:
		return lookup_show(c, idx, depth);
	default:
		return show(c, nd, nd->body, NULL, 0);
	}
}

/* Tells the customer and passes the chat to a person or the agent. */
static int
hand_off(struct ctx *c, int agent)
{
	const struct flow	*f = c->f;
	struct bot_action	*a;
	const char		*t;
	char			*s;

	if (agent)
		t = f->texts[FLOW_TXT_HAND_OFF_AGENT];
	else if (flow_is_open(f, c->in->now))
		t = f->texts[FLOW_TXT_HAND_OFF_OPEN];
	else
		t = f->texts[FLOW_TXT_HAND_OFF_CLOSED];
	if ((s = expand(c, t, NULL, 0)) == NULL)
		return -1;
	if (reply_text(c, s) == -1 || (a = act_add(c, agent ?
	    BOT_ACT_HAND_OFF_AGENT : BOT_ACT_HAND_OFF_PERSON)) == NULL) {
		free(s);
		return -1;
	}
	a->message = s;
	a->url = agent ? f->agent_url : NULL;
	/* When the chat comes back to the bot it starts over. */
	c->node = f->start;
	json_object_clear(c->vars);
	return 0;
}

/* Copies what ticket_create was given into the action a. */
static int
ticket_act(struct bot_action *a, const struct bot_ticket_req *req,
    const char *number)
{
	size_t	i;

	(void)strlcpy(a->ticket, number, sizeof(a->ticket)); /* same size */
	if ((a->category = strdup(req->category)) == NULL ||
	    (a->description = strdup(req->description)) == NULL)
		return -1;
	if (req->nmedia == 0)
		return 0;
	if ((a->media = calloc(req->nmedia, sizeof(char *))) == NULL)
		return -1;
	for (i = 0; i < req->nmedia; i++) {
		if ((a->media[i] = strdup(req->media[i])) == NULL)
			return -1;
		a->nmedia++;
	}
	return 0;
}

/*
 * Files a ticket from the values category and description and the photos
 * collected, then says its number (option op's goto, or the
 * ticket_created sentence).  A failure says sorry and stays at node n so
 * the customer may try again.  Returns 0 or -1.
 */
static int
ticket(struct ctx *c, size_t n, const struct flow_option *op)
{
	const struct bot_data	*d = c->in->data;
	struct bot_ticket_req	 req;
	struct bot_action	*a;
	const char		*media[FLOW_PHOTOS_MAX];
	char			 number[BOT_FIELD_MAX] = "";
	json_t			*ph = json_object_get(c->vars, "photos"), *v;
	enum bot_rc		 rc = BOT_FAILED;
	size_t			 i;

	memset(&req, 0, sizeof(req));
	req.category = var_str(c, "category") ? var_str(c, "category") : "";
	req.description = var_str(c, "description") ?
	    var_str(c, "description") : "";
	json_array_foreach(ph, i, v)
		if (json_is_string(v) && req.nmedia < FLOW_PHOTOS_MAX)
			media[req.nmedia++] = json_string_value(v);
	req.media = media;
	if (d != NULL && d->ticket_create != NULL)
		rc = d->ticket_create(d->arg, c->in->msg->wa_id, &req, number,
		    sizeof(number));
	if (rc != BOT_FOUND) {
		c->node = n;
		return say(c, c->f->texts[FLOW_TXT_ERROR], NULL, 0);
	}
	utf8_fix(number, sizeof(number));
	if ((a = act_add(c, BOT_ACT_TICKET_CREATE)) == NULL ||
	    ticket_act(a, &req, number) == -1)
		return -1;
	(void)json_object_del(c->vars, "photos");
	/* Room was just made: the photos went. */
	if (var_set(c, "ticket", number) == -1)
		return -1;
	if (op->go != FLOW_NONE)
		return enter(c, op->go, 0, 0);
	c->node = c->f->nodes[n].parent;
	return say(c, c->f->texts[FLOW_TXT_TICKET_CREATED], (struct field[]){
	    { "ticket", number } }, 1);
}

/* Option o of node n was chosen.  Returns 0 or -1. */
static int
choose(struct ctx *c, size_t n, size_t o)
{
	const struct flow	*f = c->f;
	const struct flow_node	*nd = &f->nodes[n];
	const struct flow_option *op = &nd->opts[o];
	struct bot_action	*a;

	/* A second tap on an old "Done" must not file a second ticket. */
	if (op->act == FLOW_ACT_TICKET_CREATE && n != c->node)
		return enter(c, c->node, 0, 1);
	if ((a = act_add(c, BOT_ACT_RECORD)) == NULL)
		return -1;
	a->node = nd->id;
	a->option = op->id;
	if (nd->save != NULL && op->act == FLOW_ACT_GOTO &&
	    var_set(c, nd->save, op->id) == -1)
		return -1;
	switch (op->act) {
	case FLOW_ACT_GOTO:
		return enter(c, op->go, 0, 0);
	case FLOW_ACT_BACK:
		return enter(c, nd->parent, 0, 0);
	case FLOW_ACT_MENU:
		return enter(c, f->start, 0, 0);
	case FLOW_ACT_HAND_OFF_PERSON:
		return hand_off(c, 0);
	case FLOW_ACT_HAND_OFF_AGENT:
		return hand_off(c, 1);
	case FLOW_ACT_TICKET_CREATE:
		return ticket(c, n, op);
	default:
		return -1;	/* cannot happen: the flow checks */
	}
}

/* The node and option a reply id "node:option" names. */
static int
resolve(const struct flow *f, const char *id, size_t *n, size_t *o)
{
	const char	*colon;
	char		 node[FLOW_ID_MAX + 1];
	size_t		 len, i;

	if ((colon = strchr(id, ':')) == NULL ||
	    (len = (size_t)(colon - id)) > FLOW_ID_MAX)
		return 0;
	memcpy(node, id, len);
	node[len] = '\0';
	if ((*n = flow_node_find(f, node)) == FLOW_NONE)
		return 0;
	for (i = 0; i < f->nodes[*n].nopts; i++)
		if (strcmp(f->nodes[*n].opts[i].id, colon + 1) == 0) {
			*o = i;
			return 1;
		}
	return 0;
}

static int
is_word(const char *const *words, size_t n, const char *norm)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (eq_fold(words[i], norm))
			return 1;
	return 0;
}

/* The option of nd the customer typed: its number or title. */
static size_t
match_option(struct ctx *c, const struct flow_node *nd)
{
	char	 title[128];
	size_t	 i, k = 0;

	/* Numbers only where options are what is asked for. */
	if (!c->fresh && nd->kind != FLOW_PROMPT &&
	    strspn(c->norm, "0123456789") == strlen(c->norm) &&
	    strlen(c->norm) <= 2) {
		for (i = 0; c->norm[i] != '\0'; i++)
			k = k * 10 + (size_t)(c->norm[i] - '0');
		if (k >= 1 && k <= nd->nopts)
			return k - 1;
	}
	for (i = 0; i < nd->nopts; i++) {
		normalise(nd->opts[i].title, title, sizeof(title));
		if (strcmp(title, c->norm) == 0)
			return i;
	}
	return FLOW_NONE;
}

/* Does phrase occur in norm as whole words? */
static int
has_phrase(const char *norm, const char *phrase)
{
	size_t	i, j, n = strlen(phrase);

	for (i = 0; norm[i] != '\0'; i++) {
		if (i > 0 && is_wordch(norm[i - 1]))
			continue;
		for (j = 0; j < n && norm[i + j] == lower(phrase[j]); j++)
			continue;
		if (j == n && !is_wordch(norm[i + n]))
			return 1;
	}
	return 0;
}

/* The first keyword in the message, or FLOW_NONE. */
static size_t
match_keyword(struct ctx *c)
{
	size_t	i;

	for (i = 0; i < c->f->nkws; i++)
		if (has_phrase(c->norm, c->f->kws[i].phrase))
			return i;
	return FLOW_NONE;
}

/* Saves the prompt's answer and moves on.  Returns 0 or -1. */
static int
answer(struct ctx *c, const struct flow_node *nd)
{
	char	*s = c->text;
	size_t	 n;
	int	 rc;

	while (is_space(*s))
		s++;
	n = cp_bytes(s, nd->max);
	while (n > 0 && is_space(s[n - 1]))
		n--;
	s[n] = '\0';
	if ((rc = var_set(c, nd->save, s)) == -1)
		return -1;
	if (rc == 1)
		return say(c, c->f->texts[FLOW_TXT_ERROR], NULL, 0);
	return enter(c, nd->next, 0, 0);
}

/*
 * Keeps one photo and says how many there are, with nd's options; past
 * nd->max the photo is dropped and the customer told.  Returns 0 or -1.
 */
static int
photo_add(struct ctx *c, const struct flow_node *nd, const char *media_id)
{
	json_t		*ph = json_object_get(c->vars, "photos");
	const char	*t;
	char		 count[24];
	size_t		 n;

	if (!json_is_array(ph)) {
		if ((ph = json_array()) == NULL ||
		    json_object_set_new(c->vars, "photos", ph) == -1)
			return -1;
	}
	if ((n = json_array_size(ph)) >= nd->max)
		t = c->f->texts[FLOW_TXT_PHOTOS_FULL];
	else {
		if (json_array_append_new(ph, json_string(media_id)) == -1)
			return -1;
		n++;
		t = nd->received != NULL ? nd->received :
		    c->f->texts[FLOW_TXT_PHOTO_RECEIVED];
	}
	/* Fits: a size_t has at most 20 digits. */
	(void)snprintf(count, sizeof(count), "%zu", n);
	c->hinted = 0;
	return show(c, nd, t, (struct field[]){ { "count", count } }, 1);
}

/* A media id as Meta sends them: printable ASCII, at most 128 bytes. */
static int
is_media_id(const char *s)
{
	size_t	i;

	if (s == NULL)
		return 0;
	for (i = 0; s[i] > ' ' && s[i] < 0x7f; i++)
		continue;
	return s[i] == '\0' && i > 0 && i <= BOT_MEDIA_ID_MAX;
}

/* Unknown input: the hint once, then the current node again. */
static int
unknown(struct ctx *c)
{
	const struct flow_node	*nd = &c->f->nodes[c->node];

	if (c->hinted)
		return enter(c, c->node, 0, 1);
	c->hinted = 1;
	return say(c, nd->hint != NULL ? nd->hint : c->f->texts[FLOW_TXT_HINT],
	    NULL, 0);
}

/* Reads the message (see the top of the file).  Returns 0 or -1. */
static int
step(struct ctx *c)
{
	const struct flow	*f = c->f;
	const struct bot_msg	*m = c->in->msg;
	const struct flow_node	*nd = &f->nodes[c->node];
	const char		*type = m->type != NULL ? m->type : "text";
	const struct flow_keyword *kw;
	size_t			 n, o;

	if (strcmp(type, "request_welcome") == 0)
		return enter(c, f->start, 0, 0);
	if (m->reply_id != NULL && resolve(f, m->reply_id, &n, &o))
		return choose(c, n, o);
	if (!c->fresh && nd->kind == FLOW_PHOTOS &&
	    strcmp(type, "image") == 0 && is_media_id(m->media_id))
		return photo_add(c, nd, m->media_id);
	if (c->norm[0] != '\0') {
		if (is_word(f->menu_words, f->nmenu_words, c->norm))
			return enter(c, f->start, 0, 0);
		if (is_word(f->back_words, f->nback_words, c->norm))
			return enter(c, nd->parent, 0, 0);
		if ((o = match_option(c, nd)) != FLOW_NONE)
			return choose(c, c->node, o);
		if (!c->fresh && nd->kind == FLOW_PROMPT &&
		    strcmp(type, "text") == 0)
			return answer(c, nd);
		if ((n = match_keyword(c)) != FLOW_NONE) {
			kw = &f->kws[n];
			if (kw->go != FLOW_NONE)
				return enter(c, kw->go, 0, 0);
			c->hinted = 0;
			return say(c, kw->reply, NULL, 0);
		}
	}
	if (c->fresh)
		return enter(c, f->start, 0, 0);
	return unknown(c);
}

/* Reads the contact's state; an unknown node or a long pause resets it. */
static int
state_load(struct ctx *c)
{
	const struct bot_state	*st = c->in->state;
	int64_t			 timeout;

	if (st->vars != NULL && strnlen(st->vars, BOT_VARS_MAX + 1) <=
	    BOT_VARS_MAX)
		c->vars = json_loads(st->vars, 0, NULL);
	if (c->vars != NULL && !json_is_object(c->vars)) {
		json_decref(c->vars);
		c->vars = NULL;
	}
	if (c->vars == NULL && (c->vars = json_object()) == NULL)
		return -1;
	timeout = c->in->timeout > 0 ? c->in->timeout : BOT_TIMEOUT_DEFAULT;
	c->node = FLOW_NONE;
	if (memchr(st->node, '\0', sizeof(st->node)) != NULL)
		c->node = flow_node_find(c->f, st->node);
	/* A node the flow no longer has (edited) counts as expired too. */
	if (c->node == FLOW_NONE || st->last_active <= 0 ||
	    c->in->now - st->last_active > timeout) {
		c->fresh = 1;
		c->node = c->f->start;
		json_object_clear(c->vars);
	} else
		c->hinted = st->hinted != 0;
	return 0;
}

/* Cuts the inbound text and normalises what is typed or tapped. */
static void
text_load(struct ctx *c)
{
	const struct bot_msg	*m = c->in->msg;
	const char		*type = m->type != NULL ? m->type : "text";
	size_t			 n;

	c->text[0] = c->norm[0] = '\0';
	if (m->text == NULL)
		return;
	n = strnlen(m->text, BOT_TEXT_MAX + 1);
	if (n > BOT_TEXT_MAX)
		n = utf8_floor(m->text, BOT_TEXT_MAX);
	memcpy(c->text, m->text, n);
	c->text[n] = '\0';
	if (strcmp(type, "text") == 0 || strcmp(type, "interactive") == 0 ||
	    strcmp(type, "button") == 0)
		normalise(c->text, c->norm, sizeof(c->norm));
}

/* Writes where the chat rests into out->state.  Returns 0 or -1. */
static int
state_save(struct ctx *c)
{
	struct bot_state	*st = &c->out->state;

	/* Fits: node ids are at most FLOW_ID_MAX bytes. */
	(void)strlcpy(st->node, c->f->nodes[c->node].id, sizeof(st->node));
	st->last_active = c->in->now;
	st->hinted = c->hinted;
	if (json_object_size(c->vars) > 0 && (st->vars = json_dumps(c->vars,
	    JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
		return -1;
	return 0;
}

/* Leaves the state as it was: for messages the bot does not answer. */
static int
state_keep(const struct bot_state *in, struct bot_out *out)
{
	out->state = *in;
	out->state.vars = NULL;
	if (in->vars != NULL && (out->state.vars = strdup(in->vars)) == NULL)
		return -1;
	return 0;
}

/* See bot.h. */
int
bot_run(const struct bot_in *in, struct bot_out *out)
{
	struct ctx	*c;
	const char	*type;
	int		 rc = -1;

	memset(out, 0, sizeof(*out));
	if (in == NULL || in->flow == NULL || in->state == NULL ||
	    in->msg == NULL || in->msg->wa_id == NULL ||
	    in->msg->wa_id[0] == '\0' || in->flow->start >= in->flow->nnodes)
		return -1;
	type = in->msg->type != NULL ? in->msg->type : "text";
	if (in_list(type, ignored_types)) {
		if ((rc = state_keep(in->state, out)) == -1)
			bot_out_clear(out);
		return rc;
	}
	/* Two text copies of 4 KiB: off the stack. */
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -1;
	c->in = in;
	c->f = in->flow;
	c->out = out;
	if (state_load(c) == 0) {
		text_load(c);
		if (step(c) == 0 && state_save(c) == 0)
			rc = 0;
	}
	json_decref(c->vars);
	free(c);
	if (rc == -1)
		bot_out_clear(out);
	return rc;
}

/* See bot.h. */
void
bot_out_clear(struct bot_out *out)
{
	struct bot_action	*a;
	size_t			 i, j;

	free(out->state.vars);
	for (i = 0; i < out->nreplies; i++)
		free(out->replies[i]);
	for (i = 0; i < out->nacts; i++) {
		a = &out->acts[i];
		free(a->message);
		free(a->category);
		free(a->description);
		for (j = 0; j < a->nmedia; j++)
			free(a->media[j]);
		free(a->media);
	}
	memset(out, 0, sizeof(*out));
}

/* See bot.h. */
int
bot_is_greeting(const struct flow *f, const char *text)
{
	char	norm[128];

	if (f == NULL || text == NULL || strlen(text) >= sizeof(norm))
		return 0;
	normalise(text, norm, sizeof(norm));
	return norm[0] != '\0' && is_word(f->menu_words, f->nmenu_words, norm);
}
