/*
 * purge.c: retention (WA_RETAIN_JOURNAL_DAYS, _MESSAGES_DAYS, _MEDIA_DAYS).
 * The worker runs it every minute; `wactl purge [--dry-run]` runs or
 * counts it by hand.  Small transactions, so webhooks never wait long.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cfg.h"
#include "db.h"
#include "log.h"
#include "purge.h"

#define PURGE_ROWS	500	/* rows per transaction */

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

/*
 * Retention (WA_RETAIN_*): removes what is past its time in small
 * transactions, a few per call, so webhooks never wait behind it.
 * dry (wactl purge --dry-run) only counts.  Fills n[3]: journal bodies,
 * messages, media files.  Returns 0 or -1.
 */
int
purge_run(struct db *d, const struct cfg *cfg, int dry, int64_t n[3])
{
	struct purged	 p = { cfg, 0 };
	const long	 days[3] = { cfg->retain_journal_days,
			    cfg->retain_messages_days, cfg->retain_media_days };
	int64_t		 now = (int64_t)time(NULL), cutoff, k;
	int		 i, rounds;

	for (i = 0; i < 3; i++) {
		n[i] = 0;
		if (days[i] == 0)
			continue;
		cutoff = now - (int64_t)days[i] * 86400;
		if (i != 1)
			cutoff *= 1000;	/* journal and media times are ms */
		for (rounds = 0; rounds < (dry ? 1 : 20); rounds++) {
			if ((k = db_purge(d, i, cutoff, PURGE_ROWS, dry,
			    purge_file, &p)) < 0)
				return -1;
			n[i] += k;
			if (dry || k < PURGE_ROWS)
				break;
		}
	}
	if (!dry && (n[0] || n[1] || n[2]))
		log_info("retention: %lld journal bodies, %lld messages, "
		    "%lld media files (%d unlinked)", (long long)n[0],
		    (long long)n[1], (long long)n[2], p.files);
	return 0;
}

