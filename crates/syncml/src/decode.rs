//! The mapping from element events to the model, shared by the XML and WBXML readers.
//!
//! Children are accepted in any order (peers deviate from the DTD order, e.g. libdmclient's
//! Correlator before Data); commands keep document order. Elements of SyncML that DM does not use
//! (DIGEST.md §2.3: Lang, Archive, SftDel, NoResults, Filter, Anchor...) are skipped.

use compact_str::CompactString;

use crate::error::{DecodeError, ErrorKind};
use crate::event::{ElementSource, Ev};
use crate::limits::Limits;
use crate::model::*;
use crate::tag::Tag;

pub(crate) struct Decoder<'s, S> {
    src: &'s mut S,
    limits: Limits,
    commands: usize,
    items: usize,
    expected: usize,
}

/// Decodes a whole message from `src`.
/// `expected_commands` pre-sizes the command list (a guess from the input size), so that a large
/// message does not pay for repeated growth of a vector of commands.
pub(crate) fn decode<'a, S: ElementSource<'a>>(
    src: &mut S,
    limits: &Limits,
    expected_commands: usize,
) -> Result<Message, DecodeError> {
    match src.next()? {
        Ev::Start(Tag::SyncML) => {}
        Ev::Start(t) => {
            return Err(src.error(ErrorKind::NotSyncML {
                found: t.name().to_owned(),
            }))
        }
        Ev::Other(name) => {
            return Err(src.error(ErrorKind::NotSyncML {
                found: name.into_owned(),
            }))
        }
        Ev::End | Ev::Eof => return Err(src.error(ErrorKind::Empty)),
    }
    let mut d = Decoder {
        src,
        limits: *limits,
        commands: 0,
        items: 0,
        expected: expected_commands.min(limits.max_commands),
    };
    let mut msg = Message::default();
    loop {
        match d.src.next()? {
            Ev::Start(Tag::SyncHdr) => msg.hdr = d.hdr()?,
            Ev::Start(Tag::SyncBody) => msg.body = d.body()?,
            Ev::End => break,
            ev => return Err(d.unexpected(ev, Tag::SyncML)),
        }
    }
    d.src.finish()?;
    Ok(msg)
}

impl<'a, S: ElementSource<'a>> Decoder<'_, S> {
    fn unexpected(&self, ev: Ev<'_>, parent: Tag) -> DecodeError {
        let kind = match ev {
            Ev::Start(t) => ErrorKind::UnexpectedElement {
                found: t.name().to_owned(),
                parent: parent.name(),
            },
            Ev::Other(n) => ErrorKind::UnknownElement {
                found: n.into_owned(),
                parent: parent.name(),
            },
            Ev::End | Ev::Eof => ErrorKind::UnexpectedEof {
                open: parent.name(),
            },
        };
        self.src.error(kind)
    }

    fn text(&mut self, tag: Tag) -> Result<CompactString, DecodeError> {
        let t = self.src.read_text(tag)?;
        let trimmed = t.trim();
        if trimmed.len() > self.limits.max_text_len {
            return Err(self.src.error(ErrorKind::LimitExceeded {
                limit: "max_text_len",
                max: self.limits.max_text_len,
            }));
        }
        Ok(CompactString::new(trimmed))
    }

    fn flag(&mut self) -> Result<bool, DecodeError> {
        self.src.skip()?;
        Ok(true)
    }

    fn hdr(&mut self) -> Result<SyncHdr, DecodeError> {
        let mut h = SyncHdr::default();
        loop {
            match self.src.next()? {
                Ev::Start(t @ Tag::VerDTD) => h.ver_dtd = self.text(t)?,
                Ev::Start(t @ Tag::VerProto) => h.ver_proto = self.text(t)?,
                Ev::Start(t @ Tag::SessionID) => h.session_id = self.text(t)?,
                Ev::Start(t @ Tag::MsgID) => h.msg_id = self.text(t)?,
                Ev::Start(t @ Tag::Target) => h.target = self.location(t)?,
                Ev::Start(t @ Tag::Source) => h.source = self.location(t)?,
                Ev::Start(t @ Tag::RespURI) => h.resp_uri = Some(self.text(t)?),
                Ev::Start(Tag::NoResp) => h.no_resp = self.flag()?,
                Ev::Start(Tag::Cred) => h.cred = Some(Box::new(self.cred()?)),
                Ev::Start(Tag::Meta) => h.meta = Some(self.meta()?),
                Ev::End => return Ok(h),
                ev => return Err(self.unexpected(ev, Tag::SyncHdr)),
            }
        }
    }

    fn location(&mut self, parent: Tag) -> Result<Location, DecodeError> {
        let mut l = Location::default();
        loop {
            match self.src.next()? {
                Ev::Start(t @ Tag::LocURI) => l.loc_uri = self.text(t)?,
                Ev::Start(t @ Tag::LocName) => l.loc_name = Some(self.text(t)?),
                Ev::Start(Tag::Filter) => self.src.skip()?,
                Ev::End => return Ok(l),
                ev => return Err(self.unexpected(ev, parent)),
            }
        }
    }

    fn cred(&mut self) -> Result<Cred, DecodeError> {
        let mut c = Cred::default();
        loop {
            match self.src.next()? {
                Ev::Start(Tag::Meta) => c.meta = Some(self.meta()?),
                Ev::Start(t @ Tag::Data) => c.data = self.text(t)?,
                Ev::End => return Ok(c),
                ev => return Err(self.unexpected(ev, Tag::Cred)),
            }
        }
    }

    fn chal(&mut self) -> Result<Chal, DecodeError> {
        let mut c = Chal::default();
        loop {
            match self.src.next()? {
                Ev::Start(Tag::Meta) => c.meta = self.meta()?,
                Ev::End => return Ok(c),
                ev => return Err(self.unexpected(ev, Tag::Chal)),
            }
        }
    }

    fn meta(&mut self) -> Result<Meta, DecodeError> {
        let mut m = Meta::default();
        self.meta_into(&mut m, Tag::Meta)?;
        Ok(m)
    }

    /// Some stacks wrap MetInf elements in `<MetInf>`; its children count as the Meta's own.
    fn meta_into(&mut self, m: &mut Meta, parent: Tag) -> Result<(), DecodeError> {
        loop {
            match self.src.next()? {
                Ev::Start(t @ Tag::Format) => m.format = Some(self.text(t)?),
                Ev::Start(t @ Tag::Type) => m.type_ = Some(self.text(t)?),
                Ev::Start(t @ Tag::Mark) => m.more_mut().mark = Some(self.text(t)?),
                Ev::Start(t @ Tag::Size) => m.more_mut().size = Some(self.text(t)?),
                Ev::Start(t @ Tag::Version) => m.more_mut().version = Some(self.text(t)?),
                Ev::Start(t @ Tag::NextNonce) => m.more_mut().next_nonce = Some(self.text(t)?),
                Ev::Start(t @ Tag::MaxMsgSize) => m.more_mut().max_msg_size = Some(self.text(t)?),
                Ev::Start(t @ Tag::MaxObjSize) => m.more_mut().max_obj_size = Some(self.text(t)?),
                Ev::Start(t @ Tag::EMI) => {
                    let v = self.text(t)?;
                    m.more_mut().emi.push(v);
                }
                Ev::Start(Tag::Mem) => m.more_mut().mem = Some(self.mem()?),
                Ev::Start(Tag::MetInf) => self.meta_into(m, Tag::MetInf)?,
                Ev::Start(Tag::Anchor | Tag::FieldLevel) => self.src.skip()?,
                Ev::End => return Ok(()),
                ev => return Err(self.unexpected(ev, parent)),
            }
        }
    }

    fn mem(&mut self) -> Result<Mem, DecodeError> {
        let mut m = Mem::default();
        loop {
            match self.src.next()? {
                Ev::Start(Tag::SharedMem) => m.shared_mem = self.flag()?,
                Ev::Start(t @ Tag::FreeMem) => m.free_mem = Some(self.text(t)?),
                Ev::Start(t @ Tag::FreeID) => m.free_id = Some(self.text(t)?),
                Ev::End => return Ok(m),
                ev => return Err(self.unexpected(ev, Tag::Mem)),
            }
        }
    }

    fn body(&mut self) -> Result<SyncBody, DecodeError> {
        let mut b = SyncBody {
            commands: Vec::with_capacity(self.expected),
            final_: false,
        };
        loop {
            match self.src.next()? {
                Ev::Start(Tag::Final) => b.final_ = self.flag()?,
                Ev::Start(t) if is_command(t) => {
                    let c = self.command(t)?;
                    b.commands.push(c);
                }
                Ev::End => return Ok(b),
                ev => return Err(self.unexpected(ev, Tag::SyncBody)),
            }
        }
    }

    fn count_command(&mut self) -> Result<(), DecodeError> {
        self.commands += 1;
        if self.commands > self.limits.max_commands {
            return Err(self.src.error(ErrorKind::LimitExceeded {
                limit: "max_commands",
                max: self.limits.max_commands,
            }));
        }
        Ok(())
    }

    fn command(&mut self, tag: Tag) -> Result<Command, DecodeError> {
        self.count_command()?;
        Ok(match tag {
            Tag::Add => Command::Add(self.item_command(tag)?),
            Tag::Copy => Command::Copy(self.item_command(tag)?),
            Tag::Delete => Command::Delete(self.item_command(tag)?),
            Tag::Get => Command::Get(self.item_command(tag)?),
            Tag::Replace => Command::Replace(self.item_command(tag)?),
            Tag::Alert => Command::Alert(self.alert()?),
            Tag::Exec => Command::Exec(self.exec()?),
            Tag::Atomic => Command::Atomic(self.container(tag)?),
            Tag::Sequence => Command::Sequence(self.container(tag)?),
            Tag::Status => Command::Status(self.status()?),
            Tag::Results => Command::Results(self.results()?),
            _ => Command::Unsupported(self.unsupported(tag)?),
        })
    }

    fn item_command(&mut self, parent: Tag) -> Result<ItemCommand, DecodeError> {
        let mut c = ItemCommand::default();
        loop {
            match self.src.next()? {
                Ev::Start(t @ Tag::CmdID) => c.cmd_id = self.text(t)?,
                Ev::Start(Tag::NoResp) => c.no_resp = self.flag()?,
                Ev::Start(Tag::Cred) => c.cred = Some(Box::new(self.cred()?)),
                Ev::Start(Tag::Meta) => c.meta = Some(self.meta()?),
                Ev::Start(Tag::Item) => {
                    let i = self.item()?;
                    push_one(&mut c.items, i);
                }
                Ev::Start(Tag::Lang | Tag::Archive | Tag::SftDel | Tag::NoResults) => {
                    self.src.skip()?
                }
                Ev::End => return Ok(c),
                ev => return Err(self.unexpected(ev, parent)),
            }
        }
    }

    fn item(&mut self) -> Result<Item, DecodeError> {
        self.items += 1;
        if self.items > self.limits.max_items {
            return Err(self.src.error(ErrorKind::LimitExceeded {
                limit: "max_items",
                max: self.limits.max_items,
            }));
        }
        let mut i = Item::default();
        loop {
            match self.src.next()? {
                Ev::Start(t @ Tag::Target) => i.target = Some(self.location(t)?),
                Ev::Start(t @ Tag::Source) => i.source = Some(self.location(t)?),
                Ev::Start(Tag::Meta) => i.meta = Some(self.meta()?),
                Ev::Start(Tag::Data) => i.data = Some(self.src.read_data()?),
                Ev::Start(Tag::MoreData) => i.more_data = self.flag()?,
                Ev::Start(Tag::SourceParent | Tag::TargetParent) => self.src.skip()?,
                Ev::End => return Ok(i),
                ev => return Err(self.unexpected(ev, Tag::Item)),
            }
        }
    }

    fn alert(&mut self) -> Result<Alert, DecodeError> {
        let mut a = Alert::default();
        loop {
            match self.src.next()? {
                Ev::Start(t @ Tag::CmdID) => a.cmd_id = self.text(t)?,
                Ev::Start(Tag::NoResp) => a.no_resp = self.flag()?,
                Ev::Start(Tag::Cred) => a.cred = Some(Box::new(self.cred()?)),
                Ev::Start(t @ Tag::Data) => a.data = Some(self.text(t)?),
                Ev::Start(t @ Tag::Correlator) => a.correlator = Some(self.text(t)?),
                Ev::Start(Tag::Item) => {
                    let i = self.item()?;
                    push_one(&mut a.items, i);
                }
                Ev::End => return Ok(a),
                ev => return Err(self.unexpected(ev, Tag::Alert)),
            }
        }
    }

    fn exec(&mut self) -> Result<Exec, DecodeError> {
        let mut e = Exec::default();
        loop {
            match self.src.next()? {
                Ev::Start(t @ Tag::CmdID) => e.cmd_id = self.text(t)?,
                Ev::Start(Tag::NoResp) => e.no_resp = self.flag()?,
                Ev::Start(Tag::Cred) => e.cred = Some(Box::new(self.cred()?)),
                Ev::Start(Tag::Meta) => e.meta = Some(self.meta()?),
                Ev::Start(t @ Tag::Correlator) => e.correlator = Some(self.text(t)?),
                Ev::Start(Tag::Item) => {
                    let i = self.item()?;
                    push_one(&mut e.items, i);
                }
                Ev::End => return Ok(e),
                ev => return Err(self.unexpected(ev, Tag::Exec)),
            }
        }
    }

    fn container(&mut self, parent: Tag) -> Result<Container, DecodeError> {
        let mut c = Container::default();
        loop {
            match self.src.next()? {
                Ev::Start(t @ Tag::CmdID) => c.cmd_id = self.text(t)?,
                Ev::Start(Tag::NoResp) => c.no_resp = self.flag()?,
                Ev::Start(Tag::Meta) => c.meta = Some(self.meta()?),
                Ev::Start(t) if is_command(t) => {
                    let cmd = self.command(t)?;
                    c.commands.push(cmd);
                }
                Ev::End => return Ok(c),
                ev => return Err(self.unexpected(ev, parent)),
            }
        }
    }

    fn status(&mut self) -> Result<Status, DecodeError> {
        let mut s = Status::default();
        loop {
            match self.src.next()? {
                Ev::Start(t @ Tag::CmdID) => s.cmd_id = self.text(t)?,
                Ev::Start(t @ Tag::MsgRef) => s.msg_ref = self.text(t)?,
                Ev::Start(t @ Tag::CmdRef) => s.cmd_ref = self.text(t)?,
                Ev::Start(t @ Tag::Cmd) => s.cmd = self.text(t)?,
                Ev::Start(t @ Tag::TargetRef) => {
                    let v = self.text(t)?;
                    push_one(&mut s.target_refs, v);
                }
                Ev::Start(t @ Tag::SourceRef) => {
                    let v = self.text(t)?;
                    push_one(&mut s.source_refs, v);
                }
                Ev::Start(Tag::Cred) => s.cred = Some(Box::new(self.cred()?)),
                Ev::Start(Tag::Chal) => s.chal = Some(Box::new(self.chal()?)),
                Ev::Start(t @ Tag::Data) => s.data = self.text(t)?,
                Ev::Start(Tag::Item) => {
                    let i = self.item()?;
                    push_one(&mut s.items, i);
                }
                Ev::End => return Ok(s),
                ev => return Err(self.unexpected(ev, Tag::Status)),
            }
        }
    }

    fn results(&mut self) -> Result<Results, DecodeError> {
        let mut r = Results::default();
        loop {
            match self.src.next()? {
                Ev::Start(t @ Tag::CmdID) => r.cmd_id = self.text(t)?,
                Ev::Start(t @ Tag::MsgRef) => r.msg_ref = Some(self.text(t)?),
                Ev::Start(t @ Tag::CmdRef) => r.cmd_ref = self.text(t)?,
                Ev::Start(Tag::Meta) => r.meta = Some(self.meta()?),
                Ev::Start(t @ Tag::TargetRef) => r.target_ref = Some(self.text(t)?),
                Ev::Start(t @ Tag::SourceRef) => r.source_ref = Some(self.text(t)?),
                Ev::Start(Tag::Item) => {
                    let i = self.item()?;
                    push_one(&mut r.items, i);
                }
                Ev::End => return Ok(r),
                ev => return Err(self.unexpected(ev, Tag::Results)),
            }
        }
    }

    fn unsupported(&mut self, tag: Tag) -> Result<Unsupported, DecodeError> {
        let mut u = Unsupported {
            tag,
            cmd_id: CompactString::default(),
        };
        loop {
            match self.src.next()? {
                Ev::Start(t @ Tag::CmdID) => u.cmd_id = self.text(t)?,
                Ev::Start(_) | Ev::Other(_) => self.src.skip()?,
                Ev::End => return Ok(u),
                ev @ Ev::Eof => return Err(self.unexpected(ev, tag)),
            }
        }
    }
}

/// Elements that are commands in SyncBody, Atomic and Sequence.
pub(crate) fn is_command(t: Tag) -> bool {
    matches!(
        t,
        Tag::Add
            | Tag::Alert
            | Tag::Atomic
            | Tag::Copy
            | Tag::Delete
            | Tag::Exec
            | Tag::Get
            | Tag::Replace
            | Tag::Sequence
            | Tag::Status
            | Tag::Results
            | Tag::Sync
            | Tag::Map
            | Tag::Put
            | Tag::Search
            | Tag::Move
    )
}

/// Most lists in a DM message hold one element; `Vec`'s first growth would reserve four.
fn push_one<T>(v: &mut Vec<T>, x: T) {
    if v.capacity() == 0 {
        v.reserve_exact(1);
    }
    v.push(x);
}
