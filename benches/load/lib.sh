# Shared by the load scripts that `source` it: a work folder with a 13-byte file, servers
# started on free loopback ports, and every process started here stopped by PID on exit.
# Sets: work, root (the served folder), pids, target; defines need, free_port, start_nginx,
# start_portline, stop_last, median. Settings, read when a server starts:
#   NGINX_HTTP     extra directives for nginx's http block
#   NGINX_SERVER   extra directives for nginx's server block (ssl_certificate ...)
#   NGINX_LISTEN   options of nginx's listen directive (" ssl")
#   SCHEME         http (default) or https: what the servers speak, how readiness is checked
#   CA             the certificate curl trusts when SCHEME=https
#   PROFILE        the cargo profile the portline binaries were built with (default release)
#   BIN_DIR        the folder the portline binaries are taken from (default $target/$PROFILE)
#   QUIET          portline's log flag (default --quiet; empty: the access log, default flags)
#   NOFILE         the open-files limit (soft and hard) to start portline under (default: ours)
#   NO_ROOT        set empty: portline gets no --root (serve http --echo refuses one)

target=${target:-${CARGO_TARGET_DIR:-target}}

# need TOOL...: exit with the packages to install unless every TOOL is on PATH.
need() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "need $tool (apt-get install -y wrk nginx-light curl python3 openssl)" >&2; exit 1; }
  done
}
#   NGINX_CONNECTIONS  nginx's worker_connections (default 1024, as Debian's nginx.conf)

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]:-}"; do [ -n "$p" ] || continue; kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
chmod 755 "$work"   # nginx's workers run as nobody and must reach the file
root="$work/root"
mkdir -p "$root"
printf 'hello, world\n' > "$root/hello.txt"   # 13 bytes

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_nginx WORKERS: nginx on a free port with WORKERS worker processes (a number or auto);
# sets PORT.
start_nginx() {
  local workers=$1 port
  port=$(free_port)
  mkdir -p "$work/nginx"
  cat > "$work/nginx/nginx.conf" <<CONF
daemon off;
master_process on;
worker_processes $workers;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections ${NGINX_CONNECTIONS:-1024}; }
http {
  access_log off;
  client_body_temp_path $work/nginx;
  proxy_temp_path $work/nginx;
  fastcgi_temp_path $work/nginx;
  uwsgi_temp_path $work/nginx;
  scgi_temp_path $work/nginx;
  keepalive_requests 1000000;
  ${NGINX_HTTP:-}
  server {
    listen 127.0.0.1:$port${NGINX_LISTEN:-};
    root $root;
    ${NGINX_SERVER:-}
  }
}
CONF
  nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" >/dev/null 2>>"$work/nginx/error.log" &
  pids+=($!)
  local host=127.0.0.1 trust=()
  if [ "${SCHEME:-http}" = https ]; then host=localhost; trust=(--cacert "$CA"); fi
  for _ in $(seq 50); do
    curl -fs "${trust[@]}" "${SCHEME:-http}://$host:$port/hello.txt" >/dev/null 2>&1 && { PORT=$port; return; }
    sleep 0.1
  done
  echo "nginx did not start" >&2; cat "$work/nginx/error.log" >&2; exit 1
}

# start_portline BIN [ARGS...]: `BIN serve http` on port 0 with ARGS (and $QUIET, under $NOFILE,
# on the CPUs $SERVER_CPUS if set, for taskset);
# sets PORT from its ready line. (Not called in $(...): the server would hold the substitution's
# pipe open, and its PID would be lost to the subshell.)
start_portline() {
  local bin=$1 log="$work/$1.log" scheme=${SCHEME:-http}
  shift
  : > "$log"   # exists before the server writes to it, so the first look at it cannot fail
  # The subshell lowers its own limit, then becomes the server: $! is the server's PID.
  ( if [ -n "${NOFILE:-}" ]; then ulimit -n "$NOFILE"; fi
    exec ${SERVER_CPUS:+taskset -c "$SERVER_CPUS"} "${BIN_DIR:-$target/${PROFILE:-release}}/$bin" serve http --listen 127.0.0.1:0 ${NO_ROOT---root "$root"} \
      ${QUIET---quiet} "$@" ) >/dev/null 2>"$log" &
  pids+=($!)
  wait_ready "$bin" "$log" "$scheme"
}

# wait_ready NAME LOG [SCHEME]: wait up to 10 s for the ready line `listening on
# SCHEME://127.0.0.1:PORT/` in LOG and set PORT from it; exit with the log if it never comes.
wait_ready() {
  local name=$1 log=$2 scheme=${3:-http}
  for _ in $(seq 100); do
    PORT=$(sed -n "s#.*listening on $scheme://127.0.0.1:\([0-9]*\)/.*#\1#p" "$log" | head -1)
    [ -n "$PORT" ] && return
    sleep 0.1
  done
  echo "$name did not become ready" >&2; cat "$log" >&2; exit 1
}

stop_last() { local p=${pids[-1]}; kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; unset 'pids[-1]'; }

median() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
