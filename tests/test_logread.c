// view/logread.h: a log read strictly (a malformed row is one message naming file, line, column, expected and
// found; a last line cut short is skipped), and the rows of several seeds reduced to their median per step, thinned.
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "base/util.h"
#include "view/logread.h"

static char dir[] = "/tmp/bnlab-logread-XXXXXX";

static void put(const char *path, const char *text) {
    CHECK(write_file_atomic(path, text, strlen(text)) == 0, "write %s: %s", path, bnlab_errmsg());
}

// Reads column "v" of every row: the number of rows, or -1 (the message in bnlab_errmsg()).
static int read_all(const char *path, double *sum) {
    csv_table_t t;
    int rc = logread_open(&t, path), n = 0, col;
    if (rc != 0) return rc == 1 ? -2 : -1;
    *sum = 0;
    if ((col = logread_column(&t, path, "v")) < 0) rc = -1;
    double v;
    long step;
    while (rc == 0 && (rc = logread_next(&t, path)) == 1) {
        rc = logread_integer(&t, path, 0, 0, 1000, &step) || logread_number(&t, path, col, &v) ? -1 : 0;
        if (rc == 0) n++, *sum += v;
    }
    csv_table_free(&t);
    return rc < 0 ? -1 : n;
}

static void test_strict(void) {
    char path[256];
    double sum;
    snprintf(path, sizeof path, "%s/log.csv", dir);
    CHECK(read_all(path, &sum) == -2, "an absent log is 'not logged', not an error");
    put(path, "step,v\n0,1.5\n10,2.5\n20,3");  // a last row without its newline: being written
    CHECK(read_all(path, &sum) == 2 && sum == 4, "the row cut short is skipped: %g", sum);
    put(path, "step,v\n0,1.5\n10,nan\n20,-inf\n");
    CHECK(read_all(path, &sum) == 3, "nan and inf are numbers (a diverged run): %s", bnlab_errmsg());
    put(path, "step,v\n0,1.5\n10,abc\n20,3\n");
    CHECK(read_all(path, &sum) == -1, "a field that is not a number fails");
    CHECK_MSG(bnlab_errmsg(), "log.csv: line 3, column \"v\": expected a number, found \"abc\"");
    put(path, "step,v\n0,1.5\n10\n");
    CHECK(read_all(path, &sum) == -1, "a short row fails");
    CHECK_MSG(bnlab_errmsg(), "log.csv: line 3: 1 fields, expected 2 (its header's)");
    put(path, "step,v\n0,1.5,7\n");
    CHECK(read_all(path, &sum) == -1, "a long row fails");
    put(path, "step,v\n-5,1\n");
    CHECK(read_all(path, &sum) == -1, "a step out of range fails");
    CHECK_MSG(bnlab_errmsg(), "column \"step\": expected an integer in [0, 1000], found \"-5\"");
    // The one rule (issue 22): a number fills its field as bnlab writes it. Each of these is refused, naming it.
    const char *bad[] = {"1e999", "-1e999", " 5", "5 ", "+5", "0x10", "infinity", "nan(1)", "1,5", "", "1e", "--1", "abc"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        char text[96];
        snprintf(text, sizeof text, "step,v\n0,1\n10,%s\n", bad[k]);
        put(path, text);
        CHECK(read_all(path, &sum) == -1, "\"%s\" read as a number", bad[k]);
    }
    const char *bad_int[] = {"007", "00", "+7", "-0", "7.0", "1e3", " 7", ""};
    for (size_t k = 0; k < sizeof bad_int / sizeof bad_int[0]; k++) {
        char text[96];
        snprintf(text, sizeof text, "step,v\n%s,1\n", bad_int[k]);
        put(path, text);
        CHECK(read_all(path, &sum) == -1, "\"%s\" read as a step (an integer as bnlab writes one)", bad_int[k]);
    }
    double d;
    CHECK(logread_parse_number("1e-999", 6, &d) == 0 && d == 0, "an underflow is a number (0)");
    CHECK(logread_parse_number("-2.5e-3", 7, &d) == 0 && d == -2.5e-3, "-2.5e-3");
    long l;
    CHECK(logread_parse_integer("0", 1, &l) == 0 && l == 0 && logread_parse_integer("-12", 3, &l) == 0 && l == -12,
          "0 and -12 are integers");
    put(path, "step,w\n0,1\n");
    CHECK(read_all(path, &sum) == -1, "a missing column fails");
    CHECK_MSG(bnlab_errmsg(), "no column \"v\"");
    unlink(path);
}

static void test_median(void) {
    series_t s, m;
    series_init(&s, 2);
    // three seeds at steps 0 and 10, two at step 20 (one seed still going), one NaN at step 10
    const double rows[][2] = {{10, 5}, {0, 1}, {20, 7}, {0, 3}, {10, NAN}, {0, 2}, {10, 9}, {20, 8}};
    for (int i = 0; i < 8; i++) series_add(&s, rows[i]);
    series_median_by_step(&s, &m);
    CHECK(m.n == 3, "3 steps, got %d", m.n);
    CHECK(m.n == 3 && m.v[0] == 0 && m.v[1] == 2, "step 0: median of 1, 3, 2 = 2, got %g", m.v[1]);
    CHECK(m.n == 3 && m.v[2] == 10 && m.v[3] == 7, "step 10: median of 5, 9 (NaN left out) = 7, got %g", m.v[3]);
    CHECK(m.n == 3 && m.v[4] == 20 && m.v[5] == 7.5, "step 20: median of 7, 8 = 7.5, got %g", m.v[5]);
    series_free(&s), series_free(&m);
}

static void test_thin(void) {
    for (int n = 1; n <= 1200; n += 37) {
        series_t s;
        series_init(&s, 1);
        for (int i = 0; i < n; i++) {
            double r = i;
            series_add(&s, &r);
        }
        series_thin(&s, 500);
        int mono = 1;
        for (int i = 1; i < s.n; i++) mono &= s.v[i] > s.v[i - 1];
        CHECK(s.n == (n < 500 ? n : 500) && s.v[0] == 0 && s.v[s.n - 1] == n - 1 && mono,
              "n = %d: %d rows kept, first %g, last %g", n, s.n, s.v[0], s.v[s.n - 1]);
        series_free(&s);
    }
}

int main(void) {
    if (!mkdtemp(dir)) return 2;
    test_strict();
    test_median();
    test_thin();
    rmdir(dir);
    return check_summary("logread");
}
