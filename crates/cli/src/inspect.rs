//! `omadm inspect`: what a message holds, for people (text) and scripts (`--json`).
//!
//! Both outputs are rendered from one [`Report`], so they always carry the same information.

mod report;
mod text;

use anyhow::{Context, Result};
use omadm_syncml::{Limits, Message};

use crate::io;
use report::Report;

const LONG_ABOUT: &str = "\
Summarise a SyncML DM message: its encoding, header, commands and items.

SyncML DM messages come as XML (application/vnd.syncml.dm+xml) or as WBXML
(application/vnd.syncml.dm+wbxml, WAP Binary XML: the same document with element names replaced
by one-byte tokens); the encoding is told from the bytes. For WBXML the document header is shown
too (WBXML version, public id naming the document type, charset). The size the message would
have in the other encoding is the size `omadm convert` writes (compact XML with declaration,
after the same rewriting of binary Data; WBXML 1.2).

With --json, one JSON object with the same information. Field names are stable; values the
message carries are strings as sent (codes, IDs, sizes from Meta), sizes measured by omadm are
numbers; absent values are null.

  {
    \"file\": \"in.wbxml\",              -- \"<stdin>\" for -
    \"encoding\": \"xml\" | \"wbxml\",
    \"content_type\": \"application/vnd.syncml.dm+wbxml\",
    \"size\": 1234,                    -- bytes
    \"wbxml\": null | {\"version\": \"1.2\", \"public_id\": \"0x1201\" | null, \"fpi\": null | \"...\",
                     \"vocabulary\": \"SyncML 1.2\" | null, \"charset\": 106, \"charset_name\": \"UTF-8\"},
    \"other_encoding\": {\"encoding\": \"xml\", \"size\": 2345 | null, \"rewritten_items\": 0,
                       \"error\": null | \"...\"},
    \"header\": null | {\"ver_dtd\", \"ver_proto\", \"session_id\", \"msg_id\", \"target\": LOC,
                      \"source\": LOC, \"resp_uri\", \"no_resp\": false,
                      \"cred\": null | {\"type\", \"format\"}, \"max_msg_size\", \"max_obj_size\"},
    \"command_count\": 9,              -- nested commands included
    \"item_count\": 8,
    \"commands\": [COMMAND, ...],
    \"final\": true
  }
  LOC     = null | {\"loc_uri\": \"./X\", \"loc_name\": null | \"...\"}
  COMMAND = {\"name\": \"Add\", \"cmd_id\": \"2\", \"no_resp\": false, \"meta\": META, \"items\": [ITEM, ...],
             and by kind:
             Atomic, Sequence: \"commands\": [COMMAND, ...]
             Alert:   \"alert\": {\"code\": \"1226\", \"meaning\": \"Generic alert\", \"correlator\"}
             Exec:    \"exec\": {\"correlator\"}
             Status:  \"status\": {\"msg_ref\", \"cmd_ref\", \"cmd\", \"code\", \"meaning\",
                                 \"target_refs\": [], \"source_refs\": [],
                                 \"chal\": null | {\"type\", \"format\", \"next_nonce\"}}
             Results: \"results\": {\"msg_ref\", \"cmd_ref\", \"target_ref\", \"source_ref\"}
             Sync, Map, Put, Search, Move: \"unsupported\": true}
  ITEM    = {\"target\": LOC, \"source\": LOC, \"meta\": META,
             \"data\": null | {\"size\": 13, \"kind\": \"text\" | \"cdata\" | \"xml\" | \"opaque\",
                             \"nested_wbxml\": false},
             \"more_data\": false}
  META    = null | {\"format\", \"type\", \"size\"}

Exit status: 0 on success, 1 when the input cannot be read or decoded, 2 on usage errors.";

/// Summarise a SyncML DM message (XML or WBXML) as text or JSON.
#[derive(Debug, clap::Args)]
#[command(long_about = LONG_ABOUT)]
pub struct Args {
    /// Input file, XML or WBXML (told from its bytes); `-` reads stdin.
    #[arg(value_name = "IN")]
    input: String,

    /// Print one JSON object (shape in --help) instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &Args) -> Result<()> {
    let limits = Limits::default();
    let input = io::read_input(&args.input, limits.max_message_bytes)?;
    let (msg, enc) =
        Message::decode_with(&input.bytes, &limits).with_context(|| input.name.clone())?;
    let report = Report::new(&input, &msg, enc);
    let text = if args.json {
        let mut s = serde_json::to_string_pretty(&report)?;
        s.push('\n');
        s
    } else {
        report.to_text()
    };
    io::Output::Stdout.write(text.as_bytes())
}
