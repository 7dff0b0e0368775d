//! `/counter`: the smallest live view. Each click is an event to the view's
//! process; the reply carries only the new count.

use cinder::live::{Event, LiveView, MountError, Params, Session, Socket};
use cinder::{html, Rendered};

/// The counter's state: just the count.
pub struct Counter {
    count: i64,
}

impl LiveView for Counter {
    type Info = ();

    async fn mount(
        _params: &Params,
        _session: &Session,
        _socket: &mut Socket<Self>,
    ) -> Result<Self, MountError> {
        Ok(Counter { count: 0 })
    }

    async fn handle_event(&mut self, event: Event, _socket: &mut Socket<Self>) {
        match event.name() {
            "inc" => self.count += 1,
            "dec" => self.count -= 1,
            "crash" => panic!("the counter was asked to crash"),
            _ => {}
        }
    }

    fn render(&self) -> Rendered {
        html! {
            <main>
                <h1>"Counter"</h1>
                <button id="dec" phx-click="dec">"-"</button>
                <span id="count">{self.count}</span>
                <button id="inc" phx-click="inc">"+"</button>
                <p><button id="crash" phx-click="crash">"Crash the view"</button>" (a supervisor heals it)"</p>
            </main>
        }
    }
}
