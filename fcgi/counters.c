/*
 * counters.c: a small file in the state dir, mapped shared by every
 * process (responders, worker, wactl), holding 64-bit counters updated
 * with atomic adds: no lock, no database write on the hot path.  /metrics
 * reads them.  The file is only statistics: when it cannot be opened the
 * counters are off, and nothing else changes.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "counters.h"
#include "log.h"

#define MAGIC	0x77616374726c3031ULL	/* "wactrl01" */

const double counters_bounds_ms[COUNTERS_BUCKETS - 1] = {
	1, 2, 5, 10, 25, 50, 100, 250, 500, 1000
};

struct layout {
	uint64_t	magic;
	uint64_t	buckets[COUNTERS_BUCKETS];
	uint64_t	values[CNT__MAX];
};

static struct layout *map;	/* NULL: counters off */

/* Maps path (created when missing).  0, or -1 with the counters off. */
int
counters_open(const char *path)
{
	struct layout	*m;
	struct stat	 sb;
	uint64_t	 magic = 0;
	int		 fd;

	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640)) == -1) {
		log_warn("%s: %s (metrics counters off)", __func__, path);
		return -1;
	}
	/*
	 * Look before touching: a file that is not ours (a wrong path in
	 * the configuration) is refused whole, never grown or cut.  One of
	 * our size still without its magic is another responder's that is
	 * being made (it grows the file, then claims it): taken, and the
	 * claim below settles who writes the magic.
	 */
	if (fstat(fd, &sb) == -1 || (sb.st_size > 0 &&
	    (pread(fd, &magic, sizeof(magic), 0) != (ssize_t)sizeof(magic) ||
	    (magic != MAGIC && !(magic == 0 &&
	    sb.st_size == (off_t)sizeof(*m)))))) {
		log_warnx("%s: %s is not a counters file (metrics counters "
		    "off)", __func__, path);
		(void)close(fd);
		return -1;
	}
	/* Growing a file is idempotent; a new one reads as zeros. */
	if ((sb.st_size < (off_t)sizeof(*m) && ftruncate(fd, sizeof(*m)) ==
	    -1) || (m = mmap(NULL, sizeof(*m), PROT_READ | PROT_WRITE, MAP_SHARED,
	    fd, 0)) == MAP_FAILED) {
		log_warn("%s: %s (metrics counters off)", __func__, path);
		(void)close(fd);
		return -1;
	}
	(void)close(fd);
	if (__atomic_load_n(&m->magic, __ATOMIC_RELAXED) != MAGIC) {
		uint64_t zero = 0;

		/* First user: claim it; a racing second sees it done. */
		if (__atomic_compare_exchange_n(&m->magic, &zero, MAGIC, 0,
		    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST) == 0 &&
		    zero != MAGIC) {
			log_warnx("%s: %s is not a counters file", __func__,
			    path);
			(void)munmap(m, sizeof(*m));
			return -1;
		}
	}
	map = m;
	return 0;
}

void
counters_add(enum counter c, uint64_t n)
{
	if (map != NULL && c < CNT__MAX)
		(void)__atomic_fetch_add(&map->values[c], n, __ATOMIC_RELAXED);
}

/* One acknowledged webhook that took us microseconds. */
void
counters_ack(uint64_t us)
{
	size_t i;

	if (map == NULL)
		return;
	for (i = 0; i < COUNTERS_BUCKETS - 1; i++)
		if ((double)us <= counters_bounds_ms[i] * 1000)
			break;
	(void)__atomic_fetch_add(&map->buckets[i], 1, __ATOMIC_RELAXED);
	counters_add(CNT_ACK_COUNT, 1);
	counters_add(CNT_ACK_SUM_US, us);
}

/* Copies the counters (buckets not cumulative).  0, or -1 when off. */
int
counters_read(uint64_t buckets[COUNTERS_BUCKETS], uint64_t values[CNT__MAX])
{
	size_t i;

	if (map == NULL)
		return -1;
	for (i = 0; i < COUNTERS_BUCKETS; i++)
		buckets[i] = __atomic_load_n(&map->buckets[i], __ATOMIC_RELAXED);
	for (i = 0; i < CNT__MAX; i++)
		values[i] = __atomic_load_n(&map->values[i], __ATOMIC_RELAXED);
	return 0;
}
