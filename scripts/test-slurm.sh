#!/usr/bin/env bash
# A real single-node Slurm on this machine (Debian's slurm-wlm + munge, configured in a private directory and
# pointed to by SLURM_CONF, so nothing of the system's is touched), then a small bnlab sweep submitted through
# sbatch as a job array: every task must arrive, and `bnlab sweep collect` must match a local `bnlab sweep`.
# Needs root (installs packages, starts munged/slurmctld/slurmd as root). Ends with "slurm: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
bash scripts/setup.sh >/dev/null || exit 1
[ "$(id -u)" -eq 0 ] || { echo "test-slurm: needs root"; exit 1; }
bash scripts/ensure-packages.sh slurm-wlm munge || exit 1
source tests/harness.sh

D=$(mktemp -d /tmp/bnlab-slurm-XXXXXX)
chmod 755 "$D"
cleanup() {
  [ -f "$D/slurmd.pid" ] && kill "$(cat "$D/slurmd.pid")" 2>/dev/null
  [ -f "$D/slurmctld.pid" ] && kill "$(cat "$D/slurmctld.pid")" 2>/dev/null
  sleep 1
  rm -rf "$D"
}
trap cleanup EXIT

# munge: a key if there is none, and the daemon.
if [ ! -s /etc/munge/munge.key ]; then
  mkdir -p /etc/munge
  dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 2>/dev/null
fi
chown munge:munge /etc/munge/munge.key 2>/dev/null; chmod 400 /etc/munge/munge.key
mkdir -p /run/munge /var/log/munge /var/lib/munge
chown munge:munge /run/munge /var/log/munge /var/lib/munge 2>/dev/null
if ! munge -n </dev/null >/dev/null 2>&1; then
  runuser -u munge -- /usr/sbin/munged --force 2>/dev/null || /usr/sbin/munged --force
  sleep 1
fi
check 'munge -n </dev/null | unmunge >/dev/null 2>&1' "munge does not work"

HOST=$(hostname -s)
mkdir -p "$D/state" "$D/spool"
cat >"$D/slurm.conf" <<CONF
ClusterName=bnlab
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$D/state
SlurmdSpoolDir=$D/spool
SlurmctldPidFile=$D/slurmctld.pid
SlurmdPidFile=$D/slurmd.pid
SlurmctldLogFile=$D/slurmctld.log
SlurmdLogFile=$D/slurmd.log
SlurmctldPort=16817
SlurmdPort=16818
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=bnlab Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$D/slurm.conf
/usr/sbin/slurmctld -i
/usr/sbin/slurmd -N "$HOST"
for _ in $(seq 60); do
  sinfo -h -o %T 2>/dev/null | grep -q idle && break
  sleep 1
done
check 'sinfo -h -o %T | grep -q idle' "the node did not come up: $(sinfo 2>&1 | tail -2; tail -3 "$D/slurmctld.log" "$D/slurmd.log" 2>/dev/null)"

# The sweep: 2 variants x 2 learning rates x 2 seeds = 8 array tasks.
cat >"$D/sweep.json" <<JSON
{"name": "slurm-sweep", "variants": [{"name": "bn", "config": "$ROOT/configs/quick-bn.json"},
                                     {"name": "nobn", "config": "$ROOT/configs/quick-nobn.json"}],
 "grid": {"train.optimizer.lr": [0.5, 4]}, "seeds": 2, "targets": [0.5, 0.8],
 "set": {"train.epochs": 2, "data.train_limit": 1200, "data.test_limit": 500, "log.ics_every": 0}}
JSON
build/bnlab sweep "$D/sweep.json" --out "$D/out" --emit slurm --sbatch "--time=00:10:00" >/dev/null
rc=$?
check '[ $rc -eq 0 ] && [ -s "$D/out/sweep.sbatch" ]' "emit failed"
timeout 600 sbatch --wait --quiet "$D/out/sweep.sbatch" >"$D/sbatch.out" 2>&1
rc=$?
check '[ $rc -eq 0 ]' "sbatch --wait: exit $rc: $(cat "$D/sbatch.out"; ls "$D/out" | head)"
n=$(ls "$D"/out/*/seed-*/summary.json 2>/dev/null | wc -l)
check '[ "$n" -eq 8 ]' "$n of 8 array tasks delivered results"
check '[ "$(grep -l "\"completed\"" "$D"/out/*/seed-*/summary.json | wc -l)" -eq 8 ]' "not every task completed"
check '[ "$(ls "$D"/out/slurm-*_*.out 2>/dev/null | wc -l)" -eq 8 ]' "Slurm output files of the 8 tasks"
build/bnlab sweep collect "$D/out" >/dev/null 2>&1
build/bnlab sweep "$D/sweep.json" --out "$D/local" --jobs 2 >/dev/null 2>&1
check 'cmp -s <(cut -d, -f1-15 "$D/out/sweep.csv") <(cut -d, -f1-15 "$D/local/sweep.csv")' \
  "the Slurm sweep's table differs from a local sweep's"
finish slurm
