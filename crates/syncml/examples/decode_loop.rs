//! Profiling aid: decodes a file N times in the given encoding.
//! `cargo run --release --example decode_loop -- FILE N [xml|wbxml]`
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let bytes = std::fs::read(&args[1]).expect("read");
    let n: usize = args[2].parse().expect("count");
    let m = omadm_syncml::Message::decode(&bytes).expect("decode");
    let input = if args.get(3).map(String::as_str) == Some("wbxml") {
        m.to_wbxml()
    } else {
        bytes
    };
    let t = std::time::Instant::now();
    for _ in 0..n {
        let m = omadm_syncml::Message::decode(&input).expect("decode");
        std::hint::black_box(&m);
    }
    let s = t.elapsed().as_secs_f64() / n as f64;
    println!(
        "{} bytes, {:.3} ms, {:.1} MB/s",
        input.len(),
        s * 1e3,
        input.len() as f64 / s / 1e6
    );
}
