// util.h — error reporting, checked allocation, file helpers, clock.
//
// Library code never exits: a function that can fail on user input returns -1 (or NULL) after
// bnlab_fail() recorded a one-line message; the CLI prints bnlab_errmsg() and exits non-zero.
// Allocation failure is not user input: xmalloc() reports where it failed and aborts.
#ifndef BNLAB_UTIL_H
#define BNLAB_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define BNLAB_ERRMSG_MAX 1024

// Records a printf-style one-line error message (thread-local); always returns -1.
int bnlab_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
// The last message recorded by bnlab_fail() on this thread ("" if none).
const char *bnlab_errmsg(void);

// Checked allocation: on failure prints "bnlab: out of memory: N bytes for WHAT at FILE:LINE" and aborts.
void *bnlab_xmalloc(size_t n, const char *what, const char *file, int line);
void *bnlab_xcalloc(size_t count, size_t size, const char *what, const char *file, int line);
#define xmalloc(n, what) bnlab_xmalloc((n), (what), __FILE__, __LINE__)
#define xcalloc(c, s, what) bnlab_xcalloc((c), (s), (what), __FILE__, __LINE__)

// a*b with overflow check against limit: returns 0 and sets *out, or -1 (no message).
int mul_size(size_t a, size_t b, size_t limit, size_t *out);

// Reads a whole (regular) file, at most max_bytes, into a NUL-terminated buffer. -1 + message on error.
int read_whole_file(const char *path, size_t max_bytes, char **out, size_t *len);

// Writes data to path atomically: temp file in the same directory, fsync, rename. -1 + message.
int write_file_atomic(const char *path, const void *data, size_t len);

// snprintf for paths: the CLI bounds every directory argument (BNLAB_PATH_ARG_MAX), so a path that does not fit
// its buffer is a bug, reported with its location and aborted on rather than silently truncated.
#define BNLAB_PATH_ARG_MAX 1024
#define BNLAB_PATH_MAX 4096
void bnlab_path_fmt(char *out, size_t cap, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
#define path_fmt(out, cap, ...) bnlab_path_fmt((out), (cap), __FILE__, __LINE__, __VA_ARGS__)

// The directory part of path ("." if none), into out (cap bytes).
void path_dirname(char *out, size_t cap, const char *path);
// out = p if absolute, else dir/p. -1 + message if it does not fit cap.
int path_join(char *out, size_t cap, const char *dir, const char *p);

// mkdir -p. -1 + message on error.
int make_dirs(const char *path);
// 1 if path exists (any type), 0 otherwise.
int path_exists(const char *path);

// 1 if s is a usable name for a run, variant or comparison — it becomes a directory name: non-empty, only
// letters, digits, '-', '_' and '.', and not "." or ".." (which would name a directory that already exists).
int name_valid(const char *s);

// The file this process runs, from /proc/self/exe, into out (cap bytes). Returns 1 if that file is still the
// one running, 0 if it was replaced since we started (Linux appends " (deleted)"; out holds the path without
// it), -1 if /proc/self/exe cannot be read (out untouched).
int self_exe_path(char *out, size_t cap);

// A growing text buffer: strbuf_t b = {0}; strbuf_printf(&b, ...); ... free(b.s). Never fails (xmalloc).
typedef struct {
    char *s;  // NUL-terminated, NULL until the first append
    size_t len, cap;
} strbuf_t;
// Appends printf-style text.
void strbuf_printf(strbuf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

// FNV-1a, 64 bits, of len bytes: a fingerprint that tells texts apart (has a config changed?), not a defence
// against anyone who crafts a collision on purpose.
uint64_t fnv1a64(const void *data, size_t len);

// Monotonic seconds.
double now_seconds(void);

// SIMD_CLONES on a hot loop's function: GCC/clang compile AVX-512 and AVX2 copies beside the portable one and pick
// at load time. Under -std=c11 nothing is contracted into FMA and nothing reassociated, so every copy performs the
// same IEEE operations in the same order: the same bits on every x86-64 CPU (results stay bit-identical for a seed).
#if defined(__x86_64__) && defined(__GNUC__)
#define SIMD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define SIMD_CLONES
#endif

// Enables flush-to-zero / denormals-are-zero on this thread (x86 SSE); no-op elsewhere.
// Sigmoid nets push tiny values through every product; denormal arithmetic is ~100x slower.
void enable_flush_to_zero(void);

#endif
