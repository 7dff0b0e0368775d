//! Servers started for one measurement: the benchmark server, the floor's
//! bare server, the showcase or a Phoenix application, on a port the system
//! picks, stopped when dropped.

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A server process started by [`start`], killed when dropped so that a run
/// that fails half way leaves none behind.
pub struct RunningServer {
    child: Child,
    port: u16,
}

impl RunningServer {
    /// The server's process id, as `--server-pid` takes it.
    pub fn pid(&self) -> String {
        self.child.id().to_string()
    }

    /// The address it listens on, as `--addr` takes it.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Stops the server and every process it started: a shell that did not
    /// `exec` its server leaves the server as its child, which stopping the
    /// shell alone would leave running.
    pub fn stop_with_descendants(self) {
        for pid in descendants(self.child.id()) {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
        // Dropping it stops the server itself.
    }
}

/// The processes `pid` started and theirs, as `/proc` lists them (none where
/// it does not).
fn descendants(pid: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|child| child.parse().ok())
        .flat_map(|child| {
            let mut all = descendants(child);
            all.push(child);
            all
        })
        .collect()
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `command` with `--port 0` added and waits for the line in which
/// it names its port (`listening on [http://]127.0.0.1:PORT`). A port chosen
/// here and then handed over could be taken by another server meanwhile.
pub fn start(mut command: Command) -> Result<RunningServer, String> {
    let program = format!("{command:?}");
    let mut child = command
        .args(["--port", "0"])
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|error| format!("{program} does not start: {error}"))?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut lines = BufReader::new(stdout).lines();
    let port = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|line| listening_port(&line));
    // The rest is drained on a thread so that a chatty server never blocks
    // on its output.
    std::thread::spawn(move || lines.for_each(drop));
    match port {
        Some(port) => Ok(RunningServer { child, port }),
        None => Err(format!(
            "{program} exited before it listened: {:?}",
            child.wait()
        )),
    }
}

/// Starts `command` with a port chosen here in its environment as `PORT`,
/// as a Phoenix application reads its port, and waits until the port takes
/// connections, at most `patience` (a first start may compile the
/// application). For servers that do not name their port: the port could be
/// taken by another server between the choice and the start, which then
/// shows as a server that exits or never listens.
///
/// The process started is the one measured and stopped: a command run
/// through a shell should `exec` the server.
pub fn start_on_port_from_env(
    mut command: Command,
    patience: Duration,
) -> Result<RunningServer, String> {
    let program = format!("{command:?}");
    let port = TcpListener::bind(("127.0.0.1", 0))
        .and_then(|listener| listener.local_addr())
        .map_err(|error| format!("no free port for {program}: {error}"))?
        .port();
    let child = command
        .env("PORT", port.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|error| format!("{program} does not start: {error}"))?;
    let mut server = RunningServer { child, port };
    let deadline = Instant::now() + patience;
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = server.child.try_wait() {
            return Err(format!(
                "{program} exited before it listened on {port}: {status}"
            ));
        }
        if Instant::now() >= deadline {
            // Dropping the server stops it.
            return Err(format!(
                "{program} did not listen on {port} within {} s",
                patience.as_secs()
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(server)
}

/// The port in a server's `listening on [http://]127.0.0.1:PORT` line.
pub fn listening_port(line: &str) -> Option<u16> {
    let (_, rest) = line.split_once("listening on ")?;
    let (_, port) = rest.split_once("127.0.0.1:")?;
    let digits = port
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(port.len());
    port[..digits].parse().ok()
}

#[cfg(test)]
mod tests {
    use super::listening_port;

    #[test]
    fn the_port_is_read_from_each_servers_line() {
        assert_eq!(
            listening_port("listening on http://127.0.0.1:4100"),
            Some(4100)
        );
        assert_eq!(listening_port("listening on 127.0.0.1:80"), Some(80));
        assert_eq!(
            listening_port("INFO showcase listening on http://127.0.0.1:4000 now"),
            Some(4000)
        );
        assert_eq!(listening_port("listening on [::1]:4000"), None);
        assert_eq!(listening_port("started"), None);
    }
}
