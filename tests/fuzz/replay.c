/* fuzz-replay: runs every file of <corpus>/<target>/ through its fuzz target
 * (the same code libFuzzer drives, built with gcc and without libFuzzer), so
 * that `make test` keeps every seed and every crash ever found as a regression
 * input. Each input runs in a child process, so that one crash (a sanitizer
 * report, a failed property's abort) names its input and the others still
 * run; any failure makes the exit status 1.
 * Usage: fuzz-replay CORPUS_DIR   (tests/fuzz/corpus) */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/fuzz/fuzz.h"

typedef int (*fuzz_fn)(const uint8_t *data, size_t size);

static const struct {
	const char *name;
	fuzz_fn fn;
} targets[] = {
#define FUZZ_ROW(name) {#name, fuzz_##name##_one_input},
    FUZZ_TARGETS(FUZZ_ROW)
#undef FUZZ_ROW
};

/* Reads path into a malloc'd buffer; NULL with errno on failure. */
static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	size_t cap = 4096, n = 0;
	uint8_t *buf = malloc(cap);
	if (buf == NULL)
		abort();
	size_t got;
	while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			cap *= 2;
			if ((buf = realloc(buf, cap)) == NULL)
				abort();
		}
	}
	int bad = ferror(f);
	fclose(f);
	if (bad) {
		free(buf);
		errno = EIO;
		return NULL;
	}
	*len = n;
	return buf;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* Runs fn on data in a child; 0 when it returned, -1 (reported) otherwise. */
static int run_one(const char *path, const char *target, fuzz_fn fn, const uint8_t *data,
		   size_t len)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "fuzz replay: fork: %s\n", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		fn(data, len);
		fflush(NULL);
		_exit(0);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	if (WIFSIGNALED(st))
		fprintf(stderr, "fuzz replay: FAILED %s (target %s): killed by signal %d (%s)\n",
			path, target, WTERMSIG(st), strsignal(WTERMSIG(st)));
	else
		fprintf(stderr, "fuzz replay: FAILED %s (target %s): exit status %d\n", path,
			target, WEXITSTATUS(st));
	return -1;
}

/* Replays dir/<files> through fn; returns how many ran, adds to *failed. */
static int replay_dir(const char *dir, const char *target, fuzz_fn fn, int *failed)
{
	struct dirent **ents;
	int n = scandir(dir, &ents, NULL, by_name);
	if (n < 0) {
		if (errno == ENOENT)
			return 0;
		fprintf(stderr, "fuzz replay: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	int ran = 0, rc = 0;
	for (int i = 0; i < n; i++) {
		char path[4096];
		struct stat st;
		snprintf(path, sizeof(path), "%.3800s/%.255s", dir, ents[i]->d_name);
		if (ents[i]->d_name[0] != '.' && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			size_t len = 0;
			uint8_t *data = slurp(path, &len);
			if (data == NULL) {
				fprintf(stderr, "fuzz replay: %s: %s\n", path, strerror(errno));
				rc = -1;
			} else {
				if (getenv("FUZZ_REPLAY_VERBOSE"))
					fprintf(stderr, "fuzz replay: %s (target %s)\n", path,
						target);
				if (run_one(path, target, fn, data, len) < 0)
					(*failed)++;
				free(data);
				ran++;
			}
		}
		free(ents[i]);
	}
	free(ents);
	return rc < 0 ? -1 : ran;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
		return 2;
	}
	int inputs = 0, ntargets = 0, failed = 0, ioerr = 0;
	for (size_t t = 0; t < sizeof(targets) / sizeof(targets[0]); t++) {
		char dir[4096];
		snprintf(dir, sizeof(dir), "%.3000s/%.60s", argv[1], targets[t].name);
		int n = replay_dir(dir, targets[t].name, targets[t].fn, &failed);
		if (n < 0)
			ioerr = 1;
		else if (n > 0)
			inputs += n, ntargets++;
	}
	printf("fuzz replay: %d inputs, %d targets", inputs, ntargets);
	if (failed)
		printf(", %d FAILED", failed);
	printf("\n");
	return failed || ioerr;
}
