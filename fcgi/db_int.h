/*
 * db_int.h: storage's private header, included only by fcgi/db*.c (the
 * only files that include sqlite3.h).  The statement enum and its table
 * (db_sql.c), the handle, and the helpers the db*.c files share.
 */
#ifndef DB_INT_H
#define DB_INT_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "db.h"

enum stmt {
	/* db.c: transactions and savepoints, health */
	STMT_BEGIN,
	STMT_BEGIN_READ,
	STMT_COMMIT,
	STMT_ROLLBACK,
	STMT_SAVEPOINT,
	STMT_RELEASE,
	STMT_ROLLBACK_TO,
	STMT_HEARTBEAT_GET,
	STMT_HEARTBEAT_SET,
	STMT_OUTBOX_DEPTH,
	/* db_journal.c: the webhook journal */
	STMT_EVENT_INSERT,
	STMT_BACKLOG,
	STMT_DOCTOR_JOURNAL,	/* db_doctor.c: wactl doctor's reads */
	STMT_DOCTOR_FAILED,
	STMT_EVENT_NEXT,
	STMT_EVENT_FINISH,
	STMT_API_EVENT_REPLAY,
	/* db_apply.c: applying webhook items */
	STMT_CONTACT_BY_WA,
	STMT_CONTACT_BY_UID,
	STMT_CONTACT_INSERT,
	STMT_CONTACT_SEEN,
	STMT_CONTACT_RENUMBER,
	STMT_CONTACT_RE_UID,
	STMT_CONV_FIND,
	STMT_CONV_INSERT,
	STMT_CONV_INBOUND,
	STMT_MSG_EXISTS,
	STMT_MSG_IN_INSERT,
	STMT_STATUS_INSERT,
	STMT_STATUS_LIST,
	STMT_MSG_STATUS_SET,
	STMT_ERROR_INSERT,
	STMT_OTHER_INSERT,
	STMT_OUTBOX_OWNS,
	STMT_SYNC_INSERT,
	STMT_SYNC_SET,
	STMT_PREF_KNOWN,
	STMT_EDIT_INSERT,
	STMT_EDIT_LIST,
	STMT_EDIT_PENDING,
	STMT_MSG_EDITED,
	STMT_CONV_PAST,
	STMT_RENAME_INSERT,
	STMT_RENAME_GET,
	STMT_MERGE_CONVS,
	STMT_MERGE_CONV_MSGS,
	STMT_MERGE_CONV_SUM,
	STMT_MERGE_CONV_DELETE,
	STMT_MERGE_CONV_MOVE,
	STMT_MERGE_MSGS,
	STMT_MERGE_UID_GET,
	STMT_MERGE_UID_SET,
	STMT_MERGE_CONTACT,
	STMT_MERGE_TICKETS,
	STMT_MERGE_AGENT,
	STMT_MERGE_DELETE,
	/* db_outbox.c: peers, the outbox, pause state, media */
	STMT_PEER_GET,
	STMT_TIER_COUNT,
	STMT_OUTBOX_BY_KEY,
	STMT_OUTBOX_INSERT,
	STMT_OUTBOX_DUE,
	STMT_OUTBOX_NEXT_DUE,
	STMT_OUTBOX_CLAIM,
	STMT_OUTBOX_RETRY,
	STMT_OUTBOX_DEFER,
	STMT_OUTBOX_RESENT,
	STMT_OUTBOX_FAIL,
	STMT_OUTBOX_GET,
	STMT_OUTBOX_ACCEPT,
	STMT_OUTBOX_LINK,
	STMT_OUTBOX_RECOVER,
	STMT_OUTBOX_SET_BODY,
	STMT_CONTACT_OUT_INSERT,
	STMT_MSG_OUT_INSERT,
	STMT_CONV_OUTBOUND,
	STMT_OPT_SET,
	STMT_SENDER_GET,
	STMT_SENDER_PAUSE,
	STMT_SENDER_RESUME,
	STMT_SENDER_LIST,
	STMT_MEDIA_INSERT,
	STMT_MEDIA_DUE,
	STMT_MEDIA_NEXT_DUE,
	STMT_MEDIA_CLAIM,
	STMT_MEDIA_STORED,
	STMT_MEDIA_RETRY,
	STMT_AGENT_RECOVER,
	STMT_OUTBOX_LINK_WAMID,
	STMT_MEDIA_CONTACT_RECENT,
	/* db_bot.c: bot state, business data, agents, imports */
	STMT_BOT_GET,
	STMT_BOT_SET,
	STMT_ORDER_GET,
	STMT_ORDER_LINES,
	STMT_ORDERS_RECENT,
	STMT_SCHEDULE_RANGE,
	STMT_SCHEDULE_ORDER,
	STMT_TICKET_GET,
	STMT_TICKET_INSERT,
	STMT_TICKET_NUMBER,
	STMT_TICKET_MEDIA,
	STMT_CHOICE_COUNT,
	STMT_CONV_ASSIGNEE,
	STMT_CONV_ASSIGN,
	STMT_AGENT_INSERT,
	STMT_AGENT_DUE,
	STMT_AGENT_CLAIM,
	STMT_AGENT_FINISH,
	STMT_ORDER_UPSERT,
	STMT_ORDER_LINE_UPSERT,
	STMT_SCHEDULE_UPSERT,
	STMT_ORDER_LINES_CLEAR,
	STMT_CONV_HISTORY,
	STMT_AGENT_NEXT_DUE,
	/* db_api.c: API keys and the management API's queries */
	STMT_APIKEY_INSERT,
	STMT_APIKEY_BY_HASH,
	STMT_APIKEY_TOUCH,
	STMT_APIKEY_LIST,
	STMT_APIKEY_REVOKE,
	STMT_API_MESSAGES,
	STMT_API_CONVERSATIONS,
	STMT_API_CONVERSATION,
	STMT_API_OUTBOX,
	STMT_API_MESSAGES_Q,
	STMT_API_MESSAGES_CONV,
	STMT_API_MESSAGES_TIME,
	STMT_API_MESSAGES_WINDOW,
	STMT_API_OUTBOX_LIST,
	STMT_API_OUTBOX_RETRY,
	STMT_API_OUTBOX_CANCEL,
	STMT_API_EVENTS,
	STMT_API_EVENT,
	STMT_API_STATUS,
	STMT_API_CONV_PATCH,
	STMT_API_CONV_READ,
	STMT_API_LAST_INBOUND,
	STMT_API_CONV_BY_PHONE,
	STMT_API_CONTACTS,
	STMT_API_CONTACT,
	STMT_EXPORT_CONVERSATIONS,
	STMT_EXPORT_MESSAGES,
	STMT_EXPORT_STATUSES,
	STMT_EXPORT_MEDIA,
	STMT_EXPORT_TICKETS,
	STMT_EXPORT_OUTBOX,
	STMT_EXPORT_CONTACT,
	STMT_EXPORT_AGENT,
	STMT_EXPORT_BOT,
	STMT_EXPORT_ORDERS,
	STMT_EXPORT_ORDER_LINES,
	STMT_EXPORT_EVENTS,
	STMT_EXPORT_WEBHOOK_ERRORS,
	STMT_EXPORT_SUBSCRIPTIONS,
	STMT_STATS_VOLUME,
	STMT_STATS_CONTACTS,
	STMT_STATS_REPLY,
	STMT_STATS_FAILURES,
	STMT_STATS_CHOICES,
	STMT_METRICS_EVENTS,
	STMT_METRICS_OUTBOX,
	STMT_METRICS_SENDS,
	STMT_APIKEY_NUMBER_ADD,
	STMT_APIKEY_NUMBERS,
	STMT_API_MESSAGES_PHONE,
	/* db_retain.c: erasure, purges, media paths, search */
	STMT_ERASE_WHO,
	STMT_ERASE_LAST_EVENT,
	STMT_ERASE_FIND_BODIES,
	STMT_ERASE_BODY,
	STMT_ERASE_PATHS,
	STMT_ERASE_BODIES,
	STMT_ERASE_STATUSES,
	STMT_ERASE_OUTBOX,
	STMT_ERASE_TICKETS,
	STMT_ERASE_AGENT,
	STMT_ERASE_BOT,
	STMT_ERASE_ERRORS,
	STMT_ERASE_SUBSCRIPTIONS,
	STMT_ERASE_ORDERS,
	STMT_ERASE_MESSAGES,
	STMT_ERASE_CONTACT,
	STMT_PATH_USED,
	STMT_PURGE_BODIES_COUNT,
	STMT_PURGE_BODIES,
	STMT_PURGE_MESSAGES_COUNT,
	STMT_PURGE_MESSAGES_PATHS,
	STMT_PURGE_MESSAGES,
	STMT_PURGE_MEDIA_COUNT,
	STMT_PURGE_MEDIA_PATHS,
	STMT_PURGE_MEDIA,
	STMT_PURGE_STATUSES_COUNT,
	STMT_PURGE_STATUSES,
	STMT_PURGE_OUTBOX_COUNT,
	STMT_PURGE_OUTBOX,
	STMT_PURGE_AGENT_COUNT,
	STMT_PURGE_AGENT,
	STMT_PURGE_ERRORS_COUNT,
	STMT_PURGE_ERRORS,
	STMT_PURGE_SUBSCRIPTIONS_COUNT,
	STMT_PURGE_SUBSCRIPTIONS,
	STMT_PURGE_OLD_BODIES_COUNT,
	STMT_PURGE_OLD_BODIES,
	STMT_MEDIA_PATHS,
	STMT_SEARCH_UPTO,
	STMT_SEARCH_INDEX,
	STMT_SEARCH_DONE,
	/* db_numbers.c: the business numbers this install serves */
	STMT_NUMBER_UPSERT,
	STMT_NUMBER_GET,
	STMT_NUMBER_LIST,
	STMT_NUMBER_EDIT,
	STMT_NUMBER_REMOVE,
	STMT_NUMBER_SEED,
	/* db_types.c: a number's catalog, a message's raw item */
	STMT_NUMBER_CATALOG_GET,
	STMT_NUMBER_CATALOG_SET,
	STMT_MSG_REPLY_RAW,
	/* db_numbers.c: what Meta's webhooks say of a number's health */
	STMT_HEALTH_TIME,
	STMT_HEALTH_TARGETS,
	STMT_HEALTH_NUMBER_OLD,
	STMT_HEALTH_QUALITY,
	STMT_HEALTH_ACCOUNT,
	STMT_HEALTH_CAPABILITY,
	STMT_HEALTH_TMPL_FIND,
	STMT_HEALTH_TMPL_UPDATE,
	STMT_HEALTH_TMPL_INSERT,
	STMT_HEALTH_SYNC_QUEUE,
	STMT_HEALTH_NUMBERS,
	STMT_HEALTH_UNKNOWN,

	/* db_templates.c: message templates */
	STMT_TEMPLATE_UPSERT,
	STMT_TEMPLATE_GET,
	STMT_TEMPLATE_LIST,
	STMT_TEMPLATE_DELETE,
	STMT_TEMPLATE_SYNC_STAMP,
	STMT_TEMPLATE_SYNC_DONE,
	STMT_TEMPLATE_NUMBERS,

	/* db_jobs.c: account jobs the worker carries to Meta */
	STMT_JOB_INSERT,
	STMT_JOB_DUE,
	STMT_JOB_CLAIM,
	STMT_JOB_RETRY,
	STMT_JOB_FINISH,
	STMT_JOB_GET,
	STMT_JOB_NEXT_DUE,
	STMT_JOB_RECOVER,
	STMT_JOB_PENDING,
	STMT_JOB_LAST,
	STMT_JOB_WABAS,
	STMT_JOB_WABA_TOKEN,
	STMT_JOB_PROFILE_SET,
	STMT_JOB_PROFILE_GET,
	STMT_JOB_NUMBER_WABAS,
	STMT_PURGE_JOBS_COUNT,
	STMT_PURGE_JOBS,

	/* db_users.c (db_sql_users.c): people, sessions, sign-in failures */
	STMT_USER_INSERT,
	STMT_USER_GET,
	STMT_USER_LIST,
	STMT_USER_NUMBER_ADD,
	STMT_USER_NUMBERS_CLEAR,
	STMT_USER_NUMBERS,
	STMT_USER_SET_DISPLAY,
	STMT_USER_SET_EMAIL,
	STMT_USER_SET_ROLE,
	STMT_USER_SET_PASSWORD,
	STMT_USER_SET_DISABLED,
	STMT_USER_DELETE,
	STMT_USER_OTHER_ADMINS,
	STMT_USER_LOGGED_IN,
	STMT_SESSION_INSERT,
	STMT_SESSION_GET,
	STMT_SESSION_TOUCH,
	STMT_SESSION_REVOKE,
	STMT_SESSION_REVOKE_USER,
	STMT_SESSION_PRUNE,
	STMT_LOGIN_FAIL_GET,
	STMT_LOGIN_FAIL_SET,
	STMT_LOGIN_FAIL_CLEAR,
	STMT_LOGIN_FAIL_PRUNE,
	STMT_USERS_APIKEY_LIST,
	STMT_USERS_APIKEY_GET,
	STMT_USERS_APIKEY_REVOKE,
	STMT_USERS_NUMBER_DISPLAY,
	STMT_USERS_NUMBER_RESTORE,

	/* db_inbox.c (db_sql_inbox.c): the inbox's lists, labels, notes,
	 * activity and change cursor */
	STMT_INBOX_CHATS,
	STMT_INBOX_MARKS,
	STMT_INBOX_CHANGES,
	STMT_INBOX_LABELS,
	STMT_INBOX_LABEL,
	STMT_INBOX_LABEL_INSERT,
	STMT_INBOX_LABEL_UPDATE,
	STMT_INBOX_LABEL_RENAME,
	STMT_INBOX_LABEL_DELETE,
	STMT_INBOX_LABEL_UNUSE,
	STMT_INBOX_LABELS_ENSURE,
	STMT_INBOX_CONV_STATE,
	STMT_INBOX_ACT_TEXT,
	STMT_INBOX_ACT_JSON,
	STMT_INBOX_ACTIVITY,
	STMT_INBOX_NOTES,
	STMT_INBOX_NOTE,
	STMT_INBOX_NOTE_INSERT,
	STMT_INBOX_NOTE_DELETE,
	STMT_INBOX_CONTACT,
	STMT_INBOX_ORDERS,
	STMT_INBOX_TICKETS,

	/* db_media.c (db_sql_media.c): uploads, media files, quick replies */
	STMT_MEDIA_OF_MESSAGE,
	STMT_UPLOAD_INSERT,
	STMT_UPLOAD_GET,
	STMT_QR_LIST,
	STMT_QR_GET,
	STMT_QR_INSERT,
	STMT_QR_UPDATE,
	STMT_QR_DELETE,
	STMT_DAILY_SCAN,
	STMT_DAILY_FAILED,

	/*
	 * db_hooks.c (db_sql_hooks.c): hooks, queueing an event as one
	 * delivery per matching hook, the hooks API's lists (issue 16).
	 */
	STMT_HOOK_GET,
	STMT_HOOK_ANY,
	STMT_HOOK_EMIT,
	STMT_HOOK_INSERT,
	STMT_HOOK_LIST,
	STMT_HOOK_UPDATE,
	STMT_HOOK_DELETE,
	STMT_HOOK_DELIVERIES,
	STMT_HOOK_REDELIVER,
	STMT_HOOK_CONV_WA,
	STMT_HOOK_MSG,
	STMT_HOOK_OUTBOX,
	STMT_HOOK_CONV_OF,

	/*
	 * db_deliver.c (db_sql_deliver.c): the worker's side of event
	 * webhooks: leasing due deliveries in order, recording attempts,
	 * disabling a hook failing for 24 h (issue 16).
	 */
	STMT_DELIVER_NEXT_DUE,
	STMT_DELIVER_REQUEUE,
	STMT_DELIVER_DUE,
	STMT_DELIVER_ANY,
	STMT_DELIVER_LAST,
	STMT_DELIVER_CLAIM,
	STMT_DELIVER_ATTEMPT,
	STMT_DELIVER_RESULT,
	STMT_DELIVER_HOOK_OK,
	STMT_DELIVER_HOOK_FAIL,
	STMT_DELIVER_HOOK_DISABLE,

	/*
	 * db_alerts.c (db_sql_alerts.c): alerts raised once per episode,
	 * their mails, the /alerts API's list (issue 16).
	 */
	STMT_ALERT_GET,
	STMT_ALERT_WAITING_RAISE,
	STMT_ALERT_WAITING_END,
	STMT_ALERT_RAISE,
	STMT_ALERT_END,
	STMT_ALERT_OPEN,
	STMT_ALERT_NUMBERS,
	STMT_ALERT_SENDS,
	STMT_ALERT_LIST,
	STMT_ALERT_RESOLVE,
	STMT_ALERT_MAIL_WHO,
	STMT_ALERT_MAIL_ALERTS,
	STMT_ALERT_MAIL_INSERT,
	STMT_ALERT_MAIL_NEXT,
	STMT_ALERT_MAIL_DONE,

	/*
	 * db_campaigns.c (db_sql_campaigns.c): template campaigns: made
	 * with their recipients all or nothing, listed with their counts,
	 * paused, resumed, cancelled, reported (issue 16).
	 */
	STMT_CAMPAIGN_GET,
	STMT_CAMPAIGN_INSERT,
	STMT_CAMPAIGN_RCPT_INSERT,
	STMT_CAMPAIGN_DONE_EMPTY,
	STMT_CAMPAIGN_ROW,
	STMT_CAMPAIGN_LIST,
	STMT_CAMPAIGN_BY_NAME,
	STMT_CAMPAIGN_COUNTS,
	STMT_CAMPAIGN_FIRST,
	STMT_CAMPAIGN_RCPTS,
	STMT_CAMPAIGN_RCPTS_STATE,
	STMT_CAMPAIGN_REPORT,
	STMT_CAMPAIGN_SET_STATE,
	STMT_CAMPAIGN_OUTBOX_TAKE,
	STMT_CAMPAIGN_RCPT_UNLINK,
	STMT_CAMPAIGN_RCPT_CANCEL,
	STMT_CAMPAIGN_SEGMENT,

	/*
	 * db_campsend.c (db_sql_campsend.c): the worker's side of campaigns:
	 * handing recipients to the outbox at the number's pace and within
	 * its tier, rolling the outbox's answers and Meta's statuses up into
	 * the recipients (issue 16).
	 */
	STMT_CAMPSEND_DUE,
	STMT_CAMPSEND_GET,
	STMT_CAMPSEND_START,
	STMT_CAMPSEND_OPEN,
	STMT_CAMPSEND_NEXT,
	STMT_CAMPSEND_HANDED,
	STMT_CAMPSEND_SETTLE,
	STMT_CAMPSEND_WAIT,
	STMT_CAMPSEND_QUEUED,
	STMT_CAMPSEND_DONE,
	STMT_CAMPSEND_TIER_FREE,
	STMT_CAMPSEND_ACCEPTED,
	STMT_CAMPSEND_FAILED,
	STMT_CAMPSEND_STATUS,
	STMT_CAMPSEND_STRANDED,
	STMT_CAMPSEND_FRONT,

	STMT__MAX
};

/* The statement table, in files by job; dbi_sql() reads any. */
extern const char *const dbi_sql_main[STMT__MAX];	/* db_sql.c */
extern const char *const dbi_sql_api[STMT__MAX];	/* db_sql_api.c */
extern const char *const dbi_sql_account[STMT__MAX];	/* db_sql_account.c */
extern const char *const dbi_sql_users[STMT__MAX];	/* db_sql_users.c */
extern const char *const dbi_sql_inbox[STMT__MAX];	/* db_sql_inbox.c */
extern const char *const dbi_sql_media[STMT__MAX];	/* db_sql_media.c */
extern const char *const dbi_sql_hooks[STMT__MAX];	/* db_sql_hooks.c */
extern const char *const dbi_sql_deliver[STMT__MAX];	/* db_sql_deliver.c */
extern const char *const dbi_sql_alerts[STMT__MAX];	/* db_sql_alerts.c */
extern const char *const dbi_sql_campaigns[STMT__MAX];	/* db_sql_campaigns.c */
extern const char *const dbi_sql_campsend[STMT__MAX];	/* db_sql_campsend.c */
const char	*dbi_sql(enum stmt);
int		 dbi_sql_count(enum stmt);

struct db {
	sqlite3		*h;
	enum db_role	 role;
	long		 busy_ms;	/* give up on the lock after this long */
	int		 group_sync;	/* sync the WAL after COMMIT, unlocked */
	sqlite3_stmt	*s[STMT__MAX];	/* NULL until prepared */
	int64_t		 budget_end_us;	/* API budget: interrupt after this */
	int		 budget_hit;	/* the budget interrupted a statement */
};

/* db.c: statement helpers (logged errors carry the statement text). */
void		 dbi_err(struct db *, const char *fn, const char *sql);
sqlite3_stmt	*dbi_st(struct db *, enum stmt);
int		 dbi_bind_text(sqlite3_stmt *, int i, const char *v);
int		 dbi_bind_nz(sqlite3_stmt *, int i, int64_t v);
void		 dbi_bind_opt_text(sqlite3_stmt *, int i, const char *v);
void		 dbi_bind_opt_int(sqlite3_stmt *, int i, const int64_t *v);
enum db_rc	 dbi_run(struct db *, enum stmt, const char *fn);
int		 dbi_row(struct db *, enum stmt, const char *fn);
void		 dbi_col_copy(sqlite3_stmt *, int i, char *dst, size_t sz);
char		*dbi_col_dup(sqlite3_stmt *, int i, int *oom);
int		 dbi_run_id(struct db *, enum stmt, int64_t id, int nargs,
		    int64_t a, int64_t b, const char *fn);
int64_t		 dbi_next_due(struct db *, enum stmt, int64_t now,
		    const char *fn);
int		 dbi_each_row(struct db *, enum stmt, int ncols,
		    void (*cb)(void *, const char *const *), void *arg,
		    const char *fn);
int		 dbi_each_typed(struct db *, enum stmt, void (*cb)(void *, int,
		    const char *const *, const struct db_val *), void *arg,
		    const char *fn);
enum db_rc	 dbi_wal_sync(struct db *);

/* db_apply.c: also used by the outbox's accept and by erasure. */
int64_t		 dbi_contact_find(struct db *, const char *pnid,
		    const char *wa_id, const char *user_id);
int64_t		 dbi_conversation_ensure(struct db *, const char *pnid,
		    int64_t contact, int64_t now_s);
int		 dbi_status_reconcile(struct db *, const char *wamid);

/* db_health.c: an account webhook (WH_OTHER) into numbers and templates. */
int		 dbi_health_apply(struct db *, const struct wh_item *,
		    int64_t now_ms);

#endif /* DB_INT_H */
