// keys.h — config keys described as data: one key_desc_t row per key says its JSON name, its C field, its type,
// its range and its default. The rows live beside the structs they fill (nn/registry.c for each layer kind's keys);
// run/config.c reads them to set defaults, to parse and check a JSON object strictly, to name the allowed values in
// error messages and to write the resolved JSON back, so a key exists in one place and cannot be parsed but not
// saved. This header is plain data: no JSON library.
#ifndef BNLAB_KEYS_H
#define BNLAB_KEYS_H

#include <stddef.h>

typedef enum {
    KEY_BOOL,            // int 0/1                                  default: def
    KEY_INT,             // int in [lo, hi]                          default: def
    KEY_DOUBLE,          // double in the range (lo, hi, open ends)  default: def
    KEY_DOUBLE_OR_WORD,  // double as KEY_DOUBLE, or the string `word`, which sets the int at word_field to 1
    KEY_INIT,            // init_spec_t (nn/model.h): {"type": ..., "std"|"a": ...}; default: the model's default init
} key_type_t;

enum {
    KEY_REQUIRED = 1,  // no default: missing is an error that prints `help`
    KEY_LO_OPEN = 2,   // lo itself is out of range
    KEY_HI_OPEN = 4,   // hi itself is out of range
};

typedef struct {
    const char *name;   // the JSON key; NULL ends a table
    key_type_t type;
    size_t field;       // offsetof() the value in the struct the table describes
    double lo, hi;      // range of numbers
    unsigned flags;     // KEY_REQUIRED | KEY_LO_OPEN | KEY_HI_OPEN
    double def;         // default of a number or bool
    const char *word;   // KEY_DOUBLE_OR_WORD: the word accepted instead of a number
    size_t word_field;  // KEY_DOUBLE_OR_WORD: offsetof() the int flag the word sets
    const char *help;   // what the value means, for the message when a required key is missing
} key_desc_t;

#endif
