#!/usr/bin/env bash
# Dataplane benchmark: loom's eBPF fast path against a Linux bridge + kernel vxlan baseline of the
# same shape, built side by side in network namespaces in one run (needs root; exit 77 = skipped).
#
#   test/bench/dataplane/dataplane_bench.sh [--rounds N] [--quick] [--bin-dir DIR] [--out DIR]
#
# What is built:
#   loom     test/e2e/lib.sh's e2e_two_tenants: hosts h1..h3 on an underlay bridge (MTU 1500),
#            VMs a1 (h1, 10.0.0.11) and a2 (h2, 10.0.0.12) on net-a, b1 (h3, 10.0.1.11) on net-b
#            behind router r1; VM veths MTU 1450, default offloads. Agents run with
#            --upcall-rate 0 --flow-idle-ms 60000. A static route 10.8.0.0/16 via r1-net-b,
#            gateway 10.0.1.11 (b1) is added for the flow-setup test.
#   kernel   namespaces lm<id>-k*: underlay bridge, two hosts (198.18.0.1/.2, MTU 1500), each with
#            a Linux bridge + "vxlan id 42 ... dstport 4789", VMs kvm1 (10.0.0.11) / kvm2
#            (10.0.0.12) with veth eth0 MTU 1450 and default offloads.
# Paths: kernel (kvm1 -> kvm2), loom-l2 (a1 -> a2, h1 -> h2), loom-l3 (a1 -> b1, via r1, h1 -> h3).
#
# Measured in R interleaved rounds (default 5; metric by metric, path order rotated per round):
#   ping RTT    median of `ping -i 0.01 -c 200` per-packet times, after a warm-up ping
#   TCP         iperf3 -t 10 -J, one stream, Gbit/s (server in the target VM); retransmits
#   CRR         tcpcrr, 4 client processes, 10 s: TCP connect/request/response/close per second
#               (tcpcrr.c is compiled at run time from $TCPCRR_SRC; CRR is skipped without it)
#   per round the ratio loom/kernel, and the median of the per-round ratios.
# Loom only:
#   cold first ping a1 -> a2 and a1 -> b1 right after the topology came up (and the kernel's);
#   agent RSS / peak RSS (VmRSS / VmHWM) and CPU over an idle interval, and RSS / HWM at the end;
#   flow setup: flowgen.c (compiled at run time) sends one UDP datagram to each of K fresh
#   destinations in 10.8.0.0/16 at paced rates; h1's counters before/after give installed flows,
#   the time until the last one was installed, upcalls, ring-full and rate-limited losses;
#   the agents' simulation latency histogram (loom_agent_simulation_seconds): p50/p99 estimated
#   from buckets for the flow-setup steps (h1) and over the whole run (every agent).
#
# --quick (CI smoke, label bench-smoke): 1 round, 2 s tests, 50 pings, one 10k/s flow step.
# Output: tables on stdout; report.txt, results.tsv (section round path metric value),
# summary.tsv and the raw /metrics snapshots in the output directory (default
# ${TMPDIR:-/tmp}/loom-bench-dataplane/<UTC stamp>).
# Environment: LOOM_BIN_DIR (default: build/release/apps if it has loom-agent, else lib.sh's
# default), TCPCRR_SRC, DP_FLOW_RATES ("10000 25000 50000 100000 200000"), DP_FLOW_K (12000
# destinations per rate step; steps x K must stay below the 65,536-entry flow table),
# DP_PINGS, DP_DUR, DP_IDLE_S, DP_EXTRA_AGENT_ARGS, DP_QUIET_PCT (25) / DP_QUIET_WAIT (180 s; 0
# with --quick): before each round, wait up to DP_QUIET_WAIT s for the machine to be less than
# DP_QUIET_PCT % busy (other people's load).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$(cd "$HERE/../../.." && pwd)

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'; }

ROUNDS="" QUICK=0 OUT=""
while [ $# -gt 0 ]; do
  case $1 in
  --quick) QUICK=1 ;;
  --rounds) ROUNDS=${2:?--rounds N}; shift ;;
  --bin-dir) LOOM_BIN_DIR=${2:?--bin-dir DIR}; shift ;;
  --out) OUT=${2:?--out DIR}; shift ;;
  -h | --help) usage; exit 0 ;;
  *) usage >&2; exit 2 ;;
  esac
  shift
done

if [ -z "${LOOM_BIN_DIR:-}" ] && [ -x "$SRC/build/release/apps/loom-agent" ]; then
  LOOM_BIN_DIR=$SRC/build/release/apps
fi
[ -n "${LOOM_BIN_DIR:-}" ] && LOOM_BIN_DIR=$(cd "$LOOM_BIN_DIR" && pwd) && export LOOM_BIN_DIR

if [ "$QUICK" = 1 ]; then
  ROUNDS=${ROUNDS:-1} DUR=${DP_DUR:-2} PINGS=${DP_PINGS:-50} IDLE_S=${DP_IDLE_S:-2} SETTLE_S=1
  FLOW_RATES=${DP_FLOW_RATES:-10000} FLOW_K=${DP_FLOW_K:-2000} QUIET_WAIT=${DP_QUIET_WAIT:-0}
else
  ROUNDS=${ROUNDS:-5} DUR=${DP_DUR:-10} PINGS=${DP_PINGS:-200} IDLE_S=${DP_IDLE_S:-10} SETTLE_S=5
  FLOW_RATES=${DP_FLOW_RATES:-10000 25000 50000 100000 200000} FLOW_K=${DP_FLOW_K:-12000}
  QUIET_WAIT=${DP_QUIET_WAIT:-180}
fi
QUIET_PCT=${DP_QUIET_PCT:-25}
CRR_CONC=4
CRR_PORT=7000
TCPCRR_SRC=${TCPCRR_SRC:-$SRC/../shared/baselines/ovn-kernel/tcpcrr.c}
read -r -a FLOW_RATE_LIST <<<"$FLOW_RATES"
if [ $((${#FLOW_RATE_LIST[@]} * FLOW_K)) -gt 65000 ]; then
  echo "rate steps x DP_FLOW_K must stay below 65000 (the flow table holds 65,536)" >&2
  exit 2
fi
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=${OUT:-${TMPDIR:-/tmp}/loom-bench-dataplane/$STAMP}

export E2E_AGENT_ARGS="--upcall-rate 0 --flow-idle-ms 60000 ${DP_EXTRA_AGENT_ARGS:-}"
# shellcheck source=../../e2e/lib.sh
source "$SRC/test/e2e/lib.sh"
e2e_init dataplane-bench
for t in iperf3 gcc awk; do command -v "$t" >/dev/null || e2e_skip "$t not installed"; done

# ---------------------------------------------------------------------------------------------
# Kernel baseline namespaces (lm<run id>-k*, so lib.sh's stale-run reaper finds leftovers) and
# their cleanup, chained in front of lib.sh's EXIT trap.
K_NS=()
KUL="lm$E2E_ID-kul"

_dp_kernel_cleanup() {
  local ns p i alive pids=()
  [ ${#K_NS[@]} -gt 0 ] || return 0
  if [ "${E2E_KEEP:-0}" = 1 ]; then
    echo "E2E_KEEP=1: kernel baseline namespaces left: ${K_NS[*]}"
    return 0
  fi
  for ns in "${K_NS[@]}"; do
    for p in $(ip netns pids "$ns" 2>/dev/null); do pids+=("$p"); done
  done
  if [ ${#pids[@]} -gt 0 ]; then
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for ((i = 0; i < 30; i++)); do
      alive=0
      for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1 && break; done
      [ $alive = 0 ] && break
      sleep 0.1
    done
    for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
  fi
  for ((i = ${#K_NS[@]} - 1; i >= 0; i--)); do ip netns del "${K_NS[$i]}" 2>/dev/null; done
  K_NS=()
}
_DP_PREV_EXIT=$(trap -p EXIT)
_DP_PREV_EXIT=${_DP_PREV_EXIT#"trap -- '"}
_DP_PREV_EXIT=${_DP_PREV_EXIT%"' EXIT"}
_dp_on_exit() {
  local rc=$?
  trap - ERR
  set +eE
  _dp_kernel_cleanup
  (exit "$rc")
  eval "$_DP_PREV_EXIT"
  exit "$rc"
}
trap _dp_on_exit EXIT

_k_ns_add() {
  ip netns add "$1"
  K_NS+=("$1")
  ip netns exec "$1" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 \
    net.ipv6.conf.default.disable_ipv6=1 >/dev/null
  ip -n "$1" link set lo up
}

# Same shape as lib.sh's loom deployment: hosts on an underlay bridge, VM veths MTU 1450.
kernel_baseline_up() {
  local n m hns vns
  _k_ns_add "$KUL"
  ip -n "$KUL" link add ubr type bridge
  ip -n "$KUL" link set ubr up
  for n in 1 2; do
    m=$((3 - n))
    hns="lm$E2E_ID-kh$n" vns="lm$E2E_ID-kvm$n"
    _k_ns_add "$hns"
    ip link add ul netns "$hns" type veth peer name "kh$n" netns "$KUL"
    ip -n "$KUL" link set "kh$n" mtu 1500 master ubr up
    ip -n "$hns" link set ul mtu 1500 up
    ip -n "$hns" addr add "198.18.0.$n/24" dev ul
    ip -n "$hns" link add br0 type bridge
    ip -n "$hns" link add vxlan0 type vxlan id 42 local "198.18.0.$n" remote "198.18.0.$m" \
      dstport 4789 dev ul
    ip -n "$hns" link set vxlan0 master br0
    _k_ns_add "$vns"
    ip link add eth0 netns "$vns" type veth peer name "kvm$n" netns "$hns"
    ip -n "$vns" link set eth0 address "02:e2:0c:00:00:1$n" mtu 1450 up
    ip -n "$vns" addr add "10.0.0.1$n/24" dev eth0
    ip -n "$hns" link set "kvm$n" mtu 1450 master br0 up
    ip -n "$hns" link set vxlan0 up
    ip -n "$hns" link set br0 up
  done
}
kvm_exec() {
  local n=$1
  shift
  ip netns exec "lm$E2E_ID-kvm$n" "$@"
}

# ---------------------------------------------------------------------------------------------
# Output.
mkdir -p "$OUT/metrics"
RAW=$OUT/results.tsv
REPORT=$OUT/report.txt
printf 'section\tround\tpath\tmetric\tvalue\n' >"$RAW"
: >"$REPORT"
say() { printf '%s\n' "$*" | tee -a "$REPORT"; }
rec() { printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" >>"$RAW"; }

TOOLS=$E2E_WORK/tools
mkdir -p "$TOOLS"
gcc -O2 -Wall -o "$TOOLS/flowgen" "$HERE/flowgen.c"
HAVE_CRR=0
if [ -r "$TCPCRR_SRC" ]; then
  gcc -O2 -Wall -o "$TOOLS/tcpcrr" "$TCPCRR_SRC" && HAVE_CRR=1
fi
[ "$HAVE_CRR" = 1 ] || echo "no tcpcrr ($TCPCRR_SRC): connection rate not measured" >&2

build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$LOOM_BIN_DIR/../CMakeCache.txt" 2>/dev/null || true)
git_rev=$(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo "?")
if [ -n "$(git -C "$SRC" status --porcelain -- src apps 2>/dev/null | head -n 1)" ]; then
  git_rev="$git_rev+local changes"
fi

# ---------------------------------------------------------------------------------------------
# Probes.
HZ=$(getconf CLK_TCK)
now_ns() { date +%s%N; }
sys_busy() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat; }
busy_sample() { # SECS -> machine busy% over SECS
  local b0 t0 b1 t1
  read -r b0 t0 < <(sys_busy)
  sleep "$1"
  read -r b1 t1 < <(sys_busy)
  awk -v a="$b0" -v b="$b1" -v c="$t0" -v d="$t1" 'BEGIN{printf "%.0f", 100*(b-a)/((d-c)>0?(d-c):1)}'
}
# wait_quiet: waits (at most QUIET_WAIT s) until the machine is less than QUIET_PCT % busy for
# 1 s, so a round does not start in the middle of someone else's build; prints the last busy%.
wait_quiet() {
  local end=$(($(date +%s) + QUIET_WAIT)) b
  while :; do
    b=$(busy_sample 1)
    [ "$b" -lt "$QUIET_PCT" ] && break
    [ "$(date +%s)" -ge "$end" ] && break
    sleep 2
  done
  echo "$b"
}
proc_ticks() { awk '{print $14+$15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
proc_kb() { awk -v k="$2:" '$1==k{print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
# mval FILE KEY: a sample's value from a Prometheus text file (0 when absent).
mval() { awk -v k="$2" '$1==k{v=$2; f=1} END{print f ? v : 0}' "$1"; }
# mdelta BEFORE AFTER KEY
mdelta() { echo $(($(mval "$2" "$3") - $(mval "$1" "$3"))); }
snap() { # HOST NAME -> file with host HOST's /metrics
  local f="$OUT/metrics/h$1-$2.txt"
  agent_metrics "$1" >"$f" 2>/dev/null || : >"$f"
  echo "$f"
}
median() { python3 -c 'import sys,statistics as s; v=[float(x) for x in sys.stdin.read().split()]; print("%.3f" % s.median(v) if v else "-")'; }

# Histogram quantiles from Prometheus bucket lines: hist_stats FILE_AFTER [FILE_BEFORE...]
# (before files are subtracted; several "after" files can be summed with hist_sum).
hist_py='
import sys, re
def read(path):
    b, s, c = {}, 0.0, 0
    for line in open(path):
        m = re.match(r"loom_agent_simulation_seconds_bucket\{le=\"([^\"]+)\"\} (\S+)", line)
        if m:
            b[m.group(1)] = float(m.group(2))
        elif line.startswith("loom_agent_simulation_seconds_sum "):
            s = float(line.split()[1])
        elif line.startswith("loom_agent_simulation_seconds_count "):
            c = float(line.split()[1])
    return b, s, c
def combine(pairs):
    b, s, c = {}, 0.0, 0.0
    for after, before in pairs:
        ba, sa, ca = read(after)
        bb, sb, cb = read(before) if before else ({}, 0.0, 0.0)
        for k, v in ba.items():
            b[k] = b.get(k, 0.0) + v - bb.get(k, 0.0)
        s += sa - sb
        c += ca - cb
    return b, s, c
def quantile(b, q):
    les = sorted(((float("inf") if k == "+Inf" else float(k)), v) for k, v in b.items())
    if not les or les[-1][1] <= 0:
        return None
    total = les[-1][1]
    rank = q * total
    prev_le, prev_c = 0.0, 0.0
    for le, c in les:
        if c >= rank:
            if le == float("inf"):
                return prev_le
            if c == prev_c:
                return le
            return prev_le + (le - prev_le) * (rank - prev_c) / (c - prev_c)
        prev_le, prev_c = le, c
    return prev_le
args = sys.argv[1:]
pairs = [(args[i], args[i + 1] if args[i + 1] != "-" else None) for i in range(0, len(args), 2)]
b, s, c = combine(pairs)
p50, p99 = quantile(b, 0.5), quantile(b, 0.99)
f = lambda x: "-" if x is None else "%.1f" % (x * 1e6)
print(int(c), f(p50), f(p99), "-" if c <= 0 else "%.1f" % (s / c * 1e6))
'
# hist_stats AFTER BEFORE|- [AFTER BEFORE|-]... -> "count p50_us p99_us mean_us"
hist_stats() { python3 -c "$hist_py" "$@"; }

# ---------------------------------------------------------------------------------------------
# Paths: client / server / destination.
PATHS=(kernel loom-l2 loom-l3)
path_dst() { case $1 in kernel | loom-l2) echo 10.0.0.12 ;; loom-l3) echo 10.0.1.11 ;; esac; }
client_exec() {
  local p=$1
  shift
  case $p in
  kernel) kvm_exec 1 "$@" ;;
  *) vm_exec a1 "$@" ;;
  esac
}

ping_times_us() { # PATH COUNT [INTERVAL] -> per-packet RTTs in us, one a line
  local dst
  dst=$(path_dst "$1")
  { client_exec "$1" ping -n -c "$2" -i "${3:-0.01}" -W 1 "$dst" 2>/dev/null || true; } |
    sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' | awk '{printf "%.1f\n", $1 * 1000}'
}
m_ping() { # PATH -> median us
  local n
  client_exec "$1" ping -n -c 3 -i 0.01 -W 1 "$(path_dst "$1")" >/dev/null 2>&1 || true
  local v
  v=$(ping_times_us "$1" "$PINGS")
  n=$(printf '%s\n' "$v" | grep -c . || true)
  if [ "$n" -lt $((PINGS / 2)) ]; then echo "-"; return; fi
  printf '%s\n' "$v" | median | awk '{printf "%.1f", $1}'
}
m_tcp() { # PATH -> "gbps retrans busy%"
  local j b0 t0 b1 t1
  read -r b0 t0 < <(sys_busy)
  j=$(client_exec "$1" iperf3 -c "$(path_dst "$1")" -t "$DUR" -J 2>/dev/null) || { echo "- - -"; return; }
  read -r b1 t1 < <(sys_busy)
  python3 -c '
import sys, json
try:
    d = json.loads(sys.argv[1])["end"]
    print("%.2f %d %.0f" % (d["sum_received"]["bits_per_second"] / 1e9,
          d["sum_sent"].get("retransmits", 0),
          100.0 * (float(sys.argv[3]) - float(sys.argv[2])) / max(1, float(sys.argv[5]) - float(sys.argv[4]))))
except Exception:
    print("- - -")' "$j" "$b0" "$b1" "$t0" "$t1"
}
m_crr() { # PATH -> "cps errors"
  [ "$HAVE_CRR" = 1 ] || { echo "- -"; return; }
  local o
  o=$(client_exec "$1" "$TOOLS/tcpcrr" -c "$(path_dst "$1")" "$CRR_PORT" "$DUR" "$CRR_CONC" 2>/dev/null) ||
    { echo "- -"; return; }
  awk '{print $8, $4}' <<<"$o"
}

# ---------------------------------------------------------------------------------------------
# 1. Loom deployment, then at once the cold first pings (nothing has crossed the fast path yet).
e2e_two_tenants 1450
declare -A COLD
cold_ping() { # PATH -> "first_us second_us" (one ping each, 0.2 s apart)
  local dst out first second
  dst=$(path_dst "$1")
  out=$(client_exec "$1" ping -n -c 2 -i 0.2 -W 2 "$dst" 2>/dev/null || true)
  first=$(sed -n 's/.*icmp_seq=1 .*time=\([0-9.]*\) ms.*/\1/p' <<<"$out" | awk '{printf "%.1f", $1 * 1000}')
  second=$(sed -n 's/.*icmp_seq=2 .*time=\([0-9.]*\) ms.*/\1/p' <<<"$out" | awk '{printf "%.1f", $1 * 1000}')
  echo "${first:--} ${second:--}"
}
COLD[loom-l2]=$(cold_ping loom-l2)
COLD[loom-l3]=$(cold_ping loom-l3)
for p in loom-l2 loom-l3; do
  [ "${COLD[$p]%% *}" != - ] || vm_ping a1 "$(path_dst "$p")" 3 >/dev/null ||
    e2e_die "$p: a1 cannot reach $(path_dst "$p")"
done

# Route for the flow-setup test: 10.8.0.0/16 via r1-net-b, gateway b1 (no ARP needed).
ctl route create --json '{"router_id": "a1e2e000-000a-4000-8000-000000000001",
  "dst_prefix": "10.8.0.0/16", "next_hop": "PORT",
  "next_hop_port_id": "a2e2e000-000a-4000-8000-000000000002",
  "next_hop_gateway": "10.0.1.11"}' >"$OUT/route.out" 2>&1 || {
  cat "$OUT/route.out" >&2
  e2e_die "route create failed"
}
ctl wait-sync --timeout 20s >/dev/null || e2e_die "agents did not apply the 10.8.0.0/16 route"

# 2. Kernel baseline, and its cold first ping for reference.
kernel_baseline_up
COLD[kernel]=$(cold_ping kernel)
[ "${COLD[kernel]%% *}" != - ] || kvm_exec 1 ping -c 3 -W 1 10.0.0.12 >/dev/null ||
  e2e_die "kernel baseline: kvm1 cannot reach kvm2"
for p in kernel loom-l2 loom-l3; do
  rec cold 0 "$p" first_ping_us "${COLD[$p]%% *}"
  rec cold 0 "$p" second_ping_us "${COLD[$p]##* }"
done

# 3. Idle agents: RSS and CPU.
sleep "$SETTLE_S"
rec idle 0 all bg_busy_pct "$(wait_quiet)"
declare -A T0
for n in 1 2 3; do T0[$n]=$(proc_ticks "${E2E_AGENT_PID[$n]}"); done
sleep "$IDLE_S"
for n in 1 2 3; do
  pid=${E2E_AGENT_PID[$n]}
  rec idle 0 "h$n" rss_kb "$(proc_kb "$pid" VmRSS)"
  rec idle 0 "h$n" hwm_kb "$(proc_kb "$pid" VmHWM)"
  rec idle 0 "h$n" cpu_pct "$(awk -v a="${T0[$n]}" -v b="$(proc_ticks "$pid")" -v hz="$HZ" -v s="$IDLE_S" \
    'BEGIN{printf "%.2f", (b-a)/hz/s*100}')"
done

# 4. Servers: iperf3 and tcpcrr in kvm2, a2, b1.
vm_exec a2 iperf3 -s -D -I "$E2E_WORK/iperf3-a2.pid" >/dev/null
vm_exec b1 iperf3 -s -D -I "$E2E_WORK/iperf3-b1.pid" >/dev/null
kvm_exec 2 iperf3 -s -D -I "$E2E_WORK/iperf3-kvm2.pid" >/dev/null
if [ "$HAVE_CRR" = 1 ]; then
  vm_exec a2 "$TOOLS/tcpcrr" -s "$CRR_PORT" >/dev/null 2>&1 &
  vm_exec b1 "$TOOLS/tcpcrr" -s "$CRR_PORT" >/dev/null 2>&1 &
  kvm_exec 2 "$TOOLS/tcpcrr" -s "$CRR_PORT" >/dev/null 2>&1 &
fi
sleep 0.5

{
  echo "# loom dataplane benchmark $STAMP  ($(date -u '+%Y-%m-%d %H:%M UTC'))"
  echo "# host $(hostname)  cpus $(nproc)  kernel $(uname -r)  loom $git_rev"
  echo "# binaries $LOOM_BIN_DIR (${build_type:-unknown build type})  agent args: $E2E_AGENT_ARGS"
  echo "# rounds $ROUNDS  tests ${DUR}s  pings $PINGS x 10ms  crr ${CRR_CONC} clients$([ "$HAVE_CRR" = 1 ] || echo ' (no tcpcrr: skipped)')"
  echo "# paths: kernel = bridge + vxlan kvm1 -> kvm2; loom-l2 = a1 -> a2 (h1 -> h2, net-a);" \
    "loom-l3 = a1 -> b1 (h1 -> h3 via r1)"
} | tee -a "$REPORT"

# ---------------------------------------------------------------------------------------------
# 5. Interleaved rounds.
say ""
say "== per round (bg% = machine busy in the 1 s before the round, after waiting up to ${QUIET_WAIT}s for" \
  "< ${QUIET_PCT}%; busy% = machine busy during TCP, this test included)"
round_row() { printf '%-5s %-8s %9s %9s %8s %6s %9s %6s %5s\n' "$@"; }
round_row round path ping_us tcp_Gbps retrans busy% crr_cps errs bg% | tee -a "$REPORT"
declare -A R
for ((r = 1; r <= ROUNDS; r++)); do
  bg=$(wait_quiet)
  rec round "$r" all bg_busy_pct "$bg"
  order=()
  for ((i = 0; i < 3; i++)); do order+=("${PATHS[$(((i + r - 1) % 3))]}"); done
  for p in "${order[@]}"; do R[$r,$p,ping]=$(m_ping "$p"); done
  for p in "${order[@]}"; do
    read -r "R[$r,$p,tcp]" "R[$r,$p,retr]" "R[$r,$p,busy]" < <(m_tcp "$p")
  done
  for p in "${order[@]}"; do read -r "R[$r,$p,crr]" "R[$r,$p,crr_err]" < <(m_crr "$p"); done
  for p in "${PATHS[@]}"; do
    rec round "$r" "$p" ping_us "${R[$r,$p,ping]}"
    rec round "$r" "$p" tcp_gbps "${R[$r,$p,tcp]}"
    rec round "$r" "$p" tcp_retrans "${R[$r,$p,retr]}"
    rec round "$r" "$p" tcp_busy_pct "${R[$r,$p,busy]}"
    rec round "$r" "$p" crr_cps "${R[$r,$p,crr]}"
    rec round "$r" "$p" crr_errors "${R[$r,$p,crr_err]}"
    round_row "$r" "$p" "${R[$r,$p,ping]}" "${R[$r,$p,tcp]}" "${R[$r,$p,retr]}" \
      "${R[$r,$p,busy]}" "${R[$r,$p,crr]}" "${R[$r,$p,crr_err]}" "$bg" | tee -a "$REPORT"
  done
done

# ---------------------------------------------------------------------------------------------
# 6. Flow setup: K fresh destinations per rate step, one datagram each, from a1 through r1.
say ""
say "== flow setup on h1 (a1 -> 10.8.x.y via r1, one UDP datagram per new destination = one new megaflow)"
rec flow 0 all bg_busy_pct "$(wait_quiet)"
b1_rx0=$(vm_rx_packets b1)
vm_exec a1 "$TOOLS/flowgen" 10.8.0.0 65400 20 1000 >/dev/null 2>&1 || true
sleep 1
b1_rx=$(($(vm_rx_packets b1) - b1_rx0))
[ "$b1_rx" -ge 20 ] || say "!! b1 received only $b1_rx of 20 probe datagrams sent to 10.8.255.x"
flow_row() { printf '%9s %7s %7s %9s %9s %8s %8s %9s %6s %6s %7s %7s %7s\n' "$@"; }
flow_row offered/s sent send_ms installed inst/s drain_ms dp_upc agent_upc ring_f rate_l not_ins \
  sim_p50 sim_p99 | tee -a "$REPORT"
FG_H1_FIRST="" FG_H1_LAST=""
step=0
for rate in "${FLOW_RATE_LIST[@]}"; do
  first=$((1 + step * FLOW_K))
  step=$((step + 1))
  m1a=$(snap 1 "flow$step-before")
  m3a=$(snap 3 "flow$step-before")
  [ -n "$FG_H1_FIRST" ] || FG_H1_FIRST=$m1a
  inst0=$(mval "$m1a" loom_agent_flows_installed_total)
  vm_exec a1 "$TOOLS/flowgen" 10.8.0.0 "$first" "$FLOW_K" "$rate" >"$OUT/flowgen-$step.out" 2>&1 &
  fg_pid=$!
  t_start=$(now_ns)
  last=$inst0 t_prev=$t_start t_change=$t_start
  while :; do
    v=$(agent_metrics 1 2>/dev/null | awk '$1=="loom_agent_flows_installed_total"{print $2}' || true)
    t=$(now_ns)
    if [ -n "$v" ] && [ "$v" != "$last" ]; then
      last=$v
      t_change=$(((t_prev + t) / 2)) # it got there between the previous poll and this one
    fi
    t_prev=$t
    if ! kill -0 "$fg_pid" 2>/dev/null; then
      [ $((last - inst0)) -ge "$FLOW_K" ] && break
      [ $((t - t_change)) -gt 2000000000 ] && break
    fi
    [ $((t - t_start)) -gt 60000000000 ] && break
    sleep 0.05
  done
  wait "$fg_pid" || true
  m1b=$(snap 1 "flow$step-after")
  m3b=$(snap 3 "flow$step-after")
  FG_H1_LAST=$m1b
  read -r _ sent _ errs _ secs _ _ _ fg_start _ fg_end <"$OUT/flowgen-$step.out" || true
  inst=$(mdelta "$m1a" "$m1b" loom_agent_flows_installed_total)
  dp_upc=$(mdelta "$m1a" "$m1b" 'loom_datapath_packets_total{event="upcalls"}')
  ring=$(mdelta "$m1a" "$m1b" 'loom_datapath_packets_total{event="upcall_ring_full"}')
  rlim=$(mdelta "$m1a" "$m1b" 'loom_datapath_packets_total{event="upcall_rate_limited"}')
  a_upc=$(mdelta "$m1a" "$m1b" loom_agent_upcalls_total)
  not_inst=$(mdelta "$m1a" "$m1b" loom_agent_flows_not_installed_total)
  inst_err=$(mdelta "$m1a" "$m1b" loom_agent_flow_install_errors_total)
  h3_upc=$(mdelta "$m3a" "$m3b" loom_agent_upcalls_total)
  read -r _ p50 p99 _ < <(hist_stats "$m1b" "$m1a")
  # Installed flows per second from the first datagram to the last install.
  span_ns=$((t_change - ${fg_start:-$t_start}))
  [ "$span_ns" -gt 0 ] || span_ns=1
  inst_rate=$(awk -v n="$inst" -v s="$span_ns" 'BEGIN{printf "%.0f", n / (s / 1e9)}')
  send_ms=$(awk -v s="${secs:-0}" 'BEGIN{printf "%.0f", s * 1000}')
  drain_ms=$(awk -v a="${fg_end:-$t_start}" -v b="$t_change" 'BEGIN{x=(b-a)/1e6; if (x<0) x=0; printf "%.0f", x}')
  flow_row "$rate" "${sent:--}" "$send_ms" "$inst" "$inst_rate" "$drain_ms" "$dp_upc" "$a_upc" \
    "$ring" "$rlim" "$not_inst" "$p50" "$p99" | tee -a "$REPORT"
  for kv in "sent=${sent:--}" "send_errors=${errs:--}" "send_ms=$send_ms" "installed=$inst" \
    "installed_per_s=$inst_rate" "drain_ms=$drain_ms" "dp_upcalls=$dp_upc" "agent_upcalls=$a_upc" \
    "ring_full=$ring" "rate_limited=$rlim" "not_installed=$not_inst" "install_errors=$inst_err" \
    "h3_agent_upcalls=$h3_upc" "sim_p50_us=$p50" "sim_p99_us=$p99"; do
    rec flow "$step" "$rate" "${kv%%=*}" "${kv#*=}"
  done
  sleep 1
done
say "(one step = $FLOW_K fresh destinations; inst/s = installed / (last install - first datagram)," \
  "polled every ~50 ms; drain_ms = last install - last datagram; dp_upc = BPF upcalls," \
  "ring_f = upcall_ring_full, rate_l = upcall_rate_limited; sim_p50/p99 in us from h1's histogram" \
  "buckets; the 8 MiB upcall ring holds ~52k records of 64-byte frames)"
ok_rates=$(python3 - "$RAW" <<'PY'
import sys, csv
rows = [r for r in csv.DictReader(open(sys.argv[1]), delimiter="\t")
        if r["section"] == "flow" and r["path"].isdigit()]
st = {}
for r in rows:
    st.setdefault(r["round"], {"rate": int(r["path"])})[r["metric"]] = r["value"]
ok = [s["rate"] for s in st.values() if s.get("ring_full") == "0" and s.get("rate_limited") == "0"]
print(max(ok) if ok else "none")
PY
)
say "highest offered rate with no upcall lost (ring full or rate limited): $ok_rates/s"

# ---------------------------------------------------------------------------------------------
# 7. Simulation latency, agents' memory and CPU at the end.
say ""
say "== agent simulation latency (loom_agent_simulation_seconds; p50/p99 interpolated in buckets)"
printf '%-32s %8s %8s %8s %8s\n' scope count p50_us p99_us mean_us | tee -a "$REPORT"
if [ -n "$FG_H1_FIRST" ]; then
  read -r c p50 p99 mean < <(hist_stats "$FG_H1_LAST" "$FG_H1_FIRST")
  printf '%-32s %8s %8s %8s %8s\n' "h1, flow-setup steps (cold)" "$c" "$p50" "$p99" "$mean" | tee -a "$REPORT"
  for kv in "count=$c" "p50_us=$p50" "p99_us=$p99" "mean_us=$mean"; do rec sim 0 h1-flowsetup "${kv%%=*}" "${kv#*=}"; done
fi
all=()
for n in 1 2 3; do
  f=$(snap "$n" end)
  all+=("$f" -)
  read -r c p50 p99 mean < <(hist_stats "$f" -)
  printf '%-32s %8s %8s %8s %8s\n' "h$n, whole run" "$c" "$p50" "$p99" "$mean" | tee -a "$REPORT"
  for kv in "count=$c" "p50_us=$p50" "p99_us=$p99" "mean_us=$mean"; do rec sim 0 "h$n-run" "${kv%%=*}" "${kv#*=}"; done
done
read -r c p50 p99 mean < <(hist_stats "${all[@]}")
printf '%-32s %8s %8s %8s %8s\n' "all agents, whole run" "$c" "$p50" "$p99" "$mean" | tee -a "$REPORT"
for kv in "count=$c" "p50_us=$p50" "p99_us=$p99" "mean_us=$mean"; do rec sim 0 all-run "${kv%%=*}" "${kv#*=}"; done

say ""
say "== cold first ping (right after the topology came up; 2nd ping 0.2 s later), us"
printf '%-8s %9s %9s\n' path first second | tee -a "$REPORT"
for p in loom-l2 loom-l3 kernel; do
  printf '%-8s %9s %9s\n' "$p" "${COLD[$p]%% *}" "${COLD[$p]##* }" | tee -a "$REPORT"
done

say ""
say "== agents: idle (after setup, ${IDLE_S}s) and at the end"
printf '%-4s %8s %11s %13s %11s %10s %6s\n' host pid idle_rss_MB idle_cpu%core end_rss_MB end_hwm_MB alive |
  tee -a "$REPORT"
for n in 1 2 3; do
  pid=${E2E_AGENT_PID[$n]}
  alive=yes
  kill -0 "$pid" 2>/dev/null || alive=NO
  rss=$(proc_kb "$pid" VmRSS) hwm=$(proc_kb "$pid" VmHWM)
  rec final 0 "h$n" rss_kb "$rss"
  rec final 0 "h$n" hwm_kb "$hwm"
  rec final 0 "h$n" alive "$alive"
  idle_rss=$(awk -F'\t' -v h="h$n" '$1=="idle" && $3==h && $4=="rss_kb"{print $5}' "$RAW")
  idle_cpu=$(awk -F'\t' -v h="h$n" '$1=="idle" && $3==h && $4=="cpu_pct"{print $5}' "$RAW")
  printf '%-4s %8s %11.1f %13s %11.1f %10.1f %6s\n' "h$n" "$pid" "$(awk -v k="$idle_rss" 'BEGIN{print k/1024}')" \
    "$idle_cpu" "$(awk -v k="$rss" 'BEGIN{print k/1024}')" "$(awk -v k="$hwm" 'BEGIN{print k/1024}')" "$alive" |
    tee -a "$REPORT"
done

# ---------------------------------------------------------------------------------------------
# 8. Medians and ratios.
say ""
python3 - "$RAW" "$OUT/summary.tsv" <<'PY' | tee -a "$REPORT"
import sys, csv, statistics as st
rows = [r for r in csv.DictReader(open(sys.argv[1]), delimiter="\t") if r["section"] == "round"]
def num(v):
    try:
        return float(v)
    except ValueError:
        return None
val = {}
rounds = sorted({int(r["round"]) for r in rows})
for r in rows:
    val[(int(r["round"]), r["path"], r["metric"])] = num(r["value"])
paths = ["kernel", "loom-l2", "loom-l3"]
metrics = [("ping_us", "%.1f"), ("tcp_gbps", "%.2f"), ("crr_cps", "%.0f")]
out = open(sys.argv[2], "w")
out.write("path\tmetric\tmedian\tn\tratio_median\tratios\n")
print("== medians over %d round(s); (x) = median of per-round ratios loom/kernel "
      "(ping: > 1 is slower; TCP, CRR: > 1 is faster)" % len(rounds))
print("%-8s %18s %18s %18s" % ("path", "ping_us (x)", "tcp_Gbps (x)", "crr_cps (x)"))
for p in paths:
    cells = []
    for m, fmt in metrics:
        v = [val.get((r, p, m)) for r in rounds]
        v = [x for x in v if x is not None]
        med = st.median(v) if v else None
        ratios = []
        for r in rounds:
            a, b = val.get((r, p, m)), val.get((r, "kernel", m))
            if a is not None and b:
                ratios.append(a / b)
        rmed = st.median(ratios) if ratios else None
        cell = ("-" if med is None else fmt % med) + " (" + ("-" if rmed is None else "%.2f" % rmed) + ")"
        cells.append(cell)
        out.write("%s\t%s\t%s\t%d\t%s\t%s\n" % (p, m, "-" if med is None else fmt % med, len(v),
                  "-" if rmed is None else "%.3f" % rmed, ",".join("%.3f" % x for x in ratios)))
    print("%-8s %18s %18s %18s" % (p, *cells))
print("per-round ratios loom/kernel:")
for p in paths[1:]:
    for m, _ in metrics:
        rs = []
        for r in rounds:
            a, b = val.get((r, p, m)), val.get((r, "kernel", m))
            rs.append("-" if a is None or not b else "%.2f" % (a / b))
        print("  %-8s %-9s %s" % (p, m, " ".join(rs)))
PY
say ""
say "results: $REPORT, $RAW, $OUT/summary.tsv, /metrics snapshots in $OUT/metrics"

# Every agent must have survived the run.
for n in 1 2 3; do
  kill -0 "${E2E_AGENT_PID[$n]}" 2>/dev/null || e2e_die "agent h$n died during the benchmark"
done
e2e_finish
