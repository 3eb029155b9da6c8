/*
 * test_policy.c: every WhatsApp rule of policy.c at its edges.  Links
 * policy.o alone: the rules need no database, clock or socket.
 */
#include <stddef.h>
#include <string.h>
#include "check.h"
#include "policy.h"
#include "webhook.h"

#define NOW	1700000000LL	/* any time will do: it is passed in */
#define HOUR	3600LL

/* Reference 9.4: 24 hours from the customer's message. */
TEST(window_24_hours)
{
	CHECK(POLICY_WINDOW_S == 24 * HOUR);
	CHECK(policy_window_expires(NOW, 0) == NOW + 24 * HOUR);
	CHECK(policy_window_expires(0, 0) == 24 * HOUR);
}

/* Reference 5.13, 9.4: 72 hours after a Click-to-WhatsApp ad. */
TEST(window_72_hours_after_referral)
{
	CHECK(POLICY_WINDOW_AD_S == 72 * HOUR);
	CHECK(policy_window_expires(NOW, 1) == NOW + 72 * HOUR);
	/* Any true value is a referral. */
	CHECK(policy_window_expires(NOW, 2) == NOW + 72 * HOUR);
}

/* Open only while more than the margin (60 s) is left. */
TEST(window_open_with_margin)
{
	CHECK(POLICY_WINDOW_MARGIN_S == 60);
	CHECK(policy_window_open(NOW + 61, NOW) == 1);
	CHECK(policy_window_open(NOW + 60, NOW) == 0);
	CHECK(policy_window_open(NOW + 59, NOW) == 0);
	CHECK(policy_window_open(NOW, NOW) == 0);
	CHECK(policy_window_open(NOW - 1, NOW) == 0);
	CHECK(policy_window_open(0, NOW) == 0);	/* never wrote */
	/* A message exactly 24 h minus the margin ago: just closed. */
	CHECK(policy_window_open(policy_window_expires(NOW - 24 * HOUR + 61,
	    0), NOW) == 1);
	CHECK(policy_window_open(policy_window_expires(NOW - 24 * HOUR + 60,
	    0), NOW) == 0);
	/* The same message after an ad: still open two days later. */
	CHECK(policy_window_open(policy_window_expires(NOW - 71 * HOUR, 1),
	    NOW) == 1);
	CHECK(policy_window_open(policy_window_expires(NOW - 72 * HOUR, 1),
	    NOW) == 0);
}

/* The bot leaves messages older than 24 h unanswered (reference 3). */
TEST(inbound_late_after_24_hours)
{
	CHECK(policy_inbound_late(NOW, NOW) == 0);
	CHECK(policy_inbound_late(NOW - 24 * HOUR, NOW) == 0);
	CHECK(policy_inbound_late(NOW - 24 * HOUR - 1, NOW) == 1);
	CHECK(policy_inbound_late(0, NOW) == 1);
	CHECK(policy_inbound_late(NOW + 10, NOW) == 0);	/* clock skew */
}

static struct policy_peer
peer(int64_t expires, int opted_out, int64_t opted_at, int64_t inbound_at)
{
	struct policy_peer p;

	memset(&p, 0, sizeof(p));
	p.window_expires_at = expires;
	p.opted_out = opted_out;
	p.opted_out_at = opted_at;
	p.last_inbound_at = inbound_at;
	return p;
}

/* Free-form needs the window; a template outside it is business-initiated. */
TEST(send_free_form_or_template)
{
	struct policy_peer	 open = peer(NOW + HOUR, 0, 0, NOW - HOUR);
	struct policy_peer	 edge = peer(NOW + 60, 0, 0, NOW - HOUR);
	struct policy_peer	 never = peer(0, 0, 0, 0);
	int			 bi;

	bi = -1;
	CHECK(policy_send(&open, 0, 1, 0, NOW, &bi) == POLICY_SEND_OK &&
	    bi == 0);
	bi = -1;
	CHECK(policy_send(&open, 1, 0, 0, NOW, &bi) == POLICY_SEND_OK &&
	    bi == 0);
	bi = -1;
	CHECK(policy_send(&edge, 0, 1, 0, NOW, &bi) ==
	    POLICY_SEND_WINDOW_CLOSED && bi == 0);
	bi = -1;
	CHECK(policy_send(&edge, 1, 0, 0, NOW, &bi) == POLICY_SEND_OK &&
	    bi == 1);
	bi = -1;
	CHECK(policy_send(&never, 0, 1, 0, NOW, &bi) ==
	    POLICY_SEND_WINDOW_CLOSED && bi == 0);
	bi = -1;
	CHECK(policy_send(&never, 1, 0, 0, NOW, &bi) == POLICY_SEND_OK &&
	    bi == 1);
	/* Not free-form and not a template (a reaction, a read): goes. */
	bi = -1;
	CHECK(policy_send(&never, 0, 0, 0, NOW, &bi) == POLICY_SEND_OK &&
	    bi == 0);
	/* The bot's STOP confirmation still needs the window. */
	CHECK(policy_send(&never, 0, 1, 1, NOW, &bi) ==
	    POLICY_SEND_WINDOW_CLOSED);
}

/* An opt-out refuses templates, and free-form until they write again. */
TEST(send_opted_out)
{
	/* Opted out at NOW - 2h; their newest message was that STOP. */
	struct policy_peer	 stop = peer(NOW + HOUR, 1, NOW - 2 * HOUR,
				    NOW - 2 * HOUR);
	/* ... and wrote again after it (not START). */
	struct policy_peer	 again = peer(NOW + HOUR, 1, NOW - 2 * HOUR,
				    NOW - HOUR);
	struct policy_peer	 closed = peer(0, 1, NOW - 2 * HOUR, 0);
	int			 bi;

	CHECK(policy_send(&stop, 1, 0, 0, NOW, &bi) ==
	    POLICY_SEND_OPTED_OUT && bi == 0);
	CHECK(policy_send(&stop, 0, 1, 0, NOW, &bi) ==
	    POLICY_SEND_OPTED_OUT && bi == 0);
	CHECK(policy_send(&again, 0, 1, 0, NOW, &bi) == POLICY_SEND_OK &&
	    bi == 0);
	CHECK(policy_send(&again, 1, 0, 0, NOW, &bi) ==
	    POLICY_SEND_OPTED_OUT);
	/* The bot's confirmation of the STOP itself goes... */
	CHECK(policy_send(&stop, 0, 1, 1, NOW, &bi) == POLICY_SEND_OK &&
	    bi == 0);
	/* ...but never as a template. */
	CHECK(policy_send(&stop, 1, 0, 1, NOW, &bi) ==
	    POLICY_SEND_OPTED_OUT);
	/* A closed window is said first. */
	CHECK(policy_send(&closed, 0, 1, 0, NOW, &bi) ==
	    POLICY_SEND_WINDOW_CLOSED);
	CHECK(policy_send(&closed, 1, 0, 0, NOW, &bi) ==
	    POLICY_SEND_OPTED_OUT && bi == 0);
	/* Opted back in: everything as usual. */
	stop.opted_out = 0;
	CHECK(policy_send(&stop, 1, 0, 0, NOW, &bi) == POLICY_SEND_OK &&
	    bi == 0);
}

/* Reference 9.3: unique contacts reached outside the window, rolling 24 h. */
TEST(tier_limit)
{
	CHECK(POLICY_TIER_SPAN_S == 24 * HOUR);
	CHECK(policy_tier_refuses(0, 0, 250) == 0);
	CHECK(policy_tier_refuses(249, 0, 250) == 0);
	CHECK(policy_tier_refuses(250, 0, 250) == 1);
	CHECK(policy_tier_refuses(251, 0, 250) == 1);
	/* A contact already reached today costs nothing more. */
	CHECK(policy_tier_refuses(250, 1, 250) == 0);
	/* 0: no limit. */
	CHECK(policy_tier_refuses(1000000, 0, 0) == 0);
	CHECK(policy_tier_refuses(1, 0, 1) == 1);
}

/* Whole message, trimmed, ASCII case ignored; nothing more. */
TEST(keywords_that_match)
{
	CHECK(policy_keyword_match("STOP", "STOP") == 1);
	CHECK(policy_keyword_match("STOP", "stop") == 1);
	CHECK(policy_keyword_match("STOP", "Stop") == 1);
	CHECK(policy_keyword_match("STOP", " Stop ") == 1);
	CHECK(policy_keyword_match("STOP", "\tstop\r\n") == 1);
	CHECK(policy_keyword_match("stop", "STOP") == 1);
	/* Each word of the list is trimmed too; empty ones are skipped. */
	CHECK(policy_keyword_match("STOP, unsubscribe", "UNSUBSCRIBE") == 1);
	CHECK(policy_keyword_match(" stop , halt ", "halt") == 1);
	CHECK(policy_keyword_match(",,stop,", "stop") == 1);
	/* A phrase is one word of the list, spaces inside kept. */
	CHECK(policy_keyword_match("STOP ALL", "stop all") == 1);
}

TEST(keywords_that_do_not_match)
{
	CHECK(policy_keyword_match("STOP", "stop!") == 0);
	CHECK(policy_keyword_match("STOP", "stop.") == 0);
	CHECK(policy_keyword_match("STOP", "please stop") == 0);
	CHECK(policy_keyword_match("STOP", "stop please") == 0);
	CHECK(policy_keyword_match("STOP", "sto") == 0);
	CHECK(policy_keyword_match("STOP", "stopp") == 0);
	CHECK(policy_keyword_match("STOP", "s top") == 0);
	CHECK(policy_keyword_match("STOP ALL", "stop  all") == 0);
	CHECK(policy_keyword_match("STOP", "") == 0);
	CHECK(policy_keyword_match("STOP", "   ") == 0);
	CHECK(policy_keyword_match("", "stop") == 0);
	CHECK(policy_keyword_match(",", "") == 0);
	CHECK(policy_keyword_match(" , ", " ") == 0);
	CHECK(policy_keyword_match(NULL, "stop") == 0);
	CHECK(policy_keyword_match("STOP", NULL) == 0);
	/* Only ASCII case folds: "Ê" and "ê" are different bytes. */
	CHECK(policy_keyword_match("ARRÊT", "arrêt") == 0);
	CHECK(policy_keyword_match("arrêt", "ARRêT") == 1);
	/* The list's commas split; a comma in the text is just a byte. */
	CHECK(policy_keyword_match("STOP,START", "stop,start") == 0);
}

/* Only text messages count; a word in both lists is a STOP. */
TEST(opt_words)
{
	CHECK(policy_opt_word("text", "stop", "STOP", "START") ==
	    POLICY_OPT_STOP);
	CHECK(policy_opt_word("text", " Start ", "STOP", "START") ==
	    POLICY_OPT_START);
	CHECK(policy_opt_word("text", "hello", "STOP", "START") ==
	    POLICY_OPT_NONE);
	CHECK(policy_opt_word("text", "stop", "STOP", "STOP") ==
	    POLICY_OPT_STOP);
	CHECK(policy_opt_word("button", "stop", "STOP", "START") ==
	    POLICY_OPT_NONE);
	CHECK(policy_opt_word("interactive", "START", "STOP", "START") ==
	    POLICY_OPT_NONE);
	CHECK(policy_opt_word("Text", "stop", "STOP", "START") ==
	    POLICY_OPT_NONE);
	CHECK(policy_opt_word(NULL, "stop", "STOP", "START") ==
	    POLICY_OPT_NONE);
	CHECK(policy_opt_word("text", NULL, "STOP", "START") ==
	    POLICY_OPT_NONE);
	CHECK(policy_opt_word("text", "stop", NULL, NULL) == POLICY_OPT_NONE);
	CHECK(policy_opt_word("text", "start", NULL, "START") ==
	    POLICY_OPT_START);
}

/* Reference 6: accepted < sent < failed < delivered < read < played. */
static const char *const order[] = {
	"accepted", "sent", "failed", "delivered", "read", "played"
};
#define NORDER	(sizeof(order) / sizeof(order[0]))

TEST(status_ranks_in_order)
{
	size_t i;

	for (i = 0; i < NORDER; i++) {
		CHECK(policy_status_rank(order[i]) >= 0);
		if (i > 0)
			CHECK(policy_status_rank(order[i - 1]) <
			    policy_status_rank(order[i]));
	}
	/* The stored numbers (logs, history) stay what they were. */
	CHECK(policy_status_rank("accepted") == 0);
	CHECK(policy_status_rank("sent") == 10);
	CHECK(policy_status_rank("failed") == 15);
	CHECK(policy_status_rank("delivered") == 20);
	CHECK(policy_status_rank("read") == 30);
	CHECK(policy_status_rank("played") == 40);
	/* Unknown names (the On-Premises ones too) have no rank. */
	CHECK(policy_status_rank("deleted") == -1);
	CHECK(policy_status_rank("warning") == -1);
	CHECK(policy_status_rank("Sent") == -1);
	CHECK(policy_status_rank("") == -1);
	CHECK(policy_status_rank(NULL) == -1);
}

/* Every pair, both ways: the higher rank wins, unknown changes nothing. */
TEST(status_merge_every_order)
{
	const char	*a, *b;
	size_t		 i, j;

	for (i = 0; i < NORDER; i++) {
		CHECK(policy_status_merge(NULL, order[i]) == order[i]);
		CHECK(policy_status_merge(order[i], NULL) == order[i]);
		CHECK(policy_status_merge(order[i], "deleted") == order[i]);
		CHECK(policy_status_merge(order[i], order[i]) == order[i]);
		for (j = 0; j < NORDER; j++) {
			a = policy_status_merge(policy_status_merge(NULL,
			    order[i]), order[j]);
			b = policy_status_merge(policy_status_merge(NULL,
			    order[j]), order[i]);
			CHECK(a == order[i > j ? i : j]);
			CHECK(b == a);
		}
	}
	/* The reference's own cases. */
	CHECK(strcmp(policy_status_merge("sent", "failed"), "failed") == 0);
	CHECK(strcmp(policy_status_merge("failed", "sent"), "failed") == 0);
	CHECK(strcmp(policy_status_merge("delivered", "failed"),
	    "delivered") == 0);
	CHECK(strcmp(policy_status_merge("read", "failed"), "read") == 0);
	CHECK(policy_status_merge(NULL, "warning") == NULL);
	CHECK(policy_status_merge(NULL, NULL) == NULL);
	/* An unknown current status gives way to any known one. */
	CHECK(strcmp(policy_status_merge("deleted", "sent"), "sent") == 0);
}

/* history_context gives statuses in upper case (reference 14.2). */
TEST(status_names)
{
	size_t i;

	CHECK(strcmp(policy_status_name("DELIVERED"), "delivered") == 0);
	CHECK(strcmp(policy_status_name("Read"), "read") == 0);
	CHECK(strcmp(policy_status_name("played"), "played") == 0);
	CHECK(policy_status_name("PENDING") == NULL);
	CHECK(policy_status_name("") == NULL);
	CHECK(policy_status_name(NULL) == NULL);
	for (i = 0; i < NORDER; i++)
		CHECK(policy_status_rank(policy_status_name(order[i])) ==
		    policy_status_rank(order[i]));
}

/* Reference 8.2: every code with a class of its own, then the rest. */
TEST(error_classes_by_code)
{
	static const struct {
		int64_t		code;
		enum policy_err	class;
	} want[] = {
		{ 0, POLICY_ERR_PAUSE_TOKEN },
		{ 1, POLICY_ERR_RETRY },
		{ 2, POLICY_ERR_RETRY },
		{ 4, POLICY_ERR_RETRY_NUMBER },
		{ 190, POLICY_ERR_PAUSE_TOKEN },
		{ 80007, POLICY_ERR_RETRY_NUMBER },
		{ 130429, POLICY_ERR_RETRY_NUMBER },
		{ 131000, POLICY_ERR_RETRY },
		{ 131016, POLICY_ERR_RETRY },
		{ 131048, POLICY_ERR_BREAKER },
		{ 131050, POLICY_ERR_OPTED_OUT },
		{ 131052, POLICY_ERR_RETRY },
		{ 131056, POLICY_ERR_RETRY_PAIR },
		{ 131057, POLICY_ERR_RETRY },
		{ 133004, POLICY_ERR_RETRY },
		/* Policy and validation: never retried as they are. */
		{ 3, POLICY_ERR_FAIL },
		{ 10, POLICY_ERR_FAIL },
		{ 100, POLICY_ERR_FAIL },
		{ 368, POLICY_ERR_FAIL },
		{ 131026, POLICY_ERR_FAIL },
		{ 131047, POLICY_ERR_FAIL },
		{ 131049, POLICY_ERR_FAIL },
		{ 131051, POLICY_ERR_FAIL },
		{ 132000, POLICY_ERR_FAIL },
		{ 132001, POLICY_ERR_FAIL },
		{ 133010, POLICY_ERR_FAIL },
		{ 999999, POLICY_ERR_FAIL },
	};
	size_t	i;
	int	seen[POLICY_ERR__MAX] = { 0 };

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		CHECK(policy_error_class(want[i].code, 400) == want[i].class);
		/* The code decides, whatever the status says. */
		CHECK(policy_error_class(want[i].code, 500) == want[i].class);
		CHECK(policy_error_class(want[i].code, 401) == want[i].class);
		seen[want[i].class] = 1;
	}
	for (i = 0; i < POLICY_ERR__MAX; i++)
		CHECK(seen[i] == 1);	/* every class is tested */
}

/* No code in the reply: the HTTP status decides (reference 8.2). */
TEST(error_classes_without_code)
{
	CHECK(policy_error_class(-1, 500) == POLICY_ERR_RETRY);
	CHECK(policy_error_class(-1, 502) == POLICY_ERR_RETRY);
	CHECK(policy_error_class(-1, 503) == POLICY_ERR_RETRY);
	CHECK(policy_error_class(-1, 429) == POLICY_ERR_RETRY);
	CHECK(policy_error_class(-1, 408) == POLICY_ERR_RETRY);
	CHECK(policy_error_class(-1, 0) == POLICY_ERR_RETRY);
	CHECK(policy_error_class(-1, 401) == POLICY_ERR_PAUSE_TOKEN);
	CHECK(policy_error_class(-1, 400) == POLICY_ERR_FAIL);
	CHECK(policy_error_class(-1, 403) == POLICY_ERR_FAIL);
	CHECK(policy_error_class(-1, 404) == POLICY_ERR_FAIL);
	CHECK(policy_error_class(-1, 499) == POLICY_ERR_FAIL);
}

/* A failed status with 131050 records the opt-out; nothing else does. */
TEST(error_opts_out)
{
	CHECK(policy_error_opts_out(131050) == 1);
	CHECK(policy_error_opts_out(0) == 0);	/* no error on the status */
	CHECK(policy_error_opts_out(-1) == 0);
	CHECK(policy_error_opts_out(131049) == 0);
	CHECK(policy_error_opts_out(131047) == 0);
	CHECK(policy_error_opts_out(131026) == 0);
	CHECK(policy_error_opts_out(131051) == 0);
}

/* One item's verdict: what storage is told to write for it. */
TEST(verdict_per_item_kind)
{
	struct wh_item		 it;
	struct policy_verdict	 v;
	const int64_t		 t = 1767270000;

	memset(&it, 0, sizeof(it));
	it.kind = WH_MESSAGE;
	it.timestamp = t;
	it.type = "text";
	it.text = " Stop ";
	policy_verdict(&it, "STOP", "START", &v);
	CHECK(v.window_expires == t + 24 * 3600);
	CHECK(v.opt == POLICY_OPT_STOP);
	CHECK(v.opts_out == 0);
	/* Through an ad (a click id or a source id): 72 hours. */
	it.referral_ctwa_clid = "ARAkLkA8rmlF";
	it.text = "start";
	policy_verdict(&it, "STOP", "START", &v);
	CHECK(v.window_expires == t + 72 * 3600);
	CHECK(v.opt == POLICY_OPT_START);
	it.referral_ctwa_clid = NULL;
	it.referral_source_id = "120208";
	policy_verdict(&it, "STOP", "START", &v);
	CHECK(v.window_expires == t + 72 * 3600);
	/* No keywords configured: a word like any other. */
	policy_verdict(&it, NULL, NULL, &v);
	CHECK(v.opt == POLICY_OPT_NONE);
	/* A status: only whether its error opts the customer out. */
	memset(&it, 0, sizeof(it));
	it.kind = WH_STATUS;
	it.timestamp = t;
	it.err_code = 131050;
	policy_verdict(&it, "STOP", "START", &v);
	CHECK(v.opts_out == 1);
	CHECK(v.window_expires == 0 && v.opt == POLICY_OPT_NONE);
	it.err_code = 131026;
	policy_verdict(&it, "STOP", "START", &v);
	CHECK(v.opts_out == 0);
	/* Anything else: nothing to decide. */
	it.kind = WH_ERROR;
	it.err_code = 131050;
	policy_verdict(&it, "STOP", "START", &v);
	CHECK(v.opts_out == 0 && v.window_expires == 0 &&
	    v.opt == POLICY_OPT_NONE);
}

/* Meta's tier names as customers a day: the sender's limit, /numbers. */
TEST(tier_reach)
{
	CHECK(policy_tier_reach("TIER_250") == 250);
	CHECK(policy_tier_reach("TIER_1K") == 1000);
	CHECK(policy_tier_reach("TIER_100K") == 100000);
	CHECK(policy_tier_reach("TIER_UNLIMITED") == 0);
	CHECK(policy_tier_reach("TIER_NOT_SET") == -1);
	CHECK(policy_tier_reach("") == -1);
	CHECK(policy_tier_reach(NULL) == -1);
}

int
main(void)
{
	RUN(window_24_hours);
	RUN(window_72_hours_after_referral);
	RUN(window_open_with_margin);
	RUN(inbound_late_after_24_hours);
	RUN(send_free_form_or_template);
	RUN(send_opted_out);
	RUN(tier_limit);
	RUN(keywords_that_match);
	RUN(keywords_that_do_not_match);
	RUN(opt_words);
	RUN(status_ranks_in_order);
	RUN(status_merge_every_order);
	RUN(status_names);
	RUN(error_classes_by_code);
	RUN(error_classes_without_code);
	RUN(error_opts_out);
	RUN(verdict_per_item_kind);
	RUN(tier_reach);
	return CHECK_DONE();
}
