/*
 * graph.h: reads Graph API replies (see graph.c).  Pure: bytes in, a
 * decision out, so the unit tests feed it the fixtures directly.
 */
#ifndef GRAPH_H
#define GRAPH_H

#include <stddef.h>
#include <stdint.h>

/* What the sender does with a reply (reference 8.2, column Retry). */
enum graph_action {
	GRAPH_OK,		/* 200 with what was asked for */
	GRAPH_RETRY,		/* transient: back off, try again */
	GRAPH_RETRY_NUMBER,	/* throughput (130429, 80007, 4): slow the number */
	GRAPH_RETRY_PAIR,	/* 131056: back off this recipient 4^n s */
	GRAPH_FAIL,		/* policy or validation: never retried as is */
	GRAPH_OPTED_OUT,	/* 131050: fail and record the opt-out */
	GRAPH_PAUSE_TOKEN,	/* 190 or 0: no sending until the token changes */
	GRAPH_BREAKER,		/* 131048: pause the number for a while */
	GRAPH__MAX
};

extern const char *const graph_action_names[GRAPH__MAX];

struct graph_reply {
	enum graph_action action;
	int64_t	 code;		/* Meta's error code, 0 when none */
	char	 title[256];	/* error.message, or why the reply is unusable */
	char	 details[512];	/* error.error_data.details */
	char	 fbtrace[64];	/* error.fbtrace_id, to quote to Meta */
	char	 id[129];	/* messages[0].id (wamid) or an upload's id */
	char	 wa_id[72];	/* contacts[0].wa_id */
	char	 url[2048];	/* media info: the short-lived download URL */
	char	 mime[128];	/* media info: mime_type */
	char	 sha256[129];	/* media info: sha256 */
	int64_t	 file_size;	/* media info: file_size, -1 when absent */
};

enum graph_want {
	GRAPH_WANT_SEND,	/* messages[0].id, or success for a read receipt */
	GRAPH_WANT_ID,		/* an upload: {"id": ...} */
	GRAPH_WANT_MEDIA,	/* GET /{media-id}: url, mime_type, sha256 */
	GRAPH_WANT__MAX
};

void	 graph_reply_parse(enum graph_want, long http, const char *transport,
	    const char *body, size_t len, struct graph_reply *);
enum graph_action graph_classify(int64_t code, long http);

#endif
