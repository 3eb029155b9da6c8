/*
 * hooks_cli.h: `wactl hooks` (see hooks_cli.c).
 */
#ifndef HOOKS_CLI_H
#define HOOKS_CLI_H

int	hooks_cli_cmd(int argc, char *argv[]);

#endif
