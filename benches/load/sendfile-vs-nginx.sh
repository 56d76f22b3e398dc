#!/usr/bin/env bash
# A 1 GiB download over loopback with curl: each portline binary against nginx (sendfile on),
# same file, same machine, same run, with the server's CPU seconds for the transfer. The file is
# read once before timing so that every server sends from the page cache. Loopback only; every
# process started here is stopped by PID.
#
#   bash benches/load/sendfile-vs-nginx.sh          # builds the release binaries first
#   ROUNDS=3 SIZE_MIB=2048 bash benches/load/sendfile-vs-nginx.sh
#
# Prints a Markdown table to stdout (paste it into benches/RESULTS.md with the date and CPU).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${ROUNDS:-2}
SIZE_MIB=${SIZE_MIB:-1024}
source benches/load/lib.sh
need curl nginx python3
cargo build --release -q -p portline-std -p portline-mio -p portline-smol
NGINX_HTTP="sendfile on; tcp_nopush on;"
head -c "$((SIZE_MIB << 20))" /dev/urandom > "$root/big.bin"
chmod 644 "$root/big.bin"

# CPU seconds (user + system) of a process and its children that are still running (nginx's
# workers), from /proc/PID/stat.
cpu_of() {
  local total=0 p
  for p in $1 $(pgrep -P "$1" || true); do
    total=$((total + $(awk '{print $14 + $15}' "/proc/$p/stat")))
  done
  python3 -c "print($total / $(getconf CLK_TCK))"
}

servers=(nginx portline-std portline-mio portline-smol)
declare -A mibs_of cpu_of_server
# Warm the page cache once, untimed.
cat "$root/big.bin" > /dev/null
for round in $(seq "$ROUNDS"); do
  for name in "${servers[@]}"; do
    if [ "$name" = nginx ]; then start_nginx "$(nproc)"; else start_portline "$name"; fi
    server=${pids[-1]}
    before=$(cpu_of "$server")
    out=$(curl -s -o /dev/null -w '%{speed_download} %{size_download} %{http_code}' "http://127.0.0.1:$PORT/big.bin")
    after=$(cpu_of "$server")
    stop_last
    read -r speed size code <<<"$out"
    [ "$code" = 200 ] && [ "$size" = "$((SIZE_MIB << 20))" ] || { echo "$name: status $code, $size bytes" >&2; exit 1; }
    mibs=$(python3 -c "print(f'{$speed / 1048576:.0f}')")
    cpu=$(python3 -c "print(f'{$after - $before:.2f}')")
    mibs_of[$name]+="$mibs "
    cpu_of_server[$name]+="$cpu "
    echo "round $round: $name $mibs MiB/s, server CPU $cpu s" >&2
  done
done

nginx_median=$(median "${mibs_of[nginx]}")
echo "curl, one $SIZE_MIB MiB download per server per round, $ROUNDS rounds taking turns; $(date -u +%Y-%m-%d\ %H:%M\ UTC); $(lscpu | sed -n 's/^Model name: *//p'); $(nproc) cores"
echo
echo "| server | median MiB/s | each round | vs nginx (median) | server CPU s each round |"
echo "|---|---:|---|---:|---|"
for name in "${servers[@]}"; do
  m=$(median "${mibs_of[$name]}")
  ratio=$(python3 -c "print(f'{$m/$nginx_median:.2f}x')")
  echo "| $name | $m | ${mibs_of[$name]% } | $ratio | ${cpu_of_server[$name]% } |"
done
