/*
 * db_types.c: what the richer sends and their replies need of storage
 * (issue 13): the Commerce catalog a number sells from (numbers.catalog_id,
 * filled into product and product_list sends that name none) and the raw
 * item of a stored message, from which the API shows a Flow's answer
 * (nfm_reply) and an order's items.
 */
#include <string.h>

#include <sqlite3.h>

#include "db.h"
#include "db_int.h"

/*
 * The catalog id of number pnid (active or removed) into buf: 1, 0 when
 * the number is unknown or has none (buf ""), or -1.
 */
int
db_number_catalog(struct db *d, const char *pnid, char *buf, size_t sz)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_NUMBER_CATALOG_GET);
	int		 rc;

	buf[0] = '\0';
	(void)dbi_bind_text(s, 1, pnid);
	if ((rc = dbi_row(d, STMT_NUMBER_CATALOG_GET, __func__)) != 1)
		return rc;
	dbi_col_copy(s, 0, buf, sz);
	sqlite3_reset(s);
	return buf[0] != '\0';
}

/*
 * Sets (catalog_id a string of digits) or clears (NULL) the catalog of
 * number pnid; *changed is 1 when the number exists.
 */
enum db_rc
db_number_set_catalog(struct db *d, const char *pnid, const char *catalog_id,
    int *changed)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_NUMBER_CATALOG_SET);
	enum db_rc	 rc;

	*changed = 0;
	(void)dbi_bind_text(s, 1, pnid);
	dbi_bind_opt_text(s, 2, catalog_id);
	if ((rc = dbi_run(d, STMT_NUMBER_CATALOG_SET, __func__)) == DB_OK)
		*changed = sqlite3_changes(d->h) > 0;
	return rc;
}

/*
 * The raw item (webhook JSON) of message id when it is an inbound reply
 * the API shows decoded (an order, a Flow's nfm_reply): 1 with *raw from
 * malloc() (caller frees; NULL when none is kept), 0 when id is no such
 * message, -1.
 */
int
db_msg_reply_raw(struct db *d, int64_t id, char **raw)
{
	sqlite3_stmt	*s = dbi_st(d, STMT_MSG_REPLY_RAW);
	int		 rc, oom = 0;

	*raw = NULL;
	sqlite3_bind_int64(s, 1, id);
	if ((rc = dbi_row(d, STMT_MSG_REPLY_RAW, __func__)) != 1)
		return rc;
	*raw = dbi_col_dup(s, 0, &oom);
	sqlite3_reset(s);
	return oom ? -1 : 1;
}
