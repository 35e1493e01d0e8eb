# shellcheck shell=bash
# End-to-end test library: a loom deployment in network namespaces on one machine.
#
#   source "$(dirname "$0")/lib.sh"
#   e2e_init basic                 # run id, work dir, cleanup trap, skips (exit 77)
#   e2e_underlay                   # ns <id>-u: bridge "ubr" 198.18.0.254/24, etcd, loom-api
#   e2e_import topology.json       # loomctl import --keep-ids
#   e2e_host 1                     # ns <id>-h1: veth "ul" 198.18.0.1/24 on the bridge, loom-agent
#   e2e_vm 1 a1 a1 02:.. 10.0.0.11/24 10.0.0.1     # ns <id>-a1: eth0 <-> "a1" in <id>-h1
#   expect_ok "a1 pings a2" vm_exec a1 ping -c 3 10.0.0.12
#   e2e_finish                     # last line: non-zero if an assertion failed
#
# Names: namespaces are "lm" + a 5-character run id + "-" + suffix ("lm3fa01-h1"), so runs never
# collide and a run's namespaces are easy to find. Interfaces: "ubr" and "hN" (underlay ns), "ul"
# (host ns), "eth0" (VM ns), the port's interface name (host ns); all <= 15 characters.
#
# Cleanup (EXIT, INT, TERM; also after a failed assertion or an unexpected error under set -e):
# every process started here and every process left in the run's namespaces gets SIGTERM, then
# SIGKILL after a short grace; the namespaces are deleted, the bpffs unmounted (umount -l) and
# the work dir removed. A run killed with SIGKILL cannot clean up: the next e2e_init removes what
# runs whose owner process is gone left behind (registry in /tmp/loom-e2e-runs).
#
# Environment:
#   LOOM_BIN_DIR   directory with loom-agent, loom-api, loomctl (default: $LOOM_SRC/build/debug/apps)
#   LOOM_SRC       source tree (default: two levels above this file)
#   E2E_NO_AGENT=1 e2e_host builds the host namespace but starts no agent (harness self-test)
#   E2E_AGENT_ARGS extra loom-agent flags (word-split)
#   E2E_KEEP=1     leave everything running at exit (prints how to remove it) for debugging
#   E2E_VERBOSE=1  echo every command run through the helpers

set -eEuo pipefail

LOOM_SRC=${LOOM_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
LOOM_BIN_DIR=${LOOM_BIN_DIR:-$LOOM_SRC/build/debug/apps}
E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

E2E_UNDERLAY_IP=198.18.0.254
E2E_API_PORT=8080
E2E_ETCD_PORT=2379
E2E_METRICS_PORT=9464
E2E_HOST_UUID_PREFIX=d1e2e000-0000-4000-8000-
E2E_REGISTRY=/tmp/loom-e2e-runs

E2E_ID=""
E2E_NAME=""
E2E_WORK=""
E2E_U=""
E2E_PIDS=()
E2E_NETNS=()
E2E_BPF_MOUNTED=0
E2E_SPAWNED=""
E2E_OUT_FD=""
E2E_ERR_FD=""
E2E_FAILS=0
E2E_PASSES=0
declare -A E2E_AGENT_PID=()
declare -A E2E_AGENT_GEN=()

_e2e_log() { printf '[e2e %s] %s\n' "$(date +%T)" "$*"; }
_e2e_run() {
  [ "${E2E_VERBOSE:-0}" = 1 ] && printf '+ %s\n' "$*" >&2
  "$@"
}
e2e_die() {
  printf 'FATAL: %s\n' "$*" >&2
  E2E_FAILS=$((E2E_FAILS + 1))
  exit 1
}
e2e_skip() {
  printf 'SKIP: %s\n' "$*"
  exit 77
}

# ---------------------------------------------------------------------------------------------
# Run setup and cleanup.

e2e_host_uuid() { printf '%s%012x' "$E2E_HOST_UUID_PREFIX" "$1"; }

# Removes what earlier runs left behind when their owner process died without cleaning up
# (SIGKILL, e.g. a ctest timeout). Only runs registered in $E2E_REGISTRY whose pid is gone.
_e2e_reap_stale() {
  [ -d "$E2E_REGISTRY" ] || return 0
  local f id pid work ns p
  for f in "$E2E_REGISTRY"/*; do
    [ -f "$f" ] || continue
    id=$(basename "$f")
    read -r pid work <"$f" || continue
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then continue; fi
    _e2e_log "removing leftovers of dead run $id (pid $pid, work dir $work)"
    for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^lm$id-" || true); do
      for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
    done
    sleep 0.2
    for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^lm$id-" || true); do
      ip netns del "$ns" 2>/dev/null || true
    done
    if [ -n "$work" ]; then
      mountpoint -q "$work/bpf" 2>/dev/null && umount -l "$work/bpf" 2>/dev/null
      case $work in /tmp/loom-e2e-*) rm -rf "$work" ;; esac
    fi
    rm -f "$f"
  done
}

# e2e_init NAME: checks prerequisites (exit 77 = skipped), picks the run id, makes the work dir
# and installs the cleanup trap.
e2e_init() {
  E2E_NAME=${1:?e2e_init NAME}
  [ "$(id -u)" = 0 ] || e2e_skip "needs root (network namespaces, bpffs, BPF)"
  local t
  for t in ip etcd curl python3 ping mount umount mountpoint; do
    command -v "$t" >/dev/null || e2e_skip "$t not installed"
  done
  [ -x "$LOOM_BIN_DIR/loom-api" ] || e2e_skip "no loom-api in $LOOM_BIN_DIR (set LOOM_BIN_DIR)"
  [ -x "$LOOM_BIN_DIR/loomctl" ] || e2e_skip "no loomctl in $LOOM_BIN_DIR (set LOOM_BIN_DIR)"
  if [ "${E2E_NO_AGENT:-0}" != 1 ] && [ ! -x "$LOOM_BIN_DIR/loom-agent" ]; then
    e2e_skip "no loom-agent in $LOOM_BIN_DIR"
  fi
  ip netns list >/dev/null 2>&1 || e2e_skip "cannot use network namespaces"

  mkdir -p "$E2E_REGISTRY"
  _e2e_reap_stale
  local tries=0
  while :; do
    E2E_ID=$(printf '%05x' $(((($$ << 10) ^ (RANDOM << 5) ^ RANDOM) & 0xfffff)))
    if [ ! -e "$E2E_REGISTRY/$E2E_ID" ] && ! compgen -G "/run/netns/lm$E2E_ID-*" >/dev/null; then
      break
    fi
    tries=$((tries + 1))
    [ $tries -lt 20 ] || e2e_die "no free run id"
  done
  E2E_WORK=$(mktemp -d "/tmp/loom-e2e-$E2E_NAME.XXXXXX")
  echo "$$ $E2E_WORK" >"$E2E_REGISTRY/$E2E_ID"
  E2E_U="lm$E2E_ID-u"
  # The script's stdout and stderr, for cleanup: bash may run a signal's trap while an
  # assertion's output redirection is still in place.
  exec {E2E_OUT_FD}>&1 {E2E_ERR_FD}>&2
  trap _e2e_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap '_e2e_on_err $? $LINENO "$BASH_COMMAND"' ERR
  _e2e_log "run $E2E_NAME: id $E2E_ID, work dir $E2E_WORK, binaries $LOOM_BIN_DIR"
}

_e2e_on_err() {
  # Only reached for an unexpected failure outside an assertion: set -e is about to exit.
  # Background jobs that cleanup terminates are not errors.
  case $1 in 130 | 137 | 143) return 0 ;; esac
  printf 'ERROR: command failed (status %s) at line %s: %s\n' "$1" "$2" "$3" >&2
  local i
  for ((i = 1; i < ${#FUNCNAME[@]} - 1; i++)); do
    printf '  in %s (%s:%s)\n' "${FUNCNAME[$i]}" "$(basename "${BASH_SOURCE[$((i + 1))]}")" \
      "${BASH_LINENO[$i]}" >&2
  done
}

_e2e_dump_logs() {
  local f
  for f in "$E2E_WORK"/*.log "$E2E_WORK"/h*/agent*.log; do
    [ -f "$f" ] || continue
    printf -- '----- last lines of %s\n' "${f#"$E2E_WORK"/}"
    case $f in */etcd.log) tail -n 5 "$f" ;; *) tail -n 40 "$f" ;; esac
  done
}

_e2e_cleanup() {
  local rc=$?
  trap - EXIT INT TERM ERR
  set +eE
  [ -n "$E2E_WORK" ] || exit "$rc"
  [ -z "$E2E_OUT_FD" ] || exec 1>&"$E2E_OUT_FD" 2>&"$E2E_ERR_FD"
  if [ "$rc" = 0 ] && [ "$E2E_FAILS" != 0 ]; then rc=1; fi
  case $rc in 130 | 143) printf 'ABORTED by a signal (status %s)\n' "$rc" ;; esac
  if [ "$rc" != 0 ] && [ "$rc" != 77 ]; then _e2e_dump_logs; fi
  if [ "${E2E_KEEP:-0}" = 1 ]; then
    _e2e_log "E2E_KEEP=1: left running; remove with: kill ${E2E_PIDS[*]:-}; for n in ${E2E_NETNS[*]:-}; do ip netns del \$n; done; umount -l $E2E_WORK/bpf; rm -rf $E2E_WORK $E2E_REGISTRY/$E2E_ID"
    exit "$rc"
  fi
  # 1. Processes: ours, and whatever else lives in our namespaces (iperf3 -D, background pings).
  local pids=() p ns i
  for p in "${E2E_PIDS[@]}" $(jobs -p); do pids+=("$p"); done
  for ns in "${E2E_NETNS[@]}"; do
    for p in $(ip netns pids "$ns" 2>/dev/null); do pids+=("$p"); done
  done
  if [ ${#pids[@]} -gt 0 ]; then
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for ((i = 0; i < 30; i++)); do
      local alive=0
      for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1 && break; done
      [ $alive = 0 ] && break
      sleep 0.1
    done
    for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
    # Anything started in our namespaces meanwhile.
    for ns in "${E2E_NETNS[@]}"; do
      for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
    done
    # Reap our children (all were SIGKILLed, so this cannot block).
    for p in "${E2E_PIDS[@]}" $(jobs -p); do wait "$p" 2>/dev/null; done
  fi
  # 2. Namespaces, VMs first (their veths take the host-side peers with them).
  for ((i = ${#E2E_NETNS[@]} - 1; i >= 0; i--)); do
    ip netns del "${E2E_NETNS[$i]}" 2>/dev/null
  done
  # 3. bpffs (pinned maps and links go with it), 4. work dir and registry entry.
  if [ "$E2E_BPF_MOUNTED" = 1 ]; then umount -l "$E2E_WORK/bpf" 2>/dev/null; fi
  rm -rf "$E2E_WORK"
  rm -f "$E2E_REGISTRY/$E2E_ID"
  exit "$rc"
}

# e2e_finish: summary; the script's exit status is non-zero if any assertion failed.
e2e_finish() {
  trap - ERR
  printf '\n%s: %d passed, %d failed\n' "$E2E_NAME" "$E2E_PASSES" "$E2E_FAILS"
  [ "$E2E_FAILS" = 0 ] && return 0
  return 1
}

# ---------------------------------------------------------------------------------------------
# Namespaces and processes.

_e2e_netns_add() {
  _e2e_run ip netns add "$1"
  E2E_NETNS+=("$1")
  # No IPv6: its ND/MLD chatter would show up in the packet counts the tests compare.
  ip netns exec "$1" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 \
    net.ipv6.conf.default.disable_ipv6=1 >/dev/null
  ip -n "$1" link set lo up
}

# _e2e_spawn NS LOG CMD...: starts CMD in NS in the background; its pid goes to E2E_PIDS and to
# $E2E_SPAWNED. `ip netns exec` execs CMD, so the pid is CMD's own.
_e2e_spawn() {
  local ns=$1 log=$2
  shift 2
  [ "${E2E_VERBOSE:-0}" = 1 ] && printf '+ [%s] %s &\n' "$ns" "$*" >&2
  ip netns exec "$ns" "$@" >>"$log" 2>&1 </dev/null {E2E_OUT_FD}>&- {E2E_ERR_FD}>&- &
  E2E_SPAWNED=$!
  E2E_PIDS+=("$E2E_SPAWNED")
}

# _e2e_wait_log LOG REGEX TIMEOUT_S PID WHAT: waits until LOG has a line matching REGEX.
_e2e_wait_log() {
  local log=$1 re=$2 timeout=$3 pid=$4 what=$5 i
  for ((i = 0; i < timeout * 10; i++)); do
    grep -Eq -- "$re" "$log" 2>/dev/null && return 0
    if ! kill -0 "$pid" 2>/dev/null; then
      printf '%s exited before it was ready; %s:\n' "$what" "$log" >&2
      cat "$log" >&2
      e2e_die "$what did not start"
    fi
    sleep 0.1
  done
  printf '%s not ready after %s s; %s:\n' "$what" "$timeout" "$log" >&2
  cat "$log" >&2
  e2e_die "$what did not start"
}

# e2e_underlay: namespace <id>-u with the underlay bridge (198.18.0.254/24), etcd (listening on
# 127.0.0.1 and 198.18.0.254) and loom-api (198.18.0.254:8080, bearer token in $E2E_WORK/token).
e2e_underlay() {
  local u=$E2E_U
  _e2e_netns_add "$u"
  _e2e_run ip -n "$u" link add ubr type bridge
  ip -n "$u" addr add "$E2E_UNDERLAY_IP/24" dev ubr
  ip -n "$u" link set ubr up

  # etcd: the settings of scripts/etcd.sh, plus a listener on the underlay address.
  local peer=$((E2E_ETCD_PORT + 1)) i
  _e2e_spawn "$u" "$E2E_WORK/etcd.log" etcd --name loom --data-dir "$E2E_WORK/etcd" \
    --listen-client-urls "http://127.0.0.1:$E2E_ETCD_PORT,http://$E2E_UNDERLAY_IP:$E2E_ETCD_PORT" \
    --advertise-client-urls "http://$E2E_UNDERLAY_IP:$E2E_ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
    --initial-cluster "loom=http://127.0.0.1:$peer" \
    --auto-compaction-mode periodic --auto-compaction-retention 1h \
    --grpc-keepalive-min-time 1s --max-request-bytes 1572864 --max-txn-ops 128 \
    --logger zap --log-outputs stderr
  local etcd_pid=$E2E_SPAWNED
  for ((i = 0; i < 200; i++)); do
    if ip netns exec "$u" curl -fs -m 1 "http://$E2E_UNDERLAY_IP:$E2E_ETCD_PORT/health" 2>/dev/null |
      grep -q '"health":"true"'; then
      break
    fi
    kill -0 "$etcd_pid" 2>/dev/null || { tail -n 30 "$E2E_WORK/etcd.log" >&2; e2e_die "etcd exited"; }
    sleep 0.1
  done
  [ "$i" -lt 200 ] || { tail -n 30 "$E2E_WORK/etcd.log" >&2; e2e_die "etcd not healthy after 20 s"; }

  head -c 24 /dev/urandom | base64 >"$E2E_WORK/token"
  _e2e_spawn "$u" "$E2E_WORK/api.log" "$LOOM_BIN_DIR/loom-api" \
    --etcd "127.0.0.1:$E2E_ETCD_PORT" --root /loom --listen "$E2E_UNDERLAY_IP:$E2E_API_PORT" \
    --token-file "$E2E_WORK/token"
  _e2e_wait_log "$E2E_WORK/api.log" '^loom-api listening on ' 20 "$E2E_SPAWNED" loom-api
  _e2e_log "underlay up: etcd $E2E_UNDERLAY_IP:$E2E_ETCD_PORT, loom-api http://$E2E_UNDERLAY_IP:$E2E_API_PORT"
}

# The bpffs for pinned maps and links: one per run, mounted in the root mount namespace (the
# namespaces `ip netns exec` makes are its slaves, so every agent sees it).
_e2e_bpffs() {
  [ "$E2E_BPF_MOUNTED" = 1 ] && return 0
  mkdir -p "$E2E_WORK/bpf"
  _e2e_run mount -t bpf bpf "$E2E_WORK/bpf"
  E2E_BPF_MOUNTED=1
}

# e2e_host N: namespace <id>-hN, veth "ul" (198.18.0.N/24, MTU 1500) into the underlay bridge
# (peer "hN"), and loom-agent (host id $(e2e_host_uuid N), name hN) running there.
e2e_host() {
  local n=${1:?e2e_host N}
  local ns="lm$E2E_ID-h$n"
  _e2e_netns_add "$ns"
  _e2e_run ip link add ul netns "$ns" type veth peer name "h$n" netns "$E2E_U"
  ip -n "$E2E_U" link set "h$n" mtu 1500 master ubr up
  ip -n "$ns" link set ul mtu 1500 up
  ip -n "$ns" addr add "198.18.0.$n/24" dev ul
  mkdir -p "$E2E_WORK/h$n"
  _e2e_bpffs
  mkdir -p "$E2E_WORK/bpf/h$n"
  if [ "${E2E_NO_AGENT:-0}" = 1 ]; then
    _e2e_log "host h$n: namespace $ns (E2E_NO_AGENT=1: no agent)"
    return 0
  fi
  e2e_start_agent "$n"
}

e2e_agent_log() { echo "$E2E_WORK/h$1/agent.${E2E_AGENT_GEN[$1]:-0}.log"; }
e2e_agent_pid() { echo "${E2E_AGENT_PID[$1]:-}"; }

# e2e_start_agent N: starts host N's agent (a new log per start) and waits for its ready line.
e2e_start_agent() {
  local n=$1
  local ns="lm$E2E_ID-h$n"
  E2E_AGENT_GEN[$n]=$((${E2E_AGENT_GEN[$n]:-0} + 1))
  local log
  log=$(e2e_agent_log "$n")
  # shellcheck disable=SC2086  # E2E_AGENT_ARGS is a list of flags.
  _e2e_spawn "$ns" "$log" "$LOOM_BIN_DIR/loom-agent" \
    --etcd "$E2E_UNDERLAY_IP:$E2E_ETCD_PORT" --root /loom --state-dir "$E2E_WORK/h$n" \
    --host-id "$(e2e_host_uuid "$n")" --host-name "h$n" --tunnel-ip "198.18.0.$n" \
    --underlay-dev ul --vxlan-dev loomvx0 --pin-dir "$E2E_WORK/bpf/h$n" \
    --admin-socket "$E2E_WORK/h$n/agent.sock" --metrics-listen "127.0.0.1:$E2E_METRICS_PORT" \
    ${E2E_AGENT_ARGS:-}
  E2E_AGENT_PID[$n]=$E2E_SPAWNED
  _e2e_wait_log "$log" '^loom-agent ready host=' 20 "$E2E_SPAWNED" "loom-agent h$n"
  _e2e_log "host h$n: agent pid ${E2E_AGENT_PID[$n]} ready (log $log)"
}

# e2e_restart_agent N [SIGNAL]: stops host N's agent with SIGNAL (default KILL), waits for it to
# exit and starts it again (same host id, state dir and pin dir).
e2e_restart_agent() {
  local n=$1 sig=${2:-KILL} pid=${E2E_AGENT_PID[$1]:-} i
  [ -n "$pid" ] || e2e_die "host h$n has no agent"
  _e2e_log "host h$n: kill -$sig $pid"
  {  # (stderr off: bash's "Killed" job notice)
    kill "-$sig" "$pid" || true
    for ((i = 0; i < 100; i++)); do kill -0 "$pid" || break; sleep 0.1; done
    if kill -0 "$pid"; then
      _e2e_log "host h$n: agent $pid still alive 10 s after SIG$sig; SIGKILL"
      kill -KILL "$pid" || true
    fi
    wait "$pid" || true
  } 2>/dev/null
  e2e_start_agent "$n"
}

# e2e_vm HOST VM IFNAME MAC ADDR/LEN GW [MTU]: namespace <id>-VM with eth0 (MAC, ADDR, default
# route via GW, MTU default 1450, default offloads) whose veth peer IFNAME is up in host HOST's
# namespace with the same MTU.
e2e_vm() {
  local host=$1 vm=$2 ifname=$3 mac=$4 addr=$5 gw=$6 mtu=${7:-1450}
  local ns="lm$E2E_ID-$vm" hns="lm$E2E_ID-h$host"
  [ ${#ifname} -le 15 ] || e2e_die "interface name '$ifname' is longer than 15 characters"
  [ -e "/run/netns/$hns" ] || e2e_die "e2e_vm $vm: no host h$host"
  _e2e_netns_add "$ns"
  _e2e_run ip link add eth0 netns "$ns" type veth peer name "$ifname" netns "$hns"
  ip -n "$ns" link set eth0 address "$mac" mtu "$mtu" up
  ip -n "$ns" addr add "$addr" dev eth0
  ip -n "$ns" route add default via "$gw" dev eth0
  ip -n "$hns" link set "$ifname" mtu "$mtu" up
}

vm_exec() {
  local vm=$1
  shift
  _e2e_run ip netns exec "lm$E2E_ID-$vm" "$@"
}
# vm_bg VM LOG CMD...: CMD in VM's namespace in the background (output appended to LOG); its pid
# is in $E2E_SPAWNED (wait for it there); cleanup kills it if it is still running.
vm_bg() {
  local vm=$1 log=$2
  shift 2
  _e2e_spawn "lm$E2E_ID-$vm" "$log" "$@"
}
host_exec() {
  local n=$1
  shift
  _e2e_run ip netns exec "lm$E2E_ID-h$n" "$@"
}
underlay_exec() { _e2e_run ip netns exec "$E2E_U" "$@"; }
# loomctl against this run's loom-api.
ctl() {
  _e2e_run ip netns exec "$E2E_U" "$LOOM_BIN_DIR/loomctl" \
    --api "http://$E2E_UNDERLAY_IP:$E2E_API_PORT" --token-file "$E2E_WORK/token" "$@"
}
agent_ctl() {
  local n=$1
  shift
  host_exec "$n" "$LOOM_BIN_DIR/loom-agent" ctl --admin-socket "$E2E_WORK/h$n/agent.sock" "$@"
}
# The agent's Prometheus text (metrics listen on 127.0.0.1 in each host namespace).
agent_metrics() { host_exec "$1" curl -fsS -m 5 "http://127.0.0.1:$E2E_METRICS_PORT/metrics"; }

# e2e_import FILE: imports a topology with its ids (loomctl import --keep-ids).
e2e_import() {
  local out="$E2E_WORK/import.out"
  if ! ctl import "$1" --keep-ids >"$out" 2>&1; then
    cat "$out" >&2
    e2e_die "import of $1 failed"
  fi
  _e2e_log "imported $1 ($(tail -n 1 "$out"))"
}

# VM helpers: eth0's receive counter; a 1-packet reachability probe.
vm_rx_packets() { vm_exec "$1" cat /sys/class/net/eth0/statistics/rx_packets; }
# vm_ping VM DST [COUNT]: COUNT pings (default 1), 1 s timeout each, 0.2 s apart.
vm_ping() { vm_exec "$1" ping -n -q -c "${3:-1}" -i 0.2 -W 1 "$2"; }
# vm_neigh_mac VM IP: the MAC in VM's neighbour table for IP (empty if none).
vm_neigh_mac() {
  vm_exec "$1" ip neigh show "$2" dev eth0 | awk '{for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i + 1)}'
}
# vm_iperf_tcp CLIENT SERVER DST [SECONDS]: one iperf3 TCP run (server: one-shot daemon in
# SERVER); prints the receiver's bits/s, fails if the run failed or carried nothing.
vm_iperf_tcp() {
  local cli=$1 srv=$2 dst=$3 secs=${4:-2} i
  local json="$E2E_WORK/iperf-$cli-$srv.$RANDOM.json"
  vm_exec "$srv" iperf3 -s -1 -D -I "$json.pid" >/dev/null 2>&1 || { echo "iperf3 -s failed"; return 1; }
  for ((i = 0; i < 50; i++)); do
    vm_exec "$srv" ss -Hltn 'sport = :5201' 2>/dev/null | grep -q . && break
    sleep 0.1
  done
  vm_exec "$cli" iperf3 -c "$dst" -t "$secs" -J >"$json" 2>&1 || true
  python3 - "$json" <<'PY'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except Exception as e:
    print("iperf3 output is not JSON:", open(sys.argv[1]).read()[-2000:]); sys.exit(1)
if d.get("error"):
    print("iperf3:", d["error"]); sys.exit(1)
bps = d.get("end", {}).get("sum_received", {}).get("bits_per_second", 0)
print(int(bps))
sys.exit(0 if bps > 0 else 1)
PY
}
# metric_value TEXT NAME: the value of the first sample of NAME (exact name, any labels).
metric_value() {
  printf '%s\n' "$1" | awk -v n="$2" '$1 == n || index($1, n "{") == 1 {print $2; exit}'
}

# port_active PORT: the port is marked active by its host's agent.
port_active() {
  local j
  j=$(ctl -o json port status "$1") && printf '%s\n' "$j" && grep -Eq '"active": *true' <<<"$j"
}
port_inactive() {
  local j
  j=$(ctl -o json port status "$1") && printf '%s\n' "$j" && grep -Eq '"active": *false' <<<"$j"
}

# ---------------------------------------------------------------------------------------------
# Assertions: print PASS/FAIL lines, count failures; a failure never stops the script.

_e2e_pass() {
  E2E_PASSES=$((E2E_PASSES + 1))
  printf 'PASS: %s\n' "$1"
}
_e2e_fail() {
  E2E_FAILS=$((E2E_FAILS + 1))
  printf 'FAIL: %s\n' "$1"
  [ -z "${2:-}" ] || [ ! -s "$2" ] || sed -e 's/^/    | /' "$2" | tail -n 25
}

# For checks the helpers below do not cover.
e2e_pass() { _e2e_pass "$1"; }
e2e_fail() { _e2e_fail "$@"; }

# not CMD...: succeeds when CMD fails (for expect_ok / wait_until).
not() { ! "$@"; }

# expect_ok DESC CMD...: CMD succeeds.
expect_ok() {
  local desc=$1 out="$E2E_WORK/assert.out"
  shift
  if "$@" >"$out" 2>&1; then _e2e_pass "$desc"; else _e2e_fail "$desc (exit $?: $*)" "$out"; fi
}
# expect_fail DESC CMD...: CMD fails.
expect_fail() {
  local desc=$1 out="$E2E_WORK/assert.out"
  shift
  if "$@" >"$out" 2>&1; then _e2e_fail "$desc (succeeded: $*)" "$out"; else _e2e_pass "$desc"; fi
}
# expect_eq DESC EXPECTED ACTUAL
expect_eq() {
  if [ "$2" = "$3" ]; then _e2e_pass "$1"; else _e2e_fail "$1 (expected '$2', got '$3')"; fi
}
# expect_match DESC REGEX TEXT (extended regex, any line of TEXT)
expect_match() {
  if printf '%s\n' "$3" | grep -Eq -- "$2"; then
    _e2e_pass "$1"
  else
    local out="$E2E_WORK/assert.out"
    printf '%s\n' "$3" >"$out"
    _e2e_fail "$1 (no match for /$2/)" "$out"
  fi
}
# expect_gt DESC A B: integer A > B
expect_gt() {
  if [ "$2" -gt "$3" ] 2>/dev/null; then _e2e_pass "$1"; else _e2e_fail "$1 (expected $2 > $3)"; fi
}
# wait_until TIMEOUT_S DESC CMD...: retries CMD (every 0.2 s) until it succeeds.
wait_until() {
  local timeout=$1 desc=$2 out="$E2E_WORK/assert.out" start now
  shift 2
  start=$(date +%s%N)
  while :; do
    if "$@" >"$out" 2>&1; then
      now=$(date +%s%N)
      _e2e_pass "$desc (after $(((now - start) / 1000000)) ms)"
      return 0
    fi
    now=$(date +%s%N)
    if [ $(((now - start) / 1000000)) -ge $((timeout * 1000)) ]; then
      _e2e_fail "$desc (not within $timeout s: $*)" "$out"
      return 1
    fi
    sleep 0.2
  done
}

# ---------------------------------------------------------------------------------------------
# The standard deployment of test/e2e/topology.json: underlay, import, hosts h1-h3, VMs a1, a2,
# b1 (tenant A) and x1, x2 (tenant B), then waits until every VM port is active.
#   e2e_two_tenants [A1_MTU]   (a1's eth0 and host veth MTU; default 1450)
e2e_two_tenants() {
  local a1_mtu=${1:-1450} n p
  e2e_underlay
  # Import first: the hosts, tunnel zone and bindings exist when the agents start.
  e2e_import "$E2E_DIR/topology.json"
  for n in 1 2 3; do e2e_host "$n"; done
  e2e_vm 1 a1 a1 02:e2:0a:00:00:11 10.0.0.11/24 10.0.0.1 "$a1_mtu"
  e2e_vm 2 a2 a2 02:e2:0a:00:00:12 10.0.0.12/24 10.0.0.1
  e2e_vm 3 b1 b1 02:e2:0a:01:00:11 10.0.1.11/24 10.0.1.1
  vm_exec b1 ip addr add 10.0.2.11/32 dev eth0  # reached through r1's static route
  e2e_vm 1 x1 x1 02:e2:0b:00:00:11 10.0.0.11/24 10.0.0.1
  e2e_vm 2 x2 x2 02:e2:0b:00:00:12 10.0.0.12/24 10.0.0.1
  [ "${E2E_NO_AGENT:-0}" = 1 ] && return 0
  for p in vm-a1 vm-a2 vm-b1 vm-x1 vm-x2; do
    wait_until 20 "port $p active" port_active "$p" || true
  done
  expect_ok "every live host applied the topology" ctl wait-sync --timeout 20s
}
