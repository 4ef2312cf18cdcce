//! The factory bootstrap (`omadm device init`): the tree a device leaves the factory with, and
//! its `device.toml`.
//!
//! The tree holds the standard objects (StdObj 1.2, DIGEST.md §7): `./DevInfo`, `./DevDetail`,
//! `./Inbox`, one `./DMAcc/<X>` for the configured server, and a FUMO instance at `./FUMO/1`
//! ([`super::fumo`]). The account carries two AppAuth entries:
//! - `1`: `CLCRED`, how the client authenticates to the server (AAuthType BASIC, DIGEST or HMAC,
//!   AAuthName/AAuthSecret the client's, AAuthData empty until the server sends a nonce);
//! - `2`: `SRVCRED`, how the server authenticates to the client (AAuthName the ServerID,
//!   AAuthSecret the server's); AAuthType HMAC when the client uses HMAC, else DIGEST, the scheme
//!   package #0 digests use (DIGEST.md §4.1).
//!
//! The root ACL stays `Add=*&Get=*` (TND §5.4 default): servers may read the root and add MOs.

use omadm_security::cred::AuthScheme;
use omadm_tree::stdobj::{self, AppAuth, DevDetail, DevInfo, DmAcc};
use omadm_tree::Tree;

use super::{fumo, AgentError, DeviceConfig, DeviceDir, WireEncoding, VERSION};

/// What the factory writes.
#[derive(Clone, PartialEq, Eq)]
pub struct InitParams {
    /// DevInfo/DevId (a URN such as `IMEI:493005100592800`).
    pub device_id: String,
    /// The server's address (AppAddr/1/Addr, AddrType URI).
    pub server_url: String,
    /// The account's ServerID.
    pub server_id: String,
    /// CLCRED AAuthName.
    pub client_name: String,
    /// CLCRED AAuthSecret.
    pub client_secret: String,
    /// SRVCRED AAuthSecret.
    pub server_secret: String,
    /// The client's scheme: CLCRED AAuthType and AAuthPref.
    pub auth: AuthScheme,
    /// The wire encoding.
    pub encoding: WireEncoding,
    /// The account's node `<X>` [default: the ServerID made a valid node name].
    pub account_node: Option<String>,
    /// Install `./FUMO/1`.
    pub fumo: bool,
}

impl std::fmt::Debug for InitParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InitParams")
            .field("device_id", &self.device_id)
            .field("server_url", &self.server_url)
            .field("server_id", &self.server_id)
            .field("client_name", &self.client_name)
            .field("auth", &self.auth)
            .field("encoding", &self.encoding)
            .field("account_node", &self.account_node)
            .field("fumo", &self.fumo)
            .finish_non_exhaustive()
    }
}

/// Manufacturer written to DevInfo/Man.
pub const MANUFACTURER: &str = "omadm";
/// Model written to DevInfo/Mod.
pub const MODEL: &str = "omadm-device";

/// The ServerID with characters other than letters, digits, `.`, `-`, `_` replaced by `_` (a
/// valid, readable node name).
pub fn default_account_node(server_id: &str) -> String {
    let n: String = server_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if n.is_empty() || n == "." || n == ".." {
        "account".to_owned()
    } else {
        n
    }
}

fn built(uri: &str) -> impl FnOnce(omadm_tree::TreeError) -> AgentError + '_ {
    move |e| AgentError::tree(uri, e)
}

/// The factory tree of the module doc.
pub fn factory_tree(p: &InitParams) -> Result<Tree, AgentError> {
    let mut t = Tree::default();
    stdobj::install_devinfo(
        &mut t,
        &DevInfo {
            dev_id: p.device_id.clone(),
            man: MANUFACTURER.into(),
            mod_: MODEL.into(),
            dmv: VERSION.into(),
            lang: "en-US".into(),
        },
    )
    .map_err(built("./DevInfo"))?;
    stdobj::install_devdetail(
        &mut t,
        &DevDetail {
            dev_typ: "device".into(),
            oem: MANUFACTURER.into(),
            fwv: "1.0".into(),
            swv: VERSION.into(),
            hwv: "1.0".into(),
            lrg_obj: true,
        },
    )
    .map_err(built("./DevDetail"))?;
    stdobj::install_inbox(&mut t).map_err(built("./Inbox"))?;
    let node = p
        .account_node
        .clone()
        .unwrap_or_else(|| default_account_node(&p.server_id));
    let srv_type = match p.auth {
        AuthScheme::Hmac => AuthScheme::Hmac,
        _ => AuthScheme::Md5,
    };
    let acc = DmAcc {
        node: node.clone(),
        server_id: p.server_id.clone(),
        name: None,
        pref_con_ref: None,
        addrs: vec![(p.server_url.clone(), "URI".into(), Vec::new())],
        aauth_pref: Some(p.auth.aauth_type().into()),
        auths: vec![
            AppAuth {
                level: "CLCRED".into(),
                auth_type: p.auth.aauth_type().into(),
                name: p.client_name.clone(),
                secret: p.client_secret.clone(),
                data: Vec::new(),
            },
            AppAuth {
                level: "SRVCRED".into(),
                auth_type: srv_type.aauth_type().into(),
                name: p.server_id.clone(),
                secret: p.server_secret.clone(),
                data: Vec::new(),
            },
        ],
    };
    stdobj::add_dmacc(&mut t, &acc).map_err(|e| AgentError::tree(format!("./DMAcc/{node}"), e))?;
    if p.fumo {
        fumo::install_mo(&mut t, "1", &p.server_id)?;
    }
    Ok(t)
}

/// Creates `dir` with the factory tree and a default `device.toml`; refuses to replace an
/// existing tree unless `force`. Returns the configuration written.
pub fn init(dir: &DeviceDir, p: &InitParams, force: bool) -> Result<DeviceConfig, AgentError> {
    let tree = factory_tree(p)?;
    let mut config = DeviceConfig::new(&p.device_id, &p.server_id, &p.server_url);
    config.encoding = p.encoding;
    dir.create(&config, &tree, force)?;
    Ok(config)
}
