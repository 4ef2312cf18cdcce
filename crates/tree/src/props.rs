//! Node properties through `?prop=` (TND §5.3) and tree exchange through `?list=Struct` and
//! `?list=StructData` (TND §5.5).

use crate::acl::{self, Acl, AclCommand};
use crate::error::TreeError;
use crate::node::{Content, NodeId, Scope};
use crate::ops::{Caller, Value};
use crate::tree::Tree;
use crate::uri::Property;

/// One node of a `?list=Struct` / `StructData` answer: one Item each, Source = its URI.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listed {
    /// Absolute URI of the node.
    pub uri: String,
    /// Format, Type and (StructData, leaves only) value. For Struct the data is empty.
    pub value: Value,
}

impl Tree {
    /// Get `<uri>?prop=<name>`: the property as a UTF-8 string (TND §5.3). Needs Get on the node.
    /// Size of an interior node and CaseSense are not supported (406).
    pub fn get_prop(
        &self,
        caller: Caller<'_>,
        uri: &str,
        prop: Property,
    ) -> Result<String, TreeError> {
        let (path, id) = self.resolve(uri)?;
        crate::ops::inbox_guard(caller, &path)?;
        if let Caller::Server(s) = caller {
            acl::check(self.effective_acl(id), AclCommand::Get, s)?;
        }
        let n = self.node(id);
        Ok(match prop {
            // An empty ACL reads as empty, not as the inherited one (TND §5.4).
            Property::Acl => n.acl().map(Acl::to_string).unwrap_or_default(),
            Property::Format => n.format.as_str().to_owned(),
            Property::Name => n.name.to_string(),
            Property::Size => match &n.content {
                Content::Leaf(v) => v.len().to_string(),
                Content::Interior(_) => {
                    return Err(TreeError::NotSupported {
                        uri: path.to_string(),
                        what: "Size of an interior node",
                    })
                }
            },
            Property::Title => n
                .rare
                .as_ref()
                .and_then(|r| r.title.as_deref())
                .unwrap_or("")
                .to_owned(),
            Property::TStamp => {
                if n.tstamp == 0 {
                    String::new()
                } else {
                    tstamp(n.tstamp)
                }
            }
            Property::Type => n.type_.to_string(),
            Property::VerNo => n.verno.to_string(),
            Property::CaseSense => {
                return Err(TreeError::NotSupported {
                    uri: path.to_string(),
                    what: "the CaseSense property",
                })
            }
        })
    }

    /// Replace `<uri>?prop=<name>` for ACL, Name (rename) and Title (TND §5.3, §5.4). Other
    /// properties cannot be replaced (405).
    pub fn replace_prop(
        &mut self,
        caller: Caller<'_>,
        uri: &str,
        prop: Property,
        value: &str,
    ) -> Result<(), TreeError> {
        let (path, id) = self.resolve(uri)?;
        let now = self.now();
        match prop {
            Property::Acl => {
                let new: Acl = value.parse()?;
                if let Caller::Server(s) = caller {
                    let n = self.node(id);
                    let parent_acl = n.parent.map(|p| self.effective_acl(p));
                    if !acl::may_replace_acl(
                        !n.is_interior(),
                        self.effective_acl(id),
                        parent_acl,
                        s,
                    ) {
                        return Err(acl::AclError::PermissionDenied {
                            command: AclCommand::Replace,
                            server: s.into(),
                        }
                        .into());
                    }
                }
                if id == NodeId::ROOT {
                    acl::validate_root_acl(&new)?;
                }
                let n = self.node_mut(id);
                n.rare_mut().acl = new;
                n.touch(now);
            }
            Property::Name => {
                if let Caller::Server(s) = caller {
                    acl::check(self.effective_acl(id), AclCommand::Replace, s)?;
                }
                let n = self.node(id);
                if id == NodeId::ROOT || n.scope == Scope::Permanent {
                    return Err(TreeError::NotAllowed {
                        uri: path.to_string(),
                        why: "a permanent node cannot be renamed",
                    });
                }
                if value.is_empty() || value.contains('/') || value == "." || value == ".." {
                    return Err(TreeError::NotAllowed {
                        uri: path.to_string(),
                        why: "not a valid node name",
                    });
                }
                let parent = n.parent.unwrap_or(NodeId::ROOT);
                if let Some(other) = self.child(parent, value) {
                    if other != id {
                        return Err(TreeError::AlreadyExists {
                            uri: format!("{}/{value}", self.path_of(parent)),
                        });
                    }
                }
                self.rename(id, value);
                self.node_mut(id).touch(now);
            }
            Property::Title => {
                if let Caller::Server(s) = caller {
                    acl::check(self.effective_acl(id), AclCommand::Replace, s)?;
                }
                if value.len() > 255 {
                    return Err(TreeError::BadValue {
                        uri: path.to_string(),
                        format: "chr (Title is at most 255 bytes)",
                    });
                }
                let n = self.node_mut(id);
                n.rare_mut().title = if value.is_empty() {
                    None
                } else {
                    Some(value.into())
                };
                n.touch(now);
            }
            Property::CaseSense => {
                return Err(TreeError::NotSupported {
                    uri: path.to_string(),
                    what: "the CaseSense property",
                })
            }
            Property::Format
            | Property::Size
            | Property::TStamp
            | Property::Type
            | Property::VerNo => {
                return Err(TreeError::NotAllowed {
                    uri: path.to_string(),
                    why: "this property cannot be replaced",
                })
            }
        }
        Ok(())
    }

    /// Get `<uri>?list=Struct` (`with_data` false) or `?list=StructData` (true): the node and
    /// every descendant the caller may Get, parents before children (TND §5.5). Nodes without Get
    /// right are left out with their subtrees.
    pub fn list(
        &self,
        caller: Caller<'_>,
        uri: &str,
        with_data: bool,
    ) -> Result<Vec<Listed>, TreeError> {
        let (path, id) = self.resolve(uri)?;
        crate::ops::inbox_guard(caller, &path)?;
        if let Caller::Server(s) = caller {
            acl::check(self.effective_acl(id), AclCommand::Get, s)?;
        }
        let mut out = Vec::new();
        // The ACL in force travels down with each node instead of being looked up per node.
        let mut stack = vec![(id, self.path_of(id), self.effective_acl(id))];
        while let Some((c, uri, acl_in_force)) = stack.pop() {
            let n = self.node(c);
            let mut value = self.value_of(c);
            if !with_data || n.is_interior() {
                value.data.clear();
            }
            for &k in n.children().iter().rev() {
                let in_force = self.own_or(k, acl_in_force);
                let allowed = match caller {
                    Caller::Device => true,
                    Caller::Server(s) => in_force.permits(AclCommand::Get, s),
                };
                if allowed {
                    stack.push((k, format!("{uri}/{}", self.node(k).name), in_force));
                }
            }
            out.push(Listed { uri, value });
        }
        Ok(out)
    }
}

/// TStamp text: UTC ISO 8601 basic format, e.g. `20010711T163817Z` (TND §5.3).
pub fn tstamp(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tstamp_is_iso8601_basic_utc() {
        // TND §5.3 example form; 994869497 = 2001-07-11T16:38:17Z.
        assert_eq!(tstamp(994_869_497), "20010711T163817Z");
        assert_eq!(tstamp(0), "19700101T000000Z");
        assert_eq!(tstamp(951_782_400), "20000229T000000Z");
    }
}
