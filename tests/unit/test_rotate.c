/*
 * test_rotate.c: the backup files' names and which of them rotation
 * keeps (fcgi/rotate.c): the 7 newest, then the newest of each of the 4
 * newest ISO weeks among the older ones; every choice checked by hand
 * against a calendar.
 */
#include <stdio.h>
#include <string.h>

#include <bsd/string.h>

#include "check.h"
#include "rotate.h"

#define MAXF	64

/* Parses names[] into days[]; the count, or -1 when one is refused. */
static int
parse_all(const char *const *names, long *days)
{
	int i;

	for (i = 0; names[i] != NULL; i++)
		if (!rotate_name_parse(names[i], &days[i]))
			return -1;
	return i;
}

/* The names rotate_keep() keeps, joined by spaces, in input order. */
static const char *
kept(const char *const *names)
{
	static char	 out[MAXF * ROTATE_NAME_MAX];
	long		 days[MAXF] = { 0 };
	int		 keep[MAXF] = { 0 }, n, i;

	out[0] = '\0';
	if ((n = parse_all(names, days)) < 0 || rotate_keep(days, (size_t)n,
	    keep) == -1)
		return "error";
	for (i = 0; i < n; i++)
		if (keep[i]) {
			if (out[0] != '\0')
				(void)strlcat(out, " ", sizeof(out));
			(void)strlcat(out, names[i] + 3, sizeof(out));
			out[strlen(out) - 3] = '\0';	/* drop ".db" */
		}
	return out;
}

TEST(names_round_trip)
{
	char	 b[ROTATE_NAME_MAX];
	long	 d;

	CHECK(rotate_name(0, b, sizeof(b)) == 0 &&
	    strcmp(b, "wa-1970-01-01.db") == 0);
	/* 2026-12-05, a Saturday: 20792 days after 1970-01-01. */
	CHECK(rotate_name(20792, b, sizeof(b)) == 0 &&
	    strcmp(b, "wa-2026-12-05.db") == 0);
	CHECK(rotate_name_parse("wa-2026-12-05.db", &d) == 1 && d == 20792);
	CHECK(rotate_name_parse("wa-2028-02-29.db", &d) == 1);
	CHECK(rotate_name(20792, b, sizeof(b) - 1) == -1);	/* too small */
	CHECK(rotate_name(-1, b, sizeof(b)) == -1);		/* 1969 */
}

TEST(only_its_own_names)
{
	static const char *const bad[] = {
		"wa-2026-02-29.db",	/* 2026 is no leap year */
		"wa-2026-13-01.db", "wa-2026-00-10.db", "wa-2026-04-31.db",
		"wa-2026-1-01.db", "wa-2026-01-01.db.tmp",
		"wa-2026-01-01.db-wal", "xwa-2026-01-01.db", "wa-2026-01-01.DB",
		"wa-20260101.db", "wa-2026-01-0a.db", "wa-1969-12-31.db",
		"wa.db", "", "notes.txt", NULL,
	};
	long	 d;
	int	 i;

	for (i = 0; bad[i] != NULL; i++)
		if (rotate_name_parse(bad[i], &d) != 0) {
			CHECK(!"a foreign name was taken as a backup");
			(void)fprintf(stderr, "  %s\n", bad[i]);
		}
}

TEST(five_weeks_of_dailies)
{
	/* 2026-11-01 (a Sunday) to 2026-12-05 (a Saturday), oldest first. */
	const char	*names[MAXF];
	char		 buf[40][ROTATE_NAME_MAX];
	int		 i;

	for (i = 0; i < 35; i++) {
		CHECK(rotate_name(20758 + i, buf[i], sizeof(buf[i])) == 0);
		names[i] = buf[i];
	}
	names[35] = NULL;
	CHECK(strcmp(names[0], "wa-2026-11-01.db") == 0);
	/*
	 * Dailies: Nov 29 to Dec 5.  Weeks (Monday to Sunday) of the
	 * older ones: Nov 23-29 -> Nov 28, Nov 16-22 -> 22, Nov 9-15 -> 15,
	 * Nov 2-8 -> 8; Oct 26-Nov 1 is a fifth week: Nov 1 goes.
	 */
	CHECK(strcmp(kept(names), "2026-11-08 2026-11-15 2026-11-22 "
	    "2026-11-28 2026-11-29 2026-11-30 2026-12-01 2026-12-02 "
	    "2026-12-03 2026-12-04 2026-12-05") == 0);
}

TEST(gaps_and_a_new_year)
{
	/* Any order; the week of Mon 2026-12-28 runs to Sun 2027-01-03. */
	static const char *const names[] = {
		"wa-2026-12-29.db", "wa-2027-01-20.db", "wa-2026-10-01.db",
		"wa-2027-01-19.db", "wa-2027-01-18.db", "wa-2026-12-27.db",
		"wa-2027-01-17.db", "wa-2026-11-30.db", "wa-2027-01-16.db",
		"wa-2027-01-02.db", "wa-2027-01-15.db", "wa-2026-12-01.db",
		"wa-2027-01-14.db", "wa-2026-11-01.db", NULL,
	};

	/*
	 * Dailies: Jan 14 to 20.  Older: Jan 2 (Dec 28 week; Dec 29 of the
	 * same week goes), Dec 27 (Dec 21 week), Dec 1 (Nov 30 week; Nov 30
	 * goes), Nov 1 (Oct 26 week); Oct 1 is a fifth week and goes.
	 */
	CHECK(strcmp(kept(names), "2027-01-20 2027-01-19 2027-01-18 "
	    "2026-12-27 2027-01-17 2027-01-16 2027-01-02 2027-01-15 "
	    "2026-12-01 2027-01-14 2026-11-01") == 0);
}

TEST(few_files_all_kept)
{
	static const char *const seven[] = {
		"wa-2020-01-01.db", "wa-2021-06-30.db", "wa-2026-12-05.db",
		"wa-2026-12-04.db", "wa-1999-12-31.db", "wa-2024-02-29.db",
		"wa-2026-01-01.db", NULL,
	};
	static const char *const none[] = { NULL };
	int	 keep[1];

	CHECK(strcmp(kept(seven), "2020-01-01 2021-06-30 2026-12-05 "
	    "2026-12-04 1999-12-31 2024-02-29 2026-01-01") == 0);
	CHECK(strcmp(kept(none), "") == 0);
	CHECK(rotate_keep(NULL, 0, keep) == 0);
}

TEST(one_a_week_for_a_year)
{
	/* 52 Saturdays, one a week: 7 daily ones, then the 4 next weeks; 41 go. */
	const char	*names[MAXF];
	char		 buf[52][ROTATE_NAME_MAX];
	long		 days[52];
	int		 keep[52], i, n = 0;

	for (i = 0; i < 52; i++) {
		CHECK(rotate_name(20757 - 7 * i, buf[i], sizeof(buf[i])) == 0);
		names[i] = buf[i];
		days[i] = 20757 - 7 * i;
	}
	CHECK(strcmp(names[0], "wa-2026-10-31.db") == 0);
	CHECK(rotate_keep(days, 52, keep) == 0);
	for (i = 0; i < 52; i++)
		n += keep[i];
	CHECK(n == 11);
	for (i = 0; i < 11; i++)
		CHECK(keep[i] == 1);
}

int
main(void)
{
	RUN(names_round_trip);
	RUN(only_its_own_names);
	RUN(five_weeks_of_dailies);
	RUN(gaps_and_a_new_year);
	RUN(few_files_all_kept);
	RUN(one_a_week_for_a_year);
	return check_done();
}
