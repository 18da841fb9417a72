// libFuzzer target: the compare/sweep spec parser (variants, grids, seeds, targets, overrides), on a spec file
// whose relative config paths resolve against /proc/self/fd (so most fail there, after the spec's own checks).
#include <stdlib.h>

#include "fuzz_input.h"
#include "lab/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[64];
    int fd = fuzz_file(data, size, path, sizeof path);
    if (fd < 0) return 0;
    static compare_spec_t s;  // large: not on the stack
    const char *paths[1] = {path};
    spec_overrides_t cli = {0};
    if (compare_spec_load(&s, paths, 1, &cli) == 0) compare_spec_free(&s);
    close(fd);
    return 0;
}
