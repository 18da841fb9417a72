// sweep.h — bnlab sweep collect DIR: one table over a sweep's (or any comparison's) runs.
//
// Per run (variant = base variant x grid point): over the seeds that completed, for final and best test
// accuracy the mean, sample std, median, min and max, and for each target the median, min and max of the
// steps to reach it and how many seeds did. Written as sweep.csv and sweep.md, and plotted (sweep.png: final
// accuracy vs the first grid path, mean +- std, one line per base variant) when the grid's first values are
// numbers. Runs may have been made by `bnlab sweep`, GNU parallel or Slurm: only their directories are read.
#ifndef BNLAB_SWEEP_H
#define BNLAB_SWEEP_H

// 0 on success; -1 + message (not a comparison directory, unreadable compare.json).
int sweep_collect(const char *dir);

#endif
