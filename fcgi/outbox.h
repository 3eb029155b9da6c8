/*
 * outbox.h: the one way to queue a message (see outbox.c), used by
 * wactl, the management API and the bot; and the checks the sender
 * repeats just before it calls Meta.
 */
#ifndef OUTBOX_H
#define OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "msg.h"

struct db;

enum outbox_rc {
	OUTBOX_OK,		/* queued (or an earlier request's row returned) */
	OUTBOX_INVALID,		/* refused by msg_parse(): see err */
	OUTBOX_WINDOW_CLOSED,	/* free-form message, 24-hour window closed */
	OUTBOX_OPTED_OUT,	/* the contact asked for no business messages */
	OUTBOX_TIER_LIMIT,	/* the messaging tier's reach is used up */
	OUTBOX_BUSY,		/* the database stayed locked: try again */
	OUTBOX_ERROR,		/* anything else; logged */
	OUTBOX__MAX
};

struct outbox_req {
	const char	*json;		/* the send request */
	size_t		 len;
	unsigned	 flags;		/* MSG_ALLOW_FILE for local callers */
	const char	*pnid;		/* business number to send from */
	const char	*source;	/* wactl, api, bot */
	const char	*idem_key;	/* Idempotency-Key, or NULL */
	int64_t		 tier_limit;	/* WA_TIER_LIMIT, 0 unlimited */
	int		 optout_ack;	/* the bot confirms a STOP: allowed */
	int64_t		 user_id;	/* the signed-in person sending; 0 for
					 * a key, wactl or the bot */
};

enum outbox_rc	 outbox_queue(struct db *, const struct outbox_req *,
		    int64_t *id, int *repeated, struct msg_err *);
enum outbox_rc	 outbox_check(struct db *, const char *pnid,
		    const char *recipient, const char *kind, int free_form,
		    int optout_ack, int64_t now_s, struct msg_err *);

#endif
