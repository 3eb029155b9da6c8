/*
 * chat.h: runs the chatbot for inbound messages inside the worker's apply
 * transaction (see chat.c).  wa-worker only.
 */
#ifndef CHAT_H
#define CHAT_H

#include <stddef.h>
#include <stdint.h>

struct cfg;
struct db;
struct wh_item;
struct chat;

struct chat	*chat_new(struct db *, const struct cfg *, char *err,
		    size_t errsz);
void		 chat_free(struct chat *);
int		 chat_note(struct chat *, const struct wh_item *);
int		 chat_run(struct chat *);
void		 chat_forget(struct chat *);
int		 chat_check_file(const char *path);
int		 chat_agent_answer(struct db *, const char *pnid,
		    const char *recipient, const char *text);

int		 chat_agent_done(struct db *, int64_t id, const char *pnid,
		    const char *recipient, int attempts, long http,
		    const char *transport, const char *body, size_t len);

#endif
