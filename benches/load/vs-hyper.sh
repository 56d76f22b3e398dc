#!/usr/bin/env bash
# Requests per second and server CPU per request, one thread each, same run: nginx (1 worker),
# hyper 1.x (tokio current_thread, a fixed 13-byte body: benches/examples/hyper_server.rs) and
# portline-mio, -smol and -std with `--threads 1` (portline-std still runs a thread per
# connection) serving a 13-byte file to `wrk -t1 -c50 -d5s`, taking turns for ROUNDS rounds so
# that the load of a shared machine hits them all alike. CPU per request is the server's user +
# system time (/proc/PID/stat, every thread; nginx: its worker) over the requests wrk counted;
# wrk's own CPU per request (bash `time`) is printed beside it.
# Loopback only; every process started here is stopped by PID.
#
#   bash benches/load/vs-hyper.sh                      # builds the binaries first (profile
#                                                      # `profiling`: release code with symbols)
#   BEFORE=/tmp/main-bins bash benches/load/vs-hyper.sh
#       # also portline-{mio,smol,std} from that folder (a build of main), as "BIN (before)"
#   DURATION=5 ROUNDS=3 QUIET= bash benches/load/vs-hyper.sh   # QUIET=: with the access log
#   PORTLINE=portline-mio bash benches/load/vs-hyper.sh  # only these portline binaries
#   HYPER_HEADERS=1 bash benches/load/vs-hyper.sh
#       # also "hyper, portline's fields": hyper sending the header fields portline sends for
#       # the file (same lengths), to tell what the header bytes cost from what the servers do
#
# Prints a Markdown table to stdout (paste it into benches/RESULTS.md with the date and CPU).
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION=${DURATION:-5}
CONNS=${CONNS:-50}
ROUNDS=${ROUNDS:-3}
BEFORE=${BEFORE:-}
source benches/load/lib.sh
need wrk nginx curl python3
cargo build --profile profiling -q -p portline-std -p portline-mio -p portline-smol
cargo build --profile profiling -q -p portline-benches --example hyper_server --example std_floor
PROFILE=profiling
tick=$(getconf CLK_TCK)

# start_hyper [--portline-headers]: the hyper peer on a free port; sets PORT from its ready line.
start_hyper() {
  local log="$work/hyper.log"
  : > "$log"
  "$target/profiling/examples/hyper_server" 127.0.0.1:0 "$@" >/dev/null 2>"$log" &
  pids+=($!)
  wait_ready hyper_server "$log"
}

# CPU ticks (user + system, every thread, ended ones included) of the processes named.
ticks() {
  local p sum=0
  for p in "$@"; do
    # Fields after the ")" that ends the command name: utime and stime are the 12th and 13th.
    sum=$(( sum + $(sed 's/.*) //' "/proc/$p/stat" | awk '{print $12 + $13}') ))
  done
  echo "$sum"
}

# start_floor: the thread-per-connection floor on a free port; sets PORT from its ready line.
start_floor() {
  local log="$work/floor.log"
  : > "$log"
  "$target/profiling/examples/std_floor" 127.0.0.1:0 >/dev/null 2>"$log" &
  pids+=($!)
  wait_ready std_floor "$log"
}

read -r -a portline <<<"${PORTLINE:-portline-mio portline-smol portline-std}"
servers=(nginx hyper)
if [ -n "${HYPER_HEADERS:-}" ]; then servers+=("hyper, portline's fields"); fi
servers+=("${portline[@]}")
if [ -n "${STD_FLOOR:-}" ]; then servers+=("std floor"); fi
if [ -n "$BEFORE" ]; then for p in "${portline[@]}"; do servers+=("$p (before)"); done; fi
declare -A rps_of cpu_of client_of errors_of
TIMEFORMAT='%U %S'
for round in $(seq "$ROUNDS"); do
  for name in "${servers[@]}"; do
    case $name in
      nginx) start_nginx 1 ;;
      hyper) start_hyper ;;
      "hyper, portline's fields") start_hyper --portline-headers ;;
      "std floor") start_floor ;;
      *"(before)") BIN_DIR=$BEFORE start_portline "${name% (before)}" --threads 1 ;;
      *) start_portline "$name" --threads 1 ;;
    esac
    served=${pids[-1]}
    # nginx's master serves nothing: its worker (its one child) does.
    if [ "$name" = nginx ]; then served=$(cat /proc/"$served"/task/*/children); fi
    before=$(ticks $served)
    # wrk's own user + system time too: the client's share of each exchange (it parses every
    # answer's head, so longer heads cost it more).
    { time wrk -t1 -c"$CONNS" -d"${DURATION}s" "http://127.0.0.1:$PORT/hello.txt" >"$work/wrk.out"; } 2>"$work/wrk.time"
    out=$(cat "$work/wrk.out")
    after=$(ticks $served)
    stop_last
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    requests=$(awk '/requests in/ {print $1}' <<<"$out")
    cpu=$(python3 -c "print(f'{($after - $before) / $tick * 1e6 / max(1, $requests):.2f}')")
    client=$(python3 -c "print(f'{sum(map(float, \"$(cat "$work/wrk.time")\".split())) * 1e6 / max(1, $requests):.2f}')")
    errors=$(grep -o 'Socket errors:.*' <<<"$out" || true)
    non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
    [ -z "$errors$non2xx" ] || errors_of[$name]+="round $round: ${errors}${non2xx:+ non-2xx $non2xx}; "
    rps_of[$name]+="$rps "
    cpu_of[$name]+="$cpu "
    client_of[$name]+="$client "
    echo "round $round: $name $rps req/s, $cpu us CPU/request, wrk $client us (load $(cut -d' ' -f1 /proc/loadavg))" >&2
  done
done

nginx_m=$(median "${rps_of[nginx]}")
hyper_m=$(median "${rps_of[hyper]}")
echo "wrk -t1 -c$CONNS -d${DURATION}s, 13-byte file (hyper: a fixed 13-byte body), one worker or --threads 1, $ROUNDS rounds taking turns; $(date -u '+%Y-%m-%d %H:%M UTC'); $(lscpu | sed -n 's/^Model name: *//p'); $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| server | median req/s | each round | vs nginx | vs hyper | CPU per request (median) | each round | wrk's CPU per request (median) | errors |"
echo "|---|---:|---|---:|---:|---:|---|---:|---|"
for name in "${servers[@]}"; do
  m=$(median "${rps_of[$name]}")
  python3 - "$name" "$m" "$nginx_m" "$hyper_m" "$(median "${cpu_of[$name]}")" "${rps_of[$name]% }" "${cpu_of[$name]% }" "$(median "${client_of[$name]}")" "${errors_of[$name]:-none}" <<'PY'
import sys
name, m, n, h, cpu, each, each_cpu, client, errors = sys.argv[1:]
m, n, h = float(m), float(n), float(h)
print(f"| {name} | {m / 1000:.1f}k | {each} | {m / n:.2f}x | {m / h:.2f}x | {float(cpu):.1f} µs | {each_cpu} | {float(client):.1f} µs | {errors} |")
PY
done
