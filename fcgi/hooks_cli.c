/*
 * hooks_cli.c: `wactl hooks` (issue 16): add an event webhook (its
 * generated secret printed once), list them, remove one, show one's
 * deliveries.  The same checks as POST /hooks (hookspec.c), on the
 * database directly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bsd/stdlib.h>
#include <bsd/string.h>

#include "buf.h"
#include "cfg.h"
#include "clock.h"
#include "db.h"
#include "hookspec.h"
#include "hooks_cli.h"
#include "log.h"

#define SECRET_BYTES	32

static void
usage(void)
{
	(void)fprintf(stderr, "usage: wactl hooks add URL --events LIST "
	    "[--number ID|LABEL] [--secret-env VAR]\n"
	    "       wactl hooks list\n"
	    "       wactl hooks remove ID\n"
	    "       wactl hooks deliveries ID [--state "
	    "queued|sending|delivered|failed]\n");
	exit(2);
}

static const char *
or_dash(const char *s)
{
	return s != NULL ? s : "-";
}

/* One row of `wactl hooks list` (never the secret). */
static void
on_hook(void *arg, int nc, const char *const *names, const struct db_val *v)
{
	(void)arg;
	(void)printf("%-5lld %-8s %-16s %-7lld %-6lld %s %s\n",
	    (long long)db_val_int(nc, names, v, "id"),
	    or_dash(db_val_text(nc, names, v, "state")),
	    or_dash(db_val_text(nc, names, v, "number")),
	    (long long)db_val_int(nc, names, v, "pending"),
	    (long long)db_val_int(nc, names, v, "failed_24h"),
	    or_dash(db_val_text(nc, names, v, "url")),
	    or_dash(db_val_text(nc, names, v, "events")));
}

/* One row of `wactl hooks deliveries`. */
static void
on_delivery(void *arg, int nc, const char *const *names,
    const struct db_val *v)
{
	int64_t	st = db_val_int(nc, names, v, "last_status");
	char	status[24] = "-";

	(void)arg;
	if (st != 0)
		(void)snprintf(status, sizeof(status), "%lld", (long long)st);
	(void)printf("%-7lld %-24s %-10s %-8lld %-6s %s\n",
	    (long long)db_val_int(nc, names, v, "id"),
	    or_dash(db_val_text(nc, names, v, "type")),
	    or_dash(db_val_text(nc, names, v, "state")),
	    (long long)db_val_int(nc, names, v, "attempts"), status,
	    or_dash(db_val_text(nc, names, v, "last_error")));
}

/* A positive id from s, or 0. */
static int64_t
id_of(const char *s)
{
	char		*end;
	long long	 v;

	v = strtoll(s, &end, 10);
	return *s != '\0' && *end == '\0' && v > 0 ? (int64_t)v : 0;
}

/* The events list ("a,b") checked: 0, or -1 with the reason logged. */
static int
events_ok(const char *list)
{
	char	*copy, *p, *t;
	int	 rc = 0;

	if (*list == '\0' || (copy = strdup(list)) == NULL) {
		log_warnx("--events needs a comma-separated list of event "
		    "types, or * for all");
		return -1;
	}
	for (p = copy; (t = strsep(&p, ",")) != NULL; )
		if (!hookspec_type(t)) {
			log_warnx("--events: %s is not an event type (one of "
			    "message.received, message.sent, message.status, "
			    "message.edited, conversation.assigned, "
			    "conversation.handed_off, contact.opted_out, "
			    "contact.opted_in, number.quality, "
			    "template.status, send.failed, or *)", *t ? t :
			    "an empty word");
			rc = -1;
			break;
		}
	free(copy);
	return rc;
}

static int
add_cmd(struct db *d, const struct cfg *cfg, int argc, char *argv[])
{
	struct db_hook		 h;
	struct db_number	 num;
	const char		*code, *msg;
	unsigned char		 r[SECRET_BYTES];
	char			 secret[2 * SECRET_BYTES + 1];
	int64_t			 id;
	size_t			 i;
	int			 a, k;

	memset(&h, 0, sizeof(h));
	h.url = argv[2];
	for (a = 3; a < argc; a += 2) {
		if (a + 1 >= argc)
			usage();
		if (strcmp(argv[a], "--events") == 0)
			h.events = argv[a + 1];
		else if (strcmp(argv[a], "--number") == 0)
			h.pnid = argv[a + 1];
		else if (strcmp(argv[a], "--secret-env") == 0)
			h.secret_env = argv[a + 1];
		else
			usage();
	}
	if (h.events == NULL)
		usage();
	if (hookspec_url(h.url, cfg->hooks_allow_private, &code, &msg) == -1) {
		log_warnx("%s", msg);
		return 1;
	}
	if (events_ok(h.events) == -1)
		return 1;
	if (h.secret_env != NULL && (h.secret_env[0] == '\0' ||
	    strspn(h.secret_env, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") !=
	    strlen(h.secret_env) || strlen(h.secret_env) > 64 ||
	    (h.secret_env[0] >= '0' && h.secret_env[0] <= '9'))) {
		log_warnx("--secret-env must be the name of a setting: A-Z, "
		    "0-9 and _, not starting with a digit");
		return 1;
	}
	if (h.pnid != NULL) {
		if ((k = db_number_get(d, h.pnid, &num)) == -1)
			return 1;
		if (k == 0) {
			log_warnx("no business number %s: give the "
			    "phone_number_id or label of one that wactl "
			    "numbers list shows", h.pnid);
			return 1;
		}
		h.pnid = num.pnid;
	}
	if (h.secret_env == NULL) {
		arc4random_buf(r, sizeof(r));
		for (i = 0; i < sizeof(r); i++)
			(void)snprintf(secret + 2 * i, 3, "%02x", r[i]);
		h.secret = secret;
	}
	h.by = "wactl";
	if (db_hook_insert(d, &h, (int64_t)time(NULL), &id) != DB_OK)
		return 1;
	if (h.secret != NULL)
		(void)printf("hook %lld: the signing secret, shown only "
		    "now:\n%s\n", (long long)id, secret);
	else
		(void)printf("hook %lld: signed with the secret in %s\n",
		    (long long)id, h.secret_env);
	explicit_bzero(secret, sizeof(secret));
	explicit_bzero(r, sizeof(r));
	return 0;
}

static int
deliveries_cmd(struct db *d, int argc, char *argv[])
{
	static const char *const states[] = { "queued", "sending",
		"delivered", "failed", NULL };
	const char	*state = NULL;
	int64_t		 id = id_of(argv[2]);
	size_t		 k;

	if (argc == 5 && strcmp(argv[3], "--state") == 0)
		state = argv[4];
	else if (argc != 3)
		usage();
	if (id == 0) {
		log_warnx("%s is not a hook id (wactl hooks list shows them)",
		    argv[2]);
		return 1;
	}
	if (state != NULL) {
		for (k = 0; states[k] != NULL; k++)
			if (strcmp(states[k], state) == 0)
				break;
		if (states[k] == NULL) {
			log_warnx("--state must be queued, sending, delivered "
			    "or failed");
			return 1;
		}
	}
	(void)printf("%-7s %-24s %-10s %-8s %-6s %s\n", "ID", "TYPE", "STATE",
	    "ATTEMPTS", "STATUS", "LAST-ERROR");
	return db_hook_deliveries(d, id, state, 0, 200, on_delivery, NULL) <
	    0;
}

/* wactl hooks ...: argv[0] is "hooks". */
int
hooks_cli_cmd(int argc, char *argv[])
{
	struct cfg	 cfg;
	struct db	*d = NULL;
	char		 err[512];
	int64_t		 id;
	int		 rc = 1, k;

	if (argc < 2 || (strcmp(argv[1], "list") == 0 && argc != 2) ||
	    (strcmp(argv[1], "remove") == 0 && argc != 3) ||
	    (strcmp(argv[1], "add") == 0 && argc < 3) ||
	    (strcmp(argv[1], "deliveries") == 0 && argc < 3) ||
	    (strcmp(argv[1], "list") != 0 && strcmp(argv[1], "remove") != 0 &&
	    strcmp(argv[1], "add") != 0 && strcmp(argv[1], "deliveries") != 0))
		usage();
	if (cfg_load(&cfg, 0, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		return 1;
	}
	if ((d = db_open_current(&cfg)) == NULL)
		goto done;
	if (strcmp(argv[1], "list") == 0) {
		(void)printf("%-5s %-8s %-16s %-7s %-6s %s %s\n", "ID", "STATE",
		    "NUMBER", "PENDING", "FAILED", "URL", "EVENTS");
		rc = db_hook_list(d, 0, clock_now_ms(), on_hook, NULL) < 0;
	} else if (strcmp(argv[1], "add") == 0)
		rc = add_cmd(d, &cfg, argc, argv);
	else if (strcmp(argv[1], "deliveries") == 0)
		rc = deliveries_cmd(d, argc, argv);
	else {
		if ((id = id_of(argv[2])) == 0 ||
		    (k = db_hook_delete(d, id)) == 0) {
			log_warnx("no hook has id %s (wactl hooks list shows "
			    "them)", argv[2]);
			goto done;
		}
		if (k == -1)
			goto done;
		(void)printf("removed hook %lld and its deliveries\n",
		    (long long)id);
		rc = 0;
	}
done:
	db_close(d);
	cfg_clear(&cfg);
	return rc;
}
