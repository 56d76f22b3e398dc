#!/usr/bin/env bash
# Slowloris against each portline binary with DEFAULT flags (issue 11 §3): well-behaved keep-alive
# clients (`wrk -t1 -c10`) measured alone, then while ATTACKERS slow clients hold connections
# (a partial head, one byte every 2 s, reconnecting when closed; benches/examples/slowloris.rs).
# Prints a Markdown table: the good clients' requests/s under attack as a ratio of their
# baseline (the mean of one measure before the attack and one after it), their non-2xx answers and socket errors, the server's connection limit (derived from
# its open-files limit, as by default), and how many connections it closed to admit others.
#
#   bash benches/load/slowloris.sh                       # 3,000 attackers, builds release first
#   NOFILE=2000 bash benches/load/slowloris.sh           # past the fd limit: the server runs
#                                                        # with 2,000 descriptors (soft and hard)
#
#   ATTACKER=python bash benches/load/slowloris.sh      # the first attacker, slowloris.py
#   DURATION=15 ROUNDS=5 bash benches/load/slowloris.sh # five rounds of 15-s windows each, and
#                                                        # each binary's median ratio
#   SERVER_ARGS="--header-timeout 120" bash ...          # flags for the servers (not default
#                                                        # then: for diagnosis only)
#   PIN=1 bash benches/load/slowloris.sh                 # the server on CPU 0, wrk and the
#                                                        # attackers on CPU 1 (below)
#
# The attackers model remote clients, but here they run on the server's machine, sharing its
# cores with wrk and the server: their CPU is an artefact of measuring on one machine, not
# something a real attack takes from the server. So the default attacker is lean (one thread,
# one mio poll: about 0.05 s of user CPU in a run, plus about 0.8 s in the kernel for the
# loopback sends and connects, some of which is the server's side of TCP) where the Python one
# (asyncio) took 4-5 CPU seconds per run on an AMD EPYC VM. The attack is the same: as many
# connections, the same partial head, one byte every 2 s each, reconnecting when closed as the
# Python attacker notices it (its next tick after a reset, or after an end of stream with
# nothing received); the Rust one opens its connections evenly over the first second, about
# as asyncio got to them. The attackers' CPU seconds are still printed.
#
# PIN=1 keeps the attackers' work off the server's core: the server runs on CPU 0 (taskset; its
# default --threads then is 1, one per core it may use), wrk and the attackers on CPU 1, where
# their loopback sends and connects are processed too. It models remote attackers more
# closely; the default (nothing pinned) is the harder and noisier case, where all of it
# shares both cores with the server.
#
# Default flags means the access log is on too (to a file here), as a server runs by default.
# Loopback only; every process started here is stopped by PID.
set -euo pipefail
cd "$(dirname "$0")/../.."
ATTACKERS=${ATTACKERS:-3000}
DURATION=${DURATION:-5}
ROUNDS=${ROUNDS:-1}
BINS=${BINS:-"portline-mio portline-smol portline-std"}
source benches/load/lib.sh
need wrk python3
cargo build --release -q -p portline-std -p portline-mio -p portline-smol
if [ "${ATTACKER:-rust}" = python ]; then
  attacker=(python3 benches/load/slowloris.py)
else
  cargo build --release -q -p portline-benches --example slowloris
  attacker=("$target/release/examples/slowloris")
fi
ulimit -n "$(ulimit -Hn)"   # the attackers need a descriptor each
QUIET=                      # default flags: the access log stays on
if [ -n "${PIN:-}" ]; then
  need taskset
  export SERVER_CPUS=0 CLIENT_CPUS=1
fi

# CPU time (user + system, clock ticks) PID has used.
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

measure() {  # measure PORT SERVER_PID: prints "rps non2xx errors server-CPU-µs-per-request"
  local out rps non2xx errors t0 t1
  t0=$(ticks "$2")
  out=$(${CLIENT_CPUS:+taskset -c "$CLIENT_CPUS"} wrk -t1 -c10 -d"${DURATION}s" "http://127.0.0.1:$1/hello.txt")
  t1=$(ticks "$2")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out"); non2xx=${non2xx:-0}
  # "connect 0, read 5, write 0, timeout 0" without the zeros, or 0.
  errors=$(grep -o 'Socket errors:.*' <<<"$out" | sed 's/Socket errors: //' | tr -d ',' \
    | awk '{s=""; for(i=1;i<NF;i+=2) if ($(i+1) > 0) s=s (s ? "/" : "") $i "=" $(i+1); print s}' || true)
  echo "$rps $non2xx ${errors:-0} $(python3 -c "print(f'{($t1-$t0)*1e6/$(getconf CLK_TCK)/($rps*$DURATION):.1f}')")"
}

# The open-files limit the server gets, and the connection limit it derives from it (the
# default of --max-connections, docs/CLI.md).
nofile=${NOFILE:-$(ulimit -n)}
limit=$(( (nofile - 64) / 2 ))
if [ "$limit" -lt 16 ]; then limit=16; elif [ "$limit" -gt 65536 ]; then limit=65536; fi

echo "$ATTACKERS attackers (${ATTACKER:-rust}, one byte every 2 s), wrk -t1 -c10 -d${DURATION}s, open-files limit $nofile (connection limit $limit); $(date -u +%Y-%m-%d); $(lscpu | sed -n 's/^Model name: *//p'); $(nproc) cores${PIN:+; pinned: the server on CPU 0, wrk and the attackers on CPU 1}"
echo
echo "| binary | baseline req/s (before / after the attack) | under attack req/s | ratio (to their mean) | non-2xx | socket errors | connections closed to admit others | attacker connects | attacker CPU s | server CPU µs/req alone | under attack | load average |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
# One round for BIN: a baseline, the attack, the baseline again; prints the table row and
# appends the ratio to $work/BIN.ratios.
round() {
  local bin=$1 port server base cpu_base attack under non2xx errors cpu_under after ratio evicted
  start_portline "$bin" ${SERVER_ARGS:-}
  port=$PORT
  server=${pids[-1]}
  read -r base _ _ cpu_base < <(measure "$port" "$server")
  ${CLIENT_CPUS:+taskset -c "$CLIENT_CPUS"} "${attacker[@]}" "$port" "$ATTACKERS" 2 $((DURATION + 12)) > "$work/attack.out" &
  attack=$!; pids+=("$attack")
  sleep 8   # let the attackers connect and fill the server
  read -r under non2xx errors cpu_under < <(measure "$port" "$server")
  wait "$attack" || true
  unset 'pids[-1]'
  # The baseline again once the attackers are gone: on a shared machine the load moves, and
  # a server measured first just after it started (or last) would bias the ratio.
  sleep 2
  read -r after _ _ _ < <(measure "$port" "$server")
  ratio=$(python3 -c "print(f'{$under/(($base+$after)/2):.2f}')")
  echo "$ratio" >> "$work/$bin.ratios"
  evicted=$(grep -c ' to admit ' "$work/$bin.log" || true)
  echo "| $bin | $base / $after | $under | $ratio | $non2xx | $errors | $evicted | $(sed 's/connects=\([0-9]*\).*/\1/' "$work/attack.out") | $(sed 's/.*cpu=//' "$work/attack.out") | $cpu_base | $cpu_under | $(cut -d' ' -f1-3 /proc/loadavg) |"
  stop_last
}

# ROUNDS rounds; the binaries' order reverses every other round, so that none is always
# measured first (just after a build) or last.
order=($BINS)
for ((r = 1; r <= ROUNDS; r++)); do
  for bin in "${order[@]}"; do round "$bin"; done
  mapfile -t order < <(printf '%s\n' "${order[@]}" | tac)
done
if [ "$ROUNDS" -gt 1 ]; then
  echo
  for bin in $BINS; do
    ratios=$(sort -n "$work/$bin.ratios" | paste -sd' ')
    echo "$bin: ratio median $(median "$ratios") over $ROUNDS rounds ($ratios)"
  done
fi
