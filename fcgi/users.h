/*
 * users.h: `wactl user` (see users.c).
 */
#ifndef USERS_H
#define USERS_H

int	users_cmd(int argc, char *argv[]);

#endif
