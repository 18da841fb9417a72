// jsonfile.h — a cJSON tree written as a file: the one writer of the run directory's and a comparison's JSON files
// (config.json, environment.json, summary.json, compare.json ...).
#ifndef BNLAB_JSONFILE_H
#define BNLAB_JSONFILE_H

#include <cjson/cJSON.h>

// Writes json, pretty-printed and ending with a newline, atomically (base/util.h write_file_atomic) to dir/name.
// -1 + message.
int write_json(const char *dir, const char *name, const cJSON *json);

#endif
