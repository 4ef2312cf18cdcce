//! `omadm notify`: build and decode DM notifications, package #0 (DM Notification 1.2,
//! DIGEST.md §4; the 1.3 layout is PROVISIONAL, DIGEST-1.3.md §1).

use anyhow::{anyhow, bail, Context, Result};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use clap::{Subcommand, ValueEnum};
use omadm_security::notification::{self, NonceUsed};
use omadm_syncml::pkg0::v12::VERSION_11;
use omadm_syncml::pkg0::v13::{DigestAlg, VERSION_13};
use omadm_syncml::pkg0::{
    Digest13, Initiator, Notification, Notification12, Notification13, NotificationType, UiMode,
    MAX_PKG0_LEN,
};
use omadm_syncml::push::{self, WspContentType, WspPush, APP_ID_SYNCML_DM};

use crate::io::{self, Output};

pub const ABOUT: &str = "Build or decode a DM notification (package #0)";

pub const LONG_ABOUT: &str = "\
Build or decode a DM notification, package #0.

A server that wants a device to open a management session pushes it a short binary
notification (WAP Push over SMS, HTTP, SIP): the server identifier, a 16-bit session id, the UI
mode and the initiator, authenticated by a digest

  H( B64(H(server-id \":\" password)) \":\" nonce \":\" B64(H(trigger)) )

made with the server credentials the device stores for that server (DMAcc AppAuth SRVCRED:
AAuthSecret and AAuthData). DM 1.2 (application/vnd.syncml.notification, WSP 0x44): H = MD5,
the 16-byte digest first, trigger = every byte after it. DM 1.3
(application/vnd.syncml.dm.notification, WSP 0x58) is PROVISIONAL here: header, TLV options,
digest last (MD5 or SHA-256, by length), trigger = every byte before it.";

const BUILD_LONG_ABOUT: &str = "\
Build a DM notification and write it to OUT.

The digest is made from --server-id, --password (the server's AAuthSecret) and the nonce
(--nonce-b64, the server's AAuthData, base64). The 1.2 version field is 11 (\"1.1\"), as the
public DM 1.2 text and its worked example have it. With --wsp the notification is wrapped in a
connectionless WSP Push PDU (content type 0x44 or 0x58, X-WAP-Application-ID
x-wap-application:syncml.dm) as sent over SMS.

OUT is written atomically. Exit status: 0 on success, 1 when the notification cannot be built
(a field too long) or written, 2 on usage errors.";

const DECODE_LONG_ABOUT: &str = "\
Decode a DM notification and print its fields.

The two layouts cannot be told apart by their bytes: give --format, or --wsp for a WSP Push PDU
(whose content type chooses), or --udh for an SMS user data starting with the WDP port header.

With --password and --nonce-b64 the digest is checked (in constant time) against the server
identifier the notification names. When it fails with the stored nonce, the resynchronisation
nonce 0x00000000 is tried, as 4 zero bytes and as that 10-character text (the spec is ambiguous);
a match there means the device connects with credentials built on that nonce and both sides
challenge to refresh nonces.

Exit status: 0 when the notification decodes (and, with credentials, the digest verifies); 1
when it does not decode or the digest does not verify; 2 on usage errors.";

/// The `omadm notify` subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    #[command(long_about = BUILD_LONG_ABOUT)]
    Build(BuildArgs),
    #[command(long_about = DECODE_LONG_ABOUT)]
    Decode(DecodeArgs),
}

impl Command {
    pub fn name(&self) -> &'static str {
        match self {
            Command::Build(_) => "notify build",
            Command::Decode(_) => "notify decode",
        }
    }

    pub fn run(&self) -> Result<()> {
        match self {
            Command::Build(a) => build(a),
            Command::Decode(a) => decode(a),
        }
    }
}

/// Notification layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    /// DM 1.2, application/vnd.syncml.notification.
    #[value(name = "1.2")]
    V12,
    /// DM 1.3, application/vnd.syncml.dm.notification (PROVISIONAL layout).
    #[value(name = "1.3")]
    V13,
}

impl Format {
    fn kind(self) -> NotificationType {
        match self {
            Format::V12 => NotificationType::Dm12,
            Format::V13 => NotificationType::Dm13,
        }
    }
}

/// UI mode (2 bits).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Ui {
    /// 00: the client decides.
    NotSpecified,
    /// 01: no user interaction.
    Background,
    /// 10: the user is told.
    Informative,
    /// 11: the user must accept.
    UserInteraction,
}

impl From<Ui> for UiMode {
    fn from(u: Ui) -> UiMode {
        match u {
            Ui::NotSpecified => UiMode::NotSpecified,
            Ui::Background => UiMode::Background,
            Ui::Informative => UiMode::Informative,
            Ui::UserInteraction => UiMode::UserInteraction,
        }
    }
}

/// Initiator (1 bit).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Init {
    /// 1: server initiated.
    Server,
    /// 0: client or user initiated.
    Client,
}

/// 1.3 digest hash (PROVISIONAL: chosen by the digest's length).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Hash {
    /// MD5, 16 bytes.
    Md5,
    /// SHA-256, 32 bytes.
    Sha256,
}

/// Build a DM notification.
#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// Server identifier (the DMAcc ServerID).
    #[arg(long, value_name = "ID")]
    server_id: String,

    /// Server password (AppAuth SRVCRED AAuthSecret).
    #[arg(long, value_name = "P")]
    password: String,

    /// Server nonce, base64 (AppAuth SRVCRED AAuthData); AAAAAA== is 4 zero bytes.
    #[arg(long, value_name = "N", value_parser = parse_b64)]
    nonce_b64: Bytes,

    /// Session id, 1-4 hex digits (written into SessionID as uppercase hex).
    #[arg(long, value_name = "HEX", value_parser = parse_session)]
    session_id: u16,

    /// UI mode.
    #[arg(long, value_enum, value_name = "MODE", default_value_t = Ui::NotSpecified)]
    ui_mode: Ui,

    /// Who initiated the session.
    #[arg(long, value_enum, value_name = "WHO", default_value_t = Init::Server)]
    initiator: Init,

    /// Layout.
    #[arg(long, value_enum, value_name = "VERSION", default_value_t = Format::V12)]
    format: Format,

    /// Vendor-specific bytes, hex (1.2: after the server identifier; 1.3: Vendor-Info option).
    #[arg(long, value_name = "HEX", value_parser = parse_hex)]
    vendor: Option<Bytes>,

    /// 1.3 only: digest hash (PROVISIONAL).
    #[arg(long, value_enum, value_name = "HASH", default_value_t = Hash::Md5)]
    hash: Hash,

    /// Wrap the notification in a WSP Push PDU.
    #[arg(long)]
    wsp: bool,

    /// Output file.
    #[arg(short, long, value_name = "OUT")]
    output: String,
}

/// Decode a DM notification.
#[derive(Debug, clap::Args)]
pub struct DecodeArgs {
    /// The notification; `-` reads stdin.
    #[arg(value_name = "FILE")]
    input: String,

    /// Layout of a bare notification (a WSP PDU names its own).
    #[arg(long, value_enum, value_name = "VERSION", default_value_t = Format::V12)]
    format: Format,

    /// FILE is a WSP Push PDU.
    #[arg(long)]
    wsp: bool,

    /// FILE is SMS user data: a WDP port header, then a WSP Push PDU.
    #[arg(long)]
    udh: bool,

    /// Server password, to check the digest.
    #[arg(long, value_name = "P", requires = "nonce_b64")]
    password: Option<String>,

    /// Server nonce, base64, to check the digest.
    #[arg(long, value_name = "N", value_parser = parse_b64, requires = "password")]
    nonce_b64: Option<Bytes>,
}

/// Bytes given on the command line (a newtype so clap takes one value, not many).
#[derive(Clone, Debug)]
struct Bytes(Vec<u8>);

fn parse_b64(s: &str) -> Result<Bytes, String> {
    STANDARD
        .decode(s.trim())
        .map(Bytes)
        .map_err(|e| format!("not base64: {e}"))
}

fn parse_session(s: &str) -> Result<u16, String> {
    let h = s.trim_start_matches("0x").trim_start_matches("0X");
    if h.is_empty() || h.len() > 4 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("expected 1-4 hex digits".to_owned());
    }
    u16::from_str_radix(h, 16).map_err(|e| e.to_string())
}

fn parse_hex(s: &str) -> Result<Bytes, String> {
    let s: String = s.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    if s.len() % 2 != 0 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("expected an even number of hex digits".to_owned());
    }
    (0..s.len())
        .step_by(2)
        .map(|i| {
            s.get(i..i + 2)
                .and_then(|p| u8::from_str_radix(p, 16).ok())
                .ok_or_else(|| "bad hex".to_owned())
        })
        .collect::<Result<Vec<u8>, String>>()
        .map(Bytes)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn build(a: &BuildArgs) -> Result<()> {
    let ui_mode = a.ui_mode.into();
    let initiator = match a.initiator {
        Init::Server => Initiator::Server,
        Init::Client => Initiator::Client,
    };
    let body = match a.format {
        Format::V12 => {
            let mut n = Notification12 {
                digest: [0; 16],
                version: VERSION_11,
                ui_mode,
                initiator,
                session_id: a.session_id,
                server_id: a.server_id.clone(),
                vendor: a.vendor.clone().map(|b| b.0).unwrap_or_default(),
            };
            notification::build12(&mut n, &a.password, &a.nonce_b64.0)?
        }
        Format::V13 => {
            let mut n = Notification13 {
                version: VERSION_13,
                ui_mode,
                initiator,
                session_id: a.session_id,
                server_id: a.server_id.clone(),
                targeted_mo: Vec::new(),
                requested_mo: Vec::new(),
                preferred_bearer: Vec::new(),
                connect_reason: None,
                vendor_info: a.vendor.clone().map(|b| b.0),
                unknown_options: Vec::new(),
                digest: Digest13::Md5([0; 16]),
            };
            let alg = match a.hash {
                Hash::Md5 => DigestAlg::Md5,
                Hash::Sha256 => DigestAlg::Sha256,
            };
            notification::build13(&mut n, alg, &a.password, &a.nonce_b64.0)?
        }
    };
    let kind = a.format.kind();
    let bytes = if a.wsp {
        let ct = match kind {
            NotificationType::Dm12 => WspContentType::Notification,
            NotificationType::Dm13 => WspContentType::DmNotification,
        };
        WspPush {
            transaction_id: 1,
            content_type: ct,
            app_id: APP_ID_SYNCML_DM,
            body,
        }
        .encode()?
    } else {
        body
    };
    let out = Output::from_arg(Some(&a.output));
    if out.is_terminal() {
        bail!("refusing to write a binary notification to a terminal; give -o FILE");
    }
    out.write(&bytes)?;
    if !matches!(out, Output::Stdout) {
        println!("Content-Type: {}", kind.mime());
    }
    Ok(())
}

fn decode(a: &DecodeArgs) -> Result<()> {
    let input = io::read_input(&a.input, push::MAX_PUSH_LEN)?;
    let name = &input.name;
    let mut bytes: &[u8] = &input.bytes;
    let mut kind = a.format.kind();
    let mut text = String::new();
    if a.udh {
        let (ports, start) = push::decode_wdp_udh(bytes).with_context(|| name.clone())?;
        text.push_str(&format!("wdp-ports: {} -> {}\n", ports.src, ports.dest));
        bytes = bytes.get(start..).unwrap_or_default();
    }
    let wsp;
    if a.wsp || a.udh {
        wsp = WspPush::decode(bytes).with_context(|| name.clone())?;
        kind = wsp.content_type.notification_type().ok_or_else(|| {
            anyhow!(
                "{name}: WSP content type 0x{:02X} is not a DM notification",
                wsp.content_type.code()
            )
        })?;
        text.push_str(&format!("wsp-app-id: 0x{:02X}\n", wsp.app_id));
        bytes = &wsp.body;
    }
    if bytes.len() > MAX_PKG0_LEN {
        bail!("{name}: larger than {MAX_PKG0_LEN} bytes");
    }
    let n = Notification::decode(bytes, kind).with_context(|| name.clone())?;
    text.push_str(&describe(&n));
    io::Output::Stdout.write(text.as_bytes())?;
    let (Some(password), Some(nonce)) = (&a.password, &a.nonce_b64) else {
        return Ok(());
    };
    let used = notification::verify_with_resync(kind, n.server_id(), password, &nonce.0, bytes)
        .with_context(|| name.clone())?;
    let line = match used {
        NonceUsed::Stored => "digest verifies\n",
        NonceUsed::ZeroBytes => {
            "digest verifies with the resynchronisation nonce 0x00000000 (4 zero bytes); \
             the stored nonce is stale\n"
        }
        NonceUsed::ZeroAscii => {
            "digest verifies with the resynchronisation nonce \"0x00000000\" (ASCII text); \
             the stored nonce is stale\n"
        }
    };
    io::Output::Stdout.write(line.as_bytes())
}

fn describe(n: &Notification) -> String {
    let ui = match n.ui_mode() {
        UiMode::NotSpecified => "not-specified",
        UiMode::Background => "background",
        UiMode::Informative => "informative",
        UiMode::UserInteraction => "user-interaction",
    };
    let init = match n.initiator() {
        Initiator::Server => "server",
        Initiator::Client => "client",
    };
    let mut s = String::new();
    match n {
        Notification::V12(m) => {
            s.push_str(&format!(
                "format: 1.2 ({})\nversion: {}\n",
                NotificationType::Dm12.mime(),
                m.version
            ));
        }
        Notification::V13(m) => {
            s.push_str(&format!(
                "format: 1.3 ({}) PROVISIONAL layout\nversion: {}\n",
                NotificationType::Dm13.mime(),
                m.version
            ));
        }
    }
    s.push_str(&format!(
        "ui-mode: {ui}\ninitiator: {init}\nsession-id: {}\nserver-id: {}\n",
        n.session_id_text(),
        n.server_id()
    ));
    match n {
        Notification::V12(m) => {
            if !m.vendor.is_empty() {
                s.push_str(&format!("vendor: {}\n", hex(&m.vendor)));
            }
            s.push_str(&format!("digest: {} (MD5)\n", hex(&m.digest)));
        }
        Notification::V13(m) => {
            for (label, v) in [
                ("targeted-mo", &m.targeted_mo),
                ("requested-mo", &m.requested_mo),
            ] {
                if !v.is_empty() {
                    let list: Vec<String> = v.iter().map(u16::to_string).collect();
                    s.push_str(&format!("{label}: {}\n", list.join(", ")));
                }
            }
            if !m.preferred_bearer.is_empty() {
                let list: Vec<String> = m.preferred_bearer.iter().map(u8::to_string).collect();
                s.push_str(&format!("preferred-bearer: {}\n", list.join(", ")));
            }
            if let Some(r) = &m.connect_reason {
                s.push_str(&format!("connect-reason: {r:?}\n"));
            }
            if let Some(v) = &m.vendor_info {
                s.push_str(&format!("vendor: {}\n", hex(v)));
            }
            for o in &m.unknown_options {
                s.push_str(&format!("option {}: {}\n", o.option, hex(&o.value)));
            }
            let alg = match m.digest.alg() {
                DigestAlg::Md5 => "MD5",
                DigestAlg::Sha256 => "SHA-256",
            };
            s.push_str(&format!("digest: {} ({alg})\n", hex(m.digest.as_bytes())));
        }
    }
    s
}
