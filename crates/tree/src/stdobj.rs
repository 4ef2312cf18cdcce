//! The standard objects every DM client carries (StdObj 1.2, DIGEST.md §7): DevInfo, DevDetail,
//! DMAcc and Inbox, with their MO identifiers, fixed ACLs and permanent nodes.
//!
//! ACL choices (documented in docs/conformance.md): DevInfo and DevDetail are readable by every
//! server (`Get=*`); `./DMAcc` lists account names to every server (`Get=*`) while each account
//! `<X>` belongs to its server (`Get=<id>&Replace=<id>&Delete=<id>`, the w7 mapping of StdObj) and
//! its secrets (AAuthSecret, AAuthData) have no Get right at all; `./Inbox` takes Adds from every
//! server (`Add=*`) and answers Get with 405.

use crate::error::TreeError;
use crate::format::NodeFormat;
use crate::node::NodeId;
use crate::ops::Caller;
use crate::tree::Tree;
use crate::uri::Property;

/// MO identifier of DevInfo.
pub const DEVINFO_MO: &str = "urn:oma:mo:oma-dm-devinfo:1.0";
/// MO identifier of DevDetail.
pub const DEVDETAIL_MO: &str = "urn:oma:mo:oma-dm-devdetail:1.0";
/// MO identifier of a DMAcc account (DM 1.2 structure, used by DM 1.3 clients).
pub const DMACC_MO: &str = "urn:oma:mo:oma-dm-dmacc:1.0";
/// MO identifier of Inbox.
pub const INBOX_MO: &str = "urn:oma:mo:oma-dm-inbox:1.0";

/// `./DevInfo` values, sent by the client in every Package #1.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DevInfo {
    /// DevId: unique device id, a URN such as `IMEI:493005100592800`.
    pub dev_id: String,
    /// Man: manufacturer.
    pub man: String,
    /// Mod: model.
    pub mod_: String,
    /// DmV: DM client version.
    pub dmv: String,
    /// Lang: current language (RFC 1766).
    pub lang: String,
}

/// `./DevDetail` values (the URI limits come from the tree's own [`crate::uri::UriLimits`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DevDetail {
    /// DevTyp: device type (phone, pda...).
    pub dev_typ: String,
    /// OEM.
    pub oem: String,
    /// FwV: firmware version.
    pub fwv: String,
    /// SwV: software version.
    pub swv: String,
    /// HwV: hardware version.
    pub hwv: String,
    /// LrgObj: the client handles large objects (DM Protocol §8).
    pub lrg_obj: bool,
}

/// One AppAuth entry of a DMAcc account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppAuth {
    /// AAuthLevel: `CLCRED` (client to server), `SRVCRED` (server to client), `OBEX`, `HTTP`.
    pub level: String,
    /// AAuthType: `BASIC`, `DIGEST`, `HMAC`, `HTTP-BASIC`...
    pub auth_type: String,
    /// AAuthName.
    pub name: String,
    /// AAuthSecret.
    pub secret: String,
    /// AAuthData: the nonce.
    pub data: Vec<u8>,
}

/// A DMAcc account (`urn:oma:mo:oma-dm-dmacc:1.0`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DmAcc {
    /// The `<X>` node name.
    pub node: String,
    /// ServerID: the id ACLs grant rights to.
    pub server_id: String,
    /// Name: display name.
    pub name: Option<String>,
    /// PrefConRef.
    pub pref_con_ref: Option<String>,
    /// AppAddr entries: (Addr, AddrType, ports).
    pub addrs: Vec<(String, String, Vec<u16>)>,
    /// AAuthPref.
    pub aauth_pref: Option<String>,
    /// AppAuth entries.
    pub auths: Vec<AppAuth>,
}

fn leaf(
    t: &mut Tree,
    uri: &str,
    format: NodeFormat,
    value: &[u8],
    permanent: bool,
) -> Result<NodeId, TreeError> {
    let id = t.add(Caller::Device, uri, format, Some("text/plain"), value)?;
    t.set_permanent(id, permanent);
    Ok(id)
}

fn interior(
    t: &mut Tree,
    uri: &str,
    mo: Option<&str>,
    permanent: bool,
) -> Result<NodeId, TreeError> {
    let id = t.add(Caller::Device, uri, NodeFormat::Node, mo, b"")?;
    t.set_permanent(id, permanent);
    Ok(id)
}

fn set_acl(t: &mut Tree, uri: &str, acl: &str) -> Result<(), TreeError> {
    t.replace_prop(Caller::Device, uri, Property::Acl, acl)
}

/// Creates `./DevInfo` (permanent, `Get=*`).
pub fn install_devinfo(t: &mut Tree, d: &DevInfo) -> Result<(), TreeError> {
    interior(t, "./DevInfo", Some(DEVINFO_MO), true)?;
    set_acl(t, "./DevInfo", "Get=*")?;
    for (name, v) in [
        ("DevId", &d.dev_id),
        ("Man", &d.man),
        ("Mod", &d.mod_),
        ("DmV", &d.dmv),
        ("Lang", &d.lang),
    ] {
        leaf(
            t,
            &format!("./DevInfo/{name}"),
            NodeFormat::Chr,
            v.as_bytes(),
            true,
        )?;
    }
    Ok(())
}

/// Creates `./DevDetail` (permanent, `Get=*`), with URI/MaxDepth, MaxTotLen and MaxSegLen from
/// the tree's limits (MaxDepth as [`Tree::effective_max_depth`] enforces it).
pub fn install_devdetail(t: &mut Tree, d: &DevDetail) -> Result<(), TreeError> {
    interior(t, "./DevDetail", Some(DEVDETAIL_MO), true)?;
    set_acl(t, "./DevDetail", "Get=*")?;
    interior(t, "./DevDetail/URI", None, true)?;
    let l = t.limits();
    for (name, v) in [
        ("MaxDepth", t.effective_max_depth()),
        ("MaxTotLen", l.max_tot_len),
        ("MaxSegLen", l.max_seg_len),
    ] {
        leaf(
            t,
            &format!("./DevDetail/URI/{name}"),
            NodeFormat::Chr,
            v.to_string().as_bytes(),
            true,
        )?;
    }
    for (name, v) in [
        ("DevTyp", &d.dev_typ),
        ("OEM", &d.oem),
        ("FwV", &d.fwv),
        ("SwV", &d.swv),
        ("HwV", &d.hwv),
    ] {
        leaf(
            t,
            &format!("./DevDetail/{name}"),
            NodeFormat::Chr,
            v.as_bytes(),
            true,
        )?;
    }
    let lrg: &[u8] = if d.lrg_obj { b"true" } else { b"false" };
    leaf(t, "./DevDetail/LrgObj", NodeFormat::Bool, lrg, true)?;
    Ok(())
}

/// Creates `./DMAcc` (permanent, `Get=*`) when absent, then the account `./DMAcc/<X>` owned by
/// its server.
pub fn add_dmacc(t: &mut Tree, a: &DmAcc) -> Result<NodeId, TreeError> {
    if t.resolve("./DMAcc").is_err() {
        interior(t, "./DMAcc", None, true)?;
        set_acl(t, "./DMAcc", "Get=*")?;
    }
    let base = format!("./DMAcc/{}", a.node);
    let root = interior(t, &base, Some(DMACC_MO), false)?;
    let s = &a.server_id;
    set_acl(t, &base, &format!("Get={s}&Replace={s}&Delete={s}"))?;
    leaf(t, &format!("{base}/AppID"), NodeFormat::Chr, b"w7", false)?;
    leaf(
        t,
        &format!("{base}/ServerID"),
        NodeFormat::Chr,
        s.as_bytes(),
        false,
    )?;
    if let Some(n) = &a.name {
        leaf(
            t,
            &format!("{base}/Name"),
            NodeFormat::Chr,
            n.as_bytes(),
            false,
        )?;
    }
    if let Some(p) = &a.pref_con_ref {
        leaf(
            t,
            &format!("{base}/PrefConRef"),
            NodeFormat::Chr,
            p.as_bytes(),
            false,
        )?;
    }
    interior(t, &format!("{base}/AppAddr"), None, false)?;
    for (i, (addr, kind, ports)) in a.addrs.iter().enumerate() {
        let x = format!("{base}/AppAddr/{}", i + 1);
        leaf(
            t,
            &format!("{x}/Addr"),
            NodeFormat::Chr,
            addr.as_bytes(),
            false,
        )?;
        leaf(
            t,
            &format!("{x}/AddrType"),
            NodeFormat::Chr,
            kind.as_bytes(),
            false,
        )?;
        for (j, p) in ports.iter().enumerate() {
            leaf(
                t,
                &format!("{x}/Port/{}/PortNbr", j + 1),
                NodeFormat::Chr,
                p.to_string().as_bytes(),
                false,
            )?;
        }
    }
    if let Some(p) = &a.aauth_pref {
        leaf(
            t,
            &format!("{base}/AAuthPref"),
            NodeFormat::Chr,
            p.as_bytes(),
            false,
        )?;
    }
    if !a.auths.is_empty() {
        interior(t, &format!("{base}/AppAuth"), None, false)?;
    }
    for (i, au) in a.auths.iter().enumerate() {
        let x = format!("{base}/AppAuth/{}", i + 1);
        leaf(
            t,
            &format!("{x}/AAuthLevel"),
            NodeFormat::Chr,
            au.level.as_bytes(),
            false,
        )?;
        leaf(
            t,
            &format!("{x}/AAuthType"),
            NodeFormat::Chr,
            au.auth_type.as_bytes(),
            false,
        )?;
        leaf(
            t,
            &format!("{x}/AAuthName"),
            NodeFormat::Chr,
            au.name.as_bytes(),
            false,
        )?;
        // Secrets: the owning server may replace them but nobody may read them (StdObj: no Get).
        leaf(
            t,
            &format!("{x}/AAuthSecret"),
            NodeFormat::Chr,
            au.secret.as_bytes(),
            false,
        )?;
        set_acl(t, &format!("{x}/AAuthSecret"), &format!("Replace={s}"))?;
        leaf(
            t,
            &format!("{x}/AAuthData"),
            NodeFormat::Bin,
            &au.data,
            false,
        )?;
        set_acl(t, &format!("{x}/AAuthData"), &format!("Replace={s}"))?;
    }
    interior(t, &format!("{base}/Ext"), None, false)?;
    Ok(root)
}

/// Creates `./Inbox` (permanent, `Add=*`); see [`is_inbox`].
pub fn install_inbox(t: &mut Tree) -> Result<(), TreeError> {
    interior(t, "./Inbox", Some(INBOX_MO), true)?;
    set_acl(t, "./Inbox", "Add=*")
}

/// StdObj: Get on `./Inbox` or anything below it answers 405.
pub fn is_inbox(path: &str) -> bool {
    let p = path.strip_prefix("./").unwrap_or(path);
    p == "Inbox" || p.starts_with("Inbox/")
}
