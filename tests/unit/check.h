/*
 * check.h: the unit tests' counter.  A TEST function run by RUN is one
 * test: it passes when none of its CHECKs failed.  CHECKs are counted
 * apart as assertions.  RUN prints "name... ok|FAIL"; CHECK_DONE prints
 * "N assertions, N failed" and then the last line "N passed, N failed"
 * (tests), which tests/run.sh reads, and returns the exit status.
 */
#ifndef CHECK_H
#define CHECK_H
#include <stdio.h>
static int check_pass, check_fail;	/* assertions */
static int check_tpass, check_tfail;	/* tests */
static int check_run_fail;		/* assertions failed inside RUN */
#define CHECK(cond) do {						\
	if (cond) check_pass++;						\
	else { check_fail++;						\
		fprintf(stderr, "  FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); } \
} while (0)
#define TEST(name) static void name(void)
#define RUN(name) do { int f0 = check_fail; name();			\
	check_run_fail += check_fail - f0;				\
	if (check_fail == f0) check_tpass++; else check_tfail++;	\
	printf("%s... %s\n", #name, check_fail == f0 ? "ok" : "FAIL"); } while (0)

/*
 * A CHECK in main() outside any RUN that fails counts as one failed test,
 * so that no failure is lost from the last line.
 */
static inline int
check_done(void)
{
	if (check_fail > check_run_fail) {
		printf("checks outside any TEST... FAIL\n");
		check_tfail++;
	}
	printf("%d assertions, %d failed\n", check_pass + check_fail,
	    check_fail);
	/* The last line: read by tests/run.sh. */
	printf("%d passed, %d failed\n", check_tpass, check_tfail);
	return check_tfail || check_fail ? 1 : 0;
}
#define CHECK_DONE() check_done()
#endif
