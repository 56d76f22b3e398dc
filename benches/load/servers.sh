#!/usr/bin/env bash
# The server comparison table, measured by both load generators: each server (nginx, the three
# portline binaries with one worker or --threads 1; portline-std still runs a thread per
# connection, which --threads does not limit) serves a 13-byte file to `wrk -t1 -c50
# -d5s` and to `portline-mio bench -t 1 -c 50 -d 5 --latency`, servers taking turns for ROUNDS
# rounds. Writes the table to stdout and each server's latency percentiles (from bench, its
# median round) as an SVG chart to benches/latency.svg. Loopback only; every process started
# here is stopped by PID.
#
#   bash benches/load/servers.sh                     # builds the release binaries first
#   DURATION=5 ROUNDS=3 SVG=benches/latency.svg bash benches/load/servers.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION=${DURATION:-5}
CONNS=${CONNS:-50}
ROUNDS=${ROUNDS:-3}
SVG=${SVG:-benches/latency.svg}
source benches/load/lib.sh
need wrk nginx curl python3
cargo build --release -q -p portline-std -p portline-mio -p portline-smol

servers=(nginx portline-std portline-mio portline-smol)
declare -A wrk_of bench_of
for round in $(seq "$ROUNDS"); do
  for name in "${servers[@]}"; do
    if [ "$name" = nginx ]; then start_nginx 1; else start_portline "$name" --threads 1; fi
    url="http://127.0.0.1:$PORT/hello.txt"
    w=$(wrk -t1 -c"$CONNS" -d"${DURATION}s" "$url" | awk '/Requests\/sec/ {print $2}')
    "$target/release/portline-mio" bench -t 1 -c "$CONNS" -d "$DURATION" --json --latency "$url" \
      >"$work/$name.$round.json"
    b=$(python3 -c 'import json,sys; print("%.2f" % json.load(open(sys.argv[1]))["requests_per_sec"])' "$work/$name.$round.json")
    stop_last
    wrk_of[$name]+="$w "
    bench_of[$name]+="$b "
    echo "round $round: $name wrk $w req/s, bench $b req/s" >&2
  done
done

# The report of the median round (by bench's requests/s) of each server, for the chart.
median_report() {
  local name=$1
  python3 - "$name" "$ROUNDS" "$work" <<'PY'
import json, sys
name, rounds, work = sys.argv[1], int(sys.argv[2]), sys.argv[3]
runs = sorted((json.load(open(f"{work}/{name}.{r}.json"))["requests_per_sec"], r) for r in range(1, rounds + 1))
print(f"{work}/{name}.{runs[(len(runs) - 1) // 2][1]}.json")
PY
}

nginx_wrk=$(median "${wrk_of[nginx]}")
nginx_bench=$(median "${bench_of[nginx]}")
echo "-c$CONNS for ${DURATION}s, 13-byte file, one worker or --threads 1 (std: a thread per connection), $ROUNDS rounds taking turns; $(date -u +%Y-%m-%d); $(lscpu | sed -n 's/^Model name: *//p'); $(nproc) cores"
echo
echo "| server | wrk -t1: median req/s | vs nginx | bench -t 1: median req/s | vs nginx | bench p50 | p99 | p99.9 | max | bench errors |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
charts=()
for name in "${servers[@]}"; do
  w=$(median "${wrk_of[$name]}")
  b=$(median "${bench_of[$name]}")
  report=$(median_report "$name")
  charts+=("$name=$report")
  python3 - "$name" "$w" "$nginx_wrk" "$b" "$nginx_bench" "$report" <<'PY'
import json, sys
name, w, nw, b, nb, path = sys.argv[1], *map(float, sys.argv[2:6]), sys.argv[6]
j = json.load(open(path))
l = j["latency_us"]
ms = lambda us: f"{us / 1000:.2f} ms"
errors = ", ".join(f"{k} {v}" for k, v in j["errors"].items() if v) or "none"
print(f"| {name} | {w:.0f} | {w / nw:.2f}x | {b:.0f} | {b / nb:.2f}x | {ms(l['p50'])} | {ms(l['p99'])} | {ms(l['p999'])} | {ms(l['max'])} | {errors} |")
PY
done
python3 benches/load/latency-svg.py \
  "Latency percentiles, bench -t 1 -c $CONNS -d $DURATION, 13-byte file, one worker or --threads 1 ($(date -u +%Y-%m-%d))" \
  "$SVG" "${charts[@]}"
echo >&2 "wrote $SVG"
