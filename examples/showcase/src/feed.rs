//! `/feed`: an endless feed on a stream. The view keeps no post: it sends
//! each page of posts once and forgets it, and the browser keeps the
//! elements. Scrolling to the bottom (`phx-viewport-bottom`) loads the next
//! page, and the stream's limit drops the oldest posts from the page, so
//! the browser keeps at most [`KEPT`] of them however far one scrolls.
//!
//! The feed's statistics load in the background (`assign_async`): the page
//! shows "Loading…" until they arrive, and a failed load shows why.

use std::time::Duration;

use cinder::live::{
    AsyncValue, Event, Insert, LiveView, MountError, Params, Session, Socket, Stream,
};
use cinder::{html, Rendered};

/// Posts per page.
pub const PAGE: u64 = 20;
/// Posts the browser keeps.
pub const KEPT: i64 = 60;

/// One post, made up from its number.
pub struct Post {
    id: u64,
}

impl Post {
    fn title(&self) -> String {
        format!("Post {}", self.id)
    }

    fn body(&self) -> &'static str {
        const LINES: [&str; 4] = [
            "Server-rendered, kept live over a WebSocket.",
            "Each page of posts is sent once and forgotten by the server.",
            "The browser keeps the elements; the stream's limit prunes them.",
            "Scroll on: the next page loads when the last post comes into view.",
        ];
        LINES[(self.id % 4) as usize]
    }
}

/// The feed's state: where the next page starts, the stream, and the
/// statistics loaded in the background.
pub struct Feed {
    next: u64,
    newest: u64,
    posts: Stream<Post>,
    stats: AsyncValue<String>,
}

/// How long the statistics take to "compute": long enough to see the
/// loading state.
const STATS_DELAY: Duration = Duration::from_millis(400);

fn load_stats(socket: &mut Socket<Feed>, fail: bool) {
    socket.assign_async("stats", |feed: &mut Feed| &mut feed.stats, async move {
        tokio::time::sleep(STATS_DELAY).await;
        if fail {
            panic!("the statistics service is down");
        }
        "1,024 readers today, 87 posts this hour".to_string()
    });
}

impl Feed {
    fn load_page(&mut self) {
        let page = (self.next..self.next + PAGE).map(|id| Post { id });
        self.posts.extend_with(page, Insert::append().limit(-KEPT));
        self.next += PAGE;
    }
}

impl LiveView for Feed {
    type Info = ();

    async fn mount(
        _params: &Params,
        _session: &Session,
        socket: &mut Socket<Self>,
    ) -> Result<Self, MountError> {
        let mut feed = Feed {
            next: 1,
            newest: 0,
            posts: socket.stream(|post: &Post| format!("posts-{}", post.id)),
            stats: AsyncValue::Loading,
        };
        load_stats(socket, false);
        feed.load_page();
        Ok(feed)
    }

    async fn handle_event(&mut self, event: Event, socket: &mut Socket<Self>) {
        match event.name() {
            "reload-stats" | "break-stats" => {
                self.stats = AsyncValue::Loading;
                load_stats(socket, event.name() == "break-stats");
            }
            "load-more" => self.load_page(),
            "publish" => {
                self.newest += 1;
                // Far above any page's ids, so the two never meet.
                let post = Post {
                    id: 1_000_000 + self.newest,
                };
                self.posts.insert_with(post, Insert::prepend().limit(KEPT));
            }
            "delete" => {
                if let Some(id) = event.get("id") {
                    self.posts.delete_by_dom_id(format!("posts-{id}"));
                }
            }
            _ => {}
        }
    }

    fn render(&self) -> Rendered {
        html! {
            <main>
                <h1>"Feed"</h1>
                <p>
                    <button id="publish" phx-click="publish">"Publish a post"</button>
                    " Posts sent so far: "<span id="sent">{self.next - 1 + self.newest}</span>
                </p>
                <p id="stats">
                    @match &self.stats {
                        AsyncValue::Loading => { <span class="loading">"Loading statistics…"</span> }
                        AsyncValue::Ok(stats) => { <span class="loaded">{stats}</span> }
                        AsyncValue::Failed(error) => { <span class="error">"Statistics failed: "{error.to_string()}</span> }
                    }
                    " "<button id="reload-stats" phx-click="reload-stats">"Reload"</button>
                    <button id="break-stats" phx-click="break-stats">"Reload (failing)"</button>
                </p>
                <ul id="posts" phx-update="stream" phx-viewport-bottom="load-more" style="list-style: none; padding: 0">
                    {self.posts.render(|dom_id, post| html! {
                        <li id={dom_id} class="post" style="min-height: 5rem; border-bottom: 1px solid #8884; padding: 0.5rem 0">
                            <b>{post.title()}</b>
                            <p>{post.body()}</p>
                            <button class="delete" phx-click="delete" phx-value-id={post.id}>"Delete"</button>
                        </li>
                    })}
                </ul>
            </main>
        }
    }
}
