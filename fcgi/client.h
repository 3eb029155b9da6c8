/* client.h: wactl as a client of the management API (see client.c). */
#ifndef CLIENT_H
#define CLIENT_H

int	 client_configured(void);
int	 client_messages(int, char *[]);
int	 client_conversations(int, char *[]);
int	 client_send(const char *json, const char *key,
	    const char *from);

#endif
