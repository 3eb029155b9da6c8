/*
 * db_users.c: the people who sign in to the inbox (users, the numbers
 * each may see), their sessions, failed sign-ins, and the admin's views
 * of API keys and numbers.  Times come from the caller.  Every change
 * that takes a person's rights away (a new password, disabling, a new
 * role, removal) revokes their sessions in the same transaction.
 */
#include <string.h>

#include <bsd/string.h>
#include <sqlite3.h>

#include "db.h"
#include "db_int.h"
#include "sig.h"

#define LOCK_AFTER	5	/* failures in a row before a lock */
#define LOCK_MAX_S	900	/* the longest lock: 15 minutes */
#define SESSION_KEEP_S	(30 * 86400)	/* dead sessions kept this long */
#define IDLE_S		(12 * 3600)	/* api_session.c's idle limit */

/*
 * The user with id (when not 0) or name into u: 1, 0 none, -1.
 */
int
db_user_get(struct db *d, int64_t id, const char *name, struct db_user *u)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_USER_GET);
	int		 rc;

	memset(u, 0, sizeof(*u));
	if (id != 0)
		sqlite3_bind_int64(s, 1, id);
	else
		(void)dbi_bind_text(s, 2, name);
	if ((rc = dbi_row(d, STMT_USER_GET, __func__)) != 1)
		return rc;
	u->id = sqlite3_column_int64(s, 0);
	dbi_col_copy(s, 1, u->name, sizeof(u->name));
	dbi_col_copy(s, 2, u->display_name, sizeof(u->display_name));
	dbi_col_copy(s, 3, u->role, sizeof(u->role));
	dbi_col_copy(s, 4, u->email, sizeof(u->email));
	dbi_col_copy(s, 5, u->hash, sizeof(u->hash));
	u->disabled_at = sqlite3_column_int64(s, 6);
	u->last_login_at = sqlite3_column_int64(s, 7);
	u->password_at = sqlite3_column_int64(s, 8);
	sqlite3_reset(s);
	return 1;
}

/* Limits user id to the n numbers of pnids (none: every number). */
static enum db_rc
set_numbers(struct db *d, int64_t id, const char *const *pnids, size_t n)
{
	sqlite3_stmt	*s;
	enum db_rc	 rc;
	size_t		 i;

	s = dbi_st(d, STMT_USER_NUMBERS_CLEAR);
	sqlite3_bind_int64(s, 1, id);
	if ((rc = dbi_run(d, STMT_USER_NUMBERS_CLEAR, __func__)) != DB_OK)
		return rc;
	for (i = 0; i < n; i++) {
		s = dbi_st(d, STMT_USER_NUMBER_ADD);
		sqlite3_bind_int64(s, 1, id);
		(void)dbi_bind_text(s, 2, pnids[i]);
		if ((rc = dbi_run(d, STMT_USER_NUMBER_ADD, __func__)) != DB_OK)
			return rc;
	}
	return DB_OK;
}

/* "" as NULL, for the optional text columns. */
static const char *
opt(const char *v)
{
	return v != NULL && *v != '\0' ? v : NULL;
}

/*
 * Stores u (name, display_name, role, email, hash) limited to the n
 * numbers of pnids (0: every number), in one transaction; *id its row.
 * DB_USER_OK, DB_USER_DUP (the name is taken) or DB_USER_ERR.
 */
enum db_user_rc
db_user_create(struct db *d, const struct db_user *u, int64_t now_s,
    const char *const *pnids, size_t n, int64_t *id)
{
	sqlite3_stmt	*s;
	enum db_rc	 rc;

	if (db_begin(d) != DB_OK)
		return DB_USER_ERR;
	s = dbi_st(d, STMT_USER_INSERT);
	(void)dbi_bind_text(s, 1, u->name);
	(void)dbi_bind_text(s, 2, opt(u->display_name));
	(void)dbi_bind_text(s, 3, u->role);
	(void)dbi_bind_text(s, 4, opt(u->email));
	(void)dbi_bind_text(s, 5, u->hash);
	sqlite3_bind_int64(s, 6, now_s);
	if ((rc = dbi_run(d, STMT_USER_INSERT, __func__)) != DB_OK)
		goto fail;
	*id = sqlite3_last_insert_rowid(d->h);
	if ((rc = set_numbers(d, *id, pnids, n)) != DB_OK)
		goto fail;
	if (db_commit(d) == -1)
		return DB_USER_ERR;
	return DB_USER_OK;
fail:
	db_rollback(d);
	return rc == DB_DUP ? DB_USER_DUP : DB_USER_ERR;
}

/*
 * Every user, typed, through cb: id, name, display_name, role, email,
 * disabled (0/1), disabled_at, last_login_at, created_at, numbers (a
 * JSON array of the phone_number_ids it is limited to, [] every one).
 * The count, or -1.
 */
int
db_user_list(struct db *d, db_row_cb cb, void *arg)
{
	(void)dbi_st(d, STMT_USER_LIST);
	return dbi_each_typed(d, STMT_USER_LIST, cb, arg, __func__);
}

/* The numbers user id is limited to: cb(pnid) each.  The count, or -1. */
int
db_user_numbers(struct db *d, int64_t id,
    void (*cb)(void *, const char *const *), void *arg)
{
	sqlite3_stmt *s = dbi_st(d, STMT_USER_NUMBERS);

	sqlite3_bind_int64(s, 1, id);
	return dbi_each_row(d, STMT_USER_NUMBERS, 1, cb, arg, __func__);
}

/* Admins who can sign in besides id, or -1. */
static int64_t
other_admins(struct db *d, int64_t id)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_USER_OTHER_ADMINS);
	int64_t		 n;

	sqlite3_bind_int64(s, 1, id);
	if (dbi_row(d, STMT_USER_OTHER_ADMINS, __func__) != 1)
		return -1;
	n = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return n;
}

/*
 * In a transaction: user id into u, and whether a change that takes an
 * admin away (when losing_admin) would leave no admin who can sign in.
 * DB_USER_OK, DB_USER_NONE, DB_USER_LAST_ADMIN or DB_USER_ERR.
 */
static enum db_user_rc
user_guard(struct db *d, int64_t id, int losing_admin, struct db_user *u)
{
	int64_t	 others;
	int	 rc;

	if ((rc = db_user_get(d, id, NULL, u)) != 1)
		return rc == 0 ? DB_USER_NONE : DB_USER_ERR;
	if (losing_admin && strcmp(u->role, "admin") == 0 &&
	    u->disabled_at == 0) {
		if ((others = other_admins(d, id)) == -1)
			return DB_USER_ERR;
		if (others == 0)
			return DB_USER_LAST_ADMIN;
	}
	return DB_USER_OK;
}

/* Sets text column k of user id to v (NULL clears). */
static enum db_rc
set_text(struct db *d, enum stmt k, int64_t id, const char *v)
{
	sqlite3_stmt *s = dbi_st(d, k);

	sqlite3_bind_int64(s, 1, id);
	(void)dbi_bind_text(s, 2, v);
	return dbi_run(d, k, __func__);
}

/* Revokes every live session of user id at now_s. */
static enum db_rc
revoke_user(struct db *d, int64_t id, int64_t now_s)
{
	sqlite3_stmt *s = dbi_st(d, STMT_SESSION_REVOKE_USER);

	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, now_s);
	return dbi_run(d, STMT_SESSION_REVOKE_USER, __func__);
}

/*
 * Changes user id as p says, in one transaction.  A new password, a
 * new role or disabling revokes the user's sessions (a person demoted
 * or shut out is out at once, not at their next sign-in).  Demoting or
 * disabling the last admin who can sign in is refused:
 * DB_USER_LAST_ADMIN.  Else DB_USER_OK, DB_USER_NONE or DB_USER_ERR.
 */
enum db_user_rc
db_user_update(struct db *d, int64_t id, const struct db_user_patch *p,
    int64_t now_s)
{
	struct db_user	 u;
	sqlite3_stmt	*s;
	enum db_user_rc	 out = DB_USER_ERR;
	int		 revoke = 0;

	if (db_begin(d) != DB_OK)
		return DB_USER_ERR;
	if ((out = user_guard(d, id, (p->role != NULL &&
	    strcmp(p->role, "admin") != 0) || p->disable == 1, &u)) !=
	    DB_USER_OK)
		goto fail;
	out = DB_USER_ERR;
	if (p->set_display && set_text(d, STMT_USER_SET_DISPLAY, id,
	    opt(p->display_name)) != DB_OK)
		goto fail;
	if (p->set_email && set_text(d, STMT_USER_SET_EMAIL, id,
	    opt(p->email)) != DB_OK)
		goto fail;
	if (p->role != NULL && strcmp(p->role, u.role) != 0) {
		if (set_text(d, STMT_USER_SET_ROLE, id, p->role) != DB_OK)
			goto fail;
		revoke = 1;
	}
	if (p->hash != NULL) {
		s = dbi_st(d, STMT_USER_SET_PASSWORD);
		sqlite3_bind_int64(s, 1, id);
		(void)dbi_bind_text(s, 2, p->hash);
		sqlite3_bind_int64(s, 3, now_s);
		if (dbi_run(d, STMT_USER_SET_PASSWORD, __func__) != DB_OK)
			goto fail;
		revoke = 1;
	}
	if (p->disable != -1) {
		s = dbi_st(d, STMT_USER_SET_DISABLED);
		sqlite3_bind_int64(s, 1, id);
		if (p->disable == 1)
			sqlite3_bind_int64(s, 2, now_s);
		if (dbi_run(d, STMT_USER_SET_DISABLED, __func__) != DB_OK)
			goto fail;
		revoke |= p->disable == 1;
	}
	/* Fewer numbers take effect at the next request: no revocation. */
	if (p->set_numbers && set_numbers(d, id, p->pnids, p->npnids) != DB_OK)
		goto fail;
	if (revoke && revoke_user(d, id, now_s) != DB_OK)
		goto fail;
	if (db_commit(d) == -1)
		return DB_USER_ERR;
	return DB_USER_OK;
fail:
	db_rollback(d);
	return out;
}

/*
 * Removes user id (sessions and number limits go with the row; notes and
 * activity keep the name).  DB_USER_OK, DB_USER_NONE,
 * DB_USER_LAST_ADMIN or DB_USER_ERR.
 */
enum db_user_rc
db_user_remove(struct db *d, int64_t id)
{
	struct db_user	 u;
	sqlite3_stmt	*s;
	enum db_user_rc	 out;

	if (db_begin(d) != DB_OK)
		return DB_USER_ERR;
	if ((out = user_guard(d, id, 1, &u)) != DB_USER_OK)
		goto fail;
	out = DB_USER_ERR;
	s = dbi_st(d, STMT_USER_DELETE);
	sqlite3_bind_int64(s, 1, id);
	if (dbi_run(d, STMT_USER_DELETE, __func__) != DB_OK)
		goto fail;
	if (db_commit(d) == -1)
		return DB_USER_ERR;
	return DB_USER_OK;
fail:
	db_rollback(d);
	return out;
}

/* Forgets the failures of who (a success). */
static enum db_rc
fail_clear(struct db *d, const char *who)
{
	sqlite3_stmt *s = dbi_st(d, STMT_LOGIN_FAIL_CLEAR);

	(void)dbi_bind_text(s, 1, who);
	return dbi_run(d, STMT_LOGIN_FAIL_CLEAR, __func__);
}

/*
 * A successful sign-in, in one transaction: the session (sha, the
 * SHA-256 of its token; expires_s its absolute end; address and the
 * User-Agent's first 200 bytes), the user's last_login_at, the failures
 * of who_user and who_addr forgotten, and sessions and failures long
 * dead pruned.  DB_OK, DB_BUSY or DB_ERR.
 */
enum db_rc
db_session_start(struct db *d, int64_t user_id, const char *sha,
    int64_t now_s, int64_t expires_s, const char *address,
    const char *user_agent, const char *who_user, const char *who_addr)
{
	sqlite3_stmt	*s;
	enum db_rc	 rc;
	char		 ua[201];

	if ((rc = db_begin(d)) != DB_OK)
		return rc;
	(void)strlcpy(ua, user_agent != NULL ? user_agent : "", sizeof(ua));
	s = dbi_st(d, STMT_SESSION_INSERT);
	sqlite3_bind_int64(s, 1, user_id);
	(void)dbi_bind_text(s, 2, sha);
	sqlite3_bind_int64(s, 3, now_s);
	sqlite3_bind_int64(s, 4, expires_s);
	(void)dbi_bind_text(s, 5, opt(address));
	(void)dbi_bind_text(s, 6, opt(ua));
	if ((rc = dbi_run(d, STMT_SESSION_INSERT, __func__)) != DB_OK)
		goto fail;
	s = dbi_st(d, STMT_USER_LOGGED_IN);
	sqlite3_bind_int64(s, 1, user_id);
	sqlite3_bind_int64(s, 2, now_s);
	if ((rc = dbi_run(d, STMT_USER_LOGGED_IN, __func__)) != DB_OK ||
	    (rc = fail_clear(d, who_user)) != DB_OK ||
	    (rc = fail_clear(d, who_addr)) != DB_OK)
		goto fail;
	s = dbi_st(d, STMT_SESSION_PRUNE);
	sqlite3_bind_int64(s, 1, now_s - SESSION_KEEP_S);
	sqlite3_bind_int64(s, 2, now_s - IDLE_S - SESSION_KEEP_S);
	if ((rc = dbi_run(d, STMT_SESSION_PRUNE, __func__)) != DB_OK)
		goto fail;
	s = dbi_st(d, STMT_LOGIN_FAIL_PRUNE);
	sqlite3_bind_int64(s, 1, now_s - 86400);
	sqlite3_bind_int64(s, 2, now_s);
	if ((rc = dbi_run(d, STMT_LOGIN_FAIL_PRUNE, __func__)) != DB_OK)
		goto fail;
	if (db_commit(d) == -1)
		return DB_ERR;
	return DB_OK;
fail:
	db_rollback(d);
	return rc == DB_DUP ? DB_ERR : rc;
}

/*
 * The session whose token has SHA-256 sha, with its user, into v: 1, 0
 * none, -1.  The caller decides whether it is still live; the stored
 * digest is compared again in constant time.
 */
int
db_session_get(struct db *d, const char *sha, struct db_session *v)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_SESSION_GET);
	const char	*got;
	int		 rc, same;

	memset(v, 0, sizeof(*v));
	(void)dbi_bind_text(s, 1, sha);
	if ((rc = dbi_row(d, STMT_SESSION_GET, __func__)) != 1)
		return rc;
	v->id = sqlite3_column_int64(s, 0);
	v->user_id = sqlite3_column_int64(s, 1);
	got = (const char *)sqlite3_column_text(s, 2);
	same = got != NULL && sig_streq(got, strlen(got), sha, strlen(sha));
	v->created_at = sqlite3_column_int64(s, 3);
	v->last_used_at = sqlite3_column_int64(s, 4);
	v->expires_at = sqlite3_column_int64(s, 5);
	v->revoked_at = sqlite3_column_int64(s, 6);
	dbi_col_copy(s, 7, v->name, sizeof(v->name));
	dbi_col_copy(s, 8, v->display_name, sizeof(v->display_name));
	dbi_col_copy(s, 9, v->role, sizeof(v->role));
	dbi_col_copy(s, 10, v->email, sizeof(v->email));
	v->disabled_at = sqlite3_column_int64(s, 11);
	v->password_at = sqlite3_column_int64(s, 12);
	sqlite3_reset(s);
	return same;
}

/* Records the session's use at now_s (the caller keeps it to a minute). */
int
db_session_touch(struct db *d, int64_t id, int64_t now_s)
{
	return dbi_run_id(d, STMT_SESSION_TOUCH, id, 1, now_s, 0, __func__);
}

/* Signs session id out at now_s: 1, 0 when it was not live, -1. */
int
db_session_revoke(struct db *d, int64_t id, int64_t now_s)
{
	if (dbi_run_id(d, STMT_SESSION_REVOKE, id, 1, now_s, 0,
	    __func__) == -1)
		return -1;
	return sqlite3_changes(d->h) > 0;
}

/*
 * 1 with *until when who ("user:NAME" or "addr:ADDRESS") may not try to
 * sign in before then, 0 when it may, -1.
 */
int
db_login_locked(struct db *d, const char *who, int64_t now_s, int64_t *until)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_LOGIN_FAIL_GET);
	int		 rc;

	*until = 0;
	(void)dbi_bind_text(s, 1, who);
	if ((rc = dbi_row(d, STMT_LOGIN_FAIL_GET, __func__)) != 1)
		return rc;
	*until = sqlite3_column_int64(s, 2);
	sqlite3_reset(s);
	return *until > now_s;
}

/*
 * Records a failed sign-in of who at now_s, in one transaction.  After
 * LOCK_AFTER failures in a row who is locked for 2^(n - LOCK_AFTER)
 * seconds (n the failures so far), at most LOCK_MAX_S; a failure more
 * than LOCK_MAX_S after the previous one starts the count again, so
 * that a typo a day never adds up to a lock.  *until is the lock's end
 * (0 none).  0 or -1.
 */
int
db_login_failed(struct db *d, const char *who, int64_t now_s, int64_t *until)
{
	sqlite3_stmt	*s;
	int64_t		 n = 0, last, lock;
	int		 rc;

	*until = 0;
	if (db_begin(d) != DB_OK)
		return -1;
	s = dbi_st(d, STMT_LOGIN_FAIL_GET);
	(void)dbi_bind_text(s, 1, who);
	if ((rc = dbi_row(d, STMT_LOGIN_FAIL_GET, __func__)) == -1)
		goto fail;
	if (rc == 1) {
		n = sqlite3_column_int64(s, 0);
		last = sqlite3_column_int64(s, 1);
		sqlite3_reset(s);
		if (now_s - last > LOCK_MAX_S)
			n = 0;
	}
	n++;
	if (n >= LOCK_AFTER) {
		lock = n - LOCK_AFTER >= 10 ? LOCK_MAX_S :
		    (int64_t)1 << (n - LOCK_AFTER);
		*until = now_s + (lock < LOCK_MAX_S ? lock : LOCK_MAX_S);
	}
	s = dbi_st(d, STMT_LOGIN_FAIL_SET);
	(void)dbi_bind_text(s, 1, who);
	sqlite3_bind_int64(s, 2, n);
	sqlite3_bind_int64(s, 3, now_s);
	sqlite3_bind_int64(s, 4, *until);
	if (dbi_run(d, STMT_LOGIN_FAIL_SET, __func__) != DB_OK)
		goto fail;
	if (db_commit(d) == -1)
		return -1;
	return 0;
fail:
	db_rollback(d);
	return -1;
}

/*
 * API keys, typed, through cb (GET /api-keys): id, name, prefix,
 * read_only, created_at, last_used_at, revoked_at, numbers (JSON array
 * text).  All of them when id is 0, else that one.  The count, or -1.
 */
int
db_apikey_rows(struct db *d, int64_t id, db_row_cb cb, void *arg)
{
	sqlite3_stmt *s = dbi_st(d, STMT_USERS_APIKEY_LIST);

	if (id != 0)
		sqlite3_bind_int64(s, 1, id);
	return dbi_each_typed(d, STMT_USERS_APIKEY_LIST, cb, arg, __func__);
}

/* Revokes key id at now_s: 1, 0 when no live key has it, -1. */
int
db_apikey_revoke_id(struct db *d, int64_t id, int64_t now_s)
{
	if (dbi_run_id(d, STMT_USERS_APIKEY_REVOKE, id, 1, now_s, 0,
	    __func__) == -1)
		return -1;
	return sqlite3_changes(d->h) > 0;
}

/*
 * PATCH /numbers/{pnid}, in one transaction: label and rate as
 * db_number_edit() changes them, display (NULL keeps), active (-1
 * keeps, 0 removes as db_number_remove() does, 1 brings it back).
 * DB_OK, DB_DUP (the label is another number's) or DB_ERR.
 */
enum db_rc
db_number_patch(struct db *d, const char *pnid, const char *label,
    const char *display, const int64_t *rate, int active, int64_t now_s)
{
	sqlite3_stmt	*s;
	enum db_rc	 rc;
	int		 changed;

	if ((rc = db_begin(d)) != DB_OK)
		return rc;
	if ((label != NULL || rate != NULL) && (rc = db_number_edit(d, pnid,
	    label, NULL, NULL, rate, &changed)) != DB_OK)
		goto fail;
	if (display != NULL) {
		s = dbi_st(d, STMT_USERS_NUMBER_DISPLAY);
		(void)dbi_bind_text(s, 1, pnid);
		(void)dbi_bind_text(s, 2, display);
		if ((rc = dbi_run(d, STMT_USERS_NUMBER_DISPLAY, __func__)) !=
		    DB_OK)
			goto fail;
	}
	if (active == 0 && db_number_remove(d, pnid, now_s) == -1) {
		rc = DB_ERR;
		goto fail;
	}
	if (active == 1) {
		s = dbi_st(d, STMT_USERS_NUMBER_RESTORE);
		(void)dbi_bind_text(s, 1, pnid);
		if ((rc = dbi_run(d, STMT_USERS_NUMBER_RESTORE, __func__)) !=
		    DB_OK)
			goto fail;
	}
	if (db_commit(d) == -1)
		return DB_ERR;
	return DB_OK;
fail:
	db_rollback(d);
	return rc;
}
