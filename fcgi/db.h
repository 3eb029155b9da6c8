/* db.h: the SQLite database (see db.c); the only module that sees sqlite3. */
#ifndef DB_H
#define DB_H

#include <stddef.h>
#include <stdint.h>

#include "webhook.h"

struct buf;
struct cfg;
struct policy_verdict;
struct db;

#define DB_NEVER	INT64_MAX	/* a *_next_due() with nothing queued */

enum db_role {
	DB_ROLE_RESPONDER,	/* appends to the journal, reads; never checkpoints */
	DB_ROLE_WORKER,		/* applies the journal; the only checkpointer */
	DB_ROLE_ADMIN,		/* wactl: may run before the schema exists */
	DB_ROLE__MAX
};

/* Result of a write: callers branch on the kind of failure. */
enum db_rc {
	DB_OK,		/* done */
	DB_DUP,		/* nothing new: already stored */
	DB_BUSY,	/* the lock stayed taken past the busy timeout */
	DB_ERR,		/* anything else; logged */
	DB__MAX
};

/* One webhook body for db_event_insert(), which fills the rest. */
struct db_event {
	const void	*body;		/* borrowed */
	size_t		 len;
	char		 sha256[65];	/* lowercase hex */
	int64_t		 id;		/* journal id, once stored */
};

struct db_health {
	int	 schema_version;	/* PRAGMA user_version */
	int64_t	 backlog;		/* journal entries still pending */
	int64_t	 heartbeat_at;		/* worker's last sign of life, 0 never */
	int64_t	 worker_pid;		/* 0 when unknown */
	int64_t	 outbox_depth;		/* outbox rows queued or sending */
	int64_t	 outbox_oldest_ms;	/* created_at of the oldest, 0 none */
};

/* A send's recipient as the database knows it (all 0 when unknown). */
struct db_peer {
	int64_t	 contact_id;
	int	 opted_out;		/* 1: asked for no business messages */
	int64_t	 opted_out_at;		/* Meta time of that choice */
	int64_t	 window_expires_at;	/* end of the 24-hour window */
	int64_t	 last_inbound_at;	/* the contact's newest message */
	int64_t	 last_stop_at;		/* newest opt-out signal, 0 never */
};

/* A row to queue; every pointer is borrowed, NULL when absent. */
struct db_outbox_new {
	const char	*pnid, *recipient, *kind, *body, *text, *reply_to;
	const char	*media_file, *media_mime, *source, *idem_key;
	int		 free_form, business_initiated;
	int		 optout_ack;	/* the bot's STOP confirmation */
	int64_t		 user_id;	/* the person who queued it; 0 none */
};

/* A due outbox row; strings from malloc, freed by db_outbox_item_clear. */
struct db_outbox_item {
	int64_t	 id;
	char	 pnid[40];
	char	 recipient[72];		/* "" for a read receipt */
	char	 kind[16];
	char	*body, *media_file, *media_mime;
	int	 free_form;
	int	 attempts;		/* before this one */
	int	 optout_ack;		/* the bot's STOP confirmation */
};

/* Why sending from a number is paused (sender_status). */
struct db_pause {
	char	 reason[32];		/* token_invalid, spam_limit */
	int64_t	 code;			/* Meta's code */
	int64_t	 resume_at;		/* unix seconds, 0: when the token changes */
	char	 token_sha[65];		/* digest of the token that failed */
};

/* A pending inbound media download. */
struct db_media_item {
	int64_t	 id;
	char	 pnid[40];
	char	 media_id[128];
	char	 sha[128];		/* as the webhook gave it, "" unknown */
	int	 attempts;
};

/* A due call to an external agent; strings from malloc(). */
struct db_agent_item {
	int64_t	 id;
	char	 pnid[40];
	char	 recipient[72];
	char	*url, *body;
	int	 attempts;
};

/* A column value handed to a row callback (borrowed until it returns). */
enum db_val_type { DB_VAL_NULL, DB_VAL_INT, DB_VAL_REAL, DB_VAL_TEXT,
	DB_VAL__MAX };

struct db_val {
	enum db_val_type type;
	int64_t		 i;
	double		 r;
	const char	*s;
	size_t		 len;
};

/*
 * The value of column name in a db_row_cb's row: its text (NULL when
 * absent or not text), its integer (0 when absent or not an integer).
 */
const char	*db_val_text(int ncols, const char *const *names,
		    const struct db_val *, const char *name);
int64_t		 db_val_int(int ncols, const char *const *names,
		    const struct db_val *, const char *name);
/*
 * The row as a new JSON object (caller json_decref()s; NULL out of
 * memory); text columns named in json_cols (NULL-terminated) that hold
 * JSON go out as JSON.
 */
struct json_t	*db_row_json(int ncols, const char *const *names,
		    const struct db_val *, const char *const *json_cols);

typedef void	(*db_row_cb)(void *, int ncols, const char *const *names,
		    const struct db_val *);

/* GET /messages filters; NULL pointers are "any". */
struct db_msg_filter {
	const char	*numbers;	/* JSON array of phone_number_ids */
	const int64_t	*before;	/* cursor: ids below it */
	const char	*phone;
	const int64_t	*conversation;
	const char	*type, *direction, *status;
	const int64_t	*since, *until;	/* Meta time, unix seconds */
	const char	*q;		/* FTS5 query, already made safe */
	int		 limit;
};

/* PATCH /conversations/{id}: which fields change, and to what. */
struct db_conv_patch {
	int		 set_notes, set_email, set_labels, set_assignee;
	const char	*notes, *email, *labels, *assignee; /* NULL clears */
};

struct db	*db_open(const char *path, enum db_role, int sync_full,
		    long busy_ms);
void		 db_close(struct db *);
int		 db_schema_known(void);
int		 db_user_version(struct db *, int *);
struct db	*db_open_current(const struct cfg *);
int		 db_migrate(struct db *, int *from, int *to);
const char	*db_sqlite_version(void);
int		 db_sqlite_version_ok(void);

/*
 * Storage never reads the clock: a function that stamps a row takes the
 * time from its caller, `now` in the unit of the column it fills (now_ms:
 * unix milliseconds, clock_now_ms(); now_s: unix seconds, time(NULL)).
 */
enum db_rc	 db_event_insert(struct db *, struct db_event *, size_t n,
		    int64_t now_ms);
int		 db_health_get(struct db *, struct db_health *);
/* wactl doctor's reads (db_doctor.c). */
int		 db_doctor_journal(struct db *, int64_t *pending,
		    int64_t *oldest_ms);
int		 db_doctor_failed(struct db *, int64_t since_ms, int64_t *total,
		    int64_t *top_code, int64_t *top_count);

enum db_rc	 db_begin(struct db *);
enum db_rc	 db_begin_read(struct db *);
int		 db_commit(struct db *);
void		 db_rollback(struct db *);
int		 db_savepoint(struct db *);
int		 db_release(struct db *);
void		 db_rollback_to(struct db *);

int		 db_event_next(struct db *, int64_t after, int64_t *id,
		    char **body, size_t *len);
/* What became of a journal entry's items (db_event_finish()). */
struct db_tally {
	int	 total;		/* items in the entry */
	int	 applied;	/* stored now */
	int	 duplicate;	/* known already (a redelivery) */
	int	 failed;	/* rolled back, named in the error */
};

int		 db_event_finish(struct db *, int64_t id, const char *state,
		    const struct db_tally *, const char *error, int64_t now_ms);
enum db_rc	 db_apply_item(struct db *, int64_t event_id,
		    const struct wh_item *, const struct policy_verdict *,
		    int64_t now_ms, const char **why);
int		 db_heartbeat(struct db *, int64_t pid, int64_t started,
		    int64_t now_s);
int64_t		 db_backlog(struct db *);
void		 db_checkpoint(struct db *, int truncate);
int		 db_backup(struct db *, const char *path);
int		 db_search_index(struct db *, int max);
void		 db_budget_begin(struct db *, long ms);
void		 db_budget_end(struct db *);
int		 db_budget_spent(const struct db *);
/* db_purge()'s what: retention steps (see db_retain.c). */
enum db_purge {
	DB_PURGE_BODIES,	/* settled journal bodies (journal days) */
	DB_PURGE_MESSAGES,	/* messages, media rows cascade */
	DB_PURGE_MEDIA,		/* media files */
	DB_PURGE_STATUSES,	/* then, with the messages' cutoff: */
	DB_PURGE_OUTBOX,
	DB_PURGE_AGENT,
	DB_PURGE_ERRORS,
	DB_PURGE_SUBSCRIPTIONS,
	DB_PURGE_OLD_BODIES,
	DB_PURGE_JOBS,		/* finished account jobs */
	DB_PURGE__MAX
};

int		 db_media_paths(struct db *, struct buf *);
int64_t		 db_purge(struct db *, enum db_purge, int64_t cutoff, int limit,
		    int dry, void (*)(void *, const char *), void *);
int		 db_in_transaction(struct db *);

int		 db_peer_get(struct db *, const char *pnid,
		    const char *recipient, struct db_peer *);
int		 db_tier_count(struct db *, const char *pnid,
		    const char *recipient, int64_t since_ms, int64_t *count,
		    int *already);
int		 db_outbox_by_key(struct db *, const char *pnid,
		    const char *key, int64_t *id);
enum db_rc	 db_outbox_insert(struct db *, const struct db_outbox_new *,
		    int64_t now_ms, int64_t *id);
int		 db_outbox_due(struct db *, int64_t now_ms,
		    struct db_outbox_item *, int max);
void		 db_outbox_item_clear(struct db_outbox_item *);
int64_t		 db_outbox_next_due(struct db *, int64_t now);
int		 db_outbox_claim(struct db *, int64_t id, int64_t lease_ms);
int		 db_outbox_retry(struct db *, int64_t id, int64_t next_ms,
		    int64_t code, const char *title, const char *details);
int		 db_outbox_defer(struct db *, int64_t id, int64_t next_ms);
int		 db_outbox_resent(struct db *, int64_t id, int n);
int		 db_outbox_fail(struct db *, int64_t id, int64_t code,
		    const char *title, const char *details);
int		 db_outbox_accept(struct db *, int64_t id, const char *wamid,
		    int64_t now_ms);
int		 db_outbox_recover(struct db *, int64_t now_ms);
int		 db_outbox_set_body(struct db *, int64_t id, const char *body);
int		 db_opt_set(struct db *, const char *pnid,
		    const char *recipient, int out, int64_t at);
int		 db_sender_get(struct db *, const char *pnid,
		    struct db_pause *);
int		 db_sender_pause(struct db *, const char *pnid,
		    const char *reason, int64_t code, int64_t resume_at,
		    const char *token_sha, int64_t now_s);
int		 db_sender_resume(struct db *, const char *pnid, int64_t now_s);
int		 db_sender_list(struct db *, void (*)(void *, const char *pnid,
		    const char *reason, int64_t code, int64_t paused_at,
		    int64_t resume_at), void *);
int		 db_media_due(struct db *, int64_t now_ms,
		    struct db_media_item *, int max);
int64_t		 db_media_next_due(struct db *, int64_t now);
int64_t		 db_agent_next_due(struct db *, int64_t now);
int		 db_media_claim(struct db *, int64_t id, int64_t retry_ms);
int		 db_media_stored(struct db *, int64_t id, const char *mime,
		    const char *sha, int64_t size, const char *path,
		    int64_t now_s);
int		 db_media_path_used(struct db *, const char *path);
int64_t		 db_media_contact_recent(struct db *, int64_t id,
		    int64_t since);
int		 db_media_retry(struct db *, int64_t id, int failed,
		    int64_t next_ms, const char *error);
int		 db_media_out_insert(struct db *, const char *pnid,
		    const char *media_id, const char *mime, const char *sha,
		    int64_t size, const char *path, int64_t now_s);


/* The chatbot (see chat.c): state, business data, hand-offs, agents. */
int		 db_bot_get(struct db *, const char *pnid, int64_t contact,
		    char *node, size_t, char **vars, int64_t *last,
		    int *hinted);
int		 db_bot_set(struct db *, const char *pnid, int64_t contact,
		    const char *node, const char *vars, int64_t last,
		    int hinted);
int		 db_order_get(struct db *, const char *pnid, const char *wa_id,
		    const char *number, void (*)(void *, const char *const *),
		    void (*)(void *, const char *const *), void *);
int		 db_orders_recent(struct db *, const char *pnid,
		    const char *wa_id, int max,
		    void (*)(void *, const char *const *), void *);
int		 db_schedule(struct db *, const char *pnid, const char *wa_id,
		    const char *number, const char *from, const char *to,
		    void (*)(void *, const char *const *), void *);
int		 db_ticket_get(struct db *, const char *pnid,
		    const char *wa_id, const char *number,
		    void (*)(void *, const char *const *), void *);
int		 db_ticket_insert(struct db *, const char *pnid,
		    int64_t contact, const char *wa_id, const char *category,
		    const char *description, const char *const *media,
		    size_t nmedia, int64_t now_s, char *number, size_t);
int		 db_choice_count(struct db *, const char *pnid,
		    const char *day, const char *node, const char *option);
int		 db_conv_assignee(struct db *, const char *pnid,
		    int64_t contact, char *who, size_t, int64_t *until);
int		 db_conv_assign(struct db *, const char *pnid, int64_t contact,
		    const char *who, int64_t until);
int		 db_agent_insert(struct db *, const char *pnid,
		    int64_t contact, const char *recipient, const char *url,
		    const char *body, int64_t now_ms);
int		 db_agent_due(struct db *, int64_t now_ms,
		    struct db_agent_item *, int max);
void		 db_agent_item_clear(struct db_agent_item *);
int		 db_agent_claim(struct db *, int64_t id);
int		 db_agent_finish(struct db *, int64_t id, const char *state,
		    int64_t next_ms, const char *error);
int		 db_order_upsert(struct db *, const char *pnid,
		    const char *number, const char *wa_id, const char *status,
		    const char *ordered_on, const char *expected, int64_t now_s,
		    int64_t *id);
int		 db_order_line_upsert(struct db *, int64_t order, int line,
		    const char *item, const char *quantity);
int		 db_conv_history(struct db *, const char *pnid,
		    int64_t contact, int max,
		    void (*)(void *, const char *const *), void *);
int		 db_order_lines_clear(struct db *, int64_t order);

/* The management API (see api.c). */
enum db_rc	 db_apikey_insert(struct db *, const char *name,
		    const char *sha, const char *prefix, int read_only,
		    int64_t now_s);
int		 db_apikey_check(struct db *, const char *sha, int64_t now_s,
		    int64_t *id, int *read_only, char *name, size_t namesz);
int		 db_apikey_list(struct db *,
		    void (*)(void *, const char *const *), void *);
int		 db_apikey_revoke(struct db *, const char *name, int64_t now_s);
int		 db_api_messages(struct db *, const struct db_msg_filter *,
		    db_row_cb, void *);
int		 db_api_conversations(struct db *, const char *numbers,
		    int64_t id, const int64_t *before, const int64_t *unread,
		    const char *assignee, const char *like, int limit,
		    db_row_cb, void *);
int		 db_api_outbox(struct db *, const char *numbers, int64_t id,
		    db_row_cb, void *);
int		 db_api_outbox_list(struct db *, const char *numbers,
		    const int64_t *before, const char *state, int limit,
		    db_row_cb, void *);
int		 db_api_outbox_change(struct db *, const char *numbers,
		    int64_t id, int retry, int64_t now_ms);
int		 db_api_events(struct db *, int64_t id, const int64_t *before,
		    const char *state, int limit, db_row_cb, void *);
int		 db_api_event_replay(struct db *, int64_t id);
int		 db_api_status(struct db *, const char *numbers, db_row_cb,
		    void *);
int		 db_api_conv_patch(struct db *, const char *numbers, int64_t id,
		    const struct db_conv_patch *);
int		 db_api_contacts(struct db *, const char *numbers,
		    const char *wa_id, const int64_t *before, const char *like,
		    const int64_t *opted_out, int limit, db_row_cb, void *);
/* db_api_export()'s parts: the tables GET .../export reads, in order. */
enum db_export {
	DB_EXPORT_CONVERSATIONS,
	DB_EXPORT_MESSAGES,
	DB_EXPORT_STATUSES,
	DB_EXPORT_MEDIA,
	DB_EXPORT_TICKETS,
	DB_EXPORT_OUTBOX,
	DB_EXPORT_CONTACT,	/* the contacts row */
	DB_EXPORT_AGENT,	/* agent requests */
	DB_EXPORT_BOT,		/* bot state */
	DB_EXPORT_ORDERS,
	DB_EXPORT_ORDER_LINES,
	DB_EXPORT_EVENTS,	/* journal entries whose body names them */
	DB_EXPORT_WEBHOOK_ERRORS,	/* ...webhook errors naming them */
	DB_EXPORT_SUBSCRIPTIONS,	/* ...subscription events naming them */
	DB_EXPORT__MAX
};

/* db_api_stats()'s parts (GET /stats). */
enum db_stats {
	DB_STATS_VOLUME,	/* by day, direction, type and status */
	DB_STATS_CONTACTS,	/* one row: unique and new contacts */
	DB_STATS_REPLY,		/* reply delay per customer message */
	DB_STATS_FAILURES,	/* failures by Meta code */
	DB_STATS_CHOICES,	/* the most chosen menu options */
	DB_STATS__MAX
};

/* db_api_metrics()'s parts (GET /metrics). */
enum db_metrics {
	DB_METRICS_EVENTS,	/* journal entries by state */
	DB_METRICS_OUTBOX,	/* outbox rows by state */
	DB_METRICS_SENDS,	/* settled sends by state and Meta code */
	DB_METRICS__MAX
};

int		 db_api_export(struct db *, const char *pnid, int64_t contact,
		    const char *wa_id, enum db_export, db_row_cb, void *);
int		 db_api_erase(struct db *, const char *pnid, const char *wa_id,
		    void (*)(void *, const char *), void *);
int		 db_api_stats(struct db *, const char *numbers, int64_t since,
		    int64_t until, enum db_stats, db_row_cb, void *);
int		 db_api_metrics(struct db *, const char *numbers, enum db_metrics,
		    db_row_cb, void *);
int64_t		 db_api_conv_by_phone(struct db *, const char *numbers,
		    const char *wa_id);
int		 db_api_conv_read(struct db *, const char *numbers, int64_t id,
		    char *wamid, size_t, char *wa_id, size_t, char *pnid,
		    size_t);
int		 db_schedule_upsert(struct db *, const char *pnid,
		    const char *number, const char *step, const char *starts,
		    const char *ends);

/* The business numbers this install serves (db_numbers.c). */
struct db_number {
	char		 pnid[32];		/* phone_number_id, digits */
	char		 waba_id[32];		/* "" unknown */
	char		 display[64];		/* display_phone_number, "" unchecked */
	char		 verified_name[256];	/* "" unchecked */
	char		 label[33];		/* [a-z0-9_-], 1 to 32 */
	char		 token_env[128];	/* the variable naming its token */
	char		 flow_path[1024];	/* "" WA_FLOW_FILE */
	int64_t		 send_rate;		/* messages/s, 0 WA_SEND_RATE */
	char		 quality[32];		/* quality_rating, "" unchecked */
	char		 tier[32];		/* messaging_limit_tier */
	char		 throughput[32];
	char		 status[64];
	int64_t		 checked_at;		/* unix s, 0 never */
	int64_t		 created_at;		/* unix s */
	int64_t		 removed_at;		/* unix s, 0 active */
};

enum db_rc	 db_number_upsert(struct db *, const struct db_number *,
		    int64_t now_s);
int		 db_number_get(struct db *, const char *id_or_label,
		    struct db_number *);
int		 db_number_list(struct db *,
		    void (*)(void *, const char *const *), void *);
enum db_rc	 db_number_edit(struct db *, const char *pnid,
		    const char *label, const char *token_env, const char *flow,
		    const int64_t *rate, int *changed);
int		 db_number_remove(struct db *, const char *pnid, int64_t now_s);
enum db_rc	 db_number_seed(struct db *, const char *pnid, int64_t now_s,
		    int *added);

/* Message templates of each WABA (db_templates.c; reference section 15). */
struct db_template {
	int64_t		 id;			/* row id, 0 not stored */
	char		 waba[32];		/* waba_id, digits */
	char		 template_id[32];	/* Meta's id, "" none yet */
	char		 name[513];		/* a-z, 0-9, _ */
	char		 language[16];		/* e.g. en_US */
	char		 category[32];		/* "" unknown */
	char		 status[32];		/* APPROVED, PENDING, ... */
	char		 quality[16];		/* "" unknown */
	char		*components;		/* JSON array text; malloc'd,
						 * db_template_clear() frees */
	char		 rejected_reason[256];	/* "" none */
	int64_t		 synced_at;		/* unix s, 0 never synced */
	int64_t		 updated_at;		/* unix s */
};

/* db_template_list() filters; NULL or 0 is "any". */
struct db_template_filter {
	const char *const *wabas;	/* the WABAs it may show */
	int		 nwabas;	/* how many; 0 shows nothing */
	const char	*name, *language, *status, *category;
	int64_t		 cursor;	/* ids above it */
	int		 limit;		/* rows at most, 1 or more */
};

void		 db_template_clear(struct db_template *);
int		 db_template_upsert(struct db *, const struct db_template *,
		    int64_t now_s);
int		 db_template_get(struct db *, const char *waba,
		    const char *name, const char *language,
		    struct db_template *);
int		 db_template_list(struct db *,
		    const struct db_template_filter *, db_row_cb, void *);
int		 db_template_delete(struct db *, const char *waba,
		    const char *name, const char *language);
int		 db_template_sync_done(struct db *, const char *waba,
		    int64_t seen_since_s);
int64_t		 db_template_sync_stamp(struct db *, const char *waba,
		    int64_t now_s);
int		 db_template_numbers(struct db *,
		    void (*)(void *, const char *const *), void *);

/* Account jobs the worker carries to Meta (db_jobs.c; issue 13). */
struct db_job {
	int64_t		 id;
	char		 pnid[32];		/* "" a WABA-wide call */
	char		 waba[32];		/* "" none */
	char		 kind[24];		/* template_sync, profile_get, ... */
	char		*body;			/* JSON or NULL; db_job_clear() */
	int		 attempts;		/* before this one */
};

void		 db_job_clear(struct db_job *);
int64_t		 db_job_insert(struct db *, const char *pnid,
		    const char *waba, const char *kind, const char *body,
		    int64_t now_ms);
int		 db_job_due(struct db *, int64_t now_ms, struct db_job *);
int		 db_job_claim(struct db *, int64_t id);
int		 db_job_retry(struct db *, int64_t id, int64_t next_ms,
		    int64_t code, const char *title);
int		 db_job_finish(struct db *, int64_t id, int ok,
		    const char *result, int64_t code, const char *title,
		    int64_t now_ms);
int		 db_job_get(struct db *, int64_t id, db_row_cb, void *);
int64_t		 db_job_next_due(struct db *, int64_t now_ms);
int		 db_job_recover(struct db *);
int		 db_job_pending(struct db *, const char *kind,
		    const char *waba);
int64_t		 db_job_last(struct db *, const char *kind, const char *waba);
int		 db_job_wabas(struct db *,
		    void (*)(void *, const char *const *), void *);
int		 db_job_waba_token(struct db *, const char *waba, char *env,
		    size_t envsz);
int		 db_job_profile_set(struct db *, const char *pnid,
		    const char *profile, int64_t now_s);
int		 db_job_profile_get(struct db *, const char *pnid, db_row_cb,
		    void *);
int		 db_job_number_wabas(struct db *,
		    void (*)(void *, const char *const *), void *);

/*
 * API keys limited to numbers (db_api.c, scope): db_api_* queries take
 * `numbers`, a JSON array of the phone_number_ids a call covers.
 */
enum db_rc	 db_apikey_create(struct db *, const char *name,
		    const char *sha, const char *prefix, int read_only,
		    int64_t now_s, const char *const *pnids, size_t n);
int		 db_apikey_numbers(struct db *, int64_t id,
		    void (*)(void *, const char *const *), void *);

/*
 * What Meta's account webhooks say of numbers (db_health.c, issue 13):
 * the rows GET /numbers, /status, /metrics and /health read, the
 * numbers that write without being configured, and whether an account
 * state restricts sending (shared with the API).
 */
int		 db_health_numbers(struct db *, db_row_cb, void *);
int		 db_health_unknown(struct db *, int64_t since_s,
		    void (*)(void *, const char *pnid), void *);
int		 db_health_restricted(const char *account_state,
		    const char *account_detail);

/*
 * The richer sends and their replies (db_types.c): a number's Commerce
 * catalog, and the raw webhook item of a stored message.
 */
int		 db_number_catalog(struct db *, const char *pnid, char *buf,
		    size_t);
enum db_rc	 db_number_set_catalog(struct db *, const char *pnid,
		    const char *catalog_id, int *changed);
int		 db_msg_reply_raw(struct db *, int64_t id, char **raw);

/*
 * The inbox's conversations (db_inbox.c, issue 14): its chat list, the
 * change cursor, labels, notes, and the activity every staff change
 * writes in the change's own transaction.
 */
struct db_actor {
	int64_t		 user_id;	/* users.id; 0 for an API key */
	const char	*name;		/* the person's name, or "api" */
};

/* GET /chats for one number; NULL or 0 members are "any". */
struct db_chats_filter {
	const char	*pnid;
	int64_t		 now_s;		/* for window_open */
	int64_t		 before_at, before_id; /* the cursor: rows below
					 * it; INT64_MAX both from the top */
	const int64_t	*unread;	/* 1 only unread, 0 only read */
	const char	*assignee;	/* exact */
	const char	*state;		/* bot, person, unassigned, agent */
	const char	*label;
	const char	*like;		/* a LIKE pattern, escaped with \ */
	const char	*window;	/* open, closed */
	int		 limit;
};

#define DB_MARKS	6	/* the change cursor's high-water marks */

int		 db_inbox_chats(struct db *, const struct db_chats_filter *,
		    db_row_cb, void *);
int		 db_inbox_changes(struct db *, const char *numbers,
		    const int64_t *since, int64_t marks[DB_MARKS], int cap,
		    int limit, void (*)(void *, int64_t), void *);
int		 db_inbox_labels(struct db *, int64_t id, db_row_cb, void *);
enum db_rc	 db_inbox_label_add(struct db *, const char *name,
		    const char *color, int64_t now_s, int64_t *id);
int		 db_inbox_label_update(struct db *, int64_t id, int set_name,
		    const char *name, int set_color, const char *color);
int		 db_inbox_label_delete(struct db *, int64_t id);
int		 db_inbox_conv_seen(struct db *, const char *numbers,
		    int64_t id);
int		 db_inbox_conv_patch(struct db *, const char *numbers,
		    int64_t id, const struct db_conv_patch *,
		    const struct db_actor *, int64_t now_ms);
int		 db_inbox_conv_read(struct db *, const char *numbers,
		    int64_t id, const struct db_actor *, int64_t now_ms,
		    char *wamid, size_t, char *wa_id, size_t, char *pnid,
		    size_t);
int		 db_inbox_activity(struct db *, int64_t conv, int limit,
		    db_row_cb, void *);
int		 db_inbox_notes(struct db *, int64_t conv, int limit,
		    db_row_cb, void *);
int		 db_inbox_note(struct db *, const char *numbers, int64_t id,
		    db_row_cb, void *);
int		 db_inbox_note_add(struct db *, const char *numbers,
		    int64_t conv, const struct db_actor *, const char *text,
		    int64_t now_ms, int64_t *id);
int		 db_inbox_note_delete(struct db *, const char *numbers,
		    int64_t id, const struct db_actor *, int admin);
int		 db_inbox_contact(struct db *, const char *numbers,
		    int64_t conv, db_row_cb, void *);
int		 db_inbox_orders(struct db *, const char *pnid,
		    const char *wa_id, int limit, db_row_cb, void *);
int		 db_inbox_tickets(struct db *, const char *pnid,
		    const char *wa_id, int limit, db_row_cb, void *);

/*
 * People who sign in to the inbox, their sessions and failed sign-ins,
 * and the admin's views of keys and numbers (db_users.c, issue 14).
 */
#define DB_USER_NAME_MAX	65	/* 1-64 of a-z, 0-9, . _ - and NUL */

struct db_user {
	int64_t		 id;
	char		 name[DB_USER_NAME_MAX];
	char		 display_name[129];	/* "" none */
	char		 role[8];		/* admin, agent, viewer */
	char		 email[255];		/* "" none */
	char		 hash[160];		/* pw.c's "scrypt$..." */
	int64_t		 disabled_at;		/* unix s, 0 enabled */
	int64_t		 last_login_at;		/* unix s, 0 never */
	int64_t		 password_at;		/* unix s */
};

/* What db_user_update() changes; NULL/0 members stay as they are. */
struct db_user_patch {
	int		 set_display, set_email;
	const char	*display_name, *email;	/* NULL clears */
	const char	*role;			/* NULL keeps */
	const char	*hash;			/* a new password's, NULL keeps */
	int		 disable;		/* -1 keeps, 0 enables, 1 disables */
	int		 set_numbers;
	const char *const *pnids;		/* the numbers, n 0: every one */
	size_t		 npnids;
};

enum db_user_rc {
	DB_USER_OK,
	DB_USER_NONE,		/* no such user */
	DB_USER_DUP,		/* the name is taken */
	DB_USER_LAST_ADMIN,	/* it would leave no admin who can sign in */
	DB_USER_ERR,		/* logged */
	DB_USER__MAX
};

/* A session's row and its user's (db_session_get()). */
struct db_session {
	int64_t		 id, user_id;
	int64_t		 created_at, last_used_at, expires_at;
	int64_t		 revoked_at;		/* 0 live */
	int64_t		 disabled_at;		/* the user's; 0 enabled */
	int64_t		 password_at;
	char		 name[DB_USER_NAME_MAX];
	char		 display_name[129];
	char		 role[8];
	char		 email[255];
};

int		 db_user_get(struct db *, int64_t id, const char *name,
		    struct db_user *);
enum db_user_rc	 db_user_create(struct db *, const struct db_user *,
		    int64_t now_s, const char *const *pnids, size_t n,
		    int64_t *id);
int		 db_user_list(struct db *, db_row_cb, void *);
int		 db_user_numbers(struct db *, int64_t id,
		    void (*)(void *, const char *const *), void *);
enum db_user_rc	 db_user_update(struct db *, int64_t id,
		    const struct db_user_patch *, int64_t now_s);
enum db_user_rc	 db_user_remove(struct db *, int64_t id);
enum db_rc	 db_session_start(struct db *, int64_t user_id,
		    const char *sha, int64_t now_s, int64_t expires_s,
		    const char *address, const char *user_agent,
		    const char *who_user, const char *who_addr);
int		 db_session_get(struct db *, const char *sha,
		    struct db_session *);
int		 db_session_touch(struct db *, int64_t id, int64_t now_s);
int		 db_session_revoke(struct db *, int64_t id, int64_t now_s);
int		 db_login_locked(struct db *, const char *who, int64_t now_s,
		    int64_t *until);
int		 db_login_failed(struct db *, const char *who, int64_t now_s,
		    int64_t *until);
int		 db_apikey_rows(struct db *, int64_t id, db_row_cb, void *);
int		 db_apikey_revoke_id(struct db *, int64_t id, int64_t now_s);
enum db_rc	 db_number_patch(struct db *, const char *pnid,
		    const char *label, const char *display,
		    const int64_t *rate, int active, int64_t now_s);

/*
 * The inbox's files and canned answers (db_media.c, issue 14): a
 * message's file, uploads to send, quick replies, daily statistics.
 */
struct db_media_file {
	char	 pnid[40];		/* the message's number */
	char	 direction[4];		/* in, out */
	char	 type[32];		/* the message's type */
	int	 has_media;		/* the message names a media id */
	char	 filename[512];		/* a document's file name; "" none */
	char	 msg_mime[128];		/* MIME type the message names */
	char	 state[16];		/* media row: pending, stored, failed;
					 * "" no row */
	char	 path[256];		/* relative to the media directory */
	char	 mime[128];		/* MIME type of the stored file */
	char	 error[256];		/* why the download failed */
};
struct db_upload {
	char	 pnid[40];		/* the number it may go from; "" any */
	char	 filename[256];		/* as the browser named it; "" none */
	char	 mime[128];
	int64_t	 size;
	char	 sha[65];		/* lowercase hex SHA-256 */
	char	 path[256];		/* relative to the media directory */
};
enum db_daily {
	DB_DAILY_SCAN,		/* conversation, timestamp, kind (0 in, 1 a
				 * person's or the bot's, 2 other out), failed */
	DB_DAILY_FAILED,	/* day index, outbox rows failed */
	DB_DAILY__MAX
};
int		 db_media_of_message(struct db *, int64_t id,
		    struct db_media_file *);
enum db_rc	 db_upload_insert(struct db *, const struct db_upload *,
		    int64_t user_id, int64_t now_s, int64_t *id);
int		 db_upload_get(struct db *, int64_t id, struct db_upload *);
int		 db_qr_list(struct db *, const char *numbers, int64_t id,
		    db_row_cb, void *);
enum db_rc	 db_qr_insert(struct db *, const char *shortcut,
		    const char *text, const char *pnid, const char *by,
		    int64_t now_s, int64_t *id);
enum db_rc	 db_qr_update(struct db *, int64_t id, const char *shortcut,
		    const char *text, int set_pnid, const char *pnid,
		    int64_t now_s);
enum db_rc	 db_qr_delete(struct db *, int64_t id);
int		 db_daily(struct db *, const char *numbers, int64_t since,
		    int64_t until, int64_t extra, enum db_daily, db_row_cb,
		    void *);

/*
 * Event webhooks (issue 16, db_hooks.c).  db_event_emit() queues event
 * type (with number pnid, NULL for none; conversation_id 0 for none) as
 * one delivery per active hook subscribed to it, inside the caller's
 * open transaction; data is taken (released even on failure).  0 or -1
 * (the caller rolls back).  db_event_take() returns how many deliveries
 * this process queued since it last asked, and forgets them: a
 * responder wakes the worker after its commit when it is not 0.
 */
#define DB_EVENT_ID_MAX	37	/* "evt_", 32 hex digits, NUL */
struct json_t;
struct db_hook {
	const char	*url, *events, *pnid, *secret_env, *secret, *by;
};
int		 db_event_emit(struct db *, const char *type,
		    const char *pnid, int64_t conversation_id, struct json_t *data,
		    int64_t now_ms);
int		 db_event_take(void);
int		 db_event_conv_wa(struct db *, int64_t conversation_id,
		    char *wa_id, size_t);
/*
 * The events of an applied webhook item (db_apply.c), each inside the
 * apply's transaction: message.received (message_id our row),
 * message.status, message.edited.  0 or -1.
 */
int		 db_event_received(struct db *, const struct wh_item *,
		    int64_t message_id, int64_t conversation_id,
		    int64_t now_ms);
int		 db_event_status(struct db *, const struct wh_item *,
		    int64_t now_ms);
int		 db_event_edited(struct db *, const struct wh_item *,
		    int64_t now_ms);
/*
 * Outbox row id's answer from Meta (db_outbox.c): message.sent when
 * wamid is not NULL, else send.failed with code and title.  Read
 * receipts tell nothing.  0 or -1.
 */
int		 db_event_outbox(struct db *, int64_t id, const char *wamid,
		    int64_t code, const char *title, int64_t now_ms);
/*
 * conversation.assigned (db_inbox.c: a person or key changed the
 * assignee from previous to assignee) and conversation.handed_off (the
 * bot or its agent fallback handed number pnid's conversation with
 * contact to "to"; db_event_handoff_conv(): a person or key handed
 * conversation_id from the bot or an agent to people); by is the user
 * name, "api:KEY" or "bot".  0 or -1.
 */
int		 db_event_assigned(struct db *, const char *pnid,
		    int64_t conversation_id, const char *assignee,
		    const char *previous, const char *by, int64_t now_ms);
int		 db_event_handoff(struct db *, const char *pnid,
		    int64_t contact, const char *to, const char *by,
		    int64_t now_ms);
int		 db_event_handoff_conv(struct db *, const char *pnid,
		    int64_t conversation_id, const char *to, const char *by,
		    int64_t now_ms);
/* template.status of a message_template_status_update (db_health.c). */
int		 db_event_template(struct db *, const struct wh_item *,
		    int64_t now_ms);
/* contact.opted_out (out 1) or contact.opted_in; keyword NULL for none. */
int		 db_event_opt(struct db *, const char *pnid, const char *wa_id,
		    int64_t conversation_id, int out, const char *keyword,
		    int64_t now_ms);
enum db_rc	 db_hook_insert(struct db *, const struct db_hook *,
		    int64_t now_s, int64_t *id);
/* Every hook (id 0) or one, as the API shows them; n rows or -1. */
int		 db_hook_list(struct db *, int64_t id, int64_t now_ms,
		    db_row_cb, void *);
/* NULL members and state are kept; pnid set when set_pnid.  1, 0 none, -1. */
int		 db_hook_update(struct db *, int64_t id, const struct db_hook *,
		    int set_pnid, const char *state, int64_t now_s);
int		 db_hook_delete(struct db *, int64_t id);	/* 1, 0, -1 */
/* A hook's deliveries, newest first (before: an id, 0 none); n or -1. */
int		 db_hook_deliveries(struct db *, int64_t hook,
		    const char *state, int64_t before, int limit, db_row_cb,
		    void *);
/* Delivery id queued again now: 1, 0 none (or being sent), -1. */
int		 db_hook_redeliver(struct db *, int64_t id, int64_t now_ms);

/*
 * db_deliver.c: the worker's deliveries of event webhooks (issue 16).
 * Times are unix milliseconds; hooks.failing_since too.
 */
struct db_delivery {
	int64_t	 id;
	int64_t	 hook_id;
	int64_t	 created_at;		/* when the event was queued */
	int64_t	 attempts;		/* made before this one */
	char	*body;			/* the event JSON, posted as is */
	char	*url;
	char	*secret;		/* hooks.secret, NULL with secret_env */
	char	*secret_env;		/* the worker's setting holding it */
};
/* One attempt's outcome, for db_deliver_record(). */
struct db_deliver_outcome {
	int64_t		 id;
	int64_t		 hook_id;
	int64_t		 at;		/* when the attempt started */
	int64_t		 duration_ms;
	long		 http;		/* 0: no answer */
	const char	*error;		/* NULL: delivered */
	const char	*state;		/* delivered, queued (retry), failed */
	int64_t		 next_at;	/* queued: when to try again */
	int64_t		 disable_before; /* failing since before: disabled */
	const char	*disable_reason;
};
void		 db_delivery_clear(struct db_delivery *);
int		 db_deliver_requeue(struct db *, int64_t before_ms);
int		 db_deliver_due(struct db *, int64_t now, struct db_delivery *,
		    int max);
int		 db_deliver_any(struct db *, int64_t now);
int64_t		 db_deliver_last(struct db *);
int		 db_deliver_claim(struct db *, int64_t id, int64_t lease_ms);
int64_t		 db_deliver_next_due(struct db *, int64_t now);
int		 db_deliver_record(struct db *,
		    const struct db_deliver_outcome *);

/*
 * db_alerts.c: alerts raised once per episode, their mails (issue 16,
 * email alerts).  Times: alerts in unix seconds, mails in unix ms.
 */
struct db_alert_mail {
	int64_t	 id;
	char	*recipient;		/* owned: free with db_alert_mail_clear() */
	char	*subject;
	char	*body;
	int64_t	 attempts;
	int64_t	 created_at;		/* unix ms */
};
int	 db_alert_waiting(struct db *, int64_t since_s, int64_t now_s);
int	 db_alert_raise(struct db *, const char *kind, const char *pnid,
	    const char *episode, const char *summary, const char *detail,
	    int64_t now_s);
int	 db_alert_open(struct db *, const char *kind, const char *pnid);
int	 db_alert_numbers(struct db *, db_row_cb, void *);
int	 db_alert_sends(struct db *, int64_t since_ms, int64_t *total,
	    int64_t *failed);
int	 db_alert_end(struct db *, const char *kind, const char *pnid,
	    const char *keep_episode, int64_t now_s);
int	 db_alert_list(struct db *, const char *state, int64_t user_id,
	    int admin, int64_t limit, int64_t before, db_row_cb, void *);
int	 db_alert_resolve(struct db *, int64_t id, int64_t user_id, int admin,
	    int64_t now_s);
int	 db_alert_get(struct db *, int64_t id, db_row_cb, void *);
int	 db_alert_mail_who(struct db *, int64_t quiet_since_ms,
	    int64_t raised_since_s, db_row_cb, void *);
int	 db_alert_mail_alerts(struct db *, int64_t user_id,
	    int64_t raised_since_s, db_row_cb, void *);
int	 db_alert_mail_insert(struct db *, int64_t user_id, const char *rcpt,
	    const char *subject, const char *body, const char *alert_ids,
	    int64_t now_ms);
int	 db_alert_mail_next(struct db *, int64_t now_ms,
	    struct db_alert_mail *);
void	 db_alert_mail_clear(struct db_alert_mail *);
int	 db_alert_mail_done(struct db *, int64_t id, const char *state,
	    int64_t next_ms, const char *error, int64_t sent_ms);

/*
 * Template campaigns, the worker's side (db_campsend.c, issue 16): due
 * campaigns, their next recipients handed to the outbox, and the roll-up
 * of the outbox's answers and Meta's statuses into the recipients.
 */
struct db_campsend {
	int64_t		 id;
	char		 pnid[32];		/* the number it sends from */
	char		 tmpl[513];		/* template name */
	char		 language[32];		/* its language code */
	char		 state[16];		/* scheduled, running, ... */
	int64_t		 wait_until;		/* unix ms, 0 not waiting */
};
struct db_campsend_rcpt {
	int64_t		 id;
	char		*wa_id;			/* malloc'd */
	char		*params;		/* JSON array, malloc'd */
};
int	 db_campsend_due(struct db *, int64_t now_ms, int64_t *ids,
	    size_t max);
int	 db_campsend_get(struct db *, int64_t id, struct db_campsend *);
int	 db_campsend_start(struct db *, int64_t id, int64_t now_ms);
int	 db_campsend_open(struct db *, const char *pnid, int64_t *n);
int	 db_campsend_next(struct db *, int64_t id,
	    struct db_campsend_rcpt *, size_t max);
void	 db_campsend_rcpt_clear(struct db_campsend_rcpt *, size_t n);
int	 db_campsend_handed(struct db *, int64_t rid, int64_t outbox_id,
	    int64_t now_ms);
int	 db_campsend_settle(struct db *, int64_t rid, const char *state,
	    const char *reason, int64_t now_ms);
int	 db_campsend_wait(struct db *, int64_t id, int64_t until_ms,
	    const char *reason, int64_t now_ms);
int	 db_campsend_finish(struct db *, int64_t id, int64_t now_ms);
int	 db_campsend_tier_free(struct db *, const char *pnid,
	    int64_t since_ms, int64_t *at);
int	 db_campsend_accepted(struct db *, int64_t outbox_id, int64_t now_ms);
int	 db_campsend_failed(struct db *, int64_t outbox_id, int64_t code,
	    const char *title, int64_t now_ms);
int	 db_campsend_status(struct db *, const char *wamid,
	    const char *status, int64_t code, const char *title,
	    int64_t now_ms);
int	 db_campsend_recover(struct db *);
int	 db_campsend_unstick(struct db *, int64_t id, int max,
	    int64_t now_ms);

/*
 * db_campaigns.c: template campaigns as the API and wactl make and see
 * them (issue 16).  Times: rows in unix ms, what the reads answer in
 * unix seconds.
 */
struct msg_err;
/* One recipient to write; pointers borrowed until the next call. */
struct campaign_row {
	int64_t		 line;		/* the CSV line; 0 a segment */
	const char	*wa_id;
	const char	*params;	/* JSON array text */
	const char	*reason;	/* NULL queued (or opted_out, found
					 * here); invalid_number, duplicate */
};
struct campaign_new {
	const char	*name, *pnid, *template, *language;
	const char	*source;	/* JSON object text */
	int64_t		 start_ms;	/* not before, unix ms */
	int64_t		 created_by;	/* users.id; 0 wactl or a key */
	int64_t		 now_ms;
	/* The recipients: 1 with *r filled, 0 no more, -1 failed. */
	int		(*next)(void *, struct campaign_row *r);
	void		*arg;
	/* dry_run: peek sees the campaign written, then it is undone. */
	int		 dry_run;
	void		(*peek)(void *, struct db *, int64_t id);
	void		*peek_arg;
};
enum db_campaign_act {
	DB_CAMPAIGN_PAUSE,
	DB_CAMPAIGN_RESUME,
	DB_CAMPAIGN_CANCEL,
	DB_CAMPAIGN__MAX
};
/* Counts by recipient state, in this order; a NULL after the last. */
#define DB_CAMPAIGN_STATES	6	/* queued skipped sent delivered read
					 * failed */
extern const char *const db_campaign_states[DB_CAMPAIGN_STATES + 1];
int	 db_campaign_create(struct db *, const struct campaign_new *,
	    int64_t *id, struct msg_err *);
int	 db_campaign_get(struct db *, int64_t id, db_row_cb, void *);
int	 db_campaign_list(struct db *, const char *state, int limit,
	    db_row_cb, void *);
int	 db_campaign_find(struct db *, const char *name, int64_t *id);
int	 db_campaign_counts(struct db *, int64_t id,
	    int64_t counts[DB_CAMPAIGN_STATES], struct json_t *skipped);
int	 db_campaign_first(struct db *, int64_t id, char **params);
int	 db_campaign_recipients(struct db *, int64_t id, const char *state,
	    int64_t before, int limit, db_row_cb, void *);
int	 db_campaign_report(struct db *, int64_t id, db_row_cb, void *);
int	 db_campaign_act(struct db *, int64_t id, enum db_campaign_act,
	    int64_t now_ms);
int	 db_campaign_segment(struct db *, const char *pnid, const char *label,
	    int64_t since_s, db_row_cb, void *);

#endif
