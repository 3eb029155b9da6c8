/*
 * cfg.c: reads the configuration once at startup.  Values come from the
 * env file named by WA_ENV_FILE (KEY=VALUE lines, # comments) and then from
 * the environment, which overrides the file so that a script can start the
 * stack with its own secrets, state dir and port.  One table gives every
 * key's default, bounds and validator; an unknown key in the file, an
 * out-of-range value or a missing secret is an error whose message names
 * the variable and where to get it.
 *
 * Besides the keys of the table, the tokens of further business numbers
 * may be set, each in a variable WHATSAPP_ACCESS_TOKEN_<LABEL> (A-Z, 0-9,
 * _) that a number names (wactl numbers --token-env).  They are secrets
 * like WHATSAPP_ACCESS_TOKEN: checked the same way, never printed, wiped
 * by cfg_clear(), and never kept by the responders.
 */
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/stdlib.h>
#include <bsd/string.h>
#include <jansson.h>

#include "cfg.h"
#include "url.h"

extern char **environ;

#define XTOKEN_PREFIX	"WHATSAPP_ACCESS_TOKEN_"
#define XTOKEN_NAME_MAX	127		/* as a number's token_env */
#define XTOKENS_MAX	1024		/* WHATSAPP_ACCESS_TOKEN_* at most */

enum ctype {
	CT_SECRET,	/* non-empty token without spaces, never printed */
	CT_DIGITS,	/* numeric id */
	CT_VERSION,	/* vNN.N */
	CT_URL,		/* http(s)://... */
	CT_PATH,	/* file system path */
	CT_HOSTPORT,	/* host:port */
	CT_INT,		/* integer within min..max */
	CT_SYNC,	/* FULL or NORMAL */
	CT_WORDS,	/* comma-separated keywords */
	CT_BOOL,	/* on or off */
	CT_AGENTS,	/* name=https://url,... */
	CT_SMTP,	/* "" or smtp(s)://host[:port] */
	CT_TEXT,	/* optional text, no control characters */
	CT__MAX
};

struct ckey {
	const char	*name;
	enum ctype	 type;
	const char	*def;		/* NULL: required */
	unsigned	 need;		/* programs that require it */
	long		 min, max;	/* CT_INT bounds */
	const char	*hint;		/* where to get it */
	size_t		 off;		/* char * or long or int in struct cfg */
};

#define OFF(f)	offsetof(struct cfg, f)

static const struct ckey keys[] = {
	{ "WHATSAPP_APP_SECRET", CT_SECRET, NULL, CFG_NEED_RESPONDER, 0, 0,
	  "the App Secret from the Meta App Dashboard, App settings > Basic",
	  OFF(app_secret) },
	{ "WHATSAPP_VERIFY_TOKEN", CT_SECRET, NULL, CFG_NEED_RESPONDER, 0, 0,
	  "a random string of your choice, typed also into the App Dashboard "
	  "webhook settings", OFF(verify_token) },
	{ "WHATSAPP_ACCESS_TOKEN", CT_SECRET, NULL, CFG_NEED_WORKER, 0, 0,
	  "a System User access token from Meta Business Settings > "
	  "System users", OFF(access_token) },
	{ "WHATSAPP_PHONE_NUMBER_ID", CT_DIGITS, NULL, CFG_NEED_WORKER, 0, 0,
	  "the Phone number ID shown in the App Dashboard, WhatsApp > "
	  "API Setup", OFF(phone_number_id) },
	{ "WHATSAPP_API_VERSION", CT_VERSION, "v23.0", 0, 0, 0,
	  "a Graph API version such as v23.0", OFF(api_version) },
	{ "WHATSAPP_GRAPH_URL", CT_URL, "https://graph.facebook.com", 0, 0, 0,
	  "the Graph API base URL (https://, http:// only to this machine)",
	  OFF(graph_url) },
	{ "WA_STATE_DIR", CT_PATH, "./var", 0, 0, 0,
	  "a writable directory for the database, media and sockets",
	  OFF(state_dir) },
	/*
	 * Production keeps media out of the state directory: nginx (group
	 * www-data) serves the files from there and must never reach the
	 * database (deploy/install.sh, nginx/wa-gateway.conf).
	 */
	{ "WA_MEDIA_DIR", CT_PATH, "media", 0, 0, 0,
	  "the directory of media files; a relative path is under "
	  "WA_STATE_DIR", OFF(media_path) },
	{ "WA_BACKUP_DIR", CT_PATH, CFG_BACKUP_DIR, 0, 0, 0,
	  "the directory of the daily backups (wactl backup --rotate, "
	  "wa-backup.timer; wactl doctor reads their age)",
	  OFF(backup_dir) },
	{ "WA_LISTEN", CT_HOSTPORT, "127.0.0.1:8080", 0, 0, 0,
	  "the address nginx listens on, host:port", OFF(listen) },
	{ "WA_RESPONDERS", CT_INT, "4", 0, 1, 256,
	  "the number of wa-fcgi processes", OFF(responders) },
	{ "WA_API_RESPONDERS", CT_INT, "2", 0, 1, 256,
	  "the number of wa-fcgi processes serving the management API "
	  "(a pool of its own, so API requests never delay webhooks)",
	  OFF(api_responders) },
	{ "WA_API_QUERY_MS", CT_INT, "2000", 0, 10, 60000,
	  "how long one management API request may spend in the database, "
	  "in milliseconds, before it answers 503 query_too_slow",
	  OFF(api_query_ms) },
	{ "WA_WEBHOOK_CONNS", CT_INT, "64", 0, 1, 100000,
	  "webhook connections nginx accepts at once from one address",
	  OFF(webhook_conns) },
	{ "WA_SYNCHRONOUS", CT_SYNC, "FULL", 0, 0, 0,
	  "FULL (an acknowledged webhook survives power loss) or NORMAL",
	  OFF(sync_full) },
	{ "WA_BUSY_TIMEOUT_MS", CT_INT, "3000", 0, 10, 60000,
	  "how long a writer waits for the database lock, in milliseconds",
	  OFF(busy_timeout_ms) },
	/* Reference 9.1: 80 messages/s per number, up to 1,000 when raised. */
	{ "WA_SEND_RATE", CT_INT, "80", 0, 1, 1000,
	  "messages per second per business number (Meta's default is 80)",
	  OFF(send_rate) },
	/* Reference 9.2: a small burst, then about one every 6 seconds. */
	{ "WA_PAIR_BURST", CT_INT, "5", 0, 1, 45,
	  "how many messages one recipient may get back to back",
	  OFF(pair_burst) },
	{ "WA_PAIR_INTERVAL_MS", CT_INT, "6000", 0, 0, 600000,
	  "milliseconds between messages to one recipient once the burst "
	  "is spent", OFF(pair_interval_ms) },
	/* Reference 9.3: new portfolios start at 250 contacts a day. */
	{ "WA_TIER_LIMIT", CT_INT, "250", 0, 0, 100000000,
	  "unique contacts reached with templates outside their window in "
	  "24 hours (your messaging tier; 0 for unlimited)",
	  OFF(tier_limit) },
	{ "WA_SEND_TIMEOUT_MS", CT_INT, "15000", 0, 100, 120000,
	  "how long one Graph API call may take, in milliseconds",
	  OFF(send_timeout_ms) },
	{ "WA_SEND_INFLIGHT", CT_INT, "64", 0, 1, 1024,
	  "how many Graph API calls may be in flight at once",
	  OFF(send_inflight) },
	{ "WA_SEND_MAX_ATTEMPTS", CT_INT, "8", 0, 1, 100,
	  "how many times a message is tried before it is marked failed",
	  OFF(max_attempts) },
	{ "WA_STOP_KEYWORDS", CT_WORDS, "STOP", 0, 0, 0,
	  "comma-separated words that opt a contact out, e.g. STOP,UNSUBSCRIBE",
	  OFF(stop_words) },
	{ "WA_START_KEYWORDS", CT_WORDS, "START", 0, 0, 0,
	  "comma-separated words that opt a contact back in, e.g. START",
	  OFF(start_words) },
	{ "WA_RETAIN_JOURNAL_DAYS", CT_INT, "30", 0, 0, 36500,
	  "days raw webhook bodies are kept once applied (0: forever)",
	  OFF(retain_journal_days) },
	{ "WA_RETAIN_MESSAGES_DAYS", CT_INT, "0", 0, 0, 36500,
	  "days messages are kept (0: forever)", OFF(retain_messages_days) },
	{ "WA_RETAIN_MEDIA_DAYS", CT_INT, "0", 0, 0, 36500,
	  "days downloaded media files are kept (0: forever)",
	  OFF(retain_media_days) },
	{ "WA_BOT", CT_BOOL, "on", 0, 0, 0,
	  "on (the chatbot answers customers) or off (only the API sends)",
	  OFF(bot) },
	{ "WA_FLOW_FILE", CT_PATH, "/usr/local/share/wa-gateway/flows/"
	  "default.json", 0, 0, 0,
	  "the chatbot's flow file (deploy/flows/default.json is the example)",
	  OFF(flow_file) },
	{ "WA_BOT_IDLE_MIN", CT_INT, "30", 0, 1, 10080,
	  "minutes of silence after which the chatbot starts at the menu",
	  OFF(bot_idle_min) },
	{ "WA_HANDOFF_HOURS", CT_INT, "24", 0, 0, 8760,
	  "hours after which a chat handed to a person returns to the bot "
	  "(0: only when released)", OFF(handoff_hours) },
	{ "WA_AGENT_SECRET", CT_SECRET, "", 0, 0, 0,
	  "a random string shared with your AI agent, which signs each call",
	  OFF(agent_secret) },
	{ "WA_AGENT_TIMEOUT_MS", CT_INT, "8000", 0, 100, 60000,
	  "how long the AI agent may take to answer, in milliseconds",
	  OFF(agent_timeout_ms) },
	/* DESIGN rule 9: agents are only those the operator names. */
	{ "WA_AGENTS", CT_AGENTS, "", 0, 0, 0,
	  "comma-separated name=https://url pairs, the AI agents a "
	  "conversation may be assigned to (agent:name)", OFF(agents) },
	{ "WA_ALLOW_LOCAL_URLS", CT_BOOL, "off", 0, 0, 0,
	  "off, or on to let agents live on this machine or a private "
	  "address (tests, a same-host agent)", OFF(allow_local) },
	{ "WA_MEDIA_MIN_FREE_MB", CT_INT, "1024", 0, 0, 10000000,
	  "megabytes that must stay free on the media disk; below it "
	  "downloads wait (0: no floor)", OFF(media_min_free_mb) },
	{ "WA_MEDIA_MAX_PER_CONTACT_DAY", CT_INT, "100", 0, 0, 1000000,
	  "media files downloaded per contact per day; the rest are "
	  "skipped (0: no cap)", OFF(media_per_contact_day) },
	{ "WA_TEMPLATE_SYNC_S", CT_INT, "3600", 0, 0, 604800,
	  "seconds between the worker's syncs of each WABA's message "
	  "templates (0: never)", OFF(template_sync_s) },
	/* Issue 15: make run with no Meta app talks to wa-sandbox. */
	{ "WA_SANDBOX", CT_BOOL, "off", 0, 0, 0,
	  "1 (or on) when the Graph API is the local sandbox of make run "
	  "(deploy/run-local.sh sets it), else 0 (or off)", OFF(sandbox) },
	/* Issue 16: event webhooks only to public https endpoints. */
	{ "WA_HOOKS_ALLOW_PRIVATE", CT_BOOL, "off", 0, 0, 0,
	  "off, or on to let event webhooks use http:// and loopback or "
	  "private addresses (tests, a receiver on this machine)",
	  OFF(hooks_allow_private) },
	/* Issue 16: alert mails; none when WA_SMTP_URL is empty. */
	{ "WA_SMTP_URL", CT_SMTP, "", 0, 0, 0,
	  "the mail server, smtps://host:465 or smtp://host:587 (STARTTLS "
	  "is required except to this machine); empty: no alert mails",
	  OFF(smtp_url) },
	{ "WA_SMTP_USER", CT_TEXT, "", 0, 0, 0,
	  "the user name for the mail server's AUTH (empty: none)",
	  OFF(smtp_user) },
	{ "WA_SMTP_PASSWORD", CT_SECRET, "", 0, 0, 0,
	  "the mail server password (put it in the env file)",
	  OFF(smtp_password) },
	{ "WA_SMTP_CA_FILE", CT_TEXT, "", 0, 0, 0,
	  "a PEM file of the CA that signed the mail server's certificate "
	  "(empty: the system's)", OFF(smtp_ca_file) },
	{ "WA_MAIL_FROM", CT_TEXT, "wa-gateway@localhost", 0, 0, 0,
	  "the From address of alert mails, e.g. alerts@example.com",
	  OFF(mail_from) },
	{ "WA_ALERT_WAIT_MIN", CT_INT, "10", 0, 1, 10080,
	  "minutes a customer's message waits unanswered in a chat handed "
	  "to people before they get an alert", OFF(alert_wait_min) },
};

#define NKEYS	(sizeof(keys) / sizeof(keys[0]))

static const struct ckey *
key_find(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (strlen(keys[i].name) == len &&
		    strncmp(keys[i].name, name, len) == 0)
			return &keys[i];
	return NULL;
}

/* 1 when name[0..len) is WHATSAPP_ACCESS_TOKEN_ and 1+ of A-Z, 0-9, _. */
static int
xtoken_name(const char *name, size_t len)
{
	size_t	 p = sizeof(XTOKEN_PREFIX) - 1, i;

	if (len <= p || len > XTOKEN_NAME_MAX ||
	    strncmp(name, XTOKEN_PREFIX, p) != 0)
		return 0;
	for (i = p; i < len; i++)
		if (!isupper((unsigned char)name[i]) &&
		    !isdigit((unsigned char)name[i]) && name[i] != '_')
			return 0;
	return 1;
}

/*
 * Sets the token variable name[0..len) of c to v (a later value replaces
 * an earlier one: the environment's the file's).  0, or -1 with err set.
 */
static int
xtoken_set(struct cfg *c, const char *name, size_t len, const char *v,
    char *err, size_t errsz)
{
	struct cfg_xtoken	*t;
	size_t			 i;
	char			*val;

	if ((val = strdup(v)) == NULL)
		goto oom;
	for (i = 0; i < c->nxtokens; i++)
		if (strlen(c->xtokens[i].name) == len &&
		    strncmp(c->xtokens[i].name, name, len) == 0) {
			explicit_bzero(c->xtokens[i].value,
			    strlen(c->xtokens[i].value));
			free(c->xtokens[i].value);
			c->xtokens[i].value = val;
			return 0;
		}
	if (c->nxtokens >= XTOKENS_MAX) {
		explicit_bzero(val, strlen(val));
		free(val);
		(void)snprintf(err, errsz, "more than %d WHATSAPP_ACCESS_TOKEN_* "
		    "variables", XTOKENS_MAX);
		return -1;
	}
	if ((t = reallocarray(c->xtokens, c->nxtokens + 1, sizeof(*t))) ==
	    NULL) {
		explicit_bzero(val, strlen(val));
		free(val);
		goto oom;
	}
	c->xtokens = t;
	t = &c->xtokens[c->nxtokens];
	if ((t->name = strndup(name, len)) == NULL) {
		explicit_bzero(val, strlen(val));
		free(val);
		goto oom;
	}
	t->value = val;
	c->nxtokens++;
	return 0;
oom:
	(void)snprintf(err, errsz, "out of memory reading the configuration");
	return -1;
}

/* Wipes and frees every WHATSAPP_ACCESS_TOKEN_* of c. */
static void
xtokens_clear(struct cfg *c)
{
	size_t i;

	for (i = 0; i < c->nxtokens; i++) {
		explicit_bzero(c->xtokens[i].value, strlen(c->xtokens[i].value));
		free(c->xtokens[i].value);
		free(c->xtokens[i].name);
	}
	free(c->xtokens);
	c->xtokens = NULL;
	c->nxtokens = 0;
}

/*
 * WHATSAPP_ACCESS_TOKEN_* of the environment over those of the file,
 * then every one checked as a secret (an empty one is unset: its
 * number's messages wait).  0, or -1 with err naming the variable.
 */
static int
xtokens_load(struct cfg *c, char *err, size_t errsz)
{
	char		**e;
	const char	 *eq, *p;
	size_t		  i;

	for (e = environ; e != NULL && *e != NULL; e++) {
		if ((eq = strchr(*e, '=')) == NULL ||
		    !xtoken_name(*e, (size_t)(eq - *e)))
			continue;
		if (xtoken_set(c, *e, (size_t)(eq - *e), eq + 1, err,
		    errsz) == -1)
			return -1;
	}
	for (i = 0; i < c->nxtokens; i++) {
		p = c->xtokens[i].value;
		if (strlen(p) > 1024) {
			(void)snprintf(err, errsz, "%s is longer than 1024 "
			    "characters: set it to the number's access token",
			    c->xtokens[i].name);
			return -1;
		}
		for (; *p; p++)
			if (!isgraph((unsigned char)*p)) {
				/* Named, never echoed. */
				(void)snprintf(err, errsz, "%s contains spaces "
				    "or control characters: set it to the "
				    "number's access token", c->xtokens[i].name);
				return -1;
			}
	}
	return 0;
}

/*
 * Checks a WA_AGENTS list: name=url pairs split by commas, names of
 * 1-32 letters, digits, - and _, each once; each URL strict (url.c),
 * https or http to this machine.  Whether this machine or a private
 * address is allowed is decided by WA_ALLOW_LOCAL_URLS at use.  NULL
 * or a phrase.
 */
static const char *
agents_check(const char *v)
{
	char		 url[600];
	const char	*w, *e, *eq, *why, *o;
	size_t		 n;
	struct url	 u;

	if (strlen(v) > 4000)
		return "is longer than 4000 characters";
	for (w = v; *w != '\0'; w = *e ? e + 1 : e) {
		e = w + strcspn(w, ",");
		if ((eq = memchr(w, '=', (size_t)(e - w))) == NULL ||
		    eq == w || eq - w > 32)
			return "must be name=https://url pairs split by commas";
		for (o = w; o < eq; o++)
			if (!isalnum((unsigned char)*o) && *o != '-' &&
			    *o != '_')
				return "has an agent name that is not letters, "
				    "digits, - or _";
		for (o = v; o < w; o = o + strcspn(o, ",") + 1)
			if (strncmp(o, w, (size_t)(eq - w + 1)) == 0)
				return "names one agent twice";
		n = (size_t)(e - eq - 1);
		if (n >= sizeof(url))
			return "has an agent URL longer than 512 characters";
		memcpy(url, eq + 1, n);
		url[n] = '\0';
		if (url_parse(url, &u, &why) == -1)
			return "has an agent URL that is not a plain "
			    "https://host/path URL (no user@, no fragment)";
		if (!u.https && !url_is_loopback(&u))
			return "has an agent URL that is not https://";
	}
	return NULL;
}

/* Returns NULL when value suits k, else a phrase saying what is wrong. */
static const char *
check(const struct ckey *k, const char *v, long *num)
{
	const char	*p;
	char		*end;
	long long	 n;

	switch (k->type) {
	case CT_SECRET:
		if (*v == '\0' && k->def != NULL && *k->def == '\0')
			return NULL;	/* optional: empty is unset */
		if (*v == '\0')
			return "is empty";
		if (strlen(v) > 1024)
			return "is longer than 1024 characters";
		for (p = v; *p; p++)
			if (!isgraph((unsigned char)*p))
				return "contains spaces or control characters";
		return NULL;
	case CT_DIGITS:
		if (*v == '\0' || strlen(v) > 32)
			return "must be 1 to 32 digits";
		for (p = v; *p; p++)
			if (!isdigit((unsigned char)*p))
				return "must contain digits only";
		return NULL;
	case CT_VERSION:
		if (v[0] != 'v' || !isdigit((unsigned char)v[1]))
			return "must look like v23.0";
		for (p = v + 1; *p; p++)
			if (!isdigit((unsigned char)*p) && *p != '.')
				return "must look like v23.0";
		if (strchr(v, '.') == NULL || strlen(v) > 16)
			return "must look like v23.0";
		return NULL;
	case CT_URL: {
		struct url u;

		if (strlen(v) > 512)
			return "is longer than 512 characters";
		if (url_parse(v, &u, &p) == -1)
			return p;
		/* The access token travels to it: https, or this machine. */
		if (!u.https && !url_is_loopback(&u))
			return "must be https:// (http:// only to this machine)";
		if (strpbrk(v + (u.https ? 8 : 7), "?#") != NULL)
			return "must not have a query";
		return NULL;
	}
	case CT_AGENTS:
		return agents_check(v);
	case CT_PATH:
		if (*v == '\0' || strlen(v) > 3000)
			return "must be a path of 1 to 3000 bytes";
		return NULL;
	case CT_HOSTPORT:
		if ((p = strrchr(v, ':')) == NULL || p == v)
			return "must be host:port";
		errno = 0;
		n = strtoll(p + 1, &end, 10);
		if (errno || *end != '\0' || p[1] == '\0' || n < 1 || n > 65535)
			return "must end in a port from 1 to 65535";
		return NULL;
	case CT_INT:
		errno = 0;
		n = strtoll(v, &end, 10);
		if (errno || *end != '\0' || *v == '\0')
			return "must be a whole number";
		if (n < k->min || n > k->max)
			return "is out of range";
		*num = (long)n;
		return NULL;
	case CT_SYNC:
		if (strcmp(v, "FULL") == 0)
			*num = 1;
		else if (strcmp(v, "NORMAL") == 0)
			*num = 0;
		else
			return "must be FULL or NORMAL";
		return NULL;
	case CT_BOOL:
		if (strcmp(v, "on") == 0 || strcmp(v, "1") == 0)
			*num = 1;
		else if (strcmp(v, "off") == 0 || strcmp(v, "0") == 0)
			*num = 0;
		else
			return "must be on or off";
		return NULL;
	case CT_SMTP:
		if (*v == '\0')
			return NULL;
		if (strlen(v) > 512 || (strncmp(v, "smtp://", 7) != 0 &&
		    strncmp(v, "smtps://", 8) != 0) ||
		    strchr(v, '@') != NULL || v[strcspn(v, " \t\r\n")] != '\0')
			return "must be smtps://host[:port] or "
			    "smtp://host[:port] (no user or password in it)";
		return NULL;
	case CT_TEXT:
		if (strlen(v) > 512)
			return "is longer than 512 characters";
		for (p = v; *p; p++)
			if (iscntrl((unsigned char)*p))
				return "contains control characters";
		return NULL;
	case CT_WORDS:
		if (*v == '\0' || strlen(v) > 512)
			return "must be 1 to 512 characters";
		for (p = v; *p; p++)
			if (iscntrl((unsigned char)*p))
				return "contains control characters";
		return NULL;
	case CT__MAX:
		break;
	}
	return "has an unknown type";
}

/*
 * Splits one env-file line in place: surrounding blanks, a "#" comment
 * line and an "export " prefix are dropped, blanks before the '=' and
 * one pair of matching quotes around the value too.  Returns 1 with *key
 * and *val pointing into line, 0 for a blank or comment line, -1 for a
 * line without '='.
 */
int
cfg_line_parse(char *line, char **key, char **val)
{
	char	*k, *v, *eq, *e;
	size_t	 len;

	len = strlen(line);
	while (len > 0 && isspace((unsigned char)line[len - 1]))
		line[--len] = '\0';
	for (k = line; isspace((unsigned char)*k); k++)
		continue;
	if (*k == '\0' || *k == '#')
		return 0;
	if (strncmp(k, "export ", 7) == 0)
		k += 7;
	if ((eq = strchr(k, '=')) == NULL)
		return -1;
	*eq = '\0';
	v = eq + 1;
	for (e = eq; e > k && isspace((unsigned char)e[-1]); e--)
		e[-1] = '\0';
	len = strlen(v);
	if (len >= 2 && (v[0] == '"' || v[0] == '\'') &&
	    v[len - 1] == v[0]) {
		v[len - 1] = '\0';
		v++;
	}
	*key = k;
	*val = v;
	return 1;
}

/*
 * Reads the env file into vals[] (strings from malloc, indexed like keys[])
 * and the numbers' WHATSAPP_ACCESS_TOKEN_* into c.  Returns 0 or -1 with
 * err set.
 */
static int
read_file(struct cfg *c, const char *path, char **vals, char *err,
    size_t errsz)
{
	FILE		*f;
	char		 line[4096], iobuf[8192], *k, *v;
	size_t		 lineno = 0, len;
	const struct ckey *ck;
	int		 n;

	if ((f = fopen(path, "r")) == NULL) {
		(void)snprintf(err, errsz, "WA_ENV_FILE %s: %s", path,
		    strerror(errno));
		return -1;
	}
	/* Our buffer, wiped below: stdio's own would keep the secrets. */
	if (setvbuf(f, iobuf, _IOFBF, sizeof(iobuf)) != 0) {
		(void)snprintf(err, errsz, "WA_ENV_FILE %s: setvbuf failed",
		    path);
		(void)fclose(f);
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		len = strlen(line);
		if (len > 0 && line[len - 1] != '\n' && !feof(f)) {
			(void)snprintf(err, errsz, "%s:%zu: line too long",
			    path, lineno);
			goto fail;
		}
		if ((n = cfg_line_parse(line, &k, &v)) == 0)
			continue;
		if (n == -1) {
			(void)snprintf(err, errsz, "%s:%zu: expected KEY=VALUE",
			    path, lineno);
			goto fail;
		}
		ck = key_find(k, strlen(k));
		if (ck == NULL && !xtoken_name(k, strlen(k))) {
			(void)snprintf(err, errsz, "%s:%zu: unknown setting %.64s",
			    path, lineno, k);
			goto fail;
		}
		if (ck == NULL) {
			if (xtoken_set(c, k, strlen(k), v, err, errsz) == -1)
				goto fail;
			continue;
		}
		free(vals[ck - keys]);
		if ((vals[ck - keys] = strdup(v)) == NULL) {
			(void)snprintf(err, errsz, "out of memory");
			goto fail;
		}
	}
	if (ferror(f)) {
		(void)snprintf(err, errsz, "%s: read error", path);
		goto fail;
	}
	explicit_bzero(line, sizeof(line));
	(void)fclose(f);
	explicit_bzero(iobuf, sizeof(iobuf));
	return 0;
fail:
	explicit_bzero(line, sizeof(line));
	(void)fclose(f);
	explicit_bzero(iobuf, sizeof(iobuf));
	return -1;
}

static int
join(char *dst, size_t sz, const char *dir, const char *name)
{
	int n = snprintf(dst, sz, "%s/%s", dir, name);

	return (n < 0 || (size_t)n >= sz) ? -1 : 0;
}

/*
 * Takes every access token out of this process's environment, its value
 * wiped first: a responder may inherit them (systemd's EnvironmentFile
 * exports every line of wa.env, and UnsetEnvironment= cannot name
 * WHATSAPP_ACCESS_TOKEN_<LABEL> by pattern), and must hold none.
 */
static void
env_scrub_tokens(void)
{
	char	**e, *eq, name[256];
	size_t	 len;
	int	 again = 1;

	while (again) {
		again = 0;
		for (e = environ; e != NULL && *e != NULL; e++) {
			if (strncmp(*e, "WHATSAPP_ACCESS_TOKEN",
			    strlen("WHATSAPP_ACCESS_TOKEN")) != 0 ||
			    (eq = strchr(*e, '=')) == NULL)
				continue;
			explicit_bzero(eq + 1, strlen(eq + 1));
			len = (size_t)(eq - *e);
			if (len >= sizeof(name))
				continue;	/* wiped; no variable is so long */
			memcpy(name, *e, len);
			name[len] = '\0';
			(void)unsetenv(name);
			again = 1;	/* environ changed under us */
			break;
		}
	}
}

/*
 * Fills c from WA_ENV_FILE and the environment.  need says which secrets
 * the calling program requires.  Returns 0, or -1 with a sentence in err;
 * c is then cleared.  The caller clears c with cfg_clear().
 */
int
cfg_load(struct cfg *c, unsigned need, char *err, size_t errsz)
{
	char		*vals[NKEYS] = { NULL };
	const char	*file, *env, *v, *why;
	size_t		 i;
	long		 num;

	memset(c, 0, sizeof(*c));
	if ((file = getenv("WA_ENV_FILE")) != NULL && *file != '\0' &&
	    read_file(c, file, vals, err, errsz) == -1)
		goto fail;
	/* The responders keep no access token at all (see below). */
	if (need & CFG_NEED_RESPONDER) {
		xtokens_clear(c);
		env_scrub_tokens();
	}
	else if (xtokens_load(c, err, errsz) == -1)
		goto fail;
	for (i = 0; i < NKEYS; i++) {
		/*
		 * The responders face the Internet and never call Meta: they
		 * do not keep the access token even when the file or the
		 * environment offers it (issue 10, item 16).
		 */
		if ((need & CFG_NEED_RESPONDER) &&
		    keys[i].off == OFF(access_token)) {
			if (vals[i] != NULL)
				explicit_bzero(vals[i], strlen(vals[i]));
			free(vals[i]);
			vals[i] = NULL;
			continue;
		}
		if ((env = getenv(keys[i].name)) != NULL) {
			free(vals[i]);
			if ((vals[i] = strdup(env)) == NULL)
				goto oom;
		}
		v = vals[i] != NULL ? vals[i] : keys[i].def;
		if (v == NULL) {
			if ((keys[i].need & need) == 0)
				continue;
			(void)snprintf(err, errsz, "%s is not set: set it in the "
			    "environment or in WA_ENV_FILE to %s", keys[i].name,
			    keys[i].hint);
			goto fail;
		}
		num = 0;
		if ((why = check(&keys[i], v, &num)) != NULL) {
			/* Secrets are named, never echoed. */
			(void)snprintf(err, errsz, "%s %s: set it to %s",
			    keys[i].name, why, keys[i].hint);
			goto fail;
		}
		switch (keys[i].type) {
		case CT_INT:
			*(long *)(void *)((char *)c + keys[i].off) = num;
			break;
		case CT_SYNC:
		case CT_BOOL:
			*(int *)(void *)((char *)c + keys[i].off) = (int)num;
			break;
		default:
			if (vals[i] == NULL && (vals[i] = strdup(v)) == NULL)
				goto oom;
			*(char **)(void *)((char *)c + keys[i].off) = vals[i];
			vals[i] = NULL;
			break;
		}
	}
	for (i = 0; i < NKEYS; i++)
		free(vals[i]);
	/* Strip a trailing slash so URLs join as base + "/" + path. */
	if (c->graph_url != NULL) {
		size_t n = strlen(c->graph_url);

		while (n > 8 && c->graph_url[n - 1] == '/')
			c->graph_url[--n] = '\0';
	}
	/*
	 * Sandbox mode with the default Graph URL: every program (the
	 * worker, wactl in another terminal) talks to make run's wa-sandbox
	 * behind nginx, never to Meta with a development token.
	 */
	if (c->sandbox && c->graph_url != NULL && c->listen != NULL &&
	    strcmp(c->graph_url, "https://graph.facebook.com") == 0) {
		free(c->graph_url);
		if (asprintf(&c->graph_url, "http://%s/sandbox/graph",
		    c->listen) == -1) {
			c->graph_url = NULL;
			(void)snprintf(err, errsz, "out of memory reading the "
			    "configuration");
			cfg_clear(c);
			return -1;
		}
	}
	if (join(c->db_path, sizeof(c->db_path), c->state_dir, "wa.db") ||
	    join(c->wake_path, sizeof(c->wake_path), c->state_dir,
	    "worker.sock") ||
	    join(c->lock_path, sizeof(c->lock_path), c->state_dir,
	    "wa-worker.lock") ||
	    (c->media_path[0] == '/' ? strlcpy(c->media_dir, c->media_path,
	    sizeof(c->media_dir)) >= sizeof(c->media_dir) :
	    join(c->media_dir, sizeof(c->media_dir), c->state_dir,
	    c->media_path)) ||
	    join(c->counters_path, sizeof(c->counters_path), c->state_dir,
	    "counters")) {
		(void)snprintf(err, errsz, "WA_STATE_DIR or WA_MEDIA_DIR is "
		    "too long");
		cfg_clear(c);
		return -1;
	}
	return 0;
oom:
	(void)snprintf(err, errsz, "out of memory reading the configuration");
fail:
	for (i = 0; i < NKEYS; i++) {
		if (vals[i] != NULL)
			explicit_bzero(vals[i], strlen(vals[i]));
		free(vals[i]);
	}
	cfg_clear(c);
	return -1;
}

static void
wipe(char **s)
{
	if (*s != NULL)
		explicit_bzero(*s, strlen(*s));
	free(*s);
	*s = NULL;
}

/* Wipes the secrets and frees every string; accepts a zeroed cfg. */
void
cfg_clear(struct cfg *c)
{
	wipe(&c->app_secret);
	wipe(&c->verify_token);
	wipe(&c->access_token);
	wipe(&c->phone_number_id);
	wipe(&c->api_version);
	wipe(&c->graph_url);
	wipe(&c->state_dir);
	wipe(&c->media_path);
	wipe(&c->backup_dir);
	wipe(&c->listen);
	wipe(&c->stop_words);
	wipe(&c->start_words);
	wipe(&c->flow_file);
	wipe(&c->agent_secret);
	wipe(&c->agents);
	wipe(&c->smtp_url);
	wipe(&c->smtp_user);
	wipe(&c->smtp_password);
	wipe(&c->smtp_ca_file);
	wipe(&c->mail_from);
	xtokens_clear(c);
}

/*
 * Looks up an agent of WA_AGENTS by its name or its exact URL.  Returns
 * 1 with its URL copied to url, 0 when none matches (or it does not fit).
 */
int
cfg_agent_find(const struct cfg *c, const char *name_or_url, char *url,
    size_t urlsz)
{
	const char	*w, *e, *eq;
	size_t		 nl, ul, len = strlen(name_or_url);

	if (c->agents == NULL || len == 0)
		return 0;
	for (w = c->agents; *w != '\0'; w = *e ? e + 1 : e) {
		e = w + strcspn(w, ",");
		if ((eq = memchr(w, '=', (size_t)(e - w))) == NULL)
			continue;
		nl = (size_t)(eq - w);
		ul = (size_t)(e - eq - 1);
		if (!((nl == len && strncmp(w, name_or_url, len) == 0) ||
		    (ul == len && strncmp(eq + 1, name_or_url, len) == 0)))
			continue;
		if (ul >= urlsz)
			return 0;
		memcpy(url, eq + 1, ul);
		url[ul] = '\0';
		return 1;
	}
	return 0;
}

/*
 * 1 when the media directory's file system (the state dir's, before the
 * first download) has less than WA_MEDIA_MIN_FREE_MB free or cannot be
 * asked, 0 when there is room or no floor is set.  The worker waits with
 * downloads while it is 1; /health says so.
 */
int
cfg_media_disk_low(const struct cfg *c)
{
	struct statvfs v;

	if (c->media_min_free_mb <= 0)
		return 0;
	if (statvfs(c->media_dir, &v) == -1 && (errno != ENOENT ||
	    statvfs(c->state_dir, &v) == -1))
		return 1;
	return (uint64_t)v.f_bavail * v.f_frsize / (1024 * 1024) <
	    (uint64_t)c->media_min_free_mb;
}

/*
 * 1 when x names an agent the operator configured (DESIGN rule 9): a
 * WA_AGENTS name or URL, or the agent_url of the flow file flow_path
 * (a number's own; NULL: WA_FLOW_FILE), read now so that an edited flow
 * counts, and its URL passes WA_ALLOW_LOCAL_URLS.  The URL is copied to
 * url.  0 otherwise.
 */
int
cfg_agent_known_in(const struct cfg *c, const char *flow_path, const char *x,
    char *url, size_t urlsz)
{
	json_error_t	 je;
	json_t		*root;
	const char	*flow_url, *why;
	int		 ok = 0;

	if (cfg_agent_find(c, x, url, urlsz))
		return url_agent_ok(url, c->allow_local, &why);
	if (flow_path == NULL)
		flow_path = c->flow_file;
	if (flow_path == NULL ||
	    (root = json_load_file(flow_path, 0, &je)) == NULL)
		return 0;
	flow_url = json_string_value(json_object_get(root, "agent_url"));
	if (flow_url != NULL && strcmp(flow_url, x) == 0 &&
	    strlcpy(url, flow_url, urlsz) < urlsz)
		ok = url_agent_ok(url, c->allow_local, &why);
	json_decref(root);
	return ok;
}

/* cfg_agent_known_in() with WA_FLOW_FILE. */
int
cfg_agent_known(const struct cfg *c, const char *x, char *url, size_t urlsz)
{
	return cfg_agent_known_in(c, NULL, x, url, urlsz);
}

/*
 * The access token held by the variable env_name (a number's token_env):
 * WHATSAPP_ACCESS_TOKEN and WHATSAPP_ACCESS_TOKEN_<LABEL> as loaded (the
 * environment over WA_ENV_FILE), any other name from the environment.
 * NULL when unset or empty (and always in a responder, which keeps no
 * token).  Never logged.
 */
const char *
cfg_token(const struct cfg *c, const char *env_name)
{
	const char	*v = NULL;
	size_t		 i;

	if (strcmp(env_name, "WHATSAPP_ACCESS_TOKEN") == 0)
		v = c->access_token;
	else if (xtoken_name(env_name, strlen(env_name))) {
		for (i = 0; i < c->nxtokens; i++)
			if (strcmp(c->xtokens[i].name, env_name) == 0)
				v = c->xtokens[i].value;
	} else
		v = getenv(env_name);
	return v != NULL && *v != '\0' ? v : NULL;
}

/*
 * Creates dir, a directory of the media tree, 0750 whatever the umask
 * (the units' UMask=0077 alone would make it 0700).  In production the
 * media directory is group www-data and setgid, so a directory made in
 * it is group www-data too and nginx can enter it.  (No setgid on it:
 * chmod drops that bit for wa, which is not in group www-data.  Files
 * are written in the media directory itself and renamed into place, so
 * they are group www-data all the same, 0640 by their writers.)  One
 * that exists is left as it is.  0, or -1 with errno set.
 */
int
cfg_media_mkdir(const char *dir)
{
	if (mkdir(dir, 0750) == -1)
		return errno == EEXIST ? 0 : -1;
	return chmod(dir, 0750);
}
