//! One entry point for Get as a command carries it: a LocURI with an optional `?prop=` or
//! `?list=` query, or a (provisional) virtual URI (TND §5.3, §5.5; DM 1.3 TND §7.2).

use crate::error::TreeError;
use crate::ops::{Caller, Value};
use crate::props::Listed;
use crate::tnds::MgmtTree;
use crate::tree::Tree;
use crate::uri::{self, Address, ListQuery, Query};

/// What a Get answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GetResult {
    /// A leaf's value or an interior node's child list.
    Value(Value),
    /// `?prop=`: the property as text.
    Prop(String),
    /// `?list=Struct|StructData|MORoot|MORootData`: one entry per node, parents first.
    List(Vec<Listed>),
    /// `?list=TNDS…`: one serialized subtree.
    Tnds(MgmtTree),
}

impl Tree {
    /// Get of a LocURI as sent. A virtual URI must resolve to exactly one node (404 for none;
    /// several instances with `x` answer 400: the server must name the instance).
    pub fn get_uri(&self, caller: Caller<'_>, locuri: &str) -> Result<GetResult, TreeError> {
        let parsed = uri::parse(locuri, &self.limits())?;
        let path = match parsed.address {
            Address::Path(p) => p.to_string(),
            Address::Virtual(v) => {
                let mut found = self.resolve_virtual(&v);
                match found.len() {
                    0 => {
                        return Err(TreeError::NotFound {
                            uri: locuri.to_owned(),
                        })
                    }
                    1 => found.remove(0),
                    _ => {
                        return Err(TreeError::Ambiguous {
                            uri: locuri.to_owned(),
                            count: found.len(),
                        });
                    }
                }
            }
        };
        Ok(match parsed.query {
            None => GetResult::Value(self.get(caller, &path)?),
            Some(Query::Prop(p)) => GetResult::Prop(self.get_prop(caller, &path, p)?),
            Some(Query::List(ListQuery::Struct)) => {
                GetResult::List(self.list(caller, &path, false)?)
            }
            Some(Query::List(ListQuery::StructData)) => {
                GetResult::List(self.list(caller, &path, true)?)
            }
            Some(Query::List(ListQuery::MoRoot)) => {
                GetResult::List(self.list_mo_roots(caller, &path, false)?)
            }
            Some(Query::List(ListQuery::MoRootData)) => {
                GetResult::List(self.list_mo_roots(caller, &path, true)?)
            }
            Some(Query::List(ListQuery::Tnds(sel))) => {
                GetResult::Tnds(self.export_tnds(caller, &path, &sel)?)
            }
        })
    }
}
