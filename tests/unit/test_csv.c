/*
 * test_csv.c: the CSV line splitter of `wactl import`.  Plain and quoted
 * fields, "" inside quotes, empty fields, CR/LF endings, a UTF-8 byte
 * order mark (spreadsheets write one before the header), the column
 * limit, and each refusal with its phrase.
 */
#include <stdarg.h>
#include <string.h>

#include <bsd/string.h>

#include "check.h"
#include "csv.h"

#define MAXF	16

/*
 * Splits a copy of line into at most max fields and compares them with
 * the n expected strings that follow.  1 when they match exactly.
 */
static int
split(const char *line, int max, int n, ...)
{
	char		 copy[512], *f[MAXF];
	const char	*err = NULL, *want;
	va_list		 ap;
	int		 got, i, same = 1;

	if (strlcpy(copy, line, sizeof(copy)) >= sizeof(copy))
		return 0;
	if ((got = csv_split(copy, f, max, &err)) != n) {
		fprintf(stderr, "  %d fields, want %d (%s)\n", got, n,
		    err != NULL ? err : "");
		return 0;
	}
	va_start(ap, n);
	for (i = 0; i < n; i++) {
		want = va_arg(ap, const char *);
		if (strcmp(f[i], want) != 0) {
			fprintf(stderr, "  field %d is \"%s\", want \"%s\"\n",
			    i, f[i], want);
			same = 0;
		}
	}
	va_end(ap);
	return same;
}

/* Refused with exactly the phrase why. */
static int
refused(const char *line, int max, const char *why)
{
	char		 copy[512], *f[MAXF];
	const char	*err = NULL;

	if (strlcpy(copy, line, sizeof(copy)) >= sizeof(copy))
		return 0;
	return csv_split(copy, f, max, &err) == -1 && err != NULL &&
	    strcmp(err, why) == 0;
}

TEST(plain_fields)
{
	CHECK(split("number,status,expected_delivery", MAXF, 3, "number",
	    "status", "expected_delivery"));
	CHECK(split("A-1042", MAXF, 1, "A-1042"));
	CHECK(split("Grüße,日本語 👋🏽", MAXF, 2, "Grüße", "日本語 👋🏽"));
	/* Spaces are data: nothing is trimmed. */
	CHECK(split(" a , b ", MAXF, 2, " a ", " b "));
}

TEST(empty_fields)
{
	CHECK(split("", MAXF, 1, ""));
	CHECK(split(",", MAXF, 2, "", ""));
	CHECK(split("a,,b,", MAXF, 4, "a", "", "b", ""));
	CHECK(split("\"\"", MAXF, 1, ""));
	CHECK(split("\"\",\"\"", MAXF, 2, "", ""));
}

TEST(quoted_fields)
{
	CHECK(split("A-1,\"shipped, partly\",2026-03-01", MAXF, 3, "A-1",
	    "shipped, partly", "2026-03-01"));
	/* "" inside quotes is one quote, wherever it stands. */
	CHECK(split("\"The \"\"oak\"\" table\"", MAXF, 1,
	    "The \"oak\" table"));
	CHECK(split("\"\"\"\"", MAXF, 1, "\""));
	CHECK(split("\"\"\"a\"\"\",b", MAXF, 2, "\"a\"", "b"));
	/* A quoted field keeps a CR and commas inside. */
	CHECK(split("\"a\rb\",\",,\"", MAXF, 2, "a\rb", ",,"));
}

TEST(line_endings)
{
	CHECK(split("a,b\n", MAXF, 2, "a", "b"));
	CHECK(split("a,b\r\n", MAXF, 2, "a", "b"));
	CHECK(split("a,\"b\"\r\n", MAXF, 2, "a", "b"));
	CHECK(split("a,\r\n", MAXF, 2, "a", ""));
	CHECK(split("\r\n", MAXF, 1, ""));
	/* Only the end of the line is an ending; a CR inside stays. */
	CHECK(split("a\rb,c\r\n", MAXF, 2, "a\rb", "c"));
	/* A quoted field may not run on to the next line. */
	CHECK(refused("\"a\r\n", MAXF, "a quoted field is not closed on its "
	    "line"));
}

TEST(byte_order_mark)
{
	/* Excel's "CSV UTF-8" starts the file with EF BB BF. */
	CHECK(split("\xef\xbb\xbfnumber,status\r\n", MAXF, 2, "number",
	    "status"));
	CHECK(split("\xef\xbb\xbf\"number\",status", MAXF, 2, "number",
	    "status"));
	CHECK(split("\xef\xbb\xbf", MAXF, 1, ""));
	/* Only at the start: elsewhere it is data. */
	CHECK(split("a,\xef\xbb\xbf" "b", MAXF, 2, "a", "\xef\xbb\xbf" "b"));
}

TEST(column_limit)
{
	CHECK(split("a,b,c", 3, 3, "a", "b", "c"));
	CHECK(refused("a,b,c,d", 3, "too many columns"));
	CHECK(refused("a,b,c,", 3, "too many columns"));
	CHECK(split("a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p", MAXF, 16, "a", "b",
	    "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o",
	    "p"));
}

TEST(refusals)
{
	CHECK(refused("a,\"b", MAXF, "a quoted field is not closed on its "
	    "line"));
	CHECK(refused("\"a\"\"", MAXF, "a quoted field is not closed on its "
	    "line"));
	CHECK(refused("\"a\"b,c", MAXF, "text after a closing quote"));
	CHECK(refused("\"a\" ,c", MAXF, "text after a closing quote"));
	CHECK(refused("a\"b,c", MAXF, "a quote inside an unquoted field"));
	CHECK(refused("x,ab\"", MAXF, "a quote inside an unquoted field"));
}

int
main(void)
{
	RUN(plain_fields);
	RUN(empty_fields);
	RUN(quoted_fields);
	RUN(line_endings);
	RUN(byte_order_mark);
	RUN(column_limit);
	RUN(refusals);
	return CHECK_DONE();
}
