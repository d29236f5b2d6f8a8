#!/usr/bin/env bash
# A real single-host Slurm for the tests (issue 20): munged, slurmctld and slurmd of Debian's slurm-wlm,
# each with its own key, socket, ports and logs under DIR (the job state on tmpfs), so nothing of the machine's own Slurm (if
# any) is used or touched; and a login host: OpenSSH's sshd in a network namespace of its own (a veth link to
# this one, where slurmctld listens), with a key made here, reached as `parm-login` through DIR/login/bin/ssh
# (ssh -F DIR/login/ssh_config). CTest runs `up` as a fixture setup and `down` as its cleanup, which runs even
# when a test fails. Clients reach Slurm with SLURM_CONF=DIR/slurm.conf.
# Usage: tests/slurm/single_host_slurm.sh up|down DIR
# `up` writes DIR/unavailable (one line: why) and exits 0 when this machine cannot run it (not root, Slurm or
# munge not installed): the suites then skip with that line; DIR/login/unavailable the same for the login host.
set -uo pipefail
action=${1:?up or down}
dir=${2:?folder}

stop() {
  [[ -f "$dir/slurm.conf" ]] && SLURM_CONF="$dir/slurm.conf" scancel --full --quiet --user "$(id -un)" 2>/dev/null
  for name in login/sshd slurmd slurmctld munged; do
    local pid_file="$dir/$name.pid"
    [[ -f "$pid_file" ]] || continue
    local pid
    pid=$(cat "$pid_file")
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
    rm -f "$pid_file"
  done
  # A job step's daemon can outlive its slurmd (a cancelled step stuck in PMIx's teardown): ours are the ones
  # whose environment names this instance's slurm.conf.
  local stepd
  for stepd in $(pgrep -x slurmstepd); do
    tr '\0' '\n' <"/proc/$stepd/environ" 2>/dev/null | grep -qx "SLURM_CONF=$dir/slurm.conf" && kill -KILL "$stepd"
  done
  [[ -f "$dir/state_dir" ]] && rm -rf "$(cat "$dir/state_dir")"
  if [[ -f "$dir/login/names" ]]; then
    local ns veth
    read -r ns veth <"$dir/login/names"
    ip netns del "$ns" 2>/dev/null
    ip link del "$veth" 2>/dev/null
  fi
}

# The login host's namespace and link; prints the address slurmctld is reached at from both sides.
login_network() {
  local n=$(($$ % 200 + 20))
  local ns="parm-login-$$" veth="plg$n-a"
  mkdir -p "$dir/login"
  command -v sshd >/dev/null || { echo "sshd not found (scripts/install-deps.sh installs openssh-server)" >"$dir/login/unavailable"; return 1; }
  ip netns add "$ns" 2>/dev/null || { echo "cannot make a network namespace (ip netns add)" >"$dir/login/unavailable"; return 1; }
  echo "$ns $veth" >"$dir/login/names"
  ip link add "$veth" type veth peer name "plg$n-b" && ip link set "plg$n-b" netns "$ns" &&
    ip addr add "10.79.$n.1/24" dev "$veth" && ip link set "$veth" up &&
    ip netns exec "$ns" ip addr add "10.79.$n.2/24" dev "plg$n-b" && ip netns exec "$ns" ip link set "plg$n-b" up &&
    ip netns exec "$ns" ip link set lo up ||
    { echo "cannot link the login namespace" >"$dir/login/unavailable"; return 1; }
  echo "$n"
}

# sshd in the namespace, root's key made here; the client config names it parm-login (and parm-nowhere: a
# closed port there, for the unreachable case).
login_host() {
  local n=$1 ns
  read -r ns _ <"$dir/login/names"
  local l="$dir/login"
  mkdir -p "$l/bin" /run/sshd
  ssh-keygen -q -t ed25519 -N '' -f "$l/host_key" && ssh-keygen -q -t ed25519 -N '' -f "$l/id" || return 1
  cp "$l/id.pub" "$l/authorized_keys"
  cat >"$l/sshd_config" <<SSHD
Port 2222
ListenAddress 10.79.$n.2
HostKey $l/host_key
AuthorizedKeysFile $l/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PidFile $l/sshd.pid
# The login session sees this Slurm, and its jobs' waiting ranks yield (two cores for everything).
SetEnv SLURM_CONF=$dir/slurm.conf OMPI_MCA_mpi_yield_when_idle=1
SSHD
  cat >"$l/ssh_config" <<SSH
Host parm-login parm-nowhere
  HostName 10.79.$n.2
  User root
  IdentityFile $l/id
  IdentitiesOnly yes
  StrictHostKeyChecking no
  UserKnownHostsFile /dev/null
  LogLevel ERROR
Host parm-login
  Port 2222
Host parm-nowhere
  Port 1
SSH
  printf '#!/bin/sh\nexec %s -F %s "$@"\n' "$(command -v ssh)" "$l/ssh_config" >"$l/bin/ssh"
  chmod +x "$l/bin/ssh"
  ip netns exec "$ns" "$(command -v sshd)" -f "$l/sshd_config" -E "$l/sshd.log" || return 1
  for _ in $(seq 50); do
    "$l/bin/ssh" -o BatchMode=yes parm-login true 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

if [[ $action == down ]]; then
  stop
  # The daemons' logs outlive the fixture (a failed case is read against them), the rest goes.
  rm -rf "$dir.logs"
  [[ -d "$dir/log" ]] && cp -r "$dir/log" "$dir.logs"
  rm -rf "$dir"
  exit 0
fi

rm -rf "$dir"
mkdir -p "$dir"/log
# slurmctld saves its job state while holding the job lock (seconds on a busy disk, during which even
# `scontrol show job` waits): state and spool go on tmpfs where there is one.
state=$(mktemp -d /dev/shm/parm-slurm.XXXXXX 2>/dev/null) || state="$dir/run"
echo "$state" >"$dir/state_dir"
mkdir -p "$state"/{state,spool}
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
# Eight job slots whatever the cores (config_overrides: slurmd takes the configured count): a case's job never
# waits for resources behind the job running past its time limit or one still completing.
cpus=$(( $(nproc) > 8 ? $(nproc) : 8 ))
ctl_addr=127.0.0.1
if login_n=$(login_network); then ctl_addr="10.79.$login_n.1"; fi

head -c 1024 /dev/urandom >"$dir/munge.key"
chmod 600 "$dir/munge.key"
munged --force --key-file="$dir/munge.key" --socket="$dir/munge.sock" --pid-file="$dir/munged.pid" \
  --log-file="$dir/log/munged.log" --seed-file="$dir/munge.seed" || unavailable "munged did not start"

cat >"$dir/slurm.conf" <<CONF
ClusterName=parmtest
SlurmctldHost=$host($ctl_addr)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge.sock
CredType=cred/munge
StateSaveLocation=$state/state
SlurmdSpoolDir=$state/spool
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
# MessageTimeout stays at its 10 s: a cancelled step's daemon can wait out several of them on a message to its
# srun, and the controller waits with it.
# Job ids of their own: a step's PMIx folder left behind by an earlier instance (Slurm cannot always remove
# it) failed the launch of the job that reused its id.
FirstJobId=$((1000 + RANDOM * 100))
SlurmdParameters=config_overrides
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
# The PMIx plugin's per-step folders inside ours (default /tmp/spmix_appdir_*), removed with it.
mkdir -p "$state/pmix"
# A cancelled step's slurmstepd sometimes waited out PMIx's 300 s default in its teardown (the job stayed
# COMPLETING): bound it.
printf 'PMIxCliTmpDirBase=%s\nPMIxTimeout=10\n' "$state/pmix" >"$dir/mpi.conf"
export SLURM_CONF="$dir/slurm.conf"
slurmctld -c || { tail -5 "$dir/log/slurmctld.log" >&2; stop; exit 1; }
slurmd || { tail -5 "$dir/log/slurmd.log" >&2; stop; exit 1; }
for _ in $(seq 100); do
  if [[ $(sinfo -h -o %T 2>/dev/null) == idle ]]; then
    if [[ -n ${login_n:-} ]] && ! login_host "$login_n"; then
      echo "sshd did not come up in the login namespace: $(tail -1 "$dir/login/sshd.log" 2>/dev/null)" >"$dir/login/unavailable"
    fi
    echo "single_host_slurm: up in $dir (port $port, slurmctld at $ctl_addr)"
    exit 0
  fi
  sleep 0.2
done
echo "single_host_slurm: the node did not come up idle: $(sinfo -h -o '%T %E' 2>&1)" >&2
tail -5 "$dir/log/slurmctld.log" "$dir/log/slurmd.log" >&2
stop
exit 1
