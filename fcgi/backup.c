/*
 * backup.c: `wactl backup FILE` and `wactl backup --rotate [DIR]`.
 *
 * Both take a consistent copy of the database while the gateway runs
 * (db_backup(): SQLite's online backup, checked with integrity_check,
 * renamed into place only then, so FILE is always a whole copy), mode
 * 0600 whatever the umask: it holds every message.
 *
 * --rotate is what wa-backup.timer runs once a day: the copy goes to
 * DIR/wa-YYYY-MM-DD.db (the UTC day; a second run that day replaces it
 * atomically), DIR (default WA_BACKUP_DIR) is made 0700 when missing,
 * and then rotate_keep() decides which of DIR's wa-YYYY-MM-DD.db files
 * stay: the 7 newest and the newest of each of the 4 newest older weeks.
 * No other file in DIR is touched, and nothing is deleted unless today's
 * copy was written.  It prints the path and logs
 *   event=backup_done path=P bytes=N seconds=S
 * (the stable form wactl doctor and alerting read).
 *
 * A copy needs no statement, so it is taken of a database at any schema
 * version up to the one this build knows: deploy/upgrade.sh backs up the
 * old release's database with the new wactl before it migrates.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backup.h"
#include "cfg.h"
#include "db.h"
#include "log.h"
#include "rotate.h"

#define BACKUP_FILES_MAX	10000	/* wa-*.db files one run looks at */

/*
 * Opens cfg's database for a copy: it must exist (a backup never creates
 * an empty one) and be at a schema version this build knows or an older
 * one.  The handle, or NULL with the reason logged.
 */
static struct db *
open_for_copy(const struct cfg *cfg)
{
	struct stat	 st;
	struct db	*d;
	int		 v;

	if (stat(cfg->db_path, &st) == -1) {
		log_warn("no database to back up at %s", cfg->db_path);
		return NULL;
	}
	if ((d = db_open(cfg->db_path, DB_ROLE_ADMIN, cfg->sync_full,
	    cfg->busy_timeout_ms)) == NULL) {
		log_warnx("cannot open the database %s", cfg->db_path);
		return NULL;
	}
	if (db_user_version(d, &v) == -1 || v < 1 || v > db_schema_known()) {
		log_warnx("%s is at schema version %d, which this wactl (schema "
		    "%d) cannot vouch for: back it up with the wactl of its "
		    "release", cfg->db_path, v, db_schema_known());
		db_close(d);
		return NULL;
	}
	return d;
}

/* Copies the database to path, mode 0600.  0 or -1, logged. */
static int
copy_to(const struct cfg *cfg, const char *path)
{
	struct db	*d;
	int		 rc = -1;

	/* The copy holds every message: owner only, whatever the umask. */
	(void)umask(077);
	if ((d = open_for_copy(cfg)) == NULL)
		return -1;
	if (db_backup(d, path) == 0) {
		if (chmod(path, 0600) == -1)
			log_warn("chmod 0600 %s", path);
		else
			rc = 0;
	}
	db_close(d);
	return rc;
}

/*
 * Deletes the wa-YYYY-MM-DD.db files of dir that rotate_keep() lets go.
 * 0, or -1 (logged) when dir cannot be read or a file not deleted.
 */
static int
prune(const char *dir)
{
	DIR		*dp;
	struct dirent	*e;
	long		*days = NULL, day;
	int		*keep = NULL, fd, rc = -1;
	size_t		 n = 0, cap = 0, i;
	char		 name[ROTATE_NAME_MAX];

	if ((dp = opendir(dir)) == NULL) {
		log_warn("%s: opendir %s", __func__, dir);
		return -1;
	}
	while ((errno = 0, e = readdir(dp)) != NULL) {
		if (!rotate_name_parse(e->d_name, &day))
			continue;
		if (n == cap) {
			long *p;

			if (cap >= BACKUP_FILES_MAX) {
				log_warnx("%s: more than %d backups in %s; "
				    "deleting none", __func__,
				    BACKUP_FILES_MAX, dir);
				goto done;
			}
			cap = cap ? cap * 2 : 64;
			if ((p = reallocarray(days, cap, sizeof(*p))) == NULL) {
				log_warn("%s: reallocarray", __func__);
				goto done;
			}
			days = p;
		}
		days[n++] = day;
	}
	if (errno != 0) {
		log_warn("%s: readdir %s", __func__, dir);
		goto done;
	}
	if (n == 0) {
		rc = 0;
		goto done;
	}
	if ((keep = reallocarray(NULL, n, sizeof(*keep))) == NULL) {
		log_warn("%s: reallocarray", __func__);
		goto done;
	}
	if (rotate_keep(days, n, keep) == -1) {
		log_warnx("%s: out of memory", __func__);
		goto done;
	}
	fd = dirfd(dp);
	rc = 0;
	for (i = 0; i < n; i++) {
		if (keep[i])
			continue;
		if (rotate_name(days[i], name, sizeof(name)) == -1 ||
		    unlinkat(fd, name, 0) == -1) {
			log_warn("%s: cannot delete %s/%s", __func__, dir, name);
			rc = -1;
		} else
			log_info("removed the old backup %s/%s", dir, name);
	}
done:
	free(keep);
	free(days);
	(void)closedir(dp);
	return rc;
}

/* wactl backup --rotate [DIR]: see the top of the file.  The exit status. */
static int
rotate_cmd(const struct cfg *cfg, const char *dir)
{
	struct timespec	 t0, t1;
	struct stat	 st;
	char		 name[ROTATE_NAME_MAX], path[4200], epath[600];
	const char	*q;
	time_t		 now = time(NULL);

	if (clock_gettime(CLOCK_MONOTONIC, &t0) == -1) {
		log_warn("clock_gettime");
		return 1;
	}
	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		log_warn("cannot make the backup directory %s", dir);
		return 1;
	}
	if (rotate_name((long)(now / 86400), name, sizeof(name)) == -1 ||
	    snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    (int)sizeof(path)) {
		log_warnx("WA_BACKUP_DIR %s is too long", dir);
		return 1;
	}
	if (copy_to(cfg, path) == -1 || stat(path, &st) == -1) {
		log_warnx("no backup written to %s; no old backup deleted", dir);
		return 1;
	}
	if (clock_gettime(CLOCK_MONOTONIC, &t1) == -1) {
		log_warn("clock_gettime");
		return 1;
	}
	/*
	 * The copy is in place: the line says so even if pruning fails.
	 * The path is the operator's, escaped all the same, and quoted
	 * when it holds a space (log_event()'s rule for a value).
	 */
	(void)log_escape(epath, sizeof(epath), path, strlen(path));
	q = strchr(epath, ' ') != NULL ? "\"" : "";
	log_event("backup_done", "path=%s%s%s bytes=%lld seconds=%.3f", q,
	    epath, q, (long long)st.st_size, (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	if (printf("%s\n", path) < 0 || fflush(stdout) == EOF)
		return 1;
	return prune(dir) == 0 ? 0 : 1;
}

/*
 * wactl backup FILE | wactl backup --rotate [DIR].  The exit status: 0,
 * 1 when no copy was made (or an old one could not be deleted), 2 for a
 * usage error.
 */
int
backup_cmd(int argc, char *argv[])
{
	struct cfg	 cfg;
	char		 err[512];
	int		 rc = 1, rotate;

	rotate = argc >= 2 && strcmp(argv[1], "--rotate") == 0;
	if (!(rotate && (argc == 2 || argc == 3)) && !(!rotate && argc == 2 &&
	    argv[1][0] != '-' && argv[1][0] != '\0')) {
		(void)fprintf(stderr, "usage: wactl backup FILE | wactl backup "
		    "--rotate [DIR]\n");
		return 2;
	}
	if (cfg_load(&cfg, 0, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		return 1;
	}
	if (rotate)
		rc = rotate_cmd(&cfg, argc == 3 ? argv[2] : cfg.backup_dir);
	else if (copy_to(&cfg, argv[1]) == 0) {
		(void)printf("backed up %s to %s (integrity_check ok, mode "
		    "0600)\n", cfg.db_path, argv[1]);
		rc = 0;
	}
	cfg_clear(&cfg);
	return rc;
}
