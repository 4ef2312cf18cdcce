//! The DM notification, "package #0" (DIGEST.md §4; DIGEST-1.3.md §1): the short binary message a
//! server pushes (WAP Push, SMS, HTTP, SIP, OBEX) to ask a client to open a management session.
//!
//! Wire format only: the digest that authenticates a notification is computed and verified in
//! `omadm-security::notification`, always over the bytes as received (see [`Notification12::split`]
//! and [`Notification13::split`]).
//!
//! Two layouts exist and share no common prefix, so the transport's content type must choose the
//! parser before any byte is read ([`Notification::decode`]):
//! * DM 1.2 (`application/vnd.syncml.notification`, WSP 0x44): digest first, see [`v12`].
//! * DM 1.3 (`application/vnd.syncml.dm.notification`, WSP 0x58): header, TLV options, digest last,
//!   see [`v13`]. **PROVISIONAL**: built from DIGEST-1.3.md §1.4, not from the TS text.

mod error;
pub mod v12;
pub mod v13;

pub use error::Pkg0Error;
pub use v12::Notification12;
pub use v13::{Digest13, Notification13, RawOption};

/// Largest notification accepted or produced, in bytes. A package #0 over SMS is well under
/// 140 bytes; the 1.3 options are at most 4095 bytes each, so 64 KiB leaves room for every legal
/// HTTP-pushed notification while bounding work on hostile input.
pub const MAX_PKG0_LEN: usize = 64 * 1024;

/// MIME type of the DM 1.2 notification (DIGEST.md §2.1).
pub const MIME_NOTIFICATION_12: &str = "application/vnd.syncml.notification";
/// MIME type of the DM 1.3 notification (DIGEST-1.3.md §1.1; IANA 2009).
pub const MIME_NOTIFICATION_13: &str = "application/vnd.syncml.dm.notification";

/// UI mode (DM Notification 1.2 §"ui-mode", 2 bits).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UiMode {
    /// `00`: not specified; the client decides.
    NotSpecified,
    /// `01`: background, no user interaction.
    Background,
    /// `10`: informative, the user is told a session runs.
    Informative,
    /// `11`: user interaction, the user must accept the session.
    UserInteraction,
}

impl UiMode {
    /// The 2-bit wire value.
    pub fn bits(self) -> u8 {
        match self {
            UiMode::NotSpecified => 0,
            UiMode::Background => 1,
            UiMode::Informative => 2,
            UiMode::UserInteraction => 3,
        }
    }

    /// From the 2-bit wire value; only the low two bits are looked at.
    pub fn from_bits(bits: u8) -> UiMode {
        match bits & 0b11 {
            0 => UiMode::NotSpecified,
            1 => UiMode::Background,
            2 => UiMode::Informative,
            _ => UiMode::UserInteraction,
        }
    }
}

/// Who initiated the session (DM Notification 1.2 §"initiator", 1 bit).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Initiator {
    /// `0`: client or user initiated.
    Client,
    /// `1`: server initiated.
    Server,
}

impl Initiator {
    /// The 1-bit wire value.
    pub fn bit(self) -> u8 {
        match self {
            Initiator::Client => 0,
            Initiator::Server => 1,
        }
    }

    /// From the 1-bit wire value; only the low bit is looked at.
    pub fn from_bit(bit: u8) -> Initiator {
        if bit & 1 == 0 {
            Initiator::Client
        } else {
            Initiator::Server
        }
    }
}

/// Which notification layout the transport announced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NotificationType {
    /// `application/vnd.syncml.notification`, WSP 0x44: the DM 1.2 layout.
    Dm12,
    /// `application/vnd.syncml.dm.notification`, WSP 0x58: the DM 1.3 layout (provisional).
    Dm13,
}

impl NotificationType {
    /// From a MIME type; parameters after `;` and ASCII case are ignored.
    pub fn from_mime(content_type: &str) -> Option<NotificationType> {
        let essence = content_type.split(';').next().unwrap_or("").trim();
        if essence.eq_ignore_ascii_case(MIME_NOTIFICATION_12) {
            Some(NotificationType::Dm12)
        } else if essence.eq_ignore_ascii_case(MIME_NOTIFICATION_13) {
            Some(NotificationType::Dm13)
        } else {
            None
        }
    }

    /// From a WSP well-known content-type code (0x44 or 0x58, without the short-integer high bit).
    pub fn from_wsp(code: u8) -> Option<NotificationType> {
        match code & 0x7F {
            0x44 => Some(NotificationType::Dm12),
            0x58 => Some(NotificationType::Dm13),
            _ => None,
        }
    }

    /// The MIME type.
    pub fn mime(self) -> &'static str {
        match self {
            NotificationType::Dm12 => MIME_NOTIFICATION_12,
            NotificationType::Dm13 => MIME_NOTIFICATION_13,
        }
    }

    /// The WSP well-known content-type code.
    pub fn wsp_code(self) -> u8 {
        match self {
            NotificationType::Dm12 => 0x44,
            NotificationType::Dm13 => 0x58,
        }
    }
}

/// A decoded notification of either layout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notification {
    /// DM 1.2 layout.
    V12(Notification12),
    /// DM 1.3 layout (provisional).
    V13(Notification13),
}

impl Notification {
    /// Decodes `bytes` with the layout the transport's content type names
    /// (DIGEST-1.3.md §1.2: the layouts cannot be told apart by their bytes).
    pub fn decode(bytes: &[u8], content_type: NotificationType) -> Result<Notification, Pkg0Error> {
        match content_type {
            NotificationType::Dm12 => Notification12::decode(bytes).map(Notification::V12),
            NotificationType::Dm13 => Notification13::decode(bytes).map(Notification::V13),
        }
    }

    /// The content type of this layout.
    pub fn content_type(&self) -> NotificationType {
        match self {
            Notification::V12(_) => NotificationType::Dm12,
            Notification::V13(_) => NotificationType::Dm13,
        }
    }

    /// The server identifier.
    pub fn server_id(&self) -> &str {
        match self {
            Notification::V12(n) => &n.server_id,
            Notification::V13(n) => &n.server_id,
        }
    }

    /// The notified session id.
    pub fn session_id(&self) -> u16 {
        match self {
            Notification::V12(n) => n.session_id,
            Notification::V13(n) => n.session_id,
        }
    }

    /// The session id as the DM `SessionID` element carries it, see [`session_id_text`].
    pub fn session_id_text(&self) -> String {
        session_id_text(self.session_id())
    }

    /// UI mode.
    pub fn ui_mode(&self) -> UiMode {
        match self {
            Notification::V12(n) => n.ui_mode,
            Notification::V13(n) => n.ui_mode,
        }
    }

    /// Initiator.
    pub fn initiator(&self) -> Initiator {
        match self {
            Notification::V12(n) => n.initiator,
            Notification::V13(n) => n.initiator,
        }
    }
}

/// DM Notification 1.2 §"sessionid": the 16-bit session id goes into `SessionID` as uppercase hex
/// without leading zeros (0x1234 → `1234`, 0x00AB → `AB`; 0 → `0`).
pub fn session_id_text(session_id: u16) -> String {
    format!("{session_id:X}")
}
