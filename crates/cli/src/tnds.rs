//! `omadm tnds`: TNDS documents (a management subtree serialized as a `MgmtTree`).

use anyhow::{Context, Result};
use clap::{Subcommand, ValueEnum};
use omadm_tree::tnds::{self, MgmtTree, TndsError, TndsLimits};

use crate::io::{self, Output};

pub const ABOUT: &str = "Work with TNDS documents (serialized management subtrees)";

pub const LONG_ABOUT: &str = "\
Work with TNDS documents.

TNDS (OMA DM Tree and Description Serialization) writes a management subtree, its nodes with
their properties and values, as one MgmtTree document: XML (application/vnd.syncml.dmtnds+xml)
or WBXML (application/vnd.syncml.dmtnds+wbxml). A server sends one in an Add to create a whole
subtree, and receives one from Get <URI>?list=TNDS.";

const CONVERT_LONG_ABOUT: &str = "\
Convert a TNDS document between its two encodings.

TNDS (OMA DM Tree and Description Serialization) writes a management subtree as one MgmtTree
document, in XML (application/vnd.syncml.dmtnds+xml) or WBXML
(application/vnd.syncml.dmtnds+wbxml, code page 2 of the DM DDF 1.2 tokens).

The input encoding is told from the bytes: XML starts with '<' (after an optional BOM and
whitespace), WBXML with a version byte 0x00-0x03. The document is decoded into its nodes and
written again, so the output is a canonical rendering: compact XML with an XML declaration, or
WBXML 1.2 with the literal public id -//OMA//DTD-DM-DDF 1.2//EN. A bin value travels as base64
in XML and as opaque bytes in WBXML.

The output file is written atomically (OUT.tmp, then renamed), so a failure leaves no partial
file. Exit status: 0 on success, 1 when the input cannot be read or decoded (the message names
the line and column, or the byte) or the output cannot be written, 2 on usage errors.";

/// The `omadm tnds` subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    Convert(ConvertArgs),
}

impl Command {
    pub fn name(&self) -> &'static str {
        match self {
            Command::Convert(_) => "tnds convert",
        }
    }

    pub fn run(&self) -> Result<()> {
        match self {
            Command::Convert(args) => convert(args),
        }
    }
}

/// Convert a TNDS document between XML and WBXML.
#[derive(Debug, clap::Args)]
#[command(long_about = CONVERT_LONG_ABOUT)]
pub struct ConvertArgs {
    /// Input file, XML or WBXML (told from its bytes); `-` reads stdin.
    #[arg(value_name = "IN")]
    input: String,

    /// Output file; `-` or absent writes stdout.
    #[arg(short, long, value_name = "OUT")]
    output: Option<String>,

    /// Encoding to write.
    #[arg(long, value_enum, value_name = "ENCODING")]
    to: Target,
}

/// Output encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Target {
    /// XML, application/vnd.syncml.dmtnds+xml.
    Xml,
    /// WBXML, application/vnd.syncml.dmtnds+wbxml.
    Wbxml,
}

const XML_DECLARATION: &[u8] = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

fn convert(args: &ConvertArgs) -> Result<()> {
    let limits = TndsLimits::default();
    let out = Output::from_arg(args.output.as_deref());
    if args.to == Target::Wbxml && out.is_terminal() {
        anyhow::bail!(
            "refusing to write binary WBXML to a terminal; use -o OUT or redirect stdout"
        );
    }
    let input = io::read_input(&args.input, limits.max_bytes)?;
    let doc = tnds::decode(&input.bytes, &limits).with_context(|| input.name.clone())?;
    let bytes = match args.to {
        Target::Xml => xml_document(&doc)
            .with_context(|| format!("{}: cannot be written as XML", input.name))?,
        Target::Wbxml => tnds::to_wbxml(&doc),
    };
    out.write(&bytes)
}

/// `doc` as an XML file: declaration, the compact document, a final newline.
pub fn xml_document(doc: &MgmtTree) -> Result<Vec<u8>, TndsError> {
    let body = tnds::to_xml(doc)?;
    let mut bytes = Vec::with_capacity(XML_DECLARATION.len() + body.len() + 1);
    bytes.extend_from_slice(XML_DECLARATION);
    bytes.extend_from_slice(&body);
    bytes.push(b'\n');
    Ok(bytes)
}
