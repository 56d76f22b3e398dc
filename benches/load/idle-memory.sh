#!/usr/bin/env bash
# Memory per idle keep-alive connection (issue 11 §3): each server's resident memory (VmRSS of
# the process that holds the connections: the binary itself, or nginx's one worker) after one
# warm-up request, and again once N connections have each had one keep-alive request answered
# and sit idle. bytes per idle connection = (after - before) / N. A connection the server closed
# meanwhile would make the figure a lie, so the client then counts the ones still open.
#
#   bash benches/load/idle-memory.sh                 # N=10000, builds the release binaries first
#   N=2000 BINS="portline-mio" bash benches/load/idle-memory.sh
#   MODE=tls bash benches/load/idle-memory.sh        # HTTPS: each connection a TLS 1.3 session
#   MODE=echo bash benches/load/idle-memory.sh       # serve http --echo (GET /, a JSON answer)
#
# Each portline binary runs `serve http --threads 1` with a long --idle-timeout and a
# --max-connections above N; nginx (if installed) one worker, keepalive_timeout 300s. The client
# (idle-clients.py, one process, N descriptors) makes its connections one after the other.
# Loopback only; bounded (every client socket operation times out, the client after 300 s);
# every process started here is stopped by PID. Prints a Markdown table to stdout.
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${N:-10000}
BINS=${BINS:-"portline-mio portline-smol portline-std"}
NGINX=${NGINX:-1}
cargo build --release -q -p portline-std -p portline-mio -p portline-smol
target=${CARGO_TARGET_DIR:-target}
# N client sockets here, N server sockets in the server (each process has its own limit).
ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -gt $((N + 100)) ] || { echo "open-files limit $(ulimit -n) is too low for N=$N" >&2; exit 1; }

NGINX_CONNECTIONS=$((2 * N + 100))   # nginx closes idle ones early when short of free slots
NGINX_HTTP="keepalive_timeout 300s;"
MODE=${MODE:-plain}
source benches/load/lib.sh
path=/hello.txt
extra=()
case $MODE in
  plain) ;;
  tls)
    # As tls-vs-nginx.sh: one ECDSA P-256 certificate for every server.
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
      -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
      -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
    chmod 644 "$work/key.pem"
    SCHEME=https CA="$work/cert.pem" NGINX_LISTEN=" ssl"
    NGINX_SERVER="ssl_certificate $work/cert.pem; ssl_certificate_key $work/key.pem; ssl_protocols TLSv1.2 TLSv1.3;"
    export IDLE_TLS=1
    extra=(--tls-cert "$work/cert.pem" --tls-key "$work/key.pem") ;;
  echo) path=/; NGINX=0; NO_ROOT=; extra=(--echo) ;;
  *) echo "MODE is plain, tls or echo" >&2; exit 1 ;;
esac
curl_url() { if [ "$MODE" = tls ]; then echo "https://localhost:$PORT$path"; else echo "http://127.0.0.1:$PORT$path"; fi; }

kib() { awk -v k="$2" '$1 == k":" {print $2}' "/proc/$1/status"; }

# measure NAME PID: one row of the table for the server whose memory is PID's, on $PORT.
measure() {
  local name=$1 pid=$2 before after threads ready open
  curl -fs ${CA:+--cacert "$CA" --resolve "localhost:$PORT:127.0.0.1"} "$(curl_url)" >/dev/null   # warm-up: first-use allocations
  sleep 1
  before=$(kib "$pid" VmRSS)
  coproc CLIENT { timeout 300 python3 benches/load/idle-clients.py "$PORT" "$N" "$path"; }
  pids+=("$CLIENT_PID")
  read -r -t 300 ready <&"${CLIENT[0]}" || { echo "$name: the client did not finish" >&2; exit 1; }
  sleep 2   # let the server settle (the last task or thread parks)
  after=$(kib "$pid" VmRSS)
  threads=$(kib "$pid" Threads)
  echo check >&"${CLIENT[1]}"
  read -r -t 30 _ open <&"${CLIENT[0]}" || open="?"
  wait "$CLIENT_PID" 2>/dev/null || true
  unset 'pids[-1]'
  echo "| $name | $before | $after | ${ready#ready } | $open | $threads | $(( (after - before) * 1024 / N )) |"
}

echo "| server | RSS before (KiB) | RSS after (KiB) | connections answered | still open | threads | bytes per idle connection |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for bin in $BINS; do
  start_portline "$bin" --threads 1 --idle-timeout 600 --max-connections $((N + 1000)) "${extra[@]}"
  measure "$bin" "${pids[-1]}"
  stop_last
done
if [ "$NGINX" = 1 ] && command -v nginx >/dev/null; then
  start_nginx 1
  master=${pids[-1]}
  worker=$(pgrep -P "$master" | head -1)
  measure "nginx (1 worker)" "$worker"
  stop_last
fi
