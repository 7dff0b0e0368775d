//! Reading the load tools' command-line values, with errors that name the
//! flag.

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
