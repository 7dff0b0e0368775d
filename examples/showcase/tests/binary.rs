//! The showcase's binary: its command line, on either tokio runtime.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

/// The showcase started with `args` on a port the system picks, and the
/// port, read from its log line.
fn start(args: &[&str]) -> (Child, u16) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_showcase"))
        .args(["--port", "0"])
        .args(args)
        .env_remove("CINDER_REDIS_URL")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the showcase starts");
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut lines = BufReader::new(stdout).lines();
    let port = lines
        .find_map(|line| {
            let line = line.ok()?;
            let (_, after) = line.split_once("http://127.0.0.1:")?;
            let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        })
        .expect("the showcase logs where it listens");
    (child, port)
}

/// The status line and body of a GET of `path`.
fn get(port: u16, path: &str) -> (String, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connects");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .expect("writes the request");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .expect("reads the response");
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head.lines().next().unwrap_or_default().to_owned();
    (status, body.to_owned())
}

#[test]
fn both_runtimes_serve_the_pages() {
    for args in [
        &[][..],
        &["--runtime", "multi-thread"],
        &["--runtime", "current-thread"],
    ] {
        let (mut child, port) = start(args);
        let (status, body) = get(port, "/counter");
        child.kill().expect("the showcase stops");
        child.wait().expect("the showcase is reaped");
        assert_eq!(status, "HTTP/1.1 200 OK", "with {args:?}");
        assert!(body.contains("data-phx-main"), "with {args:?}: {body}");
    }
}

#[test]
fn an_unknown_runtime_is_refused_with_the_choices() {
    let output = Command::new(env!("CARGO_BIN_EXE_showcase"))
        .args(["--port", "0", "--runtime", "green-threads"])
        .env_remove("CINDER_REDIS_URL")
        .output()
        .expect("the showcase runs");
    assert_eq!(output.status.code(), Some(2));
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(
        message.contains("--runtime takes multi-thread or current-thread"),
        "{message}"
    );
}
