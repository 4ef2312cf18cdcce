//! The OMA DM management tree (TND 1.2/1.3).
//!
//! A [`Tree`] keeps its nodes in an arena and finds a node by URI with one hash probe per
//! segment. Operations take a [`Caller`] (a server, whose ServerID the ACLs are checked against, or
//! the device itself) and fail with a [`TreeError`] that carries the DM status code the command
//! answers with. Changes can be grouped in a transaction (`begin`/`commit`/`rollback`) for Atomic.
//! [`uri`] parses URIs under the DevDetail limits, [`acl`] the ACL grammar and rules, and [`tnds`]
//! the tree's serialized form.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod acl;
mod error;
mod exchange;
pub mod format;
mod index;
mod moid;
mod node;
mod ops;
mod persist;
pub mod plugin;
mod props;
mod query;
pub mod stdobj;
pub mod tnds;
mod tree;
pub mod uri;

pub use error::TreeError;
pub use node::{NodeId, Scope};
pub use ops::{Caller, Value};
pub use persist::PersistError;
pub use props::{tstamp, Listed};
pub use query::GetResult;
pub use tree::Tree;
