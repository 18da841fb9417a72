// libFuzzer target: the safetensors reader, every tensor taken with its own dtype and shape, a checkpoint's stored
// config parsed, and the whole checkpoint path eval uses (checksums verified, model rebuilt and loaded).
#include <stdlib.h>
#include <string.h>

#include "run/config.h"
#include "fuzz_input.h"
#include "io/safetensors.h"
#include "run/checkpoint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[64];
    int fd = fuzz_file(data, size, path, sizeof path);
    if (fd < 0) return 0;
    st_file_t f;
    if (st_read(&f, path, (size_t)1 << 24) == 0) {
        for (int i = 0; i < f.n; i++) {
            const st_tensor_t *t = &f.t[i];
            void *buf = malloc(t->end - t->begin + 1);
            st_get(&f, t->name, t->dtype, t->ndim, t->shape, buf);
            free(buf);
        }
        const char *text = st_meta_get(&f, "config");
        config_t cfg;
        if (text) config_parse(&cfg, text, strlen(text), "meta", "/", NULL, 0);
        st_free(&f);
    }
    config_t cfg;
    if (checkpoint_open(&f, path, &cfg, NULL, 0) == 0) {
        int dim = checkpoint_input_features(&f);
        model_t m;
        if (dim > 0 && dim <= 4096 &&
            model_build(&m, cfg.model.layers, cfg.model.n_layers, dim, cfg.data.classes, 2) == 0) {
            checkpoint_load_model(&m, &f);
            model_free(&m);
        }
        st_free(&f);
    }
    close(fd);
    return 0;
}
