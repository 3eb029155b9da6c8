/* import.h: CSV business data for the chatbot (see import.c). */
#ifndef IMPORT_H
#define IMPORT_H

struct db;

int	 import_csv(struct db *, const char *pnid, const char *what,
	    const char *file);

#endif
