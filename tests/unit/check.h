/* check.h: the unit tests' counter; prints "name... ok|FAIL" and a summary. */
#ifndef CHECK_H
#define CHECK_H
#include <stdio.h>
static int check_pass, check_fail;
#define CHECK(cond) do {						\
	if (cond) check_pass++;						\
	else { check_fail++;						\
		fprintf(stderr, "  FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); } \
} while (0)
#define TEST(name) static void name(void)
#define RUN(name) do { int f0 = check_fail; name();			\
	printf("%s... %s\n", #name, check_fail == f0 ? "ok" : "FAIL"); } while (0)
/* The last line: read by tests/run.sh. */
#define CHECK_DONE() (printf("%d passed, %d failed\n", check_pass, check_fail), \
	check_fail ? 1 : 0)
#endif
