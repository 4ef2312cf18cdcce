//! DM 1.2 "General Package #0" (DM Notification 1.2; DIGEST.md §4.1), big-endian:
//!
//! ```text
//! offset  size      field
//! 0       16 bytes  digest (MD5, binary)
//! 16      10 bits   version (DEC/10: 11 = "1.1")
//!         2 bits    ui-mode
//!         1 bit     initiator
//!         27 bits   future-use, must be 0
//! 21      16 bits   sessionid
//! 23      8 bits    length of server identifier (N)
//! 24      N bytes   server identifier
//! 24+N    rest      vendor-specific
//! ```

use super::{session_id_text, Initiator, Pkg0Error, UiMode, MAX_PKG0_LEN};

/// Length of the binary MD5 digest that opens the package.
pub const DIGEST_LEN: usize = 16;
/// Offset of the header word (version, ui-mode, initiator, future-use).
const HEADER_OFFSET: usize = DIGEST_LEN;
/// Offset of the session id.
const SESSION_OFFSET: usize = 21;
/// Offset of the server identifier length.
const SERVER_ID_LEN_OFFSET: usize = 23;
/// Offset of the server identifier.
const SERVER_ID_OFFSET: usize = 24;

/// Version values accepted on decode. The public 1.2 text and its worked example use 11 ("1.1")
/// and libdmclient accepts only 11; 12 was not found publicly but is accepted too (DIGEST.md §4.1).
pub const ACCEPTED_VERSIONS: &[u16] = &[11, 12];
/// The version a DM 1.2 notification carries in the public worked example: 11 ("1.1").
pub const VERSION_11: u16 = 11;

/// A DM 1.2 package #0.
///
/// Decoding is strict where the spec is: the future-use bits must be 0 and are **rejected**
/// otherwise (the spec says "must be 0"; as a result [`Notification12::trigger_bytes`] reproduces
/// the received bytes exactly). The server identifier is ASCII per the spec; any valid UTF-8 is
/// accepted, anything else rejected, and it must not be empty (no DMAcc can match it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notification12 {
    /// The binary MD5 digest (see `omadm-security::notification`).
    pub digest: [u8; 16],
    /// The 10-bit version field value: 11 or 12.
    pub version: u16,
    /// UI mode.
    pub ui_mode: UiMode,
    /// Initiator.
    pub initiator: Initiator,
    /// Session id (1..=0xFFFF by the spec; 0 is accepted).
    pub session_id: u16,
    /// Server identifier (the DMAcc ServerID).
    pub server_id: String,
    /// The vendor-specific bytes after the server identifier.
    pub vendor: Vec<u8>,
}

impl Notification12 {
    /// Decodes a package #0 of the 1.2 layout.
    pub fn decode(bytes: &[u8]) -> Result<Notification12, Pkg0Error> {
        if bytes.len() > MAX_PKG0_LEN {
            return Err(Pkg0Error::TooLarge {
                len: bytes.len(),
                max: MAX_PKG0_LEN,
            });
        }
        let digest: [u8; 16] = take(bytes, 0, DIGEST_LEN, "digest")?
            .try_into()
            .map_err(|_| truncated(bytes, 0, DIGEST_LEN, "digest"))?;
        let header = take(bytes, HEADER_OFFSET, 5, "header")?;
        let word = header
            .iter()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        // 40-bit word: version 39..30, ui-mode 29..28, initiator 27, future-use 26..0.
        let version = ((word >> 30) & 0x3FF) as u16;
        if !ACCEPTED_VERSIONS.contains(&version) {
            return Err(Pkg0Error::UnsupportedVersion {
                offset: HEADER_OFFSET,
                version,
            });
        }
        let ui_mode = UiMode::from_bits(((word >> 28) & 0b11) as u8);
        let initiator = Initiator::from_bit(((word >> 27) & 1) as u8);
        let future = word & 0x07FF_FFFF;
        if future != 0 {
            return Err(Pkg0Error::ReservedBits {
                offset: HEADER_OFFSET + 1,
                value: future,
            });
        }
        let sid = take(bytes, SESSION_OFFSET, 2, "sessionid")?;
        let session_id = sid.iter().fold(0u16, |acc, &b| (acc << 8) | u16::from(b));
        let n = take(bytes, SERVER_ID_LEN_OFFSET, 1, "server identifier length")?
            .first()
            .copied()
            .map_or(0, usize::from);
        if n == 0 {
            return Err(Pkg0Error::EmptyServerId {
                offset: SERVER_ID_OFFSET,
            });
        }
        let id = take(bytes, SERVER_ID_OFFSET, n, "server identifier")?;
        let server_id = std::str::from_utf8(id)
            .map_err(|_| Pkg0Error::NotUtf8 {
                offset: SERVER_ID_OFFSET,
                field: "server identifier",
            })?
            .to_owned();
        let vendor = bytes
            .get(SERVER_ID_OFFSET + n..)
            .unwrap_or_default()
            .to_vec();
        Ok(Notification12 {
            digest,
            version,
            ui_mode,
            initiator,
            session_id,
            server_id,
            vendor,
        })
    }

    /// Encodes the whole package: digest followed by [`Notification12::trigger_bytes`].
    pub fn encode(&self) -> Result<Vec<u8>, Pkg0Error> {
        let trigger = self.trigger_bytes()?;
        let mut out = Vec::with_capacity(DIGEST_LEN + trigger.len());
        out.extend_from_slice(&self.digest);
        out.extend_from_slice(&trigger);
        Ok(out)
    }

    /// The bytes after the digest, which the digest covers ("trigger", DIGEST.md §4.1).
    ///
    /// Because decoding rejects non-zero future-use bits, for a decoded notification these are
    /// exactly the received bytes after the digest.
    pub fn trigger_bytes(&self) -> Result<Vec<u8>, Pkg0Error> {
        if self.version > 0x3FF {
            return Err(Pkg0Error::FieldOverflow {
                field: "version",
                value: usize::from(self.version),
                max: 0x3FF,
            });
        }
        let id = self.server_id.as_bytes();
        let n = u8::try_from(id.len()).map_err(|_| Pkg0Error::FieldOverflow {
            field: "server identifier length",
            value: id.len(),
            max: 255,
        })?;
        let total = SERVER_ID_OFFSET + id.len() + self.vendor.len();
        if total > MAX_PKG0_LEN {
            return Err(Pkg0Error::TooLarge {
                len: total,
                max: MAX_PKG0_LEN,
            });
        }
        let word: u64 = (u64::from(self.version) << 30)
            | (u64::from(self.ui_mode.bits()) << 28)
            | (u64::from(self.initiator.bit()) << 27);
        let mut out = Vec::with_capacity(total - DIGEST_LEN);
        out.extend_from_slice(&word.to_be_bytes()[3..]);
        out.extend_from_slice(&self.session_id.to_be_bytes());
        out.push(n);
        out.extend_from_slice(id);
        out.extend_from_slice(&self.vendor);
        Ok(out)
    }

    /// Splits a received 1.2 package into (digest, trigger) without decoding the fields, so the
    /// digest can be checked over the bytes exactly as received.
    pub fn split(bytes: &[u8]) -> Result<(&[u8; 16], &[u8]), Pkg0Error> {
        if bytes.len() > MAX_PKG0_LEN {
            return Err(Pkg0Error::TooLarge {
                len: bytes.len(),
                max: MAX_PKG0_LEN,
            });
        }
        match bytes.split_first_chunk::<DIGEST_LEN>() {
            Some((digest, trigger)) => Ok((digest, trigger)),
            None => Err(truncated(bytes, 0, DIGEST_LEN, "digest")),
        }
    }

    /// The session id as `SessionID` text: uppercase hex, no leading zeros.
    pub fn session_id_text(&self) -> String {
        session_id_text(self.session_id)
    }
}

fn truncated(bytes: &[u8], offset: usize, needed: usize, field: &'static str) -> Pkg0Error {
    Pkg0Error::Truncated {
        offset,
        field,
        needed,
        available: bytes.len().saturating_sub(offset),
    }
}

/// `len` bytes at `offset`, or a truncation error naming the field.
pub(super) fn take<'a>(
    bytes: &'a [u8],
    offset: usize,
    len: usize,
    field: &'static str,
) -> Result<&'a [u8], Pkg0Error> {
    offset
        .checked_add(len)
        .and_then(|end| bytes.get(offset..end))
        .ok_or_else(|| truncated(bytes, offset, len, field))
}
