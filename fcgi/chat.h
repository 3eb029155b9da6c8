/*
 * chat.h: runs the chatbot for inbound messages inside the worker's apply
 * transaction (see chat.c).  wa-worker only.
 */
#ifndef CHAT_H
#define CHAT_H

#include <stddef.h>

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

#endif
