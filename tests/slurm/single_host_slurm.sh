#!/usr/bin/env bash
# A real single-host Slurm for the tests (issue 20): munged, slurmctld and slurmd of Debian's slurm-wlm,
# each with its own key, socket, ports, state and logs under DIR, so nothing of the machine's own Slurm (if
# any) is used or touched. CTest runs `up` as a fixture setup and `down` as its cleanup, which runs even when
# a test fails. Clients reach it with SLURM_CONF=DIR/slurm.conf.
# Usage: tests/slurm/single_host_slurm.sh up|down DIR
# `up` writes DIR/unavailable (one line: why) and exits 0 when this machine cannot run it (not root, Slurm or
# munge not installed): the suites then skip with that line.
set -uo pipefail
action=${1:?up or down}
dir=${2:?folder}

stop() {
  [[ -f "$dir/slurm.conf" ]] && SLURM_CONF="$dir/slurm.conf" scancel --full --quiet --user "$(id -un)" 2>/dev/null
  for name in slurmd slurmctld munged; do
    local pid_file="$dir/$name.pid"
    [[ -f "$pid_file" ]] || continue
    local pid
    pid=$(cat "$pid_file")
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
    rm -f "$pid_file"
  done
}

if [[ $action == down ]]; then
  stop
  rm -rf "$dir"
  exit 0
fi

rm -rf "$dir"
mkdir -p "$dir"/{state,spool,log}
unavailable() { echo "$1" >"$dir/unavailable"; echo "single_host_slurm: $1" >&2; exit 0; }
[[ $(id -u) -eq 0 ]] || unavailable "needs root (slurmd runs the jobs as their user)"
for tool in munged slurmctld slurmd sbatch srun scontrol; do
  command -v "$tool" >/dev/null || unavailable "$tool not found (scripts/install-deps.sh installs slurm-wlm and munge)"
done

# Free ports near one derived from our pid, so two test runs on one machine do not meet.
free_port() {
  local p=$1
  while ss -Htln "sport = :$p" | grep -q . || ss -Htln "sport = :$((p + 1))" | grep -q .; do p=$((p + 2)); done
  echo "$p"
}
port=$(free_port $((20000 + ($$ % 20000) * 2)))
host=$(hostname -s)
cpus=$(nproc)

head -c 1024 /dev/urandom >"$dir/munge.key"
chmod 600 "$dir/munge.key"
munged --force --key-file="$dir/munge.key" --socket="$dir/munge.sock" --pid-file="$dir/munged.pid" \
  --log-file="$dir/log/munged.log" --seed-file="$dir/munge.seed" || unavailable "munged did not start"

cat >"$dir/slurm.conf" <<CONF
ClusterName=parmtest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge.sock
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
InactiveLimit=0
MinJobAge=300
KillWait=2
Waittime=0
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$dir/slurm.conf"
slurmctld -c || { tail -5 "$dir/log/slurmctld.log" >&2; stop; exit 1; }
slurmd || { tail -5 "$dir/log/slurmd.log" >&2; stop; exit 1; }
for _ in $(seq 100); do
  [[ $(sinfo -h -o %T 2>/dev/null) == idle ]] && { echo "single_host_slurm: up in $dir (port $port)"; exit 0; }
  sleep 0.2
done
echo "single_host_slurm: the node did not come up idle: $(sinfo -h -o '%T %E' 2>&1)" >&2
tail -5 "$dir/log/slurmctld.log" "$dir/log/slurmd.log" >&2
stop
exit 1
