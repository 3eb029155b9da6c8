/*
 * users.c: `wactl user add|list|passwd|disable|enable|remove`, the people
 * who sign in to the inbox.  A password is never taken from the command
 * line (it would sit in the shell's history and in ps): add and passwd
 * generate one and print it once, on the last line, or read one from
 * standard input with --password-stdin.  Only its scrypt hash is kept
 * (pw.c).  passwd, disable and remove end the user's sessions at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bsd/string.h>
#include <jansson.h>

#include "cfg.h"
#include "db.h"
#include "log.h"
#include "pw.h"
#include "users.h"

#define USER_NUMBERS_MAX	64
#define GEN_BYTES		18	/* 24 base64url characters */

static void
usage(void)
{
	(void)fprintf(stderr, "usage: wactl user add NAME --role "
	    "admin|agent|viewer [--display-name S] [--email E]\n"
	    "           [--number ID|LABEL ...] [--password-stdin]\n"
	    "       wactl user list\n"
	    "       wactl user passwd NAME [--password-stdin]\n"
	    "       wactl user disable|enable|remove NAME\n");
	exit(2);
}

/*
 * The password: one line of standard input (--password-stdin; its line
 * end dropped), else a generated one (*generated set).  Into out
 * (outsz bytes).  0, or -1 with the reason said.
 */
static int
get_password(int from_stdin, char *out, size_t outsz, int *generated)
{
	size_t	 n;

	*generated = 0;
	if (!from_stdin) {
		if (pw_random(GEN_BYTES, out, outsz) == -1) {
			log_warnx("no randomness for a password");
			return -1;
		}
		*generated = 1;
		return 0;
	}
	if (fgets(out, (int)outsz, stdin) == NULL) {
		log_warnx("--password-stdin: nothing on standard input");
		return -1;
	}
	n = strlen(out);
	if (n > 0 && out[n - 1] != '\n' && !feof(stdin)) {
		log_warnx("--password-stdin: a password is at most %d bytes",
		    PW_MAX_LEN);
		return -1;
	}
	if (n > 0 && out[n - 1] == '\n')
		out[--n] = '\0';
	if (n > 0 && out[n - 1] == '\r')
		out[--n] = '\0';
	if (n < PW_MIN_LEN) {
		log_warnx("a password is at least %d characters; this one has "
		    "%zu", PW_MIN_LEN, n);
		return -1;
	}
	return 0;
}

/* The user called name, or -1 with "no user NAME" said. */
static int
find(struct db *d, const char *name, struct db_user *u)
{
	int rc = db_user_get(d, 0, name, u);

	if (rc == 0)
		log_warnx("no user %s (wactl user list)", name);
	return rc == 1 ? 0 : -1;
}

/* One row of `wactl user list`. */
static void
on_user(void *arg, int nc, const char *const *names, const struct db_val *v)
{
	const char	*nums = db_val_text(nc, names, v, "numbers");
	json_t		*a = nums != NULL ? json_loads(nums, 0, NULL) : NULL, *x;
	char		 list[256] = "", when[32] = "never";
	int64_t		 last = db_val_int(nc, names, v, "last_login_at");
	time_t		 t = (time_t)last;
	struct tm	 tm;
	size_t		 i;

	(void)arg;
	json_array_foreach(a, i, x) {
		(void)strlcat(list, i ? "," : "", sizeof(list));
		(void)strlcat(list, json_string_value(x), sizeof(list));
	}
	json_decref(a);
	if (last > 0 && gmtime_r(&t, &tm) != NULL &&
	    strftime(when, sizeof(when), "%Y-%m-%dT%H:%MZ", &tm) == 0)
		(void)strlcpy(when, "?", sizeof(when));
	(void)printf("%-5lld %-20s %-7s %-20s %-28s %-20s %-8s %s\n",
	    (long long)db_val_int(nc, names, v, "id"),
	    db_val_text(nc, names, v, "name"),
	    db_val_text(nc, names, v, "role"),
	    db_val_text(nc, names, v, "display_name") ? db_val_text(nc, names, v,
	    "display_name") : "-",
	    db_val_text(nc, names, v, "email") ? db_val_text(nc, names, v,
	    "email") : "-",
	    list[0] ? list : "all",
	    db_val_int(nc, names, v, "disabled") ? "yes" : "no", when);
}

/* wactl user add NAME --role R [...]: 0 or 1. */
static int
add_cmd(struct db *d, int argc, char *argv[])
{
	struct db_user	 u;
	struct db_number num;
	char		 pw[PW_MAX_LEN + 2];
	char		 ids[USER_NUMBERS_MAX][sizeof(num.pnid)];
	const char	*pnids[USER_NUMBERS_MAX], *want[USER_NUMBERS_MAX];
	const char	*role = NULL, *display = NULL, *email = NULL;
	size_t		 n = 0, i;
	int64_t		 id;
	int		 a, from_stdin = 0, gen, k, rc = 1;

	for (a = 3; a < argc; a++) {
		if (strcmp(argv[a], "--role") == 0 && a + 1 < argc)
			role = argv[++a];
		else if (strcmp(argv[a], "--display-name") == 0 && a + 1 < argc)
			display = argv[++a];
		else if (strcmp(argv[a], "--email") == 0 && a + 1 < argc)
			email = argv[++a];
		else if (strcmp(argv[a], "--number") == 0 && a + 1 < argc &&
		    n < USER_NUMBERS_MAX)
			want[n++] = argv[++a];
		else if (strcmp(argv[a], "--password-stdin") == 0)
			from_stdin = 1;
		else
			usage();
	}
	memset(&u, 0, sizeof(u));
	if (!pw_name_ok(argv[2])) {
		log_warnx("a user name is 1 to 64 of a-z, 0-9, '.', '_' and "
		    "'-': %.64s", argv[2]);
		return 1;
	}
	if (role == NULL || !pw_role_ok(role)) {
		log_warnx("--role is admin, agent or viewer%s%.16s",
		    role != NULL ? ", not " : "", role != NULL ? role : "");
		return 1;
	}
	if (display != NULL && !pw_display_ok(display)) {
		log_warnx("--display-name is 1 to 128 characters, no control "
		    "characters");
		return 1;
	}
	if (email != NULL && !pw_email_ok(email)) {
		log_warnx("--email must look like name@example.com");
		return 1;
	}
	for (i = 0; i < n; i++) {
		if ((k = db_number_get(d, want[i], &num)) == -1)
			return 1;
		if (k == 0) {
			log_warnx("no business number %s: give the "
			    "phone_number_id or label of one that wactl "
			    "numbers list shows", want[i]);
			return 1;
		}
		(void)strlcpy(ids[i], num.pnid, sizeof(ids[i]));
		pnids[i] = ids[i];
	}
	(void)strlcpy(u.name, argv[2], sizeof(u.name));
	(void)strlcpy(u.role, role, sizeof(u.role));
	(void)strlcpy(u.display_name, display ? display : "",
	    sizeof(u.display_name));
	(void)strlcpy(u.email, email ? email : "", sizeof(u.email));
	if (get_password(from_stdin, pw, sizeof(pw), &gen) == -1)
		goto done;
	if (pw_hash(pw, strlen(pw), pw_cost(), u.hash, sizeof(u.hash)) == -1) {
		log_warnx("the password could not be hashed");
		goto done;
	}
	switch (db_user_create(d, &u, (int64_t)time(NULL), pnids, n, &id)) {
	case DB_USER_OK:
		if (gen)
			(void)printf("user %s (%s, id %lld) added; the "
			    "password is shown only now:\n%s\n", u.name, role,
			    (long long)id, pw);
		else
			(void)printf("user %s (%s, id %lld) added\n", u.name,
			    role, (long long)id);
		rc = 0;
		break;
	case DB_USER_DUP:
		log_warnx("a user named %s exists already", u.name);
		break;
	default:
		break;
	}
done:
	explicit_bzero(pw, sizeof(pw));
	return rc;
}

/* wactl user passwd NAME [--password-stdin]: 0 or 1. */
static int
passwd_cmd(struct db *d, int argc, char *argv[])
{
	struct db_user		 u;
	struct db_user_patch	 p;
	char			 pw[PW_MAX_LEN + 2];
	int			 gen, rc = 1;

	if (argc > 4 || (argc == 4 && strcmp(argv[3], "--password-stdin") != 0))
		usage();
	if (find(d, argv[2], &u) == -1)
		return 1;
	memset(&p, 0, sizeof(p));
	p.disable = -1;
	if (get_password(argc == 4, pw, sizeof(pw), &gen) == -1)
		goto done;
	if (pw_hash(pw, strlen(pw), pw_cost(), u.hash, sizeof(u.hash)) == -1) {
		log_warnx("the password could not be hashed");
		goto done;
	}
	p.hash = u.hash;
	if (db_user_update(d, u.id, &p, (int64_t)time(NULL)) != DB_USER_OK)
		goto done;
	if (gen)
		(void)printf("password of %s changed, their sessions ended; "
		    "the new one is shown only now:\n%s\n", u.name, pw);
	else
		(void)printf("password of %s changed, their sessions ended\n",
		    u.name);
	rc = 0;
done:
	explicit_bzero(pw, sizeof(pw));
	explicit_bzero(u.hash, sizeof(u.hash));
	return rc;
}

/* wactl user disable|enable|remove NAME: 0 or 1. */
static int
state_cmd(struct db *d, const char *what, const char *name)
{
	struct db_user		 u;
	struct db_user_patch	 p;
	enum db_user_rc		 rc;

	if (find(d, name, &u) == -1)
		return 1;
	memset(&p, 0, sizeof(p));
	p.disable = strcmp(what, "disable") == 0;
	rc = strcmp(what, "remove") == 0 ? db_user_remove(d, u.id) :
	    db_user_update(d, u.id, &p, (int64_t)time(NULL));
	if (rc == DB_USER_LAST_ADMIN) {
		log_warnx("%s is the last admin who can sign in: add or "
		    "enable another admin first", name);
		return 1;
	}
	if (rc != DB_USER_OK)
		return 1;
	if (strcmp(what, "remove") == 0)
		(void)printf("removed %s; their notes and activity keep the "
		    "name\n", name);
	else if (p.disable)
		(void)printf("disabled %s; their sessions ended\n", name);
	else
		(void)printf("enabled %s\n", name);
	return 0;
}

/* wactl user ...: argv[0] is "user". */
int
users_cmd(int argc, char *argv[])
{
	struct cfg	 cfg;
	struct db	*d = NULL;
	char		 err[512];
	int		 rc = 1;

	if (argc < 2)
		usage();
	if (strcmp(argv[1], "list") == 0 ? argc != 2 :
	    strcmp(argv[1], "add") == 0 || strcmp(argv[1], "passwd") == 0 ?
	    argc < 3 : (strcmp(argv[1], "disable") == 0 || strcmp(argv[1],
	    "enable") == 0 || strcmp(argv[1], "remove") == 0) ? argc != 3 : 1)
		usage();
	if (cfg_load(&cfg, 0, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		return 1;
	}
	if ((d = db_open_current(&cfg)) == NULL)
		goto done;
	if (strcmp(argv[1], "list") == 0) {
		(void)printf("%-5s %-20s %-7s %-20s %-28s %-20s %-8s %s\n",
		    "ID", "NAME", "ROLE", "DISPLAY", "EMAIL", "NUMBERS",
		    "DISABLED", "LAST-LOGIN");
		rc = db_user_list(d, on_user, NULL) == -1;
	} else if (strcmp(argv[1], "add") == 0)
		rc = add_cmd(d, argc, argv);
	else if (strcmp(argv[1], "passwd") == 0)
		rc = passwd_cmd(d, argc, argv);
	else
		rc = state_cmd(d, argv[1], argv[2]);
done:
	db_close(d);
	cfg_clear(&cfg);
	return rc;
}
