//! The wire format of a broadcast between nodes, version 1.
//!
//! Every node of one namespace publishes to, and subscribes to, a single
//! Redis channel named `cinder:<namespace>`. Each Redis message is one JSON
//! object:
//!
//! ```json
//! {"v":1,"node":"web-1","topic":"room:lobby","type":"my_app::Chat","payload":{"text":"hi"}}
//! ```
//!
//! | field | meaning |
//! | --- | --- |
//! | `v` | the format version, `1`. A node drops (and logs) messages of a version it does not know. |
//! | `node` | the sending node's name; a node ignores its own messages, which it has already delivered locally. |
//! | `topic` | the PubSub topic. |
//! | `type` | the Rust type name of the message; subscribers of that type on `topic` receive it. |
//! | `payload` | the message, as `serde_json` encodes it. |
//!
//! Nodes that exchange messages must run builds that agree on the type names
//! and their serde representation, which holds for nodes of one release.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// The version this build writes and reads.
pub const VERSION: u32 = 1;

#[derive(Serialize)]
struct Outgoing<'a> {
    v: u32,
    node: &'a str,
    topic: &'a str,
    #[serde(rename = "type")]
    type_name: &'a str,
    payload: &'a RawValue,
}

/// A message received from the broker.
#[derive(Deserialize, Debug)]
pub struct Incoming {
    /// The format version.
    pub v: u32,
    /// The sending node.
    pub node: String,
    /// The PubSub topic.
    pub topic: String,
    /// The message's type name.
    #[serde(rename = "type")]
    pub type_name: String,
    /// The encoded message.
    pub payload: Box<RawValue>,
}

/// Why a message from the broker was dropped.
#[derive(Debug, thiserror::Error)]
pub enum EnvelopeError {
    /// Not a version-1 envelope.
    #[error("not a cinder broadcast: {0}")]
    Malformed(#[from] serde_json::Error),
    /// A version this node does not read.
    #[error("broadcast format version {0} is not supported (this node reads version {VERSION})")]
    Version(u32),
}

/// Encodes one broadcast. `payload` must be JSON.
pub fn encode(
    node: &str,
    topic: &str,
    type_name: &str,
    payload: &[u8],
) -> Result<Vec<u8>, EnvelopeError> {
    let payload: &RawValue = serde_json::from_slice(payload)?;
    Ok(serde_json::to_vec(&Outgoing {
        v: VERSION,
        node,
        topic,
        type_name,
        payload,
    })?)
}

/// Decodes one broadcast.
pub fn decode(bytes: &[u8]) -> Result<Incoming, EnvelopeError> {
    let incoming: Incoming = serde_json::from_slice(bytes)?;
    if incoming.v != VERSION {
        return Err(EnvelopeError::Version(incoming.v));
    }
    Ok(incoming)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_format_round_trips() {
        let bytes = encode("web-1", "room:lobby", "my_app::Chat", br#"{"text":"hi"}"#).unwrap();
        assert_eq!(
            String::from_utf8(bytes.clone()).unwrap(),
            r#"{"v":1,"node":"web-1","topic":"room:lobby","type":"my_app::Chat","payload":{"text":"hi"}}"#
        );
        let incoming = decode(&bytes).unwrap();
        assert_eq!(
            (
                incoming.node.as_str(),
                incoming.topic.as_str(),
                incoming.type_name.as_str()
            ),
            ("web-1", "room:lobby", "my_app::Chat")
        );
        assert_eq!(incoming.payload.get(), r#"{"text":"hi"}"#);
    }

    #[test]
    fn other_versions_and_garbage_are_refused() {
        let future = br#"{"v":2,"node":"n","topic":"t","type":"x","payload":1}"#;
        assert!(matches!(decode(future), Err(EnvelopeError::Version(2))));
        for garbage in [&b""[..], b"[]", b"{\"v\":1}", b"\xff"] {
            assert!(matches!(decode(garbage), Err(EnvelopeError::Malformed(_))));
        }
    }
}
