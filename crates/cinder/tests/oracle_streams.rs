//! The diff oracle for streams: random sequences of inserts (at the end,
//! the start, an index, with limits, update-only), deletes and resets,
//! diffed by the server and merged by the official client's `Rendered`
//! code in node. After each step the client must render exactly the items
//! that step inserted and hand its DOM patch exactly the inserts, deletes
//! and reset the server meant. Needs `assets/node_modules`.

#[path = "support/oracle.rs"]
mod support;

use cinder::live::{Insert, Stream};
use cinder::{diff, html, Dynamic, Rendered};
use serde_json::{json, Value};
use support::{run_oracle, Rng};

const CASES: u64 = 300;
const STEPS: usize = 12;

struct Song {
    id: u32,
    title: String,
}

fn page(songs: &Stream<Song>, heading: &str) -> (Rendered, Value) {
    let list = songs.render(|dom_id, song| {
        html! { <li id={dom_id} class="song"><b>{&song.title}</b></li> }
    });
    let streams = match &list {
        Dynamic::Stream(stream)
            if !stream.inserts.is_empty() || !stream.deletes.is_empty() || stream.reset =>
        {
            let inserts: Vec<Value> = stream
                .inserts
                .iter()
                .map(|i| {
                    json!([
                        i.dom_id,
                        i.at,
                        i.limit,
                        if i.update_only {
                            json!(true)
                        } else {
                            Value::Null
                        }
                    ])
                })
                .collect();
            let mut annotation = vec![
                json!(&*stream.reference),
                json!(inserts),
                json!(stream.deletes),
            ];
            if stream.reset {
                annotation.push(json!(true));
            }
            json!([annotation])
        }
        _ => json!([]),
    };
    let tree = html! {
        <section>
            <h2>{heading}</h2>
            <ul id="songs" phx-update="stream">{list}</ul>
        </section>
    };
    (tree, streams)
}

fn random_case(seed: u64) -> String {
    let mut rng = Rng(seed);
    let mut songs = Stream::new(|song: &Song| format!("songs-{}", song.id));
    let mut next_id = 0u32;
    let mut heading = "Songs".to_string();
    let mut steps = Vec::new();
    let mut held: Option<Rendered> = None;
    for step in 0..=STEPS {
        if step > 0 || rng.below(2) == 0 {
            for _ in 0..rng.below(4) {
                match rng.below(7) {
                    0 | 1 => {
                        next_id += 1;
                        songs.insert(Song {
                            id: next_id,
                            title: format!("song {next_id} <&>"),
                        });
                    }
                    2 => {
                        next_id += 1;
                        let at = rng.below(3) as i64;
                        let limit = rng
                            .below(3)
                            .checked_sub(1)
                            .map(|_| 5 - 10 * rng.below(2) as i64);
                        let mut insert = Insert::at(at);
                        if let Some(limit) = limit {
                            insert = insert.limit(limit);
                        }
                        songs.insert_with(
                            Song {
                                id: next_id,
                                title: format!("song {next_id}"),
                            },
                            insert,
                        );
                    }
                    3 if next_id > 0 => {
                        let id = 1 + rng.below(next_id as usize) as u32;
                        songs.insert_with(
                            Song {
                                id,
                                title: format!("song {id}, edited"),
                            },
                            Insert::append().update_only(),
                        );
                    }
                    4 if next_id > 0 => {
                        let id = 1 + rng.below(next_id as usize) as u32;
                        songs.delete(&Song {
                            id,
                            title: String::new(),
                        });
                    }
                    5 => {
                        let first = next_id + 1;
                        next_id += 2;
                        songs.reset((first..=next_id).map(|id| Song {
                            id,
                            title: format!("song {id}"),
                        }));
                    }
                    _ => heading = format!("Songs {}", rng.below(100)),
                }
            }
        }
        let (tree, streams) = page(&songs, &heading);
        let wire = match &held {
            None => diff::render(&tree),
            Some(old) => diff::diff(old, &tree),
        };
        steps.push(json!({
            "diff": serde_json::from_str::<Value>(wire.as_str()).expect("the diff is JSON"),
            "html": tree.to_html(),
            "streams": streams,
        }));
        held = Some(tree);
    }
    json!({"id": seed, "streams": true, "steps": steps}).to_string()
}

#[test]
fn stream_diffs_match_the_official_client() {
    let cases: Vec<String> = (1..=CASES).map(random_case).collect();
    let failures = run_oracle(cases);
    assert!(
        failures.is_empty(),
        "{} of {CASES} stream cases differ from the client; first: {:#}",
        failures.len(),
        failures[0]
    );
    println!("stream oracle: {CASES} cases of {STEPS} steps passed");
}
