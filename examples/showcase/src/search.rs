//! `/search`: search as you type. The input's `phx-change` sends the query
//! (debounced by the client); the view filters a built-in list.

use cinder::live::{Event, LiveView, MountError, Params, Session, Socket};
use cinder::{html, Rendered};
use serde::Deserialize;

const LANGUAGES: &[&str] = &[
    "Ada",
    "Bash",
    "C",
    "C#",
    "C++",
    "Clojure",
    "COBOL",
    "Crystal",
    "D",
    "Dart",
    "Elixir",
    "Elm",
    "Erlang",
    "F#",
    "Fortran",
    "Gleam",
    "Go",
    "Groovy",
    "Haskell",
    "Java",
    "JavaScript",
    "Julia",
    "Kotlin",
    "Lisp",
    "Lua",
    "Nim",
    "OCaml",
    "Odin",
    "Pascal",
    "Perl",
    "PHP",
    "Prolog",
    "Python",
    "R",
    "Racket",
    "Ruby",
    "Rust",
    "Scala",
    "Scheme",
    "Smalltalk",
    "SQL",
    "Swift",
    "Tcl",
    "TypeScript",
    "V",
    "Zig",
];

/// The query and what matches it.
pub struct Search {
    query: String,
}

#[derive(Deserialize)]
struct Form {
    #[serde(default)]
    q: String,
}

impl LiveView for Search {
    type Info = ();

    async fn mount(
        params: &Params,
        _session: &Session,
        _socket: &mut Socket<Self>,
    ) -> Result<Self, MountError> {
        Ok(Search {
            query: params.get("q").unwrap_or_default().to_string(),
        })
    }

    async fn handle_event(&mut self, event: Event, _socket: &mut Socket<Self>) {
        if event.name() == "search" {
            if let Ok(form) = event.decode::<Form>() {
                self.query = form.q;
            }
        }
    }

    fn render(&self) -> Rendered {
        let needle = self.query.trim().to_lowercase();
        let matches: Vec<&str> = LANGUAGES
            .iter()
            .copied()
            .filter(|name| !needle.is_empty() && name.to_lowercase().contains(&needle))
            .collect();
        let count = matches.len();
        html! {
            <main>
                <h1>"Search"</h1>
                <form id="search" phx-change="search" phx-submit="search">
                    <input type="text" name="q" value={self.query.as_str()} placeholder="A language…" phx-debounce="100" autocomplete="off">
                </form>
                <p id="count">{count}" matches"</p>
                <ul id="results">
                    @for name in matches, key = name { <li>{name}</li> }
                </ul>
            </main>
        }
    }
}
