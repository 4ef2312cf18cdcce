//! DM over HTTP (SyncML HTTP Binding 1.2 as DM uses it, DIGEST.md §8): each message is POSTed
//! and the response body is the server's next message.
//!
//! Headers sent: `Content-Type` (the DM media type of the body), `Accept` (both DM media types),
//! `Accept-Charset: utf-8`, `Cache-Control: no-store` (the binding forbids caching DM messages),
//! `User-Agent`, and `x-syncml-hmac` when the caller gives one (DIGEST.md §3.5). The response's
//! `x-syncml-hmac` is handed back for the session to verify.
//!
//! Any HTTP status other than 200 is a transport failure (§8: "HTTP status other than 200 is a
//! transport failure and is separate from SyncML status codes"); redirects are not followed (a DM
//! server moves a session with RespURI, not with 3xx). Bounds: connect 10 s, whole exchange 60 s,
//! response body 16 MiB, by default. https uses the webpki root certificates plus, optionally, a
//! PEM file of extra roots (a private DM server's CA).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::{
    HeaderMap, HeaderValue, ACCEPT, ACCEPT_CHARSET, CACHE_CONTROL, CONTENT_TYPE,
};

/// The HMAC integrity header (DIGEST.md §3.5).
pub const HMAC_HEADER: &str = "x-syncml-hmac";
/// `Accept`: the two DM media types.
pub const ACCEPT_DM: &str = "application/vnd.syncml.dm+wbxml, application/vnd.syncml.dm+xml";
/// Default connect timeout.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default timeout of a whole request and response.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// Default bound on a response body.
pub const DEFAULT_MAX_BODY: usize = 16 * 1024 * 1024;

/// HTTP transport failed.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The CA file cannot be read.
    #[error("{}: {source}", .path.display())]
    CaFile {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The CA file holds no usable PEM certificate.
    #[error("{}: holds no PEM certificate", .path.display())]
    CaPem {
        /// The file.
        path: PathBuf,
    },
    /// The HTTP client could not be built (TLS setup).
    #[error("cannot set up the HTTP client")]
    Client(#[source] reqwest::Error),
    /// A header value holds characters HTTP does not allow.
    #[error("the {name} header value is not valid in HTTP")]
    Header {
        /// The header.
        name: &'static str,
    },
    /// The request failed (connection, TLS, timeout, broken response).
    #[error("POST {url}")]
    Request {
        /// The URL.
        url: String,
        /// What failed.
        #[source]
        source: reqwest::Error,
    },
    /// The server answered with an HTTP status other than 200.
    #[error("POST {url}: HTTP status {status}")]
    Status {
        /// The URL.
        url: String,
        /// The status code.
        status: u16,
    },
    /// The response body is larger than allowed.
    #[error("POST {url}: response body exceeds {max} bytes")]
    TooLarge {
        /// The URL.
        url: String,
        /// The bound.
        max: usize,
    },
}

/// How the transport behaves.
#[derive(Clone, Debug)]
pub struct TransportOptions {
    /// `User-Agent`.
    pub user_agent: String,
    /// Extra trusted root certificates, PEM (with the file they came from, for errors).
    pub ca_pem: Option<(PathBuf, Vec<u8>)>,
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// Timeout of the whole exchange.
    pub timeout: Duration,
    /// Largest response body accepted.
    pub max_body: usize,
}

impl TransportOptions {
    /// Defaults with this `User-Agent`.
    pub fn new(user_agent: &str) -> TransportOptions {
        TransportOptions {
            user_agent: user_agent.to_owned(),
            ca_pem: None,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            timeout: DEFAULT_TIMEOUT,
            max_body: DEFAULT_MAX_BODY,
        }
    }

    /// Adds the PEM certificates of `path` as trusted roots.
    pub fn with_ca_file(mut self, path: &Path) -> Result<TransportOptions, TransportError> {
        let pem = std::fs::read(path).map_err(|source| TransportError::CaFile {
            path: path.to_path_buf(),
            source,
        })?;
        self.ca_pem = Some((path.to_path_buf(), pem));
        Ok(self)
    }

    /// The options `device.toml` asks for (`user_agent`, `ca_file`).
    pub fn from_config(c: &super::DeviceConfig) -> Result<TransportOptions, TransportError> {
        let o = TransportOptions::new(&c.user_agent);
        match &c.ca_file {
            Some(p) => o.with_ca_file(p),
            None => Ok(o),
        }
    }
}

/// The server's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// The HTTP status (always 200: others are [`TransportError::Status`]).
    pub status: u16,
    /// `Content-Type`, when sent.
    pub content_type: Option<String>,
    /// The body: the server's next message (empty for an answered report).
    pub body: Vec<u8>,
    /// `x-syncml-hmac`, when sent.
    pub hmac: Option<String>,
}

/// An HTTP client for DM messages. Cheap to clone; reuses connections.
#[derive(Clone, Debug)]
pub struct Transport {
    client: reqwest::Client,
    max_body: usize,
    /// The last URL posted to, parsed: a device (or `omadm loadtest`'s fleet of them) posts
    /// message after message to one address, and parsing it (IDNA host mapping included) costs
    /// more than cloning the parsed form.
    last_url: Arc<Mutex<Option<(String, reqwest::Url)>>>,
}

impl Transport {
    /// A client with `opts`.
    pub fn new(opts: &TransportOptions) -> Result<Transport, TransportError> {
        let mut b = reqwest::Client::builder()
            .user_agent(opts.user_agent.clone())
            .connect_timeout(opts.connect_timeout)
            .timeout(opts.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .https_only(false);
        if let Some((path, pem)) = &opts.ca_pem {
            let no_pem = || TransportError::CaPem { path: path.clone() };
            let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(|_| no_pem())?;
            if certs.is_empty() {
                return Err(no_pem());
            }
            for c in certs {
                b = b.add_root_certificate(c);
            }
        }
        Ok(Transport {
            client: b.build().map_err(TransportError::Client)?,
            max_body: opts.max_body,
            last_url: Arc::new(Mutex::new(None)),
        })
    }

    /// `url` parsed, from the cache when it is the last one; `None` when it does not parse
    /// (reqwest then parses it again and reports the error as it always did).
    fn parsed(&self, url: &str) -> Option<reqwest::Url> {
        if let Ok(last) = self.last_url.lock() {
            if let Some((_, u)) = last.as_ref().filter(|(s, _)| s == url) {
                return Some(u.clone());
            }
        }
        let u = reqwest::Url::parse(url).ok()?;
        if let Ok(mut last) = self.last_url.lock() {
            *last = Some((url.to_owned(), u.clone()));
        }
        Some(u)
    }

    /// POSTs `body` (of media type `content_type`) to `url`, with `x-syncml-hmac` when given.
    pub async fn post(
        &self,
        url: &str,
        body: Vec<u8>,
        content_type: &str,
        hmac_header: Option<String>,
    ) -> Result<Response, TransportError> {
        let value = |name: &'static str, v: &str| {
            HeaderValue::from_str(v).map_err(|_| TransportError::Header { name })
        };
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, value("Content-Type", content_type)?);
        headers.insert(ACCEPT, HeaderValue::from_static(ACCEPT_DM));
        headers.insert(ACCEPT_CHARSET, HeaderValue::from_static("utf-8"));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(h) = &hmac_header {
            headers.insert(HMAC_HEADER, value(HMAC_HEADER, h)?);
        }
        let request_error = |source| TransportError::Request {
            url: url.to_owned(),
            source,
        };
        let builder = match self.parsed(url) {
            Some(u) => self.client.post(u),
            None => self.client.post(url),
        };
        let mut resp = builder
            .headers(headers)
            .body(body)
            .send()
            .await
            .map_err(request_error)?;
        let status = resp.status().as_u16();
        if status != 200 {
            return Err(TransportError::Status {
                url: url.to_owned(),
                status,
            });
        }
        let header = |name| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let content_type = header(CONTENT_TYPE.as_str());
        let hmac = header(HMAC_HEADER);
        let too_large = || TransportError::TooLarge {
            url: url.to_owned(),
            max: self.max_body,
        };
        if resp
            .content_length()
            .is_some_and(|n| n > self.max_body as u64)
        {
            return Err(too_large());
        }
        // The announced length (already checked against the bound) sizes the buffer once.
        let announced = resp.content_length().map_or(0, |n| n as usize);
        let mut out = Vec::with_capacity(announced);
        while let Some(chunk) = resp.chunk().await.map_err(request_error)? {
            if out.len() + chunk.len() > self.max_body {
                return Err(too_large());
            }
            out.extend_from_slice(&chunk);
        }
        Ok(Response {
            status,
            content_type,
            body: out,
            hmac,
        })
    }
}
