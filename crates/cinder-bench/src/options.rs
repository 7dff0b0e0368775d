//! Reading the load tools' command-line values, with errors that name the
//! flag, and the runtime a server's `--runtime` names.

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
    eprintln!("{error}\n\n{usage}");
    ExitCode::from(2)
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
