//! Standard objects (StdObj 1.2, Client Profile): structure, MO identifiers, fixed ACLs,
//! permanent nodes.

use omadm_tree::format::NodeFormat;
use omadm_tree::stdobj::*;
use omadm_tree::uri::{Property, UriLimits};
use omadm_tree::{Caller, Tree};

fn device() -> Tree {
    let mut t = Tree::new(UriLimits {
        max_depth: 16,
        max_tot_len: 255,
        max_seg_len: 64,
    });
    install_devinfo(
        &mut t,
        &DevInfo {
            dev_id: "IMEI:493005100592800".into(),
            man: "Acme".into(),
            mod_: "Rocket".into(),
            dmv: "omadm-0.1".into(),
            lang: "en-US".into(),
        },
    )
    .unwrap();
    install_devdetail(
        &mut t,
        &DevDetail {
            lrg_obj: true,
            swv: "1.0".into(),
            ..DevDetail::default()
        },
    )
    .unwrap();
    install_inbox(&mut t).unwrap();
    add_dmacc(
        &mut t,
        &DmAcc {
            node: "acme".into(),
            server_id: "acme-dm".into(),
            name: Some("Acme DM".into()),
            pref_con_ref: None,
            addrs: vec![("https://dm.acme.example/dm".into(), "URI".into(), vec![443])],
            aauth_pref: Some("DIGEST".into()),
            auths: vec![AppAuth {
                level: "CLCRED".into(),
                auth_type: "DIGEST".into(),
                name: "IMEI:493005100592800".into(),
                secret: "s3cret".into(),
                data: b"nonce".to_vec(),
            }],
        },
    )
    .unwrap();
    t
}

#[test]
fn stdobj_devinfo_readable_by_any_server_and_permanent() {
    let mut t = device();
    let s = Caller::Server("other");
    assert_eq!(
        t.get(s, "./DevInfo/DevId").unwrap().data,
        b"IMEI:493005100592800"
    );
    assert_eq!(
        t.get_prop(s, "./DevInfo", Property::Type).unwrap(),
        DEVINFO_MO
    );
    assert_eq!(
        t.get(s, "./DevInfo").unwrap().data,
        b"DevId/Man/Mod/DmV/Lang"
    );
    assert_eq!(
        t.delete(Caller::Device, "./DevInfo/Man")
            .unwrap_err()
            .status(),
        405
    );
    assert_eq!(
        t.replace(s, "./DevInfo/Man", None, None, b"x")
            .unwrap_err()
            .status(),
        425
    );
}

#[test]
fn stdobj_devdetail_publishes_uri_limits_and_lrgobj() {
    let t = device();
    let s = Caller::Server("any");
    assert_eq!(t.get(s, "./DevDetail/URI/MaxDepth").unwrap().data, b"16");
    assert_eq!(t.get(s, "./DevDetail/URI/MaxTotLen").unwrap().data, b"255");
    assert_eq!(t.get(s, "./DevDetail/URI/MaxSegLen").unwrap().data, b"64");
    let lrg = t.get(s, "./DevDetail/LrgObj").unwrap();
    assert_eq!(
        (lrg.format, lrg.data.as_slice()),
        (NodeFormat::Bool, &b"true"[..])
    );
}

#[test]
fn stdobj_dmacc_account_belongs_to_its_server() {
    let mut t = device();
    let owner = Caller::Server("acme-dm");
    let other = Caller::Server("evil");
    assert_eq!(
        t.get(owner, "./DMAcc/acme/ServerID").unwrap().data,
        b"acme-dm"
    );
    assert_eq!(
        t.get(owner, "./DMAcc/acme/AppAddr/1/Addr").unwrap().data,
        b"https://dm.acme.example/dm"
    );
    assert_eq!(
        t.get(owner, "./DMAcc/acme/AppAddr/1/Port/1/PortNbr")
            .unwrap()
            .data,
        b"443"
    );
    assert_eq!(
        t.get_prop(owner, "./DMAcc/acme", Property::Type).unwrap(),
        DMACC_MO
    );
    assert_eq!(
        t.get(other, "./DMAcc/acme/ServerID").unwrap_err().status(),
        425
    );
    // Account names are listed to every server; the accounts themselves are not readable.
    assert_eq!(t.get(other, "./DMAcc").unwrap().data, b"acme");
    // Secrets: no Get right for anyone, Replace for the owner.
    assert_eq!(
        t.get(owner, "./DMAcc/acme/AppAuth/1/AAuthSecret")
            .unwrap_err()
            .status(),
        425
    );
    t.replace(
        owner,
        "./DMAcc/acme/AppAuth/1/AAuthSecret",
        None,
        None,
        b"new",
    )
    .unwrap();
    assert_eq!(
        t.get(Caller::Device, "./DMAcc/acme/AppAuth/1/AAuthData")
            .unwrap()
            .data,
        b"nonce"
    );
}

#[test]
fn stdobj_inbox_get_is_405_and_add_is_open() {
    let mut t = device();
    let s = Caller::Server("acme-dm");
    assert_eq!(t.get(s, "./Inbox").unwrap_err().status(), 405);
    assert_eq!(t.list(s, "./Inbox", false).unwrap_err().status(), 405);
    t.add(s, "./Inbox/X", NodeFormat::Chr, None, b"v").unwrap();
    assert_eq!(t.get(s, "./Inbox/X").unwrap_err().status(), 405);
    assert_eq!(
        t.get_prop(Caller::Device, "./Inbox", Property::Type)
            .unwrap(),
        INBOX_MO
    );
}
