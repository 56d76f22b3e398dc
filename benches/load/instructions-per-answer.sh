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
#   ATTACKERS=3000 bash benches/load/instructions-per-answer.sh
#       # the same while slowloris attackers (as in slowloris.sh: ATTACKER=python for
#       # benches/load/slowloris.py, else benches/examples/slowloris.rs; a partial head, one byte
#       # every 2 s each, reconnecting when closed) hold connections; they start SETTLE (8) s
#       # before wrk, as in slowloris.sh, and only wrk's window is counted (callgrind's counters
#       # are zeroed as wrk starts and dumped as it ends). With ATTACKERS=0 the same window
#       # without attackers: the like-for-like baseline. The line then also gives the
#       # attackers' bytes sent and connects in the window, and the instructions beyond
#       # requests x PER_ANSWER (if given: the alone figure) per attacker byte.
#   CONNS=0 ATTACKERS=3000 ...   # no wrk: what the attackers alone cost the server in the window
#   LOG=1 ...   # the access log on (to a file), as with default flags
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
  args=(serve http --listen 127.0.0.1:0 --root "$root" --threads 1)
  if [ -z "${LOG:-}" ]; then args+=(--quiet); fi
fi
SETTLE=${SETTLE:-8}
if [ -n "${ATTACKERS:-}" ]; then
  need callgrind_control
  ulimit -n "$(ulimit -Hn)"   # the attackers need a descriptor each
  if [ "${ATTACKER:-rust}" = python ]; then
    attacker=(python3 benches/load/slowloris.py)
  else
    cargo build --release -q -p portline-benches --example slowloris
    attacker=("$target/release/examples/slowloris")
  fi
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
  if [ -n "${ATTACKERS:-}" ]; then
    server=${pids[-1]}
    if [ "$ATTACKERS" -gt 0 ]; then
      "${attacker[@]}" "$PORT" "$ATTACKERS" 2 \
        $((SETTLE + DURATION + 20)) > "$work/attack.out" &
      pids+=($!)
      sleep "$SETTLE"
    fi
    if [ "$ATTACKERS" -gt 0 ]; then kill -USR1 "${pids[-1]}" || true; fi
    callgrind_control -z "$server" >/dev/null
    if [ "$CONNS" -gt 0 ]; then
      out=$(wrk -t1 -c"$CONNS" -d"${DURATION}s" "http://127.0.0.1:$PORT/hello.txt")
    else
      sleep "$DURATION"; out="1 requests in"   # no good clients: the attackers' cost alone
    fi
    callgrind_control -d "$server" >/dev/null
    if [ "$ATTACKERS" -gt 0 ]; then
      kill -USR1 "${pids[-1]}" || true
      sleep 0.2
      kill -INT "${pids[-1]}" || true   # prints its counts and stops
      wait "${pids[-1]}" || true
      unset 'pids[-1]'
    fi
    stop_last
    # The dump holds the window only; the file at exit (start-up, settling, shutdown) is not used.
    cg=$(ls "$cg".[0-9]* | head -1)
  else
    out=$(wrk -t1 -c"$CONNS" -d"${DURATION}s" "http://127.0.0.1:$PORT/hello.txt")
    stop_last   # SIGTERM: the server drains and exits, and callgrind writes its file
  fi
  requests=$(awk '/requests in/ {print $1}' <<<"$out")
  errors=$(grep -o 'Socket errors:.*' <<<"$out" || true)
  non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
  total=$(sed -n 's/^summary: //p' "$cg")
  [ -n "$total" ] || { echo "no callgrind summary" >&2; cat "$log" >&2; exit 1; }
  extra=
  if [ "${ATTACKERS:-0}" -gt 0 ]; then
    extra=$(awk -v total="$total" -v requests="$requests" -v per="${PER_ANSWER:-0}" '
      /^mark/ { split($2, c, "="); split($3, s, "="); n++; conn[n] = c[2]; sent[n] = s[2] }
      /^connects=/ { sub(/.*cpu=/, ""); cpu = $0 }
      END {
        bytes = sent[2] - sent[1]
        printf ", attackers in the window: %d connects, %d bytes", conn[2] - conn[1], bytes
        if (per > 0 && bytes > 0) printf ", %d instructions per attacker byte beyond %d per answer", (total - requests * per) / bytes, per
        printf "; attacker CPU %s s", cpu
      }' "$work/attack.out")
  fi
  echo "$SERVER run $run: $total instructions, $requests requests, $(( total / requests )) instructions per answer${errors:+ ($errors)}${non2xx:+ (non-2xx $non2xx)}$extra"
  if [ -n "${KEEP:-}" ]; then cp "$cg" "$KEEP"; fi
  rm -f "$cg" "$cg".*
done
