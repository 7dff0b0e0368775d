//! `/components`: stateful components. Each card is a [`LiveComponent`]
//! with its own count; its buttons target the card itself (`phx-target`),
//! so a click renders that card alone. The view resets every card with
//! `send_update`, adds and removes cards (removed ones are freed once the
//! browser drops them), and a card that panics shows an error in its place
//! while the rest of the page goes on: an error boundary. The page also
//! holds a nested live view, the clock, with a process of its own.

use cinder::live::{
    live_component, live_render, ComponentSocket, Event, LiveComponent, LiveView, MountError,
    Params, Session, Socket,
};
use cinder::{html, Cid, Component, Rendered};

/// The page: which cards are on it, and how many were ever added.
pub struct Components {
    cards: Vec<u32>,
    added: u32,
}

impl LiveView for Components {
    type Info = ();

    async fn mount(
        _params: &Params,
        _session: &Session,
        _socket: &mut Socket<Self>,
    ) -> Result<Self, MountError> {
        Ok(Components {
            cards: vec![1, 2, 3],
            added: 3,
        })
    }

    async fn handle_event(&mut self, event: Event, socket: &mut Socket<Self>) {
        match event.name() {
            "add" => {
                self.added += 1;
                self.cards.push(self.added);
            }
            "remove" => {
                self.cards.pop();
            }
            "reset" => {
                for card in &self.cards {
                    socket.send_update::<Card>(card_id(*card), Count(0));
                }
            }
            _ => {}
        }
    }

    fn render(&self) -> Rendered {
        html! {
            <main>
                <h1>"Components"</h1>
                <nav>
                    <button id="add" phx-click="add">"Add a card"</button>
                    <button id="remove" phx-click="remove">"Remove the last card"</button>
                    <button id="reset" phx-click="reset">"Reset every card"</button>
                </nav>
                <div id="cards" class="cards">
                    @for card in &self.cards, key = *card {
                        {live_component::<Card>(card_id(*card), format!("Card {card}"))}
                    }
                </div>
                <h2>"A nested live view"</h2>
                {live_render::<crate::clock::Clock>("nested-clock", Session::default())}
            </main>
        }
    }
}

fn card_id(card: u32) -> String {
    format!("card-{card}")
}

/// Sets a card's count; sent with `send_update`.
pub struct Count(pub i64);

/// One card: a title from its props, a count of its own.
pub struct Card {
    count: i64,
}

impl LiveComponent for Card {
    type Props = String;
    type Update = Count;

    fn mount(_title: &String, _socket: &mut ComponentSocket) -> Self {
        Card { count: 0 }
    }

    async fn handle_event(&mut self, event: Event, socket: &mut ComponentSocket) {
        match event.name() {
            "inc" => self.count += 1,
            "dec" => self.count -= 1,
            "crash" => panic!("this card was asked to crash"),
            "share" => socket.put_flash("info", format!("A card shared its count: {}", self.count)),
            _ => {}
        }
    }

    fn handle_update(&mut self, Count(count): Count, _socket: &mut ComponentSocket) {
        self.count = count;
    }

    fn render(&self, title: &String, myself: Cid) -> Rendered {
        html! {
            <section class="card" data-count={self.count}>
                <Panel title={title.clone()}>
                    <button class="dec" phx-click="dec" phx-target={myself}>"-"</button>
                    <span class="count">{self.count}</span>
                    <button class="inc" phx-click="inc" phx-target={myself}>"+"</button>
                    <:actions>
                        <button class="share" phx-click="share" phx-target={myself}>"Share"</button>
                        <button class="crash" phx-click="crash" phx-target={myself}>"Crash"</button>
                    </:actions>
                </Panel>
            </section>
        }
    }
}

/// A function component with an inner block and an `actions` slot, used by
/// every card.
struct Panel {
    title: String,
    inner_block: Rendered,
    actions: Rendered,
}

impl Component for Panel {
    fn render(self) -> Rendered {
        html! {
            <div class="panel">
                <h2>{self.title}</h2>
                <p>{self.inner_block}</p>
                <p class="actions">{self.actions}</p>
            </div>
        }
    }
}
