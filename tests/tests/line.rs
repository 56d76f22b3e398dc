//! nc and raw sockets against the servers: HTTP typed by hand (bare LF, HTTP/0.9), the line
//! services over TCP (info, echo, discard, daytime, chargen, telnet) and UDP (from python3), and
//! the `connect` client.

use portline_tests::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::Command;
use std::time::Duration;

/// `nc -N 127.0.0.1 PORT` with `input`: sends, half-closes at the end of input, prints what the
/// server sends until it closes.
fn nc(port: u16, input: &[u8]) -> Vec<u8> {
    let out = run_with_input(
        Command::new("nc").args(["-N", "-w", "10", "127.0.0.1", &port.to_string()]),
        input,
        PEER_TIMEOUT,
    );
    assert!(
        out.status.success(),
        "nc failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Reads one CRLF/LF line (without the ending) from a buffered stream.
fn read_line(reader: &mut impl BufRead) -> String {
    let mut line = String::new();
    reader.read_line(&mut line).expect("read a line");
    line.trim_end_matches('\n')
        .trim_end_matches('\r')
        .to_string()
}

/// The UDP client: sends each argument as one datagram from an ephemeral port and prints the
/// reply (or TIMEOUT) as a Python repr, one per line.
const UDP_CLIENT: &str = r#"
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
port = int(sys.argv[1])
s.settimeout(float(sys.argv[2]))
for msg in sys.argv[3:]:
    s.sendto(msg.encode(), ("127.0.0.1", port))
    try:
        data, addr = s.recvfrom(65535)
        assert addr == ("127.0.0.1", port), addr
        print(repr(data))
    except socket.timeout:
        print("TIMEOUT")
"#;

fn udp(port: u16, messages: &[&str]) -> Vec<String> {
    udp_with_timeout(port, 5.0, messages)
}

fn udp_with_timeout(port: u16, timeout: f64, messages: &[&str]) -> Vec<String> {
    let mut args = vec![port.to_string(), timeout.to_string()];
    args.extend(messages.iter().map(|m| m.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = python(UDP_CLIENT, &args);
    stdout_ok(&out, "python3 udp client")
        .lines()
        .map(str::to_string)
        .collect()
}

matrix!(
    nc_http10_bare_lf,
    nc_http09,
    nc_info_conversation,
    info_commands,
    info_long_line,
    nc_echo,
    echo_is_byte_exact,
    tcp_discard_daytime_chargen,
    telnet_negotiation,
    udp_services,
    connect_client,
    udp_no_reply_to_service_ports,
    connect_half_close_and_crlf,
    connect_ends_when_the_peer_closes,
    socat_peer
);

/// An HTTP/1.0 request typed with bare LF line ends, through nc.
fn nc_http10_bare_lf(fe: Frontend) {
    if !require("nc") {
        return;
    }
    let fx = Fixture::new();
    let server = fe.serve_http(&fx.root);
    let out = nc(
        server.port(),
        b"GET /hello.txt HTTP/1.0\nUser-Agent: typed-by-hand\n\n",
    );
    let text = String::from_utf8_lossy(&out);
    assert!(text.starts_with("HTTP/1.0 200 "), "{text}");
    assert!(text.contains("\r\n\r\n"), "{text}");
    assert!(text.ends_with("Hello from portline!\n"), "{text}");
    assert!(
        !text.to_ascii_lowercase().contains("connection: keep-alive"),
        "{text}"
    );
}

/// An HTTP/0.9 Simple-Request: the answer is the body alone, then close.
fn nc_http09(fe: Frontend) {
    if !require("nc") {
        return;
    }
    let fx = Fixture::new();
    let server = fe.serve_http(&fx.root);
    assert_eq!(nc(server.port(), b"GET /hello.txt\r\n"), HELLO);
    assert_eq!(nc(server.port(), b"GET /data.bin\n"), fx.data);
}

/// The info service conversation through nc.
fn nc_info_conversation(fe: Frontend) {
    if !require("nc") {
        return;
    }
    let server = fe.serve_line("info");
    let out = nc(
        server.port(),
        b"SERVICE 80\r\nservice http\r\nSERVICE 53/udp\r\nSERVICE 9/xyz\r\nECHO hi\r\nHELP\r\nBOGUS\r\nQUIT\r\nECHO after quit\r\n",
    );
    let lines = text_lines(&out);
    let greeting = format!("220 {} portline info service ready", hostname());
    assert_eq!(lines.first(), Some(&greeting), "{lines:?}");
    assert_eq!(lines[1], "250 http");
    assert_eq!(lines[2], "250 80");
    assert_eq!(lines[3], "250 domain");
    assert!(lines[4].starts_with("550 "), "{}", lines[4]);
    assert_eq!(lines[5], "250 hi");
    let help: Vec<&String> = lines[6..]
        .iter()
        .take_while(|l| l.starts_with("214"))
        .collect();
    assert!(help.len() >= 2, "HELP: {lines:?}");
    assert!(
        help[..help.len() - 1].iter().all(|l| l.starts_with("214-")),
        "{help:?}"
    );
    assert_eq!(help.last().unwrap().as_str(), "214 end of help");
    let help_text = help
        .iter()
        .map(|l| l.to_ascii_uppercase())
        .collect::<String>();
    for cmd in ["ECHO", "HOST", "SERVICE", "TIME", "QUIT", "HELP"] {
        assert!(
            help_text.contains(cmd),
            "HELP does not list {cmd}: {help:?}"
        );
    }
    let rest = &lines[6 + help.len()..];
    assert_eq!(rest, ["500 unknown command", "221 bye"], "{lines:?}");
}

/// info: HOST, TIME, bad arguments, over a raw socket line by line.
fn info_commands(fe: Frontend) {
    let server = fe.serve_line("info");
    let stream = connect(server.addr());
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    assert!(read_line(&mut reader).starts_with("220 "));
    writer.write_all(b"HOST\r\n").unwrap();
    let host = read_line(&mut reader);
    assert!(host.starts_with(&format!("250 {} ", hostname())), "{host}");
    assert!(
        host.split(' ').skip(2).all(|a| a
            .split('%')
            .next()
            .unwrap_or(a)
            .parse::<std::net::IpAddr>()
            .is_ok()),
        "{host}"
    );
    writer.write_all(b"time\n").unwrap();
    let time = read_line(&mut reader);
    assert!(time.starts_with("250 "), "{time}");
    let stamp = &time[4..];
    assert!(
        stamp.len() >= 20
            && stamp.as_bytes()[4] == b'-'
            && stamp.contains('T')
            && stamp.ends_with('Z'),
        "not RFC 3339 UTC: {time}"
    );
    writer.write_all(b"SERVICE\r\n").unwrap();
    assert!(read_line(&mut reader).starts_with("501 "));
    writer.write_all(b"SERVICE 65000\r\n").unwrap();
    assert_eq!(read_line(&mut reader), "550 port/proto not found");
    writer.write_all(b"SERVICE nosuchservice\r\n").unwrap();
    assert_eq!(read_line(&mut reader), "550 service/proto not found");
    writer.write_all(b"QUIT\r\n").unwrap();
    assert_eq!(read_line(&mut reader), "221 bye");
    let mut rest = Vec::new();
    reader.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty());
}

/// A line over 8 KiB gets `500 line too long`, and the next line is answered normally.
fn info_long_line(fe: Frontend) {
    if !require("nc") {
        return;
    }
    let server = fe.serve_line("info");
    let mut input = b"ECHO ".to_vec();
    input.extend(std::iter::repeat_n(b'x', 9000));
    input.extend_from_slice(b"\r\nECHO still here\r\nQUIT\r\n");
    let lines = text_lines(&nc(server.port(), &input));
    assert_eq!(
        &lines[1..],
        ["500 line too long", "250 still here", "221 bye"],
        "{lines:?}"
    );
    // A long line sent in pieces over a raw socket, with a pause in the middle.
    let mut stream = connect(server.addr());
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    read_line(&mut reader);
    stream.write_all(&[b'y'; 6000]).unwrap();
    sleep_ms(50);
    stream.write_all(&[b'y'; 6000]).unwrap();
    stream.write_all(b"\nECHO ok\n").unwrap();
    assert_eq!(read_line(&mut reader), "500 line too long");
    assert_eq!(read_line(&mut reader), "250 ok");
}

/// The echo service through nc: exactly the bytes sent come back (RFC 862), line ends as sent.
fn nc_echo(fe: Frontend) {
    if !require("nc") {
        return;
    }
    let server = fe.serve_line("echo");
    let out = nc(server.port(), b"one\ntwo\r\n\r\nthree four\n");
    assert_eq!(out, b"one\ntwo\r\n\r\nthree four\n");
    // A last piece without LF at EOF is echoed too.
    let out = nc(server.port(), b"first\nlast");
    assert_eq!(out, b"first\nlast", "{:?}", String::from_utf8_lossy(&out));
}

/// RFC 862 over a raw socket: 100,000 random bytes (0xFF among them, which once switched telnet
/// on and lost bytes) and a 10,000-byte line (once dropped as too long) come back exactly.
fn echo_is_byte_exact(fe: Frontend) {
    let server = fe.serve_line("echo");
    let mut payload = pseudo_random(100_000, 862);
    payload.extend(std::iter::repeat_n(b'x', 10_000));
    payload.push(b'\n');
    assert!(payload.contains(&0xff));
    let stream = connect(server.addr());
    let mut writer = stream.try_clone().unwrap();
    let sent = payload.clone();
    let sender = std::thread::spawn(move || {
        writer.write_all(&sent).unwrap();
        writer.shutdown(std::net::Shutdown::Write).unwrap();
    });
    let mut reader = stream;
    let back = read_to_close(&mut reader);
    sender.join().unwrap();
    assert_eq!(back.len(), payload.len());
    assert!(back == payload, "echo changed the bytes");
}

/// discard reads and drops; daytime sends one line and closes; chargen sends 72-char lines.
fn tcp_discard_daytime_chargen(fe: Frontend) {
    let server = fe.serve_line("discard");
    let mut stream = connect(server.addr());
    stream.write_all(&vec![b'z'; 100_000]).unwrap();
    stream.write_all(b"\nmore\n").unwrap();
    stream.shutdown(std::net::Shutdown::Write).unwrap();
    assert!(read_to_close(&mut stream).is_empty());

    let server = fe.serve_line("daytime");
    let mut stream = connect(server.addr());
    let out = read_to_close(&mut stream);
    let lines = text_lines(&out);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(out.ends_with(b"\r\n"));
    assert!(
        lines[0].chars().filter(char::is_ascii_digit).count() >= 6,
        "{lines:?}"
    );

    let server = fe.serve_line("chargen");
    let stream = connect(server.addr());
    let mut reader = BufReader::new(stream);
    let mut previous: Option<String> = None;
    for _ in 0..200 {
        let mut line = Vec::new();
        reader.read_until(b'\n', &mut line).unwrap();
        assert!(line.ends_with(b"\r\n"), "{line:?}");
        let text = String::from_utf8(line[..line.len() - 2].to_vec()).unwrap();
        assert_eq!(text.len(), 72, "{text:?}");
        assert!(text.bytes().all(|b| (b' '..=b'~').contains(&b)), "{text:?}");
        if let Some(prev) = previous {
            assert_eq!(&prev[1..], &text[..71], "lines do not rotate by one");
        }
        previous = Some(text);
    }
}

/// Telnet mode: DO x is refused with WONT x, WILL x with DONT x; IAC IAC is 0xFF data.
fn telnet_negotiation(fe: Frontend) {
    let server = fe.serve_line_with("echo", &["--telnet"]);
    let mut stream = connect(server.addr());
    // IAC DO ECHO(1), IAC WILL SGA(3), then "hi" and a line end.
    stream.write_all(&[255, 253, 1, 255, 251, 3]).unwrap();
    stream.write_all(b"hi\r\n").unwrap();
    stream.shutdown(std::net::Shutdown::Write).unwrap();
    let out = read_to_close(&mut stream);
    let mut negotiation = Vec::new();
    let mut data = Vec::new();
    let mut i = 0;
    while i < out.len() {
        if out[i] == 255 && i + 2 < out.len() && (251..=254).contains(&out[i + 1]) {
            negotiation.push((out[i + 1], out[i + 2]));
            i += 3;
        } else {
            data.push(out[i]);
            i += 1;
        }
    }
    assert!(negotiation.contains(&(252, 1)), "no WONT ECHO in {out:?}");
    assert!(negotiation.contains(&(254, 3)), "no DONT SGA in {out:?}");
    assert_eq!(data, b"hi\r\n");
}

/// UDP echo, daytime and info from a python3 socket.
fn udp_services(fe: Frontend) {
    if !require("python3") {
        return;
    }
    let server = fe.serve_line_with("echo", &["--udp"]);
    assert_eq!(
        udp(server.port(), &["hello", "two words"]),
        ["b'hello'", "b'two words'"]
    );

    let server = fe.serve_line_with("daytime", &["--udp"]);
    let reply = udp(server.port(), &["what time is it"]);
    assert_eq!(reply.len(), 1);
    assert!(
        reply[0].starts_with("b'") && reply[0].chars().filter(char::is_ascii_digit).count() >= 6,
        "{reply:?}"
    );

    let server = fe.serve_line_with("chargen", &["--udp"]);
    let reply = udp(server.port(), &["x"]);
    let len = reply[0].len().saturating_sub(3); // b'...'
    assert!(
        reply[0].starts_with("b'") && len > 0 && len <= 512 + 40,
        "{reply:?}"
    );

    let server = fe.serve_line_with("discard", &["--udp"]);
    assert_eq!(
        udp_with_timeout(server.port(), 0.5, &["dropped"]),
        ["TIMEOUT"]
    );

    let server = fe.serve_line_with("info", &["--udp"]);
    let replies = udp(
        server.port(),
        &["SERVICE 80", "service http", "ECHO hi", "NOPE"],
    );
    let replies: Vec<String> = replies.iter().map(|r| r.replace("\\r\\n", "")).collect();
    assert_eq!(
        replies,
        [
            "b'250 http'",
            "b'250 80'",
            "b'250 hi'",
            "b'500 unknown command'"
        ]
    );
}

/// `connect` as a line client: stdin lines to the peer, the peer's bytes to stdout, half-close
/// at EOF; `--udp` as well.
fn connect_client(fe: Frontend) {
    let server = fe.serve_line("info");
    let out = run_with_input(
        &mut fe.command(["connect", &server.addr().to_string()]),
        b"ECHO via connect\nQUIT\n",
        PEER_TIMEOUT,
    );
    let text = stdout_ok(&out, "connect");
    let lines = text_lines(text.as_bytes());
    assert!(lines[0].starts_with("220 "), "{lines:?}");
    assert_eq!(&lines[1..], ["250 via connect", "221 bye"]);

    let echo = fe.serve_line("echo");
    let out = run_with_input(
        &mut fe.command(["connect", &echo.addr().to_string()]),
        b"a\nb\n",
        PEER_TIMEOUT,
    );
    assert_eq!(
        text_lines(stdout_ok(&out, "connect echo").as_bytes()),
        ["a", "b"]
    );

    let udp_echo = fe.serve_line_with("echo", &["--udp"]);
    let out = run_with_input(
        &mut fe.command(["connect", "--udp", &udp_echo.addr().to_string()]),
        b"datagram one\n",
        Duration::from_secs(10),
    );
    assert!(stdout_ok(&out, "connect --udp").contains("datagram one"));
}

/// UDP safety: a datagram from source port 7, 13, 17 or 19 (another small service) is never
/// answered, while one from an ordinary port is.
fn udp_no_reply_to_service_ports(fe: Frontend) {
    if !require("python3") {
        return;
    }
    let server = fe.serve_line_with("echo", &["--udp"]);
    let script = r#"
import socket, sys
port = int(sys.argv[1])
for src in (7, 13, 17, 19, 0):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind(("127.0.0.1", src))
    except OSError as e:
        print("skip", src, e.errno)
        continue
    s.settimeout(0.5 if src else 5)
    s.sendto(b"ping", ("127.0.0.1", port))
    try:
        data, _ = s.recvfrom(100)
        print("reply", src, data.decode())
    except socket.timeout:
        print("none", src)
"#;
    let out = python(script, &[&server.port().to_string()]);
    let text = stdout_ok(&out, "udp source-port script");
    let lines: Vec<&str> = text.lines().collect();
    if lines.iter().filter(|l| l.starts_with("skip")).count() == 4 {
        eprintln!("notice: cannot bind low UDP ports here (not root?): {lines:?}");
    }
    for src in ["7", "13", "17", "19"] {
        assert!(
            !lines.contains(&format!("reply {src} ping").as_str()),
            "answered a datagram from port {src}: {lines:?}"
        );
    }
    // The control: an ephemeral source port gets its echo.
    assert_eq!(lines.last(), Some(&"reply 0 ping"), "{lines:?}");
}

/// `connect` sends stdin as typed (or CRLF with --crlf), half-closes at stdin's end, prints
/// what the peer sends after that, and exits 0 when the peer closes; a refused connection is
/// an error naming the stage. `localhost:PORT` is resolved.
fn connect_half_close_and_crlf(fe: Frontend) {
    for (flags, want) in [
        (&[][..], &b"one\ntwo\n"[..]),
        (&["--crlf"][..], &b"one\r\ntwo\r\n"[..]),
    ] {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let peer = std::thread::spawn(move || {
            let mut c = accept_within(&listener, PEER_TIMEOUT).expect("connect never connected");
            c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let mut got = Vec::new();
            // Reads to EOF: only the client's half-close ends this.
            c.read_to_end(&mut got).unwrap();
            c.write_all(b"after your EOF\n").unwrap();
            got
        });
        let mut args = vec!["connect".to_string()];
        args.extend(flags.iter().map(|f| f.to_string()));
        args.push(format!("localhost:{port}"));
        let out = run_with_input(&mut fe.command(&args), b"one\ntwo\n", PEER_TIMEOUT);
        let stdout = stdout_ok(&out, &format!("connect {flags:?}"));
        let got = peer.join().unwrap();
        assert_eq!(
            got,
            want,
            "connect {flags:?} sent {:?}",
            String::from_utf8_lossy(&got)
        );
        assert_eq!(stdout, "after your EOF\n", "connect {flags:?}");
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = fe.run(&["connect", &format!("127.0.0.1:{port}")]);
    assert!(!out.status.success(), "connect to a closed port succeeded");
    let err = String::from_utf8_lossy(&out.stderr).to_ascii_lowercase();
    assert!(err.contains("connect"), "stage not named: {err}");
}

/// `connect` with stdin still open ends, with 0, when the peer closes: after printing what it
/// sent, and also when nobody reads stdout any more (a closed pipe is not the peer's fault).
fn connect_ends_when_the_peer_closes(fe: Frontend) {
    for stdout_open in [true, false] {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let peer = std::thread::spawn(move || {
            let mut c = accept_within(&listener, PEER_TIMEOUT).expect("connect never connected");
            let _ = c.write_all(b"bye\n");
        });
        let mut child = fe
            .command(["connect", &addr.to_string()])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Kept open until the child has exited: only the peer's close can end it.
        let _stdin = child.stdin.take();
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut out = Vec::new();
            if stdout_open {
                let _ = BufReader::new(stdout).read_to_end(&mut out);
            }
            out
        });
        peer.join().unwrap();
        let deadline = std::time::Instant::now() + PEER_TIMEOUT;
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("connect kept running after the peer closed (stdout open: {stdout_open})");
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let mut err = String::new();
        let _ = child.stderr.take().unwrap().read_to_string(&mut err);
        assert!(
            status.success(),
            "stdout open: {stdout_open}: {status}: {err}"
        );
        if stdout_open {
            assert_eq!(reader.join().unwrap(), b"bye\n");
        }
    }
}

/// socat as the peer: the echo service over UDP, the info service over TCP (socat half-closes
/// at stdin's end and waits for the server to close).
fn socat_peer(fe: Frontend) {
    if !require("socat") {
        return;
    }
    let server = fe.serve_line_with("echo", &["--udp"]);
    let out = run_with_input(
        Command::new("socat").args(["-t", "2", "-", &format!("UDP:127.0.0.1:{}", server.port())]),
        b"hello over udp\n",
        PEER_TIMEOUT,
    );
    assert_eq!(stdout_ok(&out, "socat udp"), "hello over udp\n");
    let server = fe.serve_line("info");
    let out = run_with_input(
        Command::new("socat").args(["-t", "5", "-", &format!("TCP:127.0.0.1:{}", server.port())]),
        b"ECHO socat\nSERVICE 443\nQUIT\n",
        PEER_TIMEOUT,
    );
    let lines = text_lines(stdout_ok(&out, "socat tcp").as_bytes());
    assert_eq!(
        &lines[1..],
        ["250 socat", "250 https", "221 bye"],
        "{lines:?}"
    );
}
