/*
 * db_bot.c: what the chatbot reads and writes: its state per contact,
 * business data (orders, schedule, tickets, menu choices), assignment and
 * agent requests, the import upserts of `wactl import`, and a contact's
 * recent history.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "db.h"
#include "db_int.h"

int64_t
db_agent_next_due(struct db *d, int64_t now)
{
	return next_due(d, STMT_AGENT_NEXT_DUE, now, __func__);
}

/*
 * The chatbot's state for a contact: 1 with the fields filled (*vars from
 * malloc(), NULL when none), 0 when the contact has none yet, -1.
 */
int
db_bot_get(struct db *d, const char *pnid, int64_t contact, char *node,
    size_t nodesz, char **vars, int64_t *last, int *hinted)
{
	sqlite3_stmt	*s = st(d, STMT_BOT_GET);
	int		 rc, oom = 0;

	*vars = NULL;
	bind_text(s, 1, pnid);
	sqlite3_bind_int64(s, 2, contact);
	if ((rc = row(d, STMT_BOT_GET, __func__)) != 1)
		return rc;
	col_copy(s, 0, node, nodesz);
	*vars = col_dup(s, 1, &oom);
	*last = sqlite3_column_int64(s, 2);
	*hinted = sqlite3_column_int(s, 3);
	sqlite3_reset(s);
	return oom ? -1 : 1;
}

int
db_bot_set(struct db *d, const char *pnid, int64_t contact, const char *node,
    const char *vars, int64_t last, int hinted)
{
	sqlite3_stmt *s = st(d, STMT_BOT_SET);

	bind_text(s, 1, pnid);
	sqlite3_bind_int64(s, 2, contact);
	bind_text(s, 3, node);
	bind_text(s, 4, vars);
	sqlite3_bind_int64(s, 5, last);
	sqlite3_bind_int(s, 6, hinted);
	return run(d, STMT_BOT_SET, __func__) == DB_OK ? 0 : -1;
}

/*
 * One order of customer wa_id: cb receives (number, status, expected) once,
 * then lines receives (item, quantity) per line.  1 found, 0 not, -1.
 */
int
db_order_get(struct db *d, const char *pnid, const char *wa_id,
    const char *number, void (*cb)(void *, const char *const *),
    void (*lines)(void *, const char *const *), void *arg)
{
	sqlite3_stmt	*s = st(d, STMT_ORDER_GET);
	const char	*cols[3];
	int64_t		 id;
	int		 rc;

	bind_text(s, 1, pnid);
	bind_text(s, 2, wa_id);
	bind_text(s, 3, number);
	if ((rc = row(d, STMT_ORDER_GET, __func__)) != 1)
		return rc;
	id = sqlite3_column_int64(s, 0);
	cols[0] = (const char *)sqlite3_column_text(s, 1);
	cols[1] = (const char *)sqlite3_column_text(s, 2);
	cols[2] = (const char *)sqlite3_column_text(s, 3);
	cb(arg, cols);
	sqlite3_reset(s);
	s = st(d, STMT_ORDER_LINES);
	sqlite3_bind_int64(s, 1, id);
	return each_row(d, STMT_ORDER_LINES, 2, lines, arg, __func__) == -1 ?
	    -1 : 1;
}

/* The customer's latest orders: cb(number, status, expected).  n or -1. */
int
db_orders_recent(struct db *d, const char *pnid, const char *wa_id, int max,
    void (*cb)(void *, const char *const *), void *arg)
{
	sqlite3_stmt *s = st(d, STMT_ORDERS_RECENT);

	bind_text(s, 1, pnid);
	bind_text(s, 2, wa_id);
	sqlite3_bind_int(s, 3, max);
	return each_row(d, STMT_ORDERS_RECENT, 3, cb, arg, __func__);
}

/*
 * Schedule steps of the customer's orders between two days (YYYY-MM-DD,
 * inclusive), or of one order when number is not NULL:
 * cb(order, step, starts, ends).  n or -1.
 */
int
db_schedule(struct db *d, const char *pnid, const char *wa_id,
    const char *number, const char *from, const char *to,
    void (*cb)(void *, const char *const *), void *arg)
{
	enum stmt	 k = number != NULL ? STMT_SCHEDULE_ORDER :
			    STMT_SCHEDULE_RANGE;
	sqlite3_stmt	*s = st(d, k);

	bind_text(s, 1, pnid);
	bind_text(s, 2, wa_id);
	bind_text(s, 3, number != NULL ? number : from);
	if (number == NULL)
		bind_text(s, 4, to);
	return each_row(d, k, 4, cb, arg, __func__);
}

/* A ticket of customer wa_id: cb(number, state, category).  1, 0, -1. */
int
db_ticket_get(struct db *d, const char *pnid, const char *wa_id,
    const char *number, void (*cb)(void *, const char *const *), void *arg)
{
	sqlite3_stmt	*s = st(d, STMT_TICKET_GET);
	int		 n;

	bind_text(s, 1, pnid);
	bind_text(s, 2, wa_id);
	bind_text(s, 3, number);
	n = each_row(d, STMT_TICKET_GET, 3, cb, arg, __func__);
	return n < 0 ? -1 : n > 0;
}

/*
 * Files a ticket with its photos; its number ("T-" and the row id, six
 * digits at least) goes to number[0..sz).  0 or -1.
 */
int
db_ticket_insert(struct db *d, const char *pnid, int64_t contact,
    const char *wa_id, const char *category, const char *description,
    const char *const *media, size_t nmedia, int64_t now_s, char *number,
    size_t sz)
{
	sqlite3_stmt	*s = st(d, STMT_TICKET_INSERT);
	int64_t		 id;
	size_t		 i;

	bind_text(s, 1, pnid);
	sqlite3_bind_int64(s, 2, contact);
	bind_text(s, 3, wa_id);
	bind_text(s, 4, category);
	bind_text(s, 5, description);
	sqlite3_bind_int64(s, 6, now_s);
	if (run(d, STMT_TICKET_INSERT, __func__) != DB_OK)
		return -1;
	id = sqlite3_last_insert_rowid(d->h);
	if (snprintf(number, sz, "T-%06lld", (long long)id) >= (int)sz)
		return -1;
	s = st(d, STMT_TICKET_NUMBER);
	sqlite3_bind_int64(s, 1, id);
	bind_text(s, 2, number);
	if (run(d, STMT_TICKET_NUMBER, __func__) != DB_OK)
		return -1;
	for (i = 0; i < nmedia; i++) {
		s = st(d, STMT_TICKET_MEDIA);
		sqlite3_bind_int64(s, 1, id);
		bind_text(s, 2, media[i]);
		if (run(d, STMT_TICKET_MEDIA, __func__) != DB_OK)
			return -1;
	}
	return 0;
}

/* Counts one choice of option at node on day (YYYY-MM-DD).  0 or -1. */
int
db_choice_count(struct db *d, const char *pnid, const char *day,
    const char *node, const char *option)
{
	sqlite3_stmt *s = st(d, STMT_CHOICE_COUNT);

	bind_text(s, 1, pnid);
	bind_text(s, 2, day);
	bind_text(s, 3, node);
	bind_text(s, 4, option);
	return run(d, STMT_CHOICE_COUNT, __func__) == DB_OK ? 0 : -1;
}

/* Who answers the conversation, and until when (0 open-ended).  1, 0, -1. */
int
db_conv_assignee(struct db *d, const char *pnid, int64_t contact,
    char *who, size_t sz, int64_t *until)
{
	sqlite3_stmt	*s = st(d, STMT_CONV_ASSIGNEE);
	int		 rc;

	bind_text(s, 1, pnid);
	sqlite3_bind_int64(s, 2, contact);
	if ((rc = row(d, STMT_CONV_ASSIGNEE, __func__)) != 1)
		return rc;
	col_copy(s, 0, who, sz);
	*until = sqlite3_column_int64(s, 1);
	sqlite3_reset(s);
	return 1;
}

/* Hands the conversation to who (bot, person:..., agent:...).  0 or -1. */
int
db_conv_assign(struct db *d, const char *pnid, int64_t contact,
    const char *who, int64_t until)
{
	sqlite3_stmt *s = st(d, STMT_CONV_ASSIGN);

	bind_text(s, 1, pnid);
	sqlite3_bind_int64(s, 2, contact);
	bind_text(s, 3, who);
	bind_nz(s, 4, until);
	if (run(d, STMT_CONV_ASSIGN, __func__) != DB_OK)
		return -1;
	return sqlite3_changes(d->h) > 0 ? 0 : -1;
}

int
db_agent_insert(struct db *d, const char *pnid, int64_t contact,
    const char *recipient, const char *url, const char *body, int64_t now_ms)
{
	sqlite3_stmt *s = st(d, STMT_AGENT_INSERT);

	bind_text(s, 1, pnid);
	sqlite3_bind_int64(s, 2, contact);
	bind_text(s, 3, recipient);
	bind_text(s, 4, url);
	bind_text(s, 5, body);
	sqlite3_bind_int64(s, 6, now_ms);
	return run(d, STMT_AGENT_INSERT, __func__) == DB_OK ? 0 : -1;
}

/* Up to max agent calls due: fills out[] (clear each).  n or -1. */
int
db_agent_due(struct db *d, int64_t now_ms, struct db_agent_item *out, int max)
{
	sqlite3_stmt	*s = st(d, STMT_AGENT_DUE);
	int		 n = 0, rc, oom = 0;

	sqlite3_bind_int64(s, 1, now_ms);
	sqlite3_bind_int(s, 2, max);
	while (n < max && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct db_agent_item *it = &out[n++];

		memset(it, 0, sizeof(*it));
		it->id = sqlite3_column_int64(s, 0);
		col_copy(s, 1, it->pnid, sizeof(it->pnid));
		col_copy(s, 2, it->recipient, sizeof(it->recipient));
		it->url = col_dup(s, 3, &oom);
		it->body = col_dup(s, 4, &oom);
		it->attempts = sqlite3_column_int(s, 5);
	}
	sqlite3_reset(s);
	if (oom) {
		while (n > 0)
			db_agent_item_clear(&out[--n]);
		return -1;
	}
	return n;
}

void
db_agent_item_clear(struct db_agent_item *it)
{
	free(it->url);
	free(it->body);
	it->url = it->body = NULL;
}

int
db_agent_claim(struct db *d, int64_t id)
{
	if (run_id(d, STMT_AGENT_CLAIM, id, 0, 0, 0, __func__) == -1)
		return -1;
	return sqlite3_changes(d->h) > 0;
}

/* state: queued (retry at next_ms), answered or failed.  0 or -1. */
int
db_agent_finish(struct db *d, int64_t id, const char *state, int64_t next_ms,
    const char *error)
{
	sqlite3_stmt *s = st(d, STMT_AGENT_FINISH);

	sqlite3_bind_int64(s, 1, id);
	bind_text(s, 2, state);
	sqlite3_bind_int64(s, 3, next_ms);
	bind_text(s, 4, error);
	return run(d, STMT_AGENT_FINISH, __func__) == DB_OK ? 0 : -1;
}

/* Creates or updates an order; its row id in *id.  0 or -1. */
int
db_order_upsert(struct db *d, const char *pnid, const char *number,
    const char *wa_id, const char *status, const char *ordered_on,
    const char *expected, int64_t now_s, int64_t *id)
{
	sqlite3_stmt	*s = st(d, STMT_ORDER_UPSERT);
	int		 rc;

	bind_text(s, 1, pnid);
	bind_text(s, 2, number);
	bind_text(s, 3, wa_id);
	bind_text(s, 4, status);
	bind_text(s, 5, ordered_on);
	bind_text(s, 6, expected);
	sqlite3_bind_int64(s, 7, now_s);
	if ((rc = row(d, STMT_ORDER_UPSERT, __func__)) != 1)
		return -1;
	*id = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return 0;
}

int
db_order_line_upsert(struct db *d, int64_t order, int line, const char *item,
    const char *quantity)
{
	sqlite3_stmt *s = st(d, STMT_ORDER_LINE_UPSERT);

	sqlite3_bind_int64(s, 1, order);
	sqlite3_bind_int(s, 2, line);
	bind_text(s, 3, item);
	bind_text(s, 4, quantity);
	return run(d, STMT_ORDER_LINE_UPSERT, __func__) == DB_OK ? 0 : -1;
}

int
db_schedule_upsert(struct db *d, const char *pnid, const char *number,
    const char *step, const char *starts, const char *ends)
{
	sqlite3_stmt *s = st(d, STMT_SCHEDULE_UPSERT);

	bind_text(s, 1, pnid);
	bind_text(s, 2, number);
	bind_text(s, 3, step);
	bind_text(s, 4, starts);
	bind_text(s, 5, ends);
	return run(d, STMT_SCHEDULE_UPSERT, __func__) == DB_OK ? 0 : -1;
}

/* Forgets an order's lines before an import gives them anew. */
int
db_order_lines_clear(struct db *d, int64_t order)
{
	return run_id(d, STMT_ORDER_LINES_CLEAR, order, 0, 0, 0, __func__);
}

/*
 * The contact's latest messages, newest first:
 * cb(direction, type, text, timestamp).  n or -1.
 */
int
db_conv_history(struct db *d, const char *pnid, int64_t contact, int max,
    void (*cb)(void *, const char *const *), void *arg)
{
	sqlite3_stmt *s = st(d, STMT_CONV_HISTORY);

	bind_text(s, 1, pnid);
	sqlite3_bind_int64(s, 2, contact);
	sqlite3_bind_int(s, 3, max);
	return each_row(d, STMT_CONV_HISTORY, 4, cb, arg, __func__);
}
