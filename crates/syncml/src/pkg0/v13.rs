//! DM 1.3 notification (`application/vnd.syncml.dm.notification`, WSP 0x58).
//!
//! **PROVISIONAL — everything in this module.** Confirmed (DIGEST-1.3.md §1.1): header, then TLV
//! options whose count the header gives, then the digest; big-endian; the option table below.
//! Inferred or proposed, not read in the TS (DIGEST-1.3.md §1.2–§1.4):
//! * the header layout: [`HEADER_13`] (version 10 bits = 13, ui-mode 2, initiator 1, 3 reserved
//!   bits, session id 16, option count 8; 5 bytes) — the single table to change once the TS is read;
//! * the TLV header: `u16 = option << 12 | length`, value following ([`TLV_HEADER_LEN`]);
//! * the digest: every byte after the options; its length picks the hash ([`DIGEST_LENGTHS`]);
//! * text options (Server-ID, Connect-Reason) as UTF-8.
//!
//! A decoded [`Notification13`] re-encodes to the received bytes only when the peer used the
//! minimal width for integer options; verify digests over the received bytes ([`Notification13::split`]).

use super::v12::take;
use super::{session_id_text, Initiator, Pkg0Error, UiMode, MAX_PKG0_LEN};

/// A bit field of the header, counted from the most significant bit of its first byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BitField {
    /// First bit, 0 = MSB of header byte 0.
    pub start: u32,
    /// Width in bits (≤ 16).
    pub width: u32,
}

/// The header layout. PROVISIONAL: one table, [`HEADER_13`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeaderLayout {
    /// Header length in bytes (≤ 8).
    pub len: usize,
    /// Version field (value = DEC/10 as in 1.2).
    pub version: BitField,
    /// UI mode (2 bits, 1.2 values).
    pub ui_mode: BitField,
    /// Initiator (1 bit, 1.2 values).
    pub initiator: BitField,
    /// Reserved bits.
    pub reserved: BitField,
    /// Session id.
    pub session_id: BitField,
    /// Number of TLV options that follow.
    pub option_count: BitField,
    /// Version values accepted on decode.
    pub accepted_versions: &'static [u16],
    /// Whether non-zero reserved bits are an error (true) or ignored (false).
    pub reserved_must_be_zero: bool,
}

/// PROVISIONAL header (DIGEST-1.3.md §1.4 item 4): the 1.2 packing of the first bits, then 3 reserved
/// bits, a 16-bit session id and an 8-bit option count. Version 13 + background + server-initiated
/// packs the first two bytes as `03 58`. Reserved bits are ignored, not rejected, so that a real
/// TS field there (a TIMEOUT, say) does not make us drop every notification.
pub const HEADER_13: HeaderLayout = HeaderLayout {
    len: 5,
    version: BitField {
        start: 0,
        width: 10,
    },
    ui_mode: BitField {
        start: 10,
        width: 2,
    },
    initiator: BitField {
        start: 12,
        width: 1,
    },
    reserved: BitField {
        start: 13,
        width: 3,
    },
    session_id: BitField {
        start: 16,
        width: 16,
    },
    option_count: BitField {
        start: 32,
        width: 8,
    },
    accepted_versions: &[VERSION_13],
    reserved_must_be_zero: false,
};

/// PROVISIONAL: version value "1.3" by analogy with 1.2's DEC/10 rule.
pub const VERSION_13: u16 = 13;
/// PROVISIONAL: TLV header = 4-bit option number + 12-bit length, 2 bytes.
pub const TLV_HEADER_LEN: usize = 2;
/// Largest TLV value length (12 bits).
pub const MAX_OPTION_LEN: usize = 0x0FFF;

/// PROVISIONAL: digest length → hash (DIGEST-1.3.md §1.4 item 2).
pub const DIGEST_LENGTHS: &[(usize, DigestAlg)] = &[(16, DigestAlg::Md5), (32, DigestAlg::Sha256)];

/// Option numbers and their table rows (DIGEST-1.3.md §1.1, confirmed).
pub mod opt {
    /// 0001 Server-ID, string 1–256, exactly one.
    pub const SERVER_ID: u8 = 1;
    /// 0010 Targeted-MO, uint 1–2, zero or more.
    pub const TARGETED_MO: u8 = 2;
    /// 0011 Requested-MO, uint 1–2, zero or more.
    pub const REQUESTED_MO: u8 = 3;
    /// 0100 Preferred-Bearer, uint 1, zero or more.
    pub const PREFERRED_BEARER: u8 = 4;
    /// 0101 Connect-Reason, string 1–4095, zero or one.
    pub const CONNECT_REASON: u8 = 5;
    /// 0110 Vendor-Info, string 1–4095, zero or one.
    pub const VENDOR_INFO: u8 = 6;
}

/// Allowed value sizes (min, max) of the known options, and whether they may repeat.
fn option_rule(option: u8) -> Option<(usize, usize, bool)> {
    match option {
        opt::SERVER_ID => Some((1, 256, false)),
        opt::TARGETED_MO | opt::REQUESTED_MO => Some((1, 2, true)),
        opt::PREFERRED_BEARER => Some((1, 1, true)),
        opt::CONNECT_REASON | opt::VENDOR_INFO => Some((1, MAX_OPTION_LEN, false)),
        _ => None,
    }
}

/// The hash that made a 1.3 digest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DigestAlg {
    /// 16 bytes.
    Md5,
    /// 32 bytes.
    Sha256,
}

/// The 1.3 digest; PROVISIONAL (length-selected hash).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Digest13 {
    /// MD5, 16 bytes.
    Md5([u8; 16]),
    /// SHA-256, 32 bytes.
    Sha256([u8; 32]),
}

impl Digest13 {
    /// The digest bytes.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Digest13::Md5(d) => d,
            Digest13::Sha256(d) => d,
        }
    }

    /// The hash.
    pub fn alg(&self) -> DigestAlg {
        match self {
            Digest13::Md5(_) => DigestAlg::Md5,
            Digest13::Sha256(_) => DigestAlg::Sha256,
        }
    }

    /// From received bytes; `None` unless the length is one of [`DIGEST_LENGTHS`].
    pub fn from_slice(bytes: &[u8]) -> Option<Digest13> {
        let alg = DIGEST_LENGTHS
            .iter()
            .find(|(len, _)| *len == bytes.len())
            .map(|(_, alg)| *alg)?;
        match alg {
            DigestAlg::Md5 => bytes.try_into().ok().map(Digest13::Md5),
            DigestAlg::Sha256 => bytes.try_into().ok().map(Digest13::Sha256),
        }
    }
}

/// An option this implementation does not know, kept so a re-encode carries it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawOption {
    /// Option number (0, 7..=15).
    pub option: u8,
    /// Its value.
    pub value: Vec<u8>,
}

/// A DM 1.3 notification. PROVISIONAL layout, see the module doc.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notification13 {
    /// Version field value (13).
    pub version: u16,
    /// UI mode.
    pub ui_mode: UiMode,
    /// Initiator.
    pub initiator: Initiator,
    /// Session id.
    pub session_id: u16,
    /// Option 1, Server-ID (exactly one; 1–256 bytes, UTF-8).
    pub server_id: String,
    /// Option 2, Targeted-MO codes (the code table is not public).
    pub targeted_mo: Vec<u16>,
    /// Option 3, Requested-MO codes.
    pub requested_mo: Vec<u16>,
    /// Option 4, Preferred-Bearer codes.
    pub preferred_bearer: Vec<u8>,
    /// Option 5, Connect-Reason (UTF-8).
    pub connect_reason: Option<String>,
    /// Option 6, Vendor-Info (kept as bytes).
    pub vendor_info: Option<Vec<u8>>,
    /// Options with numbers this implementation does not know, skipped for meaning.
    pub unknown_options: Vec<RawOption>,
    /// The digest over every byte before it.
    pub digest: Digest13,
}

fn read_field(header: u64, layout: &HeaderLayout, field: BitField) -> u64 {
    let total = (layout.len as u32) * 8;
    let shift = total.saturating_sub(field.start + field.width);
    let mask = if field.width >= 64 {
        u64::MAX
    } else {
        (1u64 << field.width) - 1
    };
    (header >> shift) & mask
}

fn write_field(
    layout: &HeaderLayout,
    field: BitField,
    value: u64,
    name: &'static str,
) -> Result<u64, Pkg0Error> {
    let max = (1u64 << field.width) - 1;
    if value > max {
        return Err(Pkg0Error::FieldOverflow {
            field: name,
            value: usize::try_from(value).unwrap_or(usize::MAX),
            max: usize::try_from(max).unwrap_or(usize::MAX),
        });
    }
    let total = (layout.len as u32) * 8;
    Ok(value << total.saturating_sub(field.start + field.width))
}

/// Big-endian integer of a 1- or 2-byte uint option.
fn uint(value: &[u8]) -> u16 {
    value.iter().fold(0u16, |acc, &b| (acc << 8) | u16::from(b))
}

impl Notification13 {
    /// Splits a received 1.3 notification into (trigger = every byte before the digest, digest),
    /// walking the header and the TLV headers only. PROVISIONAL layout.
    pub fn split(bytes: &[u8]) -> Result<(&[u8], &[u8]), Pkg0Error> {
        let (end, _) = Self::walk(bytes, |_, _, _| Ok(()))?;
        Ok(bytes.split_at(end))
    }

    /// Walks header and options, calling `f(offset, option, value)` per option; returns the
    /// offset where the digest starts and the header word.
    fn walk<'a>(
        bytes: &'a [u8],
        mut f: impl FnMut(usize, u8, &'a [u8]) -> Result<(), Pkg0Error>,
    ) -> Result<(usize, u64), Pkg0Error> {
        if bytes.len() > MAX_PKG0_LEN {
            return Err(Pkg0Error::TooLarge {
                len: bytes.len(),
                max: MAX_PKG0_LEN,
            });
        }
        let layout = &HEADER_13;
        let header = take(bytes, 0, layout.len, "header")?
            .iter()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        let version = read_field(header, layout, layout.version) as u16;
        if !layout.accepted_versions.contains(&version) {
            return Err(Pkg0Error::UnsupportedVersion { offset: 0, version });
        }
        let reserved = read_field(header, layout, layout.reserved);
        if layout.reserved_must_be_zero && reserved != 0 {
            return Err(Pkg0Error::ReservedBits {
                offset: (layout.reserved.start / 8) as usize,
                value: reserved,
            });
        }
        let count = read_field(header, layout, layout.option_count);
        let mut offset = layout.len;
        let mut previous: Option<u8> = None;
        for _ in 0..count {
            let tl = take(bytes, offset, TLV_HEADER_LEN, "option header")?;
            let tl = uint(tl);
            let option = (tl >> 12) as u8;
            let len = usize::from(tl & 0x0FFF);
            if let Some(prev) = previous {
                if option < prev {
                    return Err(Pkg0Error::OptionOrder {
                        offset,
                        option,
                        previous: prev,
                    });
                }
                if option == prev && !option_rule(option).is_none_or(|(_, _, many)| many) {
                    return Err(Pkg0Error::DuplicateOption { offset, option });
                }
            }
            if len == 0 {
                return Err(Pkg0Error::EmptyOption { offset, option });
            }
            if let Some((min, max, _)) = option_rule(option) {
                if len < min || len > max {
                    return Err(Pkg0Error::OptionLength {
                        offset,
                        option,
                        len,
                        min,
                        max,
                    });
                }
            }
            let value = take(bytes, offset + TLV_HEADER_LEN, len, "option value")?;
            f(offset, option, value)?;
            previous = Some(option);
            offset += TLV_HEADER_LEN + len;
        }
        Ok((offset, header))
    }

    /// Decodes a 1.3 notification. PROVISIONAL layout.
    pub fn decode(bytes: &[u8]) -> Result<Notification13, Pkg0Error> {
        let mut server_id = None;
        let mut targeted_mo = Vec::new();
        let mut requested_mo = Vec::new();
        let mut preferred_bearer = Vec::new();
        let mut connect_reason = None;
        let mut vendor_info = None;
        let mut unknown_options = Vec::new();
        let text = |offset: usize, value: &[u8], field: &'static str| {
            std::str::from_utf8(value)
                .map(str::to_owned)
                .map_err(|_| Pkg0Error::NotUtf8 {
                    offset: offset + TLV_HEADER_LEN,
                    field,
                })
        };
        let (end, header) = Self::walk(bytes, |offset, option, value| {
            match option {
                opt::SERVER_ID => server_id = Some(text(offset, value, "Server-ID")?),
                opt::TARGETED_MO => targeted_mo.push(uint(value)),
                opt::REQUESTED_MO => requested_mo.push(uint(value)),
                opt::PREFERRED_BEARER => preferred_bearer.push(uint(value) as u8),
                opt::CONNECT_REASON => {
                    connect_reason = Some(text(offset, value, "Connect-Reason")?)
                }
                opt::VENDOR_INFO => vendor_info = Some(value.to_vec()),
                _ => unknown_options.push(RawOption {
                    option,
                    value: value.to_vec(),
                }),
            }
            Ok(())
        })?;
        let server_id = server_id.ok_or(Pkg0Error::MissingServerId { offset: end })?;
        let rest = bytes.get(end..).unwrap_or_default();
        let digest = Digest13::from_slice(rest).ok_or(Pkg0Error::DigestLength {
            offset: end,
            len: rest.len(),
        })?;
        let layout = &HEADER_13;
        Ok(Notification13 {
            version: read_field(header, layout, layout.version) as u16,
            ui_mode: UiMode::from_bits(read_field(header, layout, layout.ui_mode) as u8),
            initiator: Initiator::from_bit(read_field(header, layout, layout.initiator) as u8),
            session_id: read_field(header, layout, layout.session_id) as u16,
            server_id,
            targeted_mo,
            requested_mo,
            preferred_bearer,
            connect_reason,
            vendor_info,
            unknown_options,
            digest,
        })
    }

    /// Header and options (the bytes the digest covers). Integer options use the fewest bytes;
    /// unknown options are placed by option number after the known ones of equal number.
    pub fn trigger_bytes(&self) -> Result<Vec<u8>, Pkg0Error> {
        let mut options: Vec<(u8, Vec<u8>)> = Vec::new();
        options.push((opt::SERVER_ID, self.server_id.as_bytes().to_vec()));
        let min_uint = |v: u16| -> Vec<u8> {
            match u8::try_from(v) {
                Ok(b) => vec![b],
                Err(_) => v.to_be_bytes().to_vec(),
            }
        };
        options.extend(
            self.targeted_mo
                .iter()
                .map(|&v| (opt::TARGETED_MO, min_uint(v))),
        );
        options.extend(
            self.requested_mo
                .iter()
                .map(|&v| (opt::REQUESTED_MO, min_uint(v))),
        );
        options.extend(
            self.preferred_bearer
                .iter()
                .map(|&v| (opt::PREFERRED_BEARER, vec![v])),
        );
        if let Some(r) = &self.connect_reason {
            options.push((opt::CONNECT_REASON, r.as_bytes().to_vec()));
        }
        if let Some(v) = &self.vendor_info {
            options.push((opt::VENDOR_INFO, v.clone()));
        }
        options.extend(
            self.unknown_options
                .iter()
                .map(|o| (o.option, o.value.clone())),
        );
        options.sort_by_key(|(o, _)| *o); // stable: equal numbers keep their order

        let layout = &HEADER_13;
        let header = write_field(layout, layout.version, self.version.into(), "version")?
            | write_field(
                layout,
                layout.ui_mode,
                self.ui_mode.bits().into(),
                "ui-mode",
            )?
            | write_field(
                layout,
                layout.initiator,
                self.initiator.bit().into(),
                "initiator",
            )?
            | write_field(
                layout,
                layout.session_id,
                self.session_id.into(),
                "session id",
            )?
            | write_field(
                layout,
                layout.option_count,
                options.len() as u64,
                "option count",
            )?;
        let mut out = Vec::new();
        out.extend_from_slice(
            header
                .to_be_bytes()
                .get(8 - layout.len..)
                .unwrap_or_default(),
        );
        for (option, value) in &options {
            if option_rule(*option)
                .is_some_and(|(min, max, _)| value.len() < min || value.len() > max)
                || value.is_empty()
                || value.len() > MAX_OPTION_LEN
                || *option > 0x0F
            {
                return Err(Pkg0Error::FieldOverflow {
                    field: "option value length",
                    value: value.len(),
                    max: option_rule(*option).map_or(MAX_OPTION_LEN, |(_, max, _)| max),
                });
            }
            let tl = (u16::from(*option) << 12) | value.len() as u16;
            out.extend_from_slice(&tl.to_be_bytes());
            out.extend_from_slice(value);
        }
        let total = out.len() + self.digest.as_bytes().len();
        if total > MAX_PKG0_LEN {
            return Err(Pkg0Error::TooLarge {
                len: total,
                max: MAX_PKG0_LEN,
            });
        }
        Ok(out)
    }

    /// Encodes the whole notification: [`Notification13::trigger_bytes`] then the digest.
    pub fn encode(&self) -> Result<Vec<u8>, Pkg0Error> {
        let mut out = self.trigger_bytes()?;
        out.extend_from_slice(self.digest.as_bytes());
        Ok(out)
    }

    /// The session id as `SessionID` text: uppercase hex, no leading zeros.
    pub fn session_id_text(&self) -> String {
        session_id_text(self.session_id)
    }
}
