#!/usr/bin/env bash
# Syscalls, context switches and CPU per good answer of a portline server at native speed,
# alone and under slowloris attackers, counted by `perf stat` on the kernel's syscall
# tracepoints (they work where hardware counters do not, as on the AMD EPYC VM of
# benches/RESULTS.md). Counts such as futex or epoll_ctl calls per answer move less with the
# machine's load than times do, and they say what a runtime asks of the kernel.
#
# The server runs with default flags but --quiet unless LOG=1 (slowloris.sh's default flags
# log to a file: LOG=1 for that), serving the 13-byte hello.txt; `wrk -t1 -c10` warms it 2 s,
# then is counted for DURATION s alone; then ATTACKERS slow clients (benches/examples/
# slowloris.rs: a partial head, one byte every 2 s each) start, and after SETTLE s the same
# count runs under attack; with ATTACKERS_ALONE=1 a last window of DURATION s counts the
# attackers alone (no wrk), per second. SETTLE=8 and DURATION=15 give slowloris.sh's window.
#
#   bash benches/load/syscalls-per-answer.sh                        # portline-smol
#   BIN=/tmp/before/portline-smol bash benches/load/syscalls-per-answer.sh
#   SERVER=portline-mio ARGS="--threads 1" bash benches/load/syscalls-per-answer.sh
#   ATTACKERS=0 ...      # the window alone only
#   PER_THREAD=1 ...     # counts per thread (smol's "async-io" reactor thread apart)
#
# Needs perf (root, or perf_event_paranoid <= -1 for tracepoints) and wrk. Loopback only; every
# process started here is stopped by PID.
set -euo pipefail
cd "$(dirname "$0")/../.."
SERVER=${SERVER:-portline-smol}
DURATION=${DURATION:-10}
ATTACKERS=${ATTACKERS:-3000}
SETTLE=${SETTLE:-8}
source benches/load/lib.sh
need wrk perf curl python3
if [ -z "${BIN:-}" ]; then
  cargo build --profile profiling -q -p "$SERVER"
  BIN=$target/profiling/$SERVER
fi
if [ "$ATTACKERS" -gt 0 ]; then
  cargo build --release -q -p portline-benches --example slowloris
  ulimit -n "$(ulimit -Hn)"   # the attackers need a descriptor each
fi
args=(serve http --listen 127.0.0.1:0 --root "$root")
if [ -z "${LOG:-}" ]; then args+=(--quiet); fi
# shellcheck disable=SC2206
args+=(${ARGS:-})
log="$work/server.log"
"$BIN" "${args[@]}" >/dev/null 2>"$log" &
pids+=($!)
server=$!
wait_ready "$SERVER" "$log"
events=task-clock,context-switches
for s in epoll_wait epoll_pwait futex read write recvfrom sendto epoll_ctl timerfd_settime accept4 close; do
  events+=",syscalls:sys_enter_$s"
done

# count NAME REQUESTS-OR-EMPTY: perf's counts of the last window, per answer (or per second).
report() {
  local name=$1 requests=$2
  echo "$name"
  grep -v '^#' "$work/perf" | grep . | awk -F, -v r="$requests" -v d="$DURATION" -v pt="${PER_THREAD:-}" '
    { if (pt != "") { who = $1 " "; n = $2; ev = $4 } else { who = ""; n = $1; ev = $3 }
      if (n !~ /^[0-9.]+$/ || n == 0) next
      sub(/^syscalls:sys_enter_/, "", ev)
      if (ev == "task-clock") { ev = "CPU ms"; }
      if (r != "") printf "  %s%-18s %12s %10.4f per answer\n", who, ev, n, n / r
      else printf "  %s%-18s %12s %10.1f per second\n", who, ev, n, n / d }'
}

window() {  # window NAME: wrk counted for DURATION s
  wrk -t1 -c10 -d2s "http://127.0.0.1:$PORT/hello.txt" >/dev/null   # warm-up
  perf stat ${PER_THREAD:+--per-thread} -x, -o "$work/perf" -e "$events" -p "$server" -- sleep "$DURATION" &
  local counting=$!
  local out
  out=$(wrk -t1 -c10 -d"${DURATION}s" "http://127.0.0.1:$PORT/hello.txt")
  wait "$counting"
  local requests
  requests=$(awk '/requests in/ {print $1}' <<<"$out")
  report "$1: $requests answers ($(awk '/Requests\/sec/ {print $2}' <<<"$out")/s), load average $(cut -d' ' -f1-3 /proc/loadavg)" "$requests"
}

window "$SERVER alone"
if [ "$ATTACKERS" -gt 0 ]; then
  "$target/release/examples/slowloris" "$PORT" "$ATTACKERS" 2 $((SETTLE + 2 * DURATION + 12)) \
    > "$work/attack.out" &
  pids+=($!)
  sleep $((SETTLE > 2 ? SETTLE - 2 : 0))   # the window's warm-up takes the last 2 s
  window "$SERVER under $ATTACKERS attackers"
  if [ -n "${ATTACKERS_ALONE:-}" ]; then
    perf stat ${PER_THREAD:+--per-thread} -x, -o "$work/perf" -e "$events" -p "$server" -- sleep "$DURATION"
    report "$SERVER, the attackers alone (no wrk), load average $(cut -d' ' -f1-3 /proc/loadavg)" ""
  fi
fi
