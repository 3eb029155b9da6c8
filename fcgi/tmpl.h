/*
 * tmpl.h: Meta's rules for message templates (see tmpl.c; reference
 * section 15): whether a creation body is one Meta takes, how many
 * parameters each component of a stored template needs, and whether a
 * send's components give them.  Pure: JSON in, verdict out, no I/O, so
 * the API refuses a bad template or send before anything is queued.
 */
#ifndef TMPL_H
#define TMPL_H

#include <jansson.h>

#define TMPL_NAME_MAX		512	/* name: a-z, 0-9 and _ */
#define TMPL_BODY_MAX		1024	/* BODY text, characters */
#define TMPL_HEADER_MAX		60	/* HEADER TEXT, characters */
#define TMPL_FOOTER_MAX		60	/* FOOTER text, characters */
#define TMPL_BUTTONS_MAX	10	/* buttons in the BUTTONS component */
#define TMPL_BUTTON_TEXT_MAX	25	/* a button's label, characters */

/* Why a body or a send was refused: where, and a sentence for a person. */
struct tmpl_err {
	char	 component[24];	/* "header", "body", "footer", "buttons",
				 * "button 2", "template" (the whole) */
	char	 field[64];	/* the member, e.g. "components[1].text" */
	char	 message[240];	/* what is wrong and what would do */
	char	 code[32];	/* stable, for programs: required, bad_type,
				 * invalid, too_long, too_many, duplicate,
				 * unknown_field, bad_variable, example,
				 * parameters */
};

/* How many parameters each component of a stored template needs. */
struct tmpl_want {
	int	 named;		/* 1: parameter_format NAMED */
	int	 header;	/* parameters the HEADER needs (0 or 1) */
	int	 header_media;	/* 1: an IMAGE/VIDEO/DOCUMENT/LOCATION header,
				 * whose one parameter is the media */
	int	 body;		/* parameters the BODY needs */
	int	 nbuttons;	/* buttons the template has */
	int	 button[10];	/* parameters button i needs (its index) */
	char	 button_type[10][16]; /* URL, QUICK_REPLY, COPY_CODE, ... */
};

/*
 * 0 when body is a template creation Meta takes (POST /{waba}/message_
 * templates: name, language, category, parameter_format, components),
 * else -1 with e saying which component and field, and why.
 */
int	 tmpl_check_create(const json_t *body, struct tmpl_err *e);

/*
 * Fills w from a stored template's components (Meta's listing shape;
 * named when its header or body holds a "{{name}}" variable).  0, or -1
 * when components is not an array of objects.
 */
int	 tmpl_want(const json_t *components, struct tmpl_want *w);

/*
 * 0 when a send's components (Meta's send shape: [{type: header|body|
 * button, sub_type, index, parameters: [...]}], NULL for none) give what
 * w asks, else -1 with e naming the component, expected and given.
 */
int	 tmpl_check_send(const struct tmpl_want *w, const json_t *components,
	    struct tmpl_err *e);

#endif
