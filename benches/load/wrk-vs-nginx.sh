#!/usr/bin/env bash
# Requests per second of each portline binary against nginx, same 13-byte file, same machine,
# same run: `wrk -t1 -c50 -d5s`. Loopback only; every process started here is stopped by PID.
#
#   bash benches/load/wrk-vs-nginx.sh            # builds the binaries first (profile `profiling`:
#                                                # release code with symbols, so perf can attach)
#   DURATION=10s ROUNDS=5 bash benches/load/wrk-vs-nginx.sh
#
# Prints a Markdown table to stdout (paste it into benches/RESULTS.md with the date and CPU).
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION=${DURATION:-5s}
CONNS=${CONNS:-50}
ROUNDS=${ROUNDS:-3}
for tool in wrk nginx; do
  command -v "$tool" >/dev/null || { echo "need $tool (apt-get install -y wrk nginx-light)" >&2; exit 1; }
done
cargo build --profile profiling -q -p portline-std -p portline-mio -p portline-smol

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]:-}"; do [ -n "$p" ] || continue; kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
chmod 755 "$work"   # nginx's workers run as nobody and must reach the file
mkdir -p "$work/root"
printf 'hello, world\n' > "$work/root/hello.txt"   # 13 bytes

# Start a portline binary on port 0; sets PORT from its ready line. (Not called in $(...): the
# server would hold the substitution's pipe open, and its PID would be lost to the subshell.)
start_portline() {
  local bin=$1 log="$work/$1.log"
  "target/profiling/$bin" serve http --listen 127.0.0.1:0 --root "$work/root" --quiet \
    >/dev/null 2>"$log" &
  pids+=($!)
  for _ in $(seq 100); do
    PORT=$(sed -n 's#.*listening on http://127.0.0.1:\([0-9]*\)/.*#\1#p' "$log" | head -1)
    [ -n "$PORT" ] && return
    sleep 0.1
  done
  echo "$bin did not become ready" >&2; cat "$log" >&2; exit 1
}

# Start nginx (one worker per core) on a free port; sets PORT.
start_nginx() {
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  mkdir -p "$work/nginx"
  cat > "$work/nginx/nginx.conf" <<CONF
daemon off;
master_process on;
worker_processes auto;   # one per core, like portline-mio's default --threads
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/nginx;
  proxy_temp_path $work/nginx;
  fastcgi_temp_path $work/nginx;
  uwsgi_temp_path $work/nginx;
  scgi_temp_path $work/nginx;
  keepalive_requests 1000000;
  server { listen 127.0.0.1:$port; root $work/root; }
}
CONF
  nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" >/dev/null 2>>"$work/nginx/error.log" &
  pids+=($!)
  for _ in $(seq 50); do
    curl -fs "http://127.0.0.1:$port/hello.txt" >/dev/null 2>&1 && { PORT=$port; return; }
    sleep 0.1
  done
  echo "nginx did not start" >&2; cat "$work/nginx/error.log" >&2; exit 1
}

# One wrk run; prints "rps|non2xx|socket errors".
measure() {
  local port=$1 out rps errors non2xx
  out=$(wrk -t1 -c"$CONNS" -d"$DURATION" "http://127.0.0.1:$port/hello.txt")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  errors=$(grep -o 'Socket errors:.*' <<<"$out" || echo "none")
  non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out"); non2xx=${non2xx:-0}
  echo "$rps|$non2xx|$errors"
}

# Each server runs alone while it is measured, then is stopped, so none competes for the cores;
# the servers take turns for ROUNDS rounds so that a noisy stretch hits them all alike.
stop_last() { local p=${pids[-1]}; kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; unset 'pids[-1]'; }
servers=(nginx portline-std portline-mio portline-smol)
declare -A rps_of non2xx_of errors_of
for round in $(seq "$ROUNDS"); do
  for name in "${servers[@]}"; do
    if [ "$name" = nginx ]; then start_nginx; else start_portline "$name"; fi
    IFS='|' read -r rps non2xx errors <<<"$(measure "$PORT")"
    stop_last
    rps_of[$name]+="$rps "
    non2xx_of[$name]=$(( ${non2xx_of[$name]:-0} + non2xx ))
    [ "$errors" = none ] || errors_of[$name]+="round $round: $errors; "
    echo "round $round: $name $rps req/s" >&2
  done
done

median() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
nginx_median=$(median "${rps_of[nginx]}")
echo "wrk -t1 -c$CONNS -d$DURATION, 13-byte file, $ROUNDS rounds taking turns; $(date -u +%Y-%m-%d); $(lscpu | sed -n 's/^Model name: *//p'); $(nproc) cores"
echo
echo "| server | median requests/s | each round | vs nginx (median) | non-2xx | socket errors |"
echo "|---|---:|---|---:|---:|---|"
for name in "${servers[@]}"; do
  m=$(median "${rps_of[$name]}")
  ratio=$(python3 -c "print(f'{$m/$nginx_median:.2f}x')")
  echo "| $name | $m | ${rps_of[$name]% } | $ratio | ${non2xx_of[$name]} | ${errors_of[$name]:-none} |"
done
