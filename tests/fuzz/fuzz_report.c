// libFuzzer target: `bnlab report` end to end on hostile logs. A short real run (quick-bn, 120 steps, every log the
// report reads turned on) is trained once into a temporary directory; each input then replaces one of its files —
// the first byte picks which — and report_dir reads every log strictly, lays out every axis and writes the page, or
// refuses in one message. The file is restored after each input, so inputs are independent.
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/util.h"
#include "fuzz_input.h"
#include "lab/report.h"
#include "run/config.h"
#include "run/launch.h"
#include "run/train.h"

static char dir[64];
static const char *const FILES[] = {"metrics.csv", "histograms.csv", "percentiles.csv", "ics.csv",
                                    "layer_stats.csv", "summary.json", "config.json", "landscape_band.csv"};
#define NFILES (sizeof FILES / sizeof FILES[0])
static char *orig[NFILES];
static size_t orig_len[NFILES];

static void slurp(const char *path, char **out, size_t *len) {
    FILE *f = fopen(path, "rb");
    *out = NULL, *len = 0;
    if (!f) return;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    *out = malloc((size_t)n + 1);
    *len = fread(*out, 1, (size_t)n, f);
    fclose(f);
}

static void put(const char *path, const uint8_t *data, size_t size) {
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    if (size && fwrite(data, 1, size, f) != size) abort();
    fclose(f);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    snprintf(dir, sizeof dir, "/tmp/bnlab-fuzz-report-XXXXXX");
    if (!mkdtemp(dir)) abort();
    static const char *const set[] = {"train.epochs=null", "train.steps=120", "train.eval_every=20",
                                      "log.progress=\"never\"", "log.histograms.every=20", "log.percentiles.every=20",
                                      "log.ics_every=40", "log.landscape.every=60", "log.landscape.points=3",
                                      "train.checkpoint.every=0"};
    config_t c;
    if (config_load(&c, BNLAB_FUZZ_ROOT "/configs/quick-bn.json", set, sizeof set / sizeof set[0]) != 0 ||
        launch_start_dir(dir, &c) != 0) {
        fprintf(stderr, "fuzz_report: %s\n", bnlab_errmsg());
        abort();
    }
    trainer_t t;
    if (trainer_setup(&t, &c) != 0 || trainer_run(&t, dir, 0) != TRAIN_OK) {
        fprintf(stderr, "fuzz_report: %s\n", bnlab_errmsg());
        abort();
    }
    trainer_free(&t);
    for (size_t i = 0; i < NFILES; i++) {
        char p[256];
        snprintf(p, sizeof p, "%s/%s", dir, FILES[i]);
        slurp(p, &orig[i], &orig_len[i]);
    }
    if (report_dir(dir) != 0) {  // the untouched run must give a page
        fprintf(stderr, "fuzz_report: the template run: %s\n", bnlab_errmsg());
        abort();
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    size_t i = data[0] % NFILES;
    char p[256];
    snprintf(p, sizeof p, "%s/%s", dir, FILES[i]);
    put(p, data + 1, size - 1);
    (void)report_dir(dir);  // a page or one message; the sanitizers and libFuzzer's timeout judge the rest
    if (orig[i]) put(p, (const uint8_t *)orig[i], orig_len[i]);
    else remove(p);
    return 0;
}
