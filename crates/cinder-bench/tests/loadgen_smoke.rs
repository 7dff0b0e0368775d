//! A short run of each `cinder-loadgen` mode against `cinder-bench-server`,
//! of each `cinder-floor` mode against its own bare server, and of
//! `cinder-bench-suite` at its smoke scale, on loopback, to prove the tools
//! work end to end. Nothing here looks at speed: the figures are measured
//! on pinned cores, in release, by the suite or by hand. The Phoenix
//! application the suite measures beside Cinder is checked here too, for
//! the page it writes and the versions it pins (it needs Elixir and Hex to
//! run, which the tests do not).
//!
//! `broadcast` needs the showcase's `/chat`; it runs when a `showcase`
//! binary has been built next to these ones (`cargo build -p showcase`),
//! and is skipped otherwise.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use cinder_bench::live_client::{self, HttpConnection, Response, Sources};
use cinder_bench::options::{described_flags, flags_named};
use cinder_bench::servers::{self, RunningServer};
use serde_json::Value;

const LOADGEN: &str = env!("CARGO_BIN_EXE_cinder-loadgen");
const SERVER: &str = env!("CARGO_BIN_EXE_cinder-bench-server");
const FLOOR: &str = env!("CARGO_BIN_EXE_cinder-floor");
const SUITE: &str = env!("CARGO_BIN_EXE_cinder-bench-suite");
const LIST_RENDERS: &str = env!("CARGO_BIN_EXE_cinder-list-renders");
const RUNTIME_BENCH: &str = env!("CARGO_BIN_EXE_runtime-bench");

/// Every tool, by the name its usage line gives it.
const TOOLS: [(&str, &str); 6] = [
    (SERVER, "cinder-bench-server"),
    (LOADGEN, "cinder-loadgen"),
    (FLOOR, "cinder-floor"),
    (SUITE, "cinder-bench-suite"),
    (LIST_RENDERS, "cinder-list-renders"),
    (RUNTIME_BENCH, "runtime-bench"),
];

/// Starts `program` with `args` on a port the system picks.
fn start(program: &Path, args: &[&str]) -> RunningServer {
    let mut command = Command::new(program);
    command.args(args);
    servers::start(command).unwrap_or_else(|error| panic!("{error}"))
}

/// Runs the load generator and returns its JSON summary, the last line of
/// its output.
fn loadgen(args: &[&str]) -> Value {
    summary_of(LOADGEN, args)
}

/// Runs `program` with `args` and returns its JSON summary, the last line
/// of its output.
fn summary_of(program: &str, args: &[&str]) -> Value {
    let output = Command::new(program)
        .args(args)
        .output()
        .expect("the tool runs");
    assert!(
        output.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).expect("UTF-8 output");
    let last = stdout.lines().last().expect("a summary line");
    serde_json::from_str(last).unwrap_or_else(|error| panic!("{error}: {last}"))
}

fn number(summary: &Value, key: &str) -> f64 {
    summary[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} in {summary}"))
}

fn assert_latency_reported(summary: &Value, key: &str) {
    for quantile in ["p50_ms", "p90_ms", "p99_ms", "p999_ms", "max_ms"] {
        assert!(
            summary[key][quantile].is_f64(),
            "{key}.{quantile} in {summary}"
        );
    }
}

/// The server's CPU per unit, and its split into user and system time.
fn assert_cpu_reported(summary: &Value, key: &str) {
    assert!(number(summary, key) >= 0.0, "{summary}");
    let split = &summary[format!("{key}_split")];
    for part in ["user", "system"] {
        assert!(
            split[part].as_f64().is_some_and(|us| us >= 0.0),
            "{key}_split.{part} in {summary}"
        );
    }
}

fn assert_all_joined(summary: &Value, sessions: f64) {
    assert_eq!(number(summary, "sessions_joined"), sessions, "{summary}");
    assert_eq!(number(summary, "failures"), 0.0, "{summary}");
    assert!(number(summary, "setup_per_sec") > 0.0, "{summary}");
}

#[test]
fn every_mode_runs_against_the_bench_server() {
    every_mode_runs_against(&["--workers", "1"]);
}

#[test]
fn every_mode_runs_against_the_bench_server_on_a_current_thread_runtime() {
    every_mode_runs_against(&["--runtime", "current-thread"]);
}

/// Each mode's short run against a bench server started with `server_args`.
fn every_mode_runs_against(server_args: &[&str]) {
    let server = start(Path::new(SERVER), server_args);
    let (addr, pid) = (server.addr(), server.pid());

    let connect = loadgen(&[
        "connect",
        "--addr",
        &addr,
        "--path",
        "/counter",
        "--sessions",
        "200",
        "--duration",
        "2",
        "--heartbeat",
        "1",
        "--server-pid",
        &pid,
    ]);
    assert_all_joined(&connect, 200.0);
    assert_eq!(number(&connect, "closed_while_held"), 0.0, "{connect}");
    assert!(number(&connect, "server_rss_held_kib") > 0.0, "{connect}");
    assert!(number(&connect, "join_reply_bytes") > 0.0, "{connect}");
    assert_cpu_reported(&connect, "server_cpu_us_per_setup");
    assert_cpu_reported(&connect, "generator_cpu_us_per_setup");
    // Reported for both sides; how many depends on what memory earlier
    // runs left free for these sessions.
    assert!(
        number(&connect, "server_page_faults_per_setup") >= 0.0,
        "{connect}"
    );
    assert!(
        number(&connect, "generator_page_faults_per_setup") >= 0.0,
        "{connect}"
    );

    for path in ["/counter", "/rows"] {
        let events = loadgen(&[
            "events",
            "--addr",
            &addr,
            "--path",
            path,
            "--sessions",
            "50",
            "--rate",
            "500",
            "--duration",
            "2",
            "--server-pid",
            &pid,
        ]);
        assert_all_joined(&events, 50.0);
        assert_eq!(number(&events, "errors"), 0.0, "{events}");
        assert_eq!(number(&events, "unanswered"), 0.0, "{events}");
        assert!(number(&events, "replies") > 0.0, "{events}");
        assert!(number(&events, "rate_achieved") > 0.0, "{events}");
        assert!(number(&events, "bytes_per_reply") > 0.0, "{events}");
        assert_cpu_reported(&events, "server_cpu_us_per_event");
        assert_latency_reported(&events, "latency");
    }

    let render = loadgen(&[
        "render",
        "--addr",
        &addr,
        "--path",
        "/rows",
        "--connections",
        "4",
        "--duration",
        "1",
        "--server-pid",
        &pid,
    ]);
    assert_eq!(number(&render, "errors"), 0.0, "{render}");
    assert!(number(&render, "pages_per_sec") > 0.0, "{render}");
    assert!(number(&render, "bytes_per_page") > 0.0, "{render}");
    assert_cpu_reported(&render, "server_cpu_us_per_page");
    assert_latency_reported(&render, "latency");
}

/// A short `events` run on `/rows` against `server`: 20 sessions, 200
/// events a second for a second, with `extra` options.
fn rows_events(server: &RunningServer, extra: &[&str]) -> Value {
    let (addr, pid) = (server.addr(), server.pid());
    let mut args = vec![
        "events",
        "--addr",
        &addr,
        "--path",
        "/rows",
        "--sessions",
        "20",
        "--rate",
        "200",
        "--duration",
        "1",
        "--server-pid",
        &pid,
    ];
    args.extend_from_slice(extra);
    loadgen(&args)
}

/// A generator that spins instead of sleeping measures what a sleeping one
/// does, and its summary says which it was.
#[test]
fn a_spinning_generator_measures_events_and_setups_as_a_sleeping_one() {
    let server = start(Path::new(SERVER), &["--workers", "1"]);
    for idle in ["sleep", "spin"] {
        let summary = rows_events(&server, &["--idle", idle]);
        assert_eq!(summary["idle"], idle, "{summary}");
        assert_all_joined(&summary, 20.0);
        assert!(number(&summary, "replies") > 0.0, "{summary}");
        assert_eq!(number(&summary, "unanswered"), 0.0, "{summary}");
        assert_eq!(number(&summary, "errors"), 0.0, "{summary}");
        assert_cpu_reported(&summary, "server_cpu_us_per_event");
        assert_latency_reported(&summary, "latency");
    }
    let addr = server.addr();
    let connect = loadgen(&[
        "connect",
        "--addr",
        &addr,
        "--sessions",
        "50",
        "--duration",
        "0",
        "--idle",
        "spin",
    ]);
    assert_eq!(connect["idle"], "spin", "{connect}");
    assert_all_joined(&connect, 50.0);
}

/// A server that accepts connections and never answers fails each setup
/// and each page after `--timeout`, with the reason, and the run ends: the
/// load generator's and the floor's generator's.
#[test]
fn a_server_that_never_answers_fails_the_setups_and_pages_in_time() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a port");
    let addr = listener.local_addr().expect("its address").to_string();
    // Each connection is kept open, unread and unanswered.
    std::thread::spawn(move || listener.incoming().collect::<Vec<_>>());
    let setups = loadgen(&[
        "connect",
        "--addr",
        &addr,
        "--sessions",
        "3",
        "--duration",
        "0",
        "--timeout",
        "0.3",
    ]);
    assert_eq!(number(&setups, "sessions_joined"), 0.0, "{setups}");
    assert_eq!(number(&setups, "failures"), 3.0, "{setups}");
    let pages = loadgen(&[
        "render",
        "--addr",
        &addr,
        "--connections",
        "2",
        "--duration",
        "0.5",
        "--timeout",
        "0.3",
    ]);
    assert_eq!(number(&pages, "pages"), 0.0, "{pages}");
    assert!(number(&pages, "errors") >= 2.0, "{pages}");
    let floor_setups = summary_of(
        FLOOR,
        &[
            "setup",
            "--addr",
            &addr,
            "--sessions",
            "3",
            "--timeout",
            "0.3",
        ],
    );
    assert_eq!(
        number(&floor_setups, "sessions_joined"),
        0.0,
        "{floor_setups}"
    );
    for summary in [setups, pages, floor_setups] {
        let reason = summary["first_error"].as_str().unwrap_or_default();
        assert!(reason.contains("no answer"), "{summary}");
    }
    let refused = refusal(LOADGEN, &["connect", "--timeout", "0"]);
    assert!(refused.contains("--timeout must be positive"), "{refused}");
    let refused = refusal(FLOOR, &["setup", "--timeout", "0"]);
    assert!(refused.contains("--timeout are positive"), "{refused}");
}

/// A render connection the server refuses tries again after a pause that
/// grows with each failure in a row, rather than as fast as its core allows.
#[test]
fn a_refused_render_connection_waits_before_it_tries_again() {
    // A port bound without listening refuses every connection, and stays
    // ours: a port merely freed could be taken by another test's server.
    let closed = tokio::net::TcpSocket::new_v4().expect("a socket");
    closed
        .bind("127.0.0.1:0".parse().expect("an address"))
        .expect("a port");
    let addr = closed.local_addr().expect("its address").to_string();
    let pages = loadgen(&[
        "render",
        "--addr",
        &addr,
        "--connections",
        "2",
        "--duration",
        "1",
    ]);
    assert_eq!(number(&pages, "pages"), 0.0, "{pages}");
    // Pauses of 10, 20, 40, ... ms leave each connection about seven
    // attempts in a second; without them it made tens of thousands.
    let errors = number(&pages, "errors");
    assert!((2.0..=40.0).contains(&errors), "{pages}");
    let reason = pages["first_error"].as_str().unwrap_or_default();
    assert!(reason.contains("refused"), "{pages}");
    drop(closed);
}

/// A broadcast on a page that is not a chat reaches no session: the run
/// ends after `--patience` and says why.
#[test]
fn a_broadcast_on_a_page_that_is_no_chat_says_so() {
    let server = start(Path::new(SERVER), &["--workers", "1"]);
    let summary = loadgen(&[
        "broadcast",
        "--addr",
        &server.addr(),
        "--path",
        "/counter",
        "--sessions",
        "3",
        "--quiet",
        "0.1",
        "--patience",
        "0.5",
    ]);
    assert_eq!(number(&summary, "sessions_joined"), 3.0, "{summary}");
    assert_eq!(number(&summary, "delivered"), 0.0, "{summary}");
    assert_eq!(number(&summary, "missing"), 3.0, "{summary}");
    let reason = summary["first_error"].as_str().unwrap_or_default();
    assert!(reason.contains("is /counter a chat page?"), "{summary}");
    let refused = refusal(LOADGEN, &["broadcast", "--patience", "0"]);
    assert!(refused.contains("--patience must be positive"), "{refused}");
}

/// `--layout header` serves each page inside a live layout, a header above
/// it and the page in `<main>`, and its events are answered as without one.
#[test]
fn the_bench_server_puts_its_pages_in_a_layout_when_asked() {
    let bare = start(Path::new(SERVER), &["--workers", "1"]);
    let framed = start(Path::new(SERVER), &["--workers", "1", "--layout", "header"]);

    let page = page_at(&framed.addr(), "/rows");
    for layout in [r#"<header><a href="/">Cinder</a></header>"#, "<main><ul>"] {
        assert!(page.contains(layout), "{layout} in {page}");
    }
    assert!(page.contains(">Row 100: 0</li>"), "{page}");
    assert!(!page_at(&bare.addr(), "/rows").contains("<header>"));

    let (bare, framed) = (rows_events(&bare, &[]), rows_events(&framed, &[]));
    assert_all_joined(&framed, 20.0);
    assert_eq!(number(&framed, "errors"), 0.0, "{framed}");
    assert_eq!(number(&framed, "unanswered"), 0.0, "{framed}");
    assert!(number(&framed, "replies") > 0.0, "{framed}");
    // The layout's header is in the page and in the join's first render.
    for bytes in ["page_bytes", "join_reply_bytes"] {
        assert!(
            number(&framed, bytes) > number(&bare, bytes),
            "{bytes}: {framed}"
        );
    }
}

/// The body of a `GET` of `path`, through the load generator's own client.
fn page_at(addr: &str, path: &str) -> String {
    let response = response_at(addr, path);
    let body = String::from_utf8(response.body).expect("a UTF-8 page");
    assert_eq!(response.status, 200, "{body}");
    body
}

/// The response to a `GET` of `path`, through the load generator's own
/// client.
fn response_at(addr: &str, path: &str) -> Response {
    let server = addr.parse().expect("a socket address");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let mut http = HttpConnection::open(&Sources::default(), server)
            .await
            .expect("connects");
        http.get(path, None).await.expect("reads the page")
    })
}

/// The Phoenix application the suite measures beside Cinder (`phoenix/`)
/// writes the bench server's page but for its title and its stylesheet's
/// name: its root layout as HEEx writes it, with the bench server's token
/// and view in its holes, is the bench server's page. So the two pages'
/// bytes differ only by what each server writes of its own (its tokens, the
/// view's container), and a change to one page fails here until the other
/// has it too.
#[test]
fn the_phoenix_application_writes_the_bench_servers_page() {
    let server = start(Path::new(SERVER), &["--workers", "1"]);
    let response = response_at(&server.addr(), "/counter");
    let csrf_token = live_client::Page::parse(&response)
        .expect("a live page")
        .csrf;
    let page = String::from_utf8(response.body).expect("a UTF-8 page");
    let container = page
        .lines()
        .find(|line| line.starts_with(r#"<div id="phx-"#))
        .unwrap_or_else(|| panic!("the view's container in {page}"));

    let phoenix_page = phoenix_root_layout()
        .replace(
            "{Phoenix.Controller.get_csrf_token()}",
            &format!("\"{csrf_token}\""),
        )
        .replace("{@inner_content}", container);
    let as_cinder_names_it = phoenix_page
        .replace("<title>Phoenix</title>", "<title>Cinder</title>")
        .replace(r#"href="/assets/app.css""#, r#"href="/assets/cinder.css""#);
    // HEEx leaves out the blank text at a template's ends, so Phoenix's page
    // ends at `</html>`, without the line end that ends Cinder's.
    assert_eq!(as_cinder_names_it, page.trim_end());
}

/// The Phoenix application's `mix.exs` pins each package it resolves to one
/// version, Phoenix LiveView's to 1.2.10, the one `BENCHMARKS.md` measured,
/// so that `mix deps.get` brings those and no others.
#[test]
fn the_phoenix_application_pins_each_package_it_resolves() {
    let mix = phoenix_file("mix.exs");
    let packages: Vec<&str> = text_between(&mix, "deps: [", "]")
        .lines()
        .map(str::trim)
        .filter(|line| line.starts_with("{:"))
        .collect();
    assert!(packages.len() > 1, "{mix}");
    for package in &packages {
        assert!(package.contains(r#", "== "#), "{package} is not pinned");
    }
    assert!(packages.contains(&r#"{:phoenix_live_view, "== 1.2.10"},"#));
}

/// The root layout of the Phoenix application as HEEx writes it: its `~H`
/// template with each void element's ` />` written `>`, and without the
/// blank text at its ends.
fn phoenix_root_layout() -> String {
    let source = phoenix_file("lib/phoenix_bench/layouts.ex");
    let template = text_between(&source, "~H\"\"\"\n", "\n\"\"\"");
    let lines: Vec<String> = template
        .lines()
        .map(|line| match line.strip_suffix(" />") {
            Some(open) if is_void_element(open) => format!("{open}>"),
            _ => line.to_owned(),
        })
        .collect();
    lines.join("\n").trim().to_owned()
}

/// Whether the tag `open` starts is one HEEx writes without a closing tag.
fn is_void_element(open: &str) -> bool {
    const VOID: [&str; 13] = [
        "area", "base", "br", "col", "hr", "img", "input", "link", "meta", "param", "command",
        "keygen", "source",
    ];
    let name = open
        .strip_prefix('<')
        .and_then(|tag| tag.split_whitespace().next())
        .unwrap_or_default();
    VOID.contains(&name)
}

/// A file of the Phoenix application, `phoenix/` in this crate.
fn phoenix_file(path: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("phoenix")
        .join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// The text of `text` after the first `start` and before the next `end`.
fn text_between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let after = text
        .split_once(start)
        .unwrap_or_else(|| panic!("{start:?} in {text}"))
        .1;
    after
        .split_once(end)
        .unwrap_or_else(|| panic!("{end:?} after {start:?} in {text}"))
        .0
}

#[test]
fn the_bench_server_refuses_options_it_cannot_run() {
    for (args, reason) in [
        (
            &["--runtime", "fibres"][..],
            "--runtime takes multi-thread or current-thread",
        ),
        (
            &["--runtime", "current-thread", "--workers", "2"],
            "--workers must be 1",
        ),
        (&["--workers", "0"], "--workers takes a positive number"),
        (&["--layout", "fancy"], "--layout takes bare or header"),
        (&["--threads", "1"], "unknown option --threads"),
    ] {
        let stderr = refusal(SERVER, args);
        assert!(stderr.contains(reason), "{args:?}: {stderr}");
    }
}

#[test]
fn the_list_renders_send_one_row_a_render_and_refuse_other_lists() {
    for list in ["keyed", "indexed"] {
        let bytes = |renders: &str| {
            let output = Command::new(LIST_RENDERS)
                .args([list, renders])
                .output()
                .expect("runs");
            assert!(output.status.success(), "{list} {renders}");
            String::from_utf8_lossy(&output.stdout)
                .trim()
                .parse::<usize>()
                .expect("the diffs' bytes")
        };
        assert_eq!(bytes("0"), 0, "{list}: no render, no diff");
        // Each diff carries one changed row, a few dozen bytes.
        let ten = bytes("10");
        assert!((10 * 20..10 * 100).contains(&ten), "{list}: {ten} bytes");
    }
    for (args, reason) in [
        (&["sorted", "10"][..], "keyed or indexed, not sorted"),
        (&["keyed", "many"], "not many"),
        (&["keyed"], "how many renders"),
        (&["keyed", "1", "2"], "unexpected argument 2"),
    ] {
        let stderr = refusal(LIST_RENDERS, args);
        assert!(stderr.contains(reason), "{args:?}: {stderr}");
    }
}

/// `--help`, `-h` or `help` first prints what the tool does on stdout and
/// exits with success, starting nothing; every option its usage lines name
/// is described on a line of its own below them.
#[test]
fn every_tool_says_what_it_does_when_asked_for_help() {
    for (tool, name) in TOOLS {
        for args in [&["--help"][..], &["-h"], &["help"], &["events", "--help"]] {
            let output = Command::new(tool).args(args).output().expect("runs");
            assert!(output.status.success(), "{name} {args:?}");
            assert!(output.stderr.is_empty(), "{name} {args:?}");
            let help = String::from_utf8(output.stdout).expect("UTF-8");
            let usage_at = help
                .find(&format!("usage: {name}"))
                .unwrap_or_else(|| panic!("{name} {args:?}: no usage in {help}"));
            let (usage, below) = help[usage_at..]
                .split_once("\n\n")
                .unwrap_or_else(|| panic!("{name}: nothing below its usage in {help}"));
            let described: Vec<&str> = described_flags(below).collect();
            for flag in flags_named(usage) {
                assert!(described.contains(&flag), "{name}: {flag} undescribed");
            }
        }
    }
}

/// A command line a tool cannot run is refused with the usage, and the
/// way to its help.
#[test]
fn every_tool_refuses_an_unknown_word_and_points_to_its_help() {
    for (tool, name) in TOOLS {
        let stderr = refusal(tool, &["--colour", "1"]);
        assert!(stderr.contains("--colour"), "{name}: {stderr}");
        assert!(
            stderr.contains(&format!("usage: {name}")),
            "{name}: {stderr}"
        );
        assert!(stderr.contains("--help says"), "{name}: {stderr}");
    }
}

/// What `binary` says on stderr when it refuses `args` with the exit code of
/// a usage error.
fn refusal(binary: &str, args: &[&str]) -> String {
    let output = Command::new(binary).args(args).output().expect("runs");
    assert_eq!(output.status.code(), Some(2), "{args:?}");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn showcase() -> Option<PathBuf> {
    let path = Path::new(LOADGEN).with_file_name("showcase");
    path.exists().then_some(path)
}

#[test]
fn broadcast_reaches_every_chat_session_when_the_showcase_is_built() {
    let Some(showcase) = showcase() else {
        eprintln!("skipped: no showcase binary next to cinder-loadgen (cargo build -p showcase)");
        return;
    };
    let server = start(&showcase, &[]);
    let summary = loadgen(&[
        "broadcast",
        "--addr",
        &server.addr(),
        "--path",
        "/chat",
        "--sessions",
        "50",
        "--server-pid",
        &server.pid(),
    ]);
    assert_all_joined(&summary, 50.0);
    assert_eq!(number(&summary, "warm_up_delivered"), 50.0, "{summary}");
    assert_eq!(number(&summary, "delivered"), 50.0, "{summary}");
    assert_eq!(number(&summary, "missing"), 0.0, "{summary}");
    assert!(summary["first_error"].is_null(), "{summary}");
    assert!(number(&summary, "frames_per_session") >= 1.0, "{summary}");
    assert_cpu_reported(&summary, "server_cpu_us_per_session");
    assert_latency_reported(&summary, "arrival");
}

/// The summary of `cinder-floor <mode>` against `server`, with `args`.
fn floor_summary(mode: &str, server: &RunningServer, args: &[&str]) -> Value {
    let (addr, pid) = (server.addr(), server.pid());
    let mut all = vec![mode, "--addr", &addr, "--server-pid", &pid];
    all.extend_from_slice(args);
    summary_of(FLOOR, &all)
}

#[test]
fn the_floor_tool_measures_its_bare_server() {
    let server = start(Path::new(FLOOR), &["serve"]);
    assert_the_floor_serves_every_mode(&server);
}

/// The floor's generator spins instead of sleeping when asked, in each of
/// its modes, and every request is answered as when it sleeps.
#[test]
fn the_floor_generator_spins_when_asked() {
    let server = start(Path::new(FLOOR), &["serve", "--tasks", "2"]);
    let spinning = |mode: &str, args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--idle", "spin"]);
        let summary = floor_summary(mode, &server, &all);
        assert_eq!(summary["idle"], "spin", "{summary}");
        summary
    };
    let events = spinning(
        "events",
        &["--sessions", "20", "--rate", "200", "--duration", "1"],
    );
    assert_eq!(number(&events, "replies"), 200.0, "{events}");
    let broadcast = spinning("broadcast", &["--sessions", "100"]);
    assert_eq!(number(&broadcast, "delivered"), 100.0, "{broadcast}");
    let setup = spinning("setup", &["--sessions", "100"]);
    assert_eq!(number(&setup, "sessions_joined"), 100.0, "{setup}");
    let sleeping = floor_summary("setup", &server, &["--sessions", "10"]);
    assert_eq!(sleeping["idle"], "sleep", "{sleeping}");
}

/// Each mode of the floor's generator against `server`: every event
/// answered, every broadcast message delivered, every session set up, each
/// with its figures reported.
fn assert_the_floor_serves_every_mode(server: &RunningServer) {
    let events = floor_summary(
        "events",
        server,
        &["--sessions", "50", "--rate", "500", "--duration", "1"],
    );
    assert_eq!(number(&events, "sent"), 500.0, "{events}");
    assert_eq!(number(&events, "replies"), 500.0, "{events}");
    assert_eq!(number(&events, "unanswered"), 0.0, "{events}");
    assert_cpu_reported(&events, "server_cpu_us_per_event");
    assert_latency_reported(&events, "latency");

    let broadcast = floor_summary("broadcast", server, &["--sessions", "200"]);
    assert_eq!(number(&broadcast, "delivered"), 200.0, "{broadcast}");
    assert_eq!(number(&broadcast, "missing"), 0.0, "{broadcast}");
    assert_cpu_reported(&broadcast, "server_cpu_us_per_session");
    assert_latency_reported(&broadcast, "arrival");

    // Each request asks for the size of its answer, so the same server
    // serves the `/rows` sizes, which are not its defaults.
    let setup = floor_summary(
        "setup",
        server,
        &[
            "--sessions",
            "200",
            "--page-bytes",
            "7511",
            "--join-reply-bytes",
            "6106",
        ],
    );
    assert_eq!(number(&setup, "sessions_joined"), 200.0, "{setup}");
    assert!(setup["first_error"].is_null(), "{setup}");
    assert!(number(&setup, "setup_per_sec") > 0.0, "{setup}");
    assert_cpu_reported(&setup, "server_cpu_us_per_setup");
    assert!(
        number(&setup, "server_page_faults_per_setup") >= 0.0,
        "{setup}"
    );
    assert_eq!(number(&setup, "join_reply_bytes"), 6106.0, "{setup}");
    assert_latency_reported(&setup, "setup_latency");
}

/// A bare server told to work on each event answers none before its work
/// is done: every round trip is at least the work's time.
#[test]
fn the_floor_server_works_on_each_event_as_told() {
    let server = start(
        Path::new(FLOOR),
        &["serve", "--work-us", "2000", "--touch-kib", "8"],
    );
    assert_each_answer_waits_for_its_work(&server);
}

/// 100 events over 20 sessions against a floor server told to work 2 ms
/// on each: every one answered, none before its work was done.
fn assert_each_answer_waits_for_its_work(server: &RunningServer) {
    let events = floor_summary(
        "events",
        server,
        &["--sessions", "20", "--rate", "100", "--duration", "1"],
    );
    assert_eq!(number(&events, "replies"), 100.0, "{events}");
    assert_eq!(number(&events, "unanswered"), 0.0, "{events}");
    let p50 = &events["latency"]["p50_ms"];
    assert!(p50.as_f64().is_some_and(|ms| ms >= 2.0), "{events}");
}

/// With `--tasks 2` every connection's requests go through a second task
/// of its own, which works on each event as told and writes every answer
/// and broadcast message: each session has both.
#[test]
fn the_floor_server_hands_each_request_to_a_second_task() {
    let server = start(
        Path::new(FLOOR),
        &[
            "serve",
            "--tasks",
            "2",
            "--work-us",
            "2000",
            "--touch-kib",
            "8",
        ],
    );
    assert_each_answer_waits_for_its_work(&server);

    let broadcast = floor_summary("broadcast", &server, &["--sessions", "200"]);
    assert_eq!(number(&broadcast, "delivered"), 200.0, "{broadcast}");
    assert_eq!(number(&broadcast, "missing"), 0.0, "{broadcast}");

    let setup = floor_summary("setup", &server, &["--sessions", "100"]);
    assert_eq!(number(&setup, "sessions_joined"), 100.0, "{setup}");
    assert!(setup["first_error"].is_null(), "{setup}");
}

/// The floor's server on the current-thread runtime the benchmark server
/// can run on too.
#[test]
fn the_floor_server_runs_on_a_current_thread_runtime() {
    let server = start(Path::new(FLOOR), &["serve", "--runtime", "current-thread"]);
    let events = floor_summary(
        "events",
        &server,
        &["--sessions", "20", "--rate", "200", "--duration", "1"],
    );
    assert_eq!(number(&events, "replies"), 200.0, "{events}");
    assert_eq!(number(&events, "unanswered"), 0.0, "{events}");
    // One thread in all: a multi-thread runtime has a worker beside the
    // thread that started it.
    let threads = std::fs::read_dir(format!("/proc/{}/task", server.pid()))
        .expect("the server's threads are listed")
        .count();
    assert_eq!(threads, 1);
}

/// Whether this kernel gives a process a ring set up as the floor's
/// io_uring server sets up its own (one thread submitting, the kernel's
/// work deferred to its waits): a sandbox may refuse io_uring altogether.
fn io_uring_available() -> bool {
    io_uring::IoUring::<io_uring::squeue::Entry>::builder()
        .setup_single_issuer()
        .setup_coop_taskrun()
        .setup_defer_taskrun()
        .build(2)
        .is_ok()
}

/// The floor's server on io_uring answers what it answers on tokio: every
/// event, broadcast message and setup, requests longer than its read buffer
/// and answers longer than one write. A connection that sends a head no
/// generator writes is closed, and the others are served on. Where the
/// kernel refuses io_uring, the server says so and exits.
#[test]
fn the_floor_server_runs_on_io_uring() {
    if !io_uring_available() {
        let output = Command::new(FLOOR)
            .args(["serve", "--io", "io-uring", "--port", "0"])
            .output()
            .expect("runs");
        assert_eq!(output.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.starts_with("io_uring is not available here"),
            "{stderr}"
        );
        return;
    }
    let server = start(Path::new(FLOOR), &["serve", "--io", "io-uring"]);
    assert_the_floor_serves_every_mode(&server);

    let long = floor_summary(
        "events",
        &server,
        &[
            "--sessions",
            "10",
            "--rate",
            "50",
            "--duration",
            "1",
            "--request-bytes",
            "5000",
            "--reply-bytes",
            "200000",
        ],
    );
    assert_eq!(number(&long, "replies"), 50.0, "{long}");
    assert_eq!(number(&long, "unanswered"), 0.0, "{long}");

    let mut forged = std::net::TcpStream::connect(server.addr()).expect("connects");
    // A request that says it is shorter than its own head.
    forged.write_all(b"e\0\0\0\0\x5f\0\0\0").expect("written");
    let mut rest = Vec::new();
    forged.read_to_end(&mut rest).expect("closed, not reset");
    assert!(rest.is_empty(), "{rest:?}");
    // The others are served on.
    let after = floor_summary(
        "events",
        &server,
        &["--sessions", "5", "--rate", "50", "--duration", "1"],
    );
    assert_eq!(number(&after, "replies"), 50.0, "{after}");
}

#[test]
fn the_floor_tool_refuses_what_it_cannot_measure() {
    for args in [
        &["serve", "--port", "seventy"][..],
        &["events", "--addr", "10.1.2.3:4300"],
        &["events", "--sessions", "0"],
        &["broadcast", "--message-bytes", "0"],
        &["setup", "--page-bytes", "0"],
        &["events", "--request-bytes", "8"],
        &["serve", "--page-bytes", "7511"],
        &["serve", "--work-us", "soon"],
        &["serve", "--touch-kib", "257"],
        &["events", "--work-us", "10"],
        &["events", "--runtime", "current-thread"],
        &["serve", "--runtime", "green"],
        &["serve", "--tasks", "3"],
        &["events", "--tasks", "2"],
        &["serve", "--io", "epoll"],
        &["serve", "--io", "io-uring", "--tasks", "2"],
        &["serve", "--io", "io-uring", "--work-us", "5"],
        &["serve", "--timeout", "5"],
        &["events", "--io", "io-uring"],
        &["echo"],
    ] {
        let stderr = refusal(FLOOR, args);
        assert!(stderr.contains("usage: cinder-floor"), "{args:?}: {stderr}");
    }
}

/// The whole suite at its smallest: every measurement runs against a fresh
/// server, each tool's summary is written, and the table has a row of
/// figures for every goal.
#[test]
fn the_suite_measures_every_goal_at_smoke_scale() {
    let out = std::env::temp_dir().join(format!("cinder-suite-{}.jsonl", std::process::id()));
    let output = Command::new(SUITE)
        .args(["--scale", "smoke", "--runs", "1", "--no-pin", "--out"])
        .arg(&out)
        .output()
        .expect("the suite runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let written = std::fs::read_to_string(&out).expect("the summaries are written");
    let _ = std::fs::remove_file(&out);

    let mut labels: Vec<String> = written
        .lines()
        .map(|line| {
            let line: Value = serde_json::from_str(line).expect("one JSON object a line");
            assert!(line["summary"].is_object(), "{line}");
            line["label"].as_str().expect("a label").to_string()
        })
        .collect();
    labels.sort();
    labels.dedup();
    let mut expected = vec![
        "cinder events /counter",
        "cinder events /rows",
        "cinder held /counter",
        "cinder held /rows",
        "cinder ramp /counter",
        "cinder ramp /rows",
        "cinder render /counter",
        "cinder render /rows",
        "cinder setup /counter",
        "cinder setup /rows",
        "floor broadcast",
        "floor events /counter",
        "floor events /rows",
        "floor setup /counter",
        "floor setup /rows",
        "paged floor broadcast",
        "paged floor events /counter",
        "paged floor events /rows",
    ];
    if showcase().is_some() {
        expected.push("cinder broadcast /chat");
    }
    expected.sort();
    assert_eq!(labels, expected);

    let rows: Vec<&str> = stdout
        .lines()
        .filter(|line| {
            line.starts_with("| ") && !line.starts_with("| measure") && !line.starts_with("| ---")
        })
        .collect();
    assert_eq!(rows.len(), 16, "{stdout}");
    for row in rows {
        if row.contains("broadcast") && showcase().is_none() {
            continue;
        }
        let cells: Vec<&str> = row.split(" | ").collect();
        assert!(!cells[3].contains("not measured"), "{row}");
        assert!(!cells[6].contains("not measured"), "{row}");
        // The floor with a task per page stands beside the CPU figures
        // and the broadcast.
        let paged = row.contains("server CPU per") || row.contains("broadcast");
        assert_eq!(
            cells[5].ends_with(" µs") || cells[5].ends_with(" ms"),
            paged,
            "{row}"
        );
    }
    // After the table: what Cinder adds above the floor with a task per
    // page, run by run.
    let above = stdout
        .lines()
        .find(|line| {
            line.starts_with("Cinder above the floor with a task per page, run by run: `inc` ")
        })
        .unwrap_or_else(|| panic!("no line of Cinder above the paged floor: {stdout}"));
    assert!(above.contains(" µs; `bump` "), "{above}");
    assert_eq!(
        above.contains("; the broadcast "),
        showcase().is_some(),
        "{above}"
    );
}

/// `--phoenix` measures another LiveView server beside Cinder, started from
/// its command with its port in `$PORT` (here a second benchmark server
/// stands in for a Phoenix application), and the Phoenix column shows what
/// it measured beside the figures Phoenix was first measured at.
#[test]
fn the_suite_measures_a_phoenix_server_beside_cinder() {
    let output = smoke_suite_beside(
        "events,setup,ramp",
        r#"exec "{SERVER}" --port "$PORT" --workers 1"#,
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    for label in [
        "events /counter",
        "events /rows",
        "setup /counter",
        "setup /rows",
        "ramp /counter",
        "ramp /rows",
    ] {
        assert!(
            stderr.contains(&format!("measuring phoenix {label}")),
            "{stderr}"
        );
    }
    let phoenix_cell = |measure: &str| {
        let row = stdout
            .lines()
            .find(|line| line.starts_with(&format!("| {measure}")))
            .unwrap_or_else(|| panic!("no row {measure}: {stdout}"));
        row.split(" | ").nth(2).expect("a Phoenix cell").to_string()
    };
    let cpu = phoenix_cell("server CPU per `inc`");
    assert!(cpu.ends_with(" µs (first measured: ~46 µs)"), "{cpu}");
    let setup = phoenix_cell("session setup, `/rows`");
    assert!(setup.ends_with(" /s (first measured: ~450 /s)"), "{setup}");
    let bytes = phoenix_cell("reply / join reply / first HTML, `/rows`");
    assert!(
        bytes.ends_with(" / 6,106 / 7,385 B (first measured: 123 / 6,128 / 7,794 B)"),
        "{bytes}"
    );
    // Its ramp, from its own rates. (At this scale both ramps may serve
    // their every rate, which leaves the ratio unknown; the suite's unit
    // tests check the ratio.)
    let ramp = phoenix_cell("highest rate with p99 ≤ 50 ms, `bump`");
    assert!(
        ramp.contains(" ev/s (p99 ") && ramp.ends_with(" (first measured: ~6,000 ev/s)"),
        "{ramp}"
    );
    // Not measured here: the figure Phoenix was first measured at alone.
    assert_eq!(phoenix_cell("dead render, `/counter`"), "~6,550 pages/s");
}

/// A `--phoenix` command that leaves its shell waiting for the server would
/// have the shell measured: the suite refuses it and says to `exec`.
#[test]
fn the_suite_refuses_a_phoenix_command_that_does_not_exec_its_server() {
    let output = smoke_suite_beside("setup", r#""{SERVER}" --port "$PORT" --workers 1; true"#);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains("phoenix setup /counter: "), "{stderr}");
    assert!(stderr.contains("end it with `exec`"), "{stderr}");
}

/// The suite's output at smoke scale, measuring only `only`, with a second
/// benchmark server started by `phoenix` (where `{SERVER}` stands for its
/// path) in Phoenix's place.
fn smoke_suite_beside(only: &str, phoenix: &str) -> std::process::Output {
    smoke_suite_of(only)
        .args(["--phoenix", &phoenix.replace("{SERVER}", SERVER)])
        .output()
        .expect("the suite runs")
}

/// The suite at smoke scale, one run, unpinned, measuring only `only`.
fn smoke_suite_of(only: &str) -> Command {
    let mut suite = Command::new(SUITE);
    suite.args([
        "--scale", "smoke", "--runs", "1", "--no-pin", "--only", only,
    ]);
    suite
}

/// `--only` runs the measurements it names and no other.
#[test]
fn the_suite_measures_only_what_it_is_asked_to() {
    let output = smoke_suite_of("setup").output().expect("the suite runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    let measured: Vec<&str> = stdout
        .lines()
        .filter(|line| line.starts_with("| ") && !line.contains("not measured"))
        .filter(|line| !line.starts_with("| measure") && !line.starts_with("| ---"))
        .collect();
    assert_eq!(measured.len(), 2, "{stdout}");
    assert!(
        measured.iter().all(|row| row.contains("session setup")),
        "{stdout}"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("measuring floor setup /rows"), "{stderr}");
    assert!(!stderr.contains("events"), "{stderr}");
}

/// `--runtime current-thread` puts every server on that runtime, and the
/// table's heading says so.
#[test]
fn the_suite_runs_its_servers_on_the_runtime_it_is_asked_for() {
    let output = smoke_suite_of("setup,broadcast")
        .args(["--runtime", "current-thread"])
        .output()
        .expect("the suite runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(
        stdout.contains("servers on tokio's current-thread runtime, one thread"),
        "{stdout}"
    );
    let setups = stdout
        .lines()
        .filter(|line| line.starts_with("| session setup") && !line.contains("not measured"))
        .count();
    assert_eq!(setups, 2, "{stdout}");
}

/// `--idle spin` reaches every generator the suite runs, and the table's
/// heading says so.
#[test]
fn the_suite_has_its_generators_spin_when_asked() {
    let out = std::env::temp_dir().join(format!("cinder-suite-spin-{}.jsonl", std::process::id()));
    let output = smoke_suite_of("setup")
        .args(["--idle", "spin", "--out"])
        .arg(&out)
        .output()
        .expect("the suite runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(
        stdout.contains("generators spinning while idle"),
        "{stdout}"
    );
    let lines = std::fs::read_to_string(&out).expect("the suite wrote its summaries");
    std::fs::remove_file(&out).ok();
    let summaries: Vec<Value> = lines
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is JSON"))
        .collect();
    let floors = summaries
        .iter()
        .filter(|line| {
            line["label"]
                .as_str()
                .is_some_and(|label| label.starts_with("floor"))
        })
        .count();
    assert!(floors > 0 && floors < summaries.len(), "{lines}");
    for line in &summaries {
        assert_eq!(line["summary"]["idle"], "spin", "{line}");
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--idle spin with --no-pin"),
        "unpinned, a spinning generator may take a server's core: {stderr}"
    );
}

#[test]
fn the_suite_refuses_what_it_cannot_run() {
    for (args, reason) in [
        (&["--runs", "0"][..], "--runs takes a positive number"),
        (&["--scale", "huge"], "--scale takes full or smoke"),
        (&["--server-core", "1"], "must differ"),
        (&["--threads", "2"], "unknown option --threads"),
        (&["--only", "cpu"], "--only takes events, setup"),
        (
            &["--runtime", "green"],
            "--runtime takes multi-thread or current-thread",
        ),
    ] {
        let stderr = refusal(SUITE, args);
        assert!(stderr.contains(reason), "{args:?}: {stderr}");
        assert!(stderr.contains("usage: cinder-bench-suite"), "{stderr}");
    }
}
