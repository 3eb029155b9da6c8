# Makefile: builds wa-fcgi, wa-worker and wactl into build/, runs the local
# stack (`make run`) and every test (`make test`).  Both first install the
# Debian packages that are missing (deploy/deps.sh).
-include Makefile.local

PREFIX	?= /usr/local
DESTDIR	?=
CC	?= cc
PKGS	 = fcgi jansson sqlite3 libcrypto libbsd
WARN	 = -std=c11 -Wall -Wextra -Wpedantic -Wstrict-prototypes \
	   -Wmissing-prototypes -Wshadow -Wformat=2 -Wvla -Wimplicit-fallthrough
CFLAGS	?= -O2 -g
CFLAGS	+= $(WARN) -D_GNU_SOURCE -D_FORTIFY_SOURCE=2 -fstack-protector-strong \
	   -MMD -MP
ifeq ($(CI),true)
CFLAGS	+= -Werror
endif
ifeq ($(SANITIZE),1)
CFLAGS	+= -fsanitize=address,undefined -fno-sanitize-recover=all \
	   -fno-omit-frame-pointer -O1
LDFLAGS	+= -fsanitize=address,undefined
BUILD	?= build-san
endif
BUILD	?= build
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# libcurl is the worker's alone: a responder never calls out (DESIGN).
CURL_CFLAGS = $(shell pkg-config --cflags libcurl 2>/dev/null)
CURL_LIBS  = $(shell pkg-config --libs libcurl 2>/dev/null)

# The layers (docs/architecture.md), one module a line so that branches
# adding one merge cleanly: a new module is one line in one list.
# DB: storage, db.c and one file per job (db_int.h is private to them).
DB	= db \
	  db_sql \
	  db_sql_api \
	  db_sql_account \
	  db_journal \
	  db_apply \
	  db_outbox \
	  db_bot \
	  db_api \
	  db_retain \
	  db_numbers \
	  db_jobs \
	  db_templates \
	  db_health \
	  db_types \
	  db_sql_users \
	  db_users \
	  db_sql_inbox \
	  db_sql_media \
	  db_media \
	  db_inbox \
	  db_sql_hooks \
	  db_hooks \
	  db_sql_deliver \
	  db_deliver \
	  db_sql_alerts \
	  db_alerts \
	  db_sql_campaigns \
	  db_campaigns \
	  db_sql_campsend \
	  db_campsend \
	  db_doctor
# CORE: every program: logging, configuration, storage, the outbox.
CORE	= log \
	  buf \
	  cfg \
	  sig \
	  url \
	  hookspec \
	  webhook \
	  msg \
	  schema_sql \
	  hookrule \
	  $(DB) \
	  notify \
	  counters \
	  outbox \
	  policy \
	  tmpl \
	  csv \
	  civil \
	  campaign \
	  campnew
# RETAIN: retention, on the worker's timer and by `wactl purge`.
RETAIN	= purge
# BOT: the chatbot, and its run inside the worker's transaction.
BOT	= flow \
	  bot \
	  chat
# NET: the only libcurl user (the worker's Graph calls, wactl's client).
NET	= wa \
	  mail \
	  mail_msg \
	  templates
# SEND: draining the outbox to the Graph API.
SEND	= graph \
	  rate \
	  sender \
	  campsend \
	  hookpost
# API: the management API and the only libfcgi user.
API	= req \
	  api_types \
	  api \
	  api_jobs \
	  param \
	  profile \
	  api_templates \
	  api_numbers \
	  api_scope \
	  api_session \
	  pw \
	  api_inbox \
	  api_media \
	  api_hooks \
	  api_alerts \
	  api_campaigns
# ADMIN: wactl's own jobs.
ADMIN	= client \
	  doctor \
	  rotate \
	  backup \
	  users \
	  hooks_cli \
	  campaign_cli \
	  pw \
	  import \
	  numbers \
	  customer \
	  custmsg \
	  profile
# PURE: no I/O, SQLite, clock or randomness; tests/layers.sh checks each
# (reading this list), and that its unit test links no storage, libfcgi
# or libcurl code.
PURE	= webhook \
	  civil \
	  rotate \
	  msg \
	  graph \
	  flow \
	  bot \
	  url \
	  hookspec \
	  csv \
	  custmsg \
	  rate \
	  param \
	  policy \
	  profile \
	  tmpl \
	  sandbox_check \
	  hookrule \
	  mail_msg \
	  campaign
# What each program links: its main and the layers it calls, nothing
# else (tests/layers.sh checks wa-fcgi holds no bot or sending code and
# wa-worker no API code).  A module that only some of them call goes in
# the layer of its callers, or a list of its own named here.
# DAEMON: what both daemons do at start (signals, -n, the SQLite check).
DAEMON	= proc
# APPLY: the worker's apply of the webhook journal.
APPLY	= apply
# ACCOUNT: the worker's account jobs to Meta (templates, profile).
ACCOUNT	= jobs
# ALERTS: the worker's alerts and their mails (issue 16).
ALERTS	= alerts
# SANDBOX: wa-sandbox, the local Graph API of `make run` in sandbox mode
# (its own store, sandbox.db; none of the gateway's storage or bot).
SANDBOX	= sandbox \
	  sandbox_check \
	  sandbox_store \
	  sandbox_hook \
	  log \
	  buf \
	  cfg \
	  url \
	  sig \
	  req \
	  wa
FCGI	= responder $(CORE) $(DAEMON) $(API)
WORKER	= worker $(CORE) $(DAEMON) $(APPLY) $(RETAIN) $(BOT) $(NET) $(SEND) \
	  $(ACCOUNT) $(ALERTS)
WACTL	= wactl $(CORE) $(RETAIN) $(BOT) $(NET) $(ADMIN)
# $(call o,MODULES): their objects.
o	= $(patsubst %,$(BUILD)/%.o,$(1))
PROGS	= $(BUILD)/wa-fcgi $(BUILD)/wa-worker $(BUILD)/wactl \
	  $(BUILD)/wa-sandbox
# One name a line, so that branches adding tests merge cleanly.
UNITS	= $(BUILD)/test_graph \
	  $(BUILD)/test_rotate \
	  $(BUILD)/test_apply \
	  $(BUILD)/test_sig \
	  $(BUILD)/test_webhook \
	  $(BUILD)/test_cfg \
	  $(BUILD)/test_req \
	  $(BUILD)/test_msg \
	  $(BUILD)/test_flow \
	  $(BUILD)/test_bot \
	  $(BUILD)/test_csv \
	  $(BUILD)/test_buf \
	  $(BUILD)/test_counters \
	  $(BUILD)/test_db_apply \
	  $(BUILD)/test_db_journal \
	  $(BUILD)/test_db_outbox \
	  $(BUILD)/test_db_retain \
	  $(BUILD)/test_url \
	  $(BUILD)/test_hookspec \
	  $(BUILD)/test_custmsg \
	  $(BUILD)/test_rate \
	  $(BUILD)/test_db_open \
	  $(BUILD)/test_param \
	  $(BUILD)/test_policy \
	  $(BUILD)/test_db_numbers \
	  $(BUILD)/test_pw \
	  $(BUILD)/test_db_jobs \
	  $(BUILD)/test_profile \
	  $(BUILD)/test_tmpl \
	  $(BUILD)/test_db_templates \
	  $(BUILD)/test_db_health \
	  $(BUILD)/test_db_types \
	  $(BUILD)/test_log \
	  $(BUILD)/test_sandbox_check \
	  $(BUILD)/test_hookpost \
	  $(BUILD)/test_mail_msg \
	  $(BUILD)/test_campaign
# What each unit test links: its module and what that calls, nothing
# else, so a pure module's test links no storage, socket or clock code.
# A new test is one line in UNITS and one LINK_ line.
LINK_test_graph	= graph policy
LINK_test_sig	= sig log
LINK_test_webhook = webhook policy
LINK_test_cfg	= cfg url
LINK_test_req	= req buf log
LINK_test_msg	= msg
LINK_test_flow	= flow msg url
LINK_test_bot	= bot flow msg url buf log
LINK_test_csv	= csv
LINK_test_custmsg = custmsg buf log webhook policy
LINK_test_buf	= log
LINK_test_counters = counters log
LINK_test_url	= url cfg
LINK_test_hookspec = hookspec
LINK_test_rate	= rate
LINK_test_policy = policy
LINK_test_tmpl	= tmpl msg
LINK_test_rotate = rotate civil
LINK_test_sandbox_check = sandbox_check
LINK_test_hookpost = hookrule sig log
LINK_test_mail_msg = mail_msg buf log
LINK_test_campaign = campaign csv civil
LINK_test_apply	= apply proc $(CORE) $(BOT)
# Storage tests: the database and what it calls.
STORE_LINK	= $(DB) schema_sql log buf cfg sig url webhook counters policy
LINK_test_db_open = $(STORE_LINK)
LINK_test_db_apply = $(STORE_LINK)
LINK_test_db_journal = $(STORE_LINK)
LINK_test_db_outbox = $(STORE_LINK)
LINK_test_db_retain = $(STORE_LINK)
LINK_test_db_numbers = $(STORE_LINK)
LINK_test_db_jobs = $(STORE_LINK)
LINK_test_profile = profile msg
LINK_test_db_templates = $(STORE_LINK)
LINK_test_db_health = $(STORE_LINK)
LINK_test_db_types = $(STORE_LINK) msg outbox
LINK_test_param	= param buf log
LINK_test_pw	= pw
LINK_test_log	= log
# Fuzz targets: tests/fuzz/fuzz_NAME.c, corpus/NAME/, NAME.dict (optional).
# Each links a plain main() (replay.c) that `make test` runs over the
# corpus; `make fuzz` runs them under clang's libFuzzer.
FUZZ	= webhook \
	  msg \
	  flow \
	  csv \
	  query
FUZZ_REPLAY = $(FUZZ:%=$(BUILD)/fuzz_%_replay)
# What each target needs (no SQLite, no libcurl: pure parsers), under
# clang as sources and in its replay as objects.
FUZZ_SRC_webhook = fcgi/webhook.c fcgi/log.c fcgi/policy.c
FUZZ_SRC_msg	 = fcgi/msg.c
FUZZ_SRC_flow	 = fcgi/flow.c fcgi/msg.c fcgi/url.c
FUZZ_SRC_csv	 = fcgi/csv.c
FUZZ_SRC_query	 = fcgi/req.c fcgi/buf.c fcgi/log.c
fuzz_o	= $(patsubst fcgi/%.c,$(BUILD)/%.o,$(FUZZ_SRC_$(1)))

.PHONY: all deps run test unit e2e fuzz valgrind bench install install-web clean
all: $(PROGS)

# `make -s print-NAME` prints a list (tests/layers.sh reads PURE).
print-%:
	@echo $($*)

deps:
	@sh deploy/deps.sh

$(BUILD)/.dir:
	@mkdir -p $(BUILD) && touch $@

# schema.sql is embedded so the binaries know the schema they speak.
$(BUILD)/schema_sql.c: schema.sql $(BUILD)/.dir
	@{ printf 'extern const char schema_sql[];\nconst char schema_sql[] = {\n'; \
	   od -An -v -tx1 schema.sql | sed 's/ \([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	   printf '0x00 };\n'; } > $@.tmp && mv $@.tmp $@

$(BUILD)/schema_sql.o: $(BUILD)/schema_sql.c
	$(CC) -c -o $@ $<

$(BUILD)/%.o: fcgi/%.c $(BUILD)/.dir
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -c -o $@ $<

# Programs, tests and replays are linked again when the Makefile (where
# their lists are) changes.
$(BUILD)/wa-fcgi: $(call o,$(FCGI)) Makefile
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(PKG_LIBS)

$(BUILD)/wa.o: fcgi/wa.c $(BUILD)/.dir
	$(CC) $(CFLAGS) $(PKG_CFLAGS) $(CURL_CFLAGS) -c -o $@ $<

$(BUILD)/wa-worker: $(call o,$(WORKER)) Makefile
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(PKG_LIBS) $(CURL_LIBS)

$(BUILD)/wactl: $(call o,$(WACTL)) Makefile
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(PKG_LIBS) $(CURL_LIBS)

$(BUILD)/wa-sandbox: $(call o,$(SANDBOX)) Makefile
	$(CC) $(LDFLAGS) -pthread -o $@ $(filter %.o,$^) $(PKG_LIBS) \
	    $(CURL_LIBS)

# Unit tests and replays link the objects their LINK_ or FUZZ_SRC_ list
# names (test_buf includes buf.c itself, to put a failing realloc()
# under it; -MMD records that).
.SECONDEXPANSION:
$(BUILD)/test_%: tests/unit/test_%.c tests/unit/check.h \
    $$(call o,$$(LINK_test_$$*)) Makefile $(BUILD)/.dir
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -Ifcgi -o $@ $< $(filter %.o,$^) \
	    $(PKG_LIBS)

$(BUILD)/fuzz_%_replay: tests/fuzz/fuzz_%.c tests/fuzz/replay.c \
    $$(call fuzz_o,$$*) Makefile $(BUILD)/.dir
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -Ifcgi -o $@ $< tests/fuzz/replay.c \
	    $(filter %.o,$^) $(PKG_LIBS)

run: deps
	@$(MAKE) --no-print-directory all
	@sh deploy/run-local.sh

test: deps
	@$(MAKE) --no-print-directory all $(UNITS) $(FUZZ_REPLAY)
	@BUILD=$(BUILD) sh tests/run.sh

unit: $(UNITS)
	@for t in $(UNITS); do $$t || exit 1; done

e2e: all
	@BUILD_DIR=$(CURDIR)/$(BUILD) /usr/bin/python3 -m pytest -q \
	    -p no:cacheprovider tests/e2e

# Unit binaries and corpus replays under valgrind (not with SANITIZE=1:
# valgrind cannot run ASan binaries); any report fails.  The responders
# are run under valgrind by tests/e2e/test_memory.py.
VALGRIND = valgrind -q --error-exitcode=1 --leak-check=full \
	   --errors-for-leak-kinds=definite,indirect \
	   --suppressions=tests/valgrind.supp
valgrind: $(UNITS) $(FUZZ_REPLAY)
	@for t in $(UNITS); do echo "$$t"; \
	    $(VALGRIND) $$t >/dev/null 2>&1 || { $(VALGRIND) $$t; exit 1; }; done
	@for t in $(FUZZ); do echo "fuzz_$$t replay"; \
	    $(VALGRIND) $(BUILD)/fuzz_$${t}_replay tests/fuzz/corpus/$$t \
	    >/dev/null || exit 1; done

# libFuzzer with clang: `make fuzz FUZZ_SECONDS=60`, each target in
# turn, or one: `make fuzz-msg`.  New finds land in build/fuzz-corpus/,
# never in the repository: copy the ones worth keeping by hand.
FUZZ_SECONDS ?= 30
fuzz:
	@for t in $(FUZZ); do $(MAKE) --no-print-directory fuzz-$$t || exit 1; done

fuzz-%: $(BUILD)/.dir
	clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE \
	    $(PKG_CFLAGS) -Ifcgi -o $(BUILD)/fuzz_$* \
	    tests/fuzz/fuzz_$*.c $(FUZZ_SRC_$*) $(PKG_LIBS)
	mkdir -p $(BUILD)/fuzz-corpus/$*
	cp tests/fuzz/corpus/$*/* $(BUILD)/fuzz-corpus/$*/
	if [ $* = webhook ]; then cp tests/fixtures/webhooks/*.json \
	    $(BUILD)/fuzz-corpus/$*/; fi
	$(BUILD)/fuzz_$* -max_total_time=$(FUZZ_SECONDS) \
	    $(if $(wildcard tests/fuzz/$*.dict),-dict=tests/fuzz/$*.dict) \
	    $(BUILD)/fuzz-corpus/$*

$(BUILD)/empty_fcgi: bench/empty_fcgi.c $(BUILD)/.dir
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -o $@ $< $(PKG_LIBS)

bench: deps
	@$(MAKE) --no-print-directory all $(BUILD)/empty_fcgi
	@sh bench/run.sh

# Only the management API part of the bench (docs/scaling.md): e.g.
# make bench-api BENCH_API_MESSAGES=10000000 BENCH_API_DB=/srv/bench/api-10m.db
.PHONY: bench-api
bench-api: deps
	@$(MAKE) --no-print-directory all
	@sh bench/run.sh api

# Only the inbox part of the bench (headless Chromium, issue 14).
.PHONY: bench-inbox
bench-inbox: deps
	@$(MAKE) --no-print-directory all
	@sh bench/run.sh inbox

# Binaries, schema, flows, the inbox's files, and deploy/upgrade.sh when
# there is one (0644, for reading: it runs from the new checkout); then
# each installed program must answer --help (it starts, links and says
# what it is) or the install fails.  Units, the nginx site and the user
# are deploy/install.sh's (as root).
SHARE	= $(DESTDIR)$(PREFIX)/share/wa-gateway
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(SHARE) $(SHARE)/flows
	install -m 0755 $(PROGS) $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 schema.sql $(SHARE)/
	install -m 0644 deploy/flows/default.json $(SHARE)/flows/
	$(if $(wildcard deploy/upgrade.sh),install -m 0644 deploy/upgrade.sh \
	    $(SHARE)/)
	@$(MAKE) --no-print-directory install-web
	@for p in $(notdir $(PROGS)); do \
	    $(DESTDIR)$(PREFIX)/bin/$$p --help >/dev/null || \
	    { echo "install: $(DESTDIR)$(PREFIX)/bin/$$p --help failed"; \
	    exit 1; }; done

# The inbox's static files, its page stamped with their version.
install-web:
	install -d $(DESTDIR)$(PREFIX)/share/wa-gateway/web
	cp -R web/. $(DESTDIR)$(PREFIX)/share/wa-gateway/web/
	sh deploy/inbox-page.sh web \
	    > $(DESTDIR)$(PREFIX)/share/wa-gateway/web/index.html

clean:
	rm -rf build build-san

-include $(wildcard $(BUILD)/*.d)
