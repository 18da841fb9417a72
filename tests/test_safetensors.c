// safetensors: round trip of every dtype, and every class of hostile file rejected with a clear message.
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "io/safetensors.h"
#include "base/util.h"

static char path[] = "/tmp/bnlab-st-XXXXXX";

static void write_bytes(const void *b, size_t n) {
    FILE *f = fopen(path, "wb");
    fwrite(b, 1, n, f);
    fclose(f);
}

// A file from a header string and n data bytes (values 0..n-1).
static void write_file(const char *header, size_t n_data) {
    size_t h = strlen(header);
    unsigned char *b = calloc(8 + h + n_data + 1, 1);
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)((uint64_t)h >> (8 * i));
    memcpy(b + 8, header, h);
    for (size_t i = 0; i < n_data; i++) b[8 + h + i] = (unsigned char)i;
    write_bytes(b, 8 + h + n_data);
    free(b);
}

static void expect_reject(const char *header, size_t n_data, const char *want) {
    write_file(header, n_data);
    st_file_t f;
    int rc = st_read(&f, path, 1 << 20);
    CHECK(rc != 0, "accepted: %s", header);
    if (rc != 0) {
        CHECK_MSG(bnlab_errmsg(), want);
        CHECK_MSG(bnlab_errmsg(), path);
    } else {
        st_free(&f);
    }
}

static void test_round_trip(void) {
    float w[6] = {1, -2, 3.5f, 0, 1e-30f, -7};
    double d[2] = {0.25, -1e300};
    int64_t i64 = -42;
    uint32_t u32[3] = {1, 2, 4000000000u};
    uint64_t u64[2] = {UINT64_MAX, 7};
    st_file_t f;
    st_init(&f);
    int64_t s23[2] = {2, 3}, s2[1] = {2}, s3[1] = {3};
    st_add(&f, "layers.0.weight", ST_F32, 2, s23, w);
    st_add(&f, "d", ST_F64, 1, s2, d);
    st_add(&f, "count", ST_I64, 0, NULL, &i64);
    st_add(&f, "order", ST_U32, 1, s3, u32);
    st_add(&f, "rng", ST_U64, 1, s2, u64);
    st_meta(&f, "format", "test");
    st_meta(&f, "config", "{\"a\": [1, 2]}");
    CHECK(st_write(&f, path) == 0, "write: %s", bnlab_errmsg());
    st_free(&f);
    st_file_t g;
    CHECK(st_read(&g, path, 1 << 20) == 0, "read: %s", bnlab_errmsg());
    float w2[6];
    double d2[2];
    int64_t i2;
    uint32_t u2[3];
    uint64_t v2[2];
    CHECK(st_get(&g, "layers.0.weight", ST_F32, 2, s23, w2) == 0 && memcmp(w, w2, sizeof w) == 0, "F32 round trip");
    CHECK(st_get(&g, "d", ST_F64, 1, s2, d2) == 0 && memcmp(d, d2, sizeof d) == 0, "F64 round trip");
    CHECK(st_get(&g, "count", ST_I64, 0, NULL, &i2) == 0 && i2 == -42, "I64 scalar round trip");
    CHECK(st_get(&g, "order", ST_U32, 1, s3, u2) == 0 && u2[2] == 4000000000u, "U32 round trip");
    CHECK(st_get(&g, "rng", ST_U64, 1, s2, v2) == 0 && v2[0] == UINT64_MAX, "U64 round trip");
    CHECK(st_meta_get(&g, "config") && !strcmp(st_meta_get(&g, "config"), "{\"a\": [1, 2]}"), "metadata");
    // The header is padded so the data starts 8-byte aligned.
    uint64_t hlen = 0;
    for (int i = 0; i < 8; i++) hlen |= (uint64_t)g.file[i] << (8 * i);
    CHECK(hlen % 8 == 0, "header length %llu not a multiple of 8", (unsigned long long)hlen);
    int64_t wrong[2] = {3, 2};
    CHECK(st_get(&g, "layers.0.weight", ST_F32, 2, wrong, w2) != 0, "shape mismatch accepted");
    CHECK_MSG(bnlab_errmsg(), "tensor layers.0.weight: expected F32 [3, 2], got F32 [2, 3]");
    CHECK(st_get(&g, "nope", ST_F32, 1, s2, w2) != 0, "missing tensor accepted");
    CHECK_MSG(bnlab_errmsg(), "tensor nope is missing");
    st_free(&g);

    // Every truncation of a valid file is rejected (never a crash or a partial read).
    char *buf;
    size_t len;
    CHECK(read_whole_file(path, 1 << 20, &buf, &len) == 0, "re-read");
    int accepted = 0;
    for (size_t cut = 0; cut < len; cut++) {
        write_bytes(buf, cut);
        st_file_t h;
        if (st_read(&h, path, 1 << 20) == 0) accepted++, st_free(&h);
    }
    CHECK(accepted == 0, "%d truncated files accepted", accepted);
    free(buf);
}

static void test_hostile(void) {
    const char *F4 = "{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
    write_file(F4, 4);
    st_file_t f;
    CHECK(st_read(&f, path, 1 << 20) == 0, "minimal valid file: %s", bnlab_errmsg());
    st_free(&f);
    expect_reject(F4, 8, "4 bytes after the last tensor");
    expect_reject("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "4 unindexed bytes before tensor t");
    expect_reject("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8, "8 data bytes, but dtype and shape need 4");
    expect_reject("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,400]}}", 4, "data_offsets outside the 4 data bytes");
    expect_reject("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                  "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "overlaps another tensor");
    expect_reject("{\"t\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4, "unsupported dtype");
    expect_reject("{\"t\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]}}", 4,
                  "shape needs more bytes than the file holds");
    expect_reject("{\"t\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4, "shape entries must be non-negative");
    expect_reject("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4, "two \"data_offsets\"");
    expect_reject("{\"__metadata__\":{\"k\":1}}", 0, "__metadata__ must map strings to strings");
    expect_reject("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                  "\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "appears twice");
    expect_reject("[1,2]", 0, "header is not a JSON object");
    expect_reject("{\"t\":{\"x\":[[[[[1]]]]]}}", 0, "nested deeper than 3 levels");
    expect_reject("{\"\xc3\x28\":1}", 0, "header is not valid UTF-8");
    expect_reject("{not json", 0, "header is not a JSON object");
    // Header size larger than the file.
    unsigned char big[12] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, '{', '}', ' ', ' '};
    write_bytes(big, sizeof big);
    CHECK(st_read(&f, path, 1 << 20) != 0, "huge header size accepted");
    CHECK_MSG(bnlab_errmsg(), "exceeds the file");
    // A NaN weight is refused when the tensor is taken.
    float nan_w = NAN;
    st_file_t w;
    st_init(&w);
    int64_t s1[1] = {1};
    st_add(&w, "t", ST_F32, 1, s1, &nan_w);
    st_write(&w, path);
    st_free(&w);
    CHECK(st_read(&f, path, 1 << 20) == 0, "read");
    float out;
    CHECK(st_get(&f, "t", ST_F32, 1, s1, &out) != 0, "NaN accepted");
    CHECK_MSG(bnlab_errmsg(), "tensor t: non-finite value at index 0");
    st_free(&f);
}

int main(void) {
    int fd = mkstemp(path);
    if (fd < 0) return 2;
    close(fd);
    test_round_trip();
    test_hostile();
    unlink(path);
    return check_summary("safetensors");
}
