/*
 * api_scope.c: the numbers a call covers (DESIGN rule 10).  c->known
 * holds the numbers table (and WHATSAPP_PHONE_NUMBER_ID, which an install
 * that never ran `wactl migrate` may not have there); a key limited to
 * numbers (api_key_numbers) sees those alone, any other key every known
 * one; number= narrows that.  Storage gets the result as a JSON array
 * (c->numbers); a webhook's number that is in neither stays out of the
 * API until `wactl numbers add` names it.  Also the number a send goes
 * from, and the label every row carries.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "api_int.h"
#include "buf.h"
#include "cfg.h"
#include "db.h"
#include "param.h"
#include "req.h"

/* db_number_list() row: pnid, label, display, ..., removed_at. */
static void
on_known(void *arg, const char *const *col)
{
	json_t *known = arg;

	(void)json_object_set_new(known, col[0], json_pack("{s:s, s:s, s:b}",
	    "label", col[1], "display", col[2], "active", col[7][0] == '\0'));
}

/* Loads c->known.  0, or -1 with the answer sent. */
int
api_scope_load(struct call *c)
{
	const char *cfgn = c->cfg->phone_number_id;

	if ((c->known = json_object()) == NULL) {
		(void)req_error(c->r, 503, NULL, "unavailable", "Out of memory.");
		return -1;
	}
	if (db_number_list(c->db, on_known, c->known) == -1) {
		api_db_trouble(c, "The business numbers could not be read; try "
		    "again.");
		return -1;
	}
	if (cfgn != NULL && *cfgn != '\0' && json_object_get(c->known,
	    cfgn) == NULL)
		(void)json_object_set_new(c->known, cfgn, json_pack(
		    "{s:n, s:s, s:b}", "label", "display", "", "active", 1));
	return 0;
}

/* 1 when the call's key may see pnid (whatever number= says). */
static int
key_sees(const struct call *c, const char *pnid)
{
	return c->keyset != NULL ? json_object_get(c->keyset, pnid) != NULL :
	    json_object_get(c->known, pnid) != NULL;
}

/*
 * The number v names, as a phone_number_id (a key of c->known or the
 * keyset, valid while the call lasts): its id, else its label, else its
 * display number in any common spelling.  NULL when none.
 */
static const char *
number_resolve(const struct call *c, const char *v)
{
	const char	*k, *disp;
	json_t		*n;
	char		 want[24], got[24];

	json_object_foreach(c->known, k, n)
		if (strcmp(k, v) == 0)
			return k;
	if (c->keyset != NULL)
		json_object_foreach(c->keyset, k, n)
			if (strcmp(k, v) == 0)
				return k;
	json_object_foreach(c->known, k, n)
		if (json_is_string(json_object_get(n, "label")) &&
		    strcasecmp(json_string_value(json_object_get(n, "label")),
		    v) == 0)
			return k;
	if (param_number_digits(v, want, sizeof(want)) == -1)
		return NULL;
	json_object_foreach(c->known, k, n) {
		disp = json_string_value(json_object_get(n, "display"));
		if (disp != NULL && param_number_digits(disp, got,
		    sizeof(got)) == 0 && strcmp(want, got) == 0)
			return k;
	}
	return NULL;
}

/* 422/400 unknown_number for v. */
static void
unknown_number(struct call *c, int status, const char *field, const char *v)
{
	char msg[300];

	(void)snprintf(msg, sizeof(msg), "No business number \"%.64s\" here: "
	    "give the phone_number_id, display number or label of a number "
	    "this API key may see (wactl numbers list).", v);
	api_fail_field(c, status, "unknown_number", field, msg);
}

/*
 * Sets c->cover and c->numbers from the key's numbers narrowed by the
 * number= values of vals (a JSON array of strings).  0, or -1 with the
 * answer sent (400 unknown_number: a number not known, or one the key
 * may not see, alike).
 */
int
api_scope_build(struct call *c, const json_t *vals)
{
	const char	*k;
	json_t		*n, *a = NULL, *v;
	size_t		 i;

	if ((c->cover = json_object()) == NULL)
		goto oom;
	json_array_foreach(vals, i, v) {
		k = number_resolve(c, json_string_value(v));
		if (k == NULL || !key_sees(c, k)) {
			unknown_number(c, 400, "number", json_string_value(v));
			return -1;
		}
		if (json_object_set(c->cover, k, json_true()) == -1)
			goto oom;
	}
	if (json_array_size(vals) == 0)
		json_object_foreach(c->keyset != NULL ? c->keyset : c->known,
		    k, n)
			if (json_object_set(c->cover, k, json_true()) == -1)
				goto oom;
	if ((a = json_array()) == NULL)
		goto oom;
	json_object_foreach(c->cover, k, n)
		if (json_array_append_new(a, json_string(k)) == -1)
			goto oom;
	if ((c->numbers = json_dumps(a, JSON_COMPACT)) == NULL)
		goto oom;
	json_decref(a);
	return 0;
oom:
	json_decref(a);
	(void)req_error(c->r, 503, NULL, "unavailable", "Out of memory.");
	return -1;
}

/* 1 when the call covers phone number id pnid (api_int.h). */
int
api_may_see(const struct call *c, const char *pnid)
{
	return pnid != NULL && c->cover != NULL &&
	    json_object_get(c->cover, pnid) != NULL;
}

/* Adds number_label to a row that names its number (phone_number_id). */
void
api_label(const struct call *c, json_t *row)
{
	const char	*p = json_string_value(json_object_get(row,
			    "phone_number_id"));
	json_t		*l;

	if (p == NULL || json_object_get(row, "number_label") != NULL)
		return;
	l = json_object_get(json_object_get(c->known, p), "label");
	(void)json_object_set_new(row, "number_label", json_is_string(l) ?
	    json_incref(l) : json_null());
}

/* The number a send goes from (api_int.h). */
const char *
api_send_from(struct call *c, const char *from)
{
	const char	*k, *one = NULL, *l;
	json_t		*n;
	struct buf	 names;
	char		 msg[400];
	size_t		 count = 0;

	if (from != NULL) {
		if ((k = number_resolve(c, from)) != NULL && key_sees(c, k) &&
		    json_is_true(json_object_get(json_object_get(c->known, k),
		    "active")))
			return k;
		unknown_number(c, 422, "from", from);
		return NULL;
	}
	buf_init(&names);
	json_object_foreach(c->known, k, n) {
		if (!key_sees(c, k) || !json_is_true(json_object_get(n,
		    "active")))
			continue;
		one = k;
		l = json_string_value(json_object_get(n, "label"));
		if (buf_printf(&names, "%s%s", count++ ? ", " : "",
		    l != NULL ? l : k) == -1)
			break;
	}
	if (count == 1) {
		buf_clear(&names);
		return one;
	}
	if (count == 0)
		(void)snprintf(msg, sizeof(msg), "This API key may send from "
		    "no active business number (wactl numbers list).");
	else
		(void)snprintf(msg, sizeof(msg), "This API key may send from "
		    "%zu numbers: say which one in from (one of %.300s).",
		    count, names.p != NULL ? names.p : "them");
	buf_clear(&names);
	api_fail_field(c, 422, count == 0 ? "unknown_number" : "from_required",
	    "from", msg);
	return NULL;
}

/* db_apikey_numbers() row: a number the key is limited to. */
static void
on_key_number(void *arg, const char *const *col)
{
	(void)json_object_set_new(arg, col[0], json_true());
}

/*
 * The numbers key id is limited to, into c->keyset (left NULL when the
 * key is not limited: it sees every number).  0, or -1 on a database
 * error (the caller answers).
 */
int
api_scope_key(struct call *c, int64_t id)
{
	int rc;

	if ((c->keyset = json_object()) == NULL ||
	    (rc = db_apikey_numbers(c->db, id, on_key_number,
	    c->keyset)) == -1)
		return -1;
	if (rc == 0) {
		json_decref(c->keyset);
		c->keyset = NULL;
	}
	return 0;
}

/*
 * Takes every number= out of the query string qs into vals (decoded)
 * and the rest into rest.  0, or -1 with the 400 sent.
 */
int
api_scope_take(struct call *c, const char *qs, json_t *vals,
    struct buf *rest)
{
	const char	*p, *e;
	struct buf	 v;
	int		 bad;

	for (p = qs; *p != '\0'; p = *e ? e + 1 : e) {
		if ((e = strchr(p, '&')) == NULL)
			e = p + strlen(p);
		if ((size_t)(e - p) < 7 || strncmp(p, "number=", 7) != 0) {
			if (e != p && buf_printf(rest, "%s%.*s", rest->len ?
			    "&" : "", (int)(e - p), p) == -1)
				goto oom;
			continue;
		}
		buf_init(&v);
		bad = buf_urldecode(&v, p + 7, (size_t)(e - p - 7)) == -1 ||
		    v.len == 0 || v.len > 64 || strlen(v.p) != v.len;
		if (bad || json_array_size(vals) >= 20) {
			buf_clear(&v);
			api_fail_field(c, 400, "bad_parameter", "number", bad ?
			    "number= must be 1 to 64 bytes: a phone_number_id, "
			    "display number or label." : "Give at most 20 "
			    "number= values.");
			return -1;
		}
		if (json_array_append_new(vals, json_string(v.p)) == -1) {
			buf_clear(&v);
			goto oom;
		}
		buf_clear(&v);
	}
	if (buf_append(rest, "", 1) == -1)	/* a C string, even empty */
		goto oom;
	return 0;
oom:
	(void)req_error(c->r, 503, NULL, "unavailable", "Out of memory.");
	return -1;
}

/* 1 when the table declares number=. */
int
api_scope_declared(const struct param *tab)
{
	for (; tab->name != NULL; tab++)
		if (strcmp(tab->name, "number") == 0)
			return 1;
	return 0;
}

/*
 * The numbers user id is limited to (user_numbers, which works as
 * api_key_numbers does), into c->keyset; left NULL when the person may
 * see every number.  0, or -1 on a database error (the caller answers).
 */
int
api_scope_user(struct call *c, int64_t id)
{
	int rc;

	if ((c->keyset = json_object()) == NULL ||
	    (rc = db_user_numbers(c->db, id, on_key_number, c->keyset)) == -1)
		return -1;
	if (rc == 0) {
		json_decref(c->keyset);
		c->keyset = NULL;
	}
	return 0;
}

/* The number v names among those the call may see (api_int.h). */
const char *
api_scope_resolve(const struct call *c, const char *v)
{
	const char *k = number_resolve(c, v);

	return k != NULL && key_sees(c, k) ? k : NULL;
}
