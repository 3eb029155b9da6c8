/*
 * api_int.h: what the files of the management API share (api.c holds the
 * routes, the checks every call passes and the core handlers; api_*.c
 * hold the handlers of one job each).  Nothing outside api*.c includes it.
 */
#ifndef API_INT_H
#define API_INT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "param.h"

struct cfg;
struct db;
struct db_val;
struct req;

#define API_LIMIT_DEFAULT	50
#define API_LIMIT_MAX		200
#define API_SEG_MAX		513	/* a path word and its NUL */

#define API_LIMIT(s) { .name = "limit", .type = PARAM_INT, .min = 1, \
	.max = API_LIMIT_MAX, .def = API_LIMIT_DEFAULT, \
	.field = offsetof(s, limit) }
#define API_CURSOR(s) { .name = "cursor", .type = PARAM_INT, .min = 1, \
	.max = INT64_MAX, .field = offsetof(s, cursor) }
/*
 * number= (repeatable: a phone_number_id, display number or label) on a
 * route that declares it: api_handle() takes every one out of the query
 * before the table is parsed and narrows the call's numbers with them,
 * so the struct's member is never filled; the row is there for `-P`.
 */
#define API_NUMBER(s) { .name = "number", .type = PARAM_TEXT, .min = 1, \
	.max = 64, .field = offsetof(s, number) }

/* The parsed query or body of each route (param.h), one struct a table. */

/* GET /messages, GET /conversations/{id}/messages */
struct messages_f {
	struct param_val	 number, phone, conversation_id, type, direction,
				 status, since, until, limit, cursor, q;
};

/* GET /conversations */
struct conversations_f {
	struct param_val	 number, unread, assignee, q, messages, limit, cursor;
};

/* GET /contacts */
struct contacts_f {
	struct param_val	 number, q, opted_out, limit, cursor;
};

/* GET /outbox, GET /webhook-events: one word filter, limit, cursor. */
struct words_f {
	struct param_val	 number, word, limit, cursor;
};

/* GET /stats */
struct stats_f {
	struct param_val	 number, since, until;
};

/* GET /metrics, GET /contacts/{wa_id}...: number= only */
struct number_f {
	struct param_val	 number;
};

/* GET /templates, GET /templates/{name} (api_templates.c) */
struct templates_f {
	struct param_val	 number, name, language, status, category,
				 limit, cursor;
};

/* GET /chats, GET /changes (api_inbox.c) */
struct chats_f {
	struct param_val	 number, unread, mine, assignee, state, label,
				 q, window, limit, cursor;
};
struct changes_f {
	struct param_val	 since;
};

/* POST /labels, PATCH /labels/{id}; POST /conversations/{id}/notes */
struct label_f {
	struct param_val	 name, color;
};
struct note_f {
	struct param_val	 text;
};

/* PATCH /conversations/{id} */
struct patch_f {
	struct param_val	 notes, customer_email, labels, assignee;
};

/* POST /send-template */
struct template_f {
	struct param_val	 to, name, language, body_parameters, components,
				 from;
};

/* DELETE /templates/{name}, GET /numbers/{pnid}/profile (api_jobs.c) */
struct jobs_f {
	struct param_val	 language, number, waba_id, refresh;
};

/* api_media.c: POST /uploads (query), POST|PATCH /quick-replies (body) */
struct upload_f {
	struct param_val	 number, filename;
};
struct qr_f {
	struct param_val	 shortcut, text, number;
};

/* api_hooks.c: POST|PATCH /hooks (body), GET /hooks/{id}/deliveries */
struct hook_f {
	struct param_val	 url, events, number, secret_env, state;
};
struct deliveries_f {
	struct param_val	 state, limit, before;
};

struct api_route;

/*
 * Who may call a route (struct api_route.role).  A signed-in person
 * (a session cookie, api_session.c) needs at least the route's role, else
 * 403 forbidden_role; an API key is API_ADMIN, and a read-only key may
 * only GET (403 read_only_key).  API_PUBLIC routes take no credential
 * (signing in).
 */
enum api_role {
	API_PUBLIC = -1,
	API_VIEWER = 0,		/* reads */
	API_AGENT = 1,		/* replies, assigns, labels, notes, hands off */
	API_ADMIN = 2		/* users, keys, numbers, export, erase, retries */
};

#define API_USER_MAX	65	/* a user name and its NUL */
#define API_ACTOR_MAX	(4 + 4 * 64 + 1) /* "api:", a key's name, NUL */

/* One API call being served. */
struct call {
	struct db		*db;
	const struct cfg	*cfg;
	struct req		*r;
	int			 wake;
	int64_t			 id;	/* {id} in the path, 0 when none */
	char			 seg[API_SEG_MAX]; /* the path's {wa_id},
					 * {pnid} or {name}; "" when none */
	const struct api_route	*route;	/* the route being served */
	int64_t			 key_id;	/* the API key's row; 0 for a
						 * person */
	int64_t			 user_id;	/* the signed-in person's row;
						 * 0 for an API key */
	enum api_role		 role;		/* the caller's role */
	char			 user[API_USER_MAX]; /* the person's name; ""
						 * for an API key */
	char			 actor[API_ACTOR_MAX]; /* "api:KEYNAME" for a
						 * key; "" for a person */
	json_t			*keyset;	/* {pnid: true} the key is
						 * limited to; NULL every number */
	json_t			*known;		/* {pnid: {"label",
						 * "display", "active"}}: the
						 * numbers table and the
						 * configured number */
	json_t			*cover;		/* {pnid: true}: the numbers
						 * this call covers */
	char			*numbers;	/* cover as a JSON array, for
						 * db_api_*(); owned */
	union {			/* the query, parsed by the route's table */
		struct messages_f	 messages;
		struct conversations_f	 conversations;
		struct contacts_f	 contacts;
		struct words_f		 words;
		struct stats_f		 stats;
		struct jobs_f		 jobs;
		struct number_f		 number;
		struct templates_f	 templates;
		struct upload_f		 upload;	/* api_media.c */
		struct chats_f		 chats;
		struct changes_f	 changes;
		struct deliveries_f	 deliveries;	/* api_hooks.c */
	}			 q;
	union {			/* the body, when the route declares it */
		struct patch_f		 patch;
		struct template_f	 tmpl;
		struct qr_f		 qr;		/* api_media.c */
		struct label_f		 label;
		struct note_f		 note;
		struct hook_f		 hook;		/* api_hooks.c */
	}			 b;
};

/*
 * A route: path ("{id}" is a positive number, "{wa_id}" 6 to 20 digits,
 * "{pnid}" 1 to 20 digits, "{name}" 1 to 512 of a-z, 0-9 and _),
 * method, handler, the least role that may call it, its query
 * parameters, and the members of its JSON body when it is a flat object
 * (NULL: the handler reads the body itself, or there is none).  Each
 * api_*.c file exports its table, ended by a NULL path; api.c lists them.
 */
struct api_route {
	const char		*path;
	const char		*method;
	void			(*fn)(struct call *);
	enum api_role		 role;
	const struct param	*query;
	const struct param	*body;
};

/* Replies (each sends exactly one answer). */
void	 api_reply_json(struct call *, int status, json_t *);
void	 api_db_trouble(struct call *, const char *what);
void	 api_fail_field(struct call *, int status, const char *code,
	    const char *field, const char *message);
/* api_page() and api_one() add each row's number_label (api_label()). */
void	 api_page(struct call *, json_t *rows, int n, int limit);
void	 api_label(const struct call *, json_t *row);
void	 api_one(struct call *, int n, json_t *rows, const char *what);

/* q as a substring pattern for LIKE ... ESCAPE '\\' into like.  0 or -1. */
struct buf;
int	 api_like_pattern(const struct param_val *q, struct buf *like);

/* Rows to JSON: a db_row_cb appending one object a row to a json_t array. */
void	 api_on_row(void *, int ncols, const char *const *names,
	    const struct db_val *);

/*
 * The numbers a call covers: 1 when its key may see phone number id pnid
 * (a key limited to numbers sees only those; DESIGN rule 10) and, when
 * the request names numbers (number=), pnid is one of them.  A handler
 * answers 404, never 403, for a row of a number its key may not see.
 */
int	 api_may_see(const struct call *, const char *pnid);

/* GET /stats's query parameters (api.c), also GET /stats/daily's. */
extern const struct param api_stats_p[];

/* Route tables of the api_*.c files, each ended by a NULL path. */
extern const struct api_route api_jobs_routes[];	/* api_jobs.c */

/*
 * The number a send goes from: from (a phone_number_id, display number
 * or label; NULL when not given) among the active numbers the key may
 * see.  The phone_number_id, or NULL with the 422 sent (from_required,
 * unknown_number).
 */
const char *api_send_from(struct call *, const char *from);
/* api_templates.c: its routes, and POST /send-template's check. */
extern const struct api_route api_templates_routes[];
int	 api_template_check(struct call *, const char *pnid,
	    const char *name, const char *language, const json_t *components);

/*
 * api_numbers.c: GET /numbers routes, and the numbers' parts of GET
 * /status (into its object) and GET /metrics (appended); 0, or -1 with
 * the error sent.
 */
extern const struct api_route api_numbers_routes[];
struct buf;
int	 api_numbers_status(struct call *, json_t *);
int	 api_numbers_metrics(struct call *, struct buf *);
/* Message rows: a Flow's answer and an order's items added (api_types.c). */
void	 api_show_replies(struct call *, json_t *rows);

/*
 * api_scope.c: the call's numbers.  Each returns 0, or -1 with the answer
 * sent (api_scope_key: the caller answers).
 */
int	 api_scope_load(struct call *);
int	 api_scope_key(struct call *, int64_t key_id);
/* A signed-in person's numbers (user_numbers), as api_scope_key(). */
int	 api_scope_user(struct call *, int64_t user_id);
/* The phone_number_id v names (id, label or display number) among the
 * numbers the call's key or person may see; NULL none. */
const char *api_scope_resolve(const struct call *, const char *v);
int	 api_scope_declared(const struct param *);
int	 api_scope_take(struct call *, const char *qs, json_t *vals,
	    struct buf *rest);
int	 api_scope_build(struct call *, const json_t *vals);

/* Bodies: NULL with the error sent. */
json_t	*api_json_body(struct call *, size_t max);
json_t	*api_body_params(struct call *, size_t max, const char *unknown);

/*
 * api_session.c: people.  api_session_auth() serves a request that has
 * no Authorization header: 0 when it carries no session cookie either
 * (the caller answers 401), 1 when a live session signed it (user_id,
 * role, user and the call's numbers set; a write also passed the CSRF
 * check), -1 with the answer sent (expired, revoked, CSRF refused).
 */
int	 api_session_auth(struct call *);
/* Who the call acts for, as activity and notes record it: the person's
 * name, or "api:KEYNAME" for an API key ("api" if its name is unknown). */
const char *api_actor(const struct call *);
extern const struct api_route api_session_routes[];
/* api_inbox.c: what the inbox adds to conversations (lists, changes). */
extern const struct api_route api_inbox_routes[];
/*
 * GET /conversations/{id}'s context added to its row: contact, orders,
 * tickets, notes_count (labels is the row's own).  0, or -1 with the
 * answer sent.
 */
int	 api_inbox_context(struct call *, json_t *row);
/* api_hooks.c: event webhooks: GET|POST|PATCH|DELETE /hooks, deliveries. */
extern const struct api_route api_hooks_routes[];
/* api_alerts.c: GET /alerts (and resolving one). */
extern const struct api_route api_alerts_routes[];
/* api_campaigns.c: template campaigns: /campaigns and their recipients. */
extern const struct api_route api_campaigns_routes[];
/* api_media.c: media files, uploads, quick replies, daily statistics. */
extern const struct api_route api_media_routes[];
/*
 * POST /send's inbox members (api_media.c), in o before it is queued:
 * "reply_to" (a wamid) becomes Meta's context.message_id on any send;
 * "upload_id" (with "caption", "filename") becomes the media object of
 * the upload's kind naming its stored file, and *flags gains
 * MSG_ALLOW_FILE (the file is ours: nothing the caller wrote can name
 * one).  pnid is the number it goes from.  0, or -1 with the error sent.
 */
int	 api_media_send(struct call *, json_t *o, const char *pnid,
	    unsigned *flags);

#endif
