//! `omadm convert`: XML ⇄ WBXML.

use anyhow::{Context, Result};
use clap::{CommandFactory, ValueEnum};
use omadm_syncml::{Limits, Message, WbxmlOptions, XmlOptions};
use omadm_wbxml::Version;

use crate::io::{self, Output};
use crate::opaque;

const LONG_ABOUT: &str = "\
Convert a SyncML DM message between its two encodings.

The input encoding is told from the bytes: XML (application/vnd.syncml.dm+xml) starts with '<'
(after an optional BOM and whitespace); WBXML (application/vnd.syncml.dm+wbxml, the WAP Binary XML
form of the same message) starts with a version byte 0x00-0x03. The message is decoded into its
commands and written again, so the output is a canonical rendering, not a byte-for-byte
transliteration.

XML cannot carry everything WBXML can. Converting to XML, a nested WBXML document in OPAQUE
Data (a TNDS tree, DevInf) is written as its XML form and a Meta Type ending in +wbxml becomes
+xml; other binary Data is written as base64 with Meta Format b64. Each such rewrite is reported
on stderr.

The output file is written atomically (OUT.tmp, then renamed), so a failure leaves no partial
file. Exit status: 0 on success, 1 when the input cannot be read or decoded or the output cannot
be written, 2 on usage errors.";

/// Convert a SyncML DM message between XML and WBXML.
#[derive(Debug, clap::Args)]
#[command(long_about = LONG_ABOUT)]
pub struct Args {
    /// Input file, XML or WBXML (told from its bytes); `-` reads stdin.
    #[arg(value_name = "IN")]
    input: String,

    /// Output file; `-` or absent writes stdout.
    #[arg(short, long, value_name = "OUT")]
    output: Option<String>,

    /// Encoding to write.
    #[arg(long, value_enum, value_name = "ENCODING")]
    to: Target,

    /// WBXML version of the output header [default: 1.2, as DM stacks send].
    #[arg(long, value_enum, value_name = "VERSION")]
    wbxml_version: Option<WbxmlVersion>,

    /// Indent the XML output (two spaces per level; Data is never touched).
    #[arg(long)]
    pretty: bool,
}

/// Output encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Target {
    /// XML, application/vnd.syncml.dm+xml.
    Xml,
    /// WBXML, application/vnd.syncml.dm+wbxml.
    Wbxml,
}

/// WBXML version written in the header (WAP-192 §5.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum WbxmlVersion {
    #[value(name = "1.1")]
    V1_1,
    #[value(name = "1.2")]
    V1_2,
    #[value(name = "1.3")]
    V1_3,
}

impl From<WbxmlVersion> for Version {
    fn from(v: WbxmlVersion) -> Version {
        match v {
            WbxmlVersion::V1_1 => Version::V1_1,
            WbxmlVersion::V1_2 => Version::V1_2,
            WbxmlVersion::V1_3 => Version::V1_3,
        }
    }
}

/// Options that only make sense for the other encoding are usage errors (exit 2), like clap's.
fn check_usage(args: &Args) {
    let conflict = match args.to {
        Target::Wbxml if args.pretty => Some("--pretty only applies to --to xml"),
        Target::Xml if args.wbxml_version.is_some() => {
            Some("--wbxml-version only applies to --to wbxml")
        }
        _ => None,
    };
    if let Some(msg) = conflict {
        let mut cmd = crate::Cli::command();
        let mut sub = cmd
            .find_subcommand_mut("convert")
            .cloned()
            .unwrap_or_default();
        sub = sub.bin_name("omadm convert");
        sub.error(clap::error::ErrorKind::ArgumentConflict, msg)
            .exit();
    }
}

pub fn run(args: &Args) -> Result<()> {
    check_usage(args);
    let limits = Limits::default();
    let out = Output::from_arg(args.output.as_deref());
    if args.to == Target::Wbxml && out.is_terminal() {
        anyhow::bail!(
            "refusing to write binary WBXML to a terminal; use -o OUT or redirect stdout"
        );
    }
    let input = io::read_input(&args.input, limits.max_message_bytes)?;
    let (mut msg, _) =
        Message::decode_with(&input.bytes, &limits).with_context(|| input.name.clone())?;
    let bytes = match args.to {
        Target::Xml => {
            for note in opaque::make_xml_safe(&mut msg.body.commands) {
                eprintln!("omadm convert: note: {note}");
            }
            let opts = XmlOptions {
                pretty: args.pretty,
                declaration: true,
            };
            msg.to_xml_with(opts)
                .with_context(|| format!("{}: cannot be written as XML", input.name))?
        }
        Target::Wbxml => {
            let version = args.wbxml_version.unwrap_or(WbxmlVersion::V1_2).into();
            msg.to_wbxml_with(WbxmlOptions { version })
        }
    };
    out.write(&bytes)
}
