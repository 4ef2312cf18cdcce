//! Element events → [`MgmtTree`], written once for XML and WBXML.

use std::borrow::Cow;

use super::error::{ErrorKind, Position, TndsError};
use super::limits::TndsLimits;
use super::model::{MgmtTree, NodeType, RtProperties, TndsNode};
use super::tag::Tag;
use crate::format::{base64_decode, NodeFormat};

/// An element name: one TNDS knows, or any other (kept for the error message).
pub(crate) enum Name<'a> {
    Tag(Tag),
    Other(Cow<'a, str>),
}

impl Name<'_> {
    fn into_string(self) -> String {
        match self {
            Name::Tag(t) => t.name().to_owned(),
            Name::Other(n) => n.into_owned(),
        }
    }
}

/// One step through a document, whichever its encoding.
pub(crate) enum Ev<'a> {
    Start(Name<'a>),
    End,
    /// Character data: XML text and CDATA (unescaped), WBXML STR_I / STR_T / ENTITY.
    Text(Cow<'a, str>),
    /// WBXML OPAQUE.
    Opaque(&'a [u8]),
    Eof,
}

/// What the XML and WBXML readers provide. Comments, processing instructions, the XML
/// declaration and DOCTYPE never reach the decoder.
pub(crate) trait Source<'a> {
    fn next(&mut self) -> Result<Ev<'a>, TndsError>;
    /// Byte offset of the last event returned.
    fn offset(&self) -> usize;
    /// `offset` as the encoding reports positions.
    fn locate(&self, offset: usize) -> Position;
    /// After the root closed: nothing but whitespace, comments or PIs may follow.
    fn finish(&mut self) -> Result<(), TndsError>;
}

/// Reads one `MgmtTree` document from `src`.
pub(crate) fn decode<'a, S: Source<'a>>(
    src: &mut S,
    limits: &TndsLimits,
) -> Result<MgmtTree, TndsError> {
    let mut d = Decoder {
        src,
        limits,
        nodes: 0,
    };
    loop {
        match d.src.next()? {
            Ev::Start(Name::Tag(Tag::MgmtTree)) => break,
            Ev::Start(other) => {
                let found = other.into_string();
                return Err(d.err(ErrorKind::NotMgmtTree { found }));
            }
            Ev::Text(t) if is_blank(&t) => {}
            Ev::Text(_) | Ev::Opaque(_) | Ev::End => {
                return Err(d.err(ErrorKind::ContentOutsideRoot))
            }
            Ev::Eof => return Err(d.err(ErrorKind::NoRoot)),
        }
    }
    let tree = d.mgmt_tree()?;
    d.src.finish()?;
    Ok(tree)
}

fn is_blank(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_whitespace())
}

/// A Value as read: runs of text and opaque data, interpreted once the node's Format is known
/// (elements may come in any order).
enum Piece {
    Text(String),
    Opaque(Vec<u8>),
}

struct RawValue {
    at: usize,
    pieces: Vec<Piece>,
}

struct Decoder<'s, S> {
    src: &'s mut S,
    limits: &'s TndsLimits,
    nodes: usize,
}

impl<'a, S: Source<'a>> Decoder<'_, S> {
    fn err(&self, kind: ErrorKind) -> TndsError {
        self.err_at(self.src.offset(), kind)
    }

    fn err_at(&self, offset: usize, kind: ErrorKind) -> TndsError {
        TndsError::new(Some(self.src.locate(offset)), kind)
    }

    /// Next child element of `parent` (element-only content) and its offset, or `None` at the
    /// end of `parent`.
    fn child(&mut self, parent: Tag) -> Result<Option<(Tag, usize)>, TndsError> {
        loop {
            match self.src.next()? {
                Ev::Start(Name::Tag(t)) => return Ok(Some((t, self.src.offset()))),
                Ev::Start(Name::Other(found)) => {
                    return Err(self.err(ErrorKind::UnexpectedElement {
                        found: found.into_owned(),
                        parent: parent.name(),
                    }))
                }
                Ev::End => return Ok(None),
                Ev::Text(t) if is_blank(&t) => {}
                Ev::Opaque([]) => {}
                Ev::Text(_) | Ev::Opaque(_) => {
                    return Err(self.err(ErrorKind::TextNotAllowed {
                        parent: parent.name(),
                    }))
                }
                Ev::Eof => {
                    return Err(self.err(ErrorKind::UnexpectedEof {
                        open: parent.name(),
                    }))
                }
            }
        }
    }

    fn unexpected(&self, found: Tag, parent: Tag, at: usize) -> TndsError {
        self.err_at(
            at,
            ErrorKind::UnexpectedElement {
                found: found.name().to_owned(),
                parent: parent.name(),
            },
        )
    }

    /// Stores `value` in `slot`, refusing a second occurrence of `element` (found at `at`).
    fn once<T>(
        &self,
        slot: &mut Option<T>,
        value: T,
        (element, at): (Tag, usize),
        parent: Tag,
    ) -> Result<(), TndsError> {
        if slot.is_some() {
            return Err(self.err_at(
                at,
                ErrorKind::Duplicate {
                    element: element.name(),
                    parent: parent.name(),
                },
            ));
        }
        *slot = Some(value);
        Ok(())
    }

    /// The text content of `element` (already started), up to its end.
    fn text(&mut self, element: Tag) -> Result<String, TndsError> {
        let mut acc = String::new();
        loop {
            match self.src.next()? {
                Ev::Text(t) => acc.push_str(&t),
                Ev::Opaque(b) => match std::str::from_utf8(b) {
                    Ok(s) => acc.push_str(s),
                    Err(_) => return Err(self.err(ErrorKind::InvalidUtf8)),
                },
                Ev::End => return Ok(acc),
                Ev::Start(found) => {
                    return Err(self.err(ErrorKind::ElementInText {
                        found: found.into_string(),
                        parent: element.name(),
                    }))
                }
                Ev::Eof => {
                    return Err(self.err(ErrorKind::UnexpectedEof {
                        open: element.name(),
                    }))
                }
            }
        }
    }

    /// Consumes an element that must be EMPTY (whitespace tolerated).
    fn empty(&mut self, element: Tag) -> Result<(), TndsError> {
        loop {
            match self.src.next()? {
                Ev::End => return Ok(()),
                Ev::Text(t) if is_blank(&t) => {}
                Ev::Eof => {
                    return Err(self.err(ErrorKind::UnexpectedEof {
                        open: element.name(),
                    }))
                }
                _ => {
                    return Err(self.err(ErrorKind::NotEmpty {
                        element: element.name(),
                    }))
                }
            }
        }
    }

    /// Skips the rest of `element`, whatever it holds.
    fn skip(&mut self, element: Tag) -> Result<(), TndsError> {
        let mut nested = 0usize;
        loop {
            match self.src.next()? {
                Ev::Start(_) => nested += 1,
                Ev::End if nested == 0 => return Ok(()),
                Ev::End => nested -= 1,
                Ev::Text(_) | Ev::Opaque(_) => {}
                Ev::Eof => {
                    return Err(self.err(ErrorKind::UnexpectedEof {
                        open: element.name(),
                    }))
                }
            }
        }
    }

    fn mgmt_tree(&mut self) -> Result<MgmtTree, TndsError> {
        const P: Tag = Tag::MgmtTree;
        let (mut ver_dtd, mut man, mut mod_) = (None, None, None);
        let mut nodes = Vec::new();
        while let Some((tag, at)) = self.child(P)? {
            match tag {
                Tag::VerDTD => {
                    let v = self.text(tag)?;
                    self.once(&mut ver_dtd, v, (tag, at), P)?;
                }
                Tag::Man => {
                    let v = self.text(tag)?;
                    self.once(&mut man, v, (tag, at), P)?;
                }
                Tag::Mod => {
                    let v = self.text(tag)?;
                    self.once(&mut mod_, v, (tag, at), P)?;
                }
                Tag::Node => nodes.push(self.node(1)?),
                other => return Err(self.unexpected(other, P, at)),
            }
        }
        let missing = |element| {
            self.err(ErrorKind::Missing {
                element,
                parent: "MgmtTree",
            })
        };
        let ver_dtd = ver_dtd.ok_or_else(|| missing("VerDTD"))?;
        if nodes.is_empty() {
            return Err(missing("Node"));
        }
        Ok(MgmtTree {
            ver_dtd,
            man,
            mod_,
            nodes,
        })
    }

    /// A `Node` (already started) at nesting `depth`.
    fn node(&mut self, depth: usize) -> Result<TndsNode, TndsError> {
        const P: Tag = Tag::Node;
        if depth > self.limits.max_depth {
            return Err(self.limit("max_depth", self.limits.max_depth));
        }
        self.nodes += 1;
        if self.nodes > self.limits.max_nodes {
            return Err(self.limit("max_nodes", self.limits.max_nodes));
        }
        let node_at = self.src.offset();
        let (mut node_name, mut path, mut rt, mut raw) = (None, None, None, None);
        let mut children = Vec::new();
        while let Some((tag, at)) = self.child(P)? {
            match tag {
                Tag::NodeName => {
                    let v = self.text(tag)?;
                    self.once(&mut node_name, v, (tag, at), P)?;
                }
                Tag::Path => {
                    let v = self.text(tag)?;
                    self.once(&mut path, v, (tag, at), P)?;
                }
                Tag::RTProperties => {
                    let v = self.rt_properties()?;
                    self.once(&mut rt, v, (tag, at), P)?;
                }
                Tag::DFProperties => self.skip(tag)?,
                Tag::Value => {
                    let v = self.raw_value()?;
                    self.once(&mut raw, v, (tag, at), P)?;
                }
                Tag::Node => children.push(self.node(depth + 1)?),
                other => return Err(self.unexpected(other, P, at)),
            }
        }
        if raw.is_some() && !children.is_empty() {
            return Err(self.err_at(node_at, ErrorKind::ValueAndChildren));
        }
        let rt = rt.unwrap_or_default();
        let value = match raw {
            Some(raw) => Some(self.value(raw, rt.format == Some(NodeFormat::Bin))?),
            None => None,
        };
        Ok(TndsNode {
            node_name,
            path,
            rt,
            value,
            children,
        })
    }

    fn limit(&self, limit: &'static str, max: usize) -> TndsError {
        self.err(ErrorKind::LimitExceeded { limit, max })
    }

    fn rt_properties(&mut self) -> Result<RtProperties, TndsError> {
        const P: Tag = Tag::RTProperties;
        let mut rt = RtProperties::default();
        while let Some((tag, at)) = self.child(P)? {
            let slot = match tag {
                Tag::Format => {
                    let f = self.format()?;
                    self.once(&mut rt.format, f, (tag, at), P)?;
                    continue;
                }
                Tag::Type => {
                    let t = self.node_type()?;
                    self.once(&mut rt.type_, t, (tag, at), P)?;
                    continue;
                }
                Tag::Acl => &mut rt.acl,
                Tag::Name => &mut rt.name,
                Tag::Size => &mut rt.size,
                Tag::Title => &mut rt.title,
                Tag::TStamp => &mut rt.tstamp,
                Tag::VerNo => &mut rt.verno,
                other => return Err(self.unexpected(other, P, at)),
            };
            let v = self.text(tag)?;
            if slot.is_some() {
                return Err(self.err_at(
                    at,
                    ErrorKind::Duplicate {
                        element: tag.name(),
                        parent: P.name(),
                    },
                ));
            }
            *slot = Some(v);
        }
        Ok(rt)
    }

    /// `Format`: exactly one EMPTY format element.
    fn format(&mut self) -> Result<NodeFormat, TndsError> {
        const P: Tag = Tag::Format;
        let mut format = None;
        loop {
            let (f, at) = match self.src.next()? {
                Ev::Start(Name::Tag(Tag::Fmt(f))) => (f, self.src.offset()),
                Ev::Start(other) => {
                    let name = other.into_string();
                    return Err(self.err(ErrorKind::UnknownFormat { name }));
                }
                Ev::End => break,
                Ev::Text(t) if is_blank(&t) => continue,
                Ev::Text(_) | Ev::Opaque(_) => {
                    return Err(self.err(ErrorKind::TextNotAllowed { parent: P.name() }))
                }
                Ev::Eof => return Err(self.err(ErrorKind::UnexpectedEof { open: P.name() })),
            };
            self.empty(Tag::Fmt(f))?;
            if format.is_some() {
                return Err(self.err_at(
                    at,
                    ErrorKind::Duplicate {
                        element: "a format element",
                        parent: P.name(),
                    },
                ));
            }
            format = Some(f);
        }
        format.ok_or_else(|| {
            self.err(ErrorKind::Missing {
                element: "a format element",
                parent: P.name(),
            })
        })
    }

    /// `Type := MIME | DDFName`; an empty `<Type/>` is an empty DDFName.
    fn node_type(&mut self) -> Result<NodeType, TndsError> {
        const P: Tag = Tag::Type;
        let mut t = None;
        while let Some((tag, at)) = self.child(P)? {
            let v = match tag {
                Tag::Mime => NodeType::Mime(self.text(tag)?),
                Tag::DdfName => NodeType::DdfName(self.text(tag)?),
                other => return Err(self.unexpected(other, P, at)),
            };
            if t.is_some() {
                return Err(self.err_at(
                    at,
                    ErrorKind::Duplicate {
                        element: tag.name(),
                        parent: P.name(),
                    },
                ));
            }
            t = Some(v);
        }
        Ok(t.unwrap_or_else(|| NodeType::DdfName(String::new())))
    }

    /// The content of `Value` (already started) as text and opaque runs.
    fn raw_value(&mut self) -> Result<RawValue, TndsError> {
        let at = self.src.offset();
        let mut pieces: Vec<Piece> = Vec::new();
        loop {
            match self.src.next()? {
                Ev::Text(t) => match pieces.last_mut() {
                    Some(Piece::Text(s)) => s.push_str(&t),
                    _ => pieces.push(Piece::Text(t.into_owned())),
                },
                Ev::Opaque(b) => match pieces.last_mut() {
                    Some(Piece::Opaque(v)) => v.extend_from_slice(b),
                    _ => pieces.push(Piece::Opaque(b.to_vec())),
                },
                Ev::End => return Ok(RawValue { at, pieces }),
                Ev::Start(found) => {
                    return Err(self.err(ErrorKind::ElementInText {
                        found: found.into_string(),
                        parent: "Value",
                    }))
                }
                Ev::Eof => return Err(self.err(ErrorKind::UnexpectedEof { open: "Value" })),
            }
        }
    }

    /// The value bytes: for `bin`, text runs are base64 and opaque runs raw; otherwise every run
    /// is taken as it is.
    fn value(&self, mut raw: RawValue, bin: bool) -> Result<Vec<u8>, TndsError> {
        let at = raw.at;
        let too_long = |len: usize| len > self.limits.max_value_len;
        let limit = || {
            self.err_at(
                at,
                ErrorKind::LimitExceeded {
                    limit: "max_value_len",
                    max: self.limits.max_value_len,
                },
            )
        };
        // The common case, one run taken as it is, moves instead of copying.
        if let [Piece::Text(_)] | [Piece::Opaque(_)] = raw.pieces.as_slice() {
            let only = match raw.pieces.pop() {
                Some(Piece::Text(t)) if !bin => Some(t.into_bytes()),
                Some(Piece::Opaque(b)) => Some(b),
                other => {
                    raw.pieces.extend(other);
                    None
                }
            };
            if let Some(v) = only {
                return if too_long(v.len()) {
                    Err(limit())
                } else {
                    Ok(v)
                };
            }
        }
        let mut out = Vec::new();
        for piece in raw.pieces {
            match piece {
                Piece::Text(t) if bin => match base64_decode(t.as_bytes()) {
                    Some(bytes) => out.extend_from_slice(&bytes),
                    None => return Err(self.err_at(at, ErrorKind::InvalidBase64)),
                },
                Piece::Text(t) => out.extend_from_slice(t.as_bytes()),
                Piece::Opaque(b) => out.extend_from_slice(&b),
            }
            if too_long(out.len()) {
                return Err(limit());
            }
        }
        Ok(out)
    }
}
