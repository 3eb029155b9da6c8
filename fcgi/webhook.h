/*
 * webhook.h: parse a Meta webhook body into items (see webhook.c).  Parsing
 * is pure: bytes in, items out, no I/O, so the unit tests and the fuzzer
 * need neither socket nor database.
 */
#ifndef WEBHOOK_H
#define WEBHOOK_H

#include <stddef.h>
#include <stdint.h>

enum wh_kind {
	WH_MESSAGE,	/* value.messages[i] */
	WH_STATUS,	/* value.statuses[i] */
	WH_ERROR,	/* value.errors[i] */
	WH_OTHER,	/* a change of any field but "messages" */
	WH_PREFERENCE,	/* value.user_preferences[i]: marketing stop/resume */
	WH_CONTACT_SYNC, /* value.state_sync[i] of type contact (ref 14.2) */
	WH_BAD,		/* an item that cannot be applied: see error */
	WH__MAX
};

extern const char *const wh_kind_names[WH__MAX];

/*
 * One item.  Every const char * borrows from the parsed tree owned by the
 * batch and lives until wh_batch_free(); NULL means absent.
 */
struct wh_item {
	enum wh_kind	 kind;
	char		 path[128];	/* "entry[0].changes[1].value.messages[2]" */
	const char	*error;		/* WH_BAD: why, a static phrase */
	char		*raw;		/* the item as compact JSON; from malloc(), owned by the batch */
	const char	*field;		/* changes[].field */
	const char	*waba_id;	/* entry[].id */
	const char	*phone_number_id; /* value.metadata.phone_number_id */
	int64_t		 entry_time;	/* entry[].time, 0 when absent */
	int64_t		 timestamp;	/* Meta's time, epoch seconds */

	/* WH_MESSAGE */
	const char	*wamid;		/* messages[].id */
	const char	*from;		/* sender wa_id (may be NULL, 2026+) */
	const char	*from_user_id;	/* sender BSUID */
	const char	*profile_name;	/* from value.contacts[] */
	const char	*username;	/* from value.contacts[] */
	const char	*type;		/* Meta type, any string */
	const char	*text;		/* body, caption, or the searchable part */
	const char	*media_id, *mime_type, *sha256, *filename;
	int		 has_location;
	double		 latitude, longitude;
	const char	*location_name, *location_address;
	const char	*interactive_type, *reply_id, *reply_title;
	const char	*reaction_to, *reaction_emoji;
	const char	*context_wamid, *context_from;
	int		 forwarded;	/* 1 forwarded, 2 frequently */
	const char	*referral_source_id, *referral_ctwa_clid;
	const char	*new_wa_id;	/* system: user changed number */
	const char	*new_user_id;	/* system: user changed BSUID (2026) */
	const char	*original_wamid; /* edit, revoke: the message changed */
	int		 revoke;	/* 1: revoke (or deleted), 0: edit */
	const char	*edit_type;	/* edit: the new content's type */
	const char	*source;	/* NULL, "echo" or "history" (ref 14.2) */
	int		 outbound;	/* echo/history: the business wrote it */
	const char	*to, *to_user_id; /* outbound: the customer */
	const char	*history_status; /* history_context.status */

	/* WH_STATUS (wamid above is the status's message) */
	const char	*status;
	const char	*recipient_id, *recipient_user_id, *biz_opaque;
	const char	*conv_id, *conv_origin;
	int64_t		 conv_expires;	/* 0 when absent */
	const char	*pricing_model, *pricing_category, *pricing_type;
	int		 billable;	/* -1 absent, 0, 1 */

	/* WH_STATUS failed, WH_ERROR, unsupported WH_MESSAGE */
	int64_t		 err_code;	/* 0 when absent */
	const char	*err_title, *err_message, *err_details;

	/* WH_OTHER */
	const char	*event;		/* value.event */

	/* WH_PREFERENCE (from is the customer, timestamp Meta's time) */
	const char	*pref_category;	/* e.g. marketing_messages */
	const char	*pref_value;	/* stop or resume */

	/*
	 * WH_CONTACT_SYNC: an address-book entry of the business's phone
	 * (smb_app_state_sync); timestamp is metadata.timestamp.
	 */
	char		 sync_phone[24]; /* contact.phone_number, digits only */
	const char	*sync_name;	/* full_name, else first_name */
	int		 sync_remove;	/* action remove (else add) */
};

struct wh_batch {
	void		*root;		/* json_t *, owned */
	struct wh_item	*items;		/* from malloc() */
	size_t		 nitems;
	size_t		 cap;
};

int	 wh_parse(const char *body, size_t len, struct wh_batch *,
	    char *err, size_t errsz);
void	 wh_batch_free(struct wh_batch *);

#endif
