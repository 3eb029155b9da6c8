/*
 * webhook.c: turns a webhook body into a flat list of items, one for every
 * entry x change x message/status/error (reference section 4), so that the
 * worker can apply each on its own and one bad item never drops its
 * neighbours (DESIGN rule 2).  The only file that includes jansson for the
 * webhook; pure: no I/O.  Unknown message types, statuses and fields are
 * items like any other: stored, never rejected (reference section 3.1).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/string.h>
#include <jansson.h>

#include "policy.h"
#include "webhook.h"

#define WH_MAX_ITEMS	20000	/* a 3 MB body holds far fewer */

const char *const wh_kind_names[WH__MAX] = {
	"message",	/* WH_MESSAGE */
	"status",	/* WH_STATUS */
	"error",	/* WH_ERROR */
	"other",	/* WH_OTHER */
	"preference",	/* WH_PREFERENCE */
	"contact_sync",	/* WH_CONTACT_SYNC */
	"bad",		/* WH_BAD */
};

/* A string member, or NULL when absent or not a string. */
static const char *
str(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Epoch seconds given as a digit string or an integer; -1 when invalid. */
static int64_t
epoch(const json_t *v)
{
	const char	*s;
	char		*end;
	long long	 n;

	if (json_is_integer(v))
		return json_integer_value(v) >= 0 ? json_integer_value(v) : -1;
	if (!json_is_string(v) || (s = json_string_value(v))[0] == '\0')
		return -1;
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || n < 0)
		return -1;
	return n;
}

/* A number given as a JSON number or a numeric string (reference 5.3). */
static int
number(const json_t *v, double *out)
{
	const char	*s;
	char		*end;

	if (json_is_number(v)) {
		*out = json_number_value(v);
		return 0;
	}
	if (!json_is_string(v) || (s = json_string_value(v))[0] == '\0')
		return -1;
	errno = 0;
	*out = strtod(s, &end);
	return (errno != 0 || *end != '\0') ? -1 : 0;
}

/*
 * Appends an item for obj at the path given by fmt (at most three size_t
 * indices and one name, all bounded, so the path always fits).  Returns
 * the item or NULL when out of memory or over WH_MAX_ITEMS.
 */
static struct wh_item *
item_new(struct wh_batch *b, enum wh_kind kind, const json_t *obj,
    const char *path)
{
	struct wh_item *it, *n;

	if (b->nitems == WH_MAX_ITEMS)
		return NULL;
	if (b->nitems == b->cap) {
		size_t ncap = b->cap ? b->cap * 2 : 16;

		if ((n = reallocarray(b->items, ncap, sizeof(*n))) == NULL)
			return NULL;
		b->items = n;
		b->cap = ncap;
	}
	it = &b->items[b->nitems++];
	memset(it, 0, sizeof(*it));
	it->kind = kind;
	it->billable = -1;
	/* Always fits: bounded indices and short fixed names. */
	(void)strlcpy(it->path, path, sizeof(it->path));
	if (obj != NULL && (it->raw = json_dumps(obj,
	    JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY)) == NULL) {
		b->nitems--;
		return NULL;
	}
	return it;
}

static void
bad(struct wh_item *it, const char *why)
{
	it->kind = WH_BAD;
	it->error = why;
}

static void
first_error(struct wh_item *it, const json_t *errors)
{
	const json_t *e = json_array_get(errors, 0);

	if (!json_is_object(e))
		return;
	if (json_is_integer(json_object_get(e, "code")))
		it->err_code = json_integer_value(json_object_get(e, "code"));
	it->err_title = str(e, "title");
	it->err_message = str(e, "message");
	it->err_details = str(json_object_get(e, "error_data"), "details");
}

static void	message_body(struct wh_item *, const json_t *);

/*
 * Reference 14.1: an edit names the original and carries the new content
 * as a message object of its own; its text (body or caption) is parsed
 * as that type's would be, the item keeping type "edit".
 */
static void
edit_body(struct wh_item *it, const json_t *o)
{
	const json_t	*inner = json_object_get(o, "message");
	const char	*type = it->type, *t = str(inner, "type");

	it->original_wamid = str(o, "original_message_id");
	if (it->original_wamid == NULL || it->original_wamid[0] == '\0') {
		bad(it, "edit without original_message_id");
		return;
	}
	if (!json_is_object(inner) || t == NULL || strcmp(t, "edit") == 0 ||
	    strcmp(t, "revoke") == 0) {
		bad(it, "edit without a message of a known shape");
		return;
	}
	it->edit_type = t;
	it->type = t;
	message_body(it, inner);
	/* The edit is no reply of its own and carries no media to fetch. */
	it->type = type;
	it->media_id = NULL;
	it->context_wamid = it->context_from = NULL;
	it->new_wa_id = it->new_user_id = NULL;	/* never an id change */
}

/* Fills the type-specific columns of a message item. */
static void
message_body(struct wh_item *it, const json_t *m)
{
	static const char *const media[] = {
		"image", "video", "audio", "document", "sticker"
	};
	const json_t	*o, *ctx, *ref, *x;
	size_t		 i;
	double		 lat, lon;

	o = json_object_get(m, it->type);
	for (i = 0; i < sizeof(media) / sizeof(media[0]); i++) {
		if (strcmp(it->type, media[i]) != 0)
			continue;
		it->media_id = str(o, "id");
		it->mime_type = str(o, "mime_type");
		it->sha256 = str(o, "sha256");
		it->filename = str(o, "filename");
		it->text = str(o, "caption");
		if (it->media_id == NULL)
			bad(it, "media message without an id");
	}
	if (strcmp(it->type, "text") == 0) {
		if ((it->text = str(o, "body")) == NULL)
			bad(it, "text message without text.body");
	} else if (strcmp(it->type, "location") == 0) {
		if (number(json_object_get(o, "latitude"), &lat) == 0 &&
		    number(json_object_get(o, "longitude"), &lon) == 0 &&
		    lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180) {
			it->has_location = 1;
			it->latitude = lat;
			it->longitude = lon;
		} else
			bad(it, "location without a valid latitude/longitude");
		it->location_name = str(o, "name");
		it->location_address = str(o, "address");
		it->text = it->location_name;
	} else if (strcmp(it->type, "contacts") == 0) {
		it->text = str(json_object_get(json_array_get(o, 0), "name"),
		    "formatted_name");
	} else if (strcmp(it->type, "interactive") == 0) {
		it->interactive_type = str(o, "type");
		if (it->interactive_type != NULL &&
		    (x = json_object_get(o, it->interactive_type)) != NULL) {
			it->reply_id = str(x, "id");
			it->reply_title = str(x, "title");
			if (strcmp(it->interactive_type, "nfm_reply") == 0) {
				it->reply_id = str(x, "name");
				it->reply_title = str(x, "body");
				/* A JSON string decoded later by its reader. */
				it->text = str(x, "response_json");
			} else
				it->text = it->reply_title;
		}
	} else if (strcmp(it->type, "button") == 0) {
		it->interactive_type = "button";
		it->reply_id = str(o, "payload");
		it->reply_title = str(o, "text");
		it->text = it->reply_title;
	} else if (strcmp(it->type, "reaction") == 0) {
		it->reaction_to = str(o, "message_id");
		it->reaction_emoji = str(o, "emoji");
		if (it->reaction_to == NULL)
			bad(it, "reaction without message_id");
	} else if (strcmp(it->type, "order") == 0) {
		it->text = str(o, "text");
	} else if (strcmp(it->type, "edit") == 0) {
		edit_body(it, o);
	} else if (strcmp(it->type, "revoke") == 0 ||
	    strcmp(it->type, "deleted") == 0) {
		it->revoke = 1;
		if ((it->original_wamid = str(o, "original_message_id")) ==
		    NULL || it->original_wamid[0] == '\0')
			bad(it, "revoke without original_message_id");
	} else if (strcmp(it->type, "system") == 0) {
		it->text = str(o, "body");
		it->new_wa_id = str(o, "wa_id");
		it->new_user_id = str(o, "user_id");
	} else if (strcmp(it->type, "unsupported") == 0 ||
	    json_is_array(json_object_get(m, "errors"))) {
		first_error(it, json_object_get(m, "errors"));
	}
	if ((ctx = json_object_get(m, "context")) != NULL) {
		it->context_wamid = str(ctx, "id");
		it->context_from = str(ctx, "from");
		if (json_is_true(json_object_get(ctx, "frequently_forwarded")))
			it->forwarded = 2;
		else if (json_is_true(json_object_get(ctx, "forwarded")))
			it->forwarded = 1;
	}
	if ((ref = json_object_get(m, "referral")) != NULL) {
		it->referral_source_id = str(ref, "source_id");
		it->referral_ctwa_clid = str(ref, "ctwa_clid");
	}
}

/*
 * The profile of the customer with wa_id wa or BSUID uid in contacts,
 * filling a missing BSUID from it.  Reference 14.4: a message naming
 * neither belongs to the value's single contact when that one has a
 * user_id.
 */
static void
contact_names(struct wh_item *it, const json_t *contacts, const char **wa,
    const char **uid)
{
	const json_t	*c;
	size_t		 i;

	if (*wa == NULL && *uid == NULL) {
		c = json_array_get(contacts, 0);
		if (json_array_size(contacts) != 1 || str(c, "user_id") == NULL)
			return;
		*uid = str(c, "user_id");
		*wa = str(c, "wa_id");
	}
	json_array_foreach(contacts, i, c) {
		const char *cw = str(c, "wa_id"), *cu = str(c, "user_id");

		if ((cw != NULL && *wa != NULL && strcmp(cw, *wa) == 0) ||
		    (cu != NULL && *uid != NULL && strcmp(cu, *uid) == 0)) {
			it->profile_name = str(json_object_get(c, "profile"),
			    "name");
			it->username = str(json_object_get(c, "profile"),
			    "username");
			if (*uid == NULL)
				*uid = cu;
			break;
		}
	}
}

static void
message(struct wh_item *it, const json_t *m, const json_t *contacts)
{
	it->wamid = str(m, "id");
	it->from = str(m, "from");
	it->from_user_id = str(m, "from_user_id");
	it->type = str(m, "type");
	it->timestamp = epoch(json_object_get(m, "timestamp"));
	if (!json_is_object(m)) {
		bad(it, "message is not an object");
		return;
	}
	if (it->outbound) {
		if (str(m, "to") != NULL)
			it->to = str(m, "to");
		it->to_user_id = str(m, "to_user_id");
		contact_names(it, contacts, &it->to, &it->to_user_id);
	} else
		contact_names(it, contacts, &it->from, &it->from_user_id);
	if (it->wamid == NULL || it->wamid[0] == '\0') {
		bad(it, "message without an id");
		return;
	}
	if (strlen(it->wamid) > 128) {
		bad(it, "message id longer than 128 characters");
		return;
	}
	if (it->outbound && it->to == NULL && it->to_user_id == NULL) {
		bad(it, "message from the business without to or to_user_id");
		return;
	}
	if (!it->outbound && it->from == NULL && it->from_user_id == NULL) {
		bad(it, "message without from or from_user_id");
		return;
	}
	if (it->timestamp < 0) {
		bad(it, "message without a valid timestamp");
		return;
	}
	if (it->type == NULL || it->type[0] == '\0') {
		bad(it, "message without a type");
		return;
	}
	message_body(it, m);
}

static void
status(struct wh_item *it, const json_t *s)
{
	const json_t *conv, *pr, *b;

	if (!json_is_object(s)) {
		bad(it, "status is not an object");
		return;
	}
	it->wamid = str(s, "id");
	it->status = str(s, "status");
	it->timestamp = epoch(json_object_get(s, "timestamp"));
	it->recipient_id = str(s, "recipient_id");
	it->recipient_user_id = str(s, "recipient_user_id");
	it->biz_opaque = str(s, "biz_opaque_callback_data");
	if (it->wamid == NULL || it->wamid[0] == '\0') {
		bad(it, "status without an id");
		return;
	}
	if (strlen(it->wamid) > 128) {
		bad(it, "status id longer than 128 characters");
		return;
	}
	if (it->status == NULL || it->status[0] == '\0') {
		bad(it, "status without a status");
		return;
	}
	if (it->timestamp < 0) {
		bad(it, "status without a valid timestamp");
		return;
	}
	if ((conv = json_object_get(s, "conversation")) != NULL) {
		it->conv_id = str(conv, "id");
		it->conv_origin = str(json_object_get(conv, "origin"), "type");
		it->conv_expires = epoch(json_object_get(conv,
		    "expiration_timestamp"));
		if (it->conv_expires < 0)
			it->conv_expires = 0;
	}
	if ((pr = json_object_get(s, "pricing")) != NULL) {
		it->pricing_model = str(pr, "pricing_model");
		it->pricing_category = str(pr, "category");
		it->pricing_type = str(pr, "type");
		if (json_is_boolean(b = json_object_get(pr, "billable")))
			it->billable = json_is_true(b);
	}
	first_error(it, json_object_get(s, "errors"));
}

static void
error_item(struct wh_item *it, const json_t *e)
{
	if (!json_is_object(e)) {
		bad(it, "error is not an object");
		return;
	}
	if (json_is_integer(json_object_get(e, "code")))
		it->err_code = json_integer_value(json_object_get(e, "code"));
	it->err_title = str(e, "title");
	it->err_message = str(e, "message");
	it->err_details = str(json_object_get(e, "error_data"), "details");
}

/* The path of the i-th element of array arr in change c of entry e. */
static const char *
path3(char *p, size_t sz, size_t e, size_t c, const char *arr, size_t i)
{
	if (arr == NULL)
		(void)snprintf(p, sz, "entry[%zu].changes[%zu]", e, c);
	else
		(void)snprintf(p, sz, "entry[%zu].changes[%zu].value.%s[%zu]",
		    e, c, arr, i);
	return p;
}

/*
 * A user_preferences change (reference 3.1: a user stopped or resumed
 * marketing messages; the shape is not in the reference, so every field
 * is checked): one item per value.user_preferences[] element, besides
 * the change kept whole.  Returns 0 or -1.
 */
static int
preferences(struct wh_batch *b, const json_t *val, size_t e, size_t c,
    const char *waba, const char *pnid, int64_t etime)
{
	const json_t	*x;
	struct wh_item	*it;
	char		 p[128];
	size_t		 i;

	json_array_foreach(json_object_get(val, "user_preferences"), i, x) {
		if ((it = item_new(b, WH_PREFERENCE, x, path3(p, sizeof(p), e,
		    c, "user_preferences", i))) == NULL)
			return -1;
		it->field = "user_preferences";
		it->waba_id = waba;
		it->entry_time = etime;
		it->phone_number_id = pnid;
		it->from = str(x, "wa_id");
		it->pref_category = str(x, "category");
		it->pref_value = str(x, "value");
		it->timestamp = epoch(json_object_get(x, "timestamp"));
		if (pnid == NULL || it->from == NULL || it->pref_value == NULL ||
		    it->timestamp < 0)
			bad(it, "user preference without phone_number_id, "
			    "wa_id, value or timestamp");
	}
	return 0;
}

/*
 * Reference 14.2: smb_app_state_sync carries the address book of the
 * business's own phone, value.state_sync[] of {type, contact {full_name,
 * first_name, phone_number}, action add|remove, metadata {timestamp}}:
 * one item per contact entry (other types stay in the change kept
 * whole).  The phone number is reduced to its digits, the form of a
 * wa_id ("+1 555-000 2222" is 15550002222).  Returns 0 or -1.
 */
static int
state_sync(struct wh_batch *b, const json_t *val, size_t e, size_t c,
    const char *waba, const char *pnid, int64_t etime)
{
	const json_t	*x, *ct;
	const char	*type, *phone, *action;
	struct wh_item	*it;
	char		 p[128];
	size_t		 i, n;

	json_array_foreach(json_object_get(val, "state_sync"), i, x) {
		if ((type = str(x, "type")) == NULL ||
		    strcmp(type, "contact") != 0)
			continue;
		if ((it = item_new(b, WH_CONTACT_SYNC, x, path3(p, sizeof(p),
		    e, c, "state_sync", i))) == NULL)
			return -1;
		it->field = "smb_app_state_sync";
		it->waba_id = waba;
		it->entry_time = etime;
		it->phone_number_id = pnid;
		ct = json_object_get(x, "contact");
		if ((it->sync_name = str(ct, "full_name")) == NULL ||
		    it->sync_name[0] == '\0')
			it->sync_name = str(ct, "first_name");
		action = str(x, "action");
		it->sync_remove = action != NULL &&
		    strcmp(action, "remove") == 0;
		it->timestamp = epoch(json_object_get(json_object_get(x,
		    "metadata"), "timestamp"));
		n = 0;
		for (phone = str(ct, "phone_number"); phone != NULL &&
		    *phone != '\0'; phone++) {
			if (*phone >= '0' && *phone <= '9') {
				if (n + 1 >= sizeof(it->sync_phone))
					break;
				it->sync_phone[n++] = *phone;
			} else if (strchr("+ -().", *phone) == NULL)
				break;
		}
		it->sync_phone[n] = '\0';
		if (pnid == NULL || (phone != NULL && *phone != '\0') ||
		    n < 5 || action == NULL || (strcmp(action, "add") != 0 &&
		    !it->sync_remove) || it->timestamp < 0)
			bad(it, "state sync contact without phone_number_id, a "
			    "phone number of digits, action add or remove, or "
			    "metadata.timestamp");
	}
	return 0;
}

/* Meta's upper-case history_context.status as our status name, or NULL. */
static const char *
history_status(const json_t *m)
{
	return policy_status_name(str(json_object_get(m, "history_context"),
	    "status"));
}

/*
 * Reference 14.2: messages the business sent from the WhatsApp Business
 * app (value.message_echoes[]) and past chats imported at onboarding
 * (value.history[].threads[].messages[]), as message items with a
 * source; a history message is the business's when it is not from the
 * thread's customer.  Returns the number of items added, or -1.
 */
static int
coexistence(struct wh_batch *b, const json_t *val, size_t e, size_t c,
    const char *field, const char *waba, const char *pnid, int64_t etime)
{
	const json_t	*x, *h, *t, *contacts = json_object_get(val, "contacts");
	const char	*thread;
	struct wh_item	*it;
	char		 p[128];
	size_t		 i, j, k, first = b->nitems;
	int		 echo = json_is_array(json_object_get(val,
			    "message_echoes"));

	if (echo) {
		json_array_foreach(json_object_get(val, "message_echoes"), i,
		    x) {
			if ((it = item_new(b, WH_MESSAGE, x, path3(p,
			    sizeof(p), e, c, "message_echoes", i))) == NULL)
				return -1;
			it->field = field;
			it->waba_id = waba;
			it->phone_number_id = pnid;
			it->entry_time = etime;
			it->source = "echo";
			it->outbound = 1;
			message(it, x, contacts);
			if (pnid == NULL && it->kind != WH_BAD)
				bad(it, "change without "
				    "metadata.phone_number_id");
		}
		return (int)(b->nitems - first);
	}
	json_array_foreach(json_object_get(val, "history"), i, h) {
		json_array_foreach(json_object_get(h, "threads"), j, t) {
			thread = str(t, "id");
			json_array_foreach(json_object_get(t, "messages"), k,
			    x) {
				/* Indices are below WH_MAX_ITEMS: it fits. */
				if (snprintf(p, sizeof(p), "entry[%zu]."
				    "changes[%zu].value.history[%zu]."
				    "threads[%zu].messages[%zu]", e, c, i, j,
				    k) >= (int)sizeof(p))
					return -1;
				if ((it = item_new(b, WH_MESSAGE, x, p)) ==
				    NULL)
					return -1;
				it->field = field;
				it->waba_id = waba;
				it->phone_number_id = pnid;
				it->entry_time = etime;
				it->source = "history";
				it->outbound = thread != NULL &&
				    str(x, "from") != NULL &&
				    strcmp(str(x, "from"), thread) != 0;
				if (it->outbound)
					it->to = thread;
				message(it, x, contacts);
				it->history_status = history_status(x);
				if (it->kind != WH_BAD && (pnid == NULL ||
				    thread == NULL))
					bad(it, "history without "
					    "metadata.phone_number_id or "
					    "thread id");
			}
		}
	}
	return (int)(b->nitems - first);
}

/* Adds the items of one change.  Returns 0 or -1 (out of memory/too many). */
static int
change(struct wh_batch *b, const json_t *ch, size_t e, size_t c,
    const char *waba, int64_t etime)
{
	static const char *const arrays[] = { "messages", "statuses", "errors" };
	static const enum wh_kind kinds[] = { WH_MESSAGE, WH_STATUS, WH_ERROR };
	const json_t	*val, *x, *contacts;
	const char	*field, *pnid;
	struct wh_item	*it;
	char		 p[128];
	size_t		 a, i, first = b->nitems;
	int		 n;

	field = str(ch, "field");
	val = json_object_get(ch, "value");
	pnid = str(json_object_get(val, "metadata"), "phone_number_id");
	if (field == NULL || !json_is_object(val)) {
		if ((it = item_new(b, WH_BAD, ch, path3(p, sizeof(p), e, c,
		    NULL, 0))) == NULL)
			return -1;
		it->waba_id = waba;
		it->entry_time = etime;
		bad(it, field == NULL ? "change without a field" :
		    "change without an object value");
		return 0;
	}
	if (strcmp(field, "messages") == 0) {
		contacts = json_object_get(val, "contacts");
		for (a = 0; a < 3; a++) {
			json_array_foreach(json_object_get(val, arrays[a]),
			    i, x) {
				if ((it = item_new(b, kinds[a], x, path3(p,
				    sizeof(p), e, c, arrays[a], i))) == NULL)
					return -1;
				it->field = field;
				it->waba_id = waba;
				it->phone_number_id = pnid;
				it->entry_time = etime;
				if (kinds[a] == WH_MESSAGE)
					message(it, x, contacts);
				else if (kinds[a] == WH_STATUS)
					status(it, x);
				else
					error_item(it, x);
				/* Messages and statuses route on the number. */
				if (pnid == NULL && kinds[a] != WH_ERROR &&
				    it->kind != WH_BAD)
					bad(it, "change without "
					    "metadata.phone_number_id");
			}
		}
		if (b->nitems > first)
			return 0;
	}
	if (strcmp(field, "smb_message_echoes") == 0 ||
	    strcmp(field, "message_echoes") == 0 ||
	    strcmp(field, "history") == 0) {
		if ((n = coexistence(b, val, e, c, field, waba, pnid,
		    etime)) == -1)
			return -1;
		if (n > 0)
			return 0;
	}
	/* Any other field, or a messages change with no items: keep it. */
	if ((it = item_new(b, WH_OTHER, val, path3(p, sizeof(p), e, c, NULL,
	    0))) == NULL)
		return -1;
	it->field = field;
	it->waba_id = waba;
	it->phone_number_id = pnid;
	it->entry_time = etime;
	it->event = str(val, "event");
	if (strcmp(field, "user_preferences") == 0)
		return preferences(b, val, e, c, waba, pnid, etime);
	if (strcmp(field, "smb_app_state_sync") == 0)
		return state_sync(b, val, e, c, waba, pnid, etime);
	return 0;
}

/*
 * Parses body into b.  Returns 0, or -1 with a sentence in err when the
 * body as a whole cannot be used (not JSON, not a WhatsApp object, out of
 * memory); b is then empty.  Items that are wrong on their own come back
 * as WH_BAD.  The caller frees b with wh_batch_free() in either case.
 */
int
wh_parse(const char *body, size_t len, struct wh_batch *b, char *err,
    size_t errsz)
{
	json_error_t	 je;
	json_t		*root, *ent, *ch, *changes;
	const char	*obj, *waba;
	int64_t		 etime;
	size_t		 e, c;

	memset(b, 0, sizeof(*b));
	/* JSON_ALLOW_NUL: a \u0000 in one text must not lose the batch. */
	if ((root = json_loadb(body, len, JSON_ALLOW_NUL, &je)) == NULL) {
		(void)snprintf(err, errsz, "not valid JSON: %s at line %d "
		    "column %d", je.text, je.line, je.column);
		return -1;
	}
	b->root = root;
	if (!json_is_object(root)) {
		(void)snprintf(err, errsz, "body is not a JSON object");
		goto fail;
	}
	if ((obj = str(root, "object")) == NULL ||
	    strcmp(obj, "whatsapp_business_account") != 0) {
		(void)snprintf(err, errsz, "object is not "
		    "whatsapp_business_account");
		goto fail;
	}
	if (!json_is_array(json_object_get(root, "entry"))) {
		(void)snprintf(err, errsz, "body has no entry array");
		goto fail;
	}
	json_array_foreach(json_object_get(root, "entry"), e, ent) {
		waba = str(ent, "id");
		changes = json_object_get(ent, "changes");
		if (!json_is_array(changes)) {
			struct wh_item	*it;
			char		 p[32];

			(void)snprintf(p, sizeof(p), "entry[%zu]", e);
			if ((it = item_new(b, WH_BAD, ent, p)) == NULL)
				goto oom;
			it->waba_id = waba;
			bad(it, "entry without a changes array");
			continue;
		}
		etime = epoch(json_object_get(ent, "time"));
		json_array_foreach(changes, c, ch)
			if (change(b, ch, e, c, waba, etime > 0 ? etime : 0) ==
			    -1)
				goto oom;
	}
	return 0;
oom:
	(void)snprintf(err, errsz, "out of memory or more than %d items",
	    WH_MAX_ITEMS);
fail:
	wh_batch_free(b);
	return -1;
}

/* Frees the items, their raw JSON and the tree; accepts an empty batch. */
void
wh_batch_free(struct wh_batch *b)
{
	size_t i;

	for (i = 0; i < b->nitems; i++)
		free(b->items[i].raw);
	free(b->items);
	json_decref(b->root);
	memset(b, 0, sizeof(*b));
}
