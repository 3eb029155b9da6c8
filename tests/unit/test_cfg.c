/* test_cfg.c: configuration errors name the variable and never echo secrets. */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check.h"
#include "cfg.h"

static void
base(void)
{
	unsetenv("WA_ENV_FILE");
	setenv("WHATSAPP_APP_SECRET", "topsecretvalue", 1);
	setenv("WHATSAPP_VERIFY_TOKEN", "verifyme", 1);
	setenv("WHATSAPP_ACCESS_TOKEN", "EAAtoken", 1);
	setenv("WHATSAPP_PHONE_NUMBER_ID", "200300400500600", 1);
	unsetenv("WA_RESPONDERS");
	unsetenv("WA_SYNCHRONOUS");
	unsetenv("WHATSAPP_API_VERSION");
	unsetenv("WHATSAPP_GRAPH_URL");
	unsetenv("WA_SANDBOX");
}

TEST(defaults)
{
	struct cfg c;
	char err[512];

	base();
	setenv("WA_STATE_DIR", "/tmp/x", 1);
	CHECK(cfg_load(&c, CFG_NEED_RESPONDER | CFG_NEED_WORKER, err,
	    sizeof(err)) == 0);
	CHECK(strcmp(c.api_version, "v23.0") == 0);
	CHECK(strcmp(c.graph_url, "https://graph.facebook.com") == 0);
	CHECK(strcmp(c.db_path, "/tmp/x/wa.db") == 0);
	CHECK(c.sync_full == 1 && c.responders == 4);
	CHECK(c.sandbox == 0);
	cfg_clear(&c);
}

/* Issue 15: WA_SANDBOX, and the Graph URL it implies. */
TEST(sandbox_mode)
{
	static const char *const on[] = { "1", "on" }, *const off[] = { "0",
	    "off" };
	struct cfg c;
	char err[512];
	size_t i;

	base();
	setenv("WA_LISTEN", "127.0.0.1:18080", 1);
	for (i = 0; i < 2; i++) {
		setenv("WA_SANDBOX", on[i], 1);
		CHECK(cfg_load(&c, CFG_NEED_WORKER, err, sizeof(err)) == 0);
		CHECK(c.sandbox == 1);
		CHECK(strcmp(c.graph_url,
		    "http://127.0.0.1:18080/sandbox/graph") == 0);
		cfg_clear(&c);
		setenv("WA_SANDBOX", off[i], 1);
		CHECK(cfg_load(&c, CFG_NEED_WORKER, err, sizeof(err)) == 0);
		CHECK(c.sandbox == 0);
		CHECK(strcmp(c.graph_url, "https://graph.facebook.com") == 0);
		cfg_clear(&c);
	}
	/* A Graph URL that is set is kept (tests, a proxy). */
	setenv("WA_SANDBOX", "1", 1);
	setenv("WHATSAPP_GRAPH_URL", "http://127.0.0.1:9/", 1);
	CHECK(cfg_load(&c, CFG_NEED_WORKER, err, sizeof(err)) == 0);
	CHECK(strcmp(c.graph_url, "http://127.0.0.1:9") == 0);
	cfg_clear(&c);
	setenv("WA_SANDBOX", "yes", 1);
	CHECK(cfg_load(&c, CFG_NEED_WORKER, err, sizeof(err)) == -1);
	CHECK(strstr(err, "WA_SANDBOX") != NULL);
	unsetenv("WA_SANDBOX");
	unsetenv("WA_LISTEN");
	unsetenv("WHATSAPP_GRAPH_URL");
}

TEST(missing_secret_names_variable)
{
	struct cfg c;
	char err[512];

	base();
	unsetenv("WHATSAPP_APP_SECRET");
	CHECK(cfg_load(&c, CFG_NEED_RESPONDER, err, sizeof(err)) == -1);
	CHECK(strstr(err, "WHATSAPP_APP_SECRET is not set") != NULL);
	CHECK(strstr(err, "App Dashboard") != NULL);
	/* The worker does not need it (the responder's load above took the
	 * token out of the environment: set it again). */
	base();
	unsetenv("WHATSAPP_APP_SECRET");
	CHECK(cfg_load(&c, CFG_NEED_WORKER, err, sizeof(err)) == 0);
	cfg_clear(&c);
	base();
	unsetenv("WHATSAPP_ACCESS_TOKEN");
	CHECK(cfg_load(&c, CFG_NEED_WORKER, err, sizeof(err)) == -1);
	CHECK(strstr(err, "WHATSAPP_ACCESS_TOKEN") != NULL);
}

TEST(bad_values)
{
	struct cfg c;
	char err[512];

	base();
	setenv("WHATSAPP_APP_SECRET", "has space", 1);
	CHECK(cfg_load(&c, CFG_NEED_RESPONDER, err, sizeof(err)) == -1);
	CHECK(strstr(err, "WHATSAPP_APP_SECRET") != NULL);
	CHECK(strstr(err, "has space") == NULL);
	base();
	setenv("WA_RESPONDERS", "0", 1);
	CHECK(cfg_load(&c, 0, err, sizeof(err)) == -1);
	CHECK(strstr(err, "WA_RESPONDERS is out of range") != NULL);
	base();
	setenv("WA_SYNCHRONOUS", "OFF", 1);
	CHECK(cfg_load(&c, 0, err, sizeof(err)) == -1);
	base();
	setenv("WHATSAPP_API_VERSION", "23", 1);
	CHECK(cfg_load(&c, 0, err, sizeof(err)) == -1);
	base();
	setenv("WHATSAPP_PHONE_NUMBER_ID", "+1555", 1);
	CHECK(cfg_load(&c, CFG_NEED_WORKER, err, sizeof(err)) == -1);
	base();
	setenv("WA_SYNCHRONOUS", "NORMAL", 1);
	CHECK(cfg_load(&c, 0, err, sizeof(err)) == 0 && c.sync_full == 0);
	cfg_clear(&c);
	unsetenv("WA_SYNCHRONOUS");
}

TEST(env_file_and_override)
{
	struct cfg c;
	char err[512], path[] = "/tmp/wa_cfg_testXXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	fprintf(f, "# comment\nWHATSAPP_APP_SECRET=fromfile\n"
	    "export WHATSAPP_VERIFY_TOKEN=\"quoted\"\nWA_RESPONDERS = 7\n");
	fclose(f);
	base();
	unsetenv("WHATSAPP_APP_SECRET");
	unsetenv("WHATSAPP_VERIFY_TOKEN");
	setenv("WA_ENV_FILE", path, 1);
	CHECK(cfg_load(&c, CFG_NEED_RESPONDER, err, sizeof(err)) == 0);
	CHECK(strcmp(c.app_secret, "fromfile") == 0);
	CHECK(strcmp(c.verify_token, "quoted") == 0);
	CHECK(c.responders == 7);
	cfg_clear(&c);
	setenv("WHATSAPP_APP_SECRET", "fromenv", 1);
	CHECK(cfg_load(&c, CFG_NEED_RESPONDER, err, sizeof(err)) == 0);
	CHECK(strcmp(c.app_secret, "fromenv") == 0);
	cfg_clear(&c);
	f = fopen(path, "w");
	fprintf(f, "WA_TYPO=1\n");
	fclose(f);
	CHECK(cfg_load(&c, 0, err, sizeof(err)) == -1);
	CHECK(strstr(err, "unknown setting WA_TYPO") != NULL);
	setenv("WA_ENV_FILE", "/nonexistent/wa.env", 1);
	CHECK(cfg_load(&c, 0, err, sizeof(err)) == -1);
	CHECK(strstr(err, "/nonexistent/wa.env") != NULL);
	unsetenv("WA_ENV_FILE");
	remove(path);
}

/* Issue 13: a number's own token, WHATSAPP_ACCESS_TOKEN_<LABEL>. */
TEST(number_tokens)
{
	struct cfg c;
	char err[512], path[] = "/tmp/wa_cfg_testXXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	fprintf(f, "WHATSAPP_ACCESS_TOKEN_SALES=salesfile\n"
	    "WHATSAPP_ACCESS_TOKEN_EU_2='eufile'\n"
	    "WHATSAPP_ACCESS_TOKEN_EMPTY=\n");
	fclose(f);
	base();
	unsetenv("WHATSAPP_ACCESS_TOKEN_EU_2");
	unsetenv("WHATSAPP_ACCESS_TOKEN_EMPTY");
	setenv("WA_ENV_FILE", path, 1);
	setenv("WHATSAPP_ACCESS_TOKEN_SALES", "salesenv", 1);
	setenv("OTHER_TOKEN_VAR", "other", 1);
	CHECK(cfg_load(&c, CFG_NEED_WORKER, err, sizeof(err)) == 0);
	/* The environment over the file, as for WHATSAPP_ACCESS_TOKEN. */
	CHECK(cfg_token(&c, "WHATSAPP_ACCESS_TOKEN_SALES") != NULL &&
	    strcmp(cfg_token(&c, "WHATSAPP_ACCESS_TOKEN_SALES"),
	    "salesenv") == 0);
	CHECK(cfg_token(&c, "WHATSAPP_ACCESS_TOKEN_EU_2") != NULL &&
	    strcmp(cfg_token(&c, "WHATSAPP_ACCESS_TOKEN_EU_2"), "eufile") == 0);
	CHECK(strcmp(cfg_token(&c, "WHATSAPP_ACCESS_TOKEN"), "EAAtoken") == 0);
	CHECK(cfg_token(&c, "WHATSAPP_ACCESS_TOKEN_EMPTY") == NULL);
	CHECK(cfg_token(&c, "WHATSAPP_ACCESS_TOKEN_NONE") == NULL);
	CHECK(cfg_token(&c, "OTHER_TOKEN_VAR") != NULL);
	cfg_clear(&c);
	CHECK(c.nxtokens == 0 && c.xtokens == NULL);
	/* The responders keep none, from the file or the environment. */
	CHECK(cfg_load(&c, CFG_NEED_RESPONDER, err, sizeof(err)) == 0);
	CHECK(cfg_token(&c, "WHATSAPP_ACCESS_TOKEN_SALES") == NULL);
	CHECK(cfg_token(&c, "WHATSAPP_ACCESS_TOKEN_EU_2") == NULL);
	/* ...nor does their environment (systemd's EnvironmentFile). */
	CHECK(getenv("WHATSAPP_ACCESS_TOKEN_SALES") == NULL);
	CHECK(getenv("WHATSAPP_ACCESS_TOKEN") == NULL);
	CHECK(getenv("OTHER_TOKEN_VAR") != NULL);
	cfg_clear(&c);
	/* A bad one is named, never echoed. */
	setenv("WHATSAPP_ACCESS_TOKEN_SALES", "has space", 1);
	CHECK(cfg_load(&c, CFG_NEED_WORKER, err, sizeof(err)) == -1);
	CHECK(strstr(err, "WHATSAPP_ACCESS_TOKEN_SALES") != NULL);
	CHECK(strstr(err, "has space") == NULL);
	unsetenv("WHATSAPP_ACCESS_TOKEN_SALES");
	unsetenv("OTHER_TOKEN_VAR");
	/* Only the token pattern is accepted beyond the table. */
	f = fopen(path, "w");
	fprintf(f, "WHATSAPP_ACCESS_TOKEN_sales=x\n");
	fclose(f);
	CHECK(cfg_load(&c, CFG_NEED_WORKER, err, sizeof(err)) == -1);
	CHECK(strstr(err, "unknown setting") != NULL);
	f = fopen(path, "w");
	fprintf(f, "WHATSAPP_ACCESS_TOKEN_=x\n");
	fclose(f);
	CHECK(cfg_load(&c, CFG_NEED_WORKER, err, sizeof(err)) == -1);
	unsetenv("WA_ENV_FILE");
	remove(path);
}

/* WA_MEDIA_DIR: under the state dir unless absolute (issue 15). */
TEST(media_dir)
{
	struct cfg c;
	char err[512];

	base();
	setenv("WA_STATE_DIR", "/tmp/x", 1);
	unsetenv("WA_MEDIA_DIR");
	CHECK(cfg_load(&c, CFG_NEED_WORKER, err, sizeof(err)) == 0);
	CHECK(strcmp(c.media_dir, "/tmp/x/media") == 0);
	cfg_clear(&c);
	base();
	setenv("WA_MEDIA_DIR", "/var/lib/wa-gateway-media", 1);
	CHECK(cfg_load(&c, CFG_NEED_WORKER, err, sizeof(err)) == 0);
	CHECK(strcmp(c.media_dir, "/var/lib/wa-gateway-media") == 0);
	CHECK(strcmp(c.db_path, "/tmp/x/wa.db") == 0);
	cfg_clear(&c);
	base();
	setenv("WA_MEDIA_DIR", "files", 1);
	CHECK(cfg_load(&c, CFG_NEED_WORKER, err, sizeof(err)) == 0);
	CHECK(strcmp(c.media_dir, "/tmp/x/files") == 0);
	cfg_clear(&c);
	base();
	setenv("WA_MEDIA_DIR", "", 1);
	CHECK(cfg_load(&c, CFG_NEED_WORKER, err, sizeof(err)) == -1);
	CHECK(strstr(err, "WA_MEDIA_DIR") != NULL);
	unsetenv("WA_MEDIA_DIR");
}

/*
 * A media subdirectory is 0750 under the units' UMask=0077, in the group
 * of a setgid media directory, so nginx (that group) can enter what the
 * worker stores (issue 15).
 */
TEST(media_mkdir_group_readable)
{
	char top[] = "/tmp/test_cfg_media.XXXXXX", sub[64];
	struct stat st, tst;
	mode_t old;

	CHECK(mkdtemp(top) != NULL);
	CHECK(chmod(top, 02750) == 0);
	CHECK(snprintf(sub, sizeof(sub), "%s/ab", top) < (int)sizeof(sub));
	old = umask(077);
	CHECK(cfg_media_mkdir(sub) == 0);
	CHECK(cfg_media_mkdir(sub) == 0);	/* it exists: fine */
	CHECK(stat(sub, &st) == 0 && (st.st_mode & 0777) == 0750);
	CHECK(stat(top, &tst) == 0 && st.st_gid == tst.st_gid);
	CHECK(cfg_media_mkdir("/nonexistent-dir/x") == -1);
	(void)umask(old);
	CHECK(rmdir(sub) == 0 && rmdir(top) == 0);
}

int
main(void)
{
	RUN(defaults);
	RUN(sandbox_mode);
	RUN(missing_secret_names_variable);
	RUN(bad_values);
	RUN(env_file_and_override);
	RUN(number_tokens);
	RUN(media_dir);
	RUN(media_mkdir_group_readable);
	return CHECK_DONE();
}
