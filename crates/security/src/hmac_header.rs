//! HMAC message integrity, `syncml:auth-MAC` (DIGEST.md §3.5; DM Security 1.2 §5.3): the
//! `x-syncml-hmac` transport header and the MAC over the exact message body.
//!
//! ```text
//! x-syncml-hmac: algorithm=MD5, username="<name>", mac=<base64>
//! mac = B64( H( B64(H(username ":" password)) ":" nonce ":" B64(H(body)) ) )
//! ```
//!
//! DM 1.3 (Sessionless TS §5.5) requires "HMAC-SHA256 ... as transport neutral integrity"
//! without public text for the token or the construction (DIGEST-1.3.md §2). PROVISIONAL: H =
//! SHA-256 in the same nested formula, announced as `algorithm=SHA-256`; `SHA256` and
//! `HMAC-SHA256` are accepted on input.

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use md5::Md5;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Longest header value [`HmacHeader::parse`] looks at: 4 KiB. A real value is under 300 bytes.
pub const MAX_HEADER_LEN: usize = 4096;

/// The hash H of the MAC formula, named by the header's `algorithm` parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MacAlgorithm {
    /// `MD5` (DM 1.2), the default when `algorithm` is absent (DIGEST.md §3.5).
    #[default]
    Md5,
    /// `SHA-256` (DM 1.3 transport-neutral integrity). PROVISIONAL spelling, see the module doc.
    Sha256,
}

impl MacAlgorithm {
    /// The token written after `algorithm=`.
    pub const fn token(self) -> &'static str {
        match self {
            MacAlgorithm::Md5 => "MD5",
            MacAlgorithm::Sha256 => "SHA-256",
        }
    }

    /// Parses an `algorithm` token, case-insensitively. For SHA-256 the unconfirmed spellings
    /// `SHA256` and `HMAC-SHA256` are also accepted (DIGEST-1.3.md §2.2 candidates).
    pub fn from_token(token: &str) -> Option<Self> {
        const TABLE: [(&str, MacAlgorithm); 4] = [
            ("MD5", MacAlgorithm::Md5),
            ("SHA-256", MacAlgorithm::Sha256),
            ("SHA256", MacAlgorithm::Sha256),
            ("HMAC-SHA256", MacAlgorithm::Sha256),
        ];
        TABLE
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(token))
            .map(|&(_, alg)| alg)
    }

    /// Length in bytes of H's output (16 or 32); the b64 `mac` is 24 or 44 characters.
    pub const fn output_len(self) -> usize {
        match self {
            MacAlgorithm::Md5 => 16,
            MacAlgorithm::Sha256 => 32,
        }
    }

    fn hash(self, parts: &[&[u8]]) -> Vec<u8> {
        fn run<D: Digest>(parts: &[&[u8]]) -> Vec<u8> {
            let mut d = D::new();
            for p in parts {
                d.update(p);
            }
            d.finalize().to_vec()
        }
        match self {
            MacAlgorithm::Md5 => run::<Md5>(parts),
            MacAlgorithm::Sha256 => run::<Sha256>(parts),
        }
    }
}

impl std::fmt::Display for MacAlgorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.token())
    }
}

/// A malformed `x-syncml-hmac` value. Offsets are byte offsets into the value. All map to 401:
/// the message cannot be authenticated (DIGEST.md §3.4).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    /// Longer than [`MAX_HEADER_LEN`].
    #[error("x-syncml-hmac value is {len} bytes, limit {max}")]
    TooLong {
        /// Length of the value.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Expected a parameter name (a token).
    #[error("expected a parameter name at byte {offset}")]
    ExpectedName {
        /// Where.
        offset: usize,
    },
    /// A parameter name not followed by `=`.
    #[error("expected '=' at byte {offset}")]
    ExpectedEquals {
        /// Where.
        offset: usize,
    },
    /// `=` not followed by a token or quoted-string.
    #[error("expected a value at byte {offset}")]
    ExpectedValue {
        /// Where.
        offset: usize,
    },
    /// A quoted-string without its closing `"`.
    #[error("unterminated quoted-string starting at byte {offset}")]
    UnterminatedQuote {
        /// Where the opening quote is.
        offset: usize,
    },
    /// A control character (other than tab) or a stray character.
    #[error("invalid character at byte {offset}")]
    InvalidChar {
        /// Where.
        offset: usize,
    },
    /// Something other than `,` after a parameter.
    #[error("expected ',' at byte {offset}")]
    ExpectedComma {
        /// Where.
        offset: usize,
    },
    /// The same parameter twice.
    #[error("duplicate parameter {name} at byte {offset}")]
    Duplicate {
        /// `algorithm`, `username` or `mac`.
        name: &'static str,
        /// Where the second one starts.
        offset: usize,
    },
    /// An `algorithm` token we do not know.
    #[error("unknown algorithm at byte {offset}")]
    UnknownAlgorithm {
        /// Where the token starts.
        offset: usize,
    },
    /// `username` is mandatory (DIGEST.md §3.5).
    #[error("username parameter missing")]
    MissingUsername,
    /// `mac` is mandatory (DIGEST.md §3.5).
    #[error("mac parameter missing")]
    MissingMac,
}

impl HeaderError {
    /// The SyncHdr status: 401, the message is not authenticated.
    pub const fn status(&self) -> u16 {
        401
    }
}

/// Why a message's MAC was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MacError {
    /// HMAC was required but no `x-syncml-hmac` header came: 407 with a Chal (DIGEST.md §3.4).
    #[error("x-syncml-hmac header missing")]
    Missing,
    /// The header did not parse: 401.
    #[error(transparent)]
    Header(#[from] HeaderError),
    /// `mac` is not base64: 401.
    #[error("mac is not valid base64")]
    InvalidBase64,
    /// The MAC does not match: 401, credentials refused.
    #[error("mac does not match")]
    Mismatch,
}

impl MacError {
    /// The SyncHdr status: 407 when the header is missing, 401 otherwise.
    pub const fn status(&self) -> u16 {
        match self {
            MacError::Missing => 407,
            MacError::Header(_) | MacError::InvalidBase64 | MacError::Mismatch => 401,
        }
    }
}

/// A parsed `x-syncml-hmac` header value (DIGEST.md §3.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HmacHeader {
    algorithm: MacAlgorithm,
    username: String,
    mac: String,
}

impl HmacHeader {
    /// A header for an already computed `mac`. Control characters in `username` (which a
    /// quoted-string cannot carry) are rejected, as is a `mac` that is not a plain token.
    pub fn new(algorithm: MacAlgorithm, username: &str, mac: &str) -> Result<Self, HeaderError> {
        if let Some(offset) = username.bytes().position(|b| is_ctl(b) && b != b'\t') {
            return Err(HeaderError::InvalidChar { offset });
        }
        if mac.is_empty() {
            return Err(HeaderError::MissingMac);
        }
        if let Some(offset) = mac.bytes().position(|b| !is_value_char(b)) {
            return Err(HeaderError::InvalidChar { offset });
        }
        Ok(HmacHeader {
            algorithm,
            username: username.to_owned(),
            mac: mac.to_owned(),
        })
    }

    /// The header for a message `body` sent by `username`, MAC computed by [`compute_mac`].
    pub fn sign(
        algorithm: MacAlgorithm,
        username: &str,
        password: &str,
        nonce: &[u8],
        body: &[u8],
    ) -> Result<Self, HeaderError> {
        Self::new(
            algorithm,
            username,
            &compute_mac(algorithm, username, password, nonce, body),
        )
    }

    /// The hash named by `algorithm` (MD5 when the parameter was absent).
    pub fn algorithm(&self) -> MacAlgorithm {
        self.algorithm
    }

    /// The sender's name: SyncHdr Source LocName of the sender (DIGEST.md §3.5); the engine
    /// checks that it matches.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The `mac` value as received (base64 text).
    pub fn mac(&self) -> &str {
        &self.mac
    }

    /// Parses the header value (without the `x-syncml-hmac:` name): comma-separated
    /// `name=value` parameters with optional whitespace, values a token or a quoted-string with
    /// backslash escapes; names and the `algorithm` token case-insensitive; unknown parameters
    /// ignored; `username` and `mac` mandatory (DIGEST.md §3.5).
    pub fn parse(value: &str) -> Result<Self, HeaderError> {
        if value.len() > MAX_HEADER_LEN {
            return Err(HeaderError::TooLong {
                len: value.len(),
                max: MAX_HEADER_LEN,
            });
        }
        let mut p = Parser {
            s: value.as_bytes(),
            pos: 0,
        };
        let mut algorithm = None;
        let mut username = None;
        let mut mac = None;
        p.skip_ws();
        loop {
            let name_at = p.pos;
            let name = p
                .token()
                .ok_or(HeaderError::ExpectedName { offset: name_at })?;
            p.skip_ws();
            if !p.eat(b'=') {
                return Err(HeaderError::ExpectedEquals { offset: p.pos });
            }
            p.skip_ws();
            let value_at = p.pos;
            let value = p.value()?;
            let duplicate = |name| HeaderError::Duplicate {
                name,
                offset: name_at,
            };
            if name.eq_ignore_ascii_case("algorithm") {
                let alg = MacAlgorithm::from_token(&value)
                    .ok_or(HeaderError::UnknownAlgorithm { offset: value_at })?;
                if algorithm.replace(alg).is_some() {
                    return Err(duplicate("algorithm"));
                }
            } else if name.eq_ignore_ascii_case("username") {
                if username.replace(value).is_some() {
                    return Err(duplicate("username"));
                }
            } else if name.eq_ignore_ascii_case("mac") {
                if value.is_empty() {
                    return Err(HeaderError::ExpectedValue { offset: value_at });
                }
                if mac.replace(value).is_some() {
                    return Err(duplicate("mac"));
                }
            }
            p.skip_ws();
            if p.at_end() {
                break;
            }
            if !p.eat(b',') {
                return Err(HeaderError::ExpectedComma { offset: p.pos });
            }
            p.skip_ws();
        }
        Ok(HmacHeader {
            algorithm: algorithm.unwrap_or_default(),
            username: username.ok_or(HeaderError::MissingUsername)?,
            mac: mac.ok_or(HeaderError::MissingMac)?,
        })
    }

    /// The value to send: `algorithm=<token>, username="<name>", mac=<base64>`; `"` and `\` in
    /// the name are backslash-escaped. `algorithm` is always written, MD5 included.
    pub fn to_header_value(&self) -> String {
        self.to_string()
    }
}

impl std::fmt::Display for HmacHeader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "algorithm={}, username=\"", self.algorithm)?;
        for c in self.username.chars() {
            if c == '"' || c == '\\' {
                f.write_str("\\")?;
            }
            write!(f, "{c}")?;
        }
        write!(f, "\", mac={}", self.mac)
    }
}

impl std::str::FromStr for HmacHeader {
    type Err = HeaderError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

fn is_ctl(b: u8) -> bool {
    b < 0x20 || b == 0x7f
}

/// RFC 7230 tchar.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Characters of an unquoted value: tchar plus `/` and `=` so base64 `mac`s need no quotes.
fn is_value_char(b: u8) -> bool {
    is_tchar(b) || b == b'/' || b == b'='
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }
    fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }
    fn eat(&mut self, b: u8) -> bool {
        let hit = self.peek() == Some(b);
        if hit {
            self.pos += 1;
        }
        hit
    }
    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }
    fn take_while(&mut self, f: impl Fn(u8) -> bool) -> Option<String> {
        let start = self.pos;
        while self.peek().is_some_and(&f) {
            self.pos += 1;
        }
        let run = self.s.get(start..self.pos)?;
        // Only ASCII bytes were taken, so this is always valid UTF-8.
        std::str::from_utf8(run)
            .ok()
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
    }
    fn token(&mut self) -> Option<String> {
        self.take_while(is_tchar)
    }
    fn value(&mut self) -> Result<String, HeaderError> {
        match self.peek() {
            Some(b'"') => self.quoted(),
            Some(b) if is_value_char(b) => self
                .take_while(is_value_char)
                .ok_or(HeaderError::ExpectedValue { offset: self.pos }),
            Some(b) if is_ctl(b) => Err(HeaderError::InvalidChar { offset: self.pos }),
            _ => Err(HeaderError::ExpectedValue { offset: self.pos }),
        }
    }
    /// RFC 7230 quoted-string; non-ASCII UTF-8 is kept as obs-text.
    fn quoted(&mut self) -> Result<String, HeaderError> {
        let open = self.pos;
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            match self.peek() {
                None => return Err(HeaderError::UnterminatedQuote { offset: open }),
                Some(b'"') => {
                    self.pos += 1;
                    break;
                }
                Some(b'\\') => {
                    self.pos += 1;
                    match self.peek() {
                        None => return Err(HeaderError::UnterminatedQuote { offset: open }),
                        Some(b) if is_ctl(b) && b != b'\t' => {
                            return Err(HeaderError::InvalidChar { offset: self.pos })
                        }
                        Some(b) => out.push(b),
                    }
                }
                Some(b) if is_ctl(b) && b != b'\t' => {
                    return Err(HeaderError::InvalidChar { offset: self.pos })
                }
                Some(b) => out.push(b),
            }
            self.pos += 1;
        }
        // Escapes only ever drop an ASCII backslash, so the bytes stay valid UTF-8.
        String::from_utf8(out).map_err(|_| HeaderError::InvalidChar { offset: open })
    }
}

/// B64 with padding optional on input: some peers drop the `=` of a base64 `mac`.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The raw H output of the MAC formula (DIGEST.md §3.5):
/// H(B64(H(username ":" password)) ":" nonce ":" B64(H(body))).
pub fn compute_mac_raw(
    algorithm: MacAlgorithm,
    username: &str,
    password: &str,
    nonce: &[u8],
    body: &[u8],
) -> Vec<u8> {
    let secret = STANDARD.encode(algorithm.hash(&[username.as_bytes(), b":", password.as_bytes()]));
    let body_hash = STANDARD.encode(algorithm.hash(&[body]));
    algorithm.hash(&[secret.as_bytes(), b":", nonce, b":", body_hash.as_bytes()])
}

/// DIGEST.md §3.5: `mac` = B64(H(B64(H(username ":" password)) ":" nonce ":" B64(H(body)))),
/// `nonce` the raw nonce bytes, `body` the message exactly as sent (WBXML or XML bytes).
pub fn compute_mac(
    algorithm: MacAlgorithm,
    username: &str,
    password: &str,
    nonce: &[u8],
    body: &[u8],
) -> String {
    STANDARD.encode(compute_mac_raw(algorithm, username, password, nonce, body))
}

/// Verifies a received message: recomputes the MAC with the header's algorithm and username
/// and compares the decoded bytes in constant time. The caller checks that `username` is the
/// expected sender and that the algorithm is one it accepts.
pub fn verify_mac(
    header: &HmacHeader,
    password: &str,
    nonce: &[u8],
    body: &[u8],
) -> Result<(), MacError> {
    let got = LENIENT
        .decode(header.mac.as_bytes())
        .map_err(|_| MacError::InvalidBase64)?;
    let want = compute_mac_raw(header.algorithm, &header.username, password, nonce, body);
    if bool::from(got.ct_eq(&want)) {
        Ok(())
    } else {
        Err(MacError::Mismatch)
    }
}
