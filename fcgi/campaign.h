/*
 * campaign.h: template campaigns' pure part (see campaign.c; issue 16):
 * the variables of a template's BODY, a recipients CSV checked all or
 * nothing, the send body of one recipient and the preview text.  No I/O,
 * SQLite or clock: bytes in, verdict out.
 */
#ifndef CAMPAIGN_H
#define CAMPAIGN_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define CAMPAIGN_ROWS_MAX	200000	/* recipients a campaign may have */
#define CAMPAIGN_PARAM_MAX	1024	/* a body parameter, characters
					 * (Meta's limit, reference 15) */
#define CAMPAIGN_VARS_MAX	32	/* body variables we take */
#define CAMPAIGN_VAR_NAME_MAX	64	/* a named variable, bytes */
#define CAMPAIGN_BAD_SHOWN	20	/* wrong lines listed in an error */
#define CAMPAIGN_NAME_MAX	64	/* the campaign's name (schema) */

/* A template's BODY: its text and the parameters it needs. */
struct campaign_tmpl {
	char	*body;			/* BODY text, malloc'd; NULL none */
	int	 named;			/* 1: {{name}} variables */
	int	 nvars;			/* parameters the BODY needs */
	char	 names[CAMPAIGN_VARS_MAX][CAMPAIGN_VAR_NAME_MAX];
					/* named: each name, first use first */
	const char *unsupported;	/* why a campaign cannot fill it (a
					 * header or button parameter, a
					 * carousel), or NULL */
};

/* One recipient of a CSV; pointers into struct campaign_list's text. */
struct campaign_rcpt {
	int		 line;		/* as a person counts, from 1 */
	const char	*wa_id;		/* normalised when valid, else as given */
	const char	*reason;	/* NULL queued; "invalid_number",
					 * "duplicate" */
	const char	**params;	/* nvars values, in the template's order */
};

/* A parsed CSV: campaign_list_clear() frees it all. */
struct campaign_list {
	char			*text;	/* owned copy the pointers go into */
	struct campaign_rcpt	*v;
	size_t			 n, cap;
	const char		**vals;	/* every row's params, n * nvars */
	size_t			 nvals_cap;
	int			 nvars;
};

/* Why a CSV was refused: the lines that are wrong (the first 20). */
struct campaign_csv_err {
	int	 nbad;			/* wrong lines in all */
	int	 nshown;		/* of them in line[] */
	struct {
		int	 line;
		char	 message[200];
	}	 bad[CAMPAIGN_BAD_SHOWN];
	char	 message[400];		/* the sentence of the whole */
};

int	 campaign_tmpl_parse(const char *components, struct campaign_tmpl *);
void	 campaign_tmpl_clear(struct campaign_tmpl *);
int	 campaign_csv_parse(const char *text, size_t len,
	    const struct campaign_tmpl *, struct campaign_list *,
	    struct campaign_csv_err *);
void	 campaign_list_clear(struct campaign_list *);
int	 campaign_wa_id(const char *in, char *out, size_t sz);
const char *campaign_param_bad(const char *v);
json_t	*campaign_params_json(const struct campaign_tmpl *,
	    const char *const *vals);
int	 campaign_body(const char *template, const char *language,
	    const char *wa_id, json_t *params, char **out);
int	 campaign_preview(const struct campaign_tmpl *, const json_t *params,
	    char **out);
int	 campaign_at_parse(const char *s, int64_t *unix_s);

#endif
