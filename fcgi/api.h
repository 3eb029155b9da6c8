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

#endif
