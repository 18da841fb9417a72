// Prints the table of recorders (run/recorders.h) for tests/test_recorders.sh, one file a line:
//   RECORDER FILE FORMAT WALL_TIME     (FORMAT csv, jsonl or tfevents; WALL_TIME 1 where equal runs differ)
// or, with --turn-on, each row's --set that turns it on, one a line (rows always on print nothing); with --unguarded
// DIR (a run directory), the files of the table in DIR itself (no '/') that runfiles_check_output would let a command
// write (want none).
#include <stdio.h>
#include <string.h>

#include "run/recorders.h"
#include "run/runfiles.h"

int main(int argc, char **argv) {
    static const char *const formats[] = {"csv", "jsonl", "tfevents"};
    for (int i = 0; i < recorders_count(); i++) {
        const recorder_t *r = recorders_row(i);
        if (argc > 2 && !strcmp(argv[1], "--unguarded")) {
            REC_EACH_FILE(r, f) {
                char path[4096];
                snprintf(path, sizeof path, "%s/%s", argv[2], f->file);
                if (!strchr(f->file, '/') && runfiles_check_output(path, 0, NULL, 0) == 0)
                    printf("%s %s\n", r->name, f->file);
            }
            continue;
        }
        if (argc > 1 && !strcmp(argv[1], "--turn-on")) {
            if (r->turn_on) printf("%s\n", r->turn_on);
            continue;
        }
        REC_EACH_FILE(r, f)
            printf("%s %s %s %d\n", r->name, f->file, formats[f->format], f->wall_time);
    }
    return 0;
}
