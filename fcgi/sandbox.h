/*
 * sandbox.h: wa-sandbox, the local stand-in for Meta's Graph API that
 * `make run` uses in sandbox mode (WA_SANDBOX=1; issue 15).  Its modules:
 *   sandbox.c        main(), the FastCGI routes (Graph, customer, info)
 *   sandbox_check.c  what Meta accepts on POST /{pnid}/messages (pure)
 *   sandbox_store.c  its own SQLite file, sandbox.db (the only SQLite user
 *                    of this program; it never opens the gateway's wa.db)
 *   sandbox_hook.c   the background thread posting status webhooks
 */
#ifndef SANDBOX_H
#define SANDBOX_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* The sandbox number's public face (GET /{pnid}, webhook metadata). */
#define SANDBOX_DISPLAY		"15550100000"
#define SANDBOX_WABA		"100200300400500"
#define SANDBOX_NAME		"Sandbox Business"
/* Status webhooks: sent, delivered, read this far apart (ms). */
#define SANDBOX_STATUS_STEP_MS	500

/* ---- sandbox_check.c: a Graph refusal (pure: no I/O, no clock) ---- */

struct sandbox_refusal {
	long	 code;		/* Meta's error code, e.g. 131008 */
	int	 http;		/* the HTTP status Meta answers with */
	char	 message[256];	/* error.message, "(#CODE) ..." */
	char	 details[512];	/* error.error_data.details */
};

/* What a POST /{pnid}/messages body is. */
enum sandbox_send {
	SANDBOX_SEND_MESSAGE,	/* a message to deliver */
	SANDBOX_SEND_READ,	/* a read receipt (maybe with typing) */
	SANDBOX_SEND_REFUSED,	/* refused: see the refusal */
	SANDBOX_SEND__MAX
};

enum sandbox_send sandbox_check_send(const json_t *body, char *wa_id,
		    size_t wa_idsz, struct sandbox_refusal *);
void		 sandbox_check_refuse(struct sandbox_refusal *, long code,
		    const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));
const char	*sandbox_check_title(long code);
int		 sandbox_check_http(long code);

/* ---- sandbox_store.c: sandbox.db ---- */

/* Every statement of sandbox.db, in sandbox_store.c's table. */
enum sbx_stmt {
	SBX_MSG_INSERT,		/* seq out: wamid, pnid, to, body, at */
	SBX_MSG_LIST,		/* to, after, limit */
	SBX_STATUS_INSERT,	/* wamid, pnid, recipient, status, due_ms */
	SBX_STATUS_DUE,		/* now_ms, limit: the first per wamid */
	SBX_STATUS_DONE,	/* id */
	SBX_STATUS_RETRY,	/* due_ms, id */
	SBX_MEDIA_INSERT,	/* id, pnid, mime, sha256, size, filename, link,
				   state, wamid */
	SBX_MEDIA_GET,		/* id */
	SBX_MEDIA_DELETE,	/* id */
	SBX_MEDIA_DUE,		/* limit: loopback links to fetch */
	SBX_MEDIA_FETCHED,	/* state, sha256, size, id */
	SBX_TMPL_LIST,		/* (none) */
	SBX_TMPL_FIND,		/* name, language */
	SBX_TMPL_INSERT,	/* name, language, category, components */
	SBX_TMPL_DELETE,	/* name */
	SBX_PROFILE_GET,	/* pnid */
	SBX_PROFILE_SET,	/* pnid, body */
	SBX__MAX
};

struct sandbox_store;

struct sandbox_store *sandbox_store_open(const char *path, long busy_ms);
void		 sandbox_store_close(struct sandbox_store *);
int		 sandbox_store_begin(struct sandbox_store *);
int		 sandbox_store_commit(struct sandbox_store *);
void		 sandbox_store_rollback(struct sandbox_store *);
int		 sandbox_store_exec(struct sandbox_store *, enum sbx_stmt,
		    const char *fmt, ...);
json_t		*sandbox_store_rows(struct sandbox_store *, enum sbx_stmt,
		    const char *fmt, ...);
int64_t		 sandbox_store_last_id(struct sandbox_store *);

/* ---- sandbox_hook.c: status webhooks back to the gateway ---- */

struct sandbox_hook_opts {
	const char	*db_path;	/* sandbox.db */
	const char	*media_dir;	/* sandbox-media/ */
	long		 busy_ms;
	const char	*webhook_url;	/* http://LISTEN/api/whatsapp/webhook */
	const char	*app_secret;	/* signs each body */
	const char	*graph_url;	/* for wa_new() only */
	const char	*api_version;
	const char	*token;
	atomic_int	*stop;		/* set by main() to end the thread */
};

int		 sandbox_hook_start(const struct sandbox_hook_opts *);
void		 sandbox_hook_join(void);

#endif
