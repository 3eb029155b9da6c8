/*
 * numbers.h: `wactl numbers` (see numbers.c).
 */
#ifndef NUMBERS_H
#define NUMBERS_H

struct cfg;

int	numbers_cmd(int argc, char *argv[]);
int	numbers_seed(const struct cfg *);

#endif
