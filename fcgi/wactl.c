/*
 * wactl.c: the local admin command.  `wactl migrate` applies schema.sql's
 * numbered migrations; `wactl version` prints the versions it knows.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "db.h"
#include "log.h"

static void
usage(void)
{
	(void)fprintf(stderr, "usage: wactl migrate | version\n"
	    "  migrate  create or upgrade $WA_STATE_DIR/wa.db to the schema "
	    "this build knows\n"
	    "  version  print the schema and SQLite versions\n");
	exit(2);
}

static int
migrate(void)
{
	struct cfg	 cfg;
	struct db	*d;
	char		 err[512];
	int		 from, to, rc;

	if (cfg_load(&cfg, 0, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		return 1;
	}
	if (mkdir(cfg.state_dir, 0750) == -1 && errno != EEXIST) {
		log_warn("mkdir %s", cfg.state_dir);
		cfg_clear(&cfg);
		return 1;
	}
	if ((d = db_open(cfg.db_path, DB_ROLE_ADMIN, cfg.sync_full,
	    cfg.busy_timeout_ms)) == NULL) {
		cfg_clear(&cfg);
		return 1;
	}
	rc = db_migrate(d, &from, &to);
	if (rc == 0 && from == to)
		(void)printf("schema is at version %d, nothing to do\n", to);
	else if (rc == 0)
		(void)printf("schema migrated from version %d to %d\n", from,
		    to);
	db_close(d);
	cfg_clear(&cfg);
	return rc == 0 ? 0 : 1;
}

int
main(int argc, char *argv[])
{
	log_init("wactl");
	if (argc < 2)
		usage();
	if (strcmp(argv[1], "migrate") == 0 && argc == 2)
		return migrate();
	if (strcmp(argv[1], "version") == 0 && argc == 2) {
		(void)printf("schema %d, SQLite %s\n", db_schema_known(),
		    db_sqlite_version());
		return 0;
	}
	usage();
	return 2;
}
