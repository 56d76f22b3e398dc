#!/usr/bin/env bash
# Is `portline-mio bench` a load generator that does not get in the way? Requests/s that it and
# wrk reach against the same nginx (one worker, 13-byte file), taking turns in one run:
# `wrk -t1 -c50 -d5s` against `portline-mio bench -c 50 -d 5` (its default -t 2) and
# `-t 1` (one thread, as wrk here). Loopback only; every process started here is stopped by PID.
#
#   bash benches/load/bench-vs-wrk.sh              # builds the release binary first
#   DURATION=5 ROUNDS=5 bash benches/load/bench-vs-wrk.sh
#
# Prints a Markdown table to stdout (paste it into benches/RESULTS.md with the date and CPU).
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION=${DURATION:-5}
CONNS=${CONNS:-50}
ROUNDS=${ROUNDS:-3}
source benches/load/lib.sh
need wrk nginx curl python3
cargo build --release -q -p portline-mio
bench_bin="$target/release/portline-mio"
start_nginx 1   # one server core; the client under test gets the other
port=$PORT
url="http://127.0.0.1:$port/hello.txt"

# Each prints "req/s|client CPU µs per request|errors" (CPU: user + system time of the client).
TIMEFORMAT='%U %S'
cpu_per_request() {  # "USER SYS" seconds, requests -> µs per request
  python3 -c 'import sys; u,s=map(float,sys.argv[1].split()); print("%.2f" % ((u+s)*1e6/max(1,int(sys.argv[2]))))' "$1" "$2"
}
run_wrk() {
  local out cpu
  { time wrk -t1 -c"$CONNS" -d"${DURATION}s" "$url" >"$work/out"; } 2>"$work/time"
  out=$(<"$work/out"); cpu=$(tail -1 "$work/time")
  echo "$(awk '/Requests\/sec/ {print $2}' <<<"$out")|$(cpu_per_request "$cpu" "$(awk '/requests in/ {print $1}' <<<"$out")")|$(grep -o 'Socket errors:.*' <<<"$out" || echo none)"
}
run_bench() {
  local threads=$1 out cpu
  { time "$bench_bin" bench -c "$CONNS" -d "$DURATION" -t "$threads" --json "$url" >"$work/out"; } 2>"$work/time"
  out=$(<"$work/out"); cpu=$(tail -1 "$work/time")
  python3 -c 'import json,sys; j=json.loads(sys.argv[1]); e=sum(j["errors"].values()); print("%.2f|%s|%s" % (j["requests_per_sec"], sys.argv[2], e or "none"))' \
    "$out" "$(cpu_per_request "$cpu" "$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["requests"])' "$out")")"
}

clients=("wrk -t1" "bench -t2" "bench -t1")
declare -A rps_of cpu_of errors_of
for round in $(seq "$ROUNDS"); do
  for c in "${clients[@]}"; do
    case $c in
      "wrk -t1") r=$(run_wrk) ;;
      "bench -t2") r=$(run_bench 2) ;;
      "bench -t1") r=$(run_bench 1) ;;
    esac
    IFS='|' read -r rps cpu errors <<<"$r"
    rps_of[$c]+="$rps "
    cpu_of[$c]+="$cpu "
    [ "$errors" = none ] || errors_of[$c]+="round $round: $errors; "
    echo "round $round: $c $rps req/s, $cpu us CPU/request" >&2
  done
done

wrk_median=$(median "${rps_of[wrk -t1]}")
echo "nginx (1 worker), 13-byte file, -c$CONNS for ${DURATION}s, $ROUNDS rounds taking turns; $(date -u +%Y-%m-%d); $(lscpu | sed -n 's/^Model name: *//p'); $(nproc) cores"
echo
echo "| client | median requests/s | each round | vs wrk (median) | client CPU per request (median) | errors |"
echo "|---|---:|---|---:|---:|---|"
for c in "${clients[@]}"; do
  m=$(median "${rps_of[$c]}")
  ratio=$(python3 -c "print(f'{$m/$wrk_median:.2f}x')")
  label=$c
  case $c in
    "wrk -t1") label="\`wrk -t1 -c$CONNS -d${DURATION}s\`" ;;
    "bench -t2") label="\`portline-mio bench -c $CONNS -d $DURATION\` (-t 2)" ;;
    "bench -t1") label="\`portline-mio bench -c $CONNS -d $DURATION -t 1\`" ;;
  esac
  echo "| $label | $m | ${rps_of[$c]% } | $ratio | $(median "${cpu_of[$c]}") µs | ${errors_of[$c]:-none} |"
done
