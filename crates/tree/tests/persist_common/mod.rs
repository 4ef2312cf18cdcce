//! Helpers shared by the persistence tests: what a tree looks like from outside.
#![allow(dead_code)] // each test crate uses its own part of these helpers

use omadm_tree::uri::{Property, UriLimits};
use omadm_tree::{Caller, Tree};

/// Every node as the device sees it: `?list=StructData` order, value, and every property
/// (ACL, Title, TStamp, VerNo, Name, Type, Format, permanence), plus the URI limits. Each node is
/// also looked up by URI, so a broken name index shows here.
pub fn observe(t: &Tree) -> (UriLimits, Vec<String>) {
    let listed = match t.list(Caller::Device, ".", true) {
        Ok(l) => l,
        Err(e) => panic!("list of the root failed: {e}"),
    };
    let mut out = Vec::with_capacity(listed.len());
    for l in listed {
        let props: Vec<String> = [
            Property::Acl,
            Property::Title,
            Property::TStamp,
            Property::VerNo,
            Property::Name,
            Property::Type,
            Property::Format,
        ]
        .into_iter()
        .map(|p| match t.get_prop(Caller::Device, &l.uri, p) {
            Ok(v) => v,
            Err(e) => format!("<{p}: {e}>"),
        })
        .collect();
        let permanent = match t.resolve(&l.uri) {
            Ok((_, id)) => t.is_permanent(id),
            Err(e) => panic!("{} is listed but does not resolve: {e}", l.uri),
        };
        out.push(format!(
            "{} {:?} {:?} {:?} permanent={permanent}",
            l.uri, l.value.format, l.value.data, props
        ));
    }
    assert_eq!(
        out.len(),
        t.len(),
        "Tree::len disagrees with the listed nodes"
    );
    (t.limits(), out)
}

/// A directory of its own under the system temp dir, removed on drop.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        use std::sync::atomic::{AtomicU32, Ordering};
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let dir = std::env::temp_dir().join(format!(
            "omadm-{tag}-{}-{nanos}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        if let Err(e) = std::fs::create_dir_all(&dir) {
            panic!("cannot create {}: {e}", dir.display());
        }
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
