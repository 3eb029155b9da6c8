/*
 * hookspec.c: what an event webhook may be (issue 16): an http(s) URL
 * with a host, https:// and a public host unless allowed otherwise,
 * and known event types.  Pure (see hookspec.h).
 */
#include <arpa/inet.h>

#include <string.h>
#include <strings.h>

#include "hookspec.h"

const char *const hookspec_types[] = {
	"message.received", "message.sent", "message.status",
	"message.edited", "conversation.assigned", "conversation.handed_off",
	"contact.opted_out", "contact.opted_in", "number.quality",
	"template.status", "send.failed", NULL
};

int
hookspec_type(const char *t)
{
	size_t k;

	if (strcmp(t, "*") == 0)
		return 1;
	for (k = 0; hookspec_types[k] != NULL; k++)
		if (strcmp(hookspec_types[k], t) == 0)
			return 1;
	return 0;
}

/*
 * 1 when host (a name, a dotted IPv4 or an IPv6 without brackets) is
 * loopback, private, link-local, unspecified, multicast or CGNAT
 * literally, or localhost.  Names are checked again at connect time
 * by the worker; this only refuses what is plainly internal.
 */
static int
host_private(const char *host)
{
	unsigned char	 a[16];
	size_t		 n = strlen(host);

	if (strcasecmp(host, "localhost") == 0 || (n > 10 &&
	    strcasecmp(host + n - 10, ".localhost") == 0))
		return 1;
	if (inet_pton(AF_INET, host, a) == 1)
		goto v4;
	if (inet_pton(AF_INET6, host, a) != 1)
		return 0;
	if (memcmp(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0) {
		memmove(a, a + 12, 4);	/* IPv4-mapped */
		goto v4;
	}
	if ((a[0] & 0xfe) == 0xfc || a[0] == 0xff ||
	    (a[0] == 0xfe && (a[1] & 0xc0) == 0x80))
		return 1;	/* ULA, multicast, link-local */
	return memcmp(a, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 15) == 0 &&
	    a[15] <= 1;	/* unspecified, loopback */
v4:
	return a[0] == 0 || a[0] == 10 || a[0] == 127 ||
	    (a[0] == 100 && (a[1] & 0xc0) == 64) ||
	    (a[0] == 169 && a[1] == 254) ||
	    (a[0] == 172 && (a[1] & 0xf0) == 16) ||
	    (a[0] == 192 && a[1] == 168) || a[0] >= 224;
}

int
hookspec_url(const char *url, int open, const char **code, const char **msg)
{
	const char	*p, *end;
	char		 host[256];
	size_t		 n;

	*code = "invalid_url";
	if (strncmp(url, "https://", 8) == 0)
		p = url + 8;
	else if (open && strncmp(url, "http://", 7) == 0)
		p = url + 7;
	else {
		*msg = "url must start with https:// (http:// only when the "
		    "operator set WA_HOOKS_ALLOW_PRIVATE=1).";
		return -1;
	}
	for (end = url; *end != '\0'; end++)
		if ((unsigned char)*end <= ' ' || *end == 0x7f)
			goto bad;
	n = strcspn(p, "/?#");
	if (memchr(p, '@', n) != NULL)
		goto bad;	/* no credentials in a URL */
	if (*p == '[') {
		if ((end = memchr(p, ']', n)) == NULL)
			goto bad;
		p++;
		n = (size_t)(end - p);
	} else if ((end = memchr(p, ':', n)) != NULL)
		n = (size_t)(end - p);
	if (n == 0 || n >= sizeof(host))
		goto bad;
	memcpy(host, p, n);
	host[n] = '\0';
	if (!open && host_private(host)) {
		*code = "private_url";
		*msg = "url must name a public host: loopback, private and "
		    "link-local addresses and localhost are refused.";
		return -1;
	}
	return 0;
bad:
	*msg = "url must be an http(s) URL with a host, without spaces or "
	    "credentials.";
	return -1;
}
