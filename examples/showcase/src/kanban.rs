//! `/kanban`: a board of cards in three columns, shared by every tab.
//!
//! The board belongs to one process, a [`GenServer`] under the showcase's
//! supervisor ([`Kanban::child_spec`]); views ask it for the board and send
//! it changes, one at a time. After each change it broadcasts the new board
//! on this node's PubSub, and every view of the board renders it, so a card
//! dragged in one tab moves in all of them, and a reload shows it where it
//! was left. (The board lives on the node that serves the tab: with several
//! nodes, each has its own.)
//!
//! Dragging is done in the browser by SortableJS, through the `Kanban` hook
//! of `assets/hooks.js`: a drop is pushed as `move` with the card, the
//! column and the position, the view replies with where the card ended up
//! (the hook's callback shows it) and pushes `card-moved`, which the hook
//! answers by flashing the card. The rest of the page's behaviour is JS
//! commands written in Rust with [`JS`]: the "New card" panel shown and
//! hidden with transitions, focus moved into it and back, a help text
//! toggled, a card starred (a class) or flashed (a dispatched DOM event),
//! and the "+" buttons that push `add` with the column as a value.

use std::fmt;
use std::sync::{Arc, Mutex};

use cinder::js::{Dispatch, Hide, Push, Selector, Show, Toggle, Transition, JS};
use cinder::live::{Event, LiveView, MountError, Params, Session, Socket};
use cinder::{html, Raw, Rendered};
use cinder_runtime::gen_server::{CallResult, GenServer, Server, ServerContext};
use cinder_runtime::pubsub::PubSub;
use cinder_runtime::supervisor::ChildSpec;
use cinder_runtime::ExitReason;
use serde_json::{json, Value};

/// The topic the board server broadcasts each new board on.
pub const TOPIC: &str = "kanban:board";
/// The columns: their ids, as the client names them, and their titles.
pub const COLUMNS: [(&str, &str); 3] = [("todo", "To do"), ("doing", "Doing"), ("done", "Done")];
/// The most cards the board holds.
pub const MAX_CARDS: usize = 100;
/// The longest card title, in characters.
pub const MAX_TITLE: usize = 60;

/// A card on the board.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Card {
    /// Unique on the board; the card's element is `#card-{id}`.
    pub id: u64,
    /// What the card says.
    pub title: String,
}

/// The cards of each column, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Board {
    /// One list per entry of [`COLUMNS`].
    columns: [Vec<Card>; 3],
    next_id: u64,
}

/// Where a card is: its column's index in [`COLUMNS`] and its position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Place {
    /// The column's index in [`COLUMNS`].
    pub column: usize,
    /// The card's position in the column, from 0.
    pub index: usize,
}

/// Why the board refused a change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BoardError {
    /// No card has this id (another tab may have changed the board).
    NoSuchCard(String),
    /// No column has this id.
    NoSuchColumn(String),
    /// The title is empty.
    EmptyTitle,
    /// The title has more than [`MAX_TITLE`] characters.
    TitleTooLong(usize),
    /// The board holds [`MAX_CARDS`] already.
    Full,
    /// The board's process is not running.
    Unavailable,
}

impl fmt::Display for BoardError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BoardError::NoSuchCard(card) => {
                write!(
                    f,
                    "there is no card {card:?}; reload to see the board as it is"
                )
            }
            BoardError::NoSuchColumn(column) => write!(
                f,
                "there is no column {column:?}; the columns are todo, doing and done"
            ),
            BoardError::EmptyTitle => write!(f, "write a title for the card first"),
            BoardError::TitleTooLong(length) => write!(
                f,
                "a title has at most {MAX_TITLE} characters; this one has {length}"
            ),
            BoardError::Full => write!(
                f,
                "the board holds {MAX_CARDS} cards already; move some to Done and start a new board"
            ),
            BoardError::Unavailable => {
                write!(f, "the board is restarting; try again in a moment")
            }
        }
    }
}

impl std::error::Error for BoardError {}

impl Default for Board {
    fn default() -> Self {
        Board::new()
    }
}

impl Board {
    /// The board a fresh server starts with: a few cards in each column.
    pub fn new() -> Board {
        let mut board = Board {
            columns: Default::default(),
            next_id: 1,
        };
        let cards = [
            ("todo", "Write the release notes"),
            ("todo", "Review the diff engine"),
            ("todo", "Try the kanban in two tabs"),
            ("doing", "Drag and drop through a hook"),
            ("doing", "Broadcast moves over PubSub"),
            ("done", "Render the board on the server"),
        ];
        for (column, title) in cards {
            board
                .add(column, title)
                .expect("the starting cards are valid");
        }
        board
    }

    /// The cards of the column at `index` in [`COLUMNS`].
    pub fn column(&self, index: usize) -> &[Card] {
        &self.columns[index]
    }

    /// Where the card `id` is.
    pub fn locate(&self, id: u64) -> Option<Place> {
        self.columns.iter().enumerate().find_map(|(column, cards)| {
            let index = cards.iter().position(|card| card.id == id)?;
            Some(Place { column, index })
        })
    }

    /// The card `id`.
    pub fn card(&self, id: u64) -> Option<&Card> {
        let place = self.locate(id)?;
        Some(&self.columns[place.column][place.index])
    }

    /// How many cards the board holds.
    pub fn len(&self) -> usize {
        self.columns.iter().map(Vec::len).sum()
    }

    /// Whether the board holds no card.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Moves the card `card` to position `index` of the column `to`
    /// (counted without the card itself; past the end means last), and
    /// returns where it is now.
    pub fn move_card(&mut self, card: u64, to: &str, index: usize) -> Result<Place, BoardError> {
        let column = column_index(to)?;
        let from = self
            .locate(card)
            .ok_or_else(|| BoardError::NoSuchCard(card.to_string()))?;
        let moving = self.columns[from.column].remove(from.index);
        let cards = &mut self.columns[column];
        let index = index.min(cards.len());
        cards.insert(index, moving);
        Ok(Place { column, index })
    }

    /// Adds a card titled `title` (trimmed) at the end of the column `to`,
    /// and returns its id.
    pub fn add(&mut self, to: &str, title: &str) -> Result<u64, BoardError> {
        let column = column_index(to)?;
        let title = title.trim();
        if title.is_empty() {
            return Err(BoardError::EmptyTitle);
        }
        let length = title.chars().count();
        if length > MAX_TITLE {
            return Err(BoardError::TitleTooLong(length));
        }
        if self.len() >= MAX_CARDS {
            return Err(BoardError::Full);
        }
        let id = self.next_id;
        self.next_id += 1;
        self.columns[column].push(Card {
            id,
            title: title.to_owned(),
        });
        Ok(id)
    }

    /// The id the next card added will get.
    pub fn next_id(&self) -> u64 {
        self.next_id
    }
}

fn column_index(id: &str) -> Result<usize, BoardError> {
    COLUMNS
        .iter()
        .position(|(column, _)| *column == id)
        .ok_or_else(|| BoardError::NoSuchColumn(id.to_owned()))
}

/// A change asked of the board's server.
#[derive(Debug)]
pub enum BoardCall {
    /// The board as it is.
    Get,
    /// [`Board::move_card`].
    Move {
        /// The card.
        card: u64,
        /// The column's id.
        to: String,
        /// The position in the column.
        index: usize,
    },
    /// [`Board::add`]; with no title, the card is named after its id.
    Add {
        /// The column's id.
        to: String,
        /// The title, if the user gave one.
        title: Option<String>,
    },
}

/// The process that owns the board.
pub struct BoardServer {
    board: Arc<Board>,
    pubsub: PubSub,
}

impl GenServer for BoardServer {
    type Args = Kanban;
    type Call = BoardCall;
    type Reply = Result<Arc<Board>, BoardError>;
    type Cast = ();
    type Info = ();

    async fn init(kanban: Kanban, ctx: &mut ServerContext<Self>) -> Result<Self, ExitReason> {
        *kanban.server.lock().unwrap_or_else(|e| e.into_inner()) = Some(ctx.server());
        Ok(BoardServer {
            board: Arc::new(Board::new()),
            pubsub: kanban.pubsub,
        })
    }

    async fn handle_call(
        &mut self,
        call: BoardCall,
        _ctx: &mut ServerContext<Self>,
    ) -> CallResult<Self::Reply> {
        let mut board = (*self.board).clone();
        let changed = match call {
            BoardCall::Get => return CallResult::Reply(Ok(self.board.clone())),
            BoardCall::Move { card, to, index } => board.move_card(card, &to, index).map(drop),
            BoardCall::Add { to, title } => {
                let title = title.unwrap_or_else(|| format!("Card {}", board.next_id()));
                board.add(&to, &title).map(drop)
            }
        };
        CallResult::Reply(changed.map(|()| {
            self.board = Arc::new(board);
            self.pubsub.local_broadcast(TOPIC, self.board.clone());
            self.board.clone()
        }))
    }
}

/// The handle views use to reach the board's server: give it to the router
/// with `.state(kanban)` and start [`child_spec`](Kanban::child_spec) under
/// a supervisor. A restarted server starts a fresh board.
#[derive(Clone)]
pub struct Kanban {
    pubsub: PubSub,
    server: Arc<Mutex<Option<Server<BoardServer>>>>,
}

impl Kanban {
    /// A handle whose server will broadcast on `pubsub`.
    pub fn new(pubsub: PubSub) -> Kanban {
        Kanban {
            pubsub,
            server: Arc::new(Mutex::new(None)),
        }
    }

    /// The board's server, as a supervisor's child.
    pub fn child_spec(&self) -> ChildSpec {
        ChildSpec::gen_server::<BoardServer>("kanban", self.clone())
    }

    /// Asks the board's server for `call`; the board after it.
    pub async fn call(&self, call: BoardCall) -> Result<Arc<Board>, BoardError> {
        let server = self
            .server
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let server = server.ok_or(BoardError::Unavailable)?;
        server
            .call(call)
            .await
            .unwrap_or(Err(BoardError::Unavailable))
    }
}

/// One tab's view of the board.
pub struct KanbanView {
    kanban: Kanban,
    board: Arc<Board>,
    error: Option<String>,
}

impl LiveView for KanbanView {
    type Info = Arc<Board>;

    async fn mount(
        _params: &Params,
        _session: &Session,
        socket: &mut Socket<Self>,
    ) -> Result<Self, MountError> {
        let kanban = socket.state::<Kanban>().cloned().ok_or_else(|| {
            MountError::new(
                503,
                "the board is missing: give the router a Kanban with .state(kanban)",
            )
        })?;
        if let Some(boards) = socket.recipient::<Arc<Board>>() {
            kanban.pubsub.subscribe_local(TOPIC, boards);
        }
        // Asked after subscribing, so no change falls between the two.
        let board = kanban
            .call(BoardCall::Get)
            .await
            .map_err(|error| MountError::new(503, error.to_string()))?;
        socket.set_title("Kanban");
        Ok(KanbanView {
            kanban,
            board,
            error: None,
        })
    }

    async fn handle_event(&mut self, event: Event, socket: &mut Socket<Self>) {
        match event.name() {
            "move" => self.move_card(&event, socket).await,
            "add" => self.add(&event).await,
            other => tracing::warn!(event = other, "the kanban has no such event"),
        }
    }

    async fn handle_info(&mut self, board: Arc<Board>, _socket: &mut Socket<Self>) {
        self.board = board;
    }

    fn render(&self) -> Rendered {
        let fade_in = Transition::new("fade").from("faded").to("opaque");
        let fade_out = Transition::new("fade").from("opaque").to("faded");
        let open_panel = JS::new()
            .push_focus(Selector::Interacted)
            .show(Show::to("#new-card").transition(fade_in.clone()).time(150))
            .set_attribute("aria-expanded", "true", "#new-card-toggle")
            .focus("#new-card-title");
        let close_panel = JS::new()
            .hide(Hide::to("#new-card").transition(fade_out.clone()).time(150))
            .set_attribute("aria-expanded", "false", "#new-card-toggle")
            .pop_focus();
        let submit = JS::new().push("add").concat(close_panel.clone());
        let help = JS::new()
            .toggle(
                Toggle::to("#kanban-help")
                    .transition_in(fade_in)
                    .transition_out(fade_out)
                    .time(150),
            )
            .toggle_attribute_between("aria-expanded", "true", "false", Selector::Interacted);
        let star = JS::new().toggle_class("starred", Selector::closest(".card"));
        let flash =
            JS::new().dispatch(Dispatch::event("kanban:flash").to(Selector::closest(".card")));
        html! {
            <main id="kanban">
                <style>{Raw(STYLE)}</style>
                <h1>"Kanban"</h1>
                <nav>
                    <button id="new-card-toggle" type="button" aria-expanded="false" aria-controls="new-card" phx-click={open_panel}>"New card"</button>
                    <button id="help-toggle" type="button" aria-expanded="false" aria-controls="kanban-help" phx-click={help}>"Help"</button>
                </nav>
                <p id="kanban-help" class="note" style="display: none">
                    "Drag cards within and between columns; every tab of this board sees the move. \
                     ☆ stars a card in this tab only, ⚑ flashes it."
                </p>
                <form id="new-card" class="panel" style="display: none" phx-submit={submit}>
                    <label for="new-card-title">"Title"</label>
                    <input id="new-card-title" type="text" name="title" value="" autocomplete="off" maxlength="60">
                    <label for="new-card-column">"Column"</label>
                    <select id="new-card-column" name="to">
                        @for (id, title) in COLUMNS {
                            <option value={id}>{title}</option>
                        }
                    </select>
                    <p>
                        <button id="new-card-add" type="submit">"Add"</button>
                        " "
                        <button id="new-card-cancel" type="button" phx-click={close_panel}>"Cancel"</button>
                    </p>
                </form>
                @if let Some(error) = &self.error {
                    <p id="board-error" class="error" role="alert">{error}</p>
                }
                <p id="kanban-status" class="note" phx-update="ignore" aria-live="polite"></p>
                <div class="board">
                    @for (index, (id, title)) in COLUMNS.iter().enumerate(), key = id {
                        <section class="column" aria-labelledby={format!("title-{id}")}>
                            <h2 id={format!("title-{id}")}>
                                {title}" "<span class="count">{self.board.column(index).len()}</span>
                                <button class="quick-add" type="button" title={format!("Add a card to {title}")} phx-click={JS::new().push(Push::event("add").value(json!({"to": id})))}>"+"</button>
                            </h2>
                            <ul id={format!("column-{id}")} class="cards" phx-hook="Kanban" data-column={*id}>
                                @for card in self.board.column(index), key = card.id {
                                    <li id={format!("card-{}", card.id)} class="card" data-card={card.id}>
                                        <span class="title">{card.title}</span>
                                        <button class="star" type="button" title="Star (this tab only)" phx-click={&star}>"☆"</button>
                                        <button class="flag" type="button" title="Flash" phx-click={&flash}>"⚑"</button>
                                    </li>
                                }
                            </ul>
                        </section>
                    }
                </div>
            </main>
        }
    }
}

impl KanbanView {
    /// A drop from the hook: `{card, to, index}`. Replies with where the
    /// card is now, or why it is not; the hook puts it back then.
    async fn move_card(&mut self, event: &Event, socket: &mut Socket<Self>) {
        let (card, to, index) = match move_args(event.value()) {
            Ok(args) => args,
            Err(error) => {
                socket.reply(json!({ "ok": false, "error": error.to_string() }));
                return;
            }
        };
        match self.kanban.call(BoardCall::Move { card, to, index }).await {
            Ok(board) => {
                self.board = board;
                self.error = None;
                let (place, title) = match (self.board.locate(card), self.board.card(card)) {
                    (Some(place), Some(found)) => (place, found.title.clone()),
                    _ => return,
                };
                let (column, column_title) = COLUMNS[place.column];
                socket.reply(json!({
                    "ok": true,
                    "card": card,
                    "title": title,
                    "column": column,
                    "column_title": column_title,
                    "index": place.index,
                }));
                socket.push_event("card-moved", json!({ "card": card }));
            }
            Err(error) => socket.reply(json!({ "ok": false, "error": error.to_string() })),
        }
    }

    /// A card from the panel's form (`title`, `to`) or a column's "+"
    /// button (`to` only).
    async fn add(&mut self, event: &Event) {
        let Some(to) = event.get("to") else {
            self.error = Some("say which column the card goes to".into());
            return;
        };
        let call = BoardCall::Add {
            to: to.to_owned(),
            title: event.get("title").map(str::to_owned),
        };
        match self.kanban.call(call).await {
            Ok(board) => {
                self.board = board;
                self.error = None;
            }
            Err(error) => self.error = Some(format!("The card was not added: {error}.")),
        }
    }
}

/// The card, column and position of a `move`. The card may come as a
/// number or as the text of its `data-card` attribute.
fn move_args(value: &Value) -> Result<(u64, String, usize), BoardError> {
    let card = match value.get("card") {
        Some(Value::Number(number)) => number.as_u64(),
        Some(Value::String(text)) => text.parse().ok(),
        _ => None,
    }
    .ok_or_else(|| {
        BoardError::NoSuchCard(value.get("card").map_or_else(String::new, Value::to_string))
    })?;
    let to = value
        .get("to")
        .and_then(Value::as_str)
        .ok_or_else(|| BoardError::NoSuchColumn(String::new()))?;
    let index = value
        .get("index")
        .and_then(Value::as_u64)
        .unwrap_or(u64::MAX);
    Ok((
        card,
        to.to_owned(),
        usize::try_from(index).unwrap_or(usize::MAX),
    ))
}

/// The board's look; the showcase's stylesheet does the rest.
const STYLE: &str = "
#kanban .board { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: 0.8rem; }
#kanban .column { border: 1px solid #8886; border-radius: 0.5rem; padding: 0.5rem; }
#kanban h2 { font-size: 1rem; margin: 0 0 0.5rem; display: flex; gap: 0.4rem; align-items: center; }
#kanban h2 .count { opacity: 0.6; font-weight: normal; }
#kanban h2 .quick-add { margin-left: auto; padding: 0 0.5rem; }
#kanban .cards { list-style: none; margin: 0; padding: 0 0 2.5rem; min-height: 4rem; }
#kanban .card { display: flex; gap: 0.3rem; align-items: center; padding: 0.5rem; margin: 0 0 0.4rem; border: 1px solid #8888; border-radius: 0.4rem; background: Canvas; cursor: grab; user-select: none; }
#kanban .card .title { flex: 1; }
#kanban .card button { padding: 0 0.35rem; border: none; }
#kanban .card.starred { border-color: var(--accent); box-shadow: inset 3px 0 0 var(--accent); }
#kanban .card.starred .star { color: var(--accent); }
#kanban .card.flash { animation: kanban-flash 1.2s ease-out; }
@keyframes kanban-flash { from { background: #ffd43b; } to { background: Canvas; } }
#kanban .sortable-ghost { opacity: 0.4; }
#kanban .panel { flex-direction: column; align-items: flex-start; gap: 0.2rem; padding: 0.8rem; margin: 0 0 1rem; border: 1px solid #8886; border-radius: 0.5rem; }
#kanban .note { opacity: 0.8; min-height: 1.5em; }
.fade { transition: opacity 150ms ease; }
.faded { opacity: 0; }
.opaque { opacity: 1; }
";

#[cfg(test)]
mod tests {
    use super::*;

    fn titles(board: &Board, column: usize) -> Vec<&str> {
        board
            .column(column)
            .iter()
            .map(|card| card.title.as_str())
            .collect()
    }

    fn board() -> Board {
        let mut board = Board {
            columns: Default::default(),
            next_id: 1,
        };
        for title in ["a", "b", "c"] {
            board.add("todo", title).unwrap();
        }
        board.add("doing", "d").unwrap();
        board
    }

    #[test]
    fn a_card_moves_within_its_column() {
        let mut board = board();
        // "a" to the end: positions count without the moving card.
        assert_eq!(
            board.move_card(1, "todo", 2),
            Ok(Place {
                column: 0,
                index: 2
            })
        );
        assert_eq!(titles(&board, 0), ["b", "c", "a"]);
        board.move_card(1, "todo", 0).unwrap();
        assert_eq!(titles(&board, 0), ["a", "b", "c"]);
    }

    #[test]
    fn a_card_moves_between_columns() {
        let mut board = board();
        assert_eq!(
            board.move_card(2, "doing", 0),
            Ok(Place {
                column: 1,
                index: 0
            })
        );
        assert_eq!(titles(&board, 0), ["a", "c"]);
        assert_eq!(titles(&board, 1), ["b", "d"]);
        board.move_card(4, "done", 0).unwrap();
        assert_eq!(titles(&board, 2), ["d"]);
        assert_eq!(board.len(), 4);
    }

    #[test]
    fn a_position_past_the_end_means_last() {
        let mut board = board();
        assert_eq!(
            board.move_card(1, "doing", 99),
            Ok(Place {
                column: 1,
                index: 1
            })
        );
        assert_eq!(titles(&board, 1), ["d", "a"]);
    }

    #[test]
    fn unknown_cards_and_columns_leave_the_board_as_it_was() {
        let mut board = board();
        let before = board.clone();
        assert_eq!(
            board.move_card(99, "todo", 0),
            Err(BoardError::NoSuchCard("99".into()))
        );
        assert_eq!(
            board.move_card(1, "later", 0),
            Err(BoardError::NoSuchColumn("later".into()))
        );
        assert_eq!(board, before);
    }

    #[test]
    fn titles_are_trimmed_and_limited() {
        let mut board = board();
        let id = board.add("done", "  ship it ").unwrap();
        assert_eq!(board.card(id).unwrap().title, "ship it");
        assert_eq!(board.add("done", "   "), Err(BoardError::EmptyTitle));
        assert_eq!(
            board.add("done", &"x".repeat(61)),
            Err(BoardError::TitleTooLong(61))
        );
        assert!(board.add("done", &"é".repeat(60)).is_ok());
    }

    #[test]
    fn the_board_has_a_limit() {
        let mut board = board();
        while board.len() < MAX_CARDS {
            board.add("todo", "more").unwrap();
        }
        assert_eq!(board.add("todo", "one more"), Err(BoardError::Full));
        assert!(BoardError::Full.to_string().contains("100 cards"));
    }

    #[test]
    fn move_arguments_come_as_the_hook_sends_them() {
        assert_eq!(
            move_args(&json!({"card": "7", "to": "done", "index": 2})),
            Ok((7, "done".into(), 2))
        );
        assert_eq!(
            move_args(&json!({"card": 7, "to": "done"})),
            Ok((7, "done".into(), usize::MAX))
        );
        assert!(move_args(&json!({"card": "x", "to": "done", "index": 0})).is_err());
        assert!(move_args(&json!({"card": 1, "index": 0})).is_err());
    }

    #[tokio::test]
    async fn the_server_applies_changes_in_turn_and_refuses_bad_ones() {
        let pubsub = PubSub::new();
        let kanban = Kanban::new(pubsub.clone());
        let server = cinder_runtime::gen_server::start::<BoardServer>(kanban.clone())
            .await
            .unwrap();
        let first = kanban.call(BoardCall::Get).await.unwrap();
        assert_eq!(*first, Board::new());
        let moved = kanban
            .call(BoardCall::Move {
                card: 1,
                to: "done".into(),
                index: 0,
            })
            .await
            .unwrap();
        assert_eq!(
            moved.locate(1),
            Some(Place {
                column: 2,
                index: 0
            })
        );
        assert_eq!(*kanban.call(BoardCall::Get).await.unwrap(), *moved);
        let refused = kanban
            .call(BoardCall::Add {
                to: "nowhere".into(),
                title: None,
            })
            .await;
        assert_eq!(refused, Err(BoardError::NoSuchColumn("nowhere".into())));
        let added = kanban
            .call(BoardCall::Add {
                to: "todo".into(),
                title: None,
            })
            .await
            .unwrap();
        let id = added.next_id() - 1;
        assert_eq!(added.card(id).unwrap().title, format!("Card {id}"));
        server.stop(ExitReason::Normal).await;
    }
}
