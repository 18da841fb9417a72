#include "io/tfrecord.h"

#include <string.h>

#include "base/crc32c.h"

void pb_init(pb_buf_t *b, uint8_t *mem, size_t cap) {
    b->p = mem, b->len = 0, b->cap = cap, b->overflow = 0;
}

size_t pb_varint(uint8_t out[10], uint64_t v) {
    size_t n = 0;
    while (v >= 0x80) out[n++] = (uint8_t)(v | 0x80), v >>= 7;
    out[n++] = (uint8_t)v;
    return n;
}

size_t pb_varint_len(uint64_t v) {
    uint8_t tmp[10];
    return pb_varint(tmp, v);
}

static void put(pb_buf_t *b, const void *data, size_t n) {
    if (b->overflow || n > b->cap - b->len) {
        b->overflow = 1;
        return;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
}

static void put_varint(pb_buf_t *b, uint64_t v) {
    uint8_t tmp[10];
    put(b, tmp, pb_varint(tmp, v));
}

// Little-endian whatever the host: the wire format is.
static void put_le(pb_buf_t *b, uint64_t v, int bytes) {
    uint8_t tmp[8];
    for (int i = 0; i < bytes; i++) tmp[i] = (uint8_t)(v >> (8 * i));
    put(b, tmp, (size_t)bytes);
}

static uint64_t double_bits(double v) {
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    return u;
}

void pb_key(pb_buf_t *b, int field, int wire) { put_varint(b, (uint64_t)field << 3 | (uint64_t)wire); }

void pb_uint64(pb_buf_t *b, int field, uint64_t v) {
    pb_key(b, field, PB_VARINT);
    put_varint(b, v);
}

void pb_double(pb_buf_t *b, int field, double v) {
    pb_key(b, field, PB_FIXED64);
    put_le(b, double_bits(v), 8);
}

void pb_float(pb_buf_t *b, int field, float v) {
    uint32_t u;
    memcpy(&u, &v, sizeof u);
    pb_key(b, field, PB_FIXED32);
    put_le(b, u, 4);
}

void pb_bytes(pb_buf_t *b, int field, const void *data, size_t n) {
    pb_key(b, field, PB_LEN);
    put_varint(b, n);
    put(b, data, n);
}

void pb_packed_doubles(pb_buf_t *b, int field, const double *v, size_t n) {
    pb_key(b, field, PB_LEN);
    put_varint(b, 8 * (uint64_t)n);
    for (size_t i = 0; i < n; i++) put_le(b, double_bits(v[i]), 8);
}

// ---- Event messages. Sub-message lengths are computed first, so each message is written once, in place.
// Every field number here is below 16: its key is one byte.

// Bytes of a length-delimited field with a payload of n bytes.
static size_t len_field(size_t n) { return 1 + pb_varint_len(n) + n; }

enum { EVENT_WALL_TIME = 1, EVENT_STEP = 2, EVENT_FILE_VERSION = 3, EVENT_SUMMARY = 5 };
enum { SUMMARY_VALUE = 1 };
enum { VALUE_TAG = 1, VALUE_SIMPLE = 2, VALUE_HISTO = 5 };
enum { HISTO_MIN = 1, HISTO_MAX, HISTO_NUM, HISTO_SUM, HISTO_SUM_SQUARES, HISTO_LIMIT, HISTO_BUCKET };

void tf_event_version(pb_buf_t *b, double wall_time, const char *version) {
    pb_double(b, EVENT_WALL_TIME, wall_time);  // step 0: proto3 leaves a default out
    pb_bytes(b, EVENT_FILE_VERSION, version, strlen(version));
}

// Event{wall_time, step, summary{value{...}}} up to the value's own fields, whose bytes number value_len.
static void event_summary_head(pb_buf_t *b, double wall_time, int64_t step, size_t value_len) {
    pb_double(b, EVENT_WALL_TIME, wall_time);
    if (step != 0) pb_uint64(b, EVENT_STEP, (uint64_t)step);  // proto3 leaves a default out (metrics of step 0)
    pb_key(b, EVENT_SUMMARY, PB_LEN);
    put_varint(b, len_field(value_len));
    pb_key(b, SUMMARY_VALUE, PB_LEN);
    put_varint(b, value_len);
}

void tf_event_scalar(pb_buf_t *b, double wall_time, int64_t step, const char *tag, float value) {
    size_t tag_len = strlen(tag);
    event_summary_head(b, wall_time, step, len_field(tag_len) + 1 + 4);
    pb_bytes(b, VALUE_TAG, tag, tag_len);
    pb_float(b, VALUE_SIMPLE, value);
}

void tf_event_histo(pb_buf_t *b, double wall_time, int64_t step, const char *tag, const tf_histo_t *h) {
    size_t tag_len = strlen(tag), n = h->n > 0 ? (size_t)h->n : 0;
    size_t histo_len = 5 * (1 + 8) + (n ? 2 * len_field(8 * n) : 0);
    event_summary_head(b, wall_time, step, len_field(tag_len) + len_field(histo_len));
    pb_bytes(b, VALUE_TAG, tag, tag_len);
    pb_key(b, VALUE_HISTO, PB_LEN);
    put_varint(b, histo_len);
    pb_double(b, HISTO_MIN, h->min);
    pb_double(b, HISTO_MAX, h->max);
    pb_double(b, HISTO_NUM, h->num);
    pb_double(b, HISTO_SUM, h->sum);
    pb_double(b, HISTO_SUM_SQUARES, h->sum_squares);
    if (n) {  // packed repeated fields with no element are left out, as protobuf does
        pb_packed_doubles(b, HISTO_LIMIT, h->limit, n);
        pb_packed_doubles(b, HISTO_BUCKET, h->count, n);
    }
}

// ---- TFRecord framing

uint32_t tfrecord_mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }

static void le32(uint8_t *out, uint32_t v) {
    for (int i = 0; i < 4; i++) out[i] = (uint8_t)(v >> (8 * i));
}

void tfrecord_header(uint8_t out[TFRECORD_HEADER], uint64_t len) {
    for (int i = 0; i < 8; i++) out[i] = (uint8_t)(len >> (8 * i));
    le32(out + 8, tfrecord_mask(crc32c(out, 8)));
}

void tfrecord_footer(uint8_t out[TFRECORD_FOOTER], const void *data, size_t len) {
    le32(out, tfrecord_mask(crc32c(data, len)));
}

// Appends bytes to the writer's buffer, flushing when it is full. wfile_printf() formats text; these are binary
// bytes (NULs included), so they are copied into the same buffer under the same rules: nothing after a failure.
static void wfile_put(wfile_t *w, const void *data, size_t n) {
    const uint8_t *p = data;
    while (n > 0 && w->open && !w->err) {
        if (w->len == sizeof w->buf) wfile_flush(w);
        size_t k = sizeof w->buf - w->len < n ? sizeof w->buf - w->len : n;
        memcpy(w->buf + w->len, p, k);
        w->len += k, p += k, n -= k;
    }
}

void tfrecord_write(wfile_t *w, const void *data, size_t len) {
    uint8_t head[TFRECORD_HEADER], foot[TFRECORD_FOOTER];
    tfrecord_header(head, len);
    tfrecord_footer(foot, data, len);
    if (w->len + TFRECORD_HEADER + len + TFRECORD_FOOTER > sizeof w->buf) wfile_flush(w);  // whole, if it fits
    wfile_put(w, head, sizeof head);
    wfile_put(w, data, len);
    wfile_put(w, foot, sizeof foot);
    wfile_flush(w);
}
