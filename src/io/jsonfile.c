#include "io/jsonfile.h"

#include <stdlib.h>
#include <string.h>

#include "base/util.h"

int write_json(const char *dir, const char *name, const cJSON *json) {
    char path[BNLAB_PATH_MAX];
    path_fmt(path, sizeof path, "%s/%s", dir, name);
    char *text = cJSON_Print(json);
    if (!text) return bnlab_fail("%s: cannot serialize JSON", path);
    size_t n = strlen(text);
    text[n] = '\n';  // replace the terminator: the file ends with a newline
    int rc = write_file_atomic(path, text, n + 1);
    free(text);
    return rc;
}
