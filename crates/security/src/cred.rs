//! Credentials carried in `Cred` (DIGEST.md §3.1–§3.3; DM Security 1.2 §5.1): the scheme names of
//! `Meta/Type` and DMAcc `AAuthType`, `syncml:auth-basic` and `syncml:auth-md5`.
//!
//! Verification compares in constant time (`subtle`); only the lengths can leak.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use md5::{Digest as _, Md5};
use subtle::ConstantTimeEq;

/// Why a credential was refused. [`CredError::status`] gives the SyncHdr status the spec assigns.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredError {
    /// DM Protocol 1.2 §Authentication: no `Cred` where one was required; answer 407 with a Chal.
    #[error("credentials missing")]
    Missing,
    /// The Cred `Meta/Type` names a scheme this side does not accept; answer 401 with a Chal
    /// for the scheme it wants (DIGEST.md §3.4).
    #[error("unsupported authentication type {0:?}")]
    UnsupportedScheme(String),
    /// Cred Data is not valid base64 (Format `b64`, DIGEST.md §3.2/§3.3).
    #[error("credential data is not valid base64")]
    InvalidBase64,
    /// A basic credential that does not decode to `username ":" password` in UTF-8.
    #[error("basic credential is not `username:password`")]
    MalformedBasic,
    /// Well-formed but wrong: 401, credentials refused (DIGEST.md §3.4).
    #[error("invalid credentials")]
    Invalid,
}

impl CredError {
    /// The status code for SyncHdr (RepPro 1.2 §10): 407 missing credentials, 401 otherwise.
    pub const fn status(&self) -> u16 {
        match self {
            CredError::Missing => 407,
            CredError::UnsupportedScheme(_)
            | CredError::InvalidBase64
            | CredError::MalformedBasic
            | CredError::Invalid => 401,
        }
    }
}

/// The authentication schemes this crate implements (DIGEST.md §3.1). The other `AAuthType`
/// values (X509, SECURID, HTTP-BASIC, ...) are not DM-level credentials we compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthScheme {
    /// `syncml:auth-basic` / `BASIC`: B64(username ":" password).
    Basic,
    /// `syncml:auth-md5` / `DIGEST`: the MD5 digest of DIGEST.md §3.3.
    Md5,
    /// `syncml:auth-MAC` / `HMAC`: the `x-syncml-hmac` transport header, never in `Cred`
    /// (DIGEST.md §3.5); see [`crate::hmac_header`].
    Hmac,
}

impl AuthScheme {
    /// All schemes, strongest last.
    pub const ALL: [AuthScheme; 3] = [AuthScheme::Basic, AuthScheme::Md5, AuthScheme::Hmac];

    /// The `Meta/Type` string of `Cred` and `Chal` (DIGEST.md §3.1).
    pub const fn meta_type(self) -> &'static str {
        match self {
            AuthScheme::Basic => "syncml:auth-basic",
            AuthScheme::Md5 => "syncml:auth-md5",
            AuthScheme::Hmac => "syncml:auth-MAC",
        }
    }

    /// Parses a `Meta/Type`. Case-insensitive: peers write `syncml:auth-mac` as often as the
    /// spec's `syncml:auth-MAC`. Surrounding whitespace is ignored.
    pub fn from_meta_type(s: &str) -> Option<Self> {
        let s = s.trim();
        Self::ALL
            .into_iter()
            .find(|scheme| scheme.meta_type().eq_ignore_ascii_case(s))
    }

    /// The DMAcc `AppAuth/<x>/AAuthType` value (DIGEST.md §3.1, StdObj 1.2).
    pub const fn aauth_type(self) -> &'static str {
        match self {
            AuthScheme::Basic => "BASIC",
            AuthScheme::Md5 => "DIGEST",
            AuthScheme::Hmac => "HMAC",
        }
    }

    /// Parses a DMAcc `AAuthType` (case-insensitive, trimmed). `HTTP-BASIC`, `X509` and the
    /// others are not DM-level schemes and give `None`.
    pub fn from_aauth_type(s: &str) -> Option<Self> {
        let s = s.trim();
        Self::ALL
            .into_iter()
            .find(|scheme| scheme.aauth_type().eq_ignore_ascii_case(s))
    }
}

impl std::fmt::Display for AuthScheme {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.meta_type())
    }
}

/// A decoded `syncml:auth-basic` credential.
#[derive(Clone, PartialEq, Eq)]
pub struct BasicCred {
    /// Everything before the first `:`.
    pub username: String,
    /// Everything after the first `:` (a password may itself contain colons).
    pub password: String,
}

impl std::fmt::Debug for BasicCred {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BasicCred")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Decodes base64 text as it arrives in `Data` with Format `b64`: whitespace (line breaks of
/// wrapped base64) is dropped before decoding.
pub(crate) fn decode_b64(text: &str) -> Option<Vec<u8>> {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    STANDARD.decode(compact).ok()
}

/// DIGEST.md §3.2: basic Cred Data = B64(username ":" password).
pub fn basic(username: &str, password: &str) -> String {
    STANDARD.encode(format!("{username}:{password}"))
}

/// Decodes basic Cred Data into username and password, split at the first `:` (DIGEST.md §3.2).
pub fn parse_basic(data_b64: &str) -> Result<BasicCred, CredError> {
    let bytes = decode_b64(data_b64).ok_or(CredError::InvalidBase64)?;
    let text = String::from_utf8(bytes).map_err(|_| CredError::MalformedBasic)?;
    let (username, password) = text.split_once(':').ok_or(CredError::MalformedBasic)?;
    Ok(BasicCred {
        username: username.to_owned(),
        password: password.to_owned(),
    })
}

/// Checks basic Cred Data against the expected account, in constant time over the decoded bytes.
pub fn verify_basic(data_b64: &str, username: &str, password: &str) -> Result<(), CredError> {
    let got = decode_b64(data_b64).ok_or(CredError::InvalidBase64)?;
    let want = format!("{username}:{password}");
    ct_check(&got, want.as_bytes())
}

/// DIGEST.md §3.3: what the authenticator stores instead of the password, B64(H(username ":"
/// password)) with H = MD5 — 24 characters of base64.
pub fn md5_stored_secret(username: &str, password: &str) -> String {
    STANDARD.encode(Md5::digest(format!("{username}:{password}")))
}

/// DIGEST.md §3.3: the 16 binary bytes H(secret ":" nonce), `secret` being
/// [`md5_stored_secret`]'s base64 text and `nonce` the raw (b64-decoded) nonce bytes.
pub fn md5_digest_raw_from_secret(secret_b64: &str, nonce: &[u8]) -> [u8; 16] {
    let mut h = Md5::new();
    h.update(secret_b64.as_bytes());
    h.update(b":");
    h.update(nonce);
    h.finalize().into()
}

/// DIGEST.md §3.3: `syncml:auth-md5` Cred Data from the stored secret, B64(H(secret ":" nonce)).
pub fn md5_digest_from_secret(secret_b64: &str, nonce: &[u8]) -> String {
    STANDARD.encode(md5_digest_raw_from_secret(secret_b64, nonce))
}

/// DIGEST.md §3.3: `syncml:auth-md5` Cred Data,
/// B64(H(B64(H(username ":" password)) ":" nonce)), nonce = the raw nonce bytes.
pub fn md5_digest(username: &str, password: &str, nonce: &[u8]) -> String {
    md5_digest_from_secret(&md5_stored_secret(username, password), nonce)
}

/// Checks `syncml:auth-md5` Cred Data against the account and the nonce this side issued.
pub fn verify_md5(
    data_b64: &str,
    username: &str,
    password: &str,
    nonce: &[u8],
) -> Result<(), CredError> {
    verify_md5_with_secret(data_b64, &md5_stored_secret(username, password), nonce)
}

/// As [`verify_md5`], for an authenticator that stores only B64(H(username ":" password))
/// (DIGEST.md §3.3). Compares the decoded 16 bytes in constant time.
pub fn verify_md5_with_secret(
    data_b64: &str,
    secret_b64: &str,
    nonce: &[u8],
) -> Result<(), CredError> {
    let got = decode_b64(data_b64).ok_or(CredError::InvalidBase64)?;
    ct_check(&got, &md5_digest_raw_from_secret(secret_b64, nonce))
}

fn ct_check(got: &[u8], want: &[u8]) -> Result<(), CredError> {
    if bool::from(got.ct_eq(want)) {
        Ok(())
    } else {
        Err(CredError::Invalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dm_sec_scheme_names_round_trip() {
        for s in AuthScheme::ALL {
            assert_eq!(AuthScheme::from_meta_type(s.meta_type()), Some(s));
            assert_eq!(AuthScheme::from_aauth_type(s.aauth_type()), Some(s));
        }
        assert_eq!(AuthScheme::from_meta_type("syncml:auth-X509"), None);
        assert_eq!(AuthScheme::from_aauth_type("HTTP-BASIC"), None);
    }

    #[test]
    fn dm_sec_error_status_codes() {
        assert_eq!(CredError::Missing.status(), 407);
        assert_eq!(CredError::Invalid.status(), 401);
        assert_eq!(CredError::InvalidBase64.status(), 401);
    }

    #[test]
    fn wrapped_base64_is_accepted() {
        assert_eq!(
            decode_b64("QnJ1Y2Uy\r\n Ok9oQmVoYXZl").as_deref(),
            Some(&b"Bruce2:OhBehave"[..])
        );
    }
}
