/*
 * graph.c: turns a Graph API reply into a decision for the sender.  Meta
 * asks callers to act on error.code, not on the HTTP status or the text
 * (reference 8.1): policy_error_class() classifies the code (the HTTP
 * status only decides for replies with no usable JSON, an edge proxy's
 * 5xx) and graph_classify() turns the class into the sender's action.
 */
#include <stdio.h>
#include <string.h>

#include <bsd/string.h>
#include <jansson.h>

#include "graph.h"
#include "policy.h"

const char *const graph_action_names[GRAPH__MAX] = {
	"ok",			/* GRAPH_OK */
	"retry",		/* GRAPH_RETRY */
	"retry_number",		/* GRAPH_RETRY_NUMBER */
	"retry_pair",		/* GRAPH_RETRY_PAIR */
	"fail",			/* GRAPH_FAIL */
	"opted_out",		/* GRAPH_OPTED_OUT */
	"pause_token",		/* GRAPH_PAUSE_TOKEN */
	"breaker",		/* GRAPH_BREAKER */
};

/* What the sender does for each class of error code (policy.c). */
static const enum graph_action actions[POLICY_ERR__MAX] = {
	[POLICY_ERR_RETRY] = GRAPH_RETRY,
	[POLICY_ERR_RETRY_NUMBER] = GRAPH_RETRY_NUMBER,
	[POLICY_ERR_RETRY_PAIR] = GRAPH_RETRY_PAIR,
	[POLICY_ERR_FAIL] = GRAPH_FAIL,
	[POLICY_ERR_OPTED_OUT] = GRAPH_OPTED_OUT,
	[POLICY_ERR_PAUSE_TOKEN] = GRAPH_PAUSE_TOKEN,
	[POLICY_ERR_BREAKER] = GRAPH_BREAKER,
};

/*
 * The action for Meta error code (-1 when none) with HTTP status http:
 * the code's class comes from policy_error_class(), the one table of
 * Meta's codes (reference 8.2).
 */
enum graph_action
graph_classify(int64_t code, long http)
{
	return actions[policy_error_class(code, http)];
}

static void
copy(char *dst, size_t sz, const json_t *v)
{
	/* Longer values are cut: these are for people and logs only. */
	if (json_is_string(v))
		(void)strlcpy(dst, json_string_value(v), sz);
}

/* Copies v when it fits, else leaves dst empty: ids must be whole. */
static void
copy_whole(char *dst, size_t sz, const json_t *v)
{
	if (json_is_string(v) && strlen(json_string_value(v)) < sz)
		(void)strlcpy(dst, json_string_value(v), sz);
}

static void
fail(struct graph_reply *r, enum graph_action a, const char *why)
{
	r->action = a;
	(void)strlcpy(r->title, why, sizeof(r->title));
}

/*
 * Fills r from one reply.  transport is libcurl's error text when no
 * HTTP answer came (http 0), else NULL.  Never fails: an unreadable
 * reply becomes a decision too.
 */
void
graph_reply_parse(enum graph_want want, long http, const char *transport,
    const char *body, size_t len, struct graph_reply *r)
{
	json_t		*root = NULL, *e, *v;
	json_error_t	 jerr;
	const char	*id;

	memset(r, 0, sizeof(*r));
	r->file_size = -1;
	if (transport != NULL || http == 0) {
		/* Reference 7.5: no answer, unknown outcome; retried. */
		fail(r, GRAPH_RETRY, transport != NULL ? transport :
		    "no answer from the Graph API");
		return;
	}
	if (body != NULL && len > 0)
		root = json_loadb(body, len, 0, &jerr);
	if (http < 200 || http > 299) {
		e = json_object_get(root, "error");
		if (json_is_object(e)) {
			v = json_object_get(e, "code");
			r->code = json_is_integer(v) ? json_integer_value(v) : -1;
			copy(r->title, sizeof(r->title),
			    json_object_get(e, "message"));
			copy(r->details, sizeof(r->details), json_object_get(
			    json_object_get(e, "error_data"), "details"));
			copy(r->fbtrace, sizeof(r->fbtrace),
			    json_object_get(e, "fbtrace_id"));
		} else {
			r->code = -1;
			(void)snprintf(r->title, sizeof(r->title),
			    "HTTP %ld without a Graph error body", http);
		}
		r->action = graph_classify(r->code, http);
		if (r->code < 0)
			r->code = 0;
		json_decref(root);
		return;
	}
	if (root == NULL) {
		fail(r, GRAPH_FAIL, "HTTP 2xx with a body that is not JSON");
		return;
	}
	r->action = GRAPH_OK;
	switch (want) {
	case GRAPH_WANT_SEND:
		copy_whole(r->id, sizeof(r->id), json_object_get(
		    json_array_get(json_object_get(root, "messages"), 0), "id"));
		v = json_array_get(json_object_get(root, "contacts"), 0);
		copy_whole(r->wa_id, sizeof(r->wa_id), json_object_get(v,
		    "wa_id"));
		if (r->wa_id[0] == '\0')
			copy_whole(r->wa_id, sizeof(r->wa_id),
			    json_object_get(v, "user_id"));
		if (r->id[0] == '\0' &&
		    !json_is_true(json_object_get(root, "success")))
			fail(r, GRAPH_FAIL, "HTTP 200 without messages[0].id");
		break;
	case GRAPH_WANT_ID:
		copy_whole(r->id, sizeof(r->id), json_object_get(root, "id"));
		if (r->id[0] == '\0')
			fail(r, GRAPH_FAIL, "HTTP 200 without an id");
		break;
	case GRAPH_WANT_MEDIA:
		copy_whole(r->url, sizeof(r->url), json_object_get(root, "url"));
		copy_whole(r->mime, sizeof(r->mime), json_object_get(root,
		    "mime_type"));
		copy_whole(r->sha256, sizeof(r->sha256), json_object_get(root,
		    "sha256"));
		/* Reference 10.1: file_size is a number or a string. */
		v = json_object_get(root, "file_size");
		if (json_is_integer(v))
			r->file_size = json_integer_value(v);
		else if (json_is_string(v) && (id = json_string_value(v))[0] &&
		    strspn(id, "0123456789") == strlen(id) && strlen(id) < 16)
			(void)sscanf(id, "%lld", (long long *)&r->file_size);
		if (r->url[0] == '\0')
			fail(r, GRAPH_FAIL, "media reply without a url");
		break;
	case GRAPH_WANT__MAX:
		break;
	}
	json_decref(root);
}
