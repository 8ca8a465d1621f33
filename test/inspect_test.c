/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * inspect_test.c - inspection that a hostile local user cannot freeze,
 * fool or exhaust (issue 15): the writer's lifecycle (zombies, exec,
 * re-exec, start races), pcpustat's cost on huge or hostile segments
 * (time and memory measured here, generous bounds), files planted at
 * segment names (FIFOs, links, other users' files), and readers that
 * never grow the writer's tmpfs memory.
 *
 * One binary, built once (build/inspect/test-inspect, test/inspect.mk),
 * run by test/inspect.sh: as root with useradd, that script creates two
 * unprivileged users and passes their uids (INSP_ATTACKER_UID,
 * INSP_VICTIM_UID); the suite "attack" then plays the attacker.  Without
 * them those tests skip, saying why.  The binary and pcpustat must be
 * reachable by those users (the script copies both into a 0755 dir).
 *
 * Suite "gauge": pcpustat's sums of gauges are exact beyond 64 bits
 * (text, JSON, prom read back by prometheus_client's parser, rates);
 * counters wrap modulo 2^64.
 *
 * Roles: the binary re-executes itself (/proc/self/exe) as a writer
 * (INSP_ROLE=writer), a racing starter (INSP_ROLE=race) or a writer of
 * DPCPU gauges (INSP_ROLE=gauge).
 */
#define _GNU_SOURCE
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kvm_image.h"
#include "kvm_pcpu.h"
#include "percpu_export.h"

#if PERCPU_MP

/* ---- Roles ---- */

/*
 * The writer: exports INSP_NAME (under umask INSP_UMASK if set) with one
 * counter "c"; answers on stdout "ready <pid>" or "fail <errno> <msg>".
 * Commands: "a N" add, "x" exec sleep (not a writer any more), "e"
 * re-exec itself as the writer of the same name, "q" close and exit.
 */
static int
writer_main(void)
{
	const char *name = getenv("INSP_NAME");
	counter_u64_t c;
	char line[256];

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (getenv("INSP_UMASK") != NULL)
		umask((mode_t)strtoul(getenv("INSP_UMASK"), NULL, 8));
	if (percpu_export_open(name, NULL) != 0) {
		printf("fail %d %s\n", errno, percpu_export_error());
		return (1);
	}
	c = counter_u64_alloc(M_WAITOK);
	if (percpu_export_counter_u64("c", c) != 0) {
		printf("fail %d %s\n", errno, percpu_export_error());
		return (1);
	}
	printf("ready %d\n", (int)getpid());
	while (fgets(line, sizeof(line), stdin) != NULL) {
		switch (line[0]) {
		case 'a':
			counter_u64_add(c, strtoll(line + 1, NULL, 10));
			break;
		case 'x':
			execl("/bin/sleep", "sleep", "60", (char *)NULL);
			return (1);
		case 'e':
			execl("/proc/self/exe", "insp-writer", (char *)NULL);
			return (1);
		case 'q':
			(void)percpu_export_close();
			printf("ok\n");
			return (0);
		default:
			break;
		}
		printf("ok\n");
	}
	(void)percpu_export_close();
	return (0);
}

/* The gauges of the gauge writer: INT64_MAX and INT64_MIN on every
 * possible CPU; g_u UINT64_MAX on the first, 1 on the others; g_r
 * UINT64_MAX on the first, 0 on the others. */
DPCPU_DEFINE_STATIC(int64_t, g_max) = INT64_MAX;
DPCPU_DEFINE_STATIC(int64_t, g_min) = INT64_MIN;
DPCPU_DEFINE_STATIC(uint64_t, g_u);
DPCPU_DEFINE_STATIC(uint64_t, g_r);

/*
 * The gauge writer: exports INSP_NAME with the DPCPU gauges above;
 * answers "ready <pid> <ncpu>" or "fail <errno> <msg>".  Commands: "h"
 * sets g_r of the last possible CPU (0 before) to 2^63: its sum goes
 * from UINT64_MAX to UINT64_MAX + 2^63; "q" close and exit.
 */
static int
gauge_main(void)
{
	unsigned cpu, first = PERCPU_NOCPU, last = PERCPU_NOCPU;
	char line[256];

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (percpu_export_open(getenv("INSP_NAME"), NULL) != 0) {
		printf("fail %d %s\n", errno, percpu_export_error());
		return (1);
	}
	PERCPU_FOREACH_CPU(cpu) {
		if (first == PERCPU_NOCPU)
			first = cpu;
		last = cpu;
	}
	PERCPU_FOREACH_CPU(cpu)
		DPCPU_ID_SET(cpu, g_u, cpu == first ? UINT64_MAX : 1);
	DPCPU_ID_SET(first, g_r, UINT64_MAX);
	if (PERCPU_EXPORT_DPCPU(g_max) != 0 ||
	    PERCPU_EXPORT_DPCPU(g_min) != 0 || PERCPU_EXPORT_DPCPU(g_u) != 0 ||
	    PERCPU_EXPORT_DPCPU(g_r) != 0) {
		printf("fail %d %s\n", errno, percpu_export_error());
		return (1);
	}
	printf("ready %d %u\n", (int)getpid(), percpu_ncpus());
	while (fgets(line, sizeof(line), stdin) != NULL) {
		if (line[0] == 'q')
			break;
		if (line[0] == 'h' && last != first)
			DPCPU_ID_SET(last, g_r, (uint64_t)1 << 63);
		printf("ok\n");
	}
	(void)percpu_export_close();
	printf("ok\n");
	return (0);
}

/* A racing starter: waits for a byte on fd 3, then exports INSP_NAME;
 * "won <pid>" or "lost <errno>"; holds it until stdin closes. */
static int
race_main(void)
{
	char b;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (read(3, &b, 1) != 1)
		return (1);
	if (percpu_export_open(getenv("INSP_NAME"), NULL) != 0)
		printf("lost %d %s\n", errno, percpu_export_error());
	else
		printf("won %d\n", (int)getpid());
	while (read(0, &b, 1) > 0)
		;
	(void)percpu_export_close();
	return (0);
}

__attribute__((constructor)) static void
insp_role(void)
{
	const char *r = getenv("INSP_ROLE");

	if (r != NULL && strcmp(r, "writer") == 0)
		_exit(writer_main());
	if (r != NULL && strcmp(r, "race") == 0)
		_exit(race_main());
	if (r != NULL && strcmp(r, "gauge") == 0)
		_exit(gauge_main());
}

/* ---- Helpers ---- */

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

/* Become @uid (its gid the same number), or exit 99. */
static void
become(uid_t uid)
{
	if (uid != 0 &&
	    (setgroups(0, NULL) != 0 || setgid(uid) != 0 || setuid(uid) != 0))
		_exit(99);
}

/* The uids of the attack suite's users, or skip. */
static void
users(uid_t *attacker, uid_t *victim)
{
	const char *a = getenv("INSP_ATTACKER_UID"),
		   *v = getenv("INSP_VICTIM_UID");

	if (geteuid() != 0 || a == NULL || v == NULL)
		cr_skip_test("needs root and two unprivileged users: run by "
			     "test/inspect.sh as root with useradd");
	*attacker = (uid_t)strtoul(a, NULL, 10);
	*victim = (uid_t)strtoul(v, NULL, 10);
}

struct proc {
	pid_t pid;
	FILE *to, *from;
};

/*
 * Start this binary as role @role for segment @name, as @uid (0: as we
 * are); extra environment "K=V" in @env (NULL-terminated, may be NULL).
 */
static void
proc_start(struct proc *p, const char *role, const char *name, uid_t uid,
    const char *const *env)
{
	int in[2], out[2];

	cr_assert_eq(pipe2(in, O_CLOEXEC), 0);
	cr_assert_eq(pipe2(out, O_CLOEXEC), 0);
	p->pid = fork();
	cr_assert(p->pid >= 0);
	if (p->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		(void)setsid();
		become(uid);
		setenv("INSP_ROLE", role, 1);
		setenv("INSP_NAME", name, 1);
		for (; env != NULL && *env != NULL; env++)
			putenv((char *)(uintptr_t)*env);
		execl("/proc/self/exe", "insp-role", (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	p->to = fdopen(in[1], "w");
	p->from = fdopen(out[0], "r");
	setvbuf(p->to, NULL, _IOLBF, 0);
	setvbuf(p->from, NULL, _IONBF, 0); /* proc_line() polls the fd */
}

/* The next line from @p (asserting it came within 20 s: never blocked). */
static void
proc_line(struct proc *p, char *line, size_t n)
{
	struct pollfd pf = {fileno(p->from), POLLIN, 0};

	cr_assert_eq(poll(&pf, 1, 20000), 1, "the role blocked");
	cr_assert_not_null(fgets(line, (int)n, p->from), "the role died");
}

/* Start a writer of @name; its "ready <pid>" must come. */
static void
writer_start(struct proc *p, const char *name, uid_t uid,
    const char *const *env)
{
	char line[512];
	int pid;

	proc_start(p, "writer", name, uid, env);
	proc_line(p, line, sizeof(line));
	cr_assert_eq(sscanf(line, "ready %d", &pid), 1, "writer: %s", line);
	cr_assert_eq(pid, p->pid);
}

static void
proc_cmd(struct proc *p, const char *cmd)
{
	char line[512];

	fprintf(p->to, "%s\n", cmd);
	proc_line(p, line, sizeof(line));
	cr_assert_str_eq(line, "ok\n");
}

static void
proc_end(struct proc *p)
{
	int st;

	fclose(p->to);
	fclose(p->from);
	cr_assert_eq(waitpid(p->pid, &st, 0), p->pid);
}

static void
writer_quit(struct proc *p)
{
	proc_cmd(p, "q");
	proc_end(p);
}

/* A segment name unique to this test process. */
static void
seg_name(char *name, size_t n, char *path, size_t pn, uid_t uid,
    const char *tag)
{
	snprintf(name, n, "insp-%d-%s", (int)getpid(), tag);
	snprintf(path, pn, "/dev/shm/pcpu.%u.%s", (unsigned)uid, name);
}

static const char *
pcpustat_path(void)
{
	static char path[256];
	const char *b = getenv("BUILD");

	if (getenv("PCPUSTAT") != NULL)
		return (getenv("PCPUSTAT"));
	snprintf(path, sizeof(path), "%s/tools/pcpustat",
	    b != NULL ? b : "build");
	cr_assert_eq(access(path, X_OK), 0, "%s not built: make tools", path);
	return (path);
}

struct run {
	int status;	 /* exit status, or 128 + signal */
	double secs;	 /* wall time (from the hook, if one ran) */
	long maxrss_kb;	 /* getrusage of the child */
	size_t out_len;	 /* bytes of stdout seen (kept: the first out[]) */
	char out[65536]; /* stdout (the start of it) */
	char err[8192];	 /* stderr */
};

/* Called once pcpustat's first output came (its pid, the argument). */
typedef void hook_fn(pid_t, void *);

/* A hook: send the signal *arg. */
static void
hook_signal(pid_t p, void *arg)
{
	kill(p, *(int *)arg);
}

/*
 * Run pcpustat with the NULL-terminated arguments as @uid (0: as we are),
 * killed after @limit seconds (then status 128 + SIGKILL); with @hook,
 * call it once the first output came, and time from then.
 */
static void
tool(struct run *r, uid_t uid, double limit, hook_fn *hook, void *harg, ...)
{
	const char *argv[24];
	int o[2], e[2], st, n = 1, eo = 0, ee = 0;
	size_t el = 0;
	struct rusage ru;
	double t0 = now_s(), dead;
	va_list ap;
	pid_t p;

	argv[0] = pcpustat_path();
	va_start(ap, harg);
	while (n < 23 && (argv[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	argv[n] = NULL;
	memset(r, 0, sizeof(*r));
	cr_assert_eq(pipe2(o, O_CLOEXEC), 0);
	cr_assert_eq(pipe2(e, O_CLOEXEC), 0);
	p = fork();
	cr_assert(p >= 0);
	if (p == 0) {
		dup2(o[1], 1);
		dup2(e[1], 2);
		close(o[0]);
		close(e[0]);
		become(uid);
		execv(argv[0], (char *const *)(uintptr_t)argv);
		_exit(98);
	}
	close(o[1]);
	close(e[1]);
	dead = t0 + limit;
	while (!eo || !ee) {
		struct pollfd pf[2] = {{o[0], POLLIN, 0}, {e[0], POLLIN, 0}};
		double left = dead - now_s();
		char b[4096];
		ssize_t k;

		if (left <= 0) {
			kill(p, SIGKILL);
			break;
		}
		pf[0].fd = eo ? -1 : o[0];
		pf[1].fd = ee ? -1 : e[0];
		if (poll(pf, 2, (int)(left * 1000) + 1) < 0)
			continue;
		if (pf[0].revents != 0) {
			k = read(o[0], b, sizeof(b));
			if (k <= 0)
				eo = 1;
			else {
				if (hook != NULL && r->out_len == 0) {
					hook(p, harg);
					t0 = now_s();
				}
				if (r->out_len + 1 < sizeof(r->out)) {
					size_t c =
					    sizeof(r->out) - 1 - r->out_len;

					memcpy(r->out + r->out_len, b,
					    (size_t)k < c ? (size_t)k : c);
				}
				r->out_len += (size_t)k;
			}
		}
		if (pf[1].revents != 0) {
			k = read(e[0], b, sizeof(b));
			if (k <= 0)
				ee = 1;
			else if (el + 1 < sizeof(r->err)) {
				size_t c = sizeof(r->err) - 1 - el;

				memcpy(r->err + el, b,
				    (size_t)k < c ? (size_t)k : c);
				el += (size_t)k < c ? (size_t)k : c;
			}
		}
	}
	cr_assert_eq(wait4(p, &st, 0, &ru), p);
	r->secs = now_s() - t0;
	r->maxrss_kb = ru.ru_maxrss;
	r->out[r->out_len < sizeof(r->out) ? r->out_len : sizeof(r->out) - 1] =
	    '\0';
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	close(o[0]);
	close(e[0]);
}

/*
 * Run @fn(@arg) in a child as @uid; it must end within @limit seconds.
 * Return: its exit status (128 + signal; 200 if it had to be killed).
 */
static int
as_user(uid_t uid, double limit, int (*fn)(void *), void *arg)
{
	double dead = now_s() + limit;
	pid_t p = fork(), w;
	int st;

	cr_assert(p >= 0);
	if (p == 0) {
		become(uid);
		_exit(fn(arg));
	}
	while ((w = waitpid(p, &st, WNOHANG)) == 0 && now_s() < dead) {
		struct timespec ts = {0, 5000000};

		nanosleep(&ts, NULL);
	}
	if (w == 0) {
		kill(p, SIGKILL);
		waitpid(p, &st, 0);
		return (200);
	}
	return (WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
}

/* ---- Lifecycle (item 5): liveness is the writer's lock ---- */

/* Wait (bounded) until process @pid is a zombie. */
static int
is_zombie(pid_t pid)
{
	char path[64], buf[512], *p;
	double dead = now_s() + 20;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	while (now_s() < dead) {
		size_t n = 0;

		if ((f = fopen(path, "r")) != NULL) {
			n = fread(buf, 1, sizeof(buf) - 1, f);
			fclose(f);
		}
		buf[n] = '\0';
		if ((p = strrchr(buf, ')')) != NULL && p[1] == ' ' &&
		    p[2] == 'Z')
			return (1);
		{
			struct timespec ts = {0, 5000000};

			nanosleep(&ts, NULL);
		}
	}
	return (0);
}

Test(lifecycle, a_killed_writer_not_yet_reaped_is_gone)
{
	char name[64], path[128], err[KVM_PCPU_ERRSZ], msg[512];
	struct proc w, w2;
	kvm_t *old;

	seg_name(name, sizeof(name), path, sizeof(path), geteuid(), "zombie");
	writer_start(&w, name, 0, NULL);
	old = kvm_pcpu_open(name, 0, err);
	cr_assert_not_null(old, "%s", err);
	cr_assert_eq(kvm_pcpu_status(old), KVM_PCPU_RUNNING);
	kill(w.pid, SIGKILL);
	cr_assert(is_zombie(w.pid), "the writer never became a zombie");
	cr_assert_eq(kill(w.pid, 0), 0, "a zombie still has its pid");
	cr_assert_eq(kvm_pcpu_status(old), KVM_PCPU_GONE);
	cr_assert_null(kvm_pcpu_open(name, 0, err));
	cr_assert_eq(errno, ESTALE);
	snprintf(msg, sizeof(msg),
	    "%s: writer gone: pid %d no longer holds it (it exited, was "
	    "killed or exec'ed)",
	    path, (int)w.pid);
	cr_assert_str_eq(err, msg);
	/* A new writer takes the name while the zombie is unreaped. */
	writer_start(&w2, name, 0, NULL);
	cr_assert_eq(kvm_pcpu_status(old), KVM_PCPU_RESTARTED);
	kvm_close(old);
	proc_end(&w);
	writer_quit(&w2);
}

Test(lifecycle, a_writer_that_execs_is_gone)
{
	char name[64], path[128], err[KVM_PCPU_ERRSZ];
	struct proc w, w2;
	kvm_t *old;
	int st;

	seg_name(name, sizeof(name), path, sizeof(path), geteuid(), "exec");
	writer_start(&w, name, 0, NULL);
	old = kvm_pcpu_open(name, 0, err);
	cr_assert_not_null(old, "%s", err);
	fprintf(w.to, "x\n");
	/* Wait for the exec: the lock goes with the close-on-exec file. */
	{
		double dead = now_s() + 20;

		while (kvm_pcpu_status(old) == KVM_PCPU_RUNNING &&
		    now_s() < dead) {
			struct timespec ts = {0, 5000000};

			nanosleep(&ts, NULL);
		}
	}
	cr_assert_eq(kvm_pcpu_status(old), KVM_PCPU_GONE);
	cr_assert_eq(kill(w.pid, 0), 0, "the pid runs another program");
	cr_assert_null(kvm_pcpu_open(name, 0, err));
	cr_assert_eq(errno, ESTALE, "%s", err);
	writer_start(&w2, name, 0, NULL);
	kvm_close(old);
	kill(w.pid, SIGKILL);
	fclose(w.to);
	fclose(w.from);
	cr_assert_eq(waitpid(w.pid, &st, 0), w.pid);
	writer_quit(&w2);
}

Test(lifecycle, a_writer_that_re_execs_itself_exports_again)
{
	char name[64], path[128], err[KVM_PCPU_ERRSZ], line[512];
	struct kvm_pcpu_info a, b;
	struct proc w;
	kvm_t *kd;
	int pid;

	seg_name(name, sizeof(name), path, sizeof(path), geteuid(), "reexec");
	writer_start(&w, name, 0, NULL);
	kd = kvm_pcpu_open(name, 0, err);
	cr_assert_not_null(kd, "%s", err);
	cr_assert_eq(kvm_pcpu_info(kd, &a), 0);
	kvm_close(kd);
	fprintf(w.to, "e\n");
	proc_line(&w, line, sizeof(line));
	cr_assert_eq(sscanf(line, "ready %d", &pid), 1, "re-exec: %s", line);
	cr_assert_eq(pid, w.pid);
	kd = kvm_pcpu_open(name, 0, err);
	cr_assert_not_null(kd, "%s", err);
	cr_assert_eq(kvm_pcpu_status(kd), KVM_PCPU_RUNNING);
	cr_assert_eq(kvm_pcpu_info(kd, &b), 0);
	cr_assert_eq(b.pid, (uint64_t)w.pid);
	cr_assert_neq(memcmp(a.instance, b.instance, 16), 0, "a new segment");
	kvm_close(kd);
	writer_quit(&w);
}

/* Two writers start under one name at once: exactly one exports, and the
 * name leads to the winner's segment, live. */
Test(lifecycle, of_two_writers_starting_together_exactly_one_exports)
{
	char name[64], path[128], err[KVM_PCPU_ERRSZ];
	int trial;

	seg_name(name, sizeof(name), path, sizeof(path), geteuid(), "race");
	for (trial = 0; trial < 24; trial++) {
		struct proc p[2];
		int go[2][2], won = 0, lost = 0, i, winner = 0;
		struct kvm_pcpu_info info;
		kvm_t *kd;

		if (trial % 2 == 1) {
			/* Odd trials race over a stale segment. */
			struct proc dead;
			int st;

			writer_start(&dead, name, 0, NULL);
			kill(dead.pid, SIGKILL);
			fclose(dead.to);
			fclose(dead.from);
			cr_assert_eq(waitpid(dead.pid, &st, 0), dead.pid);
			cr_assert_eq(access(path, F_OK), 0);
		}
		/* The go pipe is fd 3 of each racer. */
		for (i = 0; i < 2; i++)
			cr_assert_eq(pipe2(go[i], O_CLOEXEC), 0);
		for (i = 0; i < 2; i++) {
			int in[2], out[2];

			cr_assert_eq(pipe2(in, O_CLOEXEC), 0);
			cr_assert_eq(pipe2(out, O_CLOEXEC), 0);
			p[i].pid = fork();
			if (p[i].pid == 0) {
				dup2(in[0], 0);
				dup2(out[1], 1);
				if (go[i][0] == 3)
					(void)fcntl(3, F_SETFD, 0);
				else
					dup2(go[i][0], 3);
				setenv("INSP_ROLE", "race", 1);
				setenv("INSP_NAME", name, 1);
				execl("/proc/self/exe", "insp-race",
				    (char *)NULL);
				_exit(127);
			}
			close(in[0]);
			close(out[1]);
			close(go[i][0]);
			p[i].to = fdopen(in[1], "w");
			p[i].from = fdopen(out[0], "r");
			setvbuf(p[i].from, NULL, _IONBF, 0);
		}
		for (i = 0; i < 2; i++)
			cr_assert_eq(write(go[i][1], "g", 1), 1);
		for (i = 0; i < 2; i++) {
			char line[512];

			proc_line(&p[i], line, sizeof(line));
			if (strncmp(line, "won ", 4) == 0) {
				won++;
				winner = p[i].pid;
			} else {
				cr_assert_eq(strncmp(line, "lost 17 ", 8), 0,
				    "trial %d: %s", trial, line);
				lost++;
			}
			close(go[i][1]);
		}
		cr_assert_eq(won, 1, "trial %d: %d exported", trial, won);
		cr_assert_eq(lost, 1);
		kd = kvm_pcpu_open(name, 0, err);
		cr_assert_not_null(kd, "trial %d: %s", trial, err);
		cr_assert_eq(kvm_pcpu_info(kd, &info), 0);
		cr_assert_eq(info.pid, (uint64_t)winner,
		    "trial %d: the name leads to the winner's segment", trial);
		cr_assert_eq(kvm_pcpu_status(kd), KVM_PCPU_RUNNING);
		kvm_close(kd);
		for (i = 0; i < 2; i++)
			proc_end(&p[i]);
	}
	cr_assert_eq(access(path, F_OK), -1, "closed: the name is gone");
}

/* ---- Scale (item 6): huge or hostile snapshot files ----
 *
 * Files are written sparse (only the tables): a declared arena of GiBs
 * costs nothing on disk.  Bounds are generous (10-50x what the code
 * needs) and far below what a quadratic or materialising reader takes.
 */

struct big {
	int fd;
	char path[128];
	struct percpu_seg_hdr h;
	uint32_t nrec, used;
};

/* A snapshot of @ncpu dense CPUs, @stride, room for @nrec records. */
static void
big_create(struct big *b, const char *tag, unsigned ncpu, uint64_t stride,
    unsigned nrec, unsigned strcap)
{
	struct percpu_seg_hdr *h = &b->h;
	uint64_t off = PERCPU_SEG_HDR_SIZE, mb = PERCPU_SEG_MASK_BYTES(ncpu);
	unsigned char *tab;
	uint64_t *mask;
	unsigned c;

	memset(b, 0, sizeof(*b));
	snprintf(b->path, sizeof(b->path), "/tmp/insp-%d-%s.pcpu",
	    (int)getpid(), tag);
	memcpy(h->magic, PERCPU_SEG_MAGIC, 8);
	h->major = PERCPU_SEG_MAJOR;
	h->minor = PERCPU_SEG_MINOR;
	h->hdr_size = PERCPU_SEG_HDR_SIZE;
	h->endian = PERCPU_SEG_ENDIAN;
	h->ptr_size = 8;
	h->atomic64 = 1;
	h->flags = PERCPU_SEG_F_SNAPSHOT;
	h->maxcpu = ncpu;
	h->ncpu = ncpu;
	h->stride = stride;
	h->mask_off = off;
	off = (off + mb + 63) / 64 * 64;
	h->pcpu_off = off;
	h->pcpu_size = PERCPU_SEG_PCPU_SIZE;
	off += (uint64_t)ncpu * PERCPU_SEG_PCPU_SIZE;
	h->reg_off = off;
	h->reg_cap = nrec;
	h->reg_size = PERCPU_SEG_REC_SIZE;
	off += (uint64_t)nrec * PERCPU_SEG_REC_SIZE;
	h->str_off = off;
	h->str_cap = strcap;
	off = (off + strcap + 4095) / 4096 * 4096;
	h->arena_off = off;
	h->nchunks = 1;
	h->arena_size = (uint64_t)ncpu * stride;
	h->total_size = off + h->arena_size;
	h->pid = 4242;
	atomic_store(&h->state, PERCPU_SEG_SNAPSHOT);
	b->fd = open(b->path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	cr_assert(b->fd >= 0);
	cr_assert_eq(ftruncate(b->fd, (off_t)h->total_size), 0);
	mask = calloc(mb / 8, 8);
	tab = calloc(ncpu, PERCPU_SEG_PCPU_SIZE);
	cr_assert(mask != NULL && tab != NULL);
	for (c = 0; c < ncpu; c++) {
		struct pcpu p;

		memset(&p, 0, sizeof(p));
		mask[c / 64] |= (uint64_t)1 << (c % 64);
		p.pc_cpuid = c;
		p.pc_flags = PERCPU_SEG_PCPU_PRESENT;
		p.pc_unit = c;
		p.pc_unit_off = h->arena_off + (uint64_t)c * stride;
		memcpy(tab + (size_t)c * PERCPU_SEG_PCPU_SIZE, &p, sizeof(p));
	}
	cr_assert_eq(pwrite(b->fd, mask, mb, (off_t)h->mask_off), (ssize_t)mb);
	cr_assert_eq(pwrite(b->fd, tab, (size_t)ncpu * PERCPU_SEG_PCPU_SIZE,
			 (off_t)h->pcpu_off),
	    (ssize_t)ncpu * PERCPU_SEG_PCPU_SIZE);
	free(mask);
	free(tab);
}

/* Append record @name (kind, fmt, unit-0 offset in the arena, size,
 * count). */
static void
big_rec(struct big *b, const char *name, unsigned kind, unsigned fmt,
    uint64_t rel, uint64_t size, unsigned count)
{
	struct percpu_seg_rec r;
	size_t len = strlen(name);

	memset(&r, 0, sizeof(r));
	atomic_store(&r.state, PERCPU_SEG_ALLOC);
	r.kind = (uint16_t)kind;
	r.fmt = (uint16_t)fmt;
	r.base = b->h.arena_off + rel;
	r.size = size;
	r.count = count;
	r.name_off = b->used;
	r.name_len = (uint16_t)len;
	r.reg_id = b->nrec + 1;
	cr_assert(pwrite(b->fd, name, len + 1,
		      (off_t)(b->h.str_off + b->used)) == (ssize_t)len + 1);
	cr_assert(pwrite(b->fd, &r, sizeof(r),
		      (off_t)(b->h.reg_off +
			  (uint64_t)b->nrec * PERCPU_SEG_REC_SIZE)) ==
	    (ssize_t)sizeof(r));
	b->used += (uint32_t)len + 1;
	b->nrec++;
}

static void
big_finish(struct big *b)
{
	atomic_store(&b->h.reg_count, b->nrec);
	atomic_store(&b->h.str_used, b->used);
	cr_assert_eq(pwrite(b->fd, &b->h, sizeof(b->h), 0),
	    (ssize_t)sizeof(b->h));
	cr_assert_eq(close(b->fd), 0);
}

Test(scale, records_64k_are_listed_in_linear_time)
{
	struct big b;
	struct run *r = malloc(sizeof(*r));
	char name[32], want[128];
	unsigned i;

	big_create(&b, "recs", 2, 1 << 20, 65536, 65536 * 8);
	for (i = 0; i < 65536; i++) {
		snprintf(name, sizeof(name), "c.%u", i);
		big_rec(&b, name, PERCPU_SEG_KIND_COUNTER_U64, 0,
		    (uint64_t)i * 16, 16, 1);
	}
	big_finish(&b);
	/* Quadratic: 49 s for 64K records.  Linear: well under a second. */
	tool(r, 0, 60, NULL, NULL, "-r", b.path, "-N", "1", NULL);
	cr_assert_eq(r->status, 0, "%s", r->err);
	cr_assert_lt(r->secs, 10.0, "64K records took %.1f s", r->secs);
	snprintf(want, sizeof(want), "%-32s %-14s %20s\n", "c.0", "counter",
	    "0");
	cr_assert_not_null(strstr(r->out, want), "%s", r->out);
	cr_assert_gt(r->out_len, (size_t)65536 * 60, "every record shown");
	unlink(b.path);
	free(r);
}

/* 65536 CPUs, 8 counters sets, per CPU: each CPU's set is read alone
 * (a walk over every CPU per CPU is 2^32 steps a set). */
Test(scale, cpus_64k_per_cpu_sets_in_linear_time)
{
	struct big b;
	struct run *r = malloc(sizeof(*r));
	char name[32];
	unsigned i;

	big_create(&b, "cpus", 65536, 256, 8, 4096);
	for (i = 0; i < 8; i++) {
		snprintf(name, sizeof(name), "set%u", i);
		big_rec(&b, name, PERCPU_SEG_KIND_COUNTERS, 0, 16, 16, 1);
	}
	big_finish(&b);
	tool(r, 0, 120, NULL, NULL, "-r", b.path, "-c", NULL);
	cr_assert_eq(r->status, 0, "%s", r->err);
	cr_assert_lt(r->secs, 15.0, "took %.1f s", r->secs);
	cr_assert_gt(r->out_len, (size_t)8 * 65536 * 40, "every CPU shown");
	cr_assert_lt(r->maxrss_kb, 100 * 1024, "%ld KiB", r->maxrss_kb);
	unlink(b.path);
	free(r);
}

/* A 4 KiB-ish sparse file declaring one 64 MiB object (64Mi u8 elements):
 * memory is what is shown, not what is declared. */
Test(scale, a_declared_64mib_object_costs_what_is_shown)
{
	struct big b;
	struct run *r = malloc(sizeof(*r));
	static const char *const modes[][3] = {{"-c", "-j", NULL},
	    {"-c", NULL, NULL}, {"-j", NULL, NULL}};
	unsigned m;

	big_create(&b, "huge", 1, (uint64_t)64 << 20, 1, 4096);
	big_rec(&b, "huge", PERCPU_SEG_KIND_PCPU, PERCPU_SEG_FMT_U8, 0,
	    (uint64_t)64 << 20, 64u << 20);
	big_finish(&b);
	for (m = 0; m < 3; m++) {
		tool(r, 0, 60, NULL, NULL, "-r", b.path, modes[m][0],
		    modes[m][1], NULL);
		cr_assert_eq(r->status, 0, "%s", r->err);
		/* Materialised: 1.7 GB.  Shown: 1024 elements. */
		cr_assert_lt(r->maxrss_kb, 48 * 1024, "mode %u: %ld KiB", m,
		    r->maxrss_kb);
		cr_assert_lt(r->secs, 10.0, "mode %u: %.1f s", m, r->secs);
	}
	cr_assert_not_null(strstr(r->out, "\"truncated\":true"), "%s", r->out);
	unlink(b.path);
	free(r);
}

/* 4096 CPUs x 1 MiB of raw bytes: 32 bytes a CPU are shown (text). */
Test(scale, cpus_4096_of_1mib_raw_bytes)
{
	struct big b;
	struct run *r = malloc(sizeof(*r));

	big_create(&b, "raw", 4096, 1 << 20, 1, 4096);
	big_rec(&b, "blob", PERCPU_SEG_KIND_PCPU, PERCPU_SEG_FMT_BYTES, 0,
	    1 << 20, 1 << 20);
	big_finish(&b);
	tool(r, 0, 120, NULL, NULL, "-r", b.path, "-c", NULL);
	cr_assert_eq(r->status, 0, "%s", r->err);
	cr_assert_lt(r->secs, 10.0, "took %.1f s (224 s materialised)",
	    r->secs);
	cr_assert_lt(r->maxrss_kb, 48 * 1024, "%ld KiB", r->maxrss_kb);
	cr_assert_not_null(strstr(r->out,
			       "\n    cpu 100   "
			       "0000000000000000000000000000000000"
			       "000000000000000000000000000000...\n"),
	    "%.300s", r->out);
	cr_assert_gt(r->out_len, (size_t)4096 * 80, "every CPU shown");
	unlink(b.path);
	free(r);
}

/* SIGTERM and SIGINT end pcpustat in the middle of a long sample. */
Test(scale, a_signal_ends_pcpustat_mid_sample)
{
	static int sigs[2] = {SIGTERM, SIGINT};
	struct big b;
	struct run *r = malloc(sizeof(*r));
	char name[32];
	unsigned i, k;

	big_create(&b, "sig", 65536, 256, 64, 4096);
	for (i = 0; i < 64; i++) {
		snprintf(name, sizeof(name), "set%u", i);
		big_rec(&b, name, PERCPU_SEG_KIND_COUNTERS, 0, 16, 16, 1);
	}
	big_finish(&b);
	for (k = 0; k < 2; k++) {
		/* A sample every 0.01 s, each far longer than that. */
		tool(r, 0, 300, hook_signal, &sigs[k], "-r", b.path, "-c", "-j",
		    "-i", "0.01", NULL);
		cr_assert_eq(r->status, 0, "signal %d: %s", sigs[k], r->err);
		/* 100 ms unloaded; generous under load. */
		cr_assert_lt(r->secs, 3.0, "signal %d: ended %.2f s later",
		    sigs[k], r->secs);
	}
	unlink(b.path);
	free(r);
}

/* ---- Files at segment names, the reader's side (items 1-4, 7-9) ---- */

struct plant {
	const char *path, *target;
	mode_t mode;
	int what; /* 'f' FIFO, 'l' symlink, 'h' hard link, 'e' empty file,
		     'i' an INIT header, 'c' a copy of a valid image */
};

/* Create @arg's file as whoever runs it (an attacker, via as_user). */
static int
plant_main(void *arg)
{
	const struct plant *p = arg;
	int fd, rc = 0;

	(void)unlink(p->path);
	switch (p->what) {
	case 'f':
		return (mkfifo(p->path, p->mode) == 0 ? 0 : 1);
	case 'l':
		return (symlink(p->target, p->path) == 0 ? 0 : 1);
	case 'h':
		return (link(p->target, p->path) == 0 ? 0 : 1);
	default:
		break;
	}
	if ((fd = open(p->path, O_WRONLY | O_CREAT | O_EXCL, p->mode)) < 0)
		return (1);
	if (p->what == 'i')
		rc = ftruncate(fd, 4096);
	else if (p->what == 'c') {
		int in = open(p->target, O_RDONLY);
		char b[65536];
		ssize_t n;

		while (in >= 0 && (n = read(in, b, sizeof(b))) > 0)
			if (write(fd, b, (size_t)n) != n)
				rc = -1;
		if (in < 0)
			rc = -1;
		else
			close(in);
	}
	(void)fchmod(fd, p->mode);
	close(fd);
	return (rc == 0 ? 0 : 1);
}

static void
plant(uid_t uid, int what, const char *path, const char *target, mode_t mode)
{
	struct plant p = {path, target, mode, what};

	cr_assert_eq(as_user(uid, 20, plant_main, &p), 0, "planting %s", path);
}

struct open_args {
	const char *what;
	int flags, want_errno;
	char err[KVM_PCPU_ERRSZ];
};

/* kvm_pcpu_open must fail with want_errno (0 if it must open). */
static int
open_main(void *arg)
{
	struct open_args *a = arg;
	kvm_t *kd = kvm_pcpu_open(a->what, a->flags, a->err);

	if (a->want_errno == 0)
		return (kd != NULL ? 0 : 1);
	if (kd != NULL)
		return (2);
	return (errno == a->want_errno ? 0 : 3);
}

/* As root, any uid: a file planted at a name is refused at once. */
Test(planted, a_symlink_a_fifo_or_an_init_file_at_a_name)
{
	char name[64], path[128], other[64], opath[128], msg[512];
	struct run *r = malloc(sizeof(*r));
	struct proc w, v;
	char line[512];

	seg_name(name, sizeof(name), path, sizeof(path), geteuid(), "sym");
	seg_name(other, sizeof(other), opath, sizeof(opath), geteuid(), "real");
	writer_start(&w, other, 0, NULL);
	cr_assert_eq(symlink(opath, path), 0);
	tool(r, 0, 20, NULL, NULL, "-n", name, NULL);
	cr_assert_eq(r->status, 4, "documented: not trusted; %s", r->err);
	snprintf(msg, sizeof(msg),
	    "pcpustat: %s: not trusted: a symbolic link, not a segment "
	    "(planted: remove it)\n",
	    path);
	cr_assert_str_eq(r->err, msg);
	/* A writer of that name is told what happened and what to do. */
	proc_start(&v, "writer", name, 0, NULL);
	proc_line(&v, line, sizeof(line));
	snprintf(msg, sizeof(msg),
	    "fail %d percpu_export_open: %s: squatted: a symbolic link is at "
	    "the name, not a segment of this user; it cannot be replaced: "
	    "remove it or choose another name\n",
	    EPERM, path);
	cr_assert_str_eq(line, msg);
	proc_end(&v);
	cr_assert_eq(unlink(path), 0);
	/* A FIFO: nobody blocks, neither reader nor writer. */
	cr_assert_eq(mkfifo(path, 0600), 0);
	tool(r, 0, 20, NULL, NULL, "-n", name, NULL);
	cr_assert_eq(r->status, 4, "%s", r->err);
	snprintf(msg, sizeof(msg),
	    "pcpustat: %s: not trusted: a FIFO, not a segment (planted by uid "
	    "%u: remove it)\n",
	    path, (unsigned)geteuid());
	cr_assert_str_eq(r->err, msg);
	tool(r, 0, 20, NULL, NULL, "-r", path, NULL);
	cr_assert_eq(r->status, 4, "%s", r->err);
	proc_start(&v, "writer", name, 0, NULL);
	proc_line(&v, line, sizeof(line));
	cr_assert_eq(strncmp(line, "fail 1 ", 7), 0, "%s", line);
	cr_assert_not_null(strstr(line, ": squatted: a FIFO of uid "), "%s",
	    line);
	proc_end(&v);
	cr_assert_eq(unlink(path), 0);
	/* An unfinished (INIT) file: refused at once, no wait. */
	plant(0, 'i', path, NULL, 0600);
	tool(r, 0, 20, NULL, NULL, "-n", name, NULL);
	cr_assert_eq(r->status, 8, "%s", r->err);
	cr_assert_lt(r->secs, 0.9, "waited %.2f s", r->secs);
	cr_assert_eq(unlink(path), 0);
	writer_quit(&w);
	free(r);
}

/* A file of this user at the name that no writer holds (an empty one, a
 * header-less one, an old segment unreadable under umask 0777) is stale:
 * a new writer replaces it instead of reporting "in use by pid 0". */
Test(planted, a_writer_replaces_its_own_stale_files)
{
	static const struct {
		int what;
		mode_t mode;
	} files[] = {{'e', 0600}, {'i', 0600}, {'i', 0}};
	char name[64], path[128];
	unsigned k;

	seg_name(name, sizeof(name), path, sizeof(path), geteuid(), "own");
	for (k = 0; k < 3; k++) {
		struct proc w;
		struct stat st;

		plant(0, files[k].what, path, NULL, files[k].mode);
		writer_start(&w, name, 0, NULL);
		cr_assert_eq(stat(path, &st), 0);
		cr_assert_eq(st.st_mode & 07777, 0600);
		writer_quit(&w);
		cr_assert_eq(access(path, F_OK), -1, "closed: unlinked");
	}
}

/* A truncated segment: an error message and exit 7, never SIGBUS. */
static void
hook_truncate(pid_t p, void *arg)
{
	(void)p;
	cr_assert_eq(truncate((const char *)arg, 4096), 0);
}

Test(planted, a_segment_that_shrinks_under_the_reader)
{
	char name[64], path[128];
	struct run *r = malloc(sizeof(*r));
	struct proc w;
	int st;

	seg_name(name, sizeof(name), path, sizeof(path), geteuid(), "shrink");
	writer_start(&w, name, 0, NULL);
	proc_cmd(&w, "a 5");
	tool(r, 0, 60, hook_truncate, path, "-n", name, "-i", "0.05", NULL);
	cr_assert_eq(r->status, 7, "status %d (135: SIGBUS); %s", r->status,
	    r->err);
	cr_assert_not_null(strstr(r->out, "truncated while being read"), "%s",
	    r->out);
	kill(w.pid, SIGKILL);
	fclose(w.to);
	fclose(w.from);
	cr_assert_eq(waitpid(w.pid, &st, 0), w.pid);
	(void)unlink(path);
	free(r);
}

/* Under umask 0777 the owner still reads its own segment (0600). */
Test(planted, umask_0777_keeps_the_segment_readable)
{
	static const char *const env[] = {"INSP_UMASK=0777", NULL};
	char name[64], path[128];
	struct run *r = malloc(sizeof(*r));
	struct proc w;
	struct stat st;

	seg_name(name, sizeof(name), path, sizeof(path), geteuid(), "umask");
	writer_start(&w, name, 0, env);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0600);
	tool(r, 0, 20, NULL, NULL, "-n", name, "-f", "c", NULL);
	cr_assert_eq(r->status, 0, "%s", r->err);
	writer_quit(&w);
	free(r);
}

/* Reading every byte of a live segment allocates nothing in its tmpfs
 * file (holes read as zeros through pread, never through a mapping). */
Test(planted, readers_never_grow_the_writers_tmpfs_memory)
{
	char name[64], path[128], err[KVM_PCPU_ERRSZ], snap[128];
	struct run *r = malloc(sizeof(*r));
	struct stat a, b;
	unsigned char *buf = malloc(1 << 20);
	struct proc w;
	uint64_t off;
	kvm_t *kd;

	seg_name(name, sizeof(name), path, sizeof(path), geteuid(), "holes");
	snprintf(snap, sizeof(snap), "/tmp/insp-%d-holes.pcpu", (int)getpid());
	writer_start(&w, name, 0, NULL);
	cr_assert_eq(stat(path, &a), 0);
	cr_assert_lt((uint64_t)a.st_blocks * 512, (uint64_t)a.st_size / 2,
	    "the segment is sparse");
	kd = kvm_pcpu_open(name, 0, err);
	cr_assert_not_null(kd, "%s", err);
	for (off = 0; off < (uint64_t)a.st_size; off += 1 << 20) {
		size_t n = (uint64_t)a.st_size - off < (1 << 20) ?
		    (size_t)((uint64_t)a.st_size - off) :
		    (size_t)1 << 20;

		cr_assert_eq(kvm_read(kd, (unsigned long)off, buf, n),
		    (ssize_t)n, "%s", kvm_geterr(kd));
	}
	cr_assert_eq(kvm_pcpu_snapshot(kd, snap), 0, "%s", kvm_geterr(kd));
	kvm_close(kd);
	kd = kvm_pcpu_open(path, KVM_PCPU_COPY, err);
	cr_assert_not_null(kd, "%s", err);
	kvm_close(kd);
	tool(r, 0, 30, NULL, NULL, "-n", name, "-c", "-j", NULL);
	cr_assert_eq(r->status, 0, "%s", r->err);
	cr_assert_eq(stat(path, &b), 0);
	cr_assert_eq(b.st_blocks, a.st_blocks,
	    "the readers allocated %lld KiB of the writer's tmpfs",
	    (long long)(b.st_blocks - a.st_blocks) / 2);
	writer_quit(&w);
	unlink(snap);
	free(buf);
	free(r);
}

/* ---- The attacker (needs root and two users: test/inspect.sh) ---- */

Test(attack, a_fifo_at_a_victims_name_blocks_nothing)
{
	char name[64], path[128], msg[512], fifo[128], line[512];
	struct run *r = malloc(sizeof(*r));
	struct open_args oa;
	uid_t a, v;
	struct proc w;

	users(&a, &v);
	seg_name(name, sizeof(name), path, sizeof(path), v, "svc");
	plant(a, 'f', path, NULL, 0666);
	/* The victim's writer: refused at once, told why. */
	proc_start(&w, "writer", name, v, NULL);
	proc_line(&w, line, sizeof(line));
	snprintf(msg, sizeof(msg),
	    "fail %d percpu_export_open: %s: squatted: a FIFO of uid %u, not "
	    "a segment of this user (uid %u), is at the name; it cannot be "
	    "replaced: remove it (as uid %u or root) or choose another name\n",
	    EPERM, path, (unsigned)a, (unsigned)v, (unsigned)a);
	cr_assert_str_eq(line, msg);
	proc_end(&w);
	/* The victim's readers: by name, by path, a copy, the list. */
	tool(r, v, 20, NULL, NULL, "-n", name, NULL);
	cr_assert_eq(r->status, 4, "%s", r->err);
	snprintf(msg, sizeof(msg),
	    "pcpustat: %s: not trusted: a FIFO, not a segment (planted by uid "
	    "%u: remove it)\n",
	    path, (unsigned)a);
	cr_assert_str_eq(r->err, msg);
	tool(r, v, 20, NULL, NULL, "-r", path, NULL);
	cr_assert_eq(r->status, 4, "%s", r->err);
	oa = (struct open_args) {path, KVM_PCPU_COPY, EPERM, ""};
	cr_assert_eq(as_user(v, 20, open_main, &oa), 0, "KVM_PCPU_COPY");
	tool(r, v, 20, NULL, NULL, "-l", NULL);
	cr_assert_eq(r->status, 0, "%s", r->err);
	tool(r, 0, 20, NULL, NULL, "-l", NULL);
	cr_assert_eq(r->status, 0, "%s", r->err);
	/* A FIFO given as a snapshot file. */
	snprintf(fifo, sizeof(fifo), "/tmp/insp-%d-fifo", (int)getpid());
	plant(a, 'f', fifo, NULL, 0666);
	tool(r, v, 20, NULL, NULL, "-r", fifo, NULL);
	cr_assert_eq(r->status, 1, "%s", r->err);
	snprintf(msg, sizeof(msg), "pcpustat: %s: not a regular file\n", fifo);
	cr_assert_str_eq(r->err, msg);
	unlink(fifo);
	unlink(path);
	free(r);
}

/* A hook: the victim's writer quits, then the attacker plants a FIFO at
 * its name, while pcpustat -i samples it. */
struct swap {
	struct proc *w;
	const char *path;
	uid_t a;
};

static void
hook_swap(pid_t p, void *arg)
{
	struct swap *s = arg;
	struct plant pl = {s->path, NULL, 0666, 'f'};

	(void)p;
	writer_quit(s->w);
	cr_assert_eq(as_user(s->a, 20, plant_main, &pl), 0);
}

Test(attack, a_fifo_replacing_a_finished_writer_ends_interval_mode)
{
	char name[64], path[128];
	struct run *r = malloc(sizeof(*r));
	struct proc w;
	struct swap sw;
	uid_t a, v;

	users(&a, &v);
	seg_name(name, sizeof(name), path, sizeof(path), v, "svc3");
	writer_start(&w, name, v, NULL);
	sw = (struct swap) {&w, path, a};
	tool(r, v, 30, hook_swap, &sw, "-n", name, "-i", "0.05", NULL);
	cr_assert_eq(r->status, 5, "%s", r->err);
	cr_assert_lt(r->secs, 10.0);
	unlink(path);
	free(r);
}

/* Another user's file under root's name: root trusts it not, root's own
 * writer is told the name is squatted; a truncate is no SIGBUS. */
Test(attack, root_trusts_only_files_of_the_uid_the_name_claims)
{
	char mine[64], mpath[128], srv[64], spath[128], msg[512], line[512];
	struct run *r = malloc(sizeof(*r));
	struct open_args oa;
	struct proc w, rw;
	uid_t a, v;

	users(&a, &v);
	seg_name(mine, sizeof(mine), mpath, sizeof(mpath), a, "mine");
	seg_name(srv, sizeof(srv), spath, sizeof(spath), 0, "myserver");
	writer_start(&w, mine, a, NULL);
	plant(a, 'h', spath, mpath, 0600);
	tool(r, 0, 20, NULL, NULL, "-n", srv, NULL);
	cr_assert_eq(r->status, 4, "%s", r->err);
	snprintf(msg, sizeof(msg),
	    "pcpustat: %s: not trusted: owned by uid %u, but its name claims "
	    "uid 0 (planted by uid %u: remove it)\n",
	    spath, (unsigned)a, (unsigned)a);
	cr_assert_str_eq(r->err, msg);
	oa = (struct open_args) {spath, KVM_PCPU_COPY, EPERM, ""};
	cr_assert_eq(as_user(0, 20, open_main, &oa), 0, "KVM_PCPU_COPY");
	proc_start(&rw, "writer", srv, 0, NULL);
	proc_line(&rw, line, sizeof(line));
	snprintf(msg, sizeof(msg),
	    "fail %d percpu_export_open: %s: squatted: a regular file of uid "
	    "%u, not a segment of this user (uid 0), is at the name; it "
	    "cannot be replaced: remove it (as uid %u or root) or choose "
	    "another name\n",
	    EPERM, spath, (unsigned)a, (unsigned)a);
	cr_assert_str_eq(line, msg);
	proc_end(&rw);
	cr_assert_eq(unlink(spath), 0);
	/* Under its own name, the attacker's segment is the attacker's:
	 * root reads it; the attacker truncating it is an error (7). */
	tool(r, 0, 20, NULL, NULL, "-n", mpath, "-f", "c", NULL);
	cr_assert_eq(r->status, 0, "%s", r->err);
	tool(r, 0, 60, hook_truncate, mpath, "-n", mpath, "-i", "0.05", NULL);
	cr_assert_eq(r->status, 7, "status %d (135: SIGBUS); %s", r->status,
	    r->err);
	kill(w.pid, SIGKILL);
	proc_end(&w);
	(void)unlink(mpath);
	free(r);
}

/* KVM_PCPU_COPY: another user's 0644 forgery is refused, by the victim and
 * by root. */
Test(attack, copy_applies_the_same_trust_rules)
{
	char name[64], path[128], rname[64], rpath[128], img[128];
	struct open_args oa;
	struct img im;
	uid_t a, v;
	FILE *f;
	static const unsigned cpus[] = {0, 1};

	users(&a, &v);
	snprintf(img, sizeof(img), "/tmp/insp-%d-img", (int)getpid());
	cr_assert_eq(img_build(&im, cpus, 2, 0), 0);
	f = fopen(img, "w");
	cr_assert_eq(fwrite(im.b, 1, im.size, f), im.size);
	fclose(f);
	chmod(img, 0644);
	img_free(&im);
	seg_name(name, sizeof(name), path, sizeof(path), v, "forged");
	seg_name(rname, sizeof(rname), rpath, sizeof(rpath), 0, "forged");
	plant(a, 'c', path, img, 0644);
	plant(a, 'c', rpath, img, 0644);
	oa = (struct open_args) {path, KVM_PCPU_COPY, EPERM, ""};
	cr_assert_eq(as_user(v, 20, open_main, &oa), 0, "victim");
	oa = (struct open_args) {path, KVM_PCPU_COPY, EPERM, ""};
	cr_assert_eq(as_user(0, 20, open_main, &oa), 0, "root, victim's name");
	oa = (struct open_args) {rpath, KVM_PCPU_COPY, EPERM, ""};
	cr_assert_eq(as_user(0, 20, open_main, &oa), 0, "root's name");
	/* Control: the attacker's copy under the attacker's name opens. */
	{
		char aname[64], apath[128];

		seg_name(aname, sizeof(aname), apath, sizeof(apath), a,
		    "forged");
		plant(a, 'c', apath, img, 0600);
		oa = (struct open_args) {apath, KVM_PCPU_COPY, 0, ""};
		cr_assert_eq(as_user(0, 20, open_main, &oa), 0, "control");
		unlink(apath);
	}
	unlink(path);
	unlink(rpath);
	unlink(img);
}

/* Names with escape sequences reach no terminal raw; planted empty and
 * unfinished files cost -l no waiting. */
Test(attack, list_escapes_names_and_never_waits)
{
	char mine[64], mpath[128], evil[256], want[256], p[64][128];
	struct run *r = malloc(sizeof(*r));
	struct proc w;
	uid_t a, v;
	unsigned k, n = 0;

	users(&a, &v);
	seg_name(mine, sizeof(mine), mpath, sizeof(mpath), a, "esc");
	writer_start(&w, mine, a, NULL);
	snprintf(evil, sizeof(evil),
	    "/dev/shm/pcpu.%u.insp-%d-\x1b]0;pwned\x07\x1b[2J", (unsigned)a,
	    (int)getpid());
	plant(a, 'h', evil, mpath, 0600);
	for (k = 0; k < 8; k++) {
		snprintf(p[n], sizeof(p[n]), "/dev/shm/pcpu.%u.insp-%d-e%u",
		    (unsigned)a, (int)getpid(), k);
		plant(a, k % 2 ? 'e' : 'i', p[n++], NULL, 0600);
		snprintf(p[n], sizeof(p[n]), "/dev/shm/pcpu.%u.insp-%d-s%u",
		    (unsigned)v, (int)getpid(), k);
		plant(a, k % 2 ? 'e' : 'i', p[n++], NULL, 0644);
	}
	tool(r, 0, 60, NULL, NULL, "-l", NULL);
	cr_assert_eq(r->status, 0, "%s", r->err);
	/* 16 files at about a second each, before. */
	cr_assert_lt(r->secs, 5.0, "root's -l took %.1f s", r->secs);
	cr_assert_null(strchr(r->out, '\x1b'), "an escape reached the output");
	cr_assert_null(strchr(r->out, '\x07'));
	snprintf(want, sizeof(want),
	    "/dev/shm/pcpu.%u.insp-%d-\\x1b]0;pwned\\x07\\x1b[2J\n",
	    (unsigned)a, (int)getpid());
	cr_assert_not_null(strstr(r->out, want), "%s", r->out);
	tool(r, v, 60, NULL, NULL, "-l", NULL);
	cr_assert_eq(r->status, 0, "%s", r->err);
	cr_assert_lt(r->secs, 5.0, "the victim's -l took %.1f s", r->secs);
	cr_assert_null(strchr(r->out, '\x1b'));
	for (k = 0; k < n; k++)
		unlink(p[k]);
	unlink(evil);
	writer_quit(&w);
	free(r);
}

/* A symbolic link planted at the victim's name: the documented code. */
Test(attack, a_planted_symlink_exits_not_trusted)
{
	char name[64], path[128], mine[64], mpath[128], msg[512], line[512];
	struct run *r = malloc(sizeof(*r));
	struct proc w, vw;
	uid_t a, v;

	users(&a, &v);
	seg_name(mine, sizeof(mine), mpath, sizeof(mpath), a, "lnk");
	seg_name(name, sizeof(name), path, sizeof(path), v, "lnk");
	writer_start(&w, mine, a, NULL);
	plant(a, 'l', path, mpath, 0);
	tool(r, v, 20, NULL, NULL, "-n", name, NULL);
	cr_assert_eq(r->status, 4, "%s", r->err);
	snprintf(msg, sizeof(msg),
	    "pcpustat: %s: not trusted: a symbolic link, not a segment "
	    "(planted: remove it)\n",
	    path);
	cr_assert_str_eq(r->err, msg);
	proc_start(&vw, "writer", name, v, NULL);
	proc_line(&vw, line, sizeof(line));
	cr_assert_not_null(strstr(line,
			       ": squatted: a symbolic link is at "
			       "the name"),
	    "%s", line);
	proc_end(&vw);
	unlink(path);
	writer_quit(&w);
	free(r);
}

/* ---- Gauge sums: exact beyond 64 bits; counters modulo 2^64 ---- */

/*
 * The decimal @a (digits only) times @m plus @add, into @b (@n bytes):
 * the expected sums, computed apart from pcpustat's 128-bit arithmetic.
 */
static const char *
dec_muladd(char *b, size_t n, const char *a, unsigned m, unsigned add)
{
	char r[96];
	size_t i = strlen(a), k = sizeof(r) - 1;
	unsigned long long carry = add;

	r[k] = '\0';
	while (i-- > 0) {
		unsigned long long d =
		    (unsigned long long)(a[i] - '0') * m + carry;

		r[--k] = (char)('0' + d % 10);
		carry = d / 10;
	}
	for (; carry != 0; carry /= 10)
		r[--k] = (char)('0' + carry % 10);
	snprintf(b, n, "%s", r + k);
	return (b);
}

/*
 * The samples of the prom text @text as the real parser reads them
 * (prometheus_client.parser, python3-prometheus-client), into @out: one
 * line "NAME INDEX VALUE" per sample without a cpu label (INDEX "-"
 * without an index label, VALUE the float's repr).  Asserts it parsed.
 */
static void
prom_parsed(const char *text, char *out, size_t n)
{
	static const char script[] =
	    "import sys\n"
	    "from prometheus_client.parser import "
	    "text_string_to_metric_families as p\n"
	    "for f in p(sys.stdin.read()):\n"
	    "    for s in f.samples:\n"
	    "        if \"cpu\" not in s.labels:\n"
	    "            print(s.name, s.labels.get(\"index\", \"-\"), "
	    "repr(s.value))\n";
	char path[] = "/tmp/insp-gauge-XXXXXX", cmd[1024];
	int fd = mkstemp(path), st;
	size_t len = strlen(text), k;
	FILE *f;

	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, text, len), (ssize_t)len);
	cr_assert_eq(close(fd), 0);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 -c '%s' < %s 2>&1", script,
	    path);
	f = popen(cmd, "r");
	cr_assert_not_null(f);
	k = fread(out, 1, n - 1, f);
	out[k] = '\0';
	st = pclose(f);
	unlink(path);
	cr_assert_eq(st, 0,
	    "prometheus_client's parser (python3-prometheus-client) "
	    "refused it:\n%s\n--- input:\n%s",
	    out, text);
}

/* The parsed sample @name (@index, "-": none) is the float64 the exact
 * decimal @dec rounds to. */
static void
prom_value(const char *parsed, const char *name, const char *index,
    const char *dec)
{
	char want[160];
	const char *p = parsed;
	size_t wl;

	snprintf(want, sizeof(want), "%s %s ", name, index);
	wl = strlen(want);
	while (p != NULL && strncmp(p, want, wl) != 0)
		if ((p = strchr(p, '\n')) != NULL)
			p++;
	cr_assert_not_null(p, "no sample %s index %s in:\n%s", name, index,
	    parsed);
	cr_assert(strtod(p + wl, NULL) == strtod(dec, NULL),
	    "%s index %s: parsed %.40s, want %s (as float64)", name, index,
	    p + wl, dec);
}

/* Three CPUs in a snapshot (the file's CPUs, not this machine's):
 * i64 and u64 gauges whose sums pass 64 bits are exact in text, JSON and
 * prom (read back by the real parser); a counter(9) counter that passed
 * 2^64 - 1 wraps, as counter_u64_fetch() does. */
Test(gauge, snapshot_sums_beyond_64_bits_are_exact_counters_wrap)
{
	static const struct {
		const char *name, *kind, *val;
	} text[] = {{"g.max", "pcpu i64", "27670116110564327421"},
	    {"g.min[0]", "pcpu i64", "-27670116110564327424"},
	    {"g.min[1]", "pcpu i64", "-3"},
	    {"g.min[2]", "pcpu i64", "9223372036854775806"},
	    {"g.u[0]", "pcpu u64", "55340232221128654845"},
	    {"g.u[1]", "pcpu u64", "18446744073709551616"},
	    {"c.wrap", "counter", "1"}};
	static const char *const json[] = {
	    "{\"name\":\"g.max\",\"kind\":\"pcpu\",\"format\":\"i64\","
	    "\"size\":8,\"count\":1,\"value\":27670116110564327421}",
	    "{\"name\":\"g.min\",\"kind\":\"pcpu\",\"format\":\"i64\","
	    "\"size\":24,\"count\":3,\"value\":[-27670116110564327424,-3,"
	    "9223372036854775806]}",
	    "{\"name\":\"g.u\",\"kind\":\"pcpu\",\"format\":\"u64\","
	    "\"size\":16,\"count\":2,\"value\":[55340232221128654845,"
	    "18446744073709551616]}",
	    "{\"name\":\"c.wrap\",\"kind\":\"counter\",\"format\":\"u64\","
	    "\"size\":16,\"count\":1,\"value\":1}"};
	static const char *const prom[][3] = {
	    {"pcpu_g_max", "", "27670116110564327421"},
	    {"pcpu_g_min", ",index=\"0\"", "-27670116110564327424"},
	    {"pcpu_g_min", ",index=\"1\"", "-3"},
	    {"pcpu_g_min", ",index=\"2\"", "9223372036854775806"},
	    {"pcpu_g_u", ",index=\"0\"", "55340232221128654845"},
	    {"pcpu_g_u", ",index=\"1\"", "18446744073709551616"},
	    {"pcpu_c_wrap_total", "", "1"},
	    {"pcpu_g_max_per_cpu", ",cpu=\"2\"", "9223372036854775807"},
	    {"pcpu_g_u_per_cpu", ",cpu=\"1\",index=\"1\"", "1"}};
	static const char *const parsed_want[][3] = {
	    {"pcpu_g_max", "-", "27670116110564327421"},
	    {"pcpu_g_min", "0", "-27670116110564327424"},
	    {"pcpu_g_min", "1", "-3"},
	    {"pcpu_g_min", "2", "9223372036854775806"},
	    {"pcpu_g_u", "0", "55340232221128654845"},
	    {"pcpu_g_u", "1", "18446744073709551616"},
	    {"pcpu_c_wrap_total", "-", "1"}};
	struct big b;
	struct run *r = malloc(sizeof(*r));
	char want[512], parsed[8192];
	unsigned c, i;

	cr_assert_not_null(r);
	big_create(&b, "gauge", 3, 4096, 4, 4096);
	for (c = 0; c < 3; c++) {
		int64_t mx = INT64_MAX,
			mn[3] = {INT64_MIN, -1, c < 2 ? INT64_MAX : INT64_MIN};
		uint64_t u[2] = {UINT64_MAX, c == 0 ? UINT64_MAX : c == 1},
			 cnt[2] = {c == 0 ? UINT64_MAX :
				 c == 1	  ? 2 :
					    0,
			     0};
		off_t at = (off_t)(b.h.arena_off + (uint64_t)c * 4096);

		cr_assert_eq(pwrite(b.fd, &mx, 8, at), 8);
		cr_assert_eq(pwrite(b.fd, mn, 24, at + 64), 24);
		cr_assert_eq(pwrite(b.fd, u, 16, at + 128), 16);
		cr_assert_eq(pwrite(b.fd, cnt, 16, at + 256), 16);
	}
	big_rec(&b, "g.max", PERCPU_SEG_KIND_PCPU, PERCPU_SEG_FMT_I64, 0, 8, 1);
	big_rec(&b, "g.min", PERCPU_SEG_KIND_PCPU, PERCPU_SEG_FMT_I64, 64, 24,
	    3);
	big_rec(&b, "g.u", PERCPU_SEG_KIND_PCPU, PERCPU_SEG_FMT_U64, 128, 16,
	    2);
	big_rec(&b, "c.wrap", PERCPU_SEG_KIND_COUNTER_U64, 0, 256, 16, 1);
	big_finish(&b);

	tool(r, 0, 30, NULL, NULL, "-r", b.path, "-c", NULL);
	cr_assert_eq(r->status, 0, "%s", r->err);
	for (i = 0; i < sizeof(text) / sizeof(text[0]); i++) {
		snprintf(want, sizeof(want), "\n%-32s %-14s %20s\n",
		    text[i].name, text[i].kind, text[i].val);
		cr_assert_not_null(strstr(r->out, want), "no %swith -c:\n%s",
		    want + 1, r->out);
	}
	/* Per CPU: each CPU's own value, not a sum. */
	snprintf(want, sizeof(want), "\n%-32s %-14s %20s\n    cpu %-5d %54s\n",
	    "g.max", "pcpu i64", "27670116110564327421", 0,
	    "9223372036854775807");
	cr_assert_not_null(strstr(r->out, want), "%s", r->out);

	tool(r, 0, 30, NULL, NULL, "-r", b.path, "-j", NULL);
	cr_assert_eq(r->status, 0, "%s", r->err);
	for (i = 0; i < sizeof(json) / sizeof(json[0]); i++)
		cr_assert_not_null(strstr(r->out, json[i]), "no %s in:\n%s",
		    json[i], r->out);

	tool(r, 0, 30, NULL, NULL, "-r", b.path, "-o", "prom", NULL);
	cr_assert_eq(r->status, 0, "%s", r->err);
	for (i = 0; i < sizeof(prom) / sizeof(prom[0]); i++) {
		snprintf(want, sizeof(want), "\n%s{segment=\"%s\"%s} %s\n",
		    prom[i][0], b.path, prom[i][1], prom[i][2]);
		cr_assert_not_null(strstr(r->out, want), "no %sin:\n%s",
		    want + 1, r->out);
	}
	cr_assert_not_null(strstr(r->out, "\n# TYPE pcpu_g_max gauge\n"));
	cr_assert_not_null(
	    strstr(r->out, "\n# TYPE pcpu_c_wrap_total counter\n"));
	prom_parsed(r->out, parsed, sizeof(parsed));
	for (i = 0; i < sizeof(parsed_want) / sizeof(parsed_want[0]); i++)
		prom_value(parsed, parsed_want[i][0], parsed_want[i][1],
		    parsed_want[i][2]);
	unlink(b.path);
	free(r);
}

/* A float gauge that is NaN or an infinity: JSON has no spelling for
 * them (null, the sum and each CPU's value), prom has NaN, +Inf, -Inf
 * (read back by the real parser). */
Test(gauge, non_finite_float_gauges_are_null_in_json_and_named_in_prom)
{
	static const char *const prom[][2] = {{"0", "NaN"}, {"1", "+Inf"},
	    {"2", "-Inf"}};
	static const char *const parsed_want[] = {"pcpu_f_x 0 nan\n",
	    "pcpu_f_x 1 inf\n", "pcpu_f_x 2 -inf\n"};
	struct big b;
	struct run *r = malloc(sizeof(*r));
	char want[512], parsed[8192];
	unsigned c, i;

	cr_assert_not_null(r);
	big_create(&b, "gauge", 3, 4096, 4, 4096);
	for (c = 0; c < 3; c++) {
		double f[3] = {NAN, INFINITY, -INFINITY};
		off_t at = (off_t)(b.h.arena_off + (uint64_t)c * 4096);

		cr_assert_eq(pwrite(b.fd, f, 24, at), 24);
	}
	big_rec(&b, "f.x", PERCPU_SEG_KIND_PCPU, PERCPU_SEG_FMT_F64, 0, 24, 3);
	big_finish(&b);

	tool(r, 0, 30, NULL, NULL, "-r", b.path, "-j", "-c", NULL);
	cr_assert_eq(r->status, 0, "%s", r->err);
	cr_assert_not_null(strstr(r->out, "\"value\":[null,null,null]"), "%s",
	    r->out);
	cr_assert_not_null(strstr(r->out,
			       "\"per_cpu\":{\"0\":[null,null,null],\"1\":["
			       "null,null,null],\"2\":[null,null,null]}"),
	    "%s", r->out);
	cr_assert_null(strstr(r->out, "nan"), "%s", r->out);
	cr_assert_null(strstr(r->out, "inf"), "%s", r->out);

	tool(r, 0, 30, NULL, NULL, "-r", b.path, "-o", "prom", NULL);
	cr_assert_eq(r->status, 0, "%s", r->err);
	for (i = 0; i < 3; i++) {
		snprintf(want, sizeof(want),
		    "\npcpu_f_x{segment=\"%s\",index=\"%s\"} %s\n", b.path,
		    prom[i][0], prom[i][1]);
		cr_assert_not_null(strstr(r->out, want), "no %sin:\n%s",
		    want + 1, r->out);
	}
	prom_parsed(r->out, parsed, sizeof(parsed));
	for (i = 0; i < 3; i++)
		cr_assert_not_null(strstr(parsed, parsed_want[i]),
		    "no %sin:\n%s", parsed_want[i], parsed);
	unlink(b.path);
	free(r);
}

/* Start the gauge writer of @name; its ncpu.  Ends it and skips when
 * there is one possible CPU (a sum of one 64-bit value never passes 64
 * bits). */
static unsigned
gauge_start(struct proc *p, const char *name)
{
	char line[512];
	unsigned n;
	int pid;

	proc_start(p, "gauge", name, 0, NULL);
	proc_line(p, line, sizeof(line));
	cr_assert_eq(sscanf(line, "ready %d %u", &pid, &n), 2,
	    "gauge writer: %s", line);
	if (n < 2) {
		writer_quit(p);
		cr_skip_test("one possible CPU: no sum of a live writer passes "
			     "64 bits (the snapshot test covers three CPUs)");
	}
	return (n);
}

/* A live program's DPCPU gauges: n CPUs of INT64_MAX, of INT64_MIN, and
 * UINT64_MAX plus n - 1 ones, exact in text, JSON and prom. */
Test(gauge, dpcpu_sums_of_a_live_writer_are_exact)
{
	struct proc p;
	struct run *r = malloc(sizeof(*r));
	char name[64], path[128], want[512], parsed[8192];
	char vmax[64], vmin[64], vu[64];
	const char *const vals[3] = {vmax, vmin, vu};
	static const char *const vars[3] = {"g_max", "g_min", "g_u"};
	static const char *const fmts[3] = {"i64", "i64", "u64"};
	unsigned n, i;

	cr_assert_not_null(r);
	seg_name(name, sizeof(name), path, sizeof(path), geteuid(), "gauge");
	n = gauge_start(&p, name);
	dec_muladd(vmax, sizeof(vmax), "9223372036854775807", n, 0);
	vmin[0] = '-';
	dec_muladd(vmin + 1, sizeof(vmin) - 1, "9223372036854775808", n, 0);
	dec_muladd(vu, sizeof(vu), "18446744073709551615", 1, n - 1);

	tool(r, 0, 30, NULL, NULL, "-n", name, "-f", "pcpu_entry_g_[mu]*",
	    NULL);
	cr_assert_eq(r->status, 0, "%s", r->err);
	for (i = 0; i < 3; i++) {
		char nm[64], kind[32];

		snprintf(nm, sizeof(nm), "pcpu_entry_%s", vars[i]);
		snprintf(kind, sizeof(kind), "dpcpu %s", fmts[i]);
		snprintf(want, sizeof(want), "\n%-32s %-14s %20s\n", nm, kind,
		    vals[i]);
		cr_assert_not_null(strstr(r->out, want), "no %sin:\n%s",
		    want + 1, r->out);
	}

	tool(r, 0, 30, NULL, NULL, "-n", name, "-j", NULL);
	cr_assert_eq(r->status, 0, "%s", r->err);
	for (i = 0; i < 3; i++) {
		snprintf(want, sizeof(want),
		    "{\"name\":\"pcpu_entry_%s\",\"kind\":\"dpcpu\","
		    "\"format\":\"%s\",\"size\":8,\"count\":1,\"value\":%s}",
		    vars[i], fmts[i], vals[i]);
		cr_assert_not_null(strstr(r->out, want), "no %s in:\n%s", want,
		    r->out);
	}

	tool(r, 0, 30, NULL, NULL, "-n", name, "-o", "prom", NULL);
	cr_assert_eq(r->status, 0, "%s", r->err);
	prom_parsed(r->out, parsed, sizeof(parsed));
	for (i = 0; i < 3; i++) {
		char metric[64];

		snprintf(metric, sizeof(metric), "pcpu_pcpu_entry_%s", vars[i]);
		snprintf(want, sizeof(want), "\n%s{segment=\"%s\"} %s\n",
		    metric, name, vals[i]);
		cr_assert_not_null(strstr(r->out, want), "no %sin:\n%s",
		    want + 1, r->out);
		prom_value(parsed, metric, "-", vals[i]);
	}
	writer_quit(&p);
	free(r);
}

/* A hook, at pcpustat's first output: the gauge writer *arg sets g_r on
 * its last CPU to 2^63, pcpustat (@pid) stopped meanwhile, so that its
 * next sample cannot fall between (the test below tells the one case left:
 * a hook that came after the second sample). */
static void
hook_gauge(pid_t pid, void *arg)
{
	(void)kill(pid, SIGSTOP);
	proc_cmd(arg, "h");
	(void)kill(pid, SIGCONT);
}

/* Rates use the exact sums: g_r going from UINT64_MAX to UINT64_MAX +
 * 2^63 between two samples rises by 2^63 (modulo 2^64 it fell by 2^63).
 * A run whose hook came only after the second sample (this process not
 * scheduled for the 2 s between them) shows no change: it proves nothing
 * and is run again (up to 3 times; then skipped, saying so). */
Test(gauge, a_rate_is_the_difference_of_exact_sums)
{
	struct proc p;
	struct run *r = malloc(sizeof(*r));
	char name[64], path[128];
	const char *l2 = NULL, *q;
	double rate, dt;
	int tries;

	cr_assert_not_null(r);
	for (tries = 0; tries < 3; tries++) {
		seg_name(name, sizeof(name), path, sizeof(path), geteuid(),
		    "grate");
		(void)gauge_start(&p, name);
		tool(r, 0, 30, hook_gauge, &p, "-n", name, "-j", "-f",
		    "pcpu_entry_g_r", "-i", "2", "-N", "2", NULL);
		writer_quit(&p);
		cr_assert_eq(r->status, 0, "%s", r->err);
		cr_assert_not_null(
		    strstr(r->out, "\"value\":18446744073709551615}"), "%s",
		    r->out);
		l2 = strchr(r->out, '\n');
		cr_assert(l2 != NULL && l2[1] != '\0', "two samples: %s",
		    r->out);
		if (strstr(l2, "\"value\":18446744073709551615,") == NULL)
			break;
	}
	if (tries == 3) {
		free(r);
		cr_skip_test("the writer's change never fell between two "
			     "samples 2 s apart (a machine this loaded tells "
			     "nothing of rates)");
	}
	cr_assert_not_null(q = strstr(l2, "\"interval_s\":"), "%s", l2);
	dt = strtod(q + 13, NULL);
	cr_assert_not_null(q = strstr(l2, "\"rate\":"), "%s", l2);
	rate = strtod(q + 7, NULL);
	cr_assert(dt > 0 && rate > 0 &&
		rate * dt / 9223372036854775808.0 > 1 - 1e-4 &&
		rate * dt / 9223372036854775808.0 < 1 + 1e-4,
	    "rate %g over %g s, want 2^63 / %g s:\n%s", rate, dt, dt, r->out);
	cr_assert_not_null(strstr(l2, "\"value\":27670116110564327423,"), "%s",
	    r->out);
	free(r);
}

#endif /* PERCPU_MP */
