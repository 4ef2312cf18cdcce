//! A scripted DM server on 127.0.0.1 for end-to-end tests of `omadm device`: plain HTTP/1.1 on a
//! std listener, one thread, one request per connection (`Connection: close`). Each POST is
//! decoded and handed to the test's handler, whose [`Reply`] is sent back. Every exchange is
//! recorded. The accept loop stops when the server is dropped, and on its own after
//! [`MAX_LIFETIME`].
#![allow(dead_code, clippy::large_enum_variant)] // each test uses a part; a Reply is built once per request

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use omadm_syncml::{Encoding, Message};

/// The server thread ends after this long whatever happens.
pub const MAX_LIFETIME: Duration = Duration::from_secs(120);
/// Bound on one request read.
const READ_TIMEOUT: Duration = Duration::from_secs(20);

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Request {
    /// 0 for the first request the server received.
    pub n: usize,
    /// The request line, e.g. `POST /dm HTTP/1.1`.
    pub line: String,
    /// Header names in lower case.
    pub headers: HashMap<String, String>,
    /// The body.
    pub body: Vec<u8>,
    /// The body decoded, when it is a SyncML message.
    pub msg: Option<Message>,
    /// Its encoding, when it decoded.
    pub encoding: Option<Encoding>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// The decoded message (panics with the body when it does not decode).
    pub fn message(&self) -> &Message {
        self.msg.as_ref().unwrap_or_else(|| {
            panic!(
                "request {} is not a SyncML message: {:?}",
                self.n,
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

/// What the handler answers.
pub enum Reply {
    /// HTTP 200 with this message in this encoding (the request's when `None`), and an
    /// `x-syncml-hmac` header when given.
    Message {
        msg: Message,
        encoding: Option<Encoding>,
        hmac: Option<String>,
    },
    /// HTTP 200 with these bytes as they are (the handler computed the body, e.g. to sign it).
    Bytes {
        body: Vec<u8>,
        content_type: String,
        hmac: Option<String>,
    },
    /// Any HTTP status with an empty body.
    Status(u16),
    /// Hold the connection open, answering nothing, for this long or until the client closes it
    /// (it is killed meanwhile).
    Hang(Duration),
}

impl Reply {
    pub fn msg(msg: Message) -> Reply {
        Reply::Message {
            msg,
            encoding: None,
            hmac: None,
        }
    }
}

/// The handler: each request in turn.
pub type Handler = Box<dyn FnMut(&Request) -> Reply + Send>;

/// A running scripted server.
pub struct DmServer {
    pub addr: SocketAddr,
    scheme: &'static str,
    stop: Arc<AtomicBool>,
    log: Arc<Mutex<Vec<Request>>>,
    thread: Option<JoinHandle<()>>,
}

impl DmServer {
    /// Starts a server that answers each request with `handler`.
    pub fn start(handler: impl FnMut(&Request) -> Reply + Send + 'static) -> DmServer {
        DmServer::start_with(None, handler)
    }

    /// The same over TLS (rustls) with this server configuration: [`DmServer::url`] is then
    /// `https://127.0.0.1:<port>/dm`.
    pub fn start_tls(
        tls: Arc<rustls::ServerConfig>,
        handler: impl FnMut(&Request) -> Reply + Send + 'static,
    ) -> DmServer {
        DmServer::start_with(Some(tls), handler)
    }

    fn start_with(
        tls: Option<Arc<rustls::ServerConfig>>,
        handler: impl FnMut(&Request) -> Reply + Send + 'static,
    ) -> DmServer {
        let scheme = if tls.is_some() { "https" } else { "http" };
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        listener.set_nonblocking(true).expect("nonblocking");
        let stop = Arc::new(AtomicBool::new(false));
        let log = Arc::new(Mutex::new(Vec::new()));
        let (stop2, log2) = (stop.clone(), log.clone());
        let mut handler: Handler = Box::new(handler);
        let thread = std::thread::spawn(move || {
            let deadline = Instant::now() + MAX_LIFETIME;
            let mut n = 0;
            while !stop2.load(Ordering::Relaxed) && Instant::now() < deadline {
                match listener.accept() {
                    Ok((s, _)) => {
                        if serve(s, tls.as_ref(), n, &mut handler, &stop2, &log2) {
                            n += 1;
                        }
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        DmServer {
            addr,
            scheme,
            stop,
            log,
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:<port>/dm` (`https` over TLS).
    pub fn url(&self) -> String {
        format!("{}://{}/dm", self.scheme, self.addr)
    }

    /// The requests so far.
    pub fn requests(&self) -> Vec<Request> {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Waits (at most `wait`) until `count` requests were received.
    pub fn wait_requests(&self, count: usize, wait: Duration) -> bool {
        let deadline = Instant::now() + wait;
        while Instant::now() < deadline {
            if self.log.lock().unwrap_or_else(|e| e.into_inner()).len() >= count {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        false
    }
}

impl Drop for DmServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Reads one request, records it in `log` (before answering: a [`Reply::Hang`] request is seen
/// while it hangs), answers it; false when the connection broke before a whole request came.
fn serve(
    tcp: TcpStream,
    tls: Option<&Arc<rustls::ServerConfig>>,
    n: usize,
    handler: &mut Handler,
    stop: &AtomicBool,
    log: &Mutex<Vec<Request>>,
) -> bool {
    if tcp.set_nonblocking(false).is_err() || tcp.set_read_timeout(Some(READ_TIMEOUT)).is_err() {
        return false;
    }
    let Ok(control) = tcp.try_clone() else {
        return false;
    };
    match tls {
        None => {
            let mut s = tcp;
            serve_one(&mut s, &control, n, handler, stop, log).is_some()
        }
        Some(cfg) => {
            let Ok(conn) = rustls::ServerConnection::new(cfg.clone()) else {
                return false;
            };
            let mut s = rustls::StreamOwned::new(conn, tcp);
            serve_one(&mut s, &control, n, handler, stop, log).is_some()
        }
    }
}

/// One request on `s`; `control` is the TCP socket under it (for read timeouts).
fn serve_one(
    s: &mut (impl Read + Write),
    control: &TcpStream,
    n: usize,
    handler: &mut Handler,
    stop: &AtomicBool,
    log: &Mutex<Vec<Request>>,
) -> Option<()> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let k = s.read(&mut chunk).ok()?;
        if k == 0 || buf.len() > 64 * 1024 {
            return None;
        }
        buf.extend_from_slice(&chunk[..k]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let line = lines.next().unwrap_or_default().to_owned();
    let headers: HashMap<String, String> = lines
        .filter_map(|l| {
            let (k, v) = l.split_once(':')?;
            Some((k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        })
        .collect();
    let len: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + len {
        let k = s.read(&mut chunk).ok()?;
        if k == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..k]);
    }
    let body = buf[head_end..head_end + len].to_vec();
    let (msg, encoding) = match Message::decode_with(&body, &omadm_syncml::Limits::default()) {
        Ok((m, e)) => (Some(m), Some(e)),
        Err(_) => (None, None),
    };
    let req = Request {
        n,
        line,
        headers,
        body,
        msg,
        encoding,
    };
    let reply = handler(&req);
    log.lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(req.clone());
    let (status, ctype, body, hmac) = match reply {
        Reply::Message {
            msg,
            encoding,
            hmac,
        } => {
            let enc = encoding.or(req.encoding).unwrap_or(Encoding::Xml);
            let body = msg.encode(enc).expect("the scripted answer encodes");
            (200, enc.content_type().to_owned(), body, hmac)
        }
        Reply::Bytes {
            body,
            content_type,
            hmac,
        } => (200, content_type, body, hmac),
        Reply::Status(code) => (code, "text/plain".to_owned(), Vec::new(), None),
        Reply::Hang(d) => {
            // Until the time is up, the server stops, or the client goes away (EOF).
            let until = Instant::now() + d;
            control
                .set_read_timeout(Some(Duration::from_millis(20)))
                .ok()?;
            while Instant::now() < until && !stop.load(Ordering::Relaxed) {
                match s.read(&mut chunk) {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(e)
                        if matches!(
                            e.kind(),
                            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                        ) => {}
                    Err(_) => break,
                }
            }
            return Some(());
        }
    };
    let mut head = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    if let Some(h) = hmac {
        head.push_str(&format!("x-syncml-hmac: {h}\r\n"));
    }
    head.push_str("\r\n");
    let _ = s.write_all(head.as_bytes());
    let _ = s.write_all(&body);
    let _ = s.flush();
    Some(())
}
