/*
 * fuzz_flow.c: libFuzzer target for flow_load(), the chatbot flow file
 * checker.  Invariants: never crashes; a refusal has 1..FLOW_REPORT_MAX
 * report lines, each non-empty and terminated, and a total at least as
 * large; an accepted flow is within the limits the bot relies on (node
 * count, options per kind, every node index in range or FLOW_NONE, the
 * start node, opening hours) and answers the time questions sensibly
 * (the next opening is not in the past and is open).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "flow.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
node_ok(const struct flow *f, size_t i)
{
	return i == FLOW_NONE || i < f->nnodes;
}

static void
check_flow(const struct flow *f)
{
	const struct flow_node	*nd;
	size_t			 i, o, maxo;
	char			 when[64];
	int64_t			 t, nx;

	if (f->nnodes == 0 || f->nnodes > FLOW_NODES_MAX ||
	    f->start >= f->nnodes || f->nranges > FLOW_RANGES_MAX ||
	    f->nmenu_words > FLOW_WORDS_MAX ||
	    f->nback_words > FLOW_WORDS_MAX ||
	    memchr(f->hours_text, '\0', sizeof(f->hours_text)) == NULL)
		abort();
	for (i = 0; i < f->nnodes; i++) {
		nd = &f->nodes[i];
		maxo = nd->kind == FLOW_LIST ? 10 : 3;
		if ((unsigned)nd->kind >= FLOW_KIND__MAX || nd->id == NULL ||
		    strlen(nd->id) < 1 || strlen(nd->id) > FLOW_ID_MAX ||
		    nd->nopts > maxo || !node_ok(f, nd->next) ||
		    !node_ok(f, nd->parent) ||
		    ((nd->kind == FLOW_BUTTONS || nd->kind == FLOW_LIST) &&
		    nd->nopts < 1))
			abort();
		for (o = 0; o < nd->nopts; o++)
			if ((unsigned)nd->opts[o].act >= FLOW_ACT__MAX ||
			    nd->opts[o].id == NULL ||
			    nd->opts[o].title == NULL ||
			    !node_ok(f, nd->opts[o].go))
				abort();
	}
	for (i = 0; i < f->nkws; i++)
		if (!node_ok(f, f->kws[i].go) || f->kws[i].phrase == NULL)
			abort();
	for (i = 0; i < f->nranges; i++)
		if (f->ranges[i].from < 0 || f->ranges[i].to <= f->ranges[i].from)
			abort();
	/* A Monday noon and a Sunday night, 2026. */
	for (t = 1767614400; t <= 1767614400 + 7 * 86400; t += 6 * 86400 + 43200) {
		nx = flow_next_open(f, t);
		if (nx < t || (flow_is_open(f, t) && nx != t) ||
		    (f->nranges == 0 && !flow_is_open(f, t)) ||
		    (f->nranges > 0 && nx - t <= 8 * 86400 &&
		    !flow_is_open(f, nx)))
			abort();
		if (flow_when(f, t, when, sizeof(when)) == 0 &&
		    memchr(when, '\0', sizeof(when)) == NULL)
			abort();
	}
	if (flow_tz(f, when, sizeof(when)) == -1)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct flow_report	*r;
	struct flow		*f;
	size_t			 i;

	if ((r = malloc(sizeof(*r))) == NULL)
		return 0;
	if ((f = flow_load((const char *)data, size, r)) != NULL) {
		check_flow(f);
		flow_free(f);
	} else {
		if (r->n < 1 || r->n > FLOW_REPORT_MAX || r->total < r->n ||
		    (r->total > r->n && r->n != FLOW_REPORT_MAX))
			abort();
		for (i = 0; i < r->n; i++)
			if (memchr(r->lines[i], '\0', FLOW_LINE_MAX) == NULL ||
			    r->lines[i][0] == '\0')
				abort();
	}
	free(r);
	return 0;
}
