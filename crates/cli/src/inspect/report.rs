//! What `omadm inspect` reports, as plain data: serialised as is for `--json`, rendered by
//! [`super::text`] otherwise.

use omadm_syncml::{
    AlertCode, Command, Encoding, Item, Location, Message, Meta, StatusCode, SyncHdr,
};
use omadm_wbxml::{tables, PublicId, Reader, Version};
use serde::Serialize;

use crate::{io, opaque};

#[derive(Serialize)]
pub(super) struct Report {
    pub(super) file: String,
    pub(super) encoding: &'static str,
    pub(super) content_type: &'static str,
    pub(super) size: usize,
    pub(super) wbxml: Option<WbxmlHeader>,
    pub(super) other_encoding: OtherEncoding,
    pub(super) header: Option<Header>,
    pub(super) command_count: usize,
    pub(super) item_count: usize,
    pub(super) commands: Vec<Cmd>,
    #[serde(rename = "final")]
    pub(super) final_: bool,
}

#[derive(Serialize)]
pub(super) struct WbxmlHeader {
    pub(super) version: &'static str,
    pub(super) public_id: Option<String>,
    pub(super) fpi: Option<String>,
    pub(super) vocabulary: Option<&'static str>,
    pub(super) charset: u32,
    pub(super) charset_name: Option<&'static str>,
}

#[derive(Serialize)]
pub(super) struct OtherEncoding {
    pub(super) encoding: &'static str,
    pub(super) size: Option<usize>,
    pub(super) rewritten_items: usize,
    pub(super) error: Option<String>,
}

#[derive(Serialize)]
pub(super) struct Header {
    pub(super) ver_dtd: String,
    pub(super) ver_proto: String,
    pub(super) session_id: String,
    pub(super) msg_id: String,
    pub(super) target: Loc,
    pub(super) source: Loc,
    pub(super) resp_uri: Option<String>,
    pub(super) no_resp: bool,
    pub(super) cred: Option<CredInfo>,
    pub(super) max_msg_size: Option<String>,
    pub(super) max_obj_size: Option<String>,
}

#[derive(Serialize)]
pub(super) struct Loc {
    pub(super) loc_uri: String,
    pub(super) loc_name: Option<String>,
}

#[derive(Serialize)]
pub(super) struct CredInfo {
    #[serde(rename = "type")]
    pub(super) type_: Option<String>,
    pub(super) format: Option<String>,
}

#[derive(Serialize)]
pub(super) struct MetaInfo {
    pub(super) format: Option<String>,
    #[serde(rename = "type")]
    pub(super) type_: Option<String>,
    pub(super) size: Option<String>,
}

#[derive(Serialize)]
pub(super) struct Cmd {
    pub(super) name: &'static str,
    pub(super) cmd_id: String,
    pub(super) no_resp: bool,
    pub(super) meta: Option<MetaInfo>,
    pub(super) items: Vec<ItemInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) commands: Option<Vec<Cmd>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) alert: Option<AlertInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) exec: Option<ExecInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) status: Option<StatusInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) results: Option<ResultsInfo>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub(super) unsupported: bool,
}

#[derive(Serialize)]
pub(super) struct AlertInfo {
    pub(super) code: Option<String>,
    pub(super) meaning: Option<&'static str>,
    pub(super) correlator: Option<String>,
}

#[derive(Serialize)]
pub(super) struct ExecInfo {
    pub(super) correlator: Option<String>,
}

#[derive(Serialize)]
pub(super) struct StatusInfo {
    pub(super) msg_ref: String,
    pub(super) cmd_ref: String,
    pub(super) cmd: String,
    pub(super) code: String,
    pub(super) meaning: Option<&'static str>,
    pub(super) target_refs: Vec<String>,
    pub(super) source_refs: Vec<String>,
    pub(super) chal: Option<ChalInfo>,
}

#[derive(Serialize)]
pub(super) struct ChalInfo {
    #[serde(rename = "type")]
    pub(super) type_: Option<String>,
    pub(super) format: Option<String>,
    pub(super) next_nonce: Option<String>,
}

#[derive(Serialize)]
pub(super) struct ResultsInfo {
    pub(super) msg_ref: Option<String>,
    pub(super) cmd_ref: String,
    pub(super) target_ref: Option<String>,
    pub(super) source_ref: Option<String>,
}

#[derive(Serialize)]
pub(super) struct ItemInfo {
    pub(super) target: Option<Loc>,
    pub(super) source: Option<Loc>,
    pub(super) meta: Option<MetaInfo>,
    pub(super) data: Option<DataInfo>,
    pub(super) more_data: bool,
}

#[derive(Serialize)]
pub(super) struct DataInfo {
    pub(super) size: usize,
    pub(super) kind: &'static str,
    pub(super) nested_wbxml: bool,
}

/// An optional text of the model, owned (the model's string type is its own business).
fn opt<S: std::ops::Deref<Target = str>>(v: &Option<S>) -> Option<String> {
    v.as_deref().map(str::to_owned)
}

fn enc_name(enc: Encoding) -> &'static str {
    match enc {
        Encoding::Xml => "xml",
        Encoding::Wbxml => "wbxml",
    }
}

impl Report {
    pub(super) fn new(input: &io::Input, msg: &Message, enc: Encoding) -> Report {
        let mut commands = Vec::with_capacity(msg.body.commands.len());
        let (mut command_count, mut item_count) = (0, 0);
        for c in &msg.body.commands {
            commands.push(Cmd::new(c, &mut command_count, &mut item_count));
        }
        Report {
            file: input.name.clone(),
            encoding: enc_name(enc),
            content_type: enc.content_type(),
            size: input.bytes.len(),
            wbxml: (enc == Encoding::Wbxml)
                .then(|| WbxmlHeader::new(&input.bytes))
                .flatten(),
            other_encoding: OtherEncoding::new(msg, enc),
            header: (!msg.hdr.is_empty()).then(|| Header::new(&msg.hdr)),
            command_count,
            item_count,
            commands,
            final_: msg.body.final_,
        }
    }
}

impl WbxmlHeader {
    fn new(bytes: &[u8]) -> Option<WbxmlHeader> {
        let reader = Reader::new(bytes, omadm_wbxml::Limits::default()).ok()?;
        let h = reader.header();
        let (public_id, fpi, vocabulary) = match h.public_id {
            PublicId::Numeric(id) => (
                Some(format!("{id:#06x}")),
                None,
                tables::by_public_id(id).map(|v| v.name),
            ),
            PublicId::Literal(fpi) => (
                None,
                Some(fpi.to_owned()),
                tables::by_fpi(fpi).map(|v| v.name),
            ),
        };
        Some(WbxmlHeader {
            version: match h.version {
                Version::V1_0 => "1.0",
                Version::V1_1 => "1.1",
                Version::V1_2 => "1.2",
                Version::V1_3 => "1.3",
            },
            public_id,
            fpi,
            vocabulary,
            charset: h.charset,
            charset_name: match h.charset {
                106 => Some("UTF-8"),
                3 => Some("US-ASCII"),
                _ => None,
            },
        })
    }
}

impl OtherEncoding {
    /// The size `omadm convert` would write: for XML after the same Data rewriting.
    fn new(msg: &Message, enc: Encoding) -> OtherEncoding {
        let (other, size, rewritten) = match enc {
            Encoding::Xml => (Encoding::Wbxml, msg.encoded_len(Encoding::Wbxml), 0),
            Encoding::Wbxml => {
                let mut safe = msg.clone();
                let notes = opaque::make_xml_safe(&mut safe.body.commands);
                (Encoding::Xml, safe.encoded_len(Encoding::Xml), notes.len())
            }
        };
        let (size, error) = match size {
            Ok(n) => (Some(n), None),
            Err(e) => (None, Some(e.to_string())),
        };
        OtherEncoding {
            encoding: enc_name(other),
            size,
            rewritten_items: rewritten,
            error,
        }
    }
}

impl Loc {
    fn new(l: &Location) -> Loc {
        Loc {
            loc_uri: l.loc_uri.to_string(),
            loc_name: opt(&l.loc_name),
        }
    }
}

impl MetaInfo {
    fn new(m: &Meta) -> MetaInfo {
        MetaInfo {
            format: opt(&m.format),
            type_: opt(&m.type_),
            size: m.size().map(str::to_owned),
        }
    }
}

impl Header {
    fn new(h: &SyncHdr) -> Header {
        let meta = h.meta.as_ref().map(|m| -> &Meta { m });
        Header {
            ver_dtd: h.ver_dtd.to_string(),
            ver_proto: h.ver_proto.to_string(),
            session_id: h.session_id.to_string(),
            msg_id: h.msg_id.to_string(),
            target: Loc::new(&h.target),
            source: Loc::new(&h.source),
            resp_uri: opt(&h.resp_uri),
            no_resp: h.no_resp,
            cred: h.cred.as_ref().map(|c| CredInfo {
                type_: c.meta.as_ref().and_then(|m| opt(&m.type_)),
                format: c.meta.as_ref().and_then(|m| opt(&m.format)),
            }),
            max_msg_size: meta.and_then(|m| m.max_msg_size().map(str::to_owned)),
            max_obj_size: meta.and_then(|m| m.max_obj_size().map(str::to_owned)),
        }
    }
}

impl Cmd {
    fn new(c: &Command, commands: &mut usize, items: &mut usize) -> Cmd {
        *commands += 1;
        *items += c.items().len();
        let mut cmd = Cmd {
            name: c.name(),
            cmd_id: c.cmd_id().to_owned(),
            no_resp: false,
            meta: None,
            items: c.items().iter().map(ItemInfo::new).collect(),
            commands: None,
            alert: None,
            exec: None,
            status: None,
            results: None,
            unsupported: false,
        };
        match c {
            Command::Add(x)
            | Command::Copy(x)
            | Command::Delete(x)
            | Command::Get(x)
            | Command::Replace(x) => {
                cmd.no_resp = x.no_resp;
                cmd.meta = x.meta.as_ref().map(MetaInfo::new);
            }
            Command::Atomic(x) | Command::Sequence(x) => {
                cmd.no_resp = x.no_resp;
                cmd.meta = x.meta.as_ref().map(MetaInfo::new);
                cmd.commands = Some(
                    x.commands
                        .iter()
                        .map(|s| Cmd::new(s, commands, items))
                        .collect(),
                );
            }
            Command::Alert(x) => {
                cmd.no_resp = x.no_resp;
                cmd.alert = Some(AlertInfo {
                    code: opt(&x.data),
                    meaning: x.code().and_then(AlertCode::meaning),
                    correlator: opt(&x.correlator),
                });
            }
            Command::Exec(x) => {
                cmd.no_resp = x.no_resp;
                cmd.meta = x.meta.as_ref().map(MetaInfo::new);
                cmd.exec = Some(ExecInfo {
                    correlator: opt(&x.correlator),
                });
            }
            Command::Status(x) => {
                cmd.status = Some(StatusInfo {
                    msg_ref: x.msg_ref.to_string(),
                    cmd_ref: x.cmd_ref.to_string(),
                    cmd: x.cmd.to_string(),
                    code: x.data.to_string(),
                    meaning: x.code().and_then(StatusCode::meaning),
                    target_refs: x.target_refs.iter().map(|t| t.to_string()).collect(),
                    source_refs: x.source_refs.iter().map(|t| t.to_string()).collect(),
                    chal: x.chal.as_ref().map(|ch| ChalInfo {
                        type_: opt(&ch.meta.type_),
                        format: opt(&ch.meta.format),
                        next_nonce: ch.meta.next_nonce().map(str::to_owned),
                    }),
                });
            }
            Command::Results(x) => {
                cmd.meta = x.meta.as_ref().map(MetaInfo::new);
                cmd.results = Some(ResultsInfo {
                    msg_ref: opt(&x.msg_ref),
                    cmd_ref: x.cmd_ref.to_string(),
                    target_ref: opt(&x.target_ref),
                    source_ref: opt(&x.source_ref),
                });
            }
            Command::Unsupported(_) => cmd.unsupported = true,
        }
        cmd
    }
}

impl ItemInfo {
    fn new(i: &Item) -> ItemInfo {
        ItemInfo {
            target: i.target.as_ref().map(Loc::new),
            source: i.source.as_ref().map(Loc::new),
            meta: i.meta.as_ref().map(MetaInfo::new),
            data: i.data.as_ref().map(|d| DataInfo {
                size: d.len(),
                kind: d.kind(),
                nested_wbxml: d.is_nested_wbxml(),
            }),
            more_data: i.more_data,
        }
    }
}
