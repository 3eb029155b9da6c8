/*
 * test_bot.c: the chatbot's state machine, driven through the shipped
 * default flow and small test flows with fake business data.  Every reply
 * of every test is checked with msg_parse(); conversations cover taps,
 * numbers, titles, menu and back words, the hint-then-menu rule, expiry,
 * lookups found / not found / failed, long results, the defect report with
 * photos, keywords, hand-offs in and out of opening hours, and bad input.
 */
#include <stdlib.h>
#include <string.h>

#include <bsd/string.h>
#include <jansson.h>

#include "bot.h"
#include "check.h"
#include "flow.h"
#include "msg.h"
#include "util.h"

#define DEFAULT_FLOW	"deploy/flows/default.json"
#define WA		"15550002222"

/* 2024-01-01 09:00 UTC: Monday 10:00 at the default flow's UTC+01:00. */
#define MON10		1704099600LL
#define H		3600LL
#define DAY		(24 * H)

/* Fake business data: what the callbacks return and what they were asked. */
struct fake {
	enum bot_rc	 rc;		/* what lookups answer */
	enum bot_rc	 create_rc;	/* what ticket_create answers */
	const char	*lines;		/* order lines or text result */
	const char	*number_out;	/* ticket number to give */
	int		 calls;		/* lookups made */
	int		 creates;	/* tickets filed */
	char		 wa[64];
	char		 number[160];	/* number asked for */
	int		 week;
	char		 category[64];
	char		 description[4200];
	size_t		 nmedia;
	char		 media[FLOW_PHOTOS_MAX][BOT_MEDIA_ID_MAX + 1];
};

static enum bot_rc
fake_order(void *arg, const char *wa, const char *number, struct bot_order *o)
{
	struct fake	*fk = arg;

	fk->calls++;
	(void)strlcpy(fk->wa, wa, sizeof(fk->wa));
	(void)strlcpy(fk->number, number, sizeof(fk->number));
	if (fk->rc == BOT_FOUND) {
		(void)strlcpy(o->number, number, sizeof(o->number));
		(void)strlcpy(o->status, "in production", sizeof(o->status));
		(void)strlcpy(o->expected_delivery, "2024-02-15",
		    sizeof(o->expected_delivery));
		(void)strlcpy(o->lines, fk->lines, sizeof(o->lines));
	}
	return fk->rc;
}

static enum bot_rc
fake_text(struct fake *fk, const char *wa, char *buf, size_t sz)
{
	fk->calls++;
	(void)strlcpy(fk->wa, wa, sizeof(fk->wa));
	if (fk->rc == BOT_FOUND)
		(void)strlcpy(buf, fk->lines, sz);
	return fk->rc;
}

static enum bot_rc
fake_recent(void *arg, const char *wa, char *buf, size_t sz)
{
	return fake_text(arg, wa, buf, sz);
}

static enum bot_rc
fake_week(void *arg, const char *wa, int week, char *buf, size_t sz)
{
	((struct fake *)arg)->week = week;
	return fake_text(arg, wa, buf, sz);
}

static enum bot_rc
fake_sched_order(void *arg, const char *wa, const char *number, char *buf,
    size_t sz)
{
	struct fake	*fk = arg;

	(void)strlcpy(fk->number, number, sizeof(fk->number));
	return fake_text(arg, wa, buf, sz);
}

static enum bot_rc
fake_ticket(void *arg, const char *wa, const char *number,
    struct bot_ticket *t)
{
	struct fake	*fk = arg;

	fk->calls++;
	(void)strlcpy(fk->wa, wa, sizeof(fk->wa));
	(void)strlcpy(fk->number, number, sizeof(fk->number));
	if (fk->rc == BOT_FOUND) {
		(void)strlcpy(t->number, number, sizeof(t->number));
		(void)strlcpy(t->state, "being checked", sizeof(t->state));
		(void)strlcpy(t->category, "surface", sizeof(t->category));
	}
	return fk->rc;
}

static enum bot_rc
fake_create(void *arg, const char *wa, const struct bot_ticket_req *req,
    char *number, size_t sz)
{
	struct fake	*fk = arg;
	size_t		 i;

	fk->creates++;
	(void)strlcpy(fk->wa, wa, sizeof(fk->wa));
	(void)strlcpy(fk->category, req->category, sizeof(fk->category));
	(void)strlcpy(fk->description, req->description,
	    sizeof(fk->description));
	fk->nmedia = req->nmedia;
	for (i = 0; i < req->nmedia && i < FLOW_PHOTOS_MAX; i++)
		(void)strlcpy(fk->media[i], req->media[i],
		    sizeof(fk->media[i]));
	if (fk->create_rc == BOT_FOUND)
		(void)strlcpy(number, fk->number_out, sz);
	return fk->create_rc;
}

/* One contact talking to the bot. */
struct conv {
	const struct flow	*f;
	struct bot_state	 st;		/* st.vars from malloc() */
	int64_t			 now;
	int64_t			 timeout;
	struct fake		 fk;
	struct bot_data		 data;
	struct bot_out		 out;		/* the last answer */
	json_t			*parsed[BOT_REPLIES_MAX];
	int			 rc;
};

static int	 bad_replies;	/* replies msg_parse() refused */

static void
conv_init(struct conv *c, const struct flow *f)
{
	memset(c, 0, sizeof(*c));
	c->f = f;
	c->now = MON10;
	c->fk.rc = BOT_FOUND;
	c->fk.create_rc = BOT_FOUND;
	c->fk.lines = "2 x bracket B-12\n1 x frame F-3";
	c->fk.number_out = "T-77";
	c->data.arg = &c->fk;
	c->data.order_get = fake_order;
	c->data.orders_recent = fake_recent;
	c->data.schedule_week = fake_week;
	c->data.schedule_order = fake_sched_order;
	c->data.ticket_get = fake_ticket;
	c->data.ticket_create = fake_create;
}

static void
conv_drop_parsed(struct conv *c)
{
	size_t	i;

	for (i = 0; i < BOT_REPLIES_MAX; i++) {
		json_decref(c->parsed[i]);
		c->parsed[i] = NULL;
	}
}

static void
conv_free(struct conv *c)
{
	conv_drop_parsed(c);
	bot_out_clear(&c->out);
	free(c->st.vars);
	c->st.vars = NULL;
}

/* Every reply must pass msg_parse() and go to the contact. */
static void
check_replies(struct conv *c)
{
	struct msg	 m;
	struct msg_err	 e;
	size_t		 i;

	for (i = 0; i < c->out.nreplies; i++) {
		if (msg_parse(c->out.replies[i], strlen(c->out.replies[i]), 0,
		    &m, &e) != 0) {
			bad_replies++;
			fprintf(stderr, "  refused reply: %s %s %s\n  %.300s\n",
			    e.code, e.field, e.message, c->out.replies[i]);
			continue;
		}
		if (strcmp(m.to, WA) != 0)
			bad_replies++;
		msg_clear(&m);
		c->parsed[i] = json_loads(c->out.replies[i], 0, NULL);
	}
}

/* Sends one message; the state moves on as the caller would store it. */
static int
send_msg(struct conv *c, const char *type, const char *text,
    const char *reply_id, const char *media_id)
{
	struct bot_msg	m = { WA, type, text, reply_id, media_id };
	struct bot_in	in;

	conv_drop_parsed(c);
	bot_out_clear(&c->out);
	memset(&in, 0, sizeof(in));
	in.flow = c->f;
	in.state = &c->st;
	in.msg = &m;
	in.now = c->now;
	in.timeout = c->timeout;
	in.data = &c->data;
	c->rc = bot_run(&in, &c->out);
	if (c->rc == 0) {
		check_replies(c);
		free(c->st.vars);
		c->st = c->out.state;
		c->out.state.vars = NULL;	/* the contact keeps it */
	}
	c->now += 10;
	return c->rc;
}

static int
say(struct conv *c, const char *text)
{
	return send_msg(c, "text", text, NULL, NULL);
}

static int
tap(struct conv *c, const char *id)
{
	return send_msg(c, "interactive", "(title)", id, NULL);
}

static int
photo(struct conv *c, const char *media_id)
{
	return send_msg(c, "image", NULL, NULL, media_id);
}

/* Reply i: "text", "button" or "list"; "" when there is none. */
static const char *
rtype(struct conv *c, size_t i)
{
	json_t	*r = i < BOT_REPLIES_MAX ? c->parsed[i] : NULL;
	const char *t = json_string_value(json_object_get(r, "type"));

	if (t != NULL && strcmp(t, "interactive") == 0)
		t = json_string_value(json_object_get(json_object_get(r,
		    "interactive"), "type"));
	return t != NULL ? t : "";
}

/* Reply i's text: text.body or interactive.body.text. */
static const char *
rbody(struct conv *c, size_t i)
{
	json_t		*r = i < BOT_REPLIES_MAX ? c->parsed[i] : NULL;
	const char	*s;

	s = json_string_value(json_object_get(json_object_get(r, "text"),
	    "body"));
	if (s == NULL)
		s = json_string_value(json_object_get(json_object_get(
		    json_object_get(r, "interactive"), "body"), "text"));
	return s != NULL ? s : "";
}

static int
rhas(struct conv *c, size_t i, const char *needle)
{
	if (strstr(rbody(c, i), needle) != NULL)
		return 1;
	fprintf(stderr, "  reply %zu lacks \"%s\": %.200s\n", i, needle,
	    rbody(c, i));
	return 0;
}

/* Reply i's k-th button or row id; "" when absent. */
static const char *
rid(struct conv *c, size_t i, size_t k)
{
	json_t		*a, *it;
	const char	*s;

	a = json_object_get(json_object_get(c->parsed[i], "interactive"),
	    "action");
	it = json_array_get(json_object_get(a, "buttons"), k);
	if (it != NULL)
		s = json_string_value(json_object_get(json_object_get(it,
		    "reply"), "id"));
	else
		s = json_string_value(json_object_get(json_array_get(
		    json_object_get(json_array_get(json_object_get(a,
		    "sections"), 0), "rows"), k), "id"));
	return s != NULL ? s : "";
}

/* The contact rests at node, one reply of type, n actions. */
static int
at(struct conv *c, const char *node, size_t nreplies, const char *type)
{
	if (c->rc != 0 || strcmp(c->st.node, node) != 0 ||
	    c->out.nreplies != nreplies ||
	    (type != NULL && strcmp(rtype(c, nreplies - 1), type) != 0)) {
		fprintf(stderr, "  rc %d node %s replies %zu type %s; wanted "
		    "%s %zu %s\n", c->rc, c->st.node, c->out.nreplies,
		    c->out.nreplies > 0 ? rtype(c, c->out.nreplies - 1) : "-",
		    node, nreplies, type != NULL ? type : "-");
		return 0;
	}
	return 1;
}

/* Action k is a record of node/option. */
static int
recorded(struct conv *c, size_t k, const char *node, const char *option)
{
	const struct bot_action	*a = &c->out.acts[k];

	return k < c->out.nacts && a->kind == BOT_ACT_RECORD &&
	    strcmp(a->node, node) == 0 && strcmp(a->option, option) == 0;
}

static const char *
var(struct conv *c, const char *name)
{
	static char	 buf[4200];
	json_t		*v;
	const char	*s;

	buf[0] = '\0';
	if (c->st.vars == NULL ||
	    (v = json_loads(c->st.vars, 0, NULL)) == NULL)
		return "";
	if ((s = json_string_value(json_object_get(v, name))) != NULL)
		(void)strlcpy(buf, s, sizeof(buf));
	json_decref(v);
	return buf;
}

static struct flow *
load_file(const char *path)
{
	struct flow_report	 r;
	struct flow		*f;
	size_t			 len, i;
	char			*p = slurp(path, &len);

	if (p == NULL)
		return NULL;
	if ((f = flow_load(p, len, &r)) == NULL)
		for (i = 0; i < r.n; i++)
			fprintf(stderr, "  %s\n", r.lines[i]);
	free(p);
	return f;
}

/* A flow written with ' for ". */
static struct flow *
load_q(const char *q)
{
	struct flow_report	 r;
	struct flow		*f;
	char			*j = strdup(q), *s;
	size_t			 i;

	if (j == NULL)
		return NULL;
	for (s = j; *s != '\0'; s++)
		if (*s == '\'')
			*s = '"';
	if ((f = flow_load(j, strlen(j), &r)) == NULL)
		for (i = 0; i < r.n; i++)
			fprintf(stderr, "  %s\n", r.lines[i]);
	free(j);
	return f;
}

static struct flow	*dflow;	/* the default flow */

TEST(new_contact_gets_main_menu)
{
	struct conv	c;

	conv_init(&c, dflow);
	CHECK(say(&c, "Hello") == 0);
	CHECK(at(&c, "main", 1, "list"));
	CHECK(rhas(&c, 0, "What can I do for you?"));
	CHECK(strcmp(rid(&c, 0, 0), "main:orders") == 0);
	CHECK(strcmp(rid(&c, 0, 3), "main:help") == 0);
	CHECK(c.out.nacts == 0);
	CHECK(c.st.last_active == MON10 && c.st.hinted == 0);
	CHECK(c.st.vars == NULL);
	conv_free(&c);
	/* Any first words at all: the menu, not a hint. */
	conv_init(&c, dflow);
	CHECK(say(&c, "asdf qwer") == 0 && at(&c, "main", 1, "list"));
	conv_free(&c);
	/* Nor does a number pick from a menu never shown. */
	conv_init(&c, dflow);
	CHECK(say(&c, "2") == 0 && at(&c, "main", 1, "list"));
	conv_free(&c);
	/* Opening the chat (request_welcome). */
	conv_init(&c, dflow);
	CHECK(send_msg(&c, "request_welcome", NULL, NULL, NULL) == 0);
	CHECK(at(&c, "main", 1, "list"));
	conv_free(&c);
}

TEST(choose_by_tap_number_title)
{
	struct conv	c;

	conv_init(&c, dflow);
	CHECK(say(&c, "hi") == 0);
	CHECK(tap(&c, "main:orders") == 0 && at(&c, "orders", 1, "list"));
	CHECK(c.out.nacts == 1 && recorded(&c, 0, "main", "orders"));
	CHECK(say(&c, "menu") == 0 && at(&c, "main", 1, "list"));
	CHECK(c.out.nacts == 0);
	/* The number shown in a text fallback, with a dot. */
	CHECK(say(&c, " 2. ") == 0 && at(&c, "defect", 1, "button"));
	CHECK(recorded(&c, 0, "main", "defect"));
	CHECK(strcmp(rid(&c, 0, 0), "defect:new") == 0);
	CHECK(say(&c, "0") == 0 && at(&c, "main", 1, "list"));
	/* A title in any case, white space squeezed. */
	CHECK(say(&c, "  production   SCHEDULE ") == 0 &&
	    at(&c, "schedule", 1, "list"));
	CHECK(recorded(&c, 0, "main", "schedule"));
	/* Out of range numbers are unknown input. */
	CHECK(say(&c, "9") == 0 && at(&c, "schedule", 1, "text"));
	CHECK(c.st.hinted == 1);
	conv_free(&c);
}

TEST(back_and_menu_words)
{
	struct conv	c;

	conv_init(&c, dflow);
	CHECK(say(&c, "hi") == 0);
	CHECK(tap(&c, "main:orders") == 0);
	CHECK(tap(&c, "orders:lookup") == 0 && at(&c, "order_ask", 1,
	    "button"));
	/* back from a prompt: the menu it came from. */
	CHECK(say(&c, "Back") == 0 && at(&c, "orders", 1, "list"));
	CHECK(say(&c, "back") == 0 && at(&c, "main", 1, "list"));
	/* back at the top stays at the top. */
	CHECK(say(&c, "back!") == 0 && at(&c, "main", 1, "list"));
	/* The back button of a list. */
	CHECK(tap(&c, "main:help") == 0 && tap(&c, "help:faq") == 0);
	CHECK(tap(&c, "faq:back") == 0 && at(&c, "help", 1, "list"));
	CHECK(recorded(&c, 0, "faq", "back"));
	CHECK(tap(&c, "help:faq") == 0 && tap(&c, "faq:price") == 0);
	CHECK(at(&c, "faq_price", 1, "button"));
	CHECK(tap(&c, "faq_price:menu") == 0 && at(&c, "main", 1, "list"));
	/* Greetings work from inside a prompt too. */
	CHECK(tap(&c, "main:orders") == 0 && tap(&c, "orders:lookup") == 0);
	CHECK(say(&c, "Hello!") == 0 && at(&c, "main", 1, "list"));
	conv_free(&c);
}

TEST(unknown_input_hint_then_menu)
{
	struct conv	c;

	conv_init(&c, dflow);
	CHECK(say(&c, "hi") == 0 && tap(&c, "main:help") == 0);
	CHECK(say(&c, "blorp") == 0 && at(&c, "help", 1, "text"));
	CHECK(rhas(&c, 0, "did not understand"));
	CHECK(c.st.hinted == 1);
	CHECK(say(&c, "blorp again") == 0 && at(&c, "help", 1, "list"));
	CHECK(c.st.hinted == 0);
	CHECK(say(&c, "and again") == 0 && at(&c, "help", 1, "text"));
	/* A good answer resets it. */
	CHECK(say(&c, "1") == 0 && at(&c, "faq", 1, "list"));
	CHECK(say(&c, "?") == 0 && at(&c, "faq", 1, "text"));
	/* Other message kinds are unknown input too. */
	CHECK(send_msg(&c, "location", "Office", NULL, NULL) == 0 &&
	    at(&c, "faq", 1, "list"));
	CHECK(send_msg(&c, "sticker", NULL, NULL, "m1") == 0 &&
	    at(&c, "faq", 1, "text"));
	/* A tap on a button id the flow no longer has. */
	CHECK(tap(&c, "gone:node") == 0 && at(&c, "faq", 1, "list"));
	conv_free(&c);
}

TEST(ignored_kinds_keep_state)
{
	struct conv	c;
	char		node[sizeof(c.st.node)];
	int64_t		last;

	conv_init(&c, dflow);
	CHECK(say(&c, "hi") == 0 && tap(&c, "main:orders") == 0);
	CHECK(tap(&c, "orders:lookup") == 0 && say(&c, "A-1") == 0);
	(void)strlcpy(node, c.st.node, sizeof(node));
	last = c.st.last_active;
	CHECK(send_msg(&c, "reaction", NULL, NULL, NULL) == 0);
	CHECK(c.out.nreplies == 0 && c.out.nacts == 0);
	CHECK(strcmp(c.st.node, node) == 0 && c.st.last_active == last);
	CHECK(strcmp(var(&c, "order_number"), "A-1") == 0);
	CHECK(send_msg(&c, "system", "changed", NULL, NULL) == 0 &&
	    c.out.nreplies == 0);
	CHECK(send_msg(&c, "revoke", NULL, NULL, NULL) == 0 &&
	    c.out.nreplies == 0);
	conv_free(&c);
}

TEST(expiry)
{
	struct conv	c;

	conv_init(&c, dflow);
	CHECK(say(&c, "hi") == 0 && tap(&c, "main:orders") == 0);
	CHECK(tap(&c, "orders:lookup") == 0 && say(&c, "A-1") == 0);
	CHECK(strcmp(c.st.node, "order_show") == 0);
	/* Within 30 minutes the chat goes on. */
	c.now = c.st.last_active + BOT_TIMEOUT_DEFAULT;
	CHECK(say(&c, "1") == 0 && at(&c, "order_ask", 1, "button"));
	/* Past them the next message starts over, values dropped. */
	c.now = c.st.last_active + BOT_TIMEOUT_DEFAULT + 1;
	CHECK(say(&c, "A-2") == 0 && at(&c, "main", 1, "list"));
	CHECK(c.st.vars == NULL && c.fk.calls == 1);
	/* The timeout comes with the call. */
	c.timeout = 60;
	CHECK(tap(&c, "main:help") == 0 && at(&c, "help", 1, "list"));
	c.now += 61;
	CHECK(say(&c, "1") == 0 && at(&c, "main", 1, "list"));
	/* After expiry a tap on an old button still works. */
	c.now += 3600;
	CHECK(tap(&c, "main:help") == 0 && at(&c, "help", 1, "list"));
	/* And a keyword. */
	c.now += 3600;
	CHECK(say(&c, "what are your prices") == 0 &&
	    at(&c, "faq_price", 1, "button"));
	conv_free(&c);
}

TEST(state_from_outside)
{
	struct conv	c;

	/* A node the edited flow no longer has: start over. */
	conv_init(&c, dflow);
	(void)strlcpy(c.st.node, "old_node", sizeof(c.st.node));
	c.st.last_active = MON10 - 5;
	CHECK(say(&c, "1") == 0 && at(&c, "main", 1, "list"));
	conv_free(&c);
	/* Values that are not a JSON object are dropped. */
	conv_init(&c, dflow);
	(void)strlcpy(c.st.node, "order_ask", sizeof(c.st.node));
	c.st.last_active = MON10 - 5;
	c.st.vars = strdup("not json");
	CHECK(say(&c, "A-9") == 0 && at(&c, "order_show", 1, "button"));
	CHECK(strcmp(var(&c, "order_number"), "A-9") == 0);
	free(c.st.vars);
	c.st.vars = strdup("[1,2]");
	(void)strlcpy(c.st.node, "order_ask", sizeof(c.st.node));
	CHECK(say(&c, "A-8") == 0 && at(&c, "order_show", 1, "button"));
	/* A node id without its NUL is not read past. */
	memset(c.st.node, 'x', sizeof(c.st.node));
	CHECK(say(&c, "1") == 0 && at(&c, "main", 1, "list"));
	/* A clock that went backwards is not an expiry. */
	(void)strlcpy(c.st.node, "help", sizeof(c.st.node));
	c.st.last_active = c.now + 100;
	CHECK(say(&c, "1") == 0 && at(&c, "faq", 1, "list"));
	conv_free(&c);
}

TEST(order_lookup)
{
	struct conv	c;

	conv_init(&c, dflow);
	CHECK(say(&c, "hi") == 0 && say(&c, "1") == 0 && say(&c, "1") == 0);
	CHECK(at(&c, "order_ask", 1, "button"));
	CHECK(rhas(&c, 0, "order number"));
	/* The answer is trimmed; a number is the answer, not a button. */
	CHECK(say(&c, "  A-10234 \n") == 0 && at(&c, "order_show", 1,
	    "button"));
	CHECK(strcmp(c.fk.number, "A-10234") == 0 &&
	    strcmp(c.fk.wa, WA) == 0);
	CHECK(rhas(&c, 0, "Order A-10234\nStatus: in production\n"
	    "Expected delivery: 2024-02-15\n\n2 x bracket B-12"));
	CHECK(strcmp(rid(&c, 0, 0), "order_show:another") == 0);
	CHECK(c.out.nacts == 0);
	/* Another: a number picks a button here. */
	CHECK(say(&c, "1") == 0 && at(&c, "order_ask", 1, "button"));
	CHECK(say(&c, "2") == 0 && at(&c, "order_show", 1, "button"));
	CHECK(strcmp(c.fk.number, "2") == 0);
	/* Not found. */
	c.fk.rc = BOT_NOT_FOUND;
	CHECK(tap(&c, "order_show:another") == 0 && say(&c, "Z-1") == 0);
	CHECK(at(&c, "order_show", 1, "button"));
	CHECK(rhas(&c, 0, "I could not find order Z-1 for this WhatsApp"));
	/* Failed: sorry, back at the menu. */
	c.fk.rc = BOT_FAILED;
	CHECK(tap(&c, "order_show:another") == 0 && say(&c, "Z-2") == 0);
	CHECK(at(&c, "orders", 1, "text"));
	CHECK(rhas(&c, 0, "went wrong"));
	/* Delivery date. */
	c.fk.rc = BOT_FOUND;
	CHECK(say(&c, "3") == 0 && say(&c, "B-5") == 0);
	CHECK(at(&c, "delivery_show", 1, "button"));
	CHECK(rhas(&c, 0, "Order B-5 is expected to be delivered on "
	    "2024-02-15. Current status: in production."));
	conv_free(&c);
}

TEST(no_data_callbacks)
{
	struct conv	c;

	conv_init(&c, dflow);
	memset(&c.data, 0, sizeof(c.data));
	CHECK(say(&c, "hi") == 0 && tap(&c, "main:orders") == 0);
	CHECK(tap(&c, "orders:recent") == 0 && at(&c, "orders", 1, "text"));
	CHECK(rhas(&c, 0, "went wrong"));
	conv_free(&c);
}

TEST(recent_orders_and_long_results)
{
	struct conv	 c;
	char		*big = malloc(3001);

	if (big == NULL)
		return;
	conv_init(&c, dflow);
	CHECK(say(&c, "hi") == 0 && tap(&c, "main:orders") == 0);
	c.fk.lines = "A-1 shipped\nA-2 in production";
	CHECK(tap(&c, "orders:recent") == 0 &&
	    at(&c, "orders_recent", 1, "button"));
	CHECK(rhas(&c, 0, "Your recent orders:\n\nA-1 shipped\nA-2"));
	/* Too long for a button body: text first, then the buttons. */
	memset(big, 'x', 3000);
	big[3000] = '\0';
	c.fk.lines = big;
	CHECK(tap(&c, "orders:recent") == 0 &&
	    at(&c, "orders_recent", 2, "button"));
	CHECK(strcmp(rtype(&c, 0), "text") == 0 && rhas(&c, 0, "xxxx"));
	CHECK(rhas(&c, 1, "What would you like to do next?"));
	/* Nothing found. */
	c.fk.rc = BOT_NOT_FOUND;
	CHECK(tap(&c, "orders:recent") == 0 &&
	    at(&c, "orders_recent", 1, "button"));
	CHECK(rhas(&c, 0, "no recent orders"));
	/* Bytes that are not UTF-8 from the database become "?". */
	c.fk.rc = BOT_FOUND;
	c.fk.lines = "bad \xff\xfe byte \xc3";
	CHECK(tap(&c, "orders:recent") == 0 &&
	    at(&c, "orders_recent", 1, "button"));
	CHECK(rhas(&c, 0, "bad ?? byte ?"));
	conv_free(&c);
	free(big);
}

TEST(schedule)
{
	struct conv	c;

	conv_init(&c, dflow);
	c.fk.lines = "Mon: A-1 milling";
	CHECK(say(&c, "hi") == 0 && tap(&c, "main:schedule") == 0);
	CHECK(tap(&c, "schedule:this_week") == 0 &&
	    at(&c, "sched_this", 1, "button"));
	CHECK(c.fk.week == 0 && rhas(&c, 0, "Production this week:\n\nMon: "));
	CHECK(say(&c, "back") == 0 && say(&c, "Next week") == 0);
	CHECK(at(&c, "sched_next", 1, "button") && c.fk.week == 1);
	c.fk.rc = BOT_NOT_FOUND;
	CHECK(say(&c, "1") == 0 && at(&c, "schedule", 1, "list"));
	CHECK(say(&c, "2") == 0 && rhas(&c, 0, "Nothing is scheduled"));
	c.fk.rc = BOT_FOUND;
	CHECK(say(&c, "back") == 0 && say(&c, "for one order") == 0);
	CHECK(at(&c, "sched_order_ask", 1, "button"));
	CHECK(say(&c, "A-7") == 0 && at(&c, "sched_order_show", 1, "button"));
	CHECK(strcmp(c.fk.number, "A-7") == 0);
	CHECK(rhas(&c, 0, "Production schedule for order A-7:\n\nMon: "));
	conv_free(&c);
}

/* Walks to the photos node with a category and a description. */
static void
to_photos(struct conv *c)
{
	CHECK(say(c, "hi") == 0 && tap(c, "main:defect") == 0);
	CHECK(tap(c, "defect:new") == 0 && at(c, "defect_category", 1,
	    "list"));
	CHECK(tap(c, "defect_category:surface") == 0);
	CHECK(at(c, "defect_describe", 1, "button"));
	CHECK(strcmp(var(c, "category"), "surface") == 0);
	CHECK(say(c, "Scratches on panel P-4, order A-1") == 0);
	CHECK(at(c, "defect_photos", 1, "button"));
	CHECK(strcmp(var(c, "description"),
	    "Scratches on panel P-4, order A-1") == 0);
}

TEST(defect_report)
{
	struct conv		 c;
	const struct bot_action	*a;

	conv_init(&c, dflow);
	to_photos(&c);
	CHECK(photo(&c, "m1") == 0 && at(&c, "defect_photos", 1, "button"));
	CHECK(rhas(&c, 0, "Photo 1 received"));
	CHECK(photo(&c, "m2") == 0 && rhas(&c, 0, "Photo 2 received"));
	CHECK(tap(&c, "defect_photos:done") == 0);
	CHECK(at(&c, "defect_done", 1, "button"));
	CHECK(rhas(&c, 0, "Your ticket number is T-77."));
	CHECK(c.fk.creates == 1 && strcmp(c.fk.category, "surface") == 0);
	CHECK(strcmp(c.fk.description, "Scratches on panel P-4, order A-1") ==
	    0);
	CHECK(c.fk.nmedia == 2 && strcmp(c.fk.media[0], "m1") == 0 &&
	    strcmp(c.fk.media[1], "m2") == 0);
	CHECK(c.out.nacts == 2 && recorded(&c, 0, "defect_photos", "done"));
	a = &c.out.acts[1];
	CHECK(a->kind == BOT_ACT_TICKET_CREATE);
	CHECK(strcmp(a->ticket, "T-77") == 0);
	CHECK(a->category != NULL && strcmp(a->category, "surface") == 0);
	CHECK(a->description != NULL && strcmp(a->description,
	    "Scratches on panel P-4, order A-1") == 0);
	CHECK(a->nmedia == 2 && strcmp(a->media[1], "m2") == 0);
	CHECK(strcmp(var(&c, "ticket"), "T-77") == 0);
	CHECK(c.st.vars != NULL && strstr(c.st.vars, "photos") == NULL);
	/* A second tap on the old Done files nothing. */
	CHECK(tap(&c, "defect_photos:done") == 0);
	CHECK(c.fk.creates == 1 && c.out.nacts == 0);
	CHECK(at(&c, "defect_done", 1, "button"));
	/* Check the ticket. */
	CHECK(say(&c, "check a ticket") == 0 && at(&c, "ticket_ask", 1,
	    "button"));
	CHECK(say(&c, "T-77") == 0 && at(&c, "ticket_show", 1, "button"));
	CHECK(rhas(&c, 0, "Ticket T-77\nCategory: surface\nState: being "
	    "checked"));
	CHECK(say(&c, "back") == 0 && at(&c, "defect", 1, "button"));
	conv_free(&c);
}

TEST(defect_photos_edges)
{
	struct conv	c;
	int		i;

	conv_init(&c, dflow);
	to_photos(&c);
	/* Text that is no option: the node's own hint, then the node. */
	CHECK(say(&c, "here it is") == 0 && at(&c, "defect_photos", 1,
	    "text"));
	CHECK(rhas(&c, 0, "Please send a photo, or tap Done"));
	CHECK(photo(&c, "m1") == 0 && rhas(&c, 0, "Photo 1 received"));
	for (i = 2; i <= 5; i++)
		CHECK(photo(&c, "mx") == 0);
	CHECK(rhas(&c, 0, "Photo 5 received"));
	/* The sixth is refused; the five are kept. */
	CHECK(photo(&c, "m6") == 0 && at(&c, "defect_photos", 1, "button"));
	CHECK(rhas(&c, 0, "I have all the photos I can take (5)"));
	/* A media id that is not one is unknown input. */
	CHECK(photo(&c, "bad id") == 0 && at(&c, "defect_photos", 1,
	    "text"));
	CHECK(photo(&c, NULL) == 0 && at(&c, "defect_photos", 1, "button"));
	/* Ticket filing fails: sorry, photos kept, try again. */
	c.fk.create_rc = BOT_FAILED;
	CHECK(say(&c, "done") == 0 && at(&c, "defect_photos", 1, "text"));
	CHECK(rhas(&c, 0, "went wrong") && c.out.nacts == 1);
	c.fk.create_rc = BOT_FOUND;
	CHECK(say(&c, "Done") == 0 && at(&c, "defect_done", 1, "button"));
	CHECK(c.fk.creates == 2 && c.fk.nmedia == 5);
	/* No photos at all; photos of an earlier visit are forgotten. */
	conv_free(&c);
	conv_init(&c, dflow);
	to_photos(&c);
	CHECK(photo(&c, "m1") == 0);
	CHECK(tap(&c, "defect_photos:cancel") == 0 && at(&c, "defect", 1,
	    "button"));
	CHECK(tap(&c, "defect:new") == 0);
	CHECK(say(&c, "6") == 0 && at(&c, "defect_describe", 1, "button"));
	CHECK(strcmp(var(&c, "category"), "documents") == 0);
	CHECK(say(&c, "Certificate missing") == 0);
	CHECK(say(&c, "no photos") == 0 && at(&c, "defect_done", 1, "button"));
	CHECK(c.fk.nmedia == 0 && c.out.acts[1].nmedia == 0);
	CHECK(strcmp(c.fk.category, "documents") == 0);
	/* An image outside the photos node is unknown input. */
	CHECK(photo(&c, "m9") == 0 && at(&c, "defect_done", 1, "text"));
	/* The back row of the categories saves no category. */
	CHECK(say(&c, "menu") == 0 && tap(&c, "main:defect") == 0);
	CHECK(tap(&c, "defect:new") == 0);
	CHECK(tap(&c, "defect_category:back") == 0);
	CHECK(at(&c, "defect", 1, "button"));
	CHECK(strcmp(var(&c, "category"), "") == 0);
	conv_free(&c);
}

TEST(prompt_answers_are_bounded)
{
	struct conv	 c;
	char		*big;
	size_t		 i;

	if ((big = malloc(5001)) == NULL)
		return;
	conv_init(&c, dflow);
	CHECK(say(&c, "hi") == 0 && tap(&c, "main:orders") == 0);
	CHECK(tap(&c, "orders:lookup") == 0);
	/* max 32 code points: é counts once. */
	for (i = 0; i < 40; i++)
		memcpy(big + 2 * i, "\xc3\xa9", 2);
	big[80] = '\0';
	CHECK(say(&c, big) == 0 && at(&c, "order_show", 1, "button"));
	CHECK(strlen(c.fk.number) == 64);
	/* 5000 bytes: cut to 4096 for matching, on a character boundary. */
	memset(big, 'a', 5000);
	memcpy(big + 4095, "\xc3\xa9", 2);
	big[5000] = '\0';
	CHECK(say(&c, "menu") == 0);
	CHECK(say(&c, big) == 0 && at(&c, "main", 1, "text"));
	to_photos(&c);
	CHECK(say(&c, "back") == 0 && at(&c, "defect_category", 1, "list"));
	CHECK(tap(&c, "defect_category:other") == 0);
	CHECK(say(&c, big) == 0 && at(&c, "defect_photos", 1, "button"));
	/* description keeps max 1000 code points. */
	CHECK(strlen(var(&c, "description")) == 1000);
	conv_free(&c);
	free(big);
}

TEST(keywords)
{
	struct conv	c;

	conv_init(&c, dflow);
	CHECK(say(&c, "hi") == 0 && tap(&c, "main:orders") == 0);
	CHECK(say(&c, "What are your PRICES?") == 0);
	CHECK(at(&c, "faq_price", 1, "button"));
	CHECK(say(&c, "can I call you") == 0 && at(&c, "help_call", 1,
	    "button"));
	CHECK(rhas(&c, 0, "on +1 555 0100 (Mon-Fri 08:00-17:00, UTC+01:00)"));
	/* Whole words only. */
	CHECK(say(&c, "recall") == 0 && at(&c, "help_call", 1, "text"));
	/* A phrase. */
	CHECK(say(&c, "menu") == 0 && say(&c, "ok, thank you!") == 0);
	CHECK(at(&c, "main", 1, "text") && rhas(&c, 0, "You are welcome"));
	CHECK(c.st.hinted == 0);
	/* The first rule in file order wins. */
	CHECK(say(&c, "phone price") == 0 && at(&c, "faq_price", 1, NULL));
	/* Options go before keywords: "Order status" is main's option. */
	CHECK(say(&c, "menu") == 0 && say(&c, "order status") == 0 &&
	    at(&c, "orders", 1, "list") && recorded(&c, 0, "main", "orders"));
	/* Inside a prompt the words are the answer. */
	CHECK(tap(&c, "orders:lookup") == 0 && say(&c, "phone") == 0);
	CHECK(at(&c, "order_show", 1, "button"));
	CHECK(strcmp(c.fk.number, "phone") == 0);
	/* Keyword to a confirmation, then the hand-off. */
	CHECK(say(&c, "I want a human") == 0 && at(&c, "help_person", 1,
	    "button"));
	conv_free(&c);
}

TEST(hand_off_person)
{
	struct conv		 c;
	const struct bot_action	*a;

	/* Monday 10:00: open. */
	conv_init(&c, dflow);
	CHECK(say(&c, "hi") == 0 && say(&c, "4") == 0);
	CHECK(say(&c, "talk to a person") == 0 && at(&c, "main", 1, "text"));
	CHECK(rhas(&c, 0, "will answer you here shortly"));
	CHECK(c.out.nacts == 2 && recorded(&c, 0, "help", "person"));
	a = &c.out.acts[1];
	CHECK(a->kind == BOT_ACT_HAND_OFF_PERSON && a->url == NULL);
	CHECK(a->message != NULL && strcmp(a->message, rbody(&c, 0)) == 0);
	conv_free(&c);
	/* Saturday: when someone answers. */
	conv_init(&c, dflow);
	c.now = MON10 + 5 * DAY;
	CHECK(say(&c, "hi") == 0 && tap(&c, "main:help") == 0);
	CHECK(tap(&c, "help:person") == 0 && at(&c, "main", 1, "text"));
	CHECK(rhas(&c, 0, "away right now; someone will answer you here "
	    "from Monday 08:00 (UTC+01:00)."));
	CHECK(c.out.acts[1].kind == BOT_ACT_HAND_OFF_PERSON);
	/* By keyword and confirmation. */
	CHECK(say(&c, "can a person help") == 0 && at(&c, "help_person", 1,
	    "button"));
	CHECK(say(&c, "yes, please") == 0 && at(&c, "main", 1, "text"));
	CHECK(c.out.acts[1].kind == BOT_ACT_HAND_OFF_PERSON);
	conv_free(&c);
}

TEST(hand_off_agent)
{
	struct conv	 c;
	struct flow	*f;

	f = load_q("{'start':'m','agent_url':'https://agent.example/chat',"
	    "'texts':{'hand_off_agent':'Our assistant takes over.'},"
	    "'nodes':{'m':{'kind':'buttons','body':'Hi','options':[{'id':"
	    "'ai','title':'Ask the assistant','action':'hand_off_agent'}]}}}");
	CHECK(f != NULL);
	if (f == NULL)
		return;
	conv_init(&c, f);
	CHECK(say(&c, "hi") == 0 && say(&c, "1") == 0);
	CHECK(at(&c, "m", 1, "text") && rhas(&c, 0, "assistant takes over"));
	CHECK(c.out.nacts == 2 && c.out.acts[1].kind == BOT_ACT_HAND_OFF_AGENT);
	CHECK(strcmp(c.out.acts[1].url, "https://agent.example/chat") == 0);
	conv_free(&c);
	flow_free(f);
}

/*
 * body is template t filled in: t's literal parts, in order, with text
 * for each {name} between them; "{{" stands for "{".
 */
static int
filled(const char *body, const char *t)
{
	char		 lit[4096];
	const char	*b = body, *p, *hit;
	size_t		 n;
	int		 first = 1;

	for (;;) {
		/* The literal part up to the next placeholder or the end. */
		for (n = 0; *t != '\0' && !(t[0] == '{' && t[1] != '{') &&
		    n < sizeof(lit) - 1; t++) {
			lit[n++] = *t;
			if (t[0] == '{')
				t++;	/* "{{" */
		}
		lit[n] = '\0';
		if (n == sizeof(lit) - 1)
			return 0;	/* longer than any template here */
		if (*t == '\0')	/* the tail: body must end with it */
			return first ? strcmp(b, lit) == 0 :
			    strlen(b) >= n && strcmp(b + strlen(b) - n, lit) == 0;
		if (first ? strncmp(b, lit, n) != 0 :
		    (hit = strstr(b, lit)) == NULL)
			return 0;
		b = first ? b + n : hit + n;
		first = 0;
		if ((p = strchr(t, '}')) == NULL)
			return 0;
		t = p + 1;
	}
}

/* The reply a node's options go with: "list", "button" or "text". */
static const char *
kind_of(const struct flow_node *nd)
{
	if (nd->nopts == 0)
		return "text";
	return nd->kind == FLOW_LIST || nd->nopts > 3 ? "list" : "button";
}

/*
 * After option op of node nd was tapped (lookups answering c->fk.rc,
 * tickets filed): exactly the replies, actions and resting node the flow
 * says.  The default flow has no text chains and every lookup has
 * options, so each choice shows one node, or says one sentence.
 */
static int
as_expected(struct conv *c, const struct flow_node *nd,
    const struct flow_option *op)
{
	const struct flow	*f = c->f;
	const struct flow_node	*t = NULL;
	const char		*type = "text", *tmpl = NULL, *rest;
	enum bot_act		 act2 = BOT_ACT_NONE;
	size_t			 go = FLOW_NONE;

	switch (op->act) {
	case FLOW_ACT_GOTO:
		go = op->go;
		break;
	case FLOW_ACT_BACK:
		go = nd->parent;
		break;
	case FLOW_ACT_MENU:
		go = f->start;
		break;
	case FLOW_ACT_HAND_OFF_PERSON:
		act2 = BOT_ACT_HAND_OFF_PERSON;
		tmpl = f->texts[FLOW_TXT_HAND_OFF_OPEN];	/* MON10 */
		break;
	case FLOW_ACT_TICKET_CREATE:
		act2 = BOT_ACT_TICKET_CREATE;
		go = op->go;
		break;
	default:
		fprintf(stderr, "  %s:%s: no expectation\n", nd->id, op->id);
		return 0;
	}
	if (go != FLOW_NONE) {
		t = &f->nodes[go];
		if (t->kind == FLOW_TEXT || (t->kind == FLOW_LOOKUP &&
		    t->nopts == 0)) {
			fprintf(stderr, "  %s: chains; no expectation\n", t->id);
			return 0;
		}
		type = kind_of(t);
		tmpl = t->body;
		if (t->kind == FLOW_LOOKUP && c->fk.rc == BOT_NOT_FOUND)
			tmpl = t->not_found;
		if (t->kind == FLOW_LOOKUP && c->fk.rc == BOT_FAILED) {
			type = "text";
			tmpl = f->texts[FLOW_TXT_ERROR];
		}
	}
	if (t == NULL)
		rest = f->nodes[f->start].id;	/* handed off: starts over */
	else if (t->kind == FLOW_LOOKUP && c->fk.rc == BOT_FAILED)
		rest = f->nodes[t->parent].id;
	else
		rest = t->id;
	if (!at(c, rest, 1, type))
		return 0;
	if (!filled(rbody(c, 0), tmpl)) {
		fprintf(stderr, "  %s:%s: reply \"%.200s\" is not \"%.200s\"\n",
		    nd->id, op->id, rbody(c, 0), tmpl);
		return 0;
	}
	if (c->out.nacts != (act2 == BOT_ACT_NONE ? 1u : 2u) ||
	    !recorded(c, 0, nd->id, op->id) ||
	    (act2 != BOT_ACT_NONE && c->out.acts[1].kind != act2)) {
		fprintf(stderr, "  %s:%s: %zu actions\n", nd->id, op->id,
		    c->out.nacts);
		return 0;
	}
	return 1;
}

/*
 * Node t shown again after unknown input: its body, or for a lookup what
 * the lookup gave (no variables are set, so one that needs its number
 * finds nothing), and no action.
 */
static int
reshown(struct conv *c, const struct flow_node *t)
{
	const char	*tmpl = t->body, *type = kind_of(t), *rest = t->id;

	if (t->kind == FLOW_TEXT || (t->kind == FLOW_LOOKUP && t->nopts == 0)) {
		fprintf(stderr, "  %s: chains; no expectation\n", t->id);
		return 0;
	}
	if (t->kind == FLOW_LOOKUP && (t->arg != NULL ||
	    c->fk.rc == BOT_NOT_FOUND))
		tmpl = t->not_found;
	else if (t->kind == FLOW_LOOKUP && c->fk.rc == BOT_FAILED) {
		tmpl = c->f->texts[FLOW_TXT_ERROR];
		type = "text";
		rest = c->f->nodes[t->parent].id;
	}
	if (!at(c, rest, 1, type))
		return 0;
	if (!filled(rbody(c, 0), tmpl) || c->out.nacts != 0) {
		fprintf(stderr, "  %s: reply \"%.200s\" is not \"%.200s\", "
		    "%zu actions\n", t->id, rbody(c, 0), tmpl, c->out.nacts);
		return 0;
	}
	return 1;
}

TEST(every_node_every_option)
{
	struct conv		 c;
	const struct flow_node	*nd;
	char			 id[200];
	size_t			 n, o;
	int			 r;

	/* Each option of each node, found, not found and failing. */
	for (r = 0; r < 3; r++)
		for (n = 0; n < dflow->nnodes; n++) {
			nd = &dflow->nodes[n];
			for (o = 0; o < nd->nopts; o++) {
				conv_init(&c, dflow);
				c.fk.rc = r == 0 ? BOT_FOUND : r == 1 ?
				    BOT_NOT_FOUND : BOT_FAILED;
				(void)strlcpy(c.st.node, nd->id,
				    sizeof(c.st.node));
				c.st.last_active = c.now - 1;
				c.st.vars = strdup("{\"order_number\":\"A-1\","
				    "\"ticket_number\":\"T-1\"}");
				(void)snprintf(id, sizeof(id), "%s:%s", nd->id,
				    nd->opts[o].id);
				CHECK(tap(&c, id) == 0);
				CHECK(as_expected(&c, nd, &nd->opts[o]));
				conv_free(&c);
			}
		}
	/* Each node shown again after unknown input. */
	for (n = 0; n < dflow->nnodes; n++) {
		conv_init(&c, dflow);
		(void)strlcpy(c.st.node, dflow->nodes[n].id,
		    sizeof(c.st.node));
		c.st.last_active = c.now - 1;
		c.st.hinted = 1;
		CHECK(send_msg(&c, "video", NULL, NULL, "v1") == 0);
		CHECK(c.st.hinted == 0 && reshown(&c, &dflow->nodes[n]));
		conv_free(&c);
	}
}

TEST(fallback_to_numbered_text)
{
	struct conv	 c;
	struct flow	*f;
	char		 name[100];

	/* A header that grows past 60 characters once filled in. */
	f = load_q("{'start':'m','nodes':{'m':{'kind':'buttons','body':"
	    "'Hi','options':[{'id':'a','title':'Name','goto':'p'}]},'p':{"
	    "'kind':'prompt','body':'Your name?','save':'name','next':'g'},"
	    "'g':{'kind':'buttons','header':'Hello {name}','body':'Pick',"
	    "'options':[{'id':'x','title':'Red','action':'menu'},{'id':'y',"
	    "'title':'Blue','action':'menu'}]}}}");
	CHECK(f != NULL);
	if (f == NULL)
		return;
	conv_init(&c, f);
	CHECK(say(&c, "hi") == 0 && say(&c, "1") == 0 && say(&c, "Ann") == 0);
	CHECK(at(&c, "g", 1, "button"));
	CHECK(say(&c, "menu") == 0 && say(&c, "1") == 0);
	memset(name, 'n', 80);
	name[80] = '\0';
	CHECK(say(&c, name) == 0 && at(&c, "g", 1, "text"));
	CHECK(rhas(&c, 0, "Pick\n\n1. Red\n2. Blue"));
	/* The numbers then work. */
	CHECK(say(&c, "2") == 0 && at(&c, "m", 1, "button"));
	CHECK(recorded(&c, 0, "g", "y"));
	conv_free(&c);
	flow_free(f);
}

TEST(text_nodes)
{
	struct conv	 c;
	struct flow	*f;

	f = load_q("{'start':'m','nodes':{'m':{'kind':'list','body':'Hi',"
	    "'options':[{'id':'a','title':'Chain','goto':'t1'},{'id':'b',"
	    "'title':'Info','goto':'t3'},{'id':'c','title':'Recent','goto':"
	    "'k'}]},'t1':{'kind':'text','body':'One','next':'t2'},'t2':{"
	    "'kind':'text','body':'Two {count}','next':'m2'},'m2':{'kind':"
	    "'buttons','body':'Then','options':[{'id':'x','title':'X',"
	    "'action':'back'}]},'t3':{'kind':'text','body':'Just info'},'k':"
	    "{'kind':'lookup','lookup':'orders_recent','body':'{result}',"
	    "'not_found':'None','next':'t3'}}}");
	CHECK(f != NULL);
	if (f == NULL)
		return;
	conv_init(&c, f);
	CHECK(say(&c, "hi") == 0 && say(&c, "chain") == 0);
	CHECK(at(&c, "m2", 3, "button"));
	CHECK(rhas(&c, 0, "One") && strcmp(rbody(&c, 1), "Two ") == 0);
	CHECK(say(&c, "X") == 0 && at(&c, "m", 1, "list"));
	/* A text without next: the chat rests at its parent, unshown. */
	CHECK(say(&c, "2") == 0 && at(&c, "m", 1, "text"));
	CHECK(rhas(&c, 0, "Just info"));
	CHECK(say(&c, "1") == 0 && at(&c, "m2", 3, NULL));
	/* A lookup without options moves on like a text. */
	CHECK(say(&c, "menu") == 0 && say(&c, "recent") == 0);
	CHECK(at(&c, "m", 2, "text"));
	CHECK(rhas(&c, 0, "2 x bracket") && rhas(&c, 1, "Just info"));
	c.fk.rc = BOT_NOT_FOUND;
	CHECK(say(&c, "3") == 0 && at(&c, "m", 2, "text"));
	CHECK(rhas(&c, 0, "None"));
	conv_free(&c);
	flow_free(f);
}

TEST(bad_input)
{
	struct bot_state	st;
	struct bot_msg		m = { WA, "text", "hi", NULL, NULL };
	struct bot_in		in;
	struct bot_out		out;

	memset(&st, 0, sizeof(st));
	memset(&in, 0, sizeof(in));
	in.flow = dflow;
	in.state = &st;
	in.msg = &m;
	in.now = MON10;
	CHECK(bot_run(&in, &out) == 0 && out.nreplies == 1);
	bot_out_clear(&out);
	bot_out_clear(&out);
	CHECK(bot_run(NULL, &out) == -1 && out.nreplies == 0);
	in.msg = NULL;
	CHECK(bot_run(&in, &out) == -1);
	in.msg = &m;
	in.state = NULL;
	CHECK(bot_run(&in, &out) == -1);
	in.state = &st;
	m.wa_id = "";
	CHECK(bot_run(&in, &out) == -1);
	/* A recipient Meta would refuse: nothing comes out. */
	m.wa_id = "not a number";
	CHECK(bot_run(&in, &out) == -1 && out.nreplies == 0 &&
	    out.state.vars == NULL);
	m.wa_id = WA;
	m.text = NULL;
	CHECK(bot_run(&in, &out) == 0 && out.nreplies == 1);
	bot_out_clear(&out);
	m.type = NULL;	/* text */
	m.text = "hi";
	CHECK(bot_run(&in, &out) == 0 && out.nreplies == 1);
	bot_out_clear(&out);
}

TEST(greeting_helper_and_names)
{
	CHECK(bot_is_greeting(dflow, "Hi!") == 1);
	CHECK(bot_is_greeting(dflow, "  MENU ") == 1);
	CHECK(bot_is_greeting(dflow, "0") == 1);
	CHECK(bot_is_greeting(dflow, "back") == 0);
	CHECK(bot_is_greeting(dflow, "hi there") == 0);
	CHECK(bot_is_greeting(dflow, "") == 0);
	CHECK(bot_is_greeting(dflow, NULL) == 0);
	CHECK(bot_is_greeting(NULL, "hi") == 0);
	CHECK(strcmp(bot_act_names[BOT_ACT_TICKET_CREATE], "ticket_create") ==
	    0);
	CHECK(strcmp(bot_act_names[BOT_ACT_RECORD], "record") == 0);
}

int
main(void)
{
	if ((dflow = load_file(DEFAULT_FLOW)) == NULL) {
		fprintf(stderr, "test_bot: cannot load %s\n", DEFAULT_FLOW);
		return 2;
	}
	RUN(new_contact_gets_main_menu);
	RUN(choose_by_tap_number_title);
	RUN(back_and_menu_words);
	RUN(unknown_input_hint_then_menu);
	RUN(ignored_kinds_keep_state);
	RUN(expiry);
	RUN(state_from_outside);
	RUN(order_lookup);
	RUN(no_data_callbacks);
	RUN(recent_orders_and_long_results);
	RUN(schedule);
	RUN(defect_report);
	RUN(defect_photos_edges);
	RUN(prompt_answers_are_bounded);
	RUN(keywords);
	RUN(hand_off_person);
	RUN(hand_off_agent);
	RUN(every_node_every_option);
	RUN(fallback_to_numbered_text);
	RUN(text_nodes);
	RUN(bad_input);
	RUN(greeting_helper_and_names);
	CHECK(bad_replies == 0);
	flow_free(dflow);
	return CHECK_DONE();
}
