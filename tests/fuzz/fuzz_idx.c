// libFuzzer target: IDX images/labels (raw or gzip'd), the input used as both files.
#include "io/data.h"
#include "fuzz_input.h"

// Below libFuzzer's -malloc_limit_mb (the -rss_limit_mb of scripts/fuzz.sh), so the limit's refusal is exercised
// and an accepted header can never be reported as an out-of-memory crash.
#define LIMIT ((size_t)256 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[64];
    int fd = fuzz_file(data, size, path, sizeof path);
    if (fd < 0) return 0;
    dataset_t ds;
    if (idx_load(&ds, path, path, 10, LIMIT) == 0) dataset_free(&ds);
    if (idx_load_images(&ds, path, LIMIT) == 0) dataset_free(&ds);
    close(fd);
    return 0;
}
