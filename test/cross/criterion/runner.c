/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * runner.c - the runner of the Criterion-compatible shim (criterion.h
 * beside it): registration, the forked test processes, the synthesis.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>

#include <signal.h>
#include <stdarg.h>
#include <sys/wait.h>
#include <unistd.h>

/* Exit codes of a test process that reports by itself. */
#define XCR_EXIT_FAIL 125
#define XCR_EXIT_SKIP 124

static struct xcr_test *xcr_head, **xcr_tail = &xcr_head;

void
xcr_register(struct xcr_test *t)
{
	*xcr_tail = t;
	xcr_tail = &t->next;
}

/* Print "[----] file:line: what" and the formatted message, then stop. */
static void
xcr_report(const char *file, int line, const char *what, const char *fmt,
    va_list ap)
{
	char msg[1024];
	int n;

	n = snprintf(msg, sizeof(msg), "[----] %s:%d: %s", file, line, what);
	if (fmt != NULL && fmt[0] != '\0' && n > 0 && (size_t)n < sizeof(msg))
		n += snprintf(msg + n, sizeof(msg) - (size_t)n, ": ");
	if (fmt != NULL && n > 0 && (size_t)n < sizeof(msg))
		n += vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	if (n < 0 || (size_t)n >= sizeof(msg) - 1)
		n = (int)sizeof(msg) - 2;
	msg[n++] = '\n';
	(void)write(2, msg, (size_t)n);
}

void
xcr_fail(const char *file, int line, const char *expr, ...)
{
	va_list ap;
	const char *fmt;
	char what[512];

	va_start(ap, expr);
	fmt = va_arg(ap, const char *);
	(void)snprintf(what, sizeof(what), "Assertion failed: %s", expr);
	xcr_report(file, line, what, fmt, ap);
	va_end(ap);
	_exit(XCR_EXIT_FAIL);
}

void
xcr_skip(const char *file, int line, ...)
{
	va_list ap;
	const char *fmt;

	va_start(ap, line);
	fmt = va_arg(ap, const char *);
	xcr_report(file, line, "skipped", fmt, ap);
	va_end(ap);
	_exit(XCR_EXIT_SKIP);
}

/* fnmatch-like: '*' matches any run of characters. */
static int
xcr_match(const char *pat, const char *s)
{
	if (*pat == '\0')
		return (*s == '\0');
	if (*pat == '*')
		return (xcr_match(pat + 1, s) ||
		    (*s != '\0' && xcr_match(pat, s + 1)));
	return (*s == *pat && xcr_match(pat + 1, s + 1));
}

struct xcr_run {
	pid_t pid;
	struct xcr_test *t;
};

static unsigned xcr_pass, xcr_fail_n, xcr_crash, xcr_skipped, xcr_tested;
/* $XCR_TIMEOUT_SCALE: emulated runs are slower than the timeouts assume. */
static double xcr_timeout_scale = 1;
/* $XCR_EXCLUDE: space-separated suite/name patterns not to run. */
static const char *xcr_exclude;

static int
xcr_excluded(const char *full)
{
	char pat[256];
	const char *s = xcr_exclude;
	size_t n;

	while (s != NULL && *s != '\0') {
		while (*s == ' ')
			s++;
		n = strcspn(s, " ");
		if (n > 0 && n < sizeof(pat)) {
			memcpy(pat, s, n);
			pat[n] = '\0';
			if (xcr_match(pat, full))
				return (1);
		}
		s += n;
	}
	return (0);
}

static pid_t
xcr_start(struct xcr_test *t)
{
	pid_t pid;

	(void)fflush(NULL);
	pid = fork();
	if (pid != 0)
		return (pid);
	if (t->opts.timeout > 0)
		(void)alarm(
		    (unsigned)(t->opts.timeout * xcr_timeout_scale + 0.999));
	if (t->opts.init != NULL)
		t->opts.init();
	t->fn();
	if (t->opts.fini != NULL)
		t->opts.fini();
	(void)fflush(NULL);
	_exit(0);
}

static void
xcr_judge(struct xcr_test *t, int status)
{
	int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;

	if (code == XCR_EXIT_SKIP) {
		xcr_skipped++;
		printf("[SKIP] %s::%s\n", t->suite, t->name);
		return;
	}
	xcr_tested++;
	if (t->opts.signal != 0) {
		if (sig == t->opts.signal)
			xcr_pass++;
		else {
			xcr_fail_n++;
			printf("[FAIL] %s::%s: expected signal %d, got %s %d\n",
			    t->suite, t->name, t->opts.signal,
			    sig ? "signal" : "exit", sig ? sig : code);
		}
		return;
	}
	if (sig == SIGALRM && t->opts.timeout > 0) {
		xcr_fail_n++;
		printf("[FAIL] %s::%s: timed out\n", t->suite, t->name);
	} else if (sig != 0) {
		xcr_crash++;
		printf("[FAIL] %s::%s: CRASH (signal %d)\n", t->suite, t->name,
		    sig);
	} else if (code != t->opts.exit_code) {
		xcr_fail_n++;
		printf("[FAIL] %s::%s (exit %d)\n", t->suite, t->name, code);
	} else
		xcr_pass++;
}

int
main(int argc, char **argv)
{
	struct xcr_run *run;
	struct xcr_test *t;
	const char *filter = NULL;
	unsigned jobs = 1, busy = 0, i;
	int status;

	for (i = 1; i < (unsigned)argc; i++) {
		if (strcmp(argv[i], "--jobs") == 0 && i + 1 < (unsigned)argc)
			jobs = (unsigned)atoi(argv[++i]);
		else if (strncmp(argv[i], "--jobs=", 7) == 0)
			jobs = (unsigned)atoi(argv[i] + 7);
		else if (strcmp(argv[i], "--filter") == 0 &&
		    i + 1 < (unsigned)argc)
			filter = argv[++i];
		else if (strncmp(argv[i], "--filter=", 9) == 0)
			filter = argv[i] + 9;
	}
	if (jobs < 1)
		jobs = 1;
	if (getenv("XCR_TIMEOUT_SCALE") != NULL)
		xcr_timeout_scale = atof(getenv("XCR_TIMEOUT_SCALE"));
	xcr_exclude = getenv("XCR_EXCLUDE");
	run = calloc(jobs, sizeof(*run));
	if (run == NULL)
		return (2);
	for (t = xcr_head;; t = t != NULL ? t->next : NULL) {
		char full[256];
		pid_t pid;

		if (t != NULL) {
			(void)snprintf(full, sizeof(full), "%s/%s", t->suite,
			    t->name);
			if (t->opts.disabled ||
			    (filter != NULL && !xcr_match(filter, full)))
				continue;
			if (xcr_excluded(full)) {
				printf("[EXCL] %s (XCR_EXCLUDE)\n", full);
				continue;
			}
		}
		/* Wait for a free job slot, or for everything at the end. */
		while (busy == jobs || (t == NULL && busy > 0)) {
			pid = wait(&status);
			if (pid < 0)
				return (2);
			for (i = 0; i < jobs; i++) {
				if (run[i].pid == pid) {
					xcr_judge(run[i].t, status);
					run[i].pid = 0;
					busy--;
				}
			}
		}
		if (t == NULL)
			break;
		for (i = 0; run[i].pid != 0; i++)
			;
		run[i].t = t;
		run[i].pid = xcr_start(t);
		busy++;
	}
	printf("[====] Synthesis: Tested: %u | Passing: %u | Failing: %u | "
	       "Crashing: %u | Skipped: %u\n",
	    xcr_tested, xcr_pass, xcr_fail_n, xcr_crash, xcr_skipped);
	free(run);
	return (xcr_fail_n + xcr_crash == 0 ? 0 : 1);
}
