//! CSRF protection for the socket connection and forms.
//!
//! The cookie session holds a random [`CsrfSecret`]. Pages get a token made
//! from it with a fresh random mask each time ([`CsrfSecret::token`]), so the
//! token in a page never repeats (which defeats compression side channels
//! such as BREACH). The socket's `_csrf_token` parameter must unmask to the
//! session's secret ([`CsrfSecret::verify`]); otherwise the session is not
//! trusted and every join is answered `stale`.
//!
//! ```
//! use cinder::csrf::CsrfSecret;
//!
//! let secret = CsrfSecret::generate();
//! let token = secret.token();
//! assert_ne!(token, secret.token(), "every page gets a different token");
//! assert!(secret.verify(&token));
//! assert!(!CsrfSecret::generate().verify(&token));
//! ```

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use subtle::ConstantTimeEq;

use crate::token::decode_exact;

const LEN: usize = 32;

/// The per-session CSRF secret.
#[derive(Clone, PartialEq, Eq)]
pub struct CsrfSecret([u8; LEN]);

impl std::fmt::Debug for CsrfSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CsrfSecret(..)")
    }
}

impl CsrfSecret {
    /// A new random secret.
    pub fn generate() -> Self {
        CsrfSecret(crate::random::bytes())
    }

    /// The secret as text, to store in the cookie session.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0)
    }

    /// Reads a secret stored with [`encode`](CsrfSecret::encode).
    pub fn decode(text: &str) -> Option<Self> {
        decode_exact(text).map(CsrfSecret)
    }

    /// A masked token for a page: a random mask followed by the secret XOR the mask.
    pub fn token(&self) -> String {
        let mask: [u8; LEN] = crate::random::bytes();
        let mut bytes = [0u8; 2 * LEN];
        bytes[..LEN].copy_from_slice(&mask);
        for (index, byte) in bytes[LEN..].iter_mut().enumerate() {
            *byte = self.0[index] ^ mask[index];
        }
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Whether `token` was made from this secret. Constant time in the secret.
    pub fn verify(&self, token: &str) -> bool {
        let Some(bytes) = decode_exact::<{ 2 * LEN }>(token) else {
            return false;
        };
        let (mask, masked) = bytes.split_at(LEN);
        let mut unmasked = [0u8; LEN];
        for ((byte, m), x) in unmasked.iter_mut().zip(mask).zip(masked) {
            *byte = m ^ x;
        }
        unmasked.ct_eq(&self.0).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_survives_the_session_round_trip() {
        let secret = CsrfSecret::generate();
        let stored = CsrfSecret::decode(&secret.encode()).unwrap();
        assert_eq!(stored, secret);
        assert!(stored.verify(&secret.token()));
    }

    #[test]
    fn forged_and_malformed_tokens_fail() {
        let secret = CsrfSecret::generate();
        let mut tampered = URL_SAFE_NO_PAD.decode(secret.token()).unwrap();
        tampered[40] ^= 1;
        for token in [
            String::new(),
            "not base64 !".to_string(),
            URL_SAFE_NO_PAD.encode([0u8; 63]),
            URL_SAFE_NO_PAD.encode(&tampered),
            secret.encode(),
        ] {
            assert!(!secret.verify(&token), "{token:?}");
        }
        assert!(CsrfSecret::decode("short").is_none());
    }
}
