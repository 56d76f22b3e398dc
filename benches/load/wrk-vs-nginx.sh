#!/usr/bin/env bash
# Requests per second of each portline binary against nginx, same 13-byte file, same machine,
# same run: `wrk -t1 -c50 -d5s`. Loopback only; every process started here is stopped by PID.
#
#   bash benches/load/wrk-vs-nginx.sh            # builds the binaries first (profile `profiling`:
#                                                # release code with symbols, so perf can attach)
#   DURATION=10s ROUNDS=5 bash benches/load/wrk-vs-nginx.sh
#   CLOSE=1 bash benches/load/wrk-vs-nginx.sh    # a connection per request (`Connection: close`,
#                                                # as HTTP/1.0 clients and nginx's default upstream)
#
# Prints a Markdown table to stdout (paste it into benches/RESULTS.md with the date and CPU).
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION=${DURATION:-5s}
CONNS=${CONNS:-50}
ROUNDS=${ROUNDS:-3}
source benches/load/lib.sh
need wrk nginx curl python3
cargo build --profile profiling -q -p portline-std -p portline-mio -p portline-smol
PROFILE=profiling

# One wrk run; prints "rps|non2xx|socket errors".
measure() {
  local port=$1 out rps errors non2xx
  out=$(wrk -t1 -c"$CONNS" -d"$DURATION" ${CLOSE:+-H 'Connection: close'} "http://127.0.0.1:$port/hello.txt")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  errors=$(grep -o 'Socket errors:.*' <<<"$out" || echo "none")
  non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out"); non2xx=${non2xx:-0}
  echo "$rps|$non2xx|$errors"
}

# Each server runs alone while it is measured, then is stopped, so none competes for the cores;
# the servers take turns for ROUNDS rounds so that a noisy stretch hits them all alike.
servers=(nginx portline-std portline-mio portline-smol)
declare -A rps_of non2xx_of errors_of
for round in $(seq "$ROUNDS"); do
  for name in "${servers[@]}"; do
    # nginx: one worker per core, like portline-mio's default --threads.
    if [ "$name" = nginx ]; then start_nginx auto; else start_portline "$name"; fi
    IFS='|' read -r rps non2xx errors <<<"$(measure "$PORT")"
    stop_last
    rps_of[$name]+="$rps "
    non2xx_of[$name]=$(( ${non2xx_of[$name]:-0} + non2xx ))
    [ "$errors" = none ] || errors_of[$name]+="round $round: $errors; "
    echo "round $round: $name $rps req/s" >&2
  done
done

nginx_median=$(median "${rps_of[nginx]}")
echo "wrk -t1 -c$CONNS -d$DURATION${CLOSE:+ -H 'Connection: close'}, 13-byte file, $ROUNDS rounds taking turns; $(date -u +%Y-%m-%d); $(lscpu | sed -n 's/^Model name: *//p'); $(nproc) cores"
echo
echo "| server | median requests/s | each round | vs nginx (median) | non-2xx | socket errors |"
echo "|---|---:|---|---:|---:|---|"
for name in "${servers[@]}"; do
  m=$(median "${rps_of[$name]}")
  ratio=$(python3 -c "print(f'{$m/$nginx_median:.2f}x')")
  echo "| $name | $m | ${rps_of[$name]% } | $ratio | ${non2xx_of[$name]} | ${errors_of[$name]:-none} |"
done
