// libFuzzer target: the experiment-config parser (strict JSON with paths, overrides).
#include <stdlib.h>
#include <string.h>

#include "run/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    config_t cfg;
    const char *sets[] = {"train.optimizer.lr=0.5"};
    if (config_parse(&cfg, text, size, "fuzz.json", BNLAB_FUZZ_DATA_DIR, sets, (int)(size & 1)) == 0) {
        cJSON *j = config_to_json(&cfg);
        cJSON_Delete(j);
    }
    free(text);
    return 0;
}
