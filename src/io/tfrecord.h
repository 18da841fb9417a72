// tfrecord.h — TensorBoard event files, encoded by hand: protocol-buffer fields, the Event / Summary messages
// TensorBoard reads, and the TFRecord framing around each. Field numbers are those of tensorboard/compat/proto
// (event.proto, summary.proto, histogram.proto):
//   Event          { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
//   Summary        { repeated Value value = 1; }
//   Summary.Value  { string tag = 1; float simple_value = 2; HistogramProto histo = 5; }
//   HistogramProto { double min = 1, max = 2, num = 3, sum = 4, sum_squares = 5;
//                    repeated double bucket_limit = 6 [packed]; repeated double bucket = 7 [packed]; }
// A TFRecord is: uint64 length (little-endian), uint32 masked CRC-32C of those 8 bytes, the data, uint32 masked
// CRC-32C of the data; mask(c) = ((c >> 15) | (c << 17)) + 0xa282ead8 (mod 2^32).
#ifndef BNLAB_TFRECORD_H
#define BNLAB_TFRECORD_H

#include <stddef.h>
#include <stdint.h>

#include "base/util.h"

// A message being encoded into caller-owned memory. Writing past cap sets overflow and writes nothing more (sizes
// here are bounded, so an overflow is a bug, reported by the caller).
typedef struct {
    uint8_t *p;
    size_t len, cap;
    int overflow;
} pb_buf_t;

enum { PB_VARINT = 0, PB_FIXED64 = 1, PB_LEN = 2, PB_FIXED32 = 5 };  // wire types

void pb_init(pb_buf_t *b, uint8_t *mem, size_t cap);
// Base-128 varint of v into out: 7 bits per byte, least significant first, high bit set on all but the last. Bytes.
size_t pb_varint(uint8_t out[10], uint64_t v);
// Bytes pb_varint(v) takes (1..10).
size_t pb_varint_len(uint64_t v);
// Field key: varint(field << 3 | wire).
void pb_key(pb_buf_t *b, int field, int wire);
// field, wire 0: varint(v); an int64 is its two's complement as uint64.
void pb_uint64(pb_buf_t *b, int field, uint64_t v);
// field, wire 1: the IEEE double's 8 bytes, little-endian.
void pb_double(pb_buf_t *b, int field, double v);
// field, wire 5: the IEEE float's 4 bytes, little-endian.
void pb_float(pb_buf_t *b, int field, float v);
// field, wire 2: varint(n), then n bytes (a string or an encoded sub-message).
void pb_bytes(pb_buf_t *b, int field, const void *data, size_t n);
// field, wire 2, packed: varint(8n), then n doubles of 8 bytes each.
void pb_packed_doubles(pb_buf_t *b, int field, const double *v, size_t n);

// A histogram as HistogramProto holds it: n buckets, bucket i counting count[i] values up to limit[i].
typedef struct {
    double min, max, num, sum, sum_squares;  // num: the number of values, a double in the proto
    int n;
    const double *limit, *count;             // (n) each
} tf_histo_t;

// Event{wall_time, step 0, file_version} into b: the first record of every event file ("brain.Event:2").
void tf_event_version(pb_buf_t *b, double wall_time, const char *version);
// Event{wall_time, step, summary{value{tag, simple_value}}} into b.
void tf_event_scalar(pb_buf_t *b, double wall_time, int64_t step, const char *tag, float value);
// Event{wall_time, step, summary{value{tag, histo}}} into b.
void tf_event_histo(pb_buf_t *b, double wall_time, int64_t step, const char *tag, const tf_histo_t *h);

#define TFRECORD_HEADER 12  // length + its masked CRC
#define TFRECORD_FOOTER 4   // masked CRC of the data
uint32_t tfrecord_mask(uint32_t crc);
// out = length (uint64 LE), masked CRC-32C of those 8 bytes (uint32 LE).
void tfrecord_header(uint8_t out[TFRECORD_HEADER], uint64_t len);
// out = masked CRC-32C of the len bytes of data (uint32 LE).
void tfrecord_footer(uint8_t out[TFRECORD_FOOTER], const void *data, size_t len);
// Appends the framed record to w's pending bytes and flushes: one write() per record when it fits the writer's
// buffer (records here are < 2 KB). Checked like every wfile write: a failure is kept for wfile_check().
void tfrecord_write(wfile_t *w, const void *data, size_t len);

#endif
