//! A cross-check against the official client: diffs replayed through
//! `phoenix_live_view`'s own `Rendered` class in node (the repository's
//! `assets/merge-oracle.mjs`), compared step by step with [`ClientTree`].
//!
//! It needs `node` and the npm packages in `assets/node_modules`
//! (`npm ci --prefix assets`). [`Oracle::locate`] says what is missing.
//!
//! ```no_run
//! use cinder_test::oracle::Oracle;
//! use serde_json::json;
//!
//! let oracle = Oracle::locate().expect("node and assets/node_modules");
//! oracle
//!     .check("phx-1", &[json!({"0": "1", "s": ["<p>", "</p>"]}), json!({"0": "2"})])
//!     .unwrap();
//! ```

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{json, Value};

use crate::tree::{self, ClientTree};

/// The official client, run in node.
#[derive(Debug, Clone)]
pub struct Oracle {
    script: PathBuf,
}

/// What the official client showed after one diff.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// The view's HTML, in full, without magic ids.
    pub html: String,
    /// The streams the render reported.
    pub streams: Vec<Value>,
}

impl Oracle {
    /// Finds `assets/merge-oracle.mjs` above the crate being tested (or the
    /// current directory), and checks that node and the npm packages are
    /// there. The error says what is missing and how to get it.
    pub fn locate() -> Result<Oracle, String> {
        let start = std::env::var_os("CARGO_MANIFEST_DIR")
            .map(PathBuf::from)
            .or_else(|| std::env::current_dir().ok())
            .unwrap_or_default();
        let assets = start
            .ancestors()
            .map(|dir| dir.join("assets"))
            .find(|assets| assets.join("merge-oracle.mjs").is_file())
            .ok_or_else(|| {
                format!(
                    "no assets/merge-oracle.mjs in {} or above it",
                    start.display()
                )
            })?;
        for package in ["phoenix_live_view/assets/js", "esbuild"] {
            if !assets.join("node_modules").join(package).exists() {
                return Err(format!(
                    "{} is missing: run `npm ci --prefix {}`",
                    assets.join("node_modules").join(package).display(),
                    assets.display()
                ));
            }
        }
        match Command::new("node").arg("--version").output() {
            Ok(output) if output.status.success() => {}
            _ => return Err("`node` is not on PATH; install Node.js 18 or later".into()),
        }
        Ok(Oracle {
            script: assets.join("merge-oracle.mjs"),
        })
    }

    /// The script this oracle runs.
    pub fn script(&self) -> &Path {
        &self.script
    }

    /// Replays each sequence of diffs (`(view id, diffs)`, the join's
    /// rendered tree first) and returns the client's steps for each, or the
    /// client's error with the index of the diff it threw on.
    #[allow(clippy::type_complexity)]
    pub fn replay(
        &self,
        cases: &[(String, Vec<Value>)],
    ) -> Result<Vec<Result<Vec<Step>, (usize, String)>>, String> {
        let mut node = Command::new("node")
            .arg(&self.script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|error| format!("starting node: {error}"))?;
        let mut stdin = node.stdin.take().ok_or("node has no stdin")?;
        let lines: Vec<String> = cases
            .iter()
            .enumerate()
            .map(|(id, (view, diffs))| json!({"id": id, "view": view, "diffs": diffs}).to_string())
            .collect();
        let writer = std::thread::spawn(move || {
            for line in lines {
                if writeln!(stdin, "{line}").is_err() {
                    break;
                }
            }
        });
        let stdout = node.stdout.take().ok_or("node has no stdout")?;
        let mut answers = Vec::new();
        for line in BufReader::new(stdout).lines().take(cases.len()) {
            let line = line.map_err(|error| format!("reading node's answer: {error}"))?;
            let answer: Value = serde_json::from_str(&line)
                .map_err(|error| format!("node's answer is not JSON ({error}): {line}"))?;
            answers.push(decode(&answer));
        }
        let _ = writer.join();
        let _ = node.kill();
        let _ = node.wait();
        if answers.len() != cases.len() {
            return Err(format!(
                "node answered {} of {} cases",
                answers.len(),
                cases.len()
            ));
        }
        Ok(answers)
    }

    /// Replays `diffs` through the official client and through
    /// [`ClientTree`], and fails with the first step where they differ:
    /// in HTML, in streams, or in whether the diff could be applied.
    pub fn check(&self, view: &str, diffs: &[Value]) -> Result<(), String> {
        let mut answers = self.replay(&[(view.to_string(), diffs.to_vec())])?;
        compare(view, diffs, answers.remove(0))
    }
}

fn decode(answer: &Value) -> Result<Vec<Step>, (usize, String)> {
    if let Some(error) = answer.get("error") {
        let step = answer.get("step").and_then(Value::as_u64).unwrap_or(0) as usize;
        return Err((step, error.as_str().unwrap_or_default().to_string()));
    }
    Ok(answer
        .get("steps")
        .and_then(Value::as_array)
        .map(|steps| {
            steps
                .iter()
                .map(|step| Step {
                    html: step["html"].as_str().unwrap_or_default().to_string(),
                    streams: step["streams"].as_array().cloned().unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default())
}

/// Compares the harness's merge of `diffs` with the client's answer.
pub fn compare(
    view: &str,
    diffs: &[Value],
    client: Result<Vec<Step>, (usize, String)>,
) -> Result<(), String> {
    let mut tree: Option<ClientTree> = None;
    for (index, diff) in diffs.iter().enumerate() {
        let ours = (|| {
            let extracted = tree::extract(diff.clone());
            match &mut tree {
                Some(tree) => tree.merge(extracted.diff)?,
                None => tree = Some(ClientTree::new(view, extracted.diff)?),
            }
            tree.as_mut().map(ClientTree::render).transpose()
        })();
        match (&client, ours) {
            (Err((step, _)), Err(_)) if *step == index => return Ok(()),
            (Err((step, error)), Ok(_)) if *step == index => {
                return Err(format!(
                    "diff {index} ({diff}): the client throws ({error}) but the harness applied it"
                ))
            }
            (_, Err(error)) => {
                return Err(format!(
                    "diff {index} ({diff}): the harness failed ({error}) but the client applied it"
                ))
            }
            (Ok(steps), Ok(Some(rendering))) => {
                let Some(step) = steps.get(index) else {
                    return Err(format!("the client gave no step {index}"));
                };
                if step.html != rendering.html {
                    return Err(format!(
                        "diff {index} ({diff}):\n client:  {}\n harness: {}",
                        step.html, rendering.html
                    ));
                }
                if step.streams != rendering.streams {
                    return Err(format!(
                        "diff {index} ({diff}): streams differ:\n client:  {:?}\n harness: {:?}",
                        step.streams, rendering.streams
                    ));
                }
            }
            (Err(_), Ok(_)) | (Ok(_), Ok(None)) => {}
        }
    }
    Ok(())
}
