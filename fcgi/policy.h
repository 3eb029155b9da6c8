/*
 * policy.h: WhatsApp's rules in one place (see policy.c).  Pure: values
 * in, a decision out; the time is always passed in.  Storage, the bot,
 * the outbox and the Graph reply reader ask here instead of each keeping
 * its own copy of a rule.
 */
#ifndef POLICY_H
#define POLICY_H

#include <stdint.h>

struct wh_item;

#define POLICY_WINDOW_S		(24 * 3600)	/* reference 9.4 */
#define POLICY_WINDOW_AD_S	(72 * 3600)	/* reference 5.13, 9.4 */
#define POLICY_WINDOW_MARGIN_S	60		/* reference 9.4: a margin */
#define POLICY_TIER_SPAN_S	(24 * 3600)	/* reference 9.3: 24 h */

/* What a send may do given the peer's window and opt-out (reference 9.4). */
enum policy_send {
	POLICY_SEND_OK,			/* send it */
	POLICY_SEND_WINDOW_CLOSED,	/* free-form, the window is closed */
	POLICY_SEND_OPTED_OUT,		/* the contact asked for nothing */
	POLICY_SEND__MAX
};

/* What policy_send() needs to know of the recipient (from db_peer). */
struct policy_peer {
	int64_t	 window_expires_at;	/* end of the window, 0 none */
	int64_t	 last_inbound_at;	/* their newest message, 0 none */
	int64_t	 opted_out_at;		/* time of the newest STOP/START */
	int	 opted_out;		/* 1 when their newest signal is STOP */
};

/* What a message's text says about marketing (DESIGN rule 5). */
enum policy_opt {
	POLICY_OPT_NONE,	/* an ordinary message */
	POLICY_OPT_STOP,	/* one of WA_STOP_KEYWORDS: opt out */
	POLICY_OPT_START,	/* one of WA_START_KEYWORDS: opt back in */
	POLICY_OPT__MAX
};

/* The class of a Meta error code (reference 8.2, column Retry). */
enum policy_err {
	POLICY_ERR_RETRY,	/* transient: back off, try again */
	POLICY_ERR_RETRY_NUMBER, /* 130429, 80007, 4: slow the number */
	POLICY_ERR_RETRY_PAIR,	/* 131056: back off this recipient */
	POLICY_ERR_FAIL,	/* policy or validation: never retried as is */
	POLICY_ERR_OPTED_OUT,	/* 131050: fail and record the opt-out */
	POLICY_ERR_PAUSE_TOKEN,	/* 190 or 0: stop until the token changes */
	POLICY_ERR_BREAKER,	/* 131048: pause the number for a while */
	POLICY_ERR__MAX
};

/*
 * What the rules say of one webhook item, for storage to write: the
 * apply (apply.c) asks policy_verdict() and hands the answer to
 * db_apply_item(), so storage keeps no rule of its own.
 */
struct policy_verdict {
	int64_t		 window_expires; /* a message: its reply window's end */
	enum policy_opt	 opt;		/* a message: STOP, START or neither */
	int		 opts_out;	/* a status: its error means opted out */
};

void		 policy_verdict(const struct wh_item *, const char *stop_words,
		    const char *start_words, struct policy_verdict *);
int64_t		 policy_window_expires(int64_t inbound_at, int ad_referral);
int		 policy_window_open(int64_t expires_at, int64_t now_s);
int		 policy_inbound_late(int64_t inbound_at, int64_t now_s);
enum policy_send policy_send(const struct policy_peer *, int is_template,
		    int free_form, int optout_ack, int64_t now_s,
		    int *business_initiated);
int64_t		 policy_tier_reach(const char *tier);
int		 policy_tier_refuses(int64_t reached, int already,
		    int64_t limit);

int		 policy_keyword_match(const char *list, const char *text);
enum policy_opt	 policy_opt_word(const char *type, const char *text,
		    const char *stop_words, const char *start_words);

int		 policy_status_rank(const char *status);
const char	*policy_status_merge(const char *current, const char *incoming);
const char	*policy_status_name(const char *name);

enum policy_err	 policy_error_class(int64_t code, long http);
int		 policy_error_opts_out(int64_t code);

#endif
