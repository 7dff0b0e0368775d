//! Reading the load tools' command-line values, with errors that name the
//! flag, each tool's `--help`, and the runtime a server's `--runtime` names.

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

#[cfg(test)]
mod tests {
    use super::RuntimeFlavor;

    #[test]
    fn a_runtime_flavor_is_read_back_from_its_name() {
        for flavor in [RuntimeFlavor::MultiThread, RuntimeFlavor::CurrentThread] {
            assert_eq!(RuntimeFlavor::named(flavor.name()), Ok(flavor));
        }
        assert!(RuntimeFlavor::named("threads")
            .unwrap_err()
            .contains("multi-thread or current-thread"));
    }
}
