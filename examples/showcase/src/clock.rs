//! `/clock`: updates pushed by the server. A timer sends the view a tick
//! every second; each tick re-renders and only the time goes out.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cinder::live::{LiveView, MountError, Params, Session, Socket};
use cinder::{html, Rendered};

/// The clock's state: the time it shows, in seconds since the epoch.
pub struct Clock {
    now: u64,
}

/// The timer's message.
#[derive(Clone)]
pub struct Tick;

impl LiveView for Clock {
    type Info = Tick;

    async fn mount(
        _params: &Params,
        _session: &Session,
        socket: &mut Socket<Self>,
    ) -> Result<Self, MountError> {
        // Only the connected view ticks; the dead render shows the time once.
        socket.send_interval(Tick, Duration::from_secs(1));
        Ok(Clock { now: now() })
    }

    async fn handle_info(&mut self, Tick: Tick, _socket: &mut Socket<Self>) {
        self.now = now();
    }

    fn render(&self) -> Rendered {
        let time = format!(
            "{:02}:{:02}:{:02}",
            self.now / 3600 % 24,
            self.now / 60 % 60,
            self.now % 60
        );
        html! {
            <main>
                <h1>"Clock"</h1>
                <p>"UTC time, from the server: "<time id="clock">{time}</time></p>
            </main>
        }
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}
