// The checked writes of base/util and run/recorder (log_open): a failed write is kept with the file's name and the OS
// error and nothing is written after it (no row spliced in after a gap); write_file_atomic leaves the old file and no
// temporary one when a write fails; remove_stale_temps removes dead processes' temporary files only; a log opened for appending
// gets its header when it is missing or empty, and only then.
#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/util.h"
#include "base/rng.h"
#include "check.h"
#include "run/rundir.h"
#include "run/recorder.h"
#include "run/runlog.h"

static char dir[] = "/tmp/bnlab-writer-XXXXXX";

static void in_dir(char *out, const char *name) { path_fmt(out, BNLAB_PATH_MAX, "%s/%s", dir, name); }

static long file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static char *contents(const char *path) {
    char *text;
    size_t len;
    if (read_whole_file(path, 1 << 20, &text, &len) != 0) {
        text = malloc(1);
        text[0] = '\0';
    }
    return text;
}

// A full device: the failure is kept, named, and every later write is skipped.
static void test_full_device(void) {
    wfile_t w;
    CHECK(wfile_open(&w, "/dev/full", 0) == 0, "open /dev/full: %s", bnlab_errmsg());
    CHECK(wfile_check(&w) == 0, "a fresh writer reports an error");
    wfile_printf(&w, "%d,%s\n", 1, "row");
    wfile_flush(&w);
    CHECK(wfile_check(&w) != 0, "a write to /dev/full succeeded");
    CHECK_MSG(bnlab_errmsg(), "/dev/full: write failed: No space left on device");
    wfile_printf(&w, "%d,%s\n", 2, "row");
    CHECK(w.len == 0, "a row was buffered after the failure");
    CHECK(wfile_close(&w) != 0 && !w.open, "close after a failed write reports success");
}

// A file-size limit part-way through a row: the rows before it are whole, and after the limit is lifted nothing more
// is written (SIGXFSZ is ignored, as bnlab train does, so the write fails with EFBIG).
static void test_size_limit(void) {
    char path[BNLAB_PATH_MAX], atomic[BNLAB_PATH_MAX];
    in_dir(path, "limited.csv");
    in_dir(atomic, "atomic.json");
    CHECK(write_file_atomic(atomic, "old\n", 4) == 0, "write %s: %s", atomic, bnlab_errmsg());
    struct rlimit old, lim;
    getrlimit(RLIMIT_FSIZE, &old);
    lim = old;
    lim.rlim_cur = 100;
    signal(SIGXFSZ, SIG_IGN);
    wfile_t w;
    CHECK(wfile_open(&w, path, 0) == 0, "open %s: %s", path, bnlab_errmsg());
    CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0, "setrlimit: %s", strerror(errno));
    for (int i = 0; i < 3; i++) {  // 40-byte rows: the third crosses 100 bytes
        wfile_printf(&w, "%03d,%035d\n", i, 0);
        wfile_flush(&w);
    }
    CHECK(wfile_check(&w) != 0, "a write past the size limit succeeded");
    CHECK_MSG(bnlab_errmsg(), "limited.csv: write failed: File too large");
    int rc = write_file_atomic(atomic, "0123456789012345678901234567890123456789012345678901234567890123456789"
                                       "0123456789012345678901234567890123456789", 110);
    CHECK(rc != 0, "an atomic write past the size limit succeeded");
    CHECK_MSG(bnlab_errmsg(), "atomic.json: write failed: File too large");
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, SIG_DFL);
    wfile_printf(&w, "%03d,%035d\n", 9, 0);  // the disk has room again: still nothing after the gap
    wfile_flush(&w);
    CHECK(wfile_close(&w) != 0, "close forgot the failed write");
    CHECK(file_size(path) == 100, "%s: %ld bytes, want 100 (two rows and the part of the third that fit)", path,
          file_size(path));
    char *text = contents(atomic);
    CHECK(!strcmp(text, "old\n"), "a failed atomic write changed the file: \"%s\"", text);
    free(text);
    char tmp[BNLAB_PATH_MAX + 32];
    snprintf(tmp, sizeof tmp, "%s.tmp%ld", atomic, (long)getpid());
    CHECK(!path_exists(tmp), "a failed atomic write left %s", tmp);
    unlink(path);
    unlink(atomic);
}

static void touch(const char *name) {
    char path[BNLAB_PATH_MAX];
    in_dir(path, name);
    FILE *f = fopen(path, "w");  // not write_file_atomic: its own temporary file is one of the names here
    CHECK(f && fputs("x", f) >= 0 && fclose(f) == 0, "cannot write %s", path);
}

// Temporary files of processes that no longer run go; anything else stays.
static void test_stale_temps(void) {
    pid_t child = fork();
    if (child == 0) _exit(0);
    waitpid(child, NULL, 0);  // reaped: no process has this PID now
    char dead[64], live[64], sub[BNLAB_PATH_MAX];
    snprintf(dead, sizeof dead, "step-000000100.safetensors.tmp%ld", (long)child);
    snprintf(live, sizeof live, "metrics.csv.tmp%ld", (long)getpid());
    const char *keep[] = {live, "notes.tmp", "notes.tmp12a", ".tmp1", "metrics.csv"};
    touch(dead);
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) touch(keep[i]);
    snprintf(sub, sizeof sub, "%s/dir.tmp%ld", dir, (long)child);
    mkdir(sub, 0755);  // not a file: kept
    CHECK(remove_stale_temps(dir) == 0, "remove_stale_temps: %s", bnlab_errmsg());
    char path[BNLAB_PATH_MAX];
    in_dir(path, dead);
    CHECK(!path_exists(path), "%s (a dead process's) was kept", dead);
    unlink(path);
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
        in_dir(path, keep[i]);
        CHECK(path_exists(path), "%s was removed", keep[i]);
        unlink(path);
    }
    CHECK(path_exists(sub), "a directory was removed");
    rmdir(sub);
    CHECK(remove_stale_temps("/nonexistent/bnlab") == 0, "a missing directory is an error");
}

// Appending to a missing or empty log writes its header; to a log with rows, not.
static void test_log_headers(void) {
    char path[BNLAB_PATH_MAX];
    in_dir(path, RUNDIR_METRICS_CSV);
    wfile_t w;
    CHECK(log_open(&w, dir, RUNDIR_METRICS_CSV, 1, RUNDIR_METRICS_HEADER) == 0, "%s", bnlab_errmsg());
    wfile_printf(&w, "1,row\n");
    wfile_flush(&w);
    CHECK(wfile_close(&w) == 0, "%s", bnlab_errmsg());
    CHECK(log_open(&w, dir, RUNDIR_METRICS_CSV, 1, RUNDIR_METRICS_HEADER) == 0, "%s", bnlab_errmsg());
    wfile_printf(&w, "2,row\n");
    CHECK(wfile_close(&w) == 0, "%s", bnlab_errmsg());
    char *text = contents(path);
    CHECK(!strcmp(text, RUNDIR_METRICS_HEADER "1,row\n2,row\n"), "appended log:\n%s", text);
    free(text);
    CHECK(write_file_atomic(path, "", 0) == 0, "%s", bnlab_errmsg());  // emptied (a resume kept nothing)
    CHECK(log_open(&w, dir, RUNDIR_METRICS_CSV, 1, RUNDIR_METRICS_HEADER) == 0, "%s", bnlab_errmsg());
    CHECK(wfile_close(&w) == 0, "%s", bnlab_errmsg());
    text = contents(path);
    CHECK(!strcmp(text, RUNDIR_METRICS_HEADER), "empty log appended to:\n%s", text);
    free(text);
    unlink(path);
}

// fmt_g9 writes snprintf's "%.9g" bytes: on 3 million doubles of random bits over |x| from 1e-16 to 1e11 (both
// signs; the fast range 1e-14..1e9 and beyond it), on each power of ten from 1e-16 to 1e10 and the 3 doubles either
// side, on the doubles either side of each rounding boundary 9.999999995e±k, on exact ties (10 significant digits
// ending in 5: I + odd/2^(9-e), rounded half to even), and on 0, -0, ±inf, NaN, subnormals and the extremes.
// Negative control: the ties include ones where rounding half up would print other digits; fmt_long is %ld.
static int g9_differs(double x) {
    char a[FMT_G9_MAX], b[64];
    int n = fmt_g9(a, x);
    snprintf(b, sizeof b, "%.9g", x);
    if (n != (int)strlen(a) || strcmp(a, b) != 0) {
        if (check_failed < 20) fprintf(stderr, "fmt_g9(%.17g): \"%s\", snprintf \"%s\"\n", x, a, b);
        return 1;
    }
    return 0;
}

static void test_fmt_g9(void) {
    rng_t r;
    rng_seed(&r, 11, 0);
    long tried = 0, bad = 0;
    for (int i = 0; i < 3000000; i++) {
        const int e2 = -54 + (int)rng_below(&r, 92);  // 2^-54 .. 2^37
        const uint64_t mant = ((uint64_t)rng_u32(&r) << 32 | rng_u32(&r)) & ((UINT64_C(1) << 52) - 1);
        const uint64_t bits = (uint64_t)(1023 + e2) << 52 | mant | (uint64_t)(i & 1) << 63;
        double x;
        memcpy(&x, &bits, sizeof x);
        bad += g9_differs(x), tried++;
    }
    for (int e = -16; e <= 10; e++) {
        const double p = pow(10.0, e), edge = 9.999999995 * pow(10.0, e);
        for (int k = -3; k <= 3; k++) {
            double y = p, z = edge;
            for (int j = 0; j < (k < 0 ? -k : k); j++) y = nextafter(y, k < 0 ? 0 : INFINITY), z = nextafter(z, k < 0 ? 0 : INFINITY);
            bad += g9_differs(y) + g9_differs(z), tried += 2;
        }
    }
    long ties = 0, half_up_differs = 0;
    for (int e = 0; e <= 8; e++)
        for (int i = 0; i < 2000; i++) {
            const double I = pow(10.0, e) + rng_below(&r, (uint32_t)(9 * pow(10.0, e))), den = ldexp(1.0, 9 - e);
            const double x = I + (2 * rng_below(&r, (uint32_t)den / 2) + 1) / den;
            char up[64], even[64];
            snprintf(even, sizeof even, "%.9g", x), snprintf(up, sizeof up, "%.9g", nextafter(x, INFINITY));
            half_up_differs += strcmp(up, even) != 0;
            bad += g9_differs(x) + g9_differs(-x), ties++, tried += 2;
        }
    const double special[] = {0.0, -0.0, INFINITY, -INFINITY, NAN, DBL_MIN, DBL_MAX, DBL_TRUE_MIN, 4.9e-310, 1e-14,
                              nextafter(1e-14, 0), 1e9, nextafter(1e9, 0), 999999999.5, 999999999.4999999, 0.5, 1.0,
                              123456789.0, 1234567890.0, 0.1, 1e-5, 1e-4, 9.9999999949999e-5, 2.5e-300};
    for (size_t i = 0; i < sizeof special / sizeof *special; i++) bad += g9_differs(special[i]), tried++;
    CHECK(bad == 0, "fmt_g9 differs from snprintf %%.9g on %ld of %ld values", bad, tried);
    CHECK(half_up_differs > ties / 4, "negative control: rounding half up would print the same on %ld of %ld ties",
          ties - half_up_differs, ties);
    char b[32], c[32];
    const long longs[] = {0, 1, -1, 9, 10, 1234567890123L, LONG_MAX, LONG_MIN};
    int lbad = 0;
    for (size_t i = 0; i < sizeof longs / sizeof *longs; i++) {
        const int n = fmt_long(b, longs[i]);
        snprintf(c, sizeof c, "%ld", longs[i]);
        lbad += n != (int)strlen(c) || strcmp(b, c) != 0;
    }
    CHECK(lbad == 0, "fmt_long differs from %%ld on %d values", lbad);
}

// wfile_write adds bytes like wfile_printf, flushing when the buffer is full.
static void test_wfile_write(void) {
    char path[BNLAB_PATH_MAX];
    in_dir(path, "write.csv");
    wfile_t w;
    CHECK(wfile_open(&w, path, 0) == 0, "%s", bnlab_errmsg());
    static char want[3 * WFILE_BUF];
    size_t n = 0;
    for (int i = 0; n + 40 < sizeof want; i++) {
        char row[40];
        int k = snprintf(row, sizeof row, "%d,row %d\n", i, i * 7);
        if (i % 2) wfile_write(&w, row, (size_t)k);
        else wfile_printf(&w, "%s", row);
        memcpy(want + n, row, (size_t)k), n += (size_t)k;
    }
    CHECK(wfile_close(&w) == 0, "%s", bnlab_errmsg());
    char *text = contents(path);
    CHECK(text && strlen(text) == n && memcmp(text, want, n) == 0, "wfile_write: the file is not the rows written");
    free(text);
    unlink(path);
}

int main(void) {
    if (!mkdtemp(dir)) return 1;
    test_full_device();
    test_size_limit();
    test_stale_temps();
    test_log_headers();
    test_fmt_g9();
    test_wfile_write();
    rmdir(dir);
    return check_summary("writer");
}
