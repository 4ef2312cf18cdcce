//! Saving and loading the whole tree, every property included, in one file replaced atomically.
//!
//! A save writes the new tree to a temporary file beside the target, flushes it to disk, renames
//! it over the target and flushes the directory: a crash at any point leaves the previous tree
//! or the new one, never a torn one. The loader trusts nothing it reads: every length is checked
//! against the input, the checksum against the content, every name, format and ACL against its
//! grammar, and it answers a [`PersistError`] naming what is wrong and at which byte.
//!
//! # File format, version 1
//!
//! Integers marked LEB128 are unsigned LEB128; the others are big-endian. A string is a LEB128
//! byte length followed by that many bytes of UTF-8.
//!
//! ```text
//! magic       8 bytes  "OMADMTR1"
//! version     u16      1
//! limits      3 × u16  DevDetail/URI MaxDepth, MaxTotLen, MaxSegLen (0 = unlimited)
//! node count  LEB128   every node, the root included (at least 1)
//! nodes       node count × node, in pre-order from the root, children in the tree's order
//! checksum    u32      CRC-32 (IEEE 802.3 polynomial, as zlib and crc32fast) of every byte before it
//!
//! node:
//!   name      string   empty for the root (first node); any other: not empty, no '/', not . or ..
//!   format    u8       0 b64, 1 bin, 2 bool, 3 chr, 4 int, 5 node, 6 null, 7 xml, 8 date,
//!                      9 time, 10 float
//!   flags     u8       bit 0: Scope permanent; bit 1: a Title follows; other bits 0
//!   type      string   Type (MIME type or MO identifier), empty when unset
//!   acl       string   ACL in the TND §5.4 grammar, empty when the node inherits
//!   title     string   only when flags bit 1 is set
//!   tstamp    u64      TStamp, seconds since the Unix epoch, 0 when never set
//!   verno     u16      VerNo
//!   format 5 (node):   child count (LEB128), the children follow in pre-order
//!   any other format:  value, a LEB128 length and that many bytes
//! ```
//!
//! The encoding is canonical: it walks the tree from the root by child order, never by arena
//! slot, so two trees that answer every Get, `?prop` and `?list` alike encode to the same bytes.
//! The clock set by [`Tree::set_now`] is not part of the tree and is not saved; an open
//! transaction is not saved either (the current state is).

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use compact_str::CompactString;

use crate::acl::Acl;
use crate::format::NodeFormat;
use crate::node::{Content, NodeId, Scope};
use crate::tree::Tree;
use crate::uri::UriLimits;

/// The first eight bytes of every tree file.
pub const MAGIC: &[u8; 8] = b"OMADMTR1";
/// The version this build writes and reads.
pub const VERSION: u16 = 1;
/// Deepest tree the loader accepts: the largest DevDetail/URI/MaxDepth (a 16-bit value).
pub const MAX_DEPTH: usize = u16::MAX as usize;
/// Most nodes the loader accepts: every [`NodeId`] is a 32-bit arena index. A file also cannot
/// claim more nodes than its size allows (each node takes at least [`MIN_NODE_LEN`] bytes).
pub const MAX_NODES: u64 = u32::MAX as u64;
/// Fewest bytes one node takes: name, format, flags, type, acl (1 each), tstamp (8), verno (2),
/// value length or child count (1).
const MIN_NODE_LEN: usize = 16;

/// Format codes, fixed by the file format (never derived from [`NodeFormat::ALL`]'s order).
const FORMAT_CODES: [NodeFormat; 11] = [
    NodeFormat::B64,
    NodeFormat::Bin,
    NodeFormat::Bool,
    NodeFormat::Chr,
    NodeFormat::Int,
    NodeFormat::Node,
    NodeFormat::Null,
    NodeFormat::Xml,
    NodeFormat::Date,
    NodeFormat::Time,
    NodeFormat::Float,
];

const FLAG_PERMANENT: u8 = 1;
const FLAG_TITLE: u8 = 2;

/// Saving or loading a tree failed.
#[derive(Debug, thiserror::Error)]
pub enum PersistError {
    /// Reading, writing, syncing or renaming a file failed.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file (or directory) the operation was on.
        path: PathBuf,
        /// The error from the operating system.
        source: io::Error,
    },
    /// The file passed its checksum (or was too short to have one) but its content is invalid.
    #[error("corrupt tree file at byte {offset}: {what}")]
    Corrupt {
        /// Offset of the offending field from the start of the file.
        offset: usize,
        /// What is wrong.
        what: &'static str,
    },
    /// The file does not start with `OMADMTR1`: it is not a tree file.
    #[error("not an omadm tree file (the first bytes are not OMADMTR1)")]
    BadMagic,
    /// The file is a tree file of a version this build cannot read.
    #[error(
        "tree file version {found} is not supported (this build reads version {})",
        VERSION
    )]
    UnsupportedVersion {
        /// The version in the file.
        found: u16,
    },
    /// The CRC-32 stored at the end does not match the content: the file was damaged.
    #[error("tree file checksum mismatch: stored {stored:08x}, computed {computed:08x}")]
    Checksum {
        /// The checksum in the file.
        stored: u32,
        /// The checksum of the content.
        computed: u32,
    },
}

impl Tree {
    /// Saves the tree to `path` atomically: a crash at any point leaves `path` holding the
    /// previous tree or this one. Writes `<path>.tmp.<pid>.<n>`, syncs it to disk, renames it
    /// over `path`, then syncs the directory so that the rename itself is durable. Where a
    /// directory cannot be opened or synced (Windows, some network file systems) that last step
    /// is skipped: the rename is still atomic, only its durability across power loss is then the
    /// file system's.
    pub fn save(&self, path: &Path) -> Result<(), PersistError> {
        let bytes = self.to_bytes();
        let tmp = temp_path(path);
        if let Err(e) = write_synced(&tmp, &bytes) {
            // Best effort: a left-over temporary file is harmless (load ignores it).
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        if let Err(source) = fs::rename(&tmp, path) {
            let _ = fs::remove_file(&tmp);
            return Err(PersistError::Io {
                path: path.to_path_buf(),
                source,
            });
        }
        sync_parent_dir(path);
        Ok(())
    }

    /// Loads a tree saved by [`Tree::save`]. Left-over temporary files of interrupted saves are
    /// ignored.
    pub fn load(path: &Path) -> Result<Tree, PersistError> {
        let bytes = fs::read(path).map_err(|source| PersistError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Tree::from_bytes(&bytes)
    }

    /// The tree in the file format above: canonical, so equal trees give equal bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        // Nodes are counted as they are walked, so the count always matches what is written.
        let mut nodes = Vec::with_capacity(32 * self.len());
        let mut count: u64 = 0;
        let mut stack = vec![NodeId::ROOT];
        while let Some(id) = stack.pop() {
            self.encode_node(id, &mut nodes);
            count += 1;
            stack.extend(self.children(id).iter().rev());
        }
        let mut out = Vec::with_capacity(nodes.len() + 32);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_be_bytes());
        let l = self.limits();
        for v in [l.max_depth, l.max_tot_len, l.max_seg_len] {
            out.extend_from_slice(&v.to_be_bytes());
        }
        put_uleb(&mut out, count);
        out.extend_from_slice(&nodes);
        let crc = crc32fast::hash(&out);
        out.extend_from_slice(&crc.to_be_bytes());
        out
    }

    fn encode_node(&self, id: NodeId, out: &mut Vec<u8>) {
        let n = self.node(id);
        put_bytes(out, n.name.as_bytes());
        out.push(format_code(n.format));
        let title = n.rare.as_ref().and_then(|r| r.title.as_deref());
        let mut flags = 0;
        if n.scope == Scope::Permanent {
            flags |= FLAG_PERMANENT;
        }
        if title.is_some() {
            flags |= FLAG_TITLE;
        }
        out.push(flags);
        put_bytes(out, n.type_.as_bytes());
        let acl = n.acl().map(Acl::to_string).unwrap_or_default();
        put_bytes(out, acl.as_bytes());
        if let Some(t) = title {
            put_bytes(out, t.as_bytes());
        }
        out.extend_from_slice(&n.tstamp.to_be_bytes());
        out.extend_from_slice(&n.verno.to_be_bytes());
        // The kind follows the Format (Node::new); Replace never turns a leaf into `node`.
        if n.format == NodeFormat::Node {
            put_uleb(out, n.children().len() as u64);
        } else {
            let value: &[u8] = match &n.content {
                Content::Leaf(v) => v,
                Content::Interior(_) => &[],
            };
            put_bytes(out, value);
        }
    }

    /// Reads a tree from the file format above, validating everything; never panics.
    pub fn from_bytes(b: &[u8]) -> Result<Tree, PersistError> {
        if b.get(..MAGIC.len()) != Some(MAGIC.as_slice()) {
            // An empty or cut-short tree file is damage, not a file of another kind.
            if b.len() < MAGIC.len() && MAGIC.starts_with(b) {
                return Err(corrupt(b.len(), "truncated file: shorter than the magic"));
            }
            return Err(PersistError::BadMagic);
        }
        let mut r = Reader {
            buf: b,
            pos: MAGIC.len(),
        };
        let version = r.u16("truncated header: version")?;
        if version != VERSION {
            return Err(PersistError::UnsupportedVersion { found: version });
        }
        let body_end =
            b.len()
                .checked_sub(4)
                .filter(|&e| e >= r.pos)
                .ok_or(PersistError::Corrupt {
                    offset: b.len(),
                    what: "truncated file: no room for the checksum",
                })?;
        let (content, tail) = b.split_at(body_end);
        let stored = u32::from_be_bytes(tail.try_into().map_err(|_| PersistError::Corrupt {
            offset: body_end,
            what: "truncated file: no room for the checksum",
        })?);
        let computed = crc32fast::hash(content);
        if stored != computed {
            return Err(PersistError::Checksum { stored, computed });
        }
        // From here on only the content is read; the checksum is not part of it.
        r.buf = content;
        let limits = UriLimits {
            max_depth: r.u16("truncated header: MaxDepth")?,
            max_tot_len: r.u16("truncated header: MaxTotLen")?,
            max_seg_len: r.u16("truncated header: MaxSegLen")?,
        };
        let count_at = r.pos;
        let count = r.uleb("node count")?;
        if count == 0 {
            return Err(corrupt(count_at, "node count is 0: the root is missing"));
        }
        if count > MAX_NODES {
            return Err(corrupt(
                count_at,
                "node count exceeds the 2^32-1 node limit",
            ));
        }
        if count > (r.remaining() / MIN_NODE_LEN) as u64 {
            return Err(corrupt(
                count_at,
                "node count exceeds what the file can hold",
            ));
        }
        let mut tree = Tree::new(limits);
        let root_at = r.pos;
        let root = r.node()?;
        if !root.name.is_empty() {
            return Err(corrupt(root_at, "the root node has a name"));
        }
        let Some(mut pending) = root.children else {
            return Err(corrupt(
                root_at,
                "the root node is not interior (Format node)",
            ));
        };
        root.apply(&mut tree, NodeId::ROOT);
        let mut read: u64 = 1;
        // (parent, children of it still to read); one entry per level below the root.
        let mut stack: Vec<(NodeId, u64)> = Vec::new();
        let mut parent = NodeId::ROOT;
        loop {
            if pending == 0 {
                match stack.pop() {
                    Some((p, left)) => {
                        parent = p;
                        pending = left;
                        continue;
                    }
                    None => break,
                }
            }
            pending -= 1;
            let at = r.pos;
            if read == count {
                return Err(corrupt(at, "more nodes than the node count"));
            }
            let node = r.node()?;
            read += 1;
            if !is_valid_name(&node.name) {
                return Err(corrupt(
                    at,
                    "invalid node name (empty, '.', '..' or has '/')",
                ));
            }
            if tree.child(parent, &node.name).is_some() {
                return Err(corrupt(at, "two siblings have the same name"));
            }
            let id = tree.insert(parent, &node.name, node.format);
            let kids = node.children;
            node.apply(&mut tree, id);
            if let Some(k) = kids.filter(|&k| k > 0) {
                if stack.len() + 1 >= MAX_DEPTH {
                    return Err(corrupt(at, "tree deeper than 65535 levels"));
                }
                stack.push((parent, pending));
                parent = id;
                pending = k;
            }
        }
        if read != count {
            return Err(corrupt(r.pos, "fewer nodes than the node count"));
        }
        if r.remaining() != 0 {
            return Err(corrupt(r.pos, "bytes after the last node"));
        }
        Ok(tree)
    }
}

/// One node as read, before it is put in the tree.
struct RawNode {
    name: CompactString,
    format: NodeFormat,
    scope: Scope,
    type_: CompactString,
    acl: Acl,
    title: Option<CompactString>,
    tstamp: u64,
    verno: u16,
    value: Vec<u8>,
    /// The child count of an interior node; `None` for a leaf.
    children: Option<u64>,
}

impl RawNode {
    /// Sets every property of `id` (already in the tree with this name and format).
    fn apply(self, tree: &mut Tree, id: NodeId) {
        let n = tree.node_mut(id);
        n.format = self.format;
        n.scope = self.scope;
        n.type_ = self.type_;
        n.rare = None;
        if !self.acl.is_empty() {
            n.rare_mut().acl = self.acl;
        }
        if let Some(t) = self.title {
            n.rare_mut().title = Some(t);
        }
        n.tstamp = self.tstamp;
        n.verno = self.verno;
        if let Content::Leaf(v) = &mut n.content {
            *v = self.value;
        }
    }
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

fn corrupt(offset: usize, what: &'static str) -> PersistError {
    PersistError::Corrupt { offset, what }
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], PersistError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or(corrupt(self.pos, what))?;
        let s = self.buf.get(self.pos..end).ok_or(corrupt(self.pos, what))?;
        self.pos = end;
        Ok(s)
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], PersistError> {
        let at = self.pos;
        self.take(N, what)?
            .try_into()
            .map_err(|_| corrupt(at, what))
    }

    fn u8(&mut self, what: &'static str) -> Result<u8, PersistError> {
        Ok(u8::from_be_bytes(self.array(what)?))
    }

    fn u16(&mut self, what: &'static str) -> Result<u16, PersistError> {
        Ok(u16::from_be_bytes(self.array(what)?))
    }

    fn u64(&mut self, what: &'static str) -> Result<u64, PersistError> {
        Ok(u64::from_be_bytes(self.array(what)?))
    }

    /// Unsigned LEB128, at most 64 bits.
    fn uleb(&mut self, what: &'static str) -> Result<u64, PersistError> {
        let at = self.pos;
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let byte = self.u8(what)?;
            let bits = u64::from(byte & 0x7f);
            if shift == 63 && bits > 1 {
                return Err(corrupt(at, what));
            }
            v |= bits << shift;
            if byte & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(corrupt(at, what))
    }

    fn bytes(&mut self, what: &'static str) -> Result<&'a [u8], PersistError> {
        // Errors point at the length: that is the field that promised more than there is.
        let at = self.pos;
        let len = self.uleb(what)?;
        let len = usize::try_from(len).map_err(|_| corrupt(at, what))?;
        self.take(len, what).map_err(|_| corrupt(at, what))
    }

    fn string(&mut self, what: &'static str) -> Result<&'a str, PersistError> {
        let at = self.pos;
        std::str::from_utf8(self.bytes(what)?).map_err(|_| corrupt(at, what))
    }

    fn node(&mut self) -> Result<RawNode, PersistError> {
        let name = self.string("node name: truncated or not UTF-8")?.into();
        let at = self.pos;
        let code = self.u8("node format: truncated")?;
        let format = FORMAT_CODES
            .get(usize::from(code))
            .copied()
            .ok_or(corrupt(at, "node format: unknown code"))?;
        let at = self.pos;
        let flags = self.u8("node flags: truncated")?;
        if flags & !(FLAG_PERMANENT | FLAG_TITLE) != 0 {
            return Err(corrupt(at, "node flags: unknown bits set"));
        }
        let type_ = self.string("node Type: truncated or not UTF-8")?.into();
        let at = self.pos;
        let acl = self
            .string("node ACL: truncated or not UTF-8")?
            .parse()
            .map_err(|_| corrupt(at, "node ACL: not in the TND ACL grammar"))?;
        let title = if flags & FLAG_TITLE != 0 {
            Some(self.string("node Title: truncated or not UTF-8")?.into())
        } else {
            None
        };
        let tstamp = self.u64("node TStamp: truncated")?;
        let verno = self.u16("node VerNo: truncated")?;
        let (value, children) = if format == NodeFormat::Node {
            (Vec::new(), Some(self.uleb("child count: truncated")?))
        } else {
            (self.bytes("leaf value: truncated")?.to_vec(), None)
        };
        Ok(RawNode {
            name,
            format,
            scope: if flags & FLAG_PERMANENT != 0 {
                Scope::Permanent
            } else {
                Scope::Dynamic
            },
            type_,
            acl,
            title,
            tstamp,
            verno,
            value,
            children,
        })
    }
}

/// The names a node can hold: what Add accepts, and the wider set a rename accepts (TND §5.3).
fn is_valid_name(name: &str) -> bool {
    !name.is_empty() && !name.contains('/') && name != "." && name != ".."
}

fn format_code(f: NodeFormat) -> u8 {
    // Every format has a code; 3 (chr) is unreachable.
    FORMAT_CODES
        .iter()
        .position(|&c| c == f)
        .and_then(|i| u8::try_from(i).ok())
        .unwrap_or(3)
}

fn put_uleb(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_uleb(out, b.len() as u64);
    out.extend_from_slice(b);
}

/// `<path>.tmp.<pid>.<n>`: unique per process and per save, so that concurrent savers never
/// write into each other's temporary file.
fn temp_path(path: &Path) -> PathBuf {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let n = SEQ.fetch_add(1, Ordering::Relaxed);
    let mut s = path.as_os_str().to_owned();
    s.push(format!(".tmp.{}.{n}", std::process::id()));
    PathBuf::from(s)
}

fn write_synced(tmp: &Path, bytes: &[u8]) -> Result<(), PersistError> {
    let io = |source| PersistError::Io {
        path: tmp.to_path_buf(),
        source,
    };
    let mut f = File::create(tmp).map_err(io)?;
    f.write_all(bytes).map_err(io)?;
    f.sync_all().map_err(io)
}

/// Makes a completed rename durable. Errors are ignored: some platforms cannot open or sync a
/// directory (see [`Tree::save`]).
fn sync_parent_dir(path: &Path) {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_codes_cover_every_format_once() {
        for f in NodeFormat::ALL {
            assert_eq!(FORMAT_CODES.iter().filter(|&&c| c == f).count(), 1);
            assert_eq!(FORMAT_CODES.get(usize::from(format_code(f))), Some(&f));
        }
    }

    #[test]
    fn uleb_round_trips_and_refuses_overflow() {
        for v in [0, 1, 127, 128, 300, u64::from(u32::MAX), u64::MAX] {
            let mut out = Vec::new();
            put_uleb(&mut out, v);
            let mut r = Reader { buf: &out, pos: 0 };
            assert_eq!(r.uleb("x").ok(), Some(v));
            assert_eq!(r.remaining(), 0);
        }
        let over = [0xff; 9].into_iter().chain([0x02]).collect::<Vec<u8>>();
        let mut r = Reader { buf: &over, pos: 0 };
        assert!(r.uleb("x").is_err());
        let long = [0x80; 11];
        let mut r = Reader { buf: &long, pos: 0 };
        assert!(r.uleb("x").is_err());
    }

    #[test]
    fn a_new_tree_encodes_as_documented() {
        let b = Tree::default().to_bytes();
        let mut want = Vec::new();
        want.extend_from_slice(b"OMADMTR1\x00\x01\x00\x00\x00\x00\x00\x00\x01");
        // Root: empty name, node, permanent, no Type, ACL "Add=*&Get=*", no Title.
        want.extend_from_slice(b"\x00\x05\x01\x00\x0bAdd=*&Get=*");
        want.extend_from_slice(&[0; 8]);
        want.extend_from_slice(&[0, 0, 0]);
        let crc = crc32fast::hash(&want);
        want.extend_from_slice(&crc.to_be_bytes());
        assert_eq!(b, want);
    }
}
