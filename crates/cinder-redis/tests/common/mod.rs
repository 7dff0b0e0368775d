//! A `redis-server` of the test's own, on a free loopback port.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// How long a server may take to start.
const STARTUP: Duration = Duration::from_secs(15);

/// How many free ports [`RedisServer::start`] tries.
const ATTEMPTS: usize = 5;

/// A `redis-server` child process, stopped when dropped.
pub struct RedisServer {
    child: Option<Child>,
    pub port: u16,
}

impl RedisServer {
    /// A server on a free port. A port found free can be taken by another
    /// test before the server binds it; then the server exits, and another
    /// free port is tried.
    pub fn start() -> Self {
        for _ in 0..ATTEMPTS {
            if let Some(server) = RedisServer::try_start_on(free_port()) {
                return server;
            }
        }
        panic!("redis-server found no free port in {ATTEMPTS} attempts");
    }

    /// A server on `port`, which the test chose (to start it again where
    /// its clients wait).
    pub fn start_on(port: u16) -> Self {
        RedisServer::try_start_on(port)
            .unwrap_or_else(|| panic!("redis-server could not listen on port {port}"))
    }

    /// Starts a server on `port` and waits until it answers; `None` if it
    /// exits first (the port was taken). A server that answers is checked
    /// to be this one, by its process id: on a taken port another test's
    /// server might answer.
    pub fn try_start_on(port: u16) -> Option<Self> {
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args([
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                &std::env::temp_dir().to_string_lossy(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is installed (.ci/run installs it)");
        let pid = child.id();
        let mut server = RedisServer {
            child: Some(child),
            port,
        };
        let started = std::time::Instant::now();
        loop {
            if server.has_exited() {
                return None;
            }
            if let Some(answering) = process_id_on(port) {
                return (answering == pid).then_some(server);
            }
            assert!(started.elapsed() < STARTUP, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn has_exited(&mut self) -> bool {
        self.child
            .as_mut()
            .is_none_or(|child| !matches!(child.try_wait(), Ok(None)))
    }

    pub fn url(&self) -> String {
        url(self.port)
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

pub fn url(port: u16) -> String {
    format!("redis://127.0.0.1:{port}")
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The process id of the Redis server answering on `port`, from its
/// `INFO server`; `None` if nothing answers there yet.
fn process_id_on(port: u16) -> Option<u32> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(STARTUP)).ok()?;
    stream
        .write_all(b"*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n")
        .ok()?;
    let mut reply = Vec::new();
    let mut buffer = [0; 4096];
    loop {
        if let Some(pid) = field(&reply, "process_id") {
            return pid.parse().ok();
        }
        let read = stream.read(&mut buffer).ok()?;
        if read == 0 {
            return None;
        }
        reply.extend_from_slice(&buffer[..read]);
    }
}

/// The value of `name:value` in an `INFO` reply, once its line is whole.
fn field<'a>(reply: &'a [u8], name: &str) -> Option<&'a str> {
    let text = std::str::from_utf8(reply).ok()?;
    let start = text.find(&format!("\r\n{name}:"))? + name.len() + 3;
    let length = text[start..].find("\r\n")?;
    Some(&text[start..start + length])
}
