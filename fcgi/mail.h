/* mail.h: alert mails through libcurl's SMTP (see mail.c). */
#ifndef MAIL_H
#define MAIL_H

#include <stddef.h>
#include <stdint.h>

struct buf;
struct mailer;
struct pollfd;

/* How a WA_SMTP_URL is to be secured (mail_tls()). */
enum mail_tls {
	MAIL_TLS_IMPLICIT,	/* smtps://: TLS from the first byte */
	MAIL_TLS_REQUIRED,	/* smtp:// elsewhere: STARTTLS or no mail */
	MAIL_TLS_TRY,		/* smtp:// to loopback: STARTTLS when offered */
	MAIL_TLS__MAX
};

/* The mail server and who we are to it; strings borrowed. */
struct mail_conf {
	const char	*url;		/* WA_SMTP_URL */
	const char	*user;		/* WA_SMTP_USER, "" none */
	const char	*password;	/* WA_SMTP_PASSWORD, "" none */
	const char	*from;		/* WA_MAIL_FROM */
	const char	*ca_file;	/* WA_SMTP_CA_FILE, "" the system's */
	long		 timeout_ms;	/* one whole session */
};

/* What became of a send (mailer_start(), mailer_step()). */
enum mail_rc {
	MAIL_SENT,		/* the server took it (250 after DATA) */
	MAIL_RETRY,		/* 4xx, no connection, a timeout: later */
	MAIL_FAILED,		/* 5xx or a refused set-up: never */
	MAIL__MAX
};

int	 mail_tls(const char *url, enum mail_tls *);
int	 mail_addr_ok(const char *addr);
int	 mail_format(struct buf *, const char *from, const char *to,
	    const char *subject, const char *body, int64_t now_s,
	    const char *msgid);
struct mailer	*mailer_new(void);
void		 mailer_free(struct mailer *);
int		 mailer_busy(const struct mailer *);
int		 mailer_start(struct mailer *, const struct mail_conf *,
		    const char *rcpt, const char *msg, size_t len,
		    enum mail_rc *, char *err, size_t errsz);
int		 mailer_step(struct mailer *, enum mail_rc *, char *err,
		    size_t errsz);
int		 mailer_fds(struct mailer *, struct pollfd *, int max,
		    long *timeout_ms);

#endif
