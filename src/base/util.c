#include "base/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#if defined(__SSE__)
#include <xmmintrin.h>
#endif

static _Thread_local char errbuf[BNLAB_ERRMSG_MAX];

int bnlab_fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf, sizeof errbuf, fmt, ap);
    va_end(ap);
    return -1;
}

const char *bnlab_errmsg(void) { return errbuf; }

void *bnlab_xmalloc(size_t n, const char *what, const char *file, int line) {
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "bnlab: out of memory: %zu bytes for %s at %s:%d\n", n, what, file, line);
        abort();
    }
    return p;
}

void *bnlab_xcalloc(size_t count, size_t size, const char *what, const char *file, int line) {
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p) {
        fprintf(stderr, "bnlab: out of memory: %zu x %zu bytes for %s at %s:%d\n", count, size, what, file,
                line);
        abort();
    }
    return p;
}

int mul_size(size_t a, size_t b, size_t limit, size_t *out) {
    if (a != 0 && b > limit / a) return -1;
    *out = a * b;
    return 0;
}

int read_whole_file(const char *path, size_t max_bytes, char **out, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return bnlab_fail("%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return bnlab_fail("%s: not a regular file", path);
    }
    if ((uint64_t)st.st_size > max_bytes) {
        fclose(f);
        return bnlab_fail("%s: file is %lld bytes, more than the limit of %zu", path, (long long)st.st_size,
                       max_bytes);
    }
    size_t n = (size_t)st.st_size;
    char *buf = xmalloc(n + 1, "file contents");
    size_t got = fread(buf, 1, n, f);
    int bad = ferror(f);
    fclose(f);
    if (bad || got != n) {
        free(buf);
        return bnlab_fail("%s: read error", path);
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

int write_all(int fd, const void *data, size_t len) {
    const char *p = data;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return errno;
        if (w == 0) return EIO;  // no progress and no error: do not spin
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

#define TEMP_SUFFIX ".tmp"  // write_file_atomic's temporary files: PATH.tmpPID

int write_file_atomic(const char *path, const void *data, size_t len) {
    size_t plen = strlen(path);
    char *tmp = xmalloc(plen + 32, "temp path");
    snprintf(tmp, plen + 32, "%s" TEMP_SUFFIX "%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        int e = errno;
        free(tmp);
        return bnlab_fail("%s: cannot create: %s", path, strerror(e));
    }
    int e = write_all(fd, data, len);
    const char *what = "write failed";
    if (!e && fsync(fd) != 0) e = errno;
    if (close(fd) != 0 && !e) e = errno;
    if (!e && rename(tmp, path) != 0) e = errno, what = "cannot rename its temporary file into place";
    if (e) unlink(tmp);  // path itself is untouched: the previous version stays whole
    free(tmp);
    return e ? bnlab_fail("%s: %s: %s", path, what, strerror(e)) : 0;
}

// The PID of a NAME.tmpPID file name, or 0 if name is not of that form.
static long temp_file_pid(const char *name) {
    const char *t = NULL;
    for (const char *p = strstr(name, TEMP_SUFFIX); p; p = strstr(p + 1, TEMP_SUFFIX)) t = p;
    if (!t || t == name) return 0;
    const char *d = t + strlen(TEMP_SUFFIX);
    long long pid = 0;
    for (; *d >= '0' && *d <= '9' && pid < 1LL << 40; d++) pid = 10 * pid + (*d - '0');
    return *d == '\0' && d > t + strlen(TEMP_SUFFIX) && pid <= LONG_MAX ? (long)pid : 0;
}

int remove_stale_temps(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d))) {
        long pid = temp_file_pid(e->d_name);
        // kill(pid, 0) fails with ESRCH only if no such process exists; EPERM means someone else's, alive.
        if (pid <= 0 || pid > INT32_MAX || kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
        char path[BNLAB_PATH_MAX];
        struct stat st;
        path_fmt(path, sizeof path, "%s/%s", dir, e->d_name);
        if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode)) continue;
        if (unlink(path) != 0 && errno != ENOENT)
            rc = bnlab_fail("%s: cannot remove this leftover temporary file: %s", path, strerror(errno));
    }
    closedir(d);
    return rc;
}

int wfile_open(wfile_t *w, const char *path, int append) {
    memset(w, 0, offsetof(wfile_t, buf));
    path_fmt(w->path, sizeof w->path, "%s", path);
    w->fd = open(path, O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC), 0644);
    if (w->fd < 0) return bnlab_fail("%s: cannot open for writing: %s", path, strerror(errno));
    struct stat st;
    w->open = 1;
    w->was_empty = fstat(w->fd, &st) != 0 || st.st_size == 0;
    return 0;
}

void wfile_printf(wfile_t *w, const char *fmt, ...) {
    for (int attempt = 0; w->open && !w->err; attempt++) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(w->buf + w->len, sizeof w->buf - w->len, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < sizeof w->buf - w->len) {
            w->len += (size_t)n;
            return;
        }
        if (n < 0 || attempt > 0) {  // longer than the whole buffer: a bug (rows are short), reported as an error
            w->err = n < 0 ? EINVAL : EOVERFLOW;
            return;
        }
        wfile_flush(w);  // make room, then format again
    }
}

void wfile_write(wfile_t *w, const char *s, size_t n) {
    if (!w->open || w->err) return;
    if (n > sizeof w->buf - w->len) wfile_flush(w);  // make room
    if (w->err) return;
    if (n > sizeof w->buf) {  // longer than the whole buffer: a bug (rows are short), reported as an error
        w->err = EOVERFLOW;
        return;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
}

int fmt_long(char *out, long v) {
    char tmp[24];
    int n = 0, len = 0;
    unsigned long u = v < 0 ? 0UL - (unsigned long)v : (unsigned long)v;
    do tmp[n++] = (char)('0' + u % 10), u /= 10;
    while (u);
    if (v < 0) out[len++] = '-';
    while (n) out[len++] = tmp[--n];
    out[len] = '\0';
    return len;
}

int fmt_g9(char out[FMT_G9_MAX], double x) {
#ifdef __SIZEOF_INT128__
    typedef unsigned __int128 u128;
    const double ax = fabs(x);
    int len = 0;
    if (signbit(x) && !isnan(x)) out[len++] = '-';
    if (ax == 0) {
        out[len++] = '0', out[len] = '\0';
        return len;
    }
    if (!(ax >= 1e-14 && ax < 1e9)) return snprintf(out, FMT_G9_MAX, "%.9g", x);
    uint64_t bits;
    memcpy(&bits, &ax, sizeof bits);
    const int ex = (int)(bits >> 52);                                  // a normal number here
    const uint64_t m = (bits & ((UINT64_C(1) << 52) - 1)) | (UINT64_C(1) << 52);  // ax = m 2^-s
    const int s = 1075 - ex;                                           // 23..99 in this range
    // 9 digits: N = x 10^(8-e) rounded, with 10^e <= x < 10^(e+1); e first from the binary exponent (at most 1 low).
    int e = (int)floor((ex - 1023) * 0.30102999566398120);
    uint64_t N = 0;
    for (int tries = 0;; tries++) {
        const int k = 8 - e;
        if (k < 0 || k > 22 || tries > 3) return snprintf(out, FMT_G9_MAX, "%.9g", x);
        static const uint64_t P10[20] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000,
                                         10000000000, 100000000000, 1000000000000, 10000000000000, 100000000000000,
                                         1000000000000000, 10000000000000000, 100000000000000000,
                                         1000000000000000000, 10000000000000000000u};
        const u128 p10 = k < 20 ? (u128)P10[k] : (u128)P10[19] * P10[k - 19];
        const u128 P = (u128)m * p10, T = P >> s;  // P < 2^53 10^22 < 2^127
        if (T < 100000000) {
            e--;
            continue;
        }
        if (T >= 1000000000) {
            e++;
            continue;
        }
        const u128 rem = P & (((u128)1 << s) - 1), half = (u128)1 << (s - 1);
        N = (uint64_t)T;
        if (rem > half || (rem == half && (N & 1))) N++;
        if (N == 1000000000) N = 100000000, e++;
        break;
    }
    char d[9];
    for (int i = 8; i >= 0; i--) d[i] = (char)('0' + N % 10), N /= 10;
    int last = 8;  // the last digit printed: trailing zeros go
    while (last > 0 && d[last] == '0') last--;
    if (e < -4 || e >= 9) {  // %g's exponent style: d.ddde-XX
        out[len++] = d[0];
        if (last > 0) {
            out[len++] = '.';
            for (int i = 1; i <= last; i++) out[len++] = d[i];
        }
        out[len++] = 'e', out[len++] = e < 0 ? '-' : '+';
        const int a = e < 0 ? -e : e;
        out[len++] = (char)('0' + a / 10), out[len++] = (char)('0' + a % 10);
    } else if (e >= 0) {  // e + 1 digits before the point
        for (int i = 0; i <= e; i++) out[len++] = d[i];
        if (last > e) {
            out[len++] = '.';
            for (int i = e + 1; i <= last; i++) out[len++] = d[i];
        }
    } else {  // 0.000ddd
        out[len++] = '0', out[len++] = '.';
        for (int i = 0; i < -e - 1; i++) out[len++] = '0';
        for (int i = 0; i <= last; i++) out[len++] = d[i];
    }
    out[len] = '\0';
    return len;
#else
    return snprintf(out, FMT_G9_MAX, "%.9g", x);
#endif
}

void wfile_flush(wfile_t *w) {
    if (!w->open || w->err || w->len == 0) return;
    w->err = write_all(w->fd, w->buf, w->len);
    w->len = 0;  // written, or dropped after a failure: never written later, after a gap
}

int wfile_check(const wfile_t *w) {
    return w->err ? bnlab_fail("%s: write failed: %s", w->path, strerror(w->err)) : 0;
}

int wfile_close(wfile_t *w) {
    if (!w->open) return 0;
    wfile_flush(w);
    if (close(w->fd) != 0 && !w->err) w->err = errno;
    w->open = 0;
    return wfile_check(w);
}

void bnlab_path_fmt(char *out, size_t cap, const char *file, int line, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, cap, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= cap) {
        fprintf(stderr, "bnlab: internal error: path of %d bytes does not fit %zu at %s:%d\n", n, cap, file, line);
        abort();
    }
}

void path_dirname(char *out, size_t cap, const char *path) {
    snprintf(out, cap, "%s", path);
    char *slash = strrchr(out, '/');
    if (slash == out) out[1] = '\0';
    else if (slash) *slash = '\0';
    else snprintf(out, cap, ".");
}

int path_join(char *out, size_t cap, const char *dir, const char *p) {
    int n = p[0] == '/' ? snprintf(out, cap, "%s", p) : snprintf(out, cap, "%s/%s", dir, p);
    if (n < 0 || (size_t)n >= cap) return bnlab_fail("%s: path longer than %zu bytes", p, cap - 1);
    return 0;
}

int make_dirs(const char *path) {
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf) return bnlab_fail("%s: bad directory path", path);
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] == '/' || buf[i] == '\0') {
            char c = buf[i];
            buf[i] = '\0';
            if (mkdir(buf, 0755) != 0 && errno != EEXIST)
                return bnlab_fail("%s: cannot create directory: %s", buf, strerror(errno));
            buf[i] = c;
        }
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) return bnlab_fail("%s: not a directory", path);
    return 0;
}

int path_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

int name_valid(const char *s) {
    if (!*s || !strcmp(s, ".") || !strcmp(s, "..")) return 0;
    for (; *s; s++)
        if (!(*s == '-' || *s == '_' || *s == '.' || (*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') ||
              (*s >= 'A' && *s <= 'Z')))
            return 0;
    return 1;
}

uint64_t fnv1a64(const void *data, size_t len) {
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325u;  // the offset basis and prime of the FNV specification
    for (size_t i = 0; i < len; i++) h = (h ^ p[i]) * 0x100000001b3u;
    return h;
}

int self_exe_path(char *out, size_t cap) {
    char buf[BNLAB_PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) return -1;
    buf[n] = '\0';
    const char *del = " (deleted)";
    size_t len = (size_t)n, dl = strlen(del);
    int replaced = len > dl && !strcmp(buf + len - dl, del);
    if (replaced) buf[len - dl] = '\0';
    snprintf(out, cap, "%s", buf);
    return !replaced;
}

void strbuf_printf(strbuf_t *b, const char *fmt, ...) {
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (b->s && b->len + (size_t)n < b->cap) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = (b->cap + (size_t)n + 1) * 2;
        char *p = xmalloc(cap, "text buffer");
        if (b->s) memcpy(p, b->s, b->len + 1);
        free(b->s);
        b->s = p;
        b->cap = cap;
    }
}

double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void enable_flush_to_zero(void) {
#if defined(__SSE__)
    // FTZ (bit 15) and DAZ (bit 6) of MXCSR.
    _mm_setcsr(_mm_getcsr() | 0x8040);
#endif
}

int flush_to_zero_available(void) {
#if defined(__SSE__)
    return 1;
#else
    return 0;
#endif
}

static size_t budget_override;  // 0: none

void memory_set_budget(size_t bytes) { budget_override = bytes; }

// MemAvailable in /proc/meminfo; SIZE_MAX if unknown.
static size_t mem_available(void) {
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f) return SIZE_MAX;
    char line[256];
    unsigned long long kb = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) break;
    fclose(f);
    return kb ? (size_t)kb * 1024 : SIZE_MAX;
}

// What RLIMIT_AS (ulimit -v) leaves: the limit less the address space already mapped (/proc/self/statm's size,
// which counts the libraries and OpenBLAS's buffers); SIZE_MAX without a limit.
static size_t rlimit_headroom(void) {
    struct rlimit r;
    if (getrlimit(RLIMIT_AS, &r) != 0 || r.rlim_cur == RLIM_INFINITY) return SIZE_MAX;
    unsigned long long pages = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%llu", &pages) != 1) pages = 0;
        fclose(f);
    }
    unsigned long long used = pages * (unsigned long long)sysconf(_SC_PAGESIZE);
    return (unsigned long long)r.rlim_cur > used ? (size_t)((unsigned long long)r.rlim_cur - used) : 0;
}

// One number from a cgroup file: 1, or 0 if missing or "max" (no limit).
static int read_cgroup_number(const char *path, unsigned long long *v) {
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    int ok = fscanf(f, "%llu", v) == 1;
    fclose(f);
    return ok && *v < (1ull << 62);  // v1 writes "no limit" as 2^63 rounded to pages
}

// The value of one key of a cgroup memory.stat file ("inactive_file 123" lines); 0 if absent.
static unsigned long long cgroup_stat(const char *path, const char *key) {
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    char line[256];
    unsigned long long v = 0;
    size_t n = strlen(key);
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, key, n) && line[n] == ' ') {
            v = strtoull(line + n + 1, NULL, 10);
            break;
        }
    fclose(f);
    return v;
}

size_t memory_cgroup_headroom(const char *cgroup_file, const char *v2_root, const char *v1_root) {
    FILE *f = fopen(cgroup_file, "r");
    if (!f) return SIZE_MAX;
    char line[4096], path[BNLAB_PATH_MAX + 64];
    size_t least = SIZE_MAX;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2) continue;
        *c1 = '\0', *c2 = '\0';
        char *controllers = c1 + 1, *save = NULL;
        const char *rel = c2 + 1;
        int v2 = !strcmp(line, "0") && controllers[0] == '\0', v1 = 0;
        for (char *t = strtok_r(controllers, ",", &save); t && !v2; t = strtok_r(NULL, ",", &save))
            v1 |= !strcmp(t, "memory");
        if (!v2 && !v1) continue;
        const char *root = v2 ? v2_root : v1_root;
        const char *lim_name = v2 ? "memory.max" : "memory.limit_in_bytes";
        const char *use_name = v2 ? "memory.current" : "memory.usage_in_bytes";
        char dir[BNLAB_PATH_MAX];
        if (snprintf(dir, sizeof dir, "%s%s", root, rel) >= (int)sizeof dir) continue;
        for (int more = 1; more;) {  // this cgroup, then each parent up to the root
            unsigned long long lim, use = 0;
            if (snprintf(path, sizeof path, "%s/%s", dir, lim_name) < (int)sizeof path &&
                read_cgroup_number(path, &lim)) {
                snprintf(path, sizeof path, "%s/%s", dir, use_name);
                if (!read_cgroup_number(path, &use)) use = 0;
                // the usage counts the page cache; its inactive part is reclaimed before the limit bites
                snprintf(path, sizeof path, "%s/memory.stat", dir);
                unsigned long long cache = cgroup_stat(path, v2 ? "inactive_file" : "total_inactive_file");
                use = use > cache ? use - cache : 0;
                size_t h = lim > use ? (size_t)(lim - use) : 0;
                if (h < least) least = h;
            }
            char *slash = strrchr(dir, '/');
            more = slash && (size_t)(slash - dir) >= strlen(root);
            if (more) *slash = '\0';
        }
    }
    fclose(f);
    return least;
}

size_t memory_budget(void) {
    size_t b = budget_override ? budget_override : mem_available(), r = rlimit_headroom(), g = memory_cgroup_headroom("/proc/self/cgroup", "/sys/fs/cgroup", "/sys/fs/cgroup/memory");
    if (r < b) b = r;
    if (g < b) b = g;
    return b;
}

void format_bytes(char *out, size_t cap, double bytes) {
    if (bytes >= 1e9) snprintf(out, cap, "%.1f GB", bytes / 1e9);
    else snprintf(out, cap, "%.0f MB", bytes / 1e6 < 1 ? 1 : bytes / 1e6);
}

void path_basename(char *out, size_t cap, const char *path) {
    char name[BNLAB_PATH_MAX];
    snprintf(name, sizeof name, "%s", path);
    size_t n = strlen(name);
    while (n > 1 && name[n - 1] == '/') name[--n] = '\0';
    const char *base = strrchr(name, '/');
    snprintf(out, cap, "%s", base && base[1] ? base + 1 : name);
}
