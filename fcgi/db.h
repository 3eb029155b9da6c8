/* db.h: the SQLite database (see db.c); the only module that sees sqlite3. */
#ifndef DB_H
#define DB_H

#include <stddef.h>
#include <stdint.h>

#include "webhook.h"

struct db;

enum db_role {
	DB_ROLE_RESPONDER,	/* appends to the journal, reads; never checkpoints */
	DB_ROLE_WORKER,		/* applies the journal; the only checkpointer */
	DB_ROLE_ADMIN,		/* wactl: may run before the schema exists */
	DB_ROLE__MAX
};

/* Result of a write: callers branch on the kind of failure. */
enum db_rc {
	DB_OK,		/* done */
	DB_DUP,		/* nothing new: already stored */
	DB_BUSY,	/* the lock stayed taken past the busy timeout */
	DB_ERR,		/* anything else; logged */
	DB__MAX
};

struct db_health {
	int	 schema_version;	/* PRAGMA user_version */
	int64_t	 backlog;		/* journal entries still pending */
	int64_t	 heartbeat_at;		/* worker's last sign of life, 0 never */
	int64_t	 worker_pid;		/* 0 when unknown */
};

struct db	*db_open(const char *path, enum db_role, int sync_full,
		    long busy_ms);
void		 db_close(struct db *);
int		 db_schema_known(void);
int		 db_user_version(struct db *, int *);
int		 db_migrate(struct db *, int *from, int *to);
const char	*db_sqlite_version(void);
int		 db_sqlite_version_ok(void);

enum db_rc	 db_event_insert(struct db *, const void *body, size_t len,
		    int64_t *id);
int		 db_health_get(struct db *, struct db_health *);

enum db_rc	 db_begin(struct db *);
int		 db_commit(struct db *);
void		 db_rollback(struct db *);
int		 db_savepoint(struct db *);
int		 db_release(struct db *);
void		 db_rollback_to(struct db *);

int		 db_event_next(struct db *, int64_t after, int64_t *id,
		    char **body, size_t *len);
int		 db_event_finish(struct db *, int64_t id, const char *state,
		    const int counts[4], const char *error);
enum db_rc	 db_apply_item(struct db *, int64_t event_id,
		    const struct wh_item *, const char **why);
int		 db_heartbeat(struct db *, int64_t pid, int64_t started);
int64_t		 db_backlog(struct db *);
void		 db_checkpoint(struct db *, int truncate);

#endif
