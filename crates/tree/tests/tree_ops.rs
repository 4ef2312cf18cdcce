//! The TND rules of tree operations, one test each, named after the rule they prove.

use omadm_tree::format::NodeFormat;
use omadm_tree::uri::{Property, UriLimits};
use omadm_tree::{Caller, Tree, TreeError};

const SRV: Caller<'static> = Caller::Server("srv1");
const OTHER: Caller<'static> = Caller::Server("srv2");

fn status<T: std::fmt::Debug>(r: Result<T, TreeError>) -> u16 {
    match r {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => e.status(),
    }
}

/// A tree whose root grants srv1 every right (the default root ACL `Add=*&Get=*` lets nobody
/// Replace or Delete what inherits it).
fn tree() -> Tree {
    let mut t = Tree::default();
    t.set_now(994_869_497);
    t.replace_prop(
        Caller::Device,
        ".",
        Property::Acl,
        "Add=*&Get=*&Replace=srv1&Delete=srv1&Exec=srv1",
    )
    .unwrap();
    t
}

#[test]
fn tnd_add_leaf_and_get_value() {
    let mut t = tree();
    t.add(SRV, "./A", NodeFormat::Node, None, b"").unwrap();
    t.add(SRV, "./A/B", NodeFormat::Chr, Some("text/plain"), b"hello")
        .unwrap();
    let v = t.get(SRV, "A/B").unwrap();
    assert_eq!(v.data, b"hello");
    assert_eq!(v.format, NodeFormat::Chr);
    assert_eq!(v.type_, "text/plain");
}

#[test]
fn tnd_get_interior_lists_child_names() {
    let mut t = tree();
    t.add(SRV, "./A/X", NodeFormat::Int, None, b"1").unwrap();
    t.add(SRV, "./A/Y", NodeFormat::Int, None, b"2").unwrap();
    let v = t.get(SRV, "./A").unwrap();
    assert_eq!(v.format, NodeFormat::Node);
    assert_eq!(v.data, b"X/Y");
}

#[test]
fn tnd_add_existing_node_is_418() {
    let mut t = tree();
    t.add(SRV, "./A", NodeFormat::Chr, None, b"x").unwrap();
    assert_eq!(status(t.add(SRV, "./A", NodeFormat::Chr, None, b"y")), 418);
}

#[test]
fn tnd_add_creates_missing_interior_parents_implicitly() {
    let mut t = tree();
    t.add(SRV, "./A/B/C/D", NodeFormat::Chr, None, b"v")
        .unwrap();
    for p in ["./A", "./A/B", "./A/B/C"] {
        assert_eq!(t.get(SRV, p).unwrap().format, NodeFormat::Node, "{p}");
    }
}

#[test]
fn tnd_add_under_a_leaf_is_405() {
    let mut t = tree();
    t.add(SRV, "./L", NodeFormat::Chr, None, b"v").unwrap();
    assert_eq!(
        status(t.add(SRV, "./L/C", NodeFormat::Chr, None, b"v")),
        405
    );
}

#[test]
fn tnd_replace_never_creates_404() {
    let mut t = tree();
    assert_eq!(status(t.replace(SRV, "./Nope", None, None, b"v")), 404);
}

#[test]
fn tnd_value_must_match_format_415() {
    let mut t = tree();
    assert_eq!(
        status(t.add(SRV, "./I", NodeFormat::Int, None, b"twelve")),
        415
    );
    t.add(SRV, "./I", NodeFormat::Int, None, b"12").unwrap();
    assert_eq!(status(t.replace(SRV, "./I", None, None, b"x")), 415);
}

#[test]
fn tnd_delete_removes_whole_subtree() {
    let mut t = tree();
    t.add(SRV, "./A/B/C", NodeFormat::Chr, None, b"v").unwrap();
    t.delete(SRV, "./A").unwrap();
    assert_eq!(status(t.get(SRV, "./A/B/C")), 404);
    assert_eq!(status(t.get(SRV, "./A")), 404);
    assert_eq!(t.len(), 1);
}

#[test]
fn tnd_permanent_nodes_refuse_delete_and_rename_405() {
    let mut t = tree();
    let id = t
        .add(
            Caller::Device,
            "./DevInfo/DevId",
            NodeFormat::Chr,
            None,
            b"IMEI:1",
        )
        .unwrap();
    t.set_permanent(id, true);
    assert_eq!(status(t.delete(SRV, "./DevInfo/DevId")), 405);
    // Deleting an ancestor would delete it too.
    assert_eq!(status(t.delete(SRV, "./DevInfo")), 405);
    assert_eq!(
        status(t.replace_prop(SRV, "./DevInfo/DevId", Property::Name, "X")),
        405
    );
    assert_eq!(status(t.delete(SRV, ".")), 405);
}

#[test]
fn tnd_permanent_node_format_cannot_change_405() {
    let mut t = tree();
    let id = t
        .add(Caller::Device, "./P", NodeFormat::Int, None, b"1")
        .unwrap();
    t.set_permanent(id, true);
    t.replace(SRV, "./P", None, None, b"2").unwrap();
    assert_eq!(
        status(t.replace(SRV, "./P", Some(NodeFormat::Chr), None, b"x")),
        405
    );
}

#[test]
fn tnd_rename_onto_sibling_is_418() {
    let mut t = tree();
    t.add(SRV, "./A/X", NodeFormat::Chr, None, b"1").unwrap();
    t.add(SRV, "./A/Y", NodeFormat::Chr, None, b"2").unwrap();
    assert_eq!(
        status(t.replace_prop(SRV, "./A/X", Property::Name, "Y")),
        418
    );
    t.replace_prop(SRV, "./A/X", Property::Name, "Z").unwrap();
    assert_eq!(t.get(SRV, "./A/Z").unwrap().data, b"1");
    assert_eq!(status(t.get(SRV, "./A/X")), 404);
}

#[test]
fn tnd_acl_denial_is_425() {
    let mut t = tree();
    t.add(SRV, "./A", NodeFormat::Chr, None, b"v").unwrap();
    t.replace_prop(SRV, "./A", Property::Acl, "Get=srv1&Replace=srv1")
        .unwrap();
    assert_eq!(status(t.get(OTHER, "./A")), 425);
    assert_eq!(status(t.replace(OTHER, "./A", None, None, b"w")), 425);
    assert!(t.get(SRV, "./A").is_ok());
}

#[test]
fn tnd_acl_inherited_from_nearest_ancestor_with_an_acl() {
    let mut t = tree();
    t.add(SRV, "./A/B/C", NodeFormat::Chr, None, b"v").unwrap();
    t.replace_prop(Caller::Device, "./A", Property::Acl, "Get=srv2&Add=srv2")
        .unwrap();
    // C has no ACL of its own: A's governs, root's does not.
    assert_eq!(status(t.get(SRV, "./A/B/C")), 425);
    assert!(t.get(OTHER, "./A/B/C").is_ok());
    // Get of an empty ACL returns empty, not the inherited value.
    assert_eq!(t.get_prop(OTHER, "./A/B/C", Property::Acl).unwrap(), "");
}

#[test]
fn tnd_interior_node_added_without_parent_replace_gets_owner_acl() {
    let mut t = Tree::default();
    // Root ACL is Add=*&Get=*: srv1 has Add but not Replace on the root.
    t.add(SRV, "./Vendor", NodeFormat::Node, None, b"").unwrap();
    let acl = t
        .get_prop(Caller::Device, "./Vendor", Property::Acl)
        .unwrap();
    for cmd in ["Add=srv1", "Delete=srv1", "Replace=srv1"] {
        assert!(acl.contains(cmd), "{acl}");
    }
    // A leaf gets an empty ACL and inherits.
    t.add(SRV, "./Vendor/L", NodeFormat::Chr, None, b"v")
        .unwrap();
    assert_eq!(
        t.get_prop(Caller::Device, "./Vendor/L", Property::Acl)
            .unwrap(),
        ""
    );
}

#[test]
fn tnd_leaf_replace_right_does_not_cover_its_acl() {
    let mut t = tree();
    t.add(Caller::Device, "./P/L", NodeFormat::Chr, None, b"v")
        .unwrap();
    t.replace_prop(Caller::Device, "./P", Property::Acl, "Get=*")
        .unwrap();
    t.replace_prop(Caller::Device, "./P/L", Property::Acl, "Replace=srv1&Get=*")
        .unwrap();
    assert_eq!(
        status(t.replace_prop(SRV, "./P/L", Property::Acl, "Replace=srv1&Get=srv1")),
        425
    );
    // Replace on the parent's ACL allows it.
    t.replace_prop(Caller::Device, "./P", Property::Acl, "Replace=srv1&Get=*")
        .unwrap();
    t.replace_prop(SRV, "./P/L", Property::Acl, "Replace=srv1&Get=srv1")
        .unwrap();
}

#[test]
fn tnd_root_acl_add_must_stay_star() {
    let mut t = Tree::default();
    assert_eq!(
        t.get_prop(Caller::Device, ".", Property::Acl).unwrap(),
        "Add=*&Get=*"
    );
    assert!(t
        .replace_prop(Caller::Device, ".", Property::Acl, "Add=srv1&Get=*")
        .is_err());
    assert!(t
        .replace_prop(Caller::Device, ".", Property::Acl, "")
        .is_err());
}

#[test]
fn tnd_uri_limits_are_414() {
    let mut t = Tree::new(UriLimits {
        max_depth: 3,
        max_tot_len: 40,
        max_seg_len: 8,
    });
    assert_eq!(
        status(t.add(SRV, "./A/B/C/D", NodeFormat::Chr, None, b"v")),
        414
    );
    assert_eq!(
        status(t.add(SRV, "./ABCDEFGHIJ", NodeFormat::Chr, None, b"v")),
        414
    );
    assert_eq!(
        status(t.add(
            SRV,
            "./AAAAAAA/BBBBBBB/CCCCCCC/",
            NodeFormat::Chr,
            None,
            b"v"
        )),
        400
    );
    t.add(SRV, "./A/B/C", NodeFormat::Chr, None, b"v").unwrap();
}

#[test]
fn tnd_properties_size_type_verno_tstamp() {
    let mut t = tree();
    t.add(SRV, "./L", NodeFormat::Chr, Some("text/plain"), b"hello")
        .unwrap();
    assert_eq!(t.get_prop(SRV, "./L", Property::Size).unwrap(), "5");
    assert_eq!(
        t.get_prop(SRV, "./L", Property::Type).unwrap(),
        "text/plain"
    );
    assert_eq!(t.get_prop(SRV, "./L", Property::Format).unwrap(), "chr");
    assert_eq!(
        t.get_prop(SRV, "./L", Property::TStamp).unwrap(),
        "20010711T163817Z"
    );
    let v0: u32 = t
        .get_prop(SRV, "./L", Property::VerNo)
        .unwrap()
        .parse()
        .unwrap();
    t.replace(SRV, "./L", None, None, b"x").unwrap();
    let v1: u32 = t
        .get_prop(SRV, "./L", Property::VerNo)
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(v1, v0 + 1);
    t.add(SRV, "./I", NodeFormat::Node, None, b"").unwrap();
    // Size is not a property of interior nodes.
    assert_eq!(status(t.get_prop(SRV, "./I", Property::Size)), 406);
}

#[test]
fn tnd_list_struct_and_structdata() {
    let mut t = tree();
    t.add(SRV, "./A/B", NodeFormat::Chr, None, b"b").unwrap();
    t.add(SRV, "./A/C/D", NodeFormat::Int, None, b"4").unwrap();
    let s = t.list(SRV, "./A", false).unwrap();
    let uris: Vec<&str> = s.iter().map(|l| l.uri.as_str()).collect();
    assert_eq!(uris, ["./A", "./A/B", "./A/C", "./A/C/D"]);
    assert!(s.iter().all(|l| l.value.data.is_empty()));
    let d = t.list(SRV, "./A", true).unwrap();
    assert_eq!(d[1].value.data, b"b");
    assert_eq!(d[3].value.data, b"4");
    assert!(d[0].value.data.is_empty(), "interior nodes carry no data");
}

#[test]
fn tnd_copy_is_independent_of_original() {
    let mut t = tree();
    t.add(SRV, "./S/X", NodeFormat::Chr, None, b"1").unwrap();
    t.copy(SRV, "./S", "./T").unwrap();
    t.replace(SRV, "./S/X", None, None, b"2").unwrap();
    assert_eq!(t.get(SRV, "./T/X").unwrap().data, b"1");
    assert_eq!(status(t.copy(SRV, "./S", "./S/Inner")), 405);
}

#[test]
fn atomic_rollback_restores_everything() {
    let mut t = tree();
    t.add(SRV, "./A/B", NodeFormat::Chr, None, b"b").unwrap();
    t.add(SRV, "./A/C", NodeFormat::Chr, None, b"c").unwrap();
    let before = t.list(Caller::Device, ".", true).unwrap();
    t.begin().unwrap();
    t.add(SRV, "./A/N/M", NodeFormat::Chr, None, b"n").unwrap();
    t.replace(SRV, "./A/B", None, None, b"changed").unwrap();
    t.replace_prop(SRV, "./A/C", Property::Name, "C2").unwrap();
    t.delete(SRV, "./A/C2").unwrap();
    t.replace_prop(SRV, "./A", Property::Title, "t").unwrap();
    t.rollback().unwrap();
    assert_eq!(t.list(Caller::Device, ".", true).unwrap(), before);
    assert_eq!(t.get(SRV, "./A/C").unwrap().data, b"c");
    assert_eq!(status(t.get(SRV, "./A/C2")), 404);
    assert!(t.rollback().is_err());
}

#[test]
fn atomic_commit_keeps_changes() {
    let mut t = tree();
    t.begin().unwrap();
    t.add(SRV, "./A", NodeFormat::Chr, None, b"a").unwrap();
    t.delete(SRV, "./A").unwrap();
    t.add(SRV, "./B", NodeFormat::Chr, None, b"b").unwrap();
    t.commit().unwrap();
    assert_eq!(t.get(SRV, "./B").unwrap().data, b"b");
    assert_eq!(t.len(), 2);
}

#[test]
fn deep_chains_are_capped_and_walked_without_recursion() {
    // MaxDepth 0 means "unlimited" in DevDetail; the tree still caps creation at MAX_DEPTH so a
    // single Add cannot build a chain whose ?list= answer is quadratic in the Add's size.
    let mut t = tree();
    let max = usize::from(Tree::MAX_DEPTH);
    assert_eq!(t.effective_max_depth(), Tree::MAX_DEPTH);
    let too_deep = format!(".{}", "/a".repeat(max + 1));
    assert_eq!(
        status(t.add(SRV, &too_deep, NodeFormat::Chr, None, b"v")),
        414
    );
    assert_eq!(t.len(), 1, "a refused Add creates nothing");
    let uri = format!(".{}", "/a".repeat(max));
    t.add(SRV, &uri, NodeFormat::Chr, None, b"v").unwrap();
    assert_eq!(t.len(), max + 1);
    // A copy one level down would pass the cap.
    assert_eq!(status(t.copy(SRV, "./a", "./b/c")), 414);
    t.copy(SRV, "./a", "./b").unwrap();
    assert_eq!(t.len(), 2 * max + 1);
    assert_eq!(t.list(SRV, "./b", false).unwrap().len(), max);
    // No TNDS reader accepts such depth: export refuses before walking it.
    let sel = omadm_tree::uri::TndsSelection::All;
    assert_eq!(status(t.export_tnds(SRV, "./a", &sel)), 406);
    t.delete(SRV, "./a").unwrap();
    t.begin().unwrap();
    t.delete(SRV, "./b").unwrap();
    t.rollback().unwrap();
    assert_eq!(t.len(), max + 1);
    t.delete(SRV, "./b").unwrap();
    assert_eq!(t.len(), 1);
}
