//! Tree figures of issue 3: a tree of 1,000,000 leaves (100 MOs x 10,000 leaves): build, lookup
//! by URI, `?list=StructData` of a 10,000-node subtree, and memory per node (printed once, from
//! the process's resident set size). Figures and command in docs/performance.md.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use omadm_tree::format::NodeFormat;
use omadm_tree::tnds::{self, TndsLimits};
use omadm_tree::uri::TndsSelection;
use omadm_tree::{Caller, Tree};

const MOS: usize = 100;
const LEAVES: usize = 10_000;

fn uri(mo: usize, leaf: usize) -> String {
    format!("./Vendor/MO{mo}/Set{}/Leaf{leaf}", leaf / 100)
}

fn build() -> (Tree, usize) {
    let mut t = Tree::default();
    let mut payload = 0;
    for mo in 0..MOS {
        for leaf in 0..LEAVES {
            let u = uri(mo, leaf);
            let v = format!("value-{leaf}");
            payload += v.len() + format!("Leaf{leaf}").len();
            t.add(
                Caller::Device,
                &u,
                NodeFormat::Chr,
                Some("text/plain"),
                v.as_bytes(),
            )
            .expect("add");
        }
    }
    (t, payload)
}

fn rss_bytes() -> usize {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|p| p.parse::<usize>().ok())
        })
        .map_or(0, |pages| pages * 4096)
}

fn tree(c: &mut Criterion) {
    let before = rss_bytes();
    let (t, payload) = build();
    let after = rss_bytes();
    let nodes = t.len();
    let overhead = after.saturating_sub(before).saturating_sub(payload);
    eprintln!(
        "tree: {nodes} nodes, RSS +{} bytes, name+value bytes {payload}, {:.1} bytes per node beyond them",
        after - before,
        overhead as f64 / nodes as f64
    );

    let mut g = c.benchmark_group("tree_1m_leaves");
    g.sample_size(10);
    g.bench_function("build", |b| b.iter(|| black_box(build())));
    g.finish();

    let probes: Vec<String> = (0..1000)
        .map(|i| uri((i * 37) % MOS, (i * 7919) % LEAVES))
        .collect();
    let mut i = 0;
    c.bench_function("tree_1m_leaves/get_by_uri", |b| {
        b.iter(|| {
            i = (i + 1) % probes.len();
            black_box(t.get(Caller::Server("srv"), &probes[i]).expect("get"))
        })
    });
    c.bench_function("tree_1m_leaves/list_structdata_10k", |b| {
        b.iter(|| {
            black_box(
                t.list(Caller::Server("srv"), "./Vendor/MO42", true)
                    .expect("list"),
            )
        })
    });
    let all = TndsSelection::All;
    c.bench_function("tree_1m_leaves/tnds_export_10k_wbxml", |b| {
        b.iter(|| {
            let m = t
                .export_tnds(Caller::Server("srv"), "./Vendor/MO42", &all)
                .expect("export");
            black_box(tnds::to_wbxml(&m))
        })
    });
    let m = t
        .export_tnds(Caller::Device, "./Vendor/MO42", &all)
        .expect("export");
    let wbxml = tnds::to_wbxml(&m);
    let xml = tnds::to_xml(&m).expect("xml");
    eprintln!(
        "tnds of one MO: {} bytes WBXML, {} bytes XML",
        wbxml.len(),
        xml.len()
    );
    c.bench_function("tree_1m_leaves/tnds_import_10k_wbxml", |b| {
        b.iter(|| {
            let mut fresh = Tree::default();
            let m = tnds::from_wbxml(&wbxml, &TndsLimits::default()).expect("parse");
            black_box(
                fresh
                    .import_tnds(Caller::Device, "./Imported", &m)
                    .expect("import"),
            )
        })
    });
}

criterion_group!(benches, tree);
criterion_main!(benches);
