//! Saving and loading the tree: exact round trips, atomic replacement, and a loader that
//! refuses every damaged or malformed file with a precise error instead of panicking.

mod persist_common;

use omadm_tree::format::NodeFormat;
use omadm_tree::uri::{Property, UriLimits};
use omadm_tree::{Caller, PersistError, Tree};
use persist_common::{observe, TempDir};
use proptest::prelude::*;

fn ok<T, E: std::fmt::Display>(r: Result<T, E>) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("unexpected error: {e}"),
    }
}

/// A tree using every property: all formats, ACLs, titles, permanent nodes, several TStamps and
/// VerNos, URI limits, and a rename (so that creation order and name order differ).
fn rich_tree() -> Tree {
    let mut t = Tree::default();
    t.set_limits(UriLimits {
        max_depth: 12,
        max_tot_len: 200,
        max_seg_len: 40,
    });
    t.set_now(994_869_497);
    let d = Caller::Device;
    ok(t.replace_prop(d, ".", Property::Acl, "Add=*&Get=*&Replace=srv1"));
    ok(t.add(
        d,
        "./DevInfo/DevId",
        NodeFormat::Chr,
        Some("text/plain"),
        b"IMEI:1",
    ));
    ok(t.add(
        d,
        "./DevInfo/Lang",
        NodeFormat::Chr,
        None,
        "fr-ÇA".as_bytes(),
    ));
    ok(t.add(d, "./A/Int", NodeFormat::Int, None, b"-42"));
    ok(t.add(d, "./A/Bool", NodeFormat::Bool, None, b"true"));
    ok(t.add(
        d,
        "./A/Bin",
        NodeFormat::Bin,
        Some("application/octet-stream"),
        &[0, 255, 10, 13],
    ));
    ok(t.add(d, "./A/B64", NodeFormat::B64, None, b"AAEC"));
    ok(t.add(d, "./A/Null", NodeFormat::Null, None, b""));
    ok(t.add(d, "./A/Xml", NodeFormat::Xml, None, b"<a/>"));
    ok(t.add(d, "./A/Date", NodeFormat::Date, None, b"2001-07-11"));
    ok(t.add(d, "./A/Time", NodeFormat::Time, None, b"16:38:17Z"));
    ok(t.add(d, "./A/Float", NodeFormat::Float, None, b"-2E3"));
    ok(t.add(
        d,
        "./A/Empty",
        NodeFormat::Node,
        Some("urn:oma:mo:x:1.0"),
        b"",
    ));
    ok(t.add(
        d,
        "./Deep/1/2/3/4/5/6/7/8/9/10",
        NodeFormat::Chr,
        None,
        b"deep",
    ));
    t.set_now(1_700_000_000);
    ok(t.replace_prop(d, "./A/Int", Property::Acl, "Get=srv1+srv2&Replace=srv1"));
    ok(t.replace_prop(d, "./A", Property::Title, "The A node"));
    ok(t.replace_prop(d, "./A/Bin", Property::Title, "bytes"));
    ok(t.replace(d, "./A/Int", None, None, b"7"));
    ok(t.replace(d, "./A/Int", None, None, b"8"));
    ok(t.replace_prop(d, "./A/Bool", Property::Name, "Aardvark"));
    let (_, info) = ok(t.resolve("./DevInfo"));
    t.set_permanent(info, true);
    let (_, id) = ok(t.resolve("./DevInfo/DevId"));
    t.set_permanent(id, true);
    ok(t.delete(d, "./A/Null"));
    t
}

#[test]
fn round_trip_keeps_every_node_and_property() {
    let t = rich_tree();
    let bytes = t.to_bytes();
    let back = ok(Tree::from_bytes(&bytes));
    assert_eq!(observe(&back), observe(&t));
    assert_eq!(back.to_bytes(), bytes, "the encoding is canonical");
    // The loaded tree is a working tree: its index finds nodes, operations go on from there.
    let mut back = back;
    ok(back.add(Caller::Device, "./A/New", NodeFormat::Chr, None, b"n"));
    assert_eq!(ok(back.get(Caller::Device, "./A/Aardvark")).data, b"true");
    assert_eq!(
        ok(back.get_prop(Caller::Device, "./A/Int", Property::VerNo)),
        "4"
    );
    assert_eq!(
        ok(back.get_prop(Caller::Device, "./A/Int", Property::Acl)),
        "Get=srv1+srv2&Replace=srv1"
    );
}

#[test]
fn the_default_tree_round_trips() {
    let t = Tree::default();
    let back = ok(Tree::from_bytes(&t.to_bytes()));
    assert_eq!(observe(&back), observe(&t));
}

#[test]
fn save_replaces_the_file_and_leaves_no_temporary_file() {
    let dir = TempDir::new("persist-save");
    let path = dir.0.join("tree.bin");
    let mut t = rich_tree();
    ok(t.save(&path));
    assert_eq!(observe(&ok(Tree::load(&path))), observe(&t));
    ok(t.add(Caller::Device, "./Later", NodeFormat::Int, None, b"1"));
    ok(t.save(&path));
    assert_eq!(ok(std::fs::read(&path)), t.to_bytes());
    let names: Vec<_> = ok(std::fs::read_dir(&dir.0))
        .filter_map(|e| e.ok().map(|e| e.file_name()))
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("tree.bin")]);
}

#[test]
fn load_ignores_a_left_over_temporary_file() {
    let dir = TempDir::new("persist-tmp");
    let path = dir.0.join("tree.bin");
    let t = rich_tree();
    ok(t.save(&path));
    // What a save killed before its rename leaves: a torn temporary file beside the tree.
    let torn = &t.to_bytes()[..100];
    ok(std::fs::write(dir.0.join("tree.bin.tmp.1.0"), torn));
    ok(std::fs::write(dir.0.join("tree.bin.tmp"), torn));
    assert_eq!(ok(Tree::load(&path)).to_bytes(), t.to_bytes());
    // And a later save is not disturbed by it.
    ok(Tree::default().save(&path));
    assert_eq!(ok(Tree::load(&path)).to_bytes(), Tree::default().to_bytes());
}

#[test]
fn io_errors_name_the_file() {
    let dir = TempDir::new("persist-io");
    let missing = dir.0.join("nope.bin");
    match Tree::load(&missing) {
        Err(PersistError::Io { path, source }) => {
            assert_eq!(path, missing);
            assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
        }
        other => panic!("expected Io, got {other:?}"),
    }
    let in_missing_dir = dir.0.join("no-such-dir").join("tree.bin");
    match Tree::default().save(&in_missing_dir) {
        Err(e @ PersistError::Io { .. }) => assert!(e.to_string().contains("no-such-dir")),
        other => panic!("expected Io, got {other:?}"),
    }
}

#[test]
fn bad_magic_and_version_are_named() {
    let mut b = Tree::default().to_bytes();
    assert_eq!(corrupt(b""), (0, "truncated file: shorter than the magic"));
    assert_eq!(
        corrupt(b"OMADM"),
        (5, "truncated file: shorter than the magic")
    );
    assert!(matches!(
        Tree::from_bytes(b"OMADMTR2"),
        Err(PersistError::BadMagic)
    ));
    assert!(matches!(
        Tree::from_bytes(b"<?xml version"),
        Err(PersistError::BadMagic)
    ));
    b[9] = 2;
    assert!(matches!(
        Tree::from_bytes(&b),
        Err(PersistError::UnsupportedVersion { found: 2 })
    ));
}

#[test]
fn every_flipped_bit_and_every_truncation_is_refused() {
    let b = rich_tree().to_bytes();
    for i in 0..b.len() {
        for bit in 0..8 {
            let mut c = b.clone();
            c[i] ^= 1 << bit;
            assert!(
                Tree::from_bytes(&c).is_err(),
                "bit {bit} of byte {i} flipped"
            );
        }
        assert!(Tree::from_bytes(&b[..i]).is_err(), "cut at {i}");
    }
    let mut c = b.clone();
    let last = c.len() - 1;
    c[last] ^= 1;
    assert!(matches!(
        Tree::from_bytes(&c),
        Err(PersistError::Checksum { .. })
    ));
}

/// Builds a file around a hand-written body: magic, version, no limits, `count`, the nodes,
/// and a correct checksum, so the loader's structural checks are what is tested.
fn sealed(count: u8, nodes: &[u8]) -> Vec<u8> {
    let mut v = b"OMADMTR1\x00\x01\x00\x00\x00\x00\x00\x00".to_vec();
    v.push(count);
    v.extend_from_slice(nodes);
    let crc = crc32fast::hash(&v);
    v.extend_from_slice(&crc.to_be_bytes());
    v
}

/// A node: name, format code, flags, no Type, ACL, (title), zero TStamp/VerNo, then `tail`
/// (child count, or value length and value).
fn node(name: &[u8], format: u8, flags: u8, acl: &[u8], title: &[u8], tail: &[u8]) -> Vec<u8> {
    let mut v = vec![name.len() as u8];
    v.extend_from_slice(name);
    v.extend_from_slice(&[format, flags, 0, acl.len() as u8]);
    v.extend_from_slice(acl);
    if flags & 2 != 0 {
        v.push(title.len() as u8);
        v.extend_from_slice(title);
    }
    v.extend_from_slice(&[0; 10]);
    v.extend_from_slice(tail);
    v
}

fn root(children: u8) -> Vec<u8> {
    node(b"", 5, 1, b"Add=*&Get=*", b"", &[children])
}

fn leaf(name: &[u8]) -> Vec<u8> {
    node(name, 3, 0, b"", b"", &[1, b'x'])
}

fn corrupt(b: &[u8]) -> (usize, &'static str) {
    match Tree::from_bytes(b) {
        Err(PersistError::Corrupt { offset, what }) => (offset, what),
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[test]
fn hand_written_files_load() {
    let body = [root(2), leaf(b"A"), leaf(b"B")].concat();
    let t = ok(Tree::from_bytes(&sealed(3, &body)));
    assert_eq!(ok(t.get(Caller::Device, "./B")).data, b"x");
    assert_eq!(ok(t.get(Caller::Device, ".")).data, b"A/B");
}

#[test]
fn structural_errors_are_named_with_their_offset() {
    let r = root(1);
    let at = 17 + r.len(); // offset of the first child
    let cases: Vec<(Vec<u8>, usize, &str)> = vec![
        (sealed(0, &r), 16, "node count is 0"),
        (
            sealed(200, &r),
            16,
            "node count exceeds what the file can hold",
        ),
        (
            sealed(2, &[r.clone(), leaf(b"..")].concat()),
            at,
            "invalid node name",
        ),
        (
            sealed(2, &[r.clone(), leaf(b"a/b")].concat()),
            at,
            "invalid node name",
        ),
        (
            sealed(2, &[r.clone(), leaf(b"")].concat()),
            at,
            "invalid node name",
        ),
        (
            sealed(2, &[r.clone(), leaf(b"\xff")].concat()),
            at,
            "node name",
        ),
        (
            sealed(2, &[r.clone(), node(b"A", 11, 0, b"", b"", &[0])].concat()),
            at + 2,
            "unknown code",
        ),
        (
            sealed(2, &[r.clone(), node(b"A", 3, 4, b"", b"", &[0])].concat()),
            at + 3,
            "unknown bits",
        ),
        (
            sealed(
                2,
                &[r.clone(), node(b"A", 3, 0, b"Get", b"", &[0])].concat(),
            ),
            at + 5,
            "ACL grammar",
        ),
        (
            sealed(
                2,
                &[r.clone(), node(b"A", 3, 2, b"", b"\xc3", &[0])].concat(),
            ),
            at + 6,
            "Title",
        ),
        (
            sealed(
                2,
                &[r.clone(), node(b"A", 3, 0, b"", b"", &[9, b'x'])].concat(),
            ),
            at + 16,
            "leaf value",
        ),
        (
            sealed(1, &node(b"R", 5, 1, b"", b"", &[0])),
            17,
            "the root node has a name",
        ),
        (
            sealed(1, &node(b"", 3, 1, b"", b"", &[0])),
            17,
            "the root node is not interior",
        ),
        (
            sealed(1, &[root(0), vec![0]].concat()),
            17 + root(0).len(),
            "bytes after the last node",
        ),
        (
            sealed(2, &[root(2), leaf(b"A"), leaf(b"B")].concat()),
            17 + root(2).len() + leaf(b"A").len(),
            "more nodes than the node count",
        ),
        (
            sealed(3, &[root(1), leaf(b"A"), vec![0; 17]].concat()),
            17 + root(1).len() + leaf(b"A").len(),
            "fewer nodes than the node count",
        ),
        (
            sealed(3, &[root(2), leaf(b"A"), leaf(b"A")].concat()),
            17 + root(2).len() + leaf(b"A").len(),
            "same name",
        ),
    ];
    for (i, (file, offset, what)) in cases.iter().enumerate() {
        let (o, w) = corrupt(file);
        assert!(w.contains(what), "case {i}: {w:?} does not say {what:?}");
        assert_eq!(o, *offset, "case {i}: {w}");
        let shown = ok(Tree::from_bytes(file)
            .map(|_| ())
            .map_err(|e| e.to_string())
            .err()
            .ok_or("loaded"));
        assert!(shown.contains(&format!("byte {offset}")), "{shown}");
    }
}

/// A chain `./n/n/.../n` of `depth` interior nodes below the root.
fn chain(depth: usize) -> Vec<u8> {
    let mut v = b"OMADMTR1\x00\x01\x00\x00\x00\x00\x00\x00".to_vec();
    let count = depth as u64 + 1;
    let mut c = count;
    loop {
        let byte = (c & 0x7f) as u8;
        c >>= 7;
        if c == 0 {
            v.push(byte);
            break;
        }
        v.push(byte | 0x80);
    }
    v.extend_from_slice(&root(1));
    for i in 0..depth {
        let kids = u8::from(i + 1 < depth);
        v.extend_from_slice(&node(b"n", 5, 0, b"", b"", &[kids]));
    }
    let crc = crc32fast::hash(&v);
    v.extend_from_slice(&crc.to_be_bytes());
    v
}

#[test]
fn depth_is_limited_to_65535_levels() {
    let deepest = ok(Tree::from_bytes(&chain(65_535)));
    assert_eq!(deepest.len(), 65_536);
    assert_eq!(
        deepest.to_bytes(),
        chain(65_535),
        "deep trees encode without recursion"
    );
    let (_, what) = corrupt(&chain(65_536));
    assert!(what.contains("deeper"), "{what}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any body behind a valid header and checksum: an error or a tree, never a panic; and a
    /// tree it accepts encodes back to the same bytes when the body was canonical.
    #[test]
    fn arbitrary_bodies_never_panic(count in 0u8..6, body in proptest::collection::vec(any::<u8>(), 0..200)) {
        let file = sealed(count, &body);
        if let Ok(t) = Tree::from_bytes(&file) {
            let again = t.to_bytes();
            prop_assert_eq!(Tree::from_bytes(&again).map(|t| t.to_bytes()).ok(), Some(again));
        }
    }

    /// A valid file with some bytes changed and the checksum recomputed: still never a panic.
    #[test]
    fn mutated_files_never_panic(edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6)) {
        let mut b = rich_tree().to_bytes();
        let body_len = b.len() - 4;
        for (i, v) in edits {
            let at = 10 + i.index(body_len - 10);
            b[at] = v;
        }
        let crc = crc32fast::hash(&b[..body_len]);
        b[body_len..].copy_from_slice(&crc.to_be_bytes());
        let _ = Tree::from_bytes(&b);
    }
}
