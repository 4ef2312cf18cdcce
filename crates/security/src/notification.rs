//! The digest of the DM notification, package #0 (DM Notification 1.2 §"Digest", DIGEST.md §4.1;
//! DIGEST-1.3.md §1.4 item 5):
//!
//! `digest = H( B64(H(server-identifier ":" password)) ":" nonce ":" B64(H(trigger)) )`
//!
//! binary, with the server credentials the client stores (DMAcc AppAuth, AAuthLevel SRVCRED:
//! AAuthSecret and AAuthData). DM 1.2: H = MD5, `trigger` = every byte after the 16-byte digest.
//! DM 1.3 (**PROVISIONAL**): `trigger` = every byte before the digest; H = MD5 for a 16-byte digest,
//! SHA-256 for a 32-byte one. Verification always runs over the bytes as received and compares in
//! constant time.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use md5::Md5;
use omadm_syncml::pkg0::v13::DigestAlg;
use omadm_syncml::pkg0::{Digest13, Notification12, Notification13, NotificationType, Pkg0Error};
use sha2::digest::{self, Digest};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The resynchronisation nonce as 4 zero bytes (one reading of "0x00000000", DIGEST.md §4.1).
pub const ZERO_NONCE_BYTES: &[u8] = &[0, 0, 0, 0];
/// The resynchronisation nonce as the 10-character ASCII text libdmclient uses (DIGEST.md §4.1).
pub const ZERO_NONCE_ASCII: &[u8] = b"0x00000000";

/// A notification that fails verification or cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum NotificationError {
    /// The package is malformed (the error names the byte offset).
    #[error(transparent)]
    Malformed(#[from] Pkg0Error),
    /// The digest does not match the credentials and nonce.
    #[error("notification digest does not match")]
    DigestMismatch,
}

/// Which nonce made a digest match ([`verify_with_resync`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NonceUsed {
    /// The nonce stored for the server.
    Stored,
    /// The resynchronisation nonce read as 4 zero bytes.
    ZeroBytes,
    /// The resynchronisation nonce read as the ASCII text `0x00000000`.
    ZeroAscii,
}

impl NonceUsed {
    /// True when the match needed the resynchronisation nonce: the client then connects with
    /// credentials built on that nonce and both sides Chal to refresh nonces (DIGEST.md §4.1).
    pub fn is_resync(self) -> bool {
        !matches!(self, NonceUsed::Stored)
    }
}

fn digest_with<H: Digest>(
    server_id: &str,
    password: &str,
    nonce: &[u8],
    trigger: &[u8],
) -> digest::Output<H> {
    let mut inner = H::new();
    inner.update(server_id.as_bytes());
    inner.update(b":");
    inner.update(password.as_bytes());
    let cred = STANDARD.encode(inner.finalize());
    let trig = STANDARD.encode(H::digest(trigger));
    let mut outer = H::new();
    outer.update(cred.as_bytes());
    outer.update(b":");
    outer.update(nonce);
    outer.update(b":");
    outer.update(trig.as_bytes());
    outer.finalize()
}

/// DM 1.2 digest, H = MD5, over `trigger` = the bytes after the digest.
pub fn digest12(server_id: &str, server_password: &str, nonce: &[u8], trigger: &[u8]) -> [u8; 16] {
    digest_with::<Md5>(server_id, server_password, nonce, trigger).into()
}

/// DM 1.3 digest (PROVISIONAL): the 1.2 construction with H chosen by `alg`, over `trigger` =
/// the bytes before the digest.
pub fn digest13(
    alg: DigestAlg,
    server_id: &str,
    server_password: &str,
    nonce: &[u8],
    trigger: &[u8],
) -> Digest13 {
    match alg {
        DigestAlg::Md5 => Digest13::Md5(digest12(server_id, server_password, nonce, trigger)),
        DigestAlg::Sha256 => Digest13::Sha256(
            digest_with::<Sha256>(server_id, server_password, nonce, trigger).into(),
        ),
    }
}

/// Verifies a received DM 1.2 package (as received, digest first) in constant time.
pub fn verify12(
    server_id: &str,
    server_password: &str,
    nonce: &[u8],
    package: &[u8],
) -> Result<(), NotificationError> {
    let (digest, trigger) = Notification12::split(package)?;
    let expected = digest12(server_id, server_password, nonce, trigger);
    if bool::from(expected.ct_eq(digest)) {
        Ok(())
    } else {
        Err(NotificationError::DigestMismatch)
    }
}

/// Verifies a received DM 1.3 notification (PROVISIONAL layout) in constant time; the digest's
/// length selects MD5 or SHA-256.
pub fn verify13(
    server_id: &str,
    server_password: &str,
    nonce: &[u8],
    package: &[u8],
) -> Result<(), NotificationError> {
    let (trigger, digest) = Notification13::split(package)?;
    let received = Digest13::from_slice(digest).ok_or(Pkg0Error::DigestLength {
        offset: trigger.len(),
        len: digest.len(),
    })?;
    let expected = digest13(received.alg(), server_id, server_password, nonce, trigger);
    if bool::from(expected.as_bytes().ct_eq(received.as_bytes())) {
        Ok(())
    } else {
        Err(NotificationError::DigestMismatch)
    }
}

/// Verifies a received package of the layout `content_type` names.
pub fn verify(
    content_type: NotificationType,
    server_id: &str,
    server_password: &str,
    nonce: &[u8],
    package: &[u8],
) -> Result<(), NotificationError> {
    match content_type {
        NotificationType::Dm12 => verify12(server_id, server_password, nonce, package),
        NotificationType::Dm13 => verify13(server_id, server_password, nonce, package),
    }
}

/// Verifies with the stored nonce, then with the resynchronisation nonce in both readings (4 zero
/// bytes, then ASCII `0x00000000`; DIGEST.md §4.1 calls the spec ambiguous), and says which matched.
/// A malformed package fails at once.
pub fn verify_with_resync(
    content_type: NotificationType,
    server_id: &str,
    server_password: &str,
    stored_nonce: &[u8],
    package: &[u8],
) -> Result<NonceUsed, NotificationError> {
    let tries = [
        (stored_nonce, NonceUsed::Stored),
        (ZERO_NONCE_BYTES, NonceUsed::ZeroBytes),
        (ZERO_NONCE_ASCII, NonceUsed::ZeroAscii),
    ];
    for (nonce, used) in tries {
        match verify(content_type, server_id, server_password, nonce, package) {
            Ok(()) => return Ok(used),
            Err(NotificationError::DigestMismatch) => {}
            Err(e) => return Err(e),
        }
    }
    Err(NotificationError::DigestMismatch)
}

/// Fills `notification.digest` from the server credentials (its own `server_id` names the
/// account) and returns the encoded package.
pub fn build12(
    notification: &mut Notification12,
    server_password: &str,
    nonce: &[u8],
) -> Result<Vec<u8>, NotificationError> {
    let trigger = notification.trigger_bytes()?;
    notification.digest = digest12(&notification.server_id, server_password, nonce, &trigger);
    Ok(notification.encode()?)
}

/// Fills `notification.digest` with a digest made by `alg` (PROVISIONAL 1.3 layout) and returns
/// the encoded notification.
pub fn build13(
    notification: &mut Notification13,
    alg: DigestAlg,
    server_password: &str,
    nonce: &[u8],
) -> Result<Vec<u8>, NotificationError> {
    let trigger = notification.trigger_bytes()?;
    notification.digest = digest13(
        alg,
        &notification.server_id,
        server_password,
        nonce,
        &trigger,
    );
    Ok(notification.encode()?)
}
