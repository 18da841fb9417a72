#include "io/csvtable.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

static int at_field_end(char c) { return c == ',' || c == '\n' || c == '\r' || c == '\0'; }

const char *csv_field(const char *line, int col, size_t *len) {
    const char *p = line;
    for (int k = 0; k < col; k++) {
        while (!at_field_end(*p)) p++;
        if (*p != ',') return NULL;
        p++;
    }
    const char *end = p;
    while (!at_field_end(*end)) end++;
    *len = (size_t)(end - p);
    return p;
}

int csv_header_index(const char *header, const char *name) {
    size_t n = strlen(name), len;
    const char *f;
    for (int col = 0; (f = csv_field(header, col, &len)) != NULL; col++)
        if (len == n && !memcmp(f, name, n)) return col;
    return -1;
}

int csv_column(const char *header, const char *name, const char *file) {
    int col = csv_header_index(header, name);
    if (col < 0) return bnlab_fail("%s: no column \"%s\" in its header", file, name);
    return col;
}

// strtod/strtol stop at the ',' that ends a field; "the whole field" means they stopped exactly there.
int csv_field_double(const char *line, int col, double *out) {
    size_t len;
    const char *f = csv_field(line, col, &len);
    if (!f || len == 0) return -1;
    char *end;
    double v = strtod(f, &end);
    if (end != f + len) return -1;
    *out = v;
    return 0;
}

int csv_field_long(const char *line, int col, long *out) {
    size_t len;
    const char *f = csv_field(line, col, &len);
    if (!f || len == 0) return -1;
    char *end;
    errno = 0;
    long v = strtol(f, &end, 10);
    if (errno || end != f + len) return -1;
    *out = v;
    return 0;
}

int csv_field_is(const char *line, int col, const char *text) {
    size_t len;
    const char *f = csv_field(line, col, &len);
    return f && len == strlen(text) && !memcmp(f, text, len);
}

int csv_read_header(const char *path, char *out, size_t cap) {
    FILE *f = fopen(path, "r");
    if (!f) return bnlab_fail("%s: cannot open: %s", path, strerror(errno));
    int got = fgets(out, (int)cap, f) != NULL;
    fclose(f);
    size_t n = got ? strlen(out) : 0;
    if (n == 0) return bnlab_fail("%s: no header line", path);
    if (out[n - 1] != '\n' && n + 1 == cap) return bnlab_fail("%s: header line longer than %zu bytes", path, cap - 2);
    if (out[n - 1] == '\n') out[n - 1] = '\0';
    return 0;
}

int csv_table_read(csv_table_t *t, const char *path, size_t max_bytes) {
    memset(t, 0, sizeof *t);
    if (read_whole_file(path, max_bytes, &t->text, &t->len) != 0) return -1;
    if (t->len == 0 || t->text[0] == '\n') {
        csv_table_free(t);
        return bnlab_fail("%s: no header line", path);
    }
    t->header = t->text;
    t->lineno = 1;
    return 0;
}

int csv_table_next(csv_table_t *t) {
    const char *p = t->row ? t->row : t->header;
    for (;;) {
        p = strchr(p, '\n');
        if (!p || !p[1]) return 0;
        p++;
        t->lineno++;
        if (*p != '\n') break;  // skip empty lines
    }
    t->row = p;
    return 1;
}

void csv_table_free(csv_table_t *t) {
    free(t->text);
    memset(t, 0, sizeof *t);
}
