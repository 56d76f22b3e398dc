#!/usr/bin/env bash
# User-space instructions per answer of a portline server (default portline-mio), counted by
# callgrind: the server runs under `valgrind --tool=callgrind` with `serve http --threads 1
# --quiet` serving the 13-byte hello.txt, `wrk -t1 -c50 -d4s` asks it for that file, and the
# server's whole instruction count (start-up and the readiness request included: well under 1%
# of it) is divided by the requests wrk counted. Steadier than CPU time on a shared machine:
# two runs of the same binary agree within about 1%. Loopback only; every process started here
# is stopped by PID. Needs valgrind and wrk.
#
#   bash benches/load/instructions-per-answer.sh          # builds portline-mio (profiling)
#   BIN=/tmp/before/portline-mio bash benches/load/instructions-per-answer.sh   # another build
#   SERVER=portline-smol RUNS=3 bash benches/load/instructions-per-answer.sh
#   SERVER=hyper bash benches/load/instructions-per-answer.sh
#       # the hyper peer of vs-hyper.sh (benches/examples/hyper_server.rs), same load
#   KEEP=/tmp/cg.out bash benches/load/instructions-per-answer.sh
#       # keeps the (last) callgrind file; then, per answer, by function:
#       #   callgrind_annotate --inclusive=yes /tmp/cg.out | head -60
#
# Prints one line per run: instructions, requests, instructions per answer.
set -euo pipefail
cd "$(dirname "$0")/../.."
SERVER=${SERVER:-portline-mio}
DURATION=${DURATION:-4}
CONNS=${CONNS:-50}
RUNS=${RUNS:-1}
source benches/load/lib.sh
need wrk valgrind curl python3
if [ -z "${BIN:-}" ] && [ "$SERVER" = hyper ]; then
  cargo build --profile profiling -q -p portline-benches --example hyper_server
  BIN=$target/profiling/examples/hyper_server
elif [ -z "${BIN:-}" ]; then
  cargo build --profile profiling -q -p "$SERVER"
  BIN=$target/profiling/$SERVER
fi
if [ "$SERVER" = hyper ]; then
  args=(127.0.0.1:0)
else
  args=(serve http --listen 127.0.0.1:0 --root "$root" --threads 1 --quiet)
fi
for run in $(seq "$RUNS"); do
  log="$work/server.log"
  cg="$work/callgrind.out"
  : > "$log"
  valgrind --tool=callgrind --callgrind-out-file="$cg" \
    "$BIN" "${args[@]}" >/dev/null 2>"$log" &
  pids+=($!)
  wait_ready "$SERVER" "$log"
  # Under valgrind the server answers slowly: wait for the file to come back before the load.
  curl -fs "http://127.0.0.1:$PORT/hello.txt" >/dev/null
  out=$(wrk -t1 -c"$CONNS" -d"${DURATION}s" "http://127.0.0.1:$PORT/hello.txt")
  stop_last   # SIGTERM: the server drains and exits, and callgrind writes its file
  requests=$(awk '/requests in/ {print $1}' <<<"$out")
  errors=$(grep -o 'Socket errors:.*' <<<"$out" || true)
  non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
  total=$(sed -n 's/^summary: //p' "$cg")
  [ -n "$total" ] || { echo "no callgrind summary" >&2; cat "$log" >&2; exit 1; }
  echo "$SERVER run $run: $total instructions, $requests requests, $(( total / requests )) instructions per answer${errors:+ ($errors)}${non2xx:+ (non-2xx $non2xx)}"
  if [ -n "${KEEP:-}" ]; then cp "$cg" "$KEEP"; fi
done
