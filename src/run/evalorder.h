// evalorder.h — the order in which an evaluation pass feeds a data set to the network: images with similar nonzero
// pixels side by side, so the first layer's zero-skipping sums (gemm_nt_skip_zeros, nn/gemm.h) do fewer terms, with
// the results of file order bit for bit.
//
// gemm_nt_skip_zeros sums each group of gemm_skip_zeros_group() consecutive rows of a batch (3 with the FMA sums) over
// the union of their nonzero inputs. In file order a group of 3 of MNIST's test images has nonzeros in about a third
// of the pixels; grouping images that share their nonzeros shrinks the unions. The order is computed once per data
// set: the images sorted by their count of nonzero inputs (after preprocessing, as the first layer sees them; ties by
// index), then each group filled greedily — its first image the next one left in that order, each further one the
// image among the next EVAL_ORDER_WINDOW left that adds the fewest pixels to the group's union (the earliest on ties).
// Groups start at every batch's first row, as the product's do. Only whole batches are reordered: the last n % batch
// examples stay at the end in file order, so every example is evaluated in a batch of the size it had in file order.
//
// forward_set (run/infer.h) runs the batches in this order, puts each example's logits at its place in file order
// (logits), then computes the softmax cross-entropy and hits over the original batches in file order: the loss is
// summed per batch as before, so the results are the same bits when each example's logits are — when every layer
// acts per example in the pass's mode (model_per_example: BN by running statistics yes, by batch statistics no) and
// the matrix products give a row the same bits wherever it sits in a batch (the kernels sum each element over k the
// same way; tests/test_evalorder.sh compares the logs of runs in both orders with each GEMM backend).
#ifndef BNLAB_EVALORDER_H
#define BNLAB_EVALORDER_H

#include <stdint.h>

#include "io/data.h"

// The candidates looked at for each further image of a group: more gives smaller unions (on MNIST's test set a group
// of 3 has nonzeros in 26.3 % of the pixels with 200, 25.6 % with 512, 25.4 % with 1000) and costs more, once.
#define EVAL_ORDER_WINDOW 512

typedef struct {
    const dataset_t *ds;  // the data set it orders (examples [0, n))
    uint32_t n;
    int batch;            // the batch size of the passes it serves
    int group;            // rows summed together (gemm_skip_zeros_group() when it was built)
    int classes;
    uint32_t *perm;       // (n) perm[i]: the example evaluated i-th; perm[i] = i for i >= n - n % batch
    dataset_t data;       // examples perm[0], perm[1], ... stored in that order (a copy of ds's pixels or features,
                          // no labels): a pass reads them in sequence, as file order reads ds — gathering them from
                          // ds by perm, scattered over the set, made the evaluation 14 % slower than file order
    float *logits;        // (n, classes) the last pass's logits, in file order
    long passes;          // forward_set passes that used it (tests)
} eval_order_t;

// Builds the order of examples [0, n) of ds (preprocessed by pp) for passes in batches of `batch`, the copy of the
// examples in that order, and the logits for `classes` classes. Allocates (at setup, never per pass): n x dim bytes
// (uint8 pixels) or floats (CSV features), n x (classes + 1) x 4 bytes, and while it builds n x ceil(dim / 64) x 8.
void eval_order_build(eval_order_t *o, const dataset_t *ds, const preprocess_t *pp, uint32_t n, int batch,
                      int classes);
void eval_order_free(eval_order_t *o);
// Stores the logits z (B, classes) of the examples evaluated at [start, start + B) of the order at their places in
// file order (o->logits).
void eval_order_put(eval_order_t *o, uint32_t start, int B, const float *z);
// The terms of the first layer's sums with groups of `group` rows from each batch's first row, as a fraction of all
// (n x features) terms: sum over groups of (rows x nonzero inputs of their union) / (n dim). perm NULL: file order.
// Measurements and tests (allocates).
double eval_order_terms(const dataset_t *ds, const preprocess_t *pp, const uint32_t *perm, uint32_t n, int batch,
                        int group);

#endif
