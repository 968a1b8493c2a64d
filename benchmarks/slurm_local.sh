#!/usr/bin/env bash
# A single-node SLURM on this machine, from Debian's packages, for trying profiles/slurm for real.
#
#   benchmarks/slurm_local.sh install          # apt-get install slurm-wlm munge (root, once)
#   benchmarks/slurm_local.sh run -- CMD ...    # start SLURM, run CMD with SLURM_CONF set, stop it
#   benchmarks/slurm_local.sh up [DIR]          # start it; prints the folder (last line of stdout)
#   benchmarks/slurm_local.sh down DIR          # stop what `up DIR` started and remove DIR
#
# e.g. benchmarks/slurm_local.sh run -- .venv/bin/snakemake --profile profiles/slurm
#
# What it starts: munged, slurmctld and slurmd, each with its own key, socket, ports, state,
# spool, pid and log files under one temporary folder (the system's /etc/slurm, /etc/munge,
# /run and /var are neither read nor written; a SLURM or munge running here is left alone,
# on ports of their own). The node has the
# machine's CPUs (nproc) and memory (free -m), in one partition named `main`, the partition
# profiles/slurm asks for. Accounting is off (no slurmdbd, no MariaDB): the executor plugin
# reads job states with squeue (profiles/slurm sets `slurm-status-command: squeue`), which
# sees finished jobs for MinJobAge seconds (300 here, SLURM's default).
# `down` cancels the jobs still queued or running on this cluster and stops the daemons by the
# process ids they wrote, nothing else.
#
# slurmd runs in a mount namespace of its own in which /etc/slurm is this folder's etc/: the
# executor plugin's job step (snakemake-executor-plugin-slurm-jobstep 0.6) clears every SLURM_*
# variable but a few before its `srun`, SLURM_CONF among them, so a job's srun reads
# /etc/slurm/slurm.conf whatever SLURM_CONF says. Outside that namespace /etc/slurm is untouched.
set -euo pipefail
# Debian installs the daemons (munged, slurmctld, slurmd) in /usr/sbin, off a user's PATH.
export PATH=$PATH:/usr/sbin:/sbin

usage() { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
die() { echo "slurm_local: $*" >&2; exit 1; }

# SLURM's daemons run as root here (SlurmUser=root): they start jobs as the submitting user.
need_tools() {
  [[ $(id -u) -eq 0 ]] || die "must run as root (slurmd starts jobs as their user); got uid $(id -u)"
  local tool missing=()
  for tool in munged slurmctld slurmd sbatch squeue scontrol sinfo scancel unshare python3; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
  done
  ((${#missing[@]} == 0)) || die "not installed: ${missing[*]} (run: $0 install)"
  [[ -d /etc/slurm ]] || die "/etc/slurm is missing (Debian's slurm-client makes it; run: $0 install)"
}

# Two TCP ports nobody listens on, so a system SLURM on the default 6817/6818 is not disturbed.
free_ports() {
  python3 -c 'import socket
socks = [socket.socket() for _ in range(2)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))
for s in socks:
    s.close()'
}

# The pid a daemon wrote, if that process is still alive.
live_pid() {
  local file=$1 pid
  [[ -s $file ]] || return 1
  pid=$(<"$file")
  [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

wait_for_file() {  # FILE SECONDS
  local i
  for ((i = 0; i < $2 * 10; i++)); do [[ -s $1 ]] && return 0; sleep 0.1; done
  return 1
}

show_logs() {
  local log
  for log in "$1"/log/*.log; do
    [[ -f $log ]] && { echo "--- $log (last lines)"; tail -n 15 "$log"; }
  done >&2
}

up() {
  need_tools
  local dir=${1:-}
  if [[ -z $dir ]]; then
    dir=$(mktemp -d /tmp/exosynth-slurm.XXXXXX)
  else
    mkdir -p "$dir"
    [[ -z $(ls -A "$dir") ]] || die "$dir is not empty"
  fi
  dir=$(cd "$dir" && pwd)
  # munged refuses a socket path a group or others may write to
  chmod 700 "$dir"
  mkdir -p "$dir"/{etc,munge,state,spool,log}
  chmod 700 "$dir"/munge

  local host cpus mem_mb ctld_port d_port
  host=$(hostname -s)
  cpus=$(nproc)
  # slurmd drains a node whose configured memory exceeds what it finds: take free's total,
  # which is what `slurmd -C` reports as RealMemory.
  mem_mb=$(free -m | awk '/^Mem:/ {print $2}')
  read -r ctld_port d_port < <(free_ports)

  dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
  chmod 400 "$dir/munge/munge.key"
  : >"$dir/etc/plugstack.conf"  # no SPANK plugins (the system's plugstack.conf.d is not read)

  cat >"$dir/etc/slurm.conf" <<EOF
# Written by benchmarks/slurm_local.sh: a single-node SLURM under $dir
ClusterName=exosynth
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$d_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool/%n
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
PlugStackConfig=$dir/etc/plugstack.conf
# No cgroups (containers rarely delegate them); no accounting: no slurmdbd, no MariaDB.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/affinity
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
ReturnToService=2
# squeue reports a finished job for MinJobAge seconds; the executor plugin polls with squeue
# only where MinJobAge >= 3 x its first status-check delay (40 s by default).
MinJobAge=300
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=main Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
  cat >"$dir/env" <<EOF
export SLURM_CONF=$dir/etc/slurm.conf
EOF

  munged --force --socket="$dir/munge/munge.socket" --key-file="$dir/munge/munge.key" \
    --pid-file="$dir/munged.pid" --seed-file="$dir/munge/munged.seed" \
    --log-file="$dir/log/munged.log" \
    || { show_logs "$dir"; die "munged did not start"; }
  wait_for_file "$dir/munged.pid" 10 || { show_logs "$dir"; down "$dir" keep; die "munged wrote no pid file"; }

  export SLURM_CONF=$dir/etc/slurm.conf
  slurmctld -f "$SLURM_CONF" -i || { show_logs "$dir"; down "$dir" keep; die "slurmctld did not start"; }
  wait_for_file "$dir/slurmctld.pid" 20 || { show_logs "$dir"; down "$dir" keep; die "slurmctld wrote no pid file"; }
  # shellcheck disable=SC2016  # expanded by the inner shell
  unshare --mount --propagation private sh -c 'mount --bind "$1" /etc/slurm && exec slurmd -f /etc/slurm/slurm.conf' \
    sh "$dir/etc" || { show_logs "$dir"; down "$dir" keep; die "slurmd did not start"; }
  wait_for_file "$dir/slurmd.pid" 20 || { show_logs "$dir"; down "$dir" keep; die "slurmd wrote no pid file"; }

  # Ready when the node takes jobs.
  local state="" i
  for ((i = 0; i < 300; i++)); do
    state=$(sinfo -h -N -o %T 2>/dev/null | head -n 1 || true)
    [[ $state == idle ]] && break
    sleep 0.1
  done
  if [[ $state != idle ]]; then
    show_logs "$dir"
    down "$dir" keep
    die "the node did not become idle (state: '${state:-none}'); logs above"
  fi
  echo "slurm_local: SLURM $(sinfo -V | awk '{print $2}') up: node $host, $cpus CPUs, $mem_mb MB, partition main; SLURM_CONF=$SLURM_CONF" >&2
  echo "$dir"
}

down() {
  local dir=${1:?down needs the folder that up printed} keep=${2:-}
  [[ -f $dir/etc/slurm.conf ]] || die "$dir is not a folder made by $0 up"
  export SLURM_CONF=$dir/etc/slurm.conf
  local pid name i
  # Jobs first, through SLURM, so their step daemons end with them.
  if pid=$(live_pid "$dir/slurmctld.pid"); then
    scancel --quiet --full --state=PENDING,RUNNING,SUSPENDED --user="$(id -un)" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
      [[ -z $(squeue -h -t PENDING,RUNNING,SUSPENDED,COMPLETING -o %i 2>/dev/null) ]] && break
      sleep 0.1
    done
  fi
  for name in slurmd slurmctld munged; do
    pid=$(live_pid "$dir/$name.pid") || continue
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "slurm_local: $name ($pid) ignored SIGTERM for 10 s, sending SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  [[ $keep == keep ]] || rm -rf -- "$dir"
}

install() {
  [[ $(id -u) -eq 0 ]] || die "apt-get needs root"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
}

RUN_DIR=""  # global: the EXIT trap runs after run() has returned
run() {
  [[ ${1:-} == -- ]] && shift
  (($# > 0)) || usage
  local status=0
  RUN_DIR=$(up | tail -n 1)
  trap 'down "$RUN_DIR"' EXIT
  trap 'exit 130' INT TERM
  SLURM_CONF=$RUN_DIR/etc/slurm.conf "$@" || status=$?
  return "$status"
}

case ${1:-} in
  up) shift; up "$@" ;;
  down) shift; down "$@" ;;
  run) shift; run "$@" ;;
  install) install ;;
  *) usage ;;
esac
