#!/usr/bin/env bash
# TLS against nginx, same certificate (ECDSA P-256, made here with openssl), same 13-byte file,
# same machine, same run, two measures with wrk over https:
#   keep-alive:  wrk -t1 -c50 -d5s                         requests/s on reused TLS connections
#   handshakes:  wrk -t1 -c50 -d5s -H 'Connection: close'  one full TLS handshake per request
# Loopback only; every process started here is stopped by PID.
#
#   bash benches/load/tls-vs-nginx.sh            # builds the release binaries first
#   DURATION=10s ROUNDS=5 bash benches/load/tls-vs-nginx.sh
#
# Prints a Markdown table to stdout (paste it into benches/RESULTS.md with the date and CPU).
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION=${DURATION:-5s}
CONNS=${CONNS:-50}
ROUNDS=${ROUNDS:-3}
SERVERS=${SERVERS:-"nginx portline-mio portline-std portline-smol"}
for tool in wrk nginx openssl curl; do
  command -v "$tool" >/dev/null || { echo "need $tool (apt-get install -y wrk nginx-light openssl curl)" >&2; exit 1; }
done
target=${CARGO_TARGET_DIR:-target}
cargo build --release -q -p portline-std -p portline-mio -p portline-smol

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]:-}"; do [ -n "$p" ] || continue; kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
chmod 755 "$work"   # nginx's workers run as nobody and must reach the file
mkdir -p "$work/root"
printf 'hello, world\n' > "$work/root/hello.txt"   # 13 bytes
# One certificate for both servers: ECDSA P-256, as portline's --tls-self-signed makes.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
  -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
  -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
chmod 644 "$work/key.pem"

start_portline() {
  local bin=$1 log="$work/$1.log"
  "$target/release/$bin" serve http --listen 127.0.0.1:0 --root "$work/root" --quiet \
    --tls-cert "$work/cert.pem" --tls-key "$work/key.pem" >/dev/null 2>"$log" &
  pids+=($!)
  for _ in $(seq 100); do
    PORT=$(sed -n 's#.*listening on https://127.0.0.1:\([0-9]*\)/.*#\1#p' "$log" | head -1)
    [ -n "$PORT" ] && return
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
  server {
    listen 127.0.0.1:$port ssl;
    root $work/root;
    ssl_certificate $work/cert.pem;
    ssl_certificate_key $work/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;   # nginx before 1.23.4 leaves TLS 1.3 off by default
  }
}
CONF
  nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" >/dev/null 2>>"$work/nginx/error.log" &
  pids+=($!)
  for _ in $(seq 50); do
    curl -fs --cacert "$work/cert.pem" "https://localhost:$port/hello.txt" >/dev/null 2>&1 && { PORT=$port; return; }
    sleep 0.1
  done
  echo "nginx did not start" >&2; cat "$work/nginx/error.log" >&2; exit 1
}

# One wrk run; prints "rps|non2xx|socket errors".
measure() {
  local port=$1 out rps errors non2xx
  shift
  out=$(wrk -t1 -c"$CONNS" -d"$DURATION" "$@" "https://127.0.0.1:$port/hello.txt")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  errors=$(grep -o 'Socket errors:.*' <<<"$out" || echo "none")
  non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out"); non2xx=${non2xx:-0}
  echo "$rps|$non2xx|$errors"
}

# What each server negotiates with an OpenSSL client (wrk links OpenSSL too).
suite() {
  openssl s_client -connect "127.0.0.1:$1" -servername localhost </dev/null 2>/dev/null \
    | sed -n 's/^New, \(.*\)$/\1/p' | head -1
}

stop_last() { local p=${pids[-1]}; kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; unset 'pids[-1]'; }
declare -A ka_of hs_of errors_of suite_of
for round in $(seq "$ROUNDS"); do
  for name in $SERVERS; do
    if [ "$name" = nginx ]; then start_nginx; else start_portline "$name"; fi
    [ -n "${suite_of[$name]:-}" ] || suite_of[$name]=$(suite "$PORT")
    IFS='|' read -r ka ka_non2xx ka_errors <<<"$(measure "$PORT")"
    IFS='|' read -r hs hs_non2xx hs_errors <<<"$(measure "$PORT" -H 'Connection: close')"
    stop_last
    ka_of[$name]+="$ka "
    hs_of[$name]+="$hs "
    [ "$ka_non2xx$hs_non2xx" = 00 ] || errors_of[$name]+="round $round: non-2xx $ka_non2xx/$hs_non2xx; "
    [ "$ka_errors" = none ] || errors_of[$name]+="round $round keep-alive: $ka_errors; "
    echo "round $round: $name keep-alive $ka req/s, handshakes $hs req/s" >&2
  done
done

median() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
ka_nginx=$(median "${ka_of[nginx]}")
hs_nginx=$(median "${hs_of[nginx]}")
echo "wrk -t1 -c$CONNS -d$DURATION over https (keep-alive; and -H 'Connection: close': a handshake per request), 13-byte file, ECDSA P-256 certificate, $ROUNDS rounds taking turns; $(date -u +%Y-%m-%d); $(lscpu | sed -n 's/^Model name: *//p'); $(nproc) cores"
echo
echo "| server | negotiated | keep-alive req/s (median) | each round | vs nginx | handshakes/s (median) | each round | vs nginx | errors |"
echo "|---|---|---:|---|---:|---:|---|---:|---|"
for name in $SERVERS; do
  ka=$(median "${ka_of[$name]}"); hs=$(median "${hs_of[$name]}")
  ka_ratio=$(python3 -c "print(f'{$ka/$ka_nginx:.2f}x')")
  hs_ratio=$(python3 -c "print(f'{$hs/$hs_nginx:.2f}x')")
  echo "| $name | ${suite_of[$name]} | $ka | ${ka_of[$name]% } | $ka_ratio | $hs | ${hs_of[$name]% } | $hs_ratio | ${errors_of[$name]:-none} |"
done
