// fold.h — batch normalization folded into the dense layer before it, for inference (bnlab fold).
//
// In evaluation a BN layer normalizes by fixed statistics, so it is an affine map per feature (Algorithm 2, step 11):
//   y = scale x + shift,  scale = gamma / sqrt(var + eps),  shift = beta - scale mu
// and a dense layer followed by it is one dense layer:
//   W' = diag(scale) W,   b' = scale b + shift = gamma (b - mu) / sqrt(var + eps) + beta   (b = 0 without a bias).
// LayerNorm and RMSNorm do not fold: they normalize each example by its own statistics, in evaluation too, so their
// scale depends on the input. Which layers are such maps is the registry's word (eval_affine: batchnorm in every
// variant and ablation option — "mean" has scale gamma, "variance" shift beta, renorm divides by its moving sigma).
#ifndef BNLAB_FOLD_H
#define BNLAB_FOLD_H

#include "nn/model.h"
#include "run/config.h"
#include "run/infer.h"

// The folded network of m (config cfg): every layer with an evaluation affine map, directly after a dense layer,
// removed and folded into that layer, which gains a bias if it had none. Builds *out (max_batch as m's) and fills
// out_cfg (cfg with the folded layer list; log.landscape's layer indices follow their layers). *n_folded: how many.
// -1 + message naming the layer: a normalization with no affine map in evaluation (layernorm, rmsnorm), a foldable
// layer not directly after a dense layer, or nothing to fold.
int fold_model(model_t *out, config_t *out_cfg, int *n_folded, const model_t *m, const config_t *cfg);

// Folds n's model (its statistics as they are: the running ones, or Algorithm 2's after recalibrate_bn) and writes
// the checkpoint of plain dense layers to `out` where runfiles_check_output allows it (never onto n->file, into a
// run's checkpoints/ or a live run); __metadata__ gains folded_from (n->file) and
// bn_statistics (how the statistics were taken). *n_folded: the layers folded. -1 + message.
int fold_checkpoint(const infer_t *n, const char *out, const char *bn_statistics, int *n_folded);

#endif
