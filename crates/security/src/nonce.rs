//! Nonces (DIGEST.md §3.3, §3.5, §4.1): generation, their b64 form in `NextNonce`, the zero
//! nonce of notification resynchronisation, and the rules for when a received nonce replaces the
//! stored one.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use rand::RngCore as _;

use crate::cred::AuthScheme;

/// DIGEST.md §4.1: the resynchronisation nonce "0x00000000" read as four zero bytes.
pub const ZERO_BYTES: &[u8] = &[0, 0, 0, 0];

/// DIGEST.md §4.1: the same nonce as libdmclient reads it, the 10 ASCII characters
/// `0x00000000`. The spec wording allows both; a verifier should try both.
pub const ZERO_ASCII: &[u8] = b"0x00000000";

/// A `NextNonce` that is not valid base64 (its Meta Format is `b64`, DIGEST.md §3.3).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NonceError {
    /// Not base64: 400, the Chal is malformed (RepPro 1.2 §10).
    #[error("NextNonce is not valid base64")]
    InvalidBase64,
}

impl NonceError {
    /// The status code: 400 Bad request.
    pub const fn status(&self) -> u16 {
        400
    }
}

/// A nonce: raw bytes. The hash formulas use these bytes, not their b64 text (DIGEST.md §3.3).
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Nonce(Vec<u8>);

impl Nonce {
    /// DIGEST.md §3.3: nonces SHOULD be at least 128 bits.
    pub const LEN: usize = 16;

    /// A fresh, hard-to-predict nonce of [`Nonce::LEN`] bytes from the OS generator
    /// (DIGEST.md §3.3: fresh per session, and per message under HMAC, §3.5).
    pub fn generate() -> Self {
        let mut bytes = vec![0u8; Self::LEN];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Nonce(bytes)
    }

    /// A nonce from raw bytes.
    pub fn from_bytes(bytes: impl Into<Vec<u8>>) -> Self {
        Nonce(bytes.into())
    }

    /// [`ZERO_BYTES`] as a nonce.
    pub fn zero_bytes() -> Self {
        Nonce(ZERO_BYTES.to_vec())
    }

    /// [`ZERO_ASCII`] as a nonce.
    pub fn zero_ascii() -> Self {
        Nonce(ZERO_ASCII.to_vec())
    }

    /// Whether this is the resynchronisation nonce in either reading (DIGEST.md §4.1).
    pub fn is_zero(&self) -> bool {
        self.0 == ZERO_BYTES || self.0 == ZERO_ASCII
    }

    /// The raw bytes, as the digest formulas use them.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The `NextNonce` text (Format `b64`, standard alphabet with padding).
    pub fn to_b64(&self) -> String {
        STANDARD.encode(&self.0)
    }

    /// Decodes a received `NextNonce`; whitespace from wrapped base64 is ignored.
    pub fn from_b64(text: &str) -> Result<Self, NonceError> {
        crate::cred::decode_b64(text)
            .map(Nonce)
            .ok_or(NonceError::InvalidBase64)
    }
}

impl std::fmt::Debug for Nonce {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Nonce({})", self.to_b64())
    }
}

impl AsRef<[u8]> for Nonce {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// The nonce one side uses to build credentials toward its peer, as both client and server
/// engines keep it (DIGEST.md §3.3): the peer's latest `Chal` nonce is used at once, even if the
/// peer has not yet authenticated, but it replaces the stored nonce only once the peer has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NonceState {
    current: Nonce,
    pending: Option<Nonce>,
}

impl NonceState {
    /// Starts from the stored nonce (DMAcc `AAuthData`, or the last one persisted).
    pub fn new(current: Nonce) -> Self {
        NonceState {
            current,
            pending: None,
        }
    }

    /// The stored nonce: what to persist. Changes only in [`NonceState::on_authenticated`].
    pub fn current(&self) -> &Nonce {
        &self.current
    }

    /// A nonce received but not yet committed.
    pub fn pending(&self) -> Option<&Nonce> {
        self.pending.as_ref()
    }

    /// A `Chal` brought `next`: accept it even though the challenger may not be authenticated
    /// yet; the latest one wins (DIGEST.md §3.3).
    pub fn on_chal(&mut self, next: Nonce) {
        self.pending = Some(next);
    }

    /// The peer authenticated: the pending nonce becomes the stored one (DIGEST.md §3.3).
    pub fn on_authenticated(&mut self) {
        if let Some(next) = self.pending.take() {
            self.current = next;
        }
    }

    /// The session ended without the peer authenticating: forget the pending nonce so the
    /// stored one stays (DIGEST.md §3.3: do not overwrite until authentication succeeds).
    pub fn on_session_end(&mut self) {
        self.pending = None;
    }

    /// The nonce for the next `Cred` or MAC: the latest received, else the stored one (credentials
    /// sent before any challenge reuse the last nonce received, DIGEST.md §3.3).
    pub fn for_next_credential(&self) -> &Nonce {
        self.pending.as_ref().unwrap_or(&self.current)
    }
}

/// The challenger's side of DIGEST.md §3.3: after a failed credential, issue exactly one more
/// challenge with a fresh nonce (the peer may have held a stale one); after a second failure,
/// give up.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Challenger {
    failures: u8,
}

impl Challenger {
    /// A new session: no failures yet.
    pub fn new() -> Self {
        Challenger::default()
    }

    /// A credential failed verification. `Some(nonce)`: answer 401 with a `Chal` carrying it;
    /// `None`: this was the second failure, refuse without another challenge.
    pub fn on_failure(&mut self) -> Option<Nonce> {
        self.failures = self.failures.saturating_add(1);
        (self.failures == 1).then(Nonce::generate)
    }

    /// A credential verified; the retry budget is restored.
    pub fn on_success(&mut self) {
        self.failures = 0;
    }
}

/// DIGEST.md §3.4/§3.5: the SyncHdr status for a verified credential. 212 (authenticated for
/// the rest of the session) for basic and md5; 200 for HMAC, which every following message must
/// carry again, with a new `NextNonce` in each response.
pub const fn success_status(scheme: AuthScheme) -> u16 {
    match scheme {
        AuthScheme::Basic | AuthScheme::Md5 => 212,
        AuthScheme::Hmac => 200,
    }
}

/// DIGEST.md §3.5: whether a fresh nonce must accompany every response (HMAC) rather than once
/// per session.
pub const fn nonce_per_message(scheme: AuthScheme) -> bool {
    matches!(scheme, AuthScheme::Hmac)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dm_sec_nonce_generate_is_128_bits_and_fresh() {
        let a = Nonce::generate();
        let b = Nonce::generate();
        assert!(a.as_bytes().len() >= 16);
        assert_ne!(a, b);
    }

    #[test]
    fn dm_sec_nonce_b64_round_trip() {
        let n = Nonce::from_b64("ZG9iZWhhdmUNCg==").unwrap();
        assert_eq!(n.as_bytes(), b"dobehave\r\n");
        assert_eq!(n.to_b64(), "ZG9iZWhhdmUNCg==");
        assert_eq!(
            Nonce::from_b64("not base64!"),
            Err(NonceError::InvalidBase64)
        );
    }

    #[test]
    fn dm_not_zero_nonce_both_readings() {
        assert!(Nonce::zero_bytes().is_zero());
        assert!(Nonce::zero_ascii().is_zero());
        assert_eq!(Nonce::zero_ascii().as_bytes().len(), 10);
        assert!(!Nonce::generate().is_zero());
    }

    #[test]
    fn dm_sec_chal_nonce_used_but_not_stored_until_authenticated() {
        let mut s = NonceState::new(Nonce::from_bytes(*b"old"));
        s.on_chal(Nonce::from_bytes(*b"new1"));
        s.on_chal(Nonce::from_bytes(*b"new2"));
        assert_eq!(s.for_next_credential().as_bytes(), b"new2");
        assert_eq!(s.current().as_bytes(), b"old");
        s.on_authenticated();
        assert_eq!(s.current().as_bytes(), b"new2");
        assert_eq!(s.pending(), None);
    }

    #[test]
    fn dm_sec_unauthenticated_session_keeps_stored_nonce() {
        let mut s = NonceState::new(Nonce::from_bytes(*b"old"));
        s.on_chal(Nonce::from_bytes(*b"new"));
        s.on_session_end();
        assert_eq!(s.for_next_credential().as_bytes(), b"old");
    }

    #[test]
    fn dm_sec_one_more_challenge_after_failure() {
        let mut c = Challenger::new();
        assert!(c.on_failure().is_some());
        assert!(c.on_failure().is_none());
        c.on_success();
        assert!(c.on_failure().is_some());
    }

    #[test]
    fn dm_pro_212_for_session_auth_200_for_hmac() {
        assert_eq!(success_status(AuthScheme::Basic), 212);
        assert_eq!(success_status(AuthScheme::Md5), 212);
        assert_eq!(success_status(AuthScheme::Hmac), 200);
        assert!(nonce_per_message(AuthScheme::Hmac));
        assert!(!nonce_per_message(AuthScheme::Md5));
    }
}
