// crc32c.h — CRC-32C (Castagnoli): reflected polynomial 0x82F63B78, initial value and final XOR 0xFFFFFFFF, the
// checksum TFRecord files frame every record with. Known answers: "123456789" -> 0xE3069283, 32 zero bytes ->
// 0x8A9136AA (RFC 3720 B.4). And CRC-32 (IEEE 802.3, zlib's crc32: reflected polynomial 0xEDB88320, the same
// initial value and final XOR; "123456789" -> 0xCBF43926), which checkpoints carry: here so that a build without zlib
// (WebAssembly) writes and checks the same checksums.
#ifndef BNLAB_CRC32C_H
#define BNLAB_CRC32C_H

#include <stddef.h>
#include <stdint.h>

// CRC-32C of len bytes; crc32c_extend(crc32c(a), b) = crc32c(a || b), and crc32c_extend(0, x) = crc32c(x).
uint32_t crc32c_extend(uint32_t crc, const void *data, size_t len);
uint32_t crc32c(const void *data, size_t len);
// CRC-32 (zlib's crc32_z(crc, data, len), the same values): crc32_extend(0, x) is the CRC-32 of x.
uint32_t crc32_extend(uint32_t crc, const void *data, size_t len);

#endif
