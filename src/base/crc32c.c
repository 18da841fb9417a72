#include "base/crc32c.h"

// One byte at a time through a 256-entry table, built once: records are short and written once per evaluation, so
// slicing-by-8 or the SSE4.2 instruction would buy nothing measurable.
static uint32_t table[256];
static int table_ready;

static void build_table(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        table[i] = c;
    }
    table_ready = 1;  // the same values from any thread that races here: harmless
}

uint32_t crc32c_extend(uint32_t crc, const void *data, size_t len) {
    if (!table_ready) build_table();
    const uint8_t *p = data;
    crc = ~crc;
    for (size_t i = 0; i < len; i++) crc = table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

uint32_t crc32c(const void *data, size_t len) { return crc32c_extend(0, data, len); }
