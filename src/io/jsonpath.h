// jsonpath.h — strict, path-aware reading of cJSON trees.
//
// Every getter names the JSON path in its error ("model.layers[3].rate: expected a number in [0, 1),
// got 1.5") and returns -1 after bnlab_fail(); a missing optional key leaves the default in *out.
// jp_keys() rejects keys that are not in the allowed list, so a typo is an error, not a silent default.
#ifndef BNLAB_JSONPATH_H
#define BNLAB_JSONPATH_H

#include <cjson/cJSON.h>
#include <stddef.h>

#define JP_PATH_MAX 256

// Child path: "base.key" (or "key" when base is empty) / "base[i]".
void jp_join(char *out, const char *base, const char *key);
void jp_index(char *out, const char *base, int i);
// Describes a value for an error message: 1.5, "abc" (quoted, shortened), true, an object, an array, null.
void jp_describe(char *out, size_t cap, const cJSON *v);

// Fails on the first key of obj not in allowed (NULL-terminated); checks obj is an object.
int jp_keys(const cJSON *obj, const char *path, const char *const *allowed);
int jp_object(const cJSON *v, const char *path);
// "PATH: expected EXPECTED, got FOUND" (FOUND as jp_describe says it; "nothing" for NULL): every getter's message,
// for a check the getters cannot make (array elements, sizes). Returns -1.
int jp_fail_expected(const char *path, const char *expected, const cJSON *got);

// Getters: key absent -> *out unchanged, returns 0; wrong type or out of range -> -1.
// Range for numbers: lo <= x <= hi, with the ends made strict by lo_open / hi_open.
int jp_number(const cJSON *obj, const char *path, const char *key, double lo, int lo_open, double hi, int hi_open,
              double *out);
int jp_int(const cJSON *obj, const char *path, const char *key, long long lo, long long hi, long long *out);
int jp_bool(const cJSON *obj, const char *path, const char *key, int *out);
// String values are copied into out (cap bytes, must fit).
int jp_string(const cJSON *obj, const char *path, const char *key, char *out, size_t cap);
// One of names (NULL-terminated): *out = its index.
int jp_enum(const cJSON *obj, const char *path, const char *key, const char *const *names, int *out);

// Parses buf[0..len) as exactly one JSON value: anything but whitespace after it (a second object, "1,5") is an
// error. NULL on failure, with *error_at (if not NULL) the byte offset where parsing stopped.
cJSON *jp_parse_all(const char *buf, size_t len, size_t *error_at);

// 1 if buf[0..len) is valid UTF-8 (no overlongs, no surrogates); else 0 and *bad_at = first bad offset.
int utf8_valid(const char *buf, size_t len, size_t *bad_at);
// Depth of the deepest nesting of [ and { outside strings (a cheap pre-check before parsing).
int json_depth(const char *buf, size_t len);

#endif
