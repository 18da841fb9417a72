// csvtable.h — bnlab's CSV logs read as tables: a first line of column names, then rows of comma-separated fields
// (no quoting: bnlab writes none). Readers find a column by its name in the header, never by its number, so a log
// may gain or reorder columns without a reader silently taking the wrong one.
#ifndef BNLAB_CSVTABLE_H
#define BNLAB_CSVTABLE_H

#include <stddef.h>

// The 0-based index of the column called name in header (one CSV line, read up to its newline or NUL), or -1.
int csv_header_index(const char *header, const char *name);
// The same, or -1 + "FILE: no column "NAME" in its header" (file names the log, for the message).
int csv_column(const char *header, const char *name, const char *file);
// Field col of line: its first character, with *len its length (up to ',' or the line's end). NULL if the line
// has fewer fields.
const char *csv_field(const char *line, int col, size_t *len);
// Field col of line as a number that fills the whole field: 0, or -1 if missing, empty or not a number.
int csv_field_double(const char *line, int col, double *out);
int csv_field_long(const char *line, int col, long *out);
// 1 if field col of line is exactly text.
int csv_field_is(const char *line, int col, const char *text);

// The first line of path (without its newline) into out (cap bytes): a log's header, without reading the rest.
// -1 + message if the file cannot be read, is empty, or its first line does not fit cap.
int csv_read_header(const char *path, char *out, size_t cap);

typedef struct {
    char *text;          // the whole file, NUL-terminated
    size_t len;
    const char *header;  // its first line
    const char *row;     // the current row, after csv_table_next() returned 1
    int lineno;          // the current row's line number, 1-based (the header is line 1)
} csv_table_t;

// Reads path (at most max_bytes). -1 + message if it cannot be read or has no header line.
int csv_table_read(csv_table_t *t, const char *path, size_t max_bytes);
// Moves to the next non-empty row: 1, or 0 past the last. A last line without its newline counts as a row.
int csv_table_next(csv_table_t *t);
void csv_table_free(csv_table_t *t);

#endif
