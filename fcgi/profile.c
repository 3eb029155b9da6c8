/*
 * profile.c: whether a business profile update is one Meta takes
 * (reference 15.3; Meta's "Business profiles" page): about 1 to 139
 * characters, address at most 256, description 512, email 128 and
 * shaped like an address, at most 2 websites of 256 each, http(s), and
 * vertical one of Meta's words.  The API (POST /numbers/{pnid}/profile)
 * and `wactl numbers profile` call the same check.  Pure: JSON in,
 * verdict out.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "msg.h"
#include "profile.h"

/*
 * Meta's industry words for `vertical` (the Business Profile API's
 * enum as SDKs mirror it; UNDEFINED is what Meta reads back for none and
 * is not one to set).  Uncertain: Meta may add words.
 */
static const char *const verticals[] = {
	"OTHER", "AUTO", "BEAUTY", "APPAREL", "EDU", "ENTERTAIN",
	"EVENT_PLAN", "FINANCE", "GROCERY", "GOVT", "HOTEL", "HEALTH",
	"NONPROFIT", "PROF_SERVICES", "RETAIL", "TRAVEL", "RESTAURANT",
	"NOT_A_BIZ", NULL
};

static int
fail(struct profile_err *e, const char *field, const char *msg)
{
	(void)snprintf(e->field, sizeof(e->field), "%s", field);
	(void)snprintf(e->message, sizeof(e->message), "%s", msg);
	return -1;
}

/* A string member of at most max characters (at least min); -1 sent. */
static int
text(const json_t *o, const char *name, size_t min, size_t max,
    const char *why, struct profile_err *e)
{
	const json_t	*v = json_object_get(o, name);
	size_t		 n;

	if (v == NULL)
		return 0;
	if (!json_is_string(v))
		return fail(e, name, why);
	n = msg_codepoints(json_string_value(v), json_string_length(v));
	if (n < min || n > max || strlen(json_string_value(v)) !=
	    json_string_length(v))
		return fail(e, name, why);
	return 0;
}

/* local@domain.tld: no space or control byte, one @, a dot after it. */
static int
email_shaped(const char *s)
{
	const char	*at = strchr(s, '@');
	const unsigned char *p;

	if (at == NULL || at == s || strchr(at + 1, '@') != NULL ||
	    strchr(at + 1, '.') == NULL || at[1] == '.' ||
	    s[strlen(s) - 1] == '.')
		return 0;
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p <= ' ' || *p == 0x7f || strchr("<>(),;:\\\"[]", *p))
			return 0;
	return 1;
}

/* 1 when v is one of Meta's vertical words. */
int
profile_vertical_ok(const char *v)
{
	size_t i;

	for (i = 0; verticals[i] != NULL; i++)
		if (strcmp(v, verticals[i]) == 0)
			return 1;
	return 0;
}

/*
 * Checks an update (a JSON object of about, address, description,
 * email, websites, vertical; at least one).  0, or -1 with e naming the
 * member and saying what Meta takes.
 */
int
profile_check(const json_t *u, struct profile_err *e)
{
	static const char *const known[] = { "about", "address",
	    "description", "email", "websites", "vertical", NULL };
	const char	*k;
	const json_t	*v, *w;
	size_t		 i;
	int		 ok;

	memset(e, 0, sizeof(*e));
	if (!json_is_object(u))
		return fail(e, "", "The profile must be a JSON object.");
	if (json_object_size(u) == 0)
		return fail(e, "", "Give at least one of about, address, "
		    "description, email, websites and vertical.");
	json_object_foreach((json_t *)u, k, v) {
		for (ok = 0, i = 0; known[i] != NULL; i++)
			ok |= strcmp(k, known[i]) == 0;
		if (!ok)
			return fail(e, strlen(k) < sizeof(e->field) ? k : "",
			    "A profile has about, address, description, "
			    "email, websites and vertical only.");
	}
	if (text(u, "about", 1, PROFILE_ABOUT_MAX, "about must be text of "
	    "1 to 139 characters.", e) == -1 ||
	    text(u, "address", 0, PROFILE_ADDRESS_MAX, "address must be "
	    "text of at most 256 characters.", e) == -1 ||
	    text(u, "description", 0, PROFILE_DESCRIPTION_MAX, "description "
	    "must be text of at most 512 characters.", e) == -1 ||
	    text(u, "email", 0, PROFILE_EMAIL_MAX, "email must be text of "
	    "at most 128 characters.", e) == -1)
		return -1;
	v = json_object_get(u, "email");
	if (v != NULL && json_string_length(v) > 0 &&
	    !email_shaped(json_string_value(v)))
		return fail(e, "email", "email must look like "
		    "name@example.com.");
	if ((v = json_object_get(u, "websites")) != NULL) {
		if (!json_is_array(v) || json_array_size(v) >
		    PROFILE_WEBSITES_MAX)
			return fail(e, "websites", "websites must be a list "
			    "of at most 2 addresses.");
		json_array_foreach(v, i, w) {
			if (!json_is_string(w) || json_string_length(w) >
			    PROFILE_WEBSITE_MAX ||
			    strlen(json_string_value(w)) !=
			    json_string_length(w) ||
			    (strncasecmp(json_string_value(w), "http://", 7) !=
			    0 && strncasecmp(json_string_value(w), "https://",
			    8) != 0) || strpbrk(json_string_value(w),
			    " \t\r\n") != NULL ||
			    strlen(strchr(json_string_value(w), ':') + 3) == 0)
				return fail(e, "websites", "Each website must "
				    "be an http:// or https:// address of at "
				    "most 256 characters.");
		}
	}
	if ((v = json_object_get(u, "vertical")) != NULL &&
	    (!json_is_string(v) || !profile_vertical_ok(json_string_value(v))))
		return fail(e, "vertical", "vertical must be one of Meta's "
		    "industries: OTHER, AUTO, BEAUTY, APPAREL, EDU, ENTERTAIN, "
		    "EVENT_PLAN, FINANCE, GROCERY, GOVT, HOTEL, HEALTH, "
		    "NONPROFIT, PROF_SERVICES, RETAIL, TRAVEL, RESTAURANT, "
		    "NOT_A_BIZ.");
	return 0;
}
