// libFuzzer target: CSV with and without a label column, then preprocessing of what loaded.
#include "io/data.h"
#include "fuzz_input.h"

// Below libFuzzer's -malloc_limit_mb, and small enough that the limit's refusal is reached too.
#define LIMIT ((size_t)1 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[64];
    int fd = fuzz_file(data, size, path, sizeof path);
    if (fd < 0) return 0;
    dataset_t ds;
    for (int has_label = 0; has_label < 2; has_label++)
        if (csv_load(&ds, path, 10, has_label, LIMIT) == 0) {
            preprocess_t pp = {.scale = 1.0f, .standardize = 1};
            preprocess_fit(&pp, &ds);
            float x[64];
            if (ds.dim <= 64) dataset_gather_range(&ds, &pp, 0, 1, x, NULL);
            preprocess_free(&pp);
            dataset_free(&ds);
        }
    close(fd);
    return 0;
}
