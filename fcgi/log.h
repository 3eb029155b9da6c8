/* log.h: stderr logging for the daemons and wactl (see log.c). */
#ifndef LOG_H
#define LOG_H

#include <stddef.h>

void	 log_init(const char *progname);
void	 log_info(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
void	 log_warn(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
void	 log_warnx(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
void	 fatalx(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	 log_event(const char *name, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
size_t	 log_escape(char *dst, size_t dstsz, const char *src, size_t len);

#endif
