//! Runs cases through `assets/oracle.mjs`, the official client's `Rendered`
//! code in node; shared by the oracle tests, each of which uses a part.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::{json, Value};

/// Runs `cases` (one JSON line each) through the client in one node
/// process; returns the answers that are not `ok`.
pub fn run_oracle(cases: Vec<String>) -> Vec<Value> {
    let assets = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../assets");
    assert!(
        assets
            .join("node_modules/phoenix_live_view/assets/js")
            .is_dir(),
        "the diff oracle needs the npm packages: run `npm ci --prefix assets` \
         (scripts/test.sh does) and run the tests again"
    );
    let mut node = Command::new("node")
        .arg(assets.join("oracle.mjs"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the diff oracle needs `node` on PATH");
    let mut stdin = node.stdin.take().expect("piped stdin");
    let count = cases.len();
    let writer = std::thread::spawn(move || {
        for case in cases {
            // A node that died is reported below by the count of answers.
            if writeln!(stdin, "{case}").is_err() {
                break;
            }
        }
    });
    let mut failures = Vec::new();
    let mut answered = 0;
    for line in BufReader::new(node.stdout.take().expect("piped stdout")).lines() {
        let answer: Value =
            serde_json::from_str(&line.expect("node answers")).expect("answers are JSON");
        answered += 1;
        if answer["ok"] != json!(true) {
            failures.push(answer);
        }
        if answered == count {
            break;
        }
    }
    writer.join().expect("writer thread");
    drop(node.kill());
    let _ = node.wait();
    assert_eq!(answered, count, "node answered {answered} of {count} cases");
    failures
}

/// A small, seeded random number generator (splitmix64), so a failing
/// case can be run again from its seed.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}
