/*
 * mail.c: alert mails (issue 16) through libcurl's SMTP; the message and
 * the TLS decision are mail_msg.c's.  mail_send() is one blocking SMTP session
 * (the worker calls it for one mail at a time, with a short timeout);
 * libcurl does the dot-stuffing.  The password is handed to libcurl
 * only, never logged.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "mail.h"

/* The message handed to libcurl's upload, a piece at a time. */
struct feed {
	const char	*p;
	size_t		 left;
};

static size_t
on_read(char *dst, size_t size, size_t nmemb, void *arg)
{
	struct feed	*f = arg;
	size_t		 n = size * nmemb;

	if (n > f->left)
		n = f->left;
	memcpy(dst, f->p, n);
	f->p += n;
	f->left -= n;
	return n;
}

/*
 * Sends msg (mail_format()'s) to rcpt.  MAIL_SENT, MAIL_RETRY (a 4xx, no
 * connection, a timeout, TLS that failed) or MAIL_FAILED (a 5xx, a URL
 * or address we refuse; STARTTLS required but not offered is a retry),
 * with err a
 * line saying why (never the password).
 */
enum mail_rc
mail_send(const struct mail_conf *m, const char *rcpt, const char *msg,
    size_t len, char *err, size_t errsz)
{
	CURL			*e = NULL;
	struct curl_slist	*to = NULL;
	struct feed		 f = { msg, len };
	enum mail_tls		 t;
	enum mail_rc		 rc = MAIL_FAILED;
	CURLcode		 cc;
	long			 code = 0;
	char			 from[300], rc_to[300], ebuf[CURL_ERROR_SIZE];

	ebuf[0] = '\0';
	if (mail_tls(m->url, &t) == -1) {
		(void)snprintf(err, errsz, "WA_SMTP_URL is not smtp:// or "
		    "smtps:// with a host");
		return MAIL_FAILED;
	}
	if (!mail_addr_ok(m->from) || !mail_addr_ok(rcpt)) {
		(void)snprintf(err, errsz, "the sender or recipient address "
		    "is not an e-mail address");
		return MAIL_FAILED;
	}
	(void)snprintf(from, sizeof(from), "<%s>", m->from);
	(void)snprintf(rc_to, sizeof(rc_to), "<%s>", rcpt);
	if ((e = curl_easy_init()) == NULL ||
	    (to = curl_slist_append(NULL, rc_to)) == NULL) {
		(void)snprintf(err, errsz, "out of memory");
		rc = MAIL_RETRY;
		goto fail;
	}
	if (curl_easy_setopt(e, CURLOPT_URL, m->url) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps") !=
	    CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_USE_SSL, t == MAIL_TLS_TRY ?
	    (long)CURLUSESSL_TRY : (long)CURLUSESSL_ALL) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, m->timeout_ms) !=
	    CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, m->timeout_ms) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_MAIL_FROM, from) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_MAIL_RCPT, to) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_READDATA, &f) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_UPLOAD, 1L) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len) !=
	    CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, ebuf) != CURLE_OK ||
	    (m->ca_file != NULL && *m->ca_file != '\0' &&
	    curl_easy_setopt(e, CURLOPT_CAINFO, m->ca_file) != CURLE_OK) ||
	    (m->user != NULL && *m->user != '\0' &&
	    (curl_easy_setopt(e, CURLOPT_USERNAME, m->user) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_PASSWORD, m->password != NULL ?
	    m->password : "") != CURLE_OK))) {
		(void)snprintf(err, errsz, "libcurl refused an SMTP option");
		goto fail;
	}
	cc = curl_easy_perform(e);
	(void)curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
	if (cc == CURLE_OK) {
		rc = MAIL_SENT;
		err[0] = '\0';
		goto fail;
	}
	(void)snprintf(err, errsz, "%s%s%s (SMTP %ld)", curl_easy_strerror(cc),
	    ebuf[0] ? ": " : "", ebuf, code);
	/* STARTTLS required but not offered: retried, never sent bare. */
	if (code >= 500 && code <= 599 && cc != CURLE_USE_SSL_FAILED)
		rc = MAIL_FAILED;
	else
		rc = MAIL_RETRY;
fail:
	curl_slist_free_all(to);
	if (e != NULL)
		curl_easy_cleanup(e);
	return rc;
}
