//! The `lvu:<entry ref>` channel: one process per file, which claims its
//! entry from the view named in the token, writes the binary chunks to the
//! entry's temporary file, and ends when the file is consumed or cancelled,
//! when its view ends, or when the upload breaks a rule.

use std::sync::Arc;
use std::time::Duration;

use cinder_runtime::{Context, ExitReason, Message, Recipient};
use serde::Deserialize;
use tokio::io::AsyncWriteExt;
use tokio::sync::oneshot;

use super::{Registration, ToView, UploadService, UploadToken, TOKEN_MAX_AGE};
use crate::socket::serializer::{Inbound, Payload, ReplyStatus};
use crate::socket::{ChannelMessage, JoinFuture, JoinRefused, JoinRequest, Joined, Outbox};

/// How long a join waits for the view to answer before it gives up.
const REGISTER_PATIENCE: Duration = Duration::from_secs(10);

#[derive(Deserialize)]
struct JoinPayload {
    token: String,
}

/// Joins `lvu:<entry ref>` with the preflight's token: starts the channel's
/// process once the view accepts it. Refusals, as the client expects them:
/// `invalid_token` (forged, expired, for another entry, or for a view that
/// is gone), `already_registered` (a token used already), `disallowed` (an
/// entry that may not be sent), `writer_error` (no temporary file).
pub(crate) fn join<C>(service: Arc<UploadService>, request: JoinRequest<C>) -> JoinFuture<'static>
where
    C: Send + Sync + 'static,
{
    Box::pin(async move {
        let invalid = || JoinRefused::reason("invalid_token");
        let entry_ref = request
            .topic
            .strip_prefix("lvu:")
            .ok_or_else(|| JoinRefused::reason("unmatched topic"))?
            .to_string();
        let payload: JoinPayload =
            serde_json::from_str(request.payload.get()).map_err(|_| invalid())?;
        let token: UploadToken = service
            .signer
            .verify(&payload.token, TOKEN_MAX_AGE)
            .map_err(|error| {
                tracing::warn!(%error, topic = %request.topic, "refused an upload token");
                invalid()
            })?;
        if token.entry != entry_ref {
            tracing::warn!(topic = %request.topic, "refused an upload token made for another entry");
            return Err(invalid());
        }
        let Some((_, view)) = service.views.lookup(token.view.as_str()).into_iter().next() else {
            return Err(invalid());
        };
        let (joined, answer) = oneshot::channel();
        let outbox = request.outbox;
        let pid = cinder_runtime::spawn(move |ctx: Context<ChannelMessage>| {
            run(ctx, outbox, view, token, joined)
        });
        match answer.await {
            Ok(Ok(())) => Ok(Joined {
                inbox: Recipient::new(&pid).expect("an upload channel receives ChannelMessage"),
                response: "{}".into(),
            }),
            Ok(Err(refused)) => Err(refused),
            Err(_) => Err(JoinRefused::reason("join crashed")),
        }
    })
}

async fn run(
    mut ctx: Context<ChannelMessage>,
    outbox: Outbox,
    view: Recipient<ToView>,
    token: UploadToken,
    joined: oneshot::Sender<Result<(), JoinRefused>>,
) -> ExitReason {
    let (reply, registered) = oneshot::channel();
    view.send(ToView::Register {
        upload_ref: token.upload,
        entry_ref: token.entry,
        channel: ctx.pid(),
        reply,
    });
    let registration = match tokio::time::timeout(REGISTER_PATIENCE, registered).await {
        Ok(Ok(Ok(registration))) => registration,
        Ok(Ok(Err(reason))) => {
            let _ = joined.send(Err(JoinRefused::reason(reason)));
            return ExitReason::Normal;
        }
        // The view ended before it answered.
        _ => {
            let _ = joined.send(Err(JoinRefused::reason("invalid_token")));
            return ExitReason::Normal;
        }
    };
    // Either end takes the other down: the view monitors this process,
    // this process monitors the view.
    ctx.monitor(view.pid());
    if joined.send(Ok(())).is_err() {
        return ExitReason::Normal;
    }
    Receiver::new(registration, outbox).serve(&mut ctx).await
}

/// Writes one file from its chunks.
struct Receiver {
    outbox: Outbox,
    /// The size the client declared, and the most it may send.
    size: u64,
    received: u64,
    chunk_timeout: Duration,
    file: Arc<super::TempFile>,
    /// Open while bytes are still to come.
    writer: Option<tokio::fs::File>,
}

impl Receiver {
    fn new(registration: Registration, outbox: Outbox) -> Self {
        let Registration {
            size,
            chunk_timeout,
            file,
            handle,
        } = registration;
        let writer = (!file.is_complete()).then(|| tokio::fs::File::from_std(handle));
        Receiver {
            outbox,
            size,
            received: 0,
            chunk_timeout,
            file,
            writer,
        }
    }

    async fn serve(mut self, ctx: &mut Context<ChannelMessage>) -> ExitReason {
        loop {
            let message = if self.writer.is_some() {
                match ctx.recv_timeout(self.chunk_timeout).await {
                    Some(message) => message,
                    None => {
                        tracing::info!(
                            topic = %self.outbox.topic(),
                            received = self.received,
                            size = self.size,
                            "an upload sent no chunk within its chunk timeout; closing it"
                        );
                        return ExitReason::shutdown_with("chunk timeout");
                    }
                }
            } else {
                ctx.recv().await
            };
            match message {
                Message::User(ChannelMessage::Event(inbound)) => {
                    if let Some(reason) = self.event(inbound).await {
                        return reason;
                    }
                }
                Message::User(ChannelMessage::Leave { msg_ref }) => {
                    self.outbox.reply(msg_ref.as_deref(), ReplyStatus::Ok, "{}");
                    return ExitReason::Normal;
                }
                // The view ended: nobody will consume the file.
                Message::Down { .. } => return ExitReason::shutdown_with("view closed"),
                Message::Exit { reason, .. } => return reason,
            }
        }
    }

    /// Handles a message; returns a reason to stop.
    async fn event(&mut self, inbound: Inbound) -> Option<ExitReason> {
        let msg_ref = inbound.msg_ref();
        let Payload::Binary(bytes) = inbound.payload() else {
            let response = r#"{"reason":"an upload channel takes binary chunk pushes only"}"#;
            self.outbox.reply(msg_ref, ReplyStatus::Error, response);
            return None;
        };
        if inbound.event() != "chunk" {
            let response = r#"{"reason":"an upload channel takes chunk pushes only"}"#;
            self.outbox.reply(msg_ref, ReplyStatus::Error, response);
            return None;
        }
        let length = bytes.len() as u64;
        let Some(writer) = self
            .writer
            .as_mut()
            .filter(|_| self.received + length <= self.size)
        else {
            tracing::warn!(
                topic = %self.outbox.topic(),
                size = self.size,
                "an upload sent more bytes than it declared; closing it"
            );
            let response = format!(
                r#"{{"reason":"file_size_limit_exceeded","limit":{}}}"#,
                self.size
            );
            self.outbox.reply(msg_ref, ReplyStatus::Error, &response);
            return Some(ExitReason::shutdown_with("file size limit exceeded"));
        };
        let written = match writer.write_all(bytes).await {
            Ok(()) if self.received + length == self.size => writer.flush().await,
            other => other,
        };
        if let Err(error) = written {
            tracing::error!(path = %self.file.path().display(), %error, "could not write an upload's chunk");
            self.outbox
                .reply(msg_ref, ReplyStatus::Error, r#"{"reason":"writer_error"}"#);
            return Some(ExitReason::shutdown_with("writer error"));
        }
        self.received += length;
        if self.received == self.size {
            // Closed before the client hears of it, so that by the time it
            // reports 100 % the file is whole on disk.
            self.writer = None;
            self.file.mark_complete();
        }
        self.outbox.reply(msg_ref, ReplyStatus::Ok, "{}");
        None
    }
}
