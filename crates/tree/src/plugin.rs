//! Plugins: computed leaf values (a battery level read when asked) and Exec handlers bound to
//! nodes, so that a device maker adds MOs without touching the tree's core.
//!
//! The tree keeps the node (its properties, its ACL); a plugin supplies what the node does. Reads
//! and Execs go through [`Plugins`], which checks existence and ACLs on the tree first, exactly as
//! a plain Get does, then asks the plugin.

use crate::acl::{self, AclCommand};
use crate::error::TreeError;
use crate::ops::{Caller, Value};
use crate::tree::Tree;
use crate::uri::NodePath;

/// Supplies the value of leaves whose value is computed when read.
pub trait ValueProvider: Send {
    /// The current value of the leaf at `uri` (an absolute URI such as `./Vendor/Battery/Level`).
    fn value(&self, uri: &str) -> Vec<u8>;
}

/// What an Exec did (DM RepPro Exec).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExecOutcome {
    /// Done: status 200.
    Done,
    /// Started and will report later with a Generic Alert carrying the Exec's Correlator:
    /// status 202.
    Accepted,
}

/// Runs Exec on one node.
pub trait ExecHandler: Send {
    /// Executes `uri` with the Exec item's Data; an `Err` is the DM status code to answer.
    fn exec(
        &mut self,
        uri: &str,
        data: &[u8],
        correlator: Option<&str>,
    ) -> Result<ExecOutcome, u16>;

    /// [`ExecHandler::exec`] with read access to the tree, for handlers whose parameters live in
    /// sibling nodes (FUMO's `Download/PkgURL`, `Update/PkgData`). [`Plugins::exec`] calls this
    /// one; the default ignores the tree.
    fn exec_in(
        &mut self,
        tree: &Tree,
        uri: &str,
        data: &[u8],
        correlator: Option<&str>,
    ) -> Result<ExecOutcome, u16> {
        let _ = tree;
        self.exec(uri, data, correlator)
    }
}

/// The plugins of a device.
#[derive(Default)]
pub struct Plugins {
    values: Vec<(String, Box<dyn ValueProvider>)>,
    execs: Vec<(String, Box<dyn ExecHandler>)>,
}

impl std::fmt::Debug for Plugins {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let v: Vec<&str> = self.values.iter().map(|(u, _)| u.as_str()).collect();
        let e: Vec<&str> = self.execs.iter().map(|(u, _)| u.as_str()).collect();
        f.debug_struct("Plugins")
            .field("values", &v)
            .field("execs", &e)
            .finish()
    }
}

fn normalize(uri: &str) -> Result<String, TreeError> {
    Ok(NodePath::parse(uri, &crate::uri::UriLimits::default())?.to_string())
}

impl Plugins {
    /// Computes the value of the leaf at `uri`.
    pub fn register_value(
        &mut self,
        uri: &str,
        p: Box<dyn ValueProvider>,
    ) -> Result<(), TreeError> {
        self.values.push((normalize(uri)?, p));
        Ok(())
    }

    /// Binds an Exec handler to the node at `uri`.
    pub fn register_exec(&mut self, uri: &str, h: Box<dyn ExecHandler>) -> Result<(), TreeError> {
        self.execs.push((normalize(uri)?, h));
        Ok(())
    }

    /// Get through plugins: the tree's answer (404, 425... as usual), with the value computed by
    /// the provider bound to the node, if any.
    pub fn get(&self, tree: &Tree, caller: Caller<'_>, uri: &str) -> Result<Value, TreeError> {
        let mut v = tree.get(caller, uri)?;
        let path = normalize(uri)?;
        if let Some((_, p)) = self.values.iter().find(|(u, _)| *u == path) {
            v.data = p.value(&path);
        }
        Ok(v)
    }

    /// Exec (DM RepPro Exec): 404 when the node does not exist, 425 without the Exec right, 405
    /// when no handler is bound to the node; otherwise the handler's outcome.
    pub fn exec(
        &mut self,
        tree: &Tree,
        caller: Caller<'_>,
        uri: &str,
        data: &[u8],
        correlator: Option<&str>,
    ) -> Result<Result<ExecOutcome, u16>, TreeError> {
        let (path, id) = tree.resolve(uri)?;
        if let Caller::Server(s) = caller {
            acl::check(tree.effective_acl(id), AclCommand::Exec, s)?;
        }
        let p = path.to_string();
        match self.execs.iter_mut().find(|(u, _)| *u == p) {
            Some((_, h)) => Ok(h.exec_in(tree, &p, data, correlator)),
            None => Err(TreeError::NotAllowed {
                uri: p,
                why: "no Exec handler is bound to this node",
            }),
        }
    }
}
