// TensorBoard event files, byte by byte: CRC-32C known answers (RFC 3720 B.4 and the usual check value), protobuf
// varints and fixed-width fields, whole Event messages spelled out by hand from the .proto field numbers, TFRecord
// framing (the 12 header bytes every TensorFlow event file starts with), and the checked writer: a record is
// written whole and a failed write (/dev/full) is kept for wfile_check. tests/tb_read.py reads real runs' files.
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "base/crc32c.h"
#include "base/util.h"
#include "check.h"
#include "io/tfrecord.h"

static int bytes_are(const uint8_t *got, size_t n_got, const char *hex) {
    size_t n = strlen(hex) / 2;
    if (n != n_got) return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1 || got[i] != v) return 0;
    }
    return 1;
}

static void dump(const char *what, const uint8_t *p, size_t n) {
    fprintf(stderr, "%s:", what);
    for (size_t i = 0; i < n; i++) fprintf(stderr, " %02x", p[i]);
    fputc('\n', stderr);
}

#define CHECK_BYTES(got, n, hex, what)                                          \
    do {                                                                        \
        int ok_ = bytes_are((got), (n), (hex));                                 \
        CHECK(ok_, "%s: want %s", (what), (hex));                               \
        if (!ok_) dump((what), (got), (n));                                     \
    } while (0)

static void test_crc32c(void) {
    uint8_t zeros[32] = {0}, ones[32], inc[32];
    memset(ones, 0xFF, sizeof ones);
    for (int i = 0; i < 32; i++) inc[i] = (uint8_t)i;
    CHECK(crc32c("123456789", 9) == 0xE3069283u, "check value: %08x", crc32c("123456789", 9));
    CHECK(crc32c(zeros, 32) == 0x8A9136AAu, "32 zeros: %08x", crc32c(zeros, 32));
    CHECK(crc32c(ones, 32) == 0x62A8AB43u, "32 0xFF: %08x", crc32c(ones, 32));
    CHECK(crc32c(inc, 32) == 0x46DD794Eu, "0..31: %08x", crc32c(inc, 32));
    CHECK(crc32c("", 0) == 0, "empty");
    CHECK(crc32c_extend(crc32c("1234", 4), "56789", 5) == 0xE3069283u, "extend = one pass");
    // CRC-32 (checkpoints): the check value, and zlib's crc32_z on the same bytes, whole and in pieces.
    CHECK(crc32_extend(0, "123456789", 9) == 0xCBF43926u, "CRC-32 check value: %08x", crc32_extend(0, "123456789", 9));
    unsigned char big[1000];
    for (int i = 0; i < 1000; i++) big[i] = (unsigned char)(i * 37 + (i >> 3));
    CHECK(crc32_extend(0, big, 1000) == (uint32_t)crc32_z(0L, big, 1000), "CRC-32 differs from zlib's");
    CHECK(crc32_extend(crc32_extend(0, big, 333), big + 333, 667) == (uint32_t)crc32_z(0L, big, 1000), "CRC-32 extend");
    CHECK(crc32_extend(0, big, 999) != (uint32_t)crc32_z(0L, big, 1000), "negative control: a byte short agrees");
    CHECK(tfrecord_mask(0) == 0xa282ead8u, "mask(0)");
    CHECK(tfrecord_mask(0x80000000u) == (0x00010000u + 0xa282ead8u), "mask rotates right by 15");
}

static void test_varints(void) {
    struct { uint64_t v; const char *hex; } cases[] = {
        {0, "00"}, {1, "01"}, {127, "7f"}, {128, "8001"}, {300, "ac02"}, {16383, "ff7f"}, {16384, "808001"},
        {(uint64_t)1 << 63, "80808080808080808001"}, {UINT64_MAX, "ffffffffffffffffff01"},
        {(uint64_t)(int64_t)-1, "ffffffffffffffffff01"},  // an int64 of -1 takes ten bytes
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t out[10];
        size_t n = pb_varint(out, cases[i].v);
        CHECK_BYTES(out, n, cases[i].hex, "varint");
        CHECK(pb_varint_len(cases[i].v) == n, "varint length of %llu", (unsigned long long)cases[i].v);
    }
}

static void test_fields(void) {
    uint8_t mem[64];
    pb_buf_t b;
    pb_init(&b, mem, sizeof mem);
    pb_double(&b, 1, 1.0);
    CHECK_BYTES(mem, b.len, "09000000000000f03f", "double field 1 = 1.0");
    pb_init(&b, mem, sizeof mem);
    pb_float(&b, 2, 1.0f);
    CHECK_BYTES(mem, b.len, "150000803f", "float field 2 = 1.0");
    pb_init(&b, mem, sizeof mem);
    pb_uint64(&b, 2, 150);
    CHECK_BYTES(mem, b.len, "109601", "varint field 2 = 150");
    pb_init(&b, mem, sizeof mem);
    pb_bytes(&b, 3, "ab", 2);
    CHECK_BYTES(mem, b.len, "1a026162", "string field 3");
    pb_init(&b, mem, sizeof mem);
    double v[2] = {1.0, -2.0};
    pb_packed_doubles(&b, 6, v, 2);
    CHECK_BYTES(mem, b.len, "3210000000000000f03f00000000000000c0", "packed doubles field 6");
    pb_init(&b, mem, 4);
    pb_bytes(&b, 3, "abcdef", 6);
    CHECK(b.overflow && b.len <= 4, "overflow flagged, nothing past cap (len %zu)", b.len);
}

// Whole Events, spelled out from the field numbers: the encoder's computed sub-message lengths must be right.
static void test_events(void) {
    uint8_t mem[512];
    pb_buf_t b;
    pb_init(&b, mem, sizeof mem);
    tf_event_version(&b, 0.0, "brain.Event:2");
    // wall_time (1, fixed64) 0.0; file_version (3, length 13): 24 bytes, as in every TensorFlow event file.
    CHECK_BYTES(mem, b.len, "0900000000000000001a0d627261696e2e4576656e743a32", "version event");
    pb_init(&b, mem, sizeof mem);
    tf_event_scalar(&b, 0.0, 5, "a", 1.0f);
    // step (2) 5; summary (5, 10 bytes) { value (1, 8 bytes) { tag (1) "a"; simple_value (2, fixed32) 1.0 } }
    CHECK_BYTES(mem, b.len, "0900000000000000001005" "2a0a" "0a08" "0a0161" "150000803f", "scalar event");
    pb_init(&b, mem, sizeof mem);
    double limit[1] = {2.0}, count[1] = {3.0};
    tf_histo_t h = {.min = 0.5, .max = 2.0, .num = 3.0, .sum = 4.0, .sum_squares = 6.0, .n = 1, .limit = limit,
                    .count = count};
    tf_event_histo(&b, 0.0, 1, "h", &h);
    // histo (5, 65 bytes): min, max, num, sum, sum_squares (1..5, fixed64), bucket_limit (6) and bucket (7) packed
    CHECK_BYTES(mem, b.len,
                "0900000000000000001001" "2a48" "0a46" "0a0168" "2a41"
                "09000000000000e03f" "110000000000000040" "190000000000000840" "210000000000001040"
                "290000000000001840" "32080000000000000040" "3a080000000000000840",
                "histogram event");
    pb_init(&b, mem, sizeof mem);
    h.n = 0;
    tf_event_histo(&b, 0.0, 1, "h", &h);
    // wall 9 + step 2 + summary key and length 2 (52 bytes) + value 2 + tag 3 + histo key and length 2 + 5 doubles 45
    CHECK(b.len == 65 && mem[12] == 52, "empty histogram leaves the packed fields out (%zu bytes)", b.len);
}

static void test_framing(void) {
    uint8_t head[TFRECORD_HEADER], foot[TFRECORD_FOOTER];
    tfrecord_header(head, 24);
    // The first 12 bytes of TensorFlow's event files (24-byte version record): length, masked CRC of it.
    CHECK_BYTES(head, sizeof head, "1800000000000000a37f4b22", "header of a 24-byte record");
    tfrecord_footer(foot, "", 0);
    CHECK_BYTES(foot, sizeof foot, "d8ea82a2", "footer of no data: mask(0)");
    tfrecord_footer(foot, "123456789", 9);
    uint32_t want = tfrecord_mask(0xE3069283u);
    CHECK(foot[0] == (want & 0xFF) && foot[3] == want >> 24, "footer: masked CRC, little-endian");

    char path[] = "/tmp/bnlab-tfrecord-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0, "mkstemp");
    close(fd);
    wfile_t w;
    CHECK(wfile_open(&w, path, 0) == 0, "open %s", bnlab_errmsg());
    tfrecord_write(&w, "123456789", 9);
    CHECK(w.len == 0, "a record is flushed whole");
    uint8_t big[10000];  // larger than the writer's buffer: written in pieces, still every byte
    for (size_t i = 0; i < sizeof big; i++) big[i] = (uint8_t)(i * 7);
    tfrecord_write(&w, big, sizeof big);
    CHECK(wfile_close(&w) == 0, "close: %s", bnlab_errmsg());
    char *got;
    size_t len;
    CHECK(read_whole_file(path, 1 << 20, &got, &len) == 0, "read back");
    CHECK(len == 12 + 9 + 4 + 12 + sizeof big + 4, "file length %zu", len);
    uint8_t h9[TFRECORD_HEADER];
    tfrecord_header(h9, 9);
    CHECK(memcmp(got, h9, 12) == 0 && memcmp(got + 12, "123456789", 9) == 0, "first record's bytes");
    tfrecord_footer(foot, "123456789", 9);
    CHECK(memcmp(got + 21, foot, 4) == 0, "first record's footer");
    CHECK(memcmp(got + 25 + 12, big, sizeof big) == 0, "second record's data");
    free(got);
    unlink(path);

    CHECK(wfile_open(&w, "/dev/full", 0) == 0, "open /dev/full");
    tfrecord_write(&w, "x", 1);
    CHECK(wfile_check(&w) != 0, "a failed record write is kept");
    CHECK_MSG(bnlab_errmsg(), "/dev/full: write failed");
    wfile_close(&w);
}

int main(void) {
    test_crc32c();
    test_varints();
    test_fields();
    test_events();
    test_framing();
    return check_summary("tfrecord");
}
