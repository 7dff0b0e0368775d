//! The official client is the oracle: random templates and random sequences
//! of state changes are diffed by Cinder, merged by `phoenix_live_view`'s own
//! `Rendered` code running in node, and the HTML the client ends up with must
//! equal both a fresh client render of the same state and Cinder's dead render.
//!
//! Needs `assets/node_modules` (`npm ci --prefix assets`, which
//! `scripts/test.sh` runs). `CINDER_ORACLE_CASES` and `CINDER_ORACLE_SEED`
//! change the number of cases and the seed.

#[path = "support/oracle.rs"]
mod support;

use support::{run_oracle, Rng};

use cinder::__private::ListBuilder;
use cinder::memo::RenderCache;
use cinder::{diff, html, Dynamic, IntoDynamic, Raw, Rendered, Template};

const DEFAULT_CASES: usize = 10_000;
const STEPS: usize = 8;

const TEXTS: &[&str] = &[
    "",
    "1",
    "42",
    "hello",
    "<script>alert('x')</script>",
    "a & b",
    "\"quoted\"",
    "it's",
    "multi\nline",
    "ünïcødé ✓",
    "back\\slash",
    "nul\u{0}byte",
    "   spaced   ",
    "</div>",
];

const PIECES: &[&str] = &[
    "",
    " ",
    "\n  ",
    "a&amp;b",
    "<b>bold</b>",
    "it's \"q\"",
    "ü→",
    "<br>",
    "text",
];

#[derive(Clone, Copy)]
enum Slot {
    Text,
    Attr,
    Nested(usize),
    Branch(usize, usize),
    List {
        entry: usize,
        keyed: bool,
        memo: bool,
    },
}

struct Shape {
    template: &'static Template,
    slots: Vec<Slot>,
}

/// A random family of templates; each may nest only templates made before it.
fn shapes(rng: &mut Rng) -> Vec<Shape> {
    let count = 2 + rng.below(5);
    let mut shapes: Vec<Shape> = Vec::with_capacity(count);
    for i in 0..count {
        let slot_count = rng.below(5);
        let slots: Vec<Slot> = (0..slot_count).map(|_| random_slot(rng, i)).collect();
        shapes.push(Shape {
            template: random_template(rng, i, &slots),
            slots,
        });
    }
    shapes
}

fn random_slot(rng: &mut Rng, earlier: usize) -> Slot {
    if earlier == 0 {
        return if rng.chance(70) {
            Slot::Text
        } else {
            Slot::Attr
        };
    }
    match rng.below(6) {
        0 => Slot::Text,
        1 => Slot::Attr,
        2 => Slot::Nested(rng.below(earlier)),
        3 => Slot::Branch(rng.below(earlier), rng.below(earlier)),
        _ => Slot::List {
            entry: rng.below(earlier),
            keyed: rng.chance(70),
            memo: rng.chance(50),
        },
    }
}

fn random_template(rng: &mut Rng, index: usize, slots: &[Slot]) -> &'static Template {
    let root = rng.chance(60);
    let tag = *rng.pick(&["div", "section", "li", "span"]);
    let mut statics = Vec::with_capacity(slots.len() + 1);
    let mut current = if root {
        format!("<{tag} class=\"t{index}\">")
    } else {
        String::new()
    };
    current.push_str(PIECES[rng.below(PIECES.len())]);
    for slot in slots {
        if matches!(slot, Slot::Attr) {
            current.push_str("<i");
        }
        statics.push(std::mem::take(&mut current));
        if matches!(slot, Slot::Attr) {
            current.push_str(">x</i>");
        }
        current.push_str(PIECES[rng.below(PIECES.len())]);
    }
    if root {
        current.push_str(&format!("</{tag}>"));
    }
    statics.push(current);
    Template::leak(statics, root)
}

/// The state behind one template: a value per slot.
#[derive(Clone)]
struct Node {
    values: Vec<Value_>,
}

#[derive(Clone)]
enum Value_ {
    Text(String),
    Attr(Option<String>),
    Nested(Node),
    Branch(Option<(bool, Node)>),
    List(Vec<Item>),
}

#[derive(Clone)]
struct Item {
    key: u64,
    version: u64,
    node: Node,
}

struct World {
    shapes: Vec<Shape>,
    rng: Rng,
    counter: u64,
}

impl World {
    fn fresh(&mut self) -> u64 {
        self.counter += 1;
        self.counter
    }

    fn text(&mut self) -> String {
        (*self.rng.pick(TEXTS)).to_owned()
    }

    fn node(&mut self, shape: usize, depth: usize) -> Node {
        let slots = self.shapes[shape].slots.clone();
        let values = slots.iter().map(|slot| self.value(*slot, depth)).collect();
        Node { values }
    }

    fn value(&mut self, slot: Slot, depth: usize) -> Value_ {
        match slot {
            Slot::Text => Value_::Text(self.text()),
            Slot::Attr => Value_::Attr(self.rng.chance(60).then(|| self.text())),
            Slot::Nested(shape) => Value_::Nested(self.node(shape, depth + 1)),
            Slot::Branch(a, b) => Value_::Branch(self.branch(a, b, depth)),
            Slot::List { entry, .. } => {
                // Now and then a list long enough to span several chunks.
                let len = match depth {
                    0 if self.rng.chance(3) => 60 + self.rng.below(100),
                    0..=2 => self.rng.below(5),
                    _ => 0,
                };
                Value_::List((0..len).map(|_| self.item(entry, depth)).collect())
            }
        }
    }

    fn branch(&mut self, a: usize, b: usize, depth: usize) -> Option<(bool, Node)> {
        match self.rng.below(3) {
            0 => None,
            1 => Some((true, self.node(a, depth + 1))),
            _ => Some((false, self.node(b, depth + 1))),
        }
    }

    fn item(&mut self, shape: usize, depth: usize) -> Item {
        Item {
            key: self.fresh(),
            version: self.fresh(),
            node: self.node(shape, depth + 1),
        }
    }

    /// Changes one random place under `node`; returns whether anything changed.
    fn mutate(&mut self, node: &mut Node, shape: usize, depth: usize) -> bool {
        if node.values.is_empty() {
            return false;
        }
        let i = self.rng.below(node.values.len());
        let slot = self.shapes[shape].slots[i];
        match (&mut node.values[i], slot) {
            (Value_::Text(text), _) => {
                *text = (*self.rng.pick(TEXTS)).to_owned();
                true
            }
            (Value_::Attr(value), _) => {
                *value = self
                    .rng
                    .chance(60)
                    .then(|| (*self.rng.pick(TEXTS)).to_owned());
                true
            }
            (Value_::Nested(inner), Slot::Nested(s)) => self.mutate(inner, s, depth + 1),
            (Value_::Branch(current), Slot::Branch(a, b)) => match current {
                Some((first, inner)) if self.rng.chance(50) => {
                    let s = if *first { a } else { b };
                    self.mutate(inner, s, depth + 1)
                }
                _ => {
                    *current = self.branch(a, b, depth);
                    true
                }
            },
            (Value_::List(items), Slot::List { entry, .. }) => {
                let mut items_owned = std::mem::take(items);
                let changed = self.mutate_list(&mut items_owned, entry, depth);
                if let Value_::List(items) = &mut node.values[i] {
                    *items = items_owned;
                }
                changed
            }
            _ => unreachable!("values follow their shape"),
        }
    }

    fn mutate_list(&mut self, items: &mut Vec<Item>, entry: usize, depth: usize) -> bool {
        let len = items.len();
        match self.rng.below(8) {
            0 | 1 if depth <= 2 => {
                let at = self.rng.below(len + 1);
                let item = self.item(entry, depth);
                items.insert(at, item);
            }
            7 if depth == 0 && len > 70 => {
                let from = self.rng.below(len - 66);
                items.drain(from..from + 1 + self.rng.below(65));
            }
            2 if len > 0 => {
                items.remove(self.rng.below(len));
            }
            3 if len > 1 => {
                let from = self.rng.below(len);
                let item = items.remove(from);
                items.insert(self.rng.below(len), item);
            }
            4 if len > 1 => items.reverse(),
            5 if len > 0 => {
                let i = self.rng.below(len);
                let mut node = items[i].node.clone();
                if self.mutate(&mut node, entry, depth + 1) {
                    items[i].node = node;
                    items[i].version = self.fresh();
                }
            }
            6 => items.clear(),
            _ if len > 1 => items.swap(0, len - 1),
            _ => return false,
        }
        true
    }

    fn render(&self, node: &Node, shape: usize) -> Rendered {
        Rendered::new(self.shapes[shape].template, self.dynamics(node, shape))
    }

    fn dynamics(&self, node: &Node, shape: usize) -> Vec<Dynamic> {
        let slots = &self.shapes[shape].slots;
        node.values
            .iter()
            .zip(slots)
            .map(|(value, slot)| self.dynamic(value, *slot))
            .collect()
    }

    fn dynamic(&self, value: &Value_, slot: Slot) -> Dynamic {
        match (value, slot) {
            (Value_::Text(text), _) => text.as_str().into_dynamic(),
            (Value_::Attr(value), _) => cinder::dynamic::attr("data-v", value),
            (Value_::Nested(node), Slot::Nested(s)) => {
                Dynamic::Nested(Box::new(self.render(node, s)))
            }
            (Value_::Branch(None), _) => Dynamic::empty(),
            (Value_::Branch(Some((first, node))), Slot::Branch(a, b)) => {
                Dynamic::Nested(Box::new(self.render(node, if *first { a } else { b })))
            }
            (Value_::List(items), Slot::List { entry, keyed, memo }) => {
                self.list(items, entry, keyed, memo)
            }
            _ => unreachable!("values follow their shape"),
        }
    }

    fn list(&self, items: &[Item], entry: usize, keyed: bool, memo: bool) -> Dynamic {
        let template = self.shapes[entry].template;
        let site = template.fingerprint() ^ entry as u64;
        let mut list = if memo {
            ListBuilder::memoized(template, items.len(), site)
        } else {
            ListBuilder::new(template, items.len())
        };
        for item in items {
            let key = if keyed {
                cinder::Key::of(&item.key)
            } else {
                list.next_index_key()
            };
            if memo {
                if !list.reuse(key, item.version) {
                    list.push_memo(key, item.version, self.dynamics(&item.node, entry));
                }
            } else {
                list.push(key, self.dynamics(&item.node, entry));
            }
        }
        list.finish()
    }
}

fn random_case(seed: u64) -> String {
    let mut rng = Rng(seed);
    let shapes = shapes(&mut rng);
    let root = shapes.len() - 1;
    let mut world = World {
        shapes,
        rng,
        counter: 0,
    };
    let mut state = world.node(root, 0);
    let mut cache = RenderCache::default();
    let mut held = cache.render(|| world.render(&state, root));
    let mut steps = vec![step(diff::render(&held), &held)];
    for _ in 0..STEPS {
        for _ in 0..1 + world.rng.below(3) {
            world.mutate(&mut state, root, 0);
        }
        let diff = next_diff(seed, &mut cache, &mut held, || world.render(&state, root));
        steps.push(step(diff, &held));
    }
    case_line(seed, &steps)
}

/// Renders the next tree through `cache`, replacing `held`, and returns the
/// diff from `held` to it: with `held`'s lists lent to the render (changed
/// in place where they can be) in the cases of even seeds, with the two
/// trees kept apart in the others.
fn next_diff(
    seed: u64,
    cache: &mut RenderCache,
    held: &mut Rendered,
    render: impl FnOnce() -> Rendered,
) -> cinder::Diff {
    if seed % 2 == 0 {
        return cache.render_diff(held, render);
    }
    let next = cache.render(render);
    let diff = diff::diff(held, &next);
    *held = next;
    diff
}

/// One step of a case as JSON text, the diffs embedded as the writer made them.
fn step(diff: cinder::Diff, state: &Rendered) -> String {
    let html = serde_json::to_string(&state.to_html()).expect("strings serialize");
    format!(
        r#"{{"diff":{},"full":{},"html":{html}}}"#,
        diff.as_str(),
        diff::render(state).as_str()
    )
}

fn case_line(id: u64, steps: &[String]) -> String {
    format!(r#"{{"id":{id},"steps":[{}]}}"#, steps.join(","))
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Runs `cases` cases made by `make_case` from consecutive seeds through the
/// client and fails with the first mismatch.
fn check_against_client(label: &str, cases: usize, make_case: fn(u64) -> String) {
    let seed = env_number("CINDER_ORACLE_SEED", 0x0c1d_e12c);
    let batch: Vec<String> = (0..cases as u64)
        .map(|i| make_case(seed.wrapping_add(i)))
        .collect();
    let failures = run_oracle(batch);
    assert!(
        failures.is_empty(),
        "{} of {cases} cases differ from the client (seed {seed:#x}); first: {:#}",
        failures.len(),
        failures[0]
    );
    println!("{label}: {cases} passed, 0 failed");
}

#[test]
fn random_diffs_match_the_official_client() {
    let cases = env_number("CINDER_ORACLE_CASES", DEFAULT_CASES as u64) as usize;
    check_against_client("oracle", cases, random_case);
}

struct Badge {
    label: String,
}

impl cinder::Component for Badge {
    fn render(self) -> Rendered {
        html! { <span class="badge">{self.label}</span> }
    }
}

struct Todo {
    id: u32,
    version: u64,
    title: String,
    done: bool,
    tags: Vec<String>,
}

struct Page {
    title: String,
    filter: Option<String>,
    mode: u8,
    todos: Vec<Todo>,
}

fn page(p: &Page) -> Rendered {
    html! {
        <main id="app" data-mode={p.mode}>
            <h1 class="title" {..title_attrs(p)}>{&p.title}{Raw(if p.mode == 2 { "<sup>2</sup>" } else { "" })}</h1>
            @if let Some(f) = &p.filter { <p class="filter">Filter: {f}</p> } else { <p>"No filter"</p> }
            @match p.mode { 0 => { <span>zero</span> } 1 => { one {&p.title} } _ => { <b>many</b><i>{p.mode}</i> } }
            <ul>
                @for todo in &p.todos, key = todo.id, memo = todo.version {
                    <li id={format!("todo-{}", todo.id)} class={if todo.done { "done" } else { "open" }}>
                        <input type="checkbox" checked={todo.done}>
                        {&todo.title}
                        @for tag in &todo.tags { <em>{tag}</em> }
                        @if todo.done { <Badge label="ok" /> }
                    </li>
                }
            </ul>
            @for (i, todo) in p.todos.iter().enumerate() { {i}: {&todo.title} }
        </main>
    }
}

fn title_attrs(p: &Page) -> Vec<(String, String)> {
    let mut attrs = vec![("data-mode".to_owned(), p.mode.to_string())];
    if let Some(filter) = &p.filter {
        attrs.push(("data-filter".to_owned(), filter.clone()));
        attrs.push((filter.clone(), "dropped unless a valid name".to_owned()));
    }
    attrs
}

fn mutate_page(p: &mut Page, rng: &mut Rng, next_id: &mut u32) {
    let len = p.todos.len();
    match rng.below(9) {
        0 => p.title = (*rng.pick(TEXTS)).to_owned(),
        1 => p.filter = rng.chance(50).then(|| (*rng.pick(TEXTS)).to_owned()),
        2 => p.mode = rng.below(3) as u8,
        3 | 4 if rng.chance(4) => {
            for _ in 0..60 + rng.below(80) {
                *next_id += 1;
                let at = rng.below(p.todos.len() + 1);
                let todo = Todo {
                    id: *next_id,
                    version: 0,
                    title: format!("t{next_id}"),
                    done: rng.chance(30),
                    tags: Vec::new(),
                };
                p.todos.insert(at, todo);
            }
        }
        3 | 4 => {
            *next_id += 1;
            let todo = Todo {
                id: *next_id,
                version: 0,
                title: (*rng.pick(TEXTS)).to_owned(),
                done: rng.chance(50),
                tags: (0..rng.below(3))
                    .map(|_| (*rng.pick(TEXTS)).to_owned())
                    .collect(),
            };
            p.todos.insert(rng.below(len + 1), todo);
        }
        5 if len > 0 => {
            p.todos.remove(rng.below(len));
        }
        6 if len > 1 => {
            let todo = p.todos.remove(rng.below(len));
            p.todos.insert(rng.below(len), todo);
        }
        7 if len > 0 => {
            let todo = &mut p.todos[rng.below(len)];
            todo.done = !todo.done;
            todo.version += 1;
        }
        _ if len > 0 => {
            let todo = &mut p.todos[rng.below(len)];
            if rng.chance(50) {
                todo.tags.push((*rng.pick(TEXTS)).to_owned());
            } else {
                todo.tags.clear();
            }
            todo.version += 1;
        }
        _ => p.todos.clear(),
    }
}

fn page_case(seed: u64) -> String {
    let mut rng = Rng(seed);
    let mut next_id = 0;
    let mut state = Page {
        title: "Todos".into(),
        filter: None,
        mode: 0,
        todos: Vec::new(),
    };
    for _ in 0..rng.below(4) {
        mutate_page(&mut state, &mut rng, &mut next_id);
    }
    let mut cache = RenderCache::default();
    let mut held = cache.render(|| page(&state));
    let mut steps = vec![step(diff::render(&held), &held)];
    for _ in 0..STEPS {
        for _ in 0..1 + rng.below(3) {
            mutate_page(&mut state, &mut rng, &mut next_id);
        }
        let diff = next_diff(seed, &mut cache, &mut held, || page(&state));
        steps.push(step(diff, &held));
    }
    case_line(seed, &steps)
}

#[test]
fn templates_from_the_macro_match_the_official_client() {
    let cases = env_number("CINDER_ORACLE_CASES", DEFAULT_CASES as u64) as usize / 5;
    check_against_client("oracle (html! templates)", cases, page_case);
}
