/*
 * notify.c: a unix datagram socket in the state dir on which the worker
 * listens; a responder sends it one byte after each journal commit, so the
 * worker applies a webhook within milliseconds instead of polling.  The
 * signal is only a hint: the journal is the truth, and the worker still
 * looks at it on a slow timer, so a lost datagram delays, never loses.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <bsd/string.h>

#include "log.h"
#include "notify.h"

static int
fill(struct sockaddr_un *sun, const char *path)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlcpy(sun->sun_path, path, sizeof(sun->sun_path)) >=
	    sizeof(sun->sun_path)) {
		log_warnx("%s: socket path too long: %s", __func__, path);
		return -1;
	}
	return 0;
}

/* An unbound datagram socket for notify_send(); -1 on error. */
int
notify_open_sender(void)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd == -1)
		log_warn("%s: socket", __func__);
	return fd;
}

/* Never blocks and never fails the caller: the worker may be down. */
void
notify_send(int fd, const char *path)
{
	struct sockaddr_un sun;

	if (fd == -1 || fill(&sun, path) == -1)
		return;
	/* ENOENT/ECONNREFUSED: no worker; EAGAIN: it is already awake. */
	(void)sendto(fd, "w", 1, MSG_DONTWAIT, (struct sockaddr *)&sun,
	    sizeof(sun));
}

/*
 * Binds the worker's socket at path, replacing a stale one (the caller
 * holds the worker lock, so no live worker owns it).  Returns fd or -1.
 */
int
notify_open_listener(const char *path)
{
	struct sockaddr_un	 sun;
	int			 fd;

	if (fill(&sun, path) == -1)
		return -1;
	if (unlink(path) == -1 && errno != ENOENT) {
		log_warn("%s: unlink %s", __func__, path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1) {
		log_warn("%s: socket", __func__);
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		log_warn("%s: bind %s", __func__, path);
		(void)close(fd);
		return -1;
	}
	/* Responders may run as another user of the same group. */
	if (chmod(path, 0660) == -1)
		log_warn("%s: chmod %s", __func__, path);
	return fd;
}

/* Reads every pending wake-up; returns how many there were. */
int
notify_drain(int fd)
{
	char	 b[64];
	int	 n = 0;

	while (recv(fd, b, sizeof(b), MSG_DONTWAIT) > 0)
		n++;
	return n;
}
