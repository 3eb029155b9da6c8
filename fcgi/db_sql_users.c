/*
 * db_sql_users.c: the SQL statements of people who sign in to the inbox,
 * their sessions and failed sign-ins, and the admin's views of API keys
 * and numbers (db_users.c), in a table indexed by enum stmt like
 * db_sql.c's (db_open() refuses a slot none or two fill).
 */
#include <sqlite3.h>

#include "db.h"
#include "db_int.h"

/* A user's row as db_user_get() reads it. */
#define USER_COLS \
	"id, name, coalesce(display_name, ''), role, coalesce(email, ''), " \
	"password_hash, coalesce(disabled_at, 0), coalesce(last_login_at, 0), " \
	"password_at "

const char *const dbi_sql_users[STMT__MAX] = {
	[STMT_USER_INSERT] =
	"INSERT INTO users (name, display_name, role, email, password_hash, "
	    "password_at, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
	/* By id when ?1 is given, else by name. */
	[STMT_USER_GET] =
	"SELECT " USER_COLS "FROM users WHERE (?1 IS NOT NULL AND id = ?1) OR "
	    "(?1 IS NULL AND name = ?2)",
	/* numbers: "" every number, else "label=id id ..." it is limited to. */
	[STMT_USER_LIST] =
	"SELECT u.id, u.name, u.display_name, u.role, u.email, "
	    "u.disabled_at IS NOT NULL AS disabled, u.disabled_at, "
	    "u.last_login_at, u.created_at, (SELECT json_group_array("
	    "x.phone_number_id) FROM (SELECT phone_number_id FROM user_numbers "
	    "WHERE user_id = u.id ORDER BY 1) x) AS numbers FROM users u "
	    "ORDER BY u.id",
	[STMT_USER_NUMBER_ADD] =
	"INSERT OR IGNORE INTO user_numbers (user_id, phone_number_id) "
	    "VALUES (?1, ?2)",
	[STMT_USER_NUMBERS_CLEAR] =
	"DELETE FROM user_numbers WHERE user_id = ?1",
	[STMT_USER_NUMBERS] =
	"SELECT phone_number_id FROM user_numbers WHERE user_id = ?1 "
	    "ORDER BY phone_number_id",
	[STMT_USER_SET_DISPLAY] =
	"UPDATE users SET display_name = ?2 WHERE id = ?1",
	[STMT_USER_SET_EMAIL] =
	"UPDATE users SET email = ?2 WHERE id = ?1",
	[STMT_USER_SET_ROLE] =
	"UPDATE users SET role = ?2 WHERE id = ?1",
	[STMT_USER_SET_PASSWORD] =
	"UPDATE users SET password_hash = ?2, password_at = ?3 WHERE id = ?1",
	/* ?2 NULL enables; a disabled user keeps the first time. */
	[STMT_USER_SET_DISABLED] =
	"UPDATE users SET disabled_at = CASE WHEN ?2 IS NULL THEN NULL ELSE "
	    "coalesce(disabled_at, ?2) END WHERE id = ?1",
	[STMT_USER_DELETE] =
	"DELETE FROM users WHERE id = ?1",
	/* Admins who can still sign in, besides ?1. */
	[STMT_USER_OTHER_ADMINS] =
	"SELECT count(*) FROM users WHERE role = 'admin' AND disabled_at IS "
	    "NULL AND id != ?1",
	[STMT_USER_LOGGED_IN] =
	"UPDATE users SET last_login_at = ?2 WHERE id = ?1",
	[STMT_SESSION_INSERT] =
	"INSERT INTO sessions (user_id, token_sha256, created_at, "
	    "last_used_at, expires_at, address, user_agent) "
	    "VALUES (?1, ?2, ?3, ?3, ?4, ?5, ?6)",
	[STMT_SESSION_GET] =
	"SELECT s.id, s.user_id, s.token_sha256, s.created_at, "
	    "s.last_used_at, s.expires_at, coalesce(s.revoked_at, 0), u.name, "
	    "coalesce(u.display_name, ''), u.role, coalesce(u.email, ''), "
	    "coalesce(u.disabled_at, 0), u.password_at FROM sessions s "
	    "JOIN users u ON u.id = s.user_id WHERE s.token_sha256 = ?1",
	[STMT_SESSION_TOUCH] =
	"UPDATE sessions SET last_used_at = ?2 WHERE id = ?1",
	[STMT_SESSION_REVOKE] =
	"UPDATE sessions SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS "
	    "NULL",
	[STMT_SESSION_REVOKE_USER] =
	"UPDATE sessions SET revoked_at = ?2 WHERE user_id = ?1 AND "
	    "revoked_at IS NULL",
	/* Sessions dead for a while: nothing left to check them against. */
	[STMT_SESSION_PRUNE] =
	"DELETE FROM sessions WHERE expires_at < ?1 OR revoked_at < ?1 OR "
	    "last_used_at < ?2",
	[STMT_LOGIN_FAIL_GET] =
	"SELECT failures, last_at, locked_until FROM login_failures "
	    "WHERE who = ?1",
	[STMT_LOGIN_FAIL_SET] =
	"INSERT INTO login_failures (who, failures, last_at, locked_until) "
	    "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (who) DO UPDATE SET "
	    "failures = excluded.failures, last_at = excluded.last_at, "
	    "locked_until = excluded.locked_until",
	[STMT_LOGIN_FAIL_CLEAR] =
	"DELETE FROM login_failures WHERE who = ?1",
	[STMT_LOGIN_FAIL_PRUNE] =
	"DELETE FROM login_failures WHERE last_at < ?1 AND locked_until < ?2",
	/* GET /api-keys: every key, its numbers as a JSON array. */
	[STMT_USERS_APIKEY_LIST] =
	"SELECT k.id, k.name, k.key_prefix AS prefix, k.read_only, "
	    "k.created_at, k.last_used_at, k.revoked_at, (SELECT "
	    "json_group_array(x.phone_number_id) FROM (SELECT phone_number_id "
	    "FROM api_key_numbers WHERE api_key_id = k.id ORDER BY 1) x) AS "
	    "numbers FROM api_keys k WHERE ?1 IS NULL OR k.id = ?1 ORDER BY k.id",
	[STMT_USERS_APIKEY_GET] =
	"SELECT id FROM api_keys WHERE id = ?1",
	[STMT_USERS_APIKEY_REVOKE] =
	"UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS "
	    "NULL",
	[STMT_USERS_NUMBER_DISPLAY] =
	"UPDATE numbers SET display_phone_number = ?2 WHERE "
	    "phone_number_id = ?1",
	[STMT_USERS_NUMBER_RESTORE] =
	"UPDATE numbers SET removed_at = NULL WHERE phone_number_id = ?1",
};
