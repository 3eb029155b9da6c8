/*
 * msg.h: validate an outbound "send request" against Meta's limits and build
 * the Graph API body for POST /{phone-number-id}/messages (reference
 * sections 7, 9.5, 9.6 and 11.1).  Pure: bytes in, struct out, no I/O, so
 * the management API and wactl refuse a bad message before it is queued.
 */
#ifndef MSG_H
#define MSG_H

#include <stddef.h>

enum msg_kind {
	MSG_TEXT,
	MSG_IMAGE,
	MSG_VIDEO,
	MSG_AUDIO,
	MSG_DOCUMENT,
	MSG_STICKER,
	MSG_LOCATION,
	MSG_CONTACTS,
	MSG_INTERACTIVE,
	MSG_TEMPLATE,
	MSG_REACTION,
	MSG_READ,	/* mark as read (reference 7.4), not a message */
	MSG__MAX
};

/* The request's "type" value for each kind. */
extern const char *const msg_kind_names[MSG__MAX];

#define MSG_ALLOW_FILE	0x01	/* accept "file": a local path (wactl only) */

/* The placeholder media id msg_set_media_id() replaces. */
#define MSG_UPLOAD_ID	"@upload@"

/*
 * Why a request was refused.  code is stable, for programs:
 *   bad_json, too_large, too_deep, bad_type, required, unknown_field,
 *   invalid, empty, too_long, too_many, too_few, duplicate, out_of_range,
 *   conflict, not_https, file_not_allowed, bad_media_type, no_memory.
 * field is the JSON path ("" for the whole body), message is for people.
 */
struct msg_err {
	char	code[32];	/* one of the codes above */
	char	field[128];	/* "interactive.action.buttons[1].reply.title" */
	char	message[256];	/* one sentence naming the field and the limit */
};

struct msg {
	enum msg_kind	 kind;
	char		 to[64];	/* normalised recipient; "" for read without to */
	char		 reply_to[129];	/* context.message_id, or the wamid read marks; "" */
	int		 free_form;	/* 1: needs an open 24-hour window (reference 9.4) */
	int		 need_catalog;	/* 1: product(_list) without catalog_id: the number's */
	char		*text;		/* searchable text or NULL; from malloc() */
	char		*media_file;	/* "file" path (MSG_ALLOW_FILE) or NULL; from malloc() */
	char		*media_mime;	/* MIME type of media_file or NULL; from malloc() */
	char		*body;		/* compact Graph API JSON body; from malloc() */
};

/*
 * Validates the send request json[0..len) and fills m (overwritten: clear a
 * previous result first).  Returns 0, or -1 with err filled and nothing
 * allocated.  The caller frees a success with msg_clear().
 */
int	 msg_parse(const char *json, size_t len, unsigned flags,
	    struct msg *m, struct msg_err *err);

/* Frees what m holds and zeroes it; accepts a zeroed or cleared struct. */
void	 msg_clear(struct msg *m);

/*
 * Replaces the MSG_UPLOAD_ID placeholder in m->body with media_id (a
 * non-empty printable ASCII id of at most 128 bytes); only m->body is read,
 * so a struct holding just a queued body will do.  On success the old body
 * is freed and m->body is the new one (from malloc()).  Returns 0, or -1 when
 * the body has no placeholder, media_id is unfit or memory runs out (m
 * unchanged).
 */
int	 msg_set_media_id(struct msg *m, const char *media_id);

/*
 * Puts catalog_id (1 to 32 digits) into the action of a product or
 * product_list body that has none, as msg_set_media_id() does for media:
 * the sending number's catalog (numbers.catalog_id).  On success the old
 * body is freed, m->body is the new one (from malloc()) and need_catalog
 * is 0.  Returns 0, or -1 (m unchanged) for another body, one with a
 * catalog_id already, an unfit id or no memory.
 */
int	 msg_set_catalog(struct msg *m, const char *catalog_id);

struct json_t;

/*
 * Shows a stored inbound reply usefully: given the message's raw webhook
 * item, adds to the API row object "flow_reply" for a Flow's answer
 * (interactive nfm_reply, reference 5.7: name, body, response_json
 * decoded as "response", its flow_token) or "order" for a cart (5.10:
 * catalog_id, text, product_items).  Returns 1 added, 0 nothing to show
 * (another kind, unparseable raw), -1 out of memory (row unchanged).
 */
int	 msg_reply_show(struct json_t *row, const char *raw);

/* Unicode code points in valid UTF-8 s[0..len). */
size_t	 msg_codepoints(const char *s, size_t len);

#endif
