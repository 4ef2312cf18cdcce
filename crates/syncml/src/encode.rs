//! The mapping from the model to element events, shared by the XML and WBXML writers.
//! Elements are written in DTD order (DIGEST.md §2.2).

use compact_str::CompactString;

use crate::error::EncodeError;
use crate::event::ElementSink;
use crate::model::*;
use crate::tag::Tag;

type R = Result<(), EncodeError>;

pub(crate) fn message<S: ElementSink>(m: &Message, s: &mut S) -> R {
    s.start(Tag::SyncML)?;
    if !m.hdr.is_empty() {
        hdr(&m.hdr, s)?;
    }
    body(&m.body, s)?;
    s.end(Tag::SyncML)
}

pub(crate) fn body<S: ElementSink>(b: &SyncBody, s: &mut S) -> R {
    s.start(Tag::SyncBody)?;
    for c in &b.commands {
        command(c, s)?;
    }
    if b.final_ {
        s.empty(Tag::Final)?;
    }
    s.end(Tag::SyncBody)
}

fn opt_text<S: ElementSink>(s: &mut S, tag: Tag, v: &Option<CompactString>) -> R {
    match v {
        Some(v) => s.text(tag, v),
        None => Ok(()),
    }
}

fn flag<S: ElementSink>(s: &mut S, tag: Tag, on: bool) -> R {
    if on {
        s.empty(tag)?;
    }
    Ok(())
}

pub(crate) fn hdr<S: ElementSink>(h: &SyncHdr, s: &mut S) -> R {
    s.start(Tag::SyncHdr)?;
    s.text(Tag::VerDTD, &h.ver_dtd)?;
    s.text(Tag::VerProto, &h.ver_proto)?;
    s.text(Tag::SessionID, &h.session_id)?;
    s.text(Tag::MsgID, &h.msg_id)?;
    location(Tag::Target, &h.target, s)?;
    location(Tag::Source, &h.source, s)?;
    opt_text(s, Tag::RespURI, &h.resp_uri)?;
    flag(s, Tag::NoResp, h.no_resp)?;
    if let Some(c) = &h.cred {
        cred(c, s)?;
    }
    if let Some(m) = &h.meta {
        meta(m, s)?;
    }
    s.end(Tag::SyncHdr)
}

fn location<S: ElementSink>(tag: Tag, l: &Location, s: &mut S) -> R {
    s.start(tag)?;
    s.text(Tag::LocURI, &l.loc_uri)?;
    opt_text(s, Tag::LocName, &l.loc_name)?;
    s.end(tag)
}

fn cred<S: ElementSink>(c: &Cred, s: &mut S) -> R {
    s.start(Tag::Cred)?;
    if let Some(m) = &c.meta {
        meta(m, s)?;
    }
    s.text(Tag::Data, &c.data)?;
    s.end(Tag::Cred)
}

fn meta<S: ElementSink>(m: &Meta, s: &mut S) -> R {
    if m.is_empty() {
        return s.empty(Tag::Meta);
    }
    s.start(Tag::Meta)?;
    opt_text(s, Tag::Format, &m.format)?;
    opt_text(s, Tag::Type, &m.type_)?;
    if let Some(m) = m.more.as_deref() {
        more(m, s)?;
    }
    s.end(Tag::Meta)
}

fn more<S: ElementSink>(m: &MetaMore, s: &mut S) -> R {
    opt_text(s, Tag::Mark, &m.mark)?;
    opt_text(s, Tag::Size, &m.size)?;
    opt_text(s, Tag::Version, &m.version)?;
    opt_text(s, Tag::NextNonce, &m.next_nonce)?;
    opt_text(s, Tag::MaxMsgSize, &m.max_msg_size)?;
    opt_text(s, Tag::MaxObjSize, &m.max_obj_size)?;
    for e in &m.emi {
        s.text(Tag::EMI, e)?;
    }
    if let Some(mem) = &m.mem {
        s.start(Tag::Mem)?;
        flag(s, Tag::SharedMem, mem.shared_mem)?;
        opt_text(s, Tag::FreeMem, &mem.free_mem)?;
        opt_text(s, Tag::FreeID, &mem.free_id)?;
        s.end(Tag::Mem)?;
    }
    Ok(())
}

fn item<S: ElementSink>(i: &Item, s: &mut S) -> R {
    s.start(Tag::Item)?;
    if let Some(t) = &i.target {
        location(Tag::Target, t, s)?;
    }
    if let Some(src) = &i.source {
        location(Tag::Source, src, s)?;
    }
    if let Some(m) = &i.meta {
        meta(m, s)?;
    }
    if let Some(d) = &i.data {
        s.data(d)?;
    }
    flag(s, Tag::MoreData, i.more_data)?;
    s.end(Tag::Item)
}

fn items<S: ElementSink>(items: &[Item], s: &mut S) -> R {
    items.iter().try_for_each(|i| item(i, s))
}

pub(crate) fn command<S: ElementSink>(c: &Command, s: &mut S) -> R {
    let tag = c.tag();
    s.start(tag)?;
    match c {
        Command::Add(c)
        | Command::Copy(c)
        | Command::Delete(c)
        | Command::Get(c)
        | Command::Replace(c) => {
            s.text(Tag::CmdID, &c.cmd_id)?;
            flag(s, Tag::NoResp, c.no_resp)?;
            if let Some(cr) = &c.cred {
                cred(cr, s)?;
            }
            if let Some(m) = &c.meta {
                meta(m, s)?;
            }
            items(&c.items, s)?;
        }
        Command::Alert(a) => {
            s.text(Tag::CmdID, &a.cmd_id)?;
            flag(s, Tag::NoResp, a.no_resp)?;
            if let Some(cr) = &a.cred {
                cred(cr, s)?;
            }
            opt_text(s, Tag::Data, &a.data)?;
            opt_text(s, Tag::Correlator, &a.correlator)?;
            items(&a.items, s)?;
        }
        Command::Exec(e) => {
            s.text(Tag::CmdID, &e.cmd_id)?;
            flag(s, Tag::NoResp, e.no_resp)?;
            if let Some(cr) = &e.cred {
                cred(cr, s)?;
            }
            if let Some(m) = &e.meta {
                meta(m, s)?;
            }
            opt_text(s, Tag::Correlator, &e.correlator)?;
            items(&e.items, s)?;
        }
        Command::Atomic(c) | Command::Sequence(c) => {
            s.text(Tag::CmdID, &c.cmd_id)?;
            flag(s, Tag::NoResp, c.no_resp)?;
            if let Some(m) = &c.meta {
                meta(m, s)?;
            }
            for sub in &c.commands {
                command(sub, s)?;
            }
        }
        Command::Status(st) => {
            s.text(Tag::CmdID, &st.cmd_id)?;
            s.text(Tag::MsgRef, &st.msg_ref)?;
            s.text(Tag::CmdRef, &st.cmd_ref)?;
            s.text(Tag::Cmd, &st.cmd)?;
            for t in &st.target_refs {
                s.text(Tag::TargetRef, t)?;
            }
            for t in &st.source_refs {
                s.text(Tag::SourceRef, t)?;
            }
            if let Some(cr) = &st.cred {
                cred(cr, s)?;
            }
            if let Some(ch) = &st.chal {
                s.start(Tag::Chal)?;
                meta(&ch.meta, s)?;
                s.end(Tag::Chal)?;
            }
            s.text(Tag::Data, &st.data)?;
            items(&st.items, s)?;
        }
        Command::Results(r) => {
            s.text(Tag::CmdID, &r.cmd_id)?;
            opt_text(s, Tag::MsgRef, &r.msg_ref)?;
            s.text(Tag::CmdRef, &r.cmd_ref)?;
            if let Some(m) = &r.meta {
                meta(m, s)?;
            }
            opt_text(s, Tag::TargetRef, &r.target_ref)?;
            opt_text(s, Tag::SourceRef, &r.source_ref)?;
            items(&r.items, s)?;
        }
        Command::Unsupported(u) => {
            s.text(Tag::CmdID, &u.cmd_id)?;
        }
    }
    s.end(tag)
}
