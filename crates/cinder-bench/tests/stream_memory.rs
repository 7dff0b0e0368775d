//! A view streaming 100,000 items keeps none of them: the server's heap,
//! counted by the allocator, is as large after the 100,000th item as after
//! the first thousand. (A view that kept the items as plain structs would
//! grow by several megabytes.)

use std::net::SocketAddr;

use cinder::live::{
    Config, Event, Insert, LiveRouter, LiveView, MountError, Params, Session, Socket, Stream,
};
use cinder::{html, Rendered};
use cinder_bench::heap::{allocated, Counting};
use cinder_bench::live_client::{LiveSession, Sources};

#[global_allocator]
static GLOBAL: Counting = Counting;

const BATCH: u64 = 1_000;
const BATCHES: u64 = 100;

struct Item {
    id: u64,
    text: String,
}

struct Firehose {
    next: u64,
    items: Stream<Item>,
}

impl LiveView for Firehose {
    type Info = ();

    async fn mount(_: &Params, _: &Session, socket: &mut Socket<Self>) -> Result<Self, MountError> {
        Ok(Firehose {
            next: 0,
            items: socket.stream(|item: &Item| format!("items-{}", item.id)),
        })
    }

    async fn handle_event(&mut self, event: Event, _: &mut Socket<Self>) {
        if event.name() == "more" {
            let batch = (self.next..self.next + BATCH).map(|id| Item {
                id,
                text: format!("item number {id}, with some text to make it weigh"),
            });
            self.items.extend_with(batch, Insert::append().limit(-100));
            self.next += BATCH;
        }
    }

    fn render(&self) -> Rendered {
        html! {
            <ul id="items" phx-update="stream">
                {self.items.render(|dom_id, item| html! { <li id={dom_id}>{&item.text}</li> })}
            </ul>
        }
    }
}

async fn more(session: &mut LiveSession) {
    let msg_ref = session.next_ref();
    let frame = session.event_frame(msg_ref, r#"{"type":"click","event":"more","value":{}}"#);
    session.socket.send_text(&frame).await.unwrap();
    let reply = session.socket.next_text().await.unwrap().unwrap();
    assert!(
        reply.contains(r#""stream""#),
        "a batch goes out as stream inserts"
    );
    assert!(
        reply.contains(&format!("items-{}", (msg_ref - 2 + 1) * BATCH - 1)),
        "{}",
        &reply[..200]
    );
}

#[tokio::test(flavor = "current_thread")]
async fn streaming_100_000_items_leaves_the_heap_where_it_was() {
    let router = LiveRouter::new(Config::new([1u8; 32]).unwrap())
        .live::<Firehose>("/firehose")
        .into_router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address: SocketAddr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { cinder::serve(listener, router).await });

    let mut session = LiveSession::open(&Sources::default(), address, "/firehose")
        .await
        .unwrap();
    // Warm up: buffers and tables reach their working size.
    for _ in 0..5 {
        more(&mut session).await;
    }
    let after_warm_up = allocated();
    for _ in 5..BATCHES {
        more(&mut session).await;
    }
    let after_all = allocated();
    let growth = after_all - after_warm_up;
    println!(
        "live heap after {} items: {after_warm_up} B; after {} items: {after_all} B; growth {growth} B",
        5 * BATCH,
        BATCHES * BATCH
    );
    // 95,000 more items of ~60 bytes of text each would be over 5.7 MB if kept.
    assert!(
        growth < 256 * 1024,
        "the heap grew by {growth} bytes over 95,000 streamed items"
    );
    server.abort();
}
