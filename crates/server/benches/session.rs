//! The server's CPU cost of one DM session, engine only (issue 7): the real client engine plays
//! the device in memory, and only the server's side of each exchange is timed — decoding the
//! device's message, `engine::process` and applying its `Changes` to an in-memory store, no I/O.
//! A session: package #1 with DevInfo, digest authentication (212 and a new nonce), 4 queued
//! commands (Get, Replace, Get, Add) sent and their Status/Results matched, end of session.
//!
//! ```sh
//! cargo bench -p omadm-server --bench session
//! ```

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::*;
use criterion::{criterion_group, criterion_main, Criterion};
use omadm_client::session::{Env, Incoming, Session, Step};
use omadm_server::model::{ClientAuthType, Op};

/// One session; the time spent on the server's side.
fn one_session(n: u64, wbxml: bool) -> Duration {
    let mut store = Store::new(device(ClientAuthType::Digest));
    store.enqueue(spec(Op::Get, "./DevInfo/Mod"));
    store.enqueue(with_data(Op::Replace, "./Vendor/X", "value"));
    store.enqueue(spec(Op::Get, "./DevInfo/Man"));
    store.enqueue(with_data(Op::Add, "./Vendor/Y", "new"));
    let mut dev = Dev::new(tree("DIGEST", "DIGEST"));
    let mut cfg = config(&format!("{:X}", n % 0xFFFF + 1), "DM/1.3");
    if wbxml {
        cfg.encoding = omadm_syncml::Encoding::Wbxml;
    }
    let mut s = Session::new(&dev.tree, cfg).expect("DMAcc");
    let mut out = s.start(&dev.tree).expect("package #1");
    let mut server = Duration::ZERO;
    for _ in 0..50 {
        let t = Instant::now();
        let answer = store.deliver(&out.body, out.hmac.as_deref());
        server += t.elapsed();
        let env = Env {
            tree: &mut dev.tree,
            plugins: &mut dev.plugins,
            ui: &mut *dev.ui,
            now: NOW as u64,
        };
        match s.receive(
            env,
            Incoming {
                body: &answer.body,
                hmac: answer.hmac.as_deref(),
            },
        ) {
            Ok(Step::Send(o)) => out = o,
            Ok(Step::End(_)) => return server,
            Err(e) => panic!("the session failed: {e}"),
        }
    }
    panic!("the session did not end");
}

fn bench(c: &mut Criterion) {
    for (name, wbxml) in [
        ("server_session_xml", false),
        ("server_session_wbxml", true),
    ] {
        c.bench_function(name, |b| {
            b.iter_custom(|iters| (0..iters).map(|i| one_session(i, wbxml)).sum())
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
