/*
 * proc.c: what wa-fcgi and wa-worker both do when they start, written
 * once: load and check the configuration (`-n` stops there), say which
 * SQLite they run on, and turn SIGTERM and SIGINT into a stop flag the
 * main loop reads (SIGPIPE ignored).  The flag is the one file-level
 * variable a daemon keeps: a signal handler can reach nothing else.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "db.h"
#include "log.h"
#include "proc.h"

static volatile sig_atomic_t stop;	/* set by SIGTERM or SIGINT */

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

/*
 * Loads the configuration into cfg (need: CFG_NEED_* bits) or stops the
 * program with the sentence that names the bad setting.  With check set
 * (the -n flag) it prints "configuration OK" and exits 0 instead of
 * returning.  The caller clears cfg with cfg_clear().
 */
void
proc_config(struct cfg *cfg, unsigned need, int check)
{
	char	 err[512];

	if (cfg_load(cfg, need, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if (check) {
		(void)printf("configuration OK\n");
		cfg_clear(cfg);
		exit(0);
	}
}

/*
 * Logs the SQLite library in use when asked to (say), and warns when it
 * is older than 3.51.3: that release fixed a race in the WAL reset that
 * two connections writing at once can hit.
 */
void
proc_sqlite_check(enum proc_sqlite say)
{
	if (say == PROC_SQLITE_SAY)
		log_info("SQLite %s", db_sqlite_version());
	if (!db_sqlite_version_ok())
		log_warnx("SQLite %s is older than 3.51.3, which fixed a "
		    "WAL-reset race; upgrade when your distribution allows",
		    db_sqlite_version());
}

/*
 * SIGTERM and SIGINT set the stop flag (proc_stopping()); SIGPIPE is
 * ignored, so a peer gone away is a write error, not a death.  No
 * SA_RESTART: a SIGTERM while a responder waits in accept() makes
 * FCGX_Accept_r fail and its loop end; one that comes during a request
 * or a batch only sets the flag, and that work is finished first.
 * Start-up only: a failure is fatal.
 */
void
proc_signals(void)
{
	struct sigaction	 sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) == -1 ||
	    sigaction(SIGINT, &sa, NULL) == -1)
		fatalx("sigaction failed");
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) == -1)
		fatalx("sigaction failed");
}

/* 1 once SIGTERM or SIGINT came: finish the work in hand and stop. */
int
proc_stopping(void)
{
	return stop != 0;
}
