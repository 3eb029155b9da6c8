/*
 * custmsg.h: the terminal customer's messages (see custmsg.c): inbound
 * webhooks built as Meta sends them, and the business's messages shown
 * as text with their buttons and list rows as numbered choices.  Pure.
 */
#ifndef CUSTMSG_H
#define CUSTMSG_H

#include <stddef.h>

#include <jansson.h>

#include "buf.h"

#define CUSTMSG_TEXT_MAX	4096	/* Meta: a text body, in characters */

/* Who writes to whom: the envelope of every inbound webhook. */
struct custmsg_who {
	const char	*waba;		/* entry[].id */
	const char	*pnid;		/* metadata.phone_number_id */
	const char	*display;	/* metadata.display_phone_number */
	const char	*wa_id;		/* the customer (from, contacts wa_id) */
	const char	*name;		/* contacts profile name, NULL none */
};

/* The choices of the business's last interactive message. */
struct custmsg_choices {
	json_t		*replies;	/* array of interactive reply objects */
	char		 wamid[256];	/* the message offering them */
	char		 from[32];	/* its business display number */
};

int	 custmsg_valid_number(const char *);
char	*custmsg_webhook(const struct custmsg_who *, const char *wamid,
	    long long ts, const char *type, json_t *obj, json_t *context);
json_t	*custmsg_text(const char *line, const char **why);
json_t	*custmsg_location(const char *args, const char **why);
json_t	*custmsg_reaction(const char *wamid, const char *emoji,
	    const char **why);
json_t	*custmsg_image(const json_t *upload, const char *caption,
	    const char **why);
const char *custmsg_image_mime(const void *p, size_t len);
int	 custmsg_render(const json_t *entry, struct buf *out,
	    struct custmsg_choices *);
json_t	*custmsg_pick(const struct custmsg_choices *, const char *line,
	    json_t **context, const char **title);
void	 custmsg_choices_clear(struct custmsg_choices *);

#endif
