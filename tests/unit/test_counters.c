/*
 * test_counters.c: the shared /metrics counters, on a file in a temporary
 * directory.  Exact values through the API: adds, the latency histogram
 * at its bucket edges, a second process adding to the same file, values
 * kept across a reopen, and a file that is not a counters file refused.
 * The module keeps one mapping per process, so the tests run in this
 * order: refusals first, while the counters are still off.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "counters.h"

static char	dir[] = "/tmp/test_counters.XXXXXX";
static char	path[64], bad[64];
static uint64_t	bk[COUNTERS_BUCKETS], v[CNT__MAX];

/* All zero except values named in the list "index, value, ..., -1". */
static int
values_are(int first, ...)
{
	uint64_t	want[CNT__MAX];
	va_list		ap;
	int		i;

	memset(want, 0, sizeof(want));
	va_start(ap, first);
	for (i = first; i >= 0; i = va_arg(ap, int))
		want[i] = va_arg(ap, uint64_t);
	va_end(ap);
	if (counters_read(bk, v) != 0)
		return 0;
	for (i = 0; i < CNT__MAX; i++)
		if (v[i] != want[i]) {
			fprintf(stderr, "  counter %d is %llu, want %llu\n", i,
			    (unsigned long long)v[i],
			    (unsigned long long)want[i]);
			return 0;
		}
	return 1;
}

TEST(off_until_opened)
{
	int	fd;
	char	junk[256];

	/* Nothing mapped: adds are dropped, reads refused. */
	counters_add(CNT_SIG_REFUSED, 1);
	counters_ack(10);
	CHECK(counters_read(bk, v) == -1);
	/* A path that cannot be opened: still off. */
	CHECK(counters_open("/nonexistent-dir/counters") == -1);
	CHECK(counters_read(bk, v) == -1);
	/* Some other file: refused untouched, counters stay off. */
	memset(junk, 'j', sizeof(junk));
	CHECK((fd = open(bad, O_RDWR | O_CREAT | O_EXCL, 0600)) != -1 &&
	    write(fd, junk, sizeof(junk)) == (ssize_t)sizeof(junk) &&
	    close(fd) == 0);
	CHECK(counters_open(bad) == -1);
	CHECK(counters_read(bk, v) == -1);
	{
		struct stat	 sb;
		char		 back[sizeof(junk)];

		CHECK(stat(bad, &sb) == 0 && sb.st_size == (off_t)sizeof(junk));
		CHECK((fd = open(bad, O_RDONLY)) != -1 &&
		    read(fd, back, sizeof(back)) == (ssize_t)sizeof(back) &&
		    close(fd) == 0 && memcmp(back, junk, sizeof(junk)) == 0);
	}
}

TEST(adds_exact)
{
	CHECK(counters_open(path) == 0);
	/* A new file reads as zeros. */
	CHECK(values_are(-1));
	counters_add(CNT_SIG_REFUSED, 1);
	counters_add(CNT_SIG_REFUSED, 2);
	counters_add(CNT_STORE_FAILED, 7);
	counters_add(CNT_JOURNAL_COMMITS, 1ULL << 40);
	counters_add(CNT_JOURNAL_COMMITS, 5);
	counters_add(CNT_OPTOUT_REFUSED, 0);
	/* Out of range: ignored, nothing else moves. */
	counters_add(CNT__MAX, 99);
	CHECK(values_are(CNT_SIG_REFUSED, (uint64_t)3, CNT_STORE_FAILED,
	    (uint64_t)7, CNT_JOURNAL_COMMITS, (uint64_t)(1ULL << 40) + 5, -1));
}

TEST(ack_histogram_edges)
{
	/* Microseconds; buckets are "at most 1 2 5 ... 1000 ms", then +Inf. */
	static const uint64_t us[] = { 0, 1000, 1001, 2000, 2001, 5000,
	    999999, 1000000, 1000001, 60000000 };
	static const uint64_t want[COUNTERS_BUCKETS] = {
		2, 2, 2, 0, 0, 0, 0, 0, 0, 2, 2
	};
	uint64_t	sum = 0;
	size_t		i;
	int		same = 1;

	CHECK(counters_read(bk, v) == 0 && v[CNT_ACK_COUNT] == 0);
	for (i = 0; i < sizeof(us) / sizeof(us[0]); i++) {
		counters_ack(us[i]);
		sum += us[i];
	}
	CHECK(counters_read(bk, v) == 0);
	for (i = 0; i < COUNTERS_BUCKETS; i++)
		if (bk[i] != want[i]) {
			fprintf(stderr, "  bucket %zu is %llu, want %llu\n", i,
			    (unsigned long long)bk[i],
			    (unsigned long long)want[i]);
			same = 0;
		}
	CHECK(same);
	CHECK(v[CNT_ACK_COUNT] == 10 && v[CNT_ACK_SUM_US] == sum &&
	    sum == 63011002);
	CHECK(counters_bounds_ms[0] == 1 &&
	    counters_bounds_ms[COUNTERS_BUCKETS - 2] == 1000);
}

TEST(shared_between_processes)
{
	pid_t	pid;
	int	st, i;

	CHECK(counters_read(bk, v) == 0 && v[CNT_WINDOW_REFUSED] == 0);
	/* Two processes adding at once lose nothing. */
	if ((pid = fork()) == 0) {
		for (i = 0; i < 100000; i++)
			counters_add(CNT_WINDOW_REFUSED, 1);
		_exit(0);
	}
	CHECK(pid > 0);
	for (i = 0; i < 100000; i++)
		counters_add(CNT_WINDOW_REFUSED, 1);
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
	    WEXITSTATUS(st) == 0);
	CHECK(counters_read(bk, v) == 0 && v[CNT_WINDOW_REFUSED] == 200000);
}

/* Opens file f in a child; its exit status: 0 taken and counting. */
static int
child_open(const char *f)
{
	pid_t	pid;
	int	st;

	if ((pid = fork()) == 0) {
		if (counters_open(f) == -1)
			_exit(1);
		counters_add(CNT_SIG_REFUSED, 1);
		_exit(counters_read(bk, v) == 0 && v[CNT_SIG_REFUSED] == 1 ?
		    0 : 2);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/*
 * Responders start together: one grows a new file to the counters' size
 * and then writes its magic, and another that opens the file in between
 * finds our size and no magic yet.  That file is being made, not foreign:
 * taken (it used to be refused, leaving that responder's /metrics
 * without counters).
 */
TEST(taken_while_being_made)
{
	struct stat	 sb;
	char		 ref[80], made[80];
	int		 fd;

	CHECK((size_t)snprintf(ref, sizeof(ref), "%s/ref", dir) < sizeof(ref));
	CHECK((size_t)snprintf(made, sizeof(made), "%s/made", dir) <
	    sizeof(made));
	CHECK(child_open(ref) == 0 && stat(ref, &sb) == 0 && sb.st_size > 8);
	/* As the first responder leaves it between growing and claiming. */
	CHECK((fd = open(made, O_RDWR | O_CREAT | O_EXCL, 0600)) != -1 &&
	    ftruncate(fd, sb.st_size) == 0 && close(fd) == 0);
	CHECK(child_open(made) == 0);
	/* Zeros of another size are still not ours. */
	CHECK(truncate(made, 0) == 0 && truncate(made, sb.st_size + 8) == 0);
	CHECK(child_open(made) == 1);
}

TEST(kept_across_reopen)
{
	/* As after a restart: the file still holds every count. */
	CHECK(counters_open(path) == 0);
	CHECK(values_are(CNT_ACK_COUNT, (uint64_t)10, CNT_ACK_SUM_US,
	    (uint64_t)63011002, CNT_SIG_REFUSED, (uint64_t)3,
	    CNT_STORE_FAILED, (uint64_t)7, CNT_WINDOW_REFUSED,
	    (uint64_t)200000, CNT_JOURNAL_COMMITS,
	    (uint64_t)(1ULL << 40) + 5, -1));
	CHECK(bk[0] == 2 && bk[COUNTERS_BUCKETS - 1] == 2);
}

int
main(void)
{
	int rc;

	if (mkdtemp(dir) == NULL ||
	    (size_t)snprintf(path, sizeof(path), "%s/counters", dir) >=
	    sizeof(path) ||
	    (size_t)snprintf(bad, sizeof(bad), "%s/other", dir) >=
	    sizeof(bad)) {
		fprintf(stderr, "test_counters: no temporary directory\n");
		return 2;
	}
	RUN(off_until_opened);
	RUN(adds_exact);
	RUN(ack_histogram_edges);
	RUN(shared_between_processes);
	RUN(taken_while_being_made);
	RUN(kept_across_reopen);
	rc = CHECK_DONE();
	(void)unlink(path);
	(void)unlink(bad);
	(void)snprintf(path, sizeof(path), "%s/ref", dir);
	(void)unlink(path);
	(void)snprintf(path, sizeof(path), "%s/made", dir);
	(void)unlink(path);
	(void)rmdir(dir);
	return rc;
}
