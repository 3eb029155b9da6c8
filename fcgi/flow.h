/*
 * flow.h: the chatbot's menus, prompts, keywords and opening hours, loaded
 * from a JSON flow file (format at the top of flow.c; the shipped one is
 * deploy/flows/default.json) and checked against Meta's interactive message
 * limits (reference 7.2 and 9.5), so that changing a menu needs no rebuild.
 * Pure: bytes in, struct or report out, no I/O.
 */
#ifndef FLOW_H
#define FLOW_H

#include <stddef.h>
#include <stdint.h>

#define FLOW_NONE	((size_t)-1)	/* no node */
#define FLOW_ID_MAX	64		/* node and option id bytes */
#define FLOW_FILE_MAX	(1024 * 1024)	/* flow file bytes */
#define FLOW_NODES_MAX	256
#define FLOW_WORDS_MAX	16		/* menu or back words */
#define FLOW_RANGES_MAX	64		/* opening hours, one a day */
#define FLOW_PHOTOS_MAX	10		/* photos one node collects */
#define FLOW_CHAIN_MAX	4		/* nodes shown for one message */
#define FLOW_REPORT_MAX	64		/* report lines kept */
#define FLOW_LINE_MAX	256		/* bytes of one report line */

enum flow_kind {
	FLOW_BUTTONS,	/* reply buttons: body and 1-3 options */
	FLOW_LIST,	/* list: body and 1-10 options */
	FLOW_TEXT,	/* plain text, then "next" or back to the parent */
	FLOW_PROMPT,	/* asks; the next text is saved, then "next" */
	FLOW_PHOTOS,	/* collects image messages until an option */
	FLOW_LOOKUP,	/* asks the caller for business data and shows it */
	FLOW_KIND__MAX
};

extern const char *const flow_kind_names[FLOW_KIND__MAX];

enum flow_act {
	FLOW_ACT_GOTO,			/* show the "goto" node */
	FLOW_ACT_BACK,			/* show the parent node */
	FLOW_ACT_MENU,			/* show the start node */
	FLOW_ACT_HAND_OFF_PERSON,	/* pass the chat to a person */
	FLOW_ACT_HAND_OFF_AGENT,	/* pass the chat to agent_url */
	FLOW_ACT_TICKET_CREATE,		/* file a defect report */
	FLOW_ACT__MAX
};

extern const char *const flow_act_names[FLOW_ACT__MAX];

enum flow_lookup {
	FLOW_LK_ORDER,			/* one order by number ("arg") */
	FLOW_LK_ORDERS_RECENT,		/* this customer's recent orders */
	FLOW_LK_SCHEDULE_THIS_WEEK,	/* production this week */
	FLOW_LK_SCHEDULE_NEXT_WEEK,	/* production next week */
	FLOW_LK_SCHEDULE_ORDER,		/* production of one order ("arg") */
	FLOW_LK_TICKET,			/* one ticket by number ("arg") */
	FLOW_LK__MAX
};

extern const char *const flow_lookup_names[FLOW_LK__MAX];

/* The flow's fixed sentences ("texts" in the file); defaults in flow.c. */
enum flow_text {
	FLOW_TXT_HINT,			/* unknown input, said once */
	FLOW_TXT_ERROR,			/* a lookup or ticket failed */
	FLOW_TXT_MORE,			/* buttons' body after a long text */
	FLOW_TXT_LIST_BUTTON,		/* label that opens a list */
	FLOW_TXT_HAND_OFF_OPEN,		/* a person answers soon */
	FLOW_TXT_HAND_OFF_CLOSED,	/* a person answers at {next_open} */
	FLOW_TXT_HAND_OFF_AGENT,	/* passed to the agent */
	FLOW_TXT_PHOTO_RECEIVED,	/* after each photo, with {count} */
	FLOW_TXT_PHOTOS_FULL,		/* one photo too many */
	FLOW_TXT_TICKET_CREATED,	/* ticket_create without goto */
	FLOW_TXT__MAX
};

extern const char *const flow_text_names[FLOW_TXT__MAX];

/* Every const char * below borrows from the tree the flow owns. */
struct flow_option {
	const char	*id;		/* unique in its node */
	const char	*title;		/* button or row title */
	const char	*description;	/* list row description or NULL */
	enum flow_act	 act;
	size_t		 go;		/* node to show, or FLOW_NONE */
};

struct flow_node {
	const char	*id;
	enum flow_kind	 kind;
	const char	*header;	/* buttons, list: or NULL */
	const char	*body;		/* template; lookup: when found */
	const char	*footer;	/* buttons, list: or NULL */
	const char	*button;	/* list label, or NULL for the text */
	const char	*hint;		/* unknown input here, or NULL */
	const char	*not_found;	/* lookup: template, nothing found */
	const char	*received;	/* photos: template, or NULL */
	const char	*save;		/* variable the answer goes to; NULL */
	const char	*arg;		/* lookup: variable looked up; NULL */
	enum flow_lookup lookup;	/* lookup: what */
	size_t		 max;		/* prompt: code points; photos: count */
	size_t		 next;		/* node after, or FLOW_NONE */
	size_t		 parent;	/* where "back" goes */
	struct flow_option *opts;	/* from malloc() */
	size_t		 nopts;
};

struct flow_keyword {
	const char	*phrase;	/* lower case, single spaces */
	size_t		 go;		/* node to show, or FLOW_NONE */
	const char	*reply;		/* else this template */
};

/* Opening hours: minutes of the week from Monday 00:00 local time. */
struct flow_range {
	int		 from;		/* first minute open */
	int		 to;		/* first closed; may pass 10080 */
};

struct flow {
	void		*root;		/* json_t *, owned */
	size_t		 start;		/* the main menu */
	struct flow_node *nodes;	/* from malloc() */
	size_t		 nnodes;
	struct flow_keyword *kws;	/* from malloc(), file order */
	size_t		 nkws;
	const char	*menu_words[FLOW_WORDS_MAX]; /* lower case */
	size_t		 nmenu_words;
	const char	*back_words[FLOW_WORDS_MAX];
	size_t		 nback_words;
	const char	*phone;		/* number to call, or NULL */
	const char	*agent_url;	/* hand_off_agent endpoint, or NULL */
	const char	*texts[FLOW_TXT__MAX];
	const char	*day_names[7];	/* Monday first */
	int		 utc_offset;	/* minutes east of UTC */
	struct flow_range ranges[FLOW_RANGES_MAX];
	size_t		 nranges;	/* 0: always open */
	char		 hours_text[512]; /* "Mon-Fri 08:00-17:00, Sat ..." */
};

/*
 * Problems found by flow_load(), one "path: message" line each, path being
 * the JSON path in the file ("nodes.main.options[2].goto").  Lines beyond
 * FLOW_REPORT_MAX are counted in total but not kept.
 */
struct flow_report {
	size_t		 n;		/* lines kept */
	size_t		 total;		/* problems found */
	char		 lines[FLOW_REPORT_MAX][FLOW_LINE_MAX];
};

/*
 * Parses and checks the flow file json[0..len).  Returns the flow, or NULL
 * when it has any problem: every problem is then in report (always reset
 * first), or memory ran out (report says so).  Caller frees with
 * flow_free().
 */
struct flow	*flow_load(const char *json, size_t len, struct flow_report *);
void		 flow_free(struct flow *);

/* The node named id, or FLOW_NONE. */
size_t		 flow_node_find(const struct flow *, const char *id);

/* 1 when the business is open at now (epoch seconds), else 0. */
int		 flow_is_open(const struct flow *, int64_t now);

/* The next time it opens (now when open), epoch seconds. */
int64_t		 flow_next_open(const struct flow *, int64_t now);

/*
 * Writes t as the business's local weekday and time ("Monday 08:00") into
 * buf.  Returns 0, or -1 when it does not fit.
 */
int		 flow_when(const struct flow *, int64_t t, char *buf,
		    size_t sz);

/* Writes the time zone as "UTC+01:00".  Returns 0, or -1: it does not fit. */
int		 flow_tz(const struct flow *, char *buf, size_t sz);

#endif
