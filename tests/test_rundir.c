// The run directory module and the CSV column lookup: resume truncation (the table of recorders walking each log
// file with its rule, run/recorders.h) finds "step" and "seconds" by name (a
// log whose columns are reordered truncates the same), the one completed-status test on every kind of
// summary.json, and readers' errors when a column is missing.
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/util.h"
#include "check.h"
#include "io/csvtable.h"
#include "lab/summary.h"
#include "run/ics.h"
#include "run/percentiles.h"
#include "run/recorders.h"
#include "run/rundir.h"
#include "run/runlog.h"

static char dir[] = "/tmp/bnlab-rundir-XXXXXX";

static void put(const char *name, const char *text) {
    char path[BNLAB_PATH_MAX];
    rundir_file(path, sizeof path, dir, name);
    CHECK(write_file_atomic(path, text, strlen(text)) == 0, "write %s: %s", name, bnlab_errmsg());
}

// The file's contents ("" if missing), caller frees.
static char *get(const char *name) {
    char path[BNLAB_PATH_MAX], *text;
    size_t len;
    rundir_file(path, sizeof path, dir, name);
    if (read_whole_file(path, 1 << 20, &text, &len) != 0) {
        text = malloc(1);
        text[0] = '\0';
    }
    return text;
}

static void check_file(const char *name, const char *want) {
    char *got = get(name);
    CHECK(!strcmp(got, want), "%s after truncation:\n%s\nwant:\n%s", name, got, want);
    free(got);
}

static void remove_logs(void) {
    const char *logs[] = {RUNDIR_METRICS_CSV, RUNDIR_METRICS_JSONL, RUNDIR_LAYER_STATS, RUNDIR_PERCENTILES,
                          RUNDIR_ICS, RUNDIR_SUMMARY};
    for (size_t i = 0; i < sizeof logs / sizeof logs[0]; i++) {
        char path[BNLAB_PATH_MAX];
        rundir_file(path, sizeof path, dir, logs[i]);
        unlink(path);
    }
}

static void test_truncate(void) {
    remove_logs();
    put(RUNDIR_METRICS_CSV, RUNDIR_METRICS_HEADER "100,1,2,0.5,2,0.5,0.1,1.5\n200,2,1,0.7,1,0.7,0.1,3.25\n"
                            "300,3,1,0.8,1,0.8,0.1,4.75\n400,4,1,0.9");  // the last line was cut by a kill
    put(RUNDIR_METRICS_JSONL, "{\"step\":100,\"seconds\":1.5}\n{\"step\":200,\"seconds\":3.25}\n{\"step\":300}\n");
    put(RUNDIR_LAYER_STATS, RUNDIR_LAYER_STATS_HEADER "1,100,train,0,dense,4,0,1,-1,1,\n2,200,train,0,dense,4,0,1,-1,1,\n"
                            "3,300,train,0,dense,4,0,1,-1,1,\n");
    put(RUNDIR_PERCENTILES, RUNDIR_PERCENTILES_FIXED ",p50\n100,1,1,sigmoid,0,60,0.5\n200,1,1,sigmoid,0,60,0.6\n");
    // ics.csv with its columns in another order: "step" is the last column, not the first.
    put(RUNDIR_ICS, "layer,dense,grad_norm,l2_diff,cosine,step\n2,2,1,0.1,0.9,100\n2,2,1,0.1,0.9,200\n");
    double secs = -1;
    CHECK(recorders_truncate(dir, 200, &secs) == 0, "truncate: %s", bnlab_errmsg());
    CHECK_NEAR(secs, 3.25, 0, "seconds of the last kept metrics row");
    check_file(RUNDIR_METRICS_CSV, RUNDIR_METRICS_HEADER "100,1,2,0.5,2,0.5,0.1,1.5\n200,2,1,0.7,1,0.7,0.1,3.25\n");
    check_file(RUNDIR_METRICS_JSONL, "{\"step\":100,\"seconds\":1.5}\n{\"step\":200,\"seconds\":3.25}\n");
    check_file(RUNDIR_LAYER_STATS, RUNDIR_LAYER_STATS_HEADER "1,100,train,0,dense,4,0,1,-1,1,\n2,200,train,0,dense,4,0,1,-1,1,\n");
    check_file(RUNDIR_PERCENTILES, RUNDIR_PERCENTILES_FIXED ",p50\n100,1,1,sigmoid,0,60,0.5\n");  // step < S
    check_file(RUNDIR_ICS, "layer,dense,grad_norm,l2_diff,cosine,step\n2,2,1,0.1,0.9,100\n");

    // metrics.csv reordered: seconds first, step third. The same rows go, the same clock comes back.
    remove_logs();
    put(RUNDIR_METRICS_CSV, "seconds,epoch,step,test_acc\n1.5,1,100,0.5\n3.25,2,200,0.7\n4.75,3,300,0.8\n");
    CHECK(recorders_truncate(dir, 200, &secs) == 0, "truncate reordered: %s", bnlab_errmsg());
    CHECK_NEAR(secs, 3.25, 0, "seconds found by name in a reordered metrics.csv");
    check_file(RUNDIR_METRICS_CSV, "seconds,epoch,step,test_acc\n1.5,1,100,0.5\n3.25,2,200,0.7\n");

    // A header without "step": an error naming the file and the column, and the log left as it was.
    put(RUNDIR_LAYER_STATS, "epoch,source,layer\n1,train,0\n");
    CHECK(recorders_truncate(dir, 200, &secs) != 0, "a log without a step column was truncated");
    CHECK_MSG(bnlab_errmsg(), RUNDIR_LAYER_STATS ": no column \"step\" in its header");
    check_file(RUNDIR_LAYER_STATS, "epoch,source,layer\n1,train,0\n");
    remove_logs();
    CHECK(recorders_truncate(dir, 5, &secs) == 0 && secs == 0.0, "no logs at all is fine");
}

static void test_status(void) {
    remove_logs();
    CHECK(rundir_status(dir) == RUN_NO_STATUS && !rundir_completed(dir), "missing summary.json");
    put(RUNDIR_SUMMARY, "{\"status\": \"completed\", \"steps\": 10}\n");
    CHECK(rundir_completed(dir), "completed");
    put(RUNDIR_SUMMARY, "{\"status\": \"diverged\", \"steps\": 10}\n");
    CHECK(rundir_status(dir) == RUN_DIVERGED && !rundir_completed(dir), "diverged");
    put(RUNDIR_SUMMARY, "{\"status\": \"interrupted\"}\n");
    CHECK(rundir_status(dir) == RUN_INTERRUPTED, "interrupted");
    put(RUNDIR_SUMMARY, "{\"status\": \"failed\"}\n");
    CHECK(rundir_status(dir) == RUN_FAILED, "failed");
    // Garbled: cut mid-write, the word "completed" elsewhere, a status of the wrong type or an unknown one.
    const char *garbled[] = {"{\"status\": \"compl", "{\"status\": \"diverged\", \"note\": \"completed\"}",
                             "{\"status\": 1}", "{\"status\": \"completed!\"}", "[\"completed\"]", ""};
    for (size_t i = 0; i < sizeof garbled / sizeof garbled[0]; i++) {
        put(RUNDIR_SUMMARY, garbled[i]);
        CHECK(!rundir_completed(dir), "garbled summary.json taken as completed: %s", garbled[i]);
    }
    put(RUNDIR_SUMMARY, "{\"status\": \"completed\"}\n");
    CHECK(rundir_forget_status(dir) == 0 && rundir_status(dir) == RUN_NO_STATUS, "forget_status");
    CHECK(rundir_forget_status(dir) == 0, "forgetting a missing status is fine");
    CHECK(!strcmp(run_status_name(RUN_COMPLETED), "completed") && !strcmp(run_status_name(RUN_DIVERGED), "diverged") &&
              !strcmp(run_status_name(RUN_INTERRUPTED), "interrupted") && !strcmp(run_status_name(RUN_FAILED), "failed"),
          "status names");
}

static void test_csv_columns(void) {
    const char *h = "step,epoch,test_acc,seconds\n";
    CHECK(csv_header_index(h, "step") == 0 && csv_header_index(h, "test_acc") == 2 && csv_header_index(h, "seconds") == 3,
          "header index");
    CHECK(csv_header_index(h, "test") == -1 && csv_header_index(h, "acc") == -1, "no prefix or suffix matches");
    CHECK(csv_column(h, "lr", "x/metrics.csv") == -1, "missing column");
    CHECK_MSG(bnlab_errmsg(), "x/metrics.csv: no column \"lr\" in its header");
    double v;
    long n;
    CHECK(csv_field_double("1,,3\n", 1, &v) != 0, "an empty field is not a number");
    CHECK(csv_field_double("1,2x,3\n", 1, &v) != 0, "a field must be a number to its end");
    CHECK(csv_field_double("1,2.5,3\n", 1, &v) == 0 && v == 2.5, "middle field");
    CHECK(csv_field_long("1,2,37\n", 2, &n) == 0 && n == 37, "last field");
    CHECK(csv_field_long("1,2\n", 2, &n) != 0, "past the last field");
    CHECK(csv_field_is("a,train,b", 1, "train") && !csv_field_is("a,trainx,b", 1, "train"), "field equality");

    // curve_read finds step and test_acc by name: reordered columns read the same; a missing one is named.
    remove_logs();
    put(RUNDIR_METRICS_CSV, "test_acc,lr,step\n0.5,0.1,100\n0.9,0.1,200\n");
    char path[BNLAB_PATH_MAX];
    rundir_file(path, sizeof path, dir, RUNDIR_METRICS_CSV);
    curve_t c;
    CHECK(curve_read(&c, path) == 0 && c.n == 2 && c.step[1] == 200 && c.acc[1] == 0.9, "reordered metrics: %s",
          bnlab_errmsg());
    curve_free(&c);
    put(RUNDIR_METRICS_CSV, "step,epoch,train_loss\n100,1,2\n");
    CHECK(curve_read(&c, path) != 0, "metrics.csv without test_acc was read");
    CHECK_MSG(bnlab_errmsg(), "metrics.csv: no column \"test_acc\" in its header");
    remove_logs();
}

static void test_names(void) {
    CHECK(name_valid("fig1") && name_valid("bn-lr0.5") && name_valid("a_b.c"), "good names");
    CHECK(!name_valid("") && !name_valid(".") && !name_valid("..") && !name_valid("a/b") && !name_valid("a b") &&
              !name_valid("é"),
          "bad names");
    char p[BNLAB_PATH_MAX];
    rundir_of_seed(p, sizeof p, "out", "bn", 3);
    CHECK(!strcmp(p, "out/bn/seed-3"), "seed run path %s", p);
    rundir_seed_log(p, sizeof p, "out", "bn", 3);
    CHECK(!strcmp(p, "out/bn/seed-3.log"), "seed log path %s", p);
    double q[3] = {15, 50, 2.5};
    rundir_percentiles_header(p, sizeof p, q, 3);
    CHECK(!strcmp(p, "step,hidden,layer,layer_type,unit,n,p15,p50,p2.5\n"), "percentiles header %s", p);
    strbuf_t b = {0};
    for (int i = 0; i < 1000; i++) strbuf_printf(&b, "%d,", i);
    CHECK(b.len == strlen(b.s) && !strncmp(b.s, "0,1,2,", 6) && !strcmp(b.s + b.len - 4, "999,"), "strbuf");
    free(b.s);
}

// FNV-1a 64 against the published test vectors.
static void test_fnv(void) {
    CHECK(fnv1a64("", 0) == 0xcbf29ce484222325u, "fnv1a64 of nothing");
    CHECK(fnv1a64("a", 1) == 0xaf63dc4c8601ec8cu, "fnv1a64 of a");
    CHECK(fnv1a64("foobar", 6) == 0x85944171f73967e8u, "fnv1a64 of foobar");
}

// The exit status of a child that tries to lock d: 0 locked, 1 refused (its message must name d and pid).
static int lock_in_child(const char *d, long pid) {
    pid_t c = fork();
    if (c == 0) {
        int fd = rundir_lock(d);
        char want[64];
        snprintf(want, sizeof want, "PID %ld", pid);
        _exit(fd >= 0 ? 0 : strstr(bnlab_errmsg(), d) && strstr(bnlab_errmsg(), want) ? 1 : 2);
    }
    int st;
    waitpid(c, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

// One writer: a second process is refused while the first holds the lock, and may lock once it closed it (as
// when it exits, however it exits).
static void test_lock(void) {
    char d[BNLAB_PATH_MAX];
    rundir_file(d, sizeof d, dir, "locked/run");
    int fd = rundir_lock(d);  // makes the directory too
    CHECK(fd >= 0, "lock: %s", bnlab_errmsg());
    char *pid = get("locked/run/" RUNDIR_LOCK);
    CHECK(strtol(pid, NULL, 10) == (long)getpid(), "the lock file holds %s", pid);
    free(pid);
    CHECK(lock_in_child(d, (long)getpid()) == 1, "a second writer was not refused with the directory and PID");
    close(fd);
    CHECK(lock_in_child(d, 0) == 0, "the lock outlived its holder");
    CHECK(rundir_remove(d) == 0 && !path_exists(d), "remove a run directory: %s", bnlab_errmsg());
    rundir_file(d, sizeof d, dir, "locked");
    rmdir(d);
}

// The digest tells configs apart, and only a run started with the same one matches it.
static void test_digest(void) {
    cJSON *a = cJSON_Parse("{\"seed\": 1, \"train\": {\"steps\": 4000}}");
    cJSON *b = cJSON_Parse("{\"seed\": 1, \"train\": {\"steps\": 500}}");
    char da[RUNDIR_DIGEST_CHARS], db[RUNDIR_DIGEST_CHARS];
    rundir_config_digest(a, da), rundir_config_digest(b, db);
    CHECK(strlen(da) == 24 && !strncmp(da, "fnv1a64:", 8) && strcmp(da, db), "digests %s %s", da, db);
    CHECK(!rundir_same_config(dir, a), "a directory without a digest matched");
    CHECK(rundir_write_digest(dir, a) == 0, "write digest: %s", bnlab_errmsg());
    CHECK(rundir_same_config(dir, a) && !rundir_same_config(dir, b), "digest comparison");
    char path[BNLAB_PATH_MAX];
    rundir_file(path, sizeof path, dir, RUNDIR_DIGEST);
    unlink(path);
    cJSON_Delete(a), cJSON_Delete(b);
}

int main(void) {
    if (!mkdtemp(dir)) return 1;
    test_fnv();
    test_lock();
    test_digest();
    test_truncate();
    test_status();
    test_csv_columns();
    test_names();
    rmdir(dir);
    return check_summary("rundir");
}
