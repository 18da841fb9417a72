#include "base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
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

int write_file_atomic(const char *path, const void *data, size_t len) {
    size_t plen = strlen(path);
    char *tmp = xmalloc(plen + 16, "temp path");
    snprintf(tmp, plen + 16, "%s.tmp%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        int e = errno;
        free(tmp);
        return bnlab_fail("%s: cannot create: %s", path, strerror(e));
    }
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            close(fd);
            unlink(tmp);
            free(tmp);
            return bnlab_fail("%s: write failed: %s", path, strerror(e));
        }
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        free(tmp);
        return bnlab_fail("%s: cannot finish writing: %s", path, strerror(e));
    }
    free(tmp);
    return 0;
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
