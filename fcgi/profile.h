/*
 * profile.h: Meta's limits on a business profile update (see profile.c;
 * reference 15.3), checked before anything is queued or sent.  Pure.
 */
#ifndef PROFILE_H
#define PROFILE_H

#include <jansson.h>

#define PROFILE_ABOUT_MAX	139	/* characters, at least 1 */
#define PROFILE_ADDRESS_MAX	256
#define PROFILE_DESCRIPTION_MAX	512
#define PROFILE_EMAIL_MAX	128
#define PROFILE_WEBSITES_MAX	2	/* websites at most... */
#define PROFILE_WEBSITE_MAX	256	/* ...each this long */

/* Why an update was refused: the member and a sentence for a person. */
struct profile_err {
	char	 field[32];
	char	 message[240];
};

int	 profile_check(const json_t *update, struct profile_err *);
int	 profile_vertical_ok(const char *);

#endif
