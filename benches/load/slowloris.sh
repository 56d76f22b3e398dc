#!/usr/bin/env bash
# Slowloris against each portline binary with DEFAULT flags (issue 11 §3): well-behaved keep-alive
# clients (`wrk -t1 -c10`) measured alone, then while ATTACKERS slow clients hold connections
# (a partial head, one byte every 2 s, reconnecting when closed). Prints a Markdown table: the
# good clients' requests/s under attack as a ratio of their baseline, and their non-2xx/errors.
#
#   bash benches/load/slowloris.sh                       # 3,000 attackers, builds release first
#   ATTACKERS=25000 bash benches/load/slowloris.sh       # past a 20,000 open-files limit
#
# Loopback only; every process started here is stopped by PID.
set -euo pipefail
cd "$(dirname "$0")/../.."
ATTACKERS=${ATTACKERS:-3000}
DURATION=${DURATION:-5}
BINS=${BINS:-"portline-mio portline-smol portline-std"}
command -v wrk >/dev/null || { echo "need wrk (apt-get install -y wrk)" >&2; exit 1; }
cargo build --release -q -p portline-std -p portline-mio -p portline-smol
ulimit -n "$(ulimit -Hn)"   # the attackers need a descriptor each

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]:-}"; do [ -n "$p" ] || continue; kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$work/root"; printf 'hello, world\n' > "$work/root/hello.txt"

measure() {  # prints "rps non2xx errors"
  local out rps non2xx errors
  out=$(wrk -t1 -c10 -d"${DURATION}s" "http://127.0.0.1:$1/hello.txt")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out"); non2xx=${non2xx:-0}
  errors=$(grep -o 'Socket errors:.*' <<<"$out" | tr -d ',' | awk '{s=0; for(i=3;i<=NF;i+=2) s+=$i; print s}')
  echo "$rps $non2xx ${errors:-0}"
}

echo "| binary | baseline req/s | under $ATTACKERS attackers req/s | ratio | non-2xx | socket errors | attacker connects |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for bin in $BINS; do
  log="$work/$bin.log"
  "target/release/$bin" serve http --listen 127.0.0.1:0 --root "$work/root" >/dev/null 2>"$log" &
  server=$!; pids+=("$server")
  port=""
  for _ in $(seq 100); do
    port=$(sed -n 's#.*listening on http://127.0.0.1:\([0-9]*\)/.*#\1#p' "$log" | head -1)
    [ -n "$port" ] && break; sleep 0.1
  done
  read -r base _ _ < <(measure "$port")
  python3 benches/load/slowloris.py "$port" "$ATTACKERS" 2 $((DURATION + 12)) > "$work/attack.out" &
  attack=$!; pids+=("$attack")
  sleep 8   # let the attackers connect and fill the server
  read -r under non2xx errors < <(measure "$port")
  wait "$attack" || true
  ratio=$(python3 -c "print(f'{$under/$base:.2f}')")
  echo "| $bin | $base | $under | $ratio | $non2xx | $errors | $(sed 's/connects=\([0-9]*\).*/\1/' "$work/attack.out") |"
  kill "$server"; wait "$server" 2>/dev/null || true
done
