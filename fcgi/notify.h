/* notify.h: wake the worker after a journal commit (see notify.c). */
#ifndef NOTIFY_H
#define NOTIFY_H

int	 notify_open_sender(void);
void	 notify_send(int fd, const char *path);
int	 notify_open_listener(const char *path);
int	 notify_drain(int fd);

#endif
