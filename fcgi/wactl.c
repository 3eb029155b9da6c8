/*
 * wactl.c: the local admin command.  `wactl migrate` applies schema.sql's
 * numbered migrations; `wactl send` queues a message through the same
 * entry point as the bot and the management API; `wactl version` prints
 * the versions it knows.
 */
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bsd/string.h>
#include <jansson.h>

#include "backup.h"
#include "buf.h"
#include "cfg.h"
#include "counters.h"
#include "campaign_cli.h"
#include "hooks_cli.h"
#include "db.h"
#include "doctor.h"
#include "import.h"
#include "chat.h"
#include "client.h"
#include "customer.h"
#include "log.h"
#include "notify.h"
#include "numbers.h"
#include "outbox.h"
#include "purge.h"
#include "sig.h"
#include "templates.h"
#include "users.h"

#define SEND_MAX	(64 * 1024)	/* a send request, as msg.c allows */

/* 1 for wactl --help (or help): the usage on stdout, exit 0. */
static int	help_asked;

static void
usage(void)
{
	(void)fprintf(help_asked ? stdout : stderr, "usage: wactl migrate | send ... | version\n"
	    "  migrate  create or upgrade $WA_STATE_DIR/wa.db to the schema "
	    "this build knows\n"
	    "  send --to NUMBER --text TEXT [--reply-to WAMID] [--key KEY] "
	    "[--from NUMBER]\n"
	    "  send [--key KEY] [--from NUMBER] < request.json\n"
	    "           queue a message (any kind, as the management API "
	    "takes it);\n"
	    "           prints the outbox id, or why it was refused\n"
	    "  flows check FILE\n"
	    "           check a chatbot flow file; every problem with its "
	    "path\n"
	    "  chat --from NUMBER [--name NAME] [--to PNID]\n"
	    "           be a customer in the terminal, against make run's "
	    "sandbox\n"
	    "  apikey create NAME [--read-only] [--number ID|LABEL ...] | list "
	    "| revoke NAME\n"
	    "           keys for the management API, limited to numbers or "
	    "not; create prints the key once\n"
	    "  user add NAME --role admin|agent|viewer [--display-name S] "
	    "[--email E]\n"
	    "           [--number ID|LABEL ...] [--password-stdin] | list | "
	    "passwd NAME\n"
	    "           [--password-stdin] | disable|enable|remove NAME\n"
	    "           people who sign in to the inbox; add and passwd "
	    "print a new password once\n"
	    "  numbers add ID [--waba ID] [--label L] [--token-env VAR] "
	    "[--flow FILE] [--rate N]\n"
	    "  numbers list | show ID|LABEL | edit ID|LABEL ... | remove "
	    "ID|LABEL\n"
	    "           the business numbers served; add checks one with "
	    "the Graph API\n"
	    "  hooks add URL --events LIST [--number ID|LABEL] "
	    "[--secret-env VAR] | list\n"
	    "  hooks remove ID | deliveries ID [--state S]\n"
	    "           event webhooks; add prints the signing secret "
	    "once\n"
	    "  campaign create NAME --number ID|LABEL --template NAME "
	    "--language CODE ... | list\n"
	    "  campaign show|pause|resume|cancel|report NAME | recipients "
	    "NAME [--state S]\n"
	    "           template campaigns (wactl campaign --help)\n"
	    "  templates sync [--number ID|LABEL] [--waba ID] | list "
	    "[--number ID|LABEL]\n"
	    "  purge [--dry-run]\n"
	    "           remove what is past WA_RETAIN_*; --dry-run only "
	    "says what would go\n"
	    "  backup FILE | backup --rotate [DIR]\n"
	    "           a consistent copy while the gateway runs, checked "
	    "with integrity_check;\n"
	    "           --rotate: DIR/wa-YYYY-MM-DD.db (DIR: WA_BACKUP_DIR), "
	    "keeps 7 daily, 4 weekly\n"
	    "  release WA_ID\n"
	    "           hand a conversation back from a person or agent to "
	    "the bot\n"
	    "  messages [--phone P] [--conversation N] [--search WORDS] "
	    "[--direction in|out] [--limit N] [--json]\n"
	    "  conversations [--unread] [--limit N] [--json]\n"
	    "           read through the management API (WA_URL, "
	    "WA_API_KEY); send uses it too when set\n"
	    "  import orders|schedule FILE.csv\n"
	    "           load the business data the chatbot looks up "
	    "(all or nothing)\n"
	    "  version  print the gateway, schema and SQLite versions\n"
	    "  doctor   check this install: one OK|WARN|FAIL line per check; "
	    "exit 0, 1 or 2\n");
	exit(help_asked ? 0 : 2);
}

static int
migrate(void)
{
	struct cfg	 cfg;
	struct db	*d;
	char		 err[512];
	int		 from, to, rc;

	if (cfg_load(&cfg, 0, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		return 1;
	}
	if (mkdir(cfg.state_dir, 0750) == -1 && errno != EEXIST) {
		log_warn("mkdir %s", cfg.state_dir);
		cfg_clear(&cfg);
		return 1;
	}
	if ((d = db_open(cfg.db_path, DB_ROLE_ADMIN, cfg.sync_full,
	    cfg.busy_timeout_ms)) == NULL) {
		/* As wa-fcgi and wa-worker say it: the file, after the why. */
		log_warnx("cannot open the database %s", cfg.db_path);
		cfg_clear(&cfg);
		return 1;
	}
	rc = db_migrate(d, &from, &to);
	if (rc == 0 && from == to)
		(void)printf("schema is at version %d, nothing to do\n", to);
	else if (rc == 0)
		(void)printf("schema migrated from version %d to %d\n", from,
		    to);
	db_close(d);
	/* Existing installs keep their number as the first entry. */
	if (rc == 0 && numbers_seed(&cfg) == -1)
		rc = -1;
	cfg_clear(&cfg);
	return rc == 0 ? 0 : 1;
}

/* Reads standard input whole, up to SEND_MAX bytes.  0 or -1. */
static int
read_stdin(struct buf *b)
{
	char	 chunk[4096];
	size_t	 n;

	while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0) {
		if (b->len + n > SEND_MAX) {
			log_warnx("the request is larger than %d bytes",
			    SEND_MAX);
			return -1;
		}
		if (buf_append(b, chunk, n) == -1)
			return -1;
	}
	if (ferror(stdin)) {
		log_warn("reading standard input");
		return -1;
	}
	return 0;
}

/* The request for --to/--text/--reply-to, as compact JSON in b. */
static int
text_request(struct buf *b, const char *to, const char *text,
    const char *reply_to)
{
	json_t	*o;
	char	*s = NULL;
	int	 rc = -1;

	o = json_pack("{s:s, s:s, s:{s:s}}", "to", to, "type", "text", "text",
	    "body", text);
	if (o != NULL && reply_to != NULL &&
	    json_object_set_new(o, "context", json_pack("{s:s}",
	    "message_id", reply_to)) == -1)
		goto done;
	if (o != NULL && (s = json_dumps(o, JSON_COMPACT)) != NULL)
		rc = buf_puts(b, s);
done:
	if (rc == -1)
		log_warnx("--to and --text must be valid UTF-8");
	free(s);
	json_decref(o);
	return rc;
}


static const char *const outbox_rc_names[OUTBOX__MAX] = {
	"queued",		/* OUTBOX_OK */
	"invalid",		/* OUTBOX_INVALID */
	"window_closed",	/* OUTBOX_WINDOW_CLOSED */
	"opted_out",		/* OUTBOX_OPTED_OUT */
	"tier_limit",		/* OUTBOX_TIER_LIMIT */
	"unavailable",		/* OUTBOX_BUSY */
	"error",		/* OUTBOX_ERROR */
};

/*
 * wactl send: exit 0 and the outbox id on standard output; exit 1 and
 * "refused: CODE: FIELD: sentence" on standard error otherwise.
 */
static int
send_cmd(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "to", required_argument, NULL, 't' },
		{ "text", required_argument, NULL, 'x' },
		{ "reply-to", required_argument, NULL, 'r' },
		{ "key", required_argument, NULL, 'k' },
		{ "from", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	struct db_number	 num;
	struct cfg		 cfg;
	struct db		*d = NULL;
	struct buf		 req;
	struct outbox_req	 r;
	struct msg_err		 err;
	enum outbox_rc		 rc;
	const char		*to = NULL, *text = NULL, *reply = NULL;
	const char		*key = NULL, *from = NULL;
	char			 cerr[512];
	int64_t			 id = 0;
	int			 ch, repeated, fd, status = 1;

	buf_init(&req);
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 't': to = optarg; break;
		case 'x': text = optarg; break;
		case 'r': reply = optarg; break;
		case 'k': key = optarg; break;
		case 'f': from = optarg; break;
		default: usage();
		}
	}
	if (optind != argc || (to == NULL) != (text == NULL) ||
	    (reply != NULL && text == NULL))
		usage();
	/* With WA_URL and WA_API_KEY, through the management API. */
	if (client_configured()) {
		if ((text != NULL ? text_request(&req, to, text, reply) :
		    read_stdin(&req)) == -1) {
			buf_clear(&req);
			return 1;
		}
		status = client_send(req.p != NULL ? req.p : "", key, from);
		buf_clear(&req);
		return status;
	}
	if (cfg_load(&cfg, CFG_NEED_WORKER, cerr, sizeof(cerr)) == -1) {
		log_warnx("%s", cerr);
		return 1;
	}
	if ((text != NULL ? text_request(&req, to, text, reply) :
	    read_stdin(&req)) == -1)
		goto done;
	if ((d = db_open_current(&cfg)) == NULL)
		goto done;
	(void)counters_open(cfg.counters_path);	/* metrics only */
	memset(&r, 0, sizeof(r));
	r.json = req.p != NULL ? req.p : "";
	r.len = req.len;
	r.flags = MSG_ALLOW_FILE;
	r.pnid = cfg.phone_number_id;
	/* --from: an active number of the numbers table, by id or label. */
	if (from != NULL) {
		if ((ch = db_number_get(d, from, &num)) == -1)
			goto done;
		if (ch == 0 || num.removed_at != 0) {
			(void)fprintf(stderr, "refused: unknown_number: from: no "
			    "active business number %s (wactl numbers list)\n",
			    from);
			goto done;
		}
		r.pnid = num.pnid;
	}
	r.source = "wactl";
	r.idem_key = key;
	r.tier_limit = cfg.tier_limit;
	rc = outbox_queue(d, &r, &id, &repeated, &err);
	if (rc != OUTBOX_OK) {
		(void)fprintf(stderr, "refused: %s: %s%s%s\n", err.code[0] ?
		    err.code : outbox_rc_names[rc], err.field,
		    err.field[0] ? ": " : "", err.message);
		goto done;
	}
	/* Wake the worker: it sends within milliseconds. */
	if ((fd = notify_open_sender()) != -1) {
		notify_send(fd, cfg.wake_path);
		(void)close(fd);
	}
	(void)printf("%lld\n", (long long)id);
	if (repeated)
		(void)fprintf(stderr, "already queued under this key\n");
	status = 0;
done:
	db_close(d);
	buf_clear(&req);
	cfg_clear(&cfg);
	return status;
}

static int
import_cmd(const char *what, const char *file)
{
	struct cfg	 cfg;
	struct db	*d;
	char		 err[512];
	int		 rc = 1;

	if (cfg_load(&cfg, CFG_NEED_WORKER, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		return 1;
	}
	if ((d = db_open_current(&cfg)) != NULL &&
	    import_csv(d, cfg.phone_number_id, what, file) == 0)
		rc = 0;
	db_close(d);
	cfg_clear(&cfg);
	return rc;
}

static void
on_key(void *arg, const char *const *col)
{
	(void)arg;
	(void)printf("%-24s %-10s %-10s created %s  last used %s%s%s  "
	    "numbers %s\n", col[0], col[1], col[2][0] == '1' ? "read-only" :
	    "read-write", col[3], col[4][0] ? col[4] : "never", col[5][0] ?
	    "  REVOKED " : "", col[5], col[6][0] ? col[6] : "all");
}

#define APIKEY_NUMBERS_MAX	64

/*
 * wactl apikey create NAME [--read-only] [--number ID|LABEL ...] | list |
 * revoke NAME.  A new key is printed once, alone on the last line; only
 * its SHA-256 is kept.  --number limits the key to those numbers of the
 * numbers table (the API then shows it nothing of the others); without
 * it the key sees every number.
 */
static int
apikey_cmd(int argc, char *argv[])
{
	struct cfg	 cfg;
	struct db	*d = NULL;
	struct db_number num;
	char		 err[512], hex[41], key[48], sha[65], prefix[9];
	char		 ids[APIKEY_NUMBERS_MAX][sizeof(num.pnid)];
	const char	*pnids[APIKEY_NUMBERS_MAX], *want[APIKEY_NUMBERS_MAX];
	size_t		 n = 0, i;
	int		 rc = 1, ro = 0, k, a;

	if (argc < 2 || (strcmp(argv[1], "list") == 0 && argc != 2) ||
	    (strcmp(argv[1], "revoke") == 0 && argc != 3) ||
	    (strcmp(argv[1], "create") == 0 && argc < 3))
		usage();
	if (strcmp(argv[1], "create") == 0)
		for (a = 3; a < argc; a++) {
			if (strcmp(argv[a], "--read-only") == 0 && !ro)
				ro = 1;
			else if (strcmp(argv[a], "--number") == 0 &&
			    a + 1 < argc && n < APIKEY_NUMBERS_MAX)
				want[n++] = argv[++a];
			else
				usage();
		}
	if (cfg_load(&cfg, 0, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		return 1;
	}
	if ((d = db_open_current(&cfg)) == NULL)
		goto done;
	if (strcmp(argv[1], "list") == 0)
		rc = db_apikey_list(d, on_key, NULL) == -1;
	else if (strcmp(argv[1], "revoke") == 0) {
		if ((k = db_apikey_revoke(d, argv[2], (int64_t)time(NULL))) ==
		    1) {
			(void)printf("revoked %s\n", argv[2]);
			rc = 0;
		} else if (k == 0)
			log_warnx("no live key named %s", argv[2]);
	} else if (strcmp(argv[1], "create") == 0) {
		if (strlen(argv[2]) == 0 || strlen(argv[2]) > 64) {
			log_warnx("a key's name is 1 to 64 characters");
			goto done;
		}
		for (i = 0; i < n; i++) {
			if ((k = db_number_get(d, want[i], &num)) == -1)
				goto done;
			if (k == 0) {
				log_warnx("no business number %s: give the "
				    "phone_number_id or label of one that "
				    "wactl numbers list shows (wactl numbers "
				    "add to add it)", want[i]);
				goto done;
			}
			(void)strlcpy(ids[i], num.pnid, sizeof(ids[i]));
			pnids[i] = ids[i];
		}
		if (sig_random_hex(hex, 20) == -1 ||
		    snprintf(key, sizeof(key), "wa_%s", hex) >= (int)sizeof(key) ||
		    sig_sha256_hex(key, strlen(key), sha) == -1)
			goto done;
		(void)strlcpy(prefix, key, sizeof(prefix));
		switch (db_apikey_create(d, argv[2], sha, prefix, ro,
		    (int64_t)time(NULL), pnids, n)) {
		case DB_OK:
			(void)printf("API key %s (%s, %s) created; it is shown "
			    "only now:\n%s\n", argv[2], ro ? "read-only" :
			    "read-write", n > 0 ? "limited to its numbers" :
			    "every number", key);
			rc = 0;
			break;
		case DB_DUP:
			log_warnx("a key named %s exists already", argv[2]);
			break;
		default:
			break;
		}
		explicit_bzero(key, sizeof(key));
		explicit_bzero(hex, sizeof(hex));
	} else
		usage();
done:
	db_close(d);
	cfg_clear(&cfg);
	return rc;
}

/* wactl purge [--dry-run] */
static int
purge_cmd(int dry)
{
	struct cfg	 cfg;
	struct db	*d;
	char		 err[512];
	int64_t		 n[3];
	int		 rc = 1;

	if (cfg_load(&cfg, 0, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		return 1;
	}
	if ((d = db_open_current(&cfg)) != NULL &&
	    purge_run(d, &cfg, dry, n) == 0) {
		(void)printf("%s %lld journal bodies (older than %ld days), "
		    "%lld messages (%ld days), %lld media files (%ld days); "
		    "0 days means kept forever\n", dry ? "would remove" :
		    "removed", (long long)n[0], cfg.retain_journal_days,
		    (long long)n[1], cfg.retain_messages_days, (long long)n[2],
		    cfg.retain_media_days);
		rc = 0;
	}
	db_close(d);
	cfg_clear(&cfg);
	return rc;
}

/* wactl release WA_ID: the bot answers this customer again. */
static int
release_cmd(const char *wa_id)
{
	struct cfg	 cfg;
	struct db	*d;
	struct db_peer	 p;
	char		 err[512];
	int		 rc = 1;

	if (cfg_load(&cfg, CFG_NEED_WORKER, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		return 1;
	}
	if ((d = db_open_current(&cfg)) == NULL)
		goto done;
	if (db_peer_get(d, cfg.phone_number_id, wa_id, &p) == -1)
		goto done;
	if (p.contact_id == 0) {
		log_warnx("no conversation with %s", wa_id);
		goto done;
	}
	if (db_begin(d) != DB_OK)
		goto done;
	if (db_conv_assign(d, cfg.phone_number_id, p.contact_id, "bot", 0) ==
	    -1 || db_commit(d) == -1) {
		db_rollback(d);
		goto done;
	}
	(void)printf("%s: the bot answers again\n", wa_id);
	rc = 0;
done:
	db_close(d);
	cfg_clear(&cfg);
	return rc;
}

int
main(int argc, char *argv[])
{
	log_init("wactl");
	/*
	 * What wactl creates (the database at migrate, its -wal and -shm,
	 * backups) holds messages and key hashes: owner only.
	 */
	(void)umask(077);
	if (argc < 2)
		usage();
	if (argc == 2 && (help_asked = strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0))
		usage();
	if (strcmp(argv[1], "migrate") == 0 && argc == 2)
		return migrate();
	if (strcmp(argv[1], "send") == 0)
		return send_cmd(argc - 1, argv + 1);
	if (strcmp(argv[1], "import") == 0 && argc == 4)
		return import_cmd(argv[2], argv[3]);
	if (strcmp(argv[1], "flows") == 0 && argc == 4 &&
	    strcmp(argv[2], "check") == 0)
		return chat_check_file(argv[3]);
	if (strcmp(argv[1], "chat") == 0)
		return customer_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "release") == 0 && argc == 3)
		return release_cmd(argv[2]);
	if (strcmp(argv[1], "apikey") == 0)
		return apikey_cmd(argc - 1, argv + 1);
	if (strcmp(argv[1], "numbers") == 0)
		return numbers_cmd(argc - 1, argv + 1);
	if (strcmp(argv[1], "user") == 0)
		return users_cmd(argc - 1, argv + 1);
	if (strcmp(argv[1], "campaign") == 0)	/* issue 16 */
		return campaign_cli_cmd(argc - 1, argv + 1);
	if (strcmp(argv[1], "hooks") == 0)	/* issue 16 */
		return hooks_cli_cmd(argc - 1, argv + 1);
	if (strcmp(argv[1], "templates") == 0)
		return templates_cmd(argc - 1, argv + 1);
	if (strcmp(argv[1], "messages") == 0 || strcmp(argv[1],
	    "conversations") == 0) {
		if (!client_configured()) {
			log_warnx("set WA_URL (e.g. https://wa.example.com) and "
			    "WA_API_KEY (wactl apikey create NAME)");
			return 1;
		}
		return argv[1][0] == 'm' ? client_messages(argc - 1, argv + 1) :
		    client_conversations(argc - 1, argv + 1);
	}
	if (strcmp(argv[1], "backup") == 0)
		return backup_cmd(argc - 1, argv + 1);
	if (strcmp(argv[1], "purge") == 0 && (argc == 2 || (argc == 3 &&
	    strcmp(argv[2], "--dry-run") == 0)))
		return purge_cmd(argc == 3);
	if (strcmp(argv[1], "doctor") == 0 && argc == 2)
		return doctor_run();
	if (strcmp(argv[1], "version") == 0 && argc == 2) {
		(void)printf("wa-gateway %s, schema %d, SQLite %s\n", WA_VERSION,
		    db_schema_known(), db_sqlite_version());
		return 0;
	}
	usage();
	return 2;
}
