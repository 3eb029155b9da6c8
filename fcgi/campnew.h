/*
 * campnew.h: making a campaign and showing one (see campnew.c), the part
 * POST /campaigns and `wactl campaign` share.
 */
#ifndef CAMPNEW_H
#define CAMPNEW_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct db;

/* What a person asks for; every pointer borrowed. */
struct campnew_req {
	const char	*name, *pnid, *template, *language;
	const char	*csv;		/* the recipients file, or NULL */
	size_t		 csv_len;
	const char	*file;		/* its name for source, or NULL */
	const char	*label;		/* a segment: conversations labelled */
	int64_t		 active_days;	/* a segment: wrote within N days */
	const json_t	*params;	/* a segment's parameters (strings) */
	int64_t		 start_s;	/* not before; 0 now */
	int		 dry_run;
	int64_t		 created_by;	/* users.id; 0 wactl or a key */
};

/* Why not: the status and error an API caller gets. */
struct campnew_fail {
	int	 status;		/* 400, 409, 503 */
	char	 code[32];
	char	 field[32];		/* "" none */
	char	 message[512];
	json_t	*lines;			/* invalid_csv: [{"line","message"}];
					 * owned, campnew_fail_clear() */
};

json_t	*campnew_make(struct db *, const struct campnew_req *, int64_t now_ms,
	    struct campnew_fail *);
void	 campnew_fail_clear(struct campnew_fail *);
json_t	*campnew_json(struct db *, int64_t id, int *found);
struct buf;
int	 campnew_report(struct db *, int64_t id, struct buf *);

#endif
