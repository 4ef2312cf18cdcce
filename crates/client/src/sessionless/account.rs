//! The DMAcc account a Sessionless Command Message claims to come from, and the transport-neutral
//! integrity check against that account's server credentials (Sessionless 1.3 §5.5, §5.6).

use omadm_security::hmac_header::{verify_mac, HmacHeader, MacAlgorithm};
use omadm_tree::Tree;

use super::Rejected;

/// The matching DMAcc account: its node path and ServerID.
#[derive(Debug)]
pub(super) struct Account {
    /// `./DMAcc/<X>`.
    pub path: String,
    /// `./DMAcc/<X>/ServerID`.
    pub server_id: String,
}

/// Sessionless 1.3 §5.6 (DM-SM-C-004): the SyncHdr Source LocURI must equal the ServerID of
/// exactly one DMAcc account; none (no account for this server) and several (ambiguous ACL and
/// credential choice) are both rejected.
pub(super) fn find(tree: &Tree, source: &str) -> Result<Account, Rejected> {
    let mut found = crate::dmacc::accounts_for(tree, source);
    match found.len() {
        0 => Err(Rejected::NoAccount {
            server_id: source.to_owned(),
        }),
        1 => Ok(Account {
            path: found.remove(0),
            server_id: source.to_owned(),
        }),
        count => Err(Rejected::SeveralAccounts {
            server_id: source.to_owned(),
            count,
        }),
    }
}

/// Sessionless 1.3 §5.5/§5.6: HMAC-SHA256 over the exact message bytes, keyed with the
/// account's `SRVCRED` credentials (StdObj: the credentials the *server* uses toward the client,
/// the ones a client checks a server's messages against; `CLCRED` is the client's toward the
/// server and proves nothing about the sender). The nonce is that entry's `AAuthData`, the last
/// one the client gave the server. The header's `username` must be the entry's `AAuthName`; when
/// several `SRVCRED` entries carry that name (one per `AAuthType`), any one that verifies is
/// enough. Only `algorithm=SHA-256` (PROVISIONAL token, see
/// [`omadm_security::hmac_header`]) is accepted: the TS requires HMAC-SHA256, so MD5 is refused.
pub(super) fn authenticate(
    tree: &Tree,
    account: &Account,
    header: Option<&str>,
    body: &[u8],
) -> Result<(), Rejected> {
    let value = header.ok_or(Rejected::MissingHmac)?;
    let header = HmacHeader::parse(value).map_err(Rejected::BadHmacHeader)?;
    if header.algorithm() != MacAlgorithm::Sha256 {
        return Err(Rejected::WrongAlgorithm {
            algorithm: header.algorithm().token(),
        });
    }
    let creds = crate::dmacc::srv_creds(tree, &account.path);
    if creds.is_empty() {
        return Err(Rejected::NoServerCredentials {
            account: account.path.clone(),
        });
    }
    let mut named = creds
        .iter()
        .filter(|c| c.name == header.username())
        .peekable();
    if named.peek().is_none() {
        return Err(Rejected::UnknownUser {
            username: header.username().to_owned(),
        });
    }
    if named.any(|c| verify_mac(&header, &c.secret, &c.nonce, body).is_ok()) {
        Ok(())
    } else {
        Err(Rejected::MacMismatch)
    }
}
