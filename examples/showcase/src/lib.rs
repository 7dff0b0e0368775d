//! The Cinder showcase as a library: every demo, the services they share,
//! and the router that serves them. `main.rs` runs it; tests build the same
//! router.

pub mod chat;
pub mod clock;
pub mod components;
pub mod counter;
pub mod dock;
pub mod feed;
pub mod form;
pub mod game;
pub mod kanban;
pub mod scripts;
pub mod search;
pub mod table;
pub mod upload;

use cinder::live::{Config, LiveRouter};
use cinder_runtime::presence::{Presence, PresenceConfig};
use cinder_runtime::pubsub::PubSub;
use cinder_runtime::supervisor::{Strategy, Supervisor, SupervisorSpec};

/// Each demo's path and what it shows, for the index page.
pub const DEMOS: &[(&str, &str)] = &[
    ("/counter", "A counter: buttons that change server state"),
    ("/clock", "A clock: updates pushed by a server timer"),
    ("/search", "Search as you type: a debounced phx-change"),
    (
        "/table",
        "A sortable, paginated table with its state in the URL",
    ),
    ("/form", "A sign-up form with live validation and a flash"),
    ("/chat", "A chat room: PubSub across tabs, presence"),
    (
        "/components",
        "Stateful components: phx-target, send_update, an error boundary",
    ),
    (
        "/feed",
        "An endless feed on a stream the server does not keep",
    ),
    (
        "/upload",
        "File uploads: progress bars, image previews, limits",
    ),
    (
        "/kanban",
        "A kanban board: drag and drop through a JS hook, shared by every tab; JS commands",
    ),
    (
        "/game",
        "A real-time game: window key events and a server tick",
    ),
];

/// The processes the demos share (PubSub, presence, the kanban board),
/// under one supervisor.
pub struct Services {
    supervisor: Supervisor,
    room: chat::Room,
    kanban: kanban::Kanban,
}

impl Services {
    /// Starts the services on `pubsub`. `node` names this node when PubSub
    /// spans several (presence must use the same name as the adapter).
    pub async fn start(pubsub: PubSub, node: Option<String>) -> Services {
        let mut presence_config = PresenceConfig::new();
        if let Some(node) = node {
            presence_config = presence_config.node(node);
        }
        let presence = Presence::new(&pubsub, presence_config);
        let room = chat::Room::new(pubsub.clone(), presence.clone());
        let kanban = kanban::Kanban::new(pubsub);
        let tree = SupervisorSpec::new(Strategy::OneForOne)
            .child(presence.child_spec("presence"))
            .child(room.roster_child_spec("chat roster"))
            .child(kanban.child_spec());
        let supervisor = Supervisor::start(tree)
            .await
            .expect("the presence, chat roster and kanban servers start");
        Services {
            supervisor,
            room,
            kanban,
        }
    }

    /// Starts the services of a single node, with PubSub in this process.
    pub async fn start_local() -> Services {
        Services::start(PubSub::new(), None).await
    }

    /// The showcase's router: every demo, the index, and the showcase's
    /// scripts (its client hooks, which every page loads, and SortableJS).
    pub fn router(&self, config: Config) -> axum::Router {
        if !scripts::sortable_available() {
            tracing::warn!(
                "SortableJS is not installed: /kanban cannot drag cards; run `npm ci --prefix assets`"
            );
        }
        LiveRouter::new(config)
            .hooks(scripts::HOOKS_URL)
            .state(self.room.clone())
            .state(self.kanban.clone())
            .live::<counter::Counter>("/counter")
            .live::<clock::Clock>("/clock")
            .live::<search::Search>("/search")
            .live::<table::Table>("/table")
            .live::<form::SignUp>("/form")
            .live::<chat::Chat>("/chat")
            .live::<upload::Uploads>("/upload")
            .live::<kanban::KanbanView>("/kanban")
            .live::<game::GameView>("/game")
            // Live navigation between these two keeps the sticky dock.
            .live_session("docked")
            .sticky::<dock::Dock>("dock")
            .live::<components::Components>("/components")
            .live::<feed::Feed>("/feed")
            .into_router()
            .route("/", axum::routing::get(index))
            .merge(scripts::routes())
    }

    /// Stops the services; stopping presence cleanly tells the other nodes
    /// this one has left.
    pub async fn stop(self) {
        self.supervisor.stop().await;
    }
}

async fn index() -> axum::response::Html<String> {
    let links: String = DEMOS
        .iter()
        .map(|(path, what)| format!(r#"<li><a href="{path}">{path}</a>: {what}</li>"#))
        .collect();
    axum::response::Html(format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Cinder showcase</title></head>\
         <body><h1>Cinder showcase</h1><ul>{links}</ul></body></html>\n"
    ))
}
