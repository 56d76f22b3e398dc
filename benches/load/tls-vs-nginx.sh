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
source benches/load/lib.sh
need wrk nginx openssl curl python3
cargo build --release -q -p portline-std -p portline-mio -p portline-smol
# One certificate for both servers: ECDSA P-256, as portline's --tls-self-signed makes.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
  -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
  -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
chmod 644 "$work/key.pem"
SCHEME=https
CA="$work/cert.pem"
NGINX_LISTEN=" ssl"
# nginx before 1.23.4 leaves TLS 1.3 off by default.
NGINX_SERVER="ssl_certificate $work/cert.pem; ssl_certificate_key $work/key.pem; ssl_protocols TLSv1.2 TLSv1.3;"

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

declare -A ka_of hs_of errors_of suite_of
for round in $(seq "$ROUNDS"); do
  for name in $SERVERS; do
    # nginx: one worker per core, like portline-mio's default --threads.
    if [ "$name" = nginx ]; then
      start_nginx auto
    else
      start_portline "$name" --tls-cert "$work/cert.pem" --tls-key "$work/key.pem"
    fi
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
