//! Authentication both ways (DM Protocol 1.3 §9, DIGEST.md §3.3-§3.5): the client's `Cred` (or
//! HMAC) toward the server and its answers to the server's challenges, and the check of the
//! server's credentials against SRVCRED with the client's own challenges.

use compact_str::ToCompactString;
use omadm_security::cred::{self, AuthScheme, CredError};
use omadm_security::hmac_header::{verify_mac, HmacHeader};
use omadm_security::nonce::{success_status, Nonce};
use omadm_syncml::{Chal, Cred, Message, Meta, Status};

use super::{Event, Session, SessionError};

/// What the SyncHdr check of a server message decided.
pub(super) struct HdrVerdict {
    /// The status for the server's SyncHdr: 200/212, or 401/407 (then nothing is executed).
    pub code: u16,
    /// The challenge (or NextNonce) to send with it.
    pub chal: Option<Box<Chal>>,
}

impl HdrVerdict {
    pub fn accepted(&self) -> bool {
        self.code != 401 && self.code != 407
    }
}

fn chal(scheme: AuthScheme, nonce: &Nonce) -> Box<Chal> {
    Box::new(Chal {
        meta: Meta::format_type("b64", scheme.meta_type()).with_next_nonce(nonce.to_b64()),
    })
}

impl Session {
    /// The `Cred` of the next message (DIGEST.md §3.2/§3.3): basic or MD5 with the latest nonce;
    /// none for HMAC (a transport header) or once authenticated for the session (212).
    pub(super) fn cred(&self) -> Option<Cred> {
        if !self.send_cred {
            return None;
        }
        let c = self.acc.client.as_ref()?;
        let data = match self.cl_scheme? {
            AuthScheme::Basic => cred::basic(&c.name, &c.secret),
            AuthScheme::Md5 => cred::md5_digest(
                &c.name,
                &c.secret,
                self.cl_nonce.for_next_credential().as_bytes(),
            ),
            AuthScheme::Hmac => return None,
        };
        let scheme = self.cl_scheme?;
        Some(Cred {
            meta: Some(Meta::format_type("b64", scheme.meta_type())),
            data: data.into(),
        })
    }

    /// The server's Status for the client's SyncHdr (§9.1): 212 ends the need for credentials,
    /// 200 asks for them again, 401/407 is a challenge (returned). A `Chal` switches the scheme
    /// and gives the nonce for the next credentials.
    pub(super) fn on_hdr_status(&mut self, s: &Status) -> Result<Option<u16>, SessionError> {
        let Some(code) = s.code().map(|c| c.0) else {
            return Err(SessionError::MalformedStatus {
                data: s.data.to_string(),
            });
        };
        let mut scheme = None;
        if let Some(ch) = &s.chal {
            scheme = ch
                .meta
                .type_
                .as_deref()
                .and_then(AuthScheme::from_meta_type);
            if let Some(sch) = scheme {
                // §9.1: "the authentication type MUST be kept the same for the whole session"
                // once established; before that the server decides.
                if self.state == super::State::Init || code == 401 || code == 407 {
                    self.cl_scheme = Some(sch);
                }
            }
            if let Some(nn) = ch.meta.next_nonce() {
                let n = Nonce::from_b64(nn).map_err(|_| SessionError::BadNonce(nn.to_owned()))?;
                self.cl_nonce.on_chal(n);
            }
        }
        match code {
            212 => {
                // DIGEST.md §3.3: the retries are per challenge; accepted, the budget is whole.
                self.challenges = 0;
                self.cl_nonce.on_authenticated();
                self.send_cred = self.cl_scheme == Some(AuthScheme::Hmac);
                self.events.push(Event::ClientAuthenticated { code });
                Ok(None)
            }
            200 => {
                // §9.1: a 200 to a request with credentials: send them again next time.
                if self.send_cred || self.cl_scheme == Some(AuthScheme::Hmac) {
                    self.challenges = 0;
                    self.cl_nonce.on_authenticated();
                    self.events.push(Event::ClientAuthenticated { code });
                }
                Ok(None)
            }
            401 | 407 => {
                self.send_cred = true;
                self.events.push(Event::Challenged { code, scheme });
                Ok(Some(code))
            }
            101 | 201..=299 => Ok(None),
            _ => Err(SessionError::Rejected { code }),
        }
    }

    /// Checks the server's credentials against SRVCRED (§9.3): the `Cred` in its SyncHdr (basic
    /// or MD5 with the nonce the client gave it) or its `x-syncml-hmac`. Missing credentials
    /// are challenged (407) when the account requires them, wrong ones get 401 and exactly one
    /// more challenge (DIGEST.md §3.3); a second failure ends the session.
    pub(super) fn check_server(
        &mut self,
        msg: &Message,
        hmac: Option<&str>,
        body: &[u8],
    ) -> Result<HdrVerdict, SessionError> {
        let ok = HdrVerdict {
            code: 200,
            chal: None,
        };
        if self.cfg.offline {
            return Ok(ok);
        }
        let Some(srv) = self.acc.server.clone() else {
            return Ok(ok);
        };
        let Some(scheme) = srv.scheme else {
            return Ok(ok);
        };
        let nonce = self
            .srv_expected
            .clone()
            .unwrap_or_else(|| Nonce::from_bytes(srv.nonce.clone()));
        let result: Result<AuthScheme, CredError> = match (scheme, hmac, msg.hdr.cred.as_deref()) {
            (AuthScheme::Hmac, Some(h), _) => match HmacHeader::parse(h) {
                Ok(h) if h.username() == srv.name => {
                    verify_mac(&h, &srv.secret, nonce.as_bytes(), body)
                        .map(|_| AuthScheme::Hmac)
                        .map_err(|_| CredError::Invalid)
                }
                _ => Err(CredError::Invalid),
            },
            (AuthScheme::Hmac, None, _) => Err(CredError::Missing),
            (_, _, Some(c)) => {
                let sent = c
                    .meta
                    .as_ref()
                    .and_then(|m| m.type_.as_deref())
                    .and_then(AuthScheme::from_meta_type)
                    .unwrap_or(AuthScheme::Basic);
                match sent {
                    // §9.1: the scheme SRVCRED names holds for the session; a basic credential
                    // where MD5 is configured is a downgrade, refused with a Chal for ours.
                    AuthScheme::Basic if scheme != AuthScheme::Basic => Err(
                        CredError::UnsupportedScheme(AuthScheme::Basic.meta_type().into()),
                    ),
                    AuthScheme::Basic => cred::verify_basic(&c.data, &srv.name, &srv.secret),
                    AuthScheme::Md5 => {
                        cred::verify_md5(&c.data, &srv.name, &srv.secret, nonce.as_bytes())
                    }
                    AuthScheme::Hmac => Err(CredError::UnsupportedScheme("syncml:auth-MAC".into())),
                }
                .map(|_| sent)
            }
            (_, _, None) => Err(CredError::Missing),
        };
        match result {
            Ok(used) => {
                self.srv_authenticated = true;
                self.challenger.on_success();
                self.events
                    .push(Event::ServerAuthenticated { scheme: used });
                let code = success_status(used);
                // A fresh nonce for the next credentials: every message for HMAC, the next
                // session for MD5 (§9.1).
                let chal = matches!(used, AuthScheme::Md5 | AuthScheme::Hmac)
                    .then(|| chal(scheme, &(self.nonces)()));
                Ok(HdrVerdict { code, chal })
            }
            Err(CredError::Missing)
                if self.srv_authenticated && scheme != AuthScheme::Hmac
                    || !self.cfg.require_server_auth =>
            {
                Ok(ok)
            }
            Err(e) => {
                let code = e.status();
                self.events.push(Event::ServerChallenged { code });
                // One challenge after a missing or wrong credential, one more after a wrong
                // answer to it, then the session ends.
                match self.challenger.on_failure().map(|_| (self.nonces)()) {
                    Some(n) => Ok(HdrVerdict {
                        code,
                        chal: Some(chal(scheme, &n)),
                    }),
                    None => Err(SessionError::ServerAuthFailed { code }),
                }
            }
        }
    }
}

/// A Status carrying `code` for the server's SyncHdr.
/// (DM Protocol 1.3 §11.1.3 sends it without TargetRef/SourceRef.)
pub(super) fn hdr_status(msg: &Message, v: HdrVerdict) -> Status {
    Status {
        msg_ref: msg.hdr.msg_id.clone(),
        cmd_ref: "0".into(),
        cmd: "SyncHdr".into(),
        chal: v.chal,
        data: v.code.to_compact_string(),
        ..Status::default()
    }
}
