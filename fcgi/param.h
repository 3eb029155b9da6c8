/*
 * param.h: request parameters declared once (see param.c).  Each endpoint
 * declares a table of struct param, one row a parameter, ending in a row
 * whose name is NULL, and a struct of struct param_val fields; one call
 * parses a query string or a JSON object against the table and fills the
 * struct, the way kcgi's struct kvalid does (kristapsdz/kcgi:kcgi.h).
 */
#ifndef PARAM_H
#define PARAM_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

enum param_type {
	PARAM_INT,	/* a whole number in min..max */
	PARAM_TEXT,	/* min..max bytes, no NUL */
	PARAM_ENUM,	/* one of words[] */
	PARAM_BOOL,	/* true or false */
	PARAM_PHONE,	/* 6 to 20 digits, "+" allowed first (dropped) */
	PARAM_TIME,	/* unix seconds (at most 12 digits) or RFC 3339 */
	PARAM_JSON,	/* JSON bodies only: any value, the handler checks it */
	PARAM__MAX
};

/* One declared parameter. */
struct param {
	const char		 *name;		/* as sent; NULL ends a table */
	enum param_type		  type;
	int64_t			  min;		/* INT: lowest; TEXT: fewest bytes */
	int64_t			  max;		/* INT: highest; TEXT: most bytes */
	const char *const	 *words;	/* ENUM: the words, NULL-ended */
	size_t			  field;	/* offsetof() its struct param_val */
	int64_t			  def;		/* the value when absent (INT) */
	int			  nullable;	/* JSON: null is a value (s NULL) */
};

/* One parsed value; set says whether it was given. */
struct param_val {
	int		 set;	/* 1 given (null included), 0 absent */
	int64_t		 i;	/* INT, TIME, BOOL (0/1), ENUM (word's index) */
	const char	*s;	/* TEXT, PHONE (no "+"), ENUM: NUL-terminated */
	size_t		 len;	/* bytes of s */
	json_t		*j;	/* JSON bodies: the member, borrowed */
	char		*own;	/* what s points into when decoded: ours */
};

enum param_rc {
	PARAM_OK,
	PARAM_UNKNOWN,		/* a name the table does not hold */
	PARAM_REPEATED,		/* a name given twice */
	PARAM_BAD,		/* a value that does not fit its declaration */
	PARAM_NOMEM,
	PARAM_RC__MAX
};

/* What was wrong, for the 400 or 422: the parameter and a sentence. */
struct param_err {
	char	 name[64];	/* the parameter, as sent (cut to fit) */
	char	 message[256];	/* a sentence for a person */
};

enum param_rc	 param_query(const struct param *, const char *qs, void *out,
		    struct param_err *);
enum param_rc	 param_json(const struct param *, const json_t *obj,
		    void *out, struct param_err *);
void		 param_clear(const struct param *, void *out);
json_t		*param_describe(const struct param *);
const char	*param_type_name(enum param_type);
int		 param_number_digits(const char *, char *out, size_t);

#endif
