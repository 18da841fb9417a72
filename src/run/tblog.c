#include "run/tblog.h"

#include <errno.h>
#include <stddef.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/crc32c.h"
#include "io/tfrecord.h"
#include "run/infer.h"
#include "run/rundir.h"

// TensorBoard's wall_time: seconds since 1970 (its "relative" and "wall" axes), not the run's monotonic clock.
static double wall_time(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

// An Event too large for tb->rec is a bug (tags and bucket counts are bounded): reported as a failed write, like a
// row too long for a CSV log's buffer.
static void emit(tblog_t *tb, const pb_buf_t *b) {
    if (b->overflow) {
        if (!tb->out.err) tb->out.err = EOVERFLOW;
        return;
    }
    tfrecord_write(&tb->out, b->p, b->len);
}

static void scalar(tblog_t *tb, long step, const char *tag, double v) {
    pb_buf_t b;
    pb_init(&b, tb->rec, sizeof tb->rec);
    tf_event_scalar(&b, wall_time(), step, tag, (float)v);
    emit(tb, &b);
}

// ---- resume: the records a resumed run keeps

static uint64_t le_bytes(const uint8_t *p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

// A varint at *p (< end) into *v, advancing *p; -1 if it runs past end or over 10 bytes.
static int read_varint(const uint8_t **p, const uint8_t *end, uint64_t *v) {
    *v = 0;
    for (int shift = 0; *p < end && shift < 70; shift += 7) {
        uint8_t c = *(*p)++;
        *v |= (uint64_t)(c & 0x7F) << shift;
        if (!(c & 0x80)) return 0;
    }
    return -1;
}

// The step of an encoded Event (0 when absent, as in proto3); -1 if it does not parse.
static long event_step(const uint8_t *p, size_t n) {
    const uint8_t *end = p + n;
    long step = 0;
    while (p < end) {
        uint64_t key, v;
        if (read_varint(&p, end, &key) != 0) return -1;
        int wire = (int)(key & 7);
        if (wire == PB_VARINT) {
            if (read_varint(&p, end, &v) != 0) return -1;
            if (key >> 3 == 2) step = (long)v;
        } else if (wire == PB_LEN) {
            if (read_varint(&p, end, &v) != 0 || v > (uint64_t)(end - p)) return -1;
            p += v;
        } else if ((wire == PB_FIXED64 || wire == PB_FIXED32) && (size_t)(end - p) >= (wire == PB_FIXED64 ? 8u : 4u)) {
            p += wire == PB_FIXED64 ? 8 : 4;
        } else {
            return -1;
        }
    }
    return step;
}

// The field `field` of wire type LEN in the message at p (n bytes): its bytes into *out, *out_n; 0 found, -1 not.
static int len_field(const uint8_t *p, size_t n, int field, const uint8_t **out, size_t *out_n) {
    const uint8_t *end = p + n;
    while (p < end) {
        uint64_t key, v;
        if (read_varint(&p, end, &key) != 0) return -1;
        int wire = (int)(key & 7);
        if (wire == PB_VARINT) {
            if (read_varint(&p, end, &v) != 0) return -1;
        } else if (wire == PB_LEN) {
            if (read_varint(&p, end, &v) != 0 || v > (uint64_t)(end - p)) return -1;
            if ((int)(key >> 3) == field) {
                *out = p, *out_n = (size_t)v;
                return 0;
            }
            p += v;
        } else if ((wire == PB_FIXED64 || wire == PB_FIXED32) && (size_t)(end - p) >= (wire == PB_FIXED64 ? 8u : 4u)) {
            p += wire == PB_FIXED64 ? 8 : 4;
        } else {
            return -1;
        }
    }
    return -1;
}

// 1 if an encoded Event is a gradient histogram (its summary's value's tag ends in "/gradients").
static int event_is_gradients(const uint8_t *p, size_t n) {
    const uint8_t *sum, *val, *tag;
    size_t sn, vn, tn;
    static const char suffix[] = "/gradients";
    const size_t k = sizeof suffix - 1;
    return len_field(p, n, 5, &sum, &sn) == 0 && len_field(sum, sn, 1, &val, &vn) == 0 &&
           len_field(val, vn, 1, &tag, &tn) == 0 && tn >= k && !memcmp(tag + tn - k, suffix, k);
}

// Bytes of the whole, intact records at the start of data whose step is <= max_step. Events are written in step
// order, so the first one past max_step (or cut short, or corrupt) ends what is kept; and the gradient histograms of
// step max_step itself (written by on_step, after the checkpoint of that step: the resumed run measures them again)
// are left out.
static size_t records_to_keep(const uint8_t *data, size_t len, long max_step) {
    size_t off = 0, grad_from = SIZE_MAX;  // where a run of step max_step's gradient records began
    while (len - off >= TFRECORD_HEADER + TFRECORD_FOOTER) {
        const uint8_t *r = data + off;
        uint64_t n = le_bytes(r, 8);
        if (le_bytes(r + 8, 4) != tfrecord_mask(crc32c(r, 8)) ||
            n > len - off - TFRECORD_HEADER - TFRECORD_FOOTER ||
            le_bytes(r + TFRECORD_HEADER + n, 4) != tfrecord_mask(crc32c(r + TFRECORD_HEADER, n)))
            break;
        long s = event_step(r + TFRECORD_HEADER, n);
        if (s < 0 || s > max_step) break;
        if (s == max_step && event_is_gradients(r + TFRECORD_HEADER, n)) {
            if (grad_from == SIZE_MAX) grad_from = off;
        } else grad_from = SIZE_MAX;
        off += TFRECORD_HEADER + n + TFRECORD_FOOTER;
    }
    return grad_from != SIZE_MAX ? grad_from : off;
}

static int truncate_events(const char *path, long max_step) {
    if (!path_exists(path)) return 0;
    char *data;
    size_t len;
    if (read_whole_file(path, (size_t)1 << 34, &data, &len) != 0) return -1;
    size_t keep = records_to_keep((const uint8_t *)data, len, max_step);
    free(data);
    if (keep < len && truncate(path, (off_t)keep) != 0)
        return bnlab_fail("%s: cannot truncate to the resumed step: %s", path, strerror(errno));
    return 0;
}

// ---- the hooks

static int tblog_open(void *st, const rec_view_t *v, const char *run_dir, int append) {
    tblog_t *tb = st;
    memset(tb, 0, offsetof(tblog_t, rec));
    char dir[BNLAB_PATH_MAX], path[BNLAB_PATH_MAX];
    rundir_file(dir, sizeof dir, run_dir, TBLOG_DIR);
    rundir_file(path, sizeof path, dir, TBLOG_FILE);
    if (make_dirs(dir) != 0 || (append && truncate_events(path, v->step) != 0)) return -1;
    if (wfile_open(&tb->out, path, append) != 0) return -1;
    tb->on = 1;
    tb->n_layers = v->model->n_layers;
    tb->hist = xcalloc((size_t)tb->n_layers, sizeof *tb->hist, "tensorboard histograms");
    tb->grad = xcalloc((size_t)tb->n_layers, sizeof *tb->grad, "tensorboard histograms");
    if (tb->out.was_empty) {
        pb_buf_t b;
        pb_init(&b, tb->rec, sizeof tb->rec);
        tf_event_version(&b, wall_time(), TBLOG_VERSION);
        emit(tb, &b);
    }
    return wfile_check(&tb->out);
}

// A value metrics.csv leaves empty (not measured: the train columns of step 0) gets no event either.
static void scalar_if_finite(tblog_t *tb, long step, const char *tag, double v) {
    if (isfinite(v)) scalar(tb, step, tag, v);
}

static void tblog_metrics(void *st, const rec_view_t *v) {
    tblog_t *tb = st;
    const metrics_row_t *row = v->row;
    if (!tb->on) return;
    scalar_if_finite(tb, row->step, "loss/train", row->train_loss);
    scalar_if_finite(tb, row->step, "loss/test", row->test_loss);
    scalar_if_finite(tb, row->step, "accuracy/train", row->train_acc);
    scalar_if_finite(tb, row->step, "accuracy/test", row->test_acc);
    scalar_if_finite(tb, row->step, "lr", row->lr);
    scalar_if_finite(tb, row->step, "loss/test_batchstats", row->test_loss_bs);  // log.eval_batch_stats only
    scalar_if_finite(tb, row->step, "accuracy/test_batchstats", row->test_acc_bs);
}

// Pass 1 over values: the range, count and sums.
static void acc_range(tblog_hist_t *h, const float *v, size_t n) {
    double sum = 0, sq = 0;
    for (size_t k = 0; k < n; k++) {
        double y = v[k];
        sum += y, sq += y * y;
        if (y < h->min) h->min = y;
        if (y > h->max) h->max = y;
    }
    h->num += (double)n, h->sum += sum, h->sum_squares += sq;
}

// Pass 2: the same values into the buckets of the range pass 1 found.
static void acc_count(tblog_hist_t *h, const float *v, size_t n) {
    const double w = (h->max - h->min) / TBLOG_BUCKETS;
    for (size_t k = 0; k < n; k++) {
        double j = w > 0 ? floor((v[k] - h->min) / w) : 0;
        h->count[j < 0 ? 0 : j >= TBLOG_BUCKETS ? TBLOG_BUCKETS - 1 : (int)j]++;
    }
}

static void hist_range(void *ctx, const model_t *m, uint32_t start, int B, const int32_t *labels) {
    (void)start, (void)labels;
    tblog_hist_t *h = ctx;
    for (int i = 0; i < m->n_layers; i++) acc_range(&h[i], m->layers[i].y, (size_t)B * (size_t)m->layers[i].out);
}

static void hist_count(void *ctx, const model_t *m, uint32_t start, int B, const int32_t *labels) {
    (void)start, (void)labels;
    tblog_hist_t *h = ctx;
    for (int i = 0; i < m->n_layers; i++) acc_count(&h[i], m->layers[i].y, (size_t)B * (size_t)m->layers[i].out);
}

static void hist_reset(tblog_hist_t *h) {
    memset(h, 0, sizeof *h);
    h->min = INFINITY, h->max = -INFINITY;
}

static void write_histogram(tblog_t *tb, long step, const char *tag, const tblog_hist_t *h) {
    double limit[TBLOG_BUCKETS];
    const int n = h->max > h->min ? TBLOG_BUCKETS : 1;
    const double w = (h->max - h->min) / TBLOG_BUCKETS;
    for (int j = 0; j < n; j++) limit[j] = j == n - 1 ? h->max : h->min + (j + 1) * w;
    tf_histo_t th = {.min = h->min, .max = h->max, .num = h->num, .sum = h->sum, .sum_squares = h->sum_squares,
                     .n = n, .limit = limit, .count = h->count};
    pb_buf_t b;
    pb_init(&b, tb->rec, sizeof tb->rec);
    tf_event_histo(&b, wall_time(), step, tag, &th);
    emit(tb, &b);
}

static void probe_histograms(tblog_t *tb, const rec_view_t *v) {
    for (int i = 0; i < tb->n_layers; i++) hist_reset(&tb->hist[i]);
    rec_probe_pass(v, v->probe_n, MODE_EVAL, hist_range, tb->hist, NULL);
    rec_probe_pass(v, v->probe_n, MODE_EVAL, hist_count, tb->hist, NULL);
    for (int i = 0; i < tb->n_layers; i++) {
        const tblog_hist_t *h = &tb->hist[i];
        if (!isfinite(h->min) || !isfinite(h->max) || !isfinite(h->sum_squares)) continue;
        char tag[64];
        snprintf(tag, sizeof tag, "layer%d_%s/outputs", i, layer_kind_name(v->model->layers[i].spec.kind));
        write_histogram(tb, v->step, tag, h);
    }
}

static void tblog_epoch(void *st, const rec_view_t *v) {
    tblog_t *tb = st;
    const long step = v->step;
    if (!tb->on) return;
    for (int i = 0; i < tb->n_layers; i++) {
        const layer_t *l = &v->model->layers[i];
        double mean, std, sat;
        act_acc_summary(&v->epoch_stats->acc[i], layer_kind(l->spec.kind)->saturates, &mean, &std, &sat);
        char tag[64];
        int k = snprintf(tag, sizeof tag, "layer%d_%s/", i, layer_kind_name(l->spec.kind));
        snprintf(tag + k, sizeof tag - (size_t)k, "mean");
        scalar(tb, step, tag, mean);
        snprintf(tag + k, sizeof tag - (size_t)k, "std");
        scalar(tb, step, tag, std);
        snprintf(tag + k, sizeof tag - (size_t)k, "saturation");
        if (sat >= 0) scalar(tb, step, tag, sat);
    }
    if (v->probe_n > 0) probe_histograms(tb, v);
}

// A layer whose output is a nonlinearity's input: gradients.csv's act_input sites (run/gradstats.h).
static int grad_site(const model_t *m, int i) {
    return i + 1 < m->n_layers && layer_kind(m->layers[i + 1].spec.kind)->nonlinearity;
}

// The step's gradient histograms (log.gradients_every), before the recorders after this one (ICS) replay the step
// and overwrite the gradients.
static void tblog_step(void *st, const rec_view_t *v) {
    tblog_t *tb = st;
    const long every = v->cfg->log.gradients_every;
    if (!tb->on || every <= 0 || v->step % every != 0) return;
    const model_t *m = v->model;
    for (int i = 0; i < tb->n_layers; i++) {
        if (!grad_site(m, i)) continue;
        tblog_hist_t *h = &tb->grad[i];
        const size_t n = (size_t)v->batch * (size_t)m->layers[i].out;
        hist_reset(h);
        acc_range(h, m->layers[i].dy, n);
        if (!isfinite(h->min) || !isfinite(h->max) || !isfinite(h->sum_squares)) continue;
        acc_count(h, m->layers[i].dy, n);
        char tag[64];
        snprintf(tag, sizeof tag, "layer%d_%s/gradients", i, layer_kind_name(m->layers[i].spec.kind));
        write_histogram(tb, v->step, tag, h);
    }
}

static int tblog_check(const void *st) {
    const tblog_t *tb = st;
    return tb->on ? wfile_check(&tb->out) : 0;
}

static int tblog_close(void *st) {
    tblog_t *tb = st;
    if (!tb->on) return 0;
    free(tb->hist), free(tb->grad);
    tb->hist = tb->grad = NULL;
    tb->on = 0;
    return wfile_close(&tb->out);
}

static int tblog_enabled(const config_t *c) { return c->log.tensorboard; }

const recorder_t TENSORBOARD_RECORDER = {
    .name = "tensorboard",
    .files = {{TBLOG_DIR "/" TBLOG_FILE, NULL, REC_RESUME_BY_OPEN, REC_TFEVENTS, .wall_time = 1}},
    .enabled = tblog_enabled, .turn_on = "log.tensorboard=true",
    .state_size = sizeof(tblog_t),
    .open = tblog_open, .on_step = tblog_step, .on_eval = tblog_metrics,
    .on_epoch = tblog_epoch, .check = tblog_check,
    .close = tblog_close,
};
