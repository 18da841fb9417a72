// logmetric.h — one number per run read from one of its CSV logs, for an expectation ({"metric": "log", ...}).
//
//   {"metric": "log", "file": "layer_stats.csv", "column": "frac_saturated", "where": {"source": "train",
//    "layer_type": "sigmoid"}, "rows": "max", "over": "final", ...}
// file: a run log (metrics.csv, layer_stats.csv, percentiles.csv, param_stats.csv, ics.csv); column: a numeric
// column, minus "minus" (another column of the same row, e.g. train_acc minus test_acc) when given.
// where: the rows kept, each key a column and its value the field's text (a string) or its number (a number).
// rows: how the kept rows of one step combine into that step's value x(t): "one" (default: more than one is an
// error — add to where), "max", "min", "mean". ratio_to_where: a second filter, then x(t) = x_where(t) / x_ratio(t)
// (e.g. the std of a layer in training mode over the same in evaluation mode: Li et al.'s variance shift).
// over: the steps t >= from_step (default 0) with a value, reduced to the run's number:
//   "final" x(last step), "max", "min", "mean" over them, "range" max − min, "drift" max |x(t) − x(last step)|,
//   "first" x(the first of them: the first step >= from_step with a value — step 0, the initialization, by default).
// Steps are the logs' "step" column; a step whose value is missing (an empty field) is skipped.
#ifndef BNLAB_LOGMETRIC_H
#define BNLAB_LOGMETRIC_H

#include <cjson/cJSON.h>
#include <stddef.h>

#define LM_MAX_WHERE 6
#define LM_NAME 64

typedef enum { LM_FINAL, LM_MAX, LM_MIN, LM_MEAN, LM_RANGE, LM_DRIFT, LM_FIRST } lm_over_t;
typedef enum { LM_ROWS_ONE, LM_ROWS_MAX, LM_ROWS_MIN, LM_ROWS_MEAN } lm_rows_t;

typedef struct {
    char column[LM_NAME];
    char text[LM_NAME];  // the value as a string, or the number printed %.17g
    int is_number;
    double number;
} lm_where_t;

typedef struct {
    lm_where_t w[LM_MAX_WHERE];
    int n;
} lm_filter_t;

typedef struct {
    char file[LM_NAME], column[LM_NAME], minus[LM_NAME];  // minus: "" for none
    lm_filter_t where, ratio;  // ratio.n == 0: no ratio_to_where
    int has_ratio;
    lm_rows_t rows;
    lm_over_t over;
    long from_step;
} logmetric_t;

// The keys a log expectation may have besides expect.h's ones.
extern const char *const LOGMETRIC_KEYS[];
// Reads file, column, minus, where, ratio_to_where, rows, over, from_step of o (at path). -1 + message naming the
// JSON path (expect[3].file: expected one of ..., found "x").
int logmetric_parse(logmetric_t *m, const cJSON *o, const char *path);
// The run's number from run_dir/file. -1 + message (a missing file or column, no row matching, two rows at a
// step with rows "one", a non-number in the column).
int logmetric_measure(const logmetric_t *m, const char *run_dir, double *out);
// "layer_stats.csv frac_saturated [source=train layer_type=sigmoid] max/step final" for the tables.
void logmetric_describe(char *out, size_t cap, const logmetric_t *m);
// Adds the keys as the spec stated them to o.
void logmetric_add_json(cJSON *o, const logmetric_t *m);

#endif
