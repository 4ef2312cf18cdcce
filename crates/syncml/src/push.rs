//! WAP Push framing of DM messages (DM Notification 1.2 §"Transport", DIGEST.md §4.3;
//! DIGEST-1.3.md §5): the connectionless WSP Push PDU and the WDP port addressing user-data header
//! of an SMS, plus the HTTP content types of what a DM server pushes.

/// WDP destination port of a DM push (non-secure WAP Push, DIGEST.md §4.3).
pub const DM_PUSH_PORT: u16 = 2948;
/// WDP destination port of secure WAP Push (MEM, unverified: DIGEST.md §4.3).
pub const DM_SECURE_PUSH_PORT: u16 = 2949;
/// WSP PDU type of a connectionless Push.
pub const WSP_PDU_PUSH: u8 = 0x06;
/// WSP well-known header field X-WAP-Application-ID (0x2F) as a short integer.
pub const WSP_HEADER_X_WAP_APPLICATION_ID: u8 = 0xAF;
/// Push application id `x-wap-application:syncml.dm` (WAP-defined code 0x07).
pub const APP_ID_SYNCML_DM: u8 = 0x07;
/// Largest WSP headers block accepted; DM requires WDP + WSP headers ≤ 48 bytes, leave slack.
pub const MAX_WSP_HEADERS_LEN: usize = 1024;
/// Largest push PDU accepted or produced.
pub const MAX_PUSH_LEN: usize = 64 * 1024;

/// HTTP (and MIME) content types of pushed DM content.
pub mod content_type {
    /// DM 1.2 notification (package #0).
    pub const NOTIFICATION_12: &str = "application/vnd.syncml.notification";
    /// DM 1.3 notification.
    pub const NOTIFICATION_13: &str = "application/vnd.syncml.dm.notification";
    /// Bootstrap (a DM message in WBXML; DIGEST.md §3.7, §4.3).
    pub const BOOTSTRAP: &str = "application/vnd.syncml.dm+wbxml";
    /// Sessionless message, WBXML (DIGEST-1.3.md §5.3, PROVISIONAL: no public text names it).
    pub const SESSIONLESS_WBXML: &str = "application/vnd.syncml.dm+wbxml";
    /// Sessionless message, XML (PROVISIONAL as above).
    pub const SESSIONLESS_XML: &str = "application/vnd.syncml.dm+xml";
}

/// A WSP well-known content type used for DM pushes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WspContentType {
    /// 0x44 `application/vnd.syncml.notification` (DM 1.2 package #0).
    Notification,
    /// 0x58 `application/vnd.syncml.dm.notification` (DM 1.3).
    DmNotification,
    /// 0x42 `application/vnd.syncml.dm+wbxml` (bootstrap, sessionless).
    DmWbxml,
    /// 0x43 `application/vnd.syncml.dm+xml`.
    DmXml,
    /// Any other well-known code (0..=0x7F).
    Other(u8),
}

impl WspContentType {
    /// The well-known code, without the short-integer high bit.
    pub fn code(self) -> u8 {
        match self {
            WspContentType::Notification => 0x44,
            WspContentType::DmNotification => 0x58,
            WspContentType::DmWbxml => 0x42,
            WspContentType::DmXml => 0x43,
            WspContentType::Other(c) => c & 0x7F,
        }
    }

    /// From a well-known code (the high bit is ignored).
    pub fn from_code(code: u8) -> WspContentType {
        match code & 0x7F {
            0x44 => WspContentType::Notification,
            0x58 => WspContentType::DmNotification,
            0x42 => WspContentType::DmWbxml,
            0x43 => WspContentType::DmXml,
            c => WspContentType::Other(c),
        }
    }

    /// The MIME type of the DM codes.
    pub fn mime(self) -> Option<&'static str> {
        match self {
            WspContentType::Notification => Some(content_type::NOTIFICATION_12),
            WspContentType::DmNotification => Some(content_type::NOTIFICATION_13),
            WspContentType::DmWbxml => Some(content_type::BOOTSTRAP),
            WspContentType::DmXml => Some(content_type::SESSIONLESS_XML),
            WspContentType::Other(_) => None,
        }
    }

    /// The notification layout this content type selects, if it is a notification.
    pub fn notification_type(self) -> Option<crate::pkg0::NotificationType> {
        crate::pkg0::NotificationType::from_wsp(self.code()).filter(|_| {
            matches!(
                self,
                WspContentType::Notification | WspContentType::DmNotification
            )
        })
    }
}

/// A push that cannot be decoded or encoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PushError {
    /// The input ended inside a field.
    #[error("push truncated at byte {offset}: {field}")]
    Truncated {
        /// Offset of the field.
        offset: usize,
        /// The field.
        field: &'static str,
    },
    /// The PDU type is not Push (0x06).
    #[error("WSP PDU type {pdu_type:#04x} at byte {offset} is not Push (0x06)")]
    NotPush {
        /// Offset.
        offset: usize,
        /// The type found.
        pdu_type: u8,
    },
    /// A uintvar is longer than 5 bytes or overflows 32 bits.
    #[error("bad uintvar at byte {offset}")]
    BadUintvar {
        /// Offset.
        offset: usize,
    },
    /// The content type is not a short-integer well-known code (DM requires the binary code).
    #[error("content type at byte {offset} is not a short-integer code (found {byte:#04x})")]
    ContentTypeNotCode {
        /// Offset.
        offset: usize,
        /// First byte of the value.
        byte: u8,
    },
    /// The X-WAP-Application-ID value is not a short-integer code.
    #[error("X-WAP-Application-ID at byte {offset} is not a short-integer code")]
    AppIdNotCode {
        /// Offset.
        offset: usize,
    },
    /// No X-WAP-Application-ID header.
    #[error("no X-WAP-Application-ID header in the headers ending at byte {offset}")]
    MissingAppId {
        /// Offset of the end of the headers.
        offset: usize,
    },
    /// A length exceeds a limit.
    #[error("{field} of {len} bytes exceeds the limit of {max} bytes")]
    TooLarge {
        /// The field.
        field: &'static str,
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A code does not fit a short integer (0..=0x7F) when encoding.
    #[error("{field} {value:#04x} does not fit a WSP short-integer")]
    NotShortInteger {
        /// The field.
        field: &'static str,
        /// The value.
        value: u8,
    },
    /// The user-data header has no application port addressing element.
    #[error("no port addressing element in the user-data header ending at byte {offset}")]
    NoPorts {
        /// End of the UDH.
        offset: usize,
    },
}

/// A connectionless WSP Push PDU (WAP-230 §8.2.4.1) as a DM push uses it: content type and
/// X-WAP-Application-ID as short integers, no other headers on encode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WspPush {
    /// Transaction id.
    pub transaction_id: u8,
    /// Content type (binary code, DIGEST.md §4.3).
    pub content_type: WspContentType,
    /// X-WAP-Application-ID code, [`APP_ID_SYNCML_DM`] for DM.
    pub app_id: u8,
    /// The pushed content.
    pub body: Vec<u8>,
}

fn short_integer(value: u8, field: &'static str) -> Result<u8, PushError> {
    if value > 0x7F {
        Err(PushError::NotShortInteger { field, value })
    } else {
        Ok(value | 0x80)
    }
}

fn byte_at(bytes: &[u8], offset: usize, field: &'static str) -> Result<u8, PushError> {
    bytes
        .get(offset)
        .copied()
        .ok_or(PushError::Truncated { offset, field })
}

/// Reads a WSP uintvar (WAP-230 §8.1.2) at `offset`; returns (value, bytes used).
pub fn read_uintvar(bytes: &[u8], offset: usize) -> Result<(u32, usize), PushError> {
    let mut value: u32 = 0;
    for i in 0..5 {
        let b = byte_at(bytes, offset + i, "uintvar")?;
        if value > (u32::MAX >> 7) {
            return Err(PushError::BadUintvar { offset });
        }
        value = (value << 7) | u32::from(b & 0x7F);
        if b & 0x80 == 0 {
            return Ok((value, i + 1));
        }
    }
    Err(PushError::BadUintvar { offset })
}

/// Appends `value` as a WSP uintvar.
pub fn write_uintvar(out: &mut Vec<u8>, value: u32) {
    let mut groups = [0u8; 5];
    let mut n = 0;
    let mut v = value;
    loop {
        groups[n] = (v & 0x7F) as u8;
        n += 1;
        v >>= 7;
        if v == 0 {
            break;
        }
    }
    for i in (0..n).rev() {
        out.push(groups[i] | if i > 0 { 0x80 } else { 0 });
    }
}

/// Length of the WSP header value at `offset` (WAP-230 §8.4.1.2): short-integer, value-length
/// prefixed data, or a NUL-terminated text string.
fn value_len(bytes: &[u8], offset: usize, end: usize) -> Result<usize, PushError> {
    let b = byte_at(bytes, offset, "header value")?;
    let len = match b {
        0..=30 => 1 + usize::from(b),
        31 => {
            let (n, used) = read_uintvar(bytes, offset + 1)?;
            1 + used + n as usize
        }
        32..=127 => text_len(bytes, offset, end)?,
        _ => 1,
    };
    if offset + len > end {
        return Err(PushError::Truncated {
            offset,
            field: "header value",
        });
    }
    Ok(len)
}

/// Length of a NUL-terminated text string at `offset`, NUL included, within `..end`.
fn text_len(bytes: &[u8], offset: usize, end: usize) -> Result<usize, PushError> {
    bytes
        .get(offset..end)
        .and_then(|s| s.iter().position(|&c| c == 0))
        .map(|p| p + 1)
        .ok_or(PushError::Truncated {
            offset,
            field: "text string",
        })
}

impl WspPush {
    /// Encodes: TID, 0x06, headers length (uintvar), content type, 0xAF app id, body.
    pub fn encode(&self) -> Result<Vec<u8>, PushError> {
        let ct = short_integer(self.content_type.code(), "content type")?;
        let app = short_integer(self.app_id, "application id")?;
        let total = 6 + self.body.len();
        if total > MAX_PUSH_LEN {
            return Err(PushError::TooLarge {
                field: "push PDU",
                len: total,
                max: MAX_PUSH_LEN,
            });
        }
        let mut out = Vec::with_capacity(total);
        out.push(self.transaction_id);
        out.push(WSP_PDU_PUSH);
        write_uintvar(&mut out, 3);
        out.extend_from_slice(&[ct, WSP_HEADER_X_WAP_APPLICATION_ID, app]);
        out.extend_from_slice(&self.body);
        Ok(out)
    }

    /// Decodes a connectionless Push PDU. Headers other than X-WAP-Application-ID are skipped;
    /// the content type must be a short-integer code (DIGEST.md §4.3: DM requires the binary code).
    pub fn decode(bytes: &[u8]) -> Result<WspPush, PushError> {
        if bytes.len() > MAX_PUSH_LEN {
            return Err(PushError::TooLarge {
                field: "push PDU",
                len: bytes.len(),
                max: MAX_PUSH_LEN,
            });
        }
        let transaction_id = byte_at(bytes, 0, "transaction id")?;
        let pdu_type = byte_at(bytes, 1, "PDU type")?;
        if pdu_type != WSP_PDU_PUSH {
            return Err(PushError::NotPush {
                offset: 1,
                pdu_type,
            });
        }
        let (hlen, used) = read_uintvar(bytes, 2)?;
        let hlen = hlen as usize;
        if hlen > MAX_WSP_HEADERS_LEN {
            return Err(PushError::TooLarge {
                field: "WSP headers",
                len: hlen,
                max: MAX_WSP_HEADERS_LEN,
            });
        }
        let start = 2 + used;
        let end = start + hlen;
        if end > bytes.len() {
            return Err(PushError::Truncated {
                offset: start,
                field: "WSP headers",
            });
        }
        let ct = byte_at(bytes, start, "content type")?;
        if ct < 0x80 || start >= end {
            return Err(PushError::ContentTypeNotCode {
                offset: start,
                byte: ct,
            });
        }
        let content_type = WspContentType::from_code(ct);
        let mut offset = start + 1;
        let mut app_id = None;
        while offset < end {
            let name = byte_at(bytes, offset, "header name")?;
            if name >= 0x80 {
                let value_at = offset + 1;
                if name == WSP_HEADER_X_WAP_APPLICATION_ID {
                    let v = byte_at(bytes, value_at, "X-WAP-Application-ID")?;
                    if v < 0x80 || value_at >= end {
                        return Err(PushError::AppIdNotCode { offset: value_at });
                    }
                    app_id.get_or_insert(v & 0x7F);
                }
                offset = value_at + value_len(bytes, value_at, end)?;
            } else {
                // Application header: token text name, then text value.
                let value_at = offset + text_len(bytes, offset, end)?;
                offset = value_at + text_len(bytes, value_at, end)?;
            }
        }
        let app_id = app_id.ok_or(PushError::MissingAppId { offset: end })?;
        Ok(WspPush {
            transaction_id,
            content_type,
            app_id,
            body: bytes.get(end..).unwrap_or_default().to_vec(),
        })
    }
}

/// WDP application ports of an SMS (3GPP TS 23.040 §9.2.3.24.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WdpPorts {
    /// Destination port.
    pub dest: u16,
    /// Source port.
    pub src: u16,
}

/// The 7-byte user-data header addressing 16-bit ports: UDHL 6, IE 0x05, length 4, ports BE.
pub fn wdp_udh_ports(dest: u16, src: u16) -> [u8; 7] {
    let [d0, d1] = dest.to_be_bytes();
    let [s0, s1] = src.to_be_bytes();
    [0x06, 0x05, 0x04, d0, d1, s0, s1]
}

/// Reads a user-data header: returns the ports (IE 0x05, or 8-bit IE 0x04) and the offset where
/// the user data (the WSP PDU) starts. Other elements (concatenation, …) are skipped.
pub fn decode_wdp_udh(bytes: &[u8]) -> Result<(WdpPorts, usize), PushError> {
    let udhl = usize::from(byte_at(bytes, 0, "UDHL")?);
    let end = 1 + udhl;
    if end > bytes.len() {
        return Err(PushError::Truncated {
            offset: 0,
            field: "user-data header",
        });
    }
    let mut offset = 1;
    let mut ports = None;
    while offset < end {
        let iei = byte_at(bytes, offset, "IEI")?;
        let len = usize::from(byte_at(bytes, offset + 1, "IE length")?);
        let data = offset
            .checked_add(2 + len)
            .filter(|&e| e <= end)
            .and_then(|e| bytes.get(offset + 2..e))
            .ok_or(PushError::Truncated {
                offset,
                field: "information element",
            })?;
        match (iei, data) {
            (0x05, &[d0, d1, s0, s1]) => {
                ports.get_or_insert(WdpPorts {
                    dest: u16::from_be_bytes([d0, d1]),
                    src: u16::from_be_bytes([s0, s1]),
                });
            }
            (0x04, &[d, s]) => {
                ports.get_or_insert(WdpPorts {
                    dest: d.into(),
                    src: s.into(),
                });
            }
            _ => {}
        }
        offset += 2 + len;
    }
    ports
        .map(|p| (p, end))
        .ok_or(PushError::NoPorts { offset: end })
}
