//! Get and its Results (DM RepPro 1.2 §4.1 Get, TND §5.3, §5.5; DM Protocol 1.3 §6.5: "Results
//! MUST contain Meta with Type and Format ... Items in Results MUST contain the Source").

use compact_str::CompactString;
use omadm_syncml::{Command, Data, Item, Location, Meta, Results};
use omadm_tree::format::NodeFormat;
use omadm_tree::uri::{self, ListQuery, Query};
use omadm_tree::{tnds, GetResult, Value};

use super::item::{self, data_for};
use super::{Executor, ItemAnswer};

/// One Results Item: Source = the node's URI, Meta Format/Type, Data.
fn result_item(source: &str, format: &str, type_: &str, data: Option<Data>) -> Item {
    Item {
        source: Some(Location::new(source)),
        meta: Some(Meta {
            format: Some(format.into()),
            type_: (!type_.is_empty()).then(|| CompactString::from(type_)),
            more: None,
        }),
        data,
        ..Item::default()
    }
}

fn value_item(source: &str, v: Value, with_data: bool) -> Item {
    let data = with_data.then(|| data_for(v.format, v.data));
    result_item(source, v.format.as_str(), &v.type_, data)
}

impl Executor<'_> {
    /// Get: 200 and the Items of its Results. A plain Get of a leaf goes through the plugins, so
    /// a computed value is read when asked.
    pub(super) fn get_item(&mut self, it: &Item) -> Result<ItemAnswer, u16> {
        let locuri = item::target(it)?;
        let caller = self.caller();
        let got = self.tree.get_uri(caller, locuri).map_err(|e| e.status())?;
        let results = match got {
            GetResult::Value(v) => {
                let v = if locuri.contains('?') {
                    v
                } else {
                    // A virtual URI is not a path the plugins know: keep the tree's answer.
                    self.plugins.get(self.tree, caller, locuri).unwrap_or(v)
                };
                vec![value_item(locuri, v, true)]
            }
            GetResult::Prop(p) => vec![result_item(
                locuri,
                NodeFormat::Chr.as_str(),
                "",
                Some(Data::Text(p.into())),
            )],
            GetResult::List(nodes) => {
                let with_data = matches!(
                    uri::parse(locuri, &self.tree.limits()).map(|u| u.query),
                    Ok(Some(Query::List(
                        ListQuery::StructData | ListQuery::MoRootData
                    )))
                );
                nodes
                    .into_iter()
                    .map(|n| {
                        let leaf = !n.value.format.is_interior();
                        value_item(&n.uri, n.value, with_data && leaf)
                    })
                    .collect()
            }
            GetResult::Tnds(t) => {
                let xml = tnds::to_xml(&t).map_err(|e| e.status())?;
                let text = String::from_utf8(xml).map_err(|_| 500u16)?;
                vec![result_item(
                    locuri,
                    NodeFormat::Xml.as_str(),
                    tnds::MIME_XML,
                    Some(Data::Text(text.into())),
                )]
            }
        };
        Ok(ItemAnswer { code: 200, results })
    }

    /// A Results answering the Get `cmd_ref` (CmdID filled in later).
    pub(super) fn results(&self, cmd_ref: &str, items: Vec<Item>) -> Command {
        Command::Results(Results {
            msg_ref: Some(self.msg_id.into()),
            cmd_ref: cmd_ref.into(),
            items,
            ..Results::default()
        })
    }
}
