/*
 * alerts.c: the worker's alerts (issue 16, email alerts).  On a timer it
 * looks at the conditions a person should hear of and keeps one alert
 * row per episode (db_alerts.c): customers waiting in chats handed to
 * people (WA_ALERT_WAIT_MIN); for the admins a token Meta refused (190),
 * a number's quality YELLOW or RED or its account restricted, sends
 * failing at more than 5 % over 15 minutes, the journal's oldest pending
 * entry older than 5 minutes, no backup in WA_BACKUP_DIR for 36 hours
 * (when the directory exists); each is resolved when its condition
 * ends.  With WA_SMTP_URL set it then queues a mail per person carrying
 * their new alerts (at most one per person per 10 minutes; the first at
 * once) and sends the due one, retrying with backoff on a temporary
 * failure for 24 hours; the SMTP session runs on a multi handle moved on
 * every pass (alerts_fds() gives the worker its socket to wait on), so a
 * slow server holds up nothing.  Rows are raised without WA_SMTP_URL
 * too: /alerts shows them.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/stdlib.h>
#include <jansson.h>

#include "alerts.h"
#include "buf.h"
#include "cfg.h"
#include "clock.h"
#include "db.h"
#include "log.h"
#include "mail.h"

#define EVAL_MS		5000		/* conditions looked at this often */
#define BATCH_MS	(10 * 60 * 1000) /* one mail per person per this */
#define MAIL_TIMEOUT_MS	15000		/* one SMTP session at most */
#define RETRY_MIN_MS	5000		/* first wait after a failure... */
#define RETRY_MAX_MS	(60 * 60 * 1000) /* ...doubling up to this */
#define GIVE_UP_MS	(24 * 60 * 60 * 1000LL) /* then the mail failed */
#define NEW_S		(24 * 60 * 60)	/* alerts older are not mailed */
#define BACKLOG_MS	(5 * 60 * 1000)	/* journal entry pending this long */
#define BACKUP_S	(36 * 60 * 60)	/* newest backup this old */
#define SENDS_MS	(15 * 60 * 1000) /* sends failing over this window... */
#define SENDS_PCT	5		/* ...more than this share... */
#define SENDS_MIN	10		/* ...of at least this many */

struct alerts {
	struct db		*db;
	const struct cfg	*cfg;
	int64_t			 evaluated;	/* mono ms of the last look */
	int			 mail;		/* WA_SMTP_URL is set */
	struct mailer		*mailer;	/* one mail in flight at most */
	struct db_alert_mail	 m;		/* the mail in flight, if any */
};

struct alerts *
alerts_new(struct db *d, const struct cfg *c)
{
	struct alerts	*a;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	a->db = d;
	a->cfg = c;
	a->evaluated = INT64_MIN / 2;
	a->mail = c->smtp_url != NULL && *c->smtp_url != '\0';
	if ((a->mailer = mailer_new()) == NULL) {
		free(a);
		return NULL;
	}
	if (a->mail)
		log_info("alerts: mails through %s from %s", c->smtp_url,
		    c->mail_from);
	return a;
}

/* A mail in flight is let go: still queued, it is sent again later. */
void
alerts_free(struct alerts *a)
{
	if (a == NULL)
		return;
	mailer_free(a->mailer);
	db_alert_mail_clear(&a->m);
	free(a);
}

/*
 * A gateway condition (for the admins): inactive, its open alert is
 * resolved.  Active with an episode named (what Meta's row says: the
 * quality and its time), that one is raised and any other resolved;
 * with none, an open alert of kind for pnid is kept, or one raised whose
 * episode starts now.  0 or -1.
 */
static int
condition(struct alerts *a, const char *kind, const char *pnid, int active,
    const char *named, const char *summary, const char *detail,
    int64_t now_s)
{
	char	 episode[256];
	int	 n;

	if (!active)
		return db_alert_end(a->db, kind, pnid, NULL, now_s) < 0 ? -1 : 0;
	if (named != NULL) {
		if (db_alert_end(a->db, kind, pnid, named, now_s) < 0)
			return -1;
		n = snprintf(episode, sizeof(episode), "%s", named);
	} else {
		if ((n = db_alert_open(a->db, kind, pnid)) != 0)
			return n < 0 ? -1 : 0;
		n = snprintf(episode, sizeof(episode), "%s:%s:%lld", kind,
		    pnid != NULL ? pnid : "", (long long)now_s);
	}
	if (n < 0 || (size_t)n >= sizeof(episode))
		return -1;
	if ((n = db_alert_raise(a->db, kind, pnid, episode, summary, detail,
	    now_s)) == 1)
		log_warnx("alert: %s", summary);
	return n < 0 ? -1 : 0;
}

/*
 * The age of the newest wa-*.db in the backup directory: 0 and *age set,
 * 1 when there is none, -1 when the directory is not there.
 */
static int
backup_age(const char *dir, int64_t now_s, int64_t *age)
{
	DIR		*d;
	struct dirent	*e;
	struct stat	 st;
	char		 path[PATH_MAX];
	int64_t		 newest = -1;
	int		 n;

	if (dir == NULL || (d = opendir(dir)) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (fnmatch("wa-*.db", e->d_name, 0) != 0)
			continue;
		n = snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (n < 0 || (size_t)n >= sizeof(path) ||
		    stat(path, &st) == -1 || !S_ISREG(st.st_mode))
			continue;
		if ((int64_t)st.st_mtime > newest)
			newest = (int64_t)st.st_mtime;
	}
	(void)closedir(d);
	if (newest < 0)
		return 1;
	*age = now_s - newest;
	return 0;
}

/* Rows of a query into a JSON array (api_on_row's twin, for the worker). */
static void
on_row(void *arg, int ncols, const char *const *names,
    const struct db_val *v)
{
	json_t	*rows = arg, *o;
	int	 i;

	if ((o = json_object()) == NULL)
		return;
	for (i = 0; i < ncols; i++)
		(void)json_object_set_new(o, names[i],
		    v[i].type == DB_VAL_INT ? json_integer(v[i].i) :
		    v[i].type == DB_VAL_TEXT ? json_stringn(v[i].s, v[i].len) :
		    json_null());
	(void)json_array_append_new(rows, o);
}

static const char *
str(json_t *row, const char *key)
{
	return json_string_value(json_object_get(row, key));
}

/*
 * A number's token refused (190: the sender paused it), its quality
 * YELLOW or RED, its account restricted: one alert each per episode.
 * 0 or -1.
 */
static int
numbers(struct alerts *a, int64_t now_s)
{
	json_t		*rows, *r;
	const char	*pnid, *label, *q, *st;
	char		 sum[256], ep[256], name[80];
	size_t		 i;
	int		 rc = -1, on;

	if ((rows = json_array()) == NULL)
		return -1;
	if (db_alert_numbers(a->db, on_row, rows) < 0)
		goto fail;
	json_array_foreach(rows, i, r) {
		if ((pnid = str(r, "pnid")) == NULL)
			continue;
		label = str(r, "label");
		(void)snprintf(name, sizeof(name), "%s%s%s%s", label != NULL ?
		    label : pnid, label != NULL ? " (" : "", label != NULL ?
		    pnid : "", label != NULL ? ")" : "");
		on = str(r, "paused_reason") != NULL &&
		    strcmp(str(r, "paused_reason"), "token_invalid") == 0;
		(void)snprintf(sum, sizeof(sum), "Meta refused the access "
		    "token of number %s (code 190): its sending is paused "
		    "until the token changes", name);
		(void)snprintf(ep, sizeof(ep), "token_invalid:%s:%lld", pnid,
		    (long long)json_integer_value(json_object_get(r,
		    "paused_at")));
		if (condition(a, "token_invalid", pnid, on, ep, sum, NULL,
		    now_s) == -1)
			goto fail;
		q = str(r, "quality_rating");
		on = q != NULL && (strcmp(q, "YELLOW") == 0 ||
		    strcmp(q, "RED") == 0);
		(void)snprintf(sum, sizeof(sum), "The quality rating of number "
		    "%s dropped to %s", name, q != NULL ? q : "");
		(void)snprintf(ep, sizeof(ep), "quality_drop:%s:%s:%lld", pnid,
		    q != NULL ? q : "", (long long)json_integer_value(
		    json_object_get(r, "quality_at")));
		if (condition(a, "quality_drop", pnid, on, ep, sum, NULL,
		    now_s) == -1)
			goto fail;
		st = str(r, "account_state");
		on = db_health_restricted(st, str(r, "account_detail"));
		(void)snprintf(sum, sizeof(sum), "Meta restricted or flagged "
		    "number %s (%s): sending may be limited", name,
		    st != NULL ? st : "");
		(void)snprintf(ep, sizeof(ep), "number_restricted:%s:%lld",
		    pnid, (long long)json_integer_value(json_object_get(r,
		    "account_at")));
		if (condition(a, "number_restricted", pnid, on, ep, sum, NULL,
		    now_s) == -1)
			goto fail;
	}
	rc = 0;
fail:
	json_decref(rows);
	return rc;
}

/* Every condition, in one transaction.  0 or -1. */
static int
evaluate(struct alerts *a)
{
	int64_t	 now_ms = clock_now_ms(), now_s = now_ms / 1000;
	int64_t	 pending = 0, oldest = 0, age = 0, sends = 0, failed = 0;
	char	 sum[256], det[128];
	int	 n, b;

	if (db_begin(a->db) != DB_OK)
		return -1;
	if ((n = db_alert_waiting(a->db, now_s - a->cfg->alert_wait_min * 60,
	    now_s)) < 0)
		goto fail;
	if (n > 0)
		log_info("alerts: %d customer(s) waiting for an answer", n);
	if (db_doctor_journal(a->db, &pending, &oldest) == -1)
		goto fail;
	n = pending > 0 && oldest > 0 && now_ms - oldest > BACKLOG_MS;
	(void)snprintf(sum, sizeof(sum), "The webhook journal has %lld "
	    "entries waiting; the oldest for %lld minutes", (long long)pending,
	    n ? (long long)((now_ms - oldest) / 60000) : 0LL);
	(void)snprintf(det, sizeof(det), "{\"pending\":%lld,\"oldest_ms\":"
	    "%lld}", (long long)pending, (long long)oldest);
	if (condition(a, "journal_backlog", NULL, n, NULL, sum, det, now_s) == -1)
		goto fail;
	b = backup_age(a->cfg->backup_dir, now_s, &age);
	n = b == 1 || (b == 0 && age > BACKUP_S);
	if (b == 1)
		(void)snprintf(sum, sizeof(sum), "There is no backup "
		    "(wa-*.db) in the backup directory");
	else
		(void)snprintf(sum, sizeof(sum), "The newest backup is %lld "
		    "hours old", (long long)(age / 3600));
	(void)snprintf(det, sizeof(det), "{\"age_s\":%lld}",
	    b == 0 ? (long long)age : -1LL);
	if (condition(a, "backup_stale", NULL, n, NULL, sum, det, now_s) == -1)
		goto fail;
	if (db_alert_sends(a->db, now_ms - SENDS_MS, &sends, &failed) == -1)
		goto fail;
	n = sends >= SENDS_MIN && failed * 100 > sends * SENDS_PCT;
	(void)snprintf(sum, sizeof(sum), "%lld of %lld sends in the last 15 "
	    "minutes failed", (long long)failed, (long long)sends);
	(void)snprintf(det, sizeof(det), "{\"sends\":%lld,\"failed\":%lld}",
	    (long long)sends, (long long)failed);
	if (condition(a, "send_failures", NULL, n, NULL, sum, det, now_s) ==
	    -1 || numbers(a, now_s) == -1)
		goto fail;
	if (db_commit(a->db) == -1)
		return -1;
	return 0;
fail:
	db_rollback(a->db);
	return -1;
}

/* A UTC time for a mail. */
static void
utc(char *s, size_t sz, int64_t t)
{
	time_t		 tt = (time_t)t;
	struct tm	 tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(s, sz, "%Y-%m-%d %H:%M UTC", &tm) == 0)
		(void)snprintf(s, sz, "%lld", (long long)t);
}

/*
 * One person's mail: their new alerts, queued (inside the caller's
 * transaction).  0 (also when nothing was new) or -1.
 */
static int
queue_one(struct alerts *a, json_t *who, int64_t now_ms)
{
	json_t		*rows, *ids = NULL, *r;
	struct buf	 body, subject;
	const char	*rcpt, *name, *s;
	char		*idtext = NULL, at[40];
	int64_t		 uid;
	size_t		 i;
	int		 rc = -1;

	buf_init(&body);
	buf_init(&subject);
	uid = json_integer_value(json_object_get(who, "id"));
	rcpt = json_string_value(json_object_get(who, "email"));
	name = json_string_value(json_object_get(who, "name"));
	if ((rows = json_array()) == NULL || (ids = json_array()) == NULL)
		goto fail;
	if (db_alert_mail_alerts(a->db, uid, now_ms / 1000 - NEW_S, on_row,
	    rows) < 0)
		goto fail;
	if (json_array_size(rows) == 0 || rcpt == NULL || name == NULL) {
		rc = 0;
		goto fail;
	}
	if (buf_printf(&body, "Hello %s,\n\n%zu new alert%s from the "
	    "WhatsApp gateway:\n\n", name, json_array_size(rows),
	    json_array_size(rows) == 1 ? "" : "s") == -1)
		goto fail;
	json_array_foreach(rows, i, r) {
		s = json_string_value(json_object_get(r, "summary"));
		utc(at, sizeof(at), json_integer_value(json_object_get(r,
		    "created_at")));
		if (json_array_append(ids, json_object_get(r, "id")) == -1 ||
		    buf_printf(&body, "- %s\n  (raised %s)\n", s != NULL ? s :
		    "", at) == -1)
			goto fail;
	}
	s = json_string_value(json_object_get(json_array_get(rows, 0),
	    "summary"));
	if (buf_puts(&body, "\nOpen the inbox to see and resolve them.\n") ==
	    -1 || (json_array_size(rows) == 1 ? buf_printf(&subject,
	    "[WhatsApp gateway] %s", s != NULL ? s : "") : buf_printf(&subject,
	    "[WhatsApp gateway] %zu alerts: %s", json_array_size(rows),
	    s != NULL ? s : "")) == -1 ||
	    (idtext = json_dumps(ids, JSON_COMPACT)) == NULL)
		goto fail;
	if (db_alert_mail_insert(a->db, uid, rcpt, subject.p, body.p, idtext,
	    now_ms) == -1)
		goto fail;
	rc = 0;
fail:
	free(idtext);
	json_decref(ids);
	json_decref(rows);
	buf_clear(&body);
	buf_clear(&subject);
	return rc;
}

/* Mails to every person due one, in one transaction.  0 or -1. */
static int
queue_mails(struct alerts *a)
{
	json_t	*who, *w;
	int64_t	 now_ms = clock_now_ms();
	size_t	 i;

	if ((who = json_array()) == NULL)
		return -1;
	if (db_begin(a->db) != DB_OK) {
		json_decref(who);
		return -1;
	}
	if (db_alert_mail_who(a->db, now_ms - BATCH_MS, now_ms / 1000 - NEW_S,
	    on_row, who) < 0)
		goto fail;
	json_array_foreach(who, i, w)
		if (queue_one(a, w, now_ms) == -1)
			goto fail;
	json_decref(who);
	return db_commit(a->db) == -1 ? -1 : 0;
fail:
	json_decref(who);
	db_rollback(a->db);
	return -1;
}

/* The Message-ID of mail id: unique, at the From address's domain. */
static void
message_id(char *s, size_t sz, const struct db_alert_mail *m,
    const char *from)
{
	const char	*at = strrchr(from, '@');

	(void)snprintf(s, sz, "<alert-mail-%lld.%lld@%s>", (long long)m->id,
	    (long long)m->created_at, at != NULL ? at + 1 : "localhost");
}

/*
 * Records how the attempt at mail m ended: sent, retried with backoff
 * (failed after 24 h) or failed.  0 or -1.
 */
static int
send_record(struct alerts *a, const struct db_alert_mail *m, enum mail_rc rc,
    const char *err)
{
	int64_t		 now_ms = clock_now_ms(), wait;
	const char	*state;

	if (rc == MAIL_RETRY && now_ms - m->created_at >= GIVE_UP_MS)
		rc = MAIL_FAILED;
	/* Full jitter over a doubling wait: retries never march in step. */
	wait = RETRY_MIN_MS << (m->attempts < 10 ? m->attempts : 10);
	if (wait > RETRY_MAX_MS)
		wait = RETRY_MAX_MS;
	wait = wait / 2 + arc4random_uniform((uint32_t)(wait / 2) + 1);
	state = rc == MAIL_SENT ? "sent" : rc == MAIL_RETRY ? "queued" :
	    "failed";
	if (rc == MAIL_SENT)
		log_info("alerts: mail %lld sent", (long long)m->id);
	else
		log_warnx("alerts: mail %lld %s: %s", (long long)m->id,
		    rc == MAIL_RETRY ? "not sent, retried later" :
		    "failed for good", err);
	return db_alert_mail_done(a->db, m->id, state, now_ms + wait,
	    rc == MAIL_SENT ? NULL : err, rc == MAIL_SENT ? now_ms : 0);
}

/*
 * Starts the mail due first, if any and none is in flight; one that
 * cannot start is recorded at once.  0 or -1.
 */
static int
send_start(struct alerts *a)
{
	struct mail_conf	 mc;
	struct buf		 msg;
	enum mail_rc		 rc = MAIL_FAILED;
	int64_t			 now_ms = clock_now_ms();
	char			 err[512], msgid[300];
	int			 n;

	if (mailer_busy(a->mailer))
		return 0;
	if ((n = db_alert_mail_next(a->db, now_ms, &a->m)) != 1)
		return n;
	buf_init(&msg);
	message_id(msgid, sizeof(msgid), &a->m, a->cfg->mail_from);
	if (mail_format(&msg, a->cfg->mail_from, a->m.recipient, a->m.subject,
	    a->m.body, now_ms / 1000, msgid) == -1) {
		(void)snprintf(err, sizeof(err), "WA_MAIL_FROM or the person's "
		    "e-mail address is not an address");
		n = -1;
	} else {
		memset(&mc, 0, sizeof(mc));
		mc.url = a->cfg->smtp_url;
		mc.user = a->cfg->smtp_user;
		mc.password = a->cfg->smtp_password;
		mc.from = a->cfg->mail_from;
		mc.ca_file = a->cfg->smtp_ca_file;
		mc.timeout_ms = MAIL_TIMEOUT_MS;
		n = mailer_start(a->mailer, &mc, a->m.recipient, msg.p,
		    msg.len, &rc, err, sizeof(err));
	}
	buf_clear(&msg);
	if (n == 0)
		return 0;	/* in flight: alerts_step() moves it */
	n = send_record(a, &a->m, rc, err);
	db_alert_mail_clear(&a->m);
	return n;
}

/*
 * Moves the mail in flight; one that ended is recorded.  1 when one
 * ended (the next may start), 0 when none did, -1 when recording failed.
 */
static int
send_step(struct alerts *a)
{
	enum mail_rc	 rc;
	char		 err[512];
	int		 n;

	if (mailer_step(a->mailer, &rc, err, sizeof(err)) != 1)
		return 0;
	n = send_record(a, &a->m, rc, err);
	db_alert_mail_clear(&a->m);
	return n == -1 ? -1 : 1;
}

/*
 * The socket of the mail in flight, for the worker's wait; *timeout_ms
 * lowered to when libcurl wants to be called.  Returns how many.
 */
int
alerts_fds(struct alerts *a, struct pollfd *fds, int max, long *timeout_ms)
{
	if (!a->mail)
		return 0;
	return mailer_fds(a->mailer, fds, max, timeout_ms);
}

/*
 * The worker's turn: conditions every EVAL_MS, then mails.  Returns how
 * long the worker may wait before the next turn (ms).
 */
long
alerts_step(struct alerts *a)
{
	int64_t	 t = clock_mono_ms();
	int	 n;

	/* The mail in flight moves on every pass, never blocking. */
	if (a->mail && (n = send_step(a)) != 0 && (n == -1 ||
	    send_start(a) == -1))
		log_warnx("alerts: recording or sending a mail failed; next "
		    "try in %d s", EVAL_MS / 1000);
	if (t - a->evaluated < EVAL_MS)
		return (long)(EVAL_MS - (t - a->evaluated));
	a->evaluated = t;
	if (evaluate(a) == -1)
		log_warnx("alerts: looking at the conditions failed; next "
		    "try in %d s", EVAL_MS / 1000);
	if (a->mail && (queue_mails(a) == -1 || send_start(a) == -1))
		log_warnx("alerts: queueing or sending a mail failed; next "
		    "try in %d s", EVAL_MS / 1000);
	return EVAL_MS;
}
