//! A round-robin HTTP/1.1 relay on 127.0.0.1 standing for a load balancer in front of several
//! `omadm server` replicas: each client connection carries one request, forwarded to the next
//! replica in turn (to the other one when that one is down or dies before answering, as a device
//! would resend), answered with `Connection: close`. REST calls all go to the first replica.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const IO_TIMEOUT: Duration = Duration::from_secs(20);

/// What the relay saw.
#[derive(Default)]
pub struct Stats {
    /// DM messages answered, by replica (0 = A, 1 = B).
    pub answered: [AtomicUsize; 2],
    /// DM messages forwarded and not yet answered, by replica.
    pub in_flight: [AtomicUsize; 2],
    /// Connections refused (the replica was down); the message went to the other one.
    pub refused: AtomicUsize,
    /// Messages sent to a replica that died before answering, then sent again to the other.
    pub resent: AtomicUsize,
    /// Requests the relay could not get answered at all (502 to the client).
    pub lost: AtomicUsize,
    /// REST calls (all to A).
    pub api: AtomicUsize,
}

/// A round-robin HTTP/1.1 relay on 127.0.0.1: one request per client connection, answered
/// with `Connection: close`.
pub struct Relay {
    pub addr: SocketAddr,
    pub stats: Arc<Stats>,
    stop: Arc<AtomicBool>,
}

impl Relay {
    pub fn start(backends: [SocketAddr; 2]) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").expect("relay bind");
        let addr = listener.local_addr().expect("relay addr");
        let stats = Arc::new(Stats::default());
        let stop = Arc::new(AtomicBool::new(false));
        let next = Arc::new(AtomicUsize::new(0));
        {
            let (stats, stop) = (stats.clone(), stop.clone());
            std::thread::spawn(move || {
                for conn in listener.incoming() {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let Ok(conn) = conn else { continue };
                    let (stats, next) = (stats.clone(), next.clone());
                    std::thread::spawn(move || relay_one(conn, backends, &stats, &next));
                }
            });
        }
        Relay { addr, stats, stop }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
    }
}

/// Reads one request (head and Content-Length body); (head lines, body).
fn read_request(conn: &mut TcpStream) -> Option<(Vec<String>, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p;
        }
        if buf.len() > 64 * 1024 {
            return None;
        }
        let n = conn.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let lines: Vec<String> = head.split("\r\n").map(str::to_owned).collect();
    let len: usize = lines
        .iter()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    let chunked = lines
        .iter()
        .any(|l| l.to_ascii_lowercase().starts_with("transfer-encoding:") && l.contains("chunked"));
    if chunked {
        return None;
    }
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < len {
        let n = conn.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    body.truncate(len);
    Some((lines, body))
}

/// The head lines without `Connection`/`Keep-Alive`, with `Connection: close`.
fn close_head(lines: &[String]) -> Vec<u8> {
    let mut out = String::new();
    for l in lines {
        let k = l
            .split(':')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if k == "connection" || k == "keep-alive" {
            continue;
        }
        out.push_str(l);
        out.push_str("\r\n");
    }
    out.push_str("Connection: close\r\n\r\n");
    out.into_bytes()
}

/// Sends `request` to `to`; the whole answer, or why there is none.
enum Sent {
    Answer(Vec<u8>),
    /// Nothing reached the replica.
    Refused,
    /// The replica took the request and died (or hung) before answering.
    NoAnswer,
}

fn forward(to: SocketAddr, request: &[u8]) -> Sent {
    let Ok(mut s) = TcpStream::connect_timeout(&to, Duration::from_secs(2)) else {
        return Sent::Refused;
    };
    let _ = s.set_read_timeout(Some(IO_TIMEOUT));
    let _ = s.set_write_timeout(Some(IO_TIMEOUT));
    if s.write_all(request).is_err() {
        return Sent::NoAnswer;
    }
    let mut raw = Vec::new();
    // A reset mid-answer is an error; what was read so far is checked below.
    let complete = s.read_to_end(&mut raw).is_ok();
    if !complete || !raw.starts_with(b"HTTP/1.") || !answer_complete(&raw) {
        return Sent::NoAnswer;
    }
    Sent::Answer(raw)
}

/// Whether `raw` holds a whole answer (its Content-Length, or a closed chunked body).
fn answer_complete(raw: &[u8]) -> bool {
    let Some(p) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&raw[..p]).to_ascii_lowercase();
    let body = &raw[p + 4..];
    if let Some(len) = head.lines().find_map(|l| {
        l.strip_prefix("content-length:")
            .and_then(|v| v.trim().parse::<usize>().ok())
    }) {
        return body.len() >= len;
    }
    if head.contains("transfer-encoding: chunked") {
        return body.ends_with(b"0\r\n\r\n");
    }
    true
}

/// The answer with `Connection: close` in its head.
fn close_answer(raw: &[u8]) -> Vec<u8> {
    let p = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(raw.len());
    let head = String::from_utf8_lossy(&raw[..p]).into_owned();
    let lines: Vec<String> = head.split("\r\n").map(str::to_owned).collect();
    let mut out = close_head(&lines);
    out.extend_from_slice(raw.get(p + 4..).unwrap_or_default());
    out
}

fn relay_one(mut conn: TcpStream, backends: [SocketAddr; 2], stats: &Stats, next: &AtomicUsize) {
    let _ = conn.set_read_timeout(Some(IO_TIMEOUT));
    let _ = conn.set_write_timeout(Some(IO_TIMEOUT));
    let Some((lines, body)) = read_request(&mut conn) else {
        return;
    };
    let path = lines
        .first()
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or("")
        .to_owned();
    let mut request = close_head(&lines);
    request.extend_from_slice(&body);
    let answer = if path == "/dm" || path.starts_with("/dm?") {
        relay_dm(&request, backends, stats, next)
    } else {
        stats.api.fetch_add(1, Ordering::Relaxed);
        match forward(backends[0], &request) {
            Sent::Answer(a) => Some(a),
            _ => None,
        }
    };
    let out = match answer {
        Some(a) => close_answer(&a),
        None => {
            stats.lost.fetch_add(1, Ordering::Relaxed);
            b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec()
        }
    };
    let _ = conn.write_all(&out);
    let _ = conn.flush();
}

/// A DM message to the next replica in turn; to the other one when that one is down or dies
/// before answering (a device sending its message again), for at most 15 s.
fn relay_dm(
    request: &[u8],
    backends: [SocketAddr; 2],
    stats: &Stats,
    next: &AtomicUsize,
) -> Option<Vec<u8>> {
    let mut i = next.fetch_add(1, Ordering::Relaxed) % 2;
    let until = Instant::now() + Duration::from_secs(15);
    while Instant::now() < until {
        stats.in_flight[i].fetch_add(1, Ordering::SeqCst);
        let r = forward(backends[i], request);
        stats.in_flight[i].fetch_sub(1, Ordering::SeqCst);
        match r {
            Sent::Answer(a) => {
                stats.answered[i].fetch_add(1, Ordering::SeqCst);
                return Some(a);
            }
            Sent::Refused => {
                stats.refused.fetch_add(1, Ordering::Relaxed);
            }
            Sent::NoAnswer => {
                stats.resent.fetch_add(1, Ordering::Relaxed);
            }
        }
        i = 1 - i;
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}
