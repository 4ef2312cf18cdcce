//! Authentication both ways (DM Protocol 1.3 §9, DIGEST.md §3.3-§3.5): the client's `Cred` or
//! `x-syncml-hmac` checked against the device's credentials, challenged with 401/407 and a
//! `Chal`; the server's own `Cred` (md5 over the nonce the client gave it) or signature toward
//! the client.

use omadm_security::cred::{self, AuthScheme};
use omadm_security::hmac_header::{verify_mac, HmacHeader, MacAlgorithm};
use omadm_security::nonce::Nonce;
use omadm_syncml::{Chal, Cred, Message, Meta};

use super::state::SessionState;
use crate::model::{ClientAuthType, Device};

/// The scheme a device's client credentials use.
pub fn scheme(d: &Device) -> AuthScheme {
    match d.client_auth.type_ {
        ClientAuthType::Basic => AuthScheme::Basic,
        ClientAuthType::Digest => AuthScheme::Md5,
        ClientAuthType::Hmac => AuthScheme::Hmac,
    }
}

/// A `Chal` for `scheme`, with a NextNonce when given.
pub fn chal(scheme: AuthScheme, next_nonce: Option<&[u8]>) -> Box<Chal> {
    let mut meta = Meta::format_type("b64", scheme.meta_type());
    if let Some(n) = next_nonce {
        meta = meta.with_next_nonce(Nonce::from_bytes(n.to_vec()).to_b64());
    }
    Box::new(Chal { meta })
}

/// What the check of the client's credentials decided: the SyncHdr status and its `Chal`.
#[derive(Debug)]
pub struct Verdict {
    /// 200/212, or 401/407 (nothing of the message is executed).
    pub code: u16,
    pub chal: Option<Box<Chal>>,
    /// A nonce issued in the Chal: the device's next `client_nonce`.
    pub new_client_nonce: Option<Vec<u8>>,
}

impl Verdict {
    pub fn accepted(&self) -> bool {
        self.code != 401 && self.code != 407
    }
}

/// §9.1 and DIGEST.md §3.4/§3.5: basic and md5 need credentials until a 212, HMAC on every
/// message. Success gives 212 (+ a fresh NextNonce for md5), or 200 + a fresh NextNonce for
/// HMAC; failure 401 (wrong) or 407 (missing), always with a `Chal` for the device's scheme.
pub fn check_client(
    dev: &Device,
    st: &mut SessionState,
    msg: &Message,
    body: &[u8],
    hmac: Option<&str>,
    nonce: &mut dyn FnMut() -> Vec<u8>,
) -> Verdict {
    let sch = scheme(dev);
    let ca = &dev.client_auth;
    let fail = |code: u16, nonce: &mut dyn FnMut() -> Vec<u8>| {
        let n = (sch != AuthScheme::Basic).then(&mut *nonce);
        Verdict {
            code,
            chal: Some(chal(sch, n.as_deref())),
            new_client_nonce: n,
        }
    };
    if sch == AuthScheme::Hmac {
        let Some(h) = hmac else {
            return fail(407, nonce);
        };
        let Ok(h) = HmacHeader::parse(h) else {
            return fail(401, nonce);
        };
        // DM 1.2 knows only HMAC-MD5; DM 1.3 may name SHA-256 (DIGEST-1.3.md §2.2).
        let dm13 = msg.hdr.ver_proto.trim() == "DM/1.3";
        let alg_ok = h.algorithm() == MacAlgorithm::Md5 || dm13;
        let ok = alg_ok
            && h.username() == ca.name
            && verify_mac(&h, &ca.secret, &dev.client_nonce, body).is_ok();
        if !ok {
            return fail(401, nonce);
        }
        st.mac_sha256 = h.algorithm() == MacAlgorithm::Sha256;
        st.client_authenticated = true;
        let n = nonce();
        return Verdict {
            code: 200,
            chal: Some(chal(sch, Some(&n))),
            new_client_nonce: Some(n),
        };
    }
    let Some(c) = msg.hdr.cred.as_deref() else {
        if st.client_authenticated {
            return Verdict {
                code: 200,
                chal: None,
                new_client_nonce: None,
            };
        }
        return fail(407, nonce);
    };
    let sent = c
        .meta
        .as_ref()
        .and_then(|m| m.type_.as_deref())
        .map_or(Some(AuthScheme::Basic), AuthScheme::from_meta_type);
    let ok = match (sch, sent) {
        (AuthScheme::Basic, Some(AuthScheme::Basic)) => {
            cred::verify_basic(&c.data, &ca.name, &ca.secret).is_ok()
        }
        (AuthScheme::Md5, Some(AuthScheme::Md5)) => {
            cred::verify_md5(&c.data, &ca.name, &ca.secret, &dev.client_nonce).is_ok()
        }
        // §9.1: the scheme stays the device's; another one is refused with a Chal for it.
        _ => false,
    };
    if !ok {
        return fail(401, nonce);
    }
    st.client_authenticated = true;
    let n = (sch == AuthScheme::Md5).then(&mut *nonce);
    Verdict {
        code: 212,
        chal: n.as_deref().map(|n| chal(sch, Some(n))),
        new_client_nonce: n,
    }
}

/// The server's `Cred` toward the client (§9.3): md5 over the nonce the client last gave
/// (`server_nonce`) with the device's SRVCRED name and secret. None for HMAC devices (the
/// signature is a header) and once the client accepted the server's credentials.
pub fn server_cred(dev: &Device, st: &SessionState, server_nonce: &[u8]) -> Option<Box<Cred>> {
    if scheme(dev) == AuthScheme::Hmac || st.server_authenticated {
        return None;
    }
    let sa = &dev.server_auth;
    Some(Box::new(Cred {
        meta: Some(Meta::format_type("b64", AuthScheme::Md5.meta_type())),
        data: cred::md5_digest(&sa.name, &sa.secret, server_nonce).into(),
    }))
}

/// `x-syncml-hmac` of an answer to an HMAC device (DIGEST.md §3.5), over the nonce the client
/// gave the server.
pub fn sign(dev: &Device, st: &SessionState, server_nonce: &[u8], body: &[u8]) -> Option<String> {
    if scheme(dev) != AuthScheme::Hmac {
        return None;
    }
    let alg = if st.mac_sha256 {
        MacAlgorithm::Sha256
    } else {
        MacAlgorithm::Md5
    };
    let sa = &dev.server_auth;
    HmacHeader::sign(alg, &sa.name, &sa.secret, server_nonce, body)
        .ok()
        .map(|h| h.to_header_value())
}

/// The nonce in a `Chal` (base64 NextNonce), decoded.
pub fn chal_nonce(c: &Chal) -> Option<Vec<u8>> {
    let n = c.meta.next_nonce()?;
    Nonce::from_b64(n).ok().map(|n| n.as_bytes().to_vec())
}
