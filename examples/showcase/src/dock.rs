//! The dock: a sticky live view on the pages of the `docked` live session
//! (`/components`, `/feed`). Its links navigate live between them, and it
//! keeps its process and its state across that navigation (a player, a
//! chat box or a basket would live here).

use cinder::live::{Event, LiveView, MountError, Params, Session, Socket};
use cinder::{html, Rendered};

/// Pages the dock links to, navigated live (same live session).
const LINKS: &[(&str, &str)] = &[("/components", "Components"), ("/feed", "Feed")];

/// The dock's state: how many times its button was pressed.
pub struct Dock {
    pins: u32,
}

impl LiveView for Dock {
    type Info = ();

    async fn mount(
        _params: &Params,
        _session: &Session,
        _socket: &mut Socket<Self>,
    ) -> Result<Self, MountError> {
        Ok(Dock { pins: 0 })
    }

    async fn handle_event(&mut self, event: Event, _socket: &mut Socket<Self>) {
        if event.name() == "pin" {
            self.pins += 1;
        }
    }

    fn render(&self) -> Rendered {
        // Fixed to the bottom of the window, as a dock is: it stays where
        // it is while the page under it grows (the feed loads more posts
        // as it is scrolled), and the room kept below the page keeps its
        // last lines from being hidden under it.
        html! {
            <div class="dock-room" style="height: 3rem"></div>
            <aside class="dock" style="position: fixed; left: 0; right: 0; bottom: 0; padding: 0.5rem 1rem; background: Canvas; border-top: 1px solid #8884">
                <nav>
                    "Sticky dock: "
                    @for (path, label) in LINKS {
                        <a href={*path} data-phx-link="redirect" data-phx-link-state="push">{*label}</a>
                    }
                    <button id="dock-pin" phx-click="pin">"Pin"</button>
                    <span id="dock-pins">{self.pins}</span>
                </nav>
            </aside>
        }
    }
}
