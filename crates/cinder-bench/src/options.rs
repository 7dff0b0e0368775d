//! Reading the load tools' command-line values, with errors that name the
//! flag, each tool's `--help`, and the runtime a server's `--runtime` names.

use std::collections::BTreeSet;
use std::process::ExitCode;
use std::time::Duration;

/// `value` of `flag` as a `T`.
pub fn parse<T: std::str::FromStr>(flag: &str, value: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| format!("{flag}: cannot read {value:?}"))
}

/// `value` of `flag` as a duration in (possibly fractional) seconds.
pub fn seconds(flag: &str, value: &str) -> Result<Duration, String> {
    let seconds: f64 = parse(flag, value)?;
    Duration::try_from_secs_f64(seconds).map_err(|_| format!("{flag}: {value} is not a duration"))
}

/// Prints `error` and the tool's `usage`; the exit code of a command line
/// the tool cannot run.
pub fn usage_error(error: &str, usage: &str) -> ExitCode {
    eprintln!("{error}\n\n{usage}\n{HELP_HINT}");
    ExitCode::from(2)
}

/// What a refused command line ends with: where to read more.
const HELP_HINT: &str = "(--help says what each mode and option does)";

/// Whether `args` (the words after the program's name) ask for the tool's
/// help rather than a run: `--help` or `-h` among them, or `help` first.
///
/// ```
/// use cinder_bench::options::asks_for_help;
///
/// let words = |line: &str| line.split(' ').map(String::from).collect::<Vec<_>>();
/// assert!(asks_for_help(&words("events --help")));
/// assert!(asks_for_help(&words("help")));
/// assert!(!asks_for_help(&words("events --rate 100")));
/// ```
pub fn asks_for_help(args: &[String]) -> bool {
    args.first().is_some_and(|first| first == "help")
        || args.iter().any(|arg| arg == "--help" || arg == "-h")
}

/// Prints a tool's help on stdout, its sections a blank line apart; the
/// exit code of a command line that did what it asked.
pub fn print_help(sections: &[&str]) -> ExitCode {
    println!("{}", sections.join("\n\n"));
    ExitCode::SUCCESS
}

/// The flags a help text describes: the first word of each of its lines
/// that starts, after its indent, with `--`.
///
/// ```
/// use cinder_bench::options::described_flags;
///
/// let help = "options:\n  --rate N  events a second\n            over --sessions";
/// assert_eq!(described_flags(help).collect::<Vec<_>>(), ["--rate"]);
/// ```
pub fn described_flags(help: &str) -> impl Iterator<Item = &str> {
    help.lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|word| word.starts_with("--"))
}

/// The flags a usage text names for `mode`: those on its lines that run
/// that mode, such as `cinder-floor serve [--port 4300]`.
///
/// ```
/// use cinder_bench::options::flags_in_usage;
///
/// let usage = "usage: cinder-floor serve [--port 4300] [--tasks 1|2]
///        cinder-floor events [--rate N]";
/// assert_eq!(flags_in_usage(usage, "serve"), ["--port", "--tasks"].into());
/// ```
pub fn flags_in_usage<'a>(usage: &'a str, mode: &str) -> BTreeSet<&'a str> {
    let runs_mode = |line: &&str| {
        let mut words = line
            .split_whitespace()
            .skip_while(|word| !word.starts_with("cinder"));
        words.nth(1) == Some(mode)
    };
    usage
        .lines()
        .filter(runs_mode)
        .flat_map(flags_named)
        .collect()
}

/// The `--flags` a text names, wherever they stand in it.
///
/// ```
/// use cinder_bench::options::flags_named;
///
/// let usage = "usage: cinder-loadgen render [--connections N] [--event inc|bump]";
/// assert_eq!(flags_named(usage).collect::<Vec<_>>(), ["--connections", "--event"]);
/// ```
pub fn flags_named(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .filter(|word| word.starts_with("--"))
}

/// Where a tool's three accounts of which modes read which option differ:
/// its usage lines (`usage`), its table (`modes_reading`, asked for each
/// option `help` describes) and its parser (`refusal`: the error, if any,
/// for a command line of a mode and one option with the value `1`). Empty
/// when they agree; each tool's tests ask.
pub fn disagreements_on_readers(
    usage: &str,
    help: &str,
    modes: &[&str],
    modes_reading: fn(&str) -> Option<&'static [&'static str]>,
    refusal: impl Fn(&str, &str) -> Option<String>,
) -> Vec<String> {
    let usage_flags: Vec<BTreeSet<&str>> = modes
        .iter()
        .map(|mode| flags_in_usage(usage, mode))
        .collect();
    let mut disagreements = Vec::new();
    for flag in described_flags(help) {
        let Some(readers) = modes_reading(flag) else {
            disagreements.push(format!("no mode reads {flag}"));
            continue;
        };
        for (&mode, usage_flags) in modes.iter().zip(&usage_flags) {
            let refused = refusal(mode, flag).unwrap_or_default();
            let parsed_as_read = !refused.contains("does not read") && !refused.contains("unknown");
            let in_usage = usage_flags.contains(flag);
            let in_table = readers.contains(&mode);
            if parsed_as_read != in_table || in_usage != in_table {
                disagreements.push(format!(
                    "{mode} {flag}: read by the table {in_table}, named by the usage \
                     {in_usage}, parsed {refused:?}"
                ));
            }
        }
    }
    disagreements
}

/// Refuses `flag` on a command line of `mode` unless `mode` is among
/// `readers`, the modes that read it: a run that ignored an option would
/// measure something other than what its command line says.
///
/// ```
/// use cinder_bench::options::refuse_unless_read;
///
/// assert!(refuse_unless_read("events", "--rate", &["events"]).is_ok());
/// assert_eq!(
///     refuse_unless_read("render", "--sessions", &["connect", "events"]).unwrap_err(),
///     "render does not read --sessions: only connect and events do"
/// );
/// ```
pub fn refuse_unless_read(mode: &str, flag: &str, readers: &[&str]) -> Result<(), String> {
    if readers.contains(&mode) {
        return Ok(());
    }
    let (last, others) = readers.split_last().unwrap_or((&"no mode", &[]));
    let (modes, verb) = match others {
        [] => (last.to_string(), "does"),
        _ => (format!("{} and {last}", others.join(", ")), "do"),
    };
    Err(format!("{mode} does not read {flag}: only {modes} {verb}"))
}

/// Why a setup or a page that waited `timeout` (the tool's `--timeout`)
/// for the server failed.
pub fn no_answer(timeout: Duration) -> String {
    format!(
        "no answer from the server within {} s (--timeout)",
        timeout.as_secs_f64()
    )
}

/// The kind of tokio runtime a server runs on (`--runtime`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuntimeFlavor {
    /// tokio's multi-thread runtime, with a given number of worker threads.
    MultiThread,
    /// tokio's current-thread runtime: everything runs on the thread that
    /// starts it.
    CurrentThread,
}

impl RuntimeFlavor {
    /// The flavor `--runtime` names: `multi-thread` or `current-thread`.
    pub fn named(value: &str) -> Result<RuntimeFlavor, String> {
        match value {
            "multi-thread" => Ok(RuntimeFlavor::MultiThread),
            "current-thread" => Ok(RuntimeFlavor::CurrentThread),
            _ => Err(format!(
                "--runtime takes multi-thread or current-thread, not {value:?}"
            )),
        }
    }

    /// Its name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            RuntimeFlavor::MultiThread => "multi-thread",
            RuntimeFlavor::CurrentThread => "current-thread",
        }
    }

    /// A runtime of this flavor, with `workers` worker threads if it is a
    /// multi-thread one.
    pub fn build(self, workers: usize) -> tokio::runtime::Runtime {
        let mut builder = match self {
            RuntimeFlavor::CurrentThread => tokio::runtime::Builder::new_current_thread(),
            RuntimeFlavor::MultiThread => {
                let mut builder = tokio::runtime::Builder::new_multi_thread();
                builder.worker_threads(workers);
                builder
            }
        };
        builder
            .enable_all()
            .build()
            .expect("the tokio runtime starts")
    }
}

/// How a load generator's thread waits while none of its sockets is
/// ready (`--idle`).
///
/// On loopback, the server's send runs the generator's receive on the
/// server's core: when the generator sleeps in the kernel, that send also
/// wakes it, and the wake-up (on a virtual machine, often a message to an
/// idle core that costs the sender an exit to the hypervisor) is counted in
/// the server's CPU time. A client on another machine costs the server no
/// such wake-up. `Spin` keeps the generator awake, polling its sockets
/// without blocking, which shows what the server's own work costs without
/// it.
///
/// ```
/// use cinder_bench::options::GeneratorIdle;
///
/// let answer = GeneratorIdle::Spin.block_on(async { 6 * 7 });
/// assert_eq!(answer, 42);
/// assert_eq!(GeneratorIdle::named("sleep"), Ok(GeneratorIdle::Sleep));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum GeneratorIdle {
    /// Blocks in the kernel until a socket is ready or a timer is due.
    #[default]
    Sleep,
    /// Never blocks: asks the kernel which sockets are ready without
    /// waiting, again and again, on a core of its own.
    Spin,
}

impl GeneratorIdle {
    /// The way `--idle` names: `sleep` or `spin`.
    pub fn named(value: &str) -> Result<GeneratorIdle, String> {
        match value {
            "sleep" => Ok(GeneratorIdle::Sleep),
            "spin" => Ok(GeneratorIdle::Spin),
            _ => Err(format!("--idle takes sleep or spin, not {value:?}")),
        }
    }

    /// Its name on the command line and in a run's summary.
    pub fn name(self) -> &'static str {
        match self {
            GeneratorIdle::Sleep => "sleep",
            GeneratorIdle::Spin => "spin",
        }
    }

    /// Runs `run` to its end on a current-thread runtime that waits this
    /// way.
    pub fn block_on<F: std::future::Future>(self, run: F) -> F::Output {
        let runtime = RuntimeFlavor::CurrentThread.build(1);
        match self {
            GeneratorIdle::Sleep => runtime.block_on(run),
            GeneratorIdle::Spin => runtime.block_on(async {
                let spinner = tokio::spawn(keep_awake());
                let output = run.await;
                spinner.abort();
                output
            }),
        }
    }
}

/// A task that is always ready: a current-thread runtime with a yielded
/// task polls its sockets and timers without blocking before it runs the
/// task again, so it never sleeps in the kernel.
async fn keep_awake() {
    loop {
        tokio::task::yield_now().await;
    }
}

#[cfg(test)]
mod tests {
    use super::{GeneratorIdle, RuntimeFlavor};

    #[test]
    fn a_runtime_flavor_is_read_back_from_its_name() {
        for flavor in [RuntimeFlavor::MultiThread, RuntimeFlavor::CurrentThread] {
            assert_eq!(RuntimeFlavor::named(flavor.name()), Ok(flavor));
        }
        assert!(RuntimeFlavor::named("threads")
            .unwrap_err()
            .contains("multi-thread or current-thread"));
    }

    #[test]
    fn a_generator_idle_is_read_back_from_its_name() {
        for idle in [GeneratorIdle::Sleep, GeneratorIdle::Spin] {
            assert_eq!(GeneratorIdle::named(idle.name()), Ok(idle));
        }
        assert!(GeneratorIdle::named("poll")
            .unwrap_err()
            .contains("sleep or spin"));
    }

    #[test]
    fn a_spinning_generator_still_wakes_for_timers_and_sockets() {
        let waited = GeneratorIdle::Spin.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let client = tokio::spawn(async move {
                use tokio::io::AsyncWriteExt;
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
                stream.write_all(b"ping").await.unwrap();
            });
            let started = std::time::Instant::now();
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut read = [0; 4];
            tokio::io::AsyncReadExt::read_exact(&mut stream, &mut read)
                .await
                .unwrap();
            client.await.unwrap();
            (read, started.elapsed())
        });
        assert_eq!(&waited.0, b"ping");
        assert!(waited.1 >= std::time::Duration::from_millis(20));
    }

    /// How many times this thread has blocked in the kernel.
    fn voluntary_switches() -> u64 {
        let status = std::fs::read_to_string("/proc/thread-self/status").unwrap();
        let line = status
            .lines()
            .find(|line| line.starts_with("voluntary_ctxt_switches:"))
            .unwrap();
        line.split_whitespace().last().unwrap().parse().unwrap()
    }

    #[test]
    fn a_spinning_generator_never_blocks_in_the_kernel_and_a_sleeping_one_does() {
        let blocked_while_waiting = |idle: GeneratorIdle| {
            idle.block_on(async {
                let before = voluntary_switches();
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                voluntary_switches() - before
            })
        };
        assert!(blocked_while_waiting(GeneratorIdle::Sleep) > 0);
        assert_eq!(blocked_while_waiting(GeneratorIdle::Spin), 0);
    }
}
