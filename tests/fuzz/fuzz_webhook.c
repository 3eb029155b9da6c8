/*
 * fuzz_webhook.c: libFuzzer target for the webhook parser.  Invariants:
 * never crashes, every item has a path and raw JSON, a WH_BAD item says
 * why, and the status merge stays within known names.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "webhook.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wh_batch	 b;
	char		 err[256];
	size_t		 i;

	if (wh_parse((const char *)data, size, &b, err, sizeof(err)) == 0) {
		for (i = 0; i < b.nitems; i++) {
			const struct wh_item *it = &b.items[i];

			if (it->path[0] == '\0' || it->raw == NULL ||
			    (it->kind == WH_BAD && it->error == NULL))
				abort();
			if (it->kind == WH_STATUS &&
			    policy_status_merge("sent", it->status) == NULL)
				abort();
			/* The business's own messages name their customer. */
			if (it->kind == WH_MESSAGE && it->outbound &&
			    it->to == NULL && it->to_user_id == NULL)
				abort();
			if (it->kind == WH_MESSAGE && it->type != NULL &&
			    (strcmp(it->type, "edit") == 0 ||
			    strcmp(it->type, "revoke") == 0) &&
			    it->original_wamid == NULL)
				abort();
		}
	} else if (err[0] == '\0')
		abort();
	wh_batch_free(&b);
	return 0;
}
