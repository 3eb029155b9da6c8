/*
 * campaign_cli.h: `wactl campaign` (see campaign_cli.c).
 */
#ifndef CAMPAIGN_CLI_H
#define CAMPAIGN_CLI_H

int	campaign_cli_cmd(int argc, char *argv[]);

#endif
