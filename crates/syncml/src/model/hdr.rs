//! `SyncHdr` and the small structures it shares with commands.

use super::meta::Meta;
use compact_str::CompactString;

/// `SyncHdr := VerDTD, VerProto, SessionID, MsgID, Target, Source, RespURI?, NoResp?, Cred?, Meta?`
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncHdr {
    /// `VerDTD`: `1.2` for DM 1.2 and 1.3, `1.1` for DM 1.1.
    pub ver_dtd: CompactString,
    /// `VerProto`: `DM/1.1`, `DM/1.2` or `DM/1.3`.
    pub ver_proto: CompactString,
    /// `SessionID`: an opaque string (DM uses the uppercase hex of the notified session id).
    pub session_id: CompactString,
    /// `MsgID`: an opaque string, normally a decimal counter from 1.
    pub msg_id: CompactString,
    /// `Target`: the recipient (device id or server URI).
    pub target: Target,
    /// `Source`: the sender; its `LocName` carries the user name for MD5 and HMAC.
    pub source: Source,
    /// `RespURI`: where the next message of the session goes.
    pub resp_uri: Option<CompactString>,
    /// `NoResp`: no Status expected for this message.
    pub no_resp: bool,
    /// `Cred`: credentials of the sender.
    pub cred: Option<Box<Cred>>,
    /// `Meta`: MaxMsgSize, MaxObjSize, EMI...
    pub meta: Option<Meta>,
}

impl SyncHdr {
    /// True when nothing at all is set (a message published without a header).
    pub fn is_empty(&self) -> bool {
        *self == SyncHdr::default()
    }
}

/// `Target := LocURI, LocName?` / `Source := LocURI, LocName?`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Location {
    /// `LocURI`, whitespace around it trimmed (samples/windows/05).
    pub loc_uri: CompactString,
    /// `LocName`.
    pub loc_name: Option<CompactString>,
}

impl Location {
    /// A location with only a `LocURI`.
    pub fn new(loc_uri: impl Into<CompactString>) -> Self {
        Location {
            loc_uri: loc_uri.into(),
            loc_name: None,
        }
    }
}

/// `Target` element.
pub type Target = Location;
/// `Source` element.
pub type Source = Location;

/// `Cred := Meta?, Data` (DM RepPro: only in SyncHdr).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cred {
    /// `Meta`: Type names the scheme (`syncml:auth-basic`, `syncml:auth-md5`), Format is `b64`.
    pub meta: Option<Meta>,
    /// `Data`: the credential text.
    pub data: CompactString,
}

/// `Chal := Meta` (Type = scheme, Format = b64, NextNonce).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Chal {
    /// The challenge's `Meta`.
    pub meta: Meta,
}
