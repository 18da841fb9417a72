#include "io/data.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef BNLAB_HAVE_ZLIB
#define BNLAB_HAVE_ZLIB 1
#endif
#if BNLAB_HAVE_ZLIB
#include <zlib.h>
#else
// The WebAssembly build has no zlib (a page decodes gzip with the browser's DecompressionStream and gives the raw
// IDX bytes): the reader keeps its input cursor in a stand-in for z_stream's two fields, and gzip data is refused.
typedef unsigned int uInt;
typedef struct {
    unsigned char *next_in;
    uInt avail_in;
} z_stream;
#endif

#include "base/util.h"

// ---------------------------------------------------------------------------------------------
// Files: only regular files are read. A directory would otherwise surface as "corrupt gzip data", and opening a
// FIFO or a device for reading can block or never end; O_NONBLOCK keeps the open itself from waiting on a FIFO.

static const char *file_kind(mode_t m) {
    if (S_ISDIR(m)) return "is a directory";
    if (S_ISFIFO(m)) return "is a FIFO, not a regular file";
    if (S_ISCHR(m)) return "is a character device, not a regular file";
    if (S_ISBLK(m)) return "is a block device, not a regular file";
    if (S_ISSOCK(m)) return "is a socket, not a regular file";
    return "is not a regular file";
}

// Opens a regular file for reading: its fd and size, or -1 and a message naming what the path is instead.
static int open_regular(const char *path, uint64_t *size) {
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    if (fd < 0) {
        int e = errno;
        if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) return bnlab_fail("%s: %s", path, file_kind(st.st_mode));
        return bnlab_fail("%s: cannot open: %s", path, strerror(e));
    }
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return bnlab_fail("%s: cannot stat: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return bnlab_fail("%s: %s", path, file_kind(st.st_mode));
    }
    *size = (uint64_t)st.st_size;
    return fd;
}

// ---------------------------------------------------------------------------------------------
// A byte source for IDX files: raw, or gzip decoded by inflate straight into the caller's buffer (no copy through
// gzread's buffers). Unlike gzread, it verifies each member's trailer and refuses bytes after the last member.
//
// Concatenated members are accepted: RFC 1952 defines a gzip file as a series of members, `cat a.gz b.gz` makes
// one, and gzip/zcat decode it as the concatenation — so what bnlab loads is always what `zcat FILE` prints.
// Anything after a member's trailer that is not another member (junk, zero padding) is refused.

#define READER_CHUNK ((size_t)256 << 10)
#define DEFLATE_MAX_RATIO 1032u  // deflate's limit: a 258-byte match in 2 bits

typedef struct {
    const char *path;
    int fd, gz, eof;
    uint64_t size, offset;  // file size; file bytes read so far
    z_stream zs;            // next_in/avail_in: the unconsumed part of buf, in both modes
    unsigned char *buf;
} reader_t;

// Reads more of the file into buf after the avail_in (< 2) bytes still pending: 1 if bytes arrived, 0 at the end.
static int reader_fill(reader_t *r) {
    if (r->eof) return 0;
    size_t keep = r->zs.avail_in;
    if (keep) memmove(r->buf, r->zs.next_in, keep);
    ssize_t n;
    do n = read(r->fd, r->buf + keep, READER_CHUNK - keep);
    while (n < 0 && errno == EINTR);
    if (n < 0) return bnlab_fail("%s: read error: %s", r->path, strerror(errno));
    r->zs.next_in = r->buf;
    r->zs.avail_in = (uInt)(keep + (size_t)n);
    r->offset += (uint64_t)n;
    if (n == 0) r->eof = 1;
    return n > 0;
}

static int reader_open(reader_t *r, const char *path) {
    memset(r, 0, sizeof *r);
    r->path = path;
    r->fd = -1;
    int fd = open_regular(path, &r->size);
    if (fd < 0) return -1;
    r->fd = fd;
    r->buf = xmalloc(READER_CHUNK, "read buffer");
    r->zs.next_in = r->buf;
    while (r->zs.avail_in < 2 && reader_fill(r) > 0) {  // a raw IDX starts 00 00, a gzip 1f 8b
    }
    r->gz = r->zs.avail_in >= 2 && r->buf[0] == 0x1f && r->buf[1] == 0x8b;
#if BNLAB_HAVE_ZLIB
    if (r->gz && inflateInit2(&r->zs, 15 + 16) != Z_OK) {  // 16: gzip wrapper only, trailer checked
        r->gz = 0;
        return bnlab_fail("%s: cannot start zlib", path);
    }
#else
    if (r->gz) {
        r->gz = 0;
        return bnlab_fail("%s: gzip data, but this build has no zlib (WebAssembly): expected the decompressed IDX "
                          "bytes (a page decodes .gz with DecompressionStream)", path);
    }
#endif
    return 0;
}

static void reader_close(reader_t *r) {
#if BNLAB_HAVE_ZLIB
    if (r->gz) inflateEnd(&r->zs);
#endif
    free(r->buf);
    if (r->fd >= 0) close(r->fd);
    memset(r, 0, sizeof *r);
    r->fd = -1;
}

// Bytes of the file not yet consumed (0 if it grew since it was opened).
static uint64_t reader_left(const reader_t *r) {
    uint64_t consumed = r->offset - r->zs.avail_in;
    return consumed < r->size ? r->size - consumed : 0;
}

#if BNLAB_HAVE_ZLIB
// After a member's trailer: 1 if another member starts (inflate reset for it), 0 at the end of the file, -1 on junk.
static int reader_next_member(reader_t *r) {
    while (r->zs.avail_in < 2) {
        int got = reader_fill(r);
        if (got < 0) return -1;
        if (got == 0) break;
    }
    if (r->zs.avail_in == 0) return 0;
    if (r->zs.avail_in < 2 || r->zs.next_in[0] != 0x1f || r->zs.next_in[1] != 0x8b)
        return bnlab_fail("%s: %llu bytes after the gzip stream that are not a gzip member (at byte %llu): "
                          "expected the end of the file",
                          r->path, (unsigned long long)reader_left(r),
                          (unsigned long long)(r->size - reader_left(r)));
    inflateReset(&r->zs);
    return 1;
}

#endif

static int raw_read(reader_t *r, unsigned char *dst, size_t n, const char *what) {
    while (n > 0) {
        if (r->zs.avail_in > 0) {  // what the first fill read ahead
            size_t k = n < r->zs.avail_in ? n : r->zs.avail_in;
            memcpy(dst, r->zs.next_in, k);
            r->zs.next_in += k, r->zs.avail_in -= (uInt)k, dst += k, n -= k;
            continue;
        }
        ssize_t got = read(r->fd, dst, n > ((size_t)1 << 30) ? ((size_t)1 << 30) : n);  // straight into dst
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) return bnlab_fail("%s: read error in the %s: %s", r->path, what, strerror(errno));
        if (got == 0) return bnlab_fail("%s: truncated file: it ends inside the %s", r->path, what);
        r->offset += (uint64_t)got, dst += got, n -= (size_t)got;
    }
    return 0;
}

#if BNLAB_HAVE_ZLIB
// One inflate call into [dst, dst + *n): *n becomes what is left. 1 at a member's end, 0 if more may follow.
// what names the data being read for messages; NULL while only the trailer is expected.
static int gz_step(reader_t *r, unsigned char *dst, size_t *n, const char *what) {
    if (r->zs.avail_in == 0 && reader_fill(r) < 0) return -1;
    uInt chunk = *n > (1u << 30) ? (1u << 30) : (uInt)*n;
    r->zs.next_out = dst;
    r->zs.avail_out = chunk;
    int ret = inflate(&r->zs, Z_NO_FLUSH);
    *n -= chunk - r->zs.avail_out;
    if (ret == Z_STREAM_END) return 1;  // inflate has checked the trailer's CRC-32 and length
    if (ret == Z_OK || (ret == Z_BUF_ERROR && !(r->eof && r->zs.avail_in == 0))) return 0;
    if (ret == Z_BUF_ERROR && !what)
        return bnlab_fail("%s: gzip stream ends before its trailer (CRC-32 and length): the file is truncated",
                          r->path);
    if (ret == Z_BUF_ERROR)
        return bnlab_fail("%s: truncated file: it ends inside the %s (the gzip stream is cut short)", r->path, what);
    if (ret == Z_MEM_ERROR) return bnlab_fail("%s: out of memory in zlib", r->path);
    return bnlab_fail("%s: corrupt gzip data while reading %s: %s", r->path, what ? what : "the end of the stream",
                      r->zs.msg ? r->zs.msg : "?");
}

#endif

static int reader_read(reader_t *r, void *dst, size_t n, const char *what) {
    if (!r->gz) return raw_read(r, dst, n, what);
#if BNLAB_HAVE_ZLIB
    unsigned char *p = dst;
    while (n > 0) {
        size_t before = n;
        int end = gz_step(r, p, &n, what);
        if (end < 0) return -1;
        p += before - n;
        if (end && n > 0) {
            int more = reader_next_member(r);
            if (more < 0) return -1;
            if (more == 0) return bnlab_fail("%s: truncated file: it ends inside the %s", r->path, what);
        }
    }
#endif
    return 0;
}

// Requires the end of the data: of the file (raw), or of the last member after its verified trailer (gzip).
static int reader_expect_end(reader_t *r) {
    const char *extra = "%s: extra bytes after the data the header describes: expected the end of the file";
    if (!r->gz) {
        if (r->zs.avail_in == 0 && reader_fill(r) < 0) return -1;
        return r->zs.avail_in > 0 ? bnlab_fail(extra, r->path) : 0;
    }
#if BNLAB_HAVE_ZLIB
    for (;;) {  // inflate until the trailer, one byte of room to catch data the header did not declare
        unsigned char one;
        size_t n = 1;
        int end = gz_step(r, &one, &n, NULL);
        if (end < 0) return -1;
        if (n == 0) return bnlab_fail(extra, r->path);
        if (end) {
            int more = reader_next_member(r);
            if (more <= 0) return more;
        }
    }
#else
    return 0;
#endif
}

// Refuses, before allocating, a header that declares more data than the file can hold.
static int reader_can_hold(const reader_t *r, size_t total, const char *what) {
    uint64_t left = reader_left(r);
    if (!r->gz && left < total)
        return bnlab_fail("%s: truncated file: it ends inside the %s (the header declares %zu bytes, the file has "
                          "%llu)", r->path, what, total, (unsigned long long)left);
    if (!r->gz && left > total)
        return bnlab_fail("%s: extra bytes after the data the header describes: %llu bytes, expected %zu", r->path,
                          (unsigned long long)left, total);
    if (r->gz && total / DEFLATE_MAX_RATIO > r->size)
        return bnlab_fail("%s: truncated file: the header declares %zu bytes of %s but %llu bytes of gzip hold at "
                          "most %llu (deflate expands at most %u:1)", r->path, total, what,
                          (unsigned long long)r->size, (unsigned long long)r->size * DEFLATE_MAX_RATIO,
                          DEFLATE_MAX_RATIO);
    return 0;
}

// ---------------------------------------------------------------------------------------------
// IDX (LeCun's format): 2 zero bytes, type byte 0x08 (uint8), number of dimensions, then each
// dimension as a big-endian uint32, then the data.

static uint32_t be32(const unsigned char *b) {
    return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | (uint32_t)b[3];
}

// Opens path, checks the magic for a uint8 tensor of ndim in [min_nd, max_nd], reads its dims.
static int idx_open(reader_t *r, const char *path, int min_nd, int max_nd, uint32_t dims[3], int *ndim) {
    if (reader_open(r, path) != 0) goto fail;
    unsigned char hdr[4];
    if (reader_read(r, hdr, 4, "header") != 0) goto fail;
    if (hdr[0] != 0 || hdr[1] != 0 || hdr[2] != 0x08 || hdr[3] < min_nd || hdr[3] > max_nd) {
        bnlab_fail("%s: bad IDX magic 0x%02x%02x%02x%02x: expected a uint8 tensor with %d..%d dimensions "
                "(0x0000080%d..0x0000080%d)",
                path, hdr[0], hdr[1], hdr[2], hdr[3], min_nd, max_nd, min_nd, max_nd);
        goto fail;
    }
    *ndim = hdr[3];
    for (int i = 0; i < *ndim; i++) {
        unsigned char b[4];
        if (reader_read(r, b, 4, "header") != 0) goto fail;
        dims[i] = be32(b);
    }
    return 0;
fail:
    reader_close(r);
    return -1;
}

// Checks the header's claim against the limits; the pixel bytes in *total.
static int idx_check_size(const char *path, uint32_t n, size_t dim, size_t max_bytes, size_t *total) {
    if (n == 0 || dim == 0)
        return bnlab_fail("%s: header declares an empty tensor (%u examples of %zu values)", path, n, dim);
    if (n > DATA_MAX_EXAMPLES || dim > DATA_MAX_FEATURES || mul_size(n, dim, SIZE_MAX, total) != 0)
        return bnlab_fail("%s: header declares %u examples of %zu values, beyond the limits (%u examples, %u "
                          "values each)", path, n, dim, DATA_MAX_EXAMPLES, DATA_MAX_FEATURES);
    if (*total > max_bytes)
        return bnlab_fail("%s: header declares %u x %zu = %zu bytes of pixels, more than the limit of %zu bytes",
                          path, n, dim, *total, max_bytes);
    return 0;
}

int idx_load_images(dataset_t *ds, const char *images_path, size_t max_bytes) {
    memset(ds, 0, sizeof *ds);
    uint32_t dims[3] = {0, 0, 0};
    int nd = 0;
    reader_t r;
    if (idx_open(&r, images_path, 2, 3, dims, &nd) != 0) return -1;
    uint32_t n = dims[0];
    size_t dim = nd == 3 ? (size_t)dims[1] * dims[2] : dims[1], total;
    if (idx_check_size(images_path, n, dim, max_bytes, &total) != 0 || reader_can_hold(&r, total, "pixel data") != 0) {
        reader_close(&r);
        return -1;
    }
    // One allocation of what the checked header declares: the decoder fills it in place, so the peak is the
    // data itself (a doubling buffer cost up to 2x, plus the copy).
    uint8_t *pix = xmalloc(total, "IDX pixels");
    if (reader_read(&r, pix, total, "pixel data") != 0 || reader_expect_end(&r) != 0) {
        reader_close(&r);
        free(pix);
        return -1;
    }
    reader_close(&r);
    ds->n = n;
    ds->dim = (uint32_t)dim;
    ds->u8 = pix;
    return 0;
}

static int idx_read_labels(reader_t *r, dataset_t *ds, const char *labels_path, const char *images_path,
                           size_t max_bytes, uint8_t **lab8) {
    uint32_t ldims[3] = {0, 0, 0};
    int lnd = 0;
    if (idx_open(r, labels_path, 1, 1, ldims, &lnd) != 0) return -1;
    if (ldims[0] != ds->n)
        return bnlab_fail("%s: %u labels but %s has %u images", labels_path, ldims[0], images_path, ds->n);
    size_t pixels = (size_t)ds->n * ds->dim, need = (size_t)ds->n * (1 + sizeof(int32_t));
    if (need > max_bytes - pixels)  // pixels <= max_bytes: checked when the images loaded
        return bnlab_fail("%s: %u labels need %zu bytes on top of %zu bytes of pixels, more than the limit of %zu "
                          "bytes", labels_path, ds->n, need, pixels, max_bytes);
    if (reader_can_hold(r, ds->n, "label data") != 0) return -1;
    *lab8 = xmalloc(ds->n, "IDX labels");
    return reader_read(r, *lab8, ds->n, "label data") != 0 || reader_expect_end(r) != 0 ? -1 : 0;
}

static int idx_load_labels(dataset_t *ds, const char *labels_path, const char *images_path, int classes,
                           size_t max_bytes) {
    reader_t r;
    uint8_t *lab8 = NULL;
    int rc = idx_read_labels(&r, ds, labels_path, images_path, max_bytes, &lab8);
    reader_close(&r);
    if (rc != 0) {
        free(lab8);
        return -1;
    }
    int32_t *labels = xmalloc(sizeof(int32_t) * ds->n, "labels");
    for (uint32_t i = 0; i < ds->n; i++) {
        if (lab8[i] >= classes) {
            int bad = lab8[i];
            free(lab8);
            free(labels);
            return bnlab_fail("%s: label %d of example %u is out of range: expected 0..%d", labels_path, bad, i,
                           classes - 1);
        }
        labels[i] = lab8[i];
    }
    free(lab8);
    ds->labels = labels;
    ds->classes = classes;
    return 0;
}

int idx_load(dataset_t *ds, const char *images_path, const char *labels_path, int classes, size_t max_bytes) {
    if (classes < 2 || classes > DATA_MAX_CLASSES) {
        memset(ds, 0, sizeof *ds);
        return bnlab_fail("classes: expected 2..%d, got %d", DATA_MAX_CLASSES, classes);
    }
    if (idx_load_images(ds, images_path, max_bytes) != 0) return -1;
    if (idx_load_labels(ds, labels_path, images_path, classes, max_bytes) != 0) {
        dataset_free(ds);
        return -1;
    }
    return 0;
}

// ---------------------------------------------------------------------------------------------
// CSV: [label,]feature,feature,...  A field is a decimal number with optional blanks (space, tab) around it.
// The first line is a header iff it has a non-empty field and none of its fields is a number; a first line that
// mixes numbers and non-numbers is an error, so a data row is never dropped for failing to parse. A UTF-8 BOM at
// the start of the file is stripped in every case.

enum { NUM_OK, NUM_EMPTY, NUM_JUNK, NUM_NONFINITE, NUM_OVERFLOW };

// The end of the field starting at p: the next ',', line end or NUL.
static const char *field_end(const char *p) {
    while (*p && *p != ',' && *p != '\n' && *p != '\r') p++;
    return p;
}

// Parses [p, end) as a whole: NUM_OK and *out, or why not. strtof alone would skip leading white space (newlines
// included, crossing into the next row) and take hex; both are refused here.
static int parse_number(const char *p, const char *end, float *out) {
    while (p < end && (*p == ' ' || *p == '\t')) p++;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t')) end--;
    if (p == end) return NUM_EMPTY;
    const char *d = p + (*p == '+' || *p == '-');
    int c = (unsigned char)*d;
    if (!((c >= '0' && c <= '9') || c == '.' || c == 'n' || c == 'N' || c == 'i' || c == 'I')) return NUM_JUNK;
    if (d[0] == '0' && (d[1] == 'x' || d[1] == 'X')) return NUM_JUNK;
    char *q;
    errno = 0;
    float v = strtof(p, &q);
    if (q != end) return NUM_JUNK;
    // ERANGE means overflow (±HUGE_VALF) or underflow; an underflow is a subnormal or zero, finite and kept.
    if (errno == ERANGE && isinf(v)) return NUM_OVERFLOW;
    if (!isfinite(v)) return NUM_NONFINITE;
    *out = v;
    return NUM_OK;
}

// Fails with "PATH:LINE: feature K <why>: found "FIELD"".
static int field_fail(const char *path, size_t line, uint32_t k, int why, const char *p, const char *end) {
    const char *what = why == NUM_EMPTY      ? "is empty"
                       : why == NUM_OVERFLOW ? "is out of float range (|x| > 3.4e38)"
                                             : "is not a finite number";
    int len = end - p > 40 ? 40 : (int)(end - p);
    return bnlab_fail("%s:%zu: feature %u %s: found \"%.*s\"", path, line, k, what, len, p);
}

// Classifies the first line: 1 header, 0 data, -1 (message) for a mix of numbers and non-numbers.
static int csv_is_header(const char *path, const char *p) {
    const char *bad = NULL, *bad_end = NULL;
    uint32_t k = 1, bad_k = 0, num_k = 0;
    for (;; k++) {
        const char *e = field_end(p);
        float v;
        int st = parse_number(p, e, &v);
        if (st == NUM_JUNK && !bad) bad = p, bad_end = e, bad_k = k;
        if (st != NUM_JUNK && st != NUM_EMPTY && !num_k) num_k = k;
        p = e;
        if (*p != ',') break;
        p++;
    }
    if (!num_k) return bad != NULL;
    if (!bad) return 0;
    int len = bad_end - bad > 40 ? 40 : (int)(bad_end - bad);
    return bnlab_fail("%s:1: field %u (\"%.*s\") is not a number but field %u is: expected a header (no numbers) "
                      "or a data row (only numbers)", path, bad_k, len, bad, num_k);
}

static int csv_parse_label(const char *path, size_t line, const char *p, const char *e, int classes, int32_t *y) {
    float v = 0;
    if (parse_number(p, e, &v) != NUM_OK || v != floorf(v) || v < 0 || v >= (float)classes) {
        int len = e - p > 40 ? 40 : (int)(e - p);
        return bnlab_fail("%s:%zu: label must be an integer in 0..%d: found \"%.*s\"", path, line, classes - 1, len,
                          p);
    }
    *y = (int32_t)v;
    return 0;
}

// Parses the row at *pp into x[0..fields) (and *y) and moves *pp past its line end.
static int csv_parse_row(const char *path, size_t line, const char **pp, int has_label, int classes,
                         uint32_t fields, float *x, int32_t *y) {
    const char *p = *pp;
    if (*p == '\n' || *p == '\r') return bnlab_fail("%s:%zu: empty line", path, line);
    uint32_t c = 0;
    for (int first = 1;; first = 0) {
        const char *e = field_end(p);
        if (first && has_label) {
            if (csv_parse_label(path, line, p, e, classes, y) != 0) return -1;
        } else {
            if (c >= fields) return bnlab_fail("%s:%zu: ragged row: more than %u features", path, line, fields);
            int st = parse_number(p, e, &x[c]);
            if (st != NUM_OK) return field_fail(path, line, c + 1, st, p, e);
            c++;
        }
        p = e;
        if (*p != ',') break;
        p++;
    }
    if (c != fields) return bnlab_fail("%s:%zu: ragged row: %u features, expected %u", path, line, c, fields);
    if (*p == '\r' && p[1] == '\n') p++;  // a row ends in \n, \r\n or the end of the file
    if (*p == '\n') p++;
    else if (*p) return bnlab_fail("%s:%zu: unexpected character after feature %u", path, line, c);
    *pp = p;
    return 0;
}

// Reads a whole regular file of at most max_bytes, NUL-terminated.
static int csv_read(const char *path, size_t max_bytes, char **text, size_t *len) {
    uint64_t size;
    int fd = open_regular(path, &size);
    if (fd < 0) return -1;
    if (size > max_bytes) {
        close(fd);
        return bnlab_fail("%s: file is %llu bytes, more than the limit of %zu bytes", path,
                          (unsigned long long)size, max_bytes);
    }
    char *buf = xmalloc((size_t)size + 1, "CSV text");
    size_t got = 0;
    while (got < size) {
        ssize_t n = read(fd, buf + got, (size_t)size - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += (size_t)n;
    }
    close(fd);
    if (got != size) {
        free(buf);
        return bnlab_fail("%s: read error: got %zu of %llu bytes", path, got, (unsigned long long)size);
    }
    buf[got] = '\0';
    *text = buf;
    *len = got;
    return 0;
}

// Counts the data rows from p on, and the features of the first one.
static void csv_count(const char *p, int has_label, uint32_t *rows, uint32_t *fields) {
    *fields = has_label ? 0 : 1;  // features per row: commas (+ 1 without a label)
    *rows = 0;
    for (const char *q = p; *q && *q != '\n'; q++)
        if (*q == ',') ++*fields;
    for (const char *q = p; *q; q++)
        if (*q == '\n' && q[1] != '\0') ++*rows;
    if (*p) ++*rows;
}

static int csv_parse(dataset_t *ds, const char *path, const char *text, int classes, int has_label,
                     size_t max_bytes, size_t len) {
    const char *p = text;
    if ((unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0xBB && (unsigned char)p[2] == 0xBF) p += 3;
    size_t line = 1;
    int header = csv_is_header(path, p);
    if (header < 0) return -1;
    if (header) {
        const char *nl = strchr(p, '\n');
        p = nl ? nl + 1 : text + len;
        line = 2;
    }
    uint32_t rows, fields;
    csv_count(p, has_label, &rows, &fields);
    if (rows == 0 || fields == 0) return bnlab_fail("%s: no data rows (expected: label,feature,...)", path);
    if (fields > DATA_MAX_FEATURES || rows > DATA_MAX_EXAMPLES)
        return bnlab_fail("%s: %u rows of %u features exceed the limits", path, rows, fields);
    size_t need = ((size_t)rows * fields + (has_label ? rows : 0)) * sizeof(float);  // beside the text
    if (need > max_bytes - len)
        return bnlab_fail("%s: %u rows of %u features need %zu bytes beside the %zu of text, more than the limit of "
                          "%zu bytes", path, rows, fields, need, len, max_bytes);
    ds->f32 = xmalloc(sizeof(float) * (size_t)rows * fields, "CSV features");
    ds->labels = has_label ? xmalloc(sizeof(int32_t) * rows, "CSV labels") : NULL;
    for (uint32_t r = 0; *p; r++, line++) {
        if (r == rows) return bnlab_fail("%s:%zu: more rows than counted", path, line);  // a counting bug's guard
        int32_t *y = has_label ? &ds->labels[r] : NULL;
        if (csv_parse_row(path, line, &p, has_label, classes, fields, ds->f32 + (size_t)r * fields, y) != 0)
            return -1;
        ds->n = r + 1;
    }
    ds->dim = fields;
    ds->classes = has_label ? classes : 0;
    return 0;
}

int csv_load(dataset_t *ds, const char *path, int classes, int has_label, size_t max_bytes) {
    memset(ds, 0, sizeof *ds);
    if (has_label && (classes < 2 || classes > DATA_MAX_CLASSES))
        return bnlab_fail("classes: expected 2..%d, got %d", DATA_MAX_CLASSES, classes);
    char *text = NULL;
    size_t len = 0;
    if (csv_read(path, max_bytes, &text, &len) != 0) return -1;
    int rc = memchr(text, '\0', len) ? bnlab_fail("%s: binary data (NUL byte) in a CSV file", path)
                                     : csv_parse(ds, path, text, classes, has_label, max_bytes, len);
    free(text);
    if (rc != 0) dataset_free(ds);
    return rc;
}
void dataset_free(dataset_t *ds) {
    free(ds->u8);
    free(ds->f32);
    free(ds->labels);
    memset(ds, 0, sizeof *ds);
}

void dataset_truncate(dataset_t *ds, uint32_t n) {
    if (n > 0 && n < ds->n) ds->n = n;
}

// ---------------------------------------------------------------------------------------------

static inline float raw_value(const dataset_t *ds, size_t k) { return ds->u8 ? (float)ds->u8[k] : ds->f32[k]; }

static inline float scaled(const dataset_t *ds, const preprocess_t *pp, size_t k) {
    float v = raw_value(ds, k) * pp->scale;
    if (pp->binarize) v = v > pp->threshold ? 1.0f : 0.0f;
    return v;
}

void preprocess_fit(preprocess_t *pp, const dataset_t *ds) {
    pp->mean = NULL;
    pp->inv_std = NULL;
    if (!pp->standardize) return;
    double *s = xcalloc(ds->dim, sizeof(double), "feature sums");
    double *ss = xcalloc(ds->dim, sizeof(double), "feature sums of squares");
    for (uint32_t i = 0; i < ds->n; i++)
        for (uint32_t j = 0; j < ds->dim; j++) {
            double v = scaled(ds, pp, (size_t)i * ds->dim + j);
            s[j] += v;
            ss[j] += v * v;
        }
    pp->mean = xmalloc(sizeof(float) * ds->dim, "feature means");
    pp->inv_std = xmalloc(sizeof(float) * ds->dim, "feature scales");
    for (uint32_t j = 0; j < ds->dim; j++) {
        double m = s[j] / ds->n, var = ss[j] / ds->n - m * m;
        pp->mean[j] = (float)m;
        // A constant feature (MNIST's border pixels) would divide by zero; leave it centred only.
        pp->inv_std[j] = var > 1e-12 ? (float)(1.0 / sqrt(var)) : 1.0f;
    }
    free(s);
    free(ss);
}

void preprocess_free(preprocess_t *pp) {
    free(pp->mean);
    free(pp->inv_std);
    pp->mean = pp->inv_std = NULL;
}

static inline void gather_one(const dataset_t *ds, const preprocess_t *pp, uint32_t src, float *x) {
    size_t base = (size_t)src * ds->dim;
    if (ds->u8 && !pp->binarize && !pp->standardize) {  // the common case, as one vectorizable loop
        const uint8_t *p = ds->u8 + base;
        const float scale = pp->scale;  // a local: x could alias pp->scale as far as the compiler knows
        for (uint32_t j = 0; j < ds->dim; j++) x[j] = (float)p[j] * scale;
        return;
    }
    for (uint32_t j = 0; j < ds->dim; j++) {
        float v = scaled(ds, pp, base + j);
        if (pp->standardize) v = (v - pp->mean[j]) * pp->inv_std[j];
        x[j] = v;
    }
}

void dataset_prefetch(const dataset_t *ds, const uint32_t *idx, int n) {
#if defined(__GNUC__)
    size_t bytes = (size_t)ds->dim * (ds->u8 ? 1 : sizeof(float));
    for (int i = 0; i < n; i++) {
        const char *p = ds->u8 ? (const char *)(ds->u8 + (size_t)idx[i] * ds->dim)
                               : (const char *)(ds->f32 + (size_t)idx[i] * ds->dim);
        for (size_t off = 0; off < bytes; off += 64) __builtin_prefetch(p + off);
    }
#else
    (void)ds, (void)idx, (void)n;
#endif
}

SIMD_CLONES void dataset_gather(const dataset_t *ds, const preprocess_t *pp, const uint32_t *idx, int n, float *x,
                    int32_t *y) {
    for (int i = 0; i < n; i++) {
        gather_one(ds, pp, idx[i], x + (size_t)i * ds->dim);
        if (y) y[i] = ds->labels[idx[i]];
    }
}

SIMD_CLONES void dataset_gather_range(const dataset_t *ds, const preprocess_t *pp, uint32_t start, int n, float *x,
                          int32_t *y) {
    for (int i = 0; i < n; i++) {
        gather_one(ds, pp, start + (uint32_t)i, x + (size_t)i * ds->dim);
        if (y) y[i] = ds->labels ? ds->labels[start + (uint32_t)i] : 0;
    }
}
