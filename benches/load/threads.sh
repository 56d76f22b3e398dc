#!/usr/bin/env bash
# Requests per second with one and two threads: each portline binary with `--threads 1` and
# `--threads 2`, and nginx with 1 and 2 workers as the reference for what this machine allows,
# serving a 13-byte file to `wrk -t1 -c50 -d5s`; the servers take turns for ROUNDS rounds.
# For each multi-threaded run, the share of the server's CPU time each of its two busiest
# threads took (from /proc/PID/task/*/stat): with portline-mio, how SO_REUSEPORT spread the
# connections over its event loops. Loopback only; every process started here is stopped by PID.
#
#   bash benches/load/threads.sh                   # builds the release binaries first
#   DURATION=5 ROUNDS=3 bash benches/load/threads.sh
#
# Prints a Markdown table to stdout (paste it into benches/RESULTS.md with the date and CPU).
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION=${DURATION:-5}
CONNS=${CONNS:-50}
ROUNDS=${ROUNDS:-3}
source benches/load/lib.sh
need wrk nginx curl python3
cargo build --release -q -p portline-std -p portline-mio -p portline-smol

# CPU ticks (user + system) of every thread of process $1, one "tid ticks" per line.
thread_ticks() {
  local t
  for t in /proc/"$1"/task/*/stat; do
    # Fields after the ")" that ends the command name: utime and stime are the 12th and 13th.
    # A thread may end between the glob and the read: skip it.
    sed 's/.*) //' "$t" 2>/dev/null | awk -v f="$t" '{split(f, p, "/"); print p[5], $12 + $13}' || true
  done
}

# The shares of the CPU the two busiest threads used between two thread_ticks snapshots.
busiest_shares() {
  python3 - "$1" "$2" <<'PY'
import sys
def load(text):
    return {tid: int(t) for tid, t in (l.split() for l in text.strip().splitlines())}
before, after = load(sys.argv[1]), load(sys.argv[2])
used = sorted((after[t] - before.get(t, 0) for t in after), reverse=True)
total = sum(used) or 1
print(" / ".join(f"{100 * u / total:.0f}%" for u in used[:2]))
PY
}

configs=("nginx 1" "nginx 2" "portline-std 1" "portline-std 2" "portline-mio 1" "portline-mio 2" "portline-smol 1" "portline-smol 2")
declare -A rps_of share_of
for round in $(seq "$ROUNDS"); do
  for config in "${configs[@]}"; do
    read -r name threads <<<"$config"
    if [ "$name" = nginx ]; then start_nginx "$threads"; else start_portline "$name" --threads "$threads"; fi
    pid=${pids[-1]}
    before=$(thread_ticks "$pid")
    rps=$(wrk -t1 -c"$CONNS" -d"${DURATION}s" "http://127.0.0.1:$PORT/hello.txt" | awk '/Requests\/sec/ {print $2}')
    after=$(thread_ticks "$pid")
    # nginx's master does no serving (its workers are its children); portline-std's connection
    # threads have ended by the second snapshot.
    case $name in nginx | portline-std) share="-" ;; *) share=$(busiest_shares "$before" "$after") ;; esac
    stop_last
    rps_of[$config]+="$rps "
    share_of[$config]+="$share; "
    echo "round $round: $config: $rps req/s, busiest threads $share" >&2
  done
done

echo "wrk -t1 -c$CONNS -d${DURATION}s, 13-byte file, $ROUNDS rounds taking turns; $(date -u +%Y-%m-%d); $(lscpu | sed -n 's/^Model name: *//p'); $(nproc) cores"
echo
echo "| server | threads | median req/s | each round | 2 threads / 1 | CPU share of the two busiest threads, each round |"
echo "|---|---:|---:|---|---:|---|"
for config in "${configs[@]}"; do
  read -r name threads <<<"$config"
  m=$(median "${rps_of[$config]}")
  one=$(median "${rps_of[$name 1]}")
  ratio=$(python3 -c "print(f'{$m/$one:.2f}x')")
  echo "| $name | $threads | $m | ${rps_of[$config]% } | $ratio | ${share_of[$config]%; } |"
done
