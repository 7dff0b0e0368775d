//! Signed tokens: data the server hands to the browser and later gets back,
//! unchanged and not too old.
//!
//! The session and static tokens of a live view's container, the flash
//! token and upload tokens are all signed with a [`Signer`]: HMAC-SHA256
//! under a key derived from the application's secret and a salt that names
//! the token's purpose, so a token of one kind is never accepted as another.
//! The browser never looks inside a token.
//!
//! ```
//! use std::time::Duration;
//! use cinder::token::{Signer, TokenError};
//!
//! let signer = Signer::new(b"a secret of at least sixty-four bytes, kept out of the repository!", "session");
//! let token = signer.sign(&("view", 42));
//! let data: (String, u32) = signer.verify(&token, Duration::from_secs(60)).unwrap();
//! assert_eq!(data, ("view".to_string(), 42));
//!
//! let other = Signer::new(b"a secret of at least sixty-four bytes, kept out of the repository!", "flash");
//! assert_eq!(other.verify::<(String, u32)>(&token, Duration::from_secs(60)), Err(TokenError::Invalid));
//! ```

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

const SIGNATURE_LEN: usize = 32;

/// The characters a signature takes in unpadded base64.
const SIGNATURE_TEXT_LEN: usize = (SIGNATURE_LEN * 4).div_ceil(3);

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a token this server could have made.
    #[error("the token is malformed")]
    Malformed,
    /// The signature does not match: forged, altered, or signed for another purpose.
    #[error("the token's signature is invalid")]
    Invalid,
    /// The token is older than its maximum age.
    #[error("the token has expired")]
    Expired,
}

/// Signs and verifies tokens for one purpose (its salt).
///
/// A signer holds its key already absorbed into the hash's state, so a
/// clone copies that state: keep one signer per purpose and share it,
/// rather than a clone in every session.
#[derive(Clone)]
pub struct Signer {
    /// The HMAC with its key already absorbed: each token then costs only
    /// the hashing of its own bytes, not the key's two blocks again.
    keyed: HmacSha256,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signer { .. }")
    }
}

#[derive(Serialize)]
struct Envelope<'a, T> {
    d: &'a T,
    t: u64,
}

#[derive(Deserialize)]
struct Opened<T> {
    d: T,
    t: u64,
}

impl Signer {
    /// A signer whose key is derived from `secret` and `salt`.
    pub fn new(secret: &[u8], salt: &str) -> Self {
        let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes keys of any length");
        mac.update(b"cinder token key\0");
        mac.update(salt.as_bytes());
        let key = mac.finalize().into_bytes();
        Signer {
            keyed: HmacSha256::new_from_slice(&key).expect("HMAC takes keys of any length"),
        }
    }

    /// Signs `data`, stamped with the current time.
    pub fn sign<T: Serialize>(&self, data: &T) -> String {
        self.sign_at(data, now())
    }

    /// Signs `data` as if at `signed_at` seconds since the Unix epoch.
    pub fn sign_at<T: Serialize>(&self, data: &T, signed_at: u64) -> String {
        let json = serde_json::to_vec(&Envelope {
            d: data,
            t: signed_at,
        })
        .expect("token data serializes to JSON");
        // The whole token's length is known from its JSON's: made in one
        // allocation, not grown for the signature.
        let mut token = String::with_capacity(
            base64::encoded_len(json.len(), false).expect("a token's JSON is far below usize::MAX")
                + 1
                + SIGNATURE_TEXT_LEN,
        );
        URL_SAFE_NO_PAD.encode_string(json, &mut token);
        let signature = self.mac(token.as_bytes()).finalize().into_bytes();
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(signature, &mut token);
        token
    }

    /// Checks `token` and returns its data if it is genuine and at most `max_age` old.
    pub fn verify<T: DeserializeOwned>(
        &self,
        token: &str,
        max_age: Duration,
    ) -> Result<T, TokenError> {
        self.verify_at(token, max_age, now())
    }

    /// Like [`verify`](Signer::verify), with `now` in seconds since the Unix epoch.
    pub fn verify_at<T: DeserializeOwned>(
        &self,
        token: &str,
        max_age: Duration,
        now: u64,
    ) -> Result<T, TokenError> {
        let (message, signature) = token.split_once('.').ok_or(TokenError::Malformed)?;
        let signature: [u8; SIGNATURE_LEN] =
            decode_exact(signature).ok_or(TokenError::Malformed)?;
        self.mac(message.as_bytes())
            .verify_slice(&signature)
            .map_err(|_| TokenError::Invalid)?;
        let json = URL_SAFE_NO_PAD
            .decode(message)
            .map_err(|_| TokenError::Malformed)?;
        let opened: Opened<T> = serde_json::from_slice(&json).map_err(|_| TokenError::Malformed)?;
        if now.saturating_sub(opened.t) > max_age.as_secs() {
            return Err(TokenError::Expired);
        }
        Ok(opened.d)
    }

    fn mac(&self, message: &[u8]) -> HmacSha256 {
        let mut mac = self.keyed.clone();
        mac.update(message);
        mac
    }
}

/// The `N` bytes that `text` holds in unpadded URL-safe base64, decoded
/// on the stack; `None` for text of any other length or alphabet.
pub(crate) fn decode_exact<const N: usize>(text: &str) -> Option<[u8; N]> {
    // Exactly `N` bytes take this many characters; any other length is
    // turned away before decoding.
    if text.len() != (N * 4).div_ceil(3) {
        return None;
    }
    let mut bytes = [0u8; N];
    let written = URL_SAFE_NO_PAD.decode_slice(text, &mut bytes).ok()?;
    (written == N).then_some(bytes)
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    const HOUR: Duration = Duration::from_secs(3600);

    fn signer() -> Signer {
        Signer::new(SECRET, "session")
    }

    #[test]
    fn a_token_round_trips_within_its_age() {
        let token = signer().sign_at(&vec!["a", "b"], 1_000);
        let data: Vec<String> = signer().verify_at(&token, HOUR, 1_000 + 3_600).unwrap();
        assert_eq!(data, ["a", "b"]);
    }

    /// The token is HMAC-SHA256 over the base64 of its JSON, keyed by an
    /// HMAC of the secret and salt: tokens issued by an earlier build of
    /// the server stay valid after a restart.
    #[test]
    fn a_token_is_the_documented_hmac() {
        let expected = "eyJkIjoidmlldyIsInQiOjEwMDB9.O6CZCA7wMkOVo4I8bCFSxv4QPCNVHCgK82lU-aZd0RI";
        let token = signer().sign_at(&"view", 1_000);
        assert_eq!(token, expected);
        assert_eq!(token.capacity(), token.len(), "made at its length");
        assert_eq!(
            signer().verify_at::<String>(expected, HOUR, 1_000).unwrap(),
            "view"
        );
    }

    #[test]
    fn exact_decoding_takes_only_the_bytes_asked_for() {
        let bytes: [u8; 32] = std::array::from_fn(|i| (i * 37) as u8);
        let text = URL_SAFE_NO_PAD.encode(bytes);
        assert_eq!(decode_exact::<32>(&text), Some(bytes));
        // One character more or less, padding, the standard alphabet's
        // `+`: refused.
        for wrong in [
            text[1..].to_string(),
            format!("{text}A"),
            format!("{}=", &text[..42]),
            format!("+{}", &text[1..]),
        ] {
            assert_eq!(decode_exact::<32>(&wrong), None, "{wrong}");
        }
        assert_eq!(decode_exact::<31>(&text), None);
    }

    #[test]
    fn an_old_token_has_expired() {
        let token = signer().sign_at(&1u8, 1_000);
        assert_eq!(
            signer().verify_at::<u8>(&token, HOUR, 1_000 + 3_601),
            Err(TokenError::Expired)
        );
    }

    #[test]
    fn any_change_to_the_token_invalidates_it() {
        let token = signer().sign_at(&"admin=false", 1_000);
        let (message, signature) = token.split_once('.').unwrap();
        let forged = URL_SAFE_NO_PAD.encode(br#"{"d":"admin=true","t":1000}"#);
        for tampered in [
            format!("{forged}.{signature}"),
            format!("{message}.{}", URL_SAFE_NO_PAD.encode([0u8; 32])),
            format!("{message}x.{signature}"),
        ] {
            assert_eq!(
                signer().verify_at::<String>(&tampered, HOUR, 1_000),
                Err(TokenError::Invalid),
                "{tampered}"
            );
        }
    }

    #[test]
    fn another_salt_or_secret_cannot_verify() {
        let token = signer().sign_at(&1u8, 1_000);
        let other_salt = Signer::new(SECRET, "static");
        let other_secret = Signer::new(&SECRET[1..], "session");
        for other in [other_salt, other_secret] {
            assert_eq!(
                other.verify_at::<u8>(&token, HOUR, 1_000),
                Err(TokenError::Invalid)
            );
        }
    }

    #[test]
    fn garbage_is_malformed_not_a_panic() {
        for garbage in ["", ".", "abc", "a.b.c", "!!!.???", "\u{1F600}.\u{1F600}"] {
            assert_eq!(
                signer().verify_at::<u8>(garbage, HOUR, 0),
                Err(TokenError::Malformed),
                "{garbage:?}"
            );
        }
    }

    #[test]
    fn a_genuine_token_of_another_type_is_malformed() {
        let token = signer().sign_at(&"text", 1_000);
        assert_eq!(
            signer().verify_at::<u64>(&token, HOUR, 1_000),
            Err(TokenError::Malformed)
        );
    }
}
