//! DM 1.3 addressing by MO identifier: virtual URIs (TND 1.3 §7.2, required by Sessionless 1.3
//! DM-SM-C-006) and `?list=MORoot` / `?list=MORootData` (Client Profile §9.1).
//!
//! PROVISIONAL (docs/conformance.md "Provisional designs"): the TND 1.3 text is not in the public
//! record. An MO instance root is an interior node whose Type property is the MO identifier
//! (StdObj: the Type of an interior node names the MO it roots). A virtual URI resolves to the
//! instance roots carrying its MOID, narrowed by the instance selector, then extended by the
//! path inside the instance; ACLs are then evaluated on those concrete paths, never on the
//! virtual form. `MORoot` lists the instance roots below a node (Struct-like, without data);
//! `MORootData` lists each instance root with its whole subtree and leaf values (StructData-like).

use crate::acl::AclCommand;
use crate::error::TreeError;
use crate::node::NodeId;
use crate::ops::Caller;
use crate::props::Listed;
use crate::tree::Tree;
use crate::uri::{InstanceSel, VirtualUri};

/// MO identifiers compare as URNs do: the `urn:oma:mo:` prefix in any case, the rest exactly.
fn same_moid(a: &str, b: &str) -> bool {
    const P: &str = "urn:oma:mo:";
    match (a.get(..P.len()), b.get(..P.len())) {
        (Some(pa), Some(pb)) if pa.eq_ignore_ascii_case(P) && pb.eq_ignore_ascii_case(P) => {
            a.get(P.len()..) == b.get(P.len()..)
        }
        _ => a == b,
    }
}

impl Tree {
    /// Instance roots of the MO `moid` in the subtree at `under`, in tree order. An instance
    /// root's own subtree is not searched for further instances of the same MO.
    pub fn mo_instances(&self, under: NodeId, moid: &str) -> Vec<NodeId> {
        let mut out = Vec::new();
        let mut stack = vec![under];
        while let Some(c) = stack.pop() {
            let n = self.node(c);
            if n.is_interior() && !n.type_.is_empty() && same_moid(&n.type_, moid) {
                out.push(c);
                continue;
            }
            stack.extend(n.children().iter().rev());
        }
        out
    }

    /// The concrete URIs a virtual URI names (possibly none, possibly several when the selector is
    /// `x` and the MO has several instances). Nodes below the instance root that do not exist yet
    /// are included as URIs (an Add creates them); the caller checks ACLs on each.
    pub fn resolve_virtual(&self, v: &VirtualUri) -> Vec<String> {
        let roots = self.mo_instances(NodeId::ROOT, &v.moid);
        let chosen = roots.into_iter().filter(|&r| match &v.instance {
            None | Some(InstanceSel::Any) => true,
            Some(InstanceSel::Named(n)) => self.node(r).name == n.as_str(),
        });
        chosen
            .map(|r| {
                let mut uri = self.path_of(r);
                for seg in &v.rest {
                    uri.push('/');
                    uri.push_str(seg);
                }
                uri
            })
            .collect()
    }

    /// Get `<uri>?list=MORoot` (`with_data` false) or `?list=MORootData` (true): every MO instance
    /// root below `uri` (any MOID), and with data each one's whole subtree with leaf values.
    pub fn list_mo_roots(
        &self,
        caller: Caller<'_>,
        uri: &str,
        with_data: bool,
    ) -> Result<Vec<Listed>, TreeError> {
        let (path, id) = self.resolve(uri)?;
        crate::ops::inbox_guard(caller, &path)?;
        if let Caller::Server(s) = caller {
            crate::acl::check(self.effective_acl(id), AclCommand::Get, s)?;
        }
        let mut out = Vec::new();
        // The ACL in force travels down with each node instead of being looked up per node.
        let mut stack = vec![(id, self.effective_acl(id))];
        while let Some((c, acl_in_force)) = stack.pop() {
            let n = self.node(c);
            if c != id && n.is_interior() && !n.type_.is_empty() {
                if with_data {
                    out.extend(self.list(caller, &self.path_of(c), true)?);
                } else {
                    let mut value = self.value_of(c);
                    value.data.clear();
                    out.push(Listed {
                        uri: self.path_of(c),
                        value,
                    });
                }
                continue;
            }
            for &k in n.children().iter().rev() {
                let in_force = self.own_or(k, acl_in_force);
                let allowed = match caller {
                    Caller::Device => true,
                    Caller::Server(s) => in_force.permits(AclCommand::Get, s),
                };
                if allowed {
                    stack.push((k, in_force));
                }
            }
        }
        Ok(out)
    }
}
