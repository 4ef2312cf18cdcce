//! Sending a Sessionless Report Message (OMA DM Sessionless Reporting 1.3 §5) to the configured
//! server: built by [`crate::sessionless::build_report_message`], POSTed once, no answer body
//! processed (none is expected).
//!
//! Credentials (§5.2, DM-SR-C-006/008): the account's preferred `CLCRED` entry
//! ([`super::account::Account::preferred_client_cred`]) with its last nonce (`AAuthData`).
//! BASIC and DIGEST go in `Cred` as such. HMAC cannot travel in `Cred` (DIGEST.md §3.5), so an
//! HMAC account sends an MD5 digest `Cred` made from the same name, secret and nonce, and an
//! `x-syncml-hmac` header (HMAC-SHA256, the algorithm Sessionless 1.3 asks of command messages)
//! over the exact body.

use omadm_security::cred::AuthScheme;
use omadm_security::hmac_header::{HmacHeader, MacAlgorithm};
use omadm_syncml::Message;
use omadm_tree::Tree;

use super::transport::{Response, Transport};
use super::{account, AgentError, DeviceConfig};
use crate::sessionless::{build_report_message, Report, ReportCred};

/// A report ready to send.
#[derive(Clone, Debug)]
pub struct PreparedReport {
    /// The message.
    pub message: Message,
    /// Its bytes in the configured encoding.
    pub body: Vec<u8>,
    /// Its media type.
    pub content_type: &'static str,
    /// The `x-syncml-hmac` value, for an HMAC account.
    pub hmac: Option<String>,
    /// Where it goes.
    pub url: String,
}

/// Builds the report message for `reports` from the configured account in `tree`.
pub fn prepare(
    tree: &Tree,
    config: &DeviceConfig,
    reports: &[Report],
) -> Result<PreparedReport, AgentError> {
    let acc = account::find(tree, &config.server_id)?;
    let cred = acc
        .preferred_client_cred()
        .ok_or_else(|| AgentError::NoClientCredentials {
            account: acc.path.clone(),
        })?;
    let scheme = match cred.scheme {
        Some(AuthScheme::Basic) => AuthScheme::Basic,
        _ => AuthScheme::Md5,
    };
    let rc = ReportCred {
        scheme,
        name: cred.name.clone(),
        password: cred.secret.clone(),
        nonce: cred.nonce.clone(),
    };
    let message = build_report_message(
        &config.device_id,
        &config.server_id,
        reports,
        rc,
        config.max_msg_size,
    )?;
    let enc = config.encoding.encoding();
    let body = message.encode(enc)?;
    let hmac = match cred.scheme {
        Some(AuthScheme::Hmac) => Some(
            HmacHeader::sign(
                MacAlgorithm::Sha256,
                &cred.name,
                &cred.secret,
                &cred.nonce,
                &body,
            )?
            .to_header_value(),
        ),
        _ => None,
    };
    Ok(PreparedReport {
        message,
        body,
        content_type: enc.content_type(),
        hmac,
        url: config.server_url.clone(),
    })
}

/// POSTs a prepared report; the server's HTTP answer (status 200, else an error).
pub async fn send(transport: &Transport, r: &PreparedReport) -> Result<Response, AgentError> {
    Ok(transport
        .post(&r.url, r.body.clone(), r.content_type, r.hmac.clone())
        .await?)
}
