//! A running `omadm server` for end-to-end tests, and a small HTTP/1.1 client for its REST API
//! (loopback only; every read bounded).
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

const WAIT: Duration = Duration::from_secs(20);

/// `omadm server` on 127.0.0.1 (any free port) over a SQLite file in `dir`; killed when dropped.
pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    pub token: String,
    pub db: PathBuf,
    lines: mpsc::Receiver<String>,
}

impl Server {
    /// Starts the server with `extra` options; the database is `dir/omadm.db`.
    pub fn start(dir: &Path, extra: &[&str]) -> Server {
        Server::start_listening(dir, "127.0.0.1:0", extra)
    }

    /// The same on `listen` (a fixed port, for restarts).
    pub fn start_listening(dir: &Path, listen: &str, extra: &[&str]) -> Server {
        let db = dir.join("omadm.db");
        let url = format!("sqlite://{}", db.display());
        Server::start_with_db(dir, listen, &url, extra)
    }

    /// The same on the database `url` (`sqlite://...` or `postgres://...`).
    pub fn start_with_db(dir: &Path, listen: &str, url: &str, extra: &[&str]) -> Server {
        let db = dir.join("omadm.db");
        let mut child = Command::new(env!("CARGO_BIN_EXE_omadm"))
            .arg("server")
            .args(["--listen", listen, "--db", url])
            .args(extra)
            .env_remove("OMADM_ADMIN_TOKEN")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn omadm server");
        let out = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut token = String::new();
        let addr = loop {
            let line = match rx.recv_timeout(WAIT) {
                Ok(l) => l,
                Err(_) => {
                    let _ = child.kill();
                    panic!("omadm server did not say where it listens");
                }
            };
            if let Some(t) =
                line.strip_prefix("admin token (generated now, kept in the database): ")
            {
                token = t.trim().to_owned();
            }
            let rest = line
                .strip_prefix("omadm server listening on http://")
                .or_else(|| line.strip_prefix("omadm server listening on https://"));
            if let Some(rest) = rest {
                let a = rest.split_whitespace().next().unwrap_or_default();
                break a.parse().expect("listening address");
            }
        };
        Server {
            child,
            addr,
            token,
            db,
            lines: rx,
        }
    }

    /// The DM endpoint.
    pub fn dm_url(&self) -> String {
        format!("http://{}/dm", self.addr)
    }

    /// Kills the process (SIGKILL) and waits for it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// An API request with the admin token; (status, JSON body or Null).
    pub fn api(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        let (code, text) = request(
            self.addr,
            method,
            &format!("/api/v1{path}"),
            Some(&self.token),
            body.map(|b| b.to_string()),
        );
        (code, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Like [`Server::api`], asserting the status.
    pub fn api_ok(&self, method: &str, path: &str, body: Option<&Value>, want: u16) -> Value {
        let (code, v) = self.api(method, path, body);
        assert_eq!(code, want, "{method} {path}: {v}");
        v
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Percent-encodes a path segment (device ids hold `:`).
pub fn seg(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// One HTTP/1.1 request (Connection: close); (status, body).
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<String>,
) -> (u16, String) {
    let mut s = TcpStream::connect_timeout(&addr, WAIT).expect("connect");
    s.set_read_timeout(Some(WAIT)).expect("timeout");
    let body = body.unwrap_or_default();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !body.is_empty() {
        head.push_str("Content-Type: application/json\r\n");
    }
    if let Some(t) = token {
        head.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).expect("write");
    s.write_all(body.as_bytes()).expect("write");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let code = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    (
        code,
        if chunked {
            dechunk(body)
        } else {
            body.to_owned()
        },
    )
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}
