#!/usr/bin/env bash
# Requests per second of each portline binary against nginx, same 13-byte file, same machine,
# same run: `wrk -t1 -c50 -d5s`. Loopback only; every process started here is stopped by PID.
#
#   bash benches/load/wrk-vs-nginx.sh            # builds the release binaries first
#   DURATION=10s bash benches/load/wrk-vs-nginx.sh
#
# Prints a Markdown table to stdout (paste it into benches/RESULTS.md with the date and CPU).
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION=${DURATION:-5s}
CONNS=${CONNS:-50}
for tool in wrk nginx; do
  command -v "$tool" >/dev/null || { echo "need $tool (apt-get install -y wrk nginx-light)" >&2; exit 1; }
done
cargo build --release -q -p portline-std -p portline-mio -p portline-smol

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$work/root"
printf 'hello, world\n' > "$work/root/hello.txt"   # 13 bytes

# Start a portline binary on port 0 and print the port from its ready line.
start_portline() {
  local bin=$1 log="$work/$1.log"
  "target/release/$bin" serve http --listen 127.0.0.1:0 --root "$work/root" --quiet 2>"$log" &
  pids+=($!)
  for _ in $(seq 100); do
    if grep -q 'listening on' "$log"; then
      sed -n 's#.*listening on http://127.0.0.1:\([0-9]*\)/.*#\1#p' "$log" | head -1
      return
    fi
    sleep 0.1
  done
  echo "$bin did not become ready" >&2; cat "$log" >&2; exit 1
}

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
  nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" 2>>"$work/nginx/error.log" &
  pids+=($!)
  for _ in $(seq 50); do
    curl -fs "http://127.0.0.1:$port/hello.txt" >/dev/null 2>&1 && { echo "$port"; return; }
    sleep 0.1
  done
  echo "nginx did not start" >&2; cat "$work/nginx/error.log" >&2; exit 1
}

measure() {
  local name=$1 port=$2 out
  out=$(wrk -t1 -c"$CONNS" -d"$DURATION" "http://127.0.0.1:$port/hello.txt")
  local rps errors non2xx
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  errors=$(grep -o 'Socket errors:.*' <<<"$out" || echo "none")
  non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out"); non2xx=${non2xx:-0}
  echo "$name|$rps|$non2xx|$errors"
}

results=()
ngx_port=$(start_nginx)
results+=("$(measure nginx "$ngx_port")")
for bin in portline-std portline-mio portline-smol; do
  port=$(start_portline "$bin")
  results+=("$(measure "$bin" "$port")")
done

nginx_rps=$(cut -d'|' -f2 <<<"${results[0]}")
echo "wrk -t1 -c$CONNS -d$DURATION, 13-byte file; $(date -u +%Y-%m-%d); $(lscpu | sed -n 's/^Model name: *//p'); $(nproc) cores"
echo
echo "| server | requests/s | vs nginx | non-2xx | socket errors |"
echo "|---|---:|---:|---:|---|"
for r in "${results[@]}"; do
  IFS='|' read -r name rps non2xx errors <<<"$r"
  ratio=$(python3 -c "print(f'{$rps/$nginx_rps:.2f}x')")
  echo "| $name | $rps | $ratio | $non2xx | $errors |"
done
