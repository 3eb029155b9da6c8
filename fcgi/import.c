/*
 * import.c: `wactl import orders|schedule FILE.csv` loads the business data
 * the chatbot looks up.  The first line names the columns (any order);
 * every later line is checked, and every problem is reported with its
 * line number and column.  All or nothing: one transaction, rolled back
 * on the first bad line's report, so a half-imported list never answers
 * customers.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <bsd/string.h>

#include "csv.h"
#include "db.h"
#include "import.h"
#include "log.h"

#define COLS		16
#define LINE_MAX_B	8192
#define ERRORS_MAX	20	/* reported before giving up */

enum col { C_NUMBER, C_WA_ID, C_STATUS, C_ORDERED, C_EXPECTED, C_ITEM,
	C_QUANTITY, C_ORDER, C_STEP, C_STARTS, C_ENDS, C__MAX };

static const char *const col_names[C__MAX] = {
	"number",		/* C_NUMBER */
	"customer_wa_id",	/* C_WA_ID */
	"status",		/* C_STATUS */
	"ordered_on",		/* C_ORDERED */
	"expected_delivery",	/* C_EXPECTED */
	"item",			/* C_ITEM */
	"quantity",		/* C_QUANTITY */
	"order_number",		/* C_ORDER */
	"step",			/* C_STEP */
	"starts_on",		/* C_STARTS */
	"ends_on",		/* C_ENDS */
};

struct ctx {
	const char	*file;
	size_t		 line;
	int		 errors;
	int		 pos[C__MAX];	/* column index in the file, -1 absent */
	char		*f[COLS];
	int		 nf;
};

static void
bad(struct ctx *c, enum col k, const char *why)
{
	c->errors++;
	if (c->errors <= ERRORS_MAX)
		(void)fprintf(stderr, "%s:%zu: %s: %s\n", c->file, c->line,
		    col_names[k], why);
}

/* The value of column k on this line, "" when absent. */
static const char *
val(const struct ctx *c, enum col k)
{
	return c->pos[k] >= 0 && c->pos[k] < c->nf ? c->f[c->pos[k]] : "";
}

/* 1 when s is printable text of 1..max bytes (UTF-8 allowed). */
static int
text_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

/* 1 when s is a real date written YYYY-MM-DD. */
static int
date_ok(const char *s)
{
	static const int days[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	int i, y, m, d;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	for (i = 0; i < 10; i++)
		if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
			return 0;
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 +
	    (s[3] - '0');
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	if (y < 2000 || y > 2200 || m < 1 || m > 12 || d < 1 ||
	    d > days[m - 1])
		return 0;
	return !(m == 2 && d == 29 && (y % 4 != 0 ||
	    (y % 100 == 0 && y % 400 != 0)));
}

/* Normalises a WhatsApp id in place ("+" dropped); 1 when 6-20 digits. */
static int
wa_id_ok(char *s)
{
	size_t n;

	if (*s == '+')
		memmove(s, s + 1, strlen(s));
	n = strlen(s);
	return n >= 6 && n <= 20 && strspn(s, "0123456789") == n;
}

/* Reads the header line: which column is where.  0 or -1. */
static int
header(struct ctx *c, char *line, const enum col *need, size_t nneed,
    const enum col *opt, size_t nopt)
{
	const char	*err;
	size_t		 i;
	int		 k, j;

	for (k = 0; k < C__MAX; k++)
		c->pos[k] = -1;
	if ((c->nf = csv_split(line, c->f, COLS, &err)) == -1) {
		(void)fprintf(stderr, "%s:1: %s\n", c->file, err);
		return -1;
	}
	for (j = 0; j < c->nf; j++) {
		for (k = 0; k < C__MAX; k++)
			if (strcasecmp(c->f[j], col_names[k]) == 0)
				break;
		for (i = 0; k < C__MAX && i < nneed + nopt; i++)
			if ((i < nneed ? need[i] : opt[i - nneed]) ==
			    (enum col)k)
				break;
		if (k == C__MAX || i == nneed + nopt) {
			(void)fprintf(stderr, "%s:1: unknown column \"%.40s\"\n",
			    c->file, c->f[j]);
			return -1;
		}
		c->pos[k] = j;
	}
	for (i = 0; i < nneed; i++)
		if (c->pos[need[i]] < 0) {
			(void)fprintf(stderr, "%s:1: the header has no %s "
			    "column\n", c->file, col_names[need[i]]);
			return -1;
		}
	return 0;
}

/* One line of an orders file. */
static int
order_line(struct ctx *c, struct db *d, const char *pnid, int64_t *last_id,
    char *last_number, size_t lnsz, int *line_no, int *orders, int *lines)
{
	char		 wa[64];
	const char	*number = val(c, C_NUMBER), *status = val(c, C_STATUS);
	const char	*ordered = val(c, C_ORDERED), *exp = val(c, C_EXPECTED);
	const char	*item = val(c, C_ITEM), *qty = val(c, C_QUANTITY);

	(void)strlcpy(wa, val(c, C_WA_ID), sizeof(wa));
	if (!text_ok(number, 64))
		bad(c, C_NUMBER, "must be 1 to 64 printable characters");
	if (!wa_id_ok(wa))
		bad(c, C_WA_ID, "must be the customer's WhatsApp number, "
		    "6 to 20 digits");
	if (!text_ok(status, 64))
		bad(c, C_STATUS, "must be 1 to 64 printable characters");
	if (*ordered && !date_ok(ordered))
		bad(c, C_ORDERED, "must be a date written YYYY-MM-DD");
	if (*exp && !date_ok(exp))
		bad(c, C_EXPECTED, "must be a date written YYYY-MM-DD");
	if (*item && !text_ok(item, 200))
		bad(c, C_ITEM, "must be at most 200 printable characters");
	if (*qty && !*item)
		bad(c, C_QUANTITY, "is given without an item");
	if (*qty && !text_ok(qty, 32))
		bad(c, C_QUANTITY, "must be at most 32 printable characters");
	if (c->errors > 0)
		return 0;	/* keep checking, write nothing more */
	/* Rows of one order follow each other; the first clears its lines. */
	if (strcmp(number, last_number) != 0) {
		if (db_order_upsert(d, pnid, number, wa, status, *ordered ?
		    ordered : NULL, *exp ? exp : NULL, (int64_t)time(NULL),
		    last_id) == -1 ||
		    db_order_lines_clear(d, *last_id) == -1)
			return -1;
		(void)strlcpy(last_number, number, lnsz);
		*line_no = 0;
		(*orders)++;
	}
	if (*item) {
		if (db_order_line_upsert(d, *last_id, ++*line_no, item,
		    *qty ? qty : NULL) == -1)
			return -1;
		(*lines)++;
	}
	return 0;
}

/* One line of a schedule file. */
static int
schedule_line(struct ctx *c, struct db *d, const char *pnid, int *rows)
{
	const char	*number = val(c, C_ORDER), *step = val(c, C_STEP);
	const char	*starts = val(c, C_STARTS), *ends = val(c, C_ENDS);

	if (!text_ok(number, 64))
		bad(c, C_ORDER, "must be 1 to 64 printable characters");
	if (!text_ok(step, 120))
		bad(c, C_STEP, "must be 1 to 120 printable characters");
	if (!date_ok(starts))
		bad(c, C_STARTS, "must be a date written YYYY-MM-DD");
	if (*ends && !date_ok(ends))
		bad(c, C_ENDS, "must be a date written YYYY-MM-DD");
	else if (*ends && date_ok(starts) && strcmp(ends, starts) < 0)
		bad(c, C_ENDS, "is before starts_on");
	if (c->errors > 0)
		return 0;
	(*rows)++;
	return db_schedule_upsert(d, pnid, number, step, starts, *ends ? ends :
	    NULL);
}

/*
 * Imports file (what: "orders" or "schedule") for business number pnid.
 * Prints what was imported, or every problem on standard error.
 * Returns 0, or -1 with nothing imported.
 */
int
import_csv(struct db *d, const char *pnid, const char *what, const char *file)
{
	static const enum col o_need[] = { C_NUMBER, C_WA_ID, C_STATUS };
	static const enum col o_opt[] = { C_ORDERED, C_EXPECTED, C_ITEM,
	    C_QUANTITY };
	static const enum col s_need[] = { C_ORDER, C_STEP, C_STARTS };
	static const enum col s_opt[] = { C_ENDS };
	struct ctx	 c;
	FILE		*f;
	char		 buf[LINE_MAX_B], last[80] = "";
	const char	*err;
	int64_t		 last_id = 0;
	int		 orders_mode, line_no = 0, n1 = 0, n2 = 0, rc = -1;

	if (strcmp(what, "orders") != 0 && strcmp(what, "schedule") != 0) {
		log_warnx("import what? orders or schedule, not %.40s", what);
		return -1;
	}
	orders_mode = what[0] == 'o';
	memset(&c, 0, sizeof(c));
	c.file = file;
	if ((f = fopen(file, "r")) == NULL) {
		log_warn("%s", file);
		return -1;
	}
	if (fgets(buf, sizeof(buf), f) == NULL || (orders_mode ?
	    header(&c, buf, o_need, 3, o_opt, 4) :
	    header(&c, buf, s_need, 3, s_opt, 1)) == -1) {
		if (ferror(f) || feof(f))
			(void)fprintf(stderr, "%s:1: no header line\n", file);
		(void)fclose(f);
		return -1;
	}
	if (db_begin(d) != DB_OK) {
		(void)fclose(f);
		return -1;
	}
	for (c.line = 2; fgets(buf, sizeof(buf), f) != NULL; c.line++) {
		if (strchr(buf, '\n') == NULL && !feof(f)) {
			(void)fprintf(stderr, "%s:%zu: line longer than %d "
			    "bytes\n", file, c.line, LINE_MAX_B);
			c.errors++;
			break;
		}
		if (buf[strspn(buf, " \t\r\n")] == '\0')
			continue;
		if ((c.nf = csv_split(buf, c.f, COLS, &err)) == -1) {
			c.errors++;
			(void)fprintf(stderr, "%s:%zu: %s\n", file, c.line, err);
			continue;
		}
		if ((orders_mode ? order_line(&c, d, pnid, &last_id, last,
		    sizeof(last), &line_no, &n1, &n2) :
		    schedule_line(&c, d, pnid, &n1)) == -1)
			goto done;
	}
	if (ferror(f)) {
		log_warn("%s", file);
		goto done;
	}
	if (c.errors > 0) {
		(void)fprintf(stderr, "%s: %d problem%s; nothing imported\n",
		    file, c.errors, c.errors == 1 ? "" : "s");
		goto done;
	}
	if (db_commit(d) == -1)
		goto done;
	if (orders_mode)
		(void)printf("imported %d orders with %d lines\n", n1, n2);
	else
		(void)printf("imported %d schedule rows\n", n1);
	rc = 0;
done:
	if (rc == -1)
		db_rollback(d);
	(void)fclose(f);
	return rc;
}
