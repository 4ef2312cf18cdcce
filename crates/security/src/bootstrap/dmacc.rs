//! A DMAcc account as a bootstrap document (StdObj DMAcc, DIGEST.md §7.1).

use omadm_tree::format::NodeFormat;
use omadm_tree::stdobj::{DmAcc, DMACC_MO};
use omadm_tree::tnds::{MgmtTree, NodeType, RtProperties, TndsNode};

fn interior(name: &str, mo: &str, children: Vec<TndsNode>) -> TndsNode {
    TndsNode {
        node_name: Some(name.to_owned()),
        path: None,
        rt: RtProperties {
            format: Some(NodeFormat::Node),
            type_: Some(NodeType::DdfName(mo.to_owned())),
            ..RtProperties::default()
        },
        value: None,
        children,
    }
}

fn leaf(name: &str, format: NodeFormat, mime: &str, value: &[u8]) -> TndsNode {
    TndsNode {
        node_name: Some(name.to_owned()),
        path: None,
        rt: RtProperties {
            format: Some(format),
            type_: Some(NodeType::Mime(mime.to_owned())),
            ..RtProperties::default()
        },
        value: Some(value.to_vec()),
        children: Vec::new(),
    }
}

fn chr(name: &str, value: &str) -> TndsNode {
    leaf(name, NodeFormat::Chr, "text/plain", value.as_bytes())
}

/// The TNDS document of one DMAcc account: a top Node `<X>` (`acc.node`) with Path `./DMAcc`
/// and Type `urn:oma:mo:oma-dm-dmacc:1.0`, holding AppID `w7`, ServerID, Name, PrefConRef,
/// AppAddr/`n`/{Addr, AddrType, Port/`m`/PortNbr}, AAuthPref and AppAuth/`n`/{AAuthLevel,
/// AAuthType, AAuthName, AAuthSecret, AAuthData (bin, only when not empty)}. No ACLs: the
/// client gives the account the w7 ACL ([`super::apply`]).
pub fn dmacc_document(acc: &DmAcc) -> MgmtTree {
    let mut kids = vec![chr("AppID", "w7"), chr("ServerID", &acc.server_id)];
    if let Some(n) = &acc.name {
        kids.push(chr("Name", n));
    }
    if let Some(p) = &acc.pref_con_ref {
        kids.push(chr("PrefConRef", p));
    }
    let addrs = acc
        .addrs
        .iter()
        .enumerate()
        .map(|(i, (addr, kind, ports))| {
            let mut x = vec![chr("Addr", addr), chr("AddrType", kind)];
            if !ports.is_empty() {
                let ports = ports
                    .iter()
                    .enumerate()
                    .map(|(j, p)| {
                        interior(
                            &(j + 1).to_string(),
                            "",
                            vec![chr("PortNbr", &p.to_string())],
                        )
                    })
                    .collect();
                x.push(interior("Port", "", ports));
            }
            interior(&(i + 1).to_string(), "", x)
        })
        .collect();
    kids.push(interior("AppAddr", "", addrs));
    if let Some(p) = &acc.aauth_pref {
        kids.push(chr("AAuthPref", p));
    }
    if !acc.auths.is_empty() {
        let auths = acc
            .auths
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let mut x = vec![
                    chr("AAuthLevel", &a.level),
                    chr("AAuthType", &a.auth_type),
                    chr("AAuthName", &a.name),
                    chr("AAuthSecret", &a.secret),
                ];
                if !a.data.is_empty() {
                    x.push(leaf(
                        "AAuthData",
                        NodeFormat::Bin,
                        "application/octet-stream",
                        &a.data,
                    ));
                }
                interior(&(i + 1).to_string(), "", x)
            })
            .collect();
        kids.push(interior("AppAuth", "", auths));
    }
    let mut top = interior(&acc.node, DMACC_MO, kids);
    top.path = Some("./DMAcc".to_owned());
    MgmtTree {
        nodes: vec![top],
        ..MgmtTree::default()
    }
}
