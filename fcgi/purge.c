/*
 * purge.c: retention (WA_RETAIN_JOURNAL_DAYS, _MESSAGES_DAYS, _MEDIA_DAYS).
 * The worker runs it every minute; `wactl purge [--dry-run]` runs or
 * counts it by hand.  Small transactions, so webhooks never wait long.
 * WA_RETAIN_MESSAGES_DAYS covers every copy of a message's words and its
 * customer's number (statuses, outbox and agent bodies, webhook errors,
 * subscription events, journal bodies).  Media files no row names (a
 * download that finished after its contact was erased) are removed once
 * an hour has passed over them.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cfg.h"
#include "db.h"
#include "log.h"
#include "purge.h"

#define PURGE_ROWS	500	/* rows per transaction */
#define ORPHAN_AGE	3600	/* s: older files no row names are removed */

struct purged {
	const struct cfg	*cfg;
	int			 files;
};

static void
purge_file(void *arg, const char *rel)
{
	struct purged	*p = arg;
	char		 path[4400];

	if (strstr(rel, "..") != NULL || snprintf(path, sizeof(path), "%s/%s",
	    p->cfg->media_dir, rel) >= (int)sizeof(path))
		return;
	if (unlink(path) == 0)
		p->files++;
	else if (errno != ENOENT)
		log_warn("retention: unlink %s", path);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * Unlinks media files no row names and untouched for ORPHAN_AGE: a
 * download still running when its contact was erased (or its message
 * purged) lands after the rows are gone.  The worker writes a file and
 * names it within seconds, so an hour leaves in-flight ones alone.
 * Returns how many files went, or -1.
 */
static int
sweep_orphans(struct db *d, const struct cfg *cfg)
{
	struct buf	 paths;
	const char	**v = NULL, *key;
	DIR		*top = NULL, *sub;
	struct dirent	*a, *b;
	struct stat	 sb;
	char		 rel[600], path[4700];
	size_t		 n = 0, off, i;
	time_t		 old = time(NULL) - ORPHAN_AGE;
	int		 gone = 0, rc = -1;

	buf_init(&paths);
	if (db_media_paths(d, &paths) == -1)
		goto done;
	for (off = 0; off < paths.len; off += strlen(paths.p + off) + 1)
		n++;
	if (n > 0 && (v = reallocarray(NULL, n, sizeof(*v))) == NULL)
		goto done;
	for (off = 0, i = 0; off < paths.len; off += strlen(paths.p + off) + 1)
		v[i++] = paths.p + off;
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_str);
	if ((top = opendir(cfg->media_dir)) == NULL) {
		rc = errno == ENOENT ? 0 : -1;
		goto done;
	}
	while ((a = readdir(top)) != NULL) {
		if (a->d_name[0] == '.' || snprintf(path, sizeof(path),
		    "%s/%s", cfg->media_dir, a->d_name) >= (int)sizeof(path) ||
		    (sub = opendir(path)) == NULL)
			continue;
		while ((b = readdir(sub)) != NULL) {
			if (strcmp(b->d_name, ".") == 0 ||
			    strcmp(b->d_name, "..") == 0 ||
			    snprintf(rel, sizeof(rel), "%s/%s", a->d_name,
			    b->d_name) >= (int)sizeof(rel) ||
			    fstatat(dirfd(sub), b->d_name, &sb,
			    AT_SYMLINK_NOFOLLOW) == -1 || !S_ISREG(sb.st_mode) ||
			    sb.st_mtime > old)
				continue;
			key = rel;
			if (n > 0 && bsearch(&key, v, n, sizeof(*v), cmp_str))
				continue;
			if (unlinkat(dirfd(sub), b->d_name, 0) == 0)
				gone++;
			else
				log_warn("retention: unlink %s/%s",
				    cfg->media_dir, rel);
		}
		(void)closedir(sub);
	}
	rc = gone;
done:
	if (top != NULL)
		(void)closedir(top);
	free(v);
	buf_clear(&paths);
	return rc;
}

/*
 * Retention (WA_RETAIN_*): removes what is past its time in small
 * transactions, a few per call, so webhooks never wait behind it.
 * dry (wactl purge --dry-run) only counts.  Fills n[3]: journal bodies,
 * messages, media files.  Returns 0 or -1.
 */
int
purge_run(struct db *d, const struct cfg *cfg, int dry, int64_t n[3])
{
	static int64_t	 swept;	/* when orphans were last looked for */
	struct purged	 p = { cfg, 0 };
	const long	 days[3] = { cfg->retain_journal_days,
			    cfg->retain_messages_days, cfg->retain_media_days };
	int64_t		 now = (int64_t)time(NULL), cutoff, k, more = 0;
	int		 i, rounds, orphans = 0;

	for (i = 0; i < 3; i++) {
		n[i] = 0;
		if (days[i] == 0)
			continue;
		cutoff = now - (int64_t)days[i] * 86400;
		if (i != 1)
			cutoff *= 1000;	/* journal and media times are ms */
		for (rounds = 0; rounds < (dry ? 1 : 20); rounds++) {
			if ((k = db_purge(d, (enum db_purge)i, cutoff,
			    PURGE_ROWS, dry, purge_file, &p)) < 0)
				return -1;
			n[i] += k;
			if (dry || k < PURGE_ROWS)
				break;
		}
	}
	/* What else holds the purged messages' words or numbers. */
	for (i = DB_PURGE_STATUSES; days[1] > 0 && i < DB_PURGE__MAX; i++) {
		cutoff = now - (int64_t)days[1] * 86400;
		for (rounds = 0; rounds < (dry ? 1 : 20); rounds++) {
			if ((k = db_purge(d, (enum db_purge)i, cutoff,
			    PURGE_ROWS, dry, purge_file, &p)) < 0)
				return -1;
			more += k;
			if (dry || k < PURGE_ROWS)
				break;
		}
	}
	if (!dry && now - swept >= ORPHAN_AGE / 4) {
		swept = now;
		if ((orphans = sweep_orphans(d, cfg)) == -1) {
			log_warnx("retention: cannot look for orphan media "
			    "files in %s", cfg->media_dir);
			orphans = 0;
		}
	}
	if (!dry && (n[0] || n[1] || n[2] || more || orphans))
		log_info("retention: %lld journal bodies, %lld messages, "
		    "%lld media files (%d unlinked), %lld related rows, "
		    "%d orphan media files", (long long)n[0], (long long)n[1],
		    (long long)n[2], p.files, (long long)more, orphans);
	return 0;
}

