/* test_mail_msg.c: how an SMTP URL is secured, and the exact message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "buf.h"
#include "mail.h"

static int
tls(const char *url)
{
	enum mail_tls	 t;

	return mail_tls(url, &t) == -1 ? -1 : (int)t;
}

TEST(starttls_required_unless_loopback)
{
	CHECK(tls("smtps://mail.example.com:465") == MAIL_TLS_IMPLICIT);
	CHECK(tls("smtps://127.0.0.1") == MAIL_TLS_IMPLICIT);
	/* Elsewhere STARTTLS is required: no mail goes out bare. */
	CHECK(tls("smtp://mail.example.com:587") == MAIL_TLS_REQUIRED);
	CHECK(tls("smtp://mail.example.com") == MAIL_TLS_REQUIRED);
	CHECK(tls("smtp://10.0.0.5:25") == MAIL_TLS_REQUIRED);
	CHECK(tls("smtp://127.0.0.1.example.com:25") == MAIL_TLS_REQUIRED);
	CHECK(tls("smtp://localhost.example.com:25") == MAIL_TLS_REQUIRED);
	/* To this machine: used when offered. */
	CHECK(tls("smtp://127.0.0.1:2525") == MAIL_TLS_TRY);
	CHECK(tls("smtp://localhost:25") == MAIL_TLS_TRY);
	CHECK(tls("smtp://[::1]:25/client.example") == MAIL_TLS_TRY);
	/* Not an SMTP URL, or credentials in it. */
	CHECK(tls("http://mail.example.com") == -1);
	CHECK(tls("smtp://") == -1);
	CHECK(tls("smtp://user:pw@mail.example.com") == -1);
	CHECK(tls("smtp://mail.example.com:25x") == -1);
	CHECK(tls("smtp://mail.example.com /x") == -1);
	CHECK(tls("smtp://[::1") == -1);
}

TEST(addresses)
{
	CHECK(mail_addr_ok("ann@example.com"));
	CHECK(!mail_addr_ok("ann"));
	CHECK(!mail_addr_ok("@example.com"));
	CHECK(!mail_addr_ok("ann@"));
	CHECK(!mail_addr_ok("ann@example.com\r\nBcc: x@y"));
	CHECK(!mail_addr_ok("a b@example.com"));
	CHECK(!mail_addr_ok("<ann@example.com>"));
}

TEST(exact_ascii_message)
{
	struct buf	 b;
	const char	*want =
	    "Date: Sat, 05 Dec 2026 04:10:00 +0000\r\n"
	    "Message-ID: <m1@example.com>\r\n"
	    "From: alerts@example.com\r\n"
	    "To: ann@example.com\r\n"
	    "Subject: [WhatsApp gateway] A customer waits\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=UTF-8\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n"
	    "\r\n"
	    "Hello ann,\r\n"
	    "\r\n"
	    ".a line that starts with a dot\r\n"
	    "caf\xc3\xa9\r\n";

	buf_init(&b);
	CHECK(mail_format(&b, "alerts@example.com", "ann@example.com",
	    "[WhatsApp gateway] A customer waits", "Hello ann,\n\n.a line "
	    "that starts with a dot\ncaf\xc3\xa9\n", 1796443800,
	    "<m1@example.com>") == 0);
	CHECK(b.len == strlen(want) && memcmp(b.p, want, b.len) == 0);
	buf_clear(&b);
	/* A body without a last newline still ends in CRLF. */
	buf_init(&b);
	CHECK(mail_format(&b, "a@example.com", "b@example.com", "s", "x",
	    0, "<m@x>") == 0);
	CHECK(b.len > 5 && memcmp(b.p + b.len - 5, "\r\n\r\nx", 5) != 0 &&
	    memcmp(b.p + b.len - 3, "x\r\n", 3) == 0);
	buf_clear(&b);
}

TEST(subject_rfc2047_and_no_injection)
{
	struct buf	 b;
	const char	*want = "Subject: =?UTF-8?B?Q2Fmw6kgwqsgYXR0ZW50ZSDCuw==?="
	    "\r\n";

	buf_init(&b);
	CHECK(mail_format(&b, "a@example.com", "b@example.com",
	    "Caf\xc3\xa9 \xc2\xab attente \xc2\xbb", "x\n", 0, "<m@x>") == 0);
	CHECK(strstr(b.p, want) != NULL);
	buf_clear(&b);
	/* A CR or LF in a subject is a space: no header smuggled in. */
	buf_init(&b);
	CHECK(mail_format(&b, "a@example.com", "b@example.com",
	    "hi\r\nBcc: evil@example.com", "x\n", 0, "<m@x>") == 0);
	CHECK(strstr(b.p, "Subject: hi  Bcc: evil@example.com\r\n") != NULL);
	CHECK(strstr(b.p, "\r\nBcc:") == NULL);
	buf_clear(&b);
	/* Bad addresses or a Message-ID with a line break: refused. */
	buf_init(&b);
	CHECK(mail_format(&b, "a@example.com", "b@example.com\r\nX: y", "s",
	    "x", 0, "<m@x>") == -1);
	CHECK(mail_format(&b, "a@example.com", "b@example.com", "s", "x", 0,
	    "<m@x>\r\nX: y") == -1);
	buf_clear(&b);
}

TEST(long_subject_words_never_split_a_character)
{
	struct buf	 b;
	char		 subj[200];
	const char	*p, *e;
	size_t		 i;

	for (i = 0; i + 2 < sizeof(subj); i += 2)
		memcpy(subj + i, "\xc3\xa9", 2);
	subj[i] = '\0';
	buf_init(&b);
	CHECK(mail_format(&b, "a@example.com", "b@example.com", subj, "x\n",
	    0, "<m@x>") == 0);
	/* Folded into encoded words of at most 75 characters each. */
	for (p = strstr(b.p, "=?UTF-8?B?"); p != NULL;
	    p = strstr(e, "=?UTF-8?B?")) {
		e = strstr(p, "?=\r\n");
		CHECK(e != NULL && e - p + 2 <= 75);
		/* An even byte count: whole two-byte characters only. */
		if (e == NULL)
			break;
		CHECK(((e - p - 10) / 4 * 3 - (e[-1] == '=') - (e[-2] == '='))
		    % 2 == 0);
	}
	buf_clear(&b);
}

TEST(long_line_goes_quoted_printable)
{
	struct buf	 b;
	char		 body[2100];
	const char	*p, *nl;

	memset(body, 'a', 2000);
	memcpy(body + 2000, "=\n", 3);
	buf_init(&b);
	CHECK(mail_format(&b, "a@example.com", "b@example.com", "s", body, 0,
	    "<m@x>") == 0);
	CHECK(strstr(b.p, "Content-Transfer-Encoding: quoted-printable\r\n")
	    != NULL);
	CHECK(strstr(b.p, "=3D\r\n") != NULL);
	/* Every line within 76 characters. */
	for (p = strstr(b.p, "\r\n\r\n") + 4; *p; p = nl + 2) {
		nl = strstr(p, "\r\n");
		CHECK(nl != NULL && nl - p <= 76);
		if (nl == NULL)
			break;
	}
	buf_clear(&b);
}

int
main(void)
{
	RUN(starttls_required_unless_loopback);
	RUN(addresses);
	RUN(exact_ascii_message);
	RUN(subject_rfc2047_and_no_injection);
	RUN(long_subject_words_never_split_a_character);
	RUN(long_line_goes_quoted_printable);
	return check_done();
}
