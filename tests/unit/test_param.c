/*
 * test_param.c: declared parameters (param.c): every type's edges, names
 * unknown and repeated, empty and percent-encoded values, JSON objects,
 * and the table's own description.  Linked with param.o, buf.o and
 * log.o only: no database, no socket.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "param.h"

static const char *const colours[] = { "red", "green", NULL };

struct f {
	struct param_val	 n, text, colour, yes, phone, when, any;
};

static const struct param tab[] = {
	{ .name = "n", .type = PARAM_INT, .min = -5, .max = 200, .def = 50,
	  .field = offsetof(struct f, n) },
	{ .name = "text", .type = PARAM_TEXT, .min = 1, .max = 5,
	  .field = offsetof(struct f, text) },
	{ .name = "colour", .type = PARAM_ENUM, .words = colours,
	  .field = offsetof(struct f, colour) },
	{ .name = "yes", .type = PARAM_BOOL,
	  .field = offsetof(struct f, yes) },
	{ .name = "phone", .type = PARAM_PHONE,
	  .field = offsetof(struct f, phone) },
	{ .name = "when", .type = PARAM_TIME,
	  .field = offsetof(struct f, when) },
	{ .name = NULL }
};

/* Parses qs against tab; the rc, with f and err for the caller. */
static enum param_rc
q(const char *qs, struct f *f, struct param_err *err)
{
	memset(f, 0, sizeof(*f));
	return param_query(tab, qs, f, err);
}

/* 1 when qs is refused as bad with err naming name. */
static int
bad(const char *qs, const char *name)
{
	struct f		 f;
	struct param_err	 err;
	enum param_rc		 rc = q(qs, &f, &err);

	param_clear(tab, &f);
	return rc == PARAM_BAD && strcmp(err.name, name) == 0 &&
	    err.message[0] != '\0';
}

/* 1 when qs is taken. */
static int
good(const char *qs)
{
	struct f		 f;
	struct param_err	 err;
	enum param_rc		 rc = q(qs, &f, &err);

	param_clear(tab, &f);
	return rc == PARAM_OK;
}

TEST(absent_is_unset_with_the_default)
{
	struct f		 f;
	struct param_err	 err;

	CHECK(q("", &f, &err) == PARAM_OK);
	CHECK(!f.n.set && f.n.i == 50 && !f.text.set && f.text.s == NULL);
	CHECK(!f.colour.set && !f.yes.set && !f.phone.set && !f.when.set);
	param_clear(tab, &f);
	/* Empty segments are nothing. */
	CHECK(q("&&n=3&", &f, &err) == PARAM_OK && f.n.set && f.n.i == 3);
	param_clear(tab, &f);
}

TEST(int_edges)
{
	struct f		 f;
	struct param_err	 err;

	CHECK(q("n=-5", &f, &err) == PARAM_OK && f.n.set && f.n.i == -5);
	param_clear(tab, &f);
	CHECK(q("n=200", &f, &err) == PARAM_OK && f.n.i == 200);
	param_clear(tab, &f);
	CHECK(bad("n=-6", "n"));
	CHECK(bad("n=201", "n"));
	CHECK(q("n=201", &f, &err) == PARAM_BAD);
	CHECK(strcmp(err.message, "n must be a whole number from -5 to "
	    "200.") == 0);
	CHECK(bad("n=1.5", "n"));
	CHECK(bad("n=abc", "n"));
	CHECK(bad("n=+1", "n"));
	CHECK(bad("n=-", "n"));
	CHECK(bad("n=%201", "n"));		/* " 1" */
	CHECK(bad("n=99999999999999999999", "n"));	/* overflows */
	CHECK(bad("n=000000000000000000001", "n"));	/* 21 bytes */
	CHECK(good("n=00000000000000000001"));		/* 20 bytes */
}

TEST(text_edges)
{
	struct f		 f;
	struct param_err	 err;

	CHECK(q("text=abcde", &f, &err) == PARAM_OK && f.text.set &&
	    f.text.len == 5 && strcmp(f.text.s, "abcde") == 0);
	param_clear(tab, &f);
	CHECK(bad("text=abcdef", "text"));		/* too long */
	CHECK(bad("text=", "text"));			/* empty */
	CHECK(bad("text", "text"));			/* no "=" */
	CHECK(bad("text=a%00b", "text"));		/* a NUL inside */
	CHECK(q("text=a%00b", &f, &err) == PARAM_BAD);
	CHECK(strcmp(err.message, "The parameter is empty, too long or not "
	    "valid URL encoding.") == 0);
}

TEST(percent_encoded_values_are_decoded)
{
	struct f		 f;
	struct param_err	 err;

	CHECK(q("text=a%2Bb+c", &f, &err) == PARAM_OK);
	CHECK(strcmp(f.text.s, "a+b c") == 0 && f.text.len == 5);
	param_clear(tab, &f);
	CHECK(q("colour=%72%65%64", &f, &err) == PARAM_OK && f.colour.i == 0 &&
	    strcmp(f.colour.s, "red") == 0);
	param_clear(tab, &f);
	/* The length limit is on the decoded value. */
	CHECK(good("text=%41%41%41%41%41"));
	CHECK(bad("text=%41%41%41%41%41%41", "text"));
	CHECK(bad("text=%ZZ", "text"));
	CHECK(bad("text=ab%4", "text"));
	CHECK(bad("n=%", "n"));
}

TEST(enum_and_bool)
{
	struct f		 f;
	struct param_err	 err;

	CHECK(q("colour=green&yes=false", &f, &err) == PARAM_OK);
	CHECK(f.colour.set && f.colour.i == 1 && f.yes.set && f.yes.i == 0);
	param_clear(tab, &f);
	CHECK(q("yes=true", &f, &err) == PARAM_OK && f.yes.i == 1);
	param_clear(tab, &f);
	CHECK(bad("colour=blue", "colour"));
	CHECK(q("colour=blue", &f, &err) == PARAM_BAD);
	CHECK(strcmp(err.message, "colour must be one of: red, green.") == 0);
	CHECK(bad("colour=Red", "colour"));
	CHECK(bad("yes=1", "yes"));
	CHECK(q("yes=maybe", &f, &err) == PARAM_BAD);
	CHECK(strcmp(err.message, "yes must be one of: true, false.") == 0);
	CHECK(bad("colour=" "redredredredredredredredredredred", "colour"));
}

TEST(phone_edges)
{
	struct f		 f;
	struct param_err	 err;

	CHECK(q("phone=%2B123456", &f, &err) == PARAM_OK && f.phone.set &&
	    strcmp(f.phone.s, "123456") == 0 && f.phone.len == 6);
	param_clear(tab, &f);
	CHECK(good("phone=12345678901234567890"));		/* 20 */
	CHECK(bad("phone=123456789012345678901", "phone"));	/* 21 */
	CHECK(bad("phone=12345", "phone"));
	CHECK(bad("phone=%2B12345", "phone"));
	CHECK(bad("phone=12345a", "phone"));
	CHECK(bad("phone=++123456", "phone"));
	CHECK(bad("phone=+123456", "phone"));	/* "+" is a space */
}

TEST(time_edges)
{
	struct f		 f;
	struct param_err	 err;

	CHECK(q("when=999999999999", &f, &err) == PARAM_OK && f.when.set &&
	    f.when.i == 999999999999LL);
	param_clear(tab, &f);
	CHECK(q("when=2026-11-25T10:00:00Z", &f, &err) == PARAM_OK &&
	    f.when.i == 1795600800);
	param_clear(tab, &f);
	CHECK(q("when=2026-11-25T11:00:00.5%2B01:00", &f, &err) ==
	    PARAM_OK && f.when.i == 1795600800);
	param_clear(tab, &f);
	CHECK(q("when=2026-11-25T09:30:00-00:30", &f, &err) == PARAM_OK &&
	    f.when.i == 1795600800);
	param_clear(tab, &f);
	CHECK(bad("when=1000000000000", "when"));	/* 13 digits */
	CHECK(bad("when=yesterday", "when"));
	CHECK(bad("when=2026-11-25+10:00:00Z", "when"));
	CHECK(bad("when=2026-13-01T00:00:00Z", "when"));
	CHECK(bad("when=2026-11-25T10:00:00", "when"));	/* no zone */
	CHECK(bad("when=2026-11-25T10:00:00Zx", "when"));
	CHECK(bad("when=-1", "when"));
}

TEST(unknown_and_repeated_names)
{
	struct f		 f;
	struct param_err	 err;

	CHECK(q("n=1&colour2=red", &f, &err) == PARAM_UNKNOWN);
	CHECK(strcmp(err.name, "colour2") == 0 &&
	    strstr(err.message, "\"colour2\"") != NULL);
	CHECK(!f.n.set);	/* nothing half-filled */
	CHECK(q("N=1", &f, &err) == PARAM_UNKNOWN && strcmp(err.name, "N") ==
	    0);
	CHECK(q("=1", &f, &err) == PARAM_UNKNOWN && err.name[0] == '\0');
	/* Names are matched as sent. */
	CHECK(q("%6E=1", &f, &err) == PARAM_UNKNOWN);
	CHECK(q("n=1&n=2", &f, &err) == PARAM_REPEATED &&
	    strcmp(err.name, "n") == 0);
	CHECK(q("n&n", &f, &err) == PARAM_REPEATED);
	/* Names come before values: the unknown one is the error. */
	CHECK(q("n=abc&x=1", &f, &err) == PARAM_UNKNOWN &&
	    strcmp(err.name, "x") == 0);
	/* Values in the table's order: n before text. */
	CHECK(q("text=toolong&n=abc", &f, &err) == PARAM_BAD &&
	    strcmp(err.name, "n") == 0);
	CHECK(q("colour=blue&n=1", &f, &err) == PARAM_BAD && !f.n.set);
	/* A long name is cut to fit, never overflows. */
	CHECK(q("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=1", &f, &err) == PARAM_UNKNOWN &&
	    strlen(err.name) == sizeof(err.name) - 1);
}

struct b {
	struct param_val	 note, count, flag, extra;
};

static const struct param body[] = {
	{ .name = "note", .type = PARAM_TEXT, .max = 4, .nullable = 1,
	  .field = offsetof(struct b, note) },
	{ .name = "count", .type = PARAM_INT, .min = 1, .max = 9,
	  .field = offsetof(struct b, count) },
	{ .name = "flag", .type = PARAM_BOOL,
	  .field = offsetof(struct b, flag) },
	{ .name = "extra", .type = PARAM_JSON,
	  .field = offsetof(struct b, extra) },
	{ .name = NULL }
};

/* Parses the JSON text s against body. */
static enum param_rc
js(const char *s, struct b *b, struct param_err *err, json_t **o)
{
	memset(b, 0, sizeof(*b));
	*o = json_loads(s, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, NULL);
	return *o == NULL ? PARAM_RC__MAX : param_json(body, *o, b, err);
}

TEST(json_objects)
{
	struct b		 b;
	struct param_err	 err;
	json_t			*o;

	CHECK(js("{\"note\": \"abcd\", \"count\": 9, \"flag\": true, "
	    "\"extra\": [1]}", &b, &err, &o) == PARAM_OK);
	CHECK(b.note.set && strcmp(b.note.s, "abcd") == 0 && b.count.i == 9 &&
	    b.flag.i == 1 && json_is_array(b.extra.j));
	param_clear(body, &b);
	json_decref(o);
	CHECK(js("{\"note\": null}", &b, &err, &o) == PARAM_OK &&
	    b.note.set && b.note.s == NULL && !b.count.set);
	param_clear(body, &b);
	json_decref(o);
	CHECK(js("{\"note\": \"\"}", &b, &err, &o) == PARAM_OK &&
	    b.note.set && b.note.len == 0);
	json_decref(o);
	CHECK(js("{\"note\": \"abcde\"}", &b, &err, &o) == PARAM_BAD &&
	    strcmp(err.name, "note") == 0 && strcmp(err.message, "note must be "
	    "a string of at most 4 bytes, or null.") == 0);
	json_decref(o);
	CHECK(js("{\"note\": 5}", &b, &err, &o) == PARAM_BAD &&
	    strcmp(err.name, "note") == 0);
	json_decref(o);
	CHECK(js("{\"note\": \"a\\u0000b\"}", &b, &err, &o) == PARAM_BAD);
	json_decref(o);
	CHECK(js("{\"count\": 10}", &b, &err, &o) == PARAM_BAD &&
	    strcmp(err.name, "count") == 0);
	json_decref(o);
	CHECK(js("{\"count\": 0}", &b, &err, &o) == PARAM_BAD);
	json_decref(o);
	CHECK(js("{\"count\": null}", &b, &err, &o) == PARAM_BAD);
	json_decref(o);
	CHECK(js("{\"flag\": \"true\"}", &b, &err, &o) == PARAM_OK &&
	    b.flag.i == 1);
	json_decref(o);
	CHECK(js("{\"flag\": 1}", &b, &err, &o) == PARAM_BAD);
	json_decref(o);
	CHECK(js("{\"count\": 1, \"colour\": 1}", &b, &err, &o) ==
	    PARAM_UNKNOWN && strcmp(err.name, "colour") == 0 && !b.count.set);
	json_decref(o);
	/* Duplicate members never reach the table: the load refuses them. */
	CHECK(js("{\"count\": 1, \"count\": 2}", &b, &err, &o) == PARAM_RC__MAX);
}

TEST(describe_says_what_is_declared)
{
	json_t	*a = param_describe(tab), *p;

	CHECK(json_array_size(a) == 6);
	p = json_object_get(json_array_get(a, 0), "schema");
	CHECK(strcmp(json_string_value(json_object_get(json_array_get(a, 0),
	    "name")), "n") == 0);
	CHECK(json_integer_value(json_object_get(p, "minimum")) == -5 &&
	    json_integer_value(json_object_get(p, "maximum")) == 200 &&
	    json_integer_value(json_object_get(p, "default")) == 50);
	p = json_object_get(json_array_get(a, 1), "schema");
	CHECK(json_integer_value(json_object_get(p, "minLength")) == 1 &&
	    json_integer_value(json_object_get(p, "maxLength")) == 5);
	p = json_object_get(json_object_get(json_array_get(a, 2), "schema"),
	    "enum");
	CHECK(json_array_size(p) == 2 && strcmp(json_string_value(
	    json_array_get(p, 1)), "green") == 0);
	CHECK(strcmp(json_string_value(json_object_get(json_array_get(a, 3),
	    "type")), "boolean") == 0);
	CHECK(json_object_get(json_object_get(json_array_get(a, 5), "schema"),
	    "anyOf") != NULL);
	json_decref(a);
	CHECK(strcmp(param_type_name(PARAM_PHONE), "phone") == 0);
	CHECK(strcmp(param_type_name(PARAM__MAX), "?") == 0);
}

/* Spellings of one business number compare equal by their digits. */
TEST(number_spellings)
{
	char	 d[21], tiny[6];

	CHECK(param_number_digits("+1 555-010-2222", d, sizeof(d)) == 0 &&
	    strcmp(d, "15550102222") == 0);
	CHECK(param_number_digits("(1) 555.010.2222", d, sizeof(d)) == 0 &&
	    strcmp(d, "15550102222") == 0);
	CHECK(param_number_digits("15550102222", d, sizeof(d)) == 0 &&
	    strcmp(d, "15550102222") == 0);
	CHECK(param_number_digits("+44 20 7946 0000", d, sizeof(d)) == 0 &&
	    strcmp(d, "442079460000") == 0);
	/* 6 and 20 digits are numbers; 5 and 21 are not. */
	CHECK(param_number_digits("123456", d, sizeof(d)) == 0);
	CHECK(param_number_digits("12345", d, sizeof(d)) == -1);
	CHECK(param_number_digits("12345678901234567890", d, sizeof(d)) == 0);
	CHECK(param_number_digits("123456789012345678901", d, sizeof(d)) == -1);
	/* A label, a second +, a + not first, other bytes: not a number. */
	CHECK(param_number_digits("sales", d, sizeof(d)) == -1);
	CHECK(param_number_digits("++15550102222", d, sizeof(d)) == -1);
	CHECK(param_number_digits("1555+0102222", d, sizeof(d)) == -1);
	CHECK(param_number_digits("1555010222x", d, sizeof(d)) == -1);
	CHECK(param_number_digits("", d, sizeof(d)) == -1);
	/* Never past out: too small a buffer is a refusal. */
	CHECK(param_number_digits("1234567", tiny, sizeof(tiny)) == -1);
}

int
main(void)
{
	RUN(absent_is_unset_with_the_default);
	RUN(int_edges);
	RUN(text_edges);
	RUN(percent_encoded_values_are_decoded);
	RUN(enum_and_bool);
	RUN(phone_edges);
	RUN(time_edges);
	RUN(unknown_and_repeated_names);
	RUN(json_objects);
	RUN(describe_says_what_is_declared);
	RUN(number_spellings);
	return CHECK_DONE();
}
