/*
 * api.h: the management API under /api/whatsapp/ (see api.c), served by
 * the responders.
 */
#ifndef API_H
#define API_H

struct cfg;
struct db;
struct req;

int	 api_handle(struct db *, const struct cfg *, struct req *,
	    const char *path, int wake);
int	 api_params_print(void);

/* GET /health's numbers (api_numbers.c): a JSON fragment and reasons. */
struct buf;
int	 api_numbers_health(struct db *, struct buf *, const char **why,
	    int *nwhy);

#endif
