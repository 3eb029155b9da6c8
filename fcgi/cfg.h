/* cfg.h: configuration from the environment and an env file (see cfg.c). */
#ifndef CFG_H
#define CFG_H

#include <stddef.h>

#define WA_VERSION	"0.6.0"	/* the gateway's release */

/* WA_BACKUP_DIR unset: cfg_load() and wactl doctor both read this. */
#define CFG_BACKUP_DIR	"/var/backups/wa-gateway"

/* Which program asks: decides which secrets are required. */
#define CFG_NEED_RESPONDER	0x01	/* app secret, verify token */
#define CFG_NEED_WORKER		0x02	/* access token, phone number id */

/* A WHATSAPP_ACCESS_TOKEN_<LABEL> of a number (cfg_token()). */
struct cfg_xtoken {
	char	*name;			/* the variable */
	char	*value;			/* its token, wiped by cfg_clear() */
};

struct cfg {
	char	*app_secret;		/* WHATSAPP_APP_SECRET */
	char	*verify_token;		/* WHATSAPP_VERIFY_TOKEN */
	char	*access_token;		/* WHATSAPP_ACCESS_TOKEN */
	char	*phone_number_id;	/* WHATSAPP_PHONE_NUMBER_ID */
	char	*api_version;		/* WHATSAPP_API_VERSION, e.g. v23.0 */
	char	*graph_url;		/* WHATSAPP_GRAPH_URL, no trailing / */
	char	*state_dir;		/* WA_STATE_DIR */
	char	*media_path;		/* WA_MEDIA_DIR as given */
	char	*backup_dir;		/* WA_BACKUP_DIR: wactl backup --rotate */
	char	*listen;		/* WA_LISTEN host:port (make run) */
	long	 responders;		/* WA_RESPONDERS */
	long	 api_responders;	/* WA_API_RESPONDERS: the API's own pool */
	long	 api_query_ms;		/* WA_API_QUERY_MS: an API request's budget */
	long	 webhook_conns;		/* WA_WEBHOOK_CONNS: per address (nginx) */
	int	 sync_full;		/* WA_SYNCHRONOUS: 1 FULL, 0 NORMAL */
	long	 busy_timeout_ms;	/* WA_BUSY_TIMEOUT_MS */
	long	 send_rate;		/* WA_SEND_RATE: messages/s per number */
	long	 pair_burst;		/* WA_PAIR_BURST: sends to one recipient at once */
	long	 pair_interval_ms;	/* WA_PAIR_INTERVAL_MS: then one per this */
	long	 tier_limit;		/* WA_TIER_LIMIT: contacts/24 h, 0 unlimited */
	long	 send_timeout_ms;	/* WA_SEND_TIMEOUT_MS: one Graph call */
	long	 send_inflight;		/* WA_SEND_INFLIGHT: calls at once */
	long	 max_attempts;		/* WA_SEND_MAX_ATTEMPTS */
	char	*stop_words;		/* WA_STOP_KEYWORDS, comma separated */
	char	*start_words;		/* WA_START_KEYWORDS, comma separated */
	int	 bot;			/* WA_BOT: 1 on, 0 off */
	long	 retain_journal_days;	/* WA_RETAIN_JOURNAL_DAYS, 0 forever */
	long	 retain_messages_days;	/* WA_RETAIN_MESSAGES_DAYS, 0 forever */
	long	 retain_media_days;	/* WA_RETAIN_MEDIA_DAYS, 0 forever */
	char	*flow_file;		/* WA_FLOW_FILE: the chatbot's flow */
	long	 bot_idle_min;		/* WA_BOT_IDLE_MIN: state expiry */
	long	 handoff_hours;		/* WA_HANDOFF_HOURS: back to the bot */
	char	*agent_secret;		/* WA_AGENT_SECRET: signs agent calls */
	long	 agent_timeout_ms;	/* WA_AGENT_TIMEOUT_MS */
	char	*agents;		/* WA_AGENTS: name=url,... ("" none) */
	int	 allow_local;		/* WA_ALLOW_LOCAL_URLS: 1 on */
	long	 media_min_free_mb;	/* WA_MEDIA_MIN_FREE_MB: disk floor */
	long	 media_per_contact_day;	/* WA_MEDIA_MAX_PER_CONTACT_DAY */
	long	 template_sync_s;	/* WA_TEMPLATE_SYNC_S: 0 never */
	int	 sandbox;		/* WA_SANDBOX: 1 the local sandbox Graph */
	int	 hooks_allow_private;	/* WA_HOOKS_ALLOW_PRIVATE: 1 on */
	/* Issue 16: alert mails (alerts.c, mail.c). */
	char	*smtp_url;		/* WA_SMTP_URL: "" no mail */
	char	*smtp_user;		/* WA_SMTP_USER: "" no AUTH */
	char	*smtp_password;		/* WA_SMTP_PASSWORD: secret */
	char	*smtp_ca_file;		/* WA_SMTP_CA_FILE: "" the system's */
	char	*mail_from;		/* WA_MAIL_FROM */
	long	 alert_wait_min;	/* WA_ALERT_WAIT_MIN */
	struct cfg_xtoken *xtokens;	/* WHATSAPP_ACCESS_TOKEN_*, worker and wactl */
	size_t	 nxtokens;
	char	 db_path[4096];		/* state_dir/wa.db */
	char	 wake_path[4096];	/* state_dir/worker.sock */
	char	 lock_path[4096];	/* state_dir/wa-worker.lock */
	char	 media_dir[4096];	/* WA_MEDIA_DIR, under state_dir if relative */
	char	 counters_path[4096];	/* state_dir/counters (metrics) */
};

int	 cfg_load(struct cfg *, unsigned need, char *err, size_t errsz);
void	 cfg_clear(struct cfg *);
int	 cfg_line_parse(char *line, char **key, char **val);
int	 cfg_media_disk_low(const struct cfg *);
int	 cfg_media_mkdir(const char *dir);
const char	*cfg_token(const struct cfg *, const char *env_name);
int	 cfg_agent_known(const struct cfg *, const char *name_or_url,
	    char *url, size_t urlsz);
int	 cfg_agent_known_in(const struct cfg *, const char *flow_path,
	    const char *name_or_url, char *url, size_t urlsz);
int	 cfg_agent_find(const struct cfg *, const char *name_or_url,
	    char *url, size_t urlsz);

#endif
