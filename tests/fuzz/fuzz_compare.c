// libFuzzer target: compare.json as the figure model reads it (view/source.h): strict, or one message.
#include <cjson/cJSON.h>

#include "fuzz_input.h"
#include "view/source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[64];
    int fd = fuzz_file(data, size, path, sizeof path);
    if (fd < 0) return 0;
    cJSON *j = view_compare_json_read(path);
    cJSON_Delete(j);
    close(fd);
    return 0;
}
