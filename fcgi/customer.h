/* customer.h: `wactl chat`, the terminal customer (see customer.c). */
#ifndef CUSTOMER_H
#define CUSTOMER_H

int	 customer_main(int argc, char *argv[]);

#endif
