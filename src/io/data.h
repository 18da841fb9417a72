// data.h — datasets (IDX raw or gzip'd, CSV) and per-batch preprocessing.
//
// Pixels stay uint8 in memory and are converted per batch (scale, optional binarization, optional
// per-feature standardization), so a 60k-image set costs 47 MB, not 188 MB.
#ifndef BNLAB_DATA_H
#define BNLAB_DATA_H

#include <stddef.h>
#include <stdint.h>

#define DATA_MAX_EXAMPLES 100000000u  // refuse larger headers before allocating
#define DATA_MAX_FEATURES 1048576u    // 1024 x 1024 pixels
#define DATA_MAX_CLASSES 1000
// The loaders' max_bytes: what one load may allocate for its data (IDX pixels + 5 bytes per label; CSV text +
// 4 bytes per feature and label). Checked against the header (IDX) or the file size and row count (CSV) before
// anything is allocated; a larger claim is refused with the file, the claim and the limit. Meant to be set from a
// --max-memory option; the default leaves most of a 24 GB machine to the training itself (MNIST needs 47 MB).
#define DATA_DEFAULT_MAX_BYTES ((size_t)4 << 30)

typedef struct {
    uint32_t n, dim;   // examples, features per example
    uint8_t *u8;       // (n, dim) raw IDX pixels, or NULL
    float *f32;        // (n, dim) CSV features, or NULL
    int32_t *labels;   // (n) class index in [0, classes), or NULL (unlabelled input to predict)
    int classes;
} dataset_t;

typedef struct {
    float scale;          // x = raw * scale
    int binarize;         // then x = (x > threshold) ? 1 : 0  (the paper used binary images)
    float threshold;
    int standardize;      // then x = (x - mean[j]) * inv_std[j], statistics of the training set
    float *mean;          // (dim) or NULL
    float *inv_std;       // (dim) or NULL
} preprocess_t;

// Data files must be regular files ("FILE: is a directory", "... is a FIFO, not a regular file" otherwise). Loaders
// return 0, or -1 with a one-line message naming the file (bnlab_fail) and *ds zeroed.
//
// Loads an IDX image file (magic 0x803 or 0x802) and an IDX label file (magic 0x801), raw or gzip'd. A gzip file
// is read to its end: every member's CRC-32 and length are verified, further members are accepted (the data is
// their concatenation, as zcat prints it), anything else after the last trailer is refused. The data must be
// exactly what the header declares; it is read into one buffer of that size.
int idx_load(dataset_t *ds, const char *images_path, const char *labels_path, int classes, size_t max_bytes);
// Loads only the images of an IDX file (ds->labels stays NULL): what `bnlab predict` reads.
int idx_load_images(dataset_t *ds, const char *images_path, size_t max_bytes);
// Loads a CSV file: one example per line, the label first (has_label) then the features, each field a decimal
// number (blanks around it allowed; subnormals kept; nan, inf, overflow, hex and trailing junk refused). A UTF-8
// BOM at the start is skipped. The first line is a header iff it has a non-empty field and no numeric one; a first
// line mixing numbers and non-numbers is an error. Without has_label every field is a feature, ds->labels NULL.
int csv_load(dataset_t *ds, const char *path, int classes, int has_label, size_t max_bytes);
void dataset_free(dataset_t *ds);
// Keeps only the first n examples (no-op if n == 0 or n >= ds->n).
void dataset_truncate(dataset_t *ds, uint32_t n);

// Computes standardization statistics on ds (after scale/binarize) when pp->standardize is set.
void preprocess_fit(preprocess_t *pp, const dataset_t *ds);
void preprocess_free(preprocess_t *pp);
// Gathers examples idx[0..n) into x (n, dim) as preprocessed floats and their labels into y (n; may be NULL).
void dataset_gather(const dataset_t *ds, const preprocess_t *pp, const uint32_t *idx, int n, float *x,
                    int32_t *y);
// Asks the CPU to start loading examples idx[0..n) into cache (a hint; no effect on results): the trainer names
// the next batch while the current one computes, since a shuffled order defeats the hardware prefetcher.
void dataset_prefetch(const dataset_t *ds, const uint32_t *idx, int n);
// Same for the contiguous range [start, start + n).
void dataset_gather_range(const dataset_t *ds, const preprocess_t *pp, uint32_t start, int n, float *x,
                          int32_t *y);

#endif
