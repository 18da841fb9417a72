// libFuzzer target: the one strict rule behind every log that report and plot read (view/logread.h) — a CSV log
// opened, walked row by row with every field parsed as each kind the readers ask for, then checked whole by
// logread_check_all with the column kinds the first input byte picks.
#include "fuzz_input.h"
#include "view/logread.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    static const char *const KINDS[] = {"in", "iof", "uns", "fff", "s", "iu"};
    const char *kinds = KINDS[data[0] % (sizeof KINDS / sizeof KINDS[0])];
    int rest = (data[0] >> 4) & 1 ? 1 : -1;
    char path[64];
    int fd = fuzz_file(data + 1, size - 1, path, sizeof path);
    if (fd < 0) return 0;
    csv_table_t t;
    if (logread_open(&t, path) == 0) {
        int rows = 0;
        while (logread_next(&t, path) == 1 && rows++ < 100000) {
            double v;
            long n;
            for (int c = 0; c < 4; c++) {
                (void)logread_number(&t, path, c, &v);
                (void)logread_optional(&t, path, c, &v);
                (void)logread_finite(&t, path, c, &v);
                (void)logread_integer(&t, path, c, 0, 1000000, &n);
            }
        }
        int cols[4] = {0, 1, 2, 3};
        int n = 0;
        while (kinds[n] && n < 4) n++;
        (void)logread_check_all(&t, path, cols, kinds, n, rest);
        csv_table_free(&t);
    }
    close(fd);
    return 0;
}
