/*
 * bot.h: the chatbot's pure core (see bot.c).  One inbound message, the
 * contact's state, the time and the flow in; the new state, the replies as
 * send requests (each passes msg_parse()) and actions for the caller out.
 * Business data comes through callbacks, so the worker plugs in SQLite and
 * the unit tests plug in fakes.  No I/O, no globals.
 *
 * The caller decides silence: statuses, duplicates, opt-outs and handed-off
 * conversations never reach bot_run().
 */
#ifndef BOT_H
#define BOT_H

#include <stddef.h>
#include <stdint.h>

#include "flow.h"

#define BOT_TIMEOUT_DEFAULT	(30 * 60)	/* idle seconds that reset */
#define BOT_TEXT_MAX		4096	/* inbound bytes used for matching */
#define BOT_VARS_MAX		8192	/* bytes of the state's vars JSON */
#define BOT_REPLIES_MAX		6	/* replies to one message */
#define BOT_ACTS_MAX		4	/* actions for one message */
#define BOT_LOOKUP_MAX		4096	/* bytes a text lookup may fill */
#define BOT_FIELD_MAX		64	/* bytes of a number, status... */
#define BOT_MEDIA_ID_MAX	128	/* bytes of a media id */

/*
 * Per-contact state, as the caller stores it.  A zeroed struct is a new
 * contact.
 */
struct bot_state {
	char	 node[FLOW_ID_MAX + 1];	/* current node id; "" none */
	char	*vars;		/* collected values, a JSON object, or NULL;
				   in bot_out: from malloc() */
	int64_t	 last_active;	/* epoch seconds of the last message; 0 */
	int	 hinted;	/* 1: the unknown-input hint was given */
};

/* One inbound message (reference 5), borrowed from the caller. */
struct bot_msg {
	const char	*wa_id;		/* the contact: replies go "to" it */
	const char	*type;		/* Meta's type: text, interactive,
					   button, image...; NULL is text */
	const char	*text;		/* body, caption, tapped title; NULL */
	const char	*reply_id;	/* tapped button or row id, template
					   button payload; NULL */
	const char	*media_id;	/* image: the media id; NULL */
};

/* What a lookup found. */
enum bot_rc {
	BOT_FOUND,
	BOT_NOT_FOUND,
	BOT_FAILED,		/* the data could not be read: say sorry */
	BOT_RC__MAX
};

struct bot_order {
	char	number[BOT_FIELD_MAX];
	char	status[BOT_FIELD_MAX];
	char	expected_delivery[BOT_FIELD_MAX];	/* YYYY-MM-DD or "" */
	char	lines[BOT_LOOKUP_MAX];	/* one line per item */
};

struct bot_ticket {
	char	number[BOT_FIELD_MAX];
	char	state[BOT_FIELD_MAX];
	char	category[BOT_FIELD_MAX];
};

/* A defect report the bot files through ticket_create(). */
struct bot_ticket_req {
	const char		*category;	/* option id chosen; "" */
	const char		*description;	/* the customer's words; "" */
	const char *const	*media;		/* image media ids */
	size_t			 nmedia;
};

/*
 * Business data.  Each callback gets arg and the contact's wa_id (so it
 * shows a customer only their own records) and fills the caller-provided
 * struct or NUL-terminated text buffer of sz bytes (text may hold several
 * lines).  A NULL callback counts as BOT_FAILED.
 */
struct bot_data {
	void	*arg;
	enum bot_rc (*order_get)(void *arg, const char *wa_id,
	    const char *number, struct bot_order *);
	enum bot_rc (*orders_recent)(void *arg, const char *wa_id,
	    char *buf, size_t sz);
	/* week 0 is this week, 1 next week. */
	enum bot_rc (*schedule_week)(void *arg, const char *wa_id, int week,
	    char *buf, size_t sz);
	enum bot_rc (*schedule_order)(void *arg, const char *wa_id,
	    const char *number, char *buf, size_t sz);
	enum bot_rc (*ticket_get)(void *arg, const char *wa_id,
	    const char *number, struct bot_ticket *);
	/*
	 * Files the report (in the caller's transaction) and writes its
	 * number into number[0..sz).  BOT_FOUND on success.
	 */
	enum bot_rc (*ticket_create)(void *arg, const char *wa_id,
	    const struct bot_ticket_req *, char *number, size_t sz);
};

struct bot_in {
	const struct flow	*flow;
	const struct bot_state	*state;	/* zeroed for a new contact */
	const struct bot_msg	*msg;
	int64_t			 now;		/* epoch seconds */
	int64_t			 timeout;	/* idle seconds; 0: default */
	const struct bot_data	*data;		/* NULL: no business data */
};

enum bot_act {
	BOT_ACT_NONE,
	BOT_ACT_RECORD,			/* an option was chosen: count it */
	BOT_ACT_HAND_OFF_PERSON,	/* assign the chat to a person */
	BOT_ACT_HAND_OFF_AGENT,		/* assign the chat to the agent */
	BOT_ACT_TICKET_CREATE,		/* a ticket was filed */
	BOT_ACT__MAX
};

extern const char *const bot_act_names[BOT_ACT__MAX];

struct bot_action {
	enum bot_act	 kind;
	const char	*node;		/* RECORD: node id, from the flow */
	const char	*option;	/* RECORD: option id, from the flow */
	const char	*url;		/* HAND_OFF_AGENT: from the flow */
	char		*message;	/* HAND_OFF_*: what the customer was
					   told, already in replies; from
					   malloc() */
	char		*category;	/* TICKET_CREATE: from malloc() */
	char		*description;	/* TICKET_CREATE: from malloc() */
	char		**media;	/* TICKET_CREATE: media ids; from
					   malloc(), each too */
	size_t		 nmedia;
	char		 ticket[BOT_FIELD_MAX];	/* TICKET_CREATE: its number */
};

/*
 * The result.  Pointers into the flow stay valid until flow_free().
 * Free with bot_out_clear().
 */
struct bot_out {
	struct bot_state state;		/* store this for the contact */
	char		*replies[BOT_REPLIES_MAX]; /* send requests, in order;
						      each from malloc() */
	size_t		 nreplies;
	struct bot_action acts[BOT_ACTS_MAX];
	size_t		 nacts;
};

/*
 * Answers in->msg.  Returns 0 with out filled (zero replies is possible:
 * reactions, edits and the like are left unanswered), or -1 when in is
 * unusable or memory runs out, out then cleared.  Callbacks run before it
 * returns.  The caller frees out with bot_out_clear() either way.
 */
int	 bot_run(const struct bot_in *in, struct bot_out *out);

/* Frees what out holds and zeroes it; accepts a zeroed or cleared out. */
void	 bot_out_clear(struct bot_out *out);

/*
 * 1 when text, as a whole message, is one of the flow's menu words
 * ("menu", "hi"...), else 0: a handed-off chat might return to the bot.
 */
int	 bot_is_greeting(const struct flow *, const char *text);

#endif
