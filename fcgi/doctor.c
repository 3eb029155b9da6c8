/*
 * doctor.c: `wactl doctor`, a look at a production install, one line per
 * check on standard output:
 *
 *   OK    name         detail
 *   WARN  name         detail
 *   FAIL  name         detail
 *
 * then a summary line; exits 0 when every check is OK, 1 when some
 * WARN, 2 when some FAIL.  Every check runs, whatever the ones before
 * found, and none waits longer than DOCTOR_TIMEOUT_MS on the network or
 * the database.  Run as root: it reads the env file (root 0600) and
 * opens the database as the file's owner (so no -wal or -shm file it
 * makes belongs to root).  Never prints a secret.
 *
 * Where it looks: the env file WA_ENV_FILE (default
 * /etc/wa-gateway/wa.env), the settings as the programs read them (the
 * environment over the file), the nginx site WA_DOCTOR_NGINX_SITE
 * (default /etc/nginx/sites-enabled/wa-gateway.conf) for the domain, the
 * https port and the certificate, WA_BACKUP_DIR (default
 * /var/backups/wa-gateway) for backups, the service user WA_DOCTOR_USER
 * (default wa).  Tests may set WA_DOCTOR_RESOLVE (host:port:address, as
 * curl --resolve) and WA_DOCTOR_CAFILE for the webhook check.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/un.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bsd/stdlib.h>
#include <bsd/string.h>
#include <jansson.h>

#include "buf.h"
#include "cfg.h"
#include "db.h"
#include "doctor.h"
#include "log.h"
#include "sig.h"
#include "url.h"
#include "wa.h"

#define DOCTOR_TIMEOUT_MS	10000	/* one network call, at most */
#define DOCTOR_BUSY_MS		2000	/* the database lock, at most */
#define ENV_DEFAULT	"/etc/wa-gateway/wa.env"
#define SITE_DEFAULT	"/etc/nginx/sites-enabled/wa-gateway.conf"
#define RUN_DIR		"/run/wa-gateway"
#define PLACEHOLDER	"wa.example.com"	/* nginx/wa-gateway.conf's */
#define CERT_WARN_DAYS	21
#define DISK_FAIL	(100LL * 1024 * 1024)
#define DISK_WARN	(1024LL * 1024 * 1024)
#define DISK_WARN_PCT	10
#define BACKUP_WARN_S	(36 * 3600)
#define BACKLOG_WARN_S	(5 * 60)
#define ENV_MAX		256	/* settings in the env file, at most */
#define DETAIL_MAX	1024

enum level {
	L_OK,
	L_WARN,
	L_FAIL,
	L__MAX
};

static const char *const level_names[L__MAX] = {
	"OK",		/* L_OK */
	"WARN",		/* L_WARN */
	"FAIL",		/* L_FAIL */
};

/* The settings the gateway cannot run without (deploy/wa.env.example). */
static const char *const required[] = {
	"WHATSAPP_APP_SECRET",
	"WHATSAPP_VERIFY_TOKEN",
	"WHATSAPP_ACCESS_TOKEN",
	"WHATSAPP_PHONE_NUMBER_ID",
};

struct doctor {
	char		 env_path[PATH_MAX];	/* "" when none is read */
	int		 env_ok;		/* 1: the file was read */
	char		 env_err[PATH_MAX + 256]; /* why not */
	char		*key[ENV_MAX];		/* the file's settings */
	char		*val[ENV_MAX];		/* wiped by doctor_clear() */
	size_t		 n;
	char		 state_dir[PATH_MAX];
	char		 db_path[PATH_MAX];
	char		 user[64];		/* the service user */
	int		 have_user;
	uid_t		 uid;
	char		 site[PATH_MAX];	/* the nginx site */
	int		 site_ok;		/* read */
	char		 domain[256];		/* its server_name */
	long		 https_port;		/* its listen ... ssl port */
	char		 cert[PATH_MAX];	/* its ssl_certificate */
	struct db	*db;			/* open for the database checks */
	int		 count[L__MAX];
};

/* Prints one check's line and counts it. */
static void	 report(struct doctor *, enum level, const char *name,
		    const char *fmt, ...)
		    __attribute__((format(printf, 4, 5)));

static void
report(struct doctor *d, enum level l, const char *name, const char *fmt, ...)
{
	char	 detail[DETAIL_MAX];
	va_list	 ap;

	va_start(ap, fmt);
	/* A detail cut at DETAIL_MAX still reads. */
	(void)vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	(void)printf("%-4s  %-11s  %s\n", level_names[l], name, detail);
	(void)fflush(stdout);
	d->count[l]++;
}

/* A setting as the programs see it: environment, file, or NULL. */
static const char *
setting(const struct doctor *d, const char *name)
{
	const char	*v;
	size_t		 i;

	if ((v = getenv(name)) != NULL)
		return v;
	for (i = 0; i < d->n; i++)
		if (strcmp(d->key[i], name) == 0)
			return d->val[i];
	return NULL;
}

static const char *
setting_or(const struct doctor *d, const char *name, const char *def)
{
	const char *v = setting(d, name);

	return v != NULL && *v != '\0' ? v : def;
}

/*
 * Reads the env file leniently (KEY=VALUE lines, as cfg.c reads them,
 * but never refusing one): the configuration check names every setting
 * that is missing, where cfg_load() stops at the first.  0, or -1 with
 * d->env_err set.
 */
static int
env_read(struct doctor *d)
{
	FILE	*f;
	char	 line[4096], iobuf[8192], *k, *v;

	if ((f = fopen(d->env_path, "r")) == NULL) {
		(void)snprintf(d->env_err, sizeof(d->env_err), "cannot read "
		    "%s: %s%s", d->env_path, strerror(errno), errno == EACCES ?
		    " (run wactl doctor as root)" : "");
		return -1;
	}
	/* Our buffer, wiped below: stdio's own would keep the secrets. */
	if (setvbuf(f, iobuf, _IOFBF, sizeof(iobuf)) != 0) {
		(void)fclose(f);
		(void)snprintf(d->env_err, sizeof(d->env_err), "cannot read "
		    "%s", d->env_path);
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL && d->n < ENV_MAX) {
		if (cfg_line_parse(line, &k, &v) != 1)
			continue;	/* cfg_load() names a bad one */
		if ((d->key[d->n] = strdup(k)) == NULL ||
		    (d->val[d->n] = strdup(v)) == NULL) {
			free(d->key[d->n]);
			d->key[d->n] = NULL;
			break;
		}
		d->n++;
	}
	explicit_bzero(line, sizeof(line));
	(void)fclose(f);
	explicit_bzero(iobuf, sizeof(iobuf));
	d->env_ok = 1;
	return 0;
}

/*
 * config: the env file read, the required settings filled in (the
 * example leaves them empty), and the whole configuration accepted as
 * the worker accepts it.
 */
static void
check_config(struct doctor *d)
{
	struct cfg	 cfg;
	char		 missing[512], err[512];
	const char	*v, *sandbox;
	size_t		 i;
	int		 n = 0;

	missing[0] = '\0';
	for (i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		v = setting(d, required[i]);
		if (v != NULL && *v != '\0')
			continue;
		if (n++ > 0)
			(void)strlcat(missing, ", ", sizeof(missing));
		(void)strlcat(missing, required[i], sizeof(missing));
	}
	if (d->env_path[0] != '\0' && !d->env_ok) {
		report(d, L_FAIL, "config", "%s", d->env_err);
		return;
	}
	if (n > 0) {
		report(d, L_FAIL, "config", "%s %s still empty in %s, as "
		    "deploy/wa.env.example leaves %s: fill %s in (the example "
		    "says where each comes from)", missing, n == 1 ? "is" :
		    "are", d->env_path[0] ? d->env_path : "the environment",
		    n == 1 ? "it" : "them", n == 1 ? "it" : "them");
		return;
	}
	if (cfg_load(&cfg, CFG_NEED_WORKER, err, sizeof(err)) == -1) {
		report(d, L_FAIL, "config", "%s", err);
		return;
	}
	cfg_clear(&cfg);
	v = setting(d, "WHATSAPP_ACCESS_TOKEN");
	sandbox = setting(d, "WA_SANDBOX");
	if ((sandbox != NULL && strcmp(sandbox, "1") == 0) ||
	    strncmp(v, "dev-", 4) == 0)
		report(d, L_WARN, "config", "%s: sandbox settings (WA_SANDBOX=1 "
		    "or a dev- token): nothing reaches Meta or a customer",
		    d->env_path[0] ? d->env_path : "the environment");
	else
		report(d, L_OK, "config", "%s: every required setting is there "
		    "and valid", d->env_path[0] ? d->env_path :
		    "the environment");
}

/* Appends "; " (after the first) and a formatted problem to b. */
static void	 note(char *b, size_t sz, const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));

static void
note(char *b, size_t sz, const char *fmt, ...)
{
	char	 one[512];
	va_list	 ap;

	va_start(ap, fmt);
	(void)vsnprintf(one, sizeof(one), fmt, ap);
	va_end(ap);
	if (b[0] != '\0')
		(void)strlcat(b, "; ", sz);
	(void)strlcat(b, one, sz);
}

static const char *
owner_name(uid_t uid, char *buf, size_t sz)
{
	struct passwd *pw = getpwuid(uid);

	if (pw != NULL)
		(void)strlcpy(buf, pw->pw_name, sz);
	else
		(void)snprintf(buf, sz, "uid %ld", (long)uid);
	return buf;
}

/*
 * files: the env file root's alone (0600), the state dir the service
 * user's (0750), wa.db the service user's alone (0600).  Others reading a
 * secret or the messages is a FAIL; a looser group or another owner that
 * still works is a WARN.
 */
static void
check_files(struct doctor *d)
{
	struct stat	 st;
	char		 bad[DETAIL_MAX] = "", soft[DETAIL_MAX] = "", who[64];
	mode_t		 m;

	if (d->env_path[0] != '\0') {
		if (stat(d->env_path, &st) == -1)
			note(bad, sizeof(bad), "%s: %s", d->env_path,
			    strerror(errno));
		else {
			m = st.st_mode & 07777;
			if (m & 077)
				note(bad, sizeof(bad), "%s is mode %04o: the "
				    "secrets are readable beyond root (chmod "
				    "0600 %s)", d->env_path, (unsigned)m,
				    d->env_path);
			if (st.st_uid != 0)
				note(soft, sizeof(soft), "%s belongs to %s, not "
				    "root (chown root:root %s)", d->env_path,
				    owner_name(st.st_uid, who, sizeof(who)),
				    d->env_path);
		}
	}
	if (!d->have_user)
		note(bad, sizeof(bad), "no user %s (deploy/install.sh creates "
		    "it)", d->user);
	if (stat(d->state_dir, &st) == -1)
		note(bad, sizeof(bad), "%s: %s", d->state_dir, strerror(errno));
	else {
		m = st.st_mode & 07777;
		if (!S_ISDIR(st.st_mode))
			note(bad, sizeof(bad), "%s is not a directory",
			    d->state_dir);
		else if (m & 007)
			note(bad, sizeof(bad), "%s is mode %04o: others may "
			    "enter (chmod 0750 %s)", d->state_dir, (unsigned)m,
			    d->state_dir);
		else if (m != 0750)
			note(soft, sizeof(soft), "%s is mode %04o, not 0750",
			    d->state_dir, (unsigned)m);
		if (d->have_user && st.st_uid != d->uid)
			note(bad, sizeof(bad), "%s belongs to %s, not %s (chown "
			    "%s:%s %s)", d->state_dir, owner_name(st.st_uid, who,
			    sizeof(who)), d->user, d->user, d->user,
			    d->state_dir);
	}
	if (stat(d->db_path, &st) == -1)
		note(bad, sizeof(bad), "%s: %s (wactl migrate creates it)",
		    d->db_path, strerror(errno));
	else {
		m = st.st_mode & 07777;
		if (m & 077)
			note(bad, sizeof(bad), "%s is mode %04o: the messages "
			    "are readable beyond %s (chmod 0600 %s)", d->db_path,
			    (unsigned)m, d->user, d->db_path);
		if (d->have_user && st.st_uid != d->uid)
			note(bad, sizeof(bad), "%s belongs to %s, not %s: the "
			    "services cannot write it (chown %s:%s %s)",
			    d->db_path, owner_name(st.st_uid, who, sizeof(who)),
			    d->user, d->user, d->user, d->db_path);
	}
	if (bad[0] != '\0')
		report(d, L_FAIL, "files", "%s%s%s", bad, soft[0] ? "; " : "",
		    soft);
	else if (soft[0] != '\0')
		report(d, L_WARN, "files", "%s", soft);
	else
		report(d, L_OK, "files", "%s root 0600, %s %s 0750, wa.db %s "
		    "0600", d->env_path[0] ? d->env_path : "(no env file)",
		    d->state_dir, d->user, d->user);
}

/*
 * 1 when something listens on the unix socket at path (type SOCK_STREAM
 * or SOCK_DGRAM), 0 when nothing does (a stale socket), -1 when there is
 * no socket there (errno set).
 */
static int
sock_answers(const char *path, int type)
{
	struct sockaddr_un	 sa;
	struct stat		 st;
	int			 fd, rc;

	if (stat(path, &st) == -1)
		return -1;
	if (!S_ISSOCK(st.st_mode)) {
		errno = ENOTSOCK;
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlcpy(sa.sun_path, path, sizeof(sa.sun_path)) >=
	    sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* Non-blocking: a full backlog is busy, not a hang. */
	if ((fd = socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) ==
	    -1)
		return 0;
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	if (rc == -1 && (errno == EAGAIN || errno == EINPROGRESS))
		rc = 0;
	(void)close(fd);
	return rc == 0 ? 1 : 0;
}

/*
 * sockets: the responders' FastCGI sockets (fcgi.sock, api.sock) in
 * /run/wa-gateway, or in the state dir in a local run (make run), and
 * the worker's wake-up socket in the state dir, each answering.
 */
static void
check_sockets(struct doctor *d)
{
	static const struct {
		const char	*name;
		int		 run_dir;	/* in /run/wa-gateway */
		int		 type;
		const char	*unit;
	} socks[] = {
		{ "fcgi.sock", 1, SOCK_STREAM, "wa-fcgi" },
		{ "api.sock", 1, SOCK_STREAM, "wa-fcgi-api" },
		{ "worker.sock", 0, SOCK_DGRAM, "wa-worker" },
	};
	struct stat	 st;
	char		 path[PATH_MAX], bad[DETAIL_MAX] = "";
	const char	*rundir;
	size_t		 i;
	int		 n;

	rundir = stat(RUN_DIR, &st) == 0 && S_ISDIR(st.st_mode) ? RUN_DIR :
	    d->state_dir;
	for (i = 0; i < sizeof(socks) / sizeof(socks[0]); i++) {
		n = snprintf(path, sizeof(path), "%s/%s", socks[i].run_dir ?
		    rundir : d->state_dir, socks[i].name);
		if (n < 0 || (size_t)n >= sizeof(path)) {
			note(bad, sizeof(bad), "%s: path too long",
			    socks[i].name);
			continue;
		}
		switch (sock_answers(path, socks[i].type)) {
		case 1:
			break;
		case 0:
			note(bad, sizeof(bad), "nothing answers on %s "
			    "(systemctl status %s)", path, socks[i].unit);
			break;
		default:
			note(bad, sizeof(bad), "%s: %s (systemctl status %s)",
			    path, strerror(errno), socks[i].unit);
			break;
		}
	}
	if (bad[0] != '\0')
		report(d, L_FAIL, "sockets", "%s", bad);
	else
		report(d, L_OK, "sockets", "fcgi.sock and api.sock in %s, "
		    "worker.sock in %s answer", rundir, d->state_dir);
}

/* Copies the first word of s (up to ';', space or '#') into dst. */
static void
word(const char *s, char *dst, size_t sz)
{
	size_t n = strcspn(s, " \t;#");

	if (n >= sz)
		n = sz - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

/*
 * Reads the nginx site: the first server_name (its first name), the port
 * of the first "listen ... ssl" and the first ssl_certificate.  0, or -1
 * (errno set) when it cannot be read.
 */
static int
site_read(struct doctor *d)
{
	FILE	*f;
	char	 line[4096], w[PATH_MAX], *p, *c;
	long	 port;

	if ((f = fopen(d->site, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if ((c = strchr(line, '#')) != NULL)
			*c = '\0';
		for (p = line; isspace((unsigned char)*p); p++)
			continue;
		if (strncmp(p, "server_name", 11) == 0 && isspace((unsigned
		    char)p[11]) && d->domain[0] == '\0') {
			for (p += 11; isspace((unsigned char)*p); p++)
				continue;
			word(p, d->domain, sizeof(d->domain));
		} else if (strncmp(p, "ssl_certificate", 15) == 0 &&
		    isspace((unsigned char)p[15]) && d->cert[0] == '\0') {
			for (p += 15; isspace((unsigned char)*p); p++)
				continue;
			word(p, d->cert, sizeof(d->cert));
		} else if (strncmp(p, "listen", 6) == 0 &&
		    isspace((unsigned char)p[6]) && d->https_port == 0 &&
		    strstr(p, " ssl") != NULL) {
			for (p += 6; isspace((unsigned char)*p); p++)
				continue;
			word(p, w, sizeof(w));
			/* 443, 127.0.0.1:8443, [::]:443 */
			c = strrchr(w, ':');
			if (c != NULL && strchr(c, ']') == NULL)
				c++;
			else
				c = w;
			port = strtol(c, &p, 10);
			if (*p == '\0' && port > 0 && port < 65536)
				d->https_port = port;
		}
	}
	(void)fclose(f);
	d->site_ok = 1;
	return 0;
}

/* nginx_site: the site enabled, with a real host name and https. */
static void
check_site(struct doctor *d)
{
	if (site_read(d) == -1) {
		report(d, L_FAIL, "nginx_site", "%s: %s: once the certificate "
		    "exists, ln -s ../sites-available/wa-gateway.conf "
		    "/etc/nginx/sites-enabled/ && nginx -t && systemctl reload "
		    "nginx", d->site, strerror(errno));
		return;
	}
	if (d->domain[0] == '\0' || strcmp(d->domain, "_") == 0)
		report(d, L_FAIL, "nginx_site", "%s has no server_name", d->site);
	else if (strcmp(d->domain, PLACEHOLDER) == 0)
		report(d, L_FAIL, "nginx_site", "%s: server_name is still the "
		    "placeholder %s (WA_DOMAIN=your.host sh deploy/install.sh)",
		    d->site, PLACEHOLDER);
	else if (d->https_port == 0)
		report(d, L_FAIL, "nginx_site", "%s has no \"listen ... ssl\": "
		    "Meta delivers webhooks over https only", d->site);
	else
		report(d, L_OK, "nginx_site", "%s enabled for %s", d->site,
		    d->domain);
}

/* certificate: the site's certificate there, for the domain, not ending. */
static void
check_cert(struct doctor *d)
{
	char	 err[512], until[32];
	long	 days = 0;
	int	 host_ok = 0;

	if (!d->site_ok || d->cert[0] == '\0') {
		report(d, L_FAIL, "certificate", "no ssl_certificate to read in "
		    "%s", d->site);
		return;
	}
	if (sig_cert_days(d->cert, d->domain[0] ? d->domain : NULL, &days,
	    &host_ok, until, sizeof(until), err, sizeof(err)) == -1)
		report(d, L_FAIL, "certificate", "%s (certbot certonly "
		    "--webroot -w /var/www/html -d %s)", err, d->domain[0] ?
		    d->domain : "your.host");
	else if (days < 0)
		report(d, L_FAIL, "certificate", "%s expired on %s: Meta "
		    "cannot deliver (certbot renew, then systemctl reload "
		    "nginx)", d->cert, until);
	else if (!host_ok)
		report(d, L_FAIL, "certificate", "%s is not valid for %s",
		    d->cert, d->domain);
	else if (days < CERT_WARN_DAYS)
		report(d, L_WARN, "certificate", "%s expires in %ld day%s (%s): "
		    "renew it (certbot renew; is certbot.timer active?)",
		    d->cert, days, days == 1 ? "" : "s", until);
	else
		report(d, L_OK, "certificate", "%s valid for %s, %ld days left "
		    "(until %s)", d->cert, d->domain, days, until);
}

/* Meta's error in a Graph answer: its code and (escaped) message. */
static int
graph_error(const struct buf *b, long long *code, char *msg, size_t sz)
{
	json_t		*j, *e, *m;
	const char	*s;
	int		 rc = 0;

	j = json_loadb(b->p != NULL ? b->p : "", b->len, 0, NULL);
	if ((e = json_object_get(j, "error")) != NULL) {
		*code = json_integer_value(json_object_get(e, "code"));
		m = json_object_get(e, "message");
		s = json_is_string(m) ? json_string_value(m) : "no message";
		(void)log_escape(msg, sz, s, strlen(s));
		rc = 1;
	}
	json_decref(j);
	return rc;
}

/* Copies string field name of Graph's answer j (escaped), or "?". */
static void
graph_field(json_t *j, const char *name, char *dst, size_t sz)
{
	json_t *v = json_object_get(j, name);

	if (json_is_string(v))
		(void)log_escape(dst, sz, json_string_value(v),
		    strlen(json_string_value(v)));
	else
		(void)strlcpy(dst, "?", sz);
}

/*
 * token: GET {graph}/{version}/{phone-number-id} with the access token,
 * the way the worker calls Graph (wa.c).  190 is a token Meta no longer
 * takes.
 */
static void
check_token(struct doctor *d)
{
	struct wa_opts	 o;
	struct wa_result r;
	struct wa	*w;
	json_t		*j;
	char		 path[128], msg[300], name[128], disp[64], q[32];
	const char	*token = setting(d, "WHATSAPP_ACCESS_TOKEN");
	const char	*pnid = setting(d, "WHATSAPP_PHONE_NUMBER_ID");
	long long	 code = 0;
	int		 n;

	memset(&o, 0, sizeof(o));
	memset(&r, 0, sizeof(r));
	o.graph_url = setting_or(d, "WHATSAPP_GRAPH_URL",
	    "https://graph.facebook.com");
	o.version = setting_or(d, "WHATSAPP_API_VERSION", "v23.0");
	o.token = token;
	o.timeout_ms = DOCTOR_TIMEOUT_MS;
	o.max_conns = 1;
	if (token == NULL || *token == '\0' || pnid == NULL || *pnid == '\0') {
		report(d, L_FAIL, "token", "cannot check: WHATSAPP_ACCESS_TOKEN "
		    "or WHATSAPP_PHONE_NUMBER_ID is not set");
		return;
	}
	n = snprintf(path, sizeof(path), "/%s?fields=verified_name,"
	    "display_phone_number,quality_rating", pnid);
	if (n < 0 || (size_t)n >= sizeof(path) || strspn(pnid,
	    "0123456789") != strlen(pnid)) {
		report(d, L_FAIL, "token", "cannot check: "
		    "WHATSAPP_PHONE_NUMBER_ID must be digits");
		return;
	}
	if ((w = wa_new(&o)) == NULL) {
		report(d, L_FAIL, "token", "cannot check: cannot set up a call "
		    "to %s", o.graph_url);
		return;
	}
	if (wa_get_wait(w, path, 64 * 1024, DOCTOR_TIMEOUT_MS, &r) == -1)
		report(d, L_FAIL, "token", "cannot reach the Graph API at %s: "
		    "%s", o.graph_url, r.transport);
	else if (graph_error(&r.body, &code, msg, sizeof(msg)) && code == 190)
		report(d, L_FAIL, "token", "token invalid or expired (Meta code "
		    "190: %s): make a System User token (Business Settings > "
		    "System users) and set WHATSAPP_ACCESS_TOKEN", msg);
	else if (code != 0 || r.http != 200)
		report(d, L_FAIL, "token", "Meta refused GET /%s (HTTP %ld, "
		    "code %lld: %s)", pnid, r.http, code, code != 0 ? msg :
		    "no error given");
	else {
		j = json_loadb(r.body.p != NULL ? r.body.p : "", r.body.len, 0,
		    NULL);
		graph_field(j, "display_phone_number", disp, sizeof(disp));
		graph_field(j, "verified_name", name, sizeof(name));
		graph_field(j, "quality_rating", q, sizeof(q));
		json_decref(j);
		report(d, L_OK, "token", "accepted for number %s: %s \"%s\", "
		    "quality %s", pnid, disp, name, q);
	}
	buf_clear(&r.body);
	wa_free(w);
}

/*
 * webhook: Meta's verification handshake, over https to the site's
 * domain as Meta would make it (DNS, the public address, the
 * certificate): the challenge must come back.
 */
static void
check_webhook(struct doctor *d)
{
	struct buf	 out;
	const char	*vt = setting(d, "WHATSAPP_VERIFY_TOKEN");
	char		 base[512], url[4096], esc[3 * 1024 + 1], challenge[24];
	char		 err[512], why[600], h[1024], port[16] = "";
	long		 status = 0;
	int		 n;

	buf_init(&out);
	if (!d->site_ok || d->domain[0] == '\0' ||
	    strcmp(d->domain, PLACEHOLDER) == 0) {
		report(d, L_FAIL, "webhook", "cannot check: no domain in the "
		    "nginx site %s", d->site);
		return;
	}
	if (vt == NULL || *vt == '\0' || strlen(vt) > 1024 ||
	    url_escape(vt, esc, sizeof(esc)) == -1) {
		report(d, L_FAIL, "webhook", "cannot check: "
		    "WHATSAPP_VERIFY_TOKEN is not set");
		return;
	}
	if (d->https_port != 0 && d->https_port != 443)
		(void)snprintf(port, sizeof(port), ":%ld", d->https_port);
	(void)snprintf(challenge, sizeof(challenge), "%u%u",
	    arc4random_uniform(900000) + 100000, arc4random_uniform(1000000));
	n = snprintf(base, sizeof(base), "https://%s%s/api/whatsapp/webhook",
	    d->domain, port);
	if (n < 0 || (size_t)n >= sizeof(base) || (n = snprintf(url,
	    sizeof(url), "%s?hub.mode=subscribe&hub.verify_token=%s&"
	    "hub.challenge=%s", base, esc, challenge)) < 0 ||
	    (size_t)n >= sizeof(url)) {
		explicit_bzero(esc, sizeof(esc));
		report(d, L_FAIL, "webhook", "cannot check: the domain is too "
		    "long");
		return;
	}
	explicit_bzero(esc, sizeof(esc));
	(void)snprintf(h, sizeof(h), "in Meta's App Dashboard > WhatsApp > "
	    "Configuration check the Callback URL (%s), the Verify token "
	    "(= WHATSAPP_VERIFY_TOKEN) and that the webhook field "
	    "\"messages\" is subscribed", base);
	if (wa_probe(url, getenv("WA_DOCTOR_RESOLVE"),
	    getenv("WA_DOCTOR_CAFILE"), DOCTOR_TIMEOUT_MS, &status, &out, err,
	    sizeof(err)) == -1) {
		(void)log_escape(why, sizeof(why), err, strlen(err));
		report(d, L_FAIL, "webhook", "GET %s failed: %s; %s", base, why,
		    h);
	} else if (status == 200 && out.len == strlen(challenge) &&
	    memcmp(out.p, challenge, out.len) == 0)
		report(d, L_OK, "webhook", "%s answers Meta's handshake "
		    "(challenge echoed)", base);
	else if (status == 403)
		report(d, L_FAIL, "webhook", "%s refused the handshake (HTTP "
		    "403): the verify token there is not WHATSAPP_VERIFY_TOKEN "
		    "here; %s", base, h);
	else
		report(d, L_FAIL, "webhook", "%s answered HTTP %ld without the "
		    "challenge; %s", base, status, h);
	explicit_bzero(url, sizeof(url));
	buf_clear(&out);
}

/* Writes n bytes as "1.2 GiB" / "340 MiB" into b. */
static const char *
human(long long n, char *b, size_t sz)
{
	if (n >= 1024LL * 1024 * 1024)
		(void)snprintf(b, sz, "%.1f GiB", (double)n / (1024.0 * 1024 *
		    1024));
	else
		(void)snprintf(b, sz, "%lld MiB", n / (1024 * 1024));
	return b;
}

/* disk: free space where the database and media live. */
static void
check_disk(struct doctor *d)
{
	struct statvfs	 sv;
	long long	 avail, total;
	int		 pct;
	char		 h[32];

	if (statvfs(d->state_dir, &sv) == -1) {
		report(d, L_FAIL, "disk", "%s: %s", d->state_dir,
		    strerror(errno));
		return;
	}
	avail = (long long)sv.f_bavail * (long long)sv.f_frsize;
	total = (long long)sv.f_blocks * (long long)sv.f_frsize;
	pct = total > 0 ? (int)(avail * 100 / total) : 0;
	if (avail < DISK_FAIL)
		report(d, L_FAIL, "disk", "%s free on %s (%d %%): webhooks "
		    "cannot be stored once it is full", human(avail, h,
		    sizeof(h)), d->state_dir, pct);
	else if (avail < DISK_WARN || pct < DISK_WARN_PCT)
		report(d, L_WARN, "disk", "%s free on %s (%d %%): under 1 GiB "
		    "or 10 %%", human(avail, h, sizeof(h)), d->state_dir, pct);
	else
		report(d, L_OK, "disk", "%s free on %s (%d %%)", human(avail, h,
		    sizeof(h)), d->state_dir, pct);
}

/*
 * sqlite: the library's version and the database opened at the schema
 * this build knows.  Leaves d->db open for the checks that read it.
 */
static void
check_sqlite(struct doctor *d)
{
	struct stat	 st;
	int		 v = 0, known = db_schema_known();
	char		 ver[160];

	(void)snprintf(ver, sizeof(ver), "SQLite %s%s", db_sqlite_version(),
	    db_sqlite_version_ok() ? "" : " (older than 3.51.3, which fixed "
	    "a WAL-reset race: upgrade when your distribution does)");
	/* As the file's owner (as_owner()): what the services can reach. */
	if (stat(d->db_path, &st) == -1) {
		report(d, L_FAIL, "sqlite", "%s; %s: %s (%s)", ver, d->db_path,
		    strerror(errno), errno == EACCES ? "its owner cannot reach "
		    "it: check the modes of the directories above it" :
		    "wactl migrate, as the service user, creates it");
		return;
	}
	if ((d->db = db_open(d->db_path, DB_ROLE_ADMIN, 0, DOCTOR_BUSY_MS)) ==
	    NULL) {
		report(d, L_FAIL, "sqlite", "%s; cannot open %s (see the line "
		    "above)", ver, d->db_path);
		return;
	}
	if (db_user_version(d->db, &v) == -1 || v != known) {
		report(d, v > known ? L_FAIL : L_WARN, "sqlite", "%s; %s is at "
		    "schema %d, this build knows %d: %s", ver, d->db_path, v,
		    known, v > known ? "the database is newer than this wactl" :
		    "run wactl migrate");
		db_close(d->db);
		d->db = NULL;
		return;
	}
	report(d, L_OK, "sqlite", "%s; %s at schema %d", ver, d->db_path, v);
}

/* journal: webhooks stored but not applied by the worker yet. */
static void
check_journal(struct doctor *d)
{
	int64_t	 pending, oldest, age;

	if (d->db == NULL) {
		report(d, L_FAIL, "journal", "cannot check: the database is not "
		    "open");
		return;
	}
	if (db_doctor_journal(d->db, &pending, &oldest) == -1) {
		report(d, L_FAIL, "journal", "cannot read the webhook journal");
		return;
	}
	age = pending > 0 ? (int64_t)time(NULL) - oldest / 1000 : 0;
	if (pending > 0 && age > BACKLOG_WARN_S)
		report(d, L_WARN, "journal", "%" PRId64 " webhook%s waiting, the "
		    "oldest for %" PRId64 " min: is wa-worker running? "
		    "(systemctl status wa-worker)", pending, pending == 1 ? "" :
		    "s", age / 60);
	else if (pending > 0)
		report(d, L_OK, "journal", "%" PRId64 " webhook%s waiting, the "
		    "oldest for %" PRId64 " s", pending, pending == 1 ? "" : "s",
		    age);
	else
		report(d, L_OK, "journal", "every webhook stored is applied");
}

/* sends: messages that failed for good, queued in the last 24 hours. */
static void
check_sends(struct doctor *d)
{
	int64_t	 total, code, top, since;

	if (d->db == NULL) {
		report(d, L_FAIL, "sends", "cannot check: the database is not "
		    "open");
		return;
	}
	since = ((int64_t)time(NULL) - 86400) * 1000;
	if (db_doctor_failed(d->db, since, &total, &code, &top) == -1)
		report(d, L_FAIL, "sends", "cannot read the outbox");
	else if (total == 0)
		report(d, L_OK, "sends", "no send failed in the last 24 h");
	else if (code != 0)
		report(d, L_WARN, "sends", "%" PRId64 " send%s failed in the last "
		    "24 h, most often Meta code %" PRId64 " (%" PRId64 " time%s; "
		    "GET /outbox?state=failed shows them)", total, total == 1 ?
		    "" : "s", code, top, top == 1 ? "" : "s");
	else
		report(d, L_WARN, "sends", "%" PRId64 " send%s failed in the last "
		    "24 h, most often refused here before Meta (%" PRId64
		    " time%s; GET /outbox?state=failed shows them)", total,
		    total == 1 ? "" : "s", top, top == 1 ? "" : "s");
}

/* backup: the newest wa-*.db in WA_BACKUP_DIR, and its age. */
static void
check_backup(struct doctor *d)
{
	DIR		*dir;
	struct dirent	*e;
	struct stat	 st;
	const char	*bdir = setting_or(d, "WA_BACKUP_DIR", CFG_BACKUP_DIR);
	char		 path[PATH_MAX], best[NAME_MAX + 1] = "", name[NAME_MAX * 4 + 1];
	time_t		 newest = 0, now = time(NULL);
	long long	 age;
	int		 n;

	if ((dir = opendir(bdir)) == NULL) {
		report(d, L_FAIL, "backup", "no backup: %s: %s (systemctl enable "
		    "--now wa-backup.timer)", bdir, strerror(errno));
		return;
	}
	while ((e = readdir(dir)) != NULL) {
		if (fnmatch("wa-*.db", e->d_name, 0) != 0)
			continue;
		n = snprintf(path, sizeof(path), "%s/%s", bdir, e->d_name);
		if (n < 0 || (size_t)n >= sizeof(path) ||
		    stat(path, &st) == -1 || !S_ISREG(st.st_mode))
			continue;
		if (best[0] == '\0' || st.st_mtime > newest) {
			newest = st.st_mtime;
			(void)strlcpy(best, e->d_name, sizeof(best));
		}
	}
	(void)closedir(dir);
	if (best[0] == '\0') {
		report(d, L_FAIL, "backup", "no backup (wa-*.db) in %s "
		    "(systemctl enable --now wa-backup.timer)", bdir);
		return;
	}
	(void)log_escape(name, sizeof(name), best, strlen(best));
	age = (long long)(now - newest);
	if (age > BACKUP_WARN_S)
		report(d, L_WARN, "backup", "the newest, %s/%s, is %lld h old "
		    "(systemctl list-timers wa-backup.timer; journalctl -u "
		    "wa-backup)", bdir, name, age / 3600);
	else
		report(d, L_OK, "backup", "the newest, %s/%s, is %lld h old",
		    bdir, name, age < 0 ? 0 : age / 3600);
}

/*
 * Opens the database as the owner of the file (when run as root), so
 * that the -wal and -shm files SQLite may create belong to the service
 * user, not to root (who would then lock the services out).  The
 * caller calls as_root() after.  0, or -1 (the database checks then run
 * as root: a fresh -shm may need a chown).
 */
static int
as_owner(const struct doctor *d)
{
	struct stat st;

	if (geteuid() != 0 || stat(d->db_path, &st) == -1 || st.st_uid == 0)
		return 0;
	if (setegid(st.st_gid) == -1 || seteuid(st.st_uid) == -1) {
		log_warn("%s: seteuid %ld", __func__, (long)st.st_uid);
		if (setegid(0) == -1)
			log_warn("%s: setegid 0", __func__);
		return -1;
	}
	return 0;
}

static void
as_root(void)
{
	if (getuid() == 0 && geteuid() != 0 && (seteuid(0) == -1 ||
	    setegid(0) == -1))
		log_warn("%s: seteuid 0", __func__);
}

static void
doctor_clear(struct doctor *d)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		explicit_bzero(d->val[i], strlen(d->val[i]));
		free(d->val[i]);
		free(d->key[i]);
	}
	d->n = 0;
	db_close(d->db);
	d->db = NULL;
}

/*
 * wactl doctor: every check, one line each, then the summary.  Returns
 * the exit status: 0 all OK, 1 some WARN, 2 some FAIL.
 */
int
doctor_run(void)
{
	static struct doctor	 d;	/* the env file's settings: not on the stack */
	const char		*env = getenv("WA_ENV_FILE"), *v;
	struct passwd		*pw;
	int			 n;

	memset(&d, 0, sizeof(d));
	/* Where the programs read it; the installed file when unset. */
	if (env == NULL) {
		if (setenv("WA_ENV_FILE", ENV_DEFAULT, 1) == -1) {
			log_warn("setenv");
			return 2;
		}
		env = ENV_DEFAULT;
	}
	(void)strlcpy(d.env_path, env, sizeof(d.env_path));
	if (d.env_path[0] != '\0')
		(void)env_read(&d);
	n = snprintf(d.state_dir, sizeof(d.state_dir), "%s",
	    setting_or(&d, "WA_STATE_DIR", "./var"));
	if (n < 0 || (size_t)n >= sizeof(d.state_dir) ||
	    (n = snprintf(d.db_path, sizeof(d.db_path), "%s/wa.db",
	    d.state_dir)) < 0 || (size_t)n >= sizeof(d.db_path)) {
		log_warnx("WA_STATE_DIR is too long");
		doctor_clear(&d);
		return 2;
	}
	(void)strlcpy(d.user, (v = getenv("WA_DOCTOR_USER")) != NULL && *v ?
	    v : "wa", sizeof(d.user));
	if ((pw = getpwnam(d.user)) != NULL) {
		d.have_user = 1;
		d.uid = pw->pw_uid;
	}
	(void)strlcpy(d.site, (v = getenv("WA_DOCTOR_NGINX_SITE")) != NULL &&
	    *v ? v : SITE_DEFAULT, sizeof(d.site));

	check_config(&d);
	check_files(&d);
	check_sockets(&d);
	check_site(&d);
	check_cert(&d);
	check_token(&d);
	check_webhook(&d);
	check_disk(&d);
	if (as_owner(&d) == 0) {
		check_sqlite(&d);
		check_journal(&d);
		check_sends(&d);
		db_close(d.db);
		d.db = NULL;
	} else {
		report(&d, L_FAIL, "sqlite", "cannot take the database owner's "
		    "identity to open %s", d.db_path);
		report(&d, L_FAIL, "journal", "cannot check");
		report(&d, L_FAIL, "sends", "cannot check");
	}
	as_root();
	check_backup(&d);

	(void)printf("wactl doctor: %d OK, %d WARN, %d FAIL\n", d.count[L_OK],
	    d.count[L_WARN], d.count[L_FAIL]);
	doctor_clear(&d);
	if (fflush(stdout) == EOF)
		return 2;
	return d.count[L_FAIL] > 0 ? 2 : d.count[L_WARN] > 0 ? 1 : 0;
}
