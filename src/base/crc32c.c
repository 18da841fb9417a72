#include "base/crc32c.h"

// One byte at a time through a 256-entry table per polynomial, built once: records are short and written once per
// evaluation, checkpoints a few MB at most, so slicing-by-8 or the SSE4.2 instruction would buy nothing measurable.
typedef struct {
    uint32_t poly;  // reflected
    uint32_t table[256];
    int ready;
} crc_table_t;

static crc_table_t castagnoli = {.poly = 0x82F63B78u}, ieee = {.poly = 0xEDB88320u};

static void build_table(crc_table_t *t) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = c & 1 ? (c >> 1) ^ t->poly : c >> 1;
        t->table[i] = c;
    }
    t->ready = 1;  // the same values from any thread that races here: harmless
}

static uint32_t extend(crc_table_t *t, uint32_t crc, const void *data, size_t len) {
    if (!t->ready) build_table(t);
    const uint8_t *p = data;
    crc = ~crc;
    for (size_t i = 0; i < len; i++) crc = t->table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

uint32_t crc32c_extend(uint32_t crc, const void *data, size_t len) { return extend(&castagnoli, crc, data, len); }
uint32_t crc32c(const void *data, size_t len) { return crc32c_extend(0, data, len); }
uint32_t crc32_extend(uint32_t crc, const void *data, size_t len) { return extend(&ieee, crc, data, len); }
