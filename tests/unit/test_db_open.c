/*
 * test_db_open.c: storage opens from the embedded schema.  Every value of
 * enum stmt has its SQL in db_sql.c's table (designated initializers
 * leave a forgotten one NULL), and a database migrated on a temporary
 * file opens for the worker and a responder with every statement
 * prepared.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "db.h"
#include "db_int.h"

static char	dir[] = "/tmp/test_db_open.XXXXXX";
static char	path[64];

/* Every statement in exactly one of the two tables, and not empty. */
TEST(every_statement_has_sql)
{
	int i, missing = 0, twice = 0;

	for (i = 0; i < STMT__MAX; i++) {
		if (dbi_sql(i) == NULL || dbi_sql(i)[0] == '\0') {
			fprintf(stderr, "  statement %d has no SQL\n", i);
			missing++;
		}
		if (dbi_sql_main[i] != NULL && dbi_sql_api[i] != NULL) {
			fprintf(stderr, "  statement %d has SQL twice\n", i);
			twice++;
		}
	}
	CHECK(missing == 0);
	CHECK(twice == 0);
}

TEST(migrated_file_prepares_every_statement)
{
	const enum db_role roles[] = { DB_ROLE_WORKER, DB_ROLE_RESPONDER };
	struct db	*d;
	int		 from = -1, to = -1, i, r, unprepared;

	/* A new file is at version 0: only the admin role opens it. */
	CHECK(db_open(path, DB_ROLE_WORKER, 0, 1000) == NULL);
	CHECK((d = db_open(path, DB_ROLE_ADMIN, 0, 1000)) != NULL);
	if (d == NULL)
		return;
	CHECK(db_migrate(d, &from, &to) == 0);
	CHECK(from == 0);
	CHECK(to == db_schema_known());
	db_close(d);
	for (r = 0; r < 2; r++) {
		CHECK((d = db_open(path, roles[r], 0, 1000)) != NULL);
		if (d == NULL)
			continue;
		unprepared = 0;
		for (i = 0; i < STMT__MAX; i++)
			if (d->s[i] == NULL)
				unprepared++;
		CHECK(unprepared == 0);
		db_close(d);
	}
}

int
main(void)
{
	static const char *const sfx[] = { "", "-wal", "-shm" };
	char	 f[80];
	size_t	 i;
	int	 rc;

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	if (snprintf(path, sizeof(path), "%s/wa.db", dir) >=
	    (int)sizeof(path))
		return 1;
	RUN(every_statement_has_sql);
	RUN(migrated_file_prepares_every_statement);
	rc = CHECK_DONE();
	for (i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++)
		if (snprintf(f, sizeof(f), "%s%s", path, sfx[i]) <
		    (int)sizeof(f))
			(void)unlink(f);
	(void)rmdir(dir);
	return rc;
}
