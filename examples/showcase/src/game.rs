//! `/game`: a small real-time game on a grid, driven by the keyboard and a
//! server tick.
//!
//! The arrow keys (or W, A, S, D) move the player, through a
//! `phx-window-keydown` binding: every key press anywhere on the page is an
//! event, and the view ignores the keys it has no use for. P pauses and
//! resumes, through a second binding filtered with `phx-key="p"`, so the
//! client sends only that key. A timer (`send_interval`) ticks the game: on
//! each tick the coin steps to a neighbouring cell. Reaching the coin scores
//! a point and puts a new coin somewhere else.
//!
//! The game is deterministic for tests: `?seed=N` fixes where coins appear
//! and how they move, and `?tick=MS` sets the tick's period (50 to 60,000
//! milliseconds; 600 by default).

use std::hash::{BuildHasher, RandomState};
use std::time::Duration;

use cinder::live::{Event, LiveView, MountError, Params, Session, Socket};
use cinder::{html, Raw, Rendered};

/// The grid's width, in cells.
pub const WIDTH: i32 = 10;
/// The grid's height, in cells.
pub const HEIGHT: i32 = 10;
/// The tick's period when the URL gives none.
pub const DEFAULT_TICK: Duration = Duration::from_millis(600);
const MIN_TICK_MS: u64 = 50;
const MAX_TICK_MS: u64 = 60_000;

/// A cell: column and row, from the top left.
pub type Cell = (i32, i32);

/// A move of the player.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// One row up.
    Up,
    /// One row down.
    Down,
    /// One column left.
    Left,
    /// One column right.
    Right,
}

impl Direction {
    /// The direction a key stands for: arrows, and W, A, S, D.
    pub fn from_key(key: &str) -> Option<Direction> {
        match key {
            "ArrowUp" | "w" | "W" => Some(Direction::Up),
            "ArrowDown" | "s" | "S" => Some(Direction::Down),
            "ArrowLeft" | "a" | "A" => Some(Direction::Left),
            "ArrowRight" | "d" | "D" => Some(Direction::Right),
            _ => None,
        }
    }

    fn step(self, (x, y): Cell) -> Cell {
        match self {
            Direction::Up => (x, y - 1),
            Direction::Down => (x, y + 1),
            Direction::Left => (x - 1, y),
            Direction::Right => (x + 1, y),
        }
    }
}

const DIRECTIONS: [Direction; 4] = [
    Direction::Up,
    Direction::Down,
    Direction::Left,
    Direction::Right,
];

fn on_grid((x, y): Cell) -> bool {
    (0..WIDTH).contains(&x) && (0..HEIGHT).contains(&y)
}

/// A small, seeded random number generator (xorshift64*): the same seed
/// gives the same game.
#[derive(Clone, Debug)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        // Zero is xorshift's one fixed point; mix the seed so small seeds differ.
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The state of one game.
#[derive(Clone, Debug)]
pub struct Game {
    player: Cell,
    coin: Cell,
    score: u32,
    ticks: u64,
    paused: bool,
    rng: Rng,
}

impl Game {
    /// A game with the player in the middle and a coin placed by `seed`.
    pub fn new(seed: u64) -> Game {
        let mut game = Game {
            player: (WIDTH / 2, HEIGHT / 2),
            coin: (0, 0),
            score: 0,
            ticks: 0,
            paused: false,
            rng: Rng::new(seed),
        };
        game.place_coin();
        game
    }

    /// Where the player is.
    pub fn player(&self) -> Cell {
        self.player
    }

    /// Where the coin is.
    pub fn coin(&self) -> Cell {
        self.coin
    }

    /// Coins collected.
    pub fn score(&self) -> u32 {
        self.score
    }

    /// Ticks played (not counting those while paused).
    pub fn ticks(&self) -> u64 {
        self.ticks
    }

    /// Whether ticks are ignored.
    pub fn paused(&self) -> bool {
        self.paused
    }

    /// Pauses a running game, or resumes a paused one.
    pub fn toggle_pause(&mut self) {
        self.paused = !self.paused;
    }

    /// Moves the player one cell, unless that leaves the grid or the game
    /// is paused.
    pub fn step(&mut self, direction: Direction) {
        let next = direction.step(self.player);
        if self.paused || !on_grid(next) {
            return;
        }
        self.player = next;
        self.collect();
    }

    /// One tick: the coin steps to a random neighbouring cell.
    pub fn tick(&mut self) {
        if self.paused {
            return;
        }
        self.ticks += 1;
        let choices: Vec<Cell> = DIRECTIONS
            .iter()
            .map(|direction| direction.step(self.coin))
            .filter(|cell| on_grid(*cell))
            .collect();
        let pick = self.rng.below(choices.len() as u64) as usize;
        self.coin = choices[pick];
        self.collect();
    }

    fn collect(&mut self) {
        if self.player == self.coin {
            self.score += 1;
            self.place_coin();
        }
    }

    /// Puts the coin on a random cell other than the player's.
    fn place_coin(&mut self) {
        let cells = (WIDTH * HEIGHT) as u64;
        loop {
            let n = self.rng.below(cells) as i32;
            let cell = (n % WIDTH, n / WIDTH);
            if cell != self.player {
                self.coin = cell;
                return;
            }
        }
    }
}

/// The timer's message.
#[derive(Clone)]
pub struct Tick;

/// The game's page.
pub struct GameView {
    game: Game,
    seed: u64,
    period: Duration,
}

impl LiveView for GameView {
    type Info = Tick;

    async fn mount(
        params: &Params,
        _session: &Session,
        socket: &mut Socket<Self>,
    ) -> Result<Self, MountError> {
        let seed = match params.get("seed") {
            Some(seed) => seed.parse().map_err(|_| {
                MountError::new(400, format!("?seed= takes a whole number, not {seed:?}"))
            })?,
            None => RandomState::new().hash_one(0u8),
        };
        let period = match params.get("tick") {
            Some(tick) => match tick.parse::<u64>() {
                Ok(ms) if (MIN_TICK_MS..=MAX_TICK_MS).contains(&ms) => Duration::from_millis(ms),
                _ => {
                    return Err(MountError::new(
                        400,
                        format!(
                            "?tick= takes a period in milliseconds from {MIN_TICK_MS} to {MAX_TICK_MS}, not {tick:?}"
                        ),
                    ))
                }
            },
            None => DEFAULT_TICK,
        };
        socket.send_interval(Tick, period);
        socket.set_title("Game");
        Ok(GameView {
            game: Game::new(seed),
            seed,
            period,
        })
    }

    async fn handle_event(&mut self, event: Event, _socket: &mut Socket<Self>) {
        match event.name() {
            "key" => {
                if let Some(direction) = event.get("key").and_then(Direction::from_key) {
                    self.game.step(direction);
                }
            }
            "pause" => self.game.toggle_pause(),
            "restart" => self.game = Game::new(self.seed),
            other => tracing::warn!(event = other, "the game has no such event"),
        }
    }

    async fn handle_info(&mut self, Tick: Tick, _socket: &mut Socket<Self>) {
        self.game.tick();
    }

    fn render(&self) -> Rendered {
        let game = &self.game;
        let (px, py) = game.player();
        let (cx, cy) = game.coin();
        let state = if game.paused() { "paused" } else { "running" };
        html! {
            <main id="game">
                <style>{Raw(STYLE)}</style>
                <h1>"Game"</h1>
                <p>
                    "Score "<strong id="score">{game.score()}</strong>
                    " · ticks "<span id="ticks">{game.ticks()}</span>
                    " · "<span id="state" phx-window-keydown="pause" phx-key="p">{state}</span>
                    " · one tick every "{self.period.as_millis()}" ms"
                </p>
                <div id="grid" class="grid" role="img" aria-label="The game's grid" phx-window-keydown="key"
                    data-player={format!("{px},{py}")} data-coin={format!("{cx},{cy}")}>
                    @for y in 0..HEIGHT {
                        <div class="row">
                            @for x in 0..WIDTH {
                                <span class={cell_class(game, (x, y))}></span>
                            }
                        </div>
                    }
                </div>
                <p class="note">"Arrow keys or W A S D move you (●) to the coin (◆), which moves on every tick. P pauses."</p>
                <button id="restart" type="button" phx-click="restart">"Restart"</button>
            </main>
        }
    }
}

fn cell_class(game: &Game, cell: Cell) -> &'static str {
    if cell == game.player() {
        "cell player"
    } else if cell == game.coin() {
        "cell coin"
    } else {
        "cell"
    }
}

/// The grid's look.
const STYLE: &str = "
#game .grid { display: inline-flex; flex-direction: column; border: 2px solid #8888; border-radius: 0.4rem; padding: 2px; }
#game .row { display: flex; }
#game .cell { width: 1.8rem; height: 1.8rem; margin: 1px; border-radius: 0.25rem; background: #8882; display: flex; align-items: center; justify-content: center; }
#game .player::after { content: '●'; color: var(--accent); font-size: 1.3rem; }
#game .coin::after { content: '◆'; color: #f59f00; font-size: 1.1rem; }
#game .note { opacity: 0.8; }
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_plays_the_same_game() {
        let mut first = Game::new(7);
        let mut second = Game::new(7);
        for _ in 0..50 {
            first.tick();
            second.tick();
            assert_eq!(first.coin(), second.coin());
        }
        assert_ne!(Game::new(7).coin(), Game::new(8).coin());
    }

    #[test]
    fn the_player_moves_one_cell_and_stays_on_the_grid() {
        let mut game = Game::new(1);
        assert_eq!(game.player(), (5, 5));
        game.step(Direction::Right);
        game.step(Direction::Down);
        assert_eq!(game.player(), (6, 6));
        for _ in 0..20 {
            game.step(Direction::Up);
        }
        assert_eq!(game.player().1, 0, "stopped at the top row");
        for _ in 0..20 {
            game.step(Direction::Left);
        }
        assert_eq!(game.player(), (0, 0));
    }

    #[test]
    fn the_coin_steps_to_a_neighbour_on_each_tick() {
        let mut game = Game::new(3);
        for _ in 0..200 {
            let (x, y) = game.coin();
            let score = game.score();
            game.tick();
            if game.score() == score {
                let (nx, ny) = game.coin();
                assert_eq!((nx - x).abs() + (ny - y).abs(), 1);
                assert!(on_grid(game.coin()));
            }
        }
        assert_eq!(game.ticks(), 200);
    }

    #[test]
    fn reaching_the_coin_scores_and_places_another() {
        let mut game = Game::new(11);
        while game.player() != game.coin() && game.score() == 0 {
            let (px, py) = game.player();
            let (cx, cy) = game.coin();
            let direction = if cx > px {
                Direction::Right
            } else if cx < px {
                Direction::Left
            } else if cy > py {
                Direction::Down
            } else {
                Direction::Up
            };
            game.step(direction);
        }
        assert_eq!(game.score(), 1);
        assert_ne!(game.coin(), game.player());
    }

    #[test]
    fn a_paused_game_ignores_ticks_and_keys() {
        let mut game = Game::new(5);
        game.toggle_pause();
        let (coin, player) = (game.coin(), game.player());
        game.tick();
        game.step(Direction::Left);
        assert_eq!(
            (game.coin(), game.player(), game.ticks()),
            (coin, player, 0)
        );
        game.toggle_pause();
        game.tick();
        assert_eq!(game.ticks(), 1);
    }

    #[test]
    fn keys_name_directions() {
        assert_eq!(Direction::from_key("ArrowUp"), Some(Direction::Up));
        assert_eq!(Direction::from_key("d"), Some(Direction::Right));
        assert_eq!(Direction::from_key("S"), Some(Direction::Down));
        assert_eq!(Direction::from_key("p"), None);
        assert_eq!(Direction::from_key("Enter"), None);
    }
}
