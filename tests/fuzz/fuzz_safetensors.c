// libFuzzer target: the safetensors reader, every tensor taken with its own dtype and shape, and a
// checkpoint's stored config parsed.
#include <stdlib.h>
#include <string.h>

#include "run/config.h"
#include "fuzz_input.h"
#include "io/safetensors.h"

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
    close(fd);
    return 0;
}
