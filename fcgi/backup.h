/* backup.h: `wactl backup` (see backup.c). */
#ifndef BACKUP_H
#define BACKUP_H

int	 backup_cmd(int argc, char *argv[]);

#endif
