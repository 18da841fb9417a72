// logread.h — a bnlab CSV log read strictly, as a page or a table made from it must: every complete row has exactly
// the header's number of fields and a number wherever one is asked for; anything else is one message naming the
// file, the line, the column, what was expected and what was found. The one exception is a log being written: its
// last line without a newline is a row cut short and is skipped (run the reader again once it is complete).
#ifndef BNLAB_LOGREAD_H
#define BNLAB_LOGREAD_H

#include <limits.h>

#include "io/csvtable.h"
#include "view/series.h"

// Opens path: 0 read (t holds it), 1 absent (not logged), -1 + message (unreadable, no header line).
int logread_open(csv_table_t *t, const char *path);
// Moves to the next complete row: 1, or 0 past the last (a last line without its newline is skipped); -1 +
// "PATH: line N: K fields, expected M (its header's)".
int logread_next(csv_table_t *t, const char *path);
// Column name's index in t's header, or -1 + "PATH: no column "NAME" in its header".
int logread_column(const csv_table_t *t, const char *path, const char *name);
// The one rule every reader behind report and plot follows (logread_parse_number below): a number fills its field
// as bnlab writes it; nan, inf, -inf only as those words; nothing else (no "1e999", " 5", "0x10", "abc", empty).
// Integers (steps, counts, layer indices) as bnlab writes them: no leading zero ("007"), no sign but '-'.
int logread_parse_number(const char *f, size_t len, double *out);
int logread_parse_integer(const char *f, size_t len, long *out);
// Field col of the current row as a number (nan and inf allowed: a diverged run writes them). 0, or -1 +
// "PATH: line N, column "NAME": expected a number, found "TEXT"".
int logread_number(const csv_table_t *t, const char *path, int col, double *out);
// The same, an empty field allowed (NaN): a column the format leaves empty in some rows (step 0's training loss).
int logread_optional(const csv_table_t *t, const char *path, int col, double *out);
// The same, and the number must be finite (a grid value, a histogram edge).
int logread_finite(const csv_table_t *t, const char *path, int col, double *out);
// An integer (a step, a count, a layer's index) in [lo, hi].
int logread_integer(const csv_table_t *t, const char *path, int col, long lo, long hi, long *out);
// The largest step (2^50) and epoch (2^40) a log may name; LONG_MAX where long has 32 bits (WebAssembly).
#if LONG_MAX > (1LL << 50)
#define LOGREAD_STEP_MAX (1L << 50)
#define LOGREAD_EPOCH_MAX (1L << 40)
#else
#define LOGREAD_STEP_MAX LONG_MAX
#define LOGREAD_EPOCH_MAX LONG_MAX
#endif
// Every complete row of t checked at once, by the rule above: cols[k] (k < n) holds what kinds[k] says — 'i' an
// integer >= 0, 'n' a number, 'o' a number or nothing, 'f' a finite number, 'u' an integer >= 0 or the word "all",
// 's' any text — and, when rest >= 0, every column from rest to the row's end a number. Then the last line, if cut
// short (a log being written), is dropped from t and t is rewound: a reader may then walk it with csv_table_next
// and csv_field_* knowing each field is well-formed. 0, or -1 + the message of the first bad field.
int logread_check_all(csv_table_t *t, const char *path, const int *cols, const char *kinds, int n, int rest);

#endif
