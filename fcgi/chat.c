/*
 * chat.c: the worker's side of the chatbot.  While a batch of journal
 * entries is applied, chat_note() keeps each new inbound message; before
 * the batch commits, chat_run() answers them in Meta's timestamp order per
 * contact, so the bot's replies are queued in the transaction that stored
 * their cause (DESIGN rule 4): a crash delays a reply, never loses it, and
 * a replayed entry (its messages already known) answers nothing twice.
 *
 * The bot stays silent for late redeliveries (older than the 24-hour
 * window), contacts who opted out (but confirms STOP and START), and
 * conversations handed to a person.  A conversation handed to an AI agent
 * gets an agent_requests row instead; the sender calls the agent.
 *
 * Each business number runs its own flow (issue 13): the numbers table's
 * flow_path for an active number that has one, WA_FLOW_FILE for every
 * other.  All are loaded and checked at start (a bad one stops the
 * worker, naming the number and the file); a changed flow or a number
 * given a flow later takes effect when the worker restarts (it does not
 * reload on SIGHUP).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bsd/string.h>
#include <jansson.h>

#include "bot.h"
#include "buf.h"
#include "cfg.h"
#include "chat.h"
#include "db.h"
#include "flow.h"
#include "log.h"
#include "outbox.h"
#include "policy.h"
#include "webhook.h"
#include "url.h"

#define HISTORY		20		/* messages sent to an agent */
#define RECENT_ORDERS	5

/* A new inbound message, copied out of the batch that is freed. */
struct note {
	char	*pnid, *from, *wamid, *type, *text, *reply_id, *media_id;
	int64_t	 ts;
	size_t	 seq;		/* arrival order, to keep sorting stable */
};

/* A number's own flow. */
struct nflow {
	char		 pnid[32];
	struct flow	*flow;
};

struct chat {
	struct db		*db;
	const struct cfg	*cfg;
	struct flow		*flow;		/* WA_FLOW_FILE */
	struct nflow		*nflows;	/* by pnid, sorted; from malloc() */
	size_t			 nnflows;
	struct note		*notes;		/* from malloc() */
	size_t			 n, cap;
};

/* What the data callbacks need. */
struct ask {
	struct chat	*c;
	const struct flow *flow;	/* the number's */
	const char	*pnid;
	int64_t		 contact;
	int64_t		 now;
	char		*buf;		/* text lookups: the caller's buffer */
	size_t		 sz;
	struct bot_order *order;
};

static const char stop_ack[] = "You will get no more messages from us "
    "here. Send START at any time to hear from us again.";
static const char start_ack[] = "Welcome back: you will get our messages "
    "again. Send STOP at any time to opt out.";
static const char agent_fallback[] = "Sorry, our assistant cannot answer "
    "right now. A person from our team will reply to you here.";

/* Reads a whole file into a buf.  0 or -1 with err set. */
static int
slurp(const char *path, struct buf *b, char *err, size_t errsz)
{
	FILE	*f;
	char	 chunk[8192];
	size_t	 n;

	if ((f = fopen(path, "r")) == NULL) {
		(void)snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (b->len + n > FLOW_FILE_MAX || buf_append(b, chunk, n) == -1) {
			(void)snprintf(err, errsz, "%s: larger than %d bytes",
			    path, FLOW_FILE_MAX);
			(void)fclose(f);
			return -1;
		}
	if (ferror(f)) {
		(void)snprintf(err, errsz, "%s: read error", path);
		(void)fclose(f);
		return -1;
	}
	(void)fclose(f);
	return 0;
}

/* Loads and checks the flow at path, printing every problem.  0 or -1. */
static struct flow *
load(const char *path, FILE *out, char *err, size_t errsz)
{
	struct flow_report	 rep;
	struct flow		*f;
	struct buf		 b;
	size_t			 i;

	buf_init(&b);
	if (slurp(path, &b, err, errsz) == -1) {
		buf_clear(&b);
		return NULL;
	}
	f = flow_load(b.p != NULL ? b.p : "", b.len, &rep);
	buf_clear(&b);
	if (f == NULL) {
		for (i = 0; out != NULL && i < rep.n; i++)
			(void)fprintf(out, "%s: %s\n", path, rep.lines[i]);
		(void)snprintf(err, errsz, "%s: %zu problem%s in the flow file%s",
		    path, rep.total, rep.total == 1 ? "" : "s",
		    rep.n > 0 ? ": " : "");
		if (rep.n > 0)
			(void)strlcat(err, rep.lines[0], errsz);
	}
	return f;
}

/* `wactl flows check FILE`: 0 when the flow is usable, else 1. */
int
chat_check_file(const char *path)
{
	struct flow	*f;
	char		 err[512];

	if ((f = load(path, stderr, err, sizeof(err))) == NULL) {
		(void)fprintf(stderr, "%s\n", err);
		return 1;
	}
	(void)printf("%s: %zu nodes, %zu keywords: OK\n", path, f->nnodes,
	    f->nkws);
	flow_free(f);
	return 0;
}

/*
 * Every WA_AGENTS URL must be allowed by WA_ALLOW_LOCAL_URLS (cfg.c
 * checked their form).  0, or -1 with a sentence in err.
 */
static int
agents_check(const struct cfg *cfg, char *err, size_t errsz)
{
	char		 url[600];
	const char	*w, *e, *eq, *why;
	size_t		 n;

	for (w = cfg->agents != NULL ? cfg->agents : ""; *w != '\0';
	    w = *e ? e + 1 : e) {
		e = w + strcspn(w, ",");
		if ((eq = memchr(w, '=', (size_t)(e - w))) == NULL ||
		    (n = (size_t)(e - eq - 1)) >= sizeof(url))
			continue;
		memcpy(url, eq + 1, n);
		url[n] = '\0';
		if (!url_agent_ok(url, cfg->allow_local, &why)) {
			(void)snprintf(err, errsz, "WA_AGENTS: agent %.*s %s",
			    (int)(eq - w), w, why);
			return -1;
		}
	}
	return 0;
}

/*
 * A flow that names an AI agent needs WA_AGENT_SECRET, and its agent_url
 * must pass WA_ALLOW_LOCAL_URLS.  0, or -1 with a sentence in err.
 */
static int
flow_agent_check(const struct cfg *cfg, const struct flow *f,
    const char *path, char *err, size_t errsz)
{
	const char *why;

	if ((f->agent_url != NULL || (cfg->agents != NULL &&
	    cfg->agents[0] != '\0')) &&
	    cfg->agent_secret[0] == '\0') {
		(void)snprintf(err, errsz, "%s names an AI agent: set "
		    "WA_AGENT_SECRET to a random string shared with it, so it "
		    "can check that calls come from us",
		    f->agent_url != NULL ? path : "WA_AGENTS");
		return -1;
	}
	if (f->agent_url != NULL && !url_agent_ok(f->agent_url,
	    cfg->allow_local, &why)) {
		(void)snprintf(err, errsz, "%s: agent_url %s", path, why);
		return -1;
	}
	return 0;
}

/* The numbers table's phone_number_ids, for chat_new(). */
struct pnids {
	char	(*v)[32];
	size_t	  n;
	int	  oom;
};

static void
on_number(void *arg, const char *const *col)
{
	struct pnids	*l = arg;
	char		(*v)[32];

	/* Columns: pnid, ..., removed_at (7): a removed number runs none. */
	if (l->oom || col[0] == NULL || strlen(col[0]) >= sizeof(*v) ||
	    (col[7] != NULL && col[7][0] != '\0'))
		return;
	if ((v = reallocarray(l->v, l->n + 1, sizeof(*v))) == NULL) {
		l->oom = 1;
		return;
	}
	l->v = v;
	(void)strlcpy(l->v[l->n++], col[0], sizeof(*v));
}

static int
nflow_cmp(const void *a, const void *b)
{
	return strcmp(((const struct nflow *)a)->pnid,
	    ((const struct nflow *)b)->pnid);
}

/*
 * Loads the flow of every active number that names one.  0, or -1 with
 * a sentence in err naming the number and its file.
 */
static int
load_numbers(struct chat *c, char *err, size_t errsz)
{
	struct pnids		 l = { NULL, 0, 0 };
	struct db_number	 row;
	struct nflow		*nf;
	char			 why[400];
	size_t			 i;
	int			 rc = -1;

	if (db_number_list(c->db, on_number, &l) < 0 || l.oom) {
		(void)snprintf(err, errsz, "cannot read the numbers table for "
		    "their flows");
		goto done;
	}
	if (l.n > 0 && (c->nflows = calloc(l.n, sizeof(*c->nflows))) ==
	    NULL) {
		(void)snprintf(err, errsz, "out of memory");
		goto done;
	}
	for (i = 0; i < l.n; i++) {
		if (db_number_get(c->db, l.v[i], &row) == -1) {
			(void)snprintf(err, errsz, "number %s: cannot read its "
			    "row", l.v[i]);
			goto done;
		}
		if (strcmp(row.pnid, l.v[i]) != 0 || row.flow_path[0] == '\0')
			continue;
		nf = &c->nflows[c->nnflows];
		(void)strlcpy(nf->pnid, row.pnid, sizeof(nf->pnid));
		if ((nf->flow = load(row.flow_path, stderr, why,
		    sizeof(why))) == NULL ||
		    flow_agent_check(c->cfg, nf->flow, row.flow_path, why,
		    sizeof(why)) == -1) {
			(void)snprintf(err, errsz, "number %s: its flow file "
			    "(wactl numbers edit --flow): %s", row.pnid, why);
			flow_free(nf->flow);
			nf->flow = NULL;
			goto done;
		}
		c->nnflows++;
	}
	qsort(c->nflows, c->nnflows, sizeof(*c->nflows), nflow_cmp);
	rc = 0;
done:
	free(l.v);
	return rc;
}

/* The flow number pnid runs: its own, else WA_FLOW_FILE's. */
static const struct flow *
flow_of(const struct chat *c, const char *pnid)
{
	struct nflow	 key, *nf;

	if (c->nnflows == 0 || strlen(pnid) >= sizeof(key.pnid))
		return c->flow;
	(void)strlcpy(key.pnid, pnid, sizeof(key.pnid));
	nf = bsearch(&key, c->nflows, c->nnflows, sizeof(*c->nflows),
	    nflow_cmp);
	return nf != NULL ? nf->flow : c->flow;
}

/*
 * Loads WA_FLOW_FILE and the flows of the numbers that name their own.
 * A flow that names an AI agent needs WA_AGENT_SECRET.  Returns the chat
 * (caller frees with chat_free()) or NULL with a sentence in err.
 */
struct chat *
chat_new(struct db *d, const struct cfg *cfg, char *err, size_t errsz)
{
	struct chat	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		(void)snprintf(err, errsz, "out of memory");
		return NULL;
	}
	c->db = d;
	c->cfg = cfg;
	if ((c->flow = load(cfg->flow_file, stderr, err, errsz)) == NULL) {
		free(c);
		return NULL;
	}
	if (flow_agent_check(cfg, c->flow, cfg->flow_file, err, errsz) ==
	    -1 || agents_check(cfg, err, errsz) == -1 ||
	    load_numbers(c, err, errsz) == -1) {
		chat_free(c);
		return NULL;
	}
	return c;
}

static void
note_clear(struct note *n)
{
	free(n->pnid);
	free(n->from);
	free(n->wamid);
	free(n->type);
	free(n->text);
	free(n->reply_id);
	free(n->media_id);
	memset(n, 0, sizeof(*n));
}

void
chat_forget(struct chat *c)
{
	while (c != NULL && c->n > 0)
		note_clear(&c->notes[--c->n]);
}

void
chat_free(struct chat *c)
{
	size_t i;

	if (c == NULL)
		return;
	chat_forget(c);
	free(c->notes);
	flow_free(c->flow);
	for (i = 0; i < c->nnflows; i++)
		flow_free(c->nflows[i].flow);
	free(c->nflows);
	free(c);
}

static char *
dup_or_null(const char *s, int *oom)
{
	char *p;

	if (s == NULL)
		return NULL;
	if ((p = strdup(s)) == NULL)
		*oom = 1;
	return p;
}

/*
 * Keeps a newly stored inbound message for chat_run().  c may be NULL
 * (WA_BOT=off): then it, chat_run() and chat_forget() do nothing.
 * Returns 0 or -1.
 */
int
chat_note(struct chat *c, const struct wh_item *it)
{
	struct note	*n;
	int		 oom = 0;

	if (c == NULL || it->kind != WH_MESSAGE || it->from == NULL ||
	    it->phone_number_id == NULL)
		return 0;	/* a BSUID-only sender: nothing to answer yet */
	/* A late redelivery: answering it now would confuse (reference 3). */
	if (policy_inbound_late(it->timestamp, (int64_t)time(NULL)))
		return 0;
	if (c->n == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 64;

		if ((n = reallocarray(c->notes, ncap, sizeof(*n))) == NULL)
			return -1;
		c->notes = n;
		c->cap = ncap;
	}
	n = &c->notes[c->n];
	memset(n, 0, sizeof(*n));
	n->pnid = dup_or_null(it->phone_number_id, &oom);
	n->from = dup_or_null(it->from, &oom);
	n->wamid = dup_or_null(it->wamid, &oom);
	n->type = dup_or_null(it->type, &oom);
	/* A tapped button's title is what a typed answer would be. */
	n->text = dup_or_null(it->text != NULL ? it->text : it->reply_title,
	    &oom);
	n->reply_id = dup_or_null(it->reply_id, &oom);
	n->media_id = dup_or_null(it->media_id, &oom);
	n->ts = it->timestamp;
	n->seq = c->n;
	if (oom) {
		note_clear(n);
		return -1;
	}
	c->n++;
	return 0;
}

/* Per contact, in Meta's time, then arrival order. */
static int
note_cmp(const void *a, const void *b)
{
	const struct note	*x = a, *y = b;
	int			 r;

	if ((r = strcmp(x->pnid, y->pnid)) != 0 ||
	    (r = strcmp(x->from, y->from)) != 0)
		return r;
	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Appends a formatted line to the lookup buffer; cuts with "..." when full. */
static void
addf(struct ask *a, const char *fmt, ...)
{
	va_list	 ap;
	size_t	 len = strlen(a->buf);
	int	 n;

	if (len + 4 >= a->sz)
		return;
	va_start(ap, fmt);
	n = vsnprintf(a->buf + len, a->sz - len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= a->sz - len)
		(void)strlcpy(a->buf + a->sz - 4, "...", 4);
}

/* The answer for n rows; the text loses its last newline. */
static enum bot_rc
lookup_rc(struct ask *a, int n)
{
	size_t len = a->buf != NULL ? strlen(a->buf) : 0;

	if (len > 0 && a->buf[len - 1] == '\n')
		a->buf[len - 1] = '\0';
	return n > 0 ? BOT_FOUND : n == 0 ? BOT_NOT_FOUND : BOT_FAILED;
}

static void
on_order(void *arg, const char *const *col)
{
	struct ask *a = arg;

	(void)strlcpy(a->order->number, col[0], sizeof(a->order->number));
	(void)strlcpy(a->order->status, col[1], sizeof(a->order->status));
	(void)strlcpy(a->order->expected_delivery, col[2][0] ? col[2] :
	    "not known yet", sizeof(a->order->expected_delivery));
}

static void
on_order_line(void *arg, const char *const *col)
{
	struct ask *a = arg;

	addf(a, "- %s%s%s\n", col[0], col[1][0] ? " x " : "", col[1]);
}

static enum bot_rc
cb_order_get(void *arg, const char *wa_id, const char *number,
    struct bot_order *o)
{
	struct ask	*a = arg;
	int		 rc;

	memset(o, 0, sizeof(*o));
	a->order = o;
	a->buf = o->lines;
	a->sz = sizeof(o->lines);
	rc = db_order_get(a->c->db, a->pnid, wa_id, number, on_order,
	    on_order_line, a);
	return lookup_rc(a, rc);
}

static void
on_recent(void *arg, const char *const *col)
{
	struct ask *a = arg;

	addf(a, "%s: %s%s%s\n", col[0], col[1], col[2][0] ?
	    ", expected " : "", col[2]);
}

static enum bot_rc
cb_orders_recent(void *arg, const char *wa_id, char *buf, size_t sz)
{
	struct ask *a = arg;

	buf[0] = '\0';
	a->buf = buf;
	a->sz = sz;
	return lookup_rc(a, db_orders_recent(a->c->db, a->pnid, wa_id,
	    RECENT_ORDERS, on_recent, a));
}

static void
on_step(void *arg, const char *const *col)
{
	struct ask *a = arg;

	if (strcmp(col[2], col[3]) == 0)
		addf(a, "%s %s: %s\n", col[2], col[0], col[1]);
	else
		addf(a, "%s to %s %s: %s\n", col[2], col[3], col[0], col[1]);
}

/* Days (YYYY-MM-DD) of Monday and Sunday of the week `week` from now. */
static void
week_days(const struct flow *f, int64_t now, int week, char from[11],
    char to[11])
{
	struct tm	 tm;
	time_t		 t = (time_t)(now + (int64_t)f->utc_offset * 60);
	int		 wd;

	(void)gmtime_r(&t, &tm);
	wd = (tm.tm_wday + 6) % 7;	/* Monday 0 */
	t -= (time_t)wd * 86400 - (time_t)week * 7 * 86400;
	(void)gmtime_r(&t, &tm);
	(void)strftime(from, 11, "%Y-%m-%d", &tm);
	t += 6 * 86400;
	(void)gmtime_r(&t, &tm);
	(void)strftime(to, 11, "%Y-%m-%d", &tm);
}

static enum bot_rc
cb_schedule_week(void *arg, const char *wa_id, int week, char *buf, size_t sz)
{
	struct ask	*a = arg;
	char		 from[11], to[11];

	buf[0] = '\0';
	a->buf = buf;
	a->sz = sz;
	week_days(a->flow, a->now, week, from, to);
	return lookup_rc(a, db_schedule(a->c->db, a->pnid, wa_id, NULL, from, to,
	    on_step, a));
}

static enum bot_rc
cb_schedule_order(void *arg, const char *wa_id, const char *number,
    char *buf, size_t sz)
{
	struct ask *a = arg;

	buf[0] = '\0';
	a->buf = buf;
	a->sz = sz;
	return lookup_rc(a, db_schedule(a->c->db, a->pnid, wa_id, number, NULL,
	    NULL, on_step, a));
}

static void
on_ticket(void *arg, const char *const *col)
{
	struct bot_ticket *t = arg;

	(void)strlcpy(t->number, col[0], sizeof(t->number));
	(void)strlcpy(t->state, col[1], sizeof(t->state));
	(void)strlcpy(t->category, col[2], sizeof(t->category));
}

static enum bot_rc
cb_ticket_get(void *arg, const char *wa_id, const char *number,
    struct bot_ticket *t)
{
	struct ask *a = arg;

	memset(t, 0, sizeof(*t));
	a->buf = NULL;
	return lookup_rc(a, db_ticket_get(a->c->db, a->pnid, wa_id, number,
	    on_ticket, t));
}

static enum bot_rc
cb_ticket_create(void *arg, const char *wa_id,
    const struct bot_ticket_req *r, char *number, size_t sz)
{
	struct ask *a = arg;

	return db_ticket_insert(a->c->db, a->pnid, a->contact, wa_id,
	    r->category, r->description, r->media, r->nmedia,
	    (int64_t)time(NULL), number, sz) == 0 ?
	    BOT_FOUND : BOT_FAILED;
}

/* Queues one bot reply in the open transaction.  0, or -1 (db error). */
static int
reply(struct db *d, const char *pnid, const char *json, int ack)
{
	struct outbox_req	 r;
	struct msg_err		 err;
	int64_t			 id;
	int			 repeated;

	memset(&r, 0, sizeof(r));
	r.json = json;
	r.len = strlen(json);
	r.pnid = pnid;
	r.source = "bot";
	r.optout_ack = ack;
	switch (outbox_queue(d, &r, &id, &repeated, &err)) {
	case OUTBOX_OK:
		return 0;
	case OUTBOX_ERROR:
	case OUTBOX_BUSY:
		return -1;
	default:
		/* A reply the flow cannot send is a flow bug: say so. */
		log_warnx("bot reply refused: %s: %s: %s", err.code, err.field,
		    err.message);
		return 0;
	}
}

/* Queues a plain text to wa_id. */
static int
say(struct db *d, const char *pnid, const char *wa_id, const char *text,
    int ack)
{
	json_t	*o;
	char	*s;
	int	 rc = -1;

	o = json_pack("{s:s, s:s, s:{s:s}}", "to", wa_id, "type", "text",
	    "text", "body", text);
	if (o != NULL && (s = json_dumps(o, JSON_COMPACT)) != NULL) {
		rc = reply(d, pnid, s, ack);
		free(s);
	}
	json_decref(o);
	return rc;
}

static void
on_history(void *arg, const char *const *col)
{
	json_t	*a = arg, *m;

	m = json_pack("{s:s, s:s, s:s, s:I}", "direction", col[0], "type",
	    col[1], "text", col[2], "timestamp", (json_int_t)strtoll(col[3],
	    NULL, 10));
	if (m != NULL)
		(void)json_array_insert_new(a, 0, m);	/* oldest first */
}

/*
 * Queues a call to the AI agent at url for message n: the conversation
 * so far and the new message (the sender posts it, signed).  0 or -1.
 */
static int
agent_request(struct chat *c, const struct note *n, int64_t contact,
    const char *url)
{
	json_t	*o, *hist;
	char	*body;
	int	 rc = -1;

	if ((hist = json_array()) == NULL)
		return -1;
	if (db_conv_history(c->db, n->pnid, contact, HISTORY, on_history,
	    hist) == -1) {
		json_decref(hist);
		return -1;
	}
	o = json_pack("{s:s, s:{s:s}, s:{s:s, s:s, s:s?, s:I}, s:o}",
	    "phone_number_id", n->pnid, "contact", "wa_id", n->from,
	    "message", "id", n->wamid, "type", n->type != NULL ? n->type : "",
	    "text", n->text, "timestamp", (json_int_t)n->ts,
	    "conversation", hist);
	if (o != NULL && (body = json_dumps(o, JSON_COMPACT)) != NULL) {
		rc = db_agent_insert(c->db, n->pnid, contact, n->from, url,
		    body, (int64_t)time(NULL) * 1000);
		free(body);
	}
	json_decref(o);
	return rc;
}

/*
 * The URL of the agent a conversation names (assignee "agent:X"): X is
 * a WA_AGENTS name or URL, or the flow's agent_url, and the URL passes
 * WA_ALLOW_LOCAL_URLS.  DESIGN rule 9: a URL that came from a request
 * is never called.  1 with url filled, or 0.
 */
static int
agent_resolve(struct chat *c, const struct flow *f, const char *x, char *url,
    size_t urlsz)
{
	const char *why;

	if (!cfg_agent_find(c->cfg, x, url, urlsz)) {
		if (f->agent_url == NULL ||
		    strcmp(f->agent_url, x) != 0 ||
		    strlcpy(url, x, urlsz) >= urlsz)
			return 0;
	}
	return url_agent_ok(url, c->cfg->allow_local, &why);
}

/* Does what the bot asked besides its replies. */
static int
act(struct chat *c, const struct note *n, int64_t contact,
    const struct bot_action *a, int64_t now)
{
	char		 day[11], who[600];
	struct tm	 tm;
	time_t		 t = (time_t)now;

	switch (a->kind) {
	case BOT_ACT_RECORD:
		(void)gmtime_r(&t, &tm);
		(void)strftime(day, sizeof(day), "%Y-%m-%d", &tm);
		return db_choice_count(c->db, n->pnid, day, a->node, a->option);
	case BOT_ACT_HAND_OFF_PERSON:
		/* Issue 16: conversation.handed_off with the change. */
		return db_conv_assign(c->db, n->pnid, contact, "person",
		    c->cfg->handoff_hours > 0 ? now + c->cfg->handoff_hours *
		    3600 : 0) == -1 ? -1 : db_event_handoff(c->db, n->pnid,
		    contact, "person", "bot", now * 1000);
	case BOT_ACT_HAND_OFF_AGENT:
		/* The customer was told; their next message goes to it. */
		(void)snprintf(who, sizeof(who), "agent:%s", a->url);
		return db_conv_assign(c->db, n->pnid, contact, who, 0) == -1 ?
		    -1 : db_event_handoff(c->db, n->pnid, contact, who, "bot",
		    now * 1000);
	default:
		return 0;	/* tickets are filed by their callback */
	}
}

/* The bot's turn for one message (inside a savepoint).  0 or -1. */
static int
handle(struct chat *c, const struct note *n, int64_t now)
{
	struct db_peer	 peer;
	struct bot_state st;
	struct bot_msg	 msg;
	struct bot_data	 data;
	struct bot_in	 in;
	struct bot_out	 out;
	struct ask	 a;
	char		 who[600], url[600];
	int64_t		 until;
	size_t		 i;
	enum policy_opt	 opt;
	int		 rc;

	if (policy_inbound_late(n->ts, now))
		return 0;	/* went late while its batch was applied */
	if (db_peer_get(c->db, n->pnid, n->from, &peer) == -1)
		return -1;
	opt = policy_opt_word(n->type, n->text, c->cfg->stop_words,
	    c->cfg->start_words);
	/*
	 * The apply already recorded the choice (the newest signal wins).
	 * A STOP is always confirmed, even when a newer START of the same
	 * batch undid it; a START is welcomed when it is the newest signal
	 * and the contact had opted out before it; from someone who never
	 * left it is an ordinary message (the menu word "start").
	 */
	if (opt == POLICY_OPT_STOP)
		return say(c->db, n->pnid, n->from, stop_ack, 1);
	if (opt == POLICY_OPT_START && !peer.opted_out &&
	    peer.opted_out_at == n->ts && peer.last_stop_at > 0 &&
	    peer.last_stop_at <= n->ts)
		return say(c->db, n->pnid, n->from, start_ack, 0);
	if (peer.opted_out)
		return 0;
	if ((rc = db_conv_assignee(c->db, n->pnid, peer.contact_id, who,
	    sizeof(who), &until)) == -1)
		return -1;
	if (rc == 1 && strcmp(who, "bot") != 0) {
		if (until > 0 && now >= until) {
			if (db_conv_assign(c->db, n->pnid, peer.contact_id,
			    "bot", 0) == -1)
				return -1;
		} else if (strncmp(who, "agent:", 6) == 0) {
			if (agent_resolve(c, flow_of(c, n->pnid), who + 6,
			    url, sizeof(url)))
				return agent_request(c, n, peer.contact_id,
				    url);
			/* Written before agents were checked, or since
			 * removed from the configuration: nothing leaves. */
			log_warnx("%s: message %s: the conversation's agent is "
			    "not configured (WA_AGENTS, the flow's agent_url); "
			    "handed to a person", __func__, n->wamid);
			/* Issue 16: conversation.handed_off with the change. */
			return db_conv_assign(c->db, n->pnid, peer.contact_id,
			    "person", 0) == -1 ? -1 : db_event_handoff(c->db,
			    n->pnid, peer.contact_id, "person", "bot",
			    now * 1000);
		} else
			return 0;	/* a person answers */
	}

	memset(&st, 0, sizeof(st));
	if (db_bot_get(c->db, n->pnid, peer.contact_id, st.node,
	    sizeof(st.node), &st.vars, &st.last_active, &st.hinted) == -1)
		return -1;
	memset(&msg, 0, sizeof(msg));
	msg.wa_id = n->from;
	msg.type = n->type;
	msg.text = n->text;
	msg.reply_id = n->reply_id;
	msg.media_id = n->media_id;
	memset(&a, 0, sizeof(a));
	a.c = c;
	a.flow = flow_of(c, n->pnid);
	a.pnid = n->pnid;
	a.contact = peer.contact_id;
	a.now = now;
	memset(&data, 0, sizeof(data));
	data.arg = &a;
	data.order_get = cb_order_get;
	data.orders_recent = cb_orders_recent;
	data.schedule_week = cb_schedule_week;
	data.schedule_order = cb_schedule_order;
	data.ticket_get = cb_ticket_get;
	data.ticket_create = cb_ticket_create;
	memset(&in, 0, sizeof(in));
	in.flow = a.flow;
	in.state = &st;
	in.msg = &msg;
	in.now = now;
	in.timeout = c->cfg->bot_idle_min * 60;
	in.data = &data;
	memset(&out, 0, sizeof(out));
	rc = bot_run(&in, &out);
	free(st.vars);
	if (rc == -1) {
		log_warnx("bot: cannot answer %s", n->wamid);
		bot_out_clear(&out);
		return 0;
	}
	for (i = 0; rc == 0 && i < out.nreplies; i++)
		rc = reply(c->db, n->pnid, out.replies[i], 0);
	for (i = 0; rc == 0 && i < out.nacts; i++)
		rc = act(c, n, peer.contact_id, &out.acts[i], now);
	if (rc == 0)
		rc = db_bot_set(c->db, n->pnid, peer.contact_id, out.state.node,
		    out.state.vars, out.state.last_active, out.state.hinted);
	bot_out_clear(&out);
	return rc;
}

/*
 * Answers the messages noted in this batch, inside the caller's
 * transaction, each in its own savepoint.  A database error while
 * answering one fails the whole batch (-1): committing the message
 * without its reply would lose the reply for good, since a replay finds
 * the message known and answers nothing.  Rolled back, the worker applies
 * the entries one by one, and only the entry whose reply fails is marked
 * failed, its body kept for replay.  The notes are forgotten either way.
 */
int
chat_run(struct chat *c)
{
	int64_t	 now = (int64_t)time(NULL);
	size_t	 i;
	int	 rc = 0;

	if (c == NULL || c->n == 0)
		return 0;
	qsort(c->notes, c->n, sizeof(*c->notes), note_cmp);
	for (i = 0; i < c->n && rc == 0; i++) {
		if (db_savepoint(c->db) == -1) {
			rc = -1;
			break;
		}
		if (handle(c, &c->notes[i], now) == -1) {
			log_warnx("bot: %s not answered: database error; its "
			    "batch is rolled back", c->notes[i].wamid);
			db_rollback_to(c->db);
			rc = -1;
		} else if (db_release(c->db) == -1)
			rc = -1;
	}
	chat_forget(c);
	return rc;
}

/*
 * The agent answered text for recipient (text NULL: it failed for good):
 * queue its answer, or a polite fallback and hand the chat to a person.
 * Called by the sender inside its transaction.  0 or -1.
 */
int
chat_agent_answer(struct db *d, const char *pnid, const char *recipient,
    const char *text)
{
	struct db_peer peer;

	if (text != NULL && text[0] != '\0')
		return say(d, pnid, recipient, text, 0);
	if (db_peer_get(d, pnid, recipient, &peer) == -1)
		return -1;
	/* Issue 16: conversation.handed_off with the change. */
	if (peer.contact_id > 0 && (db_conv_assign(d, pnid, peer.contact_id,
	    "person", 0) == -1 || db_event_handoff(d, pnid, peer.contact_id,
	    "person", "bot", (int64_t)time(NULL) * 1000) == -1))
		return -1;
	return say(d, pnid, recipient, agent_fallback, 0);
}

/*
 * Records what the agent (call `id`, try `attempts`) answered for
 * recipient: a 2xx JSON {"text": "..."} is sent to the customer; else
 * the call is tried once more, then the customer gets a polite fallback
 * and a person takes over.  Inside the caller's transaction.  0 or -1.
 */
int
chat_agent_done(struct db *d, int64_t id, const char *pnid,
    const char *recipient, int attempts, long http, const char *transport,
    const char *body, size_t len)
{
	json_t		*root = NULL, *t;
	json_error_t	 je;
	char		 why[300];
	int		 rc;

	if (http >= 200 && http <= 299 && body != NULL &&
	    (root = json_loadb(body, len, 0, &je)) != NULL &&
	    json_is_string(t = json_object_get(root, "text")) &&
	    json_string_length(t) > 0) {
		rc = chat_agent_answer(d, pnid, recipient, json_string_value(t));
		json_decref(root);
		return rc == 0 ? db_agent_finish(d, id, "answered", 0, NULL) :
		    -1;
	}
	json_decref(root);
	if (transport != NULL && transport[0] != '\0')
		(void)snprintf(why, sizeof(why), "%s", transport);
	else
		(void)snprintf(why, sizeof(why), "HTTP %ld without a JSON "
		    "{\"text\": ...} answer", http);
	log_warnx("agent call %" PRId64 " for %s failed: %s", id, recipient,
	    why);
	if (attempts < 2)
		return db_agent_finish(d, id, "queued", (int64_t)time(NULL) *
		    1000 + 1000, why);
	if (chat_agent_answer(d, pnid, recipient, NULL) == -1)
		return -1;
	return db_agent_finish(d, id, "failed", 0, why);
}
