#!/usr/bin/env bash
# A one-machine Slurm cluster (munged + slurmctld + slurmd) in a directory of its own: no
# systemd, no cgroups, nothing in /etc. For trying the array template and for the tests.
#
#   deploy/slurm/local-cluster.sh start DIR   # prints `export SLURM_CONF=DIR/slurm.conf`
#   deploy/slurm/local-cluster.sh stop DIR
#
# Needs Debian's slurmctld, slurmd, slurm-client and munge (.ci/run installs them). Works as
# root or as one non-root user (the daemons then run as that user, for that user's jobs).
# Traffic stays on loopback. Ports: CTLD_PORT (default 6817), SLURMD_PORT (6818).
set -euo pipefail

cmd=${1:-}; D=${2:-}
[ -n "$cmd" ] && [ -n "$D" ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }

stop() {
  [ -f "$D/pids" ] || return 0
  # Reverse order: slurmd, slurmctld, munged.
  for p in $(tac "$D/pids"); do kill "$p" 2>/dev/null || true; done
  for p in $(cat "$D/pids"); do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
  done
  rm -f "$D/pids"
}

case "$cmd" in
  stop) stop; exit 0 ;;
  start) ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac

for prog in munged slurmctld slurmd sinfo; do
  command -v "$prog" >/dev/null || {
    echo "error: $prog not found; install slurmctld slurmd slurm-client munge" >&2; exit 1; }
done
mkdir -p "$D"/{munge,state,spool,log}
chmod 755 "$D" "$D/munge"   # the socket dir must be traversable by submitters
: > "$D/pids"
trap 'rc=$?; if [ $rc -ne 0 ]; then tail -n 20 "$D"/log/* >&2 || true; stop; fi' EXIT
HOST=$(hostname -s)
NODELINE=$(slurmd -C | head -n 1)   # "NodeName=<host> CPUs=.. RealMemory=.."
ME=$(id -un)

dd if=/dev/urandom of="$D/munge/munge.key" bs=1 count=1024 status=none
chmod 400 "$D/munge/munge.key"
munged -F -f --key-file="$D/munge/munge.key" --socket="$D/munge/munge.sock" \
  --pid-file="$D/munge/munged.pid" --seed-file="$D/munge/munged.seed" \
  --log-file="$D/log/munged.log" >"$D/log/munged.out" 2>&1 &
echo $! >> "$D/pids"
for _ in $(seq 50); do [ -S "$D/munge/munge.sock" ] && break; sleep 0.1; done

cat >"$D/slurm.conf" <<CONF
ClusterName=smelt-local
SlurmctldHost=$HOST(127.0.0.1)
SlurmctldPort=${CTLD_PORT:-6817}
SlurmdPort=${SLURMD_PORT:-6818}
SlurmUser=$ME
SlurmdUser=$ME
AuthType=auth/munge
AuthInfo=socket=$D/munge/munge.sock
CredType=cred/munge
StateSaveLocation=$D/state
SlurmdSpoolDir=$D/spool
SlurmctldPidFile=$D/slurmctld.pid
SlurmdPidFile=$D/slurmd.pid
SlurmctldLogFile=$D/log/slurmctld.log
SlurmdLogFile=$D/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
MpiDefault=none
SwitchType=switch/none
ReturnToService=2
KillWait=30
SlurmdParameters=config_overrides
MailProg=/bin/true
$NODELINE NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$D/slurm.conf"

slurmctld -D -i -f "$SLURM_CONF" >"$D/log/slurmctld.out" 2>&1 &
echo $! >> "$D/pids"
slurmd -D -N "$HOST" -f "$SLURM_CONF" >"$D/log/slurmd.out" 2>&1 &
echo $! >> "$D/pids"

t0=$(date +%s)
until sinfo -h -o '%T' 2>/dev/null | grep -qx idle; do
  if (( $(date +%s) - t0 > 60 )); then echo "error: the node never became idle" >&2; exit 1; fi
  sleep 0.5
done
echo "export SLURM_CONF=$SLURM_CONF"
