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

// Writes all len bytes to fd, retrying short writes and EINTR. 0, or the errno of the failure (no message).
int write_all(int fd, const void *data, size_t len);

// Writes data to path atomically: a temporary file PATH.tmpPID in the same directory, fsync, rename. On any failure
// the temporary file is removed and path is left as it was. -1 + message ("PATH: write failed: OS ERROR").
int write_file_atomic(const char *path, const void *data, size_t len);
// Removes the temporary files write_file_atomic() leaves in dir when its process is killed mid-write (NAME.tmpPID,
// PID no longer running). A missing dir is fine. -1 + message if one cannot be removed.
int remove_stale_temps(const char *dir);

// snprintf for paths: the CLI bounds every directory argument (BNLAB_PATH_ARG_MAX), so a path that does not fit
// its buffer is a bug, reported with its location and aborted on rather than silently truncated.
#define BNLAB_PATH_ARG_MAX 1024
// 2^b bytes as a size_t limit, or SIZE_MAX where size_t is narrower (32-bit WebAssembly): a cap for whole-file reads.
#define SIZE_POW2_CAP(b) \
    ((size_t)(((uint64_t)1 << (b)) < (uint64_t)SIZE_MAX ? ((uint64_t)1 << (b)) : (uint64_t)SIZE_MAX))
#define BNLAB_PATH_MAX 4096
void bnlab_path_fmt(char *out, size_t cap, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
#define path_fmt(out, cap, ...) bnlab_path_fmt((out), (cap), __FILE__, __LINE__, __VA_ARGS__)

// The last component of path, trailing slashes ignored ("runs/fig1/" -> "fig1"; "/" stays "/"), into out.
void path_basename(char *out, size_t cap, const char *path);
// The directory part of path ("." if none), into out (cap bytes).
void path_dirname(char *out, size_t cap, const char *path);
// out = p if absolute, else dir/p. -1 + message if it does not fit cap.
int path_join(char *out, size_t cap, const char *dir, const char *p);

// mkdir -p. -1 + message on error.
int make_dirs(const char *path);
// 1 if path exists (any type), 0 otherwise.
int path_exists(const char *path);

// A log file written row by row, every write checked: rows are formatted into the writer's own buffer and written
// whole with one write() by wfile_flush(). The first failure is kept (its errno, with the file's name) and every later
// write is skipped, so a file never gets a row spliced in after a gap; the writer's owner asks wfile_check() and ends
// the run with its message. No allocation after wfile_open().
#define WFILE_BUF 8192
typedef struct {
    int fd;
    int open;       // fd is valid
    int was_empty;  // the file had no bytes when opened (new, truncated or empty): it needs its header
    int err;        // errno of the first failed write; 0 while none has failed
    size_t len;     // bytes waiting in buf
    char buf[WFILE_BUF];
    char path[BNLAB_PATH_MAX];
} wfile_t;
// Opens path for writing from empty (append = 0) or for appending. -1 + message.
int wfile_open(wfile_t *w, const char *path, int append);
// Adds printf-style text to the pending rows; written by wfile_flush(), or earlier if the buffer fills.
void wfile_printf(wfile_t *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
// Adds n bytes (n at most WFILE_BUF) to the pending rows, likewise.
void wfile_write(wfile_t *w, const char *s, size_t n);
// Writes the bytes snprintf(out, FMT_G9_MAX, "%.9g", x) writes (the C locale) and returns their length, faster:
// 9 significant digits rounded exactly (half to even, as glibc does) in 128-bit integers for 1e-14 <= |x| < 1e9 and
// for ±0, snprintf itself elsewhere. Logs write their numbers with %.9g (a float round-trips); rows of many numbers per
// step use this (tests/test_writer.c: equal to snprintf on 3 million values, ties and powers of ten included).
#define FMT_G9_MAX 32
int fmt_g9(char out[FMT_G9_MAX], double x);
// Writes v in decimal (as %ld) and returns the length; out: at least 21 bytes.
int fmt_long(char *out, long v);
// Writes the pending rows (call after each whole row or group of rows).
void wfile_flush(wfile_t *w);
// -1 + message naming the file and the OS error if a write of w failed; 0 otherwise.
int wfile_check(const wfile_t *w);
// Flushes and closes w (nothing if it is not open). -1 + message if a write or the close failed.
int wfile_close(wfile_t *w);

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

// The memory a run may use: the least of the --max-memory budget if one was set, else the machine's available
// memory (MemAvailable in /proc/meminfo); what the address-space limit leaves (RLIMIT_AS, `ulimit -v`, less what is
// mapped already); and what the memory cgroup leaves (cgroup v2 memory.max - memory.current, v1
// memory.limit_in_bytes - memory.usage_in_bytes, of this process's cgroup and each above it). SIZE_MAX if none is
// known. --max-memory can raise the budget above MemAvailable, never above the two hard limits: an allocation past
// them fails (or the kernel kills the process), where the budget's refusal is one line.
void memory_set_budget(size_t bytes);
size_t memory_budget(void);
// What a memory cgroup leaves, from a /proc/PID/cgroup file and the cgroup file systems' mount points (v2: its
// "0::PATH" line, v2_root/PATH/memory.max less memory.current; v1: the "memory" controller's line,
// v1_root/PATH/memory.limit_in_bytes less memory.usage_in_bytes), the usage less the page cache the kernel reclaims
// first (memory.stat's inactive_file, v1 total_inactive_file): the least over the cgroup and each above it up to the
// root; "max" or a missing file is no limit. SIZE_MAX without a limit.
size_t memory_cgroup_headroom(const char *cgroup_file, const char *v2_root, const char *v1_root);
// Bytes as "812 MB" / "47.9 GB" for messages.
void format_bytes(char *out, size_t cap, double bytes);
// FNV-1a, 64 bits, of len bytes: a fingerprint that tells texts apart (has a config changed?), not a defence
// against anyone who crafts a collision on purpose.
uint64_t fnv1a64(const void *data, size_t len);

// Monotonic seconds.
double now_seconds(void);

// SIMD_CLONES on a hot loop's function: GCC/clang compile AVX-512 and AVX2 copies beside the portable one and pick
// at load time. Under -std=c11 nothing is contracted into FMA and nothing reassociated, so every copy performs the
// same IEEE operations in the same order: the same bits on every x86-64 CPU (results stay bit-identical for a seed).
// clang before 16 names a clone's dispatcher "f.ifunc" and other translation units cannot link to f: there (the fuzz
// build) only the portable copy is compiled, which gives the same bits.
#if defined(__x86_64__) && defined(__GNUC__) && !(defined(__clang__) && __clang_major__ < 16)
#define SIMD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define SIMD_CLONES
#endif

// Enables flush-to-zero / denormals-are-zero on this thread (x86 SSE); no-op elsewhere.
// Sigmoid nets push tiny values through every product; denormal arithmetic is ~100x slower.
void enable_flush_to_zero(void);
// 1 where enable_flush_to_zero does something (x86: MXCSR's FTZ and DAZ), 0 where it cannot (WebAssembly: no such
// mode, subnormals are computed as IEEE 754 says).
int flush_to_zero_available(void);

#endif
