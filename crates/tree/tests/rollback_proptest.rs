//! Transactions (Atomic): any sequence of operations by any callers, rolled back, leaves the tree
//! byte-identical to before (its canonical `to_bytes`), with a working name index; committed, it
//! equals the same sequence run without a transaction, and survives a save/load round trip.

mod persist_common;

use omadm_tree::format::NodeFormat;
use omadm_tree::uri::Property;
use omadm_tree::{Caller, Tree};
use persist_common::observe;
use proptest::prelude::*;

#[derive(Clone, Copy, Debug)]
enum Who {
    Device,
    A,
    B,
}

impl Who {
    fn caller(self) -> Caller<'static> {
        match self {
            Who::Device => Caller::Device,
            Who::A => Caller::Server("a"),
            Who::B => Caller::Server("b"),
        }
    }
}

#[derive(Clone, Debug)]
enum Op {
    Add(Who, String, NodeFormat, Option<&'static str>, Vec<u8>),
    Replace(Who, String, Option<NodeFormat>, Vec<u8>),
    Delete(Who, String),
    Rename(Who, String, &'static str),
    Acl(Who, String, &'static str),
    Title(Who, String, String),
    Copy(Who, String, String),
    Permanent(String, bool),
    Now(u64),
}

const NAMES: [&str; 4] = ["a", "b", "c", "x"];
const ACLS: [&str; 8] = [
    "",
    "Get=*",
    "Add=a&Delete=a&Get=*&Replace=a",
    "Add=a+b&Get=*&Replace=b&Delete=b",
    "Get=a&Exec=b",
    "Add=*&Get=*",
    "Add=*&Get=*&Replace=a+b&Delete=a+b&Exec=*",
    "not an acl",
];

/// Short paths over few names, so that most operations meet an existing node.
fn path() -> impl Strategy<Value = String> {
    let seg = || proptest::sample::select(&NAMES[..3]);
    prop_oneof![
        2 => seg().prop_map(|a| format!("./{a}")),
        2 => (seg(), seg()).prop_map(|(a, b)| format!("./{a}/{b}")),
        1 => (seg(), seg(), seg()).prop_map(|(a, b, c)| format!("./{a}/{b}/{c}")),
    ]
}

/// Any node, the root included (ACL and Title ops on `.` are allowed, with their own rules).
fn target() -> impl Strategy<Value = String> {
    prop_oneof![9 => path(), 1 => Just(".".to_string())]
}

fn who() -> impl Strategy<Value = Who> {
    prop_oneof![Just(Who::Device), Just(Who::A), Just(Who::B)]
}

/// A format and a value, valid for it most of the time.
fn valued() -> impl Strategy<Value = (NodeFormat, Vec<u8>)> {
    prop_oneof![
        3 => Just((NodeFormat::Node, Vec::new())),
        2 => "[a-z]{0,6}".prop_map(|s| (NodeFormat::Chr, s.into_bytes())),
        1 => any::<i32>().prop_map(|n| (NodeFormat::Int, n.to_string().into_bytes())),
        1 => any::<bool>().prop_map(|b| (NodeFormat::Bool, b.to_string().into_bytes())),
        1 => proptest::collection::vec(any::<u8>(), 0..6).prop_map(|v| (NodeFormat::Bin, v)),
        1 => Just((NodeFormat::Null, Vec::new())),
        1 => Just((NodeFormat::B64, b"QUJD".to_vec())),
        1 => (proptest::sample::select(NodeFormat::ALL.to_vec()), proptest::collection::vec(any::<u8>(), 0..4)),
    ]
}

fn mime() -> impl Strategy<Value = Option<&'static str>> {
    proptest::option::of(proptest::sample::select(vec![
        "text/plain",
        "urn:oma:mo:x:1.0",
    ]))
}

fn op(by: BoxedStrategy<Who>) -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (by.clone(), path(), valued(), mime()).prop_map(|(w, p, (f, v), t)| Op::Add(w, p, f, t, v)),
        3 => (by.clone(), path(), any::<bool>(), valued())
            .prop_map(|(w, p, keep, (f, v))| Op::Replace(w, p, (!keep).then_some(f), v)),
        2 => (by.clone(), path()).prop_map(|(w, p)| Op::Delete(w, p)),
        2 => (by.clone(), path(), proptest::sample::select(NAMES.to_vec())).prop_map(|(w, p, n)| Op::Rename(w, p, n)),
        2 => (by.clone(), target(), proptest::sample::select(ACLS.to_vec())).prop_map(|(w, p, a)| Op::Acl(w, p, a)),
        1 => (by.clone(), target(), "[a-z ]{0,5}").prop_map(|(w, p, t)| Op::Title(w, p, t)),
        2 => (by, path(), path()).prop_map(|(w, f, t)| Op::Copy(w, f, t)),
        1 => (path(), any::<bool>()).prop_map(|(p, on)| Op::Permanent(p, on)),
        1 => (1u64..4_000_000_000).prop_map(Op::Now),
    ]
}

/// Runs one operation; the outcome (Ok or the DM status) is what the comparison runs check.
fn apply(t: &mut Tree, op: &Op) -> Result<(), u16> {
    let r = match op {
        Op::Add(w, p, f, ty, v) => t.add(w.caller(), p, *f, *ty, v).map(drop),
        Op::Replace(w, p, f, v) => t.replace(w.caller(), p, *f, None, v),
        Op::Delete(w, p) => t.delete(w.caller(), p),
        Op::Rename(w, p, n) => t.replace_prop(w.caller(), p, Property::Name, n),
        Op::Acl(w, p, a) => t.replace_prop(w.caller(), p, Property::Acl, a),
        Op::Title(w, p, s) => t.replace_prop(w.caller(), p, Property::Title, s),
        Op::Copy(w, f, to) => t.copy(w.caller(), f, to).map(drop),
        Op::Permanent(p, on) => t.resolve(p).map(|(_, id)| t.set_permanent(id, *on)),
        Op::Now(n) => {
            t.set_now(*n);
            Ok(())
        }
    };
    r.map_err(|e| e.status())
}

/// The starting tree: the device builds it (with a root ACL that lets the servers in), so it
/// holds interior nodes and leaves of many formats, ACLs, Titles and permanent nodes.
fn build(root_acl: &str, setup: &[Op]) -> Tree {
    let mut t = Tree::default();
    t.set_now(1_000_000_000);
    let _ = t.replace_prop(Caller::Device, ".", Property::Acl, root_acl);
    for o in setup {
        let _ = apply(&mut t, o);
    }
    t.set_now(2_000_000_000);
    t
}

fn run(t: &mut Tree, ops: &[Op]) -> Vec<Result<(), u16>> {
    ops.iter().map(|o| apply(t, o)).collect()
}

fn case() -> impl Strategy<Value = (&'static str, Vec<Op>, Vec<Op>)> {
    (
        proptest::sample::select(vec![
            "Add=*&Get=*",
            "Add=*&Get=*&Replace=a&Delete=a+b",
            "Add=*&Get=*&Replace=*&Delete=*&Exec=*",
        ]),
        proptest::collection::vec(op(Just(Who::Device).boxed()), 0..48),
        proptest::collection::vec(op(who().boxed()), 0..64),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn rollback_restores_the_tree_byte_for_byte((root_acl, setup, ops) in case()) {
        let mut t = build(root_acl, &setup);
        let before = t.to_bytes();
        let seen = observe(&t);
        prop_assert!(t.begin().is_ok());
        let in_tx = run(&mut t, &ops);
        prop_assert!(t.rollback().is_ok());
        t.set_now(2_000_000_000);
        prop_assert_eq!(t.to_bytes(), before);
        prop_assert_eq!(observe(&t), seen);

        // The rolled-back tree still works like the original: the same operations, now outside a
        // transaction, do what they do on a tree that never saw the transaction.
        let mut fresh = build(root_acl, &setup);
        let plain = run(&mut fresh, &ops);
        prop_assert_eq!(&in_tx, &plain, "a transaction changes no outcome");
        let again = run(&mut t, &ops);
        prop_assert_eq!(&again, &plain);
        prop_assert_eq!(t.to_bytes(), fresh.to_bytes());
        prop_assert_eq!(observe(&t), observe(&fresh));
    }

    #[test]
    fn commit_keeps_the_changes_and_they_round_trip((root_acl, setup, ops) in case()) {
        let mut t = build(root_acl, &setup);
        prop_assert!(t.begin().is_ok());
        let in_tx = run(&mut t, &ops);
        prop_assert!(t.commit().is_ok());
        let mut fresh = build(root_acl, &setup);
        prop_assert_eq!(&in_tx, &run(&mut fresh, &ops));
        let bytes = t.to_bytes();
        prop_assert_eq!(&bytes, &fresh.to_bytes());
        let back = Tree::from_bytes(&bytes);
        prop_assert!(back.is_ok(), "{:?}", back.err());
        if let Ok(back) = back {
            prop_assert_eq!(back.to_bytes(), bytes);
            prop_assert_eq!(observe(&back), observe(&t));
        }
    }
}
