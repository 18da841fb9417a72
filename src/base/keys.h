// keys.h — config keys described as data: one key_desc_t row per key says its JSON name, its C field, its type,
// its range and its default. The rows live beside the structs they fill (run/config.c for the config's sections,
// nn/registry.c for each layer kind's keys, each log's recorder row for its own log.* keys: run/recorder.h);
// run/config.c reads them to set defaults, to parse and check a JSON object strictly, to name the allowed values in
// error messages and to write the resolved JSON back, so a key exists in one place and cannot be parsed but not saved.
// This header is plain data: no JSON library.
#ifndef BNLAB_KEYS_H
#define BNLAB_KEYS_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    KEY_BOOL,            // int 0/1                                       default: def
    KEY_INT,             // int in [lo, hi]                               default: def
    KEY_LONG,            // long in [lo, hi]                              default: def
    KEY_U64,             // uint64_t in [lo, hi] (hi <= 2^53: exact in JSON) default: def
    KEY_DOUBLE,          // double in the range (lo, hi, open ends)       default: def
    KEY_DOUBLE_OR_WORD,  // double as KEY_DOUBLE, or the string `word`, which sets the int at word_field to 1
    KEY_ENUM,            // int: the index of its string in words[]       default: def (an index)
    KEY_STRING,          // char[cap]                                     default: sdef
    KEY_PATH,            // char[cap]: a file, relative to the config's directory, made absolute and checked
    KEY_INIT,            // init_spec_t (nn/layer.h): {"type": ..., "std"|"a": ...}; default: the model's init
    KEY_OBJECT,          // a JSON object whose keys are the rows of sub (their fields in the same struct)
    KEY_CUSTOM,          // parsed, written and defaulted by the hooks
    KEY_ROWS,            // more keys of this same object, from a table of rows: rows(i) for i = 0, 1, ... until NULL,
                         // row i's fields relative to obj + field + i * stride (the recorders' keys, run/recorder.h)
} key_type_t;

enum {
    KEY_REQUIRED = 1,   // no default: missing is an error that prints `help` (or the `when` condition)
    KEY_LO_OPEN = 2,    // lo itself is out of range
    KEY_HI_OPEN = 4,    // hi itself is out of range
    KEY_OMIT_ZERO = 8,  // not written back while 0 (one of two alternative keys; a key added after runs exist:
                        // KEY_BOOL, KEY_LONG, KEY_ENUM)
};

#define KEY_NO_FIELD ((size_t)-1)  // KEY_ENUM checked but not stored (a choice with one value so far)

typedef struct key_desc key_desc_t;
struct key_desc {
    const char *name;          // the JSON key; NULL ends a table
    key_type_t type;
    size_t field;              // offsetof() the value in the struct the table describes
    double lo, hi;             // range of numbers
    unsigned flags;            // KEY_REQUIRED | KEY_LO_OPEN | KEY_HI_OPEN | KEY_OMIT_ZERO
    double def;                // default of a number, bool or enum
    const char *sdef;          // default of a string
    size_t cap;                // KEY_STRING, KEY_PATH: the char array's size
    const char *const *words;  // KEY_ENUM: the allowed strings, NULL-terminated
    const char *word;          // KEY_DOUBLE_OR_WORD: the word accepted instead of a number
    size_t word_field;         // KEY_DOUBLE_OR_WORD: offsetof() the int flag the word sets
    const key_desc_t *sub;     // KEY_OBJECT: the object's keys
    const char *help;          // what the value means, for the message when a required key is missing
    // Whether the key applies, given the keys parsed before it (NULL: always). A key that does not apply is an error
    // if given ("only used WHEN") and is not written back.
    int (*applies)(const void *obj);
    const char *when;          // the condition of `applies`, for messages: "with data.format \"idx\""
    // KEY_CUSTOM: json is the key's value (a cJSON node; parse may assume it is present), emit returns a new cJSON
    // node, set_default fills the field before parsing.
    int (*parse)(const void *json, const char *path, void *obj);
    void *(*emit)(const void *obj);
    void (*set_default)(void *obj);
    // KEY_ROWS: row i's keys (NULL past the last row), and the bytes between row i's fields and row i + 1's.
    const key_desc_t *(*rows)(int i);
    size_t stride;
};

#endif
