//! Serving an application: HTTP/1.1 on a listener, one task a connection,
//! set up for live pages.
//!
//! [`serve`] is `axum::serve` for an application of live pages, and takes
//! the same listeners (any [`axum::serve::Listener`]). It differs where
//! live pages gain:
//!
//! - it speaks HTTP/1.1 only, which is what the LiveView client's
//!   WebSocket and a browser's page loads use, so it reads a connection's
//!   first request at once instead of first looking for HTTP/2's preface
//!   (one read, and one parse of a partial request, fewer a connection);
//! - it turns Nagle's algorithm off on TCP connections: a live page sends
//!   small frames one after another, and Nagle's algorithm would hold each
//!   back until the client acknowledged the one before;
//! - it takes the [`Router`] itself, shared by every connection as it is.
//!
//! `axum::serve` works too: the WebSocket takes its TCP connection back
//! from either server.
//!
//! ```no_run
//! use cinder::live::{LiveRouter, Config};
//!
//! # async fn run() {
//! let app = LiveRouter::new(Config::random()).into_router();
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:4000").await.unwrap();
//! // Whatever ends the server: a signal handler, an admin endpoint.
//! let (_stop, stopped) = tokio::sync::oneshot::channel::<()>();
//! cinder::serve(listener, app)
//!     .with_graceful_shutdown(async {
//!         let _ = stopped.await;
//!     })
//!     .await;
//! # }
//! ```

use std::any::Any;
use std::future::{Future, IntoFuture, Pending};
use std::io;
use std::pin::{pin, Pin};

use axum::serve::Listener;
use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::watch;

/// Serves `router` on `listener` until the returned future is dropped, or,
/// with [`Serve::with_graceful_shutdown`], until a signal.
///
/// Await it to run the server; accept errors are the listener's to handle
/// (axum's listeners log them and go on).
pub fn serve<L: Listener>(listener: L, router: Router) -> Serve<L> {
    Serve {
        listener,
        router,
        signal: std::future::pending(),
    }
}

/// A server being set up; await it to run it. See [`serve`].
#[must_use = "a server does nothing until it is awaited"]
pub struct Serve<L, S = Pending<()>> {
    listener: L,
    router: Router,
    signal: S,
}

impl<L: Listener> Serve<L> {
    /// Stops accepting connections once `signal` completes, lets every
    /// connection finish the request it is answering, then completes.
    /// WebSockets already switched are not connections of the server any
    /// more: they live as long as their socket processes.
    pub fn with_graceful_shutdown<S>(self, signal: S) -> Serve<L, S>
    where
        S: Future<Output = ()> + Send + 'static,
    {
        Serve {
            listener: self.listener,
            router: self.router,
            signal,
        }
    }
}

impl<L: Listener, S> Serve<L, S> {
    /// The address the listener is bound to (the port the system chose
    /// for port 0, say).
    pub fn local_addr(&self) -> io::Result<L::Addr> {
        self.listener.local_addr()
    }
}

impl<L, S> IntoFuture for Serve<L, S>
where
    L: Listener,
    S: Future<Output = ()> + Send + 'static,
{
    type Output = ();
    type IntoFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(run(self.listener, self.router, self.signal))
    }
}

async fn run<L: Listener>(
    mut listener: L,
    router: Router,
    signal: impl Future<Output = ()> + Send,
) {
    // Every connection holds a receiver: it is told to finish through it,
    // and the sender sees the channel closed once every one has finished.
    let (finish, finishing) = watch::channel(false);
    let mut signal = pin!(signal);
    loop {
        let (mut io, _) = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut signal => break,
        };
        set_nodelay(&mut io);
        tokio::spawn(connection(io, router.clone(), finishing.clone()));
    }
    drop(listener);
    drop(finishing);
    // No receiver left means no connection left to tell.
    let _ = finish.send(true);
    finish.closed().await;
}

/// Serves one connection until it closes, or until told to finish.
async fn connection<I>(io: I, router: Router, mut finishing: watch::Receiver<bool>)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let connection = http1::Builder::new()
        .serve_connection(TokioIo::new(io), TowerToHyperService::new(router))
        .with_upgrades();
    let mut connection = pin!(connection);
    tokio::select! {
        served = connection.as_mut() => return log_end(served),
        // An error here is the server's future dropped: finish as well.
        _ = finishing.wait_for(|finish| *finish) => {}
    }
    connection.as_mut().graceful_shutdown();
    log_end(connection.await);
}

fn log_end(served: Result<(), hyper::Error>) {
    if let Err(error) = served {
        tracing::debug!(%error, "a connection ended with an error");
    }
}

/// Turns Nagle's algorithm off when `io` is a TCP connection.
fn set_nodelay<I: Any>(io: &mut I) {
    if let Some(tcp) = (io as &mut dyn Any).downcast_mut::<TcpStream>() {
        // A connection that refuses is served anyway, only slower.
        let _ = tcp.set_nodelay(true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_tcp_connection_gets_nagles_algorithm_turned_off() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap());
        let (accepted, client) = tokio::join!(listener.accept(), client);
        let (mut accepted, _) = accepted.unwrap();
        assert!(!accepted.nodelay().unwrap());
        set_nodelay(&mut accepted);
        assert!(accepted.nodelay().unwrap());
        drop(client);
    }
}
