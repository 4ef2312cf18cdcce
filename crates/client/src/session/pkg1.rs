//! Package #1 (DM Protocol 1.3 §6.3): the session Alert, DevInfo, and the client's alerts.

use compact_str::CompactString;
use omadm_syncml::{Alert, AlertCode, Command, Data, Item, ItemCommand, Location, Meta};
use omadm_tree::uri::TndsSelection;
use omadm_tree::{tnds, Caller, Tree};

use super::{GenericAlert, Initiator, Session, TreeChange};

/// DevInfo leaves sent in the Replace (StdObj DevInfo: the mandatory ones): name and URI.
const DEVINFO: [(&str, &str); 5] = [
    ("DevId", "./DevInfo/DevId"),
    ("Man", "./DevInfo/Man"),
    ("Mod", "./DevInfo/Mod"),
    ("DmV", "./DevInfo/DmV"),
    ("Lang", "./DevInfo/Lang"),
];

fn alert(code: AlertCode, items: Vec<Item>) -> Command {
    let mut a = Alert::new("0", code);
    a.items = items;
    Command::Alert(a)
}

pub(super) fn generic(g: &GenericAlert) -> Command {
    let mut meta = Meta::format_type(&g.format, &g.alert_type);
    if let Some(m) = &g.mark {
        meta.more_mut().mark = Some(m.as_str().into());
    }
    let item = Item {
        source: g.source.as_deref().map(Location::new),
        target: g.target.as_deref().map(Location::new),
        meta: Some(meta),
        data: Some(Data::Text(g.data.as_str().into())),
        more_data: false,
    };
    let mut a = Alert::new("0", AlertCode::GENERIC);
    a.correlator = g.correlator.as_deref().map(CompactString::from);
    a.items = vec![item];
    Command::Alert(a)
}

/// §6.3 item 5: every instance of a requested MO the server may Get, as TNDS, one Item each
/// (Source = the instance root). Nothing when no instance is found or none is readable.
fn requested_mo(tree: &Tree, server_id: &str, moid: &str) -> Option<Command> {
    let (_, root) = tree.resolve(".").ok()?;
    let items: Vec<Item> = tree
        .mo_instances(root, moid)
        .into_iter()
        .filter_map(|id| {
            let path = tree.path_of(id);
            let t = tree
                .export_tnds(Caller::Server(server_id), &path, &TndsSelection::All)
                .ok()?;
            let xml = String::from_utf8(tnds::to_xml(&t).ok()?).ok()?;
            Some(Item {
                source: Some(Location::new(path.as_str())),
                meta: Some(Meta::format_type("xml", tnds::MIME_XML)),
                data: Some(Data::Text(xml.into())),
                ..Item::default()
            })
        })
        .collect();
    (!items.is_empty()).then(|| alert(AlertCode::REQUESTED_MO, items))
}

/// The commands of package #1, CmdIDs assigned when packed.
pub(super) fn build(s: &Session, tree: &Tree) -> Vec<Command> {
    let code = match s.cfg.initiator {
        Initiator::Client => AlertCode::CLIENT_INITIATED_MGMT,
        Initiator::Server => AlertCode::SERVER_INITIATED_MGMT,
    };
    let mut out = vec![alert(code, Vec::new())];
    // Each leaf found from ./DevInfo by name, not by parsing and walking its URI.
    let devinfo = tree.resolve("./DevInfo").ok().map(|(_, id)| id);
    let items = DEVINFO
        .iter()
        .filter_map(|&(leaf, uri)| {
            let v = tree.device_value(tree.child(devinfo?, leaf)?);
            Some(Item {
                source: Some(Location::new(uri)),
                meta: Some(Meta::format_type(
                    v.format.as_str(),
                    if v.type_.is_empty() {
                        "text/plain"
                    } else {
                        &v.type_
                    },
                )),
                data: Some(Data::Text(String::from_utf8_lossy(&v.data).as_ref().into())),
                ..Item::default()
            })
        })
        .collect();
    out.push(Command::Replace(ItemCommand {
        cmd_id: "0".into(),
        items,
        ..ItemCommand::default()
    }));
    out.extend(s.cfg.generic_alerts.iter().map(generic));
    match &s.cfg.tree_change {
        Some(TreeChange::Unchanged) => out.push(alert(AlertCode::TREE_CHANGE_SUMMARY, Vec::new())),
        Some(TreeChange::Changed(uris)) => out.push(alert(
            AlertCode::TREE_CHANGE_DETAIL,
            uris.iter()
                .map(|u| Item {
                    data: Some(Data::Text(u.as_str().into())),
                    ..Item::default()
                })
                .collect(),
        )),
        None => {}
    }
    out.extend(
        s.cfg
            .requested_mos
            .iter()
            .filter_map(|m| requested_mo(tree, &s.cfg.server_id, m)),
    );
    out
}
