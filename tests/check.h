// check.h — minimal test harness. Each test program ends with check_summary(), which prints
// "N passed, N failed" and returns the exit status (non-zero if any check failed).
#ifndef BNLAB_CHECK_H
#define BNLAB_CHECK_H

#include <math.h>
#include <stdio.h>
#include <string.h>

static int check_passed, check_failed;

#define CHECK(cond, ...)                                                   \
    do {                                                                   \
        if (cond) check_passed++;                                          \
        else {                                                             \
            check_failed++;                                                \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                  \
            fputc('\n', stderr);                                           \
        }                                                                  \
    } while (0)

// |got - want| <= tol
#define CHECK_NEAR(got, want, tol, what)                                                          \
    CHECK(fabs((double)(got) - (double)(want)) <= (tol), "%s: got %.9g, want %.9g (tol %.3g)", what, \
          (double)(got), (double)(want), (double)(tol))

// The message contains the substring.
#define CHECK_MSG(msg, sub) CHECK(strstr((msg), (sub)) != NULL, "message \"%s\" lacks \"%s\"", (msg), (sub))

static inline int check_summary(const char *name) {
    printf("%s: %d passed, %d failed\n", name, check_passed, check_failed);
    printf("%d passed, %d failed\n", check_passed, check_failed);
    return check_failed ? 1 : 0;
}

#endif
