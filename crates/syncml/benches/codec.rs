//! Codec throughput on messages made by `../shared/bench/gen_syncml.py --commands N`
//! (N = 625 and 20000), and per message on two small real ones (libdmclient's package #1 and
//! #3, the size a DM session exchanges: per-message costs dominate there). Figures and the
//! command line are in docs/performance.md.

use std::path::Path;
use std::process::Command;

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use omadm_syncml::{Message, XmlOptions};

// The allocator the `omadm` binary ships with; docs/performance.md also gives figures with the
// system allocator (`--features` none: comment this out).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn generate(commands: usize) -> Vec<u8> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/bench/gen_syncml.py");
    let out = Command::new("python3")
        .arg(&script)
        .args(["--commands", &commands.to_string()])
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", script.display()));
    assert!(out.status.success(), "gen_syncml.py failed");
    out.stdout
}

fn codec(c: &mut Criterion) {
    for n in [625usize, 20_000] {
        let xml = generate(n);
        let msg = Message::from_xml(&xml).expect("generated XML decodes");
        let wbxml = msg.to_wbxml();

        let mut g = c.benchmark_group(format!("commands_{n}"));
        if n > 1000 {
            g.sample_size(20);
        }
        g.throughput(Throughput::Bytes(wbxml.len() as u64));
        g.bench_function(BenchmarkId::new("wbxml_to_message", wbxml.len()), |b| {
            b.iter(|| Message::from_wbxml(black_box(&wbxml)).unwrap())
        });
        g.bench_function(BenchmarkId::new("message_to_wbxml", wbxml.len()), |b| {
            b.iter(|| black_box(&msg).to_wbxml())
        });
        let mut buf = Vec::new();
        g.bench_function(
            BenchmarkId::new("message_to_wbxml_reused_buffer", wbxml.len()),
            |b| {
                b.iter(|| {
                    buf.clear();
                    black_box(&msg).write_wbxml(Default::default(), &mut buf);
                })
            },
        );
        g.bench_function(BenchmarkId::new("wbxml_len", wbxml.len()), |b| {
            b.iter(|| black_box(&msg).wbxml_len_with(Default::default()))
        });
        g.throughput(Throughput::Bytes(xml.len() as u64));
        g.bench_function(BenchmarkId::new("xml_to_message", xml.len()), |b| {
            b.iter(|| Message::from_xml(black_box(&xml)).unwrap())
        });
        g.bench_function(BenchmarkId::new("message_to_xml", xml.len()), |b| {
            b.iter(|| black_box(&msg).to_xml().unwrap())
        });
        g.bench_function(
            BenchmarkId::new("message_to_xml_reused_buffer", xml.len()),
            |b| {
                b.iter(|| {
                    buf.clear();
                    black_box(&msg)
                        .write_xml(
                            XmlOptions {
                                pretty: false,
                                declaration: true,
                            },
                            &mut buf,
                        )
                        .unwrap();
                })
            },
        );
        g.finish();
    }
}

/// One decode and one encode of each small sample, both encodings.
fn small(c: &mut Criterion) {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/spec/samples/libdmclient");
    let mut g = c.benchmark_group("small");
    for name in ["basic_01_client_pkg1", "basic_02_client_pkg3"] {
        let path = dir.join(format!("{name}.xml"));
        let xml = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let msg = Message::from_xml(&xml).expect("sample decodes");
        let wbxml = msg.to_wbxml();
        g.throughput(Throughput::Bytes(xml.len() as u64));
        g.bench_function(BenchmarkId::new("xml_to_message", name), |b| {
            b.iter(|| Message::from_xml(black_box(&xml)).unwrap())
        });
        g.bench_function(BenchmarkId::new("message_to_xml", name), |b| {
            b.iter(|| black_box(&msg).to_xml().unwrap())
        });
        g.throughput(Throughput::Bytes(wbxml.len() as u64));
        g.bench_function(BenchmarkId::new("wbxml_to_message", name), |b| {
            b.iter(|| Message::from_wbxml(black_box(&wbxml)).unwrap())
        });
        g.bench_function(BenchmarkId::new("message_to_wbxml", name), |b| {
            b.iter(|| black_box(&msg).to_wbxml())
        });
    }
    g.finish();
}

criterion_group!(benches, codec, small);
criterion_main!(benches);
