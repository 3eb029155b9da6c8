/*
 * replay.c: a plain main() that feeds every file named on the command line
 * (or found in the directories named) to the fuzz target it is linked
 * with, so `make test` replays each corpus without clang's libFuzzer.
 * Each input's name is printed before it runs, so that when a target's
 * invariant aborts (or a sanitizer stops the process) the last line of
 * the log names the input.  The last line on success is
 * "NAME corpus replay: N inputs", read by tests/run.sh.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
one(const char *path)
{
	FILE	*f;
	char	*p;
	long	 n;

	printf("  %s\n", path);
	(void)fflush(stdout);
	if ((f = fopen(path, "rb")) == NULL || fseek(f, 0, SEEK_END) != 0 ||
	    (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
	    (p = malloc(n > 0 ? (size_t)n : 1)) == NULL) {
		if (f != NULL)
			(void)fclose(f);
		fprintf(stderr, "cannot read %s\n", path);
		return -1;
	}
	if (fread(p, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "cannot read %s\n", path);
		free(p);
		(void)fclose(f);
		return -1;
	}
	(void)fclose(f);
	/* Exactly n bytes, no NUL after: ASan sees a read past the end. */
	(void)LLVMFuzzerTestOneInput((const uint8_t *)p, (size_t)n);
	free(p);
	return 0;
}

int
main(int argc, char *argv[])
{
	struct stat	 st;
	struct dirent	*e;
	DIR		*d;
	const char	*name;
	char		 path[4096];
	int		 i, n = 0, bad = 0;

	name = (name = strrchr(argv[0], '/')) != NULL ? name + 1 : argv[0];
	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			if ((d = opendir(argv[i])) == NULL) {
				fprintf(stderr, "cannot open %s\n", argv[i]);
				return 1;
			}
			while ((e = readdir(d)) != NULL) {
				if (e->d_name[0] == '.')
					continue;
				if ((size_t)snprintf(path, sizeof(path),
				    "%s/%s", argv[i], e->d_name) >=
				    sizeof(path)) {
					bad = 1;
					continue;
				}
				bad |= one(path) != 0;
				n++;
			}
			(void)closedir(d);
		} else {
			bad |= one(argv[i]) != 0;
			n++;
		}
	}
	if (bad)
		return 1;
	printf("%s corpus replay: %d inputs\n", name, n);
	return 0;
}
