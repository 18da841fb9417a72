// runfiles.h — every file a run writes in its directory — rundir.h's own (config.json, summary.json, checkpoints/,
// .lock, config.digest, environment.json) and every file of every recorder (the table, run/recorders.h) — and the
// guard every writer asks before it writes: a command never writes onto an input, onto one of a run's files or into
// a live run. Above the table in run/: a new log's files are guarded by its row, with no list to extend.
#ifndef BNLAB_RUNFILES_H
#define BNLAB_RUNFILES_H

// 1 if name (a path relative to a run directory) is one of the files a run writes there, as runfiles_check_output
// refuses them: rundir.h's own and every recorder's (tests/test_recorders.sh checks the table's against it).
int runfiles_own(const char *name);

// Where a command may write (every CLI writer of a checkpoint, a run or comparison directory, a page or a CSV asks
// this before it writes a byte). out: the file (is_dir 0) or directory (is_dir 1) about to be written, existing
// or not; inputs: the n_inputs files the command reads (NULL entries are skipped). Refused, in this order:
//  - out is one of the inputs: the same file by device and inode (another spelling, a hard link or a symbolic
//    link is found too), or, for a directory, an input lies inside it;
//  - out lies inside a run directory's checkpoints/ (a directory with config.json around it): a file there is
//    taken for a checkpoint the run can resume from; or out is one of the files a run writes, in a run directory
//    (its logs, config.json, summary.json, ...; not report.html or plots/, which report and plot write there);
//  - out lies inside a live run or comparison: a directory on the way up whose .lock another process holds (the
//    lock of this process's parent is no obstacle: the runs of a comparison write inside its directory).
// 0 if allowed; -1 + one line naming out and why. Reads only: stat, realpath and a shared flock tried and dropped.
int runfiles_check_output(const char *out, int is_dir, const char *const *inputs, int n_inputs);
#endif
