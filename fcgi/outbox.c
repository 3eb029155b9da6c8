/*
 * outbox.c: queues a message after every check that can be made before
 * calling Meta: the request against Meta's limits (msg_parse), the 24-hour
 * customer-service window, the contact's opt-out and the messaging tier's
 * reach (reference 9.3, 9.4; DESIGN rule 5).  A refused request writes
 * nothing.  The sender calls outbox_check() again just before it sends,
 * because a window can close and a contact can opt out while a row waits.
 *
 * The tier's reach is counted per business number (issue 13), against
 * that number's messaging_limit_tier as Meta last reported it (wactl
 * numbers add, or a webhook), else WA_TIER_LIMIT; WA_TIER_LIMIT=0 turns
 * the check off for every number.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bsd/string.h>

#include "counters.h"
#include "clock.h"
#include "db.h"
#include "log.h"
#include "outbox.h"
#include "policy.h"

static void
refuse(struct msg_err *err, const char *code, const char *field,
    const char *message)
{
	(void)strlcpy(err->code, code, sizeof(err->code));
	(void)strlcpy(err->field, field, sizeof(err->field));
	(void)strlcpy(err->message, message, sizeof(err->message));
}

/*
 * Window and opt-out for a send of kind to recipient at now_s, as
 * policy_send() decides them; *bi is set when the send is
 * business-initiated (a template outside the window).
 */
static enum outbox_rc
check(struct db *d, const char *pnid, const char *recipient,
    const char *kind, int free_form, int64_t now_s, int ack, int *bi,
    struct msg_err *err)
{
	struct db_peer		 p;
	struct policy_peer	 pp;

	*bi = 0;
	if (recipient == NULL || recipient[0] == '\0' ||
	    strcmp(kind, "read") == 0)
		return OUTBOX_OK;
	if (db_peer_get(d, pnid, recipient, &p) == -1)
		return OUTBOX_ERROR;
	pp.window_expires_at = p.window_expires_at;
	pp.last_inbound_at = p.last_inbound_at;
	pp.opted_out_at = p.opted_out_at;
	pp.opted_out = p.opted_out;
	switch (policy_send(&pp, strcmp(kind, "template") == 0, free_form, ack,
	    now_s, bi)) {
	case POLICY_SEND_WINDOW_CLOSED:
		refuse(err, "window_closed", "to", "The customer has not "
		    "written in the last 24 hours, so only an approved "
		    "template may be sent to them; send a template instead.");
		counters_add(CNT_WINDOW_REFUSED, 1);
		return OUTBOX_WINDOW_CLOSED;
	case POLICY_SEND_OPTED_OUT:
		refuse(err, "opted_out", "to", "The customer opted out of "
		    "business messages (they sent a stop keyword or turned "
		    "marketing off); nothing is sent until they opt back in.");
		counters_add(CNT_OPTOUT_REFUSED, 1);
		return OUTBOX_OPTED_OUT;
	default:
		return OUTBOX_OK;
	}
}

/* The sender's last look before calling Meta.  OUTBOX_OK to send. */
enum outbox_rc
outbox_check(struct db *d, const char *pnid, const char *recipient,
    const char *kind, int free_form, int ack, int64_t now_s,
    struct msg_err *err)
{
	int bi;

	return check(d, pnid, recipient, kind, free_form, now_s, ack, &bi,
	    err);
}

/*
 * A local file to upload must be a readable regular file within Meta's
 * size for its type (reference 9.6), checked now rather than at upload.
 */
static enum outbox_rc
check_file(const struct msg *m, struct msg_err *err)
{
	struct stat	 st;
	char		 field[64];
	off_t		 cap = 100LL * 1024 * 1024;

	(void)snprintf(field, sizeof(field), "%s.file", msg_kind_names[m->kind]);
	if (stat(m->media_file, &st) == -1 || !S_ISREG(st.st_mode) ||
	    access(m->media_file, R_OK) == -1) {
		refuse(err, "file_unreadable", field, errno == ENOENT ?
		    "The file does not exist." : "The file is not a readable "
		    "regular file.");
		return OUTBOX_INVALID;
	}
	if (m->kind == MSG_STICKER)
		cap = 500 * 1024;
	else if (m->kind == MSG_IMAGE)
		cap = 5 * 1024 * 1024;
	else if (m->kind == MSG_VIDEO || m->kind == MSG_AUDIO)
		cap = 16 * 1024 * 1024;
	if (st.st_size > cap || st.st_size == 0) {
		refuse(err, "file_size", field, "The file is empty or larger "
		    "than Meta accepts for this kind (image 5 MB, video and "
		    "audio 16 MB, sticker 500 KB, document 100 MB).");
		return OUTBOX_INVALID;
	}
	return OUTBOX_OK;
}

/*
 * A product or product_list send that names no catalog takes the sending
 * number's (`wactl numbers edit --catalog`, reference 15.4); a number
 * without one is a refusal.
 */
static enum outbox_rc
fill_catalog(struct db *d, const char *pnid, struct msg *m,
    struct msg_err *err)
{
	char	cat[64];
	int	k;

	if ((k = db_number_catalog(d, pnid, cat, sizeof(cat))) == -1 ||
	    (k == 1 && msg_set_catalog(m, cat) == -1)) {
		refuse(err, "unavailable", "", "The sending number's catalog "
		    "could not be read; try again.");
		return OUTBOX_ERROR;
	}
	if (k == 0) {
		refuse(err, "catalog_required", "interactive.action.catalog_id",
		    "Give interactive.action.catalog_id, or set the sending "
		    "number's catalog with `wactl numbers edit LABEL "
		    "--catalog ID`.");
		return OUTBOX_INVALID;
	}
	return OUTBOX_OK;
}

/*
 * The tier limit of pnid: its numbers row's tier when known, else
 * fallback (WA_TIER_LIMIT).  0 unlimited, or -1 on a database error.
 */
static int64_t
tier_limit_of(struct db *d, const char *pnid, int64_t fallback)
{
	struct db_number	 n;
	int64_t			 reach;
	int			 rc;

	if ((rc = db_number_get(d, pnid, &n)) == -1)
		return -1;
	if (rc == 1 && strcmp(n.pnid, pnid) == 0 &&
	    (reach = policy_tier_reach(n.tier)) >= 0)
		return reach;
	return fallback;
}

/* The checks and the insert, inside the caller's transaction. */
static enum outbox_rc
queue(struct db *d, const struct outbox_req *r, const struct msg *m,
    int64_t *id, int *repeated, struct msg_err *err)
{
	struct db_outbox_new	 n;
	enum outbox_rc		 rc;
	int64_t			 now = clock_now_ms(), count, limit;
	int			 bi, already, k;

	if (r->idem_key != NULL &&
	    (k = db_outbox_by_key(d, r->pnid, r->idem_key, id)) != 0) {
		*repeated = k == 1;
		return k == 1 ? OUTBOX_OK : OUTBOX_ERROR;
	}
	if ((rc = check(d, r->pnid, m->to, msg_kind_names[m->kind],
	    m->free_form, now / 1000, r->optout_ack, &bi, err)) != OUTBOX_OK)
		return rc;
	if (bi && r->tier_limit > 0) {
		if ((limit = tier_limit_of(d, r->pnid, r->tier_limit)) == -1 ||
		    db_tier_count(d, r->pnid, m->to, now - POLICY_TIER_SPAN_S *
		    1000LL, &count, &already) == -1)
			return OUTBOX_ERROR;
		if (limit > 0 && policy_tier_refuses(count, already, limit)) {
			refuse(err, "tier_limit", "to", "The messaging tier's "
			    "limit of contacts this number may reach with "
			    "templates in 24 hours is used up (its tier, else "
			    "WA_TIER_LIMIT); try later.");
			return OUTBOX_TIER_LIMIT;
		}
	}
	memset(&n, 0, sizeof(n));
	n.pnid = r->pnid;
	n.recipient = m->to[0] && m->kind != MSG_READ ? m->to : NULL;
	n.kind = msg_kind_names[m->kind];
	n.body = m->body;
	n.text = m->text;
	n.reply_to = m->reply_to[0] ? m->reply_to : NULL;
	n.media_file = m->media_file;
	n.media_mime = m->media_mime;
	n.source = r->source;
	n.idem_key = r->idem_key;
	n.free_form = m->free_form;
	n.business_initiated = bi;
	n.optout_ack = r->optout_ack;
	n.user_id = r->user_id;
	switch (db_outbox_insert(d, &n, now, id)) {
	case DB_OK:
		return OUTBOX_OK;
	case DB_BUSY:
		return OUTBOX_BUSY;
	default:
		return OUTBOX_ERROR;
	}
}

/*
 * Validates r->json and queues it.  Returns OUTBOX_OK with *id (and
 * *repeated = 1 when an earlier request with the same idempotency key
 * already made that row), or a refusal with err filled.  Opens its own
 * transaction unless the caller holds one (the bot, inside the apply).
 */
enum outbox_rc
outbox_queue(struct db *d, const struct outbox_req *r, int64_t *id,
    int *repeated, struct msg_err *err)
{
	struct msg	 m;
	enum outbox_rc	 rc;
	enum db_rc	 brc;
	int		 own = !db_in_transaction(d);

	memset(err, 0, sizeof(*err));
	*repeated = 0;
	if (msg_parse(r->json, r->len, r->flags, &m, err) == -1)
		return OUTBOX_INVALID;
	if (m.media_file != NULL && check_file(&m, err) != OUTBOX_OK) {
		msg_clear(&m);
		return OUTBOX_INVALID;
	}
	if (m.need_catalog &&
	    (rc = fill_catalog(d, r->pnid, &m, err)) != OUTBOX_OK) {
		msg_clear(&m);
		return rc;
	}
	if (own && (brc = db_begin(d)) != DB_OK) {
		msg_clear(&m);
		refuse(err, "unavailable", "", "The database is busy; try "
		    "again.");
		return brc == DB_BUSY ? OUTBOX_BUSY : OUTBOX_ERROR;
	}
	rc = queue(d, r, &m, id, repeated, err);
	if (own) {
		if (rc == OUTBOX_OK && db_commit(d) == -1)
			rc = OUTBOX_ERROR;
		else if (rc != OUTBOX_OK)
			db_rollback(d);
	}
	if (rc == OUTBOX_ERROR || rc == OUTBOX_BUSY)
		refuse(err, "unavailable", "", "The message could not be "
		    "queued because of a database error; try again.");
	msg_clear(&m);
	return rc;
}
