/*
 * test_flow.c: the flow file loader.  The shipped default flow loads clean;
 * every kind of problem is reported with its JSON path, all of them in one
 * pass and within the report's bound; Meta's limits hold at the boundary
 * (at the limit accepted, one over refused, code points not bytes); opening
 * hours parse and answer "open?" and "next opening" across days and weeks.
 */
#include <stdlib.h>
#include <string.h>

#include <bsd/string.h>

#include "check.h"
#include "strs.h"
#include "flow.h"
#include "util.h"

#define DEFAULT_FLOW	"deploy/flows/default.json"






/* Test flows are written with ' for " to stay readable. */
static struct flow *
load(const char *q, struct flow_report *r)
{
	char		*j = keep(strdup(q)), *s;
	struct flow	*f;

	for (s = j; *s != '\0'; s++)
		if (*s == '\'')
			*s = '"';
	f = flow_load(j, strlen(j), r);
	return f;
}

static void
dump(const struct flow_report *r)
{
	size_t	i;

	for (i = 0; i < r->n; i++)
		fprintf(stderr, "    %s\n", r->lines[i]);
}

/* Loads without a problem. */
static int
good(const char *q)
{
	struct flow_report	 r;
	struct flow		*f = load(q, &r);

	if (f == NULL) {
		fprintf(stderr, "  refused:\n");
		dump(&r);
		return 0;
	}
	flow_free(f);
	return r.total == 0 && r.n == 0;
}

/* Refused, and one report line starts with want. */
static int
bad(const char *q, const char *want)
{
	struct flow_report	 r;
	struct flow		*f = load(q, &r);
	size_t			 i;

	if (f != NULL) {
		flow_free(f);
		fprintf(stderr, "  accepted; wanted %s\n", want);
		return 0;
	}
	for (i = 0; i < r.n; i++)
		if (strncmp(r.lines[i], want, strlen(want)) == 0)
			return 1;
	fprintf(stderr, "  no line \"%s\" in:\n", want);
	dump(&r);
	return 0;
}

/* Refused with exactly one problem, the line want. */
static int
only(const char *q, const char *want)
{
	struct flow_report	 r;
	struct flow		*f = load(q, &r);

	if (f != NULL) {
		flow_free(f);
		fprintf(stderr, "  accepted; wanted %s\n", want);
		return 0;
	}
	if (r.total == 1 && r.n == 1 && strcmp(r.lines[0], want) == 0)
		return 1;
	fprintf(stderr, "  wanted only \"%s\" in:\n", want);
	dump(&r);
	return 0;
}

/* The end of the sentence refusing an opening-hours string. */
#define HOURS_LIKE "; expected a day or days and hours like \"Mon-Fri " \
	"08:00-17:00\" or \"Sat 09:00-12:00\""

/* A start menu whose one button leads to node t, plus more nodes. */
#define FLOW(more) "{'start':'m','nodes':{'m':{'kind':'buttons','body':"   \
	"'Hi','options':[{'id':'a','title':'A','goto':'t'}]},"		    \
	"'t':{'kind':'text','body':'T'}" more "}}"

/* FLOW("") with top-level keys: top is "{'key':value," */
static char *
with(const char *top)
{
	const char	*rest = FLOW("") + 1;
	char		*p = keep(malloc(strlen(top) + strlen(rest) + 1));

	memcpy(p, top, strlen(top));
	memcpy(p + strlen(top), rest, strlen(rest) + 1);
	return p;
}

TEST(default_flow_loads)
{
	struct flow_report	 r;
	struct flow		*f;
	const struct flow_node	*m;
	size_t			 len, i, j;
	char			*p = slurp(DEFAULT_FLOW, &len);

	CHECK(p != NULL);
	if (p == NULL)
		return;
	f = flow_load(p, len, &r);
	CHECK(f != NULL && r.total == 0);
	if (f == NULL) {
		dump(&r);
		free(p);
		return;
	}
	m = &f->nodes[f->start];
	CHECK(strcmp(m->id, "main") == 0 && m->kind == FLOW_LIST);
	CHECK(m->nopts == 4);
	CHECK(f->phone != NULL && f->agent_url == NULL);
	CHECK(f->nranges == 5 && f->utc_offset == 60);
	CHECK(strcmp(f->hours_text, "Mon-Fri 08:00-17:00") == 0);
	CHECK(f->nkws > 10);
	CHECK(f->nmenu_words == 6 && f->nback_words == 1);
	/* The five parts of the product issue are there. */
	CHECK(flow_node_find(f, "order_show") != FLOW_NONE);
	CHECK(flow_node_find(f, "defect_photos") != FLOW_NONE);
	CHECK(flow_node_find(f, "sched_order_show") != FLOW_NONE);
	CHECK(flow_node_find(f, "help_call") != FLOW_NONE);
	/* Each node's parent is a menu ("back" never lands on a prompt). */
	for (i = 0; i < f->nnodes; i++) {
		CHECK(f->nodes[i].parent < f->nnodes);
		j = f->nodes[i].parent;
		CHECK(f->nodes[j].kind == FLOW_LIST ||
		    f->nodes[j].kind == FLOW_BUTTONS);
	}
	CHECK(f->nodes[flow_node_find(f, "order_show")].parent ==
	    flow_node_find(f, "orders"));
	CHECK(f->nodes[flow_node_find(f, "help_person")].parent == f->start);
	flow_free(f);
	free(p);
}

TEST(minimal_and_comments)
{
	CHECK(good(FLOW("")));
	/* "_" keys are comments anywhere. */
	CHECK(good("{'_c':1,'start':'m','nodes':{'_n':'x','m':{'_x':[],"
	    "'kind':'list','body':'B','options':[{'_o':0,'id':'a',"
	    "'title':'A','action':'menu'}]}}}"));
	flow_free(NULL);
	gc();
}

TEST(broken_json)
{
	struct flow_report	r;
	struct flow		*f;

	CHECK(bad("{'start':", "(top): line 1, column"));
	CHECK(bad("[1]", "(top): the flow must be a JSON object"));
	/* A duplicate key would hide a node. */
	CHECK(bad("{'start':'m','nodes':{'m':{},'m':{}}}",
	    "(top): line 1, column"));
	f = flow_load("{}", FLOW_FILE_MAX + 1, &r);
	CHECK(f == NULL && r.n == 1 && strstr(r.lines[0], "over") != NULL);
	f = flow_load(NULL, 0, &r);
	CHECK(f == NULL && r.total == 1);
	gc();
}

TEST(top_level)
{
	CHECK(bad("{'start':'m','colour':1,'nodes':{'m':{'kind':'list',"
	    "'body':'B','options':[{'id':'a','title':'A','action':'menu'}]}}}",
	    "colour: unknown field"));
	CHECK(bad("{'nodes':{'m':{'kind':'list','body':'B','options':[{'id':"
	    "'a','title':'A','action':'menu'}]}}}", "start: is required"));
	CHECK(bad("{'start':'x','nodes':{'m':{'kind':'list','body':'B',"
	    "'options':[{'id':'a','title':'A','action':'menu'}]}}}",
	    "start: unknown node \"x\""));
	CHECK(bad("{'start':'m','nodes':{'m':{'kind':'text','body':'B'}}}",
	    "start: must be a buttons or list node"));
	CHECK(bad("{'start':'m'}", "nodes: is required"));
	CHECK(bad("{'start':'m','nodes':[]}", "nodes: must be an object"));
	CHECK(bad("{'start':'m','nodes':{}}", "nodes: must hold 1 to"));
	CHECK(bad(with("{'version':2,"), "version: must be 1"));
	gc();
}

TEST(node_problems)
{
	CHECK(bad(FLOW(",'x':{'kind':'menu','body':'B'}"),
	    "nodes.x.kind: unknown kind \"menu\"; expected buttons, list, text,"
	    " prompt, photos or lookup"));
	CHECK(bad(FLOW(",'x':{'body':'B'}"), "nodes.x.kind: is required"));
	CHECK(bad(FLOW(",'x':3"), "nodes.x: must be an object"));
	CHECK(bad(FLOW(",'x y':{'kind':'text','body':'B'}"),
	    "nodes.x y: node ids are 1 to 64"));
	CHECK(bad(FLOW(",'x':{'kind':'text','body':'B','colour':1}"),
	    "nodes.x.colour: unknown field"));
	/* Fields of another kind are unknown here. */
	CHECK(bad(FLOW(",'x':{'kind':'text','body':'B','options':[]}"),
	    "nodes.x.options: unknown field"));
	CHECK(bad(FLOW(",'x':{'kind':'text'}"), "nodes.x.body: is required"));
	CHECK(bad(FLOW(",'x':{'kind':'text','body':'  '}"),
	    "nodes.x.body: is empty"));
	CHECK(bad(FLOW(",'x':{'kind':'text','body':7}"),
	    "nodes.x.body: must be a string"));
	CHECK(bad(FLOW(",'x':{'kind':'text','body':'B','parent':'zz'}"),
	    "nodes.x.parent: unknown node \"zz\""));
	CHECK(bad(FLOW(",'x':{'kind':'text','body':'B','next':'zz'}"),
	    "nodes.x.next: unknown node \"zz\""));
	gc();
}

TEST(unreachable)
{
	CHECK(bad(FLOW(",'x':{'kind':'text','body':'B'}"),
	    "nodes.x: unreachable from start or any keyword"));
	/* Reached through next, or only through a keyword: fine. */
	CHECK(good("{'start':'m','keywords':[{'words':['k'],'goto':'k'}],"
	    "'nodes':{'m':{'kind':'buttons','body':'Hi','options':[{'id':'a',"
	    "'title':'A','goto':'t'}]},'t':{'kind':'text','body':'T','next':"
	    "'u'},'u':{'kind':'text','body':'U'},'k':{'kind':'text','body':"
	    "'K'}}}"));
	/* Text nodes that loop, or run longer than the bot shows. */
	CHECK(bad("{'start':'m','nodes':{'m':{'kind':'buttons','body':'Hi',"
	    "'options':[{'id':'a','title':'A','goto':'x'}]},'x':{'kind':"
	    "'text','body':'B','next':'y'},'y':{'kind':'text','body':'B',"
	    "'next':'x'}}}", "nodes.x: shows more than 4 nodes in a row"));
	CHECK(good("{'start':'m','nodes':{'m':{'kind':'buttons','body':'Hi',"
	    "'options':[{'id':'a','title':'A','goto':'a'}]},'a':{'kind':"
	    "'text','body':'B','next':'b'},'b':{'kind':'text','body':'B',"
	    "'next':'c'},'c':{'kind':'text','body':'B','next':'m'}}}"));
	CHECK(bad("{'start':'m','nodes':{'m':{'kind':'buttons','body':'Hi',"
	    "'options':[{'id':'a','title':'A','goto':'a'}]},'a':{'kind':"
	    "'text','body':'B','next':'b'},'b':{'kind':'text','body':'B',"
	    "'next':'c'},'c':{'kind':'text','body':'B','next':'d'},'d':{"
	    "'kind':'text','body':'B','next':'m'}}}",
	    "nodes.a: shows more than 4 nodes in a row"));
	/* A back edge (parent) reaches nothing. */
	CHECK(bad(FLOW(",'x':{'kind':'text','body':'B','parent':'m'}"),
	    "nodes.x: unreachable"));
	gc();
}

TEST(options)
{
	const char	*t = "{'start':'m','nodes':{'m':{'kind':'buttons',"
	    "'body':'Hi','options':[$$]}}}";
	const char	*l = "{'start':'m','nodes':{'m':{'kind':'list',"
	    "'body':'Hi','options':[$$]}}}";
	char		 item[64];
	char		*ten, *eleven;
	size_t		 i;

	CHECK(good(fill(t, "{'id':'a','title':'A','action':'menu'},{'id':'b',"
	    "'title':'B','action':'back'},{'id':'c','title':'C','action':"
	    "'menu'}")));
	CHECK(bad(fill(t, "{'id':'a','title':'A','action':'menu'},{'id':'b',"
	    "'title':'B','action':'back'},{'id':'c','title':'C','action':"
	    "'menu'},{'id':'d','title':'D','action':'menu'}"),
	    "nodes.m.options: has 4 buttons; a buttons node takes at most 3"));
	CHECK(bad(fill(t, ""), "nodes.m.options: needs at least 1 option"));
	CHECK(bad("{'start':'m','nodes':{'m':{'kind':'buttons','body':'B'}}}",
	    "nodes.m.options: is required"));
	/* Ten rows fit a list, eleven do not. */
	ten = keep(calloc(1, 1024));
	eleven = keep(calloc(1, 1024));
	for (i = 0; i < 11; i++) {
		(void)snprintf(item, sizeof(item), "%s{'id':'r%zu','title':"
		    "'T%zu','action':'menu'}", i > 0 ? "," : "", i, i);
		if (i < 10)
			(void)strlcat(ten, item, 1024);
		(void)strlcat(eleven, item, 1024);
	}
	CHECK(good(fill(l, ten)));
	CHECK(bad(fill(l, eleven), "nodes.m.options: has 11 rows; a list "
	    "takes at most 10"));
	CHECK(bad(fill(t, "{'id':'a','title':'A','action':'explode'}"),
	    "nodes.m.options[0].action: unknown action \"explode\"; expected "
	    "goto, back, menu, hand_off_person, hand_off_agent or "
	    "ticket_create"));
	CHECK(bad(fill(t, "{'id':'a','title':'A'}"),
	    "nodes.m.options[0]: needs \"goto\" or \"action\""));
	CHECK(bad(fill(t, "{'id':'a','title':'A','goto':'nope'}"),
	    "nodes.m.options[0].goto: unknown node \"nope\""));
	CHECK(bad(fill(t, "{'id':'a','title':'A','goto':'m','action':'back'}"),
	    "nodes.m.options[0].goto: cannot go with action \"back\""));
	CHECK(bad(fill(t, "{'id':'a','title':'A','action':'menu','x':1}"),
	    "nodes.m.options[0].x: unknown field"));
	CHECK(bad(fill(t, "{'id':'a','title':'A','description':'D',"
	    "'action':'menu'}"),
	    "nodes.m.options[0].description: unknown field"));
	CHECK(bad(fill(t, "7"), "nodes.m.options[0]: must be an object"));
	CHECK(bad(fill(t, "{'title':'A','action':'menu'}"),
	    "nodes.m.options[0].id: is required"));
	CHECK(bad(fill(t, "{'id':'a:b','title':'A','action':'menu'}"),
	    "nodes.m.options[0].id: option ids are 1 to 64"));
	CHECK(bad(fill(t, "{'id':'a','action':'menu'}"),
	    "nodes.m.options[0].title: is required"));
	CHECK(bad(fill(t, "{'id':'a','title':'{x}','action':'menu'}"),
	    "nodes.m.options[0].title: titles take no placeholders"));
	gc();
}

TEST(duplicates)
{
	const char	*t = "{'start':'m','nodes':{'m':{'kind':'buttons',"
	    "'body':'Hi','options':[$$]}}}";

	CHECK(bad(fill(t, "{'id':'a','title':'A','action':'menu'},{'id':'a',"
	    "'title':'B','action':'menu'}"),
	    "nodes.m.options[1].id: duplicate id \"a\" (also options[0])"));
	/* Titles are typed in any case: they must differ ignoring it. */
	CHECK(bad(fill(t, "{'id':'a','title':'Yes','action':'menu'},{'id':"
	    "'b','title':'YES','action':'menu'}"),
	    "nodes.m.options[1].title: duplicate title \"YES\""));
	CHECK(bad(with("{'keywords':[{'words':['price'],'goto':'t'},"
	    "{'words':['Price'],'reply':'R'}],"),
	    "keywords[1].words[0]: duplicate keyword \"price\""));
	CHECK(bad(with("{'words':{'menu':['menu','back']},"),
	    "words: duplicate word \"back\""));
	gc();
}

TEST(title_limits)
{
	const char	*b = "{'start':'m','nodes':{'m':{'kind':'buttons',"
	    "'body':'Hi','options':[{'id':'a','title':'$$','action':"
	    "'menu'}]}}}";
	const char	*l = "{'start':'m','nodes':{'m':{'kind':'list',"
	    "'body':'Hi','options':[{'id':'a','title':'$$','action':"
	    "'menu'}]}}}";
	const char	*d = "{'start':'m','nodes':{'m':{'kind':'list',"
	    "'body':'Hi','options':[{'id':'a','title':'A','description':'$$',"
	    "'action':'menu'}]}}}";
	const char	*lb = "{'start':'m','nodes':{'m':{'kind':'list',"
	    "'body':'Hi','button':'$$','options':[{'id':'a','title':'A',"
	    "'action':'menu'}]}}}";

	CHECK(good(fill(b, rep("x", 20))));
	CHECK(bad(fill(b, rep("x", 21)), "nodes.m.options[0].title: is 21 "
	    "characters; at most 20 fit"));
	/* Code points, not bytes: 20 two-byte letters fit. */
	CHECK(good(fill(b, rep("\xc3\xa9", 20))));
	CHECK(bad(fill(b, rep("\xc3\xa9", 21)), "nodes.m.options[0].title"));
	CHECK(good(fill(l, rep("x", 24))));
	CHECK(bad(fill(l, rep("x", 25)), "nodes.m.options[0].title: is 25 "
	    "characters; at most 24 fit"));
	CHECK(good(fill(d, rep("x", 72))));
	CHECK(bad(fill(d, rep("x", 73)), "nodes.m.options[0].description: is "
	    "73 characters; at most 72 fit"));
	CHECK(good(fill(lb, rep("x", 20))));
	CHECK(bad(fill(lb, rep("x", 21)), "nodes.m.button: is 21 characters"));
	CHECK(bad(fill(lb, "{x}"), "nodes.m.button: takes no placeholders"));
	gc();
}

TEST(body_limits)
{
	const char	*b = "{'start':'m','nodes':{'m':{'kind':'buttons',"
	    "'$$','options':[{'id':'a','title':'A','action':'menu'}]}}}";
	const char	*l = "{'start':'m','nodes':{'m':{'kind':'list',"
	    "'body':'$$','options':[{'id':'a','title':'A','action':'menu'}]}}}";

	CHECK(good(fill(b, fill("body':'$$", rep("x", 1024)))));
	CHECK(bad(fill(b, fill("body':'$$", rep("x", 1025))),
	    "nodes.m.body: is 1025 characters; at most 1024 fit"));
	CHECK(good(fill(l, rep("x", 4096))));
	CHECK(bad(fill(l, rep("x", 4097)), "nodes.m.body: is 4097 characters; "
	    "at most 4096 fit"));
	CHECK(good(fill(b, fill("body':'B','header':'$$", rep("x", 60)))));
	CHECK(bad(fill(b, fill("body':'B','header':'$$", rep("x", 61))),
	    "nodes.m.header: is 61 characters; at most 60 fit"));
	CHECK(good(fill(b, fill("body':'B','footer':'$$", rep("x", 60)))));
	CHECK(bad(fill(b, fill("body':'B','footer':'$$", rep("x", 61))),
	    "nodes.m.footer: is 61 characters"));
	/* A text node or a prompt without buttons is a text: 4096. */
	CHECK(bad(fill("{'start':'m','nodes':{'m':{'kind':'buttons','body':"
	    "'Hi','options':[{'id':'a','title':'A','goto':'t'}]},'t':{'kind':"
	    "'text','body':'$$'}}}", rep("x", 4097)),
	    "nodes.t.body: is 4097 characters; at most 4096 fit"));
	CHECK(good(fill("{'start':'m','nodes':{'m':{'kind':'buttons','body':"
	    "'Hi','options':[{'id':'a','title':'A','goto':'t'}]},'t':{'kind':"
	    "'text','body':'$$'}}}", rep("x", 4096))));
	/* A prompt with a button is an interactive body: 1024. */
	CHECK(bad(fill("{'start':'m','nodes':{'m':{'kind':'buttons','body':"
	    "'Hi','options':[{'id':'a','title':'A','goto':'p'}]},'p':{'kind':"
	    "'prompt','body':'$$','save':'v','next':'m','options':[{'id':'b',"
	    "'title':'Back','action':'back'}]}}}", rep("x", 1025)),
	    "nodes.p.body: is 1025 characters; at most 1024 fit"));
	gc();
}

TEST(ids)
{
	const char	*t = "{'start':'m','nodes':{'m':{'kind':'buttons',"
	    "'body':'Hi','options':[{'id':'$$','title':'A','action':"
	    "'menu'}]}}}";

	CHECK(good(fill(t, rep("a", 64))));
	CHECK(bad(fill(t, rep("a", 65)), "nodes.m.options[0].id: option ids "
	    "are 1 to 64"));
	CHECK(good(fill(fill("{'start':'$$','nodes':{'$$':{'kind':'list',"
	    "'body':'B','options':[{'id':'a','title':'A','action':'menu'}]}}}",
	    rep("n", 64)), rep("n", 64))));
	CHECK(bad("{'start':'m','nodes':{'m':{'kind':'list','body':'B',"
	    "'options':[{'id':'a','title':'A','action':'menu'}]},'"
	    "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
	    "':{'kind':'text','body':'B'}}}", "nodes.nnnnnnnnnn"));
	gc();
}

TEST(prompts_and_lookups)
{
	const char	*p = "{'start':'m','nodes':{'m':{'kind':'buttons',"
	    "'body':'Hi','options':[{'id':'a','title':'A','goto':'p'}]},"
	    "'p':{'kind':'prompt','body':'Number?'$$}}}";
	const char	*k = "{'start':'m','nodes':{'m':{'kind':'buttons',"
	    "'body':'Hi','options':[{'id':'a','title':'A','goto':'p'}]},"
	    "'p':{'kind':'prompt','body':'Number?','save':'num','next':'k'},"
	    "'k':{'kind':'lookup','body':'{number} {status} {num}'$$}}}";

	CHECK(good(fill(p, ",'save':'num','next':'m','max':32")));
	CHECK(bad(fill(p, ",'next':'m'"), "nodes.p.save: is required"));
	CHECK(bad(fill(p, ",'save':'num'"), "nodes.p.next: is required"));
	CHECK(bad(fill(p, ",'save':'Num','next':'m'"),
	    "nodes.p.save: must be a variable name"));
	CHECK(bad(fill(p, ",'save':'photos','next':'m'"),
	    "nodes.p.save: \"photos\" is set by the bot"));
	CHECK(bad(fill(p, ",'save':'num','next':'m','max':0"),
	    "nodes.p.max: is 0; expected 1 to 1024"));
	CHECK(bad(fill(p, ",'save':'num','next':'m','max':'9'"),
	    "nodes.p.max: must be an integer"));
	CHECK(good(fill(k, ",'lookup':'order','arg':'num','not_found':'no'")));
	CHECK(bad(fill(k, ",'lookup':'order','not_found':'no'"),
	    "nodes.k.arg: is required"));
	CHECK(bad(fill(k, ",'lookup':'order','arg':'other','not_found':'no'"),
	    "nodes.k.arg: no node saves \"other\""));
	/* The ticket just filed may be looked up. */
	CHECK(good(fill(k, ",'lookup':'ticket','arg':'ticket','not_found':"
	    "'no'")));
	CHECK(bad(fill(k, ",'lookup':'orders_recent','arg':'num',"
	    "'not_found':'no'"),
	    "nodes.k.arg: lookup \"orders_recent\" takes no arg"));
	CHECK(bad(fill(k, ",'lookup':'weather','not_found':'no'"),
	    "nodes.k.lookup: unknown lookup \"weather\"; expected order, "
	    "orders_recent, schedule_this_week, schedule_next_week, "
	    "schedule_order or ticket"));
	CHECK(bad(fill(k, ",'lookup':'order','arg':'num'"),
	    "nodes.k.not_found: is required"));
	CHECK(bad(fill(k, ",'lookup':'order','arg':'num','not_found':'no',"
	    "'options':[{'id':'a','title':'A','action':'menu'},{'id':'b',"
	    "'title':'B','action':'menu'},{'id':'c','title':'C','action':"
	    "'menu'},{'id':'d','title':'D','action':'menu'}]"),
	    "nodes.k.options: has 4 buttons; a lookup node takes at most 3"));
	gc();
}

TEST(photos)
{
	const char	*t = "{'start':'m','nodes':{'m':{'kind':'buttons',"
	    "'body':'Hi','options':[{'id':'a','title':'A','goto':'p'}]},"
	    "'p':{'kind':'photos','body':'Send'$$}}}";

	CHECK(good(fill(t, ",'max':10,'received':'{count}','options':[{'id':"
	    "'d','title':'Done','action':'ticket_create','goto':'m'}]")));
	CHECK(bad(fill(t, ""), "nodes.p.options: is required"));
	CHECK(bad(fill(t, ",'max':11,'options':[{'id':'d','title':'Done',"
	    "'action':'ticket_create'}]"), "nodes.p.max: is 11; expected 1 to "
	    "10"));
	CHECK(bad(fill(t, ",'save':'x','options':[{'id':'d','title':'Done',"
	    "'action':'ticket_create'}]"), "nodes.p.save: unknown field"));
	gc();
}

TEST(placeholders)
{
	CHECK(good("{'start':'m','nodes':{'m':{'kind':'buttons','body':"
	    "'Hi {{x} {hours} {tz} {next_open} {ticket}','options':[{'id':'a',"
	    "'title':'A','action':'menu'}]}}}"));
	CHECK(bad("{'start':'m','nodes':{'m':{'kind':'buttons','body':"
	    "'Hi {nmae}','options':[{'id':'a','title':'A','action':'menu'}]}}}",
	    "nodes.m.body: uses {nmae}, which no node saves"));
	CHECK(bad("{'start':'m','nodes':{'m':{'kind':'buttons','body':"
	    "'Hi {name','options':[{'id':'a','title':'A','action':'menu'}]}}}",
	    "nodes.m.body: has a \"{\" without \"}\""));
	CHECK(bad("{'start':'m','nodes':{'m':{'kind':'buttons','body':"
	    "'Hi {}','options':[{'id':'a','title':'A','action':'menu'}]}}}",
	    "nodes.m.body: has a bad placeholder"));
	/* A variable some node saves may be used anywhere. */
	CHECK(good("{'start':'m','nodes':{'m':{'kind':'buttons','body':"
	    "'Hi {name}','options':[{'id':'a','title':'A','goto':'p'}]},"
	    "'p':{'kind':'prompt','body':'Name?','save':'name','next':'m'}}}"));
	CHECK(bad("{'start':'m','nodes':{'m':{'kind':'buttons','body':"
	    "'Call {phone}','options':[{'id':'a','title':'A','action':"
	    "'menu'}]}}}", "phone: is required: a template uses {phone}"));
	CHECK(good("{'start':'m','phone':'+1 (555) 010-0000','nodes':{'m':{"
	    "'kind':'buttons','body':'Call {phone}','options':[{'id':'a',"
	    "'title':'A','action':'menu'}]}}}"));
	CHECK(bad("{'start':'m','phone':'call us','nodes':{'m':{"
	    "'kind':'buttons','body':'Hi','options':[{'id':'a',"
	    "'title':'A','action':'menu'}]}}}", "phone: may hold only digits"));
	gc();
}

TEST(agent)
{
	const char	*t = "{'start':'m',$$'nodes':{'m':{'kind':'buttons',"
	    "'body':'Hi','options':[{'id':'a','title':'A','action':"
	    "'hand_off_agent'}]}}}";

	CHECK(bad(fill(t, ""), "agent_url: is required: an option hands off"));
	CHECK(good(fill(t, "'agent_url':'https://agent.example/x',")));
	CHECK(bad(fill(t, "'agent_url':'http://agent.example/x',"),
	    "agent_url: must be an https:// URL"));
	/* The host is evil.example: parsed, not matched by prefix. */
	CHECK(bad(fill(t, "'agent_url':'http://localhost:80@evil.example/',"),
	    "agent_url: must be an https:// URL"));
	CHECK(bad(fill(t, "'agent_url':'http://127.0.0.1.evil.example/',"),
	    "agent_url: must be an https:// URL"));
	CHECK(good(fill(t, "'agent_url':'http://127.0.0.1:8080/x',")));
	gc();
}

TEST(texts_and_words)
{
	CHECK(good(with("{'texts':{'hint':'Try {hours}','more':'M',"
	    "'list_button':'Pick'},'words':{'menu':['start','Hallo'],'back':"
	    "['zurück','go back']},")));
	CHECK(bad(with("{'texts':{'hnit':'x'},"),
	    "texts.hnit: unknown field"));
	CHECK(bad(with(fill("{'texts':{'more':'$$'},",
	    rep("x", 1025))), "texts.more: is 1025 characters"));
	CHECK(bad(with("{'texts':{'list_button':'{x}'},"),
	    "texts.list_button:"));
	CHECK(bad(with("{'words':{'menu':[]},"),
	    "words.menu: must be a list of 1 to 16 words"));
	CHECK(bad(with("{'words':{'menu':[' menu']},"),
	    "words.menu[0]: must be a word or phrase"));
	CHECK(bad(with("{'words':{'menu':['a  b']},"),
	    "words.menu[0]: must be a word or phrase"));
	gc();
}

TEST(keywords)
{
	CHECK(good(with("{'keywords':[{'words':['opening hours',"
	    "'price'],'goto':'t'},{'words':['thanks'],'reply':'{hours}'}],")));
	CHECK(bad(with("{'keywords':[{'words':['x']}],"),
	    "keywords[0]: needs either \"goto\" or \"reply\""));
	CHECK(bad(with("{'keywords':[{'words':['x'],'goto':'t',"
	    "'reply':'r'}],"), "keywords[0]: needs either"));
	CHECK(bad(with("{'keywords':[{'words':[],'goto':'t'}],"),
	    "keywords[0].words: must be a list"));
	CHECK(bad(with("{'keywords':[{'words':['x '],'goto':'t'}],"),
	    "keywords[0].words[0]: must be a word or phrase"));
	CHECK(bad(with("{'keywords':[{'words':['x'],'goto':'q'}],"),
	    "keywords[0].goto: unknown node \"q\""));
	CHECK(bad(with("{'keywords':{},"), "keywords: must be a list"));
	gc();
}

TEST(hours_parse)
{
	const char	*t = "{'start':'m','hours':{'utc_offset_minutes':60,"
	    "'open':[$$]},'nodes':{'m':{'kind':'list','body':'B','options':"
	    "[{'id':'a','title':'A','action':'menu'}]}}}";
	struct flow_report	 r;
	struct flow		*f;

	CHECK(good(fill(t, "'Mon-Fri 08:00-17:00','Sat 09:00-12:00'")));
	CHECK(good(fill(t, "'mon 00:00-24:00','Fri-Mon 22:00-02:00'")));
	CHECK(bad(fill(t, "'Mon-Fri 8:00-17:00'"), "hours.open[0]: is "
	    "\"Mon-Fri 8:00-17:00\"; expected"));
	CHECK(bad(fill(t, "'Mon 08:00-17:00','Funday 08:00-09:00'"),
	    "hours.open[1]: is \"Funday"));
	/* Each refused for its hours, and for nothing else. */
	CHECK(only(fill(t, "'Mon 10:00-10:00'"), "hours.open[0]: is \"Mon "
	    "10:00-10:00\"" HOURS_LIKE));
	CHECK(only(fill(t, "'Mon 24:00-10:00'"), "hours.open[0]: is \"Mon "
	    "24:00-10:00\"" HOURS_LIKE));
	CHECK(only(fill(t, "'Mon 08:60-10:00'"), "hours.open[0]: is \"Mon "
	    "08:60-10:00\"" HOURS_LIKE));
	CHECK(only(fill(t, "'Mon 08:00-25:00'"), "hours.open[0]: is \"Mon "
	    "08:00-25:00\"" HOURS_LIKE));
	CHECK(only(fill(t, "'Mon 08:00-10:00 '"), "hours.open[0]: is \"Mon "
	    "08:00-10:00 \"" HOURS_LIKE));
	CHECK(only(fill(t, "'Mon08:00-10:00'"), "hours.open[0]: is "
	    "\"Mon08:00-10:00\"" HOURS_LIKE));
	CHECK(bad(fill(t, "7"), "hours.open[0]: must be a string"));
	CHECK(bad(fill(t, ""), "hours.open: must be a list of 1 to 16"));
	CHECK(bad("{'start':'m','hours':{'utc_offset_minutes':900,'open':"
	    "['Mon 08:00-09:00']},'nodes':{'m':{'kind':'list','body':'B',"
	    "'options':[{'id':'a','title':'A','action':'menu'}]}}}",
	    "hours.utc_offset_minutes: is 900; expected -720 to 840"));
	CHECK(bad("{'start':'m','hours':{'open':['Mon 08:00-09:00'],'tz':1},"
	    "'nodes':{'m':{'kind':'list','body':'B','options':[{'id':'a',"
	    "'title':'A','action':'menu'}]}}}", "hours.tz: unknown field"));
	CHECK(bad("{'start':'m','hours':{'utc_offset_minutes':0},"
	    "'nodes':{'m':{'kind':'list','body':'B','options':[{'id':'a',"
	    "'title':'A','action':'menu'}]}}}", "hours.open: is required"));
	CHECK(bad("{'start':'m','hours':{'open':['Mon 08:00-09:00'],"
	    "'day_names':['a']},'nodes':{'m':{'kind':'list','body':'B',"
	    "'options':[{'id':'a','title':'A','action':'menu'}]}}}",
	    "hours.day_names: must list 7 names"));
	/* Wrapping day ranges expand to each day. */
	f = load(fill(t, "'Fri-Mon 08:00-12:00','Wed 13:00-14:00'"), &r);
	CHECK(f != NULL && f->nranges == 5);
	if (f != NULL)
		CHECK(strcmp(f->hours_text, "Fri-Mon 08:00-12:00, "
		    "Wed 13:00-14:00") == 0);
	flow_free(f);
	gc();
}

/* 2024-01-01 00:00 UTC, a Monday. */
#define MON	1704067200LL
#define H	3600LL

TEST(hours_open)
{
	struct flow_report	 r;
	struct flow		*f;
	char			 buf[64];

	f = load("{'start':'m','hours':{'utc_offset_minutes':60,'open':"
	    "['Mon-Fri 08:00-17:00','Sat 22:00-02:00']},'nodes':{'m':{'kind':"
	    "'list','body':'B','options':[{'id':'a','title':'A','action':"
	    "'menu'}]}}}", &r);
	CHECK(f != NULL);
	if (f == NULL)
		return;
	/* Monday 08:00 local is 07:00 UTC. */
	CHECK(flow_is_open(f, MON + 7 * H) == 1);
	CHECK(flow_is_open(f, MON + 7 * H - 1) == 0);
	CHECK(flow_next_open(f, MON + 7 * H - 1) == MON + 7 * H);
	CHECK(flow_next_open(f, MON + 7 * H + 5) == MON + 7 * H + 5);
	CHECK(flow_is_open(f, MON + 16 * H - 1) == 1);
	CHECK(flow_is_open(f, MON + 16 * H) == 0);
	/* Monday 17:00 local: next is Tuesday 08:00. */
	CHECK(flow_next_open(f, MON + 16 * H) == MON + 24 * H + 7 * H);
	/* Friday 17:00 local: Saturday 22:00 comes first. */
	CHECK(flow_next_open(f, MON + 4 * 24 * H + 16 * H) ==
	    MON + 5 * 24 * H + 21 * H);
	/* Past midnight into Sunday. */
	CHECK(flow_is_open(f, MON + 6 * 24 * H) == 1);		/* Sun 01:00 */
	CHECK(flow_is_open(f, MON + 6 * 24 * H + H) == 0);	/* Sun 02:00 */
	/* Sunday 02:00 local: the next week's Monday. */
	CHECK(flow_next_open(f, MON + 6 * 24 * H + H + 30) ==
	    MON + 7 * 24 * H + 7 * H);
	CHECK(flow_when(f, MON + 7 * H, buf, sizeof(buf)) == 0 &&
	    strcmp(buf, "Monday 08:00") == 0);
	CHECK(flow_when(f, MON + 6 * 24 * H + 22 * H + 59 * 60, buf,
	    sizeof(buf)) == 0 && strcmp(buf, "Sunday 23:59") == 0);
	CHECK(flow_when(f, MON, buf, 5) == -1);
	CHECK(flow_tz(f, buf, sizeof(buf)) == 0 &&
	    strcmp(buf, "UTC+01:00") == 0);
	flow_free(f);
	gc();
}

TEST(hours_edges)
{
	struct flow_report	 r;
	struct flow		*f;
	char			 buf[64];

	/* No hours: always open. */
	f = load(FLOW(""), &r);
	CHECK(f != NULL && flow_is_open(f, MON) && flow_next_open(f, MON) ==
	    MON);
	flow_free(f);
	/* West of UTC, over a week boundary, before 1970. */
	f = load("{'start':'m','hours':{'utc_offset_minutes':-330,'open':"
	    "['Sun 22:00-01:00'],'day_names':['Mo','Di','Mi','Do','Fr','Sa',"
	    "'So']},'nodes':{'m':{'kind':'list','body':'B','options':[{'id':"
	    "'a','title':'A','action':'menu'}]}}}", &r);
	CHECK(f != NULL);
	if (f == NULL)
		return;
	CHECK(flow_tz(f, buf, sizeof(buf)) == 0 &&
	    strcmp(buf, "UTC-05:30") == 0);
	/* Monday 00:30 local = 06:00 UTC Monday: open from Sunday. */
	CHECK(flow_is_open(f, MON + 6 * H) == 1);
	CHECK(flow_is_open(f, MON + 6 * H + 30 * 60) == 0);
	CHECK(flow_when(f, MON + 6 * H, buf, sizeof(buf)) == 0 &&
	    strcmp(buf, "Mo 00:30") == 0);
	CHECK(flow_when(f, -1, buf, sizeof(buf)) == 0 &&
	    strcmp(buf, "Mi 18:29") == 0);
	/* Sunday 22:00 local is Monday 03:30 UTC next week less a day. */
	CHECK(flow_next_open(f, MON + 6 * H + 30 * 60) ==
	    MON + 6 * 24 * H + 27 * H + 30 * 60);
	flow_free(f);
	gc();
}

TEST(report_bounded)
{
	struct flow_report	 r;
	struct flow		*f;
	char			*opts = keep(calloc(1, 16384)), item[96];
	size_t			 i;

	/* 100 unknown targets: every one counted, 64 kept. */
	for (i = 0; i < 100; i++) {
		(void)snprintf(item, sizeof(item), "%s'x%zu':{'kind':'text',"
		    "'body':'B','next':'nope'}", i > 0 ? "," : "", i);
		(void)strlcat(opts, item, 16384);
	}
	f = load(fill("{'start':'m','nodes':{'m':{'kind':'list','body':'B',"
	    "'options':[{'id':'a','title':'A','action':'menu'}]},$$}}", opts),
	    &r);
	CHECK(f == NULL);
	/* Each: an unknown next and unreachable. */
	CHECK(r.total == 200 && r.n == FLOW_REPORT_MAX);
	CHECK(strcmp(r.lines[0], "nodes.x0.next: unknown node \"nope\"") == 0);
	/* Several problems at once are all there. */
	f = load("{'start':'m','nodes':{'m':{'kind':'buttons','body':'B',"
	    "'options':[{'id':'a','title':'A','goto':'zz'},{'id':'b','title':"
	    "'B','action':'fly'}]},'u':{'kind':'wish','body':'U'}}}", &r);
	CHECK(f == NULL && r.total == 4 && r.n == 4);
	gc();
}

int
main(void)
{
	RUN(default_flow_loads);
	RUN(minimal_and_comments);
	RUN(broken_json);
	RUN(top_level);
	RUN(node_problems);
	RUN(unreachable);
	RUN(options);
	RUN(duplicates);
	RUN(title_limits);
	RUN(body_limits);
	RUN(ids);
	RUN(prompts_and_lookups);
	RUN(photos);
	RUN(placeholders);
	RUN(agent);
	RUN(texts_and_words);
	RUN(keywords);
	RUN(hours_parse);
	RUN(hours_open);
	RUN(hours_edges);
	RUN(report_bounded);
	return CHECK_DONE();
}
