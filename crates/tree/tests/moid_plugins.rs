//! DM 1.3 MO-identifier addressing (provisional design, docs/conformance.md) and plugins.

use std::sync::{Arc, Mutex};

use omadm_tree::format::NodeFormat;
use omadm_tree::plugin::{ExecHandler, ExecOutcome, Plugins, ValueProvider};
use omadm_tree::stdobj::{add_dmacc, DmAcc, DMACC_MO};
use omadm_tree::uri::{parse, Address, Property, UriLimits};
use omadm_tree::{Caller, Tree};

fn two_accounts() -> Tree {
    let mut t = Tree::default();
    for (node, srv) in [("acme", "acme-dm"), ("globex", "globex-dm")] {
        add_dmacc(
            &mut t,
            &DmAcc {
                node: node.into(),
                server_id: srv.into(),
                name: None,
                pref_con_ref: None,
                addrs: vec![(format!("https://{node}.example/dm"), "URI".into(), vec![])],
                aauth_pref: None,
                auths: vec![],
            },
        )
        .unwrap();
    }
    t
}

fn virtual_of(s: &str) -> omadm_tree::uri::VirtualUri {
    match parse(s, &UriLimits::default()).unwrap().address {
        Address::Virtual(v) => v,
        a => panic!("{s} parsed as {a:?}"),
    }
}

#[test]
fn dm_sm_c_006_virtual_uri_resolves_by_mo_identifier() {
    let t = two_accounts();
    let v = virtual_of(&format!("{DMACC_MO}/x/ServerID"));
    assert_eq!(
        t.resolve_virtual(&v),
        ["./DMAcc/acme/ServerID", "./DMAcc/globex/ServerID"]
    );
    let v = virtual_of(&format!("{DMACC_MO}/globex/AppAddr/1/Addr"));
    let uris = t.resolve_virtual(&v);
    assert_eq!(uris, ["./DMAcc/globex/AppAddr/1/Addr"]);
    // ACLs apply on the concrete path: acme's server may not read globex's account.
    assert_eq!(
        t.get(Caller::Server("acme-dm"), &uris[0])
            .unwrap_err()
            .status(),
        425
    );
    assert_eq!(
        t.get(Caller::Server("globex-dm"), &uris[0]).unwrap().data,
        b"https://globex.example/dm"
    );
    // The URN prefix compares case-insensitively.
    let v = virtual_of("URN:OMA:MO:oma-dm-dmacc:1.0/acme");
    assert_eq!(t.resolve_virtual(&v), ["./DMAcc/acme"]);
    let v = virtual_of("urn:oma:mo:oma-fumo:1.0/x/PkgURL");
    assert!(t.resolve_virtual(&v).is_empty());
}

#[test]
fn cp_list_moroot_and_morootdata() {
    let mut t = two_accounts();
    t.add(
        Caller::Device,
        "./Vendor/W",
        NodeFormat::Node,
        Some("com.example/1.0/Widget"),
        b"",
    )
    .unwrap();
    t.add(
        Caller::Device,
        "./Vendor/W/On",
        NodeFormat::Bool,
        None,
        b"true",
    )
    .unwrap();
    let roots = t.list_mo_roots(Caller::Device, ".", false).unwrap();
    let uris: Vec<&str> = roots.iter().map(|l| l.uri.as_str()).collect();
    assert_eq!(uris, ["./DMAcc/acme", "./DMAcc/globex", "./Vendor/W"]);
    assert_eq!(roots[2].value.type_, "com.example/1.0/Widget");
    assert!(roots.iter().all(|l| l.value.data.is_empty()));
    let data = t.list_mo_roots(Caller::Device, "./Vendor", true).unwrap();
    let on = data.iter().find(|l| l.uri == "./Vendor/W/On").unwrap();
    assert_eq!(on.value.data, b"true");
    // A server sees only the instances it may Get.
    let seen = t
        .list_mo_roots(Caller::Server("acme-dm"), "./DMAcc", false)
        .unwrap();
    let uris: Vec<&str> = seen.iter().map(|l| l.uri.as_str()).collect();
    assert_eq!(uris, ["./DMAcc/acme"]);
    assert_eq!(
        t.get_prop(Caller::Device, "./DMAcc/acme", Property::Type)
            .unwrap(),
        DMACC_MO
    );
}

struct Battery;
impl ValueProvider for Battery {
    fn value(&self, _uri: &str) -> Vec<u8> {
        b"87".to_vec()
    }
}

struct Reboot(Arc<Mutex<Vec<String>>>);
impl ExecHandler for Reboot {
    fn exec(
        &mut self,
        uri: &str,
        data: &[u8],
        correlator: Option<&str>,
    ) -> Result<ExecOutcome, u16> {
        self.0.lock().unwrap().push(format!(
            "{uri} {} {correlator:?}",
            String::from_utf8_lossy(data)
        ));
        Ok(ExecOutcome::Accepted)
    }
}

#[test]
fn plugins_compute_values_and_run_exec() {
    let mut t = Tree::default();
    t.replace_prop(Caller::Device, ".", Property::Acl, "Add=*&Get=*&Exec=srv")
        .unwrap();
    t.add(
        Caller::Device,
        "./Vendor/Battery/Level",
        NodeFormat::Int,
        None,
        b"0",
    )
    .unwrap();
    t.add(
        Caller::Device,
        "./Vendor/Reboot",
        NodeFormat::Null,
        None,
        b"",
    )
    .unwrap();
    let mut p = Plugins::default();
    p.register_value("./Vendor/Battery/Level", Box::new(Battery))
        .unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    p.register_exec("Vendor/Reboot", Box::new(Reboot(log.clone())))
        .unwrap();
    assert_eq!(
        p.get(&t, Caller::Server("srv"), "./Vendor/Battery/Level")
            .unwrap()
            .data,
        b"87"
    );
    assert_eq!(
        p.exec(
            &t,
            Caller::Server("srv"),
            "./Vendor/Reboot",
            b"now",
            Some("c1")
        )
        .unwrap(),
        Ok(ExecOutcome::Accepted)
    );
    assert_eq!(
        log.lock().unwrap().as_slice(),
        ["./Vendor/Reboot now Some(\"c1\")"]
    );
    // Exec right, existence and a bound handler are all required.
    assert_eq!(
        p.exec(&t, Caller::Server("other"), "./Vendor/Reboot", b"", None)
            .unwrap_err()
            .status(),
        425
    );
    assert_eq!(
        p.exec(&t, Caller::Server("srv"), "./Vendor/Nope", b"", None)
            .unwrap_err()
            .status(),
        404
    );
    assert_eq!(
        p.exec(
            &t,
            Caller::Server("srv"),
            "./Vendor/Battery/Level",
            b"",
            None
        )
        .unwrap_err()
        .status(),
        405
    );
}

#[test]
fn get_uri_dispatches_queries_and_virtual_uris() {
    use omadm_tree::GetResult;
    let t = two_accounts();
    let owner = Caller::Server("acme-dm");
    match t.get_uri(owner, "./DMAcc/acme/ServerID").unwrap() {
        GetResult::Value(v) => assert_eq!(v.data, b"acme-dm"),
        r => panic!("{r:?}"),
    }
    assert_eq!(
        t.get_uri(owner, "./DMAcc/acme?prop=Type").unwrap(),
        GetResult::Prop(DMACC_MO.into())
    );
    match t.get_uri(owner, "./DMAcc/acme?list=StructData").unwrap() {
        GetResult::List(l) => assert!(l.iter().any(|x| x.uri == "./DMAcc/acme/AppAddr/1/Addr")),
        r => panic!("{r:?}"),
    }
    match t.get_uri(owner, "./DMAcc/acme?list=TNDS+Value").unwrap() {
        GetResult::Tnds(m) => assert_eq!(m.nodes[0].node_name.as_deref(), Some("acme")),
        r => panic!("{r:?}"),
    }
    match t
        .get_uri(owner, &format!("{DMACC_MO}/acme/ServerID"))
        .unwrap()
    {
        GetResult::Value(v) => assert_eq!(v.data, b"acme-dm"),
        r => panic!("{r:?}"),
    }
    // Two instances behind x: the server must name one.
    assert_eq!(
        t.get_uri(owner, &format!("{DMACC_MO}/x/ServerID"))
            .unwrap_err()
            .status(),
        400
    );
    assert_eq!(
        t.get_uri(owner, "./DMAcc/acme?prop=Bogus")
            .unwrap_err()
            .status(),
        406
    );
    assert_eq!(
        t.get_uri(owner, "./DMAcc/acme?list=TNDS+Value-ACL")
            .unwrap_err()
            .status(),
        406
    );
}
