//! The harness's merge against the official client's: sequences of diffs,
//! hand-written from the wire format's rules (templates, keyed
//! comprehensions and moves, components sharing statics, streams) and
//! recorded from real views, replayed through `phoenix_live_view`'s own
//! `Rendered` in node and through `cinder_test::tree`; after every diff the
//! two must show the same HTML and report the same streams, and the page
//! the harness keeps must be that HTML.
//!
//! Needs node and `assets/node_modules` (`npm ci --prefix assets`); without
//! them the tests print why and pass, except under CI, where they fail.

use cinder::live::{Config, Event, LiveRouter, LiveView, MountError, Params, Session, Socket};
use cinder::{html, Rendered};
use cinder_test::oracle::{compare, Oracle};
use cinder_test::LiveTest;
use serde_json::{json, Value};

fn oracle() -> Option<Oracle> {
    match Oracle::locate() {
        Ok(oracle) => Some(oracle),
        Err(why) if std::env::var_os("CI").is_some() => {
            panic!("the merge oracle is needed under CI: {why}")
        }
        Err(why) => {
            eprintln!("skipping the cross-check with the official client: {why}");
            None
        }
    }
}

fn check_all(cases: Vec<(&str, Vec<Value>)>) {
    let Some(oracle) = oracle() else { return };
    let replayed: Vec<(String, Vec<Value>)> = cases
        .iter()
        .map(|(_, diffs)| ("phx-oracle".to_string(), diffs.clone()))
        .collect();
    let answers = oracle.replay(&replayed).unwrap();
    let mut failures = Vec::new();
    for ((name, diffs), answer) in cases.iter().zip(answers) {
        if let Err(mismatch) = compare("phx-oracle", diffs, answer) {
            failures.push(format!("{name}: {mismatch}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    println!("{} sequences agree with the official client", cases.len());
}

#[test]
fn hand_written_sequences_agree_with_the_client() {
    check_all(vec![
        (
            "root and updates",
            vec![
                json!({"0": "10:30", "1": "Sunny", "r": 1, "s": 0, "p": {"0": ["<div>\n  <h2>It's ", "</h2>\n  ", "\n</div>"]}}),
                json!({"0": "10:31"}),
                json!({"1": "Rain", "t": "Weather", "e": [["tick", {}]]}),
            ],
        ),
        (
            "nested trees and templates",
            vec![
                json!({"0": "hi", "1": {"0": "abc", "1": "efg", "s": 0}, "2": {"0": "efg", "s": 1}, "s": 2,
                       "p": {"0": ["s1", "s2", "s3"], "1": ["s1", "s2"], "2": ["<h2>", "</h2>", "<span>", "</span>"]}}),
                json!({"1": {"1": "new"}}),
                json!({"2": {"0": "<b>swapped</b>", "s": ["<em>", "</em>"]}}),
                json!({"2": ""}),
                json!({"2": {"0": "back", "s": 0, "p": {"0": ["<i>", "</i>"]}}}),
            ],
        ),
        (
            "comprehension grows, empties and grows again",
            vec![
                json!({"0": "Users", "1": {"s": 0, "k": {"0": {"0": "phoenix"}, "1": {"0": "elixir"}, "kc": 2}}, "r": 1, "s": 1,
                       "p": {"0": ["\n    <br>", "\n  "], "1": ["<div>\n  <h1>", "</h1>\n  ", "\n</div>"]}}),
                json!({"1": {"k": {"0": {"0": "rust"}, "kc": 3, "2": {"0": "gleam"}}}}),
                json!({"1": {"k": {"kc": 0}}}),
                json!({"1": {"k": {"0": {"0": "again"}, "kc": 1}}}),
            ],
        ),
        (
            "keyed moves",
            vec![
                json!({"0": {"s": ["<li>", ":", "</li>"], "k": {"0": {"0": "a", "1": "1"}, "1": {"0": "b", "1": "2"}, "2": {"0": "c", "1": "3"}, "kc": 3}}, "s": ["<ul>", "</ul>"]}),
                json!({"0": {"k": {"0": 2, "1": 0, "2": 1, "kc": 3, "km": true}}}),
                json!({"0": {"k": {"0": [1, {"1": "x"}], "1": {"0": "new", "1": "n"}, "kc": 2, "km": true}}}),
                json!({"0": {"k": {"0": {"1": "same place"}, "kc": 2}}}),
            ],
        ),
        (
            "a move without km is refused by both",
            vec![
                json!({"0": {"s": ["<li>", "</li>"], "k": {"0": {"0": "a"}, "1": {"0": "b"}, "kc": 2}}, "s": ["<ul>", "</ul>"]}),
                json!({"0": {"k": {"0": 1, "1": 0, "kc": 2}}}),
            ],
        ),
        (
            "components: new, updated, sharing statics",
            vec![
                json!({"0": 1, "s": ["<main>", "</main>"], "c": {"1": {"0": "WELCOME!", "r": 1, "s": ["<div>FROM ", "</div>"]}}}),
                json!({"c": {"1": {"0": "rerender"}}}),
                json!({"0": {"0": 1, "1": 2, "s": ["", "", ""]}, "c": {"2": {"0": "another", "s": -1}}}),
                json!({"0": {"2": 3}, "s": ["<main>", "</main>"], "c": {"3": {"0": "third", "s": 2}, "2": {"0": "second"}}}),
                json!({"0": {"0": 1, "1": 2, "2": 3, "s": ["", "|", "|", ""]}}),
            ],
        ),
        (
            "components with comments around the root and a comprehension inside",
            vec![
                json!({"0": 1, "1": 2, "s": ["<section>", "", "</section>"], "c": {
                    "1": {"0": "x", "r": 1, "s": ["<!-- before -->\n<p class=\"c\">", "</p><!-- after -->"]},
                    "2": {"0": {"s": ["<li>", "</li>"], "k": {"0": {"0": "one"}, "kc": 1}}, "r": 1, "s": ["<ul id=\"list\">", "</ul>"]}
                }}),
                json!({"c": {"2": {"0": {"k": {"1": {"0": "two"}, "kc": 2}}}}}),
                json!({"c": {"1": {"0": "y"}, "2": {"0": {"k": {"0": 1, "1": 0, "kc": 2, "km": true}}}}}),
            ],
        ),
        (
            "a component that is not one element is refused by both",
            vec![
                json!({"0": 1, "s": ["", ""], "c": {"1": {"0": "x", "r": 1, "s": ["text ", " only"]}}}),
            ],
        ),
        (
            "a missing component is refused by both",
            vec![json!({"0": 7, "s": ["<p>", "</p>"]})],
        ),
        (
            "streams: inserts, deletes, limits and a reset",
            vec![
                json!({"0": {"s": ["<li id=\"", "\">", "</li>"], "k": {"0": {"0": "users-1", "1": "chris"}, "1": {"0": "users-2", "1": "callan"}, "kc": 2},
                             "stream": ["0", [["users-1", -1, null, null], ["users-2", -1, null, null]], []]},
                       "s": ["<ul id=\"users\" phx-update=\"stream\">", "</ul>"]}),
                json!({"0": {"k": {"0": {"0": "users-3", "1": "jose"}, "kc": 1}, "stream": ["0", [["users-3", 0, 2, null]], ["users-1"]]}}),
                json!({"0": {"k": {"kc": 0}, "stream": ["0", [], ["users-2"]]}}),
                json!({"0": {"k": {"0": {"0": "users-9", "1": "new"}, "kc": 1}, "stream": ["0", [["users-9", -1, null, true]], [], true]}}),
                json!({"1": "unrelated"}),
            ],
        ),
        (
            "a stream inside a component",
            vec![
                json!({"0": 1, "s": ["<main>", "</main>"], "c": {"1": {"0": {"s": ["<p id=\"", "\">", "</p>"], "k": {"0": {"0": "m-1", "1": "a"}, "kc": 1},
                                                                          "stream": ["1-0", [["m-1", -1, null, false]], []]}, "r": 1, "s": ["<div id=\"feed\" phx-update=\"stream\">", "</div>"]}}}),
                json!({"c": {"1": {"0": {"k": {"0": {"0": "m-2", "1": "b"}, "kc": 1}, "stream": ["1-0", [["m-2", 0, null, null]], []]}}}}),
            ],
        ),
    ]);
}

/// A view whose list reorders, grows and shrinks: moves, new entries and
/// drops in real diffs from Cinder's engine.
struct Shelf {
    books: Vec<(u32, String)>,
    next: u32,
    note: Option<String>,
}

impl LiveView for Shelf {
    type Info = ();

    async fn mount(_: &Params, _: &Session, socket: &mut Socket<Self>) -> Result<Self, MountError> {
        socket.set_title("Shelf");
        Ok(Shelf {
            books: vec![
                (1, "Dune".into()),
                (2, "Emma".into()),
                (3, "Ulysses".into()),
            ],
            next: 4,
            note: None,
        })
    }

    async fn handle_event(&mut self, event: Event, socket: &mut Socket<Self>) {
        match event.name() {
            "add" => {
                self.books
                    .push((self.next, format!("Book <{}>", self.next)));
                self.next += 1;
            }
            "reverse" => self.books.reverse(),
            "drop" => {
                self.books.remove(0);
            }
            "rename" => {
                if let Some(book) = self.books.last_mut() {
                    book.1.push('!');
                }
            }
            "note" => {
                self.note = Some("a note & more".into());
                socket.put_flash("info", "Noted");
            }
            _ => self.note = None,
        }
    }

    fn render(&self) -> Rendered {
        let count = self.books.len();
        html! {
            <main>
                <p id="count">{count}" books"</p>
                <ol id="books">
                    @for (id, title) in &self.books, key = id {
                        <li id={format!("book-{id}")}><b>{title}</b></li>
                    }
                </ol>
                @if let Some(note) = &self.note { <aside id="note">{note}</aside> }
                @for event in ["add", "reverse", "drop", "rename", "note", "clear"] {
                    <button id={event} phx-click={event}>{event}</button>
                }
            </main>
        }
    }
}

#[tokio::test]
async fn a_real_session_agrees_with_the_client_after_every_event() -> cinder_test::Result<()> {
    let Some(oracle) = oracle() else {
        return Ok(());
    };
    let router = LiveRouter::new(Config::random())
        .live::<Shelf>("/shelf")
        .into_router();
    let view = LiveTest::new(router).live("/shelf").await?;
    for button in [
        "#add", "#reverse", "#note", "#drop", "#rename", "#add", "#reverse", "#clear", "#drop",
        "#drop", "#drop", "#drop", "#add",
    ] {
        view.element(button, None)?.click().await?;
        let diffs = view.diffs();
        let steps = match oracle
            .replay(&[(view.id(), diffs.clone())])
            .unwrap()
            .remove(0)
        {
            Ok(steps) => steps,
            Err((step, error)) => panic!("the client threw on diff {step}: {error}"),
        };
        compare(&view.id(), &diffs, Ok(steps.clone())).unwrap();
        // The page the harness keeps is the client's HTML, parsed as a browser does.
        let client_page = scraper::Html::parse_fragment(&steps.last().unwrap().html)
            .root_element()
            .inner_html();
        assert_eq!(view.html(), client_page, "after {button}");
    }
    assert_eq!(view.texts("#books li")?, ["Book <6>"]);
    Ok(())
}

/// SplitMix64: small and seedable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const TEXTS: &[&str] = &["a", "b", "<i>c</i>", "d &amp; e", "", "ü"];

/// A random list changing step by step, sent as a keyed comprehension the
/// way the wire format allows: entries in place, moves with and without a
/// diff, new entries, drops; some entries nest a tree or a component.
fn keyed_case(seed: u64) -> Vec<Value> {
    let mut rng = Rng(seed);
    let mut next_key = 0u32;
    let mut list: Vec<(u32, String)> = Vec::new();
    for _ in 0..rng.below(5) {
        list.push((next_key, TEXTS[rng.below(TEXTS.len())].to_string()));
        next_key += 1;
    }
    let entry = |key: u32, text: &str, nested: bool| {
        if nested {
            json!({"0": key.to_string(), "1": {"0": text, "s": ["<b>", "</b>"]}})
        } else {
            json!({"0": key.to_string(), "1": text})
        }
    };
    let nested = rng.below(2) == 0;
    let mut entries = serde_json::Map::new();
    for (index, (key, text)) in list.iter().enumerate() {
        entries.insert(index.to_string(), entry(*key, text, nested));
    }
    entries.insert("kc".into(), list.len().into());
    let mut diffs = vec![
        json!({"0": {"s": ["<li id=\"", "\">", "</li>"], "k": entries}, "1": 1,
        "s": ["<ul>", "</ul>", ""], "c": {"1": {"0": "c0", "r": 1, "s": ["<p>", "</p>"]}}}),
    ];
    let mut cids = 1u64;
    for step in 0..8 {
        let old = list.clone();
        match rng.below(5) {
            0 if !list.is_empty() => {
                let at = rng.below(list.len());
                list.remove(at);
            }
            1 => {
                let at = rng.below(list.len() + 1);
                list.insert(at, (next_key, TEXTS[rng.below(TEXTS.len())].to_string()));
                next_key += 1;
            }
            2 => list.reverse(),
            3 if !list.is_empty() => {
                let at = rng.below(list.len());
                list[at].1 = format!("{}{step}", list[at].1);
            }
            _ => {
                if list.len() > 1 {
                    let a = rng.below(list.len());
                    let b = rng.below(list.len());
                    list.swap(a, b);
                }
            }
        }
        let mut entries = serde_json::Map::new();
        let mut moved = false;
        for (index, (key, text)) in list.iter().enumerate() {
            match old.iter().position(|(old_key, _)| old_key == key) {
                Some(from) => {
                    let changed = &old[from].1 != text;
                    let change = if nested {
                        json!({"1": {"0": text}})
                    } else {
                        json!({"1": text})
                    };
                    match (from == index, changed) {
                        (true, false) => {}
                        (true, true) => {
                            entries.insert(index.to_string(), change);
                        }
                        (false, false) => {
                            moved = true;
                            entries.insert(index.to_string(), from.into());
                        }
                        (false, true) => {
                            moved = true;
                            entries.insert(index.to_string(), json!([from, change]));
                        }
                    }
                }
                None => {
                    entries.insert(index.to_string(), entry(*key, text, nested));
                }
            }
        }
        entries.insert("kc".into(), list.len().into());
        if moved {
            entries.insert("km".into(), true.into());
        }
        let mut diff = json!({"0": {"k": entries}});
        match rng.below(4) {
            0 => diff["c"] = json!({"1": {"0": format!("c{step}")}}),
            1 => {
                cids += 1;
                let share = if rng.below(2) == 0 {
                    json!(-1)
                } else {
                    json!(1)
                };
                diff["1"] = cids.into();
                diff["c"] = json!({"1": {"0": format!("one{step}")}});
                diff["c"][cids.to_string()] = json!({"0": format!("c{cids}"), "s": share});
            }
            _ => {}
        }
        diffs.push(diff);
    }
    diffs
}

#[test]
fn generated_keyed_and_component_sequences_agree_with_the_client() {
    let cases: usize = std::env::var("CINDER_MERGE_ORACLE_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(300);
    let generated: Vec<(String, Vec<Value>)> = (0..cases as u64)
        .map(|seed| (format!("seed {seed}"), keyed_case(seed)))
        .collect();
    let Some(oracle) = oracle() else { return };
    let replayed: Vec<(String, Vec<Value>)> = generated
        .iter()
        .map(|(_, diffs)| ("phx-oracle".to_string(), diffs.clone()))
        .collect();
    let answers = oracle.replay(&replayed).unwrap();
    for ((name, diffs), answer) in generated.iter().zip(answers) {
        if let Err((step, error)) = &answer {
            panic!("{name}: the client threw on diff {step} ({error}); the generator must make valid diffs");
        }
        if let Err(mismatch) = compare("phx-oracle", diffs, answer) {
            panic!("{name}: {mismatch}");
        }
    }
    println!("{cases} generated sequences agree with the official client");
}
