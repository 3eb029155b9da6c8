/*
 * mail.c: alert mails (issue 16) through libcurl's SMTP; the message and
 * the TLS decision are mail_msg.c's.  A mailer runs one SMTP session at
 * a time on its own multi handle without blocking: the worker starts it
 * (mailer_start()), moves it on each pass of its loop (mailer_step())
 * and waits on its sockets with everything else (mailer_fds()), so a
 * slow or dead mail server never holds up the journal or the sends.
 * libcurl does the dot-stuffing.  The password is handed to libcurl
 * only, never logged.
 */
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "mail.h"
#include "wa.h"

/* One SMTP session at most, and what it is sending. */
struct mailer {
	CURLM			*multi;
	CURL			*e;		/* the session; NULL none */
	struct curl_slist	*to;
	char			*msg;		/* a copy of the message */
	const char		*p;		/* what is left to upload... */
	size_t			 left;		/* ...and how much */
	char			 ebuf[CURL_ERROR_SIZE];
};

/* The message handed to libcurl's upload, a piece at a time. */
static size_t
on_read(char *dst, size_t size, size_t nmemb, void *arg)
{
	struct mailer	*m = arg;
	size_t		 n = size * nmemb;

	if (n > m->left)
		n = m->left;
	memcpy(dst, m->p, n);
	m->p += n;
	m->left -= n;
	return n;
}

/* A mailer, idle; NULL when out of memory.  Freed with mailer_free(). */
struct mailer *
mailer_new(void)
{
	struct mailer	*m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		free(m);
		return NULL;
	}
	if ((m->multi = curl_multi_init()) == NULL) {
		curl_global_cleanup();
		free(m);
		return NULL;
	}
	return m;
}

/* Ends the session in hand, if any (the mail is not sent). */
static void
session_end(struct mailer *m)
{
	if (m->e != NULL) {
		(void)curl_multi_remove_handle(m->multi, m->e);
		curl_easy_cleanup(m->e);
	}
	curl_slist_free_all(m->to);
	free(m->msg);
	m->e = NULL;
	m->to = NULL;
	m->msg = NULL;
	m->p = NULL;
	m->left = 0;
}

void
mailer_free(struct mailer *m)
{
	if (m == NULL)
		return;
	session_end(m);
	(void)curl_multi_cleanup(m->multi);
	curl_global_cleanup();
	free(m);
}

/* 1 while a session is in flight, else 0. */
int
mailer_busy(const struct mailer *m)
{
	return m->e != NULL;
}

/*
 * Starts sending msg (mail_format()'s, copied) to rcpt.  0 when the
 * session started (mailer_step() says how it ended), or -1 when it could
 * not: *rc is MAIL_FAILED (a URL or address we refuse, an option libcurl
 * refused) or MAIL_RETRY (out of memory), err a line saying why.
 */
int
mailer_start(struct mailer *m, const struct mail_conf *c, const char *rcpt,
    const char *msg, size_t len, enum mail_rc *rc, char *err, size_t errsz)
{
	CURL		*e;
	enum mail_tls	 t;
	char		 from[300], to[300];
	int		 n;

	*rc = MAIL_FAILED;
	if (m->e != NULL) {
		(void)snprintf(err, errsz, "a mail is already in flight");
		*rc = MAIL_RETRY;
		return -1;
	}
	if (mail_tls(c->url, &t) == -1) {
		(void)snprintf(err, errsz, "WA_SMTP_URL is not smtp:// or "
		    "smtps:// with a host");
		return -1;
	}
	if (!mail_addr_ok(c->from) || !mail_addr_ok(rcpt) ||
	    (n = snprintf(from, sizeof(from), "<%s>", c->from)) < 0 ||
	    (size_t)n >= sizeof(from) ||
	    (n = snprintf(to, sizeof(to), "<%s>", rcpt)) < 0 ||
	    (size_t)n >= sizeof(to)) {
		(void)snprintf(err, errsz, "the sender or recipient address "
		    "is not an e-mail address");
		return -1;
	}
	m->ebuf[0] = '\0';
	if ((m->msg = malloc(len + 1)) == NULL ||
	    (m->to = curl_slist_append(NULL, to)) == NULL ||
	    (e = m->e = curl_easy_init()) == NULL) {
		(void)snprintf(err, errsz, "out of memory");
		*rc = MAIL_RETRY;
		goto fail;
	}
	memcpy(m->msg, msg, len);
	m->msg[len] = '\0';
	m->p = m->msg;
	m->left = len;
	if (curl_easy_setopt(e, CURLOPT_URL, c->url) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps") !=
	    CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_USE_SSL, t == MAIL_TLS_TRY ?
	    (long)CURLUSESSL_TRY : (long)CURLUSESSL_ALL) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    /* One session per mail, ended with QUIT: none idles open. */
	    curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, c->timeout_ms) !=
	    CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, c->timeout_ms) !=
	    CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_MAIL_FROM, from) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_MAIL_RCPT, m->to) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_READDATA, m) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_UPLOAD, 1L) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len) !=
	    CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, m->ebuf) != CURLE_OK ||
	    (c->ca_file != NULL && *c->ca_file != '\0' &&
	    curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file) != CURLE_OK) ||
	    (c->user != NULL && *c->user != '\0' &&
	    (curl_easy_setopt(e, CURLOPT_USERNAME, c->user) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_PASSWORD, c->password != NULL ?
	    c->password : "") != CURLE_OK))) {
		(void)snprintf(err, errsz, "libcurl refused an SMTP option");
		goto fail;
	}
	if (curl_multi_add_handle(m->multi, e) != CURLM_OK) {
		(void)snprintf(err, errsz, "libcurl could not start the "
		    "session");
		*rc = MAIL_RETRY;
		goto fail;
	}
	return 0;
fail:
	/* Not added to the multi yet: session_end()'s remove is a no-op. */
	session_end(m);
	return -1;
}

/*
 * Moves the session in flight without blocking.  1 when it has ended,
 * with *rc MAIL_SENT, MAIL_RETRY (a 4xx, no connection, a timeout, TLS
 * that failed, STARTTLS required but not offered) or MAIL_FAILED (a
 * 5xx) and err a line saying why (never the password); 0 while it runs
 * or when none is in flight.
 */
int
mailer_step(struct mailer *m, enum mail_rc *rc, char *err, size_t errsz)
{
	CURLMsg		*msg;
	CURLcode	 cc;
	long		 code = 0;
	int		 still, left;

	if (m->e == NULL)
		return 0;
	if (curl_multi_perform(m->multi, &still) != CURLM_OK)
		return 0;
	while ((msg = curl_multi_info_read(m->multi, &left)) != NULL)
		if (msg->msg == CURLMSG_DONE && msg->easy_handle == m->e)
			break;
	if (msg == NULL)
		return 0;
	cc = msg->data.result;
	(void)curl_easy_getinfo(m->e, CURLINFO_RESPONSE_CODE, &code);
	if (cc == CURLE_OK) {
		*rc = MAIL_SENT;
		err[0] = '\0';
	} else {
		(void)snprintf(err, errsz, "%s%s%s (SMTP %ld)",
		    curl_easy_strerror(cc), m->ebuf[0] ? ": " : "", m->ebuf,
		    code);
		/* STARTTLS required but not offered: retried, never bare. */
		*rc = code >= 500 && code <= 599 && cc != CURLE_USE_SSL_FAILED ?
		    MAIL_FAILED : MAIL_RETRY;
	}
	session_end(m);
	return 1;
}

/*
 * The sockets of the session in flight, for the worker's wait: at most
 * max into fds; *timeout_ms lowered to when libcurl wants to be called
 * again.  Returns how many.
 */
int
mailer_fds(struct mailer *m, struct pollfd *fds, int max, long *timeout_ms)
{
	if (m->e == NULL)
		return 0;
	return wa_multi_fds(m->multi, fds, max, timeout_ms);
}
