/*
 * policy.c: WhatsApp's rules, kept in one place and free of I/O, SQLite,
 * clocks and logging (tests/layers.sh checks it), so tests/unit/
 * test_policy.c can hold every edge of every rule:
 * - the customer-service window: 24 hours from the customer's message,
 *   72 after an ad referral, and whether a send at a given time may be
 *   free-form or must be a template (reference 5.13, 9.4), and the
 *   messaging tier's reach outside it (reference 9.3);
 * - who opted out: the STOP and START words (WA_STOP_KEYWORDS,
 *   WA_START_KEYWORDS) and what an opt-out refuses (DESIGN rule 5);
 * - the order of delivery statuses (reference 6; DESIGN rule 3);
 * - what to do about a Meta error code (reference 8.2).
 * Callers: outbox.c (the send decision), chat.c (late messages, STOP and
 * START), graph.c (error classes), webhook.c (status names and order),
 * and storage's apply (window end, opt-out words, status order, 131050).
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "policy.h"
#include "webhook.h"

/*
 * End of the customer-service window a customer's message at inbound_at
 * opens: 24 hours, or 72 when it came from a Click-to-WhatsApp ad (the
 * caller says so: a message with a referral).  Reference 5.13, 9.4.
 */
int64_t
policy_window_expires(int64_t inbound_at, int ad_referral)
{
	return inbound_at + (ad_referral ? POLICY_WINDOW_AD_S :
	    POLICY_WINDOW_S);
}

/*
 * 1 when a window ending at expires_at is still open at now_s with the
 * margin to spare (a row queued now may wait a little before it is
 * sent), else 0.  Reference 9.4: "with a safety margin".
 */
int
policy_window_open(int64_t expires_at, int64_t now_s)
{
	return expires_at > now_s + POLICY_WINDOW_MARGIN_S;
}

/*
 * 1 when a customer's message of inbound_at is older than a window at
 * now_s: a late redelivery (reference 3) the bot does not answer.
 */
int
policy_inbound_late(int64_t inbound_at, int64_t now_s)
{
	return inbound_at < now_s - POLICY_WINDOW_S;
}

/*
 * Whether a send to peer p at now_s may go: a free-form message needs an
 * open window; an opted-out contact gets no template, and no free-form
 * message unless they wrote to us again after opting out (then it is a
 * reply, not a business-initiated message) or it is the bot's
 * confirmation of their STOP (optout_ack, not a template).  Sets
 * *business_initiated when the send counts against the messaging tier
 * (a template outside the window, reference 9.3); 0 when refused.
 */
enum policy_send
policy_send(const struct policy_peer *p, int is_template, int free_form,
    int optout_ack, int64_t now_s, int *business_initiated)
{
	int open = policy_window_open(p->window_expires_at, now_s);

	*business_initiated = 0;
	if (free_form && !open)
		return POLICY_SEND_WINDOW_CLOSED;
	if (p->opted_out && !(optout_ack && !is_template) &&
	    (is_template || p->last_inbound_at <= p->opted_out_at))
		return POLICY_SEND_OPTED_OUT;
	*business_initiated = is_template && !open;
	return POLICY_SEND_OK;
}

/*
 * 1 when a business-initiated send to a new contact must wait: the
 * messaging tier's limit of unique contacts reached in POLICY_TIER_SPAN_S
 * (reached, not counting this one; already when this contact is one of
 * them) is used up (reference 9.3).  limit 0 or less: no limit.
 */
int
policy_tier_refuses(int64_t reached, int already, int64_t limit)
{
	return limit > 0 && !already && reached >= limit;
}

/*
 * 1 when text, trimmed, is one of the comma-separated words of list
 * (each word trimmed too; ASCII case ignored): "stop", " Stop " and
 * "STOP" all match "STOP"; "stop!" and "stop please" do not.  0 when
 * either is NULL.
 */
int
policy_keyword_match(const char *list, const char *text)
{
	const char	*w, *e, *t, *te;
	size_t		 n;

	if (list == NULL || text == NULL)
		return 0;
	for (t = text; isspace((unsigned char)*t); t++)
		continue;
	for (te = t + strlen(t); te > t && isspace((unsigned char)te[-1]); te--)
		continue;
	for (w = list; *w != '\0'; w = *e ? e + 1 : e) {
		if ((e = strchr(w, ',')) == NULL)
			e = w + strlen(w);
		while (w < e && isspace((unsigned char)*w))
			w++;
		n = (size_t)(e - w);
		while (n > 0 && isspace((unsigned char)w[n - 1]))
			n--;
		if (n > 0 && n == (size_t)(te - t) && strncasecmp(w, t, n) == 0)
			return 1;
	}
	return 0;
}

/*
 * What a message of type with text says: only a text message counts,
 * and a word in both lists is a STOP (the safe reading).
 */
enum policy_opt
policy_opt_word(const char *type, const char *text, const char *stop_words,
    const char *start_words)
{
	if (type == NULL || strcmp(type, "text") != 0)
		return POLICY_OPT_NONE;
	if (policy_keyword_match(stop_words, text))
		return POLICY_OPT_STOP;
	if (policy_keyword_match(start_words, text))
		return POLICY_OPT_START;
	return POLICY_OPT_NONE;
}

/* Reference section 6: accepted < sent < delivered < read < played. */
static const struct {
	const char	*name;
	int		 rank;
} ranks[] = {
	{ "accepted", 0 },
	{ "sent", 10 },
	/*
	 * failed sits between sent and delivered: it replaces accepted or
	 * sent, never delivered/read/played, and a later sent never undoes
	 * it.  Ranking it so makes the merge a max, the same in any order.
	 */
	{ "failed", 15 },
	{ "delivered", 20 },
	{ "read", 30 },
	{ "played", 40 },
};

/* The rank of a status name (exact, lower case); -1 unknown or NULL. */
int
policy_status_rank(const char *status)
{
	size_t i;

	if (status == NULL)
		return -1;
	for (i = 0; i < sizeof(ranks) / sizeof(ranks[0]); i++)
		if (strcmp(ranks[i].name, status) == 0)
			return ranks[i].rank;
	return -1;
}

/*
 * The status a message has after incoming arrives when it had current
 * (either may be NULL): one of the two pointers.  Unknown statuses
 * change nothing.  Commutative and idempotent, so statuses may arrive in
 * any order and any number of times (DESIGN rule 3).
 */
const char *
policy_status_merge(const char *current, const char *incoming)
{
	int rc = policy_status_rank(current), ri = policy_status_rank(incoming);

	if (ri < 0)
		return current;
	if (rc < 0 || ri > rc)
		return incoming;
	return current;
}

/*
 * Our name (static) for a status name in any case ("DELIVERED", as
 * history_context gives it, reference 14.2), or NULL when unknown.
 */
const char *
policy_status_name(const char *name)
{
	size_t i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < sizeof(ranks) / sizeof(ranks[0]); i++)
		if (strcasecmp(ranks[i].name, name) == 0)
			return ranks[i].name;
	return NULL;
}

/* Reference 8.2: every code that is not a plain "do not retry". */
static const struct {
	int64_t		code;
	enum policy_err	class;
} codes[] = {
	{ 0, POLICY_ERR_PAUSE_TOKEN },		/* AuthException */
	{ 1, POLICY_ERR_RETRY },		/* API unknown: maybe 5xx */
	{ 2, POLICY_ERR_RETRY },		/* service unavailable */
	{ 4, POLICY_ERR_RETRY_NUMBER },		/* app call rate limit */
	{ 190, POLICY_ERR_PAUSE_TOKEN },	/* token expired or invalid */
	{ 80007, POLICY_ERR_RETRY_NUMBER },	/* WABA rate limit */
	{ 130429, POLICY_ERR_RETRY_NUMBER },	/* the number's throughput */
	{ 131000, POLICY_ERR_RETRY },		/* something went wrong */
	{ 131016, POLICY_ERR_RETRY },		/* service unavailable */
	{ 131048, POLICY_ERR_BREAKER },		/* spam rate limit: quality */
	{ 131050, POLICY_ERR_OPTED_OUT },	/* stopped marketing messages */
	{ 131052, POLICY_ERR_RETRY },		/* media download error */
	{ 131056, POLICY_ERR_RETRY_PAIR },	/* pair rate limit */
	{ 131057, POLICY_ERR_RETRY },		/* account in maintenance */
	{ 133004, POLICY_ERR_RETRY },		/* server unavailable */
};

/*
 * The class of Meta error code (-1 when the reply had none) with HTTP
 * status http.  Meta asks callers to act on the code, not the status or
 * the text (reference 8.1); a code not in the table is not retried.
 */
enum policy_err
policy_error_class(int64_t code, long http)
{
	size_t i;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (codes[i].code == code)
			return codes[i].class;
	if (code >= 0)
		return POLICY_ERR_FAIL;
	/* No code: the status decides (reference 8.2, last paragraph). */
	if (http >= 500 || http == 429 || http == 408 || http == 0)
		return POLICY_ERR_RETRY;
	if (http == 401)
		return POLICY_ERR_PAUSE_TOKEN;
	return POLICY_ERR_FAIL;
}

/*
 * 1 when a failed status or send with error code means the customer
 * stopped marketing messages: record the opt-out (reference 8.2).
 */
int
policy_error_opts_out(int64_t code)
{
	return code > 0 && policy_error_class(code, 400) ==
	    POLICY_ERR_OPTED_OUT;
}

/*
 * The rules for one webhook item (see struct policy_verdict): a message
 * gets its window's end, 72 hours when it came through an ad (a referral
 * with an ad's source id or click id, reference 5.13) and its STOP/START
 * meaning; a status whether its error code opts the customer out.
 * Anything else gets zeroes.
 */
void
policy_verdict(const struct wh_item *it, const char *stop_words,
    const char *start_words, struct policy_verdict *v)
{
	memset(v, 0, sizeof(*v));
	switch (it->kind) {
	case WH_MESSAGE:
		v->window_expires = policy_window_expires(it->timestamp,
		    it->referral_ctwa_clid != NULL ||
		    it->referral_source_id != NULL);
		v->opt = policy_opt_word(it->type, it->text, stop_words,
		    start_words);
		break;
	case WH_STATUS:
		v->opts_out = policy_error_opts_out(it->err_code);
		break;
	default:
		break;
	}
}

/*
 * The reach of a messaging tier as Meta names it (reference 15.1):
 * customers in 24 hours, 0 for unlimited, -1 when tier is NULL or a name
 * not known here.
 */
int64_t
policy_tier_reach(const char *tier)
{
	static const struct {
		const char	*name;
		int64_t		 reach;
	} tiers[] = {
		{ "TIER_50", 50 },
		{ "TIER_250", 250 },
		{ "TIER_1K", 1000 },
		{ "TIER_2K", 2000 },
		{ "TIER_10K", 10000 },
		{ "TIER_100K", 100000 },
		{ "TIER_UNLIMITED", 0 },
	};
	size_t i;

	if (tier == NULL)
		return -1;
	for (i = 0; i < sizeof(tiers) / sizeof(tiers[0]); i++)
		if (strcmp(tier, tiers[i].name) == 0)
			return tiers[i].reach;
	return -1;
}
