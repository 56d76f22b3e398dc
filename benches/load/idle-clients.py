"""Open N keep-alive connections to 127.0.0.1:PORT, make one request on each, read its whole
response, and hold them all idle (used by idle-memory.sh).

    python3 benches/load/idle-clients.py PORT N [PATH]
    IDLE_TLS=1 python3 benches/load/idle-clients.py PORT N [PATH]   # over TLS (no verification:
                                                                     # loopback, our own server)

Prints `ready N` on stdout once every connection has its answer, then waits for a line on
stdin. On `check` it counts the connections the server has closed meanwhile and prints
`open K`, then exits (closing them all). Bounded: every socket operation times out after 10 s,
and an end of stdin also ends it.
"""

import os
import select
import socket
import ssl
import sys

TLS = None
if os.environ.get("IDLE_TLS") == "1":
    TLS = ssl.create_default_context()
    TLS.check_hostname = False
    TLS.verify_mode = ssl.CERT_NONE

REQUEST = b"GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n"


def one_exchange(port, path):
    """A connected socket whose one keep-alive request is answered in full."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    if TLS is not None:
        s = TLS.wrap_socket(s, server_hostname="localhost")
    s.sendall(REQUEST % path.encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            raise RuntimeError("closed before the response head: %r" % data[:200])
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = None
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
        if name.strip().lower() == b"connection" and value.strip().lower() == b"close":
            raise RuntimeError("the server will not keep the connection: %r" % head)
    if length is None:
        raise RuntimeError("no Content-Length, cannot keep alive: %r" % head)
    while len(body) < length:
        chunk = s.recv(4096)
        if not chunk:
            raise RuntimeError("closed inside the response body")
        body += chunk
    if not head.startswith(b"HTTP/1.") or b" 200 " not in head.split(b"\r\n")[0] + b" ":
        raise RuntimeError("not a 200: %r" % head.split(b"\r\n")[0])
    s.setblocking(False)
    return s


def still_open(socks):
    """How many sockets the server has not closed (no EOF, no error, nothing unread)."""
    poller = select.poll()
    for s in socks:
        poller.register(s.fileno(), select.POLLIN)
    readable = set(fd for fd, _ in poller.poll(0))
    gone = 0
    for s in socks:
        if s.fileno() not in readable:
            continue
        try:
            # TLS: a record that is no application data (a session ticket) leaves it open.
            s.recv(1)  # an end of stream, or bytes no idle connection should get
            gone += 1
        except (ssl.SSLWantReadError, BlockingIOError):
            pass
        except OSError:
            gone += 1
    return len(socks) - gone


def main():
    port, n = int(sys.argv[1]), int(sys.argv[2])
    path = sys.argv[3] if len(sys.argv) > 3 else "/hello.txt"
    socks = [one_exchange(port, path) for _ in range(n)]
    print("ready", len(socks), flush=True)
    for line in sys.stdin:
        if line.strip() == "check":
            print("open", still_open(socks), flush=True)
            break
    for s in socks:
        s.close()


if __name__ == "__main__":
    main()
