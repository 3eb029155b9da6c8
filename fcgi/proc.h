/* proc.h: a daemon's start-up, shared by wa-fcgi and wa-worker (see proc.c). */
#ifndef PROC_H
#define PROC_H

struct cfg;

/* What proc_sqlite_check() logs besides the warning about an old SQLite. */
enum proc_sqlite {
	PROC_SQLITE_QUIET,	/* nothing more (a responder: many of them) */
	PROC_SQLITE_SAY,	/* the version too, once (the worker) */
	PROC_SQLITE__MAX
};

void	 proc_config(struct cfg *, unsigned need, int check);
void	 proc_sqlite_check(enum proc_sqlite);
void	 proc_signals(void);
int	 proc_stopping(void);

#endif
