/*
 * api_types.c: what the richer sends bring back, shown in the message
 * lists (GET /messages, GET /conversations/{id}/messages): a Flow's answer
 * (nfm_reply) with its response decoded and an order's items, read from
 * the raw webhook item each message row keeps (messages.raw).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api_int.h"
#include "db.h"
#include "log.h"
#include "msg.h"

/*
 * Adds "flow_reply" or "order" to each row of rows (api_on_row()'s
 * objects) that is such a reply.  Only rows typed interactive or order
 * cost a lookup, by rowid.  A row that cannot be decorated stays as it
 * is: the page is still right, only less rich.
 */
void
api_show_replies(struct call *c, json_t *rows)
{
	json_t		*row;
	const char	*type;
	char		*raw;
	size_t		 i;
	int		 k;

	json_array_foreach(rows, i, row) {
		type = json_string_value(json_object_get(row, "type"));
		if (type == NULL || (strcmp(type, "interactive") != 0 &&
		    strcmp(type, "order") != 0) ||
		    !json_is_integer(json_object_get(row, "id")))
			continue;
		k = db_msg_reply_raw(c->db, (int64_t)json_integer_value(
		    json_object_get(row, "id")), &raw);
		if (k == -1) {
			log_warnx("%s: message replies not shown", __func__);
			return;
		}
		if (k == 1 && msg_reply_show(row, raw) == -1)
			log_warnx("%s: out of memory", __func__);
		free(raw);
	}
}
