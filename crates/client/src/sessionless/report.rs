//! The Sessionless Report Message (OMA DM Sessionless Reporting 1.3 §5): Sessionless Report
//! Alerts (1230) a client sends to a bootstrapped server outside a session, with no answer
//! expected.
//!
//! Choices:
//! - No `Final`: the text of §5.2 does not ask for it and the §5.3 example has none; the message is
//!   not part of a package exchange.
//! - CmdIDs count from 1 (the §5.3 example's 1001, 1002 are only illustrative).
//! - The size check (§5.4) uses the larger of the XML and WBXML encodings, so the message fits
//!   whichever the transport sends; there is no Large Object fallback.
//! - `Cred` carries basic or MD5 digest credentials. HMAC is not a `Cred` scheme (it travels in
//!   the `x-syncml-hmac` transport header, which the caller computes over the encoded bytes with
//!   [`omadm_security::hmac_header::HmacHeader::sign`]), so a `Cred` must still be chosen.

use omadm_security::cred::{self, AuthScheme};
use omadm_syncml::{
    Alert, AlertCode, Command, Cred, Data, EncodeError, Encoding, Item, Location, Message, Meta,
    Source, SyncBody, SyncHdr, Target,
};

/// Reporting 1.3 §5.1: the reserved Alert code of the Sessionless Report Alert.
pub const SESSIONLESS_REPORT: u16 = 1230;

/// One Sessionless Report Alert (Reporting 1.3 §5.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// Meta Type: the report's identifier, a URN as for a Generic Alert (`urn:oma:mo:...`).
    pub alert_type: String,
    /// Meta Format (`xml`, `chr`, ...).
    pub format: String,
    /// Meta Mark (`critical`, `informational`...), optional (§5.1 item 6).
    pub mark: Option<String>,
    /// Item Source LocURI: the node the report is about, optional.
    pub source: Option<String>,
    /// The report data, sent CDATA escaped (§5.1 item 3).
    pub data: String,
}

/// The credentials for the header's `Cred` (Reporting 1.3 §5.2, DM-SR-C-006, DM-SR-C-008).
#[derive(Clone, PartialEq, Eq)]
pub struct ReportCred {
    /// [`AuthScheme::Basic`] or [`AuthScheme::Md5`].
    pub scheme: AuthScheme,
    /// The client's name toward the server (DMAcc CLCRED AAuthName).
    pub name: String,
    /// The client's password (CLCRED AAuthSecret).
    pub password: String,
    /// DM-SR-C-008: the last nonce the server gave (CLCRED AAuthData), for MD5.
    pub nonce: Vec<u8>,
}

impl std::fmt::Debug for ReportCred {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReportCred")
            .field("scheme", &self.scheme)
            .field("name", &self.name)
            .field("password", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// Why a Sessionless Report Message could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// `SyncBody` needs at least one command.
    #[error("no reports to send")]
    Empty,
    /// §5.1 items 4-5 (DM-SR-C-005): Meta Type and Format must be present.
    #[error("report {index} lacks Meta Type or Format")]
    MissingMeta {
        /// Index into `reports`.
        index: usize,
    },
    /// §5.2 (DM-SR-C-006): `Cred` must be present, and HMAC cannot be carried in it.
    #[error("authentication scheme {0} cannot be carried in Cred")]
    SchemeNotInCred(AuthScheme),
    /// §5.4: the message exceeds MaxMsgSize and Large Objects may not be used.
    #[error("report message of {len} bytes exceeds MaxMsgSize {max}")]
    TooLarge {
        /// Encoded size.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The message could not be encoded.
    #[error("cannot encode report message: {0}")]
    Encode(#[from] EncodeError),
}

/// The `Cred` of the header: B64 data, Type the scheme (DIGEST.md §3.2, §3.3).
fn cred(c: &ReportCred) -> Result<Cred, ReportError> {
    let data = match c.scheme {
        AuthScheme::Basic => cred::basic(&c.name, &c.password),
        AuthScheme::Md5 => cred::md5_digest(&c.name, &c.password, &c.nonce),
        AuthScheme::Hmac => return Err(ReportError::SchemeNotInCred(c.scheme)),
    };
    Ok(Cred {
        meta: Some(Meta::format_type("b64", c.scheme.meta_type())),
        data: data.into(),
    })
}

/// One Sessionless Report Alert: Data 1230, exactly one Item with Meta Type and Format.
fn alert(cmd_id: usize, r: &Report) -> Command {
    let mut meta = Meta::format_type(&r.format, &r.alert_type);
    if let Some(m) = &r.mark {
        meta.more_mut().mark = Some(m.as_str().into());
    }
    let item = Item {
        source: r.source.as_deref().map(Location::new),
        meta: Some(meta),
        data: Some(Data::Cdata(r.data.as_str().into())),
        ..Item::default()
    };
    let mut a = Alert::new(cmd_id.to_string(), AlertCode(SESSIONLESS_REPORT));
    a.items = vec![item];
    Command::Alert(a)
}

/// Builds the Sessionless Report Message (Reporting 1.3 §5.2): SessionID `0`, MsgID 1, Target the
/// server, Source the device, `Cred` from `cred` (with its last nonce for MD5), a body of one
/// Alert 1230 per report and nothing else, within `max_msg_size` (§5.4).
pub fn build_report_message(
    device_id: &str,
    server_id: &str,
    reports: &[Report],
    cred: ReportCred,
    max_msg_size: usize,
) -> Result<Message, ReportError> {
    if reports.is_empty() {
        return Err(ReportError::Empty);
    }
    if let Some(index) = reports
        .iter()
        .position(|r| r.alert_type.trim().is_empty() || r.format.trim().is_empty())
    {
        return Err(ReportError::MissingMeta { index });
    }
    let msg = Message {
        hdr: SyncHdr {
            ver_dtd: "1.2".into(),
            ver_proto: "DM/1.3".into(),
            session_id: "0".into(),
            msg_id: "1".into(),
            target: Target::new(server_id),
            source: Source::new(device_id),
            cred: Some(Box::new(self::cred(&cred)?)),
            ..SyncHdr::default()
        },
        body: SyncBody {
            commands: reports
                .iter()
                .enumerate()
                .map(|(i, r)| alert(i + 1, r))
                .collect(),
            final_: false,
        },
    };
    let len = msg
        .encoded_len(Encoding::Xml)?
        .max(msg.encoded_len(Encoding::Wbxml)?);
    if len > max_msg_size {
        return Err(ReportError::TooLarge {
            len,
            max: max_msg_size,
        });
    }
    Ok(msg)
}
