/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * criterion.h - a small Criterion-compatible test runner, for the one
 * place real Criterion cannot run: AArch64 suites under qemu-user, where
 * Criterion's sandbox (BoxFort) needs ptrace, which qemu-user does not
 * emulate ("Could not spawn test instance: Protocol error").
 *
 * It covers what the suites use, with Criterion's meaning: Test(suite,
 * name, .init, .fini, .timeout, .signal, .exit_code, .disabled), the
 * cr_assert family with optional printf-style messages, cr_skip_test.
 * Each test runs in its own forked process (so crashes, expected
 * signals, timeouts and exit codes are judged from outside), up to
 * --jobs at once; --filter suite/name takes a * wildcard.  The last line
 * has Criterion's format: "[====] Synthesis: Tested: N | Passing: N |
 * Failing: N | Crashing: N".  Linked with test/cross/criterion/runner.c.
 */
#ifndef XCR_CRITERION_H
#define XCR_CRITERION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct xcr_opts {
	int xcr_sentinel;
	void (*init)(void);
	void (*fini)(void);
	double timeout;
	int signal;
	int exit_code;
	bool disabled;
	const char *description;
};

struct xcr_test {
	const char *suite;
	const char *name;
	void (*fn)(void);
	struct xcr_opts opts;
	struct xcr_test *next;
};

void xcr_register(struct xcr_test *t);
void xcr_fail(const char *file, int line, const char *expr, ...)
    __attribute__((noreturn));
void xcr_skip(const char *file, int line, ...) __attribute__((noreturn));

#define XCR_TEST(s, n, ...)                                        \
 static void s##_##n##_xcr_fn(void);                               \
 static struct xcr_test s##_##n##_xcr = {#s, #n, s##_##n##_xcr_fn, \
     {__VA_ARGS__}, NULL};                                         \
 static void s##_##n##_xcr_reg(void) __attribute__((constructor)); \
 static void s##_##n##_xcr_reg(void)                               \
 {                                                                 \
  xcr_register(&s##_##n##_xcr);                                    \
 }                                                                 \
 static void s##_##n##_xcr_fn(void)
/* The sentinel keeps __VA_ARGS__ non-empty, as in Criterion. */
#define Test(...) XCR_TEST(__VA_ARGS__, .xcr_sentinel = 0)

/* Each macro appends "" so that the message arguments are never empty;
 * xcr_fail() formats the first of them and ignores the rest. */
#define XCR_ASSERT(expr, ...)                        \
 do {                                                \
  if (!(expr))                                       \
   xcr_fail(__FILE__, __LINE__, #expr, __VA_ARGS__); \
 } while (0)
#define XCR_CMP(op, a, b, ...) XCR_ASSERT((a)op(b), __VA_ARGS__)
#define cr_assert(...) XCR_ASSERT(__VA_ARGS__, "")
#define cr_assert_eq(...) XCR_CMP(==, __VA_ARGS__, "")
#define cr_assert_neq(...) XCR_CMP(!=, __VA_ARGS__, "")
#define cr_assert_lt(...) XCR_CMP(<, __VA_ARGS__, "")
#define cr_assert_leq(...) XCR_CMP(<=, __VA_ARGS__, "")
#define cr_assert_gt(...) XCR_CMP(>, __VA_ARGS__, "")
#define cr_assert_geq(...) XCR_CMP(>=, __VA_ARGS__, "")
#define XCR_NULL(p, ...) XCR_ASSERT((p) == NULL, __VA_ARGS__)
#define XCR_NOT_NULL(p, ...) XCR_ASSERT((p) != NULL, __VA_ARGS__)
#define cr_assert_null(...) XCR_NULL(__VA_ARGS__, "")
#define cr_assert_not_null(...) XCR_NOT_NULL(__VA_ARGS__, "")
#define XCR_STR_EQ(a, b, ...) XCR_ASSERT(strcmp((a), (b)) == 0, __VA_ARGS__)
#define cr_assert_str_eq(...) XCR_STR_EQ(__VA_ARGS__, "")
#define XCR_ARR_EQ(a, b, n, ...) \
 XCR_ASSERT(memcmp((a), (b), (n)) == 0, __VA_ARGS__)
#define cr_assert_arr_eq(...) XCR_ARR_EQ(__VA_ARGS__, "")
#define cr_skip_test(...) xcr_skip(__FILE__, __LINE__, __VA_ARGS__, "")

#endif /* XCR_CRITERION_H */
