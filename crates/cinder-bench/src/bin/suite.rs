//! `cinder-bench-suite`: every goal of the LiveView server's benchmarks in
//! one command, each figure beside Phoenix LiveView's and the floor's.
//!
//! ```text
//! cargo build --release -p cinder-bench -p showcase
//! target/release/cinder-bench-suite --runs 3 --out suite.jsonl
//! ```
//!
//! It drives the tools built beside it as BENCHMARKS.md's commands do: a
//! fresh server for every run, on one core with one runtime thread, and the
//! generator on another (`taskset`, when the machine has it and two cores):
//! `cinder-bench-server` and `cinder-loadgen` for Cinder's figures,
//! `cinder-floor` for what a bare tokio server pays for the same traffic
//! (for events and the broadcast also with a second task for each
//! connection, `--tasks 2`, which is handed each event and message as a
//! page's process is: "the floor, a task per page"), and the showcase's
//! `/chat` for the broadcast, when `showcase` was built too. Cinder's runs
//! and the floor's alternate, so that a slow spell of the machine falls on
//! both.
//!
//! It prints a Markdown table: each goal, Phoenix's figure (with
//! `--phoenix`, what its server measured beside the first), Cinder's
//! (lowest and highest over the runs), the floor's, the floor's with a task
//! per page where it was measured, and whether the goal is
//! met in every run, in some, or in none, and when it is not, whether the
//! floor itself meets it. With `--out`, every tool's one-line JSON summary
//! is written there too, one labelled line each. The highest rate served
//! with p99 within 50 ms is found once, by a ramp of rates that goes on past
//! its list, a step at a time, until a rate is not served in two runs (the
//! table names the rates a second run served); where the generator's own
//! core fell behind its schedule first, the table says so; either way it
//! gives the server's CPU per event at the last rate served.
//!
//! Every server runs with one runtime thread: on tokio's multi-thread
//! runtime with one worker, or with `--runtime current-thread` on its
//! current-thread runtime (the benchmark server, the floor and the
//! showcase alike). Every generator sleeps in the kernel while none of its
//! sockets is ready, unless `--idle spin` has each poll on its core instead,
//! so that no server's send wakes it: on loopback that wake-up is counted
//! in the server's CPU time, which a client on another machine does not
//! cost it (`cinder-loadgen --help`).
//!
//! `--phoenix COMMAND` measures a Phoenix LiveView application of the same
//! pages beside Cinder, with the same generator: `sh -c COMMAND` must start
//! it on the port the suite puts in `$PORT` and `exec` the server, whose
//! process is the one measured, pinned as Cinder's are (a command that
//! leaves its shell in the server's place is refused). Its runs follow
//! Cinder's in every measurement (its ramp from rates of its own, which
//! start far below Cinder's), the Phoenix column shows what they measured,
//! the figures Phoenix was first measured at beside them, the highest
//! rates' verdicts say how many times Phoenix's Cinder's are, the bytes
//! are judged against those Phoenix's server wrote, and a line below the
//! table says, run by run, how many times better Cinder did in each
//! measure both have (Phoenix's CPU, memory and broadcast time over
//! Cinder's, Cinder's setups and pages a second over Phoenix's):
//!
//! ```text
//! target/release/cinder-bench-suite --runs 3 \
//!   --phoenix 'ulimit -n 20000 && cd crates/cinder-bench/phoenix && MIX_ENV=prod exec elixir --erl "+S 1:1" -S mix run --no-halt'
//! ```
//!
//! (`crates/cinder-bench/phoenix` is that application; its README says how
//! to build it.)
//!
//! `--only setup,ramp` runs only the measurements named (`events`, `setup`,
//! `render`, `broadcast`, `ramp`, `held`); the other rows say "not
//! measured". `--scale smoke` runs every measurement small and short, to
//! prove the suite works; its verdicts say nothing about the goals.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Duration;

use cinder_bench::options::{
    asks_for_help, parse, print_help, usage_error, GeneratorIdle, RuntimeFlavor,
};
use cinder_bench::servers::{self, RunningServer};
use serde_json::{json, Value};

const ABOUT: &str = "cinder-bench-suite: every goal of the LiveView server's benchmarks in one
command. A fresh server for every run, pinned to one core with one runtime
thread, the generator on another; Cinder's runs alternate with the floor's
(cinder-floor) so that a slow spell falls on both. It prints a Markdown table
of each goal with Cinder's, the floor's and (with --phoenix) Phoenix's figures,
then, run by run, what Cinder adds above the floor with a task per page and
(with --phoenix) how many times better than Phoenix it did. It runs the tools
built beside it: cargo build --release -p cinder-bench -p showcase";

const OPTIONS: &str = "options [defaults]:
  --runs N              runs of each measurement [3]
  --scale full|smoke    smoke runs everything small and short, to prove the
                        suite works; its verdicts say nothing [full]
  --only LIST           measure only these, comma-separated: events (CPU and
                        round trip at 10,000 a second), setup, render,
                        broadcast, ramp (highest rate with p99 within 50 ms),
                        held (19,500 idle sessions' memory) [all]
  --server-core N       the servers' core [0]
  --generator-core N    the generators' core [1]
  --no-pin              pin nothing (taskset is not used)
  --runtime KIND        every server on multi-thread with one worker, or on
                        current-thread [multi-thread]
  --idle sleep|spin     how every generator waits while no socket is ready:
                        asleep, so that the servers' sends wake it, or
                        spinning, so that they never do, as a client on
                        another machine (cinder-loadgen --help); spinning
                        takes its whole core (with --no-pin perhaps a
                        server's: the suite warns), and its CPU a setup
                        counts the spinning [sleep]
  --phoenix COMMAND     also measure the Phoenix LiveView server that
                        `sh -c COMMAND` starts on $PORT and execs into
  --out FILE            write every tool's JSON summary there, one labelled
                        line each";

const USAGE: &str = "usage: cinder-bench-suite [--runs 3] [--scale full|smoke] [--only events,setup,render,broadcast,ramp,held] [--server-core 0] [--generator-core 1] [--no-pin] [--runtime multi-thread|current-thread] [--idle sleep|spin] [--phoenix COMMAND] [--out FILE]";

/// The kinds of measurement the suite runs, as `--only` names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Measurement {
    /// CPU per event and the round trip at a fixed rate.
    Events,
    /// Session setup.
    Setup,
    /// Dead render.
    Render,
    /// The chat's broadcast.
    Broadcast,
    /// The highest rate served within the p99.
    Ramp,
    /// Memory per held session, and every session held.
    Held,
}

impl Measurement {
    const ALL: [Measurement; 6] = [
        Measurement::Events,
        Measurement::Setup,
        Measurement::Render,
        Measurement::Broadcast,
        Measurement::Ramp,
        Measurement::Held,
    ];

    fn name(self) -> &'static str {
        match self {
            Measurement::Events => "events",
            Measurement::Setup => "setup",
            Measurement::Render => "render",
            Measurement::Broadcast => "broadcast",
            Measurement::Ramp => "ramp",
            Measurement::Held => "held",
        }
    }

    /// The measurements `list` names, separated by commas.
    fn listed(list: &str) -> Result<Vec<Measurement>, String> {
        list.split(',')
            .map(|name| {
                Measurement::ALL
                    .into_iter()
                    .find(|measurement| measurement.name() == name)
                    .ok_or_else(|| format!("--only takes {}, not {name:?}", Measurement::names()))
            })
            .collect()
    }

    /// Every measurement's name, as a sentence lists them.
    fn names() -> String {
        let names = Measurement::ALL.map(Measurement::name);
        let (last, others) = names.split_last().expect("there are measurements");
        format!("{} or {last}", others.join(", "))
    }
}

/// How large each measurement is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scale {
    /// The sizes the goals are stated for.
    Full,
    /// A few hundred sessions and a second or so each: proves the suite
    /// runs, measures nothing.
    Smoke,
}

/// The sizes of one scale's measurements.
struct Sizes {
    event_sessions: usize,
    event_rate: usize,
    event_seconds: usize,
    setup_sessions: usize,
    held_sessions: usize,
    held_seconds: usize,
    render_connections: usize,
    render_seconds: usize,
    broadcast_sessions: usize,
    /// The rates `inc` and `bump` are offered in turn, until the round
    /// trip's p99 passes 50 ms.
    ramp_counter: &'static [usize],
    ramp_rows: &'static [usize],
    /// The rates of `--phoenix`'s server's ramps: Phoenix's limits were
    /// first measured far below the first of Cinder's rates.
    phoenix_ramp_counter: &'static [usize],
    phoenix_ramp_rows: &'static [usize],
    ramp_seconds: usize,
    /// How many rates the ramp may go on past its list, each one step (the
    /// gap between the list's last two) higher: a server the list
    /// underestimated is still taken to its limit, or the generator to
    /// its own.
    ramp_extra_steps: usize,
}

impl Scale {
    fn sizes(self) -> Sizes {
        match self {
            Scale::Full => Sizes {
                event_sessions: 1_000,
                event_rate: 10_000,
                event_seconds: 10,
                setup_sessions: 5_000,
                held_sessions: 19_500,
                held_seconds: 3,
                render_connections: 50,
                render_seconds: 5,
                broadcast_sessions: 19_000,
                ramp_counter: &[
                    60_000, 90_000, 100_000, 110_000, 120_000, 130_000, 140_000, 150_000,
                ],
                ramp_rows: &[
                    20_000, 30_000, 40_000, 50_000, 60_000, 70_000, 80_000, 90_000, 100_000,
                    110_000, 120_000,
                ],
                phoenix_ramp_counter: &[
                    4_000, 6_000, 8_000, 10_000, 12_000, 14_000, 16_000, 18_000, 20_000,
                ],
                phoenix_ramp_rows: &[1_000, 2_000, 3_000, 4_000, 5_000, 6_000, 7_000],
                ramp_seconds: 5,
                ramp_extra_steps: 10,
            },
            Scale::Smoke => Sizes {
                event_sessions: 50,
                event_rate: 500,
                event_seconds: 1,
                setup_sessions: 200,
                held_sessions: 200,
                held_seconds: 1,
                render_connections: 4,
                render_seconds: 1,
                broadcast_sessions: 50,
                ramp_counter: &[200, 400],
                ramp_rows: &[200, 400],
                phoenix_ramp_counter: &[200, 400],
                phoenix_ramp_rows: &[200, 400],
                ramp_seconds: 1,
                ramp_extra_steps: 1,
            },
        }
    }
}

/// What the command line asked for.
struct Options {
    runs: usize,
    scale: Scale,
    server_core: usize,
    generator_core: usize,
    pin: bool,
    out: Option<PathBuf>,
    /// The measurements to run; every one unless `--only` names some.
    only: Vec<Measurement>,
    /// The runtime every server runs on, with one thread.
    runtime: RuntimeFlavor,
    /// How every generator waits while none of its sockets is ready.
    idle: GeneratorIdle,
    /// A shell command that starts a Phoenix LiveView server of the same
    /// pages on the port in `$PORT`, measured beside Cinder.
    phoenix: Option<String>,
}

impl Options {
    fn parse(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
        let mut options = Options {
            runs: 3,
            scale: Scale::Full,
            server_core: 0,
            generator_core: 1,
            pin: true,
            out: None,
            only: Measurement::ALL.to_vec(),
            runtime: RuntimeFlavor::MultiThread,
            idle: GeneratorIdle::Sleep,
            phoenix: None,
        };
        while let Some(flag) = args.next() {
            if flag == "--no-pin" {
                options.pin = false;
                continue;
            }
            let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
            match flag.as_str() {
                "--runs" => options.runs = parse(&flag, &value)?,
                "--scale" => {
                    options.scale = match value.as_str() {
                        "full" => Scale::Full,
                        "smoke" => Scale::Smoke,
                        _ => return Err(format!("--scale takes full or smoke, not {value:?}")),
                    }
                }
                "--server-core" => options.server_core = parse(&flag, &value)?,
                "--generator-core" => options.generator_core = parse(&flag, &value)?,
                "--out" => options.out = Some(PathBuf::from(value)),
                "--only" => options.only = Measurement::listed(&value)?,
                "--runtime" => options.runtime = RuntimeFlavor::named(&value)?,
                "--idle" => options.idle = GeneratorIdle::named(&value)?,
                "--phoenix" => options.phoenix = Some(value),
                _ => return Err(format!("unknown option {flag}")),
            }
        }
        if options.runs == 0 {
            return Err("--runs takes a positive number".into());
        }
        if options.pin && options.server_core == options.generator_core {
            return Err("--server-core and --generator-core must differ".into());
        }
        Ok(options)
    }

    /// What the options run that measures something other than it seems
    /// to, said before the runs begin.
    fn caution(&self) -> Option<&'static str> {
        (self.idle == GeneratorIdle::Spin && !self.pin).then_some(
            "--idle spin with --no-pin: each generator spins on whatever core the kernel gives it, \
             which may be a server's, so the servers' round trips and rates count the time it \
             takes from them; pin them apart (drop --no-pin) for figures that mean what the \
             table says",
        )
    }
}

/// The tools this suite drives: the binaries built beside it.
struct Tools {
    server: PathBuf,
    loadgen: PathBuf,
    floor: PathBuf,
    showcase: Option<PathBuf>,
}

impl Tools {
    fn beside(exe: &Path) -> Result<Tools, String> {
        let tool = |name: &str| {
            let path = exe.with_file_name(name);
            if path.exists() {
                Ok(path)
            } else {
                Err(format!(
                    "no {name} beside {}: build the cinder-bench package (cargo build --release -p cinder-bench)",
                    exe.display()
                ))
            }
        };
        let showcase = exe.with_file_name("showcase");
        Ok(Tools {
            server: tool("cinder-bench-server")?,
            loadgen: tool("cinder-loadgen")?,
            floor: tool("cinder-floor")?,
            showcase: showcase.exists().then_some(showcase),
        })
    }
}

/// Which core runs what, if the suite pins at all.
struct Cores {
    taskset: bool,
    server: usize,
    generator: usize,
}

impl Cores {
    /// Pins when asked to and the machine can: `taskset` runs and there is
    /// a core for each side.
    fn new(options: &Options) -> Cores {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let taskset = options.pin
            && cores > options.server_core.max(options.generator_core)
            && Command::new("taskset")
                .arg("--version")
                .output()
                .is_ok_and(|output| output.status.success());
        Cores {
            taskset,
            server: options.server_core,
            generator: options.generator_core,
        }
    }

    fn on(&self, core: usize, program: &Path) -> Command {
        if !self.taskset {
            return Command::new(program);
        }
        let mut command = Command::new("taskset");
        command.arg("-c").arg(core.to_string()).arg(program);
        command
    }

    fn describe(&self) -> String {
        if self.taskset {
            format!(
                "servers on core {}, generators on core {}",
                self.server, self.generator
            )
        } else {
            "not pinned".into()
        }
    }
}

/// The tool that makes a measurement's load.
#[derive(Clone, Copy)]
enum Generator {
    /// `cinder-loadgen`, for Cinder's servers.
    Loadgen,
    /// `cinder-floor`, for the floor's bare server.
    Floor,
}

/// The two pages of the benchmark server.
#[derive(Clone, Copy)]
enum Page {
    Counter,
    Rows,
}

impl Page {
    fn path(self) -> &'static str {
        match self {
            Page::Counter => "/counter",
            Page::Rows => "/rows",
        }
    }

    /// What a run measuring `what` (`events`, `setup`, …) on the page is
    /// called after the name of the server it measures: `events /counter`.
    fn measured(self, what: &str) -> String {
        format!("{what} {}", self.path())
    }

    /// The label of Cinder's runs measuring `what` on the page.
    fn cinder(self, what: &str) -> String {
        run_label(CINDER, &self.measured(what))
    }

    /// The label of the bare floor's runs measuring `what` on the page.
    fn floor(self, what: &str) -> String {
        FloorShape::Bare.run_label(&self.measured(what))
    }

    /// The label of Phoenix's runs measuring `what` on the page.
    fn phoenix(self, what: &str) -> String {
        run_label(PHOENIX, &self.measured(what))
    }

    /// The label of the paged floor's runs measuring `what` on the page.
    fn paged_floor(self, what: &str) -> String {
        FloorShape::TaskPerPage.run_label(&self.measured(what))
    }

    /// The event its runs send.
    fn event(self) -> &'static str {
        match self {
            Page::Counter => "inc",
            Page::Rows => "bump",
        }
    }
}

/// What Cinder's runs' labels begin with.
const CINDER: &str = "cinder";

/// The label of Cinder's broadcast runs, on the showcase's chat.
const CINDER_BROADCAST: &str = "cinder broadcast /chat";

/// What the runs of `--phoenix`'s server begin with: each is labelled as
/// Cinder's run of the same measurement, with this name in place of
/// Cinder's.
const PHOENIX: &str = "phoenix";

/// The label of the runs of `--phoenix`'s server that measure what Cinder's
/// runs labelled `cinder_label` measure.
fn phoenix_label(cinder_label: &str) -> String {
    let measured = cinder_label
        .strip_prefix(CINDER)
        .map_or(cinder_label, str::trim_start);
    run_label(PHOENIX, measured)
}

/// How long a Phoenix server may take to listen: its first start may
/// compile the application.
const PHOENIX_PATIENCE: Duration = Duration::from_secs(180);

/// The label of the runs of `server` (Cinder or a floor's shape) that
/// measure `measured`.
fn run_label(server: &str, measured: &str) -> String {
    format!("{server} {measured}")
}

/// How the floor's server answers a connection.
#[derive(Clone, Copy)]
enum FloorShape {
    /// From the task that reads the connection.
    Bare,
    /// Through a second task of the connection's own, as a socket hands an
    /// event to its page's process (`cinder-floor serve --tasks 2`).
    TaskPerPage,
}

impl FloorShape {
    /// What its runs' labels begin with.
    fn label(self) -> &'static str {
        match self {
            FloorShape::Bare => "floor",
            FloorShape::TaskPerPage => "paged floor",
        }
    }

    /// The label of its runs that measure `measured`.
    fn run_label(self, measured: &str) -> String {
        run_label(self.label(), measured)
    }

    /// Its server's `--tasks`.
    fn tasks(self) -> &'static str {
        match self {
            FloorShape::Bare => "1",
            FloorShape::TaskPerPage => "2",
        }
    }
}

/// The runs so far: each tool's summary under its label, and what failed.
struct Suite {
    tools: Tools,
    cores: Cores,
    runtime: RuntimeFlavor,
    /// How every generator waits while none of its sockets is ready.
    idle: GeneratorIdle,
    sizes: Sizes,
    out: Option<std::fs::File>,
    summaries: BTreeMap<String, Vec<Value>>,
    failures: Vec<String>,
    /// `--phoenix`'s command.
    phoenix: Option<String>,
}

impl Suite {
    fn bench_server(&self) -> Result<RunningServer, String> {
        let mut command = self.cores.on(self.cores.server, &self.tools.server);
        command.args(["--workers", "1", "--runtime", self.runtime.name()]);
        servers::start(command)
    }

    fn floor_server(&self, shape: FloorShape) -> Result<RunningServer, String> {
        let mut command = self.cores.on(self.cores.server, &self.tools.floor);
        command.args([
            "serve",
            "--runtime",
            self.runtime.name(),
            "--tasks",
            shape.tasks(),
        ]);
        servers::start(command)
    }

    /// `--phoenix`'s server, pinned as Cinder's are: the command runs under
    /// `sh -c`, so that it can set its environment and directory first.
    fn phoenix_server(&self, command: &str) -> Result<RunningServer, String> {
        let mut shell = self.cores.on(self.cores.server, Path::new("sh"));
        shell.arg("-c").arg(command);
        let server = servers::start_on_port_from_env(shell, PHOENIX_PATIENCE)?;
        // A shell left waiting for the server would be measured in its
        // place: its CPU and memory, next to nothing.
        match std::fs::read_to_string(format!("/proc/{}/comm", server.pid())) {
            Ok(name) if ["sh", "dash", "bash"].contains(&name.trim()) => {
                server.stop_with_descendants();
                Err(format!(
                    "--phoenix's command left {} running in place of the server: end it with \
                     `exec` (`cd crates/cinder-bench/phoenix && MIX_ENV=prod exec elixir …`), so \
                     that the server is the process measured",
                    name.trim()
                ))
            }
            _ => Ok(server),
        }
    }

    /// Measures `cinder-loadgen` with `args` against a fresh server of
    /// `--phoenix`, under `label`, when the suite was given one; whether
    /// there is a summary.
    fn phoenix_run(&mut self, label: &str, args: &[String]) -> bool {
        let Some(command) = self.phoenix.clone() else {
            return false;
        };
        self.started(label, |suite| suite.phoenix_server(&command))
            .is_some_and(|server| self.measure(label, Generator::Loadgen, &server, args))
    }

    fn showcase(&self, showcase: &Path) -> Result<RunningServer, String> {
        let mut command = self.cores.on(self.cores.server, showcase);
        command
            .env("TOKIO_WORKER_THREADS", "1")
            .args(["--runtime", self.runtime.name()]);
        servers::start(command)
    }

    /// Runs `generator` from its core against `server` and keeps its
    /// summary under `label`; a failure is noted and the suite goes on.
    /// Returns whether there is a summary.
    fn measure(
        &mut self,
        label: &str,
        generator: Generator,
        server: &RunningServer,
        args: &[String],
    ) -> bool {
        let program = match generator {
            Generator::Loadgen => &self.tools.loadgen,
            Generator::Floor => &self.tools.floor,
        };
        // A full suite takes minutes: each measurement says so as it starts.
        eprintln!("measuring {label}");
        let mut command = self.cores.on(self.cores.generator, program);
        command
            .args(args)
            .args(["--addr", &server.addr(), "--server-pid", &server.pid()])
            .args(["--idle", self.idle.name()]);
        match summary_of(command) {
            Ok(summary) => {
                self.keep(label, summary);
                true
            }
            Err(error) => {
                self.failures.push(format!("{label}: {error}"));
                false
            }
        }
    }

    fn keep(&mut self, label: &str, summary: Value) {
        if let Some(out) = &mut self.out {
            let line = json!({ "label": label, "summary": summary });
            if let Err(error) = writeln!(out, "{line}") {
                self.failures
                    .push(format!("writing {label}'s summary: {error}"));
            }
        }
        self.summaries
            .entry(label.to_string())
            .or_default()
            .push(summary);
    }

    /// Starts a server with `start`, or notes why it did not start.
    fn started(
        &mut self,
        label: &str,
        start: impl FnOnce(&Suite) -> Result<RunningServer, String>,
    ) -> Option<RunningServer> {
        start(self)
            .map_err(|error| self.failures.push(format!("{label}: {error}")))
            .ok()
    }

    fn numbers(&self, label: &str, key: &str) -> Vec<f64> {
        self.summaries
            .get(label)
            .into_iter()
            .flatten()
            .filter_map(|summary| number(summary, key))
            .collect()
    }

    /// The last run's value of `key` under `label`.
    fn last(&self, label: &str, key: &str) -> Option<f64> {
        number(self.summaries.get(label)?.last()?, key)
    }

    /// `cinder-loadgen events` on `page`: `rate` events a second over the
    /// scale's sessions for `seconds`.
    fn events_args(&self, page: Page, rate: usize, seconds: usize) -> Vec<String> {
        strings(&[
            "events",
            "--path",
            page.path(),
            "--sessions",
            &self.sizes.event_sessions.to_string(),
            "--rate",
            &rate.to_string(),
            "--duration",
            &seconds.to_string(),
        ])
    }

    /// `cinder-loadgen connect` on `page`: `sessions` opened 50 at a time
    /// and held for `seconds`.
    fn connect_args(page: Page, sessions: usize, seconds: usize) -> Vec<String> {
        strings(&[
            "connect",
            "--path",
            page.path(),
            "--sessions",
            &sessions.to_string(),
            "--concurrency",
            "50",
            "--duration",
            &seconds.to_string(),
        ])
    }

    fn events_run(&mut self, page: Page) {
        let args = self.events_args(page, self.sizes.event_rate, self.sizes.event_seconds);
        let label = page.cinder("events");
        self.bench_run(&label, &args);
        self.phoenix_run(&page.phoenix("events"), &args);
        let reply_bytes = self.last(&label, "bytes_per_reply").unwrap_or(95.0);
        let args = strings(&[
            "events",
            "--sessions",
            &self.sizes.event_sessions.to_string(),
            "--rate",
            &self.sizes.event_rate.to_string(),
            "--duration",
            &self.sizes.event_seconds.to_string(),
            "--reply-bytes",
            &(reply_bytes.round() as usize).to_string(),
        ]);
        let measured = page.measured("events");
        self.floor_run(FloorShape::Bare, &measured, &args);
        self.floor_run(FloorShape::TaskPerPage, &measured, &args);
    }

    fn setup_run(&mut self, page: Page) {
        let label = page.cinder("setup");
        let args = Suite::connect_args(page, self.sizes.setup_sessions, 1);
        self.bench_run(&label, &args);
        self.phoenix_run(&page.phoenix("setup"), &args);
        let (Some(page_bytes), Some(join_bytes)) = (
            self.last(&label, "page_bytes"),
            self.last(&label, "join_reply_bytes"),
        ) else {
            return;
        };
        let args = strings(&[
            "setup",
            "--sessions",
            &self.sizes.setup_sessions.to_string(),
            "--page-bytes",
            &page_bytes.to_string(),
            "--join-reply-bytes",
            &join_bytes.to_string(),
        ]);
        self.floor_run(FloorShape::Bare, &page.measured("setup"), &args);
    }

    /// Measures `cinder-loadgen` with `args` against a fresh benchmark
    /// server, under `label`; returns whether there is a summary.
    fn bench_run(&mut self, label: &str, args: &[String]) -> bool {
        self.started(label, Suite::bench_server)
            .is_some_and(|server| self.measure(label, Generator::Loadgen, &server, args))
    }

    /// Measures `cinder-floor` with `args` against a fresh bare server of
    /// `shape`, under the shape's label followed by `measured`.
    fn floor_run(&mut self, shape: FloorShape, measured: &str, args: &[String]) {
        let label = shape.run_label(measured);
        if let Some(server) = self.started(&label, |suite| suite.floor_server(shape)) {
            self.measure(&label, Generator::Floor, &server, args);
        }
    }

    fn render_run(&mut self, page: Page) {
        let label = page.cinder("render");
        let args = strings(&[
            "render",
            "--path",
            page.path(),
            "--connections",
            &self.sizes.render_connections.to_string(),
            "--duration",
            &self.sizes.render_seconds.to_string(),
        ]);
        self.bench_run(&label, &args);
        self.phoenix_run(&page.phoenix("render"), &args);
    }

    fn held_run(&mut self, page: Page) {
        let label = page.cinder("held");
        let args = Suite::connect_args(page, self.sizes.held_sessions, self.sizes.held_seconds);
        self.bench_run(&label, &args);
        self.phoenix_run(&page.phoenix("held"), &args);
    }

    /// Offers the page's event at each rate of its ramp, a fresh server
    /// each, until a rate is not served in [`RAMP_TRIES`] runs: each run's
    /// p99 passed 50 ms, an event went unanswered or the generator fell
    /// behind its schedule. Then the same for `--phoenix`'s server, from
    /// its own list of rates.
    fn ramp_run(&mut self, page: Page) {
        let (cinder, phoenix) = match page {
            Page::Counter => (self.sizes.ramp_counter, self.sizes.phoenix_ramp_counter),
            Page::Rows => (self.sizes.ramp_rows, self.sizes.phoenix_ramp_rows),
        };
        self.ramp(&page.cinder("ramp"), page, cinder, Suite::bench_run);
        if self.phoenix.is_some() {
            self.ramp(&page.phoenix("ramp"), page, phoenix, Suite::phoenix_run);
        }
    }

    /// The ramp of `listed` rates (and the steps past them), each measured
    /// by `run` under `label`.
    fn ramp(&mut self, label: &str, page: Page, listed: &[usize], run: RunOn) {
        for rate in ramp_rates(listed, self.sizes.ramp_extra_steps) {
            if !self.ramp_rate_served(label, page, rate, run) {
                return;
            }
        }
    }

    /// Runs the page's event at `rate` until a run serves it, at most
    /// [`RAMP_TRIES`] times; whether one did.
    fn ramp_rate_served(&mut self, label: &str, page: Page, rate: usize, run: RunOn) -> bool {
        let args = self.events_args(page, rate, self.sizes.ramp_seconds);
        for _ in 0..RAMP_TRIES {
            if !run(self, label, &args) {
                return false;
            }
            let last = self.summaries.get(label).and_then(|runs| runs.last());
            if last.is_some_and(within_ramp) {
                return true;
            }
        }
        false
    }

    fn broadcast_run(&mut self) {
        let sessions = self.sizes.broadcast_sessions.to_string();
        let args = strings(&["broadcast", "--path", "/chat", "--sessions", &sessions]);
        if let Some(showcase) = self.tools.showcase.clone() {
            let label = CINDER_BROADCAST;
            if let Some(server) = self.started(label, |suite| suite.showcase(&showcase)) {
                self.measure(label, Generator::Loadgen, &server, &args);
            }
        }
        self.phoenix_run(&phoenix_label(CINDER_BROADCAST), &args);
        let args = strings(&["broadcast", "--sessions", &sessions]);
        self.floor_run(FloorShape::Bare, "broadcast", &args);
        self.floor_run(FloorShape::TaskPerPage, "broadcast", &args);
    }
}

/// A run of `cinder-loadgen` against a fresh server of one kind, under a
/// label: [`Suite::bench_run`] or [`Suite::phoenix_run`]; whether there is
/// a summary.
type RunOn = fn(&mut Suite, &str, &[String]) -> bool;

/// The p99 a rate counts as served within.
const RAMP_P99_MS: f64 = 50.0;

/// How many runs, each on a fresh server, a ramp gives a rate before it
/// stops. A second run keeps one stall of the machine from ending the
/// ramp (a pause of 100 ms in a run of 5 s puts 1 % of its events past
/// 50 ms), and the table names the rates that needed it.
const RAMP_TRIES: usize = 2;

/// The share of a run's rate the generator must reach for the rate to
/// count as offered.
const OFFERED_SHARE: f64 = 0.95;

/// The ramp's rates: those `listed`, then up to `extra_steps` more, each
/// the gap between the list's last two above the one before.
fn ramp_rates(listed: &[usize], extra_steps: usize) -> impl Iterator<Item = usize> + '_ {
    let last = listed.last().copied().unwrap_or(0);
    let step = match listed {
        [.., before, last] => last.saturating_sub(*before),
        _ => last,
    };
    let extra = if step == 0 { 0 } else { extra_steps };
    listed
        .iter()
        .copied()
        .chain((1..=extra).map(move |k| last + k * step))
}

/// Whether the generator kept to a run's schedule, so that the run offered
/// the rate it names: its sends late by no more than the p99 the ramp
/// allows, and nearly all the rate answered in the time it sent.
fn generator_kept_up(summary: &Value) -> bool {
    let offered = match (
        number(summary, "rate_achieved"),
        number(summary, "target_rate"),
    ) {
        (Some(achieved), Some(target)) => achieved >= OFFERED_SHARE * target,
        _ => false,
    };
    offered && number(summary, "send_lag.p99_ms").is_some_and(|ms| ms <= RAMP_P99_MS)
}

/// Whether a ramp's run served its rate: the generator kept to it, every
/// event was answered, and the round trip's p99 was within [`RAMP_P99_MS`].
fn within_ramp(summary: &Value) -> bool {
    generator_kept_up(summary)
        && number(summary, "unanswered") == Some(0.0)
        && number(summary, "errors") == Some(0.0)
        && number(summary, "latency.p99_ms").is_some_and(|ms| ms <= RAMP_P99_MS)
}

/// A ramp's runs, one slice for each rate: the runs in a row that name
/// the same rate.
fn ramp_steps(runs: &[Value]) -> Vec<&[Value]> {
    runs.chunk_by(|a, b| number(a, "target_rate") == number(b, "target_rate"))
        .collect()
}

/// The round trips' p99 of `runs`, in ms: "61.0", or "72.1 and 61.0".
fn p99s(runs: &[Value]) -> String {
    let shown: Vec<String> = runs
        .iter()
        .map(|run| number(run, "latency.p99_ms").map_or("?".into(), |ms| grouped(ms, 1)))
        .collect();
    shown.join(" and ")
}

/// Runs `command` and reads the one-line JSON summary it ends with.
fn summary_of(mut command: Command) -> Result<Value, String> {
    let output = command
        .output()
        .map_err(|error| format!("{command:?} does not run: {error}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!(
            "{command:?} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let last = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(last).map_err(|error| format!("{command:?} ended with {last:?}: {error}"))
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|arg| arg.to_string()).collect()
}

/// The number at `key` of a summary, where a dot steps into an object
/// (`latency.p99_ms`).
fn number(summary: &Value, key: &str) -> Option<f64> {
    key.split('.')
        .try_fold(summary, |value, step| value.get(step))?
        .as_f64()
}

/// One row of the table; a figure it has none of is left empty.
#[derive(Default)]
struct Row {
    measure: String,
    goal: &'static str,
    /// What Phoenix was first measured at, after what `--phoenix`'s server
    /// measured where it ran.
    phoenix: String,
    cinder: String,
    floor: String,
    /// The floor with a task per page, where it was measured.
    paged_floor: String,
    verdict: String,
}

/// How a goal's figures compare with it.
struct Goal {
    goal: &'static str,
    phoenix: &'static str,
    meets: fn(f64) -> bool,
}

/// `values` as their lowest and highest, rounded to `decimals`, with
/// thousands grouped: `10,007–12,205`, or one figure when they agree.
fn range(values: &[f64], decimals: usize) -> Option<String> {
    let low = values.iter().copied().reduce(f64::min)?;
    let high = values.iter().copied().reduce(f64::max)?;
    let (low, high) = (grouped(low, decimals), grouped(high, decimals));
    Some(if low == high {
        low
    } else {
        format!("{low}–{high}")
    })
}

fn grouped(value: f64, decimals: usize) -> String {
    let text = format!("{value:.decimals$}");
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let (sign, digits) = whole
        .strip_prefix('-')
        .map_or(("", whole), |digits| ("-", digits));
    let mut out = String::from(sign);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    if !fraction.is_empty() {
        out.push('.');
        out.push_str(fraction);
    }
    out
}

/// Whether the goal is met in every run, some or none, and, when not in
/// every run, whether the floor's runs meet it.
fn verdict(cinder: &[f64], floor: &[f64], meets: fn(f64) -> bool) -> String {
    if cinder.is_empty() {
        return "not measured".into();
    }
    let met = cinder.iter().filter(|value| meets(**value)).count();
    let mut verdict = match met {
        met if met == cinder.len() => return "yes".into(),
        0 => "no".to_string(),
        met => format!("in {met} of {} runs", cinder.len()),
    };
    if !floor.is_empty() {
        let floor_met = floor.iter().filter(|value| meets(**value)).count();
        verdict.push_str(&match floor_met {
            0 => "; the floor misses it too".to_string(),
            met if met == floor.len() => "; the floor meets it".to_string(),
            met => format!("; the floor in {met} of {}", floor.len()),
        });
    }
    verdict
}

/// A row whose Cinder and floor figures are `key` of their labels' runs.
fn compared_row(
    suite: &Suite,
    measure: String,
    goal: Goal,
    (cinder_label, floor_label): (&str, &str),
    key: &str,
    (decimals, unit): (usize, &str),
) -> Row {
    let cinder = suite.numbers(cinder_label, key);
    let floor = suite.numbers(floor_label, key);
    let shown = |values: &[f64]| {
        range(values, decimals).map_or_else(|| "not measured".into(), |range| range + unit)
    };
    let measured = suite.numbers(&phoenix_label(cinder_label), key);
    Row {
        measure,
        goal: goal.goal,
        phoenix: phoenix_cell(
            range(&measured, decimals).map(|range| range + unit),
            goal.phoenix,
        ),
        verdict: verdict(&cinder, &floor, goal.meets),
        cinder: shown(&cinder),
        floor: if floor_label.is_empty() {
            String::new()
        } else {
            shown(&floor)
        },
        ..Row::default()
    }
}

/// The Phoenix column: what `--phoenix`'s server measured, if it ran, with
/// the figure Phoenix was first measured at beside it.
fn phoenix_cell(measured: Option<String>, first: &str) -> String {
    match measured {
        Some(measured) if first == "not measured" => measured,
        Some(measured) => format!("{measured} (first measured: {first})"),
        None => first.to_string(),
    }
}

/// `row` with the figures of `key` of the floor with a task per page
/// beside it, from the runs labelled `measured` after the shape's label.
fn with_paged_floor(
    mut row: Row,
    suite: &Suite,
    measured: &str,
    key: &str,
    (decimals, unit): (usize, &str),
) -> Row {
    let label = FloorShape::TaskPerPage.run_label(measured);
    if let Some(range) = range(&suite.numbers(&label, key), decimals) {
        row.paged_floor = range + unit;
    }
    row
}

/// A CPU row: Cinder's figure with its user part, the floors' beside it.
fn cpu_row(suite: &Suite, page: Page, goal: Goal) -> Row {
    let (cinder, floor) = (page.cinder("events"), page.floor("events"));
    let mut row = compared_row(
        suite,
        format!("server CPU per `{}`", page.event()),
        goal,
        (&cinder, &floor),
        "server_cpu_us_per_event",
        (1, " µs"),
    );
    row = with_paged_floor(
        row,
        suite,
        &page.measured("events"),
        "server_cpu_us_per_event",
        (1, " µs"),
    );
    if let Some(user) = range(
        &suite.numbers(&cinder, "server_cpu_us_per_event_split.user"),
        1,
    ) {
        let _ = write!(row.cinder, " (user {user})");
    }
    row
}

/// A setup row: Cinder's rate with the CPU a setup took the server and the
/// generator beside it, which shows which of the two cores set the rate (at
/// 10,000 a second, each has 100 µs a setup), and the page faults a setup
/// took each, the floor's beside them.
fn setup_row(suite: &Suite, page: Page, phoenix: &'static str) -> Row {
    let cinder = page.cinder("setup");
    let mut row = compared_row(
        suite,
        format!(
            "session setup, `{}`, 50 in flight, {} sessions",
            page.path(),
            grouped(suite.sizes.setup_sessions as f64, 0)
        ),
        Goal {
            goal: "≥ 10,000 /s",
            phoenix,
            meets: |rate| rate >= 10_000.0,
        },
        (&cinder, &page.floor("setup")),
        "setup_per_sec",
        (0, " /s"),
    );
    let cpu = |key| range(&suite.numbers(&cinder, key), 0);
    let faults = |label: &str, key| range(&suite.numbers(label, key), 1);
    let mut costs = Vec::new();
    if let (Some(server), Some(generator)) = (
        cpu("server_cpu_us_per_setup"),
        cpu("generator_cpu_us_per_setup"),
    ) {
        costs.push(format!(
            "CPU a setup: the server {server} µs, the generator {generator}"
        ));
    }
    if let (Some(server), Some(generator)) = (
        faults(&cinder, "server_page_faults_per_setup"),
        faults(&cinder, "generator_page_faults_per_setup"),
    ) {
        costs.push(format!(
            "page faults a setup: the server {server}, the generator {generator}"
        ));
    }
    if !costs.is_empty() {
        let _ = write!(row.cinder, " ({})", costs.join("; "));
    }
    // The floor keeps little a session: its faults show what Cinder's
    // memory a session adds to a setup.
    if let Some(floor) = faults(&page.floor("setup"), "server_page_faults_per_setup") {
        let _ = write!(row.floor, " (page faults a setup: {floor})");
    }
    row
}

fn memory_row(suite: &Suite, page: Page, goal: Goal) -> Row {
    compared_row(
        suite,
        format!(
            "memory per idle session, `{}`, {} held",
            page.path(),
            grouped(suite.sizes.held_sessions as f64, 0)
        ),
        goal,
        (&page.cinder("held"), ""),
        "server_bytes_per_session",
        (0, " B"),
    )
}

/// Every session of both held runs joined and stayed, with no failure.
fn held_row(suite: &Suite) -> Row {
    let target = suite.sizes.held_sessions as f64;
    let held = held_sessions(suite, |page| page.cinder("held"));
    let phoenix = held_sessions(suite, |page| page.phoenix("held"));
    Row {
        measure: "sessions held with no failure, either page".into(),
        goal: "19,500",
        phoenix: phoenix_cell(range(&phoenix, 0), "19,500"),
        cinder: range(&held, 0).unwrap_or_else(|| "not measured".into()),
        verdict: if held.is_empty() {
            "not measured".into()
        } else if held.iter().any(|&count| count < target) {
            "no".into()
        } else if target >= 19_500.0 {
            "yes".into()
        } else {
            format!("all {} held; the goal asks 19,500", grouped(target, 0))
        },
        ..Row::default()
    }
}

/// The sessions of each held run of both pages, labelled by `label`, that
/// joined and stayed; none for a run that lost any.
fn held_sessions(suite: &Suite, label: impl Fn(Page) -> String) -> Vec<f64> {
    let mut held = Vec::new();
    for page in [Page::Counter, Page::Rows] {
        for summary in suite.summaries.get(&label(page)).into_iter().flatten() {
            let joined = number(summary, "sessions_joined").unwrap_or(0.0);
            let lost = number(summary, "failures").unwrap_or(1.0)
                + number(summary, "closed_while_held").unwrap_or(1.0);
            held.push(if lost == 0.0 { joined } else { 0.0 });
        }
    }
    held
}

/// The highest rate of a server's ramp served within its p99: that rate,
/// if any, and what the table says of it.
struct RampFinding {
    rate: Option<f64>,
    /// Whether the ramp served every rate it offered, its highest included.
    reached_top: bool,
    shown: String,
}

/// What `runs` of one server's ramp found: the highest rate served within
/// the p99, with the p99 there and the server's CPU per event, the rates
/// only a second run served, and, past them, what stopped the ramp: the
/// server, or the generator's own core falling behind its schedule first
/// (the CPU per event then says how far the server was from its limit).
fn ramp_finding(runs: &[Value]) -> RampFinding {
    let rates = ramp_steps(runs);
    let served_rates = rates.iter().take_while(|runs| runs.iter().any(within_ramp));
    let served = served_rates
        .clone()
        .last()
        .and_then(|runs| runs.iter().find(|run| within_ramp(run)));
    let rate = served.and_then(|run| number(run, "target_rate"));
    let mut shown = match (rate, served.and_then(|run| number(run, "latency.p99_ms"))) {
        (Some(rate), Some(p99)) => {
            let cpu = served
                .and_then(|run| number(run, "server_cpu_us_per_event"))
                .map_or_else(String::new, |cpu| {
                    format!(", {cpu:.1} µs of server CPU an event")
                });
            format!("{} ev/s (p99 {p99:.1} ms{cpu})", grouped(rate, 0))
        }
        _ => "none of the ramp's rates".into(),
    };
    let retried: Vec<String> = served_rates
        .filter(|runs| runs.len() > 1)
        .map(|runs| {
            let rate = number(&runs[0], "target_rate").map_or("?".into(), |r| grouped(r, 0));
            format!(
                "{rate} ev/s (first run p99 {} ms)",
                p99s(&runs[..runs.len() - 1])
            )
        })
        .collect();
    if !retried.is_empty() {
        let _ = write!(shown, "; served at a second run: {}", retried.join(", "));
    }
    let past_runs = rates.iter().find(|runs| !runs.iter().any(within_ramp));
    let past = past_runs.and_then(|runs| runs.last());
    let figure = |key, decimals| {
        past.and_then(|run| number(run, key))
            .map_or_else(|| "?".to_string(), |value| grouped(value, decimals))
    };
    match past {
        Some(past) if !generator_kept_up(past) => {
            let _ = write!(
                shown,
                "; at {} ev/s the generator fell behind its schedule first (send lag p99 {} ms, {} ev/s answered)",
                figure("target_rate", 0),
                figure("send_lag.p99_ms", 1),
                figure("rate_achieved", 0),
            );
        }
        Some(_) => {
            let _ = write!(
                shown,
                "; {} ev/s: p99 {} ms, the generator's send lag p99 {} ms",
                figure("target_rate", 0),
                past_runs.map_or_else(|| "?".into(), |runs| p99s(runs)),
                figure("send_lag.p99_ms", 1),
            );
        }
        None if !runs.is_empty() => shown.push_str("; the ramp's highest rate"),
        None => {}
    }
    RampFinding {
        rate,
        reached_top: past.is_none() && !runs.is_empty(),
        shown,
    }
}

/// The row of the highest rate served within the p99: what Cinder's ramp
/// (`runs`) found against the goal, and beside it what the ramp of
/// `--phoenix`'s server found (`phoenix_runs`, where it ran), with how many
/// times its rate Cinder's is.
fn ramp_row(runs: &[Value], phoenix_runs: &[Value], event: &str, goal: Goal) -> Row {
    let cinder = ramp_finding(runs);
    let phoenix = (!phoenix_runs.is_empty()).then(|| ramp_finding(phoenix_runs));
    let verdict = if runs.is_empty() {
        "not measured"
    } else if cinder.rate.is_some_and(goal.meets) {
        "yes"
    } else {
        "no"
    };
    // A ramp that served its every rate found a lower bound of its
    // server's limit, not the limit.
    let times_phoenix = phoenix.as_ref().and_then(|phoenix| {
        let ratio = cinder.rate? / phoenix.rate?;
        match (cinder.reached_top, phoenix.reached_top) {
            (false, false) => Some(format!("; {ratio:.1}× Phoenix's here")),
            (true, false) => Some(format!("; at least {ratio:.1}× Phoenix's here")),
            (false, true) => Some(format!("; at most {ratio:.1}× Phoenix's here")),
            (true, true) => None,
        }
    });
    Row {
        measure: format!("highest rate with p99 ≤ 50 ms, `{event}`"),
        goal: goal.goal,
        phoenix: phoenix_cell(phoenix.map(|phoenix| phoenix.shown), goal.phoenix),
        verdict: format!("{verdict}{}", times_phoenix.unwrap_or_default()),
        cinder: if runs.is_empty() {
            "not measured".into()
        } else {
            cinder.shown
        },
        ..Row::default()
    }
}

/// Reply, join reply and page bytes, against Phoenix's for the same page:
/// those `--phoenix`'s server measured where it ran, else those Phoenix was
/// first measured at (`phoenix`). Both are compared to the byte, as shown:
/// a reply's size is a run's average, which moves by a fraction of a byte
/// with the replies a run counts (their refs' digits).
fn bytes_row(suite: &Suite, page: Page, phoenix: [f64; 3], shown: &'static str) -> Row {
    let sizes = reply_join_page_bytes(suite, &page.cinder("events"), &page.cinder("setup"));
    let measured = reply_join_page_bytes(suite, &page.phoenix("events"), &page.phoenix("setup"));
    let (cinder, verdict) = match sizes {
        Some([reply, join, html]) => (
            bytes_shown([reply, join, html]),
            if [reply, join, html]
                .iter()
                .zip(measured.unwrap_or(phoenix))
                .all(|(ours, theirs)| ours.round() <= theirs.round())
            {
                "yes"
            } else {
                "no"
            },
        ),
        None => ("not measured".into(), "not measured"),
    };
    Row {
        measure: format!("reply / join reply / first HTML, `{}`", page.path()),
        goal: "no larger than Phoenix's",
        phoenix: phoenix_cell(measured.map(bytes_shown), shown),
        cinder,
        verdict: verdict.into(),
        ..Row::default()
    }
}

/// The largest reply of the runs labelled `events`, and the largest join
/// reply and page of those labelled `setup`, when all three were measured.
fn reply_join_page_bytes(suite: &Suite, events: &str, setup: &str) -> Option<[f64; 3]> {
    let largest = |label: &str, key: &str| suite.numbers(label, key).into_iter().reduce(f64::max);
    Some([
        largest(events, "bytes_per_reply")?,
        largest(setup, "join_reply_bytes")?,
        largest(setup, "page_bytes")?,
    ])
}

/// Three sizes as the bytes rows show them: `95 / 189 / 1,045 B`.
fn bytes_shown([reply, join, html]: [f64; 3]) -> String {
    format!(
        "{} / {} / {} B",
        grouped(reply, 0),
        grouped(join, 0),
        grouped(html, 0)
    )
}

fn rows(suite: &Suite) -> Vec<Row> {
    let sizes = &suite.sizes;
    let at_rate = format!(", {} ev/s", grouped(sizes.event_rate as f64, 0));
    let p99 = |page: Page, phoenix| {
        compared_row(
            suite,
            format!("round trip p99, `{}`{at_rate}", page.event()),
            Goal {
                goal: "≤ 0.5 ms",
                phoenix,
                meets: |ms| ms <= 0.5,
            },
            (&page.cinder("events"), &page.floor("events")),
            "latency.p99_ms",
            (2, " ms"),
        )
    };
    let ramp = |page: Page, goal| {
        let runs = |label: &str| suite.summaries.get(label).map_or(&[][..], Vec::as_slice);
        ramp_row(
            runs(&page.cinder("ramp")),
            runs(&page.phoenix("ramp")),
            page.event(),
            goal,
        )
    };
    let render = |page: Page, goal| {
        compared_row(
            suite,
            format!(
                "dead render, `{}`, {} keep-alive connections",
                page.path(),
                sizes.render_connections
            ),
            goal,
            (&page.cinder("render"), ""),
            "pages_per_sec",
            (0, " pages/s"),
        )
    };
    vec![
        memory_row(
            suite,
            Page::Counter,
            Goal {
                goal: "≤ 8 KiB",
                phoenix: "44.7 KiB",
                meets: |bytes| bytes <= 8_192.0,
            },
        ),
        memory_row(
            suite,
            Page::Rows,
            Goal {
                goal: "≤ 24 KiB",
                phoenix: "291 KiB",
                meets: |bytes| bytes <= 24_576.0,
            },
        ),
        held_row(suite),
        cpu_row(
            suite,
            Page::Counter,
            Goal {
                goal: "≤ 8 µs",
                phoenix: "~46 µs",
                meets: |us| us <= 8.0,
            },
        ),
        cpu_row(
            suite,
            Page::Rows,
            Goal {
                goal: "≤ 12 µs",
                phoenix: "~130 µs",
                meets: |us| us <= 12.0,
            },
        ),
        p99(Page::Counter, "1.27 ms"),
        p99(Page::Rows, "2.06 ms at 5,000 ev/s"),
        ramp(
            Page::Counter,
            Goal {
                goal: "≥ 90,000 ev/s (5× Phoenix's)",
                phoenix: "~18,000 ev/s",
                meets: |rate| rate >= 90_000.0,
            },
        ),
        ramp(
            Page::Rows,
            Goal {
                goal: "≥ 30,000 ev/s (5× Phoenix's)",
                phoenix: "~6,000 ev/s",
                meets: |rate| rate >= 30_000.0,
            },
        ),
        setup_row(suite, Page::Counter, "~1,180 /s"),
        setup_row(suite, Page::Rows, "~450 /s"),
        render(
            Page::Counter,
            Goal {
                goal: "≥ 33,000 pages/s",
                phoenix: "~6,550 pages/s",
                meets: |rate| rate >= 33_000.0,
            },
        ),
        render(
            Page::Rows,
            Goal {
                goal: "≥ 15,000 pages/s",
                phoenix: "~3,030 pages/s",
                meets: |rate| rate >= 15_000.0,
            },
        ),
        with_paged_floor(
            compared_row(
                suite,
                format!(
                    "broadcast on `/chat` to {} sessions, every diff delivered",
                    grouped(sizes.broadcast_sessions as f64, 0)
                ),
                Goal {
                    goal: "≤ 100 ms",
                    phoenix: "not measured",
                    meets: |ms| ms <= 100.0,
                },
                (CINDER_BROADCAST, &FloorShape::Bare.run_label("broadcast")),
                "all_delivered_ms",
                (0, " ms"),
            ),
            suite,
            "broadcast",
            "all_delivered_ms",
            (0, " ms"),
        ),
        bytes_row(
            suite,
            Page::Counter,
            [96.0, 203.0, 1_461.0],
            "96 / 203 / 1,461 B",
        ),
        bytes_row(
            suite,
            Page::Rows,
            [123.0, 6_128.0, 7_794.0],
            "123 / 6,128 / 7,794 B",
        ),
    ]
}

fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| measure | goal | Phoenix LiveView 1.2.10 | Cinder | the floor | the floor, a task per page | met? |\n\
         | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    for row in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            row.measure, row.goal, row.phoenix, row.cinder, row.floor, row.paged_floor, row.verdict
        );
    }
    out
}

/// What Cinder adds above the floor with a task per page, run by run: each
/// of Cinder's runs less the paged floor's run of the same round, which
/// follows it within a minute or two, in the same spell of the machine.
/// `None` when no measure has both.
fn above_paged_floor(suite: &Suite) -> Option<String> {
    let measures = [
        (
            "`inc`",
            Page::Counter.cinder("events"),
            Page::Counter.paged_floor("events"),
            "server_cpu_us_per_event",
            (1, " µs"),
        ),
        (
            "`bump`",
            Page::Rows.cinder("events"),
            Page::Rows.paged_floor("events"),
            "server_cpu_us_per_event",
            (1, " µs"),
        ),
        (
            "the broadcast",
            CINDER_BROADCAST.to_string(),
            FloorShape::TaskPerPage.run_label("broadcast"),
            "all_delivered_ms",
            (0, " ms"),
        ),
    ];
    let parts: Vec<String> = measures
        .iter()
        .filter_map(|(name, cinder, floor, key, (decimals, unit))| {
            let differences =
                run_by_run_differences(&suite.numbers(cinder, key), &suite.numbers(floor, key))?;
            Some(format!(
                "{name} {}{unit}",
                runs_shown(&differences, *decimals)
            ))
        })
        .collect();
    run_by_run_line(
        "Cinder above the floor with a task per page, run by run",
        &parts,
    )
}

/// A measure's figures, run by run, in a line of [`run_by_run_line`].
fn runs_shown(figures: &[f64], decimals: usize) -> String {
    let shown: Vec<String> = figures
        .iter()
        .map(|figure| grouped(*figure, decimals))
        .collect();
    shown.join(", ")
}

/// `lead`, then each measure's part: `None` when no measure gave one.
fn run_by_run_line(lead: &str, parts: &[String]) -> Option<String> {
    (!parts.is_empty()).then(|| format!("{lead}: {}.", parts.join("; ")))
}

/// Each of `cinder`'s figures less the floor's of the same run, when both
/// have a figure for every run.
fn run_by_run_differences(cinder: &[f64], floor: &[f64]) -> Option<Vec<f64>> {
    run_by_run(cinder, floor, |cinder, floor| cinder - floor)
}

/// `pair` of each of `cinder`'s figures and the other server's of the same
/// run, when both have a figure for every run: a run missing from either
/// would pair the rest with the wrong ones.
fn run_by_run(cinder: &[f64], other: &[f64], pair: impl Fn(f64, f64) -> f64) -> Option<Vec<f64>> {
    (!cinder.is_empty() && cinder.len() == other.len()).then(|| {
        cinder
            .iter()
            .zip(other)
            .map(|(cinder, other)| pair(*cinder, *other))
            .collect()
    })
}

/// How many times better Cinder did than Phoenix in each run of the measure
/// `key` of Cinder's runs labelled `cinder` and Phoenix's of the same: `None`
/// unless both have a figure above 0 in every run (a run too short to count
/// CPU time reads 0).
fn cinder_better_by(suite: &Suite, cinder: &str, key: &str, better: Better) -> Option<Vec<f64>> {
    let factors = run_by_run(
        &suite.numbers(cinder, key),
        &suite.numbers(&phoenix_label(cinder), key),
        |cinder, phoenix| match better {
            Better::Lower => phoenix / cinder,
            Better::Higher => cinder / phoenix,
        },
    )?;
    factors
        .iter()
        .all(|factor| factor.is_finite() && *factor > 0.0)
        .then_some(factors)
}

/// Which way a measure is better, for [`phoenix_beside_cinder`].
#[derive(Clone, Copy)]
enum Better {
    /// A cost: CPU time, memory, time to deliver.
    Lower,
    /// A rate: setups or pages a second.
    Higher,
}

/// Phoenix beside Cinder, run by run, for each measure both servers have a
/// figure of in every run: how many times better Cinder did, Phoenix's cost
/// over Cinder's and Cinder's rate over Phoenix's. Each of Phoenix's runs
/// follows Cinder's of the same round, in the same spell of the machine.
/// `None` without Phoenix's runs.
fn phoenix_beside_cinder(suite: &Suite) -> Option<String> {
    use Better::{Higher, Lower};
    let measures = [
        (
            "CPU an `inc`",
            Page::Counter.cinder("events"),
            "server_cpu_us_per_event",
            Lower,
        ),
        (
            "CPU a `bump`",
            Page::Rows.cinder("events"),
            "server_cpu_us_per_event",
            Lower,
        ),
        (
            "CPU a `/counter` setup",
            Page::Counter.cinder("setup"),
            "server_cpu_us_per_setup",
            Lower,
        ),
        (
            "CPU a `/rows` setup",
            Page::Rows.cinder("setup"),
            "server_cpu_us_per_setup",
            Lower,
        ),
        (
            "memory a `/counter` session",
            Page::Counter.cinder("held"),
            "server_bytes_per_session",
            Lower,
        ),
        (
            "memory a `/rows` session",
            Page::Rows.cinder("held"),
            "server_bytes_per_session",
            Lower,
        ),
        (
            "`/counter` setups a second",
            Page::Counter.cinder("setup"),
            "setup_per_sec",
            Higher,
        ),
        (
            "`/rows` setups a second",
            Page::Rows.cinder("setup"),
            "setup_per_sec",
            Higher,
        ),
        (
            "`/counter` dead renders a second",
            Page::Counter.cinder("render"),
            "pages_per_sec",
            Higher,
        ),
        (
            "`/rows` dead renders a second",
            Page::Rows.cinder("render"),
            "pages_per_sec",
            Higher,
        ),
        (
            "the broadcast's time",
            CINDER_BROADCAST.to_string(),
            "all_delivered_ms",
            Lower,
        ),
    ];
    let parts: Vec<String> = measures
        .iter()
        .filter_map(|(name, cinder, key, better)| {
            let factors = cinder_better_by(suite, cinder, key, *better)?;
            Some(format!("{name} {}", runs_shown(&factors, 1)))
        })
        .collect();
    run_by_run_line(
        "Phoenix beside Cinder, run by run, in how many times better Cinder did (Phoenix's \
         cost over Cinder's, Cinder's rate over Phoenix's)",
        &parts,
    )
}

/// The machine's settings that move the floor besides its processor: the
/// kernel, its clock source (read on every timer check), its idle driver
/// (which decides what waking an idle core costs) and whether loopback's
/// received packets are steered to other cores (else the sender's core
/// runs the receiver's half of each send).
fn machine_settings() -> String {
    let read = |path: &str| {
        std::fs::read_to_string(path)
            .ok()
            .map(|text| text.trim().to_string())
    };
    describe_settings(
        read("/proc/sys/kernel/osrelease"),
        read("/sys/devices/system/clocksource/clocksource0/current_clocksource"),
        read("/sys/devices/system/cpu/cpuidle/current_driver"),
        read("/sys/class/net/lo/queues/rx-0/rps_cpus"),
    )
}

/// [`machine_settings`] from what was read; what could not be read is left
/// out.
fn describe_settings(
    kernel: Option<String>,
    clock_source: Option<String>,
    idle_driver: Option<String>,
    loopback_steering: Option<String>,
) -> String {
    let steering = loopback_steering.map(|mask| {
        let steered = mask.chars().any(|digit| !matches!(digit, '0' | ',' | ' '));
        if steered {
            format!("loopback's receive steered to cores {mask}")
        } else {
            "loopback's receive on the sending core".to_string()
        }
    });
    let settings: Vec<String> = [
        kernel.map(|kernel| format!("Linux {kernel}")),
        clock_source.map(|source| format!("clock source {source}")),
        idle_driver.map(|driver| format!("idle driver {driver}")),
        steering,
    ]
    .into_iter()
    .flatten()
    .collect();
    if settings.is_empty() {
        "machine settings unknown".into()
    } else {
        settings.join(", ")
    }
}

/// The processor's name, as `/proc/cpuinfo` gives it.
fn processor() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|line| line.strip_prefix("model name"))
                .map(|name| name.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "an unknown processor".into())
}

fn run(options: &Options, tools: Tools) -> Result<Suite, String> {
    let out = options
        .out
        .as_ref()
        .map(|path| {
            std::fs::File::create(path)
                .map_err(|error| format!("cannot write {}: {error}", path.display()))
        })
        .transpose()?;
    let mut suite = Suite {
        cores: Cores::new(options),
        runtime: options.runtime,
        idle: options.idle,
        sizes: options.scale.sizes(),
        tools,
        out,
        summaries: BTreeMap::new(),
        failures: Vec::new(),
        phoenix: options.phoenix.clone(),
    };
    let wanted = |measurement| options.only.contains(&measurement);
    for _ in 0..options.runs {
        for page in [Page::Counter, Page::Rows] {
            if wanted(Measurement::Events) {
                suite.events_run(page);
            }
            if wanted(Measurement::Setup) {
                suite.setup_run(page);
            }
            if wanted(Measurement::Render) {
                suite.render_run(page);
            }
        }
        if wanted(Measurement::Broadcast) {
            suite.broadcast_run();
        }
    }
    for page in [Page::Counter, Page::Rows] {
        if wanted(Measurement::Ramp) {
            suite.ramp_run(page);
        }
        if wanted(Measurement::Held) {
            suite.held_run(page);
        }
    }
    Ok(suite)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if asks_for_help(&args) {
        return print_help(&[ABOUT, USAGE, OPTIONS]);
    }
    let options = match Options::parse(args.into_iter()) {
        Ok(options) => options,
        Err(error) => return usage_error(&error, USAGE),
    };
    if let Some(caution) = options.caution() {
        eprintln!("{caution}");
    }
    let tools = std::env::current_exe()
        .map_err(|error| format!("cannot find this program's own path: {error}"))
        .and_then(|exe| Tools::beside(&exe));
    let suite = match tools.and_then(|tools| run(&options, tools)) {
        Ok(suite) => suite,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "{} at {} scale on {} ({} cores), {}; servers on tokio's {} runtime, one thread; generators {} while idle{}\n",
        match options.runs {
            1 => "1 run".to_string(),
            runs => format!("{runs} runs"),
        },
        match options.scale {
            Scale::Full => "full",
            Scale::Smoke => "smoke (the verdicts say nothing about the goals)",
        },
        processor(),
        std::thread::available_parallelism().map_or(1, usize::from),
        suite.cores.describe(),
        options.runtime.name(),
        match options.idle {
            GeneratorIdle::Sleep => "asleep",
            GeneratorIdle::Spin => "spinning",
        },
        if suite.tools.showcase.is_none() {
            "; no showcase built beside this program, so no broadcast of Cinder's"
        } else {
            ""
        },
    );
    println!("{}\n", machine_settings());
    if let Some(command) = &options.phoenix {
        println!(
            "Phoenix LiveView: `{command}`, measured beside Cinder; in brackets, the figures it was first measured at\n"
        );
    }
    print!("{}", table(&rows(&suite)));
    if let Some(above) = above_paged_floor(&suite) {
        println!("\n{above}");
    }
    if let Some(beside) = phoenix_beside_cinder(&suite) {
        println!("\n{beside}");
    }
    if suite.failures.is_empty() {
        return ExitCode::SUCCESS;
    }
    eprintln!("\nfailed:");
    for failure in &suite.failures {
        eprintln!("- {failure}");
    }
    ExitCode::FAILURE
}

#[cfg(test)]
mod tests {
    use super::*;
    use cinder_bench::options::described_flags;

    #[test]
    fn every_option_the_help_describes_is_read() {
        for flag in described_flags(OPTIONS) {
            let refused = Options::parse([flag, "1"].map(String::from).into_iter())
                .err()
                .unwrap_or_default();
            // `--no-pin` takes no value: its `1` is then the unknown word.
            let unknown = format!("unknown option {flag}");
            assert!(!refused.contains(&unknown), "{flag}: {refused}");
        }
    }

    #[test]
    fn figures_are_grouped_and_ranged() {
        assert_eq!(grouped(10_541.3, 0), "10,541");
        assert_eq!(grouped(123.0, 0), "123");
        assert_eq!(grouped(1_234_567.891, 2), "1,234,567.89");
        assert_eq!(grouped(-4_321.0, 0), "-4,321");
        assert_eq!(range(&[14.04, 16.3, 15.0], 1).as_deref(), Some("14.0–16.3"));
        assert_eq!(range(&[4_155.0, 4_155.2], 0).as_deref(), Some("4,155"));
        assert_eq!(range(&[], 0), None);
    }

    #[test]
    fn a_verdict_counts_the_runs_and_looks_at_the_floor() {
        let within = |us: f64| us <= 8.0;
        assert_eq!(verdict(&[7.0, 7.5], &[9.0], within), "yes");
        assert_eq!(
            verdict(&[12.0, 14.0], &[10.7, 11.5], within),
            "no; the floor misses it too"
        );
        assert_eq!(
            verdict(&[7.0, 9.0], &[6.0, 6.5], within),
            "in 1 of 2 runs; the floor meets it"
        );
        assert_eq!(verdict(&[9.0], &[], within), "no");
        assert_eq!(verdict(&[], &[6.0], within), "not measured");
    }

    /// The summary of one rate of a ramp, every event answered.
    fn ramp_summary(rate: f64, achieved: f64, p99: f64, lag: f64) -> Value {
        json!({"target_rate": rate, "rate_achieved": achieved, "unanswered": 0, "errors": 0,
               "latency": {"p99_ms": p99}, "send_lag": {"p99_ms": lag},
               "server_cpu_us_per_event": 6.2})
    }

    /// The row of an `inc` ramp that made `runs`, against a goal of 90,000.
    fn inc_ramp_row(runs: &[Value]) -> Row {
        inc_ramp_row_beside(runs, &[])
    }

    /// [`inc_ramp_row`] with `phoenix_runs` the ramp of `--phoenix`'s server.
    fn inc_ramp_row_beside(runs: &[Value], phoenix_runs: &[Value]) -> Row {
        let goal = Goal {
            goal: "≥ 90,000 ev/s",
            phoenix: "~18,000 ev/s",
            meets: |rate| rate >= 90_000.0,
        };
        ramp_row(runs, phoenix_runs, "inc", goal)
    }

    #[test]
    fn a_phoenix_ramp_is_shown_beside_cinders_with_their_ratio() {
        let run = |rate, p99| ramp_summary(rate, rate, p99, 0.5);
        let cinder = [
            run(90_000.0, 2.0),
            run(120_000.0, 12.0),
            run(130_000.0, 70.0),
        ];
        let phoenix = [run(14_000.0, 8.0), run(16_000.0, 61.0), run(16_000.0, 75.0)];
        let row = inc_ramp_row_beside(&cinder, &phoenix);
        assert_eq!(
            row.phoenix,
            "14,000 ev/s (p99 8.0 ms, 6.2 µs of server CPU an event); 16,000 ev/s: p99 61.0 and \
             75.0 ms, the generator's send lag p99 0.5 ms (first measured: ~18,000 ev/s)"
        );
        assert_eq!(row.verdict, "yes; 8.6× Phoenix's here");

        // A ramp that served its every rate found only a lower bound.
        let through = inc_ramp_row_beside(&cinder[..2], &phoenix);
        assert_eq!(through.verdict, "yes; at least 8.6× Phoenix's here");
        let phoenix_through = inc_ramp_row_beside(&cinder, &phoenix[..1]);
        assert_eq!(phoenix_through.verdict, "yes; at most 8.6× Phoenix's here");
        let both_through = inc_ramp_row_beside(&cinder[..2], &phoenix[..1]);
        assert_eq!(both_through.verdict, "yes");

        // Phoenix serving none of its rates leaves no ratio.
        let none = inc_ramp_row_beside(&cinder, &phoenix[1..]);
        assert!(
            none.phoenix
                .starts_with("none of the ramp's rates; 16,000 ev/s"),
            "{}",
            none.phoenix
        );
        assert_eq!(none.verdict, "yes");
    }

    #[test]
    fn a_ramp_reports_its_last_rate_served_and_what_stopped_it() {
        let run = |rate, p99, lag| ramp_summary(rate, rate, p99, lag);
        let stopped = inc_ramp_row(&[
            run(60_000.0, 1.5, 0.2),
            run(90_000.0, 36.5, 1.0),
            run(110_000.0, 61.0, 9.3),
        ]);
        assert_eq!(
            stopped.cinder,
            "90,000 ev/s (p99 36.5 ms, 6.2 µs of server CPU an event); 110,000 ev/s: p99 61.0 ms, \
             the generator's send lag p99 9.3 ms"
        );
        assert_eq!(stopped.verdict, "yes");

        let mut unanswered = run(60_000.0, 2.0, 0.1);
        unanswered["unanswered"] = json!(12);
        let short = inc_ramp_row(&[run(30_000.0, 0.4, 0.1), unanswered]);
        assert!(
            short
                .cinder
                .starts_with("30,000 ev/s (p99 0.4 ms, 6.2 µs of server CPU an event); 60,000"),
            "{}",
            short.cinder
        );
        assert_eq!(short.verdict, "no");

        let through = inc_ramp_row(&[run(90_000.0, 2.0, 0.1)]);
        assert!(
            through.cinder.ends_with("the ramp's highest rate"),
            "{}",
            through.cinder
        );
        assert_eq!(inc_ramp_row(&[]).verdict, "not measured");
    }

    #[test]
    fn a_rate_missed_once_is_served_by_a_second_run_and_named() {
        let run = |rate, p99| ramp_summary(rate, rate, p99, 0.5);
        let row = inc_ramp_row(&[
            run(60_000.0, 63.4),
            run(60_000.0, 1.0),
            run(90_000.0, 2.9),
            run(100_000.0, 15.8),
            run(110_000.0, 72.1),
            run(110_000.0, 84.5),
        ]);
        assert_eq!(
            row.cinder,
            "100,000 ev/s (p99 15.8 ms, 6.2 µs of server CPU an event); served at a second run: \
             60,000 ev/s (first run p99 63.4 ms); 110,000 ev/s: p99 72.1 and 84.5 ms, the \
             generator's send lag p99 0.5 ms"
        );
        assert_eq!(row.verdict, "yes");

        // A rate served at its first run shows that run, however many
        // follow it in the list.
        let once = inc_ramp_row(&[run(90_000.0, 3.0), run(100_000.0, 51.0)]);
        assert!(
            once.cinder.starts_with("90,000 ev/s (p99 3.0 ms"),
            "{}",
            once.cinder
        );
        assert!(!once.cinder.contains("second run"), "{}", once.cinder);
    }

    #[test]
    fn a_ramp_that_outruns_its_generator_says_so() {
        let run = |rate, achieved, lag| ramp_summary(rate, achieved, 4.0, lag);
        let late = inc_ramp_row(&[
            run(150_000.0, 149_990.0, 2.0),
            run(160_000.0, 159_000.0, 75.0),
        ]);
        assert_eq!(
            late.cinder,
            "150,000 ev/s (p99 4.0 ms, 6.2 µs of server CPU an event); at 160,000 ev/s the \
             generator fell behind its schedule first (send lag p99 75.0 ms, 159,000 ev/s answered)"
        );
        assert_eq!(late.verdict, "yes");

        // Sends on time but too few of them is a schedule not kept either.
        let short = inc_ramp_row(&[run(170_000.0, 120_000.0, 1.0)]);
        assert!(
            short
                .cinder
                .starts_with("none of the ramp's rates; at 170,000 ev/s the generator fell behind"),
            "{}",
            short.cinder
        );
        assert_eq!(short.verdict, "no");
    }

    #[test]
    fn a_ramp_goes_on_past_its_list_in_its_last_step() {
        let rates = |listed: &[usize], extra| ramp_rates(listed, extra).collect::<Vec<_>>();
        assert_eq!(rates(&[60, 90, 100], 3), [60, 90, 100, 110, 120, 130]);
        assert_eq!(rates(&[200], 2), [200, 400, 600]);
        assert_eq!(rates(&[50, 50], 4), [50, 50]);
        assert_eq!(rates(&[], 4), Vec::<usize>::new());
    }

    #[test]
    fn cinder_above_the_floor_pairs_the_runs_of_each_round() {
        assert_eq!(
            run_by_run_differences(&[12.5, 11.0, 13.25], &[10.0, 11.5, 9.25]),
            Some(vec![2.5, -0.5, 4.0])
        );
        // A run missing from either side leaves nothing to pair.
        assert_eq!(run_by_run_differences(&[12.5, 11.0], &[10.0]), None);
        assert_eq!(run_by_run_differences(&[], &[]), None);
    }

    /// A suite at smoke scale that has run nothing yet.
    fn suite_without_runs() -> Suite {
        Suite {
            tools: Tools {
                server: PathBuf::new(),
                loadgen: PathBuf::new(),
                floor: PathBuf::new(),
                showcase: None,
            },
            cores: Cores::new(&Options::parse(std::iter::empty()).unwrap()),
            runtime: RuntimeFlavor::MultiThread,
            idle: GeneratorIdle::Sleep,
            sizes: Scale::Smoke.sizes(),
            out: None,
            summaries: BTreeMap::new(),
            failures: Vec::new(),
            phoenix: None,
        }
    }

    #[test]
    fn phoenix_runs_are_labelled_as_cinders_with_its_name() {
        assert_eq!(
            phoenix_label(&Page::Rows.cinder("events")),
            Page::Rows.phoenix("events")
        );
        assert_eq!(phoenix_label(CINDER_BROADCAST), "phoenix broadcast /chat");
    }

    #[test]
    fn the_phoenix_column_shows_what_phoenix_measured_beside_its_first_figures() {
        let mut suite = suite_without_runs();
        let cell = |suite: &Suite, measure: &str| {
            rows(suite)
                .into_iter()
                .find(|row| row.measure.starts_with(measure))
                .unwrap_or_else(|| panic!("no row {measure}"))
                .phoenix
        };
        assert_eq!(cell(&suite, "server CPU per `bump`"), "~130 µs");
        for cpu in [141.3, 150.0] {
            suite.keep(
                &Page::Rows.phoenix("events"),
                json!({ "server_cpu_us_per_event": cpu }),
            );
        }
        assert_eq!(
            cell(&suite, "server CPU per `bump`"),
            "141.3–150.0 µs (first measured: ~130 µs)"
        );
        suite.keep(
            &Page::Counter.phoenix("held"),
            json!({ "sessions_joined": 200, "failures": 0, "closed_while_held": 0 }),
        );
        assert_eq!(
            cell(&suite, "sessions held"),
            "200 (first measured: 19,500)"
        );
        suite.keep(
            &Page::Counter.phoenix("events"),
            json!({ "bytes_per_reply": 95.0 }),
        );
        suite.keep(
            &Page::Counter.phoenix("setup"),
            json!({ "join_reply_bytes": 201.0, "page_bytes": 921.0 }),
        );
        assert_eq!(
            cell(&suite, "reply / join reply / first HTML, `/counter`"),
            "95 / 201 / 921 B (first measured: 96 / 203 / 1,461 B)"
        );
        // Phoenix was first measured without a broadcast.
        suite.keep(
            &phoenix_label(CINDER_BROADCAST),
            json!({ "all_delivered_ms": 1_350.0 }),
        );
        assert_eq!(cell(&suite, "broadcast on `/chat`"), "1,350 ms");
        // Without a ramp of Phoenix's, its first figure.
        assert_eq!(
            cell(&suite, "highest rate with p99 ≤ 50 ms, `bump`"),
            "~6,000 ev/s"
        );
    }

    /// The table's row of `/rows`'s session setup.
    fn rows_setup_row(suite: &Suite) -> Row {
        rows(suite)
            .into_iter()
            .find(|row| row.measure.starts_with("session setup, `/rows`"))
            .expect("the setup row")
    }

    #[test]
    fn a_setup_row_says_what_a_setup_cost_each_core() {
        let cell = |suite: &Suite| rows_setup_row(suite).cinder;
        let mut suite = suite_without_runs();
        suite.keep(
            &Page::Rows.cinder("setup"),
            json!({ "setup_per_sec": 8_058.8 }),
        );
        // Without the CPU figures (no server's process to read), the rate alone.
        assert_eq!(cell(&suite), "8,059 /s");
        for (rate, server, generator) in [(9_000.0, 114.0, 88.0), (11_555.7, 82.0, 66.0)] {
            suite.keep(
                &Page::Rows.cinder("setup"),
                json!({
                    "setup_per_sec": rate,
                    "server_cpu_us_per_setup": server,
                    "generator_cpu_us_per_setup": generator,
                }),
            );
        }
        assert_eq!(
            cell(&suite),
            "8,059–11,556 /s (CPU a setup: the server 82–114 µs, the generator 66–88)"
        );
        suite.keep(
            &Page::Rows.cinder("setup"),
            json!({
                "setup_per_sec": 9_500.0,
                "server_cpu_us_per_setup": 100.0,
                "generator_cpu_us_per_setup": 70.0,
                "server_page_faults_per_setup": 4.4552,
                "generator_page_faults_per_setup": 3.36,
            }),
        );
        assert_eq!(
            cell(&suite),
            "8,059–11,556 /s (CPU a setup: the server 82–114 µs, the generator 66–88; \
             page faults a setup: the server 4.5, the generator 3.4)"
        );
    }

    #[test]
    fn the_setup_row_gives_the_floors_page_faults_beside_its_rate() {
        let floor_cell = |suite: &Suite| rows_setup_row(suite).floor;
        let mut suite = suite_without_runs();
        suite.keep(
            &Page::Rows.floor("setup"),
            json!({ "setup_per_sec": 18_000.0 }),
        );
        assert_eq!(floor_cell(&suite), "18,000 /s");
        suite.keep(
            &Page::Rows.floor("setup"),
            json!({ "setup_per_sec": 20_000.0, "server_page_faults_per_setup": 2.12 }),
        );
        assert_eq!(
            floor_cell(&suite),
            "18,000–20,000 /s (page faults a setup: 2.1)"
        );
    }

    #[test]
    fn the_bytes_goal_is_judged_against_phoenix_measured_beside_cinder() {
        let verdict = |suite: &Suite, page: Page| {
            let measure = format!("reply / join reply / first HTML, `{}`", page.path());
            rows(suite)
                .into_iter()
                .find(|row| row.measure == measure)
                .expect("the bytes row")
                .verdict
        };
        let mut suite = suite_without_runs();
        keep_bytes(&mut suite, CINDER, Page::Counter, [95.0, 189.0, 1_045.0]);
        // Within Phoenix's first figures, 96 / 203 / 1,461 B.
        assert_eq!(verdict(&suite, Page::Counter), "yes");
        keep_bytes(&mut suite, PHOENIX, Page::Counter, [95.0, 201.0, 954.0]);
        // A page larger than the one Phoenix served beside it.
        assert_eq!(verdict(&suite, Page::Counter), "no");

        // Replies the same to the byte, their averages apart by a fraction.
        let mut suite = suite_without_runs();
        keep_bytes(&mut suite, CINDER, Page::Rows, [122.76, 6_106.0, 7_385.0]);
        keep_bytes(&mut suite, PHOENIX, Page::Rows, [122.64, 6_122.0, 7_858.0]);
        assert_eq!(verdict(&suite, Page::Rows), "yes");
    }

    /// Keeps a run of `server`'s events and one of its setups on `page`,
    /// with its reply, join reply and page bytes.
    fn keep_bytes(suite: &mut Suite, server: &str, page: Page, [reply, join, html]: [f64; 3]) {
        suite.keep(
            &run_label(server, &page.measured("events")),
            json!({ "bytes_per_reply": reply }),
        );
        suite.keep(
            &run_label(server, &page.measured("setup")),
            json!({ "join_reply_bytes": join, "page_bytes": html }),
        );
    }

    /// Keeps, round by round, a run of each pair's figures of `key` under
    /// the two `labels`: Cinder's, then the server's that follows it.
    fn keep_paired_runs(suite: &mut Suite, labels: [&str; 2], key: &str, runs: &[(f64, f64)]) {
        for (cinder, other) in runs {
            suite.keep(labels[0], json!({ key: cinder }));
            suite.keep(labels[1], json!({ key: other }));
        }
    }

    #[test]
    fn the_suite_says_what_cinder_adds_above_the_paged_floor() {
        let mut suite = suite_without_runs();
        assert_eq!(above_paged_floor(&suite), None);
        keep_paired_runs(
            &mut suite,
            [
                &Page::Rows.cinder("events"),
                &Page::Rows.paged_floor("events"),
            ],
            "server_cpu_us_per_event",
            &[(12.4, 10.0), (11.0, 11.1)],
        );
        keep_paired_runs(
            &mut suite,
            [
                CINDER_BROADCAST,
                &FloorShape::TaskPerPage.run_label("broadcast"),
            ],
            "all_delivered_ms",
            &[(1_250.0, 190.0)],
        );
        assert_eq!(
            above_paged_floor(&suite).unwrap(),
            "Cinder above the floor with a task per page, run by run: \
             `bump` 2.4, -0.1 µs; the broadcast 1,060 ms."
        );
    }

    #[test]
    fn the_suite_says_how_many_times_better_cinder_did_than_phoenix() {
        let mut suite = suite_without_runs();
        assert_eq!(phoenix_beside_cinder(&suite), None);
        keep_paired_runs(
            &mut suite,
            [
                &Page::Counter.cinder("events"),
                &Page::Counter.phoenix("events"),
            ],
            "server_cpu_us_per_event",
            &[(10.0, 41.0), (12.5, 50.0)],
        );
        keep_paired_runs(
            &mut suite,
            [&Page::Rows.cinder("render"), &Page::Rows.phoenix("render")],
            "pages_per_sec",
            &[(90_000.0, 4_500.0)],
        );
        // Cinder's broadcast without Phoenix's, and a setup whose CPU
        // time read 0: neither gives a factor.
        suite.keep(CINDER_BROADCAST, json!({ "all_delivered_ms": 180.0 }));
        keep_paired_runs(
            &mut suite,
            [&Page::Rows.cinder("setup"), &Page::Rows.phoenix("setup")],
            "server_cpu_us_per_setup",
            &[(0.0, 1_238.0)],
        );
        assert_eq!(
            phoenix_beside_cinder(&suite).unwrap(),
            "Phoenix beside Cinder, run by run, in how many times better Cinder did (Phoenix's \
             cost over Cinder's, Cinder's rate over Phoenix's): CPU an `inc` 4.1, 4.0; \
             `/rows` dead renders a second 20.0."
        );
    }

    #[test]
    fn the_machine_settings_name_what_was_read() {
        assert_eq!(
            describe_settings(
                Some("6.18.44".into()),
                Some("tsc".into()),
                Some("haltpoll".into()),
                Some("0".into()),
            ),
            "Linux 6.18.44, clock source tsc, idle driver haltpoll, \
             loopback's receive on the sending core"
        );
        assert_eq!(
            describe_settings(
                None,
                Some("kvm-clock".into()),
                None,
                Some("00000002".into())
            ),
            "clock source kvm-clock, loopback's receive steered to cores 00000002"
        );
        assert_eq!(
            describe_settings(None, None, None, Some("00000000,00000000".into())),
            "loopback's receive on the sending core"
        );
        assert_eq!(
            describe_settings(None, None, None, None),
            "machine settings unknown"
        );
    }

    #[test]
    fn a_summary_number_is_found_by_its_path() {
        let summary = json!({"latency": {"p99_ms": 0.42}, "replies": 10});
        assert_eq!(number(&summary, "latency.p99_ms"), Some(0.42));
        assert_eq!(number(&summary, "replies"), Some(10.0));
        assert_eq!(number(&summary, "latency.p50_ms"), None);
        assert_eq!(number(&summary, "missing.key"), None);
    }

    #[test]
    fn options_that_cannot_be_run_are_refused() {
        let parse = |args: &[&str]| Options::parse(args.iter().map(|arg| arg.to_string()));
        assert!(parse(&[]).is_ok_and(|options| options.runs == 3 && options.pin));
        assert!(parse(&["--runs", "0"]).is_err());
        assert!(parse(&["--scale", "huge"]).is_err());
        assert!(parse(&["--server-core", "1"]).is_err());
        assert!(parse(&["--server-core", "1", "--no-pin"]).is_ok());
        assert!(parse(&["--runs"]).is_err());
        assert!(parse(&["--only", "setup,ramp"])
            .is_ok_and(|options| options.only == [Measurement::Setup, Measurement::Ramp]));
        assert!(parse(&["--only", "cpu"]).is_err());
        assert!(parse(&["--runtime", "current-thread"])
            .is_ok_and(|options| options.runtime == RuntimeFlavor::CurrentThread));
        assert!(parse(&[]).is_ok_and(|options| options.runtime == RuntimeFlavor::MultiThread));
        assert!(parse(&["--runtime", "green"]).is_err());
        assert!(parse(&[]).is_ok_and(|options| options.idle == GeneratorIdle::Sleep));
        assert!(parse(&["--idle", "spin"]).is_ok_and(|options| options.idle == GeneratorIdle::Spin));
        assert!(parse(&["--idle", "nap"]).is_err());
        assert!(
            parse(&["--idle", "spin", "--no-pin"]).is_ok_and(|options| options
                .caution()
                .is_some_and(|c| c.contains("drop --no-pin")))
        );
        assert!(parse(&["--idle", "spin"]).is_ok_and(|options| options.caution().is_none()));
        assert!(parse(&["--no-pin"]).is_ok_and(|options| options.caution().is_none()));
        assert!(parse(&["--only", "setup,"]).is_err());
        assert!(parse(&["--threads", "2"]).is_err());
        assert!(parse(&[]).is_ok_and(|options| options.phoenix.is_none()));
        assert!(parse(&["--phoenix", "exec server"])
            .is_ok_and(|options| options.phoenix.as_deref() == Some("exec server")));
        assert!(parse(&["--phoenix"]).is_err());
    }
}
